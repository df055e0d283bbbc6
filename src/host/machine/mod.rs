//! The real adapter of the `HostInventory` and `HostStorage` ports: reads
//! the machine this service runs on (procfs, sysfs, sysinfo, `ethtool -i`)
//! and creates, removes and measures its storage directories.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sysinfo::{DiskKind, Disks, MemoryRefreshKind, System};

use super::inventory::{HostInventory, HostStorage, Usage};
use super::BoxFuture;
use crate::domain::inventory::{CpuInfo, DiskInfo, GpuInfo, Inventory, Mount, NicInfo, NumaNode};
use crate::error::{Code, Error, Result};

pub mod metrics;
mod parse;

use parse::{
    cpu_flag, is_pci_address, node_mem_total, os_pretty_name, parse_cpuinfo,
    parse_ethtool_firmware, vendor_name,
};

const CPUINFO: &str = "/proc/cpuinfo";
const HOSTNAME: &str = "/proc/sys/kernel/hostname";
const OSRELEASE: &str = "/proc/sys/kernel/osrelease";
const KVM: &str = "/dev/kvm";
const NODES: &str = "/sys/devices/system/node";
const BLOCK: &str = "/sys/block";
const NET: &str = "/sys/class/net";
const PCI: &str = "/sys/bus/pci/devices";

/// Block devices that are not disks: loop, RAM, compressed RAM, device
/// mapper, optical and network block devices.
const NOT_DISK: &[&str] = &["loop", "ram", "zram", "dm-", "sr", "nbd"];

/// The host this process runs on. Stateless: every call reads afresh.
#[derive(Clone, Copy, Debug, Default)]
pub struct Machine;

impl Machine {
    pub fn new() -> Self {
        Machine
    }
}

impl HostInventory for Machine {
    fn hostname(&self) -> BoxFuture<'_, Result<String>> {
        Box::pin(async move { smol::unblock(hostname).await })
    }

    fn virt(&self) -> BoxFuture<'_, Result<(Option<String>, bool)>> {
        Box::pin(async move {
            smol::unblock(move || {
                let flag = match fs::read_to_string(CPUINFO) {
                    Ok(text) => cpu_flag(&text),
                    Err(e) => {
                        log::warn!("cannot read {CPUINFO}: {e}");
                        None
                    }
                };
                Ok((flag, Path::new(KVM).exists()))
            })
            .await
        })
    }

    fn inventory(&self) -> BoxFuture<'_, Result<Inventory>> {
        Box::pin(async move { smol::unblock(inventory).await })
    }

    fn mounts(&self) -> BoxFuture<'_, Result<Vec<Mount>>> {
        Box::pin(async move { smol::unblock(|| Ok(mounts())).await })
    }
}

impl HostStorage for Machine {
    fn dirs_create<'a>(&'a self, dirs: &'a [PathBuf]) -> BoxFuture<'a, Result<Vec<PathBuf>>> {
        let dirs = dirs.to_vec();
        Box::pin(async move { smol::unblock(move || create_dirs(&dirs)).await })
    }

    fn dirs_remove<'a>(&'a self, dirs: &'a [PathBuf]) -> BoxFuture<'a, Result<()>> {
        let dirs = dirs.to_vec();
        Box::pin(async move {
            smol::unblock(move || {
                remove_dirs(&dirs);
                Ok(())
            })
            .await
        })
    }

    fn usage<'a>(&'a self, paths: &'a [String]) -> BoxFuture<'a, Result<Vec<Usage>>> {
        let paths = paths.to_vec();
        Box::pin(async move {
            smol::unblock(move || {
                let mounts = mounts();
                Ok(paths
                    .into_iter()
                    .map(|path| {
                        let (total_bytes, available_bytes) =
                            holder(&mounts, &resolve(Path::new(&path)))
                                .map(|m| (m.total_bytes, m.available_bytes))
                                .unwrap_or((0, 0));
                        Usage {
                            path,
                            total_bytes,
                            available_bytes,
                        }
                    })
                    .collect())
            })
            .await
        })
    }
}

// ---- blocking readers (run inside `smol::unblock`) ----

