//! Wire types of monitoring: the `node/report_monitor` body (numbers may
//! come as numeric strings, as the document's example has them), the
//! `index/top_data` request and answer, and the history query.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::ipv4;
use crate::domain::monitor::{
    sample_problem, Cpu, Disk, Mem, Nic, Sample, HALF_MIN_S, MAX_DEVICES,
};
use crate::domain::monitor_query::TopData;
use crate::domain::net::IfAddr;
use crate::domain::Uuid;
use crate::error::{Error, Result};

use super::fields::{num, opt_num};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuReq {
    #[serde(deserialize_with = "num")]
    pub user: f64,
    #[serde(deserialize_with = "num")]
    pub system: f64,
    #[serde(deserialize_with = "num")]
    pub idle: f64,
    #[serde(deserialize_with = "num")]
    pub percent: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemReq {
    /// Bytes.
    #[serde(deserialize_with = "num")]
    pub total: f64,
    #[serde(deserialize_with = "num")]
    pub used: f64,
    #[serde(deserialize_with = "num")]
    pub free: f64,
    #[serde(deserialize_with = "num")]
    pub percent: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddrReq {
    pub addr: String,
    pub netmask: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NicReq {
    /// Link speed in Mbit/s (absent, 0 or negative: unknown).
    #[serde(default, deserialize_with = "opt_num")]
    pub speed: Option<f64>,
    /// Bytes per second sent, averaged over the span.
    #[serde(deserialize_with = "num")]
    pub up: f64,
    /// Bytes per second received.
    #[serde(deserialize_with = "num")]
    pub down: f64,
    /// The highest rate within the span (this appliance's nodes send it).
    #[serde(default, deserialize_with = "opt_num")]
    pub up_max: Option<f64>,
    #[serde(default, deserialize_with = "opt_num")]
    pub down_max: Option<f64>,
    #[serde(default)]
    pub ipv4: Vec<AddrReq>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskReq {
    #[serde(deserialize_with = "num")]
    pub read_rate: f64,
    #[serde(deserialize_with = "num")]
    pub write_rate: f64,
    #[serde(deserialize_with = "num")]
    pub total: f64,
    #[serde(deserialize_with = "num")]
    pub used: f64,
    /// Where the filesystem is mounted (this appliance's nodes send it).
    #[serde(default)]
    pub mount: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportData {
    pub cpu: CpuReq,
    pub mem: MemReq,
    #[serde(default)]
    pub net: BTreeMap<String, NicReq>,
    #[serde(default)]
    pub disk: BTreeMap<String, DiskReq>,
    /// 1, 5 and 15 minute load averages (optional).
    #[serde(default)]
    pub load: Option<[f64; 3]>,
    /// Seconds since the node booted (optional).
    #[serde(default)]
    pub uptime: Option<u64>,
}

/// `POST /api/v1/node/report_monitor`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportReq {
    pub node_uuid: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// Unix seconds: the start of the 30-second span.
    pub timestamp: i64,
    pub data: ReportData,
}

pub use crate::domain::monitor::Report;

fn bytes(field: &str, v: f64) -> Result<u64> {
    if (0.0..1.8e19).contains(&v) {
        Ok(v.round() as u64)
    } else {
        Err(Error::invalid(
            field,
            format!("{v} is not a number of bytes"),
        ))
    }
}

fn device_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c))
    {
        return Err(Error::invalid(
            field,
            format!("`{name}` is not a device name (letters, digits, - _ . : @; at most 64)"),
        ));
    }
    Ok(())
}

impl ReportReq {
    pub fn validate(self) -> Result<Report> {
        let node = Uuid::parse_str(self.node_uuid.trim()).map_err(|_| {
            Error::invalid("node_uuid", format!("`{}` is not a uuid", self.node_uuid))
        })?;
        if self.kind != "half_min_monitor" {
            return Err(Error::invalid(
                "type",
                format!(
                    "`{}` is not a report type; the one type is half_min_monitor",
                    self.kind
                ),
            ));
        }
        if self.timestamp <= 0 {
            return Err(Error::invalid(
                "timestamp",
                format!("{} is not a Unix time in seconds", self.timestamp),
            ));
        }
        let d = self.data;
        if d.net.len() > MAX_DEVICES || d.disk.len() > MAX_DEVICES {
            return Err(Error::invalid(
                "data",
                format!("at most {MAX_DEVICES} NICs and {MAX_DEVICES} disks per report"),
            ));
        }
        let mut nics = Vec::new();
        for (name, n) in d.net {
            device_name(&format!("data.net.{name}"), &name)?;
            let mut ipv4 = Vec::new();
            for (i, a) in n.ipv4.iter().enumerate() {
                if a.addr.trim().is_empty() && a.netmask.trim().is_empty() {
                    continue; // the document's example sends empty entries
                }
                let field = format!("data.net.{name}.ipv4[{i}]");
                ipv4.push(IfAddr {
                    ip: ipv4::addr(&field, &a.addr)?,
                    prefix: ipv4::prefix(&field, &a.netmask)?,
                });
            }
            nics.push(Nic {
                speed_mbps: n
                    .speed
                    .filter(|s| s.is_finite() && *s >= 1.0 && *s <= u32::MAX as f64)
                    .map(|s| s as u32),
                up: n.up,
                down: n.down,
                up_max: n.up_max.unwrap_or(n.up).max(n.up),
                down_max: n.down_max.unwrap_or(n.down).max(n.down),
                ipv4,
                name: name.clone(),
            });
        }
        let mut disks = Vec::new();
        for (name, x) in d.disk {
            let f = |k: &str| format!("data.disk.{name}.{k}");
            device_name(&format!("data.disk.{name}"), &name)?;
            disks.push(Disk {
                mount: x.mount.unwrap_or_default(),
                read_rate: x.read_rate,
                write_rate: x.write_rate,
                total: bytes(&f("total"), x.total)?,
                used: bytes(&f("used"), x.used)?,
                name: name.clone(),
            });
        }
        let sample = Sample {
            start: self.timestamp,
            span_s: HALF_MIN_S as u32,
            cpu: Cpu {
                user: d.cpu.user,
                system: d.cpu.system,
                idle: d.cpu.idle,
                percent: d.cpu.percent,
            },
            mem: Mem {
                total: bytes("data.mem.total", d.mem.total)?,
                used: bytes("data.mem.used", d.mem.used)?,
                free: bytes("data.mem.free", d.mem.free)?,
                percent: d.mem.percent,
            },
            nics,
            disks,
            load: d.load.unwrap_or_default(),
            uptime_s: d.uptime.unwrap_or(0),
        };
        if let Some((field, why)) = sample_problem(&sample) {
            return Err(Error::invalid(&field, why));
        }
        Ok(Report {
            node,
            name: self.name,
            sample,
        })
    }
}

pub use crate::domain::cluster::report_wire as report_body;

/// `POST /api/v1/index/top_data`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopDataReq {
    pub statis_period: i64,
}

