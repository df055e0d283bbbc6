//! Files that travel from the controller to its nodes (base images and
//! template versions with their backing chains): the node's pull (resumable
//! into `<file>.part`, md5-verified before it takes the file's name), the
//! controller's file endpoint, and the controller's side that asks a node
//! to pull and follows its progress.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;

use crate::domain::cluster::{DiskCall, DiskReply, PullEnd, PullReq, PullStatus};
use crate::domain::qcow2;
use crate::domain::storage::Role;
use crate::error::{Code, Error, Result};
use crate::host::fetch::encode;
use crate::host::remote_vm::serve_disk;
use crate::host::{ByteStream, FileKind};
use crate::service::task::TaskHandle;
use crate::service::Services;

#[derive(Clone)]
struct PullJob {
    md5: String,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    end: Arc<Mutex<PullEnd>>,
}

/// Pulls on a node; md5 sums of sent files on the controller.
#[derive(Default)]
pub struct PullState {
    jobs: Mutex<HashMap<PathBuf, PullJob>>,
    /// path → (size, virtual size, md5): files already summed.
    sums: Mutex<HashMap<PathBuf, (u64, u64, String)>>,
}

/// One file a node should hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    pub path: PathBuf,
    pub md5: String,
}

/// The storage `_base` directory (`…/instances/_base` or `…/datas/_base`)
/// that holds `path`, at any depth.
fn base_dir_of(path: &Path) -> Option<PathBuf> {
    path.ancestors().skip(1).find_map(|a| {
        let base = a.file_name()? == "_base";
        let parent = a.parent()?.file_name()?;
        (base && (parent == "instances" || parent == "datas")).then(|| a.to_path_buf())
    })
}

fn part_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

impl Services {
    // ---- the node's side -------------------------------------------------

