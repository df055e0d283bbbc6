//! The one generic query engine behind every `GET /api/v1.0/<resource>/`:
//! each resource registers a listing (its wire rows and the tables they come
//! from); the engine keeps a columnar snapshot per listing, rebuilt when a
//! source table changes, with lazily built indexes for `=` and substring
//! filters, and answers `searchtype` / filter / paging queries from it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use std::io::Write;

use memchr::memmem;
use serde_json::{Map, Value};

use crate::domain::clock::{format_utc, Millis};
use crate::domain::query::{Query, Range, SearchType};
use crate::domain::text::fold;
use crate::error::{Code, Error, Result};

pub type Row = Map<String, Value>;

/// The base columns every record of every listing carries, first in each
/// row (file 001's generic query: `id, uuid, created_at, updated_at,
/// deleted, deleted_at`). Deletes are hard, so `deleted` is always false
/// and `deleted_at` null.
pub const BASE_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
];

/// What a listed record says of itself beside its row; the engine writes
/// it into the base columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Base {
    /// A stable integer id (the record's store sequence number).
    pub id: u64,
    /// `None` for records without one (the operation log).
    pub uuid: Option<uuid::Uuid>,
    pub created_at: Millis,
    /// `None` for records that keep no time of change.
    pub updated_at: Option<Millis>,
}

/// One queryable resource.
pub struct Listing<C> {
    /// The resource name in the URL, e.g. `resource_pool`.
    pub name: &'static str,
    /// Every field a row has, in output order; filters may name any of them.
    /// The base columns come before these (a field named like one of them
    /// is the base column).
    pub fields: &'static [&'static str],
    /// A number that changes whenever a row could have changed.
    pub generation: fn(&C) -> u64,
    /// Hands every record (its base facts and its row), in the order
    /// results are listed, to the sink (one at a time, so a rebuild never
    /// holds two copies of the table).
    pub load: fn(&C, &mut Sink<'_>) -> Result<()>,
}

/// Where a listing hands its records.
pub type Sink<'a> = dyn FnMut(Base, Value) + 'a;

impl Base {
    /// Writes the base columns into `row` (replacing what it says there).
    fn fill(&self, row: &mut Row) {
        row.insert("id".into(), Value::from(self.id));
        if let Some(u) = self.uuid {
            row.insert("uuid".into(), Value::String(u.to_string()));
        }
        row.entry("uuid").or_insert(Value::Null);
        row.insert(
            "created_at".into(),
            Value::String(format_utc(self.created_at)),
        );
        row.insert(
            "updated_at".into(),
            self.updated_at
                .map(|t| Value::String(format_utc(t)))
                .unwrap_or(Value::Null),
        );
        row.insert("deleted".into(), Value::Bool(false));
        row.insert("deleted_at".into(), Value::Null);
    }
}

/// The base columns, then the listing's own fields not among them.
fn all_fields(own: &[&'static str]) -> Vec<&'static str> {
    let mut v = BASE_FIELDS.to_vec();
    v.extend(own.iter().filter(|f| !BASE_FIELDS.contains(f)));
    v
}

/// The result of a query, rows already as JSON text: a page (a JSON array
/// of `returned` rows out of `count` matches), or one row for `single`.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Page {
        count: usize,
        returned: usize,
        rows: String,
    },
    Single(String),
}

#[derive(Debug)]
enum Cell {
    Null,
    Bool(bool),
    Num(f64, serde_json::Number),
    Str(Box<str>),
    Json(Box<Value>),
}

impl Cell {
    fn from_value(v: Value) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(b),
            Value::Number(n) => Cell::Num(n.as_f64().unwrap_or(f64::NAN), n),
            Value::String(s) => Cell::Str(s.into_boxed_str()),
            other => Cell::Json(Box::new(other)),
        }
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        // Writing JSON into a Vec cannot fail.
        let _ = match self {
            Cell::Null => out.write_all(b"null"),
            Cell::Bool(b) => out.write_all(if *b { b"true" } else { b"false" }),
            Cell::Num(_, n) => serde_json::to_writer(&mut *out, n).map_err(std::io::Error::other),
            Cell::Str(s) => serde_json::to_writer(&mut *out, &**s).map_err(std::io::Error::other),
            Cell::Json(v) => serde_json::to_writer(&mut *out, &**v).map_err(std::io::Error::other),
        };
    }

    /// The text a filter compares against.
    fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Num(_, n) => n.to_string(),
            Cell::Str(s) => s.to_string(),
            Cell::Json(v) => v.to_string(),
        }
    }
}

