//! Wire types of users (file 000 "用户管理"): create one or a numbered
//! batch, change, enable/disable/delete one or many, and the listed row
//! (never the password hash).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::template::{int, opt_flag, opt_uuid, some_flag, uuid};
use crate::domain::clock::format_utc;
use crate::domain::user::{PasswordPolicy, User};
use crate::error::{Code, Error, Result};
use crate::service::user::{UserPatch, UserSpec};

/// Create a user (file 000 `/group/user/create`).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UserCreateReq {
    pub group_uuid: String,
    #[serde(default)]
    pub user_name: Option<String>,
    pub passwd: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub enabled: Option<Value>,
    /// multi_create
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub postfix: Option<Value>,
    #[serde(default)]
    pub postfix_start: Option<Value>,
    #[serde(default)]
    pub user_num: Option<Value>,
}

fn login_name(field: &str, n: &str) -> Result<String> {
    let n = n.trim();
    if n.is_empty() || n.len() > 64 || !n.chars().all(|c| c.is_alphanumeric() || "-_.@".contains(c))
    {
        return Err(Error::invalid(
            field,
            "must be 1-64 letters, digits, `-`, `_`, `.` or `@`",
        ));
    }
    Ok(n.to_string())
}

impl UserCreateReq {
    /// `policy`: the configured password rule.
    pub fn into_spec(&self, policy: &PasswordPolicy) -> Result<UserSpec> {
        Ok(UserSpec {
            group: uuid("group_uuid", &self.group_uuid)?,
            user_name: match &self.user_name {
                Some(n) => login_name("user_name", n)?,
                None => String::new(),
            },
            password: policy.check("passwd", &self.passwd)?,
            name: self.name.clone().unwrap_or_default(),
            phone: self.phone.clone().unwrap_or_default(),
            email: self.email.clone().unwrap_or_default(),
            enabled: opt_flag("enabled", &self.enabled, true)?,
        })
    }

    /// prefix, digits, start, count of `multi_create`.
    pub fn batch(&self) -> Result<(String, u32, u32, u32)> {
        let prefix = login_name(
            "prefix",
            self.prefix
                .as_deref()
                .ok_or_else(|| Error::missing("prefix"))?,
        )?;
        let digits = match &self.postfix {
            Some(v) => int("postfix", v, 0, 6)? as u32,
            None => 2,
        };
        let start = match &self.postfix_start {
            Some(v) => int("postfix_start", v, 0, 999_999)? as u32,
            None => 1,
        };
        let n = int(
            "user_num",
            self.user_num
                .as_ref()
                .ok_or_else(|| Error::missing("user_num"))?,
            1,
            crate::service::user::MAX_BATCH as u64,
        )? as u32;
        Ok((prefix, digits, start, n))
    }
}

/// Change a user: `{uuid, value{…}}`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UserUpdateReq {
    pub uuid: String,
    pub value: UserValue,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UserValue {
    #[serde(default)]
    pub group_uuid: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub passwd: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub enabled: Option<Value>,
}

impl UserValue {
    pub fn into_patch(self, policy: &PasswordPolicy) -> Result<UserPatch> {
        Ok(UserPatch {
            group: opt_uuid("value.group_uuid", &self.group_uuid)?,
            user_name: self
                .user_name
                .as_deref()
                .map(|n| login_name("value.user_name", n))
                .transpose()?,
            password: self
                .passwd
                .as_deref()
                .map(|p| policy.check("value.passwd", p))
                .transpose()?,
            name: self.name,
            phone: self.phone,
            email: self.email,
            enabled: some_flag("value.enabled", &self.enabled)?,
        })
    }
}

/// One or many users by uuid (`uuid` may be a list: "supports batch").
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UsersReq {
    pub uuid: Value,
}

impl UsersReq {
    pub fn uuids(&self) -> Result<Vec<Uuid>> {
        match &self.uuid {
            Value::String(s) => Ok(vec![uuid("uuid", s)?]),
            Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| Error::invalid("uuid", "must list uuids"))
                        .and_then(|s| uuid("uuid", s))
                })
                .collect(),
            _ => Err(Error::invalid("uuid", "must be a uuid or a list of uuids")),
        }
    }
}

pub fn user_view(u: &User, group_name: Option<&str>) -> Value {
    json!({
        "uuid": u.uuid.to_string(),
        "group_uuid": u.group.to_string(),
        "group_name": group_name,
        "user_name": u.user_name,
        "name": u.name,
        "phone": u.phone,
        "email": u.email,
        "enabled": u.enabled,
        "created_at": format_utc(u.created_at),
    })
}

pub const USER_FIELDS: &[&str] = &[
    "uuid",
    "group_uuid",
    "group_name",
    "user_name",
    "name",
    "phone",
    "email",
    "enabled",
    "created_at",
];

/// Import users from CSV (`/api/v1/group/user/import`): a JSON body with the
/// file's text, or the file itself with `?group_uuid=`.
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct UserImportReq {
    pub group_uuid: String,
    /// Rows `user_name,password,name,phone,email`, an optional header first.
    pub csv: String,
    #[serde(default)]
    pub enabled: Option<Value>,
}

/// Largest CSV import, in rows.
pub const IMPORT_MAX_ROWS: usize = crate::service::user::MAX_BATCH as usize;

