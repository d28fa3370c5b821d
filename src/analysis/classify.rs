//! `classify`: what is failing across the whole flow. One pass over every selected event sorts
//! failures into the shared categories, counts them per group (node, tenant, kind, or time),
//! tallies exception types, and derives a remediation checklist per category.
//!
//! Definitions (see the README):
//! - `events`: node_timeout (timeout); node_error, remote_cancel_error (error); the cancellation
//!   kinds (cancel); deadline_skip (deadline). `node_failed` is not an event of its category:
//!   it repeats its message's last failure as terminal; nor is remote_call_error, which the
//!   node_error right after it repeats.
//! - `traces`: traces with at least one event of the category.
//! - `terminal`: node_failed with NODE_TIMEOUT (timeout) or any other exception code (error);
//!   traces whose status is cancelled (cancel) or deadline_skipped (deadline).
//! - `recovered` (timeout, error): (trace, node) pairs where the failure was followed by a
//!   node_success of that node in that trace.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::category::{Category, ReadsLike, category_of, is_repeated, is_terminal};
use super::deadline_cause::{
    self, CapacityExpiry, Expired, ExpiryPaths, HungCalls, LongestCalls, NodeCalls, NodeCapacity,
    PodExpiry,
};
use super::graph::FlowGraph;
use super::percentile::Percentiles;
use super::tenant_share::{self, UNKNOWN_TENANT};
use super::trace::TraceStatus;
use super::tracebook::TraceOutcome;
use crate::event::TraceKey;
use crate::event::{Event, FastMap, Kind, Name, NameIds, NameSlots, Timestamp};
use crate::pass::{Analysis, Apart, Needs, PassEnd};
use crate::redact::{ExceptionSummary, summarize_exception};
use crate::render::{millis, plural};

/// Time groupings list every bucket of the span (empty ones too) up to this many buckets.
const MAX_DENSE_BUCKETS: i64 = 10_000;

/// A retry rate above this at a node is a retry storm.
pub const RETRY_STORM_RATE: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Node,
    Tenant,
    Kind,
    Pod,
    Second,
    Minute,
    Hour,
}

/// Separates the two parts of a two-dimension group key (`--by tenant,node`).
const KEY_SEPARATOR: char = '\u{1f}';

impl GroupBy {
    fn bucket_micros(self) -> Option<i64> {
        match self {
            GroupBy::Second => Some(1_000_000),
            GroupBy::Minute => Some(60_000_000),
            GroupBy::Hour => Some(3_600_000_000),
            _ => None,
        }
    }

    /// The bucket width in seconds, for the report.
    fn bucket_seconds(self) -> Option<u64> {
        self.bucket_micros()
            .map(|micros| (micros / 1_000_000) as u64)
    }

    pub fn is_time(self) -> bool {
        self.bucket_micros().is_some()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Node => "node",
            GroupBy::Tenant => "tenant",
            GroupBy::Kind => "kind",
            GroupBy::Pod => "pod",
            GroupBy::Second => "second",
            GroupBy::Minute => "minute",
            GroupBy::Hour => "hour",
        }
    }
}

/// One category across the selection.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryReport {
    pub events: u64,
    pub traces: u64,
    pub terminal: u64,
    /// Only meaningful for timeout and error (null for cancel and deadline).
    pub recovered: Option<u64>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Categories {
    pub timeout: CategoryReport,
    pub error: CategoryReport,
    pub cancel: CategoryReport,
    pub deadline: CategoryReport,
}

impl Categories {
    pub fn get(&self, category: Category) -> &CategoryReport {
        match category {
            Category::Timeout => &self.timeout,
            Category::Error => &self.error,
            Category::Cancel => &self.cancel,
            Category::Deadline => &self.deadline,
        }
    }

    fn get_mut(&mut self, category: Category) -> &mut CategoryReport {
        match category {
            Category::Timeout => &mut self.timeout,
            Category::Error => &mut self.error,
            Category::Cancel => &mut self.cancel,
            Category::Deadline => &mut self.deadline,
        }
    }

    /// True when the category occurred at all.
    pub fn occurred(&self, category: Category) -> bool {
        let report = self.get(category);
        report.events > 0 || report.terminal > 0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Retries {
    pub events: u64,
    /// node_retry / node_success over the selection (null without successes): every node's
    /// successes, not only those of the nodes that retried.
    pub rate: Option<f64>,
    /// The successes `rate` divides by (all nodes').
    #[serde(skip)]
    pub successes: u64,
    /// The nodes that retried, most retries first: `(node, retries, successes)` (a node's own
    /// rate is what the retry-storm rule judges).
    #[serde(skip)]
    pub at: Vec<(String, u64, u64)>,
}

/// Failure counts of one group (a node, a tenant, a kind, or a time bucket).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Group {
    pub key: String,
    /// The second dimension's value, with `--by A,B`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key2: Option<String>,
    pub timeout: u64,
    pub error: u64,
    pub cancel: u64,
    pub deadline: u64,
    pub retry: u64,
    /// Events that ended a message for good here: node_failed, deadline_skip,
    /// trace_cancel_drop, node_trace_cancelled.
    pub terminal: u64,
    /// Successes, for the retry rate of a node.
    #[serde(skip)]
    pub successes: u64,
}

impl Group {
    pub fn failures(&self) -> u64 {
        self.timeout + self.error + self.cancel + self.deadline
    }

