//! The flow graph as the telemetry shows it, learned in one pass: which node follows which.
//!
//! Telemetry has no edges, only events. Within a trace, the first event of a node B (its first
//! `node_start`, or a `deadline_skip`/`trace_cancel_drop` when the work never started) is its
//! *arrival*: a message some node emitted on success reached B. The nodes that had succeeded in
//! the trace before that arrival are B's *candidates*, most recent first. A node logs its
//! `node_success` only after its output is queued, so B may start before its sender's success is
//! logged (`ctx.emit`, a `predicate_router`: both hand over inside the timed handler): an arrival
//! while other nodes of the trace are running waits for the next success among them when no node
//! that succeeded can have sent it: none did, or each had already sent to as many nodes of the
//! trace as it has outgoing edges (its events' `outgoing`). Concurrent branches
//! make the most recent candidate wrong now and then (a sibling branch finished in between), so
//! the choice is made across all traces: a candidate that precedes B in at least
//! `CONSISTENT_SHARE` of B's arrivals is *consistent*; of those, the ones implied through another
//! consistent one are dropped (transitive reduction); each arrival is then credited to its most
//! recent remaining candidate (none: the ingress, `OpenSea`). A fan-in (more messages than
//! first arrivals: a join) also takes its other inputs from nodes that send nowhere else and
//! either consistently precede it or are nearly always followed, in their trace, by a new
//! message at it. A receiver's inbound queue is its senders' outbound queues: arrivals credited
//! to a sender whose outbound queue never held half what the receiver's inbound did go to a
//! candidate whose did and that sends there already or has an out-edge to spare (a fan-out's
//! slow side branch, which starts after its fast sibling's success). A node that no other
//! node follows is a sink and feeds the egress (`Rookery`). Edges carrying less than
//! `MIN_SHARE` both of their source's traffic and of their target's are dropped (a router's
//! rare branch is its target's way in, and stays). `find`, `traces` and `graph` all use this
//! one inference.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::event::TraceMap;
use crate::event::{Event, FastMap, Kind, Name, NameIds, NameMap, Timestamp};

pub const INGRESS: &str = "OpenSea";
pub const EGRESS: &str = "Rookery";
/// An edge must carry this share of its source's outgoing traffic, or of its target's incoming
/// traffic, to count as part of the flow.
const MIN_SHARE: f64 = 0.05;
/// A node fans out when the shares of its successors (the egress aside) add up to more than
/// this: each of its traces goes on to several of them. A router's alternatives share its
/// traces (each takes one), so theirs add up to one however dominant one of them is (a cache
/// hit in 95% of requests); the slack is for arrivals credited to the wrong sender.
const FAN_OUT_SHARES: f64 = 1.1;
/// Traces that must have left a node through its successors to tell a router from a fan-out.
const ROUTER_EVIDENCE_TRACES: u64 = 10;
/// Arrivals an instance (`node_id`) must have taken before what feeds it tells it apart from
/// its name's other instances (a restarted process that served a few messages, all through a
/// router's rare branch, is not another flow's node).
const NAMESAKE_EVIDENCE_ARRIVALS: u64 = 10;
/// A branch its sender takes in at most this share of its traces is routed to (see
/// `respect_rejoins`).
const ROUTED_BRANCH_SHARE: f64 = 0.5;
/// Second messages of a trace a node must have taken before another input of it is looked for.
const SECOND_INPUT_EVIDENCE: u64 = 10;
/// An inbound queue this deep is evidence of who feeds it (see `respect_queue_depths`).
const MIN_DEPTH_EVIDENCE: i64 = 4;
/// A candidate preceding a node's arrival this often is part of the node's usual path.
const CONSISTENT_SHARE: f64 = 0.9;
/// Separates an arrival's candidates that had succeeded from those still running.
const RUNNING_MARK: &str = "";
/// At most this many recent candidates are remembered per arrival.
const MAX_CANDIDATES: usize = 8;
/// A trace with no event for this long (log time) is taken as finished, bounding memory.
const IDLE_TRACE_MICROS: i64 = 10 * 60 * 1_000_000;

/// PenguiFlow's ingress and egress endpoints are not nodes of the user's flow.
pub fn is_endpoint(node: &str) -> bool {
    node == INGRESS || node == EGRESS
}

/// The candidates of an arrival that had succeeded (before `RUNNING_MARK`).
fn succeeded_part(candidates: &[Name]) -> &[Name] {
    let end = candidates
        .iter()
        .position(|c| &**c == RUNNING_MARK)
        .unwrap_or(candidates.len());
    &candidates[..end]
}

/// True for the events that mean a node received a message of the trace. A remote call's
/// events are steps inside an attempt already begun (and must not end it: a streaming
/// RemoteNode sends each chunk on while it runs).
fn is_arrival(kind: &Kind) -> bool {
    !matches!(
        kind,
        Kind::NodeCancelled | Kind::TraceCancelStart | Kind::TraceCancelFinish
    ) && !kind.is_remote()
}

/// A node as the learner numbers it: an index into its node table. A flow has a handful of
/// nodes, so walks and counts hold these instead of names (no hashing of names per event, no
/// reference counting, a few bytes per node of a trace).
type NodeId = u32;
/// The node table's first entry: the empty name, which is also `RUNNING_MARK` in candidate
/// lists (as it was when candidates were names: a node named "" reads as the mark).
const MARK: NodeId = 0;
/// No node (an `Option<NodeId>` in four bytes).
const NO_NODE: NodeId = NodeId::MAX;
/// A sender instance (`node_id`) as the learner numbers it; `NO_INSTANCE` when unknown.
type InstanceId = u32;
const NO_INSTANCE: InstanceId = InstanceId::MAX;
/// A walk's `expected_pending` when the trace's count of messages is not known.
const PENDING_UNKNOWN: i16 = -1;
/// A walk node's `pending` when its success logged no `trace_pending`.
const NO_PENDING: u8 = u8::MAX;

/// The candidates of an arrival that had succeeded (before `MARK`).
fn succeeded_ids(candidates: &[NodeId]) -> &[NodeId] {
    let end = candidates
        .iter()
        .position(|c| *c == MARK)
        .unwrap_or(candidates.len());
    &candidates[..end]
}

/// A node of one trace's walk: the lists a walk keeps (nodes reached, succeeded, running,
/// streaming, awaiting their next message) as flags and the order of entry into each, and the
/// node as a sender. The order numbers come from one counter per walk, so sorting by them
/// gives each list in the order it was built.
#[derive(Debug, Clone)]
struct WalkNode {
    /// When its latest success was logged (with `instance`), if `has_success`.
    success_at: Timestamp,
    node: NodeId,
    /// Order of its latest success among the successes of the trace; 0: none yet.
    succeeded: u32,
    /// Order in which its current attempt started; 0: not running.
    running: u32,
    /// Order in which it began streaming in its current attempt; 0: not streaming.
    streaming: u32,
    /// The distinct nodes of the trace it sent to so far (arrivals whose likeliest sender,
    /// their first candidate, it was).
    sent: u8,
    /// The out-degree its events of this trace reported (`outgoing`, at most 255; 0: none):
    /// read from the trace itself, not from the other traces seen so far, so that a walk
    /// counts the same whichever traces came before it (and on whichever worker).
    outgoing: u8,
    /// The instance (`node_id`) of its latest success.
    instance: InstanceId,
    /// The trace's messages still in the system at its latest success (`trace_pending`, at
    /// most 254; `NO_PENDING`: not logged): one more than usual where it sent one more
    /// message. Bytes (`sent` too) keep the walk's nodes at 40 bytes.
    pending: u8,
    /// The instance (`node_id`) the trace first reached it in: which worker took its message.
    arrived: InstanceId,
    /// The trace reached it (it is not merely a sender).
    reached: bool,
    /// The trace's messages enqueued before its current attempt started (the walk's
    /// `enqueued`, as it was then).
    enqueued_at_start: u8,
    /// No message of the trace was enqueued from its latest start to its success (the walk's
    /// `enqueued` did not move): it sent nothing, by `ctx.emit` or by returning, in that run.
    /// A sink's success looks like a sender's to a node that starts after it (a fan-out's
    /// slower branch, whose message had waited behind the trace's other work), and only the
    /// trace's count of messages tells them apart: `q_depth_out` does not (a `ctx.emit`
    /// handler's message can be taken before its success is logged).
    silent: bool,
    /// Its latest success no new message of the trace has followed yet.
    awaiting_next: bool,
    has_success: bool,
}

/// An arrival waiting for the success of a node that was running when it came: the arriving
/// node, and those running nodes.
type Waiting = (NodeId, Vec<NodeId>);

/// The walk of one trace through the flow: the nodes it reached and the nodes that succeeded,
/// most recent success last. Memory is bounded by the number of nodes the trace touched.
#[derive(Debug, Clone)]
pub struct TraceWalk {
    /// The nodes of the trace (see `WalkNode`), in order of first arrival.
    nodes: Vec<WalkNode>,
    /// Arrivals waiting for the success of a node that was running when they came (their
    /// likely sender): the arriving node, and those running nodes.
    /// Boxed, and none most of the time: a walk is held for every trace in flight, and the
    /// box takes 8 bytes of it where the vector took 24.
    #[allow(clippy::box_collection)]
    waiting: Option<Box<Vec<Waiting>>>,
    /// The last order number given out.
    order: u32,
    /// The node that succeeded last, until another node starts: a cycle shows as its next
    /// start being a node the trace already reached (`NO_NODE`: none).
    awaiting_follower: NodeId,
    /// The node whose first message in the trace was the trace's last event (`NO_NODE`:
    /// none): a node running then whose success is the very next event handed it over.
    just_arrived: NodeId,
    /// The trace's messages seen enqueued so far (saturating), and how many it should have
    /// pending after its last event were none enqueued since (`PENDING_UNKNOWN`: not known).
    enqueued: u8,
    expected_pending: i16,
    pub last_ts: Timestamp,
}

/// The learner's counts over all traces, by node id.
#[derive(Debug)]
struct Counts {
    nodes: NameIds,
    instances: NameIds,
    /// For each node, how often each candidate list preceded its arrival.
    arrivals: Vec<FastMap<Vec<NodeId>, u64>>,
    /// For each node, the number of traces in which it succeeded.
    succeeded_traces: Vec<u64>,
    /// For each node, its successes, and how often the next start in its trace was each node
    /// the trace had already reached (a back edge: the message went round again).
    successes: Vec<u64>,
    follows: FastMap<(NodeId, NodeId), u64>,
    /// For each node, how often the next new message of its trace after one of its successes
    /// started at each other node.
    next_starts: FastMap<(NodeId, NodeId), u64>,
    /// For each node, its successes that began a wait for the next new message of their trace
    /// (`next_starts`): a run of successes with no new message at another node in between (a
    /// node working off several messages of one trace, a `ctx.emit` fan-out's) is one.
    awaited: Vec<u64>,
    /// The out-degree each node's events report (`outgoing`).
    outgoing: Vec<Option<i64>>,
    /// The deepest inbound and outbound queues each node's events report (`q_depth_in`,
    /// `q_depth_out`), when they report them.
    deepest_in: Vec<Option<i64>>,
    deepest_out: Vec<Option<i64>>,
    /// Messages each node took (first attempts), over all traces.
    messages: Vec<u64>,
    /// Each node's successes that logged a message on its outbound queues (`q_depth_out` 1
    /// or more: the runtime logs the success before any receiver can take what it emitted).
    emitting: Vec<u64>,
    /// The sum and number of `trace_pending` readings at each node's successes, and at the
    /// successes of a sender credited with an arrival, by (sender, receiver).
    pending: Vec<(u64, u64)>,
    sent_pending: FastMap<(NodeId, NodeId), (u64, u64)>,
    /// For each (running node, receiver): the receiver's first messages in a trace that were
    /// the trace's event right before the running node's success (a hand-over: a router's or
    /// `ctx.emit`'s message taken before the sender's success is logged).
    handovers: FastMap<(NodeId, NodeId), u64>,
    /// For each sender, receiver and sender instance (`node_id`): the latest send (the
    /// sender's success) of a message the receiver took.
    latest_sends: FastMap<(NodeId, NodeId, InstanceId), Timestamp>,
    /// For each receiver, receiver instance (`node_id`) and likeliest sender (`NO_NODE`: the
    /// ingress): the arrivals it took. Two flows in one process can each have a node of the
    /// same name; their node_ids are then fed by different predecessors.
    instance_senders: FastMap<(NodeId, InstanceId, NodeId), u64>,
    /// Reused buffers: an arrival's candidates, and a walk's nodes by order number.
    candidates: Vec<NodeId>,
    by_order: Vec<(u32, NodeId)>,
}

impl Default for Counts {
    fn default() -> Counts {
        let mut counts = Counts {
            nodes: NameIds::default(),
            instances: NameIds::default(),
            arrivals: Vec::new(),
            succeeded_traces: Vec::new(),
            successes: Vec::new(),
            follows: FastMap::default(),
            next_starts: FastMap::default(),
            awaited: Vec::new(),
            outgoing: Vec::new(),
            deepest_in: Vec::new(),
            deepest_out: Vec::new(),
            messages: Vec::new(),
            emitting: Vec::new(),
            pending: Vec::new(),
            sent_pending: FastMap::default(),
            handovers: FastMap::default(),
            latest_sends: FastMap::default(),
            instance_senders: FastMap::default(),
            candidates: Vec::new(),
            by_order: Vec::new(),
        };
        let mark = counts.node(&Name::from(RUNNING_MARK));
        debug_assert_eq!(mark, MARK);
        counts
    }
}

impl Counts {
    /// The id of a node, its counts made room for.
    fn node(&mut self, name: &Name) -> NodeId {
        let (id, new) = self.nodes.intern(name);
        if new {
            self.arrivals.push(FastMap::default());
            self.succeeded_traces.push(0);
            self.successes.push(0);
            self.awaited.push(0);
            self.outgoing.push(None);
            self.deepest_in.push(None);
            self.deepest_out.push(None);
            self.messages.push(0);
            self.emitting.push(0);
            self.pending.push((0, 0));
        }
        id
    }

    fn instance(&mut self, name: Option<&Name>) -> InstanceId {
        name.map_or(NO_INSTANCE, |name| self.instances.intern(name).0)
    }

