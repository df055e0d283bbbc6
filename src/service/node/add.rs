//! `node/add` as a saga: the ten steps of joining a server over SSH, each
//! with its undo on both sides, journalled so that a crash half-way is
//! unwound at the next start. The root password, the node's credential and
//! its control token live only in memory: the journal keeps the facts the
//! undos need (the address, the pinned host key, the node's uuid, the
//! controller's public key, the files sent).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::domain::cluster::ProbeWire;
use crate::domain::network::{Uplink, VSwitchPatch};
use crate::domain::node::{Membership, Nic, Node, NodeLink};
use crate::domain::storage::Storage;
use crate::error::{Code, Error, Kind, Result};
use crate::host::remote::SshAuth;
use crate::service::auth::random_token;
use crate::service::node::join::{AddSpec, Registration};
use crate::service::node::pull::Wanted;
use crate::service::saga::{Checkpoint, Saga};
use crate::service::task::TaskHandle;
use crate::service::Services;

/// The steps of `node/add`, in order.
pub const JOIN_STEPS: [&str; 10] = [
    "connect", "join", "key", "register", "record", "uplink", "network", "files", "images",
    "active",
];

/// What the journal keeps of a join.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct AddFacts {
    pub ip: Option<Ipv4Addr>,
    pub pinned: String,
    pub pool: Uuid,
    pub switch: Uuid,
    pub network: Uuid,
    pub interface: String,
    pub manage_interface: String,
    pub image_interface: String,
    /// The node's uuid, chosen before anything is made.
    pub node: Uuid,
    /// The key installed on the server (its undo removes that one).
    pub controller_key: String,
    /// The switch's `updated_at` before the uplink was added.
    pub switch_updated_at: Option<i64>,
    /// The files the server did not hold before (the undo removes them).
    pub fresh: Vec<PathBuf>,
}

/// A running join: the facts, and what only memory holds.
pub struct NodeAdd {
    f: AddFacts,
    /// Absent after a restart: undoing then uses the controller's key.
    password: Option<String>,
    wire: Option<ProbeWire>,
    local_ip: Option<IpAddr>,
    reg: Option<Registration>,
    control_token: Option<String>,
    nics: Vec<Nic>,
    files: Vec<Wanted>,
}

impl NodeAdd {
    pub fn new(spec: AddSpec, pinned: String) -> NodeAdd {
        NodeAdd {
            f: AddFacts {
                ip: Some(spec.ip),
                pinned,
                pool: spec.pool,
                switch: spec.switch,
                network: spec.network,
                interface: spec.interface,
                manage_interface: spec.manage_interface,
                image_interface: spec.image_interface,
                node: Uuid::new_v4(),
                ..Default::default()
            },
            password: Some(spec.password),
            ..NodeAdd::resumed(AddFacts::default())
        }
    }

    pub fn node(&self) -> Uuid {
        self.f.node
    }

    fn ip(&self) -> Result<Ipv4Addr> {
        self.f
            .ip
            .ok_or_else(|| Error::internal("node/add journal without an address"))
    }

    fn wire(&self) -> Result<&ProbeWire> {
        self.wire
            .as_ref()
            .ok_or_else(|| Error::internal("node/add: no probe before this step"))
    }

