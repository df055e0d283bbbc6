//! The calls a controller makes on a node's hypervisor and disks
//! (`internal/vm`, `internal/disk`) and what the node answers.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A defined domain's power state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    Running,
    /// Paused, suspended or in transition: on, but not usable right now.
    Paused,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerOp {
    Start,
    /// ACPI power button; the guest may ignore it.
    Shutdown,
    /// Pull the plug.
    Destroy,
    /// ACPI reboot.
    Reboot,
    /// Press the reset button.
    Reset,
}

/// One hypervisor call, as `internal/vm` takes it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum VmCall {
    Probe,
    Define {
        xml: String,
    },
    Undefine {
        #[schemars(with = "String")]
        uuid: Uuid,
    },
    Power {
        #[schemars(with = "String")]
        uuid: Uuid,
        power: PowerOp,
    },
    State {
        #[schemars(with = "String")]
        uuid: Uuid,
    },
    Spice {
        #[schemars(with = "String")]
        uuid: Uuid,
    },
    UpdateDevice {
        #[schemars(with = "String")]
        uuid: Uuid,
        xml: String,
    },
    List,
    States,
}

/// One disk call, as `internal/disk` takes it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum DiskCall {
    Create {
        path: PathBuf,
        size: u64,
        backing: Option<PathBuf>,
    },
    Info {
        path: PathBuf,
    },
    Resize {
        path: PathBuf,
        size: u64,
    },
    Convert {
        src: PathBuf,
        dst: PathBuf,
        backing: Option<PathBuf>,
    },
    Rebase {
        path: PathBuf,
        backing: Option<PathBuf>,
    },
    Check {
        path: PathBuf,
    },
    Remove {
        path: PathBuf,
    },
    Rename {
        from: PathBuf,
        to: PathBuf,
    },
    Exists {
        path: PathBuf,
    },
    Mkdir {
        path: PathBuf,
    },
    ListDir {
        path: PathBuf,
    },
    Md5 {
        path: PathBuf,
    },
}

/// What `internal/vm` answers, one form per kind of call.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "reply", rename_all = "snake_case", deny_unknown_fields)]
pub enum VmReply {
    /// Define, undefine, power, update_device.
    Done,
    Probe {
        uri: String,
        libvirt_version: String,
        hypervisor_version: String,
    },
    /// `None`: no such domain.
    State {
        state: Option<PowerState>,
    },
    /// `None`: not running, or without SPICE.
    Spice {
        spice: Option<(String, u16)>,
    },
    List {
        domains: Vec<(Uuid, String)>,
    },
    States {
        states: Vec<(Uuid, PowerState)>,
    },
}

/// What `internal/disk` answers, one form per kind of call.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "reply", rename_all = "snake_case", deny_unknown_fields)]
pub enum DiskReply {
    /// Create, resize, convert, rebase, check, remove, rename, mkdir.
    Done,
    Info {
        format: String,
        virtual_size: u64,
        actual_size: u64,
        backing: Option<PathBuf>,
        data_file: Option<PathBuf>,
    },
    Exists {
        exists: bool,
    },
    ListDir {
        names: Vec<String>,
    },
    Md5 {
        md5: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calls_and_replies_have_one_wire_form() {
        let c = DiskCall::Create {
            path: "/s/a".into(),
            size: 0,
            backing: Some("/s/b".into()),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["op"], "create");
        assert_eq!(serde_json::from_value::<DiskCall>(v).unwrap(), c);
        let v = json!({"op": "power", "uuid": Uuid::nil(), "power": "destroy"});
        let c: VmCall = serde_json::from_value(v).unwrap();
        assert!(matches!(
            c,
            VmCall::Power {
                power: PowerOp::Destroy,
                ..
            }
        ));
        assert!(serde_json::from_value::<VmCall>(json!({"op": "format_disk"})).is_err());
        let bad = json!({"op": "power", "uuid": Uuid::nil(), "power": "explode"});
        assert!(serde_json::from_value::<VmCall>(bad).is_err());
        let r = VmReply::States {
            states: vec![(Uuid::nil(), PowerState::Paused)],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["reply"], "states");
        assert_eq!(v["states"][0][1], "paused");
        assert_eq!(serde_json::from_value::<VmReply>(v).unwrap(), r);
        let v = serde_json::to_value(DiskReply::Md5 { md5: "x".into() }).unwrap();
        assert_eq!(
            serde_json::from_value::<DiskReply>(v).unwrap(),
            DiskReply::Md5 { md5: "x".into() }
        );
    }
}