    pub fn count(&self, category: Category) -> u64 {
        match category {
            Category::Timeout => self.timeout,
            Category::Error => self.error,
            Category::Cancel => self.cancel,
            Category::Deadline => self.deadline,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ExceptionReport {
    #[serde(rename = "type")]
    pub type_name: String,
    pub count: u64,
    pub nodes: Vec<String>,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// One example message (masked unless --no-redact); only with --messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Messages (first attempts) that raised it, and those of them that then failed for good
    /// (`node_failed`); the others recovered on a retry or are still in flight.
    pub messages: u64,
    pub terminal: u64,
    /// Messages that raised it and then succeeded at the same node (on a retry).
    pub recovered: u64,
    /// Of those, messages whose trace then ran out of its deadline: the retries that recovered
    /// the call spent the budget.
    pub recovered_then_expired: u64,
    /// Messages that raised it, per tenant (`(unknown)` without one).
    pub tenants: BTreeMap<String, u64>,
    /// Of `recovered`, per tenant.
    #[serde(skip)]
    pub recovered_tenants: BTreeMap<String, u64>,
    /// The same per (pod, tenant), when lines carry a pod (kubectl's prefix).
    #[serde(skip)]
    pub pods: BTreeMap<(String, String), u64>,
    /// Occurrences whose message reads like an authentication or authorization failure
    /// (401, 403, unauthorized, forbidden, credentials, permission, expired token).
    pub auth_like: u64,
    /// Occurrences whose message reads like a quota or rate limit (429, quota, too many
    /// requests, throttled).
    pub quota_like: u64,
    /// Occurrences whose message reads like a dependency overloaded or down for now (502, 503,
    /// 504, 529, overloaded, unavailable, retry later).
    pub unavailable_like: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Remediation {
    /// timeout, error, cancel, deadline, or retry (a retry storm).
    pub category: String,
    pub steps: Vec<String>,
}

/// The answer of `classify`: a stable JSON contract (see the README).
#[derive(Debug, Clone, Serialize)]
pub struct ClassifyReport {
    pub categories: Categories,
    pub retries: Retries,
    pub statuses: BTreeMap<String, u64>,
    pub traces: u64,
    pub by: GroupBy,
    /// The second grouping, with `--by A,B`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub then_by: Option<GroupBy>,
    pub groups: Vec<Group>,
    pub exceptions: Vec<ExceptionReport>,
    pub remediation: Vec<Remediation>,
    /// Deadline-skipped traces: skipped at their first event (a stale client budget) or
    /// further along the flow (expired in a queue).
    pub deadlines: DeadlineSplit,
    /// For time groupings: the bucket width in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_s: Option<u64>,
    /// The cancellations are one tenant's callers giving up on slow requests (for triage,
    /// which links them to what was slow then).
    #[serde(skip)]
    pub given_up: Option<GiveUp>,
    /// Per node: the p50 of its successes that did not wait on a full outbound queue (its own
    /// work), for the analyses built on this one.
    #[serde(skip)]
    pub own_work_p50_ms: BTreeMap<String, f64>,
}

/// One tenant's callers cancelled (flow.cancel) requests the other tenants' callers waited
/// out: the first and last cancel.
#[derive(Debug, Clone)]
pub struct GiveUp {
    pub tenant: String,
    pub first: Timestamp,
    pub last: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeadlineSplit {
    pub stale_at_first_node: u64,
    pub expired_in_flow: u64,
    /// Traces whose budget went mostly into one node's failed attempts and retry backoff.
    pub spent_in_retries: u64,
    /// Of `expired_in_flow`: the traces that expired on their way through one node at capacity
    /// that only part of the traffic takes, while the rest got through the same queues before
    /// it (`deadline_cause`); absent when no node explains them so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_capacity: Option<CapacityExpiry>,
    /// Of `expired_in_flow`: the traces that expired while one of a node's rare hung calls
    /// ran (their own, or one holding the worker they waited for) at a node without a timeout
    /// (`deadline_cause::hung_calls`); absent when no node's calls explain them so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hung_calls: Option<HungCalls>,
    /// The expiries in the flow are confined to one pod, for every tenant it serves
    /// (`deadline_cause::in_one_pod`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_one_pod: Option<PodExpiry>,
}

#[derive(Debug, Default)]
struct NodeFacts {
    success_latency: Percentiles,
    /// Successes that did not wait on a full outbound queue: the node's own work (a
    /// `node_success` latency includes the wait to hand the output over).
    unblocked_latency: Percentiles,
    timeout_latency_max: f64,
    q_depth_in_max: i64,
    queue_maxsize: Option<i64>,
    timeouts: u64,
    /// Timeouts that happened with the node's inbound (outbound) queue at capacity.
    timeouts_inbound_full: u64,
    timeouts_outbound_full: u64,
    /// Messages (first attempts) that timed out here, per tenant: a request retried six times
    /// is one message.
    timeout_tenants: BTreeMap<String, u64>,
    /// Messages (first attempts) the node took, per tenant: the base a tenant's failures are
    /// measured against. Filled at the end from the counts by tenant id below.
    tenant_messages: BTreeMap<String, u64>,
    /// The same counts while reading, by the tenant's id in `tenants_seen` (`NO_TENANT` for
    /// none): a map of small integers an event, not a walk of a map of texts whose bytes are
    /// cold by the time the next message comes. Sparse: a node may serve a few of many tenants.
    messages_by_tenant_id: FastMap<u32, u64>,
    worker: crate::analysis::saturation::WorkerTime,
    /// Successes on a retry, by the attempt they succeeded on: retries spent to the last one
    /// allowed leave nothing for a worse minute.
    retried_successes: BTreeMap<i64, u64>,
    /// The highest attempt a `node_failed` came at: PenguiFlow fails a message when its
    /// attempt reaches `max_retries`, so this is the node's limit.
    failed_attempt: Option<i64>,
    /// Retries per tenant, and the messages per tenant that failed here and then succeeded
    /// on a retry: retries spent on one tenant's requests that never succeed save nothing.
    retries_by_tenant: BTreeMap<String, u64>,
    recovered_by_tenant: BTreeMap<String, u64>,
    /// Its own latency over time: whether it rose steadily until its calls timed out.
    curve: crate::analysis::saturation::LatencyCurve,
    /// The time (s) of successes logged after waiting on a full outbound queue: the wait to
    /// hand output over, not the node's own work.
    blocked_success_s: f64,
    /// Its workers (node_ids), at most `MAX_INSTANCES`.
    instances: Vec<Name>,
    /// Its longest successes (the hung-call rule).
    longest: LongestCalls,
    /// Its own work (successes that did not wait on a full outbound queue) per pod, at most
    /// `MAX_INSTANCES` pods.
    pod_work: Vec<(Name, Percentiles)>,
}

/// Workers (node_ids) of a node counted apart, at most.
const MAX_INSTANCES: usize = 64;

#[derive(Debug)]
struct ExceptionTally {
    count: u64,
    /// Messages that raised it and then succeeded at the same node (on a retry).
    recovered: u64,
    recovered_then_expired: u64,
    /// Messages (first attempts) that raised it, and those that then failed for good.
    messages: u64,
    terminal: u64,
    tenants: BTreeMap<String, u64>,
    /// Of `recovered`, per tenant.
    recovered_tenants: BTreeMap<String, u64>,
    /// Messages that raised it, per (pod, tenant), when lines carry a pod.
    pods: BTreeMap<(String, String), u64>,
    auth_like: u64,
    /// Attempts whose text reads like a quota or rate limit (HTTP 429).
    quota_like: u64,
    /// Attempts whose text reads like an overloaded or unavailable dependency (HTTP 503).
    unavailable_like: u64,
    nodes: BTreeSet<Name>,
    first_ts: Timestamp,
    last_ts: Timestamp,
    example: String,
}

/// The classify fold. Trace-level facts (statuses, traces affected) come from a `TraceBook`
/// fed the same events, whose finished traces are handed to `add_outcome`, so that one book
/// can serve several analyses.
pub struct Classifier {
    by: GroupBy,
    then_by: Option<GroupBy>,
    messages: bool,
    categories: Categories,
    retries: u64,
    successes: u64,
    groups: FastMap<String, Group>,
    /// The groups of a name (`--by node`, `tenant` or `pod`, alone), found through the name's
    /// address instead of its text hashed every event; folded into `groups` when read
    /// (`counted_groups`). Events without that name stay in `groups` (`(none)`).
    named_groups: NameSlots<Group>,
    /// By node, when `groups` is keyed otherwise.
    node_groups: FastMap<String, Group>,
    nodes: NameSlots<NodeFacts>,
    exceptions: HashMap<String, ExceptionTally>,
    exception_readings: ExceptionReadings,
    deadline_late_ms: Percentiles,
    /// node_cancelled events: workers stopped by flow.stop() (shutdown, redeploy).
    worker_stops: u64,
    /// Finished traces by status, indexed by the status (`TraceStatus::ALL`'s order).
    statuses: [u64; TraceStatus::ALL.len()],
    traces: u64,
    /// End-to-end durations of succeeded traces.
    e2e_ms: Percentiles,
    /// Deadline-skipped traces whose skip was their first event (the budget had run out
    /// before the first node fetched the message), and those skipped further along.
    deadline_stale: u64,
    deadline_in_flow: u64,
    /// Deadline-skipped traces that spent most of their time retrying at one node, by node.
    deadline_in_retries: BTreeMap<String, u64>,
    /// Traces that expired in a queue, by the node whose queue held them longest; those whose
    /// node spent most of its worker time retrying are told apart at the end.
    deadline_queued_at: BTreeMap<String, u64>,
    deadline_behind_retries: BTreeMap<String, u64>,
    /// Deadline skips that were their trace's first event with a short queue: (node, ms late,
    /// queue depth), judged stale or not once the node's latency is known.
    first_skips: Vec<(String, f64, i64, Expired)>,
    /// Traces whose deadline expired in the flow, per tenant.
    deadline_in_flow_by_tenant: BTreeMap<String, u64>,
    /// The nodes every finished trace reached, and those that expired in the flow.
    expiry_paths: ExpiryPaths,
    /// The traces that expired in the flow, at most `MAX_EXPIRED_KEPT`.
    expired: Vec<Expired>,
    /// Traces per (pod, tenant), and those that expired in the flow, when lines carry a pod;
    /// the expiries in the flow of traces without one.
    /// (Traces by pod, then tenant: looked up by text with no key made per trace; the pairs
    /// counted, at most `MAX_POD_TENANTS`; flattened to (pod, tenant) pairs when read.)
    traces_by_pod: BTreeMap<String, BTreeMap<String, u64>>,
    pod_tenant_pairs: usize,
    expired_by_pod: BTreeMap<(String, String), u64>,
    expired_without_pod: u64,
    /// The exception type each failing message (trace, node) last raised, until it succeeds
    /// there (a recovery) or fails for good; bounded by `MAX_FAILING`.
    failing: FastMap<(TraceKey, Name), String>,
    /// The exception type a trace recovered from on a retry, until the trace ends; bounded by
    /// `MAX_FAILING`.
    recovered_in: FastMap<Name, String>,
    /// Traces per tenant (`(unknown)` without one).
    tenant_traces: BTreeMap<String, u64>,
    /// Cancelled traces: per tenant, how long each had been in the flow, and when.
    cancels: CancelFacts,
    /// First attempts (node_start, attempt 0) per node, pod and tenant: what each pod's node
    /// took. Keyed by the names' ids in `pod_names` (a tenant-less event's tenant is
    /// `NO_TENANT`), not by their texts hashed three times an event.
    pod_messages: FastMap<[u32; 3], u64>,
    pod_names: NameIds,
    /// Every tenant seen (bounded by the tenants): a tenant stands out only among others.
    tenants_seen: NameIds,
    /// The time bucket the last event fell in and its group (`--by minute`), counted here
    /// and added to `groups` when the next bucket begins: events come in time order, so the
    /// key is written and looked up once a bucket, not once an event. `None` before any event.
    time_group: Option<(i64, Group)>,
    /// Counts only its groups (see [`Classifier::groups_only`]).
    groups_only: bool,
    newest: Option<Timestamp>,
    oldest: Option<Timestamp>,
}

impl Classifier {
    pub fn new(by: GroupBy, messages: bool) -> Classifier {
        let empty = || CategoryReport::default();
        Classifier {
            by,
            then_by: None,
            messages,
            categories: Categories {
                timeout: CategoryReport {
                    recovered: Some(0),
                    ..empty()
                },
                error: CategoryReport {
                    recovered: Some(0),
                    ..empty()
                },
                cancel: empty(),
                deadline: empty(),
            },
            retries: 0,
            successes: 0,
            groups: FastMap::default(),
            named_groups: NameSlots::default(),
            node_groups: FastMap::default(),
            nodes: NameSlots::default(),
            exceptions: HashMap::new(),
            exception_readings: ExceptionReadings::default(),
            deadline_late_ms: Percentiles::default(),
            worker_stops: 0,
            statuses: [0; TraceStatus::ALL.len()],
            traces: 0,
            e2e_ms: Percentiles::default(),
            deadline_stale: 0,
            deadline_in_flow: 0,
            deadline_in_retries: BTreeMap::new(),
            deadline_queued_at: BTreeMap::new(),
            deadline_behind_retries: BTreeMap::new(),
            first_skips: Vec::new(),
            deadline_in_flow_by_tenant: BTreeMap::new(),
            expiry_paths: ExpiryPaths::default(),
            expired: Vec::new(),
            traces_by_pod: BTreeMap::new(),
            pod_tenant_pairs: 0,
            expired_by_pod: BTreeMap::new(),
            expired_without_pod: 0,
            tenants_seen: NameIds::default(),
            time_group: None,
            groups_only: false,
            failing: FastMap::default(),
            recovered_in: FastMap::default(),
            tenant_traces: BTreeMap::new(),
            cancels: CancelFacts::default(),
            pod_messages: FastMap::default(),
            pod_names: NameIds::default(),
            newest: None,
            oldest: None,
        }
    }

    /// A classifier that counts its groups and nothing else: triage's failures per minute,
    /// whose report is the node grouping's but for the groups (the same events, counted the
    /// same way; see [`Classifier::regroup`]). A second full classifier was a third of
    /// triage's analysis thread.
    pub fn groups_only(mut self) -> Classifier {
        self.groups_only = true;
        self
    }

    /// `report` (of a classifier that saw the same events) with this classifier's grouping.
    pub fn regroup(&self, report: &ClassifyReport) -> ClassifyReport {
        ClassifyReport {
            by: self.by,
            then_by: self.then_by,
            bucket_s: self.by.bucket_seconds(),
            groups: self.ordered_groups(),
            ..report.clone()
        }
    }

    /// One more first attempt of `node` on `pod` for `tenant`; past `MAX_POD_TENANTS`
    /// (node, pod, tenant) counts only those counted already (no name interned either).
    fn count_pod_message(&mut self, node: &Name, pod: &Name, tenant: Option<&Name>) {
        let room = self.pod_messages.len() < MAX_POD_TENANTS;
        let names = &mut self.pod_names;
        let mut id = |name: &Name| {
            if room {
                Some(names.intern(name).0)
            } else {
                names.find(name)
            }
        };
        let (Some(node), Some(pod), Some(tenant)) =
            (id(node), id(pod), tenant.map_or(Some(NO_TENANT), &mut id))
        else {
            return;
        };
        match self.pod_messages.get_mut(&[node, pod, tenant]) {
            Some(count) => *count += 1,
            None if room => {
                self.pod_messages.insert([node, pod, tenant], 1);
            }
            None => {}
        }
    }

    /// The first attempts per node, pod and tenant by name.
    fn pod_messages_by_name(&self) -> PodMessages {
        let name = |id: u32| match id {
            NO_TENANT => UNKNOWN_TENANT.to_string(),
            id => self.pod_names.name(id).to_string(),
        };
        self.pod_messages
            .iter()
            .map(|(&[node, pod, tenant], &count)| (name(node), name(pod), name(tenant), count))
            .collect()
    }

    /// Counts `event` in its group; its failure category and whether it ended its message.
    fn count_in_groups(&mut self, event: &Event) -> (Option<Category>, bool) {
        self.newest = Some(self.newest.map_or(event.ts, |n| n.max(event.ts)));
        self.oldest = Some(self.oldest.map_or(event.ts, |o| o.min(event.ts)));
        // A remote_call_error is counted as the node_error that repeats it.
        let category = category_of(event).filter(|_| !is_repeated(event));
        let terminal = is_terminal(event);
        if let (Some(width), None) = (self.by.bucket_micros(), self.then_by) {
            let start = event.ts.0.div_euclid(width) * width;
            if self
                .time_group
                .as_ref()
                .is_none_or(|(held, _)| *held != start)
            {
                if let Some((_, group)) = self.time_group.take() {
                    add_group(&mut self.groups, group);
                }
                let key = key_of(self.by, event).into_owned();
                self.time_group = Some((
                    start,
                    Group {
                        key,
                        ..Group::default()
                    },
                ));
            }
            if let Some((_, group)) = &mut self.time_group {
                count(group, event, category, terminal);
            }
            return (category, terminal);
        }
        if self.then_by.is_none()
            && let Some(name) = group_name(self.by, event)
        {
            let group = self.named_groups.get_or_insert_with(name, || Group {
                key: name.to_string(),
                ..Group::default()
            });
            count(group, event, category, terminal);
            return (category, terminal);
        }
        let key = self.group_key(event);
        tally(&mut self.groups, &key, event, category, terminal);
        (category, terminal)
    }

    /// Every group counted so far, the time bucket and the named groups held apart included.
    fn counted_groups(&self) -> Cow<'_, FastMap<String, Group>> {
        if self.time_group.is_none() && self.named_groups.iter().next().is_none() {
            return Cow::Borrowed(&self.groups);
        }
        let mut groups = self.groups.clone();
        if let Some((_, held)) = &self.time_group {
            add_group(&mut groups, held.clone());
        }
        for (_, group) in self.named_groups.iter() {
            add_group(&mut groups, group.clone());
        }
        Cow::Owned(groups)
    }

    /// Groups by `by` and then by `then_by` (`--by tenant,node`).
    pub fn then_by(mut self, then_by: Option<GroupBy>) -> Classifier {
        self.then_by = then_by.filter(|second| *second != self.by);
        self
    }

    /// The group of an event (borrowed where it can be: no allocation on the hot path with
    /// one dimension).
    fn group_key<'e>(&self, event: &'e Event) -> Cow<'e, str> {
        let first = key_of(self.by, event);
        match self.then_by {
            None => first,
            Some(second) => Cow::Owned(format!("{first}{KEY_SEPARATOR}{}", key_of(second, event))),
        }
    }

    pub fn observe(&mut self, event: &Event) {
        if self.groups_only {
            self.count_in_groups(event);
            return;
        }
        let tenant_id = event
            .tenant
            .as_ref()
            .map(|tenant| self.tenants_seen.intern(tenant).0);
        if let Some(pod) = &event.pod
            && let Some(node) = &event.node_name
            && event.kind == Kind::NodeStart
            && event.attempt().unwrap_or(0) == 0
        {
            self.count_pod_message(node, pod, event.tenant.as_ref());
        }
        let (category, terminal) = self.count_in_groups(event);
        if self.by != GroupBy::Node || self.then_by.is_some() {
            // The checklist speaks about nodes whatever the grouping shown.
            let node = event.node_name.as_deref().unwrap_or("(none)");
            tally(&mut self.node_groups, node, event, category, terminal);
        }
        match (category, terminal) {
            (Some(category), false) => {
                let report = self.categories.get_mut(category);
                report.events += 1;
                report.first_ts = Some(report.first_ts.map_or(event.ts, |t| t.min(event.ts)));
                report.last_ts = Some(report.last_ts.map_or(event.ts, |t| t.max(event.ts)));
            }
            (Some(category), true) => {
                // node_failed: terminal in the category of its code. Cancel and deadline also
                // count the traces that ended cancelled or skipped (`add_outcome`).
                self.categories.get_mut(category).terminal += 1;
            }
            _ => {}
        }
        match event.kind {
            Kind::NodeRetry => self.retries += 1,
            Kind::NodeSuccess => self.successes += 1,
            Kind::NodeCancelled => self.worker_stops += 1,
            _ => {}
        }
        self.track_node(event, tenant_id);
        self.track_exception(event);
        if event.kind == Kind::DeadlineSkip
            && let Some(deadline) = event.deadline_s()
        {
            self.deadline_late_ms
                .add((event.ts.as_unix_seconds() - deadline) * 1000.0);
        }
    }

    /// `tenant_id`: the event's tenant's id in `tenants_seen`.
    fn track_node(&mut self, event: &Event, tenant_id: Option<u32>) {
        let Some(node) = &event.node_name else {
            return;
        };
        let facts = self.nodes.get_or_insert_with(node, NodeFacts::default);
        if event.kind == Kind::NodeStart
            && let Some(id) = &event.node_id
            && facts.instances.len() < MAX_INSTANCES
            && !facts.instances.contains(id)
        {
            facts.instances.push(Name::clone(id));
        }
        if event.kind == Kind::NodeStart && event.attempt().unwrap_or(0) == 0 {
            *facts
                .messages_by_tenant_id
                .entry(tenant_id.unwrap_or(NO_TENANT))
                .or_default() += 1;
        }
        facts.worker.add(event);
        facts.curve.add(event);
        facts.longest.add(event);
        match event.kind {
            Kind::NodeSuccess => {
                if let Some(attempt) = event.attempt().filter(|a| *a > 0) {
                    *facts.retried_successes.entry(attempt).or_default() += 1;
                }
                if let Some(latency) = event.latency_ms() {
                    facts.success_latency.add(latency);
                    if crate::analysis::saturation::waited_to_hand_over(event) {
                        facts.blocked_success_s += latency.max(0.0) / 1000.0;
                    } else {
                        facts.unblocked_latency.add(latency);
                        if let Some(pod) = &event.pod {
                            let known = facts.pod_work.iter().position(|(p, _)| p == pod);
                            match known {
                                Some(index) => facts.pod_work[index].1.add(latency),
                                None if facts.pod_work.len() < MAX_INSTANCES => {
                                    let mut work = Percentiles::default();
                                    work.add(latency);
                                    facts.pod_work.push((Name::clone(pod), work));
                                }
                                None => {}
                            }
                        }
                    }
                }
            }
            Kind::NodeFailed => {
                if let Some(attempt) = event.attempt() {
                    facts.failed_attempt =
                        Some(facts.failed_attempt.map_or(attempt, |a| a.max(attempt)));
                }
            }
            Kind::NodeRetry => {
                let tenant = event.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
                count_bounded(&mut facts.retries_by_tenant, tenant);
            }
            Kind::NodeTimeout => {
                facts.timeout_latency_max = facts
                    .timeout_latency_max
                    .max(event.latency_ms().unwrap_or(0.0));
                facts.timeouts += 1;
                if let Some(capacity) = event.queue_maxsize().filter(|c| *c > 0) {
                    facts.timeouts_inbound_full +=
                        u64::from(event.q_depth_in().unwrap_or(0) >= capacity);
                    facts.timeouts_outbound_full +=
                        u64::from(event.q_depth_out().unwrap_or(0) >= capacity);
                }
                if event.attempt().unwrap_or(0) == 0 {
                    let tenant = event.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
                    *facts.timeout_tenants.entry(tenant.to_string()).or_default() += 1;
                }
            }
            _ => {}
        }
        facts.q_depth_in_max = facts.q_depth_in_max.max(event.q_depth_in().unwrap_or(0));
        if event.queue_maxsize().is_some() {
            facts.queue_maxsize = event.queue_maxsize();
        }
    }

    /// Follows each failing message to its end at the node: a success there recovers the
    /// exception type it last raised.
    fn track_recovery(&mut self, event: &Event, type_name: Option<&str>) {
        let (Some(trace), Some(node)) = (&event.trace_id, &event.node_name) else {
            return;
        };
        match event.kind {
            Kind::NodeError | Kind::NodeTimeout => {
                if let Some(type_name) = type_name
                    && self.failing.len() < MAX_FAILING
                {
                    self.failing.insert(
                        (TraceKey::of(trace, event.keys().hex_trace), node.clone()),
                        type_name.to_string(),
                    );
                }
            }
            Kind::NodeSuccess | Kind::NodeFailed | Kind::NodeTraceCancelled => {
                if self.failing.is_empty() {
                    return;
                }
                // The trace's key, not a clone of its shared name: no reference count the
                // decoding thread's core holds is touched for each success.
                let key = (TraceKey::of(trace, event.keys().hex_trace), node.clone());
                if let Some(type_name) = self.failing.remove(&key)
                    && event.kind == Kind::NodeSuccess
                    && let Some(tally) = self.exceptions.get_mut(&type_name)
                {
                    tally.recovered += 1;
                    let tenant = event.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
                    count_bounded(&mut tally.recovered_tenants, tenant);
                    if let Some(facts) = self.nodes.get_mut(node) {
                        count_bounded(&mut facts.recovered_by_tenant, tenant);
                    }
                    if self.recovered_in.len() < MAX_FAILING {
                        self.recovered_in.insert(trace.clone(), type_name);
                    }
                }
            }
            _ => {}
        }
    }

    fn track_exception(&mut self, event: &Event) {
        if matches!(event.kind, Kind::NodeSuccess | Kind::NodeTraceCancelled) {
            self.track_recovery(event, None);
            return;
        }
        if !matches!(
            event.kind,
            Kind::NodeError | Kind::NodeTimeout | Kind::RemoteCancelError | Kind::NodeFailed
        ) {
            return;
        }
        let reading = event
            .exception()
            .map(|text| self.exception_readings.read(text));
        let type_name = reading
            .as_ref()
            .and_then(|reading| reading.summary.type_name.as_deref())
            .or_else(|| {
                event
                    .flow_error()
                    .as_ref()
                    .and_then(|f| f.exception_type.as_deref())
            });
        if event.kind == Kind::NodeFailed {
            self.track_recovery(event, None);
        }
        let Some(type_name) = type_name else {
            return;
        };
        if matches!(event.kind, Kind::NodeError | Kind::NodeTimeout) {
            self.track_recovery(event, Some(type_name));
        }
        if !self.exceptions.contains_key(type_name) {
            self.exceptions.insert(
                type_name.to_string(),
                ExceptionTally {
                    count: 0,
                    recovered: 0,
                    recovered_then_expired: 0,
                    messages: 0,
                    terminal: 0,
                    tenants: BTreeMap::new(),
                    recovered_tenants: BTreeMap::new(),
                    pods: BTreeMap::new(),
                    auth_like: 0,
                    quota_like: 0,
                    unavailable_like: 0,
                    nodes: BTreeSet::new(),
                    first_ts: event.ts,
                    last_ts: event.ts,
                    example: reading
                        .as_ref()
                        .map(|reading| reading.summary.message.clone())
                        .unwrap_or_default(),
                },
            );
        }
        let tally = self.exceptions.get_mut(type_name).expect("inserted");
        if event.kind == Kind::NodeFailed {
            // The message's last failure, repeated as terminal: not another occurrence.
            tally.terminal += 1;
            return;
        }
        tally.count += 1;
        if event.attempt().unwrap_or(0) == 0 {
            tally.messages += 1;
            let tenant = event.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
            match tally.tenants.get_mut(tenant) {
                Some(count) => *count += 1,
                None => {
                    tally.tenants.insert(tenant.to_string(), 1);
                }
            }
            if let Some(pod) = event.pod.as_deref()
                && tally.pods.len() < MAX_POD_TENANTS
            {
                *tally
                    .pods
                    .entry((pod.to_string(), tenant.to_string()))
                    .or_default() += 1;
            }
        }
        match reading.and_then(|reading| reading.reads_like) {
            Some(ReadsLike::RejectedCredentials) => tally.auth_like += 1,
            Some(ReadsLike::Quota) => tally.quota_like += 1,
            Some(ReadsLike::Unavailable) => tally.unavailable_like += 1,
            None => {}
        }
        tally.first_ts = tally.first_ts.min(event.ts);
        tally.last_ts = tally.last_ts.max(event.ts);
        if let Some(node) = &event.node_name {
            tally.nodes.insert(node.clone());
        }
    }

    /// The report, with `outcomes`: every trace of the same events (see `TraceBook`).
    /// Counts a finished trace (see `TraceBook`): its status, the categories it had.
    pub fn add_outcome(&mut self, outcome: &TraceOutcome) {
        if !outcome.summary.selected {
            return; // no event of it passed --node/--kind
        }
        self.statuses[outcome.status as usize] += 1;
        self.traces += 1;
        if !self.recovered_in.is_empty()
            && let Some(type_name) = self.recovered_in.remove(outcome.summary.trace_id.as_str())
            && outcome.status == TraceStatus::DeadlineSkipped
            && let Some(tally) = self.exceptions.get_mut(&type_name)
        {
            tally.recovered_then_expired += 1;
        }
        let tenant = outcome.summary.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
        // Per finished trace: no key allocated for a tenant already counted.
        count_bounded(&mut self.tenant_traces, tenant);
        if let Some(pod) = outcome.summary.pod.as_deref() {
            self.count_pod_trace(pod, tenant);
        }
        self.expiry_paths
            .trace(outcome.status, &outcome.summary.visits);
        let counts = &outcome.summary.counts;
        for category in Category::ALL {
            if counts.get(category) > 0 {
                self.categories.get_mut(category).traces += 1;
            }
            if let Some(recovered) = &mut self.categories.get_mut(category).recovered {
                *recovered += outcome.summary.recovered(category);
            }
        }
        match outcome.status {
            TraceStatus::Cancelled => {
                self.categories.cancel.terminal += 1;
                self.cancels.cancelled(&outcome.summary, tenant);
            }
            TraceStatus::DeadlineSkipped => {
                self.categories.deadline.terminal += 1;
                let summary = &outcome.summary;
                if let Some((visit, _)) = summary.retries_took_the_time() {
                    *self
                        .deadline_in_retries
                        .entry(visit.node_name.to_string())
                        .or_default() += 1;
                    return;
                }
                let skipped_first = summary.events == 1
                    && summary
                        .visits
                        .first()
                        .is_some_and(|visit| visit.last_kind == Kind::DeadlineSkip);
                // Stale or spent in the first queue is judged at the end, against how long that
                // queue could have held it (`WorkerTime::skip_was_stale`, the rule find uses).
                match (
                    skipped_first,
                    summary.deadline_late_ms(),
                    summary.visits.first(),
                ) {
                    (true, Some(late), Some(visit)) if self.first_skips.len() < MAX_FIRST_SKIPS => {
                        let depth = summary
                            .deadline_skip_queue()
                            .and_then(|(depth, _)| depth)
                            .unwrap_or(0);
                        self.first_skips.push((
                            visit.node_name.to_string(),
                            late,
                            depth,
                            Expired::of(summary),
                        ));
                    }
                    _ => self.count_expired_in_queue(summary),
                }
            }
            TraceStatus::Succeeded => {
                self.e2e_ms.add(outcome.summary.duration_ms());
                self.cancels.finished(&outcome.summary, tenant);
            }
            _ => {}
        }
    }

    /// A trace that ran out of budget in the flow, counted with the node whose queue held it
    /// longest (the gap before that node's first event of the trace).
    fn count_expired_in_queue(&mut self, summary: &crate::analysis::trace::TraceSummary) {
        self.deadline_in_flow += 1;
        let tenant = summary.tenant.as_deref().unwrap_or(UNKNOWN_TENANT);
        if self.deadline_in_flow_by_tenant.len() < MAX_TENANTS_COUNTED
            || self.deadline_in_flow_by_tenant.contains_key(tenant)
        {
            *self
                .deadline_in_flow_by_tenant
                .entry(tenant.to_string())
                .or_default() += 1;
        }
        let reached: Vec<&Name> = summary.visits.iter().map(|v| &v.node_name).collect();
        let budget_left = summary
            .deadline_late_ms()
            .map(|late| summary.duration_ms() - late);
        self.expiry_paths.expired(&reached, tenant, budget_left);
        self.keep_expired(Expired::of(summary));
        if let Some((visit, _)) = summary.longest_wait()
            && let node = &*visit.node_name
            && (self.deadline_queued_at.len() < 1024 || self.deadline_queued_at.contains_key(node))
        {
            *self.deadline_queued_at.entry(node.to_string()).or_default() += 1;
        }
    }

    /// Keeps a trace that expired in the flow (for the hung-call and the pod rules).
    fn keep_expired(&mut self, expired: Expired) {
        match expired.pod.as_deref() {
            Some(pod) => {
                let key = (pod.to_string(), expired.tenant.clone());
                if self.expired_by_pod.len() < MAX_POD_TENANTS
                    || self.expired_by_pod.contains_key(&key)
                {
                    *self.expired_by_pod.entry(key).or_default() += 1;
                }
            }
            None => self.expired_without_pod += 1,
        }
        if self.expired.len() < deadline_cause::MAX_EXPIRED_KEPT {
            self.expired.push(expired);
        }
    }

    /// The report, once every event and every finished trace (`add_outcome`) was counted,
    /// without a flow graph (no router is known).
    pub fn finish(self) -> ClassifyReport {
        self.finish_with_graph(&FlowGraph::default())
    }

    /// Each node's messages per tenant, by the tenants' names (a tenant named as the unknown
    /// one is counted with it, as when the counts were kept by name).
    fn name_tenant_messages(&mut self) {
        let tenants = &self.tenants_seen;
        for facts in self.nodes.values_mut() {
            let named = &mut facts.tenant_messages;
            for (&id, &count) in &facts.messages_by_tenant_id {
                let tenant = match id {
                    NO_TENANT => UNKNOWN_TENANT,
                    id => tenants.name(id),
                };
                *named.entry(tenant.to_string()).or_default() += count;
            }
        }
    }

    /// One more finished trace of `tenant` on `pod` (past `MAX_POD_TENANTS` pairs, only those
    /// already counted).
    fn count_pod_trace(&mut self, pod: &str, tenant: &str) {
        if let Some(count) = self
            .traces_by_pod
            .get_mut(pod)
            .and_then(|tenants| tenants.get_mut(tenant))
        {
            *count += 1;
        } else if self.pod_tenant_pairs < MAX_POD_TENANTS {
            self.pod_tenant_pairs += 1;
            self.traces_by_pod
                .entry(pod.to_string())
                .or_default()
                .insert(tenant.to_string(), 1);
        }
    }

    /// Finished traces per (pod, tenant).
    fn traces_by_pod_tenant(&self) -> BTreeMap<(String, String), u64> {
        self.traces_by_pod
            .iter()
            .flat_map(|(pod, tenants)| {
                tenants
                    .iter()
                    .map(|(tenant, traces)| ((pod.clone(), tenant.clone()), *traces))
            })
            .collect()
    }

    /// The report, with the flow graph learned from the same traces.
    pub fn finish_with_graph(mut self, graph: &FlowGraph) -> ClassifyReport {
        self.name_tenant_messages();
        let statuses: BTreeMap<String, u64> = TraceStatus::ALL
            .iter()
            .zip(self.statuses)
            .map(|(status, count)| (status.as_str().to_string(), count))
            .collect();
        let e2e_ms = std::mem::take(&mut self.e2e_ms);
        let groups = self.ordered_groups();
        let mut exceptions: Vec<ExceptionReport> = self
            .exceptions
            .drain()
            .filter(|(_, tally)| tally.count > 0)
            .map(|(type_name, tally)| ExceptionReport {
                type_name,
                count: tally.count,
                nodes: tally.nodes.iter().map(|node| node.to_string()).collect(),
                first_ts: tally.first_ts,
                last_ts: tally.last_ts,
                message: self.messages.then_some(tally.example),
                tenants: tally.tenants,
                recovered_tenants: tally.recovered_tenants,
                pods: tally.pods,
                auth_like: tally.auth_like,
                quota_like: tally.quota_like,
                unavailable_like: tally.unavailable_like,
                recovered: tally.recovered,
                recovered_then_expired: tally.recovered_then_expired,
                messages: tally.messages,
                terminal: tally.terminal,
            })
            .collect();
        exceptions.sort_by(|a, b| b.count.cmp(&a.count).then(a.type_name.cmp(&b.type_name)));

        // A skip later than its node could have held the message had a budget gone on arrival
        // (`WorkerTime::skip_was_stale`); the others ran out in that queue.
        for (node, late, depth, expired) in std::mem::take(&mut self.first_skips) {
            let facts = self.nodes.get(node.as_str());
            // Every success counts here, as in find: a turn of the queue includes the time a
            // worker waits to hand its output over.
            let p95 = facts
                .and_then(|facts| facts.success_latency.percentile(95.0))
                .unwrap_or(0.0);
            let worker = facts.map(|facts| facts.worker).unwrap_or_default();
            if worker.skip_was_stale(late, depth, p95) {
                self.deadline_stale += 1;
            } else {
                self.deadline_in_flow += 1;
                *self.deadline_queued_at.entry(node.to_string()).or_default() += 1;
                // Skipped at its first event: its budget was gone when the node fetched it.
                self.expiry_paths.expired(
                    &[&Name::from(node.as_str())],
                    &expired.tenant,
                    Some(-late),
                );
                *self
                    .deadline_in_flow_by_tenant
                    .entry(expired.tenant.clone())
                    .or_default() += 1;
                self.keep_expired(expired);
            }
        }
        // The node whose queue held the most of them longest.
        let waited_at = self
            .deadline_queued_at
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(node, _)| node.clone());
        // Messages that waited past their budget behind a worker busy retrying other messages:
        // the retries, not capacity, spent it.
        for (node, traces) in std::mem::take(&mut self.deadline_queued_at) {
            if self
                .nodes
                .get(node.as_str())
                .is_some_and(|facts| facts.worker.mostly_retrying())
            {
                self.deadline_in_flow -= traces;
                self.deadline_behind_retries.insert(node, traces);
            }
        }
        // Expiries on the way through one node at capacity that only part of the traffic takes
        // (left alone when other messages' retries already explain some of them).
        let span_s = match (self.oldest, self.newest) {
            (Some(oldest), Some(newest)) => newest.millis_since(oldest) / 1000.0,
            _ => 0.0,
        };
        // Expiries caught by a node's rare hung calls (it has no timeout): the tail, not the
        // budget or the capacity.
        let hung_calls = if self.deadline_behind_retries.is_empty() {
            deadline_cause::hung_calls(
                &self.expired,
                self.deadline_in_flow,
                graph,
                self.nodes.iter().map(|(node, facts)| {
                    (
                        &**node,
                        NodeCalls {
                            longest: &facts.longest,
                            own_p50_ms: facts.unblocked_latency.percentile(50.0),
                            latency: &facts.success_latency,
                            timed_out: facts.timeouts > 0,
                            success_s: facts.worker.success_s,
                        },
                    )
                }),
            )
        } else {
            None
        };
        let at_capacity = if self.deadline_behind_retries.is_empty() && hung_calls.is_none() {
            deadline_cause::at_capacity(
                &self.expiry_paths,
                self.deadline_in_flow,
                span_s,
                graph,
                |node| self.node_capacity(node, span_s),
            )
        } else {
            None
        };
        let traces_by_pod = self.traces_by_pod_tenant();
        // Expiries confined to one pod: that runtime's capacity, whatever its tenants' budgets.
        let in_one_pod = match &waited_at {
            Some(node)
                if hung_calls.is_none()
                    && at_capacity.is_none()
                    && self.expired_without_pod == 0
                    && self.deadline_behind_retries.is_empty() =>
            {
                let facts = self.nodes.get(node.as_str());
                deadline_cause::in_one_pod(
                    &self.expired_by_pod,
                    &traces_by_pod,
                    node,
                    |pod| {
                        facts?
                            .pod_work
                            .iter()
                            .find(|(p, _)| &**p == pod)
                            .map(|(_, work)| work.clone())
                    },
                    &self.expired,
                    span_s,
                    graph,
                    |node| self.nodes.get(node)?.unblocked_latency.percentile(50.0),
                )
                .filter(PodExpiry::for_every_tenant)
            }
            _ => None,
        };
        let pod_messages = self.pod_messages_by_name();
        let facts = Facts {
            categories: &self.categories,
            groups: &self.node_groups(),
            nodes: &self.nodes,
            exceptions: &exceptions,
            traces: self.traces,
            e2e_ms: &e2e_ms,
            deadline_late_ms: &self.deadline_late_ms,
            worker_stops: self.worker_stops,
            deadline_stale: self.deadline_stale,
            deadline_in_flow: self.deadline_in_flow,
            deadline_in_flow_by_tenant: &self.deadline_in_flow_by_tenant,
            deadline_in_retries: &self.deadline_in_retries,
            deadline_behind_retries: &self.deadline_behind_retries,
            at_capacity: at_capacity.as_ref(),
            hung_calls: hung_calls.as_ref(),
            in_one_pod: in_one_pod.as_ref(),
            traces_by_pod: &traces_by_pod,
            expired_by_pod: &self.expired_by_pod,
            tenants_seen: self.tenants_seen.names().len(),
            tenant_traces: &self.tenant_traces,
            cancels: &self.cancels,
            pod_messages: &pod_messages,
            in_flight: statuses.get("in_flight").copied().unwrap_or(0),
            span: self.oldest.zip(self.newest),
        };
        let remediation = remediate(&facts);
        let given_up = one_tenant_gives_up(&facts).map(|(give_up, _)| give_up);
        let own_work_p50_ms = self
            .nodes
            .iter()
            .filter_map(|(node, facts)| {
                Some((node.to_string(), facts.unblocked_latency.percentile(50.0)?))
            })
            .collect();
        ClassifyReport {
            given_up,
            own_work_p50_ms,
            retries: Retries {
                events: self.retries,
                rate: (self.successes > 0).then(|| self.retries as f64 / self.successes as f64),
                successes: self.successes,
                at: {
                    let mut at: Vec<(String, u64, u64)> = self
                        .node_groups()
                        .into_iter()
                        .filter(|g| g.retry > 0)
                        .map(|g| (g.key, g.retry, g.successes))
                        .collect();
                    at.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    at
                },
            },
            traces: self.traces,
            statuses,
            by: self.by,
            then_by: self.then_by,
            bucket_s: self.by.bucket_seconds(),
            groups,
            exceptions,
            remediation,
            deadlines: DeadlineSplit {
                stale_at_first_node: self.deadline_stale,
                expired_in_flow: self.deadline_in_flow,
                spent_in_retries: self.deadline_in_retries.values().sum::<u64>()
                    + self.deadline_behind_retries.values().sum::<u64>(),
                at_capacity,
                hung_calls,
                in_one_pod,
            },
            categories: self.categories,
        }
    }

    /// What is known of a node's capacity over `span_s` seconds (`deadline_cause`).
    fn node_capacity(&self, node: &str, span_s: f64) -> Option<NodeCapacity> {
        let facts = self.nodes.get(node)?;
        let instances = facts.instances.len().max(1) as u64;
        let own_busy_s = (facts.worker.busy_s() - facts.blocked_success_s).max(0.0);
        Some(NodeCapacity {
            own_busy_share: if span_s > 0.0 {
                own_busy_s / (span_s * instances as f64)
            } else {
                0.0
            },
            q_depth_in_max: facts.q_depth_in_max,
            queue_maxsize: facts.queue_maxsize,
            own_p50_ms: facts.unblocked_latency.percentile(50.0),
            instances,
            tenants: facts.tenant_messages.clone(),
            successes: facts.success_latency.count(),
            success_s: facts.worker.success_s,
            success_p50_ms: facts.success_latency.percentile(50.0),
        })
    }

    /// Groups sorted by terminal failures then events (or by time, filling empty buckets).
    fn ordered_groups(&self) -> Vec<Group> {
        let counted = self.counted_groups();
        let mut groups: Vec<Group> = counted.values().cloned().collect();
        if self.then_by.is_some() {
            for group in &mut groups {
                if let Some((first, second)) = group.key.split_once(KEY_SEPARATOR) {
                    group.key2 = Some(second.to_string());
                    group.key = first.to_string();
                }
            }
        }
        if let (Some(width), Some(oldest), Some(newest), None) = (
            self.by.bucket_micros(),
            self.oldest,
            self.newest,
            self.then_by,
        ) {
            let first = oldest.0.div_euclid(width);
            let last = newest.0.div_euclid(width);
            if last - first >= MAX_DENSE_BUCKETS {
                // A span this long (a stray timestamp from 1970, say) would be millions of
                // empty buckets: list only the buckets that have events.
                groups.sort_by(|a, b| a.key.cmp(&b.key));
                return groups;
            }
            let mut dense = Vec::new();
            for bucket in first..=last {
                let key = Timestamp(bucket * width).to_rfc3339();
                dense.push(counted.get(&key).cloned().unwrap_or(Group {
                    key,
                    ..Group::default()
                }));
            }
            return dense;
        }
        groups.retain(|g| g.failures() + g.retry + g.terminal > 0);
        groups.sort_by(|a, b| {
            b.terminal
                .cmp(&a.terminal)
                .then(b.failures().cmp(&a.failures()))
                .then(b.retry.cmp(&a.retry))
                .then(a.key.cmp(&b.key))
                .then(a.key2.cmp(&b.key2))
        });
        groups
    }

    /// Per-node groups for the remediation, whatever the grouping shown.
    fn node_groups(&self) -> Vec<Group> {
        if self.by == GroupBy::Node && self.then_by.is_none() {
            return self.counted_groups().values().cloned().collect();
        }
        self.node_groups.values().cloned().collect()
    }
}

/// The name `event` is grouped under by `by`, when that grouping is a name it has.
fn group_name(by: GroupBy, event: &Event) -> Option<&Name> {
    match by {
        GroupBy::Node => event.node_name.as_ref(),
        GroupBy::Tenant => event.tenant.as_ref(),
        GroupBy::Pod => event.pod.as_ref(),
        GroupBy::Kind | GroupBy::Second | GroupBy::Minute | GroupBy::Hour => None,
    }
}

/// The value of one grouping dimension for `event`.
fn key_of(by: GroupBy, event: &Event) -> Cow<'_, str> {
    match by {
        GroupBy::Node => Cow::Borrowed(event.node_name.as_deref().unwrap_or("(none)")),
        GroupBy::Tenant => Cow::Borrowed(event.tenant.as_deref().unwrap_or(UNKNOWN_TENANT)),
        GroupBy::Kind => Cow::Borrowed(event.kind.as_str()),
        GroupBy::Pod => Cow::Borrowed(event.pod.as_deref().unwrap_or("(none)")),
        GroupBy::Second | GroupBy::Minute | GroupBy::Hour => {
            let width = by.bucket_micros().unwrap_or(1);
            Cow::Owned(Timestamp(event.ts.0.div_euclid(width) * width).to_rfc3339())
        }
    }
}

/// Counts `event` into the group `key` of `groups`.
fn tally(
    groups: &mut FastMap<String, Group>,
    key: &str,
    event: &Event,
    category: Option<Category>,
    terminal: bool,
) {
    let group = match groups.get_mut(key) {
        Some(group) => group,
        None => groups.entry(key.to_string()).or_insert_with(|| Group {
            key: key.to_string(),
            ..Group::default()
        }),
    };
    count(group, event, category, terminal);
}

/// Adds `group`'s counts to the group of its key in `groups` (made if missing).
fn add_group(groups: &mut FastMap<String, Group>, group: Group) {
    let Some(known) = groups.get_mut(&group.key) else {
        groups.insert(group.key.clone(), group);
        return;
    };
    // Every count by name: a field added to `Group` must be added here too.
    let Group {
        key: _,
        key2: _,
        timeout,
        error,
        cancel,
        deadline,
        retry,
        terminal,
        successes,
    } = group;
    known.timeout += timeout;
    known.error += error;
    known.cancel += cancel;
    known.deadline += deadline;
    known.retry += retry;
    known.terminal += terminal;
    known.successes += successes;
}

/// Counts `event` in `group`.
fn count(group: &mut Group, event: &Event, category: Option<Category>, terminal: bool) {
    match (category, terminal) {
        (Some(Category::Timeout), false) => group.timeout += 1,
        (Some(Category::Error), false) => group.error += 1,
        (Some(Category::Cancel), false) => group.cancel += 1,
        (Some(Category::Deadline), false) => group.deadline += 1,
        _ => {}
    }
    if terminal
        || matches!(
            event.kind,
            Kind::DeadlineSkip | Kind::TraceCancelDrop | Kind::NodeTraceCancelled
        )
    {
        group.terminal += 1;
    }
    match event.kind {
        Kind::NodeRetry => group.retry += 1,
        Kind::NodeSuccess => group.successes += 1,
        _ => {}
    }
}

/// What the checklist is built from.
struct Facts<'a> {
    categories: &'a Categories,
    groups: &'a [Group],
    nodes: &'a NameSlots<NodeFacts>,
    exceptions: &'a [ExceptionReport],
    traces: u64,
    e2e_ms: &'a Percentiles,
    deadline_late_ms: &'a Percentiles,
    worker_stops: u64,
    deadline_stale: u64,
    deadline_in_flow: u64,
    deadline_in_flow_by_tenant: &'a BTreeMap<String, u64>,
    deadline_in_retries: &'a BTreeMap<String, u64>,
    deadline_behind_retries: &'a BTreeMap<String, u64>,
    /// The node at capacity whose traffic the in-flow expiries are.
    at_capacity: Option<&'a CapacityExpiry>,
    /// The node whose hung calls the in-flow expiries are.
    hung_calls: Option<&'a HungCalls>,
    /// The pod the in-flow expiries are confined to.
    in_one_pod: Option<&'a PodExpiry>,
    /// Traces, and traces that expired in the flow, per (pod, tenant).
    traces_by_pod: &'a BTreeMap<(String, String), u64>,
    expired_by_pod: &'a BTreeMap<(String, String), u64>,
    tenants_seen: usize,
    /// Traces per tenant: the base a tenant's failing messages are measured against.
    tenant_traces: &'a BTreeMap<String, u64>,
    cancels: &'a CancelFacts,
    /// First attempts per (node, pod) and tenant.
    pod_messages: &'a PodMessages,
    /// Traces still in flight at the end of the input.
    in_flight: u64,
    /// The input's first and last event times.
    span: Option<(Timestamp, Timestamp)>,
}

