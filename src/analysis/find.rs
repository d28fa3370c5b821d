//! `find`: where did one trace stop, and why. A fold over every event of the input that keeps
//! the matching trace's events, learns the flow graph from all traces, remembers each node's
//! events around the trace's successes (for the queue depth of an inferred next node), and at
//! the end builds a `FindReport`.

use std::collections::HashMap;

use serde::Serialize;

use super::category::{Category, CategoryCounts};
use super::graph::{FlowGraph, GraphLearner, Successor, is_endpoint};
use super::percentile::Percentiles;
use super::remediation;
use super::trace::{NextStep, NodeVisit, TraceStatus, TraceSummary};
use crate::event::{Event, Kind, Timestamp};
use crate::pass::{Analysis, Needs, PassEnd};
use crate::redact::summarize_exception;

/// Ids listed in an ambiguity error, at most; past this many matching traces, their events are
/// no longer kept (the answer is an ambiguity error anyway).
const MAX_LISTED_IDS: usize = 10;

/// Why no single trace could be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindError {
    NotFound { close: Vec<String> },
    Ambiguous { ids: Vec<String>, more: bool },
}

/// The events of one node nearest to a moment of the trace (any trace's events).
#[derive(Debug, Default)]
pub struct Around {
    trace_id: String,
    at: Timestamp,
    before: HashMap<String, Event>,
    after: HashMap<String, Event>,
}

pub struct TraceFinder {
    query: String,
    traces: HashMap<String, Vec<Event>>,
    graph: GraphLearner,
    latency: HashMap<String, Percentiles>,
    latest_by_node: HashMap<String, Event>,
    moments: Vec<Around>,
    close: Vec<(usize, String)>,
}

