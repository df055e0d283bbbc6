//! The OpenAPI document (`/api/openapi.json`) against the route table and
//! against what the routes really do, and the answers to what the schema
//! fuzzer (tests/fuzz) sent and the service mishandled: requests the HTTP
//! reader cannot read, bodies a handler leaves unread, extreme monitoring
//! windows, MAC addresses of wide characters.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::*;
use vdi_appliance::http::Route;

fn doc(t: &T) -> Value {
    let (st, text) = smol::block_on(http::request(
        &t.app,
        "GET",
        "/api/openapi.json",
        None,
        None,
    ));
    assert_eq!(st, 200);
    serde_json::from_str(&text).unwrap()
}

fn method(r: &Route) -> &'static str {
    match r.method {
        Method::Get => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Delete => "delete",
    }
}

fn op<'a>(doc: &'a Value, r: &Route) -> &'a Value {
    &doc["paths"][&r.path.replace(":id", "{id}")][method(r)]
}

fn params(op: &Value) -> Vec<(String, bool)> {
    op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["in"] == "query")
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["required"] == true,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn openapi_describes_every_route() {
    let t = harness();
    let doc = doc(&t);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    let mut n = 0;
    let mut ids = std::collections::HashSet::new();
    for r in http::route_table() {
        let (m, p) = (method(&r), r.path.replace(":id", "{id}"));
        let op = op(&doc, &r);
        assert_eq!(op["operationId"], r.op, "{m} {p}");
        assert!(ids.insert(r.op), "operationId {} is not unique", r.op);
        assert_eq!(
            op.get("security") == Some(&json!([])),
            r.public,
            "{m} {p} security"
        );
        if r.method != Method::Get && r.op != "auth/logout" {
            assert!(
                op["requestBody"].is_object(),
                "{m} {p} has no request schema"
            );
        }
        // Errors are always the envelope.
        assert_eq!(
            op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorEnvelope",
            "{m} {p}"
        );
        if r.path.contains("/:id") {
            assert!(
                op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["in"] == "path" && x["name"] == "id" && x["required"] == true),
                "{m} {p}"
            );
        }
        n += 1;
    }
    let documented: usize = paths.values().map(|v| v.as_object().unwrap().len()).sum();
    assert_eq!(
        documented, n,
        "OpenAPI lists operations the route table does not have"
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // Request schemas name their required fields.
    assert_eq!(schemas["PoolCreateReq"]["required"], json!(["name"]));
    // Two wire types of one name get distinct names (schemars would add a
    // digit), so a route never points at another type's schema.
    for name in schemas.keys() {
        assert!(
            !name.ends_with(|c: char| c.is_ascii_digit()),
            "schema {name}: two types share a name; give one #[schemars(rename)]"
        );
    }
    // The terminal login is the terminal's body, not the admin login's.
    let login = &op(
        &doc,
        &http::route_table()
            .into_iter()
            .find(|r| r.op == "terminal/personal/login")
            .unwrap(),
    )["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(login, "#/components/schemas/TerminalLoginReq");
    assert_eq!(
        schemas["TerminalLoginReq"]["required"],
        json!(["mac", "password"])
    );
}

/// OpenAPI 3.0 has no boolean schemas (`true` for any value).
fn assert_no_boolean_schema(where_: &str, schema: &Value) {
    match schema {
        Value::Bool(_) => panic!("boolean schema at {where_}"),
        Value::Object(o) => {
            for key in ["items", "not"] {
                if let Some(s) = o.get(key).filter(|s| !s.is_array()) {
                    assert_no_boolean_schema(&format!("{where_}/{key}"), s);
                }
            }
            if let Some(s @ Value::Object(_)) = o.get("additionalProperties") {
                assert_no_boolean_schema(&format!("{where_}/additionalProperties"), s);
            }
            for key in ["allOf", "anyOf", "oneOf"] {
                for (i, s) in o
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    assert_no_boolean_schema(&format!("{where_}/{key}/{i}"), s);
                }
            }
            for (k, s) in o
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                assert_no_boolean_schema(&format!("{where_}/properties/{k}"), s);
            }
        }
        _ => {}
    }
}

#[test]
fn openapi_has_no_boolean_schemas() {
    let t = harness();
    let doc = doc(&t);
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        assert_no_boolean_schema(&format!("components/schemas/{name}"), s);
    }
    for r in http::route_table() {
        let op = op(&doc, &r);
        for (media, c) in op["requestBody"]["content"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert_no_boolean_schema(&format!("{} {media}", r.op), &c["schema"]);
        }
    }
    // The two the issue named.
    let s = &doc["components"]["schemas"];
    assert_eq!(s["BindingReq"]["properties"]["terminal_id"], json!({}));
    let pool_action = &op(
        &doc,
        &http::route_table()
            .into_iter()
            .find(|r| r.op == "resource_pool/action")
            .unwrap(),
    )["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        pool_action["properties"]["param"]["$ref"],
        "#/components/schemas/PoolCreateReq"
    );
}

