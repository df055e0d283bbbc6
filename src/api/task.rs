//! JSON rows of tasks and operation-log entries.

use serde_json::{json, Value};

use crate::domain::clock::format_utc;
use crate::domain::oplog::OpLogEntry;
use crate::domain::task::Task;

pub const TASK_FIELDS: &[&str] = &[
    "uuid",
    "kind",
    "target",
    "owner",
    "state",
    "percent",
    "log",
    "error",
    "result",
    "created_at",
    "started_at",
    "finished_at",
];

pub fn task_view(t: &Task) -> Value {
    json!({
        "uuid": t.id.to_string(),
        "kind": t.kind,
        "target": t.target,
        "owner": t.owner,
        "state": t.state.as_str(),
        "percent": t.percent,
        "log": t.log,
        "error": t.error,
        "result": t.result.as_deref().map(|r| serde_json::from_str::<Value>(r).unwrap_or(Value::String(r.into()))),
        "created_at": format_utc(t.created_at),
        "started_at": t.started_at.map(format_utc),
        "finished_at": t.finished_at.map(format_utc),
    })
}

pub const OPLOG_FIELDS: &[&str] = &[
    "id",
    "created_at",
    "owner",
    "action",
    "target",
    "result",
    "code",
    "msg",
    "client",
];

pub fn oplog_view(e: &OpLogEntry) -> Value {
    json!({
        "id": e.seq,
        "created_at": format_utc(e.time),
        "owner": e.owner,
        "action": e.action,
        "target": e.target,
        "result": if e.code == 0 { "success" } else { "failure" },
        "code": e.code,
        "msg": e.message,
        "client": e.client,
    })
}
