//! A node's steady latency rise (`LatencyTrend`) as evidence text: its own latency step by
//! step, how fast it doubled, the traffic meanwhile, and where it crossed the timeout.

use super::{clock, millis};
use crate::analysis::saturation::LatencyTrend;

/// A duration in seconds, rounded for prose: `10 s`, `2.5 s`, `350 ms`, `4.2 min`.
fn seconds_text(seconds: f64) -> String {
    if seconds >= 120.0 {
        format!("{:.1} min", seconds / 60.0)
    } else if seconds >= 10.0 {
        format!("{seconds:.0} s")
    } else if seconds >= 1.0 {
        format!("{seconds:.1} s")
    } else {
        format!("{} ms", millis(seconds * 1000.0))
    }
}

/// The rise in a few words: `mean 50.3 ms → 214 ms, about ×2 every 10 s`.
pub fn trend_summary(trend: &LatencyTrend) -> String {
    let measured: Vec<f64> = trend
        .steps
        .iter()
        .filter(|s| !s.censored)
        .filter_map(|s| s.level_ms)
        .collect();
    let (first, last) = (
        measured.first().copied().unwrap_or_default(),
        measured.last().copied().unwrap_or_default(),
    );
    let doubling = trend.doubling_s.map_or(String::new(), |s| {
        format!(", about ×2 every {}", seconds_text(s))
    });
    format!(
        "mean success latency {} ms → {} ms{doubling}",
        millis(first),
        millis(last)
    )
}

/// The rise step by step, the traffic, and the crossing: the evidence of a latency regression.
pub fn trend_evidence(trend: &LatencyTrend) -> String {
    let step_s = trend
        .steps
        .first()
        .map_or(0.0, |s| (s.to.0 - s.from.0) as f64 / 1e6);
    let levels: Vec<String> = trend
        .steps
        .iter()
        .filter_map(|s| {
            s.level_ms.map(|level| {
                if s.censored {
                    format!("≥{} (timed out)", millis(level))
                } else {
                    millis(level)
                }
            })
        })
        .collect();
    let start = trend.steps.first().map_or(String::new(), |s| clock(s.from));
    let doubling = trend.doubling_s.map_or(String::new(), |s| {
        format!(", about ×2 every {}", seconds_text(s))
    });
    let measured: Vec<u64> = trend
        .steps
        .iter()
        .filter(|s| s.level_ms.is_some() && !s.censored)
        .map(|s| s.messages)
        .collect();
    let (quietest, busiest) = (
        measured.iter().copied().min().unwrap_or(0),
        measured.iter().copied().max().unwrap_or(0),
    );
    let traffic = if trend.steady_traffic {
        format!("under steady traffic ({quietest} to {busiest} messages a step)")
    } else {
        format!(
            "while the messages it took went from {quietest} to {busiest} a step (load may drive it)"
        )
    };
    let crossed =
        match (trend.timeout_ms, trend.first_timeout) {
            (Some(cut), Some(first)) => format!(
                "; then its attempts reached the ~{} ms timeout: {} from {} on{}",
                millis(cut),
                super::plural(trend.timeouts, "timeout"),
                clock(first),
                trend.last_success.filter(|last| *last > first).map_or(
                    String::new(),
                    |last| format!(", the last success at {}", clock(last))
                ),
            ),
            _ => String::new(),
        };
    format!(
        "own latency rose steadily, step by step ({} steps from {start}, successes that did not wait to hand over): {} ms ({}×{:.1}{doubling}), {traffic}{crossed}",
        seconds_text(step_s),
        levels.join(" → "),
        // A last step cut by the timeout is a lower bound.
        if trend
            .steps
            .iter()
            .rev()
            .find(|s| s.level_ms.is_some())
            .is_some_and(|s| s.censored)
        {
            "at least "
        } else {
            ""
        },
        trend.growth,
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
