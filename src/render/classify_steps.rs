//! classify's checklist (`analysis::classify::ClassifyStep`) in words: one line a step, naming
//! the nodes, tenants and pods, and the knobs a PenguiFlow user turns.

use super::trend::trend_summary;
use super::trend::trend_timeout_advice;
use super::{duration, millis, plural};
use crate::analysis::classify::{
    CallersGiveUp, CapacityTraffic, ClassifyStep, ExceptionAdvice, FailingPod, NoRetryToSpare,
    OwnWork, PodRemedy, RaisedWhen, StormCause, TenantShare, TimeoutAdvice,
};
use crate::analysis::deadline_cause::{CapacityExpiry, HungCalls, PodExpiry};
use crate::analysis::tenant_share::PodLoad;
use crate::event::Timestamp;

said_by!(ClassifyStep => sentence);

/// The step as one line of the checklist.
pub fn sentence(step: &ClassifyStep) -> String {
    match step {
        ClassifyStep::TimedOut {
            node,
            timeouts,
            cut_ms,
            tenant,
            own_work,
            inbound_full,
            advice,
        } => {
            let tenant_text = tenant.as_ref().map_or(String::new(), |tenant| {
                format!(
                    "; {} of the {} messages that timed out are tenant {}'s",
                    tenant.count, tenant.total, tenant.tenant
                )
            });
            let latency = match own_work {
                OwnWork::RoseIntoTimeout {
                    trend,
                    capped_p95_ms,
                } => format!(
                    "its own work rose steadily until its calls crossed the timeout: {}{}",
                    trend_summary(trend),
                    capped_p95_ms.map_or(String::new(), |p95| format!(
                        " (the p95 of its successes, {} ms, is capped by the timeout: no success can take longer; `flowtrace saturation` shows the rise step by step)",
                        millis(p95)
                    ))
                ),
                OwnWork::P95 { p95_ms } => format!(
                    "its own work takes p95 {} ms (successes that did not wait on a full queue)",
                    millis(*p95_ms)
                ),
                OwnWork::Unknown => "no unblocked success to compare".to_string(),
            };
            let inbound = inbound_full.map_or(String::new(), |full| {
                format!(
                    "; its inbound queue was full ({}) at {} of them: the consequence, as timeouts and backoff hold its one worker, not the cause",
                    full.capacity, full.timeouts
                )
            });
            format!(
                "{node}: {} (attempts cut at ~{} ms){tenant_text}; {latency}{inbound}: {}.",
                plural(*timeouts, "timeout"),
                millis(*cut_ms),
                timeout_advice(node, advice)
            )
        }
        ClassifyStep::Raised {
            type_name,
            nodes,
            count,
            when,
            advice,
        } => format!(
            "{type_name} at {}, {} {}: {}.",
            nodes.join(", "),
            plural(*count, "time"),
            raised_when(when),
            exception_advice(advice, *count)
        ),
        ClassifyStep::NodeErrors { node, errors } => format!(
            "{node}: {}: read the exceptions in `flowtrace events --node {node} --kind node_error`.",
            plural(*errors, "error")
        ),
        ClassifyStep::Cancelled {
            cancelled,
            traces,
            first,
            given_up,
        } => {
            let share = format!(
                "{cancelled} of {} ({:.0}%) were cancelled (flow.cancel), the first at {}",
                plural(*traces, "trace"),
                100.0 * *cancelled as f64 / (*traces).max(1) as f64,
                time_of_day(*first)
            );
            match given_up {
                Some(given_up) => format!("{share}: {}.", callers_give_up(given_up)),
                None => format!(
                    "{share}: look upstream, at callers' timeouts and budgets or users aborting, before changing the flow."
                ),
            }
        }
        ClassifyStep::WorkersStopped { workers, in_flight } => {
            let cut_off = if *in_flight > 0 {
                format!(
                    "; {} still in flight at the end may have been cut off: check whether they were retried",
                    plural(*in_flight, "trace")
                )
            } else {
                "; no trace was left in flight".to_string()
            };
            format!(
                "{} stopped (node_cancelled, from flow.stop()): a shutdown or redeploy{cut_off}.",
                plural(*workers, "node worker")
            )
        }
        ClassifyStep::DeadlineSkipped {
            messages,
            nodes,
            late_p50_ms,
            e2e_p95_ms,
        } => {
            let late = late_p50_ms.map_or(String::new(), |late| {
                format!(", p50 {} ms past their deadline", millis(late))
            });
            let e2e = e2e_p95_ms.map_or("no trace succeeded to compare with".to_string(), |p95| {
                format!(
                    "the flow's p95 end-to-end duration is {} ms (from the first node's first event: the wait in the first queue is not in it)",
                    millis(p95)
                )
            });
            format!(
                "{} skipped at {}{late}; {e2e}.",
                plural(*messages, "message"),
                if nodes.is_empty() {
                    "?".to_string()
                } else {
                    nodes.join(", ")
                }
            )
        }
        ClassifyStep::StaleBudgets { traces } => format!(
            "{}: the budget had already run out when the first node fetched the message, later than its queue could have held it (the skip is the trace's first event): stale client budgets; fix the callers' Message.deadline_s (clock skew, a budget computed too early, retried requests reusing an old deadline), not the flow.",
            plural(*traces, "trace")
        ),
        ClassifyStep::SpentInRetries { node, traces } => format!(
            "{}: the budget went into retries at {node} (its attempts and their backoff took at least half of the trace's logged time before the skip; the wait in the first queue is not logged): the retries do not finish inside the callers' budget; fix what fails at {node} (see the error and timeout findings), or lower its NodePolicy.max_retries and backoff so a message fails fast.",
            plural(*traces, "trace")
        ),
        ClassifyStep::BehindRetries {
            node,
            traces,
            retrying_share,
        } => format!(
            "{}: waited in {node}'s queue past the deadline while its worker spent {:.0}% of its busy time on failed attempts and retry backoff: other messages' retries spent this budget, not a lack of capacity; fix what fails at {node}, or lower its NodePolicy.max_retries and backoff (`flowtrace saturation` shows the worker time).",
            plural(*traces, "trace"),
            retrying_share * 100.0
        ),
        ClassifyStep::HungCalls(hung) => hung_calls(hung),
        ClassifyStep::AtCapacity(at) => at_capacity(at),
        ClassifyStep::CapacityTraffic { node, traffic } => match traffic {
            // Node names are identifiers: a line may start with one uncapitalized.
            CapacityTraffic::Both(tenant, router) => format!(
                "{}. {}.",
                tenant_traffic(node, tenant),
                router_ahead(node, router)
            ),
            CapacityTraffic::Tenant(tenant) => format!("{}.", tenant_traffic(node, tenant)),
            CapacityTraffic::Router(router) => format!("{}.", router_ahead(node, router)),
        },
        ClassifyStep::InOnePod(at) => in_one_pod(at),
        ClassifyStep::PodRemedy { expiry, remedy } => pod_remedy(expiry, remedy),
        ClassifyStep::ExpiredInFlow { traces } => format!(
            "{}: the deadline expired inside the flow, waiting in a queue (the first node's included): the flow is slower than the callers' budget; cut the wait (see `flowtrace saturation`) or raise Message.deadline_s upstream.",
            plural(*traces, "trace")
        ),
        ClassifyStep::TenantShortBudget(TenantShare {
            tenant,
            count,
            total,
        }) => format!(
            "{count} of the {total} that expired in the flow are tenant {tenant}'s, while the other tenants' messages got through the same queues: {tenant}'s callers give a budget (Message.deadline_s) shorter than the flow takes; raise it for {tenant}, or make its requests cheaper (`flowtrace classify --by tenant,node` shows it)."
        ),
        ClassifyStep::RetryStorm {
            node,
            retries,
            successes,
            cause,
        } => format!(
            "Retry storm at {node}: {} for {} (rate {:.2}): {}.",
            plural(*retries, "retry"),
            plural(*successes, "success"),
            *retries as f64 / *successes as f64,
            storm_cause(node, *retries, cause)
        ),
    }
}

