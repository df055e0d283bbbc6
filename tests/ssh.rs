//! Real SSH tier of joining nodes. The test re-runs itself inside a fresh
//! network and mount namespace (the controller's world) and makes one
//! network namespace per fake node, joined to it by a veth pair
//! (10.213.10n.1 here, 10.213.10n.2 there). Each node has its own mount
//! namespace with a private `/etc/passwd` and `/etc/shadow` (a uid-0 test
//! account `vdinode` with a password and its home in the node's directory),
//! its own `sshd`, a loop-mounted ext4 at the controller's storage path,
//! and the built binary serving in its data directory. SSH goes only to
//! these namespaces.
//!
//! Node 1 and 2 are complete; node 3 has sshd but not the appliance; node
//! 4 has an address and nothing listening.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::ns::{reexec_inside, sh};
use common::{free_port, http, wait_healthy, BIN};
use serde_json::{json, Value};

const INSIDE: &str = "VDI_NODES_INSIDE";
const PASSWORD: &str = "node-Root-pw-7431";

/// A fake node: its namespace, directory, sshd and service.
struct FakeNode {
    n: u8,
    dir: PathBuf,
    service: Option<Child>,
}

impl FakeNode {
    fn ip(&self) -> String {
        format!("10.213.{}.2", 100 + self.n)
    }
    fn ns(&self) -> String {
        format!("vdinode{}", self.n)
    }
    fn sshd_pid(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("sshd.pid"))
            .ok()
            .map(|p| p.trim().to_string())
    }
    fn in_ns(&self, cmd: &str) -> String {
        sh(&format!("ip netns exec {} sh -c '{cmd}'", self.ns()))
    }
    /// Runs `cmd` where the node's service runs (its network and mount
    /// namespaces): success and standard output.
    fn in_service(&self, cmd: &str) -> (bool, String) {
        let pid = self.service.as_ref().expect("the node's service").id();
        let out = Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-m", "-n", "sh", "-c", cmd])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
    fn in_ns_ok(&self, cmd: &str) -> bool {
        self.in_service(cmd).0
    }
    fn in_ns_out(&self, cmd: &str) -> String {
        let (ok, out) = self.in_service(cmd);
        assert!(ok, "node {}: `{cmd}` failed", self.n);
        out
    }
    /// Starts sshd again with a new host key (a reinstalled server, or an
    /// impostor).
    fn new_host_key(&self, common: &Path) {
        if let Some(pid) = self.sshd_pid() {
            let _ = Command::new("kill").arg(&pid).status();
            std::thread::sleep(Duration::from_millis(300));
        }
        let key = self.dir.join("host_key");
        let _ = std::fs::remove_file(&key);
        let _ = std::fs::remove_file(key.with_extension("pub"));
        sh(&format!(
            "ssh-keygen -q -t ed25519 -N '' -f {}",
            key.display()
        ));
        self.spawn_sshd(common);
    }
    fn spawn_sshd(&self, common: &Path) {
        let script = format!(
            "{} /usr/sbin/sshd -f {}/sshd_config",
            self.mounts(common),
            common.display()
        );
        sh(&format!(
            "ip netns exec {} unshare -m --propagation private sh -c \"{script}\"",
            self.ns()
        ));
        let t0 = Instant::now();
        while self.sshd_pid().is_none() && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// The node's private view: its directory at the common path, its
    /// accounts, its storage.
    fn mounts(&self, common: &Path) -> String {
        let d = self.dir.display();
        let c = common.display();
        let storage = common.parent().unwrap().join("storage");
        let mut s = format!(
            "mount --bind {d} {c} && mount --bind {c}/passwd /etc/passwd && mount --bind {c}/shadow /etc/shadow && mount -o loop {c}/storage.img {} && ",
            storage.display()
        );
        if self.n == 3 {
            // Not installed: the binary's directory is empty here.
            s.push_str(&format!(
                "mount -t tmpfs tmpfs {} && ",
                Path::new(BIN).parent().unwrap().display()
            ));
        }
        s
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        if let Some(mut c) = self.service.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(pid) = self.sshd_pid() {
            let _ = Command::new("kill").arg(pid).status();
        }
    }
}

fn fake_node(root: &Path, common: &Path, n: u8, sshd: bool, service: bool) -> FakeNode {
    let dir = root.join(format!("node{n}"));
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let node = FakeNode {
        n,
        dir: dir.clone(),
        service: None,
    };
    let ns = node.ns();
    sh(&format!("ip netns add {ns}"));
    sh(&format!("ip link add vh{n} type veth peer name vn{n}"));
    sh(&format!("ip link set vn{n} netns {ns}"));
    sh(&format!(
        "ip addr add 10.213.{}.1/24 dev vh{n} && ip link set vh{n} up",
        100 + n
    ));
    node.in_ns(&format!(
        "ip link set lo up && ip link set vn{n} name eth0 && ip addr add {}/24 dev eth0 && ip link set eth0 up && ip link add eth1 type veth peer name eth1p && ip link set eth1 up && ip link set eth1p up",
        node.ip()
    ));
    if !sshd {
        return node;
    }
    // Accounts: the host's, plus a uid-0 test account with a password.
    let hash = sh(&format!("openssl passwd -6 -salt vdinode{n} '{PASSWORD}'"));
    let mut passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd.push_str(&format!(
        "vdinode:x:0:0:vdi test node:{}/home:/bin/sh\n",
        common.display()
    ));
    std::fs::write(dir.join("passwd"), passwd).unwrap();
    let mut shadow = std::fs::read_to_string("/etc/shadow").unwrap_or_default();
    shadow.push_str(&format!("vdinode:{}:19000:0:99999:7:::\n", hash.trim()));
    std::fs::write(dir.join("shadow"), shadow).unwrap();
    sh(&format!("chmod 0640 {}", dir.join("shadow").display()));
    sh(&format!(
        "ssh-keygen -q -t ed25519 -N '' -f {}",
        dir.join("host_key").display()
    ));
    let c = common.display();
    std::fs::write(
        dir.join("sshd_config"),
        format!(
            "ListenAddress {}\nPort 22\nHostKey {c}/host_key\nPidFile {c}/sshd.pid\nUsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nPermitRootLogin yes\nPubkeyAuthentication yes\nAuthorizedKeysFile .ssh/authorized_keys\nStrictModes no\n",
            node.ip()
        ),
    )
    .unwrap();
    let img = dir.join("storage.img");
    sh(&format!(
        "truncate -s 512M {0} && mkfs.ext4 -q -F {0}",
        img.display()
    ));
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "listen = \"{}:5000\"\ndata_dir = \"{c}/data\"\nlibvirt_uri = \"test:///default\"\ndomain_type = \"qemu\"\nnode_heartbeat_s = 1\nmonitor_down_after_s = 3\nmonitor_sample_s = 1\nshutdown_command = \"touch {c}/powered-off\"\nreboot_command = \"touch {c}/rebooted\"\n",
            node.ip()
        ),
    )
    .unwrap();
    node.spawn_sshd(common);
    assert!(node.sshd_pid().is_some(), "sshd of node {n} did not start");
    let mut node = node;
    if service {
        let log = std::fs::File::create(root.join(format!("node{n}.log"))).unwrap();
        let script = format!(
            "{} exec {BIN} serve --config {c}/config.toml",
            node.mounts(common)
        );
        node.service = Some(
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &ns,
                    "unshare",
                    "-m",
                    "--propagation",
                    "private",
                ])
                .args(["sh", "-c", &script])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let t0 = Instant::now();
        while health(&node.ip()).is_none() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "node {n} did not start: {}",
                std::fs::read_to_string(root.join(format!("node{n}.log"))).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    node
}

