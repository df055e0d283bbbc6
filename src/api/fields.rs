//! The field parsers every body shares: uuids (required or optional),
//! numbers that arrive as numbers or as text, and `0/1`-or-boolean flags.
//! Each error names its field.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::error::{Error, Result};

/// A body with no fields: `{}`, or none at all (an unknown field is
/// refused by name).
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

/// A uuid in its canonical text form (surrounding blanks allowed).
pub use crate::domain::text::uuid;

/// A uuid field; absent or empty text means none.
pub fn opt_uuid(field: &str, v: &Option<String>) -> Result<Option<Uuid>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => uuid(field, s).map(Some),
    }
}

/// A number sent as a number or as a string (`"10"` in some examples).
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[serde(untagged)]
pub enum Num {
    Int(i64),
    Text(String),
}

impl Num {
    pub fn get(&self, field: &str) -> Result<i64> {
        match self {
            Num::Int(n) => Ok(*n),
            Num::Text(s) => s
                .trim()
                .parse()
                .map_err(|_| Error::invalid(field, format!("`{s}` is not a whole number"))),
        }
    }
}

/// `0/1` as the document sends it, or `true/false`.
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    Int(i64),
}

impl Flag {
    pub fn get(&self, field: &str) -> Result<bool> {
        match self {
            Flag::Bool(b) => Ok(*b),
            Flag::Int(0) => Ok(false),
            Flag::Int(1) => Ok(true),
            Flag::Int(n) => Err(Error::invalid(field, format!("{n} is not 0 or 1"))),
        }
    }
}

/// A number, or a string holding one (`"up": "1234"`).
pub fn num<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        F(f64),
        S(String),
    }
    match N::deserialize(d) {
        Ok(N::F(v)) => Ok(v),
        Ok(N::S(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a number"))),
        Err(_) => Err(serde::de::Error::custom("expected a number")),
    }
}

pub fn opt_num<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    num(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parser_names_its_field() {
        assert!(uuid("a", " 9c705b6e-5213-11ea-9d93-000c295dd728 ").is_ok());
        assert!(uuid("a", "x").unwrap_err().message.contains("`a`"));
        assert_eq!(opt_uuid("b", &Some(" ".into())).unwrap(), None);
        assert!(opt_uuid("b", &Some("nope".into())).is_err());
        assert_eq!(Num::Text(" 7 ".into()).get("n").unwrap(), 7);
        assert!(Num::Text("7.5".into())
            .get("n")
            .unwrap_err()
            .message
            .contains("`n`"));
        assert!(Flag::Int(1).get("f").unwrap());
        assert!(Flag::Int(2).get("f").is_err());
        #[derive(Deserialize)]
        struct R {
            #[serde(deserialize_with = "num")]
            v: f64,
        }
        let r: R = serde_json::from_str(r#"{"v": " 12.5 "}"#).unwrap();
        assert_eq!(r.v, 12.5);
        assert!(serde_json::from_str::<R>(r#"{"v": "x"}"#).is_err());
    }
}
