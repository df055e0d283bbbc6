//! Host network objects as the appliance sees them (links, addresses, the
//! default route) and the naming rules for the devices it creates.

use std::net::Ipv4Addr;

use crate::error::{Error, Result};

/// Linux limits interface names to 15 bytes (IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = 15;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// A NIC backed by hardware (it has a `device` in sysfs).
    Physical,
    Bridge,
    Vlan {
        parent: String,
        id: u16,
    },
    Bond {
        mode: BondMode,
    },
    Veth,
    Dummy,
    Loopback,
    Other(String),
}

/// The bond modes the specification allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BondMode {
    BalanceRr = 0,
    ActiveBackup = 1,
    BalanceAlb = 6,
}

impl BondMode {
    pub fn from_number(field: &str, n: i64) -> Result<BondMode> {
        match n {
            0 => Ok(BondMode::BalanceRr),
            1 => Ok(BondMode::ActiveBackup),
            6 => Ok(BondMode::BalanceAlb),
            _ => Err(Error::invalid(field, format!("bond mode {n} is not one of 0 (balance-rr), 1 (active-backup), 6 (balance-alb)"))),
        }
    }

    pub fn number(self) -> u8 {
        self as u8
    }
}

/// An IPv4 address with its prefix length on an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfAddr {
    pub ip: Ipv4Addr,
    pub prefix: u8,
}

/// One network interface and what the kernel and sysfs say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub mac: String,
    pub up: bool,
    /// Carrier / operational state is up.
    pub running: bool,
    pub mtu: u32,
    pub kind: LinkKind,
    /// The bridge or bond this link is enslaved to.
    pub master: Option<String>,
    pub speed_mbps: Option<u32>,
    pub driver: Option<String>,
    pub pci: Option<String>,
    pub addrs: Vec<IfAddr>,
}

impl Link {
    pub fn is_physical(&self) -> bool {
        self.kind == LinkKind::Physical
    }
}

/// The IPv4 default route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultRoute {
    pub gateway: Ipv4Addr,
    pub dev: String,
}

/// A valid interface name: 1..=15 bytes of `[A-Za-z0-9_.-]`, not `.`/`..`.
pub fn check_ifname(field: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > IFNAME_MAX {
        return Err(Error::invalid(
            field,
            format!("interface name `{name}` must be 1 to {IFNAME_MAX} characters"),
        ));
    }
    if name == "."
        || name == ".."
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(Error::invalid(
            field,
            format!("interface name `{name}` may only use A-Z a-z 0-9 _ . -"),
        ));
    }
    Ok(())
}

/// The bridge of a network on every node: `brq` + the first 11 hex digits
/// of the network's uuid (14 characters), as the predecessor named them.
pub fn bridge_name(network: &uuid::Uuid) -> String {
    let hex = network.simple().to_string();
    format!("brq{}", &hex[..11])
}

/// A VLAN sub-interface `<parent>.<vid>`, refused when longer than 15.
pub fn vlan_name(parent: &str, vid: u16) -> Result<String> {
    check_vlan_id("vlan_id", i64::from(vid))?;
    let name = format!("{parent}.{vid}");
    check_ifname("vlan_id", &name).map_err(|_| {
        Error::invalid(
            "vlan_id",
            format!("the VLAN interface `{name}` would be longer than {IFNAME_MAX} characters"),
        )
    })?;
    Ok(name)
}

pub fn check_vlan_id(field: &str, vid: i64) -> Result<u16> {
    if (1..=4094).contains(&vid) {
        Ok(vid as u16)
    } else {
        Err(Error::invalid(
            field,
            format!("VLAN id {vid} is not within 1 to 4094"),
        ))
    }
}

/// A link for tests: `addrs` as `"ip/prefix"`.
#[cfg(test)]
pub(crate) fn test_link(name: &str, kind: LinkKind, master: Option<&str>, addrs: &[&str]) -> Link {
    Link {
        index: 0,
        name: name.into(),
        mac: String::new(),
        up: true,
        running: true,
        mtu: 1500,
        kind,
        master: master.map(Into::into),
        speed_mbps: None,
        driver: None,
        pci: None,
        addrs: addrs
            .iter()
            .map(|a| {
                let (ip, p) = a.split_once('/').unwrap();
                IfAddr {
                    ip: ip.parse().unwrap(),
                    prefix: p.parse().unwrap(),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_ifname("nic", "eth0").is_ok());
        assert!(check_ifname("nic", "enp0s31f6abcdefg").is_err(), "16 bytes");
        assert!(check_ifname("nic", "enp0s31f6.4094").is_ok());
        assert!(check_ifname("nic", "bad name").is_err());
        assert!(check_ifname("nic", "").is_err());
        let u = uuid::Uuid::parse_str("9c705b6e-5213-11ea-9d93-000c295dd728").unwrap();
        assert_eq!(bridge_name(&u), "brq9c705b6e521");
        assert_eq!(bridge_name(&u).len(), 14);
        assert_eq!(vlan_name("eth1", 10).unwrap(), "eth1.10");
        assert!(vlan_name("enp129s0f1np1", 4094)
            .unwrap_err()
            .message
            .contains("15"));
        assert!(vlan_name("eth1", 0).is_err());
        assert!(check_vlan_id("vlan_id", 4095).is_err());
    }

    #[test]
    fn bond_modes() {
        assert_eq!(
            BondMode::from_number("mode", 1).unwrap(),
            BondMode::ActiveBackup
        );
        assert_eq!(BondMode::BalanceAlb.number(), 6);
        assert!(BondMode::from_number("mode", 4)
            .unwrap_err()
            .message
            .contains("`mode`"));
    }
}