fn read_trim(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The file name a symlink points to, e.g. the driver of `device/driver`.
fn link_name(path: &Path) -> Option<String> {
    fs::read_link(path)
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
}

/// The entry names of a directory, sorted; empty when it cannot be read.
fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => {
            if e.kind() != io::ErrorKind::NotFound {
                log::warn!("cannot list {}: {e}", dir.display());
            }
            Vec::new()
        }
    };
    names.sort();
    names
}

fn hostname() -> Result<String> {
    if let Some(h) = System::host_name() {
        let h = h.trim();
        if !h.is_empty() {
            return Ok(h.to_string());
        }
    }
    match fs::read_to_string(HOSTNAME) {
        Ok(h) if !h.trim().is_empty() => Ok(h.trim().to_string()),
        Ok(_) => Err(Error::internal(format!("{HOSTNAME} is empty"))),
        Err(e) => Err(Error::internal(format!("cannot read {HOSTNAME}: {e}"))),
    }
}

fn inventory() -> Result<Inventory> {
    let hostname = hostname().unwrap_or_default();
    let os = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .map(|t| os_pretty_name(&t))
        .unwrap_or_default();
    let kernel = read_trim(Path::new(OSRELEASE)).unwrap_or_default();
    let mut cpu = match fs::read_to_string(CPUINFO) {
        Ok(text) => parse_cpuinfo(&text),
        Err(e) => {
            log::warn!("cannot read {CPUINFO}: {e}");
            CpuInfo::default()
        }
    };
    if cpu.threads == 0 {
        // An architecture whose cpuinfo has no `processor` lines.
        cpu.threads = std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1);
        cpu.cores = cpu.threads;
    }
    let mut sys = System::new();
    sys.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
    Ok(Inventory {
        hostname,
        os,
        kernel,
        cpu,
        // Bytes (sysinfo has counted bytes, not KiB, since 0.30).
        memory_bytes: sys.total_memory(),
        numa: numa_at(Path::new(NODES)),
        disks: disks_at(Path::new(BLOCK)),
        nics: nics_at(Path::new(NET), ethtool_firmware),
        gpus: gpus_at(Path::new(PCI)),
    })
}

/// NUMA nodes from `<root>/node<N>/{cpulist,meminfo}`; none when the
/// directory is missing (kernels without NUMA support).
fn numa_at(root: &Path) -> Vec<NumaNode> {
    let mut nodes: Vec<NumaNode> = dir_names(root)
        .into_iter()
        .filter_map(|name| {
            let id = name.strip_prefix("node")?.parse::<u32>().ok()?;
            let dir = root.join(&name);
            Some(NumaNode {
                id,
                cpus: read_trim(&dir.join("cpulist")).unwrap_or_default(),
                memory_bytes: fs::read_to_string(dir.join("meminfo"))
                    .ok()
                    .and_then(|t| node_mem_total(&t))
                    .unwrap_or(0),
            })
        })
        .collect();
    nodes.sort_by_key(|n| n.id);
    nodes
}

/// Block devices under `<root>` (`/sys/block`) that are disks.
fn disks_at(root: &Path) -> Vec<DiskInfo> {
    dir_names(root)
        .into_iter()
        .filter(|name| !NOT_DISK.iter().any(|p| name.starts_with(p)))
        .map(|name| {
            let dir = root.join(&name);
            let flag = |file: &str| read_trim(&dir.join(file)).as_deref() == Some("1");
            DiskInfo {
                size_bytes: read_trim(&dir.join("size"))
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0)
                    .saturating_mul(512),
                rotational: flag("queue/rotational"),
                model: read_trim(&dir.join("device/model")).unwrap_or_default(),
                removable: flag("removable"),
                name,
            }
        })
        .collect()
}

/// Physical NICs (those with a `device` link) under `<root>`
/// (`/sys/class/net`); `firmware` asks for a NIC's firmware version.
fn nics_at(root: &Path, firmware: impl Fn(&str) -> Option<String>) -> Vec<NicInfo> {
    dir_names(root)
        .into_iter()
        .filter(|name| root.join(name).join("device").exists())
        .map(|name| {
            let dir = root.join(&name);
            NicInfo {
                mac: read_trim(&dir.join("address")).unwrap_or_default(),
                driver: link_name(&dir.join("device/driver")),
                firmware: firmware(&name),
                pci: nic_pci(&dir.join("device")),
                speed_mbps: read_trim(&dir.join("speed"))
                    .and_then(|s| s.parse::<i64>().ok())
                    .filter(|s| *s > 0)
                    .and_then(|s| u32::try_from(s).ok()),
                name,
            }
        })
        .collect()
}

