//! `flowtrace find` over the real captured run: every JSON field checked against what the run
//! really did (expected.json), the same answer from every shape, prefixes, and the table.

mod common;

use chrono::DateTime;
use common::*;
use serde_json::Value;

fn find_json(id: &str, source: &[&str]) -> Value {
    let output = flowtrace()
        .args(["find", id, "--format", "json", "--quiet"])
        .args(source)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "find {id}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn micros(rfc3339: &Value) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap())
        .unwrap()
        .timestamp_micros()
}

fn unix_micros(seconds: &Value) -> i64 {
    (seconds.as_f64().unwrap() * 1e6).round() as i64
}

#[test]
fn every_trace_matches_what_the_run_did() {
    let expected = incident_expected();
    let kubectl = fixture_arg("incident/kubectl_prefix_timestamps.log");
    for trace in expected["traces"].as_array().unwrap() {
        let id = trace["trace_id"].as_str().unwrap();
        let scenario = trace["scenario"].as_str().unwrap();
        let report = find_json(id, &[&kubectl]);
        let what = format!("{scenario} {id}");
        assert_eq!(report["trace_id"], id, "{what}");
        assert_eq!(report["status"], trace["status"], "{what}: status");
        assert_eq!(report["category"], trace["category"], "{what}: category");
        assert_eq!(report["events"], trace["events"], "{what}: events");
        if trace["tenant"].is_string() {
            assert_eq!(report["tenant"], trace["tenant"], "{what}: tenant");
        }
        for key in ["timeout", "error", "cancel", "deadline", "retry"] {
            assert_eq!(
                report["counts"][key], trace["counts"][key],
                "{what}: counts.{key}"
            );
        }
        assert_eq!(
            micros(&report["first_ts"]),
            unix_micros(&trace["first_ts"]),
            "{what}: first_ts"
        );
        assert_eq!(
            micros(&report["last_ts"]),
            unix_micros(&trace["last_ts"]),
            "{what}: last_ts"
        );
        let duration =
            (unix_micros(&trace["last_ts"]) - unix_micros(&trace["first_ts"])) as f64 / 1000.0;
        assert!(
            (report["duration_ms"].as_f64().unwrap() - duration).abs() < 0.002,
            "{what}: duration"
        );
        match trace["last_success"].as_object() {
            Some(last) => {
                assert_eq!(
                    report["last_success"]["node_name"], last["node_name"],
                    "{what}: last_success"
                );
                assert_eq!(
                    micros(&report["last_success"]["ts"]),
                    unix_micros(&last["ts"]),
                    "{what}: last_success.ts"
                );
                for key in [
                    "q_depth_in",
                    "q_depth_out",
                    "q_depth_total",
                    "queue_maxsize",
                    "latency_ms",
                    "node_id",
                ] {
                    assert!(
                        !report["last_success"][key].is_null(),
                        "{what}: last_success.{key}"
                    );
                }
            }
            None => assert!(report["last_success"].is_null(), "{what}: last_success"),
        }
        match trace["next_node"].as_str() {
            Some(next) => {
                assert_eq!(report["next"]["node_name"], next, "{what}: next");
                assert_eq!(
                    report["next"]["inferred"], trace["next_inferred"],
                    "{what}: next.inferred"
                );
            }
            None => assert!(report["next"].is_null(), "{what}: next"),
        }
        assert_eq!(
            report["timeline"].as_array().unwrap().len() as u64,
            trace["events"].as_u64().unwrap()
        );
        if trace["status"] == "succeeded" && trace["counts"]["retry"] == 0 {
            assert_eq!(
                report["remediation"],
                serde_json::json!([]),
                "{what}: nothing to do"
            );
        } else {
            assert!(
                !report["remediation"].as_array().unwrap().is_empty(),
                "{what}: remediation"
            );
        }
    }
}

