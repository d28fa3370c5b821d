//! The sixth review's gradual-degradation capture (fixtures/review/sixth_gradual.jsonl, script
//! `sixth_gradual.py` in fixtures/capture/review): a real PenguiFlow 3.11.2 run whose
//! `.expected.json` holds what the runtime's own FlowEvents say was true.
//!
//! `intake -> {vector, keyword} -> merge (join_k 2) -> answer`, queue_maxsize 10, even traffic
//! from three tenants. vector's dependency doubles its latency every 10 s until its calls cross
//! timeout_s 0.25 s: from then on every attempt times out. The p95 of vector's successes is
//! capped by the timeout (no success can take longer), so "raise timeout_s above its p99" read
//! it as a timeout too tight for normal work, while another step said "lower timeout_s"; the
//! regression signal named intake, whose late successes only waited to hand over to vector's
//! full queue; and "nothing upstream is backed up" contradicted intake's saturation signal.
//!
//! The other side, on other topologies: a dependency that hangs (dep_timeouts), a slowdown
//! burst that is over (sixth_slowdown), a slow tail (fifth_slowtail) and timeouts that are
//! backpressure (sixth_emittimeout) show no steady rise and keep their verdicts.

mod common;

use common::*;
use serde_json::Value;

fn log() -> String {
    fixture_arg("review/sixth_gradual.jsonl")
}

fn truth() -> Value {
    fixture_json("review/sixth_gradual.expected.json")
}

fn seconds(ts: &Value) -> f64 {
    let text = ts
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {ts}"));
    let time = chrono::DateTime::parse_from_rfc3339(text).unwrap();
    time.timestamp_micros() as f64 / 1e6
}

/// The truth's per-5 s windows of vector's successes: (window start s, mean ms, successes).
fn truth_windows(truth: &Value) -> Vec<(f64, f64, u64)> {
    let mut windows: Vec<(f64, f64, u64)> = truth["vector_success_ms_by_5s"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(window, stats)| {
            let start: f64 = window.split('-').next().unwrap().parse().unwrap();
            (
                start,
                stats["mean"].as_f64().unwrap(),
                stats["n"].as_u64().unwrap(),
            )
        })
        .collect();
    windows.sort_by(|a, b| a.0.total_cmp(&b.0));
    windows
}

/// The time vector's mean success latency took to double in the truth: a least-squares line
/// through ln(mean) of the windows with enough successes.
fn truth_doubling_s(truth: &Value) -> f64 {
    let points: Vec<(f64, f64)> = truth_windows(truth)
        .into_iter()
        .filter(|(_, _, n)| *n >= 10)
        .map(|(start, mean, _)| (start + 2.5, mean.ln()))
        .collect();
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    std::f64::consts::LN_2 / (sxy / sxx)
}

/// The runtime's premise: every failure is vector's NODE_TIMEOUT, every tenant alike, and
/// vector's successes grew slower window after window before the first timeout.
#[test]
fn the_capture_is_a_steady_rise_that_crossed_the_timeout() {
    let truth = truth();
    assert_eq!(
        truth["failed_codes"]["NODE_TIMEOUT"],
        truth["statuses"]["failed"]
    );
    let means: Vec<f64> = truth_windows(&truth).iter().map(|w| w.1).collect();
    assert!(means.windows(2).all(|pair| pair[1] > pair[0]), "{means:?}");
    let doubling = truth_doubling_s(&truth);
    assert!((8.0..12.0).contains(&doubling), "{doubling}");
}

