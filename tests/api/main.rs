//! In-process API tier, one test binary: the whole HTTP application over
//! fakes and a temporary store, driven request by request. The tests of
//! this file are the cross-cutting ones (auth wall, tasks, recovery); each
//! resource's tests are a module beside it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use vdi_appliance::app;
use vdi_appliance::domain::task::{Task, TaskState};
use vdi_appliance::fakes::{FakeClock, FakeFiles, FakeHypervisor};
use vdi_appliance::host::BoxFuture;
use vdi_appliance::http::{self, Method, State};
use vdi_appliance::service::{Services, Settings};
use vdi_appliance::store::{RefKind, Store};
use vdi_appliance::tasks::{self, Recovery, TaskOwner};

struct T {
    app: tide::Server<State>,
    s: Arc<Services>,
    hv: Arc<FakeHypervisor>,
    clock: Arc<FakeClock>,
    token: String,
    _dir: tempfile::TempDir,
}

const PW: &str = "s3cret-pass";

#[path = "../common/mod.rs"]
mod common;

// The OpenAPI document and the fuzzer's findings (tests/fuzz).
mod openapi;

// The layering of src/ (which module may name what).
mod layers;

// Admin accounts, sign out everywhere, the configuration (the console's settings).
mod admins;

mod console;
mod controller;
mod desktop;
mod http_wire;
mod monitor;
mod network;
mod node;
mod node_desktops;
mod parsers;
mod store_watchdog;
mod template;
mod terminal;

fn harness_with(tweak: impl FnOnce(&mut Settings)) -> T {
    let r = common::rig::Rig::build_with(Default::default(), tweak, |_| {});
    let (s, files) = (r.s, r.f.files.clone());
    let path = s.auth_setup_prepare().unwrap().expect("no admin yet");
    let setup = files.get(&path).expect("the setup token file");
    let mut t = T {
        app: r.app,
        s,
        hv: r.f.hypervisor,
        clock: r.f.clock,
        token: String::new(),
        _dir: r.dir,
    };
    let (st, _) = t.raw(
        "POST",
        "/api/v1/setup/admin",
        None,
        &json!({"setup_token": setup.trim(), "name": "admin", "password": PW}).to_string(),
    );
    assert_eq!(st, 200);
    t.token = t.login("admin", PW).0["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    t
}

fn harness() -> T {
    harness_with(|_| {})
}

impl T {
    fn raw(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let body = if body.is_empty() { None } else { Some(body) };
        let (st, text) = smol::block_on(http::request(&self.app, method, path, token, body));
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({st}): {text:?}"));
        (st, v)
    }

    /// An authenticated call; returns status and the envelope.
    fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let b = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        self.raw(method, path, Some(&self.token), &b)
    }

    fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (st, v) = self.call(method, path, body.clone());
        assert_eq!(
            (st, &v["code"]),
            (200, &json!(0)),
            "{method} {path} {body} -> {v}"
        );
        v["data"].clone()
    }

    /// Asserts an error: status, catalogue code, and a fragment of the message.
    fn fails(&self, method: &str, path: &str, body: Value, status: u16, code: i64, fragment: &str) {
        let (st, v) = self.call(method, path, body.clone());
        assert_eq!(
            (st, v["code"].as_i64().unwrap()),
            (status, code),
            "{method} {path} {body} -> {v}"
        );
        let msg = v["msg"].as_str().unwrap();
        assert!(msg.contains(fragment), "message {msg:?} lacks {fragment:?}");
        assert!(v["data"].is_null());
    }

    fn login(&self, name: &str, pw: &str) -> (Value, u16) {
        let (st, v) = self.raw(
            "POST",
            "/api/v1/login",
            None,
            &json!({"name": name, "password": pw}).to_string(),
        );
        (v, st)
    }

    fn pool(&self, name: &str) -> Value {
        self.ok(
            "POST",
            "/api/v1/resource_pool/create",
            json!({"name": name}),
        )
    }

    fn pools(&self, q: &str) -> Value {
        self.ok("GET", &format!("/api/v1.0/resource_pool/?{q}"), Value::Null)
    }
}

// ---------------------------------------------------------------- pools

