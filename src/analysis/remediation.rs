//! Remediation checklists: what to do next, built from what was found, naming nodes and the
//! knobs a PenguiFlow user turns (`NodePolicy.timeout_s`, `max_retries`, backoff,
//! `queue_maxsize`, concurrency, `Message.deadline_s`, the upstream dependency). Each item is
//! one line; the most likely cause comes first; nothing is said about what did not happen.

use std::collections::HashMap;

use super::category::{
    Category, reads_like_quota, reads_like_rejected_credentials, reads_like_unavailable,
};
use super::find::{HungCall, LastSuccess, NextNode, TimeSpent};
use super::percentile::Percentiles;
use super::saturation::{HANG_MIN_COMPLETED_FEW, LatencyTrend, WorkerTime, trend_timeout_advice};
use super::trace::{TraceStatus, TraceSummary};
use crate::event::{Event, Kind};
use crate::redact::summarize_exception;
use crate::render::{millis, plural};

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

/// A queue depth against its capacity: `2 of 2`, or `5 (unbounded)`.
pub fn depth_of(depth: Option<i64>, capacity: Option<i64>) -> String {
    match (depth, capacity) {
        (Some(depth), Some(capacity)) if capacity > 0 => format!("{depth} of {capacity}"),
        (Some(depth), _) => format!("{depth} (unbounded)"),
        (None, _) => "unknown".to_string(),
    }
}

fn is_full(depth: Option<i64>, capacity: Option<i64>) -> bool {
    matches!((depth, capacity), (Some(d), Some(c)) if c > 0 && d >= c)
}

