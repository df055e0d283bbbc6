//! Namespaced real tiers: a shell step that must succeed, and re-running
//! one test inside fresh network and mount namespaces.

use std::process::Command;

/// Runs `cmd` with `sh -c`; its standard output. Panics with its error
/// output when it fails.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs test `name` again inside new network and mount namespaces, with
/// `marker` set; returns false when already inside (the caller then does
/// the work), true after the inner run passed.
pub fn reexec_inside(marker: &str, name: &str) -> bool {
    if std::env::var(marker).is_ok() {
        return false;
    }
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(marker, "1")
        .output()
        .expect("unshare (util-linux) runs; the real tier needs root");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "{name} failed inside its namespaces");
    // The inner run must really have run the test (not filtered it out).
    assert!(
        text.contains("1 passed"),
        "{name} did not run inside: {text}"
    );
    true
}
