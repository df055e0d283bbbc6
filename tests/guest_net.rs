//! Guest tier: VLANs and bonds are not in this machine's kernel, so this
//! binary boots Debian's kernel under QEMU TCG (tests/guest/run.sh) and runs
//! itself inside it as root, where it drives the real rtnetlink adapter
//! through the network services: VLAN networks, bonds in modes 0/1/6 on
//! dummy slaves, a VLAN on a bond, and add/edit/unbond with address moves.
//! Prints `N passed, N failed` and exits non-zero on any failure.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use vdi_appliance::app::{self, Backends};
use vdi_appliance::domain::net::{bridge_name, BondMode, IfAddr, Link, LinkKind};
use vdi_appliance::domain::network::{SwitchType, Uplink};
use vdi_appliance::domain::node::{Nic, Node};
use vdi_appliance::host::net::HostNet;
use vdi_appliance::host::netlink::Netlink;
use vdi_appliance::service::bond::{BondSpec, NicIps};
use vdi_appliance::service::{Actor, Services, Settings};
use vdi_appliance::store::Store;

const IN_GUEST: &str = "VDI_IN_GUEST";

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("guest_net: test");
        return;
    }
    if std::env::var_os(IN_GUEST).is_some() {
        std::process::exit(in_guest());
    }
    // Host side: boot the guest with this very binary.
    let run_sh = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest/run.sh");
    let out = Command::new("bash")
        .arg(run_sh)
        .arg(std::env::current_exe().unwrap())
        .env(format!("GUEST_ENV_{IN_GUEST}"), "1")
        .env("GUEST_MEM", "768")
        .output()
        .expect("tests/guest/run.sh could not be started");
    let console = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let verdict = console
        .lines()
        .rev()
        .find(|l| l.starts_with("guest: ") && l.contains(" passed, "));
    println!(
        "{}",
        console
            .lines()
            .filter(|l| l.starts_with("PASS") || l.starts_with("FAIL"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    if !out.status.success() || verdict.is_none() {
        eprintln!("{console}\n{}", String::from_utf8_lossy(&out.stderr));
        println!("0 passed, 1 failed");
        std::process::exit(1);
    }
    // The guest's own count, as the closing line.
    println!("{}", verdict.unwrap().trim_start_matches("guest: "));
}

struct Checks {
    passed: usize,
    failed: usize,
}

impl Checks {
    fn check(&mut self, what: &str, ok: bool, detail: impl std::fmt::Debug) {
        if ok {
            self.passed += 1;
            println!("PASS {what}");
        } else {
            self.failed += 1;
            println!("FAIL {what}: {detail:?}");
        }
    }
}

fn ip(args: &str) {
    let ok = Command::new("ip")
        .args(args.split_whitespace())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "ip {args}");
}

fn a(s: &str) -> IfAddr {
    let (ip, p) = s.split_once('/').unwrap();
    IfAddr {
        ip: ip.parse().unwrap(),
        prefix: p.parse().unwrap(),
    }
}

fn in_guest() -> i32 {
    for i in 0..4 {
        ip(&format!("link add dummy{i} type dummy"));
    }
    ip("addr add 10.213.70.2/24 dev dummy1");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), &Default::default()).unwrap());
    let net = Arc::new(Netlink::connect(|f| smol::spawn(f).detach()).unwrap());
    let (fakes, _, _) = app::fake_backends();
    let backends = Backends {
        net: net.clone(),
        ..fakes
    };
    let mut settings = Settings::for_dir(dir.path().to_path_buf());
    settings.network_confirm = Duration::from_secs(600);
    let s = app::services(store, &backends, settings, app::global_spawner());
    let node = Node::bare(uuid::Uuid::new_v4(), "guest", "10.213.70.2", 0);
    s.store.node_put(&node).unwrap();
    s.store.local_node_set(&node.uuid).unwrap();
    let nics: Vec<Nic> = (0..4)
        .map(|i| Nic::bare(uuid::Uuid::new_v4(), node.uuid, &format!("dummy{i}"), 0))
        .collect();
    for n in &nics {
        s.store.nic_put(n).unwrap();
    }
    let mut c = Checks {
        passed: 0,
        failed: 0,
    };
    smol::block_on(run(&s, &*net, &node, &nics, &mut c));
    println!("guest: {} passed, {} failed", c.passed, c.failed);
    i32::from(c.failed > 0)
}

async fn links(net: &dyn HostNet) -> Vec<Link> {
    net.links().await.unwrap()
}

fn find<'a>(ls: &'a [Link], name: &str) -> Option<&'a Link> {
    ls.iter().find(|l| l.name == name)
}

