//! Desktop groups and desktops over HTTP in both dialects: file
//! 000's `/api/v1/desktop/{education,personal}/<verb>`, `/api/v1/instance/
//! <verb>`, and file 001's
//! `/api/v1.0/voi/education/desktop/`. Slow work runs as a task; the reply
//! waits for it unless the body says `"async": true`.

use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use super::call::{Call, Reply};
use super::template::{action_param, body};
use crate::api::desktop::{
    self as d, AssignReq, BatchReq, CreateReq, InstanceReq, NameUuid, UpdateReq,
};
use crate::api::from_value;
use crate::api::template::uuid;
use crate::domain::desktop::{DesktopGroup, Kind};
use crate::error::{Code, Error, Result};
use crate::service::desktop::run::{GroupOp, GroupSummary};
use crate::service::desktop::Power;
use crate::service::{Actor, Services};

fn brief(g: &DesktopGroup, desktops: usize) -> Value {
    serde_json::to_value(GroupSummary::of(g, desktops)).unwrap_or(Value::Null)
}

async fn create(c: &Call, v: Value, kind: Kind, wait: bool, prefix: &str) -> Result<Reply> {
    let req: CreateReq = from_value(v, prefix)?;
    let spec = req.into_spec(kind)?;
    let (target, r) = c
        .services
        .desktop_group_create_task(&c.actor, &spec, wait)
        .await?;
    Ok(Reply::ran(r).on(target))
}

/// One group-wide operation (start, stop, reboot, delete, active, …).
async fn group_op(
    services: &Arc<Services>,
    actor: &Actor,
    op: GroupOp,
    group: Uuid,
    wait: bool,
) -> Result<Reply> {
    let s = services;
    match op {
        GroupOp::Active(on) => {
            let g = s.desktop_group_activate(&group, on).await?;
            Ok(Reply::data(brief(&g, s.desktops_of(&g.uuid)?.len())).on(g.name))
        }
        GroupOp::Default => {
            let g = s.desktop_group_default(&group).await?;
            Ok(Reply::data(brief(&g, s.desktops_of(&g.uuid)?.len())).on(g.name))
        }
        GroupOp::Delete => {
            let (name, r) = s.desktop_group_delete_task(actor, &group, wait).await?;
            Ok(Reply::ran(r).on(name))
        }
        GroupOp::Power(power) => {
            let (name, r) = s
                .desktop_group_power_task(actor, &group, power, wait)
                .await?;
            Ok(Reply::ran(r).on(name))
        }
    }
}

/// Personal create may come wrapped as `{action: "create", param: {…}}`.
fn unwrap_param(v: Value) -> (Value, &'static str) {
    match v {
        Value::Object(mut o) if o.contains_key("param") && o.contains_key("action") => {
            (o.remove("param").unwrap_or(Value::Null), "param")
        }
        v => (v, ""),
    }
}

/// `POST /api/v1/desktop/{education,personal}/create` (file 000).
pub async fn group_create(c: Call, kind: Kind) -> Result<Reply> {
    let (v, prefix) = unwrap_param(c.json()?);
    create(&c, v, kind, !c.wants_async, prefix).await
}

/// `POST /api/v1/desktop/{education,personal}/update` (file 000), and file
/// 001's `PUT`.
pub async fn group_update(c: Call) -> Result<Reply> {
    let req: UpdateReq = c.json()?;
    let g = c
        .services
        .desktop_group_update(&uuid("uuid", &req.uuid)?, &req.value.into_patch()?)
        .await?;
    Ok(Reply::data(brief(&g, c.services.desktops_of(&g.uuid)?.len())).on(g.name))
}

/// `POST /api/v1/desktop/{education,personal}/<verb>` (file 000) for the
/// group-wide verbs; the route names the verb.
pub async fn group_run(c: Call, kind: Kind, op: GroupOp) -> Result<Reply> {
    let req: NameUuid = c.json()?;
    let id = uuid("uuid", &req.uuid)?;
    let g = c.services.desktop_group_get(&id)?;
    if g.kind != kind {
        return Err(Error::invalid(
            "uuid",
            format!("group `{}` is {}", g.name, d::kind_word(g.kind)),
        ));
    }
    group_op(&c.services, &c.actor, op, id, !c.wants_async).await
}

