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

use super::auth::{random_token, token_hash};
use super::template::random_secret;
use super::{Actor, Services};
use crate::domain::console::{parse_authority, proxy_host, vv_file, Authority, Protocol, Target};
use crate::domain::text::clip;
use crate::domain::vmxml;
use crate::error::{Code, Error, Result};
use crate::host::Stream;

/// How long a gateway token lets a browser connect.
pub const TOKEN_TTL_MS: i64 = 30_000;
/// Connections one SPICE token or ticket admits (one per channel: main,
/// display, inputs, cursor, playback, record, two USB redirections).
pub const SPICE_USES: u32 = 12;
/// Tokens and tickets kept per VM: a new one beyond this drops the oldest
/// (a client asking in a loop cannot grow the table).
const GRANTS_PER_VM: usize = 8;

/// An admin session: the hash of its access token, and the admin.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    hash: [u8; 32],
    admin: String,
}

/// Who a SPICE ticket's proxy grant is for.
#[derive(Clone, Debug)]
pub enum Owner {
    /// A terminal opening a desktop.
    Terminal,
    /// A template's console ticket (`template/console`, `edit`).
    Template,
    /// An admin session's console (`console/open` with SPICE): it closes
    /// with the session.
    Admin(Session, Target),
}

/// What admits a tunnel: a token or ticket and the VM it names.
#[derive(Clone, Debug)]
struct Grant {
    vm: Uuid,
    node: Uuid,
    name: String,
    target: Target,
    protocol: Protocol,
    /// A gateway token (WebSocket) or a proxy ticket (`CONNECT`).
    websocket: bool,
    /// The admin session it belongs to; closing the session closes it.
    session: Option<Session>,
    issued: i64,
    valid_to: i64,
    uses_left: u32,
}

/// One open bridge: its session, and the end of a channel whose dropping
/// tells the bridge to close.
struct Live {
    session: Option<[u8; 32]>,
    _close: smol::channel::Sender<()>,
}

/// The gateway's and the proxy's live state. Lock order: `grants`, then
/// `bridges`.
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
    pub password: String,
    /// A remote-viewer file (SPICE).
    pub vv: Option<String>,
}

/// A tunnel a client asks for.
pub enum Tunnel<'a> {
    /// `CONNECT authority`, with the bearer token and node protocol
    /// version it came with (the internal tunnel's).
    Connect {
        authority: &'a str,
        token: Option<&'a str>,
        protocol: Option<&'a str>,
    },
    /// A WebSocket upgrade with a gateway token.
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

fn not_running(name: &str) -> Error {
    Error::new(
        Code::ConsoleNotRunning,
        format!("`{name}` is not running; start it first"),
    )
}

