//! Users over HTTP: file 000's `/api/v1/group/user/<verb>` (create,
//! multi_create, update, enable, disable, delete).

use serde_json::json;

use super::call::{Call, Reply};
use crate::api::template::uuid;
use crate::api::user::{self as u, UserCreateReq, UserUpdateReq, UsersReq};
use crate::error::{Error, Result};

/// `POST /api/v1/group/user/create` (file 000).
pub async fn create(c: Call) -> Result<Reply> {
    let req: UserCreateReq = c.json()?;
    let s = &c.services;
    let spec = req.into_spec(&s.settings.user_password)?;
    if spec.user_name.is_empty() {
        return Err(Error::missing("user_name"));
    }
    let u = s.user_create(&spec).await?;
    Ok(Reply::data(u::user_view(&u, None)).on(u.user_name))
}

/// `POST /api/v1/group/user/multi_create` (file 000): numbered users, all
/// or none.
pub async fn multi_create(c: Call) -> Result<Reply> {
    let req: UserCreateReq = c.json()?;
    let s = &c.services;
    let (prefix, digits, start, n) = req.batch()?;
    let list = s
        .user_multi_create(
            &req.into_spec(&s.settings.user_password)?,
            &prefix,
            digits,
            start,
            n,
        )
        .await?;
    Ok(Reply::data(json!({"success_num": list.len(), "failed_num": 0,
        "users": list.iter().map(|u| json!({"uuid": u.uuid.to_string(), "user_name": u.user_name})).collect::<Vec<_>>()}))
        .on(prefix))
}

/// `POST /api/v1/group/user/update` (file 000).
pub async fn update(c: Call) -> Result<Reply> {
    let req: UserUpdateReq = c.json()?;
    let s = &c.services;
    let u = s
        .user_update(
            &uuid("uuid", &req.uuid)?,
            req.value.into_patch(&s.settings.user_password)?,
        )
        .await?;
    Ok(Reply::data(u::user_view(&u, None)).on(u.user_name))
}

/// What `delete`, `enable` and `disable` do to each user they name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsersOp {
    Delete,
    Enable,
    Disable,
}

/// `POST /api/v1/group/user/{delete,enable,disable}` (file 000): one or
/// more users; the route names the verb.
pub async fn batch(c: Call, op: UsersOp) -> Result<Reply> {
    let req: UsersReq = c.json()?;
    let s = &c.services;
    let ids = req.uuids()?;
    let mut results = Vec::new();
    for id in &ids {
        let r = match op {
            UsersOp::Delete => s.user_delete(id).await,
            UsersOp::Enable | UsersOp::Disable => {
                let p = crate::service::user::UserPatch {
                    enabled: Some(op == UsersOp::Enable),
                    ..Default::default()
                };
                s.user_update(id, p).await
            }
        };
        results.push(r.map(|_| ()));
    }
    Reply::tally(results)
}