/// Lowercased cell texts of one column joined by NUL, with row offsets.
struct Haystack {
    text: Vec<u8>,
    starts: Vec<u32>,
}

/// Row lists per lowercase byte trigram of one column.
type Trigrams = HashMap<[u8; 3], Vec<u32>>;

struct Snapshot {
    generation: u64,
    rows: usize,
    columns: Vec<Vec<Cell>>,
    haystacks: Vec<OnceLock<Haystack>>,
    trigrams: Vec<OnceLock<Trigrams>>,
    exact: Vec<OnceLock<HashMap<String, Vec<u32>>>>,
}

#[derive(Clone, Copy, PartialEq)]
enum ColKind {
    Text,
    Bool,
    Num,
}

impl Snapshot {
    fn build(
        fields: &[&str],
        generation: u64,
        fill: impl FnOnce(&mut dyn FnMut(Base, Value)) -> Result<()>,
    ) -> Result<Snapshot> {
        let mut columns: Vec<Vec<Cell>> = fields.iter().map(|_| Vec::new()).collect();
        let mut n = 0;
        fill(&mut |base: Base, row: Value| {
            let mut row = match row {
                Value::Object(m) => m,
                _ => Row::new(),
            };
            base.fill(&mut row);
            for (i, f) in fields.iter().enumerate() {
                columns[i].push(Cell::from_value(row.remove(*f).unwrap_or(Value::Null)));
            }
            n += 1;
        })?;
        for c in &mut columns {
            c.shrink_to_fit();
        }
        Ok(Snapshot {
            generation,
            rows: n,
            haystacks: fields.iter().map(|_| OnceLock::new()).collect(),
            trigrams: fields.iter().map(|_| OnceLock::new()).collect(),
            exact: fields.iter().map(|_| OnceLock::new()).collect(),
            columns,
        })
    }

    fn kind(&self, col: usize) -> ColKind {
        for c in &self.columns[col] {
            match c {
                Cell::Null => continue,
                Cell::Bool(_) => return ColKind::Bool,
                Cell::Num(..) => return ColKind::Num,
                _ => return ColKind::Text,
            }
        }
        ColKind::Text
    }

    fn haystack(&self, col: usize) -> &Haystack {
        self.haystacks[col].get_or_init(|| {
            let mut text = Vec::new();
            let mut starts = Vec::with_capacity(self.rows);
            for c in &self.columns[col] {
                starts.push(text.len() as u32);
                text.extend(fold(&c.text()).bytes());
                text.push(0);
            }
            Haystack { text, starts }
        })
    }

    /// The lowercase text of one row of a haystack (without its NUL).
    fn row_text(h: &Haystack, row: usize) -> &[u8] {
        let start = h.starts[row] as usize;
        let end = h
            .starts
            .get(row + 1)
            .map(|&e| e as usize)
            .unwrap_or(h.text.len())
            - 1;
        &h.text[start..end]
    }

    fn trigram_index(&self, col: usize) -> &Trigrams {
        self.trigrams[col].get_or_init(|| {
            let h = self.haystack(col);
            let mut m: Trigrams = HashMap::new();
            for row in 0..self.rows {
                for w in Self::row_text(h, row).windows(3) {
                    let list = m.entry([w[0], w[1], w[2]]).or_default();
                    if list.last() != Some(&(row as u32)) {
                        list.push(row as u32);
                    }
                }
            }
            m
        })
    }

    fn exact_index(&self, col: usize) -> &HashMap<String, Vec<u32>> {
        self.exact[col].get_or_init(|| {
            let mut m: HashMap<String, Vec<u32>> = HashMap::new();
            for (i, c) in self.columns[col].iter().enumerate() {
                m.entry(c.text()).or_default().push(i as u32);
            }
            m
        })
    }

