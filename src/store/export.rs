//! Export and import of the whole store as one JSON document (sessions are
//! not exported: they are short-lived secrets).

use serde::{Deserialize, Serialize};

use super::admin::AdminV2;
use super::controller::ControllerV1;
use super::network::NetworkDump;
use super::node::{NicV1, NodeV2};
use super::oplog::OpLogV1;
use super::pool::PoolV1;
use super::storage::StorageV1;
use super::task::TaskV1;
use super::{codec, schema, Store, Table};
use crate::error::{Code, Error, Result};

const FORMAT: &str = "vdi-appliance-store";

#[derive(Serialize, Deserialize)]
struct Dump {
    format: String,
    schema_version: u32,
    resource_pools: Vec<PoolDump>,
    admins: Vec<AdminV2>,
    tasks: Vec<TaskV1>,
    operation_log: Vec<OpLogV1>,
    refs: Vec<RefDump>,
    #[serde(default)]
    nodes: Vec<NodeV2>,
    #[serde(default)]
    nics: Vec<NicV1>,
    #[serde(default)]
    storages: Vec<StorageV1>,
    #[serde(default)]
    controller: Option<ControllerV1>,
    #[serde(default)]
    bonds: Vec<super::bond::BondV1>,
    #[serde(default, flatten)]
    network: NetworkDump,
    #[serde(default, flatten)]
    catalog: super::catalog_dump::CatalogDump,
}