#[test]
fn server_dialect_pool_calls_with_the_documented_bodies() {
    let t = harness();
    // file 000, 资源池 1: the example sends `description`.
    let p = t.ok(
        "POST",
        "/api/v1/resource_pool/create",
        json!({"name": "default", "description": "默认资源池"}),
    );
    assert_eq!(p["name"], "default");
    assert_eq!(p["desc"], "默认资源池");
    assert_eq!(p["default"], true, "the first pool is the default");
    let uuid = p["uuid"].as_str().unwrap().to_string();
    // The table's `desc` and `default` work too.
    let p2 = t.ok(
        "POST",
        "/api/v1/resource_pool/create",
        json!({"name": "pool1", "desc": "d", "default": false}),
    );
    assert_eq!(p2["default"], false);
    // 资源池 3: update with the documented value keys.
    let u = t.ok(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": uuid, "value": {"name": "pool-a", "desc": "this is pool1"}}),
    );
    assert_eq!(
        (u["name"].as_str(), u["desc"].as_str()),
        (Some("pool-a"), Some("this is pool1"))
    );
    // Moving the default.
    let p2u = p2["uuid"].as_str().unwrap();
    t.ok(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": p2u, "value": {"default": true}}),
    );
    let all = t.pools("searchtype=all");
    let defaults: Vec<_> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["default"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["uuid"], p2u);
    // 资源池 2: delete.
    t.ok(
        "POST",
        "/api/v1/resource_pool/delete",
        json!({"uuid": uuid}),
    );
    assert_eq!(t.pools("")["count"], 1);
}