    /// The node, its NICs and storages, and the link, in one transaction.
    fn record(&mut self, s: &Services) -> Result<()> {
        let ip = self.ip()?;
        let wire = self.wire()?.clone();
        let reg = self
            .reg
            .clone()
            .ok_or_else(|| Error::internal("node/add: not registered"))?;
        let control_token = self
            .control_token
            .clone()
            .ok_or_else(|| Error::internal("node/add: no control token"))?;
        let node_uuid = self.f.node;
        let now = s.now_ms();
        let mut node = Node::bare(node_uuid, &wire.hostname, &ip.to_string(), now);
        node.pool = Some(self.f.pool);
        node.manage_interface = self.f.manage_interface.clone();
        node.image_interface = self.f.image_interface.clone();
        node.data_interface = self.f.interface.clone();
        node.inventory = reg.inventory.clone();
        // The facts validated at the first step.
        let probe = wire.probe();
        self.nics = probe
            .nics
            .iter()
            .map(|n| {
                let mut nic = Nic::bare(Uuid::new_v4(), node_uuid, &n.name, now);
                nic.mac = n.mac.clone();
                nic.addrs = n.addrs.clone();
                if n.name == self.f.manage_interface {
                    nic.manage_ips = n.addrs.iter().map(|a| a.ip).collect();
                }
                if n.name == self.f.image_interface {
                    nic.image_ips = n.addrs.iter().map(|a| a.ip).collect();
                }
                nic
            })
            .collect();
        let local = s.store.local_node()?;
        let storages: Vec<Storage> = s
            .store
            .storage_list()?
            .into_iter()
            .filter(|x| Some(x.node) == local)
            .filter_map(|x| {
                let m = probe.mounts.iter().find(|m| m.path == x.mount)?;
                Some(Storage {
                    uuid: Uuid::new_v4(),
                    node: node_uuid,
                    device: m.device.clone(),
                    fs: m.fs.clone(),
                    rotational: m.rotational,
                    total_bytes: m.total_bytes,
                    created_at: now,
                    ..x
                })
            })
            .collect();
        let link = NodeLink {
            node: node_uuid,
            host_key: self.f.pinned.clone(),
            ssh_user: s.settings.nodes.ssh_user.clone(),
            ssh_port: s.settings.nodes.ssh_port,
            api: format!("http://{ip}:{}", reg.listen_port),
            control_token,
            version: reg.version.clone(),
            joined_at: now,
        };
        s.store
            .node_join_commit(&node, &self.nics, &storages, &link)
    }

    /// `node-leave` on the server: by key, else by password while memory
    /// has it. A key the server refuses means nothing was installed.
    async fn leave(&self, s: &Arc<Services>) -> Result<()> {
        let ip = self.ip()?;
        let pinned = self.f.pinned.clone();
        let body =
            json!({"node_uuid": self.f.node, "controller_key": self.f.controller_key}).to_string();
        let by_key = s.ssh_target(ip, SshAuth::Key, Some(pinned.clone()));
        let e = match s.node_run(&by_key, "node-leave", body.as_bytes()).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match &self.password {
            Some(pw) => {
                let by_pw = s.ssh_target(ip, SshAuth::Password(pw.clone()), Some(pinned));
                s.node_run(&by_pw, "node-leave", body.as_bytes())
                    .await
                    .map(|_| ())
            }
            None if e.code == Code::NodeAuthFailed => Ok(()),
            None => Err(e),
        }
    }
}

