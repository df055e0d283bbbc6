//! The Prometheus scrape: HTTP requests and task durations counted as they
//! happen, host figures per node from monitoring, desktops by state, tasks
//! by state and the store's size, rendered in the text exposition format;
//! and the scrape token (only its hash is kept).

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::domain::monitor::Sample;
use crate::domain::prometheus::{Exposition, Histogram, HTTP_BUCKETS, TASK_BUCKETS};
use crate::error::{Code, Error, Result};
use crate::service::auth::{random_token, token_hash};
use crate::service::Services;

#[derive(Default)]
pub struct Exporter {
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    tasks: Mutex<BTreeMap<String, Histogram>>,
}

impl Services {
    /// Counts one answered request of route `op`.
    pub fn metrics_http_observe(
        &self,
        op: &'static str,
        method: &'static str,
        status: u16,
        secs: f64,
    ) {
        if let Ok(mut m) = self.exporter.requests.lock() {
            *m.entry((op, method, status)).or_default() += 1;
        }
        if let Ok(mut m) = self.exporter.latency.lock() {
            m.entry(op)
                .or_insert_with(|| Histogram::new(HTTP_BUCKETS))
                .observe(secs);
        }
    }

    /// Counts one finished task of `kind`.
    pub fn metrics_task_observe(&self, kind: &str, secs: f64) {
        if let Ok(mut m) = self.exporter.tasks.lock() {
            if !m.contains_key(kind) {
                m.insert(kind.to_string(), Histogram::new(TASK_BUCKETS));
            }
            if let Some(h) = m.get_mut(kind) {
                h.observe(secs);
            }
        }
    }

    /// Makes a new scrape token; the previous one stops working.
    pub async fn metrics_token_rotate(&self) -> Result<String> {
        let token = random_token()?;
        self.store.metrics_token_set(&token_hash(&token))?;
        self.store.flush().await?;
        Ok(token)
    }

    /// A scrape is allowed with the scrape token or an admin access token.
    pub fn metrics_authorize(&self, token: Option<&str>) -> Result<()> {
        let refused = || {
            Error::new(
                Code::MetricsTokenInvalid,
                "GET /metrics needs `Authorization: Bearer <scrape token>` (POST /api/v1/system/metrics_token makes one) or an admin access token",
            )
        };
        let token = token.ok_or_else(refused)?;
        if self
            .store
            .metrics_token_hash()?
            .is_some_and(|h| h == token_hash(token))
        {
            return Ok(());
        }
        self.auth_check(token).map(|_| ()).map_err(|_| refused())
    }

    /// The exposition text.
    pub fn metrics_render(&self) -> Result<String> {
        let mut e = Exposition::default();
        e.family("vdi_build_info", "gauge", "The running version.");
        e.sample(
            "vdi_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        e.gauge(
            "vdi_uptime_seconds",
            "Seconds since the service started.",
            self.uptime().as_secs_f64(),
        );
        self.render_nodes(&mut e)?;
        let mut desktops: BTreeMap<&str, u64> = BTreeMap::new();
        for d in self.store.desktop_list()? {
            *desktops.entry(d.status.as_str()).or_default() += 1;
        }
        e.family("vdi_desktops", "gauge", "Desktops by state.");
        for state in ["inactive", "active", "error", "updating"] {
            let n = desktops.get(state).copied().unwrap_or(0);
            e.sample("vdi_desktops", &[("state", state)], n as f64);
        }
        let mut tasks: BTreeMap<&str, u64> = BTreeMap::new();
        for t in self.store.task_list()? {
            *tasks.entry(t.state.as_str()).or_default() += 1;
        }
        e.family("vdi_tasks", "gauge", "Task records kept, by state.");
        for (state, n) in &tasks {
            e.sample("vdi_tasks", &[("state", state)], *n as f64);
        }
        e.family(
            "vdi_task_duration_seconds",
            "histogram",
            "How long tasks that finished since the start took, by kind.",
        );
        for (kind, h) in self.exporter.tasks.lock().map_err(Error::internal)?.iter() {
            h.write(&mut e, "vdi_task_duration_seconds", &[("kind", kind)]);
        }
        e.family(
            "vdi_http_requests_total",
            "counter",
            "HTTP requests answered since the start, by route, method and status.",
        );
        for ((op, method, status), n) in self
            .exporter
            .requests
            .lock()
            .map_err(Error::internal)?
            .iter()
        {
            let status = status.to_string();
            e.sample(
                "vdi_http_requests_total",
                &[("route", op), ("method", method), ("status", &status)],
                *n as f64,
            );
        }
        e.family(
            "vdi_http_request_duration_seconds",
            "histogram",
            "Time to answer HTTP requests, by route.",
        );
        for (op, h) in self
            .exporter
            .latency
            .lock()
            .map_err(Error::internal)?
            .iter()
        {
            h.write(
                &mut e,
                "vdi_http_request_duration_seconds",
                &[("route", op)],
            );
        }
        e.gauge(
            "vdi_store_size_bytes",
            "Bytes the store occupies on disk.",
            self.store.size_on_disk() as f64,
        );
        e.gauge(
            "vdi_monitor_buckets",
            "Ten-minute monitoring history records kept, over all nodes.",
            self.store.monitor_buckets() as f64,
        );
        Ok(e.finish())
    }

