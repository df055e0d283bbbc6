//! Wire types of desktop groups and desktops in both dialects, their
//! validation into service specs, and the rows the queries list.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::template::{int, opt_flag, opt_ip, opt_uuid, ram_mb, some_flag, text, uuid};
use crate::domain::clock::{format_iso, format_utc};
use crate::domain::desktop::{Assign, DataRestore, Desktop, DesktopGroup, Kind, Phase};
use crate::domain::image::check_name;
use crate::error::{Error, Result};
use crate::service::desktop::group::{DesktopGroupPatch, DesktopGroupSpec};

/// `ip_detail` of file 001: where desktop addresses start.
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct IpDetail {
    #[serde(default)]
    pub auto: Option<Value>,
    #[serde(default)]
    pub start_ip: Option<String>,
    /// The subnet's own mask, gateway and DNS are used; these are checked
    /// only for form.
    #[serde(default)]
    pub netmask: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub dns_master: Option<String>,
    #[serde(default)]
    pub dns_slave: Option<String>,
}

/// A static desktop's user (file 000 `allocates`).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct Allocate {
    #[serde(default)]
    pub group_uuid: Option<String>,
    pub user_uuid: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Create an education or personal desktop group (file 000 and file 001).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DesktopCreateReq")]
pub struct CreateReq {
    pub name: String,
    #[serde(default)]
    pub owner_id: Option<Value>,
    /// The classroom (education) group.
    #[serde(default)]
    pub group_uuid: Option<String>,
    pub template_uuid: String,
    #[serde(default)]
    pub pool_uuid: Option<String>,
    #[serde(default)]
    pub network_uuid: Option<String>,
    #[serde(default)]
    pub subnet_uuid: Option<String>,
    #[serde(default)]
    pub vcpu: Option<Value>,
    /// GB (256 or more: MB).
    #[serde(default)]
    pub ram: Option<Value>,
    #[serde(default)]
    pub sys_restore: Option<Value>,
    /// 0 keep, 1 restore, 2 no data disk.
    #[serde(default)]
    pub data_restore: Option<Value>,
    #[serde(default)]
    pub instance_num: Option<Value>,
    pub prefix: String,
    #[serde(default)]
    pub postfix: Option<Value>,
    #[serde(default)]
    pub postfix_start: Option<Value>,
    /// `{node_ip: count}`; automatic placement when absent.
    #[serde(default)]
    pub create_info: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub use_bottom_ip: Option<Value>,
    #[serde(default)]
    pub ip_detail: Option<IpDetail>,
    #[serde(default)]
    pub show_info: Option<Value>,
    #[serde(default)]
    pub auto_update: Option<Value>,
    /// Personal: 1 system (from the subnet start, or DHCP without a
    /// subnet), 2 fixed from `allocate_start`.
    #[serde(default)]
    pub allocate_type: Option<Value>,
    #[serde(default)]
    pub allocate_start: Option<String>,
    /// Personal: 1 random, 2 static.
    #[serde(default)]
    pub desktop_type: Option<Value>,
    /// Personal random: user groups whose users may use it.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// Personal static: the users of the first desktops.
    #[serde(default)]
    pub allocates: Option<Vec<Allocate>>,
}

pub fn create_info(m: &Option<BTreeMap<String, Value>>) -> Result<BTreeMap<String, u32>> {
    let mut out = BTreeMap::new();
    for (ip, n) in m.iter().flatten() {
        crate::domain::ipv4::addr("create_info", ip)?;
        out.insert(
            ip.clone(),
            int(&format!("create_info.{ip}"), n, 0, 1000)? as u32,
        );
    }
    out.retain(|_, n| *n > 0);
    Ok(out)
}

fn uuids(field: &str, list: &Option<Vec<String>>) -> Result<Vec<Uuid>> {
    list.iter().flatten().map(|s| uuid(field, s)).collect()
}

