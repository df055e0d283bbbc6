//! Connections that stop being HTTP: `CONNECT` (the SPICE proxy, and a
//! controller's tunnel to a VM on one of its servers) and the console
//! gateway's WebSocket. The services admit or refuse the tunnel; an
//! admitted one is spliced byte for byte (CONNECT) or framed (WebSocket)
//! until either side ends or the services close it.

use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::Async;
use tide::http::Request;

use super::conn::{lock, Shared};
use super::ws::{self, Broken};
use crate::error::{Code, Error};
use crate::service::console::{Admitted, Tunnel, WS_PATH};
use crate::service::Services;

/// What the connection turns into, told from its request head.
pub(super) enum Upgrade {
    Connect(String),
    WebSocket {
        token: String,
        key: String,
        binary: bool,
    },
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).map(|v| v.last().as_str())
}

fn has_token(req: &Request, name: &str, token: &str) -> bool {
    req.header(name).is_some_and(|vs| {
        vs.iter().any(|v| {
            v.as_str()
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
    })
}

/// A WebSocket upgrade to the gateway's path, or an error for a broken one;
/// `None` for any other request.
pub(super) fn websocket(req: &Request) -> Option<Result<Upgrade, Error>> {
    let token = req.url().path().strip_prefix(WS_PATH)?;
    if req.method() != tide::http::Method::Get || !has_token(req, "upgrade", "websocket") {
        return None;
    }
    let bad = |m: &str| Some(Err(Error::new(Code::MalformedRequest, m)));
    if !has_token(req, "connection", "upgrade") {
        return bad("A WebSocket upgrade needs `Connection: Upgrade`");
    }
    if header(req, "sec-websocket-version") != Some("13") {
        return bad("Only WebSocket version 13 is served (`Sec-WebSocket-Version: 13`)");
    }
    let Some(key) = header(req, "sec-websocket-key").filter(|k| (16..=64).contains(&k.len()))
    else {
        return bad("A WebSocket upgrade needs `Sec-WebSocket-Key`");
    };
    Some(Ok(Upgrade::WebSocket {
        token: token.to_string(),
        key: key.to_string(),
        binary: has_token(req, "sec-websocket-protocol", "binary"),
    }))
}

/// Serves the tunnel; the connection is over when this returns. A refusal
/// is answered with the error envelope.
pub(super) async fn serve(
    services: Arc<Services>,
    io: &Arc<Async<TcpStream>>,
    conn: &Shared,
    up: Upgrade,
    peer: &str,
    bearer: Option<String>,
) -> Result<(), Error> {
    let tunnel = match &up {
        Upgrade::Connect(a) => Tunnel::Connect {
            authority: a,
            token: bearer.as_deref(),
        },
        Upgrade::WebSocket { token, .. } => Tunnel::WebSocket { token },
    };
    let Admitted { stream, bridge } = services.console_admit(tunnel, peer).await?;
    let head = match &up {
        Upgrade::Connect(_) => "HTTP/1.1 200 Connection established\r\n\r\n".to_string(),
        Upgrade::WebSocket { key, binary, .. } => format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{}\r\n",
            ws::accept_key(key),
            if *binary { "Sec-WebSocket-Protocol: binary\r\n" } else { "" }
        ),
    };
    // What the client sent after its head belongs to the tunnel.
    let early = {
        let mut c = lock(conn);
        let b = c.buffered().to_vec();
        c.consume(b.len());
        b
    };
    let (to_vm, to_client) = (AtomicU64::new(0), AtomicU64::new(0));
    let (vm_r, mut vm_w) = smol::io::split(stream);
    let mut client = &**io;
    let why = async {
        if client.write_all(head.as_bytes()).await.is_err() {
            return "the client went away";
        }
        let pumps = async {
            match &up {
                Upgrade::Connect(_) => splice(io, early, vm_r, &mut vm_w, &to_vm, &to_client).await,
                Upgrade::WebSocket { .. } => {
                    frames(io, early, vm_r, &mut vm_w, &to_vm, &to_client).await
                }
            }
        };
        let closed = async {
            let _ = bridge.closed.recv().await;
            SESSION_ENDED
        };
        let expiry = async {
            loop {
                smol::Timer::after(Duration::from_secs(30)).await;
                if !services.console_open_still(&bridge) {
                    return SESSION_ENDED;
                }
            }
        };
        smol::future::or(pumps, smol::future::or(closed, expiry)).await
    }
    .await;
    // The server's close frame, unless the client's close was echoed or
    // its broken frame answered already.
    if let (Upgrade::WebSocket { .. }, Some(code)) = (&up, close_code(why)) {
        let _ = client.write_all(&ws::close_frame(code, why)).await;
    }
    let _ = vm_w.close().await;
    services.console_end(
        bridge,
        why,
        to_vm.load(Ordering::Relaxed),
        to_client.load(Ordering::Relaxed),
    );
    Ok(())
}

const CLIENT_CLOSED: &str = "the client closed";
const VM_CLOSED: &str = "the VM's graphics server closed";
const SESSION_ENDED: &str = "the admin session ended";

/// The close code the server still owes the client for `why`.
fn close_code(why: &str) -> Option<u16> {
    match why {
        SESSION_ENDED => Some(ws::close::POLICY),
        VM_CLOSED => Some(ws::close::NORMAL),
        _ => None,
    }
}

/// Copies `r` to `w` until either ends (as binary WebSocket frames when
/// `framed`), counting the bytes; says which side ended.
async fn copy<R, W>(
    mut r: R,
    w: &smol::lock::Mutex<W>,
    count: &AtomicU64,
    framed: bool,
    ends: (&'static str, &'static str),
) -> &'static str
where
    R: smol::io::AsyncRead + Unpin,
    W: smol::io::AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; ws::SEND_MAX];
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => return ends.0,
            Ok(n) => n,
        };
        let sent = if framed {
            w.lock()
                .await
                .write_all(&ws::frame(ws::op::BINARY, &buf[..n]))
                .await
        } else {
            w.lock().await.write_all(&buf[..n]).await
        };
        if sent.is_err() {
            return ends.1;
        }
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// `CONNECT`: bytes both ways, unchanged.
async fn splice<R, W>(
    io: &Async<TcpStream>,
    early: Vec<u8>,
    vm_r: R,
    vm_w: &mut W,
    to_vm: &AtomicU64,
    to_client: &AtomicU64,
) -> &'static str
where
    R: smol::io::AsyncRead + Unpin,
    W: smol::io::AsyncWrite + Unpin,
{
    let vm = smol::lock::Mutex::new(vm_w);
    let client = smol::lock::Mutex::new(io);
    let up = async {
        if vm.lock().await.write_all(&early).await.is_err() {
            return VM_CLOSED;
        }
        to_vm.fetch_add(early.len() as u64, Ordering::Relaxed);
        copy(io, &vm, to_vm, false, (CLIENT_CLOSED, VM_CLOSED)).await
    };
    let down = copy(vm_r, &client, to_client, false, (VM_CLOSED, CLIENT_CLOSED));
    smol::future::or(up, down).await
}

