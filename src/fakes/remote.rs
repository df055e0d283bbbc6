//! Fake servers behind the remote shell (password, host key, the service's
//! commands), the host's power commands, file fetches and accounts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::domain::cluster::{Probe, ProbeNic, ProbeWire, ServiceWire};
use crate::domain::inventory::{Mount, Virt};
use crate::domain::net::IfAddr;
use crate::domain::node::Membership;
use crate::error::{Code, Error, Result};
use crate::host::remote::{Exec, RemoteShell, SshAuth, SshTarget};
use crate::host::BoxFuture;
use std::sync::Arc;

use super::FakeDisks;

/// How a fake server answers a connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reach {
    Up,
    Unreachable,
    Refused,
    Timeout,
}

/// One fake server.
#[derive(Clone, Debug)]
pub struct FakeServer {
    pub reach: Reach,
    pub password: String,
    pub host_key: String,
    pub hostname: String,
    /// `None`: the appliance is not installed (exit 127).
    pub version: Option<String>,
    pub virt_capable: bool,
    pub mounts: Vec<String>,
    /// The service's own role (`setup`, `controller`, `compute`).
    pub role: String,
    pub membership: Option<Membership>,
    pub authorized_keys: Vec<String>,
    /// A command containing this text fails (exit 1).
    pub fail_on: Option<String>,
}

impl FakeServer {
    pub fn new(ip: &str) -> FakeServer {
        FakeServer {
            reach: Reach::Up,
            password: "root-pw".into(),
            host_key: format!("SHA256:fake-{ip}"),
            hostname: format!("node-{}", ip.replace('.', "-")),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            virt_capable: true,
            mounts: vec!["/data".into()],
            role: "setup".into(),
            membership: None,
            authorized_keys: Vec::new(),
            fail_on: None,
        }
    }

    fn probe(&self, ip: IpAddr) -> ProbeWire {
        let addr = match ip {
            IpAddr::V4(ip) => vec![IfAddr { ip, prefix: 24 }],
            IpAddr::V6(_) => vec![],
        };
        let p = Probe {
            hostname: self.hostname.clone(),
            nics: ["eth0", "eth1"]
                .iter()
                .enumerate()
                .map(|(i, n)| ProbeNic {
                    name: n.to_string(),
                    mac: format!("52:54:00:00:00:0{i}"),
                    addr: if i == 0 { addr.first().copied() } else { None },
                    addrs: if i == 0 { addr.clone() } else { vec![] },
                    speed_mbps: Some(1000),
                    running: true,
                    driver: Some("virtio_net".into()),
                    pci: None,
                    bridge: None,
                })
                .collect(),
            route: None,
            virt: Virt {
                cpu_flag: self.virt_capable.then(|| "vmx".to_string()),
                kvm_device: self.virt_capable,
                libvirt: Ok("libvirt 9.0.0 at qemu:///system".into()),
            },
            mounts: self
                .mounts
                .iter()
                .map(|m| Mount {
                    path: m.clone(),
                    device: "/dev/vdb1".into(),
                    fs: "ext4".into(),
                    total_bytes: 100 << 30,
                    available_bytes: 90 << 30,
                    rotational: Some(false),
                    writable: true,
                })
                .collect(),
        };
        let mut w = ProbeWire::new(
            &p,
            Ok(ServiceWire {
                role: self.role.clone(),
                controller: self.membership.as_ref().map(|m| m.controller.clone()),
                listen_port: 5000,
            }),
        );
        w.version = self.version.clone().unwrap_or_default();
        w
    }
}

/// One command the fake ran.
#[derive(Clone, Debug)]
pub struct Ran {
    pub ip: IpAddr,
    pub user: String,
    pub by_password: bool,
    pub cmd: String,
    pub stdin: String,
}

#[derive(Default)]
pub struct FakeRemote {
    pub servers: Mutex<HashMap<IpAddr, FakeServer>>,
    pub ran: Mutex<Vec<Ran>>,
}

fn ok(status: i32, out: impl Into<Vec<u8>>, err: &str, key: &str) -> Result<Exec> {
    Ok(Exec {
        status,
        stdout: out.into(),
        stderr: err.as_bytes().to_vec(),
        host_key: key.into(),
        local_ip: None,
    })
}

impl FakeRemote {
    pub fn add(&self, ip: &str, f: impl FnOnce(&mut FakeServer)) {
        let mut s = FakeServer::new(ip);
        f(&mut s);
        self.servers.lock().unwrap().insert(ip.parse().unwrap(), s);
    }

    pub fn with(&self, ip: &str, f: impl FnOnce(&mut FakeServer)) {
        let ip: IpAddr = ip.parse().unwrap();
        f(self
            .servers
            .lock()
            .unwrap()
            .get_mut(&ip)
            .expect("a fake server"));
    }

    pub fn server(&self, ip: &str) -> FakeServer {
        let ip: IpAddr = ip.parse().unwrap();
        self.servers.lock().unwrap()[&ip].clone()
    }

