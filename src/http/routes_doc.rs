//! What a row of the route table does not say about a route but its OpenAPI
//! description must: query parameters, bodies that may be left out, replies
//! that are not the envelope, and the schemas of bodies that are not one
//! wire type (`async` added to a type, file 001's `{action, param}`).

use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject, SingleOrVec};
use schemars::JsonSchema;
use serde_json::{json, Value};

use super::call::SchemaFn;
use crate::api::{desktop, resource_pool, template};

/// What a successful call answers.
#[derive(Clone, Copy)]
pub enum Answer {
    /// The envelope `{code: 0, msg, data}` (nearly every route).
    Envelope,
    /// A JSON document of its own, described by the given schema.
    Json(fn() -> Value),
    /// Text (`Content-Type` as given).
    Text(&'static str),
    /// A file: `application/octet-stream`.
    File,
}

/// The type of a query parameter's value.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Text,
    Uuid,
    /// A whole number of at least the given value.
    Int(i64),
    OneOf(&'static [&'static str]),
}

/// One query parameter: name, type, required, description.
pub type Param = (&'static str, Kind, bool, &'static str);

/// The OpenAPI facts of one route beyond its row.
pub struct Doc {
    pub query: &'static [Param],
    /// The handler accepts an empty body as well as the documented one.
    pub body_optional: bool,
    /// The body may also be CSV text (`text/csv`).
    pub csv_body: bool,
    pub answer: Answer,
}

const UPLOAD: &[Param] = &[
    ("name", Kind::Text, true, "The image's name"),
    (
        "os_type",
        Kind::Text,
        false,
        "Operating system, e.g. `windows_10` or `linux`",
    ),
    (
        "md5_sum",
        Kind::Text,
        false,
        "The file's md5 (hex); the upload is refused when it differs",
    ),
];

const IMAGE_UPLOAD: &[Param] = &[
    UPLOAD[0],
    UPLOAD[1],
    UPLOAD[2],
    (
        "pool_uuid",
        Kind::Uuid,
        false,
        "The resource pool whose nodes get a copy (default: the default pool)",
    ),
];

fn openapi_answer() -> Value {
    json!({"type": "object", "required": ["openapi", "info", "paths"],
           "description": "This document (not an envelope)"})
}

fn ipaddr_answer() -> Value {
    json!({"type": "object", "required": ["ipaddr"], "additionalProperties": false,
           "description": "File 001's bare answer (not an envelope)",
           "properties": {"ipaddr": {"type": "string", "format": "ipv4"}}})
}

const METRICS: &[&str] = &[
    "cpu",
    "cpu_user",
    "cpu_system",
    "memory",
    "memory_used",
    "nic_up",
    "nic_down",
    "disk_read",
    "disk_write",
    "disk_used",
    "disk",
    "load1",
];

const PLAIN: Doc = Doc {
    query: &[],
    body_optional: false,
    csv_body: false,
    answer: Answer::Envelope,
};

const OPTIONAL_BODY: Doc = Doc {
    body_optional: true,
    ..PLAIN
};

