//! Pure domain types and rules: no I/O, no framework types.

pub mod admin;
pub mod clock;
pub mod cluster;
pub mod console;
pub mod controller;
pub mod csv;
pub mod desktop;
pub mod group;
pub mod image;
pub mod inventory;
pub mod ipv4;
pub mod monitor;
pub mod monitor_query;
pub mod net;
pub mod netplan;
pub mod network;
pub mod node;
pub mod oplog;
pub mod pool;
pub mod prometheus;
pub mod qcow2;
pub mod query;
pub mod saga;
pub mod storage;
pub mod task;
pub mod template;
pub mod terminal;
pub mod text;
pub mod user;
pub mod vmxml;

pub use uuid::Uuid;
