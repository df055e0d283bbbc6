//! Monitoring history: one record per node and 10-minute bucket (key: node
//! uuid, bucket start) holding that bucket's samples, kept compact
//! (percentages in hundredths, rates in whole bytes per second). Writing a
//! bucket once, rather than a key per 30-second sample, keeps sled's space
//! overhead down. Also node credentials for the internal API and the
//! metrics scrape token, both as blake2 hashes.

use bincode::{Decode, Encode};

use super::codec;
use super::{uuid_bytes, Store};
use crate::domain::monitor::{Cpu, Disk, Mem, Nic, Sample};
use crate::domain::Uuid;
use crate::error::{Error, Result};

const V1: u16 = 1;
const METRICS_TOKEN: &[u8] = b"metrics_token";

#[derive(Encode, Decode)]
struct NicV1 {
    name: String,
    /// 0: unknown.
    speed_mbps: u32,
    up: u64,
    down: u64,
    up_max: u64,
    down_max: u64,
}

#[derive(Encode, Decode)]
struct DiskV1 {
    name: String,
    mount: String,
    read_rate: u64,
    write_rate: u64,
    total: u64,
    used: u64,
}

#[derive(Encode, Decode)]
struct SampleV1 {
    /// user, system, idle, percent in hundredths of a percent.
    cpu: [u16; 4],
    mem_total: u64,
    mem_used: u64,
    mem_free: u64,
    mem_percent: u16,
    nics: Vec<NicV1>,
    disks: Vec<DiskV1>,
    /// Hundredths.
    load: [u32; 3],
    uptime_s: u64,
}

fn centi(p: f64) -> u16 {
    (p.clamp(0.0, 100.0) * 100.0).round() as u16
}

fn bytes(r: f64) -> u64 {
    if r.is_finite() && r > 0.0 {
        r.round() as u64
    } else {
        0
    }
}

impl From<&Sample> for SampleV1 {
    fn from(s: &Sample) -> Self {
        SampleV1 {
            cpu: [
                centi(s.cpu.user),
                centi(s.cpu.system),
                centi(s.cpu.idle),
                centi(s.cpu.percent),
            ],
            mem_total: s.mem.total,
            mem_used: s.mem.used,
            mem_free: s.mem.free,
            mem_percent: centi(s.mem.percent),
            nics: s
                .nics
                .iter()
                .map(|n| NicV1 {
                    name: n.name.clone(),
                    speed_mbps: n.speed_mbps.unwrap_or(0),
                    up: bytes(n.up),
                    down: bytes(n.down),
                    up_max: bytes(n.up_max),
                    down_max: bytes(n.down_max),
                })
                .collect(),
            disks: s
                .disks
                .iter()
                .map(|d| DiskV1 {
                    name: d.name.clone(),
                    mount: d.mount.clone(),
                    read_rate: bytes(d.read_rate),
                    write_rate: bytes(d.write_rate),
                    total: d.total,
                    used: d.used,
                })
                .collect(),
            load: s.load.map(|l| bytes(l * 100.0).min(u32::MAX as u64) as u32),
            uptime_s: s.uptime_s,
        }
    }
}

impl SampleV1 {
    fn into_sample(self, start: i64, span_s: u32) -> Sample {
        let pct = |c: u16| c as f64 / 100.0;
        Sample {
            start,
            span_s,
            cpu: Cpu {
                user: pct(self.cpu[0]),
                system: pct(self.cpu[1]),
                idle: pct(self.cpu[2]),
                percent: pct(self.cpu[3]),
            },
            mem: Mem {
                total: self.mem_total,
                used: self.mem_used,
                free: self.mem_free,
                percent: pct(self.mem_percent),
            },
            nics: self
                .nics
                .into_iter()
                .map(|n| Nic {
                    name: n.name,
                    speed_mbps: (n.speed_mbps > 0).then_some(n.speed_mbps),
                    up: n.up as f64,
                    down: n.down as f64,
                    up_max: n.up_max as f64,
                    down_max: n.down_max as f64,
                    ipv4: Vec::new(),
                })
                .collect(),
            disks: self
                .disks
                .into_iter()
                .map(|d| Disk {
                    name: d.name,
                    mount: d.mount,
                    read_rate: d.read_rate as f64,
                    write_rate: d.write_rate as f64,
                    total: d.total,
                    used: d.used,
                })
                .collect(),
            load: self.load.map(|l| l as f64 / 100.0),
            uptime_s: self.uptime_s,
        }
    }
}

