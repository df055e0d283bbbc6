//! The few small files the service itself keeps beside its store: the
//! one-time setup token (`<data>/setup-token`) and a compute node's role
//! file (`<data>/role.toml`, read every second to notice a join or a leave).
//! The real adapter reads and writes them on disk, private to their owner
//! (mode 0600, written whole through a synced temporary file); the fake
//! keeps them in memory. They are a few bytes: the calls are synchronous.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Result};

pub trait LocalFiles: Send + Sync {
    /// The file's text; `None` when there is no such file.
    fn read(&self, path: &Path) -> Result<Option<String>>;
    /// Replaces the file whole with `text`, readable by its owner only.
    fn write_private(&self, path: &Path, text: &str) -> Result<()>;
    /// Removes the file; an absent file is not an error.
    fn remove(&self, path: &Path) -> Result<()>;
}

/// This machine's filesystem.
pub struct DiskFiles;

impl LocalFiles for DiskFiles {
    fn read(&self, path: &Path) -> Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::internal(format!("{}: {e}", path.display()))),
        }
    }

    fn write_private(&self, path: &Path, text: &str) -> Result<()> {
        write_private(path, text.as_bytes())
    }

    fn remove(&self, path: &Path) -> Result<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::internal(format!("{}: {e}", path.display())))
            }
            _ => Ok(()),
        }
    }
}

/// Replaces `path` whole with `body` (a synced temporary file, then a
/// rename), readable by its owner only.
pub fn write_private(path: &Path, body: &[u8]) -> Result<()> {
    let tmp = path.with_extension("vdi-new");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(Error::internal)?;
    f.write_all(body).map_err(Error::internal)?;
    f.sync_all().map_err(Error::internal)?;
    std::fs::rename(&tmp, path).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_are_written_whole_and_removed_quietly() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("setup-token");
        let files = DiskFiles;
        assert_eq!(files.read(&p).unwrap(), None);
        // An older file readable by others is replaced by a private one.
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        files.write_private(&p, "tok\n").unwrap();
        assert_eq!(files.read(&p).unwrap().as_deref(), Some("tok\n"));
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!p.with_extension("vdi-new").exists());
        files.remove(&p).unwrap();
        files.remove(&p).unwrap();
        assert_eq!(files.read(&p).unwrap(), None);
    }
}
