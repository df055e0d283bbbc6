//! Host monitoring figures: raw counter readings, the rates between two of
//! them (counter resets included), spans of figures (an instant of a few
//! seconds, a 30-second aggregate, a downsampled bucket) and how spans
//! combine into longer ones.

use std::collections::BTreeMap;

use super::net::IfAddr;

/// The span of one report (file 000 `half_min_monitor`).
pub const HALF_MIN_S: i64 = 30;
/// The span samples older than the full-resolution window are merged into.
pub const COARSE_S: i64 = 600;
/// At most this many NICs and disks per sample (a node with hundreds of
/// tap devices must not make samples unbounded).
pub const MAX_DEVICES: usize = 64;

/// Cumulative CPU time in clock ticks (`/proc/stat`'s first line).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuTicks {
    pub user: u64,
    pub system: u64,
    pub idle: u64,
    pub total: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NicCounters {
    pub name: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub speed_mbps: Option<u32>,
    pub ipv4: Vec<IfAddr>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiskCounters {
    /// The block device (`sda1`, `nvme0n1p2`).
    pub name: String,
    pub mount: String,
    pub read_bytes: u64,
    pub written_bytes: u64,
    pub total: u64,
    pub used: u64,
}

/// What the host says at one moment: counters and gauges.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    pub at_ms: i64,
    pub cpu: CpuTicks,
    /// The sampler's own CPU figure since its previous refresh, if any.
    pub cpu_percent: Option<f64>,
    pub mem: Mem,
    pub nics: Vec<NicCounters>,
    pub disks: Vec<DiskCounters>,
    pub load: [f64; 3],
    pub uptime_s: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cpu {
    pub user: f64,
    pub system: f64,
    pub idle: f64,
    pub percent: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mem {
    pub total: u64,
    pub used: u64,
    pub free: u64,
    pub percent: f64,
}

/// A NIC over a span: byte rates (`up` sent, `down` received), averages and
/// the highest rate seen within the span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Nic {
    pub name: String,
    pub speed_mbps: Option<u32>,
    pub up: f64,
    pub down: f64,
    pub up_max: f64,
    pub down_max: f64,
    pub ipv4: Vec<IfAddr>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Disk {
    pub name: String,
    pub mount: String,
    pub read_rate: f64,
    pub write_rate: f64,
    pub total: u64,
    pub used: u64,
}

impl Disk {
    pub fn percent(&self) -> f64 {
        percent_of(self.used, self.total)
    }
}

/// A node's figures over `[start, start + span_s)` (Unix seconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub start: i64,
    pub span_s: u32,
    pub cpu: Cpu,
    pub mem: Mem,
    pub nics: Vec<Nic>,
    pub disks: Vec<Disk>,
    pub load: [f64; 3],
    pub uptime_s: u64,
}

impl Sample {
    pub fn end(&self) -> i64 {
        self.start + self.span_s as i64
    }

    pub fn nic(&self, name: &str) -> Option<&Nic> {
        self.nics.iter().find(|n| n.name == name)
    }

    pub fn disk(&self, name: &str) -> Option<&Disk> {
        self.disks.iter().find(|d| d.name == name)
    }

    /// The disk holding `path`: the longest mount point that is a path
    /// prefix of it.
    pub fn disk_holding(&self, path: &str) -> Option<&Disk> {
        self.disks
            .iter()
            .filter(|d| is_under(path, &d.mount))
            .max_by_key(|d| d.mount.len())
    }
}

fn is_under(path: &str, mount: &str) -> bool {
    if mount == "/" {
        return path.starts_with('/');
    }
    path == mount
        || path
            .strip_prefix(mount)
            .is_some_and(|rest| rest.starts_with('/'))
}

pub fn percent_of(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 100.0 / whole as f64).clamp(0.0, 100.0)
    }
}

/// How much a counter grew; a counter that went back (a NIC re-created, a
/// driver reloaded, a wrap) restarted from zero, so its new value is the
/// growth since the restart.
pub fn counter_delta(old: u64, new: u64) -> u64 {
    if new >= old {
        new - old
    } else {
        new
    }
}

/// Start of the `span`-second window holding second `t`.
pub fn window_start(t: i64, span: i64) -> i64 {
    t.div_euclid(span) * span
}