impl Saga for NodeAdd {
    type Facts = AddFacts;
    const KIND: &'static str = "node/add";
    const STEPS: &'static [&'static str] = &JOIN_STEPS;

    fn facts(&self) -> &AddFacts {
        &self.f
    }

    fn resumed(f: AddFacts) -> Self {
        NodeAdd {
            f,
            password: None,
            wire: None,
            local_ip: None,
            reg: None,
            control_token: None,
            nics: Vec::new(),
            files: Vec::new(),
        }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        h: &TaskHandle,
        cp: &mut Checkpoint,
    ) -> Result<()> {
        let ip = self.ip()?;
        let pinned = self.f.pinned.clone();
        match step {
            "connect" => {
                h.progress(5, &format!("connecting to {ip}, host key {pinned}"));
                let pw = self.password.clone().unwrap_or_default();
                let t = s.ssh_target(ip, SshAuth::Password(pw), Some(pinned));
                let (wire, first) = s.node_probe_over(&t).await?;
                s.node_eligible(ip, &wire, true)?;
                for (field, name) in [
                    ("interface", &self.f.interface),
                    ("manage_interface", &self.f.manage_interface),
                    ("image_interface", &self.f.image_interface),
                ] {
                    if !wire.nics.iter().any(|n| n.name == *name) {
                        let have: Vec<&str> = wire.nics.iter().map(|n| n.name.as_str()).collect();
                        return Err(Error::invalid(
                            field,
                            format!("{ip} has no NIC `{name}` (it has {})", have.join(", ")),
                        ));
                    }
                }
                let missing: Vec<String> = s
                    .node_role_paths(&wire)?
                    .into_iter()
                    .filter(|p| !p.present)
                    .map(|p| p.path)
                    .collect();
                if !missing.is_empty() {
                    return Err(Error::new(
                        Code::StorageUnusable,
                        format!("{ip} does not have the controller's storage mounted at {}: mount the same paths first", missing.join(", ")),
                    ));
                }
                self.f.controller_key = s.remote.public_key().await?;
                self.local_ip = first.local_ip;
                self.wire = Some(wire);
            }
            "join" => {
                h.progress(15, "installing the controller's key and the compute role");
                let credential = random_token()?;
                s.store.node_credential_set(
                    &self.f.node,
                    &crate::service::auth::token_hash(&credential),
                )?;
                let controller_ip = match self.local_ip {
                    Some(a) => a,
                    None => s.node_controller_ip()?,
                };
                let membership = Membership {
                    controller: format!("http://{controller_ip}:{}", s.settings.nodes.listen_port),
                    node_uuid: self.f.node,
                    credential,
                    control_token: random_token()?,
                    controller_key: self.f.controller_key.clone(),
                };
                let body = serde_json::to_vec(&membership).map_err(Error::internal)?;
                let pw = self.password.clone().unwrap_or_default();
                let t = s.ssh_target(ip, SshAuth::Password(pw), Some(pinned));
                s.node_run(&t, "node-join", &body).await?;
                self.control_token = Some(membership.control_token);
            }
            "key" => {
                h.progress(30, "logging in with the controller's key");
                let t = s.ssh_target(ip, SshAuth::Key, Some(pinned));
                s.node_run(&t, "node-probe", b"").await?;
            }
            "register" => {
                h.progress(40, "waiting for the node's service to register");
                self.reg = Some(s.node_wait_registered(&self.f.node).await?);
            }
            "record" => {
                h.progress(70, "recording the node, its NICs and storages");
                self.record(s)?;
            }
            "uplink" => {
                h.progress(
                    80,
                    &format!("`{}` becomes the switch's uplink", self.f.interface),
                );
                let sw = s.store.vswitch_get(&self.f.switch)?;
                self.f.switch_updated_at = Some(sw.updated_at);
                cp.save(&self.f).await?;
                let nic = self
                    .nics
                    .iter()
                    .find(|n| n.name == self.f.interface)
                    .ok_or_else(|| Error::invalid("interface", "not a NIC of the node"))?;
                let mut ups = sw.uplinks.clone();
                ups.retain(|u| u.node != self.f.node);
                ups.push(Uplink {
                    node: self.f.node,
                    nic: nic.uuid,
                    interface: nic.name.clone(),
                });
                let patch = VSwitchPatch {
                    uplinks: Some(ups),
                    ..Default::default()
                };
                s.store.vswitch_update(&sw.uuid, &patch, s.now_ms())?;
            }
            "network" => {
                h.progress(82, "the node bridges the pool's networks");
                let want = s.node_network_of(&self.f.node)?;
                s.node_network_push(&self.f.node, &want).await?;
            }
            "files" => {
                h.progress(84, "finding the pool's files the node lacks");
                self.files = s.pool_files(&self.f.pool).await?;
                // Only what the node did not hold before is removed by the undo.
                let disks = s.dk(&self.f.node)?;
                self.f.fresh.clear();
                for w in &self.files {
                    if !disks.exists(&w.path).await? {
                        self.f.fresh.push(w.path.clone());
                    }
                }
            }
            "images" => {
                h.progress(
                    85,
                    "the node pulls the pool's base images and template versions",
                );
                s.node_files_send(&self.f.node, &self.files, false, Some((h, 85, 94)))
                    .await?;
                s.images_mark_held(&self.f.node, &self.files, true)?;
            }
            "active" => {
                h.progress(95, "the node is active");
                s.join.heartbeat_set(self.f.node, s.now_ms());
                s.store.flush().await?;
            }
            other => return Err(Error::internal(format!("node/add: no step `{other}`"))),
        }
        Ok(())
    }

    async fn undo(&self, s: &Arc<Services>, step: &'static str) -> Result<()> {
        let node = self.f.node;
        match step {
            "join" => {
                self.leave(s).await?;
                s.join.forget(&node);
                s.store.node_credential_delete(&node)
            }
            "record" => match s.store.node_get(&node) {
                Ok(n) => s.store.node_remove(&n),
                Err(e) if e.code.kind() == Kind::NotFound => Ok(()),
                Err(e) => Err(e),
            },
            "uplink" => {
                let sw = match s.store.vswitch_get(&self.f.switch) {
                    Ok(sw) => sw,
                    Err(e) if e.code.kind() == Kind::NotFound => return Ok(()),
                    Err(e) => return Err(e),
                };
                if !sw.uplinks.iter().any(|u| u.node == node) {
                    return Ok(());
                }
                let mut ups = sw.uplinks.clone();
                ups.retain(|u| u.node != node);
                let patch = VSwitchPatch {
                    uplinks: Some(ups),
                    ..Default::default()
                };
                let at = self.f.switch_updated_at.unwrap_or_else(|| s.now_ms());
                s.store.vswitch_update(&sw.uuid, &patch, at).map(|_| ())
            }
            // The node is told to bridge none of the pool's networks.
            "network" => s.node_network_push(&node, &Default::default()).await,
            "images" => {
                let held: Vec<Wanted> = self
                    .f
                    .fresh
                    .iter()
                    .map(|p| Wanted {
                        path: p.clone(),
                        md5: String::new(),
                    })
                    .collect();
                let r = s.node_files_remove(&node, &self.f.fresh).await;
                s.images_mark_held(&node, &held, false).and(r)
            }
            // connect, key, register, files and active change nothing.
            _ => Ok(()),
        }
    }
}

