//! Pure parsing of what the machine adapter reads: `/proc/cpuinfo`,
//! os-release, `ethtool -i`, NUMA `meminfo` lines and PCI ids.

use std::collections::BTreeSet;

use crate::domain::inventory::CpuInfo;

/// `key : value` of a cpuinfo line.
fn cpuinfo_field(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    Some((k.trim(), v.trim()))
}

/// `vmx` or `svm` when a `flags` line of `/proc/cpuinfo` carries it.
pub(super) fn cpu_flag(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(cpuinfo_field)
        .filter(|(k, _)| *k == "flags")
        .flat_map(|(_, v)| v.split_whitespace())
        .find(|f| *f == "vmx" || *f == "svm")
        .map(str::to_string)
}

/// Model, sockets, cores, threads and virtualisation flag of `/proc/cpuinfo`.
pub(super) fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut model = None;
    let mut threads = 0u32;
    let mut sockets = BTreeSet::new();
    let mut cores = BTreeSet::new();
    // The physical id and core id of the processor being read.
    let mut current: Option<(Option<String>, Option<String>)> = None;
    let mut finish = |cur: Option<(Option<String>, Option<String>)>| {
        if let Some((phys, core)) = cur {
            if let Some(p) = &phys {
                sockets.insert(p.clone());
            }
            if let Some(c) = core {
                cores.insert((phys.unwrap_or_default(), c));
            }
        }
    };
    for (k, v) in text.lines().filter_map(cpuinfo_field) {
        match k {
            "processor" => {
                finish(current.take());
                threads = threads.saturating_add(1);
                current = Some((None, None));
            }
            "model name" | "cpu model" | "Processor" if model.is_none() && !v.is_empty() => {
                model = Some(v.to_string());
            }
            "physical id" => {
                if let Some(c) = current.as_mut() {
                    c.0 = Some(v.to_string());
                }
            }
            "core id" => {
                if let Some(c) = current.as_mut() {
                    c.1 = Some(v.to_string());
                }
            }
            _ => {}
        }
    }
    finish(current.take());
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    CpuInfo {
        model: model.unwrap_or_default(),
        sockets: count(sockets.len()).max(1),
        cores: if cores.is_empty() {
            threads
        } else {
            count(cores.len())
        },
        threads,
        virt_flag: cpu_flag(text),
    }
}

/// `PRETTY_NAME` of an os-release file, unquoted (falling back to `NAME`).
pub(super) fn os_pretty_name(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
            .map(unquote)
            .filter(|v| !v.is_empty())
    };
    field("PRETTY_NAME")
        .or_else(|| field("NAME"))
        .unwrap_or_default()
}

/// A shell-style value: surrounding quotes removed, backslash escapes undone.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| v.strip_prefix(*q)?.strip_suffix(*q))
        .unwrap_or(v);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `firmware-version:` of `ethtool -i` output, when it names one.
pub(super) fn parse_ethtool_firmware(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("firmware-version:"))
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "N/A")
        .map(str::to_string)
}

/// Bytes of `Node N MemTotal: X kB` in a node's `meminfo`.
pub(super) fn node_mem_total(text: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        match f.as_slice() {
            ["Node", _, "MemTotal:", n, unit @ ..] => {
                let n = n.parse::<u64>().ok()?;
                Some(match unit.first() {
                    Some(u) if u.eq_ignore_ascii_case("kb") => n.saturating_mul(1024),
                    _ => n,
                })
            }
            _ => None,
        }
    })
}

/// The vendor's name for a PCI vendor id (`10de`), else the id itself.
pub(super) fn vendor_name(id: &str) -> String {
    match id {
        "10de" => "NVIDIA",
        "1002" => "AMD",
        "8086" => "Intel",
        "1af4" => "Red Hat (virtio)",
        "1234" => "QEMU",
        "15ad" => "VMware",
        "1b36" => "Red Hat (QEMU)",
        "102b" => "Matrox",
        "1a03" => "ASPEED",
        other => other,
    }
    .to_string()
}

