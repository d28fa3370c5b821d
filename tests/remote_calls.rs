//! The remote-call capture (fixtures/remote/, script fixtures/capture/remote.py): a real
//! PenguiFlow 3.11.2 run of `ingest -> {research, writer}`, `writer -> relay`, where research
//! and writer are the library's `RemoteNode`s (a unary call and a streamed one, whose chunks go
//! on to relay while the call runs) over an in-process transport: remote errors (one recovered,
//! one terminal), a call cut by its node's timeout, a broken stream, trace cancellations
//! mirrored onto the remote task (`remote_call_cancelled`, `remote_cancel_error`, and one whose
//! remote cancel was itself cancelled), and a stream still under way when the log ends. Every
//! expectation is computed from `expected.json`, which the capture wrote from the FlowEvents
//! the runtime emitted.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

const REMOTE_KINDS: [&str; 6] = [
    "remote_call_start",
    "remote_call_success",
    "remote_call_error",
    "remote_call_cancelled",
    "remote_cancel_error",
    "remote_stream_event",
];

fn log() -> String {
    fixture_arg("remote/flat.jsonl")
}

fn expected() -> Value {
    fixture_json("remote/expected.json")
}

/// The capture's traces, as (trace id, its record).
fn traces(truth: &Value) -> Vec<(String, Value)> {
    truth["traces"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, trace)| (id.clone(), trace.clone()))
        .collect()
}

fn trace_of(truth: &Value, scenario: &str) -> (String, Value) {
    traces(truth)
        .into_iter()
        .find(|(_, trace)| trace["scenario"] == scenario)
        .unwrap_or_else(|| panic!("no scenario {scenario}"))
}

/// How many events of `kinds` the runtime emitted in `trace`.
fn count(trace: &Value, kinds: &[&str]) -> u64 {
    kinds
        .iter()
        .map(|kind| trace["kinds"][kind].as_u64().unwrap_or(0))
        .sum()
}

