//! The systemd adapter of the `Notifier` port (sd_notify protocol over
//! `$NOTIFY_SOCKET`); a no-op when the service is not started by systemd.

use std::time::Duration;

use sd_notify::NotifyState;

use super::Notifier;

pub struct Systemd;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(false, states) {
        log::debug!("sd_notify failed: {e}");
    }
}

impl Notifier for Systemd {
    fn ready(&self) {
        send(&[NotifyState::Ready]);
    }

    fn stopping(&self) {
        send(&[NotifyState::Stopping]);
    }

    fn status(&self, text: &str) {
        send(&[NotifyState::Status(text)]);
    }

    fn watchdog(&self) {
        send(&[NotifyState::Watchdog]);
    }

    fn watchdog_interval(&self) -> Option<Duration> {
        let mut usec = 0u64;
        if sd_notify::watchdog_enabled(false, &mut usec) && usec > 0 {
            Some(Duration::from_micros(usec))
        } else {
            None
        }
    }
}
