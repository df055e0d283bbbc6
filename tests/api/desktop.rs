//! API tier for desktop groups, desktops and users over fakes: the
//! documented bodies of both dialects, naming, seats and shared classroom
//! addresses, restore proven on the fake disks, the seat rule, personal
//! random and static groups, the errors, undo of a failed create, the
//! reconciler and crash recovery.

use crate::common;

use std::path::PathBuf;

use common::appliance::{harness, T};
use serde_json::{json, Value};
use uuid::Uuid;
use vdi_appliance::domain::desktop::Desktop;
use vdi_appliance::host::PowerState;

fn classroom(t: &T, name: &str, start: &str, end: &str) -> String {
    let (n, s) = t.net();
    t.ok(
        "/api/v1/group/create",
        json!({"name": name, "group_type": "education", "network_uuid": n, "subnet_uuid": s,
               "start_ip": start, "end_ip": end}),
    );
    let g = t.get(&format!(
        "/api/v1.0/voi/education/group/?searchtype=single&name={name}"
    ));
    g["uuid"].as_str().unwrap().to_string()
}

fn desktops(t: &T, group: &str) -> Vec<Desktop> {
    t.s.desktops_of(&group.parse().unwrap()).unwrap()
}

fn group_uuid(t: &T, name: &str) -> String {
    let g = t.get(&format!(
        "/api/v1.0/voi/education/desktop/?searchtype=single&name={name}"
    ));
    g["uuid"].as_str().unwrap().to_string()
}

fn sys_disk(d: &Desktop) -> PathBuf {
    d.disks.iter().find(|x| x.inx == 0).unwrap().path.clone()
}

fn data_disk(d: &Desktop) -> PathBuf {
    d.disks.iter().find(|x| x.inx != 0).unwrap().path.clone()
}

fn allocations(t: &T) -> usize {
    let s = t.get("/api/v1.0/subnet/?searchtype=all");
    s["results"][0]["used"].as_u64().unwrap_or(0) as usize
}

