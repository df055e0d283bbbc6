//! Tasks: persisted records of slow operations, run in the background when a
//! caller asks for `async`, with progress, log lines and a final result.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::wake::Waiters;
use super::{Actor, Services};
use crate::domain::task::{Task, TaskState};
use crate::error::{Code, Error, Result};
use crate::host::BoxFuture;

/// Runs a future in the background (the service's executor).
pub type Spawner = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

pub struct TaskRuntime {
    spawner: Spawner,
    in_flight: AtomicUsize,
    /// Callers waiting for a task's end to be on record, told when it is.
    settling: Waiters<Uuid>,
    /// Callers waiting for no task to run (shutdown), told when none does.
    draining: Waiters<()>,
}

impl TaskRuntime {
    pub fn new(spawner: Spawner) -> Self {
        TaskRuntime {
            spawner,
            in_flight: AtomicUsize::new(0),
            settling: Waiters::default(),
            draining: Waiters::default(),
        }
    }

    /// One task fewer; the last one wakes whoever drains.
    fn ended(&self) {
        if self.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.draining.wake(&());
        }
    }
}

/// What a running task's work uses to report progress.
#[derive(Clone)]
pub struct TaskHandle {
    pub id: Uuid,
    services: Arc<Services>,
}

impl TaskHandle {
    /// The handle of an existing task (recovery continuing its work).
    pub(crate) fn of(id: Uuid, services: Arc<Services>) -> TaskHandle {
        TaskHandle { id, services }
    }

    /// Sets the percentage and appends `line` (when not empty) to the log:
    /// a small write each, however long the log grows.
    pub fn progress(&self, percent: u8, line: &str) {
        let store = &self.services.store;
        let r = store
            .task_update(&self.id, &|t| t.percent = percent.min(100))
            .and_then(|_| match line.is_empty() {
                true => Ok(()),
                false => store.task_log_append(&self.id, line),
            });
        if let Err(e) = r {
            log::warn!("task {}: cannot record progress: {e}", self.id);
        }
    }
}

impl Services {
    /// Persists a queued task and runs `work` in the background; the task
    /// ends succeeded with the work's JSON result, or failed with its error.
    pub async fn task_spawn(
        self: &Arc<Self>,
        actor: &Actor,
        kind: &str,
        target: &str,
        input: String,
        work: Box<dyn FnOnce(TaskHandle) -> BoxFuture<'static, Result<String>> + Send>,
    ) -> Result<Uuid> {
        if self.is_stopping() {
            return Err(Error::new(
                Code::ShuttingDown,
                "The service is stopping; retry when it is back",
            ));
        }
        let task = Task {
            id: Uuid::new_v4(),
            seq: self.store.sequence_next()?,
            kind: kind.into(),
            target: target.into(),
            owner: actor.name.clone(),
            state: TaskState::Queued,
            percent: 0,
            log: Vec::new(),
            error: None,
            result: None,
            input,
            created_at: self.now_ms(),
            started_at: None,
            finished_at: None,
        };
        self.store.task_put(&task)?;
        self.store.flush().await?;
        let id = task.id;
        let me = self.clone();
        self.tasks.in_flight.fetch_add(1, Ordering::SeqCst);
        (self.tasks.spawner)(Box::pin(async move {
            let handle = TaskHandle {
                id,
                services: me.clone(),
            };
            let started = me.store.task_update(&id, &|t| {
                t.state = TaskState::Running;
                t.started_at = Some(me.now_ms());
            });
            let outcome = match started {
                Ok(_) => work(handle).await,
                Err(e) => Err(e),
            };
            let finished = me.now_ms();
            let r = me.store.task_update(&id, &move |t| {
                t.finished_at = Some(finished);
                match &outcome {
                    Ok(res) => {
                        t.state = TaskState::Succeeded;
                        t.percent = 100;
                        t.result = Some(res.clone());
                    }
                    Err(e) => {
                        t.state = TaskState::Failed;
                        t.error = Some(format!("{} ({})", e.public_message(), e.code.number()));
                    }
                }
            });
            match r {
                Ok(t) => {
                    let took = t.finished_at.unwrap_or(0) - t.started_at.unwrap_or(t.created_at);
                    me.metrics_task_observe(&t.kind, took.max(0) as f64 / 1000.0);
                }
                Err(e) => log::error!("task {id}: cannot record its end: {e}"),
            }
            let _ = me.store.flush().await;
            me.tasks.settling.wake(&id);
            me.tasks.ended();
        }));
        Ok(id)
    }

