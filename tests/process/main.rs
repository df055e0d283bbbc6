//! Process tier: the built binary on a loopback port with a temporary data
//! directory and a test NOTIFY_SOCKET — readiness, watchdog, crash safety
//! (kill -9) and a clean SIGTERM shutdown.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

#[path = "../common/mod.rs"]
mod common;
use common::{free_port, http, BIN};

// Under load: logged requests in bursts, then a kill -9.
mod stress;

struct Service {
    child: Child,
    port: u16,
    notify: UnixDatagram,
    seen: Vec<String>,
}

impl Service {
    fn start(data: &Path, sock: &Path) -> Service {
        Service::start_with(data, sock, "test:///default")
    }

    fn start_with(data: &Path, sock: &Path, libvirt_uri: &str) -> Service {
        let _ = std::fs::remove_file(sock);
        let notify = UnixDatagram::bind(sock).unwrap();
        notify
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let port = free_port();
        // systemd sets WATCHDOG_PID to the service's own pid: `exec` keeps
        // the shell's pid, so the shell can name it before the binary starts.
        let child = Command::new("sh")
            .args(["-c", "WATCHDOG_PID=$$ exec \"$0\" \"$@\"", BIN])
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data)
            .args(["--libvirt-uri", libvirt_uri, "--log-level", "debug"])
            .env("NOTIFY_SOCKET", sock)
            .env("WATCHDOG_USEC", "400000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut svc = Service {
            child,
            port,
            notify,
            seen: Vec::new(),
        };
        svc.wait_for("READY=1", Duration::from_secs(20));
        svc
    }

    /// Collects notifications until one contains `what`.
    fn wait_for(&mut self, what: &str, limit: Duration) {
        let until = Instant::now() + limit;
        let mut buf = [0u8; 512];
        while Instant::now() < until {
            if self.seen.iter().any(|m| m.contains(what)) {
                return;
            }
            if let Ok(n) = self.notify.recv(&mut buf) {
                self.seen
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        panic!("no {what} within {limit:?}; saw {:?}", self.seen);
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn login(port: u16, pw: &str) -> String {
    let (st, v) = http(
        port,
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "admin", "password": pw})),
    );
    assert_eq!(st, 200, "{v}");
    v["data"]["access_token"].as_str().unwrap().to_string()
}

fn tmp() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("notify.sock");
    (dir, data, sock)
}

