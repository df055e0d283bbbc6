//! This node as the services see it: the NICs and filesystems the host
//! offers (`node/check`), its virtualisation support, the node list with
//! inventory, and the storage list with live usage.

pub mod add;
pub mod delete;
pub mod join;
pub mod network;
pub mod pull;
pub mod remote;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use uuid::Uuid;

use super::Services;
pub use crate::domain::cluster::{Probe, ProbeNic};
use crate::domain::inventory::Virt;
use crate::domain::net::{Link, LinkKind};
use crate::domain::netplan::{address_carrier, BRIDGE_PREFIX};
use crate::domain::node::{Nic, Node};
use crate::domain::storage::Storage;
use crate::error::{Code, Error, Result};
use crate::host::inventory::HostInventory;
use crate::host::net::HostNet;
use crate::host::Hypervisor;

/// Live facts kept in memory: storage usage (refreshed in the background)
/// and the fault-injection hook of initialisation.
#[derive(Default)]
pub struct NodeState {
    usage: RwLock<HashMap<String, (u64, u64)>>,
    usage_gen: AtomicU64,
    pub(crate) init_running: std::sync::atomic::AtomicBool,
}

/// A storage record with its filesystem's usage.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageUsage {
    pub storage: Storage,
    pub total_bytes: u64,
    pub available_bytes: u64,
}

/// The links the appliance treats as NICs: hardware NICs, bonds, and veth
/// pairs (which stand in for NICs in containers and test namespaces).
pub fn nic_links(links: &[Link]) -> Vec<ProbeNic> {
    links
        .iter()
        .filter(|l| {
            matches!(
                l.kind,
                LinkKind::Physical | LinkKind::Veth | LinkKind::Bond { .. }
            )
        })
        // A bond's slave is part of the bond, not a NIC of its own here.
        .filter(|l| {
            !l.master.as_deref().is_some_and(|m| {
                links
                    .iter()
                    .any(|b| b.name == m && matches!(b.kind, LinkKind::Bond { .. }))
            })
        })
        .map(|l| {
            let bridge = l.master.clone().filter(|m| m.starts_with(BRIDGE_PREFIX));
            let carrier = Some(address_carrier(links, l))
                .filter(|c| !c.addrs.is_empty())
                .unwrap_or(l);
            ProbeNic {
                name: l.name.clone(),
                mac: l.mac.clone(),
                addr: carrier.addrs.first().copied(),
                addrs: carrier.addrs.clone(),
                speed_mbps: l.speed_mbps,
                running: l.running,
                driver: l.driver.clone(),
                pci: l.pci.clone(),
                bridge,
            }
        })
        .collect()
}

/// Virtualisation support of a host: CPU flag, `/dev/kvm`, a libvirt probe.
pub async fn host_virt(inv: &dyn HostInventory, hv: &dyn Hypervisor) -> Result<Virt> {
    let (cpu_flag, kvm_device) = inv.virt().await?;
    let libvirt = match hv.probe().await {
        Ok(i) => Ok(format!("libvirt {} at {}", i.libvirt_version, i.uri)),
        Err(e) => Err(e.public_message().to_string()),
    };
    Ok(Virt {
        cpu_flag,
        kvm_device,
        libvirt,
    })
}

/// What `node/check` reports of a host, read through its ports: on the
/// controller for itself, and by `vdi-appliance node-probe` on a server.
pub async fn probe_host(
    inv: &dyn HostInventory,
    net: &dyn HostNet,
    hv: &dyn Hypervisor,
) -> Result<Probe> {
    let links = net.links().await?;
    Ok(Probe {
        hostname: inv.hostname().await?,
        nics: nic_links(&links),
        route: net.default_route().await?,
        virt: host_virt(inv, hv).await?,
        mounts: inv.mounts().await?,
    })
}

impl Services {
    /// Virtualisation support: CPU flag, `/dev/kvm` and a libvirt probe.
    pub async fn node_virt(&self) -> Result<Virt> {
        host_virt(self.inventory.as_ref(), self.hypervisor.as_ref()).await
    }

    /// This host's links (NICs, bridges, VLANs, bonds) as the kernel has
    /// them now: what the network reconciler made, for admins to check.
    pub async fn node_links(&self) -> Result<Vec<crate::domain::net::Link>> {
        let mut links = self.net.links().await?;
        links.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(links)
    }

