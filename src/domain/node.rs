//! Nodes (servers of the appliance) and their NICs, as far as the network
//! model needs them; host inventory and joining add to these records.

use super::clock::Millis;
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
    pub created_at: Millis,
}
