//! Admin accounts and login sessions. Tokens are stored only as hashes, so a
//! copy of the store does not hand out live sessions.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::abort;
use sled::Transactional;

use super::codec;
use super::{txn, Store, Table};
use crate::domain::admin::{Admin, Session};
use crate::domain::clock::Millis;
use crate::error::{Code, Error, Result};

const V1: u16 = 1;
/// Admin records since the console: V1 plus `enabled`. V1 records are read
/// as enabled accounts and written back as V2.
const ADMIN_V2: u16 = 2;
const SETUP_DONE: &[u8] = b"setup_done";

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct AdminV1 {
    pub name: String,
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct AdminV2 {
    pub name: String,
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Exports made before V2 carry no `enabled`: those accounts were all enabled.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
}

fn enabled_default() -> bool {
    true
}

/// An admin record of either version.
fn admin_decode(bytes: &[u8]) -> Result<AdminV2> {
    match codec::version(bytes)?.0 {
        V1 => Ok(AdminV2::from(codec::decode::<AdminV1>(V1, bytes)?)),
        _ => codec::decode::<AdminV2>(ADMIN_V2, bytes),
    }
}

impl From<AdminV1> for AdminV2 {
    fn from(a: AdminV1) -> Self {
        AdminV2 {
            name: a.name,
            password_hash: a.password_hash,
            created_at: a.created_at,
            updated_at: a.updated_at,
            enabled: true,
        }
    }
}

#[derive(Encode, Decode, Clone, Debug, PartialEq)]
struct SessionV1 {
    id: [u8; 16],
    admin: String,
    access_hash: [u8; 32],
    access_expires: i64,
    refresh_hash: [u8; 32],
    refresh_expires: i64,
    created_at: i64,
}

impl From<&Admin> for AdminV2 {
    fn from(a: &Admin) -> Self {
        AdminV2 {
            name: a.name.clone(),
            password_hash: a.password_hash.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            enabled: a.enabled,
        }
    }
}

impl From<AdminV2> for Admin {
    fn from(a: AdminV2) -> Self {
        Admin {
            name: a.name,
            password_hash: a.password_hash,
            created_at: a.created_at,
            updated_at: a.updated_at,
            enabled: a.enabled,
        }
    }
}

impl From<&Session> for SessionV1 {
    fn from(s: &Session) -> Self {
        SessionV1 {
            id: s.id,
            admin: s.admin.clone(),
            access_hash: s.access_hash,
            access_expires: s.access_expires,
            refresh_hash: s.refresh_hash,
            refresh_expires: s.refresh_expires,
            created_at: s.created_at,
        }
    }
}

impl From<SessionV1> for Session {
    fn from(s: SessionV1) -> Self {
        Session {
            id: s.id,
            admin: s.admin,
            access_hash: s.access_hash,
            access_expires: s.access_expires,
            refresh_hash: s.refresh_hash,
            refresh_expires: s.refresh_expires,
            created_at: s.created_at,
        }
    }
}

fn token_key(kind: u8, hash: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(kind);
    k.extend_from_slice(hash);
    k
}

impl Store {
    pub fn admin_get(&self, name: &str) -> Result<Option<Admin>> {
        match self.admins.get(name.as_bytes()).map_err(Error::store)? {
            None => Ok(None),
            Some(v) => Ok(Some(admin_decode(&v)?.into())),
        }
    }

    pub fn admin_list(&self) -> Result<Vec<Admin>> {
        self.admins
            .iter()
            .values()
            .map(|v| Ok(admin_decode(&v.map_err(Error::store)?)?.into()))
            .collect()
    }

    /// Whether first-admin setup has happened (an admin was ever created).
    pub fn setup_done(&self) -> Result<bool> {
        Ok(self.meta.get(SETUP_DONE).map_err(Error::store)?.is_some() || !self.admins.is_empty())
    }

    /// Creates the first admin, atomically refusing when setup is done.
    pub fn admin_create_first(&self, a: &Admin) -> Result<()> {
        let bytes = codec::encode(ADMIN_V2, &AdminV2::from(a));
        txn((&self.admins, &self.meta).transaction(|(admins, meta)| {
            if meta.get(SETUP_DONE)?.is_some() {
                return abort(Error::new(
                    Code::SetupDone,
                    "An admin account already exists",
                ));
            }
            admins.insert(a.name.as_bytes(), bytes.as_slice())?;
            meta.insert(SETUP_DONE, &[1u8])?;
            Ok(())
        }))?;
        self.bump(Table::Admin);
        Ok(())
    }

    /// Creates or replaces an admin (offline recovery, password changes).
    pub fn admin_put(&self, a: &Admin) -> Result<()> {
        let bytes = codec::encode(ADMIN_V2, &AdminV2::from(a));
        txn((&self.admins, &self.meta).transaction(|(admins, meta)| {
            admins.insert(a.name.as_bytes(), bytes.as_slice())?;
            meta.insert(SETUP_DONE, &[1u8])?;
            Ok(())
        }))?;
        self.bump(Table::Admin);
        Ok(())
    }

    /// Deletes an admin account and every session it holds.
    pub fn admin_delete(&self, name: &str) -> Result<()> {
        self.session_purge(i64::MIN, Some(name))?;
        self.admins.remove(name.as_bytes()).map_err(Error::store)?;
        self.bump(Table::Admin);
        Ok(())
    }

    pub fn session_insert(&self, s: &Session) -> Result<()> {
        let bytes = codec::encode(V1, &SessionV1::from(s));
        txn(
            (&self.sessions, &self.tokens).transaction(|(sessions, tokens)| {
                sessions.insert(&s.id, bytes.as_slice())?;
                tokens.insert(token_key(b'a', &s.access_hash), &s.id)?;
                tokens.insert(token_key(b'r', &s.refresh_hash), &s.id)?;
                Ok(())
            }),
        )?;
        self.bump(Table::Session);
        Ok(())
    }

    fn session_by(&self, kind: u8, hash: &[u8; 32]) -> Result<Option<Session>> {
        let Some(id) = self
            .tokens
            .get(token_key(kind, hash))
            .map_err(Error::store)?
        else {
            return Ok(None);
        };
        match self.sessions.get(id).map_err(Error::store)? {
            None => Ok(None),
            Some(v) => Ok(Some(codec::decode::<SessionV1>(V1, &v)?.into())),
        }
    }

    pub fn session_by_access(&self, hash: &[u8; 32]) -> Result<Option<Session>> {
        self.session_by(b'a', hash)
    }

    pub fn session_by_refresh(&self, hash: &[u8; 32]) -> Result<Option<Session>> {
        self.session_by(b'r', hash)
    }

    /// Replaces `old` by `new` atomically (refresh rotation). Fails when
    /// `old` is already gone, so a refresh token works once.
    pub fn session_replace(&self, old: &Session, new: &Session) -> Result<()> {
        let bytes = codec::encode(V1, &SessionV1::from(new));
        txn(
            (&self.sessions, &self.tokens).transaction(|(sessions, tokens)| {
                if sessions.remove(&old.id)?.is_none() {
                    return abort(Error::new(
                        Code::RefreshInvalid,
                        "The refresh token was already used",
                    ));
                }
                tokens.remove(token_key(b'a', &old.access_hash))?;
                tokens.remove(token_key(b'r', &old.refresh_hash))?;
                sessions.insert(&new.id, bytes.as_slice())?;
                tokens.insert(token_key(b'a', &new.access_hash), &new.id)?;
                tokens.insert(token_key(b'r', &new.refresh_hash), &new.id)?;
                Ok(())
            }),
        )?;
        self.bump(Table::Session);
        Ok(())
    }

    pub fn session_delete(&self, s: &Session) -> Result<()> {
        txn(
            (&self.sessions, &self.tokens).transaction(|(sessions, tokens)| {
                sessions.remove(&s.id)?;
                tokens.remove(token_key(b'a', &s.access_hash))?;
                tokens.remove(token_key(b'r', &s.refresh_hash))?;
                Ok(())
            }),
        )?;
        self.bump(Table::Session);
        Ok(())
    }

    /// Removes sessions whose refresh token expired, or (with `admin`) every
    /// session of that account. Returns how many went.
    pub fn session_purge(&self, now: Millis, admin: Option<&str>) -> Result<usize> {
        let mut gone = 0;
        for v in self.sessions.iter().values() {
            let s: Session = codec::decode::<SessionV1>(V1, &v.map_err(Error::store)?)?.into();
            if s.refresh_expires <= now || admin == Some(s.admin.as_str()) {
                self.session_delete(&s)?;
                gone += 1;
            }
        }
        Ok(gone)
    }

    /// Live sessions (refresh token not expired) per admin name.
    pub fn session_counts(&self, now: Millis) -> Result<std::collections::HashMap<String, usize>> {
        let mut n = std::collections::HashMap::new();
        for v in self.sessions.iter().values() {
            let s: Session = codec::decode::<SessionV1>(V1, &v.map_err(Error::store)?)?.into();
            if s.refresh_expires > now {
                *n.entry(s.admin).or_insert(0) += 1;
            }
        }
        Ok(n)
    }

    pub(super) fn admin_export(&self) -> Result<Vec<AdminV2>> {
        self.admins
            .iter()
            .values()
            .map(|v| admin_decode(&v.map_err(Error::store)?))
            .collect()
    }

    pub(super) fn admin_import(&self, recs: &[AdminV2]) -> Result<()> {
        for r in recs {
            self.admin_put(&Admin::from(r.clone()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(n: u8, exp: i64) -> Session {
        Session {
            id: [n; 16],
            admin: "admin".into(),
            access_hash: [n; 32],
            access_expires: exp,
            refresh_hash: [n.wrapping_add(100); 32],
            refresh_expires: exp,
            created_at: 0,
        }
    }

    #[test]
    fn first_admin_only_once() {
        let s = Store::temporary().unwrap();
        assert!(!s.setup_done().unwrap());
        let a = Admin {
            name: "admin".into(),
            password_hash: "h".into(),
            created_at: 0,
            updated_at: 0,
            enabled: true,
        };
        s.admin_create_first(&a).unwrap();
        assert!(s.setup_done().unwrap());
        assert_eq!(s.admin_create_first(&a).unwrap_err().code, Code::SetupDone);
        assert_eq!(s.admin_get("admin").unwrap().unwrap(), a);
    }

    #[test]
    fn a_v1_admin_reads_as_enabled_and_is_written_as_v2() {
        let s = Store::temporary().unwrap();
        let v1 = AdminV1 {
            name: "old".into(),
            password_hash: "h".into(),
            created_at: 1,
            updated_at: 2,
        };
        s.admins.insert(b"old", codec::encode(V1, &v1)).unwrap();
        let a = s.admin_get("old").unwrap().unwrap();
        assert!(a.enabled);
        assert_eq!((a.created_at, a.updated_at), (1, 2));
        let off = Admin {
            enabled: false,
            ..a
        };
        s.admin_put(&off).unwrap();
        let raw = s.admins.get(b"old").unwrap().unwrap();
        assert_eq!(codec::version(&raw).unwrap().0, ADMIN_V2);
        assert!(!s.admin_get("old").unwrap().unwrap().enabled);
        s.session_insert(&session(7, 100)).unwrap();
        s.admin_delete("admin").unwrap();
        assert!(s.session_by_access(&[7; 32]).unwrap().is_none());
    }

    #[test]
    fn sessions_by_token_and_rotation_once() {
        let s = Store::temporary().unwrap();
        let one = session(1, 100);
        s.session_insert(&one).unwrap();
        assert_eq!(s.session_by_access(&[1; 32]).unwrap().unwrap().id, [1; 16]);
        assert_eq!(
            s.session_by_refresh(&[101; 32]).unwrap().unwrap().id,
            [1; 16]
        );
        let two = session(2, 200);
        s.session_replace(&one, &two).unwrap();
        assert!(s.session_by_access(&[1; 32]).unwrap().is_none());
        assert_eq!(
            s.session_replace(&one, &two).unwrap_err().code,
            Code::RefreshInvalid
        );
        assert_eq!(s.session_purge(150, None).unwrap(), 0);
        assert_eq!(s.session_purge(250, None).unwrap(), 1);
        assert!(s.session_by_access(&[2; 32]).unwrap().is_none());
    }
}
