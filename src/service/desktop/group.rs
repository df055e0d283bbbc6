//! Desktop groups: create (plan, then disks and domains as a task with
//! undo), add and delete desktops, group-wide power, activate, default,
//! update and delete. Personal hand-outs are in `desktop_personal`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;

use uuid::Uuid;

use crate::domain::desktop::{
    ip_holder, numbering, place, seat_holder_prefix, Assign, DataRestore, Desktop, DesktopDisk,
    DesktopGroup, Kind, NodeRoom, Phase, Status,
};
use crate::domain::group::GroupType;
use crate::domain::storage::Role;
use crate::domain::template::{Status as TemplateStatus, Template};
use crate::domain::vmxml;
use crate::error::{Code, Error, Result};
use crate::service::desktop::sagas::{
    DesktopGroupCreate, DesktopGroupDelete, DesktopsAdd, DesktopsDelete,
};
use crate::service::desktop::{updating_err, Outcome, Power};
use crate::service::task::TaskHandle;
use crate::service::template::BusyGuard;
use crate::service::Services;
use crate::store::IpReq;

/// A new desktop group as the request gives it (validated at the edge).
#[derive(Clone, Debug)]
pub struct DesktopGroupSpec {
    pub name: String,
    pub kind: Kind,
    pub owner: String,
    pub classroom: Option<Uuid>,
    pub template: Uuid,
    pub pool: Option<Uuid>,
    pub network: Option<Uuid>,
    pub subnet: Option<Uuid>,
    pub vcpu: Option<u32>,
    pub ram_mb: Option<u64>,
    pub sys_restore: bool,
    pub data_restore: DataRestore,
    /// `None`: one desktop per seat of the classroom's terminal range.
    pub count: Option<u32>,
    pub prefix: String,
    pub postfix: u32,
    pub postfix_start: u32,
    pub create_info: BTreeMap<String, u32>,
    pub use_bottom_ip: bool,
    pub ip_start: Option<Ipv4Addr>,
    pub show_info: bool,
    pub auto_update: bool,
    pub assign: Option<Assign>,
    pub user_groups: Vec<Uuid>,
    /// Static groups: the users of the first desktops, in order.
    pub allocates: Vec<Uuid>,
}

/// A change of a group's attributes; `None` keeps the value.
#[derive(Clone, Debug, Default)]
pub struct DesktopGroupPatch {
    pub name: Option<String>,
    pub sys_restore: Option<bool>,
    pub data_restore: Option<DataRestore>,
    pub show_info: Option<bool>,
    pub auto_update: Option<bool>,
    pub use_bottom_ip: Option<bool>,
    pub maintenance: Option<bool>,
    pub user_groups: Option<Vec<Uuid>>,
}

/// A planned group: the record and its desktops with their address asks.
pub struct Plan {
    pub group: DesktopGroup,
    pub desktops: Vec<(Desktop, Option<IpReq>)>,
}

/// Largest group (and largest addition) accepted at once.
pub const MAX_DESKTOPS: u32 = 1000;

impl Services {
    pub fn desktop_group_get(&self, uuid: &Uuid) -> Result<DesktopGroup> {
        self.store.desktop_group_get(uuid)
    }

    pub fn desktop_group_list(&self) -> Result<Vec<DesktopGroup>> {
        self.store.desktop_group_list()
    }

    pub fn desktops_of(&self, group: &Uuid) -> Result<Vec<Desktop>> {
        self.store.desktops_of(group)
    }

    /// Marks a group busy for one group-wide operation.
    pub(crate) fn desktop_group_lock(&self, g: &DesktopGroup) -> Result<BusyGuard> {
        self.desktop_group_busy.try_mark(g.uuid)?.ok_or_else(|| {
            Error::new(
                Code::DesktopBusy,
                format!("Desktop group `{}` has another operation running", g.name),
            )
        })
    }

