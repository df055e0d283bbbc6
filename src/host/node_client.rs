//! The port between a controller and its servers: typed messages
//! (`domain::cluster`) sent as one JSON `POST` with a bearer token and the
//! protocol version, answered with the usual envelope. Both directions go
//! through it: the controller asks a node (`vm`, `disk`, `pull`, `network`,
//! `power`), a node tells its controller (`register`, `heartbeat`,
//! `report`). The real adapter is a small HTTP/1.1 client on smol.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use super::BoxFuture;
use super::Stream;
use crate::domain::cluster::{
    protocol_check_reply, report_wire, DiskCall, DiskReply, Heartbeat, NetworkApplied, NetworkPush,
    NodePowerOp, NodePowerReq, PullReq, PullStatus, Register, Registered, VmCall, VmReply,
    PROTOCOL, PROTOCOL_HEADER,
};
use crate::domain::console::{internal_authority, Protocol};
use crate::domain::monitor::Report;
use crate::error::{Code, Error, Result};

/// Where the other side's service is (`http://host:port`) and the token
/// that opens it (the controller's token on a node, a node's credential
/// on the controller).
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub base: String,
    pub token: String,
}

/// Every message of the protocol, typed. Errors: the remote message
/// (`NodeRemote`), `NodeUnreachable`/`NodeRefused`/`NodeTimeout` when it
/// cannot be asked, `NodeVersionMismatch` when it speaks another version.
pub trait NodeClient: Send + Sync {
    /// Controller → node: one call on its hypervisor.
    fn vm<'a>(&'a self, to: &'a Peer, call: VmCall) -> BoxFuture<'a, Result<VmReply>>;
    /// Controller → node: one call on its disks.
    fn disk<'a>(&'a self, to: &'a Peer, call: DiskCall) -> BoxFuture<'a, Result<DiskReply>>;
    /// Controller → node: start or follow a file's pull.
    fn pull<'a>(&'a self, to: &'a Peer, req: PullReq) -> BoxFuture<'a, Result<PullStatus>>;
    /// Controller → node: the networks it must bridge.
    fn network<'a>(
        &'a self,
        to: &'a Peer,
        want: NetworkPush,
    ) -> BoxFuture<'a, Result<NetworkApplied>>;
    /// Controller → node: shut down or reboot its host.
    fn power<'a>(&'a self, to: &'a Peer, op: NodePowerOp) -> BoxFuture<'a, Result<()>>;
    /// Node → controller: its service started.
    fn register<'a>(&'a self, to: &'a Peer, r: Register) -> BoxFuture<'a, Result<Registered>>;
    /// Node → controller: alive; the answer is what it must bridge.
    fn heartbeat<'a>(&'a self, to: &'a Peer, node: Uuid) -> BoxFuture<'a, Result<NetworkPush>>;
    /// Node → controller: one 30-second report.
    fn report<'a>(&'a self, to: &'a Peer, r: Report) -> BoxFuture<'a, Result<()>>;
    /// Controller → node: a tunnel to a VM's graphics server on that node
    /// (`CONNECT <uuid>.<protocol>.vm:0` with the controller's token).
    fn stream<'a>(&'a self, to: &'a Peer, vm: Uuid, p: Protocol) -> BoxFuture<'a, Result<Stream>>;
}

/// The path of each message on the service's port.
pub mod paths {
    pub const VM: &str = "/api/v1/internal/vm";
    pub const DISK: &str = "/api/v1/internal/disk";
    pub const PULL: &str = "/api/v1/internal/pull";
    pub const NETWORK: &str = "/api/v1/internal/network";
    pub const POWER: &str = "/api/v1/internal/power";
    pub const REGISTER: &str = "/api/v1/node/register";
    pub const HEARTBEAT: &str = "/api/v1/node/heartbeat";
    pub const REPORT: &str = "/api/v1/node/report_monitor";
}

/// The answer's `data` read as `T`; an answer that does not fit is the
/// peer's fault and says so.
pub fn answer_as<T: DeserializeOwned>(path: &str, data: Value) -> Result<T> {
    serde_json::from_value(data.clone()).map_err(|e| {
        Error::new(
            Code::NodeRemote,
            format!("{path}: an answer this appliance cannot read ({e}): {data}"),
        )
    })
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

/// A connection to `base` that failed: refused, or unreachable.
fn link_error(base: &str, e: std::io::Error) -> Error {
    let code = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => Code::NodeRefused,
        _ => Code::NodeUnreachable,
    };
    Error::new(code, format!("{base}: {e}"))
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

/// A header's value in a whole HTTP/1.1 response (name case-insensitive).
pub fn response_header(raw: &[u8], name: &str) -> Option<String> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
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

    /// One message: `POST` with the protocol header; the answer must carry
    /// the same version and fit `A`.
    async fn post<Q: Serialize, A: DeserializeOwned>(
        &self,
        to: &Peer,
        path: &str,
        msg: &Q,
    ) -> Result<A> {
        let body = serde_json::to_value(msg).map_err(Error::internal)?;
        let data = self
            .request("POST", &to.base, &to.token, path, Some(body))
            .await?;
        answer_as(path, data)
    }

    /// `Some(body)`: a protocol message (the header goes with it and the
    /// answer's is checked); `None`: a plain `GET`.
    async fn request(
        &self,
        method: &str,
        base: &str,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let message = body.is_some();
        let host = authority(base)?;
        let unreachable = |e| link_error(base, e);
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = if token.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {token}\r\n")
        };
        let protocol = if message {
            format!("{PROTOCOL_HEADER}: {PROTOCOL}\r\n")
        } else {
            String::new()
        };
        let exchange = async {
            let mut s = smol::net::TcpStream::connect(host)
                .await
                .map_err(unreachable)?;
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}{protocol}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).await.map_err(unreachable)?;
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).await.map_err(unreachable)?;
            Ok::<_, Error>(raw)
        };
        let late = format!(
            "{base}{path} did not answer in {} s",
            self.timeout.as_secs()
        );
        let raw = self.within(exchange, late).await?;
        let (status, body) = parse_response(&raw).ok_or_else(|| {
            Error::new(
                Code::NodeRemote,
                format!("{base}{path}: not an HTTP response"),
            )
        })?;
        if message {
            protocol_check_reply(
                response_header(&raw, PROTOCOL_HEADER).as_deref(),
                &format!("the appliance at {base}"),
            )?;
        }
        envelope_data(path, status, &body)
    }
}

