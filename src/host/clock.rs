//! Time as a port: the wall clock (milliseconds since the epoch), a
//! monotonic instant, and waiting. The real adapter reads the system clock
//! and waits on smol's timers; the fake (`fakes::FakeClock`) moves only
//! when a test advances it, so a test of a timeout or a lockout does not
//! sleep.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::BoxFuture;
use crate::domain::clock::Millis;

pub trait Clock: Send + Sync {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> Millis;
    /// A monotonic instant, for deadlines.
    fn instant(&self) -> Instant;
    /// Resolves once `d` has passed on this clock.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

/// The system's clocks and smol's timers.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        system_ms()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            smol::Timer::after(d).await;
        })
    }
}

/// The system's wall clock in milliseconds since the epoch: for the real
/// adapters (the clock above, the metrics sampler) and the fakes' starting
/// point. Services read time through their `Clock` instead.
pub fn system_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
