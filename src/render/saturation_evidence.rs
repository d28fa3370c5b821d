//! Saturation's evidence in words: why the hot node is hot (`hot_node_reason`), when its queue
//! was full and what filled it, a shared name's nodes, and each signal's facts.

use std::fmt;

use super::{clock, duration, millis, plural};
use crate::analysis::saturation::{
    Bottleneck, HotNodeReason, PressureWindow, SharedName, SignalDetail, UNBOUNDED_BACKLOG,
};

/// One line of evidence for the bottleneck, as the table and `hot_node_reason` give it.
pub fn reason(hot: &Bottleneck) -> String {
    let level = match hot.queue_maxsize.filter(|c| *c > 0) {
        Some(capacity) => format!("≥ {:.0}% of {capacity}", hot.threshold * 100.0),
        None => format!("at {UNBOUNDED_BACKLOG} or more (unbounded)"),
    };
    let outbound = if hot.waits_on_egress {
        format!(
            "it is a sink whose egress queue was full in {:.0}% (max {}): it waits on the app's flow.fetch()",
            hot.outbound_full_share * 100.0,
            hot.q_depth_out_max
        )
    } else if hot.sink {
        "it is a sink".to_string()
    } else {
        format!(
            "its outbound queue in {:.0}% (max {})",
            hot.outbound_full_share * 100.0,
            hot.q_depth_out_max
        )
    };
    let instance = match (&hot.instance, &hot.shared_name) {
        (Some(instance), Some(shared)) => format!(
            " (in {instance}, {}; the name also stands for {}: another flow's node, judged apart)",
            shared_own(shared, &hot.node_name),
            shared_others(shared, &hot.node_name),
        ),
        (Some(instance), None) => format!(
            " (in {instance}, the most pressed of its {} instances, whose queues are judged apart)",
            hot.instances
        ),
        (None, _) => String::new(),
    };
    let readings = match hot.during {
        Some(run) => format!(
            "of the {} buckets from {} to {} (over the whole input no queue stayed full long enough)",
            width_text((run.bucket_s * 1e6).round() as i64),
            clock(run.from),
            clock(run.to)
        ),
        None => "of its queue readings".to_string(),
    };
    let evidence = format!(
        "inbound queue {level} in {:.0}% {readings} (max {}) while {outbound}{instance}",
        hot.inbound_full_share * 100.0,
        hot.q_depth_in_max,
    );
    // A pressure that is over says so first: the bottleneck of a burst, not of now.
    match &hot.window {
        Some(window) if window.over => format!("{}; {evidence}", window_text(window)),
        Some(window) => format!("{evidence}; {}", window_text(window)),
        None => evidence,
    }
}

impl fmt::Display for HotNodeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&reason(&self.0))
    }
}

serialized_as_said!(HotNodeReason);

/// The window as evidence: when the queue was full and, when over, for how long since.
pub fn window_text(window: &PressureWindow) -> String {
    let span = window.last.0.saturating_sub(window.first.0);
    let tenant = match (&window.tenant, window.tenant_share) {
        (Some(tenant), Some(share)) => format!(
            ", {:.0}% of the attempts then tenant {tenant}'s",
            share * 100.0
        ),
        _ => String::new(),
    };
    let full = match window.egress.as_ref().filter(|_| window.egress_bound()) {
        Some(egress) => format!(
            "blocked on the full egress (q_depth_out {} at its node_start, then a {} ms hand-over) or full at times between {} and {}",
            egress.q_depth_out,
            millis(egress.waited_ms),
            clock(window.first),
            clock(window.last),
        ),
        None => format!(
            "full at times between {} and {}",
            clock(window.first),
            clock(window.last)
        ),
    };
    if let Some(stopped) = window.stopped {
        format!(
            "over: {full} ({}{tenant}), then its runtime stopped at {} (node_cancelled) and another instance served after it",
            duration(span),
            clock(stopped),
        )
    } else if window.over {
        format!(
            "over: {full} only ({}{tenant}), then below it for the {} to its last reading",
            duration(span),
            duration((window.drained_s * 1e6) as i64),
        )
    } else {
        format!("{full} ({}{tenant})", duration(span))
    }
}

/// What filled the queue when neither a slowdown nor one tenant's burst explains it: more
/// work than it takes, unless the input begins inside the window (its cause is then before
/// what was read, and the part read may be only the drain).
pub fn unexplained_cause(window: &PressureWindow, node: &str) -> String {
    if !window.from_input_start {
        return "more work arrived than it takes".to_string();
    }
    let slower = match (window.mean_ms_during, window.mean_ms_outside) {
        (Some(during), Some(outside)) if during > outside => {
            format!("; in what was read, {}", slowdown_text(window))
        }
        _ => String::new(),
    };
    format!(
        "the input begins with {node}'s queue already filling, so what filled it (more work, or {node} slowing down) came before what was read{slower}; read the logs from earlier to tell (`kubectl logs --since` further back)"
    )
}

