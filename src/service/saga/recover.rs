//! Start-up recovery of sagas: every journal left in the store is either
//! complete (the crash came after the last step) or unwound from its facts.
//! One owner for every kind: a kind is listed here with its saga type.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use super::{past_pivot, Saga, Unwound};
use crate::domain::saga::Journal;
use crate::error::{Error, Result};
use crate::host::BoxFuture;
use crate::service::controller_init::ControllerInit;
use crate::service::desktop::sagas::{
    DesktopGroupCreate, DesktopGroupDelete, DesktopsAdd, DesktopsDelete,
};
use crate::service::image::distribute::ImageDistribute;
use crate::service::node::add::NodeAdd;
use crate::service::node::delete::NodeDelete;
use crate::service::template::sagas::{TemplateMake, TemplateSave};
use crate::service::Services;

/// How an interrupted saga ended at start-up.
#[derive(Debug, Clone, PartialEq)]
pub enum SagaEnd {
    /// Every step had finished.
    Completed,
    /// It was past its pivot: the steps left were run.
    Finished,
    /// The steps it reached were undone (all, or with failures named).
    Unwound(Unwound),
}

type Recover = fn(Arc<Services>, Journal) -> BoxFuture<'static, Result<SagaEnd>>;

fn recover_as<S: Saga>(s: Arc<Services>, mut j: Journal) -> BoxFuture<'static, Result<SagaEnd>> {
    Box::pin(async move {
        if j.complete(S::STEPS) {
            s.store.saga_delete(&j.task)?;
            return Ok(SagaEnd::Completed);
        }
        let facts: S::Facts = serde_json::from_str(&j.facts).map_err(|e| {
            Error::internal(format!(
                "{} journal {}: unreadable facts: {e}",
                S::KIND,
                j.task
            ))
        })?;
        let mut saga = S::resumed(facts);
        if past_pivot::<S>(&j) {
            s.saga_finish(&mut saga, &mut j).await?;
            return Ok(SagaEnd::Finished);
        }
        Ok(SagaEnd::Unwound(s.saga_unwind(&saga, &mut j).await))
    })
}

/// Every saga kind this build runs, with its recovery.
pub const KINDS: &[(&str, Recover)] = &[
    (ControllerInit::KIND, recover_as::<ControllerInit>),
    (DesktopGroupCreate::KIND, recover_as::<DesktopGroupCreate>),
    (DesktopGroupDelete::KIND, recover_as::<DesktopGroupDelete>),
    (DesktopsAdd::KIND, recover_as::<DesktopsAdd>),
    (DesktopsDelete::KIND, recover_as::<DesktopsDelete>),
    (NodeAdd::KIND, recover_as::<NodeAdd>),
    (NodeDelete::KIND, recover_as::<NodeDelete>),
    (TemplateMake::KIND, recover_as::<TemplateMake>),
    (TemplateSave::KIND, recover_as::<TemplateSave>),
    (ImageDistribute::KIND, recover_as::<ImageDistribute>),
];

impl Services {
    /// Concludes every saga journal left by a crash; returns each task's end.
    pub async fn saga_recover(self: &Arc<Self>) -> Result<HashMap<Uuid, Result<SagaEnd>>> {
        let mut out = HashMap::new();
        for j in self.store.saga_list()? {
            let task = j.task;
            let end = match KINDS.iter().find(|(k, _)| *k == j.kind) {
                Some((_, recover)) => recover(self.clone(), j).await,
                None => Err(Error::internal(format!(
                    "a journal of unknown kind `{}` (from a newer version?) stays",
                    j.kind
                ))),
            };
            match &end {
                Ok(e) => log::info!("saga of task {task} after the restart: {e:?}"),
                Err(e) => log::error!("saga of task {task}: {e}"),
            }
            out.insert(task, end);
        }
        Ok(out)
    }
}