/// The PCI address of a NIC's `device` link: the link's target, or, for a
/// virtio NIC (`.../0000:00:03.0/virtio2`), the PCI device it sits on.
fn nic_pci(device: &Path) -> Option<String> {
    if let Some(name) = link_name(device).filter(|n| is_pci_address(n)) {
        return Some(name);
    }
    let target = fs::canonicalize(device).ok()?;
    let base = target.file_name()?.to_string_lossy();
    if !base.starts_with("virtio") {
        return None;
    }
    let parent = target.parent()?.file_name()?.to_string_lossy().into_owned();
    is_pci_address(&parent).then_some(parent)
}

/// Display controllers (PCI class `0x03xxxx`) under `<root>`
/// (`/sys/bus/pci/devices`).
fn gpus_at(root: &Path) -> Vec<GpuInfo> {
    dir_names(root)
        .into_iter()
        .filter_map(|pci| {
            let dir = root.join(&pci);
            let class = read_trim(&dir.join("class"))?;
            if !class.to_ascii_lowercase().starts_with("0x03") {
                return None;
            }
            let id = |file: &str| {
                read_trim(&dir.join(file))
                    .map(|s| {
                        let s = s.to_ascii_lowercase();
                        s.strip_prefix("0x").map(str::to_string).unwrap_or(s)
                    })
                    .unwrap_or_default()
            };
            let vendor_id = id("vendor");
            Some(GpuInfo {
                vendor: vendor_name(&vendor_id),
                device_id: id("device"),
                driver: link_name(&dir.join("driver")),
                vendor_id,
                pci,
            })
        })
        .collect()
}

/// `ethtool`'s path, from `PATH` or the usual sbin directories.
fn ethtool_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join("ethtool"))
        .find(|p| p.is_file())
}

/// The firmware version `ethtool -i` reports; `None` when ethtool is
/// missing, fails, or the driver tells none.
fn ethtool_firmware(nic: &str) -> Option<String> {
    let bin = ethtool_path()?;
    let out = Command::new(&bin)
        .arg("-i")
        .arg(nic)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => parse_ethtool_firmware(&String::from_utf8_lossy(&o.stdout)),
        Ok(o) => {
            log::debug!("ethtool -i {nic}: {}", o.status);
            None
        }
        Err(e) => {
            log::debug!("cannot run {}: {e}", bin.display());
            None
        }
    }
}

/// Mount points that show a subdirectory of a filesystem mounted elsewhere
/// (bind mounts: systemd's sandbox makes several, `/etc` and `/usr`
/// read-only or the state directory writable), from `/proc/self/mountinfo`:
/// the last entry of a mount point is the visible one. btrfs is left alone:
/// its subvolumes (`/@`, `/@home`) are real mounts with such a root.
pub fn bind_mounts(mountinfo: &str) -> BTreeSet<String> {
    let mut root_of = BTreeMap::new();
    for l in mountinfo.lines() {
        let mut f = l.split(' ');
        let fs = l.split(" - ").nth(1).and_then(|r| r.split(' ').next());
        if let (Some(root), Some(point)) = (f.nth(3), f.next()) {
            root_of.insert(unescape_octal(point), root != "/" && fs != Some("btrfs"));
        }
    }
    root_of
        .into_iter()
        .filter_map(|(p, bind)| bind.then_some(p))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let code = b.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (b[i], code) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mounted filesystems sysinfo sees (this process's mount namespace),
/// one per mount point (the last, visible one), sorted by path; bind mounts
/// of subdirectories are left out (their filesystem is listed where it is
/// mounted).
fn mounts() -> Vec<Mount> {
    let disks = Disks::new_with_refreshed_list();
    let binds = bind_mounts(&fs::read_to_string("/proc/self/mountinfo").unwrap_or_default());
    let mut by_path = BTreeMap::new();
    for d in disks.list() {
        let path = d.mount_point().to_string_lossy().into_owned();
        if binds.contains(&path) {
            continue;
        }
        let m = Mount {
            path: path.clone(),
            device: d.name().to_string_lossy().into_owned(),
            fs: d.file_system().to_string_lossy().into_owned(),
            total_bytes: d.total_space(),
            available_bytes: d.available_space(),
            rotational: match d.kind() {
                DiskKind::HDD => Some(true),
                DiskKind::SSD => Some(false),
                DiskKind::Unknown(_) => None,
            },
            writable: !d.is_read_only(),
        };
        by_path.insert(path, m);
    }
    by_path.into_values().collect()
}

/// `path` with symlinks resolved as far as it exists; the missing rest is
/// appended as given.
fn resolve(path: &Path) -> PathBuf {
    for a in path.ancestors() {
        if a.as_os_str().is_empty() {
            break;
        }
        if let (Ok(real), Ok(rest)) = (fs::canonicalize(a), path.strip_prefix(a)) {
            return if rest.as_os_str().is_empty() {
                real
            } else {
                real.join(rest)
            };
        }
    }
    path.to_path_buf()
}

/// The mount holding `path`: the longest mount point that is a
/// component-wise prefix of it.
fn holder<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.path))
        .max_by_key(|m| Path::new(&m.path).components().count())
}

