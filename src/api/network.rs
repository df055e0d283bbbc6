//! Wire types of virtual switches, networks and subnets (file 000 "网络接口"),
//! their validation into domain values, and their JSON rows.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::clock::format_utc;
use crate::domain::ipv4;
use crate::domain::net::{bridge_name, check_vlan_id};
use crate::domain::network::{
    Network, Subnet, SubnetPatch, SubnetSpec, SwitchType, Uplink, VSwitch, VSwitchPatch,
};
use crate::domain::text;
use crate::error::{Error, Result};

pub use super::fields::Num;

#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct UplinkReq {
    pub node_uuid: String,
    pub nic_uuid: String,
    /// Accepted for compatibility (file 000 `network/init`); the NIC record decides.
    pub interface: Option<String>,
}

/// `POST /api/v1/vswitch/create`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct VSwitchCreateReq {
    pub name: String,
    /// `flat` or `vlan`, any case.
    #[serde(rename = "type")]
    pub kind: String,
    pub desc: Option<String>,
    pub uplinks: Vec<UplinkReq>,
}

#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct VSwitchValue {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub desc: Option<String>,
    pub uplinks: Option<Vec<UplinkReq>>,
}

/// `POST /api/v1/vswitch/update`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct VSwitchUpdateReq {
    pub uuid: String,
    pub value: VSwitchValue,
}

/// `{uuid}` bodies of the delete calls.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UuidReq {
    pub uuid: String,
}

/// `subnet_info` of `network/create` (`subnet_name`) and `network/init` (`name`).
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct SubnetInfo {
    pub subnet_name: Option<String>,
    pub name: Option<String>,
    pub start_ip: String,
    pub end_ip: String,
    pub netmask: String,
    pub gateway: String,
    pub dns1: String,
    pub dns2: Option<String>,
}

/// `POST /api/v1/network/create`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NetworkCreateReq {
    pub name: String,
    pub switch_uuid: String,
    /// Required (1–4094) on a VLAN switch, absent on a flat one.
    pub vlan_id: Option<Num>,
    pub subnet_info: Option<SubnetInfo>,
}

/// `POST /api/v1/network/init` (deprecated).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NetworkInitReq {
    pub network_name: String,
    pub switch_name: String,
    pub switch_type: String,
    pub vlan_id: Option<Num>,
    pub subnet_info: SubnetInfo,
    pub uplink: UplinkReq,
}

/// The `value` of `network/update` (a network: `name`) or of a subnet
/// update (any subnet field; absent ones keep their value).
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct NetOrSubnetValue {
    pub name: Option<String>,
    pub start_ip: Option<String>,
    pub end_ip: Option<String>,
    pub netmask: Option<String>,
    pub gateway: Option<String>,
    pub dns1: Option<String>,
    pub dns2: Option<String>,
}

/// `POST /api/v1/network/update` and `/api/v1/subnet/update`; `name` is the
/// current name (sent by the document's subnet example).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NetworkUpdateReq")]
pub struct UpdateReq {
    pub uuid: String,
    pub name: Option<String>,
    pub value: NetOrSubnetValue,
}

/// `POST /api/v1/subnet/create`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SubnetCreateReq {
    pub name: String,
    pub network_uuid: String,
    pub start_ip: String,
    pub end_ip: String,
    pub netmask: String,
    pub gateway: String,
    pub dns1: String,
    pub dns2: Option<String>,
}

pub use super::fields::uuid;

pub fn uplinks(field: &str, raw: &[UplinkReq]) -> Result<Vec<Uplink>> {
    raw.iter()
        .enumerate()
        .map(|(i, u)| {
            Ok(Uplink {
                node: uuid(&format!("{field}[{i}].node_uuid"), &u.node_uuid)?,
                nic: uuid(&format!("{field}[{i}].nic_uuid"), &u.nic_uuid)?,
                interface: String::new(),
            })
        })
        .collect()
}

pub fn desc(raw: Option<String>, field: &str) -> Result<Option<String>> {
    raw.map(|d| text::desc(field, &d)).transpose()
}

pub fn vlan(raw: &Option<Num>, field: &str) -> Result<Option<u16>> {
    raw.as_ref()
        .map(|n| check_vlan_id(field, n.get(field)?))
        .transpose()
}

impl SubnetInfo {
    /// The subnet's name (default `default`) and its checked addressing.
    pub fn into_domain(self, prefix: &str) -> Result<(String, SubnetSpec)> {
        let name = self
            .subnet_name
            .or(self.name)
            .unwrap_or_else(|| "default".into());
        let name = text::name(&format!("{prefix}subnet_name"), &name)?;
        let spec = SubnetSpec::parse(
            prefix,
            &self.start_ip,
            &self.end_ip,
            &self.netmask,
            &self.gateway,
            &self.dns1,
            self.dns2.as_deref(),
        )?;
        Ok((name, spec))
    }
}

impl VSwitchValue {
    pub fn into_domain(self) -> Result<VSwitchPatch> {
        let p = VSwitchPatch {
            name: self
                .name
                .map(|n| text::name("value.name", &n))
                .transpose()?,
            kind: self
                .kind
                .map(|k| SwitchType::parse("value.type", &k))
                .transpose()?,
            desc: desc(self.desc, "value.desc")?,
            uplinks: self
                .uplinks
                .map(|u| uplinks("value.uplinks", &u))
                .transpose()?,
        };
        if p == VSwitchPatch::default() {
            return Err(Error::invalid(
                "value",
                "names nothing to change (name, type, desc, uplinks)",
            ));
        }
        Ok(p)
    }
}

impl NetOrSubnetValue {
    fn has_subnet_fields(&self) -> bool {
        self.start_ip.is_some()
            || self.end_ip.is_some()
            || self.netmask.is_some()
            || self.gateway.is_some()
            || self.dns1.is_some()
            || self.dns2.is_some()
    }

