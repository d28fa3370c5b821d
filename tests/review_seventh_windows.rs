//! The seventh review's pressure-window captures (fixtures/review/seventh_egressstall and
//! seventh_twospells, scripts in fixtures/capture/review): real PenguiFlow 3.11.2 runs whose
//! `.expected.json` holds what the runtime's FlowEvents and the app's own clocks say was true.
//!
//! - `seventh_egressstall`: `ingest -> work -> reply`; the app's `flow.fetch()` loop stops for
//!   3 s; the egress fills and reply blocks handing over (its success latency includes the
//!   wait), every handler at its usual speed. The bottleneck's window is the stall, not the
//!   instant it ended; the cause is the consumer, not "reply slowed down"; over since.
//! - `seventh_twospells`: `ingest -> enrich -> llm -> reply`; enrich's dependency is slow at
//!   t=3-8 s (llm's queue fills only as enrich's backlog drains into it), llm's at t=13-16 s.
//!   Two separate episodes with two causes, both over; not one blended llm window with "add
//!   replicas".

mod common;

use common::*;
use serde_json::Value;

fn expected(name: &str) -> Value {
    fixture_json(&format!("review/{name}.expected.json"))
}

fn seconds(rfc3339: &Value) -> f64 {
    let parsed = chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap()).unwrap();
    parsed.timestamp_micros() as f64 / 1e6
}

fn start_of(events: &[Value]) -> f64 {
    events
        .iter()
        .filter_map(|e| e["ts"].as_f64())
        .fold(f64::MAX, f64::min)
}

const EGRESS: &str = "review/seventh_egressstall.jsonl.gz";
const SPELLS: &str = "review/seventh_twospells.jsonl.gz";

/// The stall: reply's window covers the time it was blocked on the full egress (its node_start
/// read q_depth_out 8 of 8, the attempt then took the longest success latency of the run), the
/// egress wait is the evidence, and it is over.
#[test]
fn a_sinks_window_is_the_time_it_was_blocked_on_the_egress() {
    let truth = expected("seventh_egressstall");
    let events = capture_events(EGRESS);
    let start = start_of(&events);
    let stall = truth["consumer_stall_s_after_start"].as_array().unwrap();
    let (stall_from, stall_to) = (
        start + stall[0].as_f64().unwrap(),
        start + stall[1].as_f64().unwrap(),
    );
    // From the FlowEvents: reply's attempt that began with the egress full, and how long it
    // took (its success latency, the hand-over wait included).
    let capacity = truth["queue_maxsize"].as_i64().unwrap();
    let blocked_start = events
        .iter()
        .find(|e| {
            e["node_name"] == "reply"
                && e["event"] == "node_start"
                && e["q_depth_out"].as_i64() == Some(capacity)
        })
        .expect("reply started with the egress full");
    let trace = blocked_start["trace_id"].as_str().unwrap();
    let blocked = events
        .iter()
        .find(|e| {
            e["node_name"] == "reply" && e["event"] == "node_success" && e["trace_id"] == trace
        })
        .unwrap();
    let waited = blocked["latency_ms"].as_f64().unwrap();
    assert!(
        (waited
            - truth["node_success_latency_ms_during_stall"]["reply"]["max"]
                .as_f64()
                .unwrap())
        .abs()
            < 0.1
    );

    let saturation = report_json("saturation", &[&fixture_arg(EGRESS)]);
    assert_eq!(saturation["hot_node"], "reply");
    let window = &saturation["bottleneck"]["window"];
    // The window starts when reply blocked (within the stall), not when the stall ended.
    let first = seconds(&window["first"]);
    assert!(
        (first - blocked_start["ts"].as_f64().unwrap()).abs() < 0.001,
        "{window}"
    );
    assert!(first >= stall_from && first < stall_from + 1.0, "{window}");
    assert!(seconds(&window["last"]) > stall_to, "{window}");
    assert_eq!(window["over"], true);
    let ended = truth["stall_ended_s_before_log_end"].as_f64().unwrap();
    assert!(
        (window["drained_s"].as_f64().unwrap() - ended).abs() < 0.1,
        "{window}"
    );
    let egress = &window["egress"];
    assert_eq!(egress["trace_id"], trace);
    assert_eq!(egress["q_depth_out"].as_i64(), Some(capacity));
    assert!((egress["waited_ms"].as_f64().unwrap() - waited).abs() < 0.01);
    // The egress was last read empty just as the app stopped fetching; the wait ended as it
    // fetched again.
    assert!(
        (seconds(&egress["empty_before"]) - stall_from).abs() < 0.2,
        "{egress}"
    );
    assert!(
        (seconds(&egress["until"]) - stall_to).abs() < 0.1,
        "{egress}"
    );
    // No node slowed down: reply's own work in the window is its usual (the handlers' clocks).
    let during = window["mean_ms_during"].as_f64().unwrap();
    let outside = window["mean_ms_outside"].as_f64().unwrap();
    let handler = truth["handler_ms_outside"]["reply"]["mean"]
        .as_f64()
        .unwrap();
    assert!(during < 1.5 * outside, "{window}");
    assert!((outside - handler).abs() < 1.0, "{window}");

    for subcommand in ["saturation", "triage"] {
        let steps = report_json(subcommand, &[&fixture_arg(EGRESS)])["remediation"].to_string();
        assert!(
            steps.contains("the app stopped taking results from the egress")
                && steps.contains("nothing needs relieving now")
                && steps.contains(trace),
            "{subcommand}: {steps}"
        );
        assert!(
            !steps.contains("reply itself slowed down")
                && !steps.contains("and it slowed down")
                && !steps.contains("look at what reply depends on")
                && !steps.contains("Relieve the bottleneck"),
            "{subcommand}: {steps}"
        );
    }
}

