//! API tier for the terminal API over fakes: personal login (both
//! spellings, distinct refusals, rate limit, one session per account with
//! `old_mac`, forged, expired and renewed sessions), opening desktops with
//! fresh SPICE tickets, two terminals racing for the last random desktop,
//! classroom terminals by address (wrong classroom, seat conflicts, source
//! check), the terminal registry, group deletes that name their users, and
//! CSV user import (all or none, the bad line named).

use crate::common;

use std::time::Duration;

use common::appliance::{harness, T};
use serde_json::{json, Value};
use uuid::Uuid;
use vdi_appliance::domain::desktop::Status;
use vdi_appliance::service::auth::token_hash;

const HERE: &str = "192.0.2.77";

fn pool(t: &T) -> Value {
    t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"].clone()
}

fn uuid_of(t: &T, listing: &str, name: &str) -> String {
    t.get(&format!("{listing}?searchtype=single&name={name}"))["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

fn user_group(t: &T, name: &str) -> String {
    t.ok(
        "/api/v1/group/create",
        json!({"name": name, "group_type": "personal"}),
    );
    uuid_of(t, "/api/v1.0/voi/education/group/", name)
}

fn user(t: &T, group: &str, name: &str) -> String {
    t.ok(
        "/api/v1/group/user/create",
        json!({"group_uuid": group, "user_name": name, "passwd": "secret1", "enabled": 1}),
    )["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

fn template(t: &T) -> String {
    let image = t.image();
    t.template("win10", &image)["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

fn login(t: &T, name: &str, mac: &str) -> Value {
    t.term_ok(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": name, "password": "secret1", "mac": mac}),
    )
}

/// The SPICE password most recently set on a fake domain.
fn last_ticket(t: &T, desktop: &str) -> String {
    let d = t.f.hypervisor.domain(&desktop.parse().unwrap()).unwrap();
    d.updates.last().cloned().unwrap_or_default()
}

fn wait_status(t: &T, desktop: &str, want: Status) {
    for _ in 0..100 {
        if t.s.desktop_get(&desktop.parse().unwrap()).unwrap().status == want {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("desktop {desktop} never became {want:?}");
}

#[test]
fn personal_users_log_in_open_their_desktops_and_sessions_are_enforced() {
    let t = harness();
    let tpl = template(&t);
    let staff = user_group(&t, "staff");
    let alice = user(&t, &staff, "alice");
    let bob = user(&t, &staff, "bob");
    user(&t, &staff, "carol");
    // A static group with alice's desktop and a random one of 1 desktop.
    t.ok("/api/v1/desktop/personal/create", json!({"name": "own", "owner_id": 1, "template_uuid": tpl,
        "pool_uuid": pool(&t), "allocate_type": 1, "vcpu": 1, "ram": 1, "sys_restore": 0, "data_restore": 0,
        "desktop_type": 2, "instance_num": 1, "prefix": "own", "postfix": 1,
        "allocates": [{"group_uuid": staff, "user_uuid": alice, "name": "Alice"}], "create_info": {}}));
    t.ok("/api/v1/desktop/personal/create", json!({"name": "pool", "owner_id": 1, "template_uuid": tpl,
        "pool_uuid": pool(&t), "allocate_type": 1, "vcpu": 1, "ram": 1, "sys_restore": 1, "data_restore": 0,
        "desktop_type": 1, "instance_num": 1, "prefix": "pd", "postfix": 2, "groups": [staff], "create_info": {}}));
    let own = uuid_of(&t, "/api/v1.0/desktop_group/", "own");
    let rnd = uuid_of(&t, "/api/v1.0/desktop_group/", "pool");

    // Both spellings of the login name; the second terminal learns of the first.
    let mac1 = "52:54:00:00:00:01";
    let first = login(&t, "alice", mac1);
    assert_eq!(first["user_name"], json!("alice"));
    assert_eq!(first["group_uuid"], json!(staff));
    assert!(first.get("old_mac").is_none(), "{first}");
    assert_eq!(first["session_id"].as_str().unwrap().len(), 32);
    let second = t.term_ok(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"user_name": "alice", "password": "secret1", "mac": "52-54-00-00-00-02"}),
    );
    assert_eq!(second["old_mac"], json!(mac1));
    let s1 = first["session_id"].as_str().unwrap();
    let s2 = second["session_id"].as_str().unwrap().to_string();
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/person_desktops",
        json!({"session_id": s1}),
        21101,
        "log in again",
    );
    // Distinct refusals: wrong password, unknown user, disabled user, bad MAC.
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": "alice", "password": "nope-nope", "mac": mac1}),
        20905,
        "Wrong password",
    );
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": "mallory", "password": "secret1", "mac": mac1}),
        20904,
        "mallory",
    );
    t.ok("/api/v1/group/user/disable", json!({"uuid": [bob]}));
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": "bob", "password": "secret1", "mac": mac1}),
        20906,
        "disabled",
    );
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"user_name": "alice", "password": "secret1", "mac": "x1-12-54-e5-92-t5"}),
        10002,
        "mac",
    );
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"user": "alice", "password": "secret1", "mac": mac1}),
        10004,
        "user",
    );
    // Rate limit: after 5 failures even the right password waits.
    for _ in 0..5 {
        t.term_fails(
            "192.0.2.78",
            "/api/v1/terminal/personal/login",
            json!({"username": "carol", "password": "wrong-one", "mac": mac1}),
            20905,
            "carol",
        );
    }
    t.term_fails(
        "192.0.2.78",
        "/api/v1/terminal/personal/login",
        json!({"username": "carol", "password": "secret1", "mac": mac1}),
        11004,
        "carol",
    );

    // Forged, expired and renewed sessions.
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/person_desktops",
        json!({"session_id": "80d72a65047ccd5fd1cc9cadf220413f"}),
        21101,
        "log in again",
    );
    let h = token_hash(&s2);
    let ttl = t.s.settings.terminal_session.as_millis() as i64;
    t.s.store
        .terminal_session_renew(&h, t.s.now_ms() + ttl / 4)
        .unwrap();
    let groups = t.term_ok(
        HERE,
        "/api/v1/terminal/personal/person_desktops",
        json!({"session_id": s2}),
    );
    let renewed =
        t.s.store
            .terminal_session_get(&h)
            .unwrap()
            .unwrap()
            .expires_at;
    assert!(
        renewed > t.s.now_ms() + ttl / 2,
        "a use past half-life renews the session"
    );
    let names: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["own", "pool"], "{groups}");
    assert_eq!(groups[0]["maintenance"], json!(true), "true means usable");
    assert!(groups[0].get("order_num").is_some());

    // Open the static desktop: started, a fresh ticket each time.
    let o1 = t.term_ok(
        HERE,
        "/api/v1/terminal/personal/instance",
        json!({"session_id": s2, "desktop_uuid": own, "desktop_name": "own"}),
    );
    let d = o1["uuid"].as_str().unwrap().to_string();
    assert!(
        o1["spice_host"].as_str().unwrap().starts_with("vdi-"),
        "{o1}"
    );
    assert_eq!(o1["spice_port"], 5900);
    assert!(o1["spice_proxy"].as_str().unwrap().starts_with("http://"));
    assert_eq!(o1["os_type"], json!("windows_10"));
    let tk1 = o1["spice_token"].as_str().unwrap();
    let set = last_ticket(&t, &d);
    assert!(
        set.contains(&format!("passwd='{tk1}'")) && set.contains("passwdValidTo="),
        "{set}"
    );
    let rec = t.s.desktop_get(&d.parse().unwrap()).unwrap();
    assert_eq!(rec.status, Status::Active);
    assert_ne!(
        rec.spice_password, tk1,
        "the ticket is not the stored password"
    );
    assert_eq!(rec.terminal_mac, "52:54:00:00:00:02");
    let o2 = t.term_ok(
        HERE,
        "/api/v1/terminal/personal/instance",
        json!({"session_id": s2, "destop_uuid": own}),
    );
    assert_ne!(o2["spice_token"], o1["spice_token"]);
    // A group alice may not use is refused.
    let other = user_group(&t, "others");
    let dave = user(&t, &other, "dave");
    let sd = login(&t, "dave", "52:54:00:00:00:03")["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/instance",
        json!({"session_id": sd, "desktop_uuid": own}),
        21107,
        "may not use",
    );
    // Maintenance hides nothing but refuses opening.
    t.ok(
        "/api/v1/desktop/personal/update",
        json!({"uuid": rnd, "value": {"maintenance": 1}}),
    );
    let g = t.term_ok(
        HERE,
        "/api/v1/terminal/personal/person_desktops",
        json!({"session_id": s2}),
    );
    assert_eq!(g[1]["maintenance"], json!(false), "{g}");
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/instance",
        json!({"session_id": s2, "desktop_uuid": rnd}),
        21107,
        "maintenance",
    );
    t.ok(
        "/api/v1/desktop/personal/update",
        json!({"uuid": rnd, "value": {"maintenance": 0}}),
    );

    // Two terminals race for the last random desktop: exactly one wins.
    t.ok("/api/v1/group/user/enable", json!({"uuid": [bob]}));
    t.ok(
        "/api/v1/group/user/update",
        json!({"uuid": dave, "value": {"group_uuid": staff}}),
    );
    let sb = login(&t, "bob", "52:54:00:00:00:04")["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sd = login(&t, "dave", "52:54:00:00:00:03")["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let outcomes: Vec<(u16, Value)> = std::thread::scope(|sc| {
        let hs: Vec<_> = [sb.clone(), sd.clone()]
            .into_iter()
            .map(|s| {
                let (t, rnd) = (&t, &rnd);
                sc.spawn(move || {
                    t.from(
                        HERE,
                        "/api/v1/terminal/personal/instance",
                        json!({"session_id": s, "desktop_uuid": rnd}),
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wins = outcomes
        .iter()
        .filter(|(_, v)| v["code"] == json!(0))
        .count();
    let lost: Vec<_> = outcomes
        .iter()
        .filter(|(_, v)| v["code"] != json!(0))
        .collect();
    assert_eq!(wins, 1, "{outcomes:?}");
    assert_eq!(lost[0].1["code"], json!(20810), "{outcomes:?}");
    let (winner, wmac) = if outcomes[0].1["code"] == json!(0) {
        (sb.clone(), "52:54:00:00:00:04")
    } else {
        (sd.clone(), "52:54:00:00:00:03")
    };
    let rd = t.s.desktops_of(&rnd.parse().unwrap()).unwrap()[0].clone();
    assert_eq!(rd.status, Status::Active);
    // Closing gives the random desktop back once it is off.
    t.term_ok(
        HERE,
        "/api/v1/terminal/personal/close_instance",
        json!({"session_id": winner, "mac": wmac}),
    );
    wait_status(&t, &rd.uuid.to_string(), Status::Inactive);
    for _ in 0..100 {
        if t.s.desktop_get(&rd.uuid).unwrap().user.is_none() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(t.s.desktop_get(&rd.uuid).unwrap().user, None);

    // Password change needs the old one and ends the session.
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/change_pwd",
        json!({"user_name": "alice", "password": "bad-old-pw", "new_password": "secret2"}),
        20905,
        "alice",
    );
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/change_pwd",
        json!({"user_name": "alice", "password": "secret1", "new_password": ""}),
        10002,
        "new_password",
    );
    t.term_ok(
        HERE,
        "/api/v1/terminal/personal/change_pwd",
        json!({"user_name": "alice", "password": "secret1", "new_password": "secret2"}),
    );
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/person_desktops",
        json!({"session_id": s2}),
        21101,
        "log in again",
    );
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": "alice", "password": "secret1", "mac": mac1}),
        20905,
        "Wrong password",
    );
    let s3 = t.term_ok(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": "alice", "password": "secret2", "mac": mac1}),
    )["session_id"]
        .clone();
    // An expired session is refused and removed.
    t.s.store
        .terminal_session_renew(&token_hash(s3.as_str().unwrap()), t.s.now_ms() - 1)
        .unwrap();
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/person_desktops",
        json!({"session_id": s3}),
        21101,
        "expired",
    );
    assert!(t
        .s
        .store
        .terminal_session_get(&token_hash(s3.as_str().unwrap()))
        .unwrap()
        .is_none());
    // Logout ends the session.
    t.term_ok(
        HERE,
        "/api/v1/terminal/personal/logout",
        json!({"session_id": sb}),
    );
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/logout",
        json!({"session_id": sb}),
        21101,
        "log in again",
    );
    // No password or session id is kept in clear.
    let dump = t.get("/api/v1.0/group_user/?searchtype=all").to_string()
        + &t.get("/api/v1.0/operation_log/?searchtype=all&page_size=1000")
            .to_string()
        + &t.get("/api/v1.0/terminal/?searchtype=all").to_string();
    for secret in ["secret1", "secret2", s1, &s2, &sd] {
        assert!(!dump.contains(secret), "`{secret}` leaked");
    }
}

fn classroom(t: &T, name: &str, start: &str, end: &str) -> String {
    let (n, s) = t.net();
    t.ok(
        "/api/v1/group/create",
        json!({"name": name, "group_type": 1, "network_uuid": n, "subnet_uuid": s, "start_ip": start, "end_ip": end}),
    );
    uuid_of(t, "/api/v1.0/voi/education/group/", name)
}

fn edu_group(t: &T, room: &str, tpl: &str, name: &str, n: u32) -> String {
    let (net, sub) = t.net();
    t.ok("/api/v1/desktop/education/create", json!({"name": name, "owner_id": 1, "group_uuid": room,
        "template_uuid": tpl, "pool_uuid": pool(t), "network_uuid": net, "subnet_uuid": sub, "vcpu": 1, "ram": 1,
        "sys_restore": 1, "data_restore": 0, "instance_num": n, "prefix": name, "postfix": 2}));
    let g = uuid_of(t, "/api/v1.0/desktop_group/", name);
    t.ok("/api/v1/desktop/education/active", json!({"uuid": g}));
    g
}

fn seat_desktop(t: &T, group: &str, seat: u32) -> String {
    t.s.desktops_of(&group.parse().unwrap())
        .unwrap()
        .into_iter()
        .find(|d| d.seat == seat)
        .unwrap()
        .uuid
        .to_string()
}

#[test]
fn classroom_terminals_open_their_seat_and_are_registered() {
    let t = harness();
    let tpl = template(&t);
    let room = classroom(&t, "room1", "10.1.0.10", "10.1.0.40");
    let room2 = classroom(&t, "room2", "10.2.0.10", "10.2.0.40");
    let a = edu_group(&t, &room, &tpl, "art", 2);
    let b = edu_group(&t, &room, &tpl, "bio", 2);
    let c = edu_group(&t, &room2, &tpl, "chem", 1);
    t.ok("/api/v1/desktop/education/inactive", json!({"uuid": b}));
    let (t1, m1, m2) = ("10.1.0.11", "52:54:00:aa:00:01", "52:54:00:aa:00:02");

    // The classroom is found from the terminal's address; only active groups.
    let list = t.term_ok(
        t1,
        "/api/v1/terminal/education/edu_desktops",
        json!({"terminal_id": 1, "terminal_ip": t1}),
    );
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["art"], "{list}");
    assert_eq!(list[0]["active"], json!(true));
    t.ok("/api/v1/desktop/education/active", json!({"uuid": b}));
    t.term_fails(
        "10.9.0.1",
        "/api/v1/terminal/education/edu_desktops",
        json!({"terminal_id": 1, "terminal_ip": "10.9.0.1"}),
        21105,
        "10.9.0.1",
    );
    // A terminal cannot speak for another address.
    t.term_fails(
        "10.1.0.12",
        "/api/v1/terminal/education/edu_desktops",
        json!({"terminal_id": 1, "terminal_ip": t1}),
        21106,
        "10.1.0.12",
    );
    let g = t.term_ok(
        t1,
        "/api/v1/terminal/education/group",
        json!({"terminal_ip": t1}),
    );
    assert_eq!(g, json!({"name": "room1", "uuid": room}));

    // Open seat 1 of art (terminal_id as a number, then as text).
    let o = t.term_ok(
        t1,
        "/api/v1/terminal/education/instance",
        json!({"terminal_id": 1, "mac": m1, "ip": t1, "desktop_uuid": a, "desktop_name": "art"}),
    );
    let a1 = seat_desktop(&t, &a, 1);
    assert_eq!(o["uuid"], json!(a1));
    // The dashboard counts the terminal that just opened its seat.
    let (_, ov) = t.call("GET", "/api/v1.0/monitor/overview", None);
    assert_eq!(ov["data"]["terminals"]["seen_last_hour"], 1, "{ov}");
    assert!(o["spice_host"].as_str().unwrap().starts_with("vdi-"), "{o}");
    assert_eq!(o["spice_port"], 5900, "{o}");
    assert!(last_ticket(&t, &a1).contains(o["spice_token"].as_str().unwrap()));
    assert_eq!(
        t.s.desktop_get(&a1.parse().unwrap()).unwrap().terminal_ip,
        t1
    );
    // Wrong classroom, unknown seat, a seat another terminal holds.
    t.term_fails(
        t1,
        "/api/v1/terminal/education/instance",
        json!({"terminal_id": 1, "mac": m1, "ip": t1, "desktop_uuid": c}),
        21107,
        "room1",
    );
    t.term_fails(
        t1,
        "/api/v1/terminal/education/instance",
        json!({"terminal_id": "9", "mac": m1, "ip": t1, "destop_uuid": a}),
        21108,
        "seat 9",
    );
    t.term_fails(
        "10.1.0.12",
        "/api/v1/terminal/education/instance",
        json!({"terminal_id": "1", "mac": m2, "ip": "10.1.0.12", "desktop_uuid": a}),
        21104,
        m1,
    );
    // The same seat in another group of the room: art's desktop makes way.
    let o = t.term_ok(
        t1,
        "/api/v1/terminal/education/instance",
        json!({"terminal_id": "1", "mac": m1, "ip": t1, "destop_uuid": b}),
    );
    let b1 = seat_desktop(&t, &b, 1);
    assert_eq!(o["uuid"], json!(b1));
    assert_eq!(
        t.s.desktop_get(&a1.parse().unwrap()).unwrap().status,
        Status::Inactive
    );
    assert_eq!(
        t.s.desktop_get(&b1.parse().unwrap()).unwrap().status,
        Status::Active
    );

    // Bindings: a list as documented, or one terminal; unknown rooms left out.
    let rows = t.term_ok(
        t1,
        "/api/v1/terminal/instance/list",
        json!([
        {"terminal_id": 1, "terminal_mac": m1, "terminal_ip": t1},
        {"terminal_id": 2, "terminal_mac": "00:23:34", "terminal_ip": "10.9.9.9"}]),
    );
    let b1ip =
        t.s.desktop_get(&b1.parse().unwrap())
            .unwrap()
            .ip
            .unwrap()
            .to_string();
    assert_eq!(
        rows,
        json!([{"desktop_ip": b1ip, "group_uuid": b, "terminal_id": 1, "terminal_ip": t1, "terminal_mac": m1}])
    );
    let one = t.term_ok(
        t1,
        "/api/v1/terminal/instance/list",
        json!({"terminal_id": 1, "terminal_mac": m1, "terminal_ip": t1}),
    );
    assert_eq!(one.as_array().unwrap().len(), 1);
    t.term_fails(
        t1,
        "/api/v1/terminal/instance/list",
        json!([{"terminal_id": 1}]),
        10003,
        "terminal_ip",
    );
    let groups = t.term_ok(t1, "/api/v1/terminal/instance/groups", json!({}));
    // It takes no parameters: a field, or a body that is not an object, is
    // refused.
    for body in [json!({"x": 1}), json!([]), json!(3)] {
        t.term_fails(t1, "/api/v1/terminal/instance/groups", body, 10004, "");
    }
    assert_eq!(groups.as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["group_type"], json!(1));
    assert_eq!(groups[0]["start_ip"], json!("10.1.0.10"));

    // The registry: seen terminals, renamed and re-seated by the admin.
    let reg = t.get("/api/v1.0/terminal/?searchtype=all");
    assert_eq!(reg["count"], json!(1));
    let row = &reg["results"][0];
    assert_eq!(
        (row["mac"].as_str(), row["terminal_id"].as_u64()),
        (Some(m1), Some(1))
    );
    assert_eq!(
        (row["group_name"].as_str(), row["desktop_name"].as_str()),
        (Some("room1"), Some("bio01"))
    );
    let rooms = t.get("/api/v1.0/voi/education/group/?searchtype=single&name=room1");
    assert_eq!(rooms["terminal_count"], json!(1));
    let tid = row["uuid"].as_str().unwrap().to_string();
    t.ok_m(
        "PUT",
        "/api/v1.0/terminal/",
        json!({"uuid": tid, "value": {"name": "front-left", "terminal_id": 5}}),
    );
    let row = t.get(&format!("/api/v1.0/terminal/?searchtype=single&uuid={tid}"));
    assert_eq!(
        (row["name"].as_str(), row["terminal_id"].as_u64()),
        (Some("front-left"), Some(5))
    );
    // Seat 1 is free now for the second terminal.
    t.term_ok(
        "10.1.0.12",
        "/api/v1/terminal/education/instance",
        json!({"terminal_id": 1, "mac": m2, "ip": "10.1.0.12", "desktop_uuid": b}),
    );
    t.fails_m(
        "PUT",
        "/api/v1.0/terminal/",
        json!({"uuid": tid, "value": {"terminal_id": 1}}),
        21104,
        m2,
    );

    // Closing: by MAC (classroom), by desktop uuid (only what a terminal has open).
    t.term_ok(
        "10.1.0.12",
        "/api/v1/terminal/education/close_instance",
        json!({"mac": m2}),
    );
    wait_status(&t, &b1, Status::Inactive);
    t.term_ok(
        "10.1.0.12",
        "/api/v1/terminal/education/close_instance",
        json!({"mac": m2}),
    );
    t.term_fails(
        t1,
        "/api/v1/terminal/instance/close",
        json!({"desktop_uuid": a1}),
        21102,
        "art01",
    );
    t.term_fails(
        t1,
        "/api/v1/terminal/education/close_instance",
        json!({"mac": "52:54:00:ff:ff:ff"}),
        21102,
        "52:54:00:ff:ff:ff",
    );

    // Group deletes name what holds them.
    let (st, v) = t.call("POST", "/api/v1/group/delete", Some(json!({"uuid": room})));
    assert_eq!((st, v["code"].as_i64()), (409, Some(20704)), "{v}");
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains("`art`") && msg.contains("`bio`"), "{msg}");
    // Forgetting terminals (batch).
    let r = t.ok_m(
        "DELETE",
        "/api/v1.0/terminal/",
        json!({"terminals": [{"uuid": tid}, {"uuid": Uuid::new_v4().to_string()}]}),
    );
    assert_eq!(
        (r["success_num"].as_u64(), r["failed_num"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        t.get("/api/v1.0/terminal/?searchtype=all")["count"],
        json!(1)
    );
}

#[test]
fn csv_imports_are_all_or_nothing_and_name_the_bad_line() {
    let t = harness();
    let g = user_group(&t, "class-7");
    let users = |t: &T| {
        t.get("/api/v1.0/group_user/?searchtype=all")["count"]
            .as_u64()
            .unwrap()
    };
    // A bad row: nothing is imported, the line is named.
    let csv = "user_name,password,name,phone,email\nann,secret11,Ann,123,ann@x.org\nbo b,secret22,Bob,,\n";
    t.fails(
        "/api/v1/group/user/import",
        json!({"group_uuid": g, "csv": csv}),
        10002,
        "CSV line 3",
    );
    assert_eq!(users(&t), 0);
    // A name twice in the file, or already taken.
    user(&t, &g, "zed");
    let csv = "ann,secret11\nzed,secret22\n";
    t.fails(
        "/api/v1/group/user/import",
        json!({"group_uuid": g, "csv": csv}),
        20902,
        "CSV line 2",
    );
    let csv = "ann,secret11\nann,secret22\n";
    t.fails(
        "/api/v1/group/user/import",
        json!({"group_uuid": g, "csv": csv}),
        20902,
        "line 1",
    );
    // Every bad line is named at once, one per line of the message, so a
    // file is fixed in one round (six columns and a bad name here).
    let csv = "zed,secret11\nann,secret22,A,1,a@x.org,extra\ncat,secret33\nbo b,secret44\n";
    let (st, v) = t.call(
        "POST",
        "/api/v1/group/user/import",
        Some(json!({"group_uuid": g, "csv": csv})),
    );
    assert!(st >= 400 && v["code"].as_i64() != Some(0), "{v}");
    let msg = v["msg"].as_str().unwrap();
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(lines.len(), 2, "{msg}");
    assert!(
        lines[0].starts_with("CSV line 2") && lines[1].starts_with("CSV line 4"),
        "{msg}"
    );
    assert_eq!(users(&t), 1);
    // A good file as JSON, then one as the raw body.
    let csv = "\u{feff}user_name,password,name,phone,email\r\nann,secret11,\"Ann, A.\",123,ann@x.org\r\nbob,secret22,Bob,,\r\n";
    let r = t.ok(
        "/api/v1/group/user/import",
        json!({"group_uuid": g, "csv": csv}),
    );
    assert_eq!(r["success_num"], json!(2));
    let (st, text) = smol::block_on(vdi_appliance::http::request(
        &t.app,
        "POST",
        &format!("/api/v1/group/user/import?group_uuid={g}"),
        Some(&t.token),
        Some("cy,secret33,Cy\n"),
    ));
    assert_eq!(st, 200, "{text}");
    assert_eq!(users(&t), 4);
    let ann = t.get("/api/v1.0/group_user/?searchtype=single&user_name=ann");
    assert_eq!(
        (ann["name"].as_str(), ann["email"].as_str()),
        (Some("Ann, A."), Some("ann@x.org"))
    );
    // Imported passwords work on a terminal; nothing is stored in clear.
    login(&t, "zed", "52:54:00:00:00:09");
    t.term_ok(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": "cy", "password": "secret33", "mac": "525400000009"}),
    );
    let all = t.get("/api/v1.0/group_user/?searchtype=all").to_string();
    assert!(!all.contains("secret") && !all.contains("argon2"));
    // An education group cannot hold users.
    let room = classroom(&t, "room9", "10.3.0.1", "10.3.0.9");
    t.fails(
        "/api/v1/group/user/import",
        json!({"group_uuid": room, "csv": "x1,secret11\n"}),
        10002,
        "not a user group",
    );
}

#[test]
fn an_export_carries_groups_templates_desktops_users_and_terminals() {
    use vdi_appliance::store::Store;
    let t = harness();
    let tpl = template(&t);
    let room = classroom(&t, "room1", "10.1.0.10", "10.1.0.40");
    let art = edu_group(&t, &room, &tpl, "art", 2);
    let staff = user_group(&t, "staff");
    user(&t, &staff, "alice");
    login(&t, "alice", "52:54:00:00:00:01");
    t.term_ok("10.1.0.11", "/api/v1/terminal/education/instance",
        json!({"terminal_id": 2, "mac": "52:54:00:aa:00:02", "ip": "10.1.0.11", "desktop_uuid": art}));
    let text = t.s.store.export_json().unwrap();
    assert!(!text.contains("secret1"), "no password in the export");
    let b = Store::temporary().unwrap();
    b.import_json(&text).unwrap();
    let a = &t.s.store;
    assert_eq!(a.group_list().unwrap(), b.group_list().unwrap());
    assert_eq!(a.template_list().unwrap(), b.template_list().unwrap());
    assert_eq!(a.image_list().unwrap(), b.image_list().unwrap());
    assert_eq!(
        a.desktop_group_list().unwrap(),
        b.desktop_group_list().unwrap()
    );
    let g = art.parse().unwrap();
    assert_eq!(a.desktops_of(&g).unwrap(), b.desktops_of(&g).unwrap());
    assert_eq!(a.user_list().unwrap(), b.user_list().unwrap());
    assert!(
        b.user_by_name("ALICE").unwrap().is_some(),
        "the name index is rebuilt"
    );
    assert_eq!(a.terminal_list().unwrap(), b.terminal_list().unwrap());
    let seat = b
        .terminal_at_seat(&room.parse().unwrap(), 2)
        .unwrap()
        .unwrap();
    assert_eq!(seat.mac.to_string(), "52:54:00:aa:00:02");
    // The references came along: a group in use still refuses its delete.
    assert_eq!(
        b.group_delete(&room.parse().unwrap()).unwrap_err().code,
        vdi_appliance::error::Code::GroupInUse
    );
    // New records number after the imported ones.
    let max = b
        .desktop_list()
        .unwrap()
        .iter()
        .map(|d| d.seq)
        .max()
        .unwrap();
    assert!(b.sequence_next().unwrap() > max);
}

#[test]
fn non_ascii_macs_are_refused_on_the_unauthenticated_routes() {
    let t = harness();
    let g = user_group(&t, "staff");
    user(&t, &g, "alice");
    // Twelve bytes, ten characters: `Mac::parse` once sliced it mid-character.
    for mac in ["a€bbbbbbbb", "€€€€", "52:54:00:ab:cd:€"] {
        for (path, body) in [
            (
                "/api/v1/terminal/personal/login",
                json!({"username": "alice", "password": "secret1", "mac": mac}),
            ),
            (
                "/api/v1/terminal/personal/close_instance",
                json!({"session_id": "x", "mac": mac}),
            ),
            (
                "/api/v1/terminal/education/close_instance",
                json!({"mac": mac}),
            ),
        ] {
            let (st, v) = t.from(HERE, path, body);
            assert_eq!(
                (st, v["code"].as_i64()),
                (422, Some(10002)),
                "{path} {mac}: {v}"
            );
            assert!(v["msg"].as_str().unwrap().contains("`mac`"), "{v}");
        }
    }
}

#[test]
fn right_logins_to_ones_own_account_do_not_clear_an_addresss_failures() {
    let t = harness();
    let g = user_group(&t, "staff");
    user(&t, &g, "mallory");
    // login_attempts is 5: an address may fail 20 times. Guesses at other
    // accounts (one each, so no account locks) between right logins to
    // one's own account still add up.
    for i in 0..20 {
        login(&t, "mallory", "52:54:00:00:00:01");
        t.term_fails(
            HERE,
            "/api/v1/terminal/personal/login",
            json!({"username": format!("victim{i}"), "password": "guess", "mac": "525400000001"}),
            20904,
            "victim",
        );
    }
    t.term_fails(
        HERE,
        "/api/v1/terminal/personal/login",
        json!({"username": "mallory", "password": "secret1", "mac": "525400000001"}),
        11004,
        &format!("terminal {HERE}"),
    );
    // Another address is not locked, and a right login there still works.
    t.term_ok(
        "192.0.2.78",
        "/api/v1/terminal/personal/login",
        json!({"username": "mallory", "password": "secret1", "mac": "525400000002"}),
    );
}

#[test]
fn csv_import_errors_name_positions_never_cells() {
    let t = harness();
    let g = user_group(&t, "class-8");
    let secret = "Csv-Secret-Pw-77";
    // A header row that is a password (a file saved without its header).
    for csv in [
        format!("email,{secret}\nann,{secret}\n"),
        // A password in the name column, twice, and then an existing name.
        format!("{secret},x\n{secret},y\n"),
    ] {
        let (st, v) = t.call(
            "POST",
            "/api/v1/group/user/import",
            Some(json!({"group_uuid": g, "csv": csv})),
        );
        assert!(st >= 400, "{v}");
        let msg = v["msg"].as_str().unwrap();
        assert!(!msg.contains(secret), "the reply echoes a cell: {msg}");
        assert!(msg.contains("line"), "{msg}");
    }
    let (_, v) = t.call(
        "POST",
        "/api/v1/group/user/import",
        Some(json!({"group_uuid": g, "csv": format!("email,{secret}\n")})),
    );
    assert!(v["msg"].as_str().unwrap().contains("column 2"), "{v}");
    user(&t, &g, "zed");
    let (_, v) = t.call(
        "POST",
        "/api/v1/group/user/import",
        Some(json!({"group_uuid": g, "csv": "zed,secret1\n"})),
    );
    assert_eq!(v["code"].as_i64(), Some(20902));
    assert!(!v["msg"].as_str().unwrap().contains("zed"), "{v}");
    // Neither the operation log nor the store's export holds it.
    let log = t.get("/api/v1.0/operation_log/?page_size=1000").to_string();
    assert!(log.contains("import"), "the imports are logged: {log}");
    assert!(!log.contains(secret), "the operation log echoes a cell");
    let dump = t.s.store.export_json().unwrap();
    assert!(!dump.contains(secret), "the store holds a cell");
}

#[test]
fn every_listing_carries_the_base_columns() {
    use vdi_appliance::service::query::BASE_FIELDS;
    use vdi_appliance::service::Answer;
    let t = harness();
    let tpl = template(&t);
    let (st, iso) = t.upload("/api/v1/iso/upload?name=debian", common::appliance::iso());
    assert_eq!(st, 200, "{iso}");
    let room = classroom(&t, "room1", "10.1.0.10", "10.1.0.40");
    edu_group(&t, &room, &tpl, "art", 1);
    let staff = user_group(&t, "staff");
    user(&t, &staff, "alice");
    login(&t, "alice", "52:54:00:00:00:01");
    let rows = |name: &str| -> Vec<Value> {
        let q =
            vdi_appliance::domain::query::parse(&[("page_size".into(), "1000".into())]).unwrap();
        match t.s.query.run(&t.s, name, &q).unwrap() {
            Answer::Page { rows, .. } => serde_json::from_str(&rows).unwrap(),
            Answer::Single(_) => unreachable!(),
        }
    };
    let time = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.len() == 19 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b' ')
    };
    let mut empty = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for name in t.s.query.names() {
        let fields = t.s.query.fields(name).unwrap();
        assert_eq!(&fields[..BASE_FIELDS.len()], BASE_FIELDS, "{name}");
        let list = rows(name);
        if list.is_empty() {
            empty.push(name);
            continue;
        }
        let mut seen = std::collections::HashSet::new();
        for r in &list {
            let id = r["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: id in {r}"));
            assert!(id < 1 << 53, "{name}: exact in JavaScript");
            assert!(seen.insert(id), "{name}: id {id} twice");
            // Log entries and admin accounts (named by their name) have no uuid.
            if name == "operation_log" || name == "admin" {
                assert!(r["uuid"].is_null(), "{r}");
            } else {
                assert!(
                    Uuid::parse_str(r["uuid"].as_str().unwrap_or("")).is_ok(),
                    "{name}: {r}"
                );
            }
            assert!(time(&r["created_at"]), "{name}: {r}");
            assert!(
                time(&r["updated_at"]) || r["updated_at"].is_null(),
                "{name}: {r}"
            );
            assert_eq!(
                (&r["deleted"], &r["deleted_at"]),
                (&json!(false), &Value::Null),
                "{name}"
            );
        }
        ids.insert(
            name,
            list.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        );
    }
    // Bonds need two spare NICs, which this host does not have.
    assert_eq!(empty, ["bond"]);
    // Ids are stable: an unrelated change leaves every one as it was.
    t.ok(
        "/api/v1/group/update",
        json!({"uuid": staff, "name": "staff", "value": {"name": "staff 2"}}),
    );
    for (name, before) in &ids {
        if matches!(*name, "operation_log" | "task") {
            continue;
        }
        let now: Vec<Value> = rows(name).iter().map(|r| r["id"].clone()).collect();
        assert_eq!(&now, before, "{name}");
    }
    // Over HTTP, a group record as file 001's generic-query example has it.
    let g = t.get(&format!(
        "/api/v1.0/voi/education/group/?searchtype=single&uuid={room}"
    ));
    for k in BASE_FIELDS {
        assert!(g.get(*k).is_some(), "`{k}` missing from {g}");
    }
    assert!(g["updated_at"].as_str().unwrap() >= g["created_at"].as_str().unwrap());
    let filtered = t.get("/api/v1.0/voi/education/group/?deleted=0");
    assert_eq!(
        filtered["count"], 2,
        "`deleted=0` matches every record: {filtered}"
    );
}
