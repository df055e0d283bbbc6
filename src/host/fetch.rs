//! The pull port: a node downloads a file from its controller's internal
//! API into a `.part` file, continuing where an earlier try stopped. The
//! real adapter is a streaming HTTP/1.1 `GET` on smol.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smol::io::{AsyncReadExt, AsyncWriteExt};

use super::node_api::{envelope_data, parse_response};
use super::BoxFuture;
use crate::error::{Code, Error, Result};

pub trait Fetch: Send + Sync {
    /// `GET base+path&offset=<length of part>` with the bearer `token`,
    /// appending the answer to `part` and adding each chunk to `done`.
    /// Returns the whole file's length once `part` holds all of it.
    fn fetch<'a>(
        &'a self,
        base: &'a str,
        token: &'a str,
        path: &'a str,
        part: &'a Path,
        done: &'a AtomicU64,
    ) -> BoxFuture<'a, Result<u64>>;
}

/// Percent-encodes a query value.
pub fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The real adapter; a read that stalls for `stall` ends the try (the
/// `.part` stays for the next one).
pub struct HttpFetch {
    pub stall: Duration,
}

fn failed(msg: String) -> Error {
    Error::new(Code::NodeRemote, msg)
}

impl HttpFetch {
    async fn run(
        &self,
        base: &str,
        token: &str,
        path: &str,
        part: &Path,
        done: &AtomicU64,
    ) -> Result<u64> {
        let host = base
            .strip_prefix("http://")
            .map(|r| r.trim_end_matches('/'))
            .ok_or_else(|| Error::internal(format!("`{base}` is not an http:// address")))?;
        let have = match std::fs::metadata(part) {
            Ok(m) => m.len(),
            Err(_) => 0,
        };
        done.store(have, Ordering::SeqCst);
        let io = |e: std::io::Error| failed(format!("{base}{path}: {e}"));
        let stalled = || {
            failed(format!(
                "{base}{path}: no data for {} s",
                self.stall.as_secs()
            ))
        };
        let mut s = smol::net::TcpStream::connect(host).await.map_err(io)?;
        let req = format!(
            "GET {path}&offset={have} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.map_err(io)?;
        let mut buf = vec![0u8; 1 << 16];
        let mut head = Vec::new();
        // Headers first.
        let body_start = loop {
            let n = self
                .read(&mut s, &mut buf)
                .await
                .map_err(io)?
                .ok_or_else(stalled)?;
            if n == 0 {
                return Err(failed(format!("{base}{path}: closed before the headers")));
            }
            head.extend_from_slice(&buf[..n]);
            if let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
        };
        let text = String::from_utf8_lossy(&head[..body_start]).to_string();
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        if status != 200 {
            // An error envelope: read it whole.
            let mut rest = head.clone();
            s.read_to_end(&mut rest).await.map_err(io)?;
            let (st, body) = parse_response(&rest)
                .ok_or_else(|| failed(format!("{base}{path}: HTTP {status}")))?;
            envelope_data(path, st, &body)?;
            return Err(failed(format!("{base}{path}: HTTP {status}")));
        }
        let length: u64 = text
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .ok_or_else(|| failed(format!("{base}{path}: no Content-Length")))?;
        let mut f = smol::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(part)
            .await
            .map_err(|e| failed(format!("cannot write {}: {e}", part.display())))?;
        let mut got = 0u64;
        let mut chunk = head[body_start..].to_vec();
        loop {
            if !chunk.is_empty() {
                let take = chunk.len().min((length - got) as usize);
                f.write_all(&chunk[..take])
                    .await
                    .map_err(|e| failed(format!("cannot write {}: {e}", part.display())))?;
                got += take as u64;
                done.fetch_add(take as u64, Ordering::SeqCst);
            }
            if got >= length {
                break;
            }
            let n = self
                .read(&mut s, &mut buf)
                .await
                .map_err(io)?
                .ok_or_else(stalled)?;
            if n == 0 {
                f.flush().await.map_err(io)?;
                return Err(failed(format!(
                    "{base}{path}: the connection closed after {} of {length} bytes",
                    have + got
                )));
            }
            chunk = buf[..n].to_vec();
        }
        f.flush().await.map_err(io)?;
        f.sync_all().await.map_err(io)?;
        Ok(have + length)
    }

    /// One read, or `None` when nothing came for `stall`.
    async fn read(
        &self,
        s: &mut smol::net::TcpStream,
        buf: &mut [u8],
    ) -> std::io::Result<Option<usize>> {
        let read = async { s.read(buf).await.map(Some) };
        let stall = async {
            smol::Timer::after(self.stall).await;
            Ok(None)
        };
        smol::future::or(read, stall).await
    }
}

impl Fetch for HttpFetch {
    fn fetch<'a>(
        &'a self,
        base: &'a str,
        token: &'a str,
        path: &'a str,
        part: &'a Path,
        done: &'a AtomicU64,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.run(base, token, path, part, done))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::encode("/s/a b&c"), "/s/a%20b%26c");
        assert_eq!(super::encode("v1.qcow2"), "v1.qcow2");
    }
}