#[test]
fn web_dialect_pool_calls() {
    let t = harness();
    let p = t.ok(
        "POST",
        "/api/v1.0/resource_pool/",
        json!({"action": "create", "param": {"name": "lab", "desc": "lab pool"}}),
    );
    let uuid = p["uuid"].as_str().unwrap().to_string();
    // The path without the trailing slash is the same resource.
    t.ok(
        "POST",
        "/api/v1.0/resource_pool",
        json!({"action": "create", "param": {"name": "lab2"}}),
    );
    let u = t.ok(
        "PUT",
        "/api/v1.0/resource_pool/",
        json!({"uuid": uuid, "name": "lab", "value": {"name": "lab-1", "desc": "x"}}),
    );
    assert_eq!(u["name"], "lab-1");
    // A stale current name is refused.
    t.fails(
        "PUT",
        "/api/v1.0/resource_pool/",
        json!({"uuid": uuid, "name": "lab", "value": {"desc": "y"}}),
        409,
        20115,
        "`lab-1`",
    );
    let single = t.pools("searchtype=single&name=lab-1");
    assert_eq!(single["uuid"], uuid.as_str());
    // Batch delete: one ok, one unknown, one the default (refused).
    let other = t.pools("searchtype=single&name=lab2")["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    t.ok(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": other, "value": {"default": true}}),
    );
    let d = t.ok(
        "DELETE",
        "/api/v1.0/resource_pool/",
        json!({"resource_pools": [{"uuid": uuid, "name": "lab-1"}, {"uuid": "e4a53850-26e9-11ea-a72d-562668d3ccea", "name": "ghost"}]}),
    );
    assert_eq!(
        (d["success_num"].as_i64(), d["failed_num"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(d["failed"][0]["code"], 20104);
    // A batch of one that fails answers with its error (the default cannot
    // go while another pool exists).
    t.pool("lab3");
    t.fails(
        "DELETE",
        "/api/v1.0/resource_pool/",
        json!({"resource_pools": [{"uuid": other, "name": "lab2"}]}),
        409,
        20106,
        "default",
    );
    t.fails(
        "DELETE",
        "/api/v1.0/resource_pool/",
        json!({"resource_pools": []}),
        422,
        10002,
        "`resource_pools`",
    );
    t.fails(
        "POST",
        "/api/v1.0/resource_pool/",
        json!({"action": "explode", "param": {}}),
        422,
        10008,
        "`explode`",
    );
    t.fails(
        "POST",
        "/api/v1.0/resource_pool/",
        json!({"action": "create", "param": {"nam": "x"}}),
        422,
        10004,
        "`param.nam`",
    );
    t.fails(
        "POST",
        "/api/v1.0/resource_pool/",
        json!({"action": "create", "param": {}}),
        422,
        10003,
        "`param.name`",
    );
}

#[test]
fn pool_error_paths() {
    let t = harness();
    let c = "/api/v1/resource_pool/create";
    let p = t.pool("p1");
    let uuid = p["uuid"].as_str().unwrap().to_string();
    t.fails("POST", c, json!({"name": "P1"}), 409, 20103, "`P1`");
    t.fails("POST", c, json!({}), 422, 10003, "`name`");
    t.fails("POST", c, json!({"name": 5}), 422, 10002, "`name`");
    t.fails(
        "POST",
        c,
        json!({"name": "x", "colour": "red"}),
        422,
        10004,
        "`colour`",
    );
    t.fails("POST", c, json!({"name": "   "}), 422, 10002, "`name`");
    t.fails(
        "POST",
        c,
        json!({"name": "x".repeat(65)}),
        422,
        10002,
        "`name`",
    );
    t.fails(
        "POST",
        c,
        json!({"name": "x", "desc": "a", "description": "b"}),
        422,
        10002,
        "`description`",
    );
    t.fails(
        "POST",
        c,
        json!({"name": "x", "default": "yes"}),
        422,
        10002,
        "`default`",
    );
    let (st, v) = t.raw("POST", c, Some(&t.token), "{\"name\": ");
    assert_eq!((st, v["code"].as_i64()), (400, Some(10001)));
    let (st, v) = t.raw("POST", c, Some(&t.token), "");
    assert_eq!((st, v["code"].as_i64()), (400, Some(10001)));
    let (st, v) = t.raw(
        "POST",
        c,
        Some(&t.token),
        &format!("{{\"name\":\"{}\"}}", "x".repeat(1_100_000)),
    );
    assert_eq!((st, v["code"].as_i64()), (413, Some(10007)));
    t.fails(
        "POST",
        "/api/v1/resource_pool/delete",
        json!({"uuid": "not-a-uuid"}),
        422,
        10002,
        "`uuid`",
    );
    t.fails(
        "POST",
        "/api/v1/resource_pool/delete",
        json!({"uuid": "e4a53850-26e9-11ea-a72d-562668d3ccea"}),
        404,
        20104,
        "e4a53850",
    );
    t.fails(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": uuid, "value": {}}),
        422,
        10002,
        "`value`",
    );
    t.fails(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": uuid}),
        422,
        10003,
        "`value`",
    );
    t.fails(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": uuid, "value": {"default": false}}),
        409,
        20106,
        "default",
    );
    t.pool("p2");
    t.fails(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": uuid, "value": {"name": "p2"}}),
        409,
        20103,
        "`p2`",
    );
    t.fails(
        "POST",
        "/api/v1/resource_pool/delete",
        json!({"uuid": uuid}),
        409,
        20106,
        "default",
    );
    // A pool in use (a template refers to it) cannot go.
    let p3 = t.pool("p3");
    let p3u = uuid::Uuid::parse_str(p3["uuid"].as_str().unwrap()).unwrap();
    t.s.store
        .ref_add(&p3u, RefKind::Template, &uuid::Uuid::new_v4())
        .unwrap();
    t.fails(
        "POST",
        "/api/v1/resource_pool/delete",
        json!({"uuid": p3u.to_string()}),
        409,
        20114,
        "templates",
    );
    // Nothing above changed the store: still p1 (default), p2, p3 as made.
    let all = t.pools("");
    let names: Vec<_> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p1", "p2", "p3"]);
    assert_eq!(all["results"][0]["default"], true);
    assert_eq!(all["results"][0]["desc"], "");
}

#[test]
fn unknown_routes_and_methods_answer_in_the_envelope() {
    let t = harness();
    t.fails(
        "POST",
        "/api/v1/nothing/here",
        json!({}),
        404,
        10005,
        "No such route",
    );
    let (st, v) = t.call("GET", "/api/v1/resource_pool/create", Value::Null);
    assert_eq!((st, v["code"].as_i64()), (405, Some(10006)));
}

// ---------------------------------------------------------------- auth

#[test]
fn the_auth_wall_covers_every_non_public_route() {
    let t = harness();
    let public = [
        "/api/v1/health",
        "/api/openapi.json",
        "/api/v1/login",
        "/api/v1/refresh",
        "/api/v1/setup/admin",
        "/api/v1/setup/root_password",
        "/api/v1/setup/status",
        // The gateway's WebSocket: the console token in the path is the
        // credential, bound to the session that opened it (tests/api/console.rs).
        "/api/v1/console/ws/:id",
    ];
    let mut checked = 0;
    for r in http::route_table() {
        let path = r
            .path
            .replace(":id", "00000000-0000-0000-0000-000000000000");
        let m = match r.method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        };
        // Terminal calls are public: each is authenticated by the session
        // or the classroom address it carries (tests/api/terminal.rs).
        let terminal = r.path.starts_with("/api/v1/terminal/");
        // Public in the table, but each checks its own credential: a node's
        // (report_monitor) or the scrape token (/metrics).
        let own = [
            "/api/v1/node/report_monitor",
            "/api/v1/node/register",
            "/api/v1/node/heartbeat",
            "/api/v1/internal/power",
            "/api/v1/internal/vm",
            "/api/v1/internal/disk",
            "/api/v1/internal/pull",
            "/api/v1/internal/network",
            "/api/v1/internal/file",
            "/metrics",
        ]
        .contains(&r.path);
        assert_eq!(
            r.public,
            public.contains(&r.path) || terminal || own,
            "{} public flag",
            r.path
        );
        if own {
            let node = uuid::Uuid::new_v4().to_string();
            let body = match r.path {
                "/api/v1/node/register" => {
                    // A whole body: the message is typed, so a malformed
                    // one is refused (400) before its credential is asked.
                    json!({"node_uuid": node, "version": "0", "listen_port": 5000,
                    "probe": {"version": "0", "hostname": "n", "nics": [], "route": null,
                        "cpu_flag": null, "kvm_device": false, "libvirt": {"Err": "none"},
                        "mounts": [], "service": {"Err": "none"}},
                    "inventory": {"hostname": "n", "os": "", "kernel": "",
                        "cpu": {"model": "x", "sockets": 1, "cores": 1, "threads": 1, "virt_flag": null},
                        "memory_bytes": 1, "numa": [], "disks": [], "nics": [], "gpus": []}})
                }
                "/api/v1/node/heartbeat" => json!({"node_uuid": node}),
                "/api/v1/internal/power" => json!({"op": "reboot"}),
                "/api/v1/internal/vm" => json!({"op": "list"}),
                "/api/v1/internal/disk" => json!({"op": "remove", "path": "/etc/passwd"}),
                "/api/v1/internal/pull" => {
                    json!({"path": "/x", "md5": "0123456789abcdef0123456789abcdef"})
                }
                "/api/v1/internal/network" => json!({"networks": []}),
                _ => json!({"node_uuid": node, "type": "half_min_monitor",
                    "name": "n", "timestamp": 1_700_000_000,
                    "data": {"cpu": {"user": 1, "system": 1, "idle": 98, "percent": 2},
                             "mem": {"total": 10, "used": 5, "free": 5, "percent": 50}}}),
            };
            let path = if r.path == "/api/v1/internal/file" {
                format!("{path}?node_uuid={node}&path=/etc/shadow")
            } else {
                path
            };
            for token in [None, Some("bogus-token")] {
                let (st, v) = t.raw(m, &path, token, &body.to_string());
                assert_eq!(st, 401, "{m} {path} with {token:?}: {v}");
                assert!([21201, 21203].contains(&v["code"].as_i64().unwrap()), "{v}");
            }
            checked += 1;
            continue;
        }
        if r.public {
            continue;
        }
        for token in [None, Some("bogus-token")] {
            let (st, v) = t.raw(m, &path, token, "{}");
            assert_eq!(st, 401, "{m} {path} with {token:?}: {v}");
            assert!([11001, 11002].contains(&v["code"].as_i64().unwrap()));
        }
        // A fresh session each time: the logout route revokes the one it is given.
        let token = t.login("admin", PW).0["data"]["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, v) = t.raw(m, &path, Some(&format!("{token} ")), "{}");
        assert_ne!(st, 401, "{m} {path} with a good token: {v}");
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn login_refresh_logout() {
    let t = harness();
    t.pools("");
    let (v, st) = t.login("admin", "wrong-password");
    assert_eq!((st, v["code"].as_i64()), (401, Some(11003)));
    let (v, st) = t.login("nobody", PW);
    assert_eq!((st, v["code"].as_i64()), (401, Some(11003)));
    let (v, _) = t.login("admin", PW);
    let d = &v["data"];
    assert_eq!(d["expires_in"], 3600);
    let (access, refresh) = (
        d["access_token"].as_str().unwrap(),
        d["refresh_token"].as_str().unwrap(),
    );
    let (st, _) = t.raw("GET", "/api/v1.0/resource_pool/", Some(access), "");
    assert_eq!(st, 200);
    // Refresh: a new pair; the old pair stops working; the refresh token works once.
    let (st, r) = t.raw(
        "POST",
        "/api/v1/refresh",
        None,
        &json!({"refresh_token": refresh}).to_string(),
    );
    assert_eq!(st, 200);
    let access2 = r["data"]["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        t.raw("GET", "/api/v1.0/resource_pool/", Some(access), "").0,
        401
    );
    assert_eq!(
        t.raw("GET", "/api/v1.0/resource_pool/", Some(&access2), "")
            .0,
        200
    );
    let (st, r) = t.raw(
        "POST",
        "/api/v1/refresh",
        None,
        &json!({"refresh_token": refresh}).to_string(),
    );
    assert_eq!((st, r["code"].as_i64()), (401, Some(11007)));
    // Logout revokes.
    assert_eq!(t.raw("POST", "/api/v1/logout", Some(&access2), "").0, 200);
    assert_eq!(
        t.raw("GET", "/api/v1.0/resource_pool/", Some(&access2), "")
            .0,
        401
    );
    // The harness's own session is untouched.
    t.pools("");
}

#[test]
fn expired_access_tokens_are_refused() {
    let t = harness_with(|s| s.access_ttl = Duration::ZERO);
    let (st, v) = t.raw("GET", "/api/v1.0/resource_pool/", Some(&t.token), "");
    assert_eq!((st, v["code"].as_i64()), (401, Some(11002)));
    assert!(v["msg"].as_str().unwrap().contains("expired"));
}

#[test]
fn failed_logins_are_rate_limited_per_account() {
    let t = harness_with(|s| {
        s.login_attempts = 3;
        s.login_lockout = Duration::from_millis(600);
    });
    for _ in 0..3 {
        assert_eq!(t.login("admin", "nope-nope").1, 401);
    }
    let (v, st) = t.login("admin", PW);
    assert_eq!(
        (st, v["code"].as_i64()),
        (429, Some(11004)),
        "locked even with the right password"
    );
    // Another account name is not affected by admin's lock.
    assert_eq!(t.login("other", "nope-nope").1, 401);
    t.clock.advance(Duration::from_millis(599));
    assert_eq!(t.login("admin", PW).1, 429, "locked until the lockout ends");
    t.clock.advance(Duration::from_millis(1));
    assert_eq!(t.login("admin", PW).1, 200);
}

#[test]
fn parallel_guesses_cannot_pass_the_login_limit() {
    let t = harness_with(|s| s.login_attempts = 3);
    let replies: Vec<u16> = smol::block_on(async {
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let body = json!({"name": "admin", "password": "guess-guess"}).to_string();
                let app = t.app.clone();
                smol::spawn(async move {
                    http::request(&app, "POST", "/api/v1/login", None, Some(&body))
                        .await
                        .0
                })
            })
            .collect();
        let mut out = Vec::new();
        for c in calls {
            out.push(c.await);
        }
        out
    });
    assert_eq!(
        replies.iter().filter(|&&s| s == 401).count(),
        3,
        "{replies:?}"
    );
    assert_eq!(
        replies.iter().filter(|&&s| s == 429).count(),
        5,
        "{replies:?}"
    );
}

#[test]
fn setup_token_is_single_use() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("d"), &Default::default()).unwrap());
    let (b, _, _) = app::fake_backends();
    let files = Arc::new(FakeFiles::default());
    let b = app::Backends {
        files: files.clone(),
        ..b
    };
    let s = app::services(
        store,
        &b,
        Settings::for_dir(dir.path().join("d")),
        app::global_spawner(),
    );
    let a = http::app(s.clone());
    let path = s.auth_setup_prepare().unwrap().unwrap();
    // Private on disk: host::local_files's own test.
    let tok = files.get(&path).unwrap().trim().to_string();
    let post = |body: Value| {
        smol::block_on(http::request(
            &a,
            "POST",
            "/api/v1/setup/admin",
            None,
            Some(&body.to_string()),
        ))
    };
    let (st, text) = post(json!({"setup_token": "wrong", "name": "root", "password": PW}));
    assert_eq!(st, 403, "{text}");
    let (st, text) = post(json!({"setup_token": tok, "name": "bad name", "password": PW}));
    assert_eq!(st, 422, "{text}");
    let (st, text) = post(json!({"setup_token": tok, "name": "root", "password": "short"}));
    assert!(text.contains("`password`") && st == 422, "{text}");
    let (st, _) = post(json!({"setup_token": tok, "name": "root", "password": PW}));
    assert_eq!(st, 200);
    assert_eq!(
        files.get(&path),
        None,
        "the token file is removed once spent"
    );
    let (st, text) = post(json!({"setup_token": tok, "name": "root2", "password": PW}));
    assert_eq!(st, 409, "{text}");
    // After a restart with an admin present, no new token is written.
    assert!(s.auth_setup_prepare().unwrap().is_none());
}

