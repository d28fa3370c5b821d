//! The ninth review's captures of a hot node that fails rather than works (real PenguiFlow
//! 3.11.2 runs; script in fixtures/capture/review, truth in each `.expected.json` from the
//! runtime's own FlowEvents). `ninth_edges`: ingest -> fetch -> answer; fetch's dependency stops
//! answering for the last 2 s of the log, every attempt cut by its timeout_s, its queue full.
//! Over the whole run fetch is mostly successful work, so a verdict read off the whole span said
//! "busy with real work ... add replicas", and "set NodePolicy.timeout_s" for calls that its
//! timeout already cut. `ninth_branchhang`, the same in a fan-out: intake -> {enrich -> reply,
//! audit}, enrich's dependency hanging for the last 4 s.

mod common;

use common::*;

/// A capture's hanging node, with the truth of its hang window and of the whole run.
struct Hang {
    log: &'static str,
    node: &'static str,
    /// In the hang window: successes, timeouts, the deepest inbound queue.
    successes: u64,
    timeouts: u64,
    deepest: u64,
    /// Over the whole run: seconds of successful work, and of timed-out attempts.
    work_s: f64,
    timeout_s: f64,
    capacity: u64,
}

fn hangs() -> Vec<Hang> {
    let count = |value: &serde_json::Value| value.as_u64().unwrap();
    let seconds = |value: &serde_json::Value| value.as_f64().unwrap();
    let edges = fixture_json("review/ninth_edges.expected.json");
    let (window, whole) = (&edges["fetch_hang_window"], &edges["fetch_whole"]);
    let branch = fixture_json("review/ninth_branchhang.expected.json");
    let (branch_window, enrich) = (&branch["enrich_window"], &branch["per_node"]["enrich"]);
    vec![
        Hang {
            log: "ninth_edges.jsonl",
            node: "fetch",
            successes: count(&window["successes"]),
            timeouts: count(&window["timeouts"]),
            deepest: count(&window["q_depth_in_max"]),
            work_s: seconds(&whole["success_s"]),
            timeout_s: seconds(&whole["timeout_s"]),
            capacity: count(&edges["queue_maxsize"]),
        },
        Hang {
            log: "ninth_branchhang.jsonl",
            node: "enrich",
            successes: count(&branch_window["successes"]),
            timeouts: count(&branch_window["timeouts"]),
            deepest: count(&branch_window["max_q_depth_in"]),
            work_s: seconds(&enrich["success_latency_s"]),
            timeout_s: seconds(&branch_window["timeout_s"]),
            capacity: count(&branch["queue_maxsize"]),
        },
    ]
}

#[test]
fn a_hot_node_whose_attempts_fail_while_its_queue_is_full_is_failing_not_busy() {
    for Hang {
        log,
        node,
        successes,
        timeouts,
        deepest,
        work_s,
        timeout_s,
        capacity,
    } in hangs()
    {
        // The premise: in the hang nothing succeeded, attempts timed out, the queue filled;
        // over the whole run, successful work outweighs the timeouts.
        assert!(
            successes == 0 && timeouts >= 5 && deepest == capacity,
            "{log}"
        );
        assert!(work_s > timeout_s, "{log}");
        let path = fixture_arg(&format!("review/{log}"));
        let saturation = report_json("saturation", &[&path]);
        assert_eq!(saturation["hot_node"], node, "{log}");
        for subcommand in ["saturation", "triage"] {
            let steps = remediation_steps(&report_json(subcommand, &[&path]));
            let hot = steps
                .iter()
                .find(|step| step.contains(&format!("bottleneck is {node}")))
                .unwrap_or_else(|| panic!("{log} {subcommand}: {steps:?}"));
            assert!(
                hot.contains(&format!(
                    "The bottleneck is {node} (queue_maxsize {capacity}), and it is failing"
                )) && hot.contains("timed out and 0 succeeded")
                    && hot.contains(&format!("fix or escalate what {node} calls"))
                    && !hot.contains("busy with real work")
                    && !hot.contains("so add replicas"),
                "{log} {subcommand}: {hot}"
            );
            let dependency = steps
                .iter()
                .find(|step| step.starts_with(&format!("{node} answers nothing for a while")))
                .unwrap_or_else(|| panic!("{log} {subcommand}: {steps:?}"));
            assert!(
                dependency.contains("no timeout is missing")
                    && !dependency.contains("set NodePolicy.timeout_s"),
                "{log} {subcommand}: {dependency}"
            );
        }
    }
}
