//! Desktop benchmark on real libvirt (`make bench-desktop`, root, libvirtd
//! running): creating a 100-desktop group through the API against a shell
//! loop of `qemu-img create` + `virsh define` doing the same work, and
//! starting 20 desktops against a `virsh start` loop, in one run. Prints
//! ratios (service time / floor time; ≤ 1.0 is the target).
//!
//! Environment: BENCH_CREATE (100), BENCH_START (20).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::real::{reachable_dir, sh, virsh, Real};
use serde_json::json;

fn env_num(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sweep() {
    for name in virsh(&["list", "--all", "--name"]).1.lines() {
        if name.starts_with("desktop-") || name.starts_with("floor-") {
            let _ = virsh(&["destroy", name]);
            let _ = virsh(&["undefine", name]);
        }
    }
}

/// The floor: a shell loop making `n` overlays on `backing` and defining a
/// domain on each (the same XML shape as the service's, minus the NIC).
fn floor_script(dir: &std::path::Path, backing: &str, n: u32) -> std::path::PathBuf {
    let script = dir.join("floor.sh");
    let text = format!(
        r#"set -e
for i in $(seq 1 {n}); do
  mkdir -p {d}/floor/$i
  qemu-img create -q -f qcow2 -F qcow2 -b {backing} {d}/floor/$i/disk.qcow2
  cat > {d}/floor/$i.xml <<EOF
<domain type='qemu'><name>floor-$i</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>
<source file='{d}/floor/$i/disk.qcow2'/><target dev='vda' bus='virtio'/></disk>
<graphics type='spice' autoport='yes' listen='0.0.0.0' passwd='x'/></devices></domain>
EOF
  virsh -q -c qemu:///system define {d}/floor/$i.xml >/dev/null
done
"#,
        d = dir.display()
    );
    std::fs::write(&script, text).unwrap();
    script
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n_create = env_num("BENCH_CREATE", 100);
    let n_start = env_num("BENCH_START", 20);
    assert!(
        virsh(&["version"]).0,
        "libvirtd must run (make deps-libvirt)"
    );
    sweep();
    let dir = reachable_dir("vdi-bench");
    let r = Real::open(dir.path(), true);
    let tpl = r.template(dir.path());
    let t = r.s.template_get(&tpl.parse().unwrap()).unwrap();
    let backing = t.disks[0].version_file(t.version);

    // Create: the service (one API call) against the shell loop.
    let t0 = Instant::now();
    let big = r.personal_group(&tpl, "bench", n_create, 1);
    let ours = t0.elapsed().as_secs_f64();
    let script = floor_script(dir.path(), backing.to_str().unwrap(), n_create);
    let t0 = Instant::now();
    let (ok, out) = sh("bash", &[script.to_str().unwrap()]);
    assert!(ok, "{out}");
    let floor = t0.elapsed().as_secs_f64();
    println!(
        "create {n_create}: service {ours:.2} s, shell loop {floor:.2} s, ratio {:.2} (target <= 1.0)",
        ours / floor
    );
    r.ok("/api/v1/desktop/personal/delete", json!({"uuid": big}));
    sweep();

    // Start: a group of n_start against a `virsh start` loop.
    let g = r.personal_group(&tpl, "starts", n_start, 1);
    let floor_script = floor_script(dir.path(), backing.to_str().unwrap(), n_start);
    assert!(sh("bash", &[floor_script.to_str().unwrap()]).0);
    let t0 = Instant::now();
    let res = r.ok("/api/v1/desktop/personal/start", json!({"uuid": g}));
    let ours = t0.elapsed().as_secs_f64();
    assert_eq!(res["success_num"], json!(n_start), "{res}");
    let t0 = Instant::now();
    for i in 1..=n_start {
        let (ok, out) = virsh(&["start", &format!("floor-{i}")]);
        assert!(ok, "{out}");
    }
    let floor = t0.elapsed().as_secs_f64();
    println!(
        "start {n_start}: service {ours:.2} s, virsh loop {floor:.2} s, ratio {:.2} (target <= 1.0)",
        ours / floor
    );
    r.ok("/api/v1/desktop/personal/stop", json!({"uuid": g}));
    r.ok("/api/v1/desktop/personal/delete", json!({"uuid": g}));
    sweep();
}
