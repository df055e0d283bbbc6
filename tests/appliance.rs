//! The appliance image end to end (`make image-test`): the ISO that
//! `make image` built, booted under QEMU TCG with three virtio NICs and user
//! networking that only forwards one 127.0.0.1 port to the service.
//!
//! 1. Live boot with a data disk (ext4 labelled VDI-DATA): READY, the setup
//!    token read from the serial console, the admin, `node/check`,
//!    controller init with a VLAN switch on the second NIC (management on
//!    the first), a bond of the second and third NICs made the switch's
//!    uplink, the kernel's links checked, a pool and a real qcow2 base image.
//! 2. Power off (ACPI) and boot again: data, bridge, VLAN and bond are back.
//! 3. The rescue entry (service masked): the same boot without the service,
//!    to compare boot-to-READY with.
//! 4. The install entry onto an empty qcow2 disk, chosen with the menu's
//!    hotkey over the serial console; the installed disk booted under UEFI
//!    (OVMF) to READY, and its admin created.
//! 5. The install entry again onto that disk (an upgrade): the system is
//!    replaced, the data partition kept, and the admin still signs in.
//!
//! Every step prints its time; every QEMU this test starts is killed when
//! its handle drops, whatever happens. Needs root and `make deps-image`.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;

/// The service in one booted VM, through its forwarded port.
struct Api {
    port: u16,
    token: Option<String>,
}

impl Api {
    fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let b = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        common::try_http(self.port, method, path, self.token.as_deref(), &b)
            .unwrap_or_else(|| panic!("{method} {path}: no answer from the guest"))
    }

    fn ok(&self, path: &str, body: Value) -> Value {
        let (st, v) = self.call("POST", path, body);
        assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{path} -> {v}");
        v["data"].clone()
    }

    fn get(&self, path: &str) -> Value {
        let (st, v) = self.call("GET", path, Value::Null);
        assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{path} -> {v}");
        v["data"].clone()
    }

    fn login(&mut self) {
        let d = self.ok(
            "/api/v1/login",
            json!({"name": "admin", "password": PASSWORD}),
        );
        self.token = Some(d["access_token"].as_str().unwrap().to_string());
    }

    /// A fresh appliance's first admin, with the setup token its console
    /// showed; then signed in, and this node probed (`node/check`).
    fn first_admin(&mut self, console: &str) -> Value {
        let token = setup_token(console).expect("the console shows the setup token");
        self.ok(
            "/api/v1/setup/admin",
            json!({"setup_token": token, "name": "admin", "password": PASSWORD}),
        );
        self.login();
        self.ok(
            "/api/v1/node/check",
            json!({"ip": "10.0.2.15", "root_pwd": ""}),
        )
    }

    /// A confirmation, when the change moved an address.
    fn confirm_if_asked(&self, d: &Value) {
        if d["confirm_required"] == true {
            self.ok("/api/v1/network/confirm", json!({}));
        }
    }

    /// The kernel's link `name` inside the guest.
    fn link(&self, name: &str) -> Value {
        let links = self.get("/api/v1/node/links")["links"].clone();
        links
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no link `{name}` in the guest: {links}"))
    }
}

const PASSWORD: &str = "change-me-now";

/// How a VM boots.
enum Firmware {
    /// SeaBIOS, the ISO as CD-ROM, a GRUB hotkey (None: the default entry).
    BiosIso(Option<char>),
    /// OVMF from the first disk.
    UefiDisk,
}

