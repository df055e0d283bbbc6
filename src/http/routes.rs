//! The route table: every route the service answers, in one list that the
//! server, the auth wall, the operation log and OpenAPI all read (the
//! resources' half is `routes/resources.rs`).

use super::call::{Method, NodeProtocol, Route, SchemaFn, Validator};
use super::routes_doc::{self as doc, schema, with_async};
use super::{
    auth, bond, console, controller, desktop, group, image, internal, monitor, network, node,
    resource_pool, system, template, terminal, user,
};
use crate::api::auth::{
    AdminCreateReq, AdminNameReq, AdminUpdateReq, LoginReq, LogoutReq, RefreshReq, SetupAdminReq,
};
use crate::api::desktop as dk;
use crate::api::network as net;
use crate::api::resource_pool::{CreateReq, DeleteReq, UpdateReq, WebDeleteReq, WebPutReq};
use crate::api::template as tp;
use crate::api::terminal::*;
use crate::api::user as us;

macro_rules! h {
    ($f:path) => {
        |c| Box::pin($f(c))
    };
}

fn route(method: Method, path: &'static str, op: &'static str, summary: &'static str) -> Route {
    Route {
        method,
        path,
        op,
        summary,
        tag: op.split('/').next().unwrap_or(op),
        public: false,
        quiet: false,
        deprecated: false,
        asyncable: None,
        body: None,
        streaming: false,
        node_protocol: None,
        handler: h!(system::health),
    }
}

impl Route {
    fn public(mut self) -> Self {
        self.public = true;
        self
    }
    /// A read-only POST kept out of the operation log.
    fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }
    fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }
    fn asyncable(mut self, validate: Validator) -> Self {
        self.asyncable = Some(validate);
        self
    }
    fn body(mut self, s: Option<SchemaFn>) -> Self {
        self.body = s;
        self
    }
    fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }
    /// A message of the node protocol (`domain::cluster`).
    fn node_message(mut self, p: NodeProtocol) -> Self {
        self.node_protocol = Some(p);
        self
    }
    fn to(mut self, h: super::call::Handler) -> Self {
        self.handler = h;
        self
    }
}

/// The generic query route of one listing.
fn query(path: &'static str, op: &'static str, summary: &'static str) -> Route {
    route(Method::Get, path, op, summary).to(h!(system::query))
}

/// A handler that takes what the route names besides the call (a kind, a
/// verb as an enum): `run!(desktop::group_run, Kind::Personal, op)`.
macro_rules! run {
    ($f:path $(, $arg:expr)*) => {
        |c| Box::pin($f(c $(, $arg)*))
    };
}

/// A file 000 template verb: `POST /api/v1/template/<verb>` (each takes
/// `async`). Without a handler, the verb is one operation on one template
/// (`template::server_op`, told the verb by the route).
macro_rules! tpl {
    ($verb:literal, $summary:literal) => {
        tpl!(
            $verb,
            tp::OneReq,
            run!(template::server_op, $verb),
            $summary
        )
    };
    ($verb:literal, $body:ty, $handler:expr, $summary:literal) => {
        route(
            Method::Post,
            concat!("/api/v1/template/", $verb),
            concat!("template/", $verb),
            $summary,
        )
        .body(with_async::<$body>())
        .to($handler)
    };
}

/// A file 000 verb with a JSON body: `POST <base><verb>`, op `<ns>/<verb>`,
/// its body's schema given, its handler a `Handler` (`h!` or `run!`).
macro_rules! verb {
    ($base:literal, $ns:literal, $verb:literal, $handler:expr, $body:expr, $summary:literal) => {
        route(
            Method::Post,
            concat!($base, $verb),
            concat!($ns, "/", $verb),
            $summary,
        )
        .body($body)
        .to($handler)
    };
}

/// A public terminal call: `POST /api/v1/terminal/<verb>`.
macro_rules! term {
    ($verb:literal, $summary:literal, $handler:path, $body:ty) => {
        route(
            Method::Post,
            concat!("/api/v1/terminal/", $verb),
            concat!("terminal/", $verb),
            $summary,
        )
        .public()
        .body(schema::<$body>())
        .to(h!($handler))
    };
}

// The resources' routes (pools to the operation log), beside this file.
mod resources;

