//! `graph`: the flow's topology as the telemetry shows it. The edges come from the shared
//! inference (`graph::GraphLearner`); per node, successes, failed attempts, terminal failures
//! and p95 success latency, and whether saturation analysis found it saturated.

use std::collections::HashMap;

use serde::Serialize;

use super::graph::{EGRESS, FlowGraph, INGRESS, is_endpoint};
use super::saturation::{NodeReport, SaturationAnalyzer, SaturationReport, SignalKind};
use crate::event::{Event, Kind};
use crate::pass::{Analysis, Needs, PassEnd};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Ingress,
    Egress,
    Node,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphNode {
    pub node_name: String,
    pub role: Role,
    pub successes: u64,
    /// Failed attempts: node_timeout and node_error events.
    pub failures: u64,
    /// Terminal failures: node_failed events (retries exhausted).
    pub terminal: u64,
    pub p95_ms: Option<f64>,
    /// Shown red: the node had terminal failures.
    pub failing: bool,
    /// Shown orange: saturation analysis found its queue full (or it is the hot node).
    pub saturated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphReport {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<super::graph::Edge>,
}

/// `graph`: the graph the trace book learns (the shared inference, as `classify` and `triage`
/// see it: a finished trace's walk is settled and dropped, so memory is bounded by the traces
/// in flight, not by ten minutes of traces), the terminal failures per node, and the
/// saturation of the same events to annotate the nodes.
#[derive(Default)]
pub struct TopologyLearner {
    terminal: HashMap<String, u64>,
    saturation: SaturationAnalyzer,
}

impl Analysis for TopologyLearner {
    type Report = GraphReport;

    fn needs(&self) -> Needs {
        Needs::TraceStatuses
    }

    fn observe(&mut self, event: &Event, selected: bool) {
        // Whole traces are read for the graph; counts and saturation stay with what
        // `--node`/`--kind` select.
        if !selected {
            return;
        }
        if event.kind == Kind::NodeFailed
            && let Some(node) = &event.node_name
        {
            *self.terminal.entry(node.to_string()).or_default() += 1;
        }
        self.saturation.observe(event);
    }

    fn finish(self, end: &PassEnd<'_>) -> GraphReport {
        let saturation = self.saturation.finish_with_graph(end.graph);
        build(end.graph.clone(), &self.terminal, &saturation)
    }
}

/// The report from a learned graph, the terminal failures per node and the saturation report
/// of the same events.
pub fn build(
    graph: FlowGraph,
    terminal: &HashMap<String, u64>,
    saturation: &SaturationReport,
) -> GraphReport {
    let mut names: Vec<&str> = Vec::new();
    if graph.edges.iter().any(|e| e.from == INGRESS) {
        names.push(INGRESS);
    }
    names.extend(graph.nodes());
    if graph.edges.iter().any(|e| e.to == EGRESS) {
        names.push(EGRESS);
    }
    let saturated: Vec<&str> = saturation
        .signals
        .iter()
        .filter(|s| s.kind == SignalKind::Saturation)
        .filter_map(|s| s.node_name.as_deref())
        .chain(saturation.hot_node.as_deref())
        .collect();
    let stats_of: HashMap<&str, &NodeReport> = saturation
        .nodes
        .iter()
        .map(|node| (node.node_name.as_str(), node))
        .collect();
    let nodes = names
        .iter()
        .map(|name| {
            let stats = stats_of.get(name).copied();
            let terminal = terminal.get(*name).copied().unwrap_or(0);
            GraphNode {
                node_name: name.to_string(),
                role: match *name {
                    INGRESS => Role::Ingress,
                    EGRESS => Role::Egress,
                    _ => Role::Node,
                },
                successes: stats.map_or(0, |s| s.successes),
                failures: stats.map_or(0, |s| s.timeouts + s.errors),
                terminal,
                p95_ms: stats.and_then(|s| s.latency_ms.p95),
                failing: terminal > 0,
                saturated: !is_endpoint(name) && saturated.contains(name),
            }
        })
        .collect();
    GraphReport {
        nodes,
        edges: graph.edges,
    }
}
