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

/// A dependency that answered 503 to every attempt of every message that reached it, none saved
/// by a retry (`ninth_twoproblems`: a router's billing branch, its provider down all run;
/// `ninth_providerdown`: a chain's notify, its SMS provider down from t=8 s to the end): down,
/// not flaky, so the retries are load that saves nothing. Truth from the FlowEvents.
#[test]
fn a_dependency_that_fails_every_message_none_saved_is_down_not_flaky() {
    let twoproblems = fixture_json("review/ninth_twoproblems.expected.json");
    let providerdown = fixture_json("review/ninth_providerdown.expected.json");
    let billing = &twoproblems["billing"];
    let notify = &providerdown["notify"];
    for (log, exception, node, raised, saved, failed) in [
        (
            "ninth_twoproblems.jsonl",
            "ProviderUnavailable",
            "billing",
            &billing["messages_raised"],
            &billing["messages_saved_by_retry"],
            &billing["failed_for_good"],
        ),
        (
            "ninth_providerdown.jsonl",
            "ProviderError",
            "notify",
            &notify["messages_raised_at_least_once"],
            &notify["raised_then_succeeded_at_notify"],
            &notify["raised_and_failed_for_good"],
        ),
    ] {
        let (raised, saved, failed) = (
            raised.as_u64().unwrap(),
            saved.as_u64().unwrap(),
            failed.as_u64().unwrap(),
        );
        assert!(
            raised >= 5 && saved == 0 && failed == raised,
            "{log}: premise"
        );
        let path = fixture_arg(&format!("review/{log}"));
        for subcommand in ["classify", "triage"] {
            let report = report_json(subcommand, &[&path]);
            let steps = if subcommand == "classify" {
                classify_steps(&report)
            } else {
                remediation_steps(&report)
            };
            let step = steps
                .iter()
                .find(|step| step.contains(&format!("{exception} at {node}")))
                .unwrap_or_else(|| panic!("{log} {subcommand}: {steps:?}"));
            assert!(
                step.contains(&format!(
                    "none of the {raised} messages that raised it succeeded on a retry ({failed} failed for good)"
                )) && step.contains("the dependency is down, not flaky")
                    && !step.contains("keep retries"),
                "{log} {subcommand}: {step}"
            );
        }
    }
}

/// An exception whose occurrences all came early (`ninth_edges`: answer's KeyError in the first
/// 1.2 s of an 18 s log) is said to be over for now, with when it stopped; one that goes on to
/// the end (`ninth_providerdown`'s provider) is not.
#[test]
fn an_exception_that_stopped_long_before_the_end_is_said_to_have_stopped() {
    let truth = fixture_json("review/ninth_edges.expected.json");
    let span_s = truth["span_s"].as_f64().unwrap();
    let last_s = truth["answer_failed_s"][1].as_f64().unwrap();
    assert!(span_s - last_s > 10.0, "premise");
    let steps = classify_steps(&report_json(
        "classify",
        &[&fixture_arg("review/ninth_edges.jsonl")],
    ));
    let step = steps
        .iter()
        .find(|step| step.starts_with("KeyError at answer"))
        .unwrap_or_else(|| panic!("{steps:?}"));
    // The quiet stretch as flowtrace measures it: from the last KeyError to the last event.
    let quiet = format!("none in the last {:.1} s of the input", span_s - last_s);
    let times = truth["failed_by_node_code"]["answer:NODE_EXCEPTION"]
        .as_u64()
        .unwrap();
    assert!(
        step.contains(&format!("{times} times from ")) && step.contains(&quiet),
        "{quiet}: {step}"
    );
    let steps = classify_steps(&report_json(
        "classify",
        &[&fixture_arg("review/ninth_providerdown.jsonl")],
    ));
    let step = steps
        .iter()
        .find(|step| step.starts_with("ProviderError at notify"))
        .unwrap_or_else(|| panic!("{steps:?}"));
    assert!(
        step.contains(" times since ") && !step.contains("none in the last"),
        "{step}"
    );
}

