//! Groups: classrooms (education: network, subnet, terminal address range)
//! and user groups (personal). Templates and desktop groups refer to them.

use uuid::Uuid;

use super::{Actor, Services};
use crate::domain::group::{Group, GroupType};
use crate::domain::ipv4::Range;
use crate::error::{Code, Error, Result};

/// What a create or update asks for, validated at the edge.
#[derive(Clone, Debug, Default)]
pub struct GroupSpec {
    pub name: Option<String>,
    pub desc: Option<String>,
    pub kind: Option<GroupType>,
    pub network: Option<Option<Uuid>>,
    pub subnet: Option<Option<Uuid>>,
    pub range: Option<Option<Range>>,
    pub enabled: Option<bool>,
}

impl Services {
    fn group_check(&self, g: &Group) -> Result<()> {
        if let Some(n) = &g.network {
            self.store.network_get(n)?;
        }
        if let Some(s) = &g.subnet {
            let sub = self.store.subnet_get(s)?;
            if Some(sub.network) != g.network {
                return Err(Error::invalid(
                    "subnet_uuid",
                    format!("subnet {s} is not a subnet of the group's network"),
                ));
            }
        }
        if g.kind == GroupType::Education && g.range.is_none() {
            return Err(Error::missing("start_ip"));
        }
        Ok(())
    }

    pub async fn group_create(&self, _actor: &Actor, spec: GroupSpec) -> Result<Group> {
        let now = self.now_ms();
        let g = Group {
            uuid: Uuid::new_v4(),
            seq: self.store.sequence_next()?,
            name: spec.name.ok_or_else(|| Error::missing("name"))?,
            desc: spec.desc.unwrap_or_default(),
            kind: spec.kind.ok_or_else(|| Error::missing("group_type"))?,
            network: spec.network.flatten(),
            subnet: spec.subnet.flatten(),
            range: spec.range.flatten(),
            enabled: spec.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        self.group_check(&g)?;
        self.store.group_insert(&g)?;
        self.store.flush().await?;
        Ok(g)
    }

    pub async fn group_update(
        &self,
        _actor: &Actor,
        uuid: &Uuid,
        spec: GroupSpec,
    ) -> Result<Group> {
        let g = self.store.group_update(uuid, &|mut g| {
            if let Some(n) = &spec.name {
                g.name = n.clone();
            }
            if let Some(d) = &spec.desc {
                g.desc = d.clone();
            }
            if let Some(n) = spec.network {
                g.network = n;
            }
            if let Some(s) = spec.subnet {
                g.subnet = s;
            }
            if let Some(r) = spec.range {
                g.range = r;
            }
            if let Some(e) = spec.enabled {
                g.enabled = e;
            }
            g.updated_at = self.now_ms();
            self.group_check(&g)?;
            Ok(g)
        })?;
        self.store.flush().await?;
        Ok(g)
    }

    pub async fn group_delete(&self, _actor: &Actor, uuid: &Uuid) -> Result<Group> {
        let g = self.store.group_delete(uuid).map_err(|e| match e.code {
            Code::GroupInUse => self.group_users_named(uuid).ok().flatten().unwrap_or(e),
            _ => e,
        })?;
        self.store.flush().await?;
        Ok(g)
    }

    /// The refusal of a group delete, naming what uses the group.
    fn group_users_named(&self, uuid: &Uuid) -> Result<Option<Error>> {
        let g = self.store.group_get(uuid)?;
        let some = |names: Vec<String>| {
            let n = names.len();
            let mut shown: Vec<String> = names
                .into_iter()
                .take(5)
                .map(|x| format!("`{x}`"))
                .collect();
            if n > 5 {
                shown.push(format!("and {} more", n - 5));
            }
            shown.join(", ")
        };
        let mut parts = Vec::new();
        let dg: Vec<String> = self
            .store
            .desktop_group_list()?
            .into_iter()
            .filter(|d| d.classroom == Some(*uuid) || d.user_groups.contains(uuid))
            .map(|d| d.name)
            .collect();
        if !dg.is_empty() {
            parts.push(format!("desktop groups {}", some(dg)));
        }
        let users: Vec<String> = self
            .store
            .user_list()?
            .into_iter()
            .filter(|u| u.group == *uuid)
            .map(|u| u.user_name)
            .collect();
        if !users.is_empty() {
            parts.push(format!("users {}", some(users)));
        }
        let tpl: Vec<String> = self
            .store
            .template_list()?
            .into_iter()
            .filter(|t| t.groups.contains(uuid))
            .map(|t| t.name)
            .collect();
        if !tpl.is_empty() {
            parts.push(format!("templates {}", some(tpl)));
        }
        Ok((!parts.is_empty()).then(|| {
            Error::new(
                Code::GroupInUse,
                format!(
                    "Group `{}` is used by {}; move or delete them first",
                    g.name,
                    parts.join("; ")
                ),
            )
        }))
    }

    pub fn group_get(&self, uuid: &Uuid) -> Result<Group> {
        self.store.group_get(uuid)
    }

    pub fn group_list(&self) -> Result<Vec<Group>> {
        self.store.group_list()
    }
}
