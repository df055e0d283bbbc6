//! Admin accounts from the console: create, list, disable (sessions end,
//! login refused), password change, delete; the last enabled admin and
//! one's own account are guarded; sign out everywhere; the configuration.

use super::*;

fn post(t: &T, token: &str, path: &str, body: Value) -> (u16, Value) {
    t.raw("POST", path, Some(token), &body.to_string())
}

fn rows(t: &T) -> Vec<Value> {
    let (st, v) = t.raw("GET", "/api/v1.0/admin/?page_size=100", Some(&t.token), "");
    assert_eq!(st, 200, "{v}");
    v["data"]["results"].as_array().unwrap().clone()
}

fn token_of(t: &T, name: &str, pw: &str) -> Option<String> {
    t.login(name, pw).0["data"]["access_token"]
        .as_str()
        .map(String::from)
}

#[test]
fn admins_are_managed_and_guarded() {
    let t = harness();
    let (st, v) = post(
        &t,
        &t.token,
        "/api/v1/admin/create",
        json!({"name": "teacher-it", "password": "second-pass"}),
    );
    assert_eq!((st, v["code"].as_i64()), (200, Some(0)), "{v}");
    let (st, v) = post(
        &t,
        &t.token,
        "/api/v1/admin/create",
        json!({"name": "teacher-it", "password": "second-pass"}),
    );
    assert_eq!((st, v["code"].as_i64()), (409, Some(11010)), "{v}");
    let (st, v) = post(
        &t,
        &t.token,
        "/api/v1/admin/create",
        json!({"name": "x y", "password": "second-pass"}),
    );
    assert_eq!(st, 422, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("`name`"), "{v}");
    let (_, v) = post(
        &t,
        &t.token,
        "/api/v1/admin/create",
        json!({"name": "short", "password": "1234"}),
    );
    assert!(v["msg"].as_str().unwrap().contains("`password`"), "{v}");
    assert!(
        t.s.store.admin_get("short").unwrap().is_none(),
        "a refused create made nothing"
    );

    let other = token_of(&t, "teacher-it", "second-pass").expect("the new admin logs in");
    let list = rows(&t);
    let names: Vec<&str> = list.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "teacher-it"]);
    assert_eq!(list[1]["enabled"], true);
    assert_eq!(list[1]["sessions"], 1);
    assert!(list[1].get("password_hash").is_none() && !list[1].to_string().contains("argon2"));

    // Nobody disables or deletes their own account.
    let (st, v) = post(
        &t,
        &t.token,
        "/api/v1/admin/update",
        json!({"name": "admin", "enabled": false}),
    );
    assert_eq!((st, v["code"].as_i64()), (409, Some(11011)), "{v}");
    let (_, v) = post(
        &t,
        &t.token,
        "/api/v1/admin/delete",
        json!({"name": "admin"}),
    );
    assert_eq!(v["code"].as_i64(), Some(11011), "{v}");

    // Disabling ends the account's sessions and refuses its logins.
    let (st, v) = post(
        &t,
        &t.token,
        "/api/v1/admin/update",
        json!({"name": "teacher-it", "enabled": false}),
    );
    assert_eq!(st, 200, "{v}");
    let (st, _) = t.raw("GET", "/api/v1.0/admin/", Some(&other), "");
    assert_eq!(st, 401, "a disabled admin's session ended");
    let (v, st) = t.login("teacher-it", "second-pass");
    assert_eq!((st, v["code"].as_i64()), (403, Some(11008)), "{v}");
    // The last enabled admin stays: teacher-it (enabled again) cannot
    // disable admin while admin is the only other... first make the pair.
    post(
        &t,
        &t.token,
        "/api/v1/admin/update",
        json!({"name": "teacher-it", "enabled": true, "password": "third-pass-1"}),
    );
    assert!(
        token_of(&t, "teacher-it", "second-pass").is_none(),
        "the old password is gone"
    );
    let other = token_of(&t, "teacher-it", "third-pass-1").unwrap();
    let (st, _) = post(
        &t,
        &other,
        "/api/v1/admin/update",
        json!({"name": "admin", "enabled": false}),
    );
    assert_eq!(st, 200);
    let (st, v) = post(
        &t,
        &other,
        "/api/v1/admin/delete",
        json!({"name": "nobody"}),
    );
    assert_eq!((st, v["code"].as_i64()), (404, Some(21001)), "{v}");
    // admin is disabled now; teacher-it is the last enabled one.
    let fresh = post(
        &t,
        &other,
        "/api/v1/admin/create",
        json!({"name": "third", "password": "third-pass-2"}),
    );
    assert_eq!(fresh.0, 200);
    let third = token_of(&t, "third", "third-pass-2").unwrap();
    let (_, v) = post(
        &t,
        &third,
        "/api/v1/admin/delete",
        json!({"name": "teacher-it"}),
    );
    assert_eq!(v["code"].as_i64(), Some(0), "{v}");
    let (_, v) = post(&t, &third, "/api/v1/admin/delete", json!({"name": "admin"}));
    assert_eq!(v["code"].as_i64(), Some(0), "a disabled admin can go: {v}");
    let (st, _) = t.raw("GET", "/api/v1.0/admin/", Some(&other), "");
    assert_eq!(st, 401, "a deleted admin's session ended");
    // Logged: who did what to whom.
    let log = t.s.store.export_json().unwrap();
    assert!(
        log.contains("admin/delete"),
        "operation log has the deletes"
    );
}

#[test]
fn sign_out_everywhere_ends_every_session_of_the_caller_only() {
    let t = harness();
    let a2 = token_of(&t, "admin", PW).unwrap();
    post(
        &t,
        &t.token,
        "/api/v1/admin/create",
        json!({"name": "other", "password": "other-pass-1"}),
    );
    let o = token_of(&t, "other", "other-pass-1").unwrap();
    // A plain logout takes no body, or `{}`; unknown fields are refused.
    let (st, v) = post(&t, &a2, "/api/v1/logout", json!({"everything": true}));
    assert_eq!(st, 422, "{v}");
    let (st, v) = post(&t, &a2, "/api/v1/logout", json!({"all": true}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["sessions_ended"], 2);
    for tok in [&t.token, &a2] {
        assert_eq!(t.raw("GET", "/api/v1.0/admin/", Some(tok), "").0, 401);
    }
    assert_eq!(
        t.raw("GET", "/api/v1.0/admin/", Some(&o), "").0,
        200,
        "other admins stay signed in"
    );
    let (st, _) = t.raw("POST", "/api/v1/logout", Some(&o), "");
    assert_eq!(st, 200, "logout without a body");
    assert_eq!(t.raw("GET", "/api/v1.0/admin/", Some(&o), "").0, 401);
}

#[test]
fn the_configuration_is_shown_read_only_with_meanings() {
    let t = harness_with(|s| s.config = vdi_appliance::config::Config::default().entries());
    let (st, v) = t.raw("GET", "/api/v1/system/config", Some(&t.token), "");
    assert_eq!(st, 200, "{v}");
    let keys = v["data"]["keys"].as_array().unwrap();
    let ttl = keys
        .iter()
        .find(|k| k["key"] == "access_token_ttl_s")
        .unwrap();
    assert_eq!(ttl["value"], "3600");
    assert!(ttl["meaning"].as_str().unwrap().contains("access token"));
    assert!(keys
        .iter()
        .all(|k| !k["meaning"].as_str().unwrap().is_empty()));
    assert_eq!(t.raw("GET", "/api/v1/system/config", None, "").0, 401);
}
