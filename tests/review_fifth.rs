//! The fifth review's captures (fixtures/review/fifth_*, scripts in fixtures/capture/review):
//! real PenguiFlow 3.11.2 runs of situations a verdict once got wrong. Each `.expected.json`
//! holds what the runtime's own FlowEvents and state say was true.
//!
//! - `fifth_slowtail`: `llm` has no timeout and a cold-model tail (a few calls of 3.4-3.6 s that
//!   succeed, p95 about 120 ms); the log is cut 1.8 s into another cold call, which finished
//!   after the cut. A call that is no longer than ones the node already finished is slow, not
//!   hung: no "hanging" verdict, no advice to cut it with a timeout.
//! - `fifth_burst` and `sixth_slowdown` (a second topology): a queue full for 2 s, then drained
//!   for 12-14 s before the log ends: a bottleneck of then, not of now, with its cause (one
//!   tenant's burst; the node slowing down).

mod common;

use common::*;
use serde_json::Value;

fn log(name: &str) -> String {
    fixture_arg(&format!("review/{name}.jsonl"))
}

fn expected(name: &str) -> Value {
    fixture_json(&format!("review/{name}.expected.json"))
}

#[test]
fn a_slow_call_within_the_nodes_own_history_is_not_called_hung() {
    let truth = expected("fifth_slowtail");
    assert_eq!(truth["hung"], false);
    let running = &truth["running_at_cut"];
    let trace = running["trace"].as_str().unwrap();
    let node = running["node"].as_str().unwrap();
    let running_ms = running["running_ms"].as_f64().unwrap();
    let longest_ms = truth["llm_success_ms"]["max"].as_f64().unwrap();
    // The situation: far past the node's p95, yet shorter than calls it already finished.
    let p95 = truth["llm_success_ms"]["p95"].as_f64().unwrap();
    assert!(running_ms > 10.0 * p95 && running_ms < longest_ms);

    let path = log("fifth_slowtail");
    let triage = report_json("triage", &[&path]);
    assert_eq!(
        triage["saturation"]["hanging"].as_array().unwrap().len(),
        0,
        "{}",
        triage["saturation"]["hanging"]
    );
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(saturation["hanging"].as_array().unwrap().len(), 0);

    // find names the call slow, against the node's longest success, and does not call it hung.
    let output = flowtrace()
        .args(["find", trace, &path, "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "{node} started attempt 0 and has not finished yet"
        )) && text.contains("a slow call, not yet a hang"),
        "{text}"
    );
    assert!(!text.contains("the call is hanging"), "{text}");
}

/// `fifth_readtimeout`: inside `fetch`, an httpx client with a 0.4 s timeout raises
/// `ReadTimeout('')` for contoso's requests; the runtime logs them as node_error (its own 3 s
/// timeout never fires). The advice is a slow dependency, not the tenant's credentials.
#[test]
fn a_client_timeout_raised_as_an_error_is_read_as_a_slow_dependency() {
    let truth = expected("fifth_readtimeout");
    assert_eq!(truth["node_timeouts"], 0);
    assert_eq!(
        truth["exceptions"]["ReadTimeout('')"],
        truth["kinds"]["node_error"]
    );
    let path = log("fifth_readtimeout");
    let classify = report_json("classify", &[&path]);
    let errors = classify["categories"]["error"]["events"].as_u64().unwrap();
    assert_eq!(Some(errors), truth["kinds"]["node_error"].as_u64());
    let checklist = classify["remediation"].to_string();
    assert!(
        checklist.contains("a timeout of the client inside the handler")
            && checklist.contains("tenant contoso"),
        "{checklist}"
    );
    assert!(
        !checklist.contains("credentials, quota or payloads"),
        "{checklist}"
    );

    let failed = truth["trace_status"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, trace)| trace["status"] == "failed")
        .map(|(id, _)| id.clone())
        .unwrap();
    let output = flowtrace()
        .args(["find", &failed, &path, "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("a timeout of the client inside fetch's handler"),
        "{text}"
    );
    assert!(!text.contains("credentials, quota or payloads"), "{text}");

    // The slow-dependency signal over fetch's failing window: its attempts ended in errors, so
    // no checklist asks for a timeout that would make them "fail fast".
    for subcommand in ["triage", "saturation"] {
        let report = report_json(subcommand, &[&path]);
        let steps = report["remediation"].to_string();
        assert!(!steps.contains("so it fails fast"), "{subcommand}: {steps}");
        assert!(
            steps.contains("ended in errors, not in silence"),
            "{subcommand}: {steps}"
        );
    }
}

