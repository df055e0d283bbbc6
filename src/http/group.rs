//! User groups over HTTP: `/api/v1/group/create|update|delete` and the
//! web dialect's verbs.

use serde_json::Value;

use super::call::{Call, Reply};
use crate::api::from_value;
use crate::api::template::{self as t, GroupReq};
use crate::error::{Error, Result};

/// Groups: `/api/v1/group/create|update|delete` and the web verbs.
pub async fn group_create(c: Call) -> Result<Reply> {
    let mut v: Value = c.json()?;
    if let Some(p) = v.get("param").cloned() {
        v = p;
    }
    let spec = from_value::<GroupReq>(v, "")?.into_spec()?;
    let g = c.services.group_create(&c.actor, spec).await?;
    Ok(Reply::data(t::group_view(&g, (0, 0, 0, 0))).on(g.name.clone()))
}

pub async fn group_update(c: Call) -> Result<Reply> {
    let req: GroupReq = c.json()?;
    let uuid = t::uuid(
        "uuid",
        req.uuid.as_deref().ok_or_else(|| Error::missing("uuid"))?,
    )?;
    let spec = match req.value {
        Some(v) => v.into_spec()?,
        None => GroupReq { uuid: None, ..req }.into_spec()?,
    };
    let g = c.services.group_update(&c.actor, &uuid, spec).await?;
    Ok(Reply::data(t::group_view(&g, (0, 0, 0, 0))).on(g.name.clone()))
}

pub async fn group_delete(c: Call) -> Result<Reply> {
    let v: Value = c.json()?;
    let list: Vec<String> = match v.get("groups").and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .filter_map(|g| g.get("uuid").and_then(Value::as_str).map(String::from))
            .collect(),
        None => vec![v
            .get("uuid")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::missing("uuid"))?
            .to_string()],
    };
    let mut results = Vec::new();
    for u in list {
        let id = t::uuid("uuid", &u)?;
        results.push(c.services.group_delete(&c.actor, &id).await.map(|_| ()));
    }
    Reply::tally(results)
}
