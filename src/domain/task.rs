//! Long-running operations: their states and the rules for moving between them.

use super::clock::Millis;
use super::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskState::Succeeded | TaskState::Failed | TaskState::Cancelled
        )
    }

    /// Allowed moves: queued → running|cancelled; running → any final state.
    pub fn can_move_to(self, next: TaskState) -> bool {
        match (self, next) {
            (TaskState::Queued, TaskState::Running | TaskState::Cancelled) => true,
            (TaskState::Queued, TaskState::Failed) => true,
            (TaskState::Running, n) => n.is_final(),
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub id: Uuid,
    /// Creation order (store sequence); lists are in this order.
    pub seq: u64,
    /// Which owner runs and recovers it, e.g. `resource_pool/create`.
    pub kind: String,
    pub target: String,
    pub owner: String,
    pub state: TaskState,
    pub percent: u8,
    pub log: Vec<String>,
    pub error: Option<String>,
    /// The call's reply data as JSON text, once succeeded.
    pub result: Option<String>,
    /// The request the task was started with, as JSON text (for resuming).
    pub input: String,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::TaskState::*;

    #[test]
    fn state_machine() {
        assert!(Queued.can_move_to(Running));
        assert!(Running.can_move_to(Succeeded));
        assert!(Running.can_move_to(Failed));
        assert!(!Succeeded.can_move_to(Running));
        assert!(!Failed.can_move_to(Succeeded));
        assert!(!Queued.can_move_to(Succeeded));
    }
}
