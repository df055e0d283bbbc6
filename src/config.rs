//! Configuration: a TOML file (`--config`) whose every key a flag overrides,
//! validated before anything starts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::service::Settings;

#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `address:port` the API listens on.
    pub listen: String,
    pub data_dir: PathBuf,
    pub libvirt_uri: String,
    /// error, warn, info, debug or trace.
    pub log_level: String,
    pub access_token_ttl_s: u64,
    pub refresh_token_ttl_s: u64,
    pub login_attempts: u32,
    pub login_lockout_s: u64,
    pub shutdown_grace_s: u64,
    /// Seconds between libvirt reachability probes.
    pub libvirt_probe_s: u64,
    /// Seconds a network change that moved the management address waits
    /// for POST /api/v1/network/confirm before it is rolled back.
    pub network_confirm_s: u64,
    /// libvirt domain type: `kvm` on real hardware, `qemu` for TCG only.
    pub domain_type: String,
    /// Template versions kept on disk; older ones are merged away.
    pub template_versions_keep: u32,
    /// Seconds a graceful VM stop waits before pulling the plug.
    pub vm_stop_timeout_s: u64,
    /// Largest image or ISO upload accepted, in MiB.
    pub upload_limit_mb: u64,
    /// Address SPICE servers listen on (always with a password); with
    /// `spice_proxy` on, 127.0.0.1 whatever this says.
    pub spice_listen: String,
    /// Clients reach SPICE through the service's own port (`CONNECT`), and
    /// every graphics server listens on loopback only.
    pub spice_proxy: bool,
    /// Desktops started, stopped or made at once per node.
    pub desktop_parallel: u32,
    /// Seconds between polls of libvirt by the desktop reconciler.
    pub desktop_poll_s: u64,
    /// Memory promised to desktops of a node, as a multiple of its RAM.
    pub memory_overcommit: f64,
    /// Seconds a SPICE ticket (terminal or console) lets a client connect.
    pub spice_ticket_s: u64,
    /// Seconds a terminal login lasts without use (renewed on use).
    pub terminal_session_s: u64,
    /// Classroom terminals must call from the address they claim.
    pub terminal_source_check: bool,
    /// Fewest characters a personal user's password may have (1 to 128;
    /// at most 128). Admin passwords keep their own rule (8 to 128).
    pub user_password_min: u32,
    /// Seconds between readings of this host's figures.
    pub monitor_sample_s: u64,
    /// Days of monitoring history kept per node.
    pub monitor_retention_days: u64,
    /// Hours of history kept at 30-second resolution; older history is
    /// merged into 10-minute buckets.
    pub monitor_full_res_h: u64,
    /// Seconds without a report after which a node counts as down.
    pub monitor_down_after_s: u64,
    /// `address:port` of an extra listener serving only `GET /metrics`
    /// without a token (empty: none).
    pub metrics_listen: String,
    /// systemd-networkd's configuration directory: the links the appliance
    /// owns are marked unmanaged there (empty: networkd is not told).
    pub networkd_dir: String,
    /// The appliance command on other servers, run over SSH by node/check
    /// and node/add (`node-probe`, `node-join`, `node-leave` are appended).
    pub node_command: String,
    /// The account the controller logs in as on other servers.
    pub node_ssh_user: String,
    pub node_ssh_port: u16,
    /// Seconds for an SSH connection, handshake or command.
    pub node_ssh_timeout_s: u64,
    /// Seconds node/add waits for the joined node's service to register.
    pub node_join_timeout_s: u64,
    /// Seconds between a compute node's heartbeats to its controller.
    pub node_heartbeat_s: u64,
    /// What this host runs for node/shutdown and node/reboot.
    pub shutdown_command: String,
    pub reboot_command: String,
}

