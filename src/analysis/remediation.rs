//! Remediation checklists: what to do next for one trace, decided from what was found. Each
//! step names the nodes and the knobs a PenguiFlow user turns (`NodePolicy.timeout_s`,
//! `max_retries`, backoff, `queue_maxsize`, concurrency, `Message.deadline_s`, the upstream
//! dependency) as data; `render::remediation` words it. The most likely cause comes first;
//! nothing is said about what did not happen.

use std::collections::HashMap;

use super::category::{
    Category, reads_like_quota, reads_like_rejected_credentials, reads_like_unavailable,
};
use super::find::{HungCall, LastSuccess, NextNode, QueueReading, StoppedRuntime, TimeSpent};
use super::percentile::Percentiles;
use super::saturation::{HANG_MIN_COMPLETED_FEW, LatencyTrend, WorkerTime};
use super::trace::{TraceStatus, TraceSummary};
use crate::event::{Event, Kind, Timestamp};
use crate::redact::summarize_exception;

/// What `find` learned about one trace.
pub struct TraceFindings<'a> {
    pub summary: &'a TraceSummary,
    pub timeline: &'a [Event],
    /// For a deadline-skipped trace: where its time went.
    pub time_spent: Option<&'a TimeSpent>,
    /// For a deadline-skipped trace: the call that hung while it waited, or in which it
    /// expired.
    pub hung_call: Option<&'a HungCall>,
    pub status: TraceStatus,
    pub category: Option<Category>,
    pub next: Option<&'a NextNode>,
    pub last_success: Option<&'a LastSuccess>,
    /// Success latencies per node across all traces of the input.
    pub latency: &'a HashMap<String, Percentiles>,
    /// Every success latency per node, waits to hand over included (a queue's turn).
    pub turns: &'a HashMap<String, Percentiles>,
    /// The next node is a router (its traces go on to one of its successors, not to all).
    pub routes: bool,
    /// The trace's tenant, when the messages that failed at the next node are mostly its (the
    /// rule classify applies).
    pub errors_by_tenant: Option<&'a TenantErrors>,
    /// The failures at the next node are one pod's, for every tenant it serves.
    pub errors_in_pod: Option<&'a PodErrors>,
    /// Worker time per node across all traces of the input.
    pub worker_time: &'a HashMap<String, WorkerTime>,
    /// The next node's own latency rose steadily over the input (see `LatencyTrend`).
    pub trend: Option<&'a LatencyTrend>,
}

/// Messages that failed at a node, most of them one tenant's, which stands out.
#[derive(Debug, Clone)]
pub struct TenantErrors {
    pub tenant: String,
    pub failed: u64,
    pub of: u64,
    /// Of the `failed`, the messages that then succeeded there on a retry.
    pub recovered: u64,
}

/// Failures at a node confined to one pod, which fails for every tenant it serves: (tenant,
/// failed, taken) there.
#[derive(Debug, Clone)]
pub struct PodErrors {
    pub pod: String,
    pub failed: u64,
    pub of: u64,
    pub tenants: Vec<(String, u64, u64)>,
}

/// A queue's depth against its capacity, as an event read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    pub depth: Option<i64>,
    pub capacity: Option<i64>,
}

impl Depth {
    pub fn is_full(self) -> bool {
        matches!((self.depth, self.capacity), (Some(d), Some(c)) if c > 0 && d >= c)
    }
}

