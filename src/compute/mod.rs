//! The compute role on a server: its role file (the controller it belongs
//! to), the commands the controller runs here over SSH (`node-probe`,
//! `node-join`, `node-leave`), and the agent that registers with the
//! controller and sends heartbeats and reports.

pub mod agent;
pub mod cli;

use std::path::{Path, PathBuf};

use crate::domain::node::Membership;
use crate::error::{Error, Result};
pub(crate) use crate::host::local_files::write_private;
use crate::host::local_files::{DiskFiles, LocalFiles};

/// `<data_dir>/role.toml`: present only on a joined compute node.
pub fn role_path(data_dir: &Path) -> PathBuf {
    data_dir.join("role.toml")
}

pub fn membership_load(data_dir: &Path) -> Result<Option<Membership>> {
    let path = role_path(data_dir);
    match DiskFiles.read(&path)? {
        Some(text) => membership_parse(&path, &text).map(Some),
        None => Ok(None),
    }
}

/// The role file's text (`path` names it in an error).
pub fn membership_parse(path: &Path, text: &str) -> Result<Membership> {
    toml::from_str(text).map_err(|e| Error::internal(format!("{}: {e}", path.display())))
}

/// Written whole (temporary file, then rename), readable by root only.
pub fn membership_save(data_dir: &Path, m: &Membership) -> Result<()> {
    std::fs::create_dir_all(data_dir).map_err(Error::internal)?;
    let text = toml::to_string(m).map_err(Error::internal)?;
    write_private(&role_path(data_dir), text.as_bytes())
}

pub fn membership_remove(data_dir: &Path) -> Result<()> {
    DiskFiles.remove(&role_path(data_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_file_round_trip_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        assert_eq!(membership_load(d.path()).unwrap(), None);
        let m = Membership {
            controller: "http://10.213.1.1:5000".into(),
            node_uuid: uuid::Uuid::new_v4(),
            credential: "c".into(),
            control_token: "t".into(),
            controller_key: "ssh-ed25519 AAAA vdi-appliance".into(),
        };
        membership_save(d.path(), &m).unwrap();
        assert_eq!(membership_load(d.path()).unwrap(), Some(m));
        let mode = std::fs::metadata(role_path(d.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        membership_remove(d.path()).unwrap();
        membership_remove(d.path()).unwrap();
        assert_eq!(membership_load(d.path()).unwrap(), None);
    }
}
