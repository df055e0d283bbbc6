//! Wire types of first boot: `controller/init` (and the unattended answer
//! file built on it), `node/check`, and the JSON views of nodes and their
//! storage.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::network::{vlan, Num, SubnetInfo};
use crate::domain::controller::InitSpec;
use crate::domain::ipv4;
use crate::domain::net::check_ifname;
use crate::domain::network::{Network, SwitchType, VSwitch};
use crate::domain::node::{Nic, Node};
use crate::domain::storage::Roles;
use crate::domain::text;
use crate::error::{Error, Result};
use crate::service::node::{Probe, StorageUsage};

/// `POST /api/v1/controller/init` (file 000), plus an optional
/// `subnet_info` for the default subnet.
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct InitReq {
    /// The management address: one of this host's addresses.
    pub ip: String,
    /// The node's root password in file 000. The controller is this host,
    /// so it is not needed; accepted and never stored.
    pub password: Option<String>,
    /// Default: the NIC that carries `ip`.
    pub manage_interface: Option<String>,
    /// Default: the management interface.
    pub image_interface: Option<String>,
    /// The default switch's uplink. Default: the management interface.
    pub data_interface: Option<String>,
    pub network_name: String,
    pub switch_name: String,
    /// `flat` or `vlan`, any case.
    pub switch_type: String,
    /// Required (1-4094) when `switch_type` is `vlan`.
    pub vlan_id: Option<Num>,
    /// Mount point → roles, e.g. `{"/opt/slow": "1,2,3,4"}`.
    pub storages: BTreeMap<String, String>,
    pub is_compute: bool,
    /// The default subnet; derived from the data NIC's address when absent
    /// (flat switches only).
    pub subnet_info: Option<SubnetInfo>,
}

fn iface(field: &str, v: &Option<String>) -> Result<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) => {
            check_ifname(field, n)?;
            Ok(Some(n.to_string()))
        }
    }
}

impl InitReq {
    pub fn into_domain(self) -> Result<InitSpec> {
        let storages = self
            .storages
            .iter()
            .map(|(path, roles)| {
                let field = format!("storages.{path}");
                if !path.starts_with('/') {
                    return Err(Error::invalid(
                        &field,
                        format!("`{path}` is not an absolute path"),
                    ));
                }
                let p = path.trim_end_matches('/');
                let p = if p.is_empty() { "/" } else { p };
                Ok((p.to_string(), Roles::parse(&field, roles)?))
            })
            .collect::<Result<Vec<_>>>()?;
        // `/opt/slow` and `/opt/slow/` are one mount point.
        for (i, (p, _)) in storages.iter().enumerate() {
            if storages[..i].iter().any(|(q, _)| q == p) {
                let raw = self
                    .storages
                    .keys()
                    .filter(|k| k.trim_end_matches('/') == p.trim_end_matches('/'))
                    .nth(1)
                    .cloned()
                    .unwrap_or_else(|| p.clone());
                return Err(Error::invalid(
                    &format!("storages.{raw}"),
                    format!("names mount point {p} a second time"),
                ));
            }
        }
        Ok(InitSpec {
            ip: ipv4::addr("ip", &self.ip)?,
            manage_interface: iface("manage_interface", &self.manage_interface)?,
            image_interface: iface("image_interface", &self.image_interface)?,
            data_interface: iface("data_interface", &self.data_interface)?,
            network_name: text::name("network_name", &self.network_name)?,
            switch_name: text::name("switch_name", &self.switch_name)?,
            switch_type: SwitchType::parse("switch_type", &self.switch_type)?,
            vlan_id: vlan(&self.vlan_id, "vlan_id")?,
            storages,
            is_compute: self.is_compute,
            subnet: self
                .subnet_info
                .map(|s| s.into_domain("subnet_info."))
                .transpose()?,
        })
    }

