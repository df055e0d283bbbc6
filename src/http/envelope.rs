//! The reply envelope `{code, msg, data}` and its HTTP status.

use serde_json::{json, Value};
use tide::{Body, Response, StatusCode};

use crate::error::Error;

/// Marks a response as already enveloped (the fallback leaves it alone).
#[derive(Clone, Copy)]
pub struct Enveloped;

pub const OK_MSG: &str = "success";

fn json_response(status: u16, v: &Value) -> Response {
    let status = StatusCode::try_from(status).unwrap_or(StatusCode::InternalServerError);
    let mut res = Response::new(status);
    res.set_body(Body::from_string(v.to_string()));
    res.set_content_type("application/json; charset=utf-8");
    res.insert_ext(Enveloped);
    res
}

pub fn ok(data: Value) -> Response {
    json_response(200, &json!({"code": 0, "msg": OK_MSG, "data": data}))
}

/// Success with `data` given as JSON text.
pub fn ok_text(data: &str) -> Response {
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(Body::from_string(format!(
        "{{\"code\":0,\"msg\":\"{OK_MSG}\",\"data\":{data}}}"
    )));
    res.set_content_type("application/json; charset=utf-8");
    res.insert_ext(Enveloped);
    res
}

/// A JSON document that is not an envelope (the OpenAPI description).
pub fn raw(v: Value) -> Response {
    json_response(200, &v)
}

pub fn err(e: &Error) -> Response {
    json_response(
        e.kind().status(),
        &json!({"code": e.code.number(), "msg": e.public_message(), "data": Value::Null}),
    )
}
