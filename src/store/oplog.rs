//! The operation-log table, keyed by a monotonic sequence so that key order
//! is time order; the oldest entries beyond the retention bound are pruned.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use super::codec;
use super::{Store, Table};
use crate::domain::oplog::OpLogEntry;
use crate::error::{Error, Result};

const V1: u16 = 1;

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct OpLogV1 {
    pub seq: u64,
    pub time: i64,
    pub owner: String,
    pub action: String,
    pub target: String,
    pub code: i64,
    pub message: String,
    pub client: String,
}

impl From<&OpLogEntry> for OpLogV1 {
    fn from(e: &OpLogEntry) -> Self {
        OpLogV1 {
            seq: e.seq,
            time: e.time,
            owner: e.owner.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            code: e.code,
            message: e.message.clone(),
            client: e.client.clone(),
        }
    }
}

impl From<OpLogV1> for OpLogEntry {
    fn from(e: OpLogV1) -> Self {
        OpLogEntry {
            seq: e.seq,
            time: e.time,
            owner: e.owner,
            action: e.action,
            target: e.target,
            code: e.code,
            message: e.message,
            client: e.client,
        }
    }
}

impl Store {
    /// Appends an entry; its `seq` is assigned here and returned.
    pub fn oplog_append(&self, entry: &OpLogEntry) -> Result<u64> {
        let mut rec = OpLogV1::from(entry);
        rec.seq = self.next_id()?;
        self.oplog
            .insert(codec::u64_key(rec.seq), codec::encode(V1, &rec))
            .map_err(Error::store)?;
        self.bump(Table::OpLog);
        // Bounded however long the service runs: prune every 500 entries.
        if rec.seq % 500 == 0 {
            self.oplog_prune(self.oplog_keep)?;
        }
        Ok(rec.seq)
    }

    /// Replaces entry `seq` (written by `oplog_append`) with `entry`.
    pub fn oplog_set(&self, seq: u64, entry: &OpLogEntry) -> Result<()> {
        let mut rec = OpLogV1::from(entry);
        rec.seq = seq;
        self.oplog
            .insert(codec::u64_key(seq), codec::encode(V1, &rec))
            .map_err(Error::store)?;
        self.bump(Table::OpLog);
        Ok(())
    }

    pub fn oplog_list(&self) -> Result<Vec<OpLogEntry>> {
        self.oplog
            .iter()
            .values()
            .map(|v| Ok(codec::decode::<OpLogV1>(V1, &v.map_err(Error::store)?)?.into()))
            .collect()
    }

    /// Keeps the newest `keep` entries.
    pub fn oplog_prune(&self, keep: usize) -> Result<usize> {
        let len = self.oplog.len();
        if len <= keep {
            return Ok(0);
        }
        let mut gone = 0;
        for k in self.oplog.iter().keys().take(len - keep) {
            self.oplog
                .remove(k.map_err(Error::store)?)
                .map_err(Error::store)?;
            gone += 1;
        }
        self.bump(Table::OpLog);
        Ok(gone)
    }

    pub(super) fn oplog_export(&self) -> Result<Vec<OpLogV1>> {
        self.oplog
            .iter()
            .values()
            .map(|v| codec::decode(V1, &v.map_err(Error::store)?))
            .collect()
    }

    pub(super) fn oplog_import(&self, recs: &[OpLogV1]) -> Result<()> {
        for r in recs {
            self.oplog
                .insert(codec::u64_key(r.seq), codec::encode(V1, r))
                .map_err(Error::store)?;
        }
        // Keep new sequence numbers above the imported ones.
        if let Some(max) = recs.iter().map(|r| r.seq).max() {
            self.seq_at_least(max)?;
        }
        self.bump(Table::OpLog);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> OpLogEntry {
        OpLogEntry {
            seq: 0,
            time: 1,
            owner: "admin".into(),
            action: action.into(),
            target: "t".into(),
            code: 0,
            message: "ok".into(),
            client: "127.0.0.1".into(),
        }
    }

    #[test]
    fn appends_in_order_and_prunes_oldest() {
        let s = Store::temporary().unwrap();
        for i in 0..5 {
            s.oplog_append(&entry(&format!("a{i}"))).unwrap();
        }
        let all = s.oplog_list().unwrap();
        assert_eq!(
            all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["a0", "a1", "a2", "a3", "a4"]
        );
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(s.oplog_prune(2).unwrap(), 3);
        let left = s.oplog_list().unwrap();
        assert_eq!(
            left.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["a3", "a4"]
        );
    }
}
