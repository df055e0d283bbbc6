//! Browser tier of the admin console: the built binary (real netlink,
//! sysinfo and qemu-img; libvirt's **test driver**, because the namespace's
//! bridges are invisible to the host's libvirtd) initialised inside fresh
//! network and mount namespaces, then headless Chromium drives the console
//! through an admin's whole journey, once in English and once in Chinese
//! (tests/browser/console.mjs), visits every page with an axe-core scan,
//! and keeps screenshots of every page in both languages under
//! `target/tmp/browser/` with an `index.html` beside them. Afterwards the
//! API shows that what the browser did really happened.

mod common;

use std::path::Path;

use common::http;
use common::ns::{first_admin, reexec_inside, sh, world, Svc};
use serde_json::{json, Value};

const INSIDE: &str = "VDI_CONSOLE_INSIDE";
const PASSWORD: &str = "console-pass-1";
const TERMINAL_MAC: &str = "52:54:00:12:34:56";

fn ok(port: u16, path: &str, token: &str, body: Value) -> Value {
    let (st, v) = http(port, "POST", path, Some(token), Some(&body));
    assert_eq!(
        (st, v["code"].as_i64()),
        (200, Some(0)),
        "{path} {body}: {v}"
    );
    v["data"].clone()
}

fn rows(port: u16, token: &str, query: &str) -> Vec<Value> {
    let (st, v) = http(port, "GET", query, Some(token), None);
    assert_eq!(st, 200, "{query}: {v}");
    v["data"]["results"].as_array().cloned().unwrap_or_default()
}

fn names(rows: &[Value], field: &str) -> Vec<String> {
    rows.iter()
        .filter_map(|r| r[field].as_str().map(String::from))
        .collect()
}

/// The console driven by `console.mjs` in `lang`; its output.
fn browser(port: u16, out: &Path, lang: &str, qcow2: &Path, args: &[&str]) -> String {
    let url = format!("http://127.0.0.1:{port}/");
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&url, &out, &lang];
    all.extend(args.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    let (ok, text) = common::run_node(
        "console.mjs",
        &all,
        &[("VDI_ADMIN_PASSWORD", &PASSWORD), ("VDI_QCOW2", &qcow2)],
    );
    assert!(
        ok && text.contains("CONSOLE OK"),
        "the console in {lang} failed:\n{text}"
    );
    text
}

