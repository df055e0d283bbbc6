//! The power port: runs this host's configured shutdown or reboot command
//! a moment after it is asked, so the reply still gets out.

use std::time::Duration;

use super::BoxFuture;
use crate::error::Result;

pub trait Power: Send + Sync {
    /// Starts `command` (a shell command line) after `delay`.
    fn run_later(&self, command: &str, delay: Duration) -> BoxFuture<'_, Result<()>>;
}

pub struct Shell;

impl Power for Shell {
    fn run_later(&self, command: &str, delay: Duration) -> BoxFuture<'_, Result<()>> {
        let command = command.to_string();
        Box::pin(async move {
            std::thread::Builder::new()
                .name("vdi-power".into())
                .spawn(move || {
                    std::thread::sleep(delay);
                    log::warn!("running `{command}`");
                    match std::process::Command::new("sh")
                        .args(["-c", &command])
                        .status()
                    {
                        Ok(s) if s.success() => {}
                        Ok(s) => log::error!("`{command}` ended with {s}"),
                        Err(e) => log::error!("`{command}` could not start: {e}"),
                    }
                })
                .map(|_| ())
                .map_err(crate::error::Error::internal)
        })
    }
}
