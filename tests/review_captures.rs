//! Situations an adversarial review found verdicts getting wrong, each a real-runtime capture
//! (fixtures/review, scripts in fixtures/capture/review): what each run really did is in its
//! script's header and in its FlowEvents, which these tests read back.

mod common;

use common::*;
use serde_json::Value;

fn capture(name: &str) -> String {
    fixture_arg(&format!("review/{name}.jsonl"))
}

#[test]
fn a_hung_call_is_named_first_and_what_waits_behind_it_is_not_blamed() {
    let log = capture("hung2");
    let events = events_jsonl(&[&log]);
    let seconds = |e: &Value| {
        chrono::DateTime::parse_from_rfc3339(e["ts"].as_str().unwrap())
            .unwrap()
            .timestamp_micros() as f64
            / 1e6
    };
    let end = events.iter().map(seconds).fold(0.0, f64::max);
    // The runtime's own record: llm's attempt that started over a second before the end and
    // never ended (a call started just before the cut is not hanging).
    let hung: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "node_start" && e["node_name"] == "llm")
        .filter(|e| end - seconds(e) > 1.0)
        .filter(|start| {
            !events.iter().any(|e| {
                e["trace_id"] == start["trace_id"]
                    && e["node_name"] == "llm"
                    && e["event"] != "node_start"
            })
        })
        .collect();
    assert_eq!(hung.len(), 1);
    let trace = hung[0]["trace_id"].as_str().unwrap();

    let saturation = report_json("saturation", &[&log]);
    assert_eq!(saturation["hanging"][0]["trace_id"], trace);
    assert_eq!(saturation["hanging"][0]["node_name"], "llm");
    assert_eq!(
        saturation["hanging_total"], 1,
        "prep, blocked handing over, is not hanging"
    );

    let triage = report_json("triage", &[&log]);
    assert_eq!(triage["worst"][0]["trace_id"], trace);
    assert_eq!(triage["worst"][0]["running"], true);
    let first = &triage["remediation"][0];
    assert!(
        first["evidence"]
            .as_str()
            .unwrap()
            .starts_with("hanging attempt: llm")
    );
    for worst in triage["worst"].as_array().unwrap().iter().skip(1) {
        assert_eq!(worst["running"], false, "{worst}");
    }
}

#[test]
fn timeouts_are_the_dependency_even_when_the_inbound_queue_fills() {
    let log = capture("dep_timeouts");
    let classify = report_json("classify", &[&log]);
    let text = classify["remediation"].to_string();
    assert!(!text.contains("saturation first"), "{text}");
    assert!(text.contains("not the cause"), "{text}");
    assert!(text.contains("its dependency is slow or hanging"), "{text}");
    // find agrees with classify, and with what saturation says of lookup.
    let failed = events_jsonl(&[&log, "--kind", "node_failed"]);
    let trace = failed[0]["trace_id"].as_str().unwrap();
    let find = report_json("find", &[trace, &log]);
    let text = find["remediation"].to_string();
    assert!(!text.contains("Saturation first"), "{text}");
    let saturation = report_json("saturation", &[&log]);
    assert!(
        saturation["remediation"]
            .to_string()
            .contains("its dependency is failing, not its capacity")
    );
}

#[test]
fn unbounded_queues_still_have_a_bottleneck_and_nothing_backs_up() {
    let saturation = report_json("saturation", &[&capture("unbounded")]);
    assert_eq!(saturation["hot_node"], "slow");
    // Unbounded queues never block a sender: no node backs up behind it.
    assert_eq!(saturation["bottleneck"]["backed_up"], serde_json::json!([]));
}

#[test]
fn a_sink_waiting_on_the_egress_is_not_told_to_add_replicas() {
    let saturation = report_json("saturation", &[&capture("egress_slow")]);
    assert_eq!(saturation["hot_node"], "store");
    assert_eq!(saturation["bottleneck"]["waits_on_egress"], true);
    let first = &remediation_steps(&saturation)[0];
    assert!(first.starts_with("Drain the egress"), "{first}");
}

