//! API tier for base images, ISOs, groups and templates over fakes: the
//! documented bodies of both dialects, the version chain proven on the fake
//! disks (a pattern written into the working overlay, saved, rolled back),
//! copy, download, update and the error paths.

mod common;

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
    assert!(!dom.xml.contains("vnc") && dom.xml.contains("<hyperv"));
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
    assert_eq!(c["host"], "192.0.2.49");
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
