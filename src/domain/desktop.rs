//! Desktop groups and their desktops: education classrooms of linked clones
//! restored at every start, personal random and static groups, and the pure
//! rules around them (naming, seats, placement, restore decisions).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use uuid::Uuid;

use super::clock::Millis;

/// Education (a classroom's seats) or personal (users).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Education = 1,
    Personal = 2,
}

/// How a personal group hands out desktops (file 000 `desktop_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assign {
    /// Any free desktop is taken at login and given back at logout.
    Random = 1,
    /// Each desktop belongs to one user.
    Static = 2,
}

/// Whether a group or desktop is complete: made records whose disks and
/// domains are still being made, or being removed, are repaired at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Building = 0,
    Ready = 1,
    Deleting = 2,
}

impl Phase {
    pub fn from_tag(t: u8) -> Phase {
        match t {
            0 => Phase::Building,
            2 => Phase::Deleting,
            _ => Phase::Ready,
        }
    }
}

/// What a data disk does at start (file 001 `data_restore`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataRestore {
    Keep = 0,
    Restore = 1,
    /// The desktops have no data disk.
    None = 2,
}

impl DataRestore {
    pub fn from_number(n: u64) -> Option<DataRestore> {
        match n {
            0 => Some(DataRestore::Keep),
            1 => Some(DataRestore::Restore),
            2 => Some(DataRestore::None),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DesktopGroup {
    pub uuid: Uuid,
    pub seq: u64,
    pub name: String,
    pub kind: Kind,
    pub owner: String,
    /// The classroom (education group) of an education desktop group.
    pub classroom: Option<Uuid>,
    pub template: Uuid,
    pub pool: Uuid,
    pub network: Option<Uuid>,
    pub subnet: Option<Uuid>,
    pub vcpu: u32,
    pub ram_mb: u64,
    pub sys_restore: bool,
    pub data_restore: DataRestore,
    pub prefix: String,
    /// Digits of the number in desktop names.
    pub postfix: u32,
    pub postfix_start: u32,
    /// Shown to terminals.
    pub active: bool,
    /// The classroom's default group.
    pub default: bool,
    pub show_info: bool,
    pub auto_update: bool,
    /// Desktops take no address from the subnet (file 001 `use_bottom_ip`).
    pub use_bottom_ip: bool,
    /// Addresses are handed out from here upwards (`ip_detail.start_ip`,
    /// `allocate_start`); `None` takes the lowest free ones.
    pub ip_start: Option<Ipv4Addr>,
    /// Personal groups: random or static.
    pub assign: Option<Assign>,
    /// Personal random groups: the user groups whose users may log in.
    pub user_groups: Vec<Uuid>,
    /// Personal groups in maintenance are not offered to users.
    pub maintenance: bool,
    pub order_num: u32,
    pub phase: Phase,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl DesktopGroup {
    /// Disk restore for a template disk.
    pub fn restores(&self, system: bool) -> bool {
        if system {
            self.sys_restore
        } else {
            self.data_restore == DataRestore::Restore
        }
    }

    /// Whether a stop may pull the plug at once: nothing on the desktop's
    /// disks survives the next start anyway.
    pub fn stateless(&self) -> bool {
        self.sys_restore && self.data_restore != DataRestore::Keep
    }

    pub fn desktop_name(&self, number: u32) -> String {
        desktop_name(&self.prefix, self.postfix, number)
    }
}

/// What a desktop is doing, as file 001 shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Off.
    Inactive = 0,
    /// Running.
    Active = 1,
    Error = 2,
    /// A power or disk operation runs.
    Updating = 3,
    /// Its node is down: nobody can say.
    Unknown = 4,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Inactive => "inactive",
            Status::Active => "active",
            Status::Error => "error",
            Status::Updating => "updating",
            Status::Unknown => "unknown",
        }
    }

    pub fn from_tag(t: u8) -> Status {
        match t {
            1 => Status::Active,
            2 => Status::Error,
            3 => Status::Updating,
            4 => Status::Unknown,
            _ => Status::Inactive,
        }
    }
}

/// One disk of a desktop: an overlay on a template disk's version.
#[derive(Clone, Debug, PartialEq)]
pub struct DesktopDisk {
    /// The template disk it clones.
    pub template_disk: Uuid,
    pub inx: u32,
    pub path: PathBuf,
    /// The template version the overlay sits on now.
    pub version: u32,
}

impl DesktopDisk {
    pub fn is_system(&self) -> bool {
        self.inx == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Desktop {
    pub uuid: Uuid,
    pub seq: u64,
    pub group: Uuid,
    pub name: String,
    /// The number in the name.
    pub number: u32,
    /// Seat of the classroom (education), 1-based.
    pub seat: u32,
    pub node: Uuid,
    pub ip: Option<Ipv4Addr>,
    pub mac: String,
    /// Static: the owner; random: the user holding it now.
    pub user: Option<Uuid>,
    pub status: Status,
    pub started_at: Option<Millis>,
    pub disks: Vec<DesktopDisk>,
    /// The domain's defined SPICE password (never valid without a ticket).
    pub spice_password: String,
    pub terminal_mac: String,
    pub terminal_ip: String,
    pub phase: Phase,
    pub created_at: Millis,
}

impl Desktop {
    pub fn domain_name(&self) -> String {
        format!("desktop-{}", self.uuid.simple())
    }

    /// The address holder text in the subnet's allocations.
    pub fn ip_holder(&self, classroom: Option<Uuid>) -> String {
        ip_holder(classroom, self.seat, &self.uuid)
    }
}

/// Holder text of a desktop's address. Education desktops name their
/// classroom seat first, so another group's desktop on the same seat can
/// share the address (only one of them runs at a time).
pub fn ip_holder(classroom: Option<Uuid>, seat: u32, desktop: &Uuid) -> String {
    match classroom {
        Some(c) => format!("{}{desktop}", seat_holder_prefix(&c, seat)),
        None => format!("desktop:{desktop}"),
    }
}

pub fn seat_holder_prefix(classroom: &Uuid, seat: u32) -> String {
    format!("seat:{classroom}:{seat}:")
}

/// `prefix` + `number` zero-padded to `digits` (longer numbers unpadded).
pub fn desktop_name(prefix: &str, digits: u32, number: u32) -> String {
    // A u32 has at most 10 digits: wider padding only adds zeros (and a
    // width past u16::MAX panics in `format!`).
    format!("{prefix}{number:0width$}", width = digits.min(10) as usize)
}

/// Numbers and seats for `count` new desktops of a group that has
/// `existing` (number, seat) pairs: numbers continue after the highest
/// (from `start` in an empty group), seats fill from 1 upwards.
pub fn numbering(existing: &[(u32, u32)], count: u32, start: u32) -> Vec<(u32, u32)> {
    let next_number = existing
        .iter()
        .map(|(n, _)| n.saturating_add(1))
        .max()
        .unwrap_or(start)
        .max(start);
    let taken: std::collections::BTreeSet<u32> = existing.iter().map(|(_, s)| *s).collect();
    let mut seats = (1..).filter(|s| !taken.contains(s));
    (0..count)
        .map(|i| (next_number.saturating_add(i), seats.next().unwrap_or(0)))
        .collect()
}

/// A node desktops may be placed on, with what it can still take.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRoom {
    pub uuid: Uuid,
    pub ip: String,
    /// Memory not yet promised to desktops (MB).
    pub free_mb: u64,
    /// Storage free for new overlays (bytes; `None` when unknown).
    pub free_disk: Option<u64>,
}

/// Space a new overlay is expected to need before the guest writes much.
pub const OVERLAY_RESERVE: u64 = 256 << 20;

/// Where `count` desktops of `ram_mb` go: as `asked` (node ip → count), or
/// when `asked` is empty on the nodes with most free memory first. Each
/// node must hold its desktops' memory and their overlays.
pub fn place(
    rooms: &[NodeRoom],
    asked: &BTreeMap<String, u32>,
    count: u32,
    ram_mb: u64,
) -> std::result::Result<Vec<Uuid>, String> {
    let mut out = Vec::new();
    if !asked.is_empty() {
        let total: u32 = asked.values().sum();
        if total != count {
            return Err(format!(
                "create_info places {total} desktops but {count} are asked for"
            ));
        }
        for (ip, n) in asked {
            let room = rooms
                .iter()
                .find(|r| r.ip == *ip)
                .ok_or_else(|| format!("create_info: {ip} is not a node of this pool"))?;
            check_room(room, *n, ram_mb)?;
            out.extend(std::iter::repeat_n(room.uuid, *n as usize));
        }
        return Ok(out);
    }
    if rooms.is_empty() {
        return Err("no node of the pool runs desktops".into());
    }
    let mut left: Vec<(u64, u32)> = rooms.iter().map(|r| (r.free_mb, 0)).collect();
    for _ in 0..count {
        let (i, _) = left
            .iter()
            .enumerate()
            .max_by_key(|(i, (free, _))| (*free, std::cmp::Reverse(*i)))
            .expect("rooms is not empty");
        left[i].0 = left[i].0.saturating_sub(ram_mb);
        left[i].1 += 1;
        out.push(rooms[i].uuid);
    }
    for (room, (_, n)) in rooms.iter().zip(&left) {
        check_room(room, *n, ram_mb)?;
    }
    Ok(out)
}

fn check_room(room: &NodeRoom, n: u32, ram_mb: u64) -> std::result::Result<(), String> {
    let need = n as u64 * ram_mb;
    if need > room.free_mb {
        return Err(format!(
            "node {} has {} MB of memory for desktops; {n} desktops of {ram_mb} MB need {need} MB",
            room.ip, room.free_mb
        ));
    }
    if let Some(free) = room.free_disk {
        let disk = n as u64 * OVERLAY_RESERVE;
        if disk > free {
            return Err(format!(
                "node {} has {} MB free for desktop disks; {n} desktops need {} MB",
                room.ip,
                free >> 20,
                disk >> 20
            ));
        }
    }
    Ok(())
}

/// Whether a disk's overlay is (re)made at start: when it is missing, when
/// the group restores it, or when it sits on a version no longer kept.
pub fn recreate_at_start(restore: bool, exists: bool, version_kept: bool) -> bool {
    !exists || restore || !version_kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_zero_padded_to_the_digits() {
        assert_eq!(desktop_name("pc", 3, 2), "pc002");
        assert_eq!(desktop_name("pc", 2, 123), "pc123");
        assert_eq!(desktop_name("ctx", 0, 7), "ctx7");
    }

    #[test]
    fn numbering_continues_and_fills_seats() {
        assert_eq!(numbering(&[], 3, 1), vec![(1, 1), (2, 2), (3, 3)]);
        assert_eq!(numbering(&[], 2, 5), vec![(5, 1), (6, 2)]);
        // Desktop 2 (seat 2) was deleted: seat 2 is reused, numbers go on.
        assert_eq!(numbering(&[(1, 1), (3, 3)], 2, 1), vec![(4, 2), (5, 4)]);
    }

    fn room(ip: &str, free_mb: u64, disk: Option<u64>) -> NodeRoom {
        NodeRoom {
            uuid: Uuid::new_v4(),
            ip: ip.into(),
            free_mb,
            free_disk: disk,
        }
    }

    #[test]
    fn placement_follows_create_info_and_checks_capacity() {
        let rooms = vec![room("10.0.0.1", 8192, None), room("10.0.0.2", 4096, None)];
        let asked: BTreeMap<String, u32> = [("10.0.0.1".into(), 2), ("10.0.0.2".into(), 1)].into();
        let p = place(&rooms, &asked, 3, 1024).unwrap();
        assert_eq!(p, vec![rooms[0].uuid, rooms[0].uuid, rooms[1].uuid]);
        assert!(place(&rooms, &asked, 4, 1024)
            .unwrap_err()
            .contains("places 3"));
        let unknown: BTreeMap<String, u32> = [("10.9.9.9".into(), 1)].into();
        assert!(place(&rooms, &unknown, 1, 1024)
            .unwrap_err()
            .contains("10.9.9.9 is not a node"));
        let big: BTreeMap<String, u32> = [("10.0.0.2".into(), 5)].into();
        assert!(place(&rooms, &big, 5, 1024)
            .unwrap_err()
            .contains("need 5120 MB"));
        let disk = vec![room("10.0.0.3", 1 << 20, Some(OVERLAY_RESERVE))];
        assert!(place(&disk, &BTreeMap::new(), 2, 1)
            .unwrap_err()
            .contains("free for desktop disks"));
    }

    #[test]
    fn automatic_placement_prefers_the_least_loaded_node() {
        let rooms = vec![room("a", 3072, None), room("b", 6144, None)];
        let p = place(&rooms, &BTreeMap::new(), 4, 1024).unwrap();
        let on_b = p.iter().filter(|u| **u == rooms[1].uuid).count();
        assert_eq!(on_b, 3, "b takes desktops until it is no emptier than a");
        assert!(place(&rooms, &BTreeMap::new(), 10, 1024).is_err());
        assert!(place(&[], &BTreeMap::new(), 1, 1024).is_err());
    }

    #[test]
    fn restore_decisions() {
        assert!(recreate_at_start(true, true, true));
        assert!(!recreate_at_start(false, true, true));
        assert!(recreate_at_start(false, false, true));
        assert!(recreate_at_start(false, true, false));
    }

    #[test]
    fn seats_share_a_holder_prefix_per_classroom() {
        let c = Uuid::new_v4();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let ha = ip_holder(Some(c), 3, &a);
        assert!(ha.starts_with(&seat_holder_prefix(&c, 3)));
        assert!(!ip_holder(Some(c), 3, &b).eq(&ha));
        assert!(ip_holder(None, 3, &a).starts_with("desktop:"));
    }
}