    /// Counts an arrival at `node` (its instance `arrived`) after the candidates in
    /// `self.candidates`, from its likeliest sender `sender` (`NO_NODE`: the ingress); `sent`:
    /// when that sender logged its success, by which instance.
    fn count_arrival(
        &mut self,
        node: NodeId,
        arrived: InstanceId,
        sender: NodeId,
        sent: Option<(Timestamp, InstanceId)>,
    ) {
        if arrived != NO_INSTANCE {
            *self
                .instance_senders
                .entry((node, arrived, sender))
                .or_default() += 1;
        }
        if let (Some((at, instance)), Some(sender)) =
            (sent, succeeded_ids(&self.candidates).first())
        {
            let latest = self
                .latest_sends
                .entry((*sender, node, instance))
                .or_insert(at);
            *latest = (*latest).max(at);
        }
        let patterns = &mut self.arrivals[node as usize];
        match patterns.get_mut(self.candidates.as_slice()) {
            Some(count) => *count += 1,
            None => {
                patterns.insert(self.candidates.clone(), 1);
            }
        }
    }

    /// The counts as names, for the inference.
    fn learned(&self) -> Learned {
        let name = |id: NodeId| self.nodes.name(id).clone();
        let present = |counts: &[u64]| -> NameMap<u64> {
            counts
                .iter()
                .enumerate()
                .filter(|(_, count)| **count > 0)
                .map(|(id, count)| (name(id as NodeId), *count))
                .collect()
        };
        // Each node's value where its events reported one.
        let reported = |values: &[Option<i64>]| -> NameMap<i64> {
            values
                .iter()
                .enumerate()
                .filter_map(|(id, value)| value.map(|value| (name(id as NodeId), value)))
                .collect()
        };
        let pairs = |counts: &FastMap<(NodeId, NodeId), u64>| {
            let mut by_node: NameMap<FastMap<Name, u64>> = NameMap::default();
            for ((from, to), count) in counts {
                by_node
                    .entry(name(*from))
                    .or_default()
                    .insert(name(*to), *count);
            }
            by_node
        };
        Learned {
            arrivals: self
                .arrivals
                .iter()
                .enumerate()
                .filter(|(_, patterns)| !patterns.is_empty())
                .map(|(node, patterns)| {
                    let patterns = patterns
                        .iter()
                        .map(|(candidates, count)| {
                            (candidates.iter().map(|c| name(*c)).collect(), *count)
                        })
                        .collect();
                    (name(node as NodeId), patterns)
                })
                .collect(),
            succeeded_traces: present(&self.succeeded_traces),
            successes: present(&self.successes),
            follows: pairs(&self.follows),
            next_starts: pairs(&self.next_starts),
            awaited: present(&self.awaited),
            outgoing: reported(&self.outgoing),
            deepest_in: reported(&self.deepest_in),
            deepest_out: reported(&self.deepest_out),
            messages: present(&self.messages),
            emitting: present(&self.emitting),
            pending: self
                .pending
                .iter()
                .enumerate()
                .filter(|(_, (_, readings))| *readings > 0)
                .map(|(id, reading)| (name(id as NodeId), *reading))
                .collect(),
            sent_pending: self
                .sent_pending
                .iter()
                .map(|((from, to), reading)| ((name(*from), name(*to)), *reading))
                .collect(),
            handovers: self
                .handovers
                .iter()
                .map(|((from, to), count)| ((name(*from), name(*to)), *count))
                .collect(),
            latest_sends: self
                .latest_sends
                .iter()
                .map(|((from, to, instance), at)| {
                    let instance =
                        (*instance != NO_INSTANCE).then(|| self.instances.name(*instance).clone());
                    ((name(*from), name(*to), instance), *at)
                })
                .collect(),
            instance_senders: self
                .instance_senders
                .iter()
                .map(|((to, instance, from), count)| {
                    let from = if *from == NO_NODE {
                        Name::from(INGRESS)
                    } else {
                        name(*from)
                    };
                    let instance = self.instances.name(*instance).clone();
                    ((name(*to), instance, from), *count)
                })
                .collect(),
        }
    }
}

impl Default for TraceWalk {
    fn default() -> TraceWalk {
        TraceWalk {
            nodes: Vec::new(),
            waiting: None,
            order: 0,
            awaiting_follower: NO_NODE,
            just_arrived: NO_NODE,
            enqueued: 0,
            expected_pending: PENDING_UNKNOWN,
            // Before any time: a walk of a log dated before 1970 must still go idle.
            last_ts: Timestamp(i64::MIN),
        }
    }
}

impl TraceWalk {
    fn find(&self, node: NodeId) -> Option<usize> {
        self.nodes.iter().position(|n| n.node == node)
    }

    fn get(&self, node: NodeId) -> Option<&WalkNode> {
        self.nodes.iter().find(|n| n.node == node)
    }

    /// The walk's entry for `node`, made if new (not yet reached).
    fn entry(&mut self, node: NodeId) -> &mut WalkNode {
        match self.find(node) {
            Some(index) => &mut self.nodes[index],
            None => {
                self.nodes.push(WalkNode {
                    success_at: Timestamp::default(),
                    node,
                    succeeded: 0,
                    running: 0,
                    streaming: 0,
                    sent: 0,
                    outgoing: 0,
                    instance: NO_INSTANCE,
                    pending: NO_PENDING,
                    arrived: NO_INSTANCE,
                    reached: false,
                    enqueued_at_start: 0,
                    silent: false,
                    awaiting_next: false,
                    has_success: false,
                });
                self.nodes.last_mut().expect("just pushed")
            }
        }
    }

    /// The arrivals waiting for their sender's success, taken out.
    fn take_waiting(&mut self) -> Vec<Waiting> {
        self.waiting
            .take()
            .map(|waiting| *waiting)
            .unwrap_or_default()
    }

    fn next_order(&mut self) -> u32 {
        self.order += 1;
        self.order
    }

    /// True when `node` succeeded in this trace.
    fn has_succeeded(&self, node: NodeId) -> bool {
        self.get(node).is_some_and(|n| n.succeeded > 0)
    }

    /// Follows one event of the trace (`node`: its node, `None` for none or an endpoint) and
    /// counts what it settles: its own arrival, if it is the first event of a node in this
    /// trace, and any that waited for this success; the back edge it shows, if any; the
    /// (success, next new message) pairs it completes.
    fn observe(&mut self, event: &Event, node: Option<NodeId>, counts: &mut Counts) {
        self.last_ts = self.last_ts.max(event.ts);
        let arrived_just_before = std::mem::replace(&mut self.just_arrived, NO_NODE);
        self.count_enqueued(event);
        let Some(node) = node else {
            return;
        };
        let outgoing = event
            .outgoing()
            .map_or(0, |outgoing| outgoing.clamp(0, i64::from(u8::MAX)) as u8);
        // The node's entry, looked up once for what this event reads of it.
        let (running, streaming, reached_before) = match self.find(node) {
            Some(index) => {
                let known = &mut self.nodes[index];
                known.outgoing = known.outgoing.max(outgoing);
                (known.running > 0, known.streaming > 0, known.reached)
            }
            None => (false, false, false),
        };
        if event.kind == Kind::NodeSuccess
            && arrived_just_before != NO_NODE
            && arrived_just_before != node
            && running
        {
            *counts
                .handovers
                .entry((node, arrived_just_before))
                .or_default() += 1;
        }
        if !is_arrival(&event.kind) {
            if event.kind == Kind::RemoteStreamEvent && running && !streaming {
                let order = self.next_order();
                self.entry(node).streaming = order;
            }
            return;
        }
        let first_attempt = event.kind == Kind::NodeStart && event.attempt().unwrap_or(0) == 0;
        if first_attempt {
            // A new message at `node`: the next start after each success still awaiting one
            // (a node's own next message is not what its success led to).
            for from in &mut self.nodes {
                if from.awaiting_next && from.node != node {
                    from.awaiting_next = false;
                    *counts.next_starts.entry((from.node, node)).or_default() += 1;
                }
            }
        }
        if first_attempt {
            let from = std::mem::replace(&mut self.awaiting_follower, NO_NODE);
            if from != NO_NODE && reached_before && from != node {
                *counts.follows.entry((from, node)).or_default() += 1;
            }
        }
        if !reached_before {
            let arrived = counts.instance(event.node_id.as_ref());
            let entry = self.entry(node);
            entry.reached = true;
            entry.arrived = arrived;
            entry.outgoing = entry.outgoing.max(outgoing);
            self.just_arrived = node;
            // Running nodes (other than this one) may have sent it.
            let senders = self.nodes.iter().any(|n| n.running > 0 && n.node != node);
            // No node that succeeded can still send to a new node (none did, or each already
            // sent to as many nodes as it has edges): a running node sent it, and its success
            // is logged later (`ctx.emit`, a router).
            let spent = self
                .nodes
                .iter()
                .filter(|n| n.succeeded > 0)
                .all(Self::spent);
            // A node streaming chunks is the likeliest sender: the arrival is settled now,
            // with it as its most recent candidate (see `arrival`).
            let streaming = self.nodes.iter().any(|n| n.streaming > 0 && n.node != node);
            if spent && senders && !streaming {
                let running = self.in_order(|n| n.running, counts);
                let senders = running.into_iter().filter(|n| *n != node).collect();
                self.waiting
                    .get_or_insert_with(Default::default)
                    .push((node, senders));
            } else {
                self.arrival(node, counts);
                // A node that sent nothing while it ran (`silent`) sent nothing this arrival,
                // which came after its success, can have taken.
                if self.nodes.iter().any(|n| n.silent) {
                    let succeeded = succeeded_ids(&counts.candidates).len();
                    let mut kept = 0;
                    for index in 0..counts.candidates.len() {
                        let candidate = counts.candidates[index];
                        let keep =
                            index >= succeeded || !self.get(candidate).is_some_and(|n| n.silent);
                        if keep {
                            counts.candidates[kept] = candidate;
                            kept += 1;
                        }
                    }
                    counts.candidates.truncate(kept);
                }
                self.sent_by(node, counts);
            }
        }
        let enqueued = self.enqueued;
        let (started, enqueued_at_start) = self
            .get(node)
            .map_or((false, 0), |n| (n.running > 0, n.enqueued_at_start));
        match event.kind {
            Kind::NodeStart => {
                let entry = self.entry(node);
                if entry.running == 0 {
                    entry.enqueued_at_start = enqueued;
                    let order = self.next_order();
                    self.entry(node).running = order;
                }
            }
            Kind::NodeRetry => {}
            _ => {
                let entry = self.entry(node);
                entry.running = 0;
                entry.streaming = 0;
            }
        }
        if event.kind == Kind::NodeSuccess {
            // Each node once, at the position of its latest success.
            let order = self.next_order();
            let instance = counts.instance(event.node_id.as_ref());
            let entry = self.entry(node);
            entry.succeeded = order;
            entry.success_at = event.ts;
            entry.instance = instance;
            entry.pending = event
                .trace_pending()
                .filter(|pending| *pending >= 0)
                .map_or(NO_PENDING, |pending| {
                    pending.min(i64::from(NO_PENDING) - 1) as u8
                });
            entry.has_success = true;
            entry.silent = started && enqueued < u8::MAX && enqueued == enqueued_at_start;
            if self
                .waiting
                .as_ref()
                .is_some_and(|waiting| waiting.iter().any(|(_, senders)| senders.contains(&node)))
            {
                let (settled, still): (Vec<_>, Vec<_>) = self
                    .take_waiting()
                    .into_iter()
                    .partition(|(_, senders)| senders.contains(&node));
                self.waiting = (!still.is_empty()).then(|| Box::new(still));
                for (waiting, _) in &settled {
                    self.arrival(*waiting, counts);
                    self.sent_by(*waiting, counts);
                }
            }
            self.awaiting_follower = node;
            let entry = self.entry(node);
            if !entry.awaiting_next {
                entry.awaiting_next = true;
                counts.awaited[node as usize] += 1;
            }
        }
    }

    /// Counts the trace's messages enqueued since its last event: `trace_pending` counts
    /// them until the node that took each is done with it, right after its success is
    /// logged; a rise over what the last event left is messages sent since. Any reading below
    /// that (a message finished another way) or none leaves the count unknown from then on.
    fn count_enqueued(&mut self, event: &Event) {
        let pending = event
            .trace_pending()
            .filter(|p| (0..i64::from(i16::MAX)).contains(p));
        match pending {
            Some(pending)
                if self.expected_pending != PENDING_UNKNOWN
                    || (self.enqueued == 0 && self.order == 0) =>
            {
                let pending = pending as i16;
                let rise = pending - self.expected_pending.max(0);
                if self.order > 0 && rise < 0 {
                    self.expected_pending = PENDING_UNKNOWN;
                    self.enqueued = u8::MAX;
                    return;
                }
                if self.order > 0 {
                    self.enqueued = self.enqueued.saturating_add(rise.min(255) as u8);
                }
                self.expected_pending = pending - i16::from(event.kind == Kind::NodeSuccess);
            }
            _ => {
                self.expected_pending = PENDING_UNKNOWN;
                self.enqueued = u8::MAX;
            }
        }
    }

    /// The ids of the walk's nodes that `order` gives an order number, in that order.
    fn in_order(&self, order: impl Fn(&WalkNode) -> u32, counts: &mut Counts) -> Vec<NodeId> {
        let by_order = &mut counts.by_order;
        by_order.clear();
        by_order.extend(
            self.nodes
                .iter()
                .filter(|n| order(n) > 0)
                .map(|n| (order(n), n.node)),
        );
        by_order.sort_unstable();
        by_order.iter().map(|(_, node)| *node).collect()
    }

    /// The arrival of `node`, into `counts.candidates`: the nodes that succeeded before it,
    /// most recent first, then (after `MARK`) the nodes still running: a handler that emits
    /// with `ctx.emit` queues its output before its own success is logged. Running nodes are
    /// only fallbacks: a sibling branch still running says nothing of the sender. A node
    /// streaming a remote call's chunks has sent, and sends still: it comes first, as the most
    /// recent.
    fn arrival(&self, node: NodeId, counts: &mut Counts) {
        let candidates = &mut counts.candidates;
        candidates.clear();
        let by_order = &mut counts.by_order;
        // Streaming nodes in the order they began, then the other nodes that succeeded, most
        // recent first.
        by_order.clear();
        by_order.extend(
            self.nodes
                .iter()
                .filter(|n| n.streaming > 0 && n.node != node)
                .map(|n| (n.streaming, n.node)),
        );
        by_order.sort_unstable();
        candidates.extend(by_order.iter().map(|(_, n)| *n).take(MAX_CANDIDATES));
        if candidates.len() < MAX_CANDIDATES {
            by_order.clear();
            by_order.extend(
                self.nodes
                    .iter()
                    .filter(|n| n.succeeded > 0 && n.streaming == 0 && n.node != node)
                    .map(|n| (n.succeeded, n.node)),
            );
            by_order.sort_unstable_by(|a, b| b.cmp(a));
            let room = MAX_CANDIDATES - candidates.len();
            candidates.extend(by_order.iter().map(|(_, n)| *n).take(room));
        }
        by_order.clear();
        by_order.extend(
            self.nodes
                .iter()
                .filter(|n| n.running > 0 && n.node != node && n.succeeded == 0 && n.streaming == 0)
                .map(|n| (n.running, n.node)),
        );
        if !by_order.is_empty() {
            by_order.sort_unstable();
            candidates.push(MARK);
            candidates.extend(by_order.iter().map(|(_, n)| *n).take(MAX_CANDIDATES));
        }
    }