    /// The answers as recorded: every field but the password, normalised,
    /// so that a repeated unattended run can be recognised.
    pub fn answers(spec: &InitSpec) -> String {
        json!({
            "ip": spec.ip.to_string(),
            "manage_interface": spec.manage_interface,
            "image_interface": spec.image_interface,
            "data_interface": spec.data_interface,
            "network_name": spec.network_name,
            "switch_name": spec.switch_name,
            "switch_type": spec.switch_type.as_str(),
            "vlan_id": spec.network_vlan(),
            "storages": spec.storages.iter().map(|(p, r)| (p.clone(), Value::String(r.text()))).collect::<serde_json::Map<_, _>>(),
            "is_compute": spec.is_compute,
            "subnet_info": spec.subnet.as_ref().map(|(n, s)| json!({
                "name": n, "start_ip": s.range.start.to_string(), "end_ip": s.range.end.to_string(),
                "netmask": ipv4::mask(s.prefix).to_string(), "gateway": s.gateway.to_string(),
                "dns1": s.dns1.to_string(), "dns2": s.dns2.map(|d| d.to_string()),
            })),
        })
        .to_string()
    }
}

/// Checks a body without acting on it (for `"async": true`).
pub fn check_init(body: &[u8]) -> Result<()> {
    super::parse::<InitReq>(body)?.into_domain().map(|_| ())
}

/// An answer file: the `controller/init` fields plus the first admin.
#[derive(Debug)]
pub struct AnswerFile {
    pub admin_name: String,
    pub admin_password: String,
    pub init: InitReq,
}

impl AnswerFile {
    /// Parses TOML (or JSON, when the text starts with `{`).
    pub fn parse(text: &str) -> Result<AnswerFile> {
        let mut v: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| Error::invalid("answer file", e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| Error::invalid("answer file", e.to_string()))?
        };
        let obj = v
            .as_object_mut()
            .ok_or_else(|| Error::invalid("answer file", "is not a table of fields"))?;
        let take = |obj: &mut serde_json::Map<String, Value>, k: &str| -> Result<Option<String>> {
            match obj.remove(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(Error::invalid(k, "must be a string")),
            }
        };
        let admin_name = take(obj, "admin_name")?.unwrap_or_else(|| "admin".into());
        let admin_password = take(obj, "admin_password")?.ok_or_else(|| {
            Error::new(
                crate::error::Code::MissingField,
                "Field `admin_password` is missing",
            )
        })?;
        let init: InitReq = super::from_value(v, "")?;
        Ok(AnswerFile {
            admin_name,
            admin_password,
            init,
        })
    }
}

/// `POST /api/v1/node/check` (its Debug leaves the password out).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckReq {
    pub ip: String,
    /// Needed for other servers (over SSH); not for this host.
    pub root_pwd: Option<String>,
    /// `true`: fail when the host cannot virtualise. A boolean or the
    /// strings `"true"`/`"false"` of file 000.
    pub check: Option<Value>,
}

impl CheckReq {
    pub fn strict(&self) -> Result<bool> {
        match &self.check {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
            Some(_) => Err(Error::invalid("check", "must be true or false")),
        }
    }
}

fn bytes_gb(b: u64) -> f64 {
    ((b as f64) / (1u64 << 30) as f64 * 100.0).round() / 100.0
}

fn disk_type(rotational: Option<bool>) -> &'static str {
    match rotational {
        Some(true) => "hdd",
        Some(false) => "ssd",
        None => "unknown",
    }
}

/// The reply of `node/check`: file 000's fields, then the extras first
/// boot needs (virtualisation, storage, default route).
pub fn probe_view(p: &Probe, default_network: Value) -> Value {
    json!({
        "hostname": p.hostname,
        "interface_list": p.nics.iter().map(|n| json!({
            "interface": n.name,
            "ip": n.addr.map(|a| a.ip.to_string()).unwrap_or_default(),
            "mac": n.mac,
            "mask": n.addr.map(|a| ipv4::mask(a.prefix).to_string()).unwrap_or_default(),
            "speed": n.speed_mbps.unwrap_or(0),
            "stat": n.running,
            "driver": n.driver,
            "pci": n.pci,
            "bridge": n.bridge,
        })).collect::<Vec<_>>(),
        "default_network_info": default_network,
        "default_route": p.route.as_ref().map(|r| json!({"gateway": r.gateway.to_string(), "interface": r.dev})),
        "virtualization": {
            "supported": p.virt.supported(),
            "cpu_flag": p.virt.cpu_flag,
            "kvm_device": p.virt.kvm_device,
            "libvirt": match &p.virt.libvirt { Ok(v) => v.clone(), Err(e) => e.clone() },
            "libvirt_ok": p.virt.libvirt.is_ok(),
            "missing": p.virt.missing(),
        },
        "storage_list": p.mounts.iter().map(|m| json!({
            "path": m.path,
            "device": m.device,
            "fs": m.fs,
            "type": disk_type(m.rotational),
            "total": m.total_bytes,
            "used": m.total_bytes.saturating_sub(m.available_bytes),
            "free": m.available_bytes,
            "total_gb": bytes_gb(m.total_bytes),
            "free_gb": bytes_gb(m.available_bytes),
            "writable": m.writable,
            "usable": m.unusable().is_none(),
            "reason": m.unusable(),
        })).collect::<Vec<_>>(),
    })
}

