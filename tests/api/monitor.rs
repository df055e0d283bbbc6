//! Monitoring through the API over fakes: compute nodes reporting with
//! their credentials, the dashboard's top-5, history, the overview, and the
//! Prometheus exposition checked with a real parser (python3's
//! prometheus_client).

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::appliance::{harness, T};
use serde_json::{json, Value};
use vdi_appliance::domain::monitor::{CpuTicks, Reading};
use vdi_appliance::domain::node::Node;
use vdi_appliance::domain::storage::{Roles, Storage};
use vdi_appliance::host::clock::system_ms as now_ms;
use vdi_appliance::http;

fn now_s() -> i64 {
    now_ms() / 1000
}

/// Sends `body` to `path` with `token` as the bearer (or none).
fn with_token(
    t: &T,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    smol::block_on(http::request(
        &t.app,
        method,
        path,
        token,
        body.map(|b| b.to_string()).as_deref(),
    ))
}

fn report(t: &T, token: Option<&str>, body: &Value) -> (u16, Value) {
    let (st, text) = with_token(t, "POST", "/api/v1/node/report_monitor", token, Some(body));
    (st, serde_json::from_str(&text).unwrap())
}

/// A compute node with a desktop storage at `/data` and a credential.
fn node(t: &T, i: u32) -> (Node, String) {
    let mut n = Node::bare(
        uuid::Uuid::new_v4(),
        &format!("compute{i}"),
        &format!("10.9.0.{i}"),
        0,
    );
    n.manage_interface = "eth0".into();
    n.inventory.cpu.threads = 8;
    n.inventory.memory_bytes = 16 << 30;
    t.s.store.node_put(&n).unwrap();
    t.s.store
        .storage_put(&Storage {
            uuid: uuid::Uuid::new_v4(),
            node: n.uuid,
            mount: "/data".into(),
            root: "/data/vdi".into(),
            roles: Roles::parse("storages", "3,4").unwrap(),
            device: "/dev/sdb1".into(),
            fs: "ext4".into(),
            rotational: Some(false),
            total_bytes: 1000 << 30,
            created_at: 0,
        })
        .unwrap();
    let cred = t.ok(
        "/api/v1/node/credential",
        json!({"node_uuid": n.uuid.to_string()}),
    );
    let c = cred["credential"].as_str().unwrap().to_string();
    assert_eq!(c.len(), 64);
    (n, c)
}

/// The document's report body (syntax mended, real figures): `load` is
/// the node's CPU percent, memory and disk use follow it.
fn body(n: &Node, ts: i64, load: f64) -> Value {
    json!({
        "node_uuid": n.uuid.to_string(),
        "type": "half_min_monitor",
        "name": n.name,
        "timestamp": ts,
        "data": {
            "cpu": {"user": load * 0.75, "system": load * 0.25, "idle": 100.0 - load, "percent": load},
            "mem": {"total": 16u64 << 30, "used": ((16u64 << 30) as f64 * load / 100.0) as u64,
                    "percent": load, "free": ((16u64 << 30) as f64 * (1.0 - load / 100.0)) as u64},
            "net": {
                "eth0": {"speed": 10000, "up": format!("{}", load * 100.0), "down": format!("{}", load * 10.0),
                         "ipv4": [{"addr": n.ip, "netmask": "255.255.255.0"}]},
                "eth1": {"speed": 10000, "up": "0", "down": "0", "ipv4": []}
            },
            "disk": {
                "sdb1": {"read_rate": "100", "write_rate": "200", "total": 1000u64 << 30,
                         "used": ((1000u64 << 30) as f64 * load / 200.0) as u64, "mount": "/data"},
                "sda1": {"read_rate": "1", "write_rate": "2", "total": 100u64 << 30, "used": 90u64 << 30}
            }
        }
    })
}