fn create_dirs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    for dir in dirs {
        if let Err((path, e)) = create_one(dir, &mut created) {
            remove_created(&created);
            return Err(Error::new(
                Code::StorageUnusable,
                format!("cannot create the directory {}: {e}", path.display()),
            ));
        }
    }
    Ok(created)
}

/// Creates `dir` and its missing parents, recording each one created.
fn create_one(dir: &Path, created: &mut Vec<PathBuf>) -> Result<(), (PathBuf, io::Error)> {
    let mut missing = Vec::new();
    for a in dir.ancestors() {
        if a.as_os_str().is_empty() {
            break;
        }
        match fs::metadata(a) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                let e = io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "exists and is not a directory",
                );
                return Err((a.to_path_buf(), e));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(a.to_path_buf()),
            Err(e) => return Err((a.to_path_buf(), e)),
        }
    }
    for a in missing.into_iter().rev() {
        match fs::create_dir(&a) {
            Ok(()) => created.push(a),
            // Made meanwhile by someone else: not ours to remove.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && a.is_dir() => {}
            Err(e) => return Err((a, e)),
        }
    }
    Ok(())
}

/// Rolls back `create_dirs`: removes what it made, deepest first.
fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        if let Err(e) = fs::remove_dir(dir) {
            log::warn!("cannot remove the directory {} again: {e}", dir.display());
        }
    }
}

