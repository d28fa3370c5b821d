//! One rule for "these deadline skips are a node's capacity, not the callers' budget": the
//! traces that expired in the flow are, nearly all, the traces whose path goes through one node
//! that only part of the traffic takes (a router's branch), while the traffic that does not go
//! there waited in the same queues before it and got through; and that node was at capacity
//! (its own work kept its worker busy most of the span, its inbound queue filled). The budget
//! is then not what is short: the same budget gets the other traffic through, and those
//! traces' own work is a fraction of it. Classify's checklist says it (and stops telling the
//! callers to raise their budget for those traces); triage ranks the bottleneck's step first
//! when that node is the bottleneck.
//!
//! On a chain (every trace takes every node) nothing tells the budget from the capacity, so
//! this rule never applies there: the tenant rule (other tenants' messages got through the same
//! queues) and the generic "slower than the callers' budget" step stay in charge.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::graph::{FlowGraph, is_endpoint};
use super::percentile::Percentiles;
use super::tenant_share::{self, MIN_TENANT_EVIDENCE, TENANT_SHARE};
use super::trace::{NodeVisit, TraceStatus, TraceSummary};
use crate::event::{Event, Kind, Name, NameSlots, Timestamp};

/// A node whose own work kept its worker(s) busy at least this share of the span is at
/// capacity.
pub const AT_CAPACITY_BUSY: f64 = 0.8;

/// Nodes followed at most (a log with a name per instance must not grow this without bound).
const MAX_NODES: usize = 1024;

/// Per node: the finished traces that reached it, and those of them whose deadline expired in
/// the flow, with what those had left of their budget at their first event, the nodes they
/// visited and their tenants.
#[derive(Debug, Default)]
struct Reach {
    /// Finished traces (not in flight) that reached it, and the succeeded ones among them.
    traces: u64,
    succeeded: u64,
    expired: u64,
    budget_left_ms: Percentiles,
    path: BTreeSet<Name>,
    tenants: BTreeMap<String, u64>,
}

/// The paths of finished traces and of those that expired in the flow, per node.
#[derive(Debug, Default)]
pub struct ExpiryPaths {
    /// Found by the name's address for most visits, not by hashing its text.
    reach: NameSlots<Reach>,
    /// Finished traces (not in flight), succeeded ones, and those expired in the flow.
    traces: u64,
    succeeded: u64,
    expired: u64,
}

/// A node is a branch (some of the traffic goes another way) when at least this share of the
/// succeeded traces, and `MIN_TENANT_EVIDENCE` of them, finished without reaching it. Traces
/// still in flight or skipped before it do not count: on a chain they have not got there yet.
pub const BRANCH_BYPASS_SHARE: f64 = 0.1;

impl ExpiryPaths {
    /// The node's reach, made if there is room (one lookup: every visit of every finished
    /// trace comes here).
    fn entry(&mut self, node: &Name) -> Option<&mut Reach> {
        if self.reach.len() < MAX_NODES {
            Some(self.reach.get_or_insert_with(node, Reach::default))
        } else {
            self.reach.get_mut(node)
        }
    }

    /// A finished trace, by its status and the nodes it reached (traces in flight at the end
    /// are left out: where they go is not known yet).
    pub fn trace(&mut self, status: TraceStatus, visits: &[NodeVisit]) {
        if status == TraceStatus::InFlight {
            return;
        }
        let succeeded = status == TraceStatus::Succeeded;
        self.traces += 1;
        self.succeeded += u64::from(succeeded);
        for visit in visits {
            if let Some(reach) = self.entry(&visit.node_name) {
                reach.traces += 1;
                reach.succeeded += u64::from(succeeded);
            }
        }
    }

    /// A trace whose deadline expired in the flow (already counted by `trace`): the nodes it
    /// reached, its tenant, and the budget it had left at its first event (the deadline less
    /// that event's time; negative when the skip was its first event).
    pub fn expired(&mut self, nodes: &[&Name], tenant: &str, budget_left_ms: Option<f64>) {
        self.expired += 1;
        for node in nodes {
            let Some(reach) = self.entry(node) else {
                continue;
            };
            reach.expired += 1;
            if let Some(left) = budget_left_ms {
                reach.budget_left_ms.add(left);
            }
            for other in nodes {
                if !reach.path.contains(*other) && reach.path.len() < MAX_NODES {
                    reach.path.insert(Name::clone(other));
                }
            }
            let room = reach.tenants.len() < MAX_NODES;
            match reach.tenants.get_mut(tenant) {
                Some(count) => *count += 1,
                None if room => {
                    reach.tenants.insert(tenant.to_string(), 1);
                }
                None => {}
            }
        }
    }
}

/// What classify knows of one node's capacity.
#[derive(Debug, Clone, Default)]
pub struct NodeCapacity {
    /// The share of the span its workers spent on their own work (attempts, backoff; not the
    /// waits to hand output over), per worker.
    pub own_busy_share: f64,
    pub q_depth_in_max: i64,
    pub queue_maxsize: Option<i64>,
    /// p50 of its successes that did not wait on a full outbound queue.
    pub own_p50_ms: Option<f64>,
    /// Workers (node_ids) seen.
    pub instances: u64,
    /// First attempts it took, per tenant.
    pub tenants: BTreeMap<String, u64>,
    /// Its successes, their time in all (s, waits to hand output over included) and their p50.
    pub successes: u64,
    pub success_s: f64,
    pub success_p50_ms: Option<f64>,
}

/// A tenant whose messages are (nearly) all of a node's traffic.
#[derive(Debug, Clone, Serialize)]
pub struct TenantTraffic {
    pub tenant: String,
    /// Its first attempts at the node, and all first attempts there.
    pub messages: u64,
    pub of: u64,
}

