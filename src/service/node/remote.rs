//! Joined nodes after the join: how the controller reaches each one (its
//! hypervisor and disks through its internal API), their registration
//! and heartbeats, power
//! (`node/shutdown`, `node/reboot`, on the controller only when forced),
//! and what a node hosts (`node/delete` is the saga in `node_delete`).

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::domain::cluster::{NetworkPush, Register, VmCall, VmReply};
use crate::domain::node::Node;
use crate::error::{Code, Error, Result};
use crate::host::node_client::Peer;
use crate::host::remote_vm::{serve_vm, NodeLinkApi, RemoteDisks, RemoteHypervisor};
use crate::host::{Disks, Hypervisor};
use crate::service::node::join::Registration;
use crate::service::Services;

/// What `node/shutdown` and `node/reboot` ask.
pub use crate::domain::cluster::NodePowerOp as NodePower;

impl Services {
    /// The hypervisor that runs domains of `node`: this host's own, or a
    /// joined node's through its internal API.
    pub(crate) fn hv(&self, node: &Uuid) -> Result<Arc<dyn Hypervisor>> {
        Ok(match self.node_link_api(node)? {
            None => self.hypervisor.clone(),
            Some(l) => Arc::new(RemoteHypervisor(l)),
        })
    }

    /// The disks of `node`, like `hv`.
    pub(crate) fn dk(&self, node: &Uuid) -> Result<Arc<dyn Disks>> {
        Ok(match self.node_link_api(node)? {
            None => self.disks.clone(),
            Some(l) => Arc::new(RemoteDisks(l)),
        })
    }

    /// `None` for this host; a joined node's API otherwise.
    pub(crate) fn node_link_api(&self, node: &Uuid) -> Result<Option<NodeLinkApi>> {
        if self.store.local_node()? == Some(*node) || self.settings.membership.is_some() {
            return Ok(None);
        }
        let link = self.store.node_link_get(node)?.ok_or_else(|| {
            Error::new(
                Code::NodeRemote,
                format!("Node {node} is neither this host nor a joined node with a link on record"),
            )
        })?;
        let name = self
            .store
            .node_get(node)
            .map(|n| n.name)
            .unwrap_or_else(|_| node.to_string());
        Ok(Some(NodeLinkApi {
            client: self.node_client.clone(),
            peer: Peer {
                base: link.api,
                token: link.control_token,
            },
            name,
        }))
    }

    /// A node named by `host_uuid` or by `ipaddr` (`None` when neither).
    pub fn node_named(&self, uuid: Option<&str>, ip: Option<&str>) -> Result<Option<Uuid>> {
        if let Some(u) = uuid.filter(|u| !u.is_empty()) {
            let u = crate::domain::text::uuid("host_uuid", u)?;
            return self.store.node_get(&u).map(|n| Some(n.uuid));
        }
        let Some(ip) = ip.filter(|i| !i.is_empty()) else {
            return Ok(None);
        };
        self.store
            .node_list()?
            .into_iter()
            .find(|n| n.ip == ip)
            .map(|n| Some(n.uuid))
            .ok_or_else(|| Error::invalid("ipaddr", format!("{ip} is not the address of a node")))
    }

