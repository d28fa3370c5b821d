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
