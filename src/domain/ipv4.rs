//! IPv4 arithmetic for networks and subnets: masks and prefixes, network
//! and broadcast addresses, ranges, overlap, and first-free allocation.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::error::{Error, Result};

/// Parses a dotted IPv4 address, naming the field on error.
pub fn addr(field: &str, raw: &str) -> Result<Ipv4Addr> {
    raw.trim()
        .parse()
        .map_err(|_| Error::invalid(field, format!("`{raw}` is not an IPv4 address")))
}

/// A netmask (`255.255.255.0`) or prefix length (`24`) → prefix length.
pub fn prefix(field: &str, raw: &str) -> Result<u8> {
    let raw = raw.trim();
    if let Ok(p) = raw.parse::<u8>() {
        return if (1..=32).contains(&p) {
            Ok(p)
        } else {
            Err(Error::invalid(field, "prefix length must be 1 to 32"))
        };
    }
    let m = u32::from(addr(field, raw)?);
    let p = m.leading_ones();
    if m.checked_shl(p).unwrap_or(0) != 0 || p == 0 {
        return Err(Error::invalid(
            field,
            format!("`{raw}` is not a contiguous netmask"),
        ));
    }
    Ok(p as u8)
}

pub fn mask(prefix: u8) -> Ipv4Addr {
    // A prefix past 32 is all ones (not a shift overflow).
    Ipv4Addr::from(
        u32::MAX
            .checked_shl(32 - prefix.min(32) as u32)
            .unwrap_or(0),
    )
}

pub fn network(ip: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip) & u32::from(mask(prefix)))
}

pub fn broadcast(ip: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(network(ip, prefix)) | !u32::from(mask(prefix)))
}

/// Whether `ip` is a usable host address of the network `net/prefix`
/// (not the network or broadcast address, except in /31 and /32).
pub fn is_host_of(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    if network(ip, prefix) != network(net, prefix) {
        return false;
    }
    prefix >= 31 || (ip != network(net, prefix) && ip != broadcast(net, prefix))
}

/// An inclusive address range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
}

impl Range {
    pub fn new(start: Ipv4Addr, end: Ipv4Addr) -> Result<Range> {
        if u32::from(start) > u32::from(end) {
            return Err(Error::invalid(
                "end_ip",
                format!("{end} comes before start_ip {start}"),
            ));
        }
        Ok(Range { start, end })
    }

    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.end)) - u64::from(u32::from(self.start)) + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(self.start)..=u32::from(self.end)).contains(&u32::from(ip))
    }

    pub fn overlaps(&self, other: &Range) -> bool {
        u32::from(self.start) <= u32::from(other.end)
            && u32::from(other.start) <= u32::from(self.end)
    }

    /// The lowest address of the range not in `used`.
    pub fn first_free(&self, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        let (s, e) = (u32::from(self.start), u32::from(self.end));
        let mut next = s;
        for u in used.range(self.start..=self.end) {
            let u = u32::from(*u);
            if u > next {
                return Some(Ipv4Addr::from(next));
            }
            next = u.checked_add(1)?;
        }
        (next <= e).then(|| Ipv4Addr::from(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn masks_and_prefixes() {
        assert_eq!(prefix("netmask", "255.255.255.0").unwrap(), 24);
        assert_eq!(prefix("netmask", "255.255.240.0").unwrap(), 20);
        assert_eq!(prefix("netmask", "24").unwrap(), 24);
        assert_eq!(prefix("netmask", "255.255.255.255").unwrap(), 32);
        assert!(prefix("netmask", "255.0.255.0")
            .unwrap_err()
            .message
            .contains("`netmask`"));
        assert!(prefix("netmask", "0.0.0.0").is_err());
        assert!(prefix("netmask", "33").is_err());
        assert_eq!(mask(20), ip("255.255.240.0"));
        assert_eq!(mask(0), ip("0.0.0.0"));
        assert_eq!(mask(32), ip("255.255.255.255"));
        assert_eq!(mask(200), ip("255.255.255.255"));
    }

    #[test]
    fn network_and_broadcast() {
        assert_eq!(network(ip("172.16.1.77"), 24), ip("172.16.1.0"));
        assert_eq!(broadcast(ip("172.16.1.77"), 24), ip("172.16.1.255"));
        assert!(is_host_of(ip("172.16.1.1"), ip("172.16.1.0"), 24));
        assert!(!is_host_of(ip("172.16.1.0"), ip("172.16.1.0"), 24));
        assert!(!is_host_of(ip("172.16.1.255"), ip("172.16.1.0"), 24));
        assert!(!is_host_of(ip("172.16.2.1"), ip("172.16.1.0"), 24));
        assert!(is_host_of(ip("10.0.0.1"), ip("10.0.0.0"), 31));
    }

    #[test]
    fn ranges() {
        let a = Range::new(ip("10.0.0.10"), ip("10.0.0.20")).unwrap();
        let b = Range::new(ip("10.0.0.20"), ip("10.0.0.30")).unwrap();
        let c = Range::new(ip("10.0.0.21"), ip("10.0.0.30")).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert_eq!(a.len(), 11);
        assert!(Range::new(ip("10.0.0.2"), ip("10.0.0.1")).is_err());
    }

    /// Property: over many random ranges and used sets, `first_free` is the
    /// lowest address of the range not in use (checked by brute force).
    #[test]
    fn first_free_matches_a_brute_force_search() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let base = 0x0a00_0000u32 + (next() % 1000) as u32;
            let len = 1 + (next() % 40) as u32;
            let r = Range::new(Ipv4Addr::from(base), Ipv4Addr::from(base + len - 1)).unwrap();
            let used: BTreeSet<Ipv4Addr> = (0..next() % 50)
                .map(|_| Ipv4Addr::from(base - 5 + (next() % (u64::from(len) + 10)) as u32))
                .collect();
            let want = (base..base + len)
                .map(Ipv4Addr::from)
                .find(|ip| !used.contains(ip));
            assert_eq!(r.first_free(&used), want, "range {r:?} used {used:?}");
        }
    }

    #[test]
    fn first_free_skips_used_addresses() {
        let r = Range::new(ip("10.0.0.10"), ip("10.0.0.12")).unwrap();
        let mut used = BTreeSet::new();
        assert_eq!(r.first_free(&used), Some(ip("10.0.0.10")));
        used.insert(ip("10.0.0.10"));
        used.insert(ip("10.0.0.9"));
        assert_eq!(r.first_free(&used), Some(ip("10.0.0.11")));
        used.insert(ip("10.0.0.11"));
        used.insert(ip("10.0.0.12"));
        assert_eq!(r.first_free(&used), None);
        used.remove(&ip("10.0.0.11"));
        assert_eq!(r.first_free(&used), Some(ip("10.0.0.11")));
        let top = Range::new(ip("255.255.255.254"), ip("255.255.255.255")).unwrap();
        let all: BTreeSet<_> = [ip("255.255.255.254"), ip("255.255.255.255")].into();
        assert_eq!(top.first_free(&all), None);
    }
}
