//! Bugs a review found, each pinned by the input that showed it.

mod common;

use common::*;

#[test]
fn one_stray_timestamp_does_not_explode_saturation_buckets() {
    // A line from 1970 before a real run used to build a dense series over 56 years.
    let run = std::fs::read_to_string(fixture("saturation/flat.jsonl")).unwrap();
    let log = format!(
        "{}\n{run}",
        r#"{"ts": 1, "event": "node_start", "node_name": "source", "trace_id": "s", "q_depth_total": 0}"#
    );
    for bucket in [None, Some("10s")] {
        let mut command = flowtrace();
        command.args(["saturation", "-q", "--format", "json"]);
        if let Some(bucket) = bucket {
            command.args(["--bucket", bucket]);
        }
        let output = command.write_stdin(log.clone()).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["hot_node"], "slowdb");
        let series = report["nodes"][0]["series"].as_array().unwrap().len();
        assert!(series <= 10_000, "{series} buckets");
    }
}

#[test]
fn a_store_row_of_the_wrong_type_is_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mixed.db");
    std::fs::copy(fixture("incident/events.db"), &db).unwrap();
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection
        .execute(
            "INSERT INTO flow_events (trace_id, ts, kind, event_fp) VALUES ('bad', 'yesterday', 'node_start', 'x')",
            [],
        )
        .unwrap();
    drop(connection);
    let output = flowtrace()
        .args(["events", "--format", "jsonl", "--store"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        parse_jsonl(&output.stdout).len(),
        247,
        "every good row is kept"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "read 248 rows from the store: 247 events, 1 skipped (1 unreadable store rows)"
        ),
        "{stderr}"
    );
}

#[test]
fn fail_on_sees_terminal_deadline_and_cancel_codes() {
    let lines = [
        r#"{"ts": 1795600000.0, "event": "node_start", "node_name": "a", "trace_id": "d1", "q_depth_in": 0, "attempt": 0}"#,
        r#"{"ts": 1795600000.1, "event": "node_failed", "node_name": "a", "trace_id": "d1", "q_depth_in": 0, "attempt": 0, "flow_error": {"code": "DEADLINE_EXCEEDED", "message": "late"}}"#,
        r#"{"ts": 1795600000.2, "event": "node_start", "node_name": "a", "trace_id": "c1", "q_depth_in": 0, "attempt": 0}"#,
        r#"{"ts": 1795600000.3, "event": "node_failed", "node_name": "a", "trace_id": "c1", "q_depth_in": 0, "attempt": 0, "flow_error": {"code": "TRACE_CANCELLED", "message": "gone"}}"#,
    ];
    let log = lines.join("\n");
    flowtrace()
        .args(["classify", "-q", "--fail-on", "deadline"])
        .write_stdin(log.clone())
        .assert()
        .code(3);
    let report = flowtrace()
        .args(["classify", "-q", "--format", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["categories"]["deadline"]["terminal"], 1);
    assert_eq!(report["categories"]["cancel"]["terminal"], 1);
}

#[test]
fn node_and_kind_filters_do_not_change_trace_statuses() {
    let file = fixture_arg("incident/flat.jsonl");
    // find judges the trace on all its events; --kind only narrows the timeline.
    let report = report_json(
        "find",
        &[&trace_of("timeout_failed"), &file, "--kind", "node_timeout"],
    );
    assert_eq!(report["status"], "failed");
    assert_eq!(report["category"], "timeout");
    let timeline = report["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 3);
    assert!(timeline.iter().all(|e| e["event"] == "node_timeout"));
    // traces --node lists the traces that reached the node, with their real statuses.
    let rows = report_json("traces", &[&file, "--node", "retrieve"]);
    let expected = incident_expected();
    for row in rows.as_array().unwrap() {
        let trace = expected["traces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["trace_id"] == row["trace_id"])
            .unwrap();
        assert_eq!(row["status"], trace["status"], "{}", trace["scenario"]);
    }
    // classify --kind counts those events, over the traces that have one, statuses intact.
    let classify = report_json("classify", &[&file, "--kind", "node_error"]);
    assert_eq!(classify["statuses"]["in_flight"], 0);
    assert_eq!(classify["categories"]["error"]["events"], 6);
}

#[test]
fn an_input_more_out_of_order_than_the_window_is_reported() {
    // Two halves of a log swapped, as `cat pod-b.log pod-a.log` gives.
    let text = std::fs::read_to_string(fixture("saturation/flat.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut swapped = lines[200..].to_vec();
    swapped.extend_from_slice(&lines[..200]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("swapped.log");
    // Pad with copies of the later half so the displacement exceeds the 1,024-record window.
    let mut body = String::new();
    for round in 0..6 {
        for line in &swapped[..swapped.len() - 200] {
            body.push_str(&line.replace("\"trace_id\": \"", &format!("\"trace_id\": \"r{round}")));
            body.push('\n');
        }
    }
    for line in &swapped[swapped.len() - 200..] {
        body.push_str(line);
        body.push('\n');
    }
    std::fs::write(&path, body).unwrap();
    let output = flowtrace()
        .args(["events", "--format", "jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("out of time order"), "{stderr}");
}

#[test]
fn store_and_log_agree_at_exact_time_bounds() {
    let first = events_jsonl(&[&fixture_arg("incident/flat.jsonl")])[0]["ts"]
        .as_str()
        .unwrap()
        .to_string();
    let from_log = events_jsonl(&[
        &fixture_arg("incident/flat.jsonl"),
        "--since",
        &first,
        "--until",
        &first,
    ]);
    let from_store = events_jsonl(&[
        "--store",
        &fixture_arg("incident/events.db"),
        "--since",
        &first,
        "--until",
        &first,
    ]);
    assert_eq!(from_log.len(), 1);
    assert_eq!(from_store.len(), 1);
}
