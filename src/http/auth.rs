//! Login, refresh, logout and first-admin setup routes.

use serde_json::{json, Value};

use super::call::{Call, Reply};
use crate::api::auth::{tokens_view, LoginReq, RefreshReq, SetupAdminReq};
use crate::error::Result;

pub async fn login(c: Call) -> Result<Reply> {
    let req: LoginReq = c.json()?;
    let t = c.services.auth_login(&req.name, &req.password).await?;
    Ok(Reply::data(tokens_view(&t)).on(req.name))
}

pub async fn refresh(c: Call) -> Result<Reply> {
    let req: RefreshReq = c.json()?;
    let t = c.services.auth_refresh(&req.refresh_token).await?;
    Ok(Reply::data(tokens_view(&t)).on(t.admin.clone()))
}

pub async fn logout(c: Call) -> Result<Reply> {
    if let Some(t) = &c.token {
        c.services.auth_logout(t).await?;
    }
    Ok(Reply::data(Value::Null).on(c.actor.name.clone()))
}

pub async fn setup_admin(c: Call) -> Result<Reply> {
    let req: SetupAdminReq = c.json()?;
    c.services
        .auth_setup_admin(&req.setup_token, &req.name, &req.password)
        .await?;
    Ok(Reply::data(json!({"name": req.name})).on(req.name))
}

/// `POST /api/v1/setup/root_password` (with the setup token) and
/// `/api/v1/system/root_password` (an admin): this host's root password.
pub async fn root_password(c: Call) -> Result<Reply> {
    let req: crate::api::auth::RootPasswordReq = c.json()?;
    let token = if c.op == "setup/root_password" {
        Some(
            req.setup_token
                .as_deref()
                .ok_or_else(|| crate::error::Error::missing("setup_token"))?,
        )
    } else {
        None
    };
    c.services.root_password_set(token, &req.password).await?;
    Ok(Reply::data(json!({"user": "root"})).on("root"))
}