    /// True when `node` already sent to as many nodes of this trace as it has outgoing edges,
    /// or sent nothing at all in its latest run (`silent`): it cannot be the sender of another
    /// node's first message that comes after its success.
    fn spent(node: &WalkNode) -> bool {
        node.silent || (node.outgoing > 0 && node.sent >= node.outgoing)
    }

    /// Counts the arrival of `node` in `counts.candidates` as sent by its likeliest sender
    /// (its first candidate), with when that sender's success was logged.
    fn sent_by(&mut self, node: NodeId, counts: &mut Counts) {
        let candidates = &counts.candidates;
        let succeeded = succeeded_ids(candidates);
        let sender = succeeded
            .first()
            .or_else(|| candidates.get(succeeded.len() + 1))
            .copied();
        let mut sent = None;
        if let Some(sender) = sender {
            let succeeded = !succeeded.is_empty();
            let sender_id = sender;
            let sender = self.entry(sender);
            sender.sent = sender.sent.saturating_add(1);
            if succeeded && sender.has_success {
                sent = Some((sender.success_at, sender.instance));
                if sender.pending != NO_PENDING {
                    let (sum, readings) = counts.sent_pending.entry((sender_id, node)).or_default();
                    *sum += u64::from(sender.pending);
                    *readings += 1;
                }
            }
        }
        let arrived = self.get(node).map_or(NO_INSTANCE, |n| n.arrived);
        counts.count_arrival(node, arrived, sender.unwrap_or(NO_NODE), sent);
    }

    /// Settles the arrivals still waiting (the trace ended) with the successes seen so far.
    /// One that waited for a running sender whose success never came (the log ends, the
    /// handler hangs) is credited to it: the nodes that succeeded had all sent what they
    /// could, so they are left out of its candidates.
    fn settle_waiting(&mut self, counts: &mut Counts) {
        let waiting = self.take_waiting();
        for (node, _) in &waiting {
            self.arrival(*node, counts);
            let succeeded = succeeded_ids(&counts.candidates).len();
            if succeeded < counts.candidates.len() {
                let mut kept = 0;
                for index in 0..counts.candidates.len() {
                    let candidate = counts.candidates[index];
                    let keep = index >= succeeded || !self.get(candidate).is_some_and(Self::spent);
                    if keep {
                        counts.candidates[kept] = candidate;
                        kept += 1;
                    }
                }
                counts.candidates.truncate(kept);
            }
            self.sent_by(*node, counts);
        }
    }
}

/// Learns the flow graph from every event of every trace, in one pass.
#[derive(Debug, Default)]
pub struct GraphLearner {
    /// Each trace's walk, by its id's 128 bits (not the decoder's `Name`, which held its pages).
    walks: TraceMap<TraceWalk>,
    counts: Counts,
    clock: WalkClock,
}

/// When idle walks are forgotten, as the log time of trace events goes: a walk with no event
/// for `IDLE_TRACE_MICROS` is settled, looked for every quarter of that. Its own type, so that
/// a router splitting traces among workers tells each of them at the same event as one
/// learner would have.
#[derive(Debug, Clone, Copy)]
pub struct WalkClock {
    newest: Timestamp,
    last_eviction: Timestamp,
}

/// `newest` and `last_eviction` start before any time: at zero (1970), a log dated earlier
/// never moved them, and nothing idle was ever dropped.
impl Default for WalkClock {
    fn default() -> WalkClock {
        WalkClock {
            newest: Timestamp(i64::MIN),
            last_eviction: Timestamp(i64::MIN),
        }
    }
}

impl WalkClock {
    /// Moves to an event of a trace; returns the cutoff when walks whose latest event is
    /// older are now to be settled and forgotten.
    pub fn tick(&mut self, ts: Timestamp) -> Option<i64> {
        self.newest = self.newest.max(ts);
        if self.newest.0.saturating_sub(self.last_eviction.0) > IDLE_TRACE_MICROS / 4 {
            self.last_eviction = self.newest;
            return Some(self.newest.0.saturating_sub(IDLE_TRACE_MICROS));
        }
        None
    }
}

/// The learner's counts by node name: what the inference reads.
#[derive(Debug, Default)]
pub struct Learned {
    /// For each node, how often each candidate list preceded its arrival.
    arrivals: NameMap<FastMap<Vec<Name>, u64>>,
    /// For each node, the number of traces in which it succeeded.
    succeeded_traces: NameMap<u64>,
    /// For each node, its successes, and how often the next start in its trace was each node
    /// the trace had already reached (a back edge).
    successes: NameMap<u64>,
    follows: NameMap<FastMap<Name, u64>>,
    /// For each node, how often the next new message of its trace after one of its successes
    /// started at each other node.
    next_starts: NameMap<FastMap<Name, u64>>,
    /// For each node, its successes that began a wait for the next new message of their trace.
    awaited: NameMap<u64>,
    /// The out-degree each node's events report (`outgoing`).
    outgoing: NameMap<i64>,
    /// The deepest inbound and outbound queues each node's events report.
    deepest_in: NameMap<i64>,
    deepest_out: NameMap<i64>,
    /// Messages each node took (first attempts), over all traces.
    messages: NameMap<u64>,
    /// Each node's successes that logged a message on its outbound queues.
    emitting: NameMap<u64>,
    /// `trace_pending` at each node's successes (sum, readings), and at a sender's successes
    /// by the receiver credited to it.
    pending: NameMap<(u64, u64)>,
    sent_pending: FastMap<(Name, Name), (u64, u64)>,
    /// For each (running node, receiver): the receiver's arrivals right before the running
    /// node's success.
    handovers: FastMap<(Name, Name), u64>,
    /// For each sender, receiver and sender instance (`node_id`): the latest send (the
    /// sender's success) of a message the receiver took.
    latest_sends: FastMap<(Name, Name, Option<Name>), Timestamp>,
    /// For each receiver, receiver instance (`node_id`) and likeliest sender (the ingress
    /// named): the arrivals it took.
    instance_senders: FastMap<(Name, Name, Name), u64>,
}

impl GraphLearner {
    pub fn observe(&mut self, event: &Event) {
        let Some(trace_id) = event.trace_id.as_deref() else {
            return;
        };
        let walk =
            self.walks
                .get_or_insert_with(trace_id, event.keys().hex_trace, TraceWalk::default);
        Self::follow(&mut self.counts, walk, event);
        if let Some(cutoff) = self.clock.tick(event.ts) {
            let counts = &mut self.counts;
            self.walks.retain(|walk| {
                let keep = walk.last_ts.0 >= cutoff;
                if !keep {
                    walk.settle_waiting(counts);
                }
                keep
            });
        }
    }

    /// As `observe`, for a caller that keeps each trace's walk itself (the trace book keeps
    /// it beside the trace's summary: one lookup by trace id per event instead of two), and
    /// its own `WalkClock`: when that says so, the caller is to settle (`settle_walk`) every
    /// walk it keeps with its `last_ts` before the cutoff, and start each of those traces
    /// afresh (`TraceWalk::default()`). `event` must have a trace id, and `walk` is its
    /// trace's.
    pub fn observe_walk(&mut self, walk: &mut TraceWalk, event: &Event) {
        debug_assert!(event.trace_id.is_some());
        Self::follow(&mut self.counts, walk, event);
    }

    fn follow(counts: &mut Counts, walk: &mut TraceWalk, event: &Event) {
        let node = event
            .node_name
            .as_ref()
            .filter(|n| !is_endpoint(n))
            .map(|n| counts.node(n));
        if let Some(node) = node {
            let index = node as usize;
            if event.kind == Kind::NodeSuccess && !walk.has_succeeded(node) {
                counts.succeeded_traces[index] += 1;
            }
            if let Some(outgoing) = event.outgoing()
                && counts.outgoing[index].is_none_or(|known| known < outgoing)
            {
                counts.outgoing[index] = Some(outgoing);
            }
            for (deepest, depth) in [
                (&mut counts.deepest_in[index], event.q_depth_in()),
                (&mut counts.deepest_out[index], event.q_depth_out()),
            ] {
                if let Some(depth) = depth
                    && deepest.is_none_or(|known| known < depth)
                {
                    *deepest = Some(depth);
                }
            }
            if event.kind == Kind::NodeStart && event.attempt().unwrap_or(0) == 0 {
                counts.messages[index] += 1;
            }
            if event.kind == Kind::NodeSuccess {
                counts.successes[index] += 1;
                if event.q_depth_out().is_some_and(|depth| depth > 0) {
                    counts.emitting[index] += 1;
                }
                if let Some(pending) = event.trace_pending().filter(|p| *p >= 0) {
                    let (sum, readings) = &mut counts.pending[index];
                    *sum += pending as u64;
                    *readings += 1;
                }
            }
        }
        walk.observe(event, node, counts);
    }

    /// Settles a walk the caller keeps (see `observe_walk`): its waiting arrivals are counted,
    /// as when the learner forgets a walk of its own.
    pub fn settle_walk(&mut self, walk: &mut TraceWalk) {
        walk.settle_waiting(&mut self.counts);
    }

    /// Settles and forgets the walk of a trace judged finished (its waiting arrivals counted,
    /// as when a walk goes idle).
    pub fn settle_trace(&mut self, trace_id: &str) {
        if let Some(mut walk) = self.walks.remove_id(trace_id) {
            walk.settle_waiting(&mut self.counts);
        }
    }

    /// Forgets the walks of traces `keep` rejects (a sampler narrowing its sample).
    pub fn retain_traces(&mut self, keep: impl Fn(&str) -> bool) {
        self.walks.retain_ids(keep);
    }

    /// The learned graph.
    pub fn finish(mut self) -> FlowGraph {
        for walk in self.walks.values_mut() {
            walk.settle_waiting(&mut self.counts);
        }
        self.graph()
    }

    /// The graph learned so far (arrivals still waiting for their sender are left out).
    pub fn graph(&self) -> FlowGraph {
        self.counts.learned().graph()
    }

    /// The counts so far by node name: one share of a learner split by trace, to be added up
    /// with the others' (`Learned::absorb`) into the graph of them all.
    pub fn learned(&self) -> Learned {
        self.counts.learned()
    }
}

/// The arrivals at `to` credited to `from`.
fn credited_arrivals(credited: &[(&str, &[Name], u64, &str)], to: &str, from: &str) -> u64 {
    credited
        .iter()
        .filter(|(receiver, _, _, sender)| *receiver == to && *sender == from)
        .map(|(_, _, count, _)| count)
        .sum()
}

/// The nodes `node` sends to, as credited so far and by the back edges, sorted, each once.
fn credited_successors(
    credited: &[(&str, &[Name], u64, &str)],
    back_edges: &[((&str, &str), u64)],
    node: &str,
) -> Vec<String> {
    let mut successors: Vec<String> = credited
        .iter()
        .filter(|(_, _, _, from)| *from == node)
        .map(|(to, ..)| to.to_string())
        .chain(
            back_edges
                .iter()
                .filter(|((from, _), _)| *from == node)
                .map(|((_, to), _)| to.to_string()),
        )
        .collect();
    successors.sort();
    successors.dedup();
    successors
}

/// Every node's successors, as credited and by the back edges, sorted, each once: what
/// [`credited_successors`] gives one node, for all of them in one pass (asked node by node
/// while the crediting is re-judged, it was cubic in the nodes of a flow whose node names are
/// generated per request).
fn successors_by_node<'a>(
    credited: &[(&'a str, &[Name], u64, &'a str)],
    back_edges: &[((&'a str, &'a str), u64)],
) -> HashMap<&'a str, Vec<&'a str>> {
    let mut by_node: HashMap<&str, Vec<&str>> = HashMap::new();
    let credits = credited.iter().map(|(to, _, _, from)| (*from, *to));
    let back = back_edges.iter().map(|((from, to), _)| (*from, *to));
    for (from, to) in credits.chain(back) {
        by_node.entry(from).or_default().push(to);
    }
    for successors in by_node.values_mut() {
        successors.sort_unstable();
        successors.dedup();
    }
    by_node
}

/// How many nodes each node sends to (see [`successors_by_node`]).
fn successor_counts<'a>(
    credited: &[(&'a str, &[Name], u64, &'a str)],
    back_edges: &[((&'a str, &'a str), u64)],
) -> HashMap<&'a str, i64> {
    successors_by_node(credited, back_edges)
        .into_iter()
        .map(|(node, successors)| (node, successors.len() as i64))
        .collect()
}

/// Adds `from`'s counts into `into`'s, each key's by `add`.
fn add_counts<K: Eq + std::hash::Hash, V, S: std::hash::BuildHasher>(
    into: &mut std::collections::HashMap<K, V, S>,
    from: std::collections::HashMap<K, V, S>,
    add: impl Fn(&mut V, V),
) {
    for (key, value) in from {
        match into.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut known) => add(known.get_mut(), value),
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(value);
            }
        }
    }
}

impl Learned {
    /// Adds the counts of another share of the traces (a worker's): counts are summed and
    /// maxima (out-degrees, deepest queues, latest sends) kept, so the shares of a pass split
    /// by trace add up to one learner's counts over all their traces, whatever the order.
    pub fn absorb(&mut self, other: Learned) {
        fn sum(into: &mut u64, from: u64) {
            *into += from;
        }
        fn max<T: Ord + Copy>(into: &mut T, from: T) {
            *into = (*into).max(from);
        }
        fn sum_pair(into: &mut (u64, u64), from: (u64, u64)) {
            into.0 += from.0;
            into.1 += from.1;
        }
        fn sum_all<K: Eq + std::hash::Hash>(into: &mut FastMap<K, u64>, from: FastMap<K, u64>) {
            add_counts(into, from, sum);
        }
        add_counts(&mut self.arrivals, other.arrivals, sum_all);
        add_counts(&mut self.succeeded_traces, other.succeeded_traces, sum);
        add_counts(&mut self.successes, other.successes, sum);
        add_counts(&mut self.follows, other.follows, sum_all);
        add_counts(&mut self.next_starts, other.next_starts, sum_all);
        add_counts(&mut self.awaited, other.awaited, sum);
        add_counts(&mut self.outgoing, other.outgoing, max);
        add_counts(&mut self.deepest_in, other.deepest_in, max);
        add_counts(&mut self.deepest_out, other.deepest_out, max);
        add_counts(&mut self.messages, other.messages, sum);
        add_counts(&mut self.emitting, other.emitting, sum);
        add_counts(&mut self.pending, other.pending, sum_pair);
        add_counts(&mut self.sent_pending, other.sent_pending, sum_pair);
        add_counts(&mut self.handovers, other.handovers, sum);
        add_counts(&mut self.latest_sends, other.latest_sends, max);
        add_counts(&mut self.instance_senders, other.instance_senders, sum);
    }

