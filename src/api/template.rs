//! Wire types of templates, base images, ISOs and groups in both dialects,
//! their validation into service specs, and the JSON views.

use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::clock::format_utc;
use crate::domain::group::{Group, GroupType};
use crate::domain::image::{check_name, BaseImage, Iso};
use crate::domain::template::{Classify, Template};
use crate::error::{Error, Result};
use crate::service::group::GroupSpec;
use crate::service::template::{TemplatePatch, TemplateSpec};

pub use super::fields::{opt_uuid, uuid};

pub fn opt_ip(field: &str, v: &Option<String>) -> Result<Option<Ipv4Addr>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => crate::domain::ipv4::addr(field, s).map(Some),
    }
}

/// A whole number sent as a number or as text.
pub fn int(field: &str, v: &Value, min: u64, max: u64) -> Result<u64> {
    let n = match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Error::invalid(
            field,
            format!("must be a whole number from {min} to {max}"),
        )),
    }
}

/// RAM in GB (float) → MB; 256 or more is read as MB already (house rule).
pub fn ram_mb(field: &str, v: &Value) -> Result<u64> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite() && *f > 0.0)
    .ok_or_else(|| Error::invalid(field, "must be a positive number of GB"))?;
    let mb = if f >= 256.0 { f } else { f * 1024.0 };
    if !(128.0..=1_048_576.0).contains(&mb) {
        return Err(Error::invalid(
            field,
            "must be between 0.125 GB and 1024 GB",
        ));
    }
    Ok(mb.round() as u64)
}

/// `true`/`false`, 1/0 or their text.
pub fn flag(field: &str, v: &Option<Value>) -> Result<bool> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            _ => Err(Error::invalid(field, "must be true or false")),
        },
        _ => Err(Error::invalid(field, "must be true or false")),
    }
}

/// A flag that may be absent (then `default`).
pub fn opt_flag(field: &str, v: &Option<Value>, default: bool) -> Result<bool> {
    match v {
        None | Some(Value::Null) => Ok(default),
        _ => flag(field, v),
    }
}

/// A flag that changes something only when given.
pub fn some_flag(field: &str, v: &Option<Value>) -> Result<Option<bool>> {
    v.is_some().then(|| flag(field, v)).transpose()
}