/// A time of day to the second, `?` when not known.
fn time_of_day(ts: Option<Timestamp>) -> String {
    ts.map_or("?".into(), |ts| {
        ts.to_datetime().format("%H:%M:%S").to_string()
    })
}

/// "acme and stark", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Timeouts of a node whose outbound queue was full at most of them: PenguiFlow's
/// `timeout_s` wraps the whole handler, so a `ctx.emit` blocked on a full queue times out.
/// Shared with saturation's checklist.
pub fn backpressure_timeouts(node: &str, outbound_full: u64, timeouts: u64) -> String {
    format!(
        "its outbound queue was full at {outbound_full} of the {timeouts} timeouts: it timed out waiting to hand its output over (NodePolicy.timeout_s covers the whole handler, a ctx.emit blocked on a full queue included), not on a dependency, and each retry reruns the handler and emits again, adding load downstream; relieve the node it feeds (`flowtrace saturation` names the bottleneck) and give {node} no timeout_s (or one above that wait) or max_retries=0; lowering its timeout would only make more retries"
    )
}

/// What to do about the backoff of a retry storm whose `retries` slept `slept_s` in all:
/// retries that already sleep between attempts need more backoff, not backoff. Shared with
/// saturation's checklist.
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

fn timeout_advice(node: &str, advice: &TimeoutAdvice) -> String {
    match advice {
        TimeoutAdvice::HandingOver {
            outbound_full,
            timeouts,
        } => backpressure_timeouts(node, *outbound_full, *timeouts),
        TimeoutAdvice::GateTenant { tenant } => format!(
            "the dependency degrades for tenant {tenant} (its backend, quota or payloads): gate or rate-limit {tenant}, break the circuit to that dependency, lower max_retries so its retries stop holding the worker"
        ),
        TimeoutAdvice::FollowTheRise { trend } => trend_timeout_advice(node, trend)
            .trim_end_matches('.')
            .to_string(),
        TimeoutAdvice::TightTimeout => "the timeout is tight for its normal work: raise NodePolicy.timeout_s with room above that p95 (no success can take longer than the timeout, so its real tail is longer) or make the dependency faster".to_string(),
        TimeoutAdvice::SlowDependency { max_retries } => {
            // 1 leaves only 0 below it, and 0 is no retry at all.
            let retries = match max_retries {
                Some(0) => "; it does not retry (max_retries 0)".to_string(),
                Some(1) => ", and set max_retries to 0 (it is 1: each message's one retry holds the worker for another timeout)".to_string(),
                _ => ", and lower max_retries so retries stop holding the worker".to_string(),
            };
            format!(
                "its dependency is slow or hanging, well past its normal work: check the dependency's health and latency, break the circuit to it{retries}"
            )
        }
    }
}