/// The window's attempts by how they ended, as evidence.
pub fn failing_text(window: &PressureWindow) -> String {
    let ended = [
        (window.timeouts_during, "timed out"),
        (window.errors_during, "raised"),
    ]
    .iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, how)| format!("{count} {how}"))
    .collect::<Vec<_>>()
    .join(" and ");
    format!(
        "of its attempts in those buckets {ended} and {} succeeded",
        window.successes_during
    )
}

/// How its own work compares in the window and outside it, as evidence.
pub fn slowdown_text(window: &PressureWindow) -> String {
    let means = format!(
        "its own attempts took {} ms on average against {} ms otherwise",
        millis(window.mean_ms_during.unwrap_or_default()),
        millis(window.mean_ms_outside.unwrap_or_default()),
    );
    if window.mean_slowed_down() || !window.mostly_slow() {
        return means;
    }
    format!(
        "{means}, and {:.0}% of its working time then went to attempts of {} ms or more (twice that), against {:.0}% outside",
        window.slow_share_during.unwrap_or_default() * 100.0,
        millis(2.0 * window.mean_ms_outside.unwrap_or_default()),
        window.slow_share_outside.unwrap_or_default() * 100.0,
    )
}

/// "the llm fed by chunk".
pub fn shared_own(shared: &SharedName, node: &str) -> String {
    format!("the {node} fed by {}", shared.fed_by.join(" and "))
}

/// "the llm fed by ingest (26% busy)", each other node of the name.
pub fn shared_others(shared: &SharedName, node: &str) -> String {
    shared
        .others
        .iter()
        .map(|other| {
            format!(
                "the {node} fed by {} ({:.0}% busy)",
                other.fed_by.join(" and "),
                other.busy_share * 100.0
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bucket width: `50 ms`, `1 s`, `10 min` (whole units where they are).
fn width_text(micros: i64) -> String {
    match micros {
        m if m >= 60_000_000 && m % 60_000_000 == 0 => format!("{} min", m / 60_000_000),
        m if m >= 1_000_000 && m % 1_000_000 == 0 => format!("{} s", m / 1_000_000),
        m if m >= 1_000 && m % 1_000 == 0 => format!("{} ms", m / 1_000),
        m => duration(m),
    }
}

/// `2.5`, and `3` for `3.0`.
fn trim_float(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}

impl fmt::Display for SignalDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalDetail::Saturation {
                level,
                threshold,
                capacity,
                run,
                width,
                from,
                to,
                max,
            } => {
                let basis = match capacity {
                    Some(capacity) => {
                        format!("{:.0}% of capacity {capacity}", threshold * 100.0)
                    }
                    None => "twice its p95, unbounded queue".to_string(),
                };
                write!(
                    f,
                    "q_depth_total reached {} or more ({basis}) in each of {run} consecutive {} buckets ({} to {}); max {max}",
                    trim_float(*level),
                    width_text(*width),
                    clock(*from),
                    clock(*to),
                )
            }
            SignalDetail::SlowDependency {
                starts,
                timeouts,
                errors,
                micros,
                run,
                never_succeeded,
                inflight,
            } => write!(
                f,
                "{} but no success for {} ({run} consecutive buckets{}){}",
                if *errors > 0 {
                    format!(
                        "{} started, {timeouts} timed out and {errors} raised,",
                        plural(*starts, "attempt")
                    )
                } else {
                    format!(
                        "{} started and {}",
                        plural(*starts, "attempt"),
                        plural(*timeouts, "timeout")
                    )
                },
                duration(*micros),
                if *never_succeeded {
                    "; none in the whole input"
                } else {
                    ""
                },
                if *inflight > 0 {
                    format!("; trace_inflight up to {inflight}")
                } else {
                    String::new()
                }
            ),
            SignalDetail::Trend(trend) => f.write_str(&super::trend::trend_evidence(trend)),
            SignalDetail::LateP95 { late_ms, early_ms } => write!(
                f,
                "p95 success latency {} ms in the last quarter of the span, {} ms before (≈, 10% bins)",
                millis(*late_ms),
                millis(*early_ms)
            ),
            SignalDetail::RetryStorm {
                retries,
                successes,
                rate,
                above,
            } => write!(
                f,
                "{} for {} (rate {rate:.2}, above {above:.2})",
                plural(*retries, "retry"),
                plural(*successes, "success"),
            ),
            SignalDetail::Blocked {
                first,
                last,
                samples,
                in_all,
            } => write!(
                f,
                "trace_pending grew {first} → {last} over {samples} events and never came back down{}",
                in_all.map_or(String::new(), |all| format!(" ({all} such traces in all)"))
            ),
        }
    }
}

serialized_as_said!(SignalDetail);
