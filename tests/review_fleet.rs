//! The fourth review's fleet and slow-sink captures (fixtures/review/fourth_fleet_pods, fourth_slow_sink; scripts fourth_fleet.py, fourth_chain.py):
//! real PenguiFlow 3.11.2 runs, each `.expected.json` computed by the capture from the runtime's
//! FlowEvents and its state at the cut.

mod common;

use common::*;
use serde_json::Value;

fn fleet() -> String {
    fixture_arg("review/fourth_fleet_pods.log")
}

fn fleet_truth() -> Value {
    fixture_json("review/fourth_fleet_pods.expected.json")
}

#[test]
fn a_saturated_fleet_with_one_hung_call_gets_both_steps() {
    // Three pods, score the bottleneck in every one (the runtime's queues), and one pod's score
    // call hung at the cut.
    let truth = fleet_truth();
    let pods = truth["hot_node_by_rule"].as_object().unwrap();
    assert!(pods.values().all(|node| node == "score"), "{pods:?}");
    let hung = truth["hang_trace"].as_str().unwrap();
    let triage = report_json("triage", &[&fleet()]);
    let steps = triage["remediation"].as_array().unwrap();
    assert!(
        steps[0]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("hanging attempt: score"),
        "{}",
        steps[0]
    );
    assert_eq!(triage["worst"][0]["trace_id"], hung);
    // The bottleneck's own step is there, and it is the capacity advice, not the hang again.
    let bottleneck = steps
        .iter()
        .find(|s| {
            s["evidence"]
                .as_str()
                .unwrap()
                .starts_with("saturation: hot node score")
        })
        .expect("the bottleneck's step");
    let text = bottleneck["step"].as_str().unwrap();
    assert!(text.contains("add replicas"), "{text}");
    assert!(!text.contains(hung), "{text}");
    // Steps are ranked by the traces they concern, counts a reader can check.
    for step in steps {
        assert!(step["traces"].as_u64().unwrap() < 1_000_000, "{step}");
    }
}

#[test]
fn filtering_to_the_hung_pod_keeps_the_hang_at_its_true_age() {
    let truth = fleet_truth();
    let pod = truth["hang_pod"].as_str().unwrap();
    let hung = truth["hang_trace"].as_str().unwrap();
    let running = truth["running_at_end"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["trace"] == hung)
        .unwrap()["running_ms"]
        .as_f64()
        .unwrap();
    for command in ["saturation", "triage"] {
        let report = report_json(command, &[&fleet(), "--pod", pod]);
        let saturation = if command == "triage" {
            &report["saturation"]
        } else {
            &report
        };
        assert_eq!(saturation["hanging"][0]["trace_id"], hung, "{command}");
        let ms = saturation["hanging"][0]["running_ms"].as_f64().unwrap();
        assert!((ms - running).abs() < 20.0, "{command}: {ms} vs {running}");
    }
}

#[test]
fn the_read_notes_of_a_whole_read_do_not_call_the_report_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("fleet.html");
    flowtrace()
        .args(["report", &fleet(), "-o", page.to_str().unwrap()])
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("This report is incomplete"));
    assert!(
        html.contains("3 pods one after another"),
        "the read note is shown"
    );
}

#[test]
fn one_tenants_short_budgets_are_named() {
    // A chain with default queues (64) and a slow sink: one tenant's callers give 1.2 s
    // budgets, the others longer ones. The runtime's record: every skip that was not stale (a
    // budget already past at emit) is that tenant's.
    let log = fixture_arg("review/fourth_slow_sink.jsonl.gz");
    let truth = fixture_json("review/fourth_slow_sink.expected.json");
    let skips = truth["kind_by_tenant"]["deadline_skip"]
        .as_object()
        .unwrap();
    let (tenant, count) = skips
        .iter()
        .max_by_key(|(_, n)| n.as_u64().unwrap())
        .map(|(t, n)| (t.clone(), n.as_u64().unwrap()))
        .unwrap();
    let classify = report_json("classify", &[&log]);
    assert_eq!(
        classify["deadlines"]["expired_in_flow"].as_u64().unwrap(),
        count
    );
    let steps = classify["remediation"].to_string();
    assert!(
        steps.contains(&format!(
            "{count} of the {count} that expired in the flow are tenant {tenant}'s"
        )),
        "{steps}"
    );
}

/// The fleet's persist dependency answers `ServiceUnavailable('503 Service Unavailable ...')`
/// (a second topology beside the remote capture's A2A 503s): classify names an overloaded or
/// unavailable dependency, with the runtime's own count of such attempts, never a code defect.
#[test]
fn a_503_dependency_is_named_unavailable_with_the_runtime_s_count() {
    let text = std::fs::read_to_string(fixture("review/fourth_fleet_pods.log")).unwrap();
    let errors: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(r#""event": "node_error""#))
        .collect();
    let unavailable = errors.iter().filter(|line| line.contains("503")).count();
    assert!(
        unavailable * 2 > errors.len(),
        "the capture's errors are 503s"
    );
    let classify = report_json("classify", &[&fleet()]);
    let steps = classify["remediation"].to_string();
    assert!(
        steps.contains(&format!(
            "{unavailable} of {} attempts read like the dependency saying it is overloaded or unavailable",
            errors.len()
        )),
        "{steps}"
    );
    assert!(!steps.contains("deterministic"), "{steps}");
}
