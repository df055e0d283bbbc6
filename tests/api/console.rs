//! Consoles through the service's one port, on a real loopback socket: the
//! SPICE proxy (`CONNECT` to a ticket's name completes the SPICE link
//! handshake; anything else is refused with 403 and no connection made),
//! the gateway (a WebSocket bridged to a VNC server, one use per token,
//! closed when the admin signs out), and the internal tunnel a controller
//! opens to a VM on one of its servers. The VMs' graphics servers are small
//! fakes on loopback that the fake hypervisor points at.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;
use vdi_appliance::domain::console::Protocol;
use vdi_appliance::domain::node::Membership;
use vdi_appliance::host::node_client::{Http, NodeClient, Peer};
use vdi_appliance::http::server::Limits;

use crate::common;
use common::appliance::{harness, harness_set, T};
use common::rig::{Rig, Spec};
use common::tunnel::{connect, spice_link, ws_data, ws_frame, ws_open, ws_read, ws_send};
use common::wire::{closed, Wire};

/// A fake graphics server on loopback: how many connections it took.
pub struct Graphics {
    pub addr: std::net::SocketAddr,
    pub accepted: Arc<AtomicUsize>,
}

/// A SPICE server as far as the link handshake: it reads a client's
/// `SpiceLinkHeader` (`REDQ`, major, minor, size) and the message, and
/// answers with a header of its own (`REDQ`, major 2).
pub fn spice_server() -> Graphics {
    serve_graphics(|mut s| {
        let mut h = [0u8; 16];
        if s.read_exact(&mut h).is_err() || &h[..4] != b"REDQ" {
            return;
        }
        let size = u32::from_le_bytes(h[12..16].try_into().unwrap()) as usize;
        let mut msg = vec![0u8; size];
        if s.read_exact(&mut msg).is_err() {
            return;
        }
        let mut reply = b"REDQ".to_vec();
        reply.extend_from_slice(&2u32.to_le_bytes());
        reply.extend_from_slice(&2u32.to_le_bytes());
        reply.extend_from_slice(&4u32.to_le_bytes());
        reply.extend_from_slice(&0u32.to_le_bytes());
        let _ = s.write_all(&reply);
    })
}

/// A VNC server as far as its greeting, then an echo.
pub fn vnc_server() -> Graphics {
    serve_graphics(|mut s| {
        if s.write_all(b"RFB 003.008\n").is_err() {
            return;
        }
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 || s.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    })
}

fn serve_graphics(each: fn(TcpStream)) -> Graphics {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let n = accepted.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            n.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || each(s));
        }
    });
    Graphics { addr, accepted }
}

/// A refused `CONNECT`: 403, the console code, and no connection made.
fn refused(w: &Wire, g: &Graphics, target: &str, fragment: &str) {
    let before = g.accepted.load(Ordering::SeqCst);
    let (st, v) = connect(w, target).expect_err("refused");
    assert_eq!(
        (st, v["code"].as_i64()),
        (403, Some(21301)),
        "{target}: {v}"
    );
    let msg = v["msg"].as_str().unwrap();
    assert!(msg.contains(fragment), "`{fragment}` not in `{msg}`");
    assert_eq!(
        g.accepted.load(Ordering::SeqCst),
        before,
        "{target} reached a VM"
    );
}

/// A running template whose graphics are `g`.
fn running_template(t: &T, g: &Graphics) -> String {
    t.running_template("tpl-console", g.addr)
}

/// An initialised appliance with a running template whose graphics are
/// `g`, and the service on a socket.
fn rig(g: Graphics) -> (T, Graphics, String, Wire) {
    let t = harness();
    let uuid = running_template(&t, &g);
    let w = Wire::start(t.app.clone(), Limits::default());
    (t, g, uuid, w)
}

/// `console/open` of the template `uuid` (VNC: no protocol named).
fn open_console(t: &T, uuid: &str) -> Value {
    t.ok(
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": uuid}),
    )
}

fn ticket_host(c: &Value) -> String {
    c["host"].as_str().unwrap().to_string()
}