/// Gives this host (the controller) one reading of `busy` percent CPU
/// ending now, on its management NIC `ens192` and its desktop storage.
fn local_busy(t: &T, busy: u64) {
    let fast = t.slow.parent().unwrap().join("opt-fast");
    let now = now_ms();
    let set = |at: i64, ticks: u64, bytes: u64| {
        t.f.metrics.update(|r: &mut Reading| {
            r.at_ms = at;
            r.cpu = CpuTicks {
                user: ticks * busy / 100,
                system: 0,
                idle: ticks * (100 - busy) / 100,
                total: ticks,
            };
            r.nics[0].name = "ens192".into();
            r.nics[0].rx_bytes = bytes;
            r.nics[0].tx_bytes = bytes;
            r.disks[0].mount = fast.to_string_lossy().into_owned();
        })
    };
    set(now - 10_000, 1000, 0);
    smol::block_on(t.s.monitor_tick()).unwrap();
    set(now, 2000, 50_000);
    smol::block_on(t.s.monitor_tick()).unwrap();
}

#[test]
fn reports_feed_top_data_history_and_overview() {
    let t = harness();
    let nodes: Vec<(Node, String)> = (1..=6).map(|i| node(&t, i)).collect();
    let silent = node(&t, 7);
    let ts = now_s() / 30 * 30 - 30;
    for (i, (n, c)) in nodes.iter().enumerate() {
        // Two earlier reports for history, then the current one.
        for back in [2, 1] {
            let (st, v) = report(&t, Some(c), &body(n, ts - back * 30, 5.0));
            assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{v}");
        }
        let (st, v) = report(&t, Some(c), &body(n, ts, 10.0 * (i as f64 + 1.0)));
        assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{v}");
        assert_eq!(v["data"]["timestamp"], ts);
    }
    local_busy(&t, 95);
    let ctrl =
        t.s.node_list()
            .unwrap()
            .into_iter()
            .find(|n| n.role.is_controller())
            .unwrap();

    let d = t.ok("/api/v1/index/top_data", json!({"statis_period": 15}));
    assert!((d["utc"].as_i64().unwrap() - now_s()).abs() <= 2);
    let cpu: Vec<(String, String)> = serde_json::from_value(d["cpu_util"].clone()).unwrap();
    assert_eq!(cpu.len(), 5);
    assert_eq!(cpu[0], (ctrl.name.clone(), "95.00".into()), "{cpu:?}");
    assert_eq!(cpu[1], ("compute6".into(), "60.00".into()));
    assert_eq!(cpu[4].0, "compute3");
    let mem: Vec<(String, String)> = serde_json::from_value(d["memory_util"].clone()).unwrap();
    assert_eq!(mem[0], ("compute6".into(), "60.00".into()));
    assert_eq!(mem.len(), 5);
    // The desktop storage (role 3): the disk holding /data/vdi, not sda1.
    let disk = d["disk_util"].as_array().unwrap();
    assert_eq!(disk.len(), 5);
    assert_eq!(
        disk[0],
        json!([
            "compute6",
            "30.00",
            1000u64 << 30,
            ((1000u64 << 30) as f64 * 0.3) as u64
        ])
    );
    // The management NIC: average and highest of sent + received.
    let nic = d["nic_util"].as_array().unwrap();
    // This host: 50 kB each way in 10 s on ens192.
    assert_eq!(nic[0], json!([ctrl.name, 10_000, 10_000]));
    assert_eq!(nic[1], json!(["compute6", 6600, 6600]));
    assert!(
        !d.to_string().contains("compute7"),
        "a node that never reported has no figures"
    );
    // Sorted descending everywhere.
    for list in ["cpu_util", "memory_util", "disk_util"] {
        let pcts: Vec<f64> = d[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[1].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(pcts.windows(2).all(|w| w[0] >= w[1]), "{list}: {pcts:?}");
    }

    for (bad, field) in [
        (json!({"statis_period": 1}), "statis_period"),
        (json!({"statis_period": 60}), "statis_period"),
        (json!({"statis_period": "x"}), "statis_period"),
    ] {
        t.fails("/api/v1/index/top_data", bad, 10002, field);
    }
    t.fails("/api/v1/index/top_data", json!({}), 10003, "statis_period");
    t.fails(
        "/api/v1/index/top_data",
        json!({"statis_period": 5, "x": 1}),
        10004,
        "x",
    );

    // History of one node: three 30-second reports in two 60-second steps.
    let n6 = &nodes[5].0;
    let h = t.get(&format!(
        "/api/v1.0/monitor/?node_uuid={}&metric=cpu&start={}&end={}&step=60",
        n6.uuid,
        ts - 60,
        ts + 30
    ));
    assert_eq!(h["unit"], "percent");
    let pts = h["points"].as_array().unwrap();
    assert_eq!(pts.len(), 2, "{h}");
    assert_eq!(pts[0], json!([ts - 60, 5.0, 5.0]));
    assert_eq!(pts[1], json!([ts, 60.0, 60.0]));
    let up = t.get(&format!(
        "/api/v1.0/monitor/?node_uuid={}&metric=nic_up&start={}&end={}",
        n6.uuid,
        ts - 60,
        ts + 30
    ));
    assert_eq!(up["device"], "eth0", "the management NIC by default");
    assert_eq!(
        up["points"].as_array().unwrap().last().unwrap()[1],
        json!(6000.0)
    );
    let du = t.get(&format!(
        "/api/v1.0/monitor/?node_uuid={}&metric=disk&start={}&end={}",
        n6.uuid,
        ts - 60,
        ts + 30
    ));
    assert_eq!(
        du["device"], "sdb1",
        "the disk of the desktop storage by default"
    );
    let (st, v) = t.call(
        "GET",
        &format!("/api/v1.0/monitor/?node_uuid={}&metric=gpu", n6.uuid),
        None,
    );
    assert_eq!((st, v["code"].as_i64()), (422, Some(10002)));
    let (st, v) = t.call(
        "GET",
        &format!("/api/v1.0/monitor/?node_uuid={}", uuid::Uuid::new_v4()),
        None,
    );
    assert_eq!((st, v["code"].as_i64()), (404, Some(20203)));

    // Overview: the silent node is down; allocation has the hardware.
    let o = t.get("/api/v1.0/monitor/overview");
    assert_eq!(o["nodes"]["total"], 8);
    assert_eq!(o["nodes"]["down"], 1, "{}", o["nodes"]);
    // The dashboard's counters: no terminal has called, no task is running.
    assert_eq!(o["terminals"], json!({"total": 0, "seen_last_hour": 0}));
    assert_eq!(o["tasks"], json!({"running": 0, "queued": 0}));
    let list = o["nodes"]["list"].as_array().unwrap();
    let s7 = list
        .iter()
        .find(|n| n["uuid"] == json!(silent.0.uuid.to_string()))
        .unwrap();
    assert_eq!(s7["status"], "down");
    assert_eq!(s7["cpu"]["physical"], 8);
    assert!(o["cpu"]["physical"].as_u64().unwrap() >= 7 * 8);
    let roles: Vec<u64> = o["storage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_u64().unwrap())
        .collect();
    assert_eq!(roles, [1, 2, 3, 4]);
    let r3 = &o["storage"][2];
    assert!(r3["storages"].as_u64().unwrap() >= 7, "{r3}");
    assert!(r3["used_bytes"].as_u64().unwrap() <= r3["total_bytes"].as_u64().unwrap());
}

#[test]
fn bad_reports_are_refused_and_nothing_is_stored() {
    let t = harness();
    let (a, ca) = node(&t, 1);
    let (b, cb) = node(&t, 2);
    let ts = now_s() / 30 * 30;
    let kept = |n: &Node| t.s.monitor_range(&n.uuid, 0, i64::MAX).unwrap().len();
    let before = kept(&a) + kept(&b);
    let refused = |token: Option<&str>, body: Value, status: u16, code: i64, fragment: &str| {
        let (st, v) = report(&t, token, &body);
        assert_eq!(
            (st, v["code"].as_i64()),
            (status, Some(code)),
            "{body} -> {v}"
        );
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.contains(fragment), "`{fragment}` not in `{msg}`");
    };
    let good = body(&a, ts, 20.0);
    refused(None, good.clone(), 401, 21201, "credential");
    refused(Some("0000"), good.clone(), 401, 21201, "credential");
    refused(Some(&t.token), good.clone(), 401, 21201, "credential");
    // Node 2's credential cannot speak for node 1, nor for a node that
    // does not exist.
    refused(Some(&cb), good.clone(), 403, 21202, &b.uuid.to_string());
    let mut ghost = good.clone();
    ghost["node_uuid"] = json!(uuid::Uuid::new_v4().to_string());
    refused(Some(&ca), ghost, 403, 21202, "credential");
    let edits: Vec<(&str, Value, i64, &str)> = vec![
        ("/type", json!("minute_monitor"), 10002, "type"),
        ("/timestamp", json!(ts + 3600), 10002, "timestamp"),
        ("/timestamp", json!(ts - 30 * 86_400), 10002, "timestamp"),
        ("/timestamp", json!("soon"), 10002, "timestamp"),
        ("/data/cpu/percent", json!(101), 10002, "data.cpu.percent"),
        ("/data/cpu/user", json!("xxxxx"), 10002, "data.cpu.user"),
        ("/data/mem/used", json!(1u64 << 40), 10002, "data.mem.used"),
        (
            "/data/net/eth0/down",
            json!(-1),
            10002,
            "data.net.eth0.down",
        ),
        (
            "/data/disk/sda1/used",
            json!(1u64 << 50),
            10002,
            "data.disk.sda1.used",
        ),
        (
            "/data/net/eth0/ipv4/0/addr",
            json!("10.9.0.300"),
            10002,
            "data.net.eth0.ipv4[0]",
        ),
    ];
    for (ptr, v, code, field) in edits {
        let mut bad = good.clone();
        *bad.pointer_mut(ptr).unwrap() = v;
        refused(Some(&ca), bad, 422, code, field);
    }
    let mut extra = good.clone();
    extra["data"]["gpu"] = json!({});
    refused(Some(&ca), extra, 422, 10004, "data.gpu");
    let mut missing = good.clone();
    missing["data"].as_object_mut().unwrap().remove("mem");
    refused(Some(&ca), missing, 422, 10003, "data.mem");
    let (st, text) = with_token(&t, "POST", "/api/v1/node/report_monitor", Some(&ca), None);
    assert_eq!(st, 400, "{text}");
    assert_eq!(
        kept(&a) + kept(&b),
        before,
        "a refused report stores nothing"
    );
    // The good report is taken; reports stay out of the operation log.
    let (st, v) = report(&t, Some(&ca), &good);
    assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{v}");
    assert_eq!(kept(&a), 1);
    assert_eq!(kept(&b), 0);
    let log = t.s.store.oplog_list().unwrap();
    assert!(!log.iter().any(|e| e.action == "node/report_monitor"));
    assert!(log.iter().any(|e| e.action == "node/credential"));
    // Credentials are stored hashed; a new one revokes the old.
    let dump = format!("{:?}", t.s.store.node_credentials().unwrap());
    assert!(!dump.contains(&ca));
    t.ok(
        "/api/v1/node/credential",
        json!({"node_uuid": a.uuid.to_string()}),
    );
    refused(Some(&ca), good, 401, 21201, "credential");
    t.fails(
        "/api/v1/node/credential",
        json!({"node_uuid": uuid::Uuid::new_v4().to_string()}),
        20203,
        "",
    );
}

/// Parses an exposition with prometheus_client and returns, per family,
/// its type and samples as `[name, labels, value]`.
fn parse_exposition(text: &str) -> Value {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {"type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]}
print(json.dumps(out))
"#;
    // Debian's python, which python3-prometheus-client installs into.
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (make deps-test installs python3-prometheus-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the exposition does not parse: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn metrics_are_valid_exposition_and_need_a_token() {
    let t = harness();
    let (n, c) = node(&t, 1);
    let ts = now_s() / 30 * 30;
    assert_eq!(report(&t, Some(&c), &body(&n, ts, 40.0)).0, 200);
    local_busy(&t, 30);
    t.get("/api/v1/health");
    t.fails(
        "/api/v1/index/top_data",
        json!({"statis_period": 0}),
        10002,
        "statis_period",
    );

    let (st, text) = with_token(&t, "GET", "/metrics", None, None);
    assert_eq!(st, 401, "{text}");
    assert!(text.contains("21203"));
    let (st, text) = with_token(&t, "GET", "/metrics", Some("nope"), None);
    assert_eq!(st, 401, "{text}");
    // An admin token works; a scrape token works until it is rotated.
    let (st, text) = with_token(&t, "GET", "/metrics", Some(&t.token), None);
    assert_eq!(st, 200, "{text}");
    let scrape = t.ok("/api/v1/system/metrics_token", json!({}))["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, text) = with_token(&t, "GET", "/metrics", Some(&scrape), None);
    assert_eq!(st, 200);
    let fams = parse_exposition(&text);
    for (name, kind) in [
        ("vdi_node_up", "gauge"),
        ("vdi_node_cpu_percent", "gauge"),
        ("vdi_node_memory_bytes", "gauge"),
        ("vdi_node_network_bytes_per_second", "gauge"),
        ("vdi_node_disk_bytes", "gauge"),
        ("vdi_desktops", "gauge"),
        ("vdi_tasks", "gauge"),
        ("vdi_task_duration_seconds", "histogram"),
        ("vdi_http_requests", "counter"),
        ("vdi_http_request_duration_seconds", "histogram"),
        ("vdi_store_size_bytes", "gauge"),
    ] {
        assert_eq!(fams[name]["type"], kind, "{name}: {}", fams[name]);
    }
    let samples = |fam: &str| fams[fam]["samples"].as_array().unwrap().clone();
    let up: Vec<Value> = samples("vdi_node_up");
    assert!(up.iter().any(|s| s[1]["node"] == "compute1" && s[2] == 1.0));
    let cpu = samples("vdi_node_cpu_percent");
    assert!(cpu
        .iter()
        .any(|s| s[1]["node"] == "compute1" && s[1]["mode"] == "total" && s[2] == 40.0));
    let req = samples("vdi_http_requests");
    let count = |route: &str, status: &str| {
        req.iter()
            .filter(|s| s[1]["route"] == route && s[1]["status"] == status)
            .map(|s| s[2].as_f64().unwrap())
            .sum::<f64>()
    };
    assert_eq!(count("health/get", "200"), 1.0);
    assert_eq!(count("index/top_data", "422"), 1.0);
    assert!(count("metrics", "401") >= 2.0);
    // Controller init ran as a task: its duration is in the histogram.
    let tasks = samples("vdi_task_duration_seconds");
    assert!(
        tasks
            .iter()
            .any(|s| s[0] == "vdi_task_duration_seconds_count" && s[2].as_f64().unwrap() >= 1.0),
        "{tasks:?}"
    );
    // Every histogram: buckets never decrease and +Inf equals the count.
    for fam in [
        "vdi_http_request_duration_seconds",
        "vdi_task_duration_seconds",
    ] {
        let s = samples(fam);
        let routes: std::collections::BTreeSet<String> = s
            .iter()
            .map(|x| {
                x[1]["route"]
                    .as_str()
                    .or(x[1]["kind"].as_str())
                    .unwrap()
                    .to_string()
            })
            .collect();
        for r in routes {
            let mine: Vec<&Value> = s
                .iter()
                .filter(|x| x[1]["route"].as_str().or(x[1]["kind"].as_str()) == Some(r.as_str()))
                .collect();
            let buckets: Vec<f64> = mine
                .iter()
                .filter(|x| x[0].as_str().unwrap().ends_with("_bucket"))
                .map(|x| x[2].as_f64().unwrap())
                .collect();
            assert!(
                buckets.windows(2).all(|w| w[0] <= w[1]),
                "{fam} {r}: {buckets:?}"
            );
            let total = mine
                .iter()
                .find(|x| x[0].as_str().unwrap().ends_with("_count"))
                .unwrap()[2]
                .as_f64()
                .unwrap();
            assert_eq!(*buckets.last().unwrap(), total, "{fam} {r}");
        }
    }
    let old = scrape;
    t.ok("/api/v1/system/metrics_token", json!({}));
    assert_eq!(with_token(&t, "GET", "/metrics", Some(&old), None).0, 401);

    // The `metrics_listen` app answers without a token, and only /metrics.
    let open = http::metrics_app(t.s.clone());
    let (st, text) = smol::block_on(http::request(&open, "GET", "/metrics", None, None));
    assert_eq!(st, 200);
    assert!(parse_exposition(&text)["vdi_node_up"].is_object());
    let (st, _) = smol::block_on(http::request(&open, "GET", "/api/v1/health", None, None));
    assert_eq!(st, 404);
}