#[test]
fn bodies_are_required_exactly_where_an_empty_body_is_refused() {
    let t = harness();
    let doc = doc(&t);
    let mut optional = Vec::new();
    for r in http::route_table() {
        let body = &op(&doc, &r)["requestBody"];
        if r.streaming || !body["content"]["application/json"].is_object() {
            continue;
        }
        let m = method(&r).to_ascii_uppercase();
        // Logout ends the session it is called with: give it its own.
        let own = (r.op == "auth/logout").then(|| {
            t.login("admin", PW).0["data"]["access_token"]
                .as_str()
                .unwrap()
                .to_string()
        });
        let (st, v) = t.raw(&m, r.path, Some(own.as_deref().unwrap_or(&t.token)), "");
        if st == 401 {
            // A node's or the controller's credential is checked first:
            // the body is never looked at without one.
            continue;
        }
        let refused = v["code"] == 10001 && v["msg"].as_str().unwrap().contains("empty");
        assert_eq!(
            body["required"] == true,
            refused,
            "{m} {}: documented required={}, an empty body answers {v}",
            r.path,
            body["required"]
        );
        if !refused {
            optional.push(r.op);
        }
    }
    optional.sort_unstable();
    assert_eq!(
        optional,
        [
            "auth/logout",
            "network/confirm",
            "system/metrics_token",
            "terminal/instance/groups"
        ]
    );
}

#[test]
fn the_query_parameters_handlers_read_are_declared() {
    let t = harness();
    let doc = doc(&t);
    let table = http::route_table();
    let of = |op_id: &str| {
        let r = table.iter().find(|r| r.op == op_id).unwrap();
        params(op(&doc, r))
    };
    let upload = [
        ("name".to_string(), true),
        ("os_type".to_string(), false),
        ("md5_sum".to_string(), false),
    ];
    for id in ["base_image/upload", "base_image/upload_post"] {
        let mut want = upload.to_vec();
        want.push(("pool_uuid".into(), false));
        assert_eq!(of(id), want, "{id}");
    }
    for id in ["iso/upload", "iso/upload_post"] {
        assert_eq!(of(id), upload.to_vec(), "{id}");
    }
    assert_eq!(of("template/download_file"), [("path".to_string(), true)]);
    assert_eq!(
        of("internal/file"),
        [
            ("node_uuid".to_string(), true),
            ("path".to_string(), true),
            ("offset".to_string(), false)
        ]
    );
    let history: Vec<String> = of("monitor/history").into_iter().map(|p| p.0).collect();
    assert_eq!(
        history,
        vdi_appliance::api::monitor::HISTORY_FIELDS,
        "every parameter the history parser accepts"
    );
    // What the document says required is what the handler asks for.
    for (m, path, field) in [
        ("PUT", "/api/v1/base_image/upload?os_type=linux", "name"),
        ("POST", "/api/v1/iso/upload", "name"),
        ("GET", "/api/v1/template/download", "path"),
        ("GET", "/api/v1.0/monitor/", "node_uuid"),
        (
            "GET",
            "/api/v1.0/voi/education/template/operate/",
            "template",
        ),
        (
            "GET",
            "/api/v1.0/voi/education/template/ipaddr/",
            "subnet_uuid",
        ),
    ] {
        let (st, v) = t.raw(m, path, Some(&t.token), "");
        assert_eq!(
            (st, v["code"].as_i64()),
            (422, Some(10003)),
            "{m} {path}: {v}"
        );
        assert!(
            v["msg"].as_str().unwrap().contains(field),
            "{m} {path}: {v}"
        );
    }
}

