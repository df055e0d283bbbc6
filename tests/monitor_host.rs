//! The real sampler on this machine: sysinfo, /proc and sysfs give
//! plausible figures that agree with /proc/meminfo, /proc/uptime and
//! `ip link`, and the service's top_data shows this host from them.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use vdi_appliance::app::{self, Backends};
use vdi_appliance::domain::monitor::between;
use vdi_appliance::domain::node::Node;
use vdi_appliance::host::machine::metrics::MachineMetrics;
use vdi_appliance::host::metrics::HostMetrics;
use vdi_appliance::service::Settings;
use vdi_appliance::store::Store;

fn mem_total_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = text.lines().find(|l| l.starts_with("MemTotal:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Link names as `ip -o link` prints them (`eth0@if5` → `eth0`), without
/// loopback and libvirt's taps.
fn ip_links() -> BTreeSet<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip (iproute2)");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap().to_string())
        .filter(|n| n != "lo" && !n.starts_with("vnet"))
        .collect()
}

#[test]
fn this_machine_gives_plausible_figures() {
    let m = MachineMetrics::new();
    let a = smol::block_on(m.read()).unwrap();
    // Some CPU work between the readings, so the rates are not all zero.
    let until = std::time::Instant::now() + Duration::from_millis(1100);
    let mut x = 0u64;
    while std::time::Instant::now() < until {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    assert_ne!(x, 1);
    let b = smol::block_on(m.read()).unwrap();
    let s = between(&a, &b).expect("time advanced");
    for (what, v) in [
        ("user", s.cpu.user),
        ("system", s.cpu.system),
        ("idle", s.cpu.idle),
        ("percent", s.cpu.percent),
    ] {
        assert!((0.0..=100.0).contains(&v), "cpu {what} {v}");
    }
    assert!(s.cpu.percent > 0.0, "a busy second shows some CPU use");
    assert!(
        b.cpu_percent.is_some(),
        "the second read has sysinfo's figure"
    );
    assert_eq!(
        b.mem.total,
        mem_total_bytes(),
        "memory total is /proc/meminfo's MemTotal"
    );
    assert!(b.mem.used > 0 && b.mem.used <= b.mem.total);
    assert!(b.mem.free <= b.mem.total);
    assert!((0.0..=100.0).contains(&b.mem.percent));
    let names: BTreeSet<String> = b.nics.iter().map(|n| n.name.clone()).collect();
    assert_eq!(names, ip_links(), "NICs are the links `ip link` shows");
    for n in &s.nics {
        assert!(n.up >= 0.0 && n.down >= 0.0 && n.up.is_finite(), "{n:?}");
    }
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (b.uptime_s as f64 - uptime).abs() < 5.0,
        "{} vs {uptime}",
        b.uptime_s
    );
    assert!(b.load.iter().all(|l| *l >= 0.0));
    for d in &b.disks {
        assert!(d.used <= d.total && d.total > 0, "{d:?}");
        assert!(std::path::Path::new(&d.mount).is_dir(), "{d:?}");
        assert!(
            std::path::Path::new(&format!("/sys/class/block/{}", d.name)).exists(),
            "{d:?}"
        );
    }
}

#[test]
fn the_service_shows_this_host_in_top_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), &Default::default()).unwrap());
    let (fakes, _, _) = app::fake_backends();
    let b = Backends {
        metrics: Arc::new(MachineMetrics::new()),
        ..fakes
    };
    let s = app::services(
        store,
        &b,
        Settings::for_dir(dir.path().to_path_buf()),
        app::global_spawner(),
    );
    let nic = ip_links().into_iter().next().expect("a NIC");
    let mut node = Node::bare(uuid::Uuid::new_v4(), "this-host", "127.0.0.1", 0);
    node.manage_interface = nic.clone();
    s.store.node_put(&node).unwrap();
    s.store.local_node_set(&node.uuid).unwrap();
    for _ in 0..3 {
        let _ = smol::block_on(s.monitor_tick()).unwrap();
        std::thread::sleep(Duration::from_millis(700));
    }
    let t = s.top_data(10).unwrap();
    assert_eq!(t.cpu.len(), 1);
    assert_eq!(t.cpu[0].0, "this-host");
    let cpu: f64 = t.cpu[0].1.parse().unwrap();
    assert!((0.0..=100.0).contains(&cpu), "{cpu}");
    let mem: f64 = t.memory[0].1.parse().unwrap();
    assert!(mem > 0.0 && mem <= 100.0, "{mem}");
    assert_eq!(t.nic.len(), 1, "the management NIC {nic} has figures");
    assert!(t.nic[0].2 >= t.nic[0].1, "max ≥ average");
}
