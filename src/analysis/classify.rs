//! `classify`: what is failing across the whole flow. One pass over every selected event sorts
//! failures into the shared categories, counts them per group (node, tenant, kind, or time),
//! tallies exception types, and derives a remediation checklist per category, as data
//! (`ClassifyStep`) that `render::classify_steps` words.
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
    PodExpiry, PodTenant, RouterAhead, TenantTraffic,
};
use super::graph::FlowGraph;
use super::percentile::Percentiles;
use super::saturation::LatencyTrend;
use super::tenant_share::{self, UNKNOWN_TENANT};
use super::trace::TraceStatus;
use super::tracebook::TraceOutcome;
use crate::event::TraceKey;
use crate::event::{Event, FastMap, Kind, Name, NameIds, NameSlots, Timestamp};
use crate::pass::{Analysis, Apart, Needs, PassEnd};
use crate::redact::{ExceptionSummary, summarize_exception};

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
    pub steps: Vec<ClassifyStep>,
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

/// One step of classify's checklist: what was found across the flow and what to do about it,
/// naming nodes, tenants, pods and the knobs a PenguiFlow user turns. Serialized as its
/// sentence (`render::classify_steps`).
#[derive(Debug, Clone)]
pub enum ClassifyStep {
    /// One of the nodes that timed out most: where its attempts were cut, its own work against
    /// that cut, and what its evidence says to do.
    TimedOut {
        node: String,
        timeouts: u64,
        /// The longest a timed-out attempt ran: the node's timeout_s as it acted.
        cut_ms: f64,
        /// The tenant whose messages the timeouts mostly are, when one stands out.
        tenant: Option<TenantShare>,
        own_work: OwnWork,
        /// Its inbound queue was full at some of the timeouts: their consequence.
        inbound_full: Option<InboundFull>,
        advice: TimeoutAdvice,
    },
    /// One of the exceptions raised most (TimeoutError aside): where, how often, when, and
    /// what its occurrences read like.
    Raised {
        type_name: String,
        nodes: Vec<String>,
        count: u64,
        when: RaisedWhen,
        advice: ExceptionAdvice,
    },
    /// A node with errors but no exception to read: where to read them.
    NodeErrors { node: String, errors: u64 },
    /// Traces ended by flow.cancel(): the caller, not the flow, decided; `given_up` when one
    /// tenant's callers gave up on what the flow made slow for everyone.
    Cancelled {
        cancelled: u64,
        traces: u64,
        first: Option<Timestamp>,
        given_up: Option<CallersGiveUp>,
    },
    /// Node workers stopped by flow.stop(): a shutdown, which may have cut traces off.
    WorkersStopped { workers: u64, in_flight: u64 },
    /// Messages skipped on their deadline, where, how late, against the flow's own latency.
    DeadlineSkipped {
        messages: u64,
        /// The nodes that skipped most (none known: "?").
        nodes: Vec<String>,
        late_p50_ms: Option<f64>,
        e2e_p95_ms: Option<f64>,
    },
    /// Traces whose budget was gone before the first node fetched them: the callers' budget.
    StaleBudgets { traces: u64 },
    /// Traces whose own retries at `node` took the budget.
    SpentInRetries { node: String, traces: u64 },
    /// Traces that waited behind `node`'s worker while it spent `retrying_share` of its busy
    /// time on other messages' failed attempts and backoff.
    BehindRetries {
        node: String,
        traces: u64,
        retrying_share: f64,
    },
    /// Expiries a node's rare hung calls explain: a node without a timeout, not the budget.
    HungCalls(HungCalls),
    /// Expiries one node at capacity explains: relieve it rather than raise the budget.
    AtCapacity(CapacityExpiry),
    /// What loads that node beyond its capacity: one tenant's traffic, a router ahead of it.
    CapacityTraffic {
        node: String,
        traffic: CapacityTraffic,
    },
    /// Expiries confined to one pod, for every tenant it serves: the pod's capacity, and what
    /// made it fall behind (its share of the traffic, its node's speed).
    InOnePod(PodExpiry),
    /// What to do about that pod, by what made it fall behind.
    PodRemedy {
        expiry: PodExpiry,
        remedy: PodRemedy,
    },
    /// Traces that expired waiting in the flow that nothing above explains: the flow is
    /// slower than the callers' budget.
    ExpiredInFlow { traces: u64 },
    /// Of those, one tenant's, while the others' got through the same queues: its budget.
    TenantShortBudget(TenantShare),
    /// A node retrying more than `RETRY_STORM_RATE` per success, and what its retries meet.
    RetryStorm {
        node: String,
        retries: u64,
        successes: u64,
        cause: StormCause,
    },
}