/// The other side of the client-timeout reading, on another topology: the incident capture's
/// `TimeoutError`s at `retrieve` are the runtime's own timeouts (node_timeout events, as its
/// expected.json counts them), and its error exceptions are no timeouts: no advice there reads
/// them as a client's time limit.
#[test]
fn the_runtimes_own_timeouts_are_not_read_as_a_client_timeout() {
    let truth = fixture_json("incident/expected.json");
    let timeouts = truth["classify"]["categories"]["timeout"]["events"]
        .as_u64()
        .unwrap();
    assert!(timeouts > 0);
    let path = fixture_arg("incident/flat.jsonl");
    let classify = report_json("classify", &[&path]);
    assert_eq!(
        classify["categories"]["timeout"]["events"].as_u64(),
        Some(timeouts)
    );
    let steps = classify["remediation"].to_string();
    assert!(!steps.contains("a timeout of the client"), "{steps}");
}

/// The runtime's own FlowEvents in a flat capture: (ts in seconds, the payload).
fn flow_events(path: &str) -> Vec<Value> {
    let text = if path.ends_with(".gz") {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
            &mut text,
        )
        .unwrap();
        text
    } else {
        std::fs::read_to_string(path).unwrap()
    };
    text.lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn seconds(rfc3339: &Value) -> f64 {
    let parsed = chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap()).unwrap();
    parsed.timestamp_micros() as f64 / 1e6
}

/// `fifth_burst`: tenant initech sends 70 requests in 0.35 s; `enrich`'s inbound queue is full
/// from 4.3 s to 6.5 s after the start and the log goes on for 14.5 s with every request
/// answered. The bottleneck verdict says when, that it is over and whose burst it was, and the
/// checklist does not ask to relieve a bottleneck that no longer exists.
#[test]
fn a_burst_that_is_over_is_called_over_with_its_window_and_its_tenant() {
    let truth = expected("fifth_burst");
    let full = &truth["enrich_inbound_full_80pct"];
    let path = fixture_arg("review/fifth_burst.jsonl.gz");
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(saturation["hot_node"], "enrich");
    let start = seconds(&saturation["span"]["first_ts"]);
    let window = &saturation["bottleneck"]["window"];
    let near = |a: f64, b: f64| (a - b).abs() < 0.005;
    assert!(
        near(
            seconds(&window["first"]) - start,
            full["first_s"].as_f64().unwrap()
        ) && near(
            seconds(&window["last"]) - start,
            full["last_s"].as_f64().unwrap()
        ),
        "{window} against {full}"
    );
    assert_eq!(window["over"], true);
    let ended = full["ended_s_before_log_end"].as_f64().unwrap();
    assert!((window["drained_s"].as_f64().unwrap() - ended).abs() < 0.1);
    assert_eq!(window["tenant"], "initech");
    for subcommand in ["saturation", "triage"] {
        let report = report_json(subcommand, &[&path]);
        let steps = report["remediation"].to_string();
        assert!(
            steps.contains("nothing needs relieving now")
                && steps.contains("rate-limit tenant initech"),
            "{subcommand}: {steps}"
        );
        assert!(
            !steps.contains("Relieve the bottleneck"),
            "{subcommand}: {steps}"
        );
    }
}

