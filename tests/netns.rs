//! Real network tier: the rtnetlink adapter of `HostNet` inside a fresh
//! network namespace (veth pairs stand in for NICs). Never touches the
//! host's own network: the namespace lives as long as the test thread.

use std::net::Ipv4Addr;
use std::process::Command;

use vdi_appliance::domain::net::{BondMode, DefaultRoute, IfAddr, LinkKind};
use vdi_appliance::error::Code;
use vdi_appliance::host::net::HostNet;
use vdi_appliance::host::netlink::Netlink;

/// Runs `f` on a thread that has its own, empty network namespace.
fn in_netns<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::spawn(move || {
        // SAFETY: unshare only changes this thread's namespace membership.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "unshare(CLONE_NEWNET) needs root: {}",
            std::io::Error::last_os_error()
        );
        f();
    })
    .join()
    .expect("the namespace thread panicked");
}

/// `ip` run from the namespace thread (children inherit its namespace).
fn ip(args: &str) {
    let ok = Command::new("ip")
        .args(args.split_whitespace())
        .status()
        .unwrap()
        .success();
    assert!(ok, "ip {args}");
}

fn a(ip: &str, prefix: u8) -> IfAddr {
    IfAddr {
        ip: ip.parse().unwrap(),
        prefix,
    }
}

#[test]
fn links_bridges_addresses_and_the_default_route() {
    in_netns(|| {
        let ex = smol::LocalExecutor::new();
        smol::block_on(ex.run(async {
            let net = Netlink::connect(|f| ex.spawn(f).detach()).unwrap();
            // Only loopback in a fresh namespace.
            let links = net.links().await.unwrap();
            assert_eq!(
                links.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
                ["lo"]
            );
            assert_eq!(links[0].kind, LinkKind::Loopback);

            ip("link add nic0 type veth peer name peer0");
            ip("link set peer0 up");
            net.set_up("lo", true).await.unwrap();
            net.set_up("nic0", true).await.unwrap();
            net.addr_add("nic0", a("10.213.99.2", 24)).await.unwrap();
            let gw = DefaultRoute {
                gateway: "10.213.99.1".parse().unwrap(),
                dev: "nic0".into(),
            };
            net.default_route_set(Some(&gw)).await.unwrap();
            assert_eq!(net.default_route().await.unwrap(), Some(gw));

            let nic = net
                .links()
                .await
                .unwrap()
                .into_iter()
                .find(|l| l.name == "nic0")
                .unwrap();
            assert_eq!(nic.kind, LinkKind::Veth);
            assert!(nic.up);
            assert_eq!(nic.addrs, vec![a("10.213.99.2", 24)]);
            assert_eq!(nic.mac.len(), 17);

            // Bridge the NIC and move its address and the default route over.
            net.bridge_add("brq0123456789a").await.unwrap();
            net.set_master("nic0", Some("brq0123456789a"))
                .await
                .unwrap();
            net.set_up("brq0123456789a", true).await.unwrap();
            net.addr_del("nic0", a("10.213.99.2", 24)).await.unwrap();
            net.addr_add("brq0123456789a", a("10.213.99.2", 24))
                .await
                .unwrap();
            let via_bridge = DefaultRoute {
                gateway: "10.213.99.1".parse().unwrap(),
                dev: "brq0123456789a".into(),
            };
            net.default_route_set(Some(&via_bridge)).await.unwrap();
            let links = net.links().await.unwrap();
            let br = links.iter().find(|l| l.name == "brq0123456789a").unwrap();
            assert_eq!(br.kind, LinkKind::Bridge);
            assert_eq!(br.addrs, vec![a("10.213.99.2", 24)]);
            let nic = links.iter().find(|l| l.name == "nic0").unwrap();
            assert_eq!(nic.master.as_deref(), Some("brq0123456789a"));
            assert!(nic.addrs.is_empty());
            assert_eq!(net.default_route().await.unwrap(), Some(via_bridge));

            // And back.
            net.set_master("nic0", None).await.unwrap();
            net.link_del("brq0123456789a").await.unwrap();
            net.addr_add("nic0", a("10.213.99.2", 24)).await.unwrap();
            let back = DefaultRoute {
                gateway: "10.213.99.1".parse().unwrap(),
                dev: "nic0".into(),
            };
            net.default_route_set(Some(&back)).await.unwrap();
            let links = net.links().await.unwrap();
            assert!(links.iter().all(|l| l.name != "brq0123456789a"));
            assert_eq!(
                links.iter().find(|l| l.name == "nic0").unwrap().master,
                None
            );
            assert_eq!(net.default_route().await.unwrap(), Some(back));
            net.default_route_set(None).await.unwrap();
            assert_eq!(net.default_route().await.unwrap(), None);
            // Removing an address that is not there is not an error.
            net.addr_del("nic0", a("10.213.98.9", 24)).await.unwrap();
        }));
    });
}

