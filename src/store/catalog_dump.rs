//! The catalogue tables in a store export: groups, base images, ISOs,
//! templates, desktop groups, desktops, users and terminals, as stored; on
//! import their name and lookup indexes are rebuilt (terminal sessions are
//! never exported).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sled::Tree;

use super::catalog::{GroupV1, ImageV1, IsoV1, TemplateV1};
use super::desktop::{index_key, DesktopGroupV1, DesktopV1, DESKTOP_V};
use super::named::Rec;
use super::terminal::{self, TerminalV1};
use super::user::UserV1;
use super::{codec, Store, Table};
use crate::error::{Code, Error, Result};

#[derive(Serialize, Deserialize, Default)]
pub(super) struct CatalogDump {
    #[serde(default)]
    pub groups: Vec<GroupV1>,
    #[serde(default)]
    pub base_images: Vec<ImageV1>,
    #[serde(default)]
    pub isos: Vec<IsoV1>,
    #[serde(default)]
    pub templates: Vec<TemplateV1>,
    #[serde(default)]
    pub desktop_groups: Vec<DesktopGroupV1>,
    #[serde(default)]
    pub desktops: Vec<DesktopV1>,
    #[serde(default)]
    pub users: Vec<UserV1>,
    #[serde(default)]
    pub terminals: Vec<TerminalV1>,
}

fn bad(m: String) -> Error {
    Error::new(Code::InvalidField, m)
}

/// Names already taken in one index, to refuse a dump that repeats one.
fn unique<R: Rec>(seen: &mut HashSet<Vec<u8>>, list: &[R], field: &str) -> Result<()> {
    for r in list {
        if !seen.insert(r.name_key()) {
            return Err(bad(format!(
                "Field `{field}`: the name of {} appears twice",
                uuid::Uuid::from_bytes(r.key())
            )));
        }
    }
    Ok(())
}

fn load<R: Rec>(recs: &Tree, names: &Tree, list: &[R]) -> Result<()> {
    for r in list {
        names.insert(r.name_key(), &r.key()).map_err(Error::store)?;
        recs.insert(r.key(), codec::encode(R::VERSION, r))
            .map_err(Error::store)?;
    }
    Ok(())
}

impl Store {
    pub(super) fn catalog_export(&self) -> Result<CatalogDump> {
        Ok(CatalogDump {
            groups: self.named_list(&self.groups)?,
            base_images: self.named_list(&self.images)?,
            isos: self.named_list(&self.isos)?,
            templates: self.named_list(&self.templates)?,
            desktop_groups: self.named_list(&self.desktop_groups)?,
            desktops: self
                .desktops
                .iter()
                .values()
                .map(|v| codec::decode(DESKTOP_V, &v.map_err(Error::store)?))
                .collect::<Result<_>>()?,
            users: self.named_list(&self.users)?,
            terminals: self
                .terminals
                .iter()
                .values()
                .map(|v| codec::decode(terminal::VERSION, &v.map_err(Error::store)?))
                .collect::<Result<_>>()?,
        })
    }

    pub(super) fn catalog_is_empty(&self) -> bool {
        [
            &self.groups,
            &self.images,
            &self.isos,
            &self.templates,
            &self.desktop_groups,
            &self.desktops,
            &self.users,
            &self.terminals,
        ]
        .iter()
        .all(|t| t.is_empty())
    }

    /// Checks a dump's catalogue before anything is written.
    pub(super) fn catalog_check(&self, d: &CatalogDump) -> Result<()> {
        unique(&mut HashSet::new(), &d.groups, "groups")?;
        let mut images = HashSet::new();
        unique(&mut images, &d.base_images, "base_images")?;
        unique(&mut images, &d.isos, "isos")?;
        unique(&mut HashSet::new(), &d.templates, "templates")?;
        unique(&mut HashSet::new(), &d.desktop_groups, "desktop_groups")?;
        unique(&mut HashSet::new(), &d.users, "users")?;
        let groups: HashSet<[u8; 16]> = d.desktop_groups.iter().map(|g| g.uuid).collect();
        if let Some(x) = d.desktops.iter().find(|x| !groups.contains(&x.group)) {
            return Err(bad(format!(
                "Field `desktops`: desktop `{}` belongs to no exported desktop group",
                x.name
            )));
        }
        let (mut macs, mut seats) = (HashSet::new(), HashSet::new());
        for t in &d.terminals {
            let seat = t.classroom.zip(t.seat);
            if !macs.insert(t.mac) || seat.is_some_and(|s| !seats.insert(s)) {
                return Err(bad(
                    "Field `terminals`: a MAC or a classroom seat appears twice".into(),
                ));
            }
        }
        Ok(())
    }

    /// Writes a checked catalogue and rebuilds its indexes; returns the
    /// highest sequence number it holds.
    pub(super) fn catalog_import(&self, d: &CatalogDump) -> Result<u64> {
        load(&self.groups, &self.group_names, &d.groups)?;
        load(&self.images, &self.image_names, &d.base_images)?;
        load(&self.isos, &self.image_names, &d.isos)?;
        load(&self.templates, &self.template_names, &d.templates)?;
        load(
            &self.desktop_groups,
            &self.desktop_group_names,
            &d.desktop_groups,
        )?;
        load(&self.users, &self.user_names, &d.users)?;
        for x in &d.desktops {
            self.desktops
                .insert(x.uuid, codec::encode(DESKTOP_V, x))
                .map_err(Error::store)?;
            self.desktop_index
                .insert(index_key(&x.group, &x.uuid), &[])
                .map_err(Error::store)?;
        }
        for t in &d.terminals {
            self.terminal_load(t)?;
        }
        for table in [
            Table::Group,
            Table::Image,
            Table::Template,
            Table::Desktop,
            Table::User,
            Table::Terminal,
        ] {
            self.bump(table);
        }
        let seqs = d
            .groups
            .iter()
            .map(|x| x.seq)
            .chain(d.base_images.iter().map(|x| x.seq))
            .chain(d.isos.iter().map(|x| x.seq))
            .chain(d.templates.iter().map(|x| x.seq))
            .chain(d.desktop_groups.iter().map(|x| x.seq))
            .chain(d.desktops.iter().map(|x| x.seq))
            .chain(d.users.iter().map(|x| x.seq))
            .chain(d.terminals.iter().map(|x| x.seq));
        Ok(seqs.max().unwrap_or(0))
    }
}
