//! A terminal behind NAT opens its desktop through the SPICE proxy: the
//! terminal sits in a network namespace of its own (10.213.41.2) behind a
//! router namespace that masquerades it (to 10.213.40.2); the service
//! listens on the host side (10.213.40.1). The terminal reaches only that
//! one address and port: it logs in, opens its desktop, and completes the
//! SPICE link handshake with QEMU through `CONNECT` to the `spice_proxy`
//! the reply names; the VM's own SPICE port is not reachable.

use crate::common;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

use common::real::{real_libvirt, virsh};
use common::tunnel::{connect_stream, spice_link};
use common::wire::{read_response, Wire};
use serde_json::{json, Value};
use vdi_appliance::http::server::Limits;

const ROUTER: &str = "vdi-nat-r";
const TERMINAL: &str = "vdi-nat-t";
const SERVICE: &str = "10.213.40.1";
const NATTED: &str = "10.213.40.2";

fn ip(args: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ip {args}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The router and the terminal's namespaces; removed (with their links)
/// when dropped.
struct Nat;

impl Nat {
    fn make() -> Nat {
        drop(Nat);
        let n = Nat;
        ip(&format!("netns add {ROUTER}"));
        ip(&format!("netns add {TERMINAL}"));
        // Host ↔ router.
        ip(&format!(
            "link add vdinat-h type veth peer name vdinat-r0 netns {ROUTER}"
        ));
        ip(&format!("addr add {SERVICE}/24 dev vdinat-h"));
        ip("link set vdinat-h up");
        let r = format!("netns exec {ROUTER} ip");
        ip(&format!("{r} addr add {NATTED}/24 dev vdinat-r0"));
        ip(&format!("{r} link set vdinat-r0 up"));
        ip(&format!("{r} link set lo up"));
        // Router ↔ terminal.
        ip(&format!(
            "{r} link add vdinat-r1 type veth peer name vdinat-t netns {TERMINAL}"
        ));
        ip(&format!("{r} addr add 10.213.41.1/24 dev vdinat-r1"));
        ip(&format!("{r} link set vdinat-r1 up"));
        let t = format!("netns exec {TERMINAL} ip");
        ip(&format!("{t} addr add 10.213.41.2/24 dev vdinat-t"));
        ip(&format!("{t} link set vdinat-t up"));
        ip(&format!("{t} link set lo up"));
        ip(&format!("{t} route add default via 10.213.41.1"));
        // The router forwards and masquerades the LAN.
        ip(&format!(
            "netns exec {ROUTER} sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'"
        ));
        ip(&format!(
            "netns exec {ROUTER} iptables -t nat -A POSTROUTING -s 10.213.41.0/24 -o vdinat-r0 -j MASQUERADE"
        ));
        n
    }
}

impl Drop for Nat {
    fn drop(&mut self) {
        for ns in [TERMINAL, ROUTER] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = Command::new("ip")
            .args(["link", "del", "vdinat-h"])
            .output();
    }
}

/// Runs `f` on a thread whose sockets live in the terminal's namespace.
fn in_terminal<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        let ns = std::fs::File::open(format!("/run/netns/{TERMINAL}")).unwrap();
        // SAFETY: setns on this thread only, with a namespace file we hold open.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .unwrap()
}

/// A terminal call over the wire, as a thin client sends it.
fn post(addr: &str, path: &str, body: Value) -> Value {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let b = body.to_string();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
        b.len()
    )
    .unwrap();
    let v = read_response(&mut BufReader::new(s), false).unwrap().json();
    assert_eq!(v["code"], 0, "{path} {b} -> {v}");
    v["data"].clone()
}

#[test]
fn a_terminal_behind_nat_opens_its_desktop_through_the_proxy() {
    let (_sweep, dir, r) = real_libvirt("vdi-nat");
    let pool = super::terminal::alice_and_a_pool(&r, dir.path());
    let nat = Nat::make();
    let w = Wire::start_on(r.web.clone(), Limits::default(), &format!("{SERVICE}:0"));
    let service = format!("{SERVICE}:{}", w.port);

    let reply = in_terminal(move || {
        let login = post(
            &service,
            "/api/v1/terminal/personal/login",
            json!({"username": "alice", "password": "secret1", "mac": "52:54:00:12:34:99"}),
        );
        let reply = post(
            &service,
            "/api/v1/terminal/personal/instance",
            json!({"session_id": login["session_id"], "desktop_uuid": pool}),
        );
        // The proxy the reply names is the address the terminal used.
        let proxy = reply["spice_proxy"].as_str().unwrap().to_string();
        assert_eq!(proxy, format!("http://{service}"));
        let target = format!(
            "{}:{}",
            reply["spice_host"].as_str().unwrap(),
            reply["spice_port"]
        );
        let mut s = connect_stream(proxy.strip_prefix("http://").unwrap(), &target)
            .expect("the proxy admits the ticket");
        spice_link(&mut s);
        reply
    });
    // The service saw the router's address, not the terminal's.
    let log = r.get("/api/v1.0/operation_log/?searchtype=all&page_size=200");
    let opened: Vec<&Value> = log["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "console/open")
        .collect();
    assert_eq!(opened.len(), 1, "{log}");
    assert_eq!(opened[0]["client"], NATTED, "{}", opened[0]);
    // The VM's SPICE server listens on loopback only: from the terminal's
    // side only the service's port answers.
    let desktop = reply["uuid"].as_str().unwrap().to_string();
    let (_, xml) = virsh(&["dumpxml", &desktop]);
    let port: u16 = xml
        .split("<graphics type='spice' port='")
        .nth(1)
        .and_then(|x| x.split('\'').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{xml}"));
    let reached = in_terminal(move || {
        TcpStream::connect_timeout(
            &format!("{SERVICE}:{port}").parse().unwrap(),
            Duration::from_secs(3),
        )
        .is_ok()
    });
    assert!(
        !reached,
        "the VM's SPICE port {port} answered from behind the NAT"
    );
    drop(w);
    drop(nat);
}