#[test]
fn an_admins_journey_in_chromium_in_both_languages() {
    if reexec_inside(INSIDE, "an_admins_journey_in_chromium_in_both_languages") {
        return;
    }
    let w = world();
    let data = w.dir.path().join("data");
    let svc = Svc::start_with(&data, &["--domain-type", "qemu"]);
    let port = svc.port;
    let token = first_admin(port, &data, PASSWORD);
    let mount = w.storage.to_str().unwrap();
    ok(
        port,
        "/api/v1/controller/init",
        &token,
        json!({
            "ip": "10.213.60.2", "manage_interface": "ethm", "image_interface": "ethm",
            "data_interface": "ethd", "network_name": "default", "switch_name": "default",
            "switch_type": "flat", "storages": { mount: "1,2,3,4" }, "is_compute": true,
            "subnet_info": {"name": "default", "start_ip": "10.213.60.100", "end_ip": "10.213.60.200",
                            "netmask": "255.255.255.0", "gateway": "10.213.60.1", "dns1": "10.213.60.1"}
        }),
    );
    // A terminal in the registry for the journey to rename: a user logs in
    // on it (the terminal API records every terminal that calls).
    let staff = ok(
        port,
        "/api/v1/group/create",
        &token,
        json!({"name": "staff", "group_type": 2}),
    );
    let staff = staff["uuid"].as_str().unwrap().to_string();
    ok(
        port,
        "/api/v1/group/user/create",
        &token,
        json!({"group_uuid": staff, "user_name": "kiosk", "passwd": "kiosk-pass", "name": "Kiosk"}),
    );
    let (st, v) = http(
        port,
        "POST",
        "/api/v1/terminal/personal/login",
        None,
        Some(&json!({"user_name": "kiosk", "password": "kiosk-pass", "mac": TERMINAL_MAC})),
    );
    assert_eq!(st, 200, "{v}");
    // The image the journey uploads: a real qcow2 made by qemu-img.
    let qcow2 = w.dir.path().join("small.qcow2");
    sh(&format!(
        "qemu-img create -q -f qcow2 {} 64M",
        qcow2.display()
    ));

    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&out).unwrap();
    let mut figures = String::new();
    for lang in ["en", "zh-CN"] {
        let text = browser(port, &out, lang, &qcow2, &["--journey", "--pages"]);
        figures.push_str(
            &text
                .lines()
                .filter(|l| l.starts_with("FIRSTLOAD") || l.starts_with("BUNDLE"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    println!("{figures}");
    assert!(out.join("index.html").is_file(), "the screenshots' index");
    for lang in ["en", "zh-CN"] {
        for page in [
            "dashboard",
            "servers",
            "templates",
            "users",
            "oplog",
            "settings",
            "classrooms",
            "edu",
            "personal",
            "template-detail",
            "edu-detail",
            "personal-detail",
        ] {
            assert!(
                out.join(lang).join(format!("{page}.png")).is_file(),
                "{lang}/{page}.png"
            );
        }
    }

    // What the browser did is in the store: both journeys' objects.
    let token = common::ns::login(port, PASSWORD);
    let pools = names(
        &rows(port, &token, "/api/v1.0/resource_pool/?page_size=100"),
        "name",
    );
    let templates = names(
        &rows(
            port,
            &token,
            "/api/v1.0/voi/education/template/?page_size=100",
        ),
        "name",
    );
    let classrooms = names(
        &rows(port, &token, "/api/v1.0/voi/education/group/?page_size=100"),
        "name",
    );
    let edu = names(
        &rows(
            port,
            &token,
            "/api/v1.0/voi/education/desktop/?page_size=100",
        ),
        "name",
    );
    let groups = names(
        &rows(port, &token, "/api/v1.0/desktop_group/?page_size=100"),
        "name",
    );
    for lang in ["en", "zh"] {
        assert!(
            groups
                .iter()
                .any(|n| n.starts_with("pers-") && n.ends_with(lang)),
            "personal group of {lang} in {groups:?}"
        );
        assert!(
            pools.iter().any(|n| n.ends_with(lang)),
            "pool of the {lang} journey in {pools:?}"
        );
        assert!(
            templates.iter().any(|n| n.ends_with(lang)),
            "template of {lang} in {templates:?}"
        );
        assert!(
            classrooms.iter().any(|n| n.ends_with(lang)),
            "classroom of {lang} in {classrooms:?}"
        );
        assert!(
            edu.iter().any(|n| n.ends_with(lang)),
            "desktop group of {lang} in {edu:?}"
        );
    }
    let users = names(
        &rows(port, &token, "/api/v1.0/group_user/?page_size=1000"),
        "user_name",
    );
    assert!(
        users.iter().any(|u| u.starts_with("csv-en")),
        "CSV users in {users:?}"
    );
    assert!(
        users.iter().any(|u| u.starts_with("csv-zh")),
        "CSV users in {users:?}"
    );
    assert!(
        !users.iter().any(|u| u.contains("bad")),
        "the bad file imported nothing: {users:?}"
    );
    let terminal = rows(
        port,
        &token,
        &format!("/api/v1.0/terminal/?mac={TERMINAL_MAC}"),
    );
    assert!(
        terminal[0]["name"]
            .as_str()
            .unwrap_or("")
            .starts_with("seat"),
        "{terminal:?}"
    );
    let log = rows(
        port,
        &token,
        "/api/v1.0/operation_log/?page_size=1000&owner=admin",
    );
    let actions = names(&log, "action");
    for a in [
        "resource_pool/create",
        "template/create",
        "user/import",
        "desktop_education/create",
        "desktop_education/start",
        "desktop_education/stop",
        "desktop_personal/create",
        "terminal/put",
        "auth/logout",
    ] {
        assert_eq!(
            actions.iter().filter(|x| *x == a).count(),
            if a == "user/import" { 4 } else { 2 },
            "{a} once per language (imports twice: the refused file too): {actions:?}"
        );
    }
    // The refused file is logged as a failure, in each language.
    let refused = log
        .iter()
        .filter(|e| e["action"] == "user/import" && e["result"] == "failure")
        .count();
    assert_eq!(refused, 2, "{log:?}");
    svc.stop();
    sh(&format!("umount {}", w.storage.display()));
}
