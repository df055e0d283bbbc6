//! An in-memory host network that follows the kernel's rules closely enough
//! for the reconciler's tests: unique names, masters must be bridges or
//! bonds, VLANs need their parent, addresses are per link; a test can make
//! the n-th change fail.

use std::sync::Mutex;

use crate::domain::net::{BondMode, DefaultRoute, IfAddr, Link, LinkKind, IFNAME_MAX};
use crate::error::{Code, Error, Result};
use crate::host::net::HostNet;
use crate::host::BoxFuture;

#[derive(Default)]
struct State {
    links: Vec<Link>,
    route: Option<DefaultRoute>,
    next_index: u32,
    changes: usize,
    fail_at: Option<usize>,
    /// The links last claimed from the OS's network manager.
    claimed: Vec<String>,
}

#[derive(Default)]
pub struct FakeNet {
    state: Mutex<State>,
}

fn kernel(msg: String) -> Error {
    Error::new(Code::HostNetwork, msg)
}

impl FakeNet {
    /// A host with these physical NICs (name, addresses).
    pub fn with_nics(nics: &[(&str, &[IfAddr])]) -> FakeNet {
        let f = FakeNet::default();
        for (name, addrs) in nics {
            f.add(name, LinkKind::Physical).unwrap();
            let mut s = f.state.lock().unwrap();
            let l = s.links.iter_mut().find(|l| l.name == *name).unwrap();
            l.addrs = addrs.to_vec();
            l.up = true;
        }
        f
    }

    pub fn set_route(&self, r: Option<DefaultRoute>) {
        self.state.lock().unwrap().route = r;
    }

    /// Makes the `n`-th change from now fail (1 = the next one).
    pub fn fail_change(&self, n: usize) {
        let mut s = self.state.lock().unwrap();
        s.fail_at = Some(s.changes + n);
    }

    /// The links last claimed from the OS's network manager.
    pub fn claimed(&self) -> Vec<String> {
        self.state.lock().unwrap().claimed.clone()
    }

    pub fn snapshot(&self) -> (Vec<Link>, Option<DefaultRoute>) {
        let s = self.state.lock().unwrap();
        (s.links.clone(), s.route.clone())
    }

    pub fn link(&self, name: &str) -> Option<Link> {
        self.state
            .lock()
            .unwrap()
            .links
            .iter()
            .find(|l| l.name == name)
            .cloned()
    }

    /// Removes a link behind the service's back.
    pub fn yank(&self, name: &str) {
        let mut s = self.state.lock().unwrap();
        s.links.retain(|l| l.name != name);
        for l in s.links.iter_mut() {
            if l.master.as_deref() == Some(name) {
                l.master = None;
            }
        }
    }

    fn change<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut s = self.state.lock().unwrap();
        s.changes += 1;
        if s.fail_at == Some(s.changes) {
            return Err(kernel(
                "injected failure: Operation not permitted (os error 1)".into(),
            ));
        }
        f(&mut s)
    }

    fn add(&self, name: &str, kind: LinkKind) -> Result<()> {
        if name.len() > IFNAME_MAX {
            return Err(kernel(format!(
                "cannot create `{name}`: Numerical result out of range"
            )));
        }
        self.change(|s| {
            if s.links.iter().any(|l| l.name == name) {
                return Err(kernel(format!(
                    "cannot create `{name}`: File exists (os error 17)"
                )));
            }
            s.next_index += 1;
            let index = s.next_index;
            s.links.push(Link {
                index,
                name: name.into(),
                mac: format!("52:54:00:00:00:{index:02x}"),
                up: false,
                running: false,
                mtu: 1500,
                kind,
                master: None,
                speed_mbps: None,
                driver: None,
                pci: None,
                addrs: Vec::new(),
            });
            Ok(())
        })
    }
}

fn get<'a>(s: &'a mut State, name: &str) -> Result<&'a mut Link> {
    s.links.iter_mut().find(|l| l.name == name).ok_or_else(|| {
        Error::new(
            Code::LinkNotFound,
            format!("Interface `{name}` does not exist on this host"),
        )
    })
}

impl HostNet for FakeNet {
    fn links(&self) -> BoxFuture<'_, Result<Vec<Link>>> {
        let l = self.state.lock().unwrap().links.clone();
        Box::pin(async move { Ok(l) })
    }

    fn bridge_add<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.add(name, LinkKind::Bridge) })
    }

    fn vlan_add<'a>(
        &'a self,
        name: &'a str,
        parent: &'a str,
        id: u16,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if self.link(parent).is_none() {
                return Err(Error::new(
                    Code::LinkNotFound,
                    format!("Interface `{parent}` does not exist on this host"),
                ));
            }
            self.add(
                name,
                LinkKind::Vlan {
                    parent: parent.into(),
                    id,
                },
            )
        })
    }

    fn bond_add<'a>(
        &'a self,
        name: &'a str,
        mode: BondMode,
        _miimon_ms: u32,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.add(name, LinkKind::Bond { mode }) })
    }

    fn link_del<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.change(|s| {
                get(s, name)?;
                s.links.retain(|l| l.name != name);
                for l in s.links.iter_mut() {
                    if l.master.as_deref() == Some(name) {
                        l.master = None;
                    }
                }
                if s.route.as_ref().is_some_and(|r| r.dev == name) {
                    s.route = None;
                }
                // VLANs on a deleted link go with it.
                s.links.retain(
                    |l| !matches!(&l.kind, LinkKind::Vlan { parent, .. } if parent == name),
                );
                Ok(())
            })
        })
    }

    fn set_master<'a>(
        &'a self,
        name: &'a str,
        master: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.change(|s| {
                if let Some(m) = master {
                    let k = get(s, m)?.kind.clone();
                    if !matches!(k, LinkKind::Bridge | LinkKind::Bond { .. }) {
                        return Err(kernel(format!(
                            "cannot enslave `{name}` to `{m}`: Operation not supported"
                        )));
                    }
                }
                get(s, name)?.master = master.map(Into::into);
                Ok(())
            })
        })
    }

    fn set_up<'a>(&'a self, name: &'a str, up: bool) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.change(|s| {
                let l = get(s, name)?;
                l.up = up;
                l.running = up;
                Ok(())
            })
        })
    }

    fn addr_add<'a>(&'a self, name: &'a str, addr: IfAddr) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.change(|s| {
                let l = get(s, name)?;
                if l.addrs.contains(&addr) {
                    return Err(kernel(format!(
                        "cannot add {}/{} to `{name}`: File exists",
                        addr.ip, addr.prefix
                    )));
                }
                l.addrs.push(addr);
                Ok(())
            })
        })
    }

    fn addr_del<'a>(&'a self, name: &'a str, addr: IfAddr) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.change(|s| {
                get(s, name)?.addrs.retain(|a| *a != addr);
                Ok(())
            })
        })
    }

    fn default_route(&self) -> BoxFuture<'_, Result<Option<DefaultRoute>>> {
        let r = self.state.lock().unwrap().route.clone();
        Box::pin(async move { Ok(r) })
    }

    fn default_route_set<'a>(
        &'a self,
        route: Option<&'a DefaultRoute>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.change(|s| {
                if let Some(r) = route {
                    get(s, &r.dev)?;
                }
                s.route = route.cloned();
                Ok(())
            })
        })
    }

    fn links_claim<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<()>> {
        self.state.lock().unwrap().claimed = names.to_vec();
        Box::pin(async { Ok(()) })
    }
}
