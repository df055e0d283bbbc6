//! A manual clock: it starts at the real time and moves only when a test
//! calls `advance`, which wakes every sleeper whose time has come.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::clock::Millis;
use crate::host::clock::Clock;
use crate::host::BoxFuture;

pub struct FakeClock {
    start: Instant,
    start_ms: Millis,
    state: Mutex<State>,
}

struct State {
    passed: Duration,
    /// (when, who waits): woken by `advance`.
    sleepers: Vec<(Duration, smol::channel::Sender<()>)>,
}

impl Default for FakeClock {
    fn default() -> FakeClock {
        FakeClock {
            start: Instant::now(),
            start_ms: crate::host::clock::system_ms(),
            state: Mutex::new(State {
                passed: Duration::ZERO,
                sleepers: Vec::new(),
            }),
        }
    }
}

impl FakeClock {
    /// Moves time on by `d` and wakes the sleepers now due.
    pub fn advance(&self, d: Duration) {
        let mut st = self.state.lock().unwrap();
        st.passed += d;
        let now = st.passed;
        st.sleepers.retain(|(at, tx)| {
            if *at <= now {
                let _ = tx.try_send(());
                false
            } else {
                !tx.is_closed()
            }
        });
    }

    /// How many waits have not come due yet.
    pub fn sleepers(&self) -> usize {
        let mut st = self.state.lock().unwrap();
        st.sleepers.retain(|(_, tx)| !tx.is_closed());
        st.sleepers.len()
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> Millis {
        self.start_ms + self.state.lock().unwrap().passed.as_millis() as Millis
    }

    fn instant(&self) -> Instant {
        self.start + self.state.lock().unwrap().passed
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        let (tx, rx) = smol::channel::bounded(1);
        {
            let mut st = self.state.lock().unwrap();
            if d.is_zero() {
                let _ = tx.try_send(());
            } else {
                let at = st.passed + d;
                st.sleepers.push((at, tx));
            }
        }
        Box::pin(async move {
            let _ = rx.recv().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleepers_wake_when_time_is_advanced_past_them() {
        let c = FakeClock::default();
        let t0 = c.now_ms();
        let early = c.sleep(Duration::from_secs(1));
        let late = c.sleep(Duration::from_secs(5));
        assert_eq!(c.sleepers(), 2);
        c.advance(Duration::from_secs(2));
        smol::block_on(early);
        assert_eq!(c.sleepers(), 1);
        assert_eq!(c.now_ms() - t0, 2000);
        c.advance(Duration::from_secs(3));
        smol::block_on(late);
        assert_eq!(c.sleepers(), 0);
        smol::block_on(c.sleep(Duration::ZERO));
    }
}