/// A router just before the node: it hands each message to one branch and waits while that
/// branch's queue is full, holding every message behind it.
#[derive(Debug, Clone, Serialize)]
pub struct RouterAhead {
    pub node_name: String,
    /// Its successes, their time in all (s) and their p50 (ms): a router's own work is a
    /// predicate, so time beyond `successes x p50` is time spent waiting to hand over.
    pub successes: u64,
    pub success_s: f64,
    pub p50_ms: f64,
    /// That wait (s), and its share of the span.
    pub waited_s: f64,
    pub waited_share: f64,
}

/// A router ahead of the node counts as holding the other branches when its waits to hand
/// over took at least this share of the span.
const ROUTER_WAIT_SHARE: f64 = 0.2;

/// Deadline skips that the capacity of one node some of the traffic takes explains.
#[derive(Debug, Clone, Serialize)]
pub struct CapacityExpiry {
    pub node_name: String,
    /// Traces that expired in the flow and reached it.
    pub traces: u64,
    /// Of every trace that expired in the flow.
    pub expired_in_flow: u64,
    /// Finished traces (not in flight) that reached it; those that did not, and how many of
    /// those expired.
    pub reached: u64,
    pub others: u64,
    pub others_expired: u64,
    /// Nodes before it that the other traffic shares (waited in the same queues).
    pub shared_upstream: Vec<String>,
    pub own_busy_share: f64,
    pub q_depth_in_max: i64,
    pub queue_maxsize: Option<i64>,
    pub own_p50_ms: Option<f64>,
    pub instances: u64,
    /// Messages per second it took over the span, and what its own work allows.
    pub rate_per_s: f64,
    pub capacity_per_s: Option<f64>,
    /// p50 of the budget those traces had left at their first event (the wait before the
    /// first node is not logged, so their real budget was larger).
    pub budget_left_p50_ms: Option<f64>,
    /// The nodes those traces visited, and the sum of their p50 own work.
    pub path: Vec<String>,
    pub path_work_ms: f64,
    pub tenant: Option<TenantTraffic>,
    pub router: Option<RouterAhead>,
    /// Those traces per tenant (to tell the tenant rule what is left).
    #[serde(skip)]
    pub by_tenant: BTreeMap<String, u64>,
}

/// The node whose capacity explains the deadline skips in the flow, if one does. `span_s` is
/// the span of the input; `capacity` what is known of a node.
pub fn at_capacity(
    paths: &ExpiryPaths,
    expired_in_flow: u64,
    span_s: f64,
    graph: &FlowGraph,
    capacity: impl Fn(&str) -> Option<NodeCapacity>,
) -> Option<CapacityExpiry> {
    if expired_in_flow < MIN_TENANT_EVIDENCE || span_s <= 0.0 {
        return None;
    }
    let expired_total = paths.expired.min(expired_in_flow);
    let traces_total = paths.traces;
    let candidate = paths
        .reach
        .iter()
        .filter(|(node, _)| !is_endpoint(node))
        .filter(|(_, reach)| reach.expired as f64 >= TENANT_SHARE * expired_total as f64)
        // A branch: succeeded traces finished without it.
        .filter(|(_, reach)| {
            let bypassed = paths.succeeded.saturating_sub(reach.succeeded);
            bypassed >= MIN_TENANT_EVIDENCE
                && bypassed as f64 >= BRANCH_BYPASS_SHARE * paths.succeeded as f64
        })
        // Its traffic stands out: the traces reaching it expire at least twice as often as
        // the others, and there are enough others to tell.
        .filter(|(_, reach)| {
            tenant_share::stands_out(
                "here",
                |key| if key == "here" { reach.expired } else { 0 },
                |key| if key == "here" { reach.traces } else { 0 },
                expired_total,
                traces_total,
            )
        })
        .filter_map(|(node, reach)| Some((node, reach, capacity(node)?)))
        .filter(|(_, _, node)| {
            node.own_busy_share >= AT_CAPACITY_BUSY
                && node
                    .queue_maxsize
                    .is_none_or(|size| size <= 0 || node.q_depth_in_max >= size)
        })
        // The narrowest such node (the branch), then the most expiries.
        .max_by(|a, b| {
            b.1.traces
                .cmp(&a.1.traces)
                .then(a.1.expired.cmp(&b.1.expired))
                .then(b.0.cmp(a.0))
        })?;
    let (node, reach, facts) = candidate;
    let own_work = |name: &str| capacity(name).and_then(|c| c.own_p50_ms);
    let flow_order = graph.nodes();
    let mut path: Vec<String> = reach.path.iter().map(|n| n.to_string()).collect();
    path.sort_by_key(|name| {
        flow_order
            .iter()
            .position(|n| *n == name.as_str())
            .unwrap_or(usize::MAX)
    });
    let path_work_ms = path.iter().filter_map(|name| own_work(name)).sum();
    let shared_upstream = path
        .iter()
        .filter(|name| name.as_str() != &**node)
        .filter(|name| graph.is_downstream(node, name) && !graph.is_downstream(name, node))
        .filter(|name| {
            paths
                .reach
                .get(name.as_str())
                .is_some_and(|r| r.traces > reach.traces)
        })
        .cloned()
        .collect();
    let tenant = tenant_share::dominant_tenant(
        facts
            .tenants
            .iter()
            .map(|(tenant, count)| (tenant.as_str(), *count as f64)),
    )
    .map(|(tenant, messages, of)| TenantTraffic {
        tenant: tenant.to_string(),
        messages: messages as u64,
        of: of as u64,
    });
    let router = graph
        .predecessors(node)
        .into_iter()
        .filter(|p| !is_endpoint(p) && graph.is_router(p))
        .filter_map(|p| Some((p, capacity(p)?)))
        .filter_map(|(p, c)| {
            let p50_ms = c.success_p50_ms?;
            let waited_s = (c.success_s - c.successes as f64 * p50_ms / 1000.0).max(0.0);
            Some(RouterAhead {
                node_name: p.to_string(),
                successes: c.successes,
                success_s: c.success_s,
                p50_ms,
                waited_s,
                waited_share: waited_s / span_s,
            })
        })
        .filter(|r| r.waited_share >= ROUTER_WAIT_SHARE)
        .max_by(|a, b| a.waited_s.total_cmp(&b.waited_s));
    let capacity_per_s = facts
        .own_p50_ms
        .filter(|ms| *ms > 0.0)
        .map(|ms| facts.instances.max(1) as f64 * 1000.0 / ms);
    Some(CapacityExpiry {
        node_name: node.to_string(),
        traces: reach.expired,
        expired_in_flow,
        reached: reach.traces,
        others: traces_total.saturating_sub(reach.traces),
        others_expired: expired_total.saturating_sub(reach.expired),
        shared_upstream,
        own_busy_share: facts.own_busy_share,
        q_depth_in_max: facts.q_depth_in_max,
        queue_maxsize: facts.queue_maxsize,
        own_p50_ms: facts.own_p50_ms,
        instances: facts.instances,
        rate_per_s: reach.traces as f64 / span_s,
        capacity_per_s,
        budget_left_p50_ms: reach.budget_left_ms.percentile(50.0),
        path,
        path_work_ms,
        tenant,
        router,
        by_tenant: reach.tenants.clone(),
    })
}

