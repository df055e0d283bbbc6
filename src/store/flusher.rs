//! One thread makes the store durable for everyone who waits: a request
//! that needs its writes on disk queues a waiter, and the thread answers
//! every waiter queued before it started a synchronous `flush`. Many
//! concurrent requests share one fsync, and sled's `flush_async`, which
//! deadlocks under concurrent callers in 0.34 (spacejam/sled#1308, #1241),
//! is never used.

use std::sync::{Arc, Condvar, Mutex};

use crate::error::{Error, Result};

type Waiter = smol::channel::Sender<Result<()>>;

#[derive(Default)]
struct Queue {
    waiters: Vec<Waiter>,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// The handle the store keeps; dropping it ends the thread and waits for
/// it, so that the store's files are closed (and its lock released) when
/// the store is gone.
pub(super) struct Flusher {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flusher {
    /// Starts the thread that flushes `db`.
    pub(super) fn start(db: sled::Db) -> Result<Flusher> {
        let shared = Arc::new(Shared::default());
        let mine = shared.clone();
        let thread = std::thread::Builder::new()
            .name("vdi-store-flush".into())
            .spawn(move || run(&db, &mine))
            .map_err(Error::internal)?;
        Ok(Flusher {
            shared,
            thread: Some(thread),
        })
    }

    /// Resolves once every write made before the call is on disk.
    pub(super) async fn flush(&self) -> Result<()> {
        let (tx, rx) = smol::channel::bounded(1);
        {
            let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.waiters.push(tx);
        }
        self.shared.wake.notify_one();
        rx.recv()
            .await
            .unwrap_or_else(|_| Err(Error::store("the store's flush thread has stopped")))
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stop = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(db: &sled::Db, shared: &Shared) {
    loop {
        let batch = {
            let mut q = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
            while q.waiters.is_empty() && !q.stop {
                q = shared.wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.waiters.is_empty() {
                return;
            }
            std::mem::take(&mut q.waiters)
        };
        // Every waiter in `batch` queued before this flush began, so the
        // flush covers its writes.
        let r = db.flush().map(|_| ()).map_err(Error::store);
        for w in batch {
            let _ = w.try_send(r.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, StoreOptions};

    /// The flush thread holds the database too: dropping the store must
    /// wait for it, or reopening at once finds the store "in use".
    #[test]
    fn a_dropped_store_can_be_reopened_at_once() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..20 {
            let s = Store::open(dir.path(), &StoreOptions::default()).unwrap();
            smol::block_on(s.flush()).unwrap();
            drop(s);
        }
    }
}
