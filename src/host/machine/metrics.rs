//! The real adapter of the `HostMetrics` port: one long-lived sysinfo
//! sampler (memory, NIC counters and addresses, filesystems and their I/O,
//! load, uptime, CPU usage between refreshes) plus `/proc/stat` for the
//! user/system split and sysfs for link speeds, which sysinfo lacks.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use sysinfo::{Disks, Networks, System};

use crate::domain::monitor::{CpuTicks, DiskCounters, Mem, NicCounters, Reading, MAX_DEVICES};
use crate::domain::net::IfAddr;
use crate::error::{Error, Result};
use crate::host::clock::system_ms;
use crate::host::metrics::HostMetrics;
use crate::host::BoxFuture;

const PROC_STAT: &str = "/proc/stat";

struct Sampler {
    sys: System,
    nets: Networks,
    disks: Disks,
    /// Whether `sys` has refreshed CPU usage before (its first figure is 0).
    cpu_primed: bool,
}

/// This machine, sampled by one sysinfo instance kept between readings.
#[derive(Clone)]
pub struct MachineMetrics {
    sampler: Arc<Mutex<Sampler>>,
}

impl MachineMetrics {
    pub fn new() -> MachineMetrics {
        MachineMetrics {
            sampler: Arc::new(Mutex::new(Sampler {
                sys: System::new(),
                nets: Networks::new(),
                disks: Disks::new(),
                cpu_primed: false,
            })),
        }
    }
}

impl Default for MachineMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl HostMetrics for MachineMetrics {
    fn read(&self) -> BoxFuture<'_, Result<Reading>> {
        let sampler = self.sampler.clone();
        Box::pin(async move {
            smol::unblock(move || {
                let mut s = sampler.lock().map_err(Error::internal)?;
                read(&mut s)
            })
            .await
        })
    }
}

fn read(s: &mut Sampler) -> Result<Reading> {
    let stat = fs::read_to_string(PROC_STAT)
        .map_err(|e| Error::internal(format!("cannot read {PROC_STAT}: {e}")))?;
    let cpu = cpu_ticks(&stat)
        .ok_or_else(|| Error::internal(format!("{PROC_STAT} has no `cpu` line")))?;
    s.sys.refresh_cpu_usage();
    let cpu_percent = s
        .cpu_primed
        .then(|| s.sys.global_cpu_usage() as f64)
        .filter(|p| p.is_finite());
    s.cpu_primed = true;
    s.sys.refresh_memory();
    let (total, used) = (s.sys.total_memory(), s.sys.used_memory());
    let mem = Mem {
        total,
        used: used.min(total),
        free: s.sys.free_memory().min(total),
        percent: crate::domain::monitor::percent_of(used, total),
    };
    s.nets.refresh(true);
    let mut nics: Vec<NicCounters> = s
        .nets
        .list()
        .iter()
        .filter(|(name, _)| counted_nic(name))
        .map(|(name, d)| NicCounters {
            name: name.clone(),
            rx_bytes: d.total_received(),
            tx_bytes: d.total_transmitted(),
            speed_mbps: link_speed(name),
            ipv4: d
                .ip_networks()
                .iter()
                .filter_map(|n| match n.addr {
                    IpAddr::V4(ip) => Some(IfAddr {
                        ip,
                        prefix: n.prefix,
                    }),
                    IpAddr::V6(_) => None,
                })
                .collect(),
        })
        .collect();
    nics.sort_by(|a, b| a.name.cmp(&b.name));
    nics.truncate(MAX_DEVICES);
    s.disks.refresh(true);
    // One entry per block device, at its shortest mount point: bind mounts
    // of the same filesystem report the same sizes.
    let mut disks: BTreeMap<String, DiskCounters> = BTreeMap::new();
    for d in s.disks.list() {
        let dev = d.name().to_string_lossy();
        let Some(name) = dev.strip_prefix("/dev/") else {
            continue;
        };
        let name = name.rsplit('/').next().unwrap_or(name).to_string();
        let mount = d.mount_point().to_string_lossy().into_owned();
        if disks
            .get(&name)
            .is_some_and(|old| old.mount.len() <= mount.len())
        {
            continue;
        }
        let u = d.usage();
        let total = d.total_space();
        disks.insert(
            name.clone(),
            DiskCounters {
                name,
                mount,
                read_bytes: u.total_read_bytes,
                written_bytes: u.total_written_bytes,
                total,
                used: total.saturating_sub(d.available_space()),
            },
        );
    }
    let load = System::load_average();
    Ok(Reading {
        at_ms: system_ms(),
        cpu,
        cpu_percent,
        mem,
        nics,
        disks: disks.into_values().take(MAX_DEVICES).collect(),
        load: [load.one, load.five, load.fifteen],
        uptime_s: System::uptime(),
    })
}

/// NICs worth a figure: not loopback, not libvirt's per-desktop taps.
fn counted_nic(name: &str) -> bool {
    name != "lo" && !name.starts_with("vnet")
}

fn link_speed(nic: &str) -> Option<u32> {
    let text = fs::read_to_string(format!("/sys/class/net/{nic}/speed")).ok()?;
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|s| *s > 0)
        .map(|s| s as u32)
}

/// The aggregate `cpu` line of `/proc/stat`: user+nice, system+irq+softirq,
/// idle+iowait, and the total of the first eight fields (guest time is
/// already inside user).
fn cpu_ticks(stat: &str) -> Option<CpuTicks> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    Some(CpuTicks {
        user: at(0) + at(1),
        system: at(2) + at(5) + at(6),
        idle: at(3) + at(4),
        total: (0..8).map(at).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_cpu_line() {
        let t =
            cpu_ticks("cpu  10 2 30 400 5 6 7 8 9 10\ncpu0 1 1 1 1 1 1 1 1 1 1\nintr 5\n").unwrap();
        assert_eq!(
            t,
            CpuTicks {
                user: 12,
                system: 43,
                idle: 405,
                total: 468
            }
        );
        assert!(cpu_ticks("intr 5\n").is_none());
    }

    #[test]
    fn taps_and_loopback_are_not_nics() {
        assert!(!counted_nic("lo"));
        assert!(!counted_nic("vnet12"));
        assert!(counted_nic("eth0"));
        assert!(counted_nic("vdibr-eth0"));
    }
}
