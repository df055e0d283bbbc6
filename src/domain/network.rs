//! Virtual switches, data networks and subnets (file 000 "网络接口"): the
//! desired state the network reconciler makes true on every node.

use std::net::Ipv4Addr;

use super::clock::Millis;
use super::ipv4::{self, Range};
use super::Uuid;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchType {
    /// A network bridges the uplink NIC itself; one network per switch.
    Flat,
    /// Each network bridges a VLAN sub-interface `<nic>.<vlan_id>`.
    Vlan,
}

impl SwitchType {
    /// Case-insensitive, as the predecessor's clients send `Flat`/`Vlan`.
    pub fn parse(field: &str, raw: &str) -> Result<SwitchType> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "flat" => Ok(SwitchType::Flat),
            "vlan" => Ok(SwitchType::Vlan),
            _ => Err(Error::invalid(
                field,
                format!("`{raw}` is not flat or vlan"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SwitchType::Flat => "flat",
            SwitchType::Vlan => "vlan",
        }
    }
}

/// A switch's attachment to one node: the NIC (or bond) that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uplink {
    pub node: Uuid,
    pub nic: Uuid,
    /// The interface name on that node, resolved from the NIC record.
    pub interface: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VSwitch {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub kind: SwitchType,
    pub desc: String,
    pub uplinks: Vec<Uplink>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub switch: Uuid,
    /// Set exactly when the switch is a VLAN switch.
    pub vlan_id: Option<u16>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// An IP pool of a network.
#[derive(Clone, Debug, PartialEq)]
pub struct Subnet {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub network: Uuid,
    pub range: Range,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub dns1: Ipv4Addr,
    pub dns2: Option<Ipv4Addr>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What a switch update changes; `None` keeps the value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VSwitchPatch {
    pub name: Option<String>,
    pub kind: Option<SwitchType>,
    pub desc: Option<String>,
    pub uplinks: Option<Vec<Uplink>>,
}

/// What a subnet update changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubnetPatch {
    pub name: Option<String>,
    pub spec: Option<SubnetSpec>,
}

/// The addressing part of a subnet, as a request gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubnetSpec {
    pub range: Range,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub dns1: Ipv4Addr,
    pub dns2: Option<Ipv4Addr>,
}

impl SubnetSpec {
    /// Parses and checks: start/end inside the netmask's network and in
    /// order, the gateway a host of that network, DNS servers valid.
    pub fn parse(
        prefix_field: &str,
        start: &str,
        end: &str,
        netmask: &str,
        gateway: &str,
        dns1: &str,
        dns2: Option<&str>,
    ) -> Result<SubnetSpec> {
        let p = |f: &str| format!("{prefix_field}{f}");
        let start = ipv4::addr(&p("start_ip"), start)?;
        let end = ipv4::addr(&p("end_ip"), end)?;
        let prefix = ipv4::prefix(&p("netmask"), netmask)?;
        let gateway = ipv4::addr(&p("gateway"), gateway)?;
        let dns1 = ipv4::addr(&p("dns1"), dns1)?;
        let dns2 = match dns2.map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(ipv4::addr(&p("dns2"), d)?),
        };
        let net = ipv4::network(start, prefix);
        if !ipv4::is_host_of(start, net, prefix) {
            return Err(Error::invalid(
                &p("start_ip"),
                format!("{start} is not a host address of {net}/{prefix}"),
            ));
        }
        if !ipv4::is_host_of(end, net, prefix) {
            return Err(Error::invalid(
                &p("end_ip"),
                format!("{end} is not a host address of {net}/{prefix}"),
            ));
        }
        let range = Range::new(start, end).map_err(|_| {
            Error::invalid(&p("end_ip"), format!("{end} comes before start_ip {start}"))
        })?;
        if !ipv4::is_host_of(gateway, net, prefix) {
            return Err(Error::invalid(
                &p("gateway"),
                format!("{gateway} is not a host address of {net}/{prefix}"),
            ));
        }
        if range.contains(gateway) {
            return Err(Error::invalid(
                &p("gateway"),
                format!("{gateway} lies inside the range {start}-{end}"),
            ));
        }
        Ok(SubnetSpec {
            range,
            prefix,
            gateway,
            dns1,
            dns2,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(start: &str, end: &str, mask: &str, gw: &str) -> Result<SubnetSpec> {
        SubnetSpec::parse("", start, end, mask, gw, "8.8.8.8", None)
    }

    #[test]
    fn switch_types_are_case_insensitive() {
        assert_eq!(SwitchType::parse("type", "Flat").unwrap(), SwitchType::Flat);
        assert_eq!(SwitchType::parse("type", "VLAN").unwrap(), SwitchType::Vlan);
        assert!(SwitchType::parse("type", "vxlan")
            .unwrap_err()
            .message
            .contains("`type`"));
    }

    #[test]
    fn subnet_rules() {
        let s = spec(
            "172.16.1.40",
            "172.16.1.60",
            "255.255.255.0",
            "172.16.1.254",
        )
        .unwrap();
        assert_eq!((s.prefix, s.range.len()), (24, 21));
        assert!(spec(
            "172.16.1.40",
            "172.16.2.60",
            "255.255.255.0",
            "172.16.1.254"
        )
        .unwrap_err()
        .message
        .contains("`end_ip`"));
        assert!(spec(
            "172.16.1.60",
            "172.16.1.40",
            "255.255.255.0",
            "172.16.1.254"
        )
        .unwrap_err()
        .message
        .contains("`end_ip`"));
        assert!(
            spec("172.16.1.0", "172.16.1.40", "255.255.255.0", "172.16.1.254")
                .unwrap_err()
                .message
                .contains("`start_ip`")
        );
        assert!(
            spec("172.16.1.40", "172.16.1.60", "255.255.255.0", "172.16.2.1")
                .unwrap_err()
                .message
                .contains("`gateway`")
        );
        assert!(
            spec("172.16.1.40", "172.16.1.60", "255.255.255.0", "172.16.1.50")
                .unwrap_err()
                .message
                .contains("inside")
        );
        assert!(
            spec("172.16.1.40", "172.16.1.60", "255.0.255.0", "172.16.1.1")
                .unwrap_err()
                .message
                .contains("`netmask`")
        );
        let e = SubnetSpec::parse(
            "subnet_info.",
            "x",
            "172.16.1.60",
            "24",
            "172.16.1.1",
            "8.8.8.8",
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("`subnet_info.start_ip`"));
        let e = SubnetSpec::parse(
            "",
            "172.16.1.40",
            "172.16.1.60",
            "24",
            "172.16.1.1",
            "8.8.8.8",
            Some("dns"),
        )
        .unwrap_err();
        assert!(e.message.contains("`dns2`"));
    }
}