fn edu_body(t: &T, room: &str, tpl: &str, name: &str, extra: Value) -> Value {
    let (n, s) = t.net();
    let mut b = json!({"name": name, "owner_id": 1, "group_uuid": room, "template_uuid": tpl,
        "pool_uuid": t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"],
        "network_uuid": n, "subnet_uuid": s, "vcpu": 2, "ram": 1, "sys_restore": 1, "data_restore": 0,
        "instance_num": 3, "prefix": "pc", "postfix": 3, "postfix_start": 2,
        "create_info": {"192.0.2.49": 3}});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// An initialised appliance with a base image and a template on it.
fn with_template() -> (T, String) {
    let t = harness();
    let image = t.image();
    let tpl = t.template("win10", &image)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    (t, tpl)
}

#[test]
fn a_classroom_group_is_made_started_restored_and_deleted_in_both_dialects() {
    let (t, tpl) = with_template();
    let room = classroom(&t, "room1", "10.1.0.1", "10.1.0.3");
    let before = allocations(&t);
    // File 000 create: 3 desktops named pc002.., seats 1..3, one address each.
    t.ok(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "math", json!({})),
    );
    let g1 = group_uuid(&t, "math");
    let list = desktops(&t, &g1);
    let names: Vec<_> = list.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["pc002", "pc003", "pc004"]);
    assert_eq!(list.iter().map(|d| d.seat).collect::<Vec<_>>(), [1, 2, 3]);
    let ips: Vec<_> = list.iter().map(|d| d.ip.unwrap().to_string()).collect();
    assert_eq!(ips, ["192.0.2.100", "192.0.2.101", "192.0.2.102"]);
    assert_eq!(allocations(&t), before + 3);
    let macs: std::collections::HashSet<_> = list.iter().map(|d| &d.mac).collect();
    assert_eq!(macs.len(), 3);
    // Each is a defined domain on overlays of the template's current version.
    let tv = t.tpl(&tpl);
    for d in &list {
        let dom = t.f.hypervisor.domain(&d.uuid).expect("domain defined");
        assert!(
            dom.xml.contains(sys_disk(d).to_str().unwrap()),
            "{}",
            dom.xml
        );
        assert_eq!(dom.state, PowerState::Off);
        assert_eq!(d.disks.len(), 2, "system and data disk");
        assert_eq!(
            t.f.disks.backing_of(&sys_disk(d)),
            Some(tv.disks[0].version_file(tv.version))
        );
    }
    // File 001 create in the same classroom: one desktop per seat, and the
    // same seat shares the address (only one of the two runs at a time).
    t.ok(
        "/api/v1.0/voi/education/desktop/",
        json!({"action": "create", "param": {"name": "art", "group_uuid": room, "template_uuid": tpl,
            "sys_restore": 1, "data_restore": 2, "prefix": "art", "use_bottom_ip": false,
            "ip_detail": {"auto": true, "start_ip": "", "netmask": "255.255.255.0", "gateway": "192.0.2.1",
                          "dns_master": "8.8.8.8", "dns_slave": "114.114.114.114"},
            "show_info": true, "auto_update": true}}),
    );
    let g2 = group_uuid(&t, "art");
    let art = desktops(&t, &g2);
    assert_eq!(art.len(), 3);
    assert_eq!(art[0].name, "art01");
    assert_eq!(art[0].ip, list[0].ip, "seat 1 shares its address");
    assert_eq!(art[0].disks.len(), 1, "data_restore 2: no data disk");
    assert_eq!(
        allocations(&t),
        before + 3,
        "shared addresses are not new ones"
    );
    // The web listing with counts and the template status.
    let page = t.get(&format!(
        "/api/v1.0/voi/education/desktop/?searchtype=all&group={room}"
    ));
    assert_eq!(page["count"], json!(2));
    let row = &page["results"][0];
    assert_eq!(
        (row["total_count"].clone(), row["active_count"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(row["template_status"], json!("active"));
    assert_eq!(row["group_name"], json!("room1"));
    let inst = t.get(&format!(
        "/api/v1.0/voi/education/instance/?searchtype=all&desktop_group={g1}"
    ));
    assert_eq!(inst["count"], json!(3));
    assert_eq!(inst["results"][0]["desktop_ip"], json!("192.0.2.100"));
    assert_eq!(inst["results"][0]["desktop_status"], json!(0));
    // active / inactive / default in both dialects.
    t.ok("/api/v1/desktop/education/active", json!({"uuid": g1}));
    assert!(t.s.desktop_group_get(&g1.parse().unwrap()).unwrap().active);
    let r = t.ok("/api/v1.0/voi/education/desktop/",
        json!({"action": "inactive", "param": {"desktops": [{"name": "math", "uuid": g1}, {"name": "art", "uuid": g2}]}}));
    assert_eq!(r, json!({"success_num": 2, "failed_num": 0}));
    t.ok(
        "/api/v1.0/voi/education/desktop/",
        json!({"action": "default", "param": {"name": "art", "uuid": g2}}),
    );
    t.ok("/api/v1/desktop/education/default", json!({"uuid": g1}));
    assert!(
        !t.s.desktop_group_get(&g2.parse().unwrap()).unwrap().default,
        "one default per classroom"
    );
    // Start the group: every domain runs, the status follows.
    let r = t.ok("/api/v1/desktop/education/start", json!({"uuid": g1}));
    assert_eq!(
        (r["success_num"].clone(), r["failed_num"].clone()),
        (json!(3), json!(0))
    );
    for d in desktops(&t, &g1) {
        assert_eq!(
            t.f.hypervisor.domain(&d.uuid).unwrap().state,
            PowerState::Running
        );
        assert_eq!(d.status.as_str(), "active");
        assert!(d.started_at.is_some());
    }
    // The same seat of the other group may not run at the same time.
    t.fails(
        "/api/v1/instance/start",
        json!({"desktop_uuid": g2, "desktop_type": 1, "instances": [art[0].uuid.to_string()]}),
        20807,
        "Seat 1",
    );
    // Restore: what the guest wrote on the system disk is gone after a
    // reboot; the kept data disk still has it.
    let d0 = &desktops(&t, &g1)[0];
    t.f.disks.write(&sys_disk(d0), 4096, 0xab).unwrap();
    t.f.disks.write(&data_disk(d0), 4096, 0xcd).unwrap();
    let r = t.ok(
        "/api/v1/instance/reboot",
        json!({"destop_uuid": g1, "desktop_type": 1, "instances": [d0.uuid.to_string()]}),
    );
    assert_eq!(r["success_num"], json!(1));
    assert_eq!(
        t.f.disks.read(&sys_disk(d0), 4096).unwrap(),
        None,
        "system disk restored"
    );
    assert_eq!(
        t.f.disks.read(&data_disk(d0), 4096).unwrap(),
        Some(0xcd),
        "data disk kept"
    );
    // Deleting running desktops is refused; stop first, then delete.
    t.fails(
        "/api/v1/desktop/education/delete",
        json!({"uuid": g1}),
        20806,
        "running",
    );
    t.ok("/api/v1/desktop/education/stop", json!({"uuid": g1}));
    for d in desktops(&t, &g1) {
        assert_eq!(
            t.f.hypervisor.domain(&d.uuid).unwrap().state,
            PowerState::Off
        );
    }
    // Now art's seat 1 may start.
    t.ok(
        "/api/v1/instance/start",
        json!({"desktop_uuid": g2, "instances": [art[0].uuid.to_string()]}),
    );
    t.ok(
        "/api/v1/instance/stop",
        json!({"desktop_uuid": g2, "instances": [art[0].uuid.to_string()]}),
    );
    // Rename through both dialects.
    t.ok(
        "/api/v1/desktop/education/update",
        json!({"uuid": g1, "value": {"name": "maths"}}),
    );
    t.ok_m("PUT", "/api/v1.0/voi/education/desktop/",
        json!({"uuid": g2, "name": "art", "value": {"name": "arts", "use_bottom_ip": false, "show_info": 0, "auto_update": 0}}));
    assert!(
        !t.s.desktop_group_get(&g2.parse().unwrap())
            .unwrap()
            .auto_update
    );
    // The template cannot go while groups use it.
    t.fails(
        "/api/v1/template/delete",
        json!({"uuid": tpl}),
        20604,
        "desktop groups",
    );
    // Delete both: no domain, file or address is left behind.
    let files: Vec<PathBuf> = desktops(&t, &g1)
        .iter()
        .chain(&art)
        .flat_map(|d| d.disks.iter().map(|x| x.path.clone()))
        .collect();
    t.ok("/api/v1/desktop/education/delete", json!({"uuid": g1}));
    assert_eq!(
        allocations(&t),
        before + 3,
        "art still holds the seat addresses"
    );
    let r = t.ok_m(
        "DELETE",
        "/api/v1.0/voi/education/desktop/",
        json!({"desktops": [{"name": "arts", "uuid": g2}]}),
    );
    assert_eq!(r["success_num"], json!(1));
    assert_eq!(allocations(&t), before);
    for f in files {
        assert!(!t.f.disks.exists_now(&f), "{} left", f.display());
    }
    assert!(t
        .f
        .hypervisor
        .domains()
        .iter()
        .all(|(_, d)| !d.name.starts_with("desktop-")));
    assert_eq!(
        t.get("/api/v1.0/instance/?searchtype=all")["count"],
        json!(0)
    );
}

#[test]
fn desktops_are_added_deleted_and_errors_leave_nothing_behind() {
    let (t, tpl) = with_template();
    let room = classroom(&t, "room2", "10.2.0.1", "10.2.0.40");
    let before = allocations(&t);
    // Unknown node, wrong count, over capacity, not enough addresses.
    t.fails(
        "/api/v1/desktop/education/create",
        edu_body(
            &t,
            &room,
            &tpl,
            "x",
            json!({"create_info": {"10.9.9.9": 3}}),
        ),
        20808,
        "10.9.9.9 is not a node",
    );
    t.fails(
        "/api/v1/desktop/education/create",
        edu_body(
            &t,
            &room,
            &tpl,
            "x",
            json!({"create_info": {"192.0.2.49": 2}}),
        ),
        20808,
        "places 2",
    );
    t.fails(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "x", json!({"ram": 64})),
        20808,
        "MB of memory",
    );
    t.fails(
        "/api/v1/desktop/education/create",
        edu_body(
            &t,
            &room,
            &tpl,
            "x",
            json!({"instance_num": 12, "ram": 0.5, "create_info": {}}),
        ),
        20737,
        "no free address",
    );
    t.fails(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "x", json!({"prefix": "a b"})),
        10002,
        "prefix",
    );
    t.fails(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "x", json!({"colour": 1})),
        10004,
        "colour",
    );
    // A define that fails half-way: nothing is kept, and the error names it.
    t.f.hypervisor.fail_next("define");
    let (st, v) = t.call(
        "POST",
        "/api/v1/desktop/education/create",
        Some(edu_body(&t, &room, &tpl, "x", json!({}))),
    );
    assert!(
        st >= 500 && v["msg"].as_str().unwrap().contains("could not be made"),
        "{st} {v}"
    );
    assert_eq!(
        t.get("/api/v1.0/desktop_group/?searchtype=all")["count"],
        json!(0)
    );
    assert_eq!(allocations(&t), before);
    assert!(t
        .f
        .disks
        .files_under(&t.slow)
        .iter()
        .all(|p| !p.to_string_lossy().contains("/instances/")
            || p.to_string_lossy().contains("_base")));
    // A template being updated holds desktop work.
    let tu: Uuid = tpl.parse().unwrap();
    t.s.store
        .template_update(&tu, &|mut x| {
            x.status = vdi_appliance::domain::template::Status::Updating;
            Ok(x)
        })
        .unwrap();
    t.fails(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "x", json!({})),
        20809,
        "being updated",
    );
    t.s.store
        .template_update(&tu, &|mut x| {
            x.status = vdi_appliance::domain::template::Status::Active;
            Ok(x)
        })
        .unwrap();
    // Create, then add two (numbering continues), then delete one.
    t.ok(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "x", json!({"create_info": {}})),
    );
    let g = group_uuid(&t, "x");
    let r = t.ok(
        "/api/v1/instance/create",
        json!({"destop_uuid": g, "desktop_type": 1, "instance_num": 2,
        "create_info": {"192.0.2.49": 2}}),
    );
    assert_eq!(r["success_num"], json!(2));
    let names: Vec<_> = desktops(&t, &g).iter().map(|d| d.name.clone()).collect();
    assert_eq!(names, ["pc002", "pc003", "pc004", "pc005", "pc006"]);
    let gone = desktops(&t, &g)[1].clone();
    t.ok(
        "/api/v1/instance/delete",
        json!({"desktop_uuid": g, "instances": [gone.uuid.to_string()]}),
    );
    assert!(t.f.hypervisor.domain(&gone.uuid).is_none());
    assert!(!t.f.disks.exists_now(&sys_disk(&gone)));
    assert_eq!(allocations(&t), before + 4);
    // The next addition takes the free seat 2 and a new number.
    t.ok(
        "/api/v1/instance/create",
        json!({"desktop_uuid": g, "instance_num": 1}),
    );
    let last = desktops(&t, &g).pop().unwrap();
    assert_eq!((last.name.as_str(), last.seat), ("pc007", 2));
    // Wrong kind and wrong group are refused.
    t.fails(
        "/api/v1/instance/start",
        json!({"desktop_uuid": g, "desktop_type": 2, "instances": [last.uuid.to_string()]}),
        10002,
        "education",
    );
    t.fails(
        "/api/v1/instance/start",
        json!({"desktop_uuid": g, "instances": [Uuid::new_v4().to_string()]}),
        20804,
        "not in group",
    );
    // The classroom cannot go while the group uses it.
    t.fails(
        "/api/v1/group/delete",
        json!({"uuid": room}),
        20704,
        "desktop groups",
    );
}

