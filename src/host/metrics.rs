//! The host-metrics port: one reading of this machine's counters and gauges
//! (CPU ticks, memory, per-NIC and per-disk byte counters, filesystem sizes,
//! load, uptime). Rates are the domain's business, from two readings.

use super::BoxFuture;
use crate::domain::monitor::Reading;
use crate::error::Result;

pub trait HostMetrics: Send + Sync {
    /// Reads the host now. The adapter keeps its sampler between calls, so
    /// figures that need two refreshes (CPU usage) come from the previous one.
    fn read(&self) -> BoxFuture<'_, Result<Reading>>;
}