#[test]
fn the_spice_proxy_splices_a_tickets_vm_and_refuses_everything_else() {
    let (t, g, uuid, w) = rig(spice_server());
    let c = t.ok("/api/v1/template/console", json!({"uuid": uuid}));
    let host = ticket_host(&c);
    assert!(host.starts_with("vdi-"), "{c}");
    let vv = c["vv"].as_str().unwrap();
    assert!(vv.contains(&format!("host={host}\nport=5900\n")), "{vv}");
    assert!(vv.contains("\nproxy=http://"), "{vv}");
    // The VM's SPICE server listens on loopback only.
    let dom = t.f.hypervisor.domain(&uuid.parse().unwrap()).unwrap();
    assert!(dom.updates.last().unwrap().contains("listen='127.0.0.1'"));

    // Through the proxy: the SPICE link handshake completes, and a viewer's
    // several channels may use the one ticket.
    for _ in 0..3 {
        let mut s = connect(&w, &format!("{host}:5900")).expect("admitted");
        spice_link(&mut s);
    }
    assert_eq!(g.accepted.load(Ordering::SeqCst), 3);

    // Anything else: 403, and no connection to a VM.
    refused(&w, &g, "127.0.0.1:22", "console ticket's name");
    refused(
        &w,
        &g,
        &format!("127.0.0.1:{}", g.addr.port()),
        "console ticket's name",
    );
    refused(&w, &g, "198.51.100.7:5900", "console ticket's name");
    refused(&w, &g, &format!("{host}:22"), "console ticket's name");
    refused(
        &w,
        &g,
        "vdi-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:5900",
        "unknown",
    );
    refused(
        &w,
        &g,
        &format!("{}.spice.vm:0", Uuid::parse_str(&uuid).unwrap()),
        "controller's token",
    );
    // A gateway token is not a proxy ticket.
    let o = t.ok(
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": uuid, "protocol": "spice"}),
    );
    refused(
        &w,
        &g,
        &format!("vdi-{}:5900", o["token"].as_str().unwrap()),
        "unknown",
    );
    // An expired ticket.
    t.f.clock.advance(Duration::from_secs(61));
    refused(&w, &g, &format!("{host}:5900"), "expired");
    // A stopped VM: its fresh ticket no longer connects.
    let c = t.ok("/api/v1/template/console", json!({"uuid": uuid}));
    t.f.hypervisor
        .set_state(&uuid.parse().unwrap(), vdi_appliance::host::PowerState::Off);
    refused(&w, &g, &format!("{}:5900", ticket_host(&c)), "not running");

    // Opens and closes are in the operation log.
    let log = t.get("/api/v1.0/operation_log/?searchtype=all&page_size=200");
    let actions: Vec<&str> = log["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.iter().filter(|a| **a == "console/open").count() >= 3,
        "{actions:?}"
    );
    assert!(actions.contains(&"console/close"), "{actions:?}");
}

#[test]
fn without_the_proxy_tickets_name_the_servers_address_and_port() {
    let t = harness_set(|s| s.spice_proxy = false);
    let g = spice_server();
    let uuid = running_template(&t, &g);
    let c = t.ok("/api/v1/template/console", json!({"uuid": uuid}));
    assert_eq!(c["host"], "192.0.2.49", "{c}");
    assert!(c["spice_proxy"].is_null(), "{c}");
    assert!(!c["vv"].as_str().unwrap().contains("proxy="), "{c}");
    let dom = t.f.hypervisor.domain(&uuid.parse().unwrap()).unwrap();
    assert!(dom
        .xml
        .contains("type='spice' autoport='yes' listen='0.0.0.0'"));
    // VNC stays on loopback: only the gateway reaches it.
    assert!(dom
        .xml
        .contains("type='vnc' autoport='yes' listen='127.0.0.1'"));
    // The proxy takes no ticket then.
    let w = Wire::start(t.app.clone(), Limits::default());
    refused(
        &w,
        &g,
        &format!("vdi-{}:5900", c["ticket"].as_str().unwrap()),
        "unknown",
    );
}

