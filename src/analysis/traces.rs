//! `traces`: one row per trace, for finding the traces worth opening. Rows come from the trace
//! summaries of a `TraceBook` (status and category by the shared rules), plus the tenants each
//! trace was seen with: more than one is a tenant-boundary defect.

use std::collections::HashMap;

use serde::Serialize;

use super::category::Category;
use super::trace::TraceStatus;
use super::tracebook::TraceOutcome;
use crate::event::{Event, Name, Timestamp, hex_trace_id, hex_trace_text};
use crate::pass::{Analysis, Needs, PassEnd};
use crate::source::TenantMap;

#[derive(Debug, Clone, Serialize)]
pub struct TraceRow {
    pub trace_id: String,
    pub tenant: Option<String>,
    pub status: TraceStatus,
    pub category: Option<Category>,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub duration_ms: f64,
    pub events: u64,
    pub retries: u64,
    /// The node reached last, and its last event for the trace.
    pub last_node: Option<String>,
    pub last_event: Option<String>,
    /// For a trace in flight: the time from its last event to the newest event read (the end
    /// of the input), how long it has made no progress (an attempt it started and did not
    /// finish has been running that long); null for the other statuses.
    pub idle_ms: Option<f64>,
    /// The trace's lines carried more than one tenant.
    pub cross_tenant: bool,
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TraceSort {
    /// Most recent last event first
    #[default]
    Recent,
    /// Earliest start first
    Start,
    /// Longest first
    Duration,
    /// Most events first
    Events,
    /// Most retries first
    Retries,
}

/// Which rows to keep and how to order them.
#[derive(Debug, Clone, Default)]
pub struct TraceQuery {
    pub statuses: Vec<TraceStatus>,
    pub categories: Vec<Category>,
    pub sort: TraceSort,
    pub limit: Option<usize>,
}

/// The rows shown, and counts over all traces (for the footer). Rows are kept compact and
/// made whole one at a time as they are written ([`TraceList::rows`]): a listing of every
/// trace of a long log holds about 72 bytes per trace, not its strings.
#[derive(Debug)]
pub struct TraceList {
    kept: Vec<KeptRow>,
    table: TraceTable,
    pub total: u64,
    pub matching: u64,
    pub by_status: Vec<(TraceStatus, u64)>,
    pub cross_tenant: u64,
}

impl TraceList {
    /// The rows shown, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = TraceRow> + '_ {
        self.kept.iter().map(|kept| self.table.row(kept))
    }

    /// How many rows are shown.
    pub fn shown(&self) -> usize {
        self.kept.len()
    }
}

/// A trace id: 32 lowercase hex digits (PenguiFlow's `uuid4().hex`) as a number, any other as
/// a name of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TraceKey {
    Hex([u64; 2]),
    Text(u32),
}

impl TraceKey {
    fn hex(trace_id: &str) -> Option<TraceKey> {
        hex_trace_id(trace_id).map(TraceKey::Hex)
    }
}

/// No name (a trace without tenant, a row without last node).
const NO_NAME: u32 = u32::MAX;

/// A finished trace's row as kept to the end of the pass: times, counts, status, and names as
/// ids into the table's names (tenants, nodes and kinds repeat on every row).
#[derive(Debug, Clone)]
struct KeptRow {
    trace: TraceKey,
    first_ts: Timestamp,
    last_ts: Timestamp,
    events: u64,
    retries: u64,
    tenant: u32,
    last_node: u32,
    last_event: u32,
    status: TraceStatus,
    category: Option<Category>,
}

impl KeptRow {
    fn duration_ms(&self) -> f64 {
        if self.events == 0 {
            return 0.0;
        }
        self.last_ts.millis_since(self.first_ts)
    }
}

/// Rows kept in chunks of this many: a vector doubling as it grows would hold up to twice the
/// rows' memory.
const CHUNK_ROWS: usize = 4096;

/// Every selected trace's row, compact, with what makes them whole at the end: the names,
/// the end of the input (idle times) and the cross-tenant traces.
#[derive(Debug, Default)]
pub struct TraceTable {
    chunks: Vec<Vec<KeptRow>>,
    names: Vec<Name>,
    ids: HashMap<Name, u32>,
    newest: Option<Timestamp>,
    /// Traces seen with more than one tenant: the tenants as output may show them.
    cross: HashMap<TraceKey, Vec<String>>,
}

