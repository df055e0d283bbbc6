//! Bonds on nodes: made, changed and removed with the NIC records they
//! touch (the addresses move from the slaves to the bond and back), applied
//! to the host like every network change (undone when refused, confirmed
//! when they move the management address).

use std::net::Ipv4Addr;
use std::sync::Arc;

use uuid::Uuid;

use super::network::Applied;
use super::{Actor, Services};
use crate::domain::net::{BondMode, IfAddr};
use crate::domain::node::{Bond, Nic};
use crate::error::{Code, Error, Result};

/// Addresses to record on a NIC, with their roles and the gateway.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NicIps {
    pub addrs: Vec<IfAddr>,
    pub manage: Vec<Ipv4Addr>,
    pub image: Vec<Ipv4Addr>,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
}

/// What a bond should be.
#[derive(Clone, Debug, PartialEq)]
pub struct BondSpec {
    pub name: String,
    pub mode: BondMode,
    /// (NIC uuid, the name the caller gave it).
    pub slaves: Vec<(Uuid, String)>,
    pub ips: NicIps,
}

fn with_ips(mut n: Nic, ips: &NicIps) -> Nic {
    n.addrs = ips.addrs.clone();
    n.manage_ips = ips.manage.clone();
    n.image_ips = ips.image.clone();
    n.gateway = ips.gateway;
    n.dns = ips.dns.clone();
    n
}

fn bad(msg: String) -> Error {
    Error::new(Code::BondInvalid, msg)
}

impl Services {
    /// A node has one default gateway: when `ips` brings one, the other
    /// NICs of the node lose theirs (returned for writing).
    fn gateway_moves(&self, node: &Uuid, ips: &NicIps, keep: &[Uuid]) -> Result<Vec<Nic>> {
        if ips.gateway.is_none() {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .nic_list()?
            .into_iter()
            .filter(|n| n.node == *node && n.gateway.is_some() && !keep.contains(&n.uuid))
            .map(|mut n| {
                n.gateway = None;
                n
            })
            .collect())
    }

    /// Checks a bond against the node's NICs, bonds and switches; returns
    /// the slave NIC records.
    fn bond_check(&self, node: &Uuid, spec: &BondSpec, this: Option<&Uuid>) -> Result<Vec<Nic>> {
        self.store.node_get(node)?;
        let nics = self.store.nic_list()?;
        if nics
            .iter()
            .any(|n| n.node == *node && n.name == spec.name && Some(&n.uuid) != this)
        {
            return Err(bad(format!(
                "Field `bond_info.dev`: node already has an interface `{}`",
                spec.name
            )));
        }
        let bonds = self.store.bond_list()?;
        let switches = self.store.vswitch_list()?;
        let mut out = Vec::new();
        for (i, (u, given)) in spec.slaves.iter().enumerate() {
            let nic = nics
                .iter()
                .find(|n| n.uuid == *u && n.node == *node)
                .ok_or_else(|| {
                    Error::new(
                        Code::NicNotFound,
                        format!(
                            "Field `slaves[{i}].nic_uuid`: NIC {u} is not a NIC of node {node}"
                        ),
                    )
                })?;
            if nic.name != *given {
                return Err(Error::invalid(
                    &format!("slaves[{i}].nic_name"),
                    format!("NIC {u} is `{}`, not `{given}`", nic.name),
                ));
            }
            if bonds.iter().any(|b| b.uuid == *u) {
                return Err(bad(format!(
                    "Field `slaves[{i}]`: `{}` is itself a bond",
                    nic.name
                )));
            }
            if let Some(b) = bonds
                .iter()
                .find(|b| Some(&b.uuid) != this && b.slaves.contains(u))
            {
                return Err(bad(format!(
                    "Field `slaves[{i}]`: `{}` is in bond `{}`",
                    nic.name, b.name
                )));
            }
            if let Some(s) = switches
                .iter()
                .find(|s| s.uplinks.iter().any(|up| up.nic == *u))
            {
                return Err(bad(format!(
                    "Field `slaves[{i}]`: `{}` is the uplink of virtual switch `{}`; bond first, then use the bond as the uplink",
                    nic.name, s.name
                )));
            }
            out.push(nic.clone());
        }
        Ok(out)
    }

