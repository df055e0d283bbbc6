//! The saga journals: one record per running multi-step operation, keyed by
//! its task, rewritten (small: step names and the undo's facts) as steps
//! start and finish, removed when the saga ends.

use bincode::{Decode, Encode};
use uuid::Uuid;

use super::codec;
use super::Store;
use crate::domain::saga::{Journal, StepStatus};
use crate::error::{Error, Result};

const V1: u16 = 1;

#[derive(Encode, Decode, Clone, Debug, PartialEq)]
struct JournalV1 {
    task: [u8; 16],
    kind: String,
    facts: String,
    steps: Vec<(String, u8)>,
}

fn tag(s: StepStatus) -> u8 {
    match s {
        StepStatus::Started => 0,
        StepStatus::Done => 1,
        StepStatus::Undone => 2,
        StepStatus::UndoFailed => 3,
    }
}

fn status(t: u8) -> Result<StepStatus> {
    Ok(match t {
        0 => StepStatus::Started,
        1 => StepStatus::Done,
        2 => StepStatus::Undone,
        3 => StepStatus::UndoFailed,
        _ => return Err(Error::store(format!("unknown saga step status {t}"))),
    })
}

fn decode(bytes: &[u8]) -> Result<Journal> {
    let r: JournalV1 = codec::decode(V1, bytes)?;
    Ok(Journal {
        task: Uuid::from_bytes(r.task),
        kind: r.kind,
        facts: r.facts,
        steps: r
            .steps
            .into_iter()
            .map(|(n, t)| Ok((n, status(t)?)))
            .collect::<Result<_>>()?,
    })
}

impl Store {
    /// Writes a saga's journal (the caller flushes before acting on it).
    pub fn saga_put(&self, j: &Journal) -> Result<()> {
        let rec = JournalV1 {
            task: *j.task.as_bytes(),
            kind: j.kind.clone(),
            facts: j.facts.clone(),
            steps: j.steps.iter().map(|(n, s)| (n.clone(), tag(*s))).collect(),
        };
        self.sagas
            .insert(j.task.as_bytes(), codec::encode(V1, &rec))
            .map_err(Error::store)?;
        Ok(())
    }

    pub fn saga_get(&self, task: &Uuid) -> Result<Option<Journal>> {
        self.sagas
            .get(task.as_bytes())
            .map_err(Error::store)?
            .map(|v| decode(&v))
            .transpose()
    }

    /// Every journal left (sagas running, or interrupted by a crash).
    pub fn saga_list(&self) -> Result<Vec<Journal>> {
        self.sagas
            .iter()
            .values()
            .map(|v| decode(&v.map_err(Error::store)?))
            .collect()
    }

    pub fn saga_delete(&self, task: &Uuid) -> Result<()> {
        self.sagas.remove(task.as_bytes()).map_err(Error::store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_round_trip_and_go() {
        let s = Store::temporary().unwrap();
        let mut j = Journal::new(Uuid::new_v4(), "node/add", r#"{"ip":"10.213.1.2"}"#.into());
        j.mark("connect", StepStatus::Done);
        j.mark("join", StepStatus::Started);
        s.saga_put(&j).unwrap();
        assert_eq!(s.saga_get(&j.task).unwrap(), Some(j.clone()));
        assert_eq!(s.saga_list().unwrap(), vec![j.clone()]);
        s.saga_delete(&j.task).unwrap();
        assert_eq!(s.saga_get(&j.task).unwrap(), None);
        assert!(s.saga_list().unwrap().is_empty());
    }
}