    /// The graph these counts show.
    pub fn graph(&self) -> FlowGraph {
        // Candidates that precede each node's arrival consistently.
        let consistent: HashMap<&str, Vec<&str>> = self
            .arrivals
            .iter()
            .map(|(node, patterns)| {
                let total: u64 = patterns.values().sum();
                let mut support: HashMap<&str, u64> = HashMap::new();
                for (candidates, count) in patterns {
                    for candidate in succeeded_part(candidates) {
                        *support.entry(&**candidate).or_default() += count;
                    }
                }
                let mut preceding: Vec<&str> = support
                    .into_iter()
                    .filter(|(_, count)| *count as f64 >= CONSISTENT_SHARE * total as f64)
                    .map(|(candidate, _)| candidate)
                    .collect();
                preceding.sort();
                (&**node, preceding)
            })
            .collect();
        // The candidate that succeeded last before each node's arrival, when it nearly always
        // is the same node: the message's sender, whatever else came before.
        let last_before: HashMap<&str, &str> = self
            .arrivals
            .iter()
            .filter_map(|(node, patterns)| {
                let total: u64 = patterns.values().sum();
                let mut firsts: HashMap<&str, u64> = HashMap::new();
                for (candidates, count) in patterns {
                    if let Some(first) = succeeded_part(candidates).first() {
                        *firsts.entry(&**first).or_default() += count;
                    }
                }
                firsts
                    .into_iter()
                    .find(|(_, count)| *count as f64 >= CONSISTENT_SHARE * total as f64)
                    .map(|(first, _)| (&**node, first))
            })
            .collect();
        // Transitive reduction: drop A before B when A also consistently precedes another
        // consistent candidate C of B (A -> C -> B), unless A is nearly always the very last
        // success before B (a join node succeeds once per branch: its first success can come
        // before a slow branch starts).
        let immediate = |node: &str| -> Vec<&str> {
            let preceding = consistent.get(node).cloned().unwrap_or_default();
            preceding
                .iter()
                .filter(|a| {
                    last_before.get(node) == Some(*a)
                        || !preceding.iter().any(|c| {
                            c != *a
                                && consistent
                                    .get(c)
                                    .is_some_and(|before_c| before_c.contains(a))
                        })
                })
                .copied()
                .collect()
        };
        let usual: HashMap<&str, Vec<&str>> = self
            .arrivals
            .keys()
            .map(|node| (&**node, immediate(node)))
            .collect();
        // Each arrival pattern credited to one sender: (receiver, candidates, count, sender).
        let mut credited: Vec<(&str, &[Name], u64, &str)> = Vec::new();
        for (node, patterns) in &self.arrivals {
            let usual_here = &usual[&**node];
            // A join after a router: the node's arrivals nearly always come right after one of
            // several branches of its usual predecessor (`a` or `b` after `router`). Then the
            // branch is the sender. A sibling finishing first now and then (fan-out races) does
            // not reach that share and is ignored.
            let after_branch = |candidates: &[Name]| -> Option<usize> {
                let first = succeeded_part(candidates).first()?;
                let is_branch = !usual_here.contains(&&**first)
                    && usual
                        .get(&**first)
                        .is_some_and(|before| before.iter().any(|b| usual_here.contains(b)));
                is_branch.then_some(0)
            };
            let total: u64 = patterns.values().sum();
            let joined: u64 = patterns
                .iter()
                .filter(|(candidates, _)| after_branch(candidates.as_slice()).is_some())
                .map(|(_, count)| count)
                .sum();
            let is_join = joined as f64 >= CONSISTENT_SHARE * total as f64;
            for (candidates, count) in patterns {
                let branch = if is_join {
                    after_branch(candidates.as_slice()).map(|index| &candidates[index])
                } else {
                    None
                };
                let succeeded = succeeded_part(candidates);
                let from = branch
                    .or_else(|| succeeded.iter().find(|c| usual_here.contains(&&***c)))
                    .or_else(|| succeeded.first())
                    .or_else(|| candidates.get(succeeded.len() + 1))
                    .map_or(INGRESS, |candidate| &**candidate);
                credited.push((&**node, candidates.as_slice(), *count, from));
            }
        }
        // In a fixed order, not the arrival maps' (random per process): where two senders
        // compete for one spare sender, `respect_out_degrees` gives it to the first.
        credited.sort_unstable();
        let with_fan_ins = |credited: &[(&str, &[Name], u64, &str)]| {
            let mut back_edges = self.back_edges();
            back_edges.extend(self.fan_in_edges(credited, &consistent));
            back_edges
        };
        let mut back_edges = with_fan_ins(&credited);
        self.respect_out_degrees(&mut credited, &back_edges);
        self.respect_queue_depths(&mut credited, &back_edges);
        if self.respect_handovers(&mut credited, &with_fan_ins) {
            back_edges = with_fan_ins(&credited);
        }
        self.respect_rejoins(&mut credited, &back_edges);
        let mut counts: HashMap<(String, String), u64> = HashMap::new();
        for (node, _, count, from) in &credited {
            *counts
                .entry((from.to_string(), node.to_string()))
                .or_default() += count;
        }
        for ((from, to), count) in &back_edges {
            *counts
                .entry((from.to_string(), to.to_string()))
                .or_default() += count;
        }
        let mut graph = FlowGraph::from_counts(counts, &self.succeeded_traces, &self.emitting);
        graph.left = self
            .succeeded_traces
            .iter()
            .map(|(node, traces)| (node.to_string(), *traces))
            .collect();
        // Nodes no other node follows send their results to the egress. (Here and below, the
        // edges are looked up in sets made once: searched for each node, they made the graph
        // quadratic in a flow of generated node names.)
        let senders: std::collections::HashSet<&str> =
            graph.edges.iter().map(|e| e.from.as_str()).collect();
        let mut sinks: Vec<Edge> = self
            .succeeded_traces
            .iter()
            .filter(|(node, _)| !senders.contains(&***node))
            .map(|(node, traces)| Edge {
                from: node.to_string(),
                to: EGRESS.to_string(),
                traces: *traces,
            })
            .collect();
        graph.edges.append(&mut sinks);
        graph.sort();
        let mut inbound_edges: HashMap<&str, usize> = HashMap::new();
        for edge in &graph.edges {
            *inbound_edges.entry(edge.to.as_str()).or_default() += 1;
        }
        let edge_set: std::collections::HashSet<(&str, &str)> = graph
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        // Joins: nodes taking a message per inbound edge per trace (about as many messages per
        // trace as inbound edges, at least two).
        for (node, patterns) in &self.arrivals {
            let arrivals: u64 = patterns.values().sum();
            let messages = self.messages.get(node).copied().unwrap_or(0);
            let inbound = inbound_edges.get(&**node).copied().unwrap_or(0);
            if inbound >= 2 && (messages as f64) >= 1.5 * arrivals as f64 {
                graph.joins.insert(node.to_string(), inbound);
            }
        }
        for ((from, to, instance), at) in &self.latest_sends {
            if edge_set.contains(&(&**from, &**to)) {
                let instance = instance.as_deref().unwrap_or_default();
                graph.latest_sends.insert(
                    (from.to_string(), to.to_string(), instance.to_string()),
                    *at,
                );
            }
        }
        graph.namesakes = self.namesakes(&graph);
        graph
    }

    /// The names that stand for several nodes: two flows in one process each with a node
    /// called `llm` log one name with two node_ids, and the graph learned by name gives it the
    /// inbound edges of both. The instances (`node_id`s) of a name that share no feeding
    /// predecessor (one carrying `MIN_SHARE` of the instance's arrivals) are different nodes;
    /// those that share one are the same node (its replicas in pods, its runs across restarts).
    /// An instance with fewer than `NAMESAKE_EVIDENCE_ARRIVALS` arrivals is left to the name.
    /// Each node's inbound edges are the name's, less those that feed only its namesakes.
    fn namesakes(&self, graph: &FlowGraph) -> FastMap<String, Namesakes> {
        let mut by_node: BTreeMap<&str, BTreeMap<&str, Senders>> = BTreeMap::new();
        for ((to, instance, from), count) in &self.instance_senders {
            by_node
                .entry(&**to)
                .or_default()
                .entry(&**instance)
                .or_default()
                .push((&**from, *count));
        }
        let mut found = FastMap::default();
        for (node, instances) in by_node {
            if instances.len() < 2 {
                continue;
            }
            let predecessors = graph.predecessors(node);
            // (feeders, instances) of each node of the name.
            let mut groups: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
            for (instance, senders) in instances {
                let total: u64 = senders.iter().map(|(_, count)| count).sum();
                if total < NAMESAKE_EVIDENCE_ARRIVALS {
                    continue;
                }
                let mut feeders: Vec<&str> = senders
                    .iter()
                    .filter(|(from, count)| {
                        predecessors.contains(from) && *count as f64 >= MIN_SHARE * total as f64
                    })
                    .map(|(from, _)| *from)
                    .collect();
                if feeders.is_empty() {
                    continue;
                }
                let mut instances = vec![instance];
                // Every node sharing a feeder with it is the same node.
                let mut index = 0;
                while index < groups.len() {
                    if groups[index].0.iter().any(|f| feeders.contains(f)) {
                        let (more_feeders, more_instances) = groups.swap_remove(index);
                        feeders.extend(more_feeders);
                        instances.extend(more_instances);
                    } else {
                        index += 1;
                    }
                }
                feeders.sort_unstable();
                feeders.dedup();
                groups.push((feeders, instances));
            }
            if groups.len() < 2 {
                continue;
            }
            groups.sort();
            let mut namesakes = Namesakes::default();
            for (index, (feeders, instances)) in groups.iter().enumerate() {
                let foreign = groups
                    .iter()
                    .flat_map(|(theirs, _)| theirs)
                    .filter(|f| !feeders.contains(f))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                namesakes.nodes.push(NamesakeNode {
                    fed_by: feeders.iter().map(|f| f.to_string()).collect(),
                    inbound_edges: predecessors.len().saturating_sub(foreign).max(1),
                });
                for instance in instances {
                    namesakes.instances.insert(instance.to_string(), index);
                }
            }
            found.insert(node.to_string(), namesakes);
        }
        found
    }

    /// Back edges of cycles: a node whose successes are nearly always followed by a new message
    /// at a node its trace already reached (`follows`) sends there (`act -> plan` in a plan/act
    /// loop).
    fn back_edges(&self) -> Vec<((&str, &str), u64)> {
        let mut edges = Vec::new();
        for (from, follows) in &self.follows {
            let successes = self.successes.get(from).copied().unwrap_or(0);
            if let Some((to, count)) = follows.iter().max_by_key(|(_, count)| **count)
                && *count as f64 >= CONSISTENT_SHARE * successes as f64
            {
                edges.push(((&**from, &**to), *count));
            }
        }
        edges
    }