impl CreateReq {
    pub fn into_spec(self, kind: Kind) -> Result<DesktopGroupSpec> {
        let personal = kind == Kind::Personal;
        let prefix = self.prefix.trim().to_string();
        if prefix.is_empty()
            || prefix.len() > 32
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::invalid(
                "prefix",
                "must be 1-32 letters, digits, `-` or `_`",
            ));
        }
        let data_restore = match &self.data_restore {
            None | Some(Value::Null) => DataRestore::Keep,
            Some(v) => DataRestore::from_number(int("data_restore", v, 0, 2)?)
                .expect("0..=2 are data restore values"),
        };
        let assign = if personal {
            Some(match &self.desktop_type {
                None => Assign::Random,
                Some(v) => match int("desktop_type", v, 1, 2)? {
                    1 => Assign::Random,
                    _ => Assign::Static,
                },
            })
        } else {
            None
        };
        let mut ip_start = None;
        let mut use_bottom_ip = opt_flag("use_bottom_ip", &self.use_bottom_ip, false)?;
        if let Some(d) = &self.ip_detail {
            for (f, v) in [
                ("ip_detail.netmask", &d.netmask),
                ("ip_detail.gateway", &d.gateway),
                ("ip_detail.dns_master", &d.dns_master),
                ("ip_detail.dns_slave", &d.dns_slave),
            ] {
                opt_ip(f, v)?;
            }
            if !opt_flag("ip_detail.auto", &d.auto, false)? {
                ip_start = opt_ip("ip_detail.start_ip", &d.start_ip)?;
            }
        }
        if personal {
            if let Some(v) = &self.allocate_type {
                if int("allocate_type", v, 1, 2)? == 2 {
                    ip_start = Some(
                        opt_ip("allocate_start", &self.allocate_start)?
                            .ok_or_else(|| Error::missing("allocate_start"))?,
                    );
                }
            }
            use_bottom_ip = false;
        }
        let allocates = self
            .allocates
            .iter()
            .flatten()
            .map(|a| uuid("allocates.user_uuid", &a.user_uuid))
            .collect::<Result<Vec<_>>>()?;
        if assign == Some(Assign::Random) && !allocates.is_empty() {
            return Err(Error::invalid(
                "allocates",
                "is for static groups (desktop_type 2)",
            ));
        }
        let count = match &self.instance_num {
            Some(v) => Some(int("instance_num", v, 1, 1000)? as u32),
            None if personal => return Err(Error::missing("instance_num")),
            None => None,
        };
        Ok(DesktopGroupSpec {
            name: check_name("name", &self.name)?,
            kind,
            owner: text(&self.owner_id),
            classroom: opt_uuid("group_uuid", &self.group_uuid)?,
            template: uuid("template_uuid", &self.template_uuid)?,
            pool: opt_uuid("pool_uuid", &self.pool_uuid)?,
            network: opt_uuid("network_uuid", &self.network_uuid)?,
            subnet: opt_uuid("subnet_uuid", &self.subnet_uuid)?,
            vcpu: self
                .vcpu
                .as_ref()
                .map(|v| int("vcpu", v, 1, 128).map(|n| n as u32))
                .transpose()?,
            ram_mb: self.ram.as_ref().map(|v| ram_mb("ram", v)).transpose()?,
            sys_restore: opt_flag("sys_restore", &self.sys_restore, !personal)?,
            data_restore,
            count,
            prefix,
            postfix: self
                .postfix
                .as_ref()
                .map(|v| int("postfix", v, 0, 6).map(|n| n as u32))
                .transpose()?
                .unwrap_or(2),
            postfix_start: self
                .postfix_start
                .as_ref()
                .map(|v| int("postfix_start", v, 0, 999_999).map(|n| n as u32))
                .transpose()?
                .unwrap_or(1),
            create_info: create_info(&self.create_info)?,
            use_bottom_ip,
            ip_start,
            show_info: opt_flag("show_info", &self.show_info, false)?,
            auto_update: opt_flag("auto_update", &self.auto_update, true)?,
            assign,
            user_groups: uuids("groups", &self.groups)?,
            allocates,
        })
    }
}

/// Change a group: file 000 `{uuid, value{name}}`, file 001 PUT `{uuid,
/// name, value{…}}`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DesktopUpdateReq")]
pub struct UpdateReq {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    pub value: UpdateValue,
}

