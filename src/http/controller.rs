//! First boot over HTTP: setup status (public), `controller/init` (waits
//! for its task, or answers the task id with `"async": true`).

use serde_json::json;

use super::call::{Call, Reply};
use crate::api::controller::InitReq;

use crate::error::{Error, Result};

/// `GET /api/v1/setup/status`: what the first-boot page needs to know
/// before anyone has logged in.
pub async fn setup_status(c: Call) -> Result<Reply> {
    let rec = c.services.controller_status()?;
    Ok(Reply::data(json!({
        "admin_exists": c.services.auth_admin_exists()?,
        "initialised": rec.is_some(),
        "node_uuid": rec.as_ref().map(|r| r.node.to_string()),
        "initialised_at": rec.as_ref().map(|r| crate::domain::clock::format_utc(r.initialised_at)),
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

pub async fn init(c: Call) -> Result<Reply> {
    let wants_async = c.wants_async;
    let req: InitReq = c.json()?;
    let spec = req.into_domain()?;
    let answers = InitReq::answers(&spec);
    let target = spec.ip.to_string();
    let plan = c.services.controller_init_plan(spec, answers).await?;
    let (task, done) = c.services.controller_init(&c.actor, plan).await?;
    if wants_async {
        let mut r = Reply::data(json!({ "task_id": task.to_string() })).on(target);
        r.note = Some(format!("queued as task {task}"));
        return Ok(r);
    }
    let out = done
        .recv()
        .await
        .map_err(|_| Error::internal("the initialisation task ended without a result"));
    // Answer once the task's end is on record too.
    c.services.task_settled(&task).await?;
    let out = out??;
    let mut data = out.to_json();
    data["task_id"] = json!(task.to_string());
    Ok(Reply::data(data).on(target))
}
