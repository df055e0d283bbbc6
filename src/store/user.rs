//! Users: versioned records, the unique login-name index, the reference on
//! their user group, and an all-or-nothing batch insert.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sled::transaction::abort;
use sled::Transactional;
use uuid::Uuid;

use super::named::Rec;
use super::refs::{self, RefKind};
use super::{codec, txn, Store, Table};
use crate::domain::text::fold;
use crate::domain::user::User;
use crate::error::{Code, Error, Result};

#[derive(Encode, Decode, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct UserV1 {
    pub uuid: [u8; 16],
    pub seq: u64,
    pub group: [u8; 16],
    pub user_name: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub password_hash: String,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserV1 {
    fn from_domain(u: &User) -> Self {
        UserV1 {
            uuid: *u.uuid.as_bytes(),
            seq: u.seq,
            group: *u.group.as_bytes(),
            user_name: u.user_name.clone(),
            name: u.name.clone(),
            phone: u.phone.clone(),
            email: u.email.clone(),
            password_hash: u.password_hash.clone(),
            enabled: u.enabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }

    fn into_domain(self) -> User {
        User {
            uuid: Uuid::from_bytes(self.uuid),
            seq: self.seq,
            group: Uuid::from_bytes(self.group),
            user_name: self.user_name,
            name: self.name,
            phone: self.phone,
            email: self.email,
            password_hash: self.password_hash,
            enabled: self.enabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Rec for UserV1 {
    const VERSION: u16 = 1;
    const TABLE: Table = Table::User;
    const REF_KIND: RefKind = RefKind::User;
    fn key(&self) -> [u8; 16] {
        self.uuid
    }
    fn name_key(&self) -> Vec<u8> {
        fold(&self.user_name).into_bytes()
    }
    fn name_taken(&self) -> Error {
        Error::new(
            Code::UserNameExists,
            format!("User `{}` already exists", self.user_name),
        )
    }
    fn not_found(key: &[u8; 16]) -> Error {
        Error::new(
            Code::UserNotFound,
            format!("User {} does not exist", Uuid::from_bytes(*key)),
        )
    }
    fn uses(&self) -> Vec<[u8; 16]> {
        vec![self.group]
    }
}

impl Store {
    pub fn user_get(&self, uuid: &Uuid) -> Result<User> {
        Ok(self
            .named_get::<UserV1>(&self.users, uuid.as_bytes())?
            .into_domain())
    }

    /// The user with this login name (compared case-folded), if any.
    pub fn user_by_name(&self, user_name: &str) -> Result<Option<User>> {
        match self
            .user_names
            .get(fold(user_name).as_bytes())
            .map_err(Error::store)?
        {
            Some(id) => {
                let id = <[u8; 16]>::try_from(id.as_ref()).map_err(Error::store)?;
                self.user_get(&Uuid::from_bytes(id)).map(Some)
            }
            None => Ok(None),
        }
    }

    pub fn user_list(&self) -> Result<Vec<User>> {
        let mut v: Vec<User> = self
            .named_list::<UserV1>(&self.users)?
            .into_iter()
            .map(UserV1::into_domain)
            .collect();
        v.sort_by_key(|u| u.seq);
        Ok(v)
    }

    /// Inserts users all together, or none when one name is taken.
    pub fn users_insert(&self, list: &[User]) -> Result<()> {
        let recs: Vec<UserV1> = list.iter().map(UserV1::from_domain).collect();
        txn(
            (&self.users, &self.user_names, &self.refs).transaction(|(users, names, refs_t)| {
                for r in &recs {
                    let nk = r.name_key();
                    if names.get(&nk)?.is_some() {
                        return abort(r.name_taken());
                    }
                    names.insert(nk.as_slice(), &r.uuid)?;
                    users.insert(&r.uuid, codec::encode(UserV1::VERSION, r))?;
                    refs::adjust_in_tx(refs_t, &r.group, RefKind::User, 1)?;
                }
                Ok(())
            }),
        )?;
        self.bump(Table::User);
        self.bump(Table::Refs);
        Ok(())
    }

    pub fn user_update(&self, uuid: &Uuid, f: &dyn Fn(User) -> Result<User>) -> Result<User> {
        self.named_update::<UserV1>(&self.users, &self.user_names, uuid.as_bytes(), &|old| {
            Ok(UserV1::from_domain(&f(old.into_domain())?))
        })
        .map(UserV1::into_domain)
    }

    pub fn user_delete(&self, uuid: &Uuid) -> Result<User> {
        self.named_delete::<UserV1>(&self.users, &self.user_names, uuid.as_bytes(), |u, by| {
            Error::new(
                Code::UserInUse,
                format!("User `{}` is used by {by}", u.user_name),
            )
        })
        .map(UserV1::into_domain)
    }
}