#[test]
fn personal_random_and_static_groups_hand_out_desktops_to_users() {
    let (t, tpl) = with_template();
    t.ok(
        "/api/v1/group/create",
        json!({"name": "class-a", "group_type": 2}),
    );
    let ug = t.get("/api/v1.0/voi/education/group/?searchtype=single&name=class-a")["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let one = t.ok(
        "/api/v1/group/user/create",
        json!({"group_uuid": ug, "user_name": "alice", "passwd": "secret1",
        "name": "Alice", "phone": "1", "email": "a@example.org", "enabled": 1}),
    );
    let alice = one["uuid"].as_str().unwrap().to_string();
    let r = t.ok(
        "/api/v1/group/user/multi_create",
        json!({"group_uuid": ug, "prefix": "ctx", "postfix": 2,
        "postfix_start": 1, "user_num": 3, "passwd": "secret1", "enabled": 1}),
    );
    assert_eq!(r["success_num"], json!(3));
    // A batch with a clash makes nobody.
    t.fails(
        "/api/v1/group/user/multi_create",
        json!({"group_uuid": ug, "prefix": "ctx", "postfix": 2,
        "postfix_start": 3, "user_num": 3, "passwd": "secret1"}),
        20902,
        "ctx03",
    );
    let users = t.get("/api/v1.0/group_user/?searchtype=all");
    assert_eq!(users["count"], json!(4));
    assert!(
        !users.to_string().contains("argon2"),
        "no hash leaves the service"
    );
    let ids: Vec<String> = users["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["uuid"].as_str().unwrap().to_string())
        .collect();
    // Random group, created with the documented {action, param} wrapping.
    t.ok("/api/v1/desktop/personal/create", json!({"action": "create", "param": {"name": "pool", "owner_id": 1,
        "template_uuid": tpl, "pool_uuid": t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"],
        "allocate_type": 1, "vcpu": 2, "ram": 1, "sys_restore": 0, "data_restore": 0, "desktop_type": 1,
        "instance_num": 2, "prefix": "pd", "postfix": 2, "groups": [ug], "create_info": {"192.0.2.49": 2}}}));
    let pool = group_uuid(&t, "pool");
    let pg = t.s.desktop_group_get(&pool.parse().unwrap()).unwrap();
    assert!(!pg.sys_restore, "personal restore flags default off");
    assert!(
        desktops(&t, &pool).iter().all(|d| d.ip.is_none()),
        "no subnet: DHCP"
    );
    // Three users race for two desktops: exactly two win, each a different one.
    let s = t.s.clone();
    let handles: Vec<_> = ids[..3]
        .iter()
        .map(|u| {
            let (s, g, u) = (
                s.clone(),
                pool.parse::<Uuid>().unwrap(),
                u.parse::<Uuid>().unwrap(),
            );
            std::thread::spawn(move || smol::block_on(s.desktop_take(&g, &u)).map(|d| d.uuid))
        })
        .collect();
    let got: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won: std::collections::HashSet<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 2, "{got:?}");
    assert_eq!(
        got.iter()
            .filter(|r| r.as_ref().err().map(|e| e.code.number()) == Some(20810))
            .count(),
        1
    );
    // Static group: alice owns the first desktop; assign and unassign after.
    t.ok("/api/v1/desktop/personal/create", json!({"name": "own", "owner_id": 1, "template_uuid": tpl,
        "pool_uuid": t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"], "allocate_type": 1,
        "vcpu": 1, "ram": 1, "sys_restore": 0, "data_restore": 0, "desktop_type": 2, "instance_num": 2, "prefix": "own",
        "postfix": 1, "allocates": [{"group_uuid": ug, "user_uuid": alice, "name": "Alice"}], "create_info": {}}));
    let own = group_uuid(&t, "own");
    let list = desktops(&t, &own);
    assert_eq!(list[0].user, Some(alice.parse().unwrap()));
    assert_eq!(list[1].user, None);
    t.fails(
        "/api/v1/instance/assign",
        json!({"instance_uuid": list[1].uuid.to_string(), "user_uuid": alice}),
        10002,
        "already has",
    );
    t.ok(
        "/api/v1/instance/assign",
        json!({"instance_uuid": list[1].uuid.to_string(), "user_uuid": ids[1]}),
    );
    t.ok(
        "/api/v1/instance/unassign",
        json!({"instance_uuid": list[0].uuid.to_string()}),
    );
    assert_eq!(desktops(&t, &own)[0].user, None);
    // Maintenance and the personal verbs; user delete unbinds.
    t.ok(
        "/api/v1/desktop/personal/update",
        json!({"uuid": own, "value": {"name": "own2", "maintenance": true}}),
    );
    assert!(
        t.s.desktop_group_get(&own.parse().unwrap())
            .unwrap()
            .maintenance
    );
    t.ok("/api/v1/group/user/disable", json!({"uuid": alice}));
    t.ok(
        "/api/v1/group/user/delete",
        json!({"uuid": [ids[1].clone()]}),
    );
    assert_eq!(desktops(&t, &own)[1].user, None);
    t.fails(
        "/api/v1/desktop/education/start",
        json!({"uuid": own}),
        10002,
        "personal",
    );
    let r = t.ok("/api/v1/desktop/personal/start", json!({"uuid": own}));
    assert_eq!(r["success_num"], json!(2));
    t.ok("/api/v1/desktop/personal/stop", json!({"uuid": own}));
    t.ok("/api/v1/desktop/personal/delete", json!({"uuid": own}));
    t.fails("/api/v1/group/delete", json!({"uuid": ug}), 20704, "users");
}

