//! The real `Disks` adapter: `qemu-img` for images, the filesystem for the
//! files around them, and a streaming writer that computes md5 on the way.

use std::path::{Path, PathBuf};
use std::process::Command;

use md5::{Digest, Md5};
use smol::io::{AsyncReadExt, AsyncWriteExt};

use super::{BoxFuture, ByteStream, Disks, FileKind, FileStat, ImageInfo, Written};
use crate::error::{Code, Error, Result};

pub struct QemuImg;

fn disk_err(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(Code::DiskFailed, format!("{what} {}: {e}", path.display()))
}

/// Runs `qemu-img` with `args`; stderr becomes the error.
fn qemu_img(args: &[&str], path: &Path) -> Result<String> {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .map_err(|e| disk_err("cannot run qemu-img for", path, e))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(disk_err(
            &format!("qemu-img {}", args[0]),
            path,
            err.trim().lines().last().unwrap_or("failed"),
        ))
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or("")
}

/// Parses `qemu-img info --output=json`.
pub fn parse_info(json: &str) -> Option<ImageInfo> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some(ImageInfo {
        format: v.get("format")?.as_str()?.to_string(),
        virtual_size: v.get("virtual-size")?.as_u64()?,
        actual_size: v.get("actual-size").and_then(|x| x.as_u64()).unwrap_or(0),
        backing: v
            .get("full-backing-filename")
            .or_else(|| v.get("backing-filename"))
            .and_then(|x| x.as_str())
            .map(PathBuf::from),
        data_file: v
            .pointer("/format-specific/data/data-file")
            .and_then(|x| x.as_str())
            .map(PathBuf::from),
    })
}

/// Reads `qemu-img check --output=json`: corruptions and check errors are
/// failures; leaked clusters only waste space.
pub fn parse_check(json: &str) -> std::result::Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|_| "no answer from qemu-img check".to_string())?;
    let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
    match (n("corruptions"), n("check-errors")) {
        (0, 0) => Ok(()),
        (c, e) => Err(format!(
            "qemu-img check found {c} corruption(s) and {e} error(s) (a truncated or damaged image)"
        )),
    }
}

/// Opens a regular file that is not a symlink for reading, and checks the
/// opened file is the one looked at (a device or FIFO is never read).
fn open_regular(p: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::MetadataExt;
    let not_regular = || {
        Error::new(
            Code::ImageInvalid,
            format!("{} is not a regular file", p.display()),
        )
    };
    let before = std::fs::symlink_metadata(p).map_err(|e| disk_err("cannot read", p, e))?;
    if !before.file_type().is_file() {
        return Err(not_regular());
    }
    let f = std::fs::File::open(p).map_err(|e| disk_err("cannot read", p, e))?;
    let now = f.metadata().map_err(|e| disk_err("cannot read", p, e))?;
    if !now.file_type().is_file() || (now.dev(), now.ino()) != (before.dev(), before.ino()) {
        return Err(not_regular());
    }
    Ok(f)
}

/// The md5 of what `r` yields, refusing more than `max_bytes` or a read
/// that goes on past `deadline` (checked between 1 MiB chunks).
pub fn md5_capped(
    r: &mut impl std::io::Read,
    max_bytes: u64,
    max_time: std::time::Duration,
    what: &Path,
) -> Result<String> {
    let t0 = std::time::Instant::now();
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut total = 0u64;
    loop {
        if t0.elapsed() > max_time {
            return Err(Error::new(
                Code::ImageHashTimeout,
                format!(
                    "The md5 of {} took longer than {} s",
                    what.display(),
                    max_time.as_secs()
                ),
            ));
        }
        let n = r
            .read(&mut buf)
            .map_err(|e| disk_err("cannot read", what, e))?;
        if n == 0 {
            return Ok(hex(&md5.finalize()));
        }
        total += n as u64;
        if total > max_bytes {
            return Err(Error::new(
                Code::UploadTooLarge,
                format!("{} is larger than {max_bytes} bytes", what.display()),
            ));
        }
        md5.update(&buf[..n]);
    }
}

fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> BoxFuture<'static, Result<T>> {
    Box::pin(smol::unblock(f))
}

