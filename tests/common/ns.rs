//! Namespaced real tiers: a shell step that must succeed, re-running one
//! test inside fresh network and mount namespaces, and the world the
//! first-boot and console tiers run the real binary in.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, wait_healthy, BIN};

/// Runs `cmd` with `sh -c`; its standard output. Panics with its error
/// output when it fails.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs test `name` again inside new network and mount namespaces, with
/// `marker` set; returns false when already inside (the caller then does
/// the work), true after the inner run passed.
pub fn reexec_inside(marker: &str, name: &str) -> bool {
    if std::env::var(marker).is_ok() {
        return false;
    }
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(marker, "1")
        .output()
        .expect("unshare (util-linux) runs; the real tier needs root");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "{name} failed inside its namespaces");
    // The inner run must really have run the test (not filtered it out).
    assert!(
        text.contains("1 passed"),
        "{name} did not run inside: {text}"
    );
    true
}

/// The namespace's world: loopback, a management NIC with an address and a
/// default route, a data NIC without one, and a loop-mounted storage.
pub struct World {
    pub dir: tempfile::TempDir,
    pub storage: PathBuf,
}

pub fn world() -> World {
    // Under target/ (a real disk filesystem; /tmp may be a tmpfs).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let storage = dir.path().join("storage");
    std::fs::create_dir_all(&storage).unwrap();
    // A real filesystem of its own, as a partition would be (a bind mount
    // of a directory is not offered as storage); sparse, 2 GiB so the
    // console journey's desktops fit.
    let img = dir.path().join("storage.img");
    sh(&format!(
        "truncate -s 2G {0} && mkfs.ext4 -q -F {0}",
        img.display()
    ));
    sh(&format!(
        "mount -o loop {} {}",
        img.display(),
        storage.display()
    ));
    sh("ip link set lo up");
    sh("ip link add ethm type veth peer name ethm-peer");
    sh("ip link add ethd type veth peer name ethd-peer");
    for l in ["ethm", "ethm-peer", "ethd", "ethd-peer"] {
        sh(&format!("ip link set {l} up"));
    }
    sh("ip addr add 10.213.60.2/24 dev ethm");
    sh("ip route add default via 10.213.60.1 dev ethm");
    World { dir, storage }
}

pub struct Svc {
    pub child: Child,
    pub port: u16,
}

impl Svc {
    pub fn start(data: &Path) -> Svc {
        Svc::start_with(data, &[])
    }

    /// `start` with more command-line flags.
    pub fn start_with(data: &Path, extra: &[&str]) -> Svc {
        let port = free_port();
        let log = std::fs::File::create(data.with_extension("log")).unwrap();
        let child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data)
            .args(["--libvirt-uri", "test:///default", "--log-level", "info"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_healthy(port, Duration::from_secs(30));
        Svc { child, port }
    }

    /// SIGTERM and wait: a clean stop.
    pub fn stop(mut self) {
        sh(&format!("kill -TERM {}", self.child.id()));
        let st = self.child.wait().unwrap();
        assert!(st.success(), "exit after SIGTERM: {st}");
    }
}

impl Drop for Svc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates the first admin with the setup token the service wrote; its
/// access token.
pub fn first_admin(port: u16, data: &Path, password: &str) -> String {
    let setup = std::fs::read_to_string(data.join("setup-token")).unwrap();
    let body =
        serde_json::json!({"setup_token": setup.trim(), "name": "admin", "password": password});
    assert_eq!(
        super::http(port, "POST", "/api/v1/setup/admin", None, Some(&body)).0,
        200
    );
    login(port, password)
}

pub fn login(port: u16, password: &str) -> String {
    let (st, v) = super::http(
        port,
        "POST",
        "/api/v1/login",
        None,
        Some(&serde_json::json!({"name": "admin", "password": password})),
    );
    assert_eq!(st, 200, "{v}");
    v["data"]["access_token"].as_str().unwrap().to_string()
}
