//! Wiring: the one place that chooses real backends or fakes and assembles
//! the services and the HTTP application from them.

use std::sync::Arc;

use crate::config::Config;
use crate::fakes::{
    FakeAccounts, FakeDisks, FakeFetch, FakeHost, FakeHypervisor, FakeMetrics, FakeNet,
    FakeNodeClient, FakeNotifier, FakePower, FakeRemote,
};
use crate::host::libvirt::Libvirt;
use crate::host::machine::metrics::MachineMetrics;
use crate::host::machine::Machine;
use crate::host::netlink::Netlink;
use crate::host::node_client::Http;
use crate::host::qemu_img::QemuImg;
use crate::host::ssh::Ssh;
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
        net: Arc::new(
            Netlink::connect(|f| smol::spawn(f).detach())?.with_networkd(&cfg.networkd_dir),
        ),
        inventory: machine.clone(),
        storage: machine,
        disks: Arc::new(QemuImg),
        metrics: Arc::new(MachineMetrics::new()),
        remote: Arc::new(Ssh::new(cfg.data_dir.join("ssh").join("id_ed25519"))),
        node_client: Arc::new(Http {
            timeout: std::time::Duration::from_secs(30),
        }),
        power: Arc::new(crate::host::power::Shell),
        fetch: Arc::new(crate::host::fetch::HttpFetch {
            stall: std::time::Duration::from_secs(30),
        }),
        accounts: Arc::new(crate::host::accounts::Chpasswd),
        clock: Arc::new(crate::host::clock::SystemClock),
        files: Arc::new(crate::host::local_files::DiskFiles),
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
    let f = fakes(net, host);
    (f.backends(), f.hypervisor, f.notifier, f.net, f.host)
}

/// Every fake, by name.
#[derive(Clone)]
pub struct Fakes {
    pub hypervisor: Arc<FakeHypervisor>,
    pub notifier: Arc<FakeNotifier>,
    pub net: Arc<FakeNet>,
    pub host: Arc<FakeHost>,
    pub disks: Arc<FakeDisks>,
    pub metrics: Arc<FakeMetrics>,
    pub remote: Arc<FakeRemote>,
    pub node_client: Arc<FakeNodeClient>,
    pub power: Arc<FakePower>,
    pub fetch: Arc<FakeFetch>,
    pub accounts: Arc<FakeAccounts>,
    pub clock: Arc<crate::fakes::FakeClock>,
    pub files: Arc<crate::fakes::FakeFiles>,
}

impl Fakes {
    pub fn backends(&self) -> Backends {
        Backends {
            hypervisor: self.hypervisor.clone(),
            notifier: self.notifier.clone(),
            net: self.net.clone(),
            inventory: self.host.clone(),
            storage: self.host.clone(),
            disks: self.disks.clone(),
            metrics: self.metrics.clone(),
            remote: self.remote.clone(),
            node_client: self.node_client.clone(),
            power: self.power.clone(),
            fetch: self.fetch.clone(),
            accounts: self.accounts.clone(),
            clock: self.clock.clone(),
            files: self.files.clone(),
        }
    }
}

pub fn fakes(net: FakeNet, host: FakeHost) -> Fakes {
    let disks = Arc::new(FakeDisks::default());
    Fakes {
        hypervisor: Arc::new(FakeHypervisor::new(true)),
        notifier: Arc::new(FakeNotifier::default()),
        net: Arc::new(net),
        host: Arc::new(host),
        accounts: Arc::new(FakeAccounts::default()),
        fetch: Arc::new(FakeFetch {
            source: Default::default(),
            disks: disks.clone(),
            fetched: Default::default(),
        }),
        disks: disks.clone(),
        metrics: Arc::new(FakeMetrics::default()),
        remote: Arc::new(FakeRemote::default()),
        node_client: Arc::new(FakeNodeClient {
            source: std::sync::Mutex::new(Some(disks.clone())),
            ..Default::default()
        }),
        power: Arc::new(FakePower::default()),
        clock: Arc::new(crate::fakes::FakeClock::default()),
        files: Arc::new(crate::fakes::FakeFiles::default()),
    }
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
