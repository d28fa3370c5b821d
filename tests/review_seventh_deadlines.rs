//! The seventh review's deadline captures (script headers in fixtures/capture/review): real
//! PenguiFlow 3.11.2 runs whose `.expected.json` holds what the runtime's own FlowEvents say was
//! true.
//!
//! - `seventh_podimbalance`: three pods; the ingress pins acme (62%) and stark (10%) to
//!   api-5c8d-a, globex and initech to the others; score is as fast everywhere; 1.5 s budgets
//!   for all. Pod a's score saturates and every skip is pod a's, acme and stark alike. The
//!   verdict was "acme's callers give a budget shorter than the flow takes, while the other
//!   tenants' messages got through the same queues": they were in other pods.
//! - `seventh_joindeadline`: a join whose profile branch has no timeout_s and locks now and
//!   then for 1.2-1.6 s, with 1.0 s budgets. Every skip traces back to a locked call; the
//!   verdict was "the flow is slower than the callers' budget; raise deadline_s".
//! - `seventh_podbudget` (the other side): the same pinned pods evenly loaded, acme's 75 ms
//!   budgets expire in its pod while stark in the same queues gets through: acme's budget.

mod common;

use std::collections::BTreeMap;

use common::*;

fn podimbalance() -> String {
    fixture_arg("review/seventh_podimbalance.log.gz")
}

fn joindeadline() -> String {
    fixture_arg("review/seventh_joindeadline.jsonl.gz")
}

fn podbudget() -> String {
    fixture_arg("review/seventh_podbudget.log.gz")
}

/// The deadline-skipped traces of a log, by the runtime's events.
fn skipped_traces(log: &str) -> Vec<String> {
    let mut traces: Vec<String> = events_jsonl(&[log, "--kind", "deadline_skip"])
        .iter()
        .map(|e| e["trace_id"].as_str().unwrap().to_string())
        .collect();
    traces.sort();
    traces.dedup();
    traces
}

#[test]
fn the_skips_in_one_pod_are_its_load_not_acmes_budget() {
    let truth = fixture_json("review/seventh_podimbalance.expected.json");
    let pod_a = "api-5c8d-a";
    let per_pod = &truth["per_pod"];
    // The runtime's record: every skip is pod a's, for both its tenants.
    let skipped = |pod: &str| {
        per_pod[pod]["statuses"]["deadline_skipped"]
            .as_u64()
            .unwrap_or(0)
    };
    let all_skipped = truth["statuses"]["deadline_skipped"].as_u64().unwrap();
    assert_eq!(skipped(pod_a), all_skipped);

    let classify = report_json("classify", &[&podimbalance()]);
    let deadlines = &classify["deadlines"];
    assert_eq!(deadlines["expired_in_flow"].as_u64().unwrap(), all_skipped);
    let at = &deadlines["in_one_pod"];
    assert_eq!(at["pod"], pod_a, "{deadlines}");
    assert_eq!(at["traces"].as_u64().unwrap(), all_skipped);
    assert_eq!(at["node_name"], "score");
    assert_eq!(at["load"], "imbalance");
    assert_eq!(
        at["pod_traces"].as_u64().unwrap(),
        per_pod[pod_a]["traces"].as_u64().unwrap()
    );
    assert_eq!(
        at["all_traces"].as_u64().unwrap(),
        truth["traces"].as_u64().unwrap()
    );
    // Each tenant of pod a: its skips and traces as the runtime counted them, pinned there.
    let tenants: BTreeMap<String, (u64, u64, bool)> = at["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tenant"].as_str().unwrap().to_string(),
                (
                    t["expired"].as_u64().unwrap(),
                    t["traces"].as_u64().unwrap(),
                    t["only_here"].as_bool().unwrap(),
                ),
            )
        })
        .collect();
    let expected: BTreeMap<String, (u64, u64, bool)> = truth["per_tenant"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| t["pod"] == pod_a)
        .map(|(tenant, t)| {
            (
                tenant.clone(),
                (
                    t["statuses"]["deadline_skipped"].as_u64().unwrap_or(0),
                    t["traces"].as_u64().unwrap(),
                    true,
                ),
            )
        })
        .collect();
    assert_eq!(tenants, expected);
    // The other pods: their traces, none expired.
    for other in at["other_pods"].as_array().unwrap() {
        let pod = other["pod"].as_str().unwrap();
        assert_eq!(other["expired"], 0, "{other}");
        assert_eq!(other["traces"], per_pod[pod]["traces"], "{other}");
    }
    // score is as fast in every pod (the runtime's handler means, within a few ms of the
    // p50 own work the events show), so the pod is not slow: it is sent too much.
    let mean_a = per_pod[pod_a]["score_handler_ms_mean"].as_f64().unwrap();
    assert!(
        (at["own_p50_ms"].as_f64().unwrap() - mean_a).abs() < 5.0,
        "{at}"
    );
    let others = at["others_own_p50_ms"].as_f64().unwrap();
    for pod in ["api-5c8d-b", "api-5c8d-c"] {
        let mean = per_pod[pod]["score_handler_ms_mean"].as_f64().unwrap();
        assert!((others - mean).abs() < 5.0, "{others} vs {mean}");
    }
    assert!(at["rate_per_s"].as_f64().unwrap() > at["capacity_per_s"].as_f64().unwrap());

    let steps = classify_steps(&classify);
    assert!(!steps.iter().any(|s| says_raise_budget(s)), "{steps:#?}");
    assert!(
        !steps.iter().any(|s| s.contains("the same queues:")),
        "{steps:#?}"
    );
    assert!(
        !steps
            .iter()
            .any(|s| s.contains("the flow is slower than the callers' budget")),
        "{steps:#?}"
    );
    assert!(
        steps.iter().any(|s| s.contains("a load imbalance")
            && s.contains("402 of the 591 traces")
            && s.contains("acme 57 of 345, stark 14 of 57")),
        "{steps:#?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("acme and stark ran only in api-5c8d-a")
                && s.contains("spreading acme's traffic")
                && s.contains("adding replicas does not help")
                && s.contains("`flowtrace classify --by pod,tenant`")),
        "{steps:#?}"
    );
}

