//! Terminals and personal terminal sessions: the registry keyed by uuid
//! with unique MAC and (classroom, seat) indexes kept in the same
//! transaction, and sessions stored under the hash of their id with one
//! session per user.

use std::net::Ipv4Addr;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::{abort, ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use super::{codec, txn, Store, Table};
use crate::domain::clock::Millis;
use crate::domain::terminal::{Mac, Terminal, TerminalSession};
use crate::error::{Code, Error, Result};

type Tx<T> = std::result::Result<T, ConflictableTransactionError<Error>>;

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct TerminalV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub mac: [u8; 6],
    pub name: String,
    pub ip: Option<u32>,
    pub seat: Option<u32>,
    pub classroom: Option<[u8; 16]>,
    pub user: Option<[u8; 16]>,
    pub desktop: Option<[u8; 16]>,
    pub last_seen: i64,
    pub created_at: i64,
}

pub(super) const VERSION: u16 = 1;

impl TerminalV1 {
    fn from_domain(t: &Terminal) -> Self {
        TerminalV1 {
            uuid: *t.uuid.as_bytes(),
            seq: t.seq,
            mac: t.mac.0,
            name: t.name.clone(),
            ip: t.ip.map(u32::from),
            seat: t.seat,
            classroom: t.classroom.map(|u| *u.as_bytes()),
            user: t.user.map(|u| *u.as_bytes()),
            desktop: t.desktop.map(|u| *u.as_bytes()),
            last_seen: t.last_seen,
            created_at: t.created_at,
        }
    }

    fn into_domain(self) -> Terminal {
        Terminal {
            uuid: Uuid::from_bytes(self.uuid),
            seq: self.seq,
            mac: Mac(self.mac),
            name: self.name,
            ip: self.ip.map(Ipv4Addr::from),
            seat: self.seat,
            classroom: self.classroom.map(Uuid::from_bytes),
            user: self.user.map(Uuid::from_bytes),
            desktop: self.desktop.map(Uuid::from_bytes),
            last_seen: self.last_seen,
            created_at: self.created_at,
        }
    }
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct SessionV1 {
    pub hash: [u8; 32],
    pub user: [u8; 16],
    pub mac: [u8; 6],
    pub expires_at: i64,
    pub created_at: i64,
}

impl SessionV1 {
    fn from_domain(s: &TerminalSession) -> Self {
        SessionV1 {
            hash: s.hash,
            user: *s.user.as_bytes(),
            mac: s.mac.0,
            expires_at: s.expires_at,
            created_at: s.created_at,
        }
    }

