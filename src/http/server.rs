//! The HTTP/1.1 listener: accepts connections on the smol executor and hands
//! each request to the tide app, until told to stop.

use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use smol::io::{AsyncBufRead, AsyncRead};
use smol::{Async, Executor};

use super::State;
use crate::error::{Code, Error};

/// The answer to a request the HTTP/1.1 reader refused (an unknown method
/// such as `QUERY`, HTTP/1.0, a malformed or oversized head): the error
/// envelope with status 400, and the connection closes.
fn unreadable(e: &tide::http::Error) -> Vec<u8> {
    let err = Error::new(
        Code::MalformedRequest,
        format!("The HTTP request could not be read: {e}"),
    );
    let body =
        serde_json::json!({"code": err.code.number(), "msg": err.public_message(), "data": null})
            .to_string();
    format!(
        "HTTP/1.1 {} Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        err.kind().status(),
        body.len()
    )
    .into_bytes()
}

/// A request body that notes when it has been read to its end.
///
/// async-h1 throws away what a handler left unread of a body through a
/// buffered reader that it then drops: bytes of the client's next request
/// that arrived with the rest of the body go with it, and that request is
/// never answered. A reply to a request whose body was not read to its end
/// therefore closes the connection (the client sends its next request on a
/// new one).
struct Drained {
    body: tide::http::Body,
    /// Bytes still to come when the length is known.
    left: Option<usize>,
    done: Arc<AtomicBool>,
}

impl Drained {
    fn took(&mut self, n: usize, at_end: bool) {
        if let Some(left) = self.left.as_mut() {
            *left = left.saturating_sub(n);
        }
        if at_end || self.left == Some(0) {
            self.done.store(true, Ordering::SeqCst);
        }
    }
}

impl AsyncRead for Drained {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.body).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.took(n, n == 0 && !buf.is_empty());
        }
        r
    }
}

impl AsyncBufRead for Drained {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<&[u8]>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_fill_buf(cx) {
            Poll::Ready(Ok(b)) => {
                if b.is_empty() {
                    this.done.store(true, Ordering::SeqCst);
                }
                Poll::Ready(Ok(b))
            }
            other => other,
        }
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.body).consume(amt);
        self.took(amt, false);
    }
}

/// Puts `req`'s body behind a `Drained`; the flag says whether it was read
/// to its end (a request without a body has nothing left to read).
fn watch_body(req: &mut tide::http::Request) -> Arc<AtomicBool> {
    let body = req.take_body();
    let len = body.len();
    let done = Arc::new(AtomicBool::new(len == Some(0)));
    if len != Some(0) {
        let mime = body.mime().clone();
        let mut watched = tide::http::Body::from_reader(
            Drained {
                body,
                left: len,
                done: done.clone(),
            },
            len,
        );
        watched.set_mime(mime);
        req.set_body(watched);
    }
    done
}

/// Binds the listening socket (done before READY is sent).
pub fn bind(addr: &str) -> std::io::Result<Async<TcpListener>> {
    let addr: SocketAddr = addr.parse().map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("listen address `{addr}`: {e}"),
        )
    })?;
    Async::<TcpListener>::bind(addr)
}

/// Serves until `stop` resolves; connection tasks run on `ex`.
pub async fn serve(
    app: tide::Server<State>,
    listener: Async<TcpListener>,
    ex: Arc<Executor<'static>>,
    stop: impl std::future::Future<Output = ()>,
) {
    let accept = async {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    // Replies are written in pieces: without NODELAY, Nagle and
                    // delayed ACKs add ~40 ms to every keep-alive request.
                    if let Err(e) = stream.get_ref().set_nodelay(true) {
                        log::debug!("TCP_NODELAY on {peer}: {e}");
                    }
                    let app = app.clone();
                    ex.spawn(async move {
                        let stream = async_dup::Arc::new(stream);
                        let mut out = stream.clone();
                        let r = async_h1::accept(stream, move |mut req| {
                            req.set_peer_addr(Some(peer.to_string()));
                            let app = app.clone();
                            async move {
                                let read = watch_body(&mut req);
                                let mut res = app.respond::<_, tide::http::Response>(req).await?;
                                if !read.load(Ordering::SeqCst) {
                                    res.insert_header("Connection", "close");
                                }
                                Ok(res)
                            }
                        })
                        .await;
                        if let Err(e) = r {
                            log::debug!("connection from {peer}: {e}");
                            // Not a broken socket: a request async-h1 could
                            // not read, which it drops without a word.
                            if e.downcast_ref::<std::io::Error>().is_none() {
                                use smol::io::AsyncWriteExt;
                                let _ = out.write_all(&unreadable(&e)).await;
                                let _ = out.flush().await;
                            }
                        }
                    })
                    .detach();
                }
                Err(e) => {
                    log::warn!("accept failed: {e}");
                    smol::Timer::after(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    };
    smol::future::or(accept, stop).await;
}
