//! The task table: persisted records of long-running operations.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec;
use super::{txn, Store, Table};
use crate::domain::task::{Task, TaskState};
use crate::error::{Code, Error, Result};

const V1: u16 = 1;

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct TaskV1 {
    #[serde(with = "super::export::uuid_text")]
    pub id: [u8; 16],
    #[serde(default)]
    pub seq: u64,
    pub kind: String,
    pub target: String,
    pub owner: String,
    pub state: u8,
    pub percent: u8,
    pub log: Vec<String>,
    pub error: Option<String>,
    pub result: Option<String>,
    pub input: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

fn state_tag(s: TaskState) -> u8 {
    match s {
        TaskState::Queued => 0,
        TaskState::Running => 1,
        TaskState::Succeeded => 2,
        TaskState::Failed => 3,
        TaskState::Cancelled => 4,
    }
}

fn tag_state(t: u8) -> Result<TaskState> {
    Ok(match t {
        0 => TaskState::Queued,
        1 => TaskState::Running,
        2 => TaskState::Succeeded,
        3 => TaskState::Failed,
        4 => TaskState::Cancelled,
        _ => return Err(Error::store(format!("unknown task state {t}"))),
    })
}

impl From<&Task> for TaskV1 {
    fn from(t: &Task) -> Self {
        TaskV1 {
            id: *t.id.as_bytes(),
            seq: t.seq,
            kind: t.kind.clone(),
            target: t.target.clone(),
            owner: t.owner.clone(),
            state: state_tag(t.state),
            percent: t.percent,
            log: t.log.clone(),
            error: t.error.clone(),
            result: t.result.clone(),
            input: t.input.clone(),
            created_at: t.created_at,
            started_at: t.started_at,
            finished_at: t.finished_at,
        }
    }
}

impl TaskV1 {
    fn into_domain(self) -> Result<Task> {
        Ok(Task {
            id: Uuid::from_bytes(self.id),
            seq: self.seq,
            kind: self.kind,
            target: self.target,
            owner: self.owner,
            state: tag_state(self.state)?,
            percent: self.percent,
            log: self.log,
            error: self.error,
            result: self.result,
            input: self.input,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        })
    }
}

fn not_found(id: &Uuid) -> Error {
    Error::new(Code::TaskNotFound, format!("Task {id} does not exist"))
}

impl Store {
    pub fn task_put(&self, t: &Task) -> Result<()> {
        self.tasks
            .insert(t.id.as_bytes(), codec::encode(V1, &TaskV1::from(t)))
            .map_err(Error::store)?;
        self.bump(Table::Task);
        Ok(())
    }

    pub fn task_get(&self, id: &Uuid) -> Result<Task> {
        let v = self
            .tasks
            .get(id.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| not_found(id))?;
        codec::decode::<TaskV1>(V1, &v)?.into_domain()
    }

    pub fn task_list(&self) -> Result<Vec<Task>> {
        self.tasks
            .iter()
            .values()
            .map(|v| codec::decode::<TaskV1>(V1, &v.map_err(Error::store)?)?.into_domain())
            .collect()
    }

    /// Read-modify-write of one task; `f` runs outside the transaction,
    /// again if the task changed meanwhile.
    pub fn task_update(&self, id: &Uuid, f: &dyn Fn(&mut Task)) -> Result<Task> {
        let key = *id.as_bytes();
        let out = super::rmw(&self.tasks, &key, not_found(id), |seen| {
            let mut task = codec::decode::<TaskV1>(V1, seen).and_then(TaskV1::into_domain)?;
            f(&mut task);
            let bytes = codec::encode(V1, &TaskV1::from(&task));
            txn(self.tasks.transaction(|t| {
                if t.get(key)?.as_deref() != Some(seen) {
                    return Ok(None);
                }
                t.insert(&key, bytes.as_slice())?;
                Ok(Some(task.clone()))
            }))
        })?;
        self.bump(Table::Task);
        Ok(out)
    }

    pub(super) fn task_export(&self) -> Result<Vec<TaskV1>> {
        self.tasks
            .iter()
            .values()
            .map(|v| codec::decode(V1, &v.map_err(Error::store)?))
            .collect()
    }

    pub(super) fn task_import(&self, recs: &[TaskV1]) -> Result<()> {
        for r in recs {
            self.task_put(&r.clone().into_domain()?)?;
        }
        Ok(())
    }
}
