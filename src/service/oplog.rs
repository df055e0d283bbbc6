//! The operation log: recording and listing who did what.

use super::{Actor, Services};
use crate::domain::clock::now_ms;
use crate::domain::oplog::OpLogEntry;
use crate::domain::text::clip;
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
        // Clipped: public routes log what the caller sent, so an entry's
        // size must not be the caller's choice.
        let e = OpLogEntry {
            seq: 0,
            time: now_ms(),
            owner: clip(&actor.name, 64),
            action: clip(action, 64),
            target: clip(target, 200),
            code,
            message: clip(message, 300),
            client: clip(&actor.client, 64),
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
