//! Our own HTTP/1.x connection handler: reads bounded request heads, hands
//! each request to the tide app, writes its reply, and keeps pipelined and
//! kept-alive requests in order on one connection. Every limit and timeout
//! of the wire is here.

mod conn;
mod head;
mod tunnel;
mod write;
mod ws;

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smol::future::poll_fn;
use smol::io::{AsyncReadExt, BufReader};
use smol::{Async, Timer};
use tide::http::{Body, Method, Version};

use self::conn::{lock, BodyReader, Conn, Framing};
use self::head::NoHead;
use self::write::Writer;
use super::State;

/// A request head (request line and header fields, with the blank line)
/// may be at most this long …
pub const HEAD_MAX: usize = 8 * 1024;
/// … and have at most this many header fields.
pub const HEADERS_MAX: usize = 128;
/// A chunk-size line of a chunked body, with its extensions.
pub const CHUNK_LINE_MAX: usize = 1024;
/// A body the app left unread is read away up to this much, so the next
/// request on the connection is found; a longer one closes the connection.
pub const DRAIN_MAX: u64 = 256 * 1024;
/// After an error reply, the bytes still read (and dropped) so the client
/// sees the reply rather than a reset.
pub const LINGER_MAX: usize = 64 * 1024;

/// The wire's timeouts (tests shorten them; the service uses `default()`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request head must be complete this long after its first byte
    /// (after the connection opened, for the first request).
    pub head_timeout: Duration,
    /// A kept-alive connection waits this long for the next request.
    pub idle_timeout: Duration,
    /// A request body that delivers no byte for this long fails
    /// (`TimedOut`) and the connection closes.
    pub body_timeout: Duration,
    /// Once a body has been read for `body_rate_grace`, it must have
    /// arrived at `body_min_rate` bytes/s on average, or it fails
    /// (`TimedOut`): a client dripping a byte every few seconds cannot hold
    /// a connection for as long as its declared length lasts.
    pub body_min_rate: u64,
    pub body_rate_grace: Duration,
    /// A reply the client takes no byte of for this long is abandoned.
    pub write_timeout: Duration,
    /// How long an error reply waits for the client's remaining bytes.
    pub linger: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            body_min_rate: 1024,
            body_rate_grace: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            linger: Duration::from_secs(2),
        }
    }
}

/// How a connection ends.
enum End {
    /// Closed by the peer, an idle timeout or a write error: nothing more
    /// to say.
    Quiet,
    /// After a reply: closing a socket with unread bytes resets it, and a
    /// reset can destroy the reply in flight, so what the client still
    /// sends is read away (within bounds) first.
    Linger,
}

/// Serves requests on one accepted connection until it closes.
pub async fn connection(
    app: tide::Server<State>,
    stream: Async<TcpStream>,
    peer: SocketAddr,
    limits: Limits,
) {
    let io = Arc::new(stream);
    let end = serve_requests(&app, &io, peer, &limits).await;
    if let End::Linger = end {
        let _ = io.get_ref().shutdown(Shutdown::Write);
        linger(&io, limits.linger).await;
    }
    // A body reader the app kept holds the socket open: shut it down.
    let _ = io.get_ref().shutdown(Shutdown::Both);
}

