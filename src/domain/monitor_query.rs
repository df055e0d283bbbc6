//! What the dashboard and charts ask of monitoring samples: the top-5 lists
//! of `index/top_data`, and history series bucketed by a step.

use super::monitor::Sample;
use crate::error::{Error, Result};
use uuid::Uuid;

/// How many nodes each top list shows.
pub const TOP: usize = 5;
/// At most this many points per history answer.
pub const MAX_POINTS: i64 = 2000;

/// `statis_period` must lie strictly between 1 and 60 seconds.
pub fn period_check(p: i64) -> Result<u32> {
    if p <= 1 || p >= 60 {
        return Err(Error::invalid(
            "statis_period",
            format!("{p} is outside 1 < statis_period < 60 (seconds)"),
        ));
    }
    Ok(p as u32)
}

/// One node's figures over the period, ready for ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeFigures {
    pub name: String,
    pub cpu_percent: f64,
    pub mem_percent: f64,
    /// The desktop storage: percent, total bytes, used bytes.
    pub disk: Option<(f64, u64, u64)>,
    /// The management NIC: average and highest bytes per second (sent plus
    /// received).
    pub nic: Option<(u64, u64)>,
}

impl NodeFigures {
    /// Figures of `s` (one sample covering the period), with the management
    /// NIC and the mount point of the desktop storage as the node has them.
    pub fn of(name: &str, s: &Sample, manage_nic: &str, desktop_root: Option<&str>) -> NodeFigures {
        NodeFigures {
            name: name.into(),
            cpu_percent: s.cpu.percent,
            mem_percent: s.mem.percent,
            disk: desktop_root
                .and_then(|root| s.disk_holding(root))
                .map(|d| (d.percent(), d.total, d.used)),
            nic: s.nic(manage_nic).map(|n| {
                (
                    (n.up + n.down).round() as u64,
                    (n.up_max + n.down_max).round() as u64,
                )
            }),
        }
    }
}

/// The `index/top_data` answer: each list sorted descending, at most five.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopData {
    pub utc: i64,
    pub cpu: Vec<(String, String)>,
    pub memory: Vec<(String, String)>,
    pub disk: Vec<(String, String, u64, u64)>,
    pub nic: Vec<(String, u64, u64)>,
}

/// Percentages travel as strings with two decimals (`"51.48"`).
pub fn pct_text(v: f64) -> String {
    format!("{:.2}", v.clamp(0.0, 100.0))
}

/// Ranks nodes: descending by the figure, ties by name so answers are stable.
pub fn top_data(utc: i64, nodes: &[NodeFigures]) -> TopData {
    fn ranked<T>(mut v: Vec<(f64, String, T)>) -> Vec<(String, T)> {
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        v.truncate(TOP);
        v.into_iter().map(|(_, n, t)| (n, t)).collect()
    }
    let cpu = ranked(
        nodes
            .iter()
            .map(|n| (n.cpu_percent, n.name.clone(), pct_text(n.cpu_percent)))
            .collect(),
    );
    let memory = ranked(
        nodes
            .iter()
            .map(|n| (n.mem_percent, n.name.clone(), pct_text(n.mem_percent)))
            .collect(),
    );
    let disk = ranked(
        nodes
            .iter()
            .filter_map(|n| n.disk.map(|d| (d.0, n.name.clone(), d)))
            .collect(),
    )
    .into_iter()
    .map(|(n, (p, total, used))| (n, pct_text(p), total, used))
    .collect();
    let nic = ranked(
        nodes
            .iter()
            .filter_map(|n| n.nic.map(|x| (x.0 as f64, n.name.clone(), x)))
            .collect(),
    )
    .into_iter()
    .map(|(n, (avg, max))| (n, avg, max))
    .collect();
    TopData {
        utc,
        cpu,
        memory,
        disk,
        nic,
    }
}

/// A figure a chart can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Cpu,
    CpuUser,
    CpuSystem,
    Memory,
    MemoryUsed,
    NicUp,
    NicDown,
    DiskRead,
    DiskWrite,
    DiskUsed,
    Disk,
    Load1,
}