#[test]
fn the_reconciler_follows_libvirt_and_recovery_undoes_a_crash() {
    let (t, tpl) = with_template();
    let room = classroom(&t, "room3", "10.3.0.1", "10.3.0.9");
    t.ok(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "g", json!({})),
    );
    let g = group_uuid(&t, "g");
    t.ok("/api/v1/desktop/education/start", json!({"uuid": g}));
    let list = desktops(&t, &g);
    // A guest that shut itself down, and a domain libvirt lost.
    t.f.hypervisor.set_state(&list[0].uuid, PowerState::Off);
    t.f.hypervisor.forget(&list[1].uuid);
    let changed = smol::block_on(t.s.desktop_reconcile()).unwrap();
    assert_eq!(changed, 2);
    let now = desktops(&t, &g);
    assert_eq!(
        (
            now[0].status.as_str(),
            now[1].status.as_str(),
            now[2].status.as_str()
        ),
        ("inactive", "inactive", "active")
    );
    assert!(now[0].started_at.is_none());
    assert!(
        t.f.hypervisor.domain(&list[1].uuid).is_some(),
        "defined again from the record"
    );
    t.ok("/api/v1/desktop/education/stop", json!({"uuid": g}));
    // Domains and disk directories no desktop has are removed.
    let stray = Uuid::new_v4();
    let dir = sys_disk(&list[0])
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(stray.to_string());
    t.f.disks.put_file(&dir.join("sys.qcow2"), vec![0; 8]);
    assert!(smol::block_on(t.s.desktop_recover()).unwrap() >= 1);
    assert!(!t.f.disks.exists_now(&dir.join("sys.qcow2")));
    assert_eq!(desktops(&t, &g).len(), 3, "the complete group is untouched");
}