/// Every route with something to add, by `operationId` (a unit test keeps
/// each name a route's).
const DOCS: &[(&str, Doc)] = &[
    (
        "openapi/get",
        Doc {
            answer: Answer::Json(openapi_answer),
            ..PLAIN
        },
    ),
    (
        "metrics",
        Doc {
            answer: Answer::Text("text/plain"),
            ..PLAIN
        },
    ),
    (
        "template/ipaddr",
        Doc {
            answer: Answer::Json(ipaddr_answer),
            query: &[(
                "subnet_uuid",
                Kind::Uuid,
                true,
                "The subnet (file 001's misspelling `subnet_uui` is accepted too)",
            )],
            ..PLAIN
        },
    ),
    (
        "template/download_file",
        Doc {
            answer: Answer::File,
            query: &[(
                "path",
                Kind::Text,
                true,
                "The `path` template/download answered",
            )],
            ..PLAIN
        },
    ),
    (
        "internal/file",
        Doc {
            answer: Answer::File,
            query: &[
                ("node_uuid", Kind::Uuid, true, "The pulling node"),
                ("path", Kind::Text, true, "The file on the controller"),
                ("offset", Kind::Int(0), false, "Resume from this byte"),
            ],
            ..PLAIN
        },
    ),
    (
        "base_image/upload",
        Doc {
            query: IMAGE_UPLOAD,
            ..PLAIN
        },
    ),
    (
        "base_image/upload_post",
        Doc {
            query: IMAGE_UPLOAD,
            ..PLAIN
        },
    ),
    (
        "iso/upload",
        Doc {
            query: UPLOAD,
            ..PLAIN
        },
    ),
    (
        "iso/upload_post",
        Doc {
            query: UPLOAD,
            ..PLAIN
        },
    ),
    (
        "monitor/history",
        Doc {
            query: &[
                ("node_uuid", Kind::Uuid, true, "The node"),
                (
                    "metric",
                    Kind::OneOf(METRICS),
                    false,
                    "The figure (default `cpu`)",
                ),
                (
                    "device",
                    Kind::Text,
                    false,
                    "A NIC or disk name, for per-device figures",
                ),
                (
                    "start",
                    Kind::Int(i64::MIN),
                    false,
                    "Unix seconds (default: an hour before `end`)",
                ),
                (
                    "end",
                    Kind::Int(i64::MIN),
                    false,
                    "Unix seconds (default: now)",
                ),
                (
                    "step",
                    Kind::Int(1),
                    false,
                    "Seconds per point (default: about 120 points, at least 30 s)",
                ),
            ],
            ..PLAIN
        },
    ),
    (
        "template/operate",
        Doc {
            query: &[
                ("template", Kind::Uuid, true, "The template"),
                (
                    "exist",
                    Kind::OneOf(&["0", "1"]),
                    false,
                    "`1`: only versions whose files exist",
                ),
                ("page", Kind::Int(1), false, "Page number (default 1)"),
                (
                    "page_size",
                    Kind::Int(1),
                    false,
                    "Rows per page (default 20, at most 1000)",
                ),
            ],
            ..PLAIN
        },
    ),
    (
        "template/query",
        Doc {
            query: &[(
                "group",
                Kind::Uuid,
                false,
                "A classroom: lists the templates it may use instead (paging only)",
            )],
            ..PLAIN
        },
    ),
    (
        "user/import",
        Doc {
            csv_body: true,
            query: &[(
                "group_uuid",
                Kind::Uuid,
                false,
                "With it the body is the CSV file itself (`text/csv`)",
            )],
            ..PLAIN
        },
    ),
    ("system/metrics_token", OPTIONAL_BODY),
    ("auth/logout", OPTIONAL_BODY),
    ("network/confirm", OPTIONAL_BODY),
    ("terminal/instance/groups", OPTIONAL_BODY),
];

/// The facts of route `op` (an `operationId`).
pub fn of(op: &str) -> &'static Doc {
    DOCS.iter()
        .find(|(name, _)| *name == op)
        .map_or(&PLAIN, |(_, d)| d)
}

// ------------------------------------------------------------------ bodies

/// `T`'s schema as an object schema of its own (a reference is resolved
/// to a copy, so adding to it leaves the shared definition alone).
fn object_of<T: JsonSchema>(g: &mut SchemaGenerator) -> SchemaObject {
    let s = g.subschema_for::<T>();
    let s = g.dereference(&s).cloned().unwrap_or(s);
    match s {
        Schema::Object(o) => o,
        Schema::Bool(_) => SchemaObject::default(),
    }
}

fn bool_schema(description: &str) -> Schema {
    let mut s = SchemaObject {
        instance_type: Some(SingleOrVec::Single(Box::new(InstanceType::Boolean))),
        ..Default::default()
    };
    s.metadata().description = Some(description.into());
    Schema::Object(s)
}

/// `T`'s body plus the optional `async` flag of slow calls.
pub fn with_async_schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    let mut o = object_of::<T>(g);
    o.object().properties.insert(
        "async".into(),
        bool_schema("`true`: answer at once with `data.task_id` instead of waiting"),
    );
    Schema::Object(o)
}

fn to_schema(v: Value) -> Schema {
    serde_json::from_value(v).unwrap_or(Schema::Bool(true))
}