#[test]
fn messages_queued_behind_retried_attempts_are_not_lost() {
    let log = capture("lost_retries");
    let in_flight = report_json("traces", &[&log]);
    let waiting: Vec<&str> = in_flight
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["status"] == "in_flight")
        .map(|row| row["trace_id"].as_str().unwrap())
        .collect();
    assert!(!waiting.is_empty());
    for trace in waiting {
        let find = report_json("find", &[trace, &log, "--full-scan"]);
        assert_eq!(find["next"]["lost"], false, "{trace}");
    }
}

#[test]
fn one_request_retried_is_not_a_tenants_problem() {
    let triage = report_json("triage", &[&capture("one_request")]);
    let text = triage["remediation"].to_string();
    assert!(!text.contains("tenant initech"), "{text}");
    assert!(!text.contains("gate or rate-limit"), "{text}");
}

#[test]
fn a_number_that_is_not_an_http_status_is_not_rejected_credentials() {
    let classify = report_json("classify", &[&capture("auth_fp")]);
    let text = classify["remediation"].to_string();
    assert!(text.contains("ValueError"), "{text}");
    assert!(!text.contains("authentication"), "{text}");
    let exception = classify["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ValueError")
        .unwrap();
    assert_eq!(exception["auth_like"], 0);
}

#[test]
fn budgets_that_expire_in_the_first_queue_are_not_stale() {
    let log = capture("deadline_queue");
    let skips = events_jsonl(&[&log, "--kind", "deadline_skip"]);
    let classify = report_json("classify", &[&log]);
    assert_eq!(classify["deadlines"]["stale_at_first_node"], 0);
    assert_eq!(
        classify["deadlines"]["expired_in_flow"].as_u64().unwrap(),
        skips.len() as u64
    );
}

#[test]
fn a_fan_in_below_capacity_is_not_a_bottleneck() {
    let log = capture("fanin6");
    let saturation = report_json("saturation", &[&log]);
    assert!(
        saturation["hot_node"].is_null(),
        "{}",
        saturation["hot_node"]
    );
    let graph = report_json("graph", &[&log]);
    let edges = learned_edges(&graph);
    for edge in [("profile", "merge"), ("orders", "merge")] {
        assert!(edges.contains(&(edge.0.into(), edge.1.into())), "{edges:?}");
    }
}

#[test]
fn an_error_that_recovered_on_retry_is_not_called_hopeless() {
    let classify = report_json("classify", &[&fixture_arg("incident/flat.jsonl")]);
    let key_error = classify["remediation"]
        .to_string()
        .split("KeyError")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        !key_error.starts_with(" at respond, 1 time since")
            || !key_error.contains("retrying will not help")
    );
    let exception = classify["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "KeyError")
        .unwrap();
    assert!(exception["terminal"].as_u64().unwrap() < exception["messages"].as_u64().unwrap());
}

#[test]
fn lost_telemetry_is_counted_and_said_by_every_analysis() {
    let log = capture("lost_telemetry");
    let text = std::fs::read_to_string(fixture("review/lost_telemetry.jsonl")).unwrap();
    let saves = text
        .matches("\"message\":\"state_store_save_failed\"")
        .count();
    let middleware = text.matches("\"message\":\"middleware_error\"").count();
    assert!(saves > 0 && middleware > 0);
    for subcommand in ["events", "classify", "saturation", "triage"] {
        let output = flowtrace().args([subcommand, &log]).output().unwrap();
        assert!(output.status.success(), "{subcommand}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains(&format!("{saves} state_store_save_failed lines")),
            "{subcommand}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("{middleware} middleware_error lines")),
            "{subcommand}: {stderr}"
        );
    }
    // Neither is taken for a FlowEvent.
    let events = events_jsonl(&[&log]);
    assert!(events.iter().all(|e| e["event"] != "middleware_error"));
}

