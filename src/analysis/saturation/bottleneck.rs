//! The bottleneck: where backpressure along the learned flow graph points, with its evidence
//! (pressure shares, what backs up behind it, the runner-up and why it lost).

use super::*;

/// Share of the node's queue readings under which a queue does not count as backed up.
pub(super) const MIN_PRESSURE: f64 = 0.2;

/// The share of `counts` (depth -> readings) at or above `level`.
pub(super) fn share_at_least(counts: &BTreeMap<i64, u64>, level: f64) -> f64 {
    let total: u64 = counts.values().sum();
    if total == 0 {
        return 0.0;
    }
    let above: u64 = counts
        .iter()
        .filter(|(depth, _)| **depth as f64 >= level && **depth > 0)
        .map(|(_, count)| count)
        .sum();
    above as f64 / total as f64
}

/// The hot node and the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct Bottleneck {
    pub node_name: String,
    pub inbound_full_share: f64,
    pub outbound_full_share: f64,
    pub q_depth_in_max: i64,
    pub q_depth_out_max: i64,
    pub queue_maxsize: Option<i64>,
    /// The share of capacity at which a queue counts as full (`--threshold`).
    pub threshold: f64,
    /// No node follows it in the flow graph.
    pub sink: bool,
    /// A sink whose outbound queue, the egress, fills: the app does not drain `flow.fetch()`
    /// fast enough; the node waits on it rather than working.
    pub waits_on_egress: bool,
    /// With several instances of the node (pods, processes): the most pressed one, and how
    /// many there are.
    pub instance: Option<String>,
    pub instances: u64,
    /// Nodes upstream of it (by the flow graph) whose queues are backed up: they wait on it.
    pub backed_up: Vec<String>,
    pub runner_up: Option<RunnerUp>,
}

/// The node that came closest to being the hot node, and why it is not.
#[derive(Debug, Clone, Serialize)]
pub struct RunnerUp {
    pub node_name: String,
    pub inbound_full_share: f64,
    pub outbound_full_share: f64,
    pub lost_because: LostBecause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LostBecause {
    /// It is upstream of the hot node: its pressure is the hot node's, passed back.
    Upstream,
    /// Its outbound queue was about as full as its inbound: it waits on a node after it.
    OutboundFull,
    /// Its inbound queue was full less often.
    LessPressure,
}

impl Bottleneck {
    /// One line of evidence, as the table and `hot_node_reason` give it.
    pub fn reason(&self) -> String {
        let level = match self.queue_maxsize.filter(|c| *c > 0) {
            Some(capacity) => format!("≥ {:.0}% of {capacity}", self.threshold * 100.0),
            None => format!("at {UNBOUNDED_BACKLOG} or more (unbounded)"),
        };
        let outbound = if self.waits_on_egress {
            format!(
                "it is a sink whose egress queue was full in {:.0}% (max {}): it waits on the app's flow.fetch()",
                self.outbound_full_share * 100.0,
                self.q_depth_out_max
            )
        } else if self.sink {
            "it is a sink".to_string()
        } else {
            format!(
                "its outbound queue in {:.0}% (max {})",
                self.outbound_full_share * 100.0,
                self.q_depth_out_max
            )
        };
        let instance = self.instance.as_ref().map_or(String::new(), |instance| {
            format!(
                " (in {instance}, the most pressed of its {} instances, whose queues are judged apart)",
                self.instances
            )
        });
        format!(
            "inbound queue {level} in {:.0}% of its queue readings (max {}) while {outbound}{instance}",
            self.inbound_full_share * 100.0,
            self.q_depth_in_max,
        )
    }
}

/// The bottleneck by backpressure along the flow: a full queue blocks the node that feeds it,
/// so pressure propagates upstream and every node before the bottleneck shows a full inbound
/// queue and looks slow (its `node_success` latency includes the wait to hand its output
/// over). The bottleneck is the most downstream node whose inbound queue is full while its
/// outbound queue is not (or that is a sink). Shares are over queue readings, not time
/// buckets, so the verdict does not depend on the bucket width.
pub(super) fn bottleneck(
    nodes: &[NodeReport],
    graph: &FlowGraph,
    threshold: f64,
) -> Option<Bottleneck> {
    let pressured = |node: &NodeReport| node.inbound_full_share >= MIN_PRESSURE;
    let is_sink = |node: &NodeReport| graph.is_sink(&node.node_name);
    // A sink whose outbound queue (the egress, drained by the app's flow.fetch()) fills waits
    // on the app: it is the bottleneck's place even with room before it.
    let waits_on_egress =
        |node: &NodeReport| is_sink(node) && node.outbound_full_share >= MIN_PRESSURE;
    let candidate = |node: &NodeReport| {
        waits_on_egress(node)
            || (pressured(node)
                && (is_sink(node) || node.outbound_full_share < node.inbound_full_share / 2.0))
    };
    let score = |node: &NodeReport| node.inbound_full_share - node.outbound_full_share;
    let candidates: Vec<&NodeReport> = nodes.iter().filter(|n| candidate(n)).collect();
    // The most downstream candidates: none of the others lies after them (strictly: a cycle
    // through both leaves the choice to pressure).
    let downstream_of = |a: &NodeReport, b: &NodeReport| {
        graph.is_downstream(&a.node_name, &b.node_name)
            && !graph.is_downstream(&b.node_name, &a.node_name)
    };
    let hot = candidates
        .iter()
        .filter(|c| !candidates.iter().any(|other| downstream_of(other, c)))
        .max_by(|a, b| score(a).total_cmp(&score(b)))?;
    let runner_up = nodes
        .iter()
        .filter(|n| n.node_name != hot.node_name && pressured(n))
        .max_by(|a, b| {
            a.inbound_full_share
                .total_cmp(&b.inbound_full_share)
                .then(score(a).total_cmp(&score(b)))
        })
        .map(|node| RunnerUp {
            node_name: node.node_name.clone(),
            inbound_full_share: node.inbound_full_share,
            outbound_full_share: node.outbound_full_share,
            lost_because: if downstream_of(hot, node) {
                LostBecause::Upstream
            } else if !candidate(node) {
                LostBecause::OutboundFull
            } else {
                LostBecause::LessPressure
            },
        });
    let flow_order = graph.nodes();
    let mut backed_up: Vec<&NodeReport> = nodes
        .iter()
        .filter(|n| downstream_of(hot, n))
        // Only a bounded queue blocks its sender: with unbounded ones nothing backs up.
        .filter(|n| n.queue_maxsize.is_some_and(|c| c > 0))
        .filter(|n| pressured(n) || n.outbound_full_share >= MIN_PRESSURE)
        .collect();
    backed_up.sort_by_key(|n| flow_order.iter().position(|name| *name == n.node_name));
    Some(Bottleneck {
        node_name: hot.node_name.clone(),
        inbound_full_share: hot.inbound_full_share,
        outbound_full_share: hot.outbound_full_share,
        q_depth_in_max: hot.q_depth_in_max,
        q_depth_out_max: hot.q_depth_out_max,
        queue_maxsize: hot.queue_maxsize,
        threshold,
        sink: is_sink(hot),
        waits_on_egress: waits_on_egress(hot),
        instance: hot.pressure_instance.clone(),
        instances: hot.instances,
        backed_up: backed_up.iter().map(|n| n.node_name.clone()).collect(),
        runner_up,
    })
}
