//! The saturation checklist: the hot node's step (real work, lost time, the egress), every
//! node that loses its worker's time to failures, hanging attempts, and the signals' steps.

use super::*;
use crate::render::thousands;

/// The share of a node's busy time in successful attempts.
pub(super) fn work_share(work: &WorkerTime) -> f64 {
    work.share(work.success_s)
}

/// Failed messages a tenant needs before a node's lost time is called that tenant's.
pub(super) const MIN_TENANT_MESSAGES: u64 = 3;
/// Messages a node's retries must have saved before its worker-time step says to keep them.
const MIN_SAVED_MESSAGES: u64 = 5;

/// Timeouts and backoff above this share of a node's busy time make it a dependency problem.
pub(super) const DEPENDENCY_SHARE: f64 = 0.5;

/// The tenant that lost most of `node`'s time to `lost` (timeouts or errors, with their
/// backoff), with its share (see `tenant_share`).
pub fn dominant_tenant(
    node: &NodeReport,
    lost: impl Fn(&WorkerTime) -> f64,
) -> Option<(&str, f64)> {
    tenant_share::dominant_tenant(
        node.worker_time_by_tenant
            .iter()
            .map(|(tenant, work)| (tenant.as_str(), lost(work))),
    )
    // One request retried many times is not a tenant's problem: a few messages at least, and
    // a failure rate that stands out from the other tenants' (a big tenant fails most when
    // everyone fails alike).
    .filter(|(tenant, _, _)| {
        let of = |pick: fn(&WorkerTime) -> u64| {
            move |name: &str| node.worker_time_by_tenant.get(name).map_or(0, pick)
        };
        let total = |pick: fn(&WorkerTime) -> u64| -> u64 {
            node.worker_time_by_tenant.values().map(pick).sum()
        };
        node.worker_time_by_tenant
            .get(*tenant)
            .is_some_and(|work| work.failed_messages >= MIN_TENANT_MESSAGES)
            && tenant_share::stands_out(
                tenant,
                of(|w| w.failed_messages),
                of(|w| w.messages),
                total(|w| w.failed_messages),
                total(|w| w.messages),
            )
    })
    .map(|(tenant, weight, total)| (tenant, weight / total))
}

pub(super) fn timeout_lost(work: &WorkerTime) -> f64 {
    work.timeout_s + work.backoff_after_timeout_s
}

pub(super) fn error_lost(work: &WorkerTime) -> f64 {
    work.error_s + work.backoff_s - work.backoff_after_timeout_s
}

/// The checklist line for a node whose worker loses most of its time to timeouts and the
/// retry backoff after them: its dependency, not its capacity.
pub(super) fn timeout_step(node: &NodeReport) -> String {
    let work = &node.worker_time;
    let lost = format!(
        "timeouts and their retry backoff took {:.0}% of {}'s busy time ({} timed out, {:.1} s, then {:.1} s of backoff; {:.1} s of successful work)",
        work.timeout_share() * 100.0,
        node.node_name,
        plural(node.timeouts, "attempt"),
        work.timeout_s,
        work.backoff_after_timeout_s,
        work.success_s
    );
    if node.timeouts_outbound_full * 2 > node.timeouts {
        return format!(
            "{lost}, but {}",
            crate::render::classify_steps::backpressure_timeouts(
                &node.node_name,
                node.timeouts_outbound_full,
                node.timeouts
            )
        );
    }
    if let Some(trend) = node.latency_trend.as_ref().filter(|t| t.crossed_timeout()) {
        return format!(
            "{lost}: its own latency rose steadily until its calls crossed timeout_s ({}; the latency_regression signal has it step by step): {}",
            crate::render::trend::trend_summary(trend),
            trend_timeout_advice(&node.node_name, trend)
        );
    }
    let tenant = dominant_tenant(node, timeout_lost).map_or(String::new(), |(tenant, share)| {
        format!(
            "; tenant {tenant} accounts for {:.0}% of that time: gate or rate-limit it",
            share * 100.0
        )
    });
    format!(
        "{lost}: its dependency is failing, not its capacity. Lower NodePolicy.max_retries or timeout_s, break the circuit to the dependency{tenant}."
    )
}