pub const METRICS: [(&str, Metric, &str); 12] = [
    ("cpu", Metric::Cpu, "percent"),
    ("cpu_user", Metric::CpuUser, "percent"),
    ("cpu_system", Metric::CpuSystem, "percent"),
    ("memory", Metric::Memory, "percent"),
    ("memory_used", Metric::MemoryUsed, "bytes"),
    ("nic_up", Metric::NicUp, "bytes/s"),
    ("nic_down", Metric::NicDown, "bytes/s"),
    ("disk_read", Metric::DiskRead, "bytes/s"),
    ("disk_write", Metric::DiskWrite, "bytes/s"),
    ("disk_used", Metric::DiskUsed, "bytes"),
    ("disk", Metric::Disk, "percent"),
    ("load1", Metric::Load1, "load"),
];

impl Metric {
    pub fn parse(text: &str) -> Result<Metric> {
        METRICS
            .iter()
            .find(|(n, _, _)| *n == text)
            .map(|(_, m, _)| *m)
            .ok_or_else(|| {
                let names: Vec<&str> = METRICS.iter().map(|(n, _, _)| *n).collect();
                Error::invalid(
                    "metric",
                    format!("`{text}` is not one of {}", names.join(", ")),
                )
            })
    }

    pub fn name(self) -> &'static str {
        METRICS
            .iter()
            .find(|(_, m, _)| *m == self)
            .map_or("", |x| x.0)
    }

    pub fn unit(self) -> &'static str {
        METRICS
            .iter()
            .find(|(_, m, _)| *m == self)
            .map_or("", |x| x.2)
    }

    /// NIC and disk figures are per device.
    pub fn per_device(self) -> bool {
        matches!(
            self,
            Metric::NicUp
                | Metric::NicDown
                | Metric::DiskRead
                | Metric::DiskWrite
                | Metric::DiskUsed
                | Metric::Disk
        )
    }

    /// The figure in `s` (average, highest), or `None` when the sample has
    /// no such device.
    pub fn value(self, s: &Sample, device: &str) -> Option<(f64, f64)> {
        let same = |v: f64| Some((v, v));
        match self {
            Metric::Cpu => same(s.cpu.percent),
            Metric::CpuUser => same(s.cpu.user),
            Metric::CpuSystem => same(s.cpu.system),
            Metric::Memory => same(s.mem.percent),
            Metric::MemoryUsed => same(s.mem.used as f64),
            Metric::Load1 => same(s.load[0]),
            Metric::NicUp => s.nic(device).map(|n| (n.up, n.up_max)),
            Metric::NicDown => s.nic(device).map(|n| (n.down, n.down_max)),
            Metric::DiskRead => s.disk(device).map(|d| (d.read_rate, d.read_rate)),
            Metric::DiskWrite => s.disk(device).map(|d| (d.write_rate, d.write_rate)),
            Metric::DiskUsed => s.disk(device).map(|d| (d.used as f64, d.used as f64)),
            Metric::Disk => s.disk(device).map(|d| (d.percent(), d.percent())),
        }
    }
}

/// One point of a series: bucket start, span-weighted average, highest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub t: i64,
    pub avg: f64,
    pub max: f64,
}

/// The latest time a history window may name: 9999-12-31T23:59:59Z.
pub const MAX_TIME: i64 = 253_402_300_799;

/// Checks a history window and returns `(start, end, step)`: Unix seconds
/// from 0 to `MAX_TIME`, `start` before `end`, at most `MAX_POINTS` steps.
pub fn window_check(start: i64, end: i64, step: i64) -> Result<(i64, i64, i64)> {
    for (field, t) in [("start", start), ("end", end)] {
        if !(0..=MAX_TIME).contains(&t) {
            return Err(Error::invalid(
                field,
                format!("{t} is not Unix seconds from 0 to {MAX_TIME}"),
            ));
        }
    }
    if start >= end {
        return Err(Error::invalid(
            "start",
            format!("{start} is not before `end` {end}"),
        ));
    }
    if step < 1 {
        return Err(Error::invalid(
            "step",
            format!("{step} is not a positive number of seconds"),
        ));
    }
    let span = end - start;
    let steps = |step: i64| span / step + i64::from(span % step != 0);
    if steps(step) > MAX_POINTS {
        return Err(Error::invalid(
            "step",
            format!(
                "{step} s over {span} s makes more than {MAX_POINTS} points; use a step of at least {} s",
                steps(MAX_POINTS)
            ),
        ));
    }
    Ok((start, end, step))
}