/// The figures between two readings, or `None` when time did not advance.
/// The instant covers `[prev.at, cur.at)`, rounded to whole seconds.
pub fn between(prev: &Reading, cur: &Reading) -> Option<Sample> {
    let dt_ms = cur.at_ms - prev.at_ms;
    if dt_ms <= 0 {
        return None;
    }
    let secs = dt_ms as f64 / 1000.0;
    let rate = |old: u64, new: u64| counter_delta(old, new) as f64 / secs;
    let total = counter_delta(prev.cpu.total, cur.cpu.total);
    let share = |old: u64, new: u64| {
        if total == 0 {
            0.0
        } else {
            (counter_delta(old, new) as f64 * 100.0 / total as f64).clamp(0.0, 100.0)
        }
    };
    let idle = if total == 0 {
        100.0
    } else {
        share(prev.cpu.idle, cur.cpu.idle)
    };
    let cpu = Cpu {
        user: share(prev.cpu.user, cur.cpu.user),
        system: share(prev.cpu.system, cur.cpu.system),
        idle,
        percent: cur
            .cpu_percent
            .filter(|p| p.is_finite())
            .unwrap_or(100.0 - idle)
            .clamp(0.0, 100.0),
    };
    let nics = cur
        .nics
        .iter()
        .take(MAX_DEVICES)
        .map(|n| {
            let old = prev.nics.iter().find(|o| o.name == n.name);
            let (up, down) = old.map_or((0.0, 0.0), |o| {
                (rate(o.tx_bytes, n.tx_bytes), rate(o.rx_bytes, n.rx_bytes))
            });
            Nic {
                name: n.name.clone(),
                speed_mbps: n.speed_mbps,
                up,
                down,
                up_max: up,
                down_max: down,
                ipv4: n.ipv4.clone(),
            }
        })
        .collect();
    let disks = cur
        .disks
        .iter()
        .take(MAX_DEVICES)
        .map(|d| {
            let old = prev.disks.iter().find(|o| o.name == d.name);
            let (read_rate, write_rate) = old.map_or((0.0, 0.0), |o| {
                (
                    rate(o.read_bytes, d.read_bytes),
                    rate(o.written_bytes, d.written_bytes),
                )
            });
            Disk {
                name: d.name.clone(),
                mount: d.mount.clone(),
                read_rate,
                write_rate,
                total: d.total,
                used: d.used.min(d.total),
            }
        })
        .collect();
    let start = prev.at_ms.div_euclid(1000);
    Some(Sample {
        start,
        span_s: ((cur.at_ms.div_euclid(1000) - start).max(1)) as u32,
        cpu,
        mem: cur.mem,
        nics,
        disks,
        load: cur.load,
        uptime_s: cur.uptime_s,
    })
}

/// Running weighted sums of one figure: the span-weighted average and the
/// highest value.
#[derive(Clone, Copy, Default)]
struct Acc {
    sum: f64,
    weight: f64,
    max: f64,
}

impl Acc {
    fn add(&mut self, v: f64, max: f64, w: f64) {
        self.sum += v * w;
        self.weight += w;
        self.max = self.max.max(max);
    }
    fn avg(&self) -> f64 {
        if self.weight == 0.0 {
            0.0
        } else {
            self.sum / self.weight
        }
    }
}

