//! Groups, base images, ISOs and templates: their versioned records and
//! the named-table operations over them (unique names, references).

use std::net::Ipv4Addr;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::named::Rec;
use super::refs::RefKind;
use super::{Store, Table};
use crate::domain::group::{Group, GroupType};
use crate::domain::image::{BaseImage, Iso};
use crate::domain::ipv4::Range;
use crate::domain::template::{
    Classify, OpType, Operation, Status, Template, TemplateDisk, Version,
};
use crate::domain::text::fold;
use crate::error::{Code, Error, Result};

fn u(b: [u8; 16]) -> Uuid {
    Uuid::from_bytes(b)
}

fn b(u: &Uuid) -> [u8; 16] {
    *u.as_bytes()
}

fn opt(x: &Option<Uuid>) -> Option<[u8; 16]> {
    x.as_ref().map(b)
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct GroupV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    pub desc: String,
    pub kind: u8,
    pub network: Option<[u8; 16]>,
    pub subnet: Option<[u8; 16]>,
    pub range: Option<(u32, u32)>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl GroupV1 {
    fn from_domain(g: &Group) -> Self {
        GroupV1 {
            uuid: b(&g.uuid),
            seq: g.seq,
            name: g.name.clone(),
            desc: g.desc.clone(),
            kind: g.kind as u8,
            network: opt(&g.network),
            subnet: opt(&g.subnet),
            range: g.range.map(|r| (r.start.into(), r.end.into())),
            enabled: g.enabled,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }

    fn into_domain(self) -> Group {
        Group {
            uuid: u(self.uuid),
            seq: self.seq,
            name: self.name,
            desc: self.desc,
            kind: if self.kind == 2 {
                GroupType::Personal
            } else {
                GroupType::Education
            },
            network: self.network.map(u),
            subnet: self.subnet.map(u),
            range: self
                .range
                .and_then(|(a, z)| Range::new(Ipv4Addr::from(a), Ipv4Addr::from(z)).ok()),
            enabled: self.enabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Rec for GroupV1 {
    const VERSION: u16 = 1;
    const TABLE: Table = Table::Group;
    const REF_KIND: RefKind = RefKind::Group;
    fn key(&self) -> [u8; 16] {
        self.uuid
    }
    fn name_key(&self) -> Vec<u8> {
        fold(&self.name).into_bytes()
    }
    fn name_taken(&self) -> Error {
        Error::new(
            Code::GroupNameExists,
            format!("Group `{}` already exists", self.name),
        )
    }
    fn not_found(key: &[u8; 16]) -> Error {
        Error::new(
            Code::GroupNotFound,
            format!("Group {} does not exist", u(*key)),
        )
    }
    fn uses(&self) -> Vec<[u8; 16]> {
        self.network.into_iter().chain(self.subnet).collect()
    }
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct ImageV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    pub pool: [u8; 16],
    pub os_type: String,
    pub path: String,
    pub md5: String,
    pub size: u64,
    pub virtual_size: u64,
    pub nodes: Vec<[u8; 16]>,
    pub created_at: i64,
}

impl ImageV1 {
    fn from_domain(i: &BaseImage) -> Self {
        ImageV1 {
            uuid: b(&i.uuid),
            seq: i.seq,
            name: i.name.clone(),
            pool: b(&i.pool),
            os_type: i.os_type.clone(),
            path: i.path.to_string_lossy().into_owned(),
            md5: i.md5.clone(),
            size: i.size,
            virtual_size: i.virtual_size,
            nodes: i.nodes.iter().map(b).collect(),
            created_at: i.created_at,
        }
    }

    fn into_domain(self) -> BaseImage {
        BaseImage {
            uuid: u(self.uuid),
            seq: self.seq,
            name: self.name,
            pool: u(self.pool),
            os_type: self.os_type,
            path: self.path.into(),
            md5: self.md5,
            size: self.size,
            virtual_size: self.virtual_size,
            nodes: self.nodes.into_iter().map(u).collect(),
            created_at: self.created_at,
        }
    }
}

impl Rec for ImageV1 {
    const VERSION: u16 = 1;
    const TABLE: Table = Table::Image;
    const REF_KIND: RefKind = RefKind::BaseImage;
    fn key(&self) -> [u8; 16] {
        self.uuid
    }
    fn name_key(&self) -> Vec<u8> {
        [b"image:".as_slice(), fold(&self.name).as_bytes()].concat()
    }
    fn name_taken(&self) -> Error {
        Error::new(
            Code::ImageNameExists,
            format!("Base image `{}` already exists", self.name),
        )
    }
    fn not_found(key: &[u8; 16]) -> Error {
        Error::new(
            Code::ImageNotFound,
            format!("Base image {} does not exist", u(*key)),
        )
    }
    fn uses(&self) -> Vec<[u8; 16]> {
        vec![self.pool]
    }
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct IsoV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    pub os_type: String,
    pub path: String,
    pub md5: String,
    pub size: u64,
    pub created_at: i64,
}

impl IsoV1 {
    fn from_domain(i: &Iso) -> Self {
        IsoV1 {
            uuid: b(&i.uuid),
            seq: i.seq,
            name: i.name.clone(),
            os_type: i.os_type.clone(),
            path: i.path.to_string_lossy().into_owned(),
            md5: i.md5.clone(),
            size: i.size,
            created_at: i.created_at,
        }
    }

    fn into_domain(self) -> Iso {
        Iso {
            uuid: u(self.uuid),
            seq: self.seq,
            name: self.name,
            os_type: self.os_type,
            path: self.path.into(),
            md5: self.md5,
            size: self.size,
            created_at: self.created_at,
        }
    }
}

impl Rec for IsoV1 {
    const VERSION: u16 = 1;
    const TABLE: Table = Table::Image;
    const REF_KIND: RefKind = RefKind::BaseImage;
    fn key(&self) -> [u8; 16] {
        self.uuid
    }
    fn name_key(&self) -> Vec<u8> {
        [b"iso:".as_slice(), fold(&self.name).as_bytes()].concat()
    }
    fn name_taken(&self) -> Error {
        Error::new(
            Code::ImageNameExists,
            format!("ISO `{}` already exists", self.name),
        )
    }
    fn not_found(key: &[u8; 16]) -> Error {
        Error::new(Code::IsoNotFound, format!("ISO {} does not exist", u(*key)))
    }
    fn uses(&self) -> Vec<[u8; 16]> {
        Vec::new()
    }
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct DiskV1 {
    pub uuid: [u8; 16],
    pub inx: u32,
    pub size_gb: u32,
    pub dir: String,
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct VersionV1 {
    pub number: u32,
    pub parent: u32,
    pub remark: String,
    pub created_at: i64,
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct OpV1 {
    pub uuid: [u8; 16],
    pub version: u32,
    pub remark: String,
    pub op_type: u8,
    pub at: i64,
}

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct TemplateV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub name: String,
    pub desc: String,
    pub owner: String,
    pub os_type: String,
    pub classify: u8,
    pub pool: [u8; 16],
    pub node: [u8; 16],
    pub network: Option<[u8; 16]>,
    pub subnet: Option<[u8; 16]>,
    pub bind_ip: Option<u32>,
    pub mac: String,
    pub vcpu: u32,
    pub ram_mb: u64,
    pub groups: Vec<[u8; 16]>,
    pub base_image: Option<[u8; 16]>,
    pub iso: Option<[u8; 16]>,
    pub disks: Vec<DiskV1>,
    pub status: u8,
    pub version: u32,
    pub versions: Vec<VersionV1>,
    pub ops: Vec<OpV1>,
    pub spice_password: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TemplateV1 {
    fn from_domain(t: &Template) -> Self {
        TemplateV1 {
            uuid: b(&t.uuid),
            seq: t.seq,
            name: t.name.clone(),
            desc: t.desc.clone(),
            owner: t.owner.clone(),
            os_type: t.os_type.clone(),
            classify: t.classify as u8,
            pool: b(&t.pool),
            node: b(&t.node),
            network: opt(&t.network),
            subnet: opt(&t.subnet),
            bind_ip: t.bind_ip.map(u32::from),
            mac: t.mac.clone(),
            vcpu: t.vcpu,
            ram_mb: t.ram_mb,
            groups: t.groups.iter().map(b).collect(),
            base_image: opt(&t.base_image),
            iso: opt(&t.iso),
            disks: t
                .disks
                .iter()
                .map(|d| DiskV1 {
                    uuid: b(&d.uuid),
                    inx: d.inx,
                    size_gb: d.size_gb,
                    dir: d.dir.to_string_lossy().into_owned(),
                })
                .collect(),
            status: t.status.tag(),
            version: t.version,
            versions: t
                .versions
                .iter()
                .map(|v| VersionV1 {
                    number: v.number,
                    parent: v.parent,
                    remark: v.remark.clone(),
                    created_at: v.created_at,
                })
                .collect(),
            ops: t
                .ops
                .iter()
                .map(|o| OpV1 {
                    uuid: b(&o.uuid),
                    version: o.version,
                    remark: o.remark.clone(),
                    op_type: o.op_type as u8,
                    at: o.at,
                })
                .collect(),
            spice_password: t.spice_password.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }

    fn into_domain(self) -> Template {
        Template {
            uuid: u(self.uuid),
            seq: self.seq,
            name: self.name,
            desc: self.desc,
            owner: self.owner,
            os_type: self.os_type,
            classify: Classify::from_number(self.classify).unwrap_or(Classify::Teaching),
            pool: u(self.pool),
            node: u(self.node),
            network: self.network.map(u),
            subnet: self.subnet.map(u),
            bind_ip: self.bind_ip.map(Ipv4Addr::from),
            mac: self.mac,
            vcpu: self.vcpu,
            ram_mb: self.ram_mb,
            groups: self.groups.into_iter().map(u).collect(),
            base_image: self.base_image.map(u),
            iso: self.iso.map(u),
            disks: self
                .disks
                .into_iter()
                .map(|d| TemplateDisk {
                    uuid: u(d.uuid),
                    inx: d.inx,
                    size_gb: d.size_gb,
                    dir: d.dir.into(),
                })
                .collect(),
            status: Status::from_tag(self.status),
            version: self.version,
            versions: self
                .versions
                .into_iter()
                .map(|v| Version {
                    number: v.number,
                    parent: v.parent,
                    remark: v.remark,
                    created_at: v.created_at,
                })
                .collect(),
            ops: self
                .ops
                .into_iter()
                .map(|o| Operation {
                    uuid: u(o.uuid),
                    version: o.version,
                    remark: o.remark,
                    op_type: if o.op_type == 2 {
                        OpType::Rollback
                    } else {
                        OpType::Update
                    },
                    at: o.at,
                })
                .collect(),
            spice_password: self.spice_password,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Rec for TemplateV1 {
    const VERSION: u16 = 1;
    const TABLE: Table = Table::Template;
    const REF_KIND: RefKind = RefKind::Template;
    fn key(&self) -> [u8; 16] {
        self.uuid
    }
    fn name_key(&self) -> Vec<u8> {
        fold(&self.name).into_bytes()
    }
    fn name_taken(&self) -> Error {
        Error::new(
            Code::TemplateNameExists,
            format!("Template `{}` already exists", self.name),
        )
    }
    fn not_found(key: &[u8; 16]) -> Error {
        Error::new(
            Code::TemplateNotFound,
            format!("Template {} does not exist", u(*key)),
        )
    }
    fn uses(&self) -> Vec<[u8; 16]> {
        let mut v = vec![self.pool];
        v.extend(self.network);
        v.extend(self.base_image);
        v.extend(self.iso);
        v.extend(self.groups.iter().copied());
        v
    }
}

impl Store {
    pub fn group_get(&self, uuid: &Uuid) -> Result<Group> {
        Ok(self
            .named_get::<GroupV1>(&self.groups, &b(uuid))?
            .into_domain())
    }

    pub fn group_list(&self) -> Result<Vec<Group>> {
        let mut v: Vec<Group> = self
            .named_list::<GroupV1>(&self.groups)?
            .into_iter()
            .map(GroupV1::into_domain)
            .collect();
        v.sort_by_key(|g| g.seq);
        Ok(v)
    }

    /// Inserts a group; an education group's range may not overlap another's.
    pub fn group_insert(&self, g: &Group) -> Result<()> {
        let others = self.group_list()?;
        group_range_free(&others, g)?;
        self.named_insert(&self.groups, &self.group_names, &GroupV1::from_domain(g))
    }

    pub fn group_update(&self, uuid: &Uuid, f: &dyn Fn(Group) -> Result<Group>) -> Result<Group> {
        let others = self.group_list()?;
        self.named_update::<GroupV1>(&self.groups, &self.group_names, &b(uuid), &|old| {
            let new = f(old.into_domain())?;
            group_range_free(&others, &new)?;
            Ok(GroupV1::from_domain(&new))
        })
        .map(GroupV1::into_domain)
    }

    pub fn group_delete(&self, uuid: &Uuid) -> Result<Group> {
        self.named_delete::<GroupV1>(&self.groups, &self.group_names, &b(uuid), |g, users| {
            Error::new(
                Code::GroupInUse,
                format!("Group `{}` is used by {users}", g.name),
            )
        })
        .map(GroupV1::into_domain)
    }

    pub fn image_get(&self, uuid: &Uuid) -> Result<BaseImage> {
        Ok(self
            .named_get::<ImageV1>(&self.images, &b(uuid))?
            .into_domain())
    }

    pub fn image_list(&self) -> Result<Vec<BaseImage>> {
        let mut v: Vec<BaseImage> = self
            .named_list::<ImageV1>(&self.images)?
            .into_iter()
            .map(ImageV1::into_domain)
            .collect();
        v.sort_by_key(|i| i.seq);
        Ok(v)
    }

    pub fn image_insert(&self, i: &BaseImage) -> Result<()> {
        self.named_insert(&self.images, &self.image_names, &ImageV1::from_domain(i))
    }

    pub fn image_update(
        &self,
        uuid: &Uuid,
        f: &dyn Fn(BaseImage) -> Result<BaseImage>,
    ) -> Result<BaseImage> {
        self.named_update::<ImageV1>(&self.images, &self.image_names, &b(uuid), &|old| {
            Ok(ImageV1::from_domain(&f(old.into_domain())?))
        })
        .map(ImageV1::into_domain)
    }

    pub fn image_delete(&self, uuid: &Uuid) -> Result<BaseImage> {
        self.named_delete::<ImageV1>(&self.images, &self.image_names, &b(uuid), |i, users| {
            Error::new(
                Code::ImageInUse,
                format!("Base image `{}` is used by {users}", i.name),
            )
        })
        .map(ImageV1::into_domain)
    }

    pub fn iso_get(&self, uuid: &Uuid) -> Result<Iso> {
        Ok(self.named_get::<IsoV1>(&self.isos, &b(uuid))?.into_domain())
    }

    pub fn iso_list(&self) -> Result<Vec<Iso>> {
        let mut v: Vec<Iso> = self
            .named_list::<IsoV1>(&self.isos)?
            .into_iter()
            .map(IsoV1::into_domain)
            .collect();
        v.sort_by_key(|i| i.seq);
        Ok(v)
    }

    pub fn iso_insert(&self, i: &Iso) -> Result<()> {
        self.named_insert(&self.isos, &self.image_names, &IsoV1::from_domain(i))
    }

    pub fn iso_delete(&self, uuid: &Uuid) -> Result<Iso> {
        self.named_delete::<IsoV1>(&self.isos, &self.image_names, &b(uuid), |i, users| {
            Error::new(
                Code::ImageInUse,
                format!("ISO `{}` is used by {users}", i.name),
            )
        })
        .map(IsoV1::into_domain)
    }

    pub fn template_get(&self, uuid: &Uuid) -> Result<Template> {
        Ok(self
            .named_get::<TemplateV1>(&self.templates, &b(uuid))?
            .into_domain())
    }

    pub fn template_list(&self) -> Result<Vec<Template>> {
        let mut v: Vec<Template> = self
            .named_list::<TemplateV1>(&self.templates)?
            .into_iter()
            .map(TemplateV1::into_domain)
            .collect();
        v.sort_by_key(|t| t.seq);
        Ok(v)
    }

    /// Inserts a template; everything it uses must exist at that moment.
    pub fn template_insert(&self, t: &Template) -> Result<()> {
        self.named_insert(
            &self.templates,
            &self.template_names,
            &TemplateV1::from_domain(t),
        )
    }

    pub fn template_update(
        &self,
        uuid: &Uuid,
        f: &dyn Fn(Template) -> Result<Template>,
    ) -> Result<Template> {
        self.named_update::<TemplateV1>(&self.templates, &self.template_names, &b(uuid), &|old| {
            Ok(TemplateV1::from_domain(&f(old.into_domain())?))
        })
        .map(TemplateV1::into_domain)
    }

    pub fn template_delete(&self, uuid: &Uuid) -> Result<Template> {
        self.named_delete::<TemplateV1>(
            &self.templates,
            &self.template_names,
            &b(uuid),
            |t, users| {
                Error::new(
                    Code::TemplateInUse,
                    format!("Template `{}` is used by {users}", t.name),
                )
            },
        )
        .map(TemplateV1::into_domain)
    }

    pub fn template_name_taken(&self, name: &str) -> Result<bool> {
        self.template_names
            .contains_key(fold(name).as_bytes())
            .map_err(Error::store)
    }
}

fn group_range_free(others: &[Group], g: &Group) -> Result<()> {
    let Some(r) = g.range else { return Ok(()) };
    for o in others.iter().filter(|o| o.uuid != g.uuid) {
        if let Some(or) = o.range {
            if or.overlaps(&r) {
                return Err(Error::new(
                    Code::GroupRangeOverlap,
                    format!(
                        "Terminal range {}-{} overlaps classroom `{}` ({}-{})",
                        r.start, r.end, o.name, or.start, or.end
                    ),
                ));
            }
        }
    }
    Ok(())
}
