//! Template sagas. Making one, from a base image or an ISO
//! (`template/create`) or from another template's current version
//! (`template/copy`): its address, its disks, version 1, its domain, its
//! record; each step's undo takes back what it made, the address only when
//! this saga took it. Saving one (`template/save`, `iso_save`): marked
//! updating, shut down, its overlays published as a version, recorded.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::template::{OpType, Status, Template};
use crate::error::{Error, Kind, Result};
use crate::host::PowerOp;
use crate::service::saga::{Checkpoint, Saga};
use crate::service::task::TaskHandle;
use crate::service::template::GB;
use crate::service::Services;

/// Where the new template's disks come from.
pub enum Source {
    /// A base image (or empty disks for an ISO installation).
    New,
    /// The current version of another template.
    Copy(Box<Template>),
}

/// What the journal keeps: the template's uuid, its pool, the directories
/// its disks go in (new, named by its uuid) and the address it took.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct MakeFacts {
    pub template: Uuid,
    pub pool: Uuid,
    pub dirs: Vec<PathBuf>,
    pub address: Option<(Uuid, Ipv4Addr)>,
}

pub struct TemplateMake {
    f: MakeFacts,
    t: Option<Template>,
    source: Source,
}

impl TemplateMake {
    pub fn new(t: Template, source: Source) -> Self {
        let dirs = t
            .disks
            .iter()
            .filter_map(|d| d.dir.parent().map(PathBuf::from))
            .collect();
        TemplateMake {
            f: MakeFacts {
                template: t.uuid,
                pool: t.pool,
                dirs,
                address: None,
            },
            t: Some(t),
            source,
        }
    }

    fn plan(&mut self) -> Result<&mut Template> {
        self.t
            .as_mut()
            .ok_or_else(|| Error::internal("template/make: no plan after a restart"))
    }

    /// The template made (once the saga succeeded).
    pub fn template(self) -> Result<Template> {
        self.t
            .ok_or_else(|| Error::internal("template/make ended without a template"))
    }
}

impl Saga for TemplateMake {
    type Facts = MakeFacts;
    const KIND: &'static str = "template/make";
    const STEPS: &'static [&'static str] = &["address", "disks", "publish", "define", "record"];

    fn facts(&self) -> &MakeFacts {
        &self.f
    }

    fn resumed(f: MakeFacts) -> Self {
        TemplateMake {
            f,
            t: None,
            source: Source::New,
        }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        cp: &mut Checkpoint,
    ) -> Result<()> {
        match step {
            "address" => {
                let t = self.plan()?;
                if let Some(subnet) = t.subnet {
                    let ip = s.template_ip(&subnet, &t.uuid, t.bind_ip)?;
                    t.bind_ip = Some(ip);
                    self.f.address = Some((subnet, ip));
                    cp.save(&self.f).await?;
                }
                task.progress(10, "address allocated");
            }
            "disks" => {
                let t = self.plan()?.clone();
                match &self.source {
                    Source::New => {
                        let base = match t.base_image {
                            Some(b) => Some(s.store.image_get(&b)?.path),
                            None => None,
                        };
                        for d in &t.disks {
                            s.disks.mkdir(&d.dir).await?;
                            let size = d.size_gb as u64 * GB;
                            let backing = if d.is_system() { base.as_deref() } else { None };
                            s.disks.create(&d.work_file(), size, backing).await?;
                        }
                        task.progress(50, "disks created");
                    }
                    Source::Copy(src) => {
                        let base = match src.base_image {
                            Some(b) => Some(s.store.image_get(&b)?.path),
                            None => None,
                        };
                        let n = src.disks.len().max(1);
                        for (i, (from, to)) in src.disks.iter().zip(t.disks.iter()).enumerate() {
                            s.disks.mkdir(&to.dir).await?;
                            let backing = if from.is_system() {
                                base.as_deref()
                            } else {
                                None
                            };
                            s.disks
                                .convert(&from.version_file(src.version), &to.work_file(), backing)
                                .await?;
                            task.progress((10 + 60 * (i + 1) / n) as u8, "disk copied");
                        }
                    }
                }
            }
            "publish" => {
                let remark = match &self.source {
                    Source::New => "created".to_string(),
                    Source::Copy(src) => format!("copied from {}", src.name),
                };
                let t = self.plan()?;
                // The state as made is version 1: the working overlay
                // becomes it and a new overlay goes on top (an ISO
                // installation publishes when it is saved).
                if t.status != Status::Installing {
                    let mut next = t.clone();
                    s.template_publish(&mut next, &remark, OpType::Update)
                        .await?;
                    *self.plan()? = next;
                }
            }
            "define" => {
                let t = self.plan()?.clone();
                s.template_define(&t).await?;
                task.progress(70, "domain defined");
            }
            _ => {
                let t = self.plan()?.clone();
                s.store.template_insert(&t)?;
                s.store.flush().await?;
            }
        }
        Ok(())
    }

    async fn undo(&self, s: &Arc<Services>, step: &'static str) -> Result<()> {
        let uuid = self.f.template;
        match step {
            "record" => match s.store.template_delete(&uuid) {
                Err(e) if e.code.kind() == Kind::NotFound => Ok(()),
                r => r.map(|_| ()),
            }
            .and(s.store.flush().await),
            "define" => match s.hypervisor.state(uuid).await? {
                None => Ok(()),
                Some(_) => s.hypervisor.undefine(uuid).await,
            },
            "disks" => {
                for dir in &self.f.dirs {
                    s.disks.remove(dir).await?;
                }
                s.nodes_files_forget(&self.f.pool, &self.f.dirs).await;
                Ok(())
            }
            "address" => match self.f.address {
                Some((subnet, ip)) => match s.store.ip_release(&subnet, ip) {
                    Err(e) if e.code.kind() == Kind::NotFound => Ok(()),
                    r => r,
                },
                None => Ok(()),
            },
            // publish writes only inside the disks' directories.
            _ => Ok(()),
        }
    }
}

