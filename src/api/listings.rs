//! The resources the generic web query serves, with their rows and sources.

use super::{bond, controller, desktop, network, resource_pool, task, template, terminal, user};
use crate::domain::clock::Millis;
use crate::error::Result;
use crate::service::query::Base;
use crate::service::{Listing, QueryEngine, Services, Table};

type Sink<'a, 'b> = &'a mut crate::service::query::Sink<'b>;

/// The base facts of a record the store numbers (`seq`).
fn numbered(seq: u64, uuid: uuid::Uuid, created_at: Millis, updated_at: Option<Millis>) -> Base {
    Base {
        id: seq,
        uuid: Some(uuid),
        created_at,
        updated_at,
    }
}

/// The stable integer id of a record the store does not number (nodes,
/// their NICs, bonds and storages, template operations): the first 53 bits
/// of its uuid, so it survives restarts and stays exact in JavaScript.
pub fn uuid_id(u: &uuid::Uuid) -> u64 {
    let b = u.as_bytes();
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) >> 11
}

fn unnumbered(uuid: uuid::Uuid, created_at: Millis, updated_at: Option<Millis>) -> Base {
    numbered(uuid_id(&uuid), uuid, created_at, updated_at)
}

fn admins(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    for (i, r) in s.admin_list()?.iter().enumerate() {
        let base = Base {
            id: i as u64 + 1,
            uuid: None,
            created_at: r.admin.created_at,
            updated_at: Some(r.admin.updated_at),
        };
        sink(base, super::auth::admin_view(r));
    }
    Ok(())
}

fn pools(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    s.resource_pool_list()?.iter().for_each(|p| {
        sink(
            numbered(p.seq, p.uuid, p.created_at, Some(p.updated_at)),
            resource_pool::view(p),
        )
    });
    Ok(())
}

fn desktop_groups(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let counts = desktop::counts(&s.desktop_list()?);
    let groups: std::collections::HashMap<_, _> = s
        .group_list()?
        .into_iter()
        .map(|g| (g.uuid, g.name))
        .collect();
    let templates: std::collections::HashMap<_, _> = s
        .template_list()?
        .into_iter()
        .map(|t| (t.uuid, (t.name, t.status.as_str(), t.os_type)))
        .collect();
    for g in s.desktop_group_list()? {
        let t = templates.get(&g.template);
        let ctx = desktop::GroupCtx {
            classroom: g.classroom.and_then(|c| groups.get(&c)).map(String::as_str),
            template: t.map(|(n, st, os)| (n.as_str(), *st, os.as_str())),
            counts: counts.get(&g.uuid).copied().unwrap_or((0, 0)),
        };
        sink(
            numbered(g.seq, g.uuid, g.created_at, Some(g.updated_at)),
            desktop::desktop_group_view(&g, &ctx),
        );
    }
    Ok(())
}

fn desktops(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let names: std::collections::HashMap<_, _> = s
        .desktop_group_list()?
        .into_iter()
        .map(|g| (g.uuid, g.name))
        .collect();
    for d in s.desktop_list()? {
        let n = names.get(&d.group).map(String::as_str).unwrap_or("");
        sink(
            numbered(d.seq, d.uuid, d.created_at, None),
            desktop::desktop_view(&d, n),
        );
    }
    Ok(())
}

fn users(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let groups: std::collections::HashMap<_, _> = s
        .group_list()?
        .into_iter()
        .map(|g| (g.uuid, g.name))
        .collect();
    for u in s.user_list()? {
        sink(
            numbered(u.seq, u.uuid, u.created_at, Some(u.updated_at)),
            user::user_view(&u, groups.get(&u.group).map(String::as_str)),
        );
    }
    Ok(())
}

fn terminals(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let names = terminal::TerminalNames {
        groups: s
            .group_list()?
            .into_iter()
            .map(|g| (g.uuid, g.name))
            .collect(),
        users: s
            .user_list()?
            .into_iter()
            .map(|u| (u.uuid, u.user_name))
            .collect(),
        desktops: s
            .desktop_list()?
            .into_iter()
            .map(|d| (d.uuid, d.name))
            .collect(),
    };
    for t in s.terminal_list()? {
        // The record is written whenever the terminal is seen.
        sink(
            numbered(t.seq, t.uuid, t.created_at, Some(t.last_seen)),
            terminal::terminal_view(&t, &names),
        );
    }
    Ok(())
}

fn tasks(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    for t in s.task_list()? {
        let changed = t.finished_at.or(t.started_at).unwrap_or(t.created_at);
        sink(
            numbered(t.seq, t.id, t.created_at, Some(changed)),
            task::task_view(&t),
        );
    }
    Ok(())
}

fn oplog(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    s.operation_log_list()?.iter().for_each(|e| {
        // Entries never change; they have no uuid.
        let base = Base {
            id: e.seq,
            uuid: None,
            created_at: e.time,
            updated_at: Some(e.time),
        };
        sink(base, task::oplog_view(e))
    });
    Ok(())
}

