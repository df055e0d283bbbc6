//! The commands the controller runs on a server over SSH. `node-probe`
//! prints the server's facts as JSON; `node-join` reads the membership on
//! standard input, installs the controller's key for this account and
//! writes the role file; `node-leave` takes both back. The running service
//! sees the role file change and restarts itself in its new role.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{membership_load, membership_remove, membership_save};
use crate::config::Config;
use crate::domain::cluster::{ProbeWire, ServiceWire};
use crate::domain::node::Membership;
use crate::error::{Error, Result};
use crate::host::node_client::Http;

fn authorized_keys() -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::internal("HOME is not set"))?;
    Ok(PathBuf::from(home).join(".ssh").join("authorized_keys"))
}

fn keys_edit(path: &Path, key: &str, add: bool) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines: Vec<&str> = text.lines().filter(|l| l.trim() != key.trim()).collect();
    if add {
        lines.push(key.trim());
    } else if lines.len() == text.lines().count() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::internal)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(Error::internal)?;
    }
    let mut body = lines.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    super::write_private(path, body.as_bytes())
}

/// What the local service says of itself.
fn service_state(cfg: &Config) -> std::result::Result<ServiceWire, String> {
    let listen = cfg
        .listen
        .parse::<std::net::SocketAddr>()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 5000)));
    let port = listen.port();
    // The service's own address, or loopback when it listens on all.
    let host = if listen.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        listen.ip().to_string()
    };
    let http = Http {
        timeout: Duration::from_secs(5),
    };
    let v = smol::block_on(http.get(&format!("http://{host}:{port}"), "/api/v1/health")).map_err(
        |e| {
            format!(
                "the appliance service does not answer on port {port}: {}",
                e.message
            )
        },
    )?;
    Ok(ServiceWire {
        role: v["role"].as_str().unwrap_or("unknown").to_string(),
        controller: v["controller"].as_str().map(String::from),
        listen_port: port,
    })
}

/// `vdi-appliance node-probe`: this server's facts as one JSON line.
pub fn node_probe(cfg: &Config) -> Result<String> {
    let b = crate::app::real_backends(cfg)?;
    let probe = smol::block_on(crate::service::node::probe_host(
        b.inventory.as_ref(),
        b.net.as_ref(),
        b.hypervisor.as_ref(),
    ))?;
    serde_json::to_string(&ProbeWire::new(&probe, service_state(cfg))).map_err(Error::internal)
}

fn read_stdin<T: serde::de::DeserializeOwned>() -> Result<T> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(Error::internal)?;
    serde_json::from_str(&text).map_err(|e| Error::internal(format!("standard input: {e}")))
}

/// What `node-leave` is told: which node leaves, and the key to remove.
#[derive(serde::Deserialize)]
struct Leave {
    node_uuid: uuid::Uuid,
    controller_key: String,
}

/// `vdi-appliance node-join`: refuses when this server belongs to another
/// controller's node already.
pub fn node_join(cfg: &Config) -> Result<String> {
    let m: Membership = read_stdin()?;
    if let Some(old) = membership_load(&cfg.data_dir)? {
        if old.node_uuid != m.node_uuid {
            return Err(Error::internal(format!(
                "this server is already node {} of {}",
                old.node_uuid, old.controller
            )));
        }
    }
    keys_edit(&authorized_keys()?, &m.controller_key, true)?;
    if let Err(e) = membership_save(&cfg.data_dir, &m) {
        let _ = keys_edit(&authorized_keys()?, &m.controller_key, false);
        return Err(e);
    }
    Ok(format!("joined {} as node {}", m.controller, m.node_uuid))
}

/// `vdi-appliance node-leave`: only the node named on standard input
/// leaves (a stale controller cannot evict a node that joined another).
pub fn node_leave(cfg: &Config) -> Result<String> {
    let m: Leave = read_stdin()?;
    match membership_load(&cfg.data_dir)? {
        Some(old) if old.node_uuid != m.node_uuid => Err(Error::internal(format!(
            "this server is node {}, not {}",
            old.node_uuid, m.node_uuid
        ))),
        _ => {
            membership_remove(&cfg.data_dir)?;
            keys_edit(&authorized_keys()?, &m.controller_key, false)?;
            Ok(format!("left as node {}", m.node_uuid))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_added_once_and_removed_alone() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(".ssh").join("authorized_keys");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "ssh-rsa AAAA admin\n").unwrap();
        keys_edit(&p, "ssh-ed25519 BBBB vdi-appliance", true).unwrap();
        keys_edit(&p, "ssh-ed25519 BBBB vdi-appliance", true).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "ssh-rsa AAAA admin\nssh-ed25519 BBBB vdi-appliance\n"
        );
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        keys_edit(&p, "ssh-ed25519 BBBB vdi-appliance", false).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "ssh-rsa AAAA admin\n");
    }
}
