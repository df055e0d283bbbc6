//! Nodes (servers of the appliance) and their NICs, as far as the network
//! model needs them; host inventory and joining add to these records.

use std::net::Ipv4Addr;

use super::clock::Millis;
use super::net::IfAddr;
use super::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub uuid: Uuid,
    pub name: String,
    /// Management address.
    pub ip: String,
    pub created_at: Millis,
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
    pub created_at: Millis,
}
