//! Virtual switches: records with their uplinks and the networks they
//! carry, a unique-name index, and the checks on uplinks and deletion.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::{abort, ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use super::{codec, node, txn, Store, Table};
use crate::domain::clock::Millis;
use crate::domain::network::{SwitchType, Uplink, VSwitch, VSwitchPatch};
use crate::domain::text::fold;
use crate::error::{Code, Error, Result};

const V1: u16 = 1;

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct UplinkV1 {
    #[serde(with = "super::export::uuid_text")]
    pub node: [u8; 16],
    #[serde(with = "super::export::uuid_text")]
    pub nic: [u8; 16],
    pub interface: String,
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct VSwitchV1 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    /// 0 flat, 1 vlan.
    pub kind: u8,
    pub desc: String,
    pub uplinks: Vec<UplinkV1>,
    /// The networks on this switch (kept here so checks need no scan).
    pub networks: Vec<[u8; 16]>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl VSwitchV1 {
    pub fn into_domain(self) -> VSwitch {
        VSwitch {
            uuid: Uuid::from_bytes(self.uuid),
            seq: self.seq,
            name: self.name,
            kind: if self.kind == 1 {
                SwitchType::Vlan
            } else {
                SwitchType::Flat
            },
            desc: self.desc,
            uplinks: self
                .uplinks
                .into_iter()
                .map(|u| Uplink {
                    node: Uuid::from_bytes(u.node),
                    nic: Uuid::from_bytes(u.nic),
                    interface: u.interface,
                })
                .collect(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn kind_tag(k: SwitchType) -> u8 {
    match k {
        SwitchType::Flat => 0,
        SwitchType::Vlan => 1,
    }
}

pub(super) type Tx<T> = std::result::Result<T, ConflictableTransactionError<Error>>;

pub(super) fn decode(bytes: &[u8]) -> Result<VSwitchV1> {
    codec::decode(V1, bytes)
}

pub(super) fn encode(r: &VSwitchV1) -> Vec<u8> {
    codec::encode(V1, r)
}

pub(super) fn not_found(uuid: &Uuid) -> Error {
    Error::new(
        Code::VSwitchNotFound,
        format!("Virtual switch {uuid} does not exist"),
    )
}

fn name_taken(name: &str) -> Error {
    Error::new(
        Code::VSwitchNameExists,
        format!("Virtual switch `{name}` already exists"),
    )
}

pub(super) fn tx<T>(r: Result<T>) -> Tx<T> {
    r.map_err(ConflictableTransactionError::Abort)
}

/// Checks uplinks against the node and NIC trees and resolves interface
/// names: each NIC must exist and belong to its node, one uplink per node.
fn uplinks_in_tx(
    nodes: &TransactionalTree,
    nics: &TransactionalTree,
    ups: &[Uplink],
) -> Tx<Vec<UplinkV1>> {
    let mut out: Vec<UplinkV1> = Vec::new();
    for (i, u) in ups.iter().enumerate() {
        if nodes.get(u.node.as_bytes())?.is_none() {
            return abort(Error::new(
                Code::NodeNotFound,
                format!(
                    "Field `uplinks[{i}].node_uuid`: node {} does not exist",
                    u.node
                ),
            ));
        }
        let Some(nic) = nics.get(u.nic.as_bytes())? else {
            return abort(Error::new(
                Code::NicNotFound,
                format!(
                    "Field `uplinks[{i}].nic_uuid`: NIC {} does not exist",
                    u.nic
                ),
            ));
        };
        let nic = tx(node::decode_nic(&nic))?;
        if nic.node != *u.node.as_bytes() {
            return abort(Error::new(
                Code::NicNotFound,
                format!(
                    "Field `uplinks[{i}].nic_uuid`: NIC {} belongs to another node",
                    u.nic
                ),
            ));
        }
        if out.iter().any(|o| o.node == *u.node.as_bytes()) {
            return abort(Error::new(
                Code::VSwitchUplinkInvalid,
                format!(
                    "Field `uplinks[{i}]`: node {} already has an uplink on this switch",
                    u.node
                ),
            ));
        }
        out.push(UplinkV1 {
            node: *u.node.as_bytes(),
            nic: nic.uuid,
            interface: nic.name,
        });
    }
    Ok(out)
}

impl Store {
    pub fn vswitch_get(&self, uuid: &Uuid) -> Result<VSwitch> {
        let v = self
            .vswitches
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| not_found(uuid))?;
        Ok(decode(&v)?.into_domain())
    }

    /// The switch and the uuids of its networks.
    pub fn vswitch_networks(&self, uuid: &Uuid) -> Result<Vec<Uuid>> {
        let v = self
            .vswitches
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| not_found(uuid))?;
        Ok(decode(&v)?
            .networks
            .into_iter()
            .map(Uuid::from_bytes)
            .collect())
    }

    pub fn vswitch_list(&self) -> Result<Vec<VSwitch>> {
        let mut v: Vec<VSwitch> = self
            .vswitches
            .iter()
            .values()
            .map(|v| Ok(decode(&v.map_err(Error::store)?)?.into_domain()))
            .collect::<Result<_>>()?;
        v.sort_by_key(|s| s.seq);
        Ok(v)
    }

    /// Whether a switch has this name (compared case-folded, as inserts do).
    pub fn vswitch_name_taken(&self, name: &str) -> Result<bool> {
        self.vswitch_names
            .contains_key(fold(name).as_bytes())
            .map_err(Error::store)
    }

    pub fn vswitch_insert(&self, s: &VSwitch) -> Result<VSwitch> {
        let seq = self.next_id()?;
        let key = *s.uuid.as_bytes();
        let nk = fold(&s.name).into_bytes();
        let rec = txn((
            &self.vswitches,
            &self.vswitch_names,
            &self.nodes,
            &self.nics,
        )
            .transaction(|(sw, names, nodes, nics)| {
                if names.get(&nk)?.is_some() {
                    return abort(name_taken(&s.name));
                }
                let rec = VSwitchV1 {
                    uuid: key,
                    seq,
                    name: s.name.clone(),
                    kind: kind_tag(s.kind),
                    desc: s.desc.clone(),
                    uplinks: uplinks_in_tx(nodes, nics, &s.uplinks)?,
                    networks: Vec::new(),
                    created_at: s.created_at,
                    updated_at: s.updated_at,
                };
                names.insert(nk.as_slice(), &key)?;
                sw.insert(&key, encode(&rec))?;
                Ok(rec)
            }))?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }

    pub fn vswitch_update(&self, uuid: &Uuid, p: &VSwitchPatch, now: Millis) -> Result<VSwitch> {
        let key = *uuid.as_bytes();
        let rec = txn((&self.vswitches, &self.vswitch_names, &self.nodes, &self.nics).transaction(
            |(sw, names, nodes, nics)| {
                let Some(old) = sw.get(key)? else {
                    return abort(not_found(uuid));
                };
                let mut rec = tx(decode(&old))?;
                if let Some(name) = &p.name {
                    let (ok, nk) = (fold(&rec.name).into_bytes(), fold(name).into_bytes());
                    if ok != nk {
                        if names.get(&nk)?.is_some() {
                            return abort(name_taken(name));
                        }
                        names.remove(ok)?;
                        names.insert(nk, &key)?;
                    }
                    rec.name = name.clone();
                }
                if let Some(kind) = p.kind {
                    if kind_tag(kind) != rec.kind && !rec.networks.is_empty() {
                        return abort(Error::new(
                            Code::VSwitchInUse,
                            format!("Field `value.type`: virtual switch `{}` carries networks; its type cannot change", rec.name),
                        ));
                    }
                    rec.kind = kind_tag(kind);
                }
                if let Some(desc) = &p.desc {
                    rec.desc = desc.clone();
                }
                if let Some(ups) = &p.uplinks {
                    rec.uplinks = uplinks_in_tx(nodes, nics, ups)?;
                }
                rec.updated_at = now;
                sw.insert(&key, encode(&rec))?;
                Ok(rec)
            },
        ))?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }

    pub fn vswitch_delete(&self, uuid: &Uuid) -> Result<VSwitch> {
        let key = *uuid.as_bytes();
        let rec = txn(
            (&self.vswitches, &self.vswitch_names).transaction(|(sw, names)| {
                let Some(old) = sw.get(key)? else {
                    return abort(not_found(uuid));
                };
                let rec = tx(decode(&old))?;
                if !rec.networks.is_empty() {
                    return abort(Error::new(
                        Code::VSwitchInUse,
                        format!(
                            "Virtual switch `{}` carries {} network(s); delete them first",
                            rec.name,
                            rec.networks.len()
                        ),
                    ));
                }
                names.remove(fold(&rec.name).into_bytes())?;
                sw.remove(&key)?;
                Ok(rec)
            }),
        )?;
        self.bump(Table::Network);
        Ok(rec.into_domain())
    }
}
