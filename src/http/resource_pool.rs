//! Resource-pool routes in both dialects: thin translations to the services.

use serde::Deserialize;
use serde_json::{json, Value};

use super::call::{Call, Reply};
use crate::api::from_value;
use crate::api::resource_pool::{
    self as wire, CreateReq, DeleteReq, UpdateReq, WebDeleteReq, WebPutReq,
};
use crate::domain::pool::ResourcePool;
use crate::error::{Code, Error, Result};

fn label(p: &ResourcePool) -> String {
    format!("{} ({})", p.name, p.uuid)
}

async fn create_from(c: &Call, req: CreateReq) -> Result<Reply> {
    let p = c
        .services
        .resource_pool_create(&c.actor, req.into_domain()?)
        .await?;
    Ok(Reply::data(wire::view(&p)).on(label(&p)))
}

pub async fn create(c: Call) -> Result<Reply> {
    let req: CreateReq = c.json()?;
    create_from(&c, req).await
}

pub async fn delete(c: Call) -> Result<Reply> {
    let req: DeleteReq = c.json()?;
    let uuid = wire::uuid("uuid", &req.uuid)?;
    let p = c.services.resource_pool_delete(&c.actor, &uuid).await?;
    Ok(Reply::data(wire::view(&p)).on(label(&p)))
}

pub async fn update(c: Call) -> Result<Reply> {
    let req: UpdateReq = c.json()?;
    let uuid = wire::uuid("uuid", &req.uuid)?;
    let p = c
        .services
        .resource_pool_update(&c.actor, &uuid, req.value.into_domain()?)
        .await?;
    Ok(Reply::data(wire::view(&p)).on(label(&p)))
}

/// `POST /api/v1.0/resource_pool/ {action, param}`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebPost {
    /// `create`.
    pub action: String,
    pub param: Value,
}

pub async fn web_post(c: Call) -> Result<Reply> {
    let req: WebPost = c.json()?;
    match req.action.as_str() {
        "create" => create_from(&c, from_value(req.param, "param")?).await,
        other => Err(Error::new(
            Code::UnknownAction,
            format!("Field `action`: resource_pool has no action `{other}` (actions: create)"),
        )),
    }
}

pub async fn web_put(c: Call) -> Result<Reply> {
    let req: WebPutReq = c.json()?;
    let uuid = wire::uuid("uuid", &req.uuid)?;
    let mut patch = req.value.into_domain()?;
    patch.expect_name = req.name;
    let p = c
        .services
        .resource_pool_update(&c.actor, &uuid, patch)
        .await?;
    Ok(Reply::data(wire::view(&p)).on(label(&p)))
}

/// Batch delete: `{success_num, failed_num, failed[]}`; a batch of one that
/// failed answers with that error, as file 001 says.
pub async fn web_delete(c: Call) -> Result<Reply> {
    let req: WebDeleteReq = c.json()?;
    if req.resource_pools.is_empty() {
        return Err(Error::invalid("resource_pools", "lists no pool"));
    }
    let single = req.resource_pools.len() == 1;
    let (mut ok, mut failed) = (0, Vec::new());
    for (i, item) in req.resource_pools.iter().enumerate() {
        let r = async {
            let uuid = wire::uuid(&format!("resource_pools[{i}].uuid"), &item.uuid)?;
            c.services.resource_pool_delete(&c.actor, &uuid).await
        }
        .await;
        match r {
            Ok(_) => ok += 1,
            Err(e) if single => return Err(e),
            Err(e) => failed.push(json!({
                "uuid": item.uuid, "name": item.name, "code": e.code.number(), "msg": e.public_message()
            })),
        }
    }
    Ok(Reply::data(
        json!({"success_num": ok, "failed_num": failed.len(), "failed": failed}),
    ))
}
