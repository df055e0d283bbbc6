//! The internal API between a controller and its nodes. On a node, with
//! the controller's token: `internal/vm` and `internal/disk` (its libvirt
//! and qemu-img), `internal/pull` (fetch a file from the controller) and
//! `internal/network` (the bridges it must have). On the controller, with
//! a node's credential: `internal/file` (a file for a node's pull).

use std::path::PathBuf;

use serde_json::json;

use super::call::{Call, Reply};
use crate::domain::cluster::{DiskCall, NetworkApplied, NetworkPush, PullReq, VmCall};
use crate::error::{Error, Result};

pub async fn vm(c: Call) -> Result<Reply> {
    // Refused before the body is read (the service checks again).
    c.services.internal_check(c.token.as_deref())?;
    let call: VmCall = c.json()?;
    Ok(Reply::data(json!(
        c.services.internal_vm(c.token.as_deref(), call).await?
    )))
}

pub async fn disk(c: Call) -> Result<Reply> {
    // Refused before the body is read (the service checks again).
    c.services.internal_check(c.token.as_deref())?;
    let call: DiskCall = c.json()?;
    Ok(Reply::data(json!(
        c.services.internal_disk(c.token.as_deref(), call).await?
    )))
}

pub async fn pull(c: Call) -> Result<Reply> {
    let req: PullReq = c.json()?;
    let st = c
        .services
        .internal_pull(c.token.as_deref(), req.path, req.md5, req.verify)?;
    Ok(Reply::data(json!(st)))
}

pub async fn network(c: Call) -> Result<Reply> {
    let req: NetworkPush = c.json()?;
    let steps = c
        .services
        .internal_network(c.token.as_deref(), req.into_bridges()?)
        .await?;
    Ok(Reply::data(json!(NetworkApplied { steps })))
}

/// `GET /api/v1/internal/file?node_uuid=&path=&offset=` streams the file.
pub async fn file(c: Call) -> Result<Reply> {
    let node = c
        .query_value("node_uuid")
        .ok_or_else(|| Error::missing("node_uuid"))?;
    let node = crate::api::fields::uuid("node_uuid", node)?;
    let path = PathBuf::from(
        c.query_value("path")
            .ok_or_else(|| Error::missing("path"))?,
    );
    let offset = match c.query_value("offset") {
        None => 0,
        Some(o) => o
            .parse()
            .map_err(|_| Error::invalid("offset", "must be a byte count"))?,
    };
    let (len, bytes) = c
        .services
        .internal_file(c.token.as_deref(), &node, &path, offset)
        .await?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut r = Reply::data(serde_json::Value::Null);
    r.file = Some((len, bytes, name));
    Ok(r)
}
