//! The only module that touches sled and bincode: one tree per table, typed
//! keys, versioned records, cross-tree invariants in transactions, schema
//! migrations, and the JSON export/import of the whole store.

mod admin;
mod bond;
mod catalog;
mod catalog_dump;
mod codec;
mod controller;
mod desktop;
mod export;
mod flusher;
mod monitor;
mod named;
mod network;
mod node;
mod node_link;
mod oplog;
mod pool;
mod refs;
mod saga;
pub mod schema;
mod storage;
mod subnet;
mod task;
mod terminal;
mod user;
mod vswitch;

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use sled::transaction::TransactionError;
use sled::Tree;

use crate::error::{Code, Error, Result};

pub use monitor::Compacted;
pub use network::NetworkSnapshot;
pub use refs::RefKind;
pub use subnet::IpReq;

/// The tables, for change tracking (`generation`) by readers that cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    ResourcePool,
    Admin,
    Session,
    Task,
    OpLog,
    Refs,
    Node,
    /// Virtual switches, networks, subnets and IP allocations.
    Network,
    Group,
    /// Base images and ISOs.
    Image,
    Template,
    /// Desktop groups and desktops.
    Desktop,
    User,
    /// Terminals and their sessions.
    Terminal,
}

const TABLES: usize = 14;
const SEQ_KEY: &[u8] = b"sequence";

pub struct Store {
    db: sled::Db,
    meta: Tree,
    pools: Tree,
    pool_names: Tree,
    admins: Tree,
    sessions: Tree,
    tokens: Tree,
    tasks: Tree,
    task_logs: Tree,
    oplog: Tree,
    refs: Tree,
    nodes: Tree,
    nics: Tree,
    storages: Tree,
    bonds: Tree,
    vswitches: Tree,
    vswitch_names: Tree,
    networks: Tree,
    network_names: Tree,
    subnets: Tree,
    ip_allocs: Tree,
    groups: Tree,
    group_names: Tree,
    images: Tree,
    isos: Tree,
    image_names: Tree,
    templates: Tree,
    template_names: Tree,
    desktop_groups: Tree,
    desktop_group_names: Tree,
    desktops: Tree,
    desktop_index: Tree,
    users: Tree,
    user_names: Tree,
    terminals: Tree,
    terminal_index: Tree,
    terminal_sessions: Tree,
    monitor: Tree,
    node_credentials: Tree,
    node_links: Tree,
    sagas: Tree,
    generations: [AtomicU64; TABLES],
    oplog_keep: usize,
    flusher: flusher::Flusher,
}

/// Store tuning; the defaults suit an appliance with a few hundred MB free.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub cache_bytes: u64,
    /// Upper bound of operation-log entries kept; older ones are pruned.
    pub oplog_keep: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_bytes: 4 * 1024 * 1024,
            oplog_keep: 20_000,
        }
    }
}

