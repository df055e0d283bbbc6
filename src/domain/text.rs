//! Validation of the names and free texts that every resource carries.

use crate::error::{Error, Result};

pub const NAME_MAX: usize = 64;
pub const DESC_MAX: usize = 255;

/// A resource name: trimmed, 1..=64 characters, no control characters.
pub fn name(field: &str, raw: &str) -> Result<String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if v.chars().count() > NAME_MAX {
        return Err(Error::invalid(
            field,
            format!("must be at most {NAME_MAX} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(v.to_string())
}

/// A description: up to 255 characters, no control characters but newline/tab.
pub fn desc(field: &str, raw: &str) -> Result<String> {
    if raw.chars().count() > DESC_MAX {
        return Err(Error::invalid(
            field,
            format!("must be at most {DESC_MAX} characters"),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(raw.to_string())
}

/// Lowercases character by character, so the result does not depend on a
/// character's neighbours (`str::to_lowercase` turns a final Σ into ς);
/// unique-name keys and case-insensitive search both use this.
pub fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// Cuts a text to at most `max` characters (for logs).
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A uuid in its canonical hyphenated text form.
pub fn uuid(field: &str, raw: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| Error::invalid(field, format!("`{raw}` is not a uuid")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  pool1 ").unwrap(), "pool1");
        assert!(name("name", "   ").unwrap_err().message.contains("`name`"));
        assert!(name("name", &"x".repeat(65)).is_err());
        assert!(name("name", &"池".repeat(64)).is_ok());
        assert!(name("name", "a\u{7}b").is_err());
    }

    #[test]
    fn desc_allows_newlines_only() {
        assert!(desc("desc", "line1\nline2").is_ok());
        assert!(desc("desc", "bad\u{0}").is_err());
        assert!(desc("desc", &"d".repeat(256)).is_err());
    }

    #[test]
    fn folding_is_per_character() {
        assert_eq!(fold("ΑΣ"), "ασ");
        assert_eq!(fold("ΑΣΑ"), "ασα");
        assert_eq!(fold("ΟΔΟΣ"), fold("ΟΔΟσ"));
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("池池", 3), "池池");
    }

    #[test]
    fn uuids_parse_or_name_the_field() {
        assert!(uuid("uuid", "e4a53850-26e9-11ea-a72d-562668d3ccea").is_ok());
        let e = uuid("uuid", "nope").unwrap_err();
        assert!(e.message.contains("`uuid`"));
    }
}