struct Vm {
    name: &'static str,
    child: Child,
    /// The console as it arrives (also written to target/image/test-logs/).
    serial: Arc<Mutex<String>>,
    /// The serial console's connection (kept open for the VM's life).
    con: UnixStream,
    /// QEMU's human monitor (`system_powerdown`).
    monitor: UnixStream,
    started: Instant,
    port: u16,
    /// The guest's sshd, forwarded from 127.0.0.1.
    ssh_port: u16,
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Env {
    iso: PathBuf,
    dir: tempfile::TempDir,
    logs: PathBuf,
}

impl Env {
    fn boot(&self, name: &'static str, fw: Firmware, disks: &[&Path]) -> Vm {
        let port = common::free_port();
        let ssh_port = common::free_port();
        let serial_sock = self.dir.path().join(format!("{name}.serial"));
        let mon_sock = self.dir.path().join(format!("{name}.mon"));
        let mut a: Vec<String> = [
            "-accel",
            "tcg",
            "-cpu",
            "qemu64,+rdrand",
            "-m",
            "2048",
            "-smp",
            "2",
            "-display",
            "none",
            "-no-reboot",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push("-chardev".into());
        a.push(format!(
            "socket,id=s0,path={},server=on,wait=on",
            serial_sock.display()
        ));
        a.extend(["-serial".into(), "chardev:s0".into()]);
        a.push("-monitor".into());
        a.push(format!("unix:{},server=on,wait=off", mon_sock.display()));
        match fw {
            Firmware::BiosIso(_) => {
                // From the CD even when a disk is bootable (the reinstall).
                a.extend(["-cdrom".into(), self.iso.display().to_string()]);
                a.extend(["-boot".into(), "order=d".into()]);
            }
            Firmware::UefiDisk => {
                let vars = self.dir.path().join(format!("{name}-vars.fd"));
                std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars).unwrap();
                a.extend(["-machine".into(), "q35".into()]);
                a.push("-drive".into());
                a.push(
                    "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
                        .into(),
                );
                a.push("-drive".into());
                a.push(format!(
                    "if=pflash,format=raw,unit=1,file={}",
                    vars.display()
                ));
            }
        }
        for d in disks {
            let fmt = if d.extension().is_some_and(|e| e == "qcow2") {
                "qcow2"
            } else {
                "raw"
            };
            a.push("-drive".into());
            a.push(format!("file={},format={fmt},if=virtio", d.display()));
        }
        // NIC 1: management, user networking that only forwards the API
        // port from 127.0.0.1; NICs 2 and 3: cables to nowhere (a hub each).
        a.push("-netdev".into());
        a.push(format!(
            "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:5000,hostfwd=tcp:127.0.0.1:{ssh_port}-:22"
        ));
        a.extend(["-device".into(), "virtio-net-pci,netdev=n0".into()]);
        for i in 1..=2 {
            a.push("-netdev".into());
            a.push(format!("hubport,id=n{i},hubid={i}"));
            a.push("-device".into());
            a.push(format!("virtio-net-pci,netdev=n{i}"));
        }
        let log = std::fs::File::create(self.logs.join(format!("{name}.qemu.log"))).unwrap();
        let child = Command::new("qemu-system-x86_64")
            .args(&a)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("qemu-system-x86_64 (make deps-image)");
        let started = Instant::now();
        let serial = Arc::new(Mutex::new(String::new()));
        let mut con = None;
        for _ in 0..100 {
            if let Ok(s) = UnixStream::connect(&serial_sock) {
                con = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let con = con.expect("QEMU's serial socket");
        let monitor = loop {
            if let Ok(m) = UnixStream::connect(&mon_sock) {
                break m;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "QEMU's monitor socket"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let (buf, mut rd) = (serial.clone(), con.try_clone().unwrap());
        let mut file = std::fs::File::create(self.logs.join(format!("{name}.serial.log"))).unwrap();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n) = rd.read(&mut b) {
                if n == 0 {
                    break;
                }
                let _ = file.write_all(&b[..n]);
                buf.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&b[..n]).replace('\r', ""));
            }
        });
        let mut vm = Vm {
            name,
            child,
            serial,
            con,
            monitor,
            started,
            port,
            ssh_port,
        };
        if let Firmware::BiosIso(Some(key)) = fw {
            // GRUB's menu hotkey, typed on the serial console.
            vm.wait_serial("automatically in", Duration::from_secs(120));
            vm.con.write_all(key.to_string().as_bytes()).unwrap();
        }
        vm
    }
}

