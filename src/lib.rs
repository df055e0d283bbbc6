//! vdi-appliance: the firmware service of a virtual-desktop appliance.
//! `run` starts the service with the given backends; `main` and the tests
//! both go through it.

pub mod api;
pub mod app;
pub mod compute;
pub mod config;
pub mod domain;
pub mod error;
pub mod fakes;
pub mod firstboot;
pub mod host;
pub mod http;
pub mod logging;
pub mod service;
pub mod store;
pub mod tasks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use smol::Executor;

use crate::app::Backends;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::service::Services;
use crate::store::{Store, StoreOptions};
use crate::tasks::Owners;

/// Runs the service until SIGTERM or SIGINT; returns after a clean
/// shutdown, `true` when it stopped because its role file changed (a join
/// or a leave) and must start again in its new role.
pub fn run(cfg: Config, backends: Backends, owners: Owners) -> Result<bool> {
    let t0 = Instant::now();
    let mut settings = cfg.settings();
    settings.membership = compute::membership_load(&cfg.data_dir)?;
    let store = Arc::new(Store::open(&cfg.data_dir, &StoreOptions::default())?);
    let ex: Arc<Executor<'static>> = Arc::new(Executor::new());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8);
    let (stop_workers, workers_stopped) = smol::channel::unbounded::<()>();
    let mut workers = Vec::new();
    for i in 0..threads - 1 {
        let ex = ex.clone();
        let rx = workers_stopped.clone();
        workers.push(
            std::thread::Builder::new()
                .name(format!("vdi-worker-{i}"))
                .spawn(move || {
                    // A panicking task must not take the worker with it.
                    while std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        smol::block_on(ex.run(async { rx.recv().await.ok() }))
                    }))
                    .is_err()
                    {
                        log::error!("a task panicked on a worker thread; the worker goes on");
                    }
                })
                .map_err(Error::internal)?,
        );
    }
    let spawner_ex = ex.clone();
    let services = app::services(
        store.clone(),
        &backends,
        settings,
        Arc::new(move |f| spawner_ex.spawn(f).detach()),
    );
    let (stop_tx, stop_rx) = smol::channel::bounded::<&'static str>(4);
    watch_signals(
        stop_tx.clone(),
        cfg.settings().shutdown_grace + HARD_STOP_MARGIN,
    )?;
    let result = smol::block_on(ex.run(serve(
        cfg,
        services.clone(),
        owners,
        ex.clone(),
        (stop_tx, stop_rx),
        t0,
    )));
    drop(stop_workers);
    for w in workers {
        let _ = w.join();
    }
    store.flush_blocking()?;
    result
}

/// SIGTERM or SIGINT asks for a clean stop. The stop must end within
/// `hard_stop` (shutdown_grace plus a margin, under the unit's
/// TimeoutStopSec): if a stuck request or store holds it up, the process
/// exits anyway — every acknowledged write is already on disk, and the
/// next start concludes what was running. A second signal exits at once.
fn watch_signals(tx: smol::channel::Sender<&'static str>, hard_stop: Duration) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT]).map_err(Error::internal)?;
    std::thread::Builder::new()
        .name("vdi-signals".into())
        .spawn(move || {
            let mut asked = false;
            for s in signals.forever() {
                let name = if s == SIGTERM { "SIGTERM" } else { "SIGINT" };
                if asked {
                    log::error!("{name} again while stopping: exiting now");
                    std::process::exit(EXIT_FORCED);
                }
                asked = true;
                let _ = tx.try_send(name);
                let spawned = std::thread::Builder::new()
                    .name("vdi-stop-deadline".into())
                    .spawn(move || {
                        std::thread::sleep(hard_stop);
                        log::error!(
                            "still stopping {hard_stop:?} after {name} (a request or the store is stuck): exiting without a clean stop"
                        );
                        std::process::exit(EXIT_FORCED);
                    });
                if let Err(e) = spawned {
                    log::warn!("no stop deadline: {e}");
                }
            }
        })
        .map_err(Error::internal)?;
    Ok(())
}