    /// Nodes of `pool` that run desktops, with the memory and disk they
    /// can still give (RAM × `memory_overcommit`, less 1 GiB for the host
    /// and less the desktops running there now).
    pub(crate) fn desktop_rooms(&self, pool: &Uuid) -> Result<Vec<NodeRoom>> {
        let groups: BTreeMap<Uuid, u64> = self
            .store
            .desktop_group_list()?
            .into_iter()
            .map(|g| (g.uuid, g.ram_mb))
            .collect();
        let running: Vec<Desktop> = self
            .store
            .desktop_list()?
            .into_iter()
            .filter(|d| d.status == Status::Active)
            .collect();
        let usage = self.node_storage_list()?;
        let local = self.store.local_node()?;
        let now = self.now_ms();
        Ok(self
            .store
            .node_list()?
            .into_iter()
            .filter(|n| n.role.is_compute() && n.pool == Some(*pool))
            // A joined node takes desktops while it is up.
            .filter(|n| {
                local == Some(n.uuid) || self.monitor_node_up(&n.uuid, now).unwrap_or(false)
            })
            .map(|n| {
                let used: u64 = running
                    .iter()
                    .filter(|d| d.node == n.uuid)
                    .map(|d| groups.get(&d.group).copied().unwrap_or(0))
                    .sum();
                let free_disk = usage
                    .iter()
                    .find(|u| u.storage.node == n.uuid && u.storage.roles.has(Role::DesktopSystem))
                    .map(|u| u.available_bytes)
                    .filter(|a| *a > 0);
                NodeRoom {
                    uuid: n.uuid,
                    ip: n.ip.clone(),
                    free_mb: (((n.inventory.memory_bytes >> 20) as f64
                        * self.settings.memory_overcommit) as u64)
                        .saturating_sub(1024)
                        .saturating_sub(used),
                    free_disk,
                }
            })
            .collect())
    }

    /// The template a group clones, refused while it is being updated or
    /// has no version yet.
    pub(crate) fn desktop_template(&self, uuid: &Uuid) -> Result<Template> {
        let t = self.store.template_get(uuid)?;
        if t.status == TemplateStatus::Updating {
            return Err(updating_err(&t));
        }
        if t.version == 0 {
            return Err(Error::new(
                Code::TemplateBusy,
                format!(
                    "Template `{}` has no version yet; finish installing it (iso_save) first",
                    t.name
                ),
            ));
        }
        Ok(t)
    }