// ---------------------------------------------------------------- query

#[test]
fn generic_query_all_contain_single_and_paging() {
    let t = harness();
    for i in 1..=25 {
        t.pool(&format!("room-{i:02}"));
    }
    t.pool("Office");
    let all = t.pools("searchtype=all&page=1&page_size=10");
    assert_eq!(all["count"], 26);
    assert_eq!(all["results"].as_array().unwrap().len(), 10);
    assert!(all["previous"].is_null());
    assert_eq!(
        all["next"],
        "/api/v1.0/resource_pool/?searchtype=all&page_size=10&page=2"
    );
    let last = t.pools("searchtype=all&page=3&page_size=10");
    assert_eq!(last["results"].as_array().unwrap().len(), 6);
    assert!(last["next"].is_null());
    assert_eq!(
        last["previous"],
        "/api/v1.0/resource_pool/?searchtype=all&page_size=10&page=2"
    );
    let beyond = t.pools("page=9&page_size=10");
    assert_eq!(
        (
            beyond["count"].as_i64(),
            beyond["results"].as_array().unwrap().len()
        ),
        (Some(26), 0)
    );
    // Default searchtype is all; `=` filter.
    assert_eq!(t.pools("name=room-07")["count"], 1);
    assert_eq!(t.pools("name=room")["count"], 0);
    // contain: case-insensitive substring.
    assert_eq!(t.pools("searchtype=contain&name=ROOM-1")["count"], 10);
    assert_eq!(
        t.pools("searchtype=contain&name=ffi")["results"][0]["name"],
        "Office"
    );
    // Boolean fields filter with 1/0 and true/false.
    assert_eq!(t.pools("default=1")["results"][0]["name"], "room-01");
    assert_eq!(t.pools("default=false")["count"], 25);
    // single returns one object, or 404.
    let one = t.pools("searchtype=single&name=Office");
    assert_eq!(one["name"], "Office");
    assert!(one.get("results").is_none());
    let q = "/api/v1.0/resource_pool/";
    t.fails(
        "GET",
        &format!("{q}?searchtype=single&name=nothing"),
        Value::Null,
        404,
        12004,
        "No resource_pool",
    );
    t.fails(
        "GET",
        &format!("{q}?searchtype=single"),
        Value::Null,
        422,
        12003,
        "field filter",
    );
    t.fails(
        "GET",
        &format!("{q}?searchtype=contain"),
        Value::Null,
        422,
        12003,
        "field filter",
    );
    t.fails(
        "GET",
        &format!("{q}?searchtype=fuzzy"),
        Value::Null,
        422,
        12001,
        "`searchtype`",
    );
    t.fails(
        "GET",
        &format!("{q}?colour=red"),
        Value::Null,
        422,
        12002,
        "`colour`",
    );
    t.fails(
        "GET",
        &format!("{q}?page=0"),
        Value::Null,
        422,
        12001,
        "`page`",
    );
    t.fails(
        "GET",
        &format!("{q}?page_size=abc"),
        Value::Null,
        422,
        12001,
        "`page_size`",
    );
    t.fails(
        "GET",
        &format!("{q}?page_size=100000"),
        Value::Null,
        422,
        12001,
        "`page_size`",
    );
    // Percent-encoded values are decoded.
    t.pool("a b&c");
    assert_eq!(t.pools("name=a%20b%26c")["count"], 1);
}

