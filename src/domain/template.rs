//! Templates, their disks and versions: the golden VMs desktops are cloned
//! from, and the pure bookkeeping of the version chain (which files exist,
//! what a save, rollback or trim does to it) and of disk paths.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::clock::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classify {
    Teaching = 1,
    Personal = 2,
    System = 3,
}

impl Classify {
    pub fn from_number(n: u8) -> Option<Classify> {
        match n {
            1 => Some(Classify::Teaching),
            2 => Some(Classify::Personal),
            3 => Some(Classify::System),
            _ => None,
        }
    }
}

/// What the template is doing, as file 001 lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
    Error,
    /// A save or another long operation runs.
    Updating,
    /// Created from an ISO and not yet completed with `iso_save`.
    Installing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Error => "error",
            Status::Updating => "updating",
            Status::Installing => "installing",
        }
    }

    pub fn tag(self) -> u8 {
        self as u8
    }

    pub fn from_tag(t: u8) -> Status {
        match t {
            0 => Status::Active,
            1 => Status::Inactive,
            3 => Status::Updating,
            4 => Status::Installing,
            _ => Status::Error,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TemplateDisk {
    pub uuid: Uuid,
    /// 0 is the system disk; data disks follow in boot-order `inx`.
    pub inx: u32,
    pub size_gb: u32,
    /// The directory holding this disk's version files and working overlay.
    pub dir: PathBuf,
}

impl TemplateDisk {
    pub fn is_system(&self) -> bool {
        self.inx == 0
    }

    pub fn version_file(&self, v: u32) -> PathBuf {
        version_file(&self.dir, v)
    }

    /// The overlay the running template writes to (unsaved edits).
    pub fn work_file(&self) -> PathBuf {
        self.dir.join("work.qcow2")
    }
}

pub fn version_file(dir: &Path, v: u32) -> PathBuf {
    dir.join(format!("v{v}.qcow2"))
}

/// Version number of a `v<N>.qcow2` file name.
pub fn version_of_file(name: &str) -> Option<u32> {
    name.strip_prefix('v')?.strip_suffix(".qcow2")?.parse().ok()
}

/// The `inx` (boot order) of each new data disk: after `after` (the highest
/// `inx` the template already has; 0 when it has only its system disk), in
/// the order given, a larger wanted number kept. Requests number data disks
/// from 0 (file 001) or from 1; either way they land after the existing
/// disks, which keep their order and device names, and no two collide.
pub fn data_disk_inx(after: u32, wanted: &[u32]) -> Vec<u32> {
    let mut prev = after;
    wanted
        .iter()
        .map(|w| {
            prev = (*w).max(prev.saturating_add(1));
            prev
        })
        .collect()
}

/// One published state of every disk of the template.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    pub number: u32,
    /// The version this one was saved on top of (0: the base image / blank).
    pub parent: u32,
    pub remark: String,
    pub created_at: Millis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpType {
    Update = 1,
    Rollback = 2,
}

/// One line of the template's history (file 001 "operate").
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub uuid: Uuid,
    pub version: u32,
    pub remark: String,
    pub op_type: OpType,
    pub at: Millis,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub desc: String,
    pub owner: String,
    pub os_type: String,
    pub classify: Classify,
    pub pool: Uuid,
    pub node: Uuid,
    pub network: Option<Uuid>,
    pub subnet: Option<Uuid>,
    pub bind_ip: Option<Ipv4Addr>,
    pub mac: String,
    pub vcpu: u32,
    pub ram_mb: u64,
    /// Education groups allowed to use it; empty means every group.
    pub groups: Vec<Uuid>,
    pub base_image: Option<Uuid>,
    /// The ISO in the cdrom drive.
    pub iso: Option<Uuid>,
    pub disks: Vec<TemplateDisk>,
    pub status: Status,
    /// The version the working overlay sits on (0: none saved yet).
    pub version: u32,
    /// Versions whose files are kept, oldest first.
    pub versions: Vec<Version>,
    pub ops: Vec<Operation>,
    /// The SPICE password in the domain definition (rotated by tickets).
    pub spice_password: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Template {
    /// libvirt's name for the template's domain.
    pub fn domain_name(&self) -> String {
        format!("vdi-tpl-{}", self.uuid)
    }

    pub fn has_version(&self, n: u32) -> bool {
        self.versions.iter().any(|v| v.number == n)
    }

    pub fn next_version(&self) -> u32 {
        self.versions
            .iter()
            .map(|v| v.number)
            .max()
            .unwrap_or(0)
            .max(self.version)
            + 1
    }

    pub fn system_size_gb(&self) -> u32 {
        self.disks
            .iter()
            .find(|d| d.is_system())
            .map(|d| d.size_gb)
            .unwrap_or(0)
    }
}

/// Which kept version to merge away so that at most `keep` remain: the
/// oldest that is not the current one and that no desktop overlay sits on
/// (`held`), with the version its children move onto. `None` when nothing
/// needs (or may be) trimmed; held versions wait for a later save.
pub fn trim_candidate(
    versions: &[Version],
    current: u32,
    keep: usize,
    held: &std::collections::BTreeSet<u32>,
) -> Option<(u32, u32)> {
    if versions.len() <= keep.max(1) {
        return None;
    }
    versions
        .iter()
        .filter(|v| v.number != current && !held.contains(&v.number))
        .min_by_key(|v| v.number)
        .map(|v| (v.number, v.parent))
}

/// The children of version `n` (versions saved on top of it).
pub fn children(versions: &[Version], n: u32) -> Vec<u32> {
    versions
        .iter()
        .filter(|v| v.parent == n)
        .map(|v| v.number)
        .collect()
}

/// `<name>_<yyyymmddhhmmss>_c<vcpu>_r<ram GB>_d<disk GB>`, the exported
/// image name file 001 shows (name made file-safe).
pub fn export_name(name: &str, at: Millis, vcpu: u32, ram_mb: u64, disk_gb: u32) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp: String = super::clock::format_utc(at)
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let ram = ram_mb as f64 / 1024.0;
    format!("{safe}_{stamp}_c{vcpu}_r{ram:.1}_d{disk_gb}")
}

/// The highest address of `range` not in `used` (the predecessor gave
/// templates addresses from the top of the subnet, desktops from the bottom).
pub fn highest_free(
    range: &super::ipv4::Range,
    used: &std::collections::BTreeSet<Ipv4Addr>,
) -> Option<Ipv4Addr> {
    let (a, b) = (u32::from(range.start), u32::from(range.end));
    (a..=b)
        .rev()
        .map(Ipv4Addr::from)
        .find(|ip| !used.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_data_disks_go_after_the_existing_ones() {
        // Create: numbered from 0 or 1, the same disks.
        assert_eq!(data_disk_inx(0, &[0, 1]), [1, 2]);
        assert_eq!(data_disk_inx(0, &[1, 2]), [1, 2]);
        // Update: after the disks the template has, never onto one of them.
        assert_eq!(data_disk_inx(1, &[0]), [2]);
        assert_eq!(data_disk_inx(1, &[1, 1]), [2, 3]);
        assert_eq!(data_disk_inx(1, &[5, 0]), [5, 6]);
        assert_eq!(data_disk_inx(u32::MAX, &[0]), [u32::MAX]);
    }

    fn v(n: u32, parent: u32) -> Version {
        Version {
            number: n,
            parent,
            remark: String::new(),
            created_at: 0,
        }
    }

    #[test]
    fn trimming_takes_the_oldest_non_current_version() {
        let vs = vec![v(1, 0), v(2, 1), v(3, 2)];
        let none = std::collections::BTreeSet::new();
        assert_eq!(trim_candidate(&vs, 3, 3, &none), None);
        assert_eq!(trim_candidate(&vs, 3, 2, &none), Some((1, 0)));
        // Desktops on version 1 hold it: 2 goes instead.
        assert_eq!(trim_candidate(&vs, 3, 2, &[1].into()), Some((2, 1)));
        assert_eq!(trim_candidate(&vs, 3, 2, &[1, 2].into()), None);
        // After a rollback to 1 the current version is kept; 2 goes.
        assert_eq!(trim_candidate(&vs, 1, 2, &none), Some((2, 1)));
        assert_eq!(children(&vs, 1), vec![2]);
        assert_eq!(children(&[v(1, 0), v(2, 1), v(3, 1)], 1), vec![2, 3]);
    }

    #[test]
    fn files_and_names() {
        let d = TemplateDisk {
            uuid: Uuid::nil(),
            inx: 0,
            size_gb: 20,
            dir: "/s/t/d0".into(),
        };
        assert_eq!(d.version_file(3), Path::new("/s/t/d0/v3.qcow2"));
        assert_eq!(version_of_file("v12.qcow2"), Some(12));
        assert_eq!(version_of_file("work.qcow2"), None);
        assert_eq!(
            export_name("win 10", 1_590_137_348_000, 2, 2048, 100),
            "win_10_20200522084908_c2_r2.0_d100"
        );
    }

    #[test]
    fn templates_take_addresses_from_the_top() {
        let r = super::super::ipv4::Range::new(
            "10.0.0.10".parse().unwrap(),
            "10.0.0.20".parse().unwrap(),
        )
        .unwrap();
        let mut used = std::collections::BTreeSet::new();
        assert_eq!(highest_free(&r, &used), Some("10.0.0.20".parse().unwrap()));
        used.insert("10.0.0.20".parse().unwrap());
        assert_eq!(highest_free(&r, &used), Some("10.0.0.19".parse().unwrap()));
    }
}
