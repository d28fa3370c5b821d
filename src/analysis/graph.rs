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
//! message at it. A node that no other node follows
//! is a sink and feeds the egress (`Rookery`). Edges carrying less than `MIN_SHARE` both of their
//! source's traffic and of their target's are dropped (a router's rare branch is its target's
//! way in, and stays). `find`, `traces` and `graph` all use this one inference.

use std::collections::HashMap;

use serde::Serialize;

use crate::event::{Event, FastMap, Kind, Name, NameMap, Timestamp};

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

/// The walk of one trace through the flow: the nodes it reached and the nodes that succeeded,
/// most recent success last. Memory is bounded by the number of nodes the trace touched.
#[derive(Debug, Clone, Default)]
pub struct TraceWalk {
    reached: Vec<Name>,
    succeeded: Vec<Name>,
    /// Nodes with an attempt under way (started, not yet ended).
    running: Vec<Name>,
    /// Running nodes that logged a `remote_stream_event` in their attempt: a streaming
    /// RemoteNode sends each chunk on (`ctx.emit_chunk`) just before it logs it, so while its
    /// call runs it is a sender that has no success yet.
    streaming: Vec<Name>,
    /// Arrivals waiting for the success of a node that was running when they came (their
    /// likely sender): the arriving node, and those running nodes.
    waiting: Vec<(Name, Vec<Name>)>,
    /// The nodes of the trace as senders.
    senders: Vec<Sender>,
    /// The node that succeeded last, until another node starts: a cycle shows as its next
    /// start being a node the trace already reached.
    awaiting_follower: Option<Name>,
    /// Nodes whose latest success no new message of the trace has followed yet.
    awaiting_next: Vec<Name>,
    /// (node, the node where the trace's next new message after its success started), for the
    /// learner to take: a join's input whose message comes after another input's.
    next_starts: Vec<(Name, Name)>,
    pub last_ts: Timestamp,
}

/// A node of a trace as a sender: the distinct nodes of the trace it sent to so far (arrivals
/// whose likeliest sender, their first candidate, it was), and its latest success in the trace
/// (when, and by which instance: its `node_id`).
#[derive(Debug, Clone)]
struct Sender {
    node: Name,
    sent: i64,
    success: Option<(Timestamp, Option<Name>)>,
}

/// A node's success followed, in its trace, by a new message at a node already reached (a
/// cycle's back edge: the message went round again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub from: Name,
    pub to: Name,
}

/// The first event of a node in a trace, with the nodes that had succeeded before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub node: Name,
    /// Most recent success first.
    pub candidates: Vec<Name>,
    /// When its likeliest sender (the first candidate that succeeded) logged its success,
    /// and that sender's instance (`node_id`).
    pub sent: Option<(Timestamp, Option<Name>)>,
}

impl TraceWalk {
    /// Follows one event of the trace; returns the arrivals it settles: its own, if it is the
    /// first event of a node in this trace, and any that waited for this success. `outgoing`
    /// holds each node's out-degree as its events report it.
    pub fn observe(&mut self, event: &Event, outgoing: &NameMap<i64>) -> Vec<Arrival> {
        self.observe_walk(event, outgoing).0
    }