/// One step of a trace's checklist. Serialized as its sentence (`render::remediation`).
#[derive(Debug, Clone)]
pub enum TraceStep {
    /// The next node timed out; `inbound_full` is its inbound queue when an event found it
    /// full meanwhile.
    TimedOut {
        node: String,
        timeouts: u64,
        attempts: u64,
        timeout_ms: f64,
        inbound_full: Option<Depth>,
    },
    /// Its own latency rose steadily until its calls crossed the timeout: the rise is the cause.
    RoseIntoTimeout {
        node: String,
        trend: LatencyTrend,
    },
    /// Its own work's p95 against the timeout that cut it.
    OwnWorkAgainstTimeout {
        node: String,
        p95_ms: f64,
        successes: u64,
        timeout_ms: f64,
        headroom: Headroom,
    },
    /// More than one attempt timed out: retries only repeated the wait.
    RetriesRepeatedTheWait {
        node: String,
    },
    /// The next node raised; `reading` is what its exceptions and their spread say.
    Raised {
        node: String,
        /// Exception types, first seen first (none known: "an exception").
        types: Vec<String>,
        attempts: u64,
        reading: ErrorReading,
    },
    /// A deterministic failure raised more than once: retrying it cannot succeed.
    RetryCannotSucceed {
        node: String,
        types: Vec<String>,
    },
    /// Cancelled by `flow.cancel()`: when (with the time into the trace) and what it stopped.
    Cancelled {
        at: Option<(Timestamp, f64)>,
        interrupted: Vec<String>,
    },
    /// Timeouts and errors came before the cancel.
    FailedBeforeCancel {
        timeouts: u64,
        errors: u64,
    },
    /// The deadline had passed (by `late_ms`) when `node` fetched the message: why.
    DeadlineSkipped {
        node: String,
        late_ms: Option<f64>,
        spent_by: BudgetSpentBy,
    },
    /// Compare the callers' deadlines with the flow's latency (after every skip).
    CompareDeadlines,
    /// The runtime the message was left in stopped after the trace's last event.
    Stopped {
        node: String,
        inferred: bool,
        stopped: StoppedRuntime,
        /// From the trace's last event to the stop.
        after_ms: f64,
    },
    /// The message was queued for `node` (no event there yet), which went on without it.
    Lost {
        node: String,
        queued: Option<Queued>,
        follows: Option<Follows>,
        taken_after: u64,
    },
    /// The message waits its turn in `node`'s inbound queue.
    Waiting {
        node: String,
        p95_ms: Option<f64>,
        idle_ms: Option<f64>,
        queued: Option<Queued>,
        follows: Option<Follows>,
        holder: Holder,
    },
    /// An attempt started with the output queue already full: blocked handing over.
    BlockedHandingOver {
        node: String,
        attempt: u64,
        outbound: Depth,
    },
    /// An attempt running at the end, no longer than the node's longest success.
    SlowNotHung {
        node: String,
        attempt: u64,
        running_ms: Option<f64>,
        p95_ms: Option<f64>,
        longest_ms: f64,
    },
    /// An attempt running at the end, longer than any the node finished (or too few to know).
    Hanging {
        node: String,
        attempt: u64,
        running_ms: Option<f64>,
        p95_ms: Option<f64>,
    },
    BetweenRetries {
        node: String,
    },
    /// The node's last event is `kind`, with nothing after it.
    Stuck {
        node: String,
        kind: String,
        idle_ms: Option<f64>,
        p95_ms: Option<f64>,
    },
    /// A trace that succeeded after retries at `node`.
    NeededRetries {
        node: String,
        retries: u64,
    },
}

/// How far a node's own work's p95 sits below the timeout that cut it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headroom {
    /// Below half: the request hung.
    Ample,
    /// Below four fifths.
    Little,
    Close,
}

/// What the exceptions a node raised read like, first match wins.
#[derive(Debug, Clone)]
pub enum ErrorReading {
    RejectedCredentials,
    Quota,
    /// A client's own timeout inside the handler; the tenant when its messages stand out.
    ClientTimeout(Option<TenantErrors>),
    Pod(PodErrors),
    /// One tenant's messages stand out, and most of them then succeeded on a retry.
    TenantRecovered(TenantErrors),
    Tenant(TenantErrors),
    Transient,
    Deterministic,
}

/// Where a deadline-skipped trace's budget went.
#[derive(Debug, Clone)]
pub enum BudgetSpentBy {
    /// It was spent before the message reached the flow: the skip is the first node's, and the
    /// messages before it could not account for the lateness.
    StaleBudget { messages_before: u64 },
    /// Into the trace's own retries at `retrier`.
    Retries {
        retrier: String,
        retries: u64,
        retrying_ms: f64,
        trace_ms: f64,
    },
    /// Into other messages' retries at the node whose queue it waited in longest.
    OthersRetries { waited: String, retrying_share: f64 },
    /// Into a call that hung: its own (`hung.own`) or one that held the worker it waited for.
    HungCall {
        hung: HungCall,
        /// The budget at its first event against its path's own work at p50 (ms).
        budget: Option<(f64, f64)>,
        /// Where its time went, when it waited behind another trace's call.
        spent: Option<TimeSpent>,
    },
    /// Into waits it logged; the longest first.
    Waits {
        spent: TimeSpent,
        pod: Option<String>,
    },
    /// The caller's budget was shorter than the wait, at the inbound queue the skip read.
    ShortBudget { inbound: Depth },
}