/// `POST /api/v1/instance/assign` and `unassign` (file 000).
pub async fn instance_assign(c: Call, assign: bool) -> Result<Reply> {
    let req: AssignReq = c.json()?;
    let user = match assign {
        true => Some(uuid(
            "user_uuid",
            req.user_uuid
                .as_deref()
                .ok_or_else(|| Error::missing("user_uuid"))?,
        )?),
        false => None,
    };
    let dk = c
        .services
        .desktop_assign(&uuid("instance_uuid", &req.instance_uuid)?, user)
        .await?;
    Ok(Reply::data(d::desktop_view(&dk, "")).on(dk.name))
}

/// What `/api/v1/instance/<verb>` does to desktops of one group.
#[derive(Clone, Copy, Debug)]
pub enum InstanceOp {
    /// Add `instance_num` desktops.
    Create,
    Delete,
    Power(Power),
}

/// `POST /api/v1/instance/<verb>` (file 000): desktops of one group; the
/// route names the verb.
pub async fn instance_run(c: Call, op: InstanceOp) -> Result<Reply> {
    let req: InstanceReq = c.json()?;
    let group = req.group()?;
    let g = c.services.desktop_group_get(&group)?;
    req.kind_check(&g)?;
    let ids = req.instances()?;
    let s = &c.services;
    let wait = !c.wants_async;
    let (name, reply) = match op {
        InstanceOp::Create => {
            let n = crate::api::template::int(
                "instance_num",
                req.instance_num
                    .as_ref()
                    .ok_or_else(|| Error::missing("instance_num"))?,
                1,
                1000,
            )? as u32;
            let info = d::create_info(&req.create_info)?;
            let (name, r) = s.desktops_add_task(&c.actor, &group, n, info, wait).await?;
            (name, Reply::ran(r))
        }
        InstanceOp::Delete => {
            let (name, r) = s.desktops_delete_task(&c.actor, &group, ids, wait).await?;
            (name, Reply::ran(r))
        }
        InstanceOp::Power(power) => {
            let (name, r) = s
                .desktops_power_task(&c.actor, &group, ids, power, wait)
                .await?;
            (name, Reply::ran(r))
        }
    };
    Ok(reply.on(name))
}

/// Runs a verb on each group of a file 001 batch.
async fn batch(c: &Call, verb: &str, list: Vec<NameUuid>) -> Result<Reply> {
    if list.is_empty() {
        return Err(Error::invalid(
            "desktops",
            "must name at least one desktop group",
        ));
    }
    let op = GroupOp::parse(verb)?;
    let mut results = Vec::new();
    for item in list {
        let r = async {
            let id = uuid("desktops.uuid", &item.uuid)?;
            group_op(&c.services, &c.actor, op, id, true).await
        }
        .await;
        results.push(r.map(|_| ()));
    }
    Reply::tally(results)
}

/// `POST /api/v1.0/voi/education/desktop/` `{action, param}` (file 001).
pub async fn web_post(c: Call) -> Result<Reply> {
    let (v, is_async) = body(&c)?;
    let (action, param) = action_param(&v)?;
    match action.as_str() {
        "create" => create(&c, param, Kind::Education, !is_async, "param").await,
        "default" => {
            let one: NameUuid = from_value(param, "param")?;
            group_op(
                &c.services,
                &c.actor,
                GroupOp::Default,
                uuid("param.uuid", &one.uuid)?,
                true,
            )
            .await
        }
        "active" | "inactive" | "start" | "stop" | "hard_stop" | "reboot" | "hard_reboot" => {
            let b: BatchReq = from_value(param, "param")?;
            batch(&c, &action, b.desktops).await
        }
        other => Err(Error::new(
            Code::UnknownAction,
            format!("`{other}` is not a desktop group action"),
        )),
    }
}

/// `PUT /api/v1.0/voi/education/desktop/` `{uuid, name, value}`.
pub async fn web_put(c: Call) -> Result<Reply> {
    group_update(c).await
}

/// `DELETE /api/v1.0/voi/education/desktop/` `{desktops: [{name, uuid}]}`.
pub async fn web_delete(c: Call) -> Result<Reply> {
    let b: BatchReq = c.json()?;
    batch(&c, "delete", b.desktops).await
}