    /// As `observe`, also returning the back edge the event shows, if any.
    pub fn observe_walk(
        &mut self,
        event: &Event,
        outgoing: &NameMap<i64>,
    ) -> (Vec<Arrival>, Option<Follow>) {
        self.last_ts = self.last_ts.max(event.ts);
        let mut arrivals = Vec::new();
        let Some(node) = event.node_name.as_ref() else {
            return (arrivals, None);
        };
        if is_endpoint(node) || !is_arrival(&event.kind) {
            if event.kind == Kind::RemoteStreamEvent
                && self.running.contains(node)
                && !self.streaming.contains(node)
            {
                self.streaming.push(node.clone());
            }
            return (arrivals, None);
        }
        let reached_before = self.reached.iter().any(|reached| reached == node);
        if event.kind == Kind::NodeStart && event.attempt.unwrap_or(0) == 0 {
            // A new message at `node`: the next start after each success still awaiting one
            // (a node's own next message is not what its success led to).
            for from in self.awaiting_next.iter().filter(|waiting| *waiting != node) {
                self.next_starts.push((from.clone(), node.clone()));
            }
            self.awaiting_next.retain(|waiting| waiting == node);
        }
        let mut follow = None;
        if event.kind == Kind::NodeStart
            && event.attempt.unwrap_or(0) == 0
            && let Some(from) = self.awaiting_follower.take()
            && reached_before
            && from != *node
        {
            follow = Some(Follow {
                from,
                to: node.clone(),
            });
        }
        if !reached_before {
            self.reached.push(node.clone());
            let senders: Vec<Name> = self
                .running
                .iter()
                .filter(|running| *running != node)
                .cloned()
                .collect();
            // No node that succeeded can still send to a new node (none did, or each already
            // sent to as many nodes as it has edges): a running node sent it, and its success
            // is logged later (`ctx.emit`, a router).
            let spent = self
                .succeeded
                .iter()
                .all(|succeeded| self.spent(succeeded, outgoing));
            // A node streaming chunks is the likeliest sender: the arrival is settled now,
            // with it as its most recent candidate (see `arrival`).
            let streaming = self.streaming.iter().any(|streaming| streaming != node);
            if spent && !senders.is_empty() && !streaming {
                self.waiting.push((node.clone(), senders));
            } else {
                let arrival = self.arrival(node);
                arrivals.push(self.sent_by(arrival));
            }
        }
        match event.kind {
            Kind::NodeStart => {
                if !self.running.iter().any(|running| running == node) {
                    self.running.push(node.clone());
                }
            }
            Kind::NodeRetry => {}
            _ => {
                self.running.retain(|running| running != node);
                self.streaming.retain(|streaming| streaming != node);
            }
        }
        if event.kind == Kind::NodeSuccess {
            // Keep each node once, at the position of its latest success.
            self.succeeded.retain(|succeeded| succeeded != node);
            self.succeeded.push(node.clone());
            self.sender(node).success = Some((event.ts, event.node_id.clone()));
            if !self.waiting.is_empty() {
                let (settled, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
                    .into_iter()
                    .partition(|(_, senders)| senders.iter().any(|sender| sender == node));
                self.waiting = still;
                for (waiting, _) in &settled {
                    let arrival = self.arrival(waiting);
                    arrivals.push(self.sent_by(arrival));
                }
            }
            self.awaiting_follower = Some(node.clone());
            if !self.awaiting_next.contains(node) {
                self.awaiting_next.push(node.clone());
            }
        }
        (arrivals, follow)
    }

    /// The arrival of `node`: the nodes that succeeded before it, most recent first, then
    /// (after `RUNNING_MARK`) the nodes still running: a handler that emits with `ctx.emit`
    /// queues its output before its own success is logged. Running nodes are only fallbacks:
    /// a sibling branch still running says nothing of the sender. A node streaming a remote
    /// call's chunks has sent, and sends still: it comes first, as the most recent.
    fn arrival(&self, node: &Name) -> Arrival {
        let streaming = |candidate: &&Name| self.streaming.contains(candidate);
        let mut candidates: Vec<Name> = self
            .streaming
            .iter()
            .chain(self.succeeded.iter().rev().filter(|c| !streaming(c)))
            .filter(|candidate| *candidate != node)
            .take(MAX_CANDIDATES)
            .cloned()
            .collect();
        let running: Vec<&Name> = self
            .running
            .iter()
            .filter(|running| {
                *running != node && !self.succeeded.contains(running) && !streaming(running)
            })
            .collect();
        if !running.is_empty() {
            candidates.push(Name::from(RUNNING_MARK));
            candidates.extend(running.into_iter().take(MAX_CANDIDATES).cloned());
        }
        Arrival {
            node: node.clone(),
            candidates,
            sent: None,
        }
    }

    fn sender(&mut self, node: &Name) -> &mut Sender {
        match self.senders.iter().position(|sender| sender.node == *node) {
            Some(index) => &mut self.senders[index],
            None => {
                self.senders.push(Sender {
                    node: node.clone(),
                    sent: 0,
                    success: None,
                });
                self.senders.last_mut().expect("just pushed")
            }
        }
    }

    /// True when `node` already sent to as many nodes of this trace as it has outgoing edges:
    /// it cannot be the sender of another node's first message.
    fn spent(&self, node: &Name, outgoing: &NameMap<i64>) -> bool {
        let limit = outgoing.get(node).copied().unwrap_or(0);
        let sent = self
            .senders
            .iter()
            .find(|sender| sender.node == *node)
            .map_or(0, |sender| sender.sent);
        limit > 0 && sent >= limit
    }

    /// Counts the arrival as sent by its likeliest sender (its first candidate), and notes
    /// when that sender's success was logged.
    fn sent_by(&mut self, mut arrival: Arrival) -> Arrival {
        let succeeded = succeeded_part(&arrival.candidates);
        let sender = succeeded
            .first()
            .or_else(|| arrival.candidates.get(succeeded.len() + 1));
        if let Some(sender) = sender {
            let succeeded = !succeeded.is_empty();
            let sender = self.sender(sender);
            sender.sent += 1;
            if succeeded {
                arrival.sent.clone_from(&sender.success);
            }
        }
        arrival
    }

    /// Settles the arrivals still waiting (the trace ended) with the successes seen so far.
    /// One that waited for a running sender whose success never came (the log ends, the
    /// handler hangs) is credited to it: the nodes that succeeded had all sent what they
    /// could, so they are left out of its candidates.
    pub fn settle_waiting(&mut self, outgoing: &NameMap<i64>) -> Vec<Arrival> {
        let waiting = std::mem::take(&mut self.waiting);
        let mut arrivals = Vec::new();
        for (node, _) in &waiting {
            let mut arrival = self.arrival(node);
            let succeeded = succeeded_part(&arrival.candidates).len();
            if succeeded < arrival.candidates.len() {
                let (done, running) = arrival.candidates.split_at(succeeded);
                let mut candidates: Vec<Name> = done
                    .iter()
                    .filter(|c| !self.spent(c, outgoing))
                    .cloned()
                    .collect();
                candidates.extend(running.iter().cloned());
                arrival.candidates = candidates;
            }
            arrivals.push(self.sent_by(arrival));
        }
        arrivals
    }

    /// Takes the (success, next new message) pairs seen since the last call.
    pub fn take_next_starts(&mut self) -> std::vec::Drain<'_, (Name, Name)> {
        self.next_starts.drain(..)
    }

