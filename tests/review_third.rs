//! The third adversarial review's captures (fixtures/review/third_*, scripts third_chain.py and
//! third_fanout.py in fixtures/capture/review): real PenguiFlow 3.11.2 runs like the incident
//! issue 11 describes, each with an `.expected.json` the capture computed from the runtime's
//! own FlowEvents and its state at the cut (queues, attempts under way, each trace's scenario).

mod common;

use common::*;
use serde_json::Value;

fn capture(name: &str) -> String {
    let file = if name == "third_fanout_pods" {
        format!("review/{name}.log.gz")
    } else {
        format!("review/{name}.jsonl")
    };
    fixture_arg(&file)
}

fn expected(name: &str) -> Value {
    fixture_json(&format!("review/{name}.expected.json"))
}

fn traces_of(expected: &Value, scenario: &str) -> Vec<String> {
    let mut traces: Vec<String> = expected["scenario_of"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| *s == scenario)
        .map(|(trace, _)| trace.clone())
        .collect();
    traces.sort();
    traces
}

/// The hung attempt at the cut is the first worst trace and the first checklist line, though
/// the log ends while it is young (a frozen pod stops logging once its queues fill).
fn hung_call_comes_first(name: &str) {
    let log = capture(name);
    let truth = expected(name);
    let hung = truth["hang_trace"].as_str().unwrap();
    // The runtime's record: its llm attempt started and never ended.
    let events = events_jsonl(&[&log]);
    let of_hung: Vec<&Value> = events
        .iter()
        .filter(|e| e["trace_id"] == hung && e["node_name"] == "llm")
        .collect();
    assert_eq!(of_hung.last().unwrap()["event"], "node_start");

    let triage = report_json("triage", &[&log]);
    assert_eq!(triage["worst"][0]["trace_id"], hung, "{}", triage["worst"]);
    assert_eq!(triage["worst"][0]["running"], true);
    assert!(
        triage["remediation"][0]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("hanging attempt: llm"),
        "{}",
        triage["remediation"][0]
    );
    let saturation = report_json("saturation", &[&log]);
    assert_eq!(saturation["hanging_total"], 1, "{}", saturation["hanging"]);
    // The hot node by the runtime's own queues (inbound full while outbound is not).
    assert_eq!(saturation["hot_node"], truth["hot_node_by_rule"]["None"]);
    // Failures of other causes are shown one per cause: no cause twice while others wait.
    let causes: Vec<(String, String, String)> = triage["worst"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["status"] == "failed")
        .map(|w| {
            (
                w["category"].to_string(),
                w["next_node"].to_string(),
                w["tenant"].to_string(),
            )
        })
        .collect();
    let mut distinct = causes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), causes.len(), "{causes:?}");
}

#[test]
fn a_hung_llm_call_in_an_llm_bound_chain_is_named_first() {
    hung_call_comes_first("third_llm_bound");
}

#[test]
fn a_hung_llm_call_behind_a_dependency_bound_retrieve_is_named_first() {
    hung_call_comes_first("third_dep_bound");
    // retrieve's worker spent most of its time in timeouts and backoff: the runtime's numbers.
    let truth = expected("third_dep_bound");
    let saturation = report_json("saturation", &[&capture("third_dep_bound")]);
    let retrieve = saturation["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_name"] == "retrieve")
        .unwrap();
    let work = &retrieve["worker_time"];
    let seconds = |key: &str| work[key].as_f64().unwrap();
    let share = (seconds("timeout_s") + seconds("backoff_s"))
        / (seconds("success_s") + seconds("timeout_s") + seconds("error_s") + seconds("backoff_s"));
    let true_share = truth["worker_time"]["retrieve"]["timeout+backoff_share"]
        .as_f64()
        .unwrap();
    assert!((share - true_share).abs() < 0.02, "{share} vs {true_share}");
}

/// Stale budgets (the capture set their deadlines 2 s in the past) are told from budgets that
/// ran out in the flow, by classify and by find alike.
fn stale_budgets_are_told_apart(name: &str) {
    let log = capture(name);
    let truth = expected(name);
    let stale = traces_of(&truth, "stale");
    let classify = report_json("classify", &[&log]);
    let deadlines = &classify["deadlines"];
    assert_eq!(
        deadlines["stale_at_first_node"].as_u64().unwrap(),
        stale.len() as u64,
        "{deadlines}"
    );
    let skipped = truth["deadline_skips"].as_array().unwrap();
    let total = deadlines["stale_at_first_node"].as_u64().unwrap()
        + deadlines["expired_in_flow"].as_u64().unwrap()
        + deadlines["spent_in_retries"].as_u64().unwrap();
    assert_eq!(total, skipped.len() as u64);
    // find says "stale" for exactly those traces.
    for skip in skipped {
        let trace = skip["trace"].as_str().unwrap();
        let found = report_json("find", &[trace, &log]);
        let says_stale = found["remediation"].to_string().contains("a stale budget");
        assert_eq!(
            says_stale,
            stale.iter().any(|s| s == trace),
            "{trace}: {}",
            found["remediation"]
        );
    }
}

#[test]
fn stale_budgets_in_an_llm_bound_chain() {
    stale_budgets_are_told_apart("third_llm_bound");
}

#[test]
fn stale_budgets_with_a_slow_first_node() {
    let truth = expected("third_dep_bound");
    let log = capture("third_dep_bound");
    // Here the first node is slow (p95 over 400 ms) and its queue full when one stale budget
    // arrived: that one cannot be told from a wait, and is not called stale. Those that
    // arrived at an idle queue are.
    let classify = report_json("classify", &[&log]);
    let stale = classify["deadlines"]["stale_at_first_node"]
        .as_u64()
        .unwrap();
    assert!(stale >= 2 && stale <= traces_of(&truth, "stale").len() as u64);
    for trace in traces_of(&truth, "short_budget") {
        let found = report_json("find", &[&trace, &log]);
        if found["status"] == "deadline_skipped" {
            assert!(
                !found["remediation"].to_string().contains("a stale budget"),
                "{trace}"
            );
        }
    }
}