/// The checklist for one trace.
pub fn for_trace(findings: &TraceFindings) -> Vec<String> {
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

fn timeout_steps(
    findings: &TraceFindings,
    next: &NextNode,
    events: &[&Event],
    steps: &mut Vec<String>,
) {
    let node = &next.node_name;
    let timeouts: Vec<&&Event> = events
        .iter()
        .filter(|e| e.kind == Kind::NodeTimeout)
        .collect();
    let full = events
        .iter()
        .find(|e| is_full(e.q_depth_in(), e.queue_maxsize()));
    let queue_note = full.map_or(String::new(), |full| {
        format!(
            " Its inbound queue was {} meanwhile: the consequence (timeouts and backoff hold its one worker), not the cause, since NodePolicy.timeout_s covers the handler only.",
            depth_of(full.q_depth_in(), full.queue_maxsize())
        )
    });
    let timeout_ms = timeouts
        .iter()
        .filter_map(|e| e.latency_ms())
        .fold(0.0, f64::max);
    steps.push(format!(
        "{node} timed out on {} of {} (each cut at ~{} ms, its NodePolicy.timeout_s): check the dependency {node} calls for latency or unavailability.{queue_note}",
        timeouts.len(),
        plural(next.attempts.max(timeouts.len() as u64), "attempt"),
        millis(timeout_ms)
    ));
    // A steady rise that crossed the timeout: its successes' p95 is capped by the cut (no
    // success takes longer), so it cannot size a new timeout; the rise is the cause.
    if let Some(trend) = findings.trend.filter(|trend| trend.crossed_timeout()) {
        steps.push(format!(
            "{node}'s own work rose steadily over the input until its calls crossed the timeout ({}; `flowtrace saturation` shows it step by step): {}",
            crate::render::trend::trend_summary(trend),
            trend_timeout_advice(node, trend)
        ));
        return;
    }
    if let Some(p95) = findings
        .latency
        .get(node.as_str())
        .and_then(|p| p.percentile(95.0))
    {
        let count = findings.latency[node.as_str()].count();
        let p95_text = format!(
            "{node}'s own work takes p95 {} ms (over {} that did not wait on a full queue)",
            millis(p95),
            plural(count, "success")
        );
        if timeout_ms > 0.0 && p95 < timeout_ms * 0.5 {
            steps.push(format!(
                "{p95_text}, far below the ~{} ms timeout: this request hung rather than the timeout being too tight; find what it waited on.",
                millis(timeout_ms)
            ));
        } else if timeout_ms > 0.0 && p95 < timeout_ms * 0.8 {
            steps.push(format!(
                "{p95_text}, little headroom under the ~{} ms timeout: a slower dependency tips it over; speed the dependency up or raise NodePolicy.timeout_s with room above that p95 (no success can take longer than the timeout, so its real tail is longer).",
                millis(timeout_ms)
            ));
        } else {
            steps.push(format!(
                "{p95_text}, close to the ~{} ms timeout: raise NodePolicy.timeout_s with room above that p95 (no success can take longer than the timeout, so its real tail is longer), or make the dependency faster.",
                millis(timeout_ms)
            ));
        }
    }
    if timeouts.len() > 1 {
        steps.push(format!(
            "Retries only repeated the wait at {node}: against a hanging dependency lower max_retries or add backoff so retries do not pile onto it."
        ));
    }
}

fn error_steps(
    next: &NextNode,
    events: &[&Event],
    (by_tenant, in_pod): (Option<&TenantErrors>, Option<&PodErrors>),
    steps: &mut Vec<String>,
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
    let type_text = if types.is_empty() {
        "an exception".to_string()
    } else {
        types.join(", ")
    };
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
    if auth {
        steps.push(format!(
            "{node} raised {type_text} on {}, reading like rejected credentials: check and rotate the credentials or API key {node} uses for this tenant (`flowtrace classify --by tenant,node` shows whether one tenant has them all); the code is not at fault and retrying will not help.",
            plural(errors.len() as u64, "attempt")
        ));
    } else if errors
        .iter()
        .filter_map(|e| e.exception())
        .any(reads_like_quota)
    {
        steps.push(format!(
            "{node} raised {type_text} on {}, reading like a quota or rate limit (429): the quota or rate limit {node}'s provider grants this tenant or key is spent; raise it or slow the traffic (`flowtrace classify --by tenant,node` shows whether one tenant has them all), and back off instead of retrying at once, which only spends more of it.",
            plural(errors.len() as u64, "attempt")
        ));
    } else if client_timeout {
        let whose = by_tenant.map_or(String::new(), |tenant| {
            format!(
                " ({} of the {} messages that failed at {node} are tenant {}'s: what that tenant's requests reach is slow)",
                tenant.failed, tenant.of, tenant.tenant
            )
        });
        steps.push(format!(
            "{node} raised {type_text} on {}{whose}: a timeout of the client inside {node}'s handler, logged as an error (NodePolicy.timeout_s did not fire): the dependency {node} calls did not answer in the client's own time limit; check that dependency's latency, and keep retries with backoff.",
            plural(errors.len() as u64, "attempt")
        ));
    } else if let Some(pod) = in_pod {
        let tenants: Vec<String> = pod
            .tenants
            .iter()
            .map(|(tenant, failed, taken)| format!("{tenant} {failed} of {taken}"))
            .collect();
        steps.push(format!(
            "{node} raised {type_text} on {}: {} of the {} messages that failed at {node} in what was read are pod {}'s, which fails there for every tenant it serves ({}) while the other pods do not: a fault of that pod (its host, a sidecar, its config or network), not of a tenant; drain or restart {} (`flowtrace classify --pod {}` shows it alone).",
            plural(errors.len() as u64, "attempt"),
            pod.failed,
            pod.of,
            pod.pod,
            tenants.join(", "),
            pod.pod,
            pod.pod
        ));
    } else if let Some(tenant) = by_tenant.filter(|tenant| tenant.recovered * 2 > tenant.failed) {
        // Most of them then succeeded: not the tenant's payloads or credentials, which fail
        // every attempt; gating it would fail what the retries save.
        steps.push(format!(
            "{node} raised {type_text} on {}: {} of the {} messages whose first attempt failed at {node} in what was read are tenant {}'s, and {} of those then succeeded there on a retry: what {}'s requests reach fails now and then (its shard, region or account at the dependency), not its payloads or credentials; check that dependency for {}'s requests and keep the retries with backoff, which gating {} or turning retries off would undo (`flowtrace classify --by tenant,node` shows it).",
            plural(errors.len() as u64, "attempt"),
            tenant.failed,
            tenant.of,
            tenant.tenant,
            tenant.recovered,
            tenant.tenant,
            tenant.tenant,
            tenant.tenant
        ));
    } else if let Some(tenant) = by_tenant {
        steps.push(format!(
            "{node} raised {type_text} on {}: {} of the {} messages that failed at {node} in what was read are tenant {}'s, whose failure rate there stands out from the other tenants': something about that tenant (its credentials, quota or payloads), not the code path every tenant takes; gate {} while it is fixed (`flowtrace classify --by tenant,node` shows it).",
            plural(errors.len() as u64, "attempt"),
            tenant.failed,
            tenant.of,
            tenant.tenant,
            tenant.tenant
        ));
    } else if transient {
        steps.push(format!(
            "{node} raised {type_text} on {}: the dependency it calls is failing; check its health and keep retries with backoff (NodePolicy.max_retries, backoff).",
            plural(errors.len() as u64, "attempt")
        ));
    } else {
        steps.push(format!(
            "{node} raised {type_text} on {}: a deterministic failure; fix the code, input validation or schema drift at {node} (see the exception in the timeline).",
            plural(errors.len() as u64, "attempt")
        ));
        if errors.len() > 1 {
            steps.push(format!(
                "Retrying {type_text} at {node} cannot succeed: consider max_retries=0 for it so failures surface at once instead of after the backoff."
            ));
        }
    }
}

fn cancel_steps(findings: &TraceFindings, steps: &mut Vec<String>) {
    let start = findings
        .timeline
        .iter()
        .find(|e| e.kind == Kind::TraceCancelStart);
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
    let when = start.map_or(String::new(), |e| {
        format!(
            " at {} (+{} ms into the trace)",
            e.ts.to_datetime().format("%H:%M:%S%.3f"),
            millis(e.ts.millis_since(findings.summary.first_ts))
        )
    });
    let where_ = if interrupted.is_empty() {
        String::new()
    } else {
        format!("; it stopped work at {}", interrupted.join(", "))
    };
    steps.push(format!(
        "The trace was cancelled by flow.cancel(){when}{where_}: find who cancelled (the caller's timeout or budget, or a user abort) before looking at the flow."
    ));
    if findings.summary.counts.timeout + findings.summary.counts.error > 0 {
        steps.push(format!(
            "It had {} timeout(s) and {} error(s) before the cancel: a caller giving up on a slow trace; look at those first.",
            findings.summary.counts.timeout, findings.summary.counts.error
        ));
    }
}

fn deadline_steps(findings: &TraceFindings, steps: &mut Vec<String>) {
    let Some(skip) = findings
        .timeline
        .iter()
        .find(|e| e.kind == Kind::DeadlineSkip)
    else {
        return;
    };
    let node = skip.node_name.as_deref().unwrap_or("a node");
    let late = skip
        .deadline_s()
        .map(|deadline| millis((skip.ts.as_unix_seconds() - deadline) * 1000.0));
    let late_ms = skip
        .deadline_s()
        .map(|deadline| (skip.ts.as_unix_seconds() - deadline) * 1000.0);
    let late = late.map_or(String::new(), |late| format!(" {late} ms"));
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
    if stale {
        let before = match skip.q_depth_in().unwrap_or(0).max(0) as u64 {
            0 => "with no message before it".to_string(),
            depth => format!(
                "later than the {} before it could explain",
                plural(depth, "message")
            ),
        };
        steps.push(format!(
            "The message's deadline (Message.deadline_s) had passed{late} when {node}, the first node, fetched it, {before}: the budget was gone when the message reached the flow (a stale budget); fix the caller's Message.deadline_s (clock skew, a budget computed too early, a retried request reusing an old deadline), not the flow."
        ));
    } else if let Some((visit, retrying_ms)) = findings.summary.retries_took_the_time() {
        let retrier = &visit.node_name;
        steps.push(format!(
            "The message's deadline (Message.deadline_s) had passed{late} when {node} fetched it, so the work was skipped: the budget went into retries at {retrier} ({} retries; {} ms of the trace's {} ms logged, from its first attempt there to its last event; the wait in the first queue is not logged); fix what fails at {retrier}, or lower its NodePolicy.max_retries and backoff so a message fails fast.",
            visit.retries,
            millis(retrying_ms),
            millis(findings.summary.duration_ms())
        ));
    } else if let Some((waited, worker)) = findings
        .summary
        .longest_wait()
        .map(|(visit, _)| &*visit.node_name)
        .and_then(|waited| Some((waited, findings.worker_time.get(waited)?)))
        .filter(|(_, worker)| worker.mostly_retrying())
    {
        steps.push(format!(
            "The message's deadline (Message.deadline_s) had passed{late} when {node} fetched it, so the work was skipped: it waited longest in {waited}'s queue, whose worker spent {:.0}% of its busy time on failed attempts and retry backoff: other messages' retries spent this budget; fix what fails at {waited}, or lower its NodePolicy.max_retries and backoff.",
            worker.retrying_share() * 100.0
        ));
    } else if let Some(hung) = findings.hung_call {
        steps.push(hung_call_step(findings, hung, node, &late));
    } else if let Some((spent, longest)) = findings
        .time_spent
        .and_then(|spent| Some((spent, spent.queues.first()?)))
        // A wait that took a fair part of what the budget had left at the first event (a few
        // ms between two nodes is not where the budget went).
        .filter(|(spent, longest)| {
            longest.waited_ms >= 1.0
                && spent
                    .budget_left_at_first_event_ms
                    .is_none_or(|left| longest.waited_ms >= LOGGED_WAIT_SHARE * left)
        })
    {
        // Its waits are logged (a node after the first): say where the time went, not only
        // the queue of the node that skipped it as it was at the skip.
        // A pod is a runtime of its own: the queue it waited in is that pod's.
        let (in_pod, saturation) = match findings.summary.pod.as_deref() {
            Some(pod) => (
                format!(" in pod {pod}"),
                format!("`flowtrace saturation --pod {pod}`"),
            ),
            None => (String::new(), "`flowtrace saturation`".to_string()),
        };
        steps.push(format!(
            "The message's deadline (Message.deadline_s) had passed{late} when {node} fetched it, so the work was skipped. Its time went {}: cut the longest wait, {} ms for {}{in_pod} ({saturation} shows whether {} is the bottleneck{} and what backs up behind it); raising deadline_s upstream helps only if the callers' budget is short for what the flow does (`flowtrace classify` compares them{}).",
            where_time_went(spent),
            millis(longest.waited_ms),
            longest.node_name,
            longest.node_name,
            if in_pod.is_empty() { "" } else { " there" },
            if in_pod.is_empty() {
                ""
            } else {
                ", and tells whether the skips are that pod's alone"
            },
        ));
    } else {
        steps.push(format!(
            "The message's deadline (Message.deadline_s) had passed{late} when {node} fetched it, so the work was skipped: the caller's budget is shorter than the time the message waited; raise deadline_s upstream or cut the wait (inbound queue at {node}: {}).",
            depth_of(skip.q_depth_in(), skip.queue_maxsize())
        ));
    }
    steps.push(
        "Compare the deadline callers set with the flow's real end-to-end latency (`flowtrace classify` shows its p95); a skip right after a deploy points at a new, slower path."
            .to_string(),
    );
}

/// A deadline-skipped trace caught by a call that hung (its own, or one that held the worker it
/// waited for): the call, that the node has no timeout, and what to do.
fn hung_call_step(findings: &TraceFindings, hung: &HungCall, node: &str, late: &str) -> String {
    let at = &hung.node_name;
    let call = format!(
        "{} ms against {at}'s p50 of {} ms: a call that hung, and {at} logged no node_timeout (NodePolicy.timeout_s unset, or above it), so nothing cut it short",
        millis(hung.latency_ms),
        millis(hung.own_p50_ms)
    );
    let spent = findings.time_spent;
    let budget = spent
        .and_then(|spent| {
            let left = spent.budget_left_at_first_event_ms.filter(|left| *left > 0.0)?;
            let work: f64 = spent
                .in_nodes
                .iter()
                .filter_map(|n| n.own_p50_ms)
                .sum();
            Some(format!(
                "; the message had {} ms of budget at its first event, against ~{} ms of its path's own work",
                millis(left),
                millis(work)
            ))
        })
        .unwrap_or_default();
    let fix = format!(
        "Give {at} a NodePolicy.timeout_s well below the callers' budget and find what makes its calls hang (a lock, a stalled dependency); the budget is not what is short, and raising deadline_s upstream would only hold more messages behind such calls"
    );
    if hung.own {
        format!(
            "The message's deadline (Message.deadline_s) had passed{late} when {node} fetched it, so the work was skipped: its budget went into {at}'s own attempt for it, {call}{budget}. {fix} (`flowtrace classify` counts the skips such calls caused)."
        )
    } else {
        let went = spent
            .filter(|spent| !spent.queues.is_empty())
            .map_or(String::new(), |spent| {
                format!(" Its time went {}.", where_time_went(spent))
            });
        format!(
            "The message's deadline (Message.deadline_s) had passed{late} when {node} fetched it, so the work was skipped.{went} While it waited, {at}'s worker was held by trace {}'s call, {call}: every message queued behind it waited, at {at} and, once that queue filled, upstream of it{budget}. {fix} (`flowtrace find {}` shows that call).",
            hung.trace_id, hung.trace_id
        )
    }
}

/// A deadline-skipped trace's longest logged wait is named as where its budget went when it
/// took at least this share of what the budget had left at the trace's first event.
const LOGGED_WAIT_SHARE: f64 = 0.25;

/// Where a trace's time went, as a clause: its waits before nodes, the time inside them
/// against their own work, and the unlogged wait before the first node.
fn where_time_went(spent: &TimeSpent) -> String {
    let mut parts: Vec<String> = spent
        .queues
        .iter()
        .filter(|wait| wait.waited_ms >= 1.0)
        .map(|wait| {
            let after = wait
                .after
                .as_ref()
                .map_or(String::new(), |after| format!(" (after {after})"));
            format!(
                "{} ms waiting for {}{after}",
                millis(wait.waited_ms),
                wait.node_name
            )
        })
        .collect();
    let inside: f64 = spent.in_nodes.iter().map(|n| n.ms).sum();
    let own: f64 = spent
        .in_nodes
        .iter()
        .filter(|n| n.ms > 0.0)
        .filter_map(|n| n.own_p50_ms)
        .sum();
    if inside > 0.0 {
        parts.push(format!(
            "{} ms in its attempts ({}; their nodes' own work is ~{} ms at p50, the rest of an attempt is waiting to hand its output over)",
            millis(inside),
            spent
                .in_nodes
                .iter()
                .filter(|n| n.ms > 0.0)
                .map(|n| format!("{} {}", n.node_name, millis(n.ms)))
                .collect::<Vec<_>>()
                .join(", "),
            millis(own)
        ));
    }
    if let Some(left) = spent.budget_left_at_first_event_ms {
        let first = spent
            .in_nodes
            .first()
            .map_or("the first node", |n| n.node_name.as_str());
        parts.push(if left >= 0.0 {
            format!(
                "and whatever it waited before {first}'s first event (not logged; the deadline came {} ms after that event)",
                millis(left)
            )
        } else {
            format!(
                "and whatever it waited before {first}'s first event (not logged; the deadline had passed {} ms before that event)",
                millis(-left)
            )
        });
    }
    parts.join(", ")
}

/// The message was left in a runtime that stopped: it is gone with that runtime's queues,
/// not waiting.
fn stopped_step(
    findings: &TraceFindings,
    next: &super::find::NextNode,
    stopped: &super::find::StoppedRuntime,
) -> String {
    let after = stopped.at.millis_since(findings.summary.last_ts).max(0.0);
    let since = if stopped.replaced {
        format!(
            ", and another instance of {} (a restarted flow or another pod) has served since",
            next.node_name
        )
    } else {
        String::new()
    };
    let (what, lost) = if next.inferred {
        (
            format!(
                "The message was left for {} in the runtime of {}'s {}",
                next.node_name, stopped.node_name, stopped.instance
            ),
            "the message was dropped with that runtime's queues, not waiting",
        )
    } else {
        (
            format!(
                "{}'s attempt was under way in its {}",
                next.node_name, stopped.instance
            ),
            "the attempt was cancelled with its worker, not hanging, and the message went with it",
        )
    };
    format!(
        "{what}, which stopped at {} ({} ms after this trace's last event; node_cancelled: flow.stop() or a shutdown){since}: {lost}. Resend it if the caller has not (`flowtrace traces --status in_flight` lists the traces left in flight).",
        crate::render::clock(stopped.at),
        millis(after),
    )
}

fn in_flight_steps(findings: &TraceFindings, next: &NextNode, steps: &mut Vec<String>) {
    if let Some(stopped) = &next.stopped {
        steps.push(stopped_step(findings, next, stopped));
        return;
    }
    let node = &next.node_name;
    let against_p95 = |ms: f64| match next.p95_ms {
        Some(p95) if p95 > 0.0 => format!(
            "{} ms ({:.1}x {node}'s p95 of {} ms)",
            millis(ms),
            ms / p95,
            millis(p95)
        ),
        _ => format!("{} ms", millis(ms)),
    };
    if next.inferred {
        let follows = match (next.share, next.of_traces) {
            (Some(share), Some(of)) => format!(
                "; {node} follows {} in {:.0}% of {of} traces",
                findings
                    .last_success
                    .map_or("the last node", |s| s.node_name.as_str()),
                share * 100.0
            ),
            _ => String::new(),
        };
        let queued = match (next.reading, next.messages_ahead) {
            (Some(reading), Some(ahead)) => format!(
                "; {} ahead of it when it was queued ({} {})",
                plural(ahead.max(0) as u64, "message"),
                // A join's q_depth_in sums its inbound edges.
                depth_of(
                    next.q_depth_in,
                    next.queue_maxsize.map(|c| c * next.edges_read() as i64)
                ),
                match reading {
                    super::find::QueueReading::After => "at its first event after the send",
                    super::find::QueueReading::Sender =>
                        "in the sender's outbound queue at the send",
                }
            ),
            _ => "; no reading of its queue after the send".to_string(),
        };
        let waited = next
            .idle_ms
            .map_or(String::new(), |idle| format!(" for {}", against_p95(idle)));
        if next.lost {
            steps.push(format!(
                "The message was queued for {node}{follows}{queued}, but {node} went on to take {} later messages without it: it may have been lost (a worker stopped, a flow restart); check for node_cancelled events and restarts.",
                next.taken_after.unwrap_or(0)
            ));
        } else {
            let holder = match &next.held {
                Some(super::find::Held::Attempt {
                    trace_id,
                    running_ms,
                }) => format!(
                    "{node}'s worker is held by trace {trace_id}'s attempt, running {} at the end of the input: a call that may hang (`flowtrace find {trace_id}`)",
                    against_p95(*running_ms)
                ),
                Some(super::find::Held::Output {
                    q_depth_out,
                    queue_maxsize,
                }) => format!(
                    "{node} itself waits to hand its output over (its outbound queue {}), so what holds it is further downstream; `flowtrace saturation` names the bottleneck",
                    depth_of(Some(*q_depth_out), Some(*queue_maxsize))
                ),
                None => format!(
                    "{node} is busy with other traces; `flowtrace saturation` shows whether it is the bottleneck and where its worker's time goes"
                ),
            };
            steps.push(format!(
                "The message is waiting its turn in {node}'s inbound queue{waited} at the end of the input{queued}{follows}: {holder}."
            ));
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
    let blocked = is_full(
        next.q_depth_out,
        next.queue_maxsize
            .map(|capacity| capacity.saturating_mul(edges_to_fill)),
    );
    match next.event.as_deref() {
        Some("node_start") if blocked => steps.push(format!(
            "{node} started attempt {} with its output queue already full ({}): its handler has likely finished and it is blocked handing its output to the next node. NodePolicy.timeout_s cannot help (it covers the handler, not the hand-over); what holds the next node is the cause: `flowtrace saturation` shows it.",
            next.attempts.saturating_sub(1),
            depth_of(next.q_depth_out, next.queue_maxsize)
        )),
        Some("node_start") => {
            let running = next.running_ms.map_or(String::new(), |ms| {
                format!(" (running for {} at the end of the input)", against_p95(ms))
            });
            // The rule saturation judges hangs by: an attempt no longer than one the node
            // already finished (with a few finished to know) is slow, not hung.
            let longest = findings
                .latency
                .get(node.as_str())
                .filter(|latency| latency.count() >= HANG_MIN_COMPLETED_FEW)
                .and_then(Percentiles::max);
            match (next.running_ms, longest) {
                (Some(ms), Some(longest)) if ms <= longest => steps.push(format!(
                    "{node} started attempt {} and has not finished yet{running}, no longer than {node} has taken before (its longest success took {} ms): a slow call, not yet a hang; it may still finish. If it runs past that, set (or lower) NodePolicy.timeout_s on {node} and check the dependency it calls.",
                    next.attempts.saturating_sub(1),
                    millis(longest)
                )),
                _ => steps.push(format!(
                    "{node} started attempt {} and never finished{running}: the call is hanging; set (or lower) NodePolicy.timeout_s on {node} so it fails fast, and check the dependency it calls.",
                    next.attempts.saturating_sub(1),
                )),
            }
        }
        Some("node_retry") => steps.push(format!(
            "{node} is between retries: wait for the next attempt, or if it keeps failing, fix the cause shown in the timeline."
        )),
        Some(kind) => steps.push(format!(
            "{node}'s last event is {kind} with nothing after it{}: the trace is stuck there; check {node}'s worker and dependency.",
            next.idle_ms
                .map_or(String::new(), |ms| format!(" for {}", against_p95(ms)))
        )),
        None => {}
    }
}

fn retry_steps(findings: &TraceFindings, steps: &mut Vec<String>) {
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
    for (node, count) in by_node {
        steps.push(format!(
            "{node} needed {} before succeeding: transient failures; if `flowtrace classify` shows them across many traces, fix the cause or tune backoff.",
            plural(count, "retry")
        ));
    }
}
