//! What a host is made of (CPU, NUMA, memory, disks, NICs, GPUs), what it
//! lacks to run desktops, and its mounted filesystems: facts the inventory
//! port reports and the node record keeps.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub hostname: String,
    /// `PRETTY_NAME` of `/etc/os-release`.
    pub os: String,
    pub kernel: String,
    pub cpu: CpuInfo,
    pub memory_bytes: u64,
    pub numa: Vec<NumaNode>,
    pub disks: Vec<DiskInfo>,
    pub nics: Vec<NicInfo>,
    /// Empty when the host has no graphics adapter (not an error).
    pub gpus: Vec<GpuInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuInfo {
    pub model: String,
    pub sockets: u32,
    /// Physical cores over all sockets.
    pub cores: u32,
    /// Logical CPUs (hardware threads) over all sockets.
    pub threads: u32,
    /// `vmx` (Intel VT-x) or `svm` (AMD-V), when the CPU advertises it.
    pub virt_flag: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NumaNode {
    pub id: u32,
    /// The kernel's cpulist, e.g. `0-7,16-23`.
    pub cpus: String,
    pub memory_bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    /// Block device name, e.g. `sda`, `nvme0n1`.
    pub name: String,
    pub size_bytes: u64,
    pub rotational: bool,
    pub model: String,
    pub removable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NicInfo {
    pub name: String,
    pub mac: String,
    pub driver: Option<String>,
    pub firmware: Option<String>,
    /// PCI address, e.g. `0000:03:00.0`.
    pub pci: Option<String>,
    pub speed_mbps: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub pci: String,
    /// PCI vendor and device ids, e.g. `10de` / `1eb8`.
    pub vendor_id: String,
    pub device_id: String,
    /// Vendor name when known (`NVIDIA`, `AMD`, `Intel`, …), else the id.
    pub vendor: String,
    pub driver: Option<String>,
}

/// What the host offers for running virtual machines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Virt {
    /// `vmx` or `svm` when the CPU advertises hardware virtualisation.
    pub cpu_flag: Option<String>,
    /// `/dev/kvm` exists.
    pub kvm_device: bool,
    /// libvirt answered (with its version), or why it did not.
    pub libvirt: Result<String, String>,
}

impl Virt {
    /// Each thing missing to run desktops, in words an admin can act on.
    pub fn missing(&self) -> Vec<String> {
        let mut m = Vec::new();
        if self.cpu_flag.is_none() && !self.kvm_device {
            m.push(
                "the CPU advertises no hardware virtualisation (vmx or svm flag): enable VT-x/AMD-V in the firmware setup"
                    .to_string(),
            );
        }
        if !self.kvm_device {
            m.push("/dev/kvm does not exist: load the kvm_intel or kvm_amd module".to_string());
        }
        if let Err(e) = &self.libvirt {
            m.push(format!("libvirt is not reachable: {e}"));
        }
        m
    }

    pub fn supported(&self) -> bool {
        self.missing().is_empty()
    }
}

/// A mounted filesystem that could hold disks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mount {
    pub path: String,
    /// The device, e.g. `/dev/sda3`.
    pub device: String,
    pub fs: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
    /// `None` when the kernel does not say (network or virtual devices).
    pub rotational: Option<bool>,
    pub writable: bool,
}

/// Filesystems that can never hold desktop disks.
const NOT_STORAGE_FS: &[&str] = &[
    "tmpfs",
    "devtmpfs",
    "ramfs",
    "proc",
    "sysfs",
    "squashfs",
    "iso9660",
    "udf",
    "cgroup",
    "cgroup2",
    "devpts",
    "mqueue",
    "hugetlbfs",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "configfs",
    "fusectl",
    "autofs",
    "binfmt_misc",
    "efivarfs",
    "rpc_pipefs",
    "nsfs",
    // A live system's root: its changes live in memory.
    "overlay",
];

/// Mount points that are the system's own, never storage.
const NOT_STORAGE_PATH: &[&str] = &["/boot", "/boot/efi", "/efi"];

impl Mount {
    /// Why this mount cannot carry a storage role, if it cannot.
    pub fn unusable(&self) -> Option<String> {
        if NOT_STORAGE_FS.contains(&self.fs.as_str()) {
            return Some(format!(
                "{} is a {} filesystem, which cannot hold disks",
                self.path, self.fs
            ));
        }
        if NOT_STORAGE_PATH.contains(&self.path.as_str()) {
            return Some(format!("{} is reserved for the boot loader", self.path));
        }
        if !self.writable {
            return Some(format!("{} is mounted read-only", self.path));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_names_each_lack() {
        let ok = Virt {
            cpu_flag: Some("vmx".into()),
            kvm_device: true,
            libvirt: Ok("9.0.0".into()),
        };
        assert!(ok.supported());
        let none = Virt {
            cpu_flag: None,
            kvm_device: false,
            libvirt: Err("connection refused".into()),
        };
        let m = none.missing();
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[0].contains("vmx"));
        assert!(m[1].contains("/dev/kvm"));
        assert!(m[2].contains("connection refused"));
    }

    #[test]
    fn system_and_virtual_mounts_are_unusable() {
        let m = |path: &str, fs: &str, writable| Mount {
            path: path.into(),
            fs: fs.into(),
            writable,
            ..Mount::default()
        };
        assert!(m("/opt/slow", "ext4", true).unusable().is_none());
        // The live image's root: its writes go to memory.
        assert!(m("/", "overlay", true)
            .unusable()
            .unwrap()
            .contains("overlay"));
        assert!(m("/run", "tmpfs", true)
            .unusable()
            .unwrap()
            .contains("tmpfs"));
        assert!(m("/boot", "ext4", true).unusable().is_some());
        assert!(m("/data", "xfs", false)
            .unusable()
            .unwrap()
            .contains("read-only"));
    }
}