    /// Rows (ascending) whose column `col` contains `needle`, ignoring case.
    /// Needles of three bytes or more go through the trigram index: the
    /// rarest trigram's rows are the candidates, each checked in full.
    fn contain(&self, col: usize, needle: &str) -> Vec<u32> {
        let h = self.haystack(col);
        let needle = fold(needle);
        if needle.is_empty() {
            return (0..self.rows as u32).collect();
        }
        if needle.len() >= 3 {
            let index = self.trigram_index(col);
            let mut rarest: Option<&Vec<u32>> = None;
            for w in needle.as_bytes().windows(3) {
                match index.get(&[w[0], w[1], w[2]]) {
                    None => return Vec::new(),
                    Some(list) if rarest.is_none_or(|r| list.len() < r.len()) => {
                        rarest = Some(list)
                    }
                    Some(_) => {}
                }
            }
            let finder = memmem::Finder::new(needle.as_bytes());
            return rarest
                .map(|rows| {
                    rows.iter()
                        .copied()
                        .filter(|&r| finder.find(Self::row_text(h, r as usize)).is_some())
                        .collect()
                })
                .unwrap_or_default();
        }
        let mut out: Vec<u32> = Vec::new();
        for pos in memmem::find_iter(&h.text, needle.as_bytes()) {
            let row = match h.starts.binary_search(&(pos as u32)) {
                Ok(r) => r,
                Err(r) => r - 1,
            } as u32;
            if out.last() != Some(&row) {
                out.push(row);
            }
        }
        out
    }

    /// Rows (ascending) whose column `col` equals `value`.
    fn equal(&self, col: usize, value: &str) -> Vec<u32> {
        match self.kind(col) {
            ColKind::Num => match value.trim().parse::<f64>() {
                Ok(want) => (0..self.rows as u32)
                    .filter(
                        |&i| matches!(self.columns[col][i as usize], Cell::Num(v, _) if v == want),
                    )
                    .collect(),
                Err(_) => Vec::new(),
            },
            ColKind::Bool => {
                let canon = match value.to_ascii_lowercase().as_str() {
                    "1" | "true" => "true",
                    "0" | "false" => "false",
                    "" => "",
                    _ => return Vec::new(),
                };
                self.exact_index(col)
                    .get(canon)
                    .cloned()
                    .unwrap_or_default()
            }
            ColKind::Text => self
                .exact_index(col)
                .get(value)
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn matches(&self, row: u32, col: usize, value: &str, contain: bool) -> bool {
        let cell = &self.columns[col][row as usize];
        if contain {
            return fold(&cell.text()).contains(&fold(value));
        }
        match (cell, self.kind(col)) {
            (Cell::Num(v, _), _) => value
                .trim()
                .parse::<f64>()
                .map(|w| w == *v)
                .unwrap_or(false),
            (Cell::Bool(b), _) => match value.to_ascii_lowercase().as_str() {
                "1" | "true" => *b,
                "0" | "false" => !*b,
                _ => false,
            },
            _ => cell.text() == value,
        }
    }

    /// Whether row `row`'s column `col` compares with `value` as `op` says:
    /// numbers as numbers, text in byte order; nulls never pass.
    fn in_range(&self, row: u32, col: usize, op: Range, value: &str) -> bool {
        let ord = match &self.columns[col][row as usize] {
            Cell::Null => return false,
            Cell::Num(v, _) => match value.trim().parse::<f64>() {
                Ok(w) => v.partial_cmp(&w),
                Err(_) => return false,
            },
            cell => Some(cell.text().as_str().cmp(value)),
        };
        ord.is_some_and(|o| op.admits(o))
    }

    /// Writes one row as a JSON object, straight from the columns.
    fn render(&self, fields: &[&str], row: u32, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = serde_json::to_writer(&mut *out, f);
            out.push(b':');
            self.columns[i][row as usize].write_json(out);
        }
        out.push(b'}');
    }
}

struct Entry<C> {
    listing: Listing<C>,
    /// The base columns and the listing's fields.
    fields: Vec<&'static str>,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    building: std::sync::Mutex<()>,
}

/// Every registered listing and its current snapshot.
pub struct QueryEngine<C> {
    entries: HashMap<&'static str, Entry<C>>,
}

impl<C> Default for QueryEngine<C> {
    fn default() -> Self {
        QueryEngine {
            entries: HashMap::new(),
        }
    }
}

impl<C> QueryEngine<C> {
    pub fn register(&mut self, listing: Listing<C>) {
        self.entries.insert(
            listing.name,
            Entry {
                fields: all_fields(listing.fields),
                listing,
                snapshot: RwLock::new(None),
                building: std::sync::Mutex::new(()),
            },
        );
    }

    pub fn names(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.entries.keys().copied().collect();
        v.sort();
        v
    }

    /// Every field of a listing's rows: the base columns, then its own.
    pub fn fields(&self, name: &str) -> Option<&[&'static str]> {
        self.entries.get(name).map(|e| e.fields.as_slice())
    }

