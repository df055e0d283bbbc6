//! Wire types of users (file 000 "用户管理"): create one or a numbered
//! batch, change, enable/disable/delete one or many, and the listed row
//! (never the password hash).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::template::{int, opt_flag, opt_uuid, some_flag, uuid};
use crate::domain::clock::format_utc;
use crate::domain::user::User;
use crate::error::{Error, Result};
use crate::service::user::{UserPatch, UserSpec};

/// Create a user (file 000 `/group/user/create`).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UserCreateReq {
    pub group_uuid: String,
    #[serde(default)]
    pub user_name: Option<String>,
    pub passwd: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub enabled: Option<Value>,
    /// multi_create
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub postfix: Option<Value>,
    #[serde(default)]
    pub postfix_start: Option<Value>,
    #[serde(default)]
    pub user_num: Option<Value>,
}

fn login_name(field: &str, n: &str) -> Result<String> {
    let n = n.trim();
    if n.is_empty() || n.len() > 64 || !n.chars().all(|c| c.is_alphanumeric() || "-_.@".contains(c))
    {
        return Err(Error::invalid(
            field,
            "must be 1-64 letters, digits, `-`, `_`, `.` or `@`",
        ));
    }
    Ok(n.to_string())
}

fn password(field: &str, p: &str) -> Result<String> {
    if p.chars().count() < 6 || p.len() > 128 {
        return Err(Error::invalid(field, "must be 6 to 128 characters"));
    }
    Ok(p.to_string())
}

impl UserCreateReq {
    pub fn into_spec(&self) -> Result<UserSpec> {
        Ok(UserSpec {
            group: uuid("group_uuid", &self.group_uuid)?,
            user_name: match &self.user_name {
                Some(n) => login_name("user_name", n)?,
                None => String::new(),
            },
            password: password("passwd", &self.passwd)?,
            name: self.name.clone().unwrap_or_default(),
            phone: self.phone.clone().unwrap_or_default(),
            email: self.email.clone().unwrap_or_default(),
            enabled: opt_flag("enabled", &self.enabled, true)?,
        })
    }

    /// prefix, digits, start, count of `multi_create`.
    pub fn batch(&self) -> Result<(String, u32, u32, u32)> {
        let prefix = login_name(
            "prefix",
            self.prefix
                .as_deref()
                .ok_or_else(|| Error::missing("prefix"))?,
        )?;
        let digits = match &self.postfix {
            Some(v) => int("postfix", v, 0, 6)? as u32,
            None => 2,
        };
        let start = match &self.postfix_start {
            Some(v) => int("postfix_start", v, 0, 999_999)? as u32,
            None => 1,
        };
        let n = int(
            "user_num",
            self.user_num
                .as_ref()
                .ok_or_else(|| Error::missing("user_num"))?,
            1,
            crate::service::user::MAX_BATCH as u64,
        )? as u32;
        Ok((prefix, digits, start, n))
    }
}

/// Change a user: `{uuid, value{…}}`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UserUpdateReq {
    pub uuid: String,
    pub value: UserValue,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UserValue {
    #[serde(default)]
    pub group_uuid: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub passwd: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub enabled: Option<Value>,
}

impl UserValue {
    pub fn into_patch(self) -> Result<UserPatch> {
        Ok(UserPatch {
            group: opt_uuid("value.group_uuid", &self.group_uuid)?,
            user_name: self
                .user_name
                .as_deref()
                .map(|n| login_name("value.user_name", n))
                .transpose()?,
            password: self
                .passwd
                .as_deref()
                .map(|p| password("value.passwd", p))
                .transpose()?,
            name: self.name,
            phone: self.phone,
            email: self.email,
            enabled: some_flag("value.enabled", &self.enabled)?,
        })
    }
}

/// One or many users by uuid (`uuid` may be a list: "supports batch").
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UsersReq {
    pub uuid: Value,
}

impl UsersReq {
    pub fn uuids(&self) -> Result<Vec<Uuid>> {
        match &self.uuid {
            Value::String(s) => Ok(vec![uuid("uuid", s)?]),
            Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| Error::invalid("uuid", "must list uuids"))
                        .and_then(|s| uuid("uuid", s))
                })
                .collect(),
            _ => Err(Error::invalid("uuid", "must be a uuid or a list of uuids")),
        }
    }
}

pub fn user_view(u: &User, group_name: Option<&str>) -> Value {
    json!({
        "uuid": u.uuid.to_string(),
        "group_uuid": u.group.to_string(),
        "group_name": group_name,
        "user_name": u.user_name,
        "name": u.name,
        "phone": u.phone,
        "email": u.email,
        "enabled": u.enabled,
        "created_at": format_utc(u.created_at),
    })
}

pub const USER_FIELDS: &[&str] = &[
    "uuid",
    "group_uuid",
    "group_name",
    "user_name",
    "name",
    "phone",
    "email",
    "enabled",
    "created_at",
];
