//! Wiring: the one place that chooses real backends or fakes and assembles
//! the services and the HTTP application from them.

use std::sync::Arc;

use crate::config::Config;
use crate::fakes::{FakeHypervisor, FakeNet, FakeNotifier};
use crate::host::libvirt::Libvirt;
use crate::host::net::HostNet;
use crate::host::netlink::Netlink;
use crate::host::systemd::Systemd;
use crate::host::{Hypervisor, Notifier};
use crate::service::task::Spawner;
use crate::service::{Services, Settings};
use crate::store::Store;

/// The host ports the service runs with.
#[derive(Clone)]
pub struct Backends {
    pub hypervisor: Arc<dyn Hypervisor>,
    pub notifier: Arc<dyn Notifier>,
    pub net: Arc<dyn HostNet>,
}

/// libvirt at the configured URI, systemd's notify socket, and netlink in
/// the service's network namespace.
pub fn real_backends(cfg: &Config) -> crate::error::Result<Backends> {
    Ok(Backends {
        hypervisor: Arc::new(Libvirt::new(&cfg.libvirt_uri)),
        notifier: Arc::new(Systemd),
        net: Arc::new(Netlink::connect(|f| smol::spawn(f).detach())?),
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
    let hv = Arc::new(FakeHypervisor::new(true));
    let nt = Arc::new(FakeNotifier::default());
    let net = Arc::new(net);
    (
        Backends {
            hypervisor: hv.clone(),
            notifier: nt.clone(),
            net: net.clone(),
        },
        hv,
        nt,
        net,
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
        backends.hypervisor.clone(),
        backends.notifier.clone(),
        backends.net.clone(),
        settings,
        crate::api::listings::engine(),
        spawner,
    ))
}

/// A spawner on smol's global executor (tests, offline commands).
pub fn global_spawner() -> Spawner {
    Arc::new(|f| smol::spawn(f).detach())
}
