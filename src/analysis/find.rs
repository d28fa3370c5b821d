//! `find`: where did one trace stop, and why. A fold over every event of the input that keeps
//! the matching trace's events, learns the flow graph from all traces, remembers each node's
//! events around the trace's successes (for the queue depth of an inferred next node), and at
//! the end builds a `FindReport`.

use std::collections::HashMap;

use serde::Serialize;

use super::category::{Category, CategoryCounts};
use super::deadline_cause::{self, Expired, LongestCalls, NodeCalls};
use super::graph::{FlowGraph, GraphLearner, Successor, is_endpoint};
use super::percentile::Percentiles;
use super::remediation::{self, PodErrors, TenantErrors};
use super::saturation::{LatencyCurve, WorkerTime};
use super::tenant_share;
use super::trace::{NextStep, NodeVisit, TraceStatus, TraceSummary};
use crate::event::{Event, Kind, Timestamp};
use crate::pass::{Analysis, Needs, PassEnd};
use crate::redact::summarize_exception;

/// Instances (`node_id`s) remembered per node, at most.
const MAX_INSTANCES: usize = 64;
/// Ids listed in an ambiguity error, at most; past this many matching traces, their events are
/// no longer kept (the answer is an ambiguity error anyway).
const MAX_LISTED_IDS: usize = 10;
/// Messages whose first attempt failed followed to their end at a node, at most.
const MAX_FAILING: usize = 65_536;

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
    /// Each node's first event after the moment: its queue then holds the message sent.
    after: HashMap<String, Event>,
    /// Attempts each node started after the moment (other traces' messages it took).
    starts_after: HashMap<String, u64>,
}

pub struct TraceFinder {
    query: String,
    traces: HashMap<String, Vec<Event>>,
    graph: GraphLearner,
    latency: HashMap<String, Percentiles>,
    /// Every success latency per node, waits to hand over included: the time a queue takes
    /// per message (the stale-budget rule's turn).
    turns: HashMap<String, Percentiles>,
    worker_time: HashMap<String, WorkerTime>,
    /// Per node: its own latency over time, for a steady rise that ended in timeouts.
    curves: HashMap<String, LatencyCurve>,
    moments: Vec<Around>,
    /// The newest event read: the end of the input, as far as it was read.
    newest: Timestamp,
    /// The node instances (`node_id`s) seen per node: more than one means several processes
    /// (pods, restarts) with queues of their own are mixed in the input.
    instances: HashMap<String, Vec<String>>,
    /// Per node and instance: the attempt under way (trace, start) and the latest outbound
    /// reading (q_depth_out, queue_maxsize), to say what holds a node a message waits for.
    workers: HashMap<(String, String), Worker>,
    /// Per node and tenant: messages taken, those whose first attempt failed, and of those
    /// the ones that then succeeded there.
    tenant_messages: HashMap<String, HashMap<String, (u64, u64, u64)>>,
    /// Messages whose first attempt failed, not ended yet: (trace, node) -> tenant.
    failing: HashMap<(String, String), String>,
    /// The same per node and (pod, tenant), when lines carry a pod.
    pod_messages: HashMap<String, PodTenantCounts>,
    /// Per node: its longest successes (a call that hung while a skipped trace waited).
    longest: HashMap<String, LongestCalls>,
    close: Vec<(usize, String)>,
}

/// One node instance's worker, as its events show it.
#[derive(Debug, Default, Clone)]
struct Worker {
    open: Option<(String, Timestamp)>,
    last_out: Option<(i64, i64)>,
    /// Its first node_cancelled: the worker (and its runtime, with its queues) stopped.
    stopped: Option<Timestamp>,
    /// Its latest event but a node_cancelled: work it did.
    last_seen: Timestamp,
}

