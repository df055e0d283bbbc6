//! A hypervisor in memory: defined domains with their XML and power state,
//! reachability set by the test, and a failure that can be armed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use uuid::Uuid;

use crate::domain::console::Protocol;
use crate::error::{Code, Error, Result};
use crate::host::{BoxFuture, Hypervisor, HypervisorInfo, PowerOp, PowerState, SpiceAddr, Stream};

#[derive(Clone, Debug)]
pub struct FakeDomain {
    pub name: String,
    pub xml: String,
    pub state: PowerState,
    pub port: u16,
    /// Device XML applied to the running domain, oldest first.
    pub updates: Vec<String>,
}

#[derive(Default)]
struct Inner {
    domains: HashMap<Uuid, FakeDomain>,
    next_port: u16,
    /// The operation (`define`, `start`, …) that fails next.
    fail: Option<String>,
}

/// A hypervisor whose reachability the test sets.
pub struct FakeHypervisor {
    pub reachable: AtomicBool,
    inner: Mutex<Inner>,
    /// Where the running domains' graphics servers are (a test's own
    /// listener); `None`: connecting to one fails.
    pub graphics_server: Mutex<Option<std::net::SocketAddr>>,
}

impl FakeHypervisor {
    pub fn new(reachable: bool) -> Self {
        FakeHypervisor {
            reachable: AtomicBool::new(reachable),
            inner: Mutex::new(Inner::default()),
            graphics_server: Mutex::new(None),
        }
    }

    pub fn domain(&self, uuid: &Uuid) -> Option<FakeDomain> {
        self.inner.lock().unwrap().domains.get(uuid).cloned()
    }

    pub fn domains(&self) -> Vec<(Uuid, FakeDomain)> {
        let g = self.inner.lock().unwrap();
        g.domains.iter().map(|(u, d)| (*u, d.clone())).collect()
    }

    /// Changes a domain's power state behind the service's back (a guest
    /// that shut itself down, a crash).
    pub fn set_state(&self, uuid: &Uuid, state: PowerState) {
        if let Some(d) = self.inner.lock().unwrap().domains.get_mut(uuid) {
            d.state = state;
        }
    }

    /// Forgets a domain as a libvirtd that lost its state would.
    pub fn forget(&self, uuid: &Uuid) {
        self.inner.lock().unwrap().domains.remove(uuid);
    }

    /// Makes the next `op` (define, undefine, start, shutdown, destroy,
    /// reboot, reset, update) fail.
    pub fn fail_next(&self, op: &str) {
        self.inner.lock().unwrap().fail = Some(op.into());
    }

    /// A guest that ignores ACPI stays up on `Shutdown`; this one obeys,
    /// unless the XML description says `ignore-acpi`.
    fn run<T: Send + 'static>(
        &self,
        op: &str,
        f: impl FnOnce(&mut Inner) -> Result<T>,
    ) -> BoxFuture<'_, Result<T>> {
        let r = if !self.reachable.load(Ordering::SeqCst) {
            Err(Error::new(
                Code::HypervisorUnavailable,
                "libvirt is unreachable",
            ))
        } else {
            let mut g = self.inner.lock().unwrap();
            if g.fail.as_deref() == Some(op) {
                g.fail = None;
                Err(Error::new(
                    Code::HypervisorFailed,
                    format!("libvirt: injected {op} failure"),
                ))
            } else {
                f(&mut g)
            }
        };
        Box::pin(async move { r })
    }
}

fn no_domain(uuid: &Uuid) -> Error {
    Error::new(
        Code::HypervisorFailed,
        format!("libvirt: Domain not found: no domain with matching uuid '{uuid}'"),
    )
}

fn tag<'a>(xml: &'a str, t: &str) -> Option<&'a str> {
    let open = format!("<{t}>");
    let a = xml.find(&open)? + open.len();
    let b = xml[a..].find(&format!("</{t}>"))?;
    Some(&xml[a..a + b])
}

