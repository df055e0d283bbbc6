//! Resource pools: create, update, delete, get and list.

use uuid::Uuid;

use super::{Actor, Services};
use crate::domain::pool::{NewPool, PoolPatch, ResourcePool};
use crate::error::Result;

impl Services {
    pub async fn resource_pool_create(&self, actor: &Actor, req: NewPool) -> Result<ResourcePool> {
        let now = self.now_ms();
        let pool = ResourcePool {
            uuid: Uuid::new_v4(),
            seq: 0,
            name: req.name,
            desc: req.desc,
            is_default: req.make_default,
            created_at: now,
            updated_at: now,
        };
        let stored = self.store.pool_insert(&pool)?;
        self.store.flush().await?;
        log::info!(
            "{} created resource pool {} ({})",
            actor.name,
            stored.name,
            stored.uuid
        );
        Ok(stored)
    }

    pub async fn resource_pool_update(
        &self,
        actor: &Actor,
        uuid: &Uuid,
        patch: PoolPatch,
    ) -> Result<ResourcePool> {
        let stored = self.store.pool_update(uuid, &patch, self.now_ms())?;
        self.store.flush().await?;
        log::info!(
            "{} updated resource pool {} ({})",
            actor.name,
            stored.name,
            stored.uuid
        );
        Ok(stored)
    }

    pub async fn resource_pool_delete(&self, actor: &Actor, uuid: &Uuid) -> Result<ResourcePool> {
        let gone = self.store.pool_delete(uuid)?;
        self.store.flush().await?;
        log::info!(
            "{} deleted resource pool {} ({})",
            actor.name,
            gone.name,
            gone.uuid
        );
        Ok(gone)
    }

    pub fn resource_pool_get(&self, uuid: &Uuid) -> Result<ResourcePool> {
        self.store.pool_get(uuid)
    }

    pub fn resource_pool_find(&self, name: &str) -> Result<Option<ResourcePool>> {
        self.store.pool_by_name(name)
    }

    /// Every pool, oldest first.
    /// `pool` when it exists, else the default pool.
    pub fn resource_pool_or_default(&self, pool: Option<Uuid>) -> Result<Uuid> {
        match pool {
            Some(p) => Ok(self.store.pool_get(&p)?.uuid),
            None => self.store.pool_default()?.ok_or_else(|| {
                crate::error::Error::new(
                    crate::error::Code::PoolNotFound,
                    "There is no default resource pool",
                )
            }),
        }
    }

    pub fn resource_pool_list(&self) -> Result<Vec<ResourcePool>> {
        let mut v = self.store.pool_list()?;
        v.sort_by_key(|p| p.seq);
        Ok(v)
    }
}
