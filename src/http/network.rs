//! Virtual-switch, network and subnet routes (server dialect): thin
//! translations to the services.

use serde_json::json;

use super::call::{Call, Reply};
use crate::api::network::{
    self as wire, NetworkCreateReq, NetworkInitReq, SubnetCreateReq, UpdateReq, UuidReq,
    VSwitchCreateReq, VSwitchUpdateReq,
};
use crate::domain::network::{SubnetSpec, SwitchType};
use crate::domain::text;
use crate::error::{Code, Result};

fn label(name: &str, uuid: &uuid::Uuid) -> String {
    format!("{name} ({uuid})")
}

pub async fn vswitch_create(c: Call) -> Result<Reply> {
    let r: VSwitchCreateReq = c.json()?;
    let name = text::name("name", &r.name)?;
    let kind = SwitchType::parse("type", &r.kind)?;
    let desc = wire::desc(r.desc, "desc")?.unwrap_or_default();
    let ups = wire::uplinks("uplinks", &r.uplinks)?;
    let (s, a) = c
        .services
        .vswitch_create(&c.actor, name, kind, desc, ups)
        .await?;
    Ok(Reply::data(wire::applied_view(wire::vswitch_view(&s, 0), &a)).on(label(&s.name, &s.uuid)))
}

pub async fn vswitch_update(c: Call) -> Result<Reply> {
    let r: VSwitchUpdateReq = c.json()?;
    let uuid = wire::uuid("uuid", &r.uuid)?;
    let (s, a) = c
        .services
        .vswitch_update(&c.actor, &uuid, r.value.into_domain()?)
        .await?;
    let n = c.services.vswitch_network_count(&s.uuid)?;
    Ok(Reply::data(wire::applied_view(wire::vswitch_view(&s, n), &a)).on(label(&s.name, &s.uuid)))
}

pub async fn vswitch_delete(c: Call) -> Result<Reply> {
    let r: UuidReq = c.json()?;
    let uuid = wire::uuid("uuid", &r.uuid)?;
    let (s, a) = c.services.vswitch_delete(&c.actor, &uuid).await?;
    Ok(Reply::data(wire::applied_view(wire::vswitch_view(&s, 0), &a)).on(label(&s.name, &s.uuid)))
}

pub async fn network_create(c: Call) -> Result<Reply> {
    let r: NetworkCreateReq = c.json()?;
    let name = text::name("name", &r.name)?;
    let switch = wire::uuid("switch_uuid", &r.switch_uuid)?;
    let vlan = wire::vlan(&r.vlan_id, "vlan_id")?;
    let subnet = r
        .subnet_info
        .map(|s| s.into_domain("subnet_info."))
        .transpose()?;
    let (n, a) = c
        .services
        .network_create(&c.actor, name, switch, vlan, subnet)
        .await?;
    let sw = c.services.vswitch_get(&n.switch).ok();
    Ok(
        Reply::data(wire::applied_view(wire::network_view(&n, sw.as_ref()), &a))
            .on(label(&n.name, &n.uuid)),
    )
}

pub async fn network_delete(c: Call) -> Result<Reply> {
    let r: UuidReq = c.json()?;
    let uuid = wire::uuid("uuid", &r.uuid)?;
    let (n, a) = c.services.network_delete(&c.actor, &uuid).await?;
    Ok(
        Reply::data(wire::applied_view(wire::network_view(&n, None), &a))
            .on(label(&n.name, &n.uuid)),
    )
}

/// `/network/update`: a network uuid renames the network; a subnet uuid
/// updates the subnet (the document reuses this path for subnets).
pub async fn network_update(c: Call) -> Result<Reply> {
    let r: UpdateReq = c.json()?;
    let uuid = wire::uuid("uuid", &r.uuid)?;
    if let Ok(cur) = c.services.subnet_get(&uuid) {
        return subnet_update_with(&c, &uuid, cur, r).await;
    }
    let name = r.value.network_name()?;
    let n = c.services.network_rename(&c.actor, &uuid, &name).await?;
    let sw = c.services.vswitch_get(&n.switch).ok();
    Ok(Reply::data(wire::network_view(&n, sw.as_ref())).on(label(&n.name, &n.uuid)))
}