    fn into_domain(self) -> TerminalSession {
        TerminalSession {
            hash: self.hash,
            user: Uuid::from_bytes(self.user),
            mac: Mac(self.mac),
            expires_at: self.expires_at,
            created_at: self.created_at,
        }
    }
}

fn mac_key(m: &Mac) -> Vec<u8> {
    let mut k = vec![b'm'];
    k.extend_from_slice(&m.0);
    k
}

fn seat_key((classroom, seat): (Uuid, u32)) -> Vec<u8> {
    let mut k = vec![b's'];
    k.extend_from_slice(classroom.as_bytes());
    k.extend_from_slice(&seat.to_be_bytes());
    k
}

fn session_key(hash: &[u8; 32]) -> Vec<u8> {
    let mut k = vec![b's'];
    k.extend_from_slice(hash);
    k
}

fn user_key(user: &Uuid) -> Vec<u8> {
    let mut k = vec![b'u'];
    k.extend_from_slice(user.as_bytes());
    k
}

fn not_found(what: impl std::fmt::Display) -> Error {
    Error::new(
        Code::TerminalNotFound,
        format!("Terminal {what} is not known"),
    )
}

fn dec_session(bytes: &[u8]) -> Tx<TerminalSession> {
    codec::decode::<SessionV1>(VERSION, bytes)
        .map(SessionV1::into_domain)
        .map_err(ConflictableTransactionError::Abort)
}

fn dec_terminal(bytes: &[u8]) -> Tx<Terminal> {
    codec::decode::<TerminalV1>(VERSION, bytes)
        .map(TerminalV1::into_domain)
        .map_err(ConflictableTransactionError::Abort)
}

/// Writes `new` over `old` (if any), moving the MAC and seat index entries;
/// a seat or MAC held by another terminal refuses the write.
fn write_in_tx(
    recs: &TransactionalTree,
    index: &TransactionalTree,
    old: Option<&Terminal>,
    new: &Terminal,
) -> Tx<()> {
    let me = *new.uuid.as_bytes();
    let holder = |k: &[u8]| -> Tx<Option<[u8; 16]>> {
        Ok(index
            .get(k)?
            .and_then(|v| <[u8; 16]>::try_from(v.as_ref()).ok())
            .filter(|v| *v != me))
    };
    if old.map(|o| o.mac) != Some(new.mac) {
        if holder(&mac_key(&new.mac))?.is_some() {
            return abort(Error::new(
                Code::TerminalExists,
                format!("Another terminal has MAC {}", new.mac),
            ));
        }
        if let Some(o) = old {
            index.remove(mac_key(&o.mac))?;
        }
        index.insert(mac_key(&new.mac), &me)?;
    }
    let (was, now) = (old.and_then(Terminal::seat_key), new.seat_key());
    if was != now {
        if let Some(k) = now {
            if let Some(other) = holder(&seat_key(k))? {
                let mac = recs
                    .get(other)?
                    .map(|b| dec_terminal(&b))
                    .transpose()?
                    .map(|t| t.mac.to_string())
                    .unwrap_or_default();
                return abort(Error::new(
                    Code::SeatTaken,
                    format!(
                        "Seat {} is taken by terminal {mac}; re-seat or delete that terminal at /api/v1.0/terminal/ first",
                        k.1
                    ),
                ));
            }
        }
        if let Some(k) = was {
            index.remove(seat_key(k))?;
        }
        if let Some(k) = now {
            index.insert(seat_key(k), &me)?;
        }
    }
    recs.insert(&me, codec::encode(VERSION, &TerminalV1::from_domain(new)))?;
    Ok(())
}

impl Store {
    pub fn terminal_get(&self, uuid: &Uuid) -> Result<Terminal> {
        let b = self
            .terminals
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| not_found(uuid))?;
        Ok(codec::decode::<TerminalV1>(VERSION, &b)?.into_domain())
    }

    fn terminal_by_index(&self, key: &[u8]) -> Result<Option<Terminal>> {
        match self.terminal_index.get(key).map_err(Error::store)? {
            Some(id) => {
                let id = <[u8; 16]>::try_from(id.as_ref()).map_err(Error::store)?;
                self.terminal_get(&Uuid::from_bytes(id)).map(Some)
            }
            None => Ok(None),
        }
    }

    pub fn terminal_by_mac(&self, mac: &Mac) -> Result<Option<Terminal>> {
        self.terminal_by_index(&mac_key(mac))
    }

    pub fn terminal_at_seat(&self, classroom: &Uuid, seat: u32) -> Result<Option<Terminal>> {
        self.terminal_by_index(&seat_key((*classroom, seat)))
    }

    pub fn terminal_list(&self) -> Result<Vec<Terminal>> {
        let mut v = self
            .terminals
            .iter()
            .values()
            .map(|b| {
                Ok(codec::decode::<TerminalV1>(VERSION, &b.map_err(Error::store)?)?.into_domain())
            })
            .collect::<Result<Vec<_>>>()?;
        v.sort_by_key(|t| t.seq);
        Ok(v)
    }

    /// Creates the terminal with `mac` (from `fresh`) or changes it, through
    /// `f`, in one transaction with its indexes. `f` runs outside the
    /// transaction; it runs again when the terminal changed meanwhile.
    pub fn terminal_upsert(
        &self,
        mac: &Mac,
        fresh: &Terminal,
        f: &dyn Fn(Terminal) -> Result<Terminal>,
    ) -> Result<Terminal> {
        let mk = mac_key(mac);
        for _ in 0..super::RMW_TRIES {
            let id = self.terminal_index.get(&mk).map_err(Error::store)?;
            let seen = match &id {
                Some(id) => self.terminals.get(id).map_err(Error::store)?,
                None => None,
            };
            let old = match &seen {
                Some(b) => Some(codec::decode::<TerminalV1>(VERSION, b)?.into_domain()),
                None => None,
            };
            let new = f(old.clone().unwrap_or_else(|| fresh.clone()))?;
            let done = txn((&self.terminals, &self.terminal_index).transaction(
                |(recs, index)| {
                    let cur_id = index.get(&mk)?;
                    let cur = match &cur_id {
                        Some(id) => recs.get(id)?,
                        None => None,
                    };
                    if cur_id != id || cur != seen {
                        return Ok(None);
                    }
                    if old.as_ref() != Some(&new) {
                        write_in_tx(recs, index, old.as_ref(), &new)?;
                    }
                    Ok(Some(new.clone()))
                },
            ))?;
            if let Some(t) = done {
                self.bump(Table::Terminal);
                return Ok(t);
            }
        }
        Err(super::rmw_gave_up())
    }