#[test]
fn the_gateway_bridges_one_websocket_per_vnc_token_and_closes_it_at_sign_out() {
    let (t, g, uuid, w) = rig(vnc_server());
    // Bad requests name their field; a stopped VM has no console.
    t.fails(
        "/api/v1/console/open",
        json!({"kind": "vm", "uuid": uuid}),
        10002,
        "kind",
    );
    t.fails(
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": uuid, "protocol": "rdp"}),
        10002,
        "protocol",
    );
    t.fails(
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": "x"}),
        10002,
        "uuid",
    );
    t.fails(
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": uuid, "port": 22}),
        10004,
        "port",
    );

    let o = t.ok(
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": uuid, "protocol": "vnc"}),
    );
    assert_eq!(o["protocol"], "vnc");
    assert_eq!(o["expires_in"], 30);
    let path = o["path"].as_str().unwrap().to_string();
    assert_eq!(
        path,
        format!("/api/v1/console/ws/{}", o["token"].as_str().unwrap())
    );
    // The VM's VNC server got this open's password, on loopback.
    let pw = o["password"].as_str().unwrap();
    assert_eq!(pw.len(), 8);
    let dom = t.f.hypervisor.domain(&uuid.parse().unwrap()).unwrap();
    let set = dom.updates.last().unwrap();
    assert!(
        set.contains("type='vnc'") && set.contains(&format!("passwd='{pw}'")),
        "{set}"
    );
    assert!(set.contains("listen='127.0.0.1'"));

    let mut ws = ws_open(&w, &path).expect("upgraded");
    assert_eq!(ws_data(&mut ws, 12), b"RFB 003.008\n");
    ws_send(&mut ws, b"RFB 003.008\n");
    assert_eq!(ws_data(&mut ws, 12), b"RFB 003.008\n", "the VM echoes");
    assert_eq!(t.s.console_bridge_count(), 1);

    // The token was used: a second upgrade with it is refused, nothing dialled.
    let before = g.accepted.load(Ordering::SeqCst);
    assert_eq!(ws_open(&w, &path).err().unwrap().0, 403);
    assert_eq!(g.accepted.load(Ordering::SeqCst), before);
    // A plain GET of the path, and an unknown token.
    let (st, v) = t.call("GET", &path, None);
    assert_eq!((st, v["code"].as_i64()), (400, Some(10101)), "{v}");
    assert_eq!(ws_open(&w, "/api/v1/console/ws/nope").err().unwrap().0, 403);

    // A client's close is echoed once, and the connection ends.
    let o2 = open_console(&t, &uuid);
    let mut ws2 = ws_open(&w, o2["path"].as_str().unwrap()).expect("upgraded");
    assert_eq!(ws_data(&mut ws2, 12), b"RFB 003.008\n");
    ws2.get_mut()
        .write_all(&ws_frame(0x88, &1000u16.to_be_bytes()))
        .unwrap();
    let (op, p) = ws_read(&mut ws2);
    assert_eq!((op, p), (8, vec![0x03, 0xE8]));
    assert!(closed(&mut ws2), "one close frame, then the end");

    // Signing out closes the bridge: a close frame (1008), then the end.
    let (st, _) = t.call("POST", "/api/v1/logout", None);
    assert_eq!(st, 200);
    let (op, p) = ws_read(&mut ws);
    assert_eq!((op, &p[..2]), (8, &1008u16.to_be_bytes()[..]), "{p:?}");
    assert!(closed(&mut ws));
    let t0 = std::time::Instant::now();
    while t.s.console_bridge_count() > 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "the bridge stays");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_token_is_bound_to_its_session_and_expires() {
    let (t, g, uuid, w) = rig(vnc_server());
    let open = || open_console(&t, &uuid);
    // Unused for 31 s: refused.
    let o = open();
    t.f.clock.advance(Duration::from_secs(31));
    assert_eq!(
        ws_open(&w, o["path"].as_str().unwrap()).err().unwrap().0,
        403
    );
    // Its session signed out before it was used: refused.
    let o = open();
    t.call("POST", "/api/v1/logout", None);
    assert_eq!(
        ws_open(&w, o["path"].as_str().unwrap()).err().unwrap().0,
        403
    );
    assert_eq!(g.accepted.load(Ordering::SeqCst), 0, "no VM was reached");
    // No session: no token.
    let (st, v) = t.call(
        "POST",
        "/api/v1/console/open",
        Some(json!({"kind": "template", "uuid": uuid})),
    );
    assert_eq!((st, v["code"].as_i64()), (401, Some(11002)), "{v}");
}

