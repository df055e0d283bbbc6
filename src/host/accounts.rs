//! The accounts port: sets a local account's password (the root password
//! a controller's `node/check` and `node/add` log in with). The real
//! adapter feeds `chpasswd` on standard input, so the password is never
//! on a command line. Under systemd the service's sandbox keeps `/etc`
//! read-only (`ProtectSystem=full`), so `chpasswd` runs as a transient
//! unit outside it (`systemd-run --pipe`).

use std::io::Write;
use std::process::{Command, Stdio};

use super::BoxFuture;
use crate::error::{Code, Error, Result};

pub trait Accounts: Send + Sync {
    fn set_password<'a>(&'a self, user: &'a str, password: &'a str) -> BoxFuture<'a, Result<()>>;
}

pub struct Chpasswd;

impl Accounts for Chpasswd {
    fn set_password<'a>(&'a self, user: &'a str, password: &'a str) -> BoxFuture<'a, Result<()>> {
        let line = format!("{user}:{password}\n");
        let user = user.to_string();
        Box::pin(smol::unblock(move || {
            let failed = |e: String| {
                Error::new(
                    Code::Internal,
                    format!("cannot set the password of `{user}`: {e}"),
                )
            };
            let under_systemd = std::env::var_os("INVOCATION_ID").is_some()
                && std::path::Path::new("/run/systemd/system").exists();
            let mut cmd = if under_systemd {
                let mut c = Command::new("systemd-run");
                c.args(["--quiet", "--wait", "--pipe", "--collect", "chpasswd"]);
                c
            } else {
                Command::new("chpasswd")
            };
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| failed(e.to_string()))?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(line.as_bytes())
                    .map_err(|e| failed(e.to_string()))?;
            }
            let out = child
                .wait_with_output()
                .map_err(|e| failed(e.to_string()))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(failed(
                    String::from_utf8_lossy(&out.stderr).trim().to_string(),
                ))
            }
        }))
    }
}
