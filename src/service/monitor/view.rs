//! What monitoring shows: the dashboard's top-5 lists (`index/top_data`),
//! history series for charts, and the overview of nodes, desktops,
//! allocation against hardware (over-commit) and storage per role.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::domain::monitor::{combine, Sample};
use crate::domain::monitor_query::HistoryQuery;
use crate::domain::monitor_query::{series, top_data, NodeFigures, Point, TopData};
use crate::domain::node::Node;
use crate::domain::storage::{Role, ROLES};
use crate::domain::Uuid;
use crate::error::{Error, Result};
use crate::service::monitor::TopNode;
use crate::service::{Services, Table};

/// A history answer.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    pub node: Node,
    pub query: HistoryQuery,
    /// The device the series is of (asked, or the node's default).
    pub device: Option<String>,
    pub points: Vec<Point>,
}

/// Allocated against physical, for CPU (vCPUs vs logical CPUs) or memory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Allocation {
    pub physical: u64,
    /// Of every desktop defined on the node(s).
    pub allocated: u64,
    /// Of the running desktops only.
    pub running: u64,
}

impl Allocation {
    fn add(&mut self, o: &Allocation) {
        self.physical += o.physical;
        self.allocated += o.allocated;
        self.running += o.running;
    }

    /// Allocated per physical unit (the over-commit ratio); 0 without hardware.
    pub fn ratio(&self) -> f64 {
        if self.physical == 0 {
            0.0
        } else {
            self.allocated as f64 / self.physical as f64
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeOverview {
    pub node: Node,
    pub up: bool,
    /// Unix seconds of the newest report.
    pub last_report: Option<i64>,
    pub desktops: u64,
    pub desktops_running: u64,
    pub cpu: Allocation,
    /// Bytes.
    pub memory: Allocation,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StorageOverview {
    pub role: Role,
    pub storages: u64,
    pub total_bytes: u64,
    pub used_bytes: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Overview {
    pub utc: i64,
    pub nodes: Vec<NodeOverview>,
    /// Desktop count per status name.
    pub desktops: BTreeMap<&'static str, u64>,
    pub cpu: Allocation,
    pub memory: Allocation,
    pub storage: Vec<StorageOverview>,
    /// Terminals in the registry, and those seen in the last hour.
    pub terminals: (usize, usize),
    /// Tasks running and waiting to run.
    pub tasks: (usize, usize),
}

impl Services {
    /// One node's figures over the last `period` seconds: this host from its
    /// instants, any node from its newest aggregate while it is fresh.
    fn period_sample(
        &self,
        node: &Uuid,
        local: Option<Uuid>,
        now_ms: i64,
        period: i64,
    ) -> Result<Option<Sample>> {
        let now = now_ms.div_euclid(1000);
        if local == Some(*node) {
            let recent = self.monitor_recent(now - period);
            if let Some(s) = combine(&recent, now - period, period as u32) {
                return Ok(Some(s));
            }
        }
        let fresh = self.settings.monitor_down_after.as_millis() as i64;
        Ok(self
            .monitor_latest(node)?
            .filter(|l| now_ms - l.received_ms <= fresh)
            .map(|l| l.sample))
    }

    /// Where each node keeps desktop system disks (storage role 3).
    fn desktop_roots(&self) -> Result<HashMap<Uuid, String>> {
        Ok(self
            .store
            .storage_list()?
            .into_iter()
            .filter(|s| s.roles.has(Role::DesktopSystem))
            .map(|s| (s.node, s.root))
            .collect())
    }

    /// `index/top_data` over the last `period` seconds (checked by the caller).
    pub fn top_data(&self, period: u32) -> Result<TopData> {
        let now = self.now_ms();
        let local = self.store.local_node()?;
        let mut figures = Vec::new();
        for n in self.top_nodes()?.iter() {
            if let Some(s) = self.period_sample(&n.uuid, local, now, period as i64)? {
                figures.push(NodeFigures::of(&n.name, &s, &n.manage, n.root.as_deref()));
            }
        }
        Ok(top_data(now.div_euclid(1000), &figures))
    }

    /// The nodes as `top_data` needs them, read again only when the node
    /// table (nodes, NICs, storages) changed: the dashboard polls it.
    fn top_nodes(&self) -> Result<Arc<Vec<TopNode>>> {
        let gen = self.table_generation(Table::Node);
        let mut cache = self.monitor.top_nodes.lock().map_err(Error::internal)?;
        if let Some((g, v)) = cache.as_ref() {
            if *g == gen {
                return Ok(v.clone());
            }
        }
        let mut roots = self.desktop_roots()?;
        let v: Arc<Vec<TopNode>> = Arc::new(
            self.store
                .node_list()?
                .into_iter()
                .map(|n| TopNode {
                    root: roots.remove(&n.uuid),
                    uuid: n.uuid,
                    name: n.name,
                    manage: n.manage_interface,
                })
                .collect(),
        );
        *cache = Some((gen, v.clone()));
        Ok(v)
    }

    /// A chart series. Without `device`, NIC metrics use the management NIC
    /// and disk metrics the disk holding the desktop storage.
    pub fn monitor_history(&self, q: HistoryQuery) -> Result<History> {
        let node = self.store.node_get(&q.node)?;
        let samples = self.monitor_range(&q.node, q.start, q.end)?;
        let device = if q.metric.per_device() {
            q.device.clone().or_else(|| {
                if matches!(q.metric.name(), "nic_up" | "nic_down") {
                    Some(node.manage_interface.clone()).filter(|m| !m.is_empty())
                } else {
                    let root = self.desktop_roots().ok()?.remove(&node.uuid)?;
                    samples
                        .iter()
                        .rev()
                        .find_map(|s| s.disk_holding(&root).map(|d| d.name.clone()))
                }
            })
        } else {
            None
        };
        let points = series(
            &samples,
            q.metric,
            device.as_deref().unwrap_or(""),
            q.start,
            q.step,
        );
        Ok(History {
            node,
            query: q,
            device,
            points,
        })
    }

    /// Nodes up and down, desktops by state, allocation against hardware
    /// per node and in total, and storage per role.
    pub fn monitor_overview(&self) -> Result<Overview> {
        let now = self.now_ms();
        let groups: HashMap<Uuid, (u64, u64)> = self
            .store
            .desktop_group_list()?
            .into_iter()
            .map(|g| (g.uuid, (g.vcpu as u64, g.ram_mb << 20)))
            .collect();
        let mut per_node: HashMap<Uuid, (u64, u64, Allocation, Allocation)> = HashMap::new();
        let mut desktops: BTreeMap<&'static str, u64> = BTreeMap::new();
        for d in self.store.desktop_list()? {
            *desktops.entry(d.status.as_str()).or_default() += 1;
            let (vcpu, mem) = groups.get(&d.group).copied().unwrap_or((0, 0));
            let running = d.status == crate::domain::desktop::Status::Active;
            let e = per_node.entry(d.node).or_default();
            e.0 += 1;
            e.2.allocated += vcpu;
            e.3.allocated += mem;
            if running {
                e.1 += 1;
                e.2.running += vcpu;
                e.3.running += mem;
            }
        }
        let mut nodes = Vec::new();
        let (mut cpu, mut memory) = (Allocation::default(), Allocation::default());
        for n in self.node_list()? {
            let (count, running, mut c, mut m) = per_node.remove(&n.uuid).unwrap_or_default();
            c.physical = n.inventory.cpu.threads as u64;
            m.physical = n.inventory.memory_bytes;
            cpu.add(&c);
            memory.add(&m);
            nodes.push(NodeOverview {
                up: self.monitor_node_up(&n.uuid, now)?,
                last_report: self.monitor_latest(&n.uuid)?.map(|l| l.sample.start),
                desktops: count,
                desktops_running: running,
                cpu: c,
                memory: m,
                node: n,
            });
        }
        Ok(Overview {
            utc: now.div_euclid(1000),
            nodes,
            desktops,
            cpu,
            memory,
            storage: self.storage_by_role()?,
            terminals: {
                let all = self.terminal_list()?;
                let hour_ago = now - 3_600_000;
                let seen = all.iter().filter(|t| t.last_seen >= hour_ago).count();
                (all.len(), seen)
            },
            tasks: {
                use crate::domain::task::TaskState;
                let all = self.task_list()?;
                let n = |st: TaskState| all.iter().filter(|t| t.state == st).count();
                (n(TaskState::Running), n(TaskState::Queued))
            },
        })
    }

    /// Size and use of the storages of each role: from the node's newest
    /// report, else (this host) from the storage usage read in the background.
    fn storage_by_role(&self) -> Result<Vec<StorageOverview>> {
        let mut latest: HashMap<Uuid, Option<Sample>> = HashMap::new();
        let mut out: Vec<StorageOverview> = ROLES
            .iter()
            .map(|r| StorageOverview {
                role: *r,
                storages: 0,
                total_bytes: 0,
                used_bytes: 0,
            })
            .collect();
        let local = self.store.local_node()?;
        for su in self.node_storage_list()? {
            let s = &su.storage;
            let sample = match latest.entry(s.node) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => v.insert(self.monitor_latest(&s.node)?.map(|l| l.sample)),
            };
            let held = sample.as_ref().and_then(|x| x.disk_holding(&s.root));
            let (total, used) = match held {
                Some(d) => (d.total, d.used),
                // This host's usage is read in the background; another
                // node's is unknown until it reports.
                None if local == Some(s.node) => (
                    su.total_bytes,
                    su.total_bytes.saturating_sub(su.available_bytes),
                ),
                None => (s.total_bytes, 0),
            };
            for o in out.iter_mut().filter(|o| s.roles.has(o.role)) {
                o.storages += 1;
                o.total_bytes += total;
                o.used_bytes += used;
            }
        }
        Ok(out)
    }
}
