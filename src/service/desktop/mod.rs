//! Desktops one at a time: their libvirt description, disk preparation
//! with restore, start / stop / reboot with the classroom seat rule, and the
//! runner that handles many desktops with bounded parallelism per node.

pub mod group;
pub mod personal;
pub mod run;
pub mod sagas;
pub mod state;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use uuid::Uuid;

use super::task::TaskHandle;
use super::template::{random_text, BusyGuard};
use super::Services;
use crate::domain::desktop::{recreate_at_start, Desktop, DesktopGroup, Phase, Status};
use crate::domain::template::{Status as TemplateStatus, Template};
use crate::domain::vmxml::{self, DiskSpec, OsFamily, SpiceSpec, VmSpec};
use crate::error::{Code, Error, Result};
use crate::host::{PowerOp, PowerState};

/// What a batch of desktop operations did: counts for file 001 replies and
/// the reasons of the failed ones.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    pub success_num: u32,
    pub failed_num: u32,
    /// `name: reason` of each failed desktop.
    pub failed: Vec<String>,
    /// The first failure itself (a batch of one answers it).
    #[serde(skip)]
    pub first_error: Option<Error>,
}

/// Each desktop's name and how its operation ended.
type Ends = Vec<(String, Result<()>)>;

/// A power verb of the desktop API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Start,
    Stop,
    HardStop,
    Reboot,
    HardReboot,
}

impl Power {
    pub fn parse(verb: &str) -> Option<Power> {
        Some(match verb {
            "start" => Power::Start,
            "stop" => Power::Stop,
            "hard_stop" => Power::HardStop,
            "reboot" => Power::Reboot,
            "hard_reboot" => Power::HardReboot,
            _ => return None,
        })
    }

    /// The verb as the API names it (`parse` reads it back).
    pub fn verb(self) -> &'static str {
        match self {
            Power::Start => "start",
            Power::Stop => "stop",
            Power::HardStop => "hard_stop",
            Power::Reboot => "reboot",
            Power::HardReboot => "hard_reboot",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Power::Start => "started",
            Power::Stop | Power::HardStop => "stopped",
            Power::Reboot | Power::HardReboot => "restarted",
        }
    }
}

pub(crate) fn updating_err(t: &Template) -> Error {
    Error::new(
        Code::TemplateUpdating,
        format!(
            "Template `{}` is being updated; desktop operations wait for it",
            t.name
        ),
    )
}

impl Services {
    /// Marks a desktop busy for one operation.
    pub(crate) fn desktop_lock(&self, d: &Desktop) -> Result<BusyGuard> {
        self.desktop_busy.try_mark(d.uuid)?.ok_or_else(|| {
            Error::new(
                Code::DesktopBusy,
                format!("Desktop `{}` has another operation running", d.name),
            )
        })
    }

    /// The libvirt description of a desktop.
    pub fn desktop_vm_spec(&self, d: &Desktop, g: &DesktopGroup, t: &Template) -> VmSpec {
        let mut disks: Vec<_> = d.disks.iter().collect();
        disks.sort_by_key(|x| x.inx);
        VmSpec {
            name: d.domain_name(),
            uuid: d.uuid,
            domain_type: self.settings.domain_type.clone(),
            vcpu: g.vcpu,
            ram_mb: g.ram_mb,
            os: OsFamily::of(&t.os_type),
            disks: disks
                .iter()
                .enumerate()
                .map(|(i, x)| DiskSpec {
                    path: x.path.clone(),
                    dev: vmxml::disk_dev(i),
                    boot: x.is_system().then_some(1),
                })
                .collect(),
            cdrom: None,
            cdrom_boot: false,
            bridge: g.network.map(|n| crate::domain::net::bridge_name(&n)),
            mac: d.mac.clone(),
            spice: SpiceSpec {
                listen: self.graphics_listen(),
                password: d.spice_password.clone(),
                // Terminals get a short-lived ticket; this never opens.
                valid_to_ms: 0,
            },
            description: format!("vdi-appliance desktop {} of group {}", d.name, g.name),
        }
    }

