//! Base images and ISOs over HTTP: streamed uploads, registration of a
//! file already on the storage, distribution to the pool's nodes,
//! retransmit and delete.

use serde_json::json;

use super::call::{Call, Reply};
use crate::api::template::{self as t, ImageIdReq, RegisterReq};
use crate::error::{Error, Result};
use crate::service::image::ImageMeta;

fn meta(c: &Call) -> Result<ImageMeta> {
    let name = c
        .query_value("name")
        .ok_or_else(|| Error::missing("name"))?;
    Ok(ImageMeta {
        name: crate::domain::image::check_name("name", name)?,
        pool: t::opt_uuid("pool_uuid", &c.query_value("pool_uuid").map(String::from))?,
        os_type: c.query_value("os_type").unwrap_or("").to_string(),
        md5: c
            .query_value("md5_sum")
            .filter(|m| !m.is_empty())
            .map(String::from),
    })
}

/// `PUT|POST /api/v1/base_image/upload?name=&os_type=&pool_uuid=&md5_sum=`
/// with the qcow2 file as the body.
pub async fn image_upload(mut c: Call) -> Result<Reply> {
    let m = meta(&c)?;
    let body = c.upload.take().ok_or_else(|| Error::missing("body"))?;
    let sent = c
        .services
        .base_image_upload_distributed(&c.actor, m, body, c.upload_len)
        .await?;
    Ok(distributed(sent))
}

/// The image's view, with the id of the task that copies it to the pool's
/// joined nodes when there are any.
fn distributed((img, task): (crate::domain::image::BaseImage, Option<uuid::Uuid>)) -> Reply {
    let mut v = t::image_view(&img);
    if let Some(id) = task {
        v["distribute_task"] = json!(id.to_string());
    }
    Reply::data(v).on(img.name.clone())
}

/// `POST /api/v1/resource_pool/images/upload` (file 000): register a file.
pub async fn image_register(c: Call) -> Result<Reply> {
    let req: RegisterReq = c.json()?;
    let id = t::uuid("image_id", &req.image_id)?;
    let m = ImageMeta {
        name: crate::domain::image::check_name(
            "name",
            req.name.as_deref().unwrap_or(&req.image_id),
        )?,
        pool: Some(t::uuid("pool_uuid", &req.pool_uuid)?),
        os_type: req.os_type.unwrap_or_default(),
        md5: Some(req.md5_sum),
    };
    let sent = c
        .services
        .base_image_register_distributed(&c.actor, m, id, req.image_path.into())
        .await?;
    Ok(distributed(sent))
}

/// `resource_pool/images/retransmit` (file 000): `host_uuid` or `ipaddr`
/// names one node; without either, every node of the image's pool.
pub async fn image_retransmit(c: Call) -> Result<Reply> {
    let req: t::RetransmitReq = c.json()?;
    let id = t::uuid("image_id", &req.image_id)?;
    let node = c
        .services
        .node_named(req.host_uuid.as_deref(), req.ipaddr.as_deref())?;
    let (name, r) = c
        .services
        .base_image_retransmit_task(&c.actor, &id, node, !c.wants_async)
        .await?;
    Ok(Reply::ran(r).on(name))
}

pub async fn image_delete(c: Call) -> Result<Reply> {
    let req: ImageIdReq = c.json()?;
    let img = c
        .services
        .base_image_delete(&c.actor, &t::uuid("image_id", &req.image_id)?)
        .await?;
    Ok(Reply::data(json!({"uuid": img.uuid.to_string()})).on(img.name.clone()))
}

pub async fn iso_upload(mut c: Call) -> Result<Reply> {
    let m = meta(&c)?;
    let body = c.upload.take().ok_or_else(|| Error::missing("body"))?;
    let iso = c
        .services
        .iso_upload(&c.actor, m, body, c.upload_len)
        .await?;
    Ok(Reply::data(t::iso_view(&iso)).on(iso.name.clone()))
}

pub async fn iso_delete(c: Call) -> Result<Reply> {
    let req: t::NameUuid = c.json()?;
    let iso = c
        .services
        .iso_delete(&c.actor, &t::uuid("uuid", &req.uuid)?)
        .await?;
    Ok(Reply::data(json!({"uuid": iso.uuid.to_string()})).on(iso.name.clone()))
}