    /// Validates a create request and answers the group and desktops that
    /// would be made; `desktop_group_create_run` makes them.
    pub fn desktop_group_create_plan(&self, spec: &DesktopGroupSpec) -> Result<Plan> {
        if self.store.desktop_group_name_taken(&spec.name)? {
            return Err(Error::new(
                Code::DesktopGroupNameExists,
                format!("Desktop group `{}` already exists", spec.name),
            ));
        }
        let t = self.desktop_template(&spec.template)?;
        let room = match (spec.kind, spec.classroom) {
            (Kind::Education, None) => return Err(Error::missing("group_uuid")),
            (_, Some(c)) => {
                let g = self.store.group_get(&c)?;
                if g.kind != GroupType::Education {
                    return Err(Error::invalid(
                        "group_uuid",
                        format!("group `{}` is not an education group (classroom)", g.name),
                    ));
                }
                Some(g)
            }
            (Kind::Personal, None) => None,
        };
        for ug in &spec.user_groups {
            if self.store.group_get(ug)?.kind != GroupType::Personal {
                return Err(Error::invalid(
                    "groups",
                    format!("group {ug} is not a user group"),
                ));
            }
        }
        let network = spec
            .network
            .or(room.as_ref().and_then(|r| r.network))
            .or(t.network);
        // Personal desktops without a subnet take DHCP on the network.
        let subnet = match spec.subnet {
            Some(s) => Some(s),
            None if spec.network.is_some() || spec.kind == Kind::Personal => None,
            None => room.as_ref().and_then(|r| r.subnet).or(t.subnet),
        };
        if let (Some(ip), None) = (spec.ip_start, subnet) {
            return Err(Error::invalid(
                "ip_detail.start_ip",
                format!("{ip} needs a subnet for the group"),
            ));
        }
        if let (Some(ip), Some(s)) = (spec.ip_start, subnet) {
            let sub = self.store.subnet_get(&s)?;
            if !sub.range.contains(ip) {
                return Err(Error::new(
                    Code::IpNotInRange,
                    format!(
                        "{ip} is outside subnet `{}` ({}-{})",
                        sub.name, sub.range.start, sub.range.end
                    ),
                ));
            }
        }
        if let Some(n) = &network {
            self.store.network_get(n)?;
        }
        if let Some(s) = &subnet {
            if Some(self.store.subnet_get(s)?.network) != network {
                return Err(Error::invalid(
                    "subnet_uuid",
                    format!("subnet {s} does not belong to the network of the group"),
                ));
            }
        }
        let pool = match spec.pool {
            Some(p) => self.store.pool_get(&p)?.uuid,
            None => t.pool,
        };
        let count = match spec.count {
            Some(n) => n,
            None => room
                .as_ref()
                .and_then(|r| r.range)
                .map(|r| r.len() as u32)
                .ok_or_else(|| Error::missing("instance_num"))?,
        };
        if count == 0 || count > MAX_DESKTOPS {
            return Err(Error::invalid(
                "instance_num",
                format!("must be 1 to {MAX_DESKTOPS}"),
            ));
        }
        let vcpu = spec.vcpu.unwrap_or(t.vcpu);
        let ram_mb = spec.ram_mb.unwrap_or(t.ram_mb);
        let now = self.now_ms();
        let group = DesktopGroup {
            uuid: Uuid::new_v4(),
            seq: self.store.sequence_next()?,
            name: spec.name.clone(),
            kind: spec.kind,
            owner: spec.owner.clone(),
            classroom: spec.classroom,
            template: t.uuid,
            pool,
            network,
            subnet,
            vcpu,
            ram_mb,
            sys_restore: spec.sys_restore,
            data_restore: spec.data_restore,
            prefix: spec.prefix.clone(),
            postfix: spec.postfix,
            postfix_start: spec.postfix_start,
            active: false,
            default: false,
            show_info: spec.show_info,
            auto_update: spec.auto_update,
            use_bottom_ip: spec.use_bottom_ip,
            ip_start: spec.ip_start,
            assign: spec.assign,
            user_groups: spec.user_groups.clone(),
            maintenance: false,
            order_num: self.store.desktop_group_list()?.len() as u32 + 1,
            phase: Phase::Building,
            created_at: now,
            updated_at: now,
        };
        let desktops = self.desktops_plan(&group, &t, &[], count, &spec.create_info)?;
        if spec.allocates.len() > desktops.len() {
            return Err(Error::invalid(
                "allocates",
                format!(
                    "{} users for {} desktops",
                    spec.allocates.len(),
                    desktops.len()
                ),
            ));
        }
        let mut desktops = desktops;
        for ((d, _), user) in desktops.iter_mut().zip(&spec.allocates) {
            self.store.user_get(user)?;
            d.user = Some(*user);
        }
        Ok(Plan { group, desktops })
    }

    /// `count` new desktops of `g` after `existing`, placed and named.
    fn desktops_plan(
        &self,
        g: &DesktopGroup,
        t: &Template,
        existing: &[Desktop],
        count: u32,
        create_info: &BTreeMap<String, u32>,
    ) -> Result<Vec<(Desktop, Option<IpReq>)>> {
        let rooms = self.desktop_rooms(&g.pool)?;
        let nodes = place(&rooms, create_info, count, g.ram_mb)
            .map_err(|m| Error::new(Code::NodeOverCapacity, m))?;
        let pairs: Vec<(u32, u32)> = existing.iter().map(|d| (d.number, d.seat)).collect();
        let mut macs: BTreeSet<String> = self
            .store
            .desktop_list()?
            .into_iter()
            .map(|d| d.mac)
            .collect();
        let sys_dir = self.role_dir(Role::DesktopSystem, "instances")?;
        let data_dir = if g.data_restore != DataRestore::None && t.disks.len() > 1 {
            Some(self.role_dir(Role::DesktopData, "datas")?)
        } else {
            None
        };
        let now = self.now_ms();
        let mut out = Vec::new();
        for ((number, seat), node) in numbering(&pairs, count, g.postfix_start)
            .into_iter()
            .zip(nodes)
        {
            let uuid = Uuid::new_v4();
            let mut mac = vmxml::random_mac();
            while !macs.insert(mac.clone()) {
                mac = vmxml::random_mac();
            }
            let mut disks = Vec::new();
            for td in &t.disks {
                let dir = match (td.is_system(), &data_dir) {
                    (true, _) => &sys_dir,
                    (false, Some(d)) => d,
                    (false, None) => continue,
                };
                disks.push(DesktopDisk {
                    template_disk: td.uuid,
                    inx: td.inx,
                    path: dir
                        .join(uuid.to_string())
                        .join(format!("disk-{}.qcow2", td.uuid)),
                    version: t.version,
                });
            }
            let d = Desktop {
                uuid,
                seq: self.store.sequence_next()?,
                group: g.uuid,
                name: g.desktop_name(number),
                number,
                seat,
                node,
                ip: None,
                mac,
                user: None,
                status: Status::Inactive,
                started_at: None,
                disks,
                spice_password: Self::desktop_password(),
                terminal_mac: String::new(),
                terminal_ip: String::new(),
                phase: Phase::Building,
                created_at: now,
            };
            let req = match (g.subnet, g.use_bottom_ip) {
                (Some(subnet), false) => Some(IpReq {
                    subnet,
                    holder: ip_holder(g.classroom, seat, &uuid),
                    share: match (g.classroom, g.ip_start) {
                        (Some(c), None) => Some(seat_holder_prefix(&c, seat)),
                        _ => None,
                    },
                    from: g.ip_start,
                }),
                _ => None,
            };
            out.push((d, req));
        }
        Ok(out)
    }

