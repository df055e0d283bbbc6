//! Process tier under load: logged requests arriving together (logins,
//! terminal logins, pool creates) in bursts, with a watchdog on health.
//! Every logged request flushes the store before it answers; sled 0.34's
//! `flush_async` deadlocked the whole store once about eight of them ran
//! at the same moment (no login needed). After the bursts the service is
//! killed with SIGKILL and started again: every acknowledged create must
//! still be there.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::common::from::connect_from;
use super::common::http;
use super::common::ns::Svc;
use serde_json::{json, Value};

/// Far longer than any answer takes here; a request still unanswered then
/// is a hung service.
const ANSWER: Duration = Duration::from_secs(30);

/// Starts the service on `data` again and logs in as the admin.
fn restart(data: &Path) -> (Svc, String) {
    let svc = Svc::start(data);
    let token = admin_login(svc.port);
    (svc, token)
}

fn admin_login(port: u16) -> String {
    let body = json!({"name": "admin", "password": "first-pass-1"});
    let (_, v) = http(port, "POST", "/api/v1/login", None, Some(&body));
    v["data"]["access_token"].as_str().unwrap().to_string()
}

/// One request on its own connection from `from`: the status and the
/// envelope, or `None` when nothing answered within [`ANSWER`].
fn send(
    from: std::net::Ipv4Addr,
    port: u16,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Option<(u16, Value)> {
    let mut s = connect_from(from, port)?;
    s.set_read_timeout(Some(ANSWER)).ok()?;
    let body = body.to_string();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body.as_bytes()).ok()?;
    read_reply(&mut s)
}

