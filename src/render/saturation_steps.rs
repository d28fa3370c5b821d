//! Saturation's checklist (`analysis::saturation::SaturationStep`) in words: the bottleneck's
//! step, the nodes that lose their worker's time to failures, hangs, and the signals' steps.

use super::saturation_evidence::{
    failing_text, shared_others, shared_own, slowdown_text, unexplained_cause,
};
use super::trend::trend_timeout_advice;
use super::{clock, duration, millis, plural, thousands};
use crate::analysis::deadline_cause::HungTail;
use crate::analysis::saturation::{
    Bottleneck, Busy, EgressWait, Hang, HotStep, HotVerdict, LostStep, LostTo, PressureWindow,
    SaturationStep, SignalDetail, TimeoutReading,
};
use crate::analysis::tenant_share::TenantLoad;
use crate::event::Timestamp;

said_by!(SaturationStep => sentence, LostStep => lost_sentence);

/// The step as one line of the checklist.
pub fn sentence(step: &SaturationStep) -> String {
    match step {
        SaturationStep::Hang(hang) => hang_step(hang),
        SaturationStep::Bottleneck(hot) => hot_step(hot),
        SaturationStep::LostTime(lost) => lost_sentence(lost),
        SaturationStep::Saturated { node, detail } => format!(
            "{node} is saturated ({detail}): raise its queue_maxsize or its capacity, or reduce the load sent to it."
        ),
        SaturationStep::FailingNotHanging { node, detail } => format!(
            "No attempt at {node} succeeds for a while ({detail}): its attempts there ended in errors, not in silence, so they do not hang and no timeout is missing; fix what they raise (`flowtrace classify --node {node}` shows the exceptions)."
        ),
        SaturationStep::TrendStalled { node, detail } => trend_stalled_step(node, detail.as_ref()),
        SaturationStep::TimeoutsCut { node, detail } => timeouts_cut_step(node, detail),
        SaturationStep::NotFinishing { node, detail } => format!(
            "{node} starts work that does not finish ({detail}): fix or bound its slow dependency, and set NodePolicy.timeout_s below the caller's budget so it fails fast."
        ),
        SaturationStep::RetriesSaving { node, detail } => format!(
            "Retry storm at {node} ({detail}), but no message ended there for good (no node_failed, no deadline skip): the retries are what keeps it working; keep them with backoff (turning them off would fail every message they save) and fix what they cover (`flowtrace classify --node {node}` shows the exceptions)."
        ),
        SaturationStep::RetryStorm {
            node,
            detail,
            backoff_s,
            retries,
        } => format!(
            "Retry storm at {node} ({detail}): disable retries temporarily (NodePolicy.max_retries=0) or {}.",
            super::classify_steps::backoff_advice(*backoff_s, *retries)
        ),
        SaturationStep::Regressed {
            node,
            detail,
            trend,
        } => format!("{node}'s {detail}: {}", trend_timeout_advice(node, trend)),
        SaturationStep::SlowerBehind { node, detail, hot } => format!(
            "{node} got slower late in the span ({detail}), but it backs up behind {hot}: the wait to hand over its output, not its own work; fix {hot} first."
        ),
        SaturationStep::SlowerLate { node, detail } => format!(
            "{node} got slower late in the span ({detail}): check what changed then (a deploy, the dependency, load)."
        ),
        SaturationStep::BlockedDownstream { traces, example } => format!(
            "{} accumulate pending messages (e.g. {}): something downstream is not draining; check the last nodes and that the egress is consumed (flow.fetch()).",
            plural(*traces, "trace"),
            example.as_deref().unwrap_or("?")
        ),
    }
}

