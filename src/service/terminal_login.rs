//! Personal users on terminals: login (rate-limited, distinct refusals),
//! sessions that expire and renew on use, one per user, logout, password
//! change, the groups a user may open, and opening or closing their desktop.

use std::sync::Arc;

use uuid::Uuid;

use super::auth::{random_token, token_hash};
use super::terminal::Opened;
use super::{Actor, Services};
use crate::domain::clock::format_utc;
use crate::domain::desktop::{Assign, DesktopGroup, Kind, Phase};
use crate::domain::terminal::{Mac, TerminalSession};
use crate::domain::user::User;
use crate::error::{Code, Error, Result};

/// What a login hands out.
#[derive(Clone, Debug)]
pub struct Login {
    pub user: User,
    pub session_id: String,
    pub expire_time: String,
    /// The terminal the account was logged in on until now.
    pub old_mac: Option<String>,
}

fn invalid_session() -> Error {
    Error::new(
        Code::SessionInvalid,
        "The session is unknown or has ended; log in again",
    )
}

impl Services {
    /// Checks a password with the account and the caller's address both
    /// counted against `login_attempts`. A right password clears the
    /// account's count; the address keeps its failures (its window ends
    /// with its lockout), so right logins to one's own account cannot
    /// launder guesses at others.
    async fn user_password_check(
        &self,
        actor: &Actor,
        user_name: &str,
        password: &str,
    ) -> Result<User> {
        if user_name.chars().count() > 64 {
            return Err(Error::new(
                Code::UserUnknown,
                "No user has this login name (login names have at most 64 characters)",
            ));
        }
        let key = format!("user:{}", crate::domain::text::fold(user_name));
        let limit = self.settings.login_attempts;
        self.attempts_begin(&key, &format!("user `{user_name}`"), limit)?;
        // A terminal address may fail a few times as often (several users
        // share a classroom terminal), then it waits too.
        let src = format!("terminal:{}", actor.client);
        self.attempts_begin(&src, &format!("terminal {}", actor.client), limit * 4)?;
        let user = self.store.user_by_name(user_name)?.ok_or_else(|| {
            Error::new(
                Code::UserUnknown,
                format!("No user is called `{user_name}`"),
            )
        })?;
        if password.len() > 1024 {
            return Err(Error::new(Code::WrongPassword, "Wrong password"));
        }
        if !self.password_verify(password, &user.password_hash).await {
            return Err(Error::new(
                Code::WrongPassword,
                format!("Wrong password for `{user_name}`"),
            ));
        }
        self.attempts_succeeded(&key);
        self.attempts_refund(&src, limit * 4);
        if !user.enabled {
            return Err(Error::new(
                Code::UserDisabled,
                format!("User `{user_name}` is disabled; ask an admin to enable it"),
            ));
        }
        Ok(user)
    }

    /// Logs a user in on terminal `mac`: a new session, which ends the
    /// session the account had on another terminal (named in `old_mac`).
    pub async fn terminal_login(
        &self,
        actor: &Actor,
        user_name: &str,
        password: &str,
        mac: &Mac,
    ) -> Result<Login> {
        let user = self.user_password_check(actor, user_name, password).await?;
        let now = self.now_ms();
        let _ = self.store.terminal_sessions_purge(now);
        let id = random_token()?[..32].to_string();
        let s = TerminalSession {
            hash: token_hash(&id),
            user: user.uuid,
            mac: *mac,
            expires_at: now + self.settings.terminal_session.as_millis() as i64,
            created_at: now,
        };
        let old = self.store.terminal_session_start(&s)?;
        let old_mac = match old.filter(|o| o.live(now) && o.mac != *mac) {
            Some(o) => {
                self.terminal_user_clear(&o.mac)?;
                Some(o.mac.to_string())
            }
            None => None,
        };
        let ip = super::terminal::peer_v4(&actor.client);
        let uid = user.uuid;
        self.terminal_seen(mac, &|mut t| {
            t.user = Some(uid);
            if ip.is_some() {
                t.ip = ip;
            }
            Ok(t)
        })?;
        self.store.flush().await?;
        Ok(Login {
            user,
            session_id: id,
            expire_time: format_utc(s.expires_at),
            old_mac,
        })
    }

    /// The session's user; a use past half the session's life renews it.
    pub fn terminal_session_check(&self, session_id: &str) -> Result<(TerminalSession, User)> {
        let hash = token_hash(session_id.trim());
        let mut s = self
            .store
            .terminal_session_get(&hash)?
            .ok_or_else(invalid_session)?;
        let now = self.now_ms();
        if !s.live(now) {
            self.store.terminal_session_end(&hash)?;
            return Err(Error::new(
                Code::SessionInvalid,
                "The session has expired; log in again",
            ));
        }
        let user = self
            .store
            .user_get(&s.user)
            .map_err(|_| invalid_session())?;
        if !user.enabled {
            self.store.terminal_session_end(&hash)?;
            return Err(Error::new(
                Code::UserDisabled,
                format!("User `{}` is disabled", user.user_name),
            ));
        }
        let ttl = self.settings.terminal_session.as_millis() as i64;
        if s.wants_renewal(now, ttl) {
            s.expires_at = now + ttl;
            self.store.terminal_session_renew(&hash, s.expires_at)?;
        }
        Ok((s, user))
    }