/// The regression is vector's own latency, shown step by step, rising steadily from the start
/// until its attempts reached the timeout; not intake, whose late successes only waited to
/// hand over to vector's full queue.
#[test]
fn the_regression_is_vector_s_own_latency_not_intake_s_wait() {
    let truth = truth();
    let saturation = report_json("saturation", &[&log()]);
    let regressions: Vec<&Value> = saturation["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "latency_regression")
        .map(|s| &s["node_name"])
        .collect();
    assert_eq!(regressions, vec!["vector"], "{}", saturation["signals"]);
    assert!(
        node_row(&saturation, "intake")
            .get("latency_trend")
            .is_none()
    );

    let trend = &node_row(&saturation, "vector")["latency_trend"];
    let steps = trend["steps"].as_array().unwrap();
    let measured: Vec<f64> = steps
        .iter()
        .filter(|s| s["censored"] == false)
        .filter_map(|s| s["level_ms"].as_f64())
        .collect();
    assert!(measured.len() >= 4, "{trend}");
    assert!(
        measured.windows(2).all(|pair| pair[1] > pair[0]),
        "{measured:?}"
    );
    // The first and last measured steps against the runtime's own 5 s windows.
    let windows = truth_windows(&truth);
    let (first, last) = (measured[0], measured[measured.len() - 1]);
    assert!(
        (first - windows[0].1).abs() <= 0.15 * windows[0].1,
        "{first}"
    );
    let (low, high) = (windows[windows.len() - 2].1, windows[windows.len() - 1].1);
    assert!(last >= 0.9 * low && last <= 1.1 * high, "{last}");
    let doubling = trend["doubling_s"].as_f64().unwrap();
    let expected = truth_doubling_s(&truth);
    assert!(
        (doubling - expected).abs() <= 0.2 * expected,
        "{doubling} against {expected}"
    );
    assert_eq!(trend["steady_traffic"], true);
    // The later steps timed out at the cut: vector's latency is only known to be past it.
    let cut_ms = truth["timeout_s"].as_f64().unwrap() * 1000.0;
    let last_step = steps.last().unwrap();
    assert_eq!(last_step["censored"], true, "{last_step}");
    assert!(last_step["level_ms"].as_f64().unwrap() >= cut_ms);
    assert_eq!(
        trend["timeouts"], truth["kinds"]["node_timeout"],
        "every timeout is vector's own (none waited to hand over)"
    );
    let first_timeout = seconds(&trend["first_timeout"]) - seconds(&saturation["span"]["first_ts"]);
    let expected = truth["first_timeout_s_after_start"].as_f64().unwrap();
    assert!((first_timeout - expected).abs() < 0.002, "{first_timeout}");
}

/// intake waited to hand over to vector's full queue (its successes then logged the edge full
/// and took far longer than its work): it backs up behind vector, as its saturation signal
/// says, and the bottleneck's step says so too.
#[test]
fn intake_backs_up_behind_vector() {
    let successes = events_jsonl(&["--node", "intake", "--kind", "node_success", &log()]);
    let mut latencies: Vec<f64> = successes
        .iter()
        .map(|e| e["latency_ms"].as_f64().unwrap())
        .collect();
    latencies.sort_by(f64::total_cmp);
    let median = latencies[latencies.len() / 2];
    let waited: Vec<&Value> = successes
        .iter()
        .filter(|e| e["q_depth_out"].as_i64() >= e["queue_maxsize"].as_i64())
        .filter(|e| e["latency_ms"].as_f64().unwrap() > 20.0 * median)
        .collect();
    assert!(
        waited.len() >= 10,
        "the capture's premise: {}",
        waited.len()
    );

    let saturation = report_json("saturation", &[&log()]);
    assert_eq!(saturation["bottleneck"]["node_name"], "vector");
    assert_eq!(saturation["bottleneck"]["backed_up"][0], "intake");
    assert!(
        saturation["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "saturation" && s["node_name"] == "intake")
    );
    for subcommand in ["saturation", "triage"] {
        let steps = report_json(subcommand, &[&log()])["remediation"].to_string();
        assert!(
            steps.contains("intake backs up behind it") && !steps.contains("nothing upstream"),
            "{subcommand}: {steps}"
        );
    }
}

/// One piece of advice about timeout_s wherever vector's timeouts come up, pointing at what it
/// depends on: no "raise it above its p99" (that p95/p99 is capped by the timeout), no "lower
/// it / fail fast" beside it.
#[test]
fn one_timeout_advice_everywhere_pointing_at_the_regression() {
    let path = log();
    let failed = report_json("triage", &[&path])["worst"][0]["trace_id"]
        .as_str()
        .unwrap()
        .to_string();
    let find = report_json("find", &[&failed, &path]);
    assert_eq!(find["status"], "failed");
    let reports = [
        ("classify", report_json("classify", &[&path])),
        ("saturation", report_json("saturation", &[&path])),
        ("triage", report_json("triage", &[&path])),
        ("find", find),
    ];
    for (subcommand, report) in reports {
        let steps = report["remediation"].to_string();
        for wrong in [
            "above its p99",
            "raise NodePolicy.timeout_s",
            "max_retries or timeout_s",
            "so it fails fast",
            "intake got slower",
        ] {
            assert!(
                !steps.contains(wrong),
                "{subcommand} says {wrong:?}: {steps}"
            );
        }
        assert!(
            steps.contains("keep timeout_s as it is") && steps.contains("what vector depends on"),
            "{subcommand}: {steps}"
        );
    }
}

/// No other capture's node rose steadily; their verdicts stand.
#[test]
fn hangs_bursts_tails_and_backpressure_are_not_a_steady_rise() {
    for capture in [
        "review/dep_timeouts.jsonl",
        "review/sixth_slowdown.jsonl",
        "review/fifth_slowtail.jsonl",
        "review/sixth_emittimeout.jsonl",
    ] {
        let saturation = report_json("saturation", &[&fixture_arg(capture)]);
        for node in saturation["nodes"].as_array().unwrap() {
            assert!(
                node.get("latency_trend").is_none(),
                "{capture}: {}",
                node["node_name"]
            );
        }
        assert!(
            !saturation["signals"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == "latency_regression"),
            "{capture}: {}",
            saturation["signals"]
        );
    }
    // dep_timeouts' lookup hangs on 60% of calls from the start: a dependency that hangs, to
    // cut short. Its timeout_s already cuts each hung attempt (node_timeout), so the advice is
    // the dependency and the circuit to it, not a timeout to set.
    let dep = fixture_arg("review/dep_timeouts.jsonl");
    let steps = report_json("triage", &[&dep])["remediation"].to_string();
    assert!(
        steps.contains("its dependency is slow or hanging")
            && steps.contains("no timeout is missing")
            && steps.contains("break the circuit to it")
            && !steps.contains("set NodePolicy.timeout_s so it fails fast"),
        "{steps}"
    );
    // sixth_slowdown's llm slowed for 2.5 s and recovered: a spell that is over.
    let slowdown = fixture_arg("review/sixth_slowdown.jsonl");
    let steps = report_json("saturation", &[&slowdown])["remediation"].to_string();
    assert!(steps.contains("llm itself slowed down"), "{steps}");
}
