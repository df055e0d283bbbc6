//! The terminal API (`/api/v1/terminal/…`, public routes each authenticated
//! by what it carries: a session, or a classroom terminal's address), the
//! admin's terminal registry (`/api/v1.0/terminal/`) and the CSV user import.

use serde_json::{json, Value};

use super::call::{Call, Reply};
use crate::api::template::uuid;
use crate::api::terminal::{self as t, *};
use crate::api::user::{import_rows, UserImportReq};
use crate::api::{from_value, user as u};
use crate::error::{Error, Result};

pub async fn login(c: Call) -> Result<Reply> {
    let req: LoginReq = c.json()?;
    let (name, mac) = req.parts()?;
    let l = c
        .services
        .terminal_login(&c.actor, &name, &req.password, &mac)
        .await?;
    Ok(Reply::data(t::login_view(&l)).on(format!("{name} on {mac}")))
}

pub async fn logout(c: Call) -> Result<Reply> {
    let req: SessionReq = c.json()?;
    c.services.terminal_logout(&req.session_id).await?;
    Ok(Reply::data(json!({})))
}

pub async fn change_pwd(c: Call) -> Result<Reply> {
    let req: ChangePwdReq = c.json()?;
    let (name, new) = (
        req.name()?,
        req.new_password(&c.services.settings.user_password)?,
    );
    c.services
        .terminal_change_password(&c.actor, &name, &req.password, &new)
        .await?;
    Ok(Reply::data(json!({})).on(name))
}

pub async fn person_desktops(c: Call) -> Result<Reply> {
    let req: SessionReq = c.json()?;
    let list = c.services.terminal_person_desktops(&req.session_id)?;
    Ok(Reply::data(Value::Array(
        list.iter().map(t::person_desktop_view).collect(),
    )))
}

pub async fn edu_desktops(c: Call) -> Result<Reply> {
    let req: EduDesktopsReq = c.json()?;
    let list = c.services.terminal_edu_desktops(&c.actor, req.ip()?)?;
    Ok(Reply::data(Value::Array(
        list.iter().map(t::edu_desktop_view).collect(),
    )))
}

pub async fn personal_instance(c: Call) -> Result<Reply> {
    let req: PersonalOpenReq = c.json()?;
    let o = c
        .services
        .terminal_personal_open(&req.session_id, &req.group()?, &c.via)
        .await?;
    Ok(Reply::data(t::opened_view(&o)).on(o.desktop.name.clone()))
}

pub async fn edu_instance(c: Call) -> Result<Reply> {
    let req: EduOpenReq = c.json()?;
    let (seat, mac, ip, group) = req.parts()?;
    let o = c
        .services
        .terminal_edu_open(&c.actor, seat, &mac, ip, &group, &c.via)
        .await?;
    Ok(Reply::data(t::opened_view(&o)).on(format!("{} for seat {seat} ({mac})", o.desktop.name)))
}

pub async fn instance_list(c: Call) -> Result<Reply> {
    let v: Value = c.json()?;
    let list = c.services.terminal_bindings(&t::bindings_req(v)?)?;
    Ok(Reply::data(Value::Array(
        list.iter().map(t::binding_view).collect(),
    )))
}

pub async fn instance_close(c: Call) -> Result<Reply> {
    let req: CloseReq = c.json()?;
    let id = req.desktop()?;
    c.services.terminal_desktop_close(&c.actor, &id).await?;
    Ok(Reply::data(json!({})).on(id.to_string()))
}

pub async fn personal_close(c: Call) -> Result<Reply> {
    let req: PersonalCloseReq = c.json()?;
    let mac = req.mac()?;
    c.services
        .terminal_personal_close(&c.actor, &req.session_id, &mac)
        .await?;
    Ok(Reply::data(json!({})).on(mac.to_string()))
}

pub async fn edu_close(c: Call) -> Result<Reply> {
    let req: MacReq = c.json()?;
    let mac = req.mac()?;
    c.services.terminal_edu_close(&c.actor, &mac).await?;
    Ok(Reply::data(json!({})).on(mac.to_string()))
}

pub async fn groups(c: Call) -> Result<Reply> {
    // The document sends no parameters; an empty body or `{}` both do.
    c.no_fields()?;
    let list = c.services.group_list()?;
    Ok(Reply::data(Value::Array(
        list.iter().map(t::group_brief).collect(),
    )))
}

pub async fn edu_group(c: Call) -> Result<Reply> {
    let req: TerminalIpReq = c.json()?;
    let g = c.services.terminal_edu_group(&c.actor, req.ip()?)?;
    Ok(Reply::data(
        json!({"name": g.name, "uuid": g.uuid.to_string()}),
    ))
}

/// `PUT /api/v1.0/terminal/`: rename or re-seat.
pub async fn web_put(c: Call) -> Result<Reply> {
    let req: TerminalPutReq = c.json()?;
    let (id, patch) = req.patch()?;
    let term = c.services.terminal_update(&id, patch).await?;
    Ok(Reply::data(
        json!({"uuid": term.uuid.to_string(), "mac": term.mac.to_string(),
                           "name": term.name, "terminal_id": term.seat}),
    )
    .on(term.mac.to_string()))
}

/// `DELETE /api/v1.0/terminal/`: forget terminals (they come back when
/// they call again).
pub async fn web_delete(c: Call) -> Result<Reply> {
    let req: TerminalDeleteReq = c.json()?;
    let mut results = Vec::new();
    for item in &req.terminals {
        let r = match uuid("terminals.uuid", &item.uuid) {
            Ok(id) => c.services.terminal_delete(&id).await.map(|_| ()),
            Err(e) => Err(e),
        };
        results.push(r);
    }
    Reply::tally(results)
}

/// `POST /api/v1/group/user/import`: JSON `{group_uuid, csv}`, or the CSV
/// file itself as the body with `?group_uuid=`.
pub async fn user_import(c: Call) -> Result<Reply> {
    let rows = match c.query_value("group_uuid") {
        Some(g) => {
            let text = std::str::from_utf8(&c.body.bytes)
                .map_err(|_| Error::invalid("csv", "must be UTF-8 text"))?;
            import_rows(
                uuid("group_uuid", g)?,
                text,
                true,
                &c.services.settings.user_password,
            )?
        }
        None => {
            let req: UserImportReq = from_value(c.json()?, "")?;
            req.into_rows(&c.services.settings.user_password)?
        }
    };
    let list = c.services.user_import(rows).await?;
    Ok(Reply::data(json!({
        "success_num": list.len(), "failed_num": 0,
        "users": list.iter().map(|x| u::user_view(x, None)).collect::<Vec<_>>(),
    }))
    .on(format!("{} users", list.len())))
}
