//! The libvirt adapter of the `Hypervisor` port, over the `virt` crate.

use virt::connect::Connect;

use super::{unpack_version, BoxFuture, Hypervisor, HypervisorInfo};
use crate::error::{Code, Error, Result};

pub struct Libvirt {
    uri: String,
}

impl Libvirt {
    pub fn new(uri: &str) -> Self {
        Libvirt {
            uri: uri.to_string(),
        }
    }
}

fn unreachable(uri: &str, e: impl std::fmt::Display) -> Error {
    log::warn!("libvirt at {uri} is unreachable: {e}");
    Error::new(Code::HypervisorUnavailable, "libvirt is unreachable")
}

impl Hypervisor for Libvirt {
    fn probe(&self) -> BoxFuture<'_, Result<HypervisorInfo>> {
        let uri = self.uri.clone();
        Box::pin(smol::unblock(move || {
            let mut conn = Connect::open(Some(&uri)).map_err(|e| unreachable(&uri, e))?;
            let lib = conn.get_lib_version().map_err(|e| unreachable(&uri, e));
            let hyp = conn.get_hyp_version().map_err(|e| unreachable(&uri, e));
            let _ = conn.close();
            Ok(HypervisorInfo {
                uri: uri.clone(),
                libvirt_version: unpack_version(lib? as u64),
                hypervisor_version: unpack_version(hyp? as u64),
            })
        }))
    }
}