/// `DDDD:BB:DD.F`, e.g. `0000:03:00.0` (the domain may be longer).
pub(super) fn is_pci_address(s: &str) -> bool {
    let hex = |p: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&p.len()) && p.chars().all(|c| c.is_ascii_hexdigit())
    };
    let mut parts = s.split(':');
    let (Some(domain), Some(bus), Some(devfn), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some((dev, func)) = devfn.split_once('.') else {
        return false;
    };
    hex(domain, 4..=8) && hex(bus, 2..=2) && hex(dev, 2..=2) && hex(func, 1..=1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTEL: &str = "\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu vme de pse tsc msr vmx smx est
processor\t: 1
model name\t: Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu vme de pse tsc msr vmx smx est

processor\t: 2
model name\t: Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu vme de pse tsc msr vmx smx est

processor\t: 3
model name\t: Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu vme de pse tsc msr vmx smx est
";

    /// Two sockets of two cores each, one thread per core.
    const AMD: &str = "\
processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7302 16-Core Processor
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu vme de pse tsc msr pae mce svm extapic

processor\t: 1
model name\t: AMD EPYC 7302 16-Core Processor
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu vme de pse tsc msr pae mce svm extapic

processor\t: 2
model name\t: AMD EPYC 7302 16-Core Processor
physical id\t: 1
core id\t\t: 0
flags\t\t: fpu vme de pse tsc msr pae mce svm extapic

processor\t: 3
model name\t: AMD EPYC 7302 16-Core Processor
physical id\t: 1
core id\t\t: 1
flags\t\t: fpu vme de pse tsc msr pae mce svm extapic
";

    /// A guest without nested virtualisation nor topology lines.
    const VM: &str = "\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: QEMU Virtual CPU version 2.5+
flags\t\t: fpu de pse tsc msr pae mce cx8 apic hypervisor

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: QEMU Virtual CPU version 2.5+
flags\t\t: fpu de pse tsc msr pae mce cx8 apic hypervisor
";

    #[test]
    fn cpuinfo_intel_counts_hyperthreads() {
        let c = parse_cpuinfo(INTEL);
        assert_eq!(c.model, "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz");
        assert_eq!((c.sockets, c.cores, c.threads), (1, 2, 4));
        assert_eq!(c.virt_flag.as_deref(), Some("vmx"));
    }

    #[test]
    fn cpuinfo_amd_two_sockets_svm() {
        let c = parse_cpuinfo(AMD);
        assert_eq!(c.model, "AMD EPYC 7302 16-Core Processor");
        assert_eq!((c.sockets, c.cores, c.threads), (2, 4, 4));
        assert_eq!(c.virt_flag.as_deref(), Some("svm"));
        assert_eq!(cpu_flag(AMD).as_deref(), Some("svm"));
    }

    #[test]
    fn cpuinfo_vm_without_flag_or_topology() {
        let c = parse_cpuinfo(VM);
        assert_eq!(c.model, "QEMU Virtual CPU version 2.5+");
        assert_eq!((c.sockets, c.cores, c.threads), (1, 2, 2));
        assert_eq!(c.virt_flag, None);
        assert_eq!(cpu_flag(VM), None);
        // Not a flag: a word merely containing it.
        assert_eq!(cpu_flag("flags : vmxnet svmx\n"), None);
    }

    #[test]
    fn cpuinfo_garbage_is_not_a_panic() {
        let c = parse_cpuinfo("nonsense\n:::\nphysical id: 3\n");
        assert_eq!((c.sockets, c.cores, c.threads), (1, 0, 0));
        assert_eq!(c.model, "");
    }

    #[test]
    fn os_release_pretty_name() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
        assert_eq!(os_pretty_name(text), "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(
            os_pretty_name("PRETTY_NAME='Ubuntu 24.04 LTS'\n"),
            "Ubuntu 24.04 LTS"
        );
        assert_eq!(os_pretty_name("PRETTY_NAME=Arch\n"), "Arch");
        assert_eq!(os_pretty_name("PRETTY_NAME=\"A \\\"B\\\"\"\n"), "A \"B\"");
        assert_eq!(os_pretty_name("NAME=\"Fedora Linux\"\n"), "Fedora Linux");
        assert_eq!(os_pretty_name(""), "");
    }

    #[test]
    fn ethtool_firmware_line() {
        let ixgbe = "driver: ixgbe\nversion: 6.8.0\nfirmware-version: 0x800008b4, 1.2688.0\nexpansion-rom-version: \nbus-info: 0000:03:00.0\n";
        assert_eq!(
            parse_ethtool_firmware(ixgbe).as_deref(),
            Some("0x800008b4, 1.2688.0")
        );
        let virtio =
            "driver: virtio_net\nversion: 1.0.0\nfirmware-version: \nbus-info: 0000:00:03.0\n";
        assert_eq!(parse_ethtool_firmware(virtio), None);
        assert_eq!(parse_ethtool_firmware("firmware-version: N/A\n"), None);
        assert_eq!(parse_ethtool_firmware(""), None);
    }

    #[test]
    fn numa_meminfo_line() {
        let text = "Node 0 MemTotal:       16314480 kB\nNode 0 MemFree:         1234 kB\n";
        assert_eq!(node_mem_total(text), Some(16_314_480 * 1024));
        assert_eq!(node_mem_total("Node 1 MemFree: 5 kB\n"), None);
        assert_eq!(node_mem_total("Node 1 MemTotal: lots kB\n"), None);
    }

    #[test]
    fn pci_vendor_table_and_addresses() {
        assert_eq!(vendor_name("10de"), "NVIDIA");
        assert_eq!(vendor_name("1af4"), "Red Hat (virtio)");
        assert_eq!(vendor_name("1a03"), "ASPEED");
        assert_eq!(vendor_name("abcd"), "abcd");
        assert!(is_pci_address("0000:03:00.0"));
        assert!(is_pci_address("10000:e1:1f.7"));
        assert!(!is_pci_address("virtio2"));
        assert!(!is_pci_address("1-1:1.0"));
        assert!(!is_pci_address("0000:03:00"));
    }
}
