//! The real `Disks` adapter: `qemu-img` for images, the filesystem for the
//! files around them, and a streaming writer that computes md5 on the way.

use std::path::{Path, PathBuf};
use std::process::Command;

use md5::{Digest, Md5};
use smol::io::{AsyncReadExt, AsyncWriteExt};

use super::{BoxFuture, ByteStream, Disks, ImageInfo, Written};
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
    })
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
        blocking(move || qemu_img(&["check", "-q", s(&p)], &p).map(|_| ()))
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
                        Error::new(Code::InvalidField, format!("The upload broke off: {e}"))
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
    }
}
