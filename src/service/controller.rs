//! Controller initialisation (first boot): the answers are checked against
//! the host at once, then one task checks virtualisation, reads the
//! inventory, prepares the storage directories, sets up the default pool,
//! records the node with its NICs and storage, creates the default switch,
//! network and subnet with their bridge on the host, and marks the
//! controller initialised. A failing step undoes every earlier one.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::node::{nic_links, ProbeNic};
use super::task::TaskHandle;
use super::{Actor, Services};
use crate::domain::clock::now_ms;
use crate::domain::controller::{derive_subnet, ControllerRecord, InitSpec};
use crate::domain::inventory::Mount;
use crate::domain::network::{Network, Subnet, SubnetSpec, Uplink, VSwitch};
use crate::domain::node::{Nic, Node, NodeRole};
use crate::domain::pool::ResourcePool;
use crate::domain::storage::{layout, storage_root, Storage};
use crate::error::{Code, Error, Result};
use crate::store::NetworkSnapshot;

/// The steps of initialisation, in order; tests inject failures by name.
pub const INIT_STEPS: [&str; 7] = [
    "virtualisation",
    "inventory",
    "storage",
    "pool",
    "node",
    "network",
    "mark",
];

/// Everything initialisation will do, decided before it starts.
#[derive(Clone, Debug)]
pub struct InitPlan {
    pub spec: InitSpec,
    /// The answers as recorded (JSON without the password).
    pub answers: String,
    pub hostname: String,
    pub nics: Vec<ProbeNic>,
    pub gateway: Option<(std::net::Ipv4Addr, String)>,
    pub manage: String,
    pub image: String,
    pub data: String,
    /// (mount, its facts, the directories to create)
    pub storages: Vec<(Mount, crate::domain::storage::Roles, Vec<PathBuf>)>,
    /// The default subnet, given or derived; `None` when neither.
    pub subnet: Option<(String, SubnetSpec)>,
}

/// What initialisation made.
#[derive(Clone, Debug, PartialEq)]
pub struct InitOutcome {
    pub node: Uuid,
    pub pool: Uuid,
    pub vswitch: Uuid,
    pub network: Uuid,
    pub subnet: Option<Uuid>,
    pub bridge: String,
    /// Virtualisation lacks, reported but not fatal on a controller-only node.
    pub warnings: Vec<String>,
}

impl InitOutcome {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "node_uuid": self.node.to_string(),
            "pool_uuid": self.pool.to_string(),
            "switch_uuid": self.vswitch.to_string(),
            "network_uuid": self.network.to_string(),
            "subnet_uuid": self.subnet.map(|s| s.to_string()),
            "bridge": self.bridge,
            "warnings": self.warnings,
        })
    }
}

/// A done step's inverse.
enum Undo {
    Dirs(Vec<PathBuf>),
    Pool(Uuid),
    Node(Box<Node>, Vec<Uuid>, Vec<Uuid>),
    Network(Box<NetworkSnapshot>),
}

