//! Wire types of the terminal API (file 000 "终端管理服务") and of the
//! admin's terminal registry (`/api/v1.0/terminal/`): requests with both
//! spellings the document uses, and the replies terminals expect.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::desktop::desktop_uuid;
use super::template::{int, uuid};
use crate::domain::clock::format_utc;
use crate::domain::desktop::DesktopGroup;
use crate::domain::group::Group;
use crate::domain::ipv4::addr;
use crate::domain::terminal::{Mac, Terminal};
use crate::error::{Error, Result};
use crate::service::terminal::{Binding, Opened, TerminalPatch};
use crate::service::terminal_login::Login;

/// `personal/login`: the table says `username`, the example `user_name`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TerminalLoginReq")]
pub struct LoginReq {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
    pub password: String,
    pub mac: String,
}

impl LoginReq {
    pub fn parts(&self) -> Result<(String, Mac)> {
        let name = match (&self.username, &self.user_name) {
            (Some(a), Some(b)) if a.trim() != b.trim() => {
                return Err(Error::invalid(
                    "username",
                    "differs from `user_name`; send one",
                ))
            }
            (Some(n), _) | (None, Some(n)) if !n.trim().is_empty() => n.trim().to_string(),
            _ => return Err(Error::missing("username")),
        };
        Ok((name, Mac::parse("mac", &self.mac)?))
    }
}

/// A call that carries only the session.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SessionReq {
    pub session_id: String,
}

/// `personal/change_pwd`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ChangePwdReq {
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    pub password: String,
    pub new_password: String,
}

impl ChangePwdReq {
    pub fn name(&self) -> Result<String> {
        self.user_name
            .as_deref()
            .or(self.username.as_deref())
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Error::missing("user_name"))
    }

    pub fn new_password(&self, policy: &crate::domain::user::PasswordPolicy) -> Result<String> {
        policy.check("new_password", &self.new_password)
    }
}

fn seat(v: &Value) -> Result<u32> {
    int("terminal_id", v, 1, 100_000).map(|n| n as u32)
}

/// `education/edu_desktops`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct EduDesktopsReq {
    #[serde(default)]
    pub terminal_id: Option<Value>,
    pub terminal_ip: String,
}

impl EduDesktopsReq {
    pub fn ip(&self) -> Result<Ipv4Addr> {
        if let Some(v) = &self.terminal_id {
            seat(v)?;
        }
        addr("terminal_ip", &self.terminal_ip)
    }
}

/// `personal/instance`: open the user's desktop of a group.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PersonalOpenReq {
    pub session_id: String,
    #[serde(default)]
    pub desktop_uuid: Option<String>,
    #[serde(default)]
    pub destop_uuid: Option<String>,
    /// The group's name as the terminal shows it (not needed).
    #[serde(default)]
    pub desktop_name: Option<String>,
}

impl PersonalOpenReq {
    pub fn group(&self) -> Result<Uuid> {
        desktop_uuid(&self.desktop_uuid, &self.destop_uuid)
    }
}

/// `education/instance`: open the seat's desktop of a classroom group.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct EduOpenReq {
    pub terminal_id: Value,
    pub mac: String,
    pub ip: String,
    #[serde(default)]
    pub desktop_uuid: Option<String>,
    #[serde(default)]
    pub destop_uuid: Option<String>,
    #[serde(default)]
    pub desktop_name: Option<String>,
}

impl EduOpenReq {
    /// (seat, mac, ip, group)
    pub fn parts(&self) -> Result<(u32, Mac, Ipv4Addr, Uuid)> {
        Ok((
            seat(&self.terminal_id)?,
            Mac::parse("mac", &self.mac)?,
            addr("ip", &self.ip)?,
            desktop_uuid(&self.desktop_uuid, &self.destop_uuid)?,
        ))
    }
}

/// One terminal of `instance/list`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct BindingReq {
    pub terminal_id: Value,
    #[serde(default)]
    pub terminal_mac: String,
    pub terminal_ip: String,
}

/// `instance/list` takes a list (as the example) or one terminal.
pub fn bindings_req(v: Value) -> Result<Vec<(u32, String, Ipv4Addr)>> {
    let items = match v {
        Value::Array(a) => a,
        Value::Object(_) => vec![v],
        _ => {
            return Err(Error::invalid(
                "body",
                "must be a list of {terminal_id, terminal_mac, terminal_ip}",
            ))
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let r: BindingReq = super::from_value(item, &format!("[{i}]."))?;
            Ok((
                int(&format!("[{i}].terminal_id"), &r.terminal_id, 1, 100_000)? as u32,
                r.terminal_mac,
                addr(&format!("[{i}].terminal_ip"), &r.terminal_ip)?,
            ))
        })
        .collect()
}

/// `instance/close`: one desktop by uuid.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct CloseReq {
    #[serde(default)]
    pub desktop_uuid: Option<String>,
    #[serde(default)]
    pub destop_uuid: Option<String>,
}

impl CloseReq {
    pub fn desktop(&self) -> Result<Uuid> {
        desktop_uuid(&self.desktop_uuid, &self.destop_uuid)
    }
}

/// `personal/close_instance`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PersonalCloseReq {
    pub session_id: String,
    pub mac: String,
}

impl PersonalCloseReq {
    pub fn mac(&self) -> Result<Mac> {
        Mac::parse("mac", &self.mac)
    }
}

