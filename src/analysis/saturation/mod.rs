//! `saturation`: is the flow stuck, where is the bottleneck, how bad. One pass over the events
//! builds per-node statistics (bounded percentiles), per-node time buckets (queue depth, starts,
//! successes, latency sketches) and per-trace pending counts; `finish` turns them into the
//! report: signals, the hot node and a checklist.
//!
//! Memory is bounded by nodes × buckets plus open traces: buckets adapt their width so there are
//! never more than `MAX_BUCKETS` per node, and a trace idle for `IDLE_TRACE_MICROS` of log time
//! is settled and forgotten.
//!
//! The verdicts live beside it: `bottleneck` (where backpressure points), `signals` (conditions
//! over time buckets), `checklist` (what to do).

use std::collections::BTreeMap;

use serde::Serialize;

use super::category::{Category, category_of, is_repeated, is_terminal};
use super::graph::{FlowGraph, NamesakeNode, is_endpoint};
use super::percentile::Percentiles;
use super::tenant_share::{self, TenantLoad, UNKNOWN_TENANT};
use crate::event::{Event, Kind, Name, NameIds, NameSlots, Timestamp, position_of};
use crate::event::{TraceKey, TraceMap};
use crate::pass::{Analysis, Apart, Needs, PassEnd};

mod bottleneck;
mod checklist;
mod episodes;
mod signals;
mod trend;

pub use bottleneck::{Bottleneck, LostBecause, OtherEpisode, RunnerUp, SaturationRun};
pub use episodes::{EgressWait, Episode};

use bottleneck::{bottleneck, separate_episodes, share_at_least, transient_bottleneck};
pub use checklist::{
    Busy, HotStep, HotVerdict, LostStep, LostTime, LostTo, SaturationStep, TimeoutReading,
    dominant_tenant,
};
use checklist::{lost_elsewhere, remediate, tenant_load};
use signals::saturation_run;
use signals::{regression_signal, saturation_signal, slow_dependency_signal};
pub use trend::{LatencyCurve, LatencyTrend, TrendStep, outbound_full, waited_to_hand_over};

/// Buckets listed densely (empty ones included) at most; past this, only buckets with events.
const MAX_DENSE_BUCKETS: i64 = 10_000;
/// Internal bucket count above which buckets are merged to the next width.
const MAX_BUCKETS: i64 = 1000;
/// Buckets shown (and used for signals) when no `--bucket` is given, about.
const TARGET_BUCKETS: i64 = 40;
const IDLE_TRACE_MICROS: i64 = 10 * 60 * 1_000_000;
/// A trace open at the end of the input counts as blocked downstream only after this long
/// without an event: this many times its last node's p95, and at least the minimum.
const PENDING_STILL_RATIO: f64 = 5.0;
const PENDING_STILL_MIN_MICROS: i64 = 100_000;
/// Traces listed by the blocked-downstream signal, at most.
const MAX_BLOCKED_TRACES: usize = 5;

/// Internal widths: each divides the next, so buckets merge exactly.
const LEVELS_MICROS: [i64; 10] = [
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    60_000_000,
    600_000_000,
    3_600_000_000,
    86_400_000_000,
    864_000_000_000,
];
/// Display widths to choose from, in microseconds.
const NICE_MICROS: [i64; 27] = [
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    15_000_000,
    30_000_000,
    60_000_000,
    120_000_000,
    300_000_000,
    600_000_000,
    900_000_000,
    1_800_000_000,
    3_600_000_000,
    7_200_000_000,
    21_600_000_000,
    43_200_000_000,
    86_400_000_000,
    864_000_000_000,
];

#[derive(Debug, Clone, Copy)]
pub struct SaturationOptions {
    /// A fixed bucket width; `None` picks one giving about 40 buckets.
    pub bucket_micros: Option<i64>,
    /// Share of a bounded queue's capacity above which a node counts as saturated.
    pub threshold: f64,
    /// Consecutive buckets a condition must last to be a signal.
    pub sustain: usize,
    /// Retry rate (node_retry / node_success) above which a node has a retry storm.
    pub retry_storm_rate: f64,
}

impl Default for SaturationOptions {
    fn default() -> SaturationOptions {
        SaturationOptions {
            bucket_micros: None,
            threshold: 0.8,
            sustain: 3,
            retry_storm_rate: 0.5,
        }
    }
}

/// A sparse latency histogram with 10% wide bins: enough to compare p95s, cheap to keep per
/// bucket.
#[derive(Debug, Clone, Default)]
struct Sketch {
    bins: Vec<(i16, u32)>,
}

impl Sketch {
    const GROWTH: f64 = 1.1;

    fn bin(value: f64) -> i16 {
        // As `floor() as i16` (saturating), without the libm call.
        let bin =
            crate::analysis::percentile::floor_to_i32(value.max(0.001).ln() / Self::GROWTH.ln());
        bin.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    }

    fn add(&mut self, value: f64) {
        let bin = Self::bin(value);
        match self.bins.binary_search_by_key(&bin, |(b, _)| *b) {
            Ok(at) => self.bins[at].1 += 1,
            Err(at) => self.bins.insert(at, (bin, 1)),
        }
    }

    fn merge(&mut self, other: &Sketch) {
        for &(bin, count) in &other.bins {
            match self.bins.binary_search_by_key(&bin, |(b, _)| *b) {
                Ok(at) => self.bins[at].1 += count,
                Err(at) => self.bins.insert(at, (bin, count)),
            }
        }
    }

    fn count(&self) -> u64 {
        self.bins.iter().map(|(_, c)| u64::from(*c)).sum()
    }

    /// The time (ms) in values at or above `at`, in all of them (each bin at its middle), and
    /// how many are at or above it.
    fn time_at_least(&self, at: f64) -> (f64, f64, u64) {
        self.bins
            .iter()
            .fold((0.0, 0.0, 0), |(above, all, n), &(bin, count)| {
                let time = Self::GROWTH.powf(f64::from(bin) + 0.5) * f64::from(count);
                if bin >= Self::bin(at) {
                    (above + time, all + time, n + u64::from(count))
                } else {
                    (above, all + time, n)
                }
            })
    }

    fn percentile(&self, p: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for &(bin, count) in &self.bins {
            seen += u64::from(count);
            if seen >= rank {
                return Some(Self::GROWTH.powf(f64::from(bin) + 0.5));
            }
        }
        None
    }
}

/// What one node did in one time bucket.
#[derive(Debug, Clone, Default)]
struct Bucket {
    q_total_max: i64,
    q_in_max: i64,
    q_out_max: i64,
    starts: u64,
    successes: u64,
    timeouts: u64,
    errors: u64,
    inflight_max: i64,
    /// Latencies of the successes that did not wait to hand their output over: its own work.
    latency: Sketch,
    /// The successes' latency summed (ms): their mean, where a few long ones weigh.
    success_ms: f64,
    /// The same for the successes that did not wait to hand their output over (their output
    /// queue not full when they started nor when they ended): the node's own work.
    own_ms: f64,
    own_successes: u64,
    /// Attempts started, by tenant (at most `MAX_INSTANCES` tenants): who sent a burst.
    tenant_starts: Vec<(Name, u32)>,
}

/// Merged when buckets widen: each kind of bucket says how two of its values add up.
trait Merge: Default + Clone {
    fn merge(&mut self, other: &Self);
}

/// Failure events of the whole flow in one time bucket, by category.
#[derive(Debug, Clone, Default)]
struct FailureBucket {
    counts: [u64; 4],
}

impl Merge for FailureBucket {
    fn merge(&mut self, other: &FailureBucket) {
        for (count, more) in self.counts.iter_mut().zip(other.counts) {
            *count += more;
        }
    }
}

impl Merge for Bucket {
    fn merge(&mut self, other: &Bucket) {
        self.q_total_max = self.q_total_max.max(other.q_total_max);
        self.q_in_max = self.q_in_max.max(other.q_in_max);
        self.q_out_max = self.q_out_max.max(other.q_out_max);
        self.starts += other.starts;
        self.successes += other.successes;
        self.timeouts += other.timeouts;
        self.errors += other.errors;
        self.inflight_max = self.inflight_max.max(other.inflight_max);
        self.latency.merge(&other.latency);
        self.success_ms += other.success_ms;
        self.own_ms += other.own_ms;
        self.own_successes += other.own_successes;
        for (tenant, count) in &other.tenant_starts {
            count_tenant(&mut self.tenant_starts, tenant, *count);
        }
    }
}

#[derive(Debug, Default)]
struct NodeStats {
    first_ts: Timestamp,
    events: u64,
    successes: u64,
    retries: u64,
    /// node_failed and deadline_skip: messages that ended here for good.
    terminal: u64,
    /// Timeouts with its outbound queue full: it timed out handing its output over.
    timeouts_outbound_full: u64,
    timeouts: u64,
    errors: u64,
    q_in_max: i64,
    q_out_max: i64,
    q_total_max: i64,
    q_in: Percentiles,
    q_out: Percentiles,
    q_total: Percentiles,
    queue_maxsize: Option<i64>,
    success_latency: Percentiles,
    timeout_latency: Percentiles,
    failed_latency: Percentiles,
    buckets: TimeBuckets<Bucket>,
    /// Queue readings per instance of the node (its pod, else its `node_id`): each process
    /// has queues of its own, so they are never pooled.
    readings: Vec<(Name, QueueReadings)>,
    work: WorkerTime,
    work_by_tenant: Vec<(Name, WorkerTime)>,
    /// Its own latency over time (successes that did not wait to hand over, timeouts).
    curve: LatencyCurve,
    /// Its own work (successes that did not wait to hand over), and its longest such calls.
    own_latency: Percentiles,
    longest: crate::analysis::deadline_cause::LongestCalls,
    /// `--node`/`--kind` selected an event of this node: its row is shown.
    selected: bool,
}

/// Instances of one node kept apart, at most; further ones share one entry.
const MAX_INSTANCES: usize = 64;

/// Adds `count` to `tenant`'s entry (a new one while there are fewer than `MAX_INSTANCES`).
fn count_tenant(counts: &mut Vec<(Name, u32)>, tenant: &Name, count: u32) {
    match position_of(counts, tenant) {
        Some(index) => counts[index].1 += count,
        None if counts.len() < MAX_INSTANCES => counts.push((tenant.clone(), count)),
        None => {}
    }
}

/// How many readings saw one queue depth, and when the first and the last were.
#[derive(Debug, Clone, Copy, Default)]
struct DepthSeen {
    count: u64,
    first: Timestamp,
    last: Timestamp,
}

/// Readings per queue depth. Depths below `DENSE_DEPTHS` (nearly all: queues hold tens of
/// messages) are counted in a vector's slots, as deep as the deepest reading; others (and
/// negative ones) in a tree. Two readings an event: a tree search each was 3% of triage's
/// analysis thread.
#[derive(Debug, Default)]
struct DepthCounts {
    dense: Vec<u64>,
    other: BTreeMap<i64, u64>,
}

const DENSE_DEPTHS: i64 = 256;

impl DepthCounts {
    #[inline]
    fn add(&mut self, depth: i64) {
        if (0..DENSE_DEPTHS).contains(&depth) {
            let at = depth as usize;
            if at >= self.dense.len() {
                self.dense.resize(at + 1, 0);
            }
            self.dense[at] += 1;
        } else {
            *self.other.entry(depth).or_default() += 1;
        }
    }

    /// (depth, readings) of each depth read, in no particular order.
    fn iter(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.dense
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(depth, count)| (depth as i64, *count))
            .chain(self.other.iter().map(|(depth, count)| (*depth, *count)))
    }
}

/// Exact counts of each q_depth_in / q_depth_out reading of one instance: queue depths are
/// small integers, and shares above any level come from them whatever the bucket width.
#[derive(Debug, Default)]
struct QueueReadings {
    /// The instance is a pod (else a `node_id`).
    pod: bool,
    /// Its latest inbound and outbound readings.
    last_in: i64,
    last_out: i64,
    /// The attempt its one worker has under way, if any.
    open: Option<OpenAttempt>,
    /// Its worker's busy time (s): attempts that ended, and retry backoff.
    busy_s: f64,
    /// Messages it took (first attempts), and its successes that did not wait to hand over
    /// with their time: a pressed instance that took more than its share of the traffic at
    /// its usual speed is a load imbalance, not a slower host.
    messages: u64,
    own_successes: u64,
    own_s: f64,
    /// Its latest queue reading: how long its queue has been below full, once it drained.
    last_reading: Timestamp,
    /// Its first event, and its first node_cancelled (its runtime stopped: flow.stop(), a
    /// shutdown): instances that never ran at the same time are successive, not side by side.
    first_seen: Timestamp,
    stopped: Option<Timestamp>,
    q_in: DepthCounts,
    q_out: DepthCounts,
    /// Its pressure over time: full stretches, hand-over waits.
    pressure: episodes::Pressure,
}

