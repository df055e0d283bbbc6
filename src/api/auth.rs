//! Wire types of login, refresh, logout, first-admin setup and the admin
//! accounts the console manages.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::service::admin::AdminRow;
use crate::service::auth::Tokens;

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct LoginReq {
    pub name: String,
    pub password: String,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RefreshReq {
    pub refresh_token: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootPasswordReq {
    /// Needed on `setup/root_password` (before an admin exists).
    #[serde(default)]
    pub setup_token: Option<String>,
    pub password: String,
}

/// Keeps the password out of logs.
impl std::fmt::Debug for RootPasswordReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootPasswordReq { .. }")
    }
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct SetupAdminReq {
    pub setup_token: String,
    pub name: String,
    pub password: String,
}

pub fn tokens_view(t: &Tokens) -> Value {
    json!({
        "access_token": t.access_token,
        "refresh_token": t.refresh_token,
        "expires_in": t.expires_in,
        "token_type": "Bearer",
        "name": t.admin,
    })
}

#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct LogoutReq {
    /// `true` ends every session of the calling admin, on every browser.
    #[serde(default)]
    pub all: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminCreateReq {
    pub name: String,
    /// 8 to 128 characters.
    pub password: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdateReq {
    pub name: String,
    /// A new password (8 to 128 characters); ends the account's sessions
    /// unless it is the caller's own.
    #[serde(default)]
    pub password: Option<String>,
    /// `false` disables the account and ends its sessions.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct AdminNameReq {
    pub name: String,
}

/// Keeps passwords out of logs.
impl std::fmt::Debug for AdminCreateReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminCreateReq {{ name: {:?}, .. }}", self.name)
    }
}
impl std::fmt::Debug for AdminUpdateReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AdminUpdateReq {{ name: {:?}, enabled: {:?}, .. }}",
            self.name, self.enabled
        )
    }
}

pub const ADMIN_FIELDS: &[&str] = &["name", "enabled", "sessions"];

pub fn admin_view(r: &AdminRow) -> Value {
    json!({
        "name": r.admin.name,
        "enabled": r.admin.enabled,
        "sessions": r.sessions,
    })
}
