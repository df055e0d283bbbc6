//! Templates over HTTP, in both dialects:
//! file 000's `/api/v1/template/<verb>` and file 001's action dispatch at
//! `/api/v1.0/voi/education/template/`. Slow operations run as tasks; the
//! reply waits for them unless the body says `"async": true`.

use std::sync::Arc;

use serde_json::{json, Value};
use uuid::Uuid;

use super::call::{Call, Reply};
use crate::api::template::{self as t, BatchReq, CopyReq, CreateReq, OneReq, PutReq};
use crate::api::{from_value, take_async};
use crate::domain::template::Template;
use crate::error::{Code, Error, Result};
use crate::service::task::Ran;
use crate::service::Services;

/// The body as JSON with `async` taken out.
pub(super) fn body(c: &Call) -> Result<(Value, bool)> {
    let mut v: Value = c.json()?;
    let a = take_async(&mut v)?;
    Ok((v, a))
}

pub(super) fn ran<T: serde::Serialize>(r: Ran<T>, view: impl FnOnce(T) -> Value) -> Reply {
    match r {
        Ran::Queued(id) => Reply::data(json!({ "task_id": id.to_string() })),
        Ran::Done(id, v) => {
            let mut d = view(v);
            if let Some(o) = d.as_object_mut() {
                o.insert("task_id".into(), json!(id.to_string()));
            }
            Reply::data(d)
        }
    }
}

fn brief(t: &Template) -> Value {
    json!({"uuid": t.uuid.to_string(), "name": t.name, "version": t.version, "status": t.status.as_str(),
           "bind_ip": t.bind_ip.map(|i| i.to_string()).unwrap_or_default()})
}

fn iso_by_path(s: &Services) -> impl Fn(&str) -> Option<Uuid> + '_ {
    move |p: &str| {
        s.iso_list()
            .ok()?
            .into_iter()
            .find(|i| i.path.to_string_lossy() == p)
            .map(|i| i.uuid)
    }
}

async fn create_from(c: &Call, v: Value, wait: bool, prefix: &str) -> Result<Reply> {
    let req: CreateReq = from_value(v, prefix)?;
    let spec = req.into_spec(&iso_by_path(&c.services))?;
    let power = spec.power_on;
    let plan = c.services.template_create_plan(&spec)?;
    let target = plan.name.clone();
    let s = c.services.clone();
    let r = c
        .services
        .task_run(&c.actor, "template/create", &target, wait, move |h| {
            Box::pin(async move {
                s.template_create_run(plan, power, &h)
                    .await
                    .map(|t| brief(&t))
            })
        })
        .await?;
    Ok(ran(r, |v| v).on(target))
}

async fn copy_from(c: &Call, v: Value, wait: bool, prefix: &str) -> Result<Reply> {
    let req: CopyReq = from_value(v, prefix)?;
    let (src, spec) = req.into_spec()?;
    let src = c.services.template_get(&src)?;
    let plan = c.services.template_copy_plan(&src, &spec)?;
    let target = plan.name.clone();
    let s = c.services.clone();
    let r = c
        .services
        .task_run(&c.actor, "template/copy", &target, wait, move |h| {
            Box::pin(async move { s.template_copy_run(src, plan, &h).await.map(|t| brief(&t)) })
        })
        .await?;
    Ok(ran(r, |v| v).on(target))
}

