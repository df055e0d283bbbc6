//! Desktop state against libvirt: the start-up repair of what a crash
//! interrupted (half-made or half-deleted desktops of ready groups, domains
//! and directories nobody owns) and the poll that keeps each desktop's status
//! and start time in step with its domain.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use uuid::Uuid;

use crate::domain::desktop::{Assign, Phase, Status};
use crate::domain::storage::Role;
use crate::error::Result;
use crate::host::PowerState;
use crate::service::Services;

impl Services {
    /// Removes desktops of ready groups left half made or half deleted,
    /// then domains and disk directories of desktops that have no record
    /// (groups being made or deleted are their sagas' to recover).
    pub async fn desktop_recover(self: &Arc<Self>) -> Result<usize> {
        let mut repaired = 0;
        // Groups being made or deleted are their sagas' to finish or undo.
        for g in self.store.desktop_group_list()? {
            if g.phase != Phase::Ready {
                continue;
            }
            let list = self.store.desktops_of(&g.uuid)?;
            let half: Vec<_> = list
                .into_iter()
                .filter(|d| d.phase != Phase::Ready)
                .collect();
            if !half.is_empty() {
                log::warn!(
                    "desktop group {}: removing {} half-made or half-deleted desktops",
                    g.name,
                    half.len()
                );
                repaired += half.len();
                self.desktops_remove(&g, &half).await;
            }
        }
        let known: HashSet<Uuid> = self.store.desktop_list()?.iter().map(|d| d.uuid).collect();
        for (uuid, name) in self.hypervisor.list().await? {
            if name.starts_with("desktop-") && !known.contains(&uuid) {
                log::warn!("undefining domain {name}: no desktop has it");
                self.hypervisor.undefine(uuid).await?;
                repaired += 1;
            }
        }
        for (role, sub) in [
            (Role::DesktopSystem, "instances"),
            (Role::DesktopData, "datas"),
        ] {
            let Ok(dir) = self.role_dir(role, sub) else {
                continue;
            };
            for name in self.disks.list_dir(&dir).await? {
                if let Ok(u) = Uuid::parse_str(&name) {
                    if !known.contains(&u) {
                        log::warn!("removing {}/{name}: no desktop has it", dir.display());
                        self.disks.remove(&dir.join(&name)).await?;
                        repaired += 1;
                    }
                }
            }
        }
        self.store.flush().await?;
        Ok(repaired)
    }

    /// One poll: every ready desktop's status follows its domain. A domain
    /// that disappeared (libvirt lost it) is defined again from the record;
    /// a random desktop that went off is free again.
    pub async fn desktop_reconcile(&self) -> Result<usize> {
        let desktops = self.store.desktop_list()?;
        let (states, down) = self.desktop_node_states(&desktops).await?;
        let groups: HashMap<Uuid, _> = self
            .store
            .desktop_group_list()?
            .into_iter()
            .map(|g| (g.uuid, g))
            .collect();
        let mut changed = 0;
        for d in desktops {
            let Some(g) = groups.get(&d.group) else {
                continue;
            };
            if d.phase != Phase::Ready
                || g.phase != Phase::Ready
                || self.desktop_busy.is_marked(&d.uuid)
            {
                continue;
            }
            if down.contains(&d.node) {
                if d.status != Status::Unknown {
                    match self.store.desktop_update(&d.uuid, &|mut x| {
                        x.status = Status::Unknown;
                        Ok(x)
                    }) {
                        Ok(_) => changed += 1,
                        Err(e) => log::warn!("desktop {}: status not recorded: {e}", d.name),
                    }
                }
                continue;
            }
            let Some(states) = states.get(&d.node) else {
                continue;
            };
            let state = states.get(&d.uuid).copied();
            let running = matches!(state, Some(PowerState::Running | PowerState::Paused));
            if state.is_none() {
                if let Ok(t) = self.store.template_get(&g.template) {
                    log::warn!("desktop {}: its domain is gone; defining it again", d.name);
                    self.hv(&d.node)?
                        .define(self.desktop_vm_spec(&d, g, &t).to_xml())
                        .await?;
                }
            }
            let want = if running {
                Status::Active
            } else if d.status == Status::Error {
                Status::Error
            } else {
                Status::Inactive
            };
            if want == d.status {
                continue;
            }
            let free = !running && g.assign == Some(Assign::Random);
            let out = self.store.desktop_update(&d.uuid, &|mut x| {
                // Another writer may have moved it meanwhile: only fix what
                // this poll saw.
                if x.status != d.status {
                    return Ok(x);
                }
                x.status = want;
                if running {
                    x.started_at = x.started_at.or(Some(self.now_ms()));
                } else {
                    x.started_at = None;
                    x.terminal_mac.clear();
                    x.terminal_ip.clear();
                    if free {
                        x.user = None;
                    }
                }
                Ok(x)
            });
            match out {
                Ok(_) => changed += 1,
                Err(e) => log::warn!("desktop {}: status not recorded: {e}", d.name),
            }
        }
        if changed > 0 {
            self.store.flush().await?;
        }
        Ok(changed)
    }

    /// The domains' states on each node with desktops, and the joined
    /// nodes that are down or do not answer (their desktops become
    /// `unknown`). This host failing to answer is an error, as before
    /// nodes existed.
    async fn desktop_node_states(
        &self,
        desktops: &[crate::domain::desktop::Desktop],
    ) -> Result<(NodeStates, HashSet<Uuid>)> {
        let local = self.store.local_node()?;
        let nodes: HashSet<Uuid> = desktops.iter().map(|d| d.node).collect();
        let now = self.now_ms();
        let mut states = HashMap::new();
        let mut down = HashSet::new();
        for node in nodes {
            if Some(node) == local || self.settings.membership.is_some() {
                states.insert(node, self.hypervisor.states().await?.into_iter().collect());
                continue;
            }
            // Just after this service started no heartbeat has come yet:
            // ask the node rather than call it down.
            let fresh = self.uptime() < self.settings.monitor_down_after;
            if !fresh && !self.monitor_node_up(&node, now).unwrap_or(false) {
                down.insert(node);
                continue;
            }
            let polled = match self.hv(&node) {
                Ok(hv) => hv.states().await,
                Err(e) => Err(e),
            };
            match polled {
                Ok(v) => {
                    states.insert(node, v.into_iter().collect());
                }
                Err(e) => {
                    log::debug!("node {node}: domain states not polled: {e}");
                    down.insert(node);
                }
            }
        }
        Ok((states, down))
    }
}

type NodeStates = HashMap<Uuid, HashMap<Uuid, PowerState>>;