#[derive(Encode, Decode)]
struct ChunkV1 {
    /// (seconds after the bucket start, span, figures), by start.
    samples: Vec<(u32, u32, SampleV1)>,
}

fn key(node: &Uuid, bucket: i64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(&uuid_bytes(node));
    k[16..].copy_from_slice(&(bucket.max(0) as u64).to_be_bytes());
    k
}

/// The node and bucket start of a key.
fn parse_key(k: &[u8]) -> Result<(Uuid, i64)> {
    if k.len() != 24 {
        return Err(Error::store("bad monitor key"));
    }
    let node = Uuid::from_slice(&k[..16]).map_err(Error::store)?;
    Ok((node, codec::key_u64(&k[16..24])? as i64))
}

fn decode(k: &[u8], v: &[u8]) -> Result<Vec<Sample>> {
    let (_, bucket) = parse_key(k)?;
    let c: ChunkV1 = codec::decode(V1, v)?;
    Ok(c.samples
        .into_iter()
        .map(|(off, span, s)| s.into_sample(bucket + off as i64, span))
        .collect())
}

fn encode(bucket: i64, samples: &[Sample]) -> Vec<u8> {
    let mut v: Vec<&Sample> = samples.iter().collect();
    v.sort_by_key(|s| s.start);
    let c = ChunkV1 {
        samples: v
            .into_iter()
            .map(|s| {
                (
                    (s.start - bucket).max(0) as u32,
                    s.span_s,
                    SampleV1::from(s),
                )
            })
            .collect(),
    };
    codec::encode(V1, &c)
}

fn end_key(node: &Uuid) -> [u8; 24] {
    let mut k = [0xffu8; 24];
    k[..16].copy_from_slice(&uuid_bytes(node));
    k
}

/// Counts of a compaction pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Compacted {
    pub merged: usize,
    pub dropped: usize,
}

impl Store {
    /// Adds samples to a node's bucket (starting at `bucket`); a sample
    /// with the start of one already there replaces it.
    pub fn monitor_add(&self, node: &Uuid, bucket: i64, samples: &[Sample]) -> Result<()> {
        let k = key(node, bucket);
        let mut all = match self.monitor.get(k).map_err(Error::store)? {
            Some(v) => decode(&k, &v)?,
            None => Vec::new(),
        };
        all.retain(|old| !samples.iter().any(|s| s.start == old.start));
        all.extend(samples.iter().cloned());
        self.monitor
            .insert(k, encode(bucket, &all))
            .map_err(Error::store)?;
        Ok(())
    }

    /// Replaces whole buckets of a node (downsampling), atomically.
    pub fn monitor_replace(&self, node: &Uuid, buckets: &[(i64, Vec<Sample>)]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (bucket, samples) in buckets {
            batch.insert(&key(node, *bucket)[..], encode(*bucket, samples));
        }
        self.monitor.apply_batch(batch).map_err(Error::store)
    }

    /// A node's stored samples starting in `[from, to)`, oldest first
    /// (`bucket` is the bucket length the records were written with).
    pub fn monitor_range(
        &self,
        node: &Uuid,
        from: i64,
        to: i64,
        bucket: i64,
    ) -> Result<Vec<Sample>> {
        if to <= from {
            return Ok(Vec::new());
        }
        let first = from.max(0).div_euclid(bucket) * bucket;
        let end = if to == i64::MAX {
            end_key(node)
        } else {
            key(node, to)
        };
        let mut out = Vec::new();
        for kv in self.monitor.range(key(node, first)..end) {
            let (k, v) = kv.map_err(Error::store)?;
            out.extend(
                decode(&k, &v)?
                    .into_iter()
                    .filter(|s| s.start >= from && s.start < to),
            );
        }
        Ok(out)
    }