    /// Makes a planned group as a saga (`desktop_saga`): records first,
    /// marked as being built, then every desktop's overlays and domain; a
    /// failure undoes all of it and names the desktops.
    pub async fn desktop_group_create_run(
        self: &Arc<Self>,
        plan: Plan,
        task: &TaskHandle,
    ) -> Result<DesktopGroup> {
        let mut saga = DesktopGroupCreate::new(plan);
        self.saga_run(&mut saga, task).await?;
        saga.group()
    }

    /// Overlays and domains of recorded desktops, then marks them ready.
    pub(crate) async fn desktops_build(
        self: &Arc<Self>,
        g: &DesktopGroup,
        list: Vec<Desktop>,
        task: &TaskHandle,
    ) -> Result<()> {
        let (gg, t) = (g.clone(), self.store.template_get(&g.template)?);
        let out = self
            .desktops_each(list.clone(), Some(task), "made", move |s, d| {
                let (g, t) = (gg.clone(), t.clone());
                async move {
                    let disks = s.dk(&d.node)?;
                    for disk in &d.disks {
                        if let Some(dir) = disk.path.parent() {
                            disks.mkdir(dir).await?;
                        }
                    }
                    let d = s.desktop_disks_prepare(&d, &g, &t).await?;
                    s.hv(&d.node)?
                        .define(s.desktop_vm_spec(&d, &g, &t).to_xml())
                        .await
                }
            })
            .await;
        if out.failed_num > 0 {
            return Err(Error::new(
                Code::HypervisorFailed,
                format!(
                    "{} of {} desktops could not be made, nothing was kept: {}",
                    out.failed_num,
                    list.len(),
                    out.failed.join("; ")
                ),
            ));
        }
        for d in &list {
            self.store.desktop_update(&d.uuid, &|mut x| {
                x.phase = Phase::Ready;
                Ok(x)
            })?;
        }
        self.store.flush().await?;
        Ok(())
    }

    /// Undefines desktops, removes their disk directories, forgets them and
    /// gives their addresses back (best effort on the host side; logged).
    pub(crate) async fn desktops_remove(&self, g: &DesktopGroup, list: &[Desktop]) {
        self.desktops_unmake(list).await;
        if let Err(e) = self.desktops_forget(g, list) {
            log::error!("desktop group {}: cannot forget desktops: {e}", g.name);
        }
    }

    /// The store side of removing desktops: their records go and their
    /// addresses and seats are given back.
    pub(crate) fn desktops_forget(&self, g: &DesktopGroup, list: &[Desktop]) -> Result<()> {
        let ids: Vec<Uuid> = list.iter().map(|d| d.uuid).collect();
        self.store.desktops_delete(&ids, g.classroom, g.subnet)
    }

