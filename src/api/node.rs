//! Wire types of joining: what `vdi-appliance node-probe` prints on a
//! server (read by the controller over SSH), the `node/add`, `node/delete`
//! and power bodies, and what a compute node sends when it registers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::inventory::{Mount, Virt};
use crate::domain::net::{DefaultRoute, IfAddr};
use crate::service::node::{Probe, ProbeNic};

/// The node-side facts, as JSON between two appliances.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ProbeWire {
    /// The appliance version on that server.
    pub version: String,
    pub hostname: String,
    pub nics: Vec<NicWire>,
    pub route: Option<(String, String)>,
    pub cpu_flag: Option<String>,
    pub kvm_device: bool,
    /// `Ok(version text)` or `Err(why)`.
    pub libvirt: Result<String, String>,
    /// The domain's own type: its serde form is the wire form.
    pub mounts: Vec<Mount>,
    /// What the server's own service says of itself (its `health`), or why
    /// it could not be asked.
    pub service: Result<ServiceWire, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct NicWire {
    pub name: String,
    pub mac: String,
    pub addrs: Vec<(String, u8)>,
    pub speed_mbps: Option<u32>,
    pub running: bool,
    pub driver: Option<String>,
    pub pci: Option<String>,
    pub bridge: Option<String>,
}

/// The service on the server: its role (`setup` before anyone set it up,
/// `controller`, or `compute`) and, for a compute node, whose it is.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ServiceWire {
    pub role: String,
    pub controller: Option<String>,
    pub listen_port: u16,
}

fn addr_wire(a: &IfAddr) -> (String, u8) {
    (a.ip.to_string(), a.prefix)
}

impl ProbeWire {
    pub fn new(p: &Probe, service: Result<ServiceWire, String>) -> ProbeWire {
        ProbeWire {
            version: env!("CARGO_PKG_VERSION").into(),
            hostname: p.hostname.clone(),
            nics: p
                .nics
                .iter()
                .map(|n| NicWire {
                    name: n.name.clone(),
                    mac: n.mac.clone(),
                    addrs: n.addrs.iter().map(addr_wire).collect(),
                    speed_mbps: n.speed_mbps,
                    running: n.running,
                    driver: n.driver.clone(),
                    pci: n.pci.clone(),
                    bridge: n.bridge.clone(),
                })
                .collect(),
            route: p
                .route
                .as_ref()
                .map(|r| (r.gateway.to_string(), r.dev.clone())),
            cpu_flag: p.virt.cpu_flag.clone(),
            kvm_device: p.virt.kvm_device,
            libvirt: p.virt.libvirt.clone(),
            mounts: p.mounts.clone(),
            service,
        }
    }

    /// Back into the probe the views speak; addresses that do not parse
    /// are dropped (an older or newer node may say more).
    pub fn probe(&self) -> Probe {
        let addr = |(ip, prefix): &(String, u8)| {
            ip.parse().ok().map(|ip| IfAddr {
                ip,
                prefix: *prefix,
            })
        };
        Probe {
            hostname: self.hostname.clone(),
            nics: self
                .nics
                .iter()
                .map(|n| {
                    let addrs: Vec<IfAddr> = n.addrs.iter().filter_map(addr).collect();
                    ProbeNic {
                        name: n.name.clone(),
                        mac: n.mac.clone(),
                        addr: addrs.first().copied(),
                        addrs,
                        speed_mbps: n.speed_mbps,
                        running: n.running,
                        driver: n.driver.clone(),
                        pci: n.pci.clone(),
                        bridge: n.bridge.clone(),
                    }
                })
                .collect(),
            route: self.route.as_ref().and_then(|(gw, dev)| {
                gw.parse().ok().map(|gateway| DefaultRoute {
                    gateway,
                    dev: dev.clone(),
                })
            }),
            virt: Virt {
                cpu_flag: self.cpu_flag.clone(),
                kvm_device: self.kvm_device,
                libvirt: self.libvirt.clone(),
            },
            mounts: self.mounts.clone(),
        }
    }
}

/// `POST /api/v1/node/add` (file 000; its Debug leaves the password out).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReq {
    /// The root password; used once to install the controller's key, never stored.
    pub password: String,
    pub ip: String,
    pub pool_uuid: String,
    pub network_uuid: String,
    pub switch_uuid: String,
    /// The data NIC: the virtual switch's uplink on this node.
    pub interface: String,
    pub manage_interface: String,
    pub image_interface: String,
    /// Answer at once with a task id (`GET /api/v1/task/<id>`).
    #[serde(default, rename = "async")]
    pub run_async: bool,
}

impl std::fmt::Debug for super::controller::CheckReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckReq").field("ip", &self.ip).finish()
    }
}

impl std::fmt::Debug for AddReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddReq").field("ip", &self.ip).finish()
    }
}

/// `node/delete`, `node/shutdown`, `node/reboot`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NodeOpReq {
    pub uuid: String,
    /// Shutdown/reboot: allowed on the controller itself only with this.
    #[serde(default)]
    pub force: bool,
}

/// What a compute node sends when its service starts in compute role.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NodeRegisterReq")]
pub struct RegisterReq {
    pub node_uuid: String,
    pub version: String,
    /// The port its internal API listens on.
    pub listen_port: u16,
    /// Its facts, as `node-probe` prints them.
    #[schemars(with = "Value")]
    pub probe: Value,
    /// Its hardware inventory (CPU, memory, disks).
    #[schemars(with = "Value")]
    pub inventory: Value,
}

/// `POST /api/v1/node/heartbeat`.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatReq {
    pub node_uuid: String,
}

/// `POST /api/v1/internal/pull` (controller → node).
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct PullReq {
    /// The file's path, the same on the controller and the node.
    pub path: String,
    /// Its md5 on the controller; the node's copy must match.
    pub md5: String,
    /// Check a copy pulled before again (its md5 on disk).
    #[serde(default)]
    pub verify: bool,
}

/// One network a node bridges: its uplink there and its VLAN.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PushedNet {
    pub network_uuid: String,
    /// The node's NIC (or bond) that is the switch's uplink.
    pub interface: String,
    #[serde(default)]
    pub vlan_id: Option<u16>,
}

/// `POST /api/v1/internal/network` (controller → node): every network the
/// node must bridge; what is not listed is removed.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct NetworkPushReq {
    pub networks: Vec<PushedNet>,
}

impl NetworkPushReq {
    pub fn into_bridges(self) -> crate::error::Result<Vec<crate::domain::netplan::WantBridge>> {
        use crate::domain::net::{bridge_name, check_ifname, vlan_name};
        self.networks
            .into_iter()
            .map(|n| {
                let uuid = uuid::Uuid::parse_str(&n.network_uuid)
                    .map_err(|_| crate::error::Error::invalid("network_uuid", "must be a uuid"))?;
                check_ifname("interface", &n.interface)?;
                Ok(crate::domain::netplan::WantBridge {
                    bridge: bridge_name(&uuid),
                    port: match n.vlan_id {
                        Some(v) => vlan_name(&n.interface, v)?,
                        None => n.interface.clone(),
                    },
                    vlan: n.vlan_id.map(|v| (n.interface.clone(), v)),
                })
            })
            .collect()
    }
}
