//! Base images and template versions on the pool's joined nodes: what a
//! node must hold (every base image of its pool, every template's current
//! version with its backing chain), sending it (the node pulls, md5
//! verified), and the record of which nodes hold each base image.

use std::path::PathBuf;
use std::sync::Arc;

use uuid::Uuid;

use serde::{Deserialize, Serialize};

use crate::domain::image::BaseImage;
use crate::error::{Code, Error, Result};
use crate::service::node::pull::Wanted;
use crate::service::saga::{Checkpoint, Saga};
use crate::service::task::TaskHandle;
use crate::service::{Actor, Services};

/// A base image as its operations answer it (and as listings show it).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ImageSummary {
    pub uuid: String,
    pub name: String,
    pub pool_uuid: String,
    pub os_type: String,
    pub path: String,
    pub md5_sum: String,
    pub size: u64,
    pub virtual_size_gb: f64,
    pub nodes: Vec<String>,
    pub created_at: String,
}

impl ImageSummary {
    pub fn of(i: &BaseImage) -> ImageSummary {
        ImageSummary {
            uuid: i.uuid.to_string(),
            name: i.name.clone(),
            pool_uuid: i.pool.to_string(),
            os_type: i.os_type.clone(),
            path: i.path.to_string_lossy().into_owned(),
            md5_sum: i.md5.clone(),
            size: i.size,
            virtual_size_gb: i.virtual_size as f64 / (1u64 << 30) as f64,
            nodes: i.nodes.iter().map(|u| u.to_string()).collect(),
            created_at: crate::domain::clock::format_utc(i.created_at),
        }
    }
}

impl Services {
    /// Joined nodes of `pool` (not this host).
    pub(crate) fn pool_joined_nodes(&self, pool: &Uuid) -> Result<Vec<Uuid>> {
        let local = self.store.local_node()?;
        let mut out = Vec::new();
        for n in self.store.node_list()? {
            if n.pool == Some(*pool)
                && Some(n.uuid) != local
                && self.store.node_link_get(&n.uuid)?.is_some()
            {
                out.push(n.uuid);
            }
        }
        Ok(out)
    }

