//! Disk images in memory: qcow2 images with a size, a backing path and
//! sparse byte "blocks" (so a test can write a pattern and see where it
//! lands), plain files for uploads, and directories. Chains resolve like
//! qemu's: a block not in an overlay comes from its backing file. An
//! uploaded file is read as qemu would: its qcow2 header (parsed by the
//! domain) says its size, backing file and external data file. Symlinks and
//! special files (devices, FIFOs) exist for the registration checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use md5::{Digest, Md5};
use smol::io::AsyncReadExt;

use crate::domain::qcow2::{self, minimal_header};
use crate::error::{Code, Error, Result};
use crate::host::qemu_img::hex;
use crate::host::{BoxFuture, ByteStream, Disks, FileKind, FileStat, ImageInfo, Written};

#[derive(Clone, Debug)]
enum Entry {
    Image {
        size: u64,
        backing: Option<PathBuf>,
        blocks: BTreeMap<u64, u8>,
    },
    File(Vec<u8>),
    /// A symlink to another path.
    Link(PathBuf),
    /// A device, FIFO or socket: never readable as a file.
    Special,
}

/// What a file's qcow2 header names.
struct Parsed {
    size: u64,
    backing: Option<PathBuf>,
    data_file: Option<PathBuf>,
}

#[derive(Default)]
struct Fs {
    files: BTreeMap<PathBuf, Entry>,
    dirs: BTreeSet<PathBuf>,
    fail: Option<String>,
}

#[derive(Default)]
pub struct FakeDisks {
    fs: Mutex<Fs>,
}

fn err(what: &str, p: &Path) -> Error {
    Error::new(Code::DiskFailed, format!("{what} {}", p.display()))
}

/// The header an in-memory image would have on disk.
fn image_header(size: u64, backing: Option<&Path>) -> Vec<u8> {
    let b = backing.map(|b| b.to_string_lossy().into_owned());
    minimal_header(size, b.as_deref(), None)
}

/// A file's bytes as a qcow2 image (an error when they are not one).
fn parse_file(b: &[u8], p: &Path) -> Result<Parsed> {
    let h = qcow2::parse(b).map_err(|e| err(&format!("qemu-img: {e}:"), p))?;
    let path = |n: &[u8]| PathBuf::from(String::from_utf8_lossy(n).into_owned());
    let backing = h.backing.as_deref().map(|n| {
        let name = path(n);
        match p.parent() {
            Some(d) if name.is_relative() => d.join(name),
            _ => name,
        }
    });
    Ok(Parsed {
        size: h.size,
        backing,
        data_file: h.data_file.as_deref().map(path),
    })
}

impl Fs {
    fn image(&self, p: &Path) -> Result<(u64, Option<PathBuf>, BTreeMap<u64, u8>)> {
        match self.files.get(p) {
            Some(Entry::Image {
                size,
                backing,
                blocks,
            }) => Ok((*size, backing.clone(), blocks.clone())),
            Some(Entry::File(b)) => {
                let f = parse_file(b, p)?;
                Ok((f.size, f.backing, BTreeMap::new()))
            }
            Some(Entry::Link(to)) => {
                let to = to.clone();
                self.image(&to)
            }
            Some(Entry::Special) => Err(err("qemu-img: not a qcow2 image:", p)),
            None => Err(err("qemu-img: Could not open", p)),
        }
    }

    /// Every block the guest sees through the chain.
    fn resolve(&self, p: &Path) -> Result<BTreeMap<u64, u8>> {
        let (_, backing, blocks) = self.image(p)?;
        let mut out = match backing {
            Some(b) => self.resolve(&b)?,
            None => BTreeMap::new(),
        };
        out.extend(blocks);
        Ok(out)
    }

    fn parent_exists(&self, p: &Path) -> Result<()> {
        match p.parent() {
            Some(d) if self.dirs.contains(d) => Ok(()),
            _ => Err(err("No such directory for", p)),
        }
    }

    fn armed(&mut self, op: &str) -> Result<()> {
        if self.fail.as_deref() == Some(op) {
            self.fail = None;
            return Err(Error::new(
                Code::DiskFailed,
                format!("injected {op} failure"),
            ));
        }
        Ok(())
    }
}