/// Merges spans into one covering `[start, start + span_s)`: averages
/// weighted by each part's span, maxima of the maxima, and the latest value
/// of gauges that are levels rather than rates (totals, sizes, addresses).
/// `None` for no parts.
pub fn combine(parts: &[Sample], start: i64, span_s: u32) -> Option<Sample> {
    let last = parts.iter().max_by_key(|s| s.end())?;
    let mut cpu = [Acc::default(); 4];
    let (mut used, mut free, mut mem_pct) = (Acc::default(), Acc::default(), Acc::default());
    let mut load = [Acc::default(); 3];
    let mut nics: BTreeMap<&str, (Acc, Acc, &Nic)> = BTreeMap::new();
    let mut disks: BTreeMap<&str, (Acc, Acc, &Disk)> = BTreeMap::new();
    for p in parts {
        let w = p.span_s.max(1) as f64;
        for (a, v) in cpu
            .iter_mut()
            .zip([p.cpu.user, p.cpu.system, p.cpu.idle, p.cpu.percent])
        {
            a.add(v, v, w);
        }
        used.add(p.mem.used as f64, 0.0, w);
        free.add(p.mem.free as f64, 0.0, w);
        mem_pct.add(p.mem.percent, 0.0, w);
        for (a, v) in load.iter_mut().zip(p.load) {
            a.add(v, v, w);
        }
        for n in &p.nics {
            let e = nics
                .entry(&n.name)
                .or_insert((Acc::default(), Acc::default(), n));
            e.0.add(n.up, n.up_max, w);
            e.1.add(n.down, n.down_max, w);
            if p.end() >= last.end() {
                e.2 = n;
            }
        }
        for d in &p.disks {
            let e = disks
                .entry(&d.name)
                .or_insert((Acc::default(), Acc::default(), d));
            e.0.add(d.read_rate, 0.0, w);
            e.1.add(d.write_rate, 0.0, w);
            if p.end() >= last.end() {
                e.2 = d;
            }
        }
    }
    Some(Sample {
        start,
        span_s,
        cpu: Cpu {
            user: cpu[0].avg(),
            system: cpu[1].avg(),
            idle: cpu[2].avg(),
            percent: cpu[3].avg(),
        },
        mem: Mem {
            total: last.mem.total,
            used: used.avg().round() as u64,
            free: free.avg().round() as u64,
            percent: mem_pct.avg(),
        },
        nics: nics
            .into_values()
            .map(|(up, down, n)| Nic {
                name: n.name.clone(),
                speed_mbps: n.speed_mbps,
                up: up.avg(),
                down: down.avg(),
                up_max: up.max,
                down_max: down.max,
                ipv4: n.ipv4.clone(),
            })
            .collect(),
        disks: disks
            .into_values()
            .map(|(r, w, d)| Disk {
                read_rate: r.avg(),
                write_rate: w.avg(),
                ..d.clone()
            })
            .collect(),
        load: [load[0].avg(), load[1].avg(), load[2].avg()],
        uptime_s: last.uptime_s,
    })
}

/// Groups time-ordered samples older than `before` into `bucket`-second
/// buckets and merges every bucket that holds more than one sample or a
/// sample shorter than the bucket. Returns, per merged bucket, the starts
/// of the samples it replaces and the merged sample.
pub fn downsample(samples: &[Sample], before: i64, bucket: i64) -> Vec<(Vec<i64>, Sample)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < samples.len() {
        let b = window_start(samples[i].start, bucket);
        let mut j = i;
        while j < samples.len() && window_start(samples[j].start, bucket) == b {
            j += 1;
        }
        let run = &samples[i..j];
        let done = run.len() == 1 && run[0].start == b && run[0].span_s as i64 == bucket;
        if b + bucket <= before && !done {
            if let Some(m) = combine(run, b, bucket as u32) {
                out.push((run.iter().map(|s| s.start).collect(), m));
            }
        }
        i = j;
    }
    out
}

