//! Hand-written fakes of every host port, for fast in-process tests.

mod host;
mod net;

pub use host::FakeHost;
pub use net::FakeNet;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Code, Error, Result};
use crate::host::{BoxFuture, Hypervisor, HypervisorInfo, Notifier};

/// A hypervisor whose reachability the test sets.
pub struct FakeHypervisor {
    pub reachable: AtomicBool,
}

impl FakeHypervisor {
    pub fn new(reachable: bool) -> Self {
        FakeHypervisor {
            reachable: AtomicBool::new(reachable),
        }
    }
}

impl Hypervisor for FakeHypervisor {
    fn probe(&self) -> BoxFuture<'_, Result<HypervisorInfo>> {
        let up = self.reachable.load(Ordering::SeqCst);
        Box::pin(async move {
            if up {
                Ok(HypervisorInfo {
                    uri: "fake:///".into(),
                    libvirt_version: "9.0.0".into(),
                    hypervisor_version: "7.2.0".into(),
                })
            } else {
                Err(Error::new(
                    Code::HypervisorUnavailable,
                    "libvirt at fake:/// is unreachable",
                ))
            }
        })
    }
}

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
