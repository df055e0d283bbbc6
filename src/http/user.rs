//! Users over HTTP: file 000's `/api/v1/group/user/<verb>` (create,
//! multi_create, update, enable, disable, delete).

use serde_json::{json, Value};

use super::call::{Call, Reply};
use crate::api::from_value;
use crate::api::template::uuid;
use crate::api::user::{self as u, UserCreateReq, UserUpdateReq, UsersReq};
use crate::error::{Code, Error, Result};

/// `POST /api/v1/group/user/<verb>` (file 000).
pub async fn user_verb(c: Call) -> Result<Reply> {
    let verb = c.op.trim_start_matches("user/").to_string();
    let v: Value = c.json()?;
    let s = &c.services;
    match verb.as_str() {
        "create" => {
            let req: UserCreateReq = from_value(v, "")?;
            let spec = req.into_spec(&s.settings.user_password)?;
            if spec.user_name.is_empty() {
                return Err(Error::missing("user_name"));
            }
            let u = s.user_create(&spec).await?;
            Ok(Reply::data(u::user_view(&u, None)).on(u.user_name))
        }
        "multi_create" => {
            let req: UserCreateReq = from_value(v, "")?;
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
        "update" => {
            let req: UserUpdateReq = from_value(v, "")?;
            let u = s
                .user_update(
                    &uuid("uuid", &req.uuid)?,
                    req.value.into_patch(&s.settings.user_password)?,
                )
                .await?;
            Ok(Reply::data(u::user_view(&u, None)).on(u.user_name))
        }
        "enable" | "disable" | "delete" => {
            let req: UsersReq = from_value(v, "")?;
            let ids = req.uuids()?;
            let mut results = Vec::new();
            for id in &ids {
                let r = match verb.as_str() {
                    "delete" => s.user_delete(id).await,
                    _ => {
                        let p = crate::service::user::UserPatch {
                            enabled: Some(verb == "enable"),
                            ..Default::default()
                        };
                        s.user_update(id, p).await
                    }
                };
                results.push(r.map(|_| ()));
            }
            Reply::tally(results)
        }
        other => Err(Error::new(
            Code::UnknownAction,
            format!("`{other}` is not a user action"),
        )),
    }
}