/// The exit status of a stop that could not finish cleanly (EX_SOFTWARE):
/// systemd's Restart=on-failure starts the service again.
const EXIT_FORCED: i32 = 70;

async fn serve(
    cfg: Config,
    services: Arc<Services>,
    owners: Owners,
    ex: Arc<Executor<'static>>,
    (stop_tx, stop): (
        smol::channel::Sender<&'static str>,
        smol::channel::Receiver<&'static str>,
    ),
    t0: Instant,
) -> Result<bool> {
    if let Some(m) = &services.settings.membership {
        // A node is its controller's: nobody may set it up as a controller.
        services.auth_setup_withdraw();
        log::info!(
            "compute role: node {} of the controller at {}",
            m.node_uuid,
            m.controller
        );
    } else if let Some(path) = services.auth_setup_prepare()? {
        log::warn!(
            "no admin account yet: the one-time setup token is in {} — POST it to /api/v1/setup/admin",
            path.display()
        );
    }
    let recovered = tasks::recover_at_start(&services, &owners).await?;
    if recovered > 0 {
        log::info!("concluded {recovered} task(s) interrupted by the last stop");
    }
    match services.operation_log_conclude() {
        Ok(n) if n > 0 => log::warn!("{n} operation(s) the last run never answered are marked interrupted in the operation log"),
        Ok(_) => {}
        Err(e) => log::warn!("operation log: pending entries not concluded: {e}"),
    }
    // The host network is made to match the store before serving: bridges
    // deleted behind the service's back come back after a reboot.
    match services.network_reconcile().await {
        Ok(steps) if !steps.is_empty() => {
            log::info!("host network reconciled: {} change(s)", steps.len())
        }
        Ok(_) => {}
        Err(e) => log::error!("host network could not be reconciled: {e}"),
    }
    let listener = http::server::bind(&cfg.listen).map_err(|e| {
        Error::new(
            error::Code::Internal,
            format!("Cannot listen on {}: {e}", cfg.listen),
        )
    })?;
    let app = http::app(services.clone());
    services.notifier.ready();
    services.notifier.status("serving");
    log::info!(
        "vdi-appliance {} listening on {} (data {}, ready in {} ms)",
        env!("CARGO_PKG_VERSION"),
        cfg.listen,
        cfg.data_dir.display(),
        t0.elapsed().as_millis()
    );
    ex.spawn(probe_loop(
        services.clone(),
        Duration::from_secs(cfg.libvirt_probe_s),
    ))
    .detach();
    ex.spawn(node_loop(services.clone(), Duration::from_secs(60)))
        .detach();
    ex.spawn(desktop_loop(services.clone())).detach();
    if let Some(m) = services.settings.membership.clone() {
        ex.spawn(compute::agent::run(services.clone(), m)).detach();
    }
    ex.spawn(role_watch(services.clone(), stop_tx)).detach();
    ex.spawn(monitor_loop(services.clone())).detach();
    ex.spawn(retention_loop(services.clone())).detach();
    if !cfg.metrics_listen.is_empty() {
        let listener = http::server::bind(&cfg.metrics_listen).map_err(|e| {
            Error::new(
                error::Code::Internal,
                format!(
                    "Cannot listen on {} (metrics_listen): {e}",
                    cfg.metrics_listen
                ),
            )
        })?;
        log::info!(
            "Prometheus metrics without a token on http://{}/metrics",
            cfg.metrics_listen
        );
        let app = http::metrics_app(services.clone());
        // It ends with the process: the main listener's stop ends `serve`.
        ex.spawn(http::server::serve(
            app,
            listener,
            ex.clone(),
            std::future::pending::<()>(),
        ))
        .detach();
    }
    if let Some(every) = services.notifier.watchdog_interval() {
        ex.spawn(watchdog_loop(services.clone(), every / 2))
            .detach();
    }
    let restart = std::sync::atomic::AtomicBool::new(false);
    let signal = async {
        let name = stop.recv().await.unwrap_or("channel closed");
        restart.store(name == ROLE_CHANGED, std::sync::atomic::Ordering::SeqCst);
        log::info!("{name}: stopping");
    };
    http::server::serve(app, listener, ex.clone(), signal).await;
    services.notifier.stopping();
    services.begin_stopping();
    if let Err(e) = services.monitor_flush_open(i64::MAX) {
        log::warn!("the open monitoring buckets could not be written: {e}");
    }
    let left = services.tasks_drain(services.settings.shutdown_grace).await;
    if left > 0 {
        log::warn!(
            "{left} task(s) still running at shutdown; they are concluded at the next start"
        );
    }
    services.store.flush().await?;
    log::info!("stopped cleanly");
    Ok(restart.load(std::sync::atomic::Ordering::SeqCst))
}

