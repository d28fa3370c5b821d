//! `flowtrace traces`: how long each trace in flight has made no progress (against the capture's
//! own FlowEvents), and the table on an 80-column terminal.

mod common;

use std::collections::HashMap;

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

/// Each row of a `traces` table: its trace id (a line starting with one) and the line.
fn id_lines(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|line| {
            let id = line.split(' ').next()?;
            (id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some((id, line))
        })
        .collect()
}

#[test]
fn on_an_80_column_terminal_the_table_fits_and_keeps_ids_and_statuses_whole() {
    for log in [
        "topologies/chain_incident/flat.jsonl",
        "topologies/chain_incident/kubectl_prefix.log",
        "incident/kubectl_prefix.log",
        "topologies/router/flat.jsonl",
    ] {
        let path = fixture_arg(log);
        let Some(text) = on_terminal(80, &["traces", &path, "--color", "never", "--quiet"]) else {
            eprintln!("skipped: no `script` to make a terminal");
            return;
        };
        for line in text.lines() {
            let columns = line.chars().count();
            assert!(columns <= 80, "{log}: {columns} columns: {line}");
        }
        let rows = report_json("traces", &[&path]);
        let status: HashMap<&str, &str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["trace_id"].as_str().unwrap(),
                    r["status"].as_str().unwrap(),
                )
            })
            .collect();
        let shown = id_lines(&text);
        // The terminal shows 50 rows: each is one trace whose id and status are whole.
        assert_eq!(shown.len(), status.len().min(50), "{log}:\n{text}");
        for (id, line) in shown {
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cells[1], status[id], "{log}: {line}");
        }
        assert!(text.contains("left out to fit 80 columns"), "{log}");
        if log == "incident/kubectl_prefix.log" {
            // The tenant column is left out: a cross-tenant trace keeps its mark.
            let cross = trace_of("cross_tenant");
            let line = text.lines().find(|l| l.starts_with(&cross)).unwrap();
            assert!(line.contains('⚠'), "{line}");
        }
    }

    // The hung attempt shows how long it has been running, not how long the trace took
    // before it hung.
    let path = fixture_arg("topologies/chain_incident/flat.jsonl");
    let text = on_terminal(80, &["traces", &path, "--color", "never", "--quiet"]).unwrap();
    let hung = text.lines().find(|l| l.starts_with("471e3506")).unwrap();
    assert!(
        hung.contains(" 1215 ") && hung.ends_with("llm start"),
        "{hung}"
    );

    // Piped, nothing is wrapped or left out.
    let output = flowtrace()
        .args(["traces", "--format", "table", &path])
        .output()
        .unwrap();
    let piped = String::from_utf8(output.stdout).unwrap();
    assert!(piped.lines().next().unwrap().contains("START (UTC)"));
    assert!(piped.lines().any(|line| line.chars().count() > 80));
    assert!(!piped.contains("left out"));
}

/// A listing long enough to be written in several runs of rows (made on two threads) is one
/// JSON array in the order asked for, each row where a shorter listing (one run) puts it.
#[test]
fn a_long_listing_is_one_array_in_order() {
    let log = fixture_arg("review/seventh_bigpayload.jsonl.gz");
    for sort in ["recent", "start", "duration"] {
        let all = report_json("traces", &[&log, "--sort", sort]);
        let all = all.as_array().unwrap();
        assert!(all.len() > 700, "{} rows: several runs of 256", all.len());
        let first = report_json("traces", &[&log, "--sort", sort, "--limit", "100"]);
        assert_eq!(first.as_array().unwrap()[..], all[..100], "--sort {sort}");
        let keys: Vec<f64> = all
            .iter()
            .map(|row| match sort {
                "recent" => -seconds(&row["last_ts"]),
                "start" => seconds(&row["first_ts"]),
                _ => -row["duration_ms"].as_f64().unwrap(),
            })
            .collect();
        assert!(
            keys.windows(2).all(|pair| pair[0] <= pair[1]),
            "--sort {sort}"
        );
        let ids: std::collections::HashSet<&str> = all
            .iter()
            .map(|row| row["trace_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), all.len(), "--sort {sort}: each trace once");
    }
}
