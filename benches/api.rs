//! API benchmark (`make bench` / `cargo bench --bench api`): loads N records
//! into a resource, starts the release binary, and measures with `wrk` on
//! loopback the generic query against `GET /api/v1/health` (the floor) in
//! the same run, plus resident memory and cold start to READY.
//!
//! Environment: BENCH_RECORDS (10000), BENCH_SECONDS (10), BENCH_CONNS (32).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};

mod common;
use common::*;

/// Writes a store export holding `n` pools plus one admin, and imports it.
fn load(data: &Path, n: u64) {
    bench_admin(data);
    let dump = data.with_extension("json");
    let exported = Command::new(BIN)
        .args(["export", "--out"])
        .arg(&dump)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(exported.status.success());
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    let t0 = 1_700_000_000_000i64;
    doc["resource_pools"] = (0..n)
        .map(|i| {
            json!({"uuid": uuid::Uuid::new_v4().to_string(), "name": format!("pool-{i:05}"),
                   "desc": format!("benchmark pool number {i}"), "created_at": t0 + i as i64,
                   "updated_at": t0 + i as i64, "default": i == 0})
        })
        .collect();
    std::fs::write(&dump, doc.to_string()).unwrap();
    let fresh = data.with_extension("loaded");
    let out = Command::new(BIN)
        .args(["import", "--in"])
        .arg(&dump)
        .arg("--data-dir")
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(data).unwrap();
    std::fs::rename(&fresh, data).unwrap();
}