impl TraceFinder {
    /// Finds the trace whose id is `query` or starts with it.
    pub fn new(query: &str) -> TraceFinder {
        TraceFinder {
            query: query.to_string(),
            traces: HashMap::new(),
            graph: GraphLearner::default(),
            latency: HashMap::new(),
            latest_by_node: HashMap::new(),
            moments: Vec::new(),
            close: Vec::new(),
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.graph.observe(event);
        if let Some(node) = event.node_name.as_deref().filter(|n| !is_endpoint(n)) {
            if event.kind == Kind::NodeSuccess
                && let Some(latency) = event.latency_ms
            {
                self.latency
                    .entry(node.to_string())
                    .or_default()
                    .add(latency);
            }
            for moment in &mut self.moments {
                if event.ts > moment.at && !moment.after.contains_key(node) {
                    moment.after.insert(node.to_string(), event.clone());
                }
            }
            match self.latest_by_node.get_mut(node) {
                Some(latest) => latest.clone_from(event),
                None => {
                    self.latest_by_node.insert(node.to_string(), event.clone());
                }
            }
        }
        let Some(trace_id) = event.trace_id.as_deref() else {
            return;
        };
        if trace_id.starts_with(&self.query) {
            let known = self.traces.contains_key(trace_id);
            if !known && self.traces.len() > MAX_LISTED_IDS {
                return;
            }
            self.traces
                .entry(trace_id.to_string())
                .or_default()
                .push(event.clone());
            let single = self.traces.len() == 1 || trace_id == self.query;
            if event.kind == Kind::NodeSuccess && single {
                // Remember every node's latest event as of this success.
                self.moments.push(Around {
                    trace_id: trace_id.to_string(),
                    at: event.ts,
                    before: self.latest_by_node.clone(),
                    after: HashMap::new(),
                });
            }
        } else if self.traces.is_empty() {
            self.consider_close(trace_id);
        }
    }

    /// Keeps the 3 ids sharing the longest prefix with the query (at least 4 characters,
    /// compared case-insensitively), or containing it.
    fn consider_close(&mut self, trace_id: &str) {
        let shared = trace_id
            .chars()
            .zip(self.query.chars())
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count();
        let contains = self.query.len() >= 4
            && trace_id
                .to_ascii_lowercase()
                .contains(&self.query.to_ascii_lowercase());
        let score = if contains { self.query.len() } else { shared };
        if score < 4 || self.close.iter().any(|(_, id)| id == trace_id) {
            return;
        }
        self.close.push((score, trace_id.to_string()));
        self.close.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.close.truncate(3);
    }

    /// The report of the one matching trace.
    pub fn finish(mut self) -> Result<FindReport, FindError> {
        let trace_id = if self.traces.contains_key(&self.query) {
            self.query.clone()
        } else {
            let mut ids: Vec<String> = self.traces.keys().cloned().collect();
            ids.sort();
            match ids.len() {
                0 => {
                    return Err(FindError::NotFound {
                        close: self.close.into_iter().map(|(_, id)| id).collect(),
                    });
                }
                1 => ids.remove(0),
                count => {
                    ids.truncate(MAX_LISTED_IDS);
                    return Err(FindError::Ambiguous {
                        ids,
                        more: count > MAX_LISTED_IDS,
                    });
                }
            }
        };
        let timeline = self.traces.remove(&trace_id).unwrap_or_default();
        self.moments.retain(|moment| moment.trace_id == trace_id);
        let graph = self.graph.finish();
        Ok(build_report(
            &trace_id,
            timeline,
            &graph,
            &self.latency,
            &self.moments,
        ))
    }
}

/// The answer of `find`: a stable JSON contract (see the README).
#[derive(Debug, Clone, Serialize)]
pub struct FindReport {
    pub trace_id: String,
    pub tenant: Option<String>,
    pub status: TraceStatus,
    pub category: Option<Category>,
    pub events: u64,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub duration_ms: f64,
    pub nodes: Vec<String>,
    pub attempts: u64,
    pub retries: u64,
    pub last_success: Option<LastSuccess>,
    pub next: Option<NextNode>,
    pub counts: CategoryCounts,
    pub remediation: Vec<String>,
    pub timeline: Vec<Event>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastSuccess {
    pub node_name: String,
    pub node_id: Option<String>,
    pub ts: Timestamp,
    pub latency_ms: Option<f64>,
    pub q_depth_in: Option<i64>,
    pub q_depth_out: Option<i64>,
    pub q_depth_total: Option<i64>,
    pub queue_maxsize: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NextNode {
    pub node_name: String,
    /// The node's last event kind for the trace (null when inferred: no event yet).
    pub event: Option<String>,
    /// When `inferred`, the time of the node's nearest event of any trace (its queue depths).
    pub ts: Option<Timestamp>,
    pub attempts: u64,
    pub q_depth_in: Option<i64>,
    pub q_depth_out: Option<i64>,
    pub q_depth_total: Option<i64>,
    pub queue_maxsize: Option<i64>,
    /// True when the trace has no event at this node: it is the usual successor of the last
    /// successful node in the learned flow graph.
    pub inferred: bool,
    /// For an inferred node: traces that went on to it, out of those leaving the last node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of_traces: Option<u64>,
    /// What went wrong there: failure code, exception type and first line (masked).
    pub detail: Option<String>,
}

fn build_report(
    trace_id: &str,
    timeline: Vec<Event>,
    graph: &FlowGraph,
    latency: &HashMap<String, Percentiles>,
    moments: &[Around],
) -> FindReport {
    let mut summary = TraceSummary::new(trace_id);
    for event in &timeline {
        summary.observe(event);
    }
    let status = summary.status(graph);
    let category = summary.category(status);

    let (last_success, next) = locate(&summary, &timeline, graph, moments);
    let remediation = remediation::for_trace(&remediation::TraceFindings {
        summary: &summary,
        timeline: &timeline,
        status,
        category,
        next: next.as_ref(),
        last_success: last_success.as_ref(),
        latency,
    });

    FindReport {
        trace_id: trace_id.to_string(),
        tenant: summary.tenant.clone(),
        status,
        category,
        events: summary.events,
        first_ts: summary.first_ts,
        last_ts: summary.last_ts,
        duration_ms: summary.duration_ms(),
        nodes: summary.visits.iter().map(|v| v.node_name.clone()).collect(),
        attempts: summary.attempts,
        retries: summary.retries(),
        last_success,
        next,
        counts: summary.counts,
        remediation,
        timeline,
    }
}

/// The event of `timeline` at `node` of `kind` at `ts` (a summary keeps times, not events).
fn event_at<'a>(
    timeline: &'a [Event],
    node: &str,
    kind: &Kind,
    ts: Timestamp,
) -> Option<&'a Event> {
    timeline
        .iter()
        .rev()
        .find(|e| e.ts == ts && &e.kind == kind && e.node_name.as_deref() == Some(node))
}

fn success_event<'a>(timeline: &'a [Event], visit: &NodeVisit) -> Option<&'a Event> {
    event_at(
        timeline,
        &visit.node_name,
        &Kind::NodeSuccess,
        visit.success_ts?,
    )
}

