//! What the benchmarks share: the release binary started with a notify
//! socket (time to READY), a JSON POST over a plain socket, resident memory
//! of a process, and `wrk` runs parsed into throughput and latency.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_vdi-appliance");

pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn post(port: u16, path: &str, body: &Value) -> Value {
    post_with(port, path, "", body)
}

/// Creates the `bench` admin in the store at `data` (offline, before the
/// service starts).
pub fn bench_admin(data: &Path) {
    let out = Command::new(BIN)
        .args([
            "admin",
            "set-password",
            "--name",
            "bench",
            "--password",
            "bench-password",
            "--data-dir",
        ])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Logs in as the `bench` admin the benchmarks create; the access token.
pub fn login_bench(port: u16) -> String {
    let login = post(
        port,
        "/api/v1/login",
        &serde_json::json!({"name": "bench", "password": "bench-password"}),
    );
    login["data"]["access_token"]
        .as_str()
        .expect("login")
        .to_string()
}

/// `post` with `Authorization: Bearer <token>`.
pub fn post_auth(port: u16, path: &str, token: &str, body: &Value) -> Value {
    post_with(
        port,
        path,
        &format!("Authorization: Bearer {token}\r\n"),
        body,
    )
}

fn post_with(port: u16, path: &str, headers: &str, body: &Value) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let b = body.to_string();
    write!(s, "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}", b.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap_or(Value::Null)
}

pub struct Svc {
    pub child: Child,
    pub port: u16,
    pub ready_ms: f64,
}

impl Drop for Svc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(data: &Path, sock: &Path, extra: &[&str]) -> Svc {
    let _ = std::fs::remove_file(sock);
    let notify = UnixDatagram::bind(sock).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t0 = Instant::now();
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--libvirt-uri",
            "test:///default",
            "--log-level",
            "warn",
            "--data-dir",
        ])
        .arg(data)
        .args(extra)
        .env("NOTIFY_SOCKET", sock)
        // As systemd/vdi-appliance.service runs it.
        .env("MALLOC_ARENA_MAX", "2")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    loop {
        let n = notify.recv(&mut buf).expect("READY=1 within 30 s");
        if String::from_utf8_lossy(&buf[..n]).contains("READY=1") {
            break;
        }
    }
    let ready_ms = t0.elapsed().as_secs_f64() * 1000.0;
    Svc {
        child,
        port,
        ready_ms,
    }
}

pub fn rss_kb(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub struct Wrk {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

impl Wrk {
    /// One result line: `label` (padded to 30), rate, p50, p99, errors.
    pub fn print(&self, label: &str) {
        println!(
            "{label:<30} {:>8.0} req/s  p50 {:.2} ms  p99 {:.2} ms  non-2xx {}",
            self.rps, self.p50_ms, self.p99_ms, self.errors
        );
    }
}

/// Resident memory of a process in kB: total, private heap, mapped files.
pub fn rss_parts(pid: u32) -> (u64, u64, u64) {
    (
        rss_kb(pid, "VmRSS:"),
        rss_kb(pid, "RssAnon:"),
        rss_kb(pid, "RssFile:"),
    )
}

pub fn to_ms(v: &str) -> f64 {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => f64::NAN,
    }
}

pub fn wrk(url: &str, token: &str, conns: u64, secs: u64) -> Wrk {
    wrk_with(url, token, conns, secs, None)
}

/// `wrk` with a Lua script (e.g. a POST body).
pub fn wrk_with(url: &str, token: &str, conns: u64, secs: u64, script: Option<&Path>) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{conns}"),
        &format!("-d{secs}s"),
        "--latency",
        "-H",
    ])
    .arg(format!("Authorization: Bearer {token}"));
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).output().expect("wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
    };
    let non2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Wrk {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map(|v| to_ms(&v)).unwrap_or(f64::NAN),
        p99_ms: field("99%").map(|v| to_ms(&v)).unwrap_or(f64::NAN),
        errors: non2xx,
    }
}