// ---------------------------------------------------------------- tasks and log

fn wait_task(t: &T, id: &str) -> Value {
    for _ in 0..200 {
        let task = t.ok("GET", &format!("/api/v1/task/{id}"), Value::Null);
        if ["succeeded", "failed", "cancelled"].contains(&task["state"].as_str().unwrap()) {
            return task;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("task {id} did not finish");
}

#[test]
fn async_calls_answer_with_a_task() {
    let t = harness();
    let d = t.ok(
        "POST",
        "/api/v1/resource_pool/create",
        json!({"name": "bg", "async": true}),
    );
    let id = d["task_id"].as_str().unwrap().to_string();
    let task = wait_task(&t, &id);
    assert_eq!(task["state"], "succeeded", "{task}");
    assert_eq!(task["percent"], 100);
    assert_eq!(task["kind"], "resource_pool/create");
    assert_eq!(task["owner"], "admin");
    assert_eq!(task["result"]["name"], "bg");
    assert_eq!(t.pools("name=bg")["count"], 1);
    // A failing async call ends failed with the error.
    let d = t.ok(
        "POST",
        "/api/v1/resource_pool/create",
        json!({"name": "bg", "async": true}),
    );
    let task = wait_task(&t, d["task_id"].as_str().unwrap());
    assert_eq!(task["state"], "failed");
    assert!(task["error"].as_str().unwrap().contains("20103"), "{task}");
    // The task list answers the generic query.
    let list = t.ok("GET", "/api/v1.0/task/?state=failed", Value::Null);
    assert_eq!(list["count"], 1);
    t.fails(
        "POST",
        "/api/v1/resource_pool/create",
        json!({"name": "x", "async": "yes"}),
        422,
        10002,
        "`async`",
    );
    t.fails(
        "GET",
        "/api/v1/task/11111111-2222-3333-4444-555555555555",
        Value::Null,
        404,
        13001,
        "11111111",
    );
    t.fails("GET", "/api/v1/task/nope", Value::Null, 404, 13001, "nope");
    // Without async the call answers when done and makes no task.
    t.pool("sync");
    assert_eq!(t.ok("GET", "/api/v1.0/task/", Value::Null)["count"], 2);
}

struct Finisher;

impl TaskOwner for Finisher {
    fn kind(&self) -> &'static str {
        "test/finish"
    }
    fn recover<'a>(
        &'a self,
        _s: &'a Arc<Services>,
        t: &'a Task,
    ) -> BoxFuture<'a, vdi_appliance::error::Result<Recovery>> {
        let note = format!("resumed {}", t.target);
        Box::pin(async move { Ok(Recovery::Completed(note)) })
    }
}