/// A node service's health, asked over its veth.
fn health(ip: &str) -> Option<Value> {
    use std::io::{Read, Write};
    let addr: std::net::SocketAddr = format!("{ip}:5000").parse().unwrap();
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let body = text.split("\r\n\r\n").nth(1)?;
    serde_json::from_str::<Value>(body)
        .ok()
        .map(|v| v["data"].clone())
}

/// Kills the controller when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn call(port: u16, token: &str, path: &str, body: Value) -> (u16, Value) {
    http(port, "POST", path, Some(token), Some(&body))
}

fn ok(port: u16, token: &str, path: &str, body: Value) -> Value {
    let (st, v) = call(port, token, path, body);
    assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{path}: {v}");
    v["data"].clone()
}

fn code(port: u16, token: &str, path: &str, body: Value) -> i64 {
    let (st, v) = call(port, token, path, body);
    assert_ne!(st, 200, "{path} should fail: {v}");
    v["code"].as_i64().unwrap()
}

/// The rows of a `?searchtype=all` listing.
fn listing(port: u16, token: &str, path: &str) -> Vec<Value> {
    let (_, v) = http(
        port,
        "GET",
        &format!("{path}?searchtype=all"),
        Some(token),
        None,
    );
    v["data"]["results"].as_array().cloned().unwrap_or_default()
}

