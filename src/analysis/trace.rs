//! One trace, summarized from its events in one pass: counts, the nodes it reached and how each
//! ended, and its status. The status rules live here once; `find`, `traces` and `triage` use them.
//!
//! Status, the first rule that holds:
//! 1. `cancelled`: any cancellation event of the trace (trace_cancel_start/finish/drop,
//!    node_trace_cancelled);
//! 2. `failed`: a `node_failed` (retries exhausted);
//! 3. `deadline_skipped`: a `deadline_skip`;
//! 4. `succeeded`: every node the trace reached ended with `node_success`, every node that
//!    succeeded was followed by its successors in the learned flow graph (with fan-out, every
//!    branch most traces take; with a router, one of its alternatives, however rare or
//!    dominant: see `FlowGraph::fans_out`), and at least one sink of the graph succeeded;
//! 5. `in_flight`: none of these (the trace stopped at a node that normally has a successor, or
//!    is still running or retrying).

use std::fmt;

use serde::Serialize;

use super::category::{Category, CategoryCounts, category_of, is_trace_cancellation};
use super::graph::{EGRESS, FlowGraph, NodePlace, Successor, is_endpoint};
use crate::event::{Event, Kind, Name, Timestamp};

/// Distinct names kept at most by a `NameTable`; past that, names are allocated one per use
/// (a log with an id per instance must not grow the table without bound).
const MAX_TABLE_NAMES: usize = 4096;

/// The node and instance names of summaries, each allocated once, on the thread that owns the
/// summaries: a visit holds a shared name, not a string of its own, and never a name the
/// decoding threads allocated (held in long-lived summaries, those kept the decoders' pages
/// from being reused).
#[derive(Debug, Default)]
pub struct NameTable {
    names: std::collections::HashSet<Name, foldhash::fast::RandomState>,
}

impl NameTable {
    /// The table's name for `name`. A lasting name is returned as it is: it is made once
    /// for the run, on no decoder's pages.
    pub fn intern(&mut self, name: &Name) -> Name {
        if name.is_lasting() {
            return Name::clone(name);
        }
        let name: &str = name;
        if let Some(known) = self.names.get(name) {
            return Name::clone(known);
        }
        let name = Name::from(name);
        if self.names.len() < MAX_TABLE_NAMES {
            self.names.insert(Name::clone(&name));
        }
        name
    }
}

/// A successor taken by at least this share of the traces leaving a node that fans out
/// (`FlowGraph::fans_out`) is a branch every trace takes; below it, an alternative.
const REQUIRED_BRANCH_SHARE: f64 = 0.9;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum TraceStatus {
    Succeeded,
    Failed,
    Cancelled,
    DeadlineSkipped,
    InFlight,
}