/// Groups, desktops, addresses, domains and disk files, to compare.
fn world(t: &T) -> String {
    let groups: Vec<(String, String)> =
        t.s.store
            .desktop_group_list()
            .unwrap()
            .iter()
            .map(|g| (g.name.clone(), format!("{:?}", g.phase)))
            .collect();
    format!(
        "groups {groups:?}\ndesktops {}\naddresses {}\n{}",
        t.s.store.desktop_list().unwrap().len(),
        allocations(t),
        t.traces()
    )
}

/// Fails, then crashes before and after, every step of saga `kind` in turn
/// through `POST path body`: a failure answers 13002 naming the step and
/// is undone at once; a crash (10010) is concluded by start-up recovery,
/// failed, or succeeded when it came after the last step. `then` checks
/// the world after each.
fn undone_or_finished(
    t: &T,
    kind: &str,
    steps: &[&'static str],
    path: &str,
    body: &Value,
    mut then: impl FnMut(&str, vdi_appliance::domain::saga::Fault),
) {
    use vdi_appliance::domain::saga::Fault;
    let last_task = |t: &T| t.s.task_list().unwrap().pop().unwrap();
    for step in steps {
        t.s.saga_fault(kind, Some((step, Fault::Fail)));
        t.fails(path, body.clone(), 13002, step);
        let task = last_task(t);
        assert!(
            task.log.iter().any(|l| l.contains("undoing")),
            "{:?}",
            task.log
        );
        then(step, Fault::Fail);
        for fault in [Fault::CrashBefore, Fault::CrashAfter] {
            t.s.saga_fault(kind, Some((step, fault)));
            t.fails(path, body.clone(), 10010, "");
            t.s.saga_fault(kind, None);
            let task = last_task(t);
            assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
            let task = t.s.task_get(&task.id).unwrap();
            let complete = Some(step) == steps.last() && fault == Fault::CrashAfter;
            let want = if complete { "succeeded" } else { "failed" };
            assert_eq!(
                task.state.as_str(),
                want,
                "`{step}` ({fault:?}): {:?}",
                task.log
            );
            then(step, fault);
        }
    }
    t.s.saga_fault(kind, None);
}

#[test]
fn group_create_and_delete_undo_or_finish_every_step_after_a_failure_or_a_crash() {
    use vdi_appliance::domain::saga::Fault;
    use vdi_appliance::service::desktop::sagas::{DesktopGroupCreate, DesktopGroupDelete};
    use vdi_appliance::service::saga::Saga;
    let (t, tpl) = with_template();
    let room = classroom(&t, "room4", "10.4.0.1", "10.4.0.9");
    let body = edu_body(&t, &room, &tpl, "g", json!({}));
    let last_task = |t: &T| t.s.task_list().unwrap().pop().unwrap();
    // Create: a failure, a crash before and a crash after each step.
    let before = world(&t);
    undone_or_finished(
        &t,
        "desktop/create",
        DesktopGroupCreate::STEPS,
        "/api/v1/desktop/education/create",
        &body,
        |step, fault| {
            // Every step was done: the group stays, until it is deleted.
            if step == "ready" && fault == Fault::CrashAfter {
                assert_eq!(desktops(&t, &group_uuid(&t, "g")).len(), 3);
                t.ok(
                    "/api/v1/desktop/education/delete",
                    json!({"uuid": group_uuid(&t, "g")}),
                );
            }
            assert_eq!(world(&t), before, "`{step}` ({fault:?})");
        },
    );
    // Delete: before its pivot a failure or crash leaves the group as it
    // was; from the pivot on, the restart finishes the delete.
    t.s.saga_fault("desktop/create", None);
    for step in DesktopGroupDelete::STEPS {
        for fault in [Fault::Fail, Fault::CrashBefore, Fault::CrashAfter] {
            t.ok("/api/v1/desktop/education/create", body.clone());
            let g = group_uuid(&t, "g");
            let made = world(&t);
            t.s.saga_fault("desktop/delete", Some((step, fault)));
            let code = if fault == Fault::Fail { 13002 } else { 10010 };
            t.fails(
                "/api/v1/desktop/education/delete",
                json!({"uuid": g}),
                code,
                "",
            );
            t.s.saga_fault("desktop/delete", None);
            let task = last_task(&t);
            if fault != Fault::Fail {
                assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
            }
            let past_pivot = *step != "mark";
            let task = t.s.task_get(&task.id).unwrap();
            match (fault, past_pivot) {
                // A failing pivot (`remove`) has changed nothing either.
                (Fault::Fail, _) if *step != "forget" => {
                    assert_eq!(world(&t), made, "a failure at `{step}`");
                    t.ok("/api/v1/desktop/education/delete", json!({"uuid": g}));
                }
                (Fault::Fail, _) => {
                    // No way back: the next start finishes it.
                    assert_eq!(t.s.store.saga_list().unwrap().len(), 1);
                    assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
                }
                (_, false) => {
                    assert_eq!(task.state.as_str(), "failed", "{:?}", task.log);
                    assert_eq!(world(&t), made, "a crash at `{step}` ({fault:?})");
                    t.ok("/api/v1/desktop/education/delete", json!({"uuid": g}));
                }
                (_, true) => {
                    assert_eq!(task.state.as_str(), "succeeded", "{:?}", task.log);
                }
            }
            assert_eq!(world(&t), before, "delete, `{step}` ({fault:?})");
        }
    }
}

#[test]
fn desktops_added_to_a_group_are_taken_back_after_a_failure_or_a_crash_at_any_step() {
    use vdi_appliance::domain::saga::Fault;
    use vdi_appliance::service::desktop::sagas::DesktopsAdd;
    use vdi_appliance::service::saga::Saga;
    let (t, tpl) = with_template();
    let room = classroom(&t, "room5", "10.5.0.1", "10.5.0.9");
    t.ok(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "add", json!({})),
    );
    let g = group_uuid(&t, "add");
    let body = json!({"desktop_uuid": g, "instance_num": 2});
    let before = world(&t);
    undone_or_finished(
        &t,
        "instance/create",
        DesktopsAdd::STEPS,
        "/api/v1/instance/create",
        &body,
        |step, fault| {
            // Every step was done: the desktops stay, until they are deleted.
            if step == "build" && fault == Fault::CrashAfter {
                assert_eq!(desktops(&t, &g).len(), 5);
                let added: Vec<String> = desktops(&t, &g)[3..]
                    .iter()
                    .map(|d| d.uuid.to_string())
                    .collect();
                t.ok(
                    "/api/v1/instance/delete",
                    json!({"desktop_uuid": g, "instances": added}),
                );
            }
            assert_eq!(world(&t), before, "`{step}` ({fault:?})");
        },
    );
    assert_eq!(
        t.ok("/api/v1/instance/create", body)["success_num"],
        json!(2)
    );
    assert_eq!(desktops(&t, &g).len(), 5);
}

