//! Users of personal desktops (members of a user group): names, contact
//! details, the argon2 hash of the password and whether they may log in.

use uuid::Uuid;

use super::clock::Millis;
use crate::error::{Error, Result};

/// Longest personal-user password, in characters.
pub const PASSWORD_MAX: usize = 128;

/// How long a personal user's password must be: at least `min` characters
/// (the `user_password_min` setting), at most `PASSWORD_MAX`. File 000's
/// examples use "123" and "12345", so the default minimum is 1. Admin
/// passwords have their own, fixed rule (`admin::valid_password`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy { min: 1 }
    }
}

impl PasswordPolicy {
    /// The password, or an error naming `field` and the rule (never the
    /// password itself).
    pub fn check(&self, field: &str, pw: &str) -> Result<String> {
        let n = pw.chars().count();
        if n < self.min.max(1) || n > PASSWORD_MAX {
            return Err(Error::invalid(
                field,
                format!("must be {} to {PASSWORD_MAX} characters", self.min.max(1)),
            ));
        }
        Ok(pw.to_string())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub uuid: Uuid,
    pub seq: u64,
    /// The user group (a personal group).
    pub group: Uuid,
    /// The login name, unique.
    pub user_name: String,
    /// The real name.
    pub name: String,
    pub phone: String,
    pub email: String,
    /// argon2id PHC string; never leaves the service.
    pub password_hash: String,
    pub enabled: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Login names `prefix` + zero-padded number for a batch.
pub fn batch_names(prefix: &str, digits: u32, start: u32, count: u32) -> Vec<String> {
    (start..start.saturating_add(count))
        .map(|n| super::desktop::desktop_name(prefix, digits, n))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn password_policy_bounds() {
        let p = super::PasswordPolicy::default();
        assert_eq!(p.check("passwd", "123").unwrap(), "123");
        assert!(p
            .check("passwd", "")
            .unwrap_err()
            .message
            .contains("`passwd`"));
        assert!(p.check("passwd", &"密".repeat(128)).is_ok());
        assert!(p.check("passwd", &"p".repeat(129)).is_err());
        let strict = super::PasswordPolicy { min: 8 };
        let e = strict.check("passwd", "1234567").unwrap_err();
        assert!(e.message.contains("8 to 128") && !e.message.contains("1234567"));
    }

    #[test]
    fn batch_names_are_padded() {
        assert_eq!(
            super::batch_names("ctx", 2, 1, 3),
            ["ctx01", "ctx02", "ctx03"]
        );
        assert_eq!(super::batch_names("s", 1, 9, 2), ["s9", "s10"]);
    }
}