/// What tells a caller's give-up from the flow's own: whose traces were cancelled, how long
/// they had been in the flow, and how long the traces that were not cancelled took.
#[derive(Debug, Default)]
struct CancelFacts {
    by_tenant: BTreeMap<String, u64>,
    /// From a cancelled trace's first event to its last (the cancel).
    age_ms: Percentiles,
    youngest_ms: Option<f64>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// The longest a succeeded trace took, per tenant.
    slowest_finished_ms: BTreeMap<String, f64>,
}

impl CancelFacts {
    fn cancelled(&mut self, summary: &crate::analysis::trace::TraceSummary, tenant: &str) {
        if self.by_tenant.len() < MAX_TENANTS_COUNTED || self.by_tenant.contains_key(tenant) {
            *self.by_tenant.entry(tenant.to_string()).or_default() += 1;
        }
        let age = summary.duration_ms();
        self.age_ms.add(age);
        self.youngest_ms = Some(self.youngest_ms.map_or(age, |y| y.min(age)));
        let at = summary.last_ts;
        self.first = Some(self.first.map_or(at, |first| first.min(at)));
        self.last = Some(self.last.map_or(at, |last| last.max(at)));
    }

    fn finished(&mut self, summary: &crate::analysis::trace::TraceSummary, tenant: &str) {
        let took = summary.duration_ms();
        let room = self.slowest_finished_ms.len() < MAX_TENANTS_COUNTED;
        match self.slowest_finished_ms.get_mut(tenant) {
            Some(slowest) => *slowest = slowest.max(took),
            None if room => {
                self.slowest_finished_ms.insert(tenant.to_string(), took);
            }
            None => {}
        }
    }
}

