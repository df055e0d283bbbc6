//! The shared machinery of tables whose records have a unique name and
//! hold references: insert, update and delete each run in one transaction
//! over the records, the name index and the reference counts. No caller's
//! closure runs inside a transaction.

use bincode::{Decode, Encode};
use sled::transaction::{abort, ConflictableTransactionError, TransactionalTree};
use sled::{Transactional, Tree};

use super::refs::{self, RefKind};
use super::{codec, txn, Store, Table};
use crate::error::{Error, Result};

type Tx<T> = std::result::Result<T, ConflictableTransactionError<Error>>;

/// A record kept in a named table.
pub(super) trait Rec: Encode + Decode<()> + Clone {
    const VERSION: u16;
    const TABLE: Table;
    /// How the record holds references on others.
    const REF_KIND: RefKind;
    fn key(&self) -> [u8; 16];
    /// The unique-name index key (already folded, with any scope prefix).
    fn name_key(&self) -> Vec<u8>;
    fn name_taken(&self) -> Error;
    fn not_found(key: &[u8; 16]) -> Error;
    /// The records this one uses (each counted once per use).
    fn uses(&self) -> Vec<[u8; 16]>;
}

fn dec<R: Rec>(bytes: &[u8]) -> Tx<R> {
    codec::decode(R::VERSION, bytes).map_err(ConflictableTransactionError::Abort)
}

fn adjust(t: &TransactionalTree, targets: &[[u8; 16]], kind: RefKind, delta: i64) -> Tx<()> {
    for target in targets {
        refs::adjust_in_tx(t, target, kind, delta)?;
    }
    Ok(())
}

/// Who uses `key`, as text (`2 templates, 1 desktop groups`), or `None`.
pub(super) fn users_text(t: &TransactionalTree, key: &[u8; 16]) -> Tx<Option<String>> {
    let users = refs::count_in_tx(t, key)?;
    if users.is_empty() {
        return Ok(None);
    }
    let what: Vec<String> = users
        .iter()
        .map(|(k, n)| format!("{n} {}", k.plural()))
        .collect();
    Ok(Some(what.join(", ")))
}

impl Store {
    pub(super) fn named_get<R: Rec>(&self, recs: &Tree, key: &[u8; 16]) -> Result<R> {
        let bytes = recs
            .get(key)
            .map_err(Error::store)?
            .ok_or_else(|| R::not_found(key))?;
        codec::decode(R::VERSION, &bytes)
    }

    pub(super) fn named_list<R: Rec>(&self, recs: &Tree) -> Result<Vec<R>> {
        recs.iter()
            .values()
            .map(|v| codec::decode(R::VERSION, &v.map_err(Error::store)?))
            .collect()
    }

    /// Inserts a record whose name is free.
    pub(super) fn named_insert<R: Rec>(&self, recs: &Tree, names: &Tree, rec: &R) -> Result<()> {
        let bytes = codec::encode(R::VERSION, rec);
        let (key, nk) = (rec.key(), rec.name_key());
        txn(
            (recs, names, &self.refs).transaction(|(recs, names, refs_t)| {
                if names.get(&nk)?.is_some() {
                    return abort(rec.name_taken());
                }
                names.insert(nk.as_slice(), &key)?;
                recs.insert(&key, bytes.as_slice())?;
                adjust(refs_t, &rec.uses(), R::REF_KIND, 1)?;
                Ok(())
            }),
        )?;
        self.bump(R::TABLE);
        self.bump(Table::Refs);
        Ok(())
    }

    /// Changes a record with `f` (which may refuse); a new name must be
    /// free, and the references follow the change. `f` runs outside the
    /// transaction (see [`super::rmw`]), so it may read the store.
    pub(super) fn named_update<R: Rec>(
        &self,
        recs: &Tree,
        names: &Tree,
        key: &[u8; 16],
        f: &dyn Fn(R) -> Result<R>,
    ) -> Result<R> {
        let out = super::rmw(recs, key, R::not_found(key), |old_bytes| {
            let old: R = codec::decode(R::VERSION, old_bytes)?;
            let new = f(old.clone())?;
            let new_bytes = codec::encode(R::VERSION, &new);
            txn(
                (recs, names, &self.refs).transaction(|(recs, names, refs_t)| {
                    if recs.get(key)?.as_deref() != Some(old_bytes) {
                        return Ok(None);
                    }
                    let (ok, nk) = (old.name_key(), new.name_key());
                    if ok != nk {
                        if names.get(&nk)?.is_some() {
                            return abort(new.name_taken());
                        }
                        names.remove(ok)?;
                        names.insert(nk, key)?;
                    }
                    let (before, after) = (old.uses(), new.uses());
                    if before != after {
                        adjust(refs_t, &before, R::REF_KIND, -1)?;
                        adjust(refs_t, &after, R::REF_KIND, 1)?;
                    }
                    recs.insert(key, new_bytes.as_slice())?;
                    Ok(Some(new.clone()))
                }),
            )
        })?;
        self.bump(R::TABLE);
        self.bump(Table::Refs);
        Ok(out)
    }

    /// Deletes a record nothing uses; `in_use` words the refusal.
    pub(super) fn named_delete<R: Rec>(
        &self,
        recs: &Tree,
        names: &Tree,
        key: &[u8; 16],
        in_use: fn(&R, &str) -> Error,
    ) -> Result<R> {
        let out = txn(
            (recs, names, &self.refs).transaction(|(recs, names, refs_t)| {
                let Some(old) = recs.get(key)? else {
                    return abort(R::not_found(key));
                };
                let old: R = dec(&old)?;
                if let Some(users) = users_text(refs_t, key)? {
                    return abort(in_use(&old, &users));
                }
                names.remove(old.name_key())?;
                recs.remove(key)?;
                adjust(refs_t, &old.uses(), R::REF_KIND, -1)?;
                Ok(old)
            }),
        )?;
        self.bump(R::TABLE);
        self.bump(Table::Refs);
        Ok(out)
    }
}