fn kinds_of(events: &[Value]) -> BTreeMap<String, u64> {
    let mut kinds = BTreeMap::new();
    for event in events {
        *kinds
            .entry(event["event"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    kinds
}

#[test]
fn every_remote_event_is_read_in_every_shape_with_its_fields() {
    let truth = expected();
    let flat = events_jsonl(&[&log()]);
    let want: BTreeMap<String, u64> = truth["kinds"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(kind, n)| (kind.clone(), n.as_u64().unwrap()))
        .collect();
    assert_eq!(kinds_of(&flat), want);
    for kind in REMOTE_KINDS {
        assert!(want[kind] > 0, "the capture has no {kind}");
    }
    // The structured shape (payload under `extra`) and the store give the same events.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("events.db");
    std::fs::copy(fixture("remote/events.db"), &store).unwrap();
    let structured = events_jsonl(&[&fixture_arg("remote/structured.jsonl")]);
    let stored = events_jsonl(&["--store", store.to_str().unwrap()]);
    let comparable_all =
        |events: &[Value]| -> Vec<Value> { events.iter().map(|e| comparable(e, false)).collect() };
    assert_eq!(comparable_all(&structured), comparable_all(&flat));
    assert_eq!(comparable_all(&stored), comparable_all(&flat));

    // Each call's fields: its agent, skill and remote task; a failed call's error is its
    // exception, as is a failed cancel's.
    for (trace_id, trace) in traces(&truth) {
        let events: Vec<&Value> = flat.iter().filter(|e| e["trace_id"] == trace_id).collect();
        for call in trace["remote_calls"].as_array().unwrap() {
            let started = ts_of(&call["start_ts"]);
            let of_call = |kind: &str| {
                events
                    .iter()
                    .find(|e| {
                        e["event"] == kind
                            && e["node_name"] == call["node_name"]
                            && (e["remote_task_id"] == call["task_id"]
                                || kind == "remote_call_start")
                            && e["ts"].as_str() >= started.as_str()
                    })
                    .unwrap_or_else(|| panic!("{trace_id}: no {kind} for {call}"))
            };
            let start = of_call("remote_call_start");
            assert_eq!(start["remote_agent_url"], call["agent_url"]);
            assert_eq!(start["remote_skill"], call["skill"]);
            if let Some(end) = call["end"].as_str() {
                let end = of_call(end);
                assert_eq!(end["remote_task_id"], call["task_id"]);
                match call["remote_error"].as_str() {
                    Some(error) => assert_eq!(end["exception"], error),
                    None => assert!(end.get("exception").is_none(), "{end}"),
                }
            }
            if let Some(cancel) = call["cancel"].as_str() {
                let cancel = of_call(cancel);
                assert_eq!(cancel["remote_task_id"], call["task_id"]);
                match call["cancel_error"].as_str() {
                    Some(error) => assert_eq!(cancel["exception"], error),
                    None => assert!(cancel.get("exception").is_none(), "{cancel}"),
                }
            }
        }
    }
}

/// `expected.json` keeps Unix seconds; events print RFC 3339 with microseconds.
fn ts_of(seconds: &Value) -> Value {
    let micros = (seconds.as_f64().unwrap() * 1e6).round() as i64;
    let at = chrono::DateTime::from_timestamp_micros(micros).unwrap();
    Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

#[test]
fn statuses_and_stop_points_are_the_runtimes() {
    let truth = expected();
    let listed = report_json("traces", &[&log()]);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), traces(&truth).len());
    for row in listed {
        let trace = &truth["traces"][row["trace_id"].as_str().unwrap()];
        assert_eq!(row["status"], trace["status"], "{row}");
        if trace["status"] != "in_flight" {
            assert_eq!(row["category"], trace["category"], "{row}");
        }
    }
    for (trace_id, trace) in traces(&truth) {
        let found = report_json("find", &[&trace_id, &log()]);
        assert_eq!(found["status"], trace["status"], "{trace_id}");
        assert_eq!(
            found["next"]["node_name"].as_str(),
            trace["next_node"].as_str(),
            "{trace_id} ({}): {}",
            trace["scenario"],
            found["next"]
        );
        // Failures counted once each: the node's own events (a remote_call_error is repeated
        // by the node_error right after it); a failed remote cancel is an error of its own.
        let counts = &found["counts"];
        assert_eq!(
            counts["error"].as_u64().unwrap(),
            count(&trace, &["node_error", "remote_cancel_error"]),
            "{trace_id}"
        );
        assert_eq!(
            counts["timeout"].as_u64().unwrap(),
            count(&trace, &["node_timeout"])
        );
        assert_eq!(
            counts["cancel"].as_u64().unwrap(),
            count(
                &trace,
                &[
                    "trace_cancel_start",
                    "trace_cancel_finish",
                    "trace_cancel_drop",
                    "node_trace_cancelled",
                    "remote_call_cancelled",
                ]
            ),
            "{trace_id}"
        );
        // Attempts are the node_starts: remote events are steps inside them.
        assert_eq!(
            found["attempts"].as_u64().unwrap(),
            count(&trace, &["node_start"])
        );
    }
}

#[test]
fn a_call_still_streaming_at_the_end_is_its_nodes_attempt_under_way() {
    let truth = expected();
    let (trace_id, trace) = trace_of(&truth, "streaming_at_cut");
    // The runtime's record: writer's last event is a chunk of a call that never ended.
    assert_eq!(trace["last_kind_by_node"]["writer"], "remote_stream_event");
    let under_way = &trace["attempts_under_way"][0];
    let found = report_json("find", &[&trace_id, &log()]);
    let next = &found["next"];
    assert_eq!(next["node_name"], under_way["node_name"]);
    assert_eq!(next["event"], "node_start", "{next}");
    assert_eq!(next["ts"], ts_of(&under_way["started_ts"]));
    let running_ms =
        (truth["end_ts"].as_f64().unwrap() - under_way["started_ts"].as_f64().unwrap()) * 1000.0;
    assert!(
        (next["running_ms"].as_f64().unwrap() - running_ms).abs() < 0.01,
        "{next} vs {running_ms}"
    );
}

#[test]
fn a_remote_call_is_a_step_of_its_node_not_a_node_or_an_edge() {
    let truth = expected();
    let graph = report_json("graph", &[&log()]);
    let edges = common::learned_edges(&graph);
    let mut wired: Vec<(String, String)> = truth["flow"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into()))
        .collect();
    wired.sort();
    // writer streams each chunk to relay before its own success is logged, while research
    // (its sibling) may finish first: relay is still writer's.
    assert_eq!(edges, wired);
    let mut nodes: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node_name"].as_str().unwrap())
        .filter(|n| !["OpenSea", "Rookery"].contains(n))
        .collect();
    nodes.sort_unstable();
    assert_eq!(nodes, truth["flow"]["nodes"].as_array().unwrap().clone());
}

#[test]
fn classify_counts_each_remote_failure_once_under_its_category() {
    let truth = expected();
    let all: Vec<(String, Value)> = traces(&truth);
    let total = |kinds: &[&str]| -> u64 { all.iter().map(|(_, t)| count(t, kinds)).sum() };
    let classify = report_json("classify", &[&log()]);
    let categories = &classify["categories"];
    assert_eq!(
        categories["error"]["events"].as_u64().unwrap(),
        total(&["node_error", "remote_cancel_error"])
    );
    assert_eq!(
        categories["cancel"]["events"].as_u64().unwrap(),
        total(&[
            "trace_cancel_start",
            "trace_cancel_finish",
            "trace_cancel_drop",
            "node_trace_cancelled",
            "remote_call_cancelled",
        ])
    );
    assert_eq!(
        categories["timeout"]["events"].as_u64().unwrap(),
        total(&["node_timeout"])
    );
    let traces_with = |kinds: &[&str]| all.iter().filter(|(_, t)| count(t, kinds) > 0).count();
    assert_eq!(
        categories["error"]["traces"].as_u64().unwrap() as usize,
        traces_with(&["node_error", "remote_cancel_error"])
    );
    // Exception types: each failed attempt's (its node_error's, which repeats its remote
    // call's), and each failed remote cancel's.
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for (_, trace) in &all {
        let attempts = trace["node_exceptions"].as_array().unwrap().iter();
        let cancels = trace["remote_calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|call| call["cancel_error"].as_str());
        for exception in attempts
            .filter_map(|e| e["exception"].as_str())
            .chain(cancels)
        {
            let type_name = exception.split('(').next().unwrap().to_string();
            *want.entry(type_name).or_default() += 1;
        }
    }
    let got: BTreeMap<String, u64> = classify["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // Per node, the same rule.
    for group in classify["groups"].as_array().unwrap() {
        let node = group["key"].as_str().unwrap();
        let of_node = &truth["kinds_by_node"][node];
        let at = |kinds: &[&str]| -> u64 {
            kinds.iter().map(|k| of_node[k].as_u64().unwrap_or(0)).sum()
        };
        assert_eq!(
            group["error"].as_u64().unwrap(),
            at(&["node_error", "remote_cancel_error"]),
            "{node}"
        );
    }
}

#[test]
fn the_timeline_shows_each_remote_call_and_its_stream_s_last_chunk() {
    let truth = expected();
    let (trace_id, trace) = trace_of(&truth, "stream_error_recovered");
    let output = flowtrace()
        .args(["find", &trace_id, &log(), "--quiet"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let rows = |kind: &str| {
        text.lines()
            .filter(|line| line.split_whitespace().nth(3) == Some(kind))
            .collect::<Vec<_>>()
    };
    let calls = trace["remote_calls"].as_array().unwrap();
    assert_eq!(rows("remote_call_start").len(), calls.len(), "{text}");
    // One chunk row per streamed call (its last), the others folded.
    let streamed = calls
        .iter()
        .filter(|c| c["stream_events"].as_u64().unwrap() > 0)
        .count();
    assert_eq!(rows("remote_stream_event").len(), streamed, "{text}");
    // The broken stream's error, with its agent.
    let broken = calls
        .iter()
        .find(|c| c["end"] == "remote_call_error")
        .unwrap();
    let error_row = rows("remote_call_error");
    assert_eq!(error_row.len(), 1, "{text}");
    let type_name = broken["remote_error"]
        .as_str()
        .unwrap()
        .split('(')
        .next()
        .unwrap();
    assert!(error_row[0].contains(type_name), "{}", error_row[0]);
    assert!(
        text.contains(broken["agent_url"].as_str().unwrap()),
        "{text}"
    );
    // --all shows every chunk.
    let all = flowtrace()
        .args(["find", &trace_id, &log(), "--quiet", "--all"])
        .output()
        .unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    let chunks = all
        .lines()
        .filter(|line| line.split_whitespace().nth(3) == Some("remote_stream_event"))
        .count() as u64;
    assert_eq!(chunks, count(&trace, &["remote_stream_event"]));
}

/// A remote agent answering 503 "overloaded, retry later" is a dependency in trouble, not a
/// code defect: classify and find say so (both had said "fix the code; retrying will not
/// help", the exception being a plain RuntimeError).
#[test]
fn an_overloaded_agent_is_not_called_a_code_defect() {
    let truth = expected();
    // The traces whose node errors were the agent's 503s, from the capture's own FlowEvents.
    let overloaded: Vec<String> = traces(&truth)
        .into_iter()
        .filter(|(_, trace)| {
            trace["node_exceptions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| {
                    e["exception"]
                        .as_str()
                        .is_some_and(|text| text.contains("(503)"))
                })
        })
        .map(|(id, _)| id)
        .collect();
    assert!(!overloaded.is_empty(), "the capture has the 503 scenario");
    let classify = report_json("classify", &[&log()]);
    let steps: Vec<String> = classify["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|category| category["steps"].as_array().unwrap().clone())
        .map(|step| step.as_str().unwrap().to_string())
        .collect();
    let step = steps
        .iter()
        .find(|step| step.starts_with("RuntimeError"))
        .unwrap_or_else(|| panic!("no RuntimeError step in {steps:?}"));
    assert!(step.contains("overloaded or unavailable"), "{step}");
    assert!(!step.contains("deterministic"), "{step}");
    for trace_id in &overloaded {
        let find = report_json("find", &[trace_id, &log()]);
        let advice = find["remediation"].to_string();
        assert!(advice.contains("check its health"), "{trace_id}: {advice}");
        assert!(!advice.contains("deterministic"), "{trace_id}: {advice}");
        assert!(!advice.contains("cannot succeed"), "{trace_id}: {advice}");
    }
}