/// What to do about a node whose own latency rose steadily (see `LatencyTrend`), the one
/// advice about its timeout every checklist gives: the timeouts (when the rise crossed
/// `timeout_s`) are the consequence, the regression is the cause. The p95 of its successes
/// is capped by the timeout (no success takes longer), so it cannot size a new one.
pub fn trend_timeout_advice(node: &str, trend: &LatencyTrend) -> String {
    let cause = if trend.steady_traffic {
        format!("{node} or what it calls regressed (its traffic stayed steady)")
    } else {
        format!(
            "{node} or what it calls slowed down as its traffic changed: check whether the load drives it"
        )
    };
    if trend.crossed_timeout() {
        format!(
            "{cause}; its timeouts are where the rise crossed NodePolicy.timeout_s, not a timeout too tight for its normal work. Fix or escalate what {node} depends on; keep timeout_s as it is (raising it only buys time while {node} keeps degrading), and lower max_retries (each retry of a timed-out call is one more call to the degrading dependency)."
        )
    } else {
        format!(
            "{cause}: fix or escalate what {node} depends on before its latency reaches its NodePolicy.timeout_s or the callers' budget."
        )
    }
}

/// The checklist line for a node whose worker loses most of its time to attempts that raise
/// and the retry backoff after them.
pub(super) fn error_step(node: &NodeReport) -> String {
    let work = &node.worker_time;
    let tenant = dominant_tenant(node, error_lost).map_or(String::new(), |(tenant, share)| {
        format!(" (tenant {tenant}: {:.0}% of that time)", share * 100.0)
    });
    // Messages whose first attempt failed and that then succeeded here: when the retries save
    // more than end here for good, they are worth their backoff.
    let saved = work.failed_messages.saturating_sub(node.terminal);
    let retries = if saved > node.terminal && saved >= MIN_SAVED_MESSAGES {
        format!(
            "; keep the retries: they saved {saved} of the {} messages whose first attempt failed here ({} ended here for good)",
            work.failed_messages, node.terminal
        )
    } else {
        ", and retry only what can succeed on retry".to_string()
    };
    format!(
        "failed attempts and their retry backoff took {:.0}% of {}'s busy time{tenant} ({} raised, {:.1} s, then {:.1} s of backoff; {:.1} s of successful work): fix what fails (see the errors){retries}.",
        work.error_share() * 100.0,
        node.node_name,
        plural(node.errors, "attempt"),
        work.error_s,
        work.backoff_s - work.backoff_after_timeout_s,
        work.success_s
    )
}

/// A node whose worker lost most of its busy time to failures and their backoff.
#[derive(Debug, Clone, Serialize)]
pub struct LostTime {
    pub node_name: String,
    /// `timeouts` or `errors`.
    pub cause: &'static str,
    pub share: f64,
    pub step: String,
}

/// What a node's worker lost most of its time to, when that is most of it.
pub(super) fn lost_time(node: &NodeReport) -> Option<LostTime> {
    let work = &node.worker_time;
    let (cause, share, step) = if node.timeouts > 0 && work.timeout_share() >= DEPENDENCY_SHARE {
        ("timeouts", work.timeout_share(), timeout_step(node))
    } else if node.errors > 0 && work.error_share() >= DEPENDENCY_SHARE {
        ("errors", work.error_share(), error_step(node))
    } else {
        return None;
    };
    Some(LostTime {
        node_name: node.node_name.clone(),
        cause,
        share,
        step: capitalized(step),
    })
}

pub(super) fn lost_time_step(node: &NodeReport) -> Option<String> {
    lost_time(node).map(|lost| lost.step)
}

/// The latency trend of `node`, if it had one.
pub(super) fn trend_of<'a>(nodes: &'a [NodeReport], node: &str) -> Option<&'a LatencyTrend> {
    nodes
        .iter()
        .find(|n| n.node_name == node)
        .and_then(|n| n.latency_trend.as_ref())
}

/// The checklist line for a node that stopped succeeding because its steadily rising latency
/// crossed its timeout (a slow-dependency signal whose cause is the trend, not a hang).
pub fn trend_stalled_step(node: &str, detail: Option<&str>) -> String {
    let detail = detail.map_or(String::new(), |detail| format!(" ({detail})"));
    format!(
        "{node} has stopped succeeding{detail} because its steadily rising latency crossed its timeout_s: the same regression as its latency_regression signal, not a hang, and no timeout_s change fixes it; fix or escalate what {node} depends on."
    )
}

/// The checklist line for a node whose attempts its own timeout cuts while what it calls does
/// not answer: the timeout is there; the dependency is the fault.
pub fn timeouts_cut_step(node: &str, detail: &str) -> String {
    format!(
        "{node} answers nothing for a while ({detail}): its NodePolicy.timeout_s already cuts each attempt (they end in node_timeout), so no timeout is missing; what {node} calls does not answer: fix or escalate that dependency, and break the circuit to it (fewer retries, a longer backoff) so timeouts and backoff stop holding {node}'s worker."
    )
}

