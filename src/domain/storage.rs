//! Storage roles per mount point (1 template system disks, 2 template data
//! disks, 3 desktop system disks, 4 desktop data disks) and the directory
//! layout each role needs under the storage's root.

use std::path::{Path, PathBuf};

use super::clock::Millis;
use super::Uuid;
use crate::error::{Error, Result};

/// The four roles, as their numbers on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    TemplateSystem = 1,
    TemplateData = 2,
    DesktopSystem = 3,
    DesktopData = 4,
}

pub const ROLES: [Role; 4] = [
    Role::TemplateSystem,
    Role::TemplateData,
    Role::DesktopSystem,
    Role::DesktopData,
];

impl Role {
    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::TemplateSystem => "template system disks",
            Role::TemplateData => "template data disks",
            Role::DesktopSystem => "desktop system disks",
            Role::DesktopData => "desktop data disks",
        }
    }

    /// The directories this role uses, relative to the storage root: base
    /// images and template versions live in `_base` beside the disks.
    pub fn dirs(self) -> &'static [&'static str] {
        match self {
            Role::TemplateSystem => &["instances", "instances/_base"],
            Role::TemplateData => &["datas", "datas/_base"],
            Role::DesktopSystem => &["instances"],
            Role::DesktopData => &["datas"],
        }
    }
}

/// A set of roles, kept as a bit mask (bit n-1 for role n).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles(pub u8);

impl Roles {
    /// Parses the wire form `"1,2,3,4"` (spaces allowed, no repeats).
    pub fn parse(field: &str, text: &str) -> Result<Roles> {
        let mut set = 0u8;
        for part in text.split(',') {
            let part = part.trim();
            let n: u8 = match part {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                "" => {
                    return Err(Error::invalid(
                        field,
                        format!("`{text}` has an empty role; write roles as \"1,2,3,4\""),
                    ))
                }
                other => {
                    return Err(Error::invalid(
                        field,
                        format!(
                            "role `{other}` is not one of 1 (template system disks), 2 (template data disks), 3 (desktop system disks), 4 (desktop data disks)"
                        ),
                    ))
                }
            };
            let bit = 1 << (n - 1);
            if set & bit != 0 {
                return Err(Error::invalid(field, format!("role {n} is listed twice")));
            }
            set |= bit;
        }
        Ok(Roles(set))
    }

    pub fn has(self, r: Role) -> bool {
        self.0 & (1 << (r.number() - 1)) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        ROLES.into_iter().filter(move |r| self.has(*r))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The wire form, e.g. `"1,2,3,4"`.
    pub fn text(self) -> String {
        self.iter()
            .map(|r| r.number().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn union(self, o: Roles) -> Roles {
        Roles(self.0 | o.0)
    }
}

/// Where a mount point's disks go: the mount point itself, except for the
/// root filesystem, whose disks go to `/srv/vdi` rather than to `/instances`.
pub fn storage_root(mount: &str) -> PathBuf {
    if mount == "/" {
        PathBuf::from("/srv/vdi")
    } else {
        PathBuf::from(mount)
    }
}

/// The directories to create for `roles` under `root`, parents first.
pub fn layout(root: &Path, roles: Roles) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roles.iter() {
        for d in r.dirs() {
            let p = root.join(d);
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out.sort_by_key(|p| p.components().count());
    out
}

/// A mount point of a node with the roles it carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Storage {
    pub uuid: Uuid,
    pub node: Uuid,
    /// The mount point, e.g. `/opt/slow`.
    pub mount: String,
    /// Where the role directories are (see `storage_root`).
    pub root: String,
    pub roles: Roles,
    pub device: String,
    pub fs: String,
    pub rotational: Option<bool>,
    pub total_bytes: u64,
    pub created_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print() {
        let r = Roles::parse("storages./a", "1, 2,3,4").unwrap();
        assert_eq!(r.text(), "1,2,3,4");
        assert_eq!(Roles::parse("f", "3").unwrap().text(), "3");
        assert!(Roles::parse("f", "1,1")
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let e = Roles::parse("storages./a", "5").unwrap_err().to_string();
        assert!(e.contains("storages./a") && e.contains("`5`"), "{e}");
        assert!(Roles::parse("f", "").is_err());
        assert!(Roles::parse("f", "1,").is_err());
    }

    #[test]
    fn layout_lists_each_directory_once_parents_first() {
        let all = layout(
            Path::new("/opt/slow"),
            Roles::parse("f", "4,3,2,1").unwrap(),
        );
        let s: Vec<_> = all.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            s,
            [
                "/opt/slow/instances",
                "/opt/slow/datas",
                "/opt/slow/instances/_base",
                "/opt/slow/datas/_base"
            ]
        );
        let desk = layout(Path::new("/d"), Roles::parse("f", "3").unwrap());
        assert_eq!(desk, vec![PathBuf::from("/d/instances")]);
        assert_eq!(storage_root("/"), PathBuf::from("/srv/vdi"));
        assert_eq!(storage_root("/opt/slow"), PathBuf::from("/opt/slow"));
    }
}
