//! API tier for base images, ISOs, groups and templates over fakes: the
//! documented bodies of both dialects, the version chain proven on the fake
//! disks (a pattern written into the working overlay, saved, rolled back),
//! copy, download, update and the error paths.

use crate::common;

use common::appliance::{harness, iso, md5_hex, qcow2};

use std::path::{Path, PathBuf};

use serde_json::json;
use vdi_appliance::http;

#[test]
fn base_images_upload_register_and_refuse_bad_files() {
    let t = harness();
    let id = t.image();
    let img = t.get(&format!(
        "/api/v1.0/base_image/?searchtype=single&uuid={id}"
    ));
    assert_eq!(img["virtual_size_gb"], json!(10.0));
    let path = PathBuf::from(img["path"].as_str().unwrap());
    assert_eq!(path, t.slow.join("instances/_base").join(&id));
    assert!(t.f.disks.exists_now(&path));
    // Wrong md5 and garbage: refused, nothing left behind.
    let before = t.f.disks.files_under(&t.slow);
    let (st, v) = t.upload(
        "/api/v1/base_image/upload?name=x&md5_sum=00",
        qcow2(1 << 30),
    );
    assert_eq!((st, v["code"].as_i64()), (422, Some(20504)), "{v}");
    let (st, v) = t.upload("/api/v1/base_image/upload?name=y", b"not an image".to_vec());
    assert_eq!((st, v["code"].as_i64()), (422, Some(20503)), "{v}");
    let (_, v) = t.upload("/api/v1/base_image/upload?name=win10", qcow2(1 << 30));
    assert_eq!(v["code"].as_i64(), Some(20502), "names are unique: {v}");
    assert_eq!(
        t.f.disks.files_under(&t.slow),
        before,
        "failed uploads leave no file"
    );
    // Register an image already on disk (file 000 body), md5 checked.
    let pool = t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"].clone();
    let on_disk = t
        .slow
        .join("instances/_base/4315aa82-3b76-11ea-a9b0-000c29e84b9c");
    t.f.disks.put_file(&on_disk, qcow2(2 << 30));
    let body = json!({"pool_uuid": pool, "image_id": "4315aa82-3b76-11ea-a9b0-000c29e84b9c",
                      "image_path": on_disk, "md5_sum": "d41d8cd98f00b204e9800998ecf8427e"});
    t.fails(
        "/api/v1/resource_pool/images/upload",
        body.clone(),
        20504,
        "md5",
    );
    let mut good = body.clone();
    good["md5_sum"] = json!(md5_hex(&qcow2(2 << 30)));
    t.ok("/api/v1/resource_pool/images/upload", good.clone());
    t.ok(
        "/api/v1/resource_pool/images/retransmit",
        json!({"image_id": "4315aa82-3b76-11ea-a9b0-000c29e84b9c"}),
    );
    t.fails(
        "/api/v1/resource_pool/images/upload",
        good,
        20502,
        "already",
    );
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": "4315aa82-3b76-11ea-a9b0-000c29e84b9c"}),
    );
    assert!(!t.f.disks.exists_now(&on_disk));
}

