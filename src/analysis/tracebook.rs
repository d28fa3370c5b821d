//! Every trace of the input, summarized in one pass, with the flow graph learned alongside: the
//! base of the analyses that speak about all traces (`classify`, `traces`, `triage`). Memory
//! grows with the number of traces (one summary each), not with the number of events.

use std::collections::HashMap;

use super::graph::{FlowGraph, GraphLearner};
use super::trace::{TraceStatus, TraceSummary};
use crate::event::Event;

#[derive(Debug, Default)]
pub struct TraceBook {
    summaries: HashMap<String, TraceSummary>,
    /// Trace ids in order of first appearance, for stable output.
    order: Vec<String>,
    graph: GraphLearner,
}

/// A finished trace: its summary and its status under the final graph.
#[derive(Debug, Clone)]
pub struct TraceOutcome {
    pub summary: TraceSummary,
    pub status: TraceStatus,
}

impl TraceBook {
    pub fn observe(&mut self, event: &Event) {
        self.graph.observe(event);
        let Some(trace_id) = event.trace_id.as_deref() else {
            return;
        };
        match self.summaries.get_mut(trace_id) {
            Some(summary) => summary.observe(event),
            None => {
                let mut summary = TraceSummary::new(trace_id);
                summary.observe(event);
                self.order.push(trace_id.to_string());
                self.summaries.insert(trace_id.to_string(), summary);
            }
        }
    }

    /// Every trace with its status, in order of first appearance, and the learned graph.
    pub fn finish(mut self) -> (Vec<TraceOutcome>, FlowGraph) {
        let graph = self.graph.finish();
        let outcomes = self
            .order
            .iter()
            .filter_map(|trace_id| self.summaries.remove(trace_id))
            .map(|summary| TraceOutcome {
                status: summary.status(&graph),
                summary,
            })
            .collect();
        (outcomes, graph)
    }
}
