//! Use cases, one file per resource, named `<resource>_<verb>`. Services see
//! domain types, the store and the host ports; never HTTP types.

pub mod admin;
pub mod auth;
pub mod bond;
pub mod console;
pub mod controller;
pub mod controller_init;
pub mod desktop;
pub mod group;
pub mod health;
pub mod hostnet;
pub mod image;
pub mod monitor;
pub mod network;
pub mod node;
pub mod oplog;
pub mod query;
pub mod resource_pool;
pub mod saga;
pub mod task;
pub mod template;
pub mod terminal;
pub mod terminal_login;
pub mod user;
pub mod wake;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::host::inventory::{HostInventory, HostStorage};
use crate::host::metrics::HostMetrics;
use crate::host::net::HostNet;
use crate::host::node_client::NodeClient;
use crate::host::remote::RemoteShell;
use crate::host::{Disks, Hypervisor, Notifier};
use crate::store::Store;

pub use crate::store::Table;
pub use query::{Answer, Listing, QueryEngine, Row};

/// Who is calling: the admin account (or `-`) and the client address.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub name: String,
    pub client: String,
}

impl Actor {
    pub fn anonymous(client: &str) -> Actor {
        Actor {
            name: "-".into(),
            client: client.into(),
        }
    }
}

/// Settings the services need from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Failed logins allowed per account before it is locked for a while.
    pub login_attempts: u32,
    pub login_lockout: Duration,
    /// How long a shutdown waits for running tasks.
    pub shutdown_grace: Duration,
    /// How long a network change that moved the management address waits
    /// for confirmation before it is rolled back.
    pub network_confirm: Duration,
    /// libvirt domain type: `kvm` on real hardware, `qemu` where only TCG works.
    pub domain_type: String,
    /// Versions of a template kept on disk (older ones are merged away).
    pub template_versions_keep: usize,
    /// How long a graceful stop waits before pulling the plug.
    pub vm_stop_timeout: Duration,
    /// Largest image or ISO upload accepted.
    pub upload_limit: u64,
    /// Where SPICE servers listen (always with a password), unless
    /// `spice_proxy` is on.
    pub spice_listen: String,
    /// SPICE reaches clients through the service's port; graphics servers
    /// listen on loopback only.
    pub spice_proxy: bool,
    /// How long a console ticket opens a SPICE session.
    pub spice_ticket_ttl: Duration,
    /// Desktops handled at once per node (start, stop, create).
    pub desktop_parallel: usize,
    /// How often the desktop reconciler polls libvirt.
    pub desktop_poll: Duration,
    /// Memory promised to desktops of a node, as a multiple of its RAM.
    pub memory_overcommit: f64,
    /// How long a terminal login lasts without use.
    pub terminal_session: Duration,
    /// Classroom terminals must call from the address they claim.
    pub terminal_source_check: bool,
    /// The rule for personal users' passwords (`user_password_min`).
    pub user_password: crate::domain::user::PasswordPolicy,
    /// How often this host is read.
    pub monitor_sample: Duration,
    /// How long monitoring history is kept.
    pub monitor_retention: Duration,
    /// How long history stays at 30-second resolution.
    pub monitor_full_res: Duration,
    /// How long a node may stay silent before it counts as down.
    pub monitor_down_after: Duration,
    /// How the controller reaches other servers (`node/check`, `node/add`).
    pub nodes: NodeSettings,
    /// Set when this service runs in compute role (its role file).
    pub membership: Option<crate::domain::node::Membership>,
    /// The whole configuration the service started with (read-only view).
    pub config: Vec<ConfigEntry>,
}

/// Joining other servers.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    /// The appliance command on another server, e.g.
    /// `vdi-appliance --config /etc/vdi-appliance/config.toml`.
    pub command: String,
    pub ssh_user: String,
    pub ssh_port: u16,
    pub ssh_timeout: Duration,
    /// How long `node/add` waits for the node's service to register.
    pub join_timeout: Duration,
    /// The port this service listens on (nodes are told to call it).
    pub listen_port: u16,
    /// How often a compute node sends a heartbeat.
    pub heartbeat: Duration,
    /// Commands this host runs for `node/shutdown` and `node/reboot`.
    pub shutdown_command: String,
    pub reboot_command: String,
}

