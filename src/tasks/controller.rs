//! Recovery of an initialisation a crash interrupted: finished when the
//! controller record exists; otherwise everything the task made is taken
//! back (the node and its records, the default switch, network and pool it
//! created, the empty storage directories), and the host network follows
//! the store at the next reconciliation.

use std::sync::Arc;

use serde_json::Value;

use super::{Recovery, TaskOwner};
use crate::domain::storage::{layout, storage_root, Roles};
use crate::domain::task::Task;
use crate::domain::text::fold;
use crate::error::Result;
use crate::host::BoxFuture;
use crate::service::Services;

pub struct InitTasks;

async fn verdict(s: &Services, t: &Task) -> Result<Recovery> {
    if let Some(rec) = s.store.controller()? {
        return Ok(Recovery::Completed(format!(
            "the controller was initialised (node {}) before the restart",
            rec.node
        )));
    }
    let answers: Value = serde_json::from_str(&t.input).unwrap_or(Value::Null);
    let mut undone = Vec::new();
    // Switch and network first (they reference the node's NIC).
    let sw_name = answers["switch_name"].as_str().unwrap_or_default();
    for sw in s.store.vswitch_list()? {
        if fold(&sw.name) != fold(sw_name) || sw.created_at < t.created_at {
            continue;
        }
        for n in s.store.vswitch_networks(&sw.uuid)? {
            for sub in s
                .store
                .subnet_list()?
                .into_iter()
                .filter(|x| x.network == n)
            {
                s.store.subnet_delete(&sub.uuid)?;
            }
            s.store.network_delete(&n)?;
        }
        s.store.vswitch_delete(&sw.uuid)?;
        undone.push(format!("switch `{}`", sw.name));
    }
    if let Some(uuid) = s.store.local_node()? {
        let node = s.store.node_get(&uuid)?;
        if node.created_at >= t.created_at {
            let nics: Vec<_> = s
                .store
                .nic_list()?
                .into_iter()
                .filter(|n| n.node == uuid)
                .map(|n| n.uuid)
                .collect();
            let st: Vec<_> = s
                .store
                .storage_list()?
                .into_iter()
                .filter(|x| x.node == uuid)
                .map(|x| x.uuid)
                .collect();
            s.store.controller_node_uncommit(&node, &nics, &st)?;
            undone.push(format!("node `{}`", node.name));
        }
    }
    if let Some(p) = s.store.pool_default()? {
        let pool = s.store.pool_get(&p)?;
        if pool.created_at >= t.created_at && s.store.pool_list()?.len() == 1 {
            s.store.pool_delete(&p)?;
            undone.push("the default pool".into());
        }
    }
    if let Some(map) = answers["storages"].as_object() {
        for (path, roles) in map {
            if let Ok(r) = Roles::parse("storages", roles.as_str().unwrap_or_default()) {
                // Only empty directories go; anything with content stays.
                s.storage
                    .dirs_remove(&layout(&storage_root(path), r))
                    .await?;
            }
        }
    }
    s.store.flush().await?;
    Ok(Recovery::RolledBack(format!(
        "initialisation was interrupted; undone: {}; run it again",
        if undone.is_empty() {
            "nothing was recorded".to_string()
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
        task: &'a Task,
    ) -> BoxFuture<'a, Result<Recovery>> {
        Box::pin(verdict(services, task))
    }
}
