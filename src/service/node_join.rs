//! Joining servers over SSH: `node/check` of another server (the root
//! password, once; the host key is learnt and pinned), and `node/add` as
//! one task whose every step is undone, on both sides, when a later one
//! fails. The root password lives only in the request and the task's
//! memory: never in the store, the task record or a log line.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::auth::random_token;
use super::task::TaskHandle;
use super::Services;
use crate::api::node::ProbeWire;
use crate::domain::clock::now_ms;
use crate::domain::inventory::Inventory;
use crate::domain::network::{Uplink, VSwitchPatch};
use crate::domain::node::{Membership, Nic, Node, NodeLink};
use crate::domain::storage::Storage;
use crate::error::{Code, Error, Result};
use crate::host::remote::{Exec, SshAuth, SshTarget};

/// The steps of `node/add`, in order (a failure can be injected at each).
pub const JOIN_STEPS: [&str; 9] = [
    "connect", "join", "key", "register", "record", "uplink", "network", "images", "active",
];

/// A check is trusted for adding this long.
const CHECK_VALID: Duration = Duration::from_secs(30 * 60);

/// What a node sent when its service started in compute role.
#[derive(Clone, Debug)]
pub struct Registration {
    pub probe: ProbeWire,
    pub inventory: Inventory,
    pub listen_port: u16,
    pub version: String,
}

#[derive(Default)]
pub struct JoinState {
    /// Host keys seen by `node/check`, with when.
    checked: Mutex<HashMap<Ipv4Addr, (String, Instant)>>,
    registered: Mutex<HashMap<Uuid, Registration>>,
    /// The last heartbeat of each node (ms).
    heartbeats: Mutex<HashMap<Uuid, i64>>,
    /// Addresses with a join or removal running.
    busy: Mutex<HashSet<Ipv4Addr>>,
    /// A step at which `node/add` fails (tests only).
    pub(crate) fail_at: Mutex<Option<String>>,
}

/// A controller storage path and whether the server has it mounted.
#[derive(Clone, Debug, PartialEq)]
pub struct RolePath {
    pub path: String,
    pub roles: String,
    pub present: bool,
}

/// What `node/check` learnt of another server.
#[derive(Clone, Debug)]
pub struct RemoteCheck {
    pub wire: ProbeWire,
    pub host_key: String,
    pub role_paths: Vec<RolePath>,
}

/// A validated `node/add`.
pub struct AddSpec {
    pub ip: Ipv4Addr,
    pub password: String,
    pub pool: Uuid,
    pub network: Uuid,
    pub switch: Uuid,
    pub interface: String,
    pub manage_interface: String,
    pub image_interface: String,
}

/// What a failed join takes back, newest first.
enum Undo {
    Credential(Uuid),
    Joined(Membership),
    Recorded(Box<Node>),
    /// Networks pushed to the node: it is told to bridge none.
    Network(Uuid),
    /// Files the node pulled (they are removed; a partition never is).
    Files(Uuid, Vec<std::path::PathBuf>),
    /// The switch, its uplinks and its `updated_at` before.
    Uplink(Uuid, Vec<Uplink>, i64),
}

/// Frees the address when the join ends, however it ends.
pub(crate) struct BusyGuard<'a>(&'a JoinState, Ipv4Addr);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut b) = self.0.busy.lock() {
            b.remove(&self.1);
        }
    }
}

impl JoinState {
    pub(crate) fn heartbeat(&self, node: &Uuid) -> Option<i64> {
        self.heartbeats.lock().ok()?.get(node).copied()
    }

    pub(crate) fn heartbeat_set(&self, node: Uuid, at: i64) {
        if let Ok(mut h) = self.heartbeats.lock() {
            h.insert(node, at);
        }
    }

    pub(crate) fn forget(&self, node: &Uuid) {
        if let Ok(mut h) = self.heartbeats.lock() {
            h.remove(node);
        }
        if let Ok(mut r) = self.registered.lock() {
            r.remove(node);
        }
    }

    pub(crate) fn register(&self, node: Uuid, r: Registration) {
        if let Ok(mut m) = self.registered.lock() {
            m.insert(node, r);
        }
    }

    fn registration(&self, node: &Uuid) -> Option<Registration> {
        self.registered.lock().ok()?.get(node).cloned()
    }

