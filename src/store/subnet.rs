//! Subnets (IP pools of a network) and the addresses allocated in each:
//! no overlapping ranges in one network, no shrinking or deleting past an
//! allocation, and atomic first-free allocation.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::{abort, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use super::network::{dec, get_net, NetworkV1, V1};
use super::vswitch::Tx;
use super::{codec, txn, Store, Table};
use crate::domain::clock::Millis;
use crate::domain::ipv4::Range;
use crate::domain::network::{Subnet, SubnetPatch};
use crate::domain::text::fold;
use crate::error::{Code, Error, Result};

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct SubnetV1 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    #[serde(with = "super::export::uuid_text")]
    pub network: [u8; 16],
    pub start: u32,
    pub end: u32,
    pub prefix: u8,
    pub gateway: u32,
    pub dns1: u32,
    pub dns2: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Every allocated address of one subnet and who holds it.
#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub(super) struct AllocV1 {
    pub ips: Vec<(u32, String)>,
}

impl SubnetV1 {
    pub(super) fn from_domain(s: &Subnet) -> Self {
        SubnetV1 {
            uuid: *s.uuid.as_bytes(),
            seq: s.seq,
            name: s.name.clone(),
            network: *s.network.as_bytes(),
            start: s.range.start.into(),
            end: s.range.end.into(),
            prefix: s.prefix,
            gateway: s.gateway.into(),
            dns1: s.dns1.into(),
            dns2: s.dns2.map(u32::from),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }

    pub(super) fn into_domain(self) -> Subnet {
        Subnet {
            uuid: Uuid::from_bytes(self.uuid),
            seq: self.seq,
            name: self.name,
            network: Uuid::from_bytes(self.network),
            range: Range {
                start: self.start.into(),
                end: self.end.into(),
            },
            prefix: self.prefix,
            gateway: self.gateway.into(),
            dns1: self.dns1.into(),
            dns2: self.dns2.map(Ipv4Addr::from),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    fn range(&self) -> Range {
        Range {
            start: self.start.into(),
            end: self.end.into(),
        }
    }
}

fn subnet_not_found(uuid: &Uuid) -> Error {
    Error::new(
        Code::SubnetNotFound,
        format!("Subnet {uuid} does not exist"),
    )
}

/// Checks a subnet (new or changed) against its siblings: unique name in
/// the network, no overlapping range.
fn check_siblings(subnets: &TransactionalTree, net: &NetworkV1, s: &SubnetV1) -> Tx<()> {
    for sib in &net.subnets {
        if *sib == s.uuid {
            continue;
        }
        let Some(v) = subnets.get(sib)? else { continue };
        let other: SubnetV1 = dec(&v)?;
        if fold(&other.name) == fold(&s.name) {
            return abort(Error::new(
                Code::SubnetNameExists,
                format!("Network `{}` has a subnet `{}`", net.name, other.name),
            ));
        }
        if other.range().overlaps(&s.range()) {
            let r = other.range();
            return abort(Error::new(
                Code::SubnetOverlap,
                format!(
                    "Range {}-{} overlaps subnet `{}` ({}-{})",
                    s.range().start,
                    s.range().end,
                    other.name,
                    r.start,
                    r.end
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn allocs(t: &TransactionalTree, subnet: &[u8; 16]) -> Tx<AllocV1> {
    match t.get(subnet)? {
        Some(v) => dec(&v),
        None => Ok(AllocV1::default()),
    }
}

impl Store {
    pub fn subnet_get(&self, uuid: &Uuid) -> Result<Subnet> {
        let v = self
            .subnets
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| subnet_not_found(uuid))?;
        Ok(codec::decode::<SubnetV1>(V1, &v)?.into_domain())
    }

    pub fn subnet_list(&self) -> Result<Vec<Subnet>> {
        let mut v: Vec<Subnet> = self
            .subnets
            .iter()
            .values()
            .map(|v| Ok(codec::decode::<SubnetV1>(V1, &v.map_err(Error::store)?)?.into_domain()))
            .collect::<Result<_>>()?;
        v.sort_by_key(|s| s.seq);
        Ok(v)
    }

    pub fn subnet_insert(&self, s: &Subnet) -> Result<Subnet> {
        let mut rec = SubnetV1::from_domain(s);
        rec.seq = self.next_id()?;
        txn(
            (&self.networks, &self.subnets).transaction(|(nets, subnets)| {
                let mut net = get_net(nets, &s.network)?;
                check_siblings(subnets, &net, &rec)?;
                net.subnets.push(rec.uuid);
                nets.insert(&net.uuid, codec::encode(V1, &net))?;
                subnets.insert(&rec.uuid, codec::encode(V1, &rec))?;
                Ok(())
            }),
        )?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }

    pub fn subnet_update(&self, uuid: &Uuid, p: &SubnetPatch, now: Millis) -> Result<Subnet> {
        let key = *uuid.as_bytes();
        let rec = txn(
            (&self.networks, &self.subnets, &self.ip_allocs).transaction(|(nets, subnets, ips)| {
                let Some(v) = subnets.get(key)? else {
                    return abort(subnet_not_found(uuid));
                };
                let mut rec: SubnetV1 = dec(&v)?;
                if let Some(n) = &p.name {
                    rec.name = n.clone();
                }
                if let Some(sp) = &p.spec {
                    rec.start = sp.range.start.into();
                    rec.end = sp.range.end.into();
                    rec.prefix = sp.prefix;
                    rec.gateway = sp.gateway.into();
                    rec.dns1 = sp.dns1.into();
                    rec.dns2 = sp.dns2.map(u32::from);
                    let outside: Vec<String> = allocs(ips, &key)?
                        .ips
                        .iter()
                        .filter(|(ip, _)| !sp.range.contains(Ipv4Addr::from(*ip)))
                        .map(|(ip, h)| format!("{} ({h})", Ipv4Addr::from(*ip)))
                        .collect();
                    if !outside.is_empty() {
                        return abort(Error::new(
                            Code::SubnetInUse,
                            format!(
                                "The new range leaves allocated addresses outside: {}",
                                outside.join(", ")
                            ),
                        ));
                    }
                }
                let net = get_net(nets, &Uuid::from_bytes(rec.network))?;
                check_siblings(subnets, &net, &rec)?;
                rec.updated_at = now;
                subnets.insert(&key, codec::encode(V1, &rec))?;
                Ok(rec)
            }),
        )?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }

    pub fn subnet_delete(&self, uuid: &Uuid) -> Result<Subnet> {
        let key = *uuid.as_bytes();
        let rec = txn(
            (&self.networks, &self.subnets, &self.ip_allocs).transaction(|(nets, subnets, ips)| {
                let Some(v) = subnets.get(key)? else {
                    return abort(subnet_not_found(uuid));
                };
                let rec: SubnetV1 = dec(&v)?;
                let held = allocs(ips, &key)?.ips.len();
                if held > 0 {
                    return abort(Error::new(
                        Code::SubnetInUse,
                        format!("Subnet `{}` has {held} allocated address(es)", rec.name),
                    ));
                }
                let mut net = get_net(nets, &Uuid::from_bytes(rec.network))?;
                net.subnets.retain(|s| *s != key);
                nets.insert(&net.uuid, codec::encode(V1, &net))?;
                subnets.remove(&key)?;
                ips.remove(&key)?;
                Ok(rec)
            }),
        )?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }

    /// Allocates `want`, or the lowest free address, to `holder`, atomically.
    pub fn ip_allocate(
        &self,
        subnet: &Uuid,
        holder: &str,
        want: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr> {
        let key = *subnet.as_bytes();
        let ip = txn(
            (&self.subnets, &self.ip_allocs).transaction(|(subnets, ips)| {
                let Some(v) = subnets.get(key)? else {
                    return abort(subnet_not_found(subnet));
                };
                let s: SubnetV1 = dec(&v)?;
                let mut a = allocs(ips, &key)?;
                let used: BTreeSet<Ipv4Addr> =
                    a.ips.iter().map(|(ip, _)| Ipv4Addr::from(*ip)).collect();
                let ip = match want {
                    Some(ip) if !s.range().contains(ip) => {
                        return abort(Error::new(
                            Code::IpNotInRange,
                            format!("{ip} is outside {}-{}", s.range().start, s.range().end),
                        ))
                    }
                    Some(ip) if used.contains(&ip) => {
                        return abort(Error::new(
                            Code::IpInUse,
                            format!("{ip} is already allocated"),
                        ))
                    }
                    Some(ip) => ip,
                    None => match s.range().first_free(&used) {
                        Some(ip) => ip,
                        None => {
                            return abort(Error::new(
                                Code::IpNotEnough,
                                format!("Subnet `{}` has no free address", s.name),
                            ))
                        }
                    },
                };
                a.ips.push((ip.into(), holder.to_string()));
                ips.insert(&key, codec::encode(V1, &a))?;
                Ok(ip)
            }),
        )?;
        self.bump(Table::Network);
        Ok(ip)
    }

    /// Releases an address; releasing a free address is not an error.
    pub fn ip_release(&self, subnet: &Uuid, ip: Ipv4Addr) -> Result<()> {
        let key = *subnet.as_bytes();
        txn(self.ip_allocs.transaction(|ips| {
            let mut a = allocs(ips, &key)?;
            a.ips.retain(|(i, _)| *i != u32::from(ip));
            ips.insert(&key, codec::encode(V1, &a))?;
            Ok(())
        }))?;
        self.bump(Table::Network);
        Ok(())
    }

    pub fn ip_allocations(&self, subnet: &Uuid) -> Result<Vec<(Ipv4Addr, String)>> {
        let a: AllocV1 = match self
            .ip_allocs
            .get(subnet.as_bytes())
            .map_err(Error::store)?
        {
            Some(v) => codec::decode(V1, &v)?,
            None => AllocV1::default(),
        };
        Ok(a.ips
            .into_iter()
            .map(|(ip, h)| (Ipv4Addr::from(ip), h))
            .collect())
    }
}

/// One address a batch asks for (desktops of a group, in one transaction).
#[derive(Clone, Debug)]
pub struct IpReq {
    pub subnet: Uuid,
    pub holder: String,
    /// Reuse the address of a holder starting with this (a classroom seat).
    pub share: Option<String>,
    /// Take the lowest free address from here upwards.
    pub from: Option<Ipv4Addr>,
}

/// Takes an address for every request, inside the caller's transaction.
pub(super) fn ip_take_in_tx(
    subnets: &TransactionalTree,
    ips: &TransactionalTree,
    reqs: &[IpReq],
) -> Tx<Vec<Ipv4Addr>> {
    let mut out = Vec::with_capacity(reqs.len());
    let mut by_subnet: std::collections::BTreeMap<
        [u8; 16],
        (SubnetV1, AllocV1, BTreeSet<Ipv4Addr>),
    > = Default::default();
    for r in reqs {
        let key = *r.subnet.as_bytes();
        let (s, a, used) = match by_subnet.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let Some(v) = subnets.get(key)? else {
                    return abort(subnet_not_found(&r.subnet));
                };
                let s: SubnetV1 = dec(&v)?;
                let a = allocs(ips, &key)?;
                let used = a.ips.iter().map(|(ip, _)| Ipv4Addr::from(*ip)).collect();
                e.insert((s, a, used))
            }
        };
        let shared = r.share.as_ref().and_then(|p| {
            a.ips
                .iter()
                .find(|(_, h)| h.starts_with(p.as_str()))
                .map(|(ip, _)| Ipv4Addr::from(*ip))
        });
        let ip = match shared {
            Some(ip) => ip,
            None => {
                let range = s.range();
                let from = r
                    .from
                    .map(u32::from)
                    .unwrap_or(0)
                    .max(u32::from(range.start));
                let free = Range::new(Ipv4Addr::from(from), range.end)
                    .ok()
                    .and_then(|r| r.first_free(used));
                match free {
                    Some(ip) => ip,
                    None => {
                        return abort(Error::new(
                            Code::IpNotEnough,
                            format!(
                                "Subnet `{}` has no free address left for {} desktops",
                                s.name,
                                reqs.len()
                            ),
                        ))
                    }
                }
            }
        };
        used.insert(ip);
        a.ips.push((ip.into(), r.holder.clone()));
        out.push(ip);
    }
    for (key, (_, a, _)) in by_subnet {
        ips.insert(&key, codec::encode(V1, &a))?;
    }
    Ok(out)
}

/// Releases `(ip, holder)` pairs of one subnet inside the caller's
/// transaction (an address shared by a seat stays with its other holders).
pub(super) fn ip_give_back_in_tx(
    ips: &TransactionalTree,
    subnet: &Uuid,
    pairs: &[(Ipv4Addr, String)],
) -> Tx<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let key = *subnet.as_bytes();
    let mut a = allocs(ips, &key)?;
    a.ips
        .retain(|(ip, h)| !pairs.iter().any(|(p, ph)| u32::from(*p) == *ip && ph == h));
    ips.insert(&key, codec::encode(V1, &a))?;
    Ok(())
}