    /// The nodes the trace reached, in order of first arrival.
    pub fn reached(&self) -> &[Name] {
        &self.reached
    }
}

/// Learns the flow graph from every event of every trace, in one pass.
#[derive(Debug, Default)]
pub struct GraphLearner {
    walks: NameMap<TraceWalk>,
    /// For each node, how often each candidate list preceded its arrival.
    arrivals: NameMap<FastMap<Vec<Name>, u64>>,
    /// For each node, the number of traces in which it succeeded.
    succeeded_traces: NameMap<u64>,
    /// For each node, its successes, and how often the next start in its trace was each node
    /// the trace had already reached (`Follow`).
    successes: NameMap<u64>,
    follows: NameMap<FastMap<Name, u64>>,
    /// For each node, how often the next new message of its trace after one of its successes
    /// started at each other node.
    next_starts: NameMap<FastMap<Name, u64>>,
    /// The out-degree each node's events report (`outgoing`).
    outgoing: NameMap<i64>,
    /// Messages each node took (first attempts), over all traces.
    messages: NameMap<u64>,
    /// For each sender, receiver and sender instance (`node_id`): the latest send (the
    /// sender's success) of a message the receiver took.
    latest_sends: FastMap<(Name, Name, Option<Name>), Timestamp>,
    newest: Timestamp,
    last_eviction: Timestamp,
}