/// One tenant's part of some failures, by `tenant_share::failures_of_one_tenant`: `count` of
/// the `total` are its.
#[derive(Debug, Clone)]
pub struct TenantShare {
    pub tenant: String,
    pub count: u64,
    pub total: u64,
}

impl TenantShare {
    fn of((tenant, count, total): (&str, u64, u64)) -> Self {
        TenantShare {
            tenant: tenant.to_string(),
            count,
            total,
        }
    }
}

/// A timed-out node's own work (successes that did not wait to hand their output over),
/// what its timeout is compared with.
#[derive(Debug, Clone)]
pub enum OwnWork {
    /// It rose steadily until its calls crossed the timeout: the rise is the evidence, and
    /// the p95 of its successes is capped by the cut.
    RoseIntoTimeout {
        trend: LatencyTrend,
        capped_p95_ms: Option<f64>,
    },
    /// Its p95, what the cut is measured against.
    P95 { p95_ms: f64 },
    /// No success that did not wait on a full queue.
    Unknown,
}

/// A timed-out node's inbound queue at capacity: `timeouts` came with it full.
#[derive(Debug, Clone, Copy)]
pub struct InboundFull {
    pub capacity: i64,
    pub timeouts: u64,
}

/// What a node's timeouts call for, first match wins.
#[derive(Debug, Clone)]
pub enum TimeoutAdvice {
    /// Most came with its outbound queue full: it timed out handing its output over, not on
    /// a dependency.
    HandingOver { outbound_full: u64, timeouts: u64 },
    /// One tenant's messages: the dependency degrades for that tenant.
    GateTenant { tenant: String },
    /// Its own work rose into the timeout: what the rise calls for.
    FollowTheRise { trend: LatencyTrend },
    /// Its p95 sits within four fifths of the cut: the timeout is tight for its normal work.
    TightTimeout,
    /// Well past its normal work: the dependency is slow or hanging. `max_retries` is the
    /// limit its node_failed events showed, when they did.
    SlowDependency { max_retries: Option<i64> },
}

/// When an exception was raised.
#[derive(Debug, Clone, Copy)]
pub enum RaisedWhen {
    /// None in the input's last stretch (`quiet_micros`, a quarter of it and 10 s at least):
    /// over, for now.
    Over {
        first: Timestamp,
        last: Timestamp,
        quiet_micros: i64,
    },
    /// Raised into the input's last stretch: said from its first.
    Since(Timestamp),
}

