//! Base images (qcow2 files templates are built on) and installation ISOs.

use std::path::PathBuf;

use uuid::Uuid;

use super::clock::Millis;

#[derive(Clone, Debug, PartialEq)]
pub struct BaseImage {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub pool: Uuid,
    pub os_type: String,
    pub path: PathBuf,
    pub md5: String,
    pub size: u64,
    pub virtual_size: u64,
    /// Nodes holding a copy (the controller first).
    pub nodes: Vec<Uuid>,
    pub created_at: Millis,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Iso {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub os_type: String,
    pub path: PathBuf,
    pub md5: String,
    pub size: u64,
    pub created_at: Millis,
}

/// A name usable as a file name and in a listing: 1–64 characters, no `/`,
/// no control characters, not `.` or `..`.
pub fn check_name(field: &str, name: &str) -> crate::error::Result<String> {
    let n = name.trim();
    if n.is_empty()
        || n.chars().count() > 64
        || n == "."
        || n == ".."
        || n.contains('/')
        || n.chars().any(char::is_control)
    {
        return Err(crate::error::Error::invalid(
            field,
            "must be 1-64 characters without `/` or control characters",
        ));
    }
    Ok(n.to_string())
}