pub fn top_data_view(t: &TopData) -> Value {
    json!({
        "utc": t.utc,
        "cpu_util": t.cpu.iter().map(|(n, p)| json!([n, p])).collect::<Vec<_>>(),
        "disk_util": t.disk.iter().map(|(n, p, total, used)| json!([n, p, total, used])).collect::<Vec<_>>(),
        "memory_util": t.memory.iter().map(|(n, p)| json!([n, p])).collect::<Vec<_>>(),
        "nic_util": t.nic.iter().map(|(n, avg, max)| json!([n, avg, max])).collect::<Vec<_>>(),
    })
}

pub use crate::domain::monitor_query::{HistoryQuery, HISTORY_FIELDS};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::monitor_query::Metric;

    fn documented() -> Value {
        // The document's example with its syntax mended and real figures.
        json!({
            "node_uuid": "5d5b7a4e-3a3f-4c44-9b7e-1f2f3a4b5c6d",
            "type": "half_min_monitor",
            "name": "computer1",
            "timestamp": 1588820280,
            "data": {
                "cpu": {"user": 1.5, "system": 0.5, "idle": 98.0, "percent": 2.0},
                "mem": {"total": 12345678, "used": 1234567, "percent": 10.0, "free": 11111111},
                "net": {
                    "eth0": {"speed": 10000, "up": "1200", "down": "800",
                             "ipv4": [{"addr": "10.0.0.5", "netmask": "255.255.255.0"}]},
                    "eth1": {"speed": 10000, "up": "0", "down": "0", "ipv4": []}
                },
                "disk": {"sda": {"read_rate": "10", "write_rate": "20", "total": 1000, "used": 400}}
            }
        })
    }

    fn parse(v: Value) -> Result<Report> {
        crate::api::parse::<ReportReq>(v.to_string().as_bytes())?.validate()
    }

    #[test]
    fn the_documented_report() {
        let r = parse(documented()).unwrap();
        assert_eq!(r.name, "computer1");
        assert_eq!(r.sample.start, 1588820280);
        let n = r.sample.nic("eth0").unwrap();
        assert_eq!((n.up, n.down, n.up_max), (1200.0, 800.0, 1200.0));
        assert_eq!(n.ipv4[0].prefix, 24);
        assert_eq!(r.sample.disk("sda").unwrap().used, 400);
        // What a node of ours sends parses back to the same sample.
        let again = parse(report_body(&r.node, "computer1", &r.sample)).unwrap();
        assert_eq!(again.sample, r.sample);
    }

    #[test]
    fn bad_reports_name_the_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("/type", json!("full_monitor"), "type"),
            ("/node_uuid", json!("xxxxxxxx"), "node_uuid"),
            ("/timestamp", json!(-3), "timestamp"),
            ("/data/cpu/user", json!("xxxxx"), "data.cpu.user"),
            ("/data/cpu/percent", json!(130), "data.cpu.percent"),
            ("/data/mem/used", json!(123456789), "data.mem.used"),
            ("/data/net/eth0/up", json!(-5), "data.net.eth0.up"),
            (
                "/data/net/eth0/ipv4/0/netmask",
                json!("255.0.255.0"),
                "data.net.eth0.ipv4[0]",
            ),
            ("/data/disk/sda/used", json!(5000), "data.disk.sda.used"),
            ("/data/extra", json!(1), "data.extra"),
        ];
        for (ptr, v, field) in cases {
            let mut body = documented();
            match body.pointer_mut(ptr) {
                Some(slot) => *slot = v,
                None => {
                    body["data"]["extra"] = v;
                }
            }
            let e = parse(body).unwrap_err();
            assert!(
                e.public_message().contains(field),
                "{ptr}: {}",
                e.public_message()
            );
        }
        let mut body = documented();
        body["data"].as_object_mut().unwrap().remove("cpu");
        assert!(parse(body).unwrap_err().public_message().contains("cpu"));
    }

    #[test]
    fn history_queries() {
        let q = |s: &str| -> Vec<(String, String)> {
            form_urlencoded::parse(s.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        };
        let n = "5d5b7a4e-3a3f-4c44-9b7e-1f2f3a4b5c6d";
        let h = HistoryQuery::parse(&q(&format!("node_uuid={n}")), 100_000).unwrap();
        assert_eq!(
            (h.start, h.end, h.step, h.metric),
            (96_400, 100_000, 30, Metric::Cpu)
        );
        let h = HistoryQuery::parse(
            &q(&format!(
                "node_uuid={n}&metric=nic_up&device=eth0&start=0&end=86400"
            )),
            0,
        )
        .unwrap();
        assert_eq!((h.step, h.device.as_deref()), (720, Some("eth0")));
        for (bad, field) in [
            ("metric=cpu", "node_uuid"),
            ("node_uuid=zz", "node_uuid"),
            ("node_uuid=N&metric=gpu", "metric"),
            ("node_uuid=N&start=x", "start"),
            ("node_uuid=N&start=10&end=5", "start"),
            ("node_uuid=N&start=0&end=864000&step=1", "step"),
            ("node_uuid=N&colour=red", "colour"),
        ] {
            let e = HistoryQuery::parse(&q(&bad.replace('N', n)), 1000).unwrap_err();
            assert!(
                e.public_message().contains(field),
                "{bad}: {}",
                e.public_message()
            );
        }
    }
}
