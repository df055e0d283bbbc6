//! A joined node's bridges: what the controller wants there (every network
//! of every switch with an uplink on it), pushed through `internal/network`
//! when networks change and carried by every heartbeat answer; the node
//! keeps the list and its own reconciler applies it, at every start too.

use uuid::Uuid;

use crate::domain::cluster::{NetworkPush, PushedNet};
use crate::domain::netplan::WantBridge;
use crate::error::Result;
use crate::service::Services;

impl Services {
    /// What `node` must bridge, as the node is told.
    pub fn node_network_of(&self, node: &Uuid) -> Result<NetworkPush> {
        let mut networks = Vec::new();
        for sw in self.store.vswitch_list()? {
            let Some(up) = sw.uplinks.iter().find(|u| u.node == *node) else {
                continue;
            };
            for net in self.store.vswitch_networks(&sw.uuid)? {
                let n = self.store.network_get(&net)?;
                networks.push(PushedNet {
                    network_uuid: n.uuid.to_string(),
                    interface: up.interface.clone(),
                    vlan_id: match sw.kind {
                        crate::domain::network::SwitchType::Vlan => n.vlan_id,
                        _ => None,
                    },
                });
            }
        }
        Ok(NetworkPush { networks })
    }

    /// Tells a joined node its bridges and waits until it applied them.
    pub(crate) async fn node_network_push(&self, node: &Uuid, want: &NetworkPush) -> Result<()> {
        let Some(api) = self.node_link_api(node)? else {
            return Ok(());
        };
        api.client
            .network(&api.peer, want.clone())
            .await
            .map_err(|e| api.named(e))?;
        Ok(())
    }

    /// After a network change here: every joined node gets its list (a
    /// node that cannot be reached now gets it with its next heartbeat).
    pub(crate) async fn nodes_network_push(&self) {
        let Ok(nodes) = self.store.node_list() else {
            return;
        };
        for n in nodes {
            if let Ok(Some(_)) = self.store.node_link_get(&n.uuid) {
                let r = match self.node_network_of(&n.uuid) {
                    Ok(want) => self.node_network_push(&n.uuid, &want).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = r {
                    log::warn!(
                        "node `{}`: networks not pushed now ({e}); its next heartbeat carries them",
                        n.name
                    );
                }
            }
        }
    }

    /// On a node: keeps the controller's list and makes the host match it.
    /// Returns the number of steps taken.
    pub async fn internal_network(
        &self,
        token: Option<&str>,
        want: Vec<WantBridge>,
    ) -> Result<usize> {
        self.internal_check(token)?;
        self.network_adopt_pushed(want).await
    }

    /// Applies a pushed list when it differs from the one kept (or always
    /// when `force`); the list is kept only once applied.
    pub(crate) async fn network_adopt_pushed(&self, want: Vec<WantBridge>) -> Result<usize> {
        let _g = self.net_lock.lock().await;
        let before = self.store.pushed_bridges()?;
        self.store.pushed_bridges_put(&want)?;
        match self.hostnet_sync().await {
            Ok(steps) => {
                self.store.flush().await?;
                if !steps.is_empty() {
                    log::info!(
                        "networks from the controller applied: {} step(s)",
                        steps.len()
                    );
                }
                Ok(steps.len())
            }
            Err(e) => {
                self.store.pushed_bridges_put(&before)?;
                self.store.flush().await?;
                Err(e)
            }
        }
    }

    /// On a node: a heartbeat answer's networks, applied when new.
    pub(crate) async fn network_from_heartbeat(&self, answer: NetworkPush) {
        let want = match answer.into_bridges() {
            Ok(w) => w,
            Err(e) => {
                log::warn!("the controller's network list is unreadable: {e}");
                return;
            }
        };
        if self.store.pushed_bridges().ok().as_ref() == Some(&want) {
            return;
        }
        if let Err(e) = self.network_adopt_pushed(want).await {
            log::warn!("networks from the controller could not be applied: {e}");
        }
    }
}
