//! Every trace of the input, summarized in one pass, with the flow graph learned alongside: the
//! base of the analyses that speak about all traces (`classify`, `traces`, `triage`).
//!
//! A trace with no event for `IDLE_TRACE_MICROS` of log time is taken as finished: its status is
//! settled with the graph learned so far and it is handed back from `observe`, so memory is
//! bounded by the traces in flight, not by the input. A trace already in a final status under
//! that graph (succeeded, failed, cancelled, skipped) is handed back after
//! `SETTLED_TRACE_MICROS` without an event: a busy service runs thousands of traces in ten
//! minutes, and holding them all took hundreds of MiB. (Inputs spanning less than that keep
//! every trace to the end, where the final graph settles them all.)

use super::graph::{FlowGraph, GraphLearner, Learned, TraceWalk, WalkClock};
use super::trace::{NameTable, TraceStatus, TraceSummary};
use crate::event::{Event, Timestamp};
use crate::event::{TraceKey, TraceMap};
use crate::source::IDLE_TRACE_MICROS;

/// A trace in a final status with no event for this long of log time is finished.
pub const SETTLED_TRACE_MICROS: i64 = 60 * 1_000_000;
/// How often (in log time) traces are looked at for settling.
const SETTLE_EVERY_MICROS: i64 = 10 * 1_000_000;

#[derive(Debug, Default)]
pub struct TraceBook {
    /// Each open trace: its summary, and its walk for the graph learner (kept here, so that
    /// an event looks its trace up once).
    /// Each is boxed: held inline, the map's empty slots cost as much as a trace (24.5 MB of
    /// 65,536 slots at 1 GiB of log).
    summaries: TraceMap<OpenSlot>,
    /// The node and instance names of the open traces' visits, allocated here once each.
    names: NameTable,
    graph: GraphLearner,
    clock: BookClock,
    /// Node visits of the last trace handed back: a new trace's room for its visits, so that
    /// traces of one flow (which reach about the same nodes) take one allocation each, with no
    /// slots left empty.
    visits_hint: usize,
}

/// When the trace book looks at its traces, as log time goes. A book split among workers by
/// trace (see `pass::shards`) keeps one clock on the router, which tells every worker at the
/// event one book would have looked.
#[derive(Debug, Clone, Copy)]
pub struct BookClock {
    walks: WalkClock,
    newest: Timestamp,
    last_eviction: Timestamp,
}

/// `newest` and `last_eviction` start before any time: at zero (1970), a log dated earlier
/// never moved them, and nothing idle was ever dropped.
impl Default for BookClock {
    fn default() -> BookClock {
        BookClock {
            walks: WalkClock::default(),
            newest: Timestamp(i64::MIN),
            last_eviction: Timestamp(i64::MIN),
        }
    }
}

/// What an event's time asks of the book, once the event is taken in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ticks {
    /// Walks whose latest event is older than this are settled and begun again.
    pub forget_walks_before: Option<i64>,
    /// Finished traces are looked for.
    pub settle: Option<SettleAt>,
}

/// A look for finished traces: those with no event since `idle_before`, and those in a final
/// status with none since `settled_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettleAt {
    idle_before: i64,
    settled_before: i64,
}

impl BookClock {
    /// Moves to `event`.
    pub fn tick(&mut self, event: &Event) -> Ticks {
        let forget_walks_before = event
            .trace_id
            .is_some()
            .then(|| self.walks.tick(event.ts))
            .flatten();
        self.newest = self.newest.max(event.ts);
        if self.newest.0.saturating_sub(self.last_eviction.0) < SETTLE_EVERY_MICROS {
            return Ticks {
                forget_walks_before,
                settle: None,
            };
        }
        self.last_eviction = self.newest;
        Ticks {
            forget_walks_before,
            settle: Some(SettleAt {
                idle_before: self.newest.0.saturating_sub(IDLE_TRACE_MICROS),
                settled_before: self.newest.0.saturating_sub(SETTLED_TRACE_MICROS),
            }),
        }
    }
}

#[derive(Debug)]
struct OpenTrace {
    summary: TraceSummary,
    walk: TraceWalk,
}

/// An open trace as the map holds it: its latest event's time beside its box, so that the
/// look for settled traces (every `SETTLE_EVERY_MICROS`, over thousands of open traces)
/// reads the map's entries in a row instead of each trace's box, long gone from the cache:
/// those reads were a fifth of the trace book's time.
#[derive(Debug)]
struct OpenSlot {
    /// `trace.summary.last_ts`, kept equal to it.
    last_ts: Timestamp,
    trace: Box<OpenTrace>,
}

/// A finished trace: its summary and its status.
#[derive(Debug, Clone)]
pub struct TraceOutcome {
    pub summary: TraceSummary,
    pub status: TraceStatus,
}