#[test]
fn the_gateway_speaks_websocket_and_refuses_other_sites() {
    let (t, _g, uuid, w) = rig(vnc_server());
    let open = || open_console(&t, &uuid);
    // A page of another site may not use a token.
    let o = open();
    let mut s = w.connect();
    write!(
        s,
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        o["path"].as_str().unwrap(),
        w.port
    )
    .unwrap();
    let head = common::tunnel::head_of(&mut s);
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let v = common::tunnel::body_of(&head, &mut s);
    assert_eq!(v["code"], 21301, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("own pages"), "{v}");

    // A ping is answered; a message in several frames reaches the VM whole.
    let o = open();
    let mut ws = ws_open(&w, o["path"].as_str().unwrap()).expect("upgraded");
    assert_eq!(ws_data(&mut ws, 12), b"RFB 003.008\n");
    ws.get_mut().write_all(&ws_frame(0x89, b"hi")).unwrap();
    assert_eq!(ws_read(&mut ws), (0xA, b"hi".to_vec()));
    ws.get_mut().write_all(&ws_frame(0x02, b"ab")).unwrap();
    ws.get_mut().write_all(&ws_frame(0x80, b"cd")).unwrap();
    assert_eq!(
        ws_data(&mut ws, 4),
        b"abcd",
        "the VM echoes the whole message"
    );
    // A continuation outside a message breaks the protocol: close 1002.
    ws.get_mut().write_all(&ws_frame(0x80, b"x")).unwrap();
    let (op, p) = ws_read(&mut ws);
    assert_eq!((op, &p[..2]), (8, &1002u16.to_be_bytes()[..]), "{p:?}");
    assert!(closed(&mut ws));
}

#[test]
fn a_bridge_follows_its_session_through_a_refresh_and_ends_with_it() {
    let (t, g, uuid, w) = rig(vnc_server());
    let (_, login) = t.call(
        "POST",
        "/api/v1/login",
        Some(json!({"name": "admin", "password": common::rig::ADMIN_PW})),
    );
    let (access, refresh) = (
        login["data"]["access_token"].as_str().unwrap().to_string(),
        login["data"]["refresh_token"].as_str().unwrap().to_string(),
    );
    let call = |token: &str, path: &str, body: Value| {
        common::app_call(&t.app, token, "POST", path, Some(body))
    };
    let (_, o) = call(
        &access,
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": uuid}),
    );
    let mut ws = ws_open(&w, o["data"]["path"].as_str().unwrap()).expect("upgraded");
    assert_eq!(ws_data(&mut ws, 12), b"RFB 003.008\n");
    // A SPICE console of the same session: its .vv goes through the proxy.
    let (_, sp) = call(
        &access,
        "/api/v1/console/open",
        json!({"kind": "template", "uuid": uuid, "protocol": "spice"}),
    );
    let vv = sp["data"]["vv"].as_str().unwrap().to_string();
    let host = vv
        .lines()
        .find_map(|l| l.strip_prefix("host="))
        .unwrap()
        .to_string();

    // A refresh: the bridge follows the new token (a sweep keeps it).
    let (st, r) = call("", "/api/v1/refresh", json!({"refresh_token": refresh}));
    assert_eq!(st, 200, "{r}");
    let access2 = r["data"]["access_token"].as_str().unwrap().to_string();
    let (st, _) = call(&access, "/api/v1/logout", json!({}));
    assert_eq!(st, 401, "the old token is gone already");
    ws_send(&mut ws, b"still here");
    assert_eq!(ws_data(&mut ws, 10), b"still here");
    assert_eq!(t.s.console_bridge_count(), 1);
    // The session's SPICE ticket opens the proxy while the session lives.
    drop(connect(&w, &format!("{host}:5900")).expect("admitted"));

    // Signing out (with the new token) ends the bridge and the session's
    // proxy ticket.
    let (st, _) = call(&access2, "/api/v1/logout", json!({}));
    assert_eq!(st, 200);
    let (op, p) = ws_read(&mut ws);
    assert_eq!((op, &p[..2]), (8, &1008u16.to_be_bytes()[..]), "{p:?}");
    refused(&w, &g, &format!("{host}:5900"), "unknown");
}

