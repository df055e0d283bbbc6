//! The HTTP/1.1 listener: accepts connections on the smol executor and hands
//! each request to the tide app, until told to stop.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use smol::{Async, Executor};

use super::State;

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
                        let r = async_h1::accept(stream, move |mut req| {
                            req.set_peer_addr(Some(peer.to_string()));
                            let app = app.clone();
                            async move { app.respond::<_, tide::http::Response>(req).await }
                        })
                        .await;
                        if let Err(e) = r {
                            log::debug!("connection from {peer}: {e}");
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
