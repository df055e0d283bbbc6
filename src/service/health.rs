//! Health: version, uptime, store state and libvirt reachability. libvirt is
//! probed in the background, so a health call never waits for it.

use std::sync::RwLock;
use std::time::Instant;

use super::Services;
use crate::host::HypervisorInfo;

#[derive(Default)]
pub struct HealthState {
    last: RwLock<Option<(Instant, Result<HypervisorInfo, String>)>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    pub version: &'static str,
    pub uptime_s: u64,
    pub store_ok: bool,
    pub store_schema: u32,
    /// None until the first probe finished.
    pub libvirt: Option<Result<HypervisorInfo, String>>,
    pub libvirt_checked_s_ago: Option<u64>,
    pub stopping: bool,
    /// `compute` (a joined node), `controller` (set up), or `setup`.
    pub role: &'static str,
    /// A compute node's controller.
    pub controller: Option<String>,
}

impl Services {
    /// What this service is: a compute node, a controller (an admin or an
    /// initialisation exists), or a fresh appliance waiting for setup.
    pub fn role_name(&self) -> &'static str {
        if self.settings.membership.is_some() {
            "compute"
        } else if self.store.setup_done().unwrap_or(true)
            || self.store.controller().map(|c| c.is_some()).unwrap_or(true)
        {
            "controller"
        } else {
            "setup"
        }
    }

    /// Probes libvirt once and remembers the answer.
    pub async fn health_probe_hypervisor(&self) {
        let r = self
            .hypervisor
            .probe()
            .await
            .map_err(|e| e.public_message().to_string());
        if let Ok(mut w) = self.health.last.write() {
            *w = Some((Instant::now(), r));
        }
    }

    pub fn health_get(&self) -> Health {
        let (store_ok, store_schema) = match self.store.check() {
            Ok(v) => (true, v),
            Err(_) => (false, 0),
        };
        let last = self.health.last.read().ok().and_then(|g| g.clone());
        Health {
            version: env!("CARGO_PKG_VERSION"),
            uptime_s: self.uptime().as_secs(),
            store_ok,
            store_schema,
            libvirt_checked_s_ago: last.as_ref().map(|(t, _)| t.elapsed().as_secs()),
            libvirt: last.map(|(_, r)| r),
            stopping: self.is_stopping(),
            role: self.role_name(),
            controller: self
                .settings
                .membership
                .as_ref()
                .map(|m| m.controller.clone()),
        }
    }
}

impl Services {
    /// The configuration the service started with (empty when it was built
    /// without a configuration, as in-process tests are).
    pub fn config(&self) -> Vec<super::ConfigEntry> {
        self.settings.config.clone()
    }
}
