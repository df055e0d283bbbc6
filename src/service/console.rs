//! Consoles through the service's one port: the gateway's tokens (an
//! admin's browser console, bound to that admin's session and one VM), the
//! SPICE proxy's tickets (`CONNECT` from remote-viewer and terminals), the
//! internal tunnel a controller opens to a VM on one of its servers, and
//! the bridges that are open, so that signing out closes them. A token or
//! ticket names a VM, never a host or port.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use uuid::Uuid;

use super::auth::token_hash;
use super::template::random_text;
use super::{Actor, Services};
use crate::domain::console::{parse_authority, proxy_host, vv_file, Authority, Protocol, Target};
use crate::domain::vmxml;
use crate::error::{Code, Error, Result};
use crate::host::Stream;

/// How long a gateway token lets a browser connect.
pub const TOKEN_TTL_MS: i64 = 30_000;
/// Connections one SPICE token or ticket admits (one per channel: main,
/// display, inputs, cursor, playback, record, two USB redirections).
const SPICE_USES: u32 = 12;
/// The gateway's WebSocket path; the token follows.
pub const WS_PATH: &str = "/api/v1/console/ws/";

/// What admits a tunnel: a token or ticket and the VM it names.
#[derive(Clone, Debug)]
struct Grant {
    vm: Uuid,
    node: Uuid,
    name: String,
    target: Target,
    protocol: Protocol,
    /// The admin session (hash of its access token) a gateway token
    /// belongs to, and the admin; `None` for a proxy ticket.
    session: Option<([u8; 32], String)>,
    valid_to: i64,
    uses_left: u32,
}

/// One open bridge: what it is for, and the end of a channel whose
/// dropping tells the bridge to close.
struct Live {
    session: Option<[u8; 32]>,
    _close: smol::channel::Sender<()>,
}

/// The gateway's and the proxy's live state.
#[derive(Default)]
pub struct ConsoleState {
    grants: Mutex<HashMap<String, Grant>>,
    bridges: Mutex<HashMap<u64, Live>>,
    next: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What `console/open` answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    pub token: String,
    pub expires_in: u64,
    pub protocol: Protocol,
    pub path: String,
    pub password: String,
    /// A remote-viewer file (SPICE).
    pub vv: Option<String>,
}

/// A tunnel a client asks for.
pub enum Tunnel<'a> {
    /// `CONNECT authority`, with the bearer token it came with (the
    /// internal tunnel's controller token).
    Connect {
        authority: &'a str,
        token: Option<&'a str>,
    },
    /// `GET /api/v1/console/ws/<token>` with `Upgrade: websocket`.
    WebSocket { token: &'a str },
}

/// An admitted tunnel: the VM's graphics stream and its bridge.
pub struct Admitted {
    pub stream: Stream,
    pub bridge: Bridge,
}

/// An open bridge. `closed` ends when the bridge must close (its session
/// ended); `console_end` records its end.
pub struct Bridge {
    id: u64,
    pub closed: smol::channel::Receiver<()>,
    /// Operation-log fields: `None` for the internal tunnel (its
    /// controller logs the bridge).
    log: Option<(Actor, String, Option<u64>)>,
}

fn refused(msg: impl Into<String>) -> Error {
    Error::new(Code::ConsoleRefused, msg)
}

impl Services {
    /// The address graphics servers listen on: loopback with the proxy on.
    pub(crate) fn graphics_listen(&self) -> String {
        if self.settings.spice_proxy {
            vmxml::VNC_LISTEN.into()
        } else {
            self.settings.spice_listen.clone()
        }
    }

    /// The VM a console opens: its node and name.
    fn console_vm(&self, target: Target, uuid: &Uuid) -> Result<(Uuid, String)> {
        Ok(match target {
            Target::Template => {
                let t = self.store.template_get(uuid)?;
                (t.node, t.name)
            }
            Target::Desktop => {
                let d = self.store.desktop_get(uuid)?;
                (d.node, d.name)
            }
        })
    }

    fn not_running(name: &str) -> Error {
        Error::new(
            Code::ConsoleNotRunning,
            format!("`{name}` is not running; start it first"),
        )
    }

