//! A trace's checklist (`analysis::remediation::TraceStep`) in words: one line a step, naming
//! the nodes and the knobs a PenguiFlow user turns.

use super::trend::trend_timeout_advice;
use super::{clock, millis, plural};
use crate::analysis::find::{QueueReading, TimeSpent};
use crate::analysis::remediation::{
    BudgetSpentBy, Depth, ErrorReading, Follows, Headroom, Holder, Queued, TraceStep,
};

/// A queue depth against its capacity: `2 of 2`, or `5 (unbounded)`.
pub fn depth_of(depth: Option<i64>, capacity: Option<i64>) -> String {
    match (depth, capacity) {
        (Some(depth), Some(capacity)) if capacity > 0 => format!("{depth} of {capacity}"),
        (Some(depth), _) => format!("{depth} (unbounded)"),
        (None, _) => "unknown".to_string(),
    }
}

fn depth(depth: Depth) -> String {
    depth_of(depth.depth, depth.capacity)
}

said_by!(TraceStep => sentence);

/// The step as one line of the checklist.
pub fn sentence(step: &TraceStep) -> String {
    match step {
        TraceStep::TimedOut {
            node,
            timeouts,
            attempts,
            timeout_ms,
            inbound_full,
        } => {
            let queue_note = inbound_full.map_or(String::new(), |full| {
                format!(
                    " Its inbound queue was {} meanwhile: the consequence (timeouts and backoff hold its one worker), not the cause, since NodePolicy.timeout_s covers the handler only.",
                    depth(full)
                )
            });
            format!(
                "{node} timed out on {timeouts} of {} (each cut at ~{} ms, its NodePolicy.timeout_s): check the dependency {node} calls for latency or unavailability.{queue_note}",
                plural(*attempts, "attempt"),
                millis(*timeout_ms)
            )
        }
        TraceStep::RoseIntoTimeout { node, trend } => format!(
            "{node}'s own work rose steadily over the input until its calls crossed the timeout ({}; `flowtrace saturation` shows it step by step): {}",
            super::trend::trend_summary(trend),
            trend_timeout_advice(node, trend)
        ),
        TraceStep::OwnWorkAgainstTimeout {
            node,
            p95_ms,
            successes,
            timeout_ms,
            headroom,
        } => {
            let p95_text = format!(
                "{node}'s own work takes p95 {} ms (over {} that did not wait on a full queue)",
                millis(*p95_ms),
                plural(*successes, "success")
            );
            let timeout = millis(*timeout_ms);
            match headroom {
                Headroom::Ample => format!(
                    "{p95_text}, far below the ~{timeout} ms timeout: this request hung rather than the timeout being too tight; find what it waited on."
                ),
                Headroom::Little => format!(
                    "{p95_text}, little headroom under the ~{timeout} ms timeout: a slower dependency tips it over; speed the dependency up or raise NodePolicy.timeout_s with room above that p95 (no success can take longer than the timeout, so its real tail is longer)."
                ),
                Headroom::Close => format!(
                    "{p95_text}, close to the ~{timeout} ms timeout: raise NodePolicy.timeout_s with room above that p95 (no success can take longer than the timeout, so its real tail is longer), or make the dependency faster."
                ),
            }
        }
        TraceStep::RetriesRepeatedTheWait { node } => format!(
            "Retries only repeated the wait at {node}: against a hanging dependency lower max_retries or add backoff so retries do not pile onto it."
        ),
        TraceStep::Raised {
            node,
            types,
            attempts,
            reading,
        } => raised(node, &type_text(types), &plural(*attempts, "attempt"), reading),
        TraceStep::RetryCannotSucceed { node, types } => format!(
            "Retrying {} at {node} cannot succeed: consider max_retries=0 for it so failures surface at once instead of after the backoff.",
            type_text(types)
        ),
        TraceStep::Cancelled { at, interrupted } => {
            let when = at.map_or(String::new(), |(ts, into_ms)| {
                format!(" at {} (+{} ms into the trace)", clock(ts), millis(into_ms))
            });
            let where_ = if interrupted.is_empty() {
                String::new()
            } else {
                format!("; it stopped work at {}", interrupted.join(", "))
            };
            format!(
                "The trace was cancelled by flow.cancel(){when}{where_}: find who cancelled (the caller's timeout or budget, or a user abort) before looking at the flow."
            )
        }
        TraceStep::FailedBeforeCancel { timeouts, errors } => format!(
            "It had {timeouts} timeout(s) and {errors} error(s) before the cancel: a caller giving up on a slow trace; look at those first."
        ),
        TraceStep::DeadlineSkipped {
            node,
            late_ms,
            spent_by,
        } => deadline_skipped(node, *late_ms, spent_by),
        TraceStep::CompareDeadlines => "Compare the deadline callers set with the flow's real end-to-end latency (`flowtrace classify` shows its p95); a skip right after a deploy points at a new, slower path.".to_string(),
        TraceStep::Stopped {
            node,
            inferred,
            stopped,
            after_ms,
        } => {
            let since = if stopped.replaced {
                format!(
                    ", and another instance of {node} (a restarted flow or another pod) has served since"
                )
            } else {
                String::new()
            };
            let (what, lost) = if *inferred {
                (
                    format!(
                        "The message was left for {node} in the runtime of {}'s {}",
                        stopped.node_name, stopped.instance
                    ),
                    "the message was dropped with that runtime's queues, not waiting",
                )
            } else {
                (
                    format!("{node}'s attempt was under way in its {}", stopped.instance),
                    "the attempt was cancelled with its worker, not hanging, and the message went with it",
                )
            };
            format!(
                "{what}, which stopped at {} ({} ms after this trace's last event; node_cancelled: flow.stop() or a shutdown){since}: {lost}. Resend it if the caller has not (`flowtrace traces --status in_flight` lists the traces left in flight).",
                clock(stopped.at),
                millis(*after_ms),
            )
        }
        TraceStep::Lost {
            node,
            queued,
            follows,
            taken_after,
        } => format!(
            "The message was queued for {node}{}{}, but {node} went on to take {taken_after} later messages without it: it may have been lost (a worker stopped, a flow restart); check for node_cancelled events and restarts.",
            follows_text(node, follows.as_ref()),
            queued_text(queued.as_ref()),
        ),
        TraceStep::Waiting {
            node,
            p95_ms,
            idle_ms,
            queued,
            follows,
            holder,
        } => {
            let waited =
                idle_ms.map_or(String::new(), |idle| format!(" for {}", against_p95(node, idle, *p95_ms)));
            let holder = match holder {
                Holder::Attempt {
                    trace_id,
                    running_ms,
                } => format!(
                    "{node}'s worker is held by trace {trace_id}'s attempt, running {} at the end of the input: a call that may hang (`flowtrace find {trace_id}`)",
                    against_p95(node, *running_ms, *p95_ms)
                ),
                Holder::Output(outbound) => format!(
                    "{node} itself waits to hand its output over (its outbound queue {}), so what holds it is further downstream; `flowtrace saturation` names the bottleneck",
                    depth(*outbound)
                ),
                Holder::Busy => format!(
                    "{node} is busy with other traces; `flowtrace saturation` shows whether it is the bottleneck and where its worker's time goes"
                ),
            };
            format!(
                "The message is waiting its turn in {node}'s inbound queue{waited} at the end of the input{}{}: {holder}.",
                queued_text(queued.as_ref()),
                follows_text(node, follows.as_ref()),
            )
        }
        TraceStep::BlockedHandingOver {
            node,
            attempt,
            outbound,
        } => format!(
            "{node} started attempt {attempt} with its output queue already full ({}): its handler has likely finished and it is blocked handing its output to the next node. NodePolicy.timeout_s cannot help (it covers the handler, not the hand-over); what holds the next node is the cause: `flowtrace saturation` shows it.",
            depth(*outbound)
        ),
        TraceStep::SlowNotHung {
            node,
            attempt,
            running_ms,
            p95_ms,
            longest_ms,
        } => format!(
            "{node} started attempt {attempt} and has not finished yet{}, no longer than {node} has taken before (its longest success took {} ms): a slow call, not yet a hang; it may still finish. If it runs past that, set (or lower) NodePolicy.timeout_s on {node} and check the dependency it calls.",
            running(node, *running_ms, *p95_ms),
            millis(*longest_ms)
        ),
        TraceStep::Hanging {
            node,
            attempt,
            running_ms,
            p95_ms,
        } => format!(
            "{node} started attempt {attempt} and never finished{}: the call is hanging; set (or lower) NodePolicy.timeout_s on {node} so it fails fast, and check the dependency it calls.",
            running(node, *running_ms, *p95_ms),
        ),
        TraceStep::BetweenRetries { node } => format!(
            "{node} is between retries: wait for the next attempt, or if it keeps failing, fix the cause shown in the timeline."
        ),
        TraceStep::Stuck {
            node,
            kind,
            idle_ms,
            p95_ms,
        } => format!(
            "{node}'s last event is {kind} with nothing after it{}: the trace is stuck there; check {node}'s worker and dependency.",
            idle_ms.map_or(String::new(), |ms| format!(" for {}", against_p95(node, ms, *p95_ms)))
        ),
        TraceStep::NeededRetries { node, retries } => format!(
            "{node} needed {} before succeeding: transient failures; if `flowtrace classify` shows them across many traces, fix the cause or tune backoff.",
            plural(*retries, "retry")
        ),
    }
}

