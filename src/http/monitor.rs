//! Monitoring routes: node reports, the dashboard's top-5, history and the
//! overview, node credentials, and the Prometheus scrape.

use serde_json::{json, Value};

use super::call::{Call, Reply};
use crate::api::monitor::{top_data_view, HistoryQuery, ReportReq, TopDataReq};
use crate::domain::monitor_query::period_check;
use crate::error::Result;
use crate::service::monitor::view::Allocation;

pub async fn report(c: Call) -> Result<Reply> {
    let r = c.json::<ReportReq>()?.validate()?;
    let (node, at) = (r.node, r.sample.start);
    c.services.monitor_report(c.token.as_deref(), r).await?;
    Ok(Reply::data(json!({"node_uuid": node.to_string(), "timestamp": at})).on(node.to_string()))
}

pub async fn top_data(c: Call) -> Result<Reply> {
    let period = period_check(c.json::<TopDataReq>()?.statis_period)?;
    Ok(Reply::data(top_data_view(&c.services.top_data(period)?)))
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialReq {
    pub node_uuid: String,
}

pub async fn credential(c: Call) -> Result<Reply> {
    let req: CredentialReq = c.json()?;
    let node = crate::api::fields::uuid("node_uuid", &req.node_uuid)?;
    let token = c.services.node_credential_issue(&node).await?;
    Ok(
        Reply::data(json!({"node_uuid": node.to_string(), "credential": token}))
            .on(node.to_string()),
    )
}

pub async fn history(c: Call) -> Result<Reply> {
    let q = HistoryQuery::parse(&c.query, c.services.now_ms().div_euclid(1000))?;
    let h = c.services.monitor_history(q)?;
    Ok(Reply::data(json!({
        "node_uuid": h.node.uuid.to_string(),
        "node_name": h.node.name,
        "metric": h.query.metric.name(),
        "unit": h.query.metric.unit(),
        "device": h.device,
        "start": h.query.start,
        "end": h.query.end,
        "step": h.query.step,
        "points": h.points.iter().map(|p| json!([p.t, round2(p.avg), round2(p.max)])).collect::<Vec<_>>(),
    })))
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn allocation(a: &Allocation) -> Value {
    json!({"physical": a.physical, "allocated": a.allocated, "running": a.running, "ratio": round2(a.ratio())})
}

pub async fn overview(c: Call) -> Result<Reply> {
    let o = c.services.monitor_overview()?;
    let up = o.nodes.iter().filter(|n| n.up).count();
    let nodes: Vec<Value> = o
        .nodes
        .iter()
        .map(|n| {
            json!({
                "uuid": n.node.uuid.to_string(),
                "name": n.node.name,
                "ip": n.node.ip,
                "role": n.node.role.as_str(),
                "status": if n.up { "up" } else { "down" },
                "last_report": n.last_report,
                "desktops": n.desktops,
                "desktops_running": n.desktops_running,
                "cpu": allocation(&n.cpu),
                "memory": allocation(&n.memory),
            })
        })
        .collect();
    let storage: Vec<Value> = o
        .storage
        .iter()
        .map(|s| {
            json!({"role": s.role.number(), "describe": s.role.describe(), "storages": s.storages,
                   "total_bytes": s.total_bytes, "used_bytes": s.used_bytes})
        })
        .collect();
    Ok(Reply::data(json!({
        "utc": o.utc,
        "nodes": {"total": o.nodes.len(), "up": up, "down": o.nodes.len() - up, "list": nodes},
        "desktops": {"total": o.desktops.values().sum::<u64>(), "by_state": o.desktops},
        "cpu": allocation(&o.cpu),
        "memory": allocation(&o.memory),
        "storage": storage,
        "terminals": {"total": o.terminals.0, "seen_last_hour": o.terminals.1},
        "tasks": {"running": o.tasks.0, "queued": o.tasks.1},
    })))
}

const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics` on the API listener: the scrape token or an admin token.
pub async fn metrics(c: Call) -> Result<Reply> {
    c.services.metrics_authorize(c.token.as_deref())?;
    Ok(Reply::plain(EXPOSITION, c.services.metrics_render()?))
}

/// `GET /metrics` on `metrics_listen`: open to whoever reaches that address.
pub async fn metrics_open(c: Call) -> Result<Reply> {
    Ok(Reply::plain(EXPOSITION, c.services.metrics_render()?))
}

pub async fn metrics_token(c: Call) -> Result<Reply> {
    c.no_fields()?;
    let token = c.services.metrics_token_rotate().await?;
    Ok(Reply::data(json!({"token": token})))
}
