//! `triage`: the whole incident flow from one read of the input. Every analysis (trace book,
//! classify by node and by minute, saturation, topology) is fed the same events in the same
//! single pass; `finish` nests their reports and merges their checklists.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::category::Category;
use super::classify::{Classifier, ClassifyReport, ClassifyStep, GroupBy};
use super::deadline_cause::PodExpiry;
use super::percentile::Percentiles;
use super::saturation::{
    HotNodeReason, LatencyTrend, LostStep, SaturationAnalyzer, SaturationOptions, SaturationReport,
    SaturationStep, SignalDetail, SignalKind,
};
use super::topology::{self, GraphReport};
use super::trace::{NextStep, NodeVisit, TraceStatus, TraceSummary};
use super::tracebook::TraceOutcome;
use super::traces::{TraceRow, mark_cross_tenant, mark_idle, row, shown_tenant};
use crate::event::{Event, Kind, NameIds, Timestamp};
use crate::pass::{Analysis, Apart, Needs, PassEnd, Stage};

/// Failed and stalled traces shown, at most.
const WORST: usize = 5;
/// Failed traces (the most recent) and in-flight traces (the longest idle) kept to rank, at
/// most: enough to fill `WORST` after ranking, bounded whatever the input.
const CANDIDATES: usize = 200;
/// An in-flight trace idle this many times its node's p95 is stuck: it ranks before failures.
const STUCK_RATIO: f64 = 3.0;
/// Rows of traces that did not succeed kept for the JSON `traces`, most recent first.
const MAX_ROWS: usize = 1000;
/// Slowed succeeded traces shown, at most, and the longest succeeded traces kept to judge.
const SLOWEST: usize = 3;
const SLOW_CANDIDATES: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct WorstTrace {
    pub trace_id: String,
    pub tenant: Option<String>,
    pub status: TraceStatus,
    pub category: Option<Category>,
    pub last_ts: Timestamp,
    pub last_success: Option<String>,
    pub next_node: Option<String>,
    /// The next node's last event for the trace (null when inferred).
    pub next_event: Option<String>,
    pub next_inferred: bool,
    /// The next node's last event of the trace.
    #[serde(skip)]
    pub next_ts: Option<Timestamp>,
    /// In flight: time without progress at the end of the input (for an attempt still
    /// running: its running time), and the next node's p95 success latency.
    pub stalled_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// The next node's attempt started and never finished.
    pub running: bool,
    /// Waiting for the next node (or in an attempt there) in a runtime that stopped after the
    /// trace's last event (its last success's worker, or the attempt's, by node_id, logged
    /// node_cancelled then): dropped with it.
    pub dropped_at: Option<Timestamp>,
}

/// A succeeded trace that took far longer end to end than its path's own work (the rule of
/// `tenant_share::slowed_from_ms`): it got through, but waited. A stall that failed nothing
/// (a consumer that stopped reading for seconds) leaves only these behind.
#[derive(Debug, Clone, Serialize)]
pub struct SlowTrace {
    pub trace_id: String,
    pub tenant: Option<String>,
    pub first_ts: Timestamp,
    pub duration_ms: f64,
    /// Its path's own work: each node's p50 of successes that did not wait on a full queue.
    pub own_work_ms: f64,
    /// Where it lost the most time, when its events show it.
    pub longest: Option<TimeLost>,
}

/// Where a slow trace lost the most time: in a node (from its first event there to its last
/// success, hand-over waits and retries included), or waiting in the queue before it.
#[derive(Debug, Clone, Serialize)]
pub struct TimeLost {
    pub node_name: String,
    pub ms: f64,
    /// True: waiting for the node (from the previous node's success to its first event).
    pub queued: bool,
    /// The node's own work p50 (for time in the node).
    pub own_p50_ms: Option<f64>,
}

/// Who is affected: one tenant's traces by status and failure category.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantImpact {
    pub tenant: String,
    pub traces: u64,
    pub statuses: BTreeMap<String, u64>,
    /// Traces that did not succeed, by failure category.
    pub categories: BTreeMap<String, u64>,
    /// Its succeeded traces took far longer than their path's own work (see
    /// `tenant_share::slowed`): they got through, but waited. Null when they did not.
    pub slowed: Option<Slowed>,
    /// Its messages are the bottleneck's load (`tenant_share::load_of_one_tenant`): the other
    /// tenants wait behind them. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadAt>,
}

/// A tenant whose messages are most of the bottleneck's own work, far beyond its share of
/// its messages (`saturation.bottleneck.tenant_load` has every tenant's part).
#[derive(Debug, Clone, Serialize)]
pub struct LoadAt {
    pub node_name: String,
    pub work_share: f64,
    pub message_share: f64,
    /// Its own work there per message (ms), and the other tenants' messages'.
    pub ms_per_message: f64,
    pub others_ms_per_message: f64,
}

/// A tenant's succeeded traces, end to end (from the first node's first event: the wait in
/// the first queue is not in it), against the own work of the nodes they went through.
#[derive(Debug, Clone, Serialize)]
pub struct Slowed {
    pub traces: u64,
    /// Of those, the traces that took at least `slowed_from_ms` (`tenant_share::slowed_from_ms`
    /// of the path's own work).
    pub slowed: u64,
    pub slowed_from_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// The p50 own work (successes that did not wait on a full queue) of each node its traces
    /// went through, weighted by the share of its traces that went there, summed.
    pub own_work_ms: f64,
    /// Those nodes, in flow order.
    pub path: Vec<String>,
}

