//! The OpenAPI 3.0 description, generated from the route table, the wire
//! types' schemas, the listings' fields and `routes_doc` (parameters,
//! optional bodies, replies that are not the envelope), so it cannot drift
//! from what the server answers.

use schemars::gen::{SchemaGenerator, SchemaSettings};
use serde_json::{json, Map, Value};

use super::call::{Call, Method, Reply, Route};
use super::routes;
use super::routes_doc::{self, Answer, Doc, Kind};
use crate::domain::query::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::{Code, Result};

type Listings = crate::service::QueryEngine<crate::service::Services>;

const SUCCESS: &str = "#/components/schemas/SuccessEnvelope";
const ERROR: &str = "#/components/schemas/ErrorEnvelope";

fn openapi_path(p: &str) -> String {
    p.split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn query_param(name: &str, kind: Kind, required: bool, description: &str) -> Value {
    let schema = match kind {
        Kind::Text => json!({"type": "string"}),
        Kind::Uuid => json!({"type": "string", "format": "uuid"}),
        Kind::Int(i64::MIN) => json!({"type": "integer", "format": "int64"}),
        Kind::Int(min) => json!({"type": "integer", "format": "int64", "minimum": min}),
        Kind::OneOf(values) => json!({"type": "string", "enum": values}),
    };
    json!({"name": name, "in": "query", "required": required,
           "description": description, "schema": schema})
}

/// The generic web query's parameters over a listing's `fields`.
fn listing_params(fields: &[&str]) -> Vec<Value> {
    let needs = Code::QueryFilterRequired.number();
    let mut out = vec![
        json!({"name": "searchtype", "in": "query", "required": false,
               "description": format!("`all` (the default): every row, filtered by the field \
                   parameters when given (equal text). `contain`: rows whose fields contain the \
                   given texts (any case). `single`: the first row whose fields equal the given \
                   texts, as `data` itself (not a page). `contain` and `single` need at least one \
                   field parameter: without one the reply is error {needs}."),
               "schema": {"type": "string", "enum": ["all", "contain", "single"]}}),
        json!({"name": "page", "in": "query", "required": false,
               "description": "Page number, from 1 (default 1)",
               "schema": {"type": "integer", "minimum": 1}}),
        json!({"name": "page_size", "in": "query", "required": false,
               "description": format!("Rows per page (default {DEFAULT_PAGE_SIZE})"),
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}}),
        json!({"name": "ordering", "in": "query", "required": false,
               "description": "`-id` or `-created_at`: newest first; `id` or `created_at` (the default): oldest first",
               "schema": {"type": "string", "enum": ["id", "-id", "created_at", "-created_at"]}}),
        json!({"name": "created_at__gte", "in": "query", "required": false,
               "description": "Rows created at or after this UTC time (`YYYY-MM-DD[ hh:mm:ss]`). Any field \
                   takes `__gte`, `__gt`, `__lte` and `__lt`: numbers compare as numbers, text in byte order",
               "schema": {"type": "string"}}),
        json!({"name": "created_at__lt", "in": "query", "required": false,
               "description": "Rows created before this UTC time (`YYYY-MM-DD[ hh:mm:ss]`)",
               "schema": {"type": "string"}}),
    ];
    out.extend(fields.iter().map(|f| {
        json!({"name": f, "in": "query", "required": false,
               "description": format!("Field filter on `{f}` (see `searchtype`)"),
               "schema": {"type": "string"}})
    }));
    out
}

fn envelope_content(reference: &str) -> Value {
    json!({"application/json": {"schema": {"$ref": reference}}})
}

fn responses(d: &Doc) -> Value {
    let ok = match d.answer {
        Answer::Envelope => json!({"description": "Success: `{code: 0, msg, data}`",
                                   "content": envelope_content(SUCCESS)}),
        Answer::Json(schema) => json!({"description": "Success (not an envelope)",
                                       "content": {"application/json": {"schema": schema()}}}),
        Answer::Text(ct) => json!({"description": "Success: text",
                                   "content": {ct: {"schema": {"type": "string"}}}}),
        Answer::File => json!({"description": "Success: the file",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}),
    };
    json!({
        "200": ok,
        "default": {"description": "Error: `{code, msg, data: null}`, `code` from docs/errors.md, the HTTP status its kind's",
                    "content": envelope_content(ERROR)},
    })
}

/// A listing route's listing (`<listing>/query…`), if it is one.
fn listing_of<'a>(r: &Route, engine: &'a Listings) -> Option<&'a [&'static str]> {
    let (name, verb) = r.op.split_once('/')?;
    if r.method != Method::Get || !verb.starts_with("query") {
        return None;
    }
    engine.fields(name)
}

