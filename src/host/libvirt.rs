//! The libvirt adapter of the `Hypervisor` port, over the `virt` crate: one
//! cached connection, reopened when libvirtd went away; every call runs in
//! `smol::unblock`.

use std::sync::{Arc, Mutex};

use uuid::Uuid;
use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::ErrorNumber;
use virt::sys;

use super::{
    unpack_version, BoxFuture, Hypervisor, HypervisorInfo, PowerOp, PowerState, SpiceAddr, Stream,
};
use crate::domain::console::Protocol;
use crate::error::{Code, Error, Result};

pub struct Libvirt {
    uri: String,
    conn: Arc<Mutex<Option<Connect>>>,
}

impl Libvirt {
    pub fn new(uri: &str) -> Self {
        // Errors come back as results and are logged by the service; the
        // library's own handler would print each one on stderr as well.
        virt::error::clear_error_callback();
        Libvirt {
            uri: uri.to_string(),
            conn: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs `f` on a live connection in the blocking pool; a failure that
    /// finds the connection dead reconnects and tries once more.
    fn with<T: Send + 'static>(
        &self,
        f: impl Fn(&Connect) -> std::result::Result<T, virt::error::Error> + Send + 'static,
    ) -> BoxFuture<'_, Result<T>> {
        let uri = self.uri.clone();
        let slot = self.conn.clone();
        Box::pin(smol::unblock(move || {
            let mut guard = slot
                .lock()
                .map_err(|_| Error::internal("libvirt lock poisoned"))?;
            for attempt in 0..2 {
                if guard.is_none() {
                    *guard = Some(Connect::open(Some(&uri)).map_err(|e| unreachable(&uri, e))?);
                }
                let conn = guard.as_ref().expect("connection just set");
                match f(conn) {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        let alive = conn.is_alive().unwrap_or(false);
                        if alive || attempt == 1 {
                            return Err(failed(&e));
                        }
                        log::warn!("libvirt connection to {uri} lost ({e}); reconnecting");
                        if let Some(mut c) = guard.take() {
                            let _ = c.close();
                        }
                    }
                }
            }
            Err(unreachable(&uri, "reconnect failed"))
        }))
    }
}

/// Connects to a graphics server on this host: its listen address, or
/// loopback when it listens on every address.
pub async fn dial_graphics(a: &SpiceAddr) -> Result<Stream> {
    let host = match a.listen.as_str() {
        "" | "0.0.0.0" | "::" => "127.0.0.1",
        l => l,
    };
    let addr: std::net::IpAddr = host.parse().map_err(|_| {
        Error::new(
            Code::HypervisorFailed,
            format!("The graphics server listens on `{host}`, not an address"),
        )
    })?;
    let s = smol::net::TcpStream::connect((addr, a.port))
        .await
        .map_err(|e| {
            Error::new(
                Code::HypervisorFailed,
                format!("The graphics server at {host}:{} refused: {e}", a.port),
            )
        })?;
    let _ = s.set_nodelay(true);
    Ok(Box::new(s))
}

fn unreachable(uri: &str, e: impl std::fmt::Display) -> Error {
    log::warn!("libvirt at {uri} is unreachable: {e}");
    Error::new(Code::HypervisorUnavailable, "libvirt is unreachable")
}

fn failed(e: &virt::error::Error) -> Error {
    Error::new(Code::HypervisorFailed, format!("libvirt: {}", e.message()))
}

fn lookup(conn: &Connect, uuid: &Uuid) -> std::result::Result<Option<Domain>, virt::error::Error> {
    match Domain::lookup_by_uuid_string(conn, &uuid.to_string()) {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.code() == ErrorNumber::NoDomain => Ok(None),
        Err(e) => Err(e),
    }
}

fn must(conn: &Connect, uuid: &Uuid) -> std::result::Result<Domain, virt::error::Error> {
    Domain::lookup_by_uuid_string(conn, &uuid.to_string())
}

fn power_state(s: sys::virDomainState) -> PowerState {
    match s {
        sys::VIR_DOMAIN_RUNNING => PowerState::Running,
        sys::VIR_DOMAIN_SHUTOFF | sys::VIR_DOMAIN_CRASHED | sys::VIR_DOMAIN_NOSTATE => {
            PowerState::Off
        }
        _ => PowerState::Paused,
    }
}

/// The SPICE listen address and port in a running domain's XML.
pub fn spice_of(xml: &str) -> Option<SpiceAddr> {
    graphics_of(xml, Protocol::Spice)
}

