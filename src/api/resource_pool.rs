//! Wire types of resource pools (file 000 "资源池" and the web dialect), their
//! validation into domain types, and the pool's JSON row.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::clock::format_utc;
use crate::domain::pool::{NewPool, PoolPatch, ResourcePool};
use crate::domain::text;
use crate::error::{Error, Result};

/// `POST /api/v1/resource_pool/create`; also the web dialect's `create` param.
/// The document's table says `desc`, its example sends `description`: both work.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PoolCreateReq")]
pub struct CreateReq {
    pub name: String,
    pub desc: Option<String>,
    pub description: Option<String>,
    /// Make this the default pool (the first pool always is).
    pub default: Option<bool>,
}

/// `POST /api/v1/resource_pool/delete`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PoolDeleteReq")]
pub struct DeleteReq {
    pub uuid: String,
}

/// The attributes an update may change.
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PoolUpdateValue")]
pub struct UpdateValue {
    pub name: Option<String>,
    pub desc: Option<String>,
    pub description: Option<String>,
    /// `true` makes this the default pool; `false` is refused on the default.
    pub default: Option<bool>,
}

/// `POST /api/v1/resource_pool/update`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PoolUpdateReq")]
pub struct UpdateReq {
    pub uuid: String,
    pub value: UpdateValue,
}

/// `PUT /api/v1.0/resource_pool/`: `name` is the pool's current name.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PoolWebPutReq")]
pub struct WebPutReq {
    pub uuid: String,
    pub name: Option<String>,
    pub value: UpdateValue,
}

/// One item of a web-dialect batch.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PoolItem")]
pub struct Item {
    pub uuid: String,
    pub name: Option<String>,
}

/// `DELETE /api/v1.0/resource_pool/`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PoolWebDeleteReq")]
pub struct WebDeleteReq {
    pub resource_pools: Vec<Item>,
}

fn pick_desc(
    prefix: &str,
    desc: Option<String>,
    description: Option<String>,
) -> Result<Option<String>> {
    match (desc, description) {
        (Some(a), Some(b)) if a != b => Err(Error::invalid(
            &format!("{prefix}description"),
            "differs from `desc`; send one of them",
        )),
        (Some(a), _) | (None, Some(a)) => Ok(Some(text::desc(&format!("{prefix}desc"), &a)?)),
        (None, None) => Ok(None),
    }
}

impl CreateReq {
    pub fn into_domain(self) -> Result<NewPool> {
        Ok(NewPool {
            name: text::name("name", &self.name)?,
            desc: pick_desc("", self.desc, self.description)?.unwrap_or_default(),
            make_default: self.default.unwrap_or(false),
        })
    }
}

impl UpdateValue {
    pub fn into_domain(self) -> Result<PoolPatch> {
        let patch = PoolPatch {
            expect_name: None,
            name: self
                .name
                .map(|n| text::name("value.name", &n))
                .transpose()?,
            desc: pick_desc("value.", self.desc, self.description)?,
            make_default: self.default,
        };
        if patch == PoolPatch::default() {
            return Err(Error::invalid(
                "value",
                "names nothing to change (name, desc, default)",
            ));
        }
        Ok(patch)
    }
}

/// Validators for `"async": true` calls: the body is checked before a task
/// is started, so a bad body is refused at the edge.
pub fn check_create(body: &crate::api::Body) -> Result<()> {
    body.parse::<CreateReq>()?.into_domain().map(|_| ())
}

pub fn check_delete(body: &crate::api::Body) -> Result<()> {
    uuid("uuid", &body.parse::<DeleteReq>()?.uuid).map(|_| ())
}

pub fn check_update(body: &crate::api::Body) -> Result<()> {
    let req = body.parse::<UpdateReq>()?;
    uuid("uuid", &req.uuid)?;
    req.value.into_domain().map(|_| ())
}

pub use super::fields::uuid;

/// The fields of a pool row, in output order.
pub const FIELDS: &[&str] = &[
    "uuid",
    "name",
    "desc",
    "default",
    "created_at",
    "updated_at",
];

pub fn view(p: &ResourcePool) -> Value {
    json!({
        "uuid": p.uuid.to_string(),
        "name": p.name,
        "desc": p.desc,
        "default": p.is_default,
        "created_at": format_utc(p.created_at),
        "updated_at": format_utc(p.updated_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse;

    #[test]
    fn the_documented_example_with_description_parses() {
        let r: CreateReq =
            parse(r#"{"name": "default", "description": "默认资源池"}"#.as_bytes()).unwrap();
        let p = r.into_domain().unwrap();
        assert_eq!(
            (p.name.as_str(), p.desc.as_str(), p.make_default),
            ("default", "默认资源池", false)
        );
    }

    #[test]
    fn desc_and_description_must_agree() {
        let r: CreateReq = parse(br#"{"name":"a","desc":"x","description":"y"}"#).unwrap();
        assert!(r
            .into_domain()
            .unwrap_err()
            .message
            .contains("`description`"));
        let r: CreateReq = parse(br#"{"name":"a","desc":"x","description":"x"}"#).unwrap();
        assert_eq!(r.into_domain().unwrap().desc, "x");
    }

    #[test]
    fn empty_update_is_refused() {
        assert!(UpdateValue::default()
            .into_domain()
            .unwrap_err()
            .message
            .contains("`value`"));
        let v = UpdateValue {
            name: Some(" ".into()),
            ..Default::default()
        };
        assert!(v
            .into_domain()
            .unwrap_err()
            .message
            .contains("`value.name`"));
    }
}