/// `default_network_info` of `node/check`: the switch and network made at
/// initialisation, as file 000 shows them (`{}` before initialisation).
pub fn default_network_view(d: Option<(&VSwitch, &Network)>) -> Value {
    let Some((sw, n)) = d else {
        return json!({});
    };
    json!({
        "network_info": {
            "name": n.name,
            "switch_name": sw.name,
            "switch_type": sw.kind.as_str(),
            "uuid": n.uuid.to_string(),
            "vlan_id": n.vlan_id.map(|v| v.to_string()),
        },
        "virtual_switch": {
            "desc": sw.desc,
            "name": sw.name,
            "type": sw.kind.as_str(),
            "uuid": sw.uuid.to_string(),
        },
    })
}

pub const NODE_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "hostname",
    "ip",
    "role",
    "type",
    "is_compute",
    "pool_uuid",
    "manage_interface",
    "image_interface",
    "data_interface",
    "cpu_model",
    "sockets",
    "cores",
    "threads",
    "memory_gb",
    "gpu_count",
    "local",
    "status",
    "inventory",
    "nics",
    "created_at",
    "updated_at",
];

/// A node row of `GET /api/v1.0/node/`, with its inventory and NICs.
pub fn node_view(n: &Node, nics: &[&Nic], local: bool) -> Value {
    let inv = &n.inventory;
    json!({
        "uuid": n.uuid.to_string(),
        "name": n.name,
        "hostname": n.name,
        "ip": n.ip,
        "role": n.role.as_str(),
        // The predecessor's numbers: 1 controller+compute, 3 controller, 5 compute.
        "type": match n.role {
            crate::domain::node::NodeRole::ControllerCompute => 1,
            crate::domain::node::NodeRole::Controller => 3,
            crate::domain::node::NodeRole::Compute => 5,
        },
        "is_compute": n.role.is_compute(),
        "pool_uuid": n.pool.map(|p| p.to_string()),
        "manage_interface": n.manage_interface,
        "image_interface": n.image_interface,
        "data_interface": n.data_interface,
        "cpu_model": inv.cpu.model,
        "sockets": inv.cpu.sockets,
        "cores": inv.cpu.cores,
        "threads": inv.cpu.threads,
        "memory_gb": bytes_gb(inv.memory_bytes),
        "gpu_count": inv.gpus.len(),
        "local": local,
        "inventory": inv,
        "nics": nics.iter().map(|x| nic_view(x, inv)).collect::<Vec<_>>(),
        "created_at": crate::domain::clock::format_utc(n.created_at),
        "updated_at": crate::domain::clock::format_utc(n.updated_at),
    })
}

/// A NIC of a node, with the inventory's driver, firmware and PCI address.
pub fn nic_view(n: &Nic, inv: &crate::domain::inventory::Inventory) -> Value {
    let hw = inv.nics.iter().find(|h| h.name == n.name);
    json!({
        "uuid": n.uuid.to_string(),
        "interface": n.name,
        "mac": n.mac,
        "ip_list": n.addrs.iter().map(|a| json!({
            "ip": a.ip.to_string(),
            "netmask": ipv4::mask(a.prefix).to_string(),
            "is_manage": n.manage_ips.contains(&a.ip),
            "is_image": n.image_ips.contains(&a.ip),
        })).collect::<Vec<_>>(),
        "gateway": n.gateway.map(|g| g.to_string()),
        "is_manage": !n.manage_ips.is_empty(),
        "is_image": !n.image_ips.is_empty(),
        "driver": hw.and_then(|h| h.driver.clone()),
        "firmware": hw.and_then(|h| h.firmware.clone()),
        "pci": hw.and_then(|h| h.pci.clone()),
        "speed": hw.and_then(|h| h.speed_mbps),
    })
}

