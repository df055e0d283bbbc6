//! Recovery of an initialisation a crash interrupted: finished when the
//! controller record exists; otherwise what its journal says it made is
//! taken back (switch and network first, while the node is still on record,
//! so the host gives the addresses back to the NIC; then the node, the pool
//! it created, and the directories it created while they are empty).

use std::sync::Arc;

use super::{Recovery, TaskOwner};
use crate::domain::task::Task;
use crate::error::Result;
use crate::host::BoxFuture;
use crate::service::Services;

pub struct InitTasks;

async fn verdict(s: &Services) -> Result<Recovery> {
    if let Some(rec) = s.store.controller()? {
        s.store.init_journal_clear()?;
        return Ok(Recovery::Completed(format!(
            "the controller was initialised (node {}) before the restart",
            rec.node
        )));
    }
    let undone = s.controller_init_rollback().await?;
    Ok(Recovery::RolledBack(format!(
        "initialisation was interrupted; undone: {}; run it again",
        if undone.is_empty() {
            "nothing had been made".to_string()
        } else {
            undone.join(", ")
        }
    )))
}

impl TaskOwner for InitTasks {
    fn kind(&self) -> &'static str {
        "controller/init"
    }

    fn recover<'a>(
        &'a self,
        services: &'a Arc<Services>,
        _task: &'a Task,
    ) -> BoxFuture<'a, Result<Recovery>> {
        Box::pin(verdict(services))
    }
}
