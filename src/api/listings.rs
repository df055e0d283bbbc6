//! The resources the generic web query serves, with their rows and sources.

use serde_json::Value;

use super::{resource_pool, task};
use crate::error::Result;
use crate::service::{Listing, QueryEngine, Row, Services};
use crate::store::Table;

fn rows(values: impl Iterator<Item = Value>) -> Vec<Row> {
    values
        .filter_map(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn pools(s: &Services) -> Result<Vec<Row>> {
    Ok(rows(
        s.resource_pool_list()?.iter().map(resource_pool::view),
    ))
}

fn tasks(s: &Services) -> Result<Vec<Row>> {
    Ok(rows(s.task_list()?.iter().map(task::task_view)))
}

fn oplog(s: &Services) -> Result<Vec<Row>> {
    Ok(rows(s.operation_log_list()?.iter().map(task::oplog_view)))
}

/// Every listing, registered in one engine.
pub fn engine() -> QueryEngine<Services> {
    let mut e = QueryEngine::default();
    e.register(Listing {
        name: "resource_pool",
        fields: resource_pool::FIELDS,
        generation: |s: &Services| s.store.generation(Table::ResourcePool),
        load: pools,
    });
    e.register(Listing {
        name: "task",
        fields: task::TASK_FIELDS,
        generation: |s: &Services| s.store.generation(Table::Task),
        load: tasks,
    });
    e.register(Listing {
        name: "operation_log",
        fields: task::OPLOG_FIELDS,
        generation: |s: &Services| s.store.generation(Table::OpLog),
        load: oplog,
    });
    e
}