/// Adds `groups` × `per` desktops and `users` users straight into the
/// store (the desktop tables are not in export files yet); returns the
/// first group's uuid.
fn seed_desktops(data: &Path, groups: u32, per: u32, users: u32) -> uuid::Uuid {
    use vdi_appliance::domain::desktop::{
        DataRestore, Desktop, DesktopDisk, DesktopGroup, Kind, Phase, Status,
    };
    let store = vdi_appliance::store::Store::open(data, &Default::default()).unwrap();
    let (tpl, pool, room) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    let mut first = None;
    for gi in 0..groups {
        let g = DesktopGroup {
            uuid: uuid::Uuid::new_v4(),
            seq: store.sequence_next().unwrap(),
            name: format!("group-{gi:03}"),
            kind: Kind::Education,
            owner: "1".into(),
            classroom: Some(room),
            template: tpl,
            pool,
            network: None,
            subnet: None,
            vcpu: 2,
            ram_mb: 2048,
            sys_restore: true,
            data_restore: DataRestore::Keep,
            prefix: format!("g{gi}-"),
            postfix: 4,
            postfix_start: 1,
            active: true,
            default: gi == 0,
            show_info: true,
            auto_update: true,
            use_bottom_ip: false,
            ip_start: None,
            assign: None,
            user_groups: vec![],
            maintenance: false,
            order_num: gi,
            phase: Phase::Ready,
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_000_000,
        };
        first.get_or_insert(g.uuid);
        let list: Vec<_> = (1..=per)
            .map(|n| {
                let uuid = uuid::Uuid::new_v4();
                let d = Desktop {
                    uuid,
                    seq: store.sequence_next().unwrap(),
                    group: g.uuid,
                    name: g.desktop_name(n),
                    number: n,
                    seat: n,
                    node: pool,
                    ip: Some(std::net::Ipv4Addr::from(0x0a00_0000 + gi * 65536 + n)),
                    mac: format!("52:54:00:{:02x}:{:02x}:{:02x}", gi, n >> 8, n & 0xff),
                    user: None,
                    status: if n % 3 == 0 {
                        Status::Active
                    } else {
                        Status::Inactive
                    },
                    started_at: None,
                    disks: vec![DesktopDisk {
                        template_disk: tpl,
                        inx: 0,
                        path: format!("/opt/fast/instances/{uuid}/disk.qcow2").into(),
                        version: 1,
                    }],
                    spice_password: "x".repeat(24),
                    terminal_mac: String::new(),
                    terminal_ip: String::new(),
                    phase: Phase::Ready,
                    created_at: 1_700_000_000_000,
                };
                (d, None)
            })
            .collect();
        store.desktop_group_insert(&g, &list).unwrap();
    }
    let group = uuid::Uuid::new_v4();
    let list: Vec<_> = (0..users)
        .map(|i| vdi_appliance::domain::user::User {
            uuid: uuid::Uuid::new_v4(),
            seq: store.sequence_next().unwrap(),
            group,
            user_name: format!("student{i:05}"),
            name: format!("Student {i}"),
            phone: String::new(),
            email: String::new(),
            password_hash: "$argon2id$v=19$m=7168,t=5,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
            enabled: true,
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_000_000,
        })
        .collect();
    store.users_insert(&list).unwrap();
    store.flush_blocking().unwrap();
    first.unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks benches to list themselves
    }
    let n = env_num("BENCH_RECORDS", 10_000);
    let secs = env_num("BENCH_SECONDS", 10);
    let conns = env_num("BENCH_CONNS", 32);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("notify.sock");
    let t = Instant::now();
    load(&data, n);
    let group = seed_desktops(
        &data,
        (n / 1000).max(1) as u32,
        1000.min(n) as u32,
        (n / 2) as u32,
    );
    println!(
        "loaded {n} resource pools, {n} desktops and {} users in {:.1} s",
        n / 2,
        t.elapsed().as_secs_f64()
    );

    // Cold start: median of three starts with the data in place.
    let mut starts = Vec::new();
    for _ in 0..3 {
        let s = start(&data, &sock, &[]);
        starts.push(s.ready_ms);
    }
    starts.sort_by(f64::total_cmp);
    let svc = start(&data, &sock, &[]);
    let token = login_bench(svc.port);
    let base = format!("http://127.0.0.1:{}", svc.port);
    let health_url = format!("{base}/api/v1/health");
    let query_url = format!(
        "{base}/api/v1.0/resource_pool/?searchtype=contain&name=pool-0123&page=1&page_size=20"
    );
    let desk_url = format!(
        "{base}/api/v1.0/voi/education/instance/?searchtype=all&desktop_group={group}&page=3&page_size=20"
    );
    // Warm up all (the first query builds the snapshot).
    wrk(&health_url, &token, 4, 1);
    wrk(&query_url, &token, 4, 1);
    wrk(&desk_url, &token, 4, 1);
    let health = wrk(&health_url, &token, conns, secs);
    let query = wrk(&query_url, &token, conns, secs);
    let desk = wrk(&desk_url, &token, conns, secs);
    let pid = svc.child.id();
    let (rss, anon, file) = rss_parts(pid);
    let ratio = query.rps / health.rps;
    health.print("floor  GET /api/v1/health:");
    query.print("query  contain name, page 20:");
    desk.print("desktops of a group, page 20:");
    println!();
    println!(
        "records                   {n} pools, {n} desktops, {} users",
        n / 2
    );
    println!("throughput ratio          {ratio:.2}   (target >= 0.50)");
    println!(
        "desktop list ratio        {:.2}   (target >= 0.50), p99 {:.2} ms",
        desk.rps / health.rps,
        desk.p99_ms
    );
    println!(
        "query p99                 {:.2} ms (target < 10 ms)",
        query.p99_ms
    );
    println!(
        "RSS after load            {:.1} MB (target < 40 MB): {:.1} MB private heap + {:.1} MB mapped files (binary, libvirt and its libraries)",
        rss as f64 / 1024.0,
        anon as f64 / 1024.0,
        file as f64 / 1024.0
    );
    println!(
        "cold start to READY       {:.0} ms median of 3 ({:.0}..{:.0}) (target < 300 ms)",
        starts[1], starts[0], starts[2]
    );
    assert_eq!(
        query.errors + health.errors + desk.errors,
        0,
        "the benchmark saw error replies"
    );
}
