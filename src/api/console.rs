//! Wire types of the console gateway: `console/open`'s request and reply.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::console::{Protocol, Target};
use crate::error::{Error, Result};
use crate::service::console::Opened;

/// The gateway's WebSocket path; the token follows.
pub const WS_PATH: &str = "/api/v1/console/ws/";

/// `POST /api/v1/console/open`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct OpenReq {
    /// `template` or `desktop`.
    pub kind: String,
    /// The template's or desktop's uuid.
    pub uuid: String,
    /// `vnc` (noVNC) or `spice` (spice-html5); `vnc` when left out.
    #[serde(default)]
    pub protocol: Option<String>,
}

impl OpenReq {
    /// The request as domain values, each bad field named.
    pub fn parts(&self) -> Result<(Target, Uuid, Protocol)> {
        let target = self
            .kind
            .parse()
            .map_err(|_| Error::invalid("kind", "must be `template` or `desktop`"))?;
        let uuid = crate::domain::text::uuid("uuid", &self.uuid)?;
        let protocol = match &self.protocol {
            None => Protocol::Vnc,
            Some(p) => p
                .parse()
                .map_err(|_| Error::invalid("protocol", "must be `vnc` or `spice`"))?,
        };
        Ok((target, uuid, protocol))
    }
}

pub fn opened_view(o: &Opened) -> Value {
    json!({
        "token": o.token,
        "expires_in": o.expires_in,
        "protocol": o.protocol.as_str(),
        "path": format!("{WS_PATH}{}", o.token),
        "password": o.password,
        "vv": o.vv,
    })
}