fn reference<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    serde_json::to_value(g.subschema_for::<T>()).unwrap_or(json!({}))
}

/// One `{action, param}` form: the actions it names and its `param`.
fn action(actions: &[&str], param: Value, asyncable: bool) -> Value {
    let mut v = json!({
        "type": "object",
        "required": ["action", "param"],
        "properties": {"action": {"type": "string", "enum": actions}, "param": param},
    });
    if asyncable {
        v["properties"]["async"] = json!({"type": "boolean",
            "description": "`true`: answer at once with `data.task_id` instead of waiting"});
    }
    v
}

/// `POST /api/v1.0/voi/education/template/` (file 001).
pub fn template_actions(g: &mut SchemaGenerator) -> Schema {
    to_schema(json!({"oneOf": [
        action(&["create"], reference::<template::CreateReq>(g), true),
        action(&["copy"], reference::<template::CopyReq>(g), true),
        action(&["start", "stop", "hard_stop", "reboot", "hard_reboot", "reset"],
               reference::<template::BatchReq>(g), false),
        action(&["edit", "attach_source", "detach_source", "iso_save", "save", "rollback", "download"],
               reference::<template::OneReq>(g), true),
    ]}))
}

/// `POST /api/v1.0/voi/education/desktop/` (file 001).
pub fn desktop_actions(g: &mut SchemaGenerator) -> Schema {
    to_schema(json!({"oneOf": [
        action(&["create"], reference::<desktop::CreateReq>(g), true),
        action(&["default"], reference::<desktop::NameUuid>(g), false),
        action(&["active", "inactive", "start", "stop", "hard_stop", "reboot", "hard_reboot"],
               reference::<desktop::BatchReq>(g), false),
    ]}))
}

/// `POST /api/v1.0/resource_pool/` (file 001 conventions).
pub fn pool_actions(g: &mut SchemaGenerator) -> Schema {
    let mut v = action(&["create"], reference::<resource_pool::CreateReq>(g), false);
    v["additionalProperties"] = json!(false);
    to_schema(v)
}

/// `POST /api/v1.0/voi/education/group/`: the group, bare or as `param`.
pub fn group_create_forms(g: &mut SchemaGenerator) -> Schema {
    let group = reference::<template::GroupReq>(g);
    to_schema(json!({"oneOf": [
        group.clone(),
        {"type": "object", "required": ["param"],
         "properties": {"action": {"type": "string", "description": "Ignored (`create`)"}, "param": group}},
    ]}))
}

/// Deleting groups: one `{uuid}`, or a batch `{groups: [{uuid}]}`.
pub fn group_delete_forms(g: &mut SchemaGenerator) -> Schema {
    let one = reference::<template::NameUuid>(g);
    to_schema(json!({"oneOf": [
        one.clone(),
        {"type": "object", "required": ["groups"],
         "properties": {"groups": {"type": "array", "items": one}}},
    ]}))
}

/// `POST /api/v1/desktop/personal/create`: the group, bare or as
/// `{action, param}`.
pub fn personal_create_forms(g: &mut SchemaGenerator) -> Schema {
    let bare =
        serde_json::to_value(with_async_schema::<desktop::CreateReq>(g)).unwrap_or(json!({}));
    to_schema(json!({"oneOf": [
        bare,
        action(&["create"], reference::<desktop::CreateReq>(g), true),
    ]}))
}

/// The schema of body `T`, for a route's `.body(…)`.
pub(super) fn schema<T: JsonSchema>() -> Option<SchemaFn> {
    Some(|g: &mut SchemaGenerator| -> Schema { g.subschema_for::<T>() })
}

/// `T`'s body plus the optional `"async": true` of slow calls.
pub(super) fn with_async<T: JsonSchema>() -> Option<SchemaFn> {
    Some(with_async_schema::<T>)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_names_a_route() {
        let ops: Vec<&str> = super::super::routes::table().iter().map(|r| r.op).collect();
        for (name, _) in DOCS {
            assert!(
                ops.contains(name),
                "routes_doc names `{name}`, no route has it"
            );
        }
    }
}