    /// Claims `ip` for one join or removal at a time.
    pub(crate) fn claim(&self, ip: Ipv4Addr) -> Result<BusyGuard<'_>> {
        let mut b = self.busy.lock().map_err(Error::internal)?;
        if !b.insert(ip) {
            return Err(Error::new(
                Code::NodeBusy,
                format!("A join or removal of {ip} is running"),
            ));
        }
        Ok(BusyGuard(self, ip))
    }
}

impl Services {
    /// An SSH target for `ip` with this controller's settings.
    pub(crate) fn ssh_target(
        &self,
        ip: Ipv4Addr,
        auth: SshAuth,
        host_key: Option<String>,
    ) -> SshTarget {
        let n = &self.settings.nodes;
        SshTarget {
            addr: SocketAddr::new(IpAddr::V4(ip), n.ssh_port),
            user: n.ssh_user.clone(),
            auth,
            host_key,
            timeout: n.ssh_timeout,
        }
    }

    /// Runs `vdi-appliance <verb>` on a server; its standard output.
    pub(crate) async fn node_run(&self, t: &SshTarget, verb: &str, stdin: &[u8]) -> Result<Exec> {
        let ip = t.addr.ip();
        // `vdi-appliance <verb> [its flags]`.
        let command = self.settings.nodes.command.trim();
        let cmd = match command.split_once(' ') {
            Some((program, flags)) => format!("{program} {verb} {flags}"),
            None => format!("{command} {verb}"),
        };
        let x = self.remote.exec(t, &cmd, stdin).await?;
        match x.status {
            0 => Ok(x),
            126 | 127 => Err(Error::new(
                Code::NodeNoService,
                format!(
                    "{ip}: the appliance is not installed there ({})",
                    x.stderr_text()
                ),
            )),
            s => Err(Error::new(
                Code::NodeRemote,
                format!("{ip}: `{verb}` failed (exit {s}): {}", x.stderr_text()),
            )),
        }
    }

    async fn node_probe_over(&self, t: &SshTarget) -> Result<(ProbeWire, Exec)> {
        let x = self.node_run(t, "node-probe", b"").await?;
        let wire = serde_json::from_slice(&x.stdout).map_err(|e| {
            Error::new(
                Code::NodeRemote,
                format!("{}: node-probe answered something else: {e}", t.addr.ip()),
            )
        })?;
        Ok((wire, x))
    }

    /// Refuses a server that cannot join this controller.
    fn node_eligible(&self, ip: Ipv4Addr, wire: &ProbeWire, strict: bool) -> Result<()> {
        let ours = env!("CARGO_PKG_VERSION");
        if wire.version != ours {
            return Err(Error::new(
                Code::NodeVersionMismatch,
                format!(
                    "{ip} runs vdi-appliance {}; this controller runs {ours}: flash it with the same ISO",
                    wire.version
                ),
            ));
        }
        if let Some(n) = self
            .store
            .node_list()?
            .iter()
            .find(|n| n.ip == ip.to_string())
        {
            return Err(Error::new(
                Code::NodeAlreadyJoined,
                format!("{ip} is already node `{}` of this controller", n.name),
            ));
        }
        match &wire.service {
            Err(why) => {
                return Err(Error::new(
                    Code::NodeNoService,
                    format!(
                        "{ip}: the appliance is installed but its service is not running: {why}"
                    ),
                ))
            }
            Ok(s) if s.role == "controller" => {
                return Err(Error::new(
                    Code::NodeAlreadyJoined,
                    format!("{ip} was set up as a controller itself; reinstall it to join it"),
                ))
            }
            Ok(s) if s.role == "compute" => {
                return Err(Error::new(
                    Code::NodeAlreadyJoined,
                    format!(
                        "{ip} is already a node of the controller at {}",
                        s.controller.as_deref().unwrap_or("another address")
                    ),
                ))
            }
            Ok(_) => {}
        }
        let virt = wire.probe().virt;
        if strict && !virt.supported() {
            return Err(Error::new(
                Code::VirtUnsupported,
                format!(
                    "{} cannot run virtual machines: {}",
                    wire.hostname,
                    virt.missing().join("; ")
                ),
            ));
        }
        Ok(())
    }

    /// The controller's storage paths and whether `wire`'s server has each.
    fn node_role_paths(&self, wire: &ProbeWire) -> Result<Vec<RolePath>> {
        let local = self.store.local_node()?;
        Ok(self
            .store
            .storage_list()?
            .into_iter()
            .filter(|s| Some(s.node) == local)
            .map(|s| RolePath {
                present: wire.mounts.iter().any(|m| m.path == s.mount && m.writable),
                roles: s.roles.text(),
                path: s.mount,
            })
            .collect())
    }

