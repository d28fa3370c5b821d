//! A retry storm whose retries save every message is not told to turn retries off (the sixth
//! review's `sixth_lastretry`: a flaky payment gateway; every retried charge succeeded on its
//! last allowed attempt). Retries that recover a call but spend the message's deadline
//! (`deadline_retries`) keep the old advice. Truth from the captures' `.expected.json`.

mod common;

use common::*;

#[test]
fn retries_that_save_every_message_are_kept_not_disabled() {
    let truth = fixture_json("review/sixth_lastretry.expected.json");
    // Everything succeeded, and without retries the retried messages would have failed.
    assert_eq!(truth["statuses"]["succeeded"], truth["traces"]);
    let saved = truth["would_fail_with_max_retries"]["0"].as_u64().unwrap();
    assert!(saved > 0);
    let path = fixture_arg("review/sixth_lastretry.jsonl");
    for subcommand in ["classify", "saturation", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains("the retries are what keeps it working")
                && steps.contains("keep them with backoff"),
            "{subcommand}: {steps}"
        );
        assert!(!steps.contains("disable retries"), "{subcommand}: {steps}");
    }
    let classify = report_json("classify", &[&path]);
    assert!(
        classify["remediation"]
            .to_string()
            .contains(&format!("would fail those {saved}")),
        "{}",
        classify["remediation"]
    );
}

#[test]
fn retries_that_recover_the_call_but_spend_the_deadline_are_not_called_saving() {
    let path = fixture_arg("review/deadline_retries.jsonl");
    let classify = report_json("classify", &[&path]);
    // The capture's premise, as the runtime logged it: messages skipped for their deadline.
    assert!(
        classify["categories"]["deadline"]["events"]
            .as_u64()
            .unwrap()
            > 0
    );
    for subcommand in ["classify", "saturation"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            !steps.contains("the retries are what keeps it working"),
            "{subcommand}: {steps}"
        );
    }
}

/// Every saved charge needed the last attempt its limit allows (truth: max_retries 2, all 46
/// retried charges succeeded on attempt 2): the verdict says there is no retry to spare.
#[test]
fn saved_messages_piled_up_at_the_last_attempt_are_said_to_have_no_headroom() {
    let truth = fixture_json("review/sixth_lastretry.expected.json");
    let limit = truth["max_retries"].as_u64().unwrap();
    let on_attempt = truth["succeeded_on_attempt"].as_object().unwrap();
    let at_limit = on_attempt[&limit.to_string()].as_u64().unwrap();
    let saved: u64 = on_attempt
        .iter()
        .filter(|(attempt, _)| *attempt != "0")
        .map(|(_, count)| count.as_u64().unwrap())
        .sum();
    assert_eq!(at_limit, saved, "the capture's premise");
    let path = fixture_arg("review/sixth_lastretry.jsonl");
    for subcommand in ["classify", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains(&format!(
                "No headroom: {at_limit} of the {saved} saved messages succeeded only on attempt {limit}"
            )) && steps.contains(&format!("if charge's NodePolicy.max_retries is {limit}")),
            "{subcommand}: {steps}"
        );
    }
}