#[test]
fn a_spice_token_admits_one_sessions_channels_and_no_more() {
    let (t, g, uuid, w) = rig(spice_server());
    let c = t.ok("/api/v1/template/console", json!({"uuid": uuid}));
    let target = format!("{}:5900", ticket_host(&c));
    for _ in 0..vdi_appliance::service::console::SPICE_USES {
        let mut s = connect(&w, &target).expect("admitted");
        spice_link(&mut s);
    }
    refused(&w, &g, &target, "used up");
}

#[test]
fn a_node_serves_its_vms_graphics_only_to_its_controllers_token() {
    let r = Rig::build_with(
        Spec {
            nics: &[],
            route: None,
            mounts: &[],
        },
        |s| {
            s.membership = Some(Membership {
                controller: "http://127.0.0.1:1".into(),
                node_uuid: Uuid::new_v4(),
                credential: "cred".into(),
                control_token: "the-controllers-token".into(),
                controller_key: String::new(),
            })
        },
        |_| {},
    );
    let g = spice_server();
    *r.f.hypervisor.graphics_server.lock().unwrap() = Some(g.addr);
    let vm = Uuid::new_v4();
    smol::block_on(async {
        use vdi_appliance::host::Hypervisor;
        let xml = format!("<domain><uuid>{vm}</uuid><name>n</name><devices><graphics type='spice'/></devices></domain>");
        r.f.hypervisor.define(xml).await.unwrap();
        r.f.hypervisor
            .power(vm, vdi_appliance::host::PowerOp::Start)
            .await
            .unwrap();
    });
    let w = Wire::start(r.app.clone(), Limits::default());
    let client = Http {
        timeout: Duration::from_secs(10),
    };
    let peer = |token: &str| Peer {
        base: format!("http://127.0.0.1:{}", w.port),
        token: token.into(),
    };
    // The controller's real client, through the node's service.
    let s = smol::block_on(client.stream(&peer("the-controllers-token"), vm, Protocol::Spice))
        .expect("a tunnel");
    let mut s = smol::block_on(async move {
        use smol::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = s;
        let mut h = b"REDQ".to_vec();
        h.extend_from_slice(&2u32.to_le_bytes());
        h.extend_from_slice(&2u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        s.write_all(&h).await.unwrap();
        let mut back = [0u8; 16];
        s.read_exact(&mut back).await.unwrap();
        assert_eq!(&back[..4], b"REDQ");
        s
    });
    let _ = &mut s;
    assert_eq!(g.accepted.load(Ordering::SeqCst), 1);
    // Another token, a VM it does not run, VNC it does not have.
    let e = smol::block_on(client.stream(&peer("wrong"), vm, Protocol::Spice))
        .err()
        .unwrap();
    assert!(e.message.contains("controller's token"), "{}", e.message);
    let e = smol::block_on(client.stream(
        &peer("the-controllers-token"),
        Uuid::new_v4(),
        Protocol::Spice,
    ))
    .err()
    .unwrap();
    assert!(e.message.contains("not running"), "{}", e.message);
    let e = smol::block_on(client.stream(&peer("the-controllers-token"), vm, Protocol::Vnc))
        .err()
        .unwrap();
    assert!(e.message.contains("not running"), "{}", e.message);
    assert_eq!(g.accepted.load(Ordering::SeqCst), 1);
}
