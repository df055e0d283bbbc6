//! Real tier for desktops on `qemu:///system` (BIOS-only TCG guests on real
//! qcow2 overlays, a real bridge for their NICs): a classroom of 10 made,
//! started, restored (proven with qemu-io), kept data across a reboot and a
//! template save, stopped and deleted without leftovers; and a create of 20
//! killed with SIGKILL half-way, repaired at the next start.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::real::{
    bridge_for, classroom, desktop_domains, reachable_dir, real_libvirt, sh, virsh, Real, Sweep,
};
use serde_json::json;
use uuid::Uuid;
use vdi_appliance::domain::desktop::Desktop;

fn edu_create(
    r: &Real,
    room: &str,
    tpl: &str,
    name: &str,
    n: u32,
    asynchronous: bool,
) -> serde_json::Value {
    r.ok(
        "/api/v1/desktop/education/create",
        json!({"name": name, "owner_id": 1, "group_uuid": room, "template_uuid": tpl, "vcpu": 1, "ram": 0.125,
               "sys_restore": 1, "data_restore": 0, "instance_num": n, "prefix": name, "postfix": 2,
               "async": asynchronous}),
    )
}

fn qemu_io(args: &[&str], path: &Path) -> (bool, String) {
    let mut a: Vec<&str> = args.to_vec();
    a.push(path.to_str().unwrap());
    sh("qemu-io", &a)
}

fn has_pattern(path: &Path, byte: &str) -> bool {
    let cmd = format!("read -P {byte} 0 64k");
    let (_, out) = qemu_io(&["-r", "-f", "qcow2", "-c", &cmd], path);
    !out.contains("verification failed")
}

fn disk(d: &Desktop, system: bool) -> PathBuf {
    d.disks
        .iter()
        .find(|x| x.is_system() == system)
        .unwrap()
        .path
        .clone()
}

fn domstate(uuid: &Uuid) -> String {
    virsh(&["domstate", &uuid.to_string()]).1.trim().to_string()
}