impl TraceFinder {
    /// Finds the trace whose id is `query` or starts with it.
    pub fn new(query: &str) -> TraceFinder {
        TraceFinder {
            query: query.to_string(),
            traces: HashMap::new(),
            graph: GraphLearner::default(),
            latency: HashMap::new(),
            turns: HashMap::new(),
            worker_time: HashMap::new(),
            curves: HashMap::new(),
            moments: Vec::new(),
            newest: Timestamp(i64::MIN),
            instances: HashMap::new(),
            workers: HashMap::new(),
            tenant_messages: HashMap::new(),
            failing: HashMap::new(),
            pod_messages: HashMap::new(),
            longest: HashMap::new(),
            close: Vec::new(),
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.graph.observe(event);
        self.newest = self.newest.max(event.ts);
        if let Some(node) = event.node_name.as_deref().filter(|n| !is_endpoint(n)) {
            if let Some(id) = event.node_id.as_deref() {
                let ids = self.instances.entry(node.to_string()).or_default();
                if ids.len() < MAX_INSTANCES && !ids.iter().any(|known| known == id) {
                    ids.push(id.to_string());
                }
            }
            match self.worker_time.get_mut(node) {
                Some(worker) => worker.add(event),
                None => {
                    let mut worker = WorkerTime::default();
                    worker.add(event);
                    self.worker_time.insert(node.to_string(), worker);
                }
            }
            match self.curves.get_mut(node) {
                Some(curve) => curve.add(event),
                None => self.curves.entry(node.to_string()).or_default().add(event),
            }
            let instance = event
                .pod
                .as_deref()
                .or(event.node_id.as_deref())
                .unwrap_or("");
            let worker = match self
                .workers
                .get_mut(&(node.to_string(), instance.to_string()))
            {
                Some(worker) => worker,
                None => self
                    .workers
                    .entry((node.to_string(), instance.to_string()))
                    .or_default(),
            };
            if let (Some(out), Some(capacity)) = (event.q_depth_out(), event.queue_maxsize()) {
                worker.last_out = Some((out, capacity));
            }
            if event.attempt().unwrap_or(0) == 0
                && let Some(tenant) = event.tenant.as_deref()
                && matches!(
                    event.kind,
                    Kind::NodeStart | Kind::NodeError | Kind::NodeTimeout
                )
            {
                let tenants = self.tenant_messages.entry(node.to_string()).or_default();
                if tenants.len() < MAX_INSTANCES || tenants.contains_key(tenant) {
                    let counts = tenants.entry(tenant.to_string()).or_default();
                    match event.kind {
                        Kind::NodeStart => counts.0 += 1,
                        _ => counts.1 += 1,
                    }
                }
                if event.kind != Kind::NodeStart
                    && self.failing.len() < MAX_FAILING
                    && let Some(trace) = event.trace_id.as_deref()
                {
                    self.failing
                        .insert((trace.to_string(), node.to_string()), tenant.to_string());
                }
                if let Some(pod) = event.pod.as_deref() {
                    let pods = self.pod_messages.entry(node.to_string()).or_default();
                    let key = (pod.to_string(), tenant.to_string());
                    if pods.len() < MAX_INSTANCES || pods.contains_key(&key) {
                        let counts = pods.entry(key).or_default();
                        match event.kind {
                            Kind::NodeStart => counts.0 += 1,
                            _ => counts.1 += 1,
                        }
                    }
                }
            }
            if matches!(
                event.kind,
                Kind::NodeSuccess | Kind::NodeFailed | Kind::NodeTraceCancelled
            ) && !self.failing.is_empty()
                && let Some(trace) = event.trace_id.as_deref()
                && let Some(tenant) = self.failing.remove(&(trace.to_string(), node.to_string()))
                && event.kind == Kind::NodeSuccess
                && let Some(counts) = self
                    .tenant_messages
                    .get_mut(node)
                    .and_then(|tenants| tenants.get_mut(&tenant))
            {
                counts.2 += 1;
            }
            if event.kind != Kind::NodeCancelled {
                worker.last_seen = worker.last_seen.max(event.ts);
            }
            if event.kind == Kind::NodeCancelled && worker.stopped.is_none() {
                worker.stopped = Some(event.ts);
            }
            match (&event.kind, event.trace_id.as_deref()) {
                (Kind::NodeStart, Some(trace)) => worker.open = Some((trace.to_string(), event.ts)),
                (
                    Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError | Kind::NodeCancelled,
                    _,
                ) => worker.open = None,
                _ => {}
            }
            // The node's own work: a success that waited on a full outbound queue measures the
            // wait, not the node.
            let blocked = super::saturation::waited_to_hand_over(event);
            if matches!(event.kind, Kind::NodeStart | Kind::NodeSuccess) {
                match self.longest.get_mut(node) {
                    Some(longest) => longest.add(event),
                    None => self.longest.entry(node.to_string()).or_default().add(event),
                }
            }
            if event.kind == Kind::NodeSuccess
                && let Some(latency) = event.latency_ms()
            {
                self.turns.entry(node.to_string()).or_default().add(latency);
                if !blocked {
                    self.latency
                        .entry(node.to_string())
                        .or_default()
                        .add(latency);
                }
            }
            for moment in &mut self.moments {
                if event.ts <= moment.at {
                    continue;
                }
                if !moment.after.contains_key(node) {
                    moment.after.insert(node.to_string(), event.clone());
                }
                // A message taken: its first attempt (retries are the same message again).
                if event.kind == Kind::NodeStart
                    && event.attempt().unwrap_or(0) == 0
                    && event.trace_id.as_deref() != Some(moment.trace_id.as_str())
                {
                    *moment.starts_after.entry(node.to_string()).or_default() += 1;
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
                // Read the queues the message went into from events after it was sent.
                self.moments.push(Around {
                    trace_id: trace_id.to_string(),
                    at: event.ts,
                    after: HashMap::new(),
                    starts_after: HashMap::new(),
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

    /// True when the query, not a whole id, matches several traces read so far.
    pub fn is_ambiguous(&self) -> bool {
        self.traces.len() > 1 && !self.traces.contains_key(&self.query)
    }

    /// Following: the one trace matching the query so far (none while none or several do),
    /// and its status and category under the flow graph learned so far.
    pub fn so_far(&self) -> Option<(&str, TraceStatus, Option<Category>)> {
        let (trace_id, timeline) = match self.traces.get_key_value(&self.query) {
            Some(exact) => exact,
            None if self.traces.len() == 1 => self.traces.iter().next()?,
            None => return None,
        };
        let mut summary = TraceSummary::new(trace_id);
        for event in timeline {
            summary.observe(event);
        }
        let status = summary.status(&self.graph.graph());
        Some((trace_id, status, summary.category(status)))
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
            (
                &self.latency,
                &self.turns,
                &self.worker_time,
                &self.workers,
                &self.tenant_messages,
                &self.pod_messages,
                &self.curves,
                &self.longest,
            ),
            &self.moments,
            self.newest,
            &self.instances,
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
    /// For a deadline-skipped trace, or a succeeded one that took far longer than its path's
    /// own work (`tenant_share::slowed_from_ms`): where its time went (null otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_spent: Option<TimeSpent>,
    /// A sink's attempt of the trace that started with its output queue (the egress) full and
    /// took far longer than the node's usual: it waited for the app's `flow.fetch()` to take
    /// results (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_wait: Option<EgressWait>,
    /// For a deadline-skipped trace: the call that hung while it waited, or in which it
    /// expired (`deadline_cause::hung_call_of`); absent when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hung_call: Option<HungCall>,
    pub remediation: Vec<remediation::TraceStep>,
    pub timeline: Vec<Event>,
}

/// A sink's attempt that waited on a full egress (see `FindReport::egress_wait`).
#[derive(Debug, Clone, Serialize)]
pub struct EgressWait {
    pub node_name: String,
    /// Its node_start, with the output queue then and its capacity.
    pub started: Timestamp,
    pub q_depth_out: i64,
    pub queue_maxsize: i64,
    /// The attempt's latency (its hand-over wait included) and the node's p50 success latency.
    pub latency_ms: f64,
    pub p50_ms: Option<f64>,
}

/// An attempt this many times its node's p50 (and at least `EGRESS_WAIT_MIN_MS`) that started
/// with the egress full spent that time waiting on it.
const EGRESS_WAIT_RATIO: f64 = 3.0;
const EGRESS_WAIT_MIN_MS: f64 = 10.0;

/// The trace's longest attempt at a sink that started with the egress full (all its edges: the
/// sink logs q_depth_out at node_start) and took far longer than the node's p50: the app was
/// not fetching results (PenguiFlow's success latency includes the wait to hand over).
fn egress_wait(
    timeline: &[Event],
    graph: &FlowGraph,
    latency: &HashMap<String, Percentiles>,
) -> Option<EgressWait> {
    timeline
        .iter()
        .filter(|start| start.kind == Kind::NodeStart)
        .filter_map(|start| {
            let node = start.node_name.as_deref()?;
            let capacity = start.queue_maxsize().filter(|c| *c > 0)?;
            let out = start.q_depth_out()?;
            if !graph.is_sink(node) || !super::saturation::outbound_full(start) {
                return None;
            }
            let end = timeline.iter().find(|e| {
                e.ts >= start.ts
                    && e.node_name.as_deref() == Some(node)
                    && e.attempt() == start.attempt()
                    && matches!(
                        e.kind,
                        Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError
                    )
            })?;
            let ms = end.latency_ms()?;
            let p50 = latency.get(node).and_then(|p| p.percentile(50.0));
            (ms >= EGRESS_WAIT_MIN_MS && p50.is_none_or(|p50| ms >= EGRESS_WAIT_RATIO * p50)).then(
                || EgressWait {
                    node_name: node.to_string(),
                    started: start.ts,
                    q_depth_out: out,
                    queue_maxsize: capacity,
                    latency_ms: ms,
                    p50_ms: p50,
                },
            )
        })
        .max_by(|a, b| a.latency_ms.total_cmp(&b.latency_ms))
}

/// Where a trace's time went, from its own events: the waits before each node it reached, the
/// time its attempts took at each node against that node's own work, and what its budget had
/// left when the first node took it.
#[derive(Debug, Clone, Serialize)]
pub struct TimeSpent {
    /// The waits before each node after the first, longest first (see `TraceSummary::waits`).
    pub queues: Vec<QueueWait>,
    /// Per node reached, in order: the time its attempts of the trace took.
    pub in_nodes: Vec<NodeTime>,
    /// The deadline less the trace's first event (ms): what was left of the budget when the
    /// first node took the message; the wait in the first queue (or in the caller's emit)
    /// before it is not logged.
    pub budget_left_at_first_event_ms: Option<f64>,
}

/// A call that hung (far past its node's own work, at a node without a timeout) while a
/// skipped trace waited, or in which it expired.
#[derive(Debug, Clone, Serialize)]
pub struct HungCall {
    pub node_name: String,
    /// The trace whose call it was: the trace itself (`own`) or another.
    pub trace_id: String,
    pub own: bool,
    pub started: Timestamp,
    pub latency_ms: f64,
    /// The node's p50 own work across the traces read.
    pub own_p50_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueWait {
    pub node_name: String,
    /// The node whose event came last before it (the sender, as far as the trace shows).
    pub after: Option<String>,
    pub waited_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeTime {
    pub node_name: String,
    /// The trace's attempts there (latency of its successes, timeouts and errors), waits to
    /// hand output over included.
    pub ms: f64,
    /// The node's p50 own work across the traces read (successes that did not wait on a full
    /// outbound queue).
    pub own_p50_ms: Option<f64>,
}

/// True when a trace was slowed (`tenant_share::slowed_trace`) against each node's p50 of
/// successes that did not wait on a full queue.
fn slowed(summary: &TraceSummary, own_work: &HashMap<String, Percentiles>) -> bool {
    super::tenant_share::slowed_trace(summary, |node| own_work.get(node)?.percentile(50.0))
        .is_some()
}

/// Where the time of a trace went (see `TimeSpent`).
pub fn time_spent(
    summary: &TraceSummary,
    timeline: &[Event],
    own_work: &HashMap<String, Percentiles>,
    graph: &FlowGraph,
) -> TimeSpent {
    let mut queues = Vec::new();
    let mut previous: Option<&NodeVisit> = None;
    for (index, (visit, gap)) in summary.waits().enumerate() {
        // The wait is from the node that sent the message, when the flow graph names it among
        // the nodes the trace reached before: a sibling branch's later event (a fan-out's
        // other branch reaching the join) is not where this message came from.
        let sender = summary.visits[..index]
            .iter()
            .filter(|before| before.last_ts <= visit.first_ts)
            .filter(|before| {
                graph
                    .predecessors(&visit.node_name)
                    .contains(&&*before.node_name)
            })
            .max_by_key(|before| before.last_ts);
        let waited = match sender {
            Some(sender) => Some((sender, visit.first_ts.millis_since(sender.last_ts))),
            None => previous.map(|before| (before, gap)),
        };
        if let Some((before, waited)) = waited.filter(|(_, waited)| *waited > 0.0) {
            queues.push(QueueWait {
                node_name: visit.node_name.to_string(),
                after: Some(before.node_name.to_string()),
                waited_ms: waited,
            });
        }
        if previous.is_none_or(|p| visit.last_ts >= p.last_ts) {
            previous = Some(visit);
        }
    }
    queues.sort_by(|a, b| b.waited_ms.total_cmp(&a.waited_ms));
    let in_nodes = summary
        .visits
        .iter()
        .map(|visit| NodeTime {
            node_name: visit.node_name.to_string(),
            ms: timeline
                .iter()
                .filter(|e| e.node_name.as_deref() == Some(&*visit.node_name))
                .filter(|e| {
                    matches!(
                        e.kind,
                        Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError
                    )
                })
                .filter_map(|e| e.latency_ms())
                .sum(),
            own_p50_ms: own_work
                .get(&*visit.node_name)
                .and_then(|p| p.percentile(50.0)),
        })
        .collect();
    let deadline = timeline.iter().find_map(|e| e.deadline_s());
    TimeSpent {
        queues,
        in_nodes,
        budget_left_at_first_event_ms: deadline
            .map(|deadline| (deadline - summary.first_ts.as_unix_seconds()) * 1000.0),
    }
}

/// Per node: own work, every success, worker time, longest calls (see `NodeFacts`).
type CallFacts<'a> = (
    &'a HashMap<String, Percentiles>,
    &'a HashMap<String, Percentiles>,
    &'a HashMap<String, WorkerTime>,
    &'a HashMap<String, LongestCalls>,
);

/// The call that hung while a deadline-skipped trace waited, or in which it expired (the rule
/// classify applies, on the calls read: the sample, or everything with `--full-scan`).
fn hung_call(
    summary: &TraceSummary,
    graph: &FlowGraph,
    (latency, turns, worker_time, longest): CallFacts<'_>,
) -> Option<HungCall> {
    let trace = Expired::of(summary);
    // The budget it had at its first event; none left (skipped as its first event): only its
    // wait past the deadline is known.
    let budget_ms = trace.budget_left_ms().unwrap_or(0.0).max(0.0);
    let mut nodes: Vec<(&str, NodeCalls<'_>)> = longest
        .iter()
        .filter_map(|(node, calls)| {
            Some((
                node.as_str(),
                NodeCalls {
                    longest: calls,
                    own_p50_ms: latency.get(node).and_then(|p| p.percentile(50.0)),
                    latency: turns.get(node)?,
                    timed_out: worker_time.get(node).is_some_and(|w| w.timeout_s > 0.0),
                    success_s: worker_time.get(node).map_or(0.0, |w| w.success_s),
                },
            ))
        })
        .collect();
    // By name, not the map's order (random per process): of two calls as long at two nodes,
    // the first node's is the one named, on every run.
    nodes.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let (node, call, own_p50_ms) = deadline_cause::hung_call_of(&trace, budget_ms, graph, nodes)?;
    Some(HungCall {
        node_name: node.to_string(),
        trace_id: call.trace_id.to_string(),
        own: call.trace_id == trace.trace_id,
        started: call.start,
        latency_ms: call.latency_ms,
        own_p50_ms,
    })
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

/// A runtime (pod or process, by its node_id) whose worker logged node_cancelled.
#[derive(Debug, Clone, Serialize)]
pub struct StoppedRuntime {
    /// The node of the trace's last event, whose worker there stopped.
    pub node_name: String,
    /// `pod NAME` or `node_id ID`.
    pub instance: String,
    pub at: Timestamp,
    /// Another instance of the next node served after it (a restarted flow, another pod).
    pub replaced: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NextNode {
    pub node_name: String,
    /// The runtime the message was left in stopped after the trace's last event: the message
    /// went with its queues (null when it did not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StoppedRuntime>,
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
    /// Time from the trace's last event to the newest event read (the end of the input):
    /// how long it has made no progress.
    pub idle_ms: Option<f64>,
    /// False when lines were passed over unparsed (`find` without `--full-scan`): the end of
    /// the input is then not known, and `idle_ms`/`running_ms` are lower bounds.
    pub measured_to_end: bool,
    /// The node's p95 success latency across the traces read.
    pub p95_ms: Option<f64>,
    /// What holds the node the message waits for, when its events tell: another trace's
    /// attempt running far past its p95, or its own output blocked on a full queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    /// The node's inbound edges in the learned graph: a join's q_depth_in sums them.
    pub inbound_edges: Option<u64>,
    /// An attempt started and not finished: how long it has been running at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_ms: Option<f64>,
    /// For an inferred node: when the message was queued (its sender's success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<Timestamp>,
    /// Where the queue reading comes from: `after` (the node's first event after the message
    /// was queued) or `sender` (the sender's outbound queue at the send).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<QueueReading>,
    /// Messages ahead of it when it was queued (the reading less the message itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_ahead: Option<i64>,
    /// Attempts the node started for other traces after the message was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_after: Option<u64>,
    /// The node took more than a queue's worth of later messages without this one: the
    /// message may have been lost.
    pub lost: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueReading {
    After,
    Sender,
}

impl NextNode {
    /// The inbound edges its queue reading sums: all of the node's when read at the node
    /// (`q_depth_in` sums them, a join's), one when read at the sender (one edge's queue).
    pub fn edges_read(&self) -> usize {
        match self.reading {
            Some(QueueReading::Sender) => 1,
            _ => self.inbound_edges.unwrap_or(1).max(1) as usize,
        }
    }
}

/// Per node across all traces: success latencies (unblocked, then all), worker time; and per
/// node instance, its worker as its events show it.
type NodeFacts<'a> = (
    &'a HashMap<String, Percentiles>,
    &'a HashMap<String, Percentiles>,
    &'a HashMap<String, WorkerTime>,
    &'a HashMap<(String, String), Worker>,
    &'a HashMap<String, HashMap<String, (u64, u64, u64)>>,
    &'a HashMap<String, PodTenantCounts>,
    &'a HashMap<String, LatencyCurve>,
    &'a HashMap<String, LongestCalls>,
);

/// First attempts a node took and those that failed there, per (pod, tenant).
type PodTenantCounts = std::collections::BTreeMap<(String, String), (u64, u64)>;

/// The failures at a node confined to one pod that fails for every tenant it serves
/// (`tenant_share::failures_of_one_pod`): the pod, not a tenant.
fn pod_errors(counts: &PodTenantCounts) -> Option<PodErrors> {
    let failures = counts.iter().map(|(key, c)| (key.clone(), c.1)).collect();
    let traffic = counts.iter().map(|(key, c)| (key.clone(), c.0)).collect();
    let found = tenant_share::failures_of_one_pod(&failures, &traffic)?;
    found.fails_for_every_tenant().then(|| PodErrors {
        pod: found.pod.to_string(),
        failed: found.failures,
        of: found.total,
        tenants: found
            .tenants
            .iter()
            .map(|(tenant, failed, taken)| (tenant.to_string(), *failed, *taken))
            .collect(),
    })
}

/// The messages that failed at a node (per tenant: taken, failed) when they are `tenant`'s by
/// classify's rule (`tenant_share::failures_of_one_tenant`).
fn tenant_errors(counts: &HashMap<String, (u64, u64, u64)>, tenant: &str) -> Option<TenantErrors> {
    let failures: std::collections::BTreeMap<String, u64> =
        counts.iter().map(|(t, c)| (t.clone(), c.1)).collect();
    let traffic: std::collections::BTreeMap<String, u64> =
        counts.iter().map(|(t, c)| (t.clone(), c.0)).collect();
    let (dominant, failed, of) =
        tenant_share::failures_of_one_tenant(&failures, counts.len(), &traffic)?;
    (dominant == tenant).then(|| TenantErrors {
        tenant: tenant.to_string(),
        failed,
        of,
        recovered: counts.get(tenant).map_or(0, |c| c.2),
    })
}

/// What holds a node's worker at the end of the input.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Held {
    /// Another trace's attempt, started and not ended, running at least 3x the node's p95.
    Attempt { trace_id: String, running_ms: f64 },
    /// The node's latest outbound reading fills an outgoing edge: it waits to hand over.
    Output {
        q_depth_out: i64,
        queue_maxsize: i64,
    },
}

/// Ratio of a node's p95 past which another trace's open attempt is what holds its worker.
const HOLDING_RATIO: f64 = 3.0;

/// The runtime the message was left in stopped after the trace's last event (its sender's
/// worker, in that pod or node_id, logged node_cancelled: `flow.stop()` or a shutdown): the
/// queues went with it. With whether another instance of `node` served after the stop.
fn stopped_with(
    node: &str,
    timeline: &[Event],
    workers: &HashMap<(String, String), Worker>,
) -> Option<StoppedRuntime> {
    let last = timeline.iter().max_by_key(|e| e.ts)?;
    let sender = last.node_name.as_deref()?;
    let instance = last.pod.as_deref().or(last.node_id.as_deref())?;
    let at = workers
        .get(&(sender.to_string(), instance.to_string()))?
        .stopped
        .filter(|at| *at >= last.ts)?;
    // Work of the node after the stop: another runtime (a restart in the same pod included).
    let replaced = workers
        .iter()
        .any(|((n, _), worker)| n == node && worker.last_seen > at);
    Some(StoppedRuntime {
        node_name: sender.to_string(),
        // Named by node_id where the event has one: every source (a pod's log, the store)
        // carries it, so the answer does not depend on where it was read.
        instance: match (last.node_id.as_deref(), last.pod.as_deref()) {
            (Some(node_id), _) => format!("node_id {node_id}"),
            (None, Some(pod)) => format!("pod {pod}"),
            (None, None) => instance.to_string(),
        },
        at,
        replaced,
    })
}

fn what_holds(
    node: &str,
    trace_id: &str,
    pod: Option<&str>,
    p95: Option<f64>,
    newest: Timestamp,
    workers: &HashMap<(String, String), Worker>,
) -> Option<Held> {
    // The workers come in a hash map's order, which changes from run to run: every choice
    // among them below is made by value, then by name.
    let of_node = || {
        workers
            .iter()
            .filter(move |((n, instance), _)| n == node && pod.is_none_or(|pod| instance == pod))
            .map(|((_, instance), w)| (instance, w))
    };
    let longest = of_node()
        .filter_map(|(_, w)| w.open.as_ref())
        .filter(|(trace, _)| trace != trace_id)
        .map(|(trace, start)| (trace, newest.millis_since(*start).max(0.0)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
    if let (Some((trace, running)), Some(p95)) = (longest, p95)
        && running >= HOLDING_RATIO * p95
    {
        return Some(Held::Attempt {
            trace_id: trace.clone(),
            running_ms: running,
        });
    }
    // Every instance blocked handing over (one free instance would take the message).
    let outs: Vec<(i64, i64, &String)> = of_node()
        .filter_map(|(instance, w)| w.last_out.map(|(out, capacity)| (out, capacity, instance)))
        .collect();
    if !outs.is_empty()
        && outs
            .iter()
            .all(|(out, capacity, _)| *capacity > 0 && out >= capacity)
    {
        // The fullest instance's reading speaks for the node.
        let fullest = outs
            .iter()
            .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| b.2.cmp(a.2)));
        let &(out, capacity, _) = fullest?;
        return Some(Held::Output {
            q_depth_out: out,
            queue_maxsize: capacity,
        });
    }
    None
}

fn build_report(
    trace_id: &str,
    timeline: Vec<Event>,
    graph: &FlowGraph,
    (latency, turns, worker_time, workers, tenant_messages, pod_messages, curves, longest): NodeFacts<
        '_,
    >,
    moments: &[Around],
    newest: Timestamp,
    instances: &HashMap<String, Vec<String>>,
) -> FindReport {
    let mut summary = TraceSummary::new(trace_id);
    for event in &timeline {
        summary.observe(event);
    }
    let status = summary.status(graph);
    let category = summary.category(status);

    let (last_success, mut next) = locate(&summary, &timeline, graph, moments, instances);
    if let Some(next) = next.as_mut().filter(|_| status == TraceStatus::InFlight) {
        let p95 = latency
            .get(&next.node_name)
            .and_then(|p| p.percentile(95.0));
        next.p95_ms = p95;
        next.idle_ms = Some(newest.millis_since(summary.last_ts).max(0.0));
        if next.event.as_deref() == Some("node_start") {
            next.running_ms = next.ts.map(|start| newest.millis_since(start).max(0.0));
        }
        if next.inferred {
            // A pod is its own runtime: the message waits in its pod's queue.
            let pod = timeline.iter().rev().find_map(|e| e.pod.as_deref());
            next.held = what_holds(&next.node_name, trace_id, pod, p95, newest, workers);
        }
        next.stopped = stopped_with(&next.node_name, &timeline, workers);
    }
    if let Some(next) = next.as_mut() {
        let edges = graph
            .edges
            .iter()
            .filter(|e| e.to == next.node_name)
            .count() as u64;
        next.inbound_edges = (edges > 0).then_some(edges);
    }
    let errors_in_pod = next
        .as_ref()
        .and_then(|next| pod_errors(pod_messages.get(&next.node_name)?));
    let errors_by_tenant = next
        .as_ref()
        .filter(|_| errors_in_pod.is_none())
        .and_then(|next| {
            tenant_errors(
                tenant_messages.get(&next.node_name)?,
                summary.tenant.as_deref()?,
            )
        });
    let trend = next
        .as_ref()
        .and_then(|next| curves.get(&next.node_name)?.trend());
    // A skip that is the trace's only event has nothing logged to account for.
    let time_spent = (status == TraceStatus::DeadlineSkipped && summary.events > 1)
        .then(|| time_spent(&summary, &timeline, latency, graph));
    // A trace that got through far past its path's own work (triage's slowest): where it
    // waited. Shown only; the checklist is for what went wrong.
    let slowed_time = (status == TraceStatus::Succeeded && slowed(&summary, latency))
        .then(|| self::time_spent(&summary, &timeline, latency, graph));
    let hung_call = (status == TraceStatus::DeadlineSkipped)
        .then(|| hung_call(&summary, graph, (latency, turns, worker_time, longest)))
        .flatten();
    let remediation = remediation::for_trace(&remediation::TraceFindings {
        summary: &summary,
        timeline: &timeline,
        time_spent: time_spent.as_ref(),
        hung_call: hung_call.as_ref(),
        status,
        category,
        next: next.as_ref(),
        last_success: last_success.as_ref(),
        latency,
        turns,
        routes: next
            .as_ref()
            .is_some_and(|next| graph.is_router(&next.node_name)),
        errors_by_tenant: errors_by_tenant.as_ref(),
        errors_in_pod: errors_in_pod.as_ref(),
        worker_time,
        trend: trend.as_ref(),
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
        nodes: summary
            .visits
            .iter()
            .map(|v| v.node_name.to_string())
            .collect(),
        attempts: summary.attempts,
        retries: summary.retries(),
        last_success,
        next,
        counts: summary.counts,
        time_spent: time_spent.or(slowed_time),
        egress_wait: egress_wait(&timeline, graph, latency),
        hung_call,
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
        visit.success_ts()?,
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
    instances: &HashMap<String, Vec<String>>,
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
                stopped: None,
                node_name: stopped.node_name.to_string(),
                event: Some(stopped.last_kind.to_string()),
                ts: Some(stopped.last_ts),
                attempts: u64::from(stopped.attempts),
                q_depth_in: last.and_then(|e| e.q_depth_in()),
                q_depth_out: last.and_then(|e| e.q_depth_out()),
                q_depth_total: last.and_then(|e| e.q_depth_total()),
                queue_maxsize: last.and_then(|e| e.queue_maxsize()),
                inferred: false,
                share: None,
                of_traces: None,
                detail: last.and_then(failure_detail),
                idle_ms: None,
                measured_to_end: true,
                p95_ms: None,
                held: None,
                inbound_edges: None,
                running_ms: None,
                queued_at: None,
                reading: None,
                messages_ahead: None,
                taken_after: None,
                lost: false,
            })
        }
        Some(NextStep::Inferred(successor)) => Some(infer_next(
            successor.clone(),
            last_success_visit.and_then(|visit| success_event(timeline, visit)),
            moments,
            instances
                .get(&successor.node_name)
                .is_some_and(|ids| ids.len() > 1),
            graph.inbound_edges(&successor.node_name),
            last_success_visit.is_some_and(|visit| graph.fans_out(&visit.node_name)),
        )),
        None => None,
    };
    let last_success = last_success_visit
        .and_then(|visit| success_event(timeline, visit))
        .map(|event| LastSuccess {
            node_name: event.node_name.as_deref().unwrap_or_default().to_string(),
            node_id: event.node_id.as_deref().map(str::to_string),
            ts: event.ts,
            latency_ms: event.latency_ms(),
            q_depth_in: event.q_depth_in(),
            q_depth_out: event.q_depth_out(),
            q_depth_total: event.q_depth_total(),
            queue_maxsize: event.queue_maxsize(),
        });
    (last_success, next)
}

/// The usual successor of a success the trace never went past. Its queue is read at or after
/// the moment the message was queued, never before: from the node's first event after the
/// send (the queue then holds the message), else from the sender's outbound queue at the send.
/// The message may have been lost only if the node went on to take more than a queue's worth
/// of later messages without it, counting every inbound edge of the node: each is a queue of
/// its own (a join takes one message per inbound edge of every trace ahead), and its
/// `q_depth_in` sums them.
///
/// When the input mixes several instances of the node (pods, restarts: each its own runtime
/// and queues), other instances' events say nothing of this queue: the sender's reading is
/// used, and nothing is concluded from the node's later work.
fn infer_next(
    successor: Successor,
    success: Option<&Event>,
    moments: &[Around],
    mixed_instances: bool,
    inbound_edges: usize,
    sender_fans_out: bool,
) -> NextNode {
    let moment = success
        .and_then(|success| moments.iter().find(|m| m.at == success.ts))
        .filter(|_| !mixed_instances);
    let after = moment.and_then(|m| m.after.get(&successor.node_name));
    let (ts, q_in, q_out, q_total, capacity, reading) = match (after, success) {
        (Some(after), _) => (
            Some(after.ts),
            after.q_depth_in(),
            after.q_depth_out(),
            after.q_depth_total(),
            after.queue_maxsize(),
            Some(QueueReading::After),
        ),
        // The sender's q_depth_out sums its outgoing edges: a fan-out puts each trace's
        // messages in every one of them alike, so one edge holds its share; a router's split is
        // not known, so its sum stands as the most this edge can hold.
        (None, Some(sender)) if sender.q_depth_out().is_some() => {
            let edges = if sender_fans_out {
                sender.outgoing().unwrap_or(1).max(1)
            } else {
                1
            };
            (
                Some(sender.ts),
                sender
                    .q_depth_out()
                    .map(|depth| depth.saturating_add(edges - 1) / edges),
                None,
                None,
                sender.queue_maxsize(),
                Some(QueueReading::Sender),
            )
        }
        _ => (None, None, None, None, None, None),
    };
    // Ahead of it: the sender's outbound queue at the send holds exactly the messages queued
    // before it and itself when the sender has one outgoing edge; otherwise the reading.
    let at_send = success
        .filter(|sender| sender.outgoing() == Some(1))
        .and_then(|sender| sender.q_depth_out());
    let messages_ahead = at_send.or(q_in).map(|depth| (depth - 1).max(0));
    let taken_after = moment.map(|m| {
        m.starts_after
            .get(&successor.node_name)
            .copied()
            .unwrap_or(0)
    });
    let queue_worth = capacity.filter(|c| *c > 0).unwrap_or(0);
    let edges = inbound_edges.max(1) as i64;
    let lost = match (taken_after, messages_ahead) {
        (Some(taken), Some(ahead)) => taken as i64 > edges * (ahead + 1).max(queue_worth),
        _ => false,
    };
    NextNode {
        stopped: None,
        node_name: successor.node_name.clone(),
        event: None,
        ts,
        attempts: 0,
        q_depth_in: q_in,
        q_depth_out: q_out,
        q_depth_total: q_total,
        queue_maxsize: capacity,
        inferred: true,
        share: Some(successor.share),
        of_traces: Some(successor.of_traces),
        detail: None,
        idle_ms: None,
        measured_to_end: true,
        p95_ms: None,
        held: None,
        inbound_edges: None,
        running_ms: None,
        queued_at: success.map(|s| s.ts),
        reading,
        messages_ahead,
        taken_after,
        lost,
    }
}

/// The failure code and exception of an event, as one short line.
fn failure_detail(event: &Event) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(code) = event.flow_error().and_then(|f| f.code.clone()) {
        parts.push(code);
    }
    if let Some(exception) = event.exception() {
        let exception = summarize_exception(exception);
        parts.push(match (exception.type_name, exception.message.is_empty()) {
            (Some(name), true) => name,
            (Some(name), false) => format!("{name}: {}", exception.message),
            (None, _) => exception.message,
        });
    } else if let Some(name) = event
        .flow_error()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An instance, its open attempt (trace, start in ms) and its latest outbound reading.
    type Reading<'a> = (&'a str, Option<(&'a str, i64)>, Option<(i64, i64)>);

    fn workers(readings: &[Reading<'_>]) -> HashMap<(String, String), Worker> {
        readings
            .iter()
            .map(|(instance, open, last_out)| {
                let worker = Worker {
                    open: open.map(|(trace, ms)| (trace.to_string(), Timestamp(ms * 1000))),
                    last_out: *last_out,
                    ..Worker::default()
                };
                (("embed".to_string(), instance.to_string()), worker)
            })
            .collect()
    }

    #[test]
    fn the_fullest_blocked_instance_speaks_for_the_node_whatever_the_map_order() {
        // Built afresh each round: each map has its own random order.
        for _ in 0..20 {
            let blocked = workers(&[
                ("a", None, Some((16, 16))),
                ("b", None, Some((40, 16))),
                ("c", None, Some((24, 16))),
            ]);
            let held = what_holds("embed", "t0", None, None, Timestamp(0), &blocked);
            assert!(
                matches!(
                    held,
                    Some(Held::Output {
                        q_depth_out: 40,
                        queue_maxsize: 16
                    })
                ),
                "{held:?}"
            );
        }
    }

    #[test]
    fn of_attempts_started_together_the_first_trace_by_id_holds_the_worker() {
        for _ in 0..20 {
            let running = workers(&[
                ("a", Some(("trace-b", 0)), None),
                ("b", Some(("trace-a", 0)), None),
                ("c", Some(("trace-c", 0)), None),
            ]);
            let held = what_holds(
                "embed",
                "t0",
                None,
                Some(1.0),
                Timestamp(60_000_000),
                &running,
            );
            assert!(
                matches!(&held, Some(Held::Attempt { trace_id, .. }) if trace_id == "trace-a"),
                "{held:?}"
            );
        }
    }
}