    /// The host side of removing desktops: domains undefined, disk
    /// directories removed (best effort, logged; the start-up sweep removes
    /// what no record names).
    pub(crate) async fn desktops_unmake(&self, list: &[Desktop]) {
        for d in list {
            let (hv, disks) = match (self.hv(&d.node), self.dk(&d.node)) {
                (Ok(hv), Ok(disks)) => (hv, disks),
                (Err(e), _) | (_, Err(e)) => {
                    log::warn!("desktop {}: its node cannot be reached: {e}", d.name);
                    continue;
                }
            };
            if let Err(e) = hv.undefine(d.uuid).await {
                log::warn!("desktop {}: undefine: {e}", d.name);
            }
            for disk in &d.disks {
                if let Some(dir) = disk.path.parent() {
                    if let Err(e) = disks.remove(dir).await {
                        log::warn!("desktop {}: remove {}: {e}", d.name, dir.display());
                    }
                }
            }
        }
    }

    /// Adds `count` desktops to a group (numbers and seats continue), as a
    /// saga (`sagas::DesktopsAdd`): record, then build; a failure or a
    /// crash takes back the desktops it added.
    pub async fn desktops_add(
        self: &Arc<Self>,
        group: &Uuid,
        count: u32,
        create_info: &BTreeMap<String, u32>,
        task: &TaskHandle,
    ) -> Result<Vec<Desktop>> {
        let g = self.store.desktop_group_get(group)?;
        let _lock = self.desktop_group_lock(&g)?;
        if g.phase != Phase::Ready {
            return Err(building(&g));
        }
        if count == 0 || count > MAX_DESKTOPS {
            return Err(Error::invalid(
                "instance_num",
                format!("must be 1 to {MAX_DESKTOPS}"),
            ));
        }
        let t = self.desktop_template(&g.template)?;
        let existing = self.store.desktops_of(&g.uuid)?;
        let plan = self.desktops_plan(&g, &t, &existing, count, create_info)?;
        let mut saga = DesktopsAdd::new(g.uuid, plan);
        self.saga_run(&mut saga, task).await?;
        Ok(saga.made())
    }

    /// Deletes desktops of a group (they must be off), as a saga
    /// (`sagas::DesktopsDelete`): mark, remove, forget.
    pub async fn desktops_delete(
        self: &Arc<Self>,
        group: &Uuid,
        ids: &[Uuid],
        task: &TaskHandle,
    ) -> Result<Outcome> {
        let g = self.store.desktop_group_get(group)?;
        // No add or group delete runs beside it, and none of its desktops
        // has another operation running.
        let _lock = self.desktop_group_lock(&g)?;
        if g.phase != Phase::Ready {
            return Err(building(&g));
        }
        let _locks = self
            .desktops_pick(&g, ids)?
            .iter()
            .map(|d| self.desktop_lock(d))
            .collect::<Result<Vec<_>>>()?;
        // Read again under the locks: a start that came first counts.
        let list = self.desktops_pick(&g, ids)?;
        refuse_running(&list)?;
        let mut saga = DesktopsDelete::new(g.uuid, &list);
        self.saga_run(&mut saga, task).await?;
        Ok(Outcome {
            success_num: list.len() as u32,
            ..Outcome::default()
        })
    }

    /// The desktops of `g` named by `ids` (all of them when empty).
    pub fn desktops_pick(&self, g: &DesktopGroup, ids: &[Uuid]) -> Result<Vec<Desktop>> {
        let all = self.store.desktops_of(&g.uuid)?;
        if ids.is_empty() {
            return Ok(all);
        }
        ids.iter()
            .map(|id| {
                all.iter().find(|d| d.uuid == *id).cloned().ok_or_else(|| {
                    Error::new(
                        Code::DesktopNotFound,
                        format!("Desktop {id} is not in group `{}`", g.name),
                    )
                })
            })
            .collect()
    }

    /// A power verb on desktops of a group (all when `ids` is empty).
    pub async fn desktop_group_power(
        self: &Arc<Self>,
        group: &Uuid,
        ids: &[Uuid],
        verb: Power,
        task: Option<&TaskHandle>,
    ) -> Result<Outcome> {
        let g = self.store.desktop_group_get(group)?;
        if g.phase != Phase::Ready {
            return Err(building(&g));
        }
        if verb != Power::Stop && verb != Power::HardStop {
            self.desktop_template(&g.template)?;
        }
        let list = self.desktops_pick(&g, ids)?;
        self.desktops_power(list, verb, task).await
    }