async fn serve_requests(
    app: &tide::Server<State>,
    io: &Arc<Async<TcpStream>>,
    peer: SocketAddr,
    limits: &Limits,
) -> End {
    let local = io
        .get_ref()
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "localhost".into());
    let conn: conn::Shared = Arc::new(Mutex::new(Conn::new(io.clone(), limits)));
    let mut timer = Timer::never();
    let mut first = true;
    loop {
        let head = head::read(&conn, &mut timer, limits, first, &local).await;
        first = false;
        let mut w = Writer {
            io,
            timer: &mut timer,
            timeout: limits.write_timeout,
        };
        let head = match head {
            Ok(h) => h,
            Err(NoHead::Gone) => return End::Quiet,
            Err(NoHead::Bad(e)) => {
                log::debug!("connection from {peer}: {e}");
                let res = super::envelope::err(&e).into();
                return match w.response(res, b"", false, false, false).await {
                    Ok(_) => End::Linger,
                    Err(_) => End::Quiet,
                };
            }
        };
        if let Some(up) = upgrade_of(&head) {
            let up = match up {
                Ok(u) => u,
                Err(e) => {
                    let res = super::envelope::err(&e).into();
                    return match w.response(res, b"", false, false, false).await {
                        Ok(_) => End::Linger,
                        Err(_) => End::Quiet,
                    };
                }
            };
            let fields = tunnel::Fields::of(&head.req);
            let services = app.state().0.clone();
            let client = peer.ip().to_string();
            let wt = limits.write_timeout;
            return match tunnel::serve(services, io, &conn, up, &client, fields, wt).await {
                // What the client still sends is read away before the
                // socket closes, so that the last bytes are not reset.
                Ok(()) => End::Linger,
                Err(e) => {
                    log::info!("tunnel from {peer} refused: {}", e.message);
                    let res = super::envelope::err(&e).into();
                    match w.response(res, b"", false, false, false).await {
                        Ok(_) => End::Linger,
                        Err(_) => End::Quiet,
                    }
                }
            };
        }
        let head_only = head.method == Method::Head;
        let http10 = head.version == Version::Http1_0;
        let mut req = head.req;
        req.set_peer_addr(Some(peer.to_string()));
        req.set_local_addr(Some(&local));
        let gen = lock(&conn).start_body(head.framing, head.expect_continue);
        // The body's length as tide sees it: `Some(None)` for chunked.
        let len = match head.framing {
            Framing::None => None,
            Framing::Length(n) => Some(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            Framing::Chunked => Some(None),
        };
        if let Some(len) = len {
            let reader = BufReader::new(BodyReader {
                conn: conn.clone(),
                gen,
            });
            req.set_body(Body::from_reader(reader, len));
        }
        let res = super::respond(app, req).await;
        let body = lock(&conn).finish();
        // Can the next request be found after this one's body?
        let drain = !body.complete
            && !body.failed
            && !body.continue_unsent
            && body.left.is_none_or(|l| l <= DRAIN_MAX);
        let keep = head.keep_alive && !body.failed && (body.complete || drain);
        let kept = match w
            .response(res, body.continue_rest, head_only, http10, keep)
            .await
        {
            Ok(k) => k,
            Err(e) => {
                log::debug!("connection from {peer}: writing the reply: {e}");
                return End::Quiet;
            }
        };
        if !kept || (drain && !drain_body(&conn).await) {
            return End::Linger;
        }
    }
}

/// A request that turns the connection into a tunnel: `CONNECT`, or the
/// console gateway's WebSocket upgrade.
fn upgrade_of(head: &head::Head) -> Option<Result<tunnel::Upgrade, crate::error::Error>> {
    match &head.connect {
        Some(target) => Some(Ok(tunnel::Upgrade::Connect(target.clone()))),
        None => tunnel::websocket(&head.req),
    }
}

/// Reads away what is left of a body the app did not read; false if it is
/// longer than `DRAIN_MAX` or broken.
async fn drain_body(conn: &Mutex<Conn>) -> bool {
    let mut scratch = [0u8; 8192];
    let mut total = 0u64;
    loop {
        match poll_fn(|cx| lock(conn).poll_body(cx, &mut scratch)).await {
            Ok(0) => return true,
            Ok(n) => {
                total += n as u64;
                if total > DRAIN_MAX {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}

/// Reads and drops what the client still sends, up to `LINGER_MAX` bytes
/// or `limit` time, so that closing does not reset the reply away.
async fn linger(io: &Async<TcpStream>, limit: Duration) {
    let until = Instant::now() + limit;
    let mut scratch = [0u8; 8192];
    let mut total = 0;
    let mut r = io;
    let read = async {
        while total < LINGER_MAX {
            match r.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    smol::future::or(read, async {
        Timer::at(until).await;
    })
    .await;
}