pub fn text(v: &Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SystemDisk {
    #[serde(default)]
    pub image_id: String,
    pub size: Value,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct DataDisk {
    pub inx: Value,
    pub size: Value,
}

/// `template/create` (file 000) and web action `create` (file 001).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TemplateCreateReq")]
pub struct CreateReq {
    pub name: String,
    #[serde(default)]
    pub desc: String,
    #[serde(default)]
    pub owner_id: Option<Value>,
    #[serde(default)]
    pub os_type: Option<String>,
    #[serde(default)]
    pub classify: Option<Value>,
    #[serde(default)]
    pub pool_uuid: Option<String>,
    #[serde(default)]
    pub network_uuid: Option<String>,
    #[serde(default)]
    pub subnet_uuid: Option<String>,
    #[serde(default)]
    pub bind_ip: Option<String>,
    pub vcpu: Value,
    pub ram: Value,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub data_disks: Vec<DataDisk>,
    #[serde(default)]
    pub system_disk: Option<SystemDisk>,
    /// ISO to install from: an ISO uuid (or, as file 000 shows, its path).
    #[serde(default)]
    pub iso: Option<String>,
    #[serde(default)]
    pub power_on: Option<Value>,
    /// File 000: `false` for a system desktop; accepted and ignored.
    #[serde(default)]
    pub template: Option<Value>,
}

fn data_disks(list: &[DataDisk]) -> Result<Vec<(u32, u32)>> {
    list.iter()
        .enumerate()
        .map(|(i, d)| {
            Ok((
                int(&format!("data_disks[{i}].inx"), &d.inx, 0, 26)? as u32,
                int(&format!("data_disks[{i}].size"), &d.size, 1, 16_384)? as u32,
            ))
        })
        .collect()
}

fn groups(list: &[String]) -> Result<Vec<Uuid>> {
    list.iter()
        .enumerate()
        .map(|(i, g)| uuid(&format!("groups[{i}]"), g))
        .collect()
}

impl CreateReq {
    /// `isos` resolves an ISO given by path (file 000) to its uuid.
    pub fn into_spec(self, iso_by_path: &dyn Fn(&str) -> Option<Uuid>) -> Result<TemplateSpec> {
        let name = check_name("name", &self.name)?;
        let classify = match &self.classify {
            None | Some(Value::Null) => Classify::Teaching,
            Some(v) => {
                Classify::from_number(int("classify", v, 1, 3)? as u8).expect("range checked")
            }
        };
        let iso = match self.iso.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(match Uuid::parse_str(s) {
                Ok(u) => u,
                Err(_) => iso_by_path(s)
                    .ok_or_else(|| Error::invalid("iso", format!("no ISO is known by `{s}`")))?,
            }),
        };
        let (image, iso_gb) = match &self.system_disk {
            Some(sd) => {
                let size = int("system_disk.size", &sd.size, 0, 16_384)? as u32;
                match sd.image_id.trim() {
                    "" => (None, size),
                    id => (Some((uuid("system_disk.image_id", id)?, size)), size),
                }
            }
            None => (None, 0),
        };
        if image.is_none() && iso.is_none() {
            return Err(Error::missing("system_disk.image_id"));
        }
        if iso.is_some() && image.is_none() && iso_gb == 0 {
            return Err(Error::invalid(
                "system_disk.size",
                "give the size of the disk to install on",
            ));
        }
        let network = opt_uuid("network_uuid", &self.network_uuid)?;
        let subnet = opt_uuid("subnet_uuid", &self.subnet_uuid)?;
        let bind_ip = opt_ip("bind_ip", &self.bind_ip)?;
        if subnet.is_some() && network.is_none() {
            return Err(Error::missing("network_uuid"));
        }
        if bind_ip.is_some() && subnet.is_none() {
            return Err(Error::invalid(
                "bind_ip",
                "needs a subnet_uuid (without one the template uses DHCP)",
            ));
        }
        Ok(TemplateSpec {
            name,
            desc: self.desc,
            owner: text(&self.owner_id),
            os_type: self.os_type.filter(|s| !s.trim().is_empty()),
            classify,
            pool: opt_uuid("pool_uuid", &self.pool_uuid)?,
            network,
            subnet,
            bind_ip,
            vcpu: int("vcpu", &self.vcpu, 1, 128)? as u32,
            ram_mb: ram_mb("ram", &self.ram)?,
            groups: groups(&self.groups)?,
            image: if iso.is_some() { None } else { image },
            iso,
            iso_disk_gb: iso_gb,
            data_disks: data_disks(&self.data_disks)?,
            power_on: flag("power_on", &self.power_on)?,
        })
    }
}

/// `template/copy` (000) and web `copy` (001).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct CopyReq {
    pub template_uuid: String,
    pub name: String,
    #[serde(default)]
    pub desc: String,
    #[serde(default)]
    pub owner_id: Option<Value>,
    #[serde(default)]
    pub pool_uuid: Option<String>,
    #[serde(default)]
    pub network_uuid: Option<String>,
    #[serde(default)]
    pub subnet_uuid: Option<String>,
    #[serde(default)]
    pub bind_ip: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl CopyReq {
    pub fn into_spec(self) -> Result<(Uuid, TemplateSpec)> {
        let src = uuid("template_uuid", &self.template_uuid)?;
        let network = opt_uuid("network_uuid", &self.network_uuid)?;
        let subnet = opt_uuid("subnet_uuid", &self.subnet_uuid)?;
        if subnet.is_some() && network.is_none() {
            return Err(Error::missing("network_uuid"));
        }
        Ok((
            src,
            TemplateSpec {
                name: check_name("name", &self.name)?,
                desc: self.desc,
                owner: text(&self.owner_id),
                os_type: None,
                classify: Classify::Teaching,
                pool: opt_uuid("pool_uuid", &self.pool_uuid)?,
                network,
                subnet,
                bind_ip: opt_ip("bind_ip", &self.bind_ip)?,
                vcpu: 1,
                ram_mb: 1024,
                groups: groups(&self.groups)?,
                image: None,
                iso: None,
                iso_disk_gb: 0,
                data_disks: Vec::new(),
                power_on: false,
            },
        ))
    }
}

/// A body naming one template (`uuid`, optionally `name`, `desc`, …).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct OneReq {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Save: the version's remark.
    #[serde(default)]
    pub desc: Option<String>,
    /// attach_source: the ISO.
    #[serde(default)]
    pub iso_uuid: Option<String>,
    /// change_device (000): ISO path (empty ejects).
    #[serde(default)]
    pub path: Option<String>,
    /// rollback: the version to go back to.
    #[serde(default)]
    pub version: Option<Value>,
    /// rollback, as file 001 names it (`version` is also taken): the
    /// version to go back to; 0 when the template has only one.
    #[serde(default)]
    pub rollback_version: Option<Value>,
    /// rollback (file 001): the version the caller believes is current;
    /// refused when the template has moved on since.
    #[serde(default)]
    pub cur_version: Option<Value>,
    /// rollback by operation uuid (file 001 lists operations).
    #[serde(default)]
    pub operate_uuid: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NameUuid {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Web batch bodies: `{templates:[{name,uuid}]}`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TemplateBatchReq")]
pub struct BatchReq {
    pub templates: Vec<NameUuid>,
}

/// Web PUT: `{uuid, name, value{...}}`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PutReq {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    pub value: PutValue,
}

#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct PutValue {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub desc: Option<String>,
    #[serde(default)]
    pub network_uuid: Option<String>,
    #[serde(default)]
    pub subnet_uuid: Option<String>,
    #[serde(default)]
    pub bind_ip: Option<String>,
    #[serde(default)]
    pub vcpu: Option<Value>,
    #[serde(default)]
    pub ram: Option<Value>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub devices: Vec<Device>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct Device {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub inx: Option<Value>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub device_name: Option<String>,
    #[serde(default)]
    pub boot_index: Option<Value>,
    pub size: Value,
    #[serde(default)]
    pub used: Option<Value>,
}

impl PutValue {
    pub fn into_patch(self) -> Result<TemplatePatch> {
        let mut p = TemplatePatch {
            name: self
                .name
                .map(|n| check_name("value.name", &n))
                .transpose()?,
            desc: self.desc,
            ..Default::default()
        };
        if self.network_uuid.is_some() {
            p.network = Some(opt_uuid("value.network_uuid", &self.network_uuid)?);
        }
        if self.subnet_uuid.is_some() {
            p.subnet = Some(opt_uuid("value.subnet_uuid", &self.subnet_uuid)?);
        }
        if self.bind_ip.is_some() {
            p.bind_ip = Some(opt_ip("value.bind_ip", &self.bind_ip)?);
        }
        if let Some(v) = &self.vcpu {
            p.vcpu = Some(int("value.vcpu", v, 1, 128)? as u32);
        }
        if let Some(r) = &self.ram {
            p.ram_mb = Some(ram_mb("value.ram", r)?);
        }
        if let Some(g) = &self.groups {
            p.groups = Some(groups(g)?);
        }
        for (i, d) in self.devices.iter().enumerate() {
            let size = int(&format!("value.devices[{i}].size"), &d.size, 1, 16_384)? as u32;
            match d.uuid.as_deref().map(str::trim) {
                Some(u) if !u.is_empty() => p
                    .grow
                    .push((uuid(&format!("value.devices[{i}].uuid"), u)?, size)),
                _ => {
                    // Numbered from 0 as file 001 shows (or from 1), like
                    // create; the disk goes after the existing ones.
                    let inx = match &d.inx {
                        Some(v) => int(&format!("value.devices[{i}].inx"), v, 0, 26)? as u32,
                        None => 0,
                    };
                    p.add.push((inx, size));
                }
            }
        }
        Ok(p)
    }
}

/// What the web list shows of a template beside its own record.
pub struct TemplateCtx<'a> {
    pub network_name: Option<&'a str>,
    pub subnet: Option<&'a crate::domain::network::Subnet>,
    /// Every group (for the names of the template's groups).
    pub groups: &'a [Group],
    pub power: &'a str,
    /// Desktop groups made from the template, and their desktops.
    pub desktop_groups: usize,
    pub desktops: usize,
    /// Bytes a disk's image chain holds, as last measured.
    pub used: &'a dyn Fn(&Uuid) -> Option<u64>,
}

