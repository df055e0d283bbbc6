//! Making the host's network match the store: the bridges this node should
//! have, the plan that gets there, and its application step by step with
//! every done step undone in reverse when one fails.

use super::Services;
use crate::domain::net::{DefaultRoute, Link};
use crate::domain::netplan::{
    address_carrier, owned_links, plan, NicAddrs, Step, WantBond, WantBridge,
};
use crate::error::Result;

impl Services {
    /// The bridges of this node: one per network of every switch that has
    /// an uplink here (flat: the uplink itself; vlan: `<uplink>.<vid>`).
    /// On a compute node: the bridges its controller last pushed.
    pub fn hostnet_desired(&self) -> Result<Vec<WantBridge>> {
        if self.settings.membership.is_some() {
            return self.store.pushed_bridges();
        }
        match self.store.local_node()? {
            Some(node) => self.hostnet_desired_of(&node),
            None => Ok(Vec::new()),
        }
    }

    /// The bridges `node` should have.
    pub fn hostnet_desired_of(&self, node: &uuid::Uuid) -> Result<Vec<WantBridge>> {
        self.node_network_of(node)?.into_bridges()
    }

    /// The bonds of this node, with their slaves' interface names.
    fn hostnet_bonds(&self) -> Result<Vec<WantBond>> {
        let Some(node) = self.store.local_node()? else {
            return Ok(Vec::new());
        };
        let nics = self.store.nic_list()?;
        let name = |u: &uuid::Uuid| nics.iter().find(|n| n.uuid == *u).map(|n| n.name.clone());
        Ok(self
            .store
            .bond_list()?
            .into_iter()
            .filter(|b| b.node == node)
            .map(|b| WantBond {
                slaves: b.slaves.iter().filter_map(name).collect(),
                name: b.name,
                mode: b.mode,
                miimon_ms: b.miimon_ms,
            })
            .collect())
    }

    /// The addresses recorded for this node's NICs.
    fn hostnet_addrs(&self) -> Result<Vec<NicAddrs>> {
        let Some(node) = self.store.local_node()? else {
            return Ok(Vec::new());
        };
        Ok(self
            .store
            .nic_list()?
            .into_iter()
            .filter(|n| n.node == node && (!n.addrs.is_empty() || n.gateway.is_some()))
            .map(|n| NicAddrs {
                nic: n.name,
                addrs: n.addrs,
                gateway: n.gateway,
            })
            .collect())
    }

    /// Records, for each NIC of this node that has no addresses on record,
    /// the addresses it carries now (on itself or on its `brq` bridge) and
    /// the default gateway through it: from then on the store, not the
    /// running kernel, says where they belong, so they survive a reboot.
    async fn hostnet_adopt(&self, links: &[Link], route: Option<&DefaultRoute>) -> Result<()> {
        let Some(node) = self.store.local_node()? else {
            return Ok(());
        };
        let nics = self.store.nic_list()?;
        // A gateway already on record (say, a bond's) wins over the kernel's.
        let gateway_known = nics.iter().any(|n| n.node == node && n.gateway.is_some());
        for mut nic in nics {
            if nic.node != node || !nic.addrs.is_empty() {
                continue;
            }
            let Some(l) = links.iter().find(|l| l.name == nic.name) else {
                continue;
            };
            let carrier = address_carrier(links, l);
            if carrier.addrs.is_empty() {
                continue;
            }
            nic.addrs = carrier.addrs.clone();
            if !gateway_known {
                nic.gateway = route.filter(|r| r.dev == carrier.name).map(|r| r.gateway);
            }
            log::info!(
                "recording the addresses of `{}`: {:?} (gateway {:?})",
                nic.name,
                nic.addrs,
                nic.gateway
            );
            self.store.nic_put(&nic)?;
        }
        Ok(())
    }

    /// The steps that would make the host match the store now. The links
    /// involved are first claimed from the OS's network manager, so that
    /// it never configures a link the steps are about to make or enslave.
    pub async fn hostnet_plan(&self) -> Result<Vec<Step>> {
        let links = self.net.links().await?;
        let route = self.net.default_route().await?;
        self.hostnet_adopt(&links, route.as_ref()).await?;
        let want = self.hostnet_desired()?;
        let bonds = self.hostnet_bonds()?;
        self.net.links_claim(&owned_links(&bonds, &want)).await?;
        Ok(plan(
            &bonds,
            &want,
            &self.hostnet_addrs()?,
            &links,
            route.as_ref(),
        ))
    }

    async fn hostnet_step(&self, s: &Step) -> Result<()> {
        let n = &self.net;
        match s {
            Step::VlanAdd { name, parent, id } => n.vlan_add(name, parent, *id).await,
            Step::BridgeAdd { name } => n.bridge_add(name).await,
            Step::BondAdd {
                name,
                mode,
                miimon_ms,
            } => n.bond_add(name, *mode, *miimon_ms).await,
            Step::LinkDel { name, .. } => n.link_del(name).await,
            Step::SetMaster { dev, to, .. } => n.set_master(dev, to.as_deref()).await,
            Step::SetUp { dev, to, .. } => n.set_up(dev, *to).await,
            Step::AddrAdd { dev, addr } => n.addr_add(dev, *addr).await,
            Step::AddrDel { dev, addr } => n.addr_del(dev, *addr).await,
            Step::Route { to, .. } => n.default_route_set(to.as_ref()).await,
        }
    }

    /// Runs `steps` in order. When one fails, the ones done are undone in
    /// reverse and the failure (with the kernel's message) is returned.
    pub async fn hostnet_apply(&self, steps: &[Step]) -> Result<()> {
        for (i, s) in steps.iter().enumerate() {
            if let Err(e) = self.hostnet_step(s).await {
                log::warn!("host network: {s:?} failed ({e}); undoing {i} step(s)");
                for done in steps[..i].iter().rev() {
                    if let Err(u) = self.hostnet_step(&done.inverse()).await {
                        log::error!("host network: undoing {done:?} failed: {u}");
                    }
                }
                return Err(e);
            }
            log::info!("host network: {s:?}");
        }
        Ok(())
    }

    /// Plans and applies; returns the steps taken (none when the host
    /// already matches). Callers hold `net_lock`.
    pub(crate) async fn hostnet_sync(&self) -> Result<Vec<Step>> {
        let steps = self.hostnet_plan().await?;
        self.hostnet_apply(&steps).await?;
        Ok(steps)
    }

    /// Start-up and on-demand reconciliation: the host is made to match the
    /// store (bridges deleted behind the service's back come back).
    pub async fn network_reconcile(&self) -> Result<Vec<Step>> {
        let _g = self.net_lock.lock().await;
        self.hostnet_sync().await
    }
}