#[test]
fn survives_kill_9_and_stops_cleanly_on_sigterm() {
    let (_dir, data, sock) = tmp();
    let mut svc = Service::start(&data, &sock);
    // Watchdog pings arrive (WATCHDOG_USEC was set).
    svc.wait_for("WATCHDOG=1", Duration::from_secs(5));
    let (st, h) = http(svc.port, "GET", "/api/v1/health", None, None);
    assert_eq!((st, &h["data"]["store"]["ok"]), (200, &json!(true)));
    // The real libvirt adapter (virt crate) reaches libvirt's test driver.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, h) = http(svc.port, "GET", "/api/v1/health", None, None);
        if h["data"]["libvirt"]["reachable"] == json!(true) {
            break;
        }
        assert!(
            Instant::now() < until,
            "libvirt test driver not reachable: {h}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // First admin through the setup token the service wrote.
    let token_file = data.join("setup-token");
    let setup = std::fs::read_to_string(&token_file).unwrap();
    let body = json!({"setup_token": setup.trim(), "name": "admin", "password": "first-pass-1"});
    assert_eq!(
        http(svc.port, "POST", "/api/v1/setup/admin", None, Some(&body)).0,
        200
    );
    let token = login(svc.port, "first-pass-1");
    for i in 0..20 {
        let (st, v) = http(
            svc.port,
            "POST",
            "/api/v1/resource_pool/create",
            Some(&token),
            Some(&json!({"name": format!("pool-{i}")})),
        );
        assert_eq!(st, 200, "{v}");
    }

    // kill -9 right after the last acknowledged write.
    let status = Command::new("kill")
        .args(["-9", &svc.pid()])
        .status()
        .unwrap();
    assert!(status.success());
    svc.child.wait().unwrap();
    drop(svc);

    let mut svc = Service::start(&data, &sock);
    assert!(
        !token_file.exists(),
        "no new setup token once an admin exists"
    );
    // Sessions survive a restart; the acknowledged data is intact.
    let (st, v) = http(
        svc.port,
        "GET",
        "/api/v1.0/resource_pool/?page_size=100",
        Some(&token),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["count"], 20);
    assert_eq!(v["data"]["results"][0]["default"], true);

    // SIGTERM: STOPPING=1, exit status 0.
    Command::new("kill")
        .args(["-TERM", &svc.pid()])
        .status()
        .unwrap();
    svc.wait_for("STOPPING=1", Duration::from_secs(10));
    let until = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(s) = svc.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < until, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(code.success(), "exit status {code}");
}

#[test]
fn offline_commands_set_password_export_import() {
    let (dir, data, sock) = tmp();
    let run = |args: &[&str], d: &Path| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--data-dir")
            .arg(d)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = run(
        &[
            "admin",
            "set-password",
            "--name",
            "admin",
            "--password",
            "offline-pass",
        ],
        &data,
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(
        &[
            "admin",
            "set-password",
            "--name",
            "admin",
            "--password",
            "short",
        ],
        &data,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`password`"));
    let (code, _) = run(&["admin", "frobnicate"], &data);
    assert_eq!(code, 2);
    // `--password -` reads the password from standard input.
    let mut child = Command::new(BIN)
        .args([
            "admin",
            "set-password",
            "--name",
            "ops",
            "--password",
            "-",
            "--data-dir",
        ])
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"from-stdin-pass\n").unwrap();
    assert!(child.wait().unwrap().success());

    let svc = Service::start(&data, &sock);
    let token = login(svc.port, "offline-pass");
    let (st, _) = http(
        svc.port,
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "ops", "password": "from-stdin-pass"})),
    );
    assert_eq!(st, 200, "the password read from stdin works");
    http(
        svc.port,
        "POST",
        "/api/v1/resource_pool/create",
        Some(&token),
        Some(&json!({"name": "kept", "desc": "d"})),
    );
    // The store is locked while the service runs.
    let (code, out) = run(&["export", "--out", "/dev/null"], &data);
    assert_eq!(code, 1);
    assert!(out.contains("in use"), "{out}");
    drop(svc);

    let dump = dir.path().join("dump.json");
    let (code, out) = run(&["export", "--out", dump.to_str().unwrap()], &data);
    assert_eq!(code, 0, "{out}");
    let other = dir.path().join("other");
    let (code, out) = run(&["import", "--in", dump.to_str().unwrap()], &other);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&["import", "--in", dump.to_str().unwrap()], &other);
    assert_eq!(
        code, 1,
        "a second import into a non-empty store is refused: {out}"
    );

    let svc = Service::start(&other, &sock);
    let token = login(svc.port, "offline-pass");
    let (_, v) = http(
        svc.port,
        "GET",
        "/api/v1.0/resource_pool/?searchtype=single&name=kept",
        Some(&token),
        None,
    );
    assert_eq!(v["data"]["desc"], "d");
}

