//! The route table: every route the service answers, in one list that the
//! server, the auth wall, the operation log and OpenAPI all read.

use schemars::gen::SchemaGenerator;
use schemars::schema::Schema;
use schemars::JsonSchema;

use super::call::{Method, Route, SchemaFn, Validator};
use super::{auth, bond, controller, network, resource_pool, system};
use crate::api::auth::{LoginReq, RefreshReq, SetupAdminReq};
use crate::api::network as net;
use crate::api::resource_pool::{CreateReq, DeleteReq, UpdateReq, WebDeleteReq, WebPutReq};

macro_rules! h {
    ($f:path) => {
        |c| Box::pin($f(c))
    };
}

fn schema<T: JsonSchema>() -> Option<SchemaFn> {
    Some(|g: &mut SchemaGenerator| -> Schema { g.subschema_for::<T>() })
}

fn route(method: Method, path: &'static str, op: &'static str, summary: &'static str) -> Route {
    Route {
        method,
        path,
        op,
        summary,
        tag: op.split('/').next().unwrap_or(op),
        public: false,
        deprecated: false,
        asyncable: None,
        body: None,
        handler: h!(system::health),
    }
}

impl Route {
    fn public(mut self) -> Self {
        self.public = true;
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
    fn to(mut self, h: super::call::Handler) -> Self {
        self.handler = h;
        self
    }
}

/// The generic query route of one listing.
fn query(path: &'static str, op: &'static str, summary: &'static str) -> Route {
    route(Method::Get, path, op, summary).to(h!(system::query))
}

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
        .body(schema::<crate::api::controller::InitReq>())
        .to(h!(controller::init)),
        route(
            Post,
            "/api/v1/node/check",
            "node/check",
            "Probe a server: hostname, NICs, virtualisation support, filesystems (this host only until joining exists)",
        )
        .body(schema::<crate::api::controller::CheckReq>())
        .to(h!(controller::node_check)),
        query("/api/v1.0/node/", "node/query", "Query nodes with their inventory and NICs"),
        query(
            "/api/v1.0/node_storage/",
            "node_storage/query",
            "Query storage mount points with roles and usage",
        ),
        route(
            Post,
            "/api/v1/logout",
            "auth/logout",
            "Revoke the calling session",
        )
        .to(h!(auth::logout)),
        // Resource pools, server dialect (file 000).
        route(
            Post,
            "/api/v1/resource_pool/create",
            "resource_pool/create",
            "Create a resource pool",
        )
        .asyncable(crate::api::resource_pool::check_create)
        .body(schema::<CreateReq>())
        .to(h!(resource_pool::create)),
        route(
            Post,
            "/api/v1/resource_pool/delete",
            "resource_pool/delete",
            "Delete a resource pool",
        )
        .asyncable(crate::api::resource_pool::check_delete)
        .body(schema::<DeleteReq>())
        .to(h!(resource_pool::delete)),
        route(
            Post,
            "/api/v1/resource_pool/update",
            "resource_pool/update",
            "Rename, describe or make default a resource pool",
        )
        .asyncable(crate::api::resource_pool::check_update)
        .body(schema::<UpdateReq>())
        .to(h!(resource_pool::update)),
        // Resource pools, web dialect (file 001 conventions).
        query(
            "/api/v1.0/resource_pool/",
            "resource_pool/query",
            "Query resource pools (searchtype, filters, paging)",
        ),
        route(
            Post,
            "/api/v1.0/resource_pool/",
            "resource_pool/action",
            "Resource-pool action (`create`)",
        )
        .body(schema::<resource_pool::WebPost>())
        .to(h!(resource_pool::web_post)),
        route(
            Put,
            "/api/v1.0/resource_pool/",
            "resource_pool/put",
            "Update a resource pool",
        )
        .body(schema::<WebPutReq>())
        .to(h!(resource_pool::web_put)),
        route(
            Delete,
            "/api/v1.0/resource_pool/",
            "resource_pool/batch_delete",
            "Delete resource pools (batch)",
        )
        .body(schema::<WebDeleteReq>())
        .to(h!(resource_pool::web_delete)),
        // Virtual switches, networks and subnets (file 000 "网络接口").
        route(
            Post,
            "/api/v1/vswitch/create",
            "vswitch/create",
            "Create a virtual switch with uplinks per node",
        )
        .body(schema::<net::VSwitchCreateReq>())
        .to(h!(network::vswitch_create)),
        route(
            Post,
            "/api/v1/vswitch/update",
            "vswitch/update",
            "Rename, retype, describe or re-uplink a virtual switch",
        )
        .body(schema::<net::VSwitchUpdateReq>())
        .to(h!(network::vswitch_update)),
        route(
            Post,
            "/api/v1/vswitch/delete",
            "vswitch/delete",
            "Delete a virtual switch without networks",
        )
        .body(schema::<net::UuidReq>())
        .to(h!(network::vswitch_delete)),
        route(
            Post,
            "/api/v1/network/create",
            "network/create",
            "Create a data network (and its first subnet); bridges it on every node",
        )
        .body(schema::<net::NetworkCreateReq>())
        .to(h!(network::network_create)),
        route(
            Post,
            "/api/v1/network/update",
            "network/update",
            "Rename a network, or update a subnet when given a subnet uuid",
        )
        .body(schema::<net::UpdateReq>())
        .to(h!(network::network_update)),
        route(
            Post,
            "/api/v1/network/delete",
            "network/delete",
            "Delete a network: bridges, then subnets, then the network",
        )
        .body(schema::<net::UuidReq>())
        .to(h!(network::network_delete)),
        route(
            Post,
            "/api/v1/network/init",
            "network/init",
            "Deprecated (use controller/init): default switch, network and subnet",
        )
        .deprecated()
        .body(schema::<net::NetworkInitReq>())
        .to(h!(network::network_init)),
        route(
            Post,
            "/api/v1/network/confirm",
            "network/confirm",
            "Confirm a change that moved the management address",
        )
        .body(schema::<net::ConfirmReq>())
        .to(h!(network::network_confirm)),
        route(
            Post,
            "/api/v1/subnet/create",
            "subnet/create",
            "Add a subnet (IP pool) to a network",
        )
        .body(schema::<net::SubnetCreateReq>())
        .to(h!(network::subnet_create)),
        route(
            Post,
            "/api/v1/subnet/update",
            "subnet/update",
            "Update a subnet",
        )
        .body(schema::<net::UpdateReq>())
        .to(h!(network::subnet_update)),
        route(
            Post,
            "/api/v1/subnet/delete",
            "subnet/delete",
            "Delete a subnet without allocated addresses",
        )
        .body(schema::<net::UuidReq>())
        .to(h!(network::subnet_delete)),
        route(
            Post,
            "/api/v1/node/add_bond",
            "node/add_bond",
            "Bond NICs of a node; their addresses move to the bond",
        )
        .body(schema::<crate::api::bond::BondReq>())
        .to(h!(bond::add_bond)),
        route(
            Post,
            "/api/v1/node/edit_bond",
            "node/edit_bond",
            "Change a bond's mode, slaves or addresses",
        )
        .body(schema::<crate::api::bond::BondReq>())
        .to(h!(bond::edit_bond)),
        route(
            Post,
            "/api/v1/node/unbond",
            "node/unbond",
            "Remove a bond; its slaves get their addresses back",
        )
        .body(schema::<crate::api::bond::UnbondReq>())
        .to(h!(bond::unbond)),
        query("/api/v1.0/bond/", "bond/query", "Query bonds"),
        query(
            "/api/v1.0/vswitch/",
            "vswitch/query",
            "Query virtual switches",
        ),
        query("/api/v1.0/network/", "network/query", "Query data networks"),
        query("/api/v1.0/subnet/", "subnet/query", "Query subnets"),
        query("/api/v1.0/node_nic/", "node_nic/query", "Query node NICs"),
        // Tasks and the operation log.
        route(
            Get,
            "/api/v1/task/:id",
            "task/get",
            "One task: state, percent, log, error, result",
        )
        .to(h!(system::task_get)),
        query("/api/v1.0/task/", "task/query", "Query tasks"),
        query(
            "/api/v1.0/operation_log/",
            "operation_log/query",
            "Query the operation log",
        ),
    ]
}
