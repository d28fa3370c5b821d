//! The pass driver: one read of the inputs feeding one analysis (`triage` is one that feeds
//! several). It owns what every analysis shares: opening the stream, the scope read (the
//! filter's events, or every event of the traces it selects), secret masking for analyses that
//! keep exception text, and the trace book (per-trace summaries and the flow graph learned
//! alongside), so a subcommand is a choice of analysis and renderer.
//!
//! Every analysis implements [`Analysis`]: it observes events, takes finished traces, and
//! finishes into a report value. Follow mode and parallel analysis plug in here. An analysis
//! that asks to ([`Analysis::runs_apart`]: `triage` always, `classify` and `saturation` beyond
//! two cores) runs on a thread of its own, fed the same steps in the same order in batches, so
//! its answer cannot differ; reading, masking and the trace book stay on the pass's thread.

mod shards;

pub use shards::MAX_TRACE_WORKERS;

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::analysis::graph::{FlowGraph, SampledGraph};
use crate::analysis::tracebook::{TraceBook, TraceOutcome};
use crate::config::InputConfig;
use crate::coverage::{self, Seen};
use crate::error::Error;
use crate::event::{Event, Prefetching, Timestamp, recycled};
use crate::filter::EventFilter;
use crate::redact::Redactor;
use crate::source::{
    BATCHES_AHEAD_DEEP, EventStream, ReadReport, SourceOptions, TenantMap, follow,
};

/// What an analysis needs read, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Needs {
    /// Only the events the filter selects.
    Events,
    /// Every event of the traces the filter's trace id, tenant and time select; `--node` and
    /// `--kind` only mark events `selected`.
    WholeTraces,
    /// Whole traces, and the flow graph learned from them.
    Graph,
    /// Whole traces, plus the trace book: each trace's status, settled against the learned
    /// flow graph, handed to [`Analysis::trace_finished`].
    TraceStatuses,
}

/// Whether an analysis runs on a thread of its own, beside the pass's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apart {
    /// On the pass's thread.
    Never,
    /// On a thread of its own when the machine has more than two cores. On two, the decoding
    /// thread, the pass's and the analysis's take turns on them, and an analysis whose work
    /// and the pass's together are less than the decoding finishes sooner on the pass's
    /// thread (1 GiB on two cores, median of 7: classify 4.10 -> 3.69 s, saturation 3.33 ->
    /// 2.92 s).
    BeyondTwoCores,
    /// On a thread of its own: its work and the pass's together outweigh the decoding, so on
    /// the pass's thread they would be the one thread waited for, even on two cores.
    Always,
}

impl Apart {
    fn now(self) -> bool {
        match self {
            Apart::Never => false,
            Apart::BeyondTwoCores => {
                std::thread::available_parallelism().is_ok_and(|cores| cores.get() > 2)
            }
            Apart::Always => true,
        }
    }
}

/// One question answered in one pass over the events.
pub trait Analysis: Send {
    type Report;

    /// What the pass must read for this analysis.
    fn needs(&self) -> Needs {
        Needs::Events
    }

    /// True when the report carries exception text: the pass masks secrets first (unless
    /// `--no-redact`), and only then.
    fn keeps_text(&self) -> bool {
        false
    }

    /// True when an input without any event is something to report on (`lint`: plain
    /// `logging.basicConfig` lines are its finding), not an error.
    fn reports_on_no_events(&self) -> bool {
        false
    }

    /// Whether the analysis is worth a thread of its own (its work per event rivals the
    /// reading, masking and trace book that stay on the pass's): it is then fed the same
    /// events and finished traces, in the same order, from there.
    fn runs_apart(&self) -> Apart {
        Apart::Never
    }

    /// One event of the scope read, in time order. `selected` is false for an event of a
    /// whole trace that `--node`/`--kind` do not select (always true under [`Needs::Events`]).
    fn observe(&mut self, event: &Event, selected: bool);

    /// A trace the trace book judged finished (under [`Needs::TraceStatuses`] only), whether
    /// or not `--node`/`--kind` select it (`outcome.summary.selected` says).
    fn trace_finished(&mut self, _outcome: &TraceOutcome) {}

