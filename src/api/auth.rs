//! Wire types of login, refresh, logout and first-admin setup.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

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
