//! Wire types: request bodies (strict: unknown fields are refused), their
//! validation into domain types, and the JSON views of domain objects.

pub mod auth;
pub mod bond;
pub mod console;
pub mod controller;
pub mod desktop;
pub mod fields;
pub mod listings;
pub mod monitor;
pub mod network;
pub mod node;
pub mod resource_pool;
pub mod task;
pub mod template;
pub mod terminal;
pub mod user;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Code, Error, Result};

/// A request body as the dispatcher read it: its bytes, and their JSON
/// value parsed once (absent when the body is empty or not JSON; `parse`
/// then reports why). Handlers, validators and the operation log all read
/// this one value.
#[derive(Default, Debug, Clone)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub json: Option<Value>,
}

impl Body {
    /// Reads `bytes` once: `(the body, its "async" flag)`, `"async"` taken
    /// out of the value (a non-boolean is refused naming the field).
    pub fn read(bytes: Vec<u8>) -> Result<(Body, bool)> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok((Body { bytes, json: None }, false));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut v) => {
                let a = take_async(&mut v)?;
                Ok((
                    Body {
                        bytes,
                        json: Some(v),
                    },
                    a,
                ))
            }
            Err(_) => Ok((Body { bytes, json: None }, false)),
        }
    }

    /// No body, or only blanks.
    pub fn is_empty(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace)
    }

    /// The body as `T`, naming the offending field on any error.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T> {
        match &self.json {
            Some(v) => from_de(v, ""),
            None => parse(&self.bytes),
        }
    }

    /// The body as text (without `"async"`), as a task records its input.
    pub fn text(&self) -> String {
        match &self.json {
            Some(v) => v.to_string(),
            None => String::from_utf8_lossy(&self.bytes).into_owned(),
        }
    }
}

/// Parses a JSON body into `T`, naming the offending field on any error.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::new(
            Code::MalformedJson,
            "The body is empty; send a JSON object",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        from_serde(&path, &inner)
    })
}

/// Parses an already-decoded JSON value into `T` (for wrapped `param`s).
pub fn from_value<T: DeserializeOwned>(v: Value, prefix: &str) -> Result<T> {
    from_de(v, prefix)
}

/// `T` from a decoded value (owned or borrowed), errors named by their
/// path under `prefix`.
fn from_de<'de, D, T>(de: D, prefix: &str) -> Result<T>
where
    D: serde::Deserializer<'de, Error = serde_json::Error>,
    T: serde::Deserialize<'de>,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let full = match (prefix, path.as_str()) {
            ("", p) => p.to_string(),
            (pre, ".") => pre.to_string(),
            (pre, p) => format!("{pre}.{p}"),
        };
        from_serde(&full, &inner)
    })
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Text between the first pair of backticks.
fn ticked(msg: &str) -> Option<&str> {
    let a = msg.find('`')?;
    let b = msg[a + 1..].find('`')?;
    Some(&msg[a + 1..a + 1 + b])
}

fn from_serde(path: &str, e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    let msg = e.to_string();
    let msg = match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::new(
            Code::MalformedJson,
            format!("The body is not valid JSON: {e}"),
        ),
        Category::Data => {
            if msg.starts_with("missing field") {
                let f = ticked(&msg).unwrap_or("?");
                Error::new(
                    Code::MissingField,
                    format!("Field `{}` is required", join(path, f)),
                )
            } else if msg.starts_with("unknown field") {
                // The path already ends with the unknown field's name.
                let f = ticked(&msg).unwrap_or("?");
                let full = if path.ends_with(f) {
                    path.to_string()
                } else {
                    join(path, f)
                };
                let accepted = msg.split_once(", expected ").map(|x| x.1).unwrap_or("");
                Error::new(
                    Code::UnknownField,
                    format!("Field `{full}` is not accepted here (expected {accepted})"),
                )
            } else if path.is_empty() || path == "." {
                Error::new(Code::InvalidField, format!("Body: {msg}"))
            } else {
                Error::new(Code::InvalidField, format!("Field `{path}`: {msg}"))
            }
        }
    }
}

/// Takes the optional boolean `async` out of a JSON object body.
pub fn take_async(body: &mut Value) -> Result<bool> {
    match body.as_object_mut().and_then(|m| m.remove("async")) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err(Error::invalid("async", "must be true or false")),
    }
}

/// The running configuration's keys as the console shows them.
pub fn config_view(entries: &[crate::service::ConfigEntry]) -> Value {
    serde_json::json!({
        "keys": entries.iter().map(|e| serde_json::json!({
            "key": e.key, "value": e.value, "default": e.default, "meaning": e.meaning,
        })).collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        uuid: String,
        value: Inner,
        n: Option<u32>,
    }

    #[test]
    fn errors_name_fields() {
        let e = parse::<Outer>(br#"{"uuid":"u"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::MissingField, "Field `value` is required")
        );
        let e = parse::<Outer>(br#"{"uuid":"u","value":{}}"#).unwrap_err();
        assert_eq!(e.message, "Field `value.name` is required");
        let e = parse::<Outer>(br#"{"uuid":"u","value":{"name":"x","colour":1}}"#).unwrap_err();
        assert_eq!(e.code, Code::UnknownField);
        assert!(
            e.message
                .starts_with("Field `value.colour` is not accepted"),
            "{}",
            e.message
        );
        let e = parse::<Outer>(br#"{"uuid":1,"value":{"name":"x"}}"#).unwrap_err();
        assert_eq!(e.code, Code::InvalidField);
        assert!(
            e.message
                .starts_with("Field `uuid`: invalid type: integer `1`"),
            "{}",
            e.message
        );
        let e = parse::<Outer>(br#"{"uuid":"u","value":{"name":"x"},"n":-1}"#).unwrap_err();
        assert!(e.message.contains("`n`"), "{}", e.message);
        assert_eq!(parse::<Outer>(b"{").unwrap_err().code, Code::MalformedJson);
        assert_eq!(parse::<Outer>(b"").unwrap_err().code, Code::MalformedJson);
        assert_eq!(parse::<Outer>(b"[1]").unwrap_err().code, Code::InvalidField);
    }

    #[test]
    fn async_flag() {
        let mut v = serde_json::json!({"a":1,"async":true});
        assert!(take_async(&mut v).unwrap());
        assert_eq!(v, serde_json::json!({"a":1}));
        assert!(take_async(&mut serde_json::json!({"async":"yes"})).is_err());
    }
}
