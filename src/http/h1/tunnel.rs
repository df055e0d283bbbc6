//! Connections that stop being HTTP: `CONNECT` (the SPICE proxy, and a
//! controller's tunnel to a VM on one of its servers) and the console
//! gateway's WebSocket. The services admit or refuse the tunnel; an
//! admitted one is spliced byte for byte (CONNECT) or framed (WebSocket)
//! until either side ends or the services close it. Every write waits at
//! most the wire's write timeout.

use std::future::Future;
use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, Timer};
use tide::http::Request;

use super::conn::{lock, Shared};
use super::head::clip;
use super::ws::{self, Broken};
use crate::api::console::WS_PATH;
use crate::error::{Code, Error};
use crate::service::console::{Admitted, Tunnel};
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

/// Header fields a tunnel needs from the head.
pub(super) struct Fields {
    pub bearer: Option<String>,
    pub protocol: Option<String>,
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

impl Fields {
    pub fn of(req: &Request) -> Fields {
        Fields {
            bearer: header(req, "authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_string),
            protocol: header(req, crate::domain::cluster::PROTOCOL_HEADER).map(str::to_string),
        }
    }
}

/// A WebSocket upgrade to the gateway's path, or an error for a broken or
/// cross-site one; `None` for any other request.
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
    // A browser names the page's origin: only the console's own pages.
    if let (Some(origin), Some(host)) = (header(req, "origin"), header(req, "host")) {
        let from = origin.split_once("://").map(|x| x.1).unwrap_or(origin);
        if !from.eq_ignore_ascii_case(host) {
            return Some(Err(Error::new(
                Code::ConsoleRefused,
                format!(
                    "A console opens only from this service's own pages, not from `{}`",
                    clip(origin)
                ),
            )));
        }
    }
    Some(Ok(Upgrade::WebSocket {
        token: token.to_string(),
        key: key.to_string(),
        binary: has_token(req, "sec-websocket-protocol", "binary"),
    }))
}

const CLIENT_CLOSED: &str = "the client closed";
const CLIENT_STALLED: &str = "the client stopped reading";
const CLIENT_BROKE: &str = "the client broke the WebSocket protocol";
const VM_CLOSED: &str = "the VM's graphics server closed";
const SESSION_ENDED: &str = "the admin session ended";
/// After the client's end of a `CONNECT`, the VM's last bytes still go
/// back for at most this long.
const HALF_CLOSE: Duration = Duration::from_secs(5);
/// How often an open bridge checks that its session is still live.
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// The close code the server still owes the client when the bridge ends
/// for `why` (a client's close was echoed, a broken frame answered).
fn close_code(why: &str) -> Option<u16> {
    match why {
        SESSION_ENDED => Some(ws::close::POLICY),
        VM_CLOSED => Some(ws::close::NORMAL),
        _ => None,
    }
}

/// `f`'s end, with `out` locked.
async fn locked<F: Future<Output = Ended>, T>(
    f: F,
    out: &smol::lock::Mutex<T>,
) -> (Ended, smol::lock::MutexGuard<'_, T>) {
    let why = f.await;
    (why, out.lock().await)
}

/// `f`, or `TimedOut` after `t`.
async fn timed<F: Future<Output = io::Result<()>>>(f: F, t: Duration) -> io::Result<()> {
    smol::future::or(f, async {
        Timer::after(t).await;
        Err(io::ErrorKind::TimedOut.into())
    })
    .await
}

/// Serves the tunnel; the connection is over when this returns. A refusal
/// is answered with the error envelope.
pub(super) async fn serve(
    services: Arc<Services>,
    io: &Arc<Async<TcpStream>>,
    conn: &Shared,
    up: Upgrade,
    peer: &str,
    fields: Fields,
    write_timeout: Duration,
) -> Result<(), Error> {
    let tunnel = match &up {
        Upgrade::Connect(a) => Tunnel::Connect {
            authority: a,
            token: fields.bearer.as_deref(),
            protocol: fields.protocol.as_deref(),
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
    let counts = Counts::default();
    let (vm_r, mut vm_w) = smol::io::split(stream);
    let mut client = &**io;
    let why = if timed(client.write_all(head.as_bytes()), write_timeout)
        .await
        .is_err()
    {
        CLIENT_STALLED
    } else {
        // The services close the bridge: its session ended (signed out,
        // revoked, disabled) or lapsed unrefreshed.
        let (svc, b) = (&*services, &bridge);
        let end = async move {
            let closed = async {
                let _ = b.closed.recv().await;
                SESSION_ENDED
            };
            let lapsed = async {
                loop {
                    Timer::after(SESSION_CHECK).await;
                    if !svc.console_bridge_live(b) {
                        return SESSION_ENDED;
                    }
                }
            };
            smol::future::or(closed, lapsed).await
        };
        let pipe = Pipe {
            io,
            write_timeout,
            counts: &counts,
        };
        match &up {
            Upgrade::Connect(_) => pipe.splice(early, vm_r, &mut vm_w, end).await,
            Upgrade::WebSocket { .. } => pipe.frames(early, vm_r, &mut vm_w, end).await,
        }
    };
    let _ = timed(vm_w.close(), write_timeout).await;
    services.console_end(
        bridge,
        why,
        counts.to_vm.load(Ordering::Relaxed),
        counts.to_client.load(Ordering::Relaxed),
    );
    Ok(())
}

#[derive(Default)]
struct Counts {
    to_vm: AtomicU64,
    to_client: AtomicU64,
}

/// The client's socket, the write timeout and the byte counts.
struct Pipe<'a> {
    io: &'a Async<TcpStream>,
    write_timeout: Duration,
    counts: &'a Counts,
}

type Ended = &'static str;

impl Pipe<'_> {
    /// Copies `r` to `w` until either ends (as binary WebSocket frames
    /// when `framed`), counting into `count`; says which side ended
    /// (`ends`: reader's end, writer's end).
    async fn copy<R, W>(
        &self,
        mut r: R,
        w: &smol::lock::Mutex<W>,
        count: &AtomicU64,
        framed: bool,
        ends: (Ended, Ended),
    ) -> Ended
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
            let send = async {
                let mut w = w.lock().await;
                if framed {
                    w.write_all(&ws::frame(ws::op::BINARY, &buf[..n])).await
                } else {
                    w.write_all(&buf[..n]).await
                }
            };
            match timed(send, self.write_timeout).await {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut && ends.1 == CLIENT_CLOSED => {
                    return CLIENT_STALLED
                }
                Err(_) => return ends.1,
            }
            count.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// `CONNECT`: bytes both ways, unchanged. The client's end closes the
    /// VM's side for writing, and what the VM still sends goes back (for
    /// up to `HALF_CLOSE`).
    async fn splice<R, W>(
        &self,
        early: Vec<u8>,
        vm_r: R,
        vm_w: &mut W,
        end: impl Future<Output = Ended>,
    ) -> Ended
    where
        R: smol::io::AsyncRead + Unpin,
        W: smol::io::AsyncWrite + Unpin,
    {
        let vm = smol::lock::Mutex::new(vm_w);
        let client = smol::lock::Mutex::new(self.io);
        let up = async {
            if timed(vm.lock().await.write_all(&early), self.write_timeout)
                .await
                .is_err()
            {
                return VM_CLOSED;
            }
            self.counts
                .to_vm
                .fetch_add(early.len() as u64, Ordering::Relaxed);
            let why = self
                .copy(
                    self.io,
                    &vm,
                    &self.counts.to_vm,
                    false,
                    (CLIENT_CLOSED, VM_CLOSED),
                )
                .await;
            if why == CLIENT_CLOSED {
                let _ = timed(vm.lock().await.close(), self.write_timeout).await;
                Timer::after(HALF_CLOSE).await;
            }
            why
        };
        let down = self.copy(
            vm_r,
            &client,
            &self.counts.to_client,
            false,
            (VM_CLOSED, CLIENT_CLOSED),
        );
        smol::future::or(smol::future::or(up, down), end).await
    }

    /// The WebSocket: client frames' payloads to the VM, the VM's bytes to
    /// the client as binary frames; pings answered, a close echoed. Every
    /// way of ending takes the client's write lock first, so a close frame
    /// never lands inside a data frame.
    async fn frames<R, W>(
        &self,
        early: Vec<u8>,
        vm_r: R,
        vm_w: &mut W,
        end: impl Future<Output = Ended>,
    ) -> Ended
    where
        R: smol::io::AsyncRead + Unpin,
        W: smol::io::AsyncWrite + Unpin,
    {
        let out = smol::lock::Mutex::new(self.io);
        let send = |bytes: Vec<u8>| {
            let out = &out;
            async move {
                let mut w = out.lock().await;
                timed(w.write_all(&bytes), self.write_timeout).await
            }
        };
        let up = async {
            let mut r = AsyncReadExt::chain(&early[..], self.io);
            let mut in_message = false;
            loop {
                let f = match ws::read_frame(&mut r).await {
                    Ok(f) => f,
                    Err(Broken::Gone) => return CLIENT_CLOSED,
                    Err(Broken::Bad(code, why)) => {
                        let _ = send(ws::close_frame(code, why)).await;
                        return CLIENT_BROKE;
                    }
                };
                match f.opcode {
                    ws::op::CLOSE => {
                        let _ = send(ws::frame(
                            ws::op::CLOSE,
                            &f.payload[..f.payload.len().min(2)],
                        ))
                        .await;
                        return CLIENT_CLOSED;
                    }
                    ws::op::PING => {
                        if send(ws::frame(ws::op::PONG, &f.payload)).await.is_err() {
                            return CLIENT_STALLED;
                        }
                    }
                    ws::op::PONG => {}
                    op => {
                        // A message's frames in order: a first frame only
                        // between messages, continuations only inside one.
                        if (op == ws::op::CONTINUATION) != in_message {
                            let _ = send(ws::close_frame(ws::close::PROTOCOL, "unexpected frame"))
                                .await;
                            return CLIENT_BROKE;
                        }
                        in_message = !f.fin;
                        if timed(vm_w.write_all(&f.payload), self.write_timeout)
                            .await
                            .is_err()
                        {
                            return VM_CLOSED;
                        }
                        self.counts
                            .to_vm
                            .fetch_add(f.payload.len() as u64, Ordering::Relaxed);
                    }
                }
            }
        };
        let down = self.copy(
            vm_r,
            &out,
            &self.counts.to_client,
            true,
            (VM_CLOSED, CLIENT_CLOSED),
        );
        // Whoever ends first holds the write lock when the others are
        // dropped: no frame is cut.
        let (why, mut w) = smol::future::or(
            smol::future::or(locked(up, &out), locked(down, &out)),
            locked(end, &out),
        )
        .await;
        if let Some(code) = close_code(why) {
            let _ = timed(w.write_all(&ws::close_frame(code, why)), self.write_timeout).await;
        }
        why
    }
}
