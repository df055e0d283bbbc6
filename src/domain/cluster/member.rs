//! The messages of membership and files: a node registers and sends
//! heartbeats (answered with the networks it must bridge); the controller
//! asks a node to pull a file, to bridge networks, or to shut down.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::probe::ProbeWire;
use crate::domain::inventory::Inventory;
use crate::domain::net::{bridge_name, check_ifname, vlan_name};
use crate::domain::netplan::WantBridge;
use crate::error::Result;

/// `node/register`: a compute node's service started in compute role.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NodeRegisterReq")]
pub struct Register {
    #[schemars(with = "String")]
    pub node_uuid: Uuid,
    /// The appliance release it runs.
    pub version: String,
    /// The port its internal API listens on.
    pub listen_port: u16,
    /// Its facts, as `node-probe` prints them.
    #[schemars(with = "Value")]
    pub probe: ProbeWire,
    /// Its hardware inventory (CPU, memory, disks).
    #[schemars(with = "Value")]
    pub inventory: Inventory,
}

/// What `node/register` answers.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
pub struct Registered {
    #[schemars(with = "String")]
    pub node_uuid: Uuid,
}

/// `node/heartbeat`: the node is alive (answered with `NetworkPush`).
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HeartbeatReq")]
pub struct Heartbeat {
    #[schemars(with = "String")]
    pub node_uuid: Uuid,
}

/// `internal/pull` (controller → node): start or follow the pull of a file.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PullReq {
    /// The file's path, the same on the controller and the node.
    #[schemars(with = "String")]
    pub path: PathBuf,
    /// Its md5 on the controller; the node's copy must match.
    pub md5: String,
    /// Check a copy pulled before again (its md5 on disk).
    #[serde(default)]
    pub verify: bool,
}

/// Where one pull stands.
#[derive(Clone, Debug, PartialEq)]
pub enum PullEnd {
    Running,
    Done,
    Failed(String),
}

/// What `internal/pull` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "PullWire", try_from = "PullWire")]
pub struct PullStatus {
    pub end: PullEnd,
    pub done: u64,
    pub total: u64,
}

/// `{"state": "running" | "done" | "failed", "done", "total", "error"}`.
#[derive(Serialize, Deserialize)]
struct PullWire {
    state: String,
    done: u64,
    total: u64,
    #[serde(default)]
    error: Option<String>,
}

impl From<PullStatus> for PullWire {
    fn from(s: PullStatus) -> PullWire {
        let (state, error) = match s.end {
            PullEnd::Running => ("running", None),
            PullEnd::Done => ("done", None),
            PullEnd::Failed(e) => ("failed", Some(e)),
        };
        PullWire {
            state: state.into(),
            done: s.done,
            total: s.total,
            error,
        }
    }
}

impl TryFrom<PullWire> for PullStatus {
    type Error = String;
    fn try_from(w: PullWire) -> std::result::Result<PullStatus, String> {
        let end = match w.state.as_str() {
            "running" => PullEnd::Running,
            "done" => PullEnd::Done,
            "failed" => PullEnd::Failed(w.error.unwrap_or_else(|| "no reason given".into())),
            s => return Err(format!("`{s}` is not a pull state")),
        };
        Ok(PullStatus {
            end,
            done: w.done,
            total: w.total,
        })
    }
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

/// `internal/network` (controller → node) and the heartbeat's answer:
/// every network the node must bridge; what is not listed is removed.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NetworkPushReq")]
pub struct NetworkPush {
    pub networks: Vec<PushedNet>,
}

impl NetworkPush {
    /// The bridges the list means on the node (names checked).
    pub fn into_bridges(self) -> Result<Vec<WantBridge>> {
        self.networks
            .into_iter()
            .map(|n| {
                let uuid = Uuid::parse_str(&n.network_uuid)
                    .map_err(|_| crate::error::Error::invalid("network_uuid", "must be a uuid"))?;
                check_ifname("interface", &n.interface)?;
                Ok(WantBridge {
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

/// What `internal/network` answers: how many changes the node made.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
pub struct NetworkApplied {
    pub steps: usize,
}

/// `internal/power`: what the controller asks a node's host to do.
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NodePowerOp {
    Shutdown,
    Reboot,
}

impl NodePowerOp {
    pub fn as_str(self) -> &'static str {
        match self {
            NodePowerOp::Shutdown => "shutdown",
            NodePowerOp::Reboot => "reboot",
        }
    }
}

/// `internal/power`'s body (and its answer).
#[derive(Serialize, Deserialize, JsonSchema, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PowerReq")]
pub struct NodePowerReq {
    pub op: NodePowerOp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_status_has_one_wire_form() {
        let s = PullStatus {
            end: PullEnd::Failed("md5".into()),
            done: 1,
            total: 2,
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "failed");
        assert_eq!(v["error"], "md5");
        assert_eq!(serde_json::from_value::<PullStatus>(v).unwrap(), s);
        let bad = serde_json::json!({"state": "lost", "done": 0, "total": 0});
        assert!(serde_json::from_value::<PullStatus>(bad).is_err());
        let op: NodePowerReq = serde_json::from_value(serde_json::json!({"op": "reboot"})).unwrap();
        assert_eq!(op.op, NodePowerOp::Reboot);
        assert!(
            serde_json::from_value::<NodePowerReq>(serde_json::json!({"op": "explode"})).is_err()
        );
    }
}