impl Http {
    /// Opens a graphics tunnel: sends `CONNECT`, reads the answer's head a
    /// byte at a time (nothing of the tunnel is read with it), and hands
    /// over the connection on `200`.
    async fn tunnel(&self, to: &Peer, vm: Uuid, p: Protocol) -> Result<Stream> {
        let host = authority(&to.base)?;
        let target = internal_authority(vm, p);
        let unreachable = |e| link_error(&to.base, e);
        let open = async {
            let mut s = smol::net::TcpStream::connect(host)
                .await
                .map_err(unreachable)?;
            let _ = s.set_nodelay(true);
            let req = format!(
                "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nAuthorization: Bearer {}\r\n{PROTOCOL_HEADER}: {PROTOCOL}\r\n\r\n",
                to.token
            );
            s.write_all(req.as_bytes()).await.map_err(unreachable)?;
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if head.len() > 8192 || s.read(&mut b).await.map_err(unreachable)? == 0 {
                    return Err(Error::new(
                        Code::NodeRemote,
                        format!("{}: the tunnel's answer ended early", to.base),
                    ));
                }
                head.push(b[0]);
            }
            let (status, _) = parse_response(&head).unwrap_or((0, Vec::new()));
            if status != 200 {
                // The refusal's envelope follows (the node closes after it).
                let mut rest = Vec::new();
                let _ = smol::io::AsyncReadExt::take(&mut s, 64 * 1024)
                    .read_to_end(&mut rest)
                    .await;
                head.extend_from_slice(&rest);
                let (st, body) = parse_response(&head).unwrap_or((status, Vec::new()));
                return Err(envelope_data("CONNECT", st, &body)
                    .err()
                    .unwrap_or_else(|| {
                        Error::new(Code::NodeRemote, format!("CONNECT: HTTP {st}"))
                    }));
            }
            Ok::<Stream, Error>(Box::new(s))
        };
        let late = format!("{}: the graphics tunnel did not open in time", to.base);
        self.within(open, late).await
    }

    /// `f`, or `NodeTimeout` with `late` as its message after the timeout.
    async fn within<T>(
        &self,
        f: impl std::future::Future<Output = Result<T>>,
        late: String,
    ) -> Result<T> {
        smol::future::or(f, async {
            smol::Timer::after(self.timeout).await;
            Err(Error::new(Code::NodeTimeout, late))
        })
        .await
    }
}

impl NodeClient for Http {
    fn stream<'a>(&'a self, to: &'a Peer, vm: Uuid, p: Protocol) -> BoxFuture<'a, Result<Stream>> {
        Box::pin(self.tunnel(to, vm, p))
    }

    fn vm<'a>(&'a self, to: &'a Peer, call: VmCall) -> BoxFuture<'a, Result<VmReply>> {
        Box::pin(async move { self.post(to, paths::VM, &call).await })
    }

    fn disk<'a>(&'a self, to: &'a Peer, call: DiskCall) -> BoxFuture<'a, Result<DiskReply>> {
        Box::pin(async move { self.post(to, paths::DISK, &call).await })
    }

    fn pull<'a>(&'a self, to: &'a Peer, req: PullReq) -> BoxFuture<'a, Result<PullStatus>> {
        Box::pin(async move { self.post(to, paths::PULL, &req).await })
    }

    fn network<'a>(
        &'a self,
        to: &'a Peer,
        want: NetworkPush,
    ) -> BoxFuture<'a, Result<NetworkApplied>> {
        Box::pin(async move { self.post(to, paths::NETWORK, &want).await })
    }

    fn power<'a>(&'a self, to: &'a Peer, op: NodePowerOp) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.post::<_, NodePowerReq>(to, paths::POWER, &NodePowerReq { op })
                .await
                .map(drop)
        })
    }

    fn register<'a>(&'a self, to: &'a Peer, r: Register) -> BoxFuture<'a, Result<Registered>> {
        Box::pin(async move { self.post(to, paths::REGISTER, &r).await })
    }

    fn heartbeat<'a>(&'a self, to: &'a Peer, node: Uuid) -> BoxFuture<'a, Result<NetworkPush>> {
        Box::pin(async move {
            self.post(to, paths::HEARTBEAT, &Heartbeat { node_uuid: node })
                .await
        })
    }

    fn report<'a>(&'a self, to: &'a Peer, r: Report) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let body = report_wire(&r.node, &r.name, &r.sample);
            self.post::<_, serde::de::IgnoredAny>(to, paths::REPORT, &body)
                .await
                .map(drop)
        })
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
        let raw = b"HTTP/1.1 200 OK\r\nx-vdi-protocol:  7 \r\n\r\n{}";
        assert_eq!(response_header(raw, PROTOCOL_HEADER).as_deref(), Some("7"));
        assert_eq!(response_header(raw, "Content-Type"), None);
        assert!(authority("https://x").is_err());
    }
}