    /// Part of the analysis that can run on a thread of its own when the analysis runs apart
    /// ([`Analysis::runs_apart`]): it is fed the same steps, each batch after the analysis,
    /// and handed back to [`Analysis::rejoin`] before `finish`. `triage`'s saturation: a third
    /// of the analysis's work, beside its classifying.
    fn split_off(&mut self) -> Option<Box<dyn Stage>> {
        None
    }

    /// The part [`Analysis::split_off`] gave, every step taken.
    fn rejoin(&mut self, _stage: Box<dyn std::any::Any>) {
        unreachable!("an analysis that splits nothing off is handed nothing back")
    }

    /// The report, once every event was observed.
    fn finish(self, end: &PassEnd<'_>) -> Self::Report;
}

/// An analysis split off another ([`Analysis::split_off`]), on a thread of its own.
pub trait Stage: Send {
    /// [`Analysis::observe`].
    fn take_event(&mut self, event: &Event, selected: bool);
    /// [`Analysis::trace_finished`].
    fn take_finished(&mut self, outcome: &TraceOutcome);
    /// Back to the analysis it came from, which knows its type.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

impl<A: Analysis + 'static> Stage for A {
    fn take_event(&mut self, event: &Event, selected: bool) {
        Analysis::observe(self, event, selected);
    }

    fn take_finished(&mut self, outcome: &TraceOutcome) {
        Analysis::trace_finished(self, outcome);
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

/// What the pass knows at its end, for [`Analysis::finish`].
pub struct PassEnd<'a> {
    /// The flow graph learned from every trace (empty under [`Needs::Events`] and
    /// [`Needs::WholeTraces`]).
    pub graph: &'a FlowGraph,
    /// Which tenants each trace was seen with.
    pub tenants: &'a TenantMap,
    /// `--tenant`'s values: no other tenant's name may be shown.
    pub tenant_filter: &'a [String],
    /// The newest event read from the inputs, whether or not the filter kept it (none with
    /// `--until`): a frozen pod stops logging, so under `--pod` its own last line is not the
    /// end of the input, and a hang there is older than that line says.
    pub input_end: Option<Timestamp>,
}

/// The inputs, the filter and the output choice a pass runs under.
pub struct Pass<'a> {
    pub input: &'a InputConfig,
    pub filter: &'a EventFilter,
    /// Mask secrets in exception text (false with `--no-redact`).
    pub redact: bool,
}

/// True when the store's query carries filters (trace ids or a prefix, kinds, nodes, times):
/// an empty answer then means no match, not an empty store.
fn pushed_into_store(options: &SourceOptions) -> bool {
    options.store.as_ref().is_some_and(|query| {
        !query.trace_ids.is_empty()
            || query.trace_prefix.is_some()
            || !query.kinds.is_empty()
            || !query.nodes.is_empty()
            || query.since.is_some()
            || query.until.is_some()
    })
}

/// What a `--watch` report was computed over.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct WatchFrame {
    /// Events in the window.
    pub events: u64,
    /// The window's first and last event times.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// The inputs ended: this is the last report (false when Ctrl-C stopped the watch).
    pub ended: bool,
}

/// A `--watch` event stamped further than this past the clock does not move its window.
const MAX_CLOCK_AHEAD_MICROS: i64 = 5 * 60 * 1_000_000;

/// The events `--watch` holds: the last window of log time.
#[derive(Default)]
struct Held {
    events: VecDeque<Box<Event>>,
    /// The newest believable event time read: the window's end.
    newest: Timestamp,
    /// Events read in all.
    read: u64,
    ended: bool,
}

/// What the analysis is handed, in order.
enum Step {
    Event(Box<Event>, bool),
    Finished(Box<TraceOutcome>),
}

impl Step {
    fn event(&self) -> Option<&Event> {
        match self {
            Step::Event(event, _) => Some(event),
            Step::Finished(_) => None,
        }
    }
}

/// Steps handed to an analysis on its own thread at a time, and batches queued to it.
const STEPS: usize = 1024;
const QUEUED_STEPS: usize = 4;

/// Where the pass hands events and finished traces: the analysis itself, or the thread it
/// runs on ([`Analysis::runs_apart`]).
enum Sink<'scope, A> {
    Here {
        analysis: A,
        spent: recycled::Spent,
    },
    Apart {
        steps: Vec<Step>,
        sender: std::sync::mpsc::SyncSender<Vec<Step>>,
        /// Finished traces the analysis is done with, handed back to be freed here, where
        /// they were made (see [`SPENT_BATCHES`]): the boxes too, so not unboxed.
        #[allow(clippy::vec_box)]
        spent: std::sync::mpsc::Receiver<Vec<Box<TraceOutcome>>>,
        /// `None` once joined early: it stopped (panicked) before the steps ended.
        worker: Option<std::thread::ScopedJoinHandle<'scope, A>>,
    },
}

