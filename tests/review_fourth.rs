//! The fourth review's join captures (fixtures/review/fourth_join_*, script fourth_join.py in
//! fixtures/capture/review): real PenguiFlow 3.11.2 runs of `intake -> {search, profile} ->
//! merge (join_k 2) -> answer`, queue_maxsize 5, cut mid-run. Each `.expected.json` holds the
//! wired edges (`flow._floes`), each trace's status from the runtime's FlowEvents, and the
//! runtime's own queues and attempts under way at the cut.
//!
//! - `fourth_join_dep` (`fourth_join.py dep`): globex's CRM stalls profile (timeouts and
//!   backoff); traces wait in profile's queue while their search branch already reached merge,
//!   which stored it (a join's first message is a success too).
//! - `fourth_join_sink` (`fourth_join.py sink`): answer is the capacity limit; merge's two
//!   inbound queues fill, and search's success often comes after merge's first arrival.

mod common;

use common::*;
use serde_json::Value;

const CAPTURES: [&str; 2] = ["fourth_join_dep", "fourth_join_sink"];

fn log(name: &str) -> String {
    fixture_arg(&format!("review/{name}.jsonl"))
}

fn expected(name: &str) -> Value {
    fixture_json(&format!("review/{name}.expected.json"))
}

/// Where the runtime held each in-flight trace at the cut: the nodes whose inbound queue held
/// one of its messages, and the nodes running one of its attempts.
fn held_at(truth: &Value, trace: &str) -> (Vec<String>, Vec<String>) {
    let queued = truth["waiting_in_queues_at_cut"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["trace"] == trace)
        .map(|w| {
            let queue = w["queue"].as_str().unwrap();
            queue.split("->").nth(1).unwrap().to_string()
        })
        .collect();
    let running = truth["running_at_end"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["trace"] == trace)
        .map(|r| r["node"].as_str().unwrap().to_string())
        .collect();
    (queued, running)
}

fn in_flight(truth: &Value) -> Vec<String> {
    let mut traces: Vec<String> = truth["trace_status"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| t["status"] == "in_flight")
        .map(|(id, _)| id.clone())
        .collect();
    traces.sort();
    traces
}

#[test]
fn a_join_is_learned_as_wired_with_every_branch_its_input() {
    // sink: search precedes merge's first arrival in under 90% of traces; it once came out as
    // a sink (search -> Rookery).
    for name in CAPTURES {
        let graph = report_json("graph", &[&log(name)]);
        assert_eq!(
            learned_edges(&graph),
            sorted_pairs(&expected(name)["edges"]),
            "{name}"
        );
    }
}

#[test]
fn every_status_is_the_runtimes() {
    for name in CAPTURES {
        let truth = expected(name);
        let traces = report_json("traces", &[&log(name)]);
        let rows = traces.as_array().unwrap();
        assert_eq!(
            rows.len() as u64,
            truth["traces"].as_u64().unwrap(),
            "{name}"
        );
        for row in rows {
            let id = row["trace_id"].as_str().unwrap();
            assert_eq!(
                row["status"], truth["trace_status"][id]["status"],
                "{name} {id}"
            );
        }
    }
}

fn check_in_flight(name: &str, extra: &[&str]) -> usize {
    let truth = expected(name);
    let log = log(name);
    let mut queued_checked = 0;
    for id in in_flight(&truth) {
        let (queued, running) = held_at(&truth, &id);
        let mut args = vec![id.as_str(), log.as_str()];
        args.extend_from_slice(extra);
        let report = report_json("find", &args);
        assert_eq!(report["status"], "in_flight", "{name} {id}");
        let next = &report["next"];
        let node = next["node_name"].as_str().unwrap_or_default().to_string();
        assert!(
            queued.contains(&node) || running.contains(&node),
            "{name} {id}: the runtime held it in {queued:?}, running at {running:?}; find says {node}"
        );
        if !queued.is_empty() && running.is_empty() {
            assert_eq!(next["inferred"], true, "{name} {id}");
            assert_eq!(
                next["lost"], false,
                "{name} {id}: it waits in {node}'s queue"
            );
            let text = report["remediation"].to_string();
            assert!(!text.contains("lost"), "{name} {id}: {text}");
            queued_checked += 1;
        }
    }
    queued_checked
}

