//! A small `log` backend: one line per record on stderr, which journald
//! stamps and stores when systemd runs the service.

use log::{LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= log::max_level()
            && (m.target().starts_with("vdi_appliance") || m.level() <= log::Level::Warn)
    }

    fn log(&self, r: &Record) {
        if self.enabled(r.metadata()) {
            eprintln!("{:<5} {}", r.level(), r.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: Stderr = Stderr;

pub fn init(level: LevelFilter) {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
