//! The resources the generic web query serves, with their rows and sources.

use serde_json::Value;

use super::{resource_pool, task};
use crate::error::Result;
use crate::service::{Listing, QueryEngine, Services, Table};

type Sink<'a> = &'a mut dyn FnMut(Value);

fn pools(s: &Services, sink: Sink) -> Result<()> {
    s.resource_pool_list()?
        .iter()
        .for_each(|p| sink(resource_pool::view(p)));
    Ok(())
}

fn tasks(s: &Services, sink: Sink) -> Result<()> {
    s.task_list()?.iter().for_each(|t| sink(task::task_view(t)));
    Ok(())
}

fn oplog(s: &Services, sink: Sink) -> Result<()> {
    s.operation_log_list()?
        .iter()
        .for_each(|e| sink(task::oplog_view(e)));
    Ok(())
}

/// Every listing, registered in one engine.
pub fn engine() -> QueryEngine<Services> {
    let mut e = QueryEngine::default();
    e.register(Listing {
        name: "resource_pool",
        fields: resource_pool::FIELDS,
        generation: |s: &Services| s.table_generation(Table::ResourcePool),
        load: pools,
    });
    e.register(Listing {
        name: "task",
        fields: task::TASK_FIELDS,
        generation: |s: &Services| s.table_generation(Table::Task),
        load: tasks,
    });
    e.register(Listing {
        name: "operation_log",
        fields: task::OPLOG_FIELDS,
        generation: |s: &Services| s.table_generation(Table::OpLog),
        load: oplog,
    });
    e
}