/// Root on the appliance keeps its data in /var/lib; anyone else in ./var.
fn default_data_dir() -> PathBuf {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false);
    if root {
        PathBuf::from("/var/lib/vdi-appliance")
    } else {
        PathBuf::from("./var")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "0.0.0.0:5000".into(),
            data_dir: default_data_dir(),
            libvirt_uri: "qemu:///system".into(),
            log_level: "info".into(),
            access_token_ttl_s: 3600,
            refresh_token_ttl_s: 7 * 24 * 3600,
            login_attempts: 5,
            login_lockout_s: 60,
            shutdown_grace_s: 20,
            libvirt_probe_s: 15,
            network_confirm_s: 60,
            domain_type: "kvm".into(),
            template_versions_keep: 3,
            vm_stop_timeout_s: 60,
            upload_limit_mb: 64 * 1024,
            spice_listen: "0.0.0.0".into(),
            spice_proxy: true,
            desktop_parallel: 4,
            desktop_poll_s: 5,
            memory_overcommit: 1.0,
            spice_ticket_s: 60,
            terminal_session_s: 4 * 3600,
            terminal_source_check: true,
            user_password_min: 1,
            monitor_sample_s: 5,
            monitor_retention_days: 8,
            monitor_full_res_h: 24,
            monitor_down_after_s: 90,
            metrics_listen: String::new(),
            networkd_dir: String::new(),
            node_command: "vdi-appliance --config /etc/vdi-appliance/config.toml".into(),
            node_ssh_user: "root".into(),
            node_ssh_port: 22,
            node_ssh_timeout_s: 10,
            node_join_timeout_s: 120,
            node_heartbeat_s: 10,
            shutdown_command: "systemctl poweroff".into(),
            reboot_command: "systemctl reboot".into(),
        }
    }
}

pub const FLAGS: &[(&str, &str)] = &[
    (
        "--config",
        "FILE             TOML configuration file; the flags below override its keys",
    ),
    ("--listen", "ADDR             listen (default 0.0.0.0:5000)"),
    (
        "--data-dir",
        "DIR            data_dir (default /var/lib/vdi-appliance as root, ./var otherwise)",
    ),
    (
        "--libvirt-uri",
        "URI         libvirt_uri (default qemu:///system)",
    ),
    (
        "--log-level",
        "LEVEL         log_level: error|warn|info|debug|trace (default info)",
    ),
    (
        "--access-token-ttl-s",
        "N   access_token_ttl_s (default 3600)",
    ),
    (
        "--refresh-token-ttl-s",
        "N  refresh_token_ttl_s (default 604800)",
    ),
    ("--login-attempts", "N        login_attempts (default 5)"),
    ("--login-lockout-s", "N       login_lockout_s (default 60)"),
    ("--shutdown-grace-s", "N      shutdown_grace_s (default 20)"),
    ("--libvirt-probe-s", "N       libvirt_probe_s (default 15)"),
    (
        "--network-confirm-s",
        "N     network_confirm_s (default 60)",
    ),
    (
        "--domain-type",
        "TYPE          domain_type: kvm|qemu (default kvm; qemu where only TCG works)",
    ),
    (
        "--template-versions-keep",
        "N  template_versions_keep (default 3)",
    ),
    (
        "--vm-stop-timeout-s",
        "N     vm_stop_timeout_s (default 60)",
    ),
    (
        "--upload-limit-mb",
        "N       upload_limit_mb (default 65536)",
    ),
    (
        "--desktop-parallel",
        "N      desktop_parallel: desktops handled at once per node (default 4)",
    ),
    (
        "--desktop-poll-s",
        "N        desktop_poll_s: seconds between desktop state polls (default 5)",
    ),
    (
        "--memory-overcommit",
        "X     memory_overcommit: desktop memory per node as a multiple of RAM (default 1.0)",
    ),
    (
        "--spice-ticket-s",
        "N        spice_ticket_s: seconds a SPICE ticket lets a client connect (default 60)",
    ),
    (
        "--terminal-session-s",
        "N    terminal_session_s: seconds a terminal login lasts unused (default 14400)",
    ),
    (
        "--spice-proxy",
        "BOOL         spice_proxy: SPICE through the service's port, graphics on loopback only (default true)",
    ),
    (
        "--terminal-source-check",
        "BOOL terminal_source_check: classroom terminals must call from the address they claim (default true)",
    ),
    (
        "--user-password-min",
        "N     user_password_min: fewest characters of a user's password, 1 to 128 (default 1)",
    ),
    (
        "--monitor-sample-s",
        "N      monitor_sample_s: seconds between readings of this host (default 5)",
    ),
    (
        "--monitor-retention-days",
        "N monitor_retention_days: days of monitoring history kept (default 8)",
    ),
    (
        "--monitor-full-res-h",
        "N    monitor_full_res_h: hours kept at 30 s resolution, then 10 min (default 24)",
    ),
    (
        "--monitor-down-after-s",
        "N  monitor_down_after_s: a node without a report this long is down (default 90)",
    ),
    (
        "--metrics-listen",
        "ADDR       metrics_listen: extra listener for GET /metrics without a token (default none)",
    ),
    (
        "--networkd-dir",
        "DIR          networkd_dir: mark the appliance's links unmanaged there (default none)",
    ),
    (
        "--node-command",
        "CMD          node_command: the appliance on other servers (default vdi-appliance --config /etc/vdi-appliance/config.toml)",
    ),
    ("--node-ssh-user", "USER        node_ssh_user (default root)"),
    ("--node-ssh-port", "N           node_ssh_port (default 22)"),
    ("--node-ssh-timeout-s", "N      node_ssh_timeout_s (default 10)"),
    (
        "--node-join-timeout-s",
        "N     node_join_timeout_s: wait for a joined node to register (default 120)",
    ),
    (
        "--node-heartbeat-s",
        "N        node_heartbeat_s: a compute node's heartbeat period (default 10)",
    ),
    (
        "--shutdown-command",
        "CMD      shutdown_command: run by node/shutdown (default systemctl poweroff)",
    ),
    (
        "--reboot-command",
        "CMD        reboot_command: run by node/reboot (default systemctl reboot)",
    ),
    (
        "--spice-listen",
        "ADDR         spice_listen (default 0.0.0.0; always with a password)",
    ),
];

