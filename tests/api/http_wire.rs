//! The HTTP/1.x wire (src/http/h1) on a real loopback socket: the app over
//! fakes behind `server::serve_with`, spoken to byte by byte — pipelining,
//! HTTP/1.0, refusals with the envelope (400/431/501/505), bounded heads,
//! chunked bodies, `Expect: 100-continue`, truncated uploads and stalled
//! bodies.

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use vdi_appliance::http::server::Limits;

use crate::common;
use common::appliance::{harness, qcow2, T};
use common::wire::{closed, read_response, Resp, Wire};

fn serve(t: &T) -> Wire {
    Wire::start(t.app.clone(), Limits::default())
}

/// Sends `bytes` on a fresh connection and reads one response.
fn exchange(w: &Wire, bytes: &[u8]) -> (Resp, BufReader<TcpStream>) {
    let mut s = w.connect();
    s.write_all(bytes).unwrap();
    let mut r = BufReader::new(s);
    let resp = read_response(&mut r, false).expect("a response");
    (resp, r)
}

/// A refusal: status, the envelope's code, a message naming `fragment`,
/// `Connection: close`, and the connection really closed.
fn refused(w: &Wire, bytes: &[u8], status: u16, code: i64, fragment: &str) {
    let (resp, mut r) = exchange(w, bytes);
    assert_eq!(resp.status, status, "{resp:?}");
    let v = resp.json();
    assert_eq!(v["code"].as_i64(), Some(code), "{v}");
    assert!(v["data"].is_null(), "{v}");
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains(fragment), "`{fragment}` not in `{msg}`");
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(closed(&mut r), "the connection stays open after {status}");
}

const HEALTH: &str = "GET /api/v1/health HTTP/1.1\r\nHost: t\r\n\r\n";