/// The checklist line for a node that stopped succeeding because its steadily rising latency
/// crossed its timeout (a slow-dependency signal whose cause is the trend, not a hang).
pub fn trend_stalled_step(node: &str, detail: Option<&SignalDetail>) -> String {
    let detail = detail.map_or(String::new(), |detail| format!(" ({detail})"));
    format!(
        "{node} has stopped succeeding{detail} because its steadily rising latency crossed its timeout_s: the same regression as its latency_regression signal, not a hang, and no timeout_s change fixes it; fix or escalate what {node} depends on."
    )
}

/// The checklist line for a node whose attempts its own timeout cuts while what it calls does
/// not answer: the timeout is there; the dependency is the fault.
pub fn timeouts_cut_step(node: &str, detail: &SignalDetail) -> String {
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

/// A node whose worker loses most of its time to failures, capitalized (node names are
/// identifiers, and this sentence starts with a word).
pub fn lost_sentence(lost: &LostStep) -> String {
    let step = match &lost.cause {
        LostTo::Timeouts { timeouts, reading } => timeout_step(lost, *timeouts, reading),
        LostTo::Errors {
            errors,
            tenant,
            saved,
        } => error_step(lost, *errors, tenant.as_ref(), *saved),
    };
    capitalized(step)
}

/// The checklist line for a node whose worker loses most of its time to timeouts and the
/// retry backoff after them: its dependency, not its capacity.
fn timeout_step(lost: &LostStep, timeouts: u64, reading: &TimeoutReading) -> String {
    let work = &lost.work;
    let node = &lost.node;
    let lost_text = format!(
        "timeouts and their retry backoff took {:.0}% of {node}'s busy time ({} timed out, {:.1} s, then {:.1} s of backoff; {:.1} s of successful work)",
        work.timeout_share() * 100.0,
        plural(timeouts, "attempt"),
        work.timeout_s,
        work.backoff_after_timeout_s,
        work.success_s
    );
    match reading {
        TimeoutReading::Backpressure { outbound_full } => format!(
            "{lost_text}, but {}",
            super::classify_steps::backpressure_timeouts(node, *outbound_full, timeouts)
        ),
        TimeoutReading::Trend(trend) => format!(
            "{lost_text}: its own latency rose steadily until its calls crossed timeout_s ({}; the latency_regression signal has it step by step): {}",
            super::trend::trend_summary(trend),
            trend_timeout_advice(node, trend)
        ),
        TimeoutReading::Dependency { tenant } => {
            let tenant = tenant.as_ref().map_or(String::new(), |(tenant, share)| {
                format!(
                    "; tenant {tenant} accounts for {:.0}% of that time: gate or rate-limit it",
                    share * 100.0
                )
            });
            format!(
                "{lost_text}: its dependency is failing, not its capacity. Lower NodePolicy.max_retries or timeout_s, break the circuit to the dependency{tenant}."
            )
        }
    }
}

/// The checklist line for a node whose worker loses most of its time to attempts that raise
/// and the retry backoff after them.
fn error_step(
    lost: &LostStep,
    errors: u64,
    tenant: Option<&(String, f64)>,
    saved: Option<(u64, u64, u64)>,
) -> String {
    let work = &lost.work;
    let tenant = tenant.map_or(String::new(), |(tenant, share)| {
        format!(" (tenant {tenant}: {:.0}% of that time)", share * 100.0)
    });
    let retries = match saved {
        Some((saved, failed, terminal)) => format!(
            "; keep the retries: they saved {saved} of the {failed} messages whose first attempt failed here ({terminal} ended here for good)"
        ),
        None => ", and retry only what can succeed on retry".to_string(),
    };
    format!(
        "failed attempts and their retry backoff took {:.0}% of {}'s busy time{tenant} ({} raised, {:.1} s, then {:.1} s of backoff; {:.1} s of successful work): fix what fails (see the errors){retries}.",
        work.error_share() * 100.0,
        lost.node,
        plural(errors, "attempt"),
        work.error_s,
        work.backoff_s - work.backoff_after_timeout_s,
        work.success_s
    )
}

fn capitalized(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// The bottleneck's step, then the other nodes' episodes while its own pressure is not over.
fn hot_step(step: &HotStep) -> String {
    let hot = &step.hot;
    let node = &hot.node_name;
    let capacity = step
        .capacity
        .map_or(String::new(), |c| format!(" (queue_maxsize {c})"));
    let behind = match hot.backed_up.as_slice() {
        [] => "nothing upstream is backed up yet".to_string(),
        [one] => format!(
            "{one} backs up behind it and looks slow only because it waits to hand over its output"
        ),
        several => format!(
            "{} back up behind it and look slow only because they wait to hand over their output",
            several.join(", ")
        ),
    };
    let pod_alone = |instance: &str| {
        instance.strip_prefix("pod ").map_or(String::new(), |pod| {
            format!(" (`flowtrace saturation --pod {pod}` shows that pod alone)")
        })
    };
    let mut text = match &step.verdict {
        HotVerdict::Over(window) => over_step(hot, window, &capacity),
        HotVerdict::DrainEgress(egress) => format!(
            "Drain the egress: {node} is the last node, and it spent {} in {} blocked handing its results to the full egress (q_depth_out {} at the longest one's node_start: trace {}, {} ms, until {}), so it waited on the app's flow.fetch() rather than working (its successes include that wait); fetch results faster or from more consumers. Adding replicas of {node} would not help; {behind}.",
            duration((egress.blocked_s * 1e6) as i64),
            plural(egress.attempts, "attempt"),
            egress.q_depth_out,
            egress.trace_id,
            millis(egress.waited_ms),
            clock(egress.until),
        ),
        HotVerdict::WaitsOnEgress => format!(
            "Drain the egress: {node} is the last node and its output queue to the egress was full in {:.0}% of its readings, so it waits on the app's flow.fetch() rather than working (its successes include that wait); fetch results faster or from more consumers. Adding replicas of {node} would not help; {behind}.",
            hot.outbound_full_share * 100.0,
        ),
        HotVerdict::TenantLoad { load, busy } => {
            let busy = match busy {
                Busy::Instance { instance, apart } => format!(
                    "busy {:.0}% of the span in {instance}, the most pressed of its instances ({} of the other {} backed up too, {:.0}% busy on average)",
                    apart.busy_share * 100.0,
                    apart.others_pressed,
                    apart.others,
                    apart.others_busy_share * 100.0,
                ),
                Busy::Node {
                    busy_share,
                    work_share,
                } => format!(
                    "busy {:.0}% of the span, {:.0}% of that in successful attempts",
                    busy_share * 100.0,
                    work_share * 100.0,
                ),
            };
            load_step(hot, load, &capacity, &busy, &behind)
        }
        // Node names are never capitalized: they are identifiers.
        HotVerdict::LostTime(lost) => format!(
            "The bottleneck is {node}{capacity}. {} Upstream, {behind}.",
            lost_sentence(lost)
        ),
        HotVerdict::SharedName {
            instance,
            shared,
            queue_maxsize,
        } => format!(
            "Relieve the bottleneck {node} in {instance} ({}{}): it is busy with real work ({:.0}% of the span); PenguiFlow runs one worker per node, so add replicas, make its handler or dependency faster, or send it less work. The name also stands for {}: another flow's node, not a replica of this one, so it relieves nothing; {behind}.",
            shared_own(shared, node),
            queue_maxsize
                .filter(|c| *c > 0)
                .map_or(String::new(), |c| format!(", queue_maxsize {c}")),
            shared.busy_share * 100.0,
            shared_others(shared, node),
        ),
        HotVerdict::LoadImbalance { instance, apart } => {
            let even = 1.0 / (apart.others + 1) as f64;
            format!(
                "The bottleneck is {node} in {instance} only{capacity}: its worker there was busy {:.0}% of the span, while its {} never backed up ({:.0}% busy on average); {instance} took {:.0}% of the messages {node} took across its {} instances (an even split is {:.0}%), at their speed ({} ms a success there, {} ms in the others): a load imbalance, not a slower host. Spread the traffic routed to {instance} (sticky sessions, tenants pinned to it) over the others; more replicas behind the same routing would not take its load{}; {behind}.",
                apart.busy_share * 100.0,
                if apart.others == 1 {
                    "other instance".to_string()
                } else {
                    format!("{} other instances", apart.others)
                },
                apart.others_busy_share * 100.0,
                apart.message_share * 100.0,
                apart.others + 1,
                even * 100.0,
                millis(apart.own_ms.unwrap_or_default()),
                millis(apart.others_own_ms.unwrap_or_default()),
                pod_alone(instance),
            )
        }
        HotVerdict::OneInstance { instance, apart } => format!(
            "The bottleneck is {node} in {instance} only{capacity}: its worker there was busy {:.0}% of the span, while {} never backed up; look at what differs in {instance} (its host, a noisy neighbour, the data or tenants routed to it, a dependency it reaches) before adding replicas{}; {behind}.",
            apart.busy_share * 100.0,
            if apart.others == 1 {
                format!(
                    "its other instance ({:.0}% busy)",
                    apart.others_busy_share * 100.0
                )
            } else {
                format!(
                    "its {} other instances ({:.0}% busy on average)",
                    apart.others,
                    apart.others_busy_share * 100.0
                )
            },
            pod_alone(instance),
        ),
        HotVerdict::Replicas {
            instance,
            apart,
            work_share,
        } => format!(
            "Relieve the bottleneck {node}{capacity}: it is busy with real work ({:.0}% of the span in {instance}, the most pressed of its instances; {} of the other {} backed up too, {:.0}% busy on average), {:.0}% of its time in successful attempts; PenguiFlow runs one worker per node and pod, so add replicas, make its handler or dependency faster, or send it less work; {behind}.",
            apart.busy_share * 100.0,
            apart.others_pressed,
            apart.others,
            apart.others_busy_share * 100.0,
            work_share * 100.0,
        ),
        HotVerdict::HungTail(hung) => hung_tail_step(node, hung, &capacity, &behind),
        HotVerdict::Failing { window, work_share } => format!(
            "The bottleneck is {node}{capacity}, and it is failing: while its queue was full at times between {} and {}, {}: failed attempts and their retry backoff held its worker, not real work (over the whole input {:.0}% of its busy time was successful work, which is not what filled the queue); fix or escalate what {node} calls, and break the circuit to it (fewer retries, a longer backoff) while it fails; adding replicas would send the failing dependency more calls; {behind}.",
            clock(window.first),
            clock(window.last),
            failing_text(window),
            work_share * 100.0,
        ),
        HotVerdict::SlowedDown(window) => format!(
            "The bottleneck is {node}{capacity}, and it slowed down: while its queue was full at times between {} and {}, {}; look at what {node} calls (its handler or dependency) at those times before adding replicas, which would share the slow dependency, not fix it; {behind}.",
            clock(window.first),
            clock(window.last),
            slowdown_text(window),
        ),
        HotVerdict::Busy {
            busy_share,
            work_share,
        } => format!(
            "Relieve the bottleneck {node}{capacity}: it is busy with real work ({:.0}% of the span, {:.0}% of that in successful attempts); PenguiFlow runs one worker per node, so add replicas, make its handler or dependency faster, or send it less work; {behind}.",
            busy_share * 100.0,
            work_share * 100.0,
        ),
    };
    if step.other_episodes_follow {
        text.push_str(&others_text(hot));
    }
    text
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
        duration(window.last.0.saturating_sub(window.first.0)),
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
        duration((window.drained_s * 1e6) as i64),
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
            slowdown_text(window),
        ),
        (false, Some(tenant)) => format!(
            "{when}, while tenant {tenant} started {:.0}% of its attempts: a burst of that tenant's work; {since}. If such bursts recur, rate-limit tenant {tenant} at the ingress, raise queue_maxsize to absorb them, or add replicas of {node}{behind}.{others}",
            window.tenant_share.unwrap_or_default() * 100.0
        ),
        (false, None) if window.from_input_start => format!(
            "{when}: {}; {since}{behind}.{others}",
            unexplained_cause(window, node)
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
                duration(egress.until.0.saturating_sub(empty.0)),
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
                    slowdown_text(episode)
                ),
                (false, Some(tenant)) => format!(
                    "tenant {tenant} started {:.0}% of its attempts: a burst of that tenant's work",
                    episode.tenant_share.unwrap_or_default() * 100.0
                ),
                (false, None) => unexplained_cause(episode, name),
            };
            let over = if episode.over {
                "over since".to_string()
            } else {
                format!(
                    "not over: its queue was full {} before its last reading, so relieve {name} now",
                    duration((episode.drained_s * 1e6) as i64)
                )
            };
            format!(
                " {relation}: {name} was the bottleneck on its own from {} to {} ({}{passed}), while {cause}; {over}.",
                clock(episode.first),
                clock(episode.last),
                duration(episode.last.0.saturating_sub(episode.first.0)),
            )
        })
        .collect()
}

