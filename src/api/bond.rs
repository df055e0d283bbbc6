//! Wire types of `/node/add_bond`, `/node/edit_bond` and `/node/unbond`
//! (file 000 "节点操作"), validated into the bond service's inputs.

use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::clock::format_utc;
use crate::domain::ipv4;
use crate::domain::net::{check_ifname, BondMode, IfAddr};
use crate::domain::node::Bond;
use crate::domain::text;
use crate::error::{Error, Result};
use crate::service::bond::{BondSpec, NicIps};

pub use super::fields::Flag;

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SlaveReq {
    pub nic_uuid: String,
    pub nic_name: String,
    /// Only in `/node/unbond`: the addresses the NIC gets back.
    pub ip_list: Option<Vec<IpReq>>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct IpReq {
    pub ip: String,
    pub netmask: String,
    pub is_manage: Option<Flag>,
    pub is_image: Option<Flag>,
    /// Only in `/node/unbond`.
    pub gateway: Option<String>,
    pub dns1: Option<String>,
    pub dns2: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct GateInfo {
    pub gateway: Option<String>,
    pub dns1: Option<String>,
    pub dns2: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct BondInfo {
    pub dev: String,
    pub mode: i64,
    pub slaves: Vec<String>,
}

/// `POST /api/v1/node/add_bond` (with `node_uuid`) and `/node/edit_bond`
/// (with `bond_uuid`).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct BondReq {
    /// The node's management address (checked for form only).
    pub ipaddr: String,
    pub node_uuid: Option<String>,
    pub bond_uuid: Option<String>,
    pub slaves: Vec<SlaveReq>,
    pub ip_list: Vec<IpReq>,
    pub gate_info: Option<GateInfo>,
    pub bond_info: BondInfo,
}

/// `POST /api/v1/node/unbond`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UnbondReq {
    pub ipaddr: String,
    pub bond_name: Option<String>,
    pub bond_uuid: String,
    pub slaves: Vec<SlaveReq>,
}

fn opt_ip(field: &str, v: &Option<String>) -> Result<Option<Ipv4Addr>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => ipv4::addr(field, s).map(Some),
    }
}

fn ips(field: &str, list: &[IpReq]) -> Result<NicIps> {
    let mut out = NicIps::default();
    for (i, ip) in list.iter().enumerate() {
        let f = |k: &str| format!("{field}[{i}].{k}");
        let addr = ipv4::addr(&f("ip"), &ip.ip)?;
        let prefix = ipv4::prefix(&f("netmask"), &ip.netmask)?;
        if !ipv4::is_host_of(addr, ipv4::network(addr, prefix), prefix) {
            return Err(Error::invalid(
                &f("ip"),
                format!("{addr} is not a host address of its /{prefix} network"),
            ));
        }
        if out.addrs.iter().any(|a| a.ip == addr) {
            return Err(Error::invalid(&f("ip"), format!("{addr} is listed twice")));
        }
        out.addrs.push(IfAddr { ip: addr, prefix });
        if ip
            .is_manage
            .as_ref()
            .map(|x| x.get(&f("is_manage")))
            .transpose()?
            .unwrap_or(false)
        {
            out.manage.push(addr);
        }
        if ip
            .is_image
            .as_ref()
            .map(|x| x.get(&f("is_image")))
            .transpose()?
            .unwrap_or(false)
        {
            out.image.push(addr);
        }
        if let Some(g) = opt_ip(&f("gateway"), &ip.gateway)? {
            out.gateway = Some(g);
        }
        for (k, v) in [("dns1", &ip.dns1), ("dns2", &ip.dns2)] {
            if let Some(d) = opt_ip(&f(k), v)? {
                out.dns.push(d);
            }
        }
    }
    Ok(out)
}