pub async fn network_init(c: Call) -> Result<Reply> {
    let r: NetworkInitReq = c.json()?;
    let switch_name = text::name("switch_name", &r.switch_name)?;
    let network_name = text::name("network_name", &r.network_name)?;
    let kind = SwitchType::parse("switch_type", &r.switch_type)?;
    let vlan = wire::vlan(&r.vlan_id, "vlan_id")?;
    let subnet = r.subnet_info.into_domain("subnet_info.")?;
    let ups = wire::uplinks("uplink", std::slice::from_ref(&r.uplink))?;
    let (s, a1) = c
        .services
        .vswitch_create(&c.actor, switch_name, kind, String::new(), ups)
        .await?;
    let created = c
        .services
        .network_create(&c.actor, network_name, s.uuid, vlan, Some(subnet))
        .await;
    let (n, a2) = match created {
        Ok(x) => x,
        Err(e) => {
            // One call, one outcome: the switch made above goes again.
            let _ = c.services.vswitch_delete(&c.actor, &s.uuid).await;
            return Err(e);
        }
    };
    let a = crate::service::network::Applied {
        host_steps: a1.host_steps + a2.host_steps,
        confirm_within_s: a2.confirm_within_s.or(a1.confirm_within_s),
    };
    let data =
        json!({"vswitch": wire::vswitch_view(&s, 1), "network": wire::network_view(&n, Some(&s))});
    Ok(Reply::data(wire::applied_view(data, &a)).on(label(&n.name, &n.uuid)))
}

pub async fn network_confirm(c: Call) -> Result<Reply> {
    c.no_fields()?;
    let what = c.services.network_confirm(&c.actor).await?;
    Ok(Reply::data(
        json!({"confirmed": what.is_some(), "change": what}),
    ))
}

pub async fn subnet_create(c: Call) -> Result<Reply> {
    let r: SubnetCreateReq = c.json()?;
    let name = text::name("name", &r.name)?;
    let network = wire::uuid("network_uuid", &r.network_uuid)?;
    let spec = SubnetSpec::parse(
        "",
        &r.start_ip,
        &r.end_ip,
        &r.netmask,
        &r.gateway,
        &r.dns1,
        r.dns2.as_deref(),
    )?;
    let s = c
        .services
        .subnet_create(&c.actor, name, network, spec)
        .await?;
    Ok(Reply::data(wire::subnet_view(&s, 0)).on(label(&s.name, &s.uuid)))
}

pub async fn subnet_delete(c: Call) -> Result<Reply> {
    let r: UuidReq = c.json()?;
    let uuid = wire::uuid("uuid", &r.uuid)?;
    let s = c.services.subnet_delete(&c.actor, &uuid).await?;
    Ok(Reply::data(wire::subnet_view(&s, 0)).on(label(&s.name, &s.uuid)))
}

pub async fn subnet_update(c: Call) -> Result<Reply> {
    let r: UpdateReq = c.json()?;
    let uuid = wire::uuid("uuid", &r.uuid)?;
    let cur = c.services.subnet_get(&uuid)?;
    subnet_update_with(&c, &uuid, cur, r).await
}

async fn subnet_update_with(
    c: &Call,
    uuid: &uuid::Uuid,
    cur: crate::domain::network::Subnet,
    r: UpdateReq,
) -> Result<Reply> {
    if let Some(name) = &r.name {
        if *name != cur.name {
            return Err(crate::error::Error::new(
                Code::NameMismatch,
                format!(
                    "Field `name`: subnet {uuid} is named `{}`, not `{name}`; reload and retry",
                    cur.name
                ),
            ));
        }
    }
    let patch = r.value.subnet_patch(&cur)?;
    let s = c.services.subnet_update(&c.actor, uuid, patch).await?;
    let used = c.services.subnet_used(&s.uuid)?;
    Ok(Reply::data(wire::subnet_view(&s, used)).on(label(&s.name, &s.uuid)))
}
