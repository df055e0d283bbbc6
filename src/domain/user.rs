//! Users of personal desktops (members of a user group): names, contact
//! details, the argon2 hash of the password and whether they may log in.

use uuid::Uuid;

use super::clock::Millis;

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
    fn batch_names_are_padded() {
        assert_eq!(
            super::batch_names("ctx", 2, 1, 3),
            ["ctx01", "ctx02", "ctx03"]
        );
        assert_eq!(super::batch_names("s", 1, 9, 2), ["s9", "s10"]);
    }
}