/// The command the egress verdict suggests shows what it claims: reply's node_start readings
/// of q_depth_out climbing to the egress's capacity, and the blocked trace.
#[test]
fn the_egress_verdicts_command_shows_the_egress_filling() {
    let saturation = report_json("saturation", &[&fixture_arg(EGRESS)]);
    let step = saturation["remediation"][0].as_str().unwrap().to_string();
    let command = step
        .split('`')
        .find(|part| part.starts_with("flowtrace events"))
        .unwrap_or_else(|| panic!("no command in {step}"));
    let args: Vec<&str> = command.split_whitespace().skip(2).collect();
    let mut all = args.clone();
    let path = fixture_arg(EGRESS);
    all.push(&path);
    let shown = events_jsonl(&all);
    let starts: Vec<i64> = shown
        .iter()
        .filter(|e| e["event"] == "node_start")
        .map(|e| e["q_depth_out"].as_i64().unwrap())
        .collect();
    let capacity = saturation["bottleneck"]["queue_maxsize"].as_i64().unwrap();
    assert_eq!(starts.iter().max(), Some(&capacity), "{starts:?}");
    assert!(
        starts.windows(2).any(|w| w[1] > w[0]),
        "climbing: {starts:?}"
    );
    let trace = saturation["bottleneck"]["window"]["egress"]["trace_id"]
        .as_str()
        .unwrap();
    assert!(
        shown
            .iter()
            .any(|e| e["trace_id"] == trace && e["event"] == "node_success"),
        "the blocked attempt's end is shown"
    );
}

/// A node's own work in `[from, to]` (or outside it): the mean latency of its successes whose
/// node_start did not read its output queue full and whose success did not read it at 80%.
fn own_mean(events: &[Value], node: &str, from: f64, to: f64, inside: bool) -> f64 {
    let capacity = 8;
    let mut blocked = std::collections::HashSet::new();
    for e in events {
        if e["node_name"] == node
            && e["event"] == "node_start"
            && e["q_depth_out"].as_i64() >= Some(capacity)
        {
            blocked.insert(e["trace_id"].as_str().unwrap().to_string());
        }
    }
    let latencies: Vec<f64> = events
        .iter()
        .filter(|e| e["node_name"] == node && e["event"] == "node_success")
        .filter(|e| !blocked.contains(e["trace_id"].as_str().unwrap()))
        .filter(|e| (e["q_depth_out"].as_f64().unwrap()) < 0.8 * capacity as f64)
        .filter(|e| (from..=to).contains(&e["ts"].as_f64().unwrap()) == inside)
        .map(|e| e["latency_ms"].as_f64().unwrap())
        .collect();
    latencies.iter().sum::<f64>() / latencies.len() as f64
}

/// When `node`'s inbound queue was first (`index` 0) or last (1) full in `spell`, by the
/// capture's FlowEvents (`expected.json`), in Unix seconds.
fn spell_time(truth: &Value, start: f64, node: &str, spell: &str, index: usize) -> f64 {
    start
        + truth["per_spell"][spell][node]["in_full_first_last_s"][index]
            .as_f64()
            .unwrap()
}