#[test]
fn failures_say_what_went_wrong_at_the_next_node() {
    let kubectl = fixture_arg("incident/kubectl_prefix_timestamps.log");
    let timeout = find_json(&trace_of("timeout_failed"), &[&kubectl]);
    assert_eq!(timeout["next"]["event"], "node_failed");
    assert_eq!(timeout["next"]["attempts"], 3);
    assert_eq!(timeout["next"]["detail"], "NODE_TIMEOUT; TimeoutError");
    assert_eq!(timeout["next"]["inferred"], false);
    // The next node's depths are those of its last event of the trace (the node_failed).
    let failed = timeout["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "node_failed")
        .unwrap();
    for key in [
        "ts",
        "q_depth_in",
        "q_depth_out",
        "q_depth_total",
        "queue_maxsize",
    ] {
        assert_eq!(timeout["next"][key], failed[key], "next.{key}");
    }
    assert!(
        timeout["remediation"][0]
            .as_str()
            .unwrap()
            .contains("retrieve")
    );

    let error = find_json(&trace_of("error_failed"), &[&kubectl]);
    assert_eq!(error["next"]["event"], "node_failed");
    let detail = error["next"]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("NODE_EXCEPTION; ValueError: upstream rejected"),
        "{detail}"
    );
    assert!(
        !detail.contains("hunter2") && !detail.contains("sk-live"),
        "masked: {detail}"
    );
    assert!(
        error["remediation"][0]
            .as_str()
            .unwrap()
            .contains("ValueError")
    );

    let queued = find_json(&trace_of("in_flight_queued"), &[&kubectl]);
    assert_eq!(queued["next"]["inferred"], true);
    assert!(queued["next"]["event"].is_null());
    assert!(queued["next"]["share"].as_f64().unwrap() > 0.9);
    assert!(
        queued["next"]["q_depth_in"].is_i64(),
        "the queue depth of the inferred node"
    );
}

#[test]
fn the_same_trace_gives_the_same_answer_from_every_source() {
    let expected = incident_expected();
    let store = fixture_arg("incident/events.db");
    let sources: Vec<Vec<String>> = vec![
        vec![fixture_arg("incident/flat.jsonl")],
        vec![fixture_arg("incident/structured.jsonl")],
        vec![fixture_arg("incident/kubectl_prefix_timestamps.log")],
        vec!["--store".into(), store],
    ];
    let strip = |mut report: Value| {
        let object = report.as_object_mut().unwrap();
        object.remove("tenant");
        for event in object["timeline"].as_array_mut().unwrap() {
            *event = comparable(event, false);
        }
        report
    };
    for trace in expected["traces"].as_array().unwrap() {
        let id = trace["trace_id"].as_str().unwrap();
        let answers: Vec<Value> = sources
            .iter()
            .map(|source| {
                let args: Vec<&str> = source.iter().map(String::as_str).collect();
                strip(find_json(id, &args))
            })
            .collect();
        for (source, answer) in sources.iter().zip(&answers).skip(1) {
            assert_eq!(answer, &answers[0], "{id} from {source:?}");
        }
    }
}

#[test]
fn a_unique_prefix_finds_the_trace() {
    let id = trace_of("deadline");
    let report = find_json(&id[..6], &[&fixture_arg("incident/flat.jsonl")]);
    assert_eq!(report["trace_id"], id.as_str());
}

#[test]
fn an_ambiguous_prefix_lists_the_matching_ids() {
    let expected = incident_expected();
    let ids: Vec<&str> = expected["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    // The shortest prefix shared by two ids.
    let (prefix, matching) = (1..4)
        .flat_map(|len| ids.iter().map(move |id| &id[..len]))
        .find_map(|prefix| {
            let mut matching: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|id| id.starts_with(prefix))
                .collect();
            matching.sort();
            (matching.len() > 1).then_some((prefix.to_string(), matching))
        })
        .unwrap();
    flowtrace()
        .args(["find", &prefix, "--quiet"])
        .arg(fixture("incident/flat.jsonl"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "flowtrace: trace prefix {prefix} matches several traces: {}; give more of the id\n",
            matching.join(", ")
        ));
}