#[test]
fn listings_document_their_filters_and_what_searchtype_needs() {
    let t = harness();
    t.pool("alpha");
    let doc = doc(&t);
    let mut listings = 0;
    for r in http::route_table() {
        let Some((name, verb)) = r.op.split_once('/') else {
            continue;
        };
        if r.method != Method::Get || !verb.starts_with("query") {
            continue;
        }
        let fields =
            t.s.query
                .fields(name)
                .unwrap_or_else(|| panic!("{}: no listing `{name}`", r.op));
        let op = op(&doc, &r);
        let names: Vec<String> = params(op).into_iter().map(|p| p.0).collect();
        for f in ["searchtype", "page", "page_size"].iter().chain(fields) {
            assert!(names.iter().any(|n| n == f), "{}: `{f}` undocumented", r.op);
        }
        let st = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "searchtype")
            .unwrap();
        assert!(
            st["description"].as_str().unwrap().contains("12003"),
            "{}: searchtype says nothing of the filter it needs",
            r.op
        );
        // What it says holds: single and contain need a field filter; every
        // documented field is one.
        let (code, v) = t.raw(
            "GET",
            &format!("{}?searchtype=single", r.path),
            Some(&t.token),
            "",
        );
        assert_eq!(
            (code, v["code"].as_i64()),
            (422, Some(12003)),
            "{}: {v}",
            r.op
        );
        for f in fields {
            let q = format!("{}?searchtype=contain&{f}=zz", r.path);
            let (code, v) = t.raw("GET", &q, Some(&t.token), "");
            assert_eq!((code, v["code"].as_i64()), (200, Some(0)), "{q}: {v}");
        }
        listings += 1;
    }
    assert!(listings >= 15, "{listings} listings");
}

#[test]
fn replies_are_declared_as_they_are_sent() {
    let t = harness();
    let doc = doc(&t);
    let table = http::route_table();
    let ok_content = |id: &str| {
        let r = table.iter().find(|r| r.op == id).unwrap();
        op(&doc, r)["responses"]["200"]["content"].clone()
    };
    let media = |c: &Value| c.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(media(&ok_content("metrics")), ["text/plain"]);
    assert_eq!(
        media(&ok_content("template/download_file")),
        ["application/octet-stream"]
    );
    assert_eq!(
        media(&ok_content("internal/file")),
        ["application/octet-stream"]
    );
    assert_eq!(
        ok_content("template/ipaddr")["application/json"]["schema"]["required"],
        json!(["ipaddr"])
    );
    let raw_or_not_json = [
        "metrics",
        "template/download_file",
        "internal/file",
        "template/ipaddr",
        "openapi/get",
    ];
    for r in &table {
        if !raw_or_not_json.contains(&r.op) {
            assert_eq!(
                ok_content(r.op)["application/json"]["schema"]["$ref"],
                "#/components/schemas/SuccessEnvelope",
                "{}",
                r.op
            );
        }
    }
    // /metrics really is text, with the admin token as well.
    let mut req = tide::http::Request::new(
        tide::http::Method::Get,
        tide::http::Url::parse("http://localhost/metrics").unwrap(),
    );
    req.insert_header("Authorization", format!("Bearer {}", t.token));
    let res = smol::block_on(http::respond(&t.app, req));
    assert_eq!(res.status(), 200);
    let ct = res.header("Content-Type").unwrap().as_str().to_string();
    assert!(ct.starts_with("text/plain"), "{ct}");
}

// ------------------------------------------------ what the fuzzer found

#[test]
fn monitor_history_refuses_windows_outside_unix_time() {
    let t = harness();
    let node = uuid::Uuid::new_v4();
    let min = i64::MIN;
    for q in [
        format!("start={min}&end={min}"),
        format!("start={min}"),
        format!("end={min}"),
        format!("start=0&end={}", i64::MAX),
        format!("start=0&end=3600&step={}", i64::MAX - 1),
        "start=-1&end=3600".to_string(),
    ] {
        let path = format!("/api/v1.0/monitor/?node_uuid={node}&{q}");
        let (st, v) = t.call("GET", &path, Value::Null);
        if q.contains("step") {
            // One point: a valid window (of a node nobody knows).
            assert_ne!(st, 500, "{q}: {v}");
            continue;
        }
        assert_eq!((st, v["code"].as_i64()), (422, Some(10002)), "{q}: {v}");
        let msg = v["msg"].as_str().unwrap();
        assert!(
            msg.contains("`start`") || msg.contains("`end`"),
            "{q}: {msg}"
        );
    }
}

#[test]
fn mac_addresses_of_wide_characters_are_refused() {
    let t = harness();
    // Twelve bytes that are not twelve characters.
    let mac = "k\u{98}\u{e0}\u{95}\u{d1}#\u{ca}";
    assert_eq!(mac.len(), 12);
    for (path, body) in [
        (
            "/api/v1/terminal/personal/login",
            json!({"username": "WW", "password": "pw-123456", "mac": mac}),
        ),
        (
            "/api/v1/terminal/education/close_instance",
            json!({"mac": mac}),
        ),
    ] {
        let (st, v) = t.raw("POST", path, None, &body.to_string());
        assert_eq!((st, v["code"].as_i64()), (422, Some(10002)), "{path}: {v}");
        assert!(v["msg"].as_str().unwrap().contains("`mac`"), "{path}: {v}");
    }
}

