//! Base images and ISOs: streamed uploads (md5 on the way, `qemu-img info`
//! to validate), registering an image already on disk, the per-node copy,
//! and deletion refused while templates use them.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::{Actor, Services};
use crate::domain::clock::now_ms;
use crate::domain::image::{BaseImage, Iso};
use crate::domain::storage::{storage_root, Role};
use crate::error::{Code, Error, Result};
use crate::host::ByteStream;

/// What an upload or a registration says about the image.
#[derive(Clone, Debug, Default)]
pub struct ImageMeta {
    pub name: String,
    pub pool: Option<Uuid>,
    pub os_type: String,
    /// The md5 the caller expects (checked when given).
    pub md5: Option<String>,
}

impl Services {
    /// The directory of `role`'s `sub` on this node (`instances/_base`, …).
    pub(crate) fn role_dir(&self, role: Role, sub: &str) -> Result<PathBuf> {
        let local = self.store.local_node()?.ok_or_else(|| {
            Error::new(
                Code::ControllerNotInitialised,
                "The controller is not initialised yet",
            )
        })?;
        let st = self
            .store
            .storage_list()?
            .into_iter()
            .find(|s| s.node == local && s.roles.has(role))
            .ok_or_else(|| {
                Error::new(
                    Code::NoStorage,
                    format!(
                        "No storage of this node has role {} ({})",
                        role.number(),
                        role.describe()
                    ),
                )
            })?;
        let root = if st.root.is_empty() {
            storage_root(&st.mount)
        } else {
            PathBuf::from(&st.root)
        };
        Ok(root.join(sub))
    }

    fn md5_matches(want: &Option<String>, got: &str) -> Result<()> {
        match want {
            Some(w) if !w.trim().eq_ignore_ascii_case(got) => Err(Error::new(
                Code::ImageMd5Mismatch,
                format!("Field `md5_sum`: the file's md5 is {got}, not {}", w.trim()),
            )),
            _ => Ok(()),
        }
    }

    /// Checks the file is a qcow2 image; returns its virtual size.
    async fn image_validate(&self, path: &Path) -> Result<u64> {
        let info = self.disks.info(path).await.map_err(|e| {
            Error::new(
                Code::ImageInvalid,
                format!(
                    "The file is not a disk image qemu-img can read: {}",
                    e.message
                ),
            )
        })?;
        if info.format != "qcow2" {
            return Err(Error::new(
                Code::ImageInvalid,
                format!("The image is {}, not qcow2", info.format),
            ));
        }
        if info.backing.is_some() {
            return Err(Error::new(
                Code::ImageInvalid,
                "The image has a backing file; upload a standalone image",
            ));
        }
        Ok(info.virtual_size)
    }

    async fn image_record(
        &self,
        meta: &ImageMeta,
        uuid: Uuid,
        path: PathBuf,
        md5: String,
        size: u64,
    ) -> Result<BaseImage> {
        let virtual_size = self.image_validate(&path).await?;
        let img = BaseImage {
            uuid,
            seq: self.store.sequence_next()?,
            name: meta.name.clone(),
            pool: self.resource_pool_or_default(meta.pool)?,
            os_type: meta.os_type.clone(),
            path,
            md5,
            size,
            virtual_size,
            nodes: self.store.local_node()?.into_iter().collect(),
            created_at: now_ms(),
        };
        self.store.image_insert(&img)?;
        self.store.flush().await?;
        Ok(img)
    }

    /// Streams an upload into role-1 storage `instances/_base/<uuid>`; on
    /// any failure the file is gone again.
    pub async fn base_image_upload(
        &self,
        _actor: &Actor,
        meta: ImageMeta,
        body: ByteStream,
    ) -> Result<BaseImage> {
        self.resource_pool_or_default(meta.pool)?;
        let dir = self.role_dir(Role::TemplateSystem, "instances/_base")?;
        self.disks.mkdir(&dir).await?;
        let uuid = Uuid::new_v4();
        let path = dir.join(uuid.to_string());
        let w = self
            .disks
            .write_stream(&path, body, self.settings.upload_limit)
            .await?;
        let r = async {
            Self::md5_matches(&meta.md5, &w.md5)?;
            self.image_record(&meta, uuid, path.clone(), w.md5.clone(), w.bytes)
                .await
        }
        .await;
        if r.is_err() {
            let _ = self.disks.remove(&path).await;
        }
        r
    }