impl TraceTable {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(NO_NAME - 1);
        let name = Name::from(name);
        self.names.push(Name::clone(&name));
        self.ids.insert(name, id);
        id
    }

    fn name(&self, id: u32) -> Option<String> {
        self.names.get(id as usize).map(|name| name.to_string())
    }

    fn key(&mut self, trace_id: &str) -> TraceKey {
        TraceKey::hex(trace_id).unwrap_or_else(|| TraceKey::Text(self.id(trace_id)))
    }

    fn push(&mut self, outcome: &TraceOutcome) {
        let summary = &outcome.summary;
        let last = summary.last_visit();
        let kept = KeptRow {
            trace: self.key(&summary.trace_id),
            first_ts: summary.first_ts,
            last_ts: summary.last_ts,
            events: summary.events,
            retries: summary.retries(),
            tenant: summary.tenant.as_deref().map_or(NO_NAME, |t| self.id(t)),
            last_node: last.map_or(NO_NAME, |visit| self.id(&visit.node_name)),
            last_event: last.map_or(NO_NAME, |visit| self.id(&visit.last_kind.to_string())),
            status: outcome.status,
            category: summary.category(outcome.status),
        };
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK_ROWS => chunk.push(kept),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK_ROWS);
                chunk.push(kept);
                self.chunks.push(chunk);
            }
        }
    }

    /// Every row, in the order the traces finished (chunks freed as they are taken).
    fn take_rows(&mut self) -> Vec<KeptRow> {
        let total = self.chunks.iter().map(Vec::len).sum();
        let mut rows = Vec::with_capacity(total);
        for chunk in std::mem::take(&mut self.chunks) {
            rows.extend(chunk);
        }
        rows
    }

    /// The whole row: what `row` gives for the trace, with its idle time and cross-tenant
    /// marks (as `mark_idle` and `mark_cross_tenant` set them).
    fn row(&self, kept: &KeptRow) -> TraceRow {
        let trace_id = match kept.trace {
            TraceKey::Hex(bits) => hex_trace_text(bits),
            TraceKey::Text(id) => self.name(id).unwrap_or_default(),
        };
        let tenant = self.name(kept.tenant);
        let mut row = TraceRow {
            trace_id,
            tenants: tenant.iter().cloned().collect(),
            tenant,
            status: kept.status,
            category: kept.category,
            first_ts: kept.first_ts,
            last_ts: kept.last_ts,
            duration_ms: kept.duration_ms(),
            events: kept.events,
            retries: kept.retries,
            last_node: self.name(kept.last_node),
            last_event: self.name(kept.last_event),
            idle_ms: None,
            cross_tenant: false,
        };
        if let Some(newest) = self.newest {
            mark_idle(std::slice::from_mut(&mut row), newest);
        }
        if let Some(seen) = self.cross.get(&kept.trace) {
            row.cross_tenant = true;
            row.tenants.clone_from(seen);
            if row.tenant.is_none() {
                row.tenant = seen.first().cloned();
            }
        }
        row
    }
}

/// The row of a finished trace (cross-tenant marks come later: `mark_cross_tenant`).
pub fn row(outcome: &TraceOutcome) -> TraceRow {
    let summary = &outcome.summary;
    let last = summary.last_visit();
    TraceRow {
        trace_id: summary.trace_id.clone(),
        tenant: summary.tenant.clone(),
        status: outcome.status,
        category: summary.category(outcome.status),
        first_ts: summary.first_ts,
        last_ts: summary.last_ts,
        duration_ms: summary.duration_ms(),
        events: summary.events,
        retries: summary.retries(),
        last_node: last.map(|visit| visit.node_name.to_string()),
        last_event: last.map(|visit| visit.last_kind.to_string()),
        idle_ms: None,
        cross_tenant: false,
        tenants: summary.tenant.iter().cloned().collect(),
    }
}

