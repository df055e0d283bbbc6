//! Users of personal desktops: create one or a numbered batch (all or
//! nothing), change, enable or disable, delete (their static desktops are
//! unbound), list. Passwords are stored only as argon2id hashes.

use uuid::Uuid;

use super::auth::hash_password;
use super::Services;
use crate::domain::group::GroupType;
use crate::domain::text::fold;
use crate::domain::user::{batch_names, User};
use crate::error::{Code, Error, Result};

/// A new user as the request gives it (validated at the edge).
#[derive(Clone, Debug)]
pub struct UserSpec {
    pub group: Uuid,
    pub user_name: String,
    pub password: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub enabled: bool,
}

/// A change; `None` keeps the value.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub group: Option<Uuid>,
    pub user_name: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub enabled: Option<bool>,
}

/// Largest batch of users made at once.
pub const MAX_BATCH: u32 = 2000;

impl Services {
    fn user_group_check(&self, g: &Uuid) -> Result<()> {
        let group = self.store.group_get(g)?;
        if group.kind != GroupType::Personal {
            return Err(Error::invalid(
                "group_uuid",
                format!("group `{}` is not a user group", group.name),
            ));
        }
        Ok(())
    }

    fn user_new(&self, s: &UserSpec, hash: String) -> Result<User> {
        let now = self.now_ms();
        Ok(User {
            uuid: Uuid::new_v4(),
            seq: self.store.sequence_next()?,
            group: s.group,
            user_name: s.user_name.clone(),
            name: s.name.clone(),
            phone: s.phone.clone(),
            email: s.email.clone(),
            password_hash: hash,
            enabled: s.enabled,
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn user_create(&self, s: &UserSpec) -> Result<User> {
        self.user_group_check(&s.group)?;
        let hash = self.password_hash(&s.password).await?;
        let u = self.user_new(s, hash)?;
        self.store.users_insert(std::slice::from_ref(&u))?;
        self.store.flush().await?;
        Ok(u)
    }

    /// `count` users named `prefix` + padded number from `start`, with one
    /// password; none is made when one name is taken.
    pub async fn user_multi_create(
        &self,
        template: &UserSpec,
        prefix: &str,
        digits: u32,
        start: u32,
        count: u32,
    ) -> Result<Vec<User>> {
        self.user_group_check(&template.group)?;
        if count == 0 || count > MAX_BATCH {
            return Err(Error::invalid(
                "user_num",
                format!("must be 1 to {MAX_BATCH}"),
            ));
        }
        // One hash for the batch: the same password, and argon2 is slow on purpose.
        let hash = self.password_hash(&template.password).await?;
        let list = batch_names(prefix, digits, start, count)
            .into_iter()
            .map(|n| {
                let mut s = template.clone();
                s.user_name = n;
                self.user_new(&s, hash.clone())
            })
            .collect::<Result<Vec<_>>>()?;
        self.store.users_insert(&list)?;
        self.store.flush().await?;
        Ok(list)
    }

    pub async fn user_update(&self, uuid: &Uuid, p: UserPatch) -> Result<User> {
        if let Some(g) = &p.group {
            self.user_group_check(g)?;
        }
        let hash = match p.password.clone() {
            Some(pw) => Some(self.password_hash(&pw).await?),
            None => None,
        };
        let out = self.store.user_update(uuid, &|mut u| {
            if let Some(v) = p.group {
                u.group = v;
            }
            if let Some(v) = &p.user_name {
                u.user_name = v.clone();
            }
            if let Some(v) = &hash {
                u.password_hash = v.clone();
            }
            if let Some(v) = &p.name {
                u.name = v.clone();
            }
            if let Some(v) = &p.phone {
                u.phone = v.clone();
            }
            if let Some(v) = &p.email {
                u.email = v.clone();
            }
            if let Some(v) = p.enabled {
                u.enabled = v;
            }
            u.updated_at = self.now_ms();
            Ok(u)
        })?;
        self.store.flush().await?;
        Ok(out)
    }

    /// Deletes a user; desktops bound to them are freed (a running one
    /// refuses the delete).
    pub async fn user_delete(&self, uuid: &Uuid) -> Result<User> {
        let u = self.store.user_get(uuid)?;
        let bound: Vec<_> = self
            .store
            .desktop_list()?
            .into_iter()
            .filter(|d| d.user == Some(u.uuid))
            .collect();
        if let Some(d) = bound
            .iter()
            .find(|d| d.status == crate::domain::desktop::Status::Active)
        {
            return Err(Error::new(
                Code::UserInUse,
                format!("User `{}` uses running desktop `{}`", u.user_name, d.name),
            ));
        }
        for d in &bound {
            self.store.desktop_update(&d.uuid, &|mut x| {
                x.user = None;
                Ok(x)
            })?;
        }
        let out = self.store.user_delete(uuid)?;
        self.store.terminal_session_of_user_end(uuid)?;
        self.store.flush().await?;
        Ok(out)
    }

    /// Imports users read from a CSV (`(line, spec)`), all or none: a name
    /// used twice in the file or already taken names its line. Errors name
    /// lines, never cells: the file carries passwords, and a password in
    /// the name column would otherwise reach the reply and the log.
    pub async fn user_import(&self, rows: Vec<(usize, UserSpec)>) -> Result<Vec<User>> {
        let Some((_, first)) = rows.first() else {
            return Err(Error::invalid("csv", "has no user rows"));
        };
        self.user_group_check(&first.group)?;
        let mut seen = std::collections::HashMap::new();
        let mut refused = crate::error::Refusals::default();
        for (line, s) in &rows {
            if let Some(before) = seen.insert(fold(&s.user_name), *line) {
                refused.add(Error::new(
                    Code::UserNameExists,
                    format!("CSV line {line}: the user name is also on line {before}"),
                ));
            } else if self.store.user_by_name(&s.user_name)?.is_some() {
                refused.add(Error::new(
                    Code::UserNameExists,
                    format!("CSV line {line}: a user with this name already exists"),
                ));
            }
        }
        refused.into_result()?;
        // Each row has its own password: hash a core's worth at a time (each
        // hash takes 7 MiB).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut list = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(cores) {
            let jobs: Vec<_> = chunk
                .iter()
                .map(|(_, s)| {
                    let pw = s.password.clone();
                    smol::unblock(move || hash_password(&pw))
                })
                .collect();
            for ((_, s), job) in chunk.iter().zip(jobs) {
                list.push(self.user_new(s, job.await?)?);
            }
        }
        self.store.users_insert(&list)?;
        self.store.flush().await?;
        Ok(list)
    }

    pub fn user_list(&self) -> Result<Vec<User>> {
        self.store.user_list()
    }
}
