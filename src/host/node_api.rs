//! The internal-API port: one JSON `POST` to another appliance (controller
//! to node, node to controller) with a bearer token, answered with the
//! usual envelope. The real adapter is a small HTTP/1.1 client on smol.

use std::time::Duration;

use serde_json::Value;
use smol::io::{AsyncReadExt, AsyncWriteExt};

use super::BoxFuture;
use crate::error::{Code, Error, Result};

pub trait NodeApi: Send + Sync {
    /// `POST base+path` with `body`; the envelope's `data` on `code == 0`,
    /// else an error carrying the remote message (`NodeRemote`), or
    /// `NodeUnreachable`/`NodeTimeout` when it cannot be asked.
    fn call<'a>(
        &'a self,
        base: &'a str,
        token: &'a str,
        path: &'a str,
        body: Value,
    ) -> BoxFuture<'a, Result<Value>>;
}

pub struct Http {
    pub timeout: Duration,
}

/// `http://host:port` → `host:port`.
fn authority(base: &str) -> Result<&str> {
    base.strip_prefix("http://")
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| Error::internal(format!("`{base}` is not an http://host:port address")))
}

/// Undoes `Transfer-Encoding: chunked`.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        body = &body[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// Splits a whole HTTP/1.1 response into status and body.
pub fn parse_response(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = &raw[head_end + 4..];
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Some((
        status,
        if chunked {
            dechunk(body)?
        } else {
            body.to_vec()
        },
    ))
}

/// The envelope's data, or its error.
pub fn envelope_data(path: &str, status: u16, body: &[u8]) -> Result<Value> {
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        Error::new(
            Code::NodeRemote,
            format!("{path}: HTTP {status} without a JSON envelope"),
        )
    })?;
    match v.get("code").and_then(Value::as_i64) {
        Some(0) => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        _ => Err(Error::new(
            Code::NodeRemote,
            format!(
                "{path}: {} (code {}, HTTP {status})",
                v.get("msg").and_then(Value::as_str).unwrap_or("no message"),
                v.get("code").cloned().unwrap_or(Value::Null)
            ),
        )),
    }
}

impl Http {
    /// `GET base+path` without a token (a local service's `health`).
    pub async fn get(&self, base: &str, path: &str) -> Result<Value> {
        self.request("GET", base, "", path, None).await
    }

    async fn request(
        &self,
        method: &str,
        base: &str,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let host = authority(base)?;
        let unreachable = |e: std::io::Error| {
            let code = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => Code::NodeRefused,
                _ => Code::NodeUnreachable,
            };
            Error::new(code, format!("{base}: {e}"))
        };
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = if token.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {token}\r\n")
        };
        let exchange = async {
            let mut s = smol::net::TcpStream::connect(host)
                .await
                .map_err(unreachable)?;
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).await.map_err(unreachable)?;
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).await.map_err(unreachable)?;
            Ok::<_, Error>(raw)
        };
        let timeout = async {
            smol::Timer::after(self.timeout).await;
            Err(Error::new(
                Code::NodeTimeout,
                format!(
                    "{base}{path} did not answer in {} s",
                    self.timeout.as_secs()
                ),
            ))
        };
        let raw = smol::future::or(exchange, timeout).await?;
        let (status, body) = parse_response(&raw).ok_or_else(|| {
            Error::new(
                Code::NodeRemote,
                format!("{base}{path}: not an HTTP response"),
            )
        })?;
        envelope_data(path, status, &body)
    }
}

impl NodeApi for Http {
    fn call<'a>(
        &'a self,
        base: &'a str,
        token: &'a str,
        path: &'a str,
        body: Value,
    ) -> BoxFuture<'a, Result<Value>> {
        Box::pin(self.request("POST", base, token, path, Some(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_plain_and_chunked() {
        let raw =
            b"HTTP/1.1 200 OK\r\ncontent-length: 27\r\n\r\n{\"code\":0,\"msg\":\"\",\"data\":1}";
        let (st, body) = parse_response(raw).unwrap();
        assert_eq!(st, 200);
        assert_eq!(envelope_data("/x", st, &body).unwrap(), Value::from(1));
        let raw = b"HTTP/1.1 409 Conflict\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"cod\r\n16\r\ne\":7,\"msg\":\"no\",\"a\":1}\r\n0\r\n\r\n";
        let (st, body) = parse_response(raw).unwrap();
        let e = envelope_data("/x", st, &body).unwrap_err();
        assert_eq!(e.code, Code::NodeRemote);
        assert!(e.message.contains("no (code 7, HTTP 409)"), "{}", e.message);
        assert!(authority("http://10.0.0.1:5000").is_ok());
        assert!(authority("https://x").is_err());
    }
}