fn operation(r: &Route, gen: &mut SchemaGenerator, engine: &Listings) -> Value {
    let d = routes_doc::of(r.op);
    let mut op = json!({
        "operationId": r.op,
        "summary": r.summary,
        "tags": [r.tag],
        "responses": responses(d),
    });
    if r.public {
        op["security"] = json!([]);
    }
    if r.deprecated {
        op["deprecated"] = json!(true);
    }
    if r.streaming {
        op["requestBody"] = json!({"required": true, "content": {"application/octet-stream":
            {"schema": {"type": "string", "format": "binary"}}}});
    }
    if let Some(f) = r.body {
        let schema = serde_json::to_value(f(gen)).unwrap_or_else(|_| json!({}));
        let mut content = json!({"application/json": {"schema": schema}});
        if d.csv_body {
            content["text/csv"] = json!({"schema": {"type": "string"}});
        }
        op["requestBody"] = json!({"required": !d.body_optional, "content": content});
    }
    let mut params: Vec<Value> = Vec::new();
    if r.path.contains("/:") {
        params.push(
            json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}),
        );
    }
    if let Some(fields) = listing_of(r, engine) {
        params.extend(listing_params(fields));
    }
    params.extend(
        d.query
            .iter()
            .map(|&(name, kind, required, desc)| query_param(name, kind, required, desc)),
    );
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
    }
    op
}

/// OpenAPI 3.0 has no boolean schemas: `true` becomes `{}` and `false`
/// `{not: {}}` wherever a schema stands (`additionalProperties` may stay a
/// boolean).
fn no_boolean_schemas(schema: &mut Value) {
    match schema {
        Value::Bool(true) => *schema = json!({}),
        Value::Bool(false) => *schema = json!({"not": {}}),
        Value::Object(o) => {
            for key in ["items", "not", "additionalItems"] {
                if let Some(s) = o.get_mut(key) {
                    no_boolean_schemas(s);
                }
            }
            if let Some(s @ Value::Object(_)) = o.get_mut("additionalProperties") {
                no_boolean_schemas(s);
            }
            for key in ["allOf", "anyOf", "oneOf", "items"] {
                if let Some(Value::Array(list)) = o.get_mut(key) {
                    list.iter_mut().for_each(no_boolean_schemas);
                }
            }
            if let Some(Value::Object(props)) = o.get_mut("properties") {
                props.values_mut().for_each(no_boolean_schemas);
            }
        }
        _ => {}
    }
}

fn envelopes() -> (Value, Value) {
    let errors: Vec<i64> = Code::ALL.iter().map(|c| c.number()).collect();
    let success = json!({"type": "object", "required": ["code", "msg", "data"], "properties": {
        "code": {"type": "integer", "enum": [0]},
        "msg": {"type": "string"},
        "data": {"description": "The answer; its shape is the route's"},
    }});
    let error = json!({"type": "object", "required": ["code", "msg", "data"], "properties": {
        "code": {"type": "integer", "enum": errors, "description": "See docs/errors.md"},
        "msg": {"type": "string", "description": "What went wrong, naming the field or object"},
        "data": {"nullable": true, "enum": [null], "description": "Always null"},
    }});
    (success, error)
}

pub fn document() -> Value {
    let mut gen = SchemaGenerator::new(SchemaSettings::openapi3());
    let engine = crate::api::listings::engine();
    let mut paths: Map<String, Value> = Map::new();
    for r in routes::table() {
        let op = operation(&r, &mut gen, &engine);
        let entry = paths
            .entry(openapi_path(r.path))
            .or_insert_with(|| json!({}));
        entry[r.method.as_str()] = op;
    }
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut() {
            if let Some(content) = op
                .pointer_mut("/requestBody/content")
                .and_then(Value::as_object_mut)
            {
                for media in content.values_mut() {
                    if let Some(s) = media.get_mut("schema") {
                        no_boolean_schemas(s);
                    }
                }
            }
        }
    }
    let mut schemas: Map<String, Value> = gen
        .definitions()
        .iter()
        .map(|(k, v)| {
            let mut s = serde_json::to_value(v).unwrap_or_else(|_| json!({}));
            no_boolean_schemas(&mut s);
            (k.clone(), s)
        })
        .collect();
    let (success, error) = envelopes();
    schemas.insert("SuccessEnvelope".into(), success);
    schemas.insert("ErrorEnvelope".into(), error);
    json!({
        "openapi": "3.0.3",
        "info": {"title": "vdi-appliance", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Server dialect `/api/v1/<resource>/<verb>` and web dialect `/api/v1.0/<resource>/`. \
                     Every JSON reply is the envelope `{code, msg, data}` unless its route says otherwise."},
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