/// The column a header cell names, if it names one.
fn column(cell: &str) -> Option<usize> {
    match cell.trim().to_lowercase().as_str() {
        "user_name" | "username" | "login" | "用户名" | "账号" => Some(0),
        "password" | "passwd" | "密码" => Some(1),
        "name" | "real_name" | "姓名" => Some(2),
        "phone" | "电话" | "手机号" => Some(3),
        "email" | "e-mail" | "邮箱" => Some(4),
        _ => None,
    }
}

/// Reads a CSV of users into specs with the line each came from; when rows
/// are bad, every one of them is named (one per line of the message, the
/// first [`crate::error::REFUSALS_SHOWN`]) and nothing is returned.
///
/// The file carries passwords: no error names a cell's content (a password
/// in the wrong place would land in the reply and the operation log), only
/// lines and column positions.
pub fn import_rows(
    group: Uuid,
    text: &str,
    enabled: bool,
    policy: &PasswordPolicy,
) -> Result<Vec<(usize, UserSpec)>> {
    let rows = crate::domain::csv::parse(text).map_err(|e| Error::invalid("csv", e))?;
    let mut rows = rows.into_iter().peekable();
    // A header maps the columns; without one they come in the usual order.
    let mut order = [0usize, 1, 2, 3, 4];
    if let Some(first) = rows.peek() {
        // A first row of which some cell names a column is a header.
        if first.fields.iter().any(|c| column(c).is_some()) {
            let mut seen = [None; 5];
            for (i, cell) in first.fields.iter().enumerate() {
                match column(cell) {
                    Some(c) => seen[c] = Some(i),
                    None => {
                        return Err(Error::invalid(
                            "csv",
                            format!(
                                "line {}: column {} of the header names no column (use user_name, password, name, phone, email)",
                                first.line,
                                i + 1
                            ),
                        ))
                    }
                }
            }
            if seen[1].is_none() {
                return Err(Error::invalid("csv", "the header has no `password` column"));
            }
            order = [0, 1, 2, 3, 4].map(|c| seen[c].unwrap_or(usize::MAX));
            rows.next();
        }
    }
    let mut out = Vec::new();
    let mut refused = crate::error::Refusals::default();
    for r in rows {
        if out.len() + refused.count == IMPORT_MAX_ROWS {
            return Err(Error::invalid(
                "csv",
                format!("more than {IMPORT_MAX_ROWS} users; split the file"),
            ));
        }
        let at = |c: usize| r.fields.get(order[c]).map(|s| s.trim()).unwrap_or("");
        if r.fields.len() > 5 {
            refused.add(Error::new(
                Code::InvalidField,
                format!(
                    "CSV line {}: {} columns, at most 5 (user_name, password, name, phone, email)",
                    r.line,
                    r.fields.len()
                ),
            ));
            continue;
        }
        let row = |e: Error| Error::new(e.code, format!("CSV line {}: {}", r.line, e.message));
        let spec = login_name("user_name", at(0))
            .and_then(|user_name| Ok((user_name, policy.check("password", at(1))?)));
        match spec {
            Ok((user_name, password)) => out.push((
                r.line,
                UserSpec {
                    group,
                    user_name,
                    password,
                    name: at(2).to_string(),
                    phone: at(3).to_string(),
                    email: at(4).to_string(),
                    enabled,
                },
            )),
            Err(e) => refused.add(row(e)),
        }
    }
    refused.into_result()?;
    if out.is_empty() {
        return Err(Error::invalid("csv", "has no user rows"));
    }
    Ok(out)
}

impl UserImportReq {
    pub fn into_rows(self, policy: &PasswordPolicy) -> Result<Vec<(usize, UserSpec)>> {
        let group = uuid("group_uuid", &self.group_uuid)?;
        let enabled = opt_flag("enabled", &self.enabled, true)?;
        import_rows(group, &self.csv, enabled, policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: PasswordPolicy = PasswordPolicy { min: 6 };

    #[test]
    fn import_with_and_without_header() {
        let g = Uuid::new_v4();
        let rows = import_rows(
            g,
            "bob,secret1,Bob B,,b@x.org\n\"ann\",\"pa,ss99\"\n",
            true,
            &P,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1.email, "b@x.org");
        assert_eq!((rows[1].0, rows[1].1.password.as_str()), (2, "pa,ss99"));
        let rows = import_rows(
            g,
            "email,password,user_name\nc@x.org,secret2,carl\n",
            true,
            &P,
        )
        .unwrap();
        assert_eq!(
            (
                rows[0].0,
                rows[0].1.user_name.as_str(),
                rows[0].1.email.as_str()
            ),
            (2, "carl", "c@x.org")
        );
        let e = import_rows(
            g,
            "user_name,password\nok,secret1\nbad name,secret1\n",
            true,
            &P,
        )
        .unwrap_err();
        assert!(
            e.message.contains("CSV line 3") && e.message.contains("user_name"),
            "{}",
            e.message
        );
        let e = import_rows(g, "dan,123\n", true, &P).unwrap_err();
        assert!(
            e.message.contains("CSV line 1") && e.message.contains("password"),
            "{}",
            e.message
        );
        assert!(import_rows(g, "\n\n", true, &P).is_err());
        let e = import_rows(g, "user_name,pwd\n", true, &P).unwrap_err();
        assert!(
            e.message.contains("column 2") && !e.message.contains("pwd"),
            "{}",
            e.message
        );
    }
}