    /// `internal/pull` on a node: starts (or reports) the pull of `path`
    /// from the controller. A file already there with the right md5 is
    /// done; a wrong one is pulled again; an interrupted pull continues
    /// from its `.part`; a failed pull is reported once, then the next
    /// ask starts it again.
    pub fn internal_pull(
        self: &Arc<Self>,
        token: Option<&str>,
        path: PathBuf,
        md5: String,
        verify: bool,
    ) -> Result<PullStatus> {
        self.internal_check(token)?;
        if !path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(Error::invalid("path", "must be absolute, without `..`"));
        }
        if base_dir_of(&path).is_none() {
            return Err(Error::invalid(
                "path",
                format!(
                    "{} is not in a storage's `instances/_base` or `datas/_base` directory",
                    path.display()
                ),
            ));
        }
        if md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid("md5", "must be 32 hex digits"));
        }
        let mut jobs = self.pulls.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(j) = jobs.get(&path) {
            let end = j.end.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let status = PullStatus {
                end: end.clone(),
                done: j.done.load(Ordering::SeqCst),
                total: j.total.load(Ordering::SeqCst),
            };
            let asked_anew = j.md5 != md5 || verify;
            match end {
                PullEnd::Running => return Ok(status),
                PullEnd::Done if !asked_anew => return Ok(status),
                // A failure is answered once (the controller polling
                // learns it); the next ask starts over.
                PullEnd::Failed(_) if !asked_anew => {
                    jobs.remove(&path);
                    return Ok(status);
                }
                _ => {}
            }
        }
        let job = PullJob {
            md5: md5.clone(),
            done: Arc::default(),
            total: Arc::default(),
            end: Arc::new(Mutex::new(PullEnd::Running)),
        };
        jobs.insert(path.clone(), job.clone());
        drop(jobs);
        let me = self.clone();
        (self.tasks_spawner())(Box::pin(async move {
            let r = me.pull_run(&path, &job).await;
            let end = match r {
                Ok(()) => {
                    log::info!("pulled {} (md5 {})", path.display(), job.md5);
                    PullEnd::Done
                }
                Err(e) => {
                    log::warn!("pull of {} failed: {e}", path.display());
                    PullEnd::Failed(e.public_message().to_string())
                }
            };
            *job.end.lock().unwrap_or_else(|e| e.into_inner()) = end;
        }));
        Ok(PullStatus {
            end: PullEnd::Running,
            done: 0,
            total: 0,
        })
    }

    /// `internal/disk` on a node: one disk call from the controller. A
    /// removed or renamed file is no longer a finished pull.
    pub async fn internal_disk(&self, token: Option<&str>, call: DiskCall) -> Result<DiskReply> {
        self.internal_check(token)?;
        let gone: Option<PathBuf> = match &call {
            DiskCall::Remove { path } => Some(path.clone()),
            DiskCall::Rename { from, .. } => Some(from.clone()),
            _ => None,
        };
        if let Some(gone) = gone {
            self.pulls
                .jobs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|p, _| !p.starts_with(&gone));
        }
        serve_disk(self.disks.as_ref(), call).await
    }

    async fn pull_run(&self, path: &Path, job: &PullJob) -> Result<()> {
        let m = self.settings.membership.clone().ok_or_else(|| {
            Error::new(
                Code::NodeRemote,
                "this service is not a node of a controller",
            )
        })?;
        if self.disks.exists(path).await? {
            if self.disks.md5(path).await? == job.md5 {
                return Ok(());
            }
            log::warn!(
                "{} differs from the controller's copy; pulling it again",
                path.display()
            );
            self.disks.remove(path).await?;
        }
        if let Some(dir) = path.parent() {
            self.disks.mkdir(dir).await?;
        }
        let part = part_of(path);
        let url = format!(
            "/api/v1/internal/file?node_uuid={}&path={}",
            m.node_uuid,
            encode(&path.to_string_lossy())
        );
        let total = match self
            .fetch
            .fetch(&m.controller, &m.credential, &url, &part, &job.done)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                // The controller refused (say, the file shrank below the
                // part): the next try starts from the beginning.
                if e.code == Code::ImageDistributionFailed {
                    let _ = self.disks.remove(&part).await;
                }
                return Err(e);
            }
        };
        job.total.store(total, Ordering::SeqCst);
        let got = self.disks.md5(&part).await?;
        if got != job.md5 {
            let _ = self.disks.remove(&part).await;
            return Err(Error::new(
                Code::ImageMd5Mismatch,
                format!(
                    "{} arrived with md5 {got}, expected {}; the partial file is removed",
                    path.display(),
                    job.md5
                ),
            ));
        }
        if let Err(e) = self.pulled_file_check(path, &part).await {
            let _ = self.disks.remove(&part).await;
            return Err(e);
        }
        self.disks.rename(&part, path).await
    }

    /// A pulled file (at `part`, to become `path`) must be a qcow2 image
    /// that reaches no file outside the `_base` directory it goes to: no
    /// external data file, no `json:` or protocol name, and a backing
    /// file (a template version's chain) inside that directory, symlinks
    /// followed. Read from the header here; qemu opens nothing.
    async fn pulled_file_check(&self, path: &Path, part: &Path) -> Result<()> {
        let refuse = |why: String| {
            Error::new(
                Code::ImageUnsafe,
                format!("{} is refused: {why}", path.display()),
            )
        };
        let root =
            base_dir_of(path).ok_or_else(|| refuse("it is not in a `_base` directory".into()))?;
        let head = self.disks.read_head(part, qcow2::HEAD_MAX).await?;
        let h = qcow2::parse(&head).map_err(|e| refuse(e.to_string()))?;
        let Some(backing) = h
            .check_backing_within(path, &root)
            .map_err(|e| refuse(e.to_string()))?
        else {
            return Ok(());
        };
        let canonical_root = match self.disks.stat(&root).await? {
            Some(st) => st.canonical,
            None => root.clone(),
        };
        if let Some(st) = self.disks.stat(&backing).await? {
            if !st.canonical.starts_with(&canonical_root) || st.kind != FileKind::File {
                return Err(refuse(format!(
                    "its backing file {} resolves outside {} or is not a regular file",
                    backing.display(),
                    root.display()
                )));
            }
        }
        Ok(())
    }

    // ---- the controller's side -------------------------------------------

    /// `internal/file`: a node fetches a base image or template file from
    /// byte `offset` on, with its credential. Only files under the
    /// template storage's `_base` directories are served.
    pub async fn internal_file(
        &self,
        credential: Option<&str>,
        node: &Uuid,
        path: &Path,
        offset: u64,
    ) -> Result<(u64, ByteStream)> {
        self.node_credential_check(credential, node)?;
        let roots = [
            self.role_dir(Role::TemplateSystem, "instances/_base"),
            self.role_dir(Role::TemplateData, "datas/_base"),
        ];
        let served = path.is_absolute()
            && !path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
            && roots
                .iter()
                .flatten()
                .any(|r| path.starts_with(r) && path != r);
        if !served {
            return Err(Error::invalid(
                "path",
                format!(
                    "{} is not a base image or template file of this controller",
                    path.display()
                ),
            ));
        }
        self.disks.open_read(path, offset).await
    }

    /// `path` and every file under it in its backing chain, base first.
    pub(crate) async fn file_chain(&self, path: &Path) -> Result<Vec<PathBuf>> {
        let mut chain = vec![path.to_path_buf()];
        let mut at = path.to_path_buf();
        while let Some(b) = self.disks.info(&at).await?.backing {
            if chain.contains(&b) || chain.len() > 64 {
                return Err(Error::new(
                    Code::DiskFailed,
                    format!("the backing chain of {} loops", path.display()),
                ));
            }
            chain.push(b.clone());
            at = b;
        }
        chain.reverse();
        Ok(chain)
    }

    /// The md5 of a file here (remembered while its sizes stay the same).
    pub(crate) async fn file_md5(&self, path: &Path) -> Result<String> {
        let info = self.disks.info(path).await?;
        let key = (info.actual_size, info.virtual_size);
        if let Some((a, v, m)) = self.sums_get(path) {
            if (a, v) == key {
                return Ok(m);
            }
        }
        let m = self.disks.md5(path).await?;
        self.pulls
            .sums
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), (key.0, key.1, m.clone()));
        Ok(m)
    }

    fn sums_get(&self, path: &Path) -> Option<(u64, u64, String)> {
        self.pulls
            .sums
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    /// What `path` needs on a node: its chain with md5 sums.
    pub(crate) async fn file_wanted(&self, path: &Path) -> Result<Vec<Wanted>> {
        let mut out = Vec::new();
        for p in self.file_chain(path).await? {
            out.push(Wanted {
                md5: self.file_md5(&p).await?,
                path: p,
            });
        }
        Ok(out)
    }

    /// Has `node` pull `files` (in order), one at a time, and waits for
    /// each; reports bytes on `task` between `from` and `to` percent.
    /// With `verify` the node checks copies it already pulled again (the
    /// md5 of a file on disk), as retransmit asks. Nothing happens for
    /// this host.
    pub(crate) async fn node_files_send(
        &self,
        node: &Uuid,
        files: &[Wanted],
        verify: bool,
        task: Option<(&TaskHandle, u8, u8)>,
    ) -> Result<()> {
        let Some(api) = self.node_link_api(node)? else {
            return Ok(());
        };
        for (i, f) in files.iter().enumerate() {
            let mut last_pct = None;
            let mut verify = verify;
            loop {
                let req = PullReq {
                    path: f.path.clone(),
                    md5: f.md5.clone(),
                    verify,
                };
                let st = api
                    .client
                    .pull(&api.peer, req)
                    .await
                    .map_err(|e| api.named(e))?;
                verify = false;
                if let Some((t, from, to)) = task {
                    let span = (to.saturating_sub(from)) as u64;
                    let per_file = span / files.len().max(1) as u64;
                    let inside = (per_file * st.done.min(st.total))
                        .checked_div(st.total)
                        .unwrap_or(0);
                    let pct = (from as u64 + per_file * i as u64 + inside).min(to as u64) as u8;
                    if last_pct != Some(pct) || st.end != PullEnd::Running {
                        let line = match &st.end {
                            PullEnd::Done => format!("{}: {} on node", api.name, f.path.display()),
                            _ => String::new(),
                        };
                        t.progress(pct, &line);
                        last_pct = Some(pct);
                    }
                }
                match st.end {
                    PullEnd::Done => break,
                    PullEnd::Failed(e) => {
                        return Err(Error::new(
                            Code::ImageDistributionFailed,
                            format!(
                                "node `{}` could not pull {}: {e}",
                                api.name,
                                f.path.display()
                            ),
                        ))
                    }
                    PullEnd::Running => smol::Timer::after(Duration::from_millis(300)).await,
                };
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_sit_beside_their_file() {
        assert_eq!(
            part_of(Path::new("/s/v1.qcow2")),
            Path::new("/s/v1.qcow2.part")
        );
    }

    #[test]
    fn pulled_files_belong_to_a_base_directory() {
        let b = |p: &str| base_dir_of(Path::new(p));
        assert_eq!(
            b("/opt/slow/instances/_base/t/d/v2.qcow2"),
            Some(PathBuf::from("/opt/slow/instances/_base"))
        );
        assert_eq!(
            b("/opt/slow/datas/_base/img"),
            Some(PathBuf::from("/opt/slow/datas/_base"))
        );
        assert_eq!(b("/opt/slow/instances/_base"), None);
        assert_eq!(b("/etc/shadow"), None);
        assert_eq!(b("/opt/slow/other/_base/x"), None);
    }
}
