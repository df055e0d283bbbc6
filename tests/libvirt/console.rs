//! Consoles of a real VM (TCG, no OS: SeaBIOS draws its screen) through the
//! service's one port: the SPICE link handshake with QEMU's SPICE server
//! through the proxy, the VNC greeting through the gateway's WebSocket, and
//! both graphics servers listening on loopback only.

use crate::common;

use common::real::{real_libvirt, virsh};
use common::tunnel::{connect, spice_link, ws_data, ws_open};
use common::wire::Wire;
use serde_json::json;
use vdi_appliance::http::server::Limits;

/// The live domain's graphics elements.
fn graphics(uuid: &str) -> Vec<(String, String, u16)> {
    let (ok, xml) = virsh(&["dumpxml", uuid]);
    assert!(ok, "{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("graphics"))
        .map(|g| {
            (
                g.attribute("type").unwrap_or("").to_string(),
                g.attribute("listen").unwrap_or("").to_string(),
                g.attribute("port")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0),
            )
        })
        .collect()
}

/// `tests/browser/vm-console.mjs` against the service on `port`: the
/// template's (and the desktop's) console, the `steps` named; whether it
/// passed, its output, and where its screenshots are.
pub fn vm_console(
    port: u16,
    template: &str,
    desktop: Option<&str>,
    steps: &str,
) -> (bool, String, std::path::PathBuf) {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/vm-console");
    std::fs::create_dir_all(&out).unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let desktop = desktop.unwrap_or("");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&url, &template, &out];
    if !desktop.is_empty() {
        args.push(&desktop);
    }
    let (ok, text) = common::run_node(
        "vm-console.mjs",
        &args,
        &[
            ("VDI_ADMIN", &"admin"),
            ("VDI_ADMIN_PASSWORD", &common::rig::ADMIN_PW),
            ("VM_CONSOLE_STEPS", &steps),
        ],
    );
    (ok, text, out)
}

#[test]
fn a_real_vms_spice_and_vnc_through_the_one_port() {
    let (_sweep, dir, r) = real_libvirt("vdi-console");
    // A template, and a personal desktop made from it (both running).
    let pool = super::terminal::alice_and_a_pool(&r, dir.path());
    let tpl = r.get("/api/v1.0/voi/education/template/?searchtype=single&name=tpl")["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let desktop =
        r.s.desktops_of(&pool.as_str().unwrap().parse().unwrap())
            .unwrap()[0]
            .uuid
            .to_string();
    r.ok(
        "/api/v1/instance/start",
        json!({"desktop_uuid": pool, "desktop_type": 2, "instances": [desktop]}),
    );
    r.ok("/api/v1/template/start", json!({"uuid": tpl}));
    // Both servers on loopback, with ports.
    let g = graphics(&tpl);
    assert_eq!(g.len(), 2, "{g:?}");
    for (kind, listen, port) in &g {
        assert_eq!(listen, "127.0.0.1", "{kind} listens on loopback only");
        assert!(*port >= 5900, "{kind} has a port: {g:?}");
    }
    let w = Wire::start(r.web.clone(), Limits::default());

    // remote-viewer's way: CONNECT to the ticket's name, then SPICE's link
    // handshake with QEMU itself.
    let c = r.ok("/api/v1/template/console", json!({"uuid": tpl}));
    let host = c["host"].as_str().unwrap();
    let mut s = connect(&w, &format!("{host}:5900")).expect("admitted");
    spice_link(&mut s);
    // Anything else is refused: the VM's real port, another host.
    let spice_port = g.iter().find(|x| x.0 == "spice").unwrap().2;
    let (st, _) = connect(&w, &format!("127.0.0.1:{spice_port}")).expect_err("refused");
    assert_eq!(st, 403);

    // The browser's way: a WebSocket to QEMU's VNC server.
    let o = r.ok(
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": tpl, "protocol": "vnc"}),
    );
    let mut ws = ws_open(&w, o["path"].as_str().unwrap()).expect("upgraded");
    assert_eq!(ws_data(&mut ws, 12), b"RFB 003.008\n");
    drop((s, ws));

    // In Chromium: noVNC and then spice-html5 show the template's screen
    // (SeaBIOS), a used VNC token is refused, and a running desktop's
    // Console shows its screen (tests/browser/vm-console.mjs); no uncaught
    // error in the page.
    let (ok, text, out) = vm_console(w.port, &tpl, Some(&desktop), "vnc,spice,reuse,desktop");
    assert!(ok, "the browser console failed:\n{text}");
    let result: serde_json::Value =
        serde_json::from_str(text.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["token_reuse"]["refused"], true, "{result}");
    for shot in ["vnc.png", "spice.png", "desktop-vnc.png"] {
        assert!(
            out.join(shot).metadata().unwrap().len() > 1000,
            "{shot} kept"
        );
    }
    drop(w);
    r.ok(
        "/api/v1.0/voi/education/template/",
        json!({"action": "hard_stop", "param": {"templates": [{"uuid": tpl}]}}),
    );
}
