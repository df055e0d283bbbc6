//! The desktop operations as an API call starts them: plan or check, then a
//! task (waited for, or answered with its id), with a result a reply can
//! show as it is (it is also the task's recorded result).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use super::group::DesktopGroupSpec;
use super::{Outcome, Power};
use crate::domain::desktop::DesktopGroup;
use crate::error::{Code, Error, Result};
use crate::service::task::{Ran, TaskHandle};
use crate::service::{Actor, Services};

/// A group as a create, delete or update answers it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GroupSummary {
    pub uuid: String,
    pub name: String,
    pub active: bool,
    pub default: bool,
    pub total_count: usize,
}

impl GroupSummary {
    pub fn of(g: &DesktopGroup, desktops: usize) -> GroupSummary {
        GroupSummary {
            uuid: g.uuid.to_string(),
            name: g.name.clone(),
            active: g.active,
            default: g.default,
            total_count: desktops,
        }
    }
}

/// What `instance/create` made.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Added {
    pub success_num: usize,
    pub failed_num: usize,
    pub instances: Vec<Named>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Named {
    pub uuid: String,
    pub name: String,
}

/// One group-wide operation, as the verbs name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupOp {
    /// `active` / `inactive`: shown to terminals or not.
    Active(bool),
    Default,
    Delete,
    Power(Power),
}

impl GroupOp {
    pub fn parse(verb: &str) -> Result<GroupOp> {
        Ok(match verb {
            "active" => GroupOp::Active(true),
            "inactive" => GroupOp::Active(false),
            "default" => GroupOp::Default,
            "delete" => GroupOp::Delete,
            v => GroupOp::Power(Power::parse(v).ok_or_else(|| {
                Error::new(
                    Code::UnknownAction,
                    format!("`{v}` is not a desktop group action"),
                )
            })?),
        })
    }
}

/// A batch of one that failed answers its error, not counts.
fn single_failure(o: &Outcome, asked: usize) -> Result<()> {
    if let (1, 1, Some(e)) = (asked, o.failed_num, &o.first_error) {
        return Err(e.clone());
    }
    Ok(())
}

impl Services {
    /// `desktop/<kind>/create`: planned (and refused) before any task,
    /// then made as a saga in one.
    pub async fn desktop_group_create_task(
        self: &Arc<Self>,
        actor: &Actor,
        spec: &DesktopGroupSpec,
        wait: bool,
    ) -> Result<(String, Ran<GroupSummary>)> {
        let plan = self.desktop_group_create_plan(spec)?;
        let target = plan.group.name.clone();
        let n = plan.desktops.len();
        let s = self.clone();
        let r = self
            .task_run(actor, "desktop/create", &target, wait, move |h| {
                Box::pin(async move {
                    s.desktop_group_create_run(plan, &h)
                        .await
                        .map(|g| GroupSummary::of(&g, n))
                })
            })
            .await?;
        Ok((target, r))
    }

    /// Work on one group as a task of `kind` named after the group.
    async fn group_task<T, F>(
        self: &Arc<Self>,
        actor: &Actor,
        group: &Uuid,
        kind: &str,
        wait: bool,
        work: impl FnOnce(Arc<Services>, Uuid, TaskHandle) -> F + Send + 'static,
    ) -> Result<(String, Ran<T>)>
    where
        T: Serialize + Clone + Send + 'static,
        F: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let g = self.desktop_group_get(group)?;
        let (s, group) = (self.clone(), *group);
        let r = self
            .task_run(actor, kind, &g.name, wait, move |h| {
                Box::pin(work(s, group, h))
            })
            .await?;
        Ok((g.name, r))
    }

    /// `desktop/<kind>/delete` as a task.
    pub async fn desktop_group_delete_task(
        self: &Arc<Self>,
        actor: &Actor,
        group: &Uuid,
        wait: bool,
    ) -> Result<(String, Ran<GroupSummary>)> {
        self.group_task(
            actor,
            group,
            "desktop/delete",
            wait,
            |s, group, h| async move {
                s.desktop_group_delete(&group, &h)
                    .await
                    .map(|g| GroupSummary::of(&g, 0))
            },
        )
        .await
    }

    /// A power verb on every desktop of a group, as a task.
    pub async fn desktop_group_power_task(
        self: &Arc<Self>,
        actor: &Actor,
        group: &Uuid,
        power: Power,
        wait: bool,
    ) -> Result<(String, Ran<Outcome>)> {
        let kind = format!("desktop/{}", power.verb());
        self.group_task(actor, group, &kind, wait, move |s, group, h| async move {
            s.desktop_group_power(&group, &[], power, Some(&h)).await
        })
        .await
    }

    /// `instance/create`: `n` more desktops in a group, as a task.
    pub async fn desktops_add_task(
        self: &Arc<Self>,
        actor: &Actor,
        group: &Uuid,
        n: u32,
        info: BTreeMap<String, u32>,
        wait: bool,
    ) -> Result<(String, Ran<Added>)> {
        self.group_task(
            actor,
            group,
            "instance/create",
            wait,
            move |s, group, h| async move {
                let made = s.desktops_add(&group, n, &info, &h).await?;
                Ok(Added {
                    success_num: made.len(),
                    failed_num: 0,
                    instances: made
                        .iter()
                        .map(|x| Named {
                            uuid: x.uuid.to_string(),
                            name: x.name.clone(),
                        })
                        .collect(),
                })
            },
        )
        .await
    }

    /// `instance/delete`: some desktops of a group, as a task.
    pub async fn desktops_delete_task(
        self: &Arc<Self>,
        actor: &Actor,
        group: &Uuid,
        ids: Vec<Uuid>,
        wait: bool,
    ) -> Result<(String, Ran<Outcome>)> {
        if ids.is_empty() {
            return Err(Error::missing("instances"));
        }
        self.group_task(
            actor,
            group,
            "instance/delete",
            wait,
            move |s, group, h| async move { s.desktops_delete(&group, &ids, &h).await },
        )
        .await
    }

    /// `instance/<power>`: some desktops of a group, as a task; a batch of
    /// one that failed answers its error.
    pub async fn desktops_power_task(
        self: &Arc<Self>,
        actor: &Actor,
        group: &Uuid,
        ids: Vec<Uuid>,
        power: Power,
        wait: bool,
    ) -> Result<(String, Ran<Outcome>)> {
        if ids.is_empty() {
            return Err(Error::missing("instances"));
        }
        let kind = format!("instance/{}", power.verb());
        self.group_task(actor, group, &kind, wait, move |s, group, h| async move {
            let o = s.desktop_group_power(&group, &ids, power, Some(&h)).await?;
            single_failure(&o, ids.len())?;
            Ok(o)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_verbs_parse_at_the_edge() {
        assert_eq!(GroupOp::parse("inactive").unwrap(), GroupOp::Active(false));
        assert_eq!(
            GroupOp::parse("hard_reboot").unwrap(),
            GroupOp::Power(Power::HardReboot)
        );
        let e = GroupOp::parse("explode").unwrap_err();
        assert_eq!(e.code, Code::UnknownAction);
        assert!(e.message.contains("`explode`"), "{}", e.message);
    }
}