#[test]
fn errors_carry_the_kernels_answer() {
    in_netns(|| {
        let ex = smol::LocalExecutor::new();
        smol::block_on(ex.run(async {
            let net = Netlink::connect(|f| ex.spawn(f).detach()).unwrap();
            let e = net.set_master("ghost0", Some("lo")).await.unwrap_err();
            assert_eq!(e.code, Code::LinkNotFound);
            assert!(e.message.contains("ghost0"));
            net.bridge_add("br-dup").await.unwrap();
            let e = net.bridge_add("br-dup").await.unwrap_err();
            assert_eq!(e.code, Code::HostNetwork);
            assert!(e.message.contains("br-dup"), "{}", e.message);
            let e = net
                .addr_add(
                    "lo",
                    IfAddr {
                        ip: Ipv4Addr::new(10, 213, 97, 1),
                        prefix: 24,
                    },
                )
                .await;
            assert!(e.is_ok());
            // This host's kernel has no 8021q/bonding: the kernel's refusal
            // comes back as an error, never a panic (the guest tier covers them).
            if let Err(e) = net.vlan_add("lo.10", "lo", 10).await {
                assert_eq!(e.code, Code::HostNetwork);
            }
            if let Err(e) = net.bond_add("bond9", BondMode::ActiveBackup, 100).await {
                assert_eq!(e.code, Code::HostNetwork);
            }
        }));
    });
}

mod service_level {
    //! The network services with the real adapter, in a namespace: a flat
    //! network over the NIC that carries the management address, a restart
    //! that re-creates a bridge deleted behind the service's back, and a
    //! safe-apply rollback.

    use super::*;
    use std::sync::Arc;
    use std::time::Duration;
    use vdi_appliance::app::{self, Backends};
    use vdi_appliance::domain::network::SwitchType;
    use vdi_appliance::domain::node::{Nic, Node};
    use vdi_appliance::fakes::FakeClock;
    use vdi_appliance::service::{Actor, Services, Settings};
    use vdi_appliance::store::Store;

    fn services(dir: &std::path::Path, confirm: Duration) -> Arc<Services> {
        services_with_clock(dir, confirm).0
    }

    /// Real netlink; time on a manual clock the test advances.
    fn services_with_clock(
        dir: &std::path::Path,
        confirm: Duration,
    ) -> (Arc<Services>, Arc<FakeClock>) {
        let store = Arc::new(Store::open(dir, &Default::default()).unwrap());
        let (fakes, _, _) = app::fake_backends();
        let clock = Arc::new(FakeClock::default());
        let b = Backends {
            net: Arc::new(Netlink::connect(|f| smol::spawn(f).detach()).unwrap()),
            clock: clock.clone(),
            ..fakes
        };
        let mut settings = Settings::for_dir(dir.to_path_buf());
        settings.network_confirm = confirm;
        (
            app::services(store, &b, settings, app::global_spawner()),
            clock,
        )
    }

    /// A flat switch over `nic` and a network on it; returns the network and
    /// whether the change waits for confirmation.
    async fn flat_network(
        s: &Arc<Services>,
        actor: &Actor,
        nic: &Nic,
        switch: &str,
        net: &str,
    ) -> (uuid::Uuid, bool) {
        let up = vec![vdi_appliance::domain::network::Uplink {
            node: nic.node,
            nic: nic.uuid,
            interface: String::new(),
        }];
        let (sw, _) = s
            .vswitch_create(actor, switch.into(), SwitchType::Flat, String::new(), up)
            .await
            .unwrap();
        let (n, applied) = s
            .network_create(actor, net.into(), sw.uuid, None, None)
            .await
            .unwrap();
        (n.uuid, applied.confirm_within_s.is_some())
    }

