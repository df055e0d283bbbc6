//! A console to develop and screenshot against: the whole API over the
//! hand-written fakes (no libvirt, no root), initialised as a controller
//! with a flat network and two storage "mounts" in a temporary directory,
//! admin `admin` / `s3cret-pass`, a user group `staff` with user `kiosk`
//! and the terminal she logged in on, served by the real HTTP loop with the
//! embedded console.
//!
//!   cargo run --example console_dev -- 127.0.0.1:5080 [--fresh]
//!
//! `--fresh` leaves it uninitialised (no admin either), for the first-boot
//! setup: the setup token is printed.
//!
//! Not a test tier: the browser tier drives the real binary.

use std::sync::Arc;

use serde_json::json;
use vdi_appliance::app;
use vdi_appliance::domain::net::{DefaultRoute, IfAddr};
use vdi_appliance::fakes::{FakeHost, FakeNet};
use vdi_appliance::http;
use vdi_appliance::service::Settings;
use vdi_appliance::store::Store;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5080".into());
    let fresh = std::env::args().any(|a| a == "--fresh");
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("opt-slow");
    let fast = dir.path().join("opt-fast");
    std::fs::create_dir_all(&slow).unwrap();
    std::fs::create_dir_all(&fast).unwrap();
    let store = Arc::new(Store::open(&dir.path().join("d"), &Default::default()).unwrap());
    let net = FakeNet::with_nics(&[
        (
            "ens192",
            &[IfAddr {
                ip: "192.0.2.49".parse().unwrap(),
                prefix: 24,
            }],
        ),
        ("ens224", &[]),
    ]);
    net.set_route(Some(DefaultRoute {
        gateway: "192.0.2.1".parse().unwrap(),
        dev: "ens192".into(),
    }));
    let host = FakeHost::with_mounts(&[&slow, &fast], &["ens192", "ens224"]);
    let f = app::fakes(net, host);
    let mut settings = Settings::for_dir(dir.path().join("d"));
    settings.config = vdi_appliance::config::Config::default().entries();
    let s = app::services(store, &f.backends(), settings, app::global_spawner());
    let web = http::app(s.clone());
    if fresh {
        let token = s
            .auth_setup_prepare()
            .unwrap()
            .and_then(|p| f.files.get(&p));
        println!(
            "console_dev: uninitialised; setup token {}",
            token.unwrap_or_default().trim()
        );
    } else {
        s.admin_set_password("admin", "s3cret-pass").unwrap();
    }
    smol::block_on(async {
        if fresh {
            return;
        }
        let (st, login) = http::request(
            &web,
            "POST",
            "/api/v1/login",
            None,
            Some(r#"{"name":"admin","password":"s3cret-pass"}"#),
        )
        .await;
        assert_eq!(st, 200, "{login}");
        let v: serde_json::Value = serde_json::from_str(&login).unwrap();
        let token = v["data"]["access_token"].as_str().unwrap().to_string();
        let body = json!({
            "ip": "192.0.2.49", "password": "x", "manage_interface": "ens192", "image_interface": "ens192",
            "data_interface": "ens224", "network_name": "default", "switch_name": "default", "switch_type": "flat",
            "storages": { slow.to_str().unwrap(): "1,2", fast.to_str().unwrap(): "3,4" }, "is_compute": true,
            "subnet_info": {"name": "default", "start_ip": "192.0.2.100", "end_ip": "192.0.2.150", "netmask": "255.255.255.0",
                            "gateway": "192.0.2.1", "dns1": "192.0.2.1"}
        });
        let (st, r) = http::request(
            &web,
            "POST",
            "/api/v1/controller/init",
            Some(&token),
            Some(&body.to_string()),
        )
        .await;
        assert_eq!(st, 200, "{r}");
        // Something to look at: a user group, a user and the terminal she
        // logged in on (the browser tier seeds the same).
        let post = |path: &'static str, tok: Option<String>, body: serde_json::Value| {
            let web = &web;
            async move {
                let (st, r) =
                    http::request(web, "POST", path, tok.as_deref(), Some(&body.to_string())).await;
                assert_eq!(st, 200, "{path}: {r}");
                serde_json::from_str::<serde_json::Value>(&r).unwrap()
            }
        };
        let staff = post(
            "/api/v1/group/create",
            Some(token.clone()),
            json!({"name": "staff", "group_type": 2}),
        )
        .await;
        post(
            "/api/v1/group/user/create",
            Some(token.clone()),
            json!({"group_uuid": staff["data"]["uuid"], "user_name": "kiosk", "passwd": "kiosk-pass", "name": "Kiosk"}),
        )
        .await;
        post(
            "/api/v1/terminal/personal/login",
            None,
            json!({"user_name": "kiosk", "password": "kiosk-pass", "mac": "52:54:00:12:34:56"}),
        )
        .await;
    });
    let listener = http::server::bind(&addr).unwrap();
    println!(
        "console_dev: http://{addr}/  (admin / s3cret-pass; data in {})",
        dir.path().display()
    );
    let ex = Arc::new(smol::Executor::new());
    let ex2 = ex.clone();
    smol::block_on(ex.run(http::server::serve(
        web,
        listener,
        ex2,
        std::future::pending(),
    )));
}
