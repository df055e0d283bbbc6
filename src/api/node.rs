//! Wire types of joining: the `node/add`, `node/delete` and power bodies;
//! the protocol between a controller and its servers (what `node-probe`
//! prints, registration, heartbeats, pulls) is `domain::cluster`.

use schemars::JsonSchema;
use serde::Deserialize;

/// The messages between a controller and its servers are typed in
/// `domain::cluster`; these are their names on the wire side.
pub use crate::domain::cluster::{
    Heartbeat as HeartbeatReq, NetworkPush as NetworkPushReq, NicWire, ProbeWire, PullReq,
    PushedNet, Register as RegisterReq, ServiceWire,
};

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