/// Independent 503s (seventh_headroom: each attempt fails with probability 0.5, max_retries 8):
/// the saved messages thin out attempt by attempt; retries are kept, with no headroom warning.
#[test]
fn saved_messages_thinning_out_attempt_by_attempt_get_no_headroom_warning() {
    let truth = fixture_json("review/seventh_headroom.expected.json");
    let on_attempt: Vec<(u64, u64)> = truth["lookup_succeeded_on_attempt"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(attempt, count)| (attempt.parse().unwrap(), count.as_u64().unwrap()))
        .filter(|(attempt, _)| *attempt > 0)
        .collect();
    let (top, at_top) = *on_attempt.iter().max().unwrap();
    let first_retry = on_attempt.iter().find(|(a, _)| *a == 1).unwrap().1;
    assert!(
        at_top * 4 < first_retry,
        "the capture's premise: {on_attempt:?}"
    );
    assert!(
        truth["lookup_failed_at_attempt"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(top <= truth["max_retries"].as_u64().unwrap());
    let path = fixture_arg("review/seventh_headroom.jsonl");
    for subcommand in ["classify", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains("keep them with backoff") && !steps.contains("No headroom"),
            "{subcommand}: {steps}"
        );
    }
}

/// Retries spent on one tenant's requests that fail every attempt save nothing (seventh
/// review's `seventh_proxy503`: a proxy maps the partner's 400s to wayne's orders into 503s;
/// the other tenants' genuine 503 blips each recovered on a retry). The storm names the tenant
/// and keeps the retries that save the others; truth from the capture's FlowEvents.
#[test]
fn retries_of_one_tenant_s_requests_that_always_fail_are_the_storm_not_every_tenant_s() {
    let truth = fixture_json("review/seventh_proxy503.expected.json");
    let errors = truth["node_error_by_tenant"].as_object().unwrap();
    let failed = truth["node_failed_by_tenant"]["wayne"].as_u64().unwrap();
    // Each of wayne's orders fails all its attempts: its retries are its errors less its
    // last attempts; every other tenant's error was retried and recovered.
    let wayne_retries = errors["wayne"].as_u64().unwrap() - failed;
    let others: u64 = errors
        .iter()
        .filter(|(tenant, _)| *tenant != "wayne")
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    let retries = truth["kinds"]["node_retry"].as_u64().unwrap();
    assert_eq!(wayne_retries + others, retries, "the capture's premise");
    let path = fixture_arg("review/seventh_proxy503.jsonl.gz");
    for subcommand in ["classify", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains(&format!(
                "{wayne_retries} of the {retries} retries there are tenant wayne's"
            )) && steps.contains(&format!(
                "the other tenants' {others} messages that failed there succeeded on a retry"
            )) && !steps.contains("disable retries temporarily"),
            "{subcommand}: {steps}"
        );
    }
}

/// The other side: a pod failing for every tenant it serves (`sixth_stickypod`) is the
/// cause, so its storm names no tenant; a hanging dependency (`dep_timeouts`) keeps its
/// dependency wording.
#[test]
fn a_failing_pod_s_retry_storm_names_no_tenant() {
    for capture in [
        "review/sixth_stickypod.jsonl.gz",
        "review/dep_timeouts.jsonl",
    ] {
        let steps = report_json("classify", &[&fixture_arg(capture)])["remediation"].to_string();
        assert!(
            steps.contains("Retry storm") && !steps.contains("retrying them cannot help"),
            "{capture}: {steps}"
        );
    }
}