    /// Makes the overlays a start needs: a missing one, one the group
    /// restores, or one on a version no longer kept is made afresh on the
    /// template's current version (or, without `auto_update`, on the
    /// version it had while that is kept). Returns the disks as they are.
    pub(crate) async fn desktop_disks_prepare(
        &self,
        d: &Desktop,
        g: &DesktopGroup,
        t: &Template,
    ) -> Result<Desktop> {
        let mut d = d.clone();
        let disks = self.dk(&d.node)?;
        for disk in &mut d.disks {
            let Some(td) = t.disks.iter().find(|x| x.uuid == disk.template_disk) else {
                return Err(Error::new(
                    Code::TemplateBusy,
                    format!(
                        "Template `{}` no longer has the disk desktop `{}` clones",
                        t.name, d.name
                    ),
                ));
            };
            let exists = disks.exists(&disk.path).await?;
            let kept = t.has_version(disk.version);
            if !recreate_at_start(g.restores(disk.is_system()), exists, kept) {
                continue;
            }
            let version = if g.auto_update || !kept {
                t.version
            } else {
                disk.version
            };
            let fresh = disk.path.with_extension("new.qcow2");
            let backing = td.version_file(version);
            if self.node_link_api(&d.node)?.is_some() {
                // A joined node holds the template's files it clones.
                let files = self.file_wanted(&backing).await?;
                self.node_files_send(&d.node, &files, false, None).await?;
            }
            disks.create(&fresh, 0, Some(&backing)).await?;
            disks.rename(&fresh, &disk.path).await?;
            disk.version = version;
        }
        Ok(d)
    }

    /// Desktops of the same classroom seat in other groups that run now.
    pub(crate) fn desktop_seat_holders(&self, g: &DesktopGroup) -> Result<HashMap<u32, Desktop>> {
        let mut out = HashMap::new();
        let Some(room) = g.classroom else {
            return Ok(out);
        };
        for other in self.store.desktop_group_list()? {
            if other.uuid == g.uuid || other.classroom != Some(room) {
                continue;
            }
            for d in self.store.desktops_of(&other.uuid)? {
                if d.status == Status::Active {
                    out.insert(d.seat, d);
                }
            }
        }
        Ok(out)
    }

    /// Starts one desktop (restoring its disks as its group says). A
    /// running desktop of another group on the same seat refuses the start,
    /// or with `take_seat` is stopped first.
    pub async fn desktop_start(self: &Arc<Self>, uuid: &Uuid, take_seat: bool) -> Result<Desktop> {
        let d = self.store.desktop_get(uuid)?;
        let g = self.store.desktop_group_get(&d.group)?;
        let holders = self.desktop_seat_holders(&g)?;
        self.desktop_start_with(d, &g, &holders, take_seat).await
    }

    pub(crate) async fn desktop_start_with(
        self: &Arc<Self>,
        d: Desktop,
        g: &DesktopGroup,
        holders: &HashMap<u32, Desktop>,
        take_seat: bool,
    ) -> Result<Desktop> {
        let _lock = self.desktop_lock(&d)?;
        ready(&d, g)?;
        let t = self.store.template_get(&g.template)?;
        if t.status == TemplateStatus::Updating {
            return Err(updating_err(&t));
        }
        if let Some(other) = holders.get(&d.seat) {
            if !take_seat {
                return Err(Error::new(
                    Code::SeatBusy,
                    format!(
                        "Seat {} runs desktop `{}` of another group; stop it first",
                        d.seat, other.name
                    ),
                ));
            }
            self.desktop_stop(&other.uuid, true).await?;
        }
        let hv = self.hv(&d.node)?;
        if matches!(
            hv.state(d.uuid).await?,
            Some(PowerState::Running | PowerState::Paused)
        ) {
            return self.desktop_mark_running(&d.uuid);
        }
        let prepared = self.desktop_disks_prepare(&d, g, &t).await?;
        let started: Result<()> = async {
            hv.define(self.desktop_vm_spec(&prepared, g, &t).to_xml())
                .await?;
            hv.power(d.uuid, PowerOp::Start).await
        }
        .await;
        let disks = prepared.disks.clone();
        let out = self.store.desktop_update(&d.uuid, &|mut x| {
            x.disks = disks.clone();
            match &started {
                Ok(()) => {
                    x.status = Status::Active;
                    x.started_at = Some(self.now_ms());
                }
                Err(_) => x.status = Status::Error,
            }
            Ok(x)
        })?;
        started?;
        Ok(out)
    }