/// The template as the web list shows it (file 001 L814).
pub fn template_view(t: &Template, c: &TemplateCtx) -> Value {
    let mut disks: Vec<_> = t.disks.iter().collect();
    disks.sort_by_key(|d| d.inx);
    let devices: Vec<Value> = disks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "uuid": d.uuid.to_string(),
                "type": if d.is_system() { "system" } else { "data" },
                "device_name": crate::domain::vmxml::disk_dev(i),
                "boot_index": d.inx,
                "size": d.size_gb,
                // GB with two decimals, as file 001 shows (`11.73`).
                "used": (c.used)(&d.uuid).map(|b| (b as f64 / (1u64 << 30) as f64 * 100.0).round() / 100.0),
            })
        })
        .collect();
    let gs: Vec<Value> = t
        .groups
        .iter()
        .map(|u| {
            json!({"uuid": u.to_string(), "name": c.groups.iter().find(|g| g.uuid == *u).map(|g| g.name.clone())})
        })
        .collect();
    json!({
        "uuid": t.uuid.to_string(),
        "name": t.name,
        "desc": t.desc,
        "owner": t.owner,
        "os_type": t.os_type,
        "classify": t.classify as u8,
        "pool_uuid": t.pool.to_string(),
        "node_uuid": t.node.to_string(),
        "network_uuid": t.network.map(|u| u.to_string()),
        "network_name": c.network_name,
        "subnet_uuid": t.subnet.map(|u| u.to_string()),
        "subnet_name": c.subnet.map(|s| s.name.clone()),
        "subnet_start_ip": c.subnet.map(|s| s.range.start.to_string()),
        "subnet_end_ip": c.subnet.map(|s| s.range.end.to_string()),
        "bind_ip": t.bind_ip.map(|i| i.to_string()).unwrap_or_default(),
        "mac": t.mac,
        "vcpu": t.vcpu,
        "cpu_count": t.vcpu,
        "ram": t.ram_mb as f64 / 1024.0,
        "total_ram": t.ram_mb as f64 / 1024.0,
        "base_image": t.base_image.map(|u| u.to_string()),
        "attach": t.iso.map(|u| u.to_string()),
        "all_group": t.groups.is_empty(),
        "groups": gs,
        "version": t.version,
        "versions": t.versions.iter().map(|v| v.number).collect::<Vec<_>>(),
        "status": t.status.as_str(),
        "power": c.power,
        "desktop_count": c.desktop_groups,
        "terminal_count": c.desktops,
        "devices": devices,
        "created_at": format_utc(t.created_at),
        "updated_time": format_utc(t.updated_at),
    })
}

