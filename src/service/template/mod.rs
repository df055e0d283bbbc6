//! Templates: create (from a base image or an ISO), define in libvirt, power
//! operations, cdrom, delete and the console ticket. Updates and copies are
//! in `template_change`; versions (save, rollback, trim, download) in
//! `template_version`.

pub mod change;
pub mod run;
pub mod sagas;
pub mod usage;
pub mod version;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use uuid::Uuid;

use super::Services;
use crate::domain::group::GroupType;
use crate::domain::storage::Role;
use crate::domain::template::{
    data_disk_inx, highest_free, Classify, OpType, Operation, Status, Template, TemplateDisk,
    Version,
};
use crate::domain::vmxml::{self, DiskSpec, OsFamily, SpiceSpec, VmSpec};
use crate::error::{Code, Error, Result};
use crate::host::{PowerOp, PowerState};

/// Things (templates, desktops) with an operation running: one at a time.
#[derive(Default)]
pub struct Busy(Arc<Mutex<HashSet<Uuid>>>);

/// Releases a busy mark when dropped.
pub struct BusyGuard(Arc<Mutex<HashSet<Uuid>>>, Uuid);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.lock() {
            s.remove(&self.1);
        }
    }
}

impl Busy {
    /// Marks `id` busy; `None` when it already is.
    pub fn try_mark(&self, id: Uuid) -> Result<Option<BusyGuard>> {
        let mut s = self.0.lock().map_err(Error::internal)?;
        Ok(s.insert(id).then(|| BusyGuard(self.0.clone(), id)))
    }

    pub fn is_marked(&self, id: &Uuid) -> bool {
        self.0.lock().map(|s| s.contains(id)).unwrap_or(false)
    }
}

/// A new template as the request gives it (validated at the edge).
#[derive(Clone, Debug)]
pub struct TemplateSpec {
    pub name: String,
    pub desc: String,
    pub owner: String,
    pub os_type: Option<String>,
    pub classify: Classify,
    pub pool: Option<Uuid>,
    pub network: Option<Uuid>,
    pub subnet: Option<Uuid>,
    pub bind_ip: Option<Ipv4Addr>,
    pub vcpu: u32,
    pub ram_mb: u64,
    pub groups: Vec<Uuid>,
    /// Base image and system disk size (GB; 0 = the image's size).
    pub image: Option<(Uuid, u32)>,
    /// Install from this ISO (blank system disk of `iso_disk_gb`).
    pub iso: Option<Uuid>,
    pub iso_disk_gb: u32,
    pub data_disks: Vec<(u32, u32)>,
    pub power_on: bool,
}

/// A change of attributes (PUT); `None` keeps the value.
#[derive(Clone, Debug, Default)]
pub struct TemplatePatch {
    pub name: Option<String>,
    pub desc: Option<String>,
    pub network: Option<Option<Uuid>>,
    pub subnet: Option<Option<Uuid>>,
    pub bind_ip: Option<Option<Ipv4Addr>>,
    pub vcpu: Option<u32>,
    pub ram_mb: Option<u64>,
    pub groups: Option<Vec<Uuid>>,
    /// (disk uuid, new size GB): grow only.
    pub grow: Vec<(Uuid, u32)>,
    /// New data disks (inx, size GB).
    pub add: Vec<(u32, u32)>,
}

/// What a console needs: where to connect and the one-time ticket.
#[derive(Clone, Debug, Serialize)]
pub struct Console {
    pub host: String,
    pub port: u16,
    pub ticket: String,
    pub expire_time: String,
    /// A remote-viewer connection file.
    pub vv: String,
    /// With the SPICE proxy on: `http://<address>` a client sends
    /// `CONNECT host:port` to (`host` is then the ticket's name).
    pub spice_proxy: Option<String>,
}

pub const GB: u64 = 1 << 30;

const RANDOM_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn random_letters(b: &[u8]) -> String {
    b.iter()
        .map(|x| RANDOM_ALPHABET[*x as usize % RANDOM_ALPHABET.len()] as char)
        .collect()
}