    /// The other inputs of a fan-in: a node that takes more messages per trace than its first
    /// arrivals (a join, a node fed by two branches) also takes them from the nodes that
    /// consistently succeed before it and send to no node otherwise (`profile` beside
    /// `orders` before `merge`), and from the nodes that send to no node otherwise and whose
    /// successes are nearly always followed, in their trace, by a new message at it: a branch
    /// whose message reaches the join after the other branch's (it succeeded after the join's
    /// first arrival, or just before it without preceding it consistently) is not a sink; nor
    /// is a node whose several messages of the trace reach the fan-in, one per success, after
    /// the trace reached it through a faster branch (`split` emitting three to `embed` and one
    /// to `index`, both sending to `store`).
    /// A node its first arrivals lead to (`embed -> store`) is no input of it: several
    /// messages of a trace at one node are also one sender's `ctx.emit` fan-out (`split`
    /// emitting four chunks to `embed`), whose later messages start, already queued, after the
    /// node's successor succeeded for the first ones. A message going round again from
    /// downstream is a cycle, which the back edges learn from what follows that node's
    /// successes.
    fn fan_in_edges<'s>(
        &'s self,
        credited: &[(&str, &[Name], u64, &str)],
        consistent: &HashMap<&'s str, Vec<&'s str>>,
    ) -> Vec<((&'s str, &'s str), u64)> {
        let mut edges = Vec::new();
        // A node sending round a cycle (a back edge) is no fan-in's input; one whose success
        // was now and then followed by a message at a node already reached (the join's second
        // message after a branch's success) may well be.
        let back_edges = self.back_edges();
        for (node, patterns) in &self.arrivals {
            let arrivals: u64 = patterns.values().sum();
            let messages = self.messages.get(node).copied().unwrap_or(0);
            // A second message in some traces only (a node that forwards now and then to a
            // sibling it fans out beside) is a second input as well as a join's.
            let second_messages = messages.saturating_sub(arrivals);
            if (second_messages as f64) < MIN_SHARE * arrivals as f64
                || second_messages < SECOND_INPUT_EVIDENCE
            {
                continue;
            }
            let followed_by_it = self.next_starts.iter().filter_map(|(from, next)| {
                let followed: u64 = next.values().sum();
                let here = next.get(node).copied().unwrap_or(0);
                // Per run of successes, not per success: a node working off several messages
                // of the trace (`embed` taking `split`'s three emits) is followed once per run,
                // by the start of the fan-in's message it queued (behind a backed-up queue,
                // long after the fan-in's first arrival, through a faster branch).
                let awaited = self.awaited.get(from).copied().unwrap_or(0);
                (from != node
                    && here as f64 >= CONSISTENT_SHARE * followed as f64
                    && 2 * followed >= awaited)
                    .then_some(&**from)
            });
            // A second message in some traces only: a node that logged about as many messages
            // on its outbound queues as there are second messages is a candidate too (a fast
            // sibling forwarding one request in ten succeeds before the node's first arrival
            // as often as after it).
            let second_senders = (messages < arrivals.saturating_mul(3) / 2)
                .then(|| {
                    self.emitting.iter().filter_map(|(from, emitted)| {
                        (**from != **node
                            && 2 * emitted >= second_messages
                            && *emitted <= 2 * second_messages)
                            .then_some(&**from)
                    })
                })
                .into_iter()
                .flatten();
            let mut inputs: Vec<&str> = consistent
                .get(&**node)
                .into_iter()
                .flatten()
                .copied()
                .chain(followed_by_it)
                .chain(second_senders)
                .collect();
            inputs.sort();
            inputs.dedup();
            let downstream = downstream_of(credited, node);
            // A second message in some traces only comes from a sibling: a node fed by one of
            // the node's usual senders (any node succeeding before a backed-up node starts
            // precedes it consistently).
            let partial = (messages as f64) < 1.5 * arrivals as f64;
            let usual_sender = |sender: &str| {
                credited_arrivals(credited, node, sender) as f64 >= MIN_SHARE * arrivals as f64
            };
            let sibling = |candidate: &str| {
                credited
                    .iter()
                    .any(|(to, _, _, from)| *to == candidate && usual_sender(from))
            };
            // A router sending some traces' second message (`respond -> {audit | reply}`)
            // sends elsewhere too, within its reported out-edges.
            let spare = |candidate: &str| {
                self.outgoing.get(candidate).is_some_and(|limit| {
                    (credited_successors(credited, &back_edges, candidate).len() as i64) < *limit
                })
            };
            for candidate in inputs {
                let sends = credited.iter().any(|(_, _, _, from)| *from == candidate);
                let follows = back_edges.iter().any(|((from, _), _)| *from == candidate);
                // A sibling sending the second messages had them on its outbound queue when
                // its success was logged, as often as it sent them, nearly.
                let emitted = self.emitting.get(candidate).copied().unwrap_or(0);
                if (!sends || (partial && spare(candidate)))
                    && (!partial || 2 * emitted >= second_messages)
                    && !follows
                    && !downstream.contains(&candidate)
                    && (!partial || sibling(candidate))
                {
                    edges.push(((candidate, &**node), arrivals.min(second_messages)));
                }
            }
        }
        edges
    }

    /// A node sends to at most its `outgoing` nodes. Where the crediting gave a node more
    /// successors than that (a fan-out sibling or a join that finished before a branch
    /// started, a running emitter), the successor that has another candidate sender with room
    /// to spare is credited to it instead.
    /// A receiver's inbound queue is its senders' outbound queues. Arrivals credited to a sender
    /// whose outbound queue never held half what the receiver's inbound did (seen
    /// `MIN_DEPTH_EVIDENCE` deep at least) go to a candidate of theirs whose outbound queue
    /// did, and that either already sends to the receiver or sends to fewer nodes than its
    /// events' `outgoing`: a slow side branch of a fan-out, whose start nearly always comes
    /// after its fast sibling's success, is the fan-out node's, not the sibling's.
    fn respect_queue_depths<'a>(
        &self,
        credited: &mut [(&'a str, &'a [Name], u64, &'a str)],
        back_edges: &[((&str, &str), u64)],
    ) {
        let deepest_out = |node: &str| self.deepest_out.get(node).copied();
        let sends_to = |credited: &[(&str, &[Name], u64, &str)], node: &str| {
            credited_successors(credited, back_edges, node)
        };
        let mut receivers: Vec<&str> = credited.iter().map(|(to, ..)| *to).collect();
        receivers.sort_unstable();
        receivers.dedup();
        for receiver in receivers {
            let Some(deepest_in) = self
                .deepest_in
                .get(receiver)
                .copied()
                .filter(|depth| *depth >= MIN_DEPTH_EVIDENCE)
            else {
                continue;
            };
            let shallow =
                |node: &str| deepest_out(node).is_some_and(|depth| depth * 2 < deepest_in);
            let deep = |node: &str| deepest_out(node).is_some_and(|depth| depth * 2 >= deepest_in);
            // What its usual senders (`MIN_SHARE` of its arrivals at least) could have held:
            // when that falls short, a sender is missing, and a candidate with an out-edge to
            // spare may be it. Otherwise (a join fed mostly through a deep branch, its other
            // inputs shallow) only a candidate already sending there takes arrivals over: an
            // out-edge to spare is often a branch the log never shows.
            let mut by_sender: HashMap<&str, u64> = HashMap::new();
            for (to, _, count, from) in credited.iter() {
                if *to == receiver {
                    *by_sender.entry(from).or_default() += count;
                }
            }
            let arrivals: u64 = by_sender.values().sum();
            let supply: Option<i64> = by_sender
                .iter()
                .filter(|(_, count)| **count as f64 >= MIN_SHARE * arrivals as f64)
                .map(|(sender, _)| deepest_out(sender))
                .sum();
            let sender_missing = supply.is_some_and(|supply| supply * 2 < deepest_in);
            let snapshot: Vec<(&'a str, &'a [Name], u64, &'a str)> = credited.to_vec();
            for entry in credited.iter_mut() {
                if entry.0 != receiver || !shallow(entry.3) {
                    continue;
                }
                let sender = entry.3;
                if let Some(deeper) = succeeded_part(entry.1).iter().find(|candidate| {
                    let candidate = &***candidate;
                    candidate != sender && deep(candidate) && {
                        let theirs = sends_to(&snapshot, candidate);
                        theirs.iter().any(|to| to == receiver)
                            || (sender_missing
                                && self
                                    .outgoing
                                    .get(candidate)
                                    .is_some_and(|limit| (theirs.len() as i64) < *limit))
                    }
                }) {
                    entry.3 = deeper;
                }
            }
        }
    }

    /// Out-edges the nodes' `outgoing` says the crediting left unused: a node reporting `k`
    /// out-edges sends to `k` nodes (a sink to the egress), unless a branch never shows.
    fn unused_out_edges(
        &self,
        credited: &[(&str, &[Name], u64, &str)],
        back_edges: &[((&str, &str), u64)],
    ) -> i64 {
        let successors = successor_counts(credited, back_edges);
        self.outgoing
            .iter()
            .map(|(node, outgoing)| {
                let successors = successors.get(&**node).copied().unwrap_or(0);
                (outgoing - successors.max(1)).max(0)
            })
            .sum()
    }

    /// A router hands its message over before its own success is logged
    /// (`respond -> {audit | reply}`): the receiver starts while it runs, and is credited to a
    /// node that succeeded earlier (`ingest`, which fans out to `respond` and `audit`), whose
    /// out-edge to a backed-up receiver is then left for the router to take. Where a node with
    /// an out-edge to spare was running at nearly every arrival of a receiver, the receiver is
    /// re-credited to it when that leaves fewer of the nodes' reported out-edges unused once
    /// the queue depths are respected again, or leaves no more unused where its success came
    /// right after the receiver's arrival nearly every time (a hand-over's mark); an out-edge
    /// to spare alone is often a branch the log never shows.
    /// True when it re-credited any (the fan-in edges `back_edges` gives are to be redone).
    fn respect_handovers<'a, 's>(
        &self,
        credited: &mut Vec<(&'a str, &'a [Name], u64, &'a str)>,
        back_edges: &impl Fn(&[(&str, &[Name], u64, &str)]) -> Vec<((&'s str, &'s str), u64)>,
    ) -> bool {
        let mut moved = false;
        let running_part = |candidates: &'a [Name]| -> &'a [Name] {
            let succeeded = succeeded_part(candidates).len();
            candidates.get(succeeded + 1..).unwrap_or_default()
        };
        // Each receiver's credits, by place: a move changes only who is credited, so the
        // places, the candidates and the counts stay (a pass over every credit for each
        // receiver was quadratic in the nodes of a flow whose node names are generated).
        let mut by_receiver: HashMap<&str, Vec<usize>> = HashMap::new();
        for (place, (to, ..)) in credited.iter().enumerate() {
            by_receiver.entry(*to).or_default().push(place);
        }
        let mut receivers: Vec<&str> = by_receiver.keys().copied().collect();
        receivers.sort_unstable();
        // The back edges, the successors and the unused out-edges of the crediting as it
        // stands: worked out again only when a move changed it.
        let standing = back_edges(credited);
        let mut successors = successor_counts(credited, &standing);
        let mut unused = self.unused_out_edges(credited, &standing);
        for receiver in receivers {
            let mut total = 0;
            let mut running: HashMap<&'a str, u64> = HashMap::new();
            for &place in &by_receiver[receiver] {
                let (_, candidates, count, _) = credited[place];
                total += count;
                for candidate in running_part(candidates) {
                    *running.entry(&**candidate).or_default() += count;
                }
            }
            let mut handing_over: Vec<&'a str> = running
                .into_iter()
                .filter(|(node, count)| {
                    *count as f64 >= CONSISTENT_SHARE * total as f64
                        && self.outgoing.get(*node).is_some_and(|limit| {
                            successors.get(node).copied().unwrap_or(0) < *limit
                        })
                })
                .map(|(node, _)| node)
                .collect();
            handing_over.sort_unstable();
            for node in handing_over {
                let mut trial = credited.clone();
                for entry in trial.iter_mut() {
                    if entry.0 == receiver && entry.1.iter().any(|c| &**c == node) {
                        entry.3 = node;
                    }
                }
                let edges = back_edges(&trial);
                self.respect_queue_depths(&mut trial, &edges);
                let unused_after = self.unused_out_edges(&trial, &back_edges(&trial));
                // Seen handing over: the receiver's arrival was the trace's event right before
                // the node's success, nearly every time.
                let handed = self
                    .handovers
                    .get(&(Name::from(node), Name::from(receiver)))
                    .is_some_and(|count| *count as f64 >= CONSISTENT_SHARE * total as f64);
                if unused_after < unused || (handed && unused_after <= unused) {
                    *credited = trial;
                    moved = true;
                    successors = successor_counts(credited, &back_edges(credited));
                    unused = unused_after;
                    break;
                }
            }
        }
        moved
    }

    /// A router's rare branch that rejoins the main path (`gate -> {store, enrich}`,
    /// `enrich -> store`, one request in seven through `enrich`): the receiver's arrival after
    /// the branch's success is credited to its usual sender (`gate`), which its other traces
    /// reach it from directly, and the branch is left a sink. A branch its sender takes in at
    /// most `ROUTED_BRANCH_SHARE` of its traces is routed to, not fanned out to: the sender sent
    /// that trace's one message to the branch, so the receiver's arrival right after the
    /// branch's success, in nearly every trace the branch took, is the branch's. A branch of
    /// several hops (`repair -> fix -> store`) is judged by its first node, each node after it
    /// taking nearly all its messages from the one before.
    /// True when `sender`'s successes in the traces it sent `branch` logged more of the
    /// trace's messages pending than its successes do on average (`trace_pending`): it sent
    /// `branch` a message beside its usual one (a router routing to two targets), not instead.
    fn sent_more_with(&self, sender: &str, branch: &str) -> bool {
        let mean =
            |(sum, readings): (u64, u64)| (readings > 0).then(|| sum as f64 / readings as f64);
        let with_branch = self
            .sent_pending
            .get(&(Name::from(sender), Name::from(branch)))
            .copied()
            .and_then(mean);
        let overall = self.pending.get(sender).copied().and_then(mean);
        matches!((with_branch, overall), (Some(with_branch), Some(overall)) if with_branch > overall + 0.5)
    }

    fn respect_rejoins<'a>(
        &self,
        credited: &mut [(&'a str, &'a [Name], u64, &'a str)],
        back_edges: &[((&str, &str), u64)],
    ) {
        let snapshot: Vec<(&'a str, &'a [Name], u64, &'a str)> = credited.to_vec();
        for entry in credited.iter_mut() {
            let (receiver, candidates, _, sender) = *entry;
            let Some(branch) = succeeded_part(candidates).first().map(|b| &**b) else {
                continue;
            };
            if branch == sender || branch == receiver {
                continue;
            }
            let reached_of = |node: &str| -> u64 {
                self.arrivals
                    .get(node)
                    .map_or(0, |patterns| patterns.values().sum())
            };
            let reached = reached_of(branch);
            // The branch's first node: `branch` itself, or the head of a chain of nodes that
            // each take nearly all their messages from the one before (`repair -> fix2`).
            let mut head = branch;
            for _ in 0..MAX_CANDIDATES {
                let head_reached = reached_of(head);
                if credited_arrivals(&snapshot, head, sender) as f64
                    >= CONSISTENT_SHARE * head_reached as f64
                {
                    break;
                }
                let Some(up) = snapshot
                    .iter()
                    .filter(|(to, ..)| *to == head)
                    .map(|(_, _, _, from)| *from)
                    .find(|from| {
                        *from != receiver
                            && *from != branch
                            && credited_arrivals(&snapshot, head, from) as f64
                                >= CONSISTENT_SHARE * head_reached as f64
                    })
                else {
                    break;
                };
                head = up;
            }
            let head_reached = reached_of(head);
            let sender_traces = self.succeeded_traces.get(sender).copied().unwrap_or(0);
            let routed = head_reached >= ROUTER_EVIDENCE_TRACES
                && head_reached as f64 <= ROUTED_BRANCH_SHARE * sender_traces as f64
                && reached as f64 >= CONSISTENT_SHARE * head_reached as f64
                && credited_arrivals(&snapshot, head, sender) as f64
                    >= CONSISTENT_SHARE * head_reached as f64;
            if !routed || self.sent_more_with(sender, head) {
                continue;
            }
            let led_on: u64 = snapshot
                .iter()
                .filter(|(to, candidates, _, _)| {
                    *to == receiver
                        && succeeded_part(candidates)
                            .first()
                            .is_some_and(|first| &**first == branch)
                })
                .map(|(_, _, count, _)| count)
                .sum();
            let sends_elsewhere = credited_successors(&snapshot, back_edges, branch)
                .iter()
                .any(|to| to != receiver);
            if led_on as f64 >= CONSISTENT_SHARE * reached as f64 && !sends_elsewhere {
                entry.3 = branch;
            }
        }
    }

    fn respect_out_degrees<'a>(
        &self,
        credited: &mut [(&'a str, &'a [Name], u64, &'a str)],
        back_edges: &[((&str, &str), u64)],
    ) {
        let capacity = |node: &str| -> Option<usize> {
            self.outgoing
                .get(node)
                .filter(|outgoing| **outgoing > 0)
                .map(|outgoing| *outgoing as usize)
        };
        // Another candidate than `sender` that already sends to `receiver` or has room, as the
        // crediting stands in `known` (every node's successors, worked out again only when a
        // move changed the crediting).
        let other_sender = |candidates: &'a [Name],
                            sender: &str,
                            receiver: &str,
                            known: &HashMap<&str, Vec<&str>>|
         -> Option<&'a str> {
            candidates.iter().map(|c| &**c).find(|c| {
                *c != sender && *c != RUNNING_MARK && {
                    let theirs = known.get(c).map_or(&[][..], Vec::as_slice);
                    theirs.contains(&receiver)
                        || capacity(c).is_none_or(|limit| theirs.len() < limit)
                }
            })
        };
        for _ in 0..self.arrivals.len().max(1) {
            let mut moved = false;
            let mut known = successors_by_node(credited, back_edges);
            let senders: Vec<&'a str> = credited.iter().map(|(_, _, _, from)| *from).collect();
            for sender in senders {
                let Some(limit) = capacity(sender) else {
                    continue;
                };
                let successors = known.get(sender).map_or(&[][..], Vec::as_slice);
                if successors.len() <= limit {
                    continue;
                }
                // The receivers credited to `sender` that could have come from a sender with
                // room (or one already sending to them), fewest arrivals first.
                let mut movable: Vec<(u64, &str, &str)> = Vec::new();
                for receiver in successors {
                    let mut total = 0;
                    let mut alternative: Option<&str> = None;
                    let mut all_movable = true;
                    for (to, candidates, count, from) in credited.iter() {
                        if to != receiver || *from != sender {
                            continue;
                        }
                        total += count;
                        match other_sender(candidates, sender, receiver, &known) {
                            Some(other) => alternative = alternative.or(Some(other)),
                            None => all_movable = false,
                        }
                    }
                    if let (true, Some(alternative)) = (all_movable, alternative) {
                        movable.push((total, receiver, alternative));
                    }
                }
                movable.sort();
                if let Some(&(_, receiver, _)) = movable.first() {
                    // Re-credit each of its patterns to its own first sender with room, as the
                    // crediting stood before this move.
                    let receiver = receiver.to_string();
                    for entry in credited.iter_mut() {
                        if entry.0 != receiver || entry.3 != sender {
                            continue;
                        }
                        if let Some(other) = other_sender(entry.1, sender, &receiver, &known) {
                            entry.3 = other;
                        }
                    }
                    moved = true;
                    known = successors_by_node(credited, back_edges);
                }
            }
            if !moved {
                break;
            }
        }
    }
}

/// The nodes the credited first arrivals lead to from `node` (its successors, theirs, ...).
fn downstream_of<'a>(credited: &[(&'a str, &[Name], u64, &'a str)], node: &str) -> Vec<&'a str> {
    let mut reached: Vec<&'a str> = Vec::new();
    let mut frontier = vec![node];
    while let Some(from) = frontier.pop() {
        for (to, _, _, sender) in credited {
            if *sender == from && *to != node && !reached.contains(to) {
                reached.push(to);
                frontier.push(to);
            }
        }
    }
    reached
}

/// A `GraphLearner` fed a sample of whole traces: every trace until `SAMPLE_EVENTS` events
/// were learned, then one in 2, 4, ... (by a hash of the trace id, so a trace is all in or all
/// out), doubling each time as many again were learned. The flow's structure shows in a few
/// thousand traces; learning every one of millions is most of an analysis' time.
#[derive(Debug)]
pub struct SampledGraph {
    learner: GraphLearner,
    /// A trace is learned when its hash is a multiple of this.
    modulus: u64,
    learned: u64,
}

/// Events learned before the sample is halved (and again each time as many more are learned).
const SAMPLE_EVENTS: u64 = 200_000;
/// The sample never gets thinner than one trace in this many.
const MAX_MODULUS: u64 = 64;

impl Default for SampledGraph {
    fn default() -> SampledGraph {
        SampledGraph {
            learner: GraphLearner::default(),
            modulus: 1,
            learned: 0,
        }
    }
}

fn trace_hash(trace: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = foldhash::quality::FixedState::with_seed(7).build_hasher();
    hasher.write(trace.as_bytes());
    hasher.finish()
}

impl SampledGraph {
    pub fn observe(&mut self, event: &Event) {
        if let Some(trace) = event.trace_id.as_deref()
            && self.modulus > 1
            && !trace_hash(trace).is_multiple_of(self.modulus)
        {
            return;
        }
        self.learner.observe(event);
        self.learned += 1;
        if self.learned >= SAMPLE_EVENTS && self.modulus < MAX_MODULUS {
            self.learned = 0;
            self.modulus *= 2;
            let modulus = self.modulus;
            self.learner
                .retain_traces(|trace| trace_hash(trace).is_multiple_of(modulus));
        }
    }

    pub fn finish(self) -> FlowGraph {
        self.learner.finish()
    }
}

/// A directed edge of the learned flow, with the number of traces that took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub traces: u64,
}

/// The learned flow: edges kept after dropping rare ones, ordered by the flow's direction.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowGraph {
    pub edges: Vec<Edge>,
    /// For each node, the traces in which it succeeded (that could leave it).
    #[serde(skip)]
    left: FastMap<String, u64>,
    /// For each edge and sender instance (`node_id`, empty when unknown): the latest send of a
    /// message the receiver took.
    #[serde(skip)]
    latest_sends: FastMap<(String, String, String), Timestamp>,
    /// Joins (a `join_k`, a node fed by several branches of one fan-out): the number of
    /// inbound edges, each bringing one message of every trace.
    #[serde(skip)]
    joins: FastMap<String, usize>,
    /// Names that stand for several nodes (of different flows), with each one's instances.
    #[serde(skip)]
    namesakes: FastMap<String, Namesakes>,
    /// Each node's place in the flow, computed once on first use: a trace's status asks for
    /// it for every node it visited, for every trace.
    #[serde(skip)]
    places: std::sync::OnceLock<FastMap<String, NodePlace>>,
    /// Each node's inbound edges, counted once on first use.
    #[serde(skip)]
    inbound: std::sync::OnceLock<FastMap<String, usize>>,
}

/// A node's successors and what they make it, worked out once per graph (see
/// `FlowGraph::place`).
#[derive(Debug, Clone)]
pub struct NodePlace {
    /// Most common first (see `FlowGraph::successors`).
    pub successors: Vec<Successor>,
    /// See `FlowGraph::is_sink`.
    pub sink: bool,
    /// See `FlowGraph::fans_out`.
    pub fans_out: bool,
}

/// The senders of one receiver instance's arrivals, with how many each sent.
type Senders<'a> = Vec<(&'a str, u64)>;

/// The nodes one name stands for, when it stands for several (see `FlowGraph::namesakes`).
#[derive(Debug, Clone, Default)]
pub struct Namesakes {
    /// Ordered by their feeders.
    pub nodes: Vec<NamesakeNode>,
    /// Each instance (`node_id`) of the name: its node, an index into `nodes`.
    instances: FastMap<String, usize>,
}

/// One of the nodes a name stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamesakeNode {
    /// The predecessors feeding it (its own flow's), sorted.
    pub fed_by: Vec<String>,
    /// Its inbound edges (each a queue of its own, summed by its `q_depth_in`): the name's,
    /// less those feeding only its namesakes.
    pub inbound_edges: usize,
}

