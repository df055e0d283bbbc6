//! API tier of joining nodes over fake SSH servers and a fake internal
//! API: `node/check` failure classes, `node/add` with the documented body,
//! its validation, the undo of a failure injected at each step (both
//! sides as before), registration and heartbeats, `node/delete` (refused
//! while hosting, forced when unreachable), `node/shutdown`/`node/reboot`.

use crate::common;
use crate::common::rig::{Rig, Spec};

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vdi_appliance::app::{self, Fakes};
use vdi_appliance::domain::saga::Fault;
use vdi_appliance::domain::task::TaskState;
use vdi_appliance::fakes::{FakeHost, FakeNet, Reach};
use vdi_appliance::http::{self, State};
use vdi_appliance::service::node::add::JOIN_STEPS;
use vdi_appliance::service::{Services, Settings};
use vdi_appliance::store::Store;

const IP: &str = "198.51.100.11";
const PW: &str = "root-pw";

struct T {
    app: tide::Server<State>,
    s: Arc<Services>,
    f: Fakes,
    token: String,
    body: Value,
    mounts: Vec<String>,
    _dir: tempfile::TempDir,
}

fn harness() -> T {
    let r = Rig::build_with(
        Spec {
            nics: &[("ens192", &["192.0.2.49/24"]), ("ens224", &[])],
            route: None,
            mounts: &["fast"],
        },
        |s| s.nodes.join_timeout = Duration::from_secs(5),
        |_| {},
    );
    let token = r.admin_token();
    let (app, s, f, dir, fast) = (r.app, r.s, r.f, r.dir, r.mounts[0].clone());
    let (st, v) = common::app_call(
        &app,
        &token,
        "POST",
        "/api/v1/controller/init",
        Some(
            json!({"ip": "192.0.2.49", "network_name": "default", "switch_name": "sw0",
                    "switch_type": "flat", "storages": {fast.to_str().unwrap(): "1,2,3,4"},
                    "is_compute": true, "manage_interface": "ens192",
                    "image_interface": "ens192", "data_interface": "ens224"}),
        ),
    );
    assert_eq!(st, 200, "{v}");
    let d = &v["data"];
    let body = json!({"password": PW, "ip": IP, "pool_uuid": d["pool_uuid"],
                      "network_uuid": d["network_uuid"], "switch_uuid": d["switch_uuid"],
                      "interface": "eth1", "manage_interface": "eth0", "image_interface": "eth0"});
    let mounts = vec![fast.to_str().unwrap().to_string()];
    let t = T {
        app,
        s,
        f,
        token,
        body,
        mounts,
        _dir: dir,
    };
    let m = t.mounts.clone();
    t.f.remote.add(IP, |s| {
        s.password = PW.into();
        s.mounts = m;
    });
    t
}