fn boolean(name: &str, v: &str) -> Result<bool, String> {
    match v {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        v => Err(format!("{name}: `{v}` is not true or false")),
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| {
        format!(
            "{}: `{v}` is not a whole number",
            flag.trim_start_matches("--").replace('-', "_")
        )
    })
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Builds the configuration from `--config` (if given) and the flags,
    /// flags winning. Returns the arguments it did not consume.
    pub fn from_args(args: &[String]) -> Result<(Config, Vec<String>), String> {
        let mut cfg = Config::default();
        if let Some(i) = args.iter().position(|a| a == "--config") {
            let f = args.get(i + 1).ok_or("--config needs a file")?;
            cfg = Config::from_file(Path::new(f))?;
        }
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
            match a.as_str() {
                "--config" => {
                    val("--config")?;
                }
                "--listen" => cfg.listen = val(a)?,
                "--data-dir" => cfg.data_dir = PathBuf::from(val(a)?),
                "--libvirt-uri" => cfg.libvirt_uri = val(a)?,
                "--log-level" => cfg.log_level = val(a)?,
                "--access-token-ttl-s" => cfg.access_token_ttl_s = number(a, &val(a)?)?,
                "--refresh-token-ttl-s" => cfg.refresh_token_ttl_s = number(a, &val(a)?)?,
                "--login-attempts" => cfg.login_attempts = number(a, &val(a)?)?,
                "--login-lockout-s" => cfg.login_lockout_s = number(a, &val(a)?)?,
                "--shutdown-grace-s" => cfg.shutdown_grace_s = number(a, &val(a)?)?,
                "--libvirt-probe-s" => cfg.libvirt_probe_s = number(a, &val(a)?)?,
                "--network-confirm-s" => cfg.network_confirm_s = number(a, &val(a)?)?,
                "--domain-type" => cfg.domain_type = val(a)?,
                "--template-versions-keep" => cfg.template_versions_keep = number(a, &val(a)?)?,
                "--vm-stop-timeout-s" => cfg.vm_stop_timeout_s = number(a, &val(a)?)?,
                "--upload-limit-mb" => cfg.upload_limit_mb = number(a, &val(a)?)?,
                "--spice-listen" => cfg.spice_listen = val(a)?,
                "--desktop-parallel" => cfg.desktop_parallel = number(a, &val(a)?)?,
                "--desktop-poll-s" => cfg.desktop_poll_s = number(a, &val(a)?)?,
                "--spice-ticket-s" => cfg.spice_ticket_s = number(a, &val(a)?)?,
                "--terminal-session-s" => cfg.terminal_session_s = number(a, &val(a)?)?,
                "--user-password-min" => cfg.user_password_min = number(a, &val(a)?)?,
                "--monitor-sample-s" => cfg.monitor_sample_s = number(a, &val(a)?)?,
                "--monitor-retention-days" => cfg.monitor_retention_days = number(a, &val(a)?)?,
                "--monitor-full-res-h" => cfg.monitor_full_res_h = number(a, &val(a)?)?,
                "--monitor-down-after-s" => cfg.monitor_down_after_s = number(a, &val(a)?)?,
                "--metrics-listen" => cfg.metrics_listen = val(a)?,
                "--networkd-dir" => cfg.networkd_dir = val(a)?,
                "--node-command" => cfg.node_command = val(a)?,
                "--node-ssh-user" => cfg.node_ssh_user = val(a)?,
                "--node-ssh-port" => cfg.node_ssh_port = number(a, &val(a)?)?,
                "--node-ssh-timeout-s" => cfg.node_ssh_timeout_s = number(a, &val(a)?)?,
                "--node-join-timeout-s" => cfg.node_join_timeout_s = number(a, &val(a)?)?,
                "--node-heartbeat-s" => cfg.node_heartbeat_s = number(a, &val(a)?)?,
                "--shutdown-command" => cfg.shutdown_command = val(a)?,
                "--reboot-command" => cfg.reboot_command = val(a)?,
                "--terminal-source-check" => {
                    cfg.terminal_source_check = boolean("terminal_source_check", &val(a)?)?
                }
                "--spice-proxy" => cfg.spice_proxy = boolean("spice_proxy", &val(a)?)?,
                "--memory-overcommit" => {
                    cfg.memory_overcommit =
                        val(a)?.parse().map_err(|_| format!("{a}: not a number"))?
                }
                _ => rest.push(a.clone()),
            }
        }
        cfg.validate()?;
        Ok((cfg, rest))
    }

    pub fn validate(&self) -> Result<(), String> {
        self.listen
            .parse::<std::net::SocketAddr>()
            .map_err(|_| format!("listen: `{}` is not address:port", self.listen))?;
        if self.data_dir.as_os_str().is_empty() {
            return Err("data_dir: must not be empty".into());
        }
        if self.libvirt_uri.trim().is_empty() {
            return Err("libvirt_uri: must not be empty".into());
        }
        self.level()?;
        if self.access_token_ttl_s < 60 {
            return Err("access_token_ttl_s: must be at least 60".into());
        }
        if self.refresh_token_ttl_s < self.access_token_ttl_s {
            return Err("refresh_token_ttl_s: must be at least access_token_ttl_s".into());
        }
        if self.login_attempts == 0 {
            return Err("login_attempts: must be at least 1".into());
        }
        if self.network_confirm_s < 5 {
            return Err("network_confirm_s: must be at least 5".into());
        }
        if !matches!(self.domain_type.as_str(), "kvm" | "qemu") {
            return Err(format!(
                "domain_type: `{}` is not kvm or qemu",
                self.domain_type
            ));
        }
        if self.template_versions_keep == 0 {
            return Err("template_versions_keep: must be at least 1".into());
        }
        if self.spice_listen.parse::<std::net::IpAddr>().is_err() {
            return Err(format!(
                "spice_listen: `{}` is not an IP address",
                self.spice_listen
            ));
        }
        if self.upload_limit_mb == 0 {
            return Err("upload_limit_mb: must be at least 1".into());
        }
        if self.desktop_parallel == 0 || self.desktop_parallel > 64 {
            return Err("desktop_parallel: must be 1 to 64".into());
        }
        if !(1.0..=10.0).contains(&self.memory_overcommit) {
            return Err("memory_overcommit: must be 1.0 to 10.0".into());
        }
        if self.desktop_poll_s == 0 {
            return Err("desktop_poll_s: must be at least 1".into());
        }
        if !(10..=3600).contains(&self.spice_ticket_s) {
            return Err("spice_ticket_s: must be 10 to 3600".into());
        }
        if !(60..=7 * 24 * 3600).contains(&self.terminal_session_s) {
            return Err("terminal_session_s: must be 60 to 604800".into());
        }
        if !(1..=crate::domain::user::PASSWORD_MAX as u32).contains(&self.user_password_min) {
            return Err("user_password_min: must be 1 to 128".into());
        }
        if !(1..=30).contains(&self.monitor_sample_s) {
            return Err("monitor_sample_s: must be 1 to 30".into());
        }
        if !(1..=366).contains(&self.monitor_retention_days) {
            return Err("monitor_retention_days: must be 1 to 366".into());
        }
        if self.monitor_full_res_h == 0
            || self.monitor_full_res_h > self.monitor_retention_days * 24
        {
            return Err("monitor_full_res_h: must be 1 to monitor_retention_days × 24".into());
        }
        if !(1..=300).contains(&self.node_heartbeat_s) {
            return Err("node_heartbeat_s: must be 1 to 300".into());
        }
        if !(3..=3600).contains(&self.monitor_down_after_s)
            || self.monitor_down_after_s <= 2 * self.node_heartbeat_s
        {
            return Err(
                "monitor_down_after_s: must be 3 to 3600 and more than two node_heartbeat_s".into(),
            );
        }
        if self.node_command.trim().is_empty() {
            return Err("node_command: must not be empty".into());
        }
        if !(1..=600).contains(&self.node_ssh_timeout_s) {
            return Err("node_ssh_timeout_s: must be 1 to 600".into());
        }
        if !(5..=3600).contains(&self.node_join_timeout_s) {
            return Err("node_join_timeout_s: must be 5 to 3600".into());
        }
        if !self.metrics_listen.is_empty()
            && self.metrics_listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(format!(
                "metrics_listen: `{}` is not address:port",
                self.metrics_listen
            ));
        }
        if self.libvirt_probe_s == 0 {
            return Err("libvirt_probe_s: must be at least 1".into());
        }
        Ok(())
    }

    pub fn level(&self) -> Result<log::LevelFilter, String> {
        self.log_level.parse().map_err(|_| {
            format!(
                "log_level: `{}` is not one of error, warn, info, debug, trace",
                self.log_level
            )
        })
    }

    pub fn settings(&self) -> Settings {
        let mut s = Settings::for_dir(self.data_dir.clone());
        s.access_ttl = Duration::from_secs(self.access_token_ttl_s);
        s.refresh_ttl = Duration::from_secs(self.refresh_token_ttl_s);
        s.login_attempts = self.login_attempts;
        s.login_lockout = Duration::from_secs(self.login_lockout_s);
        s.shutdown_grace = Duration::from_secs(self.shutdown_grace_s);
        s.network_confirm = Duration::from_secs(self.network_confirm_s);
        s.domain_type = self.domain_type.clone();
        s.template_versions_keep = self.template_versions_keep as usize;
        s.vm_stop_timeout = Duration::from_secs(self.vm_stop_timeout_s);
        s.upload_limit = self.upload_limit_mb << 20;
        s.spice_listen = self.spice_listen.clone();
        s.spice_proxy = self.spice_proxy;
        s.desktop_parallel = self.desktop_parallel as usize;
        s.desktop_poll = Duration::from_secs(self.desktop_poll_s);
        s.memory_overcommit = self.memory_overcommit;
        s.spice_ticket_ttl = Duration::from_secs(self.spice_ticket_s);
        s.terminal_session = Duration::from_secs(self.terminal_session_s);
        s.monitor_sample = Duration::from_secs(self.monitor_sample_s);
        s.monitor_retention = Duration::from_secs(self.monitor_retention_days * 86_400);
        s.monitor_full_res = Duration::from_secs(self.monitor_full_res_h * 3600);
        s.monitor_down_after = Duration::from_secs(self.monitor_down_after_s);
        s.nodes = crate::service::NodeSettings {
            command: self.node_command.clone(),
            ssh_user: self.node_ssh_user.clone(),
            ssh_port: self.node_ssh_port,
            ssh_timeout: Duration::from_secs(self.node_ssh_timeout_s),
            join_timeout: Duration::from_secs(self.node_join_timeout_s),
            listen_port: self
                .listen
                .parse::<std::net::SocketAddr>()
                .map(|a| a.port())
                .unwrap_or(5000),
            heartbeat: Duration::from_secs(self.node_heartbeat_s),
            shutdown_command: self.shutdown_command.clone(),
            reboot_command: self.reboot_command.clone(),
        };
        s.terminal_source_check = self.terminal_source_check;
        s.user_password = crate::domain::user::PasswordPolicy {
            min: self.user_password_min as usize,
        };
        s.config = self.entries();
        s
    }

    /// Every key with its value and default, in file order, with what it
    /// means (for the console's read-only configuration page).
    pub fn entries(&self) -> Vec<crate::service::ConfigEntry> {
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let now = serde_json::to_value(self).unwrap_or_default();
        let def = serde_json::to_value(Config::default()).unwrap_or_default();
        MEANINGS
            .iter()
            .map(|(key, meaning)| crate::service::ConfigEntry {
                key: key.to_string(),
                value: now.get(key).map(text).unwrap_or_default(),
                default: def.get(key).map(text).unwrap_or_default(),
                meaning: meaning.to_string(),
            })
            .collect()
    }
}

