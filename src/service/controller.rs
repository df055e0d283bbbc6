//! Controller initialisation (first boot): the answers are checked against
//! the host at once, then one task checks virtualisation, reads the
//! inventory, prepares the storage directories, sets up the default pool,
//! records the node with its NICs and storage, creates the default switch,
//! network and subnet with their bridge on the host, and marks the
//! controller initialised. A failing step undoes every earlier one.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::node::{nic_links, ProbeNic};
use super::{Actor, Services};
use crate::domain::controller::{derive_subnet, ControllerRecord, InitSpec};
use crate::domain::inventory::Mount;
use crate::domain::network::{Network, SubnetSpec, VSwitch};
use crate::domain::storage::{layout, storage_root};
use crate::error::{Code, Error, Result};

/// The steps of initialisation, in order; tests inject failures by name.
pub const INIT_STEPS: [&str; 7] = [
    "virtualisation",
    "inventory",
    "storage",
    "pool",
    "node",
    "network",
    "mark",
];

/// Everything initialisation will do, decided before it starts.
#[derive(Clone, Debug)]
pub struct InitPlan {
    pub spec: InitSpec,
    /// The answers as recorded (JSON without the password).
    pub answers: String,
    pub hostname: String,
    pub nics: Vec<ProbeNic>,
    pub gateway: Option<(std::net::Ipv4Addr, String)>,
    pub manage: String,
    pub image: String,
    pub data: String,
    /// (mount, its facts, the directories to create)
    pub storages: Vec<(Mount, crate::domain::storage::Roles, Vec<PathBuf>)>,
    /// The default subnet, given or derived; `None` when neither.
    pub subnet: Option<(String, SubnetSpec)>,
}

/// What initialisation made.
#[derive(Clone, Debug, PartialEq)]
pub struct InitOutcome {
    pub node: Uuid,
    pub pool: Uuid,
    pub vswitch: Uuid,
    pub network: Uuid,
    pub subnet: Option<Uuid>,
    pub bridge: String,
    /// Virtualisation lacks, reported but not fatal on a controller-only node.
    pub warnings: Vec<String>,
}

impl InitOutcome {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "node_uuid": self.node.to_string(),
            "pool_uuid": self.pool.to_string(),
            "switch_uuid": self.vswitch.to_string(),
            "network_uuid": self.network.to_string(),
            "subnet_uuid": self.subnet.map(|s| s.to_string()),
            "bridge": self.bridge,
            "warnings": self.warnings,
        })
    }
}