#[test]
fn tasks_left_running_are_concluded_on_start() {
    let t = harness();
    let mk = |kind: &str, state| Task {
        id: uuid::Uuid::new_v4(),
        seq: 0,
        kind: kind.into(),
        target: "thing".into(),
        owner: "admin".into(),
        state,
        percent: 40,
        log: vec![],
        error: None,
        result: None,
        input: "{}".into(),
        created_at: 1,
        started_at: Some(1),
        finished_at: None,
    };
    let owned = mk("test/finish", TaskState::Running);
    let orphan = mk("test/unowned", TaskState::Running);
    let done = mk("resource_pool/create", TaskState::Succeeded);
    // Pool tasks: the store says whether the write happened before the crash.
    t.pool("made-before-crash");
    let mut created = mk("resource_pool/create", TaskState::Running);
    created.input = r#"{"name":"made-before-crash"}"#.into();
    let mut lost = mk("resource_pool/create", TaskState::Queued);
    lost.input = r#"{"name":"never-made"}"#.into();
    for x in [&owned, &orphan, &done, &created, &lost] {
        t.s.store.task_put(x).unwrap();
    }
    let mut owners = tasks::builtin_owners();
    owners.add(Arc::new(Finisher));
    assert_eq!(
        smol::block_on(tasks::recover_all(&t.s, &owners)).unwrap(),
        4
    );
    let a = t.s.task_get(&owned.id).unwrap();
    assert_eq!(a.state, TaskState::Succeeded);
    assert_eq!(a.log.last().unwrap(), "resumed thing");
    let b = t.s.task_get(&orphan.id).unwrap();
    assert_eq!(b.state, TaskState::Failed);
    assert!(b.error.unwrap().contains("restart"));
    let c = t.s.task_get(&created.id).unwrap();
    assert_eq!(c.state, TaskState::Succeeded, "{c:?}");
    assert!(c.log.last().unwrap().contains("was created"));
    let d = t.s.task_get(&lost.id).unwrap();
    assert_eq!(d.state, TaskState::Failed);
    assert!(d.error.unwrap().contains("not created"));
    assert_eq!(t.s.task_get(&done.id).unwrap().state, TaskState::Succeeded);
}