#[test]
fn template_lifecycle_versions_and_rollback() {
    let t = harness();
    let img = t.image();
    let g = t.ok(
        "/api/v1/group/create",
        json!({"name": "room 1", "group_type": "education", "start_ip": "192.0.2.150", "end_ip": "192.0.2.199"}),
    );
    let (n, s) = t.net();
    // Web dialect create with the documented fields.
    let web = t.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "create", "param": {"name": "win7", "desc": "", "os_type": "windows_7", "classify": 1,
               "network_uuid": n, "subnet_uuid": s, "bind_ip": "192.0.2.105", "vcpu": 2, "ram": 1.5,
               "groups": [g["uuid"]], "data_disks": [], "system_disk": {"image_id": img, "size": 50}}}),
    );
    assert_eq!(web["bind_ip"], "192.0.2.105");
    let d = t.template("tpl-a", &img);
    let uuid = d["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        d["bind_ip"], "192.0.2.110",
        "templates take the highest free address"
    );
    assert_eq!(d["version"], 1);
    let tpl = t.tpl(&uuid);
    let dom = t.f.hypervisor.domain(&tpl.uuid).expect("domain defined");
    assert!(
        dom.xml.contains("type='spice'")
            && dom
                .xml
                .contains(&format!("passwd='{}'", tpl.spice_password))
    );
    // VNC for the browser console: on loopback only, like SPICE with the
    // proxy on (the default).
    assert!(dom.xml.contains("<hyperv"));
    assert!(dom
        .xml
        .contains("type='vnc' autoport='yes' listen='127.0.0.1'"));
    assert!(dom
        .xml
        .contains("type='spice' autoport='yes' listen='127.0.0.1'"));
    assert!(dom
        .xml
        .contains(&tpl.disks[0].work_file().display().to_string()));
    // Errors: name clash, IP taken / outside, unknown image, shrink.
    let body = |name: &str, ip: &str, image: &str, size: u32| {
        json!({"name": name, "network_uuid": n, "subnet_uuid": s, "bind_ip": ip, "vcpu": 1, "ram": 1,
               "system_disk": {"image_id": image, "size": size}})
    };
    t.fails(
        "/api/v1/template/create",
        body("TPL-A", "", &img, 20),
        20602,
        "already exists",
    );
    t.fails(
        "/api/v1/template/create",
        body("b", "192.0.2.105", &img, 20),
        20739,
        "already allocated",
    );
    t.fails(
        "/api/v1/template/create",
        body("b", "192.0.2.20", &img, 20),
        20738,
        "outside",
    );
    t.fails(
        "/api/v1/template/create",
        body("b", "", &uuid, 20),
        20501,
        "does not exist",
    );
    t.fails(
        "/api/v1/template/create",
        body("b", "", &img, 5),
        20606,
        "smaller",
    );
    // Start, console ticket, edit: a pattern lands in the working overlay.
    t.ok("/api/v1/template/start", json!({"uuid": uuid}));
    let c = t.ok("/api/v1/template/console", json!({"uuid": uuid}));
    // Through the SPICE proxy (on by default): the ticket's name and port
    // 5900, and a .vv file that names the proxy.
    assert!(c["host"].as_str().unwrap().starts_with("vdi-"), "{c}");
    assert_eq!(c["port"], 5900);
    assert!(c["vv"].as_str().unwrap().contains("\nproxy=http://"), "{c}");
    assert!(c["vv"]
        .as_str()
        .unwrap()
        .contains(&format!("password={}", c["ticket"].as_str().unwrap())));
    let dom = t.f.hypervisor.domain(&tpl.uuid).unwrap();
    assert!(dom
        .updates
        .last()
        .unwrap()
        .contains(c["ticket"].as_str().unwrap()));
    let work = t.work(&uuid);
    t.f.disks.write(&work, 4096, 0xAB).unwrap();
    // Save (server dialect): version 2 holds the pattern.
    let saved = t.ok("/api/v1/template/save", json!({"uuid": uuid}));
    assert_eq!(saved["version"], 2);
    let v2 = tpl.disks[0].version_file(2);
    assert_eq!(t.f.disks.read(&v2, 4096).unwrap(), Some(0xAB));
    assert_eq!(t.f.disks.backing_of(&t.work(&uuid)), Some(v2.clone()));
    // Roll back to 1 (web dialect): the pattern is gone, version 2 kept.
    t.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "rollback", "param": {"uuid": uuid, "name": "tpl-a", "version": 1}}),
    );
    assert_eq!(t.f.disks.read(&t.work(&uuid), 4096).unwrap(), None);
    assert_eq!(t.f.disks.read(&v2, 4096).unwrap(), Some(0xAB));
    let ops = t.get(&format!(
        "/api/v1.0/voi/education/template/operate/?searchtype=all&exist=1&template={uuid}"
    ));
    assert_eq!(ops["count"], 3, "{ops}");
    assert_eq!(ops["results"][0]["op_type"], 2);
    t.fails(
        "/api/v1.0/voi/education/template/",
        json!({"action": "rollback", "param": {"uuid": uuid, "version": 9}}),
        20605,
        "keeps versions",
    );
    // Keep 3: saving more trims the oldest, the chain still resolves.
    for i in 0..3u8 {
        t.f.disks
            .write(&t.work(&uuid), 100 + i as u64, i + 1)
            .unwrap();
        t.ok(
            "/api/v1.0/voi/education/template/",
            json!({"action": "save", "param": {"uuid": uuid, "name": "tpl-a", "desc": format!("edit {i}")}}),
        );
    }
    let now = t.tpl(&uuid);
    assert_eq!(now.versions.len(), 3, "{:?}", now.versions);
    assert!(!now.has_version(1));
    assert!(!t.f.disks.exists_now(&now.disks[0].version_file(1)));
    for i in 0..3u8 {
        assert_eq!(
            t.f.disks.read(&t.work(&uuid), 100 + i as u64).unwrap(),
            Some(i + 1)
        );
    }
    // The list, by group and in full.
    let list =
        t.get("/api/v1.0/voi/education/template/?searchtype=all&classify=1&page=1&page_size=10");
    assert_eq!(list["count"], 2);
    let by_group = t.get(&format!(
        "/api/v1.0/voi/education/template/?searchtype=all&group={}",
        g["uuid"].as_str().unwrap()
    ));
    assert_eq!(
        by_group["count"], 2,
        "one bound to the room, one to every room: {by_group}"
    );
    let (st, v) = t.call(
        "GET",
        &format!("/api/v1.0/voi/education/template/ipaddr/?subnet_uuid={s}"),
        None,
    );
    assert_eq!((st, v["ipaddr"].as_str()), (200, Some("192.0.2.109")));
    // The group cannot go while a template names it.
    t.fails(
        "/api/v1/group/delete",
        json!({"uuid": g["uuid"]}),
        20704,
        "templates",
    );
}

