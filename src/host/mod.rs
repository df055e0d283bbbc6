//! Ports to the outside world (traits speaking domain types) and their real
//! adapters. Every blocking call runs through `smol::unblock` in the adapter.

pub mod accounts;
pub mod clock;
pub mod fetch;
pub mod inventory;
pub mod libvirt;
pub mod local_files;
pub mod machine;
pub mod metrics;
pub mod net;
pub mod netlink;
pub mod networkd;
pub mod node_client;
pub mod power;
pub mod qemu_img;
pub mod remote;
pub mod remote_vm;
pub mod ssh;
pub mod systemd;
pub mod vm;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use vm::{
    ByteStream, Disks, Duplex, FileKind, FileStat, Hypervisor, HypervisorInfo, ImageInfo, PowerOp,
    PowerState, SpiceAddr, Stream, Written,
};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The service manager (systemd's notify protocol).
pub trait Notifier: Send + Sync {
    fn ready(&self);
    fn stopping(&self);
    fn status(&self, text: &str);
    fn watchdog(&self);
    /// How often the watchdog must be pinged, when systemd asks for it.
    fn watchdog_interval(&self) -> Option<Duration>;
}

/// `major.minor.micro` from libvirt's packed `major * 1e6 + minor * 1e3 + micro`.
pub fn unpack_version(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v / 1000) % 1000, v % 1000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn unpacks_libvirt_versions() {
        assert_eq!(super::unpack_version(9_000_000), "9.0.0");
        assert_eq!(super::unpack_version(7_002_011), "7.2.11");
    }
}