#[test]
fn every_mutating_call_is_in_the_operation_log() {
    let t = harness();
    let p = t.pool("logged");
    t.fails(
        "POST",
        "/api/v1/resource_pool/create",
        json!({"name": "logged"}),
        409,
        20103,
        "logged",
    );
    t.ok(
        "POST",
        "/api/v1/resource_pool/update",
        json!({"uuid": p["uuid"], "value": {"desc": "x"}}),
    );
    let (_, st) = t.login("admin", "bad-password");
    assert_eq!(st, 401);
    let log = t.ok("GET", "/api/v1.0/operation_log/?page_size=100", Value::Null);
    let rows = log["results"].as_array().unwrap();
    let find = |action: &str, result: &str| {
        rows.iter()
            .filter(|r| r["action"] == action && r["result"] == result)
            .cloned()
            .collect::<Vec<_>>()
    };
    let created = find("resource_pool/create", "success");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["owner"], "admin");
    assert_eq!(created[0]["client"], "127.0.0.1");
    assert!(created[0]["target"]
        .as_str()
        .unwrap()
        .starts_with("logged ("));
    let clash = find("resource_pool/create", "failure");
    assert_eq!(clash[0]["code"], 20103);
    assert_eq!(find("resource_pool/update", "success").len(), 1);
    let failed_login = find("auth/login", "failure");
    assert_eq!(failed_login.len(), 1);
    assert_eq!(failed_login[0]["target"], "admin");
    assert!(
        !failed_login[0].to_string().contains("bad-password"),
        "passwords never reach the log"
    );
    // What a caller sends cannot make an entry large.
    let (_, st) = t.login(&"x".repeat(5000), "whatever-pass");
    assert_eq!(st, 401);
    t.raw(
        "POST",
        "/api/v1/setup/admin",
        None,
        &json!({"setup_token": "t", "name": "y".repeat(100_000), "password": "p"}).to_string(),
    );
    let all = t.ok(
        "GET",
        "/api/v1.0/operation_log/?page_size=1000",
        Value::Null,
    );
    for r in all["results"].as_array().unwrap() {
        assert!(
            r["target"].as_str().unwrap().chars().count() <= 201,
            "{}",
            r["target"]
        );
    }
    // Reads are not logged; the log answers contain queries.
    assert!(find("resource_pool/query", "success").is_empty());
    assert_eq!(
        t.ok(
            "GET",
            "/api/v1.0/operation_log/?searchtype=contain&action=resource_pool",
            Value::Null
        )["count"],
        3
    );
}

