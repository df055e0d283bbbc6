//! The console gateway's HTTP side: `console/open` hands out a token; the
//! WebSocket itself (`/api/v1/console/ws/<token>`) and `CONNECT` are
//! served by the connection handler (`h1::tunnel`) before any route.

use super::call::{Call, Reply};
use crate::api::console::{opened_view, OpenReq};
use crate::error::{Code, Error, Result};

/// `POST /api/v1/console/open`.
pub async fn open(c: Call) -> Result<Reply> {
    let req: OpenReq = c.json()?;
    let (target, uuid, protocol) = req.parts()?;
    let token = c.token.as_deref().unwrap_or_default();
    let o = c
        .services
        .console_open(token, target, &uuid, protocol, &c.via)
        .await?;
    Ok(Reply::data(opened_view(&o)).on(format!("{} {uuid} ({protocol})", req.kind)))
}

/// `GET /api/v1/console/ws/<token>` without `Upgrade: websocket`.
pub async fn ws_plain(_c: Call) -> Result<Reply> {
    Err(Error::new(
        Code::MalformedRequest,
        "This path takes a WebSocket upgrade (`Upgrade: websocket`, version 13)",
    ))
}