impl Disks for QemuImg {
    fn create<'a>(
        &'a self,
        path: &'a Path,
        size: u64,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        let (p, b) = (path.to_path_buf(), backing.map(Path::to_path_buf));
        blocking(move || {
            let size_s = size.to_string();
            let mut args = vec!["create", "-q", "-f", "qcow2"];
            let opts;
            if let Some(b) = &b {
                opts = format!("backing_file={},backing_fmt={}", s(b), backing_format(b)?);
                args.extend(["-o", opts.as_str()]);
            }
            args.push(s(&p));
            if b.is_none() || size > 0 {
                args.push(&size_s);
            }
            qemu_img(&args, &p).map(|_| ())
        })
    }

    fn info<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<ImageInfo>> {
        let p = path.to_path_buf();
        blocking(move || info_now(&p))
    }

    fn resize<'a>(&'a self, path: &'a Path, size: u64) -> BoxFuture<'a, Result<()>> {
        let p = path.to_path_buf();
        blocking(move || qemu_img(&["resize", "-q", s(&p), &size.to_string()], &p).map(|_| ()))
    }

    fn convert<'a>(
        &'a self,
        src: &'a Path,
        dst: &'a Path,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        let (src, dst, b) = (
            src.to_path_buf(),
            dst.to_path_buf(),
            backing.map(Path::to_path_buf),
        );
        blocking(move || {
            let mut args = vec!["convert", "-q", "-O", "qcow2"];
            let fmt;
            if let Some(b) = &b {
                fmt = backing_format(b)?;
                args.extend(["-B", s(b), "-F", fmt]);
            }
            args.extend([s(&src), s(&dst)]);
            qemu_img(&args, &src).map(|_| ())
        })
    }

    fn rebase<'a>(
        &'a self,
        path: &'a Path,
        backing: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        let (p, b) = (path.to_path_buf(), backing.map(Path::to_path_buf));
        blocking(move || {
            let fmt;
            let mut args = vec!["rebase", "-q"];
            match &b {
                Some(b) => {
                    fmt = backing_format(b)?;
                    args.extend(["-b", s(b), "-F", fmt]);
                }
                None => args.extend(["-b", ""]),
            }
            args.push(s(&p));
            qemu_img(&args, &p).map(|_| ())
        })
    }

    fn check<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let p = path.to_path_buf();
        blocking(move || {
            let out = Command::new("qemu-img")
                .args(["check", "-f", "qcow2", "--output=json", s(&p)])
                .output()
                .map_err(|e| disk_err("cannot run qemu-img for", &p, e))?;
            // 0: clean, 2: corrupt, 3: leaked clusters only; 1 and the
            // rest: the check could not run.
            let stdout = String::from_utf8_lossy(&out.stdout);
            match out.status.code() {
                Some(0 | 2 | 3) => parse_check(&stdout)
                    .map_err(|m| Error::new(Code::ImageInvalid, format!("{}: {m}", p.display()))),
                _ => {
                    let err = String::from_utf8_lossy(&out.stderr);
                    Err(Error::new(
                        Code::ImageInvalid,
                        format!(
                            "qemu-img check {}: {}",
                            p.display(),
                            err.trim().lines().last().unwrap_or("failed")
                        ),
                    ))
                }
            }
        })
    }

    fn remove<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let p = path.to_path_buf();
        blocking(move || {
            let r = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            match r {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(disk_err("cannot remove", &p, e))
                }
                _ => Ok(()),
            }
        })
    }

    fn rename<'a>(&'a self, from: &'a Path, to: &'a Path) -> BoxFuture<'a, Result<()>> {
        let (a, b) = (from.to_path_buf(), to.to_path_buf());
        blocking(move || std::fs::rename(&a, &b).map_err(|e| disk_err("cannot rename", &a, e)))
    }

    fn exists<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<bool>> {
        let p = path.to_path_buf();
        blocking(move || Ok(p.exists()))
    }

    fn mkdir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<()>> {
        let p = path.to_path_buf();
        blocking(move || std::fs::create_dir_all(&p).map_err(|e| disk_err("cannot create", &p, e)))
    }

    fn list_dir<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Vec<String>>> {
        let p = path.to_path_buf();
        blocking(move || match std::fs::read_dir(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(disk_err("cannot list", &p, e)),
            Ok(rd) => Ok(rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()),
        })
    }

    fn write_stream<'a>(
        &'a self,
        path: &'a Path,
        mut body: ByteStream,
        limit: u64,
    ) -> BoxFuture<'a, Result<Written>> {
        Box::pin(async move {
            let part = path.with_extension("part");
            let r = async {
                let mut f = smol::fs::File::create(&part)
                    .await
                    .map_err(|e| disk_err("cannot create", &part, e))?;
                let mut md5 = Md5::new();
                let mut buf = vec![0u8; 256 * 1024];
                let mut total = 0u64;
                loop {
                    let n = body.read(&mut buf).await.map_err(|e| {
                        Error::new(Code::UploadIncomplete, format!("The upload broke off: {e}"))
                    })?;
                    if n == 0 {
                        break;
                    }
                    total += n as u64;
                    if total > limit {
                        return Err(Error::new(
                            Code::UploadTooLarge,
                            format!("The upload is larger than {limit} bytes"),
                        ));
                    }
                    md5.update(&buf[..n]);
                    f.write_all(&buf[..n])
                        .await
                        .map_err(|e| disk_err("cannot write", &part, e))?;
                }
                f.sync_all()
                    .await
                    .map_err(|e| disk_err("cannot write", &part, e))?;
                Ok(Written {
                    bytes: total,
                    md5: hex(&md5.finalize()),
                })
            }
            .await;
            match r {
                Ok(w) => {
                    smol::fs::rename(&part, path)
                        .await
                        .map_err(|e| disk_err("cannot rename", &part, e))?;
                    Ok(w)
                }
                Err(e) => {
                    let _ = smol::fs::remove_file(&part).await;
                    Err(e)
                }
            }
        })
    }

    fn md5<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<String>> {
        let p = path.to_path_buf();
        blocking(move || {
            use std::io::Read;
            let mut f = std::fs::File::open(&p).map_err(|e| disk_err("cannot read", &p, e))?;
            let mut md5 = Md5::new();
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                let n = f
                    .read(&mut buf)
                    .map_err(|e| disk_err("cannot read", &p, e))?;
                if n == 0 {
                    break;
                }
                md5.update(&buf[..n]);
            }
            Ok(hex(&md5.finalize()))
        })
    }

    fn md5_bounded<'a>(
        &'a self,
        path: &'a Path,
        max_bytes: u64,
        max_time: std::time::Duration,
    ) -> BoxFuture<'a, Result<String>> {
        let p = path.to_path_buf();
        blocking(move || md5_capped(&mut open_regular(&p)?, max_bytes, max_time, &p))
    }

    fn stat<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, Result<Option<FileStat>>> {
        let p = path.to_path_buf();
        blocking(move || {
            let canonical = match std::fs::canonicalize(&p) {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(disk_err("cannot resolve", &p, e)),
            };
            let m = std::fs::metadata(&canonical).map_err(|e| disk_err("cannot read", &p, e))?;
            let kind = if m.is_file() {
                FileKind::File
            } else if m.is_dir() {
                FileKind::Dir
            } else {
                FileKind::Other
            };
            Ok(Some(FileStat {
                canonical,
                kind,
                len: m.len(),
            }))
        })
    }

    fn read_head<'a>(&'a self, path: &'a Path, max: usize) -> BoxFuture<'a, Result<Vec<u8>>> {
        let p = path.to_path_buf();
        blocking(move || {
            use std::io::Read;
            let mut out = Vec::new();
            open_regular(&p)?
                .take(max as u64)
                .read_to_end(&mut out)
                .map_err(|e| disk_err("cannot read", &p, e))?;
            Ok(out)
        })
    }

    fn open_read<'a>(
        &'a self,
        path: &'a Path,
        offset: u64,
    ) -> BoxFuture<'a, Result<(u64, ByteStream)>> {
        Box::pin(async move {
            use smol::io::AsyncSeekExt;
            let mut f = smol::fs::File::open(path)
                .await
                .map_err(|e| disk_err("cannot read", path, e))?;
            let len = f
                .metadata()
                .await
                .map_err(|e| disk_err("cannot read", path, e))?
                .len();
            if offset > len {
                return Err(disk_err(
                    &format!("offset {offset} is past the end ({len} bytes) of"),
                    path,
                    "nothing to send",
                ));
            }
            f.seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(|e| disk_err("cannot seek in", path, e))?;
            Ok((len - offset, Box::new(f) as ByteStream))
        })
    }
}

