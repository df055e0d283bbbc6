//! The saga runner: a multi-step operation is a list of named steps, each
//! with an action and an undo. The journal (steps started and done, and the
//! facts the undos need) is written to the store and flushed before and
//! after every step; a failure unwinds the steps reached in reverse; after
//! a crash, `recover` unwinds (or completes) every journal left behind.

mod recover;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use recover::{SagaEnd, KINDS};

use super::task::TaskHandle;
use super::Services;
use crate::domain::saga::{Fault, Journal, StepStatus};
use crate::error::{Code, Error, Result};

/// One kind of multi-step operation.
pub trait Saga: Send + Sync + Sized + 'static {
    /// What the journal keeps: every fact an undo needs, and no secret.
    type Facts: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The task kind it runs as (`node/add`).
    const KIND: &'static str;
    /// Its steps, in order.
    const STEPS: &'static [&'static str];
    /// The first step that cannot be undone (a deletion). If it fails, it
    /// must have changed nothing, and the saga unwinds; once it has
    /// finished, a failure of a later step leaves the journal for the next
    /// start, and a restart after it started finishes the saga instead of
    /// unwinding it.
    const PIVOT: Option<&'static str> = None;

    fn facts(&self) -> &Self::Facts;

    /// The saga as recovery knows it after a restart: its journal only.
    fn resumed(facts: Self::Facts) -> Self;

    /// Runs `step`. What its undo needs must be in its facts, and saved
    /// with `cp.save` before the effect it concerns (the runner saves the
    /// facts as they were before the step, and again after it).
    fn run(
        &mut self,
        s: &Arc<Services>,
        step: &'static str,
        h: &TaskHandle,
        cp: &mut Checkpoint,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Takes back `step`, which may have done all, some or none of its
    /// work (a crash can cut it anywhere): undoing nothing is a success.
    fn undo(
        &self,
        s: &Arc<Services>,
        step: &'static str,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Lets a running step journal facts it learnt before it acts on them.
pub struct Checkpoint {
    services: Arc<Services>,
    journal: Journal,
}

impl Checkpoint {
    /// Writes `facts` into the journal and flushes it.
    pub async fn save<F: Serialize>(&mut self, facts: &F) -> Result<()> {
        self.journal.facts = serde_json::to_string(facts).map_err(Error::internal)?;
        self.services.saga_journal(&self.journal).await
    }
}

/// Failpoints by saga kind: the step and what happens there (tests).
#[derive(Default)]
pub struct Faults(Mutex<HashMap<String, (String, Fault)>>);

/// `VDI_SAGA_EXIT_AFTER=<kind>:<step>`: the process exits at once after
/// that step is journalled as done — a real crash for the tiers that run
/// the binary (the SSH tier kills a join this way). Unset in production.
fn exit_after(kind: &str, step: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| std::env::var("VDI_SAGA_EXIT_AFTER").ok());
    if at.as_deref() == Some(&format!("{kind}:{step}")) {
        log::error!("VDI_SAGA_EXIT_AFTER: exiting after step `{step}` of {kind}");
        std::process::exit(86);
    }
}

fn facts_text<S: Saga>(saga: &S) -> Result<String> {
    serde_json::to_string(saga.facts()).map_err(Error::internal)
}

/// What a simulated crash leaves the caller (the journal stays).
fn crashed(kind: &str, step: &str) -> Error {
    Error::internal(format!(
        "{kind}: simulated crash at step `{step}` (test failpoint)"
    ))
}

/// The index of the step after the pivot: steps from there on fail with
/// no way back.
fn pivot_at<S: Saga>() -> Option<usize> {
    let pivot = S::PIVOT?;
    S::STEPS.iter().position(|s| *s == pivot).map(|i| i + 1)
}

/// Whether `j` reached its saga's pivot (a restart finishes it).
pub(crate) fn past_pivot<S: Saga>(j: &Journal) -> bool {
    let Some(after) = pivot_at::<S>() else {
        return false;
    };
    S::STEPS[after - 1..]
        .iter()
        .any(|step| j.steps.iter().any(|(n, st)| n == step && st.needs_undo()))
}

/// What unwinding did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Unwound {
    pub undone: Vec<String>,
    /// Steps whose undo failed, with why; the journal stays for the next start.
    pub failed: Vec<(String, String)>,
}

impl Services {
    /// Sets (or clears, with `None`) the failpoint of saga `kind` (tests).
    #[doc(hidden)]
    pub fn saga_fault(&self, kind: &str, at: Option<(&str, Fault)>) {
        if let Ok(mut f) = self.faults.0.lock() {
            match at {
                Some((step, fault)) => f.insert(kind.into(), (step.into(), fault)),
                None => f.remove(kind),
            };
        }
    }

    fn saga_fault_at(&self, kind: &str, step: &str) -> Option<Fault> {
        let f = self.faults.0.lock().ok()?;
        f.get(kind).filter(|(s, _)| s == step).map(|(_, x)| *x)
    }

