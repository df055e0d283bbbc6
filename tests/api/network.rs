//! API tier for virtual switches, networks and subnets over a fake host
//! network: the documented bodies, the error paths, what reaches the host,
//! rollback on a refused change, and the confirmation of management moves.

use crate::common;
use crate::common::rig::{addr, Rig, Spec};

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use vdi_appliance::domain::net::LinkKind;
use vdi_appliance::domain::node::{Nic, Node};
use vdi_appliance::fakes::{FakeClock, FakeNet};
use vdi_appliance::http::{self, State};
use vdi_appliance::service::Services;

struct T {
    app: tide::Server<State>,
    s: Arc<Services>,
    net: Arc<FakeNet>,
    clock: Arc<FakeClock>,
    token: String,
    node: String,
    eth0: String,
    eth1: String,
    eth2: String,
    _dir: tempfile::TempDir,
}

fn harness(confirm: Duration) -> T {
    let r = Rig::build_with(
        Spec {
            nics: &[("eth0", &["10.213.5.2/24"]), ("eth1", &[]), ("eth2", &[])],
            route: Some(("10.213.5.1", "eth0")),
            mounts: &[],
        },
        |s| s.network_confirm = confirm,
        |_| {},
    );
    let s = r.s.clone();
    // This node and its NICs, as controller initialisation records them.
    let node = Node::bare(uuid::Uuid::new_v4(), "ctl", "10.213.5.2", 0);
    s.store.node_put(&node).unwrap();
    s.store.local_node_set(&node.uuid).unwrap();
    let nic = |name: &str| {
        let n = Nic::bare(uuid::Uuid::new_v4(), node.uuid, name, 0);
        s.store.nic_put(&n).unwrap();
        n.uuid.to_string()
    };
    let (eth0, eth1, eth2) = (nic("eth0"), nic("eth1"), nic("eth2"));
    let token = r.admin_token();
    T {
        app: r.app,
        s,
        net: r.f.net,
        clock: r.f.clock,
        token,
        node: node.uuid.to_string(),
        eth0,
        eth1,
        eth2,
        _dir: r.dir,
    }
}

impl T {
    fn call(&self, path: &str, body: Value) -> (u16, Value) {
        let (st, text) = smol::block_on(http::request(
            &self.app,
            "POST",
            path,
            Some(&self.token),
            Some(&body.to_string()),
        ));
        (st, serde_json::from_str(&text).unwrap())
    }

    fn ok(&self, path: &str, body: Value) -> Value {
        let (st, v) = self.call(path, body.clone());
        assert_eq!(
            (st, v["code"].as_i64()),
            (200, Some(0)),
            "{path} {body} -> {v}"
        );
        v["data"].clone()
    }

    fn fails(&self, path: &str, body: Value, status: u16, code: i64, fragment: &str) {
        let (st, v) = self.call(path, body.clone());
        assert_eq!(
            (st, v["code"].as_i64().unwrap()),
            (status, code),
            "{path} {body} -> {v}"
        );
        assert!(v["msg"].as_str().unwrap().contains(fragment), "{v}");
    }

