//! The rtnetlink adapter of the `HostNet` port (smol socket), with the
//! facts netlink lacks (speed, driver, PCI address) read from sysfs.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{
    BondMode as NlBondMode, InfoBond, InfoData, InfoKind, InfoVlan, LinkAttribute, LinkFlags,
    LinkInfo, LinkMessage,
};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage};
use rtnetlink::{Handle, LinkBond, LinkBridge, LinkUnspec, LinkVlan, RouteMessageBuilder};
use smol::stream::StreamExt;

use super::net::HostNet;
use super::BoxFuture;
use crate::domain::net::{BondMode, DefaultRoute, IfAddr, Link, LinkKind};
use crate::error::{Code, Error, Result};

pub struct Netlink {
    handle: Handle,
    /// Where networkd is told which links are ours (`networkd_dir`).
    networkd_dir: Option<std::path::PathBuf>,
}

fn nl_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(Code::HostNetwork, format!("{what}: {e}"))
}

impl Netlink {
    /// Opens a netlink socket in the calling thread's network namespace; the
    /// connection future is handed to `spawn` to run on the service executor.
    pub fn connect(spawn: impl FnOnce(BoxFuture<'static, ()>)) -> Result<Netlink> {
        let (conn, handle, _) =
            rtnetlink::new_connection_with_socket::<rtnetlink::sys::SmolSocket>()
                .map_err(|e| nl_err("cannot open a netlink socket", e))?;
        spawn(Box::pin(conn));
        Ok(Netlink {
            handle,
            networkd_dir: None,
        })
    }

    /// Marks the appliance's links unmanaged in networkd's `dir` (empty: never).
    pub fn with_networkd(mut self, dir: &str) -> Netlink {
        self.networkd_dir = (!dir.is_empty()).then(|| dir.into());
        self
    }

    async fn index(&self, name: &str) -> Result<u32> {
        let mut s = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        match s.try_next().await {
            Ok(Some(m)) => Ok(m.header.index),
            Ok(None) => Err(not_found(name)),
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -19 => Err(not_found(name)),
            Err(e) => Err(nl_err(&format!("cannot look up `{name}`"), e)),
        }
    }

    async fn link_add(&self, msg: LinkMessage, what: String) -> Result<()> {
        self.handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(|e| nl_err(&what, e))
    }

    async fn link_set(&self, msg: LinkMessage, what: String) -> Result<()> {
        self.handle
            .link()
            .set(msg)
            .execute()
            .await
            .map_err(|e| nl_err(&what, e))
    }

    async fn addrs(&self) -> Result<Vec<(u32, IfAddr)>> {
        let mut out = Vec::new();
        let mut s = self.handle.address().get().execute();
        while let Some(m) = s
            .try_next()
            .await
            .map_err(|e| nl_err("cannot list addresses", e))?
        {
            if let Some(a) = ipv4_of(&m) {
                out.push((m.header.index, a));
            }
        }
        Ok(out)
    }

    async fn address_message(&self, name: &str, addr: IfAddr) -> Result<Option<AddressMessage>> {
        let index = self.index(name).await?;
        let mut s = self
            .handle
            .address()
            .get()
            .set_link_index_filter(index)
            .execute();
        while let Some(m) = s
            .try_next()
            .await
            .map_err(|e| nl_err("cannot list addresses", e))?
        {
            if ipv4_of(&m) == Some(addr) {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    async fn default_routes(&self) -> Result<Vec<RouteMessage>> {
        let req = RouteMessageBuilder::<Ipv4Addr>::new().build();
        let mut s = self.handle.route().get(req).execute();
        let mut out = Vec::new();
        while let Some(m) = s
            .try_next()
            .await
            .map_err(|e| nl_err("cannot list routes", e))?
        {
            if m.header.destination_prefix_length == 0
                && m.header.table == RouteHeader::RT_TABLE_MAIN
            {
                out.push(m);
            }
        }
        Ok(out)
    }
}

fn not_found(name: &str) -> Error {
    Error::new(
        Code::LinkNotFound,
        format!("Interface `{name}` does not exist on this host"),
    )
}

fn ipv4_of(m: &AddressMessage) -> Option<IfAddr> {
    m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(IpAddr::V4(ip)) | AddressAttribute::Address(IpAddr::V4(ip)) => {
            Some(IfAddr {
                ip: *ip,
                prefix: m.header.prefix_len,
            })
        }
        _ => None,
    })
}

fn sysfs(name: &str, file: &str) -> Option<String> {
    std::fs::read_to_string(Path::new("/sys/class/net").join(name).join(file))
        .ok()
        .map(|s| s.trim().to_string())
}

fn sysfs_link(name: &str, file: &str) -> Option<String> {
    std::fs::read_link(Path::new("/sys/class/net").join(name).join(file))
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
}

fn to_link(m: &LinkMessage, names: &std::collections::HashMap<u32, String>) -> Link {
    let mut name = String::new();
    let (mut mac, mut mtu, mut master, mut kind_info, mut parent) =
        (String::new(), 0, None, None, None);
    let (mut vlan_id, mut bond_mode) = (None, None);
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => name = n.clone(),
            LinkAttribute::Address(b) => {
                mac = b
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<Vec<_>>()
                    .join(":");
            }
            LinkAttribute::Mtu(v) => mtu = *v,
            LinkAttribute::Controller(i) => master = names.get(i).cloned(),
            LinkAttribute::Link(i) => parent = names.get(i).cloned(),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(k) => kind_info = Some(k.clone()),
                        LinkInfo::Data(InfoData::Vlan(v)) => {
                            vlan_id = v.iter().find_map(|x| {
                                if let InfoVlan::Id(id) = x {
                                    Some(*id)
                                } else {
                                    None
                                }
                            });
                        }
                        LinkInfo::Data(InfoData::Bond(b)) => {
                            bond_mode = b.iter().find_map(|x| {
                                if let InfoBond::Mode(m) = x {
                                    Some(*m)
                                } else {
                                    None
                                }
                            });
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let physical = Path::new("/sys/class/net")
        .join(&name)
        .join("device")
        .exists();
    let kind = match kind_info {
        Some(InfoKind::Bridge) => LinkKind::Bridge,
        Some(InfoKind::Vlan) => LinkKind::Vlan {
            parent: parent.unwrap_or_default(),
            id: vlan_id.unwrap_or(0),
        },
        Some(InfoKind::Bond) => LinkKind::Bond {
            mode: match bond_mode {
                Some(NlBondMode::ActiveBackup) => BondMode::ActiveBackup,
                Some(NlBondMode::BalanceAlb) => BondMode::BalanceAlb,
                _ => BondMode::BalanceRr,
            },
        },
        Some(InfoKind::Veth) => LinkKind::Veth,
        Some(InfoKind::Dummy) => LinkKind::Dummy,
        Some(other) => LinkKind::Other(format!("{other:?}").to_lowercase()),
        None if m.header.flags.contains(LinkFlags::Loopback) => LinkKind::Loopback,
        None if physical => LinkKind::Physical,
        None => LinkKind::Other(String::new()),
    };
    Link {
        index: m.header.index,
        speed_mbps: sysfs(&name, "speed")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|s| *s > 0)
            .map(|s| s as u32),
        driver: sysfs_link(&name, "device/driver"),
        pci: if physical {
            sysfs_link(&name, "device")
        } else {
            None
        },
        name,
        mac,
        up: m.header.flags.contains(LinkFlags::Up),
        running: m.header.flags.contains(LinkFlags::Running),
        mtu,
        kind,
        master,
        addrs: Vec::new(),
    }
}

impl HostNet for Netlink {
    fn links(&self) -> BoxFuture<'_, Result<Vec<Link>>> {
        Box::pin(async move {
            let mut msgs = Vec::new();
            let mut s = self.handle.link().get().execute();
            while let Some(m) = s
                .try_next()
                .await
                .map_err(|e| nl_err("cannot list links", e))?
            {
                msgs.push(m);
            }
            let names: std::collections::HashMap<u32, String> = msgs
                .iter()
                .filter_map(|m| {
                    m.attributes.iter().find_map(|a| match a {
                        LinkAttribute::IfName(n) => Some((m.header.index, n.clone())),
                        _ => None,
                    })
                })
                .collect();
            let mut links: Vec<Link> = msgs.iter().map(|m| to_link(m, &names)).collect();
            for (index, a) in self.addrs().await? {
                if let Some(l) = links.iter_mut().find(|l| l.index == index) {
                    l.addrs.push(a);
                }
            }
            links.sort_by_key(|l| l.index);
            Ok(links)
        })
    }

    fn bridge_add<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.link_add(
                LinkBridge::new(name).build(),
                format!("cannot create bridge `{name}`"),
            )
            .await
        })
    }

    fn vlan_add<'a>(
        &'a self,
        name: &'a str,
        parent: &'a str,
        id: u16,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let p = self.index(parent).await?;
            self.link_add(
                LinkVlan::new(name, p, id).build(),
                format!("cannot create VLAN `{name}` on `{parent}`"),
            )
            .await
        })
    }

    fn bond_add<'a>(
        &'a self,
        name: &'a str,
        mode: BondMode,
        miimon_ms: u32,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let m = match mode {
                BondMode::BalanceRr => NlBondMode::BalanceRr,
                BondMode::ActiveBackup => NlBondMode::ActiveBackup,
                BondMode::BalanceAlb => NlBondMode::BalanceAlb,
            };
            self.link_add(
                LinkBond::new(name).mode(m).miimon(miimon_ms).build(),
                format!("cannot create bond `{name}`"),
            )
            .await
        })
    }

    fn link_del<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let i = self.index(name).await?;
            self.handle
                .link()
                .del(i)
                .execute()
                .await
                .map_err(|e| nl_err(&format!("cannot delete `{name}`"), e))
        })
    }

    fn set_master<'a>(
        &'a self,
        name: &'a str,
        master: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let i = self.index(name).await?;
            let msg = match master {
                Some(m) => LinkUnspec::new_with_index(i).controller(self.index(m).await?),
                None => LinkUnspec::new_with_index(i).nocontroller(),
            };
            let what = format!("cannot set the master of `{name}` to {master:?}");
            self.link_set(msg.build(), what).await
        })
    }

    fn set_up<'a>(&'a self, name: &'a str, up: bool) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let i = self.index(name).await?;
            let msg = LinkUnspec::new_with_index(i);
            let msg = if up { msg.up() } else { msg.down() };
            let what = format!("cannot set `{name}` {}", if up { "up" } else { "down" });
            self.link_set(msg.build(), what).await
        })
    }

    fn addr_add<'a>(&'a self, name: &'a str, addr: IfAddr) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let i = self.index(name).await?;
            self.handle
                .address()
                .add(i, IpAddr::V4(addr.ip), addr.prefix)
                .execute()
                .await
                .map_err(|e| {
                    nl_err(
                        &format!("cannot add {}/{} to `{name}`", addr.ip, addr.prefix),
                        e,
                    )
                })
        })
    }

    fn addr_del<'a>(&'a self, name: &'a str, addr: IfAddr) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let Some(m) = self.address_message(name, addr).await? else {
                return Ok(());
            };
            self.handle.address().del(m).execute().await.map_err(|e| {
                nl_err(
                    &format!("cannot remove {}/{} from `{name}`", addr.ip, addr.prefix),
                    e,
                )
            })
        })
    }

    fn default_route(&self) -> BoxFuture<'_, Result<Option<DefaultRoute>>> {
        Box::pin(async move {
            let routes = self.default_routes().await?;
            let links = self.links().await?;
            for r in routes {
                let gw = r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Gateway(RouteAddress::Inet(ip)) => Some(*ip),
                    _ => None,
                });
                let oif = r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Oif(i) => Some(*i),
                    _ => None,
                });
                if let (Some(gateway), Some(oif)) = (gw, oif) {
                    if let Some(l) = links.iter().find(|l| l.index == oif) {
                        return Ok(Some(DefaultRoute {
                            gateway,
                            dev: l.name.clone(),
                        }));
                    }
                }
            }
            Ok(None)
        })
    }

    fn default_route_set<'a>(
        &'a self,
        route: Option<&'a DefaultRoute>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for r in self.default_routes().await? {
                self.handle
                    .route()
                    .del(r)
                    .execute()
                    .await
                    .map_err(|e| nl_err("cannot remove the default route", e))?;
            }
            if let Some(r) = route {
                let oif = self.index(&r.dev).await?;
                let msg = RouteMessageBuilder::<Ipv4Addr>::new()
                    .gateway(r.gateway)
                    .output_interface(oif)
                    .build();
                self.handle.route().add(msg).execute().await.map_err(|e| {
                    nl_err(
                        &format!(
                            "cannot set the default route via {} on `{}`",
                            r.gateway, r.dev
                        ),
                        e,
                    )
                })?;
            }
            Ok(())
        })
    }

    fn links_claim<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<()>> {
        let dir = self.networkd_dir.clone();
        let names = names.to_vec();
        Box::pin(async move {
            match dir {
                Some(dir) => smol::unblock(move || super::networkd::claim(&dir, &names)).await,
                None => Ok(()),
            }
        })
    }
}
