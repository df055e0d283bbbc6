//! A fake `HostMetrics`: returns the reading a test sets, or a fixed
//! plausible machine stamped with the current time.

use std::sync::Mutex;

use crate::domain::monitor::{CpuTicks, DiskCounters, Mem, NicCounters, Reading};
use crate::error::{Error, Result};
use crate::host::clock::system_ms;
use crate::host::metrics::HostMetrics;
use crate::host::BoxFuture;

pub struct FakeMetrics {
    reading: Mutex<Reading>,
    /// When set, reads fail with this message.
    pub fail: Mutex<Option<String>>,
}

impl Default for FakeMetrics {
    fn default() -> Self {
        FakeMetrics {
            reading: Mutex::new(Reading {
                at_ms: 0,
                cpu: CpuTicks::default(),
                cpu_percent: None,
                mem: Mem {
                    total: 8 << 30,
                    used: 2 << 30,
                    free: 5 << 30,
                    percent: 25.0,
                },
                nics: vec![NicCounters {
                    name: "eth0".into(),
                    speed_mbps: Some(1000),
                    ..NicCounters::default()
                }],
                disks: vec![DiskCounters {
                    name: "sda1".into(),
                    mount: "/".into(),
                    total: 100 << 30,
                    used: 10 << 30,
                    ..DiskCounters::default()
                }],
                load: [0.1, 0.1, 0.1],
                uptime_s: 1000,
            }),
            fail: Mutex::new(None),
        }
    }
}

impl FakeMetrics {
    /// Changes the reading the next reads return.
    pub fn update(&self, f: impl FnOnce(&mut Reading)) {
        f(&mut self.reading.lock().unwrap());
    }

    pub fn reading(&self) -> Reading {
        self.reading.lock().unwrap().clone()
    }
}

impl HostMetrics for FakeMetrics {
    fn read(&self) -> BoxFuture<'_, Result<Reading>> {
        Box::pin(async move {
            if let Some(m) = self.fail.lock().unwrap().clone() {
                return Err(Error::internal(m));
            }
            let mut r = self.reading();
            if r.at_ms == 0 {
                r.at_ms = system_ms();
            }
            Ok(r)
        })
    }
}