    /// The current snapshot, rebuilt when its source changed. The build runs
    /// without holding the lock (readers of the old snapshot never wait for
    /// it); the lock is taken only to swap the result in.
    fn snapshot(&self, entry: &Entry<C>, ctx: &C) -> Result<Arc<Snapshot>> {
        let generation = (entry.listing.generation)(ctx);
        if let Some(s) = entry.snapshot.read().map_err(Error::internal)?.as_ref() {
            if s.generation == generation {
                return Ok(s.clone());
            }
        }
        // One build at a time per listing; whoever waited finds it done.
        let _building = entry.building.lock().map_err(Error::internal)?;
        if let Some(s) = entry.snapshot.read().map_err(Error::internal)?.as_ref() {
            if s.generation == generation {
                return Ok(s.clone());
            }
        }
        let load = entry.listing.load;
        let snap = Arc::new(Snapshot::build(&entry.fields, generation, |sink| {
            load(ctx, sink)
        })?);
        let mut slot = entry.snapshot.write().map_err(Error::internal)?;
        if slot.as_ref().is_none_or(|s| s.generation <= generation) {
            *slot = Some(snap.clone());
        }
        Ok(snap)
    }

    /// Whether a query on `name` would be answered from the current
    /// snapshot (no rebuild): callers run stale queries off the executor.
    pub fn is_fresh(&self, ctx: &C, name: &str) -> bool {
        let Some(entry) = self.entries.get(name) else {
            return true;
        };
        let generation = (entry.listing.generation)(ctx);
        entry
            .snapshot
            .try_read()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.generation == generation))
            .unwrap_or(false)
    }

    /// Answers a parsed query over the listing `name`.
    pub fn run(&self, ctx: &C, name: &str, q: &Query) -> Result<Answer> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| Error::new(Code::RouteNotFound, format!("No listing `{name}`")))?;
        let fields = entry.fields.as_slice();
        let mut filters = Vec::with_capacity(q.filters.len());
        for (k, v) in &q.filters {
            let col = fields.iter().position(|f| f == k).ok_or_else(|| {
                Error::new(
                    Code::QueryUnknownField,
                    format!(
                        "Query `{k}`: {name} has no such field (fields: {})",
                        fields.join(", ")
                    ),
                )
            })?;
            filters.push((col, v.as_str()));
        }
        let mut ranges = Vec::with_capacity(q.ranges.len());
        for (k, r, v) in &q.ranges {
            let col = fields.iter().position(|f| f == k).ok_or_else(|| {
                Error::new(
                    Code::QueryUnknownField,
                    format!(
                        "Query `{k}__…`: {name} has no such field (fields: {})",
                        fields.join(", ")
                    ),
                )
            })?;
            ranges.push((col, *r, v.as_str()));
        }
        let snap = self.snapshot(entry, ctx)?;
        let contain = q.search == SearchType::Contain;
        let mut hits: Vec<u32> = match filters.split_first() {
            None => (0..snap.rows as u32).collect(),
            Some((&(col, v), rest)) => {
                let first = if contain {
                    snap.contain(col, v)
                } else {
                    snap.equal(col, v)
                };
                first
                    .into_iter()
                    .filter(|&r| rest.iter().all(|&(c, v)| snap.matches(r, c, v, contain)))
                    .collect()
            }
        };
        if !ranges.is_empty() {
            hits.retain(|&r| ranges.iter().all(|&(c, op, v)| snap.in_range(r, c, op, v)));
        }
        if q.newest_first {
            hits.reverse();
        }
        if q.search == SearchType::Single {
            return match hits.first() {
                Some(&r) => {
                    let mut out = Vec::with_capacity(256);
                    snap.render(fields, r, &mut out);
                    Ok(Answer::Single(
                        String::from_utf8(out).map_err(Error::internal)?,
                    ))
                }
                None => Err(Error::new(
                    Code::QueryNoMatch,
                    format!("No {name} matches the query"),
                )),
            };
        }
        let start = q.offset();
        let mut out =
            Vec::with_capacity(256 * q.page_size.min(hits.len().saturating_sub(start)) + 2);
        out.push(b'[');
        let mut returned = 0;
        for &r in hits.iter().skip(start).take(q.page_size) {
            if returned > 0 {
                out.push(b',');
            }
            snap.render(fields, r, &mut out);
            returned += 1;
        }
        out.push(b']');
        Ok(Answer::Page {
            count: hits.len(),
            returned,
            rows: String::from_utf8(out).map_err(Error::internal)?,
        })
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
