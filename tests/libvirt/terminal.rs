//! Real tier for the terminal API on `qemu:///system`: a user logs in on a
//! terminal and opens a personal desktop; the ticket handed out opens the
//! service's SPICE proxy, through which QEMU answers the SPICE link
//! handshake, `virsh dumpxml
//! --security-info` shows the same fresh password with a validity time, and
//! a second open sets a different one. A classroom terminal opens its seat's
//! desktop of one group, then of another (the first is stopped), on a real
//! bridge.

use crate::common;

use std::time::Duration;

use common::real::{bridge_for, classroom, real_libvirt, virsh, Real};
use common::tunnel::{connect, spice_link_reply};
use common::wire::Wire;
use serde_json::{json, Value};
use vdi_appliance::http::server::Limits;

fn terminal(r: &Real, path: &str, body: Value) -> Value {
    terminal_at(r, "192.0.2.77", path, body)
}

/// A terminal call from `peer`.
fn terminal_at(r: &Real, peer: &str, path: &str, body: Value) -> Value {
    let (st, text) = smol::block_on(vdi_appliance::http::request_from(
        &r.web,
        &format!("{peer}:50000"),
        "POST",
        path,
        None,
        Some(&body.to_string()),
    ));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (st, v["code"].as_i64()),
        (200, Some(0)),
        "{path} {body} -> {v}"
    );
    v["data"].clone()
}

/// The SPICE link handshake with the desktop an `instance` reply names,
/// the way a terminal makes it: through the service's SPICE proxy
/// (`CONNECT spice_host:spice_port` to the service's port).
pub fn spice_link(r: &Real, reply: &Value) -> ([u8; 4], u32, u32) {
    assert!(reply["spice_proxy"].is_string(), "{reply}");
    let w = Wire::start(r.web.clone(), Limits::default());
    let target = format!(
        "{}:{}",
        reply["spice_host"].as_str().unwrap(),
        reply["spice_port"]
    );
    let mut s = connect(&w, &target).expect("the proxy admits the ticket");
    spice_link_reply(&mut s)
}

fn graphics(uuid: &str) -> String {
    let (ok, xml) = virsh(&["dumpxml", "--security-info", uuid]);
    assert!(ok, "{xml}");
    xml.lines()
        .find(|l| l.contains("<graphics type='spice'"))
        .unwrap_or_default()
        .to_string()
}

/// A template, the user `alice` (password `secret1`) in a user group, and
/// a personal pool of one desktop offered to that group; the pool's uuid.
pub fn alice_and_a_pool(r: &Real, dir: &std::path::Path) -> Value {
    let tpl = r.template(dir);
    r.ok(
        "/api/v1/group/create",
        json!({"name": "staff", "group_type": 2}),
    );
    let staff =
        r.get("/api/v1.0/voi/education/group/?searchtype=single&name=staff")["uuid"].clone();
    r.ok(
        "/api/v1/group/user/create",
        json!({"group_uuid": staff, "user_name": "alice", "passwd": "secret1"}),
    );
    let pool = r.personal_group(&tpl, "pool", 1, 1);
    r.ok(
        "/api/v1/desktop/personal/update",
        json!({"uuid": pool, "value": {"groups": [staff]}}),
    );
    json!(pool)
}