    /// Changes one terminal with `f` (which may refuse); `f` runs outside
    /// the transaction.
    pub fn terminal_update(
        &self,
        uuid: &Uuid,
        f: &dyn Fn(Terminal) -> Result<Terminal>,
    ) -> Result<Terminal> {
        let out = super::rmw(&self.terminals, uuid.as_bytes(), not_found(uuid), |seen| {
            let old = codec::decode::<TerminalV1>(VERSION, seen)?.into_domain();
            let new = f(old.clone())?;
            txn(
                (&self.terminals, &self.terminal_index).transaction(|(recs, index)| {
                    if recs.get(uuid.as_bytes())?.as_deref() != Some(seen) {
                        return Ok(None);
                    }
                    write_in_tx(recs, index, Some(&old), &new)?;
                    Ok(Some(new.clone()))
                }),
            )
        })?;
        self.bump(Table::Terminal);
        Ok(out)
    }

    /// Writes an imported record and its index entries.
    pub(super) fn terminal_load(&self, rec: &TerminalV1) -> Result<()> {
        let t = rec.clone().into_domain();
        self.terminals
            .insert(rec.uuid, codec::encode(VERSION, rec))
            .map_err(Error::store)?;
        self.terminal_index
            .insert(mac_key(&t.mac), &rec.uuid)
            .map_err(Error::store)?;
        if let Some(k) = t.seat_key() {
            self.terminal_index
                .insert(seat_key(k), &rec.uuid)
                .map_err(Error::store)?;
        }
        Ok(())
    }

    pub fn terminal_delete(&self, uuid: &Uuid) -> Result<Terminal> {
        let out = txn(
            (&self.terminals, &self.terminal_index).transaction(|(recs, index)| {
                let Some(b) = recs.remove(uuid.as_bytes())? else {
                    return abort(not_found(uuid));
                };
                let old = dec_terminal(&b)?;
                index.remove(mac_key(&old.mac))?;
                if let Some(k) = old.seat_key() {
                    index.remove(seat_key(k))?;
                }
                Ok(old)
            }),
        )?;
        self.bump(Table::Terminal);
        Ok(out)
    }

    /// Starts a session; the user's previous session (another terminal's)
    /// ends, and is returned.
    pub fn terminal_session_start(&self, s: &TerminalSession) -> Result<Option<TerminalSession>> {
        let rec = codec::encode(VERSION, &SessionV1::from_domain(s));
        txn(self.terminal_sessions.transaction(|t| {
            let mut old = None;
            if let Some(h) = t.get(user_key(&s.user))? {
                let mut k = vec![b's'];
                k.extend_from_slice(&h);
                if let Some(b) = t.remove(k)? {
                    old = Some(dec_session(&b)?);
                }
            }
            t.insert(user_key(&s.user), &s.hash)?;
            t.insert(session_key(&s.hash), rec.as_slice())?;
            Ok(old)
        }))
    }

    pub fn terminal_session_get(&self, hash: &[u8; 32]) -> Result<Option<TerminalSession>> {
        self.terminal_sessions
            .get(session_key(hash))
            .map_err(Error::store)?
            .map(|b| Ok(codec::decode::<SessionV1>(VERSION, &b)?.into_domain()))
            .transpose()
    }

    /// Moves a live session's expiry.
    pub fn terminal_session_renew(&self, hash: &[u8; 32], expires_at: Millis) -> Result<()> {
        let k = session_key(hash);
        txn(self.terminal_sessions.transaction(|t| {
            if let Some(b) = t.get(&k)? {
                let mut s = dec_session(&b)?;
                s.expires_at = expires_at;
                t.insert(
                    k.as_slice(),
                    codec::encode(VERSION, &SessionV1::from_domain(&s)),
                )?;
            }
            Ok(())
        }))
    }