pub const TEMPLATE_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "desc",
    "owner",
    "os_type",
    "classify",
    "pool_uuid",
    "node_uuid",
    "network_uuid",
    "network_name",
    "subnet_uuid",
    "subnet_name",
    "subnet_start_ip",
    "subnet_end_ip",
    "bind_ip",
    "mac",
    "vcpu",
    "cpu_count",
    "ram",
    "total_ram",
    "base_image",
    "attach",
    "all_group",
    "groups",
    "version",
    "versions",
    "status",
    "power",
    "desktop_count",
    "terminal_count",
    "devices",
    "created_at",
    "updated_time",
];

/// One line of a template's operation history (file 001 `operate/`).
pub fn operate_view(t: &Template, o: &crate::domain::template::Operation) -> Value {
    json!({
        "uuid": o.uuid.to_string(),
        "template": t.uuid.to_string(),
        "remark": o.remark,
        "version": o.version,
        "op_type": o.op_type as u8,
        "exist": t.has_version(o.version),
        "updated_at": format_utc(o.at),
    })
}

pub const OPERATE_FIELDS: &[&str] = &[
    "uuid",
    "template",
    "remark",
    "version",
    "op_type",
    "exist",
    "updated_at",
];

pub fn image_view(i: &BaseImage) -> Value {
    serde_json::to_value(crate::service::image::distribute::ImageSummary::of(i))
        .unwrap_or(Value::Null)
}

pub const IMAGE_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "pool_uuid",
    "os_type",
    "path",
    "md5_sum",
    "size",
    "virtual_size_gb",
    "nodes",
    "created_at",
];