    /// Host figures of each node from its newest aggregate.
    fn render_nodes(&self, e: &mut Exposition) -> Result<()> {
        let now = self.now_ms();
        let mut rows = Vec::new();
        for n in self.node_list()? {
            let latest = self.monitor_latest(&n.uuid)?;
            let up = self.monitor_node_up(&n.uuid, now)?;
            rows.push((n, up, latest));
        }
        let id = |n: &crate::domain::node::Node| (n.uuid.to_string(), n.name.clone());
        e.family("vdi_node_up", "gauge", "1 when the node reported recently.");
        for (n, up, _) in &rows {
            let (u, name) = id(n);
            e.sample(
                "vdi_node_up",
                &[
                    ("node_uuid", &u),
                    ("node", &name),
                    ("role", n.role.as_str()),
                ],
                if *up { 1.0 } else { 0.0 },
            );
        }
        e.family(
            "vdi_node_report_age_seconds",
            "gauge",
            "Seconds since the node's newest report arrived.",
        );
        for (n, _, l) in &rows {
            if let Some(l) = l {
                let (u, name) = id(n);
                e.sample(
                    "vdi_node_report_age_seconds",
                    &[("node_uuid", &u), ("node", &name)],
                    ((now - l.received_ms).max(0) / 1000) as f64,
                );
            }
        }
        let fresh: Vec<_> = rows
            .iter()
            .filter_map(|(n, _, l)| l.as_ref().map(|l| (id(n), &l.sample)))
            .collect();
        for (fam, help, figures) in NODE_FAMILIES {
            e.family(fam, "gauge", help);
            for ((u, name), s) in &fresh {
                for (labels, v) in figures(s) {
                    let mut all = vec![("node_uuid", u.as_str()), ("node", name.as_str())];
                    all.extend(labels.iter().map(|(k, v)| (*k, v.as_str())));
                    e.sample(fam, &all, v);
                }
            }
        }
        Ok(())
    }
}

/// One node figure: its labels beyond the node's, and its value.
type Figure = (Vec<(&'static str, String)>, f64);

/// `(labels, value)` for each `(label value, value)` of one label.
fn by(label: &'static str, pairs: impl IntoIterator<Item = (String, f64)>) -> Vec<Figure> {
    pairs
        .into_iter()
        .map(|(k, v)| (vec![(label, k)], v))
        .collect()
}

/// The per-node gauge families, from the node's newest report.
type NodeFamily = (&'static str, &'static str, fn(&Sample) -> Vec<Figure>);

const NODE_FAMILIES: &[NodeFamily] = &[
    (
        "vdi_node_cpu_percent",
        "CPU use over the newest 30-second report, by mode.",
        |s| {
            by(
                "mode",
                [
                    ("user", s.cpu.user),
                    ("system", s.cpu.system),
                    ("idle", s.cpu.idle),
                    ("total", s.cpu.percent),
                ]
                .map(|(k, v)| (k.to_string(), v)),
            )
        },
    ),
    ("vdi_node_memory_bytes", "Memory of the node.", |s| {
        by(
            "kind",
            [
                ("total", s.mem.total),
                ("used", s.mem.used),
                ("free", s.mem.free),
            ]
            .map(|(k, v)| (k.to_string(), v as f64)),
        )
    }),
    ("vdi_node_load", "Load average.", |s| {
        by(
            "period",
            ["1", "5", "15"]
                .iter()
                .zip(s.load)
                .map(|(k, v)| (k.to_string(), v)),
        )
    }),
    (
        "vdi_node_network_bytes_per_second",
        "NIC byte rates over the newest report.",
        |s| {
            s.nics
                .iter()
                .flat_map(|n| {
                    [("up", n.up), ("down", n.down)].map(|(d, v)| {
                        (
                            vec![("nic", n.name.clone()), ("direction", d.to_string())],
                            v,
                        )
                    })
                })
                .collect()
        },
    ),
    ("vdi_node_disk_bytes", "Filesystem size and use.", |s| {
        s.disks
            .iter()
            .flat_map(|d| {
                [("total", d.total), ("used", d.used)].map(|(k, v)| {
                    (
                        vec![
                            ("device", d.name.clone()),
                            ("mount", d.mount.clone()),
                            ("kind", k.to_string()),
                        ],
                        v as f64,
                    )
                })
            })
            .collect()
    }),
    (
        "vdi_node_disk_io_bytes_per_second",
        "Disk read and write rates over the newest report.",
        |s| {
            s.disks
                .iter()
                .flat_map(|d| {
                    [("read", d.read_rate), ("write", d.write_rate)].map(|(k, v)| {
                        (
                            vec![("device", d.name.clone()), ("direction", k.to_string())],
                            v,
                        )
                    })
                })
                .collect()
        },
    ),
];