/// A node that usually follows another, with the share of the other's traffic it received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Successor {
    pub node_name: String,
    pub traces: u64,
    /// Traces that left the predecessor at all (to any successor).
    pub of_traces: u64,
    pub share: f64,
}

impl FlowGraph {
    /// The graph of the credited `counts`, each node having succeeded in `succeeded_traces`,
    /// with a message on its outbound queues at `emitting` of its successes.
    fn from_counts(
        counts: HashMap<(String, String), u64>,
        succeeded_traces: &NameMap<u64>,
        emitting: &NameMap<u64>,
    ) -> FlowGraph {
        let mut outgoing: HashMap<&str, u64> = HashMap::new();
        let mut incoming: HashMap<&str, u64> = HashMap::new();
        for ((from, to), count) in &counts {
            *outgoing.entry(from).or_default() += count;
            *incoming.entry(to).or_default() += count;
        }
        // A node's traffic is also the traces it ended (a sink's go to the egress, which no
        // arrival credits): a sink credited with a message in 2 of its 281 traces is rare at
        // its source, when it is a handful (a rare escalation seen 30 times is a branch) and
        // its successes did not log as many messages on its outbound queues (an escalation
        // credited to the sibling that succeeded just after it did).
        let mut ended = outgoing.clone();
        for (node, traffic) in ended.iter_mut() {
            if let Some(traces) = succeeded_traces.get(*node) {
                *traffic = (*traffic).max(*traces);
            }
        }
        // Rare at its source and at its target: a stray crediting (its target is reached
        // another way). One rare at its source only is a branch few traces take (a router's
        // rare alternative): the way its target is reached.
        let rare = |share: &HashMap<&str, u64>, node: &str, count: u64| {
            (count as f64) < MIN_SHARE * share[node] as f64
        };
        let mut edges: Vec<Edge> = counts
            .iter()
            .filter(|((from, to), count)| {
                let emitted = emitting.get(from.as_str()).copied().unwrap_or(0);
                let rare_at_source = rare(&outgoing, from, **count)
                    || (**count < ROUTER_EVIDENCE_TRACES
                        && emitted < **count
                        && rare(&ended, from, **count));
                !rare_at_source || !rare(&incoming, to, **count)
            })
            .map(|((from, to), traces)| Edge {
                from: from.clone(),
                to: to.clone(),
                traces: *traces,
            })
            .collect();
        edges.retain(|edge| edge.from != edge.to);
        let mut graph = FlowGraph {
            edges,
            left: FastMap::default(),
            latest_sends: FastMap::default(),
            joins: FastMap::default(),
            namesakes: FastMap::default(),
            places: std::sync::OnceLock::new(),
            inbound: std::sync::OnceLock::new(),
        };
        graph.sort();
        graph
    }

    /// Orders edges along the flow: by the source's distance from the ingress, then busiest.
    fn sort(&mut self) {
        self.places = std::sync::OnceLock::new(); // edges change before a sort
        let depth = depths(&self.edges);
        self.edges.sort_by(|a, b| {
            let key = |e: &Edge| {
                (
                    depth.get(&e.from).copied().unwrap_or(usize::MAX),
                    e.to == EGRESS,
                )
            };
            key(a)
                .cmp(&key(b))
                .then(b.traces.cmp(&a.traces))
                .then(a.from.cmp(&b.from))
                .then(a.to.cmp(&b.to))
        });
    }

    /// The flow's nodes (endpoints excluded), in flow order.
    pub fn nodes(&self) -> Vec<&str> {
        let mut nodes: Vec<&str> = Vec::new();
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for edge in &self.edges {
            for node in [edge.from.as_str(), edge.to.as_str()] {
                if !is_endpoint(node) && seen.insert(node) {
                    nodes.push(node);
                }
            }
        }
        nodes
    }

    /// The usual successors of `node` (endpoints included), most common first.
    /// The usual successors of `node`, with the share of the traces that succeeded there (and
    /// so could leave it) that went on to each: about 1 for every branch of a fan-out, less
    /// for the alternatives of a router.
    pub fn successors(&self, node: &str) -> &[Successor] {
        self.place(node)
            .map_or(&[], |place| place.successors.as_slice())
    }

    /// The node's place in the flow (`None` for a node no edge leaves): one lookup for its
    /// successors, whether it is a sink and whether it fans out.
    pub fn place(&self, node: &str) -> Option<&NodePlace> {
        self.places
            .get_or_init(|| {
                // The edges leaving each node, grouped in one pass: a flow with generated
                // node names has as many nodes as edges.
                let mut leaving: FastMap<&str, Vec<&Edge>> = FastMap::default();
                for edge in &self.edges {
                    leaving.entry(edge.from.as_str()).or_default().push(edge);
                }
                leaving
                    .into_iter()
                    .map(|(node, edges)| {
                        let successors = self.compute_successors(node, &edges);
                        let sink = !successors.is_empty()
                            && successors.iter().all(|s| s.node_name == EGRESS);
                        let shares: f64 = successors
                            .iter()
                            .filter(|s| s.node_name != EGRESS)
                            .map(|s| s.share)
                            .sum();
                        let place = NodePlace {
                            successors,
                            sink,
                            fans_out: shares > FAN_OUT_SHARES,
                        };
                        (node.to_string(), place)
                    })
                    .collect()
            })
            .get(node)
    }

    /// The successors of `node`, whose edges are `leaving`.
    fn compute_successors(&self, node: &str, leaving: &[&Edge]) -> Vec<Successor> {
        let total: u64 = self
            .left
            .get(node)
            .copied()
            .unwrap_or_else(|| leaving.iter().map(|e| e.traces).sum())
            .max(leaving.iter().map(|e| e.traces).max().unwrap_or(0));
        let mut successors: Vec<Successor> = leaving
            .iter()
            .map(|edge| Successor {
                node_name: edge.to.clone(),
                traces: edge.traces,
                of_traces: total,
                share: edge.traces as f64 / total.max(1) as f64,
            })
            .collect();
        successors.sort_by(|a, b| b.traces.cmp(&a.traces).then(a.node_name.cmp(&b.node_name)));
        successors
    }

    /// True when `node`'s traces go on to several of its successors (a fan-out: each trace
    /// takes every branch), not to one of them (a router's alternatives).
    pub fn fans_out(&self, node: &str) -> bool {
        self.place(node).is_some_and(|place| place.fans_out)
    }

    /// True when `node` is known to be a router: several successors, each trace taking one,
    /// seen on at least `ROUTER_EVIDENCE_TRACES` traces (a fan-out cut mid-run, its branches
    /// barely reached, can look like one). A router's emit blocks on the one branch it takes.
    pub fn is_router(&self, node: &str) -> bool {
        let successors = self.successors(node);
        successors.len() > 1
            && successors
                .iter()
                .all(|s| s.of_traces >= ROUTER_EVIDENCE_TRACES)
            && !self.fans_out(node)
    }

    /// True when `to` took a message that `from` (its instance `instance`, a `node_id`) sent it
    /// after `sent_at`. An edge's queue is first in, first out: a message `from` sent to `to` at
    /// `sent_at` would have been taken first, so it is not waiting there.
    pub fn took_later(
        &self,
        from: &str,
        to: &str,
        instance: Option<&str>,
        sent_at: Timestamp,
    ) -> bool {
        let key = (
            from.to_string(),
            to.to_string(),
            instance.unwrap_or_default().to_string(),
        );
        self.latest_sends
            .get(&key)
            .is_some_and(|latest| *latest > sent_at)
    }

    /// A sink: a node no other node follows (its messages go to the egress only). A node the
    /// graph has never seen is not known to be a sink.
    pub fn is_sink(&self, node: &str) -> bool {
        self.place(node).is_some_and(|place| place.sink)
    }

