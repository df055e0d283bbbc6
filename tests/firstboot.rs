//! Real tier of first boot: the built binary with its real adapters
//! (netlink, sysinfo, sysfs, libvirt's test driver) inside a fresh network
//! and mount namespace that this test creates by re-running itself under
//! `unshare`. veth pairs stand in for NICs and a loop-mounted ext4 image for a storage
//! partition; nothing outside the namespaces is touched.
//!
//! - `init_over_the_api`: node/check, init, the bridge and directories on
//!   the host, the inventory of real NICs, a restart (bridge deleted behind
//!   the service's back comes back), and a refused second init.
//! - `init_from_an_answer_file`: `vdi-appliance init --answer-file` twice.
//! - `setup_page_in_chromium`: the browser tier, headless Chromium driving
//!   the setup page end to end (tests/browser/setup.mjs).

mod common;

use std::path::Path;
use std::process::Command;

use common::ns::{first_admin as admin, login, reexec_inside, sh, world, Svc};
use common::{http, BIN};
use serde_json::{json, Value};

const INSIDE: &str = "VDI_FIRSTBOOT_INSIDE";

fn ok(port: u16, path: &str, token: &str, body: Value) -> Value {
    let (st, v) = http(port, "POST", path, Some(token), Some(&body));
    assert_eq!(
        (st, v["code"].as_i64()),
        (200, Some(0)),
        "{path} {body}: {v}"
    );
    v["data"].clone()
}

fn get(port: u16, path: &str, token: &str) -> Value {
    let (st, v) = http(port, "GET", path, Some(token), None);
    assert_eq!(st, 200, "{path}: {v}");
    v["data"].clone()
}

/// `ip -j -d link show` as JSON.
fn links() -> Vec<Value> {
    serde_json::from_str(&sh("ip -j -d link show")).unwrap()
}

fn link<'a>(all: &'a [Value], name: &str) -> Option<&'a Value> {
    all.iter().find(|l| l["ifname"] == name)
}

