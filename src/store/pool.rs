//! The resource-pool table: records, the unique-name index, the one-default
//! pointer and the reference check on delete, each change in one transaction.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::{abort, ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use super::codec;
use super::refs;
#[cfg(test)]
use super::refs::RefKind;
use super::{txn, uuid_bytes, Store, Table};
use crate::domain::clock::Millis;
use crate::domain::pool::{PoolPatch, ResourcePool};
use crate::error::{Code, Error, Result};

const V1: u16 = 1;
const DEFAULT_KEY: &[u8] = b"default_pool";
const COUNT_KEY: &[u8] = b"pool_count";

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct PoolV1 {
    #[serde(with = "super::export::uuid_text")]
    pub uuid: [u8; 16],
    /// Creation order (store-assigned; an import without it assigns anew).
    #[serde(default)]
    pub seq: u64,
    pub name: String,
    pub desc: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PoolV1 {
    fn from_domain(p: &ResourcePool) -> Self {
        PoolV1 {
            uuid: uuid_bytes(&p.uuid),
            seq: p.seq,
            name: p.name.clone(),
            desc: p.desc.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }

    fn into_domain(self, default: Option<[u8; 16]>) -> ResourcePool {
        ResourcePool {
            is_default: default == Some(self.uuid),
            uuid: Uuid::from_bytes(self.uuid),
            seq: self.seq,
            name: self.name,
            desc: self.desc,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn name_key(name: &str) -> Vec<u8> {
    crate::domain::text::fold(name).into_bytes()
}

type Tx<T> = std::result::Result<T, ConflictableTransactionError<Error>>;

fn get_u64(t: &TransactionalTree, k: &[u8]) -> Tx<u64> {
    Ok(t.get(k)?
        .map(|v| codec::key_u64(&v).unwrap_or(0))
        .unwrap_or(0))
}

fn get_default(t: &TransactionalTree) -> Tx<Option<[u8; 16]>> {
    Ok(t.get(DEFAULT_KEY)?.and_then(|v| v.as_ref().try_into().ok()))
}

fn decode_tx(bytes: &[u8]) -> Tx<PoolV1> {
    codec::decode(V1, bytes).map_err(ConflictableTransactionError::Abort)
}

fn name_taken(name: &str) -> Error {
    Error::new(
        Code::PoolNameExists,
        format!("Resource pool `{name}` already exists"),
    )
}

fn not_found(uuid: &Uuid) -> Error {
    Error::new(
        Code::PoolNotFound,
        format!("Resource pool {uuid} does not exist"),
    )
}

impl Store {
    pub fn pool_get(&self, uuid: &Uuid) -> Result<ResourcePool> {
        let bytes = self
            .pools
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| not_found(uuid))?;
        let default = self.default_pointer()?;
        Ok(codec::decode::<PoolV1>(V1, &bytes)?.into_domain(default))
    }

    /// The pool with this name (ignoring case), if any.
    pub fn pool_by_name(&self, name: &str) -> Result<Option<ResourcePool>> {
        match self.pool_names.get(name_key(name)).map_err(Error::store)? {
            None => Ok(None),
            Some(k) => {
                let arr: [u8; 16] = k
                    .as_ref()
                    .try_into()
                    .map_err(|_| Error::store("bad pool name index"))?;
                self.pool_get(&Uuid::from_bytes(arr)).map(Some)
            }
        }
    }

    pub fn pool_list(&self) -> Result<Vec<ResourcePool>> {
        let default = self.default_pointer()?;
        self.pools
            .iter()
            .values()
            .map(|v| {
                let v = v.map_err(Error::store)?;
                Ok(codec::decode::<PoolV1>(V1, &v)?.into_domain(default))
            })
            .collect()
    }

    pub fn pool_default(&self) -> Result<Option<Uuid>> {
        Ok(self.default_pointer()?.map(Uuid::from_bytes))
    }

    fn default_pointer(&self) -> Result<Option<[u8; 16]>> {
        Ok(self
            .meta
            .get(DEFAULT_KEY)
            .map_err(Error::store)?
            .and_then(|v| v.as_ref().try_into().ok()))
    }

    /// The default pool, or `pool` inserted as the default when there is
    /// none — decided in one transaction. Returns the uuid and whether it
    /// was inserted.
    pub fn pool_ensure_default(&self, pool: &ResourcePool) -> Result<(Uuid, bool)> {
        if let Some(d) = self.pool_default()? {
            return Ok((d, false));
        }
        let mut want = pool.clone();
        want.is_default = true;
        match self.pool_insert_if(&want, true) {
            Ok(p) => Ok((p.uuid, true)),
            Err(e) if e.code == Code::PoolIsDefault => self
                .pool_default()?
                .map(|d| (d, false))
                .ok_or_else(|| Error::store("the default pool vanished")),
            Err(e) => Err(e),
        }
    }

    /// Inserts a new pool; it becomes the default when asked or when it is
    /// the first. Returns the pool as stored.
    pub fn pool_insert(&self, pool: &ResourcePool) -> Result<ResourcePool> {
        self.pool_insert_if(pool, false)
    }

    /// `pool_insert`; with `only_if_no_default`, refused (`PoolIsDefault`)
    /// when a default pool exists by the time the transaction runs.
    fn pool_insert_if(
        &self,
        pool: &ResourcePool,
        only_if_no_default: bool,
    ) -> Result<ResourcePool> {
        let mut rec = PoolV1::from_domain(pool);
        if rec.seq == 0 {
            rec.seq = self.next_id()?;
        }
        let bytes = codec::encode(V1, &rec);
        let key = rec.uuid;
        let nk = name_key(&pool.name);
        let want_default = pool.is_default;
        let is_default = txn((&self.pools, &self.pool_names, &self.meta).transaction(
            |(pools, names, meta)| {
                if only_if_no_default && get_default(meta)?.is_some() {
                    return abort(Error::new(Code::PoolIsDefault, "A default pool exists"));
                }
                if names.get(&nk)?.is_some() {
                    return abort(name_taken(&rec.name));
                }
                names.insert(nk.as_slice(), &key)?;
                pools.insert(&key, bytes.as_slice())?;
                let count = get_u64(meta, COUNT_KEY)?;
                meta.insert(COUNT_KEY, &codec::u64_key(count + 1))?;
                let make_default = want_default || get_default(meta)?.is_none();
                if make_default {
                    meta.insert(DEFAULT_KEY, &key)?;
                }
                Ok(make_default)
            },
        ))?;
        self.bump(Table::ResourcePool);
        let mut out = pool.clone();
        out.is_default = is_default;
        out.seq = rec.seq;
        Ok(out)
    }

    /// Applies a validated patch; renames keep names unique, and the default
    /// can move here but not away (another pool must take it).
    pub fn pool_update(&self, uuid: &Uuid, patch: &PoolPatch, now: Millis) -> Result<ResourcePool> {
        let key = uuid_bytes(uuid);
        let out = txn((&self.pools, &self.pool_names, &self.meta).transaction(|(pools, names, meta)| {
            let Some(old) = pools.get(key)? else {
                return abort(not_found(uuid));
            };
            let mut rec = decode_tx(&old)?;
            if let Some(expected) = &patch.expect_name {
                if *expected != rec.name {
                    return abort(Error::new(
                        Code::PoolNameMismatch,
                        format!("Field `name`: pool {uuid} is named `{}`, not `{expected}`; reload and retry", rec.name),
                    ));
                }
            }
            if let Some(name) = &patch.name {
                let (old_k, new_k) = (name_key(&rec.name), name_key(name));
                if old_k != new_k {
                    if names.get(&new_k)?.is_some() {
                        return abort(name_taken(name));
                    }
                    names.remove(old_k)?;
                    names.insert(new_k, &key)?;
                }
                rec.name = name.clone();
            }
            if let Some(desc) = &patch.desc {
                rec.desc = desc.clone();
            }
            let mut default = get_default(meta)?;
            match patch.make_default {
                Some(true) => {
                    meta.insert(DEFAULT_KEY, &key)?;
                    default = Some(key);
                }
                Some(false) if default == Some(key) => {
                    return abort(Error::new(
                        Code::PoolIsDefault,
                        format!("Resource pool `{}` is the default; make another pool the default instead", rec.name),
                    ));
                }
                _ => {}
            }
            rec.updated_at = now;
            pools.insert(&key, codec::encode(V1, &rec))?;
            Ok(rec.into_domain(default))
        }))?;
        self.bump(Table::ResourcePool);
        Ok(out)
    }

    /// Deletes a pool unless something references it or it is the default
    /// while other pools exist.
    pub fn pool_delete(&self, uuid: &Uuid) -> Result<ResourcePool> {
        let key = uuid_bytes(uuid);
        let out = txn((&self.pools, &self.pool_names, &self.meta, &self.refs).transaction(
            |(pools, names, meta, refs_t)| {
                let Some(old) = pools.get(key)? else {
                    return abort(not_found(uuid));
                };
                let rec = decode_tx(&old)?;
                let users = refs::count_in_tx(refs_t, &key)?;
                if !users.is_empty() {
                    let what: Vec<String> = users.iter().map(|(k, n)| format!("{n} {}", k.plural())).collect();
                    return abort(Error::new(
                        Code::PoolInUse,
                        format!("Resource pool `{}` is used by {}", rec.name, what.join(", ")),
                    ));
                }
                let count = get_u64(meta, COUNT_KEY)?;
                let default = get_default(meta)?;
                if default == Some(key) {
                    if count > 1 {
                        return abort(Error::new(
                            Code::PoolIsDefault,
                            format!("Resource pool `{}` is the default; make another pool the default first", rec.name),
                        ));
                    }
                    meta.remove(DEFAULT_KEY)?;
                }
                meta.insert(COUNT_KEY, &codec::u64_key(count.saturating_sub(1)))?;
                names.remove(name_key(&rec.name))?;
                pools.remove(&key)?;
                Ok(rec.into_domain(default))
            },
        ))?;
        self.bump(Table::ResourcePool);
        Ok(out)
    }

    pub(super) fn pool_export(&self) -> Result<Vec<(PoolV1, bool)>> {
        let default = self.default_pointer()?;
        self.pools
            .iter()
            .values()
            .map(|v| {
                let rec: PoolV1 = codec::decode(V1, &v.map_err(Error::store)?)?;
                let d = default == Some(rec.uuid);
                Ok((rec, d))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, default: bool) -> ResourcePool {
        ResourcePool {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: name.into(),
            desc: String::new(),
            is_default: default,
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_000_000,
        }
    }

    #[test]
    fn first_pool_is_default_and_names_are_unique_case_insensitively() {
        let s = Store::temporary().unwrap();
        let a = s.pool_insert(&pool("Alpha", false)).unwrap();
        assert!(a.is_default);
        let e = s.pool_insert(&pool("alpha", false)).unwrap_err();
        assert_eq!(e.code, Code::PoolNameExists);
        assert_eq!(s.pool_list().unwrap().len(), 1);
    }

    #[test]
    fn default_moves_and_exactly_one_exists() {
        let s = Store::temporary().unwrap();
        let a = s.pool_insert(&pool("a", false)).unwrap();
        let b = s.pool_insert(&pool("b", true)).unwrap();
        assert!(b.is_default);
        assert!(!s.pool_get(&a.uuid).unwrap().is_default);
        let e = s
            .pool_update(
                &b.uuid,
                &PoolPatch {
                    make_default: Some(false),
                    ..Default::default()
                },
                1,
            )
            .unwrap_err();
        assert_eq!(e.code, Code::PoolIsDefault);
        assert_eq!(
            s.pool_delete(&b.uuid).unwrap_err().code,
            Code::PoolIsDefault
        );
        s.pool_update(
            &a.uuid,
            &PoolPatch {
                make_default: Some(true),
                ..Default::default()
            },
            1,
        )
        .unwrap();
        assert_eq!(
            s.pool_list()
                .unwrap()
                .iter()
                .filter(|p| p.is_default)
                .count(),
            1
        );
        s.pool_delete(&b.uuid).unwrap();
        // The last pool may go; then there is no default until one is created.
        s.pool_delete(&a.uuid).unwrap();
        assert_eq!(s.pool_default().unwrap(), None);
        assert!(s.pool_insert(&pool("c", false)).unwrap().is_default);
    }

    #[test]
    fn rename_frees_the_old_name_and_failed_changes_change_nothing() {
        let s = Store::temporary().unwrap();
        let a = s.pool_insert(&pool("a", false)).unwrap();
        s.pool_insert(&pool("b", false)).unwrap();
        let patch = PoolPatch {
            name: Some("b".into()),
            desc: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(
            s.pool_update(&a.uuid, &patch, 5).unwrap_err().code,
            Code::PoolNameExists
        );
        assert_eq!(s.pool_get(&a.uuid).unwrap().desc, "");
        s.pool_update(
            &a.uuid,
            &PoolPatch {
                name: Some("c".into()),
                ..Default::default()
            },
            5,
        )
        .unwrap();
        s.pool_insert(&pool("a", false)).unwrap();
    }

    #[test]
    fn referenced_pool_cannot_be_deleted() {
        let s = Store::temporary().unwrap();
        let _d = s.pool_insert(&pool("d", false)).unwrap();
        let a = s.pool_insert(&pool("a", false)).unwrap();
        let user = Uuid::new_v4();
        s.ref_add(&a.uuid, RefKind::Template, &user).unwrap();
        let e = s.pool_delete(&a.uuid).unwrap_err();
        assert_eq!(e.code, Code::PoolInUse);
        assert!(e.message.contains("1 templates"), "{}", e.message);
        s.ref_remove(&a.uuid, RefKind::Template, &user).unwrap();
        s.pool_delete(&a.uuid).unwrap();
    }

    #[test]
    fn unknown_uuid_is_not_found() {
        let s = Store::temporary().unwrap();
        let u = Uuid::new_v4();
        assert_eq!(s.pool_get(&u).unwrap_err().code, Code::PoolNotFound);
        assert_eq!(s.pool_delete(&u).unwrap_err().code, Code::PoolNotFound);
    }
}