    /// `node/check` of another server: logs in with the password, reads
    /// its facts with `vdi-appliance node-probe`, and pins its host key
    /// for `node/add`.
    pub async fn node_check_remote(
        &self,
        ip: Ipv4Addr,
        password: &str,
        strict: bool,
    ) -> Result<RemoteCheck> {
        let t = self.ssh_target(ip, SshAuth::Password(password.into()), None);
        let (wire, x) = self.node_probe_over(&t).await?;
        let host_key = x.host_key;
        self.node_eligible(ip, &wire, strict)?;
        self.join
            .checked
            .lock()
            .map_err(Error::internal)?
            .insert(ip, (host_key.clone(), Instant::now()));
        log::info!(
            "node/check: {ip} ({}) presents host key {host_key}",
            wire.hostname
        );
        Ok(RemoteCheck {
            role_paths: self.node_role_paths(&wire)?,
            wire,
            host_key,
        })
    }

    /// Validates `node/add` before any work: the pool, switch and network
    /// exist and fit, the address is not a node, and it was checked.
    pub fn node_add_validate(&self, spec: &AddSpec) -> Result<String> {
        if self.store.controller()?.is_none() {
            return Err(Error::new(
                Code::ControllerNotInitialised,
                "The controller is not initialised yet: finish first-boot setup first",
            ));
        }
        self.store.pool_get(&spec.pool)?;
        let sw = self.store.vswitch_get(&spec.switch)?;
        let net = self.store.network_get(&spec.network)?;
        if net.switch != sw.uuid {
            return Err(Error::invalid(
                "network_uuid",
                format!(
                    "network `{}` is not on virtual switch `{}`",
                    net.name, sw.name
                ),
            ));
        }
        if let Some(n) = self
            .store
            .node_list()?
            .iter()
            .find(|n| n.ip == spec.ip.to_string())
        {
            return Err(Error::new(
                Code::NodeAlreadyJoined,
                format!(
                    "{} is already node `{}` of this controller",
                    spec.ip, n.name
                ),
            ));
        }
        let checked = self.join.checked.lock().map_err(Error::internal)?;
        match checked.get(&spec.ip) {
            Some((key, at)) if at.elapsed() < CHECK_VALID => Ok(key.clone()),
            _ => Err(Error::new(
                Code::NodeNotChecked,
                format!(
                    "Check {} with POST /api/v1/node/check first (a check is valid for 30 minutes)",
                    spec.ip
                ),
            )),
        }
    }

    /// Makes `node/add` fail at `step` (tests of the undo).
    pub fn node_add_fail_at(&self, step: Option<&str>) {
        if let Ok(mut f) = self.join.fail_at.lock() {
            *f = step.map(String::from);
        }
    }

    fn join_step(&self, h: &TaskHandle, percent: u8, step: &str, line: &str) -> Result<()> {
        h.progress(percent, line);
        let fail = self.join.fail_at.lock().map_err(Error::internal)?.clone();
        if fail.as_deref() == Some(step) {
            return Err(Error::new(
                Code::NodeJoinFailed,
                format!("injected failure at step `{step}`"),
            ));
        }
        Ok(())
    }

    /// `node/add` as a task: every step, and the undo of all of them when
    /// one fails. The error names the step.
    pub async fn node_add_run(self: &Arc<Self>, spec: AddSpec, h: &TaskHandle) -> Result<Node> {
        let pinned = self.node_add_validate(&spec)?;
        let _busy = self.join.claim(spec.ip)?;
        let mut undo = Vec::new();
        let r = self.node_add_steps(&spec, &pinned, h, &mut undo).await;
        if let Err(e) = &r {
            h.progress(
                100,
                &format!("failed: {}; undoing {} step(s)", e.message, undo.len()),
            );
            self.node_add_undo(&spec, &pinned, undo).await;
        }
        r
    }