    /// True when `node` can be reached from `from` along the flow's edges (a node is not
    /// downstream of itself unless a cycle leads back to it).
    pub fn is_downstream(&self, node: &str, from: &str) -> bool {
        let mut seen: Vec<&str> = Vec::new();
        let mut frontier = vec![from];
        while let Some(current) = frontier.pop() {
            for edge in self.edges.iter().filter(|e| e.from == current) {
                if edge.to == node {
                    return true;
                }
                if !seen.contains(&edge.to.as_str()) {
                    seen.push(&edge.to);
                    frontier.push(&edge.to);
                }
            }
        }
        false
    }

    /// For a join, its inbound edges: the messages of each trace it takes before its work for
    /// the trace is done (it emits once all arrived). `None` for any other node.
    pub fn join_inputs(&self, node: &str) -> Option<usize> {
        self.joins.get(node).copied()
    }

    /// The node's inbound edges in the graph (the ingress's included): each is a queue of its
    /// own, and its `q_depth_in` sums them.
    pub fn inbound_edges(&self, node: &str) -> usize {
        let inbound = self.inbound.get_or_init(|| {
            let mut inbound: FastMap<String, usize> = FastMap::default();
            for edge in &self.edges {
                *inbound.entry(edge.to.clone()).or_default() += 1;
            }
            inbound
        });
        inbound.get(node).copied().unwrap_or(0)
    }

    /// The nodes `node` stands for when it names several (two flows in one log, each with a
    /// node of that name: node_ids fed by different predecessors); empty when it is one node.
    pub fn namesakes(&self, node: &str) -> &[NamesakeNode] {
        self.namesakes
            .get(node)
            .map_or(&[], |namesakes| namesakes.nodes.as_slice())
    }

    /// Which of the nodes named `node` its instance (`node_id`) `instance` is, when the name
    /// stands for several: an index into `namesakes(node)`.
    pub fn namesake_of(&self, node: &str, instance: &str) -> Option<usize> {
        self.namesakes.get(node)?.instances.get(instance).copied()
    }

    /// The inbound edges of `node`'s instance `instance` (a `node_id`): its own node's where the
    /// name stands for several, else the name's (`inbound_edges`).
    pub fn instance_inbound_edges(&self, node: &str, instance: Option<&str>) -> usize {
        instance
            .and_then(|instance| self.namesake_of(node, instance))
            .map_or_else(
                || self.inbound_edges(node),
                |index| self.namesakes(node)[index].inbound_edges,
            )
    }

    /// The fewest inbound edges of any node `node` stands for (the name's when it is one).
    pub fn least_inbound_edges(&self, node: &str) -> usize {
        self.namesakes(node)
            .iter()
            .map(|n| n.inbound_edges)
            .min()
            .unwrap_or_else(|| self.inbound_edges(node))
    }

    /// The nodes with an edge to `node`.
    pub fn predecessors(&self, node: &str) -> Vec<&str> {
        self.edges
            .iter()
            .filter(|e| e.to == node)
            .map(|e| e.from.as_str())
            .collect()
    }

    pub fn knows(&self, node: &str) -> bool {
        self.edges.iter().any(|e| e.from == node || e.to == node)
    }
}

