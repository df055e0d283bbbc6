//! `node/delete` as a saga: the node is told to leave over SSH with the
//! controller's key (the pivot: if that fails it changed nothing, and
//! without `force` the delete stops there), then its switch uplinks go,
//! then its records (NICs, storages, link, credential, copies of images).
//! A restart after the node was told to leave finishes the delete.

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::domain::network::VSwitchPatch;
use crate::domain::node::Node;
use crate::error::{Code, Error, Kind, Result};
use crate::host::remote::SshAuth;
use crate::service::saga::{Checkpoint, Saga};
use crate::service::task::{Ran, TaskHandle};
use crate::service::{Actor, Services};

/// What the journal keeps of a node's removal.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct DeleteFacts {
    pub node: Uuid,
    pub name: String,
    pub ip: Option<Ipv4Addr>,
    /// The pinned host key, when the node has a link.
    pub host_key: Option<String>,
    pub force: bool,
}

pub struct NodeDelete {
    f: DeleteFacts,
    /// Finishing after a restart: the node may have left already.
    resumed: bool,
}

impl Saga for NodeDelete {
    type Facts = DeleteFacts;
    const KIND: &'static str = "node/delete";
    const STEPS: &'static [&'static str] = &["leave", "uplinks", "forget"];
    const PIVOT: Option<&'static str> = Some("leave");

    fn facts(&self) -> &DeleteFacts {
        &self.f
    }

    fn resumed(f: DeleteFacts) -> Self {
        NodeDelete { f, resumed: true }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        h: &TaskHandle,
        _cp: &mut Checkpoint,
    ) -> Result<()> {
        let node = self.f.node;
        match step {
            "leave" => {
                let (Some(ip), Some(key)) = (self.f.ip, self.f.host_key.clone()) else {
                    return Ok(());
                };
                h.progress(10, &format!("telling {ip} to leave"));
                let t = s.ssh_target(ip, SshAuth::Key, Some(key));
                let body = json!({
                    "node_uuid": node.to_string(),
                    "controller_key": s.remote.public_key().await?,
                })
                .to_string();
                match s.node_run(&t, "node-leave", body.as_bytes()).await {
                    Ok(_) => {}
                    Err(e) if self.f.force || self.resumed => log::warn!(
                        "node/delete `{}`: the node was not told to leave ({e}); removed here only",
                        self.f.name
                    ),
                    Err(e) => {
                        return Err(Error::new(
                            e.code,
                            format!("{}; nothing was changed (add \"force\": true to remove the node from the controller anyway)", e.message),
                        ))
                    }
                }
            }
            "uplinks" => {
                for sw in s.store.vswitch_list()? {
                    if sw.uplinks.iter().any(|u| u.node == node) {
                        let ups = sw.uplinks.iter().filter(|u| u.node != node).cloned();
                        let patch = VSwitchPatch {
                            uplinks: Some(ups.collect()),
                            ..Default::default()
                        };
                        s.store.vswitch_update(&sw.uuid, &patch, s.now_ms())?;
                    }
                }
            }
            _ => {
                match s.store.node_get(&node) {
                    Ok(n) => s.store.node_remove(&n)?,
                    Err(e) if e.code.kind() == Kind::NotFound => {}
                    Err(e) => return Err(e),
                }
                // Its copies of base images went with it.
                for img in s.store.image_list()? {
                    if img.nodes.contains(&node) {
                        s.store.image_update(&img.uuid, &|mut i| {
                            i.nodes.retain(|n| *n != node);
                            Ok(i)
                        })?;
                    }
                }
                s.join.forget(&node);
                s.store.flush().await?;
            }
        }
        Ok(())
    }

    /// Before the pivot nothing was changed; after it nothing goes back.
    async fn undo(&self, _s: &Arc<Services>, _step: &'static str) -> Result<()> {
        Ok(())
    }
}

impl Services {
    /// `node/delete`: refused for the controller and while the node hosts
    /// desktops or templates; otherwise a task running `NodeDelete`.
    pub async fn node_delete(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        force: bool,
    ) -> Result<Node> {
        let node = self.store.node_get(uuid)?;
        if node.role.is_controller() || self.store.local_node()? == Some(*uuid) {
            return Err(Error::new(
                Code::NodeIsController,
                format!("`{}` is the controller; it cannot be deleted", node.name),
            ));
        }
        let hosted = self.node_hosted(uuid)?;
        if !hosted.is_empty() {
            let more = if hosted.len() > 10 {
                format!(" and {} more", hosted.len() - 10)
            } else {
                String::new()
            };
            let named: Vec<String> = hosted.iter().take(10).cloned().collect();
            return Err(Error::new(
                Code::NodeBusy,
                format!(
                    "Node `{}` hosts {}{more}; delete or move them first",
                    node.name,
                    named.join(", ")
                ),
            ));
        }
        let ip: Ipv4Addr = node.ip.parse().map_err(Error::internal)?;
        let mut saga = NodeDelete {
            f: DeleteFacts {
                node: node.uuid,
                name: node.name.clone(),
                ip: Some(ip),
                host_key: self.store.node_link_get(uuid)?.map(|l| l.host_key),
                force,
            },
            resumed: false,
        };
        let me = self.clone();
        let reply = json!({"uuid": node.uuid.to_string(), "name": node.name});
        let ran = self
            .task_run(actor, "node/delete", &node.name, true, move |h| {
                Box::pin(async move {
                    let _busy = me.join.claim(ip)?;
                    me.saga_run(&mut saga, &h).await?;
                    Ok(reply)
                })
            })
            .await?;
        match ran {
            Ran::Done(..) => {
                log::info!("node `{}` ({}) deleted", node.name, node.ip);
                Ok(node)
            }
            Ran::Queued(_) => Err(Error::internal("node/delete did not wait")),
        }
    }
}