#[test]
fn desktops_deleted_from_a_group_stay_before_the_pivot_and_go_after_it() {
    use vdi_appliance::domain::desktop::Phase;
    use vdi_appliance::domain::saga::Fault;
    use vdi_appliance::service::desktop::sagas::DesktopsDelete;
    use vdi_appliance::service::saga::Saga;
    let (t, tpl) = with_template();
    let room = classroom(&t, "room6", "10.6.0.1", "10.6.0.9");
    t.ok(
        "/api/v1/desktop/education/create",
        edu_body(&t, &room, &tpl, "del", json!({})),
    );
    let g = group_uuid(&t, "del");
    let last_task = |t: &T| t.s.task_list().unwrap().pop().unwrap();
    let before = world(&t);
    for step in DesktopsDelete::STEPS {
        for fault in [Fault::Fail, Fault::CrashBefore, Fault::CrashAfter] {
            t.ok(
                "/api/v1/instance/create",
                json!({"desktop_uuid": g, "instance_num": 2}),
            );
            let added: Vec<String> = desktops(&t, &g)[3..]
                .iter()
                .map(|d| d.uuid.to_string())
                .collect();
            let made = world(&t);
            let body = json!({"desktop_uuid": g, "instances": added});
            t.s.saga_fault("instance/delete", Some((step, fault)));
            let code = if fault == Fault::Fail { 13002 } else { 10010 };
            t.fails("/api/v1/instance/delete", body.clone(), code, "");
            t.s.saga_fault("instance/delete", None);
            let task = last_task(&t);
            if fault != Fault::Fail {
                assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
            }
            let task = t.s.task_get(&task.id).unwrap();
            match (fault, *step) {
                // Past the pivot a failure cannot go back: the next start
                // finishes it.
                (Fault::Fail, "forget") => {
                    assert_eq!(t.s.store.saga_list().unwrap().len(), 1);
                    assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
                }
                // Undone (a failing pivot has changed nothing either): the
                // desktops are there, as they were.
                (Fault::Fail, _) | (_, "mark") => {
                    if fault != Fault::Fail {
                        assert_eq!(task.state.as_str(), "failed", "{:?}", task.log);
                    }
                    assert_eq!(world(&t), made, "`{step}` ({fault:?})");
                    assert!(
                        desktops(&t, &g).iter().all(|d| d.phase == Phase::Ready),
                        "`{step}` ({fault:?}): the mark is taken back"
                    );
                    t.ok("/api/v1/instance/delete", body);
                }
                // A crash from the pivot on: the restart finished it.
                _ => assert_eq!(task.state.as_str(), "succeeded", "{:?}", task.log),
            }
            assert_eq!(world(&t), before, "`{step}` ({fault:?})");
            assert!(t.s.store.saga_list().unwrap().is_empty());
        }
    }
}
