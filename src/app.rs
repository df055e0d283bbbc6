//! Wiring: the one place that chooses real backends or fakes and assembles
//! the services and the HTTP application from them.

use std::sync::Arc;

use crate::config::Config;
use crate::fakes::{FakeHypervisor, FakeNotifier};
use crate::host::libvirt::Libvirt;
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
}

/// libvirt at the configured URI and systemd's notify socket.
pub fn real_backends(cfg: &Config) -> Backends {
    Backends {
        hypervisor: Arc::new(Libvirt::new(&cfg.libvirt_uri)),
        notifier: Arc::new(Systemd),
    }
}

/// Fakes for in-process tests; the fakes are returned for inspection.
pub fn fake_backends() -> (Backends, Arc<FakeHypervisor>, Arc<FakeNotifier>) {
    let hv = Arc::new(FakeHypervisor::new(true));
    let nt = Arc::new(FakeNotifier::default());
    (
        Backends {
            hypervisor: hv.clone(),
            notifier: nt.clone(),
        },
        hv,
        nt,
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
        settings,
        crate::api::listings::engine(),
        spawner,
    ))
}

/// A spawner on smol's global executor (tests, offline commands).
pub fn global_spawner() -> Spawner {
    Arc::new(|f| smol::spawn(f).detach())
}
