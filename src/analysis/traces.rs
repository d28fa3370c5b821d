//! `traces`: one row per trace, for finding the traces worth opening. Rows come from the trace
//! summaries of a `TraceBook` (status and category by the shared rules), plus the tenants each
//! trace was seen with: more than one is a tenant-boundary defect.

use std::collections::HashMap;

use serde::Serialize;

use super::category::Category;
use super::trace::TraceStatus;
use super::tracebook::TraceOutcome;
use crate::event::{Event, FastMap, Name, Timestamp, hex_trace_id, with_hex_trace_text};
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

    /// Hands `f` the rows shown at `places` (in the order shown), as one row filled again for
    /// each (the rows of a whole log, written as they come, without a row's texts allocated
    /// each time).
    pub fn each_row<E>(
        &self,
        places: std::ops::Range<usize>,
        mut f: impl FnMut(&TraceRow) -> Result<(), E>,
    ) -> Result<(), E> {
        debug_assert!(
            places.end <= self.kept.len(),
            "{places:?} of {}",
            self.kept.len()
        );
        let mut kept = self.kept.get(places).unwrap_or_default().iter();
        let Some(first) = kept.next() else {
            return Ok(());
        };
        let mut row = self.table.row(first);
        f(&row)?;
        for next in kept {
            self.table.fill(next, &mut row);
            f(&row)?;
        }
        Ok(())
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
    ids: FastMap<Name, u32>,
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
            last_event: last.map_or(NO_NAME, |visit| self.id(visit.last_kind.as_str())),
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
        let mut row = TraceRow {
            trace_id: String::new(),
            tenant: None,
            status: kept.status,
            category: None,
            first_ts: kept.first_ts,
            last_ts: kept.last_ts,
            duration_ms: 0.0,
            events: 0,
            retries: 0,
            last_node: None,
            last_event: None,
            idle_ms: None,
            cross_tenant: false,
            tenants: Vec::new(),
        };
        self.fill(kept, &mut row);
        row
    }

    /// Makes `row` the row of `kept`, its texts written into the ones `row` has (rows made
    /// anew allocated five texts each: most of writing 247,000 of them as JSON).
    fn fill(&self, kept: &KeptRow, row: &mut TraceRow) {
        let name = |id: u32| self.names.get(id as usize).map(|name| &**name);
        row.trace_id.clear();
        match kept.trace {
            TraceKey::Hex(bits) => with_hex_trace_text(bits, |text| row.trace_id.push_str(text)),
            TraceKey::Text(id) => row.trace_id.push_str(name(id).unwrap_or_default()),
        }
        let tenant = name(kept.tenant);
        refill(&mut row.tenant, tenant);
        row.tenants.truncate(usize::from(tenant.is_some()));
        if let Some(tenant) = tenant {
            match row.tenants.first_mut() {
                Some(first) => {
                    first.clear();
                    first.push_str(tenant);
                }
                None => row.tenants.push(tenant.to_string()),
            }
        }
        row.status = kept.status;
        row.category = kept.category;
        row.first_ts = kept.first_ts;
        row.last_ts = kept.last_ts;
        row.duration_ms = kept.duration_ms();
        row.events = kept.events;
        row.retries = kept.retries;
        refill(&mut row.last_node, name(kept.last_node));
        refill(&mut row.last_event, name(kept.last_event));
        row.idle_ms = None;
        row.cross_tenant = false;
        if let Some(newest) = self.newest {
            mark_idle(std::slice::from_mut(row), newest);
        }
        if let Some(seen) = self.cross.get(&kept.trace) {
            row.cross_tenant = true;
            row.tenants.clone_from(seen);
            if row.tenant.is_none() {
                row.tenant = seen.first().cloned();
            }
        }
    }
}

