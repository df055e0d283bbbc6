//! Changing templates: attribute updates (PUT: names, links, address,
//! vcpu/ram, disks grown or added) and copies of a template's current
//! version into a new template.

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::template::{data_disk_inx, Status, Template, TemplateDisk};
use crate::domain::vmxml;
use crate::error::{Code, Error, Result};
use crate::host::PowerState;
use crate::service::template::{busy_err, random_text, TemplatePatch, TemplateSpec, GB};
use crate::service::Services;

impl Services {
    /// Applies a PUT: names and links in the record, disks grown or added
    /// (the template must be off for disk changes), then the domain redefined.
    pub async fn template_update(
        self: &Arc<Self>,
        uuid: &Uuid,
        p: TemplatePatch,
    ) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        let _g = self.template_lock(&t)?;
        let network = p.network.unwrap_or(t.network);
        let subnet = p
            .subnet
            .unwrap_or(if p.network.is_some() && network != t.network {
                None
            } else {
                t.subnet
            });
        let groups = p.groups.clone().unwrap_or(t.groups.clone());
        self.template_refs_check(Some(t.pool), network, subnet, &groups)?;
        let disk_change = !p.grow.is_empty() || !p.add.is_empty();
        if disk_change && self.template_power_state(&t).await != PowerState::Off {
            return Err(busy_err(
                &t.name,
                "is running; stop it before changing its disks",
            ));
        }
        for (d, size) in &p.grow {
            let disk = t.disks.iter().find(|x| x.uuid == *d).ok_or_else(|| {
                Error::invalid("devices.uuid", format!("template has no disk {d}"))
            })?;
            if *size < disk.size_gb {
                return Err(Error::new(
                    Code::DiskShrink,
                    format!(
                        "Field `devices.size`: disk {d} is {} GB; disks only grow",
                        disk.size_gb
                    ),
                ));
            }
        }
        // The address: release the old one after the new one is taken.
        let ip_changed = subnet != t.subnet || p.bind_ip.is_some_and(|b| b != t.bind_ip);
        let mut new_ip = t.bind_ip;
        if ip_changed {
            new_ip = match subnet {
                Some(s) => Some(self.template_ip(&s, &t.uuid, p.bind_ip.flatten())?),
                None => None,
            };
        }
        let mut added = Vec::new();
        let last = t.disks.iter().map(|d| d.inx).max().unwrap_or(0);
        let wanted: Vec<u32> = p.add.iter().map(|a| a.0).collect();
        for (inx, (_, size)) in data_disk_inx(last, &wanted).into_iter().zip(&p.add) {
            let id = Uuid::new_v4();
            let d = TemplateDisk {
                uuid: id,
                inx,
                size_gb: *size,
                dir: self.template_disk_dir(&t.uuid, &id, false)?,
            };
            self.disks.mkdir(&d.dir).await?;
            self.disks
                .create(&d.work_file(), *size as u64 * GB, None)
                .await?;
            added.push(d);
        }
        for (d, size) in &p.grow {
            if let Some(disk) = t.disks.iter().find(|x| x.uuid == *d) {
                if *size > disk.size_gb {
                    self.disks
                        .resize(&disk.work_file(), *size as u64 * GB)
                        .await?;
                }
            }
        }
        let out = self.store.template_update(uuid, &|mut t| {
            if let Some(n) = &p.name {
                t.name = n.clone();
            }
            if let Some(d) = &p.desc {
                t.desc = d.clone();
            }
            t.network = network;
            t.subnet = subnet;
            t.bind_ip = new_ip;
            if let Some(v) = p.vcpu {
                t.vcpu = v;
            }
            if let Some(r) = p.ram_mb {
                t.ram_mb = r;
            }
            t.groups = groups.clone();
            for (d, size) in &p.grow {
                if let Some(x) = t.disks.iter_mut().find(|x| x.uuid == *d) {
                    x.size_gb = *size;
                }
            }
            t.disks.extend(added.iter().cloned());
            t.updated_at = self.now_ms();
            Ok(t)
        });
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                for d in &added {
                    let _ = self.disks.remove(&d.dir).await;
                }
                if ip_changed {
                    if let (Some(s), Some(ip)) = (subnet, new_ip) {
                        let _ = self.store.ip_release(&s, ip);
                    }
                }
                return Err(e);
            }
        };
        if ip_changed {
            if let (Some(s), Some(ip)) = (t.subnet, t.bind_ip) {
                let _ = self.store.ip_release(&s, ip);
            }
        }
        self.template_define(&out).await?;
        self.store.flush().await?;
        if disk_change {
            self.template_usage_note(&out).await;
        }
        Ok(out)
    }

    /// Copies a template's current version into a new template.
    pub fn template_copy_plan(&self, src: &Template, spec: &TemplateSpec) -> Result<Template> {
        if src.version == 0 {
            return Err(busy_err(&src.name, "has no saved version to copy"));
        }
        if self.store.template_name_taken(&spec.name)? {
            return Err(Error::new(
                Code::TemplateNameExists,
                format!("Template `{}` already exists", spec.name),
            ));
        }
        let pool = self.template_refs_check(
            spec.pool.or(Some(src.pool)),
            spec.network,
            spec.subnet,
            &spec.groups,
        )?;
        let uuid = Uuid::new_v4();
        let mut t = src.clone();
        t.uuid = uuid;
        t.seq = self.store.sequence_next()?;
        t.name = spec.name.clone();
        t.desc = spec.desc.clone();
        t.owner = spec.owner.clone();
        t.pool = pool;
        t.network = spec.network;
        t.subnet = spec.subnet;
        t.bind_ip = spec.bind_ip;
        t.groups = spec.groups.clone();
        t.mac = vmxml::random_mac();
        t.iso = None;
        t.status = Status::Active;
        t.version = 0;
        t.versions = Vec::new();
        t.ops = Vec::new();
        t.spice_password = random_text(24);
        t.created_at = self.now_ms();
        t.updated_at = t.created_at;
        for d in &mut t.disks {
            d.uuid = Uuid::new_v4();
            d.dir = self.template_disk_dir(&uuid, &d.uuid, d.is_system())?;
        }
        Ok(t)
    }
}