fn nodes(port: u16, token: &str) -> Vec<Value> {
    listing(port, token, "/api/v1.0/node/")
}

fn instances(port: u16, token: &str) -> Vec<Value> {
    listing(port, token, "/api/v1.0/instance/")
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Uploads a fresh 16 MiB qcow2 image; the image as recorded.
fn upload_image(port: u16, token: &str, dir: &Path, name: &str) -> Value {
    let f = dir.join(format!("{name}.qcow2"));
    sh(&format!("qemu-img create -q -f qcow2 {} 16M", f.display()));
    // Some bytes that differ per image, so the copies can be told apart.
    sh(&format!(
        "qemu-io -f qcow2 -c 'write -P 0x{:02x} 0 64k' {} >/dev/null",
        name.len(),
        f.display()
    ));
    let bytes = std::fs::read(&f).unwrap();
    let (st, v) = common::try_http(
        port,
        "PUT",
        &format!("/api/v1/base_image/upload?name={name}&os_type=linux"),
        Some(token),
        &bytes,
    )
    .unwrap();
    assert_eq!(st, 200, "{v}");
    v["data"].clone()
}

fn md5_here(path: &str) -> String {
    sh(&format!("md5sum {path}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// md5 of a file as the node's service sees it (its mount namespace).
fn md5_on(n: &FakeNode, path: &str) -> String {
    n.in_ns_out(&format!("md5sum {path}"))
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn group_uuid(port: u16, token: &str, name: &str) -> String {
    let (_, g) = http(
        port,
        "GET",
        &format!("/api/v1.0/desktop_group/?searchtype=single&name={name}"),
        Some(token),
        None,
    );
    g["data"]["uuid"].as_str().unwrap().to_string()
}

/// Every file under `dir` that contains `needle`.
fn files_with(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                if b.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p);
                }
            }
        }
    }
    hits
}