fn iface_field<'a>(
    field: &str,
    given: Option<&'a String>,
    fallback: &'a str,
    nics: &[ProbeNic],
) -> Result<String> {
    let name = given.map(String::as_str).unwrap_or(fallback);
    if !nics.iter().any(|n| n.name == name) {
        let known: Vec<&str> = nics.iter().map(|n| n.name.as_str()).collect();
        return Err(Error::invalid(
            field,
            format!(
                "`{name}` is not a NIC of this host (NICs: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    Ok(name.to_string())
}

impl Services {
    pub fn controller_status(&self) -> Result<Option<ControllerRecord>> {
        self.store.controller()
    }

    /// The switch and network made at initialisation, while they exist.
    pub fn controller_default_network(&self) -> Result<Option<(VSwitch, Network)>> {
        let Some(rec) = self.store.controller()? else {
            return Ok(None);
        };
        match (
            self.store.vswitch_get(&rec.vswitch),
            self.store.network_get(&rec.network),
        ) {
            (Ok(s), Ok(n)) => Ok(Some((s, n))),
            _ => Ok(None),
        }
    }

    /// Fails with `ControllerNotInitialised` until first-boot setup is done.
    pub fn controller_require(&self) -> Result<ControllerRecord> {
        self.store.controller()?.ok_or_else(|| {
            Error::new(
                Code::ControllerNotInitialised,
                "The controller is not initialised yet: finish first-boot setup first",
            )
        })
    }

    /// Checks the answers against this host and decides every detail.
    pub async fn controller_init_plan(&self, spec: InitSpec, answers: String) -> Result<InitPlan> {
        if let Some(rec) = self.store.controller()? {
            return Err(Error::new(
                Code::ControllerExists,
                format!(
                    "The controller is already initialised (node {}); initialisation runs once",
                    rec.node
                ),
            ));
        }
        if let Some(node) = self.store.local_node()? {
            return Err(Error::new(
                Code::ControllerExists,
                format!("This server is already node {node} of a cluster"),
            ));
        }
        spec.check()?;
        let links = self.net.links().await?;
        let nics = nic_links(&links);
        let route = self.net.default_route().await?;
        let carrier = nics
            .iter()
            .find(|n| n.addrs.iter().any(|a| a.ip == spec.ip));
        let Some(carrier) = carrier else {
            let mine: Vec<String> = nics
                .iter()
                .flat_map(|n| {
                    n.addrs
                        .iter()
                        .map(move |a| format!("{} on {}", a.ip, n.name))
                })
                .collect();
            return Err(Error::invalid(
                "ip",
                format!(
                    "{} is not an address of a NIC of this host (addresses: {})",
                    spec.ip,
                    if mine.is_empty() {
                        "none".into()
                    } else {
                        mine.join(", ")
                    }
                ),
            ));
        };
        let manage = iface_field(
            "manage_interface",
            spec.manage_interface.as_ref(),
            &carrier.name,
            &nics,
        )?;
        if manage != carrier.name {
            return Err(Error::invalid(
                "manage_interface",
                format!(
                    "`{manage}` does not carry the management address {} (it is on `{}`)",
                    spec.ip, carrier.name
                ),
            ));
        }
        let image = iface_field(
            "image_interface",
            spec.image_interface.as_ref(),
            &manage,
            &nics,
        )?;
        let data = iface_field(
            "data_interface",
            spec.data_interface.as_ref(),
            &manage,
            &nics,
        )?;
        if nics.iter().any(|n| n.name == data && n.bridge.is_some()) {
            return Err(Error::invalid(
                "data_interface",
                format!("`{data}` is already enslaved to a bridge of the appliance"),
            ));
        }
        let mounts = self.inventory.mounts().await?;
        let mut storages = Vec::new();
        for (path, roles) in &spec.storages {
            let field = format!("storages.{path}");
            let Some(m) = mounts.iter().find(|m| &m.path == path) else {
                let usable: Vec<&str> = mounts
                    .iter()
                    .filter(|m| m.unusable().is_none())
                    .map(|m| m.path.as_str())
                    .collect();
                return Err(Error::invalid(
                    &field,
                    format!(
                        "`{path}` is not a mount point of this host (usable: {})",
                        if usable.is_empty() {
                            "none".into()
                        } else {
                            usable.join(", ")
                        }
                    ),
                ));
            };
            if let Some(why) = m.unusable() {
                return Err(Error::invalid(&field, why));
            }
            let dirs = layout(&storage_root(path), *roles);
            storages.push((m.clone(), *roles, dirs));
        }
        let gateway = route.as_ref().map(|r| (r.gateway, r.dev.clone()));
        let subnet = match &spec.subnet {
            Some(s) => Some(s.clone()),
            None if spec.network_vlan().is_none() => {
                let a = nics.iter().find(|n| n.name == data).and_then(|n| n.addr);
                a.and_then(|a| derive_subnet(a.ip, a.prefix, gateway.as_ref().map(|g| g.0)))
                    .map(|s| (format!("{}-subnet", spec.network_name), s))
            }
            None => None,
        };
        if self.store.vswitch_list()?.iter().any(|s| {
            crate::domain::text::fold(&s.name) == crate::domain::text::fold(&spec.switch_name)
        }) {
            return Err(Error::new(
                Code::VSwitchNameExists,
                format!(
                    "Field `switch_name`: a virtual switch named `{}` exists",
                    spec.switch_name
                ),
            ));
        }
        if self.store.network_list()?.iter().any(|n| {
            crate::domain::text::fold(&n.name) == crate::domain::text::fold(&spec.network_name)
        }) {
            return Err(Error::new(
                Code::NetworkNameExists,
                format!(
                    "Field `network_name`: a network named `{}` exists",
                    spec.network_name
                ),
            ));
        }
        Ok(InitPlan {
            hostname: self.inventory.hostname().await?,
            spec,
            answers,
            nics,
            gateway,
            manage,
            image,
            data,
            storages,
            subnet,
        })
    }

    /// Unattended first boot (`init --answer-file`): the same initialisation,
    /// then the first admin. Re-running with the same answers and password
    /// changes nothing and answers `None`; other answers are refused.
    pub async fn controller_init_unattended(
        self: &Arc<Self>,
        admin: &str,
        password: &str,
        spec: InitSpec,
        answers: String,
    ) -> Result<Option<(Uuid, InitOutcome)>> {
        let admin_known = self.admin_verify(admin, password)?;
        if admin_known == Some(false) {
            return Err(Error::new(
                Code::BadCredentials,
                format!("Admin `{admin}` exists with another password; give its password in the answer file"),
            ));
        }
        if let Some(rec) = self.store.controller()? {
            if rec.answers == answers {
                return Ok(None);
            }
            return Err(Error::new(
                Code::ControllerExists,
                format!(
                    "The controller was initialised (node {}) with other answers; initialisation runs once",
                    rec.node
                ),
            ));
        }
        let actor = Actor::anonymous("answer-file");
        let plan = self.controller_init_plan(spec, answers).await?;
        let (task, done) = self.controller_init(&actor, plan).await?;
        let out = done
            .recv()
            .await
            .map_err(|_| Error::internal("the initialisation task ended without a result"))??;
        if admin_known.is_none() {
            self.admin_set_password(admin, password)?;
        }
        // The task's own end is recorded by the runner; wait for it.
        for _ in 0..100 {
            if self
                .task_get(&task)
                .map(|t| t.state.is_final())
                .unwrap_or(true)
            {
                break;
            }
            smol::Timer::after(std::time::Duration::from_millis(10)).await;
        }
        Ok(Some((task, out)))
    }

    /// Makes a test's initialisation fail at `step` (one of `INIT_STEPS`);
    /// `crash:<step>` fails there without undoing, as a killed process would.
    #[doc(hidden)]
    pub fn controller_init_fail_at(&self, step: Option<&str>) {
        if let Ok(mut f) = self.node_state.init_fail_at.lock() {
            *f = step.map(Into::into);
        }
    }

    fn init_fault(&self, step: &str) -> Result<()> {
        let hit = self
            .node_state
            .init_fail_at
            .lock()
            .map(|f| {
                f.as_deref()
                    .is_some_and(|f| f == step || f.strip_prefix("crash:") == Some(step))
            })
            .unwrap_or(false);
        if hit {
            return Err(Error::internal(format!(
                "injected failure at step `{step}`"
            )));
        }
        Ok(())
    }

    /// Starts initialisation as a task; returns its id and a receiver for
    /// its outcome (for callers that wait).
    pub async fn controller_init(
        self: &Arc<Self>,
        actor: &Actor,
        plan: InitPlan,
    ) -> Result<(Uuid, smol::channel::Receiver<Result<InitOutcome>>)> {
        if self.node_state.init_running.swap(true, Ordering::SeqCst) {
            return Err(Error::new(
                Code::ControllerExists,
                "Initialisation is already running; follow its task",
            ));
        }
        let (tx, rx) = smol::channel::bounded(1);
        let me = self.clone();
        let input = plan.answers.clone();
        let spawned = self
            .task_spawn(
                actor,
                "controller/init",
                &plan.spec.ip.to_string(),
                input,
                Box::new(move |task| {
                    Box::pin(async move {
                        let r = me.controller_init_run(&task, plan).await;
                        me.node_state.init_running.store(false, Ordering::SeqCst);
                        let _ = tx.try_send(r.clone());
                        let out = r?;
                        serde_json::to_string(&out.to_json()).map_err(Error::internal)
                    })
                }),
            )
            .await;
        if spawned.is_err() {
            self.node_state.init_running.store(false, Ordering::SeqCst);
        }
        Ok((spawned?, rx))
    }

    async fn controller_init_run(
        self: &Arc<Self>,
        task: &TaskHandle,
        plan: InitPlan,
    ) -> Result<InitOutcome> {
        let mut undo: Vec<Undo> = Vec::new();
        let r = self.controller_init_steps(task, &plan, &mut undo).await;
        // A simulated crash (tests): the process "dies" before undoing.
        let crashed = self
            .node_state
            .init_fail_at
            .lock()
            .map(|f| f.as_deref().is_some_and(|f| f.starts_with("crash:")))
            .unwrap_or(false);
        if r.is_err() && crashed {
            return r;
        }
        if let Err(e) = &r {
            task.progress(
                0,
                &format!(
                    "Failed: {}; undoing {} step(s)",
                    e.public_message(),
                    undo.len()
                ),
            );
            log::warn!(
                "controller initialisation failed: {e}; undoing {} step(s)",
                undo.len()
            );
            for u in undo.into_iter().rev() {
                if let Err(ue) = self.init_undo(u).await {
                    log::error!("undoing an initialisation step failed: {ue}");
                    task.progress(0, &format!("Undo failed: {}", ue.public_message()));
                }
            }
            let _ = self.store.flush().await;
        }
        r
    }

    async fn init_undo(&self, u: Undo) -> Result<()> {
        match u {
            Undo::Dirs(d) => self.storage.dirs_remove(&d).await,
            Undo::Pool(p) => self.store.pool_delete(&p).map(|_| ()),
            Undo::Node(n, nics, st) => self.store.controller_node_uncommit(&n, &nics, &st),
            Undo::Network(before) => self.network_restore(&before).await,
        }
    }

    async fn controller_init_steps(
        self: &Arc<Self>,
        task: &TaskHandle,
        plan: &InitPlan,
        undo: &mut Vec<Undo>,
    ) -> Result<InitOutcome> {
        let spec = &plan.spec;
        let now = now_ms();
        let mut warnings = Vec::new();

        // 1. Can this host run desktops?
        task.progress(
            5,
            "Checking virtualisation support (CPU flag, /dev/kvm, libvirt)",
        );
        self.init_fault(INIT_STEPS[0])?;
        let virt = self.node_virt().await?;
        let missing = virt.missing();
        if !missing.is_empty() {
            if spec.is_compute {
                return Err(Error::new(
                    Code::VirtUnsupported,
                    format!(
                        "This host cannot run desktops (is_compute is true): {}",
                        missing.join("; ")
                    ),
                ));
            }
            for m in &missing {
                task.progress(
                    10,
                    &format!("Warning: {m} (not needed on a controller-only node)"),
                );
            }
            warnings = missing;
        }

        // 2. Hardware inventory.
        task.progress(15, "Reading the hardware inventory");
        self.init_fault(INIT_STEPS[1])?;
        let mut inventory = self.inventory.inventory().await?;
        if inventory.hostname.is_empty() {
            inventory.hostname = plan.hostname.clone();
        }
        task.progress(
            25,
            &format!(
                "{}: {} ({} socket(s), {} core(s), {} thread(s)), {} MiB memory, {} GPU(s)",
                plan.hostname,
                inventory.cpu.model,
                inventory.cpu.sockets,
                inventory.cpu.cores,
                inventory.cpu.threads,
                inventory.memory_bytes >> 20,
                inventory.gpus.len()
            ),
        );

        // 3. Storage directories.
        task.progress(30, "Preparing the storage directories");
        self.init_fault(INIT_STEPS[2])?;
        let node_uuid = Uuid::new_v4();
        let mut storages = Vec::new();
        for (m, roles, dirs) in &plan.storages {
            let made = self.storage.dirs_create(dirs).await?;
            undo.push(Undo::Dirs(made));
            task.progress(
                35,
                &format!(
                    "{}: roles {} under {}",
                    m.path,
                    roles.text(),
                    storage_root(&m.path).display()
                ),
            );
            storages.push(Storage {
                uuid: Uuid::new_v4(),
                node: node_uuid,
                mount: m.path.clone(),
                root: storage_root(&m.path).to_string_lossy().into_owned(),
                roles: *roles,
                device: m.device.clone(),
                fs: m.fs.clone(),
                rotational: m.rotational,
                total_bytes: m.total_bytes,
                created_at: now,
            });
        }

        // 4. The default resource pool.
        task.progress(45, "Setting up the default resource pool");
        self.init_fault(INIT_STEPS[3])?;
        let pool = match self.store.pool_default()? {
            Some(p) => p,
            None => {
                let p = self.store.pool_insert(&ResourcePool {
                    uuid: Uuid::new_v4(),
                    seq: 0,
                    name: "default".into(),
                    desc: "Created at first boot".into(),
                    is_default: true,
                    created_at: now,
                    updated_at: now,
                })?;
                undo.push(Undo::Pool(p.uuid));
                p.uuid
            }
        };

        // 5. The node, its NICs and storage.
        task.progress(55, "Recording the controller node, its NICs and storage");
        self.init_fault(INIT_STEPS[4])?;
        let node = Node {
            uuid: node_uuid,
            name: plan.hostname.clone(),
            ip: spec.ip.to_string(),
            role: if spec.is_compute {
                NodeRole::ControllerCompute
            } else {
                NodeRole::Controller
            },
            pool: spec.is_compute.then_some(pool),
            manage_interface: plan.manage.clone(),
            image_interface: plan.image.clone(),
            data_interface: plan.data.clone(),
            inventory,
            created_at: now,
            updated_at: now,
        };
        let nics: Vec<Nic> = plan
            .nics
            .iter()
            .map(|p| {
                let mut n = Nic::bare(Uuid::new_v4(), node_uuid, &p.name, now);
                n.mac = p.mac.clone();
                n.addrs = p.addrs.clone();
                n.gateway = plan
                    .gateway
                    .as_ref()
                    .filter(|(_, dev)| dev == &p.name || Some(dev) == p.bridge.as_ref())
                    .map(|(g, _)| *g);
                if p.name == plan.manage {
                    n.manage_ips = vec![spec.ip];
                }
                if p.name == plan.image {
                    n.image_ips = if p.name == plan.manage {
                        vec![spec.ip]
                    } else {
                        p.addr.map(|a| a.ip).into_iter().collect()
                    };
                }
                n
            })
            .collect();
        self.store.controller_node_commit(&node, &nics, &storages)?;
        undo.push(Undo::Node(
            Box::new(node.clone()),
            nics.iter().map(|n| n.uuid).collect(),
            storages.iter().map(|s| s.uuid).collect(),
        ));
        task.progress(
            60,
            &format!(
                "Node {} ({}) as {}: {} NIC(s), {} storage(s)",
                node.name,
                node.ip,
                node.role.as_str(),
                nics.len(),
                storages.len()
            ),
        );

        // 6. Default switch, network and subnet, and the bridge on the host.
        task.progress(
            65,
            "Creating the default virtual switch, network and subnet",
        );
        self.init_fault(INIT_STEPS[5])?;
        let data_nic = nics
            .iter()
            .find(|n| n.name == plan.data)
            .ok_or_else(|| Error::internal("the data NIC vanished from the plan"))?;
        let sw = VSwitch {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: spec.switch_name.clone(),
            kind: spec.switch_type,
            desc: "Created at first boot".into(),
            uplinks: vec![Uplink {
                node: node_uuid,
                nic: data_nic.uuid,
                interface: data_nic.name.clone(),
            }],
            created_at: now,
            updated_at: now,
        };
        let net = Network {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: spec.network_name.clone(),
            switch: sw.uuid,
            vlan_id: spec.network_vlan(),
            created_at: now,
            updated_at: now,
        };
        let subnet = plan.subnet.as_ref().map(|(name, sp)| Subnet {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: name.clone(),
            network: net.uuid,
            range: sp.range,
            prefix: sp.prefix,
            gateway: sp.gateway,
            dns1: sp.dns1,
            dns2: sp.dns2,
            created_at: now,
            updated_at: now,
        });
        let before = self.store.network_snapshot()?;
        let (_, applied) = self
            .network_change_with(
                "controller/init",
                || {
                    self.store.vswitch_insert(&sw)?;
                    self.store.network_insert(&net, subnet.as_ref())
                },
                false,
            )
            .await?;
        undo.push(Undo::Network(Box::new(before)));
        let bridge = crate::domain::net::bridge_name(&net.uuid);
        task.progress(
            85,
            &format!(
                "Switch `{}` ({}) on `{}`, network `{}` on bridge {} ({} host change(s)){}",
                sw.name,
                sw.kind.as_str(),
                plan.data,
                net.name,
                bridge,
                applied.host_steps,
                match &subnet {
                    Some(s) => format!(", subnet `{}` {}-{}", s.name, s.range.start, s.range.end),
                    None => ", no subnet: add one with /api/v1/subnet/create".into(),
                }
            ),
        );

        // 7. Done: the record that makes the controller initialised.
        task.progress(95, "Marking the controller initialised");
        self.init_fault(INIT_STEPS[6])?;
        self.store.controller_mark(&ControllerRecord {
            node: node_uuid,
            vswitch: sw.uuid,
            network: net.uuid,
            answers: plan.answers.clone(),
            initialised_at: now_ms(),
        })?;
        self.store.flush().await?;
        if let Err(e) = self.node_storage_refresh().await {
            log::warn!("storage usage could not be read: {e}");
        }
        log::info!(
            "controller initialised: node {} ({}) as {}, switch {}, network {} on {}",
            node.name,
            node.ip,
            node.role.as_str(),
            sw.name,
            net.name,
            bridge
        );
        Ok(InitOutcome {
            node: node_uuid,
            pool,
            vswitch: sw.uuid,
            network: net.uuid,
            subnet: subnet.map(|s| s.uuid),
            bridge,
            warnings,
        })
    }
}