    /// Waits (up to two seconds) until the task's end is recorded: work
    /// that hands its result to a waiting caller finishes just before.
    /// Woken by the runner when it has written the end, not by polling.
    pub async fn task_settled(&self, id: &Uuid) -> Result<Task> {
        // A task that cannot be read is not waited for: its error answers.
        let ended = || self.store.task_get(id).map_or(true, |t| t.state.is_final());
        self.tasks
            .settling
            .wait(*id, Duration::from_secs(2), ended)
            .await;
        self.store.task_get(id)
    }

    pub fn task_get(&self, id: &Uuid) -> Result<Task> {
        self.store.task_get(id)
    }

    /// Every task, oldest first.
    pub fn task_list(&self) -> Result<Vec<Task>> {
        let mut v = self.store.task_list()?;
        v.sort_by_key(|t| (t.seq, t.created_at));
        Ok(v)
    }

    /// Ends a task left unfinished by a crash, with the owner's verdict.
    pub fn task_conclude(&self, id: &Uuid, state: TaskState, note: &str) -> Result<Task> {
        self.store.task_log_append(id, note)?;
        let note = note.to_string();
        self.store.task_update(id, &move |t| {
            if t.state.can_move_to(state) {
                t.state = state;
                t.finished_at = Some(self.now_ms());
                if state == TaskState::Failed {
                    t.error = Some(note.clone());
                }
            }
        })
    }

    /// Runs a future in the background on the service executor.
    pub fn tasks_spawner(&self) -> Spawner {
        self.tasks.spawner.clone()
    }

    pub fn tasks_in_flight(&self) -> usize {
        self.tasks.in_flight.load(Ordering::SeqCst)
    }

    /// Waits (up to `grace`) for background tasks to finish; returns how
    /// many are still running.
    /// Woken by the last task's end, not by polling.
    pub async fn tasks_drain(&self, grace: Duration) -> usize {
        let idle = || self.tasks_in_flight() == 0;
        self.tasks.draining.wait((), grace, idle).await;
        self.tasks_in_flight()
    }
}

/// How a caller wants a slow operation: wait for its end, or its task id.
pub enum Ran<T> {
    Done(Uuid, T),
    Queued(Uuid),
}

impl Services {
    /// Runs `work` as a persisted task. With `wait`, answers once the
    /// task's end is on record, with the work's result; otherwise at once
    /// with the task id.
    pub async fn task_run<T>(
        self: &Arc<Self>,
        actor: &Actor,
        kind: &str,
        target: &str,
        wait: bool,
        work: impl FnOnce(TaskHandle) -> BoxFuture<'static, Result<T>> + Send + 'static,
    ) -> Result<Ran<T>>
    where
        T: serde::Serialize + Clone + Send + 'static,
    {
        let (tx, rx) = smol::channel::bounded::<Result<T>>(1);
        let id = self
            .task_spawn(
                actor,
                kind,
                target,
                String::new(),
                Box::new(move |h| {
                    Box::pin(async move {
                        let r = work(h).await;
                        let text = match &r {
                            Ok(v) => serde_json::to_string(v).map_err(Error::internal),
                            Err(e) => Err(e.clone()),
                        };
                        let _ = tx.try_send(r);
                        text
                    })
                }),
            )
            .await?;
        if !wait {
            return Ok(Ran::Queued(id));
        }
        let r = rx
            .recv()
            .await
            .map_err(|_| Error::internal("the task ended without a result"))?;
        self.task_settled(&id).await?;
        Ok(Ran::Done(id, r?))
    }
}