#[test]
fn triage_ranks_the_pods_bottleneck_first_and_says_what_differs_there() {
    let triage = report_json("triage", &[&podimbalance()]);
    assert_eq!(triage["saturation"]["hot_node"], "score");
    let steps = remediation_steps(&triage);
    assert!(
        steps[0].contains("The bottleneck is score in pod api-5c8d-a only")
            // Saturation's own step says the pod's traffic is the difference (triage adds
            // it only where saturation does not).
            && (steps[0].contains("a load imbalance, not a slower host")
                || steps[0].contains("What differs in pod api-5c8d-a is its traffic, not its host"))
            && !steps[0].contains("its host, a noisy neighbour"),
        "{steps:#?}"
    );
    // Said once: triage does not repeat what saturation's step already says.
    assert!(
        !(steps[0].contains("a load imbalance, not a slower host")
            && steps[0].contains("What differs in pod api-5c8d-a is its traffic")),
        "{steps:#?}"
    );
    assert!(!steps.iter().any(|s| says_raise_budget(s)), "{steps:#?}");
    assert!(
        !steps.iter().any(|s| s.contains("the same queues:")),
        "{steps:#?}"
    );
}

#[test]
fn the_suggested_command_shows_the_skips_confined_to_the_pod() {
    // `flowtrace classify --by pod,tenant`: every group with a skip is pod a's, acme and stark.
    let classify = report_json("classify", &[&podimbalance(), "--by", "pod,tenant"]);
    let mut groups: Vec<(String, String, u64)> = classify["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["deadline"].as_u64().unwrap() > 0)
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["key2"].as_str().unwrap().to_string(),
                g["deadline"].as_u64().unwrap(),
            )
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        vec![
            ("api-5c8d-a".to_string(), "acme".to_string(), 57),
            ("api-5c8d-a".to_string(), "stark".to_string(), 14),
        ]
    );
}

#[test]
fn find_on_a_trace_skipped_in_the_pod_names_scores_queue_there() {
    let log = podimbalance();
    for trace in skipped_traces(&log).iter().take(12) {
        let find = report_json("find", &[trace, &log]);
        assert_eq!(find["status"], "deadline_skipped");
        assert!(
            find["hung_call"].is_null(),
            "{trace}: {}",
            find["hung_call"]
        );
        assert_eq!(
            find["time_spent"]["queues"][0]["node_name"], "score",
            "{trace}: {}",
            find["time_spent"]
        );
        let text = find_text(trace, &log);
        assert!(!text.contains("inbound queue at"), "{text}");
        assert!(
            text.contains("for score in pod api-5c8d-a (`flowtrace saturation --pod api-5c8d-a`"),
            "{text}"
        );
    }
}

