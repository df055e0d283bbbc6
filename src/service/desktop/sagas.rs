//! Desktop group create and delete as sagas. Create: record the group and
//! its desktops (marked as being built), make every desktop's overlays and
//! domain, mark it ready; each step's undo takes back what it made. Delete:
//! mark the group, remove its desktops (no way back from here), forget it.
//! Desktops added to a group and desktops deleted from one are sagas too.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::desktop::{Desktop, DesktopGroup, Phase};
use crate::error::{Error, Kind, Result};
use crate::service::desktop::group::Plan;
use crate::service::saga::{Checkpoint, Saga};
use crate::service::task::TaskHandle;
use crate::service::Services;

/// What the journal keeps of a desktop group create or delete.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct GroupFacts {
    pub group: Uuid,
}

/// The group, or `None` when it is gone.
fn group_of(s: &Services, uuid: &Uuid) -> Result<Option<DesktopGroup>> {
    match s.store.desktop_group_get(uuid) {
        Ok(g) => Ok(Some(g)),
        Err(e) if e.code.kind() == Kind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The desktops of `g` a saga's facts name (those that still exist).
fn desktops_named(
    s: &Services,
    g: &DesktopGroup,
    named: impl Fn(&Uuid) -> bool,
) -> Result<Vec<Desktop>> {
    Ok(s.store
        .desktops_of(&g.uuid)?
        .into_iter()
        .filter(|d| named(&d.uuid))
        .collect())
}

/// The group a saga that succeeded ends with.
fn ended(g: Option<DesktopGroup>, kind: &str) -> Result<DesktopGroup> {
    g.ok_or_else(|| Error::internal(format!("{kind} ended without a group")))
}

/// Removes every desktop the group still has (domains, disks, records).
async fn desktops_clear(s: &Services, uuid: &Uuid) -> Result<()> {
    if let Some(g) = group_of(s, uuid)? {
        let list = s.store.desktops_of(&g.uuid)?;
        s.desktops_remove(&g, &list).await;
        s.store.flush().await?;
    }
    Ok(())
}

/// `desktop/create`: a planned group made.
pub struct DesktopGroupCreate {
    f: GroupFacts,
    plan: Option<Plan>,
    made: Vec<Desktop>,
    ready: Option<DesktopGroup>,
}

impl DesktopGroupCreate {
    pub fn new(plan: Plan) -> Self {
        DesktopGroupCreate {
            f: GroupFacts {
                group: plan.group.uuid,
            },
            plan: Some(plan),
            ..Self::resumed(GroupFacts::default())
        }
    }

    /// The group made (once the saga succeeded).
    pub fn group(self) -> Result<DesktopGroup> {
        ended(self.ready, Self::KIND)
    }
}

impl Saga for DesktopGroupCreate {
    type Facts = GroupFacts;
    const KIND: &'static str = "desktop/create";
    const STEPS: &'static [&'static str] = &["record", "build", "ready"];

    fn facts(&self) -> &GroupFacts {
        &self.f
    }

    fn resumed(f: GroupFacts) -> Self {
        DesktopGroupCreate {
            f,
            plan: None,
            made: Vec::new(),
            ready: None,
        }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        _cp: &mut Checkpoint,
    ) -> Result<()> {
        match step {
            "record" => {
                let plan = self
                    .plan
                    .as_ref()
                    .ok_or_else(|| Error::internal("desktop/create: no plan after a restart"))?;
                self.made = s.store.desktop_group_insert(&plan.group, &plan.desktops)?;
                s.store.flush().await?;
                task.progress(5, &format!("{} desktops recorded", self.made.len()));
            }
            "build" => {
                let g = s.store.desktop_group_get(&self.f.group)?;
                s.desktops_build(&g, self.made.clone(), task).await?;
            }
            _ => {
                let g = s.store.desktop_group_update(&self.f.group, &|mut x| {
                    x.phase = Phase::Ready;
                    Ok(x)
                })?;
                s.store.flush().await?;
                self.ready = Some(g);
            }
        }
        Ok(())
    }

    async fn undo(&self, s: &Arc<Services>, step: &'static str) -> Result<()> {
        match step {
            "build" => desktops_clear(s, &self.f.group).await,
            "record" => {
                desktops_clear(s, &self.f.group).await?;
                if group_of(s, &self.f.group)?.is_some() {
                    s.store.desktop_group_delete(&self.f.group)?;
                    s.store.flush().await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// `desktop/delete`: a group and every desktop of it gone.
pub struct DesktopGroupDelete {
    f: GroupFacts,
    deleted: Option<DesktopGroup>,
}

impl DesktopGroupDelete {
    pub fn new(group: Uuid) -> Self {
        Self::resumed(GroupFacts { group })
    }

    /// The group as it was before it went.
    pub fn group(self) -> Result<DesktopGroup> {
        ended(self.deleted, Self::KIND)
    }
}

impl Saga for DesktopGroupDelete {
    type Facts = GroupFacts;
    const KIND: &'static str = "desktop/delete";
    const STEPS: &'static [&'static str] = &["mark", "remove", "forget"];
    const PIVOT: Option<&'static str> = Some("remove");

    fn facts(&self) -> &GroupFacts {
        &self.f
    }

    fn resumed(f: GroupFacts) -> Self {
        DesktopGroupDelete { f, deleted: None }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        _cp: &mut Checkpoint,
    ) -> Result<()> {
        match step {
            "mark" => {
                s.store.desktop_group_update(&self.f.group, &|mut x| {
                    x.phase = Phase::Deleting;
                    Ok(x)
                })?;
                s.store.flush().await?;
            }
            "remove" => {
                task.progress(10, "removing the desktops, their disks and domains");
                desktops_clear(s, &self.f.group).await?;
            }
            _ => {
                if group_of(s, &self.f.group)?.is_some() {
                    self.deleted = Some(s.store.desktop_group_delete(&self.f.group)?);
                    s.store.flush().await?;
                }
            }
        }
        Ok(())
    }

    async fn undo(&self, s: &Arc<Services>, step: &'static str) -> Result<()> {
        if step == "mark" && group_of(s, &self.f.group)?.is_some() {
            s.store.desktop_group_update(&self.f.group, &|mut x| {
                x.phase = Phase::Ready;
                Ok(x)
            })?;
            s.store.flush().await?;
        }
        Ok(())
    }
}

/// What the journal keeps of an `instance/create`: the group and the
/// uuids of the desktops it adds (chosen in the plan, before anything is
/// recorded, so an undo after a crash knows them).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct AddFacts {
    pub group: Uuid,
    pub desktops: Vec<Uuid>,
}

/// `instance/create`: planned desktops added to a ready group.
pub struct DesktopsAdd {
    f: AddFacts,
    plan: Vec<(Desktop, Option<crate::store::IpReq>)>,
    made: Vec<Desktop>,
}

impl DesktopsAdd {
    pub fn new(group: Uuid, plan: Vec<(Desktop, Option<crate::store::IpReq>)>) -> Self {
        DesktopsAdd {
            f: AddFacts {
                group,
                desktops: plan.iter().map(|(d, _)| d.uuid).collect(),
            },
            plan,
            made: Vec::new(),
        }
    }

    /// The desktops made (once the saga succeeded).
    pub fn made(self) -> Vec<Desktop> {
        self.made
    }
}

impl Saga for DesktopsAdd {
    type Facts = AddFacts;
    const KIND: &'static str = "instance/create";
    const STEPS: &'static [&'static str] = &["record", "build"];

    fn facts(&self) -> &AddFacts {
        &self.f
    }

    fn resumed(f: AddFacts) -> Self {
        DesktopsAdd {
            f,
            plan: Vec::new(),
            made: Vec::new(),
        }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        _cp: &mut Checkpoint,
    ) -> Result<()> {
        match step {
            "record" => {
                if self.plan.is_empty() {
                    return Err(Error::internal("instance/create: no plan after a restart"));
                }
                self.made = s.store.desktops_insert(&self.f.group, &self.plan)?;
                s.store.flush().await?;
                task.progress(5, &format!("{} desktops recorded", self.made.len()));
            }
            _ => {
                let g = s.store.desktop_group_get(&self.f.group)?;
                s.desktops_build(&g, self.made.clone(), task).await?;
            }
        }
        Ok(())
    }

    /// Both steps: the added desktops that exist go (domains, disks,
    /// records and addresses); the group's others are untouched.
    async fn undo(&self, s: &Arc<Services>, _step: &'static str) -> Result<()> {
        let Some(g) = group_of(s, &self.f.group)? else {
            return Ok(());
        };
        let list = desktops_named(s, &g, |u| self.f.desktops.contains(u))?;
        s.desktops_remove(&g, &list).await;
        s.store.flush().await
    }
}

/// What the journal keeps of an `instance/delete`: the group, and each
/// desktop going with the phase it had (what undoing the mark restores).
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct DeleteFacts {
    pub group: Uuid,
    pub desktops: Vec<(Uuid, u8)>,
}

/// `instance/delete`: some desktops of a group gone. Mark them (undone by
/// restoring their phases), remove their domains and disks (no way back
/// from there, so a crash or failure from here on is finished at the next
/// start), then forget their records and give back their addresses.
pub struct DesktopsDelete {
    f: DeleteFacts,
}

impl DesktopsDelete {
    pub fn new(group: Uuid, desktops: &[Desktop]) -> Self {
        DesktopsDelete {
            f: DeleteFacts {
                group,
                desktops: desktops.iter().map(|d| (d.uuid, d.phase as u8)).collect(),
            },
        }
    }

    /// The desktops of the facts that still exist.
    fn present(&self, s: &Services, g: &DesktopGroup) -> Result<Vec<Desktop>> {
        desktops_named(s, g, |u| self.f.desktops.iter().any(|(d, _)| d == u))
    }
}

impl Saga for DesktopsDelete {
    type Facts = DeleteFacts;
    const KIND: &'static str = "instance/delete";
    const STEPS: &'static [&'static str] = &["mark", "remove", "forget"];
    const PIVOT: Option<&'static str> = Some("remove");

    fn facts(&self) -> &DeleteFacts {
        &self.f
    }

    fn resumed(f: DeleteFacts) -> Self {
        DesktopsDelete { f }
    }

    async fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        task: &TaskHandle,
        _cp: &mut Checkpoint,
    ) -> Result<()> {
        let Some(g) = group_of(s, &self.f.group)? else {
            return Ok(());
        };
        let list = self.present(s, &g)?;
        match step {
            "mark" => {
                for d in &list {
                    s.store.desktop_update(&d.uuid, &|mut x| {
                        x.phase = Phase::Deleting;
                        Ok(x)
                    })?;
                }
            }
            "remove" => {
                task.progress(10, &format!("removing {} desktops", list.len()));
                s.desktops_unmake(&list).await;
                return Ok(());
            }
            _ => s.desktops_forget(&g, &list)?,
        }
        s.store.flush().await
    }

    async fn undo(&self, s: &Arc<Services>, step: &'static str) -> Result<()> {
        let Some(g) = group_of(s, &self.f.group)? else {
            return Ok(());
        };
        if step != "mark" {
            return Ok(());
        }
        for d in self.present(s, &g)? {
            let was = self
                .f
                .desktops
                .iter()
                .find(|(u, _)| *u == d.uuid)
                .map_or(Phase::Ready, |(_, p)| Phase::from_tag(*p));
            s.store.desktop_update(&d.uuid, &|mut x| {
                x.phase = was;
                Ok(x)
            })?;
        }
        s.store.flush().await
    }
}
