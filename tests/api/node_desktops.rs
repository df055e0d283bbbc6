//! API tier of a pool with a joined node (fake SSH server, fake internal
//! API that runs calls on the node's own fake hypervisor and disks): the
//! join pushes the networks and sends the base image; a classroom group
//! placed across both nodes with `create_info`; a terminal gets the node's
//! SPICE address; a node that stops answering turns its desktops
//! `unknown`; uploads reach the node; retransmit repairs a damaged copy.

use crate::common;
use crate::console;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::appliance::{harness, md5_hex, qcow2, T};
use serde_json::{json, Value};
use uuid::Uuid;
use vdi_appliance::domain::desktop::Status;
use vdi_appliance::fakes::FakeNodeHost;
use vdi_appliance::host::{Disks, PowerState};

const IP: &str = "198.51.100.11";
const PW: &str = "root-pw";

fn first(t: &T, listing: &str) -> Value {
    t.get(&format!("{listing}?searchtype=all"))["results"][0]["uuid"].clone()
}

fn task_end(t: &T, id: &str) -> Value {
    let t0 = Instant::now();
    loop {
        let v = t.get(&format!("/api/v1/task/{id}"));
        if v["state"] == "succeeded" || v["state"] == "failed" {
            return v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "task {id} did not end"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Checks and joins the fake server at `IP`, registering for it as its
/// service would; answers the node's uuid and its machine.
fn join(t: &T) -> (Uuid, FakeNodeHost) {
    let mounts: Vec<String> =
        t.s.store
            .storage_list()
            .unwrap()
            .iter()
            .map(|s| s.mount.clone())
            .collect();
    t.f.remote.add(IP, |s| {
        s.password = PW.into();
        s.mounts = mounts.clone();
    });
    let host = t.f.node_client.add_node(&format!("http://{IP}:5000"));
    t.ok(
        "/api/v1/node/check",
        json!({"ip": IP, "root_pwd": PW, "check": true}),
    );
    let body = json!({"password": PW, "ip": IP, "pool_uuid": first(t, "/api/v1.0/resource_pool/"),
        "network_uuid": first(t, "/api/v1.0/network/"), "switch_uuid": first(t, "/api/v1.0/vswitch/"),
        "interface": "eth1", "manage_interface": "eth0", "image_interface": "eth0", "async": true});
    let task = t.ok("/api/v1/node/add", body)["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    let t0 = Instant::now();
    let m = loop {
        if let Some(m) = t.f.remote.server(IP).membership {
            break m;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "no membership");
        std::thread::sleep(Duration::from_millis(20));
    };
    let reg = json!({"node_uuid": m.node_uuid.to_string(), "version": env!("CARGO_PKG_VERSION"),
        "listen_port": 5000,
        "probe": {"version": env!("CARGO_PKG_VERSION"), "hostname": "node-a",
           "nics": [{"name": "eth0", "mac": "52:54:00:00:00:00", "addrs": [[IP, 24]], "speed_mbps": 1000,
                     "running": true, "driver": null, "pci": null, "bridge": null},
                    {"name": "eth1", "mac": "52:54:00:00:00:01", "addrs": [], "speed_mbps": 1000,
                     "running": true, "driver": null, "pci": null, "bridge": null}],
           "route": null, "cpu_flag": "vmx", "kvm_device": true, "libvirt": {"Ok": "libvirt"},
           "mounts": [], "service": {"Ok": {"role": "compute", "controller": null, "listen_port": 5000}}},
        "inventory": {"hostname": "node-a", "os": "", "kernel": "",
           "cpu": {"model": "x", "sockets": 1, "cores": 4, "threads": 8, "virt_flag": "vmx"},
           "memory_bytes": 16u64 << 30, "numa": [], "disks": [], "nics": [], "gpus": []}});
    let (st, v) = common::app_call(
        &t.app,
        &m.credential,
        "POST",
        "/api/v1/node/register",
        Some(reg),
    );
    assert_eq!(st, 200, "{v}");
    let end = task_end(t, &task);
    assert_eq!(end["state"], "succeeded", "{end}");
    (m.node_uuid, host)
}

fn base_image_path(t: &T, image: &str) -> PathBuf {
    t.s.base_image_get(&image.parse().unwrap()).unwrap().path
}

#[test]
fn a_classroom_spreads_over_a_joined_node_and_follows_it_down() {
    let t = harness();
    let image = t.image();
    let tpl = t.template("win10", &image)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (node, host) = join(&t);
    let base = base_image_path(&t, &image);

    // The join pushed the networks and sent the image and the template.
    let pushed = t.f.node_client.networks.lock().unwrap()[&format!("http://{IP}:5000")].clone();
    assert_eq!(
        pushed["networks"][0]["network_uuid"],
        first(&t, "/api/v1.0/network/")
    );
    assert_eq!(pushed["networks"][0]["interface"], "eth1");
    let md5 = |d: &dyn Disks, p: &PathBuf| smol::block_on(d.md5(p)).unwrap();
    assert_eq!(
        md5(host.disks.as_ref(), &base),
        md5(t.f.disks.as_ref(), &base)
    );
    let img = t.s.base_image_get(&image.parse().unwrap()).unwrap();
    assert!(img.nodes.contains(&node), "{:?}", img.nodes);
    let v1 = t.tpl(&tpl).disks[0].version_file(t.tpl(&tpl).version);
    assert!(host.disks.exists_now(&v1), "template version on the node");

    // One desktop here, two on the node.
    let (n, s) = t.net();
    t.ok(
        "/api/v1/group/create",
        json!({"name": "room", "group_type": 1, "network_uuid": n, "subnet_uuid": s,
               "start_ip": "10.1.0.10", "end_ip": "10.1.0.40"}),
    );
    let room = t.get("/api/v1.0/voi/education/group/?searchtype=single&name=room")["uuid"].clone();
    t.ok("/api/v1/desktop/education/create", json!({"name": "lab", "owner_id": 1, "group_uuid": room,
        "template_uuid": tpl, "pool_uuid": first(&t, "/api/v1.0/resource_pool/"), "network_uuid": n,
        "subnet_uuid": s, "vcpu": 1, "ram": 1, "sys_restore": 1, "data_restore": 0, "instance_num": 3,
        "prefix": "pc", "postfix": 2, "create_info": {"192.0.2.49": 1, IP: 2}}));
    let g: Uuid = t.get("/api/v1.0/desktop_group/?searchtype=single&name=lab")["uuid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let list = t.s.desktops_of(&g).unwrap();
    let on_node: Vec<_> = list.iter().filter(|d| d.node == node).collect();
    assert_eq!(on_node.len(), 2);
    for d in &list {
        let remote = d.node == node;
        assert_eq!(
            host.hypervisor.domain(&d.uuid).is_some(),
            remote,
            "{}",
            d.name
        );
        assert_eq!(
            t.f.hypervisor.domain(&d.uuid).is_some(),
            !remote,
            "{}",
            d.name
        );
        let sys = &d.disks.iter().find(|x| x.inx == 0).unwrap().path;
        let disks = if remote { &host.disks } else { &t.f.disks };
        assert_eq!(disks.backing_of(sys), Some(v1.clone()), "{}", d.name);
    }
    // Deleting the node is refused while it hosts them.
    let (_, v) = t.call(
        "POST",
        "/api/v1/node/delete",
        Some(json!({"uuid": node.to_string()})),
    );
    assert_eq!(v["code"], 20240, "{v}");

    // A terminal of the room opens a seat on the node: SPICE is there.
    t.ok(
        "/api/v1/desktop/education/active",
        json!({"uuid": g.to_string()}),
    );
    let d = on_node[0];
    let term = format!("10.1.0.{}", 10 + d.seat);
    let o = t.term_ok(
        &term,
        "/api/v1/terminal/education/instance",
        json!({"terminal_id": d.seat, "mac": "52:54:00:aa:00:01", "ip": term,
               "desktop_uuid": g.to_string(), "desktop_name": "lab"}),
    );
    assert_eq!(o["uuid"], json!(d.uuid.to_string()), "{o}");
    // Through the SPICE proxy (on by default): the ticket's name, and the
    // service's address as the proxy; tests/api/console.rs reaches the VM
    // on this node through it.
    assert!(o["spice_host"].as_str().unwrap().starts_with("vdi-"), "{o}");
    assert!(
        o["spice_proxy"].as_str().unwrap().starts_with("http://"),
        "{o}"
    );
    assert_eq!(
        host.hypervisor.domain(&d.uuid).unwrap().state,
        PowerState::Running
    );

    // The proxy reaches the desktop on the node through the node's service
    // (the internal tunnel), and so does the browser gateway.
    let w = common::wire::Wire::start(
        t.app.clone(),
        vdi_appliance::http::server::Limits::default(),
    );
    let spice = console::spice_server();
    *host.hypervisor.graphics_server.lock().unwrap() = Some(spice.addr);
    let mut s = common::tunnel::connect(&w, &format!("{}:5900", o["spice_host"].as_str().unwrap()))
        .expect("admitted");
    common::tunnel::spice_link(&mut s);
    let tunnels = t.f.node_client.calls_to("CONNECT");
    assert_eq!(tunnels.len(), 1);
    assert_eq!(tunnels[0].base, format!("http://{IP}:5000"));
    assert_eq!(tunnels[0].body, json!({"vm": d.uuid, "protocol": "spice"}));
    let vnc = console::vnc_server();
    *host.hypervisor.graphics_server.lock().unwrap() = Some(vnc.addr);
    let c = t.ok(
        "/api/v1/console/open",
        json!({"kind": "desktop", "uuid": d.uuid, "protocol": "vnc"}),
    );
    let mut ws = common::tunnel::ws_open(&w, c["path"].as_str().unwrap()).expect("upgraded");
    assert_eq!(common::tunnel::ws_data(&mut ws, 12), b"RFB 003.008\n");
    assert_eq!(t.f.node_client.calls_to("CONNECT").len(), 2);
    drop((s, ws, w));

    // The node stops answering: its desktops are unknown, ours are not.
    *t.f.node_client.fail_path.lock().unwrap() = Some("/api/v1/internal/vm".into());
    smol::block_on(t.s.desktop_reconcile()).unwrap();
    for d in t.s.desktops_of(&g).unwrap() {
        assert_eq!(d.status == Status::Unknown, d.node == node, "{}", d.name);
    }
    *t.f.node_client.fail_path.lock().unwrap() = None;
    smol::block_on(t.s.desktop_reconcile()).unwrap();
    let back = t.s.desktop_get(&d.uuid).unwrap();
    assert_eq!(back.status, Status::Active);

    // A template save reaches the node in the background.
    let saved = t.ok("/api/v1/template/save", json!({"uuid": tpl}));
    let v2 = t.tpl(&tpl).disks[0].version_file(saved["version"].as_u64().unwrap() as u32);
    let t0 = Instant::now();
    while !host.disks.exists_now(&v2) {
        assert!(t0.elapsed() < Duration::from_secs(10), "v2 not on the node");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn images_reach_the_pool_nodes_and_retransmit_repairs_a_copy() {
    let t = harness();
    let image = t.image();
    let (node, host) = join(&t);
    let base = base_image_path(&t, &image);
    // A second upload goes to the node in a task.
    let bytes = qcow2(2 << 30);
    let (st, v) = t.upload(
        &format!(
            "/api/v1/base_image/upload?name=linux&os_type=linux&md5_sum={}",
            md5_hex(&bytes)
        ),
        bytes,
    );
    assert_eq!(st, 200, "{v}");
    let task = v["data"]["distribute_task"]
        .as_str()
        .expect("a task")
        .to_string();
    assert_eq!(task_end(&t, &task)["state"], "succeeded");
    let second = base_image_path(&t, v["data"]["uuid"].as_str().unwrap());
    assert!(host.disks.exists_now(&second));
    let rec = t.get("/api/v1.0/base_image/?searchtype=single&name=linux");
    assert!(
        rec["nodes"].to_string().contains(&node.to_string()),
        "{rec}"
    );

    // The node's copy is damaged; retransmit to it by address repairs it.
    host.disks.put_file(&base, b"garbage".to_vec());
    let r = t.ok(
        "/api/v1/resource_pool/images/retransmit",
        json!({"image_id": image, "ipaddr": IP}),
    );
    assert!(r["task_id"].is_string(), "{r}");
    let md5 = |d: &dyn Disks| smol::block_on(d.md5(&base)).unwrap();
    assert_eq!(md5(host.disks.as_ref()), md5(t.f.disks.as_ref()));
    // Unknown node, field named.
    let (_, v) = t.call(
        "POST",
        "/api/v1/resource_pool/images/retransmit",
        Some(json!({"image_id": image, "ipaddr": "10.9.9.9"})),
    );
    assert_ne!(v["code"], 0);
    assert!(v["msg"].as_str().unwrap().contains("ipaddr"), "{v}");
    // The controller's own copy damaged: refused, the node's stays.
    t.f.disks.put_file(&base, b"rot".to_vec());
    let (_, v) = t.call(
        "POST",
        "/api/v1/resource_pool/images/retransmit",
        Some(json!({"image_id": image})),
    );
    assert_eq!(v["code"], 20504, "{v}");
    // A pull that cannot verify fails with the distribution code.
    let (_, v) = t.call(
        "POST",
        "/api/v1/resource_pool/images/retransmit",
        Some(json!({"image_id": image, "host_uuid": node.to_string()})),
    );
    assert_eq!(v["code"], 20506, "{v}");
    // Deleting an image here deletes the node's copy.
    let second_id = rec["uuid"].as_str().unwrap().to_string();
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": second_id}),
    );
    assert!(!host.disks.exists_now(&second));
    // The distribution saga: a failure at either step, or a crash before
    // or after it, leaves no journal and the copy as it was; a crash after
    // the last send is a success.
    use vdi_appliance::domain::saga::Fault;
    t.f.disks.put_file(&base, qcow2(10 << 30));
    host.disks.put_file(&base, b"garbage".to_vec());
    for step in ["plan", "send"] {
        for fault in [Fault::Fail, Fault::CrashBefore, Fault::CrashAfter] {
            t.s.saga_fault("image/distribute", Some((step, fault)));
            let (_, v) = t.call(
                "POST",
                "/api/v1/resource_pool/images/retransmit",
                Some(json!({"image_id": image, "host_uuid": node.to_string()})),
            );
            t.s.saga_fault("image/distribute", None);
            assert_ne!(v["code"], 0, "{step} {fault:?}: {v}");
            let task = t.s.task_list().unwrap().pop().unwrap();
            if fault != Fault::Fail {
                assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
            }
            let task = t.s.task_get(&task.id).unwrap();
            let repaired = step == "send" && fault == Fault::CrashAfter;
            let state = if repaired { "succeeded" } else { "failed" };
            assert_eq!(
                task.state.as_str(),
                state,
                "{step} {fault:?}: {:?}",
                task.log
            );
            assert!(t.s.store.saga_list().unwrap().is_empty());
            assert_eq!(
                md5(host.disks.as_ref()) == md5(t.f.disks.as_ref()),
                repaired
            );
        }
    }
    // The node leaves: no image counts it as a holder any more.
    t.ok("/api/v1/node/delete", json!({"uuid": node.to_string()}));
    for img in t.s.base_image_list().unwrap() {
        assert!(!img.nodes.contains(&node), "{}", img.name);
    }
}
