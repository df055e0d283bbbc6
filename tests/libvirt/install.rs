//! An admin installs a template from an ISO entirely in the browser: the
//! real VM boots a tiny installer ISO (made here: a BIOS program on an El
//! Torito CD), the admin presses `i` in noVNC, the installer writes a
//! bootable sector to the disk, the admin ejects the ISO and saves; the
//! saved version holds that sector and the template boots from it
//! (tests/browser/vm-console.mjs, step `install`).

use crate::common;

use std::path::Path;

use common::real::{real_libvirt, sh};
use common::wire::Wire;
use serde_json::{json, Value};
use vdi_appliance::http::server::Limits;

/// The line the installed system prints.
const INSTALLED: &str =
    "vdi-appliance test system: installed from the ISO through the browser console";

/// A BIOS boot sector (loaded at 0000:7C00) that prints `msg` and halts.
pub fn installed_mbr() -> Vec<u8> {
    let mut c = vec![
        0xEA, 0x05, 0x7C, 0x00, 0x00, // jmp 0000:7C05
        0x31, 0xC0, // xor ax,ax
        0x8E, 0xD8, // mov ds,ax
        0x8E, 0xD0, // mov ss,ax
        0xBC, 0x00, 0x7C, // mov sp,7C00
        0xBE, 0x23, 0x7C, // mov si,7C23 (the message)
        // print: lodsb; or al,al; jz halt; mov ah,0E; mov bx,7; int 10; jmp print
        0xAC, 0x08, 0xC0, 0x74, 0x09, 0xB4, 0x0E, 0xBB, 0x07, 0x00, 0xCD, 0x10, 0xEB, 0xF2,
        // halt: cli; hlt; jmp halt
        0xFA, 0xF4, 0xEB, 0xFC,
    ];
    assert_eq!(c.len(), 0x23);
    c.extend_from_slice(INSTALLED.as_bytes());
    c.extend_from_slice(b"\r\n\0");
    c.resize(510, 0);
    c.extend_from_slice(&[0x55, 0xAA]);
    c
}

/// The installer: prints a prompt, waits for `i`, writes `installed_mbr`
/// to the first hard disk's sector 0 (int 13h), says so, halts. 2048 bytes
/// loaded at 0000:7C00; the sector to write is at +0x200.
fn installer_program() -> Vec<u8> {
    const MSG1: usize = 0x4C;
    let msg1 = b"vdi-appliance test installer: press I to install\r\n\0";
    let msg2 = b"Installed. Eject the ISO and save the template.\r\n\0";
    let msg3 = b"The disk refused the write.\r\n\0";
    let (m1, m2, m3) = (MSG1, MSG1 + msg1.len(), MSG1 + msg1.len() + msg2.len());
    let at = |off: usize| ((0x7C00 + off) as u16).to_le_bytes();
    let mut c = vec![0xEA, 0x05, 0x7C, 0x00, 0x00]; // jmp 0000:7C05
    c.extend([0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0]); // ax=0; ds=es=ss=ax
    c.extend([0xBC, 0x00, 0x7C]); // mov sp,7C00
    c.push(0xBE); // mov si,msg1
    c.extend(at(m1));
    c.extend([0xE8, 0x27, 0x00]); // call print (0x3D)
                                  // wait (0x16): xor ah,ah; int 16; or al,20; cmp al,'i'; jne wait
    c.extend([0x30, 0xE4, 0xCD, 0x16, 0x0C, 0x20, 0x3C, 0x69, 0x75, 0xF6]);
    // write one sector: ax=0301, cx=0001, dx=0080, bx=payload; int 13
    c.extend([0xB8, 0x01, 0x03, 0xB9, 0x01, 0x00, 0xBA, 0x80, 0x00, 0xBB]);
    c.extend(at(0x200));
    c.extend([0xCD, 0x13]);
    c.push(0xBE); // mov si,msg2
    c.extend(at(m2));
    c.extend([0x73, 0x03]); // jnc +3
    c.push(0xBE); // mov si,msg3
    c.extend(at(m3));
    c.extend([0xE8, 0x04, 0x00]); // call print
    c.extend([0xFA, 0xF4, 0xEB, 0xFC]); // halt: cli; hlt; jmp halt
                                        // print (0x3D): lodsb; or al,al; jz done; mov ah,0E; mov bx,7; int 10; jmp print; done: ret
    assert_eq!(c.len(), 0x3D);
    c.extend([
        0xAC, 0x08, 0xC0, 0x74, 0x09, 0xB4, 0x0E, 0xBB, 0x07, 0x00, 0xCD, 0x10, 0xEB, 0xF2, 0xC3,
    ]);
    assert_eq!(c.len(), MSG1);
    c.extend_from_slice(msg1);
    c.extend_from_slice(msg2);
    c.extend_from_slice(msg3);
    assert!(c.len() <= 0x200);
    c.resize(0x200, 0);
    c.extend(installed_mbr());
    c.resize(2048, 0);
    c
}

