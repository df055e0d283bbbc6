//! Thin-client terminals and their sessions: MAC addresses as terminals
//! send them, the registry record (seat, classroom, user, open desktop) and
//! a personal login session.

use std::fmt;
use std::net::Ipv4Addr;

use uuid::Uuid;

use super::clock::Millis;
use crate::error::{Error, Result};

/// A terminal's hardware address, the registry's natural key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Six hex octets separated by `:` or `-` (any case), or twelve hex
    /// digits; anything else names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Mac> {
        let bad = || {
            Error::invalid(
                field,
                format!(
                    "`{}` is not a MAC address (six hex octets, e.g. 52:54:00:12:34:56)",
                    super::text::clip(raw, 40)
                ),
            )
        };
        let t = raw.trim();
        // Only ASCII from here on: byte offsets are character offsets, and
        // `from_str_radix`'s leading `+` is refused below.
        if !t.is_ascii() {
            return Err(bad());
        }
        let parts: Vec<&str> = if t.contains(':') || t.contains('-') {
            t.split([':', '-']).collect()
        } else if t.len() == 12 {
            (0..6).map(|i| &t[i * 2..i * 2 + 2]).collect()
        } else {
            return Err(bad());
        };
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut b = [0u8; 6];
        for (o, p) in b.iter_mut().zip(&parts) {
            if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        Ok(Mac(b))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// What the appliance knows of one terminal.
#[derive(Clone, Debug, PartialEq)]
pub struct Terminal {
    pub uuid: Uuid,
    pub seq: u64,
    pub mac: Mac,
    /// A name the admin gives (empty until then).
    pub name: String,
    pub ip: Option<Ipv4Addr>,
    /// The seat number (`terminal_id`) in its classroom.
    pub seat: Option<u32>,
    /// The classroom whose terminal range holds `ip`.
    pub classroom: Option<Uuid>,
    /// The personal user logged in on it.
    pub user: Option<Uuid>,
    /// The desktop it opened last and has not closed.
    pub desktop: Option<Uuid>,
    pub last_seen: Millis,
    pub created_at: Millis,
}

impl Terminal {
    pub fn new(uuid: Uuid, seq: u64, mac: Mac, now: Millis) -> Terminal {
        Terminal {
            uuid,
            seq,
            mac,
            name: String::new(),
            ip: None,
            seat: None,
            classroom: None,
            user: None,
            desktop: None,
            last_seen: now,
            created_at: now,
        }
    }

    /// The (classroom, seat) this terminal holds, if both are known.
    pub fn seat_key(&self) -> Option<(Uuid, u32)> {
        Some((self.classroom?, self.seat?))
    }
}

/// A personal login on a terminal. The session id itself is never kept:
/// the store holds its hash.
#[derive(Clone, Debug, PartialEq)]
pub struct TerminalSession {
    pub hash: [u8; 32],
    pub user: Uuid,
    pub mac: Mac,
    pub expires_at: Millis,
    pub created_at: Millis,
}

impl TerminalSession {
    pub fn live(&self, now: Millis) -> bool {
        self.expires_at > now
    }

    /// Whether a use at `now` should push the expiry out: once less than
    /// half of `ttl_ms` is left (so a busy session is written rarely).
    pub fn wants_renewal(&self, now: Millis, ttl_ms: i64) -> bool {
        self.expires_at - now < ttl_ms / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_in_every_usual_spelling() {
        let m = Mac::parse("mac", "52:54:00:AB:cd:0f").unwrap();
        assert_eq!(m.to_string(), "52:54:00:ab:cd:0f");
        assert_eq!(Mac::parse("mac", "52-54-00-ab-cd-0f").unwrap(), m);
        assert_eq!(Mac::parse("mac", " 525400abcd0f ").unwrap(), m);
        for bad in [
            "x1-12-54-e5-92-t5",
            "00:23:33",
            "",
            "52:54:00:ab:cd:0f:11",
            "5:54:00:ab:cd:0ff",
            // Twelve bytes with a multi-byte character: refused, no panic.
            "a€bbbbbbbb",
            "€€€€",
            "+2:54:00:ab:cd:0f",
            "+25400abcd0f",
            // Twelve bytes, not twelve hex digits (the fuzzer's; it used
            // to be sliced inside a character).
            "k\u{98}\u{e0}\u{95}\u{d1}#\u{ca}",
        ] {
            let e = Mac::parse("mac", bad).unwrap_err();
            assert!(
                e.message.contains("`mac`") || e.message.contains("mac"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn sessions_renew_past_half_life() {
        let s = TerminalSession {
            hash: [0; 32],
            user: Uuid::nil(),
            mac: Mac([0; 6]),
            expires_at: 1000,
            created_at: 0,
        };
        assert!(s.live(999) && !s.live(1000));
        assert!(!s.wants_renewal(100, 1000));
        assert!(s.wants_renewal(600, 1000));
    }
}
