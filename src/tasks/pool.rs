//! Recovery of resource-pool tasks. Each pool change is one store
//! transaction, so after a crash the store itself says whether it happened.

use std::sync::Arc;

use serde_json::Value;

use super::{Recovery, TaskOwner};
use crate::domain::task::Task;
use crate::error::Result;
use crate::host::BoxFuture;
use crate::service::Services;

pub struct PoolTasks(pub &'static str);

fn field<'a>(input: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(input, |v, k| v.get(*k))?.as_str()
}

fn verdict(s: &Services, t: &Task) -> Result<Recovery> {
    let input: Value = serde_json::from_str(&t.input).unwrap_or(Value::Null);
    let done = |what: &str| Ok(Recovery::Completed(format!("{what} before the restart")));
    let not_done = |what: &str| {
        Ok(Recovery::RolledBack(format!(
            "{what}; nothing to undo, run it again"
        )))
    };
    match t.kind.as_str() {
        "resource_pool/create" => {
            let name = field(&input, &["name"]).unwrap_or_default();
            match s.resource_pool_find(name)? {
                Some(p) if p.created_at >= t.created_at => {
                    done(&format!("pool `{name}` ({}) was created", p.uuid))
                }
                _ => not_done(&format!("pool `{name}` was not created")),
            }
        }
        "resource_pool/delete" => {
            let uuid = field(&input, &["uuid"]).and_then(|u| uuid::Uuid::parse_str(u).ok());
            match uuid.map(|u| s.resource_pool_get(&u)) {
                Some(Err(_)) => done("the pool was deleted"),
                _ => not_done("the pool was not deleted"),
            }
        }
        _ => {
            // update: applied when every requested value is what the pool has.
            let uuid = field(&input, &["uuid"]).and_then(|u| uuid::Uuid::parse_str(u).ok());
            let Some(Ok(p)) = uuid.map(|u| s.resource_pool_get(&u)) else {
                return not_done("the pool is gone; the change was not applied");
            };
            let name_ok = field(&input, &["value", "name"]).is_none_or(|n| n.trim() == p.name);
            let desc =
                field(&input, &["value", "desc"]).or(field(&input, &["value", "description"]));
            let desc_ok = desc.is_none_or(|d| d == p.desc);
            let default_ok = input
                .pointer("/value/default")
                .and_then(Value::as_bool)
                .is_none_or(|d| d == p.is_default);
            if name_ok && desc_ok && default_ok && p.updated_at >= t.created_at {
                done("the change was applied")
            } else {
                not_done("the change was not applied")
            }
        }
    }
}

impl TaskOwner for PoolTasks {
    fn kind(&self) -> &'static str {
        self.0
    }

    fn recover<'a>(
        &'a self,
        services: &'a Arc<Services>,
        task: &'a Task,
    ) -> BoxFuture<'a, Result<Recovery>> {
        Box::pin(async move { verdict(services, task) })
    }
}
