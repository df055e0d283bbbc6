//! The template operations as an API call starts them: each verb is a
//! `TemplateOp` parsed at the edge, run here as a task (waited for, or
//! answered with its id) whose result a reply shows as it is.

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use super::version::Export;
use super::{Console, TemplateSpec};
use crate::domain::template::Template;
use crate::error::Result;
use crate::service::task::Ran;
use crate::service::{Actor, Services};

/// A template as its operations answer it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TemplateSummary {
    pub uuid: String,
    pub name: String,
    pub version: u32,
    pub status: &'static str,
    pub bind_ip: String,
}

impl TemplateSummary {
    pub fn of(t: &Template) -> TemplateSummary {
        TemplateSummary {
            uuid: t.uuid.to_string(),
            name: t.name.clone(),
            version: t.version,
            status: t.status.as_str(),
            bind_ip: t.bind_ip.map(|i| i.to_string()).unwrap_or_default(),
        }
    }
}

/// One operation on a template, as the verbs name them.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplateOp {
    /// `start`, `stop`, `hard_stop`, `reboot`, `hard_reboot`.
    Power(&'static str),
    /// Start (if off) and hand out a console; `via`: the address the
    /// caller reached the service at (the `.vv` file's proxy).
    Edit {
        via: String,
    },
    Reset,
    Save {
        remark: String,
    },
    IsoSave,
    Rollback {
        version: u32,
        current: Option<u32>,
    },
    /// Attach an ISO, or eject with `None`.
    Cdrom(Option<Uuid>),
    Delete,
    Download,
}

impl TemplateOp {
    /// The task's kind names the verb.
    fn verb(&self) -> &'static str {
        match self {
            TemplateOp::Power(v) => v,
            TemplateOp::Edit { .. } => "edit",
            TemplateOp::Reset => "reset",
            TemplateOp::Save { .. } => "save",
            TemplateOp::IsoSave => "iso_save",
            TemplateOp::Rollback { .. } => "rollback",
            TemplateOp::Cdrom(_) => "cdrom",
            TemplateOp::Delete => "delete",
            TemplateOp::Download => "download",
        }
    }

    /// A power verb's operation.
    pub fn power(verb: &str) -> Option<TemplateOp> {
        ["start", "stop", "hard_stop", "reboot", "hard_reboot"]
            .into_iter()
            .find(|v| *v == verb)
            .map(TemplateOp::Power)
    }
}

/// What an operation answers.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum TemplateDone {
    Summary(TemplateSummary),
    Edited {
        #[serde(flatten)]
        summary: TemplateSummary,
        console: Console,
    },
    Download(Export),
}

impl Services {
    /// `template/create`: planned (and refused) before any task, then made
    /// as a saga in one.
    pub async fn template_create_task(
        self: &Arc<Self>,
        actor: &Actor,
        spec: &TemplateSpec,
        wait: bool,
    ) -> Result<(String, Ran<TemplateSummary>)> {
        let power = spec.power_on;
        let plan = self.template_create_plan(spec)?;
        let target = plan.name.clone();
        let s = self.clone();
        let r = self
            .task_run(actor, "template/create", &target, wait, move |h| {
                Box::pin(async move {
                    s.template_create_run(plan, power, &h)
                        .await
                        .map(|t| TemplateSummary::of(&t))
                })
            })
            .await?;
        Ok((target, r))
    }

    /// `template/copy`, like create.
    pub async fn template_copy_task(
        self: &Arc<Self>,
        actor: &Actor,
        src: &Uuid,
        spec: &TemplateSpec,
        wait: bool,
    ) -> Result<(String, Ran<TemplateSummary>)> {
        let src = self.template_get(src)?;
        let plan = self.template_copy_plan(&src, spec)?;
        let target = plan.name.clone();
        let s = self.clone();
        let r = self
            .task_run(actor, "template/copy", &target, wait, move |h| {
                Box::pin(async move {
                    s.template_copy_run(src, plan, &h)
                        .await
                        .map(|t| TemplateSummary::of(&t))
                })
            })
            .await?;
        Ok((target, r))
    }

    /// One operation on a template, as a task named `template/<verb>`
    /// (`kind_verb` keeps the name the caller used, e.g. `change_device`).
    pub async fn template_op_task(
        self: &Arc<Self>,
        actor: &Actor,
        uuid: &Uuid,
        op: TemplateOp,
        kind_verb: Option<&str>,
        wait: bool,
    ) -> Result<(String, Ran<TemplateDone>)> {
        let tpl = self.template_get(uuid)?;
        let (s, uuid) = (self.clone(), *uuid);
        let kind = format!("template/{}", kind_verb.unwrap_or(op.verb()));
        let r = self
            .task_run(actor, &kind, &tpl.name, wait, move |h| {
                Box::pin(async move {
                    let t = match op {
                        TemplateOp::Power(verb) => s.template_power(&uuid, verb).await?,
                        TemplateOp::Edit { via } => {
                            let t = s.template_power(&uuid, "edit").await?;
                            let console = s.template_console(&uuid, &via).await?;
                            return Ok(TemplateDone::Edited {
                                summary: TemplateSummary::of(&t),
                                console,
                            });
                        }
                        TemplateOp::Reset => s.template_reset(&uuid).await?,
                        TemplateOp::Save { remark } => s.template_save(&uuid, &remark, &h).await?,
                        TemplateOp::IsoSave => s.template_iso_save(&uuid, &h).await?,
                        TemplateOp::Rollback { version, current } => {
                            s.template_rollback(&uuid, version, current).await?
                        }
                        TemplateOp::Cdrom(iso) => s.template_cdrom(&uuid, iso).await?,
                        TemplateOp::Delete => s.template_delete(&uuid).await?,
                        TemplateOp::Download => {
                            return Ok(TemplateDone::Download(
                                s.template_download(&uuid, &h).await?,
                            ))
                        }
                    };
                    Ok(TemplateDone::Summary(TemplateSummary::of(&t)))
                })
            })
            .await?;
        Ok((tpl.name, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_verbs_parse_and_name_their_task() {
        assert_eq!(
            TemplateOp::power("hard_stop"),
            Some(TemplateOp::Power("hard_stop"))
        );
        assert_eq!(TemplateOp::power("explode"), None);
        assert_eq!(TemplateOp::power("reboot").unwrap().verb(), "reboot");
        assert_eq!(
            TemplateOp::Save {
                remark: String::new()
            }
            .verb(),
            "save"
        );
    }
}