/// The checklist line for a hanging attempt.
pub fn hang_step(hang: &Hang) -> String {
    let p95 = match (hang.p95_ms, hang.longest_ms) {
        (Some(p95), Some(longest)) => format!(
            " ({:.1}x its p95 of {} ms, {:.1}x its longest attempt that ended, {} ms)",
            hang.running_ms / p95.max(0.001),
            millis(p95),
            hang.running_ms / longest.max(0.001),
            millis(longest)
        ),
        (Some(p95), None) => format!(
            " ({:.1}x its p95 of {} ms)",
            hang.running_ms / p95.max(0.001),
            millis(p95)
        ),
        _ => String::new(),
    };
    let instance = hang
        .instance
        .as_ref()
        .map_or(String::new(), |instance| format!(" in {instance}"));
    let behind = hang.queued_behind.map_or(String::new(), |queued| {
        format!(
            ": {} wait behind it",
            plural(queued.max(0) as u64, "message")
        )
    });
    format!(
        "{}'s attempt for trace {} has run {} ms at the end of the input{p95} and holds {}'s only worker{instance}{behind}. No timeout cut it: set NodePolicy.timeout_s on {}, and look at the call it makes (`flowtrace find {}`).",
        hang.node_name,
        hang.trace_id,
        millis(hang.running_ms),
        hang.node_name,
        hang.node_name,
        hang.trace_id
    )
}

/// Lost-time findings of every node but the hot node (whose own step says it).
pub(super) fn lost_elsewhere(nodes: &[NodeReport], hot: Option<&Bottleneck>) -> Vec<LostTime> {
    nodes
        .iter()
        .filter(|node| hot.is_none_or(|h| h.node_name != node.node_name))
        .filter_map(lost_time)
        .collect()
}

