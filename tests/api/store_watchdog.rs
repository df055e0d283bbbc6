//! API tier: every update path (each resource, every optional field, both
//! dialects) runs under a watchdog. A call that does not answer within the
//! deadline, or a health probe that does not answer after it, fails the
//! test: that is how a store deadlock shows (file 000's own group/update
//! body froze the whole service once: a plain read inside a sled
//! transaction).

use crate::common;

use std::sync::mpsc;
use std::time::Duration;

use common::appliance::{harness, T};
use serde_json::{json, Value};
use vdi_appliance::http;

/// Far longer than any of these calls takes over fakes (milliseconds).
const DEADLINE: Duration = Duration::from_secs(10);

/// A deadlocked store would also hang the unwinding of a failed test (the
/// store's drop flushes), so the watchdog ends the whole test process.
fn stuck(what: String) -> ! {
    // Straight to the stream: the test harness would swallow eprintln!.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("WATCHDOG: {what}\n").as_bytes(),
    );
    std::process::exit(101)
}

/// Runs one call on its own thread; fails when it gives no answer within
/// the deadline, or when health does not answer right after it.
fn watched(t: &T, method: &str, path: &str, body: Value) -> (u16, Value) {
    let (app, token) = (t.app.clone(), t.token.clone());
    let (tx, rx) = mpsc::channel();
    let (m, p, b) = (method.to_string(), path.to_string(), body.to_string());
    std::thread::spawn(move || {
        let out = smol::block_on(http::request(&app, &m, &p, Some(&token), Some(&b)));
        let _ = tx.send(out);
    });
    let (st, text) = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        stuck(format!(
            "{method} {path} {body}: no answer within {DEADLINE:?}"
        ))
    });
    health_answers(t, &format!("after {method} {path} {body}"));
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn health_answers(t: &T, when: &str) {
    let app = t.app.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let out = smol::block_on(http::request(&app, "GET", "/api/v1/health", None, None));
        let _ = tx.send(out.0);
    });
    let st = rx
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| stuck(format!("health gave no answer within {DEADLINE:?} {when}")));
    assert_eq!(st, 200, "health {when}");
}

/// A call under the watchdog that must succeed.
fn ok(t: &T, method: &str, path: &str, body: Value) -> Value {
    let (st, v) = watched(t, method, path, body.clone());
    assert_eq!(
        (st, v["code"].as_i64()),
        (200, Some(0)),
        "{method} {path} {body} -> {v}"
    );
    v["data"].clone()
}