impl Services {
    /// The address graphics servers listen on: loopback with the proxy on.
    pub(crate) fn graphics_listen(&self) -> String {
        if self.settings.spice_proxy {
            vmxml::GRAPHICS_LOOPBACK.into()
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
        let session = Session {
            hash: token_hash(access_token),
            admin,
        };
        let (node, name) = self.console_vm(target, uuid)?;
        let now = self.now_ms();
        let (password, vv) = match protocol {
            Protocol::Spice => {
                let owner = Owner::Admin(session.clone(), target);
                let c = self
                    .spice_ticket(*uuid, &node, &name, via, owner)
                    .await?
                    .ok_or_else(|| not_running(&name))?;
                (c.ticket, Some(c.vv))
            }
            Protocol::Vnc => {
                let hv = self.hv(&node)?;
                if hv.spice(*uuid).await?.is_none() {
                    return Err(not_running(&name));
                }
                let pw = random_secret(8)?;
                hv.update_device(*uuid, vmxml::vnc_xml(&pw, now + TOKEN_TTL_MS))
                    .await
                    .map_err(|e| match e.code {
                        // A domain defined before consoles had VNC.
                        Code::HypervisorFailed => Error::new(
                            Code::ConsoleNotRunning,
                            format!(
                                "`{name}` has no VNC console until it is started again ({})",
                                e.message
                            ),
                        ),
                        _ => e,
                    })?;
                (pw, None)
            }
        };
        let token = random_token()?;
        self.console_grant(
            token.clone(),
            Grant {
                vm: *uuid,
                node,
                name,
                target,
                protocol,
                websocket: true,
                session: Some(session),
                issued: now,
                valid_to: now + TOKEN_TTL_MS,
                uses_left: match protocol {
                    Protocol::Vnc => 1,
                    Protocol::Spice => SPICE_USES,
                },
            },
        );
        Ok(Opened {
            token,
            expires_in: (TOKEN_TTL_MS / 1000) as u64,
            protocol,
            password,
            vv,
        })
    }

    /// Keeps a grant: expired ones go, and a VM keeps its newest few.
    fn console_grant(&self, key: String, g: Grant) {
        let now = self.now_ms();
        let mut grants = lock(&self.console.grants);
        grants.retain(|_, x| x.valid_to > now);
        let mut mine: Vec<(i64, String)> = grants
            .iter()
            .filter(|(_, x)| x.vm == g.vm)
            .map(|(k, x)| (x.issued, k.clone()))
            .collect();
        if mine.len() >= GRANTS_PER_VM {
            mine.sort();
            for (_, k) in &mine[..=mine.len() - GRANTS_PER_VM] {
                grants.remove(k);
            }
        }
        grants.insert(key, g);
    }

    /// With the proxy on, a SPICE ticket also opens the proxy to `vm`
    /// until `valid_to`: the host name the `.vv` file and `CONNECT` use.
    pub(crate) fn console_proxy_ticket(
        &self,
        vm: Uuid,
        node: Uuid,
        name: &str,
        valid_to: i64,
        owner: Owner,
    ) -> Result<String> {
        let ticket = random_token()?;
        let (target, session) = match owner {
            Owner::Terminal => (Target::Desktop, None),
            Owner::Template => (Target::Template, None),
            Owner::Admin(s, t) => (t, Some(s)),
        };
        self.console_grant(
            ticket.clone(),
            Grant {
                vm,
                node,
                name: name.into(),
                target,
                protocol: Protocol::Spice,
                websocket: false,
                session,
                issued: self.now_ms(),
                valid_to,
                uses_left: SPICE_USES,
            },
        );
        Ok(proxy_host(&ticket))
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

    /// Takes one use of a token or ticket and opens its bridge, in one
    /// step under the grants' lock (a refresh re-keys both at once, a
    /// sign-out sees the bridge).
    fn console_take(&self, key: &str, websocket: bool) -> Result<(Grant, Bridge)> {
        let now = self.now_ms();
        let mut grants = lock(&self.console.grants);
        let what = if websocket {
            "console token"
        } else {
            "proxy ticket"
        };
        // A gateway token is not a proxy ticket, nor the other way round.
        let g = grants
            .get_mut(key)
            .filter(|g| g.websocket == websocket)
            .ok_or_else(|| refused(format!("The {what} is unknown; open the console again")))?;
        if g.valid_to <= now {
            return Err(refused(format!(
                "The {what} expired; open the console again"
            )));
        }
        if g.uses_left == 0 {
            return Err(refused(format!(
                "The {what} was used up; open the console again"
            )));
        }
        g.uses_left -= 1;
        let g = g.clone();
        let bridge = self.console_register(g.session.as_ref().map(|s| s.hash));
        Ok((g, bridge))
    }

    /// Admits a tunnel, or refuses it (`ConsoleRefused`) without making
    /// any connection: the VM's graphics stream and an open bridge.
    pub async fn console_admit(&self, t: Tunnel<'_>, client: &str) -> Result<Admitted> {
        let (g, mut bridge) = match t {
            Tunnel::WebSocket { token } => self.console_take(token, true)?,
            Tunnel::Connect {
                authority,
                token,
                protocol,
            } => match parse_authority(authority) {
                Some(Authority::Ticket(t)) => self.console_take(&t, false)?,
                Some(Authority::Internal(vm, p)) => {
                    return self.console_internal(vm, p, token, protocol).await
                }
                None => {
                    return Err(refused(format!(
                    "CONNECT goes only to a console ticket's name (`vdi-<ticket>:{}`), not to `{}`",
                    crate::domain::console::PROXY_PORT,
                    clip(authority, 64)
                )))
                }
            },
        };
        let ended = || refused("The admin session that opened this console has ended");
        let live = |g: &Grant| {
            g.session
                .as_ref()
                .is_none_or(|s| self.console_session_live(&s.hash))
        };
        if !live(&g) {
            self.console_drop(&bridge);
            return Err(ended());
        }
        let stream = match self.hv(&g.node) {
            Ok(hv) => hv.graphics_connect(g.vm, g.protocol).await,
            Err(e) => Err(e),
        };
        let stream = match stream {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.console_drop(&bridge);
                return Err(refused(format!("`{}` is not running", g.name)));
            }
            Err(e) => {
                self.console_drop(&bridge);
                return Err(e);
            }
        };
        // A sign-out while the VM was being reached.
        if !self.console_bridge_live(&bridge) {
            self.console_drop(&bridge);
            return Err(ended());
        }
        let (actor, via) = match &g.session {
            Some(s) => (
                Actor {
                    name: s.admin.clone(),
                    client: client.into(),
                },
                if g.websocket { "gateway" } else { "proxy" },
            ),
            None => (Actor::anonymous(client), "proxy"),
        };
        let what = format!("{} {} ({}, {via})", g.target.as_str(), g.name, g.protocol);
        let seq = self.operation_log_begin(&actor, "console/open", &what);
        self.operation_log_finish(seq, &actor, "console/open", &what, 0, "connected");
        let seq = self.operation_log_begin(&actor, "console/close", &what);
        bridge.log = Some((actor, what, seq));
        Ok(Admitted { stream, bridge })
    }

    /// A node's side of the internal tunnel: only its controller's token
    /// (and protocol version) opens it, to a VM running here.
    async fn console_internal(
        &self,
        vm: Uuid,
        p: Protocol,
        token: Option<&str>,
        protocol: Option<&str>,
    ) -> Result<Admitted> {
        self.internal_check(token).map_err(|e| refused(e.message))?;
        crate::domain::cluster::protocol_check_request(protocol, false)
            .map_err(|e| refused(e.message))?;
        let stream = self
            .hypervisor
            .graphics_connect(vm, p)
            .await?
            .ok_or_else(|| refused(format!("VM {vm} is not running on this server")))?;
        Ok(Admitted {
            stream,
            bridge: self.console_register(None),
        })
    }

    fn console_register(&self, session: Option<[u8; 32]>) -> Bridge {
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
            log: None,
        }
    }

