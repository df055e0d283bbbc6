//! The remote-shell port: run one command on another server over SSH, with
//! the password (first contact) or the controller's own key (afterwards),
//! and the host key checked against the one pinned for that server.

use std::net::SocketAddr;
use std::time::Duration;

use super::BoxFuture;
use crate::error::Result;

/// How to log in.
#[derive(Clone)]
pub enum SshAuth {
    /// Only for the first contact (`node/check`, the first step of
    /// `node/add`); never stored, never logged.
    Password(String),
    /// The controller's own key (see [`RemoteShell::public_key`]).
    Key,
}

impl std::fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SshAuth::Password(_) => f.write_str("Password(…)"),
            SshAuth::Key => f.write_str("Key"),
        }
    }
}

/// A server to run a command on.
#[derive(Clone, Debug)]
pub struct SshTarget {
    pub addr: SocketAddr,
    pub user: String,
    pub auth: SshAuth,
    /// The host key fingerprint it must present (`SHA256:…`); `None` on the
    /// first contact, which learns it.
    pub host_key: Option<String>,
    /// Connection, handshake and command each get this long.
    pub timeout: Duration,
}

/// What one command did.
#[derive(Clone, Debug, PartialEq)]
pub struct Exec {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The fingerprint the server presented (`SHA256:` + base64).
    pub host_key: String,
    /// This end's address on the connection (how the server sees us).
    pub local_ip: Option<std::net::IpAddr>,
}

impl Exec {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim().to_string()
    }
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// SSH to other servers. Errors use the node codes: unreachable, refused,
/// timeout, authentication failed, host key changed.
pub trait RemoteShell: Send + Sync {
    /// Runs `cmd` (a shell command line) with `stdin` on the target.
    fn exec<'a>(
        &'a self,
        target: &'a SshTarget,
        cmd: &'a str,
        stdin: &'a [u8],
    ) -> BoxFuture<'a, Result<Exec>>;
    /// The controller's public key (`ssh-ed25519 … vdi-appliance`), made
    /// on first use.
    fn public_key(&self) -> BoxFuture<'_, Result<String>>;
}