impl Vm {
    fn console(&self) -> String {
        self.serial.lock().unwrap().clone()
    }

    fn tail(&self) -> String {
        let c = self.console();
        let skip = c.chars().count().saturating_sub(3000);
        c.chars().skip(skip).collect()
    }

    /// Waits until the console shows `text`; returns the console.
    fn wait_serial(&self, text: &str, limit: Duration) -> String {
        self.wait_serial_unless(text, "\0", limit)
    }

    /// Waits until the console shows `text`; fails at once on `failure`.
    fn wait_serial_unless(&self, text: &str, failure: &str, limit: Duration) -> String {
        let until = Instant::now() + limit;
        loop {
            let c = self.console();
            if c.contains(text) {
                return c;
            }
            assert!(
                !c.contains(failure),
                "{}: the console shows `{failure}`:\n{}",
                self.name,
                self.tail()
            );
            assert!(
                Instant::now() < until,
                "{}: `{text}` not on the console within {limit:?}; it ends with:\n{}",
                self.name,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// READY: the console banner says so and the API answers `health`.
    fn wait_ready(&self) -> (Api, f64) {
        self.wait_serial("vdi-appliance console: ready", Duration::from_secs(400));
        let secs = self.started.elapsed().as_secs_f64();
        let until = Instant::now() + Duration::from_secs(60);
        while common::try_http(self.port, "GET", "/api/v1/health", None, b"").map(|r| r.0)
            != Some(200)
        {
            assert!(
                Instant::now() < until,
                "{}: health does not answer",
                self.name
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        (
            Api {
                port: self.port,
                token: None,
            },
            secs,
        )
    }

    /// An ACPI power-off, then waits for QEMU to end.
    fn power_off(mut self) {
        self.monitor.write_all(b"system_powerdown\n").unwrap();
        self.wait_exit(Duration::from_secs(180));
    }

    /// The end of a VM whose disks are not booted again as they are: an
    /// ACPI power-off when the guest manages one within a minute, else
    /// QEMU is killed. (A TCG guest busy with libvirtd's start-up probe of
    /// QEMU can stall for minutes; what is tested never depends on it.)
    fn finish(mut self) {
        let _ = self.monitor.write_all(b"system_powerdown\n");
        let until = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > until {
                println!(
                    "image-test: {} did not power off within 60 s; killed",
                    self.name
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn wait_exit(&mut self, limit: Duration) {
        let until = Instant::now() + limit;
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < until,
                "{}: did not power off within {limit:?}; console ends with:\n{}",
                self.name,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// The last setup token the console banner showed.
/// Logs in to the guest's sshd as root with `password` (as a controller's
/// `node/check` does) and runs `id -u`.
fn root_ssh(port: u16, password: &str) -> Result<String, String> {
    use std::io::Read;
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut s = ssh2::Session::new().map_err(|e| e.to_string())?;
    s.set_tcp_stream(tcp);
    s.handshake().map_err(|e| e.to_string())?;
    s.userauth_password("root", password)
        .map_err(|e| e.to_string())?;
    let mut ch = s.channel_session().map_err(|e| e.to_string())?;
    ch.exec("id -u").map_err(|e| e.to_string())?;
    let mut out = String::new();
    ch.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn setup_token(console: &str) -> Option<String> {
    console
        .lines()
        .rev()
        .find_map(|l| l.split("First-boot setup token: ").nth(1))
        .map(|t| t.trim().to_string())
}

struct Clock(Instant);

impl Clock {
    fn step(&mut self, what: &str) -> f64 {
        let s = self.0.elapsed().as_secs_f64();
        println!("image-test: {what:<52} {s:6.1} s");
        self.0 = Instant::now();
        s
    }
}

fn sh(cmd: &str) {
    let st = Command::new("sh").args(["-c", cmd]).status().unwrap();
    assert!(st.success(), "`{cmd}` failed");
}

#[test]
fn iso_boots_sets_up_survives_a_reboot_and_installs() {
    let iso =
        PathBuf::from(std::env::var("VDI_ISO").expect("VDI_ISO: run through `make image-test`"));
    let size_mib = std::fs::metadata(&iso).unwrap().len() >> 20;
    println!("image-test: ISO {} is {size_mib} MiB", iso.display());
    assert!(
        size_mib < 350,
        "the ISO is {size_mib} MiB; the target is under 350 MiB"
    );
    let logs = iso.parent().unwrap().join("test-logs");
    std::fs::create_dir_all(&logs).unwrap();
    let env = Env {
        iso,
        dir: tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap(),
        logs,
    };
    let data = env.dir.path().join("data.raw");
    sh(&format!(
        "truncate -s 4G {0} && mkfs.ext4 -q -F -L VDI-DATA {0}",
        data.display()
    ));
    let mut clock = Clock(Instant::now());

    // 1. Live boot, first-boot setup, VLAN, bond, pool, base image.
    let vm = env.boot("live1", Firmware::BiosIso(None), &[&data]);
    let (mut api, ready1) = vm.wait_ready();
    clock.step("live boot to READY (BIOS, ISO)");
    let console = vm.console();
    assert!(
        console.contains("Open http://10.0.2.15:5000/"),
        "the setup URL is shown"
    );
    let chk = api.first_admin(&console);
    // Root is locked until its password is set; then root logs in over
    // SSH with it, as a controller joining this server would.
    let refused = root_ssh(vm.ssh_port, "");
    assert!(refused.is_err(), "root logged in without a password");
    api.ok(
        "/api/v1/system/root_password",
        json!({"password": "root-pw-for-joining"}),
    );
    // (sshd may still be starting: a few tries.)
    let t0 = Instant::now();
    let logged_in = loop {
        match root_ssh(vm.ssh_port, "root-pw-for-joining") {
            Ok(out) => break out,
            Err(e) if t0.elapsed() > Duration::from_secs(60) => {
                panic!("root cannot log in over SSH with its new password: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_secs(2)),
        }
    };
    assert_eq!(logged_in.trim(), "0");
    let storages = chk["storage_list"].as_array().unwrap().clone();
    let path = |p: &str| storages.iter().find(|s| s["path"] == p).cloned();
    assert_eq!(
        path("/data").unwrap_or_else(|| panic!("/data not offered: {storages:?}"))["usable"],
        true,
        "{storages:?}"
    );
    assert_eq!(path("/data").unwrap()["fs"], "ext4");
    // The live root is in memory, and systemd's sandbox mounts are not storage.
    assert_eq!(path("/").expect("/ listed")["usable"], false);
    for p in [
        "/etc",
        "/usr",
        "/etc/systemd/network",
        "/var/lib/vdi-appliance",
    ] {
        assert!(path(p).is_none(), "{p} offered as storage: {storages:?}");
    }
    let nics: Vec<String> = chk["interface_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["interface"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(nics.len(), 3, "{nics:?}");
    let (mgmt, nic2, nic3) = (&nics[0], &nics[1], &nics[2]);
    let init = api.ok(
        "/api/v1/controller/init",
        json!({"ip": "10.0.2.15", "manage_interface": mgmt, "image_interface": mgmt, "data_interface": nic2,
               "network_name": "default", "switch_name": "default", "switch_type": "vlan", "vlan_id": 10,
               "storages": {"/data": "1,2,3,4"}, "is_compute": false,
               "subnet_info": {"name": "default", "start_ip": "10.213.10.10", "end_ip": "10.213.10.200",
                               "netmask": "255.255.255.0", "gateway": "10.213.10.1", "dns1": "10.213.10.1"}}),
    );
    let (bridge, switch, node) = (
        init["bridge"].as_str().unwrap().to_string(),
        init["switch_uuid"].as_str().unwrap().to_string(),
        init["node_uuid"].as_str().unwrap().to_string(),
    );
    assert_eq!(api.link(&format!("{nic2}.10"))["master"], json!(bridge));
    clock.step("setup: admin, node/check, controller init (VLAN 10)");
    // Bond NICs 2 and 3 and make the bond the switch's uplink (a switch's
    // uplink cannot be bonded: take it off first).
    let d = api.ok(
        "/api/v1/vswitch/update",
        json!({"uuid": switch, "value": {"uplinks": []}}),
    );
    api.confirm_if_asked(&d);
    let nic_uuid = |name: &str| {
        api.get(&format!("/api/v1.0/node_nic/?interface={name}"))["results"][0]["uuid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let d = api.ok(
        "/api/v1/node/add_bond",
        json!({"ipaddr": "10.0.2.15", "node_uuid": node, "ip_list": [],
               "slaves": [{"nic_uuid": nic_uuid(nic2), "nic_name": nic2}, {"nic_uuid": nic_uuid(nic3), "nic_name": nic3}],
               "bond_info": {"dev": "bond0", "mode": 1, "slaves": [nic2, nic3]}}),
    );
    api.confirm_if_asked(&d);
    let bond = d["uuid"].as_str().unwrap().to_string();
    let d = api.ok(
        "/api/v1/vswitch/update",
        json!({"uuid": switch, "value": {"uplinks": [{"node_uuid": node, "nic_uuid": bond}]}}),
    );
    api.confirm_if_asked(&d);
    let check_links = |api: &Api| {
        assert_eq!(api.link("bond0")["kind"], "bond");
        assert_eq!(api.link("bond0")["bond_mode"], 1);
        assert_eq!(api.link(nic2)["master"], "bond0");
        assert_eq!(api.link(nic3)["master"], "bond0");
        let vlan = api.link("bond0.10");
        assert_eq!(
            (
                vlan["kind"].clone(),
                vlan["parent"].clone(),
                vlan["vlan_id"].clone()
            ),
            (json!("vlan"), json!("bond0"), json!(10))
        );
        assert_eq!(vlan["master"], json!(bridge));
        assert_eq!(api.link(&bridge)["kind"], "bridge");
        assert_eq!(api.link(&bridge)["up"], true);
        assert_eq!(api.link(mgmt)["addrs"], json!(["10.0.2.15/24"]));
        // The old VLAN on the bare NIC is gone.
        let links = api.get("/api/v1/node/links")["links"].clone();
        assert!(
            !links.to_string().contains(&format!("\"{nic2}.10\"")),
            "{links}"
        );
    };
    check_links(&api);
    clock.step("bond0 of NICs 2+3 as the VLAN switch's uplink");
    let pool = api.ok(
        "/api/v1/resource_pool/create",
        json!({"name": "lab", "desc": "computer lab", "default": false}),
    );
    let pool = pool["uuid"].as_str().unwrap().to_string();
    let qcow = env.dir.path().join("base.qcow2");
    sh(&format!(
        "qemu-img create -q -f qcow2 {} 1G",
        qcow.display()
    ));
    let bytes = std::fs::read(&qcow).unwrap();
    let md5 = common::appliance::md5_hex(&bytes);
    let (st, up) = common::try_http(
        api.port,
        "PUT",
        &format!("/api/v1/base_image/upload?name=debian&os_type=linux&md5_sum={md5}"),
        api.token.as_deref(),
        &bytes,
    )
    .expect("upload answered");
    assert_eq!((st, up["code"].as_i64()), (200, Some(0)), "{up}");
    let image = up["data"]["uuid"].as_str().unwrap().to_string();
    clock.step("resource pool + base image upload");
    vm.power_off();
    clock.step("power off (ACPI)");

    // 2. The same live system again: everything came back from the data disk.
    let vm = env.boot("live2", Firmware::BiosIso(None), &[&data]);
    let (mut api, ready2) = vm.wait_ready();
    clock.step("live boot to READY, initialised (BIOS, ISO)");
    assert!(
        !vm.console().contains("First-boot setup token"),
        "no token once an admin exists"
    );
    api.login();
    let status = api.get("/api/v1/setup/status");
    assert_eq!(status["initialised"], true, "{status}");
    assert_eq!(
        api.get(&format!("/api/v1.0/resource_pool/?uuid={pool}"))["count"],
        1
    );
    let imgs = api.get("/api/v1.0/base_image/?searchtype=all");
    assert!(imgs.to_string().contains(&image), "{imgs}");
    check_links(&api);
    clock.step("after the reboot: store, pool, image, bridge, VLAN, bond");
    vm.finish();

    // 3. The same boot with the service masked (the rescue entry).
    let vm = env.boot("rescue", Firmware::BiosIso(Some('r')), &[&data]);
    vm.wait_serial(
        "vdi-appliance console: the service is not running",
        Duration::from_secs(400),
    );
    let bare = vm.started.elapsed().as_secs_f64();
    clock.step("rescue boot (service masked) to the console banner");
    drop(vm);
    println!(
        "image-test: boot to READY / boot without the service: first boot {:.2} ({ready1:.1} s / {bare:.1} s), initialised {:.2} ({ready2:.1} s)",
        ready1 / bare,
        ready2 / bare
    );

    // 4. Install onto an empty disk from the menu, then boot it under UEFI.
    let target = env.dir.path().join("target.qcow2");
    sh(&format!(
        "qemu-img create -q -f qcow2 {} 12G",
        target.display()
    ));
    let mut vm = env.boot("install", Firmware::BiosIso(Some('i')), &[&target]);
    vm.wait_serial_unless(
        "vdi-install: done",
        "vdi-install: FAILED",
        Duration::from_secs(600),
    );
    vm.wait_exit(Duration::from_secs(120));
    drop(vm);
    clock.step("install to a 12 GiB qcow2 (GPT, GRUB BIOS+UEFI)");
    let vm = env.boot("disk", Firmware::UefiDisk, &[&target]);
    let (mut api, ready_disk) = vm.wait_ready();
    clock.step("installed disk to READY (UEFI, OVMF)");
    let c = vm.console();
    assert!(
        !c.contains("is in memory"),
        "the installed system keeps its data on disk"
    );
    let chk = api.first_admin(&c);
    let data_fs = chk["storage_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "/data")
        .cloned()
        .expect("/data on the installed disk");
    assert_eq!(
        (data_fs["fs"].clone(), data_fs["usable"].clone()),
        (json!("ext4"), json!(true))
    );
    assert!(
        data_fs["total"].as_u64().unwrap() > 2 << 30,
        "the data partition takes the rest: {data_fs}"
    );
    let root = chk["storage_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "/")
        .cloned()
        .unwrap();
    assert_eq!(
        root["fs"], "ext4",
        "the installed root is a real filesystem: {root}"
    );
    println!("image-test: installed disk boot to READY {ready_disk:.1} s");
    vm.finish();
    clock.step("power off (or kill after 60 s)");

    // 5. Installing again over it (an upgrade) replaces the system and keeps
    //    the data partition: the admin made above still signs in.
    let mut vm = env.boot("reinstall", Firmware::BiosIso(Some('i')), &[&target]);
    vm.wait_serial_unless(
        "vdi-install: done",
        "vdi-install: FAILED",
        Duration::from_secs(600),
    );
    assert!(
        vm.console().contains("keep data partition: yes"),
        "{}",
        vm.tail()
    );
    vm.wait_exit(Duration::from_secs(120));
    drop(vm);
    clock.step("install again over it (keeps VDI-DATA)");
    let vm = env.boot("disk2", Firmware::UefiDisk, &[&target]);
    let (mut api, _) = vm.wait_ready();
    assert!(
        setup_token(&vm.console()).is_none(),
        "the admin is still there: no setup token"
    );
    api.login();
    assert_eq!(api.get("/api/v1/setup/status")["admin_exists"], true);
    clock.step("upgraded disk to READY (UEFI), the admin signs in");
    vm.finish();
}