/// Batches of finished traces the analysis's thread may hand back at a time. A trace's
/// summary (its box, id, tenant and visits: four allocations) freed on that thread took the
/// allocator's cross-thread path, and the pass's thread then collected the blocks again
/// (`triage` on 200 MiB: its analysis thread -2.6% instructions freeing none, the pass's
/// +1.6% freeing them). Past this many the analysis frees them itself.
const SPENT_BATCHES: usize = 8;

impl<'scope, A: Analysis + 'scope> Sink<'scope, A> {
    /// `split`: apart, the analysis's [`Analysis::split_off`] part goes on a thread of its own
    /// too (beyond two cores: on two it only cost, `triage` 1.33 -> 1.36 s on 1 GiB).
    fn new<'env>(
        analysis: A,
        threads: &'scope std::thread::Scope<'scope, 'env>,
        split: bool,
    ) -> Self {
        if !analysis.runs_apart().now() {
            return Sink::Here {
                analysis,
                spent: recycled::Spent::default(),
            };
        }
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Step>>(QUEUED_STEPS);
        let (give_back, spent_traces) = std::sync::mpsc::sync_channel(SPENT_BATCHES);
        let mut analysis = analysis;
        let stage = if split { analysis.split_off() } else { None };
        let worker = threads.spawn(move || {
            let Some(mut stage) = stage else {
                take_steps(receiver, &give_back, |step| match step {
                    Step::Event(event, selected) => analysis.observe(event, *selected),
                    Step::Finished(outcome) => analysis.trace_finished(outcome),
                });
                return analysis;
            };
            // This thread takes each batch first, then hands it to the stage's, which frees it.
            let (to_stage, stage_steps) = std::sync::mpsc::sync_channel(QUEUED_STEPS);
            let stage = threads.spawn(move || {
                take_steps(stage_steps, &give_back, |step| match step {
                    Step::Event(event, selected) => stage.take_event(event, *selected),
                    Step::Finished(outcome) => stage.take_finished(outcome),
                });
                stage
            });
            for steps in receiver {
                for step in &steps {
                    match step {
                        Step::Event(event, selected) => analysis.observe(event, *selected),
                        Step::Finished(outcome) => analysis.trace_finished(outcome),
                    }
                }
                if to_stage.send(steps).is_err() {
                    // The stage stopped (panicked): its panic is said at the join.
                    break;
                }
            }
            drop(to_stage);
            analysis.rejoin(join_analysis(stage).into_any());
            analysis
        });
        Sink::Apart {
            steps: Vec::with_capacity(STEPS),
            sender,
            spent: spent_traces,
            worker: Some(worker),
        }
    }

    fn observe(&mut self, event: Box<Event>, selected: bool) {
        match self {
            Sink::Here { analysis, spent } => {
                analysis.observe(&event, selected);
                spent.give(event);
            }
            Sink::Apart { .. } => self.push(Step::Event(event, selected)),
        }
    }

    fn trace_finished(&mut self, outcome: TraceOutcome) {
        match self {
            Sink::Here { analysis, .. } => analysis.trace_finished(&outcome),
            Sink::Apart { .. } => self.push(Step::Finished(Box::new(outcome))),
        }
    }

    fn push(&mut self, step: Step) {
        if let Sink::Apart {
            steps,
            sender,
            spent,
            worker,
        } = self
        {
            steps.push(step);
            if steps.len() == STEPS {
                let full = std::mem::replace(steps, Vec::with_capacity(STEPS));
                // A send fails only if the worker is gone: it panicked; stop here with its
                // panic rather than read the rest of the input first.
                if sender.send(full).is_err()
                    && let Some(worker) = worker.take()
                {
                    join_analysis(worker);
                }
                spent.try_iter().for_each(drop);
            }
        }
    }

    /// The analysis, every step taken.
    fn finish(self) -> A {
        match self {
            Sink::Here { analysis, .. } => analysis,
            Sink::Apart {
                steps,
                sender,
                spent,
                worker,
            } => {
                let _ = sender.send(steps);
                drop(sender);
                let analysis =
                    join_analysis(worker.expect("a worker that stopped early ended the pass"));
                spent.try_iter().for_each(drop);
                analysis
            }
        }
    }
}

