//! `traces` keeps every trace's row to the end of the pass (to sort and count them): each
//! finished trace must cost a compact row, not its strings. Measured by counting the heap
//! held after the traces are handed over, not by timing. And the rows come back whole: the
//! ids, tenants, nodes and kinds as they went in.

use std::sync::atomic::Ordering;

use flowtrace::analysis::graph::FlowGraph;
use flowtrace::analysis::trace::{TraceStatus, TraceSummary};
use flowtrace::analysis::tracebook::TraceOutcome;
use flowtrace::analysis::traces::{TraceQuery, TraceRows, TraceSort, list};
use flowtrace::event::{Count, Event, Kind, Origin, Timestamp};
use flowtrace::pass::{Analysis, PassEnd};
use flowtrace::source::TenantMap;

#[path = "common/counting.rs"]
mod counting;

use counting::{CURRENT, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const NODES: [&str; 4] = ["retrieve", "rerank", "llm_answer", "publish"];
const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

/// A finished trace as the trace book hands it over: a uuid4-hex id (or a text id), a tenant,
/// a start and a success at each of four nodes.
fn outcome(index: u64, text_id: bool) -> TraceOutcome {
    let trace_id = if text_id {
        format!("trace-{index}")
    } else {
        format!(
            "{:016x}{:016x}",
            index.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            index
        )
    };
    let mut summary = TraceSummary::new(&trace_id);
    let input = "synthetic";
    for (step, node) in NODES.iter().enumerate() {
        for kind in [Kind::NodeStart, Kind::NodeSuccess] {
            let origin = Origin::Line { input, line: index };
            let ts = 1_700_000_000_000_000 + index as i64 * 1_000 + step as i64 * 100;
            let mut event = Event::new(Timestamp(ts), kind, origin);
            event.trace_id = Some(trace_id.as_str().into());
            event.node_name = Some((*node).into());
            event.tenant = Some(TENANTS[index as usize % 3].into());
            event.set_count(Count::Attempt, Some(0));
            summary.observe(&event);
        }
    }
    summary.selected = true;
    TraceOutcome {
        summary,
        status: TraceStatus::Succeeded,
    }
}

#[test]
fn a_finished_trace_costs_under_100_bytes() {
    const TRACES: u64 = 200_000;
    let mut rows = TraceRows::default();
    // Names (tenants, nodes, kinds) are learned on the first traces.
    rows.trace_finished(&outcome(0, false));
    let baseline = CURRENT.load(Ordering::Relaxed);
    for index in 1..=TRACES {
        let finished = outcome(index, false);
        rows.trace_finished(&finished);
    }
    let held = CURRENT.load(Ordering::Relaxed) - baseline;
    let per_trace = held as f64 / TRACES as f64;
    assert!(
        per_trace < 100.0,
        "{per_trace:.0} bytes held per finished trace ({held} bytes for {TRACES})"
    );
}

#[test]
fn rows_come_back_as_the_traces_went_in() {
    let mut rows = TraceRows::default();
    let outcomes: Vec<TraceOutcome> = (0..50).map(|i| outcome(i, i % 5 == 0)).collect();
    for finished in &outcomes {
        rows.trace_finished(finished);
    }
    let graph = FlowGraph::default();
    let tenants = TenantMap::default();
    let end = PassEnd {
        graph: &graph,
        tenants: &tenants,
        tenant_filter: &[],
        input_end: None,
    };
    let query = TraceQuery {
        sort: TraceSort::Start,
        ..TraceQuery::default()
    };
    let listing = list(rows.finish(&end), &query);
    assert_eq!(listing.total, 50);
    let shown: Vec<_> = listing.rows().collect();
    assert_eq!(shown.len(), 50);
    for (row, finished) in shown.iter().zip(&outcomes) {
        let summary = &finished.summary;
        assert_eq!(row.trace_id, summary.trace_id);
        assert_eq!(row.tenant, summary.tenant);
        assert_eq!(row.events, 8);
        assert_eq!(row.first_ts, summary.first_ts);
        assert_eq!(row.duration_ms, summary.duration_ms());
        assert_eq!(row.last_node.as_deref(), Some("publish"));
        assert_eq!(row.last_event.as_deref(), Some("node_success"));
        assert_eq!(row.status, TraceStatus::Succeeded);
    }
}