fn raised_when(when: &RaisedWhen) -> String {
    match when {
        RaisedWhen::Over {
            first,
            last,
            quiet_micros,
        } => format!(
            "from {} to {}, none in the last {} of the input",
            time_of_day(Some(*first)),
            time_of_day(Some(*last)),
            duration(*quiet_micros)
        ),
        RaisedWhen::Since(first) => format!("since {}", time_of_day(Some(*first))),
    }
}

/// What an exception reads like and what to do; `attempts` is how often it was raised.
fn exception_advice(advice: &ExceptionAdvice, attempts: u64) -> String {
    match advice {
        ExceptionAdvice::Pod(pod) => pod_advice(pod),
        ExceptionAdvice::TenantQuota {
            tenant: TenantShare {
                tenant,
                count,
                total,
            },
            quota_like,
        } => format!(
            "{count} of {total} from tenant {tenant}, and {quota_like} of {attempts} attempts read like a quota or rate limit (429): tenant {tenant}'s quota or rate limit at the provider is spent; raise it or slow that tenant's traffic (gate or rate-limit it), and back off instead of retrying at once, which only spends more of it"
        ),
        ExceptionAdvice::Quota { quota_like } => format!(
            "{quota_like} of {attempts} attempts read like a quota or rate limit (429): the provider's quota or rate limit is spent; raise it or send less, and back off instead of retrying at once"
        ),
        ExceptionAdvice::TenantCredentials { tenant, auth_like } => format!(
            "an authentication failure for tenant {tenant} ({auth_like} of {attempts} attempts read like rejected credentials): check and rotate {tenant}'s credentials or API key; the code is not at fault and retrying will not help"
        ),
        ExceptionAdvice::Credentials { auth_like } => format!(
            "an authentication failure ({auth_like} of {attempts} attempts read like rejected credentials): check the credentials or API key the node uses; retrying will not help"
        ),
        ExceptionAdvice::ClientTimeout { tenant } => format!(
            "{}a timeout of the client inside the handler, logged as an error (NodePolicy.timeout_s did not fire, or the node would log node_timeout): the dependency it calls did not answer in the client's own time limit; check that dependency's latency{}, and keep retries with backoff",
            tenant.as_ref().map_or(String::new(), |tenant| format!(
                "{} of {} from tenant {}: ",
                tenant.count, tenant.total, tenant.tenant
            )),
            tenant.as_ref().map_or(String::new(), |tenant| format!(
                " for tenant {}'s requests",
                tenant.tenant
            ))
        ),
        ExceptionAdvice::TenantRecovered {
            tenant:
                TenantShare {
                    tenant,
                    count,
                    total,
                },
            saved,
            unavailable_like,
            headroom,
        } => {
            let unavailable = unavailable_like.map_or(String::new(), |unavailable_like| {
                format!(
                    ", and {unavailable_like} of {attempts} attempts read like the dependency saying it is overloaded or unavailable (HTTP 503 and the like)"
                )
            });
            let headroom = headroom.as_ref().map_or(String::new(), no_retry_to_spare);
            format!(
                "{count} of {total} from tenant {tenant}, {saved} of which then succeeded there on a retry{unavailable}: what {tenant}'s requests reach fails now and then (its shard, region or account at the dependency), not its payloads or credentials, which would fail every attempt; check that dependency for {tenant}'s requests and keep the retries with backoff: gating {tenant} or turning retries off would fail the {saved} they save{headroom}"
            )
        }
        ExceptionAdvice::Tenant(TenantShare {
            tenant,
            count,
            total,
        }) => format!(
            "{count} of {total} from tenant {tenant}: something about that tenant (its credentials, quota or payloads), not the code path every tenant takes; gate {tenant} while it is fixed"
        ),
        ExceptionAdvice::RecoveredThenExpired {
            recovered,
            messages,
            expired,
        } => format!(
            "{recovered} of {messages} messages that raised it then succeeded there on a retry, but {expired} of those ran out of their deadline afterwards: the retries recover the call and spend the budget; fix what fails (a dependency, a race) rather than retrying more"
        ),
        ExceptionAdvice::Down {
            unavailable_like,
            messages,
            terminal,
        } => format!(
            "{unavailable_like} of {attempts} attempts read like the dependency saying it is overloaded or unavailable (HTTP 503 and the like), and none of the {messages} messages that raised it succeeded on a retry ({terminal} failed for good): the dependency is down, not flaky, and retries only add to its load; fail fast while it is down (a circuit breaker, or NodePolicy.max_retries=0), check its health, and shed or slow that traffic until it answers again"
        ),
        ExceptionAdvice::Unavailable {
            unavailable_like,
            recovered,
            messages,
        } => format!(
            "{unavailable_like} of {attempts} attempts read like the dependency saying it is overloaded or unavailable (HTTP 503 and the like){}: not a defect of the code; check the dependency's health and capacity, keep retries with backoff (not at once, which adds to its load), and shed or slow traffic while it recovers",
            if *recovered > 0 {
                format!(
                    ", and {recovered} of {messages} messages that raised it then succeeded on a retry"
                )
            } else {
                String::new()
            }
        ),
        ExceptionAdvice::Recovered {
            recovered,
            messages,
        } => format!(
            "{recovered} of {messages} messages that raised it then succeeded there on a retry: transient, so retries help; find what fails now and then (a dependency, a race) before raising max_retries"
        ),
        ExceptionAdvice::FailingDependency => {
            "a failing dependency: check its health; keep retries with backoff".to_string()
        }
        ExceptionAdvice::Deterministic => "a deterministic failure: fix the code, validation or schema drift (did a deploy land then?); retrying will not help".to_string(),
    }
}