/// Distance of each node from the ingress (breadth first), to order edges along the flow.
fn depths(edges: &[Edge]) -> HashMap<String, usize> {
    // Each node's out-edges in the edges' order, found once (looked for among every edge
    // for each node, the walk was quadratic in a flow of generated node names).
    let mut out_edges: HashMap<&str, Vec<&Edge>> = HashMap::new();
    for edge in edges {
        out_edges.entry(edge.from.as_str()).or_default().push(edge);
    }
    let mut depth: HashMap<String, usize> = HashMap::new();
    depth.insert(INGRESS.to_string(), 0);
    let mut frontier = vec![INGRESS.to_string()];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for node in &frontier {
            let level = depth[node] + 1;
            for edge in out_edges.get(node.as_str()).into_iter().flatten() {
                if !depth.contains_key(&edge.to) {
                    depth.insert(edge.to.clone(), level);
                    next.push(edge.to.clone());
                }
            }
        }
        frontier = next;
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Count;
    use crate::event::test_event as event;

    fn linear_trace(trace: &str, start: i64, nodes: &[&str]) -> Vec<Event> {
        let mut events = Vec::new();
        for (index, node) in nodes.iter().enumerate() {
            let at = start + index as i64 * 10;
            events.push(event(at, trace, node, Kind::NodeStart));
            events.push(event(at + 5, trace, node, Kind::NodeSuccess));
        }
        events
    }

    /// Every count of `learned`, one line each, sorted: maps iterate in no fixed order.
    fn canonical(learned: &Learned) -> Vec<String> {
        let mut lines = Vec::new();
        macro_rules! each {
            ($($field:ident),*) => {$(
                for (key, value) in &learned.$field {
                    lines.push(format!("{} {key:?} {value:?}", stringify!($field)));
                }
            )*};
        }
        each!(
            succeeded_traces,
            successes,
            awaited,
            outgoing,
            deepest_in,
            deepest_out,
            messages,
            emitting,
            pending,
            sent_pending,
            handovers,
            latest_sends,
            instance_senders
        );
        macro_rules! nested {
            ($($field:ident),*) => {$(
                for (node, by) in &learned.$field {
                    for (key, count) in by {
                        lines.push(format!("{} {node:?} {key:?} {count}", stringify!($field)));
                    }
                }
            )*};
        }
        nested!(arrivals, follows, next_starts);
        lines.sort();
        lines
    }

    /// A learner's counts split by trace among several learners add up (`Learned::absorb`) to
    /// one learner's over every trace, and give its graph: routed, joined and two-flow traces,
    /// a trace cut short, interleaved in time.
    #[test]
    fn shares_of_the_traces_add_up_to_one_learners_counts() {
        let mut traces: Vec<Vec<Event>> = Vec::new();
        for t in 0..40 {
            let branch = if t % 4 == 0 { "slow" } else { "fast" };
            traces.push(routed_trace(&format!("r{t}"), t * 300, branch, t % 3 == 0));
        }
        for t in 0..30 {
            let upto = if t % 7 == 3 { 5 } else { usize::MAX };
            traces.push(joined_trace(
                &format!("j{t}"),
                100 + t * 400,
                t % 5 == 0,
                upto,
            ));
        }
        for t in 0..20 {
            let nodes: &[(&str, &str)] = if t % 2 == 0 {
                &[("ingest", "i1"), ("llm", "chat-1"), ("reply", "r1")]
            } else {
                &[("chunk", "c1"), ("llm", "sum-1"), ("store", "s1")]
            };
            traces.push(trace_with_ids(&format!("w{t}"), 50 + t * 500, nodes));
        }
        let mut events: Vec<(usize, Event)> = traces
            .into_iter()
            .enumerate()
            .flat_map(|(trace, events)| events.into_iter().map(move |event| (trace, event)))
            .collect();
        events.sort_by_key(|(_, event)| event.ts);
        let settled = |mut learner: GraphLearner| {
            for walk in learner.walks.values_mut() {
                walk.settle_waiting(&mut learner.counts);
            }
            learner.learned()
        };
        let mut one = GraphLearner::default();
        for (_, event) in &events {
            one.observe(event);
        }
        let one = settled(one);
        for share_count in [2, 3, 5] {
            let mut shares: Vec<GraphLearner> =
                (0..share_count).map(|_| GraphLearner::default()).collect();
            for (trace, event) in &events {
                shares[trace % share_count].observe(event);
            }
            let mut added = Learned::default();
            for share in shares {
                added.absorb(settled(share));
            }
            assert_eq!(canonical(&added), canonical(&one), "{share_count} shares");
            assert_eq!(
                added.graph().edges,
                one.graph().edges,
                "{share_count} shares"
            );
        }
        assert!(one.graph().edges.len() >= 8, "{:?}", one.graph().edges);
    }

    /// A sender is judged spent by the out-degree its own trace reports, not by the largest
    /// any trace reported before: after a redeploy that took an edge from `a` (2 edges in the
    /// first traces, 1 after), `b` emitting to `c` before its own success is still `c`'s
    /// sender. Read across traces, `a` had an edge to spare in every trace and took `c`.
    #[test]
    fn a_sender_is_spent_by_the_out_degree_its_own_trace_reports() {
        let mut learner = GraphLearner::default();
        for trace in 0..300_i64 {
            let id = format!("{:032x}", trace + 1);
            let at = trace * 500;
            let step = |ms: i64, node: &str, kind: Kind| {
                let success = kind == Kind::NodeSuccess;
                let mut e = event(at + ms, &id, node, kind);
                let outgoing = match node {
                    "a" if trace < 3 => 2,
                    "c" => 0,
                    _ => 1,
                };
                e.set_count(Count::Outgoing, Some(outgoing));
                if success && node != "c" {
                    e.set_count(Count::QDepthOut, Some(1));
                }
                e
            };
            for event in [
                step(0, "a", Kind::NodeStart),
                step(1, "a", Kind::NodeSuccess),
                step(2, "b", Kind::NodeStart),
                step(3, "c", Kind::NodeStart),
                step(4, "b", Kind::NodeSuccess),
                step(5, "c", Kind::NodeSuccess),
            ] {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        let edges = sorted_edges(&graph);
        assert!(edges.contains(&("a", "b")), "{edges:?}");
        assert!(edges.contains(&("b", "c")), "{edges:?}");
        assert!(!edges.contains(&("a", "c")), "{edges:?}");
    }

    /// A walk node per node a trace touched, and a walk, for every trace in flight: their
    /// size is memory.
    #[test]
    fn a_walk_node_stays_at_40_bytes_and_a_walk_at_56() {
        assert_eq!(std::mem::size_of::<WalkNode>(), 40);
        assert_eq!(std::mem::size_of::<TraceWalk>(), 56);
    }

    #[test]
    fn learns_a_linear_flow_with_its_endpoints() {
        let mut learner = GraphLearner::default();
        for trace in 0..10 {
            for event in linear_trace(&format!("t{trace}"), trace * 1000, &["a", "b", "c"]) {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        let edges: Vec<(&str, &str, u64)> = graph
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.traces))
            .collect();
        assert_eq!(
            edges,
            vec![
                ("OpenSea", "a", 10),
                ("a", "b", 10),
                ("b", "c", 10),
                ("c", "Rookery", 10)
            ]
        );
        assert!(graph.is_sink("c"));
        assert!(!graph.is_sink("b"));
        assert_eq!(graph.nodes(), vec!["a", "b", "c"]);
        assert_eq!(graph.successors("a")[0].share, 1.0);
    }

    #[test]
    fn a_receiver_may_start_before_its_sender_logs_success() {
        // PenguiFlow logs node_success after the output is queued: `b` can run first.
        let mut learner = GraphLearner::default();
        for trace in 0..5 {
            let t = format!("t{trace}");
            let at = trace * 1000;
            for event in [
                event(at, &t, "a", Kind::NodeStart),
                event(at + 1, &t, "b", Kind::NodeStart),
                event(at + 2, &t, "b", Kind::NodeSuccess),
                event(at + 3, &t, "a", Kind::NodeSuccess),
            ] {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        let edges: Vec<(&str, &str)> = graph
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(edges, vec![("OpenSea", "a"), ("a", "b"), ("b", "Rookery")]);
    }

    #[test]
    fn a_router_joins_from_its_branches() {
        // ingest -> router -> (a | b) -> respond, alternating.
        let mut learner = GraphLearner::default();
        for trace in 0..20 {
            let branch = if trace % 2 == 0 { "a" } else { "b" };
            for event in linear_trace(
                &format!("t{trace}"),
                trace * 1000,
                &["ingest", "router", branch, "respond"],
            ) {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        let edges = sorted_edges(&graph);
        assert_eq!(
            edges,
            vec![
                ("OpenSea", "ingest"),
                ("a", "respond"),
                ("b", "respond"),
                ("ingest", "router"),
                ("respond", "Rookery"),
                ("router", "a"),
                ("router", "b"),
            ]
        );
        let shares: Vec<f64> = graph.successors("router").iter().map(|s| s.share).collect();
        assert_eq!(
            shares,
            vec![0.5, 0.5],
            "each alternative takes half the traces"
        );
        assert_eq!(graph.successors("router")[0].of_traces, 20);

        // Every trace took one branch and reached the sink: succeeded.
        let mut summary = super::super::trace::TraceSummary::new("t0");
        for event in linear_trace("t0", 0, &["ingest", "router", "a", "respond"]) {
            summary.observe(&event);
        }
        assert_eq!(
            summary.status(&graph),
            super::super::trace::TraceStatus::Succeeded
        );
        let mut stuck = super::super::trace::TraceSummary::new("t1");
        for event in linear_trace("t1", 0, &["ingest", "router"]) {
            stuck.observe(&event);
        }
        assert_eq!(
            stuck.status(&graph),
            super::super::trace::TraceStatus::InFlight
        );
    }

    /// One trace through `ingest -> route -> {cache | llm} -> respond` as PenguiFlow logs a
    /// `predicate_router`: the router hands over inside its timed handler, so the branch starts
    /// (and, when fast, even succeeds) before the router's own success is logged.
    fn routed_trace(trace: &str, at: i64, branch: &str, branch_first: bool) -> Vec<Event> {
        let outgoing = |node: &str| match node {
            "route" => 2,
            _ => 1,
        };
        let step = |ms: i64, node: &str, kind: Kind| {
            let mut e = event(at + ms, trace, node, kind);
            e.set_count(Count::Outgoing, Some(outgoing(node)));
            e
        };
        let mut events = vec![
            step(0, "ingest", Kind::NodeStart),
            step(2, "ingest", Kind::NodeSuccess),
            step(3, "route", Kind::NodeStart),
            step(4, branch, Kind::NodeStart),
        ];
        if branch_first {
            events.push(step(5, branch, Kind::NodeSuccess));
            events.push(step(6, "respond", Kind::NodeStart));
            events.push(step(7, "route", Kind::NodeSuccess));
        } else {
            events.push(step(5, "route", Kind::NodeSuccess));
            events.push(step(6, branch, Kind::NodeSuccess));
            events.push(step(7, "respond", Kind::NodeStart));
        }
        events.push(step(8, "respond", Kind::NodeSuccess));
        events
    }

    fn sorted_edges(graph: &FlowGraph) -> Vec<(&str, &str)> {
        let mut edges: Vec<(&str, &str)> = graph
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        edges.sort();
        edges
    }

    const ROUTED: [(&str, &str); 7] = [
        ("OpenSea", "ingest"),
        ("cache", "respond"),
        ("ingest", "route"),
        ("llm", "respond"),
        ("respond", "Rookery"),
        ("route", "cache"),
        ("route", "llm"),
    ];

    #[test]
    fn a_router_hands_over_before_its_own_success() {
        // Most traces take the fast cache branch, which starts before the router's success is
        // logged, some finish there before it; a few take the llm branch; the log ends with
        // one llm call under way and the router's success never logged.
        let mut learner = GraphLearner::default();
        for trace in 0..60 {
            let branch = if trace % 15 == 3 { "llm" } else { "cache" };
            for event in routed_trace(&format!("t{trace}"), trace * 100, branch, trace % 30 == 1) {
                learner.observe(&event);
            }
        }
        for event in routed_trace("cut", 9_000, "llm", false).into_iter().take(4) {
            learner.observe(&event);
        }
        let graph = learner.finish();
        assert_eq!(sorted_edges(&graph), ROUTED.to_vec());

        // The cache branch takes 93% of route's traces, yet it is an alternative: a trace that
        // took the llm branch to respond succeeded; one cut at the router's handover did not.
        use super::super::trace::{TraceStatus, TraceSummary};
        let status = |events: Vec<Event>| {
            let mut summary = TraceSummary::new("t");
            for event in &events {
                summary.observe(event);
            }
            summary.status(&graph)
        };
        assert_eq!(
            status(routed_trace("t", 0, "llm", false)),
            TraceStatus::Succeeded
        );
        let queued = routed_trace("t", 0, "llm", false).into_iter().filter(|e| {
            e.node_name
                .as_deref()
                .is_some_and(|n| n == "ingest" || n == "route")
        });
        assert_eq!(status(queued.collect()), TraceStatus::InFlight);
    }

    #[test]
    fn a_message_a_router_sent_waits_at_the_alternative_that_took_nothing_sent_after_it() {
        use super::super::trace::{NextStep, TraceSummary};
        // Two pods (node instances), each its own runtime and queues. In both, the router's
        // message for one trace is sent and never taken; afterwards pod a's cache takes later
        // messages (its llm none), pod b's takes none.
        let in_pod = |events: Vec<Event>, pod: &str| -> Vec<Event> {
            events
                .into_iter()
                .map(|mut e| {
                    e.node_id = Some(format!("{}-{pod}", e.node_name.as_deref().unwrap()).into());
                    e
                })
                .collect()
        };
        let routed_only = |trace: &str, at: i64, pod: &str| {
            let events = routed_trace(trace, at, "llm", false)
                .into_iter()
                .filter(|e| {
                    e.node_name
                        .as_deref()
                        .is_some_and(|n| n == "ingest" || n == "route")
                })
                .collect();
            in_pod(events, pod)
        };
        let mut learner = GraphLearner::default();
        let mut traces: Vec<Vec<Event>> = Vec::new();
        for trace in 0..30 {
            let branch = if trace % 20 == 3 { "llm" } else { "cache" };
            let pod = if trace < 20 { "a" } else { "b" };
            let at = if pod == "a" {
                trace * 100
            } else {
                (trace - 20) * 100
            };
            traces.push(in_pod(
                routed_trace(&format!("t{trace}"), at, branch, false),
                pod,
            ));
        }
        traces.push(routed_only("qa", 1_050, "a"));
        traces.push(routed_only("qb", 1_050, "b"));
        let mut events: Vec<Event> = traces.concat();
        events.sort_by_key(|e| e.ts);
        for event in &events {
            learner.observe(event);
        }
        let graph = learner.finish();
        assert_eq!(sorted_edges(&graph), ROUTED.to_vec());
        let next = |trace: &str| {
            let mut summary = TraceSummary::new(trace);
            for event in events
                .iter()
                .filter(|e| e.trace_id.as_deref() == Some(trace))
            {
                summary.observe(event);
            }
            match summary.stop_point(&graph).next {
                Some(NextStep::Inferred(successor)) => successor.node_name,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            next("qa"),
            "llm",
            "pod a's cache took messages sent after it"
        );
        assert_eq!(
            next("qb"),
            "cache",
            "pod b's cache took nothing sent after it"
        );
    }

    #[test]
    fn a_handover_cut_before_the_routers_success_is_the_routers() {
        // The log ends after the branch started and before the router's success: the branch's
        // arrival can only be the router's (ingest, one edge, already sent to route).
        let mut learner = GraphLearner::default();
        for event in routed_trace("cut", 0, "llm", false).into_iter().take(4) {
            learner.observe(&event);
        }
        learner.settle_trace("cut");
        let learned = learner.counts.learned();
        let mut senders: Vec<(&str, &str)> = learned
            .arrivals
            .iter()
            .flat_map(|(node, patterns)| {
                patterns.keys().map(move |candidates| {
                    let first = candidates.iter().find(|c| &***c != RUNNING_MARK);
                    (&**node, first.map_or(INGRESS, |c| &**c))
                })
            })
            .collect();
        senders.sort();
        assert_eq!(
            senders,
            vec![("ingest", "OpenSea"), ("llm", "route"), ("route", "ingest")]
        );
    }

    #[test]
    fn rare_edges_are_dropped() {
        let mut learner = GraphLearner::default();
        for trace in 0..40 {
            for event in linear_trace(&format!("t{trace}"), trace * 1000, &["a", "b", "c"]) {
                learner.observe(&event);
            }
        }
        // One trace where `c`, which follows `b`, appears right after `a`'s success.
        for event in linear_trace("odd", 99_000, &["a", "c"]) {
            learner.observe(&event);
        }
        let graph = learner.finish();
        assert!(!graph.edges.iter().any(|e| e.to == "c" && e.from == "a"));
    }

    /// `review` ends most traces and escalates a few to `human`, which `triage` feeds 600
    /// times: 20 escalations (3% of review's traces, 3% of human's arrivals) are a rare branch;
    /// 3 are strays (a retried node's re-sent messages credited to the last success).
    #[test]
    fn a_sinks_rare_forward_is_kept_when_seen_often_enough() {
        for (escalations, kept) in [(20, true), (3, false)] {
            let mut learner = GraphLearner::default();
            for trace in 0..600 {
                let path: &[&str] = if trace < escalations {
                    &["intake", "review", "human"]
                } else {
                    &["intake", "review"]
                };
                for event in linear_trace(&format!("r{trace}"), trace * 100, path) {
                    learner.observe(&event);
                }
                let at = 100_000 + trace * 100;
                for event in linear_trace(&format!("t{trace}"), at, &["intake", "triage", "human"])
                {
                    learner.observe(&event);
                }
            }
            let graph = learner.finish();
            let escalates = graph
                .edges
                .iter()
                .any(|e| e.from == "review" && e.to == "human");
            assert_eq!(escalates, kept, "{escalations}: {:?}", sorted_edges(&graph));
        }
    }

    #[test]
    fn a_branch_few_traces_take_is_kept() {
        // 2 traces in 100 take the llm branch: rare for the router, yet llm's only way in.
        let mut learner = GraphLearner::default();
        for trace in 0..100 {
            let branch = if trace % 50 == 7 { "llm" } else { "cache" };
            for event in routed_trace(&format!("t{trace}"), trace * 100, branch, false) {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        assert_eq!(sorted_edges(&graph), ROUTED.to_vec());
    }

    /// intake -> {a, b} -> merge (a join: one message per branch) -> out. In one trace in five
    /// b's message reaches merge first and a succeeds after merge's first arrival: a precedes
    /// that arrival in 80% of traces only.
    fn joined_trace(trace: &str, at: i64, a_late: bool, upto: usize) -> Vec<Event> {
        let t = |ms: i64, node: &str, kind: Kind| event(at + ms, trace, node, kind);
        let mut events = vec![
            t(0, "intake", Kind::NodeStart),
            t(1, "intake", Kind::NodeSuccess),
            t(2, "a", Kind::NodeStart),
            t(3, "b", Kind::NodeStart),
        ];
        if a_late {
            events.push(t(4, "b", Kind::NodeSuccess));
            events.push(t(5, "merge", Kind::NodeStart));
            events.push(t(6, "merge", Kind::NodeSuccess));
            events.push(t(7, "a", Kind::NodeSuccess));
        } else {
            events.push(t(4, "a", Kind::NodeSuccess));
            events.push(t(5, "b", Kind::NodeSuccess));
            events.push(t(6, "merge", Kind::NodeStart));
            events.push(t(7, "merge", Kind::NodeSuccess));
        }
        events.extend([
            t(8, "merge", Kind::NodeStart),
            t(9, "merge", Kind::NodeSuccess),
            t(10, "out", Kind::NodeStart),
            t(11, "out", Kind::NodeSuccess),
        ]);
        events.truncate(upto);
        events
    }

    const JOINED: [(&str, &str); 7] = [
        ("OpenSea", "intake"),
        ("a", "merge"),
        ("b", "merge"),
        ("intake", "a"),
        ("intake", "b"),
        ("merge", "out"),
        ("out", "Rookery"),
    ];

    #[test]
    fn a_branch_reaching_the_join_after_the_other_is_its_input_not_a_sink() {
        let mut learner = GraphLearner::default();
        for trace in 0..40 {
            for event in joined_trace(&format!("t{trace}"), trace * 100, trace % 5 == 0, 12) {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        assert_eq!(sorted_edges(&graph), JOINED.to_vec());
        assert_eq!(graph.join_inputs("merge"), Some(2));
        assert_eq!(graph.join_inputs("out"), None);
        assert_eq!(graph.inbound_edges("merge"), 2);
    }

    #[test]
    fn a_trace_waits_at_a_joins_unfinished_branch_not_at_its_successor() {
        use super::super::trace::{NextStep, TraceStatus, TraceSummary};
        let mut learner = GraphLearner::default();
        let mut events = Vec::new();
        for trace in 0..40 {
            events.extend(joined_trace(
                &format!("t{trace}"),
                trace * 100,
                trace % 5 == 0,
                12,
            ));
        }
        // Cut: merge stored b's message, a's waits in a's queue (a never started).
        let mut waiting = joined_trace("wa", 5_000, true, 7);
        waiting.retain(|e| e.node_name.as_deref() != Some("a"));
        // Cut: both branches succeeded, merge took one of their messages.
        let queued = joined_trace("wm", 5_100, false, 8);
        events.extend(waiting.iter().cloned());
        events.extend(queued.iter().cloned());
        for event in &events {
            learner.observe(event);
        }
        let graph = learner.finish();
        assert_eq!(sorted_edges(&graph), JOINED.to_vec());
        let stop = |trace: &[Event]| {
            let mut summary = TraceSummary::new("x");
            for event in trace {
                summary.observe(event);
            }
            assert_eq!(summary.status(&graph), TraceStatus::InFlight);
            let stop = summary.stop_point(&graph);
            let last = stop.last_success.map(|v| v.node_name.to_string());
            match stop.next {
                Some(NextStep::Inferred(successor)) => (successor.node_name, last),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            stop(&waiting),
            ("a".to_string(), Some("intake".to_string()))
        );
        assert_eq!(stop(&queued), ("merge".to_string(), Some("b".to_string())));
    }

    /// A linear trace whose events carry `node_ids` (one per node, in order).
    fn trace_with_ids(trace: &str, start: i64, nodes: &[(&str, &str)]) -> Vec<Event> {
        let mut events = linear_trace(
            trace,
            start,
            &nodes.iter().map(|(node, _)| *node).collect::<Vec<_>>(),
        );
        for event in &mut events {
            let node = event.node_name.as_deref().unwrap_or_default();
            let id = nodes.iter().find(|(n, _)| *n == node).map(|(_, id)| *id);
            event.node_id = id.map(Name::from);
        }
        events
    }

    #[test]
    fn two_flows_with_a_node_of_the_same_name_are_two_nodes() {
        // chat: ingest -> llm -> reply; summarize: chunk -> llm -> store; each llm its own
        // node_id, and a replica of chat's llm (another pod) fed by ingest too.
        let mut learner = GraphLearner::default();
        for trace in 0..30 {
            let at = trace * 1000;
            let nodes: &[(&str, &str)] = match trace % 3 {
                0 => &[("ingest", "i1"), ("llm", "chat-1"), ("reply", "r1")],
                1 => &[("ingest", "i2"), ("llm", "chat-2"), ("reply", "r2")],
                _ => &[("chunk", "c1"), ("llm", "sum-1"), ("store", "s1")],
            };
            for event in trace_with_ids(&format!("t{trace}"), at, nodes) {
                learner.observe(&event);
            }
        }
        // A restarted summarize that served two documents: too few to tell what it is.
        for trace in 0..2 {
            let nodes = &[("chunk", "c2"), ("llm", "sum-2"), ("store", "s2")];
            for event in trace_with_ids(&format!("late{trace}"), 40_000 + trace * 1000, nodes) {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        // The graph is learned by name: llm has both inbound edges.
        assert_eq!(graph.inbound_edges("llm"), 2);
        let namesakes = graph.namesakes("llm");
        assert_eq!(
            namesakes,
            &[
                NamesakeNode {
                    fed_by: vec!["chunk".to_string()],
                    inbound_edges: 1
                },
                NamesakeNode {
                    fed_by: vec!["ingest".to_string()],
                    inbound_edges: 1
                },
            ]
        );
        assert_eq!(graph.namesake_of("llm", "sum-1"), Some(0));
        assert_eq!(graph.namesake_of("llm", "chat-1"), Some(1));
        assert_eq!(graph.namesake_of("llm", "chat-2"), Some(1));
        assert_eq!(graph.namesake_of("llm", "sum-2"), None);
        assert_eq!(graph.instance_inbound_edges("llm", Some("sum-2")), 2);
        assert_eq!(graph.instance_inbound_edges("llm", Some("sum-1")), 1);
        assert_eq!(graph.instance_inbound_edges("llm", None), 2);
        assert_eq!(graph.least_inbound_edges("llm"), 1);
        // Nodes of one name each: nothing to tell apart.
        assert!(graph.namesakes("ingest").is_empty());
    }

    #[test]
    fn a_joins_instances_fed_by_the_same_branches_are_one_node() {
        // Two pods' joins (merge, fed by a and b): their node_ids share their feeders.
        let mut learner = GraphLearner::default();
        for trace in 0..40 {
            let mut events = joined_trace(&format!("t{trace}"), trace * 100, trace % 5 == 0, 12);
            for event in &mut events {
                event.node_id = event
                    .node_name
                    .as_deref()
                    .map(|node| Name::from(format!("{node}-{}", trace % 2)));
            }
            for event in events {
                learner.observe(&event);
            }
        }
        let graph = learner.finish();
        assert!(graph.namesakes("merge").is_empty());
        assert_eq!(graph.instance_inbound_edges("merge", Some("merge-1")), 2);
    }
}