fn uuid_in(t: &T, listing: &str, name: &str) -> String {
    t.get(&format!("{listing}?searchtype=single&name={name}"))["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn file_000_group_update_body_answers_and_health_stays_up() {
    let t = harness();
    let (n, s) = t.net();
    t.ok(
        "/api/v1/group/create",
        json!({"name": "group1", "group_type": 1, "network_uuid": n, "subnet_uuid": s,
               "start_ip": "192.0.2.20", "end_ip": "192.0.2.30"}),
    );
    let g = uuid_in(&t, "/api/v1.0/voi/education/group/", "group1");
    // File 000 L2058, verbatim but for the group's uuid: its network and
    // subnet do not exist here, so the answer is a refusal naming them.
    let (st, v) = watched(
        &t,
        "POST",
        "/api/v1/group/update",
        json!({"uuid": g, "value": {"name": "group2", "desc": "this is group2",
               "network_uuid": "9c705b6e-5213-11ea-9d93-000c295dd728",
               "subnet_uuid": "9c87ff12-5213-11ea-9d93-000c295dd728",
               "start_ip": "172.16.1.40", "end_ip": "172.16.1.50"}}),
    );
    assert!(st >= 400 && v["code"].as_i64() != Some(0), "{v}");
    assert!(
        v["msg"]
            .as_str()
            .unwrap()
            .contains("9c705b6e-5213-11ea-9d93-000c295dd728"),
        "{v}"
    );
    // The same body with this appliance's network and subnet succeeds.
    ok(
        &t,
        "POST",
        "/api/v1/group/update",
        json!({"uuid": g, "value": {"name": "group2", "desc": "this is group2", "network_uuid": n,
               "subnet_uuid": s, "start_ip": "192.0.2.40", "end_ip": "192.0.2.50"}}),
    );
    // `value: {name}` alone was enough to freeze the service.
    ok(
        &t,
        "POST",
        "/api/v1/group/update",
        json!({"uuid": g, "value": {"name": "group3"}}),
    );
    let row = t.get(&format!(
        "/api/v1.0/voi/education/group/?searchtype=single&uuid={g}"
    ));
    assert_eq!(
        (row["name"].as_str(), row["desc"].as_str()),
        (Some("group3"), Some("this is group2"))
    );
    assert_eq!(row["start_ip"].as_str(), Some("192.0.2.40"), "{row}");
}

#[test]
fn every_update_path_answers_under_the_watchdog() {
    let t = harness();
    let (n, s) = t.net();
    let pool = t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let sw = t.get("/api/v1.0/vswitch/?searchtype=all")["results"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();

    // Resource pools, both dialects.
    ok(
        &t,
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": pool, "value": {"name": "pool-a", "desc": "first", "default": true}}),
    );
    ok(
        &t,
        "PUT",
        "/api/v1.0/resource_pool/",
        json!({"uuid": pool, "name": "pool-a", "value": {"name": "pool-b", "description": "second"}}),
    );

    // Virtual switch, network (and a subnet through network/update), subnet.
    ok(
        &t,
        "POST",
        "/api/v1/vswitch/update",
        json!({"uuid": sw, "value": {"name": "sw-a", "desc": "switch"}}),
    );
    ok(
        &t,
        "POST",
        "/api/v1/network/update",
        json!({"uuid": n, "value": {"name": "net-a"}}),
    );
    ok(
        &t,
        "POST",
        "/api/v1/network/update",
        json!({"uuid": s, "value": {"name": "sub-a", "end_ip": "192.0.2.111"}}),
    );
    ok(
        &t,
        "POST",
        "/api/v1/subnet/update",
        json!({"uuid": s, "value": {"name": "sub-b", "start_ip": "192.0.2.100", "end_ip": "192.0.2.112",
               "netmask": "255.255.255.0", "gateway": "192.0.2.1", "dns1": "192.0.2.1", "dns2": "192.0.2.2"}}),
    );

    // Classroom groups (every field) in both dialects, and a user group.
    t.ok(
        "/api/v1/group/create",
        json!({"name": "room", "group_type": "education", "network_uuid": n, "subnet_uuid": s,
               "start_ip": "192.0.2.20", "end_ip": "192.0.2.30"}),
    );
    let room = uuid_in(&t, "/api/v1.0/voi/education/group/", "room");
    ok(
        &t,
        "POST",
        "/api/v1/group/update",
        json!({"uuid": room, "value": {"name": "room-a", "desc": "d", "network_uuid": n, "subnet_uuid": s,
               "start_ip": "192.0.2.21", "end_ip": "192.0.2.31"}}),
    );
    ok(
        &t,
        "PUT",
        "/api/v1.0/voi/education/group/",
        json!({"uuid": room, "name": "room-a", "value": {"name": "room-b", "desc": "e", "network_uuid": n,
               "subnet_uuid": s, "start_ip": "192.0.2.22", "end_ip": "192.0.2.25"}}),
    );
    t.ok(
        "/api/v1/group/create",
        json!({"name": "staff", "group_type": "personal"}),
    );
    let staff = uuid_in(&t, "/api/v1.0/voi/education/group/", "staff");
    ok(
        &t,
        "POST",
        "/api/v1/group/update",
        json!({"uuid": staff, "value": {"name": "staff-a", "desc": "x"}}),
    );

    // Users: every field.
    let user = t.ok(
        "/api/v1/group/user/create",
        json!({"group_uuid": staff, "user_name": "alice", "passwd": "secret1", "enabled": 1}),
    )["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &t,
        "POST",
        "/api/v1/group/user/update",
        json!({"uuid": user, "value": {"group_uuid": staff, "user_name": "alice2", "passwd": "secret22",
               "name": "Alice", "phone": "123", "email": "a@example.org", "enabled": 0}}),
    );
    ok(
        &t,
        "POST",
        "/api/v1/group/user/enable",
        json!({"uuid": user}),
    );
    ok(
        &t,
        "POST",
        "/api/v1/group/user/disable",
        json!({"uuid": user}),
    );
    ok(
        &t,
        "POST",
        "/api/v1/group/user/enable",
        json!({"uuid": user}),
    );

    // Templates: attributes and a grown disk (web PUT).
    let image = t.image();
    let tpl = t.template("tpl", &image)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let sys = t.get(&format!(
        "/api/v1.0/voi/education/template/?searchtype=single&uuid={tpl}"
    ))["devices"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &t,
        "PUT",
        "/api/v1.0/voi/education/template",
        json!({"uuid": tpl, "name": "tpl", "value": {"name": "tpl-a", "desc": "d", "network_uuid": n,
               "subnet_uuid": s, "bind_ip": "", "vcpu": 2, "ram": 2, "devices": [{"uuid": sys, "size": 30}]}}),
    );

    // Desktop groups: education (both dialects) and personal.
    t.ok("/api/v1.0/voi/education/desktop/",
        json!({"action": "create", "param": {"name": "art", "group_uuid": room, "template_uuid": tpl,
            "sys_restore": 1, "data_restore": 1, "prefix": "art", "use_bottom_ip": false,
            "ip_detail": {"auto": true, "start_ip": "", "netmask": "255.255.255.0", "gateway": "192.0.2.1",
                          "dns_master": "8.8.8.8", "dns_slave": "114.114.114.114"},
            "show_info": true, "auto_update": true}}));
    let art = uuid_in(&t, "/api/v1.0/voi/education/desktop/", "art");
    ok(
        &t,
        "POST",
        "/api/v1/desktop/education/update",
        json!({"uuid": art, "value": {"name": "art-a", "sys_restore": 0, "data_restore": 0, "show_info": 0,
               "auto_update": 0}}),
    );
    ok(
        &t,
        "PUT",
        "/api/v1.0/voi/education/desktop/",
        json!({"uuid": art, "name": "art-a", "value": {"name": "art-b", "sys_restore": 1, "data_restore": 1,
               "use_bottom_ip": false, "show_info": 1, "auto_update": 1}}),
    );
    t.ok("/api/v1/desktop/personal/create",
        json!({"name": "own", "owner_id": 1, "template_uuid": tpl, "pool_uuid": pool, "allocate_type": 1,
               "vcpu": 1, "ram": 1, "sys_restore": 0, "data_restore": 0, "desktop_type": 2, "instance_num": 1,
               "prefix": "own", "postfix": 1, "allocates": [{"group_uuid": staff, "user_uuid": user, "name": "Alice"}],
               "create_info": {}}));
    let own = uuid_in(&t, "/api/v1.0/voi/education/desktop/", "own");
    ok(
        &t,
        "POST",
        "/api/v1/desktop/personal/update",
        json!({"uuid": own, "value": {"name": "own-a", "maintenance": true, "groups": [staff]}}),
    );

    // Terminals: one that logged in, renamed and re-seated by the admin.
    t.term_ok(
        "192.0.2.77",
        "/api/v1/terminal/personal/login",
        json!({"username": "alice2", "password": "secret22", "mac": "52:54:00:00:00:01"}),
    );
    let term = t.get("/api/v1.0/terminal/?searchtype=all")["results"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &t,
        "PUT",
        "/api/v1.0/terminal/",
        json!({"uuid": term, "value": {"name": "front", "terminal_id": 5}}),
    );

    // Many updates of one record at once: every one answers, none is lost.
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (app, token, room) = (t.app.clone(), t.token.clone(), room.clone());
            std::thread::spawn(move || {
                let body =
                    json!({"uuid": room, "value": {"desc": format!("desc {i}")}}).to_string();
                smol::block_on(http::request(
                    &app,
                    "POST",
                    "/api/v1/group/update",
                    Some(&token),
                    Some(&body),
                ))
                .0
            })
        })
        .collect();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let codes: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let _ = tx.send(codes);
    });
    let codes = rx
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| stuck("16 concurrent group updates: no answer".into()));
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    health_answers(&t, "after concurrent updates");
    let row = t.get(&format!(
        "/api/v1.0/voi/education/group/?searchtype=single&uuid={room}"
    ));
    assert!(row["desc"].as_str().unwrap().starts_with("desc "), "{row}");
}
