//! What a node tells of itself: the probe (`vdi-appliance node-probe` on a
//! server, read by the controller over SSH, and sent again when the node's
//! service registers), as the views speak it and as JSON between two
//! appliances.

use serde::{Deserialize, Serialize};

use crate::domain::inventory::{Mount, Virt};
use crate::domain::net::{DefaultRoute, IfAddr};

/// A NIC as `node/check` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeNic {
    pub name: String,
    pub mac: String,
    /// The first IPv4 address it carries (on itself or on its bridge).
    pub addr: Option<IfAddr>,
    pub addrs: Vec<IfAddr>,
    pub speed_mbps: Option<u32>,
    pub running: bool,
    pub driver: Option<String>,
    pub pci: Option<String>,
    /// The bridge it is enslaved to, when the appliance bridged it.
    pub bridge: Option<String>,
}

/// What `node/check` learns about a host.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub hostname: String,
    pub nics: Vec<ProbeNic>,
    pub route: Option<DefaultRoute>,
    pub virt: Virt,
    pub mounts: Vec<Mount>,
}

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