    /// A node's newest stored sample.
    pub fn monitor_last(&self, node: &Uuid) -> Result<Option<Sample>> {
        match self.monitor.scan_prefix(uuid_bytes(node)).next_back() {
            Some(kv) => {
                let (k, v) = kv.map_err(Error::store)?;
                Ok(decode(&k, &v)?.pop())
            }
            None => Ok(None),
        }
    }

    /// Nodes with samples (including nodes deleted since).
    pub fn monitor_nodes(&self) -> Result<Vec<Uuid>> {
        let mut out = Vec::new();
        let mut from = [0u8; 16];
        loop {
            let Some(kv) = self.monitor.range(from..).next() else {
                return Ok(out);
            };
            let (k, _) = kv.map_err(Error::store)?;
            let (node, _) = parse_key(&k)?;
            out.push(node);
            // The next key after every key of this node.
            match u128::from_be_bytes(*node.as_bytes()).checked_add(1) {
                Some(n) => from = n.to_be_bytes(),
                None => return Ok(out),
            }
        }
    }

    /// Removes a node's buckets that start before `before` (all of them
    /// with `i64::MAX`); returns how many samples went.
    pub fn monitor_drop(&self, node: &Uuid, before: i64) -> Result<usize> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        let end = if before == i64::MAX {
            end_key(node)
        } else {
            key(node, before)
        };
        for kv in self.monitor.range(key(node, 0)..end) {
            let (k, v) = kv.map_err(Error::store)?;
            n += decode(&k, &v)?.len();
            batch.remove(k);
        }
        if n > 0 {
            self.monitor.apply_batch(batch).map_err(Error::store)?;
        }
        Ok(n)
    }

    /// Bytes of the bucket records (keys and values) as stored.
    pub fn monitor_bytes(&self) -> u64 {
        self.monitor
            .iter()
            .filter_map(|kv| kv.ok())
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum()
    }

    /// Bucket records stored, over all nodes.
    pub fn monitor_buckets(&self) -> usize {
        self.monitor.len()
    }

    /// The blake2 hash of a node's internal-API credential.
    pub fn node_credential(&self, node: &Uuid) -> Result<Option<Vec<u8>>> {
        Ok(self
            .node_credentials
            .get(uuid_bytes(node))
            .map_err(Error::store)?
            .map(|v| v.to_vec()))
    }

    pub fn node_credential_set(&self, node: &Uuid, hash: &[u8]) -> Result<()> {
        self.node_credentials
            .insert(uuid_bytes(node), hash)
            .map_err(Error::store)?;
        Ok(())
    }

    /// Every node holding a credential, with its hash.
    pub fn node_credentials(&self) -> Result<Vec<(Uuid, Vec<u8>)>> {
        self.node_credentials
            .iter()
            .map(|kv| {
                let (k, v) = kv.map_err(Error::store)?;
                Ok((Uuid::from_slice(&k).map_err(Error::store)?, v.to_vec()))
            })
            .collect()
    }

    /// The hash of the Prometheus scrape token, once one was made.
    pub fn metrics_token_hash(&self) -> Result<Option<Vec<u8>>> {
        Ok(self
            .meta
            .get(METRICS_TOKEN)
            .map_err(Error::store)?
            .map(|v| v.to_vec()))
    }

    pub fn metrics_token_set(&self, hash: &[u8]) -> Result<()> {
        self.meta
            .insert(METRICS_TOKEN, hash)
            .map_err(Error::store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(start: i64, span: u32, cpu: f64) -> Sample {
        Sample {
            start,
            span_s: span,
            cpu: Cpu {
                user: cpu / 2.0,
                system: cpu / 2.0,
                idle: 100.0 - cpu,
                percent: cpu,
            },
            mem: Mem {
                total: 1 << 33,
                used: 1 << 31,
                free: 1 << 32,
                percent: 25.0,
            },
            nics: vec![Nic {
                name: "eth0".into(),
                speed_mbps: Some(10_000),
                up: 1234.4,
                down: 99.6,
                up_max: 5000.0,
                down_max: 100.0,
                ipv4: vec![],
            }],
            disks: vec![Disk {
                name: "sda1".into(),
                mount: "/opt/slow".into(),
                read_rate: 10.0,
                write_rate: 20.0,
                total: 1 << 40,
                used: 1 << 38,
            }],
            load: [1.25, 0.5, 0.0],
            uptime_s: 77,
        }
    }

    #[test]
    fn buckets_round_trip_in_time_order_per_node() {
        let s = Store::temporary().unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        // Ten samples in two 150-second buckets, written out of order.
        let all: Vec<Sample> = (0..10)
            .map(|i| sample(1050 + i * 30, 30, i as f64))
            .collect();
        s.monitor_add(&a, 1200, &all[5..]).unwrap();
        s.monitor_add(&a, 1050, &all[..5]).unwrap();
        s.monitor_add(&b, 1050, &[sample(1050, 30, 50.0)]).unwrap();
        let got = s.monitor_range(&a, 1080, 1170, 150).unwrap();
        assert_eq!(
            got.iter().map(|x| x.start).collect::<Vec<_>>(),
            [1080, 1110, 1140]
        );
        let one = &got[0];
        assert_eq!(one.cpu.percent, 1.0);
        assert_eq!(one.nics[0].up, 1234.0);
        assert_eq!(one.nics[0].speed_mbps, Some(10_000));
        assert_eq!(one.disks[0].mount, "/opt/slow");
        assert_eq!(one.load, [1.25, 0.5, 0.0]);
        assert_eq!(s.monitor_range(&a, 0, i64::MAX, 150).unwrap().len(), 10);
        assert_eq!(s.monitor_last(&a).unwrap().unwrap().start, 1320);
        assert_eq!(s.monitor_last(&b).unwrap().unwrap().cpu.percent, 50.0);
        assert!(s.monitor_last(&Uuid::new_v4()).unwrap().is_none());
        // Adding to a bucket keeps what it had; the same start replaces.
        s.monitor_add(&b, 1050, &[sample(1080, 30, 1.0), sample(1050, 30, 7.0)])
            .unwrap();
        let bs = s.monitor_range(&b, 0, i64::MAX, 150).unwrap();
        assert_eq!(
            bs.iter()
                .map(|x| (x.start, x.cpu.percent))
                .collect::<Vec<_>>(),
            [(1050, 7.0), (1080, 1.0)]
        );
        let mut nodes = s.monitor_nodes().unwrap();
        nodes.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(nodes, want);
    }

    #[test]
    fn replace_and_drop() {
        let s = Store::temporary().unwrap();
        let n = Uuid::new_v4();
        let four: Vec<Sample> = (0..4).map(|i| sample(i * 30, 30, 10.0)).collect();
        s.monitor_add(&n, 0, &four).unwrap();
        s.monitor_replace(&n, &[(0, vec![sample(0, 600, 10.0)])])
            .unwrap();
        let all = s.monitor_range(&n, 0, i64::MAX, 600).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].start, all[0].span_s), (0, 600));
        s.monitor_add(&n, 600, &[sample(900, 30, 1.0)]).unwrap();
        assert_eq!(s.monitor_drop(&n, 600).unwrap(), 1);
        assert_eq!(s.monitor_buckets(), 1);
        assert_eq!(s.monitor_drop(&n, i64::MAX).unwrap(), 1);
        assert_eq!(s.monitor_buckets(), 0);
    }

    #[test]
    fn credentials_and_the_metrics_token() {
        let s = Store::temporary().unwrap();
        let n = Uuid::new_v4();
        assert!(s.node_credential(&n).unwrap().is_none());
        s.node_credential_set(&n, b"hash").unwrap();
        assert_eq!(s.node_credential(&n).unwrap().unwrap(), b"hash");
        assert_eq!(s.node_credentials().unwrap(), vec![(n, b"hash".to_vec())]);
        assert!(s.metrics_token_hash().unwrap().is_none());
        s.metrics_token_set(b"h2").unwrap();
        assert_eq!(s.metrics_token_hash().unwrap().unwrap(), b"h2");
    }
}