#[derive(Serialize, Deserialize)]
struct PoolDump {
    #[serde(flatten)]
    pool: PoolV1,
    default: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefDump {
    key: String,
    count: u64,
}

/// `[u8; 16]` as a hyphenated uuid in JSON.
pub(super) mod uuid_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&uuid::Uuid::from_bytes(*b).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 16], D::Error> {
        let s = String::deserialize(d)?;
        uuid::Uuid::parse_str(&s)
            .map(|u| *u.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// `Option<[u8; 16]>` as a hyphenated uuid or null in JSON.
pub(super) mod opt_uuid_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Option<[u8; 16]>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => s.serialize_str(&uuid::Uuid::from_bytes(*b).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 16]>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| {
                uuid::Uuid::parse_str(&s)
                    .map(|u| *u.as_bytes())
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Store {
    /// The whole store as pretty JSON.
    pub fn export_json(&self) -> Result<String> {
        let dump = Dump {
            format: FORMAT.into(),
            schema_version: schema::CURRENT,
            resource_pools: self
                .pool_export()?
                .into_iter()
                .map(|(pool, default)| PoolDump { pool, default })
                .collect(),
            admins: self.admin_export()?,
            tasks: self.task_export()?,
            operation_log: self.oplog_export()?,
            nodes: self.node_export()?.0,
            nics: self.node_export()?.1,
            storages: self.storage_export()?,
            controller: self.controller_export()?,
            bonds: self.bond_export()?,
            network: self.network_export()?,
            catalog: self.catalog_export()?,
            refs: self
                .refs_export()?
                .into_iter()
                .map(|(k, count)| RefDump {
                    key: hex(&k),
                    count,
                })
                .collect(),
        };
        serde_json::to_string_pretty(&dump).map_err(Error::internal)
    }

    fn is_empty(&self) -> bool {
        self.pools.is_empty()
            && self.admins.is_empty()
            && self.tasks.is_empty()
            && self.oplog.is_empty()
            && self.refs.is_empty()
            && self.nodes.is_empty()
            && self.storages.is_empty()
            && matches!(self.controller(), Ok(None))
            && self.vswitches.is_empty()
            && self.networks.is_empty()
            && self.catalog_is_empty()
    }

    /// Loads an export into an empty store. Refuses a non-empty store, an
    /// unknown format or a newer schema; checks the dump's invariants.
    pub fn import_json(&self, text: &str) -> Result<()> {
        let bad = |m: String| Error::new(Code::InvalidField, m);
        let dump: Dump =
            serde_json::from_str(text).map_err(|e| bad(format!("Not a store export: {e}")))?;
        if dump.format != FORMAT {
            return Err(bad(format!("Field `format`: expected `{FORMAT}`")));
        }
        if dump.schema_version > schema::CURRENT {
            return Err(bad(format!(
                "Field `schema_version`: the export has schema {}, this binary understands up to {}",
                dump.schema_version,
                schema::CURRENT
            )));
        }
        if !self.is_empty() {
            return Err(Error::new(
                Code::StoreNotEmpty,
                "The store is not empty; import only into a fresh data directory",
            ));
        }
        if dump.resource_pools.iter().filter(|p| p.default).count() > 1 {
            return Err(bad(
                "Field `resource_pools`: more than one default pool".into()
            ));
        }
        let mut names = std::collections::HashSet::new();
        for p in &dump.resource_pools {
            if !names.insert(crate::domain::text::fold(&p.pool.name)) {
                return Err(bad(format!(
                    "Field `resource_pools`: name `{}` appears twice",
                    p.pool.name
                )));
            }
        }
        if let Some(c) = &dump.controller {
            if !dump.nodes.iter().any(|n| n.uuid == c.node) {
                return Err(bad(
                    "Field `controller.node`: the controller's node is not among `nodes`".into(),
                ));
            }
        }
        self.catalog_check(&dump.catalog)?;
        // Everything is checked before the first write.
        let mut refs = Vec::with_capacity(dump.refs.len());
        for r in &dump.refs {
            let key = unhex(&r.key)
                .ok_or_else(|| bad(format!("Field `refs.key`: `{}` is not hex", r.key)))?;
            refs.push((key, r.count));
        }
        for a in &dump.admins {
            if !crate::domain::admin::valid_admin_name(&a.name) {
                return Err(bad(format!(
                    "Field `admins.name`: `{}` is not a valid account name",
                    a.name
                )));
            }
        }
        for p in &dump.resource_pools {
            let pool = crate::domain::pool::ResourcePool {
                uuid: uuid::Uuid::from_bytes(p.pool.uuid),
                seq: p.pool.seq,
                name: p.pool.name.clone(),
                desc: p.pool.desc.clone(),
                is_default: p.default,
                created_at: p.pool.created_at,
                updated_at: p.pool.updated_at,
            };
            self.pool_insert(&pool)?;
        }
        // Keep new sequence numbers above the imported ones.
        if let Some(max) = dump.resource_pools.iter().map(|p| p.pool.seq).max() {
            self.seq_at_least(max)?;
        }
        if let Some(d) = dump.resource_pools.iter().find(|p| p.default) {
            self.meta
                .insert(b"default_pool", &d.pool.uuid)
                .map_err(Error::store)?;
        }
        self.admin_import(&dump.admins)?;
        self.task_import(&dump.tasks)?;
        self.oplog_import(&dump.operation_log)?;
        self.node_import(&dump.nodes, &dump.nics)?;
        self.storage_import(&dump.storages)?;
        if let Some(c) = &dump.controller {
            self.controller_import(c)?;
        }
        self.bond_import(&dump.bonds)?;
        self.network_import(&dump.network)?;
        let seq = self.catalog_import(&dump.catalog)?;
        self.seq_at_least(seq)?;
        for (key, count) in refs {
            self.refs
                .insert(key, &codec::u64_key(count))
                .map_err(Error::store)?;
        }
        self.bump(Table::Refs);
        self.bump(Table::ResourcePool);
        self.flush_blocking()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pool::ResourcePool;
    use uuid::Uuid;

    #[test]
    fn export_import_round_trip() {
        let a = Store::temporary().unwrap();
        for (i, name) in ["one", "two", "three"].iter().enumerate() {
            a.pool_insert(&ResourcePool {
                uuid: Uuid::new_v4(),
                seq: 0,
                name: name.to_string(),
                desc: format!("d{i}"),
                is_default: i == 1,
                created_at: i as i64,
                updated_at: i as i64,
            })
            .unwrap();
        }
        let text = a.export_json().unwrap();
        let b = Store::temporary().unwrap();
        b.import_json(&text).unwrap();
        let mut pa = a.pool_list().unwrap();
        let mut pb = b.pool_list().unwrap();
        pa.sort_by_key(|p| p.name.clone());
        pb.sort_by_key(|p| p.name.clone());
        assert_eq!(pa, pb);
        assert_eq!(
            pb.iter()
                .filter(|p| p.is_default)
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["two"]
        );
        // A second import into the now non-empty store is refused.
        assert!(b.import_json(&text).is_err());
    }

    #[test]
    fn import_rejects_garbage_and_newer_schema() {
        let s = Store::temporary().unwrap();
        assert!(s.import_json("{").is_err());
        let newer = format!(
            r#"{{"format":"{FORMAT}","schema_version":99,"resource_pools":[],"admins":[],"tasks":[],"operation_log":[],"refs":[]}}"#
        );
        assert!(s
            .import_json(&newer)
            .unwrap_err()
            .message
            .contains("schema"));
    }
}
