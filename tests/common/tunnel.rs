//! A client for the tunnels on the service's port: `CONNECT` (the SPICE
//! proxy), the console gateway's WebSocket (handshake and frames), and the
//! SPICE link handshake, for the API and real-libvirt tiers.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;

use serde_json::Value;

use super::wire::Wire;

/// Sends a SPICE link message for the main channel through `s` and reads
/// the reply's header and error code: (magic, major version, error).
pub fn spice_link_reply(s: &mut TcpStream) -> ([u8; 4], u32, u32) {
    let mut msg = b"REDQ".to_vec();
    for v in [2u32, 2, 18] {
        msg.extend_from_slice(&v.to_le_bytes()); // major, minor, size of what follows
    }
    msg.extend_from_slice(&0u32.to_le_bytes()); // connection id: a new session
    msg.extend_from_slice(&[1, 0]); // channel type main, channel id 0
    for v in [0u32, 0, 18] {
        msg.extend_from_slice(&v.to_le_bytes()); // no caps; caps offset
    }
    s.write_all(&msg).unwrap();
    let mut head = [0u8; 20];
    s.read_exact(&mut head).expect("a SPICE link reply");
    let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap());
    ([head[0], head[1], head[2], head[3]], word(4), word(16))
}

/// The SPICE link handshake through `s`: our `REDQ` out, the server's
/// `REDQ` with major version 2 back.
pub fn spice_link(s: &mut TcpStream) {
    let (magic, major, _) = spice_link_reply(s);
    assert_eq!(&magic, b"REDQ", "{magic:?}");
    assert_eq!(major, 2);
}

/// Sends `CONNECT target`; `Ok(stream)` on 200, else the status and
/// envelope.
pub fn connect(w: &Wire, target: &str) -> Result<TcpStream, (u16, Value)> {
    connect_stream(&format!("127.0.0.1:{}", w.port), target)
}

/// `connect` to the service at `addr` (`ip:port`).
pub fn connect_stream(addr: &str, target: &str) -> Result<TcpStream, (u16, Value)> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(s, "CONNECT {target} HTTP/1.0\r\nHost: {target}\r\n\r\n").unwrap();
    let text = head_of(&mut s);
    if text.starts_with("HTTP/1.1 200 ") {
        return Ok(s);
    }
    Err((text[9..12].parse().unwrap(), body_of(&text, &mut s)))
}

/// The client's side of a WebSocket handshake on `path`; the reader after
/// the `101` head, or the refusal's status and envelope.
pub fn ws_open(w: &Wire, path: &str) -> Result<BufReader<TcpStream>, (u16, Value)> {
    let mut s = w.connect();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n"
    )
    .unwrap();
    let text = head_of(&mut s);
    let status: u16 = text[9..12].parse().unwrap();
    if status == 101 {
        let lower = text.to_ascii_lowercase();
        assert!(
            lower.contains("\r\nsec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
            "{text}"
        );
        assert!(
            lower.contains("\r\nsec-websocket-protocol: binary\r\n"),
            "{text}"
        );
        return Ok(BufReader::new(s));
    }
    Err((status, body_of(&text, &mut s)))
}

/// A response head, read a byte at a time (nothing after it is read).
pub fn head_of(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1, "{head:?}");
        head.push(b[0]);
    }
    String::from_utf8(head).unwrap()
}

/// The envelope after a head with `Content-Length`.
pub fn body_of(head: &str, s: &mut TcpStream) -> Value {
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

pub fn ws_read(r: &mut BufReader<TcpStream>) -> (u8, Vec<u8>) {
    let mut h = [0u8; 2];
    r.read_exact(&mut h).unwrap();
    assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
    let mut len = (h[1] & 0x7F) as usize;
    if len == 126 {
        let mut b = [0u8; 2];
        r.read_exact(&mut b).unwrap();
        len = u16::from_be_bytes(b) as usize;
    } else if len == 127 {
        let mut b = [0u8; 8];
        r.read_exact(&mut b).unwrap();
        len = u64::from_be_bytes(b) as usize;
    }
    let mut p = vec![0u8; len];
    r.read_exact(&mut p).unwrap();
    (h[0] & 0x0F, p)
}

/// A masked client frame (payload under 126 bytes): `first` is the FIN
/// bit and the opcode.
pub fn ws_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut f = vec![first, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Sends `payload` as one binary frame.
pub fn ws_send(r: &mut BufReader<TcpStream>, payload: &[u8]) {
    r.get_mut().write_all(&ws_frame(0x82, payload)).unwrap();
}

/// Reads frames until `n` payload bytes of binary data arrived.
pub fn ws_data(r: &mut BufReader<TcpStream>, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < n {
        let (op, p) = ws_read(r);
        assert_eq!(op, 2, "a binary frame");
        out.extend(p);
    }
    out
}
