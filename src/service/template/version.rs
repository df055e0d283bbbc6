//! Template versions: save (the working overlay becomes a version), iso
//! save, rollback, trimming to the kept number (children rebased, the file
//! removed), download (a flattened standalone image), and the start-up
//! sweep that repairs what a crash left behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use uuid::Uuid;

use crate::domain::storage::Role;
use crate::domain::template::{
    children, export_name, trim_candidate, version_of_file, OpType, Operation, Status, Template,
};
use crate::error::{Code, Error, Result};
use crate::host::{ByteStream, PowerState};
use crate::service::task::TaskHandle;
use crate::service::template::sagas::TemplateSave;
use crate::service::Services;

/// A finished download: where the file is and the URL that serves it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Export {
    pub path: String,
    pub url: String,
    pub size: u64,
}

impl Services {
    /// Publishes the working state as a new version. The template is shut
    /// down first (its overlay must be quiet); desktops keep running on the
    /// files they use, which are never rewritten.
    pub async fn template_save(
        self: &Arc<Self>,
        uuid: &Uuid,
        remark: &str,
        task: &TaskHandle,
    ) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        if t.status == Status::Installing {
            return Err(Error::new(
                Code::TemplateBusy,
                format!(
                    "Template `{}` is installing from an ISO; use iso_save",
                    t.name
                ),
            ));
        }
        self.template_save_locked(t, remark, None, task).await
    }

    /// Completes an ISO installation: ejects the ISO and publishes version 1.
    pub async fn template_iso_save(
        self: &Arc<Self>,
        uuid: &Uuid,
        task: &TaskHandle,
    ) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        if t.status != Status::Installing {
            return Err(Error::new(
                Code::TemplateBusy,
                format!(
                    "Template `{}` was not installed from an ISO, or is saved already",
                    t.name
                ),
            ));
        }
        self.template_save_locked(t, "installed from ISO", Some(()), task)
            .await
    }

    async fn template_save_locked(
        self: &Arc<Self>,
        t: Template,
        remark: &str,
        iso_done: Option<()>,
        task: &TaskHandle,
    ) -> Result<Template> {
        let mut saga = TemplateSave::new(t, remark, iso_done.is_some());
        self.saga_run(&mut saga, task).await?;
        let saved = saga.template()?;
        if iso_done.is_some() {
            self.template_define(&saved).await?;
        }
        task.progress(80, &format!("version {} saved", saved.version));
        let trimmed = self.template_trim(saved).await?;
        self.template_usage_note(&trimmed).await;
        self.template_sync_nodes(&trimmed);
        Ok(trimmed)
    }

    /// Merges away the oldest versions beyond the kept number: each child
    /// is rebased onto the dropped version's parent (the guest sees the
    /// same disk), then the record forgets it, then its files go.
    pub(crate) async fn template_trim(&self, mut t: Template) -> Result<Template> {
        let keep = self.settings.template_versions_keep;
        let held = self.template_versions_held(&t.uuid)?;
        while let Some((drop, parent)) = trim_candidate(&t.versions, t.version, keep, &held) {
            let kids = children(&t.versions, drop);
            let base = match t.base_image {
                Some(b) => Some(self.store.image_get(&b)?.path),
                None => None,
            };
            for d in &t.disks {
                let below: Option<PathBuf> = if parent > 0 {
                    Some(d.version_file(parent))
                } else if d.is_system() {
                    base.clone()
                } else {
                    None
                };
                for k in &kids {
                    self.disks
                        .rebase(&d.version_file(*k), below.as_deref())
                        .await?;
                }
            }
            t = self.store.template_update(&t.uuid, &|mut x| {
                x.versions.retain(|v| v.number != drop);
                for v in x.versions.iter_mut().filter(|v| v.parent == drop) {
                    v.parent = parent;
                }
                Ok(x)
            })?;
            self.store.flush().await?;
            for d in &t.disks {
                self.disks.remove(&d.version_file(drop)).await?;
            }
            let files: Vec<PathBuf> = t.disks.iter().map(|d| d.version_file(drop)).collect();
            self.nodes_files_forget(&t.pool, &files).await;
        }
        Ok(t)
    }

    /// Versions desktop overlays of this template sit on: trimming one
    /// would pull the backing file from under a desktop's disk.
    pub(crate) fn template_versions_held(
        &self,
        tpl: &Uuid,
    ) -> Result<std::collections::BTreeSet<u32>> {
        let mut held = std::collections::BTreeSet::new();
        for g in self.store.desktop_group_list()? {
            if g.template == *tpl {
                for d in self.store.desktops_of(&g.uuid)? {
                    held.extend(d.disks.iter().map(|x| x.version));
                }
            }
        }
        Ok(held)
    }

    /// Goes back to kept version `n`: unsaved edits are discarded and a
    /// fresh overlay sits on `n`; newer versions stay until trimmed.
    /// Goes back to kept version `n`. `current`, when given, is the version
    /// the caller saw as current: a template that moved on since refuses.
    pub async fn template_rollback(
        self: &Arc<Self>,
        uuid: &Uuid,
        n: u32,
        current: Option<u32>,
    ) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        if let Some(c) = current.filter(|c| *c != t.version) {
            return Err(Error::new(
                Code::VersionStale,
                format!(
                    "Field `cur_version`: template `{}` is at version {}, not {c}; reload and retry",
                    t.name, t.version
                ),
            ));
        }
        if n == 0 {
            // File 001 sends 0 when the template has a single version.
            return Err(Error::new(
                Code::VersionNotFound,
                format!(
                    "Template `{}` has no earlier version to roll back to (version 0 is the state before its first)",
                    t.name
                ),
            ));
        }
        if !t.has_version(n) {
            let kept: Vec<String> = t.versions.iter().map(|v| v.number.to_string()).collect();
            return Err(Error::new(
                Code::VersionNotFound,
                format!(
                    "Template `{}` keeps versions {}, not {n}",
                    t.name,
                    kept.join(", ")
                ),
            ));
        }
        self.template_halt(&t, false).await?;
        for d in &t.disks {
            let fresh = d.dir.join("work.new.qcow2");
            self.disks
                .create(&fresh, 0, Some(&d.version_file(n)))
                .await?;
            self.disks.rename(&fresh, &d.work_file()).await?;
        }
        let t = self.store.template_update(uuid, &|mut x| {
            x.version = n;
            x.ops.push(Operation {
                uuid: Uuid::new_v4(),
                version: n,
                remark: format!("rolled back to version {n}"),
                op_type: OpType::Rollback,
                at: self.now_ms(),
            });
            x.updated_at = self.now_ms();
            Ok(x)
        })?;
        self.store.flush().await?;
        self.template_usage_note(&t).await;
        Ok(t)
    }

    /// The directory exported images go to.
    pub fn template_export_dir(&self) -> Result<PathBuf> {
        self.role_dir(Role::TemplateSystem, "instances/_export")
    }

    /// Flattens the current version of the system disk into a standalone
    /// qcow2 in the export directory.
    pub async fn template_download(
        self: &Arc<Self>,
        uuid: &Uuid,
        task: &TaskHandle,
    ) -> Result<Export> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        if t.version == 0 {
            return Err(Error::new(
                Code::TemplateBusy,
                format!("Template `{}` has no saved version to download", t.name),
            ));
        }
        let sys = t
            .disks
            .iter()
            .find(|d| d.is_system())
            .ok_or_else(|| Error::internal("template without a system disk"))?;
        let dir = self.template_export_dir()?;
        self.disks.mkdir(&dir).await?;
        let name = export_name(&t.name, self.now_ms(), t.vcpu, t.ram_mb, t.system_size_gb());
        let path = dir.join(&name);
        task.progress(10, "flattening the system disk");
        self.disks
            .convert(&sys.version_file(t.version), &path, None)
            .await?;
        let size = self
            .disks
            .info(&path)
            .await
            .map(|i| i.actual_size)
            .unwrap_or(0);
        Ok(Export {
            url: format!("/api/v1/template/download?path={}", path.display()),
            path: path.to_string_lossy().into_owned(),
            size,
        })
    }

    /// A file in the export directory, for streaming out; anything else is
    /// refused.
    pub fn template_export_file(&self, path: &str) -> Result<PathBuf> {
        let dir = self.template_export_dir()?;
        let p = Path::new(path);
        let name = p
            .file_name()
            .ok_or_else(|| Error::invalid("path", "names no file"))?;
        if p.parent() != Some(dir.as_path()) || path.contains("..") {
            return Err(Error::invalid("path", "is not an exported template image"));
        }
        Ok(dir.join(name))
    }

    /// Opens an exported image for streaming: its length, bytes and file
    /// name. A missing file is `ExportNotFound` naming the file alone; no
    /// error carries the server's directories.
    pub async fn template_export_open(&self, path: &str) -> Result<(u64, ByteStream, String)> {
        let p = self.template_export_file(path)?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let gone = || {
            Error::new(
                Code::ExportNotFound,
                format!(
                    "No exported template image `{}`; export the template again",
                    crate::domain::text::clip(&name, 80)
                ),
            )
        };
        if !self.disks.exists(&p).await.unwrap_or(false) {
            return Err(gone());
        }
        match self.disks.open_read(&p, 0).await {
            Ok((len, bytes)) => Ok((len, bytes, name)),
            // Removed between the look and the open.
            Err(_) if !self.disks.exists(&p).await.unwrap_or(false) => Err(gone()),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// After a crash (and after the sagas' recovery, which undoes an
    /// interrupted save): stray version files, and files and domains of
    /// deleted templates, are removed, and every template's domain is
    /// defined again from its record.
    pub async fn template_recover(self: &Arc<Self>) -> Result<()> {
        let templates = self.store.template_list()?;
        for t in &templates {
            let max = t.versions.iter().map(|v| v.number).max().unwrap_or(0);
            for d in &t.disks {
                for name in self.disks.list_dir(&d.dir).await? {
                    let Some(n) = version_of_file(&name) else {
                        if name.ends_with(".new.qcow2") {
                            self.disks.remove(&d.dir.join(name)).await?;
                        }
                        continue;
                    };
                    if t.has_version(n) {
                        continue;
                    }
                    // (A newer unrecorded version is an interrupted save's,
                    // which its saga undid before this runs.)
                    if n < max {
                        self.disks.remove(&d.dir.join(&name)).await?;
                    }
                }
            }
            if let Err(e) = self.template_define(t).await {
                log::warn!("template {}: cannot define its domain: {e}", t.name);
            }
        }
        // Disk use is measured in the background (qemu-img per file): the
        // service is ready before it is done.
        let (s, list) = (self.clone(), templates.clone());
        (self.tasks_spawner())(Box::pin(async move {
            for t in &list {
                s.template_usage_note(t).await;
            }
        }));
        // Domains and directories of templates that no longer exist.
        let known: std::collections::HashSet<Uuid> = templates.iter().map(|t| t.uuid).collect();
        if let Ok(domains) = self.hypervisor.list().await {
            for (u, name) in domains {
                if name.starts_with("vdi-tpl-") && !known.contains(&u) {
                    if self.hypervisor.state(u).await.ok().flatten() == Some(PowerState::Running) {
                        continue;
                    }
                    log::warn!("removing domain {name} of a template that does not exist");
                    let _ = self.hypervisor.undefine(u).await;
                }
            }
        }
        for (role, sub) in [
            (Role::TemplateSystem, "instances/_base"),
            (Role::TemplateData, "datas/_base"),
        ] {
            let Ok(dir) = self.role_dir(role, sub) else {
                continue;
            };
            for name in self.disks.list_dir(&dir).await? {
                let Some(id) = name
                    .strip_prefix("tpl-")
                    .and_then(|x| Uuid::parse_str(x).ok())
                else {
                    continue;
                };
                if !known.contains(&id) {
                    log::warn!("removing files of template {id} that does not exist");
                    self.disks.remove(&dir.join(name)).await?;
                }
            }
        }
        self.store.flush().await?;
        Ok(())
    }
}
