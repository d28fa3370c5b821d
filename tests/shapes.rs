//! Every shape PenguiFlow writes, read from the real captured run, gives the same events.

mod common;

use std::io::{Read, Write};

use common::*;
use serde_json::Value;

const FULL_SHAPES: [&str; 6] = [
    "incident/structured.jsonl",
    "incident/kubectl_prefix_timestamps.log",
    "incident/kubectl_prefix.log",
    "incident/kubectl_timestamps.log",
    "incident/flat.log.gz",
    "incident/flat.jsonl",
];

/// The cross-tenant trace legitimately differs: each formatter picked one of its two tenants.
fn comparable_all(events: &[Value], keep_tenant: bool) -> Vec<Value> {
    let cross = trace_of("cross_tenant");
    events
        .iter()
        .map(|event| comparable(event, keep_tenant && event["trace_id"] != cross.as_str()))
        .collect()
}

#[test]
fn every_shape_of_the_run_gives_the_same_events() {
    let baseline = events_jsonl(&[&fixture_arg("incident/flat.jsonl")]);
    assert_eq!(
        baseline.len() as u64,
        incident_expected()["events_total"].as_u64().unwrap()
    );
    for shape in FULL_SHAPES {
        let events = events_jsonl(&[&fixture_arg(shape)]);
        assert_eq!(
            comparable_all(&events, true),
            comparable_all(&baseline, true),
            "{shape} differs from flat.jsonl"
        );
    }
    // The store's payloads carry no tenant (FlowEvent has none).
    let stored = events_jsonl(&["--store", &fixture_arg("incident/events.db")]);
    assert_eq!(
        comparable_all(&stored, false),
        comparable_all(&baseline, false)
    );
}

