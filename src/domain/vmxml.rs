//! libvirt domain XML from domain types: one `VmSpec` says what a virtual
//! machine is (disks, cdrom, NIC, SPICE, OS flavour) and `to_xml` renders it;
//! device fragments (graphics with a new ticket, a cdrom change) come from
//! the same code, so there are no string templates elsewhere.

use std::fmt::Write;
use std::path::PathBuf;

use uuid::Uuid;

use super::console::Protocol;

/// Whether the guest is Windows (Hyper-V enlightenments, localtime clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsFamily {
    Linux,
    Windows,
}

impl OsFamily {
    /// `os_type` as clients send it: anything starting with `win` is Windows.
    pub fn of(os_type: &str) -> OsFamily {
        if os_type.trim().to_ascii_lowercase().starts_with("win") {
            OsFamily::Windows
        } else {
            OsFamily::Linux
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DiskSpec {
    pub path: PathBuf,
    /// `vda`, `vdb`, …
    pub dev: String,
    /// Boot order (1 first); `None` does not boot.
    pub boot: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SpiceSpec {
    /// Address QEMU listens on.
    pub listen: String,
    /// Never empty: a domain without a ticket cannot be opened.
    pub password: String,
    /// When the password stops working (UTC milliseconds).
    pub valid_to_ms: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VmSpec {
    pub name: String,
    pub uuid: Uuid,
    /// `kvm` on real hardware, `qemu` where only TCG works.
    pub domain_type: String,
    pub vcpu: u32,
    pub ram_mb: u64,
    pub os: OsFamily,
    pub disks: Vec<DiskSpec>,
    /// The ISO in the cdrom drive (the drive exists even when empty).
    pub cdrom: Option<PathBuf>,
    /// Boot from the cdrom first (installing from an ISO).
    pub cdrom_boot: bool,
    pub bridge: Option<String>,
    pub mac: String,
    pub spice: SpiceSpec,
    /// Free text kept in `<description>`.
    pub description: String,
}

/// The cdrom's target device.
pub const CDROM_DEV: &str = "sda";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn path_text(p: &std::path::Path) -> String {
    esc(&p.to_string_lossy())
}

/// The SPICE `<graphics>` element (also used alone to change the ticket of
/// a running domain). Listens only where asked, always with a password.
pub fn graphics_xml(s: &SpiceSpec) -> String {
    format!(
        "<graphics type='spice' autoport='yes' listen='{l}' passwd='{p}' passwdValidTo='{v}' connected='keep'>\
<listen type='address' address='{l}'/><image compression='auto_glz'/><streaming mode='filter'/></graphics>",
        l = esc(&s.listen),
        p = esc(&s.password),
        v = super::clock::format_iso(s.valid_to_ms),
    )
}

/// VNC always, and SPICE with the proxy on, listen on this address only:
/// nothing but the service (its gateway and proxy) reaches them.
pub const GRAPHICS_LOOPBACK: &str = "127.0.0.1";

/// The VNC `<graphics>` element (also used alone to set a console's
/// password on a running domain). Always on loopback, always with a
/// password (VNC uses at most 8 characters of it).
pub fn vnc_xml(password: &str, valid_to_ms: i64) -> String {
    let p: String = password.chars().take(8).collect();
    format!(
        "<graphics type='vnc' autoport='yes' listen='{GRAPHICS_LOOPBACK}' passwd='{p}' passwdValidTo='{v}'>\
<listen type='address' address='{GRAPHICS_LOOPBACK}'/></graphics>",
        p = esc(&p),
        v = super::clock::format_iso(valid_to_ms),
    )
}

/// A domain XML's VNC or SPICE server: its listen address and, once it
/// runs, its port (`None` before, or for `-1`).
pub fn graphics_of(xml: &str, p: Protocol) -> Option<(String, Option<u16>)> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let g = doc
        .descendants()
        .find(|n| n.has_tag_name("graphics") && n.attribute("type") == Some(p.as_str()))?;
    let port = g
        .attribute("port")
        .and_then(|x| x.parse::<i32>().ok())
        .filter(|x| *x > 0)
        .map(|x| x as u16);
    Some((g.attribute("listen").unwrap_or("").to_string(), port))
}

/// A password nobody knows, for a VNC server until a console opens it.
fn locked_password() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::getrandom(&mut b);
    b.iter()
        .map(|x| char::from(b'a' + x % 26))
        .collect::<String>()
}

/// The cdrom `<disk>` element, empty or holding `iso`.
pub fn cdrom_xml(iso: Option<&std::path::Path>, boot: Option<u32>) -> String {
    let mut x = String::from("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>");
    if let Some(p) = iso {
        let _ = write!(x, "<source file='{}'/>", path_text(p));
    }
    let _ = write!(x, "<target dev='{CDROM_DEV}' bus='sata'/><readonly/>");
    if let Some(b) = boot {
        let _ = write!(x, "<boot order='{b}'/>");
    }
    x.push_str("</disk>");
    x
}

impl VmSpec {
    pub fn to_xml(&self) -> String {
        let mut x = String::with_capacity(4096);
        let win = self.os == OsFamily::Windows;
        let _ = write!(
            x,
            "<domain type='{}'><name>{}</name><uuid>{}</uuid><description>{}</description>",
            esc(&self.domain_type),
            esc(&self.name),
            self.uuid,
            esc(&self.description)
        );
        let _ = write!(
            x,
            "<memory unit='MiB'>{m}</memory><currentMemory unit='MiB'>{m}</currentMemory><vcpu placement='static'>{c}</vcpu>",
            m = self.ram_mb,
            c = self.vcpu
        );
        x.push_str("<os><type arch='x86_64' machine='pc'>hvm</type></os>");
        x.push_str("<features><acpi/><apic/>");
        if win {
            x.push_str(
                "<hyperv mode='custom'><relaxed state='on'/><vapic state='on'/><spinlocks state='on' retries='8191'/></hyperv>",
            );
        }
        x.push_str("</features>");
        if win {
            x.push_str("<clock offset='localtime'><timer name='hypervclock' present='yes'/><timer name='rtc' tickpolicy='catchup'/></clock>");
        } else {
            x.push_str("<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>");
        }
        x.push_str("<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash><devices>");
        for d in &self.disks {
            let _ = write!(
                x,
                "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap'/>\
<source file='{}'/><target dev='{}' bus='virtio'/>",
                path_text(&d.path),
                esc(&d.dev)
            );
            if let Some(b) = d.boot {
                let _ = write!(x, "<boot order='{b}'/>");
            }
            x.push_str("</disk>");
        }
        // The cdrom boots first when installing, never otherwise.
        x.push_str(&cdrom_xml(
            self.cdrom.as_deref(),
            self.cdrom_boot.then_some(1),
        ));
        if let Some(br) = &self.bridge {
            let _ = write!(
                x,
                "<interface type='bridge'><mac address='{}'/><source bridge='{}'/><model type='virtio'/></interface>",
                esc(&self.mac),
                esc(br)
            );
        }
        x.push_str(&graphics_xml(&self.spice));
        x.push_str(&vnc_xml(&locked_password(), self.spice.valid_to_ms));
        x.push_str("<video><model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/></video>");
        x.push_str(
            "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>",
        );
        x.push_str("<input type='tablet' bus='usb'/>");
        x.push_str("<controller type='usb' model='qemu-xhci' ports='8'/>");
        for _ in 0..2 {
            x.push_str("<redirdev bus='usb' type='spicevmc'/>");
        }
        x.push_str("<memballoon model='virtio'/></devices></domain>");
        x
    }
}

/// A locally administered unicast MAC (`52:54:00` is QEMU's prefix) made
/// from 3 random bytes.
pub fn random_mac() -> String {
    let mut b = [0u8; 3];
    let _ = getrandom::getrandom(&mut b);
    format!("52:54:00:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

/// The `n`-th virtio disk name: 0 → `vda`, 25 → `vdz`, 26 → `vdaa`.
pub fn disk_dev(n: usize) -> String {
    let mut s = String::new();
    let mut i = n.saturating_add(1);
    while i > 0 {
        i -= 1;
        s.insert(0, (b'a' + (i % 26) as u8) as char);
        i /= 26;
    }
    format!("vd{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(os: OsFamily) -> VmSpec {
        VmSpec {
            name: "tpl-<win>".into(),
            uuid: Uuid::new_v4(),
            domain_type: "qemu".into(),
            vcpu: 2,
            ram_mb: 2048,
            os,
            disks: vec![
                DiskSpec {
                    path: "/srv/a b/work.qcow2".into(),
                    dev: "vda".into(),
                    boot: Some(1),
                },
                DiskSpec {
                    path: "/srv/d1.qcow2".into(),
                    dev: "vdb".into(),
                    boot: None,
                },
            ],
            cdrom: None,
            cdrom_boot: false,
            bridge: Some("brq1234".into()),
            mac: "52:54:00:aa:bb:cc".into(),
            spice: SpiceSpec {
                listen: "0.0.0.0".into(),
                password: "s3cr't&".into(),
                valid_to_ms: 1_795_000_000_000,
            },
            description: "template".into(),
        }
    }

    fn find<'a>(doc: &'a roxmltree::Document, tag: &str) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants().filter(|n| n.has_tag_name(tag)).collect()
    }

    #[test]
    fn linux_domain_parses_back_with_the_important_parts() {
        let s = spec(OsFamily::Linux);
        let xml = s.to_xml();
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.attribute("type"), Some("qemu"));
        assert_eq!(find(&doc, "name")[0].text(), Some("tpl-<win>"));
        assert_eq!(
            find(&doc, "uuid")[0].text(),
            Some(s.uuid.to_string().as_str())
        );
        assert_eq!(find(&doc, "memory")[0].text(), Some("2048"));
        assert_eq!(find(&doc, "vcpu")[0].text(), Some("2"));
        let disks: Vec<_> = find(&doc, "disk")
            .into_iter()
            .filter(|d| d.attribute("device") == Some("disk"))
            .collect();
        assert_eq!(disks.len(), 2);
        for d in &disks {
            let drv = d.children().find(|c| c.has_tag_name("driver")).unwrap();
            assert_eq!(drv.attribute("type"), Some("qcow2"));
            assert_eq!(drv.attribute("cache"), Some("none"));
            let t = d.children().find(|c| c.has_tag_name("target")).unwrap();
            assert_eq!(t.attribute("bus"), Some("virtio"));
        }
        let src = disks[0]
            .children()
            .find(|c| c.has_tag_name("source"))
            .unwrap();
        assert_eq!(src.attribute("file"), Some("/srv/a b/work.qcow2"));
        let g = find(&doc, "graphics");
        assert_eq!(g.len(), 2, "SPICE and VNC");
        assert_eq!(g[0].attribute("type"), Some("spice"));
        assert_eq!(g[0].attribute("passwd"), Some("s3cr't&"));
        assert!(g[0].attribute("passwdValidTo").is_some());
        // VNC: loopback only, locked with a password of its own.
        assert_eq!(g[1].attribute("type"), Some("vnc"));
        assert_eq!(g[1].attribute("listen"), Some("127.0.0.1"));
        let vnc_pw = g[1].attribute("passwd").unwrap();
        assert_eq!(vnc_pw.len(), 8);
        assert_ne!(vnc_pw, "s3cr't&");
        assert!(g[1].attribute("passwdValidTo").is_some());
        let nic = find(&doc, "interface")[0];
        assert_eq!(nic.attribute("type"), Some("bridge"));
        let mac = nic.children().find(|c| c.has_tag_name("mac")).unwrap();
        assert_eq!(mac.attribute("address"), Some("52:54:00:aa:bb:cc"));
        let br = nic.children().find(|c| c.has_tag_name("source")).unwrap();
        assert_eq!(br.attribute("bridge"), Some("brq1234"));
        assert_eq!(
            find(&doc, "model")
                .iter()
                .filter(|m| m.attribute("type") == Some("qxl"))
                .count(),
            1
        );
        assert_eq!(find(&doc, "channel")[0].attribute("type"), Some("spicevmc"));
        assert_eq!(find(&doc, "redirdev").len(), 2);
        assert_eq!(
            find(&doc, "memballoon")[0].attribute("model"),
            Some("virtio")
        );
        assert!(find(&doc, "hyperv").is_empty());
        assert_eq!(find(&doc, "clock")[0].attribute("offset"), Some("utc"));
        let cd: Vec<_> = find(&doc, "disk")
            .into_iter()
            .filter(|d| d.attribute("device") == Some("cdrom"))
            .collect();
        assert_eq!(cd.len(), 1, "an empty drive is always there");
        assert!(cd[0].children().all(|c| !c.has_tag_name("source")));
        assert!(cd[0].children().all(|c| !c.has_tag_name("boot")));
    }

    #[test]
    fn windows_gets_hyperv_and_localtime_and_iso_boots_first() {
        let mut s = spec(OsFamily::Windows);
        s.cdrom = Some("/isos/win.iso".into());
        s.cdrom_boot = true;
        s.disks[0].boot = Some(2);
        let xml = s.to_xml();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(find(&doc, "hyperv").len(), 1);
        assert_eq!(
            find(&doc, "clock")[0].attribute("offset"),
            Some("localtime")
        );
        let cd = find(&doc, "disk")
            .into_iter()
            .find(|d| d.attribute("device") == Some("cdrom"))
            .unwrap();
        let src = cd.children().find(|c| c.has_tag_name("source")).unwrap();
        assert_eq!(src.attribute("file"), Some("/isos/win.iso"));
        let boot = cd.children().find(|c| c.has_tag_name("boot")).unwrap();
        assert_eq!(boot.attribute("order"), Some("1"));
    }

    #[test]
    fn os_family_and_names() {
        assert_eq!(OsFamily::of("Windows 10"), OsFamily::Windows);
        assert_eq!(OsFamily::of("win7"), OsFamily::Windows);
        assert_eq!(OsFamily::of("linux"), OsFamily::Linux);
        assert_eq!(disk_dev(0), "vda");
        assert_eq!(disk_dev(1), "vdb");
        assert_eq!(disk_dev(25), "vdz");
        assert_eq!(disk_dev(26), "vdaa");
        let m = random_mac();
        assert!(m.starts_with("52:54:00:") && m.len() == 17, "{m}");
        assert_eq!(super::super::clock::format_iso(0), "1970-01-01T00:00:00");
        assert_eq!(
            super::super::clock::format_iso(1_795_000_000_000),
            "2026-11-18T11:06:40"
        );
    }

    #[test]
    fn graphics_fragment_alone_is_well_formed() {
        let g = graphics_xml(&SpiceSpec {
            listen: "127.0.0.1".into(),
            password: "x".into(),
            valid_to_ms: 0,
        });
        let doc = roxmltree::Document::parse(&g).unwrap();
        assert_eq!(doc.root_element().attribute("listen"), Some("127.0.0.1"));
        let c = cdrom_xml(Some(std::path::Path::new("/a.iso")), None);
        assert!(roxmltree::Document::parse(&c).is_ok());
    }
}