    /// Registers an image already on this node (file 000
    /// `resource_pool/images/upload`), verifying its md5.
    pub async fn base_image_register(
        &self,
        _actor: &Actor,
        meta: ImageMeta,
        uuid: Uuid,
        path: PathBuf,
    ) -> Result<BaseImage> {
        if !path.is_absolute() {
            return Err(Error::invalid("image_path", "must be an absolute path"));
        }
        if !self.disks.exists(&path).await? {
            return Err(Error::invalid(
                "image_path",
                format!("{} does not exist on this node", path.display()),
            ));
        }
        if self.store.image_get(&uuid).is_ok() {
            return Err(Error::new(
                Code::ImageNameExists,
                format!("Base image {uuid} is already registered"),
            ));
        }
        let md5 = self.disks.md5(&path).await?;
        Self::md5_matches(&meta.md5, &md5)?;
        let info = self.disks.info(&path).await.ok();
        let size = info.map(|i| i.actual_size).unwrap_or(0);
        self.image_record(&meta, uuid, path, md5, size).await
    }

    pub async fn base_image_delete(&self, _actor: &Actor, uuid: &Uuid) -> Result<BaseImage> {
        let img = self.store.image_delete(uuid)?;
        self.store.flush().await?;
        if let Err(e) = self.disks.remove(&img.path).await {
            log::warn!("base image {} deleted, but its file stays: {e}", img.uuid);
        }
        self.nodes_files_forget(&img.pool, std::slice::from_ref(&img.path))
            .await;
        Ok(img)
    }

    pub fn base_image_list(&self) -> Result<Vec<BaseImage>> {
        self.store.image_list()
    }

    pub fn base_image_get(&self, uuid: &Uuid) -> Result<BaseImage> {
        self.store.image_get(uuid)
    }

    /// Streams an ISO into role-1 storage `instances/_iso/<uuid>.iso`.
    pub async fn iso_upload(
        &self,
        _actor: &Actor,
        meta: ImageMeta,
        body: ByteStream,
    ) -> Result<Iso> {
        let dir = self.role_dir(Role::TemplateSystem, "instances/_iso")?;
        self.disks.mkdir(&dir).await?;
        let uuid = Uuid::new_v4();
        let path = dir.join(format!("{uuid}.iso"));
        let w = self
            .disks
            .write_stream(&path, body, self.settings.upload_limit)
            .await?;
        let r = async {
            Self::md5_matches(&meta.md5, &w.md5)?;
            if w.bytes == 0 {
                return Err(Error::new(Code::ImageInvalid, "The ISO is empty"));
            }
            let iso = Iso {
                uuid,
                seq: self.store.sequence_next()?,
                name: meta.name.clone(),
                os_type: meta.os_type.clone(),
                path: path.clone(),
                md5: w.md5.clone(),
                size: w.bytes,
                created_at: now_ms(),
            };
            self.store.iso_insert(&iso)?;
            self.store.flush().await?;
            Ok(iso)
        }
        .await;
        if r.is_err() {
            let _ = self.disks.remove(&path).await;
        }
        r
    }

    pub async fn iso_delete(&self, _actor: &Actor, uuid: &Uuid) -> Result<Iso> {
        let iso = self.store.iso_delete(uuid)?;
        self.store.flush().await?;
        if let Err(e) = self.disks.remove(&iso.path).await {
            log::warn!("ISO {} deleted, but its file stays: {e}", iso.uuid);
        }
        Ok(iso)
    }

    pub fn iso_list(&self) -> Result<Vec<Iso>> {
        self.store.iso_list()
    }

    pub fn iso_get(&self, uuid: &Uuid) -> Result<Iso> {
        self.store.iso_get(uuid)
    }
}
