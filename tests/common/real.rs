//! The service in process on real libvirt (`qemu:///system`) and real
//! qcow2 files, with the host network and inventory faked: what the real
//! desktop tier and the desktop benchmark drive.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::{json, Value};
use vdi_appliance::app;
use vdi_appliance::domain::net::{DefaultRoute, IfAddr};
use vdi_appliance::fakes::{FakeHost, FakeNet};
use vdi_appliance::host::libvirt::Libvirt;
use vdi_appliance::host::qemu_img::QemuImg;
use vdi_appliance::http::{self, State};
use vdi_appliance::service::{Services, Settings};
use vdi_appliance::store::Store;

pub const URI: &str = "qemu:///system";

pub fn sh(cmd: &str, args: &[&str]) -> (bool, String) {
    let o = Command::new(cmd).args(args).output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

pub fn virsh(args: &[&str]) -> (bool, String) {
    let mut a = vec!["-c", URI];
    a.extend_from_slice(args);
    sh("virsh", &a)
}

/// The names of every desktop domain libvirt has.
pub fn desktop_domains() -> Vec<String> {
    virsh(&["list", "--all", "--name"])
        .1
        .lines()
        .filter(|l| l.starts_with("desktop-"))
        .map(str::to_string)
        .collect()
}

/// The names of the template domains of test runs (their disks under a
/// `reachable_dir`), running or not.
pub fn test_template_domains() -> Vec<String> {
    virsh(&["list", "--all", "--name"])
        .1
        .lines()
        .filter(|l| l.starts_with("vdi-tpl-"))
        .filter(|l| {
            virsh(&["dumpxml", l])
                .1
                .contains("source file='/var/tmp/vdi-")
        })
        .map(str::to_string)
        .collect()
}

/// Removes every desktop domain, and the template domains of test runs,
/// when dropped, so that a failed run leaves none behind (none running).
pub struct Sweep;

impl Drop for Sweep {
    fn drop(&mut self) {
        for name in desktop_domains().into_iter().chain(test_template_domains()) {
            let _ = virsh(&["destroy", &name]);
            let _ = virsh(&["undefine", &name]);
        }
    }
}

/// A bridge for the desktops' NICs, removed when dropped.
pub struct Bridge(String);

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = sh("ip", &["link", "del", &self.0]);
    }
}

