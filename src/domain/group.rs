//! Groups: classrooms (education, with the terminals' address range) and
//! user groups (personal).

use uuid::Uuid;

use super::clock::Millis;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupType {
    Education = 1,
    Personal = 2,
}

impl GroupType {
    /// 1 / 2, or `education` / `personal` as file 000 shows.
    pub fn parse(field: &str, v: &serde_json::Value) -> Result<GroupType> {
        match v {
            serde_json::Value::Number(n) if n.as_u64() == Some(1) => Ok(GroupType::Education),
            serde_json::Value::Number(n) if n.as_u64() == Some(2) => Ok(GroupType::Personal),
            serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "education" => Ok(GroupType::Education),
                "2" | "personal" => Ok(GroupType::Personal),
                _ => Err(Error::invalid(
                    field,
                    "must be 1 (education) or 2 (personal)",
                )),
            },
            _ => Err(Error::invalid(
                field,
                "must be 1 (education) or 2 (personal)",
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub desc: String,
    pub kind: GroupType,
    pub network: Option<Uuid>,
    pub subnet: Option<Uuid>,
    /// The classroom's terminal addresses (education groups).
    pub range: Option<super::ipv4::Range>,
    pub enabled: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Group {
    /// Whether this is the classroom of a terminal at `ip`.
    pub fn holds_terminal(&self, ip: std::net::Ipv4Addr) -> bool {
        self.kind == GroupType::Education && self.range.is_some_and(|r| r.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_type_accepts_numbers_and_words() {
        assert_eq!(
            GroupType::parse("t", &json!(1)).unwrap(),
            GroupType::Education
        );
        assert_eq!(
            GroupType::parse("t", &json!("personal")).unwrap(),
            GroupType::Personal
        );
        assert_eq!(
            GroupType::parse("t", &json!("Education")).unwrap(),
            GroupType::Education
        );
        assert!(GroupType::parse("t", &json!(3)).is_err());
        assert!(GroupType::parse("t", &json!(null)).is_err());
    }
}