/// Where the trace stopped: its last success on the path to the next node, and that next node
/// (observed, or inferred from the graph when the message is waiting in a queue). `moments`
/// give an inferred node's queue depth; without them it is unknown.
pub fn locate(
    summary: &TraceSummary,
    timeline: &[Event],
    graph: &FlowGraph,
    moments: &[Around],
) -> (Option<LastSuccess>, Option<NextNode>) {
    let stop = summary.stop_point(graph);
    let last_success_visit = stop.last_success;
    let next = match stop.next {
        Some(NextStep::Observed(stopped)) => {
            let last = event_at(
                timeline,
                &stopped.node_name,
                &stopped.last_kind,
                stopped.last_ts,
            );
            Some(NextNode {
                node_name: stopped.node_name.clone(),
                event: Some(stopped.last_kind.to_string()),
                ts: Some(stopped.last_ts),
                attempts: stopped.attempts,
                q_depth_in: last.and_then(|e| e.q_depth_in),
                q_depth_out: last.and_then(|e| e.q_depth_out),
                q_depth_total: last.and_then(|e| e.q_depth_total),
                queue_maxsize: last.and_then(|e| e.queue_maxsize),
                inferred: false,
                share: None,
                of_traces: None,
                detail: last.and_then(failure_detail),
            })
        }
        Some(NextStep::Inferred(successor)) => Some(infer_next(
            successor,
            last_success_visit.and_then(|visit| success_event(timeline, visit)),
            moments,
        )),
        None => None,
    };
    let last_success = last_success_visit
        .and_then(|visit| success_event(timeline, visit))
        .map(|event| LastSuccess {
            node_name: event.node_name.as_deref().unwrap_or_default().to_string(),
            node_id: event.node_id.as_deref().map(str::to_string),
            ts: event.ts,
            latency_ms: event.latency_ms,
            q_depth_in: event.q_depth_in,
            q_depth_out: event.q_depth_out,
            q_depth_total: event.q_depth_total,
            queue_maxsize: event.queue_maxsize,
        });
    (last_success, next)
}

/// The usual successor of a success the trace never went past, with that node's queue depth
/// at the time, taken from its nearest event of any trace: the first one after the success
/// (the queue with the message in it), else the last one before.
fn infer_next(successor: Successor, success: Option<&Event>, moments: &[Around]) -> NextNode {
    let nearest = success.and_then(|success| {
        let moment = moments.iter().find(|moment| moment.at == success.ts)?;
        moment
            .after
            .get(&successor.node_name)
            .or_else(|| moment.before.get(&successor.node_name))
    });
    NextNode {
        node_name: successor.node_name.clone(),
        event: None,
        ts: nearest.map(|e| e.ts),
        attempts: 0,
        q_depth_in: nearest.and_then(|e| e.q_depth_in),
        q_depth_out: nearest.and_then(|e| e.q_depth_out),
        q_depth_total: nearest.and_then(|e| e.q_depth_total),
        queue_maxsize: nearest.and_then(|e| e.queue_maxsize),
        inferred: true,
        share: Some(successor.share),
        of_traces: Some(successor.of_traces),
        detail: None,
    }
}

/// The failure code and exception of an event, as one short line.
fn failure_detail(event: &Event) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(code) = event.flow_error.as_ref().and_then(|f| f.code.clone()) {
        parts.push(code);
    }
    if let Some(exception) = &event.exception {
        let exception = summarize_exception(exception);
        parts.push(match (exception.type_name, exception.message.is_empty()) {
            (Some(name), true) => name,
            (Some(name), false) => format!("{name}: {}", exception.message),
            (None, _) => exception.message,
        });
    } else if let Some(name) = event
        .flow_error
        .as_ref()
        .and_then(|f| f.exception_type.clone())
    {
        parts.push(name);
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

impl Analysis for TraceFinder {
    type Report = Result<FindReport, FindError>;

    /// The trace is judged on all its events; `--node`/`--kind` only narrow the timeline shown.
    fn needs(&self) -> Needs {
        Needs::WholeTraces
    }

    fn keeps_text(&self) -> bool {
        true
    }

    fn observe(&mut self, event: &Event, _selected: bool) {
        TraceFinder::observe(self, event);
    }

    fn finish(self, _end: &PassEnd<'_>) -> Self::Report {
        TraceFinder::finish(self)
    }
}
