//! `report`: the incident report's data, from the same single pass as `triage`. It runs the
//! triage analysis unchanged and keeps, beside it, the waterfall of every trace that may end up
//! among the worst: the open ones, and the most recent traces that settled without succeeding.
//! Memory stays bounded by the traces in flight, as the trace book's is.

use std::collections::VecDeque;

use serde::Serialize;

use super::trace::TraceStatus;
use super::tracebook::TraceOutcome;
use super::triage::{Triage, TriageReport};
use super::waterfall::{PackedEvents, Timeline};
use crate::event::{Event, NameIds, Timestamp, TraceMap};
use crate::pass::{Analysis, Apart, Needs, PassEnd, Stage};

/// Settled traces that did not succeed kept with their waterfalls, the most recent: enough for
/// any of them to be among triage's worst.
const KEPT_SETTLED: usize = 200;

/// The incident report: triage's report and a timeline for each of its worst traces.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentReport {
    pub triage: TriageReport,
    /// The waterfall of each of `triage.worst`, in the same order (null when its events were
    /// not kept).
    pub timelines: Vec<Option<Timeline>>,
}

pub struct Incident {
    triage: Triage,
    /// Every trace the trace book holds open, its events packed (a waterfall each would take
    /// four times the memory), keyed as the book keys them (a decoder's name held per trace
    /// kept its memory pages from being reused).
    open: TraceMap<PackedEvents>,
    /// The nodes of `open`'s events, numbered.
    nodes: NameIds,
    settled: VecDeque<(String, Timeline)>,
    /// The newest event time read: where attempts still open at the end of the input end.
    newest: Timestamp,
}

/// `newest` starts before any time (at zero, a log dated before 1970 never moved it).
impl Default for Incident {
    fn default() -> Incident {
        Incident {
            triage: Triage::default(),
            open: TraceMap::default(),
            nodes: NameIds::default(),
            settled: VecDeque::new(),
            newest: Timestamp(i64::MIN),
        }
    }
}

impl Analysis for Incident {
    type Report = IncidentReport;

    fn needs(&self) -> Needs {
        self.triage.needs()
    }

    fn keeps_text(&self) -> bool {
        self.triage.keeps_text()
    }

    /// Triage's reasons hold, and the waterfalls add to them.
    fn runs_apart(&self) -> Apart {
        self.triage.runs_apart()
    }

    fn split_off(&mut self) -> Option<Box<dyn Stage>> {
        self.triage.split_off()
    }

    fn rejoin(&mut self, stage: Box<dyn std::any::Any>) {
        self.triage.rejoin(stage);
    }

    fn observe(&mut self, event: &Event, selected: bool) {
        self.triage.observe(event, selected);
        self.newest = self.newest.max(event.ts);
        if let Some(trace) = &event.trace_id {
            self.open
                .get_or_insert_with(trace, event.keys().hex_trace, || {
                    PackedEvents::starting_at(event.ts)
                })
                .observe(event, &mut self.nodes);
        }
    }

    fn trace_finished(&mut self, outcome: &TraceOutcome) {
        self.triage.trace_finished(outcome);
        let trace = outcome.summary.trace_id.as_str();
        let Some(events) = self.open.remove_id(trace) else {
            return;
        };
        if outcome.status != TraceStatus::Succeeded && outcome.summary.selected {
            if self.settled.len() == KEPT_SETTLED {
                self.settled.pop_front();
            }
            // An attempt of an in-flight trace is still running when it settles.
            let end = match outcome.status {
                TraceStatus::InFlight => self.newest,
                _ => outcome.summary.last_ts,
            };
            self.settled
                .push_back((trace.to_string(), events.finish(&self.nodes, end)));
        }
    }

    fn finish(mut self, end: &PassEnd<'_>) -> IncidentReport {
        let triage = self.triage.finish(end);
        let input_end = triage.last_ts.unwrap_or(Timestamp(0));
        let timelines = triage
            .worst
            .iter()
            .map(|worst| {
                let id = worst.trace_id.as_str();
                match self.open.remove_id(id) {
                    Some(events) => Some(events.finish(&self.nodes, input_end)),
                    None => self
                        .settled
                        .iter()
                        .rev()
                        .find(|(trace, _)| trace == id)
                        .map(|(_, timeline)| timeline.clone()),
                }
            })
            .collect();
        IncidentReport { triage, timelines }
    }
}