/// Failures confined to one pod that fails for every tenant it serves.
fn pod_advice(pod: &FailingPod) -> String {
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

/// The clause appended when a node's saved messages had no retry to spare.
fn no_retry_to_spare(headroom: &NoRetryToSpare) -> String {
    let NoRetryToSpare {
        node,
        attempt: top,
        at_attempt: at_top,
        saved,
        by_attempt,
        limit_known,
    } = headroom;
    let spread = by_attempt
        .iter()
        .map(|(attempt, count)| format!("attempt {attempt}: {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let limit = if *limit_known {
        format!("its max_retries is {top} (its node_failed events came at attempt {top}), so")
    } else {
        format!("if {node}'s NodePolicy.max_retries is {top},")
    };
    format!(
        ". No headroom: {at_top} of the {saved} saved messages succeeded only on attempt {top}, the last any message reached there ({spread}); {limit} they had no retry to spare: one more failed attempt each and those {at_top} fail. Raise max_retries while the dependency is fixed"
    )
}

/// One tenant's callers giving up on what the flow made slow, and where to look for it.
fn callers_give_up(given_up: &CallersGiveUp) -> String {
    let CallersGiveUp {
        tenant,
        cancelled: count,
        of_cancelled: total,
        tenant_traces: traces,
        youngest_ms,
        oldest_ms,
        p50_ms,
        first,
        last,
        others_slowest_ms,
    } = given_up;
    let since = first.to_datetime().format("%Y-%m-%dT%H:%M:%SZ");
    let until = Timestamp(last.0 + 1_000_000)
        .to_datetime()
        .format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        "{count} of the {total} cancelled traces are tenant {tenant}'s ({count} of its {traces}), cancelled {}-{} ms (p50 {} ms) after their first event, between {} and {}, while the other tenants' traces took up to {} ms and finished: {tenant}'s callers give up sooner (a client timeout near {} s), on requests the flow was slow to answer then; find what was slow (`flowtrace saturation --since {since} --until {until}`) and fix that; {tenant}'s timeout only decides who gives up first",
        millis(*youngest_ms),
        millis(*oldest_ms),
        millis(*p50_ms),
        time_of_day(Some(*first)),
        time_of_day(Some(*last)),
        millis(*others_slowest_ms),
        format_args!("{:.1}", oldest_ms / 1000.0),
    )
}

fn storm_cause(node: &str, retries: u64, cause: &StormCause) -> String {
    match cause {
        StormCause::RetriesSave {
            recovered,
            terminal,
            headroom,
        } => {
            let headroom = headroom.as_ref().map_or(String::new(), no_retry_to_spare);
            let ended = match terminal {
                0 => "none".to_string(),
                terminal => format!("only {terminal}"),
            };
            format!(
                "{recovered} messages that failed there then succeeded on a retry, and {ended} ended there for good: the retries are what keeps it working; keep them with backoff (turning them off, NodePolicy.max_retries=0, would fail those {recovered}) and fix what they cover (see the error step){headroom}"
            )
        }
        StormCause::RejectedCredentials { auth_like, raised } => format!(
            "{auth_like} of the {raised} failed attempts there read like rejected credentials, which no retry can fix: set NodePolicy.max_retries=0 for them and fix the credentials (see the error step)"
        ),
        StormCause::SpentQuota { quota_like, raised } => format!(
            "{quota_like} of the {raised} failed attempts there read like a spent quota or rate limit: retrying at once spends more of it; back off longer or lower NodePolicy.max_retries"
        ),
        StormCause::OneTenantFailsEvery {
            tenant:
                TenantShare {
                    tenant,
                    count,
                    total,
                },
            others_saved,
        } => {
            let others = if *others_saved > 0 {
                format!(
                    "; the other tenants' {} that failed there succeeded on a retry, which turning retries off (max_retries=0) would fail",
                    plural(*others_saved, "message")
                )
            } else {
                String::new()
            };
            format!(
                "{count} of the {total} retries there are tenant {tenant}'s, and none of its messages that failed there succeeded on a retry: retrying them cannot help; stop retrying {tenant}'s requests (gate {tenant}, see the error step) rather than every tenant's{others}"
            )
        }
        StormCause::HandingOver {
            outbound_full,
            timeouts,
        } => format!(
            "{outbound_full} of its {timeouts} attempts that timed out had its outbound queue full: each retry reruns a handler that was waiting to hand its output over and emits it again downstream (see the timeout step); set NodePolicy.max_retries=0 at {node} until the node it feeds is relieved"
        ),
        StormCause::PilingOn { slept_s } => format!(
            "disable retries temporarily (NodePolicy.max_retries=0) or {} so retries stop piling onto the dependency",
            backoff_advice(*slept_s, retries)
        ),
    }
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

/// Deadline skips a node's rare hung calls explain: the calls and the traces they caught, that
/// the node has no timeout, and what to do.
fn hung_calls(hung: &HungCalls) -> String {
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
    format!(
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
    )
}

/// Deadline skips one node at capacity explains: the cause with its evidence, and what to do.
fn at_capacity(at: &CapacityExpiry) -> String {
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
    format!(
        "{} of the {} that expired in the flow went through {node}, which only {} of the {} finished traces reached; {} of the other {} expired{shared}. {node} is at capacity: {workers} busy {:.0}% of the span with its own work{full}{rate}. The skips are the consequence of {node}'s capacity: messages bound for it expire waiting in the queues at and behind it.{budget} Relieve {node} (add replicas, make its handler or dependency faster, or send it less work; `flowtrace saturation` shows it) rather than raising Message.deadline_s, which only lets them wait longer.",
        at.traces,
        at.expired_in_flow,
        at.reached,
        at.reached + at.others,
        at.others_expired,
        at.others,
        at.own_busy_share.min(1.0) * 100.0,
    )
}

fn tenant_traffic(node: &str, tenant: &crate::analysis::deadline_cause::TenantTraffic) -> String {
    format!(
        "{node}'s traffic is tenant {}'s ({} of the {} messages it started): {} sends more than {node} can take; shed or rate-limit {}'s excess at the ingress (`flowtrace classify --by tenant,node` shows its skips)",
        tenant.tenant, tenant.messages, tenant.of, tenant.tenant, tenant.tenant
    )
}

fn router_ahead(node: &str, router: &crate::analysis::deadline_cause::RouterAhead) -> String {
    format!(
        "{} hands each message to one branch, and its {} took {:.1} s in all ({:.0}% of the span) for p50 {} ms of work each: it waits to hand messages over, and while {node}'s queue is full it holds every message behind the one bound for {node}, whichever branch they take (head-of-line blocking); give {node} its own flow or queue so its backlog stops holding the other branches",
        router.node_name,
        plural(router.successes, "success"),
        router.success_s,
        router.waited_share * 100.0,
        millis(router.p50_ms),
    )
}

/// Deadline skips confined to one pod: where they were, and what made the pod fall behind
/// (its share of the traffic, its node's speed against the other pods').
fn in_one_pod(at: &PodExpiry) -> String {
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
    let share = pod_share(at);
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
    format!(
        "{} of the {} that expired in the flow ran in pod {pod}, for {serves}, while its {other_pods} {had} ({}): each pod is a runtime of its own, with its own queues, so the tenants of the other pods never waited in {pod}'s; the pod's capacity is the cause, not a tenant's budget. {load}{budget}",
        at.traces,
        at.expired_in_flow,
        others.join(", "),
    )
}

/// The pod's share of every trace, in percent.
fn pod_share(at: &PodExpiry) -> f64 {
    at.pod_traces as f64 * 100.0 / at.all_traces.max(1) as f64
}

/// What to do about the pod the skips are confined to, with where the evidence is.
fn pod_remedy(at: &PodExpiry, remedy: &PodRemedy) -> String {
    let pod = &at.pod;
    let node = &at.node_name;
    let share = pod_share(at);
    let compare = at.other_pods.first().map_or(String::new(), |other| {
        format!(
            "; `flowtrace saturation --pod {pod}` and `flowtrace saturation --pod {}` show {node}'s rate, own work and busy time in each",
            other.pod
        )
    });
    let evidence =
        format!("`flowtrace classify --by pod,tenant` shows the skips by pod and tenant{compare}");
    match remedy {
        PodRemedy::Unpin { pinned, top } => format!(
            "{} ran only in {pod} (pinned to it): rebalance, spreading {}'s traffic ({} of the pod's {} traces) over the pods or no longer pinning it to one; adding replicas does not help while the tenants stay pinned (a new pod gets none of their traffic), and raising Message.deadline_s only lets the messages wait longer ({evidence}).",
            and_list(pinned),
            top.tenant,
            top.traces,
            at.pod_traces,
        ),
        PodRemedy::Rebalance => format!(
            "Rebalance the traffic across the pods (whatever sends {pod} {share:.0}% of it: the ingress, session affinity, the load balancer); raising Message.deadline_s only lets the messages wait longer ({evidence})."
        ),
        PodRemedy::ReplacePod => format!(
            "Look at what differs in {pod} (its host, a noisy neighbour, a dependency its {node} reaches) and drain or replace it; raising Message.deadline_s only lets the messages wait longer ({evidence})."
        ),
        PodRemedy::RelieveNode => format!(
            "Relieve {node} in {pod} (look at what reached it when the skips happened: a burst, a tenant's heavier requests) rather than raising Message.deadline_s, which only lets the messages wait longer ({evidence})."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::deadline_cause::{OtherPod, PodTenant, RouterAhead, TenantTraffic};

    // The variants and branches the fixtures do not reach, each against the sentence the
    // checklist said before it was data.

    /// 01:02:03 on the first day.
    const AT: Timestamp = Timestamp(3_723_000_000);

    fn raised(type_name: &str, nodes: &[&str], count: u64, advice: ExceptionAdvice) -> String {
        sentence(&ClassifyStep::Raised {
            type_name: type_name.into(),
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            count,
            when: RaisedWhen::Since(AT),
            advice,
        })
    }

    #[test]
    fn a_tight_timeout_reads_as_before() {
        let step = ClassifyStep::TimedOut {
            node: "fetch".into(),
            timeouts: 3,
            cut_ms: 1000.0,
            tenant: None,
            own_work: OwnWork::P95 { p95_ms: 900.0 },
            inbound_full: None,
            advice: TimeoutAdvice::TightTimeout,
        };
        assert_eq!(
            sentence(&step),
            "fetch: 3 timeouts (attempts cut at ~1000 ms); its own work takes p95 900 ms (successes that did not wait on a full queue): the timeout is tight for its normal work: raise NodePolicy.timeout_s with room above that p95 (no success can take longer than the timeout, so its real tail is longer) or make the dependency faster."
        );
    }

    #[test]
    fn exceptions_the_fixtures_do_not_raise_read_as_before() {
        assert_eq!(
            raised(
                "RateLimitError",
                &["llm"],
                12,
                ExceptionAdvice::Quota { quota_like: 10 }
            ),
            "RateLimitError at llm, 12 times since 01:02:03: 10 of 12 attempts read like a quota or rate limit (429): the provider's quota or rate limit is spent; raise it or send less, and back off instead of retrying at once."
        );
        assert_eq!(
            raised(
                "ConnectionError",
                &["search", "rerank"],
                1,
                ExceptionAdvice::FailingDependency
            ),
            "ConnectionError at search, rerank, 1 time since 01:02:03: a failing dependency: check its health; keep retries with backoff."
        );
        let pod = FailingPod {
            pod: "pod-a".into(),
            failures: 9,
            total: 10,
            tenants: vec![("acme".into(), 5, 6), ("stark".into(), 4, 5)],
            other_pods: 1,
        };
        assert_eq!(
            raised("ValueError", &["parse"], 9, ExceptionAdvice::Pod(pod)),
            "ValueError at parse, 9 times since 01:02:03: 9 of 10 in pod pod-a, which fails for every tenant it serves (acme 5 of 6, stark 4 of 5), while its other pod had none: a fault of that pod (its host, a sidecar, its config or network), not of a tenant; drain or restart pod-a (`flowtrace classify --pod pod-a` shows it alone)."
        );
        let errors = ClassifyStep::NodeErrors {
            node: "rank".into(),
            errors: 2,
        };
        assert_eq!(
            sentence(&errors),
            "rank: 2 errors: read the exceptions in `flowtrace events --node rank --kind node_error`."
        );
    }

    #[test]
    fn skips_with_nothing_to_compare_read_as_before() {
        let step = ClassifyStep::DeadlineSkipped {
            messages: 3,
            nodes: Vec::new(),
            late_p50_ms: None,
            e2e_p95_ms: None,
        };
        assert_eq!(
            sentence(&step),
            "3 messages skipped at ?; no trace succeeded to compare with."
        );
    }

    #[test]
    fn one_hung_call_not_the_traces_own_reads_as_before() {
        let hung = HungCalls {
            node_name: "lookup".into(),
            calls: 1,
            successes: 200,
            min_ms: 5000.0,
            max_ms: 5000.0,
            own_p50_ms: 20.0,
            budget_left_p50_ms: 3000.0,
            traces: 4,
            own: 0,
            behind: 4,
            expired_in_flow: 6,
            example_trace: "t1".into(),
            example_ms: 5000.0,
            by_tenant: Default::default(),
        };
        assert_eq!(
            sentence(&ClassifyStep::HungCalls(hung)),
            "4 of the 6 that expired in the flow ran out while one of lookup's hung calls ran: 1 of its 200 successes took 5000 ms, against its p50 of 20.0 ms and the 3000 ms of budget the expired traces had left at their first event (p50); 0 expired inside their own hung call, 4 while one held lookup's worker (waiting in its queue, or behind it upstream once that filled). lookup logged no node_timeout, so nothing cuts such a call short. Give lookup a NodePolicy.timeout_s well below the callers' budget (its normal calls take ~20.0 ms) and find what makes its calls hang (a lock, a stalled dependency); the callers' budget is not what is short, and raising Message.deadline_s would only hold more requests behind each hung call (`flowtrace saturation` shows lookup's p50 against its max)."
        );
    }

    #[test]
    fn a_node_at_capacity_with_workers_and_its_traffic_read_as_before() {
        let at = CapacityExpiry {
            node_name: "ocr".into(),
            traces: 10,
            expired_in_flow: 12,
            reached: 40,
            others: 60,
            others_expired: 1,
            shared_upstream: Vec::new(),
            own_busy_share: 0.95,
            q_depth_in_max: 3,
            queue_maxsize: None,
            own_p50_ms: Some(900.0),
            instances: 2,
            rate_per_s: 1.0,
            capacity_per_s: Some(2.0),
            budget_left_p50_ms: None,
            path: Vec::new(),
            path_work_ms: 0.0,
            tenant: None,
            router: None,
            by_tenant: Default::default(),
        };
        assert_eq!(
            sentence(&ClassifyStep::AtCapacity(at)),
            "10 of the 12 that expired in the flow went through ocr, which only 40 of the 100 finished traces reached; 1 of the other 60 expired. ocr is at capacity: its 2 workers were busy 95% of the span with its own work; it took 1.0 messages/s over the span against the ~2.0/s its own work allows (p50 900 ms, 2 workers). The skips are the consequence of ocr's capacity: messages bound for it expire waiting in the queues at and behind it. Relieve ocr (add replicas, make its handler or dependency faster, or send it less work; `flowtrace saturation` shows it) rather than raising Message.deadline_s, which only lets them wait longer."
        );
        let tenant = ClassifyStep::CapacityTraffic {
            node: "ocr".into(),
            traffic: CapacityTraffic::Tenant(TenantTraffic {
                tenant: "acme".into(),
                messages: 90,
                of: 100,
            }),
        };
        assert_eq!(
            sentence(&tenant),
            "ocr's traffic is tenant acme's (90 of the 100 messages it started): acme sends more than ocr can take; shed or rate-limit acme's excess at the ingress (`flowtrace classify --by tenant,node` shows its skips)."
        );
        let router = ClassifyStep::CapacityTraffic {
            node: "ocr".into(),
            traffic: CapacityTraffic::Router(RouterAhead {
                node_name: "route".into(),
                successes: 500,
                success_s: 120.0,
                p50_ms: 0.5,
                waited_s: 100.0,
                waited_share: 0.4,
            }),
        };
        assert_eq!(
            sentence(&router),
            "route hands each message to one branch, and its 500 successes took 120.0 s in all (40% of the span) for p50 0.50 ms of work each: it waits to hand messages over, and while ocr's queue is full it holds every message behind the one bound for ocr, whichever branch they take (head-of-line blocking); give ocr its own flow or queue so its backlog stops holding the other branches."
        );
    }

    fn slow_pod() -> PodExpiry {
        PodExpiry {
            pod: "pod-b".into(),
            traces: 8,
            expired_in_flow: 9,
            tenants: vec![PodTenant {
                tenant: "acme".into(),
                expired: 8,
                traces: 50,
                only_here: true,
            }],
            other_pods: vec![
                OtherPod {
                    pod: "pod-a".into(),
                    traces: 50,
                    expired: 1,
                    tenants: vec!["stark".into(), "wayne".into()],
                },
                OtherPod {
                    pod: "pod-c".into(),
                    traces: 40,
                    expired: 0,
                    tenants: Vec::new(),
                },
            ],
            pod_traces: 50,
            all_traces: 140,
            node_name: "ocr".into(),
            own_p50_ms: Some(300.0),
            others_own_p50_ms: Some(100.0),
            rate_per_s: 1.0,
            capacity_per_s: Some(3.3),
            others_rate_per_s: 1.0,
            budget_left_p50_ms: Some(2000.0),
            path: vec!["parse".into(), "ocr".into()],
            path_work_ms: 400.0,
            load: PodLoad::SlowPod,
        }
    }

    #[test]
    fn a_slow_pod_and_a_pod_at_capacity_read_as_before() {
        assert_eq!(
            sentence(&ClassifyStep::InOnePod(slow_pod())),
            "8 of the 9 that expired in the flow ran in pod pod-b, for its only tenant, acme (acme 8 of 50), while its 2 other pods had 1 (pod-a 1 of 50 for stark and wayne, pod-c 0 of 40): each pod is a runtime of its own, with its own queues, so the tenants of the other pods never waited in pod-b's; the pod's capacity is the cause, not a tenant's budget. ocr's own work is slower in pod-b (p50 300 ms there, 100 ms in the other pods), for 50 of the 140 traces (36%) as one of 3 pods: the pod, not its load. Their budget is not what is short: they still had p50 2000 ms of it at their first event (the wait before the first node is not logged), against ~400 ms of their path's own work (parse, ocr)."
        );
        let mut at_capacity = slow_pod();
        at_capacity.load = PodLoad::Capacity;
        at_capacity.others_own_p50_ms = None;
        at_capacity.budget_left_p50_ms = None;
        at_capacity.other_pods.truncate(1);
        at_capacity.tenants.push(PodTenant {
            tenant: "wayne".into(),
            expired: 0,
            traces: 3,
            only_here: false,
        });
        assert_eq!(
            sentence(&ClassifyStep::InOnePod(at_capacity)),
            "8 of the 9 that expired in the flow ran in pod pod-b, for every tenant it serves (acme 8 of 50, wayne 0 of 3), while its other pod had 1 (pod-a 1 of 50 for stark and wayne): each pod is a runtime of its own, with its own queues, so the tenants of the other pods never waited in pod-b's; the pod's capacity is the cause, not a tenant's budget. pod-b took 50 of the 140 traces (36%) as one of 2 pods, and ocr's own work is as fast there as elsewhere (p50 300 ms there)."
        );
    }

    #[test]
    fn the_pod_remedies_the_fixtures_do_not_call_for_read_as_before() {
        let evidence = "`flowtrace classify --by pod,tenant` shows the skips by pod and tenant; `flowtrace saturation --pod pod-b` and `flowtrace saturation --pod pod-a` show ocr's rate, own work and busy time in each";
        let remedy = |remedy| {
            sentence(&ClassifyStep::PodRemedy {
                expiry: slow_pod(),
                remedy,
            })
        };
        assert_eq!(
            remedy(PodRemedy::ReplacePod),
            format!(
                "Look at what differs in pod-b (its host, a noisy neighbour, a dependency its ocr reaches) and drain or replace it; raising Message.deadline_s only lets the messages wait longer ({evidence})."
            )
        );
        assert_eq!(
            remedy(PodRemedy::Rebalance),
            format!(
                "Rebalance the traffic across the pods (whatever sends pod-b 36% of it: the ingress, session affinity, the load balancer); raising Message.deadline_s only lets the messages wait longer ({evidence})."
            )
        );
        assert_eq!(
            remedy(PodRemedy::RelieveNode),
            format!(
                "Relieve ocr in pod-b (look at what reached it when the skips happened: a burst, a tenant's heavier requests) rather than raising Message.deadline_s, which only lets the messages wait longer ({evidence})."
            )
        );
    }

    #[test]
    fn storms_the_fixtures_do_not_raise_read_as_before() {
        let storm = |cause| {
            sentence(&ClassifyStep::RetryStorm {
                node: "llm".into(),
                retries: 30,
                successes: 20,
                cause,
            })
        };
        assert_eq!(
            storm(StormCause::SpentQuota {
                quota_like: 25,
                raised: 30
            }),
            "Retry storm at llm: 30 retries for 20 successes (rate 1.50): 25 of the 30 failed attempts there read like a spent quota or rate limit: retrying at once spends more of it; back off longer or lower NodePolicy.max_retries."
        );
        assert_eq!(
            storm(StormCause::PilingOn { slept_s: 0.0 }),
            "Retry storm at llm: 30 retries for 20 successes (rate 1.50): disable retries temporarily (NodePolicy.max_retries=0) or add backoff so retries stop piling onto the dependency."
        );
    }

    #[test]
    fn json_carries_the_sentence() {
        let step = ClassifyStep::StaleBudgets { traces: 1 };
        assert_eq!(
            serde_json::to_string(&[step]).unwrap(),
            "[\"1 trace: the budget had already run out when the first node fetched the message, later than its queue could have held it (the skip is the trace's first event): stale client budgets; fix the callers' Message.deadline_s (clock skew, a budget computed too early, retried requests reusing an old deadline), not the flow.\"]"
        );
    }
}