fn read_reply(s: &mut TcpStream) -> Option<(u16, Value)> {
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let text = String::from_utf8_lossy(&out);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let (_, body) = text.split_once("\r\n\r\n")?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// Polls health until told to stop; counts probes and records whether one
/// went unanswered.
struct Watchdog {
    stop: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    probes: Arc<AtomicU64>,
    worst_ms: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(port: u16) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicBool::new(false));
        let probes = Arc::new(AtomicU64::new(0));
        let worst_ms = Arc::new(AtomicU64::new(0));
        let (s, f, p, w) = (
            stop.clone(),
            failed.clone(),
            probes.clone(),
            worst_ms.clone(),
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let t0 = Instant::now();
                let ok = TcpStream::connect(("127.0.0.1", port))
                    .ok()
                    .and_then(|mut c| {
                        c.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                        c.write_all(
                            b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        )
                        .ok()?;
                        read_reply(&mut c)
                    });
                w.fetch_max(t0.elapsed().as_millis() as u64, Ordering::SeqCst);
                p.fetch_add(1, Ordering::SeqCst);
                if ok.map(|(st, _)| st) != Some(200) {
                    f.store(true, Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Watchdog {
            stop,
            failed,
            probes,
            worst_ms,
            thread: Some(thread),
        }
    }

    /// Stops it; fails the test if health ever went unanswered (5 s).
    fn finish(mut self, what: &str) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
        let probes = self.probes.load(Ordering::SeqCst);
        assert!(
            !self.failed.load(Ordering::SeqCst),
            "health stopped answering during {what} (after {probes} probes)"
        );
        assert!(probes > 0, "the watchdog never probed during {what}");
        eprintln!(
            "{what}: {probes} health probes, slowest {} ms",
            self.worst_ms.load(Ordering::SeqCst)
        );
    }
}

#[test]
fn logged_requests_in_bursts_keep_the_service_answering_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let svc = Svc::start(&data);
    let port = svc.port;
    let setup = std::fs::read_to_string(data.join("setup-token")).unwrap();
    let (st, _) = http(
        port,
        "POST",
        "/api/v1/setup/admin",
        None,
        Some(&json!({"setup_token": setup.trim(), "name": "admin", "password": "first-pass-1"})),
    );
    assert_eq!(st, 200);
    let token = admin_login(port);
    let (_, v) = http(
        port,
        "POST",
        "/api/v1/group/create",
        Some(&token),
        Some(&json!({"name": "class", "group_type": "personal"})),
    );
    assert_eq!(v["code"], json!(0), "{v}");
    let (_, v) = http(
        port,
        "GET",
        "/api/v1.0/voi/education/group/?searchtype=single&name=class",
        Some(&token),
        None,
    );
    let group = v["data"]["uuid"].as_str().unwrap().to_string();
    for i in 0..40 {
        let (_, v) = http(
            port,
            "POST",
            "/api/v1/group/user/create",
            Some(&token),
            Some(
                &json!({"group_uuid": group, "user_name": format!("s{i:02}"), "passwd": "secret1", "enabled": 1}),
            ),
        );
        assert_eq!(v["code"], json!(0), "{v}");
    }

    // The reproduction: eight logins hold their body back, then finish at once.
    let dog = Watchdog::start(port);
    let bar = Arc::new(Barrier::new(8));
    let held: Vec<_> = (0..8)
        .map(|_| {
            let bar = bar.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(ANSWER)).unwrap();
                s.write_all(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{").unwrap();
                bar.wait();
                s.write_all(b"}").unwrap();
                read_reply(&mut s)
            })
        })
        .collect();
    for h in held {
        let (st, v) = h.join().unwrap().expect("a held-back login got no answer");
        assert!(
            st >= 400 && v["code"].as_i64().is_some_and(|c| c != 0),
            "{st} {v}"
        );
    }
    dog.finish("eight held-back logins");

    // Bursts: wrong admin logins, terminal logins (each terminal from its
    // own address, as in a classroom), pool creates, together.
    let dog = Watchdog::start(port);
    let mut created = Vec::new();
    let t0 = Instant::now();
    let mut sent = 0;
    for burst in 0..4 {
        let bar = Arc::new(Barrier::new(120));
        let threads: Vec<_> = (0..120)
            .map(|i| {
                let (bar, token) = (bar.clone(), token.clone());
                std::thread::spawn(move || {
                    let from = std::net::Ipv4Addr::new(127, 0, 1, i as u8 + 1);
                    let (path, tok, body) = match i % 3 {
                        0 => (
                            "/api/v1/login",
                            None,
                            json!({"name": "admin", "password": format!("wrong-{i}")}),
                        ),
                        1 => (
                            "/api/v1/terminal/personal/login",
                            None,
                            json!({"username": format!("s{:02}", i / 3),
                              "password": "secret1", "mac": format!("52:54:00:00:00:{i:02x}")}),
                        ),
                        _ => (
                            "/api/v1/resource_pool/create",
                            Some(token),
                            json!({"name": format!("pool-{burst}-{i}"), "desc": "load"}),
                        ),
                    };
                    bar.wait();
                    let r = send(from, port, path, tok.as_deref(), &body);
                    (i % 3, body, r)
                })
            })
            .collect();
        for t in threads {
            let (kind, body, r) = t.join().unwrap();
            sent += 1;
            let (st, v) = r.unwrap_or_else(|| panic!("no answer to {body}"));
            let code = v["code"]
                .as_i64()
                .unwrap_or_else(|| panic!("not an envelope: {st} {v}"));
            match kind {
                0 => assert!(code != 0 && st >= 400, "{st} {v}"),
                1 => assert_eq!(code, 0, "terminal login {body}: {v}"),
                _ => {
                    assert_eq!(code, 0, "pool create {body}: {v}");
                    created.push(body["name"].as_str().unwrap().to_string());
                }
            }
        }
    }
    let took = t0.elapsed();
    dog.finish("four bursts of 120 logged requests");
    eprintln!(
        "{sent} logged requests in {took:?} ({:.0}/s)",
        sent as f64 / took.as_secs_f64()
    );
    assert_eq!(created.len(), 160);

    // Acknowledged means durable: SIGKILL, start again, every pool is there.
    drop(svc);
    let (svc, token) = restart(&data);
    let (_, v) = http(
        svc.port,
        "GET",
        "/api/v1.0/resource_pool/?searchtype=all&page_size=1000",
        Some(&token),
        None,
    );
    let names: std::collections::HashSet<&str> = v["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let lost: Vec<_> = created
        .iter()
        .filter(|n| !names.contains(n.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged pools lost after SIGKILL: {lost:?}"
    );

    // SIGKILL while creates are in flight: every pool that exists after the
    // restart has its operation-log entry (answered, or marked interrupted).
    let port = svc.port;
    let threads: Vec<_> = (0..40)
        .map(|i| {
            let token = token.clone();
            std::thread::spawn(move || {
                let body = json!({"name": format!("inflight-{i}"), "desc": "kill"});
                send(
                    std::net::Ipv4Addr::LOCALHOST,
                    port,
                    "/api/v1/resource_pool/create",
                    Some(&token),
                    &body,
                )
            })
        })
        .collect();
    let mut svc = svc;
    // Kill once the service has made some of them durable.
    let until = Instant::now() + ANSWER;
    loop {
        let (_, v) = http(
            port,
            "GET",
            "/api/v1.0/resource_pool/?searchtype=contain&name=inflight&page_size=1000",
            Some(&token),
            None,
        );
        if v["data"]["count"].as_u64().unwrap_or(0) >= 5 {
            break;
        }
        assert!(Instant::now() < until, "no in-flight create landed: {v}");
        std::thread::sleep(Duration::from_millis(5));
    }
    svc.child.kill().unwrap();
    svc.child.wait().unwrap();
    for t in threads {
        let _ = t.join();
    }
    drop(svc);
    let (svc, token) = restart(&data);
    let (_, pools) = http(
        svc.port,
        "GET",
        "/api/v1.0/resource_pool/?searchtype=contain&name=inflight&page_size=1000",
        Some(&token),
        None,
    );
    let (_, log) = http(
        svc.port,
        "GET",
        "/api/v1.0/operation_log/?searchtype=contain&action=resource_pool/create&page_size=1000",
        Some(&token),
        None,
    );
    let entries = log["data"]["results"].as_array().unwrap();
    let mut landed = 0;
    for p in pools["data"]["results"].as_array().unwrap() {
        landed += 1;
        let name = p["name"].as_str().unwrap();
        let e = entries
            .iter()
            .find(|e| e["target"].as_str().is_some_and(|t| t.contains(name)))
            .unwrap_or_else(|| panic!("pool {name} exists but has no operation-log entry"));
        let code = e["code"].as_i64().unwrap();
        assert!(code == 0 || code == 10150, "{e}");
    }
    assert!(landed >= 5, "{pools}");
    assert!(
        entries.iter().all(|e| e["code"].as_i64() != Some(-1)),
        "pending entries are concluded at start-up"
    );
}
