//! Monitoring samples: this host read every few seconds and folded into
//! 30-second aggregates, reports pushed by compute nodes (checked against
//! the node's credential), the latest figures per node, node credentials,
//! and bounded retention (full resolution for a while, then 10-minute
//! buckets, then dropped). Aggregates are gathered per node in memory for
//! the current 10-minute bucket and written once it ends (or at shutdown).

pub mod metrics;
pub mod view;

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, RwLock};

use super::auth::{random_token, token_hash};
use super::Services;
use crate::domain::monitor::Report;
use crate::domain::monitor::{
    between, combine, downsample, window_start, Reading, Sample, COARSE_S, HALF_MIN_S,
};
use crate::domain::Uuid;
use crate::error::{Code, Error, Result};
use crate::store::Compacted;

/// Instants kept for `top_data` (its period is under a minute).
const RECENT_S: i64 = 60;
/// How far ahead of the controller's clock a report may be stamped.
const FUTURE_SLACK_S: i64 = 120;

#[derive(Default)]
struct Sampler {
    prev: Option<Reading>,
    /// Instants of the 30-second window being filled.
    window: Vec<Sample>,
    /// Instants of the last minute.
    recent: VecDeque<Sample>,
    failing: bool,
}

/// A node's newest aggregate and when it arrived (milliseconds).
#[derive(Clone, Debug, PartialEq)]
pub struct Latest {
    pub sample: Sample,
    pub received_ms: i64,
}

#[derive(Default)]
pub struct MonitorState {
    sampler: Mutex<Sampler>,
    latest: RwLock<HashMap<Uuid, Latest>>,
    /// Each node's bucket being filled: its start and samples.
    open: Mutex<HashMap<Uuid, (i64, Vec<Sample>)>>,
    /// Samples before this second are already downsampled.
    compacted_to: Mutex<i64>,
    /// What `top_data` needs of the nodes, for a generation of the node table.
    pub(crate) top_nodes: Mutex<Option<(u64, std::sync::Arc<Vec<TopNode>>)>>,
}

/// A node as `top_data` ranks it: name, management NIC, desktop storage root.
#[derive(Clone, Debug)]
pub(crate) struct TopNode {
    pub uuid: Uuid,
    pub name: String,
    pub manage: String,
    pub root: Option<String>,
}

impl Services {
    /// Reads this host once. Returns the 30-second aggregate that the
    /// reading completed, if any; it is stored for this node once the
    /// controller is initialised.
    pub async fn monitor_tick(&self) -> Result<Option<Sample>> {
        let reading = match self.metrics.read().await {
            Ok(r) => r,
            Err(e) => {
                let mut s = self.monitor.sampler.lock().map_err(Error::internal)?;
                if !s.failing {
                    log::warn!("host figures could not be read: {e}");
                    s.failing = true;
                }
                return Err(e);
            }
        };
        let done = {
            let mut s = self.monitor.sampler.lock().map_err(Error::internal)?;
            if s.failing {
                log::info!("host figures can be read again");
                s.failing = false;
            }
            let instant = s.prev.as_ref().and_then(|p| between(p, &reading));
            s.prev = Some(reading);
            let Some(inst) = instant else {
                return Ok(None);
            };
            let now = inst.end();
            while s.recent.front().is_some_and(|r| r.end() <= now - RECENT_S) {
                s.recent.pop_front();
            }
            s.recent.push_back(inst.clone());
            let win = window_start(inst.end() - 1, HALF_MIN_S);
            let current = s
                .window
                .first()
                .map(|w| window_start(w.end() - 1, HALF_MIN_S));
            match current {
                Some(c) if c != win => {
                    let parts = std::mem::replace(&mut s.window, vec![inst]);
                    combine(&parts, c, HALF_MIN_S as u32)
                }
                _ => {
                    s.window.push(inst);
                    None
                }
            }
        };
        if let (Some(agg), Some(node)) = (&done, self.store.local_node()?) {
            self.monitor_ingest(&node, agg.clone(), self.now_ms())?;
        }
        Ok(done)
    }