/// How long `Store::open` asks again for a store whose lock is held.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Store {
    /// Opens (creating if needed) the store in `dir`, migrating it to the
    /// current schema. Fails clearly when another process holds it.
    pub fn open(dir: &Path, opts: &StoreOptions) -> Result<Store> {
        // Private when the store makes it: it holds password hashes and tokens.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                Error::new(
                    Code::StoreUnavailable,
                    format!("Cannot create data directory {}: {e}", dir.display()),
                )
            })?;
        // A store this process has just dropped can keep its lock for a
        // moment (sled's I/O threads let go of the files after the last
        // handle), so a lock that is held is asked again for a short while
        // before the store counts as another process's.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            match sled::Config::new()
                .path(dir.join("store"))
                .cache_capacity(opts.cache_bytes)
                .flush_every_ms(Some(1000))
                .open()
            {
                Ok(db) => break db,
                Err(e) => {
                    let text = e.to_string();
                    let locked = text.contains("lock")
                        || text.contains("WouldBlock")
                        || text.contains("temporarily unavailable");
                    if locked && std::time::Instant::now() < deadline {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        continue;
                    }
                    return Err(if locked {
                        Error::new(
                            Code::StoreUnavailable,
                            format!("The store in {} is in use by another process (is the service running?)", dir.display()),
                        )
                    } else {
                        Error::new(
                            Code::StoreUnavailable,
                            format!("Cannot open the store in {}: {text}", dir.display()),
                        )
                    });
                }
            }
        };
        Self::from_db(db, opts)
    }

    /// A store in a temporary directory that disappears on drop (tests).
    pub fn temporary() -> Result<Store> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(Error::store)?;
        Self::from_db(db, &StoreOptions::default())
    }

    fn from_db(db: sled::Db, opts: &StoreOptions) -> Result<Store> {
        schema::migrate(&db, schema::MIGRATIONS, schema::CURRENT)?;
        let t = |name: &str| db.open_tree(name).map_err(Error::store);
        let store = Store {
            meta: t("meta")?,
            pools: t("resource_pools")?,
            pool_names: t("resource_pool_names")?,
            admins: t("admins")?,
            sessions: t("sessions")?,
            tokens: t("session_tokens")?,
            tasks: t("tasks")?,
            task_logs: t("task_logs")?,
            oplog: t("operation_log")?,
            refs: t("refs")?,
            nodes: t("nodes")?,
            nics: t("node_nics")?,
            storages: t("node_storages")?,
            bonds: t("bonds")?,
            vswitches: t("vswitches")?,
            vswitch_names: t("vswitch_names")?,
            networks: t("networks")?,
            network_names: t("network_names")?,
            subnets: t("subnets")?,
            ip_allocs: t("ip_allocations")?,
            groups: t("groups")?,
            group_names: t("group_names")?,
            images: t("base_images")?,
            isos: t("isos")?,
            image_names: t("image_names")?,
            templates: t("templates")?,
            template_names: t("template_names")?,
            desktop_groups: t("desktop_groups")?,
            desktop_group_names: t("desktop_group_names")?,
            desktops: t("desktops")?,
            desktop_index: t("desktop_index")?,
            users: t("users")?,
            user_names: t("user_names")?,
            terminals: t("terminals")?,
            terminal_index: t("terminal_index")?,
            terminal_sessions: t("terminal_sessions")?,
            monitor: t("monitor_samples")?,
            node_credentials: t("node_credentials")?,
            node_links: t("node_links")?,
            sagas: t("saga_journals")?,
            generations: Default::default(),
            oplog_keep: opts.oplog_keep,
            flusher: flusher::Flusher::start(db.clone())?,
            db,
        };
        store.oplog_prune(opts.oplog_keep)?;
        Ok(store)
    }

    /// Writes every pending change to disk; call before acknowledging a
    /// write. Concurrent callers share one flush (see `flusher`).
    pub async fn flush(&self) -> Result<()> {
        self.flusher.flush().await
    }

    pub fn flush_blocking(&self) -> Result<()> {
        self.db.flush().map(|_| ()).map_err(Error::store)
    }

    /// A cheap liveness probe for health reports.
    pub fn check(&self) -> Result<u32> {
        Ok(schema::read_version(&self.db)?.unwrap_or(0))
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// A counter bumped on every write to `t`; caches compare it.
    pub fn generation(&self, t: Table) -> u64 {
        self.generations[t as usize].load(Ordering::Acquire)
    }

    fn bump(&self, t: Table) {
        self.generations[t as usize].fetch_add(1, Ordering::AcqRel);
    }

    /// The next number of the store-wide sequence (1, 2, …), persisted in
    /// `meta` so that an import can move it past the numbers it brings.
    fn next_id(&self) -> Result<u64> {
        let v = self
            .meta
            .update_and_fetch(SEQ_KEY, |old| {
                let n = old
                    .and_then(|o| o.try_into().ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })
            .map_err(Error::store)?
            .ok_or_else(|| Error::store("sequence vanished"))?;
        codec::key_u64(&v)
    }

    /// The next number of the store-wide sequence, for records that keep
    /// their creation order.
    pub fn sequence_next(&self) -> Result<u64> {
        self.next_id()
    }

    /// Moves the sequence to at least `n`.
    fn seq_at_least(&self, n: u64) -> Result<()> {
        self.meta
            .update_and_fetch(SEQ_KEY, |old| {
                let cur = old
                    .and_then(|o| o.try_into().ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some(cur.max(n).to_be_bytes().to_vec())
            })
            .map_err(Error::store)?;
        Ok(())
    }
}

/// How often [`rmw`] tries again when the record changed under it.
const RMW_TRIES: usize = 64;

/// Read-modify-write of one record without running caller code inside a
/// sled transaction. `step` gets the record's current bytes, read outside
/// any transaction (so whatever it calls may read the store), does its work,
/// and commits in a transaction that answers `None` when the record is no
/// longer those bytes; then `step` runs again on the new value. (A plain
/// read inside a transaction closure waits on the lock that transaction
/// holds, and the whole store stops: design.md rule 8.)
fn rmw<T>(
    tree: &Tree,
    key: &[u8],
    missing: Error,
    mut step: impl FnMut(&[u8]) -> Result<Option<T>>,
) -> Result<T> {
    for _ in 0..RMW_TRIES {
        let Some(cur) = tree.get(key).map_err(Error::store)? else {
            return Err(missing);
        };
        if let Some(v) = step(&cur)? {
            return Ok(v);
        }
    }
    Err(rmw_gave_up())
}

fn rmw_gave_up() -> Error {
    Error::new(
        Code::StoreUnavailable,
        "A record kept changing while it was being updated; try again",
    )
}

/// Turns a sled transaction outcome into ours.
fn txn<T>(r: std::result::Result<T, TransactionError<Error>>) -> Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(TransactionError::Abort(e)) => Err(e),
        Err(TransactionError::Storage(e)) => Err(Error::store(e)),
    }
}