/// One tenant's shard at a dependency answers 503 to the first two attempts of each of its
/// requests (ninth review, two topologies: `ninth_tenantretry`, a chain, and `ninth_joinshard`,
/// a join): the retries saved all but a few of that tenant's messages, each on its last allowed
/// attempt. The tenant is named, its requests are not to be gated (gating fails what the retries
/// save), the retries are kept, and there is no retry to spare. `find` on a trace that failed
/// for good says the same. Truth from the captures' FlowEvents.
#[test]
fn one_tenant_s_failures_that_retries_mostly_save_are_not_a_reason_to_gate_it() {
    for (name, tenant, node, errors_key, failed_key) in [
        (
            "ninth_tenantretry",
            "umbrella",
            "charge",
            "charge_errors_by_tenant",
            "failed",
        ),
        (
            "ninth_joinshard",
            "hooli",
            "pricing",
            "pricing_errors_by_tenant",
            "failed_trace_ids",
        ),
    ] {
        let truth = fixture_json(&format!("review/{name}.expected.json"));
        let limit = truth["max_retries"].as_u64().unwrap();
        let errors = truth[errors_key].as_object().unwrap();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            [tenant],
            "{name}: premise"
        );
        let on_attempt = truth["saved_at_attempt"].as_object().unwrap();
        let saved = on_attempt[&limit.to_string()].as_u64().unwrap();
        assert_eq!(
            on_attempt.len(),
            1,
            "{name}: every save on the last attempt"
        );
        let failed: Vec<&str> = truth[failed_key]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        assert!(
            !failed.is_empty() && (failed.len() as u64) * 2 < saved,
            "{name}"
        );
        let path = fixture_arg(&format!("review/{name}.jsonl"));
        for subcommand in ["classify", "triage"] {
            let steps = report_json(subcommand, &[&path])["remediation"].to_string();
            assert!(
                steps.contains(&format!(
                    "from tenant {tenant}, {saved} of which then succeeded there on a retry"
                )) && steps.contains(&format!("would fail the {saved} they save"))
                    && steps.contains(&format!(
                        "No headroom: {saved} of the {saved} saved messages succeeded only on attempt {limit}"
                    )),
                "{name} {subcommand}: {steps}"
            );
            assert!(
                !steps.contains(&format!("gate {tenant} while"))
                    && !steps.contains("disable retries"),
                "{name} {subcommand}: {steps}"
            );
        }
        let find = find_text(&failed[0][..8], &path);
        assert!(
            find.contains(&format!("are tenant {tenant}'s, and"))
                && find.contains("then succeeded there on a retry")
                && find.contains(&format!("at {node} in what was read"))
                && !find.contains(&format!("gate {tenant} while")),
            "{name} find: {find}"
        );
    }
}

/// The messages whose first attempt at `node` raised, and those of them that ended there for
/// good (node_failed), from the capture's events.
fn failed_and_terminal(capture: &str, node: &str) -> (u64, u64) {
    let events = capture_events(capture);
    let at_node = |kind: &str| -> std::collections::HashSet<String> {
        events
            .iter()
            .filter(|e| e["node_name"] == node && e["event"] == kind)
            .filter(|e| kind != "node_error" || e["attempt"] == 0)
            .map(|e| e["trace_id"].as_str().unwrap().to_string())
            .collect()
    };
    (
        at_node("node_error").len() as u64,
        at_node("node_failed").len() as u64,
    )
}

/// triage's worker-time step for a node losing most of its time to errors: where the retries
/// saved most of its failing messages (one tenant's shard failing the first two attempts, in a
/// chain and in a join) it says to keep them, with the counts; where they saved none (billing's
/// provider down) it still says to retry only what can succeed on retry.
#[test]
fn the_worker_time_step_keeps_retries_that_save_most_failing_messages() {
    let worker_step = |capture: &str, node: &str| -> String {
        let triage = report_json("triage", &[&fixture_arg(capture)]);
        remediation_steps(&triage)
            .into_iter()
            .find(|step| step.contains(&format!("of {node}'s busy time")))
            .unwrap_or_else(|| panic!("{capture}: no worker-time step for {node}"))
    };
    for (capture, node) in [
        ("review/ninth_tenantretry.jsonl", "charge"),
        ("review/ninth_joinshard.jsonl", "pricing"),
    ] {
        let (failed, terminal) = failed_and_terminal(capture, node);
        assert!(failed - terminal > terminal, "{capture}: premise");
        let step = worker_step(capture, node);
        assert!(
            step.contains(&format!(
                "keep the retries: they saved {} of the {failed} messages whose first attempt failed here ({terminal} ended here for good)",
                failed - terminal
            )) && !step.contains("retry only what can succeed"),
            "{capture}: {step}"
        );
    }
    let capture = "review/ninth_twoproblems.jsonl";
    let (failed, terminal) = failed_and_terminal(capture, "billing");
    assert!(failed > 0 && failed == terminal, "premise");
    let step = worker_step(capture, "billing");
    assert!(
        step.contains("retry only what can succeed on retry") && !step.contains("keep the retries"),
        "{step}"
    );
}