/// One template operation by verb, as a task.
async fn one(
    services: &Arc<Services>,
    actor: &crate::service::Actor,
    verb: &str,
    req: OneReq,
    wait: bool,
) -> Result<Ran<Value>> {
    let uuid = t::uuid("uuid", &req.uuid)?;
    let tpl = services.template_get(&uuid)?;
    let s = services.clone();
    let verb_s = verb.to_string();
    let iso = t::opt_uuid("iso_uuid", &req.iso_uuid)?;
    let path = req.path.clone();
    let version = match (&req.version, &req.rollback_version) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "rollback_version",
                "give the version once (`rollback_version` or `version`)",
            ))
        }
        (Some(v), None) => Some(t::int("version", v, 1, u32::MAX as u64)? as u32),
        (None, Some(v)) => Some(t::int("rollback_version", v, 0, u32::MAX as u64)? as u32),
        (None, None) => match t::opt_uuid("operate_uuid", &req.operate_uuid)? {
            Some(op) => Some(
                tpl.ops
                    .iter()
                    .find(|o| o.uuid == op)
                    .map(|o| o.version)
                    .ok_or_else(|| {
                        Error::invalid("operate_uuid", "is not an operation of this template")
                    })?,
            ),
            None => None,
        },
    };
    let current = req
        .cur_version
        .as_ref()
        .map(|v| t::int("cur_version", v, 0, u32::MAX as u64).map(|n| n as u32))
        .transpose()?;
    let remark = req.desc.clone().unwrap_or_default();
    if verb == "rollback" && version.is_none() {
        return Err(Error::missing("rollback_version"));
    }
    if verb == "attach_source" && iso.is_none() {
        return Err(Error::missing("iso_uuid"));
    }
    services
        .task_run(
            actor,
            &format!("template/{verb}"),
            &tpl.name,
            wait,
            move |h| {
                Box::pin(async move {
                    let out = match verb_s.as_str() {
                        "start" | "stop" | "hard_stop" | "reboot" | "hard_reboot" => {
                            s.template_power(&uuid, &verb_s).await?
                        }
                        "edit" => {
                            let t = s.template_power(&uuid, "edit").await?;
                            let console = s.template_console(&uuid).await?;
                            let mut v = brief(&t);
                            v["console"] =
                                serde_json::to_value(console).map_err(Error::internal)?;
                            return Ok(v);
                        }
                        "reset" => s.template_reset(&uuid).await?,
                        "save" => s.template_save(&uuid, &remark, &h).await?,
                        "iso_save" => s.template_iso_save(&uuid, &h).await?,
                        "rollback" => {
                            s.template_rollback(&uuid, version.unwrap_or(0), current)
                                .await?
                        }
                        "attach_source" => s.template_cdrom(&uuid, iso).await?,
                        "detach_source" => s.template_cdrom(&uuid, None).await?,
                        "change_device" => {
                            let iso = match path.as_deref().map(str::trim) {
                                None | Some("") => None,
                                Some(p) => Some(iso_by_path(&s)(p).ok_or_else(|| {
                                    Error::invalid("path", format!("no ISO is known by `{p}`"))
                                })?),
                            };
                            s.template_cdrom(&uuid, iso).await?
                        }
                        "delete" => s.template_delete(&uuid).await?,
                        "download" => {
                            let e = s.template_download(&uuid, &h).await?;
                            return serde_json::to_value(e).map_err(Error::internal);
                        }
                        other => {
                            return Err(Error::new(
                                Code::UnknownAction,
                                format!("Action `{other}` is not a template action"),
                            ))
                        }
                    };
                    Ok(brief(&out))
                })
            },
        )
        .await
}

/// `POST /api/v1/template/<verb>` (file 000).
pub async fn server_verb(c: Call) -> Result<Reply> {
    let verb = c.op.trim_start_matches("template/").to_string();
    let (v, is_async) = body(&c)?;
    match verb.as_str() {
        "create" => create_from(&c, v, !is_async, "").await,
        "copy" => copy_from(&c, v, !is_async, "").await,
        "console" => {
            let req: OneReq = from_value(v, "")?;
            let console = c
                .services
                .template_console(&t::uuid("uuid", &req.uuid)?)
                .await?;
            Ok(Reply::data(
                serde_json::to_value(console).map_err(Error::internal)?,
            ))
        }
        _ => {
            let req: OneReq = from_value(v, "")?;
            let r = one(&c.services, &c.actor, &verb, req, !is_async).await?;
            Ok(ran(r, |v| v))
        }
    }
}

/// Runs `verb` on each template of a batch; one item answers its own
/// result or error, several answer the counts.
async fn batch(c: &Call, verb: &str, list: Vec<t::NameUuid>) -> Result<Reply> {
    if list.is_empty() {
        return Err(Error::invalid(
            "templates",
            "must name at least one template",
        ));
    }
    let mut results = Vec::new();
    for item in list {
        let req = OneReq {
            uuid: item.uuid,
            name: item.name,
            desc: None,
            iso_uuid: None,
            path: None,
            version: None,
            rollback_version: None,
            cur_version: None,
            operate_uuid: None,
        };
        results.push(
            one(&c.services, &c.actor, verb, req, true)
                .await
                .map(|_| ()),
        );
    }
    Reply::tally(results)
}

/// A web-dialect body `{action, param}` split in two.
pub(super) fn action_param(v: &Value) -> Result<(String, Value)> {
    let action = v
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::missing("action"))?
        .to_string();
    let param = v
        .get("param")
        .cloned()
        .ok_or_else(|| Error::missing("param"))?;
    Ok((action, param))
}