/// Sets how long each trace in flight has made no progress at `input_end` (the newest event
/// read), known once the stream is read: `duration_ms` ends at the trace's last event, so a
/// hung attempt would otherwise look short.
pub fn mark_idle(rows: &mut [TraceRow], input_end: Timestamp) {
    for row in rows.iter_mut() {
        if row.status == TraceStatus::InFlight {
            row.idle_ms = Some(input_end.millis_since(row.last_ts).max(0.0));
        }
    }
}

/// Marks the rows of traces seen with more than one tenant (known once the stream is read).
pub fn mark_cross_tenant(rows: &mut [TraceRow], tenants: &TenantMap, shown: &[String]) {
    let cross: HashMap<&str, &[Name]> = tenants.cross_tenant().into_iter().collect();
    for row in rows.iter_mut() {
        if let Some(seen) = cross.get(row.trace_id.as_str()) {
            row.cross_tenant = true;
            row.tenants = seen
                .iter()
                .map(|tenant| shown_tenant(tenant, shown))
                .collect();
            if row.tenant.is_none() {
                row.tenant = seen.first().map(|tenant| shown_tenant(tenant, shown));
            }
        }
    }
}

/// A tenant's name as output may show it: under `--tenant`, another tenant's name is never
/// printed (a cross-tenant trace says there was one, not who).
pub fn shown_tenant(name: &str, shown: &[String]) -> String {
    if shown.is_empty() || shown.iter().any(|wanted| wanted == name) {
        name.to_string()
    } else {
        "(another tenant)".to_string()
    }
}

/// Filters, orders and cuts the rows of every trace.
pub fn list(mut table: TraceTable, query: &TraceQuery) -> TraceList {
    let mut kept = table.take_rows();
    let by_status = TraceStatus::ALL
        .iter()
        .map(|status| {
            (
                *status,
                kept.iter().filter(|r| r.status == *status).count() as u64,
            )
        })
        .collect();
    let cross_tenant = kept
        .iter()
        .filter(|r| table.cross.contains_key(&r.trace))
        .count() as u64;
    let total = kept.len() as u64;
    kept.retain(|r| {
        (query.statuses.is_empty() || query.statuses.contains(&r.status))
            && (query.categories.is_empty()
                || r.category.is_some_and(|c| query.categories.contains(&c)))
    });
    let matching = kept.len() as u64;
    match query.sort {
        TraceSort::Recent => kept.sort_by_key(|r| std::cmp::Reverse(r.last_ts)),
        TraceSort::Start => kept.sort_by_key(|r| r.first_ts),
        TraceSort::Duration => kept.sort_by(|a, b| b.duration_ms().total_cmp(&a.duration_ms())),
        TraceSort::Events => kept.sort_by_key(|r| std::cmp::Reverse(r.events)),
        TraceSort::Retries => kept.sort_by_key(|r| std::cmp::Reverse(r.retries)),
    }
    if let Some(limit) = query.limit {
        kept.truncate(limit);
    }
    kept.shrink_to_fit();
    TraceList {
        kept,
        table,
        total,
        matching,
        by_status,
        cross_tenant,
    }
}

/// The rows of every trace that `--node`/`--kind` select, cross-tenant traces marked.
#[derive(Debug, Default)]
pub struct TraceRows {
    table: TraceTable,
}

impl Analysis for TraceRows {
    type Report = TraceTable;

    fn needs(&self) -> Needs {
        Needs::TraceStatuses
    }

    fn observe(&mut self, event: &Event, _selected: bool) {
        let newest = &mut self.table.newest;
        *newest = Some(newest.map_or(event.ts, |newest| newest.max(event.ts)));
    }

    fn trace_finished(&mut self, outcome: &TraceOutcome) {
        if outcome.summary.selected {
            self.table.push(outcome);
        }
    }

    fn finish(mut self, end: &PassEnd<'_>) -> TraceTable {
        let table = &mut self.table;
        for (trace_id, seen) in end.tenants.cross_tenant() {
            // Only traces with a row: a text id never seen here gets no name.
            let key = match TraceKey::hex(trace_id) {
                Some(key) => key,
                None => match table.ids.get(trace_id) {
                    Some(id) => TraceKey::Text(*id),
                    None => continue,
                },
            };
            let shown = seen
                .iter()
                .map(|tenant| shown_tenant(tenant, end.tenant_filter))
                .collect();
            table.cross.insert(key, shown);
        }
        self.table
    }
}
