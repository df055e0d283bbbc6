//! Helpers shared by the test tiers: an HTTP client for the real binary
//! over a socket, and a login for the app driven in process.

#![allow(dead_code)]

pub mod appliance;
pub mod from;
pub mod ns;
pub mod real;
pub mod rig;
pub mod tunnel;
pub mod wire;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_vdi-appliance");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 client (Connection: close).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    try_http(port, method, path, token, body.as_bytes())
        .unwrap_or_else(|| panic!("{method} {path}: no HTTP answer on port {port}"))
}

/// One HTTP/1.1 exchange with a raw body; `None` while nothing answers
/// (a guest still booting behind QEMU's port forward accepts the
/// connection and closes it).
pub fn try_http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Option<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(180))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let out = String::from_utf8_lossy(&out).into_owned();
    let status: u16 = out.split_whitespace().nth(1)?.parse().ok()?;
    let (head, rest) = out.split_once("\r\n\r\n")?;
    let text = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Waits until `cond` holds (work another thread finishes), failing after
/// `limit`: a wait for a condition, not for a timer.
pub fn until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `GET /api/v1/health` until the service answers.
pub fn wait_healthy(port: u16, limit: Duration) {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let (st, _) = http(port, "GET", "/api/v1/health", None, None);
            if st == 200 {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the service on port {port} did not come up within {limit:?}");
}

/// Logs in to an in-process app; returns the access token.
pub fn app_token(
    app: &tide::Server<vdi_appliance::http::State>,
    name: &str,
    password: &str,
) -> String {
    let body = serde_json::json!({"name": name, "password": password}).to_string();
    let (_, text) = smol::block_on(vdi_appliance::http::request(
        app,
        "POST",
        "/api/v1/login",
        None,
        Some(&body),
    ));
    serde_json::from_str::<Value>(&text).unwrap()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// One authenticated call to an in-process app: status and the JSON reply
/// (a reply that is not JSON comes back as a string value).
pub fn app_call(
    app: &tide::Server<vdi_appliance::http::State>,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (st, text) = smol::block_on(vdi_appliance::http::request(
        app,
        method,
        path,
        Some(token),
        body.map(|b| b.to_string()).as_deref(),
    ));
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A simulated process death while `task` ran (its saga left at a crash
/// failpoint): the task is put back to running, as the store would hold it,
/// and start-up recovery runs. Returns how many tasks it concluded.
pub fn restart_after_crash(
    s: &std::sync::Arc<vdi_appliance::service::Services>,
    task: &uuid::Uuid,
) -> usize {
    s.store
        .task_update(task, &|x| {
            x.state = vdi_appliance::domain::task::TaskState::Running;
            x.finished_at = None;
        })
        .unwrap();
    smol::block_on(vdi_appliance::tasks::recover_all(
        s,
        &vdi_appliance::tasks::builtin_owners(),
    ))
    .unwrap()
}

/// Runs a Node.js script of `tests/browser/` with `args` and `envs`;
/// whether it succeeded, and its output (stdout then stderr, also printed).
pub fn run_node(
    script: &str,
    args: &[&dyn AsRef<std::ffi::OsStr>],
    envs: &[(&str, &dyn AsRef<std::ffi::OsStr>)],
) -> (bool, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(script);
    let mut cmd = std::process::Command::new("node");
    cmd.arg(path);
    for a in args {
        cmd.arg(a);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let run = cmd
        .output()
        .expect("node runs (make deps-browser installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{text}");
    (run.status.success(), text)
}