    /// Every file a node of `pool` must hold: the base images, then each
    /// template's current version chain.
    pub(crate) async fn pool_files(&self, pool: &Uuid) -> Result<Vec<Wanted>> {
        let mut out: Vec<Wanted> = Vec::new();
        for img in self.store.image_list()? {
            if img.pool == *pool {
                out.push(Wanted {
                    path: img.path.clone(),
                    md5: img.md5.clone(),
                });
            }
        }
        for t in self.store.template_list()? {
            if t.pool != *pool || t.version == 0 {
                continue;
            }
            for d in &t.disks {
                for w in self.file_wanted(&d.version_file(t.version)).await? {
                    if !out.iter().any(|x| x.path == w.path) {
                        out.push(w);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Records that `node` holds the base images among `files`.
    pub(crate) fn images_mark_held(&self, node: &Uuid, files: &[Wanted], held: bool) -> Result<()> {
        for img in self.store.image_list()? {
            if !files.iter().any(|f| f.path == img.path) {
                continue;
            }
            self.store.image_update(&img.uuid, &|mut i| {
                i.nodes.retain(|n| n != node);
                if held {
                    i.nodes.push(*node);
                }
                Ok(i)
            })?;
        }
        Ok(())
    }

    /// Sends one base image to the given nodes (every joined node of its
    /// pool when `only` is `None`), recording each copy, as a saga. Answers the image as recorded afterwards; the first
    /// failure ends it, the copies made stay recorded.
    pub async fn base_image_distribute(
        self: &Arc<Self>,
        uuid: &Uuid,
        only: Option<Uuid>,
        verify: bool,
        task: &TaskHandle,
    ) -> Result<BaseImage> {
        let mut saga = ImageDistribute {
            f: DistributeFacts {
                image: *uuid,
                only,
                verify,
                ..Default::default()
            },
        };
        self.saga_run(&mut saga, task).await?;
        self.store.image_get(uuid)
    }

    /// A newly recorded image goes on to the pool's joined nodes as a
    /// task, whose id is returned; a distribution that cannot start is
    /// logged (retransmit sends it later), not a failure of the upload.
    pub async fn base_image_distribute_new(
        self: &Arc<Self>,
        actor: &Actor,
        img: BaseImage,
    ) -> (BaseImage, Option<Uuid>) {
        match self.base_image_distribute_start(actor, &img.uuid).await {
            Ok(task) => (img, task),
            Err(e) => {
                log::warn!("base image `{}`: not sent to the nodes: {e}", img.name);
                (img, None)
            }
        }
    }

    /// `base_image/upload`: the streamed file recorded, then distributed.
    pub async fn base_image_upload_distributed(
        self: &Arc<Self>,
        actor: &Actor,
        meta: crate::service::image::ImageMeta,
        body: crate::host::ByteStream,
        declared: Option<u64>,
    ) -> Result<(BaseImage, Option<Uuid>)> {
        let img = self.base_image_upload(actor, meta, body, declared).await?;
        Ok(self.base_image_distribute_new(actor, img).await)
    }

    /// `resource_pool/images/upload`: a file on the storage registered,
    /// then distributed.
    pub async fn base_image_register_distributed(
        self: &Arc<Self>,
        actor: &Actor,
        meta: crate::service::image::ImageMeta,
        uuid: Uuid,
        path: std::path::PathBuf,
    ) -> Result<(BaseImage, Option<Uuid>)> {
        let img = self.base_image_register(actor, meta, uuid, path).await?;
        Ok(self.base_image_distribute_new(actor, img).await)
    }

    /// After an upload or registration: a task copies the image to every
    /// joined node of its pool; its id, or `None` when there is none.
    pub async fn base_image_distribute_start(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
    ) -> Result<Option<Uuid>> {
        let img = self.store.image_get(uuid)?;
        if self.pool_joined_nodes(&img.pool)?.is_empty() {
            return Ok(None);
        }
        let (me, id) = (self.clone(), *uuid);
        let r = self
            .task_run(actor, "image/distribute", &img.name, false, move |h| {
                Box::pin(async move {
                    me.base_image_distribute(&id, None, false, &h)
                        .await
                        .map(|i| i.nodes.len())
                })
            })
            .await?;
        Ok(match r {
            crate::service::task::Ran::Queued(id) | crate::service::task::Ran::Done(id, _) => {
                Some(id)
            }
        })
    }

    /// `resource_pool/images/retransmit`: the image's copy on one node (or
    /// on every node of its pool) is checked and pulled again when it is
    /// missing or damaged; this host's own copy is verified.
    /// `resource_pool/images/retransmit` as the API starts it: a task.
    pub async fn base_image_retransmit_task(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        node: Option<Uuid>,
        wait: bool,
    ) -> Result<(String, crate::service::task::Ran<ImageSummary>)> {
        let img = self.base_image_get(uuid)?;
        let (s, who, uuid) = (self.clone(), actor.clone(), *uuid);
        let r = self
            .task_run(actor, "image/retransmit", &img.name, wait, move |h| {
                Box::pin(async move {
                    s.base_image_retransmit(&who, &uuid, node, &h)
                        .await
                        .map(|i| ImageSummary::of(&i))
                })
            })
            .await?;
        Ok((img.name, r))
    }

    pub async fn base_image_retransmit(
        self: &Arc<Self>,
        _actor: &Actor,
        uuid: &Uuid,
        node: Option<Uuid>,
        task: &TaskHandle,
    ) -> Result<BaseImage> {
        let img = self.store.image_get(uuid)?;
        let local = self.store.local_node()?;
        if let Some(n) = node {
            let rec = self.store.node_get(&n)?;
            if rec.pool != Some(img.pool) && Some(n) != local {
                return Err(Error::invalid(
                    "host_uuid",
                    format!(
                        "node `{}` is not in the pool of base image `{}`",
                        rec.name, img.name
                    ),
                ));
            }
        }
        if node.is_none() || node == local {
            let md5 = self.disks.md5(&img.path).await?;
            if md5 != img.md5 {
                return Err(Error::new(
                    Code::ImageMd5Mismatch,
                    format!(
                        "The controller's copy of `{}` is damaged (its md5 is not the recorded {}); upload it again",
                        img.name, img.md5
                    ),
                ));
            }
            if node == local {
                return Ok(img);
            }
        }
        self.base_image_distribute(uuid, node, true, task).await
    }

    /// After a template save: the pool's joined nodes that are up pull the
    /// new version in the background (a node that misses it pulls it when
    /// a desktop there needs it).
    pub(crate) fn template_sync_nodes(self: &Arc<Self>, t: &crate::domain::template::Template) {
        let (me, t) = (self.clone(), t.clone());
        (self.tasks_spawner())(Box::pin(async move {
            let now = me.now_ms();
            let nodes: Vec<Uuid> = match me.pool_joined_nodes(&t.pool) {
                Ok(n) => n
                    .into_iter()
                    .filter(|n| me.monitor_node_up(n, now).unwrap_or(false))
                    .collect(),
                Err(_) => return,
            };
            if nodes.is_empty() {
                return;
            }
            let mut files = Vec::new();
            for d in &t.disks {
                match me.file_wanted(&d.version_file(t.version)).await {
                    Ok(w) => files.extend(w),
                    Err(e) => {
                        log::warn!(
                            "template `{}`: version {} not sent to nodes: {e}",
                            t.name,
                            t.version
                        );
                        return;
                    }
                }
            }
            for n in nodes {
                if let Err(e) = me.node_files_send(&n, &files, false, None).await {
                    log::warn!(
                        "template `{}` version {}: {e}; the node pulls it when a desktop needs it",
                        t.name,
                        t.version
                    );
                }
            }
        }));
    }

    /// Removes files (or directories) from the pool's joined nodes that are
    /// up, after they went here; a node that is down keeps its copy
    /// (logged).
    pub(crate) async fn nodes_files_forget(&self, pool: &Uuid, paths: &[PathBuf]) {
        let now = self.now_ms();
        let Ok(nodes) = self.pool_joined_nodes(pool) else {
            return;
        };
        for n in nodes {
            let r = if self.monitor_node_up(&n, now).unwrap_or(false) {
                self.node_files_remove(&n, paths).await
            } else {
                Err(Error::new(Code::NodeUnreachable, "the node is down"))
            };
            if let Err(e) = r {
                log::warn!("node {n} keeps {} file(s) deleted here: {e}", paths.len());
            }
        }
    }

    /// Removes files from a node (the undo of a join's sends).
    pub(crate) async fn node_files_remove(&self, node: &Uuid, files: &[PathBuf]) -> Result<()> {
        let disks = self.dk(node)?;
        for f in files.iter().rev() {
            disks.remove(f).await?;
        }
        Ok(())
    }
}

/// What the journal keeps of a distribution: the image, the nodes chosen,
/// and those that hold it already.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct DistributeFacts {
    pub image: Uuid,
    pub only: Option<Uuid>,
    pub verify: bool,
    pub nodes: Vec<Uuid>,
    pub sent: Vec<Uuid>,
}

/// `image/distribute` (and retransmit): choose the nodes, then send the
/// image to each and record its copy (journalled node by node). Copies are
/// never taken back: after a failure or a restart the task names what is
/// left, and a retransmit sends it.
pub struct ImageDistribute {
    f: DistributeFacts,
}

impl Saga for ImageDistribute {
    type Facts = DistributeFacts;
    const KIND: &'static str = "image/distribute";
    const STEPS: &'static [&'static str] = &["plan", "send"];

    fn facts(&self) -> &DistributeFacts {
        &self.f
    }

    fn resumed(f: DistributeFacts) -> Self {
        ImageDistribute { f }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        cp: &mut Checkpoint,
    ) -> Result<()> {
        let img = s.store.image_get(&self.f.image)?;
        if step == "plan" {
            self.f.nodes = match self.f.only {
                Some(n) => vec![n],
                None => s.pool_joined_nodes(&img.pool)?,
            };
            return Ok(());
        }
        let files = [Wanted {
            path: img.path.clone(),
            md5: img.md5.clone(),
        }];
        let total = self.f.nodes.len().max(1);
        for (i, n) in self.f.nodes.clone().iter().enumerate() {
            if self.f.sent.contains(n) {
                continue;
            }
            let from = (i * 100 / total) as u8;
            let to = ((i + 1) * 100 / total).min(99) as u8;
            s.node_files_send(n, &files, self.f.verify, Some((task, from, to)))
                .await?;
            s.images_mark_held(n, &files, true)?;
            self.f.sent.push(*n);
            cp.save(&self.f).await?;
        }
        Ok(())
    }

    /// Nothing to take back: a copy that arrived is recorded and kept.
    async fn undo(&self, _s: &Arc<Services>, _step: &'static str) -> Result<()> {
        Ok(())
    }
}
