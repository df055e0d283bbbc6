//! Base images and ISOs: streamed uploads (md5 on the way, the declared
//! length enforced, the qcow2 header read here then `qemu-img check` and
//! `info`; an ISO's signature), registering an image already in the base
//! image directory, and deletion that removes only files that are ours.

pub mod distribute;

use std::path::{Path, PathBuf};
use std::time::Duration;

use uuid::Uuid;

use super::{Actor, Services};
use crate::domain::image::{BaseImage, Iso};
use crate::domain::qcow2;
use crate::domain::storage::{storage_root, Role};
use crate::error::{Code, Error, Result};
use crate::host::{ByteStream, FileKind, Written};

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

    /// Compares the md5 the caller gave with the file's. The file's digest
    /// is named only when the caller sent the bytes (`reveal`): a file
    /// already on the host may be one the caller could not read.
    fn md5_matches(want: &Option<String>, got: &str, reveal: bool) -> Result<()> {
        match want {
            Some(w) if !w.trim().eq_ignore_ascii_case(got) => Err(Error::new(
                Code::ImageMd5Mismatch,
                if reveal {
                    format!(
                        "Field `md5_sum`: the upload's md5 is {got}, not {}",
                        w.trim()
                    )
                } else {
                    "Field `md5_sum`: does not match the file".to_string()
                },
            )),
            _ => Ok(()),
        }
    }

    /// Refuses a declared upload size over the limit before a byte is read.
    fn upload_declared_check(&self, declared: Option<u64>) -> Result<()> {
        match declared {
            Some(n) if n > self.settings.upload_limit => Err(Error::new(
                Code::UploadTooLarge,
                format!(
                    "The upload ({n} bytes) is larger than {} bytes",
                    self.settings.upload_limit
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Checks the file is a self-contained qcow2 image; returns its
    /// virtual size. Our own reading of the header comes first (no data
    /// file, no backing file, no `json:` name, not encrypted), so nothing
    /// the image names is ever opened; then `qemu-img check` (a truncated
    /// or damaged image fails) and `qemu-img info` must agree with it.
    async fn image_validate(&self, path: &Path) -> Result<u64> {
        let head = self.disks.read_head(path, qcow2::HEAD_MAX).await?;
        let h = qcow2::parse(&head).map_err(|e| {
            Error::new(
                Code::ImageInvalid,
                format!("The file is not a usable qcow2 image: {e}"),
            )
        })?;
        h.check_standalone()
            .map_err(|e| Error::new(Code::ImageUnsafe, sentence(&e.to_string())))?;
        if h.size == 0 {
            return Err(Error::new(
                Code::ImageInvalid,
                "The image's virtual size is 0",
            ));
        }
        self.disks.check(path).await.map_err(|e| {
            Error::new(
                Code::ImageInvalid,
                format!("The image does not pass qemu-img check: {}", e.message),
            )
        })?;
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
        if let Some(f) = info.data_file.as_ref().or(info.backing.as_ref()) {
            return Err(Error::new(
                Code::ImageUnsafe,
                format!(
                    "qemu-img reports that the image refers to {}; only self-contained qcow2 images are accepted",
                    f.display()
                ),
            ));
        }
        if info.virtual_size != h.size {
            return Err(Error::new(
                Code::ImageInvalid,
                format!(
                    "qemu-img reports a virtual size of {} bytes, the header {}",
                    info.virtual_size, h.size
                ),
            ));
        }
        Ok(h.size)
    }

    /// Checks the file is an ISO 9660 image (`CD001` at byte 0x8001).
    async fn iso_validate(&self, path: &Path) -> Result<()> {
        let head = self.disks.read_head(path, ISO_SIGNATURE_AT + 5).await?;
        if head.get(ISO_SIGNATURE_AT..) != Some(&b"CD001"[..]) {
            return Err(Error::new(
                Code::ImageInvalid,
                "The file is not an ISO 9660 image (no `CD001` signature at byte 0x8001)",
            ));
        }
        Ok(())
    }

    async fn image_record(
        &self,
        meta: &ImageMeta,
        uuid: Uuid,
        path: PathBuf,
        md5: String,
        size: u64,
        virtual_size: u64,
    ) -> Result<BaseImage> {
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
            created_at: self.now_ms(),
        };
        self.store.image_insert(&img)?;
        self.store.flush().await?;
        Ok(img)
    }

    /// Streams an upload into role-1 storage `instances/_base/<uuid>`;
    /// `declared` is the request's `Content-Length`. A body that breaks
    /// off or ends short of it, a wrong md5 or an image that fails the
    /// checks leaves no file and no record.
    pub async fn base_image_upload(
        &self,
        _actor: &Actor,
        meta: ImageMeta,
        body: ByteStream,
        declared: Option<u64>,
    ) -> Result<BaseImage> {
        self.resource_pool_or_default(meta.pool)?;
        self.upload_declared_check(declared)?;
        let dir = self.role_dir(Role::TemplateSystem, "instances/_base")?;
        self.disks.mkdir(&dir).await?;
        let uuid = Uuid::new_v4();
        let path = dir.join(uuid.to_string());
        let r = async {
            let w = self
                .disks
                .write_stream(&path, body, self.settings.upload_limit)
                .await?;
            upload_complete(&w, declared)?;
            Self::md5_matches(&meta.md5, &w.md5, true)?;
            let virtual_size = self.image_validate(&path).await?;
            self.image_record(
                &meta,
                uuid,
                path.clone(),
                w.md5.clone(),
                w.bytes,
                virtual_size,
            )
            .await
        }
        .await;
        if r.is_err() {
            let _ = self.disks.remove(&path).await;
        }
        r
    }

    /// The directories base image files live directly in on this node:
    /// role 1's `instances/_base`, and role 2's `datas/_base` when a
    /// storage has role 2.
    fn base_dirs(&self) -> Result<Vec<PathBuf>> {
        let mut dirs = vec![self.role_dir(Role::TemplateSystem, "instances/_base")?];
        dirs.extend(self.role_dir(Role::TemplateData, "datas/_base").ok());
        Ok(dirs)
    }

    /// `dirs` with their symlinks resolved (as they are when missing).
    async fn canonical_dirs(&self, dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for d in dirs {
            out.push(match self.disks.stat(d).await? {
                Some(st) => st.canonical,
                None => d.clone(),
            });
        }
        Ok(out)
    }

    /// The record other than `except` that holds the file `canonical`.
    async fn image_holding(&self, canonical: &Path, except: &Uuid) -> Result<Option<BaseImage>> {
        for img in self.store.image_list()? {
            if img.uuid == *except {
                continue;
            }
            let held = img.path == canonical
                || matches!(self.disks.stat(&img.path).await, Ok(Some(st)) if st.canonical == canonical);
            if held {
                return Ok(Some(img));
            }
        }
        Ok(None)
    }

    /// Registers an image already on this node (file 000
    /// `resource_pool/images/upload`): a regular file directly in a base
    /// image directory (after symlinks), held by no other record, within
    /// the size limit, with the md5 given; then the same image checks as
    /// an upload.
    pub async fn base_image_register(
        &self,
        _actor: &Actor,
        meta: ImageMeta,
        uuid: Uuid,
        path: PathBuf,
    ) -> Result<BaseImage> {
        if !path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(Error::invalid(
                "image_path",
                "must be an absolute path without `..`",
            ));
        }
        if self.store.image_get(&uuid).is_ok() {
            return Err(Error::new(
                Code::ImageNameExists,
                format!("Base image {uuid} is already registered"),
            ));
        }
        let dirs = self.base_dirs()?;
        let listed = dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let outside = |why: &str| {
            Error::invalid(
                "image_path",
                format!("{why}; only files directly in a base image directory of this node ({listed}) can be registered"),
            )
        };
        if !dirs.iter().any(|d| path.parent() == Some(d.as_path())) {
            return Err(outside("is outside the storage"));
        }
        let st = self.disks.stat(&path).await?.ok_or_else(|| {
            Error::invalid(
                "image_path",
                format!("{} does not exist on this node", path.display()),
            )
        })?;
        let canonical_dirs = self.canonical_dirs(&dirs).await?;
        if !canonical_dirs
            .iter()
            .any(|d| st.canonical.parent() == Some(d.as_path()))
        {
            return Err(outside("resolves (through a symlink) to a file elsewhere"));
        }
        if st.kind != FileKind::File {
            return Err(Error::invalid(
                "image_path",
                format!(
                    "{} is not a regular file (a directory, device or FIFO)",
                    path.display()
                ),
            ));
        }
        if st.canonical.extension().is_some_and(|e| e == "part") {
            return Err(Error::invalid(
                "image_path",
                format!("{} is a transfer in progress", path.display()),
            ));
        }
        if let Some(other) = self.image_holding(&st.canonical, &uuid).await? {
            return Err(Error::new(
                Code::ImagePathTaken,
                format!(
                    "Field `image_path`: base image `{}` ({}) already holds {}",
                    other.name,
                    other.uuid,
                    path.display()
                ),
            ));
        }
        let limit = self.settings.upload_limit;
        if st.len > limit {
            return Err(Error::new(
                Code::UploadTooLarge,
                format!("Field `image_path`: the file is larger than {limit} bytes"),
            ));
        }
        let md5 = self
            .disks
            .md5_bounded(&st.canonical, limit, HASH_TIME_LIMIT)
            .await?;
        Self::md5_matches(&meta.md5, &md5, false)?;
        let virtual_size = self.image_validate(&st.canonical).await?;
        self.image_record(&meta, uuid, st.canonical, md5, st.len, virtual_size)
            .await
    }

    /// Whether a deleted record's file is ours to remove: directly in a
    /// base image directory of this node (after symlinks) and held by no
    /// other record. Records made before registration was confined may
    /// name any host file: that file stays.
    async fn image_file_owned(&self, img: &BaseImage) -> std::result::Result<(), String> {
        let dirs = self.base_dirs().map_err(|e| e.message)?;
        let canonical_dirs = self.canonical_dirs(&dirs).await.map_err(|e| e.message)?;
        let inside = |p: &Path, ds: &[PathBuf]| ds.iter().any(|d| p.parent() == Some(d.as_path()));
        if !inside(&img.path, &dirs) && !inside(&img.path, &canonical_dirs) {
            return Err("it is outside the base image directories".into());
        }
        let canonical = match self.disks.stat(&img.path).await {
            Ok(Some(st)) if st.kind != FileKind::File => {
                return Err("it is not a regular file".into())
            }
            Ok(Some(st)) if !inside(&st.canonical, &canonical_dirs) => {
                return Err("it resolves to a file outside the base image directories".into())
            }
            Ok(Some(st)) => st.canonical,
            // Already gone here: the nodes' copies still go.
            Ok(None) => img.path.clone(),
            Err(e) => return Err(e.message),
        };
        match self.image_holding(&canonical, &img.uuid).await {
            Ok(Some(other)) => Err(format!(
                "base image `{}` ({}) holds it as well",
                other.name, other.uuid
            )),
            Ok(None) => Ok(()),
            Err(e) => Err(e.message),
        }
    }

    /// Deletes the record; its file goes (here and on the pool's nodes)
    /// only when it is ours (`image_file_owned`).
    pub async fn base_image_delete(&self, _actor: &Actor, uuid: &Uuid) -> Result<BaseImage> {
        let img = self.store.image_delete(uuid)?;
        self.store.flush().await?;
        if let Err(why) = self.image_file_owned(&img).await {
            log::warn!(
                "base image {} deleted; its file {} stays: {why}",
                img.uuid,
                img.path.display()
            );
            return Ok(img);
        }
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

    /// Streams an ISO into role-1 storage `instances/_iso/<uuid>.iso`;
    /// like an image upload, a short or broken body records nothing.
    pub async fn iso_upload(
        &self,
        _actor: &Actor,
        meta: ImageMeta,
        body: ByteStream,
        declared: Option<u64>,
    ) -> Result<Iso> {
        self.upload_declared_check(declared)?;
        let dir = self.role_dir(Role::TemplateSystem, "instances/_iso")?;
        self.disks.mkdir(&dir).await?;
        let uuid = Uuid::new_v4();
        let path = dir.join(format!("{uuid}.iso"));
        let r = async {
            let w = self
                .disks
                .write_stream(&path, body, self.settings.upload_limit)
                .await?;
            upload_complete(&w, declared)?;
            Self::md5_matches(&meta.md5, &w.md5, true)?;
            if w.bytes == 0 {
                return Err(Error::new(Code::ImageInvalid, "The ISO is empty"));
            }
            self.iso_validate(&path).await?;
            let iso = Iso {
                uuid,
                seq: self.store.sequence_next()?,
                name: meta.name.clone(),
                os_type: meta.os_type.clone(),
                path: path.clone(),
                md5: w.md5.clone(),
                size: w.bytes,
                created_at: self.now_ms(),
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

/// The longest a registration may spend computing a file's md5.
const HASH_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Where an ISO 9660 image carries `CD001` (the first volume descriptor).
const ISO_SIGNATURE_AT: usize = 0x8001;

/// A body that ended before the `Content-Length` it declared is a broken
/// upload, not a smaller file.
fn upload_complete(w: &Written, declared: Option<u64>) -> Result<()> {
    match declared {
        Some(n) if w.bytes != n => Err(Error::new(
            Code::UploadIncomplete,
            format!(
                "The upload ended after {} of the {n} bytes its Content-Length declared; nothing was recorded",
                w.bytes
            ),
        )),
        _ => Ok(()),
    }
}

/// `text` with its first letter in upper case.
fn sentence(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