/// A log that starts inside an incident (`ninth_midstart`: score's model slow for the first 4 s
/// under steady traffic; the on-call's log begins at t=3 s, its full twin at t=0). Read whole,
/// score slowed down; read from t=3 s, the queue is already full when the log begins, and what
/// filled it is before the log: not "more work arrived", which the traffic never did.
#[test]
fn a_log_that_starts_inside_the_window_does_not_guess_its_cause() {
    let truth = fixture_json("review/ninth_midstart.expected.json");
    assert_eq!(truth["all_succeeded"], true);
    let [first_full, last_full] =
        [0, 1].map(|i| truth["score_full_first_last_s"][i].as_f64().unwrap());
    let cut = truth["cut_s"].as_f64().unwrap();
    assert!(
        first_full < cut && cut < last_full,
        "premise: the cut is inside the window"
    );
    // Steady traffic: requests per 2 s (the last step is partial) within a factor of 1.5.
    let sent: Vec<u64> = truth["emitted_per_2s"].as_array().unwrap()[..6]
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert!(
        sent.iter().max().unwrap() * 2 <= sent.iter().min().unwrap() * 3,
        "premise: {sent:?}"
    );
    let full = report_json(
        "saturation",
        &[&fixture_arg("review/ninth_midstart.full.jsonl")],
    );
    let steps = remediation_steps(&full).join(" ");
    assert!(steps.contains("score itself slowed down"), "{steps}");
    let cut_log = fixture_arg("review/ninth_midstart.jsonl");
    for subcommand in ["saturation", "triage"] {
        let steps = remediation_steps(&report_json(subcommand, &[&cut_log])).join(" ");
        assert!(
            steps.contains("the input begins with score's queue already filling")
                && steps.contains("read the logs from earlier")
                && !steps.contains("more work arrived"),
            "{subcommand}: {steps}"
        );
    }
}

/// A slow side sink of a fan-out (`ninth_sidebranch`: `ingest -> {respond, audit}`, cut while
/// its backlog is full, and its drained twin; `ninth_sidebranch2`: the fan-out at the end of a
/// chain, `intake -> enrich -> {reply, archive}`): its start nearly always comes after its fast
/// sibling's success, yet the fan-out node sends to it: the learned graph is the wired one, and
/// the side sink, with its one inbound edge full, is the hot node. The sibling's outbound queue
/// never held what the side sink's inbound did; the fan-out node's `outgoing` says it has two
/// successors.
#[test]
fn a_slow_side_sink_of_a_fan_out_is_fed_by_the_fan_out_not_by_its_fast_sibling() {
    for (name, sibling_first) in [
        (
            "ninth_sidebranch",
            "ingest:node_success respond:node_success audit:node_start",
        ),
        (
            "ninth_sidebranch_full",
            "ingest:node_success respond:node_success audit:node_start",
        ),
        (
            "ninth_sidebranch2",
            "enrich:node_success reply:node_success archive:node_start",
        ),
    ] {
        let truth = fixture_json(&format!("review/{name}.expected.json"));
        let path = fixture_arg(&format!("review/{name}.jsonl"));
        // The premise: the sibling's success before the side sink's start in most traces.
        let order = truth["order_in_trace"].as_object().unwrap();
        let total: u64 = order.values().map(|n| n.as_u64().unwrap()).sum();
        let sibling_first = order[sibling_first].as_u64().unwrap();
        assert!(sibling_first * 10 >= total * 9, "{name}: {order:?}");
        assert_eq!(
            learned_edges(&report_json("graph", &[&path])),
            sorted_pairs(&truth["edges"]),
            "{name}"
        );
        assert_eq!(
            report_json("saturation", &[&path])["hot_node"],
            truth["hot_node"],
            "{name}"
        );
    }
}