/// `text` made `value`, in the text it holds when it holds one.
fn refill(text: &mut Option<String>, value: Option<&str>) {
    match (text.as_mut(), value) {
        (Some(text), Some(value)) => {
            text.clear();
            text.push_str(value);
        }
        (_, value) => *text = value.map(str::to_string),
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
    use std::cmp::Reverse;
    match query.sort {
        TraceSort::Recent => sort_rows(&mut kept, |r| Reverse(r.last_ts)),
        TraceSort::Start => sort_rows(&mut kept, |r| r.first_ts),
        TraceSort::Duration => sort_rows(&mut kept, |r| Reverse(total_order(r.duration_ms()))),
        TraceSort::Events => sort_rows(&mut kept, |r| Reverse(r.events)),
        TraceSort::Retries => sort_rows(&mut kept, |r| Reverse(r.retries)),
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

/// Sorts `rows` by `key`, ties in their order (a stable sort): the keys are sorted with each
/// row's place, and each row then moved once, into its place (sorted themselves, the rows of
/// 72 bytes were moved twenty times each and more: 247,000 of them at 1 GiB).
fn sort_rows<K: Ord>(rows: &mut [KeptRow], key: impl Fn(&KeptRow) -> K) {
    let mut order: Vec<(K, usize)> = rows
        .iter()
        .enumerate()
        .map(|(place, row)| (key(row), place))
        .collect();
    order.sort_unstable();
    // Place `i` takes the row now at `from[i]`: each cycle of that permutation is followed
    // by swaps, the places done marked as their own source.
    let mut from: Vec<usize> = order.into_iter().map(|(_, place)| place).collect();
    for start in 0..rows.len() {
        let mut place = start;
        loop {
            let source = from[place];
            from[place] = place;
            if source == start || source == place {
                break;
            }
            rows.swap(place, source);
            place = source;
        }
    }
}

/// `value`'s place in `f64::total_cmp`'s order, as an integer.
fn total_order(value: f64) -> i64 {
    let bits = value.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `rows` random rows: hex and other ids, tenants with texts to escape, of
    /// every length, or none; some rows without a last node or kind; a quarter cross-tenant
    /// with two to four tenants (the reused row of `TraceList::each_row` meets every change).
    fn random_table(rows: usize, seed: u64) -> TraceTable {
        let mut random = seed;
        let mut next = move |below: u64| {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            random % below
        };
        let tenants = ["acme", "b\u{e9}\"ta", &"long-tenant-".repeat(8), "t\n"];
        let mut table = TraceTable::default();
        let mut kept = Vec::new();
        for place in 0..rows {
            let trace = match next(3) {
                0 => TraceKey::Text(table.id(&format!("order-{place}\\"))),
                _ => TraceKey::Hex([next(u64::MAX), next(u64::MAX)]),
            };
            let tenant = match next(4) as usize {
                0 => NO_NAME,
                index => table.id(tenants[index]),
            };
            let mut name = |text: &str| match next(5) {
                0 => NO_NAME,
                _ => table.id(text),
            };
            let (last_node, last_event) = (name("score"), name("node_start"));
            let first_ts = next(1 << 40) as i64 - (1 << 39);
            kept.push(KeptRow {
                trace,
                first_ts: Timestamp(first_ts),
                last_ts: Timestamp(first_ts + next(1_000_000_000) as i64),
                events: next(4),
                retries: next(3),
                tenant,
                last_node,
                last_event,
                status: TraceStatus::ALL[next(TraceStatus::ALL.len() as u64) as usize],
                category: match next(2) {
                    0 => None,
                    _ => Some(Category::ALL[next(Category::ALL.len() as u64) as usize]),
                },
            });
            if next(4) == 0 {
                let seen = tenants[..=next(3) as usize + 1].iter();
                table
                    .cross
                    .insert(trace, seen.map(|t| t.to_string()).collect());
            }
        }
        table.chunks = vec![kept];
        table.newest = Some(Timestamp(1 << 40));
        table
    }

    /// The listing written in runs on two threads, rows refilled in place, is what serde
    /// writes of the rows made one by one: across the runs' edges, under every order.
    #[test]
    fn the_json_listing_is_serdes_of_its_rows() {
        for rows in [0, 1, 255, 256, 257, 513, 1500] {
            for sort in [TraceSort::Recent, TraceSort::Duration, TraceSort::Events] {
                let query = TraceQuery {
                    sort,
                    ..TraceQuery::default()
                };
                let listing = list(random_table(rows, 0x2545_f491_4f6c_dd1d), &query);
                let made: Vec<TraceRow> = listing.rows().collect();
                let mut written = Vec::new();
                crate::render::traces::write_json(&listing, &mut written).expect("writes");
                assert_eq!(
                    String::from_utf8(written).expect("UTF-8"),
                    serde_json::to_string_pretty(&made).expect("serializes"),
                    "{rows} rows, {sort:?}"
                );
            }
        }
    }

    /// A write that fails (a closed pipe) is the listing's error, wherever it comes: the
    /// second thread stops, nothing hangs.
    #[test]
    fn a_failed_write_ends_the_listing_with_its_error() {
        struct ClosesAfter(usize);
        impl std::io::Write for ClosesAfter {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                if bytes.len() > self.0 {
                    return Err(std::io::ErrorKind::BrokenPipe.into());
                }
                self.0 -= bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let listing = list(random_table(5000, 7), &TraceQuery::default());
        for room in [0, 100, 300_000, 1_000_000] {
            let error = crate::render::traces::write_json(&listing, &mut ClosesAfter(room))
                .expect_err("the write fails");
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{room}");
        }
    }

    /// Rows sorted through their places come out as a stable sort leaves them: random rows
    /// with many ties, by every key, and the durations' order (NaN-free) as `total_cmp`'s.
    #[test]
    fn rows_sort_as_a_stable_sort_sorts_them() {
        let mut random = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |below: u64| {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            random % below
        };
        for length in [0, 1, 2, 3, 7, 100, 1000] {
            let rows: Vec<KeptRow> = (0..length)
                .map(|index| KeptRow {
                    trace: TraceKey::Text(index),
                    first_ts: Timestamp(next(20) as i64),
                    last_ts: Timestamp(next(20) as i64 + 20),
                    events: next(5),
                    retries: next(3),
                    tenant: NO_NAME,
                    last_node: NO_NAME,
                    last_event: NO_NAME,
                    status: TraceStatus::InFlight,
                    category: None,
                })
                .collect();
            let ids =
                |rows: &[KeptRow]| -> Vec<TraceKey> { rows.iter().map(|r| r.trace).collect() };
            let mut sorted = rows.clone();
            sort_rows(&mut sorted, |r| std::cmp::Reverse(r.last_ts));
            let mut expected = rows.clone();
            expected.sort_by_key(|r| std::cmp::Reverse(r.last_ts));
            assert_eq!(ids(&sorted), ids(&expected));
            let mut sorted = rows.clone();
            sort_rows(&mut sorted, |r| {
                std::cmp::Reverse(total_order(r.duration_ms()))
            });
            let mut expected = rows.clone();
            expected.sort_by(|a, b| b.duration_ms().total_cmp(&a.duration_ms()));
            assert_eq!(ids(&sorted), ids(&expected));
            let mut sorted = rows.clone();
            sort_rows(&mut sorted, |r| (r.events, r.retries));
            let mut expected = rows;
            expected.sort_by_key(|r| (r.events, r.retries));
            assert_eq!(ids(&sorted), ids(&expected));
        }
        let values = [
            -1.5,
            -0.0,
            0.0,
            1e-300,
            2.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for value in values {
            for other in values {
                assert_eq!(
                    total_order(value).cmp(&total_order(other)),
                    value.total_cmp(&other),
                    "{value} {other}"
                );
            }
        }
    }
}