fn used_addresses(r: &Real) -> u64 {
    r.get("/api/v1.0/subnet/?searchtype=all")["results"][0]["used"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_classroom_of_ten_on_real_libvirt() {
    let (_sweep, dir, r) = real_libvirt("vdi-desktops");
    let tpl = r.template(dir.path());
    let _br = bridge_for(&r);
    let room = classroom(&r, "lab", "10.9.0.1", "10.9.0.10");
    let before = used_addresses(&r);
    edu_create(&r, &room, &tpl, "lab", 10, false);
    let g: Uuid = r.get("/api/v1.0/desktop_group/?searchtype=single&name=lab")["uuid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let list = r.s.desktops_of(&g).unwrap();
    assert_eq!(list.len(), 10);
    assert_eq!(used_addresses(&r), before + 10);
    for d in &list {
        assert_eq!(domstate(&d.uuid), "shut off", "{}", d.name);
        let (_, xml) = virsh(&["dumpxml", &d.uuid.to_string()]);
        assert!(xml.contains(&disk(d, true).to_string_lossy().to_string()));
        assert!(xml.contains(&d.mac), "NIC with the recorded MAC");
    }
    // Start all ten.
    let t0 = Instant::now();
    let res = r.ok(
        "/api/v1/desktop/education/start",
        json!({"uuid": g.to_string()}),
    );
    println!("start 10: {:?} {res}", t0.elapsed());
    assert_eq!(res["success_num"], json!(10), "{res}");
    for d in &list {
        assert_eq!(domstate(&d.uuid), "running", "{}", d.name);
    }
    // Restore: write into the system overlay and the data overlay of a
    // stopped desktop, start it: the system disk is fresh, the data kept.
    let d0 = &list[0];
    let one = |verb: &str| {
        r.ok(
            &format!("/api/v1/instance/{verb}"),
            json!({"desktop_uuid": g.to_string(), "desktop_type": 1, "instances": [d0.uuid.to_string()]}),
        )
    };
    one("hard_stop");
    let (ok, out) = qemu_io(
        &["-f", "qcow2", "-c", "write -P 0xab 0 64k"],
        &disk(d0, true),
    );
    assert!(ok, "{out}");
    let (ok, out) = qemu_io(
        &["-f", "qcow2", "-c", "write -P 0xcd 0 64k"],
        &disk(d0, false),
    );
    assert!(ok, "{out}");
    assert!(has_pattern(&disk(d0, true), "0xab"));
    one("start");
    assert_eq!(domstate(&d0.uuid), "running");
    one("hard_stop");
    assert!(
        !has_pattern(&disk(d0, true), "0xab"),
        "system disk restored at start"
    );
    assert!(has_pattern(&disk(d0, false), "0xcd"), "data disk kept");
    // A template save: the data disk still has its data, and the next start
    // puts the restored system disk on the new version.
    let saved = r.ok("/api/v1/template/save", json!({"uuid": tpl}));
    assert_eq!(saved["version"], json!(2));
    assert!(
        has_pattern(&disk(d0, false), "0xcd"),
        "data kept across the save"
    );
    one("reboot");
    let (_, info) = sh(
        "qemu-img",
        &[
            "info",
            "-U",
            "--output",
            "json",
            disk(d0, true).to_str().unwrap(),
        ],
    );
    assert!(
        info.contains("v2.qcow2"),
        "restored onto the new version: {info}"
    );
    assert!(
        has_pattern(&disk(d0, false), "0xcd"),
        "data kept across the reboot"
    );
    // Stop the group (graceful, then off after the timeout), delete it.
    let res = r.ok(
        "/api/v1/desktop/education/stop",
        json!({"uuid": g.to_string()}),
    );
    assert_eq!(res["success_num"], json!(10), "{res}");
    r.ok(
        "/api/v1/desktop/education/delete",
        json!({"uuid": g.to_string()}),
    );
    assert!(desktop_domains().is_empty(), "{:?}", desktop_domains());
    for d in &list {
        assert!(!disk(d, true).parent().unwrap().exists(), "{} left", d.name);
        assert!(
            !disk(d, false).parent().unwrap().exists(),
            "{} data left",
            d.name
        );
    }
    assert_eq!(used_addresses(&r), before);
}

/// The child half of the crash test: sets up an appliance in
/// `VDI_CRASH_DIR` and makes 20 desktops until the parent kills it.
fn crash_child(dir: &Path) {
    let r = Real::open(dir, true);
    let tpl = r.template(dir);
    let room = classroom(&r, "crash", "10.8.0.1", "10.8.0.20");
    std::fs::write(dir.join("ready"), b"").unwrap();
    edu_create(&r, &room, &tpl, "crash", 20, false);
    // Reaching here means the create won the race; the parent checks that
    // the group is then complete, and kills this process.
    loop {
        std::thread::park();
    }
}

#[test]
fn a_create_killed_half_way_is_repaired_at_the_next_start() {
    if let Ok(d) = std::env::var("VDI_CRASH_DIR") {
        return crash_child(Path::new(&d));
    }
    let (up, out) = virsh(&["version"]);
    assert!(up, "libvirtd must run: {out}");
    let _sweep = Sweep;
    let dir = reachable_dir("vdi-crash");
    let before_domains = desktop_domains().len();
    assert_eq!(
        before_domains,
        0,
        "stray desktop domains on this host: {:?}",
        desktop_domains()
    );
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "desktop::a_create_killed_half_way_is_repaired_at_the_next_start",
            "--nocapture",
        ])
        .env("VDI_CRASH_DIR", dir.path())
        .spawn()
        .unwrap();
    // Kill it once some (not all) desktops are defined.
    let until = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while Instant::now() < until {
        seen = desktop_domains().len();
        if seen >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    println!("killed with {seen} of 20 domains defined");
    assert!(seen >= 3, "the child never got going");
    // The next start (once the killed process's helpers let go of the
    // store): recovery runs, then nothing is half-made.
    let until = Instant::now() + Duration::from_secs(20);
    while vdi_appliance::store::Store::open(&dir.path().join("d"), &Default::default()).is_err() {
        assert!(Instant::now() < until, "the store stays locked");
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = Real::open(dir.path(), false);
    // What the service does at start: the sagas' recovery, then the sweep.
    let repaired = smol::block_on(vdi_appliance::tasks::recover_at_start(
        &r.s,
        &vdi_appliance::tasks::builtin_owners(),
    ))
    .unwrap();
    let groups = r.s.desktop_group_list().unwrap();
    let domains = desktop_domains();
    println!(
        "tasks concluded {repaired}; groups {}; domains {}",
        groups.len(),
        domains.len()
    );
    match groups.as_slice() {
        [] => {
            assert!(domains.is_empty(), "{domains:?}");
            assert_eq!(
                used_addresses(&r),
                0,
                "the template and classroom take none"
            );
            let left: Vec<_> = std::fs::read_dir(r.storage.join("instances"))
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| Uuid::parse_str(n).is_ok())
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
        [g] => {
            // The create finished before the kill: all of it is there.
            let list = r.s.desktops_of(&g.uuid).unwrap();
            assert_eq!(list.len(), 20);
            assert_eq!(domains.len(), 20);
            r.ok(
                "/api/v1/desktop/education/delete",
                json!({"uuid": g.uuid.to_string()}),
            );
        }
        more => panic!("{} groups", more.len()),
    }
    assert!(desktop_domains().is_empty());
}
