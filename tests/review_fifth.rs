//! The fifth review's captures (fixtures/review/fifth_*, scripts in fixtures/capture/review):
//! real PenguiFlow 3.11.2 runs of situations a verdict once got wrong. Each `.expected.json`
//! holds what the runtime's own FlowEvents and state say was true.
//!
//! - `fifth_slowtail`: `llm` has no timeout and a cold-model tail (a few calls of 3.4-3.6 s that
//!   succeed, p95 about 120 ms); the log is cut 1.8 s into another cold call, which finished
//!   after the cut. A call that is no longer than ones the node already finished is slow, not
//!   hung: no "hanging" verdict, no advice to cut it with a timeout.

mod common;

use common::*;
use serde_json::Value;

fn log(name: &str) -> String {
    fixture_arg(&format!("review/{name}.jsonl"))
}

fn expected(name: &str) -> Value {
    fixture_json(&format!("review/{name}.expected.json"))
}

#[test]
fn a_slow_call_within_the_nodes_own_history_is_not_called_hung() {
    let truth = expected("fifth_slowtail");
    assert_eq!(truth["hung"], false);
    let running = &truth["running_at_cut"];
    let trace = running["trace"].as_str().unwrap();
    let node = running["node"].as_str().unwrap();
    let running_ms = running["running_ms"].as_f64().unwrap();
    let longest_ms = truth["llm_success_ms"]["max"].as_f64().unwrap();
    // The situation: far past the node's p95, yet shorter than calls it already finished.
    let p95 = truth["llm_success_ms"]["p95"].as_f64().unwrap();
    assert!(running_ms > 10.0 * p95 && running_ms < longest_ms);

    let path = log("fifth_slowtail");
    let triage = report_json("triage", &[&path]);
    assert_eq!(
        triage["saturation"]["hanging"].as_array().unwrap().len(),
        0,
        "{}",
        triage["saturation"]["hanging"]
    );
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(saturation["hanging"].as_array().unwrap().len(), 0);

    // find names the call slow, against the node's longest success, and does not call it hung.
    let output = flowtrace()
        .args(["find", trace, &path, "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "{node} started attempt 0 and has not finished yet"
        )) && text.contains("a slow call, not yet a hang"),
        "{text}"
    );
    assert!(!text.contains("the call is hanging"), "{text}");
}
