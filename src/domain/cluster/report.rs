//! A node's 30-second report to its controller, in the form the
//! documented `node/report_monitor` takes (which `api::monitor` parses).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::ipv4;
use crate::domain::monitor::Sample;

/// The report body a node sends for `sample` (what `report_monitor` takes).
pub fn report_wire(node: &Uuid, name: &str, s: &Sample) -> Value {
    let net: serde_json::Map<String, Value> = s
        .nics
        .iter()
        .map(|n| {
            let ipv4: Vec<Value> = n
                .ipv4
                .iter()
                .map(|a| json!({"addr": a.ip.to_string(), "netmask": ipv4::mask(a.prefix).to_string()}))
                .collect();
            (
                n.name.clone(),
                json!({"speed": n.speed_mbps.map_or(-1, i64::from), "up": n.up, "down": n.down,
                       "up_max": n.up_max, "down_max": n.down_max, "ipv4": ipv4}),
            )
        })
        .collect();
    let disk: serde_json::Map<String, Value> = s
        .disks
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                json!({"read_rate": d.read_rate, "write_rate": d.write_rate,
                       "total": d.total, "used": d.used, "mount": d.mount}),
            )
        })
        .collect();
    json!({
        "node_uuid": node.to_string(),
        "type": "half_min_monitor",
        "name": name,
        "timestamp": s.start,
        "data": {
            "cpu": {"user": s.cpu.user, "system": s.cpu.system, "idle": s.cpu.idle, "percent": s.cpu.percent},
            "mem": {"total": s.mem.total, "used": s.mem.used, "free": s.mem.free, "percent": s.mem.percent},
            "net": net,
            "disk": disk,
            "load": s.load,
            "uptime": s.uptime_s,
        }
    })
}