fn type_text(types: &[String]) -> String {
    if types.is_empty() {
        "an exception".to_string()
    } else {
        types.join(", ")
    }
}

fn raised(node: &str, type_text: &str, attempts: &str, reading: &ErrorReading) -> String {
    match reading {
        ErrorReading::RejectedCredentials => format!(
            "{node} raised {type_text} on {attempts}, reading like rejected credentials: check and rotate the credentials or API key {node} uses for this tenant (`flowtrace classify --by tenant,node` shows whether one tenant has them all); the code is not at fault and retrying will not help."
        ),
        ErrorReading::Quota => format!(
            "{node} raised {type_text} on {attempts}, reading like a quota or rate limit (429): the quota or rate limit {node}'s provider grants this tenant or key is spent; raise it or slow the traffic (`flowtrace classify --by tenant,node` shows whether one tenant has them all), and back off instead of retrying at once, which only spends more of it."
        ),
        ErrorReading::ClientTimeout(tenant) => {
            let whose = tenant.as_ref().map_or(String::new(), |tenant| {
                format!(
                    " ({} of the {} messages that failed at {node} are tenant {}'s: what that tenant's requests reach is slow)",
                    tenant.failed, tenant.of, tenant.tenant
                )
            });
            format!(
                "{node} raised {type_text} on {attempts}{whose}: a timeout of the client inside {node}'s handler, logged as an error (NodePolicy.timeout_s did not fire): the dependency {node} calls did not answer in the client's own time limit; check that dependency's latency, and keep retries with backoff."
            )
        }
        ErrorReading::Pod(pod) => {
            let tenants: Vec<String> = pod
                .tenants
                .iter()
                .map(|(tenant, failed, taken)| format!("{tenant} {failed} of {taken}"))
                .collect();
            format!(
                "{node} raised {type_text} on {attempts}: {} of the {} messages that failed at {node} in what was read are pod {}'s, which fails there for every tenant it serves ({}) while the other pods do not: a fault of that pod (its host, a sidecar, its config or network), not of a tenant; drain or restart {} (`flowtrace classify --pod {}` shows it alone).",
                pod.failed,
                pod.of,
                pod.pod,
                tenants.join(", "),
                pod.pod,
                pod.pod
            )
        }
        ErrorReading::TenantRecovered(tenant) => format!(
            "{node} raised {type_text} on {attempts}: {} of the {} messages whose first attempt failed at {node} in what was read are tenant {}'s, and {} of those then succeeded there on a retry: what {}'s requests reach fails now and then (its shard, region or account at the dependency), not its payloads or credentials; check that dependency for {}'s requests and keep the retries with backoff, which gating {} or turning retries off would undo (`flowtrace classify --by tenant,node` shows it).",
            tenant.failed,
            tenant.of,
            tenant.tenant,
            tenant.recovered,
            tenant.tenant,
            tenant.tenant,
            tenant.tenant
        ),
        ErrorReading::Tenant(tenant) => format!(
            "{node} raised {type_text} on {attempts}: {} of the {} messages that failed at {node} in what was read are tenant {}'s, whose failure rate there stands out from the other tenants': something about that tenant (its credentials, quota or payloads), not the code path every tenant takes; gate {} while it is fixed (`flowtrace classify --by tenant,node` shows it).",
            tenant.failed, tenant.of, tenant.tenant, tenant.tenant
        ),
        ErrorReading::Transient => format!(
            "{node} raised {type_text} on {attempts}: the dependency it calls is failing; check its health and keep retries with backoff (NodePolicy.max_retries, backoff)."
        ),
        ErrorReading::Deterministic => format!(
            "{node} raised {type_text} on {attempts}: a deterministic failure; fix the code, input validation or schema drift at {node} (see the exception in the timeline)."
        ),
    }
}

