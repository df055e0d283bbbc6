//! The `HostNet` port: the host's links, addresses and default route, and
//! the primitive changes the network reconciler composes.

use super::BoxFuture;
use crate::domain::net::{BondMode, DefaultRoute, IfAddr, Link};
use crate::error::Result;

pub trait HostNet: Send + Sync {
    /// Every link with its addresses and sysfs facts.
    fn links(&self) -> BoxFuture<'_, Result<Vec<Link>>>;
    fn bridge_add<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>>;
    fn vlan_add<'a>(&'a self, name: &'a str, parent: &'a str, id: u16)
        -> BoxFuture<'a, Result<()>>;
    fn bond_add<'a>(
        &'a self,
        name: &'a str,
        mode: BondMode,
        miimon_ms: u32,
    ) -> BoxFuture<'a, Result<()>>;
    fn link_del<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<()>>;
    /// Enslaves `name` to the bridge or bond `master`, or releases it.
    fn set_master<'a>(
        &'a self,
        name: &'a str,
        master: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>>;
    fn set_up<'a>(&'a self, name: &'a str, up: bool) -> BoxFuture<'a, Result<()>>;
    fn addr_add<'a>(&'a self, name: &'a str, addr: IfAddr) -> BoxFuture<'a, Result<()>>;
    fn addr_del<'a>(&'a self, name: &'a str, addr: IfAddr) -> BoxFuture<'a, Result<()>>;
    fn default_route(&self) -> BoxFuture<'_, Result<Option<DefaultRoute>>>;
    /// Replaces the default route, or removes it with `None`.
    fn default_route_set<'a>(
        &'a self,
        route: Option<&'a DefaultRoute>,
    ) -> BoxFuture<'a, Result<()>>;
    /// Tells the operating system's own network manager that these links
    /// (bridges, VLANs, bonds and their ports) are the appliance's, so that
    /// it leaves them alone; links no longer named are handed back.
    fn links_claim<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<()>>;
}
