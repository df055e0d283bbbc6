//! Consoles of virtual machines: the two graphics protocols, what a console
//! opens (a template or a desktop), and the names that route a tunnel on
//! the service's one port — a SPICE proxy ticket's host name (what a
//! remote-viewer `.vv` file names and sends in `CONNECT`) and the internal
//! name a controller uses to reach a VM's graphics on one of its servers.
//! A name says which VM, never which host or port.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// The graphics protocol of a console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Vnc,
    Spice,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Vnc => "vnc",
            Protocol::Spice => "spice",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "vnc" => Ok(Protocol::Vnc),
            "spice" => Ok(Protocol::Spice),
            _ => Err(()),
        }
    }
}

/// What a console opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Template,
    Desktop,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Template => "template",
            Target::Desktop => "desktop",
        }
    }
}

impl FromStr for Target {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "template" => Ok(Target::Template),
            "desktop" | "instance" => Ok(Target::Desktop),
            _ => Err(()),
        }
    }
}

/// The port a proxy ticket's host name goes with in a `.vv` file and in
/// `CONNECT`; any other port is refused (the name alone routes).
pub const PROXY_PORT: u16 = 5900;
/// The prefix of a proxy ticket's host name: `vdi-<ticket>`.
const PROXY_PREFIX: &str = "vdi-";
/// The suffix of the internal name: `<uuid>.<protocol>.vm`.
const INTERNAL_SUFFIX: &str = ".vm";

/// The host name a proxy ticket goes by.
pub fn proxy_host(ticket: &str) -> String {
    format!("{PROXY_PREFIX}{ticket}")
}

/// What a `CONNECT` authority names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authority {
    /// A SPICE proxy ticket (`vdi-<ticket>:5900`).
    Ticket(String),
    /// A controller asking one of its servers for a VM's graphics
    /// (`<uuid>.<protocol>.vm:0`, with the controller's token).
    Internal(Uuid, Protocol),
}

/// The internal authority for a VM's graphics.
pub fn internal_authority(vm: Uuid, p: Protocol) -> String {
    format!("{vm}.{p}{INTERNAL_SUFFIX}:0")
}

/// Reads a `CONNECT` target; `None` for anything that is not one of our
/// names with its port (an address, another port, a stray name).
pub fn parse_authority(target: &str) -> Option<Authority> {
    let (host, port) = target.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|_| port.len() <= 5)?;
    // The ticket keeps its case; the rest of a name does not matter.
    let lower = host.to_ascii_lowercase();
    if lower.starts_with(PROXY_PREFIX) {
        let t = &host[PROXY_PREFIX.len()..];
        let ok = port == PROXY_PORT
            && (16..=64).contains(&t.len())
            && t.bytes().all(|b| b.is_ascii_alphanumeric());
        return ok.then(|| Authority::Ticket(t.to_string()));
    }
    let rest = lower.strip_suffix(INTERNAL_SUFFIX)?;
    let (uuid, p) = rest.rsplit_once('.')?;
    if port != 0 {
        return None;
    }
    Some(Authority::Internal(
        Uuid::parse_str(uuid).ok()?,
        p.parse().ok()?,
    ))
}

/// A remote-viewer connection file. With `proxy` (`http://host:port`),
/// `host` is the ticket's name and the viewer sends `CONNECT` there.
pub fn vv_file(host: &str, port: u16, password: &str, title: &str, proxy: Option<&str>) -> String {
    let clean = |s: &str| s.replace(['\r', '\n'], " ");
    let mut vv = format!(
        "[virt-viewer]\ntype=spice\nhost={}\nport={port}\npassword={}\ntitle={}\ndelete-this-file=1\n",
        clean(host),
        clean(password),
        clean(title)
    );
    if let Some(p) = proxy {
        vv.push_str(&format!("proxy={}\n", clean(p)));
    }
    vv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_name_a_ticket_or_a_vm_never_a_host() {
        let t = "abcdefghijKLMNOP1234";
        assert_eq!(
            parse_authority(&format!("{}:5900", proxy_host(t))),
            Some(Authority::Ticket(t.into()))
        );
        // Another port, an address, a short or odd ticket.
        assert_eq!(parse_authority(&format!("{}:22", proxy_host(t))), None);
        assert_eq!(parse_authority("127.0.0.1:5900"), None);
        assert_eq!(parse_authority("10.0.0.1:22"), None);
        assert_eq!(parse_authority("vdi-short:5900"), None);
        assert_eq!(parse_authority("vdi-abcdefghijklmnop.x:5900"), None);
        assert_eq!(parse_authority("vdi-abcdefghijklmnop"), None);
        let u = Uuid::new_v4();
        let a = internal_authority(u, Protocol::Vnc);
        assert_eq!(
            parse_authority(&a),
            Some(Authority::Internal(u, Protocol::Vnc))
        );
        assert_eq!(parse_authority(&a.replace(":0", ":1")), None);
        assert_eq!(parse_authority(&format!("{u}.rdp.vm:0")), None);
        assert_eq!(parse_authority("localhost.spice.vm:0"), None);
    }

    #[test]
    fn vv_files_carry_the_proxy_and_no_injected_lines() {
        let vv = vv_file("vdi-x", 5900, "pw", "a\nproxy=evil", Some("http://h:5000"));
        assert!(vv.contains("host=vdi-x\nport=5900\n"), "{vv}");
        assert!(vv.ends_with("proxy=http://h:5000\n"), "{vv}");
        assert_eq!(vv.matches("proxy=").count(), 2, "title kept on its line");
        assert!(vv.contains("title=a proxy=evil\n"));
        assert!(!vv_file("h", 1, "p", "t", None).contains("proxy"));
    }
}