/// First attempts each node took, per pod and tenant: (node, pod, tenant, count), each
/// triple once.
type PodMessages = Vec<(String, String, String, u64)>;

/// The tenant id of a tenant-less event in `Classifier::pod_messages`.
const NO_TENANT: u32 = u32::MAX;

/// What one exception text says: its type and one-line message, and what it reads like.
#[derive(Debug)]
struct ExceptionReading {
    summary: ExceptionSummary,
    reads_like: Option<ReadsLike>,
}

/// Exception texts read so far, each read once: a failing dependency repeats the same few
/// texts on every failure, and reading one (its last line split, three word searches over
/// its lowercased text) cost thousands of instructions an event. Bounded in texts and
/// bytes; past either, a text is read each time it comes.
#[derive(Debug, Default)]
struct ExceptionReadings {
    by_text: FastMap<Box<str>, Arc<ExceptionReading>>,
    bytes: usize,
}

/// Texts and their bytes kept in `ExceptionReadings`, at most.
const MAX_EXCEPTION_READINGS: usize = 4096;
const MAX_EXCEPTION_READING_BYTES: usize = 1 << 20;

impl ExceptionReadings {
    fn read(&mut self, text: &str) -> Arc<ExceptionReading> {
        if let Some(reading) = self.by_text.get(text) {
            return Arc::clone(reading);
        }
        let reading = Arc::new(ExceptionReading {
            summary: summarize_exception(text),
            reads_like: ReadsLike::of(text),
        });
        if self.by_text.len() < MAX_EXCEPTION_READINGS
            && self.bytes + text.len() <= MAX_EXCEPTION_READING_BYTES
        {
            self.bytes += text.len();
            self.by_text.insert(text.into(), Arc::clone(&reading));
        }
        reading
    }
}

