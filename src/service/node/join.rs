//! Joining servers over SSH: `node/check` of another server (the root
//! password, once; the host key is learnt and pinned), what `node/add`
//! validates before it starts (its saga is `node_add`), and the joins,
//! registrations and heartbeats in flight. The root password lives only in
//! the request and the task's memory: never in the store, the task record
//! or a log line.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::domain::cluster::ProbeWire;
use crate::domain::inventory::Inventory;
use crate::error::{Code, Error, Result};
use crate::host::remote::{Exec, SshAuth, SshTarget};
use crate::service::wake::Waiters;
use crate::service::Services;

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
    /// Joins waiting for a node's registration, told when it comes.
    waiting: Waiters<Uuid>,
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
        self.waiting.wake(&node);
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

    pub(crate) async fn node_probe_over(&self, t: &SshTarget) -> Result<(ProbeWire, Exec)> {
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
    pub(crate) fn node_eligible(&self, ip: Ipv4Addr, wire: &ProbeWire, strict: bool) -> Result<()> {
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
    pub(crate) fn node_role_paths(&self, wire: &ProbeWire) -> Result<Vec<RolePath>> {
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

    /// The controller's management address, when the SSH connection did
    /// not say which of its addresses the server sees.
    pub(crate) fn node_controller_ip(&self) -> Result<IpAddr> {
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

    /// Waits (up to the join timeout) until the node's service registers:
    /// woken by the registration itself, not by polling.
    pub(crate) async fn node_wait_registered(&self, node: &Uuid) -> Result<Registration> {
        let timeout = self.settings.nodes.join_timeout;
        let came = || self.join.registration(node).is_some();
        self.join.waiting.wait(*node, timeout, came).await;
        match self.join.registration(node) {
            Some(r) => Ok(r),
            None => Err(Error::new(
                Code::NodeJoinFailed,
                format!(
                    "The node's service did not register within {} s: is the controller reachable from the node on port {}?",
                    self.settings.nodes.join_timeout.as_secs(),
                    self.settings.nodes.listen_port
                ),
            )),
        }
    }
}
