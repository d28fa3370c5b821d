//! Triage's "worst traces" names the succeeded traces that waited far past their path's own
//! work: a stall that failed nothing leaves only them behind. Judged on real captures, with the
//! truth from the runtime's FlowEvents:
//! - `seventh_egressstall` (`ingest -> work -> reply`): the app stopped fetching results for
//!   3 s; the longest traces lost their time at reply (blocked on the full egress, or queued
//!   behind it).
//! - `sixth_routerocr` (a router, `ocr` at capacity): the longest traces waited for ocr.
//! - `eighth_calm` (`intake -> enrich -> score -> reply`, light traffic, heavy-tailed handler
//!   times): no trace waited; none is listed.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

/// Per trace that succeeded (reached the last node and failed nowhere), its events.
fn succeeded_traces<'a>(events: &'a [Value], last_node: &str) -> BTreeMap<&'a str, Vec<&'a Value>> {
    let mut traces: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for event in events {
        if let Some(trace) = event["trace_id"].as_str() {
            traces.entry(trace).or_default().push(event);
        }
    }
    traces.retain(|_, events| {
        events
            .iter()
            .any(|e| e["event"] == "node_success" && e["node_name"] == last_node)
            && !events.iter().any(|e| {
                matches!(
                    e["event"].as_str(),
                    Some("node_failed" | "deadline_skip" | "trace_cancel_start")
                )
            })
    });
    traces
}

fn duration_ms(events: &[&Value]) -> f64 {
    let times: Vec<f64> = events.iter().filter_map(|e| e["ts"].as_f64()).collect();
    let first = times.iter().copied().fold(f64::MAX, f64::min);
    let last = times.iter().copied().fold(f64::MIN, f64::max);
    (last - first) * 1000.0
}

/// The longest succeeded traces by the runtime's clock, longest first.
fn longest(traces: &BTreeMap<&str, Vec<&Value>>, count: usize) -> Vec<(String, f64)> {
    let mut durations: Vec<(String, f64)> = traces
        .iter()
        .map(|(trace, events)| (trace.to_string(), duration_ms(events)))
        .collect();
    durations.sort_by(|a, b| b.1.total_cmp(&a.1));
    durations.truncate(count);
    durations
}

/// A node's event of a trace.
fn at<'a>(events: &[&'a Value], node: &str, kind: &str) -> Option<&'a Value> {
    events
        .iter()
        .copied()
        .find(|e| e["node_name"] == node && e["event"] == kind)
}

