//! Health, tasks and the generic web query routes.

use serde_json::{json, Value};

use super::call::{Call, Reply};
use crate::api::task::task_view;
use crate::domain::query;
use crate::error::{Code, Error, Result};
use crate::service::Answer;

pub async fn health(c: Call) -> Result<Reply> {
    let h = c.services.health_get();
    // Public: reachability only; versions and URIs are not for anonymous callers.
    let libvirt = match &h.libvirt {
        None => json!({"reachable": Value::Null, "checked_s_ago": Value::Null}),
        Some(Ok(_)) => json!({"reachable": true, "checked_s_ago": h.libvirt_checked_s_ago}),
        Some(Err(e)) => {
            json!({"reachable": false, "error": e, "checked_s_ago": h.libvirt_checked_s_ago})
        }
    };
    Ok(Reply::data(json!({
        "version": h.version,
        "uptime_s": h.uptime_s,
        "state": if h.stopping { "stopping" } else { "running" },
        "store": {"ok": h.store_ok, "schema_version": h.store_schema},
        "libvirt": libvirt,
        "role": h.role,
        "controller": h.controller,
        // Public on purpose: terminals show it before `personal/change_pwd`,
        // the console before creating users.
        "user_password": {
            "min_length": c.services.settings.user_password.min,
            "max_length": crate::domain::user::PASSWORD_MAX,
        },
    })))
}

pub async fn task_get(c: Call) -> Result<Reply> {
    let id = uuid::Uuid::parse_str(c.param("id")).map_err(|_| {
        Error::new(
            Code::TaskNotFound,
            format!("Task `{}` does not exist", c.param("id")),
        )
    })?;
    Ok(Reply::data(task_view(&c.services.task_get(&id)?)))
}

fn page_link(path: &str, pairs: &[(String, String)], page: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != "page") {
        s.append_pair(k, v);
    }
    s.append_pair("page", &page.to_string());
    format!("{path}?{}", s.finish())
}

/// `GET /api/v1.0/<resource>/?searchtype=…` for every registered listing:
/// the listing is the op's first part (`instance/query_education` reads
/// `instance`).
pub async fn query(c: Call) -> Result<Reply> {
    let name = c.op.split('/').next().unwrap_or(c.op).to_string();
    query_listing(c, &name).await
}

/// The generic query (`searchtype`, filters, paging) over listing `name`.
pub async fn query_listing(c: Call, name: &str) -> Result<Reply> {
    let q = query::parse(&c.query)?;
    let services = c.services.clone();
    // A rebuild reads the whole table: it runs on a blocking thread, not on
    // the executor that serves every other request.
    let answer = if services.query.is_fresh(&services, name) {
        services.query.run(&services, name, &q)?
    } else {
        let (name, q2) = (name.to_string(), q.clone());
        smol::unblock(move || services.query.run(&services, &name, &q2)).await?
    };
    match answer {
        Answer::Single(row) => Ok(Reply::json_text(row)),
        Answer::Page { count, rows, .. } => Ok(page_reply(&c, &q, count, &rows)),
    }
}

/// One page of a listing as the generic query answers it: `count`,
/// `next` and `previous` links, and `results` (`rows`: JSON text already).
pub(super) fn page_reply(c: &Call, q: &query::Query, count: usize, rows: &str) -> Reply {
    let last = count.div_ceil(q.page_size).max(1);
    let next = (q.page < last).then(|| page_link(&c.path, &c.query, q.page + 1));
    let previous = (q.page > 1).then(|| page_link(&c.path, &c.query, (q.page - 1).min(last)));
    let head = json!({"count": count, "next": next, "previous": previous}).to_string();
    // `{"count":…,"previous":…` + `,"results":[…]}`.
    Reply::json_text(format!("{},\"results\":{rows}}}", &head[..head.len() - 1]))
}

/// `GET /api/v1/system/config`: the running configuration, read-only.
pub async fn config(c: Call) -> Result<Reply> {
    Ok(Reply::data(crate::api::config_view(&c.services.config())))
}
