//! Planning host-network changes: from the bridges a node should have and
//! the links it has, the ordered steps that make them match, each with its
//! inverse so a failed or unconfirmed apply can be undone.

use super::net::{BondMode, DefaultRoute, IfAddr, Link, LinkKind};

/// Prefix of the bridges the appliance owns; others are never touched.
pub const BRIDGE_PREFIX: &str = "brq";

/// The link that holds `nic`'s addresses: its appliance bridge when it is
/// enslaved to one (the bridge took them over), else the NIC itself.
pub fn address_carrier<'a>(links: &'a [Link], nic: &'a Link) -> &'a Link {
    match &nic.master {
        Some(m) if m.starts_with(BRIDGE_PREFIX) => {
            links.iter().find(|b| &b.name == m).unwrap_or(nic)
        }
        _ => nic,
    }
}

/// One bridge a node should have, and the port it bridges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantBridge {
    pub bridge: String,
    /// The uplink NIC (flat) or the VLAN sub-interface on it (vlan).
    pub port: String,
    /// For VLAN networks: the uplink the port is made on, and the VLAN id.
    pub vlan: Option<(String, u16)>,
}

/// What a deleted link was, so that undoing the deletion can remake it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recreate {
    Bridge,
    Vlan(String, u16),
    Bond(BondMode, u32),
}

/// A bond a node should have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantBond {
    pub name: String,
    pub mode: BondMode,
    pub miimon_ms: u32,
    pub slaves: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    BondAdd {
        name: String,
        mode: BondMode,
        miimon_ms: u32,
    },
    VlanAdd {
        name: String,
        parent: String,
        id: u16,
    },
    BridgeAdd {
        name: String,
    },
    /// Deletes a link; `was` says how to make it again.
    LinkDel {
        name: String,
        was: Recreate,
    },
    SetMaster {
        dev: String,
        from: Option<String>,
        to: Option<String>,
    },
    SetUp {
        dev: String,
        from: bool,
        to: bool,
    },
    AddrAdd {
        dev: String,
        addr: IfAddr,
    },
    AddrDel {
        dev: String,
        addr: IfAddr,
    },
    Route {
        from: Option<DefaultRoute>,
        to: Option<DefaultRoute>,
    },
}

impl Step {
    /// The step that undoes this one.
    pub fn inverse(&self) -> Step {
        match self.clone() {
            Step::VlanAdd { name, parent, id } => Step::LinkDel {
                name,
                was: Recreate::Vlan(parent, id),
            },
            Step::BridgeAdd { name } => Step::LinkDel {
                name,
                was: Recreate::Bridge,
            },
            Step::LinkDel {
                name,
                was: Recreate::Vlan(parent, id),
            } => Step::VlanAdd { name, parent, id },
            Step::LinkDel {
                name,
                was: Recreate::Bridge,
            } => Step::BridgeAdd { name },
            Step::BondAdd {
                name,
                mode,
                miimon_ms,
            } => Step::LinkDel {
                name,
                was: Recreate::Bond(mode, miimon_ms),
            },
            Step::LinkDel {
                name,
                was: Recreate::Bond(mode, miimon_ms),
            } => Step::BondAdd {
                name,
                mode,
                miimon_ms,
            },
            Step::SetMaster { dev, from, to } => Step::SetMaster {
                dev,
                from: to,
                to: from,
            },
            Step::SetUp { dev, from, to } => Step::SetUp {
                dev,
                from: to,
                to: from,
            },
            Step::AddrAdd { dev, addr } => Step::AddrDel { dev, addr },
            Step::AddrDel { dev, addr } => Step::AddrAdd { dev, addr },
            Step::Route { from, to } => Step::Route { from: to, to: from },
        }
    }

