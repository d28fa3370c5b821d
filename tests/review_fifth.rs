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

/// `fifth_readtimeout`: inside `fetch`, an httpx client with a 0.4 s timeout raises
/// `ReadTimeout('')` for contoso's requests; the runtime logs them as node_error (its own 3 s
/// timeout never fires). The advice is a slow dependency, not the tenant's credentials.
#[test]
fn a_client_timeout_raised_as_an_error_is_read_as_a_slow_dependency() {
    let truth = expected("fifth_readtimeout");
    assert_eq!(truth["node_timeouts"], 0);
    assert_eq!(
        truth["exceptions"]["ReadTimeout('')"],
        truth["kinds"]["node_error"]
    );
    let path = log("fifth_readtimeout");
    let classify = report_json("classify", &[&path]);
    let errors = classify["categories"]["error"]["events"].as_u64().unwrap();
    assert_eq!(Some(errors), truth["kinds"]["node_error"].as_u64());
    let checklist = classify["remediation"].to_string();
    assert!(
        checklist.contains("a timeout of the client inside the handler")
            && checklist.contains("tenant contoso"),
        "{checklist}"
    );
    assert!(
        !checklist.contains("credentials, quota or payloads"),
        "{checklist}"
    );

    let failed = truth["trace_status"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, trace)| trace["status"] == "failed")
        .map(|(id, _)| id.clone())
        .unwrap();
    let output = flowtrace()
        .args(["find", &failed, &path, "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("a timeout of the client inside fetch's handler"),
        "{text}"
    );
    assert!(!text.contains("credentials, quota or payloads"), "{text}");

    // The slow-dependency signal over fetch's failing window: its attempts ended in errors, so
    // no checklist asks for a timeout that would make them "fail fast".
    for subcommand in ["triage", "saturation"] {
        let report = report_json(subcommand, &[&path]);
        let steps = report["remediation"].to_string();
        assert!(!steps.contains("so it fails fast"), "{subcommand}: {steps}");
        assert!(
            steps.contains("ended in errors, not in silence"),
            "{subcommand}: {steps}"
        );
    }
}

/// The other side of the client-timeout reading, on another topology: the incident capture's
/// `TimeoutError`s at `retrieve` are the runtime's own timeouts (node_timeout events, as its
/// expected.json counts them), and its error exceptions are no timeouts: no advice there reads
/// them as a client's time limit.
#[test]
fn the_runtimes_own_timeouts_are_not_read_as_a_client_timeout() {
    let truth = fixture_json("incident/expected.json");
    let timeouts = truth["classify"]["categories"]["timeout"]["events"]
        .as_u64()
        .unwrap();
    assert!(timeouts > 0);
    let path = fixture_arg("incident/flat.jsonl");
    let classify = report_json("classify", &[&path]);
    assert_eq!(
        classify["categories"]["timeout"]["events"].as_u64(),
        Some(timeouts)
    );
    let steps = classify["remediation"].to_string();
    assert!(!steps.contains("a timeout of the client"), "{steps}");
}