pub(crate) fn random_text(n: usize) -> String {
    let mut b = vec![0u8; n];
    let _ = getrandom::getrandom(&mut b);
    random_letters(&b)
}

/// `random_text` for a secret someone is handed (a ticket, a console
/// password): fails rather than hand out a guessable one.
pub(crate) fn random_secret(n: usize) -> Result<String> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).map_err(Error::internal)?;
    Ok(random_letters(&b))
}

pub(crate) fn busy_err(t: &str, why: &str) -> Error {
    Error::new(Code::TemplateBusy, format!("Template `{t}` {why}"))
}

impl Services {
    /// Marks a template busy for one operation; refused when one runs.
    pub fn template_lock(self: &Arc<Self>, t: &Template) -> Result<BusyGuard> {
        self.template_busy
            .try_mark(t.uuid)?
            .ok_or_else(|| busy_err(&t.name, "has another operation running; wait for it"))
    }

    pub fn template_get(&self, uuid: &Uuid) -> Result<Template> {
        self.store.template_get(uuid)
    }

    pub fn template_list(&self) -> Result<Vec<Template>> {
        self.store.template_list()
    }

    pub async fn template_power_state(&self, t: &Template) -> PowerState {
        match self.hypervisor.state(t.uuid).await {
            Ok(Some(s)) => s,
            _ => PowerState::Off,
        }
    }

    /// The libvirt description of a template from its record.
    pub fn template_vm_spec(&self, t: &Template) -> VmSpec {
        let installing = t.status == Status::Installing;
        let iso = t
            .iso
            .and_then(|i| self.store.iso_get(&i).ok())
            .map(|i| i.path);
        let mut disks: Vec<&TemplateDisk> = t.disks.iter().collect();
        disks.sort_by_key(|d| d.inx);
        VmSpec {
            name: t.domain_name(),
            uuid: t.uuid,
            domain_type: self.settings.domain_type.clone(),
            vcpu: t.vcpu,
            ram_mb: t.ram_mb,
            os: OsFamily::of(&t.os_type),
            disks: disks
                .iter()
                .enumerate()
                .map(|(i, d)| DiskSpec {
                    path: d.work_file(),
                    dev: vmxml::disk_dev(i),
                    boot: d.is_system().then_some(if installing { 2 } else { 1 }),
                })
                .collect(),
            cdrom: iso,
            cdrom_boot: installing,
            bridge: t.network.map(|n| crate::domain::net::bridge_name(&n)),
            mac: t.mac.clone(),
            spice: SpiceSpec {
                listen: self.graphics_listen(),
                password: t.spice_password.clone(),
                // The defined password is never usable without a ticket.
                valid_to_ms: 0,
            },
            description: format!("vdi-appliance template {}", t.name),
        }
    }

    pub(crate) async fn template_define(&self, t: &Template) -> Result<()> {
        self.hypervisor
            .define(self.template_vm_spec(t).to_xml())
            .await
    }

    /// Checks what a template refers to; returns the pool.
    pub(crate) fn template_refs_check(
        &self,
        pool: Option<Uuid>,
        network: Option<Uuid>,
        subnet: Option<Uuid>,
        groups: &[Uuid],
    ) -> Result<Uuid> {
        let pool = self.resource_pool_or_default(pool)?;
        if let Some(n) = &network {
            self.store.network_get(n)?;
        }
        if let Some(s) = &subnet {
            let sub = self.store.subnet_get(s)?;
            if Some(sub.network) != network {
                return Err(Error::invalid(
                    "subnet_uuid",
                    format!("subnet {s} does not belong to the network given"),
                ));
            }
        }
        for g in groups {
            if self.store.group_get(g)?.kind != GroupType::Education {
                return Err(Error::invalid(
                    "groups",
                    format!("group {g} is not an education group"),
                ));
            }
        }
        Ok(pool)
    }

