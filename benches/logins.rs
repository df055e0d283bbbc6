//! Terminal-login benchmark (`make bench-logins`): a classroom logging in
//! at the bell. Every login is logged and flushed to disk before it
//! answers (acknowledged means durable). Measured in one run on the
//! release binary, each terminal from its own loopback address:
//!   - the floor: `GET /api/v1/health` with the same client and concurrency;
//!   - logins one after another (one flush each);
//!   - logins from BENCH_CONNS terminals at once (flushes are shared).
//!
//! Environment: BENCH_CONNS (32), BENCH_LOGINS (20 per terminal).

use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use serde_json::{json, Value};

mod common;
#[path = "../tests/common/from.rs"]
mod from;
use common::*;

fn call(from: Ipv4Addr, port: u16, req: &str) -> u16 {
    let mut s = from::connect_from(from, port).expect("connect");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn login_req(user: usize) -> String {
    let b = json!({"username": format!("s{user:03}"), "password": "secret1",
                   "mac": format!("52:54:00:00:{:02x}:{:02x}", user / 256, user % 256)})
    .to_string();
    format!("POST /api/v1/terminal/personal/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}", b.len())
}

/// `conns` clients, each from its own address, each sending `per` requests
/// made by `req(client)`; requests per second (all must answer 200).
fn run(
    port: u16,
    conns: usize,
    per: usize,
    req: impl Fn(usize) -> String + Sync + Send + 'static,
) -> f64 {
    let req = Arc::new(req);
    let bar = Arc::new(Barrier::new(conns + 1));
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let (bar, req) = (bar.clone(), req.clone());
            std::thread::spawn(move || {
                let from = Ipv4Addr::new(127, 0, 3, c as u8 + 1);
                let r = req(c);
                bar.wait();
                for _ in 0..per {
                    assert_eq!(call(from, port, &r), 200, "{r}");
                }
            })
        })
        .collect();
    bar.wait();
    let t0 = Instant::now();
    for t in threads {
        t.join().unwrap();
    }
    (conns * per) as f64 / t0.elapsed().as_secs_f64()
}

fn main() {
    let conns = env_num("BENCH_CONNS", 32) as usize;
    let per = env_num("BENCH_LOGINS", 20) as usize;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    bench_admin(&data);
    let svc = start(&data, &dir.path().join("notify.sock"), &[]);
    let port = svc.port;
    let token = login_bench(port);
    post_auth(
        port,
        "/api/v1/group/create",
        &token,
        &json!({"name": "class", "group_type": "personal"}),
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET /api/v1.0/voi/education/group/?searchtype=single&name=class HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let v: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
    let group = v["data"]["uuid"].as_str().unwrap().to_string();
    for u in 0..conns {
        let r = post_auth(
            port,
            "/api/v1/group/user/create",
            &token,
            &json!({"group_uuid": group, "user_name": format!("s{u:03}"), "passwd": "secret1", "enabled": 1}),
        );
        assert_eq!(r["code"], json!(0), "{r}");
    }
    let health = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let floor = run(port, conns, per * 4, move |_| health.to_string());
    let one = run(port, 1, per * 2, login_req);
    let many = run(port, conns, per, login_req);
    println!(
        "terminal logins, each flushed before it answers ({conns} terminals, {per} logins each):"
    );
    println!("  health (floor), {conns} clients:     {floor:8.0} req/s");
    println!("  logins one at a time:              {one:8.0} /s");
    println!("  logins from {conns} terminals at once: {many:8.0} /s");
    println!("  ratio concurrent / sequential logins: {:.2}", many / one);
    println!(
        "  ratio concurrent logins / health floor: {:.3}",
        many / floor
    );
}