fn iface_field<'a>(
    field: &str,
    given: Option<&'a String>,
    fallback: &'a str,
    nics: &[ProbeNic],
) -> Result<String> {
    let name = given.map(String::as_str).unwrap_or(fallback);
    if !nics.iter().any(|n| n.name == name) {
        let known: Vec<&str> = nics.iter().map(|n| n.name.as_str()).collect();
        return Err(Error::invalid(
            field,
            format!(
                "`{name}` is not a NIC of this host (NICs: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    Ok(name.to_string())
}

impl Services {
    pub fn controller_status(&self) -> Result<Option<ControllerRecord>> {
        self.store.controller()
    }

    /// The switch and network made at initialisation, while they exist.
    pub fn controller_default_network(&self) -> Result<Option<(VSwitch, Network)>> {
        let Some(rec) = self.store.controller()? else {
            return Ok(None);
        };
        match (
            self.store.vswitch_get(&rec.vswitch),
            self.store.network_get(&rec.network),
        ) {
            (Ok(s), Ok(n)) => Ok(Some((s, n))),
            _ => Ok(None),
        }
    }

    /// Fails with `ControllerNotInitialised` until first-boot setup is done.
    pub fn controller_require(&self) -> Result<ControllerRecord> {
        self.store.controller()?.ok_or_else(|| {
            Error::new(
                Code::ControllerNotInitialised,
                "The controller is not initialised yet: finish first-boot setup first",
            )
        })
    }

    /// Checks the answers against this host and decides every detail.
    pub async fn controller_init_plan(&self, spec: InitSpec, answers: String) -> Result<InitPlan> {
        if let Some(rec) = self.store.controller()? {
            return Err(Error::new(
                Code::ControllerExists,
                format!(
                    "The controller is already initialised (node {}); initialisation runs once",
                    rec.node
                ),
            ));
        }
        if let Some(node) = self.store.local_node()? {
            return Err(Error::new(
                Code::ControllerExists,
                format!("This server is already node {node} of a cluster"),
            ));
        }
        spec.check()?;
        let links = self.net.links().await?;
        let nics = nic_links(&links);
        let route = self.net.default_route().await?;
        let carrier = nics
            .iter()
            .find(|n| n.addrs.iter().any(|a| a.ip == spec.ip));
        let Some(carrier) = carrier else {
            let mine: Vec<String> = nics
                .iter()
                .flat_map(|n| {
                    n.addrs
                        .iter()
                        .map(move |a| format!("{} on {}", a.ip, n.name))
                })
                .collect();
            return Err(Error::invalid(
                "ip",
                format!(
                    "{} is not an address of a NIC of this host (addresses: {})",
                    spec.ip,
                    if mine.is_empty() {
                        "none".into()
                    } else {
                        mine.join(", ")
                    }
                ),
            ));
        };
        let manage = iface_field(
            "manage_interface",
            spec.manage_interface.as_ref(),
            &carrier.name,
            &nics,
        )?;
        if manage != carrier.name {
            return Err(Error::invalid(
                "manage_interface",
                format!(
                    "`{manage}` does not carry the management address {} (it is on `{}`)",
                    spec.ip, carrier.name
                ),
            ));
        }
        let image = iface_field(
            "image_interface",
            spec.image_interface.as_ref(),
            &manage,
            &nics,
        )?;
        let data = iface_field(
            "data_interface",
            spec.data_interface.as_ref(),
            &manage,
            &nics,
        )?;
        if nics.iter().any(|n| n.name == data && n.bridge.is_some()) {
            return Err(Error::invalid(
                "data_interface",
                format!("`{data}` is already enslaved to a bridge of the appliance"),
            ));
        }
        let mounts = self.inventory.mounts().await?;
        let mut storages = Vec::new();
        for (path, roles) in &spec.storages {
            let field = format!("storages.{path}");
            let Some(m) = mounts.iter().find(|m| &m.path == path) else {
                let usable: Vec<&str> = mounts
                    .iter()
                    .filter(|m| m.unusable().is_none())
                    .map(|m| m.path.as_str())
                    .collect();
                return Err(Error::invalid(
                    &field,
                    format!(
                        "`{path}` is not a mount point of this host (usable: {})",
                        if usable.is_empty() {
                            "none".into()
                        } else {
                            usable.join(", ")
                        }
                    ),
                ));
            };
            if let Some(why) = m.unusable() {
                return Err(Error::invalid(&field, why));
            }
            let dirs = layout(&storage_root(path), *roles);
            storages.push((m.clone(), *roles, dirs));
        }
        let gateway = route.as_ref().map(|r| (r.gateway, r.dev.clone()));
        let subnet = match &spec.subnet {
            Some(s) => Some(s.clone()),
            None if spec.network_vlan().is_none() => {
                let a = nics.iter().find(|n| n.name == data).and_then(|n| n.addr);
                a.and_then(|a| derive_subnet(a.ip, a.prefix, gateway.as_ref().map(|g| g.0)))
                    .map(|s| (format!("{}-subnet", spec.network_name), s))
            }
            None => None,
        };
        if self.store.vswitch_name_taken(&spec.switch_name)? {
            return Err(Error::new(
                Code::VSwitchNameExists,
                format!(
                    "Field `switch_name`: a virtual switch named `{}` exists",
                    spec.switch_name
                ),
            ));
        }
        if self.store.network_name_taken(&spec.network_name)? {
            return Err(Error::new(
                Code::NetworkNameExists,
                format!(
                    "Field `network_name`: a network named `{}` exists",
                    spec.network_name
                ),
            ));
        }
        Ok(InitPlan {
            hostname: self.inventory.hostname().await?,
            spec,
            answers,
            nics,
            gateway,
            manage,
            image,
            data,
            storages,
            subnet,
        })
    }

    /// Unattended first boot (`init --answer-file`): the same initialisation,
    /// then the first admin. Re-running with the same answers and password
    /// changes nothing and answers `None`; other answers are refused.
    pub async fn controller_init_unattended(
        self: &Arc<Self>,
        admin: &str,
        password: &str,
        spec: InitSpec,
        answers: String,
    ) -> Result<Option<(Uuid, InitOutcome)>> {
        let admin_known = self.admin_verify(admin, password)?;
        if admin_known == Some(false) {
            return Err(Error::new(
                Code::BadCredentials,
                format!("Admin `{admin}` exists with another password; give its password in the answer file"),
            ));
        }
        if let Some(rec) = self.store.controller()? {
            if rec.answers == answers {
                // A run killed between initialisation and the admin.
                if admin_known.is_none() {
                    self.admin_set_password(admin, password)?;
                }
                return Ok(None);
            }
            return Err(Error::new(
                Code::ControllerExists,
                format!(
                    "The controller was initialised (node {}) with other answers; initialisation runs once",
                    rec.node
                ),
            ));
        }
        let actor = Actor::anonymous("answer-file");
        let plan = self.controller_init_plan(spec, answers).await?;
        let (task, done) = self.controller_init(&actor, plan).await?;
        let out = done
            .recv()
            .await
            .map_err(|_| Error::internal("the initialisation task ended without a result"))??;
        if admin_known.is_none() {
            self.admin_set_password(admin, password)?;
        }
        self.task_settled(&task).await?;
        Ok(Some((task, out)))
    }
}