    fn run(&self, t: &SshTarget, cmd: &str, stdin: &[u8]) -> Result<Exec> {
        let ip = t.addr.ip();
        let mut servers = self.servers.lock().unwrap();
        let s = servers
            .get_mut(&ip)
            .ok_or_else(|| Error::new(Code::NodeUnreachable, format!("{ip} is unreachable")))?;
        match s.reach {
            Reach::Up => {}
            Reach::Unreachable => {
                return Err(Error::new(
                    Code::NodeUnreachable,
                    format!("{ip} is unreachable"),
                ))
            }
            Reach::Refused => {
                return Err(Error::new(
                    Code::NodeRefused,
                    format!("{ip} refused the connection"),
                ))
            }
            Reach::Timeout => {
                return Err(Error::new(
                    Code::NodeTimeout,
                    format!("{ip} did not answer in time"),
                ))
            }
        }
        if let Some(pin) = &t.host_key {
            if *pin != s.host_key {
                return Err(Error::new(
                    Code::NodeHostKeyChanged,
                    format!("{ip} presents host key {}, but {pin} is pinned", s.host_key),
                ));
            }
        }
        let accepted = match &t.auth {
            SshAuth::Password(p) => *p == s.password,
            SshAuth::Key => s
                .authorized_keys
                .iter()
                .any(|k| k.contains("vdi-appliance")),
        };
        if !accepted {
            return Err(Error::new(
                Code::NodeAuthFailed,
                format!("{}@{ip} did not accept the credentials", t.user),
            ));
        }
        self.ran.lock().unwrap().push(Ran {
            ip,
            user: t.user.clone(),
            by_password: matches!(t.auth, SshAuth::Password(_)),
            cmd: cmd.into(),
            stdin: String::from_utf8_lossy(stdin).into(),
        });
        let key = s.host_key.clone();
        if s.fail_on.as_deref().is_some_and(|f| cmd.contains(f)) {
            return ok(1, "", "injected failure", &key);
        }
        if s.version.is_none() {
            return ok(127, "", "sh: 1: vdi-appliance: not found", &key);
        }
        let verb = cmd.split_whitespace().nth(1).unwrap_or_default();
        match verb {
            "node-probe" => {
                let text = serde_json::to_string(&s.probe(ip)).map_err(Error::internal)?;
                ok(0, text, "", &key)
            }
            "node-join" => {
                let m: Membership = serde_json::from_slice(stdin)
                    .map_err(|e| Error::internal(format!("fake node-join: {e}")))?;
                if s.membership
                    .as_ref()
                    .is_some_and(|o| o.node_uuid != m.node_uuid)
                {
                    return ok(1, "", "already a node of another controller", &key);
                }
                s.authorized_keys.push(m.controller_key.clone());
                s.membership = Some(m);
                s.role = "compute".into();
                ok(0, "joined", "", &key)
            }
            "node-leave" => {
                if let Some(m) = s.membership.take() {
                    s.authorized_keys.retain(|k| *k != m.controller_key);
                }
                s.role = "setup".into();
                ok(0, "left", "", &key)
            }
            other => ok(2, "", &format!("unknown command {other}"), &key),
        }
    }
}

impl RemoteShell for FakeRemote {
    fn exec<'a>(
        &'a self,
        target: &'a SshTarget,
        cmd: &'a str,
        stdin: &'a [u8],
    ) -> BoxFuture<'a, Result<Exec>> {
        let r = self.run(target, cmd, stdin);
        Box::pin(async move { r })
    }

    fn public_key(&self) -> BoxFuture<'_, Result<String>> {
        Box::pin(async { Ok("ssh-ed25519 AAAAfake vdi-appliance".to_string()) })
    }
}

/// Records the power commands it was asked to run.
#[derive(Default)]
pub struct FakePower {
    pub ran: Mutex<Vec<String>>,
}

impl crate::host::power::Power for FakePower {
    fn run_later(&self, command: &str, _delay: std::time::Duration) -> BoxFuture<'_, Result<()>> {
        self.ran.lock().unwrap().push(command.to_string());
        Box::pin(async { Ok(()) })
    }
}

/// Pulls from a controller's fake disks into a node's: the file at the
/// `.part`'s path without `.part`, copied whole.
pub struct FakeFetch {
    pub source: Mutex<Option<Arc<FakeDisks>>>,
    pub disks: Arc<FakeDisks>,
    pub fetched: Mutex<Vec<std::path::PathBuf>>,
}

impl crate::host::fetch::Fetch for FakeFetch {
    fn fetch<'a>(
        &'a self,
        _base: &'a str,
        _token: &'a str,
        _path: &'a str,
        part: &'a std::path::Path,
        done: &'a std::sync::atomic::AtomicU64,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let text = part.to_string_lossy();
            let from = std::path::PathBuf::from(text.strip_suffix(".part").unwrap_or(&text));
            let src = self.source.lock().unwrap().clone();
            let copied = src.is_some_and(|s| self.disks.copy_between(&s, &from, part));
            if !copied {
                return Err(Error::new(
                    Code::NodeRemote,
                    format!("{}: not on the controller", from.display()),
                ));
            }
            self.fetched.lock().unwrap().push(from);
            done.store(1, std::sync::atomic::Ordering::SeqCst);
            Ok(1)
        })
    }
}

/// Remembers which accounts got a password (and the passwords, for the
/// test to compare; a real adapter keeps none).
#[derive(Default)]
pub struct FakeAccounts {
    pub set: Mutex<Vec<(String, String)>>,
}

impl crate::host::accounts::Accounts for FakeAccounts {
    fn set_password<'a>(&'a self, user: &'a str, password: &'a str) -> BoxFuture<'a, Result<()>> {
        self.set
            .lock()
            .unwrap()
            .push((user.to_string(), password.to_string()));
        Box::pin(async { Ok(()) })
    }
}
