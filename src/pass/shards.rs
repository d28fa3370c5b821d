//! The trace book split among workers by trace: the pass for analyses that need trace
//! statuses ([`Needs::TraceStatuses`]) when more than one trace worker is asked for.
//!
//! The pass's thread routes: each event goes to the worker its trace id hashes to, so each
//! trace's events stay on one worker, in order. That worker masks its secrets, judges whether
//! the filter selects it, and takes it into its share of the trace book (summary and graph
//! walk). One [`BookClock`] on the routing thread says when the book looks at its traces,
//! as one book would have: every worker is told at the same event. At a look for finished
//! traces each worker hands over its graph counts, the counts of every share are added up
//! into the graph one learner would have learned so far, and each worker settles its quiet
//! traces against that graph. A merging thread puts the workers' events back in the routing
//! order, with the finished traces of each look where one book would have handed them back,
//! and feeds the analysis: it is handed the same steps in the same order as on one thread,
//! so its report is the same, byte for byte, whatever the number of workers.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{Analysis, Analyzed, Sink};
use crate::analysis::graph::{FlowGraph, Learned};
use crate::analysis::tracebook::{BookClock, FinishedTrace, SettleAt, Settled, TraceBook};
use crate::event::Event;
use crate::filter::EventFilter;
use crate::redact::Redactor;

/// Events routed between hand-overs to the workers and the merger.
const ROUTED: usize = 1024;
/// Hand-overs queued to each worker, and from it.
const QUEUED: usize = 4;

/// What a worker is handed, in the routing order.
enum Work {
    Event(Box<Event>),
    /// Walks with no event since then are settled and begun again.
    ForgetWalks(i64),
    /// The book looks for finished traces.
    Settle(SettleAt),
}

/// What a worker hands the merger, in the routing order. The counts are boxed: a step is
/// moved twice an event, and held inline they made every step hundreds of bytes.
enum Done {
    /// An event, masked, and whether the filter selects it.
    Event(Box<Event>, bool),
    /// At a look: the share's graph counts so far, and whether it holds a trace quiet long
    /// enough to be settled (the graph is worked out only when a share does).
    Counts(Box<Learned>, bool),
    /// The traces it finished at that look, under the graph of every share.
    Finished(Vec<FinishedTrace>),
    /// At the end: its open traces and its final counts.
    End(Vec<FinishedTrace>, Box<Learned>),
}

/// A routed event's entry for the merger: the worker it went to, with `SETTLE` set when the
/// book looks for finished traces right after it.
type Route = u16;
const SETTLE: Route = 1 << 15;
/// The most workers a route can name.
pub const MAX_TRACE_WORKERS: usize = 64;

/// The worker a trace's events go to: the same for every event of the trace.
fn worker_of(event: &Event, workers: usize) -> usize {
    let Some(trace_id) = event.trace_id.as_deref() else {
        return 0;
    };
    use std::hash::BuildHasher;
    // Hashed, even a uuid4's bits: ids that count up (`0000...0021`) must spread too.
    let hashing = foldhash::fast::FixedState::with_seed(0);
    let hash = match event.keys().hex_trace {
        Some(bits) => hashing.hash_one(bits),
        None => hashing.hash_one(trace_id.as_bytes()),
    };
    ((u128::from(hash) * workers as u128) >> 64) as usize
}

