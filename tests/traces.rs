//! `flowtrace traces`: how long each trace in flight has made no progress, against the capture's
//! own FlowEvents.

mod common;

use chrono::DateTime;
use common::*;
use serde_json::Value;

fn seconds(rfc3339: &Value) -> f64 {
    DateTime::parse_from_rfc3339(rfc3339.as_str().unwrap())
        .unwrap()
        .timestamp_micros() as f64
        / 1e6
}

#[test]
fn a_trace_in_flight_says_how_long_it_has_made_no_progress() {
    // The capture ends with one llm attempt hanging and traces waiting in llm's queue: their
    // `duration_ms` ends at their last event, `idle_ms` runs to the end of the input.
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("topologies/chain_incident/expected.json")).unwrap(),
    )
    .unwrap();
    let end = expected["end_ts"].as_f64().unwrap();
    let rows = report_json(
        "traces",
        &[&fixture_arg("topologies/chain_incident/flat.jsonl")],
    );
    let mut hanging = 0;
    for row in rows.as_array().unwrap() {
        let id = row["trace_id"].as_str().unwrap();
        if row["status"] != "in_flight" {
            assert!(row["idle_ms"].is_null(), "{id}: {row}");
            continue;
        }
        let idle = row["idle_ms"].as_f64().unwrap();
        let want = (end - seconds(&row["last_ts"])) * 1000.0;
        assert!((idle - want).abs() < 0.01, "{id}: idle {idle}, want {want}");
        if let Some(running) = expected["trace_expected"][id]["hanging_attempt_ms"].as_f64() {
            hanging += 1;
            assert_eq!(row["last_event"], "node_start", "{id}");
            assert!((idle - running).abs() < 0.01, "{id}: {idle} vs {running}");
        }
    }
    assert_eq!(hanging, 1);
}
