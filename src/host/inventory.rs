//! The `HostInventory` port (what the host is made of, what it lacks to
//! virtualise, its mounted filesystems) and the `HostStorage` port (the
//! storage directories and their usage).

use std::path::PathBuf;

use super::BoxFuture;
use crate::domain::inventory::{Inventory, Mount};
use crate::error::Result;

pub trait HostInventory: Send + Sync {
    fn hostname(&self) -> BoxFuture<'_, Result<String>>;
    /// The CPU's virtualisation flag (`vmx`/`svm`) and whether `/dev/kvm`
    /// exists; libvirt reachability is the hypervisor port's to tell.
    fn virt(&self) -> BoxFuture<'_, Result<(Option<String>, bool)>>;
    /// The full hardware inventory (slower: reads sysfs, runs ethtool).
    fn inventory(&self) -> BoxFuture<'_, Result<Inventory>>;
    /// Mounted filesystems with sizes, rotational flag and writability.
    fn mounts(&self) -> BoxFuture<'_, Result<Vec<Mount>>>;
}

/// Bytes in use on a filesystem.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    pub path: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
}

pub trait HostStorage: Send + Sync {
    /// Creates the missing directories among `dirs` (given parents first)
    /// and returns the ones it created; on failure it removes those again.
    fn dirs_create<'a>(&'a self, dirs: &'a [PathBuf]) -> BoxFuture<'a, Result<Vec<PathBuf>>>;
    /// Removes the given directories, deepest first, when they are empty;
    /// a directory that has gained content is left (and logged).
    fn dirs_remove<'a>(&'a self, dirs: &'a [PathBuf]) -> BoxFuture<'a, Result<()>>;
    /// Size and free space of the filesystems holding `paths`.
    fn usage<'a>(&'a self, paths: &'a [String]) -> BoxFuture<'a, Result<Vec<Usage>>>;
}