/// `sixth_slowdown`, another topology (fetch -> llm -> {store, audit}, even traffic of three
/// tenants): llm's dependency slows down 8x for 2.5 s; its queue fills, then drains, and the
/// log goes on for 12 s. Over the whole log no queue is full in a fifth of its readings, yet llm
/// was the bottleneck while it lasted: the verdict names it, says it is over, reads it as llm
/// slowing down (not a tenant's burst), and calls no finished fan-out trace blocked.
#[test]
fn a_slow_spell_that_is_over_is_the_bottleneck_of_its_window_and_no_tenants() {
    let truth = expected("sixth_slowdown");
    let full = &truth["llm_inbound_full_80pct"];
    // Even traffic in the window: no tenant sent more than its share.
    let starts = full["window_starts_by_tenant"].as_object().unwrap();
    let total: u64 = starts.values().map(|n| n.as_u64().unwrap()).sum();
    assert!(starts.values().all(|n| n.as_u64().unwrap() * 2 < total));
    let path = log("sixth_slowdown");
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(saturation["hot_node"], "llm");
    let bottleneck = &saturation["bottleneck"];
    assert!(bottleneck["during"].is_object(), "{bottleneck}");
    let window = &bottleneck["window"];
    let start = seconds(&saturation["span"]["first_ts"]);
    assert!(
        (seconds(&window["last"]) - start - full["last_s"].as_f64().unwrap()).abs() < 0.005,
        "{window} against {full}"
    );
    assert_eq!(window["over"], true);
    assert!(window["tenant"].is_null(), "{window}");
    // llm took longer per attempt in the window than outside it, as the FlowEvents say.
    let events = flow_events(&path);
    let (first, last) = (
        start + full["first_s"].as_f64().unwrap(),
        start + full["last_s"].as_f64().unwrap(),
    );
    let mean = |inside: bool| {
        let latencies: Vec<f64> = events
            .iter()
            .filter(|e| e["node_name"] == "llm" && e["event"] == "node_success")
            .filter(|e| (first..=last).contains(&e["ts"].as_f64().unwrap()) == inside)
            .map(|e| e["latency_ms"].as_f64().unwrap())
            .collect();
        latencies.iter().sum::<f64>() / latencies.len() as f64
    };
    assert!(mean(true) > 2.0 * mean(false));
    let steps = saturation["remediation"].to_string();
    assert!(
        steps.contains("llm itself slowed down") && steps.contains("nothing needs relieving now"),
        "{steps}"
    );
    // Every trace's two results were drained (as the runtime counted): none is blocked.
    assert_eq!(
        truth["results_drained"].as_u64(),
        truth["traces"].as_u64().map(|n| 2 * n)
    );
    for subcommand in ["saturation", "triage"] {
        let report = report_json(subcommand, &[&path]);
        let signals = report
            .pointer("/signals")
            .or(report.pointer("/saturation/signals"))
            .unwrap();
        assert!(
            !signals.to_string().contains("blocked_downstream"),
            "{subcommand}: {signals}"
        );
    }
}

/// The other side, on four captures whose hot node's queue was full until the log's end (the
/// FlowEvents' last full inbound reading within a second of it): none is called over, and
/// the checklist still asks to relieve it.
#[test]
fn a_bottleneck_still_pressed_at_the_end_is_not_called_over() {
    for name in [
        "third_llm_bound",
        "fourth_join_sink",
        "dep_timeouts",
        "third_dep_bound",
    ] {
        let path = log(name);
        let events = flow_events(&path);
        let saturation = report_json("saturation", &[&path]);
        let hot = saturation["hot_node"].as_str().unwrap().to_string();
        let end = events
            .iter()
            .filter_map(|e| e["ts"].as_f64())
            .fold(f64::MIN, f64::max);
        let last_full = events
            .iter()
            .filter(|e| e["node_name"] == hot.as_str())
            .filter(
                |e| match (e["q_depth_in"].as_f64(), e["queue_maxsize"].as_f64()) {
                    (Some(depth), Some(capacity)) => depth >= 0.8 * capacity,
                    _ => false,
                },
            )
            .filter_map(|e| e["ts"].as_f64())
            .fold(f64::MIN, f64::max);
        assert!(end - last_full < 1.0, "{name}: the capture's premise");
        assert_eq!(saturation["bottleneck"]["window"]["over"], false, "{name}");
        assert!(
            !saturation["remediation"]
                .to_string()
                .contains("nothing needs relieving now"),
            "{name}"
        );
    }
}

