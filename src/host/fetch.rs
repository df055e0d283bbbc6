//! The pull port: a node downloads a file from its controller's internal
//! API into a `.part` file, continuing where an earlier try stopped. The
//! real adapter is a streaming HTTP/1.1 `GET` on smol.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smol::io::{AsyncReadExt, AsyncWriteExt};

use super::node_client::{envelope_data, parse_response};
use super::BoxFuture;
use crate::error::{Code, Error, Result};

pub trait Fetch: Send + Sync {
    /// `GET base+path&offset=<length of part>` with the bearer `token`,
    /// appending the answer to `part` and adding each chunk to `done`.
    /// Returns the whole file's length once `part` holds all of it. A
    /// refusal by the controller is `ImageDistributionFailed`; a transfer
    /// that broke off is `NodeRemote` (the part is worth continuing).
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
            let refused = |m: String| Error::new(Code::ImageDistributionFailed, m);
            envelope_data(path, st, &body).map_err(|e| refused(e.message))?;
            return Err(refused(format!("{base}{path}: HTTP {status}")));
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
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("/s/a b&c"), "/s/a%20b%26c");
        assert_eq!(encode("v1.qcow2"), "v1.qcow2");
    }

    /// Serves `data` from the asked offset; the first answer stops after
    /// `cut` bytes (a dropped connection), the third is an error envelope.
    fn server(data: Vec<u8>, cut: usize) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for (i, s) in l.incoming().enumerate() {
                let mut s = s.unwrap();
                let mut line = String::new();
                let mut r = BufReader::new(s.try_clone().unwrap());
                r.read_line(&mut line).unwrap();
                let mut auth = false;
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    auth |= h.starts_with("Authorization: Bearer tok");
                    if h == "\r\n" {
                        break;
                    }
                }
                assert!(auth, "no token");
                let offset: usize = line
                    .split("offset=")
                    .nth(1)
                    .and_then(|x| x.split_whitespace().next())
                    .and_then(|x| x.parse().ok())
                    .unwrap();
                if i == 2 {
                    let body =
                        br#"{"code":21201,"msg":"The node credential is unknown","data":null}"#;
                    let _ = write!(
                        s,
                        "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = s.write_all(body);
                    continue;
                }
                let rest = &data[offset..];
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                    rest.len()
                );
                let n = if i == 0 { cut } else { rest.len() };
                let _ = s.write_all(&rest[..n]);
            }
        });
        port
    }

    #[test]
    fn a_dropped_pull_continues_where_it_stopped() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let port = server(data.clone(), 70_000);
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("v1.qcow2.part");
        let f = HttpFetch {
            stall: Duration::from_secs(5),
        };
        let base = format!("http://127.0.0.1:{port}");
        let done = AtomicU64::new(0);
        let path = "/api/v1/internal/file?path=/x";
        let e = smol::block_on(f.fetch(&base, "tok", path, &part, &done)).unwrap_err();
        assert!(e.message.contains("closed after 70000"), "{}", e.message);
        assert_eq!(e.code, Code::NodeRemote);
        assert_eq!(std::fs::metadata(&part).unwrap().len(), 70_000);
        assert_eq!(done.load(Ordering::SeqCst), 70_000);
        let total = smol::block_on(f.fetch(&base, "tok", path, &part, &done)).unwrap();
        assert_eq!(total, 300_000);
        assert_eq!(std::fs::read(&part).unwrap(), data);
        assert_eq!(done.load(Ordering::SeqCst), 300_000);
        // An error envelope comes back as the controller's message.
        let e = smol::block_on(f.fetch(&base, "tok", path, &part, &done)).unwrap_err();
        assert!(e.message.contains("credential is unknown"), "{}", e.message);
        assert_eq!(e.code, Code::ImageDistributionFailed);
    }
}