    /// This host's instants that end after `since` (Unix seconds).
    pub fn monitor_recent(&self, since: i64) -> Vec<Sample> {
        self.monitor
            .sampler
            .lock()
            .map(|s| {
                s.recent
                    .iter()
                    .filter(|r| r.end() > since)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Keeps an aggregate of `node` (in its open bucket, written when the
    /// bucket ends) and remembers it as its newest.
    pub fn monitor_ingest(&self, node: &Uuid, sample: Sample, received_ms: i64) -> Result<()> {
        let bucket = window_start(sample.start, COARSE_S);
        {
            let mut open = self.monitor.open.lock().map_err(Error::internal)?;
            if open.get(node).is_some_and(|(b, _)| *b > bucket) {
                // A late report for a bucket already written.
                self.store
                    .monitor_add(node, bucket, std::slice::from_ref(&sample))?;
            } else {
                let e = open.entry(*node).or_insert((bucket, Vec::new()));
                if e.0 != bucket {
                    self.store.monitor_add(node, e.0, &e.1)?;
                    *e = (bucket, Vec::new());
                }
                e.1.retain(|s| s.start != sample.start);
                e.1.push(sample.clone());
            }
        }
        let mut latest = self.monitor.latest.write().map_err(Error::internal)?;
        let newer = latest
            .get(node)
            .is_none_or(|l| l.sample.start <= sample.start);
        if newer {
            latest.insert(
                *node,
                Latest {
                    sample,
                    received_ms,
                },
            );
        }
        Ok(())
    }

    /// A node's newest aggregate: in memory, else the store's (after a
    /// restart), as received at the end of its span.
    pub fn monitor_latest(&self, node: &Uuid) -> Result<Option<Latest>> {
        if let Some(l) = self
            .monitor
            .latest
            .read()
            .map_err(Error::internal)?
            .get(node)
        {
            return Ok(Some(l.clone()));
        }
        let stored = self.store.monitor_last(node)?.map(|s| Latest {
            received_ms: s.end() * 1000,
            sample: s,
        });
        if let (Some(l), Ok(mut w)) = (&stored, self.monitor.latest.write()) {
            w.entry(*node).or_insert_with(|| l.clone());
        }
        Ok(stored)
    }

    /// Writes the open buckets that started before `before` (all of them
    /// with `i64::MAX`, at shutdown).
    pub fn monitor_flush_open(&self, before: i64) -> Result<usize> {
        let mut open = self.monitor.open.lock().map_err(Error::internal)?;
        let due: Vec<Uuid> = open
            .iter()
            .filter(|(_, (b, _))| before == i64::MAX || b + COARSE_S <= before)
            .map(|(n, _)| *n)
            .collect();
        for n in &due {
            if let Some((b, v)) = open.get(n) {
                self.store.monitor_add(n, *b, v)?;
            }
            open.remove(n);
        }
        Ok(due.len())
    }

    /// A node's samples starting in `[from, to)`, stored and still open,
    /// oldest first.
    pub fn monitor_range(&self, node: &Uuid, from: i64, to: i64) -> Result<Vec<Sample>> {
        let mut v = self.store.monitor_range(node, from, to, COARSE_S)?;
        if let Some((_, open)) = self.monitor.open.lock().map_err(Error::internal)?.get(node) {
            for s in open.iter().filter(|s| s.start >= from && s.start < to) {
                v.retain(|x| x.start != s.start);
                v.push(s.clone());
            }
        }
        v.sort_by_key(|s| s.start);
        Ok(v)
    }

    /// Whether a node reported within `monitor_down_after`; this host is
    /// up while it answers.
    pub fn monitor_node_up(&self, node: &Uuid, now_ms: i64) -> Result<bool> {
        if self.store.local_node()? == Some(*node) {
            return Ok(true);
        }
        let limit = self.settings.monitor_down_after.as_millis() as i64;
        // Heartbeats (every few seconds) or reports (every 30 s) keep it up.
        if self
            .join
            .heartbeat(node)
            .is_some_and(|t| now_ms - t <= limit)
        {
            return Ok(true);
        }
        Ok(self
            .monitor_latest(node)?
            .is_some_and(|l| now_ms - l.received_ms <= limit))
    }

    /// `node/report_monitor`: a compute node's aggregate, accepted only
    /// with that node's credential.
    pub async fn monitor_report(&self, credential: Option<&str>, r: Report) -> Result<()> {
        self.node_credential_check(credential, &r.node)?;
        let node = self.store.node_get(&r.node)?;
        if node.name != r.name {
            log::debug!(
                "node {} reports under the name `{}`; its record says `{}`",
                r.node,
                r.name,
                node.name
            );
        }
        let now = self.now_ms();
        let now_s = now.div_euclid(1000);
        if r.sample.start > now_s + FUTURE_SLACK_S {
            return Err(Error::invalid(
                "timestamp",
                format!(
                    "{} is {} s ahead of the controller's clock; check the node's time",
                    r.sample.start,
                    r.sample.start - now_s
                ),
            ));
        }
        let oldest = now_s - self.settings.monitor_retention.as_secs() as i64;
        if r.sample.start < oldest {
            return Err(Error::invalid(
                "timestamp",
                format!("{} is older than the kept history", r.sample.start),
            ));
        }
        self.monitor_ingest(&r.node, r.sample, now)?;
        self.store.flush().await
    }

    /// Checks `credential` against the credential of `node`: unknown → 21201,
    /// another node's → 21202.
    pub fn node_credential_check(&self, credential: Option<&str>, node: &Uuid) -> Result<()> {
        let invalid = || {
            Error::new(
                Code::NodeCredentialInvalid,
                "The node credential is missing or unknown; send `Authorization: Bearer <credential>`",
            )
        };
        let hash = token_hash(credential.ok_or_else(invalid)?);
        if self.store.node_credential(node)?.is_some_and(|h| h == hash) {
            return Ok(());
        }
        match self
            .store
            .node_credentials()?
            .into_iter()
            .find(|(_, h)| *h == hash)
        {
            Some((other, _)) => Err(Error::new(
                Code::NodeForeign,
                format!("The credential is node {other}'s; it cannot report for node {node}"),
            )),
            None => Err(invalid()),
        }
    }

    /// Makes a new internal-API credential for a node; the old one stops
    /// working. Only its hash is kept.
    pub async fn node_credential_issue(&self, node: &Uuid) -> Result<String> {
        self.store.node_get(node)?;
        let token = random_token()?;
        self.store.node_credential_set(node, &token_hash(&token))?;
        self.store.flush().await?;
        Ok(token)
    }

    /// Downsamples history older than the full-resolution window into
    /// 10-minute buckets and drops history older than the retention, for
    /// every node with samples. Each bucket is replaced atomically.
    pub fn monitor_compact(&self, now_s: i64) -> Result<Compacted> {
        let keep = self.settings.monitor_retention.as_secs() as i64;
        let full = self.settings.monitor_full_res.as_secs() as i64;
        let drop_before = now_s - keep;
        let full_before = window_start(now_s - full, COARSE_S);
        self.monitor_flush_open(now_s)?;
        let mut from = self.monitor.compacted_to.lock().map_err(Error::internal)?;
        let mut done = Compacted::default();
        for node in self.store.monitor_nodes()? {
            done.dropped += self.store.monitor_drop(&node, drop_before)?;
            let start = window_start((*from).max(drop_before), COARSE_S);
            let samples = self
                .store
                .monitor_range(&node, start, full_before, COARSE_S)?;
            let merged = downsample(&samples, full_before, COARSE_S);
            if merged.is_empty() {
                continue;
            }
            done.merged += merged.iter().map(|m| m.0.len()).sum::<usize>();
            let buckets: Vec<(i64, Vec<Sample>)> = merged
                .into_iter()
                .map(|(_, s)| (s.start, vec![s]))
                .collect();
            self.store.monitor_replace(&node, &buckets)?;
        }
        *from = full_before;
        Ok(done)
    }

    /// Forgets a node's history (when the node is removed).
    pub fn monitor_forget(&self, node: &Uuid) -> Result<usize> {
        if let Ok(mut l) = self.monitor.latest.write() {
            l.remove(node);
        }
        if let Ok(mut o) = self.monitor.open.lock() {
            o.remove(node);
        }
        self.store.monitor_drop(node, i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::monitor::{Cpu, Mem};
    use crate::domain::node::Node;

    fn services() -> std::sync::Arc<Services> {
        let store = std::sync::Arc::new(crate::store::Store::temporary().unwrap());
        let (b, _, _) = crate::app::fake_backends();
        let settings = super::super::Settings::for_dir(std::env::temp_dir());
        crate::app::services(store, &b, settings, crate::app::global_spawner())
    }

    fn agg(start: i64, span: u32) -> Sample {
        Sample {
            start,
            span_s: span,
            cpu: Cpu {
                percent: 10.0,
                ..Cpu::default()
            },
            mem: Mem {
                total: 10,
                used: 5,
                free: 5,
                percent: 50.0,
            },
            ..Sample::default()
        }
    }

    #[test]
    fn readings_fold_into_aligned_half_minutes() {
        let store = std::sync::Arc::new(crate::store::Store::temporary().unwrap());
        let f = crate::app::fakes(Default::default(), Default::default());
        let settings = super::super::Settings::for_dir(std::env::temp_dir());
        let s = crate::app::services(store, &f.backends(), settings, crate::app::global_spawner());
        let node = Node::bare(Uuid::new_v4(), "me", "10.0.0.1", 0);
        s.store.node_put(&node).unwrap();
        s.store.local_node_set(&node.uuid).unwrap();
        let t0 = 1_700_000_010; // 10 s into a half-minute
        let mut done = Vec::new();
        for i in 0..10i64 {
            f.metrics.update(|r| {
                r.at_ms = (t0 + i * 5) * 1000;
                // 40 % busy until 30 s in, 80 % after.
                let busy = if t0 + i * 5 <= 1_700_000_040 { 40 } else { 80 };
                r.cpu.total += 100;
                r.cpu.user += busy;
                r.cpu.idle += 100 - busy;
                r.nics[0].tx_bytes += 5000;
            });
            if let Some(a) = smol::block_on(s.monitor_tick()).unwrap() {
                done.push(a);
            }
        }
        // Readings 10..55 s: instants end at 15..55; one window [0,30) is
        // partial, [30,60) is still open.
        assert_eq!(done.len(), 1);
        let a = &done[0];
        assert_eq!((a.start, a.span_s), (1_700_000_010 / 30 * 30, 30));
        assert!((a.cpu.percent - 40.0).abs() < 1e-9, "{}", a.cpu.percent);
        assert_eq!(a.nic("eth0").unwrap().up, 1000.0);
        let kept = s.monitor_range(&node.uuid, 0, i64::MAX).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].start, a.start);
        assert_eq!(
            s.monitor_latest(&node.uuid).unwrap().unwrap().sample.start,
            a.start
        );
        assert_eq!(s.monitor_recent(0).len(), 9);
        // A failing sampler is an error, not a panic, and recovers.
        *f.metrics.fail.lock().unwrap() = Some("gone".into());
        assert!(smol::block_on(s.monitor_tick()).is_err());
        *f.metrics.fail.lock().unwrap() = None;
        assert!(smol::block_on(s.monitor_tick()).is_ok());
    }

    #[test]
    fn retention_downsamples_then_drops() {
        let s = services();
        let node = Uuid::new_v4();
        let day = 86_400;
        let now = 20 * day;
        // Ten days of 30-second samples.
        for t in (now - 10 * day..now).step_by(30) {
            s.monitor_ingest(&node, agg(t, 30), t * 1000).unwrap();
        }
        let before = s.monitor_range(&node, 0, i64::MAX).unwrap().len();
        let c = s.monitor_compact(now).unwrap();
        assert!(c.dropped > 0 && c.merged > 0);
        let all = s.monitor_range(&node, 0, i64::MAX).unwrap();
        // Nothing older than 8 days; 30 s resolution for the last 24 h.
        assert!(all.iter().all(|x| x.start >= now - 8 * day));
        let fine = all.iter().filter(|x| x.span_s == 30).count() as i64;
        assert!((2880..=2880 + 20).contains(&fine), "{fine}");
        let coarse = all.iter().filter(|x| x.span_s == 600).count() as i64;
        assert!((7 * 144 - 1..=7 * 144).contains(&coarse), "{coarse}");
        assert!(all.len() < before / 2);
        assert!(all.iter().all(|x| (x.cpu.percent - 10.0).abs() < 1e-9));
        // A second pass at the same time changes nothing; later passes keep
        // the store bounded.
        assert_eq!(s.monitor_compact(now).unwrap(), Compacted::default());
        for t in (now..now + 2 * day).step_by(30) {
            s.monitor_ingest(&node, agg(t, 30), t * 1000).unwrap();
            if t % 600 == 0 {
                s.monitor_compact(t).unwrap();
            }
        }
        let n = s.monitor_range(&node, 0, i64::MAX).unwrap().len() as i64;
        assert!(n <= 2880 + 7 * 144 + 25, "{n}");
        // Written in buckets: one record per 10 minutes, not per sample.
        let b = s.store.monitor_buckets() as i64;
        assert!(b <= 8 * 144 + 2, "{b}");
        // Shutdown writes the open bucket; a fresh service reads it back.
        let last = s.monitor_latest(&node).unwrap().unwrap().sample.start;
        s.monitor_flush_open(i64::MAX).unwrap();
        assert_eq!(s.store.monitor_last(&node).unwrap().unwrap().start, last);
    }

    #[test]
    fn credentials_tell_unknown_from_foreign() {
        let s = services();
        let (a, b) = (
            Node::bare(Uuid::new_v4(), "a", "10.0.0.1", 0),
            Node::bare(Uuid::new_v4(), "b", "10.0.0.2", 0),
        );
        s.store.node_put(&a).unwrap();
        s.store.node_put(&b).unwrap();
        let ta = smol::block_on(s.node_credential_issue(&a.uuid)).unwrap();
        let tb = smol::block_on(s.node_credential_issue(&b.uuid)).unwrap();
        s.node_credential_check(Some(&ta), &a.uuid).unwrap();
        let e = s.node_credential_check(Some(&tb), &a.uuid).unwrap_err();
        assert_eq!(e.code, Code::NodeForeign);
        let e = s.node_credential_check(Some("nope"), &a.uuid).unwrap_err();
        assert_eq!(e.code, Code::NodeCredentialInvalid);
        assert_eq!(
            s.node_credential_check(None, &a.uuid).unwrap_err().code,
            Code::NodeCredentialInvalid
        );
        // Re-issuing revokes the old credential.
        let ta2 = smol::block_on(s.node_credential_issue(&a.uuid)).unwrap();
        assert!(s.node_credential_check(Some(&ta), &a.uuid).is_err());
        s.node_credential_check(Some(&ta2), &a.uuid).unwrap();
        assert!(smol::block_on(s.node_credential_issue(&Uuid::new_v4())).is_err());
    }
}