pub fn bridge_for(r: &Real) -> Bridge {
    let net: uuid::Uuid = r.get("/api/v1.0/network/?searchtype=all")["results"][0]["uuid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let name = vdi_appliance::domain::net::bridge_name(&net);
    let _ = sh("ip", &["link", "del", &name]);
    let (ok, out) = sh("ip", &["link", "add", &name, "type", "bridge"]);
    assert!(ok, "{out}");
    assert!(sh("ip", &["link", "set", &name, "up"]).0);
    Bridge(name)
}

pub fn classroom(r: &Real, name: &str, start: &str, end: &str) -> String {
    let n = r.get("/api/v1.0/network/?searchtype=all")["results"][0]["uuid"].clone();
    let s = r.get("/api/v1.0/subnet/?searchtype=all")["results"][0]["uuid"].clone();
    r.ok(
        "/api/v1/group/create",
        json!({"name": name, "group_type": 1, "network_uuid": n, "subnet_uuid": s, "start_ip": start, "end_ip": end}),
    );
    r.get(&format!(
        "/api/v1.0/voi/education/group/?searchtype=single&name={name}"
    ))["uuid"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A directory QEMU (user libvirt-qemu) can reach: under /var/tmp, 0755.
pub fn reachable_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/var/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The usual start of a real-libvirt test: libvirtd answers, a sweep for
/// what a failed run leaves, a directory QEMU can reach (named after
/// `prefix`) and an initialised controller in it. Bind all three, in this
/// order: the controller goes first, the sweep last.
pub fn real_libvirt(prefix: &str) -> (Sweep, tempfile::TempDir, Real) {
    let (up, out) = virsh(&["version"]);
    assert!(up, "libvirtd must run (make test-libvirt starts it): {out}");
    let sweep = Sweep;
    let dir = reachable_dir(prefix);
    let r = Real::open(dir.path(), true);
    (sweep, dir, r)
}

pub struct Real {
    pub web: tide::Server<State>,
    pub s: Arc<Services>,
    pub token: String,
    pub storage: PathBuf,
}

impl Real {
    /// Opens (or makes) the store in `dir/d`; with `init` the controller is
    /// initialised as a compute node with every storage role on `dir/slow`.
    pub fn open(dir: &Path, init: bool) -> Real {
        let storage = dir.join("slow");
        std::fs::create_dir_all(&storage).unwrap();
        let store = Arc::new(Store::open(&dir.join("d"), &Default::default()).unwrap());
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
        let f = app::fakes(net, FakeHost::with_mounts(&[&storage], &["ens192"]));
        let mut b = f.backends();
        b.hypervisor = Arc::new(Libvirt::new(URI));
        b.disks = Arc::new(QemuImg);
        let mut settings = Settings::for_dir(dir.join("d"));
        settings.domain_type = "qemu".into();
        settings.vm_stop_timeout = std::time::Duration::from_secs(2);
        settings.memory_overcommit = 8.0;
        let s = app::services(store, &b, settings, app::global_spawner());
        if init {
            s.admin_set_password("admin", "s3cret-pass").unwrap();
        }
        let web = http::app(s.clone());
        let token = super::app_token(&web, "admin", "s3cret-pass");
        let r = Real {
            web,
            s,
            token,
            storage,
        };
        if init {
            r.ok(
                "/api/v1/controller/init",
                json!({"ip": "192.0.2.49", "password": "x", "manage_interface": "ens192", "image_interface": "ens192",
                       "data_interface": "ens192", "network_name": "default", "switch_name": "default", "switch_type": "flat",
                       "storages": { r.storage.to_str().unwrap(): "1,2,3,4" }, "is_compute": true,
                       "subnet_info": {"name": "default", "start_ip": "192.0.2.100", "end_ip": "192.0.2.250",
                                       "netmask": "255.255.255.0", "gateway": "192.0.2.1", "dns1": "192.0.2.1"}}),
            );
        }
        r
    }

    pub fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        super::app_call(&self.web, &self.token, method, path, Some(body))
    }

    pub fn ok(&self, path: &str, body: Value) -> Value {
        let (st, v) = self.call("POST", path, body.clone());
        assert_eq!(
            (st, v["code"].as_i64()),
            (200, Some(0)),
            "{path} {body} -> {v}"
        );
        v["data"].clone()
    }

    pub fn get(&self, path: &str) -> Value {
        let (st, v) = super::app_call(&self.web, &self.token, "GET", path, None);
        assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{path} -> {v}");
        v["data"].clone()
    }

    /// A blank 64 MiB base image and a template on it with a 1 GiB data
    /// disk, no NIC; returns the template uuid.
    pub fn template(&self, dir: &Path) -> String {
        let src = dir.join("base.qcow2");
        assert!(
            sh(
                "qemu-img",
                &["create", "-q", "-f", "qcow2", src.to_str().unwrap(), "64M"]
            )
            .0
        );
        let (st, up) = smol::block_on(http::request_bytes(
            &self.web,
            "PUT",
            "/api/v1/base_image/upload?name=tiny&os_type=linux",
            Some(&self.token),
            std::fs::read(&src).unwrap(),
        ));
        let up: Value = serde_json::from_slice(&up).unwrap();
        assert_eq!(st, 200, "{up}");
        let t = self.ok(
            "/api/v1/template/create",
            json!({"name": "tpl", "os_type": "linux", "vcpu": 1, "ram": 0.125, "network_uuid": "",
                   "data_disks": [{"inx": 1, "size": 1}], "system_disk": {"image_id": up["data"]["uuid"], "size": 1}}),
        );
        t["uuid"].as_str().unwrap().to_string()
    }

    /// A personal group of `n` desktops without a NIC (no network: the
    /// template has none); returns its uuid.
    pub fn personal_group(&self, tpl: &str, name: &str, n: u32, sys_restore: u8) -> String {
        self.ok(
            "/api/v1/desktop/personal/create",
            json!({"name": name, "owner_id": 1, "template_uuid": tpl, "allocate_type": 1, "vcpu": 1, "ram": 0.125,
                   "sys_restore": sys_restore, "data_restore": 0, "desktop_type": 1, "instance_num": n,
                   "prefix": name, "postfix": 3}),
        );
        let g = self.get(&format!(
            "/api/v1.0/desktop_group/?searchtype=single&name={name}"
        ));
        g["uuid"].as_str().unwrap().to_string()
    }
}
