//! How much storage each template disk's image chain holds (the web list's
//! `devices[].used`): measured with `qemu-img info` along the chain after
//! every template operation that changes files or stops the template, kept
//! in memory, with a generation the query snapshot follows.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use uuid::Uuid;

use crate::domain::template::Template;
use crate::service::Services;

/// Longest backing chain followed (a loop in broken files stops here).
const CHAIN_MAX: usize = 64;

/// Bytes per template disk, as last measured.
#[derive(Default)]
pub struct DiskUsage {
    bytes: Mutex<HashMap<Uuid, u64>>,
    generation: AtomicU64,
}

impl Services {
    /// Measures the disks of `t` again: the allocated bytes of the working
    /// overlay and of every file below it (versions, base image). A disk
    /// that cannot be read keeps no figure (logged).
    pub(crate) async fn template_usage_note(&self, t: &Template) {
        let mut found = Vec::with_capacity(t.disks.len());
        for d in &t.disks {
            let mut total = 0u64;
            let mut at: Option<PathBuf> = Some(d.work_file());
            let mut ok = true;
            for _ in 0..CHAIN_MAX {
                let Some(p) = at.take() else { break };
                match self.disks.info(&p).await {
                    Ok(i) => {
                        total = total.saturating_add(i.actual_size);
                        at = i.backing.map(|b| match p.parent() {
                            Some(dir) if b.is_relative() => dir.join(b),
                            _ => b,
                        });
                    }
                    Err(e) => {
                        log::debug!("template {}: disk {} not measured: {e}", t.name, d.uuid);
                        ok = false;
                        break;
                    }
                }
            }
            found.push((d.uuid, ok.then_some(total)));
        }
        let Ok(mut map) = self.template_usage.bytes.lock() else {
            return;
        };
        let mut changed = false;
        for (disk, bytes) in found {
            let before = match bytes {
                Some(b) => map.insert(disk, b),
                None => map.remove(&disk),
            };
            changed |= before != bytes;
        }
        if changed {
            self.template_usage
                .generation
                .fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Forgets the figures of a deleted template's disks.
    pub(crate) fn template_usage_forget(&self, t: &Template) {
        if let Ok(mut map) = self.template_usage.bytes.lock() {
            for d in &t.disks {
                map.remove(&d.uuid);
            }
        }
        self.template_usage
            .generation
            .fetch_add(1, Ordering::AcqRel);
    }

    /// Bytes the disk's image chain held when last measured.
    pub fn template_disk_used(&self, disk: &Uuid) -> Option<u64> {
        self.template_usage.bytes.lock().ok()?.get(disk).copied()
    }

    /// Changes when a measured figure changes (for the query snapshot).
    pub fn template_usage_generation(&self) -> u64 {
        self.template_usage.generation.load(Ordering::Acquire)
    }
}
