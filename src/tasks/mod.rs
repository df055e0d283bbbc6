//! Start-up recovery of tasks a crash left queued or running: a saga's task
//! ends as the saga runner's recovery of its journal says (one owner for
//! every multi-step kind); other kinds have an owner that resumes or rolls
//! back their work; a kind without either (a single store transaction, which
//! either committed or not) is marked failed with a note to check its
//! target.

mod pool;

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::task::{Task, TaskState};
use crate::error::Result;
use crate::host::BoxFuture;
use crate::service::saga::SagaEnd;
use crate::service::Services;

/// The owner's verdict on an interrupted task.
#[derive(Clone, Debug, PartialEq)]
pub enum Recovery {
    /// The work was finished; the task succeeded.
    Completed(String),
    /// The partial work was undone; the task failed with this note.
    RolledBack(String),
}

/// Resumes or undoes the interrupted tasks of one kind.
pub trait TaskOwner: Send + Sync {
    fn kind(&self) -> &'static str;
    fn recover<'a>(
        &'a self,
        services: &'a Arc<Services>,
        task: &'a Task,
    ) -> BoxFuture<'a, Result<Recovery>>;
}

#[derive(Default, Clone)]
pub struct Owners {
    by_kind: HashMap<&'static str, Arc<dyn TaskOwner>>,
}

impl Owners {
    pub fn add(&mut self, owner: Arc<dyn TaskOwner>) {
        self.by_kind.insert(owner.kind(), owner);
    }
}

/// The owners of the task kinds this build knows.
pub fn builtin_owners() -> Owners {
    let mut o = Owners::default();
    for kind in [
        "resource_pool/create",
        "resource_pool/delete",
        "resource_pool/update",
    ] {
        o.add(Arc::new(pool::PoolTasks(kind)));
    }
    o
}

/// A saga's end after a restart, as the task's verdict.
fn saga_verdict(end: SagaEnd) -> Recovery {
    match end {
        SagaEnd::Completed => {
            Recovery::Completed("every step had finished before the restart".into())
        }
        SagaEnd::Finished => Recovery::Completed(
            "interrupted by a service restart past the point of no return; the steps left were run"
                .into(),
        ),
        SagaEnd::Unwound(u) => {
            let undone = if u.undone.is_empty() {
                "nothing".to_string()
            } else {
                u.undone
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut note = format!("interrupted by a service restart; undone: {undone}");
            for (step, why) in &u.failed {
                note.push_str(&format!(
                    "; undoing `{step}` failed ({why}), retried at the next start"
                ));
            }
            if u.failed.is_empty() {
                note.push_str("; run it again");
            }
            Recovery::RolledBack(note)
        }
    }
}

/// Concludes every task left queued or running; returns how many.
pub async fn recover_all(services: &Arc<Services>, owners: &Owners) -> Result<usize> {
    let mut sagas = services.saga_recover().await?;
    let mut n = 0;
    for task in services.task_list()? {
        if task.state.is_final() {
            continue;
        }
        n += 1;
        let verdict = match (
            sagas.remove(&task.id),
            owners.by_kind.get(task.kind.as_str()),
        ) {
            (Some(end), _) => end.map(saga_verdict),
            (None, Some(owner)) => owner.recover(services, &task).await,
            (None, None) => Ok(Recovery::RolledBack(
                "Interrupted by a service restart before its result was recorded; check the target"
                    .into(),
            )),
        };
        let (state, note) = match verdict {
            Ok(Recovery::Completed(note)) => (TaskState::Succeeded, note),
            Ok(Recovery::RolledBack(note)) => (TaskState::Failed, note),
            Err(e) => (
                TaskState::Failed,
                format!("Recovery after restart failed: {}", e.public_message()),
            ),
        };
        // A queued task that never ran cannot succeed; it is cancelled.
        let state = if task.state == TaskState::Queued && state == TaskState::Succeeded {
            TaskState::Cancelled
        } else {
            state
        };
        log::info!(
            "task {} ({}) left {} by a restart: {} — {note}",
            task.id,
            task.kind,
            task.state.as_str(),
            state.as_str()
        );
        services.task_conclude(&task.id, state, &note)?;
    }
    if n > 0 {
        services.store.flush().await?;
    }
    Ok(n)
}

/// Everything a start does about the last run's crash, in order: the
/// sagas and tasks left unfinished (`recover_all`), then, on a controller,
/// what deleted templates left and desktops that match no record, against
/// libvirt. Returns how many tasks were concluded.
pub async fn recover_at_start(services: &Arc<Services>, owners: &Owners) -> Result<usize> {
    let recovered = recover_all(services, owners).await?;
    // A node's domains and files are its controller's: only a controller
    // sweeps what its own records do not name.
    if services.settings.membership.is_none() {
        if let Err(e) = services.template_recover().await {
            log::warn!("template recovery incomplete: {e}");
        }
        match services.desktop_recover().await {
            Ok(n) if n > 0 => log::info!("desktops: repaired {n} thing(s) a crash left"),
            Ok(_) => {}
            Err(e) => log::warn!("desktop recovery incomplete: {e}"),
        }
    }
    Ok(recovered)
}
