//! Virtual switches, data networks and subnets: every change is written to
//! the store and applied to the host under one lock; when the host refuses,
//! the store is put back and the host steps undone. A change that moves the
//! management address (bridging the NIC that carries it) must be confirmed
//! within `network_confirm`, or it is rolled back.

use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;

use super::{Actor, Services};
use crate::domain::netplan::Step;
use crate::domain::network::{
    Network, Subnet, SubnetPatch, SubnetSpec, SwitchType, Uplink, VSwitch, VSwitchPatch,
};
use crate::error::{Code, Error, Result};
use crate::store::NetworkSnapshot;

/// A change applied to the host that waits for confirmation.
pub struct Pending {
    id: u64,
    deadline: Instant,
    before: NetworkSnapshot,
    what: String,
}

/// What a change did to the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    pub host_steps: usize,
    /// Seconds left to confirm, when the change moved the management address.
    pub confirm_within_s: Option<u64>,
}

fn moves_management(steps: &[Step]) -> bool {
    steps
        .iter()
        .any(|s| matches!(s, Step::Route { .. } | Step::AddrDel { .. }))
}

impl Services {
    fn pending_check(&self) -> Result<()> {
        let p = self.net_pending.lock().map_err(Error::internal)?;
        if let Some(p) = p.as_ref() {
            let left = p
                .deadline
                .saturating_duration_since(self.clock.instant())
                .as_secs();
            return Err(Error::new(
                Code::NetworkConfirmPending,
                format!(
                    "`{}` waits for POST /api/v1/network/confirm ({left} s left)",
                    p.what
                ),
            ));
        }
        Ok(())
    }

    /// Runs a store change and applies it to the host; on any failure the
    /// store goes back to `before` and the host steps are undone.
    pub(crate) async fn network_change<T>(
        self: &Arc<Self>,
        what: &str,
        change: impl FnOnce() -> Result<T>,
    ) -> Result<(T, Applied)> {
        self.network_change_with(what, change, true).await
    }

    /// `network_change`, with the confirmation safety net only when
    /// `arm_confirm` (initialisation keeps the address and needs none).
    pub(crate) async fn network_change_with<T>(
        self: &Arc<Self>,
        what: &str,
        change: impl FnOnce() -> Result<T>,
        arm_confirm: bool,
    ) -> Result<(T, Applied)> {
        let _g = self.net_lock.lock().await;
        self.pending_check()?;
        let before = self.store.network_snapshot()?;
        let out = match change() {
            Ok(out) => out,
            Err(e) => {
                // A change of several records may have written some.
                if let Err(r) = self.store.network_restore(&before) {
                    log::error!("cannot restore the network tables after a failed change: {r}");
                }
                return Err(e);
            }
        };
        let steps = match self.hostnet_sync().await {
            Ok(steps) => steps,
            Err(e) => {
                if let Err(r) = self.store.network_restore(&before) {
                    log::error!("cannot restore the network tables after a failed apply: {r}");
                }
                self.store.flush().await?;
                return Err(e);
            }
        };
        self.store.flush().await?;
        let me = self.clone();
        (self.tasks_spawner())(Box::pin(async move { me.nodes_network_push().await }));
        let mut applied = Applied {
            host_steps: steps.len(),
            confirm_within_s: None,
        };
        if arm_confirm && moves_management(&steps) {
            let wait = self.settings.network_confirm;
            let id = self.store.generation(crate::store::Table::Network);
            *self.net_pending.lock().map_err(Error::internal)? = Some(Pending {
                id,
                deadline: self.clock.instant() + wait,
                before,
                what: what.to_string(),
            });
            applied.confirm_within_s = Some(wait.as_secs());
            log::warn!(
                "{what} moved the management address: confirm within {} s or it is rolled back",
                wait.as_secs()
            );
            // A weak reference: a confirmed change's timer keeps nothing alive.
            let me = Arc::downgrade(self);
            let expired = self.clock.sleep(wait);
            (self.tasks_spawner())(Box::pin(async move {
                expired.await;
                if let Some(me) = me.upgrade() {
                    me.network_rollback_if_pending(id).await;
                }
            }));
        }
        Ok((out, applied))
    }