    async fn node_add_steps(
        &self,
        spec: &AddSpec,
        pinned: &str,
        h: &TaskHandle,
        undo: &mut Vec<Undo>,
    ) -> Result<Node> {
        let ip = spec.ip;
        let by_password = self.ssh_target(
            ip,
            SshAuth::Password(spec.password.clone()),
            Some(pinned.to_string()),
        );
        self.join_step(
            h,
            5,
            "connect",
            &format!("connecting to {ip}, host key {pinned}"),
        )?;
        let (wire, first) = self.node_probe_over(&by_password).await?;
        self.node_eligible(ip, &wire, true)?;
        for (field, name) in [
            ("interface", &spec.interface),
            ("manage_interface", &spec.manage_interface),
            ("image_interface", &spec.image_interface),
        ] {
            if !wire.nics.iter().any(|n| n.name == *name) {
                return Err(Error::invalid(
                    field,
                    format!(
                        "{ip} has no NIC `{name}` (it has {})",
                        wire.nics
                            .iter()
                            .map(|n| n.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        let missing: Vec<String> = self
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

        self.join_step(
            h,
            15,
            "join",
            "installing the controller's key and the compute role",
        )?;
        let node_uuid = Uuid::new_v4();
        let credential = random_token()?;
        let control_token = random_token()?;
        self.store
            .node_credential_set(&node_uuid, &super::auth::token_hash(&credential))?;
        undo.push(Undo::Credential(node_uuid));
        let controller_ip = match first.local_ip {
            Some(a) => a,
            None => self.node_controller_ip()?,
        };
        let membership = Membership {
            controller: format!("http://{controller_ip}:{}", self.settings.nodes.listen_port),
            node_uuid,
            credential,
            control_token: control_token.clone(),
            controller_key: self.remote.public_key().await?,
        };
        let body = serde_json::to_vec(&membership).map_err(Error::internal)?;
        self.node_run(&by_password, "node-join", &body).await?;
        undo.push(Undo::Joined(membership.clone()));

        self.join_step(h, 30, "key", "logging in with the controller's key")?;
        let by_key = self.ssh_target(ip, SshAuth::Key, Some(pinned.to_string()));
        self.node_run(&by_key, "node-probe", b"").await?;

        self.join_step(
            h,
            40,
            "register",
            "waiting for the node's service to register",
        )?;
        let reg = self.node_wait_registered(&node_uuid).await?;

        self.join_step(h, 70, "record", "recording the node, its NICs and storages")?;
        let now = now_ms();
        let mut node = Node::bare(node_uuid, &wire.hostname, &ip.to_string(), now);
        node.pool = Some(spec.pool);
        node.manage_interface = spec.manage_interface.clone();
        node.image_interface = spec.image_interface.clone();
        node.data_interface = spec.interface.clone();
        node.inventory = reg.inventory.clone();
        // The facts validated at the first step.
        let probe = wire.probe();
        let nics: Vec<Nic> = probe
            .nics
            .iter()
            .map(|n| {
                let mut nic = Nic::bare(Uuid::new_v4(), node_uuid, &n.name, now);
                nic.mac = n.mac.clone();
                nic.addrs = n.addrs.clone();
                if n.name == spec.manage_interface {
                    nic.manage_ips = n.addrs.iter().map(|a| a.ip).collect();
                }
                if n.name == spec.image_interface {
                    nic.image_ips = n.addrs.iter().map(|a| a.ip).collect();
                }
                nic
            })
            .collect();
        let local = self.store.local_node()?;
        let storages: Vec<Storage> = self
            .store
            .storage_list()?
            .into_iter()
            .filter(|s| Some(s.node) == local)
            .filter_map(|s| {
                let m = probe.mounts.iter().find(|m| m.path == s.mount)?;
                Some(Storage {
                    uuid: Uuid::new_v4(),
                    node: node_uuid,
                    device: m.device.clone(),
                    fs: m.fs.clone(),
                    rotational: m.rotational,
                    total_bytes: m.total_bytes,
                    created_at: now,
                    ..s
                })
            })
            .collect();
        let link = NodeLink {
            node: node_uuid,
            host_key: pinned.to_string(),
            ssh_user: self.settings.nodes.ssh_user.clone(),
            ssh_port: self.settings.nodes.ssh_port,
            api: format!("http://{ip}:{}", reg.listen_port),
            control_token,
            version: reg.version.clone(),
            joined_at: now,
        };
        self.store
            .node_join_commit(&node, &nics, &storages, &link)?;
        undo.push(Undo::Recorded(Box::new(node.clone())));

        self.join_step(
            h,
            80,
            "uplink",
            &format!("`{}` becomes the switch's uplink", spec.interface),
        )?;
        let sw = self.store.vswitch_get(&spec.switch)?;
        let nic = nics
            .iter()
            .find(|n| n.name == spec.interface)
            .ok_or_else(|| Error::invalid("interface", "not a NIC of the node"))?;
        let mut ups = sw.uplinks.clone();
        ups.retain(|u| u.node != node_uuid);
        ups.push(Uplink {
            node: node_uuid,
            nic: nic.uuid,
            interface: nic.name.clone(),
        });
        let patch = VSwitchPatch {
            uplinks: Some(ups),
            ..Default::default()
        };
        self.store.vswitch_update(&sw.uuid, &patch, now)?;
        undo.push(Undo::Uplink(sw.uuid, sw.uplinks, sw.updated_at));

        self.join_step(h, 82, "network", "the node bridges the pool's networks")?;
        undo.push(Undo::Network(node_uuid));
        let want = self.node_network_of(&node_uuid)?;
        self.node_network_push(&node_uuid, &want).await?;

        self.join_step(
            h,
            85,
            "images",
            "the node pulls the pool's base images and template versions",
        )?;
        let files = self.pool_files(&spec.pool).await?;
        // Only what the node did not hold before is removed by the undo.
        let disks = self.dk(&node_uuid)?;
        let mut fresh = Vec::new();
        for f in &files {
            if !disks.exists(&f.path).await? {
                fresh.push(f.path.clone());
            }
        }
        undo.push(Undo::Files(node_uuid, fresh));
        self.node_files_send(&node_uuid, &files, false, Some((h, 85, 94)))
            .await?;
        self.images_mark_held(&node_uuid, &files, true)?;

        self.join_step(h, 95, "active", "the node is active")?;
        self.join.heartbeat_set(node_uuid, now_ms());
        self.store.flush().await?;
        log::info!(
            "node `{}` ({ip}) joined pool {} as {node_uuid}",
            node.name,
            spec.pool
        );
        Ok(node)
    }

    /// The controller's management address, when the SSH connection did
    /// not say which of its addresses the server sees.
    fn node_controller_ip(&self) -> Result<IpAddr> {
        let local = self.store.local_node()?.ok_or_else(|| {
            Error::new(
                Code::ControllerNotInitialised,
                "The controller has no node record",
            )
        })?;
        self.store
            .node_get(&local)?
            .ip
            .parse()
            .map_err(Error::internal)
    }

    async fn node_wait_registered(&self, node: &Uuid) -> Result<Registration> {
        let deadline = Instant::now() + self.settings.nodes.join_timeout;
        loop {
            if let Some(r) = self.join.registration(node) {
                return Ok(r);
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    Code::NodeJoinFailed,
                    format!(
                        "The node's service did not register within {} s: is the controller reachable from the node on port {}?",
                        self.settings.nodes.join_timeout.as_secs(),
                        self.settings.nodes.listen_port
                    ),
                ));
            }
            smol::Timer::after(Duration::from_millis(200)).await;
        }
    }

    async fn node_add_undo(&self, spec: &AddSpec, pinned: &str, undo: Vec<Undo>) {
        for u in undo.into_iter().rev() {
            let r = match u {
                Undo::Uplink(sw, old, at) => {
                    let patch = VSwitchPatch {
                        uplinks: Some(old),
                        ..Default::default()
                    };
                    self.store.vswitch_update(&sw, &patch, at).map(|_| ())
                }
                Undo::Recorded(node) => self.store.node_remove(&node),
                Undo::Network(node) => self.node_network_push(&node, &Default::default()).await,
                Undo::Files(node, files) => {
                    let held = files
                        .iter()
                        .map(|p| super::node_pull::Wanted {
                            path: p.clone(),
                            md5: String::new(),
                        })
                        .collect::<Vec<_>>();
                    let r = self.node_files_remove(&node, &files).await;
                    self.images_mark_held(&node, &held, false).and(r)
                }
                Undo::Joined(m) => {
                    let body =
                        json!({"node_uuid": m.node_uuid, "controller_key": m.controller_key})
                            .to_string();
                    let by_key = self.ssh_target(spec.ip, SshAuth::Key, Some(pinned.into()));
                    match self.node_run(&by_key, "node-leave", body.as_bytes()).await {
                        Ok(_) => Ok(()),
                        Err(_) => {
                            let by_pw = self.ssh_target(
                                spec.ip,
                                SshAuth::Password(spec.password.clone()),
                                Some(pinned.into()),
                            );
                            self.node_run(&by_pw, "node-leave", body.as_bytes())
                                .await
                                .map(|_| ())
                        }
                    }
                }
                Undo::Credential(n) => {
                    self.join.forget(&n);
                    self.store.node_credential_delete(&n)
                }
            };
            if let Err(e) = r {
                log::error!("node/add {}: an undo step failed: {e}", spec.ip);
            }
        }
        if let Err(e) = self.store.flush().await {
            log::error!("node/add {}: {e}", spec.ip);
        }
    }
}