/// An inferred next node's queue when the message was queued.
#[derive(Debug, Clone, Copy)]
pub struct Queued {
    pub ahead: u64,
    /// A join's reading sums its inbound edges: the capacity is scaled to match.
    pub depth: Depth,
    pub reading: QueueReading,
}

/// How often the inferred next node follows the last one.
#[derive(Debug, Clone)]
pub struct Follows {
    /// The last successful node ("the last node" when none).
    pub after: Option<String>,
    pub share: f64,
    pub of_traces: u64,
}

/// What holds the node a message waits for.
#[derive(Debug, Clone)]
pub enum Holder {
    /// Another trace's attempt, running at the end of the input.
    Attempt {
        trace_id: String,
        running_ms: f64,
    },
    /// The node itself waits to hand its output over.
    Output(Depth),
    Busy,
}

/// The checklist for one trace.
pub fn for_trace(findings: &TraceFindings) -> Vec<TraceStep> {
    let mut steps = Vec::new();
    let node_events = |node: &str| -> Vec<&Event> {
        findings
            .timeline
            .iter()
            .filter(|e| e.node_name.as_deref() == Some(node))
            .collect()
    };
    let next = findings.next;
    match (findings.status, next) {
        (TraceStatus::Failed | TraceStatus::InFlight, Some(next))
            if findings.category == Some(Category::Timeout) && !next.inferred =>
        {
            timeout_steps(findings, next, &node_events(&next.node_name), &mut steps);
        }
        (TraceStatus::Failed | TraceStatus::InFlight, Some(next))
            if findings.category == Some(Category::Error) && !next.inferred =>
        {
            error_steps(
                next,
                &node_events(&next.node_name),
                (findings.errors_by_tenant, findings.errors_in_pod),
                &mut steps,
            );
        }
        (TraceStatus::Cancelled, _) => cancel_steps(findings, &mut steps),
        (TraceStatus::DeadlineSkipped, _) => deadline_steps(findings, &mut steps),
        (TraceStatus::InFlight, Some(next)) => in_flight_steps(findings, next, &mut steps),
        _ => {}
    }
    retry_steps(findings, &mut steps);
    steps
}

fn inbound(event: &Event) -> Depth {
    Depth {
        depth: event.q_depth_in(),
        capacity: event.queue_maxsize(),
    }
}

fn timeout_steps(
    findings: &TraceFindings,
    next: &NextNode,
    events: &[&Event],
    steps: &mut Vec<TraceStep>,
) {
    let node = &next.node_name;
    let timeouts = events
        .iter()
        .filter(|e| e.kind == Kind::NodeTimeout)
        .count() as u64;
    let inbound_full = events
        .iter()
        .map(|e| inbound(e))
        .find(|depth| depth.is_full());
    let timeout_ms = events
        .iter()
        .filter(|e| e.kind == Kind::NodeTimeout)
        .filter_map(|e| e.latency_ms())
        .fold(0.0, f64::max);
    steps.push(TraceStep::TimedOut {
        node: node.clone(),
        timeouts,
        attempts: next.attempts.max(timeouts),
        timeout_ms,
        inbound_full,
    });
    // A steady rise that crossed the timeout: its successes' p95 is capped by the cut (no
    // success takes longer), so it cannot size a new timeout; the rise is the cause.
    if let Some(trend) = findings.trend.filter(|trend| trend.crossed_timeout()) {
        steps.push(TraceStep::RoseIntoTimeout {
            node: node.clone(),
            trend: trend.clone(),
        });
        return;
    }
    if let Some((p95, successes)) = findings
        .latency
        .get(node.as_str())
        .and_then(|p| Some((p.percentile(95.0)?, p.count())))
    {
        let headroom = if timeout_ms > 0.0 && p95 < timeout_ms * 0.5 {
            Headroom::Ample
        } else if timeout_ms > 0.0 && p95 < timeout_ms * 0.8 {
            Headroom::Little
        } else {
            Headroom::Close
        };
        steps.push(TraceStep::OwnWorkAgainstTimeout {
            node: node.clone(),
            p95_ms: p95,
            successes,
            timeout_ms,
            headroom,
        });
    }
    if timeouts > 1 {
        steps.push(TraceStep::RetriesRepeatedTheWait { node: node.clone() });
    }
}