#[test]
fn pipelined_requests_are_answered_in_order() {
    let t = harness();
    let w = serve(&t);
    let mut s = w.connect();
    let all = format!(
        "{HEALTH}GET /api/v1/no-such-route HTTP/1.1\r\nHost: t\r\n\r\n{HEALTH}HEAD /api/v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    );
    s.write_all(all.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut got = Vec::new();
    for head_only in [false, false, false, true] {
        let resp = read_response(&mut r, head_only)
            .unwrap_or_else(|| panic!("only {} answers: {got:?}", got.len()));
        got.push(resp.status);
        if !head_only {
            let v = resp.json();
            assert!(v["code"].is_i64(), "{v}");
        }
    }
    assert_eq!(got, [200, 404, 200, 200]);
    assert!(closed(&mut r), "Connection: close is honoured");
}

#[test]
fn unread_bodies_are_drained_or_the_connection_closes() {
    let t = harness();
    let w = serve(&t);
    // No token: refused before the body is read; the small body is read
    // away and the request behind it answered.
    let body = "x".repeat(20_000);
    let req = format!(
        "POST /api/v1/template/create HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}{HEALTH}",
        body.len()
    );
    let (first, mut r) = exchange(&w, req.as_bytes());
    assert_eq!(first.status, 401);
    let next = read_response(&mut r, false).expect("the request after the unread body");
    assert_eq!(next.status, 200);
    assert_eq!(next.json()["code"], 0);
    // A body too long to read away: the reply says the connection closes.
    let mut s = w.connect();
    s.write_all(
        b"POST /api/v1/template/create HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n",
    )
    .unwrap();
    s.write_all(&vec![b'x'; 64 * 1024]).unwrap();
    let mut r = BufReader::new(s);
    let resp = read_response(&mut r, false).expect("the refusal");
    assert_eq!(resp.status, 401);
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(closed(&mut r));
}

#[test]
fn http10_is_served_and_closed_unless_kept_alive() {
    let t = harness();
    let w = serve(&t);
    // No Host header: HTTP/1.0 clients need not send one.
    let (resp, mut r) = exchange(&w, b"GET /api/v1/health HTTP/1.0\r\n\r\n");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["code"], 0);
    assert!(closed(&mut r), "HTTP/1.0 closes after the reply");
    let mut s = w.connect();
    let ka = "GET /api/v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    s.write_all(ka.as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let first = read_response(&mut r, false).expect("first reply");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("connection"), Some("keep-alive"));
    s.write_all(b"GET /api/v1/health HTTP/1.0\r\n\r\n").unwrap();
    let second = read_response(&mut r, false).expect("second reply on the kept connection");
    assert_eq!(second.status, 200);
    assert!(closed(&mut r));
}

#[test]
fn unknown_method_is_501() {
    let t = harness();
    let w = serve(&t);
    refused(
        &w,
        b"BREW /api/v1/health HTTP/1.1\r\nHost: t\r\n\r\n",
        501,
        10103,
        "BREW",
    );
}

#[test]
fn http2_request_line_is_505() {
    let t = harness();
    let w = serve(&t);
    refused(
        &w,
        b"GET /api/v1/health HTTP/2.0\r\nHost: t\r\n\r\n",
        505,
        10104,
        "HTTP/1.0 and HTTP/1.1",
    );
}

#[test]
fn oversized_heads_are_431() {
    let t = harness();
    let w = serve(&t);
    let mut many = String::from("GET /api/v1/health HTTP/1.1\r\nHost: t\r\n");
    for i in 0..128 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    refused(&w, many.as_bytes(), 431, 10102, "128 header fields");
    let big = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    refused(&w, big.as_bytes(), 431, 10102, "8192 bytes");
    // At both limits (128 fields, under 8 KiB) it is served.
    let mut fine = String::from("GET /api/v1/health HTTP/1.1\r\nHost: t\r\n");
    for i in 0..126 {
        fine.push_str(&format!("X-H{i}: v\r\n"));
    }
    fine.push_str(&format!("X-Pad: {}\r\n\r\n", "a".repeat(5000)));
    assert_eq!(exchange(&w, fine.as_bytes()).0.status, 200);
}

#[test]
fn endless_head_is_cut_off_after_a_few_kib() {
    let t = harness();
    let w = serve(&t);
    let s = w.connect();
    // A small send buffer: what the kernel accepts on our side stays small,
    // so the count measures what the server took.
    let size: libc::c_int = 32 * 1024;
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&s),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    let answered = Arc::new(AtomicBool::new(false));
    let reader = {
        let mut s = s.try_clone().unwrap();
        let answered = answered.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                answered.store(true, Ordering::SeqCst);
            }
            answered.store(true, Ordering::SeqCst);
            got
        })
    };
    let mut s = s;
    let chunk = vec![b'A'; 8192];
    let mut sent = s.write(b"GET /").unwrap();
    // 64 MiB is where we stop trying: a server still reading is the failure.
    while sent < 64 << 20 && !answered.load(Ordering::SeqCst) {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    let _ = s.shutdown(Shutdown::Both);
    let got = reader.join().unwrap();
    eprintln!("the server took {sent} bytes before answering and closing");
    assert!(
        sent < 1 << 20,
        "the server took {sent} bytes of a head without a newline"
    );
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 431 "), "{text:?}");
    assert!(text.contains("\"code\":10102"), "{text}");
}

#[test]
fn invalid_utf8_in_a_header_is_400() {
    let t = harness();
    let w = serve(&t);
    let mut req = b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\nX-Name: caf".to_vec();
    req.extend_from_slice(&[0xff, 0xfe]);
    req.extend_from_slice(b"\r\n\r\n");
    refused(&w, &req, 400, 10101, "X-Name");
}

#[test]
fn content_length_with_transfer_encoding_is_400() {
    let t = harness();
    let w = serve(&t);
    refused(
        &w,
        b"POST /api/v1/login HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        10101,
        "Content-Length together with Transfer-Encoding",
    );
    refused(
        &w,
        b"POST /api/v1/login HTTP/1.1\r\nHost: t\r\nContent-Length: 5x\r\n\r\n",
        400,
        10101,
        "Content-Length",
    );
}

#[test]
fn chunked_body_reaches_a_json_endpoint() {
    let t = harness();
    let w = serve(&t);
    let body = json!({"name": "admin", "password": "s3cret-pass"}).to_string();
    let (a, b) = body.split_at(10);
    let req = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nX-Trailer: ignored\r\n\r\n{HEALTH}",
        a.len(),
        b.len()
    );
    let (resp, mut r) = exchange(&w, req.as_bytes());
    assert_eq!(resp.status, 200, "{:?}", resp.json());
    assert!(resp.json()["data"]["access_token"].is_string());
    // The request pipelined after the chunked body is found.
    let next = read_response(&mut r, false).expect("the pipelined request");
    assert_eq!(next.status, 200);
}