/// Two times the same to the reading (5 ms).
fn within_5ms(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

/// Two spells: llm's window is its own (t=13.9-17.2 s, the FlowEvents' full readings in spell 2),
/// over; enrich's episode (t=3.7-9.5 s) is told apart with its own cause, and llm's queue filling
/// at its end (t=8.1 s) is enrich's backlog passing on, not llm's pressure.
#[test]
fn two_spells_are_two_episodes_each_with_its_own_cause() {
    let truth = expected("seventh_twospells");
    let events = capture_events(SPELLS);
    let start = start_of(&events);
    let at = |node: &str, spell: &str, index: usize| spell_time(&truth, start, node, spell, index);

    let saturation = report_json("saturation", &[&fixture_arg(SPELLS)]);
    assert_eq!(saturation["hot_node"], "llm");
    let bottleneck = &saturation["bottleneck"];
    let window = &bottleneck["window"];
    assert!(
        within_5ms(seconds(&window["first"]), at("llm", "spell2_llm", 0))
            && within_5ms(seconds(&window["last"]), at("llm", "spell2_llm", 1)),
        "{window}"
    );
    assert_eq!(window["over"], true, "{window}");
    let others = bottleneck["other_episodes"].as_array().unwrap();
    assert_eq!(others.len(), 1, "{others:?}");
    let enrich = &others[0];
    assert_eq!(enrich["node_name"], "enrich");
    assert!(
        within_5ms(seconds(&enrich["first"]), at("enrich", "spell1_enrich", 0))
            && within_5ms(seconds(&enrich["last"]), at("enrich", "spell1_enrich", 1)),
        "{enrich}"
    );
    assert_eq!(enrich["over"], true);
    assert!(
        within_5ms(
            seconds(&enrich["passed_on"]["first"]),
            at("llm", "spell1_enrich", 0)
        ),
        "{enrich}"
    );
    // Each episode's node did slow down, by the FlowEvents: its own work in its episode at
    // least twice its own work outside it.
    for (node, episode) in [("enrich", enrich), ("llm", window)] {
        let (from, to) = (seconds(&episode["first"]), seconds(&episode["last"]));
        let (during, outside) = (
            own_mean(&events, node, from, to, true),
            own_mean(&events, node, from, to, false),
        );
        if node == "enrich" {
            assert!(
                during >= 2.0 * outside,
                "{node}: {during} against {outside}"
            );
        }
        assert!(
            (episode["mean_ms_during"].as_f64().unwrap() - during).abs() < 0.5,
            "{node}: {episode} against {during}"
        );
    }
    // llm's window mean is diluted by its backlog drained at normal speed: most of its working
    // time still went to slow attempts.
    assert!(
        window["slow_share_during"].as_f64().unwrap() >= 0.5,
        "{window}"
    );

    for subcommand in ["saturation", "triage"] {
        let steps = report_json(subcommand, &[&fixture_arg(SPELLS)])["remediation"].to_string();
        assert!(
            steps.contains("llm itself slowed down")
                && steps.contains("enrich itself slowed down")
                && steps.contains("a separate episode")
                && steps.contains("nothing needs relieving now"),
            "{subcommand}: {steps}"
        );
        assert!(
            !steps.contains("Relieve the bottleneck") && !steps.contains("add replicas"),
            "{subcommand}: {steps}"
        );
    }
}

/// The other side: captures whose verdicts stand keep them, with no episode told apart and no
/// egress wait where no sink waited on the egress; the slow egress of `egress_slow` (a consumer
/// too slow all run) is still "drain the egress", not over.
#[test]
fn captures_with_one_episode_keep_their_window_and_verdict() {
    for (relative, hot, over) in [
        ("review/fifth_burst.jsonl.gz", "enrich", true),
        ("review/sixth_slowdown.jsonl", "llm", true),
        ("review/sixth_cancelstorm.jsonl", "search", false),
        ("review/sixth_routerocr.jsonl.gz", "ocr", false),
        ("review/fifth_redeploy.jsonl", "score", true),
        ("review/third_llm_bound.jsonl", "llm", false),
        ("review/seventh_joindeadline.jsonl.gz", "profile", false),
        ("review/seventh_cancelall.jsonl", "work", false),
        ("review/egress_slow.jsonl", "store", false),
        ("production/flat.log.gz", "llm", false),
        ("incident/flat.jsonl", "enrich", false),
    ] {
        let saturation = report_json("saturation", &[&fixture_arg(relative)]);
        assert_eq!(saturation["hot_node"], hot, "{relative}");
        let bottleneck = &saturation["bottleneck"];
        assert_eq!(
            bottleneck["other_episodes"].as_array().map(Vec::len),
            Some(0),
            "{relative}"
        );
        assert_eq!(bottleneck["window"]["over"], over, "{relative}");
        let steps = saturation["remediation"].to_string();
        assert!(!steps.contains("separate episode"), "{relative}: {steps}");
        let egress = &bottleneck["window"]["egress"];
        if relative.contains("egress_slow") {
            assert!(egress.is_object(), "{relative}");
            assert!(steps.contains("Drain the egress"), "{relative}: {steps}");
        } else {
            assert!(egress.is_null(), "{relative}: {egress}");
            assert!(
                !steps.contains("stopped taking results"),
                "{relative}: {steps}"
            );
        }
    }
    for relative in [
        "review/hung2.jsonl",
        "review/restart.jsonl",
        "review/twosinks.jsonl",
    ] {
        let saturation = report_json("saturation", &[&fixture_arg(relative)]);
        assert!(saturation["hot_node"].is_null(), "{relative}");
    }
}

/// `find` on the trace whose reply attempt started with the egress full: it succeeded, and its
/// 2486 ms at reply was the wait for the app's fetch, not "nothing went wrong"; a trace of the
/// same run outside the stall has no such wait.
#[test]
fn find_says_a_trace_waited_on_the_egress() {
    let events = capture_events(EGRESS);
    let capacity = expected("seventh_egressstall")["queue_maxsize"]
        .as_i64()
        .unwrap();
    let blocked = events
        .iter()
        .find(|e| {
            e["node_name"] == "reply"
                && e["event"] == "node_start"
                && e["q_depth_out"].as_i64() == Some(capacity)
        })
        .unwrap();
    let trace = blocked["trace_id"].as_str().unwrap();
    let waited = events
        .iter()
        .find(|e| {
            e["node_name"] == "reply" && e["event"] == "node_success" && e["trace_id"] == trace
        })
        .unwrap()["latency_ms"]
        .as_f64()
        .unwrap();
    let path = fixture_arg(EGRESS);
    let found = report_json("find", &[&trace[..8], &path]);
    assert_eq!(found["status"], "succeeded");
    let wait = &found["egress_wait"];
    assert_eq!(wait["node_name"], "reply", "{found}");
    assert_eq!(wait["q_depth_out"].as_i64(), Some(capacity));
    assert!((wait["latency_ms"].as_f64().unwrap() - waited).abs() < 0.01);
    let table = flowtrace()
        .args(["find", &trace[..8], &path])
        .output()
        .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("flow.fetch()") && !text.contains("nothing went wrong"),
        "{text}"
    );
    // The first trace of the run: long before the stall, nothing waited.
    let first = events[0]["trace_id"].as_str().unwrap();
    let calm = report_json("find", &[first, &path]);
    assert!(calm.get("egress_wait").is_none(), "{calm}");
}