/// The guard for the rule above (`ninth_spareroute`): a router with a branch the log never shows
/// (`outgoing` 3, two branches seen) upstream of a slow sink fed through both seen branches;
/// the shallow branch's outbound queue never held half of the sink's inbound. Its edge to the
/// sink is real and stays: the router's unseen out-edge is not room for the sink's arrivals.
#[test]
fn a_router_s_unseen_branch_is_not_room_for_its_shallow_sibling_s_receiver() {
    let truth = fixture_json("review/ninth_spareroute.expected.json");
    let seen: Vec<&str> = truth["nodes_seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .chain(["OpenSea", "Rookery"])
        .collect();
    // The premise: the router reports more out-edges than the log shows, and the shallow
    // branch's deepest outbound is under half the sink's deepest inbound.
    assert!(truth["outgoing"]["route"].as_i64().unwrap() > 2);
    assert!(
        truth["deepest_out"]["minor"].as_i64().unwrap() * 2
            < truth["deepest_in"]["sink"].as_i64().unwrap()
    );
    let visible: Vec<(String, String)> = sorted_pairs(&truth["edges"])
        .into_iter()
        .filter(|(from, to)| seen.contains(&from.as_str()) && seen.contains(&to.as_str()))
        .collect();
    let path = fixture_arg("review/ninth_spareroute.jsonl");
    assert_eq!(learned_edges(&report_json("graph", &[&path])), visible);
    assert_eq!(
        report_json("saturation", &[&path])["hot_node"],
        truth["hot_node"]
    );
}

/// A retry storm at a node whose retries already sleep between attempts (`ninth_providerdown`:
/// notify's backoff 0.05 s, doubling; the router topology's slow_path) is told to back off
/// longer, with the wait its retries took, not to "add backoff", by classify and saturation. Truth: the runtime's
/// node_retry events' `sleep_s`.
#[test]
fn a_retry_storm_with_backoff_in_place_is_told_to_back_off_longer() {
    for (capture, node) in [
        ("review/ninth_providerdown.jsonl", "notify"),
        ("topologies/router/flat.jsonl", "slow_path"),
    ] {
        let slept: Vec<f64> = capture_events(capture)
            .iter()
            .filter(|e| e["event"] == "node_retry" && e["node_name"] == node)
            .map(|e| e["sleep_s"].as_f64().unwrap())
            .collect();
        assert!(
            !slept.is_empty() && slept.iter().all(|s| *s > 0.0),
            "{capture}: premise"
        );
        let mean_ms = 1000.0 * slept.iter().sum::<f64>() / slept.len() as f64;
        let path = fixture_arg(capture);
        for (subcommand, steps) in [
            (
                "classify",
                classify_steps(&report_json("classify", &[&path])),
            ),
            (
                "saturation",
                remediation_steps(&report_json("saturation", &[&path])),
            ),
        ] {
            let storm = steps
                .iter()
                .find(|step| step.starts_with(&format!("Retry storm at {node}")))
                .unwrap_or_else(|| panic!("{capture} {subcommand}: {steps:?}"));
            assert!(
                storm.contains(&format!(
                    "back off longer (its retries already wait {mean_ms:.1} ms each on average"
                )) && !storm.contains("add backoff"),
                "{capture} {subcommand}: {storm}"
            );
        }
    }
}

/// A node whose dependency hangs, with max_retries 1 (its messages fail for good at attempt 1:
/// `ninth_branchhang`'s enrich, `dep_timeouts`' lookup): the timeout step says to set it to 0,
/// not to "lower max_retries", which leaves nothing else. Truth: the runtime's node_failed
/// attempts.
#[test]
fn a_timeout_step_at_max_retries_1_says_0_not_lower() {
    for (capture, node) in [
        ("review/ninth_branchhang.jsonl", "enrich"),
        ("review/dep_timeouts.jsonl", "lookup"),
    ] {
        let last_attempt = capture_events(capture)
            .iter()
            .filter(|e| e["event"] == "node_failed" && e["node_name"] == node)
            .map(|e| e["attempt"].as_u64().unwrap())
            .max();
        assert_eq!(last_attempt, Some(1), "{capture}: premise");
        let steps = classify_steps(&report_json("classify", &[&fixture_arg(capture)]));
        let step = steps
            .iter()
            .find(|step| step.starts_with(&format!("{node}: ")) && step.contains("timeout"))
            .unwrap_or_else(|| panic!("{capture}: {steps:?}"));
        assert!(
            step.contains("set max_retries to 0 (it is 1") && !step.contains("lower max_retries"),
            "{capture}: {step}"
        );
    }
}

/// A dependency that fails fast (billing's provider down for the whole run, 503s; notify's from
/// t=8 s; answer's KeyError) is no time limit at work: the slow-dependency step says the
/// attempts raised, how many, and that no timeout is missing, not that "a time limit already
/// cuts them". billing never succeeded anywhere in the input, and the signal says so rather
/// than only "no success for" its window.
#[test]
fn a_dependency_failing_fast_is_not_read_as_a_time_limit() {
    for (capture, node) in [
        ("review/ninth_twoproblems.jsonl", "billing"),
        ("review/ninth_providerdown.jsonl", "notify"),
        ("review/ninth_edges.jsonl", "answer"),
    ] {
        let events = capture_events(capture);
        let of_node = |kind: &str| {
            events
                .iter()
                .filter(|e| e["node_name"] == node && e["event"] == kind)
                .count()
        };
        assert!(
            of_node("node_error") > 0 && of_node("node_timeout") == 0,
            "{capture}: premise"
        );
        let never_succeeded = of_node("node_success") == 0;
        let saturation = report_json("saturation", &[&fixture_arg(capture)]);
        let signal = saturation["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "slow_dependency" && s["node_name"] == node)
            .unwrap_or_else(|| panic!("{capture}: {}", saturation["signals"]));
        let detail = signal["detail"].as_str().unwrap();
        assert!(
            detail.contains(" raised, but no success for "),
            "{capture}: {detail}"
        );
        assert_eq!(
            detail.contains("none in the whole input"),
            never_succeeded,
            "{capture}: {detail}"
        );
        let steps = saturation["remediation"].to_string();
        assert!(
            steps.contains(&format!("No attempt at {node} succeeds for a while"))
                && steps.contains("no timeout is missing")
                && !steps.contains("time limit already cuts"),
            "{capture}: {steps}"
        );
    }
}