fn error_steps(
    next: &NextNode,
    events: &[&Event],
    (by_tenant, in_pod): (Option<&TenantErrors>, Option<&PodErrors>),
    steps: &mut Vec<TraceStep>,
) {
    let node = &next.node_name;
    let errors: Vec<&&Event> = events
        .iter()
        .filter(|e| e.kind == Kind::NodeError)
        .collect();
    let types: Vec<String> = errors
        .iter()
        .filter_map(|e| e.exception())
        .filter_map(|text| summarize_exception(text).type_name)
        .fold(Vec::new(), |mut seen, name| {
            if !seen.contains(&name) {
                seen.push(name);
            }
            seen
        });
    // Transient by its type, or by its own words (a 503, "overloaded, retry later").
    let transient = types.iter().any(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("connection")
            || t.contains("timeout")
            || t.contains("unavailable")
            || t.contains("oserror")
    }) || errors
        .iter()
        .filter_map(|e| e.exception())
        .any(reads_like_unavailable);
    // A client's own timeout raised in the handler (httpx ReadTimeout and the like): an error
    // to the runtime, a slow dependency in fact. (A NodePolicy timeout is a node_timeout.)
    let client_timeout = !types.is_empty()
        && types
            .iter()
            .all(|t| t.to_ascii_lowercase().contains("timeout"));
    let auth = errors
        .iter()
        .filter_map(|e| e.exception())
        .any(reads_like_rejected_credentials);
    let quota = || {
        errors
            .iter()
            .filter_map(|e| e.exception())
            .any(reads_like_quota)
    };
    let reading = if auth {
        ErrorReading::RejectedCredentials
    } else if quota() {
        ErrorReading::Quota
    } else if client_timeout {
        ErrorReading::ClientTimeout(by_tenant.cloned())
    } else if let Some(pod) = in_pod {
        ErrorReading::Pod(pod.clone())
    } else if let Some(tenant) = by_tenant.filter(|tenant| tenant.recovered * 2 > tenant.failed) {
        // Most of them then succeeded: not the tenant's payloads or credentials, which fail
        // every attempt; gating it would fail what the retries save.
        ErrorReading::TenantRecovered(tenant.clone())
    } else if let Some(tenant) = by_tenant {
        ErrorReading::Tenant(tenant.clone())
    } else if transient {
        ErrorReading::Transient
    } else {
        ErrorReading::Deterministic
    };
    let deterministic = matches!(reading, ErrorReading::Deterministic);
    steps.push(TraceStep::Raised {
        node: node.clone(),
        types: types.clone(),
        attempts: errors.len() as u64,
        reading,
    });
    if deterministic && errors.len() > 1 {
        steps.push(TraceStep::RetryCannotSucceed {
            node: node.clone(),
            types,
        });
    }
}

fn cancel_steps(findings: &TraceFindings, steps: &mut Vec<TraceStep>) {
    let at = findings
        .timeline
        .iter()
        .find(|e| e.kind == Kind::TraceCancelStart)
        .map(|e| (e.ts, e.ts.millis_since(findings.summary.first_ts)));
    let interrupted: Vec<String> = findings
        .timeline
        .iter()
        .filter(|e| matches!(e.kind, Kind::NodeTraceCancelled | Kind::TraceCancelDrop))
        .filter_map(|e| e.node_name.as_deref().map(str::to_string))
        .fold(Vec::new(), |mut nodes, node| {
            if !nodes.contains(&node) {
                nodes.push(node);
            }
            nodes
        });
    steps.push(TraceStep::Cancelled { at, interrupted });
    let counts = &findings.summary.counts;
    if counts.timeout + counts.error > 0 {
        steps.push(TraceStep::FailedBeforeCancel {
            timeouts: counts.timeout,
            errors: counts.error,
        });
    }
}