#[test]
fn configure_logging_default_lines_give_every_event() {
    // configure_logging() without structured=True: `kind [ts=..., event="kind", ...]` lines,
    // tracebacks between message and bracket. The capture's collector recorded the FlowEvents.
    let text = std::fs::read_to_string(fixture("review/plain_extras.expected.json")).unwrap();
    let want: Value = serde_json::from_str(&text).unwrap();
    let events = events_jsonl(&[&fixture_arg("review/plain_extras.log")]);
    let traced: Vec<&Value> = events.iter().filter(|e| !e["trace_id"].is_null()).collect();
    assert_eq!(
        traced.len() as u64,
        want["events_with_trace"].as_u64().unwrap()
    );
    for (kind, count) in want["kinds"].as_object().unwrap() {
        let got = traced
            .iter()
            .filter(|e| e["event"] == kind.as_str())
            .count() as u64;
        assert_eq!(got, count.as_u64().unwrap(), "{kind}");
    }
    let failed = traced
        .iter()
        .find(|e| e["event"] == "node_failed" && e["flow_error"]["code"] == "NODE_EXCEPTION")
        .expect("a node_failed with its flow_error code");
    assert_eq!(failed["flow_error"]["exception_type"], "ValueError");
    assert!(
        traced
            .iter()
            .all(|e| e["q_depth_in"].is_i64() && e["ts"].is_string())
    );
}

#[test]
fn second_review_cases_hold() {
    // A worker stopped by flow.stop() mid-attempt is not a hang.
    let restart = report_json("saturation", &[&capture("restart")]);
    assert_eq!(restart["hanging_total"], 0);

    // An LLM's context-length error counts tokens of text: not rejected credentials.
    let ctxlen = report_json("classify", &[&capture("ctxlen")]);
    assert!(!ctxlen["remediation"].to_string().contains("authentication"));

    // An error that never recovered is not called transient.
    // Fresh budgets expiring by milliseconds in a default-size first queue are not stale.
    let burst = report_json("classify", &[&capture("deadline_burst")]);
    assert_eq!(burst["deadlines"]["stale_at_first_node"], 0);

    let deterministic = report_json("classify", &[&capture("deterministic")]);
    let text = deterministic["remediation"].to_string();
    assert!(!text.contains("transient"), "{text}");
    for exception in deterministic["exceptions"].as_array().unwrap() {
        assert_eq!(exception["recovered"], 0, "{exception}");
    }

    // A tenant sending most of the traffic and failing at everyone's rate is not to blame.
    let baserate = report_json("triage", &[&capture("baserate")]);
    let text = baserate["remediation"].to_string();
    assert!(!text.contains("gate or rate-limit"), "{text}");

    // A frozen flow is not "nothing to do": the traces left in flight are named with where
    // they wait.
    let hung1 = report_json("triage", &[&capture("hung1")]);
    let steps = hung1["remediation"].as_array().unwrap();
    assert!(!steps.is_empty());
    assert!(
        steps
            .iter()
            .any(|s| s["step"].as_str().unwrap().contains("wait at llm"))
    );

    // An attempt that started with a full output queue is blocked handing over, not hanging.
    let events = events_jsonl(&[&capture("hung2"), "--node", "prep", "--kind", "node_start"]);
    let blocked = events
        .iter()
        .filter(|e| e["q_depth_out"] == e["queue_maxsize"])
        .filter_map(|e| e["trace_id"].as_str())
        .find(|trace| {
            let find = report_json("find", &[trace, &capture("hung2")]);
            find["next"]["node_name"] == "prep" && find["next"]["event"] == "node_start"
        })
        .expect("a prep attempt left blocked at the cut");
    let find = report_json("find", &[blocked, &capture("hung2")]);
    let text = find["remediation"].to_string();
    assert!(text.contains("blocked handing its output"), "{text}");
    assert!(!text.contains("the call is hanging"), "{text}");
}

#[test]
fn a_fan_out_into_two_sinks_completes() {
    // All 30 traces completed (the capture drained every result): the second sink's success
    // counts the first one's unfetched result in trace_pending too.
    let rows = report_json("traces", &[&capture("twosinks")]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 30);
    assert!(rows.iter().all(|r| r["status"] == "succeeded"), "{rows:?}");
}

