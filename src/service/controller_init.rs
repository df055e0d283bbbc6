//! The initialisation saga: seven named steps (virtualisation, inventory,
//! storage, pool, node, network, mark), each with its undo. The uuids of
//! what it makes are chosen before it starts and journalled, so a failure
//! unwinds the steps reached, and a crash mid-way is unwound at the next
//! start by the saga runner's recovery.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::controller::{InitOutcome, InitPlan, INIT_STEPS};
use super::network::subnet_from;
use super::saga::{Checkpoint, Saga};
use super::task::TaskHandle;
use super::{Actor, Services};
use crate::domain::controller::ControllerRecord;
use crate::domain::inventory::Inventory;
use crate::domain::network::{Network, Subnet, Uplink, VSwitch};
use crate::domain::node::{Nic, Node, NodeRole};
use crate::domain::pool::ResourcePool;
use crate::domain::storage::{storage_root, Storage};
use crate::error::{Code, Error, Kind, Result};

/// What the journal keeps: the uuids chosen up front, and the directories
/// made (only those: directories that were there stay).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct InitFacts {
    pub node: Uuid,
    pub pool: Uuid,
    pub vswitch: Uuid,
    pub network: Uuid,
    pub subnet: Option<Uuid>,
    pub dirs: Vec<PathBuf>,
}

/// A running initialisation.
pub struct ControllerInit {
    f: InitFacts,
    /// Absent after a restart (undo needs only the facts).
    plan: Option<InitPlan>,
    /// When the run started, on the service's clock (0 after a restart:
    /// undo does not need it).
    now: i64,
    warnings: Vec<String>,
    inventory: Option<Inventory>,
    storages: Vec<Storage>,
    pool: Option<Uuid>,
    nics: Vec<Nic>,
    outcome: Option<InitOutcome>,
}

/// Clears the "initialisation running" flag when dropped.
struct Running(Arc<Services>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0
            .node_state
            .init_running
            .store(false, Ordering::SeqCst);
    }
}

impl ControllerInit {
    fn new(plan: InitPlan, now: i64) -> ControllerInit {
        let f = InitFacts {
            node: Uuid::new_v4(),
            pool: Uuid::new_v4(),
            vswitch: Uuid::new_v4(),
            network: Uuid::new_v4(),
            subnet: plan.subnet.as_ref().map(|_| Uuid::new_v4()),
            dirs: Vec::new(),
        };
        let mut saga = ControllerInit::resumed(f);
        saga.plan = Some(plan);
        saga.now = now;
        saga
    }

    fn plan(&self) -> Result<&InitPlan> {
        self.plan
            .as_ref()
            .ok_or_else(|| Error::internal("controller/init: no plan after a restart"))
    }

    /// The default switch, network and subnet, and the bridge on the host.
    async fn network(&mut self, s: &Arc<Services>, task: &TaskHandle) -> Result<()> {
        let plan = self.plan()?.clone();
        let spec = &plan.spec;
        let now = self.now;
        task.progress(
            65,
            "Creating the default virtual switch, network and subnet",
        );
        let data_nic = self
            .nics
            .iter()
            .find(|n| n.name == plan.data)
            .ok_or_else(|| Error::internal("the data NIC vanished from the plan"))?;
        let sw = VSwitch {
            uuid: self.f.vswitch,
            seq: 0,
            name: spec.switch_name.clone(),
            kind: spec.switch_type,
            desc: "Created at first boot".into(),
            uplinks: vec![Uplink {
                node: self.f.node,
                nic: data_nic.uuid,
                interface: data_nic.name.clone(),
            }],
            created_at: now,
            updated_at: now,
        };
        let net = Network {
            uuid: self.f.network,
            seq: 0,
            name: spec.network_name.clone(),
            switch: sw.uuid,
            vlan_id: spec.network_vlan(),
            created_at: now,
            updated_at: now,
        };
        let subnet = plan
            .subnet
            .as_ref()
            .zip(self.f.subnet)
            .map(|((name, sp), uuid)| Subnet {
                uuid,
                ..subnet_from(name.clone(), net.uuid, sp.clone(), now)
            });
        let (_, applied) = s
            .network_change_with(
                "controller/init",
                || {
                    s.store.vswitch_insert(&sw)?;
                    s.store.network_insert(&net, subnet.as_ref())
                },
                false,
            )
            .await?;
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
        self.outcome = Some(InitOutcome {
            node: self.f.node,
            pool: self.pool.unwrap_or(self.f.pool),
            vswitch: sw.uuid,
            network: net.uuid,
            subnet: subnet.map(|s| s.uuid),
            bridge,
            warnings: self.warnings.clone(),
        });
        Ok(())
    }
}

