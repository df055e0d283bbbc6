//! Bond routes of file 000 "节点操作": thin translations to the services.

use super::call::{Call, Reply};
use crate::api::bond::{bond_view, BondReq, UnbondReq};
use crate::api::network::applied_view;
use crate::domain::node::Bond;
use crate::domain::text;
use crate::error::{Error, Result};

fn view(c: &Call, b: &Bond) -> Result<serde_json::Value> {
    let names: Vec<String> = b
        .slaves
        .iter()
        .filter_map(|u| c.services.nic_get(u).ok().map(|n| n.name))
        .collect();
    let addrs = c
        .services
        .nic_get(&b.uuid)
        .map(|n| n.addrs)
        .unwrap_or_default();
    Ok(bond_view(b, &names, &addrs))
}

pub async fn add_bond(c: Call) -> Result<Reply> {
    let r: BondReq = c.json()?;
    let node = match &r.node_uuid {
        Some(n) => text::uuid("node_uuid", n)?,
        None => return Err(Error::missing("node_uuid")),
    };
    if r.bond_uuid.is_some() {
        return Err(Error::invalid("bond_uuid", "belongs to /node/edit_bond"));
    }
    let (b, a) = c
        .services
        .node_add_bond(&c.actor, node, r.into_spec()?)
        .await?;
    Ok(Reply::data(applied_view(view(&c, &b)?, &a)).on(format!("{} ({})", b.name, b.uuid)))
}

pub async fn edit_bond(c: Call) -> Result<Reply> {
    let r: BondReq = c.json()?;
    let uuid = match &r.bond_uuid {
        Some(u) => text::uuid("bond_uuid", u)?,
        None => return Err(Error::missing("bond_uuid")),
    };
    let (b, a) = c
        .services
        .node_edit_bond(&c.actor, &uuid, r.into_spec()?)
        .await?;
    Ok(Reply::data(applied_view(view(&c, &b)?, &a)).on(format!("{} ({})", b.name, b.uuid)))
}

pub async fn unbond(c: Call) -> Result<Reply> {
    let r: UnbondReq = c.json()?;
    let uuid = text::uuid("bond_uuid", &r.bond_uuid)?;
    let (b, a) = c
        .services
        .node_unbond(&c.actor, &uuid, r.into_restore()?)
        .await?;
    Ok(Reply::data(applied_view(
        serde_json::json!({"uuid": b.uuid.to_string(), "dev": b.name}),
        &a,
    ))
    .on(format!("{} ({})", b.name, b.uuid)))
}

/// `GET /api/v1/node/links`: this host's links as the kernel has them.
pub async fn links(c: Call) -> Result<Reply> {
    let links = c.services.node_links().await?;
    let rows: Vec<_> = links.iter().map(crate::api::bond::link_view).collect();
    Ok(Reply::data(serde_json::json!({ "links": rows })))
}