#[test]
fn update_copy_download_and_delete() {
    let t = harness();
    let img = t.image();
    let d = t.template("tpl-b", &img);
    let uuid = d["uuid"].as_str().unwrap().to_string();
    let tpl = t.tpl(&uuid);
    let sys = tpl.disks[0].uuid.to_string();
    t.ok("/api/v1/template/start", json!({"uuid": uuid}));
    t.fails_m(
        "PUT",
        "/api/v1.0/voi/education/template",
        json!({"uuid": uuid, "name": "tpl-b", "value": {"devices": [{"uuid": sys, "size": 30}]}}),
        20603,
        "stop it",
    );
    t.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "hard_stop", "param": {"templates": [{"uuid": uuid, "name": "tpl-b"}]}}),
    );
    t.fails_m(
        "PUT",
        "/api/v1.0/voi/education/template",
        json!({"uuid": uuid, "name": "tpl-b", "value": {"devices": [{"uuid": sys, "size": 10}]}}),
        20606,
        "only grow",
    );
    t.ok_m(
        "PUT",
        "/api/v1.0/voi/education/template",
        json!({"uuid": uuid, "name": "tpl-b", "value": {"name": "tpl-b2", "vcpu": 4, "ram": 4,
               "devices": [{"uuid": sys, "size": 30}, {"inx": 2, "size": 8}]}}),
    );
    let now = t.tpl(&uuid);
    assert_eq!(
        (now.name.as_str(), now.vcpu, now.ram_mb, now.disks.len()),
        ("tpl-b2", 4, 4096, 3)
    );
    assert_eq!(now.disks[0].size_gb, 30);
    let dom = t.f.hypervisor.domain(&now.uuid).unwrap();
    assert!(dom.xml.contains("<vcpu placement='static'>4</vcpu>") && dom.xml.contains("vdc"));
    // Copy (server dialect) and download (both dialects).
    t.f.disks.write(&t.work(&uuid), 7, 7).unwrap();
    t.ok("/api/v1/template/save", json!({"uuid": uuid}));
    let c = t.ok(
        "/api/v1/template/copy",
        json!({"template_uuid": uuid, "name": "tpl-copy", "owner_id": 1, "pool_uuid": "", "network_uuid": "", "subnet_uuid": "", "bind_ip": ""}),
    );
    let copy = t.tpl(c["uuid"].as_str().unwrap());
    assert_eq!(copy.disks.len(), 3);
    assert_eq!(
        t.f.disks.read(&copy.disks[0].work_file(), 7).unwrap(),
        Some(7)
    );
    assert_ne!(copy.disks[0].dir, now.disks[0].dir);
    let dl = t.ok("/api/v1/template/download", json!({"uuid": uuid}));
    let path = dl["path"].as_str().unwrap();
    assert!(path.contains("instances/_export/tpl-b2_"), "{path}");
    assert!(
        t.f.disks.backing_of(Path::new(path)).is_none(),
        "standalone"
    );
    assert_eq!(t.f.disks.read(Path::new(path), 7).unwrap(), Some(7));
    let web = t.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "download", "param": {"uuid": uuid, "name": "tpl-b2"}}),
    );
    let url = web["url"].as_str().unwrap();
    let (st, bytes) = smol::block_on(http::request_bytes(
        &t.app,
        "GET",
        url,
        Some(&t.token),
        vec![],
    ));
    assert_eq!(st, 200);
    assert_eq!(&bytes[..4], b"QFI\xfb");
    let (st, _) = smol::block_on(http::request_bytes(&t.app, "GET", url, None, vec![]));
    assert_eq!(st, 401, "downloads need a token");
    let (st, _) = smol::block_on(http::request_bytes(
        &t.app,
        "GET",
        "/api/v1/template/download?path=/etc/passwd",
        Some(&t.token),
        vec![],
    ));
    assert_eq!(st, 422);
    // Delete: the image is in use; the batch removes domain, files, address.
    t.fails(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": img}),
        20505,
        "used by 2 templates",
    );
    let before =
        t.s.store
            .ip_allocations(&now.subnet.unwrap())
            .unwrap()
            .len();
    let r = t.ok_m(
        "DELETE",
        "/api/v1.0/voi/education/template/",
        json!({"templates": [{"uuid": uuid, "name": "tpl-b2"}, {"uuid": c["uuid"], "name": "tpl-copy"}]}),
    );
    assert_eq!(
        (r["success_num"].as_i64(), r["failed_num"].as_i64()),
        (Some(2), Some(0))
    );
    assert!(t.f.hypervisor.domain(&now.uuid).is_none());
    assert!(!t.f.disks.exists_now(now.disks[0].dir.parent().unwrap()));
    assert_eq!(
        t.s.store
            .ip_allocations(&now.subnet.unwrap())
            .unwrap()
            .len(),
        before - 1
    );
    t.fails_m(
        "DELETE",
        "/api/v1.0/voi/education/template/",
        json!({"templates": [{"uuid": uuid, "name": "tpl-b2"}]}),
        20601,
        "does not exist",
    );
    t.ok(
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": img}),
    );
}

