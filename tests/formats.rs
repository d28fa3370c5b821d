//! Output formats of `events`: the JSON contract, CSV, Markdown, the table (snapshot), color
//! and secret masking.

mod common;

use common::*;
use serde_json::Value;

const SECRETS: [&str; 3] = [
    "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "hunter2",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9",
];

fn run(args: &[&str]) -> String {
    let output = flowtrace()
        .arg("events")
        .arg("-q")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_json_event_form_uses_the_payload_field_names() {
    let trace = trace_of("timeout_failed");
    let file = fixture_arg("incident/structured.jsonl");
    let array: Vec<Value> =
        serde_json::from_str(&run(&[&file, "--trace", &trace, "--format", "json"])).unwrap();
    let lines = events_jsonl(&[&file, "--trace", &trace]);
    assert_eq!(array, lines);
    let failed = array.iter().find(|e| e["event"] == "node_failed").unwrap();
    let mut keys: Vec<&str> = failed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    let mut wanted = [
        "ts",
        "event",
        "trace_id",
        "tenant",
        "node_name",
        "node_id",
        "attempt",
        "latency_ms",
        "q_depth_in",
        "q_depth_out",
        "q_depth_total",
        "queue_maxsize",
        "outgoing",
        "trace_pending",
        "trace_inflight",
        "trace_cancelled",
        "pod",
        "container",
        "exception",
        "flow_error",
        "source",
    ];
    wanted.sort();
    assert_eq!(keys, wanted);
    // ts: RFC 3339 UTC with microseconds
    let ts = failed["ts"].as_str().unwrap();
    assert_eq!(ts.len(), "2026-11-25T08:53:31.627742Z".len());
    assert!(ts.ends_with('Z'));
    assert_eq!(failed["node_name"], "retrieve");
    assert_eq!(failed["tenant"], "globex");
    assert_eq!(failed["flow_error"]["code"], "NODE_TIMEOUT");
    assert_eq!(failed["flow_error"]["exception_type"], "TimeoutError");
    assert!(failed["attempt"].is_i64());
    assert!(failed["latency_ms"].as_f64().unwrap() > 50.0);
    let retry = array.iter().find(|e| e["event"] == "node_retry").unwrap();
    assert!(retry["sleep_s"].as_f64().unwrap() > 0.0);
    assert!(retry["latency_ms"].is_null());
    // Empty selections are still valid JSON (a time range with no event; a trace id no event
    // carries is an error instead).
    assert_eq!(
        run(&[&file, "--until", "2000-01-01", "--format", "json"]),
        "[]\n"
    );
}

#[test]
fn deadline_and_cancel_fields() {
    let file = fixture_arg("incident/flat.jsonl");
    let skip = events_jsonl(&[&file, "--kind", "deadline_skip"]);
    assert_eq!(skip.len(), 1);
    assert!(skip[0]["deadline_s"].as_f64().unwrap() > 1.7e9);
    let cancelled = events_jsonl(&[&file, "--trace", &trace_of("cancelled")]);
    assert!(
        cancelled
            .iter()
            .any(|e| e["event"] == "trace_cancel_start" && e["node_name"] == "OpenSea")
    );
    let finish = cancelled
        .iter()
        .find(|e| e["event"] == "trace_cancel_finish")
        .unwrap();
    assert_eq!(finish["node_name"], "Rookery");
    assert_eq!(finish["trace_pending"], 0);
}

#[test]
fn csv_has_a_header_and_one_record_per_event() {
    let trace = trace_of("error_failed");
    let text = run(&[
        &fixture_arg("incident/flat.jsonl"),
        "--trace",
        &trace,
        "--format",
        "csv",
    ]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers[..3], ["ts", "event", "trace_id"]);
    assert!(headers.contains(&"flow_error_code".to_string()));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 15);
    let code = headers.iter().position(|h| h == "flow_error_code").unwrap();
    assert_eq!(&records[14][1], "node_failed");
    assert_eq!(&records[14][code], "NODE_EXCEPTION");
    // No events: the header alone.
    let empty = run(&[
        &fixture_arg("incident/flat.jsonl"),
        "--until",
        "2000-01-01",
        "--format",
        "csv",
    ]);
    assert_eq!(empty.lines().count(), 1);
}

#[test]
fn markdown_is_a_table_with_one_row_per_event() {
    let trace = trace_of("deadline");
    let text = run(&[
        &fixture_arg("incident/flat.jsonl"),
        "--trace",
        &trace,
        "--format",
        "markdown",
    ]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("| TIME (UTC) | TRACE |"));
    assert!(lines[1].starts_with("| --- | --- |"));
    assert!(lines[2].contains("| deadline_skip |"));
    assert!(lines[2].contains("deadline passed"));
}

#[test]
fn table_of_a_failed_trace() {
    let trace = trace_of("error_failed");
    let text = run(&[
        &fixture_arg("incident/kubectl_prefix_timestamps.log"),
        "--trace",
        &trace,
        "--format",
        "table",
        "--color",
        "never",
    ]);
    insta::assert_snapshot!(text);
}

#[test]
fn color_only_when_asked_or_on_a_terminal() {
    let trace = trace_of("error_failed");
    let file = fixture_arg("incident/flat.jsonl");
    let colored = run(&[
        &file, "--trace", &trace, "--format", "table", "--color", "always",
    ]);
    assert!(colored.contains("\u{1b}[31m"), "node_error in red");
    let piped = run(&[&file, "--trace", &trace, "--format", "table"]);
    assert!(!piped.contains('\u{1b}'));
    let output = flowtrace()
        .env("NO_COLOR", "1")
        .args(["events", "-q", "--format", "table", &file])
        .output()
        .unwrap();
    assert!(!String::from_utf8(output.stdout).unwrap().contains('\u{1b}'));
}

#[test]
fn secrets_are_masked_in_every_format_unless_no_redact() {
    let trace = trace_of("error_failed");
    for shape in [
        "incident/structured.jsonl",
        "incident/kubectl_prefix.log",
        "incident/events.db",
    ] {
        let source: Vec<String> = if shape.ends_with(".db") {
            vec!["--store".into(), fixture_arg(shape)]
        } else {
            vec![fixture_arg(shape)]
        };
        for format in ["table", "jsonl", "json", "csv", "markdown"] {
            let mut args: Vec<&str> = source.iter().map(String::as_str).collect();
            args.extend(["--trace", &trace, "--format", format]);
            let text = run(&args);
            for secret in SECRETS {
                assert!(!text.contains(secret), "{shape} {format} leaks {secret}");
            }
            assert!(
                text.contains("upstream rejected"),
                "{shape} {format}: evidence kept"
            );
        }
    }
    let text = run(&[
        &fixture_arg("incident/flat.jsonl"),
        "--trace",
        &trace,
        "--no-redact",
    ]);
    for secret in SECRETS {
        assert!(text.contains(secret), "--no-redact shows {secret}");
    }
}