/// A finished trace as a book hands it back: its summary, and its status when the look that
/// finished it worked it out (`None`: to be settled against the graph of that look).
pub type FinishedTrace = (TraceSummary, Option<TraceStatus>);

impl TraceBook {
    /// Learns from one event of the trace scope; returns the traces that became idle
    /// (finished), if any. Statuses need every event of a trace, so `--node`/`--kind` do not
    /// remove events here: `selected` says whether the event is one they select, and a trace
    /// with such an event is marked `selected`.
    pub fn observe(&mut self, event: &Event, selected: bool) -> Settled {
        let ticks = self.clock.tick(event);
        self.take(event, selected);
        if let Some(cutoff) = ticks.forget_walks_before {
            self.forget_walks(cutoff);
        }
        let Some(at) = ticks.settle else {
            return Settled::default();
        };
        if !self.has_quiet(at) {
            return Settled::default();
        }
        let graph = self.graph.graph();
        let finished = self.settle(at, &graph);
        if finished.is_empty() {
            return Settled::default();
        }
        Settled::new(finished, graph)
    }

    /// Takes one event into its trace's summary and walk, with no look at the time: so a
    /// worker's share of a book split by trace takes its events, told when to look by its
    /// router (`forget_walks`, `settle`). An event without a trace id is the clock's alone.
    pub fn take(&mut self, event: &Event, selected: bool) {
        let Some(trace_id) = event.trace_id.as_ref() else {
            return;
        };
        let hex = event.keys().hex_trace;
        let visits_hint = self.visits_hint;
        let slot = self.summaries.get_or_insert_with(trace_id, hex, || {
            let mut summary = TraceSummary::new(trace_id);
            summary.visits.reserve_exact(visits_hint);
            OpenSlot {
                last_ts: summary.last_ts,
                trace: Box::new(OpenTrace {
                    summary,
                    walk: TraceWalk::default(),
                }),
            }
        });
        let trace = &mut slot.trace;
        self.graph.observe_walk(&mut trace.walk, event);
        let names = &mut self.names;
        trace.summary.observe_with(event, |name| names.intern(name));
        trace.summary.selected |= selected;
        slot.last_ts = trace.summary.last_ts;
    }

    /// The learner forgets walks idle since `cutoff` (their traces may go on: a later event
    /// starts a new walk). A walk's latest event is its trace's, or it has none (made new:
    /// forgetting it again changes nothing), so the map's times tell the idle ones without
    /// opening every box.
    pub fn forget_walks(&mut self, cutoff: i64) {
        for OpenSlot { last_ts, trace } in self.summaries.values_mut() {
            if last_ts.0 < cutoff {
                self.graph.settle_walk(&mut trace.walk);
                trace.walk = TraceWalk::default();
            }
        }
    }

    /// True when a trace has been quiet long enough to be looked at: only then is the graph
    /// worked out for `settle`.
    pub fn has_quiet(&self, at: SettleAt) -> bool {
        self.summaries
            .values()
            .any(|slot| slot.last_ts.0 < at.settled_before)
    }

    /// The flow graph's counts learned so far.
    pub fn learned(&self) -> Learned {
        self.graph.learned()
    }

    /// Hands back the traces finished at `at` under `graph` (the graph learned so far from
    /// every trace): idle ones, and quiet ones in a final status (their status kept, so that
    /// it is not worked out again). In no particular order: `Settled::new` orders them.
    pub fn settle(&mut self, at: SettleAt, graph: &FlowGraph) -> Vec<FinishedTrace> {
        let mut finished: Vec<(TraceKey, Option<TraceStatus>)> = Vec::new();
        for (trace, slot) in self.summaries.iter() {
            if slot.last_ts.0 < at.idle_before {
                finished.push((trace, None));
            } else if slot.last_ts.0 < at.settled_before {
                let status = slot.trace.summary.status(graph);
                if status != TraceStatus::InFlight {
                    finished.push((trace, Some(status)));
                }
            }
        }
        // Room for them all at once: collected, the vector grew by doubling, each time
        // moving the summaries (hundreds of bytes each) taken so far.
        let mut summaries = Vec::with_capacity(finished.len());
        summaries.extend(finished.into_iter().filter_map(|(trace, status)| {
            let slot = self.summaries.remove(&trace)?;
            let OpenTrace { summary, mut walk } = *slot.trace;
            self.visits_hint = summary.visits.len();
            self.graph.settle_walk(&mut walk);
            Some((summary, status))
        }));
        summaries
    }

    /// The traces still open, settled with the final graph (which `Settled::into_graph` then
    /// hands over).
    pub fn finish(self) -> Settled {
        let (open, learner) = self.finish_walks();
        Settled::new(open, learner.finish())
    }