#[test]
fn find_names_the_queue_the_runtime_held_each_in_flight_trace_in() {
    // dep: 5 traces wait in profile's queue, 3 of them with their search branch stored by
    // merge (once reported as waiting at answer, merge's successor).
    assert_eq!(check_in_flight("fourth_join_dep", &[]), 5);
    // sink: 5 traces wait at position 0-4 of both of merge's inbound queues (once called
    // possibly lost: merge took the 10 messages of the 5 traces ahead, two per trace), 5 in
    // both branches' queues, 5 in answer's.
    assert_eq!(check_in_flight("fourth_join_sink", &[]), 15);
}

#[test]
fn find_with_full_scan_names_the_unfinished_branch_of_a_join() {
    assert_eq!(check_in_flight("fourth_join_dep", &["--full-scan"]), 5);
}

#[test]
fn a_trace_whose_search_branch_merge_stored_waits_at_profile() {
    let truth = expected("fourth_join_dep");
    let id = "2791a961dd7a87706369c2d576401731";
    assert_eq!(truth["trace_status"][id]["status"], "in_flight");
    let report = report_json("find", &[id, &log("fourth_join_dep")]);
    assert_eq!(report["next"]["node_name"], "profile");
    assert_eq!(report["next"]["inferred"], true);
    // The message waiting at profile is the one intake sent there.
    assert_eq!(report["last_success"]["node_name"], "intake");
}

#[test]
fn one_tenants_errors_at_a_node_are_that_tenants_in_find_as_in_classify() {
    // The runtime's record: every node_error at answer is umbrella's (a 400 for a payload that
    // is too long), while the other tenants go through answer fine.
    let log = log("fourth_join_dep");
    let events = events_jsonl(&[&log]);
    let errors: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "node_error" && e["node_name"] == "answer")
        .collect();
    assert!(errors.len() >= 5);
    let tenant = errors[0]["tenant"].as_str().unwrap();
    assert!(errors.iter().all(|e| e["tenant"] == tenant));
    let trace = errors[0]["trace_id"].as_str().unwrap();
    let found = report_json("find", &[trace, &log]);
    let steps = found["remediation"].to_string();
    assert!(steps.contains(&format!("tenant {tenant}'s")), "{steps}");
    assert!(!steps.contains("deterministic"), "{steps}");
    let classify = report_json("classify", &[&log]);
    assert!(
        classify["remediation"]
            .to_string()
            .contains(&format!("from tenant {tenant}")),
        "{}",
        classify["remediation"]
    );
}

#[test]
fn a_message_queued_by_a_fan_out_is_read_against_one_edge() {
    // intake fans out to search and profile: its q_depth_out sums both queues. The runtime
    // held these traces in both, at these positions.
    let name = "fourth_join_sink";
    let truth = expected(name);
    let waiting: Vec<&Value> = truth["waiting_in_queues_at_cut"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["queue"] == "intake->profile")
        .collect();
    assert!(!waiting.is_empty());
    for w in waiting {
        let trace = w["trace"].as_str().unwrap();
        let found = report_json("find", &[trace, &log(name)]);
        let next = &found["next"];
        let capacity = next["queue_maxsize"].as_i64().unwrap();
        assert!(
            next["q_depth_in"].as_i64().unwrap() <= capacity,
            "{trace}: {next}"
        );
        let ahead = next["messages_ahead"].as_i64().unwrap();
        let position = w["position"].as_i64().unwrap();
        // Ahead when queued: at least those still ahead at the cut, at most a queue's worth.
        assert!(
            ahead >= position && ahead < capacity,
            "{trace}: {ahead} vs {position}"
        );
    }
}
