//! Waiting for an event without polling: a caller listens under a key,
//! then looks whether what it waits for is already there; whoever makes it
//! so wakes the key's listeners. Listening before looking means no wake-up
//! is lost in between.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use smol::channel::{Receiver, Sender};

pub struct Waiters<K>(Mutex<HashMap<K, Vec<Sender<()>>>>);

impl<K> Default for Waiters<K> {
    fn default() -> Self {
        Waiters(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash + Clone> Waiters<K> {
    /// Wakes everyone listening under `k`.
    pub fn wake(&self, k: &K) {
        let listening = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(k)
            .unwrap_or_default();
        for tx in listening {
            let _ = tx.try_send(());
        }
    }

    fn listen(&self, k: K) -> Receiver<()> {
        let (tx, rx) = smol::channel::bounded(1);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(k)
            .or_default()
            .push(tx);
        rx
    }

    /// Waits (at most `limit`) until `ready` holds; whether it does. A wake
    /// that finds `ready` still false listens again until the limit.
    pub async fn wait(&self, k: K, limit: Duration, ready: impl Fn() -> bool) -> bool {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let rx = self.listen(k.clone());
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let woken = !ready()
                && !left.is_zero()
                && smol::future::or(async { rx.recv().await.is_ok() }, async {
                    smol::Timer::after(left).await;
                    false
                })
                .await;
            drop(rx);
            self.prune(&k);
            if !woken {
                return ready();
            }
        }
    }

    /// A listener that gave up (or was not needed) leaves nothing behind.
    fn prune(&self, k: &K) {
        if let Ok(mut m) = self.0.lock() {
            if let Some(v) = m.get_mut(k) {
                v.retain(|tx| !tx.is_closed());
                if v.is_empty() {
                    m.remove(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_wake_after_the_look_is_not_lost_and_nothing_stays_behind() {
        let w = Arc::new(Waiters::<u8>::default());
        let flag = Arc::new(AtomicBool::new(false));
        let (w2, f2) = (w.clone(), flag.clone());
        // The waiter's first look finds nothing; only then (from another
        // thread) is the flag set and the wake sent. A wait that looked
        // before listening would miss that wake and time out.
        let looks = std::sync::atomic::AtomicUsize::new(0);
        let got = smol::block_on(w.wait(7, Duration::from_secs(30), || {
            if looks.fetch_add(1, Ordering::SeqCst) == 0 {
                let (w2, f2) = (w2.clone(), f2.clone());
                std::thread::spawn(move || {
                    f2.store(true, Ordering::SeqCst);
                    w2.wake(&7);
                })
                .join()
                .unwrap();
                return false;
            }
            flag.load(Ordering::SeqCst)
        }));
        assert!(got);
        // Woken, it looked again at once (a lost wake would have waited
        // out the limit and looked only once more).
        assert_eq!(looks.load(Ordering::SeqCst), 3);
        assert!(w.0.lock().unwrap().is_empty());
        // Already there: no wait at all; not there: false after the limit.
        assert!(smol::block_on(w.wait(1, Duration::from_secs(30), || true)));
        assert!(!smol::block_on(w.wait(2, Duration::ZERO, || false)));
        assert!(w.0.lock().unwrap().is_empty());
    }
}