    fn console_drop(&self, b: &Bridge) {
        lock(&self.console.bridges).remove(&b.id);
    }

    /// A bridge ended: `why` and the bytes each way go in the log.
    pub fn console_end(&self, b: Bridge, why: &str, to_vm: u64, to_client: u64) {
        self.console_drop(&b);
        if let Some((actor, what, seq)) = b.log {
            let msg = format!("{why}; {to_vm} bytes to the VM, {to_client} to the client");
            self.operation_log_finish(seq, &actor, "console/close", &what, 0, &msg);
        }
    }

    /// Whether an open bridge may stay open: it is still registered and
    /// its session (if any) is live. Checked now and then, so an access
    /// token that expires unrefreshed ends its bridges.
    pub fn console_bridge_live(&self, b: &Bridge) -> bool {
        let session = lock(&self.console.bridges).get(&b.id).map(|l| l.session);
        match session {
            Some(Some(h)) => self.console_session_live(&h),
            Some(None) => true,
            None => false,
        }
    }

    /// Bridges open now.
    pub fn console_bridge_count(&self) -> usize {
        lock(&self.console.bridges).len()
    }

    /// The session exists, has not expired, and its admin may still log in.
    fn console_session_live(&self, hash: &[u8; 32]) -> bool {
        match self.auth_session(hash) {
            Ok(s) => matches!(self.store.admin_get(&s.admin), Ok(Some(a)) if a.enabled),
            Err(_) => false,
        }
    }

    /// Sessions ended or changed: bridges and tokens of a session that is
    /// no longer live close.
    pub(crate) fn console_session_sweep(&self) {
        let mut seen: Vec<[u8; 32]> = lock(&self.console.grants)
            .values()
            .filter_map(|g| g.session.as_ref().map(|s| s.hash))
            .collect();
        seen.extend(
            lock(&self.console.bridges)
                .values()
                .filter_map(|l| l.session),
        );
        seen.sort();
        seen.dedup();
        let dead: Vec<[u8; 32]> = seen
            .into_iter()
            .filter(|h| !self.console_session_live(h))
            .collect();
        if dead.is_empty() {
            return;
        }
        let mut grants = lock(&self.console.grants);
        grants.retain(|_, g| g.session.as_ref().is_none_or(|s| !dead.contains(&s.hash)));
        lock(&self.console.bridges).retain(|_, l| l.session.is_none_or(|h| !dead.contains(&h)));
    }

    /// A session was refreshed: its bridges and tokens follow the new
    /// access token (both under the grants' lock, like `console_take`).
    pub(crate) fn console_session_rekey(&self, old: &[u8; 32], new: &[u8; 32]) {
        let mut grants = lock(&self.console.grants);
        for g in grants.values_mut() {
            if let Some(s) = &mut g.session {
                if &s.hash == old {
                    s.hash = *new;
                }
            }
        }
        for l in lock(&self.console.bridges).values_mut() {
            if l.session.as_ref() == Some(old) {
                l.session = Some(*new);
            }
        }
    }
}