/// A bootable ISO 9660 image with El Torito (no emulation): a primary
/// volume descriptor, the boot record, the terminator, the boot catalog
/// and the installer.
pub fn installer_iso() -> Vec<u8> {
    const S: usize = 2048;
    let mut iso = vec![0u8; 21 * S];
    let vd = |iso: &mut Vec<u8>, sector: usize, kind: u8| {
        let b = &mut iso[sector * S..];
        b[0] = kind;
        b[1..6].copy_from_slice(b"CD001");
        b[6] = 1;
    };
    vd(&mut iso, 16, 1);
    // Primary: volume space size (both-endian) and block size.
    iso[16 * S + 80..16 * S + 84].copy_from_slice(&21u32.to_le_bytes());
    iso[16 * S + 84..16 * S + 88].copy_from_slice(&21u32.to_be_bytes());
    iso[16 * S + 128..16 * S + 130].copy_from_slice(&2048u16.to_le_bytes());
    iso[16 * S + 130..16 * S + 132].copy_from_slice(&2048u16.to_be_bytes());
    vd(&mut iso, 17, 0);
    let id = b"EL TORITO SPECIFICATION";
    iso[17 * S + 7..17 * S + 7 + id.len()].copy_from_slice(id);
    iso[17 * S + 0x47..17 * S + 0x4B].copy_from_slice(&19u32.to_le_bytes());
    vd(&mut iso, 18, 255);
    // Boot catalog: the validation entry (words sum to 0), then the
    // default entry: bootable, no emulation, 4 virtual sectors from 20.
    let cat = 19 * S;
    iso[cat] = 1;
    iso[cat + 30] = 0x55;
    iso[cat + 31] = 0xAA;
    let sum = (0..16).fold(0u16, |s, i| {
        s.wrapping_add(u16::from_le_bytes([iso[cat + 2 * i], iso[cat + 2 * i + 1]]))
    });
    iso[cat + 28..cat + 30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
    iso[cat + 32] = 0x88;
    iso[cat + 38..cat + 40].copy_from_slice(&4u16.to_le_bytes());
    iso[cat + 40..cat + 44].copy_from_slice(&20u32.to_le_bytes());
    iso[20 * S..21 * S].copy_from_slice(&installer_program());
    iso
}

/// The first 512 bytes of a qcow2 chain's guest view.
fn first_sector(image: &Path, dir: &Path) -> Vec<u8> {
    let raw = dir.join("sector.raw");
    let (ok, out) = sh(
        "qemu-img",
        &[
            "convert",
            "-O",
            "raw",
            image.to_str().unwrap(),
            raw.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}");
    let mut b = std::fs::read(&raw).unwrap();
    b.truncate(512);
    let _ = std::fs::remove_file(raw);
    b
}

#[test]
fn an_admin_installs_a_template_from_an_iso_in_the_browser() {
    let (_sweep, dir, r) = real_libvirt("vdi-install");
    let (st, up) = smol::block_on(vdi_appliance::http::request_bytes(
        &r.web,
        "PUT",
        "/api/v1/iso/upload?name=installer&os_type=linux",
        Some(&r.token),
        installer_iso(),
    ));
    let up: Value = serde_json::from_slice(&up).unwrap();
    assert_eq!(st, 200, "{up}");
    let created = r.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "create", "param": {"name": "from-iso", "os_type": "linux", "network_uuid": "",
               "vcpu": 1, "ram": 0.125, "groups": [], "iso": up["data"]["uuid"],
               "system_disk": {"image_id": "", "size": 1}}}),
    );
    let uuid = created["uuid"].as_str().unwrap().to_string();
    let before = r.s.template_get(&uuid.parse().unwrap()).unwrap();
    assert_ne!(
        first_sector(&before.disks[0].work_file(), dir.path()),
        installed_mbr(),
        "a blank disk at first"
    );

    let w = Wire::start(r.web.clone(), Limits::default());
    let (ok, text, out) = super::console::vm_console(w.port, &uuid, None, "install");
    assert!(ok, "the install in the browser failed:\n{text}");

    // The saved version holds the installed sector; the ISO is out.
    let after = r.s.template_get(&uuid.parse().unwrap()).unwrap();
    assert!(after.version > before.version, "saved: v{}", after.version);
    assert!(after.iso.is_none(), "ejected");
    let saved = after.disks[0].version_file(after.version);
    assert_eq!(first_sector(&saved, dir.path()), installed_mbr());
    assert!(out.join("installed.png").metadata().unwrap().len() > 1000);
    drop(w);
}

#[test]
fn the_installer_iso_is_an_el_torito_cd() {
    let iso = installer_iso();
    assert_eq!(&iso[0x8001..0x8006], b"CD001");
    assert_eq!(
        &iso[17 * 2048 + 7..17 * 2048 + 30],
        b"EL TORITO SPECIFICATION"
    );
    let cat = &iso[19 * 2048..19 * 2048 + 64];
    let sum = (0..16).fold(0u16, |s, i| {
        s.wrapping_add(u16::from_le_bytes([cat[2 * i], cat[2 * i + 1]]))
    });
    assert_eq!(sum, 0, "the validation entry's checksum");
    assert_eq!(cat[32], 0x88, "bootable, no emulation");
    let mbr = installed_mbr();
    assert_eq!((mbr.len(), mbr[510], mbr[511]), (512, 0x55, 0xAA));
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("installer.iso"), &iso).unwrap();
}