impl FakeDisks {
    fn with<T: Send + 'static>(
        &self,
        op: &str,
        f: impl FnOnce(&mut Fs) -> Result<T>,
    ) -> BoxFuture<'_, Result<T>> {
        let mut g = self.fs.lock().unwrap();
        let r = g.armed(op).and_then(|_| f(&mut g));
        Box::pin(async move { r })
    }

    /// Makes the next `op` (create, convert, rebase, rename, remove, …) fail.
    pub fn fail_next(&self, op: &str) {
        self.fs.lock().unwrap().fail = Some(op.into());
    }

    /// Writes a byte into an image, as a guest would (`qemu-io -c write`).
    pub fn write(&self, path: &Path, offset: u64, byte: u8) -> Result<()> {
        let mut g = self.fs.lock().unwrap();
        match g.files.get_mut(path) {
            Some(Entry::Image { blocks, .. }) => {
                blocks.insert(offset, byte);
                Ok(())
            }
            _ => Err(err("not an image:", path)),
        }
    }

    /// What a guest reads at `offset` through the chain.
    pub fn read(&self, path: &Path, offset: u64) -> Result<Option<u8>> {
        let g = self.fs.lock().unwrap();
        Ok(g.resolve(path)?.get(&offset).copied())
    }

    pub fn exists_now(&self, path: &Path) -> bool {
        let g = self.fs.lock().unwrap();
        g.files.contains_key(path) || g.dirs.contains(path)
    }

    /// Every file under `dir`.
    pub fn files_under(&self, dir: &Path) -> Vec<PathBuf> {
        let g = self.fs.lock().unwrap();
        g.files
            .keys()
            .filter(|p| p.starts_with(dir))
            .cloned()
            .collect()
    }

    pub fn backing_of(&self, path: &Path) -> Option<PathBuf> {
        let g = self.fs.lock().unwrap();
        g.image(path).ok().and_then(|x| x.1)
    }

    /// Copies what `src` holds at `path` (a file or an image with its
    /// blocks) to the same path here: a node's pull. False when `src` has
    /// nothing there.
    pub fn copy_from(&self, src: &FakeDisks, path: &Path) -> bool {
        self.copy_between(src, path, path)
    }

    /// Copies `src`'s `from` to `to` here.
    pub fn copy_between(&self, src: &FakeDisks, from: &Path, to: &Path) -> bool {
        let Some(e) = src.fs.lock().unwrap().files.get(from).cloned() else {
            return false;
        };
        let mut g = self.fs.lock().unwrap();
        let path = to;
        let mut d = path.parent();
        while let Some(x) = d {
            g.dirs.insert(x.to_path_buf());
            d = x.parent();
        }
        g.files.insert(path.to_path_buf(), e);
        true
    }

    /// Puts a symlink at `path` pointing to `to`.
    pub fn put_symlink(&self, path: &Path, to: &Path) {
        self.put(path, Entry::Link(to.to_path_buf()));
    }

    /// Puts a device or FIFO at `path`.
    pub fn put_special(&self, path: &Path) {
        self.put(path, Entry::Special);
    }

    fn put(&self, path: &Path, e: Entry) {
        let mut g = self.fs.lock().unwrap();
        let mut d = path.parent();
        while let Some(x) = d {
            g.dirs.insert(x.to_path_buf());
            d = x.parent();
        }
        g.files.insert(path.to_path_buf(), e);
    }

    /// Puts a file in place (a test's image already on disk).
    pub fn put_file(&self, path: &Path, bytes: Vec<u8>) {
        self.put(path, Entry::File(bytes));
    }
}