impl Default for NodeSettings {
    fn default() -> Self {
        NodeSettings {
            command: "vdi-appliance --config /etc/vdi-appliance/config.toml".into(),
            ssh_user: "root".into(),
            ssh_port: 22,
            ssh_timeout: Duration::from_secs(10),
            join_timeout: Duration::from_secs(120),
            listen_port: 5000,
            heartbeat: Duration::from_secs(10),
            shutdown_command: "systemctl poweroff".into(),
            reboot_command: "systemctl reboot".into(),
        }
    }
}

impl Settings {
    pub fn for_dir(data_dir: PathBuf) -> Settings {
        Settings {
            data_dir,
            access_ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            login_attempts: 5,
            login_lockout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(20),
            network_confirm: Duration::from_secs(60),
            domain_type: "kvm".into(),
            template_versions_keep: 3,
            vm_stop_timeout: Duration::from_secs(60),
            upload_limit: 64 << 30,
            spice_listen: "0.0.0.0".into(),
            spice_proxy: true,
            spice_ticket_ttl: Duration::from_secs(60),
            desktop_parallel: 4,
            desktop_poll: Duration::from_secs(5),
            memory_overcommit: 1.0,
            terminal_session: Duration::from_secs(4 * 3600),
            terminal_source_check: true,
            user_password: Default::default(),
            monitor_sample: Duration::from_secs(5),
            monitor_retention: Duration::from_secs(8 * 86_400),
            monitor_full_res: Duration::from_secs(24 * 3600),
            monitor_down_after: Duration::from_secs(90),
            nodes: NodeSettings::default(),
            membership: None,
            config: Vec::new(),
        }
    }
}

/// One key of the running configuration, as `GET /api/v1/system/config`
/// shows it (values as TOML would write them).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigEntry {
    pub key: String,
    pub value: String,
    pub default: String,
    pub meaning: String,
}

/// The host ports the services run with (real adapters or fakes).
#[derive(Clone)]
pub struct Backends {
    pub hypervisor: Arc<dyn Hypervisor>,
    pub notifier: Arc<dyn Notifier>,
    pub net: Arc<dyn HostNet>,
    pub inventory: Arc<dyn HostInventory>,
    pub storage: Arc<dyn HostStorage>,
    pub disks: Arc<dyn Disks>,
    pub metrics: Arc<dyn HostMetrics>,
    pub remote: Arc<dyn RemoteShell>,
    pub node_client: Arc<dyn NodeClient>,
    pub power: Arc<dyn crate::host::power::Power>,
    pub fetch: Arc<dyn crate::host::fetch::Fetch>,
    pub accounts: Arc<dyn crate::host::accounts::Accounts>,
    pub clock: Arc<dyn crate::host::clock::Clock>,
    pub files: Arc<dyn crate::host::local_files::LocalFiles>,
}