/// A tenant's succeeded traces: their durations and the nodes they reached.
#[derive(Debug, Default)]
struct TenantLatency {
    traces: u64,
    duration_ms: Percentiles,
    /// Traces that reached each node, by the node's id in `Triage::nodes`.
    visits: Vec<u64>,
}

/// One more at `id`, the vector grown to it.
fn count_at(counts: &mut Vec<u64>, id: u32) {
    let at = id as usize;
    if at >= counts.len() {
        counts.resize(at + 1, 0);
    }
    counts[at] += 1;
}

/// Counts by node id as counts by node name, the nodes never counted left out.
fn by_node_name(counts: &[u64], nodes: &NameIds) -> impl Iterator<Item = (String, u64)> {
    counts
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .map(|(id, count)| (nodes.name(id as u32).to_string(), *count))
}

/// Tenants whose latency is followed, at most.
const MAX_TENANT_LATENCIES: usize = 1024;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ControlPlane {
    pub cancel_started: u64,
    pub cancel_finished: u64,
    pub cancel_dropped: u64,
    pub node_trace_cancelled: u64,
    pub deadline_skips: u64,
    /// node_cancelled: workers stopped by flow.stop().
    pub workers_stopped: u64,
    /// Per minute: cancellations started and deadline skips (the time series of `classify
    /// --by minute`, restricted to the control plane).
    pub series: Vec<ControlPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlPoint {
    pub t: String,
    pub cancel: u64,
    pub deadline: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CrossTenant {
    pub trace_id: String,
    pub tenants: Vec<String>,
}

/// One line of the merged checklist: what to do, and the evidence it rests on. Both are data;
/// `render::triage_steps` says them, and they serialize as their sentences.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub evidence: Evidence,
    pub step: Advice,
    /// Traces affected, by which the checklist is ordered.
    pub traces: u64,
}

/// What a step of the merged checklist rests on: the analysis and the numbers that found it.
#[derive(Debug, Clone)]
pub enum Evidence {
    /// An attempt hanging at the end of the input.
    Hang {
        node: String,
        trace_id: String,
        running_ms: f64,
    },
    /// A failure category's events, traces and terminal failures.
    Category {
        category: Category,
        events: u64,
        traces: u64,
        terminal: u64,
    },
    /// Classify's retry-storm section.
    RetryStorm,
    /// Saturation's hot node, with the reason it is hot.
    HotNode {
        node: String,
        reason: HotNodeReason,
    },
    /// A node whose worker lost `share` of its busy time to `cause` (timeouts or errors).
    LostTime {
        node: String,
        share: f64,
        cause: &'static str,
    },
    Signal {
        kind: SignalKind,
        node: String,
        detail: SignalDetail,
    },
    CrossTenant {
        traces: u64,
        example: String,
    },
    InFlight {
        traces: u64,
    },
}

/// What to do: another analysis's step, sometimes with what triage adds to it, or triage's own.
#[derive(Debug, Clone)]
pub enum Advice {
    /// A saturation step (a hang).
    Saturation(SaturationStep),
    /// The bottleneck's step; `pod` when the deadline skips are confined to one of its pods.
    Bottleneck {
        step: SaturationStep,
        pod: Option<Box<PodExpiry>>,
    },
    LostTime(LostStep),
    /// A classify step; `fell_in` when its cancels fell in the bottleneck's pressure window.
    Classify {
        step: ClassifyStep,
        fell_in: Option<(String, Timestamp, Timestamp)>,
    },
    /// A node whose steadily rising latency crossed its timeout and stopped it succeeding.
    TrendStalled {
        node: String,
    },
    /// A node whose own latency rose steadily.
    Regressed {
        node: String,
        trend: LatencyTrend,
    },
    /// Attempts that ended in errors, not in silence.
    FailingNotHanging {
        node: String,
    },
    TimeoutsCut {
        node: String,
        detail: SignalDetail,
    },
    BoundDependency {
        node: String,
    },
    FindWhatChanged {
        node: String,
    },
    CheckDownstream {
        node: String,
        trace_id: Option<String>,
    },
    CrossTenant,
    /// Traces in flight at the end of the input with nothing to explain them: where they wait,
    /// the longest (ms, its p95), and the trace whose attempt there did not finish.
    InFlightAtEnd {
        traces: u64,
        node: String,
        longest: Option<(f64, f64)>,
        open_attempt: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct TriageReport {
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Traces in each status.
    pub statuses: BTreeMap<String, u64>,
    /// Traces that did not succeed, by failure category.
    pub categories: BTreeMap<String, u64>,
    /// Per tenant, most traces not succeeded first; empty when no event carried a tenant.
    pub tenants: Vec<TenantImpact>,
    /// Traces without a tenant.
    pub traces_without_tenant: u64,
    /// Terminal failures and stalled traces, the most severe first: attempts hanging far past
    /// their node's p95, then failures (most recent first), then traces waiting far past it,
    /// then other stalls.
    pub worst: Vec<WorstTrace>,
    /// Failed traces plus in-flight traces idle longer than their node's p95.
    pub worst_of: u64,
    /// The longest succeeded traces that took far longer than their path's own work, longest
    /// first (at most 3).
    pub slowest: Vec<SlowTrace>,
    /// In-flight traces idle less than their node's p95: waiting their turn, not worst.
    pub waiting_normally: u64,
    pub control_plane: ControlPlane,
    pub cross_tenant: Vec<CrossTenant>,
    pub remediation: Vec<Step>,
    /// Rows (the `traces` contract) of the traces that did not succeed, most recent first, at
    /// most 1,000.
    pub traces: Vec<TraceRow>,
    pub classify: ClassifyReport,
    /// `classify --by minute`: failures over the span.
    pub over_time: ClassifyReport,
    pub saturation: SaturationReport,
    pub graph: GraphReport,
}

pub struct Triage {
    rows: Vec<TraceRow>,
    /// The most recent failed traces and the longest idle in-flight ones, at most
    /// `CANDIDATES` each, ranked at the end.
    failed: Vec<TraceOutcome>,
    /// Traces skipped for their deadline: the caller got "Deadline exceeded", not an answer.
    skipped: Vec<TraceOutcome>,
    in_flight: Vec<TraceOutcome>,
    /// The longest succeeded traces, at most `SLOW_CANDIDATES`, judged at the end against
    /// their path's own work.
    longest_succeeded: Vec<TraceOutcome>,
    /// The shortest duration kept there once it is full: shorter traces are not cloned.
    shortest_longest: f64,
    failed_total: u64,
    skipped_total: u64,
    tenants: BTreeMap<String, TenantImpact>,
    /// Per tenant, its succeeded traces' durations and paths (who was slowed).
    tenant_latency: BTreeMap<String, TenantLatency>,
    traces_without_tenant: u64,
    /// Traces that did not succeed, by node they reached (by the node's id in `nodes`).
    troubled: Vec<u64>,
    /// The nodes of finished traces' visits, numbered: counted per visit by id, not looked up
    /// by text in a map (a few thousand finished traces a minute, several visits each).
    nodes: NameIds,
    /// Traces that did not succeed, by failure category.
    categories: BTreeMap<String, u64>,
    by_node: Classifier,
    by_minute: Classifier,
    /// `None` while it runs on a thread of its own ([`Analysis::split_off`]).
    saturation: Option<SaturationAnalyzer>,
    terminal: HashMap<String, u64>,
    control: ControlPlane,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
}

impl Default for Triage {
    fn default() -> Triage {
        Triage {
            rows: Vec::new(),
            failed: Vec::new(),
            skipped: Vec::new(),
            in_flight: Vec::new(),
            longest_succeeded: Vec::new(),
            shortest_longest: f64::NEG_INFINITY,
            failed_total: 0,
            skipped_total: 0,
            tenants: BTreeMap::new(),
            tenant_latency: BTreeMap::new(),
            traces_without_tenant: 0,
            troubled: Vec::new(),
            nodes: NameIds::default(),
            categories: Category::ALL.iter().map(|c| (c.to_string(), 0)).collect(),
            by_node: Classifier::new(GroupBy::Node, false),
            by_minute: Classifier::new(GroupBy::Minute, false).groups_only(),
            saturation: Some(SaturationAnalyzer::new(SaturationOptions::default())),
            terminal: HashMap::new(),
            control: ControlPlane::default(),
            first_ts: None,
            last_ts: None,
        }
    }
}

impl Analysis for Triage {
    type Report = TriageReport;

    fn needs(&self) -> Needs {
        Needs::TraceStatuses
    }

    fn keeps_text(&self) -> bool {
        true
    }

    /// Classify, saturation and the worst traces, on every event: as much work as the
    /// reading and the trace book together, more than the decoding with them.
    fn runs_apart(&self) -> Apart {
        Apart::Always
    }

    /// Takes one event of the trace scope; only those `--node`/`--kind` select are counted
    /// (trace statuses use every event).
    fn observe(&mut self, event: &Event, selected: bool) {
        // The bottleneck is judged on the whole flow, whatever --node/--kind show.
        if let Some(saturation) = &mut self.saturation {
            Analysis::observe(saturation, event, selected);
        }
        if !selected {
            return;
        }
        self.first_ts = Some(self.first_ts.map_or(event.ts, |t| t.min(event.ts)));
        self.last_ts = Some(self.last_ts.map_or(event.ts, |t| t.max(event.ts)));
        self.by_node.observe(event);
        self.by_minute.observe(event);
        let control = &mut self.control;
        match event.kind {
            Kind::TraceCancelStart => control.cancel_started += 1,
            Kind::TraceCancelFinish => control.cancel_finished += 1,
            Kind::TraceCancelDrop => control.cancel_dropped += 1,
            Kind::NodeTraceCancelled => control.node_trace_cancelled += 1,
            Kind::DeadlineSkip => control.deadline_skips += 1,
            Kind::NodeCancelled => control.workers_stopped += 1,
            Kind::NodeFailed => {
                if let Some(node) = &event.node_name {
                    *self.terminal.entry(node.to_string()).or_default() += 1;
                }
            }
            _ => {}
        }
    }

    fn trace_finished(&mut self, outcome: &TraceOutcome) {
        self.absorb(outcome);
    }

    /// Saturation, a third of the work, beside the classifying and the worst traces.
    fn split_off(&mut self) -> Option<Box<dyn Stage>> {
        self.saturation
            .take()
            .map(|saturation| Box::new(saturation) as Box<dyn Stage>)
    }

    fn rejoin(&mut self, stage: Box<dyn std::any::Any>) {
        let saturation = stage.downcast().expect("triage's stage is its saturation");
        self.saturation = Some(*saturation);
    }

    fn finish(mut self, end: &PassEnd<'_>) -> TriageReport {
        let graph = end.graph;
        let tenants = end.tenants;
        let classify = self.by_node.finish_with_graph(graph);
        let over_time = self.by_minute.regroup(&classify);
        let saturation = self
            .saturation
            .take()
            .expect("saturation handed back before the end")
            .finish_at(graph, end.input_end);
        let input_end = match (self.last_ts, end.input_end) {
            (Some(last), Some(end)) => last.max(end),
            (last, end) => last.or(end).unwrap_or_default(),
        };
        let ranked = rank_worst(
            [&self.failed, &self.skipped],
            &self.in_flight,
            graph,
            &saturation,
            input_end,
        );
        let in_flight_total = classify.statuses.get("in_flight").copied().unwrap_or(0);
        let stalled = ranked.iter().filter(|w| w.stalled_ms.is_some()).count() as u64;
        let worst_of = self.failed_total + self.skipped_total + stalled;
        let waiting_normally = in_flight_total.saturating_sub(stalled);
        let worst: Vec<WorstTrace> = ranked.into_iter().take(WORST).collect();
        let mut impact: Vec<TenantImpact> =
            std::mem::take(&mut self.tenants).into_values().collect();
        let load = saturation
            .bottleneck
            .as_ref()
            .and_then(|hot| Some((hot.node_name.as_str(), hot.tenant_load.as_ref()?)));
        // The tenant whose messages are the bottleneck's load: its own work there is its
        // messages' (their mean), not the node's p50, which is the other tenants'.
        let own_work_of = |tenant: Option<&str>| {
            let mut own_work = std::borrow::Cow::Borrowed(&classify.own_work_p50_ms);
            if let Some((node, load)) =
                load.filter(|(_, load)| Some(load.tenant.tenant.as_str()) == tenant)
            {
                own_work
                    .to_mut()
                    .insert(node.to_string(), load.ms_per_message);
            }
            own_work
        };
        let slowest = slowest_succeeded(&self.longest_succeeded, &own_work_of);
        for tenant in &mut impact {
            let own_work = own_work_of(Some(&tenant.tenant));
            if let Some((node, load)) = load.filter(|(_, load)| load.tenant.tenant == tenant.tenant)
            {
                tenant.load = Some(LoadAt {
                    node_name: node.to_string(),
                    work_share: load.tenant.work_share,
                    message_share: load.tenant.message_share,
                    ms_per_message: load.ms_per_message,
                    others_ms_per_message: load.others_ms_per_message,
                });
            }
            tenant.slowed = self
                .tenant_latency
                .get(&tenant.tenant)
                .and_then(|latency| slowed(latency, &self.nodes, &own_work, graph));
        }
        impact.sort_by(|a, b| {
            let troubled = |t: &TenantImpact| t.categories.values().sum::<u64>();
            // Then the tenants that were slowed though they got through.
            troubled(b)
                .cmp(&troubled(a))
                .then(b.slowed.is_some().cmp(&a.slowed.is_some()))
                .then(b.traces.cmp(&a.traces))
        });
        let graph_report = topology::build(graph.clone(), &self.terminal, &saturation);
        let mut traces = std::mem::take(&mut self.rows);
        traces.sort_by_key(|r| std::cmp::Reverse(r.last_ts));
        traces.truncate(MAX_ROWS);
        mark_idle(&mut traces, input_end);
        mark_cross_tenant(&mut traces, tenants, end.tenant_filter);
        let cross_tenant: Vec<CrossTenant> = tenants
            .cross_tenant()
            .into_iter()
            .map(|(trace_id, seen)| CrossTenant {
                trace_id: trace_id.to_string(),
                tenants: seen
                    .iter()
                    .map(|tenant| shown_tenant(tenant, end.tenant_filter))
                    .collect(),
            })
            .collect();
        let categories = std::mem::take(&mut self.categories);
        let statuses = classify.statuses.clone();
        let mut control = self.control;
        control.series = over_time
            .groups
            .iter()
            .map(|g| ControlPoint {
                t: g.key.clone(),
                cancel: g.cancel,
                deadline: g.deadline,
            })
            .collect();
        let troubled: HashMap<String, u64> = by_node_name(&self.troubled, &self.nodes).collect();
        let mut remediation = merge_checklists(&classify, &saturation, &troubled, &cross_tenant);
        // Traces stalled at the end with nothing to explain them (no hang long enough to judge,
        // no bottleneck): a flow that froze writes nothing more, so the log ends with them.
        if in_flight_total > 0 && saturation.hanging.is_empty() && saturation.hot_node.is_none() {
            let waiting: Vec<&WorstTrace> = worst
                .iter()
                .filter(|w| w.status == TraceStatus::InFlight && w.stalled_ms.is_some())
                .collect();
            let open = worst.iter().find(|w| {
                w.status == TraceStatus::InFlight && w.next_event.as_deref() == Some("node_start")
            });
            let node = waiting
                .first()
                .or(open.as_ref())
                .and_then(|w| w.next_node.clone());
            if let Some(node) = node {
                let open_attempt = open
                    .filter(|w| w.next_node.as_deref() == Some(node.as_str()))
                    .map(|w| w.trace_id.clone());
                remediation.push(Step {
                    evidence: Evidence::InFlight {
                        traces: in_flight_total,
                    },
                    step: Advice::InFlightAtEnd {
                        traces: in_flight_total,
                        node,
                        longest: waiting.first().and_then(|w| w.stalled_ms.zip(w.p95_ms)),
                        open_attempt,
                    },
                    traces: in_flight_total,
                });
            }
        }
        TriageReport {
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            statuses,
            categories,
            tenants: impact,
            traces_without_tenant: self.traces_without_tenant,
            worst,
            worst_of,
            slowest,
            waiting_normally,
            control_plane: control,
            cross_tenant,
            remediation,
            traces,
            classify,
            over_time,
            saturation,
            graph: graph_report,
        }
    }
}

impl Triage {
    /// Takes in a finished trace: its row, its counts, and maybe a place among the worst.
    fn absorb(&mut self, outcome: &TraceOutcome) {
        if !outcome.summary.selected {
            return;
        }
        self.by_node.add_outcome(outcome);
        let category = outcome.summary.category(outcome.status);
        match &outcome.summary.tenant {
            Some(tenant) => {
                // Per finished trace: keys allocated only when new.
                let impact = match self.tenants.get_mut(tenant.as_str()) {
                    Some(impact) => impact,
                    None => self
                        .tenants
                        .entry(tenant.clone())
                        .or_insert_with(|| TenantImpact {
                            tenant: tenant.clone(),
                            ..TenantImpact::default()
                        }),
                };
                impact.traces += 1;
                count(&mut impact.statuses, outcome.status.as_str());
                if let Some(category) =
                    category.filter(|_| outcome.status != TraceStatus::Succeeded)
                {
                    count(&mut impact.categories, category.as_str());
                }
                let room = self.tenant_latency.len() < MAX_TENANT_LATENCIES;
                if outcome.status == TraceStatus::Succeeded
                    && (room || self.tenant_latency.contains_key(tenant))
                {
                    let latency = match self.tenant_latency.get_mut(tenant.as_str()) {
                        Some(latency) => latency,
                        None => self.tenant_latency.entry(tenant.clone()).or_default(),
                    };
                    latency.traces += 1;
                    latency.duration_ms.add(outcome.summary.duration_ms());
                    for visit in &outcome.summary.visits {
                        count_at(&mut latency.visits, self.nodes.intern(&visit.node_name).0);
                    }
                }
            }
            None => self.traces_without_tenant += 1,
        }
        if outcome.status == TraceStatus::Succeeded {
            self.keep_if_longest(outcome);
            return;
        }
        self.rows.push(row(outcome));
        if self.rows.len() >= 2 * MAX_ROWS {
            self.rows.sort_by_key(|r| std::cmp::Reverse(r.last_ts));
            self.rows.truncate(MAX_ROWS);
        }
        if let Some(category) = outcome.summary.category(outcome.status) {
            count(&mut self.categories, category.as_str());
        }
        for visit in &outcome.summary.visits {
            count_at(&mut self.troubled, self.nodes.intern(&visit.node_name).0);
        }
        match outcome.status {
            TraceStatus::Failed => {
                self.failed_total += 1;
                keep_bounded(&mut self.failed, outcome, |o| {
                    std::cmp::Reverse(o.summary.last_ts)
                });
            }
            TraceStatus::DeadlineSkipped => {
                self.skipped_total += 1;
                keep_bounded(&mut self.skipped, outcome, |o| {
                    std::cmp::Reverse(o.summary.last_ts)
                });
            }
            TraceStatus::InFlight => {
                keep_bounded(&mut self.in_flight, outcome, |o| o.summary.last_ts);
            }
            _ => {}
        }
    }
}

/// A tenant's slowdown, when its succeeded traces took far longer than their path's own work
/// (`tenant_share::slowed`).
fn slowed(
    latency: &TenantLatency,
    nodes: &NameIds,
    own_work: &BTreeMap<String, f64>,
    graph: &super::graph::FlowGraph,
) -> Option<Slowed> {
    let traces = latency.traces.max(1) as f64;
    // By name, in the names' order: the sum below adds in that order.
    let visits: BTreeMap<String, u64> = by_node_name(&latency.visits, nodes).collect();
    let own_work_ms: f64 = visits
        .iter()
        .filter_map(|(node, visits)| Some(own_work.get(node)? * *visits as f64 / traces))
        .sum();
    let p50_ms = latency.duration_ms.percentile(50.0)?;
    if own_work_ms <= 0.0 {
        return None;
    }
    let slowed_from_ms = super::tenant_share::slowed_from_ms(own_work_ms);
    let slowed = latency.duration_ms.count_at_least(slowed_from_ms);
    if !super::tenant_share::tenant_slowed(slowed, latency.traces) {
        return None;
    }
    let order = graph.nodes();
    let mut path: Vec<String> = visits.into_keys().collect();
    path.sort_by_key(|node| {
        order
            .iter()
            .position(|n| *n == node.as_str())
            .unwrap_or(usize::MAX)
    });
    Some(Slowed {
        traces: latency.traces,
        slowed,
        slowed_from_ms,
        p50_ms,
        p95_ms: latency.duration_ms.percentile(95.0).unwrap_or(p50_ms),
        own_work_ms,
        path,
    })
}

/// Keeps `outcome` among the `CANDIDATES` smallest by `key`.
impl Triage {
    /// Keeps `outcome` (succeeded) if it is among the longest: cloned only then.
    fn keep_if_longest(&mut self, outcome: &TraceOutcome) {
        let duration = outcome.summary.duration_ms();
        if duration <= self.shortest_longest {
            return;
        }
        let kept = &mut self.longest_succeeded;
        kept.push(outcome.clone());
        if kept.len() > SLOW_CANDIDATES {
            kept.sort_by(|a, b| b.summary.duration_ms().total_cmp(&a.summary.duration_ms()));
            kept.truncate(SLOW_CANDIDATES);
            self.shortest_longest = kept.last().map_or(0.0, |o| o.summary.duration_ms());
        }
    }
}

/// Each node's own work (ms) as one tenant's messages take it.
type OwnWork<'a> = std::borrow::Cow<'a, BTreeMap<String, f64>>;

/// The longest succeeded traces that were slowed (`tenant_share::slowed_from_ms` of their
/// path's own work), longest first, with where each lost the most time.
fn slowest_succeeded<'a>(
    longest: &[TraceOutcome],
    own_work_of: &dyn Fn(Option<&str>) -> OwnWork<'a>,
) -> Vec<SlowTrace> {
    let mut slow: Vec<SlowTrace> = longest
        .iter()
        .filter_map(|outcome| {
            let summary = &outcome.summary;
            let own_work = own_work_of(summary.tenant.as_deref());
            let own_work = own_work.as_ref();
            let own_work_ms =
                super::tenant_share::slowed_trace(summary, |node| own_work.get(node).copied())?;
            let duration_ms = summary.duration_ms();
            Some(SlowTrace {
                trace_id: summary.trace_id.clone(),
                tenant: summary.tenant.clone(),
                first_ts: summary.first_ts,
                duration_ms,
                own_work_ms,
                longest: time_lost(summary, own_work),
            })
        })
        .collect();
    slow.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
    slow.truncate(SLOWEST);
    slow
}

/// Where a trace lost the most time beyond its nodes' own work: in one node, or waiting for
/// one after the node before it (in time order) succeeded.
fn time_lost(summary: &TraceSummary, own_work: &BTreeMap<String, f64>) -> Option<TimeLost> {
    let mut visits: Vec<&NodeVisit> = summary.visits.iter().collect();
    visits.sort_by_key(|visit| visit.first_ts);
    let mut lost: Option<(f64, TimeLost)> = None;
    let mut keep = |excess: f64, candidate: TimeLost| {
        if excess > 0.0 && lost.as_ref().is_none_or(|(most, _)| excess > *most) {
            lost = Some((excess, candidate));
        }
    };
    let mut previous_success: Option<Timestamp> = None;
    for visit in visits {
        if let Some(sent) = previous_success.filter(|sent| *sent <= visit.first_ts) {
            let waited = visit.first_ts.millis_since(sent);
            keep(
                waited,
                TimeLost {
                    node_name: visit.node_name.to_string(),
                    ms: waited,
                    queued: true,
                    own_p50_ms: None,
                },
            );
        }
        if let Some(success) = visit.success_ts() {
            let inside = success.millis_since(visit.first_ts);
            let own = own_work.get(&*visit.node_name).copied();
            keep(
                inside - own.unwrap_or(0.0),
                TimeLost {
                    node_name: visit.node_name.to_string(),
                    ms: inside,
                    queued: false,
                    own_p50_ms: own,
                },
            );
            previous_success = Some(previous_success.map_or(success, |p| p.max(success)));
        }
    }
    lost.map(|(_, lost)| lost)
}

fn keep_bounded<K: Ord>(
    kept: &mut Vec<TraceOutcome>,
    outcome: &TraceOutcome,
    key: impl Fn(&TraceOutcome) -> K,
) {
    kept.push(outcome.clone());
    if kept.len() >= 2 * CANDIDATES {
        kept.sort_by_key(|o| key(o));
        kept.truncate(CANDIDATES);
    }
}

/// The failed, deadline-skipped and in-flight candidates as `WorstTrace`s, most severe first
/// (failures before skips, each latest first). An in-flight
/// trace is measured at the end of the input against its next node's p95: one idle less than
/// that is waiting its turn and left out; one idle `STUCK_RATIO` times that (or with an
/// attempt running that long) comes before the failures.
fn rank_worst(
    [failed, skipped]: [&[TraceOutcome]; 2],
    in_flight: &[TraceOutcome],
    graph: &super::graph::FlowGraph,
    saturation: &SaturationReport,
    end: Timestamp,
) -> Vec<WorstTrace> {
    let p95_of = |node: &str| {
        saturation
            .nodes
            .iter()
            .find(|n| n.node_name == node)
            .and_then(|n| n.latency_ms.p95)
    };
    let mut stuck: Vec<(f64, WorstTrace)> = Vec::new();
    let mut stalled: Vec<(f64, WorstTrace)> = Vec::new();
    let hanging: Vec<&str> = saturation
        .hanging
        .iter()
        .map(|hang| hang.trace_id.as_str())
        .collect();
    for outcome in in_flight {
        let mut worst = worst_trace(outcome, graph);
        worst.dropped_at = dropped_at(outcome, graph, &saturation.stops);
        // An attempt started and not ended is hanging only if saturation says so; otherwise it
        // is blocked handing its output over, or young: a wait, not the cause.
        worst.running &= hanging.contains(&worst.trace_id.as_str());
        let since = if worst.running {
            worst.next_ts
        } else {
            Some(outcome.summary.last_ts)
        };
        let idle_ms = since.map_or(0.0, |since| end.millis_since(since).max(0.0));
        let p95 = worst.next_node.as_deref().and_then(p95_of);
        let ratio = match p95 {
            Some(p95) if p95 > 0.0 => idle_ms / p95,
            _ => idle_ms / 1000.0,
        };
        if ratio < 1.0 {
            continue;
        }
        worst.stalled_ms = Some(idle_ms);
        worst.p95_ms = p95;
        if ratio >= STUCK_RATIO {
            stuck.push((ratio, worst));
        } else {
            stalled.push((ratio, worst));
        }
    }
    stuck.sort_by(|a, b| b.0.total_cmp(&a.0));
    stalled.sort_by(|a, b| b.0.total_cmp(&a.0));
    // A hanging attempt holds its node's only worker: it is the cause of the waits behind it.
    let (hanging, waiting): (Vec<_>, Vec<_>) = stuck.into_iter().partition(|(_, w)| w.running);
    let latest_first = |outcomes: &[TraceOutcome]| {
        let mut sorted: Vec<WorstTrace> = outcomes.iter().map(|o| worst_trace(o, graph)).collect();
        sorted.sort_by_key(|w| std::cmp::Reverse(w.last_ts));
        sorted
    };
    // One trace per cause first (category, where it stopped, tenant): five failures of one
    // explained cause must not hide a trace stuck somewhere else.
    let (failed_first, failed_again) = one_per_cause(latest_first(failed));
    let (skipped_first, skipped_again) = one_per_cause(latest_first(skipped));
    hanging
        .into_iter()
        .map(|(_, w)| w)
        .chain(failed_first)
        .chain(skipped_first)
        .chain(waiting.into_iter().map(|(_, w)| w))
        .chain(failed_again)
        .chain(skipped_again)
        .chain(stalled.into_iter().map(|(_, w)| w))
        .collect()
}

/// The first trace of each cause (category, the node it stopped before, tenant), in order;
/// and the others, in order.
fn one_per_cause(traces: Vec<WorstTrace>) -> (Vec<WorstTrace>, Vec<WorstTrace>) {
    let mut seen: Vec<(Option<Category>, Option<String>, Option<String>)> = Vec::new();
    traces.into_iter().partition(|trace| {
        let cause = (
            trace.category,
            trace.next_node.clone(),
            trace.tenant.clone(),
        );
        if seen.contains(&cause) {
            false
        } else {
            seen.push(cause);
            true
        }
    })
}

/// When the runtime an in-flight trace waits in stopped: the trace waits for a node after its
/// last success, and that success's worker (by node_id) logged node_cancelled after the
/// trace's last event.
fn dropped_at(
    outcome: &TraceOutcome,
    graph: &super::graph::FlowGraph,
    stops: &[super::saturation::StoppedWorker],
) -> Option<Timestamp> {
    let summary = &outcome.summary;
    let stop = summary.stop_point(graph);
    // Waiting: in its sender's runtime; an attempt under way: in its own.
    let holder = match stop.next {
        Some(NextStep::Inferred(_)) => stop.last_success?,
        Some(NextStep::Observed(visit)) if visit.last_kind == Kind::NodeStart => visit,
        _ => return None,
    };
    let node_id = holder.instance.as_deref()?;
    stops
        .iter()
        .find(|stop| stop.node_id == node_id && stop.node_name == *holder.node_name)
        .map(|stop| stop.at)
        .filter(|at| *at >= summary.last_ts)
}

fn worst_trace(outcome: &TraceOutcome, graph: &super::graph::FlowGraph) -> WorstTrace {
    let summary = &outcome.summary;
    let stop = summary.stop_point(graph);
    let (next_node, next_event, next_inferred, next_ts) = match &stop.next {
        Some(NextStep::Observed(visit)) => (
            Some(visit.node_name.to_string()),
            Some(visit.last_kind.to_string()),
            false,
            Some(visit.last_ts),
        ),
        Some(NextStep::Inferred(successor)) => {
            (Some(successor.node_name.clone()), None, true, None)
        }
        None => (None, None, false, None),
    };
    WorstTrace {
        trace_id: summary.trace_id.clone(),
        tenant: summary.tenant.clone(),
        status: outcome.status,
        category: summary.category(outcome.status),
        last_ts: summary.last_ts,
        last_success: stop.last_success.map(|v| v.node_name.to_string()),
        running: next_event.as_deref() == Some("node_start"),
        next_node,
        next_event,
        next_inferred,
        next_ts,
        stalled_ms: None,
        p95_ms: None,
        dropped_at: None,
    }
}

/// Traces that did not succeed and reached `node`.
fn troubled_traces_at(troubled: &HashMap<String, u64>, node: &str) -> u64 {
    troubled.get(node).copied().unwrap_or(0)
}

/// One checklist from every analysis, most traces affected first, each naming its evidence.
fn merge_checklists(
    classify: &ClassifyReport,
    saturation: &SaturationReport,
    troubled: &HashMap<String, u64>,
    cross_tenant: &[CrossTenant],
) -> Vec<Step> {
    // A hanging attempt holds a worker: everything queued behind it waits, so hangs come first
    // whatever their count; the rest by traces affected.
    let mut hangs = Vec::new();
    for hang in &saturation.hanging {
        hangs.push(Step {
            evidence: Evidence::Hang {
                node: hang.node_name.clone(),
                trace_id: hang.trace_id.clone(),
                running_ms: hang.running_ms,
            },
            step: Advice::Saturation(SaturationStep::Hang(hang.clone())),
            // Its own trace and the messages waiting behind it.
            traces: 1 + hang.queued_behind.unwrap_or(0).max(0) as u64,
        });
    }
    let mut steps = Vec::new();
    for section in &classify.remediation {
        let (evidence, traces) = match Category::parse(&section.category) {
            Some(category) => {
                let report = classify.categories.get(category);
                (
                    Evidence::Category {
                        category,
                        events: report.events,
                        traces: report.traces,
                        terminal: report.terminal,
                    },
                    report.traces.max(report.terminal),
                )
            }
            None => (Evidence::RetryStorm, 1),
        };
        for step in &section.steps {
            steps.push(Step {
                evidence: evidence.clone(),
                step: Advice::Classify {
                    step: step.clone(),
                    fell_in: None,
                },
                traces,
            });
        }
    }
    // Saturation's checklist opens with its hang steps; the bottleneck's own step follows.
    // When the deadline skips are that node's capacity (`deadline_cause`), its step goes before
    // theirs: it is what to do about them.
    let mut first_of_equals = None;
    if let (Some(hot), Some(reason)) = (&saturation.hot_node, &saturation.hot_node_reason)
        && let Some(first) = saturation.remediation.get(saturation.hanging.len())
    {
        let mut pod = None;
        // The skips confined to one pod are the hot node's in that pod: what differs there is
        // told by the pod rule (its traffic, or its node's speed).
        let hot_instance = saturation
            .nodes
            .iter()
            .find(|n| n.node_name == *hot)
            .and_then(|n| n.pressure_instance.as_deref());
        let in_pod = classify.deadlines.in_one_pod.as_ref().filter(|at| {
            at.node_name == *hot
                && hot_instance.is_none_or(|instance| instance == format!("pod {}", at.pod))
        });
        // Saturation's step may already say the pod's traffic is the difference.
        if let Some(at) = in_pod.filter(|_| !saturation.hot_load_imbalance) {
            pod = Some(Box::new(at.clone()));
        }
        let explains_skips = in_pod.is_some()
            || classify.deadlines.at_capacity.as_ref().is_some_and(|at| {
                at.node_name == *hot
                    || saturation
                        .bottleneck
                        .as_ref()
                        .is_some_and(|b| b.backed_up.contains(&at.node_name))
            });
        let mut traces = troubled_traces_at(troubled, hot).max(1);
        if explains_skips {
            traces = traces.max(classify.categories.deadline.traces);
            first_of_equals = Some(steps.len());
        }
        // Cancels by one tenant's callers inside the bottleneck's pressure window are its
        // symptom: the cause carries their traces and ranks above them.
        if let Some(give_up) = &classify.given_up
            && let Some(window) = saturation
                .bottleneck
                .as_ref()
                .and_then(|bottleneck| bottleneck.window.as_ref())
            && give_up.first <= window.last
            && window.first <= give_up.last
        {
            let cancelled = classify.categories.cancel.terminal;
            traces += cancelled;
            // With `given_up`, classify's first cancel step is the one that says so.
            if let Some(Advice::Classify { fell_in, .. }) = steps
                .iter_mut()
                .find(|s| {
                    matches!(
                        s.evidence,
                        Evidence::Category {
                            category: Category::Cancel,
                            ..
                        }
                    )
                })
                .map(|s| &mut s.step)
            {
                *fell_in = Some((hot.clone(), window.first, window.last));
            }
        }
        steps.push(Step {
            evidence: Evidence::HotNode {
                node: hot.clone(),
                reason: reason.clone(),
            },
            step: Advice::Bottleneck {
                step: first.clone(),
                pod,
            },
            traces,
        });
    }
    for finding in &saturation.lost_time {
        steps.push(Step {
            evidence: Evidence::LostTime {
                node: finding.node_name.clone(),
                share: finding.share,
                cause: finding.cause,
            },
            step: Advice::LostTime(finding.step.clone()),
            traces: troubled_traces_at(troubled, &finding.node_name).max(1),
        });
    }
    for signal in &saturation.signals {
        let node = signal.node_name.clone().unwrap_or_default();
        // A node whose own latency rose steadily: its stalls and its regression are one
        // finding, with the advice every checklist gives it.
        let trend = saturation
            .nodes
            .iter()
            .find(|n| n.node_name == node)
            .and_then(|n| n.latency_trend.as_ref());
        let step = match (signal.kind, trend) {
            (SignalKind::SlowDependency, Some(trend)) if trend.crossed_timeout() => {
                Advice::TrendStalled { node: node.clone() }
            }
            // The hot node's own step gives the advice already.
            (SignalKind::LatencyRegression, Some(_))
                if saturation.hot_node.as_deref() == Some(node.as_str()) =>
            {
                continue;
            }
            (SignalKind::LatencyRegression, Some(trend)) => Advice::Regressed {
                node: node.clone(),
                trend: trend.clone(),
            },
            _ => match signal.kind {
                SignalKind::SlowDependency if signal.ended_in_errors => {
                    Advice::FailingNotHanging { node: node.clone() }
                }
                SignalKind::SlowDependency if signal.ended_in_timeouts => Advice::TimeoutsCut {
                    node: node.clone(),
                    detail: signal.detail.clone(),
                },
                SignalKind::SlowDependency => Advice::BoundDependency { node: node.clone() },
                SignalKind::LatencyRegression if saturation.hot_node.is_none() => {
                    Advice::FindWhatChanged { node: node.clone() }
                }
                SignalKind::BlockedDownstream => Advice::CheckDownstream {
                    node: node.clone(),
                    trace_id: signal.trace_id.clone(),
                },
                _ => continue,
            },
        };
        steps.push(Step {
            evidence: Evidence::Signal {
                kind: signal.kind,
                node: node.clone(),
                detail: signal.detail.clone(),
            },
            step,
            traces: troubled_traces_at(troubled, &node).max(1),
        });
    }
    if !cross_tenant.is_empty() {
        steps.push(Step {
            evidence: Evidence::CrossTenant {
                traces: cross_tenant.len() as u64,
                example: cross_tenant[0].trace_id.clone(),
            },
            step: Advice::CrossTenant,
            traces: cross_tenant.len() as u64,
        });
    }
    let mut ranked: Vec<(usize, Step)> = steps.into_iter().enumerate().collect();
    ranked.sort_by_key(|(index, step)| {
        (
            std::cmp::Reverse(step.traces),
            Some(*index) != first_of_equals,
            *index,
        )
    });
    hangs.extend(ranked.into_iter().map(|(_, step)| step));
    hangs
}

/// Counts one more under `key`, allocating the key only the first time.
fn count(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(count) => *count += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}
