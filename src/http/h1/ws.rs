//! The server side of RFC 6455 WebSocket, as much as the console gateway
//! needs: the handshake's accept key, and a frame reader and writer over
//! byte streams. Client frames must be masked; a data frame's payload
//! (binary, text or continuation, any fragmentation) is passed on as bytes;
//! pings are answered; a close is echoed. Frames are bounded.

use std::io;

use sha1::{Digest, Sha1};
use smol::io::{AsyncRead, AsyncReadExt};

/// The largest client frame payload taken (browser consoles send input
/// events of a few bytes; SPICE clients a few kB).
pub const FRAME_MAX: u64 = 1 << 20;
/// Server frames carry at most this much.
pub const SEND_MAX: usize = 64 * 1024;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    base64(&h.finalize())
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Frame opcodes.
pub mod op {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// Close codes.
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const PROTOCOL: u16 = 1002;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
}

/// One frame from the client, unmasked.
#[derive(Debug, PartialEq)]
pub struct Frame {
    /// The last frame of its message.
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Why reading a frame failed: the close code to send, and a reason.
#[derive(Debug, PartialEq)]
pub enum Broken {
    /// The client's connection ended (or failed).
    Gone,
    /// A frame that breaks the protocol or our bounds.
    Bad(u16, &'static str),
}

impl From<io::Error> for Broken {
    fn from(_: io::Error) -> Self {
        Broken::Gone
    }
}

/// Reads one client frame.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Frame, Broken> {
    let mut h = [0u8; 2];
    r.read_exact(&mut h).await?;
    let (fin, rsv, opcode) = (h[0] & 0x80 != 0, h[0] & 0x70, h[0] & 0x0F);
    let masked = h[1] & 0x80 != 0;
    if rsv != 0 {
        return Err(Broken::Bad(close::PROTOCOL, "reserved bits set"));
    }
    if !masked {
        return Err(Broken::Bad(close::PROTOCOL, "client frames must be masked"));
    }
    if !matches!(
        opcode,
        op::CONTINUATION | op::TEXT | op::BINARY | op::CLOSE | op::PING | op::PONG
    ) {
        return Err(Broken::Bad(close::PROTOCOL, "unknown opcode"));
    }
    let mut len = u64::from(h[1] & 0x7F);
    if len == 126 {
        let mut b = [0u8; 2];
        r.read_exact(&mut b).await?;
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        r.read_exact(&mut b).await?;
        len = u64::from_be_bytes(b);
    }
    if opcode >= op::CLOSE && (len > 125 || !fin) || opcode == op::CLOSE && len == 1 {
        return Err(Broken::Bad(close::PROTOCOL, "bad control frame"));
    }
    if len > FRAME_MAX {
        return Err(Broken::Bad(close::TOO_BIG, "frame too large"));
    }
    let mut key = [0u8; 4];
    r.read_exact(&mut key).await?;
    // Grown as the bytes arrive: a header alone reserves nothing.
    let mut payload = Vec::new();
    r.take(len).read_to_end(&mut payload).await?;
    if payload.len() as u64 != len {
        return Err(Broken::Gone);
    }
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    Ok(Frame {
        fin,
        opcode,
        payload,
    })
}

/// A whole unmasked server frame (`fin` set).
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// A close frame with its code and a short reason.
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend(reason.bytes().take(120));
    frame(op::CLOSE, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(first: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }

    fn read(bytes: &[u8]) -> Result<Frame, Broken> {
        let mut r = bytes;
        smol::block_on(read_frame(&mut r))
    }

    #[test]
    fn accept_key_of_the_rfc_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn frames_of_every_length_form_are_unmasked() {
        for n in [0usize, 5, 125, 126, 300, 65535, 65536, 70000] {
            let p: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            let f = read(&masked(0x82, &p, [1, 2, 3, 4])).unwrap();
            assert_eq!(f.opcode, op::BINARY);
            assert_eq!(f.payload, p, "length {n}");
            let out = frame(op::BINARY, &p);
            assert_eq!(&out[out.len() - n..], &p[..]);
        }
    }

    #[test]
    fn broken_frames_are_refused_with_a_close_code() {
        // Unmasked.
        assert_eq!(
            read(&[0x82, 0x01, 0xAA]),
            Err(Broken::Bad(close::PROTOCOL, "client frames must be masked"))
        );
        // Reserved bits, an unknown opcode, a fragmented or long ping.
        assert!(matches!(
            read(&masked(0xC2, b"x", [0; 4])),
            Err(Broken::Bad(close::PROTOCOL, _))
        ));
        assert!(matches!(
            read(&masked(0x83, b"x", [0; 4])),
            Err(Broken::Bad(close::PROTOCOL, _))
        ));
        assert!(matches!(
            read(&masked(0x09, b"x", [0; 4])),
            Err(Broken::Bad(close::PROTOCOL, _))
        ));
        assert!(matches!(
            read(&masked(0x89, &[0; 126], [0; 4])),
            Err(Broken::Bad(close::PROTOCOL, _))
        ));
        // A close whose payload is a single byte (no whole code).
        assert!(matches!(
            read(&masked(0x88, &[3], [0; 4])),
            Err(Broken::Bad(close::PROTOCOL, _))
        ));
        let f = read(&masked(0x02, b"part", [5; 4])).unwrap();
        assert!(!f.fin && f.payload == b"part");
        // Larger than FRAME_MAX: refused from its header alone.
        let mut big = vec![0x82, 0x80 | 127];
        big.extend_from_slice(&(FRAME_MAX + 1).to_be_bytes());
        assert_eq!(
            read(&big),
            Err(Broken::Bad(close::TOO_BIG, "frame too large"))
        );
        // Cut short.
        assert_eq!(
            read(&masked(0x82, b"hello", [9; 4])[..6]),
            Err(Broken::Gone)
        );
        let c = close_frame(close::POLICY, "signed out");
        assert_eq!(&c[..4], &[0x88, 12, 0x03, 0xF0]);
    }
}