    /// `console/open`: a token for one admin session and one VM, valid
    /// `TOKEN_TTL_MS` to connect; the VM's VNC password or SPICE ticket.
    /// `via` is the address the caller reached the service at (a `.vv`
    /// file's proxy).
    pub async fn console_open(
        &self,
        access_token: &str,
        target: Target,
        uuid: &Uuid,
        protocol: Protocol,
        via: &str,
    ) -> Result<Opened> {
        let admin = self.auth_check(access_token)?;
        let (node, name) = self.console_vm(target, uuid)?;
        let now = self.now_ms();
        let (password, vv) = match protocol {
            Protocol::Spice => {
                let c = self
                    .spice_ticket(*uuid, &node, &name, via)
                    .await?
                    .ok_or_else(|| Self::not_running(&name))?;
                (c.ticket, Some(c.vv))
            }
            Protocol::Vnc => {
                let hv = self.hv(&node)?;
                if hv.spice(*uuid).await?.is_none() {
                    return Err(Self::not_running(&name));
                }
                let pw = random_text(8);
                hv.update_device(*uuid, vmxml::vnc_xml(&pw, now + TOKEN_TTL_MS))
                    .await?;
                (pw, None)
            }
        };
        let token = random_text(32);
        lock(&self.console.grants).retain(|_, g| g.valid_to > now);
        lock(&self.console.grants).insert(
            token.clone(),
            Grant {
                vm: *uuid,
                node,
                name,
                target,
                protocol,
                session: Some((token_hash(access_token), admin)),
                valid_to: now + TOKEN_TTL_MS,
                uses_left: match protocol {
                    Protocol::Vnc => 1,
                    Protocol::Spice => SPICE_USES,
                },
            },
        );
        Ok(Opened {
            path: format!("{WS_PATH}{token}"),
            token,
            expires_in: (TOKEN_TTL_MS / 1000) as u64,
            protocol,
            password,
            vv,
        })
    }

    /// With the proxy on, a SPICE ticket also opens the proxy to `vm`
    /// until `valid_to`: the host name the `.vv` file and `CONNECT` use.
    pub(crate) fn console_proxy_ticket(
        &self,
        vm: Uuid,
        node: Uuid,
        name: &str,
        valid_to: i64,
    ) -> String {
        let ticket = random_text(32);
        let now = self.now_ms();
        let mut g = lock(&self.console.grants);
        g.retain(|_, g| g.valid_to > now);
        g.insert(
            ticket.clone(),
            Grant {
                vm,
                node,
                name: name.into(),
                target: Target::Desktop,
                protocol: Protocol::Spice,
                session: None,
                valid_to,
                uses_left: SPICE_USES,
            },
        );
        proxy_host(&ticket)
    }

    /// The `.vv` text and proxy address for a SPICE ticket: through the
    /// proxy (`vdi-<ticket>` at `via`) when it is on, else direct.
    pub(crate) fn console_vv(
        &self,
        direct: (&str, u16),
        proxied: Option<&str>,
        password: &str,
        title: &str,
        via: &str,
    ) -> (String, Option<String>) {
        match proxied {
            Some(host) => {
                let proxy = format!("http://{via}");
                let vv = vv_file(
                    host,
                    crate::domain::console::PROXY_PORT,
                    password,
                    title,
                    Some(&proxy),
                );
                (vv, Some(proxy))
            }
            None => (vv_file(direct.0, direct.1, password, title, None), None),
        }
    }

    /// Takes one use of a token or ticket.
    fn console_take(&self, key: &str, websocket: bool) -> Result<Grant> {
        let now = self.now_ms();
        let mut grants = lock(&self.console.grants);
        let bad =
            || refused("The console token is unknown, used up or expired; open the console again");
        let g = grants.get_mut(key).ok_or_else(bad)?;
        // A gateway token is not a proxy ticket, nor the other way round.
        if g.session.is_some() != websocket || g.valid_to <= now || g.uses_left == 0 {
            return Err(bad());
        }
        g.uses_left -= 1;
        Ok(g.clone())
    }