impl TraceStatus {
    pub const ALL: [TraceStatus; 5] = [
        TraceStatus::Succeeded,
        TraceStatus::Failed,
        TraceStatus::Cancelled,
        TraceStatus::DeadlineSkipped,
        TraceStatus::InFlight,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TraceStatus::Succeeded => "succeeded",
            TraceStatus::Failed => "failed",
            TraceStatus::Cancelled => "cancelled",
            TraceStatus::DeadlineSkipped => "deadline_skipped",
            TraceStatus::InFlight => "in_flight",
        }
    }

    pub fn parse(text: &str) -> Option<TraceStatus> {
        TraceStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for TraceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a node's part of the trace went (no event is kept: a summary stays small). Held for
/// every node of every open trace, so kept to 80 bytes: counts in 32 bits (saturating), the
/// success times without `Option`'s extra word, the flags in one byte.
#[derive(Debug, Clone)]
pub struct NodeVisit {
    pub node_name: Name,
    /// The instance (`node_id`) that logged its last `node_success` of the trace (before any,
    /// its last `node_start`: where an attempt under way runs).
    pub instance: Option<Name>,
    /// The kind and time of the node's last event of the trace.
    pub last_kind: Kind,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// The time of the node's last `node_success` of the trace (when `SUCCEEDED` is set).
    success_at: Timestamp,
    /// The time of its first `node_success` of the trace (a fan-out node succeeds once per
    /// message it handles).
    first_success_at: Timestamp,
    /// `node_start` events: attempts begun.
    pub attempts: u32,
    /// Its `node_success` events in the trace.
    pub successes: u32,
    /// Its `node_retry` events in the trace.
    pub retries: u32,
    /// `SUCCEEDED`, and per failure slot (timeout, error) `PENDING << slot` (not yet followed
    /// by its success) and `RECOVERED << slot` (a later success of it recovered it).
    flags: u8,
}

const SUCCEEDED: u8 = 1;
const PENDING: u8 = 1 << 1;
const RECOVERED: u8 = 1 << 3;

impl NodeVisit {
    fn new(node_name: Name, event: &Event) -> NodeVisit {
        NodeVisit {
            node_name,
            instance: None,
            last_kind: event.kind.clone(),
            first_ts: event.ts,
            last_ts: event.ts,
            success_at: event.ts,
            first_success_at: event.ts,
            attempts: 0,
            successes: 0,
            retries: 0,
            flags: 0,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.flags & SUCCEEDED != 0
    }

    /// The time of the node's last `node_success` of the trace.
    pub fn success_ts(&self) -> Option<Timestamp> {
        self.succeeded().then_some(self.success_at)
    }

    /// The time of its first `node_success` of the trace.
    pub fn first_success_ts(&self) -> Option<Timestamp> {
        self.succeeded().then_some(self.first_success_at)
    }

    /// A timeout (`slot` 0) or an error (1) at this node that a later success of it recovered.
    pub fn recovered(&self, slot: usize) -> bool {
        self.flags & (RECOVERED << slot) != 0
    }
}

/// A trace summarized from its events (fed in time order). Memory is bounded by the number of
/// nodes the trace reached.
#[derive(Debug, Clone)]
pub struct TraceSummary {
    pub trace_id: String,
    pub tenant: Option<String>,
    /// The pod of its first event that names one (`kubectl logs --prefix`): each pod is a
    /// runtime of its own, with its own queues.
    pub pod: Option<Name>,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub events: u64,
    pub counts: CategoryCounts,
    pub attempts: u64,
    pub visits: Vec<NodeVisit>,
    /// The trace had an event the `--node`/`--kind` filters select (see `TraceBook::observe`).
    pub selected: bool,
    cancelled: bool,
    terminal: Option<Category>,
    deadline_skipped: bool,
    /// What its `deadline_skip` said (boxed: most traces have none, and every open trace is
    /// held).
    deadline_skip: Option<Box<DeadlineSkip>>,
    /// `trace_pending` on the trace's latest event, and that event's kind.
    last_pending: Option<(Kind, i64)>,
    /// The category of the last failure event, for traces still in flight.
    last_failure: Option<Category>,
}

/// A trace's `deadline_skip`.
#[derive(Debug, Clone)]
struct DeadlineSkip {
    /// The inbound queue (depth, capacity) of the node that skipped the message for its
    /// deadline: a long queue behind it means it expired waiting, not stale on arrival.
    queue: (Option<i64>, Option<i64>),
    /// How late the skip was (its time past `deadline_s`), in milliseconds.
    late_ms: Option<f64>,
    /// The skipped message's `deadline_s`.
    deadline: Option<Timestamp>,
}

impl TraceSummary {
    /// The inbound queue (depth, capacity) of the node that skipped the message for its
    /// deadline: a long queue behind it means it expired waiting, not stale on arrival.
    pub fn deadline_skip_queue(&self) -> Option<(Option<i64>, Option<i64>)> {
        self.deadline_skip.as_ref().map(|skip| skip.queue)
    }

    /// How late the skip was (its time past `deadline_s`), in milliseconds.
    pub fn deadline_late_ms(&self) -> Option<f64> {
        self.deadline_skip.as_ref().and_then(|skip| skip.late_ms)
    }

    /// The skipped message's `deadline_s`.
    pub fn deadline(&self) -> Option<Timestamp> {
        self.deadline_skip.as_ref().and_then(|skip| skip.deadline)
    }

    pub fn new(trace_id: &str) -> TraceSummary {
        TraceSummary {
            trace_id: trace_id.to_string(),
            tenant: None,
            pod: None,
            first_ts: Timestamp(i64::MAX),
            last_ts: Timestamp(i64::MIN),
            events: 0,
            counts: CategoryCounts::default(),
            attempts: 0,
            visits: Vec::new(),
            selected: false,
            cancelled: false,
            terminal: None,
            deadline_skipped: false,
            deadline_skip: None,
            last_pending: None,
            last_failure: None,
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.observe_with(event, |name| Name::from(&**name));
    }

    /// `observe`, with the visits' node and instance names made by `name` (from a
    /// `NameTable`, for summaries kept long).
    pub fn observe_with(&mut self, event: &Event, mut name: impl FnMut(&Name) -> Name) {
        self.events += 1;
        if event.ts >= self.last_ts
            && let Some(pending) = event.trace_pending()
        {
            self.last_pending = Some((event.kind.clone(), pending));
        }
        self.first_ts = self.first_ts.min(event.ts);
        self.last_ts = self.last_ts.max(event.ts);
        if self.tenant.is_none() {
            self.tenant = event.tenant.as_deref().map(str::to_string);
        }
        if self.pod.is_none()
            && let Some(pod) = &event.pod
        {
            self.pod = Some(name(pod));
        }
        self.counts.add(event);
        let category = category_of(event);
        if category.is_some() {
            self.last_failure = category;
        }
        match &event.kind {
            Kind::NodeStart => self.attempts += 1,
            Kind::NodeFailed => self.terminal = category,
            Kind::DeadlineSkip => {
                self.deadline_skipped = true;
                self.deadline_skip = Some(Box::new(DeadlineSkip {
                    queue: (event.q_depth_in(), event.queue_maxsize()),
                    late_ms: event
                        .deadline_s()
                        .map(|deadline| (event.ts.as_unix_seconds() - deadline) * 1000.0),
                    deadline: event.deadline_s().and_then(Timestamp::from_unix_seconds),
                }));
            }
            Kind::NodeSuccess => self.last_failure = None,
            kind if is_trace_cancellation(kind) => self.cancelled = true,
            _ => {}
        }
        let Some(node_name) = event.node_name.as_ref().filter(|node| !is_endpoint(node)) else {
            return;
        };
        if event.kind == Kind::NodeCancelled {
            return; // a worker stopped (flow shutdown), not a step of this trace
        }
        if event.kind.is_remote() {
            // A remote call is a step inside its node's attempt: the attempt's own events say
            // how the node's part went (a call still streaming leaves it at `node_start`).
            return;
        }
        let index = match self
            .visits
            .iter()
            // Names, not texts: two names made to last are one text only at one address.
            .position(|visit| visit.node_name == *node_name)
        {
            Some(index) => index,
            None => {
                // Past the room the trace book gave it (see `TraceBook`), one slot at a time:
                // doubling left a third of the slots of the open traces empty.
                self.visits.reserve_exact(1);
                self.visits.push(NodeVisit::new(name(node_name), event));
                self.visits.len() - 1
            }
        };
        let visit = &mut self.visits[index];
        visit.last_kind.clone_from(&event.kind);
        visit.last_ts = event.ts;
        if event.kind == Kind::NodeStart {
            visit.attempts = visit.attempts.saturating_add(1);
            if !visit.succeeded() {
                match &event.node_id {
                    None => visit.instance = None,
                    Some(id) if visit.instance.as_ref() == Some(id) => {}
                    Some(id) => visit.instance = Some(name(id)),
                }
            }
        }
        match event.kind {
            Kind::NodeTimeout => visit.flags |= PENDING,
            Kind::NodeError => visit.flags |= PENDING << 1,
            Kind::NodeRetry => visit.retries = visit.retries.saturating_add(1),
            Kind::NodeSuccess => {
                if !visit.succeeded() {
                    visit.first_success_at = event.ts;
                }
                visit.success_at = event.ts;
                match &event.node_id {
                    None => visit.instance = None,
                    Some(id) if visit.instance.as_ref() == Some(id) => {}
                    Some(id) => visit.instance = Some(name(id)),
                }
                visit.successes = visit.successes.saturating_add(1);
                // Pending failures become recovered ones.
                let pending = visit.flags & (PENDING | PENDING << 1);
                visit.flags =
                    (visit.flags & !(PENDING | PENDING << 1)) | (pending << 2) | SUCCEEDED;
            }
            _ => {}
        }
    }

    /// The node whose queue held the trace longest (the gap before its first event there),
    /// and that gap in ms. The first node's queue is not logged, so its gap is 0.
    pub fn longest_wait(&self) -> Option<(&NodeVisit, f64)> {
        let mut longest: Option<(&NodeVisit, f64)> = None;
        for (visit, gap) in self.waits() {
            if longest.is_none_or(|(_, most)| gap > most) {
                longest = Some((visit, gap));
            }
        }
        longest
    }

    /// Each node the trace reached, in order of arrival, with the time it waited for it: the
    /// gap from the trace's latest event at the nodes before to its first event there (ms; 0
    /// for the first node, whose queue is not logged, and for a node that started before its
    /// sender logged the hand-over, as `ctx.emit` and routers do).
    pub fn waits(&self) -> impl Iterator<Item = (&NodeVisit, f64)> {
        let mut previous = self.first_ts;
        self.visits.iter().map(move |visit| {
            let gap = visit.first_ts.millis_since(previous);
            previous = previous.max(visit.last_ts);
            (visit, gap)
        })
    }

    /// The node whose visit with retries (its attempts, failures and backoff) took at least
    /// half of the trace's time, and that time in ms: where a spent budget went.
    pub fn retries_took_the_time(&self) -> Option<(&NodeVisit, f64)> {
        let span = self.duration_ms();
        self.visits
            .iter()
            .filter(|visit| visit.retries > 0)
            .map(|visit| (visit, visit.last_ts.millis_since(visit.first_ts)))
            .filter(|(_, retrying)| span > 0.0 && *retrying >= 0.5 * span)
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    pub fn duration_ms(&self) -> f64 {
        if self.events == 0 {
            return 0.0;
        }
        self.last_ts.millis_since(self.first_ts)
    }

    /// The trace's status under the flow graph learned from all traces.
    pub fn status(&self, graph: &FlowGraph) -> TraceStatus {
        if self.cancelled {
            TraceStatus::Cancelled
        } else if self.terminal.is_some() {
            TraceStatus::Failed
        } else if self.deadline_skipped {
            TraceStatus::DeadlineSkipped
        } else if self.completed(graph) {
            TraceStatus::Succeeded
        } else {
            TraceStatus::InFlight
        }
    }

    /// Every node it reached ended in a success, it reached a sink, no message of it waits
    /// in a queue (see `dangling`), and its latest event counts no messages left in the flow:
    /// beyond its own, `trace_pending` counts the results its sinks sent to the egress not yet
    /// fetched (2 on a completed linear trace's last success; one more per other sink
    /// success), so more means a fan-out's other messages are still queued.
    fn completed(&self, graph: &FlowGraph) -> bool {
        if !self
            .visits
            .iter()
            .all(|visit| visit.last_kind == Kind::NodeSuccess)
        {
            return false;
        }
        // Each visit's place looked up once: this runs for every trace settled.
        self.with_places(graph, |places| {
            let sink = |index: usize| places[index].is_some_and(|place| place.sink);
            if !(0..places.len()).any(sink) || self.dangling_among(graph, places).is_some() {
                return false;
            }
            let delivered: u64 = (0..places.len())
                .filter(|index| sink(*index))
                .map(|index| u64::from(self.visits[index].successes))
                .sum();
            !matches!(&self.last_pending, Some((Kind::NodeSuccess, pending))
                if *pending > 1 + delivered.max(1) as i64)
        })
    }

    /// Each visit's place in `graph`, in visit order, handed to `use_them`: on the stack for a
    /// trace of up to 16 nodes (this runs for every trace settled; a vector made each time
    /// was about a seventh of its cost).
    fn with_places<'g, R>(
        &self,
        graph: &'g FlowGraph,
        use_them: impl FnOnce(&[Option<&'g NodePlace>]) -> R,
    ) -> R {
        const ON_STACK: usize = 16;
        let places = self
            .visits
            .iter()
            .map(|visit| graph.place(&visit.node_name));
        if self.visits.len() > ON_STACK {
            return use_them(&places.collect::<Vec<_>>());
        }
        let mut buffer = [None; ON_STACK];
        for (slot, place) in buffer.iter_mut().zip(places) {
            *slot = place;
        }
        use_them(&buffer[..self.visits.len()])
    }

    /// True while a join (`FlowGraph::join_inputs`) has taken fewer of the trace's messages
    /// than it has inbound edges: it emits once every branch's message arrived, so its own
    /// successors are not due yet (the trace waits at its unfinished branch).
    fn join_waiting(&self, visit: &NodeVisit, graph: &FlowGraph) -> bool {
        graph
            .join_inputs(&visit.node_name)
            .is_some_and(|inputs| (visit.successes as usize) < inputs)
    }

    /// True when the message `node` sent to `successor` has not been taken there: the
    /// successor was never reached, or it is a join that took fewer of the trace's messages
    /// than the nodes feeding it sent (one per inbound edge that succeeded).
    fn not_taken(&self, successor: &str, graph: &FlowGraph) -> bool {
        let Some(visit) = self.visits.iter().find(|v| &*v.node_name == successor) else {
            return true;
        };
        if graph.join_inputs(successor).is_none() {
            return false;
        }
        let sent = graph
            .predecessors(successor)
            .iter()
            .filter(|from| {
                self.visits
                    .iter()
                    .any(|v| &*v.node_name == **from && v.succeeded())
            })
            .count();
        (visit.successes as usize) < sent
    }

    /// A node that succeeded but that the trace never went past: a branch every trace takes
    /// (of a node that fans out) was not reached, or none of its successors took its message
    /// (a router's alternatives; a join that took fewer messages than its inputs sent). Where
    /// a message is waiting in a queue, or was lost. The latest such. A join still waiting for
    /// a branch is not one: it has nothing to send yet.
    pub fn dangling(&self, graph: &FlowGraph) -> Option<&NodeVisit> {
        self.with_places(graph, |places| self.dangling_among(graph, places))
    }

    /// `dangling`, with each visit's place (`places`) looked up already.
    fn dangling_among(
        &self,
        graph: &FlowGraph,
        places: &[Option<&NodePlace>],
    ) -> Option<&NodeVisit> {
        self.visits
            .iter()
            .zip(places)
            .filter(|(visit, _)| visit.succeeded() && !self.join_waiting(visit, graph))
            .filter(|(_, place)| {
                let Some(place) = place else {
                    return false; // no successors: nothing it could be waiting at
                };
                // Walked twice rather than collected: this runs for every visit of every
                // trace settled.
                let successors = || place.successors.iter().filter(|s| s.node_name != EGRESS);
                let reached = |s: &Successor| !self.not_taken(&s.node_name, graph);
                let branch_missing = place.fans_out
                    && successors().any(|s| s.share >= REQUIRED_BRANCH_SHARE && !reached(s));
                let stuck = successors().next().is_some() && !successors().any(reached);
                branch_missing || stuck
            })
            .map(|(visit, _)| visit)
            .max_by_key(|visit| visit.success_ts())
    }

    /// The failure category: of the terminal event for failed traces, of the status for
    /// cancelled and skipped ones, of the last unresolved failure for traces in flight.
    pub fn category(&self, status: TraceStatus) -> Option<Category> {
        match status {
            TraceStatus::Succeeded => None,
            TraceStatus::Cancelled => Some(Category::Cancel),
            TraceStatus::Failed => self.terminal,
            TraceStatus::DeadlineSkipped => Some(Category::Deadline),
            TraceStatus::InFlight => self.last_failure,
        }
    }

    /// The node where the trace stopped: the latest-ending node whose last event is not a
    /// success, or else `None` (see `dangling` for a message waiting in a queue).
    pub fn stopped_at(&self) -> Option<&NodeVisit> {
        self.visits
            .iter()
            .filter(|visit| visit.last_kind != Kind::NodeSuccess)
            .max_by_key(|visit| visit.last_ts)
    }

    /// The node reached last: the one whose last event is the latest.
    pub fn last_visit(&self) -> Option<&NodeVisit> {
        self.visits.iter().max_by_key(|visit| visit.last_ts)
    }

    /// The node that sent `node` its message: the latest success, before `before` (the node's
    /// first event), of one of its predecessors in the graph; else a predecessor whose success
    /// was logged after it (`ctx.emit` and routers queue the message inside the handler, before
    /// the sender's `node_success`); else the latest earlier success of any node.
    pub fn predecessor_success(
        &self,
        node: &str,
        before: Timestamp,
        graph: &FlowGraph,
    ) -> Option<&NodeVisit> {
        // A node succeeding once per message (fan-out) may have succeeded before `before`
        // even when its last success came after.
        let success_before = |visit: &NodeVisit| {
            visit
                .success_ts()
                .filter(|ts| *ts <= before)
                .or(visit.first_success_ts().filter(|ts| *ts <= before))
        };
        let feeds = |visit: &&NodeVisit| {
            &*visit.node_name != node
                && graph
                    .successors(&visit.node_name)
                    .iter()
                    .any(|successor| successor.node_name == node)
        };
        let earlier = || {
            self.visits
                .iter()
                .filter(move |visit| &*visit.node_name != node && success_before(visit).is_some())
        };
        earlier()
            .filter(feeds)
            .max_by_key(|visit| success_before(visit))
            .or_else(|| {
                self.visits
                    .iter()
                    .filter(feeds)
                    .filter(|visit| visit.first_ts <= before && visit.succeeded())
                    .min_by_key(|visit| visit.first_success_ts())
            })
            .or_else(|| earlier().max_by_key(|visit| success_before(visit)))
    }

    /// The latest success of the trace.
    pub fn last_success(&self) -> Option<&NodeVisit> {
        self.visits
            .iter()
            .filter(|visit| visit.succeeded())
            .max_by_key(|visit| visit.success_ts())
    }

    pub fn retries(&self) -> u64 {
        self.counts.retry
    }

    /// Nodes where a timeout (`Category::Timeout`) or an error (`Category::Error`) was followed
    /// by a success of that node: the (trace, node) pairs `classify` counts as recovered.
    pub fn recovered(&self, category: Category) -> u64 {
        let slot = match category {
            Category::Timeout => 0,
            Category::Error => 1,
            _ => return 0,
        };
        self.visits
            .iter()
            .filter(|visit| visit.recovered(slot))
            .count() as u64
    }

    /// Where the trace stopped, by the rules `find` documents: the next node is the latest-
    /// ending node whose last event is not a success; else, for a trace that did not succeed,
    /// the usual successor of a success the trace never went past (a join still waiting for a
    /// branch is not gone past; a join that has not taken a branch's message holds it) (inferred; of a router's
    /// alternatives, the most common one that took no message sent after this one). The last
    /// success is the latest success on the path to the next node (its graph predecessor),
    /// else the latest success.
    pub fn stop_point(&self, graph: &FlowGraph) -> StopPoint<'_> {
        if let Some(stopped) = self.stopped_at() {
            return StopPoint {
                last_success: self.predecessor_success(&stopped.node_name, stopped.first_ts, graph),
                next: Some(NextStep::Observed(stopped)),
            };
        }
        if self.status(graph) != TraceStatus::Succeeded
            && let Some(dangling) = self.dangling(graph)
        {
            let unreached: Vec<&Successor> = graph
                .successors(&dangling.node_name)
                .iter()
                .filter(|s| s.node_name != EGRESS && self.not_taken(&s.node_name, graph))
                .collect();
            // A router sends each message one way, most often its usual alternative. One that
            // went on to take a message the router sent it after this one (an edge's queue is
            // first in, first out) does not hold it: the message waits at the most common
            // alternative that did not. A fan-out's missing branch stays the first.
            let holds = |s: &&&Successor| {
                graph.fans_out(&dangling.node_name)
                    || dangling.success_ts().is_none_or(|sent| {
                        !graph.took_later(
                            &dangling.node_name,
                            &s.node_name,
                            dangling.instance.as_deref(),
                            sent,
                        )
                    })
            };
            let successor = unreached
                .iter()
                .find(holds)
                .or(unreached.first())
                .map(|s| (*s).clone());
            return StopPoint {
                last_success: Some(dangling),
                next: successor.map(NextStep::Inferred),
            };
        }
        StopPoint {
            last_success: self.last_success(),
            next: None,
        }
    }
}

/// The next node of a stopped trace: one it reached, or the usual successor it never reached.
#[derive(Debug, Clone)]
pub enum NextStep<'a> {
    Observed(&'a NodeVisit),
    Inferred(Successor),
}

impl NextStep<'_> {
    pub fn node_name(&self) -> &str {
        match self {
            NextStep::Observed(visit) => &visit.node_name,
            NextStep::Inferred(successor) => &successor.node_name,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StopPoint<'a> {
    pub last_success: Option<&'a NodeVisit>,
    pub next: Option<NextStep<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A visit is held for every node of every open trace (tens of thousands of traces on a
    /// busy service): its size is a memory budget, not an accident.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_node_visit_stays_at_80_bytes() {
        assert_eq!(std::mem::size_of::<NodeVisit>(), 80);
        assert_eq!(std::mem::size_of::<Option<Name>>(), 8);
    }

    #[test]
    fn a_visit_says_when_its_node_succeeded_and_what_the_success_recovered() {
        let mut summary = TraceSummary::new("t");
        for (ms, kind) in [
            (1, Kind::NodeStart),
            (2, Kind::NodeTimeout),
            (3, Kind::NodeRetry),
            (4, Kind::NodeStart),
            (5, Kind::NodeSuccess),
            (9, Kind::NodeSuccess),
        ] {
            summary.observe(&crate::event::test_event(ms, "t", "score", kind));
        }
        let visit = &summary.visits[0];
        assert_eq!((visit.attempts, visit.retries, visit.successes), (2, 1, 2));
        assert_eq!(visit.first_success_ts(), Some(Timestamp(5_000)));
        assert_eq!(visit.success_ts(), Some(Timestamp(9_000)));
        assert!(visit.recovered(0) && !visit.recovered(1));
        let mut unfinished = TraceSummary::new("u");
        unfinished.observe(&crate::event::test_event(1, "u", "score", Kind::NodeStart));
        assert_eq!(unfinished.visits[0].success_ts(), None);
        assert_eq!(unfinished.visits[0].first_success_ts(), None);
    }
}