    async fn network_rollback_if_pending(&self, id: u64) {
        let _g = self.net_lock.lock().await;
        let taken = match self.net_pending.lock() {
            Ok(mut p) if p.as_ref().is_some_and(|p| p.id == id) => p.take(),
            _ => None,
        };
        let Some(p) = taken else { return };
        log::warn!("`{}` was not confirmed in time: rolling back", p.what);
        let r = match self.store.network_restore(&p.before) {
            Ok(()) => self.hostnet_sync().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match r {
            Ok(()) => {
                let _ = self.store.flush().await;
                self.operation_log_record(
                    &Actor::anonymous("-"),
                    "network/rollback",
                    &p.what,
                    0,
                    "rolled back: not confirmed",
                );
            }
            Err(e) => log::error!("rolling back `{}` failed: {e}", p.what),
        }
    }

    /// Confirms the change that moved the management address.
    pub async fn network_confirm(&self, _actor: &Actor) -> Result<Option<String>> {
        let _g = self.net_lock.lock().await;
        Ok(self
            .net_pending
            .lock()
            .map_err(Error::internal)?
            .take()
            .map(|p| p.what))
    }

    pub async fn vswitch_create(
        self: &Arc<Self>,
        actor: &Actor,
        name: String,
        kind: SwitchType,
        desc: String,
        uplinks: Vec<Uplink>,
    ) -> Result<(VSwitch, Applied)> {
        let now = self.now_ms();
        let s = VSwitch {
            uuid: Uuid::new_v4(),
            seq: 0,
            name,
            kind,
            desc,
            uplinks,
            created_at: now,
            updated_at: now,
        };
        let what = format!("vswitch/create {}", s.name);
        let out = self
            .network_change(&what, || self.store.vswitch_insert(&s))
            .await?;
        log::info!(
            "{} created virtual switch {} ({})",
            actor.name,
            out.0.name,
            out.0.uuid
        );
        Ok(out)
    }

    pub async fn vswitch_update(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        patch: VSwitchPatch,
    ) -> Result<(VSwitch, Applied)> {
        let out = self
            .network_change(&format!("vswitch/update {uuid}"), || {
                self.store.vswitch_update(uuid, &patch, self.now_ms())
            })
            .await?;
        log::info!(
            "{} updated virtual switch {} ({})",
            actor.name,
            out.0.name,
            out.0.uuid
        );
        Ok(out)
    }

    pub async fn vswitch_delete(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
    ) -> Result<(VSwitch, Applied)> {
        let out = self
            .network_change(&format!("vswitch/delete {uuid}"), || {
                self.store.vswitch_delete(uuid)
            })
            .await?;
        log::info!(
            "{} deleted virtual switch {} ({})",
            actor.name,
            out.0.name,
            out.0.uuid
        );
        Ok(out)
    }

    pub fn vswitch_get(&self, uuid: &Uuid) -> Result<VSwitch> {
        self.store.vswitch_get(uuid)
    }

    pub fn vswitch_network_count(&self, uuid: &Uuid) -> Result<usize> {
        Ok(self.store.vswitch_networks(uuid)?.len())
    }

    /// How many addresses of the subnet are allocated.
    /// Addresses taken in a subnet (a classroom seat's shared address
    /// counts once).
    pub fn subnet_used(&self, uuid: &Uuid) -> Result<usize> {
        let ips: std::collections::BTreeSet<_> = self
            .store
            .ip_allocations(uuid)?
            .into_iter()
            .map(|(ip, _)| ip)
            .collect();
        Ok(ips.len())
    }

    pub fn vswitch_list(&self) -> Result<Vec<VSwitch>> {
        self.store.vswitch_list()
    }

    pub async fn network_create(
        self: &Arc<Self>,
        actor: &Actor,
        name: String,
        switch: Uuid,
        vlan_id: Option<u16>,
        subnet: Option<(String, SubnetSpec)>,
    ) -> Result<(Network, Applied)> {
        let now = self.now_ms();
        let n = Network {
            uuid: Uuid::new_v4(),
            seq: 0,
            name,
            switch,
            vlan_id,
            created_at: now,
            updated_at: now,
        };
        let first = subnet.map(|(name, sp)| subnet_from(name, n.uuid, sp, now));
        let out = self
            .network_change(&format!("network/create {}", n.name), || {
                self.store.network_insert(&n, first.as_ref())
            })
            .await?;
        log::info!(
            "{} created network {} ({})",
            actor.name,
            out.0.name,
            out.0.uuid
        );
        Ok(out)
    }

    pub async fn network_rename(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        name: &str,
    ) -> Result<Network> {
        let _g = self.net_lock.lock().await;
        let n = self.store.network_rename(uuid, name, self.now_ms())?;
        self.store.flush().await?;
        log::info!("{} renamed network {} to {}", actor.name, n.uuid, n.name);
        Ok(n)
    }

    pub async fn network_delete(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
    ) -> Result<(Network, Applied)> {
        let out = self
            .network_change(&format!("network/delete {uuid}"), || {
                self.store.network_delete(uuid)
            })
            .await?;
        log::info!(
            "{} deleted network {} ({})",
            actor.name,
            out.0.name,
            out.0.uuid
        );
        Ok(out)
    }

    pub fn network_get(&self, uuid: &Uuid) -> Result<Network> {
        self.store.network_get(uuid)
    }

    pub fn network_list(&self) -> Result<Vec<Network>> {
        self.store.network_list()
    }

    pub async fn subnet_create(
        self: &Arc<Self>,
        actor: &Actor,
        name: String,
        network: Uuid,
        spec: SubnetSpec,
    ) -> Result<Subnet> {
        let _g = self.net_lock.lock().await;
        let s = self
            .store
            .subnet_insert(&subnet_from(name, network, spec, self.now_ms()))?;
        self.store.flush().await?;
        log::info!("{} created subnet {} ({})", actor.name, s.name, s.uuid);
        Ok(s)
    }

    pub async fn subnet_update(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        patch: SubnetPatch,
    ) -> Result<Subnet> {
        let _g = self.net_lock.lock().await;
        let s = self.store.subnet_update(uuid, &patch, self.now_ms())?;
        self.store.flush().await?;
        log::info!("{} updated subnet {} ({})", actor.name, s.name, s.uuid);
        Ok(s)
    }

    pub async fn subnet_delete(self: &Arc<Self>, actor: &Actor, uuid: &Uuid) -> Result<Subnet> {
        let _g = self.net_lock.lock().await;
        let s = self.store.subnet_delete(uuid)?;
        self.store.flush().await?;
        log::info!("{} deleted subnet {} ({})", actor.name, s.name, s.uuid);
        Ok(s)
    }

    pub fn subnet_get(&self, uuid: &Uuid) -> Result<Subnet> {
        self.store.subnet_get(uuid)
    }

    pub fn subnet_list(&self) -> Result<Vec<Subnet>> {
        self.store.subnet_list()
    }
}

pub(crate) fn subnet_from(name: String, network: Uuid, sp: SubnetSpec, now: i64) -> Subnet {
    Subnet {
        uuid: Uuid::new_v4(),
        seq: 0,
        name,
        network,
        range: sp.range,
        prefix: sp.prefix,
        gateway: sp.gateway,
        dns1: sp.dns1,
        dns2: sp.dns2,
        created_at: now,
        updated_at: now,
    }
}
