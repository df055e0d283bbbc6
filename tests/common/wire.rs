//! The service's own HTTP server (`http::server::serve_with`) on a real
//! loopback socket, in process over any app, stopped when its handle drops;
//! and a raw HTTP/1.1 response reader for tests that speak the wire.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use vdi_appliance::http::server::{self, Limits};
use vdi_appliance::http::State;

/// A server thread: one smol executor serving `app` on 127.0.0.1:`port`.
pub struct Wire {
    pub port: u16,
    stop: Option<smol::channel::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Wire {
    pub fn start(app: tide::Server<State>, limits: Limits) -> Wire {
        Wire::start_on(app, limits, "127.0.0.1:0")
    }

    /// `start` on another address (`ip:0` picks a port).
    pub fn start_on(app: tide::Server<State>, limits: Limits, addr: &str) -> Wire {
        let listener = server::bind(addr).unwrap();
        let port = listener.get_ref().local_addr().unwrap().port();
        let (tx, rx) = smol::channel::bounded::<()>(1);
        let thread = std::thread::spawn(move || {
            let ex = Arc::new(smol::Executor::new());
            let stop = async move {
                let _ = rx.recv().await;
            };
            smol::block_on(ex.run(server::serve_with(app, listener, ex.clone(), stop, limits)));
        });
        Wire {
            port,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// A connection whose reads and writes give up after 20 s.
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One response as it came over the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&self.body)))
    }
}

fn line(r: &mut impl BufRead) -> Option<String> {
    let mut l = String::new();
    match r.read_line(&mut l) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(l.trim_end_matches(['\r', '\n']).to_string()),
    }
}

/// Reads one response (`head_only`: a reply to HEAD, no body); `None` if
/// the connection ends (or times out) before a whole one arrived.
pub fn read_response(r: &mut BufReader<TcpStream>, head_only: bool) -> Option<Resp> {
    let status_line = line(r)?;
    let mut parts = status_line.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let mut headers = Vec::new();
    loop {
        let l = line(r)?;
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut resp = Resp {
        status,
        headers,
        body: Vec::new(),
    };
    if head_only || status < 200 || status == 204 || status == 304 {
        return Some(resp);
    }
    if let Some(len) = resp.header("content-length") {
        let mut body = vec![0u8; len.parse().ok()?];
        r.read_exact(&mut body).ok()?;
        resp.body = body;
    } else if resp
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let size = usize::from_str_radix(line(r)?.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                while !line(r)?.is_empty() {}
                break;
            }
            let mut chunk = vec![0u8; size + 2];
            r.read_exact(&mut chunk).ok()?;
            resp.body.extend_from_slice(&chunk[..size]);
        }
    } else {
        r.read_to_end(&mut resp.body).ok()?;
    }
    Some(resp)
}

/// True once the server has closed its side (a read gives EOF or reset).
pub fn closed(r: &mut BufReader<TcpStream>) -> bool {
    let mut b = [0u8; 1];
    match r.read(&mut b) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}