// Calls that hung past the callers' budget.
//
// A node without a timeout (`NodePolicy.timeout_s` unset: it never logs `node_timeout`) whose
// calls now and then hang holds its one worker for the whole call: the message it works on
// expires inside the call, and the messages queued behind it (at the node and, once its queue
// is full, upstream of it) expire waiting. Such a node's normal speed is fine and the callers'
// budget is fine; the tail is the cause. The rule: a few of the node's successes (its rare
// tail) took at least `HUNG_RATIO` times its own work and at least `HUNG_BUDGET_SHARE` of the
// budget the expired traces had, and nearly every trace that expired in the flow did so while
// one of those calls ran, in its pod, at a node on its path or downstream of it.

/// A success at least this many times its node's p50 own work ...
pub const HUNG_RATIO: f64 = 10.0;
/// ... and at least this share of the expired traces' budget (p50 left at their first event)
/// is a call that hung.
pub const HUNG_BUDGET_SHARE: f64 = 0.5;
/// Hung calls are a node's tail, not its speed, when at most this share of its successes ...
pub const HUNG_RARE_SHARE: f64 = 0.1;
/// ... and they hold it when they took at least this share of its successes' time.
pub const HUNG_BUSY_SHARE: f64 = 0.5;
/// The longest successes kept per node.
const LONGEST_KEPT: usize = 64;
/// Traces that expired in the flow kept to match against hung calls, at most.
pub const MAX_EXPIRED_KEPT: usize = 100_000;

/// One successful attempt: whose, where, when.
#[derive(Debug, Clone)]
pub struct Call {
    pub trace_id: Name,
    pub pod: Option<Name>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub latency_ms: f64,
}

/// A kept call, ordered by its latency (then by arrival, to keep the order total).
#[derive(Debug)]
struct Kept {
    latency_us: i64,
    seq: u64,
    call: Call,
}

impl PartialEq for Kept {
    fn eq(&self, other: &Kept) -> bool {
        (self.latency_us, self.seq) == (other.latency_us, other.seq)
    }
}

impl Eq for Kept {}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Kept) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Kept) -> std::cmp::Ordering {
        (self.latency_us, self.seq).cmp(&(other.latency_us, other.seq))
    }
}

/// The longest successes of one node, at most `LONGEST_KEPT` (a min-heap: a success shorter
/// than the shortest kept costs one comparison).
#[derive(Debug, Default)]
pub struct LongestCalls {
    heap: std::collections::BinaryHeap<std::cmp::Reverse<Kept>>,
    seq: u64,
    /// The workers (node_ids) whose attempt under way started with the outbound queue full.
    started_full: Vec<Name>,
}

/// Workers followed for a full outbound queue at the start of their attempt, at most.
const MAX_STARTED_FULL: usize = 64;

impl LongestCalls {
    /// Takes an event of the node: its `node_success` (and the `node_start` before it). A
    /// success that waited to hand its output over is left out: its time is the node after
    /// it, not its own call. Its outbound reading is logged after the put (a consumer may have
    /// drained the queue meanwhile), so an attempt that started with its outbound queue full
    /// counts as having waited too.
    pub fn add(&mut self, event: &Event) {
        let worker = event.node_id.as_ref();
        match event.kind {
            Kind::NodeStart => {
                let full = super::saturation::waited_to_hand_over(event);
                let known = worker.and_then(|id| self.started_full.iter().position(|w| w == id));
                match (full, known, worker) {
                    (true, None, Some(id)) if self.started_full.len() < MAX_STARTED_FULL => {
                        self.started_full.push(Name::clone(id));
                    }
                    (false, Some(index), _) => {
                        self.started_full.swap_remove(index);
                    }
                    _ => {}
                }
                return;
            }
            Kind::NodeSuccess => {}
            _ => return,
        }
        if super::saturation::waited_to_hand_over(event)
            || worker.is_some_and(|id| self.started_full.contains(id))
        {
            return;
        }
        let (Some(latency), Some(trace_id)) = (event.latency_ms(), &event.trace_id) else {
            return;
        };
        let latency_us = (latency.max(0.0) * 1000.0) as i64;
        if self.heap.len() >= LONGEST_KEPT
            && self
                .heap
                .peek()
                .is_some_and(|shortest| latency_us <= shortest.0.latency_us)
        {
            return;
        }
        self.seq += 1;
        self.heap.push(std::cmp::Reverse(Kept {
            latency_us,
            seq: self.seq,
            call: Call {
                trace_id: Name::clone(trace_id),
                pod: event.pod.clone(),
                start: Timestamp(event.ts.0.saturating_sub(latency_us)),
                end: event.ts,
                latency_ms: latency,
            },
        }));
        if self.heap.len() > LONGEST_KEPT {
            self.heap.pop();
        }
    }

