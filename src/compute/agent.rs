//! The compute node's side of membership: register with the controller
//! when the service starts, then send a heartbeat every `node_heartbeat_s`
//! and each 30-second report as it completes.

use std::sync::Arc;

use crate::domain::cluster::{ProbeWire, Register, ServiceWire};
use crate::domain::monitor::{Report, Sample};
use crate::domain::node::Membership;
use crate::error::Result;
use crate::host::node_client::Peer;
use crate::service::Services;

async fn register(s: &Services, m: &Membership) -> Result<()> {
    let probe = crate::service::node::probe_host(
        s.inventory.as_ref(),
        s.net.as_ref(),
        s.hypervisor.as_ref(),
    )
    .await?;
    let port = s.settings.nodes.listen_port;
    let wire = ProbeWire::new(
        &probe,
        Ok(ServiceWire {
            role: "compute".into(),
            controller: Some(m.controller.clone()),
            listen_port: port,
        }),
    );
    let inventory = s.inventory.inventory().await?;
    let r = Register {
        node_uuid: m.node_uuid,
        inventory,
        version: env!("CARGO_PKG_VERSION").into(),
        listen_port: port,
        probe: wire,
    };
    s.node_client.register(&controller(m), r).await.map(|_| ())
}

/// The controller, as this node reaches it.
fn controller(m: &Membership) -> Peer {
    Peer {
        base: m.controller.clone(),
        token: m.credential.clone(),
    }
}

/// Registers (retrying every two seconds), then sends heartbeats forever.
pub async fn run(s: Arc<Services>, m: Membership) {
    let mut warned = false;
    loop {
        match register(&s, &m).await {
            Ok(()) => break,
            Err(e) if !warned => {
                log::warn!(
                    "cannot register with the controller {}: {e}; retrying",
                    m.controller
                );
                warned = true;
            }
            Err(_) => {}
        }
        smol::Timer::after(std::time::Duration::from_secs(2)).await;
    }
    log::info!(
        "registered with the controller {} as node {}",
        m.controller,
        m.node_uuid
    );
    let mut failing = false;
    loop {
        smol::Timer::after(s.settings.nodes.heartbeat).await;
        let r = s.node_client.heartbeat(&controller(&m), m.node_uuid).await;
        let r = match r {
            Ok(answer) => {
                s.network_from_heartbeat(answer).await;
                Ok(())
            }
            Err(e) => Err(e),
        };
        match (r, failing) {
            (Err(e), false) => {
                log::warn!("heartbeat to {} failed: {e}", m.controller);
                failing = true;
            }
            (Ok(_), true) => {
                log::info!("the controller {} answers heartbeats again", m.controller);
                failing = false;
            }
            _ => {}
        }
    }
}

/// Sends one 30-second aggregate to the controller.
pub async fn report(s: &Services, m: &Membership, sample: &Sample) {
    let name = s.inventory.hostname().await.unwrap_or_default();
    let r = Report {
        node: m.node_uuid,
        name,
        sample: sample.clone(),
    };
    if let Err(e) = s.node_client.report(&controller(m), r).await {
        log::debug!("report to {} not delivered: {e}", m.controller);
    }
}
