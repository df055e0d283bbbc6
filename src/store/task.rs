//! The task table: persisted records of long-running operations. A task's
//! log lines live in their own tree (`task_logs`, keyed by task and line
//! number), so that progress appends one small line instead of rewriting a
//! record that grows with its log; records written before kept their lines
//! inline, and a read puts both together.

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

fn log_key(task: &Uuid, n: u32) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..16].copy_from_slice(task.as_bytes());
    k[16..].copy_from_slice(&n.to_be_bytes());
    k
}

impl Store {
    /// Writes a task: its record, and its log lines in the log tree.
    pub fn task_put(&self, t: &Task) -> Result<()> {
        let mut rec = TaskV1::from(t);
        let lines = std::mem::take(&mut rec.log);
        self.tasks
            .insert(t.id.as_bytes(), codec::encode(V1, &rec))
            .map_err(Error::store)?;
        self.task_log_clear(&t.id)?;
        for line in &lines {
            self.task_log_append(&t.id, line)?;
        }
        self.bump(Table::Task);
        Ok(())
    }

    /// Appends one line to a task's log (no record is rewritten).
    pub fn task_log_append(&self, id: &Uuid, line: &str) -> Result<()> {
        let next = match self.task_logs.scan_prefix(id.as_bytes()).keys().next_back() {
            Some(k) => {
                let k = k.map_err(Error::store)?;
                let n: [u8; 4] = k[16..]
                    .try_into()
                    .map_err(|_| Error::store("bad task log key"))?;
                u32::from_be_bytes(n) + 1
            }
            None => 0,
        };
        self.task_logs
            .insert(log_key(id, next), line.as_bytes())
            .map_err(Error::store)?;
        self.bump(Table::Task);
        Ok(())
    }

    fn task_log_clear(&self, id: &Uuid) -> Result<()> {
        for k in self.task_logs.scan_prefix(id.as_bytes()).keys() {
            self.task_logs
                .remove(k.map_err(Error::store)?)
                .map_err(Error::store)?;
        }
        Ok(())
    }

    fn task_log_lines(&self, id: &Uuid) -> Result<Vec<String>> {
        self.task_logs
            .scan_prefix(id.as_bytes())
            .values()
            .map(|v| Ok(String::from_utf8_lossy(&v.map_err(Error::store)?).into_owned()))
            .collect()
    }

    /// A record with its log: inline lines (older records) then the tree's.
    fn task_with_log(&self, rec: TaskV1) -> Result<Task> {
        let mut t = rec.into_domain()?;
        t.log.extend(self.task_log_lines(&t.id)?);
        Ok(t)
    }

    pub fn task_get(&self, id: &Uuid) -> Result<Task> {
        let v = self
            .tasks
            .get(id.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| not_found(id))?;
        self.task_with_log(codec::decode::<TaskV1>(V1, &v)?)
    }

    pub fn task_list(&self) -> Result<Vec<Task>> {
        self.tasks
            .iter()
            .values()
            .map(|v| self.task_with_log(codec::decode::<TaskV1>(V1, &v.map_err(Error::store)?)?))
            .collect()
    }

    /// Read-modify-write of one task's record (state, percent, result:
    /// not its log, which `task_log_append` extends); `f` runs outside the
    /// transaction, again if the task changed meanwhile.
    pub fn task_update(&self, id: &Uuid, f: &dyn Fn(&mut Task)) -> Result<Task> {
        let key = *id.as_bytes();
        let out = super::rmw(&self.tasks, &key, not_found(id), |seen| {
            let mut task = codec::decode::<TaskV1>(V1, seen).and_then(TaskV1::into_domain)?;
            let inline = task.log.len();
            f(&mut task);
            if task.log.len() != inline {
                return Err(Error::internal(
                    "task_update cannot change the log; append to it",
                ));
            }
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
        let mut out = out;
        out.log.extend(self.task_log_lines(id)?);
        Ok(out)
    }

    /// Every task with its whole log inline (the export's form).
    pub(super) fn task_export(&self) -> Result<Vec<TaskV1>> {
        Ok(self.task_list()?.iter().map(TaskV1::from).collect())
    }

    pub(super) fn task_import(&self, recs: &[TaskV1]) -> Result<()> {
        for r in recs {
            self.task_put(&r.clone().into_domain()?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(log: Vec<String>) -> Task {
        Task {
            id: Uuid::new_v4(),
            seq: 1,
            kind: "desktop/create".into(),
            target: "g".into(),
            owner: "admin".into(),
            state: TaskState::Running,
            percent: 0,
            log,
            error: None,
            result: None,
            input: String::new(),
            created_at: 1,
            started_at: Some(1),
            finished_at: None,
        }
    }

    #[test]
    fn progress_appends_lines_without_rewriting_the_record() {
        let s = Store::temporary().unwrap();
        let t = task(vec!["queued".into()]);
        s.task_put(&t).unwrap();
        let record_len = s.tasks.get(t.id.as_bytes()).unwrap().unwrap().len();
        for i in 0..1000 {
            s.task_log_append(&t.id, &format!("desktop {i} made"))
                .unwrap();
        }
        s.task_update(&t.id, &|x| x.percent = 50).unwrap();
        // The record did not grow with its log.
        assert_eq!(
            s.tasks.get(t.id.as_bytes()).unwrap().unwrap().len(),
            record_len
        );
        let back = s.task_get(&t.id).unwrap();
        assert_eq!(back.log.len(), 1001);
        assert_eq!(
            (back.log[0].as_str(), back.log[1000].as_str()),
            ("queued", "desktop 999 made")
        );
        assert_eq!(back.percent, 50);
        // The log changes only by appending.
        assert!(s.task_update(&t.id, &|x| x.log.push("x".into())).is_err());
        // The export carries it whole, and an import gives it back.
        let exported = s.task_export().unwrap();
        assert_eq!(exported[0].log.len(), 1001);
        let other = Store::temporary().unwrap();
        other.task_import(&exported).unwrap();
        assert_eq!(other.task_get(&t.id).unwrap().log, back.log);
    }

    #[test]
    fn a_record_written_with_its_log_inline_reads_whole() {
        let s = Store::temporary().unwrap();
        let t = task(vec!["old line".into()]);
        // As an earlier version wrote it: the log inside the record.
        s.tasks
            .insert(t.id.as_bytes(), codec::encode(V1, &TaskV1::from(&t)))
            .unwrap();
        s.task_log_append(&t.id, "new line").unwrap();
        assert_eq!(s.task_get(&t.id).unwrap().log, ["old line", "new line"]);
        assert_eq!(s.task_list().unwrap()[0].log.len(), 2);
    }
}