#[test]
fn budgets_gone_before_an_idle_flow_are_stale() {
    // Sent 0.5 s past their deadline into an idle flow of 3 ms handlers.
    let classify = report_json("classify", &[&capture("stale")]);
    let skips = events_jsonl(&[&capture("stale"), "--kind", "deadline_skip"]);
    assert_eq!(
        classify["deadlines"]["stale_at_first_node"]
            .as_u64()
            .unwrap(),
        skips.len() as u64
    );
}

#[test]
fn a_hung_handler_with_two_half_full_edges_is_hanging_not_blocked() {
    // prepare -> (audit, reply), queue_maxsize 4: q_depth_out sums both edges (3 + 3), neither
    // full; prepare's handler itself hangs.
    let log = capture("fanhang");
    let find = report_json("find", &["6b0d549b", &log]);
    let text = find["remediation"].to_string();
    assert!(!text.contains("blocked handing"), "{text}");
    assert!(text.contains("timeout_s"), "{text}");
}

#[test]
fn budgets_spent_in_retries_are_blamed_on_the_retries_not_on_capacity() {
    // fetch fails two attempts in three messages and retries with 100 ms backoff: its one
    // worker is busy retrying, so budgets run out in its attempts or in its queue behind them.
    let log = capture("deadline_retries");
    let events = events_jsonl(&[&log]);
    // The expected answer, from the runtime's own FlowEvents: the share of fetch's worker time
    // spent on failed attempts and backoff, and the deadline-skipped traces.
    let (mut retrying, mut succeeding) = (0.0, 0.0);
    for event in events.iter().filter(|e| e["node_name"] == "fetch") {
        match event["event"].as_str().unwrap() {
            "node_error" | "node_timeout" => retrying += event["latency_ms"].as_f64().unwrap(),
            "node_retry" => retrying += event["sleep_s"].as_f64().unwrap() * 1000.0,
            "node_success" => succeeding += event["latency_ms"].as_f64().unwrap(),
            _ => {}
        }
    }
    let share = retrying / (retrying + succeeding);
    assert!(share >= 0.5, "the capture lost its premise: {share}");
    let skipped: std::collections::BTreeSet<&str> = events
        .iter()
        .filter(|e| e["event"] == "deadline_skip")
        .map(|e| e["trace_id"].as_str().unwrap())
        .collect();
    assert!(skipped.len() >= 10);

    let classify = report_json("classify", &[&log]);
    let deadlines = &classify["deadlines"];
    assert_eq!(deadlines["spent_in_retries"], skipped.len() as u64);
    assert_eq!(deadlines["expired_in_flow"], 0);
    assert_eq!(deadlines["stale_at_first_node"], 0);
    let steps = classify["remediation"].to_string();
    assert!(
        steps.contains("the budget went into retries at fetch"),
        "{steps}"
    );
    assert!(
        steps.contains(&format!(
            "waited in fetch's queue past the deadline while its worker spent {:.0}%",
            share * 100.0
        )),
        "{steps}"
    );
    assert!(
        !steps.contains("the flow is slower than the callers' budget"),
        "{steps}"
    );

    // find on a trace skipped at `answer` after fetch retried it says where its budget went.
    let retried: Vec<&str> = skipped
        .iter()
        .copied()
        .filter(|trace| {
            events
                .iter()
                .any(|e| e["trace_id"] == *trace && e["event"] == "node_retry")
        })
        .collect();
    assert!(!retried.is_empty());
    let output = flowtrace()
        .args(["find", retried[0], &log])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("the budget went into retries at fetch"),
        "{text}"
    );

    // The exception's recoveries are not called a help when the retries spent the budget.
    let recovered_then_expired = skipped
        .iter()
        .filter(|trace| {
            let at_fetch = |kind: &str| {
                events.iter().any(|e| {
                    e["trace_id"] == **trace && e["node_name"] == "fetch" && e["event"] == kind
                })
            };
            at_fetch("node_error") && at_fetch("node_success")
        })
        .count();
    assert!(recovered_then_expired > 0);
    let connection_error = &classify["exceptions"][0];
    assert_eq!(connection_error["type"], "ConnectionError");
    assert_eq!(
        connection_error["recovered_then_expired"],
        recovered_then_expired as u64
    );
    assert!(!steps.contains("transient, so retries help"), "{steps}");

    // Skipped traces are among the worst: their callers got "Deadline exceeded", not an answer.
    let triage = report_json("triage", &[&log]);
    assert_eq!(triage["worst_of"], skipped.len() as u64);
    let worst = triage["worst"].as_array().unwrap();
    assert!(!worst.is_empty());
    for trace in worst {
        assert_eq!(trace["status"], "deadline_skipped", "{trace}");
        assert!(skipped.contains(trace["trace_id"].as_str().unwrap()));
    }
}