#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DesktopUpdateValue")]
pub struct UpdateValue {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub sys_restore: Option<Value>,
    #[serde(default)]
    pub data_restore: Option<Value>,
    #[serde(default)]
    pub show_info: Option<Value>,
    #[serde(default)]
    pub auto_update: Option<Value>,
    #[serde(default)]
    pub use_bottom_ip: Option<Value>,
    #[serde(default)]
    pub ip_detail: Option<IpDetail>,
    #[serde(default)]
    pub maintenance: Option<Value>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

impl UpdateValue {
    pub fn into_patch(self) -> Result<DesktopGroupPatch> {
        Ok(DesktopGroupPatch {
            name: self
                .name
                .as_deref()
                .map(|n| check_name("value.name", n))
                .transpose()?,
            sys_restore: some_flag("value.sys_restore", &self.sys_restore)?,
            data_restore: self
                .data_restore
                .as_ref()
                .map(|v| {
                    int("value.data_restore", v, 0, 2)
                        .map(|n| DataRestore::from_number(n).expect("0..=2"))
                })
                .transpose()?,
            show_info: some_flag("value.show_info", &self.show_info)?,
            auto_update: some_flag("value.auto_update", &self.auto_update)?,
            use_bottom_ip: some_flag("value.use_bottom_ip", &self.use_bottom_ip)?,
            maintenance: some_flag("value.maintenance", &self.maintenance)?,
            user_groups: self
                .groups
                .is_some()
                .then(|| uuids("value.groups", &self.groups))
                .transpose()?,
        })
    }
}

/// One group by uuid (file 000 verbs, file 001 `default`), and the items
/// of file 001 batches.
pub use super::template::NameUuid;

/// File 001 batch: `{desktops: [{name, uuid}]}`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DesktopBatchReq")]
pub struct BatchReq {
    pub desktops: Vec<NameUuid>,
}

/// File 000 desktop operations (`/api/v1/instance/<verb>`).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct InstanceReq {
    /// The desktop group (also accepted as the misspelt `destop_uuid`).
    #[serde(default)]
    pub desktop_uuid: Option<String>,
    #[serde(default)]
    pub destop_uuid: Option<String>,
    /// 1 education, 2 personal (informative: the group knows its kind).
    #[serde(default)]
    pub desktop_type: Option<Value>,
    #[serde(default)]
    pub instances: Option<Vec<Value>>,
    #[serde(default)]
    pub instance_num: Option<Value>,
    #[serde(default)]
    pub create_info: Option<BTreeMap<String, Value>>,
}

/// `desktop_uuid`, or file 000's misspelt `destop_uuid`.
pub fn desktop_uuid(desktop_uuid: &Option<String>, destop_uuid: &Option<String>) -> Result<Uuid> {
    match (desktop_uuid, destop_uuid) {
        (Some(a), _) => uuid("desktop_uuid", a),
        (None, Some(b)) => uuid("destop_uuid", b),
        (None, None) => Err(Error::missing("desktop_uuid")),
    }
}

impl InstanceReq {
    pub fn group(&self) -> Result<Uuid> {
        desktop_uuid(&self.desktop_uuid, &self.destop_uuid)
    }

    /// Desktop uuids, as strings or `{uuid, name}` objects.
    pub fn instances(&self) -> Result<Vec<Uuid>> {
        self.instances
            .iter()
            .flatten()
            .map(|v| match v {
                Value::String(s) => uuid("instances", s),
                Value::Object(o) => match o.get("uuid").and_then(Value::as_str) {
                    Some(s) => uuid("instances.uuid", s),
                    None => Err(Error::missing("instances.uuid")),
                },
                _ => Err(Error::invalid("instances", "must list desktop uuids")),
            })
            .collect()
    }