/// A joined node as `node/add` answers it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeAdded {
    pub uuid: String,
    pub name: String,
    pub ip: String,
    pub pool_uuid: Option<String>,
}

impl Services {
    /// `node/add` as the API starts it: checked before any task exists
    /// (nothing to undo), then the saga in a task.
    pub async fn node_add_task(
        self: &Arc<Self>,
        actor: &crate::service::Actor,
        spec: AddSpec,
        wait: bool,
    ) -> Result<(String, crate::service::task::Ran<NodeAdded>)> {
        self.node_add_validate(&spec)?;
        let s = self.clone();
        let target = spec.ip.to_string();
        let r = self
            .task_run(actor, "node/add", &target, wait, move |h| {
                Box::pin(async move {
                    s.node_add_run(spec, &h).await.map(|n| NodeAdded {
                        uuid: n.uuid.to_string(),
                        name: n.name,
                        ip: n.ip,
                        pool_uuid: n.pool.map(|p| p.to_string()),
                    })
                })
            })
            .await?;
        Ok((target, r))
    }

    /// `node/add` as a task: every step, and the undo of all of them when
    /// one fails (or, after a crash, at the next start).
    pub async fn node_add_run(self: &Arc<Self>, spec: AddSpec, h: &TaskHandle) -> Result<Node> {
        let pinned = self.node_add_validate(&spec)?;
        let _busy = self.join.claim(spec.ip)?;
        let ip = spec.ip;
        let mut saga = NodeAdd::new(spec, pinned);
        self.saga_run(&mut saga, h).await?;
        let node = self.store.node_get(&saga.node())?;
        log::info!(
            "node `{}` ({ip}) joined pool {} as {}",
            node.name,
            saga.f.pool,
            node.uuid
        );
        Ok(node)
    }
}