    /// The kept calls that took at least `ms`, longest first.
    pub fn at_least(&self, ms: f64) -> Vec<&Call> {
        let mut calls: Vec<&Call> = self
            .heap
            .iter()
            .map(|kept| &kept.0.call)
            .filter(|call| call.latency_ms >= ms)
            .collect();
        calls.sort_by(|a, b| b.latency_ms.total_cmp(&a.latency_ms));
        calls
    }
}

/// The threshold (ms) from which a success of a node whose p50 own work is `own_p50_ms` hung,
/// for callers that had `budget_ms` left at their first event.
pub fn hung_from_ms(own_p50_ms: f64, budget_ms: f64) -> f64 {
    (HUNG_RATIO * own_p50_ms).max(HUNG_BUDGET_SHARE * budget_ms)
}

/// A node held by its own rare hung calls (at least `HUNG_RATIO` times its p50, at most
/// `HUNG_RARE_SHARE` of its successes, no `node_timeout`), which took at least
/// `HUNG_BUSY_SHARE` of its successes' time: its tail, not its normal speed, keeps its worker
/// busy (saturation's reading of the rule `hung_calls` applies to deadline skips).
#[derive(Debug, Clone, Serialize)]
pub struct HungTail {
    /// Those calls, of its successes; the shortest and longest of them (of those kept).
    pub calls: u64,
    pub successes: u64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Its p50 own work.
    pub p50_ms: f64,
    /// Their time (s, of the longest kept), of all its successes' time.
    pub hung_s: f64,
    pub success_s: f64,
    /// The longest of them.
    pub example_trace: String,
}

/// The hung calls that hold a node (see `HungTail`).
pub fn hung_tail(facts: &NodeCalls) -> Option<HungTail> {
    let (hung, calls, successes, p50_ms) = hung_of(facts, 0.0)?;
    let hung_s: f64 = hung.iter().map(|call| call.latency_ms / 1000.0).sum();
    Some(HungTail {
        calls: calls.max(hung.len() as u64),
        successes,
        min_ms: hung.last().map_or(0.0, |call| call.latency_ms),
        max_ms: hung[0].latency_ms,
        p50_ms,
        hung_s,
        success_s: facts.success_s,
        example_trace: hung[0].trace_id.to_string(),
    })
}

/// A trace whose deadline expired in the flow: when, where, on which path.
#[derive(Debug, Clone)]
pub struct Expired {
    pub trace_id: Name,
    pub tenant: String,
    pub pod: Option<Name>,
    pub first_ts: Timestamp,
    /// Its last event (the skip, or a sibling branch's event after it).
    pub last_ts: Timestamp,
    /// Its `deadline_s`, from the skip.
    pub deadline: Option<Timestamp>,
    pub nodes: Vec<Name>,
}

impl Expired {
    /// A deadline-skipped trace, from its summary.
    pub fn of(summary: &TraceSummary) -> Expired {
        Expired {
            trace_id: Name::from(summary.trace_id.as_str()),
            tenant: summary
                .tenant
                .as_deref()
                .unwrap_or(tenant_share::UNKNOWN_TENANT)
                .to_string(),
            pod: summary.pod.clone(),
            first_ts: summary.first_ts,
            last_ts: summary.last_ts,
            deadline: summary.deadline(),
            nodes: summary
                .visits
                .iter()
                .map(|visit| Name::clone(&visit.node_name))
                .collect(),
        }
    }

    /// The deadline less the first event (ms): what the budget had left when the first node
    /// took the message.
    pub fn budget_left_ms(&self) -> Option<f64> {
        self.deadline
            .map(|deadline| deadline.0.saturating_sub(self.first_ts.0) as f64 / 1000.0)
    }

    /// From when the message was (about) sent, with a budget of `budget_ms`, to its last event:
    /// the wait before the first node is not logged, so the deadline less the budget stands
    /// for the send.
    fn window(&self, budget_ms: f64) -> (Timestamp, Timestamp) {
        let sent = self
            .deadline
            .map(|deadline| Timestamp(deadline.0 - (budget_ms * 1000.0) as i64));
        let start = sent.map_or(self.first_ts, |sent| sent.min(self.first_ts));
        (start, self.last_ts)
    }
}

/// What is known of one node for the hung-call rule.
#[derive(Debug, Clone, Copy)]
pub struct NodeCalls<'a> {
    pub longest: &'a LongestCalls,
    /// p50 of its successes that did not wait on a full outbound queue.
    pub own_p50_ms: Option<f64>,
    /// Every success latency (the hung ones are counted here: `longest` keeps only a few).
    pub latency: &'a Percentiles,
    /// It logged a `node_timeout` (a timeout_s is set and fired).
    pub timed_out: bool,
    /// Its successes' time (s).
    pub success_s: f64,
}