#[test]
fn a_consumer_stall_leaves_the_traces_it_held_as_the_slowest_succeeded() {
    let path = "review/seventh_egressstall.jsonl.gz";
    let truth = fixture_json("review/seventh_egressstall.expected.json");
    let events = capture_events(path);
    let start = events
        .iter()
        .filter_map(|e| e["ts"].as_f64())
        .fold(f64::MAX, f64::min);
    let stall = truth["consumer_stall_s_after_start"].as_array().unwrap();
    let (stall_from, stall_to) = (
        start + stall[0].as_f64().unwrap(),
        start + stall[1].as_f64().unwrap(),
    );
    let traces = succeeded_traces(&events, "reply");
    let expected = longest(&traces, 3);

    let report = report_json("triage", &[&fixture_arg(path)]);
    assert!(
        report["worst"].as_array().unwrap().is_empty(),
        "nothing failed"
    );
    let slowest = report["slowest"].as_array().unwrap();
    let listed: Vec<(String, f64)> = slowest
        .iter()
        .map(|s| {
            (
                s["trace_id"].as_str().unwrap().to_string(),
                s["duration_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 3, "{slowest:#?}");
    for ((trace, ms), (want, want_ms)) in listed.iter().zip(&expected) {
        assert_eq!(trace, want);
        assert!((ms - want_ms).abs() < 1.0, "{trace}: {ms} vs {want_ms}");
    }
    for slow in slowest {
        let trace = slow["trace_id"].as_str().unwrap();
        let mine = &traces[trace];
        // Held by the stall: its reply success came after the consumer stopped fetching.
        let reply = at(mine, "reply", "node_success").unwrap();
        let done = reply["ts"].as_f64().unwrap();
        assert!(stall_from < done && done < stall_to + 0.5, "{trace}");
        // Where it lost the time: at reply, as the runtime's events say.
        let lost = &slow["longest"];
        assert_eq!(lost["node_name"], "reply", "{slow:#?}");
        let work_done = at(mine, "work", "node_success").unwrap()["ts"]
            .as_f64()
            .unwrap();
        let reply_start = at(mine, "reply", "node_start").unwrap()["ts"]
            .as_f64()
            .unwrap();
        let truth_ms = if lost["queued"] == true {
            (reply_start - work_done) * 1000.0
        } else {
            (done - reply_start) * 1000.0
        };
        assert!(
            (lost["ms"].as_f64().unwrap() - truth_ms).abs() < 1.0,
            "{trace}: {lost} vs {truth_ms} ms"
        );
        // Far past its path's own work (each handler ran at its usual speed).
        assert!(
            slow["duration_ms"].as_f64().unwrap() > 20.0 * slow["own_work_ms"].as_f64().unwrap()
        );
    }

    // The text names them, and the command it suggests shows the wait: reply's success far
    // after work's, with reply's own latency small or its inbound queue full.
    let output = flowtrace()
        .args(["triage", &fixture_arg(path), "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("no failed, skipped or stalled traces"),
        "{text}"
    );
    assert!(text.contains("slowest succeeded"), "{text}");
    let first = &listed[0].0;
    assert!(
        text.contains(&format!("`flowtrace find {first}`")),
        "{text}"
    );
    let found = find_text(first, &fixture_arg(path));
    assert!(found.contains("succeeded"), "{found}");
    assert!(found.contains("reply"), "{found}");

    // In markdown too, the command a code span of its own.
    let output = flowtrace()
        .args(["triage", &fixture_arg(path), "-q", "--format", "markdown"])
        .output()
        .unwrap();
    let markdown = String::from_utf8(output.stdout).unwrap();
    let line = markdown
        .lines()
        .find(|line| line.starts_with("- slowest succeeded:") && line.contains(first.as_str()))
        .unwrap_or_else(|| panic!("{markdown}"));
    assert!(
        line.contains(&format!("(`flowtrace find {first}`)")),
        "{line}"
    );
    assert_eq!(line.matches('`').count(), 2, "{line}");

    // The incident report lists them too.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("incident.html");
    flowtrace()
        .args(["report", &fixture_arg(path), "-q", "-o"])
        .arg(&page)
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Slowest succeeded"), "no slowest section");
    assert!(
        html.contains(&format!("<code>flowtrace find {first}</code>")),
        "{first}'s command not in the report"
    );
}

/// classify reads failures: with none, its all-clear says so and points at saturation, which
/// names the stall.
#[test]
fn classify_gives_no_all_clear_beyond_failures() {
    let path = fixture_arg("review/seventh_egressstall.jsonl.gz");
    let output = flowtrace()
        .args(["classify", &path, "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("nothing to do about failures"), "{text}");
    assert!(last.contains("`flowtrace saturation`"), "{text}");
    let output = flowtrace()
        .args(["saturation", &path, "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("the app stopped taking results from the egress"),
        "{text}"
    );
}

#[test]
fn traces_that_waited_for_a_router_branch_at_capacity_name_it() {
    let path = "review/sixth_routerocr.jsonl.gz";
    let events = capture_events(path);
    let traces = succeeded_traces(&events, "respond");
    let expected = longest(&traces, 3);
    let report = report_json("triage", &[&fixture_arg(path)]);
    let slowest = report["slowest"].as_array().unwrap();
    assert_eq!(slowest.len(), 3, "{slowest:#?}");
    for (slow, (want, want_ms)) in slowest.iter().zip(&expected) {
        let trace = slow["trace_id"].as_str().unwrap();
        assert_eq!(trace, want);
        assert!((slow["duration_ms"].as_f64().unwrap() - want_ms).abs() < 1.0);
        // The wait the runtime's events show: from route's success to ocr's first start.
        let mine = &traces[trace];
        let routed = at(mine, "route", "node_success").unwrap()["ts"]
            .as_f64()
            .unwrap();
        let ocr_start = at(mine, "ocr", "node_start").unwrap()["ts"]
            .as_f64()
            .unwrap();
        let lost = &slow["longest"];
        assert_eq!(lost["node_name"], "ocr", "{slow:#?}");
        assert_eq!(lost["queued"], true, "{slow:#?}");
        let waited = (ocr_start - routed) * 1000.0;
        assert!(
            (lost["ms"].as_f64().unwrap() - waited).abs() < 1.0,
            "{lost} vs {waited}"
        );
        // The find it suggests says the same: where the trace's time went.
        let found = report_json("find", &[trace, &fixture_arg(path)]);
        let queue = &found["time_spent"]["queues"][0];
        assert_eq!(queue["node_name"], "ocr", "{:#}", found["time_spent"]);
        assert!((queue["waited_ms"].as_f64().unwrap() - waited).abs() < 1.0);
        assert_eq!(found["remediation"], serde_json::json!([]), "it succeeded");
    }
}

#[test]
fn a_calm_run_lists_no_slow_trace() {
    let path = "review/eighth_calm.jsonl.gz";
    let truth = fixture_json("review/eighth_calm.expected.json");
    let events = capture_events(path);
    let traces = succeeded_traces(&events, "reply");
    assert_eq!(traces.len() as u64, truth["traces"].as_u64().unwrap());
    // The runtime's events: no message waited in a queue, the longest trace a few times the
    // typical one.
    assert!(truth["longest_wait_before_a_node_ms"].as_f64().unwrap() < 5.0);
    let report = report_json("triage", &[&fixture_arg(path)]);
    assert_eq!(
        report["slowest"],
        serde_json::json!([]),
        "{:#}",
        report["slowest"]
    );
    assert!(
        report["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["slowed"].is_null()),
        "{:#}",
        report["tenants"]
    );
    let output = flowtrace()
        .args(["triage", &fixture_arg(path), "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains("slowest succeeded"), "{text}");
    // Nor does find say where the longest trace's time went: it did not wait.
    let (longest_trace, _) = &longest(&traces, 1)[0];
    let found = report_json("find", &[longest_trace, &fixture_arg(path)]);
    assert!(found["time_spent"].is_null(), "{:#}", found["time_spent"]);
}

/// A tenant whose large payloads are the bottleneck's load is judged against its own messages'
/// work there, not the node's p50 (the small documents'): its traces take long because of its
/// own work, and the slowest listed are the other tenants', which waited behind it.
#[test]
fn the_load_tenants_own_work_is_its_messages() {
    let path = "review/seventh_bigpayload.jsonl.gz";
    let truth = fixture_json("review/seventh_bigpayload.expected.json");
    // The tenant taking most of parse's worker time, from the runtime's own measurements.
    let per_tenant = truth["per_tenant"].as_object().unwrap();
    let (load, _) = per_tenant
        .iter()
        .max_by(|a, b| {
            let busy = |v: &Value| v["share_of_parse_busy"].as_f64().unwrap();
            busy(a.1).total_cmp(&busy(b.1))
        })
        .unwrap();
    let events = capture_events(path);
    let traces = succeeded_traces(&events, "reply");
    let report = report_json("triage", &[&fixture_arg(path)]);
    let slowest = report["slowest"].as_array().unwrap();
    assert!(!slowest.is_empty());
    for slow in slowest {
        assert_ne!(slow["tenant"].as_str(), Some(load.as_str()), "{slow:#}");
        // They waited for parse, as the events show.
        let trace = slow["trace_id"].as_str().unwrap();
        let mine = &traces[trace];
        let ingested = at(mine, "ingest", "node_success").unwrap()["ts"]
            .as_f64()
            .unwrap();
        let parse_start = at(mine, "parse", "node_start").unwrap()["ts"]
            .as_f64()
            .unwrap();
        let lost = &slow["longest"];
        assert_eq!(lost["node_name"], "parse", "{slow:#}");
        assert_eq!(lost["queued"], true, "{slow:#}");
        let waited = (parse_start - ingested) * 1000.0;
        assert!((lost["ms"].as_f64().unwrap() - waited).abs() < 1.0);
    }
}