    /// Takes `want` (checked free and inside the subnet), or the highest
    /// free address, for `holder`.
    pub(crate) fn template_ip(
        &self,
        subnet: &Uuid,
        holder: &Uuid,
        want: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr> {
        let h = format!("template:{holder}");
        if want.is_some() {
            return self.store.ip_allocate(subnet, &h, want);
        }
        for _ in 0..8 {
            let s = self.store.subnet_get(subnet)?;
            let used = self
                .store
                .ip_allocations(subnet)?
                .into_iter()
                .map(|x| x.0)
                .collect();
            let Some(ip) = highest_free(&s.range, &used) else {
                return Err(Error::new(
                    Code::IpNotEnough,
                    format!("Subnet `{}` has no free address", s.name),
                ));
            };
            match self.store.ip_allocate(subnet, &h, Some(ip)) {
                Err(e) if e.code == Code::IpInUse => continue,
                r => return r,
            }
        }
        Err(Error::new(
            Code::IpInUse,
            "The subnet's addresses changed while choosing one; retry",
        ))
    }

    /// The next free address a template would get (file 001 `ipaddr`).
    pub fn template_ip_suggest(&self, subnet: &Uuid) -> Result<Ipv4Addr> {
        let s = self.store.subnet_get(subnet)?;
        let used = self
            .store
            .ip_allocations(subnet)?
            .into_iter()
            .map(|x| x.0)
            .collect();
        highest_free(&s.range, &used).ok_or_else(|| {
            Error::new(
                Code::IpNotEnough,
                format!("Subnet `{}` has no free address", s.name),
            )
        })
    }

    pub(crate) fn template_disk_dir(
        &self,
        tpl: &Uuid,
        disk: &Uuid,
        system: bool,
    ) -> Result<PathBuf> {
        let (role, sub) = if system {
            (Role::TemplateSystem, "instances/_base")
        } else {
            (Role::TemplateData, "datas/_base")
        };
        Ok(self
            .role_dir(role, sub)?
            .join(format!("tpl-{tpl}"))
            .join(disk.to_string()))
    }

    /// Validates a create request and answers what would be made; the
    /// work runs in `template_create_run`.
    pub fn template_create_plan(&self, spec: &TemplateSpec) -> Result<Template> {
        if self.store.template_name_taken(&spec.name)? {
            return Err(Error::new(
                Code::TemplateNameExists,
                format!("Template `{}` already exists", spec.name),
            ));
        }
        let pool = self.template_refs_check(spec.pool, spec.network, spec.subnet, &spec.groups)?;
        let node = self.store.local_node()?.ok_or_else(|| {
            Error::new(
                Code::ControllerNotInitialised,
                "The controller is not initialised yet",
            )
        })?;
        let uuid = Uuid::new_v4();
        let (os_type, base, sys_gb) = match (&spec.image, &spec.iso) {
            (Some((img, size)), None) => {
                let i = self.store.image_get(img)?;
                let img_gb = i.virtual_size.div_ceil(GB) as u32;
                if *size != 0 && (*size as u64) * GB < i.virtual_size {
                    return Err(Error::new(
                        Code::DiskShrink,
                        format!("Field `system_disk.size`: {size} GB is smaller than image `{}` ({img_gb} GB)", i.name),
                    ));
                }
                (
                    spec.os_type.clone().unwrap_or(i.os_type.clone()),
                    Some(i.uuid),
                    (*size).max(img_gb),
                )
            }
            (None, Some(iso)) => {
                let i = self.store.iso_get(iso)?;
                (
                    spec.os_type.clone().unwrap_or(i.os_type),
                    None,
                    spec.iso_disk_gb,
                )
            }
            _ => {
                return Err(Error::invalid(
                    "system_disk.image_id",
                    "give a base image, or an ISO to install from",
                ))
            }
        };
        let mut disks = vec![TemplateDisk {
            uuid: Uuid::new_v4(),
            inx: 0,
            size_gb: sys_gb,
            dir: PathBuf::new(),
        }];
        let wanted: Vec<u32> = spec.data_disks.iter().map(|d| d.0).collect();
        for (inx, (_, size)) in data_disk_inx(0, &wanted).into_iter().zip(&spec.data_disks) {
            disks.push(TemplateDisk {
                uuid: Uuid::new_v4(),
                inx,
                size_gb: *size,
                dir: PathBuf::new(),
            });
        }
        for d in &mut disks {
            d.dir = self.template_disk_dir(&uuid, &d.uuid, d.is_system())?;
        }
        let now = self.now_ms();
        Ok(Template {
            uuid,
            seq: self.store.sequence_next()?,
            name: spec.name.clone(),
            desc: spec.desc.clone(),
            owner: spec.owner.clone(),
            os_type,
            classify: spec.classify,
            pool,
            node,
            network: spec.network,
            subnet: spec.subnet,
            bind_ip: spec.bind_ip,
            mac: vmxml::random_mac(),
            vcpu: spec.vcpu,
            ram_mb: spec.ram_mb,
            groups: spec.groups.clone(),
            base_image: base,
            iso: spec.iso,
            disks,
            status: if spec.iso.is_some() {
                Status::Installing
            } else {
                Status::Active
            },
            version: 0,
            versions: Vec::new(),
            ops: Vec::new(),
            spice_password: random_text(24),
            created_at: now,
            updated_at: now,
        })
    }

    /// Turns each disk's working overlay into version `next_version()` and
    /// puts a fresh overlay on top; records the version and an operation.
    pub(crate) async fn template_publish(
        &self,
        t: &mut Template,
        remark: &str,
        op: OpType,
    ) -> Result<()> {
        let n = t.next_version();
        let mut done: Vec<&TemplateDisk> = Vec::new();
        for d in &t.disks {
            let r = async {
                self.disks
                    .rename(&d.work_file(), &d.version_file(n))
                    .await?;
                if let Err(e) = self
                    .disks
                    .create(&d.work_file(), 0, Some(&d.version_file(n)))
                    .await
                {
                    let _ = self.disks.rename(&d.version_file(n), &d.work_file()).await;
                    return Err(e);
                }
                Ok(())
            }
            .await;
            if let Err(e) = r {
                for d in done.iter().rev() {
                    let _ = self.disks.remove(&d.work_file()).await;
                    let _ = self.disks.rename(&d.version_file(n), &d.work_file()).await;
                }
                return Err(e);
            }
            done.push(d);
        }
        let now = self.now_ms();
        t.versions.push(Version {
            number: n,
            parent: t.version,
            remark: remark.to_string(),
            created_at: now,
        });
        t.version = n;
        t.ops.push(Operation {
            uuid: Uuid::new_v4(),
            version: n,
            remark: remark.to_string(),
            op_type: op,
            at: now,
        });
        t.updated_at = now;
        Ok(())
    }

    /// Stops a template: ACPI first, then after the timeout the plug.
    pub(crate) async fn template_halt(&self, t: &Template, graceful: bool) -> Result<()> {
        if self.template_power_state(t).await == PowerState::Off {
            return Ok(());
        }
        if graceful {
            self.hypervisor.power(t.uuid, PowerOp::Shutdown).await?;
            let until = Instant::now() + self.settings.vm_stop_timeout;
            while Instant::now() < until {
                if self.template_power_state(t).await == PowerState::Off {
                    return Ok(());
                }
                smol::Timer::after(Duration::from_millis(200)).await;
            }
            log::info!("template {} ignored ACPI shutdown; powering it off", t.name);
        }
        match self.hypervisor.power(t.uuid, PowerOp::Destroy).await {
            Err(_) if self.template_power_state(t).await == PowerState::Off => Ok(()),
            r => r,
        }
    }

    /// start, stop, hard_stop, reboot, hard_reboot.
    pub async fn template_power(self: &Arc<Self>, uuid: &Uuid, verb: &str) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        let on = self.template_power_state(&t).await != PowerState::Off;
        match (verb, on) {
            ("start" | "edit", true) => {}
            ("start" | "edit", false) => self.hypervisor.power(t.uuid, PowerOp::Start).await?,
            ("stop", _) => self.template_halt(&t, true).await?,
            ("hard_stop", _) => self.template_halt(&t, false).await?,
            ("reboot", true) => self.hypervisor.power(t.uuid, PowerOp::Reboot).await?,
            ("hard_reboot", true) => self.hypervisor.power(t.uuid, PowerOp::Reset).await?,
            ("reboot" | "hard_reboot", false) => return Err(busy_err(&t.name, "is not running")),
            _ => {
                return Err(Error::new(
                    Code::UnknownAction,
                    format!("`{verb}` is not a power action"),
                ))
            }
        }
        if matches!(verb, "stop" | "hard_stop") {
            // What the guest wrote while it ran.
            self.template_usage_note(&t).await;
        }
        Ok(t)
    }