impl BondReq {
    pub fn into_spec(self) -> Result<BondSpec> {
        ipv4::addr("ipaddr", &self.ipaddr)?;
        let name = self.bond_info.dev.trim().to_string();
        check_ifname("bond_info.dev", &name)?;
        if !name.starts_with("bond") {
            return Err(Error::invalid(
                "bond_info.dev",
                format!("`{name}` must start with `bond`"),
            ));
        }
        let mode = BondMode::from_number("bond_info.mode", self.bond_info.mode)?;
        if self.slaves.is_empty() {
            return Err(Error::invalid("slaves", "lists no NIC"));
        }
        let mut slaves = Vec::new();
        for (i, s) in self.slaves.iter().enumerate() {
            if s.ip_list.is_some() {
                return Err(Error::invalid(
                    &format!("slaves[{i}].ip_list"),
                    "belongs to /node/unbond",
                ));
            }
            let u = text::uuid(&format!("slaves[{i}].nic_uuid"), &s.nic_uuid)?;
            if slaves.iter().any(|(x, _)| *x == u) {
                return Err(Error::invalid(
                    &format!("slaves[{i}].nic_uuid"),
                    "is listed twice",
                ));
            }
            slaves.push((u, s.nic_name.clone()));
        }
        let named: Vec<&String> = slaves.iter().map(|(_, n)| n).collect();
        if self.bond_info.slaves.len() != named.len()
            || !self.bond_info.slaves.iter().all(|n| named.contains(&n))
        {
            return Err(Error::invalid(
                "bond_info.slaves",
                "must name the same NICs as `slaves`",
            ));
        }
        let mut ip = ips("ip_list", &self.ip_list)?;
        if let Some(g) = &self.gate_info {
            ip.gateway = opt_ip("gate_info.gateway", &g.gateway)?;
            ip.dns = [("gate_info.dns1", &g.dns1), ("gate_info.dns2", &g.dns2)]
                .iter()
                .map(|(f, v)| opt_ip(f, v))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
        }
        Ok(BondSpec {
            name,
            mode,
            slaves,
            ips: ip,
        })
    }
}

impl UnbondReq {
    pub fn into_restore(self) -> Result<Vec<(uuid::Uuid, String, NicIps)>> {
        ipv4::addr("ipaddr", &self.ipaddr)?;
        self.slaves
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let u = text::uuid(&format!("slaves[{i}].nic_uuid"), &s.nic_uuid)?;
                let ip = ips(
                    &format!("slaves[{i}].ip_list"),
                    s.ip_list.as_deref().unwrap_or(&[]),
                )?;
                Ok((u, s.nic_name.clone(), ip))
            })
            .collect()
    }
}

pub const BOND_FIELDS: &[&str] = &[
    "uuid",
    "node_uuid",
    "dev",
    "mode",
    "slaves",
    "ip_list",
    "created_at",
    "updated_at",
];

pub fn bond_view(b: &Bond, slave_names: &[String], addrs: &[IfAddr]) -> Value {
    json!({
        "uuid": b.uuid.to_string(),
        "node_uuid": b.node.to_string(),
        "dev": b.name,
        "mode": b.mode.number(),
        "slaves": slave_names,
        "ip_list": addrs.iter().map(|a| json!({"ip": a.ip.to_string(), "netmask": ipv4::mask(a.prefix).to_string()})).collect::<Vec<_>>(),
        "created_at": format_utc(b.created_at),
        "updated_at": format_utc(b.updated_at),
    })
}

/// One row of `GET /api/v1/node/links`: a link as the kernel has it.
pub fn link_view(l: &crate::domain::net::Link) -> serde_json::Value {
    use crate::domain::net::LinkKind;
    let (kind, parent, vlan_id, bond_mode) = match &l.kind {
        LinkKind::Physical => ("physical", None, None, None),
        LinkKind::Bridge => ("bridge", None, None, None),
        LinkKind::Vlan { parent, id } => ("vlan", Some(parent.clone()), Some(*id), None),
        LinkKind::Bond { mode } => ("bond", None, None, Some(mode.number())),
        LinkKind::Veth => ("veth", None, None, None),
        LinkKind::Dummy => ("dummy", None, None, None),
        LinkKind::Loopback => ("loopback", None, None, None),
        LinkKind::Other(k) => (k.as_str(), None, None, None),
    };
    serde_json::json!({
        "name": l.name,
        "kind": kind,
        "parent": parent,
        "vlan_id": vlan_id,
        "bond_mode": bond_mode,
        "master": l.master,
        "mac": l.mac,
        "up": l.up,
        "running": l.running,
        "mtu": l.mtu,
        "addrs": l.addrs.iter().map(|a| format!("{}/{}", a.ip, a.prefix)).collect::<Vec<_>>(),
    })
}