/// A deadline skip at a trace's first event counts as stale only past this lateness (ms), and
/// past what its queue could explain.
const STALE_FLOOR_MS: f64 = 50.0;

/// Where a node's worker spent its time (seconds): attempts that succeeded, timed out or
/// raised, and the retry backoff it slept through (PenguiFlow sleeps in the worker).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WorkerTime {
    pub success_s: f64,
    pub timeout_s: f64,
    pub error_s: f64,
    pub backoff_s: f64,
    /// The part of `backoff_s` slept after a timeout (the retry's exception is a
    /// `TimeoutError`).
    pub backoff_after_timeout_s: f64,
    /// Messages whose first attempt timed out or raised (a request retried six times is one).
    pub failed_messages: u64,
    /// Messages taken (first attempts): the base the failed ones are measured against.
    pub messages: u64,
    /// The part of `success_s` in successes that did not wait to hand their output over (see
    /// `waited_to_hand_over`): the node's own work, what each tenant's messages cost it.
    #[serde(skip)]
    pub own_work_s: f64,
}

impl WorkerTime {
    pub fn busy_s(&self) -> f64 {
        self.success_s + self.timeout_s + self.error_s + self.backoff_s
    }

    fn share(&self, seconds: f64) -> f64 {
        let busy = self.busy_s();
        if busy > 0.0 { seconds / busy } else { 0.0 }
    }

    /// The share of the busy time lost to timed-out attempts and the backoff after them.
    pub fn timeout_share(&self) -> f64 {
        self.share(self.timeout_s + self.backoff_after_timeout_s)
    }

    /// The share of the busy time lost to attempts that raised and the backoff after them.
    pub fn error_share(&self) -> f64 {
        self.share(self.error_s + self.backoff_s - self.backoff_after_timeout_s)
    }

    /// The share of the busy time spent on failed attempts and retry backoff.
    pub fn retrying_share(&self) -> f64 {
        self.share(self.timeout_s + self.error_s + self.backoff_s)
    }

    /// Whether most of the worker's time goes into retrying: messages queued behind it wait
    /// for other messages' retries.
    pub fn mostly_retrying(&self) -> bool {
        self.retrying_share() >= 0.5
    }

    /// The busy time per message taken (ms), failed attempts and backoff included.
    pub fn busy_ms_per_message(&self) -> f64 {
        if self.messages > 0 {
            self.busy_s() * 1000.0 / self.messages as f64
        } else {
            0.0
        }
    }

    /// Whether a deadline skip that is its trace's first event, `late_ms` past the deadline
    /// with `depth` messages before it, came later than the node's queue could explain (3x its
    /// time per message before it: the larger of its p95 and its busy time per message), so
    /// the budget was gone on arrival.
    pub fn skip_was_stale(&self, late_ms: f64, depth: i64, p95_ms: f64) -> bool {
        let turn = p95_ms.max(self.busy_ms_per_message());
        late_ms > (3.0 * turn * (depth.max(0) + 1) as f64).max(STALE_FLOOR_MS)
    }

    pub fn add(&mut self, event: &Event) {
        let seconds = event.latency_ms().map_or(0.0, |ms| ms.max(0.0) / 1000.0);
        match event.kind {
            Kind::NodeSuccess => {
                self.success_s += seconds;
                if !waited_to_hand_over(event) {
                    self.own_work_s += seconds;
                }
            }
            Kind::NodeStart => self.messages += u64::from(event.attempt().unwrap_or(0) == 0),
            Kind::NodeTimeout => {
                self.timeout_s += seconds;
                self.failed_messages += u64::from(event.attempt().unwrap_or(0) == 0);
            }
            Kind::NodeError => {
                self.error_s += seconds;
                self.failed_messages += u64::from(event.attempt().unwrap_or(0) == 0);
            }
            Kind::NodeRetry => {
                let sleep = event.sleep_s().unwrap_or(0.0).max(0.0);
                self.backoff_s += sleep;
                if event
                    .exception()
                    .is_some_and(|e| e.starts_with("TimeoutError") || e.contains(".TimeoutError"))
                {
                    self.backoff_after_timeout_s += sleep;
                }
            }
            _ => {}
        }
    }
}

/// The pending count of one trace over its events. Held for every trace of the last
/// `IDLE_TRACE_MICROS` of log time (150,000 traces at 1 GiB of log): kept to 32 bytes, its
/// last node an id into `PendingNodes`.
#[derive(Debug, Clone)]
struct Pending {
    first: i32,
    max: i32,
    last: i32,
    samples: u32,
    last_ts: Timestamp,
    last_node: u32,
    /// The last event was a node_success: at a sink, what is pending waits in the egress.
    last_success: bool,
}

impl Pending {
    /// The count grew and did not come back down.
    fn grew(&self) -> bool {
        self.samples >= 3 && self.last == self.max && self.last - self.first >= 2
    }
}

/// No last node (an event without `node_name`).
const NO_NODE: u32 = u32::MAX;

/// The node names of pending counts, numbered as the graph learner numbers its nodes: every
/// event with a `trace_pending` names its node, found by the name's address, not by hashing
/// its text.
#[derive(Debug, Default)]
struct PendingNodes {
    ids: NameIds,
}

impl PendingNodes {
    fn id(&mut self, node: Option<&Name>) -> u32 {
        node.map_or(NO_NODE, |node| self.ids.intern(node).0)
    }

    fn len(&self) -> usize {
        self.ids.names().len()
    }

    fn name(&self, id: u32) -> Option<&str> {
        self.ids.names().get(id as usize).map(|name| &**name)
    }
}

pub struct SaturationAnalyzer {
    options: SaturationOptions,
    width: i64,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    events: u64,
    nodes: NameSlots<NodeStats>,
    /// Failure events of the selected scope per time bucket, by category (the report's
    /// failures over time, on the same buckets as the queues).
    failures: BTreeMap<i64, FailureBucket>,
    pending: TraceMap<Pending>,
    pending_nodes: PendingNodes,
    blocked: Vec<(TraceKey, Pending)>,
    /// Blocked traces by (last node, last event a success).
    blocked_total: Vec<((u32, bool), u64)>,
    last_eviction: Timestamp,
    /// Some event was not selected by `--node`/`--kind`.
    filtered: bool,
    /// Workers that logged node_cancelled, by node and node_id: when their runtime stopped.
    stops: Vec<StoppedWorker>,
}

/// Stopped runtimes kept at most (one entry per node and node_id).
const MAX_STOPS: usize = 1024;

/// A worker that logged node_cancelled: its runtime (process, by its node_id) stopped, and
/// the messages in its queues went with it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoppedWorker {
    pub node_name: String,
    pub node_id: String,
    pub at: Timestamp,
}

/// An attempt under way: when it started, where, and whether its output queue was already
/// full then (an attempt that cannot hand its output over is blocked, not hanging).
#[derive(Debug, Clone)]
struct OpenAttempt {
    trace: TraceKey,
    start: Timestamp,
    outbound_full: bool,
    /// Its output queue at its start, and the latest reading before with that queue empty.
    q_out: i64,
    out_empty_before: Option<Timestamp>,
}
/// An open attempt running this many times its node's p95, and at least `HANG_MIN_MICROS`, at
/// the end of the input is hanging, unless the node already finished an attempt as long (with
/// at least `HANG_MIN_COMPLETED_FEW` of them ended).
const HANG_RATIO: f64 = 10.0;
const HANG_MIN_MICROS: i64 = 1_000_000;
/// A frozen pod stops logging soon after its queues fill, so a hang at the end of its log can
/// be young: an open attempt is also hanging once it has run this many times the node's
/// longest completed attempt (with at least `HANG_MIN_COMPLETED` of them to know it; twice that
/// with `HANG_MIN_COMPLETED_FEW`), 3x its p95, and `HANG_FLOOR_MICROS`.
const HANG_LONGEST_RATIO: f64 = 2.0;
const HANG_MIN_COMPLETED: u64 = 20;
/// Fewer attempts ended than this: nothing is known of the node's longest.
pub(crate) const HANG_MIN_COMPLETED_FEW: u64 = 5;
const HANG_FLOOR_MICROS: i64 = 200_000;
/// Hanging attempts listed, at most.
const MAX_HANGS: usize = 5;

/// An attempt still running at the end of the input far past its node's p95, holding the
/// node's only worker (of its instance).
#[derive(Debug, Clone, Serialize)]
pub struct Hang {
    pub node_name: String,
    pub trace_id: String,
    /// The pod (or node_id) whose worker it holds, when the input has several.
    pub instance: Option<String>,
    pub started: Timestamp,
    pub running_ms: f64,
    pub p95_ms: Option<f64>,
    /// The node's longest attempt that ended (succeeded, timed out or raised).
    pub longest_ms: Option<f64>,
    /// Messages waiting behind it: its feeding nodes' outbound queues in the same pod, else its
    /// own last nonzero inbound reading (null when nothing tells).
    pub queued_behind: Option<i64>,
}

impl Default for SaturationAnalyzer {
    fn default() -> SaturationAnalyzer {
        SaturationAnalyzer::new(SaturationOptions::default())
    }
}