/// What is wrong with a reported sample, as `(field path, reason)`.
pub fn sample_problem(s: &Sample) -> Option<(String, String)> {
    let pct = |field: &str, v: f64| {
        (!(0.0..=100.0).contains(&v) || !v.is_finite()).then(|| {
            (
                field.to_string(),
                format!("{v} is not a percentage from 0 to 100"),
            )
        })
    };
    let rate = |field: String, v: f64| {
        (!(v >= 0.0 && v.is_finite())).then(|| {
            (
                field,
                format!("{v} is not a rate of zero or more bytes per second"),
            )
        })
    };
    pct("data.cpu.user", s.cpu.user)
        .or_else(|| pct("data.cpu.system", s.cpu.system))
        .or_else(|| pct("data.cpu.idle", s.cpu.idle))
        .or_else(|| pct("data.cpu.percent", s.cpu.percent))
        .or_else(|| pct("data.mem.percent", s.mem.percent))
        .or_else(|| {
            (s.mem.used > s.mem.total).then(|| {
                (
                    "data.mem.used".into(),
                    format!("{} is more than `total` {}", s.mem.used, s.mem.total),
                )
            })
        })
        .or_else(|| {
            (s.mem.free > s.mem.total).then(|| {
                (
                    "data.mem.free".into(),
                    format!("{} is more than `total` {}", s.mem.free, s.mem.total),
                )
            })
        })
        .or_else(|| {
            s.nics.iter().find_map(|n| {
                let f = |k: &str| format!("data.net.{}.{k}", n.name);
                rate(f("up"), n.up)
                    .or_else(|| rate(f("down"), n.down))
                    .or_else(|| rate(f("up_max"), n.up_max))
                    .or_else(|| rate(f("down_max"), n.down_max))
            })
        })
        .or_else(|| {
            s.disks.iter().find_map(|d| {
                let f = |k: &str| format!("data.disk.{}.{k}", d.name);
                rate(f("read_rate"), d.read_rate)
                    .or_else(|| rate(f("write_rate"), d.write_rate))
                    .or_else(|| {
                        (d.used > d.total).then(|| {
                            (
                                f("used"),
                                format!("{} is more than `total` {}", d.used, d.total),
                            )
                        })
                    })
            })
        })
        .or_else(|| {
            s.load
                .iter()
                .any(|l| !(*l >= 0.0 && l.is_finite()))
                .then(|| {
                    (
                        "data.load".into(),
                        "load averages are zero or more".to_string(),
                    )
                })
        })
}

