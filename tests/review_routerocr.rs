//! The sixth review's router capture (fixtures/review/sixth_routerocr.jsonl.gz, script
//! `sixth_routerocr.py` in fixtures/capture/review): a real PenguiFlow 3.11.2 run whose
//! `.expected.json` holds what the runtime's own FlowEvents and results say was true.
//!
//! `ingest -> route (predicate_router) -> {quick | ocr} -> respond`, queue_maxsize 8, every
//! caller's budget 3 s. docuflow's scans (all to ocr, ~300 ms each) come faster than ocr takes
//! them: ocr's queue fills, route blocks handing over to it, and the text tenants (a ~20 ms
//! path) wait behind docuflow's messages. Every deadline skip is docuflow's, at ocr and (after
//! ocr's work) at respond. The verdict was "docuflow's callers give a budget shorter than the
//! flow takes; raise it", ranked above relieving ocr: the skips are ocr's capacity, the text
//! tenants were slowed though none failed, and `find` blamed respond's empty queue.

mod common;

use common::*;
use serde_json::Value;

fn log() -> String {
    fixture_arg("review/sixth_routerocr.jsonl.gz")
}

fn truth() -> Value {
    fixture_json("review/sixth_routerocr.expected.json")
}

/// Deadline skips per tenant, from the truth's `deadline_skips_by_tenant_node`.
fn skips_by_tenant(truth: &Value) -> Vec<(String, u64)> {
    let mut tenants: Vec<(String, u64)> = Vec::new();
    for (key, count) in truth["deadline_skips_by_tenant_node"].as_object().unwrap() {
        let tenant = key.split('@').next().unwrap().to_string();
        match tenants.iter_mut().find(|(t, _)| *t == tenant) {
            Some((_, n)) => *n += count.as_u64().unwrap(),
            None => tenants.push((tenant, count.as_u64().unwrap())),
        }
    }
    tenants
}

#[test]
fn the_skips_behind_ocr_are_its_capacity_not_docuflows_budget() {
    let truth = truth();
    // The runtime's record: every skip is docuflow's, and docuflow sends ocr more than its
    // capacity.
    let skips = skips_by_tenant(&truth);
    assert_eq!(skips.len(), 1, "{skips:?}");
    let (tenant, count) = skips[0].clone();
    assert_eq!(tenant, "docuflow");
    assert!(
        truth["ocr"]["docuflow_rate_per_s"].as_f64().unwrap()
            > truth["ocr"]["capacity_per_s"].as_f64().unwrap()
    );

    let classify = report_json("classify", &[&log()]);
    let deadlines = &classify["deadlines"];
    assert_eq!(deadlines["expired_in_flow"].as_u64().unwrap(), count);
    let at = &deadlines["at_capacity"];
    assert_eq!(at["node_name"], "ocr", "{deadlines}");
    assert_eq!(at["traces"].as_u64().unwrap(), count);
    assert_eq!(at["others_expired"], 0);
    assert_eq!(at["tenant"]["tenant"], tenant.as_str());
    // route is the router ahead of ocr, whose blocked hand-over holds the other branch.
    let wired = sorted_pairs(&truth["edges"]);
    assert!(wired.contains(&("route".into(), "ocr".into())));
    assert!(wired.contains(&("route".into(), "quick".into())));
    assert_eq!(at["router"]["node_name"], "route");
    // A 3 s budget for a ~300 ms path: what was left at the first event is far above the
    // path's own work (the truth's budget is larger still: the first queue's wait is unlogged).
    let left = at["budget_left_p50_ms"].as_f64().unwrap();
    let work = at["path_work_ms"].as_f64().unwrap();
    assert!(left > 3.0 * work, "{left} vs {work}");
    assert!(left < truth["budget_s"].as_f64().unwrap() * 1000.0);

    let classify_steps = classify_steps(&classify);
    assert!(
        !classify_steps.iter().any(|s| says_raise_budget(s)),
        "{classify_steps:#?}"
    );
    assert!(
        classify_steps
            .iter()
            .any(|s| s.contains("shed or rate-limit docuflow's excess")),
        "{classify_steps:#?}"
    );
    assert!(
        classify_steps
            .iter()
            .any(|s| s.contains("head-of-line blocking")),
        "{classify_steps:#?}"
    );

    // triage: relieving ocr comes first, and nothing tells docuflow to raise its budget.
    let triage = report_json("triage", &[&log()]);
    assert_eq!(triage["saturation"]["hot_node"], "ocr");
    let triage_steps = remediation_steps(&triage);
    assert!(
        triage_steps[0].contains("Relieve the bottleneck ocr"),
        "{triage_steps:#?}"
    );
    assert!(
        !triage_steps.iter().any(|s| says_raise_budget(s)),
        "{triage_steps:#?}"
    );
}

