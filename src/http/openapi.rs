//! The OpenAPI 3 description, generated from the route table and the wire
//! types' schemas, so it cannot drift from what the server answers.

use schemars::gen::{SchemaGenerator, SchemaSettings};
use serde_json::{json, Map, Value};

use super::call::{Call, Method, Reply};
use super::routes;
use crate::error::{Code, Result};

fn openapi_path(p: &str) -> String {
    p.split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub fn document() -> Value {
    let mut gen = SchemaGenerator::new(SchemaSettings::openapi3());
    let mut paths: Map<String, Value> = Map::new();
    for r in routes::table() {
        let mut op = json!({
            "operationId": r.op,
            "summary": r.summary,
            "tags": [r.tag],
            "responses": {
                "200": {"description": "Envelope `{code: 0, msg, data}`", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}},
                "default": {"description": "Error envelope; `code` from docs/errors.md", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}},
            },
        });
        if r.public {
            op["security"] = json!([]);
        }
        if r.deprecated {
            op["deprecated"] = json!(true);
        }
        if r.streaming {
            op["requestBody"] = json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}});
        }
        if let Some(f) = r.body {
            let mut schema = serde_json::to_value(f(&mut gen)).unwrap_or(Value::Null);
            if r.asyncable.is_some() {
                schema = json!({"allOf": [schema, {"type": "object", "properties": {"async": {"type": "boolean", "description": "Answer at once with `data.task_id`"}}}]});
            }
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        if r.method == Method::Get && r.path.starts_with("/api/v1.0/") {
            op["parameters"] = json!([
                {"name": "searchtype", "in": "query", "schema": {"type": "string", "enum": ["all", "contain", "single"]}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
            ]);
        }
        if r.path.contains("/:") {
            op["parameters"] = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
        }
        let entry = paths
            .entry(openapi_path(r.path))
            .or_insert_with(|| json!({}));
        entry[r.method.as_str()] = op;
    }
    let mut schemas: Map<String, Value> = gen
        .definitions()
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
        .collect();
    schemas.insert(
        "Envelope".into(),
        json!({"type": "object", "required": ["code", "msg"], "properties": {
            "code": {"type": "integer", "description": "0 on success", "enum": std::iter::once(0).chain(Code::ALL.iter().map(|c| c.number())).collect::<Vec<_>>()},
            "msg": {"type": "string"},
            "data": {}
        }}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {"title": "vdi-appliance", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Server dialect `/api/v1/<resource>/<verb>` and web dialect `/api/v1.0/<resource>/`."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

pub async fn get(_c: Call) -> Result<Reply> {
    let mut r = Reply::data(document());
    r.raw = true;
    Ok(r)
}
