//! Storage records: a node's mount points with their roles 1-4.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{codec, Store, Table};
use crate::domain::storage::{Roles, Storage};
use crate::error::{Error, Result};

const V1: u16 = 1;

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct StorageV1 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    #[serde(with = "super::export::uuid_text")]
    pub node: [u8; 16],
    pub mount: String,
    pub root: String,
    /// Bit n-1 set for role n.
    pub roles: u8,
    pub device: String,
    pub fs: String,
    pub rotational: Option<bool>,
    pub total_bytes: u64,
    pub created_at: i64,
}

impl From<&Storage> for StorageV1 {
    fn from(s: &Storage) -> Self {
        StorageV1 {
            uuid: *s.uuid.as_bytes(),
            node: *s.node.as_bytes(),
            mount: s.mount.clone(),
            root: s.root.clone(),
            roles: s.roles.0,
            device: s.device.clone(),
            fs: s.fs.clone(),
            rotational: s.rotational,
            total_bytes: s.total_bytes,
            created_at: s.created_at,
        }
    }
}

impl From<StorageV1> for Storage {
    fn from(s: StorageV1) -> Self {
        Storage {
            uuid: Uuid::from_bytes(s.uuid),
            node: Uuid::from_bytes(s.node),
            mount: s.mount,
            root: s.root,
            roles: Roles(s.roles & 0x0f),
            device: s.device,
            fs: s.fs,
            rotational: s.rotational,
            total_bytes: s.total_bytes,
            created_at: s.created_at,
        }
    }
}

pub(super) fn encode(s: &Storage) -> Vec<u8> {
    codec::encode(V1, &StorageV1::from(s))
}

fn decode(bytes: &[u8]) -> Result<StorageV1> {
    codec::decode(V1, bytes)
}

impl Store {
    /// Every storage record, by node then mount point.
    pub fn storage_list(&self) -> Result<Vec<Storage>> {
        let mut v: Vec<Storage> = self
            .storages
            .iter()
            .values()
            .map(|v| Ok(decode(&v.map_err(Error::store)?)?.into()))
            .collect::<Result<_>>()?;
        v.sort_by(|a, b| (a.node, &a.mount).cmp(&(b.node, &b.mount)));
        Ok(v)
    }

    /// Records (or replaces) one storage of a node.
    pub fn storage_put(&self, st: &Storage) -> Result<()> {
        self.storages
            .insert(st.uuid.as_bytes(), encode(st))
            .map_err(Error::store)?;
        self.bump(Table::Node);
        Ok(())
    }

    pub(super) fn storage_export(&self) -> Result<Vec<StorageV1>> {
        self.storages
            .iter()
            .values()
            .map(|v| decode(&v.map_err(Error::store)?))
            .collect()
    }

    pub(super) fn storage_import(&self, rows: &[StorageV1]) -> Result<()> {
        for r in rows {
            self.storages
                .insert(r.uuid, codec::encode(V1, r))
                .map_err(Error::store)?;
        }
        self.bump(Table::Node);
        Ok(())
    }
}
