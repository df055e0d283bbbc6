//! Personal desktops and their users: a random group's free desktop taken
//! atomically at login, and a static desktop bound to or freed from a user.

use uuid::Uuid;

use crate::domain::desktop::{Assign, Desktop, Kind, Phase};
use crate::error::{Code, Error, Result};
use crate::service::Services;

impl Services {
    /// Gives a free desktop of a random group to `user`, atomically: two
    /// logins racing for the last desktop get it once.
    pub async fn desktop_take(&self, group: &Uuid, user: &Uuid) -> Result<Desktop> {
        let g = self.store.desktop_group_get(group)?;
        if g.assign != Some(Assign::Random) {
            return Err(Error::invalid(
                "desktop_uuid",
                format!("group `{}` is not a random group", g.name),
            ));
        }
        let list = self.store.desktops_of(&g.uuid)?;
        if let Some(d) = list.iter().find(|d| d.user == Some(*user)) {
            return Ok(d.clone());
        }
        for d in list
            .iter()
            .filter(|d| d.user.is_none() && d.phase == Phase::Ready)
        {
            let u = *user;
            let r = self.store.desktop_update(&d.uuid, &move |mut x| {
                if x.user.is_some() {
                    return Err(Error::new(Code::NoDesktopFree, "taken"));
                }
                x.user = Some(u);
                Ok(x)
            });
            match r {
                Ok(d) => {
                    self.store.flush().await?;
                    return Ok(d);
                }
                Err(e) if e.code == Code::NoDesktopFree => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::new(
            Code::NoDesktopFree,
            format!("Every desktop of group `{}` is taken", g.name),
        ))
    }

    /// Binds a static group's desktop to a user, or frees it (`None`).
    pub async fn desktop_assign(&self, desktop: &Uuid, user: Option<Uuid>) -> Result<Desktop> {
        let d = self.store.desktop_get(desktop)?;
        let g = self.store.desktop_group_get(&d.group)?;
        if g.kind != Kind::Personal {
            return Err(Error::invalid(
                "desktop_uuid",
                format!("desktop `{}` is in education group `{}`", d.name, g.name),
            ));
        }
        if let Some(u) = &user {
            self.store.user_get(u)?;
            if let Some(other) = self
                .store
                .desktops_of(&g.uuid)?
                .into_iter()
                .find(|x| x.user == Some(*u) && x.uuid != d.uuid)
            {
                return Err(Error::invalid(
                    "user_uuid",
                    format!(
                        "the user already has desktop `{}` in this group",
                        other.name
                    ),
                ));
            }
        }
        let out = self.store.desktop_update(desktop, &|mut x| {
            x.user = user;
            Ok(x)
        })?;
        self.store.flush().await?;
        Ok(out)
    }
}