    /// Deletes a group whose desktops are all off: domains, disks (data
    /// disks too), addresses and the record.
    /// Deletes a group and its desktops as a saga (`desktop_saga`).
    pub async fn desktop_group_delete(
        self: &Arc<Self>,
        uuid: &Uuid,
        task: &TaskHandle,
    ) -> Result<DesktopGroup> {
        let g = self.store.desktop_group_get(uuid)?;
        let _lock = self.desktop_group_lock(&g)?;
        let list = self.store.desktops_of(&g.uuid)?;
        refuse_running(&list)?;
        if let Some(users) = self.store.desktop_group_users(&g.uuid)? {
            return Err(Error::new(
                Code::DesktopGroupInUse,
                format!("Desktop group `{}` is used by {users}", g.name),
            ));
        }
        let mut saga = DesktopGroupDelete::new(g.uuid);
        self.saga_run(&mut saga, task).await?;
        saga.group()
    }

    /// Renames or changes flags of a group.
    pub async fn desktop_group_update(
        &self,
        uuid: &Uuid,
        p: &DesktopGroupPatch,
    ) -> Result<DesktopGroup> {
        if let Some(ugs) = &p.user_groups {
            for ug in ugs {
                if self.store.group_get(ug)?.kind != GroupType::Personal {
                    return Err(Error::invalid(
                        "groups",
                        format!("group {ug} is not a user group"),
                    ));
                }
            }
        }
        let out = self.store.desktop_group_update(uuid, &|mut g| {
            if let Some(n) = &p.name {
                g.name = n.clone();
            }
            if let Some(v) = p.sys_restore {
                g.sys_restore = v;
            }
            if let Some(v) = p.data_restore {
                if (v == DataRestore::None) != (g.data_restore == DataRestore::None) {
                    return Err(Error::invalid(
                        "data_restore",
                        "2 (no data disk) is chosen at creation and cannot be switched",
                    ));
                }
                g.data_restore = v;
            }
            if let Some(v) = p.show_info {
                g.show_info = v;
            }
            if let Some(v) = p.auto_update {
                g.auto_update = v;
            }
            if let Some(v) = p.use_bottom_ip {
                g.use_bottom_ip = v;
            }
            if let Some(v) = p.maintenance {
                g.maintenance = v;
            }
            if let Some(v) = &p.user_groups {
                g.user_groups = v.clone();
            }
            g.updated_at = self.now_ms();
            Ok(g)
        })?;
        self.store.flush().await?;
        Ok(out)
    }

    /// Shows a group to terminals, or hides it.
    pub async fn desktop_group_activate(&self, uuid: &Uuid, active: bool) -> Result<DesktopGroup> {
        let out = self.store.desktop_group_update(uuid, &|mut g| {
            if g.phase != Phase::Ready {
                return Err(building(&g));
            }
            g.active = active;
            g.updated_at = self.now_ms();
            Ok(g)
        })?;
        self.store.flush().await?;
        Ok(out)
    }

    /// Makes a group its classroom's default (the previous one stops being).
    pub async fn desktop_group_default(&self, uuid: &Uuid) -> Result<DesktopGroup> {
        let g = self.store.desktop_group_get(uuid)?;
        for other in self.store.desktop_group_list()? {
            if other.uuid != g.uuid && other.default && other.classroom == g.classroom {
                self.store.desktop_group_update(&other.uuid, &|mut x| {
                    x.default = false;
                    Ok(x)
                })?;
            }
        }
        let out = self.store.desktop_group_update(uuid, &|mut x| {
            x.default = true;
            Ok(x)
        })?;
        self.store.flush().await?;
        Ok(out)
    }
}

fn building(g: &DesktopGroup) -> Error {
    Error::new(
        Code::DesktopBusy,
        format!("Desktop group `{}` is being made or deleted", g.name),
    )
}

fn refuse_running(list: &[Desktop]) -> Result<()> {
    let running: Vec<&str> = list
        .iter()
        .filter(|d| d.status == Status::Active)
        .map(|d| d.name.as_str())
        .collect();
    if running.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = running.iter().take(5).copied().collect();
    Err(Error::new(
        Code::DesktopRunning,
        format!(
            "{} desktops are running ({}{}); stop them first",
            running.len(),
            shown.join(", "),
            if running.len() > 5 { ", …" } else { "" }
        ),
    ))
}