#[test]
fn tenants_slowed_without_failing_are_named_with_their_latency_against_their_work() {
    let truth = truth();
    let triage = report_json("triage", &[&log()]);
    let tenants = triage["tenants"].as_array().unwrap();
    // The text tenants: every trace succeeded, p50 ~1.3 s end to end for ~20 ms of work.
    let text: Vec<&String> = truth["per_tenant"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, statuses)| {
            statuses
                .as_object()
                .unwrap()
                .keys()
                .all(|s| s == "succeeded")
        })
        .map(|(tenant, _)| tenant)
        .collect();
    assert_eq!(text.len(), 3, "{text:?}");
    for tenant in text {
        let impact = tenants
            .iter()
            .find(|t| t["tenant"] == tenant.as_str())
            .unwrap();
        assert_eq!(impact["categories"].as_object().unwrap().len(), 0);
        let slowed = &impact["slowed"];
        assert!(slowed.is_object(), "{tenant} is not named slowed: {impact}");
        let own = slowed["own_work_ms"].as_f64().unwrap();
        assert!(own < 50.0, "{tenant}: own work {own}");
        // What the log shows is a lower bound of the runtime's end-to-end time (the wait
        // before the first node is not logged).
        let truth_p50 = truth["succeeded_end_to_end_ms_p50_p95_by_tenant"][tenant.as_str()][0]
            .as_f64()
            .unwrap();
        let p50 = slowed["p50_ms"].as_f64().unwrap();
        assert!(p50 <= truth_p50, "{tenant}: {p50} > {truth_p50}");
        assert!(truth_p50 > 20.0 * own);
        assert!(slowed["slowed"].as_u64().unwrap() * 4 >= slowed["traces"].as_u64().unwrap());
    }
    let text = std::str::from_utf8(
        &flowtrace()
            .args(["triage", &log(), "-q"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .to_string();
    let initech = text
        .lines()
        .find(|l| l.trim_start().starts_with("initech:"))
        .unwrap();
    assert!(initech.contains("slowed:"), "{initech}");
}

#[test]
fn nobody_is_called_slowed_where_nobody_waited() {
    // Even traffic well under capacity, every trace a few ms: no tenant waited.
    for capture in [
        "review/sixth_stickypod.jsonl.gz",
        "review/twosinks.jsonl",
        "review/fanin6.jsonl",
    ] {
        let triage = report_json("triage", &[&fixture_arg(capture)]);
        for tenant in triage["tenants"].as_array().unwrap() {
            assert!(tenant["slowed"].is_null(), "{capture}: {tenant}");
        }
    }
}

#[test]
fn find_on_a_trace_skipped_at_respond_says_it_waited_for_ocr() {
    let log = log();
    // The runtime's own events: a docuflow trace skipped at respond, and the time between
    // route's hand-over and ocr's start for it.
    let skips = events_jsonl(&[&log, "--kind", "deadline_skip", "--node", "respond"]);
    let trace = skips[0]["trace_id"].as_str().unwrap().to_string();
    let events = events_jsonl(&[&log, "--trace", &trace]);
    let ts = |node: &str, kind: &str| {
        events
            .iter()
            .find(|e| e["node_name"] == node && e["event"] == kind)
            .map(|e| {
                chrono::DateTime::parse_from_rfc3339(e["ts"].as_str().unwrap())
                    .unwrap()
                    .timestamp_micros() as f64
                    / 1000.0
            })
            .unwrap()
    };
    let waited_for_ocr = ts("ocr", "node_start") - ts("route", "node_success");

    let find = report_json("find", &[&trace, &log]);
    assert_eq!(find["status"], "deadline_skipped");
    assert_eq!(find["next"]["node_name"], "respond");
    let longest = &find["time_spent"]["queues"][0];
    assert_eq!(longest["node_name"], "ocr", "{}", find["time_spent"]);
    assert!(
        (longest["waited_ms"].as_f64().unwrap() - waited_for_ocr).abs() < 0.01,
        "{longest} vs {waited_for_ocr}"
    );
    let text = find_text(&trace, &log);
    assert!(!text.contains("inbound queue at respond"), "{text}");
    assert!(text.contains("waiting for ocr"), "{text}");
}

#[test]
fn chains_whose_budget_is_short_keep_their_verdicts() {
    // fourth_slow_sink: every tenant goes through the slow sink and only bluth's (1.2 s
    // budgets) expire: its budget, named as before, and no node's capacity claimed.
    let classify = report_json(
        "classify",
        &[&fixture_arg("review/fourth_slow_sink.jsonl.gz")],
    );
    assert!(classify["deadlines"]["at_capacity"].is_null());
    assert!(
        classify_steps(&classify)
            .iter()
            .any(|s| s.contains("are tenant bluth's") && s.contains("raise it for bluth"))
    );
    // deadline_queue and deadline_burst: one chain, every message through the slow first node
    // with a 300 ms budget: still "the flow is slower than the callers' budget".
    for capture in ["review/deadline_queue.jsonl", "review/deadline_burst.jsonl"] {
        let classify = report_json("classify", &[&fixture_arg(capture)]);
        assert!(classify["deadlines"]["at_capacity"].is_null(), "{capture}");
        assert!(
            classify_steps(&classify)
                .iter()
                .any(|s| s.contains("the flow is slower than the callers' budget")),
            "{capture}"
        );
    }
}