pub const STORAGE_FIELDS: &[&str] = &[
    "uuid",
    "node_uuid",
    "node_name",
    "path",
    "root",
    "role",
    "device",
    "fs",
    "type",
    "total",
    "used",
    "free",
    "usage",
    "created_at",
];

/// A row of `GET /api/v1.0/node_storage/`.
pub fn storage_view(s: &StorageUsage, node_name: Option<&str>) -> Value {
    let st = &s.storage;
    let used = s.total_bytes.saturating_sub(s.available_bytes);
    let pct = if s.total_bytes == 0 {
        0.0
    } else {
        (used as f64 * 10000.0 / s.total_bytes as f64).round() / 100.0
    };
    json!({
        "uuid": st.uuid.to_string(),
        "node_uuid": st.node.to_string(),
        "node_name": node_name,
        "path": st.mount,
        "root": st.root,
        "role": st.roles.text(),
        "device": st.device,
        "fs": st.fs,
        "type": disk_type(st.rotational),
        "total": s.total_bytes,
        "used": used,
        "free": s.available_bytes,
        "usage": pct,
        "created_at": crate::domain::clock::format_utc(st.created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse;

    #[test]
    fn the_documented_body_parses() {
        let r: InitReq = parse(
            br#"{"ip": "172.16.1.49", "password": "allinone", "manage_interface": "ens192",
                 "image_interface": "ens192", "data_interface": "ens224", "network_name": "default",
                 "switch_name": "default", "switch_type": "vlan", "vlan_id": 10,
                 "storages": {"/opt/slow": "1,2,3,4"}, "is_compute": false}"#,
        )
        .unwrap();
        let s = r.into_domain().unwrap();
        assert_eq!(s.switch_type, SwitchType::Vlan);
        assert_eq!(s.vlan_id, Some(10));
        assert_eq!(s.storages[0].0, "/opt/slow");
        assert_eq!(s.data_interface.as_deref(), Some("ens224"));
        let answers = InitReq::answers(&s);
        assert!(
            !answers.contains("allinone"),
            "the password is not recorded"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let base = r#""network_name":"n","switch_name":"s","switch_type":"flat","storages":{"/a":"1,2,3,4"},"is_compute":true"#;
        let e = |body: String| {
            parse::<InitReq>(body.as_bytes())
                .and_then(|r| r.into_domain())
                .unwrap_err()
                .message
        };
        assert!(e(format!(r#"{{"ip":"1.2.3",{base}}}"#)).contains("ip"));
        assert!(e(format!(
            r#"{{"ip":"192.0.2.1","data_interface":"a b",{base}}}"#
        ))
        .contains("data_interface"));
        assert!(e(r#"{"ip":"192.0.2.1","network_name":"n","switch_name":"s","switch_type":"star","storages":{},"is_compute":true}"#.into()).contains("switch_type"));
        assert!(e(r#"{"ip":"192.0.2.1","network_name":"n","switch_name":"s","switch_type":"flat","storages":{"rel":"1"},"is_compute":true}"#.into()).contains("storages.rel"));
        assert!(e(format!(r#"{{"ip":"192.0.2.1","color":"red",{base}}}"#)).contains("color"));
    }

    #[test]
    fn answer_files_in_toml_and_json() {
        let t = AnswerFile::parse(
            "admin_password = \"s3cret-pass\"\nip = \"192.0.2.5\"\nnetwork_name = \"default\"\nswitch_name = \"default\"\nswitch_type = \"flat\"\nis_compute = true\n[storages]\n\"/opt/slow\" = \"1,2,3,4\"\n",
        )
        .unwrap();
        assert_eq!(t.admin_name, "admin");
        assert_eq!(t.init.storages["/opt/slow"], "1,2,3,4");
        let j = AnswerFile::parse(r#"{"admin_name":"root2","admin_password":"x","ip":"192.0.2.5","network_name":"d","switch_name":"d","switch_type":"flat","is_compute":false,"storages":{"/":"1,2,3,4"}}"#).unwrap();
        assert_eq!(j.admin_name, "root2");
        assert!(AnswerFile::parse("ip = \"192.0.2.5\"")
            .unwrap_err()
            .message
            .contains("admin_password"));
        assert!(AnswerFile::parse("admin_password = \"x\"\nbogus = 1").is_err());
    }
}