/// Where a running domain's VNC or SPICE server listens, from its live XML.
pub fn graphics_of(xml: &str, p: Protocol) -> Option<SpiceAddr> {
    let (listen, port) = crate::domain::vmxml::graphics_of(xml, p)?;
    Some(SpiceAddr {
        listen,
        port: port?,
    })
}

impl Hypervisor for Libvirt {
    fn probe(&self) -> BoxFuture<'_, Result<HypervisorInfo>> {
        let uri = self.uri.clone();
        let f = self.with(|c| Ok((c.get_lib_version()?, c.get_hyp_version()?)));
        Box::pin(async move {
            let (lib, hyp) = f.await?;
            Ok(HypervisorInfo {
                uri,
                libvirt_version: unpack_version(lib as u64),
                hypervisor_version: unpack_version(hyp as u64),
            })
        })
    }

    fn define(&self, xml: String) -> BoxFuture<'_, Result<()>> {
        self.with(move |c| Domain::define_xml(c, &xml).map(|_| ()))
    }

    fn undefine(&self, uuid: Uuid) -> BoxFuture<'_, Result<()>> {
        self.with(move |c| {
            let Some(d) = lookup(c, &uuid)? else {
                return Ok(());
            };
            if d.is_active()? {
                d.destroy()?;
            }
            d.undefine_flags(sys::VIR_DOMAIN_UNDEFINE_NVRAM | sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        })
    }

    fn power(&self, uuid: Uuid, op: PowerOp) -> BoxFuture<'_, Result<()>> {
        self.with(move |c| {
            let d = must(c, &uuid)?;
            match op {
                PowerOp::Start => d.create().map(|_| ()),
                PowerOp::Shutdown => d.shutdown().map(|_| ()),
                PowerOp::Destroy => d.destroy(),
                PowerOp::Reboot => d.reboot(sys::VIR_DOMAIN_REBOOT_DEFAULT),
                PowerOp::Reset => d.reset().map(|_| ()),
            }
        })
    }

    fn state(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<PowerState>>> {
        self.with(move |c| match lookup(c, &uuid)? {
            None => Ok(None),
            Some(d) => Ok(Some(power_state(d.get_state()?.0))),
        })
    }

    fn spice(&self, uuid: Uuid) -> BoxFuture<'_, Result<Option<SpiceAddr>>> {
        self.with(move |c| match lookup(c, &uuid)? {
            Some(d) if d.is_active()? => Ok(spice_of(&d.get_xml_desc(0)?)),
            _ => Ok(None),
        })
    }

    fn graphics_connect(&self, uuid: Uuid, p: Protocol) -> BoxFuture<'_, Result<Option<Stream>>> {
        let found = self.with(move |c| match lookup(c, &uuid)? {
            Some(d) if d.is_active()? => Ok(graphics_of(&d.get_xml_desc(0)?, p)),
            _ => Ok(None),
        });
        Box::pin(async move {
            let Some(a) = found.await? else {
                return Ok(None);
            };
            dial_graphics(&a).await.map(Some)
        })
    }

    fn update_device(&self, uuid: Uuid, xml: String) -> BoxFuture<'_, Result<()>> {
        self.with(move |c| {
            must(c, &uuid)?
                .update_device_flags(&xml, sys::VIR_DOMAIN_AFFECT_LIVE)
                .map(|_| ())
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<(Uuid, String)>>> {
        self.with(|c| {
            let mut out = Vec::new();
            for d in c.list_all_domains(0)? {
                if let Ok(u) = Uuid::parse_str(&d.get_uuid_string()?) {
                    out.push((u, d.get_name()?));
                }
            }
            Ok(out)
        })
    }

    fn states(&self) -> BoxFuture<'_, Result<Vec<(Uuid, PowerState)>>> {
        self.with(|c| {
            let mut out = Vec::new();
            for d in c.list_all_domains(0)? {
                if let Ok(u) = Uuid::parse_str(&d.get_uuid_string()?) {
                    out.push((u, power_state(d.get_state()?.0)));
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spice_port_from_live_xml() {
        let xml = "<domain><devices><graphics type='vnc' port='5901'/>\
<graphics type='spice' port='5900' autoport='yes' listen='0.0.0.0'/></devices></domain>";
        let a = super::spice_of(xml).unwrap();
        assert_eq!((a.listen.as_str(), a.port), ("0.0.0.0", 5900));
        assert!(super::spice_of("<domain><graphics type='spice' port='-1'/></domain>").is_none());
        assert!(super::spice_of("not xml").is_none());
    }
}