    /// Ends one session; returns it if it existed.
    pub fn terminal_session_end(&self, hash: &[u8; 32]) -> Result<Option<TerminalSession>> {
        txn(self.terminal_sessions.transaction(|t| {
            let Some(b) = t.remove(session_key(hash))? else {
                return Ok(None);
            };
            let s = dec_session(&b)?;
            if t.get(user_key(&s.user))?.as_deref() == Some(&hash[..]) {
                t.remove(user_key(&s.user))?;
            }
            Ok(Some(s))
        }))
    }

    /// Ends the session of `user`, if any.
    pub fn terminal_session_of_user_end(&self, user: &Uuid) -> Result<()> {
        if let Some(h) = self
            .terminal_sessions
            .get(user_key(user))
            .map_err(Error::store)?
        {
            if let Ok(h) = <[u8; 32]>::try_from(h.as_ref()) {
                self.terminal_session_end(&h)?;
            }
        }
        Ok(())
    }

    /// Removes expired sessions; returns how many went.
    pub fn terminal_sessions_purge(&self, now: Millis) -> Result<usize> {
        let mut n = 0;
        for kv in self.terminal_sessions.scan_prefix([b's']) {
            let (_, v) = kv.map_err(Error::store)?;
            let s = codec::decode::<SessionV1>(VERSION, &v)?;
            if s.expires_at <= now {
                self.terminal_session_end(&s.hash)?;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(mac: u8, seat: Option<u32>, room: Uuid) -> Terminal {
        let mut t = Terminal::new(Uuid::new_v4(), mac as u64, Mac([0, 0, 0, 0, 0, mac]), 1);
        t.seat = seat;
        t.classroom = Some(room);
        t
    }

    #[test]
    fn seats_and_macs_are_unique() {
        let s = Store::temporary().unwrap();
        let room = Uuid::new_v4();
        let a = term(1, Some(3), room);
        let got = s.terminal_upsert(&a.mac, &a, &|t| Ok(t)).unwrap();
        assert_eq!(got, a);
        assert_eq!(s.terminal_at_seat(&room, 3).unwrap().unwrap().uuid, a.uuid);
        // Another terminal cannot take seat 3 of the room.
        let b = term(2, Some(3), room);
        let e = s.terminal_upsert(&b.mac, &b, &|t| Ok(t)).unwrap_err();
        assert_eq!(e.code, Code::SeatTaken);
        assert!(e.message.contains("00:00:00:00:00:01"), "{}", e.message);
        assert!(s.terminal_by_mac(&b.mac).unwrap().is_none());
        // Re-seating the first frees seat 3 for the second.
        s.terminal_update(&a.uuid, &|mut t| {
            t.seat = Some(4);
            Ok(t)
        })
        .unwrap();
        s.terminal_upsert(&b.mac, &b, &|t| Ok(t)).unwrap();
        assert_eq!(s.terminal_at_seat(&room, 3).unwrap().unwrap().uuid, b.uuid);
        s.terminal_delete(&b.uuid).unwrap();
        assert!(s.terminal_at_seat(&room, 3).unwrap().is_none());
        assert!(s.terminal_by_mac(&b.mac).unwrap().is_none());
        assert_eq!(s.terminal_list().unwrap().len(), 1);
    }

    #[test]
    fn one_session_per_user() {
        let s = Store::temporary().unwrap();
        let user = Uuid::new_v4();
        let one = TerminalSession {
            hash: [1; 32],
            user,
            mac: Mac([1; 6]),
            expires_at: 100,
            created_at: 0,
        };
        assert!(s.terminal_session_start(&one).unwrap().is_none());
        let two = TerminalSession {
            hash: [2; 32],
            mac: Mac([2; 6]),
            expires_at: 500,
            ..one.clone()
        };
        assert_eq!(s.terminal_session_start(&two).unwrap(), Some(one.clone()));
        assert!(s.terminal_session_get(&one.hash).unwrap().is_none());
        s.terminal_session_renew(&two.hash, 900).unwrap();
        assert_eq!(
            s.terminal_session_get(&two.hash)
                .unwrap()
                .unwrap()
                .expires_at,
            900
        );
        assert_eq!(s.terminal_sessions_purge(1000).unwrap(), 1);
        assert!(s.terminal_session_get(&two.hash).unwrap().is_none());
    }
}
