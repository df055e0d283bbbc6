//! Terminals: the registry (seen, renamed, re-seated, deleted), classroom
//! terminals found by their address range, opening a seat's desktop with a
//! fresh SPICE ticket, closing it, and the shared terminal queries.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use uuid::Uuid;

use super::console::Owner;
use super::template::{random_secret, Console};
use super::{Actor, Services};
use crate::domain::clock::format_utc;
use crate::domain::desktop::{Assign, Desktop, DesktopGroup, Kind, Phase, Status};
use crate::domain::group::Group;
use crate::domain::terminal::{Mac, Terminal};
use crate::domain::vmxml::{self, SpiceSpec};
use crate::error::{Code, Error, Result};

/// What a terminal needs to connect to a desktop it opened.
#[derive(Clone, Debug)]
pub struct Opened {
    pub console: Console,
    pub desktop: Desktop,
    pub os_type: String,
}

/// One row of `instance/list`: a terminal and its desktop's address.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub desktop_ip: Ipv4Addr,
    pub group: Uuid,
    pub seat: u32,
    pub terminal_ip: Ipv4Addr,
    pub terminal_mac: String,
}

/// An admin's change to a terminal record.
#[derive(Clone, Debug, Default)]
pub struct TerminalPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the seat.
    pub seat: Option<Option<u32>>,
}

/// The IPv4 address of a peer as the HTTP layer reports it (`1.2.3.4`,
/// `[::ffff:1.2.3.4]`), if it has one.
pub fn peer_v4(peer: &str) -> Option<Ipv4Addr> {
    let p = peer.trim_start_matches('[').trim_end_matches(']');
    p.strip_prefix("::ffff:").unwrap_or(p).parse().ok()
}

impl Services {
    /// With `terminal_source_check`, a terminal must call from the address
    /// it says it has.
    pub(crate) fn terminal_source_check(&self, claimed: Ipv4Addr, actor: &Actor) -> Result<()> {
        if !self.settings.terminal_source_check || peer_v4(&actor.client) == Some(claimed) {
            return Ok(());
        }
        Err(Error::new(
            Code::TerminalAddressMismatch,
            format!(
                "The terminal says it is {claimed} but calls from {}; terminals must reach the appliance without address translation",
                actor.client
            ),
        ))
    }

    /// The classroom whose terminal range holds `ip`.
    pub fn classroom_of(&self, ip: Ipv4Addr) -> Result<Group> {
        self.store
            .group_list()?
            .into_iter()
            .find(|g| g.holds_terminal(ip))
            .ok_or_else(|| {
                Error::new(
                    Code::ClassroomUnknown,
                    format!("No classroom's terminal range holds {ip}"),
                )
            })
    }

    /// Records that the terminal `mac` called, changed by `f`.
    pub(crate) fn terminal_seen(
        &self,
        mac: &Mac,
        f: &dyn Fn(Terminal) -> Result<Terminal>,
    ) -> Result<Terminal> {
        let now = self.now_ms();
        let fresh = Terminal::new(Uuid::new_v4(), self.store.sequence_next()?, *mac, now);
        self.store.terminal_upsert(mac, &fresh, &|t| {
            let mut t = f(t)?;
            t.last_seen = now;
            Ok(t)
        })
    }