    /// Admits a tunnel, or refuses it (`ConsoleRefused`) without making
    /// any connection: the VM's graphics stream and an open bridge.
    pub async fn console_admit(&self, t: Tunnel<'_>, client: &str) -> Result<Admitted> {
        let g = match t {
            Tunnel::WebSocket { token } => {
                let g = self.console_take(token, true)?;
                let (hash, _) = g.session.as_ref().expect("a gateway token has a session");
                if !self.console_session_live(hash) {
                    return Err(refused(
                        "The admin session that opened this console has ended",
                    ));
                }
                g
            }
            Tunnel::Connect { authority, token } => match parse_authority(authority) {
                Some(Authority::Ticket(t)) => self.console_take(&t, false)?,
                Some(Authority::Internal(vm, p)) => {
                    self.internal_check(token).map_err(|e| refused(e.message))?;
                    let stream = self
                        .hypervisor
                        .graphics_connect(vm, p)
                        .await?
                        .ok_or_else(|| refused(format!("VM {vm} is not running on this server")))?;
                    return Ok(Admitted {
                        stream,
                        bridge: self.console_register(None, None),
                    });
                }
                None => {
                    return Err(refused(format!(
                    "CONNECT goes only to a console ticket's name (`vdi-<ticket>:{}`), not to `{}`",
                    crate::domain::console::PROXY_PORT,
                    clip(authority)
                )))
                }
            },
        };
        let stream = self
            .hv(&g.node)?
            .graphics_connect(g.vm, g.protocol)
            .await?
            .ok_or_else(|| refused(format!("`{}` is not running", g.name)))?;
        let (actor, via) = match &g.session {
            Some((_, admin)) => (
                Actor {
                    name: admin.clone(),
                    client: client.into(),
                },
                "gateway",
            ),
            None => (Actor::anonymous(client), "proxy"),
        };
        let what = format!("{} {} ({}, {via})", g.target.as_str(), g.name, g.protocol);
        let seq = self.operation_log_begin(&actor, "console/open", &what);
        self.operation_log_finish(seq, &actor, "console/open", &what, 0, "connected");
        let seq = self.operation_log_begin(&actor, "console/close", &what);
        Ok(Admitted {
            stream,
            bridge: self.console_register(
                g.session.as_ref().map(|(h, _)| *h),
                Some((actor, what, seq)),
            ),
        })
    }

    fn console_register(
        &self,
        session: Option<[u8; 32]>,
        log: Option<(Actor, String, Option<u64>)>,
    ) -> Bridge {
        let (tx, rx) = smol::channel::bounded(1);
        let id = self.console.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.console.bridges).insert(
            id,
            Live {
                session,
                _close: tx,
            },
        );
        Bridge {
            id,
            closed: rx,
            log,
        }
    }

    /// A bridge ended: `why` and the bytes each way go in the log.
    pub fn console_end(&self, b: Bridge, why: &str, to_vm: u64, to_client: u64) {
        lock(&self.console.bridges).remove(&b.id);
        if let Some((actor, what, seq)) = b.log {
            let msg = format!("{why}; {to_vm} bytes to the VM, {to_client} to the client");
            self.operation_log_finish(seq, &actor, "console/close", &what, 0, &msg);
        }
    }

    /// Whether an open bridge's session is still live (checked now and
    /// then: an access token that expires unrefreshed ends its bridges).
    pub fn console_open_still(&self, b: &Bridge) -> bool {
        let session = lock(&self.console.bridges).get(&b.id).map(|l| l.session);
        match session {
            Some(Some(h)) => self.console_session_live(&h),
            Some(None) => true,
            None => false,
        }
    }

    /// Bridges open now.
    pub fn console_bridges(&self) -> usize {
        lock(&self.console.bridges).len()
    }

    /// The session exists, has not expired, and its admin may still log in.
    fn console_session_live(&self, hash: &[u8; 32]) -> bool {
        match self.store.session_by_access(hash) {
            Ok(Some(s)) if s.access_expires > self.now_ms() => {
                matches!(self.store.admin_get(&s.admin), Ok(Some(a)) if a.enabled)
            }
            _ => false,
        }
    }

    /// Sessions ended or changed: bridges (and unused tokens) of a session
    /// that is no longer live close.
    pub(crate) fn console_sessions_changed(&self) {
        let dead: Vec<[u8; 32]> = {
            let b = lock(&self.console.bridges);
            let g = lock(&self.console.grants);
            b.values()
                .filter_map(|l| l.session)
                .chain(g.values().filter_map(|g| g.session.as_ref().map(|s| s.0)))
                .collect()
        };
        let dead: Vec<[u8; 32]> = dead
            .into_iter()
            .filter(|h| !self.console_session_live(h))
            .collect();
        if dead.is_empty() {
            return;
        }
        lock(&self.console.bridges).retain(|_, l| l.session.is_none_or(|h| !dead.contains(&h)));
        lock(&self.console.grants)
            .retain(|_, g| g.session.as_ref().is_none_or(|(h, _)| !dead.contains(h)));
    }

    /// A session was refreshed: its bridges and tokens follow the new
    /// access token.
    pub(crate) fn console_rekey(&self, old: &[u8; 32], new: &[u8; 32]) {
        for l in lock(&self.console.bridges).values_mut() {
            if l.session.as_ref() == Some(old) {
                l.session = Some(*new);
            }
        }
        for g in lock(&self.console.grants).values_mut() {
            if let Some((h, _)) = &mut g.session {
                if h == old {
                    *h = *new;
                }
            }
        }
    }
}

/// At most 64 characters of client text in a message.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