/// `twosinks`: a fan-out into two sinks, every result drained. A trace's last successes are
/// logged before the app fetches its results, so its pending count ends at its peak: that is
/// the egress, not something downstream that stopped draining.
#[test]
fn a_fan_out_into_sinks_whose_results_were_fetched_is_not_blocked() {
    let saturation = report_json("saturation", &[&log("twosinks")]);
    let signals = saturation["signals"].to_string();
    assert!(!signals.contains("blocked_downstream"), "{signals}");
}

/// `fifth_redeploy`: process 1 is stopped (`flow.stop()`) with 10 traces queued or running; a
/// new process (new node_ids) serves for 6 s. The runtime dropped those messages with process
/// 1: find says so, instead of "waiting its turn in score's queue" (a queue gone with it).
#[test]
fn a_message_left_in_a_stopped_runtime_is_dropped_not_waiting() {
    let truth = expected("fifth_redeploy");
    let lost = truth["lost_at_stop_with_events"].as_array().unwrap();
    assert_eq!(lost.len(), 10);
    let path = log("fifth_redeploy");
    for trace in lost {
        let text = find_text(trace.as_str().unwrap(), &path);
        assert!(
            text.contains("stopped at") && text.contains("not waiting")
                || text.contains("cancelled with its worker, not hanging"),
            "{trace}: {text}"
        );
        assert!(!text.contains("waiting its turn"), "{trace}: {text}");
    }
    // saturation: score was the bottleneck in process 1 until it stopped (when the runtime
    // says), not a pod beside an idle one ("look at what differs" would send the on-call to
    // a host that is gone).
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(saturation["hot_node"], "score");
    let window = &saturation["bottleneck"]["window"];
    let end = flow_events(&path)
        .iter()
        .filter_map(|e| e["ts"].as_f64())
        .fold(f64::MIN, f64::max);
    let stop = end - truth["stop_s_before_log_end"].as_f64().unwrap();
    assert!(
        (seconds(&window["stopped"]) - stop).abs() < 0.01,
        "{window}: the stop at {stop}"
    );
    assert_eq!(window["over"], true);
    let steps = saturation["remediation"].to_string();
    assert!(
        steps.contains("until that runtime stopped") && !steps.contains("what differs"),
        "{steps}"
    );
    // triage's worst traces: those waiting for score in process 1 are dropped, not waiting.
    let triage = report_json("triage", &[&path]);
    let lost_ids: Vec<&str> = lost.iter().map(|id| id.as_str().unwrap()).collect();
    let worst = triage["worst"].as_array().unwrap();
    assert!(!worst.is_empty());
    for worst in worst {
        assert!(
            lost_ids.contains(&worst["trace_id"].as_str().unwrap()),
            "{worst}"
        );
        assert!(
            (seconds(&worst["dropped_at"]) - stop).abs() < 0.01,
            "{worst}"
        );
    }
    // The new process served score after the stop: the message is not queued anywhere.
    let queued = find_text(lost[0].as_str().unwrap(), &path);
    assert!(
        queued.contains("another instance of score") && queued.contains("has served since"),
        "{queued}"
    );
}

/// `restart` (another topology, a -> b -> c): process 1 is stopped while b is mid-attempt for
/// one trace; its FlowEvents show that attempt's node_start and then b's node_cancelled for the
/// same node_id. find says the attempt was cancelled with its worker, not "a slow call".
#[test]
fn an_attempt_under_way_when_its_worker_stopped_was_cancelled_not_slow() {
    let path = log("restart");
    let events = flow_events(&path);
    let cancelled_at = |node_id: &Value| {
        events
            .iter()
            .find(|e| e["event"] == "node_cancelled" && e["node_id"] == *node_id)
            .and_then(|e| e["ts"].as_f64())
    };
    // The trace whose last event is a node_start in a worker that was cancelled after it.
    let (trace, start) = events
        .iter()
        .filter(|e| e["event"] == "node_start")
        .filter(|start| {
            !events.iter().any(|later| {
                later["trace_id"] == start["trace_id"]
                    && later["ts"].as_f64() > start["ts"].as_f64()
            })
        })
        .find_map(|start| {
            let at = cancelled_at(&start["node_id"])?;
            (at > start["ts"].as_f64()?).then(|| (start["trace_id"].clone(), start.clone()))
        })
        .expect("the capture's premise: an attempt under way at the stop");
    let text = find_text(trace.as_str().unwrap(), &path);
    assert!(
        text.contains(&format!(
            "{}'s attempt was under way in its node_id {}",
            start["node_name"].as_str().unwrap(),
            start["node_id"].as_str().unwrap()
        )) && text.contains("cancelled with its worker, not hanging"),
        "{text}"
    );
    assert!(!text.contains("a slow call"), "{text}");
}