/// (pod, tenant) pairs counted apart, at most.
const MAX_POD_TENANTS: usize = 1024;

/// Tenants counted apart for deadline expiries, at most.
const MAX_TENANTS_COUNTED: usize = 1024;

/// First-node deadline skips kept to judge at the end, at most (the rest count as in the flow).
const MAX_FIRST_SKIPS: usize = 100_000;

/// Failing messages followed at most, awaiting their recovery or terminal failure.
const MAX_FAILING: usize = 100_000;

/// The tenant these failures are, by the shared rule (`tenant_share::failures_of_one_tenant`).
fn dominant_tenant<'a>(
    counts: &'a BTreeMap<String, u64>,
    tenants_seen: usize,
    traffic: &BTreeMap<String, u64>,
) -> Option<(&'a str, u64, u64)> {
    tenant_share::failures_of_one_tenant(counts, tenants_seen, traffic)
}

/// What each pod's nodes that raised `exception` took, per (pod, tenant): the base its
/// failures are measured against (`tenant_share::failures_of_one_pod`).
fn pod_traffic(facts: &Facts, exception: &ExceptionReport) -> BTreeMap<(String, String), u64> {
    facts
        .pod_messages
        .iter()
        .filter(|(node, ..)| exception.nodes.iter().any(|n| n == node))
        .fold(BTreeMap::new(), |mut sum, (_, pod, tenant, count)| {
            *sum.entry((pod.clone(), tenant.clone())).or_default() += count;
            sum
        })
}

/// Said when the expired traces still had most of their budget when the flow first logged
/// them: the budget is not what ran short (`path`: the nodes whose own work is compared).
fn budget_not_short(left_ms: Option<f64>, path_work_ms: f64, path: &str) -> String {
    match left_ms {
        Some(left) if path_work_ms > 0.0 => format!(
            " Their budget is not what is short: they still had p50 {} ms of it at their first event (the wait before the first node is not logged), against ~{} ms of their path's own work ({path}).",
            millis(left),
            millis(path_work_ms),
        ),
        _ => String::new(),
    }
}

// `Classifier::statuses` is indexed by a status's discriminant: `ALL` lists them in order.
const _: () = {
    let mut index = 0;
    while index < TraceStatus::ALL.len() {
        assert!(TraceStatus::ALL[index] as usize == index);
        index += 1;
    }
};

/// Adds one to `tenant`'s count, past `MAX_TENANTS_COUNTED` tenants only to those counted.
fn count_bounded(counts: &mut BTreeMap<String, u64>, tenant: &str) {
    let room = counts.len() < MAX_TENANTS_COUNTED;
    match counts.get_mut(tenant) {
        Some(count) => *count += 1,
        None if room => {
            counts.insert(tenant.to_string(), 1);
        }
        None => {}
    }
}

/// The checklist line for failures confined to one pod that fails for every tenant it serves.
fn pod_advice(pod: &tenant_share::PodFailures) -> String {
    let tenants: Vec<String> = pod
        .tenants
        .iter()
        .map(|(tenant, failed, taken)| format!("{tenant} {failed} of {taken}"))
        .collect();
    format!(
        "{} of {} in pod {}, which fails for every tenant it serves ({}), while its {} had none: a fault of that pod (its host, a sidecar, its config or network), not of a tenant; drain or restart {} (`flowtrace classify --pod {}` shows it alone)",
        pod.failures,
        pod.total,
        pod.pod,
        tenants.join(", "),
        if pod.other_pods == 1 {
            "other pod".to_string()
        } else {
            format!("{} other pods", pod.other_pods)
        },
        pod.pod,
        pod.pod,
    )
}

/// The nodes with most `category` events, at most three, most first.
fn top_nodes(groups: &[Group], category: Category) -> Vec<&Group> {
    let mut nodes: Vec<&Group> = groups.iter().filter(|g| g.count(category) > 0).collect();
    nodes.sort_by(|a, b| {
        b.count(category)
            .cmp(&a.count(category))
            .then(a.key.cmp(&b.key))
    });
    nodes.truncate(3);
    nodes
}

fn clock(ts: Option<Timestamp>) -> String {
    ts.map_or("?".into(), |ts| {
        ts.to_datetime().format("%H:%M:%S").to_string()
    })
}

impl NodeFacts {
    /// Most of its timeouts came with its outbound queue full: it timed out in a blocked
    /// `ctx.emit`, not on a dependency ([`backpressure_timeouts`]).
    fn timed_out_handing_over(&self) -> bool {
        self.timeouts_outbound_full * 2 > self.timeouts
    }
}

