//! Sagas: a multi-step operation's journal (which named steps started and
//! finished, and the facts their undo needs) and the rules for unwinding it.

use super::Uuid;

/// Where one step of a saga is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    /// Recorded before the step's action ran: it may have done some of its
    /// work, all of it, or none; its undo must cope with each.
    Started,
    Done,
    Undone,
    /// Its undo failed; the next start tries again.
    UndoFailed,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Started => "started",
            StepStatus::Done => "done",
            StepStatus::Undone => "undone",
            StepStatus::UndoFailed => "undo failed",
        }
    }

    /// Whether the step may have changed something that is not taken back.
    pub fn needs_undo(self) -> bool {
        matches!(
            self,
            StepStatus::Started | StepStatus::Done | StepStatus::UndoFailed
        )
    }
}

/// The persisted journal of one running saga (one per task).
#[derive(Clone, Debug, PartialEq)]
pub struct Journal {
    /// The task the saga runs in.
    pub task: Uuid,
    /// The saga's kind (the task kind), which names its steps and undos.
    pub kind: String,
    /// The facts the undos need, as the saga's own JSON (no secrets).
    pub facts: String,
    /// The steps reached so far, in order.
    pub steps: Vec<(String, StepStatus)>,
}

impl Journal {
    pub fn new(task: Uuid, kind: &str, facts: String) -> Journal {
        Journal {
            task,
            kind: kind.into(),
            facts,
            steps: Vec::new(),
        }
    }

    /// Marks `step` as reached with `status` (appending it the first time).
    pub fn mark(&mut self, step: &str, status: StepStatus) {
        match self.steps.iter_mut().find(|(n, _)| n == step) {
            Some(s) => s.1 = status,
            None => self.steps.push((step.into(), status)),
        }
    }

    /// Whether every one of `all` finished (the work is complete).
    pub fn complete(&self, all: &[&str]) -> bool {
        all.iter().all(|name| {
            self.steps
                .iter()
                .any(|(n, s)| n == name && *s == StepStatus::Done)
        })
    }

    /// The steps to undo, newest first.
    pub fn to_unwind(&self) -> Vec<String> {
        self.steps
            .iter()
            .rev()
            .filter(|(_, s)| s.needs_undo())
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// What a failpoint does when its step comes (tests of undo and recovery).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The step fails before its action: the saga unwinds.
    Fail,
    /// The process "dies" right after the step finished: nothing unwinds
    /// until recovery runs.
    CrashAfter,
    /// The process "dies" after the step was journalled as started but
    /// before its action ran.
    CrashBefore,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwinds_newest_first_and_skips_undone_steps() {
        let mut j = Journal::new(Uuid::nil(), "node/add", "{}".into());
        j.mark("a", StepStatus::Started);
        j.mark("a", StepStatus::Done);
        j.mark("b", StepStatus::Done);
        j.mark("c", StepStatus::Started);
        assert_eq!(j.steps.len(), 3);
        assert_eq!(j.to_unwind(), ["c", "b", "a"]);
        j.mark("c", StepStatus::Undone);
        j.mark("b", StepStatus::UndoFailed);
        assert_eq!(j.to_unwind(), ["b", "a"]);
        assert!(!j.complete(&["a", "b", "c"]));
        assert!(j.complete(&["a"]));
    }
}
