//! The HTTP/1.1 listener: accepts connections on the smol executor and runs
//! our own connection handler (`h1`) on each, until told to stop.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use smol::{Async, Executor};

use super::State;

pub use super::h1::Limits;

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
    serve_with(app, listener, ex, stop, Limits::default()).await
}

/// `serve` with other wire limits (tests shorten the timeouts).
pub async fn serve_with(
    app: tide::Server<State>,
    listener: Async<TcpListener>,
    ex: Arc<Executor<'static>>,
    stop: impl std::future::Future<Output = ()>,
    limits: Limits,
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
                    ex.spawn(super::h1::connection(app.clone(), stream, peer, limits))
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
