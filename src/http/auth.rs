//! Login, refresh, logout, first-admin setup and admin-account routes.

use serde_json::{json, Value};

use super::call::{Call, Reply};
use crate::api::auth::{
    admin_view, tokens_view, AdminCreateReq, AdminNameReq, AdminUpdateReq, LoginReq, LogoutReq,
    RefreshReq, SetupAdminReq,
};
use crate::error::Result;
use crate::service::admin::{AdminChange, AdminRow};

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

/// `POST /api/v1/logout`, body optional: `{"all": true}` ends every
/// session of the caller.
pub async fn logout(c: Call) -> Result<Reply> {
    let req: LogoutReq = if c.body.is_empty() {
        LogoutReq::default()
    } else {
        c.json()?
    };
    let mut ended = 0;
    if let Some(t) = &c.token {
        ended = if req.all {
            c.services.auth_logout_all(t).await?
        } else {
            c.services.auth_logout(t).await?;
            1
        };
    }
    Ok(Reply::data(json!({ "sessions_ended": ended })).on(c.actor.name.clone()))
}

pub async fn admin_create(c: Call) -> Result<Reply> {
    let req: AdminCreateReq = c.json()?;
    let a = c.services.admin_create(&req.name, &req.password).await?;
    let row = AdminRow {
        admin: a,
        sessions: 0,
    };
    Ok(Reply::data(admin_view(&row)).on(req.name))
}

pub async fn admin_update(c: Call) -> Result<Reply> {
    let req: AdminUpdateReq = c.json()?;
    let change = AdminChange {
        password: req.password,
        enabled: req.enabled,
    };
    let a = c
        .services
        .admin_update(&c.actor.name, &req.name, change)
        .await?;
    let row = AdminRow {
        admin: a,
        sessions: 0,
    };
    Ok(Reply::data(admin_view(&row)).on(req.name))
}

pub async fn admin_delete(c: Call) -> Result<Reply> {
    let req: AdminNameReq = c.json()?;
    c.services.admin_delete(&c.actor.name, &req.name).await?;
    Ok(Reply::data(Value::Null).on(req.name))
}

pub async fn setup_admin(c: Call) -> Result<Reply> {
    let req: SetupAdminReq = c.json()?;
    c.services
        .auth_setup_admin(&req.setup_token, &req.name, &req.password)
        .await?;
    Ok(Reply::data(json!({"name": req.name})).on(req.name))
}

/// `POST /api/v1/setup/root_password` (`setup`: with the setup token) and
/// `/api/v1/system/root_password` (an admin): this host's root password.
pub async fn root_password(c: Call, setup: bool) -> Result<Reply> {
    let req: crate::api::auth::RootPasswordReq = c.json()?;
    let token = if setup {
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
