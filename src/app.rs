//! Wiring: the one place that chooses real backends or fakes and assembles
//! the services and the HTTP application from them.

use std::sync::Arc;

use crate::config::Config;
use crate::fakes::{FakeHost, FakeHypervisor, FakeNet, FakeNotifier};
use crate::host::libvirt::Libvirt;
use crate::host::machine::Machine;
use crate::host::netlink::Netlink;
use crate::host::systemd::Systemd;
use crate::service::task::Spawner;
use crate::service::{Services, Settings};
use crate::store::Store;

pub use crate::service::Backends;

/// libvirt at the configured URI, systemd's notify socket, netlink in the
/// service's network namespace, and this machine's sysfs and filesystems.
pub fn real_backends(cfg: &Config) -> crate::error::Result<Backends> {
    let machine = Arc::new(Machine::new());
    Ok(Backends {
        hypervisor: Arc::new(Libvirt::new(&cfg.libvirt_uri)),
        notifier: Arc::new(Systemd),
        net: Arc::new(Netlink::connect(|f| smol::spawn(f).detach())?),
        inventory: machine.clone(),
        storage: machine,
    })
}

/// Fakes for in-process tests; the fakes are returned for inspection.
pub fn fake_backends() -> (Backends, Arc<FakeHypervisor>, Arc<FakeNotifier>) {
    let (b, hv, nt, _) = fake_backends_with_net(FakeNet::default());
    (b, hv, nt)
}

pub fn fake_backends_with_net(
    net: FakeNet,
) -> (
    Backends,
    Arc<FakeHypervisor>,
    Arc<FakeNotifier>,
    Arc<FakeNet>,
) {
    let (b, hv, nt, net, _) = fake_backends_with(net, FakeHost::default());
    (b, hv, nt, net)
}

/// Every fake, the host's too, returned for inspection.
pub fn fake_backends_with(
    net: FakeNet,
    host: FakeHost,
) -> (
    Backends,
    Arc<FakeHypervisor>,
    Arc<FakeNotifier>,
    Arc<FakeNet>,
    Arc<FakeHost>,
) {
    let hv = Arc::new(FakeHypervisor::new(true));
    let nt = Arc::new(FakeNotifier::default());
    let net = Arc::new(net);
    let host = Arc::new(host);
    (
        Backends {
            hypervisor: hv.clone(),
            notifier: nt.clone(),
            net: net.clone(),
            inventory: host.clone(),
            storage: host.clone(),
        },
        hv,
        nt,
        net,
        host,
    )
}

pub fn services(
    store: Arc<Store>,
    backends: &Backends,
    settings: Settings,
    spawner: Spawner,
) -> Arc<Services> {
    Arc::new(Services::new(
        store,
        backends,
        settings,
        crate::api::listings::engine(),
        spawner,
    ))
}

/// A spawner on smol's global executor (tests, offline commands).
pub fn global_spawner() -> Spawner {
    Arc::new(|f| smol::spawn(f).detach())
}