/// `fifth_twoflows`: two flows in one process write one log, `ingest -> llm -> reply` (chat)
/// and `chunk -> llm -> store` (summarize); both have a node named `llm`, with two node_ids.
/// Summarize's llm is the capacity limit (its one inbound queue full, its worker 99.8% busy);
/// chat's never queues. The verdict names summarize's llm by its node_id, reads its queue
/// against its own inbound edge (not both flows' edges of the name), gives its own worker's
/// busy share, and does not tell chunk (which waits on it) to raise its queue.
#[test]
fn a_node_sharing_its_name_with_another_flows_is_judged_by_its_own_edges() {
    let truth = expected("fifth_twoflows");
    let hot = &truth["hot_node"];
    assert_eq!(hot["node"], "llm");
    let node_id = hot["node_id"].as_str().unwrap();
    assert_eq!(truth["llm_node_ids"]["summarize"], node_id);
    let chat_id = truth["llm_node_ids"]["chat"].as_str().unwrap();
    // The wired edges: each llm has one predecessor of its own flow.
    let feeders = |flow: &str| -> Vec<String> {
        truth["flows"][flow]
            .as_array()
            .unwrap()
            .iter()
            .filter(|edge| edge[1] == "llm")
            .map(|edge| edge[0].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(feeders("summarize"), vec!["chunk"]);
    assert_eq!(feeders("chat"), vec!["ingest"]);
    let pressure = |flow: &str, id: &str| &truth["pressure_by_node_id"][format!("{flow}:llm:{id}")];
    let hot_pressure = pressure("summarize", node_id);
    let chat_pressure = pressure("chat", chat_id);
    // The premise: one queue of summarize's llm full (80% of 6) in most readings, chat's never.
    assert!(hot_pressure["in_full_share_80pct"].as_f64().unwrap() > 0.5);
    assert_eq!(chat_pressure["in_full_share_80pct"], 0.0);

    let path = log("fifth_twoflows");
    let events = flow_events(&path);
    let ts = |e: &Value| e["ts"].as_f64().unwrap();
    let span = events.iter().map(ts).fold(f64::MIN, f64::max)
        - events.iter().map(ts).fold(f64::MAX, f64::min);
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(
        saturation["hot_node"], "llm",
        "{}",
        saturation["hot_node_reason"]
    );
    let bottleneck = &saturation["bottleneck"];
    assert_eq!(bottleneck["instance"], format!("node_id {node_id}"));
    assert!(
        (bottleneck["inbound_full_share"].as_f64().unwrap()
            - hot_pressure["in_full_share_80pct"].as_f64().unwrap())
        .abs()
            < 0.01,
        "{bottleneck}"
    );
    let shared = &bottleneck["shared_name"];
    assert_eq!(shared["fed_by"], serde_json::json!(feeders("summarize")));
    assert_eq!(shared["inbound_edges"], 1);
    assert_eq!(
        shared["others"][0]["fed_by"],
        serde_json::json!(feeders("chat"))
    );
    // Each worker's own busy share, as the runtime's latencies add up: not an average of
    // summarize's 100% with chat's idle worker.
    let busy = |pressure: &Value| pressure["busy_s"].as_f64().unwrap() / span;
    assert!(
        (shared["busy_share"].as_f64().unwrap() - busy(hot_pressure)).abs() < 0.02,
        "{shared}"
    );
    assert!(
        (shared["others"][0]["busy_share"].as_f64().unwrap() - busy(chat_pressure)).abs() < 0.02,
        "{shared}"
    );
    assert_eq!(bottleneck["backed_up"], serde_json::json!(["chunk"]));

    for subcommand in ["saturation", "triage"] {
        let report = report_json(subcommand, &[&path]);
        let saturation = report.get("saturation").unwrap_or(&report);
        assert_eq!(saturation["hot_node"], "llm", "{subcommand}");
        let steps = report["remediation"].to_string();
        assert!(
            steps.contains(&format!("Relieve the bottleneck llm in node_id {node_id}"))
                && steps.contains("the llm fed by chunk"),
            "{subcommand}: {steps}"
        );
        // chunk waits on llm: no step asks to raise its queue.
        assert!(
            !steps.contains("chunk is saturated") && !steps.contains("raise its queue_maxsize"),
            "{subcommand}: {steps}"
        );
    }
}

/// The other side, on a real join (`fanin6`: fetch -> {profile, orders} -> merge, queue_maxsize
/// 8, each of merge's two edge queues at most 6 of 8): one node_id fed by two predecessors is
/// one node, and its q_depth_in (the sum of both queues) is still read against both edges:
/// readings above one edge's level are not a full queue, and there is no bottleneck.
#[test]
fn a_joins_queue_is_still_read_against_all_its_inbound_edges() {
    let path = log("fanin6");
    let events = flow_events(&path);
    let merge: Vec<&Value> = events
        .iter()
        .filter(|e| e["node_name"] == "merge")
        .collect();
    let ids: std::collections::BTreeSet<&str> =
        merge.iter().filter_map(|e| e["node_id"].as_str()).collect();
    assert_eq!(ids.len(), 1);
    let share_at = |level: f64| {
        let readings: Vec<f64> = merge
            .iter()
            .filter_map(|e| e["q_depth_in"].as_f64())
            .collect();
        readings
            .iter()
            .filter(|q| **q >= level && **q > 0.0)
            .count() as f64
            / readings.len() as f64
    };
    let capacity = merge[0]["queue_maxsize"].as_f64().unwrap();
    // The premise: against one edge's capacity merge would look pressed; against both, never.
    assert!(share_at(0.8 * capacity) >= 0.2);
    assert_eq!(share_at(0.8 * capacity * 2.0), 0.0);

    let graph = report_json("graph", &[&path]);
    let inbound = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|edge| edge["to"] == "merge")
        .count();
    assert_eq!(inbound, 2, "{}", graph["edges"]);
    let saturation = report_json("saturation", &[&path]);
    assert!(
        saturation["hot_node"].is_null(),
        "{}",
        saturation["hot_node"]
    );
    let node = saturation["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_name"] == "merge")
        .unwrap();
    assert_eq!(node["inbound_full_share"], 0.0, "{node}");
    assert!(node.get("shared_name").is_none(), "{node}");
}