    async fn saga_journal(&self, j: &Journal) -> Result<()> {
        self.store.saga_put(j)?;
        self.store.flush().await
    }

    /// Runs every step of `saga` in task `h`; on a failure, unwinds what it
    /// reached and returns the step's error.
    pub async fn saga_run<S: Saga>(self: &Arc<Self>, saga: &mut S, h: &TaskHandle) -> Result<()> {
        let mut j = Journal::new(h.id, S::KIND, facts_text(saga)?);
        for step in S::STEPS {
            let fault = self.saga_fault_at(S::KIND, step);
            j.mark(step, StepStatus::Started);
            let r = match self.saga_journal(&j).await {
                Err(e) => Err(e),
                Ok(()) if fault == Some(Fault::CrashBefore) => return Err(crashed(S::KIND, step)),
                Ok(()) if fault == Some(Fault::Fail) => Err(Error::new(
                    Code::SagaStepFailed,
                    format!("injected failure at step `{step}`"),
                )),
                Ok(()) => {
                    let mut cp = Checkpoint {
                        services: self.clone(),
                        journal: j.clone(),
                    };
                    let r = saga.run(self, step, h, &mut cp).await;
                    j = cp.journal;
                    r
                }
            };
            // What the step recorded counts even when it failed half-way.
            j.facts = facts_text(saga)?;
            let r = match r {
                Ok(()) => {
                    j.mark(step, StepStatus::Done);
                    self.saga_journal(&j).await
                }
                e => e,
            };
            match r {
                Ok(()) if fault == Some(Fault::CrashAfter) => return Err(crashed(S::KIND, step)),
                Ok(()) => exit_after(S::KIND, step),
                Err(e) if pivot_at::<S>().is_some_and(|p| S::STEPS[p..].contains(step)) => {
                    h.progress(
                        100,
                        &format!(
                            "step `{step}` failed: {}; it cannot be undone and is finished at the next start",
                            e.public_message()
                        ),
                    );
                    return Err(e);
                }
                Err(e) => {
                    let n = j.to_unwind().len();
                    h.progress(
                        100,
                        &format!(
                            "step `{step}` failed: {}; undoing {n} step(s)",
                            e.public_message()
                        ),
                    );
                    let u = self.saga_unwind(saga, &mut j).await;
                    for (step, why) in &u.failed {
                        h.progress(100, &format!("undoing `{step}` failed: {why}"));
                    }
                    return Err(e);
                }
            }
        }
        self.store.saga_delete(&j.task)?;
        Ok(())
    }

    /// Runs the steps of `j` not done yet (a saga past its pivot, after a
    /// restart); the journal goes when the last is done.
    pub(crate) async fn saga_finish<S: Saga>(
        self: &Arc<Self>,
        saga: &mut S,
        j: &mut Journal,
    ) -> Result<()> {
        let h = super::task::TaskHandle::of(j.task, self.clone());
        for step in S::STEPS {
            if j.steps
                .iter()
                .any(|(n, st)| n == step && *st == StepStatus::Done)
            {
                continue;
            }
            j.mark(step, StepStatus::Started);
            self.saga_journal(j).await?;
            let mut cp = Checkpoint {
                services: self.clone(),
                journal: j.clone(),
            };
            let r = saga.run(self, step, &h, &mut cp).await;
            *j = cp.journal;
            r?;
            j.mark(step, StepStatus::Done);
            self.saga_journal(j).await?;
        }
        self.store.saga_delete(&j.task)?;
        self.store.flush().await
    }

    /// Undoes, newest first, every step of `j` that may have changed
    /// something; the journal goes when all of them are taken back.
    pub(crate) async fn saga_unwind<S: Saga>(
        self: &Arc<Self>,
        saga: &S,
        j: &mut Journal,
    ) -> Unwound {
        let mut out = Unwound::default();
        for name in j.to_unwind() {
            let r = match S::STEPS.iter().find(|s| **s == name) {
                Some(step) => saga.undo(self, step).await,
                None => Err(Error::internal(format!("{}: no step `{name}`", S::KIND))),
            };
            match r {
                Ok(()) => {
                    j.mark(&name, StepStatus::Undone);
                    out.undone.push(name);
                }
                Err(e) => {
                    log::error!("{} {}: undoing `{name}` failed: {e}", S::KIND, j.task);
                    j.mark(&name, StepStatus::UndoFailed);
                    out.failed.push((name, e.public_message().to_string()));
                }
            }
            if let Err(e) = self.store.saga_put(j) {
                log::error!("{} {}: cannot journal the undo: {e}", S::KIND, j.task);
            }
        }
        if out.failed.is_empty() {
            if let Err(e) = self.store.saga_delete(&j.task) {
                log::error!("{} {}: {e}", S::KIND, j.task);
            }
        }
        if let Err(e) = self.store.flush().await {
            log::error!("{} {}: {e}", S::KIND, j.task);
        }
        out
    }
}
