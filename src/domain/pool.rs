//! Resource pools: the grouping of nodes, images, templates and desktop
//! groups (file 000 "资源池"), and the rules on their fields.

use super::clock::Millis;
use super::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub struct ResourcePool {
    pub uuid: Uuid,
    /// Creation order, assigned by the store; lists are in this order.
    pub seq: u64,
    pub name: String,
    pub desc: String,
    /// Exactly one pool is the default while any pool exists.
    pub is_default: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What a create call asks for, already validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPool {
    pub name: String,
    pub desc: String,
    pub make_default: bool,
}

/// What an update call changes, already validated; `None` keeps the value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolPatch {
    /// The name the caller believes the pool has (web dialect); checked in
    /// the same transaction as the change.
    pub expect_name: Option<String>,
    pub name: Option<String>,
    pub desc: Option<String>,
    pub make_default: Option<bool>,
}
