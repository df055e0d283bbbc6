//! Keeping systemd-networkd off the appliance's links: one `.network` file
//! that marks them `Unmanaged=yes`, and a `networkctl reload` when it
//! changes. Without it networkd's DHCP would also run on bridge ports, bond
//! slaves and VLANs the reconciler made.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Code, Error, Result};

/// The file's name: sorts before the image's `90-vdi-dhcp.network`, and
/// networkd applies the first file that matches a link.
pub const FILE: &str = "10-vdi-appliance.network";

/// The file's text for `names` (sorted, deduplicated); `None` when the
/// appliance owns no link.
pub fn unmanaged_text(names: &[String]) -> Option<String> {
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return None;
    }
    Some(format!(
        "# Written by vdi-appliance: these links belong to the appliance (its\n\
         # bridges, VLANs, bonds and their ports); networkd leaves them alone.\n\
         [Match]\nName={}\n\n[Link]\nUnmanaged=yes\n",
        names.join(" ")
    ))
}

/// Writes (or removes) the file in `dir`; reloads networkd when the text
/// changed. Blocking: call through `smol::unblock`.
pub fn claim(dir: &Path, names: &[String]) -> Result<()> {
    let path: PathBuf = dir.join(FILE);
    let want = unmanaged_text(names);
    let have = std::fs::read_to_string(&path).ok();
    if want == have {
        return Ok(());
    }
    let io = |what: &str, e: std::io::Error| {
        Error::new(
            Code::HostNetwork,
            format!("cannot {what} {}: {e}", path.display()),
        )
    };
    match &want {
        Some(text) => {
            let tmp = dir.join(format!(".{FILE}.tmp"));
            std::fs::write(&tmp, text).map_err(|e| io("write", e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io("replace", e))?;
        }
        None => std::fs::remove_file(&path).map_err(|e| io("remove", e))?,
    }
    // networkd may not run (a host with another network manager): the
    // file is still right for its next start.
    match Command::new("networkctl").arg("reload").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => log::warn!(
            "networkctl reload: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => log::warn!("networkctl reload: {e}"),
    }
    log::info!("networkd: the appliance's links are now {names:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_sorted_and_empty_means_no_file() {
        assert_eq!(unmanaged_text(&[]), None);
        let t = unmanaged_text(&["ens5".into(), "bond0".into(), "ens5".into()]).unwrap();
        assert!(t.contains("\nName=bond0 ens5\n"), "{t}");
        assert!(t.contains("[Link]\nUnmanaged=yes\n"), "{t}");
    }

    #[test]
    fn claim_writes_replaces_and_removes() {
        let d = tempfile::tempdir().unwrap();
        claim(d.path(), &["ens4".into()]).unwrap();
        let f = d.path().join(FILE);
        assert!(std::fs::read_to_string(&f).unwrap().contains("Name=ens4\n"));
        claim(d.path(), &["ens4".into(), "brq1".into()]).unwrap();
        assert!(std::fs::read_to_string(&f)
            .unwrap()
            .contains("Name=brq1 ens4\n"));
        claim(d.path(), &[]).unwrap();
        assert!(!f.exists());
        // Nothing owned and no file: nothing to do.
        claim(d.path(), &[]).unwrap();
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }
}