#[test]
fn a_bottleneck_in_one_pod_is_that_pods_and_a_fan_out_emitting_is_not_blocked() {
    let log = capture("third_fanout_pods");
    let truth = expected("third_fanout_pods");
    let saturation = report_json("saturation", &[&log]);
    assert_eq!(saturation["hot_node"], "index");
    // Every result reached the egress and was fetched: nothing stopped draining.
    let blocked: Vec<&Value> = saturation["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "blocked_downstream")
        .collect();
    assert!(blocked.is_empty(), "{blocked:?}");
    // index backed up in pod k2 only; its worker there was busy as the runtime measured.
    let index = saturation["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_name"] == "index")
        .unwrap();
    assert_eq!(index["pressure_instance"], "pod indexer-6c8f-k2");
    let span = truth["span_s"].as_f64().unwrap();
    let busy = |pod: &str| {
        truth["worker_time_by_pod"][format!("{pod}:index")]["busy_s"]
            .as_f64()
            .unwrap()
            / span
    };
    let apart = &index["pressure_apart"];
    assert!((apart["busy_share"].as_f64().unwrap() - busy("indexer-6c8f-k2")).abs() < 0.03);
    assert!((apart["others_busy_share"].as_f64().unwrap() - busy("indexer-6c8f-p7")).abs() < 0.03);
    assert_eq!(apart["others_pressed"], 0);
    let steps = saturation["remediation"].to_string();
    assert!(
        steps.contains("index in pod indexer-6c8f-k2 only"),
        "{steps}"
    );
    assert!(!steps.contains("add replicas"), "{steps}");
    // The command it suggests shows that pod's index saturated on its own.
    let pod = report_json("saturation", &[&log, "--pod", "indexer-6c8f-k2"]);
    assert_eq!(pod["hot_node"], "index");
    let triage = report_json("triage", &[&log]);
    assert!(
        !triage["remediation"]
            .to_string()
            .contains("stopped draining"),
        "{}",
        triage["remediation"]
    );
}

#[test]
fn find_names_what_holds_the_node_a_message_waits_for() {
    // Every message the runtime held in llm's queue at the cut waits behind the hung call.
    let log = capture("third_llm_bound");
    let truth = expected("third_llm_bound");
    let hung = truth["hang_trace"].as_str().unwrap();
    let waiting: Vec<&str> = truth["waiting_in_queues_at_cut"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["queue"] == "retrieve->llm")
        .map(|w| w["trace"].as_str().unwrap())
        .collect();
    assert!(!waiting.is_empty());
    for trace in waiting {
        let found = report_json("find", &[trace, &log]);
        assert_eq!(found["next"]["node_name"], "llm", "{trace}");
        assert_eq!(found["next"]["held"]["by"], "attempt", "{trace}");
        assert_eq!(found["next"]["held"]["trace_id"], hung, "{trace}");
    }
    // In the fan-out, a message waiting for split in pod k2 waits on split's own output.
    let log = capture("third_fanout_pods");
    let truth = expected("third_fanout_pods");
    let at_split: Vec<&Value> = truth["waiting_in_queues_at_cut"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["queue"] == "ingest->split" && w["pod"] == "indexer-6c8f-k2")
        .collect();
    assert!(!at_split.is_empty());
    let trace = at_split[0]["trace"].as_str().unwrap();
    let found = report_json("find", &[trace, &log]);
    assert_eq!(found["next"]["node_name"], "split");
    assert_eq!(found["next"]["held"]["by"], "output", "{}", found["next"]);
}

#[test]
fn one_tenants_spent_quota_reads_as_its_quota_not_the_code() {
    let log = capture("third_fanout_pods");
    let events = events_jsonl(&[&log]);
    // The runtime's record: the traces failed for good by a 429 quota error.
    let failed: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "node_failed")
        .collect();
    assert!(!failed.is_empty());
    let trace = failed[0]["trace_id"].as_str().unwrap();
    let tenant = events
        .iter()
        .find(|e| e["trace_id"] == trace && e["tenant"].is_string())
        .map(|e| e["tenant"].as_str().unwrap().to_string())
        .unwrap();
    let found = report_json("find", &[trace, &log]);
    let steps = found["remediation"].to_string();
    assert!(steps.contains("quota or rate limit"), "{steps}");
    assert!(!steps.contains("deterministic"), "{steps}");
    let classify = report_json("classify", &[&log]);
    let steps = classify["remediation"].to_string();
    assert!(
        steps.contains(&format!("tenant {tenant}'s quota or rate limit")),
        "{steps}"
    );
}

#[test]
fn a_retry_storm_of_rejected_credentials_is_not_load_on_a_dependency() {
    // The runtime's record: most of retrieve's retries follow fabrikam's 401s.
    let log = capture("third_llm_bound");
    let events = events_jsonl(&[&log]);
    let retries: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "node_retry" && e["node_name"] == "retrieve")
        .collect();
    let fabrikam = retries.iter().filter(|e| e["tenant"] == "fabrikam").count();
    assert!(
        fabrikam * 2 > retries.len(),
        "{fabrikam} of {}",
        retries.len()
    );
    let classify = report_json("classify", &[&log]);
    let storm = classify["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "retry")
        .expect("a retry storm");
    let text = storm["steps"].to_string();
    assert!(text.contains("rejected credentials"), "{text}");
    assert!(!text.contains("piling onto the dependency"), "{text}");
}
