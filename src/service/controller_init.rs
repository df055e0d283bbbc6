//! The initialisation task: its seven steps, each with an inverse run in
//! reverse when a later step fails, and a journal in the store of what it
//! made, so that a crash mid-way is rolled back at the next start.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::controller::{InitOutcome, InitPlan, INIT_STEPS};
use super::task::TaskHandle;
use super::{Actor, Services};
use crate::domain::clock::now_ms;
use crate::domain::controller::ControllerRecord;
use crate::domain::network::{Network, Subnet, Uplink, VSwitch};
use crate::domain::node::{Nic, Node, NodeRole};
use crate::domain::pool::ResourcePool;
use crate::domain::storage::{storage_root, Storage};
use crate::error::{Code, Error, Result};

/// A done step's inverse.
enum Undo {
    Dirs(Vec<PathBuf>),
    Pool(Uuid),
    Node(Box<Node>, Vec<Uuid>, Vec<Uuid>),
    Network {
        sw: Uuid,
        net: Uuid,
        subnet: Option<Uuid>,
    },
    Mark,
}

/// What the running initialisation has made so far (kept in the store).
#[derive(Serialize, Deserialize, Default, Debug)]
struct Journal {
    dirs: Vec<PathBuf>,
    pool: Option<String>,
    node: Option<String>,
    vswitch: Option<String>,
    network: Option<String>,
    subnet: Option<String>,
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

impl Services {
    /// Makes a test's initialisation fail at `step` (one of `INIT_STEPS`);
    /// `crash:<step>` fails there without undoing, as a killed process would.
    #[doc(hidden)]
    pub fn controller_init_fail_at(&self, step: Option<&str>) {
        if let Ok(mut f) = self.node_state.init_fail_at.lock() {
            *f = step.map(Into::into);
        }
    }

    /// The injected failure, if a test set one.
    fn init_failpoint(&self) -> Option<String> {
        self.node_state.init_fail_at.lock().ok()?.clone()
    }

    fn init_fault(&self, step: &str) -> Result<()> {
        match self.init_failpoint() {
            Some(f) if f == step || f.strip_prefix("crash:") == Some(step) => Err(Error::internal(
                format!("injected failure at step `{step}`"),
            )),
            _ => Ok(()),
        }
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
        let mut undo: Vec<Undo> = Vec::new();
        let r = self.controller_init_steps(task, &plan, &mut undo).await;
        // A simulated crash (tests): the process "dies" before undoing.
        let crashed = self
            .init_failpoint()
            .is_some_and(|f| f.starts_with("crash:"));
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
            if let Err(je) = self.store.init_journal_clear() {
                log::error!("cannot clear the initialisation journal: {je}");
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
            Undo::Network { sw, net, subnet } => self.init_network_remove(sw, net, subnet).await,
            Undo::Mark => self.store.controller_unmark(),
        }
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
            Err(e) if e.code.kind() == crate::error::Kind::NotFound => Ok(()),
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

    /// Rolls back what an interrupted initialisation recorded in its
    /// journal (after a crash); returns what was undone.
    pub async fn controller_init_rollback(&self) -> Result<Vec<String>> {
        let Some(text) = self.store.init_journal()? else {
            return Ok(Vec::new());
        };
        let j: Journal = serde_json::from_str(&text).unwrap_or_default();
        let mut undone = Vec::new();
        let id = |s: &Option<String>| s.as_deref().and_then(|s| Uuid::parse_str(s).ok());
        if let (Some(sw), Some(net)) = (id(&j.vswitch), id(&j.network)) {
            self.init_network_remove(sw, net, id(&j.subnet)).await?;
            undone.push("the default switch and network".to_string());
        }
        if let Some(node) = id(&j.node) {
            if self.store.local_node()? == Some(node) {
                let n = self.store.node_get(&node)?;
                let nics: Vec<Uuid> = self
                    .store
                    .nic_list()?
                    .into_iter()
                    .filter(|x| x.node == node)
                    .map(|x| x.uuid)
                    .collect();
                let st: Vec<Uuid> = self
                    .store
                    .storage_list()?
                    .into_iter()
                    .filter(|x| x.node == node)
                    .map(|x| x.uuid)
                    .collect();
                self.store.controller_node_uncommit(&n, &nics, &st)?;
                undone.push(format!("node `{}`", n.name));
            }
        }
        if let Some(p) = id(&j.pool) {
            match self.store.pool_delete(&p) {
                Ok(_) => undone.push("the default pool".into()),
                Err(e) => log::warn!("the pool made by the interrupted initialisation stays: {e}"),
            }
        }
        if !j.dirs.is_empty() {
            self.storage.dirs_remove(&j.dirs).await?;
            undone.push(format!("{} storage director(ies)", j.dirs.len()));
        }
        self.store.init_journal_clear()?;
        self.store.flush().await?;
        Ok(undone)
    }

    fn journal(&self, j: &Journal) -> Result<()> {
        self.store
            .init_journal_set(&serde_json::to_string(j).map_err(Error::internal)?)
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
        let mut journal = Journal::default();
        let mut storages = Vec::new();
        for (m, roles, dirs) in &plan.storages {
            let made = self.storage.dirs_create(dirs).await?;
            journal.dirs.extend(made.iter().cloned());
            undo.push(Undo::Dirs(made));
            self.journal(&journal)?;
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
        let (pool, made) = self.store.pool_ensure_default(&ResourcePool {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: "default".into(),
            desc: "Created at first boot".into(),
            is_default: true,
            created_at: now,
            updated_at: now,
        })?;
        if made {
            undo.push(Undo::Pool(pool));
            journal.pool = Some(pool.to_string());
            self.journal(&journal)?;
        }

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
        journal.node = Some(node_uuid.to_string());
        self.journal(&journal)?;
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
        journal.vswitch = Some(sw.uuid.to_string());
        journal.network = Some(net.uuid.to_string());
        journal.subnet = subnet.as_ref().map(|s| s.uuid.to_string());
        self.journal(&journal)?;
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
        undo.push(Undo::Network {
            sw: sw.uuid,
            net: net.uuid,
            subnet: subnet.as_ref().map(|s| s.uuid),
        });
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
        undo.push(Undo::Mark);
        self.store.flush().await?;
        // Initialised: the journal has nothing left to undo.
        if let Err(e) = self.store.init_journal_clear() {
            log::warn!("cannot clear the initialisation journal: {e}");
        }
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
