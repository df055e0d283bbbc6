//! Reference counts between records (a template uses a pool, …): records
//! that point at another register here in their own transaction, and deletes
//! of the target check the counts in theirs.

use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use uuid::Uuid;

use super::codec;
use super::{Store, Table};
use crate::error::{Error, Result};

/// Who can hold a reference. Append only: the tag byte is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Node = 1,
    BaseImage = 2,
    Template = 3,
    DesktopGroup = 4,
    Group = 5,
    User = 6,
}

impl RefKind {
    pub const ALL: [RefKind; 6] = [
        RefKind::Node,
        RefKind::BaseImage,
        RefKind::Template,
        RefKind::DesktopGroup,
        RefKind::Group,
        RefKind::User,
    ];

    pub fn plural(self) -> &'static str {
        match self {
            RefKind::Node => "nodes",
            RefKind::BaseImage => "base images",
            RefKind::Template => "templates",
            RefKind::DesktopGroup => "desktop groups",
            RefKind::Group => "groups",
            RefKind::User => "users",
        }
    }
}

fn count_key(target: &[u8; 16], kind: RefKind) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[..16].copy_from_slice(target);
    k[16] = kind as u8;
    k
}

/// The non-zero reference counts of `target`, inside a transaction.
pub(super) fn count_in_tx(
    t: &TransactionalTree,
    target: &[u8; 16],
) -> std::result::Result<Vec<(RefKind, u64)>, ConflictableTransactionError<Error>> {
    let mut out = Vec::new();
    for kind in RefKind::ALL {
        if let Some(v) = t.get(count_key(target, kind))? {
            let n = codec::key_u64(&v).unwrap_or(0);
            if n > 0 {
                out.push((kind, n));
            }
        }
    }
    Ok(out)
}

pub(super) fn adjust_in_tx(
    t: &TransactionalTree,
    target: &[u8; 16],
    kind: RefKind,
    delta: i64,
) -> std::result::Result<(), ConflictableTransactionError<Error>> {
    let k = count_key(target, kind);
    let n = t
        .get(k)?
        .map(|v| codec::key_u64(&v).unwrap_or(0))
        .unwrap_or(0);
    let next = (n as i64 + delta).max(0) as u64;
    if next == 0 {
        t.remove(&k)?;
    } else {
        t.insert(&k, &codec::u64_key(next))?;
    }
    Ok(())
}

impl Store {
    /// Records that `_referrer` (of `kind`) uses `target`.
    pub fn ref_add(&self, target: &Uuid, kind: RefKind, _referrer: &Uuid) -> Result<()> {
        self.ref_adjust(target, kind, 1)
    }

    pub fn ref_remove(&self, target: &Uuid, kind: RefKind, _referrer: &Uuid) -> Result<()> {
        self.ref_adjust(target, kind, -1)
    }

    fn ref_adjust(&self, target: &Uuid, kind: RefKind, delta: i64) -> Result<()> {
        let key = *target.as_bytes();
        super::txn(
            self.refs
                .transaction(|t| adjust_in_tx(t, &key, kind, delta)),
        )?;
        self.bump(Table::Refs);
        Ok(())
    }

    pub fn ref_counts(&self, target: &Uuid) -> Result<Vec<(RefKind, u64)>> {
        let key = *target.as_bytes();
        super::txn(self.refs.transaction(|t| count_in_tx(t, &key)))
    }

    pub(super) fn refs_export(&self) -> Result<Vec<(Vec<u8>, u64)>> {
        self.refs
            .iter()
            .map(|kv| {
                let (k, v) = kv.map_err(Error::store)?;
                Ok((k.to_vec(), codec::key_u64(&v)?))
            })
            .collect()
    }
}
