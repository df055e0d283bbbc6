//! Templates over HTTP, in both dialects:
//! file 000's `/api/v1/template/<verb>` and file 001's action dispatch at
//! `/api/v1.0/voi/education/template/`. Slow operations run as tasks; the
//! reply waits for them unless the body says `"async": true`.

use std::sync::Arc;

use serde_json::{json, Value};
use uuid::Uuid;

use super::call::{Call, Reply};
use crate::api::from_value;
use crate::api::template::{self as t, BatchReq, CopyReq, CreateReq, OneReq, PutReq};
use crate::error::{Code, Error, Result};
use crate::service::task::Ran;
use crate::service::template::run::{TemplateDone, TemplateOp, TemplateSummary};
use crate::service::Services;

/// The body as JSON, and whether it asked for `async`.
pub(super) fn body(c: &Call) -> Result<(Value, bool)> {
    Ok((c.json()?, c.wants_async))
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
    let (target, r) = c
        .services
        .template_create_task(&c.actor, &spec, wait)
        .await?;
    Ok(Reply::ran(r).on(target))
}

async fn copy_from(c: &Call, v: Value, wait: bool, prefix: &str) -> Result<Reply> {
    let req: CopyReq = from_value(v, prefix)?;
    let (src, spec) = req.into_spec()?;
    let (target, r) = c
        .services
        .template_copy_task(&c.actor, &src, &spec, wait)
        .await?;
    Ok(Reply::ran(r).on(target))
}

/// The operation a verb and its body name, checked before any task.
fn op_of(services: &Services, verb: &str, req: &OneReq, via: &str) -> Result<(Uuid, TemplateOp)> {
    let uuid = t::uuid("uuid", &req.uuid)?;
    let tpl = services.template_get(&uuid)?;
    let int = |field: &str, v: &Value, min: u64| -> Result<u32> {
        Ok(t::int(field, v, min, u32::MAX as u64)? as u32)
    };
    let op = match verb {
        "edit" => TemplateOp::Edit { via: via.into() },
        "reset" => TemplateOp::Reset,
        "save" => TemplateOp::Save {
            remark: req.desc.clone().unwrap_or_default(),
        },
        "iso_save" => TemplateOp::IsoSave,
        "rollback" => {
            let version = match (&req.version, &req.rollback_version) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(
                        "rollback_version",
                        "give the version once (`rollback_version` or `version`)",
                    ))
                }
                (Some(v), None) => int("version", v, 1)?,
                (None, Some(v)) => int("rollback_version", v, 0)?,
                (None, None) => match t::opt_uuid("operate_uuid", &req.operate_uuid)? {
                    Some(op) => tpl
                        .ops
                        .iter()
                        .find(|o| o.uuid == op)
                        .map(|o| o.version)
                        .ok_or_else(|| {
                            Error::invalid("operate_uuid", "is not an operation of this template")
                        })?,
                    None => return Err(Error::missing("rollback_version")),
                },
            };
            let current = req
                .cur_version
                .as_ref()
                .map(|v| int("cur_version", v, 0))
                .transpose()?;
            TemplateOp::Rollback { version, current }
        }
        "attach_source" => TemplateOp::Cdrom(Some(
            t::opt_uuid("iso_uuid", &req.iso_uuid)?.ok_or_else(|| Error::missing("iso_uuid"))?,
        )),
        "detach_source" => TemplateOp::Cdrom(None),
        "change_device" => TemplateOp::Cdrom(match req.path.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(
                iso_by_path(services)(p)
                    .ok_or_else(|| Error::invalid("path", format!("no ISO is known by `{p}`")))?,
            ),
        }),
        "delete" => TemplateOp::Delete,
        "download" => TemplateOp::Download,
        other => TemplateOp::power(other).ok_or_else(|| {
            Error::new(
                Code::UnknownAction,
                format!("Action `{other}` is not a template action"),
            )
        })?,
    };
    Ok((uuid, op))
}

/// One template operation by verb, as a task.
async fn one(
    services: &Arc<Services>,
    actor: &crate::service::Actor,
    verb: &str,
    req: OneReq,
    wait: bool,
    via: &str,
) -> Result<Ran<TemplateDone>> {
    let (uuid, op) = op_of(services, verb, &req, via)?;
    let (_, r) = services
        .template_op_task(actor, &uuid, op, Some(verb), wait)
        .await?;
    Ok(r)
}

/// `POST /api/v1/template/create` (file 000).
pub async fn server_create(c: Call) -> Result<Reply> {
    create_from(&c, c.json()?, !c.wants_async, "").await
}

/// `POST /api/v1/template/copy` (file 000).
pub async fn server_copy(c: Call) -> Result<Reply> {
    copy_from(&c, c.json()?, !c.wants_async, "").await
}

/// `POST /api/v1/template/console` (file 000): a SPICE ticket.
pub async fn server_console(c: Call) -> Result<Reply> {
    let req: OneReq = c.json()?;
    let console = c
        .services
        .template_console(&t::uuid("uuid", &req.uuid)?, &c.via)
        .await?;
    Ok(Reply::data(
        serde_json::to_value(console).map_err(Error::internal)?,
    ))
}

/// `POST /api/v1/template/<verb>` (file 000) for the operations on one
/// template (start, stop, save, delete, …); the route names the verb.
pub async fn server_op(c: Call, verb: &'static str) -> Result<Reply> {
    let req: OneReq = c.json()?;
    let r = one(&c.services, &c.actor, verb, req, !c.wants_async, &c.via).await?;
    Ok(Reply::ran(r))
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
            one(&c.services, &c.actor, verb, req, true, &c.via)
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
            let r = one(&c.services, &c.actor, &action, req, !is_async, &c.via).await?;
            Ok(Reply::ran(r))
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
    Ok(Reply::of(TemplateSummary::of(&out)).on(out.name))
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