    fn desktop_mark_running(&self, uuid: &Uuid) -> Result<Desktop> {
        self.store.desktop_update(uuid, &|mut x| {
            if x.status != Status::Active {
                x.status = Status::Active;
                x.started_at = x.started_at.or(Some(self.now_ms()));
            }
            Ok(x)
        })
    }

    /// Stops one desktop: at once when `hard` or when nothing on its disks
    /// survives the next start, otherwise ACPI first and the plug after
    /// `vm_stop_timeout`.
    pub async fn desktop_stop(&self, uuid: &Uuid, hard: bool) -> Result<Desktop> {
        let d = self.store.desktop_get(uuid)?;
        let g = self.store.desktop_group_get(&d.group)?;
        let _lock = self.desktop_lock(&d)?;
        self.desktop_halt(&d, hard || g.stateless()).await?;
        self.store.desktop_update(uuid, &|mut x| {
            x.status = Status::Inactive;
            x.started_at = None;
            x.terminal_mac.clear();
            x.terminal_ip.clear();
            Ok(x)
        })
    }

    /// Powers a domain off and waits until it is off.
    pub(crate) async fn desktop_halt(&self, d: &Desktop, hard: bool) -> Result<()> {
        let hv = self.hv(&d.node)?;
        match hv.state(d.uuid).await? {
            None | Some(PowerState::Off) => return Ok(()),
            _ => {}
        }
        if !hard {
            hv.power(d.uuid, PowerOp::Shutdown).await?;
            let until = Instant::now() + self.settings.vm_stop_timeout;
            while Instant::now() < until {
                if matches!(hv.state(d.uuid).await?, None | Some(PowerState::Off)) {
                    return Ok(());
                }
                smol::Timer::after(Duration::from_millis(250)).await;
            }
        }
        match hv.power(d.uuid, PowerOp::Destroy).await {
            // It went off by itself in between.
            Err(_) if matches!(hv.state(d.uuid).await?, None | Some(PowerState::Off)) => Ok(()),
            r => r,
        }
    }

    /// One power verb on one desktop.
    pub async fn desktop_power(self: &Arc<Self>, uuid: &Uuid, verb: Power) -> Result<Desktop> {
        match verb {
            Power::Start => self.desktop_start(uuid, false).await,
            Power::Stop => self.desktop_stop(uuid, false).await,
            Power::HardStop => self.desktop_stop(uuid, true).await,
            Power::Reboot | Power::HardReboot => {
                self.desktop_stop(uuid, verb == Power::HardReboot).await?;
                self.desktop_start(uuid, false).await
            }
        }
    }

    /// A power verb on many desktops, `desktop_parallel` at a time per node.
    pub async fn desktops_power(
        self: &Arc<Self>,
        list: Vec<Desktop>,
        verb: Power,
        task: Option<&TaskHandle>,
    ) -> Result<Outcome> {
        // The seat rule for a whole group: read the running seats once.
        let mut holders: BTreeMap<Uuid, Arc<HashMap<u32, Desktop>>> = BTreeMap::new();
        if verb != Power::Stop && verb != Power::HardStop {
            for d in &list {
                if let std::collections::btree_map::Entry::Vacant(e) = holders.entry(d.group) {
                    let g = self.store.desktop_group_get(&d.group)?;
                    e.insert(Arc::new(self.desktop_seat_holders(&g)?));
                }
            }
        }
        let holders = Arc::new(holders);
        Ok(self
            .desktops_each(list, task, verb.past(), move |s, d| {
                let holders = holders.clone();
                async move {
                    match verb {
                        Power::Start | Power::Reboot | Power::HardReboot => {
                            if verb != Power::Start {
                                s.desktop_stop(&d.uuid, verb == Power::HardReboot).await?;
                            }
                            let g = s.store.desktop_group_get(&d.group)?;
                            let none = HashMap::new();
                            let h = holders.get(&d.group).map(|h| h.as_ref()).unwrap_or(&none);
                            let d = s.store.desktop_get(&d.uuid)?;
                            s.desktop_start_with(d, &g, h, false).await.map(|_| ())
                        }
                        Power::Stop | Power::HardStop => s
                            .desktop_stop(&d.uuid, verb == Power::HardStop)
                            .await
                            .map(|_| ()),
                    }
                }
            })
            .await)
    }