    pub async fn node_add_bond(
        self: &Arc<Self>,
        actor: &Actor,
        node: Uuid,
        spec: BondSpec,
    ) -> Result<(Bond, Applied)> {
        let now = self.now_ms();
        let bond = Bond {
            uuid: Uuid::new_v4(),
            node,
            name: spec.name.clone(),
            mode: spec.mode,
            miimon_ms: 100,
            slaves: spec.slaves.iter().map(|(u, _)| *u).collect(),
            created_at: now,
            updated_at: now,
        };
        let what = format!("node/add_bond {}", bond.name);
        let b = bond.clone();
        let out = self
            .network_change(&what, || {
                let slaves = self.bond_check(&node, &spec, None)?;
                let mut write: Vec<Nic> = slaves
                    .into_iter()
                    .map(|n| with_ips(n, &NicIps::default()))
                    .collect();
                write.push(with_ips(Nic::bare(b.uuid, node, &b.name, now), &spec.ips));
                self.store.bond_write(Some(&b), None, &write, &[])?;
                Ok(b)
            })
            .await?;
        log::info!("{} bonded {} on node {node}", actor.name, bond.name);
        Ok(out)
    }

    pub async fn node_edit_bond(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        spec: BondSpec,
    ) -> Result<(Bond, Applied)> {
        let old = self.store.bond_get(uuid)?;
        let what = format!("node/edit_bond {}", old.name);
        let out = self
            .network_change(&what, || {
                let slaves = self.bond_check(&old.node, &spec, Some(uuid))?;
                let mut b = old.clone();
                b.name = spec.name.clone();
                b.mode = spec.mode;
                b.slaves = spec.slaves.iter().map(|(u, _)| *u).collect();
                b.updated_at = self.now_ms();
                let mut write: Vec<Nic> = slaves
                    .into_iter()
                    .map(|n| with_ips(n, &NicIps::default()))
                    .collect();
                let mut keep: Vec<Uuid> = write.iter().map(|n| n.uuid).collect();
                keep.push(*uuid);
                write.extend(self.gateway_moves(&old.node, &spec.ips, &keep)?);
                let mut me = self.store.nic_get(uuid)?;
                me.name = b.name.clone();
                write.push(with_ips(me, &spec.ips));
                self.store.bond_write(Some(&b), None, &write, &[])?;
                Ok(b)
            })
            .await?;
        log::info!("{} changed bond {}", actor.name, out.0.name);
        Ok(out)
    }

    /// Removes a bond; its slaves get the addresses the caller lists.
    pub async fn node_unbond(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        restore: Vec<(Uuid, String, NicIps)>,
    ) -> Result<(Bond, Applied)> {
        let old = self.store.bond_get(uuid)?;
        let what = format!("node/unbond {}", old.name);
        let out = self
            .network_change(&what, || {
                if let Some(s) = self
                    .store
                    .vswitch_list()?
                    .iter()
                    .find(|s| s.uplinks.iter().any(|u| u.nic == *uuid))
                {
                    return Err(bad(format!(
                        "Bond `{}` is the uplink of virtual switch `{}`; change the uplink first",
                        old.name, s.name
                    )));
                }
                let mut write = Vec::new();
                for (i, (u, given, ips)) in restore.iter().enumerate() {
                    if !old.slaves.contains(u) {
                        return Err(bad(format!(
                            "Field `slaves[{i}].nic_uuid`: {u} is not a slave of `{}`",
                            old.name
                        )));
                    }
                    let nic = self.store.nic_get(u)?;
                    if nic.name != *given {
                        return Err(Error::invalid(
                            &format!("slaves[{i}].nic_name"),
                            format!("NIC {u} is `{}`, not `{given}`", nic.name),
                        ));
                    }
                    write.push(with_ips(nic, ips));
                }
                let keep: Vec<Uuid> = write.iter().map(|n| n.uuid).collect();
                if let Some((_, _, ips)) = restore.iter().find(|(_, _, ips)| ips.gateway.is_some())
                {
                    write.extend(self.gateway_moves(&old.node, ips, &keep)?);
                }
                self.store.bond_write(None, Some(uuid), &write, &[*uuid])?;
                Ok(old.clone())
            })
            .await?;
        log::info!("{} removed bond {}", actor.name, old.name);
        Ok(out)
    }

    pub fn bond_list(&self) -> Result<Vec<Bond>> {
        self.store.bond_list()
    }

    pub fn nic_get(&self, uuid: &Uuid) -> Result<Nic> {
        self.store.nic_get(uuid)
    }
}