/// The WebSocket: client frames' payloads to the VM, the VM's bytes to the
/// client as binary frames; pings answered, a close echoed.
async fn frames<R, W>(
    io: &Async<TcpStream>,
    early: Vec<u8>,
    vm_r: R,
    vm_w: &mut W,
    to_vm: &AtomicU64,
    to_client: &AtomicU64,
) -> &'static str
where
    R: smol::io::AsyncRead + Unpin,
    W: smol::io::AsyncWrite + Unpin,
{
    // Both directions write to the client: one frame at a time.
    let out = smol::lock::Mutex::new(io);
    let up = async {
        let mut r = smol::io::AsyncReadExt::chain(&early[..], io);
        loop {
            let f = match ws::read_frame(&mut r).await {
                Ok(f) => f,
                Err(Broken::Gone) => return "the client closed",
                Err(Broken::Bad(code, why)) => {
                    let mut w = out.lock().await;
                    let _ = w.write_all(&ws::close_frame(code, why)).await;
                    return "the client broke the WebSocket protocol";
                }
            };
            match f.opcode {
                ws::op::CLOSE => {
                    let mut w = out.lock().await;
                    let _ = w
                        .write_all(&ws::frame(
                            ws::op::CLOSE,
                            &f.payload[..f.payload.len().min(2)],
                        ))
                        .await;
                    return CLIENT_CLOSED;
                }
                ws::op::PING => {
                    let mut w = out.lock().await;
                    if w.write_all(&ws::frame(ws::op::PONG, &f.payload))
                        .await
                        .is_err()
                    {
                        return CLIENT_CLOSED;
                    }
                }
                ws::op::PONG => {}
                _ => {
                    if vm_w.write_all(&f.payload).await.is_err() {
                        return VM_CLOSED;
                    }
                    to_vm.fetch_add(f.payload.len() as u64, Ordering::Relaxed);
                }
            }
        }
    };
    let down = copy(vm_r, &out, to_client, true, (VM_CLOSED, CLIENT_CLOSED));
    smol::future::or(up, down).await
}