    /// For a network: only the name changes.
    pub fn network_name(&self) -> Result<String> {
        if self.has_subnet_fields() {
            return Err(Error::invalid(
                "value",
                "a network's name is all that can change; subnet fields go with a subnet uuid",
            ));
        }
        match &self.name {
            Some(n) => text::name("value.name", n),
            None => Err(Error::missing("value.name")),
        }
    }

    /// For a subnet: fields given replace the current ones, then the whole
    /// subnet is checked again.
    pub fn subnet_patch(self, cur: &Subnet) -> Result<SubnetPatch> {
        let name = self
            .name
            .as_deref()
            .map(|n| text::name("value.name", n))
            .transpose()?;
        if !self.has_subnet_fields() {
            if name.is_none() {
                return Err(Error::invalid("value", "names nothing to change"));
            }
            return Ok(SubnetPatch { name, spec: None });
        }
        let s = |v: Option<String>, c: String| v.unwrap_or(c);
        let dns2 = match self.dns2 {
            Some(d) => d,
            None => cur.dns2.map(|d| d.to_string()).unwrap_or_default(),
        };
        let spec = SubnetSpec::parse(
            "value.",
            &s(self.start_ip, cur.range.start.to_string()),
            &s(self.end_ip, cur.range.end.to_string()),
            &s(self.netmask, ipv4::mask(cur.prefix).to_string()),
            &s(self.gateway, cur.gateway.to_string()),
            &s(self.dns1, cur.dns1.to_string()),
            Some(&dns2),
        )?;
        Ok(SubnetPatch {
            name,
            spec: Some(spec),
        })
    }
}

pub const VSWITCH_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "type",
    "desc",
    "uplinks",
    "network_count",
    "created_at",
    "updated_at",
];

pub fn vswitch_view(s: &VSwitch, networks: usize) -> Value {
    json!({
        "uuid": s.uuid.to_string(),
        "name": s.name,
        "type": s.kind.as_str(),
        "desc": s.desc,
        "uplinks": s.uplinks.iter().map(|u| json!({
            "node_uuid": u.node.to_string(), "nic_uuid": u.nic.to_string(), "interface": u.interface,
        })).collect::<Vec<_>>(),
        "network_count": networks,
        "created_at": format_utc(s.created_at),
        "updated_at": format_utc(s.updated_at),
    })
}

pub const NETWORK_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "switch_uuid",
    "switch_name",
    "switch_type",
    "vlan_id",
    "bridge",
    "created_at",
    "updated_at",
];

pub fn network_view(n: &Network, sw: Option<&VSwitch>) -> Value {
    json!({
        "uuid": n.uuid.to_string(),
        "name": n.name,
        "switch_uuid": n.switch.to_string(),
        "switch_name": sw.map(|s| s.name.clone()),
        "switch_type": sw.map(|s| s.kind.as_str()),
        "vlan_id": n.vlan_id,
        "bridge": bridge_name(&n.uuid),
        "created_at": format_utc(n.created_at),
        "updated_at": format_utc(n.updated_at),
    })
}

pub const SUBNET_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "network_uuid",
    "start_ip",
    "end_ip",
    "netmask",
    "gateway",
    "dns1",
    "dns2",
    "used",
    "total",
    "created_at",
    "updated_at",
];

pub fn subnet_view(s: &Subnet, used: usize) -> Value {
    json!({
        "uuid": s.uuid.to_string(),
        "name": s.name,
        "network_uuid": s.network.to_string(),
        "start_ip": s.range.start.to_string(),
        "end_ip": s.range.end.to_string(),
        "netmask": ipv4::mask(s.prefix).to_string(),
        "gateway": s.gateway.to_string(),
        "dns1": s.dns1.to_string(),
        "dns2": s.dns2.map(|d| d.to_string()).unwrap_or_default(),
        "used": used,
        "total": s.range.len(),
        "created_at": format_utc(s.created_at),
        "updated_at": format_utc(s.updated_at),
    })
}

/// What a host-applying change adds to its reply.
pub fn applied_view(mut v: Value, a: &crate::service::network::Applied) -> Value {
    v["host_changes"] = json!(a.host_steps);
    if let Some(s) = a.confirm_within_s {
        v["confirm_required"] = json!(true);
        v["confirm_within_s"] = json!(s);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse;

    #[test]
    fn documented_bodies_parse() {
        let r: NetworkCreateReq = parse(
            br#"{"name":"network1","switch_uuid":"570ddad8-27b5-11ea-a53d-562668d3ccea","vlan_id":10,
                 "subnet_info":{"subnet_name":"default","start_ip":"172.16.1.10","end_ip":"172.16.1.20",
                 "netmask":"255.255.0.0","gateway":"172.16.1.254","dns1":"8.8.8.8"}}"#,
        )
        .unwrap();
        assert_eq!(vlan(&r.vlan_id, "vlan_id").unwrap(), Some(10));
        let (name, spec) = r.subnet_info.unwrap().into_domain("subnet_info.").unwrap();
        assert_eq!((name.as_str(), spec.prefix), ("default", 16));
        let r: VSwitchCreateReq =
            parse(br#"{"name":"switch1","type":"vlan","desc":"d","uplinks":[]}"#).unwrap();
        assert_eq!(
            SwitchType::parse("type", &r.kind).unwrap(),
            SwitchType::Vlan
        );
        assert_eq!(
            vlan(&Some(Num::Text("10".into())), "vlan_id").unwrap(),
            Some(10)
        );
        assert!(vlan(&Some(Num::Int(5000)), "vlan_id")
            .unwrap_err()
            .message
            .contains("`vlan_id`"));
    }
}