#[test]
fn failures_undo_and_iso_install() {
    let t = harness();
    let img = t.image();
    // A define that fails leaves no disks, no address, no record.
    t.f.hypervisor.fail_next("define");
    let before = t.f.disks.files_under(&t.slow).len();
    let (n, s) = t.net();
    let (st, v) = t.call(
        "POST",
        "/api/v1/template/create",
        Some(json!({"name": "x", "network_uuid": n, "subnet_uuid": s, "vcpu": 1, "ram": 1, "system_disk": {"image_id": img, "size": 0}})),
    );
    assert_eq!((st, v["code"].as_i64()), (500, Some(20521)), "{v}");
    assert_eq!(t.f.disks.files_under(&t.slow).len(), before);
    assert!(t
        .s
        .store
        .ip_allocations(&s.parse().unwrap())
        .unwrap()
        .is_empty());
    assert!(t.s.template_list().unwrap().is_empty());
    // ISO: upload, create from it, attach/detach, iso_save.
    let (st, iso) = t.upload("/api/v1/iso/upload?name=debian&os_type=linux", iso());
    assert_eq!(st, 200, "{iso}");
    let iso_uuid = iso["data"]["uuid"].as_str().unwrap();
    let d = t.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "create", "param": {"name": "inst", "os_type": "linux", "network_uuid": "", "vcpu": 1, "ram": 1,
               "groups": [], "iso": iso_uuid, "system_disk": {"image_id": "", "size": 8}}}),
    );
    assert_eq!(d["status"], "installing");
    let uuid = d["uuid"].as_str().unwrap();
    let dom = t.f.hypervisor.domain(&uuid.parse().unwrap()).unwrap();
    assert!(
        dom.xml.contains("debian") || dom.xml.contains(".iso"),
        "{}",
        dom.xml
    );
    t.fails(
        "/api/v1/iso/delete",
        json!({"uuid": iso_uuid}),
        20505,
        "used by",
    );
    t.fails(
        "/api/v1/template/save",
        json!({"uuid": uuid}),
        20603,
        "iso_save",
    );
    t.f.disks.write(&t.work(uuid), 1, 9).unwrap();
    let saved = t.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "iso_save", "param": {"uuid": uuid, "name": "inst"}}),
    );
    assert_eq!(
        (saved["version"].as_i64(), saved["status"].as_str()),
        (Some(1), Some("active"))
    );
    assert_eq!(t.f.disks.read(&t.work(uuid), 1).unwrap(), Some(9));
    t.ok("/api/v1/iso/delete", json!({"uuid": iso_uuid}));
    // A template that does not exist; a batch with one unknown item.
    let r = t.call(
        "POST",
        "/api/v1.0/voi/education/template/",
        Some(json!({"action": "start", "param": {"templates": [{"uuid": uuid}, {"uuid": "00000000-0000-0000-0000-000000000001"}]}})),
    );
    assert_eq!(
        (
            r.1["data"]["success_num"].as_i64(),
            r.1["data"]["failed_num"].as_i64()
        ),
        (Some(1), Some(1))
    );
    t.fails(
        "/api/v1.0/voi/education/template/",
        json!({"action": "explode", "param": {}}),
        10008,
        "explode",
    );
}