    pub fn kind_check(&self, g: &DesktopGroup) -> Result<()> {
        if let Some(v) = &self.desktop_type {
            let k = int("desktop_type", v, 1, 2)?;
            if k != g.kind as u64 {
                return Err(Error::invalid(
                    "desktop_type",
                    format!(
                        "group `{}` is {}, not {}",
                        g.name,
                        kind_word(g.kind),
                        if k == 1 { "education" } else { "personal" }
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Bind or free a static desktop (`/api/v1/instance/assign|unassign`).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct AssignReq {
    pub instance_uuid: String,
    #[serde(default)]
    pub user_uuid: Option<String>,
}

pub fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::Education => "education",
        Kind::Personal => "personal",
    }
}

fn phase_word(p: Phase) -> &'static str {
    match p {
        Phase::Building => "building",
        Phase::Ready => "ready",
        Phase::Deleting => "deleting",
    }
}

/// What a group row shows of the things it refers to.
pub struct GroupCtx<'a> {
    pub classroom: Option<&'a str>,
    pub template: Option<(&'a str, &'a str, &'a str)>,
    /// (running, total) desktops.
    pub counts: (usize, usize),
}

pub fn desktop_group_view(g: &DesktopGroup, c: &GroupCtx) -> Value {
    let (tname, tstatus, os) = c.template.unwrap_or(("", "", ""));
    let (active, total) = c.counts;
    json!({
        "uuid": g.uuid.to_string(),
        "name": g.name,
        "kind": kind_word(g.kind),
        "classify": g.kind as u8,
        "default": g.default,
        "owner": g.owner,
        "group": g.classroom.map(|u| u.to_string()),
        "group_name": c.classroom,
        "template": g.template.to_string(),
        "template_name": tname,
        "template_status": tstatus,
        "pool_uuid": g.pool.to_string(),
        "network_uuid": g.network.map(|u| u.to_string()),
        "subnet_uuid": g.subnet.map(|u| u.to_string()),
        "vcpu": g.vcpu,
        "ram": g.ram_mb as f64 / 1024.0,
        "sys_restore": g.sys_restore as u8,
        "data_restore": g.data_restore as u8,
        "inactive_count": total - active,
        "active_count": active,
        "total_count": total,
        "active": g.active,
        "os_type": os,
        "prefix": g.prefix,
        "postfix": g.postfix,
        "postfix_start": g.postfix_start,
        "show_info": g.show_info,
        "auto_update": g.auto_update,
        "use_bottom_ip": g.use_bottom_ip,
        "desktop_type": g.assign.map(|a| a as u8),
        "groups": g.user_groups.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
        "maintenance": g.maintenance,
        "order_num": g.order_num,
        "state": phase_word(g.phase),
        "created_at": format_utc(g.created_at),
    })
}

pub const DESKTOP_GROUP_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "kind",
    "classify",
    "default",
    "owner",
    "group",
    "group_name",
    "template",
    "template_name",
    "template_status",
    "pool_uuid",
    "network_uuid",
    "subnet_uuid",
    "vcpu",
    "ram",
    "sys_restore",
    "data_restore",
    "inactive_count",
    "active_count",
    "total_count",
    "active",
    "os_type",
    "prefix",
    "postfix",
    "postfix_start",
    "show_info",
    "auto_update",
    "use_bottom_ip",
    "desktop_type",
    "groups",
    "maintenance",
    "order_num",
    "state",
    "created_at",
];

pub fn desktop_view(d: &Desktop, group_name: &str) -> Value {
    json!({
        "uuid": d.uuid.to_string(),
        "name": d.name,
        "desktop_name": d.name,
        "desktop_group": d.group.to_string(),
        "group_name": group_name,
        "desktop_status": (d.status == crate::domain::desktop::Status::Active) as u8,
        "status": d.status.as_str(),
        "desktop_ip": d.ip.map(|i| i.to_string()).unwrap_or_default(),
        "mac": d.mac,
        "terminal_id": d.seat,
        "terminal_mac": d.terminal_mac,
        "terminal_ip": d.terminal_ip,
        "start_datetime": d.started_at.map(format_iso),
        "node_uuid": d.node.to_string(),
        "user_uuid": d.user.map(|u| u.to_string()),
        "state": phase_word(d.phase),
        "created_at": format_utc(d.created_at),
    })
}

pub const DESKTOP_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "desktop_name",
    "desktop_group",
    "group_name",
    "desktop_status",
    "status",
    "desktop_ip",
    "mac",
    "terminal_id",
    "terminal_mac",
    "terminal_ip",
    "start_datetime",
    "node_uuid",
    "user_uuid",
    "state",
    "created_at",
];

/// (running, total) per group.
pub fn counts(list: &[Desktop]) -> HashMap<Uuid, (usize, usize)> {
    let mut m: HashMap<Uuid, (usize, usize)> = HashMap::new();
    for d in list {
        let e = m.entry(d.group).or_default();
        e.1 += 1;
        if d.status == crate::domain::desktop::Status::Active {
            e.0 += 1;
        }
    }
    m
}