fn deadline_steps(findings: &TraceFindings, steps: &mut Vec<TraceStep>) {
    let Some(skip) = findings
        .timeline
        .iter()
        .find(|e| e.kind == Kind::DeadlineSkip)
    else {
        return;
    };
    let node = skip.node_name.as_deref().unwrap_or("a node");
    let late_ms = skip
        .deadline_s()
        .map(|deadline| (skip.ts.as_unix_seconds() - deadline) * 1000.0);
    let worker = findings.worker_time.get(node).copied().unwrap_or_default();
    let p95 = findings
        .turns
        .get(node)
        .and_then(|latency| latency.percentile(95.0))
        .unwrap_or(0.0);
    let stale = findings.summary.events == 1
        && late_ms.is_some_and(|late_ms| {
            worker.skip_was_stale(late_ms, skip.q_depth_in().unwrap_or(0), p95)
        });
    let spent_by = if stale {
        BudgetSpentBy::StaleBudget {
            messages_before: skip.q_depth_in().unwrap_or(0).max(0) as u64,
        }
    } else if let Some((visit, retrying_ms)) = findings.summary.retries_took_the_time() {
        BudgetSpentBy::Retries {
            retrier: visit.node_name.to_string(),
            retries: u64::from(visit.retries),
            retrying_ms,
            trace_ms: findings.summary.duration_ms(),
        }
    } else if let Some((waited, worker)) = findings
        .summary
        .longest_wait()
        .map(|(visit, _)| &*visit.node_name)
        .and_then(|waited| Some((waited, findings.worker_time.get(waited)?)))
        .filter(|(_, worker)| worker.mostly_retrying())
    {
        BudgetSpentBy::OthersRetries {
            waited: waited.to_string(),
            retrying_share: worker.retrying_share(),
        }
    } else if let Some(hung) = findings.hung_call {
        let spent = findings.time_spent;
        let budget = spent.and_then(|spent| {
            let left = spent
                .budget_left_at_first_event_ms
                .filter(|left| *left > 0.0)?;
            let work: f64 = spent.in_nodes.iter().filter_map(|n| n.own_p50_ms).sum();
            Some((left, work))
        });
        BudgetSpentBy::HungCall {
            hung: hung.clone(),
            budget,
            spent: spent
                .filter(|spent| !hung.own && !spent.queues.is_empty())
                .cloned(),
        }
    } else if let Some(spent) = findings.time_spent.filter(|spent| {
        // A wait that took a fair part of what the budget had left at the first event (a few
        // ms between two nodes is not where the budget went).
        spent.queues.first().is_some_and(|longest| {
            longest.waited_ms >= 1.0
                && spent
                    .budget_left_at_first_event_ms
                    .is_none_or(|left| longest.waited_ms >= LOGGED_WAIT_SHARE * left)
        })
    }) {
        // Its waits are logged (a node after the first): say where the time went, not only
        // the queue of the node that skipped it as it was at the skip. A pod is a runtime of
        // its own: the queue it waited in is that pod's.
        BudgetSpentBy::Waits {
            spent: spent.clone(),
            pod: findings.summary.pod.as_deref().map(str::to_string),
        }
    } else {
        BudgetSpentBy::ShortBudget {
            inbound: inbound(skip),
        }
    };
    steps.push(TraceStep::DeadlineSkipped {
        node: node.to_string(),
        late_ms,
        spent_by,
    });
    steps.push(TraceStep::CompareDeadlines);
}

/// A deadline-skipped trace's longest logged wait is named as where its budget went when it
/// took at least this share of what the budget had left at the trace's first event.
const LOGGED_WAIT_SHARE: f64 = 0.25;