// ---------------------------------------------------------------- health

#[test]
fn health_reports_libvirt_and_store_without_auth() {
    let t = harness();
    let (st, v) = t.raw("GET", "/api/v1/health", None, "");
    assert_eq!(st, 200);
    assert!(
        v["data"]["libvirt"]["reachable"].is_null(),
        "not probed yet"
    );
    assert_eq!(v["data"]["store"]["ok"], true);
    assert_eq!(v["data"]["version"], env!("CARGO_PKG_VERSION"));
    smol::block_on(t.s.health_probe_hypervisor());
    let (_, v) = t.raw("GET", "/api/v1/health", None, "");
    assert_eq!(v["data"]["libvirt"]["reachable"], true);
    t.hv.reachable
        .store(false, std::sync::atomic::Ordering::SeqCst);
    smol::block_on(t.s.health_probe_hypervisor());
    let (st, v) = t.raw("GET", "/api/v1/health", None, "");
    assert_eq!(st, 200);
    assert_eq!(v["data"]["libvirt"]["reachable"], false);
    // The API keeps serving while libvirt is down.
    t.pool("still-works");
}

#[test]
fn user_passwords_follow_the_configured_minimum() {
    // The default takes file 000's examples: multi_create with "12345"
    // (L2790) and update with "123" (L2890).
    let t = harness();
    let g = t.ok(
        "POST",
        "/api/v1/group/create",
        json!({"name": "staff", "group_type": 2}),
    )["uuid"]
        .clone();
    let made = t.ok(
        "POST",
        "/api/v1/group/user/multi_create",
        json!({"group_uuid": g, "prefix": "ctx", "postfix": 2, "postfix_start": 1, "user_num": 5,
               "passwd": "12345", "enabled": 1}),
    );
    assert_eq!(made["success_num"], 5);
    let u = made["users"][0]["uuid"].clone();
    t.ok(
        "POST",
        "/api/v1/group/user/update",
        json!({"uuid": u, "value": {"group_uuid": g, "user_name": "test", "passwd": "123"}}),
    );
    t.fails(
        "POST",
        "/api/v1/group/user/update",
        json!({"uuid": u, "value": {"passwd": ""}}),
        422,
        10002,
        "`value.passwd`: must be 1 to 128 characters",
    );
    // The policy is public where terminals and the console can read it.
    let (_, h) = t.raw("GET", "/api/v1/health", None, "");
    assert_eq!(
        h["data"]["user_password"],
        json!({"min_length": 1, "max_length": 128})
    );
    // A stricter site: `user_password_min = 6`.
    let t =
        harness_with(|s| s.user_password = vdi_appliance::domain::user::PasswordPolicy { min: 6 });
    let g = t.ok(
        "POST",
        "/api/v1/group/create",
        json!({"name": "staff", "group_type": 2}),
    )["uuid"]
        .clone();
    t.fails(
        "POST",
        "/api/v1/group/user/create",
        json!({"group_uuid": g, "user_name": "user2", "passwd": "12345"}),
        422,
        10002,
        "`passwd`: must be 6 to 128 characters",
    );
    t.ok(
        "POST",
        "/api/v1/group/user/create",
        json!({"group_uuid": g, "user_name": "user2", "passwd": "password", "name": "john",
               "phone": "13144556677", "email": "345673456@qq.com", "enabled": 1}),
    );
    let (_, h) = t.raw("GET", "/api/v1/health", None, "");
    assert_eq!(h["data"]["user_password"]["min_length"], 6);
    // Other accounts keep their own rules (this host's root: 8 to 128).
    t.fails(
        "POST",
        "/api/v1/system/root_password",
        json!({"password": "12345"}),
        422,
        10002,
        "8 to 128",
    );
}
