//! Nodes over HTTP: `node/check` (this host, or another server over SSH),
//! `node/add` (a task; `"async": true` answers its id), `node/delete`,
//! `node/shutdown`, `node/reboot`, and the calls joined nodes make
//! (`node/register`, `node/heartbeat`) or receive (`internal/power`).

use serde_json::json;

use super::call::{Call, Reply};
use crate::api::controller::{default_network_view, probe_view, CheckReq};
use crate::api::node::{AddReq, HeartbeatReq, NodeOpReq, RegisterReq};
use crate::domain::cluster::{NodePowerReq, Registered};
use crate::error::{Error, Result};
use crate::service::node::join::AddSpec;
use crate::service::node::remote::NodePower;

pub async fn check(c: Call) -> Result<Reply> {
    let req: CheckReq = c.json()?;
    let strict = req.strict()?;
    let ip = crate::domain::ipv4::addr("ip", &req.ip)?;
    let default = c.services.controller_default_network()?;
    let default = default_network_view(default.as_ref().map(|(s, n)| (s, n)));
    if c.services.node_is_local(ip).await? {
        let probe = c.services.node_check(ip).await?;
        if strict && !probe.virt.supported() {
            return Err(Error::new(
                crate::error::Code::VirtUnsupported,
                format!(
                    "{} cannot run virtual machines: {}",
                    probe.hostname,
                    probe.virt.missing().join("; ")
                ),
            ));
        }
        return Ok(Reply::data(probe_view(&probe, default)).on(req.ip));
    }
    let password = req
        .root_pwd
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            Error::invalid("root_pwd", "is required to check another server over SSH")
        })?;
    let r = c.services.node_check_remote(ip, password, strict).await?;
    let mut view = probe_view(&r.wire.probe(), default);
    view["host_key"] = json!(r.host_key);
    view["version"] = json!(r.wire.version);
    view["service"] = match &r.wire.service {
        Ok(s) => json!({"running": true, "role": s.role, "port": s.listen_port}),
        Err(e) => json!({"running": false, "error": e}),
    };
    view["role_paths"] = r
        .role_paths
        .iter()
        .map(|p| json!({"path": p.path, "roles": p.roles, "present": p.present}))
        .collect();
    Ok(Reply::data(view).on(req.ip))
}

use crate::api::fields::uuid;

pub async fn add(c: Call) -> Result<Reply> {
    let req: AddReq = c.json()?;
    let ip = crate::domain::ipv4::addr("ip", &req.ip)?;
    for (field, v) in [
        ("interface", &req.interface),
        ("manage_interface", &req.manage_interface),
        ("image_interface", &req.image_interface),
    ] {
        crate::domain::net::check_ifname(field, v)?;
    }
    if req.password.is_empty() {
        return Err(Error::invalid("password", "must not be empty"));
    }
    let spec = AddSpec {
        ip,
        password: req.password,
        pool: uuid("pool_uuid", &req.pool_uuid)?,
        network: uuid("network_uuid", &req.network_uuid)?,
        switch: uuid("switch_uuid", &req.switch_uuid)?,
        interface: req.interface,
        manage_interface: req.manage_interface,
        image_interface: req.image_interface,
    };
    let (target, r) = c
        .services
        .node_add_task(&c.actor, spec, !c.wants_async)
        .await?;
    Ok(Reply::ran(r).on(target))
}

pub async fn delete(c: Call) -> Result<Reply> {
    let req: NodeOpReq = c.json()?;
    let n = c
        .services
        .node_delete(&c.actor, &uuid("uuid", &req.uuid)?, req.force)
        .await?;
    Ok(Reply::data(json!({"uuid": n.uuid.to_string(), "name": n.name})).on(n.name))
}

async fn power(c: Call, op: NodePower) -> Result<Reply> {
    let req: NodeOpReq = c.json()?;
    let n = c
        .services
        .node_power(&uuid("uuid", &req.uuid)?, op, req.force)
        .await?;
    Ok(
        Reply::data(json!({"uuid": n.uuid.to_string(), "name": n.name, "op": op.as_str()}))
            .on(n.name),
    )
}

pub async fn shutdown(c: Call) -> Result<Reply> {
    power(c, NodePower::Shutdown).await
}

pub async fn reboot(c: Call) -> Result<Reply> {
    power(c, NodePower::Reboot).await
}

pub async fn register(c: Call) -> Result<Reply> {
    let req: RegisterReq = c.json()?;
    let node = req.node_uuid;
    c.services.node_register(c.token.as_deref(), req)?;
    Ok(Reply::data(json!(Registered { node_uuid: node })).on(node.to_string()))
}

pub async fn heartbeat(c: Call) -> Result<Reply> {
    let req: HeartbeatReq = c.json()?;
    let want = c
        .services
        .node_heartbeat(c.token.as_deref(), req.node_uuid)?;
    Ok(Reply::data(json!(want)))
}

pub async fn internal_power(c: Call) -> Result<Reply> {
    let req: NodePowerReq = c.json()?;
    c.services
        .internal_power(c.token.as_deref(), req.op)
        .await?;
    Ok(Reply::data(json!(req)))
}
