//! API tier for first boot over fake host ports: `controller/init` with the
//! documented body, every validation error, a second init, the undo of a
//! failure injected at each step (store, directories and host network as
//! before), the unattended answer file, `node/check`, the node and storage
//! listings, and the setup page at `/`.

use crate::common;
use crate::common::rig::{addr, Rig, Spec};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use vdi_appliance::domain::net::LinkKind;
use vdi_appliance::domain::saga::Fault;
use vdi_appliance::fakes::{FakeHost, FakeNet};
use vdi_appliance::http::{self, State};
use vdi_appliance::service::controller::INIT_STEPS;
use vdi_appliance::service::Services;
use vdi_appliance::store::Store;

struct T {
    app: tide::Server<State>,
    s: Arc<Services>,
    net: Arc<FakeNet>,
    host: Arc<FakeHost>,
    token: String,
    slow: PathBuf,
    fast: PathBuf,
    _dir: tempfile::TempDir,
}

fn harness() -> T {
    let r = Rig::build(Spec {
        nics: &[
            ("ens192", &["192.0.2.49/24"]),
            ("ens224", &[]),
            ("ens256", &[]),
        ],
        route: Some(("192.0.2.1", "ens192")),
        mounts: &["opt-slow", "opt-fast"],
    });
    let token = r.admin_token();
    T {
        app: r.app,
        s: r.s,
        net: r.f.net,
        host: r.f.host,
        token,
        slow: r.mounts[0].clone(),
        fast: r.mounts[1].clone(),
        _dir: r.dir,
    }
}

impl T {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        common::app_call(&self.app, &self.token, method, path, body)
    }

    fn ok(&self, path: &str, body: Value) -> Value {
        let (st, v) = self.call("POST", path, Some(body.clone()));
        assert_eq!(
            (st, v["code"].as_i64()),
            (200, Some(0)),
            "{path} {body} -> {v}"
        );
        v["data"].clone()
    }

    fn fails(&self, body: Value, status: u16, fragment: &str) -> Value {
        let (st, v) = self.call("POST", "/api/v1/controller/init", Some(body.clone()));
        assert_eq!(st, status, "{body} -> {v}");
        assert_ne!(v["code"].as_i64(), Some(0));
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.contains(fragment), "`{fragment}` not in `{msg}`");
        v
    }

    fn get(&self, path: &str) -> Value {
        let (st, v) = self.call("GET", path, None);
        assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{path} -> {v}");
        v["data"].clone()
    }

    /// The documented body of file 000 with this harness's paths, flat.
    fn body(&self) -> Value {
        json!({
            "ip": "192.0.2.49",
            "password": "allinone",
            "manage_interface": "ens192",
            "image_interface": "ens192",
            "data_interface": "ens224",
            "network_name": "default",
            "switch_name": "default",
            "switch_type": "flat",
            "storages": { self.slow.to_str().unwrap(): "1,2", self.fast.to_str().unwrap(): "3,4" },
            "is_compute": true
        })
    }

    /// Everything a failed init must leave as it found it.
    fn state(&self) -> (String, Vec<String>, Vec<PathBuf>) {
        let mut links: Vec<String> = self
            .net
            .snapshot()
            .0
            .iter()
            .map(|l| format!("{}:{:?}:{:?}:{:?}", l.name, l.master, l.addrs, l.up))
            .collect();
        links.sort();
        links.push(format!("route {:?}", self.net.snapshot().1));
        let store = format!(
            "{:?} {:?} {} {} {} {} {} {}",
            self.s.store.controller().unwrap(),
            self.s.store.local_node().unwrap(),
            self.s.node_list().unwrap().len(),
            self.s.nic_list().unwrap().len(),
            self.s.store.storage_list().unwrap().len(),
            self.s.vswitch_list().unwrap().len(),
            self.s.network_list().unwrap().len(),
            self.s.resource_pool_list().unwrap().len(),
        );
        (store, links, walk(&[&self.slow, &self.fast]))
    }
}

fn walk(roots: &[&Path]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = roots.iter().map(|p| p.to_path_buf()).collect();
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                stack.push(e.clone());
            }
            out.push(e);
        }
    }
    out.sort();
    out
}