#[test]
fn rollback_takes_the_documented_rollback_version_and_cur_version() {
    let t = harness();
    let img = t.image();
    let uuid = t.template("tpl-r", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..2u8 {
        t.f.disks
            .write(&t.work(&uuid), 10 + i as u64, i + 1)
            .unwrap();
        t.ok("/api/v1/template/save", json!({"uuid": uuid}));
    }
    assert_eq!(t.tpl(&uuid).version, 3);
    let web = "/api/v1.0/voi/education/template/";
    let rollback = |param: serde_json::Value| json!({"action": "rollback", "param": param});
    // The caller saw another current version: refused, nothing changes.
    t.fails(
        web,
        rollback(json!({"name": "tpl-r", "uuid": uuid, "rollback_version": 1, "cur_version": 2})),
        20608,
        "cur_version",
    );
    assert_eq!(t.tpl(&uuid).version, 3);
    // File 001's example body (numbers; the table types them as strings).
    t.ok(
        web,
        rollback(json!({"name": "tpl-r", "uuid": uuid, "rollback_version": 2, "cur_version": 3})),
    );
    assert_eq!(t.tpl(&uuid).version, 2);
    assert_eq!(t.f.disks.read(&t.work(&uuid), 11).unwrap(), None);
    assert_eq!(t.f.disks.read(&t.work(&uuid), 10).unwrap(), Some(1));
    t.ok(
        web,
        rollback(
            json!({"name": "tpl-r", "uuid": uuid, "rollback_version": "1", "cur_version": "2"}),
        ),
    );
    assert_eq!(t.tpl(&uuid).version, 1);
    // 0 is what the document sends for a template with one version.
    t.fails(
        web,
        rollback(json!({"name": "tpl-r", "uuid": uuid, "rollback_version": 0, "cur_version": 1})),
        20605,
        "no earlier version",
    );
    t.fails(
        web,
        rollback(json!({"uuid": uuid, "rollback_version": 2, "version": 2})),
        10002,
        "rollback_version",
    );
    t.fails(
        web,
        rollback(json!({"uuid": uuid, "rollback_version": -1})),
        10002,
        "rollback_version",
    );
    t.fails(
        web,
        rollback(json!({"uuid": uuid})),
        10003,
        "rollback_version",
    );
}

#[test]
fn put_adds_data_disks_numbered_from_zero_after_the_existing_ones() {
    let t = harness();
    let img = t.image();
    let uuid = t.template("tpl-p", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let before = t.tpl(&uuid).disks;
    let row = |t: &common::appliance::T| {
        t.get(&format!(
            "/api/v1.0/voi/education/template/?searchtype=single&uuid={uuid}"
        ))
    };
    let old_devices = row(&t)["devices"].clone();
    assert_eq!(old_devices.as_array().unwrap().len(), 2);
    // File 001 L735's body: the listed system disk and `{"inx": 0, "size": 50}`.
    let sys = before[0].uuid.to_string();
    t.ok_m(
        "PUT",
        "/api/v1.0/voi/education/template",
        json!({"uuid": uuid, "name": "tpl-p", "value": {"name": "tpl-p", "desc": "", "ram": 2, "vcpu": 2,
               "devices": [{"uuid": sys, "type": "system", "device_name": "vda", "boot_index": 0, "size": 20},
                           {"inx": 0, "size": 50}], "groups": []}}),
    );
    let now = t.tpl(&uuid).disks;
    assert_eq!(now.len(), 3);
    assert_eq!(
        &now[..2],
        &before[..],
        "existing disks keep uuid, inx and files"
    );
    assert_eq!((now[2].inx, now[2].size_gb), (2, 50));
    let devices = row(&t)["devices"].clone();
    for i in 0..2 {
        assert_eq!(devices[i]["uuid"], old_devices[i]["uuid"]);
        assert_eq!(devices[i]["device_name"], old_devices[i]["device_name"]);
        assert_eq!(devices[i]["boot_index"], old_devices[i]["boot_index"]);
    }
    assert_eq!(devices[2]["device_name"], "vdc");
    assert_eq!(devices[2]["size"], 50);
    // Create takes the same numbering: `inx` 0 is the first data disk.
    let (n, s) = t.net();
    let c = t.ok(
        "/api/v1/template/create",
        json!({"name": "tpl-0", "os_type": "windows_10", "network_uuid": n, "subnet_uuid": s, "vcpu": 1, "ram": 1,
               "data_disks": [{"inx": 0, "size": 5}, {"inx": 1, "size": 6}], "system_disk": {"image_id": img, "size": 20}}),
    );
    let d = t.tpl(c["uuid"].as_str().unwrap()).disks;
    assert_eq!(
        d.iter().map(|x| (x.inx, x.size_gb)).collect::<Vec<_>>(),
        [(0, 20), (1, 5), (2, 6)]
    );
    t.fails_m(
        "PUT",
        "/api/v1.0/voi/education/template",
        json!({"uuid": uuid, "value": {"devices": [{"inx": 27, "size": 5}]}}),
        10002,
        "value.devices[0].inx",
    );
}

#[test]
fn the_template_list_carries_subnet_range_disk_use_and_desktop_counts() {
    let t = harness();
    let img = t.image();
    let uuid = t.template("tpl-l", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let row = |t: &common::appliance::T| {
        t.get(&format!(
            "/api/v1.0/voi/education/template/?searchtype=single&uuid={uuid}"
        ))
    };
    let r = row(&t);
    assert_eq!(
        (r["subnet_start_ip"].as_str(), r["subnet_end_ip"].as_str()),
        (Some("192.0.2.100"), Some("192.0.2.110")),
        "{r}"
    );
    assert_eq!(
        (r["desktop_count"].as_u64(), r["terminal_count"].as_u64()),
        (Some(0), Some(0))
    );
    // Disk use: the bytes the disk's image chain holds, in GB.
    let used = |r: &serde_json::Value, i: usize| r["devices"][i]["used"].as_f64().unwrap_or(-1.0);
    assert!(used(&r, 0) >= 0.0 && used(&r, 1) >= 0.0, "{r}");
    let data = t.tpl(&uuid).disks[1].work_file();
    for b in 0..20_000u64 {
        t.f.disks.write(&data, b, 1).unwrap();
    }
    t.ok("/api/v1/template/save", json!({"uuid": uuid}));
    let r = row(&t);
    assert!(
        used(&r, 1) >= 1.0,
        "20 000 blocks of 64 KiB are over 1 GB: {r}"
    );
    // Desktop groups made from it and their desktops.
    let (n, s) = t.net();
    let room = t.ok(
        "/api/v1/group/create",
        json!({"name": "room", "group_type": 1, "network_uuid": n, "subnet_uuid": s,
               "start_ip": "10.9.0.1", "end_ip": "10.9.0.9"}),
    );
    let pool = t.get("/api/v1.0/resource_pool/?searchtype=all")["results"][0]["uuid"].clone();
    t.ok("/api/v1/desktop/education/create", json!({"name": "art", "owner_id": 1, "group_uuid": room["uuid"],
        "template_uuid": uuid, "pool_uuid": pool, "network_uuid": n, "subnet_uuid": s, "vcpu": 1, "ram": 1,
        "sys_restore": 1, "data_restore": 0, "instance_num": 2, "prefix": "art", "postfix": 2}));
    let r = row(&t);
    assert_eq!(
        (r["desktop_count"].as_u64(), r["terminal_count"].as_u64()),
        (Some(1), Some(2)),
        "{r}"
    );
}

#[test]
fn template_operations_go_through_the_generic_query() {
    let t = harness();
    let img = t.image();
    let uuid = t.template("tpl-o", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let other = t.template("tpl-other", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok(
        "/api/v1/template/save",
        json!({"uuid": uuid, "desc": "added QQ"}),
    );
    t.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "rollback", "param": {"uuid": uuid, "rollback_version": 1}}),
    );
    let ops = |q: &str| {
        t.get(&format!(
            "/api/v1.0/voi/education/template/operate/?{q}&template={uuid}"
        ))
    };
    let all = ops("searchtype=all");
    assert_eq!(all["count"], 3, "{all}");
    assert!(all["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["template"] == uuid.as_str()));
    assert_eq!(all["results"][0]["op_type"], 2, "newest first");
    // `contain` filters now apply; `single` answers one object.
    let found = ops("searchtype=contain&remark=qq");
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["results"][0]["remark"], "added QQ");
    let one = ops("searchtype=single&op_type=2");
    assert_eq!(one["op_type"], 2, "{one}");
    assert!(one.get("results").is_none(), "an object, not a page: {one}");
    assert_eq!(ops("searchtype=all&exist=1")["count"], 3);
    let page = ops("searchtype=all&page=2&page_size=2");
    assert_eq!(
        (
            page["count"].as_u64(),
            page["results"].as_array().unwrap().len()
        ),
        (Some(3), 1)
    );
    // Base columns, as every generic-query record has them.
    assert!(all["results"][0]["id"].is_u64() && all["results"][0]["deleted"] == false);
    // The other template's history is its own.
    let theirs = t.get(&format!(
        "/api/v1.0/voi/education/template/operate/?template={other}"
    ));
    assert_eq!(theirs["count"], 1);
    let (st, v) = t.call(
        "GET",
        &format!("/api/v1.0/voi/education/template/operate/?searchtype=single&template={uuid}&remark=nothing"),
        None,
    );
    assert_eq!((st, v["code"].as_i64()), (404, Some(12004)), "{v}");
    let (st, v) = t.call(
        "GET",
        "/api/v1.0/voi/education/template/operate/?searchtype=all",
        None,
    );
    assert_eq!((st, v["code"].as_i64()), (422, Some(10003)), "{v}");
}

#[test]
fn huge_pages_and_missing_exports_answer_cleanly() {
    let t = harness();
    let img = t.image();
    let uuid = t.template("tpl-h", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let g = t.ok(
        "/api/v1/group/create",
        json!({"name": "room h", "group_type": "education", "start_ip": "192.0.2.150", "end_ip": "192.0.2.199"}),
    );
    // (page - 1) × page_size once overflowed here (a panic, a 500).
    let huge = usize::MAX;
    for path in [
        format!(
            "/api/v1.0/voi/education/template/?group={}&page={huge}&page_size=1000",
            g["uuid"].as_str().unwrap()
        ),
        format!(
            "/api/v1.0/voi/education/template/operate/?template={uuid}&page={huge}&page_size=1000"
        ),
        format!("/api/v1.0/voi/education/template/?page={huge}&page_size=1000"),
    ] {
        let r = t.get(&path);
        assert_eq!(r["results"], json!([]), "{path}: {r}");
        assert!(r["count"].as_u64().unwrap() >= 1, "{path}: {r}");
    }
    // An export that is not (or no longer) there: 404 naming the file only.
    let dl = t.ok("/api/v1/template/download", json!({"uuid": uuid}));
    let path = dl["path"].as_str().unwrap().to_string();
    let dir = Path::new(&path)
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    smol::block_on(t.s.disks.remove(Path::new(&path))).unwrap();
    let (st, bytes) = smol::block_on(http::request_bytes(
        &t.app,
        "GET",
        &format!("/api/v1/template/download?path={path}"),
        Some(&t.token),
        vec![],
    ));
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((st, v["code"].as_i64()), (404, Some(20609)), "{v}");
    let msg = v["msg"].as_str().unwrap();
    assert!(
        !msg.contains(&dir) && !msg.contains(t.slow.to_str().unwrap()),
        "{msg}"
    );
    assert!(
        msg.contains(Path::new(&path).file_name().unwrap().to_str().unwrap()),
        "{msg}"
    );
}

#[test]
fn create_and_copy_undo_every_step_after_a_failure_or_a_crash() {
    use vdi_appliance::domain::saga::Fault;
    use vdi_appliance::service::saga::Saga;
    use vdi_appliance::service::template::sagas::TemplateMake;
    let t = harness();
    let img = t.image();
    let src = t.template("src", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (n, s) = t.net();
    let subnet: uuid::Uuid = s.parse().unwrap();
    let world = |t: &common::appliance::T| {
        let mut names: Vec<String> =
            t.s.template_list()
                .unwrap()
                .into_iter()
                .map(|x| x.name)
                .collect();
        names.sort();
        format!(
            "templates {names:?}\naddresses {:?}\n{}",
            t.s.store.ip_allocations(&subnet).unwrap(),
            t.traces()
        )
    };
    let create = json!({"name": "x", "network_uuid": n, "subnet_uuid": s, "vcpu": 1, "ram": 1,
                        "data_disks": [{"inx": 1, "size": 5}], "system_disk": {"image_id": img, "size": 0}});
    let copy = json!({"template_uuid": src, "name": "x", "owner_id": 1, "pool_uuid": "", "network_uuid": n,
                      "subnet_uuid": s, "bind_ip": ""});
    let before = world(&t);
    for (path, body) in [
        ("/api/v1/template/create", create),
        ("/api/v1/template/copy", copy),
    ] {
        for step in TemplateMake::STEPS {
            for fault in [Fault::Fail, Fault::CrashBefore, Fault::CrashAfter] {
                t.s.saga_fault("template/make", Some((step, fault)));
                let (st, v) = t.call("POST", path, Some(body.clone()));
                t.s.saga_fault("template/make", None);
                assert_eq!(st, 500, "{path} {step} {fault:?}: {v}");
                let task = t.s.task_list().unwrap().pop().unwrap();
                if fault == Fault::Fail {
                    assert!(
                        task.log.iter().any(|l| l.contains("undoing")),
                        "{:?}",
                        task.log
                    );
                } else {
                    assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
                    let task = t.s.task_get(&task.id).unwrap();
                    if *step == "record" && fault == Fault::CrashAfter {
                        // Every step had finished: the template stays.
                        assert_eq!(task.state.as_str(), "succeeded", "{:?}", task.log);
                        let x =
                            t.s.template_list()
                                .unwrap()
                                .into_iter()
                                .find(|x| x.name == "x")
                                .unwrap();
                        t.ok("/api/v1/template/delete", json!({"uuid": x.uuid}));
                    } else {
                        assert_eq!(task.state.as_str(), "failed", "{:?}", task.log);
                    }
                }
                assert_eq!(world(&t), before, "{path}: `{step}` ({fault:?})");
            }
        }
        // And it works afterwards.
        let x = t.ok(path, body.clone());
        t.ok("/api/v1/template/delete", json!({"uuid": x["uuid"]}));
        assert_eq!(world(&t), before);
    }
}

#[test]
fn a_save_cut_short_by_a_failure_or_a_crash_leaves_the_template_as_it_was() {
    use vdi_appliance::domain::saga::Fault;
    use vdi_appliance::service::saga::Saga;
    use vdi_appliance::service::template::sagas::TemplateSave;
    let t = harness();
    let img = t.image();
    let uuid = t.template("tpl", &img)["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok("/api/v1/template/start", json!({"uuid": uuid}));
    // Work in the overlay that a save would publish.
    t.f.disks.write(&t.work(&uuid), 9, 9).unwrap();
    let world = |t: &common::appliance::T| {
        let x = t.tpl(&uuid);
        let versions: Vec<u32> = x.versions.iter().map(|v| v.number).collect();
        format!(
            "version {} {:?} {versions:?} ops {}\nwork {:?}\n{}",
            x.version,
            x.status,
            x.ops.len(),
            t.f.disks.read(&t.work(&uuid), 9).unwrap(),
            t.traces()
        )
    };
    for step in TemplateSave::STEPS {
        for fault in [Fault::Fail, Fault::CrashBefore, Fault::CrashAfter] {
            // A save halts the template: start it again for the same start.
            t.ok("/api/v1/template/start", json!({"uuid": uuid}));
            let before = world(&t);
            t.s.saga_fault("template/save", Some((step, fault)));
            let (st, v) = t.call("POST", "/api/v1/template/save", Some(json!({"uuid": uuid})));
            t.s.saga_fault("template/save", None);
            assert_eq!(st, 500, "{step} {fault:?}: {v}");
            let task = t.s.task_list().unwrap().pop().unwrap();
            if fault != Fault::Fail {
                assert_eq!(common::restart_after_crash(&t.s, &task.id), 1);
            }
            let task = t.s.task_get(&task.id).unwrap();
            if *step == "record" && fault == Fault::CrashAfter {
                assert_eq!(task.state.as_str(), "succeeded", "{:?}", task.log);
                assert_eq!(t.tpl(&uuid).version, 2);
                return;
            }
            assert_eq!(task.state.as_str(), "failed", "{:?}", task.log);
            // The template may stay stopped; everything else is as before.
            t.ok("/api/v1/template/start", json!({"uuid": uuid}));
            assert_eq!(world(&t), before, "`{step}` ({fault:?})");
        }
    }
    panic!("the last case returns");
}