fn deadline_skipped(node: &str, late_ms: Option<f64>, spent_by: &BudgetSpentBy) -> String {
    let late = late_ms.map_or(String::new(), |late| format!(" {} ms", millis(late)));
    let passed =
        format!("The message's deadline (Message.deadline_s) had passed{late} when {node}");
    match spent_by {
        BudgetSpentBy::StaleBudget { messages_before } => {
            let before = match messages_before {
                0 => "with no message before it".to_string(),
                depth => format!(
                    "later than the {} before it could explain",
                    plural(*depth, "message")
                ),
            };
            format!(
                "{passed}, the first node, fetched it, {before}: the budget was gone when the message reached the flow (a stale budget); fix the caller's Message.deadline_s (clock skew, a budget computed too early, a retried request reusing an old deadline), not the flow."
            )
        }
        BudgetSpentBy::Retries {
            retrier,
            retries,
            retrying_ms,
            trace_ms,
        } => format!(
            "{passed} fetched it, so the work was skipped: the budget went into retries at {retrier} ({retries} retries; {} ms of the trace's {} ms logged, from its first attempt there to its last event; the wait in the first queue is not logged); fix what fails at {retrier}, or lower its NodePolicy.max_retries and backoff so a message fails fast.",
            millis(*retrying_ms),
            millis(*trace_ms)
        ),
        BudgetSpentBy::OthersRetries {
            waited,
            retrying_share,
        } => format!(
            "{passed} fetched it, so the work was skipped: it waited longest in {waited}'s queue, whose worker spent {:.0}% of its busy time on failed attempts and retry backoff: other messages' retries spent this budget; fix what fails at {waited}, or lower its NodePolicy.max_retries and backoff.",
            retrying_share * 100.0
        ),
        BudgetSpentBy::HungCall {
            hung,
            budget,
            spent,
        } => {
            let at = &hung.node_name;
            let call = format!(
                "{} ms against {at}'s p50 of {} ms: a call that hung, and {at} logged no node_timeout (NodePolicy.timeout_s unset, or above it), so nothing cut it short",
                millis(hung.latency_ms),
                millis(hung.own_p50_ms)
            );
            let budget = budget.map_or(String::new(), |(left, work)| {
                format!(
                    "; the message had {} ms of budget at its first event, against ~{} ms of its path's own work",
                    millis(left),
                    millis(work)
                )
            });
            let fix = format!(
                "Give {at} a NodePolicy.timeout_s well below the callers' budget and find what makes its calls hang (a lock, a stalled dependency); the budget is not what is short, and raising deadline_s upstream would only hold more messages behind such calls"
            );
            if hung.own {
                format!(
                    "{passed} fetched it, so the work was skipped: its budget went into {at}'s own attempt for it, {call}{budget}. {fix} (`flowtrace classify` counts the skips such calls caused)."
                )
            } else {
                let went = spent.as_ref().map_or(String::new(), |spent| {
                    format!(" Its time went {}.", where_time_went(spent))
                });
                format!(
                    "{passed} fetched it, so the work was skipped.{went} While it waited, {at}'s worker was held by trace {}'s call, {call}: every message queued behind it waited, at {at} and, once that queue filled, upstream of it{budget}. {fix} (`flowtrace find {}` shows that call).",
                    hung.trace_id, hung.trace_id
                )
            }
        }
        BudgetSpentBy::Waits { spent, pod } => {
            let longest = &spent.queues[0];
            let (in_pod, saturation) = match pod {
                Some(pod) => (
                    format!(" in pod {pod}"),
                    format!("`flowtrace saturation --pod {pod}`"),
                ),
                None => (String::new(), "`flowtrace saturation`".to_string()),
            };
            format!(
                "{passed} fetched it, so the work was skipped. Its time went {}: cut the longest wait, {} ms for {}{in_pod} ({saturation} shows whether {} is the bottleneck{} and what backs up behind it); raising deadline_s upstream helps only if the callers' budget is short for what the flow does (`flowtrace classify` compares them{}).",
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
            )
        }
        BudgetSpentBy::ShortBudget { inbound } => format!(
            "{passed} fetched it, so the work was skipped: the caller's budget is shorter than the time the message waited; raise deadline_s upstream or cut the wait (inbound queue at {node}: {}).",
            depth(*inbound)
        ),
    }
}

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

