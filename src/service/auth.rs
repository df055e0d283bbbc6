//! Admin authentication: first-admin setup with a one-time token, login with
//! argon2id hashes, access/refresh token pairs, logout, and a per-account
//! limit on failed logins.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use blake2::{Blake2s256, Digest};

use super::Services;
use crate::domain::admin::{valid_admin_name, valid_password, Admin, Session};
use crate::error::{Code, Error, Result};

/// Failed-login bookkeeping for one account name.
#[derive(Clone, Copy, Debug)]
struct Attempts {
    failures: u32,
    locked_until: Option<Instant>,
}

pub struct AuthState {
    attempts: Mutex<HashMap<String, Attempts>>,
    setup_token: Mutex<Option<[u8; 32]>>,
    /// Password hashing costs 7 MiB and a core: at most one per core runs
    /// at a time, whatever the number of concurrent logins.
    pub(crate) hashing: smol::lock::Semaphore,
    /// Serialises account changes, so two admins cannot disable each other
    /// past the last-enabled-admin rule.
    pub(crate) admins: smol::lock::Mutex<()>,
}

impl Default for AuthState {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        AuthState {
            attempts: Mutex::default(),
            setup_token: Mutex::default(),
            hashing: smol::lock::Semaphore::new(cores),
            admins: smol::lock::Mutex::new(()),
        }
    }
}

const PASSWORD_MAX_BYTES: usize = 1024;

/// What a successful login or refresh hands out.
#[derive(Clone, Debug, PartialEq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub admin: String,
}

const ATTEMPT_TABLE_MAX: usize = 10_000;

pub(crate) fn random_token() -> Result<String> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(Error::internal)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

pub fn token_hash(token: &str) -> [u8; 32] {
    Blake2s256::digest(token.as_bytes()).into()
}