pub(super) fn capitalized(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// The tenant whose messages are the bottleneck's load (`tenant_share::load_of_one_tenant`,
/// on each tenant's own work there), when its step is about its worker's real work: not a
/// pressure that is over, an egress the app does not drain, a worker losing its time to
/// failures, one pod of several, a node that slowed down, nor a transient bottleneck (the
/// shares are over the whole input) or a name that also stands for another flow's node (they
/// pool both nodes' work).
pub(super) fn tenant_load(nodes: &[NodeReport], hot: &Bottleneck) -> Option<TenantLoad> {
    let report = nodes.iter().find(|n| n.node_name == hot.node_name)?;
    let window = hot.window.as_ref();
    let one_pod_only = report
        .pressure_apart
        .as_ref()
        .is_some_and(|apart| apart.others_pressed == 0);
    // Replicas pressed alike are judged before a slow-down (the checklist's order).
    let replicas = report.pressure_instance.is_some() && report.pressure_apart.is_some();
    let slowed_down = !replicas && window.is_some_and(PressureWindow::slowed_down);
    if window.is_some_and(|w| w.over)
        || hot.waits_on_egress
        || hot.during.is_some()
        || hot.shared_name.is_some()
        || report.shared_name.is_some()
        || one_pod_only
        || slowed_down
        || lost_time_step(report).is_some()
    {
        return None;
    }
    let mut per_tenant: Vec<(&str, f64, u64)> = report
        .worker_time_by_tenant
        .iter()
        .map(|(tenant, work)| (tenant.as_str(), work.own_work_s, work.messages))
        .collect();
    // Tenants past the ones followed (`MAX_INSTANCES`) still count in the node's totals, as
    // messages without a tenant do: a share is of all the node's work.
    let (work, messages) = per_tenant
        .iter()
        .fold((0.0, 0), |(w, m), (_, work, count)| (w + work, m + count));
    let rest_work = (report.worker_time.own_work_s - work).max(0.0);
    let rest_messages = report.worker_time.messages.saturating_sub(messages);
    if !per_tenant.is_empty() && (rest_messages > 0 || rest_work > 1e-6) {
        match per_tenant.iter_mut().find(|(t, _, _)| *t == UNKNOWN_TENANT) {
            Some(unknown) => {
                unknown.1 += rest_work;
                unknown.2 += rest_messages;
            }
            None => per_tenant.push((UNKNOWN_TENANT, rest_work, rest_messages)),
        }
    }
    tenant_share::load_of_one_tenant(per_tenant)
}

/// The checklist line for a bottleneck whose load is one tenant's messages: that tenant's
/// work is what to send it less of, and the other tenants are the ones waiting behind it.
fn load_step(
    hot: &Bottleneck,
    load: &TenantLoad,
    capacity: &str,
    busy: &str,
    behind: &str,
) -> String {
    let node = &hot.node_name;
    let tenant = &load.tenant.tenant;
    let percent = |share: f64| format!("{:.0}%", share * 100.0);
    let mut others: Vec<String> = load
        .others
        .iter()
        .take(4)
        .enumerate()
        .map(|(index, other)| {
            if index == 0 {
                format!(
                    "{} {} of the work for {} of the messages",
                    other.tenant,
                    percent(other.work_share),
                    percent(other.message_share)
                )
            } else {
                format!(
                    "{} {} for {}",
                    other.tenant,
                    percent(other.work_share),
                    percent(other.message_share)
                )
            }
        })
        .collect();
    if load.others.len() > 4 {
        others.push(plural(load.others.len() as u64 - 4, "more tenant"));
    }
    format!(
        "Relieve the bottleneck {node}{capacity} of tenant {tenant}'s work: {tenant}'s messages are most of {node}'s load, {} of {node}'s own work ({:.1} of {:.1} s of successful attempts that did not wait to hand over) for {} of the messages it took ({} of {}), {} ms each against {} ms for the other tenants' ({}). {node} is {busy}; PenguiFlow runs one worker per node, so the other tenants' messages wait behind {tenant}'s in its queue. Rate-limit {tenant} at the ingress, split its payloads into smaller messages, or give it a flow of its own (replicas of {node} would relieve it too, sized for one tenant's payloads); `flowtrace saturation --tenant {tenant}` shows {node}'s worker with {tenant}'s traces alone; {behind}.",
        percent(load.tenant.work_share),
        load.tenant.own_work_s,
        load.node_own_work_s,
        percent(load.tenant.message_share),
        thousands(load.tenant.messages),
        thousands(load.node_messages),
        millis(load.ms_per_message),
        millis(load.others_ms_per_message),
        others.join(", "),
    )
}

/// The checklist line for a bottleneck whose queue drained long before the input's end: a
/// burst, over; relieving it is for the next one.
fn over_step(hot: &Bottleneck, window: &PressureWindow, capacity: &str) -> String {
    let behind = match hot.backed_up.as_slice() {
        [] => String::new(),
        [one] => format!("; {one} backed up behind it while it lasted"),
        several => format!(
            "; {} backed up behind it while it lasted",
            several.join(", ")
        ),
    };
    let node = &hot.node_name;
    let when = format!(
        "{node} was the bottleneck{capacity} only from {} to {} ({})",
        clock(window.first),
        clock(window.last),
        signals::duration_text(window.last.0.saturating_sub(window.first.0)),
    );
    let others = others_text(hot);
    if let Some(stopped) = window.stopped {
        let instance = hot
            .instance
            .as_ref()
            .map_or(String::new(), |instance| format!(" in {instance}"));
        return format!(
            "{when}{instance}, until that runtime stopped at {} (node_cancelled: flow.stop() or a shutdown); another instance of {node} (a restarted flow or another pod) has served since, so nothing needs relieving now. Messages left in the stopped runtime's queues were dropped with it: `flowtrace traces --status in_flight` lists them, `flowtrace find <trace_id>` says where each was{behind}.{others}",
            clock(stopped)
        );
    }
    // Another node pressed at the end, after this window: something needs relieving now.
    let now = if hot
        .other_episodes
        .iter()
        .any(|other| !other.window.over && other.window.first > window.last)
    {
        "its own pressure is over"
    } else {
        "nothing needs relieving now"
    };
    let since = format!(
        "its queue has been below full for the {} since, so {now}",
        signals::duration_text((window.drained_s * 1e6) as i64),
    );
    if let Some(egress) = window.egress.as_ref().filter(|_| window.egress_bound()) {
        return format!(
            "{}{others}",
            egress_over_step(hot, window, egress, &when, &since, &behind)
        );
    }
    match (window.slowed_down(), &window.tenant) {
        (true, _) => format!(
            "{when}, while {}: {node} itself slowed down (its handler or what it calls), not the traffic; {since}. If it recurs, look at what {node} depends on at those times{behind}.{others}",
            window.slowdown_text(),
        ),
        (false, Some(tenant)) => format!(
            "{when}, while tenant {tenant} started {:.0}% of its attempts: a burst of that tenant's work; {since}. If such bursts recur, rate-limit tenant {tenant} at the ingress, raise queue_maxsize to absorb them, or add replicas of {node}{behind}.{others}",
            window.tenant_share.unwrap_or_default() * 100.0
        ),
        (false, None) if window.from_input_start => format!(
            "{when}: {}; {since}{behind}.{others}",
            window.unexplained_cause(node)
        ),
        (false, None) => format!(
            "{when}: more work arrived than it takes; {since}. If such bursts recur, raise queue_maxsize to absorb them, rate-limit the senders, or add replicas of {node}{behind}.{others}"
        ),
    }
}

/// A sink that was the bottleneck only while the app stopped taking results from the egress:
/// the consumer, not the node (its own work kept its speed), and over.
fn egress_over_step(
    hot: &Bottleneck,
    window: &PressureWindow,
    egress: &EgressWait,
    when: &str,
    since: &str,
    behind: &str,
) -> String {
    let node = &hot.node_name;
    let capacity = hot
        .queue_maxsize
        .filter(|c| *c > 0)
        .map_or(String::new(), |c| format!(" of {c}"));
    let (from, stalled) = match egress.empty_before {
        Some(empty) => (
            empty,
            format!(
                "for about {} (its output queue to the egress, last read empty at {}, ",
                signals::duration_text(egress.until.0.saturating_sub(empty.0)),
                clock(empty)
            ),
        ),
        None => (
            egress.blocked_at,
            "(its output queue to the egress ".to_string(),
        ),
    };
    let own = match (window.mean_ms_during, window.mean_ms_outside) {
        (Some(during), Some(outside)) if !window.slowed_down() => format!(
            "; its own attempts took {} ms on average then, {} ms otherwise: no node slowed down",
            millis(during),
            millis(outside)
        ),
        _ => String::new(),
    };
    let rfc3339 = |ts: Timestamp| {
        ts.to_datetime()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    format!(
        "{when}, and not by its own work: it is the last node, and the app stopped taking results from the egress (flow.fetch()) {stalled}was full, {}{capacity}, when its attempt for trace {} started at {}, and that attempt waited {} ms to hand its result over, until {}{own}); {since}. If it recurs, look at the app's consumer (what its flow.fetch() loop does between calls: a slow write, a blocking call) or fetch from more consumers; adding replicas of {node} would not help{behind}. `flowtrace events --node {node} --since {} --until {}` shows q_depth_out climbing to {} at its node_start.",
        egress.q_depth_out,
        egress.trace_id,
        clock(egress.blocked_at),
        millis(egress.waited_ms),
        clock(egress.until),
        rfc3339(from),
        rfc3339(Timestamp(egress.until.0.saturating_add(1_000))),
        egress.q_depth_out,
    )
}

/// The other nodes' episodes apart from the bottleneck's window, one sentence each (empty
/// without any), to follow its step.
fn others_text(hot: &Bottleneck) -> String {
    let Some(window) = hot.window.as_ref() else {
        return String::new();
    };
    let node = &hot.node_name;
    hot.other_episodes
        .iter()
        .map(|other| {
            let name = &other.node_name;
            let episode = &other.window;
            let relation = if episode.first < window.first {
                "Before it, a separate episode"
            } else {
                "After it, a separate episode"
            };
            let passed = other.passed_on.map_or(String::new(), |passed| {
                format!(
                    "; {node}'s queue filled only as its backlog reached it, from {} to {}",
                    clock(passed.first),
                    clock(passed.last)
                )
            });
            let cause = match (episode.slowed_down(), &episode.tenant) {
                (true, _) => format!(
                    "{}: {name} itself slowed down (its handler or what it calls), not {node} nor the traffic; look at what {name} depends on at those times",
                    episode.slowdown_text()
                ),
                (false, Some(tenant)) => format!(
                    "tenant {tenant} started {:.0}% of its attempts: a burst of that tenant's work",
                    episode.tenant_share.unwrap_or_default() * 100.0
                ),
                (false, None) => episode.unexplained_cause(name),
            };
            let over = if episode.over {
                "over since".to_string()
            } else {
                format!(
                    "not over: its queue was full {} before its last reading, so relieve {name} now",
                    signals::duration_text((episode.drained_s * 1e6) as i64)
                )
            };
            format!(
                " {relation}: {name} was the bottleneck on its own from {} to {} ({}{passed}), while {cause}; {over}.",
                clock(episode.first),
                clock(episode.last),
                signals::duration_text(episode.last.0.saturating_sub(episode.first.0)),
            )
        })
        .collect()
}

/// The bottleneck held by a few of its own calls that hung (`deadline_cause::hung_tail`).
fn hung_tail_step(
    node: &str,
    hung: &crate::analysis::deadline_cause::HungTail,
    capacity: &str,
    behind: &str,
) -> String {
    let took = if hung.calls == 1 {
        format!("took {} ms", millis(hung.max_ms))
    } else {
        format!("took {}-{} ms", millis(hung.min_ms), millis(hung.max_ms))
    };
    format!(
        "The bottleneck is {node}{capacity}, held by a few calls that hung: {} of its {} {took} against its p50 of {} ms, {:.1} s of its {:.1} s in successful attempts, and it logged no node_timeout, so each held its one worker, and every message queued behind it, for the whole call; its other calls are as fast as usual. Find what makes those calls hang (a lock, a stalled dependency, a cold start), and when they outlast what the callers wait for (their Message.deadline_s), give {node} a NodePolicy.timeout_s below that, so that one such call stops holding every message behind it; adding replicas only spreads the wait (`flowtrace find {}` shows the longest); {behind}.",
        hung.calls,
        crate::render::plural(hung.successes, "success"),
        millis(hung.p50_ms),
        hung.hung_s,
        hung.success_s,
        hung.example_trace,
    )
}

/// The checklist, and whether its bottleneck step (the first) says the bottleneck is one
/// instance's load imbalance rather than a slower host.
pub(super) fn remediate(
    nodes: &[NodeReport],
    signals: &[Signal],
    hot: Option<&Bottleneck>,
) -> (Vec<String>, bool) {
    let mut steps = Vec::new();
    let mut load_imbalance = false;
    let hot_report = hot.and_then(|h| nodes.iter().find(|n| n.node_name == h.node_name));
    if let (Some(hot), Some(report)) = (hot, hot_report) {
        let capacity = report
            .queue_maxsize
            .filter(|c| *c > 0)
            .map_or(String::new(), |c| format!(" (queue_maxsize {c})"));
        let behind = if hot.backed_up.is_empty() {
            "nothing upstream is backed up yet".to_string()
        } else {
            match hot.backed_up.as_slice() {
                [one] => format!(
                    "{one} backs up behind it and looks slow only because it waits to hand over its output"
                ),
                several => format!(
                    "{} back up behind it and look slow only because they wait to hand over their output",
                    several.join(", ")
                ),
            }
        };
        let first = steps.len();
        let egress_bound = hot.window.as_ref().and_then(|window| {
            window
                .egress
                .as_ref()
                .filter(|_| hot.sink && window.egress_bound())
        });
        if let Some(window) = hot.window.as_ref().filter(|window| window.over) {
            steps.push(over_step(hot, window, &capacity));
        } else if let Some(egress) = egress_bound.filter(|_| !hot.waits_on_egress) {
            steps.push(format!(
                "Drain the egress: {} is the last node, and it spent {} in {} blocked handing its results to the full egress (q_depth_out {} at the longest one's node_start: trace {}, {} ms, until {}), so it waited on the app's flow.fetch() rather than working (its successes include that wait); fetch results faster or from more consumers. Adding replicas of {} would not help; {behind}.",
                hot.node_name,
                signals::duration_text((egress.blocked_s * 1e6) as i64),
                plural(egress.attempts, "attempt"),
                egress.q_depth_out,
                egress.trace_id,
                millis(egress.waited_ms),
                clock(egress.until),
                hot.node_name
            ));
        } else if hot.waits_on_egress {
            steps.push(format!(
                "Drain the egress: {} is the last node and its output queue to the egress was full in {:.0}% of its readings, so it waits on the app's flow.fetch() rather than working (its successes include that wait); fetch results faster or from more consumers. Adding replicas of {} would not help; {behind}.",
                hot.node_name,
                hot.outbound_full_share * 100.0,
                hot.node_name
            ));
        } else if let Some(load) = hot.tenant_load.as_ref() {
            let busy = match (&report.pressure_instance, report.pressure_apart) {
                (Some(instance), Some(apart)) => format!(
                    "busy {:.0}% of the span in {instance}, the most pressed of its instances ({} of the other {} backed up too, {:.0}% busy on average)",
                    apart.busy_share * 100.0,
                    apart.others_pressed,
                    apart.others,
                    apart.others_busy_share * 100.0,
                ),
                _ => format!(
                    "busy {:.0}% of the span, {:.0}% of that in successful attempts",
                    report.busy_share * 100.0,
                    work_share(&report.worker_time) * 100.0,
                ),
            };
            steps.push(load_step(hot, load, &capacity, &busy, &behind));
        } else {
            match lost_time_step(report) {
            // Node names are never capitalized: they are identifiers.
            Some(lost) => steps.push(format!(
                "The bottleneck is {}{capacity}. {lost} Upstream, {behind}.",
                hot.node_name,
            )),
            None => match (&report.pressure_instance, report.pressure_apart, &report.shared_name) {
                // Its name also stands for another flow's node, and it has no replica beside
                // it: its own worker's time, not an average with a worker it does not share.
                (Some(instance), None, Some(shared)) => steps.push(format!(
                    "Relieve the bottleneck {} in {instance} ({}{}): it is busy with real work ({:.0}% of the span); PenguiFlow runs one worker per node, so add replicas, make its handler or dependency faster, or send it less work. The name also stands for {}: another flow's node, not a replica of this one, so it relieves nothing; {behind}.",
                    hot.node_name,
                    shared.own_text(&hot.node_name),
                    report
                        .queue_maxsize
                        .filter(|c| *c > 0)
                        .map_or(String::new(), |c| format!(", queue_maxsize {c}")),
                    shared.busy_share * 100.0,
                    shared.others_text(&hot.node_name),
                )),
                (Some(instance), Some(apart), _)
                    if apart.others_pressed == 0 && apart.load_imbalance() =>
                {
                    load_imbalance = true;
                    let even = 1.0 / (apart.others + 1) as f64;
                    steps.push(format!(
                        "The bottleneck is {} in {instance} only{capacity}: its worker there was busy {:.0}% of the span, while its {} never backed up ({:.0}% busy on average); {instance} took {:.0}% of the messages {} took across its {} instances (an even split is {:.0}%), at their speed ({} ms a success there, {} ms in the others): a load imbalance, not a slower host. Spread the traffic routed to {instance} (sticky sessions, tenants pinned to it) over the others; more replicas behind the same routing would not take its load{}; {behind}.",
                        hot.node_name,
                        apart.busy_share * 100.0,
                        if apart.others == 1 { "other instance".to_string() } else { format!("{} other instances", apart.others) },
                        apart.others_busy_share * 100.0,
                        apart.message_share * 100.0,
                        hot.node_name,
                        apart.others + 1,
                        even * 100.0,
                        millis(apart.own_ms.unwrap_or_default()),
                        millis(apart.others_own_ms.unwrap_or_default()),
                        instance.strip_prefix("pod ").map_or(String::new(), |pod| format!(
                            " (`flowtrace saturation --pod {pod}` shows that pod alone)"
                        )),
                    ));
                }
                (Some(instance), Some(apart), _) if apart.others_pressed == 0 => steps.push(format!(
                    "The bottleneck is {} in {instance} only{capacity}: its worker there was busy {:.0}% of the span, while {} never backed up; look at what differs in {instance} (its host, a noisy neighbour, the data or tenants routed to it, a dependency it reaches) before adding replicas{}; {behind}.",
                    hot.node_name,
                    apart.busy_share * 100.0,
                    if apart.others == 1 {
                        format!("its other instance ({:.0}% busy)", apart.others_busy_share * 100.0)
                    } else {
                        format!(
                            "its {} other instances ({:.0}% busy on average)",
                            apart.others,
                            apart.others_busy_share * 100.0
                        )
                    },
                    instance.strip_prefix("pod ").map_or(String::new(), |pod| format!(
                        " (`flowtrace saturation --pod {pod}` shows that pod alone)"
                    )),
                )),
                (Some(instance), Some(apart), _) => steps.push(format!(
                    "Relieve the bottleneck {}{capacity}: it is busy with real work ({:.0}% of the span in {instance}, the most pressed of its instances; {} of the other {} backed up too, {:.0}% busy on average), {:.0}% of its time in successful attempts; PenguiFlow runs one worker per node and pod, so add replicas, make its handler or dependency faster, or send it less work; {behind}.",
                    hot.node_name,
                    apart.busy_share * 100.0,
                    apart.others_pressed,
                    apart.others,
                    apart.others_busy_share * 100.0,
                    work_share(&report.worker_time) * 100.0,
                )),
                // A few calls that hung (no timeout cuts them) hold its worker: its tail, not
                // its speed (an average over the window would read as a slowdown).
                _ if report.hung_calls.is_some() => {
                    let hung = report.hung_calls.as_ref().expect("checked above");
                    steps.push(hung_tail_step(&hot.node_name, hung, &capacity, &behind));
                }
                // Most of its attempts failed while its queue was full: timeouts, errors and
                // their backoff held its worker; replicas would call the failing dependency
                // more, not get more done.
                _ if hot.window.as_ref().is_some_and(PressureWindow::failing) => {
                    let window = hot.window.as_ref().expect("checked above");
                    steps.push(format!(
                        "The bottleneck is {}{capacity}, and it is failing: while its queue was full at times between {} and {}, {}: failed attempts and their retry backoff held its worker, not real work (over the whole input {:.0}% of its busy time was successful work, which is not what filled the queue); fix or escalate what {} calls, and break the circuit to it (fewer retries, a longer backoff) while it fails; adding replicas would send the failing dependency more calls; {behind}.",
                        hot.node_name,
                        clock(window.first),
                        clock(window.last),
                        window.failing_text(),
                        work_share(&report.worker_time) * 100.0,
                        hot.node_name,
                    ))
                }
                // Its own attempts took far longer while its queue was full: a slow spell of
                // what it calls, which replicas would share rather than fix.
                _ if hot.window.as_ref().is_some_and(PressureWindow::slowed_down) => {
                    let window = hot.window.as_ref().expect("checked above");
                    steps.push(format!(
                        "The bottleneck is {}{capacity}, and it slowed down: while its queue was full at times between {} and {}, {}; look at what {} calls (its handler or dependency) at those times before adding replicas, which would share the slow dependency, not fix it; {behind}.",
                        hot.node_name,
                        clock(window.first),
                        clock(window.last),
                        window.slowdown_text(),
                        hot.node_name,
                    ))
                }
                _ => steps.push(format!(
                    "Relieve the bottleneck {}{capacity}: it is busy with real work ({:.0}% of the span, {:.0}% of that in successful attempts); PenguiFlow runs one worker per node, so add replicas, make its handler or dependency faster, or send it less work; {behind}.",
                    hot.node_name,
                    report.busy_share * 100.0,
                    work_share(&report.worker_time) * 100.0,
                )),
            },
        }
        }
        // The other nodes' episodes follow the bottleneck's own step (the over step has them).
        if hot.window.as_ref().is_some_and(|window| !window.over)
            && let Some(step) = steps.get_mut(first)
        {
            step.push_str(&others_text(hot));
        }
    }
    for lost in lost_elsewhere(nodes, hot) {
        steps.push(lost.step);
    }
    for signal in signals {
        let node = signal.node_name.clone().unwrap_or_default();
        match signal.kind {
            SignalKind::Saturation if hot.is_none() => steps.push(format!(
                "{node} is saturated ({}): raise its queue_maxsize or its capacity, or reduce the load sent to it.",
                signal.detail
            )),
            SignalKind::SlowDependency if signal.ended_in_errors => steps.push(format!(
                "No attempt at {node} succeeds for a while ({}): its attempts there ended in errors, not in silence, so they do not hang and no timeout is missing; fix what they raise (`flowtrace classify --node {node}` shows the exceptions).",
                signal.detail
            )),
            SignalKind::SlowDependency => match trend_of(nodes, &node) {
                Some(trend) if trend.crossed_timeout() => {
                    steps.push(trend_stalled_step(&node, Some(&signal.detail)))
                }
                _ if signal.ended_in_timeouts => steps.push(timeouts_cut_step(&node, &signal.detail)),
                _ => steps.push(format!(
                    "{node} starts work that does not finish ({}): fix or bound its slow dependency, and set NodePolicy.timeout_s below the caller's budget so it fails fast.",
                    signal.detail
                )),
            },
            // Retries with no message ending there for good saved every message they retried.
            SignalKind::RetryStorm
                if nodes
                    .iter()
                    .any(|n| n.node_name == node && n.terminal == 0 && n.timeouts == 0 && n.errors > 0) =>
            {
                steps.push(format!(
                    "Retry storm at {node} ({}), but no message ended there for good (no node_failed, no deadline skip): the retries are what keeps it working; keep them with backoff (turning them off would fail every message they save) and fix what they cover (`flowtrace classify --node {node}` shows the exceptions).",
                    signal.detail
                ))
            }
            SignalKind::RetryStorm => {
                let backoff = nodes.iter().find(|n| n.node_name == node).map_or_else(
                    || crate::render::classify_steps::backoff_advice(0.0, 0),
                    |n| crate::render::classify_steps::backoff_advice(n.worker_time.backoff_s, n.retries),
                );
                steps.push(format!(
                    "Retry storm at {node} ({}): disable retries temporarily (NodePolicy.max_retries=0) or {backoff}.",
                    signal.detail
                ))
            }
            SignalKind::LatencyRegression => {
                let backed_up = hot.is_some_and(|h| h.backed_up.contains(&node));
                if let Some(trend) = trend_of(nodes, &node) {
                    steps.push(format!(
                        "{node}'s {}: {}",
                        signal.detail,
                        trend_timeout_advice(&node, trend)
                    ));
                    continue;
                }
                steps.push(match hot {
                    Some(hot) if backed_up => format!(
                        "{node} got slower late in the span ({}), but it backs up behind {}: the wait to hand over its output, not its own work; fix {} first.",
                        signal.detail, hot.node_name, hot.node_name
                    ),
                    _ => format!(
                        "{node} got slower late in the span ({}): check what changed then (a deploy, the dependency, load).",
                        signal.detail
                    ),
                });
            }
            _ => {}
        }
    }
    let blocked: Vec<&Signal> = signals
        .iter()
        .filter(|s| s.kind == SignalKind::BlockedDownstream)
        .collect();
    if let Some(example) = blocked.first() {
        steps.push(format!(
            "{} accumulate pending messages (e.g. {}): something downstream is not draining; check the last nodes and that the egress is consumed (flow.fetch()).",
            plural(blocked.len() as u64, "trace"),
            example.trace_id.as_deref().unwrap_or("?")
        ));
    }
    (steps, load_imbalance)
}