pub fn table() -> Vec<Route> {
    use Method::*;
    vec![
        // Public: health, OpenAPI, login, refresh, first-admin setup.
        route(
            Get,
            "/api/v1/health",
            "health/get",
            "Version, uptime, store state and libvirt reachability",
        )
        .public(),
        route(
            Get,
            "/api/openapi.json",
            "openapi/get",
            "This API's OpenAPI 3 description",
        )
        .public()
        .to(h!(super::openapi::get)),
        route(
            Post,
            "/api/v1/login",
            "auth/login",
            "Log in; returns an access and a refresh token",
        )
        .public()
        .body(schema::<LoginReq>())
        .to(h!(auth::login)),
        route(
            Post,
            "/api/v1/refresh",
            "auth/refresh",
            "Trade a refresh token for a new token pair",
        )
        .public()
        .body(schema::<RefreshReq>())
        .to(h!(auth::refresh)),
        route(
            Post,
            "/api/v1/setup/admin",
            "setup/admin",
            "Create the first admin with the one-time setup token",
        )
        .public()
        .body(schema::<SetupAdminReq>())
        .to(h!(auth::setup_admin)),
        route(
            Post,
            "/api/v1/setup/root_password",
            "setup/root_password",
            "Set this server's root password with the one-time setup token (to join it to a controller as a node)",
        )
        .public()
        .body(schema::<crate::api::auth::RootPasswordReq>())
        .to(run!(auth::root_password, true)),
        route(
            Post,
            "/api/v1/console/open",
            "console/open",
            "A token for the browser console of a running template or desktop (noVNC or spice-html5 over a WebSocket at `path`), valid 30 s, bound to this session",
        )
        .body(schema::<crate::api::console::OpenReq>())
        .to(h!(console::open)),
        route(
            Get,
            "/api/v1/console/ws/:id",
            "console/ws",
            "The console gateway: upgrade to a WebSocket with a token from console/open (the token is the credential)",
        )
        .public()
        .to(h!(console::ws_plain)),
        route(
            Post,
            "/api/v1/system/root_password",
            "system/root_password",
            "Set this server's root password (SSH; what node/check and node/add use on other servers)",
        )
        .body(schema::<crate::api::auth::RootPasswordReq>())
        .to(run!(auth::root_password, false)),
        route(
            Get,
            "/api/v1/setup/status",
            "setup/status",
            "Whether an admin exists and the controller is initialised (first-boot page)",
        )
        .public()
        .to(h!(controller::setup_status)),
        // First boot (file 000): initialise this server as the controller.
        route(
            Post,
            "/api/v1/controller/init",
            "controller/init",
            "Initialise this server as the controller: NICs, storage roles, default switch, network, subnet and pool (a task; `async` answers its id)",
        )
        .body(with_async::<crate::api::controller::InitReq>())
        .to(h!(controller::init)),
        route(
            Post,
            "/api/v1/node/check",
            "node/check",
            "Probe a server: hostname, NICs, virtualisation support, filesystems; another server over SSH with `root_pwd` (its host key is pinned for node/add)",
        )
        .body(schema::<crate::api::controller::CheckReq>())
        .to(h!(node::check)),
        route(
            Post,
            "/api/v1/node/add",
            "node/add",
            "Join a checked server as a compute node of a pool over SSH (a task with undo; `async` answers its id)",
        )
        .body(with_async::<crate::api::node::AddReq>())
        .to(h!(node::add)),
        route(
            Post,
            "/api/v1/node/delete",
            "node/delete",
            "Remove a compute node (refused while it hosts desktops or templates; `force` removes an unreachable one)",
        )
        .body(schema::<crate::api::node::NodeOpReq>())
        .to(h!(node::delete)),
        route(
            Post,
            "/api/v1/node/shutdown",
            "node/shutdown",
            "Power a node off (the controller only with `force`)",
        )
        .body(schema::<crate::api::node::NodeOpReq>())
        .to(h!(node::shutdown)),
        route(
            Post,
            "/api/v1/node/reboot",
            "node/reboot",
            "Reboot a node (the controller only with `force`)",
        )
        .body(schema::<crate::api::node::NodeOpReq>())
        .to(h!(node::reboot)),
        route(
            Post,
            "/api/v1/node/register",
            "node/register",
            "A joined node's service announces itself (its credential, not an admin token)",
        )
        .public()
        .quiet()
        .body(schema::<crate::api::node::RegisterReq>())
        .node_message(NodeProtocol::Required)
        .to(h!(node::register)),
        route(
            Post,
            "/api/v1/node/heartbeat",
            "node/heartbeat",
            "A joined node is alive (its credential, not an admin token)",
        )
        .public()
        .quiet()
        .body(schema::<crate::api::node::HeartbeatReq>())
        .node_message(NodeProtocol::Required)
        .to(h!(node::heartbeat)),
        route(
            Post,
            "/api/v1/internal/power",
            "internal/power",
            "On a compute node: its controller asks for shutdown or reboot (the controller's token)",
        )
        .public()
        .body(schema::<crate::domain::cluster::NodePowerReq>())
        .node_message(NodeProtocol::Required)
        .to(h!(node::internal_power)),
        route(
            Post,
            "/api/v1/internal/vm",
            "internal/vm",
            "On a compute node: one libvirt call from its controller (define, undefine, power, state, spice, update_device, list, states)",
        )
        .public()
        .quiet()
        .body(schema::<crate::domain::cluster::VmCall>())
        .node_message(NodeProtocol::Required)
        .to(h!(internal::vm)),
        route(
            Post,
            "/api/v1/internal/disk",
            "internal/disk",
            "On a compute node: one disk call from its controller (create, info, resize, convert, rebase, check, remove, rename, exists, mkdir, list_dir, md5)",
        )
        .public()
        .quiet()
        .body(schema::<crate::domain::cluster::DiskCall>())
        .node_message(NodeProtocol::Required)
        .to(h!(internal::disk)),
        route(
            Post,
            "/api/v1/internal/pull",
            "internal/pull",
            "On a compute node: start or follow the pull of a file from the controller (resumable, md5-verified)",
        )
        .public()
        .quiet()
        .body(schema::<crate::api::node::PullReq>())
        .node_message(NodeProtocol::Required)
        .to(h!(internal::pull)),
        route(
            Post,
            "/api/v1/internal/network",
            "internal/network",
            "On a compute node: the networks it must bridge (kept, and applied by its reconciler)",
        )
        .public()
        .body(schema::<crate::api::node::NetworkPushReq>())
        .node_message(NodeProtocol::Required)
        .to(h!(internal::network)),
        route(
            Get,
            "/api/v1/internal/file",
            "internal/file",
            "On the controller: a base image or template file for a node's pull (?node_uuid=&path=&offset=, the node's credential)",
        )
        .public()
        .quiet()
        .to(h!(internal::file)),
        query("/api/v1.0/node/", "node/query", "Query nodes with their inventory and NICs"),
        // Monitoring (file 000 "首页" and "监控管理"), history, overview, Prometheus.
        route(
            Post,
            "/api/v1/index/top_data",
            "index/top_data",
            "The dashboard's top-5 nodes by CPU, memory, desktop storage and management NIC over the last `statis_period` seconds",
        )
        .quiet()
        .body(schema::<crate::api::monitor::TopDataReq>())
        .to(h!(monitor::top_data)),
        route(
            Post,
            "/api/v1/node/report_monitor",
            "node/report_monitor",
            "A node pushes its 30-second figures (authenticated by the node's credential, not an admin token)",
        )
        .public()
        .quiet()
        .body(schema::<crate::api::monitor::ReportReq>())
        .node_message(NodeProtocol::Optional)
        .to(h!(monitor::report)),
        route(
            Post,
            "/api/v1/node/credential",
            "node/credential",
            "Make a new internal-API credential for a node (shown once; the old one stops working)",
        )
        .body(schema::<monitor::CredentialReq>())
        .to(h!(monitor::credential)),
        route(
            Get,
            "/api/v1.0/monitor/",
            "monitor/history",
            "A node's history of one figure: ?node_uuid=&metric=&device=&start=&end=&step=",
        )
        .to(h!(monitor::history)),
        route(
            Get,
            "/api/v1.0/monitor/overview",
            "monitor/overview",
            "Nodes up/down, desktops by state, vCPU and memory allocated against hardware, storage per role",
        )
        .to(h!(monitor::overview)),
        route(
            Get,
            "/metrics",
            "metrics",
            "Prometheus text exposition (scrape token or admin token)",
        )
        .public()
        .to(h!(monitor::metrics)),
        route(
            Post,
            "/api/v1/system/metrics_token",
            "system/metrics_token",
            "Make a new Prometheus scrape token (shown once; the old one stops working)",
        )
        .body(schema::<crate::api::fields::NoFields>())
        .to(h!(monitor::metrics_token)),
        query(
            "/api/v1.0/node_storage/",
            "node_storage/query",
            "Query storage mount points with roles and usage",
        ),
        route(
            Post,
            "/api/v1/logout",
            "auth/logout",
            "Revoke the calling session; `{\"all\": true}` revokes every session of the caller",
        )
        .body(schema::<LogoutReq>())
        .to(h!(auth::logout)),
        query(
            "/api/v1.0/admin/",
            "admin/query",
            "Query admin accounts: name, enabled, live sessions (never a password)",
        ),
        route(
            Post,
            "/api/v1/admin/create",
            "admin/create",
            "Create an admin account",
        )
        .body(schema::<AdminCreateReq>())
        .to(h!(auth::admin_create)),
        route(
            Post,
            "/api/v1/admin/update",
            "admin/update",
            "Change an admin's password or enable / disable it (not your own; the last enabled admin stays)",
        )
        .body(schema::<AdminUpdateReq>())
        .to(h!(auth::admin_update)),
        route(
            Post,
            "/api/v1/admin/delete",
            "admin/delete",
            "Delete an admin account and its sessions (not your own; the last enabled admin stays)",
        )
        .body(schema::<AdminNameReq>())
        .to(h!(auth::admin_delete)),
        route(
            Get,
            "/api/v1/system/config",
            "system/config",
            "The running configuration: every key with its value, default and meaning (read-only)",
        )
        .to(h!(system::config)),
    ]
    .into_iter()
    .chain(resources::table())
    .collect()
}