#[test]
fn the_documented_body_initialises_everything() {
    let t = harness();
    let status = t.get("/api/v1/setup/status");
    assert_eq!(status["initialised"], false);
    let out = t.ok("/api/v1/controller/init", t.body());
    assert!(out["task_id"].is_string(), "{out}");
    let bridge = out["bridge"].as_str().unwrap().to_string();

    // The host: the data NIC in the new bridge, which is up.
    let br = t.net.link(&bridge).expect("the bridge exists");
    assert_eq!(br.kind, LinkKind::Bridge);
    assert!(br.up);
    assert_eq!(
        t.net.link("ens224").unwrap().master.as_deref(),
        Some(bridge.as_str())
    );
    // The management NIC keeps its address.
    assert_eq!(
        t.net.link("ens192").unwrap().addrs,
        vec![addr("192.0.2.49/24")]
    );

    // The directory layout.
    for d in ["instances/_base", "datas/_base"] {
        assert!(t.slow.join(d).is_dir(), "{d} on the template storage");
    }
    for d in ["instances", "datas"] {
        assert!(t.fast.join(d).is_dir(), "{d} on the desktop storage");
    }
    assert!(!t.fast.join("instances/_base").exists());

    // The records.
    let nodes = t.get("/api/v1.0/node/?searchtype=all");
    assert_eq!(nodes["count"], 1, "{nodes}");
    let n = &nodes["results"][0];
    assert_eq!(n["role"], "controller+compute");
    assert_eq!(n["type"], 1);
    assert_eq!(n["ip"], "192.0.2.49");
    assert_eq!(n["hostname"], "fakehost");
    assert_eq!(n["data_interface"], "ens224");
    assert_eq!(n["local"], true);
    assert_eq!(n["cpu_model"], "Fake CPU @ 2.0GHz");
    assert_eq!(n["threads"], 8);
    assert_eq!(n["gpu_count"], 0, "no GPU is not an error");
    assert_eq!(n["pool_uuid"], out["pool_uuid"]);
    let nics = n["nics"].as_array().unwrap();
    assert_eq!(nics.len(), 3);
    let mgmt = nics.iter().find(|x| x["interface"] == "ens192").unwrap();
    assert_eq!(
        (mgmt["is_manage"].clone(), mgmt["is_image"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(mgmt["ip_list"][0]["netmask"], "255.255.255.0");
    assert_eq!(mgmt["gateway"], "192.0.2.1");
    assert_eq!(mgmt["driver"], "e1000e");
    assert_eq!(mgmt["firmware"], "0.13-4");

    let st = t.get("/api/v1.0/node_storage/?searchtype=all");
    assert_eq!(st["count"], 2, "{st}");
    let slow = st["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == t.slow.to_str().unwrap())
        .unwrap()
        .clone();
    assert_eq!(slow["role"], "1,2");
    assert_eq!(slow["type"], "ssd");
    assert_eq!(slow["total"], 100u64 << 30);
    assert_eq!(slow["used"], 40u64 << 30);
    assert_eq!(slow["usage"], 40.0);

    let sw = t.get("/api/v1.0/vswitch/?searchtype=all");
    assert_eq!(sw["count"], 1);
    assert_eq!(sw["results"][0]["name"], "default");
    let net = t.get("/api/v1.0/network/?searchtype=all");
    assert_eq!(net["results"][0]["uuid"], out["network_uuid"]);
    // The default subnet, derived from... the data NIC has no address, so
    // none: the flat network on ens224 is an unaddressed segment.
    assert!(out["subnet_uuid"].is_null(), "{out}");
    let pools = t.get("/api/v1.0/resource_pool/?searchtype=all");
    assert_eq!(pools["count"], 1);
    assert_eq!(pools["results"][0]["name"], "default");

    // node/check now shows the default network as file 000 does.
    let chk = t.ok(
        "/api/v1/node/check",
        json!({"ip": "192.0.2.49", "root_pwd": "x"}),
    );
    assert_eq!(
        chk["default_network_info"]["network_info"]["name"],
        "default"
    );
    assert_eq!(
        chk["default_network_info"]["virtual_switch"]["type"],
        "flat"
    );
    let ens224 = chk["interface_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["interface"] == "ens224")
        .unwrap()
        .clone();
    assert_eq!(ens224["bridge"], bridge);

    // A second init is refused and changes nothing.
    let before = t.state();
    let v = t.fails(t.body(), 409, "already initialised");
    assert_eq!(v["code"], 20210);
    assert_eq!(t.state(), before);
    let status = t.get("/api/v1/setup/status");
    assert_eq!(status["initialised"], true);
    assert_eq!(status["admin_exists"], true);

    // The task says what happened, step by step.
    let task = t.get(&format!(
        "/api/v1/task/{}",
        out["task_id"].as_str().unwrap()
    ));
    assert_eq!(task["state"], "succeeded");
    assert_eq!(task["percent"], 100);
    let log = task["log"].to_string();
    for want in [
        "virtualisation",
        "inventory",
        "storage",
        "resource pool",
        "bridge",
        "initialised",
    ] {
        assert!(log.contains(want), "`{want}` not in {log}");
    }
}

#[test]
fn a_derived_subnet_and_a_vlan_switch() {
    let t = harness();
    let mut b = t.body();
    b["data_interface"] = json!("ens192");
    t.ok("/api/v1/controller/init", b);
    let subnets = t.get("/api/v1.0/subnet/?searchtype=all");
    assert_eq!(subnets["count"], 1, "{subnets}");
    let s = &subnets["results"][0];
    assert_eq!(
        (s["start_ip"].clone(), s["end_ip"].clone()),
        (json!("192.0.2.128"), json!("192.0.2.254"))
    );
    assert_eq!(s["gateway"], "192.0.2.1");
    // The management NIC was bridged: its address moved to the bridge and
    // the default route with it, with no confirmation pending.
    let br = t.s.network_list().unwrap()[0].uuid;
    let bridge = vdi_appliance::domain::net::bridge_name(&br);
    assert_eq!(
        t.net.link(&bridge).unwrap().addrs,
        vec![addr("192.0.2.49/24")]
    );
    assert_eq!(t.net.snapshot().1.unwrap().dev, bridge);
    let (st, v) = t.call(
        "POST",
        "/api/v1/vswitch/create",
        Some(json!({"name":"s2","type":"flat","uplinks":[]})),
    );
    assert_eq!(
        (st, v["code"].as_i64()),
        (200, Some(0)),
        "no confirmation blocks later changes: {v}"
    );

    let t = harness();
    let mut b = t.body();
    b["switch_type"] = json!("VLAN");
    b["vlan_id"] = json!(10);
    b["subnet_info"] = json!({"name": "vlan10", "start_ip": "198.51.100.10", "end_ip": "198.51.100.200",
        "netmask": "255.255.255.0", "gateway": "198.51.100.1", "dns1": "198.51.100.1"});
    let out = t.ok("/api/v1/controller/init", b);
    let bridge = out["bridge"].as_str().unwrap();
    let vlan = t.net.link("ens224.10").expect("the VLAN device");
    assert_eq!(
        vlan.kind,
        LinkKind::Vlan {
            parent: "ens224".into(),
            id: 10
        }
    );
    assert_eq!(vlan.master.as_deref(), Some(bridge));
    let subnets = t.get("/api/v1.0/subnet/?searchtype=all");
    assert_eq!(subnets["results"][0]["name"], "vlan10");
    let nets = t.get("/api/v1.0/network/?searchtype=all");
    assert_eq!(nets["results"][0]["vlan_id"], 10);
}

#[test]
fn every_validation_error_names_its_field_and_changes_nothing() {
    let t = harness();
    let before = t.state();
    let slow = t.slow.to_str().unwrap().to_string();
    let with = |k: &str, v: Value| {
        let mut b = t.body();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = t.body();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    t.fails(with("ip", json!("192.0.2.300")), 422, "ip");
    t.fails(
        with("ip", json!("198.51.100.7")),
        422,
        "not an address of a NIC of this host",
    );
    t.fails(without("ip"), 422, "ip");
    t.fails(with("data_interface", json!("eth9")), 422, "data_interface");
    t.fails(
        with("image_interface", json!("eth9")),
        422,
        "`eth9` is not a NIC",
    );
    t.fails(
        with("manage_interface", json!("ens224")),
        422,
        "does not carry the management address",
    );
    t.fails(with("switch_type", json!("star")), 422, "switch_type");
    t.fails(with("switch_type", json!("vlan")), 422, "vlan_id");
    let mut b = with("switch_type", json!("vlan"));
    b["vlan_id"] = json!(5000);
    t.fails(b, 422, "vlan_id");
    t.fails(with("network_name", json!("")), 422, "network_name");
    t.fails(without("storages"), 422, "storages");
    t.fails(with("storages", json!({})), 422, "storages");
    t.fails(
        with("storages", json!({ slow.clone(): "1,2,3" })),
        422,
        "role 4 (desktop data disks)",
    );
    t.fails(
        with("storages", json!({ slow.clone(): "1,2,3,9" })),
        422,
        "`9`",
    );
    t.fails(
        with("storages", json!({"/nowhere": "1,2,3,4"})),
        422,
        "storages./nowhere",
    );
    t.fails(
        with(
            "storages",
            json!({ slow.clone(): "1,2", format!("{slow}/"): "3,4" }),
        ),
        422,
        "a second time",
    );
    t.fails(with("is_compute", json!("yes")), 422, "is_compute");
    t.fails(with("colour", json!("red")), 422, "colour");
    let mut b = t.body();
    b["subnet_info"] = json!({"name":"s","start_ip":"192.0.2.200","end_ip":"192.0.2.100","netmask":"255.255.255.0","gateway":"192.0.2.1","dns1":"192.0.2.1"});
    t.fails(b, 422, "subnet_info.end_ip");
    // A read-only filesystem cannot take a role.
    t.host.mounts.lock().unwrap()[0].writable = false;
    t.fails(t.body(), 422, "read-only");
    t.host.mounts.lock().unwrap()[0].writable = true;
    // A compute node must be able to virtualise: the task fails, undone.
    *t.host.cpu_flag.lock().unwrap() = None;
    t.host.kvm.store(false, std::sync::atomic::Ordering::SeqCst);
    let v = t.fails(t.body(), 409, "vmx or svm");
    assert_eq!(v["code"], 20206);
    assert!(v["msg"].as_str().unwrap().contains("/dev/kvm"));
    assert_eq!(t.state(), before);
    // A controller-only node may lack it: a warning, not a failure.
    let out = t.ok("/api/v1/controller/init", with("is_compute", json!(false)));
    assert!(out["warnings"].to_string().contains("/dev/kvm"), "{out}");
    let n = &t.get("/api/v1.0/node/?searchtype=all")["results"][0];
    assert_eq!(n["role"], "controller");
    assert!(n["pool_uuid"].is_null());
}

#[test]
fn a_failure_at_any_step_leaves_store_disks_and_host_as_they_were() {
    for (i, step) in INIT_STEPS.iter().enumerate() {
        let t = harness();
        // Something in the storage that init must not remove.
        std::fs::create_dir_all(t.slow.join("instances")).unwrap();
        std::fs::write(t.slow.join("instances/keep.qcow2"), b"x").unwrap();
        if i % 2 == 1 {
            // Other records that the undo must leave alone.
            t.ok(
                "/api/v1/vswitch/create",
                json!({"name": "other", "type": "flat", "uplinks": []}),
            );
            t.ok("/api/v1/resource_pool/create", json!({"name": "lab"}));
        }
        let before = t.state();
        t.s.saga_fault("controller/init", Some((step, Fault::Fail)));
        let v = t.fails(t.body(), 500, "");
        assert_eq!(t.state(), before, "after a failure at `{step}`: {v}");
        assert!(
            t.host.created().is_empty(),
            "`{step}`: {:?}",
            t.host.created()
        );
        // The failed task tells what happened.
        let tasks = t.get("/api/v1.0/task/?searchtype=all");
        let task = tasks["results"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(task["state"], "failed", "{task}");
        assert!(task["log"].to_string().contains("undoing"), "{task}");
        // And it can be run again, successfully.
        t.s.saga_fault("controller/init", None);
        t.ok("/api/v1/controller/init", t.body());
        assert!(t.slow.join("instances/keep.qcow2").exists());
    }
    // The host refusing the bridge: the same.
    let t = harness();
    let before = t.state();
    t.net.fail_change(1);
    let v = t.fails(t.body(), 500, "");
    assert_eq!(v["code"], 14001, "the kernel's refusal: {v}");
    assert_eq!(t.state(), before);
    // Storage directories that cannot be made.
    let t = harness();
    let before = t.state();
    t.host
        .fail_dirs
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let v = t.fails(t.body(), 409, "injected");
    assert_eq!(v["code"], 20213);
    assert_eq!(t.state(), before);
}

#[test]
fn an_initialisation_cut_short_by_a_crash_is_undone_at_the_next_start() {
    let mut cases = Vec::new();
    for step in INIT_STEPS {
        for fault in [Fault::CrashBefore, Fault::CrashAfter] {
            cases.push((step, fault, "ens224"));
        }
    }
    // The data NIC that also carries the management address.
    cases.push(("network", Fault::CrashAfter, "ens192"));
    cases.push(("mark", Fault::CrashBefore, "ens192"));
    for (step, fault, data) in cases {
        let t = harness();
        std::fs::create_dir_all(t.slow.join("instances")).unwrap();
        std::fs::write(t.slow.join("instances/keep.qcow2"), b"x").unwrap();
        // An empty directory that was there before stays too.
        std::fs::create_dir_all(t.fast.join("datas")).unwrap();
        // Another admin's switch and pool are not init's to take back.
        t.ok(
            "/api/v1/vswitch/create",
            json!({"name": "other", "type": "flat", "uplinks": []}),
        );
        t.ok("/api/v1/resource_pool/create", json!({"name": "lab"}));
        let before = t.state();
        t.s.saga_fault("controller/init", Some((step, fault)));
        let mut body = t.body();
        body["data_interface"] = json!(data);
        t.fails(body.clone(), 500, "");
        if fault == Fault::CrashAfter && step != "virtualisation" && step != "inventory" {
            assert_ne!(
                t.state(),
                before,
                "`{step}`: a crash leaves things half made"
            );
        }
        // The process died while the task was running. (The reply comes
        // before the runner records the task's end: wait for that first.)
        let mut task = t.s.task_list().unwrap().pop().unwrap();
        for _ in 0..500 {
            if task.state.is_final() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            task = t.s.task_get(&task.id).unwrap();
        }
        assert!(task.state.is_final());
        t.s.store
            .task_update(&task.id, &|x| {
                x.state = vdi_appliance::domain::task::TaskState::Running;
                x.finished_at = None;
            })
            .unwrap();
        t.s.saga_fault("controller/init", None);
        // The next start: recovery, then the host follows the store.
        let n = smol::block_on(vdi_appliance::tasks::recover_all(
            &t.s,
            &vdi_appliance::tasks::builtin_owners(),
        ))
        .unwrap();
        assert_eq!(n, 1);
        smol::block_on(t.s.network_reconcile()).unwrap();
        let task = t.s.task_get(&task.id).unwrap();
        assert!(t.s.store.saga_list().unwrap().is_empty());
        if step == "mark" && fault == Fault::CrashAfter {
            // Every step had finished: initialised, and it stays so.
            assert_eq!(task.state.as_str(), "succeeded", "{:?}", task.log);
            assert!(t.s.controller_status().unwrap().is_some());
            continue;
        }
        assert_eq!(
            t.state(),
            before,
            "after recovering a crash at `{step}` ({fault:?}, {data})"
        );
        assert_eq!(task.state.as_str(), "failed");
        assert!(
            task.log.last().unwrap().contains("undone"),
            "{:?}",
            task.log
        );
        assert!(t.slow.join("instances/keep.qcow2").exists());
        assert!(t.fast.join("datas").is_dir());
        // And initialisation works afterwards, in the admin's default pool.
        let out = t.ok("/api/v1/controller/init", body);
        let lab = t.s.resource_pool_find("lab").unwrap().unwrap();
        assert_eq!(out["pool_uuid"], lab.uuid.to_string());
    }
}

#[test]
fn async_init_answers_a_task_to_follow() {
    let t = harness();
    let mut b = t.body();
    b["async"] = json!(true);
    let out = t.ok("/api/v1/controller/init", b);
    let id = out["task_id"].as_str().unwrap().to_string();
    let mut state = Value::Null;
    for _ in 0..200 {
        state = t.get(&format!("/api/v1/task/{id}"));
        if state["state"] == "succeeded" || state["state"] == "failed" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(state["state"], "succeeded", "{state}");
    assert!(state["result"]["bridge"].is_string(), "{state}");
    // A validation error still comes back at once, not as a task.
    let t = harness();
    let mut b = t.body();
    b["async"] = json!(true);
    b["vlan_id"] = json!("ten");
    t.fails(b, 422, "vlan_id");
}

#[test]
fn node_check_reports_this_host_and_refuses_others() {
    let t = harness();
    let v = t.ok(
        "/api/v1/node/check",
        json!({"ip": "192.0.2.49", "root_pwd": "123"}),
    );
    assert_eq!(v["hostname"], "fakehost");
    let list = v["interface_list"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    let ens192 = &list[0];
    assert_eq!(ens192["interface"], "ens192");
    assert_eq!(ens192["ip"], "192.0.2.49");
    assert_eq!(ens192["mask"], "255.255.255.0");
    assert_eq!(ens192["mac"].as_str().unwrap().len(), 17);
    assert_eq!(v["default_network_info"], json!({}));
    assert_eq!(v["virtualization"]["supported"], true);
    assert_eq!(v["storage_list"].as_array().unwrap().len(), 2);
    assert_eq!(v["default_route"]["interface"], "ens192");
    // Loopback is this host too (the setup page behind a port forward).
    t.ok("/api/v1/node/check", json!({"ip": "127.0.0.1"}));
    // What is missing is named; `check: "true"` makes it an error.
    *t.host.cpu_flag.lock().unwrap() = None;
    t.host.kvm.store(false, std::sync::atomic::Ordering::SeqCst);
    let v = t.ok(
        "/api/v1/node/check",
        json!({"ip": "192.0.2.49", "root_pwd": "123"}),
    );
    assert_eq!(v["virtualization"]["supported"], false);
    assert_eq!(v["virtualization"]["missing"].as_array().unwrap().len(), 2);
    let (st, v) = t.call(
        "POST",
        "/api/v1/node/check",
        Some(json!({"ip": "192.0.2.49", "root_pwd": "1", "check": "true"})),
    );
    assert_eq!((st, v["code"].as_i64()), (409, Some(20206)), "{v}");
    // Another server goes over SSH (tests/api/node.rs); this one is not there.
    let (st, v) = t.call(
        "POST",
        "/api/v1/node/check",
        Some(json!({"ip": "198.51.100.9", "root_pwd": "1"})),
    );
    assert_eq!((st, v["code"].as_i64()), (409, Some(20231)), "{v}");
    let (st, v) = t.call("POST", "/api/v1/node/check", Some(json!({"ip": "x"})));
    assert_eq!(st, 422, "{v}");
}

#[test]
fn unattended_init_from_an_answer_file_is_idempotent() {
    // A second server, with no admin yet in its store.
    let r = Rig::build(Spec {
        nics: &[("eth0", &["192.0.2.8/24"])],
        route: Some(("192.0.2.1", "eth0")),
        mounts: &["opt-slow"],
    });
    let (s, net) = (r.s.clone(), r.f.net.clone());
    let answers = format!(
        "admin_password = \"first-boot-pass1\"\nip = \"192.0.2.8\"\nnetwork_name = \"default\"\nswitch_name = \"default\"\nswitch_type = \"flat\"\nis_compute = true\n[storages]\n\"{}\" = \"1,2,3,4\"\n",
        r.mounts[0].display()
    );
    let lines = smol::block_on(vdi_appliance::firstboot::init_from_answers(&s, &answers)).unwrap();
    assert!(lines.last().unwrap().contains("initialised"), "{lines:?}");
    assert!(s.store.controller().unwrap().is_some());
    assert_eq!(
        s.admin_verify("admin", "first-boot-pass1").unwrap(),
        Some(true)
    );
    let links = net.snapshot();
    // Same answers again: nothing to do, nothing changed.
    let lines = smol::block_on(vdi_appliance::firstboot::init_from_answers(&s, &answers)).unwrap();
    assert!(lines[0].contains("already initialised"), "{lines:?}");
    assert_eq!(net.snapshot(), links);
    // Other answers, or another password: refused.
    let other = answers.replace(
        "switch_type = \"flat\"",
        "switch_type = \"vlan\"\nvlan_id = 5",
    );
    let e = smol::block_on(vdi_appliance::firstboot::init_from_answers(&s, &other)).unwrap_err();
    assert!(e.message.contains("other answers"), "{e:?}");
    let wrong = answers.replace("first-boot-pass1", "another-pass-2");
    let e = smol::block_on(vdi_appliance::firstboot::init_from_answers(&s, &wrong)).unwrap_err();
    assert!(e.message.contains("another password"), "{e:?}");
    // JSON works too, and a broken file names its problem.
    assert!(smol::block_on(vdi_appliance::firstboot::init_from_answers(
        &s,
        "{\"ip\": 1}"
    ))
    .unwrap_err()
    .message
    .contains("admin_password"));
}

/// The console is one page at `/` (it asks `setup/status` itself whether to
/// show the first-boot setup or sign in), with its hashed bundle beside it.
/// `make ui` builds it before the tests; an unbuilt binary fails here.
#[test]
fn the_console_page_and_its_bundle_are_embedded() {
    let t = harness();
    let get = |path: &str| smol::block_on(http::request(&t.app, "GET", path, None, None));
    let (st, html) = get("/");
    assert_eq!(st, 200);
    assert!(
        !html.contains("not built"),
        "the console is not built: run `make ui`"
    );
    let js = html
        .split('"')
        .find(|s| s.starts_with("/assets/app-") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("no bundle named in {html}"));
    let (st, body) = get(js);
    assert_eq!(st, 200);
    assert!(
        body.contains("/api/v1/setup/status"),
        "the bundle does not ask setup/status"
    );
    assert!(
        body.contains("/api/v1/controller/init"),
        "the bundle has no first-boot setup"
    );
    assert_eq!(get("/assets/app-nothing.js").0, 404);
    // Status is public; init is not.
    assert_eq!(get("/api/v1/setup/status").0, 200);
    let (st, _) = smol::block_on(http::request(
        &t.app,
        "POST",
        "/api/v1/controller/init",
        None,
        Some("{}"),
    ));
    assert_eq!(st, 401);
    t.ok("/api/v1/controller/init", t.body());
    assert_eq!(get("/").1, html, "one page before and after initialisation");

    // Caching and compression: the page is never cached, the hashed bundle
    // is immutable, and a client that accepts brotli or gzip gets the
    // precompressed twin (smaller than the bundle itself).
    let head = |path: &str, enc: Option<&str>| {
        let url = tide::http::Url::parse(&format!("http://localhost{path}")).unwrap();
        let mut req = tide::http::Request::new(tide::http::Method::Get, url);
        req.set_peer_addr(Some("127.0.0.1:40000"));
        if let Some(e) = enc {
            req.insert_header("Accept-Encoding", e);
        }
        let mut res = smol::block_on(http::respond(&t.app, req));
        let h = |n: &str| {
            res.header(n)
                .map(|v| v.as_str().to_string())
                .unwrap_or_default()
        };
        let (cc, ce, csp) = (
            h("Cache-Control"),
            h("Content-Encoding"),
            h("Content-Security-Policy"),
        );
        let len = smol::block_on(res.body_bytes()).unwrap().len();
        (cc, ce, csp, len)
    };
    let (cc, _, csp, _) = head("/", None);
    assert_eq!(cc, "no-store");
    assert!(
        csp.contains("script-src") || csp.contains("default-src 'self'"),
        "{csp}"
    );
    let (cc, ce, _, plain) = head(js, None);
    assert_eq!(
        (cc.as_str(), ce.as_str()),
        ("public, max-age=31536000, immutable", "")
    );
    let (_, ce, _, br) = head(js, Some("gzip, deflate, br"));
    assert_eq!(ce, "br");
    let (_, ce, _, gz) = head(js, Some("gzip"));
    assert_eq!(ce, "gzip");
    assert!(
        br < gz && gz < plain / 2,
        "br {br} < gzip {gz} < plain {plain}/2"
    );
}

#[test]
fn an_initialised_store_survives_export_and_import() {
    let t = harness();
    t.ok("/api/v1/controller/init", t.body());
    let text = t.s.store.export_json().unwrap();
    let other = Store::temporary().unwrap();
    other.import_json(&text).unwrap();
    assert_eq!(other.controller().unwrap(), t.s.store.controller().unwrap());
    assert_eq!(other.local_node().unwrap(), t.s.store.local_node().unwrap());
    assert_eq!(other.node_list().unwrap(), t.s.store.node_list().unwrap());
    assert_eq!(
        other.storage_list().unwrap(),
        t.s.store.storage_list().unwrap()
    );
    assert_eq!(
        other.export_json().unwrap(),
        text,
        "a second export is identical"
    );
    // A dump whose controller names a node it does not carry is refused.
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["nodes"] = json!([]);
    let e = Store::temporary()
        .unwrap()
        .import_json(&v.to_string())
        .unwrap_err();
    assert!(e.message.contains("controller.node"), "{e:?}");
}
