//! Bonds: records of NIC bonds per node. A bond and the NIC records it
//! changes (its own, its slaves') are written in one transaction.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use uuid::Uuid;

use super::node::NicV1;
use super::{codec, txn, Store, Table};
use crate::domain::net::BondMode;
use crate::domain::node::{Bond, Nic};
use crate::error::{Code, Error, Result};

const V1: u16 = 1;

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct BondV1 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    #[serde(with = "super::export::uuid_text")]
    pub node: [u8; 16],
    pub name: String,
    pub mode: u8,
    pub miimon_ms: u32,
    pub slaves: Vec<[u8; 16]>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Bond> for BondV1 {
    fn from(b: &Bond) -> Self {
        BondV1 {
            uuid: *b.uuid.as_bytes(),
            node: *b.node.as_bytes(),
            name: b.name.clone(),
            mode: b.mode.number(),
            miimon_ms: b.miimon_ms,
            slaves: b.slaves.iter().map(|s| *s.as_bytes()).collect(),
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

impl BondV1 {
    fn into_domain(self) -> Result<Bond> {
        Ok(Bond {
            uuid: Uuid::from_bytes(self.uuid),
            node: Uuid::from_bytes(self.node),
            name: self.name,
            mode: BondMode::from_number("mode", i64::from(self.mode))
                .map_err(|_| Error::store("bad bond mode"))?,
            miimon_ms: self.miimon_ms,
            slaves: self.slaves.into_iter().map(Uuid::from_bytes).collect(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl Store {
    pub fn bond_get(&self, uuid: &Uuid) -> Result<Bond> {
        let v = self
            .bonds
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| Error::new(Code::BondNotFound, format!("Bond {uuid} does not exist")))?;
        codec::decode::<BondV1>(V1, &v)?.into_domain()
    }

    pub fn bond_list(&self) -> Result<Vec<Bond>> {
        self.bonds
            .iter()
            .values()
            .map(|v| codec::decode::<BondV1>(V1, &v.map_err(Error::store)?)?.into_domain())
            .collect()
    }

    /// Writes (or with `delete`, removes) a bond together with the NIC
    /// records it changes, atomically.
    pub fn bond_write(
        &self,
        put: Option<&Bond>,
        delete: Option<&Uuid>,
        nics: &[Nic],
        nics_gone: &[Uuid],
    ) -> Result<()> {
        let bond = put.map(|b| codec::encode(V1, &BondV1::from(b)));
        let nic_bytes: Vec<(Uuid, Vec<u8>)> = nics
            .iter()
            .map(|n| (n.uuid, codec::encode(V1, &NicV1::from(n))))
            .collect();
        txn((&self.bonds, &self.nics).transaction(|(bonds, nic_t)| {
            if let (Some(b), Some(bytes)) = (put, &bond) {
                bonds.insert(b.uuid.as_bytes(), bytes.as_slice())?;
            }
            if let Some(d) = delete {
                bonds.remove(d.as_bytes())?;
            }
            for (u, bytes) in &nic_bytes {
                nic_t.insert(u.as_bytes(), bytes.as_slice())?;
            }
            for u in nics_gone {
                nic_t.remove(u.as_bytes())?;
            }
            Ok(())
        }))?;
        self.bump(Table::Node);
        Ok(())
    }

    pub(super) fn bond_export(&self) -> Result<Vec<BondV1>> {
        self.bonds
            .iter()
            .values()
            .map(|v| codec::decode(V1, &v.map_err(Error::store)?))
            .collect()
    }

    pub(super) fn bond_import(&self, recs: &[BondV1]) -> Result<()> {
        for r in recs {
            self.bonds
                .insert(r.uuid, codec::encode(V1, r))
                .map_err(Error::store)?;
        }
        Ok(())
    }
}
