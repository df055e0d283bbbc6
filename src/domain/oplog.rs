//! The operation log: who did what to which object, with which result.

use super::clock::Millis;

#[derive(Clone, Debug, PartialEq)]
pub struct OpLogEntry {
    /// Monotonic sequence number; also the storage key.
    pub seq: u64,
    pub time: Millis,
    /// The admin account (or `-` before login; the attempted name for logins).
    pub owner: String,
    /// `<resource>/<verb>`, e.g. `resource_pool/create`.
    pub action: String,
    /// The affected object as `name (uuid)`, or what the request named.
    pub target: String,
    /// 0 on success, else the error code.
    pub code: i64,
    pub message: String,
    pub client: String,
}