impl GraphLearner {
    pub fn observe(&mut self, event: &Event) {
        let Some(trace_id) = event.trace_id.as_ref() else {
            return;
        };
        self.newest = self.newest.max(event.ts);
        let walk = match self.walks.get_mut(trace_id) {
            Some(walk) => walk,
            None => self.walks.entry(trace_id.clone()).or_default(),
        };
        let first_success = event.kind == Kind::NodeSuccess
            && event
                .node_name
                .as_ref()
                .is_some_and(|node| !is_endpoint(node) && !walk.succeeded.contains(node));
        if let Some(node) = event.node_name.as_ref().filter(|n| !is_endpoint(n))
            && let Some(outgoing) = event.outgoing
            && self
                .outgoing
                .get(node)
                .is_none_or(|known| *known < outgoing)
        {
            self.outgoing.insert(node.clone(), outgoing);
        }
        let (arrivals, follow) = walk.observe_walk(event, &self.outgoing);
        for (from, to) in walk.take_next_starts() {
            *self
                .next_starts
                .entry(from)
                .or_default()
                .entry(to)
                .or_default() += 1;
        }
        for arrival in arrivals {
            Self::count(&mut self.arrivals, &mut self.latest_sends, arrival);
        }
        if let Some(follow) = follow {
            *self
                .follows
                .entry(follow.from)
                .or_default()
                .entry(follow.to)
                .or_default() += 1;
        }
        if let Some(node) = event.node_name.as_ref().filter(|n| !is_endpoint(n)) {
            if event.kind == Kind::NodeStart && event.attempt.unwrap_or(0) == 0 {
                match self.messages.get_mut(node) {
                    Some(count) => *count += 1,
                    None => {
                        self.messages.insert(node.clone(), 1);
                    }
                }
            }
            if event.kind == Kind::NodeSuccess {
                match self.successes.get_mut(node) {
                    Some(count) => *count += 1,
                    None => {
                        self.successes.insert(node.clone(), 1);
                    }
                }
            }
        }
        if first_success && let Some(node) = &event.node_name {
            *self.succeeded_traces.entry(node.clone()).or_default() += 1;
        }
        if self.newest.0.saturating_sub(self.last_eviction.0) > IDLE_TRACE_MICROS / 4 {
            self.last_eviction = self.newest;
            let cutoff = self.newest.0.saturating_sub(IDLE_TRACE_MICROS);
            let arrivals = &mut self.arrivals;
            let sends = &mut self.latest_sends;
            let outgoing = &self.outgoing;
            self.walks.retain(|_, walk| {
                let keep = walk.last_ts.0 >= cutoff;
                if !keep {
                    for arrival in walk.settle_waiting(outgoing) {
                        Self::count(arrivals, sends, arrival);
                    }
                }
                keep
            });
        }
    }

    fn count(
        arrivals: &mut NameMap<FastMap<Vec<Name>, u64>>,
        sends: &mut FastMap<(Name, Name, Option<Name>), Timestamp>,
        arrival: Arrival,
    ) {
        if let (Some((at, instance)), Some(sender)) =
            (&arrival.sent, succeeded_part(&arrival.candidates).first())
        {
            let latest = sends
                .entry((sender.clone(), arrival.node.clone(), instance.clone()))
                .or_insert(*at);
            *latest = (*latest).max(*at);
        }
        *arrivals
            .entry(arrival.node)
            .or_default()
            .entry(arrival.candidates)
            .or_default() += 1;
    }

    /// Settles and forgets the walk of a trace judged finished (its waiting arrivals counted,
    /// as when a walk goes idle).
    pub fn settle_trace(&mut self, trace_id: &str) {
        if let Some(mut walk) = self.walks.remove(trace_id) {
            for arrival in walk.settle_waiting(&self.outgoing) {
                Self::count(&mut self.arrivals, &mut self.latest_sends, arrival);
            }
        }
    }

    /// Forgets the walks of traces `keep` rejects (a sampler narrowing its sample).
    pub fn retain_traces(&mut self, keep: impl Fn(&str) -> bool) {
        self.walks.retain(|trace, _| keep(trace));
    }

    /// The learned graph.
    pub fn finish(mut self) -> FlowGraph {
        for walk in self.walks.values_mut() {
            for arrival in walk.settle_waiting(&self.outgoing) {
                Self::count(&mut self.arrivals, &mut self.latest_sends, arrival);
            }
        }
        self.graph()
    }

    /// The graph learned so far (arrivals still waiting for their sender are left out).
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
        let mut back_edges = self.back_edges();
        back_edges.extend(self.fan_in_edges(&credited, &consistent));
        self.respect_out_degrees(&mut credited, &back_edges);
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
        let mut graph = FlowGraph::from_counts(counts);
        graph.left = self
            .succeeded_traces
            .iter()
            .map(|(node, traces)| (node.to_string(), *traces))
            .collect();
        // Nodes no other node follows send their results to the egress.
        let mut sinks: Vec<Edge> = self
            .succeeded_traces
            .iter()
            .filter(|(node, _)| !graph.edges.iter().any(|e| e.from.as_str() == &***node))
            .map(|(node, traces)| Edge {
                from: node.to_string(),
                to: EGRESS.to_string(),
                traces: *traces,
            })
            .collect();
        graph.edges.append(&mut sinks);
        graph.sort();
        // Joins: nodes taking a message per inbound edge per trace (about as many messages per
        // trace as inbound edges, at least two).
        for (node, patterns) in &self.arrivals {
            let arrivals: u64 = patterns.values().sum();
            let messages = self.messages.get(node).copied().unwrap_or(0);
            let inbound = graph.edges.iter().filter(|e| e.to == **node).count();
            if inbound >= 2 && (messages as f64) >= 1.5 * arrivals as f64 {
                graph.joins.insert(node.to_string(), inbound);
            }
        }
        for ((from, to, instance), at) in &self.latest_sends {
            if graph.edges.iter().any(|e| e.from == **from && e.to == **to) {
                let instance = instance.as_deref().unwrap_or_default();
                graph.latest_sends.insert(
                    (from.to_string(), to.to_string(), instance.to_string()),
                    *at,
                );
            }
        }
        graph
    }
}