impl SaturationAnalyzer {
    pub fn new(options: SaturationOptions) -> SaturationAnalyzer {
        SaturationAnalyzer {
            width: options.bucket_micros.unwrap_or(LEVELS_MICROS[0]),
            options,
            first_ts: None,
            last_ts: None,
            events: 0,
            nodes: NameSlots::default(),
            failures: BTreeMap::new(),
            pending: TraceMap::default(),
            pending_nodes: PendingNodes::default(),
            blocked: Vec::new(),
            blocked_total: Vec::new(),
            last_eviction: Timestamp(i64::MIN),
            filtered: false,
            stops: Vec::new(),
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.observe_event(event, true);
    }

    /// One event; `selected` says whether `--node`/`--kind` select it. Every event counts
    /// towards the verdict (the bottleneck is a property of the whole flow); only nodes with a
    /// selected event are shown.
    fn observe_event(&mut self, event: &Event, selected: bool) {
        self.filtered |= !selected;
        self.events += 1;
        self.first_ts = Some(self.first_ts.map_or(event.ts, |t| t.min(event.ts)));
        self.last_ts = Some(self.last_ts.map_or(event.ts, |t| t.max(event.ts)));
        self.track_pending(event);
        // Failure events as classify counts them: not a node_failed (its message's last
        // failure, already counted) nor a remote_call_error (its node_error repeats it).
        if selected
            && !is_terminal(event)
            && !is_repeated(event)
            && let Some(category) = category_of(event)
        {
            self.widen_if_needed();
            self.failures
                .entry(event.ts.0.div_euclid(self.width))
                .or_default()
                .counts[category as usize] += 1;
        }
        let Some(node) = event.node_name.as_ref().filter(|n| !is_endpoint(n)) else {
            return;
        };
        self.widen_if_needed();
        let width = self.width;
        let threshold = self.options.threshold;
        let stats = self.nodes.get_or_insert_with(node, || NodeStats {
            first_ts: event.ts,
            ..NodeStats::default()
        });
        stats.events += 1;
        stats.selected |= selected;
        if event.kind == Kind::NodeCancelled {
            // A worker stopped at shutdown (flow.stop()): an event of the node but not load,
            // and the end of whatever attempt that worker had under way: not a hang.
            if let Some(node_id) = event.node_id.as_deref()
                && self.stops.len() < MAX_STOPS
                && !self
                    .stops
                    .iter()
                    .any(|stop| stop.node_id == node_id && stop.node_name == node.as_str())
            {
                self.stops.push(StoppedWorker {
                    node_name: node.to_string(),
                    node_id: node_id.to_string(),
                    at: event.ts,
                });
            }
            let instance = event.pod.as_deref().or(event.node_id.as_deref());
            for (name, readings) in &mut stats.readings {
                if instance.is_none_or(|instance| &**name == instance) {
                    readings.open = None;
                    readings.stopped.get_or_insert(event.ts);
                }
            }
            return;
        }
        let bucket = stats.buckets.at(event.ts.0.div_euclid(width));
        if matches!(
            event.kind,
            Kind::NodeStart
                | Kind::NodeSuccess
                | Kind::NodeTimeout
                | Kind::NodeError
                | Kind::NodeRetry
        ) {
            stats.work.add(event);
            stats.curve.add(event);
            let tenant = event.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
            match position_of(&stats.work_by_tenant, tenant) {
                Some(index) => stats.work_by_tenant[index].1.add(event),
                None if stats.work_by_tenant.len() < MAX_INSTANCES => {
                    let mut work = WorkerTime::default();
                    work.add(event);
                    let name = event
                        .tenant
                        .clone()
                        .unwrap_or_else(|| Name::from(UNKNOWN_TENANT));
                    stats.work_by_tenant.push((name, work));
                }
                None => {}
            }
        }
        // Looked up by its text; the name is kept only for an instance met the first time.
        let instance = event.pod.as_ref().or(event.node_id.as_ref());
        let index = match position_of(&stats.readings, instance.map_or("", |name| &**name)) {
            Some(index) => index,
            None => {
                let key = if stats.readings.len() < MAX_INSTANCES {
                    instance.cloned().unwrap_or_else(|| Name::from(""))
                } else {
                    Name::from("(other instances)")
                };
                match position_of(&stats.readings, &key) {
                    Some(index) => index,
                    None => {
                        let readings = QueueReadings {
                            pod: event.pod.is_some(),
                            first_seen: event.ts,
                            ..QueueReadings::default()
                        };
                        stats.readings.push((key, readings));
                        stats.readings.len() - 1
                    }
                }
            }
        };
        let readings = &mut stats.readings[index].1;
        match event.kind {
            Kind::NodeStart if event.attempt().unwrap_or(0) == 0 => readings.messages += 1,
            Kind::NodeSuccess if !waited_to_hand_over(event) => {
                readings.own_successes += 1;
                readings.own_s += event.latency_ms().map_or(0.0, |ms| ms.max(0.0) / 1000.0);
            }
            _ => {}
        }
        readings.busy_s += match event.kind {
            Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError => {
                event.latency_ms().map_or(0.0, |ms| ms.max(0.0) / 1000.0)
            }
            Kind::NodeRetry => event.sleep_s().unwrap_or(0.0).max(0.0),
            _ => 0.0,
        };
        // One worker per node and process: at most one attempt under way per instance.
        let mut ended = None;
        if let Some(trace) = &event.trace_id {
            let hex = event.keys().hex_trace;
            match event.kind {
                Kind::NodeStart => {
                    readings.open = Some(OpenAttempt {
                        trace: TraceKey::of(trace, hex),
                        start: event.ts,
                        outbound_full: outbound_full(event),
                        q_out: event.q_depth_out().unwrap_or(0),
                        out_empty_before: readings.pressure.last_out_empty(),
                    });
                }
                Kind::NodeSuccess
                | Kind::NodeTimeout
                | Kind::NodeError
                | Kind::NodeFailed
                | Kind::NodeTraceCancelled
                    if readings
                        .open
                        .as_ref()
                        .is_some_and(|open| open.trace.is(trace, hex)) =>
                {
                    ended = readings.open.take();
                }
                _ => {}
            }
        }
        // An attempt that started with its output queue full spent its time waiting to hand
        // its output over (PenguiFlow's latency includes the put): a spell of blocking.
        let started_blocked = ended.as_ref().is_some_and(|open| open.outbound_full);
        if let Some(open) = ended.filter(|open| {
            open.outbound_full
                && matches!(
                    event.kind,
                    Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError
                )
        }) {
            let ms = event
                .latency_ms()
                .unwrap_or((event.ts.0.saturating_sub(open.start.0)) as f64 / 1000.0);
            readings.pressure.blocked_attempt(
                episodes::BlockedAttempt {
                    trace: open.trace,
                    start: open.start,
                    end: event.ts,
                    ms,
                    q_depth_out: open.q_out,
                },
                open.out_empty_before,
            );
        }
        let capacity = event.queue_maxsize().or(stats.queue_maxsize);
        let out_full = event
            .q_depth_out()
            .is_some_and(|q| q > 0 && q as f64 >= full_level(capacity, 1, threshold));
        if let Some(q) = event.q_depth_out() {
            readings.pressure.out_reading(event.ts, q);
        }
        if let Some(q) = event.q_depth_in() {
            // The lowest full level (one inbound edge): the graph says later how many a
            // join's reading sums.
            let full = q > 0 && q as f64 >= full_level(capacity, 1, threshold);
            readings.pressure.reading(event.ts, q, full, out_full);
            readings.last_in = q;
            readings.last_reading = readings.last_reading.max(event.ts);
            readings.q_in.add(q);
            stats.q_in_max = stats.q_in_max.max(q);
            stats.q_in.add_whole(q);
            bucket.q_in_max = bucket.q_in_max.max(q);
        }
        if let Some(q) = event.q_depth_out() {
            readings.last_out = q;
            readings.q_out.add(q);
            stats.q_out_max = stats.q_out_max.max(q);
            stats.q_out.add_whole(q);
            bucket.q_out_max = bucket.q_out_max.max(q);
        }
        if let Some(q) = event.q_depth_total() {
            stats.q_total_max = stats.q_total_max.max(q);
            stats.q_total.add_whole(q);
            bucket.q_total_max = bucket.q_total_max.max(q);
        }
        if let Some(capacity) = event.queue_maxsize() {
            stats.queue_maxsize = Some(capacity);
        }
        bucket.inflight_max = bucket.inflight_max.max(event.trace_inflight().unwrap_or(0));
        stats.longest.add(event);
        match event.kind {
            Kind::NodeStart => {
                bucket.starts += 1;
                if let Some(tenant) = &event.tenant {
                    count_tenant(&mut bucket.tenant_starts, tenant, 1);
                }
            }
            Kind::NodeSuccess => {
                stats.successes += 1;
                bucket.successes += 1;
                if let Some(latency) = event.latency_ms() {
                    stats.success_latency.add(latency);
                    // The regression compares the node's own work: a success that waited to
                    // hand its output over measures the node after it.
                    if !waited_to_hand_over(event) && !started_blocked {
                        bucket.latency.add(latency);
                        bucket.own_ms += latency;
                        bucket.own_successes += 1;
                        stats.own_latency.add(latency);
                    }
                    bucket.success_ms += latency;
                }
            }
            Kind::NodeTimeout => {
                stats.timeouts += 1;
                bucket.timeouts += 1;
                stats.timeouts_outbound_full += u64::from(outbound_full(event));
                if let Some(latency) = event.latency_ms() {
                    stats.timeout_latency.add(latency);
                }
            }
            Kind::NodeError => {
                stats.errors += 1;
                bucket.errors += 1;
                if let Some(latency) = event.latency_ms() {
                    stats.failed_latency.add(latency);
                }
            }
            Kind::NodeRetry => stats.retries += 1,
            Kind::NodeFailed | Kind::DeadlineSkip => stats.terminal += 1,
            _ => {}
        }
    }

    /// The attempts hanging at the end of the input, longest first, and how many there are.
    fn hangs(&self, end: Timestamp, graph: &FlowGraph) -> (Vec<Hang>, u64) {
        let mut hangs: Vec<Hang> = Vec::new();
        let open = self.nodes.iter().flat_map(|(node, stats)| {
            stats
                .readings
                .iter()
                .filter_map(move |(instance, readings)| {
                    let attempt = readings.open.as_ref()?;
                    Some((
                        node,
                        stats,
                        instance,
                        readings.pod,
                        attempt,
                        readings.last_out,
                    ))
                })
        });
        for (node, stats, instance, pod, attempt, last_out) in open {
            let running = end.0.saturating_sub(attempt.start.0);
            // Blocked handing its output over, not hanging: its outbound queue was full when it
            // started, or it is a router whose latest reading could fill one outgoing edge (its
            // emit blocks on the one full branch it takes).
            let edge_full = graph.is_router(node)
                && stats
                    .queue_maxsize
                    .is_some_and(|capacity| capacity > 0 && last_out >= capacity);
            if attempt.outbound_full || edge_full {
                continue;
            }
            let running_ms = running as f64 / 1000.0;
            let trace = &attempt.trace;
            let p95 = stats.success_latency.percentile(95.0);
            let long =
                running >= HANG_MIN_MICROS && p95.is_none_or(|p95| running_ms >= HANG_RATIO * p95);
            let completed = stats.success_latency.count()
                + stats.timeout_latency.count()
                + stats.failed_latency.count();
            let longest = [
                &stats.success_latency,
                &stats.timeout_latency,
                &stats.failed_latency,
            ]
            .iter()
            .filter_map(|p| p.max())
            .fold(None, |longest: Option<f64>, max| {
                Some(longest.map_or(max, |l| l.max(max)))
            });
            // With few attempts ended, their longest is a rougher bound: ask twice as much.
            let ratio = if completed >= HANG_MIN_COMPLETED {
                HANG_LONGEST_RATIO
            } else {
                2.0 * HANG_LONGEST_RATIO
            };
            let past_longest = completed >= HANG_MIN_COMPLETED_FEW
                && running >= HANG_FLOOR_MICROS
                && longest.is_some_and(|longest| running_ms >= ratio * longest)
                && p95.is_some_and(|p95| running_ms >= 3.0 * p95);
            // Not past what the node has already done and finished: a slow call within its
            // own history (a cold model's tail), not a hang, however far past its p95.
            let within_history = completed >= HANG_MIN_COMPLETED_FEW
                && longest.is_some_and(|longest| running_ms <= longest);
            if (!long || within_history) && !past_longest {
                continue;
            }
            let several = stats.readings.len() > 1;
            let key = Some(&**instance);
            let reading = |readings: &[(Name, QueueReadings)], key: &str| {
                position_of(readings, key)
                    .map(|index| (readings[index].1.last_in, readings[index].1.last_out))
            };
            // A hung worker logs nothing more: what waits behind it shows in its last reading,
            // or in the outbound queues of the nodes feeding it (same pod).
            let own = key
                .and_then(|key| reading(&stats.readings, key))
                .map(|(last_in, _)| last_in);
            // The feeding nodes' outbound queues: of the same pod, or of their one instance
            // when the input has a single process.
            let feeding = key.and_then(|key| {
                graph
                    .edges
                    .iter()
                    .filter(|edge| edge.to == **node)
                    .filter_map(|edge| self.nodes.get(edge.from.as_str()))
                    .filter_map(|sender| match (pod, sender.readings.as_slice()) {
                        (true, readings) => reading(readings, key),
                        (false, [(_, only)]) if !several => Some((only.last_in, only.last_out)),
                        _ => None,
                    })
                    .map(|(_, last_out)| last_out)
                    .max()
            });
            hangs.push(Hang {
                node_name: node.to_string(),
                trace_id: trace.to_string(),
                instance: several
                    .then(|| format!("{} {instance}", if pod { "pod" } else { "node_id" })),
                started: attempt.start,
                running_ms,
                p95_ms: p95,
                longest_ms: longest,
                // Without a pod to match the feeding nodes' queues, only a nonzero reading of
                // its own says something (a hung worker's last reading predates the backlog).
                queued_behind: feeding.or(own.filter(|q| *q > 0)),
            });
        }
        // An attempt upstream of a hanging one (in the same pod, where pods are known) is
        // blocked handing its output over (ctx.emit into the full queue), not hanging itself.
        let all = hangs.clone();
        hangs.retain(|hang| {
            !all.iter().any(|other| {
                other.node_name != hang.node_name
                    && graph.is_downstream(&other.node_name, &hang.node_name)
                    && (hang.instance.is_none()
                        || other.instance.is_none()
                        || hang.instance == other.instance
                        || !hang
                            .instance
                            .as_deref()
                            .is_some_and(|i| i.starts_with("pod ")))
            })
        });
        hangs.sort_by(|a, b| {
            b.running_ms
                .total_cmp(&a.running_ms)
                .then(a.trace_id.cmp(&b.trace_id))
        });
        let total = hangs.len() as u64;
        hangs.truncate(MAX_HANGS);
        (hangs, total)
    }

    /// Keeps the internal bucket count under `MAX_BUCKETS` by moving to a wider level.
    fn widen_if_needed(&mut self) {
        if self.options.bucket_micros.is_some() {
            return;
        }
        let (Some(first), Some(last)) = (self.first_ts, self.last_ts) else {
            return;
        };
        let span = last.0.saturating_sub(first.0);
        // Twice an event: the test below without its division (`span / width > MAX_BUCKETS`
        // is `span >= (MAX_BUCKETS + 1) * width` for a positive width).
        if span < self.width.saturating_mul(MAX_BUCKETS + 1) {
            return;
        }
        let mut width = self.width;
        while span / width > MAX_BUCKETS {
            match LEVELS_MICROS.iter().find(|&&level| level > width) {
                Some(&wider) => width = wider,
                None => break,
            }
        }
        if width != self.width {
            for stats in self.nodes.values_mut() {
                stats.buckets =
                    TimeBuckets::from(rebucket(stats.buckets.settled(), self.width, width));
            }
            self.failures = rebucket(&self.failures, self.width, width);
            self.width = width;
        }
    }

    fn track_pending(&mut self, event: &Event) {
        let (Some(trace), Some(pending)) = (&event.trace_id, event.trace_pending()) else {
            return;
        };
        let pending = pending.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let last_success = event.kind == Kind::NodeSuccess;
        let last_node = self.pending_nodes.id(event.node_name.as_ref());
        let hex = event.keys().hex_trace;
        match self.pending.get_mut(trace, hex) {
            Some(state) => {
                state.max = state.max.max(pending);
                state.last = pending;
                state.samples += 1;
                state.last_ts = event.ts;
                state.last_node = last_node;
                state.last_success = last_success;
            }
            None => {
                self.pending.get_or_insert_with(trace, hex, || Pending {
                    first: pending,
                    max: pending,
                    last: pending,
                    samples: 1,
                    last_ts: event.ts,
                    last_node,
                    last_success,
                });
            }
        }
        let newest = self.last_ts.unwrap_or(event.ts);
        if newest.0.saturating_sub(self.last_eviction.0) > IDLE_TRACE_MICROS / 4 {
            self.last_eviction = newest;
            let cutoff = newest.0.saturating_sub(IDLE_TRACE_MICROS);
            // Only traces whose count grew can be blocked: the rest (tens of thousands a
            // sweep) are dropped where they are, not gathered first.
            let mut grown: Vec<(Timestamp, TraceKey)> = self
                .pending
                .iter()
                .filter(|(_, p)| p.last_ts.0 < cutoff && p.grew())
                .map(|(trace, p)| (p.last_ts, trace))
                .collect();
            // Oldest stall first (then by id), not the map's order: the traces named, at most
            // `MAX_BLOCKED_TRACES`, are the same whatever the order entries are kept in.
            grown.sort_unstable();
            for (_, trace) in grown {
                if let Some(state) = self.pending.remove(&trace) {
                    self.settle_pending(trace, state);
                }
            }
            self.pending.retain(|p| p.last_ts.0 >= cutoff);
        }
    }

    /// A trace whose pending count grew and never came back down: blocked downstream. Kept
    /// by its last node (and whether its last event succeeded) until the graph says whether
    /// that node is a sink.
    fn settle_pending(&mut self, trace: TraceKey, state: Pending) {
        if !state.grew() {
            return;
        }
        let key = (state.last_node, state.last_success);
        let total = match self.blocked_total.iter_mut().find(|(k, _)| *k == key) {
            Some((_, total)) => total,
            None => {
                self.blocked_total.push((key, 0));
                &mut self.blocked_total.last_mut().expect("just pushed").1
            }
        };
        *total += 1;
        if *total <= MAX_BLOCKED_TRACES as u64 {
            self.blocked.push((trace, state));
        }
    }

    /// The report without a learned flow graph (the bottleneck is then judged by pressure
    /// alone, not by position).
    pub fn finish(self) -> SaturationReport {
        self.finish_with_graph(&FlowGraph::default())
    }

    /// The report, the bottleneck judged along `graph`.
    pub fn finish_with_graph(self, graph: &FlowGraph) -> SaturationReport {
        self.finish_at(graph, None)
    }

    /// The report, the bottleneck judged along `graph`, attempts still open judged at the
    /// input's end `input_end` when the scope read ended earlier (`--pod`, `--tenant`).
    pub fn finish_at(
        mut self,
        graph: &FlowGraph,
        input_end: Option<Timestamp>,
    ) -> SaturationReport {
        for stats in self.nodes.values_mut() {
            stats.buckets.settled();
        }
        // Only a trace whose count grew can be blocked: the others (nearly all of the last
        // minutes' traces) are not collected.
        let mut pending: Vec<(TraceKey, Pending)> = self
            .pending
            .drain()
            .filter(|(_, state)| state.grew())
            .collect();
        // Keys are distinct: an unstable sort gives the same order, with fewer moves.
        pending.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let end = self.last_ts.unwrap_or_default();
        // By pending node id (`NO_NODE` has no slot: no node, no p95).
        let mut p95_by_node: Vec<Option<f64>> = vec![None; self.pending_nodes.len()];
        for (trace, state) in pending {
            // A trace still moving at the end of the input is not stuck: a fan-out raises
            // trace_pending with each ctx.emit, moments before its messages are taken. It must
            // have been still for a while, against its last node's p95.
            // Worked out once per node: every trace of the last minutes is pending here.
            let slot = p95_by_node.get_mut(state.last_node as usize);
            let p95_ms = match slot.as_deref() {
                Some(Some(p95_ms)) => *p95_ms,
                _ => {
                    let p95_ms = self
                        .pending_nodes
                        .name(state.last_node)
                        .and_then(|node| self.nodes.get(node))
                        .and_then(|stats| stats.success_latency.percentile(95.0))
                        .unwrap_or(0.0);
                    if let Some(slot) = slot {
                        *slot = Some(p95_ms);
                    }
                    p95_ms
                }
            };
            let still_micros = end.0.saturating_sub(state.last_ts.0);
            if (still_micros as f64)
                < (PENDING_STILL_RATIO * p95_ms * 1000.0).max(PENDING_STILL_MIN_MICROS as f64)
            {
                continue;
            }
            self.settle_pending(trace, state);
        }
        let first = self.first_ts.unwrap_or_default();
        let last = self.last_ts.unwrap_or_default();
        let span_micros = last.0.saturating_sub(first.0).max(0);
        let display = match self.options.bucket_micros {
            Some(width) => width,
            None => display_width(span_micros, self.width),
        };
        let first_bucket = first.0.div_euclid(display);
        let last_bucket = last.0.div_euclid(display);
        let span_s = span_micros as f64 / 1e6;

        let mut names: Vec<(&Name, &NodeStats)> = self.nodes.iter().collect();
        names.sort_by(|a, b| a.1.first_ts.cmp(&b.1.first_ts).then(a.0.cmp(b.0)));
        let shown: Vec<BTreeMap<i64, Bucket>> = names
            .iter()
            .map(|(_, stats)| rebucket(stats.buckets.all(), self.width, display))
            .collect();
        // Every bucket of the span, unless a stray timestamp stretches it absurdly: then only
        // the buckets that have events (memory stays bounded by the events, not the span).
        let indices: Vec<i64> = if last_bucket - first_bucket < MAX_DENSE_BUCKETS {
            (first_bucket..=last_bucket).collect()
        } else {
            let mut keys: Vec<i64> = shown.iter().flat_map(|b| b.keys().copied()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        };
        let failures_shown = rebucket(&self.failures, self.width, display);
        let failures: Vec<FailurePoint> = indices
            .iter()
            .map(|&index| {
                let counts = failures_shown
                    .get(&index)
                    .map_or([0; 4], |bucket| bucket.counts);
                FailurePoint {
                    t: Timestamp(index.saturating_mul(display)),
                    timeout: counts[Category::Timeout as usize],
                    error: counts[Category::Error as usize],
                    cancel: counts[Category::Cancel as usize],
                    deadline: counts[Category::Deadline as usize],
                }
            })
            .collect();
        let mut nodes = Vec::new();
        // Each node's buckets over the span, as references: a node with events in few of
        // them (a generated name) points at one empty bucket for the rest instead of holding a
        // copy of it for every bucket of the span.
        let empty = Bucket::default();
        let mut node_buckets: Vec<(String, Vec<&Bucket>)> = Vec::new();

        for ((name, stats), shown) in names.into_iter().zip(&shown) {
            let dense: Vec<&Bucket> = indices
                .iter()
                .map(|index| shown.get(index).unwrap_or(&empty))
                .collect();
            // q_depth_in sums the node's inbound edges: a join's can pass one edge's capacity
            // with no queue full. Where the name stands for nodes of different flows, each
            // instance (node_id) sums its own node's edges only. Senders that report their one
            // queue into the node full say which are: judged at those queues' level.
            let full_edges = full_inbound_edges(name, graph, &self.nodes, self.options.threshold);
            let (shallow_edges, shallow_depth) = shallow_inbound_edges(name, graph, &self.nodes);
            let in_edges =
                judged_inbound_edges(full_edges, graph.inbound_edges(name) - shallow_edges);
            // What the shallow queues may hold rides on the others' level (none where senders
            // report full queues: those are judged alone).
            let in_offset = if full_edges == 0 { shallow_depth } else { 0 };
            let instances = stats
                .readings
                .iter()
                .map(|(instance, readings)| {
                    let namesake = (!readings.pod)
                        .then(|| graph.namesake_of(name, instance))
                        .flatten();
                    InstanceNode {
                        in_edges: namesake.map_or(in_edges, |index| {
                            graph.namesakes(name)[index].inbound_edges.max(1)
                        }),
                        in_offset: if namesake.is_some() { 0 } else { in_offset },
                        namesake,
                    }
                })
                .collect();
            let mut report = node_report(
                name,
                stats,
                &dense,
                &indices,
                display,
                span_s,
                &FullLevel {
                    threshold: self.options.threshold,
                    sink: graph.is_sink(name),
                    instances,
                    namesakes: graph.namesakes(name),
                },
            );
            report.full_inbound_edges = full_edges;
            report.shallow_inbound_edges = shallow_edges;
            report.shallow_inbound_depth = in_offset;
            if let Some(window) = &mut report.pressure_window {
                window.explain(stats.buckets.all(), self.width);
                window.settle(span_s);
            }
            nodes.push(report);
            node_buckets.push((name.to_string(), dense));
        }

        let mut signals = Vec::new();
        let options = self.options;
        for (report, (_, buckets)) in nodes.iter().zip(&node_buckets) {
            signals.extend(saturation_signal(
                report, buckets, &indices, display, options,
            ));
        }
        for (report, (_, buckets)) in nodes.iter().zip(&node_buckets) {
            signals.extend(slow_dependency_signal(report, buckets, display, options));
        }
        for report in &nodes {
            if let Some(rate) = report.retry_rate
                && rate > options.retry_storm_rate
            {
                signals.push(Signal {
                    kind: SignalKind::RetryStorm,
                    ended_in_errors: false,
                    ended_in_timeouts: false,
                    node_name: Some(report.node_name.clone()),
                    trace_id: None,
                    detail: SignalDetail::RetryStorm {
                        retries: report.retries,
                        successes: report.successes,
                        rate,
                        above: options.retry_storm_rate,
                    },
                });
            }
        }
        for (report, (_, buckets)) in nodes.iter().zip(&node_buckets) {
            signals.extend(regression_signal(
                report,
                buckets,
                first,
                span_micros,
                &indices,
                display,
            ));
        }
        // A trace whose last event was a sink's success has handed its results to the egress:
        // what is pending there waits for flow.fetch() (a full egress makes the sink the
        // bottleneck), and a fan-out into several sinks logs its last successes before the app
        // fetches any. Nothing downstream of a sink can stop draining it.
        let at_sink = |(node, success): (u32, bool)| {
            success
                && self
                    .pending_nodes
                    .name(node)
                    .is_some_and(|name| graph.is_sink(name))
        };
        let blocked_total: u64 = self
            .blocked_total
            .iter()
            .filter(|(key, _)| !at_sink(*key))
            .map(|(_, total)| total)
            .sum();
        let blocked = self
            .blocked
            .iter()
            .filter(|(_, state)| !at_sink((state.last_node, state.last_success)))
            .take(MAX_BLOCKED_TRACES);
        for (trace, state) in blocked {
            signals.push(Signal {
                kind: SignalKind::BlockedDownstream,
                ended_in_errors: false,
                ended_in_timeouts: false,
                node_name: self.pending_nodes.name(state.last_node).map(str::to_string),
                trace_id: Some(trace.to_string()),
                detail: SignalDetail::Blocked {
                    first: state.first,
                    last: state.last,
                    samples: state.samples,
                    in_all: (blocked_total as usize > MAX_BLOCKED_TRACES).then_some(blocked_total),
                },
            });
        }

        // Each node's sustained saturation run (the saturation signal's rule), as times: a
        // node upstream of the bottleneck saturated while it was is backed up behind it.
        let runs: Vec<Option<(Timestamp, Timestamp)>> = nodes
            .iter()
            .zip(&node_buckets)
            .map(|(report, (_, buckets))| {
                let (start, run) = saturation_run(report, buckets, options.threshold)?;
                (run >= options.sustain).then(|| {
                    (
                        Timestamp(indices[start].saturating_mul(display)),
                        Timestamp(
                            indices[start + run - 1]
                                .saturating_add(1)
                                .saturating_mul(display),
                        ),
                    )
                })
            })
            .collect();
        let mut bottleneck = bottleneck(&nodes, &runs, graph, options.threshold).or_else(|| {
            transient_bottleneck(
                &nodes,
                &runs,
                &node_buckets,
                &indices,
                display,
                graph,
                options,
            )
        });
        if let Some(hot) = &mut bottleneck {
            let width = self.width;
            separate_episodes(hot, &nodes, graph, span_s, |node, window| {
                if let Some(stats) = self.nodes.get(node) {
                    window.explain(stats.buckets.all(), width);
                    window.settle(span_s);
                }
            });
            hot.tenant_load = tenant_load(&nodes, hot);
        }
        let (hanging, hanging_total) =
            self.hangs(input_end.map_or(last, |end| end.max(last)), graph);
        let mut remediation: Vec<SaturationStep> =
            hanging.iter().cloned().map(SaturationStep::Hang).collect();
        let (steps, hot_load_imbalance) = remediate(&nodes, &signals, bottleneck.as_ref());
        remediation.extend(steps);
        let lost_time = lost_elsewhere(&nodes, bottleneck.as_ref());
        if self.filtered {
            let shown: Vec<&str> = self
                .nodes
                .iter()
                .filter(|(_, stats)| stats.selected)
                .map(|(name, _)| name.as_str())
                .collect();
            nodes.retain(|node| shown.contains(&node.node_name.as_str()));
        }
        SaturationReport {
            span: Span {
                first_ts: self.first_ts,
                last_ts: self.last_ts,
                bucket_s: display as f64 / 1e6,
                events: self.events,
            },
            nodes,
            failures,
            hot_node: bottleneck.as_ref().map(|b| b.node_name.clone()),
            hot_node_reason: bottleneck.clone().map(|hot| HotNodeReason(Box::new(hot))),
            bottleneck,
            lost_time,
            hanging,
            hanging_total,
            signals,
            remediation,
            hot_load_imbalance,
            stops: self.stops,
        }
    }
}

/// A node's time buckets, the newest kept out of the tree: events come in time order, so
/// nearly every event's bucket is the newest, reached without walking down the tree's right
/// edge (twice, for its key and then its entry: a tenth of the time saturation spent on an
/// event).
#[derive(Debug, Default)]
struct TimeBuckets<B> {
    older: BTreeMap<i64, B>,
    newest: Option<(i64, B)>,
}

impl<B: Default> TimeBuckets<B> {
    /// The bucket at `index`, made if missing.
    #[inline]
    fn at(&mut self, index: i64) -> &mut B {
        if self
            .newest
            .as_ref()
            .is_none_or(|(newest, _)| *newest != index)
        {
            // A new bucket, or an older one for an event out of order: it is the newest now.
            let bucket = self.older.remove(&index).unwrap_or_default();
            if let Some((newest, previous)) = self.newest.replace((index, bucket)) {
                self.older.insert(newest, previous);
            }
        }
        &mut self
            .newest
            .as_mut()
            .expect("the newest bucket was just set")
            .1
    }

    /// Every bucket, in one map: the newest is put back into the tree.
    fn settled(&mut self) -> &BTreeMap<i64, B> {
        if let Some((index, bucket)) = self.newest.take() {
            self.older.insert(index, bucket);
        }
        &self.older
    }

    /// Every bucket, once [`TimeBuckets::settled`] put the newest back.
    fn all(&self) -> &BTreeMap<i64, B> {
        debug_assert!(
            self.newest.is_none(),
            "buckets read before they were settled"
        );
        &self.older
    }
}

impl<B> From<BTreeMap<i64, B>> for TimeBuckets<B> {
    fn from(older: BTreeMap<i64, B>) -> TimeBuckets<B> {
        TimeBuckets {
            older,
            newest: None,
        }
    }
}

/// Merges buckets of width `from` into buckets of width `to` (a multiple of `from`).
fn rebucket<B: Merge>(buckets: &BTreeMap<i64, B>, from: i64, to: i64) -> BTreeMap<i64, B> {
    if from == to {
        return buckets.clone();
    }
    let mut merged: BTreeMap<i64, B> = BTreeMap::new();
    for (index, bucket) in buckets {
        merged
            .entry((index * from).div_euclid(to))
            .or_default()
            .merge(bucket);
    }
    merged
}

/// The smallest nice width giving at most about `TARGET_BUCKETS` buckets over the span that
/// the internal width divides.
fn display_width(span_micros: i64, internal: i64) -> i64 {
    NICE_MICROS
        .iter()
        .copied()
        .filter(|width| width % internal == 0)
        .find(|width| span_micros / width < TARGET_BUCKETS)
        .unwrap_or(internal.max(*NICE_MICROS.last().unwrap_or(&internal)))
}

#[derive(Debug, Clone, Serialize)]
pub struct Span {
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub bucket_s: f64,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyStats {
    pub count: u64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl LatencyStats {
    fn of(percentiles: &Percentiles) -> LatencyStats {
        LatencyStats {
            count: percentiles.count(),
            p50: percentiles.percentile(50.0),
            p95: percentiles.percentile(95.0),
            p99: percentiles.percentile(99.0),
            max: percentiles.max(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesPoint {
    pub t: Timestamp,
    pub q_depth_total_max: i64,
    /// The node's successes, timeouts and errors in the bucket.
    pub successes: u64,
    pub timeouts: u64,
    pub errors: u64,
}

/// Failure events of the whole flow in one bucket of the span, by category.
#[derive(Debug, Clone, Serialize)]
pub struct FailurePoint {
    pub t: Timestamp,
    pub timeout: u64,
    pub error: u64,
    pub cancel: u64,
    pub deadline: u64,
}

/// When a queue was full: its first and last reading at or above the level (for a sink, also
/// the attempts it spent blocked on a full egress, when it logs nothing). A burst fills a
/// queue for seconds and is over; a verdict must not read it as a bottleneck of now.
#[derive(Debug, Clone, Serialize)]
pub struct PressureWindow {
    pub first: Timestamp,
    pub last: Timestamp,
    /// Seconds its queue was read below the level after `last`.
    pub drained_s: f64,
    /// Drained for long against the window and the span, or its runtime stopped and another
    /// took over: the pressure is over.
    pub over: bool,
    /// When its runtime stopped (node_cancelled), another instance serving after it.
    pub stopped: Option<Timestamp>,
    /// The tenant that started most of the node's attempts in the window, standing out from
    /// its share outside it (see `tenant_share`), with its share of the window's attempts.
    pub tenant: Option<String>,
    pub tenant_share: Option<f64>,
    /// The node's own work: the mean latency (ms) of its successes that did not wait to hand
    /// their output over, in the window's buckets, outside them, and after the window. A queue
    /// fills because work arrives faster, or because each piece takes longer (the mean, not a
    /// percentile: the backlog drains at normal speed after a slow spell); a success blocked
    /// on a full queue after it measures that queue, not the node.
    pub mean_ms_during: Option<f64>,
    pub mean_ms_outside: Option<f64>,
    pub mean_ms_after: Option<f64>,
    /// The share of its own working time in the window, and outside it, spent in attempts
    /// that took at least twice its mean outside: a slow spell that the backlog's drain at
    /// normal speed dilutes in the window's mean still takes most of its time.
    pub slow_share_during: Option<f64>,
    pub slow_share_outside: Option<f64>,
    /// Its attempts in the window's buckets that succeeded, timed out and raised.
    #[serde(skip)]
    pub successes_during: u64,
    #[serde(skip)]
    pub timeouts_during: u64,
    #[serde(skip)]
    pub errors_during: u64,
    /// The window began in the node's first bucket: the input starts with its queue already
    /// filling, so what filled it is (at least partly) before what was read.
    #[serde(skip)]
    pub from_input_start: bool,
    /// A sink that waited on a full egress in the window (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<EgressWait>,
}

/// A queue drained for at least this long (and twice its full window, and this share of the
/// span) is over its pressure.
const DRAINED_MIN_MICROS: i64 = episodes::STRETCH_GAP_MICROS;
const DRAINED_SPAN_SHARE: f64 = 0.1;
/// The share of a window's own working time in attempts twice the usual that makes it a slow
/// spell.
const SLOW_SHARE: f64 = 0.5;
/// Slow attempts a window needs for its slow share to count.
const MIN_SLOW_ATTEMPTS: u64 = 5;
/// Own-work successes after a window needed to say the node is back to its usual speed.
const MIN_SUCCESSES_AFTER: u64 = 5;

/// The time below full that separates two episodes of pressure (µs): as long as would make
/// the first one over, bar its length.
fn calm_micros(span_s: f64) -> i64 {
    DRAINED_MIN_MICROS.max((DRAINED_SPAN_SHARE * span_s * 1e6) as i64)
}

impl PressureWindow {
    /// The window over `episodes` (one instance's), read against its latest reading.
    fn of(episodes: &[Episode], last_reading: Timestamp, span_s: f64) -> Option<PressureWindow> {
        let first = episodes.iter().map(|e| e.first).min()?;
        let last = episodes.iter().map(|e| e.last).max()?;
        let drained = last_reading.max(last).0.saturating_sub(last.0);
        let window = last.0.saturating_sub(first.0);
        let over = drained >= DRAINED_MIN_MICROS
            && drained >= window.saturating_mul(2)
            && drained as f64 >= DRAINED_SPAN_SHARE * span_s * 1e6;
        let blocked = episodes.iter().filter_map(|e| e.blocked.as_ref()).fold(
            None,
            |all: Option<episodes::BlockedSpell>, spell| {
                Some(match all {
                    None => spell.clone(),
                    Some(mut all) => {
                        episodes::merge_spell(&mut all, spell.clone());
                        all
                    }
                })
            },
        );
        Some(PressureWindow {
            first,
            last,
            drained_s: drained as f64 / 1e6,
            over,
            stopped: None,
            tenant: None,
            tenant_share: None,
            mean_ms_during: None,
            mean_ms_outside: None,
            mean_ms_after: None,
            slow_share_during: None,
            slow_share_outside: None,
            successes_during: 0,
            timeouts_during: 0,
            errors_during: 0,
            from_input_start: false,
            egress: blocked.as_ref().map(EgressWait::of),
        })
    }

    /// A sink that spent most of the window blocked on the full egress: the app's
    /// `flow.fetch()` stopped taking results, the node did not slow down.
    pub fn egress_bound(&self) -> bool {
        let window = self.last.0.saturating_sub(self.first.0);
        self.egress
            .as_ref()
            .is_some_and(|egress| egress.blocked_s * 1e6 * 2.0 >= window as f64)
    }

    /// A slow spell whose node has been back at its usual speed since, for as long as the
    /// spell lasted (and the drained minimum): over, though not yet for twice the window.
    fn settle(&mut self, span_s: f64) {
        if self.over || self.stopped.is_some() {
            return;
        }
        let drained = (self.drained_s * 1e6) as i64;
        let window = self.last.0.saturating_sub(self.first.0);
        let back = match (self.mean_ms_after, self.mean_ms_outside) {
            (Some(after), Some(outside)) => after < 2.0 * outside,
            _ => false,
        };
        self.over = self.slowed_down()
            && back
            && drained >= DRAINED_MIN_MICROS
            && drained >= window
            && drained as f64 >= DRAINED_SPAN_SHARE * span_s * 1e6;
    }

    /// Each piece of its own work took at least twice as long in the window, or most of the
    /// window's working time went to attempts that took twice its usual (at least twice the
    /// share they take outside it): the node slowed down (its handler or dependency), rather
    /// than receiving more work than usual.
    pub fn slowed_down(&self) -> bool {
        self.mean_slowed_down() || self.mostly_slow()
    }

    pub fn mean_slowed_down(&self) -> bool {
        matches!(
            (self.mean_ms_during, self.mean_ms_outside),
            (Some(during), Some(outside)) if during >= 2.0 * outside
        )
    }

    /// Most of the window's own working time in slow attempts (see `slow_share_during`).
    pub fn mostly_slow(&self) -> bool {
        matches!(
            (self.slow_share_during, self.slow_share_outside),
            (Some(during), Some(outside)) if during >= SLOW_SHARE && during >= 2.0 * outside
        )
    }

    /// More of its attempts in the window timed out or raised than succeeded (a few at
    /// least): failures and their retry backoff held its worker, not work that got done.
    pub fn failing(&self) -> bool {
        let failures = self.timeouts_during + self.errors_during;
        failures >= MIN_SLOW_ATTEMPTS && failures > self.successes_during
    }

    /// What filled the queue, from the node's buckets (`width` wide): its own work's latency
    /// in the window against outside it (and after it), and the tenant whose attempts filled
    /// it (80% of the window's starts, at a rate standing out from the other tenants').
    fn explain(&mut self, buckets: &BTreeMap<i64, Bucket>, width: i64) {
        let (from, to) = (
            self.first.0.div_euclid(width),
            self.last.0.div_euclid(width),
        );
        let (mut during, mut outside, mut after) = ((0.0, 0), (0.0, 0), (0.0, 0));
        (
            self.successes_during,
            self.timeouts_during,
            self.errors_during,
        ) = (0, 0, 0);
        self.from_input_start = buckets.keys().next().is_some_and(|first| from <= *first);
        for (index, bucket) in buckets {
            let side = if (from..=to).contains(index) {
                self.successes_during += bucket.successes;
                self.timeouts_during += bucket.timeouts;
                self.errors_during += bucket.errors;
                &mut during
            } else {
                &mut outside
            };
            side.0 += bucket.own_ms;
            side.1 += bucket.own_successes;
            if *index > to {
                after.0 += bucket.own_ms;
                after.1 += bucket.own_successes;
            }
        }
        let mean = |(sum, count): (f64, u64)| (count > 0).then(|| sum / count as f64);
        self.tenant = None;
        self.tenant_share = None;
        self.mean_ms_during = mean(during);
        self.mean_ms_outside = mean(outside);
        self.mean_ms_after = mean(after).filter(|_| after.1 >= MIN_SUCCESSES_AFTER);
        if let Some(outside) = self.mean_ms_outside {
            let (mut inside_time, mut outside_time) = ((0.0, 0.0, 0), (0.0, 0.0, 0));
            for (index, bucket) in buckets {
                let (above, all, slow) = bucket.latency.time_at_least(2.0 * outside);
                let side = if (from..=to).contains(index) {
                    &mut inside_time
                } else {
                    &mut outside_time
                };
                side.0 += above;
                side.1 += all;
                side.2 += slow;
            }
            let share = |(above, all, _): (f64, f64, u64)| (all > 0.0).then(|| above / all);
            // One long call is not a slow spell: a few slow attempts at least.
            self.slow_share_during =
                share(inside_time).filter(|_| inside_time.2 >= MIN_SLOW_ATTEMPTS);
            self.slow_share_outside = share(outside_time);
        }
        let (mut inside, mut all): (BTreeMap<&str, u64>, BTreeMap<&str, u64>) = Default::default();
        for (index, bucket) in buckets {
            for (tenant, count) in &bucket.tenant_starts {
                *all.entry(tenant).or_default() += u64::from(*count);
                if (from..=to).contains(index) {
                    *inside.entry(tenant).or_default() += u64::from(*count);
                }
            }
        }
        let total_inside: u64 = inside.values().sum();
        if total_inside < tenant_share::MIN_TENANT_EVIDENCE || all.len() < 2 {
            return;
        }
        let of = |map: &BTreeMap<&str, u64>, tenant: &str| map.get(tenant).copied().unwrap_or(0);
        let found = tenant_share::dominant_tenant(
            inside
                .iter()
                .map(|(tenant, count)| (*tenant, *count as f64)),
        )
        .filter(|(tenant, _, _)| {
            tenant_share::stands_out(
                tenant,
                |t| of(&inside, t),
                |t| of(&all, t),
                total_inside,
                all.values().sum(),
            )
        });
        if let Some((tenant, count, total)) = found {
            self.tenant = Some(tenant.to_string());
            self.tenant_share = Some(count / total);
        }
    }
}

/// The most pressed instance of a node against its other instances.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct InstancePressure {
    /// Its worker's busy time over the span.
    pub busy_share: f64,
    /// The other instances, and how many of them had their inbound queue full at least half
    /// as often.
    pub others: u64,
    pub others_pressed: u64,
    /// The other instances' workers' mean busy share.
    pub others_busy_share: f64,
    /// Its share of the messages the side-by-side instances took (an even split is one over
    /// their number), and the mean own work of a success (ms) there and in the others.
    pub message_share: f64,
    pub own_ms: Option<f64>,
    pub others_own_ms: Option<f64>,
}

impl InstancePressure {
    /// It took at least one and a half times an even split of the traffic, and its own work
    /// ran at the others' speed (within 30%): the routing, not the host.
    pub fn load_imbalance(&self) -> bool {
        let even = 1.0 / (self.others + 1) as f64;
        self.message_share >= 1.5 * even
            && matches!((self.own_ms, self.others_own_ms),
                (Some(own), Some(others)) if others > 0.0 && own <= 1.3 * others && own >= others / 1.3)
    }
}

/// The node of a shared name that the report speaks for, and its namesakes.
#[derive(Debug, Clone, Serialize)]
pub struct SharedName {
    /// The predecessors feeding it (its own flow's), and the inbound edges its `q_depth_in`
    /// sums (the name's, less those feeding only its namesakes).
    pub fed_by: Vec<String>,
    pub inbound_edges: usize,
    /// Its own workers' busy time over the span (per worker).
    pub busy_share: f64,
    /// The other nodes of the name.
    pub others: Vec<Namesake>,
}

/// Another node of the same name, of another flow.
#[derive(Debug, Clone, Serialize)]
pub struct Namesake {
    pub fed_by: Vec<String>,
    pub busy_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    pub node_name: String,
    pub events: u64,
    pub successes: u64,
    pub throughput_per_s: f64,
    pub q_depth_in_max: i64,
    pub q_depth_in_p95: Option<f64>,
    pub q_depth_out_max: i64,
    pub q_depth_out_p95: Option<f64>,
    pub q_depth_total_max: i64,
    pub q_depth_total_p95: Option<f64>,
    pub queue_maxsize: Option<i64>,
    /// The inbound queue at its fullest, as a share of its capacity (null when unbounded).
    pub capacity_use_max: Option<f64>,
    pub latency_ms: LatencyStats,
    pub timeout_latency_ms: LatencyStats,
    pub error_latency_ms: LatencyStats,
    pub retries: u64,
    /// node_failed and deadline_skip events: messages that ended here for good.
    #[serde(skip)]
    pub terminal: u64,
    /// Timeouts with its outbound queue full (all its outgoing edges).
    #[serde(skip)]
    pub timeouts_outbound_full: u64,
    pub retry_rate: Option<f64>,
    pub timeouts: u64,
    pub errors: u64,
    /// Share of the node's queue readings with its inbound queue at or above the saturation
    /// level (`--threshold` of capacity; twice its p95 when unbounded), and the same for its
    /// outbound queue.
    pub inbound_full_share: f64,
    pub outbound_full_share: f64,
    /// Instances of the node in the input (pods, else `node_id`s: processes with queues of
    /// their own); the shares are those of the most pressed one, named when there are several.
    pub instances: u64,
    pub pressure_instance: Option<String>,
    /// With several instances: the most pressed one's worker against the others'.
    pub pressure_apart: Option<InstancePressure>,
    /// When the most pressed instance's inbound queue was full, first and last, and whether
    /// it has drained since (null when it never was).
    pub pressure_window: Option<PressureWindow>,
    /// The most pressed instance's pressure episodes, in time order (its window spans them).
    #[serde(skip)]
    pub episodes: Vec<Episode>,
    /// When the name stands for nodes of different flows (two flows in one log, each with a
    /// node so named): the most pressed instance's node, judged by its own inbound edges, and
    /// the others (absent when the name is one node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_name: Option<SharedName>,
    pub worker_time: WorkerTime,
    /// Its own latency rose steadily over the input (absent when it did not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_trend: Option<LatencyTrend>,
    /// Busy time over the span, per worker (one per node and instance).
    pub busy_share: f64,
    /// A few of its calls hung (far past its own work, no node_timeout) and took most of its
    /// successes' time (absent when not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hung_calls: Option<crate::analysis::deadline_cause::HungTail>,
    /// The same, per tenant (only when the node served more than one).
    pub worker_time_by_tenant: BTreeMap<String, WorkerTime>,
    pub series: Vec<SeriesPoint>,
    /// Its inbound queues their senders report full (`full_inbound_edges`; 0 when none, or
    /// with one inbound edge): its inbound is judged at their level.
    #[serde(skip)]
    pub(super) full_inbound_edges: usize,
    /// Its inbound queues their senders report never backed up, and what they held at most,
    /// raising the level of the others (`shallow_inbound_edges`).
    #[serde(skip)]
    pub(super) shallow_inbound_edges: usize,
    #[serde(skip)]
    pub(super) shallow_inbound_depth: i64,
}

fn node_report(
    name: &str,
    stats: &NodeStats,
    buckets: &[&Bucket],
    indices: &[i64],
    width: i64,
    span_s: f64,
    full: &FullLevel,
) -> NodeReport {
    let threshold = full.threshold;
    let capacity = stats.queue_maxsize.filter(|c| *c > 0);
    // An unbounded queue never blocks its sender, so there is no "full": a backlog of
    // `UNBOUNDED_BACKLOG` messages counts instead (its own p95 cannot: that is reached by 5%).
    let level = |edges: usize| full_level(capacity, edges, threshold);
    // Each instance's inbound level: the edges its own node's q_depth_in sums.
    let in_level_of = |index: usize| {
        full.instances
            .get(index)
            .map_or(level(1), |i| level(i.in_edges) + i.in_offset as f64)
    };
    let namesake_of = |index: usize| full.instances.get(index).and_then(|i| i.namesake);
    let out_level = level(1);
    // The most pressed instance speaks for the node: pooling an idle pod's readings with a
    // saturated one's would hide the saturation.
    let shares: Vec<((&Name, bool), f64, f64, f64)> = stats
        .readings
        .iter()
        .enumerate()
        .map(|(index, (instance, readings))| {
            (
                (instance, readings.pod),
                share_at_least(readings.q_in.iter(), in_level_of(index)),
                share_at_least(readings.q_out.iter(), out_level),
                readings.busy_s,
            )
        })
        .collect();
    let pressed = shares
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(key, inbound, outbound, _)| (*key, *inbound, *outbound));
    // With several instances: the pressed one's worker's busy share, and how many of the
    // others had their inbound queue full as often as half of it (a fault of one pod, or load).
    let busy_of = |seconds: f64| {
        if span_s > 0.0 {
            (seconds / span_s).min(1.0)
        } else {
            0.0
        }
    };
    let lifetime = |instance: &Name| {
        position_of(&stats.readings, instance).map(|index| {
            let readings = &stats.readings[index].1;
            let end = readings
                .stopped
                .unwrap_or(readings.last_reading)
                .max(readings.first_seen);
            (readings.first_seen, end)
        })
    };
    // Instances of the same node (not namesakes of other flows) running at the same time.
    let side_by_side = |a: &Name, b: &Name| {
        let node_of =
            |instance: &Name| position_of(&stats.readings, instance).and_then(namesake_of);
        node_of(a) == node_of(b)
            && match (lifetime(a), lifetime(b)) {
                (Some((a_first, a_end)), Some((b_first, b_end))) => {
                    a_first < b_end && b_first < a_end
                }
                _ => true,
            }
    };
    // Another instance that started after the pressed one stopped: a restarted flow.
    let replaced = pressed.and_then(|((instance, _), _, _)| {
        let index = position_of(&stats.readings, instance)?;
        let stopped = stats.readings[index].1.stopped?;
        stats
            .readings
            .iter()
            .any(|(other, readings)| other != instance && readings.last_reading > stopped)
            .then_some(stopped)
    });
    let pressure_apart = pressed
        .filter(|((instance, _), _, _)| {
            shares
                .iter()
                .any(|s| s.0.0 != *instance && side_by_side(instance, s.0.0))
        })
        .map(|(key, inbound, _)| {
            let others: Vec<&((&Name, bool), f64, f64, f64)> = shares
                .iter()
                .filter(|s| s.0 != key && side_by_side(key.0, s.0.0))
                .collect();
            let own_busy = shares
                .iter()
                .find(|s| s.0 == key)
                .map_or(0.0, |s| busy_of(s.3));
            let readings_of = |instance: &Name| {
                position_of(&stats.readings, instance).map(|index| &stats.readings[index].1)
            };
            let own = readings_of(key.0);
            let (others_messages, others_own_s, others_own_successes) = others
                .iter()
                .filter_map(|s| readings_of(s.0.0))
                .fold((0, 0.0, 0), |(m, t, n), r| {
                    (m + r.messages, t + r.own_s, n + r.own_successes)
                });
            let own_messages = own.map_or(0, |r| r.messages);
            let mean_ms = |seconds: f64, successes: u64| {
                (successes > 0).then(|| seconds * 1000.0 / successes as f64)
            };
            InstancePressure {
                message_share: own_messages as f64 / (own_messages + others_messages).max(1) as f64,
                own_ms: own.and_then(|r| mean_ms(r.own_s, r.own_successes)),
                others_own_ms: mean_ms(others_own_s, others_own_successes),
                busy_share: own_busy,
                others: others.len() as u64,
                others_pressed: others
                    .iter()
                    .filter(|s| inbound > 0.0 && s.1 >= inbound / 2.0)
                    .count() as u64,
                others_busy_share: others.iter().map(|s| busy_of(s.3)).sum::<f64>()
                    / others.len().max(1) as f64,
            }
        });
    let (inbound_full_share, outbound_full_share) =
        pressed.map_or((0.0, 0.0), |(_, inbound, outbound)| (inbound, outbound));
    let pressed_index =
        pressed.and_then(|((instance, _), _, _)| position_of(&stats.readings, instance));
    // Its pressure in episodes: full stretches (and, for a sink, waits on the egress) apart
    // where a calm separates them.
    let episodes: Vec<Episode> = pressed_index.map_or_else(Vec::new, |index| {
        stats.readings[index].1.pressure.episodes(
            in_level_of(index),
            full.sink,
            calm_micros(span_s),
        )
    });
    let pressure_window = pressed_index
        .and_then(|index| {
            PressureWindow::of(&episodes, stats.readings[index].1.last_reading, span_s)
        })
        .map(|mut window| {
            if let Some(stopped) = replaced.filter(|stopped| *stopped >= window.last) {
                window.stopped = Some(stopped);
                window.over = true;
            }
            window
        });
    let instances = stats.readings.len() as u64;
    let busy_s = stats.work.busy_s();
    // A name standing for nodes of different flows: each one's workers' busy share apart, the
    // pressed instance's node first.
    let shared_name = pressed_index.and_then(namesake_of).map(|pressed_node| {
        let busy_of_node = |node: usize| {
            let (seconds, workers) = stats
                .readings
                .iter()
                .enumerate()
                .filter(|(index, _)| namesake_of(*index) == Some(node))
                .fold((0.0, 0), |(seconds, workers), (_, (_, readings))| {
                    (seconds + readings.busy_s, workers + 1)
                });
            if span_s > 0.0 && workers > 0 {
                (seconds / (span_s * f64::from(workers))).min(1.0)
            } else {
                0.0
            }
        };
        let own = &full.namesakes[pressed_node];
        SharedName {
            fed_by: own.fed_by.clone(),
            inbound_edges: own.inbound_edges,
            busy_share: busy_of_node(pressed_node),
            others: full
                .namesakes
                .iter()
                .enumerate()
                .filter(|(node, _)| *node != pressed_node)
                .map(|(node, other)| Namesake {
                    fed_by: other.fed_by.clone(),
                    busy_share: busy_of_node(node),
                })
                .collect(),
        }
    });
    NodeReport {
        node_name: name.to_string(),
        events: stats.events,
        successes: stats.successes,
        throughput_per_s: if span_s > 0.0 {
            stats.successes as f64 / span_s
        } else {
            stats.successes as f64
        },
        q_depth_in_max: stats.q_in_max,
        q_depth_in_p95: stats.q_in.percentile(95.0),
        q_depth_out_max: stats.q_out_max,
        q_depth_out_p95: stats.q_out.percentile(95.0),
        q_depth_total_max: stats.q_total_max,
        q_depth_total_p95: stats.q_total.percentile(95.0),
        queue_maxsize: stats.queue_maxsize,
        capacity_use_max: capacity.map(|c| stats.q_in_max as f64 / c as f64),
        latency_ms: LatencyStats::of(&stats.success_latency),
        timeout_latency_ms: LatencyStats::of(&stats.timeout_latency),
        error_latency_ms: LatencyStats::of(&stats.failed_latency),
        retries: stats.retries,
        terminal: stats.terminal,
        timeouts_outbound_full: stats.timeouts_outbound_full,
        retry_rate: (stats.successes > 0).then(|| stats.retries as f64 / stats.successes as f64),
        timeouts: stats.timeouts,
        errors: stats.errors,
        inbound_full_share,
        outbound_full_share,
        instances,
        pressure_instance: pressed
            .filter(|_| instances > 1)
            .map(|((instance, pod), _, _)| {
                format!("{} {instance}", if pod { "pod" } else { "node_id" })
            }),
        pressure_apart,
        pressure_window,
        episodes,
        shared_name,
        worker_time: stats.work,
        latency_trend: stats.curve.trend(),
        // A backoff (or an attempt) counted whole can run past the end of the input: a worker
        // is never busier than all of the span.
        busy_share: if span_s > 0.0 {
            (busy_s / (span_s * instances.max(1) as f64)).min(1.0)
        } else {
            0.0
        },
        hung_calls: crate::analysis::deadline_cause::hung_tail(
            &crate::analysis::deadline_cause::NodeCalls {
                longest: &stats.longest,
                own_p50_ms: stats.own_latency.percentile(50.0),
                latency: &stats.own_latency,
                timed_out: stats.timeouts > 0,
                success_s: stats.work.success_s,
            },
        ),
        worker_time_by_tenant: if stats.work_by_tenant.len() > 1 {
            stats
                .work_by_tenant
                .iter()
                .map(|(tenant, work)| (tenant.to_string(), *work))
                .collect()
        } else {
            BTreeMap::new()
        },
        series: buckets
            .iter()
            .zip(indices)
            .map(|(bucket, index)| SeriesPoint {
                t: Timestamp(index.saturating_mul(width)),
                q_depth_total_max: bucket.q_total_max,
                successes: bucket.successes,
                timeouts: bucket.timeouts,
                errors: bucket.errors,
            })
            .collect(),
        full_inbound_edges: 0,
        shallow_inbound_edges: 0,
        shallow_inbound_depth: 0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Saturation,
    BlockedDownstream,
    SlowDependency,
    RetryStorm,
    LatencyRegression,
}

impl SignalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Saturation => "saturation",
            SignalKind::BlockedDownstream => "blocked_downstream",
            SignalKind::SlowDependency => "slow_dependency",
            SignalKind::RetryStorm => "retry_storm",
            SignalKind::LatencyRegression => "latency_regression",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub node_name: Option<String>,
    pub trace_id: Option<String>,
    pub detail: SignalDetail,
    /// A slow dependency whose attempts there ended in errors (a client's own timeout, say),
    /// not in nothing: the errors say what fails; no timeout is missing.
    #[serde(skip)]
    pub ended_in_errors: bool,
    /// A slow dependency whose attempts there were mostly cut by the node's own timeout
    /// (node_timeout): the timeout is there already; what it calls does not answer.
    #[serde(skip)]
    pub ended_in_timeouts: bool,
}

/// The bottleneck, shown and serialized as the one line of evidence that made it hot.
#[derive(Debug, Clone)]
pub struct HotNodeReason(pub Box<Bottleneck>);

/// The facts behind a signal, by its kind; serialized and shown as one line of evidence
/// (`render::saturation_evidence`).
#[derive(Debug, Clone)]
pub enum SignalDetail {
    /// `q_depth_total` at `level` or more in each of `run` consecutive buckets of `width` µs.
    Saturation {
        level: f64,
        /// The share of capacity that is full, and the capacity (none: an unbounded queue,
        /// judged against twice its p95).
        threshold: f64,
        capacity: Option<i64>,
        run: usize,
        width: i64,
        from: Timestamp,
        to: Timestamp,
        max: i64,
    },
    /// Attempts started (and timed out or raised) with no success for `run` buckets.
    SlowDependency {
        starts: u64,
        timeouts: u64,
        errors: u64,
        micros: i64,
        run: usize,
        /// No success in the whole input.
        never_succeeded: bool,
        inflight: i64,
    },
    /// A steady rise of its own latency.
    Trend(LatencyTrend),
    /// The last quarter's p95 success latency against the rest's.
    LateP95 { late_ms: f64, early_ms: f64 },
    RetryStorm {
        retries: u64,
        successes: u64,
        rate: f64,
        above: f64,
    },
    /// `trace_pending` grew and never came back down; `in_all` when more traces did than are
    /// listed.
    Blocked {
        first: i32,
        last: i32,
        samples: u32,
        in_all: Option<u64>,
    },
}

impl Signal {
    /// What the signal is about: its trace, else its node.
    pub fn subject(&self) -> &str {
        self.trace_id
            .as_deref()
            .or(self.node_name.as_deref())
            .unwrap_or_default()
    }
}

/// The answer of `saturation`: a stable JSON contract (see the README).
#[derive(Debug, Clone, Serialize)]
pub struct SaturationReport {
    pub span: Span,
    pub nodes: Vec<NodeReport>,
    /// Failure events of the selected scope per bucket of the span, by category.
    pub failures: Vec<FailurePoint>,
    pub hot_node: Option<String>,
    /// The numbers that made the hot node hot (said by `render::saturation_evidence`).
    pub hot_node_reason: Option<HotNodeReason>,
    /// The bottleneck's step says it is one instance's load imbalance (it took more than its
    /// share of the messages at its usual speed), not a slower host.
    #[serde(skip)]
    pub hot_load_imbalance: bool,
    /// The evidence behind the hot node: pressure, what backs up behind it, the runner-up.
    pub bottleneck: Option<Bottleneck>,
    /// Nodes other than the hot node whose worker lost most of its busy time to failed
    /// attempts and the retry backoff after them.
    pub lost_time: Vec<LostTime>,
    /// Attempts still running at the end of the input far past their node's p95 (at most 5,
    /// longest first), and how many there are.
    pub hanging: Vec<Hang>,
    pub hanging_total: u64,
    pub signals: Vec<Signal>,
    pub remediation: Vec<SaturationStep>,
    /// Workers whose runtime stopped (node_cancelled), for the analyses built on this one.
    #[serde(skip)]
    pub stops: Vec<StoppedWorker>,
}

/// When a node's queues count as full: the share of capacity (`--threshold`), and how many
/// edges each instance's inbound queue depth sums.
#[derive(Debug, Clone)]
struct FullLevel<'g> {
    threshold: f64,
    /// No node follows it: its output queue is the egress, and its waits there are pressure.
    sink: bool,
    /// Aligned with the node's readings.
    instances: Vec<InstanceNode>,
    /// The nodes the name stands for (`FlowGraph::namesakes`), empty when it is one node.
    namesakes: &'g [NamesakeNode],
}

/// One instance of a node as the graph knows it.
#[derive(Debug, Clone, Copy)]
struct InstanceNode {
    /// The inbound edges its `q_depth_in` sums, and what queues left out of them may hold.
    in_edges: usize,
    in_offset: i64,
    /// Which of the name's nodes it is, where the name stands for several.
    namesake: Option<usize>,
}

/// The inbound edges a node's `q_depth_in` is judged against: the queues its senders report
/// full (`full_inbound_edges`) when there are any, else `edges` (at least one).
fn judged_inbound_edges(full_edges: usize, edges: usize) -> usize {
    if full_edges > 0 {
        full_edges
    } else {
        edges.max(1)
    }
}

/// How many of `node`'s inbound queues their senders report full, when it has several and one
/// or more of them are: a sender whose only outgoing edge leads to `node` reads that queue's
/// depth as its `q_depth_out` (one with several, its `q_depth_out` less what its other
/// successors' inbound queues ever held), full at the full level in `MIN_PRESSURE` of its readings or more
/// (its most pressed instance). `node`'s `q_depth_in` sums all its inbound queues, so one full
/// queue beside near-empty ones stays under the level of their summed capacity, yet its sender
/// blocks on it: the node is judged at the level of the queues that are full. A join whose
/// queues are not full (0 here) keeps the summed level, and so does one whose queues are all
/// full. 0 where the name stands for nodes of different flows (each instance is judged by its
/// own node's edges).
fn full_inbound_edges(
    node: &str,
    graph: &FlowGraph,
    stats: &NameSlots<NodeStats>,
    threshold: f64,
) -> usize {
    if graph.inbound_edges(node) < 2 || !graph.namesakes(node).is_empty() {
        return 0;
    }
    graph
        .predecessors(node)
        .into_iter()
        .filter(|sender| {
            // What its queues to its other successors held at most: their inbound queues
            // never held more. The rest of its `q_depth_out` was waiting for `node`.
            let mut others = 0;
            for successor in graph.successors(sender) {
                if successor.node_name == node {
                    continue;
                }
                match stats.get(&successor.node_name) {
                    Some(other) if !is_endpoint(&successor.node_name) => others += other.q_in_max,
                    _ => return false,
                }
            }
            let Some(sender_stats) = stats.get(sender) else {
                return false;
            };
            if sender_stats.queue_maxsize.is_none_or(|c| c <= 0) {
                return false;
            }
            let level = full_level(sender_stats.queue_maxsize, 1, threshold);
            sender_stats.readings.iter().any(|(_, readings)| {
                let towards_node = readings.q_out.iter().map(|(depth, n)| (depth - others, n));
                share_at_least(towards_node, level) >= bottleneck::MIN_PRESSURE
            })
        })
        .count()
}

/// `node`'s inbound queues, when it has several, that their senders report never backed up,
/// and what they held at most between them: a sender whose only outgoing edge leads to
/// `node` and whose `q_depth_out` held anything in under `MIN_PRESSURE` of its readings (a
/// side path one trace in seven takes; counted as holding nothing), or never more than the
/// message it had just sent (1). `node`'s `q_depth_in` sums all its inbound queues: the node
/// is judged at the level of the others, raised by what these held. Never all of them; none
/// where the name stands for nodes of different flows.
fn shallow_inbound_edges(
    node: &str,
    graph: &FlowGraph,
    stats: &NameSlots<NodeStats>,
) -> (usize, i64) {
    let edges = graph.inbound_edges(node);
    if edges < 2 || !graph.namesakes(node).is_empty() {
        return (0, 0);
    }
    let mut shallow: Vec<i64> = graph
        .predecessors(node)
        .into_iter()
        .filter_map(|sender| {
            let successors = graph.successors(sender);
            if successors.len() != 1 || successors[0].node_name != node {
                return None;
            }
            let sender_stats = stats.get(sender)?;
            let (mut readings, mut holding) = (0, 0);
            for (_, instance) in &sender_stats.readings {
                for (depth, count) in instance.q_out.iter() {
                    readings += count;
                    if depth > 0 {
                        holding += count;
                    }
                }
            }
            if readings > 0 && (holding as f64) < bottleneck::MIN_PRESSURE * readings as f64 {
                Some(0)
            } else if readings > 0 && sender_stats.q_out_max <= 1 {
                Some(sender_stats.q_out_max)
            } else {
                None
            }
        })
        .collect();
    shallow.sort_unstable();
    shallow.truncate(edges - 1);
    (shallow.len(), shallow.iter().sum())
}

/// The backlog of an unbounded queue (`queue_maxsize` 0) that counts as backed up.
pub const UNBOUNDED_BACKLOG: f64 = 5.0;

/// The depth at which a queue of `capacity` (none: unbounded) summing `edges` edges counts as
/// full: `threshold` of all their capacity, or `UNBOUNDED_BACKLOG`.
fn full_level(capacity: Option<i64>, edges: usize, threshold: f64) -> f64 {
    match capacity.filter(|c| *c > 0) {
        Some(capacity) => threshold * (capacity as usize * edges) as f64,
        None => UNBOUNDED_BACKLOG,
    }
}

impl Analysis for SaturationAnalyzer {
    type Report = SaturationReport;

    fn needs(&self) -> Needs {
        Needs::Graph
    }

    /// Its per-event work rivals the reading and graph learning on the pass thread.
    fn runs_apart(&self) -> Apart {
        Apart::BeyondTwoCores
    }

    fn observe(&mut self, event: &Event, selected: bool) {
        self.observe_event(event, selected);
    }

    fn finish(self, end: &PassEnd<'_>) -> SaturationReport {
        self.finish_at(end.graph, end.input_end)
    }
}

#[cfg(test)]
mod tests {
    use super::signals::longest_run;
    use super::*;
    use crate::event::Count;

    /// Events out of time order (two inputs' overlap, the merge window's stragglers) land in
    /// their own buckets, as in one map: the newest kept apart never loses or mixes one.
    #[test]
    fn time_buckets_hold_every_event_in_its_own_bucket() {
        let mut buckets: TimeBuckets<u64> = TimeBuckets::default();
        let mut expected: BTreeMap<i64, u64> = BTreeMap::new();
        for index in [3, 3, 4, 2, 4, 4, 9, 3, 9, 10, 10, 1] {
            *buckets.at(index) += 1;
            *expected.entry(index).or_default() += 1;
        }
        assert_eq!(buckets.settled(), &expected);
        assert_eq!(buckets.all(), &expected);
        // Settled, it takes events again.
        *buckets.at(10) += 1;
        *expected.entry(10).or_default() += 1;
        assert_eq!(buckets.settled(), &expected);
    }

    /// Buckets widen as a log's span grows, at the same spans as the division's rule: the
    /// narrowest level with at most `MAX_BUCKETS` buckets, checked at each level's edge.
    #[test]
    fn buckets_widen_exactly_where_the_span_needs_it() {
        let narrowest = |span: i64| {
            LEVELS_MICROS
                .iter()
                .copied()
                .find(|&width| span / width <= MAX_BUCKETS)
                .unwrap_or(LEVELS_MICROS[LEVELS_MICROS.len() - 1])
        };
        for &level in &LEVELS_MICROS[..LEVELS_MICROS.len() - 1] {
            let edge = (MAX_BUCKETS + 1) * level;
            for span in [edge - 1, edge, edge + 1] {
                let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
                analyzer.first_ts = Some(Timestamp(1_700_000_000_000_000));
                analyzer.last_ts = Some(Timestamp(1_700_000_000_000_000 + span));
                analyzer.widen_if_needed();
                assert_eq!(analyzer.width, narrowest(span), "span {span}");
            }
        }
    }

    #[test]
    fn depth_counts_keep_every_depth_read_in_and_past_the_slots() {
        let mut counts = DepthCounts::default();
        for depth in [3, 0, 3, 300, -1, 255, 256, 3] {
            counts.add(depth);
        }
        let mut read: Vec<(i64, u64)> = counts.iter().collect();
        read.sort_unstable();
        assert_eq!(
            read,
            [(-1, 1), (0, 1), (3, 3), (255, 1), (256, 1), (300, 1)]
        );
    }

    #[test]
    fn display_widths_are_nice_and_divide_evenly() {
        assert_eq!(display_width(1_500_000, 1_000), 50_000);
        assert_eq!(display_width(3_600_000_000, 1_000_000), 120_000_000);
        assert_eq!(display_width(86_400_000_000, 60_000_000), 3_600_000_000);
    }

    #[test]
    fn sketches_compare_percentiles_within_ten_percent() {
        let mut sketch = Sketch::default();
        for value in 1..=100 {
            sketch.add(value as f64);
        }
        let p95 = sketch.percentile(95.0).unwrap();
        assert!((p95 - 95.0).abs() <= 95.0 * 0.1, "{p95}");
    }

    fn event(ms: i64, trace: &str, node: &str, kind: Kind) -> Event {
        let mut event = crate::event::test_event(ms, trace, node, kind);
        event.set_count(Count::QDepthIn, Some(0));
        event.set_count(Count::QDepthOut, Some(0));
        event.set_count(Count::QDepthTotal, Some(0));
        event.set_count(Count::QueueMaxsize, Some(8));
        event
    }

    fn kinds(report: &SaturationReport) -> Vec<(SignalKind, Option<String>)> {
        report
            .signals
            .iter()
            .map(|s| (s.kind, s.node_name.clone()))
            .collect()
    }

    #[test]
    fn a_node_that_starts_work_and_never_succeeds_is_a_slow_dependency() {
        let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
        // 2 s of normal 10 ms successes, then 2 s of starts that only time out.
        for i in 0..100 {
            let trace = format!("t{i}");
            let mut success = event(i * 20 + 10, &trace, "db", Kind::NodeSuccess);
            success.set_latency_ms(Some(10.0));
            analyzer.observe(&event(i * 20, &trace, "db", Kind::NodeStart));
            analyzer.observe(&success);
        }
        for i in 0..20 {
            let trace = format!("s{i}");
            analyzer.observe(&event(2000 + i * 100, &trace, "db", Kind::NodeStart));
            let mut timeout = event(2000 + i * 100 + 99, &trace, "db", Kind::NodeTimeout);
            timeout.set_latency_ms(Some(99.0));
            analyzer.observe(&timeout);
        }
        let report = analyzer.finish();
        assert!(
            kinds(&report).contains(&(SignalKind::SlowDependency, Some("db".into()))),
            "{:?}",
            report.signals
        );
    }

    #[test]
    fn a_late_p95_twice_the_early_one_is_a_regression() {
        let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
        for i in 0..400 {
            let latency = if i < 300 { 10.0 } else { 50.0 };
            let mut success = event(i * 10, &format!("t{i}"), "api", Kind::NodeSuccess);
            success.set_latency_ms(Some(latency));
            analyzer.observe(&success);
        }
        let report = analyzer.finish();
        assert_eq!(
            kinds(&report),
            vec![(SignalKind::LatencyRegression, Some("api".into()))]
        );
    }

    /// A node_success at `fanout` with `trace_pending` = `pending`.
    fn success_pending(ms: i64, trace: &str, pending: i64) -> Event {
        let mut success = event(ms, trace, "fanout", Kind::NodeSuccess);
        success.set_count(Count::TracePending, Some(pending));
        success
    }

    fn blocked_downstream(report: &SaturationReport) -> Vec<&Signal> {
        report
            .signals
            .iter()
            .filter(|s| s.kind == SignalKind::BlockedDownstream)
            .collect()
    }

    #[test]
    fn pending_that_only_grows_is_blocked_downstream() {
        let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
        for (ms, pending) in [(0, 1), (10, 3), (20, 4), (30, 6)] {
            let mut stuck = event(ms, "stuck", "fanout", Kind::NodeSuccess);
            stuck.set_count(Count::TracePending, Some(pending));
            analyzer.observe(&stuck);
            let mut fine = event(ms + 1, "fine", "fanout", Kind::NodeSuccess);
            fine.set_count(Count::TracePending, Some([1, 3, 2, 1][(ms / 10) as usize]));
            analyzer.observe(&fine);
        }
        // The flow goes on; "stuck" stays still.
        analyzer.observe(&success_pending(1000, "later", 1));
        let report = analyzer.finish();
        let blocked = blocked_downstream(&report);
        assert_eq!(blocked.len(), 1);
        assert_eq!(blocked[0].trace_id.as_deref(), Some("stuck"));
        assert!(
            matches!(
                blocked[0].detail,
                SignalDetail::Blocked {
                    first: 1,
                    last: 6,
                    ..
                }
            ),
            "{:?}",
            blocked[0].detail
        );
    }

    #[test]
    fn blocked_traces_settled_together_are_named_oldest_first_the_same_each_run() {
        // Eight stalls, a second apart, go idle in one sweep: the five named are the oldest,
        // in order (the pending map's order changes from run to run).
        let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
        for stall in 0..8 {
            for (ms, pending) in [(0, 1), (10, 3), (20, 4), (30, 6)] {
                let trace = format!("stall-{stall}");
                analyzer.observe(&success_pending(stall * 1000 + ms, &trace, pending));
            }
        }
        // Eleven minutes on: the sweep settles all eight at once.
        analyzer.observe(&success_pending(11 * 60 * 1000, "later", 1));
        let report = analyzer.finish();
        let named: Vec<&str> = blocked_downstream(&report)
            .iter()
            .filter_map(|s| s.trace_id.as_deref())
            .collect();
        assert_eq!(
            named,
            ["stall-0", "stall-1", "stall-2", "stall-3", "stall-4"]
        );
    }

    #[test]
    fn a_fan_out_still_emitting_at_the_end_of_the_input_is_not_blocked() {
        let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
        for (ms, pending) in [(0, 1), (2, 3), (4, 4), (6, 6)] {
            let mut emitting = event(ms, "emitting", "split", Kind::NodeSuccess);
            emitting.set_count(Count::TracePending, Some(pending));
            analyzer.observe(&emitting);
        }
        let report = analyzer.finish();
        assert!(
            !report
                .signals
                .iter()
                .any(|s| s.kind == SignalKind::BlockedDownstream),
            "{:?}",
            report.signals
        );
    }

    #[test]
    fn longest_runs() {
        let buckets: Vec<Bucket> = [0, 5, 5, 0, 5, 5, 5, 0]
            .iter()
            .map(|&q| Bucket {
                q_total_max: q,
                ..Bucket::default()
            })
            .collect();
        let buckets: Vec<&Bucket> = buckets.iter().collect();
        assert_eq!(longest_run(&buckets, |b| b.q_total_max > 0), (4, 3));
    }
}