/// Deadline skips that a node's hung calls explain.
#[derive(Debug, Clone, Serialize)]
pub struct HungCalls {
    pub node_name: String,
    /// Its calls that hung, of its successes; the shortest and the longest of them.
    pub calls: u64,
    pub successes: u64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub own_p50_ms: f64,
    /// p50 of the budget the expired traces had left at their first event.
    pub budget_left_p50_ms: f64,
    /// Traces that expired in the flow while one of those calls ran (in their pod, at a node
    /// on their path or downstream of it); of them, those whose own call it was.
    pub traces: u64,
    pub own: u64,
    pub behind: u64,
    pub expired_in_flow: u64,
    /// The longest hung call of a trace that expired in it (else the longest), and its time.
    pub example_trace: String,
    pub example_ms: f64,
    /// Those traces per tenant, and per (pod, tenant) when lines carry a pod.
    #[serde(skip)]
    pub by_tenant: BTreeMap<String, u64>,
}

/// A node's calls that hung for callers with `budget_ms` left at their first event, longest
/// first, with their count and the node's successes and p50 own work: none when the node timed
/// out (a timeout_s cuts its calls), when they are not its rare tail, or when they took less
/// than `HUNG_BUSY_SHARE` of its successes' time (a tail beside a node busy with its normal
/// work does not explain what waited for it).
fn hung_of<'a>(facts: &NodeCalls<'a>, budget_ms: f64) -> Option<(Vec<&'a Call>, u64, u64, f64)> {
    if facts.timed_out {
        return None;
    }
    let own_p50_ms = facts.own_p50_ms.filter(|ms| *ms > 0.0)?;
    let from_ms = hung_from_ms(own_p50_ms, budget_ms);
    let hung = facts.longest.at_least(from_ms);
    let (calls, successes) = (facts.latency.count_at_least(from_ms), facts.latency.count());
    let hung_s: f64 = hung.iter().map(|call| call.latency_ms / 1000.0).sum();
    (!hung.is_empty()
        && calls as f64 <= HUNG_RARE_SHARE * successes as f64
        && hung_s >= HUNG_BUSY_SHARE * facts.success_s)
        .then_some((hung, calls, successes, own_p50_ms))
}

/// Per node, its hung calls (see `hung_of`) less those that only waited on another node's: a
/// long success of a node upstream of a hung call, in its pod and while it ran, is the time it
/// waited to hand its output over to the full queue in front of that call (its reading of the
/// outbound queue, logged after the put, need not show it), not a call of its own that hung.
#[allow(clippy::type_complexity)]
fn hung_by_node<'a>(
    nodes: impl IntoIterator<Item = (&'a str, NodeCalls<'a>)>,
    budget_ms: f64,
    graph: &FlowGraph,
) -> Vec<(&'a str, Vec<&'a Call>, u64, u64, f64)> {
    let found: Vec<(&str, Vec<&Call>, u64, u64, f64)> = nodes
        .into_iter()
        .filter(|(node, _)| !is_endpoint(node))
        .filter_map(|(node, facts)| {
            let (hung, calls, successes, p50) = hung_of(&facts, budget_ms)?;
            Some((node, hung, calls, successes, p50))
        })
        .collect();
    let blocked = |node: &str, call: &Call| {
        found.iter().any(|(other, hung, ..)| {
            *other != node
                && graph.is_downstream(other, node)
                && hung.iter().any(|c| {
                    c.start < call.end
                        && c.end >= call.start
                        && match (&c.pod, &call.pod) {
                            (Some(a), Some(b)) => a == b,
                            _ => true,
                        }
                })
        })
    };
    found
        .iter()
        .filter_map(|(node, hung, calls, successes, p50)| {
            let own: Vec<&Call> = hung
                .iter()
                .copied()
                .filter(|call| !blocked(node, call))
                .collect();
            let removed = (hung.len() - own.len()) as u64;
            (!own.is_empty()).then(|| (*node, own, calls.saturating_sub(removed), *successes, *p50))
        })
        .collect()
}

/// A call at `node` could hold `trace`: the node is on its path or downstream of a node it
/// reached (a full queue blocks the nodes feeding it), the call ran in its pod (pods share
/// no queue), during `window`.
fn holds(
    call: &Call,
    node: &str,
    trace: &Expired,
    (start, end): (Timestamp, Timestamp),
    graph: &FlowGraph,
) -> bool {
    call.start <= end
        && call.end >= start
        && match (&call.pod, &trace.pod) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
        && (graph.edges.is_empty()
            || trace
                .nodes
                .iter()
                .any(|visited| &**visited == node || graph.is_downstream(node, visited)))
}

/// The hung call that caught one expired trace, by the rule of `hung_calls`: its own (it
/// expired inside it), else the longest that ran while it waited. `budget_ms` is the budget
/// callers give (the trace's own, when it had some left at its first event). With the node,
/// and its p50 own work.
pub fn hung_call_of<'a>(
    trace: &Expired,
    budget_ms: f64,
    graph: &FlowGraph,
    nodes: impl IntoIterator<Item = (&'a str, NodeCalls<'a>)>,
) -> Option<(&'a str, &'a Call, f64)> {
    let window = trace.window(budget_ms);
    let mut found: Option<(&str, &Call, f64)> = None;
    for (node, hung, _, _, own_p50_ms) in hung_by_node(nodes, budget_ms, graph) {
        for call in hung {
            if !holds(call, node, trace, window, graph) {
                continue;
            }
            let rank = |c: &Call| (c.trace_id == trace.trace_id, c.latency_ms);
            if found.is_none_or(|(_, best, _)| {
                let (mine, ms) = rank(call);
                let (best_mine, best_ms) = rank(best);
                (mine, ms) > (best_mine, best_ms)
            }) {
                found = Some((node, call, own_p50_ms));
            }
        }
    }
    found
}