impl T {
    fn call(&self, path: &str, body: Value) -> (u16, Value) {
        common::app_call(&self.app, &self.token, "POST", path, Some(body))
    }
    fn ok(&self, path: &str, body: Value) -> Value {
        let (st, v) = self.call(path, body);
        assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{path} -> {v}");
        v["data"].clone()
    }
    fn code(&self, path: &str, body: Value) -> i64 {
        let (st, v) = self.call(path, body);
        assert_ne!(st, 200, "{path} should fail: {v}");
        v["code"].as_i64().unwrap()
    }
    fn check(&self) -> Value {
        self.ok(
            "/api/v1/node/check",
            json!({"ip": IP, "root_pwd": PW, "check": true}),
        )
    }
    /// The node joined at `IP`.
    fn joined(&self) -> vdi_appliance::domain::node::Node {
        let nodes = self.s.node_list().unwrap();
        nodes
            .into_iter()
            .find(|n| n.ip == IP)
            .expect("a node at IP")
    }
    fn nodes(&self) -> usize {
        self.s.node_list().unwrap().len()
    }
    /// `node/add` asynchronously, registering for the node the moment it
    /// has its membership (as its service would); the task at its end.
    fn add_registered(&self) -> Value {
        let mut body = self.body.clone();
        body["async"] = json!(true);
        let task = self.ok("/api/v1/node/add", body)["task_id"]
            .as_str()
            .unwrap()
            .to_string();
        let t0 = Instant::now();
        let mut registered = false;
        loop {
            let (_, v) = common::app_call(
                &self.app,
                &self.token,
                "GET",
                &format!("/api/v1/task/{task}"),
                None,
            );
            let state = v["data"]["state"].as_str().unwrap_or("").to_string();
            if state == "succeeded" || state == "failed" {
                return v["data"].clone();
            }
            if let (false, Some(m)) = (registered, self.f.remote.server(IP).membership) {
                let reg = register_body(&m.node_uuid.to_string(), 16 << 30);
                let (st, v) = common::app_call(
                    &self.app,
                    &m.credential,
                    "POST",
                    "/api/v1/node/register",
                    Some(reg),
                );
                assert_eq!(st, 200, "{v}");
                registered = true;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "node/add did not end"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// What a node's service sends to `node/register`.
fn register_body(node: &str, memory: u64) -> Value {
    json!({"node_uuid": node, "version": env!("CARGO_PKG_VERSION"),
           "listen_port": 5000, "probe": probe_json(),
           "inventory": {"hostname": "n", "os": "", "kernel": "",
             "cpu": {"model": "x", "sockets": 1, "cores": 4, "threads": 8, "virt_flag": "vmx"},
             "memory_bytes": memory, "numa": [], "disks": [], "nics": [], "gpus": []}})
}

fn probe_json() -> Value {
    json!({"version": env!("CARGO_PKG_VERSION"), "hostname": "node-a",
           "nics": [{"name": "eth0", "mac": "52:54:00:00:00:00", "addrs": [[IP, 24]], "speed_mbps": 1000,
                     "running": true, "driver": null, "pci": null, "bridge": null},
                    {"name": "eth1", "mac": "52:54:00:00:00:01", "addrs": [], "speed_mbps": 1000,
                     "running": true, "driver": null, "pci": null, "bridge": null}],
           "route": null, "cpu_flag": "vmx", "kvm_device": true, "libvirt": {"Ok": "libvirt"},
           "mounts": [], "service": {"Ok": {"role": "compute", "controller": null, "listen_port": 5000}}})
}

#[test]
fn check_reports_each_failure_class() {
    let t = harness();
    let c = t.check();
    assert_eq!(c["host_key"], format!("SHA256:fake-{IP}"));
    assert_eq!(c["interface_list"][1]["interface"], "eth1");
    assert_eq!(c["role_paths"][0]["present"], true, "{c}");
    assert_eq!(c["service"]["role"], "setup");
    let code = |f: &dyn Fn(&mut vdi_appliance::fakes::FakeServer), pw: &str| {
        t.f.remote.add(IP, |s| {
            s.password = PW.into();
            f(s)
        });
        t.code(
            "/api/v1/node/check",
            json!({"ip": IP, "root_pwd": pw, "check": "true"}),
        )
    };
    assert_eq!(code(&|_| {}, "nope"), 20234);
    assert_eq!(code(&|s| s.reach = Reach::Unreachable, PW), 20231);
    assert_eq!(code(&|s| s.reach = Reach::Refused, PW), 20232);
    assert_eq!(code(&|s| s.reach = Reach::Timeout, PW), 20233);
    assert_eq!(code(&|s| s.version = None, PW), 20236);
    assert_eq!(code(&|s| s.version = Some("0.0.1".into()), PW), 20237);
    assert_eq!(code(&|s| s.role = "controller".into(), PW), 20238);
    assert_eq!(code(&|s| s.virt_capable = false, PW), 20206);
    // Not capable is only an error when `check` is true.
    let v = t.ok(
        "/api/v1/node/check",
        json!({"ip": IP, "root_pwd": PW, "check": false}),
    );
    assert_eq!(v["virtualization"]["supported"], false);
    // Another server needs the password; bad bodies name the field.
    let (st, v) = t.call("/api/v1/node/check", json!({"ip": IP}));
    assert_eq!(st, 422);
    assert!(v["msg"].as_str().unwrap().contains("root_pwd"), "{v}");
    let (st, _) = t.call(
        "/api/v1/node/check",
        json!({"ip": IP, "root_pwd": PW, "x": 1}),
    );
    assert_eq!(st, 422);
}

#[test]
fn add_joins_with_key_after_the_password_and_records_everything() {
    let t = harness();
    // Unchecked: refused before any work.
    assert_eq!(t.code("/api/v1/node/add", t.body.clone()), 20239);
    t.check();
    // Body validation names the field.
    for (field, bad) in [
        ("pool_uuid", json!("x")),
        ("interface", json!("bad name!")),
        ("ip", json!("1.2.3")),
    ] {
        let mut b = t.body.clone();
        b[field] = bad;
        let (st, v) = t.call("/api/v1/node/add", b);
        assert_eq!(st, 422, "{field}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{v}");
    }
    let mut b = t.body.clone();
    b["interface"] = json!("eth9");
    t.check();
    let task = {
        let mut b2 = b.clone();
        b2["async"] = json!(true);
        let id = t.ok("/api/v1/node/add", b2)["task_id"]
            .as_str()
            .unwrap()
            .to_string();
        smol::block_on(t.s.task_settled(&id.parse().unwrap())).unwrap()
    };
    assert!(task.error.unwrap().contains("eth9"));
    assert_eq!(t.nodes(), 1);

    t.check();
    let done = t.add_registered();
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(t.nodes(), 2);
    let srv = t.f.remote.server(IP);
    let m = srv.membership.clone().unwrap();
    assert!(
        m.controller.starts_with("http://192.0.2.49:"),
        "{}",
        m.controller
    );
    // Password only for probe and join; the key afterwards.
    let ran = t.f.remote.ran.lock().unwrap().clone();
    let verbs: Vec<(bool, String)> = ran
        .iter()
        .map(|r| {
            (
                r.by_password,
                r.cmd.split_whitespace().nth(1).unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        &verbs[verbs.len() - 3..],
        [
            (true, "node-probe".to_string()),
            (true, "node-join".to_string()),
            (false, "node-probe".to_string())
        ]
    );
    assert!(ran
        .iter()
        .all(|r| !r.stdin.contains(PW) && !r.cmd.contains(PW)));
    let node = t.joined();
    assert_eq!(node.inventory.memory_bytes, 16 << 30);
    assert_eq!(node.data_interface, "eth1");
    let nics: Vec<_> =
        t.s.nic_list()
            .unwrap()
            .into_iter()
            .filter(|n| n.node == node.uuid)
            .collect();
    assert_eq!(nics.len(), 2);
    let sw = t.s.store.vswitch_list().unwrap();
    assert!(sw[0]
        .uplinks
        .iter()
        .any(|u| u.node == node.uuid && u.interface == "eth1"));
    let storages: Vec<_> =
        t.s.store
            .storage_list()
            .unwrap()
            .into_iter()
            .filter(|s| s.node == node.uuid)
            .collect();
    assert_eq!(storages.len(), 1);
    assert_eq!(storages[0].mount, t.mounts[0]);
    // Heartbeats with the node's credential; another's is refused.
    let hb = json!({"node_uuid": node.uuid.to_string()});
    let (st, v) = common::app_call(
        &t.app,
        &m.credential,
        "POST",
        "/api/v1/node/heartbeat",
        Some(hb.clone()),
    );
    assert_eq!(st, 200);
    // The answer carries the networks the node bridges.
    assert_eq!(v["data"]["networks"][0]["interface"], "eth1", "{v}");
    // The node restarts with more memory: its record follows.
    let (st, v) = common::app_call(
        &t.app,
        &m.credential,
        "POST",
        "/api/v1/node/register",
        Some(register_body(&node.uuid.to_string(), 32 << 30)),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        t.s.store
            .node_get(&node.uuid)
            .unwrap()
            .inventory
            .memory_bytes,
        32 << 30
    );
    let (st, _) = common::app_call(&t.app, "wrong", "POST", "/api/v1/node/heartbeat", Some(hb));
    assert_eq!(st, 401);
    // A second add of the same address is refused.
    assert_eq!(
        t.code("/api/v1/node/check", json!({"ip": IP, "root_pwd": PW})),
        20238
    );

    // Power: through the node's internal API; the controller needs force.
    t.ok(
        "/api/v1/node/shutdown",
        json!({"uuid": node.uuid.to_string()}),
    );
    let calls = t.f.node_client.calls.lock().unwrap().clone();
    assert_eq!(calls.last().unwrap().path, "/api/v1/internal/power");
    assert_eq!(calls.last().unwrap().body["op"], "shutdown");
    assert_eq!(calls.last().unwrap().base, format!("http://{IP}:5000"));
    let ctl = t.s.store.local_node().unwrap().unwrap().to_string();
    assert_eq!(t.code("/api/v1/node/reboot", json!({"uuid": ctl})), 20241);
    t.ok("/api/v1/node/reboot", json!({"uuid": ctl, "force": true}));
    assert_eq!(t.f.power.ran.lock().unwrap().clone(), ["systemctl reboot"]);

    // Delete: unreachable → refused, nothing changed; forced → removed.
    t.f.remote.with(IP, |s| s.reach = Reach::Unreachable);
    let id = node.uuid.to_string();
    assert_eq!(t.code("/api/v1/node/delete", json!({"uuid": id})), 20231);
    assert_eq!(t.nodes(), 2);
    t.f.remote.with(IP, |s| s.reach = Reach::Up);
    t.ok("/api/v1/node/delete", json!({"uuid": id}));
    assert_eq!(t.nodes(), 1);
    let srv = t.f.remote.server(IP);
    assert!(srv.membership.is_none() && srv.authorized_keys.is_empty());
    assert!(t.s.store.vswitch_list().unwrap()[0]
        .uplinks
        .iter()
        .all(|u| u.node != node.uuid));
    assert_eq!(t.s.store.node_credential(&node.uuid).unwrap(), None);
    assert_eq!(t.code("/api/v1/node/delete", json!({"uuid": ctl})), 20241);
}

/// What a join leaves behind on both sides, to compare with before.
fn world(t: &T) -> String {
    let srv = t.f.remote.server(IP);
    format!(
        "nodes {:?}\nswitches {:?}\nstorages {}\ncredentials {:?}\nsagas {:?}\nmembership {:?} keys {:?} role {}",
        t.s.store.node_list().unwrap().iter().map(|n| &n.name).collect::<Vec<_>>(),
        t.s.store.vswitch_list().unwrap(),
        t.s.store.storage_list().unwrap().len(),
        t.s.store.node_credentials().unwrap(),
        t.s.store.saga_list().unwrap(),
        srv.membership,
        srv.authorized_keys,
        srv.role,
    )
}

#[test]
fn a_failure_at_each_step_leaves_both_sides_as_before() {
    let t = harness();
    let before = world(&t);
    for step in JOIN_STEPS {
        t.s.saga_fault("node/add", Some((step, Fault::Fail)));
        t.check();
        let done = t.add_registered();
        assert_eq!(done["state"], "failed", "{step}: {done}");
        assert!(done["error"].to_string().contains(step), "{step}: {done}");
        assert!(
            done["log"].to_string().contains("undoing"),
            "{step}: {done}"
        );
        assert_eq!(world(&t), before, "after a failure at `{step}`");
    }
    // The node refusing the join: undone as well.
    t.s.saga_fault("node/add", None);
    t.f.remote
        .with(IP, |s| s.fail_on = Some("node-join".into()));
    t.check();
    let done = t.add_registered();
    assert_eq!(done["state"], "failed");
    assert_eq!(world(&t), before);
    t.f.remote.with(IP, |s| s.fail_on = None);
    t.check();
    assert_eq!(t.add_registered()["state"], "succeeded");
    assert_eq!(t.nodes(), 2);
    assert!(t.s.store.saga_list().unwrap().is_empty());
}

#[test]
fn a_delete_fails_whole_before_the_node_leaves_and_is_finished_after_it() {
    let t = harness();
    for step in ["leave", "uplinks", "forget"] {
        for fault in [Fault::Fail, Fault::CrashBefore, Fault::CrashAfter] {
            t.check();
            assert_eq!(t.add_registered()["state"], "succeeded");
            let joined = world(&t);
            let node = t.joined();
            t.s.saga_fault("node/delete", Some((step, fault)));
            let (st, v) = t.call("/api/v1/node/delete", json!({"uuid": node.uuid}));
            t.s.saga_fault("node/delete", None);
            assert_eq!(st, 500, "{step} {fault:?}: {v}");
            if step == "leave" && fault == Fault::Fail {
                // The pivot failed: nothing changed, on either side.
                assert_eq!(world(&t), joined);
                assert!(t.s.store.saga_list().unwrap().is_empty());
                t.ok("/api/v1/node/delete", json!({"uuid": node.uuid}));
            } else {
                // A crash (or a failure past the node's leaving): the next
                // start finishes the removal.
                let task = t.s.task_list().unwrap().pop().unwrap();
                assert_eq!(task.kind, "node/delete");
                assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
                let task = t.s.task_get(&task.id).unwrap();
                assert_eq!(
                    task.state.as_str(),
                    "succeeded",
                    "{step} {fault:?}: {:?}",
                    task.log
                );
            }
            assert_eq!(t.nodes(), 1, "{step} {fault:?}");
            let srv = t.f.remote.server(IP);
            assert!(srv.membership.is_none() && srv.authorized_keys.is_empty());
            assert!(t.s.store.node_credentials().unwrap().is_empty());
            assert!(t.s.store.saga_list().unwrap().is_empty());
        }
    }
}

#[test]
fn a_join_cut_short_by_a_crash_is_undone_on_both_sides_at_the_next_start() {
    let t = harness();
    let mut before = world(&t);
    for step in JOIN_STEPS {
        for fault in [Fault::CrashBefore, Fault::CrashAfter] {
            t.s.saga_fault("node/add", Some((step, fault)));
            t.check();
            let done = t.add_registered();
            assert_eq!(done["state"], "failed", "{step} {fault:?}: {done}");
            let id: uuid::Uuid = done["uuid"].as_str().unwrap().parse().unwrap();
            // The journal survives the "crash"; nothing was undone yet.
            let j = t.s.store.saga_get(&id).unwrap().expect("journal");
            assert_eq!(j.kind, "node/add");
            assert!(j.steps.iter().any(|(n, _)| n == step), "{j:?}");
            assert!(
                !j.facts.contains(PW),
                "the root password is never journalled"
            );
            t.s.saga_fault("node/add", None);
            // The process died while the task was running.
            t.s.store
                .task_update(&id, &|x| {
                    x.state = TaskState::Running;
                    x.finished_at = None;
                })
                .unwrap();
            let n = smol::block_on(vdi_appliance::tasks::recover_all(
                &t.s,
                &vdi_appliance::tasks::builtin_owners(),
            ))
            .unwrap();
            assert_eq!(n, 1);
            let task = t.s.task_get(&id).unwrap();
            let last = task.log.last().unwrap().clone();
            if step == "active" && fault == Fault::CrashAfter {
                // Every step had finished: the node stays joined.
                assert_eq!(task.state, TaskState::Succeeded, "{last}");
                assert_eq!(t.nodes(), 2);
                let node = t.joined();
                t.f.remote.with(IP, |s| s.reach = Reach::Up);
                t.ok("/api/v1/node/delete", json!({"uuid": node.uuid}));
                // A removal touches the switch's `updated_at`; nothing else differs.
                assert_eq!(t.nodes(), 1);
                before = world(&t);
            } else {
                assert_eq!(task.state, TaskState::Failed, "{step} {fault:?}: {last}");
                assert!(last.contains("undone"), "{last}");
            }
            assert_eq!(world(&t), before, "after a crash at `{step}` ({fault:?})");
        }
    }
    // And a join after all that works.
    t.check();
    assert_eq!(t.add_registered()["state"], "succeeded");
}

/// The node protocol's version: a message of another version (or of an
/// appliance from before versions) is refused with both versions named,
/// and every answer names ours.
#[test]
fn messages_of_another_protocol_version_are_refused_naming_both() {
    let t = harness();
    let hdr = vdi_appliance::domain::cluster::PROTOCOL_HEADER;
    let ours = vdi_appliance::domain::cluster::PROTOCOL.to_string();
    let call = |path: &str, sent: Option<&str>, body: &Value| {
        let headers: Vec<(&str, &str)> = sent.map(|v| (hdr, v)).into_iter().collect();
        let (st, answered, text) = smol::block_on(vdi_appliance::http::request_with(
            &t.app,
            "127.0.0.1:40000",
            "POST",
            path,
            Some("not-a-credential"),
            &headers,
            Some(&body.to_string()),
        ));
        let named = answered
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(hdr))
            .map(|(_, v)| v.clone());
        (st, named, serde_json::from_str::<Value>(&text).unwrap())
    };
    let hb = json!({"node_uuid": uuid::Uuid::new_v4().to_string()});
    for (sent, says) in [
        (Some("2"), "speaks node protocol 2"),
        (None, "speaks node protocol 0"),
    ] {
        for path in ["/api/v1/node/heartbeat", "/api/v1/internal/vm"] {
            let (st, named, v) = call(path, sent, &hb);
            assert_eq!((st, v["code"].as_i64()), (409, Some(20237)), "{path}: {v}");
            let msg = v["msg"].as_str().unwrap();
            assert!(
                msg.contains(says) && msg.contains(&format!("speaks {ours}")),
                "{msg}"
            );
            assert_eq!(named.as_deref(), Some(ours.as_str()), "{path}");
        }
    }
    assert_eq!(
        call("/api/v1/node/heartbeat", Some("one"), &hb).2["code"],
        10002
    );
    // Our version gets past the check to the credential.
    let (st, named, _) = call("/api/v1/node/heartbeat", Some(&ours), &hb);
    assert_eq!((st, named.as_deref()), (401, Some(ours.as_str())));
    // report_monitor is documented for others: no header is heard too.
    let report = json!({"node_uuid": hb["node_uuid"], "type": "half_min_monitor",
        "name": "n", "timestamp": 1_700_000_000,
        "data": {"cpu": {"user": 1, "system": 1, "idle": 98, "percent": 2},
                 "mem": {"total": 10, "used": 5, "free": 5, "percent": 50}}});
    assert_eq!(call("/api/v1/node/report_monitor", None, &report).0, 401);
    assert_eq!(
        call("/api/v1/node/report_monitor", Some("2"), &report).0,
        409
    );
}

#[test]
fn the_root_password_is_set_with_the_setup_token_then_by_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("d"), &Default::default()).unwrap());
    let f = app::fakes(FakeNet::default(), FakeHost::default());
    let s = app::services(
        store,
        &f.backends(),
        Settings::for_dir(dir.path().to_path_buf()),
        app::global_spawner(),
    );
    let path = s.auth_setup_prepare().unwrap().expect("a setup token");
    let setup = f.files.get(&path).unwrap().trim().to_string();
    let web = http::app(s.clone());
    let call = |token: &str, path: &str, body: Value| {
        common::app_call(&web, token, "POST", path, Some(body))
    };
    let (st, v) = call(
        "",
        "/api/v1/setup/root_password",
        json!({"setup_token": "wrong", "password": "good-root-pw"}),
    );
    assert_ne!(st, 200);
    assert_eq!(v["code"], 11005, "{v}");
    let (_, v) = call(
        "",
        "/api/v1/setup/root_password",
        json!({"setup_token": setup, "password": "short"}),
    );
    assert!(v["msg"].as_str().unwrap().contains("password"), "{v}");
    let (_, v) = call(
        "",
        "/api/v1/setup/root_password",
        json!({"setup_token": setup, "password": "bad:colon-pw"}),
    );
    assert!(v["msg"].as_str().unwrap().contains("`:`"), "{v}");
    assert!(f.accounts.set.lock().unwrap().is_empty());
    let (st, v) = call(
        "",
        "/api/v1/setup/root_password",
        json!({"setup_token": setup, "password": "good-root-pw"}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        *f.accounts.set.lock().unwrap(),
        [("root".to_string(), "good-root-pw".to_string())]
    );
    // Without a token the admin route is closed; with an admin it opens.
    let (st, _) = call(
        "",
        "/api/v1/system/root_password",
        json!({"password": "other-root-pw"}),
    );
    assert_eq!(st, 401);
    s.admin_set_password("admin", "s3cret-pass").unwrap();
    let token = common::app_token(&web, "admin", "s3cret-pass");
    let (st, v) = call(
        &token,
        "/api/v1/system/root_password",
        json!({"password": "other-root-pw"}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(f.accounts.set.lock().unwrap().len(), 2);
}
