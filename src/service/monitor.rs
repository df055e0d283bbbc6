//! Monitoring samples: this host read every few seconds and folded into
//! 30-second aggregates, reports pushed by compute nodes (checked against
//! the node's credential), the latest figures per node, node credentials,
//! and bounded retention (full resolution for a while, then 10-minute
//! buckets, then dropped).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, RwLock};

use super::auth::{random_token, token_hash};
use super::Services;
use crate::api::monitor::Report;
use crate::domain::clock::now_ms;
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
    /// Samples before this second are already downsampled.
    compacted_to: Mutex<i64>,
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
            self.monitor_ingest(&node, agg.clone(), now_ms())?;
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

    /// Stores an aggregate of `node` and remembers it as its newest.
    pub fn monitor_ingest(&self, node: &Uuid, sample: Sample, received_ms: i64) -> Result<()> {
        self.store.monitor_put(node, &sample)?;
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
        Ok(self.store.monitor_last(node)?.map(|s| Latest {
            received_ms: s.end() * 1000,
            sample: s,
        }))
    }

    /// Whether a node reported within `monitor_down_after`; this host is
    /// up while it answers.
    pub fn monitor_node_up(&self, node: &Uuid, now_ms: i64) -> Result<bool> {
        if self.store.local_node()? == Some(*node) {
            return Ok(true);
        }
        let limit = self.settings.monitor_down_after.as_millis() as i64;
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
        let now = now_ms();
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
        let mut from = self.monitor.compacted_to.lock().map_err(Error::internal)?;
        let mut done = Compacted::default();
        for node in self.store.monitor_nodes()? {
            done.dropped += self.store.monitor_drop(&node, drop_before)?;
            let start = window_start((*from).max(drop_before), COARSE_S);
            let samples = self.store.monitor_range(&node, start, full_before)?;
            let merged = downsample(&samples, full_before, COARSE_S);
            if merged.is_empty() {
                continue;
            }
            let spans: HashMap<i64, u32> = samples.iter().map(|s| (s.start, s.span_s)).collect();
            let batch: Vec<(Vec<(i64, u32)>, Sample)> = merged
                .into_iter()
                .map(|(starts, s)| {
                    let old = starts
                        .into_iter()
                        .map(|t| (t, spans.get(&t).copied().unwrap_or(0)))
                        .collect();
                    (old, s)
                })
                .collect();
            done.merged += batch.iter().map(|b| b.0.len()).sum::<usize>();
            self.store.monitor_replace(&node, &batch)?;
        }
        *from = full_before;
        Ok(done)
    }

    /// Forgets a node's history (when the node is removed).
    pub fn monitor_forget(&self, node: &Uuid) -> Result<usize> {
        if let Ok(mut l) = self.monitor.latest.write() {
            l.remove(node);
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
    fn retention_downsamples_then_drops() {
        let s = services();
        let node = Uuid::new_v4();
        let day = 86_400;
        let now = 20 * day;
        // Ten days of 30-second samples.
        for t in (now - 10 * day..now).step_by(30) {
            s.monitor_ingest(&node, agg(t, 30), t * 1000).unwrap();
        }
        let before = s.store.monitor_count();
        let c = s.monitor_compact(now).unwrap();
        assert!(c.dropped > 0 && c.merged > 0);
        let all = s.store.monitor_range(&node, 0, i64::MAX).unwrap();
        // Nothing older than 8 days; 30 s resolution for the last 24 h.
        assert!(all.iter().all(|x| x.start >= now - 8 * day));
        let fine = all.iter().filter(|x| x.span_s == 30).count() as i64;
        assert!((2880..=2880 + 20).contains(&fine), "{fine}");
        let coarse = all.iter().filter(|x| x.span_s == 600).count() as i64;
        assert!((7 * 144 - 1..=7 * 144).contains(&coarse), "{coarse}");
        assert!(s.store.monitor_count() < before / 2);
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
        let n = s.store.monitor_count() as i64;
        assert!(n <= 2880 + 7 * 144 + 25, "{n}");
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