impl GraphLearner {
    /// Back edges of cycles: a node whose successes are nearly always followed by a new message
    /// at a node its trace already reached (`Follow`) sends there (`act -> plan` in a plan/act
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
    /// first arrival, or just before it without preceding it consistently) is not a sink.
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
            if (messages as f64) < 1.5 * arrivals as f64 {
                continue;
            }
            let followed_by_it = self.next_starts.iter().filter_map(|(from, next)| {
                let followed: u64 = next.values().sum();
                let here = next.get(node).copied().unwrap_or(0);
                let successes = self.successes.get(from).copied().unwrap_or(0);
                (from != node
                    && here as f64 >= CONSISTENT_SHARE * followed as f64
                    && 2 * followed >= successes)
                    .then_some(&**from)
            });
            let mut inputs: Vec<&str> = consistent
                .get(&**node)
                .into_iter()
                .flatten()
                .copied()
                .chain(followed_by_it)
                .collect();
            inputs.sort();
            inputs.dedup();
            for candidate in inputs {
                let sends = credited.iter().any(|(_, _, _, from)| *from == candidate);
                let follows = back_edges.iter().any(|((from, _), _)| *from == candidate);
                if !sends && !follows {
                    edges.push(((candidate, &**node), arrivals));
                }
            }
        }
        edges
    }

    /// A node sends to at most its `outgoing` nodes. Where the crediting gave a node more
    /// successors than that (a fan-out sibling or a join that finished before a branch
    /// started, a running emitter), the successor that has another candidate sender with room
    /// to spare is credited to it instead.
    fn respect_out_degrees<'a>(
        &self,
        credited: &mut [(&'a str, &'a [Name], u64, &'a str)],
        back_edges: &[((&str, &str), u64)],
    ) {
        let successors_of = |credited: &[(&str, &[Name], u64, &str)], node: &str| -> Vec<String> {
            let mut successors: Vec<String> = credited
                .iter()
                .filter(|(_, _, _, from)| *from == node)
                .map(|(to, _, _, _)| to.to_string())
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
        };
        let capacity = |node: &str| -> Option<usize> {
            self.outgoing
                .get(node)
                .filter(|outgoing| **outgoing > 0)
                .map(|outgoing| *outgoing as usize)
        };
        for _ in 0..self.arrivals.len().max(1) {
            let mut moved = false;
            let senders: Vec<String> = credited
                .iter()
                .map(|(_, _, _, from)| from.to_string())
                .collect();
            for sender in senders {
                let successors = successors_of(credited, &sender);
                let Some(limit) = capacity(&sender) else {
                    continue;
                };
                if successors.len() <= limit {
                    continue;
                }
                // The receivers credited to `sender` that could have come from a sender with
                // room (or one already sending to them), fewest arrivals first.
                let mut movable: Vec<(u64, String, String)> = Vec::new();
                for receiver in &successors {
                    let mut total = 0;
                    let mut alternative: Option<String> = None;
                    let mut all_movable = true;
                    for (to, candidates, count, from) in credited.iter() {
                        if *to != receiver.as_str() || *from != sender.as_str() {
                            continue;
                        }
                        total += count;
                        let other = candidates.iter().find(|c| {
                            &***c != sender.as_str() && &***c != RUNNING_MARK && {
                                let theirs = successors_of(credited, c);
                                theirs.contains(receiver)
                                    || capacity(c).is_none_or(|limit| theirs.len() < limit)
                            }
                        });
                        match other {
                            Some(other) => alternative = alternative.or(Some(other.to_string())),
                            None => all_movable = false,
                        }
                    }
                    if let (true, Some(alternative)) = (all_movable, alternative) {
                        movable.push((total, receiver.clone(), alternative));
                    }
                }
                movable.sort();
                if let Some((_, receiver, _)) = movable.first() {
                    // Re-credit each of its patterns to its own first sender with room.
                    let snapshot: Vec<(&'a str, &'a [Name], u64, &'a str)> = credited.to_vec();
                    for entry in credited.iter_mut() {
                        if entry.0 != receiver.as_str() || entry.3 != sender.as_str() {
                            continue;
                        }
                        if let Some(other) = entry.1.iter().find(|c| {
                            &***c != sender.as_str() && &***c != RUNNING_MARK && {
                                let theirs = successors_of(&snapshot, c);
                                theirs.contains(receiver)
                                    || capacity(c).is_none_or(|limit| theirs.len() < limit)
                            }
                        }) {
                            entry.3 = other;
                        }
                    }
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
    }
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
    left: HashMap<String, u64>,
    /// For each edge and sender instance (`node_id`, empty when unknown): the latest send of a
    /// message the receiver took.
    #[serde(skip)]
    latest_sends: HashMap<(String, String, String), Timestamp>,
    /// Joins (a `join_k`, a node fed by several branches of one fan-out): the number of
    /// inbound edges, each bringing one message of every trace.
    #[serde(skip)]
    joins: HashMap<String, usize>,
    /// Each node's successors, computed once on first use: a trace's status asks for them
    /// for every node it visited, for every trace.
    #[serde(skip)]
    successors: std::sync::OnceLock<HashMap<String, Vec<Successor>>>,
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
    fn from_counts(counts: HashMap<(String, String), u64>) -> FlowGraph {
        let mut outgoing: HashMap<&str, u64> = HashMap::new();
        let mut incoming: HashMap<&str, u64> = HashMap::new();
        for ((from, to), count) in &counts {
            *outgoing.entry(from).or_default() += count;
            *incoming.entry(to).or_default() += count;
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
                !rare(&outgoing, from, **count) || !rare(&incoming, to, **count)
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
            left: HashMap::new(),
            latest_sends: HashMap::new(),
            joins: HashMap::new(),
            successors: std::sync::OnceLock::new(),
        };
        graph.sort();
        graph
    }

    /// Orders edges along the flow: by the source's distance from the ingress, then busiest.
    fn sort(&mut self) {
        self.successors = std::sync::OnceLock::new(); // edges change before a sort
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
        for edge in &self.edges {
            for node in [edge.from.as_str(), edge.to.as_str()] {
                if !is_endpoint(node) && !nodes.contains(&node) {
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
        self.successors
            .get_or_init(|| {
                let mut by_node: HashMap<String, Vec<Successor>> = HashMap::new();
                for edge in &self.edges {
                    if !by_node.contains_key(&edge.from) {
                        by_node.insert(edge.from.clone(), self.compute_successors(&edge.from));
                    }
                }
                by_node
            })
            .get(node)
            .map_or(&[], Vec::as_slice)
    }

    fn compute_successors(&self, node: &str) -> Vec<Successor> {
        let leaving: Vec<&Edge> = self.edges.iter().filter(|e| e.from == node).collect();
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
        let shares: f64 = self
            .successors(node)
            .iter()
            .filter(|s| s.node_name != EGRESS)
            .map(|s| s.share)
            .sum();
        shares > FAN_OUT_SHARES
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
        let successors = self.successors(node);
        !successors.is_empty() && successors.iter().all(|s| s.node_name == EGRESS)
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
        self.edges.iter().filter(|e| e.to == node).count()
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
    let mut depth: HashMap<String, usize> = HashMap::new();
    depth.insert(INGRESS.to_string(), 0);
    let mut frontier = vec![INGRESS.to_string()];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for node in &frontier {
            let level = depth[node] + 1;
            for edge in edges.iter().filter(|e| &e.from == node) {
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
        let mut edges: Vec<(&str, &str)> = graph
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        edges.sort();
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
            e.outgoing = Some(outgoing(node));
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
        let mut walk = TraceWalk::default();
        let mut outgoing = NameMap::default();
        outgoing.insert(Name::from("ingest"), 1);
        outgoing.insert(Name::from("route"), 2);
        let mut arrivals = Vec::new();
        for event in routed_trace("cut", 0, "llm", false).into_iter().take(4) {
            arrivals.extend(walk.observe(&event, &outgoing));
        }
        arrivals.extend(walk.settle_waiting(&outgoing));
        let senders: Vec<(&str, &str)> = arrivals
            .iter()
            .map(|a| {
                let first = a.candidates.iter().find(|c| &***c != RUNNING_MARK);
                (&*a.node, first.map_or(INGRESS, |c| &**c))
            })
            .collect();
        assert_eq!(
            senders,
            vec![("ingest", "OpenSea"), ("route", "ingest"), ("llm", "route")]
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
            let last = stop.last_success.map(|v| v.node_name.clone());
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
}