#[test]
fn a_tenants_short_budget_beside_a_pod_mate_that_gets_through_is_its_budget() {
    let truth = fixture_json("review/seventh_podbudget.expected.json");
    // The runtime's record: every skip is acme's, in its pod, where stark never expires.
    let acme = &truth["per_tenant"]["acme"];
    let stark = &truth["per_tenant"]["stark"];
    let skipped = acme["statuses"]["deadline_skipped"].as_u64().unwrap();
    assert_eq!(
        truth["statuses"]["deadline_skipped"].as_u64().unwrap(),
        skipped
    );
    assert_eq!(acme["pod"], stark["pod"]);
    assert!(stark["statuses"]["deadline_skipped"].is_null());

    let classify = report_json("classify", &[&podbudget()]);
    assert!(classify["deadlines"]["in_one_pod"].is_null());
    assert!(classify["deadlines"]["hung_calls"].is_null());
    let steps = classify_steps(&classify);
    assert!(
        steps.iter().any(|s| s
            .contains(&format!("{skipped} of the {skipped} that expired in the flow are tenant acme's, while the other tenants' messages got through the same queues"))
            && s.contains("raise it for acme")),
        "{steps:#?}"
    );
}

#[test]
fn the_skips_of_the_join_are_profiles_hung_calls_not_the_budget() {
    let truth = fixture_json("review/seventh_joindeadline.expected.json");
    let causes = truth["skip_cause"].as_object().unwrap();
    let own = causes["own profile call locked"].as_u64().unwrap();
    let behind = causes["a locked profile call held the flow while its budget ran"]
        .as_u64()
        .unwrap();
    let skipped = truth["statuses"]["deadline_skipped"].as_u64().unwrap();
    assert_eq!(own + behind, skipped);

    let classify = report_json("classify", &[&joindeadline()]);
    let deadlines = &classify["deadlines"];
    assert_eq!(deadlines["expired_in_flow"].as_u64().unwrap(), skipped);
    let hung = &deadlines["hung_calls"];
    assert_eq!(hung["node_name"], "profile", "{deadlines}");
    assert_eq!(hung["calls"], truth["locked_profile_calls"]);
    assert_eq!(hung["traces"].as_u64().unwrap(), skipped);
    assert_eq!(hung["own"].as_u64().unwrap(), own);
    assert_eq!(hung["behind"].as_u64().unwrap(), behind);
    // The locked calls as the runtime timed them (its sleep), within a few ms of the successes.
    let locked: Vec<f64> = truth["locked_calls_s_after_start"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| call[1].as_f64().unwrap() * 1000.0)
        .collect();
    let shortest = locked.iter().cloned().fold(f64::MAX, f64::min);
    let longest = locked.iter().cloned().fold(0.0, f64::max);
    assert!(
        (hung["min_ms"].as_f64().unwrap() - shortest).abs() < 10.0,
        "{hung}"
    );
    assert!(
        (hung["max_ms"].as_f64().unwrap() - longest).abs() < 10.0,
        "{hung}"
    );
    let p50 = truth["profile_success_ms_p50_p95_max"][0].as_f64().unwrap();
    assert!(
        (hung["own_p50_ms"].as_f64().unwrap() - p50).abs() < 1.0,
        "{hung}"
    );
    // Fresh 1.0 s budgets: what was left at the first event is about all of it.
    let budget_ms = truth["budget_s"].as_f64().unwrap() * 1000.0;
    let left = hung["budget_left_p50_ms"].as_f64().unwrap();
    assert!(left > 0.9 * budget_ms && left <= budget_ms, "{left}");
    assert!(deadlines["at_capacity"].is_null() && deadlines["in_one_pod"].is_null());

    let steps = classify_steps(&classify);
    assert!(!steps.iter().any(|s| says_raise_budget(s)), "{steps:#?}");
    assert!(
        !steps
            .iter()
            .any(|s| s.contains("the flow is slower than the callers' budget")),
        "{steps:#?}"
    );
    let step = steps
        .iter()
        .find(|s| s.contains("profile's hung calls"))
        .unwrap_or_else(|| panic!("{steps:#?}"));
    assert!(
        step.contains("profile logged no node_timeout")
            && step.contains("Give profile a NodePolicy.timeout_s well below the callers' budget")
            && step.contains(&format!(
                "{own} expired inside their own hung call, {behind} while one held profile's worker"
            )),
        "{step}"
    );
    // The suggested find shows what the step says: that trace's budget went into profile.
    let example = hung["example_trace"].as_str().unwrap();
    assert!(
        step.contains(&format!("`flowtrace find {example}`")),
        "{step}"
    );
    assert_eq!(
        truth["skip_cause_by_trace"][example],
        "own profile call locked"
    );
    let text = find_text(example, &joindeadline());
    assert!(
        text.contains("its budget went into profile's own attempt"),
        "{text}"
    );

    // triage: nothing tells the callers to raise their budget.
    let triage = report_json("triage", &[&joindeadline()]);
    let steps = remediation_steps(&triage);
    assert!(!steps.iter().any(|s| says_raise_budget(s)), "{steps:#?}");
    assert!(
        steps.iter().any(|s| s.contains("profile's hung calls")),
        "{steps:#?}"
    );
}