impl Saga for ControllerInit {
    type Facts = InitFacts;
    const KIND: &'static str = "controller/init";
    const STEPS: &'static [&'static str] = &INIT_STEPS;

    fn facts(&self) -> &InitFacts {
        &self.f
    }

    fn resumed(f: InitFacts) -> Self {
        ControllerInit {
            f,
            plan: None,
            now: 0,
            warnings: Vec::new(),
            inventory: None,
            storages: Vec::new(),
            pool: None,
            nics: Vec::new(),
            outcome: None,
        }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        cp: &mut Checkpoint,
    ) -> Result<()> {
        let plan = self.plan()?.clone();
        let spec = &plan.spec;
        let now = self.now;
        let node_uuid = self.f.node;
        match step {
            "virtualisation" => {
                task.progress(
                    5,
                    "Checking virtualisation support (CPU flag, /dev/kvm, libvirt)",
                );
                let virt = s.node_virt().await?;
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
                    self.warnings = missing;
                }
            }
            "inventory" => {
                task.progress(15, "Reading the hardware inventory");
                let mut inventory = s.inventory.inventory().await?;
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
                self.inventory = Some(inventory);
            }
            "storage" => {
                task.progress(30, "Preparing the storage directories");
                for (m, roles, dirs) in &plan.storages {
                    let made = s.storage.dirs_create(dirs).await?;
                    self.f.dirs.extend(made);
                    cp.save(&self.f).await?;
                    task.progress(
                        35,
                        &format!(
                            "{}: roles {} under {}",
                            m.path,
                            roles.text(),
                            storage_root(&m.path).display()
                        ),
                    );
                    self.storages.push(Storage {
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
            }
            "pool" => {
                task.progress(45, "Setting up the default resource pool");
                let (pool, _made) = s.store.pool_ensure_default(&ResourcePool {
                    uuid: self.f.pool,
                    seq: 0,
                    name: "default".into(),
                    desc: "Created at first boot".into(),
                    is_default: true,
                    created_at: now,
                    updated_at: now,
                })?;
                self.pool = Some(pool);
            }
            "node" => {
                task.progress(55, "Recording the controller node, its NICs and storage");
                let node = Node {
                    uuid: node_uuid,
                    name: plan.hostname.clone(),
                    ip: spec.ip.to_string(),
                    role: if spec.is_compute {
                        NodeRole::ControllerCompute
                    } else {
                        NodeRole::Controller
                    },
                    pool: if spec.is_compute { self.pool } else { None },
                    manage_interface: plan.manage.clone(),
                    image_interface: plan.image.clone(),
                    data_interface: plan.data.clone(),
                    inventory: self.inventory.clone().unwrap_or_default(),
                    created_at: now,
                    updated_at: now,
                };
                self.nics = plan
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
                s.store
                    .controller_node_commit(&node, &self.nics, &self.storages)?;
                task.progress(
                    60,
                    &format!(
                        "Node {} ({}) as {}: {} NIC(s), {} storage(s)",
                        node.name,
                        node.ip,
                        node.role.as_str(),
                        self.nics.len(),
                        self.storages.len()
                    ),
                );
            }
            "network" => self.network(s, task).await?,
            "mark" => {
                task.progress(95, "Marking the controller initialised");
                s.store.controller_mark(&ControllerRecord {
                    node: node_uuid,
                    vswitch: self.f.vswitch,
                    network: self.f.network,
                    answers: plan.answers.clone(),
                    initialised_at: s.now_ms(),
                })?;
                s.store.flush().await?;
            }
            other => {
                return Err(Error::internal(format!(
                    "controller/init: no step `{other}`"
                )))
            }
        }
        Ok(())
    }

    async fn undo(&self, s: &Arc<Services>, step: &'static str) -> Result<()> {
        let gone = |r: Result<()>| match r {
            Err(e) if e.code.kind() == Kind::NotFound => Ok(()),
            other => other,
        };
        match step {
            "storage" => s.storage.dirs_remove(&self.f.dirs).await,
            // Only a pool this initialisation made has its uuid.
            "pool" => gone(s.store.pool_delete(&self.f.pool).map(|_| ())),
            "node" => {
                let node = self.f.node;
                if s.store.local_node()? != Some(node) {
                    return Ok(());
                }
                let n = s.store.node_get(&node)?;
                let nics: Vec<Uuid> = s
                    .store
                    .nic_list()?
                    .into_iter()
                    .filter(|x| x.node == node)
                    .map(|x| x.uuid)
                    .collect();
                let st: Vec<Uuid> = s
                    .store
                    .storage_list()?
                    .into_iter()
                    .filter(|x| x.node == node)
                    .map(|x| x.uuid)
                    .collect();
                s.store.controller_node_uncommit(&n, &nics, &st)
            }
            "network" => {
                s.init_network_remove(self.f.vswitch, self.f.network, self.f.subnet)
                    .await
            }
            "mark" => match s.store.controller()? {
                Some(rec) if rec.node == self.f.node => s.store.controller_unmark(),
                _ => Ok(()),
            },
            // virtualisation and inventory change nothing.
            _ => Ok(()),
        }
    }
}

impl Services {
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
        // Cleared however the task ends, even if its work never runs.
        let guard = Running(self.clone());
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
                        drop(guard);
                        let _ = tx.try_send(r.clone());
                        let out = r?;
                        serde_json::to_string(&out.to_json()).map_err(Error::internal)
                    })
                }),
            )
            .await;
        Ok((spawned?, rx))
    }

    async fn controller_init_run(
        self: &Arc<Self>,
        task: &TaskHandle,
        plan: InitPlan,
    ) -> Result<InitOutcome> {
        let mut saga = ControllerInit::new(plan, self.now_ms());
        if let Err(e) = self.saga_run(&mut saga, task).await {
            log::warn!("controller initialisation failed: {e}");
            return Err(e);
        }
        let out = saga
            .outcome
            .ok_or_else(|| Error::internal("controller/init ended without an outcome"))?;
        if let Err(e) = self.node_storage_refresh().await {
            log::warn!("storage usage could not be read: {e}");
        }
        log::info!(
            "controller initialised: node {}, switch {}, network {} on {}",
            out.node,
            out.vswitch,
            out.network,
            out.bridge
        );
        Ok(out)
    }

    /// Removes the default switch, network and subnet that initialisation
    /// made (and nothing else), then brings the host in line while this
    /// node is still on record, so addresses go back onto the NIC.
    pub(crate) async fn init_network_remove(
        &self,
        sw: Uuid,
        net: Uuid,
        subnet: Option<Uuid>,
    ) -> Result<()> {
        let _g = self.net_lock.lock().await;
        let gone = |r: Result<()>| match r {
            Err(e) if e.code.kind() == Kind::NotFound => Ok(()),
            other => other,
        };
        if let Some(s) = subnet {
            gone(self.store.subnet_delete(&s).map(|_| ()))?;
        }
        gone(self.store.network_delete(&net).map(|_| ()))?;
        gone(self.store.vswitch_delete(&sw).map(|_| ()))?;
        let r = self.hostnet_sync().await.map(|_| ());
        self.store.flush().await?;
        r
    }
}
