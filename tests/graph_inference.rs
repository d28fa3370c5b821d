//! The flow graph learned from telemetry matches the flow the capture script really built.

mod common;

use std::sync::Arc;

use common::*;
use flowtrace::analysis::graph::GraphLearner;
use flowtrace::source::{EventStream, InputSpec, SourceOptions};

fn learned_edges(relative: &str) -> Vec<(String, String)> {
    let stream = EventStream::open(SourceOptions {
        inputs: vec![InputSpec::File(fixture(relative))],
        store: None,
        strict: false,
        prefilter: Arc::new(|_| true),
        sample_lines: 0,
        decode_threads: None,
        required: None,
        progress: false,
        max_line_bytes: flowtrace::source::MAX_LINE_BYTES as usize,
        follow: None,
        inspector: None,
        batches_ahead: flowtrace::source::BATCHES_AHEAD,
    })
    .unwrap();
    let mut learner = GraphLearner::default();
    for event in stream {
        learner.observe(&event);
    }
    let mut edges: Vec<(String, String)> = learner
        .finish()
        .edges
        .into_iter()
        .map(|e| (e.from, e.to))
        .collect();
    edges.sort();
    edges
}

fn expected_edges(relative: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture(relative)).unwrap();
    wired_edges(&serde_json::from_str(&text).unwrap())
}

#[test]
fn incident_flow_with_fan_out() {
    assert_eq!(
        learned_edges("incident/flat.jsonl"),
        expected_edges("incident/expected.json")
    );
}

#[test]
fn saturation_flow_under_backpressure() {
    assert_eq!(
        learned_edges("saturation/flat.jsonl"),
        expected_edges("saturation/expected.json")
    );
}

/// emit_cut (fixtures/capture/review/emit_cut.py): split emits three messages to embed and one
/// to index, both send to store, which is slow; the log is cut while embed's outputs wait in
/// store's queue. Each trace reaches store first through index, so embed's messages start at
/// store hundreds of ms after the trace already reached it: embed is a fan-in's input, not a
/// sink, and a trace whose embed outputs store has not taken is not done. The truth is read
/// back from the capture's own events: in every trace store finished, it took one message per
/// success of embed and of index (and took embed's last one after embed's last success); a
/// trace is done when store succeeded once per message split emitted (4).
#[test]
fn an_emit_fan_in_reached_first_through_a_faster_branch() {
    use std::collections::{BTreeMap, BTreeSet};

    let log = fixture_arg("review/emit_cut.jsonl");
    let events = events_jsonl(&[&log]);
    let mut traces: BTreeMap<&str, Vec<&serde_json::Value>> = BTreeMap::new();
    for event in &events {
        traces
            .entry(event["trace_id"].as_str().unwrap())
            .or_default()
            .push(event);
    }
    let count = |trace: &[&serde_json::Value], node: &str, kind: &str| {
        trace
            .iter()
            .filter(|e| e["node_name"] == node && e["event"] == kind)
            .count()
    };
    let last = |trace: &[&serde_json::Value], node: &str, kind: &str| {
        trace
            .iter()
            .filter(|e| e["node_name"] == node && e["event"] == kind)
            .map(|e| e["ts"].as_str().unwrap().to_string())
            .max()
    };
    let mut done = BTreeSet::new();
    for (trace_id, trace) in &traces {
        assert_eq!(
            trace[0]["node_name"], "split",
            "every trace enters at split"
        );
        // Messages sent to store in this trace: one per success of embed and of index.
        let sent = count(trace, "embed", "node_success") + count(trace, "index", "node_success");
        assert!(count(trace, "store", "node_start") <= sent, "{trace_id}");
        if count(trace, "store", "node_success") == 4 {
            assert_eq!(count(trace, "embed", "node_success"), 3, "{trace_id}");
            assert_eq!(count(trace, "index", "node_success"), 1, "{trace_id}");
            assert_eq!(count(trace, "store", "node_start"), sent, "{trace_id}");
            // store started again after embed's last success: embed's output reached it.
            assert!(
                last(trace, "store", "node_start") > last(trace, "embed", "node_success"),
                "{trace_id}"
            );
            done.insert(trace_id.to_string());
        }
    }
    // The out-degrees the nodes report: split 2 (embed, index), the others 1 (store; store's
    // to the egress).
    for (node, outgoing) in [("split", 2), ("embed", 1), ("index", 1), ("store", 1)] {
        assert!(
            events
                .iter()
                .filter(|e| e["node_name"] == node)
                .all(|e| e["outgoing"] == outgoing),
            "{node}"
        );
    }
    assert_eq!((done.len(), traces.len() - done.len()), (12, 7));

    let graph = report_json("graph", &[&log]);
    let expected: Vec<(String, String)> = [
        ("OpenSea", "split"),
        ("embed", "store"),
        ("index", "store"),
        ("split", "embed"),
        ("split", "index"),
        ("store", "Rookery"),
    ]
    .iter()
    .map(|(from, to)| (from.to_string(), to.to_string()))
    .collect();
    assert_eq!(common::learned_edges(&graph), expected);

    let report = report_json("traces", &[&log]);
    let statuses: BTreeMap<String, String> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["trace_id"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(statuses.len(), traces.len());
    for (trace_id, status) in &statuses {
        let expected = if done.contains(trace_id) {
            "succeeded"
        } else {
            "in_flight"
        };
        assert_eq!(status, expected, "{trace_id}");
    }
}