#[test]
fn zstd_is_recognised_by_its_bytes_not_its_name() {
    let plain = std::fs::read(fixture("incident/flat.jsonl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.log"); // no .zst: the magic bytes decide
    std::fs::write(&path, zstd::encode_all(plain.as_slice(), 3).unwrap()).unwrap();
    let events = events_jsonl(&[path.to_str().unwrap()]);
    let baseline = events_jsonl(&[&fixture_arg("incident/flat.jsonl")]);
    assert_eq!(
        comparable_all(&events, true),
        comparable_all(&baseline, true)
    );
}

#[test]
fn each_kind_is_counted_as_the_capture_run_recorded() {
    let events = events_jsonl(&[&fixture_arg("incident/kubectl_prefix_timestamps.log")]);
    let expected = incident_expected();
    for (kind, count) in expected["event_counts"].as_object().unwrap() {
        let seen = events
            .iter()
            .filter(|e| e["event"] == kind.as_str())
            .count();
        assert_eq!(seen as u64, count.as_u64().unwrap(), "{kind}");
    }
    for kind in [
        "node_start",
        "node_success",
        "node_timeout",
        "node_error",
        "node_retry",
        "node_failed",
        "deadline_skip",
        "trace_cancel_start",
        "trace_cancel_drop",
        "node_trace_cancelled",
        "trace_cancel_finish",
        "node_cancelled",
    ] {
        assert!(
            events.iter().any(|e| e["event"] == kind),
            "no {kind} in the fixtures"
        );
    }
}

#[test]
fn middleware_lines_are_the_start_success_error_subset() {
    let baseline = events_jsonl(&[&fixture_arg("incident/flat.jsonl")]);
    let subset: Vec<Value> = baseline
        .iter()
        .filter(|e| {
            ["node_start", "node_success", "node_error"].contains(&e["event"].as_str().unwrap())
        })
        .cloned()
        .collect();
    let events = events_jsonl(&[&fixture_arg("incident/middleware.jsonl")]);
    assert_eq!(
        comparable_all(&events, false),
        comparable_all(&subset, false)
    );
}

#[test]
fn admin_history_lines_are_the_stored_traces() {
    let expected = incident_expected();
    let traces: Vec<&str> = expected["shapes"]["admin_history.jsonl"]["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let baseline = events_jsonl(&[&fixture_arg("incident/flat.jsonl")]);
    let mut wanted: Vec<Value> = baseline
        .iter()
        .filter(|e| traces.contains(&e["trace_id"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    let mut events = events_jsonl(&[&fixture_arg("incident/admin_history.jsonl")]);
    let key = |e: &Value| {
        (
            e["ts"].as_str().unwrap().to_string(),
            e["event"].to_string(),
        )
    };
    wanted.sort_by_key(key);
    events.sort_by_key(key);
    assert_eq!(
        comparable_all(&events, false),
        comparable_all(&wanted, false)
    );
}

#[test]
fn kubectl_noise_is_counted_not_fatal() {
    let expected = incident_expected();
    let shape = &expected["shapes"]["kubectl_prefix_timestamps.log"];
    let output = flowtrace()
        .args(["events", "--format", "jsonl"])
        .arg(fixture("incident/kubectl_prefix_timestamps.log"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let noise = &shape["noise"];
    let not_json = noise["traceback"].as_u64().unwrap()
        + noise["access"].as_u64().unwrap()
        + noise["warning"].as_u64().unwrap();
    let malformed = noise["truncated"].as_u64().unwrap();
    let ingress = shape["ingress_lines"].as_u64().unwrap();
    assert_eq!(
        stderr.trim_end(),
        format!(
            "read {} lines from 1 input: {} events, {ingress} tenant lines, {} skipped ({not_json} not JSON, {malformed} malformed JSON)",
            shape["lines"],
            shape["events"],
            not_json + malformed
        )
    );
    assert_eq!(
        parse_jsonl(&output.stdout).len() as u64,
        shape["events"].as_u64().unwrap()
    );
}

#[test]
fn quiet_hides_the_summary() {
    flowtrace()
        .args(["events", "--quiet", "--format", "jsonl"])
        .arg(fixture("incident/kubectl_prefix.log"))
        .assert()
        .success()
        .stderr("");
}

#[test]
fn stdin_is_read_when_piped_or_named_dash() {
    let log = std::fs::read(fixture("incident/kubectl_prefix_timestamps.log")).unwrap();
    let baseline = events_jsonl(&[&fixture_arg("incident/kubectl_prefix_timestamps.log")]);
    for args in [vec!["events", "-q"], vec!["events", "-q", "-"]] {
        let output = flowtrace()
            .args(&args)
            .write_stdin(log.clone())
            .output()
            .unwrap();
        assert!(output.status.success());
        let events = parse_jsonl(&output.stdout); // piped stdout: jsonl by default
        assert_eq!(events.len(), baseline.len(), "{args:?}");
        let line = baseline[0]["source"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap();
        assert_eq!(events[0]["source"], format!("<stdin>:{line}"));
        assert_eq!(
            comparable_all(&events, true),
            comparable_all(&baseline, true)
        );
    }
    // gzip through stdin too
    let gz = std::fs::read(fixture("incident/flat.log.gz")).unwrap();
    let output = flowtrace()
        .args(["events", "-q"])
        .write_stdin(gz)
        .output()
        .unwrap();
    assert_eq!(parse_jsonl(&output.stdout).len(), baseline.len());
}

#[test]
fn several_inputs_are_merged_in_time_order() {
    // Split the flat log in two files, odd and even lines: the merge restores the order.
    let text = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut odd, mut even) = (Vec::new(), Vec::new());
    for (index, line) in text.lines().enumerate() {
        let target = if index % 2 == 0 { &mut even } else { &mut odd };
        writeln!(target, "{line}").unwrap();
    }
    let odd_path = dir.path().join("odd.log");
    let even_path = dir.path().join("even.log");
    std::fs::write(&odd_path, odd).unwrap();
    std::fs::write(&even_path, even).unwrap();
    let merged = events_jsonl(&[odd_path.to_str().unwrap(), even_path.to_str().unwrap()]);
    let baseline = events_jsonl(&[&fixture_arg("incident/flat.jsonl")]);
    let times = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["ts"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(times(&merged), times(&baseline));
    let mut sorted = times(&merged);
    sorted.sort();
    assert_eq!(times(&merged), sorted);
}

/// The production capture (two pods behind `kubectl --prefix`, python-json-logger's flat lines
/// and penguiflow's structured lines): every trace's status and every kind's count is what the
/// runtime's own FlowEvents say, in both shapes.
#[test]
fn production_shapes_match_the_runtime() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("production/expected.json")).unwrap(),
    )
    .unwrap();
    for shape in ["production/flat.log.gz", "production/structured.log.gz"] {
        let traces = report_json("traces", &[&fixture_arg(shape)]);
        let traces = traces.as_array().unwrap();
        assert_eq!(traces.len() as u64, expected["traces"], "{shape}");
        for trace in traces {
            let id = trace["trace_id"].as_str().unwrap();
            assert_eq!(
                trace["status"], expected["status_of"][id],
                "{shape}: trace {id}"
            );
        }
        let mut kinds = std::collections::BTreeMap::<String, u64>::new();
        for event in events_jsonl(&[&fixture_arg(shape)]) {
            *kinds
                .entry(event["event"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        let expected_kinds: std::collections::BTreeMap<String, u64> =
            serde_json::from_value(expected["kinds"].clone()).unwrap();
        assert_eq!(kinds, expected_kinds, "{shape}");
    }
}

/// `kubectl logs -l app=worker --prefix` without `-f` prints one pod's log after the other: the
/// file's runs are read as inputs of their own and merged, so every answer is the one the
/// interleaved stream gives, and each event still names its true line.
#[test]
fn pods_logged_one_after_another_are_merged_by_time() {
    let mut interleaved = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture("production/flat.log.gz")).unwrap())
        .read_to_end(&mut interleaved)
        .unwrap();
    let text = String::from_utf8(interleaved.clone()).unwrap();
    let mut pods: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        let pod = line.split('/').nth(1).unwrap().to_string();
        match pods.iter_mut().find(|(known, _)| *known == pod) {
            Some((_, lines)) => lines.push(line),
            None => pods.push((pod, vec![line])),
        }
    }
    assert_eq!(pods.len(), 2);
    let concatenated: Vec<&str> = pods.iter().flat_map(|(_, lines)| lines.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let (one, other) = (
        dir.path().join("one-after-another.log"),
        dir.path().join("live.log"),
    );
    std::fs::write(&one, concatenated.join("\n") + "\n").unwrap();
    std::fs::write(&other, &interleaved).unwrap();
    for subcommand in ["traces", "classify", "saturation"] {
        let answer = |path: &std::path::Path| {
            let output = flowtrace()
                .args([subcommand, "--format", "json"])
                .arg(path)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            (String::from_utf8(output.stdout).unwrap(), stderr)
        };
        let (merged, stderr) = answer(&one);
        let (live, _) = answer(&other);
        assert_eq!(merged, live, "{subcommand}");
        assert!(
            stderr.contains("holds the logs of 2 pods one after another"),
            "{stderr}"
        );
        assert!(!stderr.contains("out of time order"), "{stderr}");
    }
    // Events name the line they are on in the file.
    for event in events_jsonl(&[one.to_str().unwrap()]) {
        let source = event["source"].as_str().unwrap();
        let line: usize = source.rsplit_once(':').unwrap().1.parse().unwrap();
        let node_id = event["node_id"].as_str().unwrap();
        assert!(concatenated[line - 1].contains(node_id), "{source}");
        if let Some(trace) = event["trace_id"].as_str() {
            assert!(concatenated[line - 1].contains(trace), "{source}");
        }
    }
}