    pub async fn terminal_logout(&self, session_id: &str) -> Result<()> {
        let (s, _) = self.terminal_session_check(session_id)?;
        self.store.terminal_session_end(&s.hash)?;
        self.terminal_user_clear(&s.mac)?;
        self.store.flush().await?;
        Ok(())
    }

    /// Changes a password with the old one; the user's session ends.
    pub async fn terminal_change_password(
        &self,
        actor: &Actor,
        user_name: &str,
        old: &str,
        new: &str,
    ) -> Result<()> {
        let user = self.user_password_check(actor, user_name, old).await?;
        let hash = self.password_hash(new).await?;
        self.store.user_update(&user.uuid, &|mut u| {
            u.password_hash = hash.clone();
            u.updated_at = self.now_ms();
            Ok(u)
        })?;
        self.store.terminal_session_of_user_end(&user.uuid)?;
        self.store.flush().await?;
        Ok(())
    }

    /// Whether `user` may open desktops of personal group `g`.
    fn user_may_use(&self, user: &User, g: &DesktopGroup) -> Result<bool> {
        if g.kind != Kind::Personal || g.phase != Phase::Ready {
            return Ok(false);
        }
        Ok(match g.assign {
            Some(Assign::Random) => g.user_groups.contains(&user.group),
            _ => self
                .store
                .desktops_of(&g.uuid)?
                .iter()
                .any(|d| d.user == Some(user.uuid)),
        })
    }

    /// The personal groups the session's user may open.
    pub fn terminal_person_desktops(&self, session_id: &str) -> Result<Vec<DesktopGroup>> {
        let (_, user) = self.terminal_session_check(session_id)?;
        let mut v = Vec::new();
        for g in self.store.desktop_group_list()? {
            if self.user_may_use(&user, &g)? {
                v.push(g);
            }
        }
        v.sort_by(|a, b| (a.order_num, &a.name).cmp(&(b.order_num, &b.name)));
        Ok(v)
    }

    /// Opens the user's desktop of `group`: their static desktop, or a
    /// random group's free one taken atomically; started if needed.
    pub async fn terminal_personal_open(
        self: &Arc<Self>,
        session_id: &str,
        group: &Uuid,
        via: &str,
    ) -> Result<Opened> {
        let (s, user) = self.terminal_session_check(session_id)?;
        let g = self.store.desktop_group_get(group)?;
        if !self.user_may_use(&user, &g)? {
            return Err(Error::new(
                Code::DesktopGroupClosed,
                format!(
                    "User `{}` may not use desktop group `{}`",
                    user.user_name, g.name
                ),
            ));
        }
        if g.maintenance {
            return Err(Error::new(
                Code::DesktopGroupClosed,
                format!("Desktop group `{}` is in maintenance", g.name),
            ));
        }
        let mine = self.store.desktops_of(&g.uuid)?;
        let held = mine.iter().any(|d| d.user == Some(user.uuid));
        let d = match g.assign {
            Some(Assign::Random) => self.desktop_take(&g.uuid, &user.uuid).await?,
            _ => mine
                .into_iter()
                .find(|d| d.user == Some(user.uuid))
                .ok_or_else(|| {
                    Error::new(
                        Code::SeatUnknown,
                        format!(
                            "User `{}` has no desktop in group `{}`",
                            user.user_name, g.name
                        ),
                    )
                })?,
        };
        let ip = self.store.terminal_by_mac(&s.mac)?.and_then(|t| t.ip);
        match self.desktop_open(&d, false, &s.mac, ip, via).await {
            Ok(o) => Ok(o),
            Err(e) => {
                // A random desktop that could not be opened goes back.
                if g.assign == Some(Assign::Random) && !held {
                    let _ = self.desktop_assign(&d.uuid, None).await;
                }
                Err(e)
            }
        }
    }

    /// The user closes the desktop open on terminal `mac` (nothing open:
    /// nothing to do).
    pub async fn terminal_personal_close(
        self: &Arc<Self>,
        actor: &Actor,
        session_id: &str,
        mac: &Mac,
    ) -> Result<()> {
        let (_, user) = self.terminal_session_check(session_id)?;
        let Some(t) = self.store.terminal_by_mac(mac)? else {
            return Ok(());
        };
        let Some(d) = t.desktop.and_then(|id| self.store.desktop_get(&id).ok()) else {
            return Ok(());
        };
        if d.user != Some(user.uuid) {
            return Err(Error::new(
                Code::TerminalNotFound,
                format!("Terminal {mac} has no desktop of `{}` open", user.user_name),
            ));
        }
        self.desktop_close(actor, &d).await
    }
}
