//! Controller initialisation: the validated answers of first-boot setup,
//! the default subnet derived from a NIC's address, and the record that
//! says the controller is initialised.

use std::net::Ipv4Addr;

use super::clock::Millis;
use super::ipv4::{self, Range};
use super::network::{SubnetSpec, SwitchType};
use super::storage::{Roles, ROLES};
use super::Uuid;
use crate::error::{Error, Result};

/// What first-boot setup asks, checked for shape (the host's NICs and
/// mounts are checked against it by the service).
#[derive(Clone, Debug, PartialEq)]
pub struct InitSpec {
    /// The management address; must be an address of this host.
    pub ip: Ipv4Addr,
    /// Interface names; `None` means "the NIC that carries `ip`".
    pub manage_interface: Option<String>,
    pub image_interface: Option<String>,
    pub data_interface: Option<String>,
    pub network_name: String,
    pub switch_name: String,
    pub switch_type: SwitchType,
    pub vlan_id: Option<u16>,
    /// Mount points and their roles, sorted by mount point.
    pub storages: Vec<(String, Roles)>,
    pub is_compute: bool,
    /// The default subnet; derived from the data NIC when absent.
    pub subnet: Option<(String, SubnetSpec)>,
}

impl InitSpec {
    /// Rules that need nothing but the answers: a VLAN id exactly when the
    /// switch is `vlan`, and every role on at least one mount point.
    pub fn check(&self) -> Result<()> {
        match (self.switch_type, self.vlan_id) {
            (SwitchType::Vlan, None) => {
                return Err(Error::invalid(
                    "vlan_id",
                    "is required when switch_type is vlan (1 to 4094)",
                ))
            }
            (SwitchType::Vlan, Some(v)) if !(1..=4094).contains(&v) => {
                return Err(Error::invalid("vlan_id", format!("{v} is not 1 to 4094")))
            }
            _ => {}
        }
        if self.storages.is_empty() {
            return Err(Error::invalid(
                "storages",
                "names no mount point; give each of roles 1-4 to at least one, e.g. {\"/opt/slow\": \"1,2,3,4\"}",
            ));
        }
        let all = self
            .storages
            .iter()
            .fold(Roles::default(), |a, (_, r)| a.union(*r));
        let missing: Vec<String> = ROLES
            .iter()
            .filter(|r| !all.has(**r))
            .map(|r| format!("{} ({})", r.number(), r.describe()))
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(
                "storages",
                format!(
                    "no mount point has role {}; every role 1-4 needs one",
                    missing.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// The VLAN id the default network gets (none on a flat switch).
    pub fn network_vlan(&self) -> Option<u16> {
        match self.switch_type {
            SwitchType::Flat => None,
            SwitchType::Vlan => self.vlan_id,
        }
    }
}

/// The default subnet for a flat network from a NIC's address: the upper
/// half of its network, less the host's own address and the gateway (the
/// larger contiguous piece that is left), gateway and DNS the default
/// route's gateway. `None` when there is no usable room, no gateway in the
/// network, or the network is wider than a /8 (no sensible guess).
pub fn derive_subnet(addr: Ipv4Addr, prefix: u8, gateway: Option<Ipv4Addr>) -> Option<SubnetSpec> {
    if !(8..=29).contains(&prefix) {
        return None;
    }
    let gw = gateway.filter(|g| ipv4::is_host_of(*g, addr, prefix))?;
    let net = u32::from(ipv4::network(addr, prefix));
    let bcast = u32::from(ipv4::broadcast(addr, prefix));
    let size = bcast - net + 1;
    let lo = net + size / 2;
    let hi = bcast - 1;
    // Cut out the host and the gateway; keep the largest piece.
    let mut cuts: Vec<u32> = [u32::from(addr), u32::from(gw)]
        .into_iter()
        .filter(|x| (lo..=hi).contains(x))
        .collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = lo;
    for c in cuts {
        if c > start {
            pieces.push((start, c - 1));
        }
        start = start.max(c + 1);
    }
    if start <= hi {
        pieces.push((start, hi));
    }
    let (s, e) = pieces
        .into_iter()
        .max_by_key(|(s, e)| (e - s, u32::MAX - s))?;
    if e - s < 1 {
        return None;
    }
    Some(SubnetSpec {
        range: Range::new(s.into(), e.into()).ok()?,
        prefix,
        gateway: gw,
        dns1: gw,
        dns2: None,
    })
}

/// The controller's initialisation, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerRecord {
    pub node: Uuid,
    /// The default virtual switch and network made at initialisation.
    pub vswitch: Uuid,
    pub network: Uuid,
    /// The answers it was initialised with (JSON, no password), so that a
    /// repeated unattended run with the same answers is recognised.
    pub answers: String,
    pub initialised_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn spec() -> InitSpec {
        InitSpec {
            ip: ip("10.213.5.2"),
            manage_interface: None,
            image_interface: None,
            data_interface: None,
            network_name: "default".into(),
            switch_name: "default".into(),
            switch_type: SwitchType::Flat,
            vlan_id: None,
            storages: vec![("/opt/slow".into(), Roles::parse("s", "1,2,3,4").unwrap())],
            is_compute: true,
            subnet: None,
        }
    }

    #[test]
    fn vlan_needs_an_id_and_roles_need_a_home() {
        assert!(spec().check().is_ok());
        let mut s = spec();
        s.switch_type = SwitchType::Vlan;
        assert!(s.check().unwrap_err().message.contains("vlan_id"));
        s.vlan_id = Some(4095);
        assert!(s.check().unwrap_err().message.contains("4095"));
        s.vlan_id = Some(10);
        assert!(s.check().is_ok());
        assert_eq!(s.network_vlan(), Some(10));
        let mut s = spec();
        s.storages = vec![
            ("/a".into(), Roles::parse("s", "1,3").unwrap()),
            ("/b".into(), Roles::parse("s", "3").unwrap()),
        ];
        let e = s.check().unwrap_err().message;
        assert!(
            e.contains("storages") && e.contains("2 (template data disks)") && e.contains("4 ("),
            "{e}"
        );
        s.storages.clear();
        assert!(s.check().is_err());
    }

    #[test]
    fn derived_subnet_is_the_upper_half_without_host_and_gateway() {
        let s = derive_subnet(ip("192.0.2.10"), 24, Some(ip("192.0.2.1"))).unwrap();
        assert_eq!(
            (s.range.start, s.range.end),
            (ip("192.0.2.128"), ip("192.0.2.254"))
        );
        assert_eq!(
            (s.gateway, s.dns1, s.prefix),
            (ip("192.0.2.1"), ip("192.0.2.1"), 24)
        );
        // The host in the upper half: the larger side of it is kept.
        let s = derive_subnet(ip("192.0.2.200"), 24, Some(ip("192.0.2.254"))).unwrap();
        assert_eq!(
            (s.range.start, s.range.end),
            (ip("192.0.2.128"), ip("192.0.2.199"))
        );
        // No gateway in the network, or no room: nothing derived.
        assert!(derive_subnet(ip("192.0.2.10"), 24, None).is_none());
        assert!(derive_subnet(ip("192.0.2.10"), 24, Some(ip("198.51.100.1"))).is_none());
        assert!(derive_subnet(ip("192.0.2.1"), 30, Some(ip("192.0.2.2"))).is_none());
        assert!(derive_subnet(ip("10.0.0.1"), 0, Some(ip("10.0.0.2"))).is_none());
        assert!(derive_subnet(ip("10.0.0.1"), 7, Some(ip("10.0.0.2"))).is_none());
        // A derived subnet passes the rules a typed-in one must pass.
        let s = derive_subnet(ip("10.213.0.5"), 16, Some(ip("10.213.0.1"))).unwrap();
        let again = SubnetSpec::parse(
            "",
            &s.range.start.to_string(),
            &s.range.end.to_string(),
            "16",
            &s.gateway.to_string(),
            &s.dns1.to_string(),
            None,
        )
        .unwrap();
        assert_eq!(again, s);
    }
}