fn uuid_bytes(u: &uuid::Uuid) -> [u8; 16] {
    *u.as_bytes()
}

#[cfg(test)]
mod tx_rule {
    //! Design rule 8, checked on the source: the body of every sled
    //! transaction closure in this module reaches only the transaction's
    //! trees. `self.` inside one is a plain tree or a store method (which
    //! waits forever on the lock the transaction holds), and a call of a
    //! caller's closure (`f(…)`, `check(…)`) may do anything.

    /// The closure bodies of `.transaction(…)` calls in `src`, with lines.
    fn bodies(src: &str) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(i) = src[from..].find(".transaction(") {
            let start = from + i + ".transaction(".len();
            let mut depth = 1;
            let mut end = start;
            for (j, c) in src[start..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = start + j;
                    break;
                }
            }
            out.push((src[..start].lines().count(), &src[start..end]));
            from = end.max(start);
        }
        out
    }

    fn offences(body: &str) -> Vec<&'static str> {
        let mut v = Vec::new();
        if body.contains("self.") {
            v.push("`self.` (a plain tree or a store method)");
        }
        for call in ["f(", "check("] {
            let caller = body.match_indices(call).any(|(i, _)| {
                !body[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
            });
            if caller {
                v.push("a call of a caller's closure");
            }
        }
        v
    }

    #[test]
    fn the_scanner_sees_both_kinds_of_offence() {
        let bad = "x.transaction(|t| { let a = self.nodes.get(k)?; Ok(f(a)) })";
        let (_, body) = bodies(bad)[0];
        assert_eq!(offences(body).len(), 2, "{body}");
        let good = "x.transaction(|t| { let a = t.get(k)?; Ok(dec_f(a)) })";
        assert!(offences(bodies(good)[0].1).is_empty());
    }

    #[test]
    fn transaction_closures_touch_only_their_trees() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store");
        let mut seen = 0;
        let mut bad = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            // This file's tests quote offending code on purpose.
            let src = src.split("mod tx_rule").next().unwrap();
            for (line, body) in bodies(src) {
                seen += 1;
                for o in offences(body) {
                    bad.push(format!("{}:{line}: {o}", path.display()));
                }
            }
        }
        assert!(
            seen >= 40,
            "only {seen} transactions found: the scanner is broken"
        );
        assert!(
            bad.is_empty(),
            "transaction closures reaching outside their trees:\n{}",
            bad.join("\n")
        );
    }
}