/// The other side of the two spells (`seventh_twospells_late`): llm's dependency is slow from
/// t=15 s until the traffic ends. llm is the bottleneck now, not over, told to look at what it
/// calls; enrich's earlier spell is still told apart, over, and not blended into llm's window.
#[test]
fn a_later_episode_still_on_at_the_end_is_not_over_and_the_earlier_one_is_apart() {
    let relative = "review/seventh_twospells_late.jsonl.gz";
    let truth = expected("seventh_twospells_late");
    let events = capture_events(relative);
    let start = start_of(&events);
    let at = |node: &str, spell: &str, index: usize| spell_time(&truth, start, node, spell, index);
    let saturation = report_json("saturation", &[&fixture_arg(relative)]);
    assert_eq!(saturation["hot_node"], "llm");
    let bottleneck = &saturation["bottleneck"];
    let window = &bottleneck["window"];
    assert!(
        within_5ms(seconds(&window["first"]), at("llm", "spell2_llm", 0))
            && within_5ms(seconds(&window["last"]), at("llm", "spell2_llm", 1)),
        "{window}"
    );
    assert_eq!(window["over"], false, "{window}");
    let others = bottleneck["other_episodes"].as_array().unwrap();
    assert_eq!(others.len(), 1, "{others:?}");
    assert_eq!(others[0]["node_name"], "enrich");
    assert!(
        within_5ms(
            seconds(&others[0]["first"]),
            at("enrich", "spell1_enrich", 0)
        ) && within_5ms(
            seconds(&others[0]["last"]),
            at("enrich", "spell1_enrich", 1)
        ),
        "{}",
        others[0]
    );
    assert_eq!(others[0]["over"], true);
    for subcommand in ["saturation", "triage"] {
        let steps = report_json(subcommand, &[&fixture_arg(relative)])["remediation"].to_string();
        assert!(
            steps.contains("The bottleneck is llm (queue_maxsize 8), and it slowed down")
                && steps.contains("enrich itself slowed down")
                && steps.contains("a separate episode"),
            "{subcommand}: {steps}"
        );
        assert!(
            !steps.contains("nothing needs relieving now"),
            "{subcommand}: {steps}"
        );
    }
}