pub struct Services {
    pub store: Arc<Store>,
    pub hypervisor: Arc<dyn Hypervisor>,
    pub notifier: Arc<dyn Notifier>,
    pub net: Arc<dyn HostNet>,
    pub inventory: Arc<dyn HostInventory>,
    pub storage: Arc<dyn HostStorage>,
    pub disks: Arc<dyn Disks>,
    pub metrics: Arc<dyn HostMetrics>,
    pub remote: Arc<dyn RemoteShell>,
    pub node_client: Arc<dyn NodeClient>,
    pub power: Arc<dyn crate::host::power::Power>,
    pub fetch: Arc<dyn crate::host::fetch::Fetch>,
    pub accounts: Arc<dyn crate::host::accounts::Accounts>,
    pub clock: Arc<dyn crate::host::clock::Clock>,
    pub files: Arc<dyn crate::host::local_files::LocalFiles>,
    pub settings: Settings,
    pub query: QueryEngine<Services>,
    pub(crate) auth: auth::AuthState,
    pub(crate) health: health::HealthState,
    pub(crate) tasks: task::TaskRuntime,
    /// One host-network change at a time.
    pub(crate) net_lock: smol::lock::Mutex<()>,
    /// A change that waits for confirmation, and the state to go back to.
    pub(crate) net_pending: std::sync::Mutex<Option<network::Pending>>,
    /// Live facts about this node (storage usage) and init's fault hook.
    pub(crate) node_state: node::NodeState,
    /// Checked servers, joins and removals running, registrations, heartbeats.
    pub(crate) join: node::join::JoinState,
    /// Saga failpoints by kind (tests).
    pub(crate) faults: saga::Faults,
    /// On a node: files being pulled from the controller. On the
    /// controller: the md5 of files already sent.
    pub(crate) pulls: node::pull::PullState,
    /// Templates with an operation running.
    pub(crate) template_busy: template::Busy,
    /// Storage held by each template disk, as last measured.
    pub(crate) template_usage: template::usage::DiskUsage,
    /// Desktops with an operation running.
    pub(crate) desktop_busy: template::Busy,
    /// Desktop groups with a group-wide operation running.
    pub(crate) desktop_group_busy: template::Busy,
    /// Console tokens, proxy tickets and open bridges.
    pub(crate) console: console::ConsoleState,
    /// Samplers and newest figures per node.
    pub(crate) monitor: monitor::MonitorState,
    /// Request and task counters for the Prometheus scrape.
    pub(crate) exporter: monitor::metrics::Exporter,
    started: Instant,
    stopping: AtomicBool,
}

impl Services {
    pub fn new(
        store: Arc<Store>,
        backends: &Backends,
        settings: Settings,
        query: QueryEngine<Services>,
        spawner: task::Spawner,
    ) -> Services {
        let b = backends.clone();
        let started = b.clock.instant();
        Services {
            store,
            hypervisor: b.hypervisor,
            notifier: b.notifier,
            net: b.net,
            inventory: b.inventory,
            storage: b.storage,
            disks: b.disks,
            metrics: b.metrics,
            remote: b.remote,
            node_client: b.node_client,
            power: b.power,
            fetch: b.fetch,
            accounts: b.accounts,
            clock: b.clock,
            files: b.files,
            pulls: node::pull::PullState::default(),
            join: node::join::JoinState::default(),
            faults: saga::Faults::default(),
            settings,
            node_state: node::NodeState::default(),
            template_busy: template::Busy::default(),
            template_usage: template::usage::DiskUsage::default(),
            desktop_busy: template::Busy::default(),
            desktop_group_busy: template::Busy::default(),
            console: console::ConsoleState::default(),
            monitor: monitor::MonitorState::default(),
            exporter: monitor::metrics::Exporter::default(),
            net_lock: smol::lock::Mutex::new(()),
            net_pending: std::sync::Mutex::new(None),
            query,
            auth: auth::AuthState::default(),
            health: health::HealthState::default(),
            tasks: task::TaskRuntime::new(spawner),
            started,
            stopping: AtomicBool::new(false),
        }
    }

    /// Changes whenever table `t` is written; query snapshots compare it.
    pub fn table_generation(&self, t: Table) -> u64 {
        self.store.generation(t)
    }

    /// One number that changes whenever one of `tables` changes: the cache
    /// key of a listing that joins them.
    pub fn tables_generation(&self, tables: &[Table]) -> u64 {
        tables.iter().fold(0, |acc: u64, t| {
            acc.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(self.table_generation(*t))
        })
    }

    pub fn uptime(&self) -> Duration {
        self.clock.instant().saturating_duration_since(self.started)
    }

    /// Now, on the service's clock (milliseconds since the epoch): every
    /// timestamp the service records is read here, so a test with the
    /// manual clock controls them all.
    pub fn now_ms(&self) -> crate::domain::clock::Millis {
        self.clock.now_ms()
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub fn begin_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}