/// The app behind the real listener (`http::server`) on a loopback port.
struct Listener {
    port: u16,
    stop: smol::channel::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    fn start(t: &T) -> Listener {
        let listener = http::server::bind("127.0.0.1:0").unwrap();
        let port = listener.get_ref().local_addr().unwrap().port();
        let app = t.app.clone();
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let thread = std::thread::spawn(move || {
            let ex = Arc::new(smol::Executor::new());
            let stop = async move {
                let _ = stopped.recv().await;
            };
            smol::block_on(ex.run(http::server::serve(app, listener, ex.clone(), stop)));
        });
        Listener {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        // A bound, not a pause: an answer that does not come is a failure.
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.stop.try_send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What reading one response gave.
#[derive(Debug)]
enum Read1 {
    /// Status, lower-case head, body.
    Response(u16, String, String),
    /// The server closed the connection (EOF or reset) before answering.
    Closed,
    /// Nothing within the read timeout.
    TimedOut,
}

fn read_response(s: &mut TcpStream) -> Read1 {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + len {
                let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
                return Read1::Response(status, head, body);
            }
        }
        match s.read(&mut chunk) {
            Ok(0) => return Read1::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Read1::TimedOut
            }
            Err(_) => return Read1::Closed,
        }
    }
}

#[test]
fn requests_the_http_reader_refuses_get_an_envelope() {
    let t = harness();
    let l = Listener::start(&t);
    // An unknown method is refused with the envelope; HTTP/1.0 is served
    // (and closed, as it did not ask to be kept alive).
    for (request, status, code) in [
        (
            "QUERY /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
            501,
            10103,
        ),
        ("GET /api/v1/health HTTP/1.0\r\n\r\n", 200, 0),
    ] {
        let mut s = l.connect();
        s.write_all(request.as_bytes()).unwrap();
        match read_response(&mut s) {
            Read1::Response(st, head, body) => {
                assert_eq!(st, status, "{request:?}");
                assert!(head.contains("connection: close"), "{head}");
                let v: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["code"], code, "{v}");
            }
            other => panic!("{request:?}: no answer ({other:?})"),
        }
    }
}

#[test]
fn a_body_left_unread_does_not_eat_the_next_request() {
    let t = harness();
    let l = Listener::start(&t);
    let auth = format!("Authorization: Bearer {}\r\n", t.token);
    // The handler refuses the upload from its query alone and never reads
    // the body: the body arrives after the answer, with the client's next
    // request right behind it.
    let mut s = l.connect();
    s.write_all(
        format!(
            "POST /api/v1/base_image/upload?name= HTTP/1.1\r\nHost: x\r\n{auth}\
             Content-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    match read_response(&mut s) {
        // The server either closes or drains the unread body; either way
        // the next request must not be lost (checked below).
        Read1::Response(422, _, _) => {}
        other => panic!("no 422: {other:?}"),
    }
    s.write_all(b"0123456789GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    match read_response(&mut s) {
        Read1::Closed => {}
        Read1::Response(st, _, _) => assert_eq!(st, 200),
        Read1::TimedOut => panic!("the next request was swallowed: no answer, no close"),
    }
    // A body that was read keeps the connection open for the next request.
    let mut s = l.connect();
    let body = json!({"name": "admin", "password": PW}).to_string();
    for _ in 0..2 {
        s.write_all(
            format!(
                "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
        match read_response(&mut s) {
            Read1::Response(200, head, _) => assert!(!head.contains("connection: close"), "{head}"),
            other => panic!("login on a kept-alive connection: {other:?}"),
        }
    }
}

/// Every JSON body names its fields: a named type (`$ref`) or an object
/// with properties, or says it has none (`additionalProperties: false`),
/// never `{}` ("anything").
#[test]
fn every_request_body_has_a_typed_schema() {
    let t = harness();
    let doc = doc(&t);
    let schemas = &doc["components"]["schemas"];
    let mut untyped = Vec::new();
    for r in http::route_table() {
        let op = op(&doc, &r);
        let Some(s) = op.pointer("/requestBody/content/application~1json/schema") else {
            continue;
        };
        let s = match s["$ref"].as_str() {
            Some(name) => &schemas[name.trim_start_matches("#/components/schemas/")],
            None => s,
        };
        let typed = s["properties"].as_object().is_some_and(|p| !p.is_empty())
            || s["type"] == "array"
            || s["oneOf"].is_array()
            || s["anyOf"].is_array()
            || s["allOf"].is_array()
            || s["additionalProperties"] == false;
        if !typed {
            untyped.push(format!("{} {}", method(&r), r.path));
        }
    }
    assert!(untyped.is_empty(), "untyped bodies: {untyped:#?}");
}
