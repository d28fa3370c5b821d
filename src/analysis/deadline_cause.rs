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
use super::trace::{NodeVisit, TraceStatus};
use crate::event::{Name, NameMap};

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
    reach: NameMap<Reach>,
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
    fn entry(&mut self, node: &Name) -> Option<&mut Reach> {
        if !self.reach.contains_key(node) {
            if self.reach.len() >= MAX_NODES {
                return None;
            }
            self.reach.insert(Name::clone(node), Reach::default());
        }
        self.reach.get_mut(node)
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
