//! Monitoring benchmark (`make bench-monitor`): 50 nodes reporting every
//! 30 s for a simulated week, with retention running every 10 simulated
//! minutes as the service does; then the release binary serves that store
//! and `wrk` measures `POST /api/v1/index/top_data` against
//! `GET /api/v1/health` (the floor) in the same run. Prints store size,
//! samples kept, resident memory and the latency ratios.
//!
//! Environment: BENCH_NODES (50), BENCH_DAYS (7), BENCH_SECONDS (10),
//! BENCH_CONNS (32).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use vdi_appliance::app;
use vdi_appliance::domain::monitor::{Cpu, Disk, Mem, Nic, Sample};
use vdi_appliance::domain::node::Node;
use vdi_appliance::domain::storage::{Roles, Storage};
use vdi_appliance::host::clock::system_ms as now_ms;
use vdi_appliance::service::Settings;
use vdi_appliance::store::Store;

mod common;
use common::*;

fn sample(start: i64, k: u64) -> Sample {
    let wave = ((start / 30) as u64 * 7 + k * 13) % 100;
    Sample {
        start,
        span_s: 30,
        cpu: Cpu {
            user: wave as f64 * 0.6,
            system: wave as f64 * 0.2,
            idle: 100.0 - wave as f64 * 0.8,
            percent: wave as f64 * 0.8,
        },
        mem: Mem {
            total: 256 << 30,
            used: (256 << 30) * wave / 100,
            free: (256 << 30) * (100 - wave) / 100,
            percent: wave as f64,
        },
        nics: ["eno1", "eno2", "bond0"]
            .iter()
            .map(|n| Nic {
                name: n.to_string(),
                speed_mbps: Some(10_000),
                up: (wave * 12_345) as f64,
                down: (wave * 1_234) as f64,
                up_max: (wave * 20_000) as f64,
                down_max: (wave * 2_000) as f64,
                ipv4: vec![],
            })
            .collect(),
        disks: [("sda2", "/"), ("nvme0n1p1", "/data")]
            .iter()
            .map(|(n, m)| Disk {
                name: n.to_string(),
                mount: m.to_string(),
                read_rate: (wave * 1000) as f64,
                write_rate: (wave * 3000) as f64,
                total: 2 << 40,
                used: (2 << 40) * (wave + 1) / 200,
            })
            .collect(),
        load: [wave as f64 / 10.0, 1.0, 0.5],
        uptime_s: start as u64,
    }
}

/// The store after `days` of reports from `nodes` nodes, retention applied.
fn populate(data: &Path, nodes: u64, days: i64) -> (usize, u64, f64) {
    let store = Arc::new(Store::open(data, &Default::default()).unwrap());
    let (b, _, _) = app::fake_backends();
    let s = app::services(
        store,
        &b,
        Settings::for_dir(data.to_path_buf()),
        app::global_spawner(),
    );
    s.admin_set_password("bench", "bench-password").unwrap();
    let ids: Vec<Node> = (0..nodes)
        .map(|i| {
            let mut n = Node::bare(
                uuid::Uuid::new_v4(),
                &format!("node{i:02}"),
                &format!("10.1.0.{}", i + 10),
                0,
            );
            n.manage_interface = "bond0".into();
            s.store.node_put(&n).unwrap();
            s.store
                .storage_put(&Storage {
                    uuid: uuid::Uuid::new_v4(),
                    node: n.uuid,
                    mount: "/data".into(),
                    root: "/data".into(),
                    roles: Roles::parse("s", "1,2,3,4").unwrap(),
                    device: "/dev/nvme0n1p1".into(),
                    fs: "xfs".into(),
                    rotational: Some(false),
                    total_bytes: 2 << 40,
                    created_at: 0,
                })
                .unwrap();
            n
        })
        .collect();
    let end = now_ms() / 1000 / 30 * 30;
    let start = end - days * 86_400;
    let t = Instant::now();
    let mut t_s = start;
    while t_s < end {
        for (k, n) in ids.iter().enumerate() {
            s.monitor_ingest(&n.uuid, sample(t_s, k as u64), (t_s + 30) * 1000)
                .unwrap();
        }
        t_s += 30;
        if t_s % 600 == 0 {
            s.monitor_compact(t_s).unwrap();
        }
    }
    s.store.flush_blocking().unwrap();
    let took = t.elapsed().as_secs_f64();
    let kept = ids
        .iter()
        .map(|n| s.monitor_range(&n.uuid, 0, i64::MAX).unwrap().len())
        .sum();
    let live: u64 = s.store.monitor_bytes();
    // As at shutdown: the open buckets are written.
    s.monitor_flush_open(i64::MAX).unwrap();
    s.store.flush_blocking().unwrap();
    (kept, live, took)
}