    /// The interfaces the step touches.
    pub fn devices(&self) -> Vec<&str> {
        match self {
            Step::VlanAdd { name, parent, .. } => vec![name, parent],
            Step::BridgeAdd { name } | Step::BondAdd { name, .. } | Step::LinkDel { name, .. } => {
                vec![name]
            }
            Step::SetMaster { dev, .. }
            | Step::SetUp { dev, .. }
            | Step::AddrAdd { dev, .. }
            | Step::AddrDel { dev, .. } => vec![dev],
            Step::Route { from, to } => from
                .iter()
                .chain(to.iter())
                .map(|r| r.dev.as_str())
                .collect(),
        }
    }
}

fn find<'a>(links: &'a [Link], name: &str) -> Option<&'a Link> {
    links.iter().find(|l| l.name == name)
}

/// The links enslaved to `master`.
fn ports<'a>(links: &'a [Link], master: &'a str) -> impl Iterator<Item = &'a Link> + 'a {
    links
        .iter()
        .filter(move |l| l.master.as_deref() == Some(master))
}

fn release(dev: &str, master: &str) -> Step {
    Step::SetMaster {
        dev: dev.to_string(),
        from: Some(master.to_string()),
        to: None,
    }
}

/// The addresses recorded for a NIC (and the default gateway reached
/// through it): they live on the NIC, or on its bridge when it is bridged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NicAddrs {
    pub nic: String,
    pub addrs: Vec<IfAddr>,
    pub gateway: Option<std::net::Ipv4Addr>,
}