fn in_flight_steps(findings: &TraceFindings, next: &NextNode, steps: &mut Vec<TraceStep>) {
    let node = next.node_name.clone();
    if let Some(stopped) = &next.stopped {
        steps.push(TraceStep::Stopped {
            node,
            inferred: next.inferred,
            stopped: stopped.clone(),
            after_ms: stopped.at.millis_since(findings.summary.last_ts).max(0.0),
        });
        return;
    }
    if next.inferred {
        let follows = next
            .share
            .zip(next.of_traces)
            .map(|(share, of_traces)| Follows {
                after: findings.last_success.map(|s| s.node_name.clone()),
                share,
                of_traces,
            });
        let queued = next
            .reading
            .zip(next.messages_ahead)
            .map(|(reading, ahead)| Queued {
                ahead: ahead.max(0) as u64,
                // A join's q_depth_in sums its inbound edges.
                depth: Depth {
                    depth: next.q_depth_in,
                    capacity: next.queue_maxsize.map(|c| c * next.edges_read() as i64),
                },
                reading,
            });
        if next.lost {
            steps.push(TraceStep::Lost {
                node,
                queued,
                follows,
                taken_after: next.taken_after.unwrap_or(0),
            });
        } else {
            let holder = match &next.held {
                Some(super::find::Held::Attempt {
                    trace_id,
                    running_ms,
                }) => Holder::Attempt {
                    trace_id: trace_id.clone(),
                    running_ms: *running_ms,
                },
                Some(super::find::Held::Output {
                    q_depth_out,
                    queue_maxsize,
                }) => Holder::Output(Depth {
                    depth: Some(*q_depth_out),
                    capacity: Some(*queue_maxsize),
                }),
                None => Holder::Busy,
            };
            steps.push(TraceStep::Waiting {
                node,
                p95_ms: next.p95_ms,
                idle_ms: next.idle_ms,
                queued,
                follows,
                holder,
            });
        }
        return;
    }
    // q_depth_out sums every outgoing edge: blocked only if that sum fills all of them.
    let outgoing = findings
        .timeline
        .iter()
        .rev()
        .find(|e| e.node_name.as_deref() == Some(node.as_str()) && e.kind == Kind::NodeStart)
        .and_then(|e| e.outgoing())
        .unwrap_or(1)
        .max(1);
    // A router hands its message to one branch: one full edge blocks it.
    let edges_to_fill = if findings.routes { 1 } else { outgoing };
    let blocked = Depth {
        depth: next.q_depth_out,
        capacity: next
            .queue_maxsize
            .map(|capacity| capacity.saturating_mul(edges_to_fill)),
    }
    .is_full();
    let attempt = next.attempts.saturating_sub(1);
    match next.event.as_deref() {
        Some("node_start") if blocked => steps.push(TraceStep::BlockedHandingOver {
            node,
            attempt,
            outbound: Depth {
                depth: next.q_depth_out,
                capacity: next.queue_maxsize,
            },
        }),
        Some("node_start") => {
            // The rule saturation judges hangs by: an attempt no longer than one the node
            // already finished (with a few finished to know) is slow, not hung.
            let longest = findings
                .latency
                .get(node.as_str())
                .filter(|latency| latency.count() >= HANG_MIN_COMPLETED_FEW)
                .and_then(Percentiles::max);
            match (next.running_ms, longest) {
                (Some(ms), Some(longest)) if ms <= longest => steps.push(TraceStep::SlowNotHung {
                    node,
                    attempt,
                    running_ms: next.running_ms,
                    p95_ms: next.p95_ms,
                    longest_ms: longest,
                }),
                _ => steps.push(TraceStep::Hanging {
                    node,
                    attempt,
                    running_ms: next.running_ms,
                    p95_ms: next.p95_ms,
                }),
            }
        }
        Some("node_retry") => steps.push(TraceStep::BetweenRetries { node }),
        Some(kind) => steps.push(TraceStep::Stuck {
            node,
            kind: kind.to_string(),
            idle_ms: next.idle_ms,
            p95_ms: next.p95_ms,
        }),
        None => {}
    }
}

fn retry_steps(findings: &TraceFindings, steps: &mut Vec<TraceStep>) {
    if findings.summary.counts.retry == 0 || findings.status != TraceStatus::Succeeded {
        return;
    }
    let mut by_node: Vec<(String, u64)> = Vec::new();
    for event in findings
        .timeline
        .iter()
        .filter(|e| e.kind == Kind::NodeRetry)
    {
        let node = event.node_name.as_deref().unwrap_or_default().to_string();
        match by_node.iter_mut().find(|(n, _)| *n == node) {
            Some((_, count)) => *count += 1,
            None => by_node.push((node, 1)),
        }
    }
    for (node, retries) in by_node {
        steps.push(TraceStep::NeededRetries { node, retries });
    }
}