/// Compares two hashes in constant time.
pub(crate) fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Argon2id with 7 MiB and 5 passes (an OWASP-recommended setting that
/// keeps the service's memory low); verification reads the parameters from
/// each stored hash, so older hashes keep working.
fn hasher() -> Argon2<'static> {
    let params = argon2::Params::new(7 * 1024, 5, 1, None).expect("valid argon2 parameters");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

pub fn hash_password(pw: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

fn verify_password(pw: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| hasher().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A real hash of nothing in particular, verified for unknown accounts.
fn dummy_hash() -> Result<String> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = hash_password("no such account")?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

fn check_credentials_shape(name: &str, password: &str) -> Result<()> {
    if !valid_admin_name(name) {
        return Err(Error::invalid(
            "name",
            "must be 1 to 32 of the characters A-Z a-z 0-9 _ . -",
        ));
    }
    valid_password(password).map_err(|why| Error::invalid("password", why))
}

impl Services {
    /// Whether first-boot setup has made the first admin account.
    pub fn auth_admin_exists(&self) -> Result<bool> {
        self.store.setup_done()
    }

    /// Hashes a password off the executor, one per core at a time.
    pub(crate) async fn password_hash(&self, pw: &str) -> Result<String> {
        let pw = pw.to_string();
        let _permit = self.auth.hashing.acquire().await;
        smol::unblock(move || hash_password(&pw)).await
    }

    /// Checks a password against a stored hash, like `password_hash`.
    pub(crate) async fn password_verify(&self, pw: &str, phc: &str) -> bool {
        let (pw, phc) = (pw.to_string(), phc.to_string());
        let _permit = self.auth.hashing.acquire().await;
        smol::unblock(move || verify_password(&pw, &phc)).await
    }

    pub fn setup_token_path(&self) -> PathBuf {
        self.settings.data_dir.join("setup-token")
    }

    /// Before any admin exists: writes a fresh one-time setup token to
    /// `<data>/setup-token` (readable by root only) and returns its path.
    pub fn auth_setup_prepare(&self) -> Result<Option<PathBuf>> {
        let path = self.setup_token_path();
        if self.store.setup_done()? {
            self.files.remove(&path)?;
            return Ok(None);
        }
        let token = random_token()?;
        self.files.write_private(&path, &format!("{token}\n"))?;
        *self.auth.setup_token.lock().map_err(Error::internal)? = Some(token_hash(&token));
        Ok(Some(path))
    }

    /// No setup here (a compute node is its controller's): the token file,
    /// if an earlier start left one, goes.
    pub fn auth_setup_withdraw(&self) {
        if let Err(e) = self.files.remove(&self.setup_token_path()) {
            log::warn!("the setup token file could not be removed: {e}");
        }
    }

    /// Creates the first admin with the setup token; works once.
    pub async fn auth_setup_admin(
        &self,
        setup_token: &str,
        name: &str,
        password: &str,
    ) -> Result<()> {
        if self.store.setup_done()? {
            return Err(Error::new(
                Code::SetupDone,
                "An admin account already exists; log in instead",
            ));
        }
        let want = *self.auth.setup_token.lock().map_err(Error::internal)?;
        match want {
            Some(h) if same(&h, &token_hash(setup_token.trim())) => {}
            _ => {
                return Err(Error::new(
                    Code::SetupTokenInvalid,
                    "Field `setup_token`: wrong setup token",
                ))
            }
        }
        check_credentials_shape(name, password)?;
        let hash = self.password_hash(password).await?;
        let now = self.now_ms();
        self.store.admin_create_first(&Admin {
            name: name.into(),
            password_hash: hash,
            created_at: now,
            updated_at: now,
            enabled: true,
        })?;
        self.store.flush().await?;
        *self.auth.setup_token.lock().map_err(Error::internal)? = None;
        self.auth_setup_withdraw();
        log::info!("first admin `{name}` created; setup token spent");
        Ok(())
    }

    /// Sets this host's root password (the one a controller's `node/check`
    /// and `node/add` log in with). Before an admin exists the setup token
    /// opens it; afterwards an admin (`setup_token` is then `None`).
    pub async fn root_password_set(&self, setup_token: Option<&str>, password: &str) -> Result<()> {
        if let Some(t) = setup_token {
            let want = *self.auth.setup_token.lock().map_err(Error::internal)?;
            match want {
                Some(h) if same(&h, &token_hash(t.trim())) => {}
                _ => {
                    return Err(Error::new(
                        Code::SetupTokenInvalid,
                        "Field `setup_token`: wrong setup token (after the first admin exists, sign in and use /api/v1/system/root_password)",
                    ))
                }
            }
        }
        let n = password.chars().count();
        if !(8..=128).contains(&n) {
            return Err(Error::invalid("password", "must have 8 to 128 characters"));
        }
        if password.chars().any(|c| c == ':' || c.is_control()) {
            return Err(Error::invalid(
                "password",
                "must not contain `:` or control characters",
            ));
        }
        self.accounts.set_password("root", password).await?;
        log::warn!("the root password of this host was changed");
        Ok(())
    }

    /// Counts a login attempt before its password is checked, so parallel
    /// guesses cannot all slip past the limit; refuses a locked account.
    /// `key` names the counter (an account or an address); `what` is how
    /// the refusal names it.
    pub(crate) fn attempts_begin(&self, key: &str, what: &str, limit: u32) -> Result<()> {
        let name = key;
        let mut map = self.auth.attempts.lock().map_err(Error::internal)?;
        let now = self.clock.instant();
        if let Some(Attempts {
            locked_until: Some(t),
            ..
        }) = map.get(name)
        {
            if *t > now {
                let secs = (*t - now).as_secs() + 1;
                return Err(Error::new(
                    Code::TooManyAttempts,
                    format!("Too many failed logins for {what}; retry in {secs} s"),
                ));
            }
        }
        if map.len() >= ATTEMPT_TABLE_MAX && !map.contains_key(name) {
            map.retain(|_, a| a.locked_until.is_some_and(|t| t > now));
            if map.len() >= ATTEMPT_TABLE_MAX {
                return Err(Error::new(
                    Code::TooManyAttempts,
                    "Too many failed logins; retry later",
                ));
            }
        }
        let limit = limit.max(1);
        let a = map.entry(name.to_string()).or_insert(Attempts {
            failures: 0,
            locked_until: None,
        });
        if a.locked_until.is_some_and(|t| t <= now) {
            *a = Attempts {
                failures: 0,
                locked_until: None,
            };
        }
        a.failures += 1;
        if a.failures >= limit {
            a.failures = 0;
            a.locked_until = Some(now + self.settings.login_lockout);
            log::warn!(
                "logins for {what} locked for {:?} after {limit} failures",
                self.settings.login_lockout
            );
        }
        Ok(())
    }

    /// Takes back the attempt `attempts_begin` counted for `key` (with
    /// `limit`) once it turned out right: the counter keeps its failures
    /// (an address's successes with one account never wipe its failures
    /// with others). A lock found here was set while this attempt ran (a
    /// locked key refuses before counting), by this attempt or one beside
    /// it: it stands only if the failures alone reach the limit, which
    /// they do not (the limit counted this attempt), so it is lifted with
    /// `limit - 1` failures kept.
    pub(crate) fn attempts_refund(&self, key: &str, limit: u32) {
        if let Ok(mut map) = self.auth.attempts.lock() {
            if let Some(a) = map.get_mut(key) {
                if a.locked_until.take().is_some() {
                    a.failures = limit.max(1) - 1;
                } else {
                    a.failures = a.failures.saturating_sub(1);
                }
            }
        }
    }

    /// A successful login clears the account's count.
    pub(crate) fn attempts_succeeded(&self, name: &str) {
        if let Ok(mut map) = self.auth.attempts.lock() {
            map.remove(name);
        }
    }

    fn new_session(&self, admin: &str) -> Result<(Session, Tokens)> {
        let access = random_token()?;
        let refresh = random_token()?;
        let now = self.now_ms();
        let mut id = [0u8; 16];
        getrandom::getrandom(&mut id).map_err(Error::internal)?;
        let s = Session {
            id,
            admin: admin.into(),
            access_hash: token_hash(&access),
            access_expires: now + self.settings.access_ttl.as_millis() as i64,
            refresh_hash: token_hash(&refresh),
            refresh_expires: now + self.settings.refresh_ttl.as_millis() as i64,
            created_at: now,
        };
        let t = Tokens {
            access_token: access,
            refresh_token: refresh,
            expires_in: self.settings.access_ttl.as_secs(),
            admin: admin.into(),
        };
        Ok((s, t))
    }

    pub async fn auth_login(&self, name: &str, password: &str) -> Result<Tokens> {
        let bad = || Error::new(Code::BadCredentials, "Wrong account name or password");
        // Names no account can have are refused before any bookkeeping.
        if !valid_admin_name(name) || password.len() > PASSWORD_MAX_BYTES {
            return Err(bad());
        }
        self.attempts_begin(name, &format!("`{name}`"), self.settings.login_attempts)?;
        let admin = self.store.admin_get(name)?;
        // Verify against a real hash even for unknown names, so timing does
        // not tell which accounts exist.
        let phc = match &admin {
            Some(a) => a.password_hash.clone(),
            None => dummy_hash()?,
        };
        let ok = self.password_verify(password, &phc).await && admin.is_some();
        if !ok {
            return Err(bad());
        }
        if admin.as_ref().is_some_and(|a| !a.enabled) {
            return Err(Error::new(
                Code::AdminDisabled,
                format!("The account `{name}` is disabled; another admin can enable it"),
            ));
        }
        self.attempts_succeeded(name);
        let _ = self.store.session_purge(self.now_ms(), None);
        let (s, t) = self.new_session(name)?;
        self.store.session_insert(&s)?;
        self.store.flush().await?;
        Ok(t)
    }

    /// Trades a refresh token for a new pair; the old pair stops working.
    pub async fn auth_refresh(&self, refresh_token: &str) -> Result<Tokens> {
        let invalid = || {
            Error::new(
                Code::RefreshInvalid,
                "The refresh token is unknown, revoked or expired",
            )
        };
        let old = self
            .store
            .session_by_refresh(&token_hash(refresh_token))?
            .ok_or_else(invalid)?;
        if old.refresh_expires <= self.now_ms() {
            self.store.session_delete(&old)?;
            return Err(invalid());
        }
        if !self.store.admin_get(&old.admin)?.is_some_and(|a| a.enabled) {
            return Err(invalid());
        }
        let (s, t) = self.new_session(&old.admin)?;
        self.store.session_replace(&old, &s)?;
        self.store.flush().await?;
        self.console_session_rekey(&old.access_hash, &s.access_hash);
        Ok(t)
    }

    /// Revokes the session the access token belongs to.
    pub async fn auth_logout(&self, access_token: &str) -> Result<()> {
        if let Some(s) = self.store.session_by_access(&token_hash(access_token))? {
            self.store.session_delete(&s)?;
            self.store.flush().await?;
        }
        self.console_session_sweep();
        Ok(())
    }

    /// The admin an access token belongs to, if it is live.
    pub fn auth_check(&self, access_token: &str) -> Result<String> {
        self.auth_session(&token_hash(access_token))
            .map(|s| s.admin)
    }

    /// The live session whose access token hashes to `hash`.
    pub(crate) fn auth_session(&self, hash: &[u8; 32]) -> Result<Session> {
        let s = self.store.session_by_access(hash)?.ok_or_else(|| {
            Error::new(
                Code::TokenInvalid,
                "The access token is unknown or revoked; log in again",
            )
        })?;
        if s.access_expires <= self.now_ms() {
            return Err(Error::new(
                Code::TokenInvalid,
                "The access token expired; refresh it or log in again",
            ));
        }
        Ok(s)
    }

    /// Offline recovery: sets (creating if needed) an admin's password and
    /// revokes that account's sessions. Returns whether the account is new.
    pub fn admin_set_password(&self, name: &str, password: &str) -> Result<bool> {
        check_credentials_shape(name, password)?;
        let now = self.now_ms();
        let existing = self.store.admin_get(name)?;
        let created = existing.is_none();
        let admin = Admin {
            name: name.into(),
            password_hash: hash_password(password)?,
            created_at: existing.as_ref().map(|a| a.created_at).unwrap_or(now),
            updated_at: now,
            // Offline recovery also re-enables the account.
            enabled: true,
        };
        self.store.admin_put(&admin)?;
        self.store.session_purge(now, Some(name))?;
        self.store.flush_blocking()?;
        self.console_session_sweep();
        self.auth_setup_withdraw();
        Ok(created)
    }

    /// Whether `password` is the admin's: `None` when there is no such admin.
    pub fn admin_verify(&self, name: &str, password: &str) -> Result<Option<bool>> {
        check_credentials_shape(name, password)?;
        Ok(self
            .store
            .admin_get(name)?
            .map(|a| verify_password(password, &a.password_hash)))
    }

    /// How long the lockout lasts (for replies and docs).
    pub fn login_lockout(&self) -> Duration {
        self.settings.login_lockout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn token_hashes_compare() {
        let a = token_hash("abc");
        assert!(same(&a, &token_hash("abc")));
        assert!(!same(&a, &token_hash("abd")));
        assert_eq!(random_token().unwrap().len(), 64);
        assert_ne!(random_token().unwrap(), random_token().unwrap());
    }
}
