//! Real tier: templates on `qemu:///system` (libvirtd started by `make
//! test-libvirt`) with real qcow2 files made by qemu-img. The host network
//! and inventory are fakes (no bridge is touched: the template has no NIC).
//! Proves on disk content that save keeps an edit and rollback drops it,
//! that copies and downloads are valid images, and that the domain has a
//! password-protected SPICE server and no VNC.

#[path = "../common/mod.rs"]
mod common;

// The browser console and the SPICE proxy to a real VM.
mod console;
// Desktops (a classroom of 10, a create killed half-way) and the terminal API.
mod desktop;
// A template installed from an ISO through the browser console.
mod install;
// A terminal behind NAT through the SPICE proxy.
mod nat;
mod terminal;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::{json, Value};
use vdi_appliance::app;
use vdi_appliance::domain::net::{DefaultRoute, IfAddr};
use vdi_appliance::fakes::{FakeHost, FakeNet};
use vdi_appliance::host::libvirt::Libvirt;
use vdi_appliance::host::qemu_img::QemuImg;
use vdi_appliance::http;
use vdi_appliance::service::Settings;
use vdi_appliance::store::Store;

const URI: &str = "qemu:///system";

fn sh(cmd: &str, args: &[&str]) -> (bool, String) {
    let o = Command::new(cmd).args(args).output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

fn virsh(args: &[&str]) -> (bool, String) {
    let mut a = vec!["-c", URI];
    a.extend_from_slice(args);
    sh("virsh", &a)
}

#[test]
fn templates_on_real_libvirt() {
    let (up, out) = virsh(&["version"]);
    assert!(up, "libvirtd must run (make test-libvirt starts it): {out}");
    // Under /var/tmp with 0755 so that QEMU (user libvirt-qemu) can reach the files.
    let dir = tempfile::Builder::new()
        .prefix("vdi-libvirt")
        .tempdir_in("/var/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let slow = dir.path().join("slow");
    std::fs::create_dir_all(&slow).unwrap();
    let store = Arc::new(Store::open(&dir.path().join("d"), &Default::default()).unwrap());
    let net = FakeNet::with_nics(&[(
        "ens192",
        &[IfAddr {
            ip: "192.0.2.49".parse().unwrap(),
            prefix: 24,
        }],
    )]);
    net.set_route(Some(DefaultRoute {
        gateway: "192.0.2.1".parse().unwrap(),
        dev: "ens192".into(),
    }));
    let f = app::fakes(net, FakeHost::with_mounts(&[&slow], &["ens192"]));
    let mut b = f.backends();
    b.hypervisor = Arc::new(Libvirt::new(URI));
    b.disks = Arc::new(QemuImg);
    let mut settings = Settings::for_dir(dir.path().join("d"));
    settings.domain_type = "qemu".into();
    settings.vm_stop_timeout = std::time::Duration::from_secs(2);
    let s = app::services(store, &b, settings, app::global_spawner());
    s.admin_set_password("admin", "s3cret-pass").unwrap();
    let web = http::app(s.clone());
    let token = common::app_token(&web, "admin", "s3cret-pass");
    let call = |method: &str, path: &str, body: Value| -> Value {
        let (st, v) = common::app_call(&web, &token, method, path, Some(body.clone()));
        assert_eq!(
            (st, v["code"].as_i64()),
            (200, Some(0)),
            "{path} {body} -> {v}"
        );
        v["data"].clone()
    };
    call(
        "POST",
        "/api/v1/controller/init",
        json!({"ip": "192.0.2.49", "password": "x", "manage_interface": "ens192", "image_interface": "ens192",
               "data_interface": "ens192", "network_name": "default", "switch_name": "default", "switch_type": "flat",
               "storages": { slow.to_str().unwrap(): "1,2,3,4" }, "is_compute": false}),
    );
    // A small base image, uploaded by streaming.
    let src = dir.path().join("base.qcow2");
    assert!(
        sh(
            "qemu-img",
            &["create", "-q", "-f", "qcow2", src.to_str().unwrap(), "64M"]
        )
        .0
    );
    let bytes = std::fs::read(&src).unwrap();
    let (st, up) = smol::block_on(http::request_bytes(
        &web,
        "PUT",
        "/api/v1/base_image/upload?name=tiny&os_type=linux",
        Some(&token),
        bytes,
    ));
    let up: Value = serde_json::from_slice(&up).unwrap();
    assert_eq!(st, 200, "{up}");
    let img = up["data"]["uuid"].as_str().unwrap().to_string();
    // Create, with a data disk; the domain has SPICE with a password, no VNC.
    let d = call(
        "POST",
        "/api/v1/template/create",
        json!({"name": "real-tpl", "os_type": "linux", "vcpu": 1, "ram": 0.25, "network_uuid": "",
               "data_disks": [{"inx": 1, "size": 1}], "system_disk": {"image_id": img, "size": 1}}),
    );
    let uuid = d["uuid"].as_str().unwrap().to_string();
    let t = s.template_get(&uuid.parse().unwrap()).unwrap();
    let (ok, xml) = virsh(&["dumpxml", &uuid, "--security-info"]);
    assert!(ok, "{xml}");
    assert!(
        xml.contains("type='spice'") || xml.contains("type=\"spice\""),
        "{xml}"
    );
    assert!(xml.contains(&t.spice_password), "SPICE has the password");
    // VNC (the browser console) and, with the proxy on, SPICE listen on
    // loopback only: nothing but the service reaches them.
    assert!(xml.contains("type='vnc'"), "{xml}");
    assert!(
        !xml.contains("0.0.0.0"),
        "no graphics on every address: {xml}"
    );
    // Start, console, stop.
    call("POST", "/api/v1/template/start", json!({"uuid": uuid}));
    let (_, state) = virsh(&["domstate", &uuid]);
    assert!(state.contains("running"), "{state}");
    let c = call("POST", "/api/v1/template/console", json!({"uuid": uuid}));
    assert_eq!(c["port"], 5900, "the proxy's name and port: {c}");
    let (_, live) = virsh(&["dumpxml", &uuid, "--security-info"]);
    assert!(
        live.contains(c["ticket"].as_str().unwrap()),
        "the ticket is the live password"
    );
    call(
        "POST",
        "/api/v1.0/voi/education/template/",
        json!({"action": "hard_stop", "param": {"templates": [{"uuid": uuid}]}}),
    );
    // A pattern into the working overlay; save; it is in version 2.
    let work = t.disks[0].work_file();
    let w = work.to_str().unwrap();
    let (ok, out) = sh("qemu-io", &["-f", "qcow2", "-c", "write -P 0xab 0 64k", w]);
    assert!(ok, "{out}");
    let saved = call("POST", "/api/v1/template/save", json!({"uuid": uuid}));
    assert_eq!(saved["version"], 2);
    let v2 = t.disks[0].version_file(2);
    let (_, out) = sh(
        "qemu-io",
        &[
            "-r",
            "-f",
            "qcow2",
            "-c",
            "read -P 0xab 0 64k",
            v2.to_str().unwrap(),
        ],
    );
    assert!(
        !out.contains("verification failed"),
        "version 2 holds the edit: {out}"
    );
    // Roll back to 1: the working overlay no longer has it.
    call(
        "POST",
        "/api/v1.0/voi/education/template/",
        json!({"action": "rollback", "param": {"uuid": uuid, "version": 1}}),
    );
    let (_, out) = sh(
        "qemu-io",
        &["-r", "-f", "qcow2", "-c", "read -P 0xab 0 64k", w],
    );
    assert!(out.contains("verification failed"), "rolled back: {out}");
    let (_, out) = sh(
        "qemu-io",
        &[
            "-r",
            "-f",
            "qcow2",
            "-c",
            "read -P 0xab 0 64k",
            v2.to_str().unwrap(),
        ],
    );
    assert!(
        !out.contains("verification failed"),
        "version 2 is kept: {out}"
    );
    // Copy and download are valid images.
    let c = call(
        "POST",
        "/api/v1/template/copy",
        json!({"template_uuid": uuid, "name": "real-copy"}),
    );
    let copy = s
        .template_get(&c["uuid"].as_str().unwrap().parse().unwrap())
        .unwrap();
    for d in &copy.disks {
        let (ok, out) = sh("qemu-img", &["check", d.version_file(1).to_str().unwrap()]);
        assert!(ok, "{out}");
    }
    let dl = call("POST", "/api/v1/template/download", json!({"uuid": uuid}));
    let path = dl["path"].as_str().unwrap();
    let (ok, out) = sh("qemu-img", &["check", path]);
    assert!(ok, "{out}");
    let (_, info) = sh("qemu-img", &["info", path]);
    assert!(!info.contains("backing file"), "standalone: {info}");
    // Reboot needs it running; then delete both.
    call("POST", "/api/v1/template/start", json!({"uuid": uuid}));
    call(
        "POST",
        "/api/v1.0/voi/education/template/",
        json!({"action": "hard_reboot", "param": {"templates": [{"uuid": uuid}]}}),
    );
    let r = call(
        "DELETE",
        "/api/v1.0/voi/education/template/",
        json!({"templates": [{"uuid": uuid}, {"uuid": c["uuid"]}]}),
    );
    assert_eq!(r["success_num"], 2);
    assert!(!virsh(&["dominfo", &uuid]).0, "domain undefined");
    assert!(!Path::new(&t.disks[0].dir).exists(), "files removed");
}