    /// A worker's share at the end: its open traces (their walks settled) and the counts
    /// learned, for the graph of every share (`Learned::absorb`).
    pub fn finish_share(self) -> (Vec<FinishedTrace>, Learned) {
        let (open, learner) = self.finish_walks();
        (open, learner.learned())
    }

    fn finish_walks(self) -> (Vec<FinishedTrace>, GraphLearner) {
        let mut learner = self.graph;
        // Every open trace at once (tens of thousands at the end of a busy log): room for
        // exactly them, not a doubling's copies.
        let mut summaries = Vec::with_capacity(self.summaries.len());
        summaries.extend(self.summaries.into_values().map(|slot| {
            let OpenTrace { summary, mut walk } = *slot.trace;
            learner.settle_walk(&mut walk);
            (summary, None)
        }));
        (summaries, learner)
    }
}

/// Finished traces in order of first event (then id, for a stable order), each given its
/// status under the graph (`None`: to be worked out) as it is taken: at the input's end every
/// open trace is finished, and a second vector of them all raised the run's peak memory. The
/// order is found on (first event, index) pairs: sorting the summaries themselves moved each
/// of them (hundreds of bytes) a dozen times.
///
/// Boxed, and empty without allocating: the trace book returns one for every event.
#[derive(Debug, Default)]
pub struct Settled(Option<Box<SettledTraces>>);

#[derive(Debug)]
struct SettledTraces {
    /// (first event, index in `slots`), sorted.
    order: std::vec::IntoIter<(Timestamp, usize)>,
    slots: Vec<Option<FinishedTrace>>,
    graph: FlowGraph,
}

impl Settled {
    /// `summaries` (finished at one look) in their order, under `graph` (that look's).
    pub fn new(summaries: Vec<FinishedTrace>, graph: FlowGraph) -> Settled {
        let mut order: Vec<(Timestamp, usize)> = summaries
            .iter()
            .enumerate()
            .map(|(index, (summary, _))| (summary.first_ts, index))
            .collect();
        order.sort_by(|(a_ts, a), (b_ts, b)| {
            a_ts.cmp(b_ts)
                .then_with(|| summaries[*a].0.trace_id.cmp(&summaries[*b].0.trace_id))
        });
        Settled(Some(Box::new(SettledTraces {
            order: order.into_iter(),
            slots: summaries.into_iter().map(Some).collect(),
            graph,
        })))
    }
}

impl Settled {
    /// The graph the traces were settled under (empty for the per-event answer with no
    /// trace): `finish`'s final graph.
    pub fn into_graph(self) -> FlowGraph {
        self.0.map(|traces| traces.graph).unwrap_or_default()
    }
}

impl Iterator for Settled {
    type Item = TraceOutcome;

    fn next(&mut self) -> Option<TraceOutcome> {
        let traces = self.0.as_mut()?;
        let (_, index) = traces.order.next()?;
        let (summary, status) = traces.slots[index].take().expect("each index once");
        Some(TraceOutcome {
            status: status.unwrap_or_else(|| summary.status(&traces.graph)),
            summary,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0
            .as_ref()
            .map_or((0, Some(0)), |traces| traces.order.size_hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, test_event};

    /// A trace with no event for ten minutes of log time is handed back while the pass goes
    /// on (memory stays bounded by the traces in flight), in a log dated before 1970 as after.
    #[test]
    fn a_trace_idle_for_ten_minutes_is_handed_back_at_any_time() {
        for base in [1_700_000_000_000, -1_000_000_000_000] {
            let quiet = "0123456789abcdef0123456789abcdef";
            let busy = "fedcba9876543210fedcba9876543210";
            let mut book = TraceBook::default();
            let mut handed_back: Vec<(String, i64)> = Vec::new();
            let mut observe = |book: &mut TraceBook, ms: i64, trace: &str, kind: Kind| {
                let event = test_event(ms, trace, "score", kind);
                for outcome in book.observe(&event, true) {
                    handed_back.push((outcome.summary.trace_id.clone(), ms - base));
                }
            };
            observe(&mut book, base, quiet, Kind::NodeStart);
            for step in 1..=70 {
                observe(&mut book, base + step * 10_000, busy, Kind::NodeStart);
            }
            let quiet_back: Vec<i64> = handed_back
                .iter()
                .filter(|(trace, _)| trace == quiet)
                .map(|(_, at)| *at)
                .collect();
            assert_eq!(quiet_back.len(), 1, "{base}: {handed_back:?}");
            assert!(
                (600_000..=610_000).contains(&quiet_back[0]),
                "{base}: handed back at {} ms",
                quiet_back[0]
            );
            let left: Vec<String> = book
                .finish()
                .map(|outcome| outcome.summary.trace_id)
                .collect();
            assert_eq!(left, [busy], "{base}");
        }
    }
}