    fn get(&self, path: &str) -> Value {
        let (st, text) = smol::block_on(http::request(
            &self.app,
            "GET",
            path,
            Some(&self.token),
            None,
        ));
        assert_eq!(st, 200, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()["data"].clone()
    }

    fn switch(&self, name: &str, kind: &str, nic: &str) -> String {
        let d = self.ok(
            "/api/v1/vswitch/create",
            json!({"name": name, "type": kind, "desc": "d", "uplinks": [{"node_uuid": self.node, "nic_uuid": nic}]}),
        );
        d["uuid"].as_str().unwrap().to_string()
    }
}

#[test]
fn vlan_networks_make_sub_interfaces_and_bridges_on_the_host() {
    let t = harness(Duration::from_secs(60));
    let sw = t.switch("switch1", "VLAN", &t.eth1);
    // file 000, 网络接口 4 (with this switch's uuid).
    let n = t.ok(
        "/api/v1/network/create",
        json!({"name": "network1", "switch_uuid": sw, "vlan_id": 10, "subnet_info": {"subnet_name": "default",
               "start_ip": "172.16.1.10", "end_ip": "172.16.1.20", "netmask": "255.255.0.0", "gateway": "172.16.1.254", "dns1": "8.8.8.8"}}),
    );
    let bridge = n["bridge"].as_str().unwrap().to_string();
    assert!(
        n.get("confirm_required").is_none(),
        "eth1 carries no management address"
    );
    let vlan = t.net.link("eth1.10").expect("VLAN sub-interface");
    assert_eq!(
        vlan.kind,
        LinkKind::Vlan {
            parent: "eth1".into(),
            id: 10
        }
    );
    assert_eq!(vlan.master.as_deref(), Some(bridge.as_str()));
    assert!(t.net.link(&bridge).unwrap().up);
    // The generic query serves the new resources.
    assert_eq!(
        t.get("/api/v1.0/network/?searchtype=single&name=network1")["vlan_id"],
        10
    );
    let sub = t.get(&format!(
        "/api/v1.0/subnet/?network_uuid={}",
        n["uuid"].as_str().unwrap()
    ));
    assert_eq!(sub["count"], 1);
    assert_eq!(sub["results"][0]["netmask"], "255.255.0.0");
    assert_eq!(
        t.get("/api/v1.0/vswitch/?type=vlan")["results"][0]["network_count"],
        1
    );
    assert_eq!(t.get("/api/v1.0/node_nic/?interface=eth1")["count"], 1);
    // Same VLAN twice on one switch, no VLAN on a VLAN switch, bad ids.
    t.fails(
        "/api/v1/network/create",
        json!({"name": "n2", "switch_uuid": sw, "vlan_id": "10"}),
        409,
        20306,
        "VLAN 10",
    );
    t.fails(
        "/api/v1/network/create",
        json!({"name": "n2", "switch_uuid": sw}),
        409,
        20306,
        "`vlan_id`",
    );
    t.fails(
        "/api/v1/network/create",
        json!({"name": "n2", "switch_uuid": sw, "vlan_id": 4095}),
        422,
        10002,
        "`vlan_id`",
    );
    t.fails(
        "/api/v1/network/create",
        json!({"name": "network1", "switch_uuid": sw, "vlan_id": 11}),
        409,
        20301,
        "network1",
    );
    // Rename; subnet update through /network/update with a subnet uuid (the document's path reuse).
    t.ok(
        "/api/v1/network/update",
        json!({"uuid": n["uuid"], "value": {"name": "network2"}}),
    );
    let su = sub["results"][0]["uuid"].as_str().unwrap().to_string();
    let u = t.ok("/api/v1/network/update", json!({"name": "default", "uuid": su, "value": {"name": "subnet1", "start_ip": "172.16.1.10",
                  "end_ip": "172.16.1.30", "netmask": "255.255.0.0", "gateway": "172.16.1.254", "dns1": "8.8.8.8", "dns2": ""}}));
    assert_eq!(
        (u["name"].as_str(), u["end_ip"].as_str()),
        (Some("subnet1"), Some("172.16.1.30"))
    );
    t.fails(
        "/api/v1/network/update",
        json!({"uuid": n["uuid"], "value": {"start_ip": "1.2.3.4"}}),
        422,
        10002,
        "`value`",
    );
    // Delete: the switch is in use until the network goes; the bridge and VLAN go with it.
    t.fails(
        "/api/v1/vswitch/delete",
        json!({"uuid": sw}),
        409,
        20403,
        "switch1",
    );
    t.ok("/api/v1/network/delete", json!({"uuid": n["uuid"]}));
    assert!(t.net.link(&bridge).is_none() && t.net.link("eth1.10").is_none());
    assert_eq!(
        t.get("/api/v1.0/subnet/")["count"],
        0,
        "subnets go with the network"
    );
    t.ok("/api/v1/vswitch/delete", json!({"uuid": sw}));
}

#[test]
fn subnets_are_ip_pools() {
    let t = harness(Duration::from_secs(60));
    let sw = t.switch("s", "vlan", &t.eth1);
    let n = t.ok(
        "/api/v1/network/create",
        json!({"name": "n", "switch_uuid": sw, "vlan_id": 20}),
    );
    let nu = n["uuid"].as_str().unwrap();
    let body = |name: &str, start: &str, end: &str| json!({"name": name, "network_uuid": nu, "start_ip": start, "end_ip": end, "netmask": "255.255.255.0", "gateway": "10.20.0.1", "dns1": "8.8.8.8"});
    let a = t.ok(
        "/api/v1/subnet/create",
        body("a", "10.20.0.10", "10.20.0.20"),
    );
    t.fails(
        "/api/v1/subnet/create",
        body("b", "10.20.0.15", "10.20.0.30"),
        409,
        20312,
        "overlaps",
    );
    t.fails(
        "/api/v1/subnet/create",
        body("a", "10.20.0.40", "10.20.0.50"),
        409,
        20311,
        "`a`",
    );
    t.fails(
        "/api/v1/subnet/create",
        body("c", "10.20.0.50", "10.20.0.40"),
        422,
        10002,
        "`end_ip`",
    );
    t.fails(
        "/api/v1/subnet/create",
        body("c", "10.20.1.10", "10.20.1.20"),
        422,
        10002,
        "`gateway`",
    );
    t.fails(
        "/api/v1/subnet/create",
        body("c", "10.20.0.x", "10.20.0.20"),
        422,
        10002,
        "`start_ip`",
    );
    let au = uuid::Uuid::parse_str(a["uuid"].as_str().unwrap()).unwrap();
    let ip = t.s.store.ip_allocate(&au, "test", None).unwrap();
    assert_eq!(ip.to_string(), "10.20.0.10");
    t.fails(
        "/api/v1/subnet/update",
        json!({"uuid": au.to_string(), "value": {"start_ip": "10.20.0.11"}}),
        409,
        20313,
        "10.20.0.10",
    );
    t.fails(
        "/api/v1/subnet/delete",
        json!({"uuid": au.to_string()}),
        409,
        20313,
        "allocated",
    );
    t.fails(
        "/api/v1/network/delete",
        json!({"uuid": nu}),
        409,
        20303,
        "allocated",
    );
    t.s.store.ip_release(&au, ip).unwrap();
    t.ok(
        "/api/v1/subnet/update",
        json!({"uuid": au.to_string(), "value": {"start_ip": "10.20.0.11"}}),
    );
    assert_eq!(
        t.get("/api/v1.0/subnet/?searchtype=single&name=a")["start_ip"],
        "10.20.0.11"
    );
    t.ok("/api/v1/subnet/delete", json!({"uuid": au.to_string()}));
}

#[test]
fn bridging_the_management_nic_needs_confirmation_or_rolls_back() {
    let t = harness(Duration::from_millis(400));
    let sw = t.switch("mgmt", "flat", &t.eth0);
    let n = t.ok(
        "/api/v1/network/create",
        json!({"name": "lan", "switch_uuid": sw}),
    );
    assert_eq!(n["confirm_required"], true, "{n}");
    let bridge = n["bridge"].as_str().unwrap().to_string();
    assert_eq!(
        t.net.link(&bridge).unwrap().addrs,
        vec![addr("10.213.5.2/24")],
        "the address moved to the bridge"
    );
    assert_eq!(
        t.net.snapshot().1.unwrap().dev,
        bridge,
        "and the default route"
    );
    // A second change waits for the confirmation.
    t.fails(
        "/api/v1/vswitch/create",
        json!({"name": "x", "type": "flat", "uplinks": []}),
        409,
        20320,
        "confirm",
    );
    // Not confirmed: when its time is up the host and the store go back.
    t.clock.advance(Duration::from_millis(399));
    assert_eq!(t.clock.sleepers(), 1, "not yet");
    assert!(t.net.link(&bridge).is_some(), "not yet");
    t.clock.advance(Duration::from_millis(1));
    common::until("the rollback", Duration::from_secs(10), || {
        t.net.link(&bridge).is_none() && t.s.network_list().unwrap().is_empty()
    });
    assert_eq!(
        t.net.link("eth0").unwrap().addrs,
        vec![addr("10.213.5.2/24")]
    );
    assert_eq!(t.net.snapshot().1.unwrap().dev, "eth0");
    assert_eq!(t.get("/api/v1.0/network/")["count"], 0);
    // Confirmed in time: it stays.
    let n = t.ok(
        "/api/v1/network/create",
        json!({"name": "lan", "switch_uuid": sw}),
    );
    let d = t.ok("/api/v1/network/confirm", json!({}));
    assert_eq!(d["confirmed"], true);
    t.clock.advance(Duration::from_millis(400));
    common::until("the timer", Duration::from_secs(10), || {
        t.clock.sleepers() == 0
    });
    assert!(t.net.link(n["bridge"].as_str().unwrap()).is_some());
    assert_eq!(t.get("/api/v1.0/network/")["count"], 1);
    t.fails(
        "/api/v1/network/create",
        json!({"name": "lan2", "switch_uuid": sw}),
        409,
        20307,
        "mgmt",
    );
    assert_eq!(
        t.ok("/api/v1/network/confirm", json!({}))["confirmed"],
        false
    );
}

#[test]
fn a_change_the_kernel_refuses_leaves_store_and_host_as_they_were() {
    let t = harness(Duration::from_secs(60));
    let sw = t.switch("s", "vlan", &t.eth1);
    let before = t.net.snapshot();
    // Fail the third host change (after the VLAN and the bridge were made).
    t.net.fail_change(3);
    t.fails(
        "/api/v1/network/create",
        json!({"name": "n", "switch_uuid": sw, "vlan_id": 30}),
        500,
        14001,
        "injected",
    );
    assert_eq!(t.net.snapshot(), before, "the host steps were undone");
    assert_eq!(
        t.get("/api/v1.0/network/")["count"],
        0,
        "the store change was undone"
    );
    t.ok(
        "/api/v1/network/create",
        json!({"name": "n", "switch_uuid": sw, "vlan_id": 30}),
    );
}

#[test]
fn reconcile_recreates_what_was_deleted_behind_the_services_back() {
    let t = harness(Duration::from_secs(60));
    let sw = t.switch("s", "vlan", &t.eth1);
    let n = t.ok(
        "/api/v1/network/create",
        json!({"name": "n", "switch_uuid": sw, "vlan_id": 40}),
    );
    let bridge = n["bridge"].as_str().unwrap().to_string();
    t.net.yank(&bridge);
    let steps = smol::block_on(t.s.network_reconcile()).unwrap();
    assert!(!steps.is_empty());
    assert_eq!(
        t.net.link("eth1.40").unwrap().master.as_deref(),
        Some(bridge.as_str())
    );
    assert!(
        smol::block_on(t.s.network_reconcile()).unwrap().is_empty(),
        "idempotent"
    );
}

#[test]
fn vswitch_errors_and_the_deprecated_init() {
    let t = harness(Duration::from_secs(60));
    let c = "/api/v1/vswitch/create";
    t.fails(
        c,
        json!({"name": "s", "type": "vxlan", "uplinks": []}),
        422,
        10002,
        "`type`",
    );
    t.fails(
        c,
        json!({"name": "s", "type": "flat"}),
        422,
        10003,
        "`uplinks`",
    );
    t.fails(c, json!({"name": "s", "type": "flat", "uplinks": [{"node_uuid": t.node, "nic_uuid": "nope"}]}), 422, 10002, "`uplinks[0].nic_uuid`");
    let ghost = uuid::Uuid::new_v4().to_string();
    t.fails(
        c,
        json!({"name": "s", "type": "flat", "uplinks": [{"node_uuid": t.node, "nic_uuid": ghost}]}),
        404,
        20220,
        "uplinks[0]",
    );
    t.switch("s", "flat", &t.eth1);
    t.fails(
        c,
        json!({"name": "S", "type": "flat", "uplinks": []}),
        409,
        20401,
        "`S`",
    );
    t.fails(
        "/api/v1/vswitch/update",
        json!({"uuid": ghost, "value": {"name": "z"}}),
        404,
        20402,
        &ghost,
    );
    // network/init (deprecated) makes switch, network and subnet in one call.
    let d = t.ok(
        "/api/v1/network/init",
        json!({"network_name": "default", "switch_name": "default", "switch_type": "vlan", "vlan_id": 10,
               "subnet_info": {"name": "default", "start_ip": "172.16.1.10", "end_ip": "172.16.1.20", "netmask": "255.255.0.0",
                               "gateway": "172.16.1.254", "dns1": "8.8.8.8"},
               "uplink": {"node_uuid": t.node, "nic_uuid": t.eth1, "interface": "ens224"}}),
    );
    assert_eq!(d["network"]["vlan_id"], 10);
    assert!(t.net.link("eth1.10").is_some());
    // A failing init leaves no switch behind.
    let (st, _) = t.call(
        "/api/v1/network/init",
        json!({"network_name": "default", "switch_name": "other", "switch_type": "vlan", "vlan_id": 11,
               "subnet_info": {"name": "x", "start_ip": "172.17.1.10", "end_ip": "172.17.1.20", "netmask": "255.255.0.0",
                               "gateway": "172.17.1.254", "dns1": "8.8.8.8"},
               "uplink": {"node_uuid": t.node, "nic_uuid": t.eth1}}),
    );
    assert_eq!(st, 409);
    assert_eq!(t.get("/api/v1.0/vswitch/?name=other")["count"], 0);
}

fn bond_body(t: &T, mode: i64) -> Value {
    // file 000, 节点操作 7, with this node's NICs.
    json!({
        "ipaddr": "10.213.5.2",
        "node_uuid": t.node,
        "slaves": [{"nic_uuid": t.eth1, "nic_name": "eth1"}, {"nic_uuid": t.eth2, "nic_name": "eth2"}],
        "ip_list": [
            {"ip": "192.168.1.88", "netmask": "255.255.255.0", "is_manage": 0, "is_image": 0},
            {"ip": "192.168.1.89", "netmask": "255.255.255.0", "is_manage": 0, "is_image": 1}
        ],
        "gate_info": {"gateway": "192.168.1.254", "dns1": "8.8.8.8", "dns2": ""},
        "bond_info": {"dev": "bond0", "mode": mode, "slaves": ["eth1", "eth2"]}
    })
}

#[test]
fn bonds_add_edit_unbond() {
    let t = harness(Duration::from_secs(60));
    let d = t.ok("/api/v1/node/add_bond", bond_body(&t, 0));
    let bond = d["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        d["confirm_required"], true,
        "the gateway moved the default route to the bond: {d}"
    );
    t.ok("/api/v1/network/confirm", json!({}));
    let b = t.net.link("bond0").unwrap();
    assert_eq!(
        b.kind,
        LinkKind::Bond {
            mode: vdi_appliance::domain::net::BondMode::BalanceRr
        }
    );
    assert_eq!(
        b.addrs,
        vec![addr("192.168.1.88/24"), addr("192.168.1.89/24")]
    );
    assert_eq!(t.net.link("eth1").unwrap().master.as_deref(), Some("bond0"));
    assert_eq!(t.net.link("eth2").unwrap().master.as_deref(), Some("bond0"));
    assert_eq!(t.net.snapshot().1.unwrap().dev, "bond0");
    assert_eq!(
        t.get("/api/v1.0/bond/?dev=bond0")["results"][0]["slaves"],
        json!(["eth1", "eth2"])
    );
    // The bond is a NIC: a VLAN switch can use it as its uplink.
    let sw = t.switch("onbond", "vlan", &bond);
    t.ok(
        "/api/v1/network/create",
        json!({"name": "v", "switch_uuid": sw, "vlan_id": 10}),
    );
    assert_eq!(
        t.net.link("bond0.10").unwrap().kind,
        LinkKind::Vlan {
            parent: "bond0".into(),
            id: 10
        }
    );
    // networkd is told to leave every link of that stack alone…
    let brq = t
        .net
        .snapshot()
        .0
        .into_iter()
        .find(|l| l.kind == LinkKind::Bridge)
        .unwrap()
        .name;
    let mut owned = vec![
        "bond0".to_string(),
        "bond0.10".into(),
        brq.clone(),
        "eth1".into(),
        "eth2".into(),
    ];
    owned.sort();
    assert_eq!(t.net.claimed(), owned);
    // …and node/links shows the stack as the kernel has it.
    let links = t.get("/api/v1/node/links")["links"].clone();
    let row = |n: &str| {
        links
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("bond0")["kind"], "bond");
    assert_eq!(row("bond0")["bond_mode"], 0);
    assert_eq!(
        row("bond0")["addrs"],
        json!(["192.168.1.88/24", "192.168.1.89/24"])
    );
    assert_eq!(row("eth2")["master"], "bond0");
    assert_eq!(row("bond0.10")["kind"], "vlan");
    assert_eq!(row("bond0.10")["parent"], "bond0");
    assert_eq!(row("bond0.10")["vlan_id"], 10);
    assert_eq!(row("bond0.10")["master"], json!(brq));
    assert_eq!(row(&brq)["kind"], "bridge");
    let mut unbond = json!({"ipaddr": "10.213.5.2", "bond_name": "bond0", "bond_uuid": bond,
        "slaves": [{"nic_uuid": t.eth1, "nic_name": "eth1", "ip_list": [{"ip": "192.168.1.88", "netmask": "255.255.255.0",
                    "gateway": "192.168.1.254", "dns1": "8.8.8.8", "dns2": "", "is_manage": 0, "is_image": 0}]}]});
    t.fails("/api/v1/node/unbond", unbond.clone(), 409, 20222, "uplink");
    let nets = t.get("/api/v1.0/network/?name=v");
    t.ok(
        "/api/v1/network/delete",
        json!({"uuid": nets["results"][0]["uuid"]}),
    );
    t.ok("/api/v1/vswitch/delete", json!({"uuid": sw}));
    // Edit: active-backup now (the bond is remade with its slaves).
    let mut edit = bond_body(&t, 1);
    edit.as_object_mut().unwrap().remove("node_uuid");
    edit["bond_uuid"] = json!(bond);
    let d = t.ok("/api/v1/node/edit_bond", edit);
    // Remaking the bond that carries the default route is a management move.
    assert_eq!(d["confirm_required"], true, "{d}");
    t.ok("/api/v1/network/confirm", json!({}));
    assert_eq!(
        t.net.link("bond0").unwrap().kind,
        LinkKind::Bond {
            mode: vdi_appliance::domain::net::BondMode::ActiveBackup
        }
    );
    assert_eq!(t.net.link("eth2").unwrap().master.as_deref(), Some("bond0"));
    // Unbond: eth1 gets its address and the gateway back.
    let d = t.ok("/api/v1/node/unbond", unbond.take());
    if d["confirm_required"] == true {
        t.ok("/api/v1/network/confirm", json!({}));
    }
    assert!(t.net.link("bond0").is_none());
    assert_eq!(
        t.net.link("eth1").unwrap().addrs,
        vec![addr("192.168.1.88/24")]
    );
    assert_eq!(t.net.link("eth1").unwrap().master, None);
    assert_eq!(t.net.snapshot().1.unwrap().dev, "eth1");
    assert_eq!(t.get("/api/v1.0/bond/")["count"], 0);
    // eth1 is networkd's again once nothing of the appliance uses it.
    assert_eq!(t.net.claimed(), Vec::<String>::new());
}

#[test]
fn bond_errors() {
    let t = harness(Duration::from_secs(60));
    let p = "/api/v1/node/add_bond";
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = bond_body(&t, 0);
        f(&mut b);
        b
    };
    t.fails(
        p,
        with(&|b| b["bond_info"]["mode"] = json!(4)),
        422,
        10002,
        "`bond_info.mode`",
    );
    t.fails(
        p,
        with(&|b| b["bond_info"]["dev"] = json!("team0")),
        422,
        10002,
        "`bond_info.dev`",
    );
    t.fails(
        p,
        with(&|b| b["bond_info"]["slaves"] = json!(["eth1"])),
        422,
        10002,
        "`bond_info.slaves`",
    );
    t.fails(
        p,
        with(&|b| b["ip_list"][0]["netmask"] = json!("255.0.255.0")),
        422,
        10002,
        "`ip_list[0].netmask`",
    );
    t.fails(
        p,
        with(&|b| b["ip_list"][1]["is_image"] = json!(2)),
        422,
        10002,
        "`ip_list[1].is_image`",
    );
    t.fails(
        p,
        with(&|b| {
            b["slaves"][0]["nic_name"] = json!("eth9");
            b["bond_info"]["slaves"] = json!(["eth9", "eth2"]);
        }),
        422,
        10002,
        "`slaves[0].nic_name`",
    );
    let ghost = uuid::Uuid::new_v4().to_string();
    t.fails(
        p,
        with(&|b| b["slaves"][1]["nic_uuid"] = json!(ghost.clone())),
        404,
        20220,
        "`slaves[1].nic_uuid`",
    );
    t.fails(
        p,
        with(&|b| b["bond_info"]["dev"] = json!("eth0")),
        422,
        10002,
        "`bond_info.dev`",
    );
    // A switch's uplink cannot be bonded from under it.
    let sw = t.switch("s", "vlan", &t.eth2);
    t.fails(p, bond_body(&t, 0), 409, 20222, "uplink");
    t.ok("/api/v1/vswitch/delete", json!({"uuid": sw}));
    t.ok(p, bond_body(&t, 6));
    t.ok("/api/v1/network/confirm", json!({}));
    t.fails(p, bond_body(&t, 6), 409, 20222, "bond0");
    assert_eq!(
        t.net.link("bond0").unwrap().kind,
        LinkKind::Bond {
            mode: vdi_appliance::domain::net::BondMode::BalanceAlb
        }
    );
}
