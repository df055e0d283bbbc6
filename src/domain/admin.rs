//! Admin accounts and the sessions (access / refresh token pairs) they hold.

use super::clock::Millis;

#[derive(Clone, Debug, PartialEq)]
pub struct Admin {
    pub name: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// A disabled account cannot log in and holds no session.
    pub enabled: bool,
}

/// One login: the hashes of its two tokens and their expiry times.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: [u8; 16],
    pub admin: String,
    pub access_hash: [u8; 32],
    pub access_expires: Millis,
    pub refresh_hash: [u8; 32],
    pub refresh_expires: Millis,
    pub created_at: Millis,
}

/// Account name rules: 1..=32 of `[A-Za-z0-9_.-]`.
pub fn valid_admin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Password rules: 8..=128 characters.
pub fn valid_password(pw: &str) -> Result<(), &'static str> {
    let n = pw.chars().count();
    if n < 8 {
        Err("must be at least 8 characters")
    } else if n > 128 {
        Err("must be at most 128 characters")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_names() {
        assert!(valid_admin_name("admin"));
        assert!(valid_admin_name("ops.team-1_x"));
        assert!(!valid_admin_name(""));
        assert!(!valid_admin_name("bad name"));
        assert!(!valid_admin_name(&"a".repeat(33)));
    }

    #[test]
    fn passwords() {
        assert!(valid_password("12345678").is_ok());
        assert!(valid_password("short").is_err());
        assert!(valid_password(&"p".repeat(129)).is_err());
    }
}
