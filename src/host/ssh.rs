//! The real remote shell: libssh2 (the `ssh2` crate) on a blocking thread
//! through `smol::unblock`, one connection per command. The controller's
//! key pair is made with `ssh-keygen` in the data directory.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;

use ssh2::{HashType, Session};

use super::remote::{Exec, RemoteShell, SshAuth, SshTarget};
use super::BoxFuture;
use crate::error::{Code, Error, Result};

pub struct Ssh {
    /// The private key; `<key>.pub` beside it.
    key: PathBuf,
}

impl Ssh {
    pub fn new(key: PathBuf) -> Ssh {
        Ssh { key }
    }
}

/// `SHA256:` and unpadded base64, as `ssh-keygen -l` prints it.
pub fn fingerprint(sha256: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("SHA256:");
    for c in sha256.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=c.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn connect_error(t: &SshTarget, e: std::io::Error) -> Error {
    let (code, what) = match (e.kind(), e.raw_os_error()) {
        (ErrorKind::ConnectionRefused, _) => (Code::NodeRefused, "refused the connection"),
        (ErrorKind::TimedOut | ErrorKind::WouldBlock, _) => {
            (Code::NodeTimeout, "did not answer in time")
        }
        (_, Some(101 | 113)) | (ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable, _) => {
            (Code::NodeUnreachable, "is unreachable")
        }
        _ => (Code::NodeUnreachable, "cannot be connected to"),
    };
    Error::new(code, format!("{} {what}: {e}", t.addr.ip()))
}

fn ssh_error(t: &SshTarget, step: &str, e: ssh2::Error) -> Error {
    // LIBSSH2_ERROR_TIMEOUT
    if e.code() == ssh2::ErrorCode::Session(-9) {
        return Error::new(
            Code::NodeTimeout,
            format!("{} did not answer in time ({step})", t.addr.ip()),
        );
    }
    Error::new(
        Code::NodeRemote,
        format!("SSH to {} failed ({step}): {}", t.addr.ip(), e.message()),
    )
}

fn run(t: &SshTarget, key: &std::path::Path, cmd: &str, stdin: &[u8]) -> Result<Exec> {
    let tcp = TcpStream::connect_timeout(&t.addr, t.timeout).map_err(|e| connect_error(t, e))?;
    let _ = tcp.set_read_timeout(Some(t.timeout));
    let _ = tcp.set_write_timeout(Some(t.timeout));
    let local_ip = tcp.local_addr().ok().map(|a| a.ip());
    let mut s = Session::new().map_err(|e| ssh_error(t, "session", e))?;
    s.set_timeout(t.timeout.as_millis().min(u32::MAX as u128) as u32);
    s.set_tcp_stream(tcp);
    s.handshake().map_err(|e| ssh_error(t, "handshake", e))?;
    let host_key = s
        .host_key_hash(HashType::Sha256)
        .map(fingerprint)
        .ok_or_else(|| {
            Error::new(
                Code::NodeRemote,
                format!("{} presented no host key", t.addr.ip()),
            )
        })?;
    if let Some(pinned) = &t.host_key {
        if *pinned != host_key {
            return Err(Error::new(
                Code::NodeHostKeyChanged,
                format!(
                    "{} presents host key {host_key}, but {pinned} is pinned for it",
                    t.addr.ip()
                ),
            ));
        }
    }
    let auth = match &t.auth {
        SshAuth::Password(p) => s.userauth_password(&t.user, p),
        SshAuth::Key => s.userauth_pubkey_file(&t.user, None, key, None),
    };
    if auth.is_err() || !s.authenticated() {
        let how = match t.auth {
            SshAuth::Password(_) => "password",
            SshAuth::Key => "the controller's key",
        };
        return Err(Error::new(
            Code::NodeAuthFailed,
            format!("{}@{} did not accept {how}", t.user, t.addr.ip()),
        ));
    }
    let mut ch = s
        .channel_session()
        .map_err(|e| ssh_error(t, "channel", e))?;
    ch.exec(cmd).map_err(|e| ssh_error(t, "exec", e))?;
    if !stdin.is_empty() {
        ch.write_all(stdin)
            .map_err(|e| Error::new(Code::NodeRemote, format!("{}: {e}", t.addr.ip())))?;
    }
    ch.send_eof().map_err(|e| ssh_error(t, "eof", e))?;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let io = |e: std::io::Error| {
        if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) {
            Error::new(
                Code::NodeTimeout,
                format!("{}: the command did not finish in time", t.addr.ip()),
            )
        } else {
            Error::new(Code::NodeRemote, format!("{}: {e}", t.addr.ip()))
        }
    };
    ch.read_to_end(&mut stdout).map_err(io)?;
    ch.stderr().read_to_end(&mut stderr).map_err(io)?;
    ch.wait_close().map_err(|e| ssh_error(t, "close", e))?;
    let status = ch.exit_status().map_err(|e| ssh_error(t, "status", e))?;
    let _ = s.disconnect(None, "done", None);
    Ok(Exec {
        status,
        stdout,
        stderr,
        host_key,
        local_ip,
    })
}

impl RemoteShell for Ssh {
    fn exec<'a>(
        &'a self,
        target: &'a SshTarget,
        cmd: &'a str,
        stdin: &'a [u8],
    ) -> BoxFuture<'a, Result<Exec>> {
        let (t, key, cmd, stdin) = (
            target.clone(),
            self.key.clone(),
            cmd.to_string(),
            stdin.to_vec(),
        );
        Box::pin(smol::unblock(move || run(&t, &key, &cmd, &stdin)))
    }

    fn public_key(&self) -> BoxFuture<'_, Result<String>> {
        let key = self.key.clone();
        Box::pin(smol::unblock(move || {
            let public = key.with_extension("pub");
            if !key.exists() {
                if let Some(dir) = key.parent() {
                    std::fs::create_dir_all(dir).map_err(Error::internal)?;
                }
                let out = Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-C", "vdi-appliance", "-f"])
                    .arg(&key)
                    .output()
                    .map_err(|e| Error::internal(format!("ssh-keygen: {e}")))?;
                if !out.status.success() {
                    return Err(Error::internal(format!(
                        "ssh-keygen: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
            }
            let text = std::fs::read_to_string(&public).map_err(Error::internal)?;
            Ok(text.trim().to_string())
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints_look_like_ssh_keygens() {
        // sha256 of nothing; ssh-keygen would print these 43 characters.
        let d = [
            0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
            0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
            0x78, 0x52, 0xb8, 0x55,
        ];
        assert_eq!(
            super::fingerprint(&d),
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }
}