fn vswitches(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    for v in s.vswitch_list()? {
        sink(
            numbered(v.seq, v.uuid, v.created_at, Some(v.updated_at)),
            network::vswitch_view(&v, s.vswitch_network_count(&v.uuid)?),
        );
    }
    Ok(())
}

fn networks(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let switches = s.vswitch_list()?;
    for n in s.network_list()? {
        sink(
            numbered(n.seq, n.uuid, n.created_at, Some(n.updated_at)),
            network::network_view(&n, switches.iter().find(|w| w.uuid == n.switch)),
        );
    }
    Ok(())
}

fn subnets(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    for v in s.subnet_list()? {
        sink(
            numbered(v.seq, v.uuid, v.created_at, Some(v.updated_at)),
            network::subnet_view(&v, s.subnet_used(&v.uuid)?),
        );
    }
    Ok(())
}

fn nics(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let nodes = s.node_list()?;
    for n in s.nic_list()? {
        let node = nodes.iter().find(|x| x.uuid == n.node);
        sink(
            unnumbered(n.uuid, n.created_at, None),
            serde_json::json!({
                "uuid": n.uuid.to_string(),
                "node_uuid": n.node.to_string(),
                "node_name": node.map(|x| x.name.clone()),
                "interface": n.name,
                "mac": n.mac,
            }),
        );
    }
    Ok(())
}

fn nodes(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let nics = s.nic_list()?;
    let local = s.node_local()?;
    for n in s.node_list()? {
        let mine: Vec<_> = nics.iter().filter(|x| x.node == n.uuid).collect();
        let mut v = controller::node_view(&n, &mine, local == Some(n.uuid));
        v["status"] = serde_json::json!(if s.monitor_node_up(&n.uuid, s.now_ms())? {
            "up"
        } else {
            "down"
        });
        sink(unnumbered(n.uuid, n.created_at, Some(n.updated_at)), v);
    }
    Ok(())
}

fn storages(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let nodes = s.node_list()?;
    for st in s.node_storage_list()? {
        let name = nodes
            .iter()
            .find(|n| n.uuid == st.storage.node)
            .map(|n| n.name.as_str());
        sink(
            unnumbered(st.storage.uuid, st.storage.created_at, None),
            controller::storage_view(&st, name),
        );
    }
    Ok(())
}

fn bonds(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    for b in s.bond_list()? {
        let names: Vec<String> = b
            .slaves
            .iter()
            .filter_map(|u| s.nic_get(u).ok().map(|n| n.name))
            .collect();
        let addrs = s.nic_get(&b.uuid).map(|n| n.addrs).unwrap_or_default();
        sink(
            unnumbered(b.uuid, b.created_at, Some(b.updated_at)),
            bond::bond_view(&b, &names, &addrs),
        );
    }
    Ok(())
}

fn templates(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let nets = s.network_list()?;
    let subs = s.subnet_list()?;
    let groups = s.group_list()?;
    let dgroups = s.desktop_group_list()?;
    let per_group = desktop::counts(&s.desktop_list()?);
    let used = |d: &uuid::Uuid| s.template_disk_used(d);
    for t in s.template_list()? {
        let mine = dgroups.iter().filter(|g| g.template == t.uuid);
        let ctx = template::TemplateCtx {
            network_name: t
                .network
                .and_then(|n| nets.iter().find(|x| x.uuid == n))
                .map(|x| x.name.as_str()),
            subnet: t.subnet.and_then(|u| subs.iter().find(|x| x.uuid == u)),
            groups: &groups,
            power: "",
            desktop_groups: mine.clone().count(),
            desktops: mine
                .map(|g| per_group.get(&g.uuid).map_or(0, |c| c.1))
                .sum(),
            used: &used,
        };
        sink(
            numbered(t.seq, t.uuid, t.created_at, Some(t.updated_at)),
            template::template_view(&t, &ctx),
        );
    }
    Ok(())
}

/// Every template's operations, newest first per template.
fn operations(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    for t in s.template_list()? {
        for o in t.ops.iter().rev() {
            sink(
                unnumbered(o.uuid, o.at, Some(o.at)),
                template::operate_view(&t, o),
            );
        }
    }
    Ok(())
}

fn images(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    s.base_image_list()?.iter().for_each(|i| {
        sink(
            numbered(i.seq, i.uuid, i.created_at, None),
            template::image_view(i),
        )
    });
    Ok(())
}

fn isos(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    s.iso_list()?.iter().for_each(|i| {
        sink(
            numbered(i.seq, i.uuid, i.created_at, None),
            template::iso_view(i),
        )
    });
    Ok(())
}

fn groups(s: &Services, sink: Sink<'_, '_>) -> Result<()> {
    let templates = s.template_list()?;
    let dgroups = s.desktop_group_list()?;
    let per_group = desktop::counts(&s.desktop_list()?);
    let users = s.user_list()?;
    let terminals = s.terminal_counts()?;
    for g in s.group_list()? {
        let n = templates
            .iter()
            .filter(|t| t.groups.is_empty() || t.groups.contains(&g.uuid))
            .count();
        let desktops = dgroups
            .iter()
            .filter(|d| d.classroom == Some(g.uuid) || d.user_groups.contains(&g.uuid))
            .map(|d| per_group.get(&d.uuid).map(|c| c.1).unwrap_or(0))
            .sum();
        let u = users.iter().filter(|u| u.group == g.uuid).count();
        let t = terminals.get(&g.uuid).copied().unwrap_or(0);
        sink(
            numbered(g.seq, g.uuid, g.created_at, Some(g.updated_at)),
            template::group_view(&g, (n, desktops, u, t)),
        );
    }
    Ok(())
}

