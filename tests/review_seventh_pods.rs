//! One pod saturated by the traffic pinned to it while the other pods idle (seventh review's
//! `seventh_podimbalance`: the ingress pins acme and stark to api-5c8d-a; score runs at the
//! same speed in every pod). `saturation` on its own says it is a load imbalance, with the
//! pod's share of score's messages and score's speed there and elsewhere, not "look at what
//! differs in its host". Truth from the capture's `.expected.json` and FlowEvents.

mod common;

use common::*;

const CAPTURE: &str = "review/seventh_podimbalance.log.gz";

#[test]
fn a_pod_pressed_by_the_traffic_pinned_to_it_is_a_load_imbalance() {
    let truth = fixture_json("review/seventh_podimbalance.expected.json");
    let pinned = truth["tenant_to_pod"].as_object().unwrap();
    let pressed = pinned["acme"].as_str().unwrap();
    let per_tenant = truth["per_tenant"].as_object().unwrap();
    let traces_in = |pod: &str| -> u64 {
        per_tenant
            .values()
            .filter(|tenant| tenant["pod"] == pod)
            .map(|tenant| tenant["traces"].as_u64().unwrap())
            .sum()
    };
    let all: u64 = per_tenant
        .values()
        .map(|t| t["traces"].as_u64().unwrap())
        .sum();
    let share = traces_in(pressed) as f64 / all as f64;
    let pods = truth["pods"].as_array().unwrap().len();
    assert!(share >= 1.5 / pods as f64, "the capture's premise: {share}");
    let steps = report_json("saturation", &[&fixture_arg(CAPTURE)])["remediation"].to_string();
    // Each trace visits score once, but a trace skipped before score never starts it: the
    // share of score's messages is within a point or two of the share of traces.
    let lead = format!("pod {pressed} took ");
    let at = steps
        .find(&lead)
        .unwrap_or_else(|| panic!("{lead}: {steps}"))
        + lead.len();
    let digits: String = steps[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let stated: f64 = digits.parse().unwrap();
    assert!(
        (stated - share * 100.0).abs() <= 2.0,
        "{stated} vs {share}: {steps}"
    );
    assert!(
        steps[at..].starts_with(&format!(
            "{digits}% of the messages score took across its {pods} instances"
        )),
        "{steps}"
    );
    assert!(
        steps.contains("a load imbalance, not a slower host")
            && !steps.contains("its host, a noisy neighbour"),
        "{steps}"
    );
}

/// The other side: a pod that fails for every tenant it serves because of its own sidecar
/// (`sixth_stickypod`) and pods evenly loaded (`seventh_podbudget`, `third_fanout_pods`)
/// are not called a load imbalance.
#[test]
fn pods_evenly_loaded_are_not_a_load_imbalance() {
    for capture in [
        "review/sixth_stickypod.jsonl.gz",
        "review/seventh_podbudget.log.gz",
        "review/third_fanout_pods.log.gz",
        "review/fourth_fleet_pods.log",
    ] {
        let steps = report_json("saturation", &[&fixture_arg(capture)])["remediation"].to_string();
        assert!(!steps.contains("a load imbalance"), "{capture}: {steps}");
    }
}
