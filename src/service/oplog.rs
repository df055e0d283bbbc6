//! The operation log: recording and listing who did what.

use super::{Actor, Services};
use crate::domain::clock::now_ms;
use crate::domain::oplog::OpLogEntry;
use crate::error::Result;

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
        let e = OpLogEntry {
            seq: 0,
            time: now_ms(),
            owner: actor.name.clone(),
            action: action.into(),
            target: target.into(),
            code,
            message: message.into(),
            client: actor.client.clone(),
        };
        if let Err(err) = self.store.oplog_append(&e) {
            log::error!("cannot record operation {action} on {target}: {err}");
        }
    }

    /// Every entry, oldest first.
    pub fn operation_log_list(&self) -> Result<Vec<OpLogEntry>> {
        self.store.oplog_list()
    }
}