/// Every listing, registered in one engine.
pub fn engine() -> QueryEngine<Services> {
    let mut e = QueryEngine::default();
    e.register(Listing {
        name: "admin",
        fields: super::auth::ADMIN_FIELDS,
        generation: |s: &Services| {
            s.table_generation(Table::Admin)
                .wrapping_add(s.table_generation(Table::Session) << 32)
        },
        load: admins,
    });
    e.register(Listing {
        name: "resource_pool",
        fields: resource_pool::FIELDS,
        generation: |s: &Services| s.table_generation(Table::ResourcePool),
        load: pools,
    });
    let net = |s: &Services| s.table_generation(Table::Network);
    e.register(Listing {
        name: "vswitch",
        fields: network::VSWITCH_FIELDS,
        generation: net,
        load: vswitches,
    });
    e.register(Listing {
        name: "network",
        fields: network::NETWORK_FIELDS,
        generation: net,
        load: networks,
    });
    e.register(Listing {
        name: "subnet",
        fields: network::SUBNET_FIELDS,
        generation: net,
        load: subnets,
    });
    e.register(Listing {
        name: "bond",
        fields: bond::BOND_FIELDS,
        generation: |s: &Services| s.table_generation(Table::Node),
        load: bonds,
    });
    e.register(Listing {
        name: "node_nic",
        fields: &["uuid", "node_uuid", "node_name", "interface", "mac"],
        generation: |s: &Services| s.table_generation(Table::Node),
        load: nics,
    });
    e.register(Listing {
        name: "node",
        fields: controller::NODE_FIELDS,
        // Up/down changes without a write: the generation follows both.
        generation: |s: &Services| {
            s.table_generation(Table::Node)
                .wrapping_add(s.node_liveness_generation() << 32)
        },
        load: nodes,
    });
    e.register(Listing {
        name: "node_storage",
        fields: controller::STORAGE_FIELDS,
        // Usage changes without a write: the generation follows both.
        generation: |s: &Services| {
            s.table_generation(Table::Node)
                .wrapping_add(s.node_storage_generation() << 32)
        },
        load: storages,
    });
    e.register(Listing {
        name: "template",
        fields: template::TEMPLATE_FIELDS,
        // Desktop counts follow the desktops; disk usage is measured
        // after template operations, without a write.
        generation: |s: &Services| {
            s.tables_generation(&[
                Table::Template,
                Table::Network,
                Table::Group,
                Table::Desktop,
            ])
            .wrapping_add(s.template_usage_generation() << 32)
        },
        load: templates,
    });
    e.register(Listing {
        name: "template_operate",
        fields: template::OPERATE_FIELDS,
        generation: |s: &Services| s.table_generation(Table::Template),
        load: operations,
    });
    e.register(Listing {
        name: "base_image",
        fields: template::IMAGE_FIELDS,
        generation: |s: &Services| s.table_generation(Table::Image),
        load: images,
    });
    e.register(Listing {
        name: "iso",
        fields: template::ISO_FIELDS,
        generation: |s: &Services| s.table_generation(Table::Image),
        load: isos,
    });
    e.register(Listing {
        name: "group",
        fields: template::GROUP_FIELDS,
        generation: |s: &Services| {
            s.tables_generation(&[
                Table::Group,
                Table::Template,
                Table::Desktop,
                Table::User,
                Table::Terminal,
            ])
        },
        load: groups,
    });
    e.register(Listing {
        name: "desktop_group",
        fields: desktop::DESKTOP_GROUP_FIELDS,
        generation: |s: &Services| {
            s.tables_generation(&[Table::Desktop, Table::Template, Table::Group])
        },
        load: desktop_groups,
    });
    e.register(Listing {
        name: "instance",
        fields: desktop::DESKTOP_FIELDS,
        generation: |s: &Services| s.table_generation(Table::Desktop),
        load: desktops,
    });
    e.register(Listing {
        name: "group_user",
        fields: user::USER_FIELDS,
        generation: |s: &Services| s.tables_generation(&[Table::User, Table::Group]),
        load: users,
    });
    e.register(Listing {
        name: "terminal",
        fields: terminal::TERMINAL_FIELDS,
        generation: |s: &Services| {
            s.tables_generation(&[Table::Terminal, Table::Desktop, Table::Group, Table::User])
        },
        load: terminals,
    });
    e.register(Listing {
        name: "task",
        fields: task::TASK_FIELDS,
        generation: |s: &Services| s.table_generation(Table::Task),
        load: tasks,
    });
    e.register(Listing {
        name: "operation_log",
        fields: task::OPLOG_FIELDS,
        generation: |s: &Services| s.table_generation(Table::OpLog),
        load: oplog,
    });
    e
}