fn dir_bytes(p: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            dir_bytes(&e.path())
        } else {
            m.len()
        };
    }
    n
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let nodes = env_num("BENCH_NODES", 50);
    let days = env_num("BENCH_DAYS", 7) as i64;
    let secs = env_num("BENCH_SECONDS", 10);
    let conns = env_num("BENCH_CONNS", 32);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (kept, live, took) = populate(&data, nodes, days);
    let reports = nodes as i64 * days * 2880;
    println!(
        "simulated {reports} reports ({nodes} nodes x {days} days at 30 s) with retention in {took:.1} s ({:.1} us per report)",
        took * 1e6 / reports as f64
    );
    let size = dir_bytes(&data);

    let sock = dir.path().join("notify.sock");
    let svc = start(&data, &sock, &["--monitor-down-after-s", "3600"]);
    let token = login_bench(svc.port);
    let top = post_auth(
        svc.port,
        "/api/v1/index/top_data",
        &token,
        &json!({"statis_period": 15}),
    );
    assert_eq!(top["code"], 0, "{top}");
    assert_eq!(
        top["data"]["cpu_util"].as_array().unwrap().len(),
        5,
        "{top}"
    );
    let base = format!("http://127.0.0.1:{}", svc.port);
    let script = dir.path().join("top.lua");
    std::fs::write(
        &script,
        "wrk.method = \"POST\"\nwrk.body = '{\"statis_period\": 15}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
    )
    .unwrap();
    let health_url = format!("{base}/api/v1/health");
    let top_url = format!("{base}/api/v1/index/top_data");
    wrk(&health_url, &token, 4, 1);
    wrk_with(&top_url, &token, 4, 1, Some(&script));
    let health = wrk(&health_url, &token, conns, secs);
    let topd = wrk_with(&top_url, &token, conns, secs, Some(&script));
    let pid = svc.child.id();
    let (rss, anon, file) = rss_parts(pid);
    health.print("floor  GET /api/v1/health:");
    topd.print("POST /api/v1/index/top_data:");
    println!();
    println!(
        "samples kept              {kept} ({:.0} per node; {} at 30 s would be {})",
        kept as f64 / nodes as f64,
        days * 2880,
        reports
    );
    println!(
        "store on disk             {:.1} MB after the simulated week, {:.1} MB after serving it; live history about {:.1} MB",
        size as f64 / 1048576.0,
        dir_bytes(&data) as f64 / 1048576.0,
        live as f64 / 1048576.0
    );
    println!(
        "RSS serving that store    {:.1} MB: {:.1} MB private heap + {:.1} MB mapped files",
        rss as f64 / 1024.0,
        anon as f64 / 1024.0,
        file as f64 / 1024.0
    );
    println!(
        "top_data / health         throughput {:.2}, p50 latency {:.2}x, p99 latency {:.2}x",
        topd.rps / health.rps,
        topd.p50_ms / health.p50_ms,
        topd.p99_ms / health.p99_ms
    );
    assert_eq!(
        health.errors + topd.errors,
        0,
        "the benchmark saw error replies"
    );
}