    /// Runs `f` on every desktop, `desktop_parallel` at a time on each
    /// node, reporting each end on the task; never stops at a failure.
    pub(crate) async fn desktops_each<F, Fut>(
        self: &Arc<Self>,
        list: Vec<Desktop>,
        task: Option<&TaskHandle>,
        done_word: &str,
        f: F,
    ) -> Outcome
    where
        F: Fn(Arc<Services>, Desktop) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let total = list.len();
        let mut queues: BTreeMap<Uuid, VecDeque<Desktop>> = BTreeMap::new();
        for d in list {
            queues.entry(d.node).or_default().push_back(d);
        }
        let f = Arc::new(f);
        let results: Arc<Mutex<Ends>> = Arc::default();
        let done = Arc::new(AtomicUsize::new(0));
        let (end_tx, end_rx) = smol::channel::unbounded::<()>();
        let spawn = self.tasks_spawner();
        let mut workers = 0;
        for (_, q) in queues {
            let n = self.settings.desktop_parallel.max(1).min(q.len());
            let q = Arc::new(Mutex::new(q));
            for _ in 0..n {
                let (q, f, results, done) = (q.clone(), f.clone(), results.clone(), done.clone());
                let (s, task, word) = (self.clone(), task.cloned(), done_word.to_string());
                let end = end_tx.clone();
                workers += 1;
                spawn(Box::pin(async move {
                    loop {
                        let next = q.lock().ok().and_then(|mut q| q.pop_front());
                        let Some(d) = next else { break };
                        let name = d.name.clone();
                        let r = f(s.clone(), d).await;
                        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                        if let Some(t) = &task {
                            let line = match &r {
                                Ok(()) => format!("{name}: {word}"),
                                Err(e) => format!("{name}: failed: {}", e.public_message()),
                            };
                            t.progress((n * 100 / total.max(1)).min(99) as u8, &line);
                        }
                        if let Ok(mut v) = results.lock() {
                            v.push((name, r));
                        }
                    }
                    let _ = end.send(()).await;
                }));
            }
        }
        for _ in 0..workers {
            let _ = end_rx.recv().await;
        }
        let mut out = Outcome::default();
        let v = std::mem::take(&mut *results.lock().unwrap_or_else(|e| e.into_inner()));
        for (name, r) in v {
            match r {
                Ok(()) => out.success_num += 1,
                Err(e) => {
                    out.failed_num += 1;
                    out.failed.push(format!("{name}: {}", e.public_message()));
                    out.first_error.get_or_insert(e);
                }
            }
        }
        out.failed.sort();
        out
    }

    pub fn desktop_get(&self, uuid: &Uuid) -> Result<Desktop> {
        self.store.desktop_get(uuid)
    }

    pub fn desktop_list(&self) -> Result<Vec<Desktop>> {
        self.store.desktop_list()
    }

    /// A fresh random password for a domain's definition.
    pub(crate) fn desktop_password() -> String {
        random_text(24)
    }
}

/// Refuses work on a desktop or group that is being built or deleted.
pub(crate) fn ready(d: &Desktop, g: &DesktopGroup) -> Result<()> {
    if d.phase != Phase::Ready || g.phase != Phase::Ready {
        return Err(Error::new(
            Code::DesktopBusy,
            format!(
                "Desktop `{}` of group `{}` is being made or deleted",
                d.name, g.name
            ),
        ));
    }
    Ok(())
}
