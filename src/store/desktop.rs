//! Desktop groups and desktops: versioned records, the group's name index
//! and references, the group → desktops index, and the transactions that
//! make or remove a group's desktops together with their addresses.

use std::net::Ipv4Addr;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::{abort, ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use super::named::{users_text, Rec};
use super::refs::{self, RefKind};
use super::subnet::{ip_give_back_in_tx, ip_take_in_tx, IpReq};
use super::{codec, txn, Store, Table};
use crate::domain::desktop::{
    Assign, DataRestore, Desktop, DesktopDisk, DesktopGroup, Kind, Phase, Status,
};
use crate::domain::text::fold;
use crate::error::{Code, Error, Result};

type Tx<T> = std::result::Result<T, ConflictableTransactionError<Error>>;

fn u(b: [u8; 16]) -> Uuid {
    Uuid::from_bytes(b)
}

fn b(u: &Uuid) -> [u8; 16] {
    *u.as_bytes()
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct DesktopGroupV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    pub kind: u8,
    pub owner: String,
    pub classroom: Option<[u8; 16]>,
    pub template: [u8; 16],
    pub pool: [u8; 16],
    pub network: Option<[u8; 16]>,
    pub subnet: Option<[u8; 16]>,
    pub vcpu: u32,
    pub ram_mb: u64,
    pub sys_restore: bool,
    pub data_restore: u8,
    pub prefix: String,
    pub postfix: u32,
    pub postfix_start: u32,
    pub active: bool,
    pub default: bool,
    pub show_info: bool,
    pub auto_update: bool,
    pub use_bottom_ip: bool,
    pub ip_start: Option<u32>,
    pub assign: u8,
    pub user_groups: Vec<[u8; 16]>,
    pub maintenance: bool,
    pub order_num: u32,
    pub phase: u8,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DesktopGroupV1 {
    fn from_domain(g: &DesktopGroup) -> Self {
        DesktopGroupV1 {
            uuid: b(&g.uuid),
            seq: g.seq,
            name: g.name.clone(),
            kind: g.kind as u8,
            owner: g.owner.clone(),
            classroom: g.classroom.as_ref().map(b),
            template: b(&g.template),
            pool: b(&g.pool),
            network: g.network.as_ref().map(b),
            subnet: g.subnet.as_ref().map(b),
            vcpu: g.vcpu,
            ram_mb: g.ram_mb,
            sys_restore: g.sys_restore,
            data_restore: g.data_restore as u8,
            prefix: g.prefix.clone(),
            postfix: g.postfix,
            postfix_start: g.postfix_start,
            active: g.active,
            default: g.default,
            show_info: g.show_info,
            auto_update: g.auto_update,
            use_bottom_ip: g.use_bottom_ip,
            ip_start: g.ip_start.map(u32::from),
            assign: g.assign.map(|a| a as u8).unwrap_or(0),
            user_groups: g.user_groups.iter().map(b).collect(),
            maintenance: g.maintenance,
            order_num: g.order_num,
            phase: g.phase as u8,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }

    fn into_domain(self) -> DesktopGroup {
        DesktopGroup {
            uuid: u(self.uuid),
            seq: self.seq,
            name: self.name,
            kind: if self.kind == 2 {
                Kind::Personal
            } else {
                Kind::Education
            },
            owner: self.owner,
            classroom: self.classroom.map(u),
            template: u(self.template),
            pool: u(self.pool),
            network: self.network.map(u),
            subnet: self.subnet.map(u),
            vcpu: self.vcpu,
            ram_mb: self.ram_mb,
            sys_restore: self.sys_restore,
            data_restore: DataRestore::from_number(self.data_restore.into())
                .unwrap_or(DataRestore::Keep),
            prefix: self.prefix,
            postfix: self.postfix,
            postfix_start: self.postfix_start,
            active: self.active,
            default: self.default,
            show_info: self.show_info,
            auto_update: self.auto_update,
            use_bottom_ip: self.use_bottom_ip,
            ip_start: self.ip_start.map(Ipv4Addr::from),
            assign: match self.assign {
                1 => Some(Assign::Random),
                2 => Some(Assign::Static),
                _ => None,
            },
            user_groups: self.user_groups.into_iter().map(u).collect(),
            maintenance: self.maintenance,
            order_num: self.order_num,
            phase: Phase::from_tag(self.phase),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Rec for DesktopGroupV1 {
    const VERSION: u16 = 1;
    const TABLE: Table = Table::Desktop;
    const REF_KIND: RefKind = RefKind::DesktopGroup;
    fn key(&self) -> [u8; 16] {
        self.uuid
    }
    fn name_key(&self) -> Vec<u8> {
        fold(&self.name).into_bytes()
    }
    fn name_taken(&self) -> Error {
        Error::new(
            Code::DesktopGroupNameExists,
            format!("Desktop group `{}` already exists", self.name),
        )
    }
    fn not_found(key: &[u8; 16]) -> Error {
        Error::new(
            Code::DesktopGroupNotFound,
            format!("Desktop group {} does not exist", u(*key)),
        )
    }
    fn uses(&self) -> Vec<[u8; 16]> {
        let mut v = vec![self.template, self.pool];
        v.extend(self.classroom);
        v.extend(self.network);
        v.extend(self.user_groups.iter().copied());
        v
    }
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct DesktopDiskV1 {
    pub template_disk: [u8; 16],
    pub inx: u32,
    pub path: String,
    pub version: u32,
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct DesktopV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub group: [u8; 16],
    pub name: String,
    pub number: u32,
    pub seat: u32,
    pub node: [u8; 16],
    pub ip: Option<u32>,
    pub mac: String,
    pub user: Option<[u8; 16]>,
    pub status: u8,
    pub started_at: Option<i64>,
    pub disks: Vec<DesktopDiskV1>,
    pub spice_password: String,
    pub terminal_mac: String,
    pub terminal_ip: String,
    pub phase: u8,
    pub created_at: i64,
}

impl DesktopV1 {
    fn from_domain(d: &Desktop) -> Self {
        DesktopV1 {
            uuid: b(&d.uuid),
            seq: d.seq,
            group: b(&d.group),
            name: d.name.clone(),
            number: d.number,
            seat: d.seat,
            node: b(&d.node),
            ip: d.ip.map(u32::from),
            mac: d.mac.clone(),
            user: d.user.as_ref().map(b),
            status: d.status as u8,
            started_at: d.started_at,
            disks: d
                .disks
                .iter()
                .map(|x| DesktopDiskV1 {
                    template_disk: b(&x.template_disk),
                    inx: x.inx,
                    path: x.path.to_string_lossy().into_owned(),
                    version: x.version,
                })
                .collect(),
            spice_password: d.spice_password.clone(),
            terminal_mac: d.terminal_mac.clone(),
            terminal_ip: d.terminal_ip.clone(),
            phase: d.phase as u8,
            created_at: d.created_at,
        }
    }

    fn into_domain(self) -> Desktop {
        Desktop {
            uuid: u(self.uuid),
            seq: self.seq,
            group: u(self.group),
            name: self.name,
            number: self.number,
            seat: self.seat,
            node: u(self.node),
            ip: self.ip.map(Ipv4Addr::from),
            mac: self.mac,
            user: self.user.map(u),
            status: Status::from_tag(self.status),
            started_at: self.started_at,
            disks: self
                .disks
                .into_iter()
                .map(|x| DesktopDisk {
                    template_disk: u(x.template_disk),
                    inx: x.inx,
                    path: x.path.into(),
                    version: x.version,
                })
                .collect(),
            spice_password: self.spice_password,
            terminal_mac: self.terminal_mac,
            terminal_ip: self.terminal_ip,
            phase: Phase::from_tag(self.phase),
            created_at: self.created_at,
        }
    }
}

pub(super) const DESKTOP_V: u16 = 1;

fn dec_desktop(bytes: &[u8]) -> Tx<DesktopV1> {
    codec::decode(DESKTOP_V, bytes).map_err(ConflictableTransactionError::Abort)
}

pub(super) fn index_key(group: &[u8; 16], desktop: &[u8; 16]) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(group);
    k[16..].copy_from_slice(desktop);
    k
}

fn desktop_not_found(uuid: &Uuid) -> Error {
    Error::new(
        Code::DesktopNotFound,
        format!("Desktop {uuid} does not exist"),
    )
}

/// Writes desktops (with the addresses taken for those that asked, in
/// order) and their index entries.
fn put_desktops(
    desktops: &TransactionalTree,
    index: &TransactionalTree,
    list: &[(Desktop, Option<IpReq>)],
    ips: &[Ipv4Addr],
) -> Tx<Vec<Desktop>> {
    let mut given = ips.iter();
    let mut out = Vec::with_capacity(list.len());
    for (d, req) in list {
        let mut d = d.clone();
        if req.is_some() {
            d.ip = given.next().copied();
        }
        let key = b(&d.uuid);
        desktops.insert(&key, codec::encode(DESKTOP_V, &DesktopV1::from_domain(&d)))?;
        index.insert(&index_key(&b(&d.group), &key), &[])?;
        out.push(d);
    }
    Ok(out)
}

fn requests(list: &[(Desktop, Option<IpReq>)]) -> Vec<IpReq> {
    list.iter().filter_map(|(_, r)| r.clone()).collect()
}

impl Store {
    pub fn desktop_group_get(&self, uuid: &Uuid) -> Result<DesktopGroup> {
        Ok(self
            .named_get::<DesktopGroupV1>(&self.desktop_groups, &b(uuid))?
            .into_domain())
    }

    pub fn desktop_group_list(&self) -> Result<Vec<DesktopGroup>> {
        let mut v: Vec<DesktopGroup> = self
            .named_list::<DesktopGroupV1>(&self.desktop_groups)?
            .into_iter()
            .map(DesktopGroupV1::into_domain)
            .collect();
        v.sort_by_key(|g| g.seq);
        Ok(v)
    }

    pub fn desktop_group_name_taken(&self, name: &str) -> Result<bool> {
        self.desktop_group_names
            .contains_key(fold(name).as_bytes())
            .map_err(Error::store)
    }

    /// Inserts a group and its desktops in one transaction: the name, the
    /// references, every desktop, and an address for each that asks.
    pub fn desktop_group_insert(
        &self,
        g: &DesktopGroup,
        list: &[(Desktop, Option<IpReq>)],
    ) -> Result<Vec<Desktop>> {
        let rec = DesktopGroupV1::from_domain(g);
        let bytes = codec::encode(DesktopGroupV1::VERSION, &rec);
        let reqs = requests(list);
        let out = txn((
            &self.desktop_groups,
            &self.desktop_group_names,
            &self.refs,
            &self.desktops,
            &self.desktop_index,
            &self.subnets,
            &self.ip_allocs,
        )
            .transaction(|(groups, names, refs_t, desktops, index, subnets, ips)| {
                let nk = rec.name_key();
                if names.get(&nk)?.is_some() {
                    return abort(rec.name_taken());
                }
                names.insert(nk.as_slice(), &rec.uuid)?;
                groups.insert(&rec.uuid, bytes.as_slice())?;
                for target in rec.uses() {
                    refs::adjust_in_tx(refs_t, &target, RefKind::DesktopGroup, 1)?;
                }
                let taken = ip_take_in_tx(subnets, ips, &reqs)?;
                put_desktops(desktops, index, list, &taken)
            }))?;
        self.bump(Table::Desktop);
        self.bump(Table::Refs);
        self.bump(Table::Network);
        Ok(out)
    }

    /// Adds desktops to an existing group, with their addresses, at once.
    pub fn desktops_insert(
        &self,
        group: &Uuid,
        list: &[(Desktop, Option<IpReq>)],
    ) -> Result<Vec<Desktop>> {
        let gk = b(group);
        let reqs = requests(list);
        let out = txn((
            &self.desktop_groups,
            &self.desktops,
            &self.desktop_index,
            &self.subnets,
            &self.ip_allocs,
        )
            .transaction(|(groups, desktops, index, subnets, ips)| {
                if groups.get(gk)?.is_none() {
                    return abort(DesktopGroupV1::not_found(&gk));
                }
                let taken = ip_take_in_tx(subnets, ips, &reqs)?;
                put_desktops(desktops, index, list, &taken)
            }))?;
        self.bump(Table::Desktop);
        self.bump(Table::Network);
        Ok(out)
    }

    pub fn desktop_group_update(
        &self,
        uuid: &Uuid,
        f: &dyn Fn(DesktopGroup) -> Result<DesktopGroup>,
    ) -> Result<DesktopGroup> {
        self.named_update::<DesktopGroupV1>(
            &self.desktop_groups,
            &self.desktop_group_names,
            &b(uuid),
            &|old| Ok(DesktopGroupV1::from_domain(&f(old.into_domain())?)),
        )
        .map(DesktopGroupV1::into_domain)
    }

    /// Removes a group that has no desktop left (its references go too).
    pub fn desktop_group_delete(&self, uuid: &Uuid) -> Result<DesktopGroup> {
        if self
            .desktop_index
            .scan_prefix(uuid.as_bytes())
            .next()
            .is_some()
        {
            return Err(Error::new(
                Code::DesktopGroupInUse,
                format!("Desktop group {uuid} still has desktops"),
            ));
        }
        self.named_delete::<DesktopGroupV1>(
            &self.desktop_groups,
            &self.desktop_group_names,
            &b(uuid),
            |g, users| {
                Error::new(
                    Code::DesktopGroupInUse,
                    format!("Desktop group `{}` is used by {users}", g.name),
                )
            },
        )
        .map(DesktopGroupV1::into_domain)
    }

    pub fn desktop_get(&self, uuid: &Uuid) -> Result<Desktop> {
        let bytes = self
            .desktops
            .get(uuid.as_bytes())
            .map_err(Error::store)?
            .ok_or_else(|| desktop_not_found(uuid))?;
        Ok(codec::decode::<DesktopV1>(DESKTOP_V, &bytes)?.into_domain())
    }

    /// The desktops of a group, by number.
    pub fn desktops_of(&self, group: &Uuid) -> Result<Vec<Desktop>> {
        let mut v = Vec::new();
        for k in self.desktop_index.scan_prefix(group.as_bytes()).keys() {
            let k = k.map_err(Error::store)?;
            let id = Uuid::from_slice(&k[16..]).map_err(Error::store)?;
            v.push(self.desktop_get(&id)?);
        }
        v.sort_by_key(|d| d.number);
        Ok(v)
    }

    /// Every desktop, in creation order.
    pub fn desktop_list(&self) -> Result<Vec<Desktop>> {
        let mut v: Vec<Desktop> = self
            .desktops
            .iter()
            .values()
            .map(|x| {
                Ok(codec::decode::<DesktopV1>(DESKTOP_V, &x.map_err(Error::store)?)?.into_domain())
            })
            .collect::<Result<_>>()?;
        v.sort_by_key(|d| d.seq);
        Ok(v)
    }

    /// Changes one desktop with `f` (which may refuse), atomically; `f` runs
    /// outside the transaction, again if the desktop changed meanwhile.
    pub fn desktop_update(
        &self,
        uuid: &Uuid,
        f: &dyn Fn(Desktop) -> Result<Desktop>,
    ) -> Result<Desktop> {
        let key = b(uuid);
        let out = super::rmw(&self.desktops, &key, desktop_not_found(uuid), |seen| {
            let old = codec::decode::<DesktopV1>(DESKTOP_V, seen)?.into_domain();
            let new = f(old)?;
            let bytes = codec::encode(DESKTOP_V, &DesktopV1::from_domain(&new));
            txn(self.desktops.transaction(|t| {
                if t.get(key)?.as_deref() != Some(seen) {
                    return Ok(None);
                }
                t.insert(&key, bytes.as_slice())?;
                Ok(Some(new.clone()))
            }))
        })?;
        self.bump(Table::Desktop);
        Ok(out)
    }

    /// Removes desktops and gives their addresses back, in one transaction.
    pub fn desktops_delete(
        &self,
        uuids: &[Uuid],
        classroom: Option<Uuid>,
        subnet: Option<Uuid>,
    ) -> Result<()> {
        txn(
            (&self.desktops, &self.desktop_index, &self.ip_allocs).transaction(
                |(desktops, index, ips)| {
                    let mut pairs = Vec::new();
                    for id in uuids {
                        let key = b(id);
                        let Some(old) = desktops.get(key)? else {
                            continue;
                        };
                        let d = dec_desktop(&old)?.into_domain();
                        if let Some(ip) = d.ip {
                            pairs.push((ip, d.ip_holder(classroom)));
                        }
                        desktops.remove(&key)?;
                        index.remove(&index_key(&b(&d.group), &key))?;
                    }
                    if let Some(s) = &subnet {
                        ip_give_back_in_tx(ips, s, &pairs)?;
                    }
                    Ok(())
                },
            ),
        )?;
        self.bump(Table::Desktop);
        self.bump(Table::Network);
        Ok(())
    }

    /// Who uses a desktop group (for refusals), as text.
    pub fn desktop_group_users(&self, uuid: &Uuid) -> Result<Option<String>> {
        let key = b(uuid);
        txn(self.refs.transaction(|t| users_text(t, &key)))
    }
}
