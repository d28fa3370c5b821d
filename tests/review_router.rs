//! Routers as the learned graph must read them, on real PenguiFlow 3.11.2 captures: a
//! `predicate_router` hands its message over inside its timed handler, so its branch starts (and,
//! when fast, may finish) before the router's own `node_success` is logged.
//!
//! `third_router_frozen` (script `third_router.py` in fixtures/capture/review): `ingest -> route
//! -> {cache_path | llm_path} -> respond`, 7% of requests take llm_path; the log ends with one
//! llm_path call hung, four messages in route -> llm_path, and route blocked handing over. Its
//! `.expected.json` holds the wired edges (`flow._floes`), each trace's status from the FlowEvents
//! and the runtime's own queues and attempts at the cut.

mod common;

use common::*;
use serde_json::Value;

fn log() -> String {
    fixture_arg("review/third_router_frozen.jsonl")
}

fn truth() -> Value {
    fixture_json("review/third_router_frozen.expected.json")
}

#[test]
fn a_router_that_hands_over_before_its_success_is_learned_as_wired() {
    let truth = truth();
    let graph = report_json("graph", &[&log()]);
    assert_eq!(learned_edges(&graph), sorted_pairs(&truth["edges"]));
}

#[test]
fn a_rare_dominated_or_cut_branch_leaves_every_status_as_the_runtime_had_it() {
    // llm_path takes 10 of route's 177 traces and cache_path the rest: a trace that took
    // llm_path to respond succeeded, whatever share cache_path has.
    let truth = truth();
    let traces = report_json("traces", &[&log()]);
    let rows = traces.as_array().unwrap();
    assert_eq!(rows.len() as u64, truth["traces"].as_u64().unwrap());
    for row in rows {
        let id = row["trace_id"].as_str().unwrap();
        assert_eq!(
            row["status"], truth["trace_status"][id]["status"],
            "{id} (routed to {})",
            truth["route_of"][id]
        );
    }
}

#[test]
fn find_names_llm_path_for_the_hung_call_and_the_messages_queued_behind_it() {
    let truth = truth();
    let log = log();
    // The hung call: its attempt at llm_path is under way at the end.
    let hung = truth["hang_trace"].as_str().unwrap();
    let running = &truth["running_at_end"][0];
    assert_eq!(
        (running["trace"].as_str(), running["node"].as_str()),
        (Some(hung), Some("llm_path"))
    );
    let report = report_json("find", &[hung, &log]);
    assert_eq!(report["status"], "in_flight");
    assert_eq!(report["next"]["node_name"], "llm_path");
    assert_eq!(report["next"]["inferred"], false);
    assert_eq!(report["last_success"]["node_name"], "route");

    // The messages the runtime held in route -> llm_path at the cut: route succeeded for them
    // and nothing else did. route's usual alternative, cache_path, took later messages, so
    // they are not in its queue; they wait at llm_path, in queue order.
    let queued: Vec<&Value> = truth["waiting_in_queues_at_cut"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["queue"] == "route->llm_path")
        .collect();
    assert_eq!(queued.len(), 4);
    for waiting in queued {
        let id = waiting["trace"].as_str().unwrap();
        let report = report_json("find", &[id, &log]);
        let next = &report["next"];
        assert_eq!(next["node_name"], "llm_path", "{id}");
        assert_eq!(next["inferred"], true, "{id}");
        assert_eq!(next["lost"], false, "{id}");
        assert_eq!(next["messages_ahead"], waiting["position"], "{id}");
        assert_eq!(report["last_success"]["node_name"], "route", "{id}");
        assert_eq!(next["held"]["trace_id"], hung, "{id}");
    }
}

#[test]
fn a_router_in_the_middle_cut_mid_run_is_learned_as_wired() {
    // topo.py `mixed cut`: ingest -> route (predicate_router) -> {llm, cache} -> pack ->
    // {reply, audit}, cut mid-run; `.branch.json` has the router's choice per trace.
    let log = fixture_arg("review/topo_mixed_cut.jsonl");
    let graph = report_json("graph", &[&log]);
    let wired: Vec<(String, String)> = [
        ("OpenSea", "ingest"),
        ("audit", "Rookery"),
        ("cache", "pack"),
        ("ingest", "route"),
        ("llm", "pack"),
        ("pack", "audit"),
        ("pack", "reply"),
        ("reply", "Rookery"),
        ("route", "cache"),
        ("route", "llm"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(learned_edges(&graph), wired);

    // Traces routed to llm whose route succeeded and that never reached llm wait there.
    let branch: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("review/topo_mixed_cut.jsonl.branch.json")).unwrap(),
    )
    .unwrap();
    let events = events_jsonl(&[&log]);
    let mut checked = 0;
    for (id, choice) in branch.as_object().unwrap() {
        let mine = || events.iter().filter(|e| e["trace_id"] == id.as_str());
        let routed = mine().any(|e| e["node_name"] == "route" && e["event"] == "node_success");
        let reached = mine().any(|e| e["node_name"] == *choice);
        if !routed || reached {
            continue;
        }
        let report = report_json("find", &[id, &log]);
        assert_eq!(report["next"]["node_name"], *choice, "{id}");
        assert_eq!(report["next"]["lost"], false, "{id}");
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn a_branch_few_traces_take_stays_in_the_graph() {
    // The same capture with all but the first 3 llm_path traces left out: 3 of route's 166
    // traces (under 2%) take llm_path, its only way in.
    let truth = truth();
    let text = std::fs::read_to_string(fixture("review/third_router_frozen.jsonl")).unwrap();
    let mut llm: Vec<String> = Vec::new();
    let mut kept = String::new();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let id = event["trace_id"].as_str().unwrap_or_default();
        if truth["route_of"][id] == "llm" {
            if !llm.iter().any(|t| t == id) {
                llm.push(id.to_string());
            }
            if llm.iter().position(|t| t == id).unwrap() >= 3 {
                continue;
            }
        }
        kept.push_str(line);
        kept.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let thinned = dir.path().join("thinned.jsonl");
    std::fs::write(&thinned, kept).unwrap();
    let thinned = thinned.to_str().unwrap();

    let graph = report_json("graph", &[thinned]);
    assert_eq!(learned_edges(&graph), sorted_pairs(&truth["edges"]));
    let traces = report_json("traces", &[thinned]);
    for row in traces.as_array().unwrap() {
        let id = row["trace_id"].as_str().unwrap();
        assert_eq!(row["status"], truth["trace_status"][id]["status"], "{id}");
    }
}

#[test]
fn the_router_blocked_handing_over_behind_the_hung_branch_is_not_hanging() {
    // The runtime's state at the cut: route's attempt under way, its message for the full
    // route->llm_path queue; llm_path's worker held by the hung call.
    let truth = truth();
    let route = truth["running_at_end"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == "route")
        .unwrap();
    let trace = route["trace"].as_str().unwrap();
    let found = report_json("find", &[trace, &log()]);
    let steps = found["remediation"].to_string();
    assert!(steps.contains("blocked handing its output"), "{steps}");
    assert!(!steps.contains("the call is hanging"), "{steps}");
    let saturation = report_json("saturation", &[&log()]);
    assert_eq!(saturation["hanging_total"], 1);
    assert_eq!(saturation["hanging"][0]["node_name"], "llm_path");
}