impl Disks for FakeDisks {
    fn create<'a>(
        &'a self,
        path: &'a Path,
        size: u64,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        self.with("create", |g| {
            g.parent_exists(path)?;
            let size = match backing {
                Some(b) => g.image(b)?.0.max(size),
                None => size,
            };
            g.files.insert(
                path.to_path_buf(),
                Entry::Image {
                    size,
                    backing: backing.map(Path::to_path_buf),
                    blocks: BTreeMap::new(),
                },
            );
            Ok(())
        })
    }

    fn info<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<ImageInfo>> {
        self.with("info", |g| {
            let (size, backing, blocks) = g.image(path)?;
            if let Some(b) = &backing {
                g.image(b)?;
            }
            let data_file = match g.files.get(path) {
                Some(Entry::File(b)) => parse_file(b, path)?.data_file,
                _ => None,
            };
            Ok(ImageInfo {
                format: "qcow2".into(),
                virtual_size: size,
                actual_size: 196_608 + blocks.len() as u64 * 65_536,
                backing,
                data_file,
            })
        })
    }

    fn resize<'a>(&'a self, path: &'a Path, size: u64) -> BoxFuture<'a, Result<()>> {
        self.with("resize", |g| match g.files.get_mut(path) {
            Some(Entry::Image { size: s, .. }) if *s <= size => {
                *s = size;
                Ok(())
            }
            Some(Entry::Image { .. }) => Err(err("qemu-img: shrinking is not allowed:", path)),
            _ => Err(err("qemu-img: Could not open", path)),
        })
    }

    fn convert<'a>(
        &'a self,
        src: &'a Path,
        dst: &'a Path,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        self.with("convert", |g| {
            g.parent_exists(dst)?;
            let size = g.image(src)?.0;
            let mut blocks = g.resolve(src)?;
            if let Some(b) = backing {
                let base = g.resolve(b)?;
                blocks.retain(|k, v| base.get(k) != Some(v));
            }
            g.files.insert(
                dst.to_path_buf(),
                Entry::Image {
                    size,
                    backing: backing.map(Path::to_path_buf),
                    blocks,
                },
            );
            Ok(())
        })
    }

    fn rebase<'a>(
        &'a self,
        path: &'a Path,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        self.with("rebase", |g| {
            let seen = g.resolve(path)?;
            let below = match backing {
                Some(b) => g.resolve(b)?,
                None => BTreeMap::new(),
            };
            let mut blocks = seen.clone();
            blocks.retain(|k, v| below.get(k) != Some(v));
            // A block the new backing has but the old chain had not reads as zero.
            for k in below.keys() {
                if !seen.contains_key(k) {
                    blocks.insert(*k, 0);
                }
            }
            let size = g.image(path)?.0;
            g.files.insert(
                path.to_path_buf(),
                Entry::Image {
                    size,
                    backing: backing.map(Path::to_path_buf),
                    blocks,
                },
            );
            Ok(())
        })
    }

    fn check<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        self.with("check", |g| {
            // Like qemu, a data file that is not there fails the check.
            if let Some(Entry::File(b)) = g.files.get(path) {
                if let Some(d) = parse_file(b, path)?.data_file {
                    if !g.files.contains_key(&d) {
                        return Err(err("qemu-img check: cannot open data file of", path));
                    }
                }
            }
            g.resolve(path).map(|_| ())
        })
    }

    fn remove<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        self.with("remove", |g| {
            g.files.retain(|p, _| !p.starts_with(path));
            g.dirs.retain(|p| !p.starts_with(path));
            Ok(())
        })
    }

    fn rename<'a>(&'a self, from: &'a Path, to: &'a Path) -> BoxFuture<'a, Result<()>> {
        self.with("rename", |g| {
            g.parent_exists(to)?;
            let e = g
                .files
                .remove(from)
                .ok_or_else(|| err("cannot rename", from))?;
            g.files.insert(to.to_path_buf(), e);
            Ok(())
        })
    }

    fn exists<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<bool>> {
        self.with("exists", |g| {
            Ok(g.files.contains_key(path) || g.dirs.contains(path))
        })
    }

    fn mkdir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        self.with("mkdir", |g| {
            let mut d = Some(path);
            while let Some(x) = d {
                g.dirs.insert(x.to_path_buf());
                d = x.parent();
            }
            Ok(())
        })
    }

    fn list_dir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Vec<String>>> {
        self.with("list", |g| {
            let names: BTreeSet<String> = g
                .files
                .keys()
                .chain(g.dirs.iter())
                .filter(|p| p.parent() == Some(path))
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            Ok(names.into_iter().collect())
        })
    }

    fn write_stream<'a>(
        &'a self,
        path: &'a Path,
        mut body: ByteStream,
        limit: u64,
    ) -> BoxFuture<'a, Result<Written>> {
        Box::pin(async move {
            {
                let mut g = self.fs.lock().unwrap();
                g.armed("write")?;
                g.parent_exists(path)?;
            }
            let mut buf = Vec::new();
            (&mut body)
                .take(limit + 1)
                .read_to_end(&mut buf)
                .await
                .map_err(|e| {
                    Error::new(Code::UploadIncomplete, format!("The upload broke off: {e}"))
                })?;
            if buf.len() as u64 > limit {
                return Err(Error::new(
                    Code::UploadTooLarge,
                    format!("The upload is larger than {limit} bytes"),
                ));
            }
            let md5 = hex(&Md5::digest(&buf));
            let bytes = buf.len() as u64;
            self.fs
                .lock()
                .unwrap()
                .files
                .insert(path.to_path_buf(), Entry::File(buf));
            Ok(Written { bytes, md5 })
        })
    }

    fn md5<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<String>> {
        self.with("md5", |g| match g.files.get(path) {
            Some(Entry::File(b)) => Ok(hex(&Md5::digest(b))),
            Some(Entry::Link(_) | Entry::Special) => Err(err("not a regular file:", path)),
            Some(Entry::Image {
                size,
                backing,
                blocks,
            }) => Ok(hex(&Md5::digest(
                format!("{size} {backing:?} {blocks:?}").as_bytes(),
            ))),
            None => Err(err("cannot read", path)),
        })
    }

    fn md5_bounded<'a>(
        &'a self,
        path: &'a Path,
        max_bytes: u64,
        _max_time: std::time::Duration,
    ) -> BoxFuture<'a, Result<String>> {
        self.with("md5", |g| match g.files.get(path) {
            Some(Entry::File(b)) if b.len() as u64 > max_bytes => Err(Error::new(
                Code::UploadTooLarge,
                format!("{} is larger than {max_bytes} bytes", path.display()),
            )),
            Some(Entry::File(b)) => Ok(hex(&Md5::digest(b))),
            Some(_) => Err(Error::new(
                Code::ImageInvalid,
                format!("{} is not a regular file", path.display()),
            )),
            None => Err(err("cannot read", path)),
        })
    }

    fn stat<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Option<FileStat>>> {
        self.with("stat", |g| {
            let mut at = path.to_path_buf();
            for _ in 0..40 {
                let (kind, len) = match g.files.get(&at) {
                    Some(Entry::Link(to)) => {
                        at = match at.parent() {
                            Some(d) if to.is_relative() => d.join(to),
                            _ => to.clone(),
                        };
                        continue;
                    }
                    Some(Entry::File(b)) => (FileKind::File, b.len() as u64),
                    Some(Entry::Image { blocks, .. }) => {
                        (FileKind::File, 196_608 + blocks.len() as u64 * 65_536)
                    }
                    Some(Entry::Special) => (FileKind::Other, 0),
                    None if g.dirs.contains(&at) => (FileKind::Dir, 4096),
                    None => return Ok(None),
                };
                return Ok(Some(FileStat {
                    canonical: at.components().collect(),
                    kind,
                    len,
                }));
            }
            Err(err("too many levels of symbolic links:", path))
        })
    }

    fn read_head<'a>(&'a self, path: &'a Path, max: usize) -> BoxFuture<'a, Result<Vec<u8>>> {
        self.with("read", |g| {
            let mut b = match g.files.get(path) {
                Some(Entry::File(b)) => b.clone(),
                Some(Entry::Image { size, backing, .. }) => image_header(*size, backing.as_deref()),
                Some(_) => {
                    return Err(Error::new(
                        Code::ImageInvalid,
                        format!("{} is not a regular file", path.display()),
                    ))
                }
                None => return Err(err("cannot read", path)),
            };
            b.truncate(max);
            Ok(b)
        })
    }

    fn open_read<'a>(
        &'a self,
        path: &'a Path,
        offset: u64,
    ) -> BoxFuture<'a, Result<(u64, ByteStream)>> {
        self.with("read", |g| {
            let bytes = match g.files.get(path) {
                Some(Entry::File(b)) => b.clone(),
                Some(Entry::Image { size, backing, .. }) => image_header(*size, backing.as_deref()),
                Some(Entry::Link(_) | Entry::Special) | None => {
                    return Err(err("cannot read", path))
                }
            };
            let Some(bytes) = bytes.get(offset as usize..).map(<[u8]>::to_vec) else {
                return Err(err("offset past the end of", path));
            };
            Ok((
                bytes.len() as u64,
                Box::new(smol::io::Cursor::new(bytes)) as ByteStream,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_resolve_and_rebase_keeps_what_the_guest_sees() {
        let d = FakeDisks::default();
        smol::block_on(async {
            let dir = Path::new("/s");
            d.mkdir(dir).await.unwrap();
            let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
            d.create(&a, 100, None).await.unwrap();
            d.write(&a, 1, 1).unwrap();
            d.create(&b, 0, Some(&a)).await.unwrap();
            d.write(&b, 2, 2).unwrap();
            d.create(&c, 0, Some(&b)).await.unwrap();
            assert_eq!(d.read(&c, 1).unwrap(), Some(1));
            assert_eq!(d.read(&c, 2).unwrap(), Some(2));
            d.rebase(&c, Some(&a)).await.unwrap();
            d.remove(&b).await.unwrap();
            assert_eq!(d.read(&c, 2).unwrap(), Some(2), "b's data moved into c");
            assert_eq!(d.info(&c).await.unwrap().virtual_size, 100);
            d.remove(&a).await.unwrap();
            assert!(
                d.info(&c).await.is_err(),
                "a missing backing file breaks the chain"
            );
        });
    }
}