#[test]
fn fresh_budgets_spent_behind_retries_at_the_first_node_are_neither_stale_nor_capacity() {
    // A review's captures: fetch is the first node and retries (timeouts in one, errors in the
    // other); later messages wait in its queue behind those retries. Their budgets were fresh
    // when emitted (`.emits.json` has each trace's emit time and deadline).
    for name in ["deadline_first_timeouts", "deadline_behind_retry"] {
        let log = capture(name);
        let emits: Value = serde_json::from_str(
            &std::fs::read_to_string(log.replace(".jsonl", ".emits.json")).unwrap(),
        )
        .unwrap();
        let events = events_jsonl(&[&log]);
        let (mut retrying, mut succeeding) = (0.0, 0.0);
        for event in events.iter().filter(|e| e["node_name"] == "fetch") {
            match event["event"].as_str().unwrap() {
                "node_error" | "node_timeout" => retrying += event["latency_ms"].as_f64().unwrap(),
                "node_retry" => retrying += event["sleep_s"].as_f64().unwrap() * 1000.0,
                "node_success" => succeeding += event["latency_ms"].as_f64().unwrap(),
                _ => {}
            }
        }
        assert!(retrying / (retrying + succeeding) >= 0.5, "{name}");
        let skipped: Vec<&str> = events
            .iter()
            .filter(|e| e["event"] == "deadline_skip")
            .map(|e| e["trace_id"].as_str().unwrap())
            .collect();
        assert!(skipped.len() >= 10, "{name}");
        for trace in &skipped {
            let [emitted, deadline] = [0, 1].map(|i| emits[*trace][i].as_f64().unwrap());
            assert!(deadline > emitted, "{name}: {trace} was stale");
        }

        let classify = report_json("classify", &[&log]);
        let deadlines = &classify["deadlines"];
        assert_eq!(deadlines["stale_at_first_node"], 0, "{name}");
        assert_eq!(deadlines["expired_in_flow"], 0, "{name}");
        assert_eq!(
            deadlines["spent_in_retries"],
            skipped.len() as u64,
            "{name}"
        );
        let steps = classify["remediation"].to_string();
        assert!(steps.contains("retries at fetch") || steps.contains("waited in fetch's queue"));
        assert!(!steps.contains("stale client budgets"), "{name}: {steps}");

        // find says the same of a trace that never started at fetch.
        let never_started = skipped.iter().find(|trace| {
            !events
                .iter()
                .any(|e| e["trace_id"] == **trace && e["event"] == "node_start")
        });
        if let Some(trace) = never_started {
            let output = flowtrace().args(["find", trace, &log]).output().unwrap();
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(
                text.contains("waited longest in fetch's queue"),
                "{name}: {text}"
            );
            assert!(!text.contains("stale budget"), "{name}: {text}");
        }
    }
    // And a budget that really was stale on arrival is still called so by find.
    let stale = capture("stale");
    let events = events_jsonl(&[&stale, "--kind", "deadline_skip"]);
    let trace = events[0]["trace_id"].as_str().unwrap();
    let output = flowtrace().args(["find", trace, &stale]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("(a stale budget)"), "{text}");
}