#[test]
fn init_over_the_api() {
    if reexec_inside(INSIDE, "init_over_the_api") {
        return;
    }
    let w = world();
    let data = w.dir.path().join("data");
    let svc = Svc::start(&data);
    let token = admin(svc.port, &data, "first-boot-pass1");

    // node/check sees the namespace's NICs and the bind mount.
    let chk = ok(
        svc.port,
        "/api/v1/node/check",
        &token,
        json!({"ip": "10.213.60.2", "root_pwd": "-"}),
    );
    let names: Vec<&str> = chk["interface_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["interface"].as_str().unwrap())
        .collect();
    for n in ["ethm", "ethd"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let ethm = chk["interface_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["interface"] == "ethm")
        .unwrap()
        .clone();
    let real = links();
    assert_eq!(ethm["mac"], link(&real, "ethm").unwrap()["address"]);
    assert_eq!(
        (ethm["ip"].clone(), ethm["mask"].clone()),
        (json!("10.213.60.2"), json!("255.255.255.0"))
    );
    assert_eq!(chk["default_route"]["gateway"], "10.213.60.1");
    let mount = w.storage.to_str().unwrap();
    let st = chk["storage_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == mount)
        .unwrap_or_else(|| panic!("{mount} in {}", chk["storage_list"]))
        .clone();
    assert_eq!(st["usable"], true, "{st}");
    assert!(st["total"].as_u64().unwrap() > 0);
    let virt = &chk["virtualization"];
    assert_eq!(
        virt["libvirt_ok"], true,
        "libvirt's test driver answers: {virt}"
    );
    assert_eq!(
        virt["kvm_device"],
        json!(Path::new("/dev/kvm").exists()),
        "{virt}"
    );
    let compute = virt["supported"].as_bool().unwrap();

    // Initialise: the data NIC gets the default (flat) network's bridge.
    let out = ok(
        svc.port,
        "/api/v1/controller/init",
        &token,
        json!({
            "ip": "10.213.60.2", "manage_interface": "ethm", "image_interface": "ethm",
            "data_interface": "ethd", "network_name": "default", "switch_name": "default",
            "switch_type": "flat", "storages": { mount: "1,2,3,4" }, "is_compute": compute
        }),
    );
    let bridge = out["bridge"].as_str().unwrap().to_string();
    let real = links();
    let br = link(&real, &bridge).expect("the bridge exists on the host");
    assert_eq!(br["linkinfo"]["info_kind"], "bridge");
    assert_eq!(link(&real, "ethd").unwrap()["master"], bridge.as_str());
    assert!(sh("ip -4 -o addr show dev ethm").contains("10.213.60.2/24"));
    for d in ["instances/_base", "datas/_base"] {
        assert!(w.storage.join(d).is_dir(), "{d}");
    }

    // The node record: real NICs, real inventory.
    let nodes = get(svc.port, "/api/v1.0/node/?searchtype=all", &token);
    assert_eq!(nodes["count"], 1);
    let n = nodes["results"][0].clone();
    assert_eq!(n["ip"], "10.213.60.2");
    let nproc: u64 = sh("nproc --all").trim().parse().unwrap();
    assert_eq!(n["threads"].as_u64().unwrap(), nproc, "{n}");
    assert!(n["memory_gb"].as_f64().unwrap() > 0.0);
    assert_eq!(n["hostname"], sh("hostname").trim());
    let nic_names: Vec<&str> = n["nics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["interface"].as_str().unwrap())
        .collect();
    assert!(
        nic_names.contains(&"ethm") && nic_names.contains(&"ethd"),
        "{nic_names:?}"
    );
    let storage = get(svc.port, "/api/v1.0/node_storage/?searchtype=all", &token);
    assert_eq!(storage["results"][0]["path"], mount);
    assert!(
        storage["results"][0]["total"].as_u64().unwrap() > 0,
        "{storage}"
    );

    // A restart keeps everything; a bridge deleted meanwhile comes back.
    svc.stop();
    sh(&format!("ip link del {bridge}"));
    let svc = Svc::start(&data);
    let token = login(svc.port, "first-boot-pass1");
    let real = links();
    assert!(
        link(&real, &bridge).is_some(),
        "the bridge is back after the restart"
    );
    assert_eq!(link(&real, "ethd").unwrap()["master"], bridge.as_str());
    let again = get(svc.port, "/api/v1.0/node/?searchtype=all", &token);
    assert_eq!(again["results"][0]["uuid"], n["uuid"]);
    let (st, v) = http(svc.port, "GET", "/api/v1/setup/status", None, None);
    assert_eq!((st, v["data"]["initialised"].clone()), (200, json!(true)));

    // A second initialisation is refused and leaves the host alone.
    let (st, v) = http(
        svc.port,
        "POST",
        "/api/v1/controller/init",
        Some(&token),
        Some(
            &json!({"ip": "10.213.60.2", "network_name": "n2", "switch_name": "s2",
                     "switch_type": "flat", "storages": { mount: "1,2,3,4" }, "is_compute": false}),
        ),
    );
    assert_eq!((st, v["code"].as_i64()), (409, Some(20210)), "{v}");
    assert_eq!(links().len(), real.len());
    svc.stop();
    sh(&format!("umount {}", w.storage.display()));
}

#[test]
fn init_from_an_answer_file() {
    if reexec_inside(INSIDE, "init_from_an_answer_file") {
        return;
    }
    let w = world();
    let data = w.dir.path().join("data");
    let answers = w.dir.path().join("answers.toml");
    // One NIC for everything: the management address moves to the bridge.
    std::fs::write(
        &answers,
        format!(
            "admin_password = \"answer-file-pass1\"\nip = \"10.213.60.2\"\nnetwork_name = \"default\"\n\
             switch_name = \"default\"\nswitch_type = \"flat\"\nis_compute = false\n\
             [storages]\n\"{}\" = \"1,2,3,4\"\n",
            w.storage.display()
        ),
    )
    .unwrap();
    let run = || {
        Command::new(BIN)
            .args(["init", "--answer-file"])
            .arg(&answers)
            .arg("--data-dir")
            .arg(&data)
            .args(["--libvirt-uri", "test:///default"])
            .output()
            .unwrap()
    };
    let first = run();
    let text = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(text.contains("initialised: node"), "{text}");
    let bridge = sh("ip -o link show type bridge");
    let bridge = bridge
        .split(':')
        .nth(1)
        .map(|s| s.trim().to_string())
        .expect("a bridge was made");
    assert!(bridge.starts_with("brq"), "{bridge}");
    assert!(sh(&format!("ip -4 -o addr show dev {bridge}")).contains("10.213.60.2/24"));
    assert!(sh("ip route show default").contains(&format!("dev {bridge}")));
    // Again, with the same answers: nothing to do.
    let second = run();
    let text = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{text}");
    assert!(text.contains("already initialised"), "{text}");
    // Different answers are refused with a clear message and exit code 1.
    std::fs::write(
        &answers,
        std::fs::read_to_string(&answers)
            .unwrap()
            .replace("is_compute = false", "is_compute = true"),
    )
    .unwrap();
    let third = run();
    assert_eq!(third.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&third.stderr).contains("other answers"));
    // The service starts initialised; the admin from the file logs in.
    let svc = Svc::start(&data);
    let token = login(svc.port, "answer-file-pass1");
    let nodes = get(svc.port, "/api/v1.0/node/?searchtype=all", &token);
    assert_eq!(nodes["results"][0]["role"], "controller");
    assert!(
        !data.join("setup-token").exists(),
        "no setup token once an admin exists"
    );
    svc.stop();
    sh(&format!("umount {}", w.storage.display()));
}

#[test]
fn setup_page_in_chromium() {
    if reexec_inside(INSIDE, "setup_page_in_chromium") {
        return;
    }
    let w = world();
    let data = w.dir.path().join("data");
    let svc = Svc::start(&data);
    let setup = std::fs::read_to_string(data.join("setup-token")).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/setup.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(format!("http://127.0.0.1:{}/", svc.port))
        .arg(setup.trim())
        .arg(&w.storage)
        .arg(&shots)
        .output()
        .expect("node runs (make deps-browser installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("BROWSER OK"),
        "{text}"
    );
    assert!(shots.join("setup-done.png").exists());
    // The page really initialised the controller, with the admin it made.
    let token = login(svc.port, "first-boot-pass1");
    let nodes = get(svc.port, "/api/v1.0/node/?searchtype=all", &token);
    assert_eq!(nodes["count"], 1, "{nodes}");
    assert!(nodes["results"][0]["role"]
        .as_str()
        .unwrap()
        .starts_with("controller"));
    let (_, v) = http(svc.port, "GET", "/api/v1/setup/status", None, None);
    assert_eq!(v["data"]["initialised"], true);
    svc.stop();
    sh(&format!("umount {}", w.storage.display()));
}