/// What an exception's occurrences read like and so what to do, first match wins. The
/// attempts counted against are the exception's own count.
#[derive(Debug, Clone)]
pub enum ExceptionAdvice {
    /// Confined to one pod that fails for every tenant it serves: the pod, not a tenant.
    Pod(FailingPod),
    /// Mostly one tenant's, reading like a spent quota: that tenant's quota.
    TenantQuota {
        tenant: TenantShare,
        quota_like: u64,
    },
    /// Reading like a spent quota or rate limit, no tenant standing out: the provider's.
    Quota { quota_like: u64 },
    /// Reading like rejected credentials, mostly one tenant's: its credentials.
    TenantCredentials { tenant: String, auth_like: u64 },
    /// Reading like rejected credentials, no tenant standing out: the node's own.
    Credentials { auth_like: u64 },
    /// A client's own timeout inside the handler (NodePolicy.timeout_s did not fire).
    ClientTimeout { tenant: Option<TenantShare> },
    /// Mostly one tenant's, and most of its messages then succeeded on a retry (their budget
    /// kept): what its requests reach fails now and then, not its payloads; gating it would
    /// fail what the retries save. `unavailable_like` when most read like a 503.
    TenantRecovered {
        tenant: TenantShare,
        saved: u64,
        unavailable_like: Option<u64>,
        headroom: Option<NoRetryToSpare>,
    },
    /// Mostly one tenant's: something about that tenant.
    Tenant(TenantShare),
    /// Recovered on a retry, but the retries spent the budget of `expired` of them.
    RecoveredThenExpired {
        recovered: u64,
        messages: u64,
        expired: u64,
    },
    /// Reading like a 503, and every message failed for good, none saved: down, not flaky.
    Down {
        unavailable_like: u64,
        messages: u64,
        terminal: u64,
    },
    /// Reading like a 503: the dependency is overloaded or unavailable; `recovered` of the
    /// `messages` then succeeded on a retry.
    Unavailable {
        unavailable_like: u64,
        recovered: u64,
        messages: u64,
    },
    /// Some then succeeded on a retry: transient.
    Recovered { recovered: u64, messages: u64 },
    /// Its type names a failing connection (connection, reset, refused, OSError, unavailable).
    FailingDependency,
    /// None of the above, nothing saved by a retry: the code, its validation or a schema.
    Deterministic,
}

/// Failures confined to one pod (`tenant_share::PodFailures`, owned).
#[derive(Debug, Clone)]
pub struct FailingPod {
    pub pod: String,
    pub failures: u64,
    pub total: u64,
    /// The tenants the pod served, with how many failed and how many it took.
    pub tenants: Vec<(String, u64, u64)>,
    pub other_pods: usize,
}

impl FailingPod {
    fn of(pod: &tenant_share::PodFailures) -> Self {
        FailingPod {
            pod: pod.pod.to_string(),
            failures: pod.failures,
            total: pod.total,
            tenants: pod
                .tenants
                .iter()
                .map(|(tenant, failed, taken)| (tenant.to_string(), *failed, *taken))
                .collect(),
            other_pods: pod.other_pods,
        }
    }
}

/// The messages a node's retries saved mostly needed its last attempt seen
/// (`no_retry_to_spare`): one more failed attempt each and they fail.
#[derive(Debug, Clone)]
pub struct NoRetryToSpare {
    pub node: String,
    /// That attempt, and the saved messages that succeeded on it, of all saved.
    pub attempt: i64,
    pub at_attempt: u64,
    pub saved: u64,
    /// Saved messages by the attempt they succeeded on: every attempt from 1 when there are
    /// few (`SPREAD_ATTEMPTS`), else the last attempts that saved any.
    pub by_attempt: Vec<(i64, u64)>,
    /// The node's node_failed events came at that attempt: it is the node's max_retries.
    pub limit_known: bool,
}

/// One tenant's callers cancelling what the flow made slow (`one_tenant_gives_up`): the
/// cancels are that tenant's, no older than the other tenants' traces that finished.
#[derive(Debug, Clone)]
pub struct CallersGiveUp {
    pub tenant: String,
    /// Its cancelled traces, of all cancelled, and all its traces.
    pub cancelled: u64,
    pub of_cancelled: u64,
    pub tenant_traces: u64,
    /// How long the cancelled traces had been in the flow: the least, the most, the p50.
    pub youngest_ms: f64,
    pub oldest_ms: f64,
    pub p50_ms: f64,
    pub first: Timestamp,
    pub last: Timestamp,
    /// The longest the other tenants' finished traces took.
    pub others_slowest_ms: f64,
}