/// Every link the appliance owns when `bonds` and `want` are made true:
/// bonds and their slaves, bridges, their ports and the VLANs' parents.
pub fn owned_links(bonds: &[WantBond], want: &[WantBridge]) -> Vec<String> {
    let mut out: Vec<String> = bonds
        .iter()
        .flat_map(|b| std::iter::once(b.name.clone()).chain(b.slaves.iter().cloned()))
        .chain(want.iter().flat_map(|w| {
            [w.bridge.clone(), w.port.clone()]
                .into_iter()
                .chain(w.vlan.iter().map(|(parent, _)| parent.clone()))
        }))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The steps that make `links`/`route` match `want` and `nics`: devices
/// first (VLANs, bridges, ports, up), then addresses and the default route
/// on the device that carries each NIC (added on the new device and the
/// route moved before an address leaves the old one), then the removal of
/// unwanted `brq` bridges and the VLANs made for them.
pub fn plan(
    bonds: &[WantBond],
    want: &[WantBridge],
    nics: &[NicAddrs],
    links: &[Link],
    route: Option<&DefaultRoute>,
) -> Vec<Step> {
    let mut steps = Vec::new();
    // Bonds first: a switch may use a bond as its uplink.
    for b in bonds {
        let bond = find(links, &b.name);
        if bond.is_none() {
            steps.push(Step::BondAdd {
                name: b.name.clone(),
                mode: b.mode,
                miimon_ms: b.miimon_ms,
            });
        } else if let Some(LinkKind::Bond { mode }) = bond.map(|l| &l.kind) {
            if *mode != b.mode {
                // The mode of a bond with slaves cannot change: remake it.
                for s in ports(links, &b.name) {
                    steps.push(release(&s.name, &b.name));
                }
                steps.push(Step::LinkDel {
                    name: b.name.clone(),
                    was: Recreate::Bond(*mode, b.miimon_ms),
                });
                steps.push(Step::BondAdd {
                    name: b.name.clone(),
                    mode: b.mode,
                    miimon_ms: b.miimon_ms,
                });
            }
        }
        let remade = steps
            .iter()
            .any(|s| matches!(s, Step::BondAdd { name, .. } if *name == b.name));
        for slave in &b.slaves {
            let l = find(links, slave);
            let master = l.and_then(|l| l.master.clone());
            if remade || master.as_deref() != Some(b.name.as_str()) {
                // Slaves are enslaved while down, without addresses.
                if l.is_some_and(|l| l.up) {
                    steps.push(Step::SetUp {
                        dev: slave.clone(),
                        from: true,
                        to: false,
                    });
                }
                for a in l.map(|l| l.addrs.clone()).unwrap_or_default() {
                    steps.push(Step::AddrDel {
                        dev: slave.clone(),
                        addr: a,
                    });
                }
                let from = if remade { None } else { master };
                steps.push(Step::SetMaster {
                    dev: slave.clone(),
                    from,
                    to: Some(b.name.clone()),
                });
                steps.push(Step::SetUp {
                    dev: slave.clone(),
                    from: false,
                    to: true,
                });
            }
        }
        // Slaves that left the bond.
        for l in links
            .iter()
            .filter(|l| l.master.as_deref() == Some(b.name.as_str()) && !b.slaves.contains(&l.name))
        {
            if !remade {
                steps.push(Step::SetMaster {
                    dev: l.name.clone(),
                    from: Some(b.name.clone()),
                    to: None,
                });
            }
        }
        if !bond.is_some_and(|l| l.up) || remade {
            steps.push(Step::SetUp {
                dev: b.name.clone(),
                from: false,
                to: true,
            });
        }
    }
    for w in want {
        // A VLAN carries traffic only while its parent is up.
        if let Some((parent, _)) = &w.vlan {
            let parent_up = find(links, parent).is_some_and(|l| l.up);
            let queued = steps
                .iter()
                .any(|s| matches!(s, Step::SetUp { dev, to: true, .. } if dev == parent));
            if !parent_up && !queued {
                steps.push(Step::SetUp {
                    dev: parent.clone(),
                    from: false,
                    to: true,
                });
            }
        }
        let port = find(links, &w.port);
        if port.is_none() {
            if let Some((parent, id)) = &w.vlan {
                steps.push(Step::VlanAdd {
                    name: w.port.clone(),
                    parent: parent.clone(),
                    id: *id,
                });
            }
        }
        let bridge = find(links, &w.bridge);
        if bridge.is_none() {
            steps.push(Step::BridgeAdd {
                name: w.bridge.clone(),
            });
        }
        let master = port.and_then(|p| p.master.clone());
        if master.as_deref() != Some(w.bridge.as_str()) {
            steps.push(Step::SetMaster {
                dev: w.port.clone(),
                from: master,
                to: Some(w.bridge.clone()),
            });
        }
        if !bridge.is_some_and(|b| b.up) {
            steps.push(Step::SetUp {
                dev: w.bridge.clone(),
                from: false,
                to: true,
            });
        }
        if !port.is_some_and(|p| p.up) {
            steps.push(Step::SetUp {
                dev: w.port.clone(),
                from: false,
                to: true,
            });
        }
    }
    // Links made (or remade) by this plan start without addresses or routes.
    let fresh: Vec<String> = steps
        .iter()
        .filter_map(|s| match s {
            Step::BondAdd { name, .. } | Step::BridgeAdd { name } | Step::VlanAdd { name, .. } => {
                Some(name.clone())
            }
            _ => None,
        })
        .collect();
    let mut route = route.cloned().filter(|r| !fresh.contains(&r.dev));
    // One default route: the first NIC that records a gateway has it.
    let gateway_nic = nics
        .iter()
        .find(|n| n.gateway.is_some())
        .map(|n| n.nic.clone());
    for n in nics {
        let carrier = want
            .iter()
            .find(|w| w.vlan.is_none() && w.port == n.nic)
            .map(|w| w.bridge.clone())
            .unwrap_or_else(|| n.nic.clone());
        let has = |dev: &str, a: &IfAddr| {
            !fresh.iter().any(|f| f == dev) && find(links, dev).is_some_and(|l| l.addrs.contains(a))
        };
        for a in &n.addrs {
            if !has(&carrier, a) {
                steps.push(Step::AddrAdd {
                    dev: carrier.clone(),
                    addr: *a,
                });
            }
        }
        if let Some(gw) = n
            .gateway
            .filter(|_| gateway_nic.as_deref() == Some(n.nic.as_str()))
        {
            let want_route = DefaultRoute {
                gateway: gw,
                dev: carrier.clone(),
            };
            if route.as_ref() != Some(&want_route) {
                steps.push(Step::Route {
                    from: route.clone(),
                    to: Some(want_route.clone()),
                });
                route = Some(want_route);
            }
        }
        let old_bridge = find(links, &n.nic)
            .and_then(|l| l.master.clone())
            .filter(|m| m.starts_with(BRIDGE_PREFIX));
        for dev in std::iter::once(n.nic.clone()).chain(old_bridge) {
            if dev == carrier {
                continue;
            }
            for a in &n.addrs {
                if has(&dev, a) {
                    steps.push(Step::AddrDel {
                        dev: dev.clone(),
                        addr: *a,
                    });
                }
            }
        }
    }
    for b in links
        .iter()
        .filter(|l| l.kind == LinkKind::Bridge && l.name.starts_with(BRIDGE_PREFIX))
    {
        if want.iter().any(|w| w.bridge == b.name) {
            continue;
        }
        for port in ports(links, &b.name) {
            steps.push(release(&port.name, &b.name));
            if let LinkKind::Vlan { parent, id } = &port.kind {
                if !want.iter().any(|w| w.port == port.name) {
                    steps.push(Step::LinkDel {
                        name: port.name.clone(),
                        was: Recreate::Vlan(parent.clone(), *id),
                    });
                }
            }
        }
        steps.push(Step::LinkDel {
            name: b.name.clone(),
            was: Recreate::Bridge,
        });
    }
    for b in links.iter().filter(|l| l.name.starts_with("bond")) {
        let LinkKind::Bond { mode } = b.kind else {
            continue;
        };
        if bonds.iter().any(|w| w.name == b.name) {
            continue;
        }
        for s in ports(links, &b.name) {
            steps.push(release(&s.name, &b.name));
            steps.push(Step::SetUp {
                dev: s.name.clone(),
                from: false,
                to: true,
            });
        }
        steps.push(Step::LinkDel {
            name: b.name.clone(),
            was: Recreate::Bond(mode, 100),
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::net::test_link as link;

    fn rt(dev: &str) -> DefaultRoute {
        DefaultRoute {
            gateway: "10.0.0.1".parse().unwrap(),
            dev: dev.into(),
        }
    }

    fn flat() -> WantBridge {
        WantBridge {
            bridge: "brq1".into(),
            port: "eth0".into(),
            vlan: None,
        }
    }

    fn eth0_addrs() -> NicAddrs {
        NicAddrs {
            nic: "eth0".into(),
            addrs: vec![IfAddr {
                ip: "10.0.0.5".parse().unwrap(),
                prefix: 24,
            }],
            gateway: Some("10.0.0.1".parse().unwrap()),
        }
    }

    #[test]
    fn bridging_the_management_nic_moves_its_address_and_route() {
        let links = vec![link("eth0", LinkKind::Physical, None, &["10.0.0.5/24"])];
        let steps = plan(&[], &[flat()], &[eth0_addrs()], &links, Some(&rt("eth0")));
        let a = IfAddr {
            ip: "10.0.0.5".parse().unwrap(),
            prefix: 24,
        };
        assert_eq!(
            steps,
            vec![
                Step::BridgeAdd {
                    name: "brq1".into()
                },
                Step::SetMaster {
                    dev: "eth0".into(),
                    from: None,
                    to: Some("brq1".into())
                },
                Step::SetUp {
                    dev: "brq1".into(),
                    from: false,
                    to: true
                },
                Step::AddrAdd {
                    dev: "brq1".into(),
                    addr: a
                },
                Step::Route {
                    from: Some(rt("eth0")),
                    to: Some(rt("brq1"))
                },
                Step::AddrDel {
                    dev: "eth0".into(),
                    addr: a
                },
            ]
        );
    }

    #[test]
    fn a_matching_host_needs_no_steps() {
        let links = vec![
            link("eth0", LinkKind::Physical, Some("brq1"), &[]),
            link("brq1", LinkKind::Bridge, None, &["10.0.0.5/24"]),
        ];
        assert!(plan(&[], &[flat()], &[eth0_addrs()], &links, Some(&rt("brq1"))).is_empty());
    }

    #[test]
    fn recorded_addresses_come_back_after_a_reboot() {
        // After a reboot: the NIC is bare, no bridge, no route.
        let links = vec![link("eth0", LinkKind::Physical, None, &[])];
        let steps = plan(&[], &[flat()], &[eth0_addrs()], &links, None);
        let a = IfAddr {
            ip: "10.0.0.5".parse().unwrap(),
            prefix: 24,
        };
        assert!(steps.contains(&Step::AddrAdd {
            dev: "brq1".into(),
            addr: a
        }));
        assert!(steps.contains(&Step::Route {
            from: None,
            to: Some(rt("brq1"))
        }));
        // Without networks the addresses go on the NIC itself.
        let steps = plan(&[], &[], &[eth0_addrs()], &links, None);
        assert_eq!(
            steps,
            vec![
                Step::AddrAdd {
                    dev: "eth0".into(),
                    addr: a
                },
                Step::Route {
                    from: None,
                    to: Some(rt("eth0"))
                }
            ]
        );
    }

    #[test]
    fn an_unwanted_bridge_goes_and_gives_back_address_and_route() {
        let links = vec![
            link("eth0", LinkKind::Physical, Some("brq1"), &[]),
            link("brq1", LinkKind::Bridge, None, &["10.0.0.5/24"]),
            link("br-other", LinkKind::Bridge, None, &[]),
        ];
        let steps = plan(&[], &[], &[eth0_addrs()], &links, Some(&rt("brq1")));
        let a = IfAddr {
            ip: "10.0.0.5".parse().unwrap(),
            prefix: 24,
        };
        assert_eq!(
            steps,
            vec![
                Step::AddrAdd {
                    dev: "eth0".into(),
                    addr: a
                },
                Step::Route {
                    from: Some(rt("brq1")),
                    to: Some(rt("eth0"))
                },
                Step::AddrDel {
                    dev: "brq1".into(),
                    addr: a
                },
                Step::SetMaster {
                    dev: "eth0".into(),
                    from: Some("brq1".into()),
                    to: None
                },
                Step::LinkDel {
                    name: "brq1".into(),
                    was: Recreate::Bridge,
                },
            ]
        );
        assert!(
            steps.iter().all(|s| !s.devices().contains(&"br-other")),
            "foreign bridges are left alone"
        );
    }

    #[test]
    fn vlan_networks_make_a_sub_interface_and_leave_the_parent_addressed() {
        let want = WantBridge {
            bridge: "brq2".into(),
            port: "eth1.10".into(),
            vlan: Some(("eth1".into(), 10)),
        };
        let links = vec![link("eth1", LinkKind::Physical, None, &["10.1.0.5/24"])];
        let steps = plan(&[], &[want], &[], &links, None);
        assert_eq!(
            steps[0],
            Step::VlanAdd {
                name: "eth1.10".into(),
                parent: "eth1".into(),
                id: 10
            }
        );
        assert!(steps
            .iter()
            .all(|s| !matches!(s, Step::AddrDel { .. } | Step::AddrAdd { .. })));
        // Removing it later deletes the VLAN too.
        let links = vec![
            link("eth1", LinkKind::Physical, None, &["10.1.0.5/24"]),
            link(
                "eth1.10",
                LinkKind::Vlan {
                    parent: "eth1".into(),
                    id: 10,
                },
                Some("brq2"),
                &[],
            ),
            link("brq2", LinkKind::Bridge, None, &[]),
        ];
        let steps = plan(&[], &[], &[], &links, None);
        assert!(steps.contains(&Step::LinkDel {
            name: "eth1.10".into(),
            was: Recreate::Vlan("eth1".into(), 10),
        }));
    }

    #[test]
    fn bonds_enslave_down_slaves_and_carry_their_addresses() {
        let links = vec![
            link("eth1", LinkKind::Physical, None, &["10.1.0.5/24"]),
            link("eth2", LinkKind::Physical, None, &[]),
        ];
        let want = WantBond {
            name: "bond0".into(),
            mode: BondMode::ActiveBackup,
            miimon_ms: 100,
            slaves: vec!["eth1".into(), "eth2".into()],
        };
        let a = IfAddr {
            ip: "10.1.0.5".parse().unwrap(),
            prefix: 24,
        };
        let on_bond = NicAddrs {
            nic: "bond0".into(),
            addrs: vec![a],
            gateway: None,
        };
        let steps = plan(std::slice::from_ref(&want), &[], &[on_bond], &links, None);
        assert_eq!(
            steps[0],
            Step::BondAdd {
                name: "bond0".into(),
                mode: BondMode::ActiveBackup,
                miimon_ms: 100
            }
        );
        let down = steps
            .iter()
            .position(|s| {
                *s == Step::SetUp {
                    dev: "eth1".into(),
                    from: true,
                    to: false,
                }
            })
            .unwrap();
        let enslave = steps
            .iter()
            .position(|s| matches!(s, Step::SetMaster { dev, .. } if dev == "eth1"))
            .unwrap();
        assert!(down < enslave, "a slave is enslaved while down");
        assert!(steps.contains(&Step::AddrDel {
            dev: "eth1".into(),
            addr: a
        }));
        assert!(steps.contains(&Step::AddrAdd {
            dev: "bond0".into(),
            addr: a
        }));
        // Unbonding: the bond goes and its slaves come back up.
        let links = vec![
            link("eth1", LinkKind::Physical, Some("bond0"), &[]),
            link("eth2", LinkKind::Physical, Some("bond0"), &[]),
            link(
                "bond0",
                LinkKind::Bond {
                    mode: BondMode::ActiveBackup,
                },
                None,
                &["10.1.0.5/24"],
            ),
        ];
        let back = NicAddrs {
            nic: "eth1".into(),
            addrs: vec![a],
            gateway: None,
        };
        let steps = plan(&[], &[], &[back], &links, None);
        assert!(steps.contains(&Step::AddrAdd {
            dev: "eth1".into(),
            addr: a
        }));
        assert_eq!(
            steps.last(),
            Some(&Step::LinkDel {
                name: "bond0".into(),
                was: Recreate::Bond(BondMode::ActiveBackup, 100)
            })
        );
        // A mode change remakes the bond.
        let mut rr = want;
        rr.mode = BondMode::BalanceRr;
        let on_bond = NicAddrs {
            nic: "bond0".into(),
            addrs: vec![a],
            gateway: None,
        };
        let steps = plan(&[rr], &[], &[on_bond], &links, None);
        assert!(steps.contains(&Step::BondAdd {
            name: "bond0".into(),
            mode: BondMode::BalanceRr,
            miimon_ms: 100
        }));
        assert!(
            steps.contains(&Step::AddrAdd {
                dev: "bond0".into(),
                addr: a
            }),
            "a remade bond gets its address again"
        );
    }

    #[test]
    fn inverses_undo() {
        let s = Step::SetMaster {
            dev: "eth0".into(),
            from: None,
            to: Some("brq1".into()),
        };
        assert_eq!(s.inverse().inverse(), s);
        assert_eq!(
            Step::BridgeAdd { name: "b".into() }.inverse(),
            Step::LinkDel {
                name: "b".into(),
                was: Recreate::Bridge,
            }
        );
    }
}
