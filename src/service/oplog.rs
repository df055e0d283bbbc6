//! The operation log: recording and listing who did what.

use super::{Actor, Services};
use crate::domain::oplog::OpLogEntry;
use crate::domain::text::clip;
use crate::error::{Code, Result};

impl Services {
    /// Records one call; a failure to record is logged, never fatal.
    pub fn operation_log_record(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        code: i64,
        message: &str,
    ) {
        self.operation_log_finish(None, actor, action, target, code, message);
    }

    /// Writes the entry of a call that is about to change something, before
    /// the change: whatever flush makes the change durable makes its entry
    /// durable too, so a crash can never leave a change without its entry.
    /// The entry reads as pending (`PENDING`) until
    /// [`operation_log_finish`](Self::operation_log_finish).
    pub fn operation_log_begin(&self, actor: &Actor, action: &str, target: &str) -> Option<u64> {
        let e = entry(self.now_ms(), actor, action, target, PENDING, "in progress");
        match self.store.oplog_append(&e) {
            Ok(seq) => Some(seq),
            Err(err) => {
                log::error!("cannot record operation {action} on {target}: {err}");
                None
            }
        }
    }

    /// Completes the entry `operation_log_begin` wrote (or appends one).
    pub fn operation_log_finish(
        &self,
        seq: Option<u64>,
        actor: &Actor,
        action: &str,
        target: &str,
        code: i64,
        message: &str,
    ) {
        let e = entry(self.now_ms(), actor, action, target, code, message);
        let r = match seq {
            Some(seq) => self.store.oplog_set(seq, &e),
            None => self.store.oplog_append(&e).map(|_| ()),
        };
        if let Err(err) = r {
            log::error!("cannot record operation {action} on {target}: {err}");
        }
    }

    /// `operation_log_finish`, then the store flushed: the caller's answer
    /// goes out once its entry is on disk.
    pub async fn operation_log_finish_durable(
        &self,
        seq: Option<u64>,
        actor: &Actor,
        action: &str,
        target: &str,
        code: i64,
        message: &str,
    ) {
        self.operation_log_finish(seq, actor, action, target, code, message);
        if let Err(e) = self.store.flush().await {
            log::error!("cannot flush the operation log: {e}");
        }
    }

    /// At start-up: entries still pending belong to calls the last run
    /// never answered; they say so. Returns how many.
    pub fn operation_log_conclude(&self) -> Result<usize> {
        let mut n = 0;
        for mut e in self.store.oplog_list()? {
            if e.code == PENDING {
                e.code = Code::OperationInterrupted.number();
                e.message = clip(Code::OperationInterrupted.describe(), 300);
                self.store.oplog_set(e.seq, &e)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Every entry, oldest first.
    pub fn operation_log_list(&self) -> Result<Vec<OpLogEntry>> {
        self.store.oplog_list()
    }
}

/// The code of an entry whose call has not answered yet.
pub const PENDING: i64 = -1;

/// Clipped: public routes log what the caller sent, so an entry's size must
/// not be the caller's choice.
fn entry(
    time: i64,
    actor: &Actor,
    action: &str,
    target: &str,
    code: i64,
    message: &str,
) -> OpLogEntry {
    OpLogEntry {
        seq: 0,
        time,
        owner: clip(&actor.name, 64),
        action: clip(action, 64),
        target: clip(target, 200),
        code,
        message: clip(message, 300),
        client: clip(&actor.client, 64),
    }
}