#[test]
fn serves_while_libvirt_is_unreachable() {
    let (_dir, data, sock) = tmp();
    let svc = Service::start_with(
        &data,
        &sock,
        "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
    );
    let port = svc.port;
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, v) = http(port, "GET", "/api/v1/health", None, None);
        assert_eq!(st, 200);
        if v["data"]["libvirt"]["reachable"] == json!(false) {
            assert!(v["data"]["libvirt"]["error"]
                .as_str()
                .unwrap()
                .contains("unreachable"));
            break;
        }
        assert!(
            Instant::now() < until,
            "libvirt never reported unreachable: {v}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A store whose disk stops answering (the filesystem frozen with
/// `fsfreeze`): SIGTERM still ends the process, by the hard stop deadline
/// (shutdown_grace + 10 s), with status 70 so that systemd restarts it.
#[test]
fn sigterm_ends_the_process_while_the_store_is_stuck() {
    struct Frozen(PathBuf, #[allow(dead_code)] tempfile::TempDir);
    impl Drop for Frozen {
        fn drop(&mut self) {
            let _ = Command::new("fsfreeze").arg("-u").arg(&self.0).status();
            // Lazily: the service may still hold files there a moment longer.
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disk.img");
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let run = |cmd: &str, args: &[&std::ffi::OsStr]| {
        let st = Command::new(cmd).args(args).status().unwrap();
        assert!(st.success(), "{cmd} {args:?}");
    };
    run(
        "truncate",
        &["-s".as_ref(), "64M".as_ref(), img.as_os_str()],
    );
    run("mkfs.ext4", &["-q".as_ref(), img.as_os_str()]);
    run(
        "mount",
        &[
            "-o".as_ref(),
            "loop".as_ref(),
            img.as_os_str(),
            mnt.as_os_str(),
        ],
    );
    let guard = Frozen(mnt.clone(), dir);
    let data = mnt.join("data");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data)
        .args([
            "--libvirt-uri",
            "test:///default",
            "--shutdown-grace-s",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_healthy(port, Duration::from_secs(20));
    let setup = std::fs::read_to_string(data.join("setup-token")).unwrap();
    let body = json!({"setup_token": setup.trim(), "name": "admin", "password": "first-pass-1"});
    assert_eq!(
        http(port, "POST", "/api/v1/setup/admin", None, Some(&body)).0,
        200
    );
    let token = login(port, "first-pass-1");

    run("fsfreeze", &["-f".as_ref(), mnt.as_os_str()]);
    // A write that must reach the disk before it answers: it cannot.
    let stuck = std::thread::spawn(move || {
        common::try_http(
            port,
            "POST",
            "/api/v1/resource_pool/create",
            Some(&token),
            br#"{"name": "during-freeze", "desc": "x"}"#,
        )
    });
    // Stuck for real: one of the service's threads waits in the kernel on
    // the frozen disk (state D) before the stop is asked for.
    let tasks = format!("/proc/{}/task", child.id());
    let blocked = || {
        std::fs::read_dir(&tasks)
            .into_iter()
            .flatten()
            .flatten()
            .any(|t| {
                std::fs::read_to_string(t.path().join("stat"))
                    .is_ok_and(|s| s.rsplit(") ").next().unwrap_or("").starts_with('D'))
            })
    };
    let until = Instant::now() + Duration::from_secs(20);
    while !blocked() {
        assert!(
            Instant::now() < until,
            "no thread of the service blocked on the frozen store"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let t0 = Instant::now();
    run("kill", &["-TERM".as_ref(), child.id().to_string().as_ref()]);
    // Bounded wait for the exit: the unit's TimeoutStopSec is 45 s. A
    // thread blocked in the frozen filesystem keeps even an exited process
    // from being reaped until the thaw, so "exited" is the main thread gone
    // (a zombie in /proc) or a status.
    let stat = format!("/proc/{}/stat", child.id());
    loop {
        let zombie = std::fs::read_to_string(&stat)
            .map(|s| s.rsplit(") ").next().unwrap_or("").starts_with('Z'))
            .unwrap_or(true);
        if zombie || child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(40) {
            // The guard thaws as this unwinds; the child is killed after.
            let _ = child.kill();
            panic!("still running 40 s after SIGTERM with its store stuck");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(guard);
    let code = child.wait().unwrap();
    assert_eq!(code.code(), Some(70), "a forced stop exits with 70: {code}");
    let _ = stuck.join();
}
