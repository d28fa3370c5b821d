//! The sixth review's `ctx.emit` capture (fixtures/review/sixth_emittimeout.jsonl, script
//! `sixth_emittimeout.py` in fixtures/capture/review): a real PenguiFlow 3.11.2 run whose
//! `.expected.json` holds what the runtime's own FlowEvents and state say was true.
//!
//! `split --ctx.emit x4--> embed -> store`, queue_maxsize 8, embed the bottleneck for the whole
//! run. split's `timeout_s` wraps its handler, so it times out blocked in `ctx.emit` on embed's
//! full queue, and each retry emits the chunks again. A trace's chunks reach embed spread in
//! time, the later ones after store already succeeded for the first: that is one sender's
//! fan-out, not store sending back to embed. Learned as `store -> embed`, the flow had no sink,
//! every trace stayed in flight and embed's two inbound edges hid its full queue.

mod common;

use common::*;
use serde_json::Value;

fn log() -> String {
    fixture_arg("review/sixth_emittimeout.jsonl")
}

fn truth() -> Value {
    fixture_json("review/sixth_emittimeout.expected.json")
}

/// The truth's `statuses` (`{status: count}`), with the statuses it does not name at 0.
fn truth_statuses(truth: &Value) -> Vec<(String, u64)> {
    let mut statuses: Vec<(String, u64)> = [
        "succeeded",
        "failed",
        "cancelled",
        "deadline_skipped",
        "in_flight",
    ]
    .iter()
    .map(|status| {
        (
            status.to_string(),
            truth["statuses"][*status].as_u64().unwrap_or(0),
        )
    })
    .collect();
    statuses.sort();
    statuses
}

/// A report's `statuses` object as sorted pairs.
fn statuses(report: &Value) -> Vec<(String, u64)> {
    let mut statuses: Vec<(String, u64)> = report
        .as_object()
        .unwrap()
        .iter()
        .map(|(status, count)| (status.clone(), count.as_u64().unwrap()))
        .collect();
    statuses.sort();
    statuses
}

#[test]
fn an_emit_fan_out_s_later_chunks_are_not_an_edge_back_from_its_successor() {
    let truth = truth();
    let graph = report_json("graph", &[&log()]);
    assert_eq!(learned_edges(&graph), sorted_pairs(&truth["edges"]));
}

#[test]
fn every_trace_has_the_status_the_runtime_gave_it() {
    let truth = truth();
    let expected = truth_statuses(&truth);
    let path = log();

    let traces = report_json("traces", &[&path]);
    let rows = traces.as_array().unwrap();
    assert_eq!(rows.len() as u64, truth["traces"].as_u64().unwrap());
    let mut counted: Vec<(String, u64)> = expected.iter().map(|(s, _)| (s.clone(), 0)).collect();
    for row in rows {
        let status = row["status"].as_str().unwrap();
        let entry = counted.iter_mut().find(|(s, _)| s == status).unwrap();
        entry.1 += 1;
    }
    assert_eq!(counted, expected, "traces");

    let triage = report_json("triage", &[&path]);
    assert_eq!(statuses(&triage["statuses"]), expected, "triage");
    assert_eq!(
        triage["worst"].as_array().unwrap().len(),
        0,
        "{}",
        triage["worst"]
    );

    let classify = report_json("classify", &[&path]);
    assert_eq!(statuses(&classify["statuses"]), expected, "classify");
}

#[test]
fn the_emit_target_s_full_queue_is_the_bottleneck() {
    // Every timeout of split came with embed's queue (split's outbound) full: embed is the
    // capacity limit, split backs up behind it.
    let truth = truth();
    assert_eq!(
        truth["split_timeouts_with_embed_queue_full"],
        truth["split_timeouts"]
    );
    let saturation = report_json("saturation", &[&log()]);
    let bottleneck = &saturation["bottleneck"];
    assert_eq!(
        bottleneck["node_name"], "embed",
        "{}",
        saturation["remediation"]
    );
    assert_eq!(bottleneck["queue_maxsize"], truth["queue_maxsize"]);
    assert!(
        bottleneck["backed_up"]
            .as_array()
            .unwrap()
            .iter()
            .any(|node| node == "split"),
        "{bottleneck}"
    );
}

/// split's timeouts are the wait to hand its chunks to embed's full queue (the truth counts the
/// timeouts with embed's queue full), not a dependency: no checklist reads them as one, or
/// asks to lower the timeout (more timeouts, more re-emitted chunks).
#[test]
fn timeouts_blocked_in_a_ctx_emit_are_backpressure_not_a_dependency() {
    let truth = truth();
    let timeouts = truth["split_timeouts"].as_u64().unwrap();
    let full = truth["split_timeouts_with_embed_queue_full"]
        .as_u64()
        .unwrap();
    assert!(full * 2 > timeouts, "the capture's premise");
    let path = log();
    for subcommand in ["classify", "saturation", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains("timed out waiting to hand its output over")
                && steps.contains("give split no timeout_s"),
            "{subcommand}: {steps}"
        );
        assert!(
            !steps.contains("its dependency is slow or hanging")
                && !steps.contains("its dependency is failing")
                && !steps.contains("piling onto the dependency"),
            "{subcommand}: {steps}"
        );
    }
    // The retry storm there is the same wait retried: each retry emits its chunks again.
    let classify = report_json("classify", &[&path])["remediation"].to_string();
    assert!(
        classify.contains(&format!(
            "{full} of its {timeouts} attempts that timed out had its outbound queue full"
        )) && classify.contains("set NodePolicy.max_retries=0 at split"),
        "{classify}"
    );
}

/// The other side, on another topology: `dep_timeouts`'s lookup times out on a hanging
/// dependency with its outbound queue free; that stays a dependency finding.
#[test]
fn timeouts_on_a_hanging_dependency_stay_a_dependency_finding() {
    let path = fixture_arg("review/dep_timeouts.jsonl");
    let steps = report_json("classify", &[&path])["remediation"].to_string();
    assert!(
        !steps.contains("timed out waiting to hand its output over"),
        "{steps}"
    );
    assert!(steps.contains("dependency"), "{steps}");
    assert!(steps.contains("piling onto the dependency"), "{steps}");
}