#[test]
fn a_terminal_gets_a_fresh_ticket_for_a_real_spice_server() {
    let (_sweep, dir, r) = real_libvirt("vdi-terminal");
    let pool = alice_and_a_pool(&r, dir.path());

    let login = terminal(
        &r,
        "/api/v1/terminal/personal/login",
        json!({"username": "alice", "password": "secret1", "mac": "52:54:00:12:34:56"}),
    );
    let session = login["session_id"].clone();
    let open = |r: &Real| {
        terminal(
            r,
            "/api/v1/terminal/personal/instance",
            json!({"session_id": session, "desktop_uuid": pool}),
        )
    };
    let first = open(&r);
    let desktop = first["uuid"].as_str().unwrap().to_string();
    assert!(
        first["spice_host"].as_str().unwrap().starts_with("vdi-"),
        "the ticket's name for the proxy: {first}"
    );
    let (magic, major, error) = spice_link(&r, &first);
    assert_eq!(
        (&magic, major, error),
        (b"REDQ", 2, 0),
        "a SPICE server answered the link"
    );
    let g = graphics(&desktop);
    let ticket = first["spice_token"].as_str().unwrap();
    assert!(g.contains(&format!("passwd='{ticket}'")), "{g}");
    assert!(g.contains("passwdValidTo='"), "{g}");
    // A second open: the same running desktop, a new ticket.
    let second = open(&r);
    assert_eq!(second["uuid"], first["uuid"]);
    assert_eq!(second["spice_port"], first["spice_port"]);
    let again = second["spice_token"].as_str().unwrap();
    assert_ne!(again, ticket);
    let g = graphics(&desktop);
    assert!(
        g.contains(&format!("passwd='{again}'")) && !g.contains(ticket),
        "{g}"
    );
    // The defined (inactive) configuration never holds a ticket.
    let (_, inactive) = virsh(&["dumpxml", "--inactive", "--security-info", &desktop]);
    assert!(
        !inactive.contains(again),
        "tickets live only in the running domain"
    );

    // Closing stops it; the group goes away cleanly.
    terminal(
        &r,
        "/api/v1/terminal/personal/close_instance",
        json!({"session_id": session, "mac": "52:54:00:12:34:56"}),
    );
    wait_off(&desktop);
    r.ok("/api/v1/desktop/personal/delete", json!({"uuid": pool}));
    assert!(virsh(&["domstate", &desktop])
        .1
        .contains("failed to get domain"));
}

fn wait_off(desktop: &str) {
    for _ in 0..120 {
        if virsh(&["domstate", desktop]).1.trim() == "shut off" {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{desktop} never shut off");
}

#[test]
fn a_classroom_terminal_opens_its_seat_on_real_libvirt() {
    let (_sweep, dir, r) = real_libvirt("vdi-classroom");
    let tpl = r.template(dir.path());
    let _br = bridge_for(&r);
    let room = classroom(&r, "lab", "10.7.0.1", "10.7.0.10");
    let mut groups = Vec::new();
    for name in ["art", "bio"] {
        r.ok("/api/v1/desktop/education/create", json!({"name": name, "owner_id": 1, "group_uuid": room,
            "template_uuid": tpl, "vcpu": 1, "ram": 0.125, "sys_restore": 1, "data_restore": 0, "instance_num": 2,
            "prefix": name, "postfix": 2}));
        let g = r.get(&format!(
            "/api/v1.0/desktop_group/?searchtype=single&name={name}"
        ))["uuid"]
            .clone();
        r.ok("/api/v1/desktop/education/active", json!({"uuid": g}));
        groups.push(g);
    }
    let (ip, mac) = ("10.7.0.2", "52:54:00:07:00:02");
    let list = terminal_at(
        &r,
        ip,
        "/api/v1/terminal/education/edu_desktops",
        json!({"terminal_id": 2, "terminal_ip": ip}),
    );
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let open = |g: &Value| {
        terminal_at(
            &r,
            ip,
            "/api/v1/terminal/education/instance",
            json!({"terminal_id": 2, "mac": mac, "ip": ip, "desktop_uuid": g}),
        )
    };
    let art = open(&groups[0]);
    assert_eq!(art["name"], json!("art02"), "seat 2 is the second desktop");
    assert_eq!(spice_link(&r, &art), (*b"REDQ", 2, 0));
    let a2 = art["uuid"].as_str().unwrap().to_string();
    assert!(graphics(&a2).contains(&format!(
        "passwd='{}'",
        art["spice_token"].as_str().unwrap()
    )));
    // The same seat in the other group: art02 is stopped for bio02.
    let bio = open(&groups[1]);
    assert_eq!(bio["name"], json!("bio02"));
    assert_eq!(virsh(&["domstate", &a2]).1.trim(), "shut off");
    let b2 = bio["uuid"].as_str().unwrap().to_string();
    assert_eq!(virsh(&["domstate", &b2]).1.trim(), "running");
    terminal_at(
        &r,
        ip,
        "/api/v1/terminal/education/close_instance",
        json!({"mac": mac}),
    );
    wait_off(&b2);
    for g in &groups {
        r.ok("/api/v1/desktop/education/delete", json!({"uuid": g}));
    }
}