/// Runs `analysis` over `events` with the trace book split among `workers` (2 or more),
/// masking secrets with `masks`, `filter` telling the selected events.
pub(super) fn analyze<A: Analysis>(
    filter: &EventFilter,
    masks: bool,
    analysis: A,
    events: impl Iterator<Item = Box<Event>>,
    workers: usize,
    split: bool,
) -> (A, Analyzed) {
    let workers = workers.clamp(1, MAX_TRACE_WORKERS);
    std::thread::scope(|threads| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        let mut graphs_to = Vec::with_capacity(workers);
        let mut shares = Vec::with_capacity(workers);
        for index in 0..workers {
            let (work_sender, work) = sync_channel::<Vec<Work>>(QUEUED);
            let (done, done_receiver) = sync_channel::<Vec<Done>>(QUEUED);
            let (graph_sender, graphs) = sync_channel::<Option<Arc<FlowGraph>>>(1);
            let share = std::thread::Builder::new()
                .name(format!("flowtrace-traces-{index}"))
                .spawn_scoped(threads, move || share(work, done, graphs, filter, masks))
                .expect("a thread for a share of the traces");
            to_workers.push(work_sender);
            from_workers.push(done_receiver);
            graphs_to.push(graph_sender);
            shares.push(share);
        }
        let (route_sender, routes) = sync_channel::<Vec<Route>>(QUEUED);
        let merger = std::thread::Builder::new()
            .name("flowtrace-merge".to_string())
            .spawn_scoped(threads, move || {
                merge(analysis, routes, from_workers, graphs_to, threads, split)
            })
            .expect("a thread to merge the traces' shares");
        route(events, &to_workers, &route_sender);
        drop(to_workers);
        drop(route_sender);
        // A worker's panic, if one panicked, is the one to go on with: the merger stops
        // when a worker is gone.
        let merged = merger.join();
        for share in shares {
            if let Err(panic) = share.join() {
                std::panic::resume_unwind(panic);
            }
        }
        merged.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The routing thread: every event to its trace's worker, the book's looks to every worker,
/// and the order of it all to the merger. Only what was handed to the workers is routed to
/// the merger, so the merger never waits for an event still held here.
fn route(
    events: impl Iterator<Item = Box<Event>>,
    workers: &[SyncSender<Vec<Work>>],
    merger: &SyncSender<Vec<Route>>,
) {
    let mut clock = BookClock::default();
    let mut batches: Vec<Vec<Work>> = workers.iter().map(|_| Vec::new()).collect();
    let mut routes: Vec<Route> = Vec::with_capacity(ROUTED);
    let hand_over = |batches: &mut Vec<Vec<Work>>, routes: &mut Vec<Route>| -> bool {
        for (batch, worker) in batches.iter_mut().zip(workers) {
            if !batch.is_empty() && worker.send(std::mem::take(batch)).is_err() {
                return false;
            }
        }
        merger
            .send(std::mem::replace(routes, Vec::with_capacity(ROUTED)))
            .is_ok()
    };
    for event in events {
        let ticks = clock.tick(&event);
        let worker = worker_of(&event, workers.len());
        batches[worker].push(Work::Event(event));
        if let Some(cutoff) = ticks.forget_walks_before {
            for batch in &mut batches {
                batch.push(Work::ForgetWalks(cutoff));
            }
        }
        let mut entry = worker as Route;
        if let Some(at) = ticks.settle {
            entry |= SETTLE;
            for batch in &mut batches {
                batch.push(Work::Settle(at));
            }
        }
        routes.push(entry);
        // At a look every worker must reach it: each hands over its counts and waits.
        if (routes.len() == ROUTED || ticks.settle.is_some())
            && !hand_over(&mut batches, &mut routes)
        {
            // A worker or the merger stopped (panicked): its panic is said at the join.
            return;
        }
    }
    hand_over(&mut batches, &mut routes);
}

/// A worker: its share of the traces.
fn share(
    work: Receiver<Vec<Work>>,
    done: SyncSender<Vec<Done>>,
    graphs: Receiver<Option<Arc<FlowGraph>>>,
    filter: &EventFilter,
    masks: bool,
) {
    let mut book = TraceBook::default();
    let mut redactor = Redactor::new(masks);
    for batch in work {
        let mut out = Vec::with_capacity(batch.len());
        for item in batch {
            match item {
                Work::Event(mut event) => {
                    redactor.apply(&mut event);
                    let selected = filter.matches_event_scope(&event);
                    book.take(&event, selected);
                    out.push(Done::Event(event, selected));
                }
                Work::ForgetWalks(cutoff) => book.forget_walks(cutoff),
                Work::Settle(at) => {
                    out.push(Done::Counts(Box::new(book.learned()), book.has_quiet(at)));
                    if done.send(std::mem::take(&mut out)).is_err() {
                        return;
                    }
                    let Ok(graph) = graphs.recv() else {
                        return;
                    };
                    // The graph is let go before the traces are handed over, so the merger
                    // holds the last reference and need not copy it.
                    let finished = graph.map_or_else(Vec::new, |graph| book.settle(at, &graph));
                    out.push(Done::Finished(finished));
                }
            }
        }
        if done.send(out).is_err() {
            return;
        }
    }
    let (open, learned) = book.finish_share();
    let _ = done.send(vec![Done::End(open, Box::new(learned))]);
}

/// A worker's hand-overs, read one step at a time.
struct Share {
    receiver: Receiver<Vec<Done>>,
    held: std::vec::IntoIter<Done>,
}

impl Share {
    fn next(&mut self) -> Done {
        loop {
            if let Some(done) = self.held.next() {
                return done;
            }
            self.held = self
                .receiver
                .recv()
                .expect("a worker with a share of the traces stopped")
                .into_iter();
        }
    }
}

/// The merging thread: the workers' steps in the routing order, into the analysis.
fn merge<'scope, A: Analysis + 'scope>(
    analysis: A,
    routes: Receiver<Vec<Route>>,
    workers: Vec<Receiver<Vec<Done>>>,
    graphs_to: Vec<SyncSender<Option<Arc<FlowGraph>>>>,
    threads: &'scope std::thread::Scope<'scope, '_>,
    split: bool,
) -> (A, Analyzed) {
    let mut sink = Sink::new(analysis, threads, split);
    let mut shares: Vec<Share> = workers
        .into_iter()
        .map(|receiver| Share {
            receiver,
            held: Vec::new().into_iter(),
        })
        .collect();
    let mut selected_events = 0;
    for batch in routes {
        for entry in batch {
            let Done::Event(event, selected) = shares[usize::from(entry & !SETTLE)].next() else {
                unreachable!("a routed event is its worker's next step");
            };
            selected_events += u64::from(selected);
            if entry & SETTLE != 0 {
                settle(&mut shares, &graphs_to, &mut sink);
            }
            sink.observe(event, selected);
        }
    }
    let mut learned = Learned::default();
    let mut open = Vec::new();
    for share in &mut shares {
        let Done::End(traces, counts) = share.next() else {
            unreachable!("a worker ends with its open traces");
        };
        open.extend(traces);
        learned.absorb(*counts);
    }
    let mut remaining = Settled::new(open, learned.graph());
    for outcome in remaining.by_ref() {
        sink.trace_finished(outcome);
    }
    let graph = remaining.into_graph();
    (
        sink.finish(),
        Analyzed {
            graph,
            events: selected_events,
        },
    )
}

/// A look for finished traces: the graph of every share's counts, when a share holds a
/// quiet trace, then the traces each share finished under it, in one book's order.
fn settle<'scope, A: Analysis + 'scope>(
    shares: &mut [Share],
    graphs_to: &[SyncSender<Option<Arc<FlowGraph>>>],
    sink: &mut Sink<'scope, A>,
) {
    let mut learned = Learned::default();
    let mut quiet = false;
    for share in shares.iter_mut() {
        let Done::Counts(counts, holds_quiet) = share.next() else {
            unreachable!("a worker hands over its counts at a look");
        };
        learned.absorb(*counts);
        quiet |= holds_quiet;
    }
    let graph = quiet.then(|| Arc::new(learned.graph()));
    for sender in graphs_to {
        sender
            .send(graph.clone())
            .expect("a worker with a share of the traces stopped");
    }
    let mut finished = Vec::new();
    for share in shares.iter_mut() {
        let Done::Finished(traces) = share.next() else {
            unreachable!("a worker hands over its finished traces after the graph");
        };
        finished.extend(traces);
    }
    if let Some(graph) = graph
        && !finished.is_empty()
    {
        for outcome in Settled::new(finished, Arc::unwrap_or_clone(graph)) {
            sink.trace_finished(outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, test_event};

    /// Steps are moved twice an event: they stay the size of a box and a flag (the counts held
    /// inline made each hundreds of bytes, and cost 7% of the CPU in moves).
    #[test]
    fn a_step_stays_small() {
        assert!(std::mem::size_of::<Work>() <= 24);
        assert!(std::mem::size_of::<Done>() <= 32);
    }

    /// Trace ids that count up, hex or text, are spread over the workers about evenly.
    #[test]
    fn ids_that_count_up_spread_over_the_workers() {
        for make in [
            |n: u64| format!("{n:032x}"),
            |n: u64| format!("ac77500b73f2c644{n:016x}"),
            |n: u64| format!("order-{n}"),
        ] {
            let mut per_worker = [0_u32; 3];
            for n in 0..3000 {
                let event = test_event(0, &make(n), "a", Kind::NodeStart);
                per_worker[worker_of(&event, 3)] += 1;
            }
            assert!(
                per_worker.iter().all(|count| (800..=1200).contains(count)),
                "{} ...: {per_worker:?}",
                make(0)
            );
        }
    }
}