/// What loads a node at capacity beyond it.
#[derive(Debug, Clone)]
pub enum CapacityTraffic {
    /// Its traffic is one tenant's.
    Tenant(TenantTraffic),
    /// A router just before it holds the other branches behind its backlog.
    Router(RouterAhead),
    /// Both, said in one step.
    Both(TenantTraffic, RouterAhead),
}

/// What to do about one pod whose node fell behind, by why it did (`PodExpiry::load`).
#[derive(Debug, Clone)]
pub enum PodRemedy {
    /// Too much traffic, from tenants pinned to it: spread them (`top` has most traces).
    Unpin { pinned: Vec<String>, top: PodTenant },
    /// Too much traffic, no tenant pinned: rebalance.
    Rebalance,
    /// Its node is slower there: the pod.
    ReplacePod,
    /// Neither: relieve its node.
    RelieveNode,
}

/// What a node's retry storm meets at it, first match wins.
#[derive(Debug, Clone)]
pub enum StormCause {
    /// The retries save the messages (more recovered than failed for good, nothing else
    /// ended there): they are the fix in place, not the cause.
    RetriesSave {
        recovered: u64,
        terminal: u64,
        headroom: Option<NoRetryToSpare>,
    },
    /// Most failed attempts read like rejected credentials: no retry can fix them.
    RejectedCredentials { auth_like: u64, raised: u64 },
    /// Most read like a spent quota: retrying at once spends more of it.
    SpentQuota { quota_like: u64, raised: u64 },
    /// One tenant's requests fail every attempt; `others_saved` of the other tenants'
    /// messages were saved by a retry.
    OneTenantFailsEvery {
        tenant: TenantShare,
        others_saved: u64,
    },
    /// Its retried attempts timed out handing their output over: each retry emits again.
    HandingOver { outbound_full: u64, timeouts: u64 },
    /// Retries piling onto the dependency; their backoff slept `slept_s` in all.
    PilingOn { slept_s: f64 },
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

impl NodeFacts {
    /// Most of its timeouts came with its outbound queue full: it timed out in a blocked
    /// `ctx.emit`, not on a dependency ([`TimeoutAdvice::HandingOver`]).
    fn timed_out_handing_over(&self) -> bool {
        self.timeouts_outbound_full * 2 > self.timeouts
    }
}

/// Found when the messages a node's retries saved mostly needed its last attempt seen, more of
/// them than the attempt before (independent failures thin out attempt by attempt; a pile-up
/// at the top is a dependency failing a set number of times, against a limit that may be
/// right there). The limit is known only from a `node_failed`; otherwise it is asked.
fn no_retry_to_spare(node: &NodeFacts, name: &str) -> Option<NoRetryToSpare> {
    let (&top, &at_top) = node.retried_successes.last_key_value()?;
    let saved: u64 = node.retried_successes.values().sum();
    let below = node.retried_successes.get(&(top - 1)).copied().unwrap_or(0);
    let piled_up =
        at_top >= MIN_AT_LAST_ATTEMPT && at_top * 2 >= saved && (top == 1 || at_top >= below);
    if !piled_up {
        return None;
    }
    Some(NoRetryToSpare {
        node: name.to_string(),
        attempt: top,
        at_attempt: at_top,
        saved,
        by_attempt: if top <= SPREAD_ATTEMPTS {
            (1..=top)
                .map(|attempt| {
                    let saved = node.retried_successes.get(&attempt).copied().unwrap_or(0);
                    (attempt, saved)
                })
                .collect()
        } else {
            // An attempt number is the log's word: a huge one must not list every attempt.
            let mut last: Vec<(i64, u64)> = node
                .retried_successes
                .iter()
                .rev()
                .take(SPREAD_ATTEMPTS as usize)
                .map(|(attempt, saved)| (*attempt, *saved))
                .collect();
            last.reverse();
            last
        },
        limit_known: node.failed_attempt == Some(top),
    })
}

/// Attempts up to which the headroom note lists every attempt, those that saved none too.
const SPREAD_ATTEMPTS: i64 = 12;
/// Saved messages at the last attempt below which the headroom note is noise.
const MIN_AT_LAST_ATTEMPT: u64 = 5;
/// Messages that failed every attempt, none saved, before a dependency is called down.
const MIN_MESSAGES_DOWN: u64 = 5;

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
    let storms: Vec<ClassifyStep> = storming
        .into_iter()
        .map(|g| {
            // What the retried attempts raised at this node: retrying rejected credentials or a
            // spent quota cannot succeed, and is not load on a dependency.
            let at_node = facts.exceptions.iter().filter(|e| e.nodes.contains(&g.key));
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
            let saved_by_retries = recovered > terminal && g.terminal == terminal && g.timeout == 0;
            let cause = if saved_by_retries && auth * 2 <= raised {
                // Retries that save the messages, with none ending here for good (no failure,
                // no deadline skip), are the fix in place, not the storm's cause: turning them
                // off fails every message they save.
                StormCause::RetriesSave {
                    recovered,
                    terminal,
                    headroom: facts
                        .nodes
                        .get(g.key.as_str())
                        .and_then(|node| no_retry_to_spare(node, &g.key)),
                }
            } else if raised > 0 && auth * 2 > raised {
                StormCause::RejectedCredentials {
                    auth_like: auth,
                    raised,
                }
            } else if raised > 0 && quota * 2 > raised {
                StormCause::SpentQuota {
                    quota_like: quota,
                    raised,
                }
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
                && let Some(tenant) = dominant_tenant(
                    &node.retries_by_tenant,
                    facts.tenants_seen,
                    facts.tenant_traces,
                )
                && node.recovered_by_tenant.get(tenant.0).copied().unwrap_or(0) == 0
            {
                // One tenant's requests that fail every attempt: their retries save nothing,
                // while the other tenants' may be what saves theirs.
                StormCause::OneTenantFailsEvery {
                    tenant: TenantShare::of(tenant),
                    others_saved: node.recovered_by_tenant.values().sum(),
                }
            } else if let Some(node) = facts
                .nodes
                .get(g.key.as_str())
                .filter(|node| node.timed_out_handing_over() && g.timeout * 2 > g.retry)
            {
                // No dependency to pile onto: the retried attempts timed out in a blocked
                // ctx.emit, and each retry emits its output again.
                StormCause::HandingOver {
                    outbound_full: node.timeouts_outbound_full,
                    timeouts: node.timeouts,
                }
            } else {
                StormCause::PilingOn {
                    slept_s: facts
                        .nodes
                        .get(g.key.as_str())
                        .map_or(0.0, |n| n.worker.backoff_s),
                }
            };
            ClassifyStep::RetryStorm {
                node: g.key.clone(),
                retries: g.retry,
                successes: g.successes,
                cause,
            }
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

fn timeout_steps(facts: &Facts) -> Vec<ClassifyStep> {
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
        let own_work = match (&trend, p95) {
            (Some(trend), _) => OwnWork::RoseIntoTimeout {
                trend: trend.clone(),
                capped_p95_ms: p95,
            },
            (None, Some(p95)) => OwnWork::P95 { p95_ms: p95 },
            (None, None) => OwnWork::Unknown,
        };
        let inbound_full = match node_facts.queue_maxsize.filter(|c| *c > 0) {
            Some(capacity) if node_facts.timeouts_inbound_full > 0 => Some(InboundFull {
                capacity,
                timeouts: node_facts.timeouts_inbound_full,
            }),
            _ => None,
        };
        let tenant = dominant_tenant(
            &node_facts.timeout_tenants,
            facts.tenants_seen,
            &node_facts.tenant_messages,
        )
        .map(TenantShare::of);
        let advice = if node_facts.timed_out_handing_over() {
            TimeoutAdvice::HandingOver {
                outbound_full: node_facts.timeouts_outbound_full,
                timeouts: node_facts.timeouts,
            }
        } else if let Some(tenant) = &tenant {
            TimeoutAdvice::GateTenant {
                tenant: tenant.tenant.clone(),
            }
        } else if let Some(trend) = trend {
            TimeoutAdvice::FollowTheRise { trend }
        } else if p95.is_some_and(|p95| cut > 0.0 && p95 >= cut * 0.8) {
            TimeoutAdvice::TightTimeout
        } else {
            // The limit is known from the node_failed events' attempt.
            TimeoutAdvice::SlowDependency {
                max_retries: node_facts.failed_attempt,
            }
        };
        steps.push(ClassifyStep::TimedOut {
            node: node.clone(),
            timeouts: group.timeout,
            cut_ms: cut,
            tenant,
            own_work,
            inbound_full,
            advice,
        });
    }
    steps
}

fn error_steps(facts: &Facts) -> Vec<ClassifyStep> {
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
        let failing_pod = pod.filter(|pod| pod.fails_for_every_tenant());
        let tenant = dominant_tenant(&exception.tenants, facts.tenants_seen, facts.tenant_traces)
            .filter(|_| failing_pod.is_none());
        let auth = exception.auth_like * 2 > exception.count;
        let quota = !auth && exception.quota_like * 2 > exception.count;
        let unavailable = !auth && !quota && exception.unavailable_like * 2 > exception.count;
        // httpx's ReadTimeout and the like: the handler's client gave up (the runtime's own
        // timeout, TimeoutError, is a node_timeout and left out above).
        let client_timeout = !auth && !quota && lower.contains("timeout");
        let recovered = exception.recovered;
        // A tenant's messages that raised it and then succeeded there on a retry.
        let saved = |tenant: &str| {
            exception
                .recovered_tenants
                .get(tenant)
                .copied()
                .unwrap_or(0)
        };
        let advice = match (auth, tenant, failing_pod) {
            (false, None, Some(pod)) => ExceptionAdvice::Pod(FailingPod::of(&pod)),
            (false, Some(tenant), _) if quota => ExceptionAdvice::TenantQuota {
                tenant: TenantShare::of(tenant),
                quota_like: exception.quota_like,
            },
            (false, None, _) if quota => ExceptionAdvice::Quota {
                quota_like: exception.quota_like,
            },
            (true, Some((tenant, _, _)), _) => ExceptionAdvice::TenantCredentials {
                tenant: tenant.to_string(),
                auth_like: exception.auth_like,
            },
            (true, None, _) => ExceptionAdvice::Credentials {
                auth_like: exception.auth_like,
            },
            (false, tenant, _) if client_timeout => ExceptionAdvice::ClientTimeout {
                tenant: tenant.map(TenantShare::of),
            },
            // Most of the tenant's failing messages then succeeded (and kept their budget):
            // its payloads and credentials are fine (they would fail every attempt); gating it,
            // or turning the retries off, fails what the retries save.
            (false, Some(tenant @ (name, count, _)), _)
                if saved(name) * 2 > count && exception.recovered_then_expired == 0 =>
            {
                ExceptionAdvice::TenantRecovered {
                    tenant: TenantShare::of(tenant),
                    saved: saved(name),
                    unavailable_like: unavailable.then_some(exception.unavailable_like),
                    headroom: exception
                        .nodes
                        .iter()
                        .find_map(|node| no_retry_to_spare(facts.nodes.get(node.as_str())?, node)),
                }
            }
            (false, Some(tenant), _) => ExceptionAdvice::Tenant(TenantShare::of(tenant)),
            (false, None, _) if exception.recovered_then_expired > 0 => {
                ExceptionAdvice::RecoveredThenExpired {
                    recovered,
                    messages: exception.messages,
                    expired: exception.recovered_then_expired,
                }
            }
            // Every message that raised it failed for good, none saved by a retry: down, not
            // flaky; its retries are load on it that saves nothing.
            (false, None, _)
                if unavailable
                    && recovered == 0
                    && exception.messages >= MIN_MESSAGES_DOWN
                    && exception.terminal >= exception.messages =>
            {
                ExceptionAdvice::Down {
                    unavailable_like: exception.unavailable_like,
                    messages: exception.messages,
                    terminal: exception.terminal,
                }
            }
            (false, None, _) if unavailable => ExceptionAdvice::Unavailable {
                unavailable_like: exception.unavailable_like,
                recovered,
                messages: exception.messages,
            },
            (false, None, _) if recovered > 0 => ExceptionAdvice::Recovered {
                recovered,
                messages: exception.messages,
            },
            (false, None, _) if transient => ExceptionAdvice::FailingDependency,
            (false, None, _) => ExceptionAdvice::Deterministic,
        };
        // Over, for now: none in the input's last stretch (a quarter of it, 10 s at least).
        let when = match facts.span {
            Some((oldest, newest))
                if newest.0 - exception.last_ts.0 >= OVER_MIN_MICROS
                    && (newest.0 - exception.last_ts.0) * 4 >= newest.0 - oldest.0 =>
            {
                RaisedWhen::Over {
                    first: exception.first_ts,
                    last: exception.last_ts,
                    quiet_micros: newest.0 - exception.last_ts.0,
                }
            }
            _ => RaisedWhen::Since(exception.first_ts),
        };
        steps.push(ClassifyStep::Raised {
            type_name: exception.type_name.clone(),
            nodes: exception.nodes.clone(),
            count: exception.count,
            when,
            advice,
        });
    }
    if steps.is_empty() {
        for group in top_nodes(facts.groups, Category::Error) {
            steps.push(ClassifyStep::NodeErrors {
                node: group.key.clone(),
                errors: group.error,
            });
        }
    }
    steps
}

fn cancel_steps(facts: &Facts, report: &CategoryReport) -> Vec<ClassifyStep> {
    let mut steps = Vec::new();
    if report.terminal > 0 {
        steps.push(ClassifyStep::Cancelled {
            cancelled: report.terminal,
            traces: facts.traces,
            first: report.first_ts,
            given_up: one_tenant_gives_up(facts).map(|(_, callers)| callers),
        });
    }
    if facts.worker_stops > 0 {
        steps.push(ClassifyStep::WorkersStopped {
            workers: facts.worker_stops,
            in_flight: facts.in_flight,
        });
    }
    steps
}

/// One tenant's callers cancelling what the flow made slow: the cancels are that tenant's, at
/// most as long in the flow as the other tenants' traces that finished (so the flow was as
/// slow for them; only their callers waited). The slowness is the finding; the window says
/// where to look for it.
fn one_tenant_gives_up(facts: &Facts) -> Option<(GiveUp, CallersGiveUp)> {
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
    let give_up = GiveUp {
        tenant: tenant.to_string(),
        first,
        last,
    };
    Some((
        give_up,
        CallersGiveUp {
            tenant: tenant.to_string(),
            cancelled: count,
            of_cancelled: total,
            tenant_traces: facts.tenant_traces.get(tenant).copied().unwrap_or(0),
            youngest_ms: cancels.youngest_ms.unwrap_or(oldest),
            oldest_ms: oldest,
            p50_ms: cancels.age_ms.percentile(50.0).unwrap_or(oldest),
            first,
            last,
            others_slowest_ms: others_slowest,
        },
    ))
}

fn deadline_steps(facts: &Facts, report: &CategoryReport) -> Vec<ClassifyStep> {
    let nodes: Vec<String> = top_nodes(facts.groups, Category::Deadline)
        .iter()
        .map(|g| g.key.clone())
        .collect();
    let mut steps = vec![ClassifyStep::DeadlineSkipped {
        messages: report.events,
        nodes,
        late_p50_ms: facts.deadline_late_ms.percentile(50.0),
        e2e_p95_ms: facts.e2e_ms.percentile(95.0),
    }];
    if facts.deadline_stale > 0 {
        steps.push(ClassifyStep::StaleBudgets {
            traces: facts.deadline_stale,
        });
    }
    for (node, traces) in facts.deadline_in_retries {
        steps.push(ClassifyStep::SpentInRetries {
            node: node.clone(),
            traces: *traces,
        });
    }
    for (node, traces) in facts.deadline_behind_retries {
        let share = facts
            .nodes
            .get(node.as_str())
            .map_or(0.0, |facts| facts.worker.retrying_share());
        steps.push(ClassifyStep::BehindRetries {
            node: node.clone(),
            traces: *traces,
            retrying_share: share,
        });
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
        steps.push(ClassifyStep::ExpiredInFlow { traces: in_flow });
        // One tenant's budgets, when the others' messages got through the same queues: with
        // pods, the same queues are those of the pods the tenant ran in.
        if let Some(tenant) = dominant_tenant(&by_tenant, facts.tenants_seen, facts.tenant_traces)
            .filter(|(tenant, _, _)| {
                !facts.expired_by_pod.keys().any(|(_, t)| t == tenant)
                    || tenant_share::stands_out_in_its_pods(
                        tenant,
                        facts.expired_by_pod,
                        facts.traces_by_pod,
                    )
            })
        {
            steps.push(ClassifyStep::TenantShortBudget(TenantShare::of(tenant)));
        }
    }
    steps
}

/// The checklist for deadline skips that a node's rare hung calls explain: the calls and the
/// traces they caught, that the node has no timeout, and what to do.
fn hung_call_steps(hung: &HungCalls) -> Vec<ClassifyStep> {
    vec![ClassifyStep::HungCalls(hung.clone())]
}

/// The checklist for deadline skips confined to one pod: where they were, what made the pod
/// fall behind (its share of the traffic, its node's speed against the other pods'), and what
/// to do about that.
fn pod_steps(at: &PodExpiry) -> Vec<ClassifyStep> {
    use super::tenant_share::PodLoad;
    let pinned = at.pinned();
    let remedy = match (at.load, pinned.first()) {
        (PodLoad::Imbalance, Some(top)) => PodRemedy::Unpin {
            pinned: pinned.iter().map(|t| t.tenant.clone()).collect(),
            top: (*top).clone(),
        },
        (PodLoad::Imbalance, None) => PodRemedy::Rebalance,
        (PodLoad::SlowPod, _) => PodRemedy::ReplacePod,
        (PodLoad::Capacity, _) => PodRemedy::RelieveNode,
    };
    vec![
        ClassifyStep::InOnePod(at.clone()),
        ClassifyStep::PodRemedy {
            expiry: at.clone(),
            remedy,
        },
    ]
}

/// The checklist for deadline skips that one node at capacity explains: the cause with its
/// evidence, then what loads it beyond its capacity (a tenant's excess; a router ahead of it).
fn capacity_steps(at: &CapacityExpiry) -> Vec<ClassifyStep> {
    let mut steps = vec![ClassifyStep::AtCapacity(at.clone())];
    let traffic = match (at.tenant.clone(), at.router.clone()) {
        (Some(tenant), Some(router)) => Some(CapacityTraffic::Both(tenant, router)),
        (Some(tenant), None) => Some(CapacityTraffic::Tenant(tenant)),
        (None, Some(router)) => Some(CapacityTraffic::Router(router)),
        (None, None) => None,
    };
    if let Some(traffic) = traffic {
        steps.push(ClassifyStep::CapacityTraffic {
            node: at.node_name.clone(),
            traffic,
        });
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
            .map(|step| match step {
                ClassifyStep::RetryStorm { node, .. } => node.as_str(),
                other => panic!("a storm step: {other:?}"),
            })
            .collect();
        assert_eq!(at, ["gamma", "beta", "delta", "alpha"]);
    }
}