/// A validated report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub node: uuid::Uuid,
    pub name: String,
    pub sample: Sample,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(at_ms: i64, busy: u64, idle: u64, rx: u64, tx: u64) -> Reading {
        Reading {
            at_ms,
            cpu: CpuTicks {
                user: busy * 3 / 4,
                system: busy / 4,
                idle,
                total: busy + idle,
            },
            cpu_percent: None,
            mem: Mem {
                total: 1000,
                used: 250,
                free: 700,
                percent: 25.0,
            },
            nics: vec![NicCounters {
                name: "eth0".into(),
                rx_bytes: rx,
                tx_bytes: tx,
                speed_mbps: Some(1000),
                ipv4: vec![],
            }],
            disks: vec![DiskCounters {
                name: "sda1".into(),
                mount: "/opt/slow".into(),
                read_bytes: rx * 2,
                written_bytes: tx * 2,
                total: 100,
                used: 40,
            }],
            load: [0.5, 0.25, 0.1],
            uptime_s: 99,
        }
    }

    #[test]
    fn rates_between_readings() {
        let a = reading(10_000, 100, 300, 1_000, 500);
        let b = reading(15_000, 200, 600, 6_000, 3_000);
        let s = between(&a, &b).unwrap();
        assert_eq!((s.start, s.span_s), (10, 5));
        // 100 busy of 400 ticks: 25 %, of which 3/4 user.
        assert!((s.cpu.percent - 25.0).abs() < 1e-9, "{}", s.cpu.percent);
        assert!((s.cpu.user - 18.75).abs() < 1e-9);
        assert!((s.cpu.idle - 75.0).abs() < 1e-9);
        let n = s.nic("eth0").unwrap();
        assert_eq!((n.down, n.up), (1000.0, 500.0));
        let d = s.disk("sda1").unwrap();
        assert_eq!((d.read_rate, d.write_rate), (2000.0, 1000.0));
        assert!(between(&b, &a).is_none(), "time going back is no instant");
        assert!(between(&a, &a).is_none());
    }

    #[test]
    fn counter_resets_count_from_zero() {
        assert_eq!(counter_delta(100, 150), 50);
        assert_eq!(counter_delta(1_000_000, 400), 400);
        // A NIC recreated between readings: its counters restarted.
        let a = reading(0, 100, 100, 9_000_000, 9_000_000);
        let b = reading(2_000, 200, 200, 2_000, 1_000);
        let n = between(&a, &b).unwrap().nics[0].clone();
        assert_eq!((n.down, n.up), (1000.0, 500.0));
        // No CPU ticks passed: idle, never a division by zero.
        let c = reading(4_000, 200, 200, 2_000, 1_000);
        let s = between(&b, &c).unwrap();
        assert_eq!((s.cpu.percent, s.cpu.idle), (0.0, 100.0));
        // A NIC seen for the first time has no rate yet.
        let mut d = c.clone();
        d.at_ms = 6_000;
        d.nics[0].name = "eth1".into();
        assert_eq!(between(&c, &d).unwrap().nics[0].up, 0.0);
    }

    fn inst(start: i64, span: u32, cpu: f64, up: f64) -> Sample {
        Sample {
            start,
            span_s: span,
            cpu: Cpu {
                user: cpu,
                system: 0.0,
                idle: 100.0 - cpu,
                percent: cpu,
            },
            mem: Mem {
                total: 100,
                used: cpu as u64,
                free: 100 - cpu as u64,
                percent: cpu,
            },
            nics: vec![Nic {
                name: "eth0".into(),
                up,
                down: up / 2.0,
                up_max: up,
                down_max: up / 2.0,
                ..Nic::default()
            }],
            disks: vec![Disk {
                name: "sda1".into(),
                mount: "/".into(),
                read_rate: up,
                write_rate: 0.0,
                total: 10,
                used: start as u64 % 10,
            }],
            load: [cpu / 100.0; 3],
            uptime_s: start as u64,
        }
    }

    #[test]
    fn combining_weights_by_span_and_keeps_maxima() {
        let parts = [inst(0, 10, 10.0, 100.0), inst(10, 20, 40.0, 400.0)];
        let s = combine(&parts, 0, 30).unwrap();
        assert_eq!((s.start, s.span_s), (0, 30));
        assert!((s.cpu.percent - 30.0).abs() < 1e-9);
        let n = s.nic("eth0").unwrap();
        assert!((n.up - 300.0).abs() < 1e-9);
        assert_eq!(n.up_max, 400.0);
        // Levels are the latest part's.
        assert_eq!(s.disk("sda1").unwrap().used, 0);
        assert_eq!(s.uptime_s, 10);
        assert!(combine(&[], 0, 30).is_none());
    }

    #[test]
    fn downsampling_merges_old_buckets_only_once() {
        let mut v: Vec<Sample> = (0..60).map(|i| inst(i * 30, 30, i as f64, 10.0)).collect();
        // 0..1800 s: three 600 s buckets; only the first two end before 1500.
        let merged = downsample(&v, 1500, 600);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].0.len(), 20);
        assert_eq!((merged[0].1.start, merged[0].1.span_s), (0, 600));
        assert!((merged[0].1.cpu.percent - 9.5).abs() < 1e-9);
        assert_eq!(merged[1].1.start, 600);
        // Applied, a second pass finds nothing to do.
        v.drain(0..40);
        v.insert(0, merged[1].1.clone());
        v.insert(0, merged[0].1.clone());
        assert!(downsample(&v, 1500, 600).is_empty());
        // A lone short sample in an old bucket is widened.
        let lone = [inst(1210, 30, 5.0, 1.0)];
        let m = downsample(&lone, 5000, 600);
        assert_eq!(m[0].0, vec![1210]);
        assert_eq!(m[0].1.start, 1200);
    }

    #[test]
    fn bad_samples_name_their_field() {
        let ok = inst(0, 30, 10.0, 5.0);
        assert_eq!(sample_problem(&ok), None);
        let mut s = ok.clone();
        s.cpu.percent = 101.0;
        assert_eq!(sample_problem(&s).unwrap().0, "data.cpu.percent");
        let mut s = ok.clone();
        s.mem.used = 1000;
        assert_eq!(sample_problem(&s).unwrap().0, "data.mem.used");
        let mut s = ok.clone();
        s.nics[0].down = f64::NAN;
        assert_eq!(sample_problem(&s).unwrap().0, "data.net.eth0.down");
        let mut s = ok;
        s.disks[0].used = 11;
        assert_eq!(sample_problem(&s).unwrap().0, "data.disk.sda1.used");
    }

    #[test]
    fn the_disk_holding_a_path() {
        let mut s = inst(0, 30, 1.0, 1.0);
        s.disks.push(Disk {
            name: "sdb1".into(),
            mount: "/opt/slow".into(),
            ..Disk::default()
        });
        assert_eq!(s.disk_holding("/opt/slow/instances").unwrap().name, "sdb1");
        assert_eq!(s.disk_holding("/opt/slowly").unwrap().name, "sda1");
        assert_eq!(s.disk_holding("/opt/slow").unwrap().name, "sdb1");
    }
}
