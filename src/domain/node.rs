//! Nodes (servers of the appliance) and their NICs, as far as the network
//! model needs them; host inventory and joining add to these records.

use std::net::Ipv4Addr;

use super::clock::Millis;
use super::inventory::Inventory;
use super::net::{BondMode, IfAddr};
use super::Uuid;

/// What a node does in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeRole {
    /// Holds the store and serves the API; runs no desktops.
    Controller,
    /// The controller, also running desktops.
    ControllerCompute,
    /// Runs desktops for the controller.
    Compute,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Controller => "controller",
            NodeRole::ControllerCompute => "controller+compute",
            NodeRole::Compute => "compute",
        }
    }

    pub fn is_compute(self) -> bool {
        self != NodeRole::Controller
    }

    pub fn is_controller(self) -> bool {
        self != NodeRole::Compute
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub uuid: Uuid,
    /// The host name.
    pub name: String,
    /// Management address.
    pub ip: String,
    pub role: NodeRole,
    /// The resource pool whose desktops it runs (compute nodes).
    pub pool: Option<Uuid>,
    /// Interface names carrying management, image and data traffic.
    pub manage_interface: String,
    pub image_interface: String,
    pub data_interface: String,
    /// Hardware facts, as last read from the node.
    pub inventory: Inventory,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Node {
    /// A compute node with nothing known beyond its name and address.
    pub fn bare(uuid: Uuid, name: &str, ip: &str, created_at: Millis) -> Node {
        Node {
            uuid,
            name: name.into(),
            ip: ip.into(),
            role: NodeRole::Compute,
            pool: None,
            manage_interface: String::new(),
            image_interface: String::new(),
            data_interface: String::new(),
            inventory: Inventory::default(),
            created_at,
            updated_at: created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Nic {
    pub uuid: Uuid,
    pub node: Uuid,
    /// The interface name on the node (`eth1`, `bond0`).
    pub name: String,
    pub mac: String,
    /// The IPv4 addresses this NIC carries (on itself, or on its bridge).
    pub addrs: Vec<IfAddr>,
    /// The default gateway, when the default route goes through this NIC.
    pub gateway: Option<Ipv4Addr>,
    /// Which of `addrs` carry management and image traffic.
    pub manage_ips: Vec<Ipv4Addr>,
    pub image_ips: Vec<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub created_at: Millis,
}

impl Nic {
    /// A NIC record with no addresses on record.
    pub fn bare(uuid: Uuid, node: Uuid, name: &str, created_at: Millis) -> Nic {
        Nic {
            uuid,
            node,
            name: name.into(),
            mac: String::new(),
            addrs: Vec::new(),
            gateway: None,
            manage_ips: Vec::new(),
            image_ips: Vec::new(),
            dns: Vec::new(),
            created_at,
        }
    }
}

/// A bond of NICs on a node. Its uuid is also the uuid of the bond's own
/// NIC record (named `name`), so a switch can use the bond as its uplink.
#[derive(Clone, Debug, PartialEq)]
pub struct Bond {
    pub uuid: Uuid,
    pub node: Uuid,
    pub name: String,
    pub mode: BondMode,
    pub miimon_ms: u32,
    /// NIC uuids.
    pub slaves: Vec<Uuid>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// How the controller reaches a joined compute node: SSH with its own key
/// and the pinned host key, and the node's internal API with a token.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLink {
    pub node: Uuid,
    /// `SHA256:…` as pinned at `node/check`.
    pub host_key: String,
    pub ssh_user: String,
    pub ssh_port: u16,
    /// The node's internal API, e.g. `http://10.0.0.12:5000`.
    pub api: String,
    /// Presented by the controller on every internal-API call.
    pub control_token: String,
    /// The appliance version the node ran when it joined.
    pub version: String,
    pub joined_at: Millis,
}

/// What a node keeps about the controller it belongs to (its role file).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// The controller's API, as this node reaches it.
    pub controller: String,
    pub node_uuid: Uuid,
    /// Sent to the controller (reports, heartbeats, registration).
    pub credential: String,
    /// Expected from the controller on the internal API.
    pub control_token: String,
    /// The controller's SSH public key, installed for root.
    pub controller_key: String,
}
