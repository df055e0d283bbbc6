//! The protocol between a controller and its servers, as typed messages:
//! what a node's service is asked (`vm`, `disk`, `pull`, `network`,
//! `power`) and what it tells its controller (`register`, `heartbeat`,
//! `report`). The one port that carries them is `host::node_client`; both
//! sides name their protocol version in a header, and a mismatch is refused
//! with a message naming both versions.

pub mod member;
pub mod probe;
pub mod report;
pub mod vm;

use crate::error::{Code, Error, Result};

pub use member::{
    Heartbeat, NetworkApplied, NetworkPush, NodePowerOp, NodePowerReq, PullEnd, PullReq,
    PullStatus, PushedNet, Register, Registered,
};
pub use probe::{NicWire, Probe, ProbeNic, ProbeWire, ServiceWire};
pub use report::report_wire;
pub use vm::{DiskCall, DiskReply, PowerOp, PowerState, VmCall, VmReply};

/// The version of this protocol. Raise it with every change of a message
/// that an older peer would read differently; version 0 is every appliance
/// from before the protocol was versioned (it sends no header).
pub const PROTOCOL: u32 = 1;

/// The header both requests and replies carry it in.
pub const PROTOCOL_HEADER: &str = "X-Vdi-Protocol";

/// The version a header value names (`None`: no header, version 0).
fn version_of(header: Option<&str>) -> std::result::Result<u32, String> {
    match header.map(str::trim) {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| format!("`{v}` is not a protocol version")),
    }
}

fn mismatch(ours: &str, theirs: &str, v: u32) -> Error {
    let age = if v < PROTOCOL { "older" } else { "newer" };
    Error::new(
        Code::NodeVersionMismatch,
        format!(
            "{theirs} speaks node protocol {v}, {ours} speaks {PROTOCOL}: the {theirs} runs an {age} appliance; run the same release on the controller and its servers"
        ),
    )
}

/// On the serving side: the caller's version must be ours. `optional`
/// routes (a documented endpoint others may call) also take no header.
pub fn protocol_check_request(header: Option<&str>, optional: bool) -> Result<()> {
    let v = version_of(header).map_err(|why| Error::invalid(PROTOCOL_HEADER, why))?;
    if v == PROTOCOL || (optional && header.is_none()) {
        return Ok(());
    }
    Err(mismatch("this appliance", "the caller", v))
}

/// On the calling side: the answer must come from a peer of our version
/// (`peer` names it in the message).
pub fn protocol_check_reply(header: Option<&str>, peer: &str) -> Result<()> {
    let v = version_of(header).map_err(|why| {
        Error::new(
            Code::NodeVersionMismatch,
            format!("{peer} answered with {why}"),
        )
    })?;
    if v == PROTOCOL {
        return Ok(());
    }
    Err(mismatch("this appliance", peer, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_must_match_and_say_which() {
        assert!(protocol_check_request(Some("1"), false).is_ok());
        assert!(protocol_check_request(None, true).is_ok());
        let e = protocol_check_request(None, false).unwrap_err();
        assert_eq!(e.code, Code::NodeVersionMismatch);
        assert!(
            e.message.contains("protocol 0") && e.message.contains("older"),
            "{}",
            e.message
        );
        let e = protocol_check_request(Some("2"), true).unwrap_err();
        assert!(
            e.message.contains("protocol 2") && e.message.contains("newer"),
            "{}",
            e.message
        );
        assert_eq!(
            protocol_check_request(Some("x"), false).unwrap_err().code,
            Code::InvalidField
        );
        let e = protocol_check_reply(None, "node `n1`").unwrap_err();
        assert!(
            e.message.starts_with("node `n1` speaks node protocol 0"),
            "{}",
            e.message
        );
        assert!(protocol_check_reply(Some(" 1 "), "n").is_ok());
    }
}