/// Buckets time-ordered samples into `step`-second points from `start`;
/// buckets without data are left out (a chart draws the gap).
pub fn series(samples: &[Sample], m: Metric, device: &str, start: i64, step: i64) -> Vec<Point> {
    let mut out: Vec<(Point, f64)> = Vec::new();
    for s in samples {
        let Some((avg, max)) = m.value(s, device) else {
            continue;
        };
        let t = start + (s.start - start).div_euclid(step) * step;
        let w = s.span_s.max(1) as f64;
        match out.last_mut() {
            Some((p, weight)) if p.t == t => {
                p.avg += avg * w;
                *weight += w;
                p.max = p.max.max(max);
            }
            _ => out.push((
                Point {
                    t,
                    avg: avg * w,
                    max,
                },
                w,
            )),
        }
    }
    out.into_iter()
        .map(|(mut p, w)| {
            p.avg /= w;
            p
        })
        .collect()
}

/// `GET /api/v1.0/monitor/?node_uuid=&metric=&device=&start=&end=&step=`.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryQuery {
    pub node: Uuid,
    pub metric: Metric,
    pub device: Option<String>,
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

pub const HISTORY_FIELDS: &[&str] = &["node_uuid", "metric", "device", "start", "end", "step"];

impl HistoryQuery {
    /// Parses the query; the window defaults to the last hour ending `now`
    /// and the step to one that gives about 120 points (at least 30 s).
    pub fn parse(pairs: &[(String, String)], now: i64) -> Result<HistoryQuery> {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, _)| !HISTORY_FIELDS.contains(&k.as_str()))
        {
            return Err(Error::new(
                crate::error::Code::UnknownField,
                format!(
                    "Query parameter `{k}` is not accepted here (expected one of {})",
                    HISTORY_FIELDS.join(", ")
                ),
            ));
        }
        let int = |k: &str| -> Result<Option<i64>> {
            get(k)
                .map(|v| {
                    v.trim()
                        .parse::<i64>()
                        .map_err(|_| Error::invalid(k, format!("`{v}` is not a whole number")))
                })
                .transpose()
        };
        let node_text = get("node_uuid").ok_or_else(|| Error::missing("node_uuid"))?;
        let node = crate::domain::text::uuid("node_uuid", node_text)?;
        let metric = Metric::parse(get("metric").unwrap_or("cpu"))?;
        let end = int("end")?.unwrap_or(now);
        let start = int("start")?.unwrap_or(end.saturating_sub(3600));
        let step = match int("step")? {
            Some(s) => s,
            None => {
                // Any two i64 apart fit an i128; window_check refuses the
                // window itself when it is out of range.
                let span = (end as i128 - start as i128).max(0);
                i64::try_from(((span / 120).max(30) + 29) / 30 * 30).unwrap_or(i64::MAX)
            }
        };
        let (start, end, step) = window_check(start, end, step)?;
        let device = get("device").map(str::to_string).filter(|d| !d.is_empty());
        Ok(HistoryQuery {
            node,
            metric,
            device,
            start,
            end,
            step,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::monitor::{Cpu, Disk, Mem, Nic};

    fn fig(name: &str, cpu: f64, mem: f64, disk: Option<f64>, nic: Option<u64>) -> NodeFigures {
        NodeFigures {
            name: name.into(),
            cpu_percent: cpu,
            mem_percent: mem,
            disk: disk.map(|p| (p, 1000, (p * 10.0) as u64)),
            nic: nic.map(|n| (n, n * 2)),
        }
    }

    #[test]
    fn statis_period_edges() {
        for bad in [-5, 0, 1, 60, 61] {
            let e = period_check(bad).unwrap_err();
            assert!(e.public_message().contains("statis_period"), "{bad}");
        }
        assert_eq!(period_check(2).unwrap(), 2);
        assert_eq!(period_check(59).unwrap(), 59);
    }

    #[test]
    fn top_five_sorted_descending_with_two_decimals() {
        let nodes: Vec<NodeFigures> = (0..7)
            .map(|i| {
                fig(
                    &format!("n{i}"),
                    i as f64 * 10.0 + 0.456,
                    70.0 - i as f64,
                    (i % 2 == 0).then_some(i as f64),
                    (i != 3).then_some(i as u64 * 100),
                )
            })
            .collect();
        let t = top_data(1588820301, &nodes);
        assert_eq!(t.utc, 1588820301);
        let names = |v: Vec<String>| v.join(",");
        assert_eq!(
            names(t.cpu.iter().map(|x| x.0.clone()).collect()),
            "n6,n5,n4,n3,n2"
        );
        assert_eq!(t.cpu[0].1, "60.46");
        assert_eq!(t.memory[0], ("n0".to_string(), "70.00".to_string()));
        assert_eq!(t.memory.len(), TOP);
        // Only nodes with a desktop storage, and a management NIC.
        assert_eq!(
            names(t.disk.iter().map(|x| x.0.clone()).collect()),
            "n6,n4,n2,n0"
        );
        assert_eq!(t.disk[0], ("n6".into(), "6.00".into(), 1000, 60));
        assert_eq!(t.nic[0], ("n6".into(), 600, 1200));
        assert!(!t.nic.iter().any(|x| x.0 == "n3"));
        // Ties break by name; nothing at all is empty lists.
        let tie = top_data(
            0,
            &[
                fig("b", 5.0, 5.0, None, None),
                fig("a", 5.0, 5.0, None, None),
            ],
        );
        assert_eq!(tie.cpu[0].0, "a");
        let none = top_data(0, &[]);
        assert!(none.cpu.is_empty() && none.disk.is_empty() && none.nic.is_empty());
        assert_eq!(pct_text(100.0004), "100.00");
    }

    fn sample(start: i64, span: u32, cpu: f64) -> Sample {
        Sample {
            start,
            span_s: span,
            cpu: Cpu {
                percent: cpu,
                ..Cpu::default()
            },
            mem: Mem::default(),
            nics: vec![Nic {
                name: "eth0".into(),
                up: cpu,
                up_max: cpu * 2.0,
                ..Nic::default()
            }],
            disks: vec![Disk {
                name: "sda".into(),
                total: 200,
                used: 50,
                ..Disk::default()
            }],
            ..Sample::default()
        }
    }

    #[test]
    fn series_bucket_by_step() {
        let v: Vec<Sample> = (0..6).map(|i| sample(i * 30, 30, i as f64)).collect();
        let p = series(&v, Metric::Cpu, "", 0, 60);
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].t, p[0].avg, p[0].max), (0, 0.5, 1.0));
        let up = series(&v, Metric::NicUp, "eth0", 0, 180);
        assert_eq!((up[0].avg, up[0].max), (2.5, 10.0));
        assert!(series(&v, Metric::NicUp, "eth9", 0, 60).is_empty());
        assert_eq!(series(&v, Metric::Disk, "sda", 0, 60)[0].avg, 25.0);
        // A coarse bucket weighs by its span.
        let mixed = [sample(0, 600, 10.0), sample(600, 30, 40.0)];
        let p = series(&mixed, Metric::Cpu, "", 0, 3600);
        assert!((p[0].avg - (10.0 * 600.0 + 40.0 * 30.0) / 630.0).abs() < 1e-9);
    }

    #[test]
    fn history_windows() {
        assert!(window_check(10, 10, 30).is_err());
        assert!(window_check(0, 100, 0).is_err());
        let e = window_check(0, 8 * 86_400, 30).unwrap_err();
        assert!(e.public_message().contains("step"));
        assert_eq!(window_check(0, 3600, 30).unwrap(), (0, 3600, 30));
        // Extremes are refused, not overflowed.
        assert!(window_check(i64::MIN, i64::MAX, 1).is_err());
        assert!(window_check(-1, 3600, 30).is_err());
        assert!(window_check(0, MAX_TIME + 1, 30).is_err());
        assert_eq!(
            window_check(0, 3600, i64::MAX).unwrap(),
            (0, 3600, i64::MAX)
        );
        assert_eq!(Metric::parse("nic_up").unwrap(), Metric::NicUp);
        assert!(Metric::parse("gpu")
            .unwrap_err()
            .public_message()
            .contains("metric"));
        assert_eq!(Metric::DiskUsed.unit(), "bytes");
    }
}