/// The node whose rare hung calls explain the deadline skips in the flow, if one does:
/// `expired` the traces that expired in the flow (at most `MAX_EXPIRED_KEPT` of the
/// `expired_in_flow`), `nodes` what is known of each node.
pub fn hung_calls<'a>(
    expired: &[Expired],
    expired_in_flow: u64,
    graph: &FlowGraph,
    nodes: impl IntoIterator<Item = (&'a str, NodeCalls<'a>)>,
) -> Option<HungCalls> {
    if expired_in_flow < MIN_TENANT_EVIDENCE {
        return None;
    }
    let budget_ms = budget_p50_ms(expired)?;
    hung_by_node(nodes, budget_ms, graph)
        .into_iter()
        .filter_map(|(node, hung, calls, successes, own_p50_ms)| {
            let (mut own, mut behind) = (0, 0);
            let mut by_tenant: BTreeMap<String, u64> = BTreeMap::new();
            let mut example: Option<&Call> = None;
            for trace in expired {
                let window = trace.window(budget_ms);
                let mut held = hung
                    .iter()
                    .filter(|call| holds(call, node, trace, window, graph));
                let Some(first) = held.next() else {
                    continue;
                };
                let mine = std::iter::once(first)
                    .chain(held)
                    .find(|call| call.trace_id == trace.trace_id);
                match mine {
                    Some(call) => {
                        own += 1;
                        if example.is_none_or(|e| call.latency_ms > e.latency_ms) {
                            example = Some(call);
                        }
                    }
                    None => behind += 1,
                }
                *by_tenant.entry(trace.tenant.clone()).or_default() += 1;
            }
            let traces = own + behind;
            (traces >= MIN_TENANT_EVIDENCE
                && traces as f64 >= TENANT_SHARE * expired_in_flow as f64)
                .then(|| {
                    let example = example.unwrap_or(hung[0]);
                    HungCalls {
                        node_name: node.to_string(),
                        calls: calls.max(hung.len() as u64),
                        successes,
                        min_ms: hung.last().map_or(0.0, |call| call.latency_ms),
                        max_ms: hung[0].latency_ms,
                        own_p50_ms,
                        budget_left_p50_ms: budget_ms,
                        traces,
                        own,
                        behind,
                        expired_in_flow,
                        example_trace: example.trace_id.to_string(),
                        example_ms: example.latency_ms,
                        by_tenant,
                    }
                })
        })
        .max_by(|a, b| a.traces.cmp(&b.traces).then(b.node_name.cmp(&a.node_name)))
}

/// The budget callers give, as the expired traces show it: the p50 of what they had left at
/// their first event, of those that had some (the wait before the first node is not logged,
/// so it is a lower bound).
pub fn budget_p50_ms(expired: &[Expired]) -> Option<f64> {
    let mut budgets = Percentiles::default();
    for trace in expired {
        if let Some(left) = trace.budget_left_ms().filter(|left| *left > 0.0) {
            budgets.add(left);
        }
    }
    budgets.percentile(50.0)
}

// Deadline skips confined to one pod.
//
// Each pod is its own runtime, with its own queues and workers. When (nearly) every trace that
// expired in the flow ran in one pod, for every tenant that pod serves, the pod's capacity is
// the cause: the tenants of other pods never went through those queues, so their getting
// through says nothing of a tenant's budget. What made the pod fall behind is told from its
// share of the traffic and its node's own work against the other pods' (`tenant_share::
// pod_load`): a pod taking far more than its share with the node as fast as elsewhere is a
// load imbalance (rebalance; replicas do not help while tenants are pinned to the pod), a
// node slower there is the pod's own (its host, a neighbour, a dependency it reaches).

/// One tenant of the pod: its traces that expired in the flow there, the traces it sent
/// there, and whether all its traces ran there (it is pinned to the pod).
#[derive(Debug, Clone, Serialize)]
pub struct PodTenant {
    pub tenant: String,
    pub expired: u64,
    pub traces: u64,
    pub only_here: bool,
}

/// Another pod: the traces it took and those that expired in the flow there.
#[derive(Debug, Clone, Serialize)]
pub struct OtherPod {
    pub pod: String,
    pub traces: u64,
    pub expired: u64,
    /// Its tenants, most traces first.
    pub tenants: Vec<String>,
}

/// Deadline skips confined to one pod, for every tenant it serves.
#[derive(Debug, Clone, Serialize)]
pub struct PodExpiry {
    pub pod: String,
    /// Traces that expired in the flow there, of all that expired in the flow.
    pub traces: u64,
    pub expired_in_flow: u64,
    pub tenants: Vec<PodTenant>,
    pub other_pods: Vec<OtherPod>,
    /// Traces it took, of all traces (every pod).
    pub pod_traces: u64,
    pub all_traces: u64,
    /// The node whose queue held the expired traces longest, its p50 own work in the pod and
    /// in the other pods together, the rate the pod sent it over the span, what its own work
    /// there allows, and the other pods' rate (each).
    pub node_name: String,
    pub own_p50_ms: Option<f64>,
    pub others_own_p50_ms: Option<f64>,
    pub rate_per_s: f64,
    pub capacity_per_s: Option<f64>,
    pub others_rate_per_s: f64,
    /// p50 of the budget those traces had left at their first event, and their path's own work.
    pub budget_left_p50_ms: Option<f64>,
    pub path: Vec<String>,
    pub path_work_ms: f64,
    pub load: tenant_share::PodLoad,
}

impl PodExpiry {
    /// Every tenant of the pod failed there (at least half the pod's rate), or it serves one.
    pub fn for_every_tenant(&self) -> bool {
        let (expired, traces) = self.tenants.iter().fold((0, 0), |(e, t), tenant| {
            (e + tenant.expired, t + tenant.traces)
        });
        if traces == 0 {
            return false;
        }
        let rate = expired as f64 / traces as f64;
        self.tenants.iter().all(|tenant| {
            tenant.traces > 0 && tenant.expired as f64 / tenant.traces as f64 >= rate / 2.0
        })
    }