async fn run(s: &Arc<Services>, net: &dyn HostNet, node: &Node, nics: &[Nic], c: &mut Checks) {
    let actor = Actor::anonymous("guest");
    let up = |nic: &Nic| {
        vec![Uplink {
            node: node.uuid,
            nic: nic.uuid,
            interface: String::new(),
        }]
    };

    // A VLAN network on dummy0.
    let (sw, _) = s
        .vswitch_create(
            &actor,
            "vlan-sw".into(),
            SwitchType::Vlan,
            String::new(),
            up(&nics[0]),
        )
        .await
        .unwrap();
    let _ = s.network_confirm(&actor).await;
    let (n, _) = s
        .network_create(&actor, "v10".into(), sw.uuid, Some(10), None)
        .await
        .unwrap();
    let _ = s.network_confirm(&actor).await;
    let ls = links(net).await;
    let vlan = find(&ls, "dummy0.10");
    c.check(
        "VLAN sub-interface dummy0.10 made",
        vlan.map(|l| &l.kind)
            == Some(&LinkKind::Vlan {
                parent: "dummy0".into(),
                id: 10,
            }),
        vlan,
    );
    c.check(
        "dummy0.10 is a port of the network's bridge",
        vlan.and_then(|l| l.master.clone()) == Some(bridge_name(&n.uuid)),
        vlan,
    );
    s.network_delete(&actor, &n.uuid).await.unwrap();
    let _ = s.network_confirm(&actor).await;
    let ls = links(net).await;
    c.check(
        "deleting the network removes bridge and VLAN",
        find(&ls, "dummy0.10").is_none() && find(&ls, &bridge_name(&n.uuid)).is_none(),
        (),
    );
    s.vswitch_delete(&actor, &sw.uuid).await.unwrap();
    let _ = s.network_confirm(&actor).await;

    // Bonds in each mode over dummy1 + dummy2; dummy1's address moves to the bond.
    let spec = |mode| BondSpec {
        name: "bond0".into(),
        mode,
        slaves: vec![
            (nics[1].uuid, "dummy1".into()),
            (nics[2].uuid, "dummy2".into()),
        ],
        ips: NicIps {
            addrs: vec![a("10.213.70.2/24")],
            ..Default::default()
        },
    };
    let (b, _) = s
        .node_add_bond(&actor, node.uuid, spec(BondMode::BalanceRr))
        .await
        .unwrap();
    let _ = s.network_confirm(&actor).await;
    for mode in [
        BondMode::BalanceRr,
        BondMode::ActiveBackup,
        BondMode::BalanceAlb,
    ] {
        if mode != BondMode::BalanceRr {
            s.node_edit_bond(&actor, &b.uuid, spec(mode)).await.unwrap();
            let _ = s.network_confirm(&actor).await;
        }
        let ls = links(net).await;
        let bond = find(&ls, "bond0");
        c.check(
            &format!("bond0 in mode {}", mode.number()),
            bond.map(|l| &l.kind) == Some(&LinkKind::Bond { mode }),
            bond,
        );
        let slaves_ok = ["dummy1", "dummy2"]
            .iter()
            .all(|d| find(&ls, d).and_then(|l| l.master.clone()).as_deref() == Some("bond0"));
        c.check(
            &format!("mode {}: both slaves enslaved", mode.number()),
            slaves_ok,
            &ls,
        );
        c.check(
            &format!("mode {}: the address lives on the bond", mode.number()),
            bond.is_some_and(|l| l.addrs == vec![a("10.213.70.2/24")])
                && find(&ls, "dummy1").is_some_and(|l| l.addrs.is_empty()),
            bond,
        );
    }

    // A VLAN network on the bond.
    let bond_nic = s.nic_get(&b.uuid).unwrap();
    let (sw, _) = s
        .vswitch_create(
            &actor,
            "on-bond".into(),
            SwitchType::Vlan,
            String::new(),
            up(&bond_nic),
        )
        .await
        .unwrap();
    let _ = s.network_confirm(&actor).await;
    let (n, _) = s
        .network_create(&actor, "v20".into(), sw.uuid, Some(20), None)
        .await
        .unwrap();
    let _ = s.network_confirm(&actor).await;
    let ls = links(net).await;
    let v = find(&ls, "bond0.20");
    c.check(
        "VLAN bond0.20 on the bond, bridged",
        v.and_then(|l| l.master.clone()) == Some(bridge_name(&n.uuid)),
        v,
    );
    s.network_delete(&actor, &n.uuid).await.unwrap();
    let _ = s.network_confirm(&actor).await;
    s.vswitch_delete(&actor, &sw.uuid).await.unwrap();
    let _ = s.network_confirm(&actor).await;

    // Unbond: dummy1 gets its address back, the bond is gone.
    let back = NicIps {
        addrs: vec![a("10.213.70.2/24")],
        ..Default::default()
    };
    s.node_unbond(&actor, &b.uuid, vec![(nics[1].uuid, "dummy1".into(), back)])
        .await
        .unwrap();
    let _ = s.network_confirm(&actor).await;
    let ls = links(net).await;
    c.check("unbond removes bond0", find(&ls, "bond0").is_none(), ());
    c.check(
        "unbond gives dummy1 its address back",
        find(&ls, "dummy1")
            .is_some_and(|l| l.addrs == vec![a("10.213.70.2/24")] && l.master.is_none()),
        find(&ls, "dummy1"),
    );

    // A refused change is undone: a bond named like an existing link.
    let mut clash = spec(BondMode::ActiveBackup);
    clash.name = "bond9".into();
    ip("link add bond9 type dummy");
    let before = links(net).await;
    let r = s.node_add_bond(&actor, node.uuid, clash).await;
    let after = links(net).await;
    c.check("the kernel's refusal is reported", r.is_err(), &r);
    let same = before
        .iter()
        .map(|l| (&l.name, &l.master, &l.addrs))
        .collect::<Vec<_>>()
        == after
            .iter()
            .map(|l| (&l.name, &l.master, &l.addrs))
            .collect::<Vec<_>>();
    c.check("and the host is as it was", same, (&before, &after));
    c.check(
        "and no bond is on record",
        s.bond_list().unwrap().is_empty(),
        (),
    );
}
