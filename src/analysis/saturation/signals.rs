//! The signals over time buckets: saturation, slow dependency, latency regression.

use super::*;

/// The longest run of consecutive buckets satisfying `condition`: (start index, length).
pub(super) fn longest_run(
    buckets: &[&Bucket],
    condition: impl Fn(&Bucket) -> bool,
) -> (usize, usize) {
    let (mut best, mut current_start, mut current) = ((0, 0), 0, 0);
    for (index, bucket) in buckets.iter().enumerate() {
        if condition(bucket) {
            if current == 0 {
                current_start = index;
            }
            current += 1;
            if current > best.1 {
                best = (current_start, current);
            }
        } else {
            current = 0;
        }
    }
    best
}

/// The q_depth_total above which a node counts as saturated: a share of a bounded queue's
/// capacity, or twice its own p95 when unbounded.
pub(super) fn saturation_level(report: &NodeReport, threshold: f64) -> Option<f64> {
    match report.queue_maxsize.filter(|c| *c > 0) {
        Some(capacity) => Some(threshold * capacity as f64),
        None => report.q_depth_total_p95.map(|p95| (2.0 * p95).max(1.0)),
    }
}

/// The longest run of buckets with the node's `q_depth_total` at its saturation level:
/// (start index, length).
pub(super) fn saturation_run(
    report: &NodeReport,
    buckets: &[&Bucket],
    threshold: f64,
) -> Option<(usize, usize)> {
    let level = saturation_level(report, threshold)?;
    Some(longest_run(buckets, |b| {
        b.q_total_max as f64 >= level && b.q_total_max > 0
    }))
}

pub(super) fn saturation_signal(
    report: &NodeReport,
    buckets: &[&Bucket],
    indices: &[i64],
    width: i64,
    options: SaturationOptions,
) -> Option<Signal> {
    let level = saturation_level(report, options.threshold)?;
    let (start, run) = saturation_run(report, buckets, options.threshold)?;
    if run < options.sustain {
        return None;
    }
    Some(Signal {
        kind: SignalKind::Saturation,
        ended_in_errors: false,
        ended_in_timeouts: false,
        node_name: Some(report.node_name.clone()),
        trace_id: None,
        // Buckets say when the queue was full, not for how long: a bucket counts if one reading
        // in it was. The pressure window (the bottleneck's evidence) has the exact times.
        detail: SignalDetail::Saturation {
            level,
            threshold: options.threshold,
            capacity: report.queue_maxsize.filter(|c| *c > 0),
            run,
            width,
            from: Timestamp(indices[start].saturating_mul(width)),
            to: Timestamp(
                indices[start + run - 1]
                    .saturating_add(1)
                    .saturating_mul(width),
            ),
            max: report.q_depth_total_max,
        },
    })
}

pub(super) fn slow_dependency_signal(
    report: &NodeReport,
    buckets: &[&Bucket],
    width: i64,
    options: SaturationOptions,
) -> Option<Signal> {
    // A run of buckets where attempts started (or timed out) but none succeeded, longer than
    // the node normally needs (twice its p95 success latency).
    let (start, run) = longest_run(buckets, |b| {
        (b.starts > 0 || b.timeouts > 0) && b.successes == 0
    });
    let normal_micros = report.latency_ms.p95.map_or(0.0, |p95| p95 * 1000.0 * 2.0);
    if run < options.sustain || (run as i64 * width) as f64 <= normal_micros {
        return None;
    }
    let window = &buckets[start..start + run];
    let starts: u64 = window.iter().map(|b| b.starts).sum();
    let timeouts: u64 = window.iter().map(|b| b.timeouts).sum();
    let inflight = window.iter().map(|b| b.inflight_max).max().unwrap_or(0);
    if timeouts == 0 && starts < 2 {
        return None;
    }
    // Attempts that raised (a client's own timeout inside the handler, say) did end.
    let errors: u64 = window.iter().map(|b| b.errors).sum();
    Some(Signal {
        kind: SignalKind::SlowDependency,
        ended_in_errors: timeouts == 0 && errors * 2 >= starts,
        ended_in_timeouts: timeouts * 2 >= starts.max(1),
        node_name: Some(report.node_name.clone()),
        trace_id: None,
        detail: SignalDetail::SlowDependency {
            starts,
            timeouts,
            errors,
            micros: run as i64 * width,
            run,
            never_succeeded: report.successes == 0,
            inflight,
        },
    })
}

/// Own-work successes each side of the regression's cut needs.
const MIN_REGRESSION_SAMPLES: u64 = 20;

pub(super) fn regression_signal(
    report: &NodeReport,
    buckets: &[&Bucket],
    first: Timestamp,
    span_micros: i64,
    indices: &[i64],
    width: i64,
) -> Option<Signal> {
    // A steady rise says more than two halves: where it started, how fast, where it crossed
    // the timeout (after which no success is left to compare).
    if let Some(trend) = &report.latency_trend {
        return Some(Signal {
            kind: SignalKind::LatencyRegression,
            ended_in_errors: false,
            ended_in_timeouts: false,
            node_name: Some(report.node_name.clone()),
            trace_id: None,
            detail: SignalDetail::Trend(trend.clone()),
        });
    }
    if span_micros <= 0 {
        return None;
    }
    let cut = first.0.saturating_add(span_micros / 4 * 3);
    let (mut before, mut after) = (Sketch::default(), Sketch::default());
    for (bucket, index) in buckets.iter().zip(indices) {
        let start = index.saturating_mul(width);
        if start >= cut {
            after.merge(&bucket.latency);
        } else {
            before.merge(&bucket.latency);
        }
    }
    // A p95 of fewer than 20 latencies is their maximum: one slow call, not a regression.
    if before.count() < MIN_REGRESSION_SAMPLES || after.count() < MIN_REGRESSION_SAMPLES {
        return None;
    }
    let (early, late) = (before.percentile(95.0)?, after.percentile(95.0)?);
    (late > 2.0 * early).then(|| Signal {
        kind: SignalKind::LatencyRegression,
        ended_in_errors: false,
        ended_in_timeouts: false,
        node_name: Some(report.node_name.clone()),
        trace_id: None,
        detail: SignalDetail::LateP95 {
            late_ms: late,
            early_ms: early,
        },
    })
}