fn remove_dirs(dirs: &[PathBuf]) {
    for dir in dirs.iter().rev() {
        match fs::remove_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => {
                log::warn!("{} is not empty: left in place", dir.display());
            }
            Err(e) => log::warn!("cannot remove the directory {}: {e}", dir.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn bind_mounts_are_the_ones_showing_a_subdirectory() {
        // The service's own view under systemd's sandbox on the live image.
        let info = "\
25 1 0:23 / / rw,noatime - overlay overlay rw,lowerdir=/run/live/rootfs/filesystem.squashfs/
40 25 254:0 / /data rw,relatime - ext4 /dev/vda rw
41 25 0:23 /etc /etc ro,noatime - overlay overlay rw
42 41 0:23 /etc/systemd/network /etc/systemd/network rw,noatime - overlay overlay rw
43 25 0:23 /var/lib/vdi-appliance /var/lib/vdi-appliance rw - overlay overlay rw
44 25 254:1 /a\\040b /mnt/x\\040y rw - ext4 /dev/vdb rw
45 25 254:1 / /mnt/x\\040y rw - ext4 /dev/vdb rw
46 25 254:2 / /srv rw - ext4 /dev/vdc rw
47 25 254:0 /vdi /srv rw - ext4 /dev/vda rw
48 25 0:40 /@home /home rw,relatime shared:2 - btrfs /dev/sdb2 rw,subvol=/@home
";
        let b = bind_mounts(info);
        let want: BTreeSet<String> = [
            "/etc",
            "/etc/systemd/network",
            "/var/lib/vdi-appliance",
            "/srv",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        // `/mnt/x y` was a bind mount, then a whole filesystem on top of it.
        assert_eq!(b, want);
        assert_eq!(unescape_octal("a\\040b\\134c"), "a b\\c");
    }

    #[test]
    fn sysfs_trees_are_read() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();

        write(&r.join("node/node1/cpulist"), "8-15\n");
        write(&r.join("node/node1/meminfo"), "Node 1 MemTotal: 2 kB\n");
        write(&r.join("node/node0/cpulist"), "0-7\n");
        write(&r.join("node/online"), "0-1\n");
        let numa = numa_at(&r.join("node"));
        assert_eq!(numa.len(), 2);
        assert_eq!((numa[0].id, numa[0].cpus.as_str()), (0, "0-7"));
        assert_eq!(numa[0].memory_bytes, 0);
        assert_eq!((numa[1].id, numa[1].memory_bytes), (1, 2048));
        assert!(numa_at(&r.join("missing")).is_empty());

        write(&r.join("block/sda/size"), "1000\n");
        write(&r.join("block/sda/queue/rotational"), "1\n");
        write(&r.join("block/sda/device/model"), "ST4000NM0035    \n");
        write(&r.join("block/sda/removable"), "0\n");
        write(&r.join("block/vda/size"), "8\n");
        write(&r.join("block/loop0/size"), "8\n");
        write(&r.join("block/dm-0/size"), "8\n");
        let disks = disks_at(&r.join("block"));
        assert_eq!(disks.len(), 2, "{disks:?}");
        assert_eq!(
            disks[0],
            DiskInfo {
                name: "sda".into(),
                size_bytes: 512_000,
                rotational: true,
                model: "ST4000NM0035".into(),
                removable: false,
            }
        );
        assert_eq!(
            (disks[1].name.as_str(), disks[1].model.as_str()),
            ("vda", "")
        );

        let pci = r.join("devices/pci0000:00/0000:00:03.0");
        write(&pci.join("virtio2/x"), "");
        write(&r.join("drivers/virtio_net/x"), "");
        write(&r.join("net/eth0/address"), "52:54:00:12:34:56\n");
        write(&r.join("net/eth0/speed"), "-1\n");
        symlink(pci.join("virtio2"), r.join("net/eth0/device")).unwrap();
        symlink(r.join("drivers/virtio_net"), pci.join("virtio2/driver")).unwrap();
        write(&r.join("net/eno1/address"), "aa:bb:cc:dd:ee:ff\n");
        write(&r.join("net/eno1/speed"), "10000\n");
        symlink(&pci, r.join("net/eno1/device")).unwrap();
        write(&r.join("net/br0/address"), "aa:bb:cc:dd:ee:00\n");
        let nics = nics_at(&r.join("net"), |n| (n == "eno1").then(|| "1.2".to_string()));
        assert_eq!(nics.len(), 2, "{nics:?}");
        assert_eq!(nics[0].name, "eno1");
        assert_eq!(nics[0].pci.as_deref(), Some("0000:00:03.0"));
        assert_eq!(nics[0].speed_mbps, Some(10000));
        assert_eq!(nics[0].firmware.as_deref(), Some("1.2"));
        assert_eq!(nics[1].name, "eth0");
        assert_eq!(nics[1].mac, "52:54:00:12:34:56");
        assert_eq!(nics[1].driver.as_deref(), Some("virtio_net"));
        assert_eq!(nics[1].pci.as_deref(), Some("0000:00:03.0"));
        assert_eq!(
            (nics[1].speed_mbps, nics[1].firmware.as_deref()),
            (None, None)
        );

        let bus = r.join("pci");
        write(&bus.join("0000:00:02.0/class"), "0x030000\n");
        write(&bus.join("0000:00:02.0/vendor"), "0x1234\n");
        write(&bus.join("0000:00:02.0/device"), "0x1111\n");
        write(&bus.join("0000:00:03.0/class"), "0x020000\n");
        write(&bus.join("0000:00:03.0/vendor"), "0x1af4\n");
        write(&bus.join("0000:65:00.0/class"), "0x030200\n");
        write(&bus.join("0000:65:00.0/vendor"), "0x10DE\n");
        write(&bus.join("0000:65:00.0/device"), "0x1eb8\n");
        write(&r.join("drivers/nvidia/x"), "");
        symlink(r.join("drivers/nvidia"), bus.join("0000:65:00.0/driver")).unwrap();
        let gpus = gpus_at(&bus);
        assert_eq!(gpus.len(), 2, "{gpus:?}");
        assert_eq!(
            gpus[0],
            GpuInfo {
                pci: "0000:00:02.0".into(),
                vendor_id: "1234".into(),
                device_id: "1111".into(),
                vendor: "QEMU".into(),
                driver: None,
            }
        );
        assert_eq!(gpus[1].vendor, "NVIDIA");
        assert_eq!(gpus[1].vendor_id, "10de");
        assert_eq!(gpus[1].driver.as_deref(), Some("nvidia"));
        assert!(gpus_at(&r.join("no-pci")).is_empty());
    }

    #[test]
    fn holder_is_the_longest_component_prefix() {
        let m = |p: &str, total| Mount {
            path: p.into(),
            total_bytes: total,
            ..Mount::default()
        };
        let mounts = [m("/", 1), m("/var", 2), m("/var/lib/vdi", 3)];
        let of = |p: &str| holder(&mounts, Path::new(p)).map(|m| m.total_bytes);
        assert_eq!(of("/var/lib/vdi/disks"), Some(3));
        assert_eq!(of("/var/lib/vdisk"), Some(2));
        assert_eq!(of("/variable"), Some(1));
        assert_eq!(of("/var"), Some(2));
        assert_eq!(holder(&mounts[1..], Path::new("/opt")), None);
    }

    #[test]
    fn dirs_are_created_and_removed() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        let m = Machine::new();
        fs::create_dir(r.join("a")).unwrap();
        let dirs = vec![r.join("a"), r.join("a/b"), r.join("x/y/z")];
        let created = smol::block_on(m.dirs_create(&dirs)).unwrap();
        assert_eq!(
            created,
            vec![r.join("a/b"), r.join("x"), r.join("x/y"), r.join("x/y/z")]
        );
        assert!(r.join("x/y/z").is_dir());
        // Again: nothing is missing, nothing is created.
        assert!(smol::block_on(m.dirs_create(&dirs)).unwrap().is_empty());

        fs::write(r.join("a/b/keep"), "").unwrap();
        smol::block_on(m.dirs_remove(&created)).unwrap();
        assert!(!r.join("x").exists());
        assert!(r.join("a/b/keep").exists(), "a non-empty dir is left");
        // Already gone: fine.
        smol::block_on(m.dirs_remove(&created)).unwrap();
    }

    #[test]
    fn a_failed_create_rolls_back() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        fs::write(r.join("file"), "").unwrap();
        let dirs = vec![r.join("new"), r.join("new/sub"), r.join("file/sub")];
        let e = smol::block_on(Machine::new().dirs_create(&dirs)).unwrap_err();
        assert_eq!(e.code, Code::StorageUnusable);
        assert!(e.message.contains("file/sub"), "{e}");
        assert!(e.message.contains("directory"), "{e}");
        assert!(!r.join("new").exists(), "created dirs are removed again");
        let e = smol::block_on(Machine::new().dirs_create(&[r.join("file")])).unwrap_err();
        assert_eq!(e.code, Code::StorageUnusable);
        assert!(e.message.contains("not a directory"), "{e}");
    }

    /// Reads the machine running the tests.
    #[test]
    fn this_machine() {
        let m = Machine::new();
        let host = smol::block_on(m.hostname()).unwrap();
        assert!(!host.is_empty());
        let inv = smol::block_on(m.inventory()).unwrap();
        assert_eq!(inv.hostname, host);
        assert!(inv.cpu.threads >= 1, "{:?}", inv.cpu);
        assert!(inv.cpu.sockets >= 1, "{:?}", inv.cpu);
        assert!(inv.memory_bytes > 0);
        let (flag, _kvm) = smol::block_on(m.virt()).unwrap();
        assert_eq!(flag, inv.cpu.virt_flag);
        let mounts = smol::block_on(m.mounts()).unwrap();
        assert!(mounts.iter().any(|m| m.path == "/"), "{mounts:?}");
        let usage = smol::block_on(m.usage(&["/".into(), "/no/such/dir".into()])).unwrap();
        assert_eq!(usage.len(), 2);
        assert!(usage[0].total_bytes > 0, "{usage:?}");
        assert_eq!(usage[1].path, "/no/such/dir");
        assert!(usage[1].total_bytes > 0, "held by /");
        let none = smol::block_on(m.usage(&["not-absolute".into()])).unwrap();
        assert_eq!((none[0].total_bytes, none[0].available_bytes), (0, 0));
    }
}