impl Services {
    /// Makes a planned template (`template/create`), then starts it when
    /// asked; a failure undoes everything made.
    pub async fn template_create_run(
        self: &Arc<Self>,
        t: Template,
        power_on: bool,
        task: &TaskHandle,
    ) -> Result<Template> {
        let mut saga = TemplateMake::new(t, Source::New);
        self.saga_run(&mut saga, task).await?;
        let t = saga.template()?;
        self.template_usage_note(&t).await;
        if power_on {
            self.hypervisor.power(t.uuid, PowerOp::Start).await?;
        }
        task.progress(100, "template ready");
        Ok(t)
    }

    /// Makes a planned copy of `src` (`template/copy`).
    pub async fn template_copy_run(
        self: &Arc<Self>,
        src: Template,
        t: Template,
        task: &TaskHandle,
    ) -> Result<Template> {
        let mut saga = TemplateMake::new(t, Source::Copy(Box::new(src)));
        self.saga_run(&mut saga, task).await?;
        let t = saga.template()?;
        self.template_usage_note(&t).await;
        Ok(t)
    }
}

/// What the journal keeps of a save: the template, its status and version
/// before, the version it publishes, and each disk's working overlay with
/// the version file it becomes.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct SaveFacts {
    pub template: Uuid,
    pub status_before: u8,
    pub version_before: u32,
    pub version: u32,
    pub files: Vec<(PathBuf, PathBuf)>,
}

/// `template/save` and `template/iso_save`: the template marked updating,
/// shut down, its working overlays published as a new version, recorded.
pub struct TemplateSave {
    f: SaveFacts,
    t: Option<Template>,
    remark: String,
    iso_done: bool,
}

impl TemplateSave {
    pub fn new(t: Template, remark: &str, iso_done: bool) -> Self {
        let n = t.next_version();
        TemplateSave {
            f: SaveFacts {
                template: t.uuid,
                status_before: t.status.tag(),
                version_before: t.version,
                version: n,
                files: t
                    .disks
                    .iter()
                    .map(|d| (d.work_file(), d.version_file(n)))
                    .collect(),
            },
            t: Some(t),
            remark: remark.into(),
            iso_done,
        }
    }

    /// The template as saved (once the saga succeeded).
    pub fn template(self) -> Result<Template> {
        self.t
            .ok_or_else(|| Error::internal("template/save ended without a template"))
    }

    fn current(&self) -> Result<Template> {
        self.t
            .clone()
            .ok_or_else(|| Error::internal("template/save: no template after a restart"))
    }
}

impl Saga for TemplateSave {
    type Facts = SaveFacts;
    const KIND: &'static str = "template/save";
    const STEPS: &'static [&'static str] = &["mark", "halt", "publish", "record"];

    fn facts(&self) -> &SaveFacts {
        &self.f
    }

    fn resumed(f: SaveFacts) -> Self {
        TemplateSave {
            f,
            t: None,
            remark: String::new(),
            iso_done: false,
        }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        _cp: &mut Checkpoint,
    ) -> Result<()> {
        let t = self.current()?;
        match step {
            "mark" => {
                s.store.template_update(&t.uuid, &|mut x| {
                    x.status = Status::Updating;
                    Ok(x)
                })?;
                s.store.flush().await?;
                task.progress(5, "template marked updating");
            }
            "halt" => {
                s.template_halt(&t, true).await?;
                task.progress(40, "template stopped");
            }
            "publish" => {
                let mut next = t;
                s.template_publish(&mut next, &self.remark, OpType::Update)
                    .await?;
                if self.iso_done {
                    next.iso = None;
                }
                next.status = Status::Active;
                self.t = Some(next);
            }
            _ => {
                let saved = s.store.template_update(&t.uuid, &|_| Ok(t.clone()))?;
                s.store.flush().await?;
                self.t = Some(saved);
            }
        }
        Ok(())
    }

    async fn undo(&self, s: &Arc<Services>, step: &'static str) -> Result<()> {
        let f = &self.f;
        let gone = |e: &Error| e.code.kind() == Kind::NotFound;
        match step {
            // The record back to the version before (if it got the new one).
            "record" => match s.store.template_update(&f.template, &|mut x| {
                if x.version == f.version {
                    x.versions.retain(|v| v.number != f.version);
                    x.ops.retain(|o| o.version != f.version);
                    x.version = f.version_before;
                }
                Ok(x)
            }) {
                Err(e) if gone(&e) => Ok(()),
                r => r.map(|_| ()),
            },
            // Each overlay published goes back to being the working one.
            "publish" => {
                for (work, version) in &f.files {
                    if s.disks.exists(version).await? {
                        s.disks.remove(work).await?;
                        s.disks.rename(version, work).await?;
                    }
                }
                Ok(())
            }
            "mark" => match s.store.template_update(&f.template, &|mut x| {
                x.status = Status::from_tag(f.status_before);
                Ok(x)
            }) {
                Err(e) if gone(&e) => Ok(()),
                r => r.map(|_| ()),
            }
            .and(s.store.flush().await),
            _ => Ok(()),
        }
    }
}
