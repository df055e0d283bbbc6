//! Console benchmark (`make bench-console`): what the service's one port
//! costs a console. A stand-in graphics server on loopback plays the VM: a
//! key byte is answered at once with one byte (keystroke to screen), and
//! `F` with a full-screen update (1920 x 1080 x 4 bytes, raw). Measured in
//! one run, the same server reached three ways:
//!   - direct: a TCP connection to the graphics server (the floor);
//!   - proxy: `CONNECT` through the service (remote-viewer's way);
//!   - gateway: the WebSocket bridge (the browser console's way).
//!
//! Reported: round-trip latency median and p99 (BENCH_KEYS, default 2000),
//! and throughput of full-screen updates (BENCH_FRAMES, default 40), each
//! as a ratio against direct. The service runs in process over fakes (the
//! bridge code is the real one); run it on the release build.

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::json;
use vdi_appliance::http::server::Limits;

#[path = "../tests/common/mod.rs"]
mod common;
use common::appliance::harness;
use common::tunnel::{connect, ws_open, ws_send};
use common::wire::Wire;

const FULL: usize = 1920 * 1080 * 4;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The stand-in VM: one byte back per key, a full screen per `F`.
fn graphics_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let _ = s.set_nodelay(true);
                let screen = vec![0x5Au8; FULL];
                let mut b = [0u8; 1];
                while let Ok(1) = s.read(&mut b) {
                    let sent = if b[0] == b'F' {
                        s.write_all(&screen)
                    } else {
                        s.write_all(&b)
                    };
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// One way to reach the server: send bytes, read bytes.
trait Path {
    fn send(&mut self, b: &[u8]);
    fn recv(&mut self, n: usize);
}

struct Raw(TcpStream);

impl Path for Raw {
    fn send(&mut self, b: &[u8]) {
        self.0.write_all(b).unwrap();
    }
    fn recv(&mut self, n: usize) {
        let mut left = n;
        let mut buf = vec![0u8; 256 * 1024];
        while left > 0 {
            let k = self.0.read(&mut buf[..left.min(256 * 1024)]).unwrap();
            assert!(k > 0, "closed");
            left -= k;
        }
    }
}

struct Ws(BufReader<TcpStream>);

impl Path for Ws {
    fn send(&mut self, b: &[u8]) {
        ws_send(&mut self.0, b);
    }
    fn recv(&mut self, n: usize) {
        let mut left = n;
        let mut buf = vec![0u8; 70 * 1024];
        while left > 0 {
            let mut h = [0u8; 2];
            self.0.read_exact(&mut h).unwrap();
            let mut len = (h[1] & 0x7F) as usize;
            if len == 126 {
                let mut x = [0u8; 2];
                self.0.read_exact(&mut x).unwrap();
                len = u16::from_be_bytes(x) as usize;
            } else if len == 127 {
                let mut x = [0u8; 8];
                self.0.read_exact(&mut x).unwrap();
                len = u64::from_be_bytes(x) as usize;
            }
            if buf.len() < len {
                buf.resize(len, 0);
            }
            self.0.read_exact(&mut buf[..len]).unwrap();
            left -= len;
        }
    }
}

struct Figures {
    median_us: f64,
    p99_us: f64,
    mb_s: f64,
}

fn measure(p: &mut dyn Path, keys: usize, frames: usize) -> Figures {
    // Warm up.
    for _ in 0..50 {
        p.send(b"k");
        p.recv(1);
    }
    let mut lat: Vec<f64> = (0..keys)
        .map(|_| {
            let t = Instant::now();
            p.send(b"k");
            p.recv(1);
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let t = Instant::now();
    for _ in 0..frames {
        p.send(b"F");
        p.recv(FULL);
    }
    let secs = t.elapsed().as_secs_f64();
    Figures {
        median_us: lat[lat.len() / 2],
        p99_us: lat[lat.len() * 99 / 100],
        mb_s: (frames * FULL) as f64 / secs / 1e6,
    }
}

fn main() {
    let keys = env_num("BENCH_KEYS", 2000);
    let frames = env_num("BENCH_FRAMES", 40);
    let t = harness();
    let addr = graphics_server();
    let uuid = t.running_template("bench", addr);
    let w = Wire::start(t.app.clone(), Limits::default());

    let direct = {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        measure(&mut Raw(s), keys, frames)
    };
    let proxy = {
        let c = t.ok("/api/v1/template/console", json!({"uuid": uuid}));
        let s = connect(&w, &format!("{}:5900", c["host"].as_str().unwrap())).unwrap();
        s.set_nodelay(true).unwrap();
        measure(&mut Raw(s), keys, frames)
    };
    let gateway = {
        let o = t.ok(
            "/api/v1/console/open",
            json!({"kind": "template", "uuid": uuid, "protocol": "vnc"}),
        );
        let ws = ws_open(&w, o["path"].as_str().unwrap()).unwrap();
        ws.get_ref().set_nodelay(true).unwrap();
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        measure(&mut Ws(ws), keys, frames)
    };
    println!(
        "console bench: {keys} keystrokes, {frames} full-screen updates of {} MB, loopback",
        FULL as f64 / 1e6
    );
    println!(
        "{:<8} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "path", "median µs", "p99 µs", "MB/s", "latency x", "throughput"
    );
    for (name, f) in [
        ("direct", &direct),
        ("proxy", &proxy),
        ("gateway", &gateway),
    ] {
        println!(
            "{name:<8} {:>12.1} {:>12.1} {:>12.0} {:>12.2} {:>11.0}%",
            f.median_us,
            f.p99_us,
            f.mb_s,
            f.median_us / direct.median_us,
            100.0 * f.mb_s / direct.mb_s
        );
    }
}