    /// The pod's tenants that ran nowhere else, most traces first.
    pub fn pinned(&self) -> Vec<&PodTenant> {
        self.tenants.iter().filter(|t| t.only_here).collect()
    }
}

/// The pod the deadline skips in the flow are confined to (`tenant_share::failures_of_one_pod`
/// on the traces that expired in the flow against every trace, per (pod, tenant)), with what
/// tells its load apart. `node` is where the expired traces waited longest; `own_work` gives
/// that node's own work (successes that did not wait on a full queue) per pod; `expired` the
/// expired traces kept (for their budget and path); `path_work` a node's p50 own work.
#[allow(clippy::too_many_arguments)]
pub fn in_one_pod(
    expired_by_pod: &BTreeMap<(String, String), u64>,
    traces_by_pod: &BTreeMap<(String, String), u64>,
    node: &str,
    own_work: impl Fn(&str) -> Option<Percentiles>,
    expired: &[Expired],
    span_s: f64,
    graph: &FlowGraph,
    path_work: impl Fn(&str) -> Option<f64>,
) -> Option<PodExpiry> {
    let found = tenant_share::failures_of_one_pod(expired_by_pod, traces_by_pod)?;
    let pod = found.pod;
    // Per pod: traces, expired traces, and traces per tenant.
    type PodCounts<'t> = (u64, u64, Vec<(&'t str, u64)>);
    let mut by_pod: BTreeMap<&str, PodCounts> = BTreeMap::new();
    for ((p, tenant), traces) in traces_by_pod {
        let entry = by_pod.entry(p.as_str()).or_default();
        entry.0 += traces;
        entry.2.push((tenant.as_str(), *traces));
    }
    for ((p, _), count) in expired_by_pod {
        by_pod.entry(p.as_str()).or_default().1 += count;
    }
    let tenant_total = |tenant: &str| -> u64 {
        traces_by_pod
            .iter()
            .filter(|((_, t), _)| t == tenant)
            .map(|(_, n)| n)
            .sum()
    };
    let mut tenants: Vec<PodTenant> = found
        .tenants
        .iter()
        .map(|(tenant, failed, taken)| PodTenant {
            tenant: tenant.to_string(),
            expired: *failed,
            traces: *taken,
            only_here: tenant_total(tenant) == *taken,
        })
        .collect();
    tenants.sort_by(|a, b| b.traces.cmp(&a.traces).then(a.tenant.cmp(&b.tenant)));
    let other_pods: Vec<OtherPod> = by_pod
        .iter()
        .filter(|(p, _)| **p != pod)
        .map(|(p, (traces, expired, tenants))| {
            let mut tenants = tenants.clone();
            tenants.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            OtherPod {
                pod: p.to_string(),
                traces: *traces,
                expired: *expired,
                tenants: tenants.iter().map(|(t, _)| t.to_string()).collect(),
            }
        })
        .collect();
    let pod_traces = by_pod.get(pod).map_or(0, |entry| entry.0);
    let all_traces: u64 = by_pod.values().map(|entry| entry.0).sum();
    let own_here = own_work(pod);
    let mut elsewhere = Percentiles::default();
    for other in &other_pods {
        if let Some(work) = own_work(&other.pod) {
            elsewhere.merge(&work);
        }
    }
    let own_p50_ms = own_here.as_ref().and_then(|p| p.percentile(50.0));
    let others_own_p50_ms = elsewhere.percentile(50.0);
    let rate = |traces: u64| {
        if span_s > 0.0 {
            traces as f64 / span_s
        } else {
            0.0
        }
    };
    let others_traces: u64 = other_pods.iter().map(|p| p.traces).sum();
    let mine: Vec<&Expired> = expired
        .iter()
        .filter(|trace| trace.pod.as_deref() == Some(pod))
        .collect();
    let mut budget = Percentiles::default();
    let mut path: Vec<String> = Vec::new();
    for trace in &mine {
        if let Some(left) = trace.budget_left_ms() {
            budget.add(left);
        }
        for node in &trace.nodes {
            if !path.iter().any(|known| known == &**node) && path.len() < MAX_NODES {
                path.push(node.to_string());
            }
        }
    }
    let order = graph.nodes();
    path.sort_by_key(|name| {
        order
            .iter()
            .position(|n| *n == name.as_str())
            .unwrap_or(usize::MAX)
    });
    let path_work_ms = path.iter().filter_map(|name| path_work(name)).sum();
    Some(PodExpiry {
        pod: pod.to_string(),
        traces: found.failures,
        expired_in_flow: found.total,
        tenants,
        pod_traces,
        all_traces,
        node_name: node.to_string(),
        own_p50_ms,
        others_own_p50_ms,
        rate_per_s: rate(pod_traces),
        capacity_per_s: own_p50_ms.filter(|ms| *ms > 0.0).map(|ms| 1000.0 / ms),
        others_rate_per_s: rate(others_traces) / other_pods.len().max(1) as f64,
        budget_left_p50_ms: budget.percentile(50.0),
        path,
        path_work_ms,
        load: tenant_share::pod_load(
            pod_traces,
            all_traces,
            other_pods.len() + 1,
            own_p50_ms,
            others_own_p50_ms,
        ),
        other_pods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::graph::Edge;
    use crate::event::Count;
    use crate::event::test_event;

    fn success(ms: i64, trace: &str, latency: f64) -> Event {
        let mut event = test_event(ms, trace, "b", Kind::NodeSuccess);
        event.set_latency_ms(Some(latency));
        event.set_count(Count::QDepthOut, Some(0));
        event.set_count(Count::QueueMaxsize, Some(8));
        event.node_id = Some("w1".into());
        event
    }

    #[test]
    fn the_longest_calls_are_kept_and_hand_overs_left_out() {
        let mut calls = LongestCalls::default();
        for i in 0..200 {
            calls.add(&success(i * 100, &format!("t{i}"), i as f64));
        }
        let kept = calls.at_least(0.0);
        assert_eq!(kept.len(), LONGEST_KEPT);
        assert_eq!(kept[0].latency_ms, 199.0);
        assert_eq!(calls.at_least(190.0).len(), 10);
        // Waited to hand over: its outbound queue full at the success ...
        let mut blocked = success(30_000, "full", 5000.0);
        blocked.set_count(Count::QDepthOut, Some(8));
        calls.add(&blocked);
        // ... or when its attempt started (drained by the time the success was logged).
        let mut start = test_event(40_000, "late", "b", Kind::NodeStart);
        start.set_count(Count::QDepthOut, Some(8));
        start.set_count(Count::QueueMaxsize, Some(8));
        start.node_id = Some("w1".into());
        calls.add(&start);
        calls.add(&success(45_000, "late", 5000.0));
        assert_eq!(calls.at_least(1000.0).len(), 0);
    }

    /// `a -> b -> c`: b's calls take 30 ms, but two of them hung 1.5 s; six traces expired,
    /// two inside those calls and four while they ran.
    fn scene(
        hung: &[(i64, &str)],
        extra_hung: usize,
    ) -> (LongestCalls, Percentiles, Vec<Expired>, FlowGraph) {
        let mut calls = LongestCalls::default();
        let mut latency = Percentiles::default();
        for i in 0..60 {
            let event = success(i * 50, &format!("ok{i}"), 30.0);
            calls.add(&event);
            latency.add(30.0);
        }
        for (end, trace) in hung {
            calls.add(&success(*end, trace, 1500.0));
            latency.add(1500.0);
        }
        for i in 0..extra_hung {
            calls.add(&success(
                100_000 + i as i64 * 2000,
                &format!("x{i}"),
                1500.0,
            ));
            latency.add(1500.0);
        }
        let expired = |trace: &str, first: i64, last: i64, nodes: &[&str]| Expired {
            trace_id: trace.into(),
            tenant: "acme".into(),
            pod: None,
            first_ts: Timestamp(first * 1000),
            last_ts: Timestamp(last * 1000),
            deadline: Some(Timestamp((first + 1000) * 1000)),
            nodes: nodes.iter().map(|n| Name::from(*n)).collect(),
        };
        let traces = vec![
            expired("h1", 9_000, 10_600, &["a", "b", "c"]),
            expired("h2", 19_000, 20_600, &["a", "b", "c"]),
            expired("w1", 9_400, 10_550, &["a", "b"]),
            expired("w2", 9_500, 10_560, &["a"]),
            expired("w3", 19_300, 20_510, &["a", "b"]),
            expired("w4", 19_400, 20_520, &["a", "b"]),
        ];
        let mut graph = FlowGraph::default();
        graph.edges = vec![
            Edge {
                from: "a".into(),
                to: "b".into(),
                traces: 66,
            },
            Edge {
                from: "b".into(),
                to: "c".into(),
                traces: 66,
            },
        ];
        (calls, latency, traces, graph)
    }

    fn node_calls<'a>(
        calls: &'a LongestCalls,
        latency: &'a Percentiles,
        timed_out: bool,
        success_s: f64,
    ) -> NodeCalls<'a> {
        NodeCalls {
            longest: calls,
            own_p50_ms: latency.percentile(50.0),
            latency,
            timed_out,
            success_s,
        }
    }

    #[test]
    fn hung_calls_explain_the_skips_they_held() {
        let (calls, latency, expired, graph) = scene(&[(10_500, "h1"), (20_500, "h2")], 0);
        let found = hung_calls(
            &expired,
            6,
            &graph,
            [("b", node_calls(&calls, &latency, false, 4.8))],
        )
        .unwrap();
        assert_eq!(
            (
                found.node_name.as_str(),
                found.calls,
                found.own,
                found.behind
            ),
            ("b", 2, 2, 4)
        );
        // The same trace, as find reads it: its own call; another's, behind it.
        let nodes = || [("b", node_calls(&calls, &latency, false, 4.8))];
        let (_, call, _) = hung_call_of(&expired[0], 1000.0, &graph, nodes()).unwrap();
        assert_eq!(&*call.trace_id, "h1");
        let (_, call, _) = hung_call_of(&expired[3], 1000.0, &graph, nodes()).unwrap();
        assert_eq!(&*call.trace_id, "h1");
    }

    #[test]
    fn no_hung_calls_where_a_timeout_cuts_them_or_they_are_not_the_tail_that_holds_the_node() {
        let (calls, latency, expired, graph) = scene(&[(10_500, "h1"), (20_500, "h2")], 0);
        let with = |facts: NodeCalls| hung_calls(&expired, 6, &graph, [("b", facts)]);
        // b logged node_timeout: a timeout_s is set.
        assert!(with(node_calls(&calls, &latency, true, 4.8)).is_none());
        // b was busy with its normal work far more than with the two calls.
        assert!(with(node_calls(&calls, &latency, false, 60.0)).is_none());
        // Many calls that long: b's speed, not its tail.
        let (calls, latency, expired, graph) = scene(&[(10_500, "h1"), (20_500, "h2")], 10);
        let facts = node_calls(&calls, &latency, false, 20.0);
        assert!(hung_calls(&expired, 6, &graph, [("b", facts)]).is_none());
    }
}