/// The bottleneck held by a few of its own calls that hung (`deadline_cause::hung_tail`).
fn hung_tail_step(node: &str, hung: &HungTail, capacity: &str, behind: &str) -> String {
    let took = if hung.calls == 1 {
        format!("took {} ms", millis(hung.max_ms))
    } else {
        format!("took {}-{} ms", millis(hung.min_ms), millis(hung.max_ms))
    };
    format!(
        "The bottleneck is {node}{capacity}, held by a few calls that hung: {} of its {} {took} against its p50 of {} ms, {:.1} s of its {:.1} s in successful attempts, and it logged no node_timeout, so each held its one worker, and every message queued behind it, for the whole call; its other calls are as fast as usual. Find what makes those calls hang (a lock, a stalled dependency, a cold start), and when they outlast what the callers wait for (their Message.deadline_s), give {node} a NodePolicy.timeout_s below that, so that one such call stops holding every message behind it; adding replicas only spreads the wait (`flowtrace find {}` shows the longest); {behind}.",
        hung.calls,
        plural(hung.successes, "success"),
        millis(hung.p50_ms),
        hung.hung_s,
        hung.success_s,
        hung.example_trace,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_steps_read_as_their_facts() {
        let behind = SaturationStep::SlowerBehind {
            node: "parse".into(),
            detail: SignalDetail::LateP95 {
                late_ms: 90.0,
                early_ms: 40.0,
            },
            hot: "llm".into(),
        };
        assert_eq!(
            sentence(&behind),
            "parse got slower late in the span (p95 success latency 90.0 ms in the last quarter of the span, 40.0 ms before (≈, 10% bins)), but it backs up behind llm: the wait to hand over its output, not its own work; fix llm first."
        );
        let blocked = SaturationStep::BlockedDownstream {
            traces: 3,
            example: Some("t1".into()),
        };
        assert_eq!(
            sentence(&blocked),
            "3 traces accumulate pending messages (e.g. t1): something downstream is not draining; check the last nodes and that the egress is consumed (flow.fetch())."
        );
        let json = serde_json::to_string(&[SaturationStep::NotFinishing {
            node: "fetch".into(),
            detail: SignalDetail::SlowDependency {
                starts: 12,
                timeouts: 0,
                errors: 0,
                micros: 30_000_000,
                run: 3,
                never_succeeded: true,
                inflight: 0,
            },
        }])
        .unwrap();
        assert_eq!(
            json,
            "[\"fetch starts work that does not finish (12 attempts started and 0 timeouts but no success for 30.0 s (3 consecutive buckets; none in the whole input)): fix or bound its slow dependency, and set NodePolicy.timeout_s below the caller's budget so it fails fast.\"]"
        );
    }
}
