//! The accounts port: sets a local account's password (the root password
//! a controller's `node/check` and `node/add` log in with). The real
//! adapter feeds `chpasswd` on standard input, so the password is never
//! on a command line.

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
            let mut child = Command::new("chpasswd")
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
