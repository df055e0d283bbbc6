//! Admin accounts managed from the console: list, create, change (password,
//! enabled), delete, and signing out every session of the caller. The
//! last enabled account always stays, and nobody disables or deletes
//! their own.

use std::collections::HashMap;

use super::Services;
use crate::domain::admin::{valid_admin_name, valid_password, Admin};
use crate::error::{Code, Error, Result};

/// An admin as the console lists it (never the hash).
#[derive(Clone, Debug, PartialEq)]
pub struct AdminRow {
    pub admin: Admin,
    /// Live sessions (signed-in browsers and scripts).
    pub sessions: usize,
}

/// What `admin_update` changes; `None` keeps it.
#[derive(Clone, Debug, Default)]
pub struct AdminChange {
    pub password: Option<String>,
    pub enabled: Option<bool>,
}

impl Services {
    pub fn admin_list(&self) -> Result<Vec<AdminRow>> {
        let counts: HashMap<String, usize> = self.store.session_counts(self.now_ms())?;
        let mut rows: Vec<AdminRow> = self
            .store
            .admin_list()?
            .into_iter()
            .map(|a| AdminRow {
                sessions: counts.get(&a.name).copied().unwrap_or(0),
                admin: a,
            })
            .collect();
        rows.sort_by_key(|r| r.admin.created_at);
        Ok(rows)
    }

    fn admin_existing(&self, name: &str) -> Result<Admin> {
        self.store
            .admin_get(name)?
            .ok_or_else(|| Error::new(Code::AdminNotFound, format!("No admin account `{name}`")))
    }

    /// Refuses a change that would leave no enabled admin, or that `caller`
    /// makes to their own account.
    fn admin_guard(&self, caller: &str, name: &str, verb: &str) -> Result<()> {
        if caller == name {
            return Err(Error::new(
                Code::AdminLastOrSelf,
                format!("You cannot {verb} your own account `{name}`; another admin can"),
            ));
        }
        let others = self
            .store
            .admin_list()?
            .iter()
            .filter(|a| a.enabled && a.name != name)
            .count();
        if others == 0 {
            return Err(Error::new(
                Code::AdminLastOrSelf,
                format!("`{name}` is the last enabled admin; it cannot be {verb}d"),
            ));
        }
        Ok(())
    }

    pub async fn admin_create(&self, name: &str, password: &str) -> Result<Admin> {
        if !valid_admin_name(name) {
            return Err(Error::invalid(
                "name",
                "must be 1 to 32 of the characters A-Z a-z 0-9 _ . -",
            ));
        }
        valid_password(password).map_err(|why| Error::invalid("password", why))?;
        let hash = self.password_hash(password).await?;
        let _one = self.auth.admins.lock().await;
        if self.store.admin_get(name)?.is_some() {
            return Err(Error::new(
                Code::AdminExists,
                format!("Field `name`: an admin `{name}` exists"),
            ));
        }
        let now = self.now_ms();
        let a = Admin {
            name: name.into(),
            password_hash: hash,
            created_at: now,
            updated_at: now,
            enabled: true,
        };
        self.store.admin_put(&a)?;
        self.store.flush().await?;
        Ok(a)
    }

    /// Changes an account. A new password or disabling ends the account's
    /// sessions (the caller's own password change keeps theirs).
    pub async fn admin_update(
        &self,
        caller: &str,
        name: &str,
        change: AdminChange,
    ) -> Result<Admin> {
        if let Some(p) = &change.password {
            valid_password(p).map_err(|why| Error::invalid("password", why))?;
        }
        let hash = match &change.password {
            Some(p) => Some(self.password_hash(p).await?),
            None => None,
        };
        let _one = self.auth.admins.lock().await;
        let mut a = self.admin_existing(name)?;
        if change.enabled == Some(false) && a.enabled {
            self.admin_guard(caller, name, "disable")?;
        }
        if let Some(h) = hash {
            a.password_hash = h;
        }
        if let Some(e) = change.enabled {
            a.enabled = e;
        }
        a.updated_at = self.now_ms();
        self.store.admin_put(&a)?;
        if !a.enabled || (change.password.is_some() && caller != name) {
            self.store.session_purge(self.now_ms(), Some(name))?;
        }
        self.store.flush().await?;
        self.console_session_sweep();
        Ok(a)
    }

    pub async fn admin_delete(&self, caller: &str, name: &str) -> Result<()> {
        let _one = self.auth.admins.lock().await;
        self.admin_existing(name)?;
        self.admin_guard(caller, name, "delete")?;
        self.store.admin_delete(name)?;
        self.store.flush().await?;
        self.console_session_sweep();
        Ok(())
    }

    /// Ends every session of the admin the access token belongs to.
    pub async fn auth_logout_all(&self, access_token: &str) -> Result<usize> {
        let name = self.auth_check(access_token)?;
        let n = self.store.session_purge(self.now_ms(), Some(&name))?;
        self.store.flush().await?;
        self.console_session_sweep();
        Ok(n)
    }
}