/// Said when the messages a node's retries saved mostly needed its last attempt seen, more of
/// them than the attempt before (independent failures thin out attempt by attempt; a pile-up
/// at the top is a dependency failing a set number of times, against a limit that may be
/// right there). The limit is known only from a `node_failed`; otherwise it is asked.
fn no_retry_to_spare(node: &NodeFacts, name: &str) -> Option<String> {
    let (&top, &at_top) = node.retried_successes.last_key_value()?;
    let saved: u64 = node.retried_successes.values().sum();
    let below = node.retried_successes.get(&(top - 1)).copied().unwrap_or(0);
    let piled_up =
        at_top >= MIN_AT_LAST_ATTEMPT && at_top * 2 >= saved && (top == 1 || at_top >= below);
    if !piled_up {
        return None;
    }
    let spread = (1..=top)
        .map(|attempt| {
            let count = node.retried_successes.get(&attempt).copied().unwrap_or(0);
            format!("attempt {attempt}: {count}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let limit = match node.failed_attempt {
        Some(limit) if limit == top => {
            format!("its max_retries is {top} (its node_failed events came at attempt {top}), so")
        }
        _ => format!("if {name}'s NodePolicy.max_retries is {top},"),
    };
    Some(format!(
        ". No headroom: {at_top} of the {saved} saved messages succeeded only on attempt {top}, the last any message reached there ({spread}); {limit} they had no retry to spare: one more failed attempt each and those {at_top} fail. Raise max_retries while the dependency is fixed"
    ))
}

/// Saved messages at the last attempt below which the headroom note is noise.
const MIN_AT_LAST_ATTEMPT: u64 = 5;
/// Messages that failed every attempt, none saved, before a dependency is called down.
const MIN_MESSAGES_DOWN: u64 = 5;

/// What to do about the backoff of a retry storm whose `retries` slept `slept_s` in all:
/// retries that already sleep between attempts need more backoff, not backoff.
pub fn backoff_advice(slept_s: f64, retries: u64) -> String {
    if slept_s > 0.0 && retries > 0 {
        format!(
            "back off longer (its retries already wait {} ms each on average, NodePolicy.backoff_base and backoff_mult)",
            millis(1000.0 * slept_s / retries as f64)
        )
    } else {
        "add backoff".to_string()
    }
}
/// An exception none of whose occurrences came in this much of the input's end is said over.
const OVER_MIN_MICROS: i64 = 10_000_000;

fn remediate(facts: &Facts) -> Vec<Remediation> {
    let mut sections: Vec<(u64, Remediation)> = Vec::new();
    let categories = facts.categories;
    for category in Category::ALL {
        if !categories.occurred(category) {
            continue;
        }
        let report = categories.get(category);
        let steps = match category {
            Category::Timeout => timeout_steps(facts),
            Category::Error => error_steps(facts),
            Category::Cancel => cancel_steps(facts, report),
            Category::Deadline => deadline_steps(facts, report),
        };
        if !steps.is_empty() {
            sections.push((
                report.traces.max(report.terminal),
                Remediation {
                    category: category.as_str().to_string(),
                    steps,
                },
            ));
        }
    }
    let mut storming: Vec<&Group> = facts
        .groups
        .iter()
        .filter(|g| g.successes > 0 && g.retry as f64 / g.successes as f64 > RETRY_STORM_RATE)
        .collect();
    // Most retries first, then by node: the groups come in a hash map's order, which changes
    // from run to run.
    storming.sort_by(|a, b| b.retry.cmp(&a.retry).then_with(|| a.key.cmp(&b.key)));
    let storms: Vec<String> = storming
        .into_iter()
        .map(|g| {
            // What the retried attempts raised at this node: retrying rejected credentials or a
            // spent quota cannot succeed, and is not load on a dependency.
            let at_node = facts
                .exceptions
                .iter()
                .filter(|e| e.nodes.contains(&g.key));
            let (raised, auth, quota, recovered, terminal) =
                at_node.fold((0, 0, 0, 0, 0), |(r, a, q, rec, t), e| {
                    (
                        r + e.count,
                        a + e.auth_like,
                        q + e.quota_like,
                        rec + e.recovered,
                        t + e.terminal,
                    )
                });
            // Timed-out attempts are left out: a retry reruns the handler after a timeout cut
            // it anywhere (a ctx.emit fan-out emits its messages again). Saved: more messages
            // that failed there then succeeded than failed for good, and nothing else (a
            // deadline skip, a cancel) ended one there.
            let saved_by_retries =
                recovered > terminal && g.terminal == terminal && g.timeout == 0;
            let why = if saved_by_retries && auth * 2 <= raised {
                // Retries that save the messages, with none ending here for good (no failure,
                // no deadline skip), are the fix in place, not the storm's cause: turning them
                // off fails every message they save.
                let headroom = facts
                    .nodes
                    .get(g.key.as_str())
                    .and_then(|node| no_retry_to_spare(node, &g.key))
                    .unwrap_or_default();
                let ended = match terminal {
                    0 => "none".to_string(),
                    terminal => format!("only {terminal}"),
                };
                format!(
                    "{recovered} messages that failed there then succeeded on a retry, and {ended} ended there for good: the retries are what keeps it working; keep them with backoff (turning them off, NodePolicy.max_retries=0, would fail those {recovered}) and fix what they cover (see the error step){headroom}"
                )
            } else if raised > 0 && auth * 2 > raised {
                format!(
                    "{auth} of the {raised} failed attempts there read like rejected credentials, which no retry can fix: set NodePolicy.max_retries=0 for them and fix the credentials (see the error step)"
                )
            } else if raised > 0 && quota * 2 > raised {
                format!(
                    "{quota} of the {raised} failed attempts there read like a spent quota or rate limit: retrying at once spends more of it; back off longer or lower NodePolicy.max_retries"
                )
            } else if let Some(node) = facts.nodes.get(g.key.as_str())
                && g.terminal > 0
                // A pod failing for every tenant it serves is the cause, not a tenant.
                && !facts
                    .exceptions
                    .iter()
                    .filter(|e| e.nodes.contains(&g.key))
                    .any(|e| {
                        let traffic = pod_traffic(facts, e);
                        tenant_share::failures_of_one_pod(&e.pods, &traffic)
                            .is_some_and(|pod| pod.fails_for_every_tenant())
                    })
                && let Some((tenant, count, total)) = dominant_tenant(
                    &node.retries_by_tenant,
                    facts.tenants_seen,
                    facts.tenant_traces,
                )
                && node.recovered_by_tenant.get(tenant).copied().unwrap_or(0) == 0
            {
                // One tenant's requests that fail every attempt: their retries save nothing,
                // while the other tenants' may be what saves theirs.
                let others_saved: u64 = node.recovered_by_tenant.values().sum();
                let others = if others_saved > 0 {
                    format!(
                        "; the other tenants' {} that failed there succeeded on a retry, which turning retries off (max_retries=0) would fail",
                        plural(others_saved, "message")
                    )
                } else {
                    String::new()
                };
                format!(
                    "{count} of the {total} retries there are tenant {tenant}'s, and none of its messages that failed there succeeded on a retry: retrying them cannot help; stop retrying {tenant}'s requests (gate {tenant}, see the error step) rather than every tenant's{others}"
                )
            } else if let Some(node) = facts
                .nodes
                .get(g.key.as_str())
                .filter(|node| node.timed_out_handing_over() && g.timeout * 2 > g.retry)
            {
                // No dependency to pile onto: the retried attempts timed out in a blocked
                // ctx.emit, and each retry emits its output again.
                format!(
                    "{} of its {} attempts that timed out had its outbound queue full: each retry reruns a handler that was waiting to hand its output over and emits it again downstream (see the timeout step); set NodePolicy.max_retries=0 at {} until the node it feeds is relieved",
                    node.timeouts_outbound_full, node.timeouts, g.key
                )
            } else {
                let backoff = backoff_advice(
                    facts.nodes.get(g.key.as_str()).map_or(0.0, |n| n.worker.backoff_s),
                    g.retry,
                );
                format!(
                    "disable retries temporarily (NodePolicy.max_retries=0) or {backoff} so retries stop piling onto the dependency"
                )
            };
            format!(
                "Retry storm at {}: {} for {} (rate {:.2}): {why}.",
                g.key,
                plural(g.retry, "retry"),
                plural(g.successes, "success"),
                g.retry as f64 / g.successes as f64
            )
        })
        .collect();
    if !storms.is_empty() {
        sections.push((
            storms.len() as u64,
            Remediation {
                category: "retry".into(),
                steps: storms,
            },
        ));
    }
    // Most traces affected first.
    sections.sort_by_key(|section| std::cmp::Reverse(section.0));
    sections
        .into_iter()
        .map(|(_, remediation)| remediation)
        .collect()
}

/// Timeouts of a node whose outbound queue was full at most of them: PenguiFlow's
/// `timeout_s` wraps the whole handler, so a `ctx.emit` blocked on a full queue times out.
/// Shared with saturation's checklist.
pub(crate) fn backpressure_timeouts(node: &str, outbound_full: u64, timeouts: u64) -> String {
    format!(
        "its outbound queue was full at {outbound_full} of the {timeouts} timeouts: it timed out waiting to hand its output over (NodePolicy.timeout_s covers the whole handler, a ctx.emit blocked on a full queue included), not on a dependency, and each retry reruns the handler and emits again, adding load downstream; relieve the node it feeds (`flowtrace saturation` names the bottleneck) and give {node} no timeout_s (or one above that wait) or max_retries=0; lowering its timeout would only make more retries"
    )
}

fn timeout_steps(facts: &Facts) -> Vec<String> {
    let mut steps = Vec::new();
    for group in top_nodes(facts.groups, Category::Timeout) {
        let node = &group.key;
        let Some(node_facts) = facts.nodes.get(node.as_str()) else {
            continue;
        };
        let cut = node_facts.timeout_latency_max;
        // NodePolicy.timeout_s covers the handler (a ctx.emit in it too), never the wait in its
        // inbound queue: compare it with the node's own work, its successes that did not wait
        // to hand their output over.
        let p95 = node_facts.unblocked_latency.percentile(95.0);
        // A steady rise that crossed the timeout: the p95 of its successes is capped by the
        // cut (no success takes longer), the rise is the evidence.
        let trend = node_facts
            .curve
            .trend()
            .filter(|trend| trend.crossed_timeout());
        let latency = match (&trend, p95) {
            (Some(trend), _) => format!(
                "its own work rose steadily until its calls crossed the timeout: {}{}",
                crate::render::trend::trend_summary(trend),
                p95.map_or(String::new(), |p95| format!(
                    " (the p95 of its successes, {} ms, is capped by the timeout: no success can take longer; `flowtrace saturation` shows the rise step by step)",
                    millis(p95)
                ))
            ),
            (None, Some(p95)) => format!(
                "its own work takes p95 {} ms (successes that did not wait on a full queue)",
                millis(p95)
            ),
            (None, None) => "no unblocked success to compare".to_string(),
        };
        let inbound = match node_facts.queue_maxsize.filter(|c| *c > 0) {
            Some(capacity) if node_facts.timeouts_inbound_full > 0 => format!(
                "; its inbound queue was full ({capacity}) at {} of them: the consequence, as timeouts and backoff hold its one worker, not the cause",
                node_facts.timeouts_inbound_full
            ),
            _ => String::new(),
        };
        let tenant = dominant_tenant(
            &node_facts.timeout_tenants,
            facts.tenants_seen,
            &node_facts.tenant_messages,
        );
        let tenant_text = tenant.map_or(String::new(), |(tenant, count, total)| {
            format!("; {count} of the {total} messages that timed out are tenant {tenant}'s")
        });
        let advice = if node_facts.timed_out_handing_over() {
            backpressure_timeouts(node, node_facts.timeouts_outbound_full, node_facts.timeouts)
        } else if let Some((tenant, _, _)) = tenant {
            format!(
                "the dependency degrades for tenant {tenant} (its backend, quota or payloads): gate or rate-limit {tenant}, break the circuit to that dependency, lower max_retries so its retries stop holding the worker"
            )
        } else if let Some(trend) = &trend {
            crate::analysis::saturation::trend_timeout_advice(node, trend)
                .trim_end_matches('.')
                .to_string()
        } else if p95.is_some_and(|p95| cut > 0.0 && p95 >= cut * 0.8) {
            "the timeout is tight for its normal work: raise NodePolicy.timeout_s with room above that p95 (no success can take longer than the timeout, so its real tail is longer) or make the dependency faster".to_string()
        } else {
            // The limit is known from the node_failed events' attempt: 1 leaves only 0 below
            // it, and 0 is no retry at all.
            let retries = match node_facts.failed_attempt {
                Some(0) => "; it does not retry (max_retries 0)".to_string(),
                Some(1) => ", and set max_retries to 0 (it is 1: each message's one retry holds the worker for another timeout)".to_string(),
                _ => ", and lower max_retries so retries stop holding the worker".to_string(),
            };
            format!(
                "its dependency is slow or hanging, well past its normal work: check the dependency's health and latency, break the circuit to it{retries}"
            )
        };
        steps.push(format!(
            "{node}: {} (attempts cut at ~{} ms){tenant_text}; {latency}{inbound}: {advice}.",
            plural(group.timeout, "timeout"),
            millis(cut)
        ));
    }
    steps
}

fn error_steps(facts: &Facts) -> Vec<String> {
    let mut steps = Vec::new();
    for exception in facts
        .exceptions
        .iter()
        .filter(|e| e.type_name != "TimeoutError")
        .take(3)
    {
        let lower = exception.type_name.to_ascii_lowercase();
        let transient = ["connection", "unavailable", "oserror", "reset", "refused"]
            .iter()
            .any(|word| lower.contains(word));
        let pod_traffic = pod_traffic(facts, exception);
        let pod = tenant_share::failures_of_one_pod(&exception.pods, &pod_traffic);
        // A pod failing for every tenant it serves is the cause: no tenant is.
        let tenant = dominant_tenant(&exception.tenants, facts.tenants_seen, facts.tenant_traces)
            .filter(|_| !pod.as_ref().is_some_and(|pod| pod.fails_for_every_tenant()));
        let auth = exception.auth_like * 2 > exception.count;
        let quota = !auth && exception.quota_like * 2 > exception.count;
        let unavailable = !auth && !quota && exception.unavailable_like * 2 > exception.count;
        // httpx's ReadTimeout and the like: the handler's client gave up (the runtime's own
        // timeout, TimeoutError, is a node_timeout and left out above).
        let client_timeout = !auth && !quota && lower.contains("timeout");
        let recovered = exception.recovered;
        let advice = match (auth, tenant) {
            (false, None) if pod.as_ref().is_some_and(|pod| pod.fails_for_every_tenant()) => {
                pod.as_ref().map_or(String::new(), pod_advice)
            }
            (false, Some((tenant, count, total))) if quota => format!(
                "{count} of {total} from tenant {tenant}, and {} of {} attempts read like a quota or rate limit (429): tenant {tenant}'s quota or rate limit at the provider is spent; raise it or slow that tenant's traffic (gate or rate-limit it), and back off instead of retrying at once, which only spends more of it",
                exception.quota_like, exception.count
            ),
            (false, None) if quota => format!(
                "{} of {} attempts read like a quota or rate limit (429): the provider's quota or rate limit is spent; raise it or send less, and back off instead of retrying at once",
                exception.quota_like, exception.count
            ),
            (true, Some((tenant, _, _))) => format!(
                "an authentication failure for tenant {tenant} ({} of {} attempts read like rejected credentials): check and rotate {tenant}'s credentials or API key; the code is not at fault and retrying will not help",
                exception.auth_like, exception.count
            ),
            (true, None) => format!(
                "an authentication failure ({} of {} attempts read like rejected credentials): check the credentials or API key the node uses; retrying will not help",
                exception.auth_like, exception.count
            ),
            (false, tenant) if client_timeout => format!(
                "{}a timeout of the client inside the handler, logged as an error (NodePolicy.timeout_s did not fire, or the node would log node_timeout): the dependency it calls did not answer in the client's own time limit; check that dependency's latency{}, and keep retries with backoff",
                tenant.map_or(String::new(), |(tenant, count, total)| format!(
                    "{count} of {total} from tenant {tenant}: "
                )),
                tenant.map_or(String::new(), |(tenant, _, _)| format!(
                    " for tenant {tenant}'s requests"
                ))
            ),
            // Most of the tenant's failing messages then succeeded (and kept their budget):
            // its payloads and credentials are fine (they would fail every attempt); gating it,
            // or turning the retries off, fails what the retries save.
            (false, Some((tenant, count, total)))
                if exception.recovered_tenants.get(tenant).copied().unwrap_or(0) * 2 > count
                    && exception.recovered_then_expired == 0 =>
            {
                let saved = exception.recovered_tenants.get(tenant).copied().unwrap_or(0);
                let unavailable = if unavailable {
                    format!(
                        ", and {} of {} attempts read like the dependency saying it is overloaded or unavailable (HTTP 503 and the like)",
                        exception.unavailable_like, exception.count
                    )
                } else {
                    String::new()
                };
                let headroom = exception
                    .nodes
                    .iter()
                    .find_map(|name| no_retry_to_spare(facts.nodes.get(name.as_str())?, name))
                    .unwrap_or_default();
                format!(
                    "{count} of {total} from tenant {tenant}, {saved} of which then succeeded there on a retry{unavailable}: what {tenant}'s requests reach fails now and then (its shard, region or account at the dependency), not its payloads or credentials, which would fail every attempt; check that dependency for {tenant}'s requests and keep the retries with backoff: gating {tenant} or turning retries off would fail the {saved} they save{headroom}"
                )
            }
            (false, Some((tenant, count, total))) => format!(
                "{count} of {total} from tenant {tenant}: something about that tenant (its credentials, quota or payloads), not the code path every tenant takes; gate {tenant} while it is fixed"
            ),
            (false, None) if exception.recovered_then_expired > 0 => format!(
                "{recovered} of {} messages that raised it then succeeded there on a retry, but {} of those ran out of their deadline afterwards: the retries recover the call and spend the budget; fix what fails (a dependency, a race) rather than retrying more",
                exception.messages, exception.recovered_then_expired
            ),
            // Every message that raised it failed for good, none saved by a retry: down, not
            // flaky; its retries are load on it that saves nothing.
            (false, None)
                if unavailable
                    && recovered == 0
                    && exception.messages >= MIN_MESSAGES_DOWN
                    && exception.terminal >= exception.messages =>
            {
                format!(
                    "{} of {} attempts read like the dependency saying it is overloaded or unavailable (HTTP 503 and the like), and none of the {} messages that raised it succeeded on a retry ({} failed for good): the dependency is down, not flaky, and retries only add to its load; fail fast while it is down (a circuit breaker, or NodePolicy.max_retries=0), check its health, and shed or slow that traffic until it answers again",
                    exception.unavailable_like,
                    exception.count,
                    exception.messages,
                    exception.terminal
                )
            }
            (false, None) if unavailable => format!(
                "{} of {} attempts read like the dependency saying it is overloaded or unavailable (HTTP 503 and the like){}: not a defect of the code; check the dependency's health and capacity, keep retries with backoff (not at once, which adds to its load), and shed or slow traffic while it recovers",
                exception.unavailable_like,
                exception.count,
                if recovered > 0 {
                    format!(
                        ", and {recovered} of {} messages that raised it then succeeded on a retry",
                        exception.messages
                    )
                } else {
                    String::new()
                }
            ),
            (false, None) if recovered > 0 => format!(
                "{recovered} of {} messages that raised it then succeeded there on a retry: transient, so retries help; find what fails now and then (a dependency, a race) before raising max_retries",
                exception.messages
            ),
            (false, None) if transient => {
                "a failing dependency: check its health; keep retries with backoff".to_string()
            }
            (false, None) => "a deterministic failure: fix the code, validation or schema drift (did a deploy land then?); retrying will not help".to_string(),
        };
        // Over, for now: none in the input's last stretch (a quarter of it, 10 s at least).
        let when = match facts.span {
            Some((oldest, newest))
                if newest.0 - exception.last_ts.0 >= OVER_MIN_MICROS
                    && (newest.0 - exception.last_ts.0) * 4 >= newest.0 - oldest.0 =>
            {
                format!(
                    "from {} to {}, none in the last {} of the input",
                    clock(Some(exception.first_ts)),
                    clock(Some(exception.last_ts)),
                    crate::render::duration(newest.0 - exception.last_ts.0)
                )
            }
            _ => format!("since {}", clock(Some(exception.first_ts))),
        };
        steps.push(format!(
            "{} at {}, {} {when}: {advice}.",
            exception.type_name,
            exception.nodes.join(", "),
            plural(exception.count, "time"),
        ));
    }
    if steps.is_empty() {
        for group in top_nodes(facts.groups, Category::Error) {
            steps.push(format!(
                "{}: {}: read the exceptions in `flowtrace events --node {} --kind node_error`.",
                group.key,
                plural(group.error, "error"),
                group.key
            ));
        }
    }
    steps
}

fn cancel_steps(facts: &Facts, report: &CategoryReport) -> Vec<String> {
    let mut steps = Vec::new();
    if report.terminal > 0 {
        let share = format!(
            "{} of {} ({:.0}%) were cancelled (flow.cancel), the first at {}",
            report.terminal,
            plural(facts.traces, "trace"),
            100.0 * report.terminal as f64 / facts.traces.max(1) as f64,
            clock(report.first_ts)
        );
        steps.push(match one_tenant_gives_up(facts) {
            Some((_, step)) => format!("{share}: {step}."),
            None => format!(
                "{share}: look upstream, at callers' timeouts and budgets or users aborting, before changing the flow."
            ),
        });
    }
    if facts.worker_stops > 0 {
        let cut_off = if facts.in_flight > 0 {
            format!(
                "; {} still in flight at the end may have been cut off: check whether they were retried",
                plural(facts.in_flight, "trace")
            )
        } else {
            "; no trace was left in flight".to_string()
        };
        steps.push(format!(
            "{} stopped (node_cancelled, from flow.stop()): a shutdown or redeploy{cut_off}.",
            plural(facts.worker_stops, "node worker")
        ));
    }
    steps
}

/// One tenant's callers cancelling what the flow made slow: the cancels are that tenant's, at
/// most as long in the flow as the other tenants' traces that finished (so the flow was as
/// slow for them; only their callers waited). The slowness is the finding; the window says
/// where to look for it.
fn one_tenant_gives_up(facts: &Facts) -> Option<(GiveUp, String)> {
    let cancels = facts.cancels;
    let (tenant, count, total) =
        dominant_tenant(&cancels.by_tenant, facts.tenants_seen, facts.tenant_traces)?;
    let oldest = cancels.age_ms.max()?;
    let (others, others_slowest) = cancels
        .slowest_finished_ms
        .iter()
        .filter(|(other, _)| other.as_str() != tenant)
        .fold((0, 0.0_f64), |(n, slowest), (_, took)| {
            (n + 1, slowest.max(*took))
        });
    if others == 0 || others_slowest < oldest {
        return None;
    }
    let (first, last) = (cancels.first?, cancels.last?);
    let since = first.to_datetime().format("%Y-%m-%dT%H:%M:%SZ");
    let until = Timestamp(last.0 + 1_000_000)
        .to_datetime()
        .format("%Y-%m-%dT%H:%M:%SZ");
    let traces = facts.tenant_traces.get(tenant).copied().unwrap_or(0);
    let give_up = GiveUp {
        tenant: tenant.to_string(),
        first,
        last,
    };
    Some((
        give_up,
        format!(
            "{count} of the {total} cancelled traces are tenant {tenant}'s ({count} of its {traces}), cancelled {}-{} ms (p50 {} ms) after their first event, between {} and {}, while the other tenants' traces took up to {} ms and finished: {tenant}'s callers give up sooner (a client timeout near {} s), on requests the flow was slow to answer then; find what was slow (`flowtrace saturation --since {since} --until {until}`) and fix that; {tenant}'s timeout only decides who gives up first",
            millis(cancels.youngest_ms.unwrap_or(oldest)),
            millis(oldest),
            millis(cancels.age_ms.percentile(50.0).unwrap_or(oldest)),
            clock(Some(first)),
            clock(Some(last)),
            millis(others_slowest),
            format_args!("{:.1}", oldest / 1000.0),
        ),
    ))
}

fn deadline_steps(facts: &Facts, report: &CategoryReport) -> Vec<String> {
    let nodes: Vec<&str> = top_nodes(facts.groups, Category::Deadline)
        .iter()
        .map(|g| g.key.as_str())
        .collect();
    let late = facts
        .deadline_late_ms
        .percentile(50.0)
        .map_or(String::new(), |late| {
            format!(", p50 {} ms past their deadline", millis(late))
        });
    let e2e = facts
        .e2e_ms
        .percentile(95.0)
        .map_or("no trace succeeded to compare with".to_string(), |p95| {
            format!(
                "the flow's p95 end-to-end duration is {} ms (from the first node's first event: the wait in the first queue is not in it)",
                millis(p95)
            )
        });
    let mut steps = vec![format!(
        "{} skipped at {}{late}; {e2e}.",
        plural(report.events, "message"),
        if nodes.is_empty() {
            "?".to_string()
        } else {
            nodes.join(", ")
        }
    )];
    if facts.deadline_stale > 0 {
        steps.push(format!(
            "{}: the budget had already run out when the first node fetched the message, later than its queue could have held it (the skip is the trace's first event): stale client budgets; fix the callers' Message.deadline_s (clock skew, a budget computed too early, retried requests reusing an old deadline), not the flow.",
            plural(facts.deadline_stale, "trace")
        ));
    }
    for (node, traces) in facts.deadline_in_retries {
        steps.push(format!(
            "{}: the budget went into retries at {node} (its attempts and their backoff took at least half of the trace's logged time before the skip; the wait in the first queue is not logged): the retries do not finish inside the callers' budget; fix what fails at {node} (see the error and timeout findings), or lower its NodePolicy.max_retries and backoff so a message fails fast.",
            plural(*traces, "trace")
        ));
    }
    for (node, traces) in facts.deadline_behind_retries {
        let share = facts
            .nodes
            .get(node.as_str())
            .map_or(0.0, |facts| facts.worker.retrying_share());
        steps.push(format!(
            "{}: waited in {node}'s queue past the deadline while its worker spent {:.0}% of its busy time on failed attempts and retry backoff: other messages' retries spent this budget, not a lack of capacity; fix what fails at {node}, or lower its NodePolicy.max_retries and backoff (`flowtrace saturation` shows the worker time).",
            plural(*traces, "trace"),
            share * 100.0
        ));
    }
    // Traces a node's hung calls, a node at capacity or one pod explain are told apart: their
    // budget is not what is short.
    let mut by_tenant = facts.deadline_in_flow_by_tenant.clone();
    let mut explain = |explained: &BTreeMap<String, u64>| {
        for (tenant, count) in explained {
            if let Some(left) = by_tenant.get_mut(tenant) {
                *left = left.saturating_sub(*count);
            }
        }
    };
    let mut explained = 0;
    if let Some(hung) = facts.hung_calls {
        steps.extend(hung_call_steps(hung));
        explained += hung.traces;
        explain(&hung.by_tenant);
    }
    if let Some(at) = facts.at_capacity {
        steps.extend(capacity_steps(at));
        explained += at.traces;
        explain(&at.by_tenant);
    }
    if let Some(pod) = facts.in_one_pod {
        steps.extend(pod_steps(pod));
        explained += pod.traces;
        explain(
            &pod.tenants
                .iter()
                .map(|t| (t.tenant.clone(), t.expired))
                .collect(),
        );
    }
    by_tenant.retain(|_, count| *count > 0);
    let in_flow = facts.deadline_in_flow.saturating_sub(explained);
    if in_flow > 0 {
        steps.push(format!(
            "{}: the deadline expired inside the flow, waiting in a queue (the first node's included): the flow is slower than the callers' budget; cut the wait (see `flowtrace saturation`) or raise Message.deadline_s upstream.",
            plural(in_flow, "trace")
        ));
        // One tenant's budgets, when the others' messages got through the same queues: with
        // pods, the same queues are those of the pods the tenant ran in.
        if let Some((tenant, count, total)) =
            dominant_tenant(&by_tenant, facts.tenants_seen, facts.tenant_traces).filter(
                |(tenant, _, _)| {
                    !facts.expired_by_pod.keys().any(|(_, t)| t == tenant)
                        || tenant_share::stands_out_in_its_pods(
                            tenant,
                            facts.expired_by_pod,
                            facts.traces_by_pod,
                        )
                },
            )
        {
            steps.push(format!(
                "{count} of the {total} that expired in the flow are tenant {tenant}'s, while the other tenants' messages got through the same queues: {tenant}'s callers give a budget (Message.deadline_s) shorter than the flow takes; raise it for {tenant}, or make its requests cheaper (`flowtrace classify --by tenant,node` shows it)."
            ));
        }
    }
    steps
}

/// The checklist line for deadline skips that a node's rare hung calls explain: the calls and
/// the traces they caught, that the node has no timeout, and what to do.
pub fn hung_call_steps(hung: &HungCalls) -> Vec<String> {
    let node = &hung.node_name;
    let took = if hung.calls == 1 {
        format!("took {} ms", millis(hung.max_ms))
    } else {
        format!("took {}-{} ms", millis(hung.min_ms), millis(hung.max_ms))
    };
    let show = if hung.own > 0 {
        format!(
            "`flowtrace find {}` shows one: its budget went into {node}'s own {} ms attempt",
            hung.example_trace,
            millis(hung.example_ms)
        )
    } else {
        format!("`flowtrace saturation` shows {node}'s p50 against its max")
    };
    vec![format!(
        "{} of the {} that expired in the flow ran out while one of {node}'s hung calls ran: {} of its {} {took}, against its p50 of {} ms and the {} ms of budget the expired traces had left at their first event (p50); {} expired inside their own hung call, {} while one held {node}'s worker (waiting in its queue, or behind it upstream once that filled). {node} logged no node_timeout, so nothing cuts such a call short. Give {node} a NodePolicy.timeout_s well below the callers' budget (its normal calls take ~{} ms) and find what makes its calls hang (a lock, a stalled dependency); the callers' budget is not what is short, and raising Message.deadline_s would only hold more requests behind each hung call ({show}).",
        hung.traces,
        hung.expired_in_flow,
        hung.calls,
        plural(hung.successes, "success"),
        millis(hung.own_p50_ms),
        millis(hung.budget_left_p50_ms),
        hung.own,
        hung.behind,
        millis(hung.own_p50_ms),
    )]
}

/// "acme and stark", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The checklist lines for deadline skips confined to one pod: where they were, what made the
/// pod fall behind (its share of the traffic, its node's speed against the other pods'), and
/// what to do.
pub fn pod_steps(at: &PodExpiry) -> Vec<String> {
    use super::tenant_share::PodLoad;
    let pod = &at.pod;
    let node = &at.node_name;
    let tenants: Vec<String> = at
        .tenants
        .iter()
        .map(|t| format!("{} {} of {}", t.tenant, t.expired, t.traces))
        .collect();
    let serves = match at.tenants.as_slice() {
        [only] => format!("its only tenant, {} ({})", only.tenant, tenants.join(", ")),
        _ => format!("every tenant it serves ({})", tenants.join(", ")),
    };
    let others_expired: u64 = at.other_pods.iter().map(|p| p.expired).sum();
    let others: Vec<String> = at
        .other_pods
        .iter()
        .map(|p| {
            format!(
                "{} {} of {}{}",
                p.pod,
                p.expired,
                p.traces,
                if p.tenants.is_empty() {
                    String::new()
                } else {
                    format!(" for {}", and_list(&p.tenants))
                }
            )
        })
        .collect();
    let other_pods = if at.other_pods.len() == 1 {
        "other pod".to_string()
    } else {
        format!("{} other pods", at.other_pods.len())
    };
    let had = if others_expired == 0 {
        "had none".to_string()
    } else {
        format!("had {others_expired}")
    };
    let share = at.pod_traces as f64 * 100.0 / at.all_traces.max(1) as f64;
    let pods = at.other_pods.len() + 1;
    let work = match (at.own_p50_ms, at.others_own_p50_ms) {
        (Some(here), Some(there)) => format!(
            "p50 {} ms there, {} ms in the other pods",
            millis(here),
            millis(there)
        ),
        (Some(here), None) => format!("p50 {} ms there", millis(here)),
        _ => "not known".to_string(),
    };
    let load = match at.load {
        PodLoad::Imbalance => format!(
            "{pod} took {} of the {} traces ({share:.0}%) as one of {pods} pods, and {node}'s own work is as fast there as elsewhere ({work}): a load imbalance, not a slow pod: {pod}'s {node} was sent {:.1} messages/s{}, each other pod's {:.1}/s.",
            at.pod_traces,
            at.all_traces,
            at.rate_per_s,
            at.capacity_per_s.map_or(String::new(), |capacity| format!(
                " for the ~{capacity:.1}/s its one worker can do"
            )),
            at.others_rate_per_s,
        ),
        PodLoad::SlowPod => format!(
            "{node}'s own work is slower in {pod} ({work}), for {} of the {} traces ({share:.0}%) as one of {pods} pods: the pod, not its load.",
            at.pod_traces, at.all_traces,
        ),
        PodLoad::Capacity => format!(
            "{pod} took {} of the {} traces ({share:.0}%) as one of {pods} pods, and {node}'s own work is as fast there as elsewhere ({work}).",
            at.pod_traces, at.all_traces,
        ),
    };
    let budget = budget_not_short(at.budget_left_p50_ms, at.path_work_ms, &at.path.join(", "));
    let mut steps = vec![format!(
        "{} of the {} that expired in the flow ran in pod {pod}, for {serves}, while its {other_pods} {had} ({}): each pod is a runtime of its own, with its own queues, so the tenants of the other pods never waited in {pod}'s; the pod's capacity is the cause, not a tenant's budget. {load}{budget}",
        at.traces,
        at.expired_in_flow,
        others.join(", "),
    )];
    let compare = at.other_pods.first().map_or(String::new(), |other| {
        format!(
            "; `flowtrace saturation --pod {pod}` and `flowtrace saturation --pod {}` show {node}'s rate, own work and busy time in each",
            other.pod
        )
    });
    let evidence =
        format!("`flowtrace classify --by pod,tenant` shows the skips by pod and tenant{compare}");
    let pinned: Vec<String> = at.pinned().iter().map(|t| t.tenant.clone()).collect();
    steps.push(match (at.load, at.pinned().first()) {
        (PodLoad::Imbalance, Some(top)) => format!(
            "{} ran only in {pod} (pinned to it): rebalance, spreading {}'s traffic ({} of the pod's {} traces) over the pods or no longer pinning it to one; adding replicas does not help while the tenants stay pinned (a new pod gets none of their traffic), and raising Message.deadline_s only lets the messages wait longer ({evidence}).",
            and_list(&pinned),
            top.tenant,
            top.traces,
            at.pod_traces,
        ),
        (PodLoad::Imbalance, None) => format!(
            "Rebalance the traffic across the pods (whatever sends {pod} {share:.0}% of it: the ingress, session affinity, the load balancer); raising Message.deadline_s only lets the messages wait longer ({evidence})."
        ),
        (PodLoad::SlowPod, _) => format!(
            "Look at what differs in {pod} (its host, a noisy neighbour, a dependency its {node} reaches) and drain or replace it; raising Message.deadline_s only lets the messages wait longer ({evidence})."
        ),
        (PodLoad::Capacity, _) => format!(
            "Relieve {node} in {pod} (look at what reached it when the skips happened: a burst, a tenant's heavier requests) rather than raising Message.deadline_s, which only lets the messages wait longer ({evidence})."
        ),
    });
    steps
}

/// The checklist lines for deadline skips that one node at capacity explains: the cause with
/// its evidence, and what to do (relieve the node; a tenant's excess; a router ahead of it).
pub fn capacity_steps(at: &CapacityExpiry) -> Vec<String> {
    let node = &at.node_name;
    let shared = match at.shared_upstream.as_slice() {
        [] => String::new(),
        nodes => format!(
            ", though they waited in the same queues before it ({})",
            nodes.join(", ")
        ),
    };
    let full = match at.queue_maxsize.filter(|size| *size > 0) {
        Some(size) => format!(
            " and its inbound queue full at times ({} of {size})",
            at.q_depth_in_max
        ),
        None => String::new(),
    };
    let workers = if at.instances > 1 {
        format!("its {} workers were", at.instances)
    } else {
        "its worker was".to_string()
    };
    let rate = match (at.capacity_per_s, at.own_p50_ms) {
        (Some(capacity), Some(p50)) => format!(
            "; it took {:.1} messages/s over the span against the ~{:.1}/s its own work allows (p50 {} ms{})",
            at.rate_per_s,
            capacity,
            millis(p50),
            if at.instances > 1 {
                format!(", {} workers", at.instances)
            } else {
                String::new()
            }
        ),
        _ => String::new(),
    };
    let budget = budget_not_short(
        at.budget_left_p50_ms,
        at.path_work_ms,
        &format!(
            "{}, each node's p50 of successes that did not wait on a full queue",
            at.path.join(", ")
        ),
    );
    let mut steps = vec![format!(
        "{} of the {} that expired in the flow went through {node}, which only {} of the {} finished traces reached; {} of the other {} expired{shared}. {node} is at capacity: {workers} busy {:.0}% of the span with its own work{full}{rate}. The skips are the consequence of {node}'s capacity: messages bound for it expire waiting in the queues at and behind it.{budget} Relieve {node} (add replicas, make its handler or dependency faster, or send it less work; `flowtrace saturation` shows it) rather than raising Message.deadline_s, which only lets them wait longer.",
        at.traces,
        at.expired_in_flow,
        at.reached,
        at.reached + at.others,
        at.others_expired,
        at.others,
        at.own_busy_share.min(1.0) * 100.0,
    )];
    let tenant = at.tenant.as_ref().map(|t| {
        format!(
            "{node}'s traffic is tenant {}'s ({} of the {} messages it started): {} sends more than {node} can take; shed or rate-limit {}'s excess at the ingress (`flowtrace classify --by tenant,node` shows its skips)",
            t.tenant, t.messages, t.of, t.tenant, t.tenant
        )
    });
    let router = at.router.as_ref().map(|r| {
        format!(
            "{} hands each message to one branch, and its {} took {:.1} s in all ({:.0}% of the span) for p50 {} ms of work each: it waits to hand messages over, and while {node}'s queue is full it holds every message behind the one bound for {node}, whichever branch they take (head-of-line blocking); give {node} its own flow or queue so its backlog stops holding the other branches",
            r.node_name,
            plural(r.successes, "success"),
            r.success_s,
            r.waited_share * 100.0,
            millis(r.p50_ms),
        )
    });
    // Node names are identifiers: a line may start with one uncapitalized.
    match (tenant, router) {
        (Some(tenant), Some(router)) => steps.push(format!("{tenant}. {router}.")),
        (Some(one), None) | (None, Some(one)) => steps.push(format!("{one}.")),
        (None, None) => {}
    }
    steps
}

impl Analysis for Classifier {
    type Report = ClassifyReport;

    fn needs(&self) -> Needs {
        Needs::TraceStatuses
    }

    fn keeps_text(&self) -> bool {
        true
    }

    /// Its counting per event is a third of the pass thread's work: apart, the reading and
    /// trace book thread is no longer the one that every core waits for.
    fn runs_apart(&self) -> Apart {
        Apart::BeyondTwoCores
    }

    fn observe(&mut self, event: &Event, selected: bool) {
        if selected {
            Classifier::observe(self, event);
        }
    }

    fn trace_finished(&mut self, outcome: &TraceOutcome) {
        self.add_outcome(outcome);
    }

    fn finish(self, end: &PassEnd<'_>) -> ClassifyReport {
        self.finish_with_graph(end.graph)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_event;

    #[test]
    fn an_exception_text_read_again_reads_as_the_first_time() {
        let texts = [
            "ConnectionError('search-api.internal:8443 returned 503 Service Unavailable')",
            "PermissionError('upstream rejected api_key=***')",
            "RateLimitError('429 Too Many Requests: quota of tenant acme')",
            "ValueError('expected 503 items')",
            "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'user'",
            "no type here",
            "",
        ];
        let mut readings = ExceptionReadings::default();
        for _ in 0..3 {
            for text in texts {
                let reading = readings.read(text);
                assert_eq!(reading.summary, summarize_exception(text), "{text}");
                assert_eq!(reading.reads_like, ReadsLike::of(text), "{text}");
            }
        }
        assert_eq!(readings.by_text.len(), texts.len());
        assert_eq!(
            ReadsLike::of(texts[0]),
            Some(ReadsLike::Unavailable),
            "503 beside Service"
        );
        assert_eq!(
            ReadsLike::of(texts[1]),
            Some(ReadsLike::RejectedCredentials)
        );
        assert_eq!(ReadsLike::of(texts[2]), Some(ReadsLike::Quota));
        assert_eq!(
            ReadsLike::of(texts[3]),
            None,
            "a bare number is not a status"
        );
    }

    #[test]
    fn exception_texts_kept_are_bounded_and_the_rest_still_read() {
        let mut readings = ExceptionReadings::default();
        for index in 0..MAX_EXCEPTION_READINGS + 100 {
            let text = format!("TimeoutError('call {index} took too long')");
            let reading = readings.read(&text);
            assert_eq!(reading.summary.type_name.as_deref(), Some("TimeoutError"));
            assert_eq!(
                reading.summary.message,
                format!("call {index} took too long")
            );
        }
        assert_eq!(readings.by_text.len(), MAX_EXCEPTION_READINGS);
        let long = "x".repeat(MAX_EXCEPTION_READING_BYTES + 1);
        let mut readings = ExceptionReadings::default();
        readings.read(&long);
        assert!(readings.by_text.is_empty(), "past the bytes kept");
    }

    #[test]
    fn retry_storms_at_several_nodes_come_most_retries_first() {
        // The nodes' groups come in a hash map's order, which changes from run to run.
        let mut classifier = Classifier::new(GroupBy::Node, false);
        let mut ms = 0;
        for (node, retries) in [("alpha", 3), ("gamma", 9), ("beta", 6), ("delta", 6)] {
            for trace in 0..4 {
                let trace = format!("{node}-{trace}");
                for _ in 0..retries {
                    ms += 1;
                    classifier.observe(&test_event(ms, &trace, node, Kind::NodeRetry));
                }
                ms += 1;
                classifier.observe(&test_event(ms, &trace, node, Kind::NodeSuccess));
            }
        }
        let report = classifier.finish();
        let storms = report
            .remediation
            .iter()
            .find(|remediation| remediation.category == "retry")
            .expect("retry storms");
        let at: Vec<&str> = storms
            .steps
            .iter()
            .map(|step| {
                let node = step.strip_prefix("Retry storm at ").expect("a storm step");
                &node[..node.find(':').expect("node then colon")]
            })
            .collect();
        assert_eq!(at, ["gamma", "beta", "delta", "alpha"]);
    }
}
