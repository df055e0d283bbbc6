//! Hand-written fakes of every host port, for fast in-process tests.

mod clock;
mod disks;
mod files;
mod host;
mod hypervisor;
mod metrics;
mod net;
mod node_client;
mod remote;

pub use clock::FakeClock;
pub use disks::FakeDisks;
pub use files::FakeFiles;
pub use host::FakeHost;
pub use hypervisor::{FakeDomain, FakeHypervisor};
pub use metrics::FakeMetrics;
pub use net::FakeNet;
pub use node_client::{ApiCall, FakeNodeClient, FakeNodeHost};
pub use remote::{FakeAccounts, FakeFetch, FakePower, FakeRemote, FakeServer, Reach};

use std::sync::Mutex;
use std::time::Duration;

use crate::host::Notifier;

/// Records every notification it is given.
#[derive(Default)]
pub struct FakeNotifier {
    pub events: Mutex<Vec<String>>,
    pub interval: Option<Duration>,
}

impl FakeNotifier {
    pub fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    fn push(&self, e: String) {
        self.events.lock().unwrap().push(e);
    }
}

impl Notifier for FakeNotifier {
    fn ready(&self) {
        self.push("READY=1".into());
    }
    fn stopping(&self) {
        self.push("STOPPING=1".into());
    }
    fn status(&self, text: &str) {
        self.push(format!("STATUS={text}"));
    }
    fn watchdog(&self) {
        self.push("WATCHDOG=1".into());
    }
    fn watchdog_interval(&self) -> Option<Duration> {
        self.interval
    }
}