#[test]
fn find_says_which_hung_call_each_skipped_trace_expired_in_or_behind() {
    let truth = fixture_json("review/seventh_joindeadline.expected.json");
    let causes = truth["skip_cause_by_trace"].as_object().unwrap();
    let own_calls: Vec<&String> = causes
        .iter()
        .filter(|(_, cause)| *cause == "own profile call locked")
        .map(|(trace, _)| trace)
        .collect();
    let log = joindeadline();
    for (trace, cause) in causes {
        let find = report_json("find", &[trace, &log]);
        assert_eq!(find["status"], "deadline_skipped");
        let hung = &find["hung_call"];
        assert_eq!(hung["node_name"], "profile", "{trace}: {find}");
        let own = cause == "own profile call locked";
        assert_eq!(hung["own"].as_bool().unwrap(), own, "{trace}: {hung}");
        // Behind another: one of the locked calls.
        assert!(
            own_calls.contains(&&hung["trace_id"].as_str().unwrap().to_string()),
            "{trace}: {hung}"
        );
    }
    // 3945336b: its own profile call took 1511 ms; its budget went there.
    let trace = "3945336bd51b1815aaf719f3fd68373b";
    assert_eq!(causes[trace], "own profile call locked");
    let text = find_text(trace, &log);
    assert!(
        text.contains("its budget went into profile's own attempt for it, 1511 ms"),
        "{text}"
    );
    assert!(!text.contains("inbound queue at merge"), "{text}");
    // A trace skipped at profile waited for it after intake (its sender), not after merge (the
    // other branch's join).
    let skipped_at_profile = events_jsonl(&[&log, "--kind", "deadline_skip", "--node", "profile"]);
    let behind = skipped_at_profile
        .iter()
        .map(|e| e["trace_id"].as_str().unwrap())
        .find(|t| causes[*t] != "own profile call locked")
        .unwrap()
        .to_string();
    let find = report_json("find", &[&behind, &log]);
    let profile_wait = find["time_spent"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["node_name"] == "profile")
        .unwrap_or_else(|| panic!("{}", find["time_spent"]))
        .clone();
    assert_eq!(profile_wait["after"], "intake", "{profile_wait}");
    let text = find_text(&behind, &log);
    assert!(
        text.contains("While it waited, profile's worker was held by trace"),
        "{text}"
    );
}

#[test]
fn saturation_says_profile_is_held_by_hung_calls_not_slowed_down() {
    let truth = fixture_json("review/seventh_joindeadline.expected.json");
    let saturation = report_json("saturation", &[&joindeadline()]);
    assert_eq!(saturation["hot_node"], "profile");
    let profile = saturation["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_name"] == "profile")
        .unwrap();
    assert_eq!(
        profile["hung_calls"]["calls"],
        truth["locked_profile_calls"]
    );
    let step = saturation["remediation"][0].as_str().unwrap();
    assert!(
        step.contains("held by a few calls that hung") && !step.contains("slowed down"),
        "{step}"
    );
}

#[test]
fn deadline_captures_of_other_causes_keep_their_verdicts() {
    // Skips at a slow first node, in bursts, behind retries and timeouts, at a router's branch
    // at capacity; pods failing or pinned without expiries: no hung call, no pod of theirs.
    for capture in [
        "review/deadline_queue.jsonl",
        "review/deadline_burst.jsonl",
        "review/deadline_first_timeouts.jsonl",
        "review/deadline_behind_retry.jsonl",
        "review/deadline_retries.jsonl",
        "review/sixth_routerocr.jsonl.gz",
        "review/third_fanout_pods.log.gz",
        "review/sixth_stickypod.jsonl.gz",
        "review/fourth_slow_sink.jsonl.gz",
    ] {
        let classify = report_json("classify", &[&fixture_arg(capture)]);
        assert!(classify["deadlines"]["hung_calls"].is_null(), "{capture}");
        assert!(classify["deadlines"]["in_one_pod"].is_null(), "{capture}");
        let saturation = report_json("saturation", &[&fixture_arg(capture)]);
        assert!(
            !saturation["remediation"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.as_str().unwrap().contains("calls that hung")),
            "{capture}"
        );
    }
    // sixth_routerocr: still ocr's capacity.
    let classify = report_json(
        "classify",
        &[&fixture_arg("review/sixth_routerocr.jsonl.gz")],
    );
    assert_eq!(classify["deadlines"]["at_capacity"]["node_name"], "ocr");
}