/// How much longer than shutdown_grace a stop may take before the process
/// exits regardless (20 s + 10 s stays under the unit's TimeoutStopSec=45s).
const HARD_STOP_MARGIN: Duration = Duration::from_secs(10);

const ROLE_CHANGED: &str = "the role file changed (joined or left a controller)";

/// Stops the service (to start again in its new role) when `node-join` or
/// `node-leave` changed the role file.
async fn role_watch(services: Arc<Services>, stop: smol::channel::Sender<&'static str>) {
    loop {
        smol::Timer::after(Duration::from_secs(1)).await;
        let path = compute::role_path(&services.settings.data_dir);
        let read = services.files.read(&path);
        match read.and_then(|t| t.map(|t| compute::membership_parse(&path, &t)).transpose()) {
            Ok(m) if m != services.settings.membership => {
                let _ = stop.send(ROLE_CHANGED).await;
                return;
            }
            Ok(_) => {}
            Err(e) => log::debug!("role file unreadable: {e}"),
        }
    }
}

async fn probe_loop(services: Arc<Services>, every: Duration) {
    loop {
        services.health_probe_hypervisor().await;
        smol::Timer::after(every).await;
    }
}

/// Keeps desktop statuses in step with libvirt.
async fn desktop_loop(services: Arc<Services>) {
    loop {
        if let Err(e) = services.desktop_reconcile().await {
            log::debug!("desktop states not polled: {e}");
        }
        smol::Timer::after(services.settings.desktop_poll).await;
    }
}

/// Reads this host every `monitor_sample`; every 30 s an aggregate is stored.
async fn monitor_loop(services: Arc<Services>) {
    loop {
        // Failures are logged once by the sampler, and again when it recovers.
        if let (Ok(Some(sample)), Some(m)) =
            (services.monitor_tick().await, &services.settings.membership)
        {
            compute::agent::report(&services, m, &sample).await;
        }
        smol::Timer::after(services.settings.monitor_sample).await;
    }
}

/// Downsamples and drops old monitoring history every ten minutes.
async fn retention_loop(services: Arc<Services>) {
    loop {
        let s = services.clone();
        let now = services.now_ms().div_euclid(1000);
        match smol::unblock(move || s.monitor_compact(now)).await {
            Ok(c) if c.merged + c.dropped > 0 => log::debug!(
                "monitoring history: {} sample(s) merged, {} dropped",
                c.merged,
                c.dropped
            ),
            Ok(_) => {}
            Err(e) => log::warn!("monitoring history could not be compacted: {e}"),
        }
        smol::Timer::after(Duration::from_secs(600)).await;
    }
}

/// Re-reads this node's inventory once, then its storage usage every `every`.
async fn node_loop(services: Arc<Services>, every: Duration) {
    if let Err(e) = services.node_inventory_refresh().await {
        log::warn!("hardware inventory could not be read: {e}");
    }
    loop {
        if let Err(e) = services.node_storage_refresh().await {
            log::warn!("storage usage could not be read: {e}");
        }
        smol::Timer::after(every).await;
    }
}

/// Pings the watchdog while the executor runs and the store answers.
async fn watchdog_loop(services: Arc<Services>, every: Duration) {
    loop {
        if services.store.check().is_ok() {
            services.notifier.watchdog();
        } else {
            log::error!("store check failed; withholding the watchdog ping");
        }
        smol::Timer::after(every).await;
    }
}