    fn links_now() -> String {
        String::from_utf8(
            Command::new("ip")
                .args(["-o", "addr", "show"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
    }

    #[test]
    fn flat_network_over_the_management_nic_survives_a_restart_and_rolls_back_unconfirmed() {
        in_netns(|| {
            ip("link add nic0 type veth peer name peer0");
            ip("link set peer0 up");
            ip("link set nic0 up");
            ip("addr add 10.213.96.2/24 dev nic0");
            ip("route add default via 10.213.96.1 dev nic0");
            let dir = tempfile::tempdir().unwrap();
            let actor = Actor::anonymous("test");
            let bridge = {
                let s = services(dir.path(), Duration::from_secs(60));
                let node = Node::bare(uuid::Uuid::new_v4(), "ns", "10.213.96.2", 0);
                let nic = Nic::bare(uuid::Uuid::new_v4(), node.uuid, "nic0", 0);
                s.store.node_put(&node).unwrap();
                s.store.nic_put(&nic).unwrap();
                s.store.local_node_set(&node.uuid).unwrap();
                smol::block_on(async {
                    let (n, confirm) = flat_network(&s, &actor, &nic, "mgmt", "lan").await;
                    assert!(confirm, "the management NIC was bridged");
                    assert!(s.network_confirm(&actor).await.unwrap().is_some());
                    vdi_appliance::domain::net::bridge_name(&n)
                })
            };
            let now = links_now();
            assert!(
                now.contains(&format!("{bridge}    inet 10.213.96.2/24")),
                "{now}"
            );
            assert!(!now.contains("nic0    inet 10.213.96.2"), "{now}");

            // Deleted behind the service's back, then the service restarts.
            ip(&format!("link del {bridge}"));
            {
                let s = services(dir.path(), Duration::from_secs(60));
                let steps = smol::block_on(s.network_reconcile()).unwrap();
                assert!(!steps.is_empty());
            }
            let now = links_now();
            assert!(
                now.contains(&format!("{bridge}    inet 10.213.96.2/24")),
                "{now}"
            );
            let route = String::from_utf8(
                Command::new("ip")
                    .args(["route", "show", "default"])
                    .output()
                    .unwrap()
                    .stdout,
            )
            .unwrap();
            assert!(route.contains(&format!("dev {bridge}")), "{route}");

            // Deleting the network gives the address and the route back to nic0.
            {
                let s = services(dir.path(), Duration::from_secs(60));
                smol::block_on(async {
                    let lan = s
                        .network_list()
                        .unwrap()
                        .into_iter()
                        .find(|n| n.name == "lan")
                        .unwrap();
                    let (_, applied) = s.network_delete(&actor, &lan.uuid).await.unwrap();
                    assert!(applied.confirm_within_s.is_some());
                    assert!(s.network_confirm(&actor).await.unwrap().is_some());
                });
            }
            let now = links_now();
            assert!(now.contains("nic0    inet 10.213.96.2/24"), "{now}");
            assert!(!now.contains(&bridge), "{now}");
            let route = String::from_utf8(
                Command::new("ip")
                    .args(["route", "show", "default"])
                    .output()
                    .unwrap()
                    .stdout,
            )
            .unwrap();
            assert!(route.contains("dev nic0"), "{route}");

            // A second flat network on another NIC that nobody confirms rolls back.
            ip("link add nic1 type veth peer name peer1");
            ip("addr add 10.213.95.2/24 dev nic1");
            let (s, clock) = services_with_clock(dir.path(), Duration::from_millis(500));
            let node = s.store.local_node().unwrap().unwrap();
            let nic1 = Nic::bare(uuid::Uuid::new_v4(), node, "nic1", 0);
            s.store.nic_put(&nic1).unwrap();
            smol::block_on(async {
                let (n, confirm) = flat_network(&s, &actor, &nic1, "second", "lan2").await;
                assert!(confirm);
                let b2 = vdi_appliance::domain::net::bridge_name(&n);
                assert!(links_now().contains(&format!("{b2}    inet 10.213.95.2/24")));
                clock.advance(Duration::from_millis(500));
                // The rollback runs on its own; wait for it, not for a timer.
                let deadline = std::time::Instant::now() + Duration::from_secs(10);
                let pending = || {
                    links_now().contains(&b2)
                        || s.network_list().unwrap().iter().any(|x| x.name == "lan2")
                };
                while pending() && std::time::Instant::now() < deadline {
                    smol::Timer::after(Duration::from_millis(10)).await;
                }
                let now = links_now();
                assert!(!now.contains(&b2), "rolled back: {now}");
                assert!(now.contains("nic1    inet 10.213.95.2/24"), "{now}");
                assert!(s.network_list().unwrap().iter().all(|x| x.name != "lan2"));
            });
        });
    }
}