impl Hypervisor for FakeHypervisor {
    fn probe(&self) -> BoxFuture<'_, Result<HypervisorInfo>> {
        self.run("probe", |_| {
            Ok(HypervisorInfo {
                uri: "fake:///".into(),
                libvirt_version: "9.0.0".into(),
                hypervisor_version: "7.2.0".into(),
            })
        })
    }

    fn define(&self, xml: String) -> BoxFuture<'_, Result<()>> {
        self.run("define", move |g| {
            let uuid = tag(&xml, "uuid")
                .and_then(|u| Uuid::parse_str(u).ok())
                .ok_or_else(|| Error::new(Code::HypervisorFailed, "libvirt: XML without a uuid"))?;
            let name = tag(&xml, "name").unwrap_or("").to_string();
            let (state, port, updates) = match g.domains.get(&uuid) {
                Some(d) => (d.state, d.port, d.updates.clone()),
                None => (PowerState::Off, 0, Vec::new()),
            };
            g.domains.insert(
                uuid,
                FakeDomain {
                    name,
                    xml,
                    state,
                    port,
                    updates,
                },
            );
            Ok(())
        })
    }

    fn undefine(&self, uuid: Uuid) -> BoxFuture<'_, Result<()>> {
        self.run("undefine", move |g| {
            g.domains.remove(&uuid);
            Ok(())
        })
    }

    fn power(&self, uuid: Uuid, op: PowerOp) -> BoxFuture<'_, Result<()>> {
        let name = format!("{op:?}").to_lowercase();
        self.run(&name, move |g| {
            g.next_port = g.next_port.wrapping_add(1);
            let port = 5900 + g.next_port % 1000;
            let d = g.domains.get_mut(&uuid).ok_or_else(|| no_domain(&uuid))?;
            let on = d.state != PowerState::Off;
            match op {
                PowerOp::Start if on => {
                    return Err(Error::new(
                        Code::HypervisorFailed,
                        "libvirt: domain is already running",
                    ))
                }
                PowerOp::Start => {
                    d.state = PowerState::Running;
                    d.port = port;
                }
                _ if !on => {
                    return Err(Error::new(
                        Code::HypervisorFailed,
                        "libvirt: domain is not running",
                    ))
                }
                PowerOp::Shutdown if d.xml.contains("ignore-acpi") => {}
                PowerOp::Shutdown | PowerOp::Destroy => {
                    d.state = PowerState::Off;
                    d.port = 0;
                }
                PowerOp::Reboot | PowerOp::Reset => {}
            }
            Ok(())
        })
    }

    fn state(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<PowerState>>> {
        self.run("state", move |g| Ok(g.domains.get(&uuid).map(|d| d.state)))
    }

    fn spice(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<SpiceAddr>>> {
        self.run("spice", move |g| {
            Ok(g.domains
                .get(&uuid)
                .filter(|d| d.state == PowerState::Running)
                .map(|d| SpiceAddr {
                    listen: crate::domain::vmxml::graphics_of(&d.xml, Protocol::Spice)
                        .map(|g| g.0)
                        .unwrap_or_else(|| "0.0.0.0".into()),
                    port: d.port,
                }))
        })
    }

    fn graphics_connect(&self, uuid: Uuid, p: Protocol) -> BoxFuture<'_, Result<Option<Stream>>> {
        let running = self.run("graphics", move |g| {
            Ok(g.domains.get(&uuid).is_some_and(|d| {
                d.state == PowerState::Running && d.xml.contains(&format!("type='{p}'"))
            }))
        });
        let at = *self.graphics_server.lock().unwrap();
        Box::pin(async move {
            if !running.await? {
                return Ok(None);
            }
            let at = at.ok_or_else(|| {
                Error::new(Code::HypervisorFailed, "The fake has no graphics server")
            })?;
            let addr = SpiceAddr {
                listen: at.ip().to_string(),
                port: at.port(),
            };
            crate::host::libvirt::dial_graphics(&addr).await.map(Some)
        })
    }

    fn update_device(&self, uuid: Uuid, xml: String) -> BoxFuture<'_, Result<()>> {
        self.run("update", move |g| {
            let d = g.domains.get_mut(&uuid).ok_or_else(|| no_domain(&uuid))?;
            if d.state == PowerState::Off {
                return Err(Error::new(
                    Code::HypervisorFailed,
                    "libvirt: domain is not running",
                ));
            }
            d.updates.push(xml);
            Ok(())
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<(Uuid, String)>>> {
        self.run("list", |g| {
            Ok(g.domains
                .iter()
                .map(|(u, d)| (*u, d.name.clone()))
                .collect())
        })
    }

    fn states(&self) -> BoxFuture<'_, Result<Vec<(Uuid, PowerState)>>> {
        self.run("states", |g| {
            Ok(g.domains.iter().map(|(u, d)| (*u, d.state)).collect())
        })
    }
}