#[test]
fn check_join_down_and_delete_over_ssh() {
    if reexec_inside(INSIDE, "check_join_down_and_delete_over_ssh") {
        return;
    }
    // Namespace names live in a private /run/netns (gone with this namespace).
    sh("mkdir -p /run/sshd /run/netns && mount -t tmpfs tmpfs /run/netns && ip link set lo up");
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let common = root.path().join("node");
    let storage = root.path().join("storage");
    std::fs::create_dir_all(&common).unwrap();
    std::fs::create_dir_all(&storage).unwrap();
    // The controller: a management NIC, a data NIC, its storage partition.
    sh("ip link add ethm type veth peer name ethm-peer && ip link add ethd type veth peer name ethd-peer");
    for l in ["ethm", "ethm-peer", "ethd", "ethd-peer"] {
        sh(&format!("ip link set {l} up"));
    }
    sh("ip addr add 10.213.60.2/24 dev ethm");
    let img = root.path().join("ctl-storage.img");
    sh(&format!(
        "truncate -s 512M {0} && mkfs.ext4 -q -F {0}",
        img.display()
    ));
    sh(&format!(
        "mount -o loop {} {}",
        img.display(),
        storage.display()
    ));
    let port = free_port();
    let data = root.path().join("ctl");
    let ctl_log = root.path().join("ctl.log");
    // The controller (again after a crash: its log goes on).
    let controller = |exit_after: Option<&str>| {
        let mut c = Command::new(BIN);
        if let Some(at) = exit_after {
            c.env("VDI_SAGA_EXIT_AFTER", at);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&ctl_log)
            .unwrap();
        Killed(
            c.args([
                "serve",
                "--listen",
                &format!("0.0.0.0:{port}"),
                "--data-dir",
            ])
            .arg(&data)
            .args(["--libvirt-uri", "test:///default", "--log-level", "debug"])
            .args([
                "--node-command",
                &format!("{BIN} --config {}/config.toml", common.display()),
            ])
            .args(["--node-ssh-user", "vdinode", "--node-ssh-timeout-s", "5"])
            .args([
                "--node-join-timeout-s",
                "30",
                "--node-heartbeat-s",
                "1",
                "--monitor-down-after-s",
                "3",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
        )
    };
    let mut ctl = controller(None);
    wait_healthy(port, Duration::from_secs(20));
    let setup = std::fs::read_to_string(data.join("setup-token")).unwrap();
    let (st, v) = http(
        port,
        "POST",
        "/api/v1/setup/admin",
        None,
        Some(&json!({"setup_token": setup.trim(), "name": "admin", "password": "admin-pw-123"})),
    );
    assert_eq!(st, 200, "{v}");
    let (_, v) = http(
        port,
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "admin", "password": "admin-pw-123"})),
    );
    let token = v["data"]["access_token"].as_str().unwrap().to_string();
    let t = token.as_str();
    let init = ok(
        port,
        t,
        "/api/v1/controller/init",
        json!({"ip": "10.213.60.2", "network_name": "default", "switch_name": "sw0",
               "switch_type": "flat", "storages": {storage.to_str().unwrap(): "1,2,3,4"},
               "is_compute": true, "manage_interface": "ethm", "image_interface": "ethm",
               "data_interface": "ethd"}),
    );
    let pool = init["pool_uuid"].as_str().unwrap().to_string();
    let switch = init["switch_uuid"].as_str().unwrap().to_string();
    let network = init["network_uuid"].as_str().unwrap().to_string();
    // A base image and a template on it before any node joins: joining
    // sends both.
    let base = upload_image(port, t, root.path(), "tiny");
    let tpl = ok(
        port,
        t,
        "/api/v1/template/create",
        json!({"name": "tpl", "os_type": "linux", "vcpu": 1, "ram": 0.125, "network_uuid": "",
               "data_disks": [], "system_disk": {"image_id": base["uuid"], "size": 1}}),
    );
    let tpl = tpl["uuid"].as_str().unwrap().to_string();

    let mut n1 = fake_node(root.path(), &common, 1, true, true);
    let n2 = fake_node(root.path(), &common, 2, true, true);
    let _n3 = fake_node(root.path(), &common, 3, true, false);
    let _n4 = fake_node(root.path(), &common, 4, false, false);
    assert_eq!(health(&n1.ip()).unwrap()["role"], "setup");

    // Failures against real sshd, each with its own code.
    let check = |ip: &str, pw: &str| json!({"ip": ip, "root_pwd": pw, "check": true});
    assert_eq!(
        code(port, t, "/api/v1/node/check", check(&n1.ip(), "wrong")),
        20234
    );
    assert_eq!(
        code(
            port,
            t,
            "/api/v1/node/check",
            check("10.213.104.2", PASSWORD)
        ),
        20232
    );
    assert_eq!(
        code(
            port,
            t,
            "/api/v1/node/check",
            check("10.213.199.2", PASSWORD)
        ),
        20231
    );
    assert_eq!(
        code(
            port,
            t,
            "/api/v1/node/check",
            check("10.213.103.2", PASSWORD)
        ),
        20236
    );
    let add = |ip: &str| {
        json!({"password": PASSWORD, "ip": ip, "pool_uuid": pool, "network_uuid": network,
               "switch_uuid": switch, "interface": "eth1", "manage_interface": "eth0",
               "image_interface": "eth0"})
    };
    // Not checked yet: refused before anything happens.
    assert_eq!(code(port, t, "/api/v1/node/add", add(&n1.ip())), 20239);

    // A good check: facts from the node's own binary, its host key pinned.
    let c1 = ok(port, t, "/api/v1/node/check", check(&n1.ip(), PASSWORD));
    assert!(
        c1["host_key"].as_str().unwrap().starts_with("SHA256:"),
        "{c1}"
    );
    assert_eq!(c1["service"]["role"], "setup");
    assert_eq!(c1["version"], env!("CARGO_PKG_VERSION"));
    let names: Vec<&str> = c1["interface_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["interface"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"eth0") && names.contains(&"eth1"),
        "{names:?}"
    );
    assert_eq!(c1["role_paths"][0]["present"], true, "{c1}");

    // The host key changes between check and add: refused, nothing done.
    ok(port, t, "/api/v1/node/check", check(&n2.ip(), PASSWORD));
    n2.new_host_key(&common);
    assert_eq!(code(port, t, "/api/v1/node/add", add(&n2.ip())), 20235);
    assert!(!n2.dir.join("data/role.toml").exists());
    assert_eq!(nodes(port, t).len(), 1);

    // Join node 1 for real.
    let joined = ok(port, t, "/api/v1/node/add", add(&n1.ip()));
    let n1_uuid = joined["uuid"].as_str().unwrap().to_string();
    assert!(n1.dir.join("data/role.toml").exists());
    let keys = std::fs::read_to_string(n1.dir.join("home/.ssh/authorized_keys")).unwrap();
    assert!(keys.contains("vdi-appliance"), "{keys}");
    wait_for("node 1 in compute role", Duration::from_secs(20), || {
        health(&n1.ip()).is_some_and(|h| h["role"] == "compute")
    });
    // A controller killed half-way through a join (right after the node
    // was recorded): at the next start its saga is unwound on both sides.
    drop(ctl);
    ctl = controller(Some("node/add:record"));
    wait_healthy(port, Duration::from_secs(20));
    ok(port, t, "/api/v1/node/check", check(&n2.ip(), PASSWORD));
    let body = add(&n2.ip()).to_string();
    let answer = common::try_http(port, "POST", "/api/v1/node/add", Some(t), body.as_bytes());
    assert!(
        answer.is_none(),
        "the controller should have died: {answer:?}"
    );
    let status = ctl.0.wait().unwrap();
    assert_eq!(status.code(), Some(86), "the crash failpoint");
    assert!(n2.dir.join("data/role.toml").exists(), "half joined");
    drop(ctl);
    let _ctl = controller(None);
    wait_healthy(port, Duration::from_secs(20));
    assert_eq!(nodes(port, t).len(), 2, "node 2 is not recorded");
    assert!(!n2.dir.join("data/role.toml").exists(), "node 2 left");
    let keys =
        std::fs::read_to_string(n2.dir.join("home/.ssh/authorized_keys")).unwrap_or_default();
    assert!(!keys.contains("vdi-appliance"), "{keys}");
    wait_for("node 2 back in setup", Duration::from_secs(20), || {
        health(&n2.ip()).is_some_and(|h| h["role"] == "setup")
    });
    let (_, tasks) = http(port, "GET", "/api/v1.0/task/?page_size=100", Some(t), None);
    // The newest join of node 2.
    let last = tasks["data"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{tasks}"))
        .iter()
        .filter(|x| {
            x["kind"] == "node/add" && x["target"].as_str().is_some_and(|g| g.contains(&n2.ip()))
        })
        .max_by_key(|x| x["created_at"].as_str().unwrap_or("").to_string())
        .cloned();
    let last = last.unwrap_or_default();
    assert_eq!(last["state"], "failed", "{tasks}");
    assert!(last["log"].to_string().contains("undone"), "{last}");

    // And node 2, checked again under its new key.
    ok(port, t, "/api/v1/node/check", check(&n2.ip(), PASSWORD));
    let j2 = ok(port, t, "/api/v1/node/add", add(&n2.ip()));
    let n2_uuid = j2["uuid"].as_str().unwrap().to_string();
    let all = nodes(port, t);
    assert_eq!(all.len(), 3);
    let row = all.iter().find(|n| n["uuid"] == n1_uuid.as_str()).unwrap();
    assert_eq!(row["role"], "compute");
    assert_eq!(row["status"], "up");
    assert_eq!(row["pool_uuid"], pool.as_str());
    assert!(row["memory_gb"].as_f64().unwrap() > 0.0, "{row}");
    // The data NIC is the switch's uplink on the node.
    let (_, sw) = http(
        port,
        "GET",
        "/api/v1.0/vswitch/?searchtype=all",
        Some(t),
        None,
    );
    assert!(sw.to_string().contains(&n1_uuid), "{sw}");
    // An admin login on a node is impossible: it has no setup token.
    assert!(!n1.dir.join("data/setup-token").exists());

    // The password is nowhere: not in the store, the logs, the tasks.
    let needle = PASSWORD.as_bytes();
    assert_eq!(files_with(&data, needle), Vec::<PathBuf>::new());
    for f in [
        ctl_log.clone(),
        root.path().join("node1.log"),
        root.path().join("node2.log"),
    ] {
        let text = std::fs::read(&f).unwrap();
        assert!(
            !text.windows(needle.len()).any(|w| w == needle),
            "{} holds the password",
            f.display()
        );
    }
    let (_, tasks) = http(port, "GET", "/api/v1.0/task/?searchtype=all", Some(t), None);
    assert!(!tasks.to_string().contains(PASSWORD));

    // Both nodes pulled the base image at joining: same md5 on their own
    // storage (seen inside each node's mount namespace).
    let base_path = base["path"].as_str().unwrap().to_string();
    let want = md5_here(&base_path);
    assert_eq!(want, base["md5_sum"].as_str().unwrap());
    for n in [&n1, &n2] {
        assert_eq!(md5_on(n, &base_path), want, "node {}", n.n);
    }
    // The pool's networks were pushed: node 1 bridges its uplink eth1.
    let bridge = format!("brq{}", &network.replace('-', "")[..11]);
    wait_for("the bridge on node 1", Duration::from_secs(10), || {
        n1.in_ns_ok(&format!("ip -o link show eth1 | grep -q 'master {bridge}'"))
    });
    // A later upload goes to every node of the pool in a task.
    let second = upload_image(port, t, root.path(), "second");
    let task = second["distribute_task"]
        .as_str()
        .expect("a distribution task");
    wait_for("the distribution task", Duration::from_secs(30), || {
        let (_, v) = http(port, "GET", &format!("/api/v1/task/{task}"), Some(t), None);
        assert_ne!(v["data"]["state"], "failed", "{v}");
        v["data"]["state"] == "succeeded"
    });
    let second_path = second["path"].as_str().unwrap().to_string();
    for n in [&n1, &n2] {
        assert_eq!(md5_on(n, &second_path), md5_here(&second_path));
    }
    // A damaged copy on node 2 is sent again by retransmit.
    n2.in_ns_ok(&format!("echo rot > {second_path}"));
    ok(
        port,
        t,
        "/api/v1/resource_pool/images/retransmit",
        json!({"image_id": second["uuid"], "ipaddr": n2.ip()}),
    );
    assert_eq!(md5_on(&n2, &second_path), md5_here(&second_path));
    // Deleting it here deletes the nodes' copies.
    ok(
        port,
        t,
        "/api/v1/resource_pool/images/delete",
        json!({"image_id": second["uuid"]}),
    );
    for n in [&n1, &n2] {
        assert!(
            !n.in_ns_ok(&format!("test -e {second_path}")),
            "node {}",
            n.n
        );
    }

    // A desktop group spread over both nodes with create_info: each
    // node holds an overlay on the template's version it pulled.
    ok(
        port,
        t,
        "/api/v1/desktop/personal/create",
        json!({"name": "spread", "owner_id": 1, "template_uuid": tpl, "allocate_type": 1, "vcpu": 1,
               "ram": 0.125, "sys_restore": 1, "data_restore": 0, "desktop_type": 1, "instance_num": 2,
               "prefix": "sp", "postfix": 3, "create_info": {n1.ip(): 1, n2.ip(): 1}}),
    );
    let desktops = instances(port, t);
    assert_eq!(desktops.len(), 2, "{desktops:?}");
    let mut hosts: Vec<String> = desktops
        .iter()
        .map(|d| d["node_uuid"].as_str().unwrap_or_default().to_string())
        .collect();
    hosts.sort();
    let mut want_hosts = vec![n1_uuid.clone(), n2_uuid.clone()];
    want_hosts.sort();
    assert_eq!(hosts, want_hosts, "{desktops:?}");
    for n in [&n1, &n2] {
        let overlays = n.in_ns_out(&format!(
            "find {} -path '*instances/*' -name '*.qcow2' ! -path '*_base*'",
            storage.display()
        ));
        let overlay = overlays
            .lines()
            .next()
            .unwrap_or_else(|| panic!("no overlay on node {}", n.n));
        let info = n.in_ns_out(&format!("qemu-img info -U --output=json {overlay}"));
        assert!(info.contains("_base"), "node {}: {info}", n.n);
    }
    ok(
        port,
        t,
        "/api/v1/desktop/personal/start",
        json!({"uuid": group_uuid(port, t, "spread")}),
    );
    wait_for(
        "desktops active on both nodes",
        Duration::from_secs(20),
        || {
            let l = instances(port, t);
            !l.is_empty() && l.iter().all(|d| d["status"] == "active")
        },
    );
    // Node 2 cannot leave while it hosts a desktop.
    assert_eq!(
        code(port, t, "/api/v1/node/delete", json!({"uuid": n2_uuid})),
        20240
    );

    // Node 1's service stops answering: it is marked down.
    let mut svc = n1.service.take().unwrap();
    svc.kill().unwrap();
    svc.wait().unwrap();
    wait_for("node 1 down", Duration::from_secs(15), || {
        nodes(port, t)
            .iter()
            .any(|n| n["uuid"] == n1_uuid.as_str() && n["status"] == "down")
    });
    // Its desktop follows: unknown; node 2's stays active.
    wait_for("node 1's desktop unknown", Duration::from_secs(15), || {
        let l = instances(port, t);
        !l.is_empty()
            && l.iter().all(|d| {
                let on1 = d["node_uuid"] == n1_uuid.as_str();
                d["status"] == if on1 { "unknown" } else { "active" }
            })
    });
    let g = group_uuid(port, t, "spread");
    ok(port, t, "/api/v1/desktop/personal/stop", json!({"uuid": g}));
    ok(
        port,
        t,
        "/api/v1/desktop/personal/delete",
        json!({"uuid": g}),
    );

    // Power: a node through its internal API; the controller only by force.
    ok(port, t, "/api/v1/node/reboot", json!({"uuid": n2_uuid}));
    wait_for("node 2 reboot command", Duration::from_secs(10), || {
        n2.dir.join("rebooted").exists()
    });
    let ctl_uuid = init["node_uuid"].as_str().unwrap().to_string();
    assert_eq!(
        code(port, t, "/api/v1/node/shutdown", json!({"uuid": ctl_uuid})),
        20241
    );
    assert_eq!(
        code(port, t, "/api/v1/node/delete", json!({"uuid": ctl_uuid})),
        20241
    );

    // Delete: the node leaves (role file and key gone) and its records go.
    ok(port, t, "/api/v1/node/delete", json!({"uuid": n1_uuid}));
    assert!(!n1.dir.join("data/role.toml").exists());
    let keys = std::fs::read_to_string(n1.dir.join("home/.ssh/authorized_keys")).unwrap();
    assert!(!keys.contains("vdi-appliance"), "{keys}");
    ok(port, t, "/api/v1/node/delete", json!({"uuid": n2_uuid}));
    wait_for("node 2 back in setup", Duration::from_secs(20), || {
        health(&n2.ip()).is_some_and(|h| h["role"] == "setup")
    });
    assert_eq!(nodes(port, t).len(), 1);

    drop((n1, n2));
    sh(&format!("umount -l {}", storage.display()));
}