    /// Changes whenever a node goes up or down (the node listing's cache).
    pub fn node_liveness_generation(&self) -> u64 {
        let now = self.now_ms();
        self.store
            .node_list()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, n)| self.monitor_node_up(&n.uuid, now).unwrap_or(false))
            .fold(0u64, |acc, (i, n)| {
                acc.wrapping_mul(31)
                    .wrapping_add(i as u64 + 1)
                    .wrapping_add(n.uuid.as_u128() as u64)
            })
    }

    /// A compute node's service started: it proves itself with its
    /// credential and says how to reach it.
    pub fn node_register(&self, credential: Option<&str>, req: Register) -> Result<()> {
        let node = req.node_uuid;
        self.node_credential_check(credential, &node)?;
        let (probe, inventory) = (req.probe, req.inventory);
        if let Some(mut link) = self.store.node_link_get(&node)? {
            // Its hardware as it is now (memory added, a CPU changed).
            if let Ok(mut n) = self.store.node_get(&node) {
                if n.inventory != inventory {
                    n.inventory = inventory.clone();
                    self.store.node_put(&n)?;
                }
            }
            // A known node restarted: it may listen elsewhere or run a new version.
            let api = match link.api.rsplit_once(':') {
                Some((host, _)) => format!("{host}:{}", req.listen_port),
                None => link.api.clone(),
            };
            if api != link.api || req.version != link.version {
                link.api = api;
                link.version = req.version.clone();
                self.store.node_link_put(&link)?;
            }
        }
        self.join.register(
            node,
            Registration {
                probe,
                inventory,
                listen_port: req.listen_port,
                version: req.version,
            },
        );
        self.join.heartbeat_set(node, self.now_ms());
        Ok(())
    }

    /// `node/heartbeat`: the node is alive; the answer carries the
    /// networks it must bridge.
    pub fn node_heartbeat(&self, credential: Option<&str>, node: Uuid) -> Result<NetworkPush> {
        self.node_credential_check(credential, &node)?;
        self.store.node_get(&node)?;
        self.join.heartbeat_set(node, self.now_ms());
        self.node_network_of(&node)
    }

    /// What keeps a node from being removed: its desktops and templates.
    pub(crate) fn node_hosted(&self, node: &Uuid) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .store
            .template_list()?
            .into_iter()
            .filter(|t| t.node == *node)
            .map(|t| format!("template `{}`", t.name))
            .collect();
        names.extend(
            self.store
                .desktop_list()?
                .into_iter()
                .filter(|d| d.node == *node)
                .map(|d| format!("desktop `{}`", d.name)),
        );
        Ok(names)
    }

    /// `node/shutdown` and `node/reboot`: a compute node through its
    /// internal API; the controller itself only with `force`.
    pub async fn node_power(&self, uuid: &Uuid, op: NodePower, force: bool) -> Result<Node> {
        let node = self.store.node_get(uuid)?;
        if self.store.local_node()? == Some(*uuid) {
            if !force {
                return Err(Error::new(
                    Code::NodeIsController,
                    format!(
                        "`{}` is the controller: every desktop and the API go with it; add \"force\": true to {} it",
                        node.name,
                        op.as_str()
                    ),
                ));
            }
            self.power_local(op).await?;
            return Ok(node);
        }
        let link = self.store.node_link_get(uuid)?.ok_or_else(|| {
            Error::new(
                Code::NodeRemote,
                format!("Node `{}` has no internal-API link on record", node.name),
            )
        })?;
        let peer = Peer {
            base: link.api,
            token: link.control_token,
        };
        self.node_client.power(&peer, op).await?;
        log::warn!("node `{}`: {} asked", node.name, op.as_str());
        Ok(node)
    }

    /// Runs this host's configured command a second after the reply.
    async fn power_local(&self, op: NodePower) -> Result<()> {
        let cmd = match op {
            NodePower::Shutdown => &self.settings.nodes.shutdown_command,
            NodePower::Reboot => &self.settings.nodes.reboot_command,
        };
        log::warn!("{} of this host asked: running `{cmd}` in 1 s", op.as_str());
        self.power.run_later(cmd, Duration::from_secs(1)).await
    }

    /// The internal API's power call on a compute node: only its
    /// controller's token opens it.
    pub async fn internal_power(&self, token: Option<&str>, op: NodePower) -> Result<()> {
        self.internal_check(token)?;
        self.power_local(op).await
    }

    /// `internal/vm` on a node: one hypervisor call from its controller.
    pub async fn internal_vm(&self, token: Option<&str>, call: VmCall) -> Result<VmReply> {
        self.internal_check(token)?;
        serve_vm(self.hypervisor.as_ref(), call).await
    }

    /// Checks the controller's token on the internal API.
    pub fn internal_check(&self, token: Option<&str>) -> Result<()> {
        match (&self.settings.membership, token) {
            (Some(m), Some(t))
                if crate::service::auth::same(
                    &crate::service::auth::token_hash(t),
                    &crate::service::auth::token_hash(&m.control_token),
                ) =>
            {
                Ok(())
            }
            _ => Err(Error::new(
                Code::NodeCredentialInvalid,
                "The internal API needs the controller's token (`Authorization: Bearer`); this service is not a node of the caller",
            )),
        }
    }
}
