//! `traces`: one row per trace, for finding the traces worth opening. Rows come from the trace
//! summaries of a `TraceBook` (status and category by the shared rules), plus the tenants each
//! trace was seen with: more than one is a tenant-boundary defect.

use std::collections::HashMap;

use serde::Serialize;

use super::category::Category;
use super::trace::TraceStatus;
use super::tracebook::TraceOutcome;
use crate::event::{Event, Name, Timestamp};
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

/// The rows shown, and counts over all traces (for the footer).
#[derive(Debug, Clone)]
pub struct TraceList {
    pub rows: Vec<TraceRow>,
    pub total: u64,
    pub matching: u64,
    pub by_status: Vec<(TraceStatus, u64)>,
    pub cross_tenant: u64,
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
        last_node: last.map(|visit| visit.node_name.clone()),
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
pub fn list(all: Vec<TraceRow>, query: &TraceQuery) -> TraceList {
    let by_status = TraceStatus::ALL
        .iter()
        .map(|status| {
            (
                *status,
                all.iter().filter(|r| r.status == *status).count() as u64,
            )
        })
        .collect();
    let cross_tenant = all.iter().filter(|r| r.cross_tenant).count() as u64;
    let total = all.len() as u64;
    let mut rows: Vec<TraceRow> = all
        .into_iter()
        .filter(|r| query.statuses.is_empty() || query.statuses.contains(&r.status))
        .filter(|r| {
            query.categories.is_empty() || r.category.is_some_and(|c| query.categories.contains(&c))
        })
        .collect();
    let matching = rows.len() as u64;
    match query.sort {
        TraceSort::Recent => rows.sort_by_key(|r| std::cmp::Reverse(r.last_ts)),
        TraceSort::Start => rows.sort_by_key(|r| r.first_ts),
        TraceSort::Duration => rows.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms)),
        TraceSort::Events => rows.sort_by_key(|r| std::cmp::Reverse(r.events)),
        TraceSort::Retries => rows.sort_by_key(|r| std::cmp::Reverse(r.retries)),
    }
    if let Some(limit) = query.limit {
        rows.truncate(limit);
    }
    TraceList {
        rows,
        total,
        matching,
        by_status,
        cross_tenant,
    }
}

/// The rows of every trace that `--node`/`--kind` select, cross-tenant traces marked.
#[derive(Debug, Default)]
pub struct TraceRows {
    rows: Vec<TraceRow>,
    /// The newest event read: the end of the input.
    newest: Option<Timestamp>,
}

impl Analysis for TraceRows {
    type Report = Vec<TraceRow>;

    fn needs(&self) -> Needs {
        Needs::TraceStatuses
    }

    fn observe(&mut self, event: &Event, _selected: bool) {
        self.newest = Some(self.newest.map_or(event.ts, |newest| newest.max(event.ts)));
    }

    fn trace_finished(&mut self, outcome: &TraceOutcome) {
        if outcome.summary.selected {
            self.rows.push(row(outcome));
        }
    }

    fn finish(mut self, end: &PassEnd<'_>) -> Vec<TraceRow> {
        if let Some(newest) = self.newest {
            mark_idle(&mut self.rows, newest);
        }
        mark_cross_tenant(&mut self.rows, end.tenants, end.tenant_filter);
        self.rows
    }
}