#[test]
fn an_unknown_trace_says_where_it_looked_and_what_looks_close() {
    let id = trace_of("cancelled");
    let typo = format!("{}zz", &id[..10]);
    flowtrace()
        .args(["find", &typo, "--quiet"])
        .arg(fixture("incident/flat.jsonl"))
        .arg(fixture("incident/structured.jsonl"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "flowtrace: no events for trace {typo} in 2 inputs (494 events read); ids that look close: {id}\n"
        ));
    flowtrace()
        .args(["find", "0000000000", "--quiet", "--store"])
        .arg(fixture("incident/events.db"))
        .assert()
        .code(1)
        .stderr("flowtrace: no events for trace 0000000000 in 1 input (247 events read)\n");
}

#[test]
fn the_noise_of_a_kubectl_log_is_only_counted() {
    let output = flowtrace()
        .args(["find", &trace_of("error_failed"), "--format", "table"])
        .arg(fixture("incident/kubectl_prefix_timestamps.log"))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "read 314 lines from 1 input: 247 events, 25 tenant lines, 42 skipped (41 not JSON, 1 malformed JSON)\n"
    );
}

fn table(scenario: &str, extra: &[&str]) -> String {
    let output = flowtrace()
        .args(["find", &trace_of(scenario), "--quiet", "--color", "never"])
        .args(extra)
        .arg(fixture("incident/kubectl_prefix_timestamps.log"))
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn table_failed_timeout() {
    insta::assert_snapshot!(table("timeout_failed", &[]));
}

#[test]
fn table_failed_error() {
    insta::assert_snapshot!(table("error_failed", &[]));
}

#[test]
fn table_cancelled() {
    insta::assert_snapshot!(table("cancel_drop", &[]));
}

#[test]
fn table_deadline() {
    insta::assert_snapshot!(table("deadline", &[]));
}

#[test]
fn table_in_flight_queued() {
    insta::assert_snapshot!(table("in_flight_queued", &[]));
}

#[test]
fn table_succeeded_after_a_retry_with_all_rows() {
    insta::assert_snapshot!(table("timeout_recovered", &["--all"]));
}

#[test]
fn markdown_is_an_incident_document_section() {
    let text = table("error_failed", &["--format", "markdown"]);
    assert!(text.starts_with(&format!(
        "### Trace `{}`: failed (error)",
        trace_of("error_failed")
    )));
    assert!(text.contains("#### Timeline"));
    assert!(text.contains("#### What to do"));
    assert!(!text.contains("hunter2"));
}

/// A big log whose first 20,000 lines are another flow: `find` parses only the sample and the
/// trace's own lines, and still gives the answer a full scan gives.
#[test]
fn the_prefilter_answers_like_a_full_scan() {
    let filler = std::fs::read_to_string(fixture("saturation/flat.jsonl")).unwrap();
    let incident = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let mut log = String::new();
    for copy in 0..52 {
        // Distinct trace ids per copy: replace the first two hex digits of each id.
        for line in filler.lines() {
            let value: Value = serde_json::from_str(line).unwrap();
            let line = match value["trace_id"].as_str() {
                Some(id) => line.replace(id, &format!("{copy:02x}{}", &id[2..])),
                None => line.to_string(),
            };
            log.push_str(&line);
            log.push('\n');
        }
    }
    assert!(log.lines().count() > 20_000);
    log.push_str(&incident);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    std::fs::write(&path, log).unwrap();
    let path = path.to_str().unwrap();

    for scenario in ["error_failed", "in_flight", "timeout_recovered"] {
        let id = trace_of(scenario);
        let fast = find_json(&id, &[path]);
        let full = find_json(&id, &[path, "--full-scan"]);
        for key in [
            "status",
            "category",
            "events",
            "counts",
            "last_success",
            "timeline",
        ] {
            assert_eq!(fast[key], full[key], "{scenario}: {key}");
        }
        // The next node is the same; what is measured against the rest of the input (the
        // time to its end, the p95 from the sample) is a lower bound, and says so.
        for key in ["node_name", "event", "attempts", "inferred", "q_depth_in"] {
            assert_eq!(
                fast["next"][key], full["next"][key],
                "{scenario}: next {key}"
            );
        }
        if !fast["next"].is_null() {
            assert_eq!(fast["next"]["measured_to_end"], false, "{scenario}");
            assert_eq!(full["next"]["measured_to_end"], true, "{scenario}");
            if let (Some(fast_idle), Some(full_idle)) = (
                fast["next"]["idle_ms"].as_f64(),
                full["next"]["idle_ms"].as_f64(),
            ) {
                assert!(
                    fast_idle <= full_idle,
                    "{scenario}: {fast_idle} > {full_idle}"
                );
            }
        }
    }
}

#[test]
fn a_store_answers_a_prefix_through_the_trace_index() {
    use flowtrace::source::store::{Store, StoreQuery};
    let store = Store::open(StoreQuery {
        path: fixture("incident/events.db"),
        table: "flow_events".into(),
        trace_prefix: Some("46a4".into()),
        sample_rows: 100,
        ..StoreQuery::default()
    })
    .unwrap();
    let plan = store.query_plan().unwrap();
    assert!(plan.contains("idx_events_trace_ts"), "{plan}");
}

#[test]
fn on_an_80_column_terminal_the_page_fits_and_keeps_times_nodes_and_events_whole() {
    let incident = fixture_arg("incident/kubectl_prefix_timestamps.log");
    let chain = fixture_arg("topologies/chain_incident/kubectl_prefix.log");
    let mut cases: Vec<(String, String)> = incident_expected()["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["trace_id"].as_str().unwrap().to_string(),
                incident.clone(),
            )
        })
        .collect();
    // A hanging attempt and its queue, where the capture ended.
    cases.push(("471e35060233420fa870b8463e391c00".into(), chain.clone()));
    for (id, log) in &cases {
        let Some(text) = on_terminal(80, &["find", id, log, "--color", "never", "--quiet"]) else {
            eprintln!("skipped: no `script` to make a terminal");
            return;
        };
        let all = on_terminal(
            80,
            &["find", id, log, "--all", "--color", "never", "--quiet"],
        );
        let all = all.unwrap();
        for line in text.lines().chain(all.lines()) {
            let columns = line.chars().count();
            assert!(columns <= 80, "{id}: {columns} columns: {line}");
        }
        // Every event is one row whose time, node and event are whole, in order.
        let report = find_json(id, &[log]);
        let rows: Vec<Vec<&str>> = all
            .lines()
            .filter(|line| {
                line.len() > 13
                    && line.as_bytes()[2] == b':'
                    && line.as_bytes()[8] == b'.'
                    && line.as_bytes()[12] == b' '
            })
            .map(|line| line.split_whitespace().collect())
            .collect();
        let timeline = report["timeline"].as_array().unwrap();
        assert_eq!(rows.len(), timeline.len(), "{id}:\n{all}");
        for (event, cells) in timeline.iter().zip(&rows) {
            let clock = DateTime::parse_from_rfc3339(event["ts"].as_str().unwrap())
                .unwrap()
                .format("%H:%M:%S%.3f")
                .to_string();
            assert_eq!(cells[0], clock, "{id}: {cells:?}");
            let node = event["node_name"].as_str().unwrap_or_default();
            let kind = event["event"].as_str().unwrap();
            let whole = if node.is_empty() {
                cells[1..3].contains(&kind)
            } else {
                cells.windows(2).take(3).any(|w| w == [node, kind])
            };
            assert!(whole, "{id}: {node} {kind} not whole in {cells:?}");
        }
        assert!(text.contains("left out to fit 80 columns"), "{id}:\n{text}");
    }
    // Piped, the page is not wrapped: the timeline keeps every column.
    let output = flowtrace()
        .args(["find", "471e35060233420fa870b8463e391c00", &chain])
        .output()
        .unwrap();
    let piped = String::from_utf8(output.stdout).unwrap();
    assert!(piped.contains("PEND/INFL  DETAIL"), "{piped}");
    assert!(piped.lines().any(|line| line.chars().count() > 80));
}
