//! `flowtrace saturation` over the real captured bottleneck run (fixtures/saturation): the hot
//! node, maxima, percentiles and signals against what the capture run recorded.

mod common;

use common::*;
use serde_json::Value;

fn saturation_json(args: &[&str]) -> Value {
    report_json("saturation", args)
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("saturation/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn per_node_numbers_match_the_run() {
    let want = expected();
    let report = saturation_json(&[&fixture_arg("saturation/flat.jsonl")]);
    let nodes = report["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes
        .iter()
        .map(|n| n["node_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["source", "parse", "slowdb", "publish"],
        "flow order"
    );
    for node in nodes {
        let name = node["node_name"].as_str().unwrap();
        let want = &want["nodes"][name];
        assert_eq!(node["events"], want["events"], "{name} events");
        assert_eq!(node["successes"], want["successes"], "{name} successes");
        assert_eq!(node["q_depth_in_max"], want["max_q_depth_in"], "{name}");
        assert_eq!(node["q_depth_out_max"], want["max_q_depth_out"], "{name}");
        assert_eq!(
            node["q_depth_total_max"], want["max_q_depth_total"],
            "{name}"
        );
        assert_eq!(node["queue_maxsize"], expected()["queue_maxsize"], "{name}");
        for key in ["retries", "timeouts", "errors"] {
            assert_eq!(node[key], want[key], "{name} {key}");
        }
        // 50 samples: percentiles are exact nearest-rank values.
        for p in ["p50", "p95", "p99", "max"] {
            let got = node["latency_ms"][p].as_f64().unwrap();
            let wanted = want["latency_ms"][p].as_f64().unwrap();
            assert!((got - wanted).abs() < 1e-9, "{name} {p}: {got} vs {wanted}");
        }
        // Inbound queue at its fullest over capacity; successes over the covered span.
        let capacity = expected()["queue_maxsize"].as_f64().unwrap();
        assert_eq!(
            node["capacity_use_max"].as_f64().unwrap(),
            want["max_q_depth_in"].as_f64().unwrap() / capacity
        );
        let time = |key: &str| {
            chrono::DateTime::parse_from_rfc3339(report["span"][key].as_str().unwrap()).unwrap()
        };
        let span_s = (time("last_ts") - time("first_ts"))
            .num_microseconds()
            .unwrap() as f64
            / 1e6;
        let throughput = node["throughput_per_s"].as_f64().unwrap();
        let wanted = want["successes"].as_f64().unwrap() / span_s;
        assert!((throughput - wanted).abs() < 1e-6, "{name} throughput");
    }
}

#[test]
fn the_hot_node_is_the_bottleneck_not_the_slowest() {
    let want = expected();
    let report = saturation_json(&[&fixture_arg("saturation/flat.jsonl")]);
    assert_eq!(report["hot_node"], want["bottleneck"]);
    // Latency alone points elsewhere: upstream nodes wait to hand over their output.
    assert_ne!(want["slowest_by_success_p95"], want["bottleneck"]);
    let reason = report["hot_node_reason"].as_str().unwrap();
    assert!(reason.contains("inbound queue"), "{reason}");
}

#[test]
fn signals_match_the_run() {
    let report = saturation_json(&[&fixture_arg("saturation/flat.jsonl")]);
    let signals = report["signals"].as_array().unwrap();
    let has = |kind: &str, node: &str| {
        signals
            .iter()
            .any(|s| s["kind"] == kind && s["node_name"] == node)
    };
    assert!(has("saturation", "slowdb"), "{signals:?}");
    // 3 retries for 50 successes at slowdb: no storm at the default 0.5, and every trace
    // drained (all 50 succeeded): nothing blocked downstream.
    assert!(!signals.iter().any(|s| s["kind"] == "retry_storm"));
    assert!(!signals.iter().any(|s| s["kind"] == "blocked_downstream"));
    for signal in signals {
        for key in ["kind", "node_name", "trace_id", "detail"] {
            assert!(signal.get(key).is_some(), "{key} in {signal}");
        }
    }
    let sensitive = saturation_json(&[
        &fixture_arg("saturation/flat.jsonl"),
        "--retry-rate",
        "0.05",
    ]);
    assert!(
        sensitive["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "retry_storm" && s["node_name"] == "slowdb")
    );
    let remediation = report["remediation"].as_array().unwrap();
    assert!(remediation[0].as_str().unwrap().contains("slowdb"));
}

#[test]
fn the_series_covers_the_span_in_buckets() {
    let report = saturation_json(&[&fixture_arg("saturation/flat.jsonl")]);
    let bucket_s = report["span"]["bucket_s"].as_f64().unwrap();
    for node in report["nodes"].as_array().unwrap() {
        let series = node["series"].as_array().unwrap();
        assert!(
            (10..=60).contains(&series.len()),
            "about 40 buckets, got {}",
            series.len()
        );
        let max = series
            .iter()
            .map(|p| p["q_depth_total_max"].as_i64().unwrap())
            .max()
            .unwrap();
        assert_eq!(max, node["q_depth_total_max"].as_i64().unwrap());
        let first = chrono::DateTime::parse_from_rfc3339(series[0]["t"].as_str().unwrap()).unwrap();
        let second =
            chrono::DateTime::parse_from_rfc3339(series[1]["t"].as_str().unwrap()).unwrap();
        assert_eq!(
            (second - first).num_microseconds().unwrap() as f64,
            bucket_s * 1e6
        );
    }
    let fixed = saturation_json(&[&fixture_arg("saturation/flat.jsonl"), "--bucket", "100ms"]);
    assert_eq!(fixed["span"]["bucket_s"], 0.1);
}

#[test]
fn bad_analysis_flags_are_usage_errors() {
    let file = fixture_arg("saturation/flat.jsonl");
    flowtrace()
        .args(["saturation", "--bucket", "soon", &file])
        .assert()
        .code(2);
    flowtrace()
        .args(["saturation", "--threshold", "80", &file])
        .assert()
        .code(2);
    flowtrace()
        .args(["saturation", "--sustain", "0", &file])
        .assert()
        .code(2);
}

#[test]
fn table_and_sparklines() {
    let output = flowtrace()
        .args(["saturation", "--quiet", "--color", "never"])
        .arg(fixture("saturation/flat.jsonl"))
        .output()
        .unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn markdown_section() {
    let output = flowtrace()
        .args(["saturation", "--quiet", "--format", "markdown"])
        .arg(fixture("saturation/flat.jsonl"))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("### Saturation"));
    assert!(text.contains("- **Hot node**: slowdb"));
    assert!(text.contains("#### Signals"));
}

/// Nodes upstream of `node` in the capture's wired flow (`flow.edges`).
fn upstream_of(want: &Value, node: &str) -> Vec<String> {
    let edges = wired_edges(want);
    let mut found: Vec<String> = Vec::new();
    let mut frontier = vec![node.to_string()];
    while let Some(current) = frontier.pop() {
        for (from, to) in &edges {
            if *to == current && !found.contains(from) {
                found.push(from.clone());
                frontier.push(from.clone());
            }
        }
    }
    found
}

#[test]
fn the_bottleneck_does_not_depend_on_the_bucket_width() {
    let want = expected();
    for width in ["50ms", "100ms", "200ms", "500ms", "1s", "2s", "10s"] {
        let report = saturation_json(&[&fixture_arg("saturation/flat.jsonl"), "--bucket", width]);
        assert_eq!(report["hot_node"], want["bottleneck"], "--bucket {width}");
        // Only nodes upstream of the bottleneck can back up behind it.
        let upstream = upstream_of(&want, want["bottleneck"].as_str().unwrap());
        for node in report["bottleneck"]["backed_up"].as_array().unwrap() {
            assert!(
                upstream.iter().any(|u| node == u.as_str()),
                "--bucket {width}: {node} is not upstream of the bottleneck"
            );
        }
        let runner = &report["bottleneck"]["runner_up"];
        assert_eq!(runner["lost_because"], "upstream", "--bucket {width}");
    }
}

#[test]
fn a_node_filter_keeps_the_verdict_of_the_whole_flow() {
    // `saturation --node X` is what a checklist suggests: it must not contradict the
    // unfiltered run.
    let want = expected();
    let report = saturation_json(&[&fixture_arg("saturation/flat.jsonl"), "--node", "parse"]);
    assert_eq!(report["hot_node"], want["bottleneck"]);
    let names: Vec<&str> = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["parse"]);
}

/// The failures over time (the report's failures chart) count what `classify` counts: each
/// category's failure events, not a message's terminal `node_failed` again, nor the
/// `remote_call_error` its node's `node_error` repeats (the remote capture has four).
#[test]
fn failures_over_time_add_up_to_classify_s_failure_events() {
    for fixture in [
        "remote/flat.jsonl",
        "incident/flat.jsonl",
        "review/fourth_join_dep.jsonl",
        "review/deadline_burst.jsonl",
        "review/deadline_retries.jsonl",
        "review/hung1.jsonl",
        "review/dep_timeouts.jsonl",
        "saturation/flat.jsonl",
    ] {
        let path = fixture_arg(fixture);
        let classify = report_json("classify", &[&path]);
        let saturation = report_json("saturation", &[&path]);
        let points = saturation["failures"].as_array().unwrap();
        for category in ["timeout", "error", "cancel", "deadline"] {
            let charted: u64 = points.iter().map(|p| p[category].as_u64().unwrap()).sum();
            let counted = classify["categories"][category]["events"].as_u64().unwrap();
            assert_eq!(charted, counted, "{fixture}: {category}");
        }
    }
}

/// emit_cut (fixtures/capture/review/emit_cut.py): split emits three messages to embed and one
/// to index, both send to store (25 ms a message, four a trace every 30 ms), store to the
/// egress. store has two inbound queues and its `q_depth_in` sums them: the one from embed is
/// full while the one from index is nearly empty, so the sum stays under 80% of both queues'
/// capacity. The capture's own events say the queue from embed was full (embed has that one
/// outgoing edge and its `q_depth_out` read 8 of 8 in most of its readings) and that store was
/// busy (its successes' latencies add up to nearly the whole span): store is the bottleneck,
/// embed and split back up behind it.
#[test]
fn one_full_queue_into_a_node_with_two_inputs_presses_it() {
    let text = std::fs::read_to_string(fixture("review/emit_cut.jsonl")).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let of =
        |node: &str| -> Vec<&Value> { events.iter().filter(|e| e["node_name"] == node).collect() };
    // embed's one outgoing edge is its queue to store: q_depth_out is that queue's depth.
    let embed = of("embed");
    assert!(
        embed
            .iter()
            .all(|e| e["outgoing"] == 1 && e["queue_maxsize"] == 8)
    );
    let full = embed.iter().filter(|e| e["q_depth_out"] == 8).count();
    assert!(
        full * 2 > embed.len(),
        "embed's queue to store full in {full} of {} readings",
        embed.len()
    );
    // index's queue to store never came near full: store's summed inbound stayed under 80%
    // of the two queues' capacity (12.8).
    assert!(
        of("index")
            .iter()
            .all(|e| e["q_depth_out"].as_i64().unwrap() < 6)
    );
    let store = of("store");
    assert!(store.iter().all(|e| e["q_depth_in"].as_i64().unwrap() < 13));
    // store's worker was busy: its successes' latencies cover nearly all the span.
    let ts: Vec<f64> = events.iter().map(|e| e["ts"].as_f64().unwrap()).collect();
    let span_ms = (ts.iter().cloned().fold(f64::MIN, f64::max)
        - ts.iter().cloned().fold(f64::MAX, f64::min))
        * 1000.0;
    let busy_ms: f64 = store
        .iter()
        .filter(|e| e["event"] == "node_success")
        .map(|e| e["latency_ms"].as_f64().unwrap())
        .sum();
    assert!(
        busy_ms > 0.9 * span_ms,
        "store busy {busy_ms} of {span_ms} ms"
    );

    let report = saturation_json(&[&fixture_arg("review/emit_cut.jsonl")]);
    assert_eq!(report["hot_node"], "store", "{}", report["hot_node_reason"]);
    let bottleneck = &report["bottleneck"];
    assert_eq!(bottleneck["node_name"], "store");
    let backed_up: Vec<&str> = bottleneck["backed_up"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(backed_up.contains(&"embed"), "{backed_up:?}");
    assert!(backed_up.contains(&"split"), "{backed_up:?}");
}