    /// A fresh SPICE password, valid `spice_ticket_ttl`, set on the running
    /// domain `uuid` (connected clients stay); `None` when it is not running.
    /// With the proxy on, the ticket also opens the proxy (at `via`, the
    /// address the client reached this service at) to this VM, for `owner`
    /// (an admin session's ticket closes with that session).
    pub(crate) async fn spice_ticket(
        &self,
        uuid: Uuid,
        node: &Uuid,
        title: &str,
        via: &str,
        owner: Owner,
    ) -> Result<Option<Console>> {
        let hv = self.hv(node)?;
        let Some(addr) = hv.spice(uuid).await? else {
            return Ok(None);
        };
        let ticket = random_secret(16)?;
        let valid_to = self.now_ms() + self.settings.spice_ticket_ttl.as_millis() as i64;
        // A running domain keeps the address it started with (libvirt
        // refuses to change it live); the next start takes the setting's.
        let listen = match addr.listen.as_str() {
            "" => self.graphics_listen(),
            l => l.to_string(),
        };
        let g = vmxml::graphics_xml(&SpiceSpec {
            listen,
            password: ticket.clone(),
            valid_to_ms: valid_to,
        });
        hv.update_device(uuid, g).await?;
        let direct = match addr.listen.as_str() {
            "" | "0.0.0.0" | "::" => self
                .store
                .node_get(node)
                .map(|n| n.ip.to_string())
                .unwrap_or(addr.listen.clone()),
            l => l.to_string(),
        };
        let proxied = self
            .settings
            .spice_proxy
            .then(|| self.console_proxy_ticket(uuid, *node, title, valid_to, owner))
            .transpose()?;
        let (vv, spice_proxy) = self.console_vv(
            (&direct, addr.port),
            proxied.as_deref(),
            &ticket,
            title,
            via,
        );
        let (host, port) = match &proxied {
            Some(h) => (h.clone(), crate::domain::console::PROXY_PORT),
            None => (direct, addr.port),
        };
        Ok(Some(Console {
            host,
            port,
            ticket,
            expire_time: format_utc(valid_to),
            vv,
            spice_proxy,
        }))
    }

    /// Starts a desktop if needed (with `take_seat`, stopping another
    /// group's desktop on its seat) and hands out a fresh ticket.
    pub(crate) async fn desktop_open(
        self: &Arc<Self>,
        d: &Desktop,
        take_seat: bool,
        mac: &Mac,
        ip: Option<Ipv4Addr>,
        via: &str,
    ) -> Result<Opened> {
        let g = self.store.desktop_group_get(&d.group)?;
        let t = self.store.template_get(&g.template)?;
        let mut d = self.desktop_start(&d.uuid, take_seat).await?;
        let console = self
            .spice_ticket(d.uuid, &d.node, &d.name, via, Owner::Terminal)
            .await?
            .ok_or_else(|| {
                Error::new(
                    Code::DesktopBusy,
                    format!("Desktop `{}` stopped while it was being opened", d.name),
                )
            })?;
        let (m, i) = (
            mac.to_string(),
            ip.map(|x| x.to_string()).unwrap_or_default(),
        );
        d = self.store.desktop_update(&d.uuid, &|mut x| {
            x.terminal_mac = m.clone();
            x.terminal_ip = i.clone();
            Ok(x)
        })?;
        let id = d.uuid;
        self.terminal_seen(mac, &|mut t| {
            t.desktop = Some(id);
            Ok(t)
        })?;
        self.store.flush().await?;
        Ok(Opened {
            console,
            desktop: d,
            os_type: t.os_type,
        })
    }

    /// Stops a desktop a terminal closed, in the background (a task): a
    /// random group's desktop is given back once off.
    pub(crate) async fn desktop_close(self: &Arc<Self>, actor: &Actor, d: &Desktop) -> Result<()> {
        let s = self.clone();
        let id = d.uuid;
        if let Some(t) = self.terminal_holding(&id)? {
            self.store.terminal_update(&t.uuid, &|mut t| {
                t.desktop = None;
                Ok(t)
            })?;
        }
        self.task_run(actor, "desktop/close", &d.name, false, move |_h| {
            Box::pin(async move {
                let d = s.desktop_stop(&id, false).await?;
                let g = s.store.desktop_group_get(&d.group)?;
                if g.assign == Some(Assign::Random) {
                    s.desktop_assign(&id, None).await?;
                }
                Ok(d.name)
            })
        })
        .await?;
        Ok(())
    }