/// `POST /api/v1.0/voi/education/template/` `{action, param}` (file 001).
pub async fn web_post(c: Call) -> Result<Reply> {
    let (v, is_async) = body(&c)?;
    let (action, param) = action_param(&v)?;
    match action.as_str() {
        "create" => create_from(&c, param, !is_async, "param").await,
        "copy" => copy_from(&c, param, !is_async, "param").await,
        "start" | "stop" | "hard_stop" | "reboot" | "hard_reboot" | "reset" => {
            let b: BatchReq = from_value(param, "param")?;
            batch(&c, &action, b.templates).await
        }
        "edit" | "attach_source" | "detach_source" | "iso_save" | "save" | "rollback"
        | "download" => {
            let req: OneReq = from_value(param, "param")?;
            let r = one(&c.services, &c.actor, &action, req, !is_async).await?;
            Ok(ran(r, |v| v))
        }
        other => Err(Error::new(
            Code::UnknownAction,
            format!("`{other}` is not a template action"),
        )),
    }
}

/// `DELETE /api/v1.0/voi/education/template/` `{templates:[…]}`.
pub async fn web_delete(c: Call) -> Result<Reply> {
    let b: BatchReq = c.json()?;
    batch(&c, "delete", b.templates).await
}

/// `PUT /api/v1.0/voi/education/template` `{uuid, name, value}`.
pub async fn web_put(c: Call) -> Result<Reply> {
    let req: PutReq = c.json()?;
    let uuid = t::uuid("uuid", &req.uuid)?;
    let patch = req.value.into_patch()?;
    let out = c.services.template_update(&uuid, patch).await?;
    Ok(Reply::data(brief(&out)).on(out.name))
}

fn page_of(c: &Call, rows: Vec<Value>) -> Result<Reply> {
    let q = crate::domain::query::parse(&c.query)?;
    let count = rows.len();
    let page: Vec<Value> = rows
        .into_iter()
        .skip(q.offset())
        .take(q.page_size)
        .collect();
    let page = serde_json::to_string(&page).map_err(Error::internal)?;
    Ok(super::system::page_reply(c, &q, count, &page))
}

/// `GET /api/v1.0/voi/education/template/`: the generic query, or with
/// `group=<uuid>` the templates a classroom may use (file 001 #19).
pub async fn web_get(c: Call) -> Result<Reply> {
    let Some(g) = c.query_value("group").map(str::to_string) else {
        return super::system::query(c).await;
    };
    let group = c.services.group_get(&t::uuid("group", &g)?)?;
    let rows = c
        .services
        .template_list()?
        .into_iter()
        .filter(|t| t.groups.is_empty() || t.groups.contains(&group.uuid))
        .map(|t| {
            json!({
                "template": t.uuid.to_string(), "template_name": t.name, "template_status": t.status.as_str(),
                "group": group.uuid.to_string(), "group_name": group.name, "os_type": t.os_type, "owner": t.owner,
                "data_disk": t.disks.len() > 1, "used": false,
            })
        })
        .collect();
    page_of(&c, rows)
}

/// `GET …/template/operate/?template=<uuid>[&exist=1]`: the generic query
/// over every template's operations, `template` (required, as file 001
/// says) and `exist` being ordinary filters.
pub async fn web_operate(c: Call) -> Result<Reply> {
    let id = c
        .query_value("template")
        .ok_or_else(|| Error::missing("template"))?;
    let q = crate::domain::query::parse(&c.query)?;
    if q.search != crate::domain::query::SearchType::Contain {
        // An exact filter names a template that must exist.
        c.services.template_get(&t::uuid("template", id)?)?;
    }
    super::system::query_listing(c, "template_operate").await
}

/// `GET …/template/ipaddr/?subnet_uuid=` → `{"ipaddr": …}` (no envelope,
/// as file 001 documents).
pub async fn web_ipaddr(c: Call) -> Result<Reply> {
    let id = c
        .query_value("subnet_uuid")
        .or_else(|| c.query_value("subnet_uui"))
        .ok_or_else(|| Error::missing("subnet_uuid"))?;
    let ip = c
        .services
        .template_ip_suggest(&t::uuid("subnet_uuid", id)?)?;
    let mut r = Reply::data(json!({"ipaddr": ip.to_string()}));
    r.raw = true;
    Ok(r)
}

/// `GET /api/v1/template/download?path=` streams an exported image.
pub async fn download_file(c: Call) -> Result<Reply> {
    let p = c
        .query_value("path")
        .ok_or_else(|| Error::missing("path"))?;
    let (len, bytes, name) = c.services.template_export_open(p).await?;
    let mut r = Reply::data(Value::Null);
    r.file = Some((len, bytes, format!("{name}.qcow2")));
    Ok(r)
}