/// Hands each step of the batches of `receiver` to `take`, on an analysis's own thread, then
/// frees the events and hands finished traces back to be freed where they were made (see
/// [`SPENT_BATCHES`]).
#[allow(clippy::vec_box)]
fn take_steps(
    receiver: std::sync::mpsc::Receiver<Vec<Step>>,
    give_back: &std::sync::mpsc::SyncSender<Vec<Box<TraceOutcome>>>,
    mut take: impl FnMut(&Step),
) {
    let mut spent = recycled::Spent::default();
    let mut finished = Vec::new();
    for steps in receiver {
        for step in Prefetching::new(steps, Step::event) {
            take(&step);
            match step {
                Step::Event(event, _) => spent.give(event),
                Step::Finished(outcome) => finished.push(outcome),
            }
        }
        if !finished.is_empty() {
            // Full (or the pass is gone): freed here after all.
            let _ = give_back.try_send(std::mem::take(&mut finished));
        }
    }
}

/// The analysis back from its thread; its panic, if it panicked, goes on here.
fn join_analysis<A>(worker: std::thread::ScopedJoinHandle<'_, A>) -> A {
    worker
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// What `analyze` learned besides the analysis: the flow graph, the events selected.
struct Analyzed {
    graph: FlowGraph,
    events: u64,
}

/// A report and what the read met (counts, inputs that could not be read).
pub struct Finished<R> {
    pub report: R,
    pub read: ReadReport,
}

impl Pass<'_> {
    /// Reads every input once into `analysis`.
    pub fn run<A: Analysis>(&self, analysis: A) -> Result<Finished<A::Report>, Error> {
        self.run_with(analysis, |_| {})
    }

    /// As [`Pass::run`], with the source options adjusted first (`find` parses only its
    /// trace's lines and a sample).
    pub fn run_with<A: Analysis>(
        &self,
        analysis: A,
        adjust: impl FnOnce(&mut SourceOptions),
    ) -> Result<Finished<A::Report>, Error> {
        let needs = analysis.needs();
        let scope = self.scope(needs);
        let mut options = self.input.source_options(&scope);
        // Held ready for every analysis, one on its own thread too: with 208-byte events
        // the batches cost `triage` 2 MiB of its 64 (1 GiB, eight alternated rounds: wall
        // 2.06 -> 1.69 s, 7 of 8 faster, peak 56-57 -> 58-59 MiB).
        options.batches_ahead = BATCHES_AHEAD_DEEP;
        adjust(&mut options);
        let pushed = pushed_into_store(&options);
        let mut stream = EventStream::open(options)?;
        let empty_is_a_finding = analysis.reports_on_no_events();
        let mut seen = Seen::default();
        let read_all = stream
            .by_ref()
            .inspect(|event| seen.observe(event, self.filter));
        let workers = self.input.trace_workers();
        let (analysis, selected) = self.analyze(analysis, scope.apply(read_all), workers);
        seen.selected = selected.events;
        let mut read = stream.take_report();
        // Lines without any event are lint's to report on; nothing read at all is an error.
        let read = if empty_is_a_finding && selected.events == 0 && read.stats.lines > 0 {
            if !read.errors.is_empty() {
                return Err(read.errors.remove(0));
            }
            read
        } else {
            self.check(read, &seen, pushed)?
        };
        let end = PassEnd {
            graph: &selected.graph,
            tenants: stream.tenants(),
            tenant_filter: &self.filter.tenants,
            // With --until the input ends there, as far as the question goes.
            input_end: seen.newest.filter(|_| self.filter.until.is_none()),
        };
        Ok(Finished {
            report: analysis.finish(&end),
            read,
        })
    }

    /// What is read for an analysis: the filter's events, or every event of the traces it
    /// selects.
    fn scope(&self, needs: Needs) -> EventFilter {
        match needs {
            Needs::Events => self.filter.clone(),
            Needs::WholeTraces | Needs::Graph | Needs::TraceStatuses => self.filter.trace_scope(),
        }
    }

    /// Feeds `events` (the scope read) through redaction, the trace book or graph learner the
    /// analysis needs, and the analysis; hands the analysis back, ready to finish with the
    /// learned graph. With `trace_workers` above one, the trace book is split among that many
    /// threads by trace (`shards`), for the same answer.
    fn analyze<A: Analysis>(
        &self,
        analysis: A,
        events: impl Iterator<Item = Box<Event>>,
        trace_workers: usize,
    ) -> (A, Analyzed) {
        let needs = analysis.needs();
        let masks = self.redact && analysis.keeps_text();
        if needs == Needs::TraceStatuses && trace_workers > 1 {
            let split = self.input.splits_analyses();
            return shards::analyze(self.filter, masks, analysis, events, trace_workers, split);
        }
        let mut redactor = Redactor::new(masks);
        let mut book = (needs == Needs::TraceStatuses).then(TraceBook::default);
        let mut learner = (needs == Needs::Graph).then(SampledGraph::default);
        let mut selected_events = 0;
        std::thread::scope(|threads| {
            let mut sink = Sink::new(analysis, threads, self.input.splits_analyses());
            for mut event in events {
                redactor.apply(&mut event);
                let selected = needs == Needs::Events || self.filter.matches_event_scope(&event);
                selected_events += u64::from(selected);
                if let Some(book) = &mut book {
                    for outcome in book.observe(&event, selected) {
                        sink.trace_finished(outcome);
                    }
                }
                if let Some(learner) = &mut learner {
                    learner.observe(&event);
                }
                sink.observe(event, selected);
            }
            let graph = match book {
                Some(book) => {
                    let mut remaining = book.finish();
                    for outcome in remaining.by_ref() {
                        sink.trace_finished(outcome);
                    }
                    remaining.into_graph()
                }
                None => learner.map(SampledGraph::finish).unwrap_or_default(),
            };
            let analyzed = Analyzed {
                graph,
                events: selected_events,
            };
            (sink.finish(), analyzed)
        })
    }

    /// `--watch`: follows the inputs on a thread of its own, keeping the events of the last
    /// `window` of log time, and every `interval` hands `show` the report of a fresh analysis
    /// (from `make`) over that window, until the inputs end (one last report) or Ctrl-C.
    /// Memory is bounded by the window, however long it runs.
    pub fn watch<A: Analysis>(
        &self,
        make: impl Fn() -> A,
        window: Duration,
        interval: Duration,
        mut show: impl FnMut(A::Report, &WatchFrame) -> Result<(), Error>,
    ) -> Result<ReadReport, Error> {
        let needs = make().needs();
        let scope = self.scope(needs);
        let mut stream = EventStream::open(self.input.source_options(&scope))?;
        let span = i64::try_from(window.as_micros()).unwrap_or(i64::MAX);
        let held = Mutex::new(Held::default());
        std::thread::scope(|threads| {
            let reader = threads.spawn(|| {
                let mut seen = Seen::default();
                let read_all = stream
                    .by_ref()
                    .inspect(|event| seen.observe(event, self.filter));
                for event in scope.clone().apply(read_all) {
                    let mut held = held.lock().unwrap_or_else(|p| p.into_inner());
                    held.read += 1;
                    // The window ends at the newest time read, except that a time far past the
                    // clock (a skewed or mis-stamped line) does not move it: one such line must
                    // not empty the window, nor keep it from dropping old events.
                    let believable = event.ts.0 <= Timestamp::now().0 + MAX_CLOCK_AHEAD_MICROS;
                    if believable {
                        held.newest = held.newest.max(event.ts);
                    }
                    let cutoff = held.newest.0.saturating_sub(span);
                    // An event older than the window (a late line) is not taken in.
                    if event.ts.0 < cutoff || !believable {
                        continue;
                    }
                    held.events.push_back(event);
                    while held.events.front().is_some_and(|first| first.ts.0 < cutoff) {
                        held.events.pop_front();
                    }
                    // Events arrive nearly in order; those out of order behind the front are
                    // dropped now and then, so memory stays bounded by the window.
                    if held.read.is_multiple_of(4096) {
                        held.events.retain(|event| event.ts.0 >= cutoff);
                    }
                }
                held.lock().unwrap_or_else(|p| p.into_inner()).ended = true;
                (stream.take_report(), seen)
            });
            let shown = self.redraw(&make, &held, interval, &mut show);
            if shown.is_err() {
                follow::stop(); // the reader ends at its next look
            }
            let (read, mut seen) = reader.join().unwrap_or_default();
            shown?;
            seen.selected = held.lock().unwrap_or_else(|p| p.into_inner()).read;
            self.check(read, &seen, false)
        })
    }

    /// The `--watch` loop: a report over the held window every `interval`, and one last when
    /// the reader ends.
    fn redraw<A: Analysis>(
        &self,
        make: &impl Fn() -> A,
        held: &Mutex<Held>,
        interval: Duration,
        show: &mut impl FnMut(A::Report, &WatchFrame) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut next = Instant::now() + interval;
        loop {
            let (ended, read) = {
                let held = held.lock().unwrap_or_else(|p| p.into_inner());
                (held.ended, held.read)
            };
            if !ended && Instant::now() < next {
                std::thread::sleep(Duration::from_millis(20).min(interval));
                continue;
            }
            next = Instant::now() + interval;
            // No report before the first event: an empty one would read as a healthy window
            // (and an input with no event at all is an error, said after the read).
            if read == 0 {
                if ended {
                    return Ok(());
                }
                continue;
            }
            let events: Vec<Box<Event>> = {
                let held = held.lock().unwrap_or_else(|p| p.into_inner());
                held.events.iter().cloned().collect()
            };
            let mut tenants = TenantMap::default();
            for event in &events {
                tenants.observe_event(event);
            }
            let frame = WatchFrame {
                events: events.len() as u64,
                from: events.iter().map(|event| event.ts).min(),
                to: events.iter().map(|event| event.ts).max(),
                ended: ended && !follow::interrupted(),
            };
            // A window is small: one thread follows its traces.
            let (analysis, analyzed) = self.analyze(make(), events.into_iter(), 1);
            let end = PassEnd {
                graph: &analyzed.graph,
                tenants: &tenants,
                tenant_filter: &self.filter.tenants,
                input_end: None,
            };
            show(analysis.finish(&end), &frame)?;
            if ended {
                return Ok(());
            }
        }
    }

    /// Hands each event of the filter to `sink` as it is read (`events`, a follow), with
    /// whether it came late (older than one given before it: in a follow, after the reorder
    /// window), until the sink says stop or fails (a closed pipe); returns what the read met.
    pub fn for_each(
        &self,
        mut sink: impl FnMut(&Event, bool) -> Result<ControlFlow<()>, Error>,
    ) -> Result<ReadReport, Error> {
        let options = self.input.source_options(self.filter);
        let pushed = pushed_into_store(&options);
        let mut stream = EventStream::open(options)?;
        let late = stream.late_flag();
        let mut redactor = Redactor::new(self.redact);
        let mut seen = Seen::default();
        let mut selected = 0;
        let read_all = stream
            .by_ref()
            .inspect(|event| seen.observe(event, self.filter));
        for mut event in self.filter.clone().apply(read_all) {
            redactor.apply(&mut event);
            selected += 1;
            if sink(&event, late.load(std::sync::atomic::Ordering::Relaxed))?.is_break() {
                break;
            }
        }
        seen.selected = selected;
        self.check(stream.take_report(), &seen, pushed)
    }

    /// Refuses to report on nothing: input with no PenguiFlow event (unless it could not be
    /// read: then that error), or filter values no event carries when nothing was selected;
    /// unseen values beside selected events become warnings.
    fn check(&self, mut read: ReadReport, seen: &Seen, pushed: bool) -> Result<ReadReport, Error> {
        let stats = &read.stats;
        // A follow ended by Ctrl-C reports what it read, whatever it was.
        if crate::source::follow::interrupted() {
            return Ok(read);
        }
        // A store read through filters in its query may give no row because none matched:
        // that is the filters' to say (below), not "the input is empty".
        let filtered_store = pushed && stats.inputs == 0;
        if stats.events + stats.store_rows == 0 && stats.prefiltered == 0 {
            if !read.errors.is_empty() {
                return Err(read.errors.remove(0));
            }
            if !filtered_store {
                coverage::require_events(stats, &self.input.names())?;
            }
        }
        read.warnings
            .extend(coverage::check_filter(self.filter, seen)?);
        read.warnings.extend(coverage::lost_telemetry(&read.stats));
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::trace::{TraceStatus, TraceSummary};
    use crate::config::InputConfig;
    use crate::event::{Kind, test_event};

    /// Writes down every call, in order.
    struct Recorder {
        apart: bool,
        needs: Needs,
        calls: Vec<String>,
        /// A second recorder to split off, and what it recorded once back.
        stage: Option<Box<Recorder>>,
        /// Panics at this many calls.
        panics_at: Option<usize>,
    }

    impl Analysis for Recorder {
        type Report = Vec<String>;

        fn needs(&self) -> Needs {
            self.needs
        }

        fn runs_apart(&self) -> Apart {
            if self.apart {
                Apart::Always
            } else {
                Apart::Never
            }
        }

        fn observe(&mut self, event: &Event, selected: bool) {
            if self.panics_at == Some(self.calls.len()) {
                panic!("the recorder stops");
            }
            let trace = event.trace_id.as_deref().unwrap_or_default();
            self.calls
                .push(format!("event {} {trace} {selected}", event.ts.0));
        }

        fn trace_finished(&mut self, outcome: &TraceOutcome) {
            self.calls.push(format!(
                "finished {} {:?} selected {}",
                outcome.summary.trace_id, outcome.status, outcome.summary.selected
            ));
        }

        fn split_off(&mut self) -> Option<Box<dyn Stage>> {
            self.stage.take().map(|stage| stage as Box<dyn Stage>)
        }

        fn rejoin(&mut self, stage: Box<dyn std::any::Any>) {
            self.stage = Some(stage.downcast().expect("a recorder"));
        }

        fn finish(self, _: &PassEnd<'_>) -> Vec<String> {
            self.calls
        }
    }

    /// Events and finished traces interleaved, over several batches, through a sink; with
    /// `split`, a second recorder split off, whose calls are given second.
    fn calls_through_sink(apart: bool, split: bool) -> (Vec<String>, Option<Vec<String>>) {
        calls_through(apart, split, None)
    }

    /// As [`calls_through_sink`], the split-off part panicking at `stage_panics_at` calls.
    fn calls_through(
        apart: bool,
        split: bool,
        stage_panics_at: Option<usize>,
    ) -> (Vec<String>, Option<Vec<String>>) {
        let recorder = || Recorder {
            apart,
            needs: Needs::Events,
            calls: Vec::new(),
            stage: None,
            panics_at: None,
        };
        let stage = Recorder {
            panics_at: stage_panics_at,
            ..recorder()
        };
        let analysis = Recorder {
            stage: Some(Box::new(stage)),
            ..recorder()
        };
        let recorder = std::thread::scope(|threads| {
            let mut sink = Sink::new(analysis, threads, split);
            for at in 0..(STEPS as i64 * 3 + 7) {
                let trace = format!("t{}", at % 5);
                sink.observe(
                    Box::new(test_event(at, &trace, "a", Kind::NodeStart)),
                    at % 3 != 0,
                );
                if at % 11 == 0 {
                    sink.trace_finished(TraceOutcome {
                        summary: TraceSummary::new(&trace),
                        status: TraceStatus::Succeeded,
                    });
                }
            }
            sink.finish()
        });
        let stage = recorder.stage.map(|stage| stage.calls);
        (recorder.calls, stage)
    }

    #[test]
    fn an_analysis_apart_is_handed_every_step_in_the_order_inline() {
        let (inline, stage) = calls_through_sink(false, true);
        assert_eq!(inline.len(), STEPS * 3 + 7 + (STEPS * 3 + 7).div_ceil(11));
        assert_eq!(stage, Some(Vec::new()), "inline, nothing is split off");
        assert_eq!(calls_through_sink(true, false).0, inline);
        // Split off, each part is handed every step, in the same order, and handed back.
        let (apart, stage) = calls_through_sink(true, true);
        assert_eq!(apart, inline);
        assert_eq!(stage, Some(inline));
    }

    /// A part split off that panics stops the pass with its own panic, early or late in the
    /// steps, and nothing waits for it forever.
    #[test]
    fn a_split_off_part_that_panics_stops_the_pass_with_its_panic() {
        for at in [0, STEPS + 3, STEPS * 3 + 5] {
            let stopped = std::panic::catch_unwind(|| calls_through(true, true, Some(at)));
            let panic = stopped.expect_err("the stage panicked");
            assert_eq!(
                panic.downcast_ref::<&str>(),
                Some(&"the recorder stops"),
                "at {at}"
            );
        }
    }

    /// A flow `ingest -> score -> reply` over 40 minutes of log time: traces that stop in
    /// flight (idle past ten minutes), traces that go on after an idle walk was forgotten, hex
    /// and other trace ids, events without one, and events `--node` does not select.
    fn long_run() -> Vec<Event> {
        let mut events = Vec::new();
        for trace in 0..1200_i64 {
            let id = if trace % 3 == 0 {
                format!("order-{trace}")
            } else {
                format!("{:032x}", (trace as u128 + 1) * 0x9e37_79b9_7f4a_7c15_f39c)
            };
            let start = trace * 2000;
            let nodes: &[&str] = if trace % 50 == 7 {
                &["ingest", "score"]
            } else {
                &["ingest", "score", "reply"]
            };
            for (step, node) in nodes.iter().enumerate() {
                let at = start + step as i64 * (30 + trace % 11);
                events.push(test_event(at, &id, node, Kind::NodeStart));
                let kind = if trace % 13 == 5 && *node == "score" {
                    Kind::NodeError
                } else {
                    Kind::NodeSuccess
                };
                events.push(test_event(at + 20, &id, node, kind));
            }
            if trace % 70 == 3 {
                // Back after eleven minutes: its walk was forgotten, its trace was not.
                events.push(test_event(start + 660_000, &id, "reply", Kind::NodeStart));
                events.push(test_event(start + 660_040, &id, "reply", Kind::NodeSuccess));
            }
            if trace % 9 == 0 {
                let mut untraced = test_event(start + 3, &id, "ingest", Kind::parse("pool_stats"));
                untraced.trace_id = None;
                events.push(untraced);
            }
        }
        events.sort_by_key(|event| event.ts);
        events
    }

    /// The steps a pass hands an analysis and the graph it learns, with `workers` following
    /// the traces.
    fn steps_with(workers: usize, filter: &EventFilter) -> (Vec<String>, String) {
        let input = InputConfig {
            inputs: Vec::new(),
            store: None,
            strict: false,
            quiet: true,
            threads: None,
            max_line_bytes: 1 << 20,
            follow: None,
            store_timeout: Duration::from_secs(1),
        };
        let pass = Pass {
            input: &input,
            filter,
            redact: true,
        };
        let recorder = Recorder {
            apart: false,
            needs: Needs::TraceStatuses,
            calls: Vec::new(),
            stage: None,
            panics_at: None,
        };
        let (recorder, analyzed) =
            pass.analyze(recorder, long_run().into_iter().map(Box::new), workers);
        let graph = serde_json::to_string(&analyzed.graph).unwrap();
        let mut calls = recorder.calls;
        calls.push(format!("selected {}", analyzed.events));
        (calls, graph)
    }

    /// The trace book split among workers hands the analysis the same steps in the same order
    /// as one book, traces finished at each look where one book finished them, with the same
    /// statuses and the same graph, for any number of workers.
    #[test]
    fn traces_followed_by_workers_give_one_books_steps() {
        for filter in [
            EventFilter::default(),
            EventFilter {
                nodes: vec!["reply".to_string()],
                ..EventFilter::default()
            },
        ] {
            let (one, graph) = steps_with(1, &filter);
            let finished: Vec<&str> = one
                .iter()
                .filter_map(|call| call.strip_prefix("finished "))
                .filter_map(|call| call.split(' ').next())
                .collect();
            let traces: std::collections::HashSet<&str> = finished.iter().copied().collect();
            // Each trace, and some again: back after settling in a final status.
            assert_eq!(traces.len(), 1200);
            assert!(finished.len() > 1210, "{}", finished.len());
            let in_run = one
                .iter()
                .position(|call| call.contains("InFlight"))
                .expect("a trace left in flight");
            assert!(
                in_run < one.len() - 200,
                "an idle trace is handed back while the pass goes on"
            );
            assert!(graph.contains(r#""from":"score","to":"reply""#), "{graph}");
            for workers in [2, 3, 7] {
                let (split, split_graph) = steps_with(workers, &filter);
                assert_eq!(split.len(), one.len(), "{workers} workers");
                if let Some(at) = (0..one.len()).find(|at| split[*at] != one[*at]) {
                    panic!(
                        "{workers} workers: step {at} is {:?}, one book's is {:?}",
                        split[at], one[at]
                    );
                }
                assert_eq!(split_graph, graph, "{workers} workers");
            }
        }
    }
}