    /// Discards unsaved edits: a fresh overlay on the current version.
    pub async fn template_reset(self: &Arc<Self>, uuid: &Uuid) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        if t.version == 0 {
            return Err(busy_err(&t.name, "has no saved version to go back to"));
        }
        self.template_halt(&t, false).await?;
        for d in &t.disks {
            self.disks.remove(&d.work_file()).await?;
            self.disks
                .create(&d.work_file(), 0, Some(&d.version_file(t.version)))
                .await?;
        }
        self.template_usage_note(&t).await;
        Ok(t)
    }

    /// Loads (`Some`) or ejects (`None`) an ISO.
    pub async fn template_cdrom(
        self: &Arc<Self>,
        uuid: &Uuid,
        iso: Option<Uuid>,
    ) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        let path = match iso {
            Some(i) => Some(self.store.iso_get(&i)?.path),
            None => None,
        };
        let t = self.store.template_update(uuid, &|mut t| {
            t.iso = iso;
            t.updated_at = self.now_ms();
            Ok(t)
        })?;
        self.template_define(&t).await?;
        if self.template_power_state(&t).await == PowerState::Running {
            self.hypervisor
                .update_device(t.uuid, vmxml::cdrom_xml(path.as_deref(), None))
                .await?;
        }
        self.store.flush().await?;
        Ok(t)
    }

    /// A one-time SPICE ticket for a running template (online editing).
    pub async fn template_console(self: &Arc<Self>, uuid: &Uuid, via: &str) -> Result<Console> {
        let t = self.store.template_get(uuid)?;
        let owner = crate::service::console::Owner::Template;
        self.spice_ticket(t.uuid, &t.node, &t.name, via, owner)
            .await?
            .ok_or_else(|| busy_err(&t.name, "is not running; start it (or `edit`) first"))
    }

    /// Deletes a template nothing uses: the record first (atomically with
    /// the use check), then the domain, the files and the address.
    pub async fn template_delete(self: &Arc<Self>, uuid: &Uuid) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        let t = self.store.template_delete(uuid)?;
        self.store.flush().await?;
        self.template_usage_forget(&t);
        self.template_files_remove(&t).await;
        Ok(t)
    }

    /// Removes a deleted template's domain, directories and address
    /// (problems are logged: the start-up sweep retries).
    pub(crate) async fn template_files_remove(&self, t: &Template) {
        if let Err(e) = self.hypervisor.undefine(t.uuid).await {
            log::warn!("template {}: domain stays defined: {e}", t.uuid);
        }
        for d in &t.disks {
            if let Some(top) = d.dir.parent() {
                if let Err(e) = self.disks.remove(top).await {
                    log::warn!("template {}: files stay in {}: {e}", t.uuid, top.display());
                }
                self.nodes_files_forget(&t.pool, &[top.to_path_buf()]).await;
            }
        }
        if let (Some(s), Some(ip)) = (t.subnet, t.bind_ip) {
            let _ = self.store.ip_release(&s, ip);
        }
    }
}