/// `1200 ms (3.1x node's p95 of 390 ms)`, or the bare time when the p95 is not known.
fn against_p95(node: &str, ms: f64, p95_ms: Option<f64>) -> String {
    match p95_ms {
        Some(p95) if p95 > 0.0 => format!(
            "{} ms ({:.1}x {node}'s p95 of {} ms)",
            millis(ms),
            ms / p95,
            millis(p95)
        ),
        _ => format!("{} ms", millis(ms)),
    }
}

fn running(node: &str, running_ms: Option<f64>, p95_ms: Option<f64>) -> String {
    running_ms.map_or(String::new(), |ms| {
        format!(
            " (running for {} at the end of the input)",
            against_p95(node, ms, p95_ms)
        )
    })
}

fn follows_text(node: &str, follows: Option<&Follows>) -> String {
    follows.map_or(String::new(), |follows| {
        format!(
            "; {node} follows {} in {:.0}% of {} traces",
            follows.after.as_deref().unwrap_or("the last node"),
            follows.share * 100.0,
            follows.of_traces
        )
    })
}

fn queued_text(queued: Option<&Queued>) -> String {
    match queued {
        Some(queued) => format!(
            "; {} ahead of it when it was queued ({} {})",
            plural(queued.ahead, "message"),
            depth(queued.depth),
            match queued.reading {
                QueueReading::After => "at its first event after the send",
                QueueReading::Sender => "in the sender's outbound queue at the send",
            }
        ),
        None => "; no reading of its queue after the send".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_reads_as_its_facts() {
        let lost = TraceStep::Lost {
            node: "rank".into(),
            queued: Some(Queued {
                ahead: 2,
                depth: Depth {
                    depth: Some(3),
                    capacity: Some(4),
                },
                reading: QueueReading::Sender,
            }),
            follows: Some(Follows {
                after: None,
                share: 0.5,
                of_traces: 40,
            }),
            taken_after: 7,
        };
        assert_eq!(
            sentence(&lost),
            "The message was queued for rank; rank follows the last node in 50% of 40 traces; 2 messages ahead of it when it was queued (3 of 4 in the sender's outbound queue at the send), but rank went on to take 7 later messages without it: it may have been lost (a worker stopped, a flow restart); check for node_cancelled events and restarts."
        );
        let stuck = TraceStep::Stuck {
            node: "rank".into(),
            kind: "node_error".into(),
            idle_ms: Some(1500.0),
            p95_ms: Some(500.0),
        };
        assert_eq!(
            sentence(&stuck),
            "rank's last event is node_error with nothing after it for 1500 ms (3.0x rank's p95 of 500 ms): the trace is stuck there; check rank's worker and dependency."
        );
        let tight = TraceStep::OwnWorkAgainstTimeout {
            node: "fetch".into(),
            p95_ms: 700.0,
            successes: 1,
            timeout_ms: 1000.0,
            headroom: Headroom::Little,
        };
        assert!(sentence(&tight).starts_with(
            "fetch's own work takes p95 700 ms (over 1 success that did not wait on a full queue), little headroom under the ~1000 ms timeout"
        ));
    }

    #[test]
    fn json_carries_the_sentence() {
        let step = TraceStep::BetweenRetries {
            node: "fetch".into(),
        };
        assert_eq!(
            serde_json::to_string(&[step]).unwrap(),
            "[\"fetch is between retries: wait for the next attempt, or if it keeps failing, fix the cause shown in the timeline.\"]"
        );
    }
}