/// What each key means, in the order of the shipped config file.
pub const MEANINGS: &[(&str, &str)] = &[
    ("listen", "Address and port the API and the console listen on"),
    ("data_dir", "Where the store (sled) and the setup token live"),
    ("libvirt_uri", "The libvirt connection desktops and templates run on"),
    ("log_level", "How much the service logs: error, warn, info, debug or trace"),
    ("access_token_ttl_s", "Seconds an admin access token lasts"),
    ("refresh_token_ttl_s", "Seconds an admin refresh token lasts (how long a sign-in lasts unused)"),
    ("login_attempts", "Failed logins allowed per account before it is locked for a while"),
    ("login_lockout_s", "Seconds an account stays locked after too many failed logins"),
    ("shutdown_grace_s", "Seconds the service waits for running calls when it stops"),
    ("libvirt_probe_s", "Seconds between libvirt reachability probes"),
    ("network_confirm_s", "Seconds a change that moved the management address waits for confirmation before it is rolled back"),
    ("domain_type", "libvirt domain type: kvm on real hardware, qemu where only emulation works"),
    ("template_versions_keep", "Template versions kept on disk; older ones are merged away"),
    ("vm_stop_timeout_s", "Seconds a graceful VM stop waits before pulling the plug"),
    ("upload_limit_mb", "Largest image or ISO upload accepted, in MiB"),
    ("spice_listen", "Address SPICE servers listen on (always with a password); 127.0.0.1 with spice_proxy on"),
    ("spice_proxy", "SPICE through the service's own port (CONNECT); graphics servers listen on loopback only"),
    ("desktop_parallel", "Desktops started, stopped or made at once per server"),
    ("desktop_poll_s", "Seconds between polls of libvirt by the desktop reconciler"),
    ("memory_overcommit", "Memory promised to desktops of a server, as a multiple of its RAM"),
    ("spice_ticket_s", "Seconds a SPICE ticket lets a client connect"),
    ("terminal_session_s", "Seconds a terminal login lasts without use"),
    ("terminal_source_check", "Classroom terminals must call from the address they claim"),
    ("user_password_min", "Fewest characters of a desktop user's password"),
    ("monitor_sample_s", "Seconds between readings of this server's figures"),
    ("monitor_retention_days", "Days of monitoring history kept per server"),
    ("monitor_full_res_h", "Hours of history kept at 30-second resolution; older history is kept in 10-minute buckets"),
    ("monitor_down_after_s", "Seconds without a report after which a server counts as down"),
    ("metrics_listen", "An extra listener serving only GET /metrics without a token (empty: none)"),
    ("networkd_dir", "systemd-networkd's directory where the appliance's links are marked unmanaged (empty: none)"),
    ("node_command", "The appliance command run over SSH on other servers"),
    ("node_ssh_user", "The account the controller logs in as on other servers"),
    ("node_ssh_port", "The SSH port of other servers"),
    ("node_ssh_timeout_s", "Seconds for an SSH connection, handshake or command"),
    ("node_join_timeout_s", "Seconds joining waits for the new server's service to register"),
    ("node_heartbeat_s", "Seconds between a joined server's heartbeats"),
    ("shutdown_command", "What this server runs to power off"),
    ("reboot_command", "What this server runs to reboot"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:7000\"\nlog_level = \"debug\"\n").unwrap();
        let (c, rest) = Config::from_args(&args(&[
            "--config",
            f.to_str().unwrap(),
            "--listen",
            "127.0.0.1:7001",
            "x",
        ]))
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:7001");
        assert_eq!(c.log_level, "debug");
        assert_eq!(rest, ["x"]);
    }

    #[test]
    fn every_key_has_a_meaning() {
        let keys = serde_json::to_value(Config::default()).unwrap();
        let keys: Vec<&String> = keys.as_object().unwrap().keys().collect();
        for k in &keys {
            assert!(
                MEANINGS.iter().any(|(m, _)| m == k),
                "key `{k}` has no meaning"
            );
        }
        assert_eq!(MEANINGS.len(), keys.len(), "a meaning names no key");
        let e = Config::default().entries();
        let listen = e.iter().find(|x| x.key == "listen").unwrap();
        assert_eq!(
            (listen.value.as_str(), listen.default.as_str()),
            ("0.0.0.0:5000", "0.0.0.0:5000")
        );
    }

    #[test]
    fn every_key_has_a_flag() {
        let (c, _) = Config::from_args(&args(&[
            "--access-token-ttl-s",
            "120",
            "--refresh-token-ttl-s",
            "240",
            "--login-attempts",
            "3",
            "--login-lockout-s",
            "9",
            "--shutdown-grace-s",
            "4",
            "--libvirt-probe-s",
            "2",
        ]))
        .unwrap();
        assert_eq!(
            (
                c.access_token_ttl_s,
                c.refresh_token_ttl_s,
                c.login_attempts,
                c.login_lockout_s,
                c.shutdown_grace_s,
                c.libvirt_probe_s
            ),
            (120, 240, 3, 9, 4, 2)
        );
        let (c, _) = Config::from_args(&args(&["--user-password-min", "6"])).unwrap();
        assert_eq!(c.settings().user_password.min, 6);
        assert!(Config::from_args(&args(&["--user-password-min", "0"]))
            .unwrap_err()
            .starts_with("user_password_min"));
        assert!(Config::from_args(&args(&["--user-password-min", "129"]))
            .unwrap_err()
            .starts_with("user_password_min"));
        assert!(Config::from_args(&args(&["--login-attempts", "many"]))
            .unwrap_err()
            .starts_with("login_attempts"));
        // Every key of the TOML file is listed among the flags.
        let keys = toml::to_string(&Config::default()).unwrap();
        for line in keys.lines() {
            let key = line.split(" = ").next().unwrap();
            let flag = format!("--{}", key.replace('_', "-"));
            assert!(FLAGS.iter().any(|(f, _)| *f == flag), "no flag for `{key}`");
        }
    }

    #[test]
    fn bad_values_name_the_key() {
        assert!(Config::from_args(&args(&["--listen", "nowhere"]))
            .unwrap_err()
            .starts_with("listen"));
        assert!(Config::from_args(&args(&["--log-level", "loud"]))
            .unwrap_err()
            .starts_with("log_level"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "colour = 1\n").unwrap();
        assert!(Config::from_args(&args(&["--config", f.to_str().unwrap()]))
            .unwrap_err()
            .contains("colour"));
    }
}

#[cfg(test)]
mod shipped {
    #[test]
    fn the_shipped_config_file_is_valid_and_matches_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/config.toml");
        let c = super::Config::from_file(std::path::Path::new(path)).unwrap();
        c.validate().unwrap();
        let d = super::Config::default();
        assert_eq!(
            (c.listen.as_str(), c.libvirt_uri.as_str()),
            (d.listen.as_str(), d.libvirt_uri.as_str())
        );
        assert_eq!(
            c.data_dir,
            std::path::PathBuf::from("/var/lib/vdi-appliance")
        );
        assert_eq!(
            (c.access_token_ttl_s, c.login_attempts, c.user_password_min),
            (d.access_token_ttl_s, d.login_attempts, d.user_password_min)
        );
    }
}