#[test]
fn expect_100_continue() {
    let t = harness();
    let w = serve(&t);
    // A handler that reads the body: 100 Continue first, then the reply.
    let body = json!({"name": "admin", "password": "s3cret-pass"}).to_string();
    let mut s = w.connect();
    let head = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let cont = read_response(&mut r, false).expect("100 Continue");
    assert_eq!(cont.status, 100);
    s.write_all(body.as_bytes()).unwrap();
    let resp = read_response(&mut r, false).expect("the reply");
    assert_eq!(resp.status, 200);
    assert!(resp.json()["data"]["access_token"].is_string());
    // A handler that answers without the body (no token): no 100, and the
    // connection closes, so the client never has to send the body.
    let mut s = w.connect();
    s.write_all(
        b"PUT /api/v1/base_image/upload?name=x&os_type=windows_10 HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n",
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let resp = read_response(&mut r, false).expect("the refusal");
    assert_eq!(resp.status, 401);
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(closed(&mut r));
}

fn upload_head(t: &T, name: &str, len: usize) -> String {
    format!(
        "PUT /api/v1/base_image/upload?name={name}&os_type=windows_10 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Length: {len}\r\n\r\n",
        t.token
    )
}

#[test]
fn truncated_upload_is_not_recorded() {
    let t = harness();
    let w = serve(&t);
    let before = t.s.base_image_list().unwrap().len();
    let mut bytes = qcow2(1 << 30);
    bytes.resize(1 << 20, 0);
    // Whole, it is recorded (the test can see a recording) …
    let mut req = upload_head(&t, "whole", bytes.len()).into_bytes();
    req.extend_from_slice(&bytes);
    let (resp, _) = exchange(&w, &req);
    assert_eq!(resp.status, 200, "{:?}", resp.json());
    assert_eq!(t.s.base_image_list().unwrap().len(), before + 1);
    // … cut off halfway, it is not.
    let mut s = w.connect();
    s.write_all(upload_head(&t, "half", bytes.len()).as_bytes())
        .unwrap();
    s.write_all(&bytes[..bytes.len() / 2]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut r = BufReader::new(s);
    let resp = read_response(&mut r, false).expect("an answer to the cut-off upload");
    assert!(resp.status >= 400, "{resp:?}");
    let v = resp.json();
    assert!(v["msg"].as_str().unwrap().contains("broke off"), "{v}");
    let names: Vec<String> =
        t.s.base_image_list()
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect();
    assert_eq!(names.len(), before + 1, "{names:?}");
    assert!(!names.iter().any(|n| n == "half"), "{names:?}");
}

#[test]
fn stalled_body_times_out_and_closes() {
    let t = harness();
    let limits = Limits {
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let w = Wire::start(t.app.clone(), limits);
    let mut s = w.connect();
    s.write_all(b"POST /api/v1/login HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"name\":")
        .unwrap();
    let mut r = BufReader::new(s);
    // Without a body timeout nothing comes before the read's own 20 s.
    let resp = read_response(&mut r, false).expect("an answer after the body timeout");
    assert!(resp.status >= 400, "{resp:?}");
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(closed(&mut r));
}

/// Item 5 of the probe: a body dripping a byte at a time, each well
/// within the no-byte timeout, still fails once it is slower than the
/// minimum rate after the grace period.
#[test]
fn dripping_body_fails_under_the_minimum_rate() {
    let t = harness();
    let limits = Limits {
        body_rate_grace: Duration::from_millis(300),
        body_min_rate: 1000,
        ..Limits::default()
    };
    let w = Wire::start(t.app.clone(), limits);
    let mut s = w.connect();
    s.write_all(b"POST /api/v1/login HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    // One byte every 50 ms: 20 bytes/s, far under 1000 bytes/s. The server
    // refuses long before the 100 bytes are through; once it has answered
    // and closed, writes fail.
    for _ in 0..99 {
        std::thread::sleep(Duration::from_millis(50));
        if s.write_all(b" ").is_err() {
            break;
        }
    }
    let mut r = BufReader::new(s);
    let resp = read_response(&mut r, false).expect("an answer to the dripping body");
    assert!(resp.status >= 400, "{resp:?}");
    assert!(
        resp.json()["msg"]
            .as_str()
            .unwrap()
            .contains("slower than 1000 bytes/s"),
        "{:?}",
        resp.json()
    );
    assert_eq!(resp.header("connection"), Some("close"));
}

#[test]
fn slow_heads_get_408_and_idle_connections_close() {
    let t = harness();
    let limits = Limits {
        head_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let w = Wire::start(t.app.clone(), limits);
    // Half a head, then nothing: 408 with the envelope, and closed.
    let mut s = w.connect();
    s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\n")
        .unwrap();
    let mut r = BufReader::new(s);
    let resp = read_response(&mut r, false).expect("408 after the head timeout");
    assert_eq!(resp.status, 408);
    assert_eq!(resp.json()["code"], 10105);
    assert!(closed(&mut r));
    // A kept-alive connection with no next request is closed, silently.
    let mut s = w.connect();
    s.write_all(HEALTH.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    assert_eq!(read_response(&mut r, false).unwrap().status, 200);
    assert!(closed(&mut r), "the idle connection is closed");
}

#[test]
fn head_has_no_body_and_keep_alive_is_the_default() {
    let t = harness();
    let w = serve(&t);
    let mut s = w.connect();
    s.write_all(b"HEAD /api/v1/health HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let head = read_response(&mut r, true).expect("HEAD reply");
    assert_eq!(head.status, 200);
    assert!(head.header("content-length").is_some());
    assert!(head.header("date").is_some());
    // The next bytes are the next reply's, not a body.
    s.write_all(HEALTH.as_bytes()).unwrap();
    let get = read_response(&mut r, false).expect("GET on the same connection");
    assert_eq!(get.status, 200);
    assert_eq!(
        get.header("content-length").unwrap(),
        head.header("content-length").unwrap()
    );
}

#[test]
fn large_replies_arrive_whole_over_http11_and_http10() {
    let t = harness();
    let w = serve(&t);
    let (_, want) = smol::block_on(vdi_appliance::http::request(
        &t.app,
        "GET",
        "/api/openapi.json",
        None,
        None,
    ));
    // Longer than one 64 KiB write of the server.
    assert!(want.len() > 64 * 1024, "{} bytes", want.len());
    let mut s = w.connect();
    let two = "GET /api/openapi.json HTTP/1.1\r\nHost: t\r\n\r\n".repeat(2);
    s.write_all(two.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    for _ in 0..2 {
        let resp = read_response(&mut r, false).expect("the document");
        assert_eq!(resp.status, 200);
        assert_eq!(String::from_utf8(resp.body).unwrap(), want);
    }
    let (resp, _) = exchange(&w, b"GET /api/openapi.json HTTP/1.0\r\n\r\n");
    assert_eq!(String::from_utf8(resp.body).unwrap(), want);
}

#[test]
fn unknown_length_replies_are_chunked_or_close_delimited() {
    let t = harness();
    let mut app = tide::with_state(vdi_appliance::http::State(t.s.clone()));
    let text: String = (0..20_000).map(|i| format!("{i},")).collect();
    let body = text.clone();
    app.at("/stream").get(move |_| {
        let body = body.clone();
        async move {
            let mut res = tide::Response::new(200);
            let reader = smol::io::BufReader::new(smol::io::Cursor::new(body.into_bytes()));
            res.set_body(tide::Body::from_reader(reader, None));
            Ok(res)
        }
    });
    let w = Wire::start(app, Limits::default());
    let mut s = w.connect();
    let two = "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n".repeat(2);
    s.write_all(two.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    for _ in 0..2 {
        let resp = read_response(&mut r, false).expect("the stream");
        assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
        assert_eq!(String::from_utf8(resp.body).unwrap(), text);
    }
    let (resp, mut r) = exchange(
        &w,
        b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    );
    assert_eq!(resp.header("transfer-encoding"), None);
    assert_eq!(resp.header("connection"), Some("close"));
    assert_eq!(String::from_utf8(resp.body).unwrap(), text);
    assert!(closed(&mut r));
}

#[test]
fn metrics_listener_serves_through_the_same_loop() {
    let t = harness();
    let w = Wire::start(
        vdi_appliance::http::metrics_app(t.s.clone()),
        Limits::default(),
    );
    let (resp, _) = exchange(
        &w,
        b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    assert!(String::from_utf8_lossy(&resp.body).contains("# TYPE"));
}