    /// The active education groups of the classroom at `ip`.
    pub fn terminal_edu_desktops(&self, actor: &Actor, ip: Ipv4Addr) -> Result<Vec<DesktopGroup>> {
        self.terminal_source_check(ip, actor)?;
        let room = self.classroom_of(ip)?;
        let mut v: Vec<DesktopGroup> = self
            .store
            .desktop_group_list()?
            .into_iter()
            .filter(|g| {
                g.kind == Kind::Education
                    && g.classroom == Some(room.uuid)
                    && g.active
                    && g.phase == Phase::Ready
            })
            .collect();
        v.sort_by(|a, b| (a.order_num, &a.name).cmp(&(b.order_num, &b.name)));
        Ok(v)
    }

    /// A classroom terminal opens its seat's desktop of `group`.
    pub async fn terminal_edu_open(
        self: &Arc<Self>,
        actor: &Actor,
        seat: u32,
        mac: &Mac,
        ip: Ipv4Addr,
        group: &Uuid,
        via: &str,
    ) -> Result<Opened> {
        self.terminal_source_check(ip, actor)?;
        let room = self.classroom_of(ip)?;
        let g = self.store.desktop_group_get(group)?;
        if g.kind != Kind::Education || g.classroom != Some(room.uuid) {
            return Err(Error::new(
                Code::DesktopGroupClosed,
                format!(
                    "Desktop group `{}` is not a group of classroom `{}`",
                    g.name, room.name
                ),
            ));
        }
        if !g.active {
            return Err(Error::new(
                Code::DesktopGroupClosed,
                format!("Desktop group `{}` is not active", g.name),
            ));
        }
        let d = self
            .store
            .desktops_of(&g.uuid)?
            .into_iter()
            .find(|d| d.seat == seat)
            .ok_or_else(|| {
                Error::new(
                    Code::SeatUnknown,
                    format!("Desktop group `{}` has no desktop for seat {seat}", g.name),
                )
            })?;
        let room_id = room.uuid;
        self.terminal_seen(mac, &|mut t| {
            t.ip = Some(ip);
            t.classroom = Some(room_id);
            t.seat = Some(seat);
            t.user = None;
            Ok(t)
        })
        .map_err(|e| match e.code {
            Code::SeatTaken => {
                Error::new(e.code, format!("Classroom `{}`: {}", room.name, e.message))
            }
            _ => e,
        })?;
        self.desktop_open(&d, true, mac, Some(ip), via).await
    }

    /// The terminal that has desktop `id` open.
    fn terminal_holding(&self, id: &Uuid) -> Result<Option<Terminal>> {
        Ok(self
            .store
            .terminal_list()?
            .into_iter()
            .find(|t| t.desktop == Some(*id)))
    }

    /// The terminal `mac`'s user is gone (logout, a login elsewhere).
    pub(crate) fn terminal_user_clear(&self, mac: &Mac) -> Result<()> {
        if let Some(t) = self.store.terminal_by_mac(mac)? {
            self.store.terminal_update(&t.uuid, &|mut t| {
                t.user = None;
                Ok(t)
            })?;
        }
        Ok(())
    }

    /// The desktop a terminal opened and has not closed, if it still runs.
    fn terminal_open_desktop(&self, t: &Terminal) -> Option<Desktop> {
        t.desktop
            .and_then(|id| self.store.desktop_get(&id).ok())
            .filter(|d| d.status == Status::Active)
    }

    /// A classroom terminal closes its desktop (nothing open: nothing to do).
    pub async fn terminal_edu_close(self: &Arc<Self>, actor: &Actor, mac: &Mac) -> Result<()> {
        let t = self.store.terminal_by_mac(mac)?.ok_or_else(|| {
            Error::new(
                Code::TerminalNotFound,
                format!("Terminal {mac} is not known"),
            )
        })?;
        if let Some(ip) = t.ip {
            self.terminal_source_check(ip, actor)?;
        }
        match self.terminal_open_desktop(&t) {
            Some(d) => self.desktop_close(actor, &d).await,
            None => Ok(()),
        }
    }