/// `education/close_instance`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct MacReq {
    pub mac: String,
}

impl MacReq {
    pub fn mac(&self) -> Result<Mac> {
        Mac::parse("mac", &self.mac)
    }
}

/// `education/group`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct TerminalIpReq {
    pub terminal_ip: String,
}

impl TerminalIpReq {
    pub fn ip(&self) -> Result<Ipv4Addr> {
        addr("terminal_ip", &self.terminal_ip)
    }
}

pub fn login_view(l: &Login) -> Value {
    let mut v = json!({
        "uuid": l.user.uuid.to_string(),
        "user_name": l.user.user_name,
        "name": l.user.name,
        "session_id": l.session_id,
        "expire_time": l.expire_time,
        "group_uuid": l.user.group.to_string(),
        "phone": l.user.phone,
        "email": l.user.email,
    });
    if let Some(m) = &l.old_mac {
        v["old_mac"] = json!(m);
    }
    v
}

pub fn opened_view(o: &Opened) -> Value {
    json!({
        "spice_host": o.console.host,
        "spice_port": o.console.port,
        "spice_token": o.console.ticket,
        "token_expire_time": o.console.expire_time,
        "spice_proxy": o.console.spice_proxy,
        "name": o.desktop.name,
        "uuid": o.desktop.uuid.to_string(),
        "group_uuid": o.desktop.group.to_string(),
        "os_type": o.os_type,
    })
}

/// `person_desktops`: `maintenance` is true when the group is usable, as
/// the document says.
pub fn person_desktop_view(g: &DesktopGroup) -> Value {
    json!({"uuid": g.uuid.to_string(), "name": g.name, "desc": "", "maintenance": !g.maintenance,
           "order_num": g.order_num})
}

pub fn edu_desktop_view(g: &DesktopGroup) -> Value {
    json!({"uuid": g.uuid.to_string(), "name": g.name, "desc": "", "active": g.active,
           "order_num": g.order_num, "default": g.default})
}

pub fn binding_view(b: &Binding) -> Value {
    json!({"desktop_ip": b.desktop_ip.to_string(), "group_uuid": b.group.to_string(),
           "terminal_id": b.seat, "terminal_ip": b.terminal_ip.to_string(),
           "terminal_mac": b.terminal_mac})
}

pub fn group_brief(g: &Group) -> Value {
    json!({"name": g.name, "uuid": g.uuid.to_string(), "group_type": g.kind as u8,
           "start_ip": g.range.map(|r| r.start.to_string()).unwrap_or_default(),
           "end_ip": g.range.map(|r| r.end.to_string()).unwrap_or_default()})
}

/// Names of what a registry row points at.
#[derive(Default)]
pub struct TerminalNames {
    pub groups: HashMap<Uuid, String>,
    pub users: HashMap<Uuid, String>,
    pub desktops: HashMap<Uuid, String>,
}

pub fn terminal_view(t: &Terminal, n: &TerminalNames) -> Value {
    let name = |m: &HashMap<Uuid, String>, id: Option<Uuid>| id.and_then(|i| m.get(&i).cloned());
    json!({
        "uuid": t.uuid.to_string(),
        "mac": t.mac.to_string(),
        "name": t.name,
        "ip": t.ip.map(|i| i.to_string()),
        "terminal_id": t.seat,
        "group_uuid": t.classroom.map(|u| u.to_string()),
        "group_name": name(&n.groups, t.classroom),
        "user_uuid": t.user.map(|u| u.to_string()),
        "user_name": name(&n.users, t.user),
        "desktop_uuid": t.desktop.map(|u| u.to_string()),
        "desktop_name": name(&n.desktops, t.desktop),
        "last_seen": format_utc(t.last_seen),
        "created_at": format_utc(t.created_at),
    })
}

pub const TERMINAL_FIELDS: &[&str] = &[
    "uuid",
    "mac",
    "name",
    "ip",
    "terminal_id",
    "group_uuid",
    "group_name",
    "user_uuid",
    "user_name",
    "desktop_uuid",
    "desktop_name",
    "last_seen",
    "created_at",
];

/// `PUT /api/v1.0/terminal/`: rename or re-seat (`terminal_id: null`
/// clears the seat).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct TerminalPutReq {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    pub value: TerminalValue,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct TerminalValue {
    #[serde(default)]
    pub name: Option<String>,
    /// Absent keeps the seat; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub terminal_id: Option<Value>,
}

/// A present field, even `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl TerminalPutReq {
    pub fn patch(&self) -> Result<(Uuid, TerminalPatch)> {
        let name = match &self.value.name {
            Some(n) if n.chars().count() > 64 => {
                return Err(Error::invalid(
                    "value.name",
                    "must be at most 64 characters",
                ))
            }
            n => n.as_ref().map(|n| n.trim().to_string()),
        };
        let seat = match &self.value.terminal_id {
            None => None,
            Some(Value::Null) => Some(None),
            Some(v) => Some(Some(int("value.terminal_id", v, 1, 100_000)? as u32)),
        };
        Ok((uuid("uuid", &self.uuid)?, TerminalPatch { name, seat }))
    }
}

/// `DELETE /api/v1.0/terminal/`: `{terminals: [{uuid}]}`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct TerminalDeleteReq {
    pub terminals: Vec<super::resource_pool::Item>,
}