    /// Probes this host (the seam for remote nodes: an `ip` that is not
    /// this host's is refused until joining over SSH exists).
    pub async fn node_check(&self, ip: Ipv4Addr) -> Result<Probe> {
        let links = self.net.links().await?;
        // This host: loopback, or an address of any of its links.
        let local = ip.is_loopback() || links.iter().any(|l| l.addrs.iter().any(|a| a.ip == ip));
        if !local {
            return Err(Error::new(
                Code::NodeNotFound,
                format!("{ip} is not an address of this host"),
            ));
        }
        probe_host(
            self.inventory.as_ref(),
            self.net.as_ref(),
            self.hypervisor.as_ref(),
        )
        .await
    }

    /// Whether `ip` is this host's: loopback or an address of a link.
    pub async fn node_is_local(&self, ip: Ipv4Addr) -> Result<bool> {
        let links = self.net.links().await?;
        Ok(ip.is_loopback() || links.iter().any(|l| l.addrs.iter().any(|a| a.ip == ip)))
    }

    /// This server's own node record, once the controller is initialised.
    pub fn node_local(&self) -> Result<Option<Uuid>> {
        self.store.local_node()
    }

    pub fn node_list(&self) -> Result<Vec<Node>> {
        let mut v = self.store.node_list()?;
        v.sort_by_key(|n| (n.created_at, n.uuid));
        Ok(v)
    }

    pub fn node_get(&self, uuid: &Uuid) -> Result<Node> {
        self.store.node_get(uuid)
    }

    pub fn nic_list(&self) -> Result<Vec<Nic>> {
        self.store.nic_list()
    }

    /// Re-reads this node's hardware inventory into its record.
    pub async fn node_inventory_refresh(&self) -> Result<()> {
        let Some(uuid) = self.store.local_node()? else {
            return Ok(());
        };
        let inv = self.inventory.inventory().await?;
        let mut n = self.store.node_get(&uuid)?;
        if n.inventory != inv {
            n.inventory = inv;
            n.updated_at = self.now_ms();
            self.store.node_put(&n)?;
            self.store.flush().await?;
        }
        Ok(())
    }

    /// Re-reads the usage of every storage of this node.
    pub async fn node_storage_refresh(&self) -> Result<()> {
        let roots: Vec<String> = self
            .store
            .storage_list()?
            .into_iter()
            .map(|s| s.root)
            .collect();
        if roots.is_empty() {
            return Ok(());
        }
        let usage = self.storage.usage(&roots).await?;
        let map = usage
            .into_iter()
            .map(|u| (u.path, (u.total_bytes, u.available_bytes)))
            .collect();
        if let Ok(mut w) = self.node_state.usage.write() {
            if *w != map {
                *w = map;
                self.node_state.usage_gen.fetch_add(1, Ordering::AcqRel);
            }
        }
        Ok(())
    }

    /// Changes when the storage usage changes (for the query snapshot).
    pub fn node_storage_generation(&self) -> u64 {
        self.node_state.usage_gen.load(Ordering::Acquire)
    }

    /// Every storage with its usage as last read.
    pub fn node_storage_list(&self) -> Result<Vec<StorageUsage>> {
        let usage = self
            .node_state
            .usage
            .read()
            .map_err(Error::internal)?
            .clone();
        Ok(self
            .store
            .storage_list()?
            .into_iter()
            .map(|s| {
                let (total, avail) = usage.get(&s.root).copied().unwrap_or((s.total_bytes, 0));
                StorageUsage {
                    storage: s,
                    total_bytes: total,
                    available_bytes: avail,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::net::BondMode;

    use crate::domain::net::test_link as link;

    #[test]
    fn nics_are_hardware_veth_and_bonds_with_their_bridge_address() {
        let links = vec![
            link("lo", LinkKind::Loopback, None, &["127.0.0.1/8"]),
            link("eth0", LinkKind::Physical, Some("brq0123456789a"), &[]),
            link("brq0123456789a", LinkKind::Bridge, None, &["192.0.2.5/24"]),
            link("eth1", LinkKind::Physical, Some("bond0"), &[]),
            link("eth2", LinkKind::Physical, Some("bond0"), &[]),
            link(
                "bond0",
                LinkKind::Bond {
                    mode: BondMode::ActiveBackup,
                },
                None,
                &["198.51.100.2/24"],
            ),
            link("veth0", LinkKind::Veth, None, &["10.213.1.2/24"]),
            link("virbr0", LinkKind::Bridge, None, &["192.168.122.1/24"]),
        ];
        let nics = nic_links(&links);
        let names: Vec<_> = nics.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["eth0", "bond0", "veth0"]);
        assert_eq!(nics[0].addr.unwrap().ip.to_string(), "192.0.2.5");
        assert_eq!(nics[0].bridge.as_deref(), Some("brq0123456789a"));
        assert_eq!(nics[1].addr.unwrap().prefix, 24);
    }
}