    /// `instance/close`: a terminal closes the desktop it has open (with
    /// `terminal_source_check`, from that terminal's address).
    pub async fn terminal_desktop_close(
        self: &Arc<Self>,
        actor: &Actor,
        desktop: &Uuid,
    ) -> Result<()> {
        let d = self.store.desktop_get(desktop)?;
        let holder = self.terminal_holding(&d.uuid)?.ok_or_else(|| {
            Error::new(
                Code::TerminalNotFound,
                format!("No terminal has desktop `{}` open", d.name),
            )
        })?;
        if let Some(ip) = holder.ip {
            self.terminal_source_check(ip, actor)?;
        }
        self.desktop_close(actor, &d).await
    }

    /// The classroom a terminal address belongs to.
    pub fn terminal_edu_group(&self, actor: &Actor, ip: Ipv4Addr) -> Result<Group> {
        self.terminal_source_check(ip, actor)?;
        self.classroom_of(ip)
    }

    /// Desktop addresses of classroom terminals: the desktop the terminal
    /// has open, else its seat's desktop of the classroom's default group.
    /// Terminals outside every classroom, or without one, are left out.
    pub fn terminal_bindings(&self, asked: &[(u32, String, Ipv4Addr)]) -> Result<Vec<Binding>> {
        let groups = self.store.group_list()?;
        let dgroups = self.store.desktop_group_list()?;
        let mut out = Vec::new();
        for (seat, mac, ip) in asked {
            let Some(room) = groups.iter().find(|g| g.holds_terminal(*ip)) else {
                continue;
            };
            let open = Mac::parse("terminal_mac", mac)
                .ok()
                .and_then(|m| self.store.terminal_by_mac(&m).ok().flatten())
                .and_then(|t| self.terminal_open_desktop(&t))
                .filter(|d| d.seat == *seat);
            let d = match open {
                Some(d) => Some(d),
                None => match dgroups
                    .iter()
                    .find(|g| g.classroom == Some(room.uuid) && g.default)
                {
                    Some(g) => self
                        .store
                        .desktops_of(&g.uuid)?
                        .into_iter()
                        .find(|d| d.seat == *seat),
                    None => None,
                },
            };
            if let Some((d, dip)) = d.and_then(|d| d.ip.map(|i| (d, i))) {
                out.push(Binding {
                    desktop_ip: dip,
                    group: d.group,
                    seat: *seat,
                    terminal_ip: *ip,
                    terminal_mac: mac.clone(),
                });
            }
        }
        Ok(out)
    }

    pub fn terminal_list(&self) -> Result<Vec<Terminal>> {
        self.store.terminal_list()
    }

    /// Renames or re-seats a terminal record.
    pub async fn terminal_update(&self, uuid: &Uuid, p: TerminalPatch) -> Result<Terminal> {
        let t = self.store.terminal_update(uuid, &|mut t| {
            if let Some(n) = &p.name {
                t.name = n.clone();
            }
            if let Some(s) = p.seat {
                t.seat = s;
            }
            Ok(t)
        })?;
        self.store.flush().await?;
        Ok(t)
    }

    pub async fn terminal_delete(&self, uuid: &Uuid) -> Result<Terminal> {
        let t = self.store.terminal_delete(uuid)?;
        self.store.flush().await?;
        Ok(t)
    }

    /// Registered terminals per classroom.
    pub fn terminal_counts(&self) -> Result<HashMap<Uuid, usize>> {
        let mut m = HashMap::new();
        for t in self.store.terminal_list()? {
            if let Some(c) = t.classroom {
                *m.entry(c).or_default() += 1;
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn peers_in_every_form() {
        use super::peer_v4;
        assert_eq!(peer_v4("10.0.0.5"), Some("10.0.0.5".parse().unwrap()));
        assert_eq!(
            peer_v4("[::ffff:10.0.0.5]"),
            Some("10.0.0.5".parse().unwrap())
        );
        assert_eq!(peer_v4("[::1]"), None);
        assert_eq!(peer_v4("-"), None);
    }
}