fn info_now(p: &Path) -> Result<ImageInfo> {
    let out = qemu_img(&["info", "--output=json", "-U", s(p)], p)?;
    parse_info(&out).ok_or_else(|| disk_err("unreadable qemu-img info for", p, out.trim()))
}

/// The format of an existing backing file (qcow2 or raw), for `-F`.
fn backing_format(p: &Path) -> Result<&'static str> {
    Ok(match info_now(p)?.format.as_str() {
        "raw" => "raw",
        _ => "qcow2",
    })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_qemu_img_info() {
        let j = r#"{"virtual-size": 1073741824, "filename": "/a/w.qcow2", "format": "qcow2",
            "actual-size": 200704, "backing-filename": "v1.qcow2", "full-backing-filename": "/a/v1.qcow2"}"#;
        let i = super::parse_info(j).unwrap();
        assert_eq!(i.format, "qcow2");
        assert_eq!(i.virtual_size, 1 << 30);
        assert_eq!(
            i.backing.as_deref(),
            Some(std::path::Path::new("/a/v1.qcow2"))
        );
        assert!(super::parse_info("{}").is_none());
        assert_eq!(super::hex(&[0, 255, 16]), "00ff10");
        let j = r#"{"virtual-size": 1048576, "format": "qcow2", "format-specific":
            {"type": "qcow2", "data": {"data-file": "/etc/shadow", "data-file-raw": false}}}"#;
        assert_eq!(
            super::parse_info(j).unwrap().data_file.as_deref(),
            Some(std::path::Path::new("/etc/shadow"))
        );
    }

    #[test]
    fn check_output_counts_corruptions_not_leaks() {
        assert_eq!(
            super::parse_check(r#"{"check-errors": 0, "leaks": 3, "filename": "x"}"#),
            Ok(())
        );
        let e = super::parse_check(r#"{"corruptions": 69, "check-errors": 0}"#).unwrap_err();
        assert!(e.contains("69 corruption"), "{e}");
        assert!(super::parse_check("").is_err());
    }

    #[test]
    fn bounded_md5_stops_at_its_size_and_time_limits() {
        use std::time::Duration;
        let p = std::path::Path::new("/x");
        let mut r = std::io::Cursor::new(vec![7u8; 10]);
        let e = super::md5_capped(&mut r, 5, Duration::from_secs(60), p).unwrap_err();
        assert_eq!(e.code, super::Code::UploadTooLarge);
        // An endless source is given up once its time is over.
        let mut zero = std::io::repeat(0);
        let e = super::md5_capped(&mut zero, u64::MAX, Duration::from_millis(50), p).unwrap_err();
        assert_eq!(e.code, super::Code::ImageHashTimeout, "{e}");
        let mut r = std::io::Cursor::new(Vec::new());
        assert_eq!(
            super::md5_capped(&mut r, 0, Duration::from_secs(60), p).unwrap(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }

    #[test]
    fn devices_fifos_and_symlinks_are_never_read_as_files() {
        use super::{Disks, FileKind, QemuImg};
        use std::time::Duration;
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("f");
        std::fs::write(&file, b"0123456789").unwrap();
        let fifo = d.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        smol::block_on(async {
            let q = QemuImg;
            let st = q.stat(&link).await.unwrap().unwrap();
            assert_eq!(st.canonical, std::fs::canonicalize(&file).unwrap());
            assert_eq!((st.kind, st.len), (FileKind::File, 10));
            assert_eq!(q.stat(&fifo).await.unwrap().unwrap().kind, FileKind::Other);
            let zero = std::path::Path::new("/dev/zero");
            assert_eq!(q.stat(zero).await.unwrap().unwrap().kind, FileKind::Other);
            assert_eq!(q.stat(d.path()).await.unwrap().unwrap().kind, FileKind::Dir);
            assert!(q.stat(&d.path().join("none")).await.unwrap().is_none());
            assert_eq!(q.read_head(&file, 4).await.unwrap(), b"0123");
            let minute = Duration::from_secs(60);
            for p in [&fifo, &link, &zero.to_path_buf()] {
                let e = q.read_head(p, 4).await.unwrap_err();
                assert!(e.message.contains("not a regular file"), "{e}");
                let e = q.md5_bounded(p, 1 << 20, minute).await.unwrap_err();
                assert!(e.message.contains("not a regular file"), "{e}");
            }
            assert_eq!(
                q.md5_bounded(&file, 10, minute).await.unwrap(),
                "781e5e245d69b566979b86e28d23f2c7"
            );
            assert!(q.md5_bounded(&file, 9, minute).await.is_err());
        });
    }
}