/// `sixth_cancelstorm` (a ctx.emit fan-out, plan -> search -> rank): search's backend is 5x
/// slower for 10 s and its queue fills then; the bottleneck is search, but "busy with real
/// work, add replicas" hid that it slowed down. The checklist says so, with its window.
#[test]
fn a_bottleneck_that_slowed_down_is_not_told_to_add_replicas() {
    let truth = expected("sixth_cancelstorm");
    let spell = truth["slow_spell_s_after_start"].as_array().unwrap();
    let full = &truth["search_inbound_full_80pct"];
    // The premise: the queue was full during the slow spell.
    assert!(full["first_s"].as_f64() >= spell[0].as_f64());
    let path = log("sixth_cancelstorm");
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(saturation["hot_node"], "search");
    let window = &saturation["bottleneck"]["window"];
    let start = seconds(&saturation["span"]["first_ts"]);
    assert!(
        (seconds(&window["first"]) - start - full["first_s"].as_f64().unwrap()).abs() < 0.005,
        "{window} against {full}"
    );
    for subcommand in ["saturation", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains("search (queue_maxsize 12), and it slowed down"),
            "{subcommand}: {steps}"
        );
        assert!(
            !steps.contains("busy with real work"),
            "{subcommand}: {steps}"
        );
    }
}
