//! An initialised appliance over fakes, driven in process: init with a
//! flat network and storages on temporary "mounts", an admin token, and
//! the calls and helpers the catalogue tiers (templates, desktops) share.

use std::path::PathBuf;
use std::sync::Arc;

use super::rig::{Rig, Spec};
use serde_json::{json, Value};
use vdi_appliance::app::Fakes;
use vdi_appliance::http::{self, State};
use vdi_appliance::service::{Backends, Services};

pub struct T {
    pub app: tide::Server<State>,
    pub s: Arc<Services>,
    pub f: Fakes,
    pub token: String,
    pub slow: PathBuf,
    pub _dir: tempfile::TempDir,
}

/// The start of a qcow2 image of `size` bytes, as the fake disks read it.
pub fn qcow2(size: u64) -> Vec<u8> {
    vdi_appliance::domain::qcow2::minimal_header(size, None, None)
}

/// The start of an ISO 9660 image: `CD001` at byte 0x8001.
pub fn iso() -> Vec<u8> {
    let mut b = vec![0u8; 0x8800];
    b[0x8000] = 1;
    b[0x8001..0x8006].copy_from_slice(b"CD001");
    b
}

pub fn md5_hex(b: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

pub fn harness() -> T {
    harness_with(|_| {})
}

/// `harness` with some backends replaced first (say, the real qemu-img
/// disks); `T::f` keeps the fakes.
pub fn harness_with(change: impl FnOnce(&mut Backends)) -> T {
    harness_full(|_| {}, change)
}

/// `harness` with some settings changed first.
pub fn harness_set(settings: impl FnOnce(&mut vdi_appliance::service::Settings)) -> T {
    harness_full(settings, |_| {})
}

fn harness_full(
    settings: impl FnOnce(&mut vdi_appliance::service::Settings),
    change: impl FnOnce(&mut Backends),
) -> T {
    let r = Rig::build_with(
        Spec {
            nics: &[("ens192", &["192.0.2.49/24"]), ("ens224", &[])],
            route: Some(("192.0.2.1", "ens192")),
            mounts: &["opt-slow", "opt-fast"],
        },
        |s| {
            s.vm_stop_timeout = std::time::Duration::from_millis(300);
            settings(s)
        },
        change,
    );
    let token = r.admin_token();
    let (slow, fast) = (r.mounts[0].clone(), r.mounts[1].clone());
    let t = T {
        app: r.app,
        s: r.s,
        f: r.f,
        token,
        slow: slow.clone(),
        _dir: r.dir,
    };
    t.ok(
        "/api/v1/controller/init",
        json!({
            "ip": "192.0.2.49", "password": "x", "manage_interface": "ens192", "image_interface": "ens192",
            "data_interface": "ens224", "network_name": "default", "switch_name": "default", "switch_type": "flat",
            "storages": { slow.to_str().unwrap(): "1,2", fast.to_str().unwrap(): "3,4" }, "is_compute": true,
            "subnet_info": {"name": "default", "start_ip": "192.0.2.100", "end_ip": "192.0.2.110", "netmask": "255.255.255.0",
                            "gateway": "192.0.2.1", "dns1": "192.0.2.1"}
        }),
    );
    t
}

impl T {
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        super::app_call(&self.app, &self.token, method, path, body)
    }

    pub fn ok_m(&self, method: &str, path: &str, body: Value) -> Value {
        let (st, v) = self.call(method, path, Some(body.clone()));
        assert_eq!(
            (st, v["code"].as_i64()),
            (200, Some(0)),
            "{method} {path} {body} -> {v}"
        );
        v["data"].clone()
    }

    pub fn ok(&self, path: &str, body: Value) -> Value {
        self.ok_m("POST", path, body)
    }

    pub fn fails_m(&self, method: &str, path: &str, body: Value, code: i64, fragment: &str) {
        let (st, v) = self.call(method, path, Some(body.clone()));
        assert_eq!(v["code"].as_i64(), Some(code), "{path} {body} -> {v}");
        assert!(st >= 400, "{st}");
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.contains(fragment), "`{fragment}` not in `{msg}`");
    }

    pub fn fails(&self, path: &str, body: Value, code: i64, fragment: &str) {
        self.fails_m("POST", path, body, code, fragment)
    }

    /// A public terminal call from `peer` (no token).
    pub fn from(&self, peer: &str, path: &str, body: Value) -> (u16, Value) {
        let (st, text) = smol::block_on(http::request_from(
            &self.app,
            &format!("{peer}:50000"),
            "POST",
            path,
            None,
            Some(&body.to_string()),
        ));
        (
            st,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A terminal call that must succeed; its `data`.
    pub fn term_ok(&self, peer: &str, path: &str, body: Value) -> Value {
        let (st, v) = self.from(peer, path, body.clone());
        assert_eq!(
            (st, v["code"].as_i64()),
            (200, Some(0)),
            "{path} {body} -> {v}"
        );
        v["data"].clone()
    }

    /// A terminal call that must fail with `code` and a message holding `fragment`.
    pub fn term_fails(&self, peer: &str, path: &str, body: Value, code: i64, fragment: &str) {
        let (st, v) = self.from(peer, path, body.clone());
        assert_eq!(v["code"].as_i64(), Some(code), "{path} {body} -> {v}");
        assert!(st >= 400, "{st}");
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.contains(fragment), "`{fragment}` not in `{msg}`");
    }

    pub fn get(&self, path: &str) -> Value {
        let (st, v) = self.call("GET", path, None);
        assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{path} -> {v}");
        v["data"].clone()
    }

    pub fn upload(&self, path: &str, bytes: Vec<u8>) -> (u16, Value) {
        let (st, b) = smol::block_on(http::request_bytes(
            &self.app,
            "PUT",
            path,
            Some(&self.token),
            bytes,
        ));
        (st, serde_json::from_slice(&b).unwrap())
    }

    pub fn image(&self) -> String {
        let bytes = qcow2(10 << 30);
        let (st, v) = self.upload(
            &format!(
                "/api/v1/base_image/upload?name=win10&os_type=windows_10&md5_sum={}",
                md5_hex(&bytes)
            ),
            bytes,
        );
        assert_eq!(st, 200, "{v}");
        v["data"]["uuid"].as_str().unwrap().to_string()
    }

    pub fn net(&self) -> (String, String) {
        let n = self.get("/api/v1.0/network/?searchtype=all");
        let s = self.get("/api/v1.0/subnet/?searchtype=all");
        (
            n["results"][0]["uuid"].as_str().unwrap().into(),
            s["results"][0]["uuid"].as_str().unwrap().into(),
        )
    }

    pub fn template(&self, name: &str, image: &str) -> Value {
        let (n, s) = self.net();
        self.ok(
            "/api/v1/template/create",
            json!({"name": name, "owner_id": 1, "os_type": "windows_10", "classify": 1, "network_uuid": n,
                   "subnet_uuid": s, "bind_ip": "", "vcpu": 2, "ram": 2, "data_disks": [{"inx": 1, "size": 5}],
                   "system_disk": {"image_id": image, "size": 20}, "power_on": false}),
        )
    }

    /// A template `name` on a fresh base image, started, whose graphics
    /// server the fake hypervisor puts at `graphics` (a test's listener).
    pub fn running_template(&self, name: &str, graphics: std::net::SocketAddr) -> String {
        *self.f.hypervisor.graphics_server.lock().unwrap() = Some(graphics);
        let image = self.image();
        let uuid = self.template(name, &image)["uuid"]
            .as_str()
            .unwrap()
            .to_string();
        self.ok("/api/v1/template/start", json!({"uuid": uuid}));
        uuid
    }

    /// The fake host's domains and disk files, and the saga journals left,
    /// to compare before and after an operation that must leave no trace.
    pub fn traces(&self) -> String {
        let mut domains: Vec<String> = self
            .f
            .hypervisor
            .domains()
            .iter()
            .map(|(u, _)| u.to_string())
            .collect();
        domains.sort();
        format!(
            "domains {domains:?}\nfiles {:?}\nsagas {:?}",
            self.f.disks.files_under(&self.slow),
            self.s.store.saga_list().unwrap()
        )
    }

    pub fn tpl(&self, uuid: &str) -> vdi_appliance::domain::template::Template {
        self.s.template_get(&uuid.parse().unwrap()).unwrap()
    }

    pub fn work(&self, uuid: &str) -> PathBuf {
        self.tpl(uuid).disks[0].work_file()
    }
}