pub fn iso_view(i: &Iso) -> Value {
    json!({
        "uuid": i.uuid.to_string(),
        "name": i.name,
        "os_type": i.os_type,
        "path": i.path.to_string_lossy(),
        "md5_sum": i.md5,
        "size": i.size,
        "created_at": format_utc(i.created_at),
    })
}

pub const ISO_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "os_type",
    "path",
    "md5_sum",
    "size",
    "created_at",
];

/// `resource_pool/images/upload` (000): an image already on the node.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ImageRegisterReq")]
pub struct RegisterReq {
    pub pool_uuid: String,
    pub image_id: String,
    pub image_path: String,
    pub md5_sum: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub os_type: Option<String>,
}

/// `resource_pool/images/retransmit`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RetransmitReq {
    pub image_id: String,
    /// The node to send to (or `ipaddr`); neither: every node of the pool.
    #[serde(default)]
    pub host_uuid: Option<String>,
    #[serde(default)]
    pub ipaddr: Option<String>,
    #[serde(default)]
    pub pool_uuid: Option<String>,
    #[serde(default)]
    pub md5_sum: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ImageIdReq {
    pub image_id: String,
    #[serde(default)]
    pub pool_uuid: Option<String>,
}

/// Group create/update in both dialects.
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct GroupReq {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub desc: Option<String>,
    #[serde(default)]
    pub group_type: Option<Value>,
    #[serde(default)]
    pub network_uuid: Option<String>,
    #[serde(default)]
    pub subnet_uuid: Option<String>,
    #[serde(default)]
    pub start_ip: Option<String>,
    #[serde(default)]
    pub end_ip: Option<String>,
    #[serde(default)]
    pub enabled: Option<Value>,
    /// 000 update: `{uuid, name, value{...}}`.
    #[serde(default)]
    pub value: Option<Box<GroupReq>>,
}

impl GroupReq {
    pub fn into_spec(self) -> Result<GroupSpec> {
        let range = match (
            opt_ip("start_ip", &self.start_ip)?,
            opt_ip("end_ip", &self.end_ip)?,
        ) {
            (Some(a), Some(b)) => Some(Some(
                crate::domain::ipv4::Range::new(a, b)
                    .map_err(|_| Error::invalid("end_ip", "must not be below start_ip"))?,
            )),
            (None, None) => None,
            (None, _) => return Err(Error::missing("start_ip")),
            (_, None) => return Err(Error::missing("end_ip")),
        };
        Ok(GroupSpec {
            name: self.name.map(|n| check_name("name", &n)).transpose()?,
            desc: self.desc,
            kind: self
                .group_type
                .as_ref()
                .map(|v| GroupType::parse("group_type", v))
                .transpose()?,
            network: self
                .network_uuid
                .is_some()
                .then(|| opt_uuid("network_uuid", &self.network_uuid))
                .transpose()?,
            subnet: self
                .subnet_uuid
                .is_some()
                .then(|| opt_uuid("subnet_uuid", &self.subnet_uuid))
                .transpose()?,
            range,
            enabled: self
                .enabled
                .is_some()
                .then(|| flag("enabled", &self.enabled))
                .transpose()?,
        })
    }
}

/// A group row; `counts` are (templates, desktops, users, terminals seen)
/// of it.
pub fn group_view(g: &Group, counts: (usize, usize, usize, usize)) -> Value {
    let (templates, desktops, users, terminals) = counts;
    json!({
        "uuid": g.uuid.to_string(),
        "name": g.name,
        "desc": g.desc,
        "group_type": g.kind as u8,
        "network_uuid": g.network.map(|u| u.to_string()),
        "subnet_uuid": g.subnet.map(|u| u.to_string()),
        "start_ip": g.range.map(|r| r.start.to_string()),
        "end_ip": g.range.map(|r| r.end.to_string()),
        "enabled": g.enabled,
        "template_count": templates,
        "terminal_count": terminals,
        "seat_count": g.range.map(|r| r.len()).unwrap_or(0),
        "desktop_count": desktops,
        "user_count": users,
        "created_at": format_utc(g.created_at),
    })
}

pub const GROUP_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "desc",
    "group_type",
    "network_uuid",
    "subnet_uuid",
    "start_ip",
    "end_ip",
    "enabled",
    "template_count",
    "terminal_count",
    "seat_count",
    "desktop_count",
    "user_count",
    "created_at",
];
