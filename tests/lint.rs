//! `flowtrace lint` on the captured runs: the defects they really have (the error scenario's
//! fake credentials, the cross-tenant trace, the node_start share), with locations, never the
//! secret, and exit 4 to gate a deploy.

mod common;

use common::*;
use serde_json::Value;

fn lint(args: &[&str]) -> (Option<i32>, String, String) {
    let output = flowtrace().arg("lint").args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn finding<'a>(report: &'a Value, rule: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["rule"] == rule)
}

/// The credentials the capture put in the error scenario's exception.
const SECRETS: [&str; 3] = [
    "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "hunter2",
    "eyJhbGciOiJIUzI1NiJ9",
];

#[test]
fn the_captured_defects_are_found_with_locations_and_no_secret() {
    let expected = incident_expected();
    let log = fixture_arg("incident/flat.jsonl");
    let (status, stdout, stderr) = lint(&[&log, "--format", "json"]);
    assert_eq!(status, Some(4), "errors found: exit 4 ({stderr})");
    let report: Value = serde_json::from_str(&stdout).unwrap();

    // The cross-tenant trace, by id.
    let cross = finding(&report, "PF003").expect("cross-tenant finding");
    assert_eq!(cross["count"], 1);
    assert!(
        cross["examples"][0]
            .as_str()
            .unwrap()
            .starts_with(&trace_of("cross_tenant"))
    );

    // The secrets: every line of the error scenario's trace that carries its exception.
    let secret = finding(&report, "PF009").expect("secret finding");
    let failed = trace_of("error_failed");
    let text = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let holding: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(SECRETS[0]))
        .map(|(index, _)| index + 1)
        .collect();
    assert_eq!(secret["count"], holding.len());
    for example in secret["examples"].as_array().unwrap() {
        let line: usize = example
            .as_str()
            .unwrap()
            .rsplit_once(':')
            .unwrap()
            .1
            .parse()
            .unwrap();
        assert!(holding.contains(&line), "{example}");
        assert!(text.lines().nth(line - 1).unwrap().contains(&failed));
    }
    for value in SECRETS {
        assert!(!stdout.contains(value), "{value} shown");
    }

    // node_start's share of the lines, from the capture's own counts.
    let volume = finding(&report, "PF006").expect("node_start volume");
    let starts = expected["event_counts"]["node_start"].as_u64().unwrap();
    let total = expected["events_total"].as_u64().unwrap();
    assert_eq!(volume["count"], starts);
    let share = (starts as f64 / total as f64 * 100.0).round();
    assert!(
        volume["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{share:.0}% of the lines")),
        "{volume}"
    );
    // Nothing that is not there.
    for rule in ["PF001", "PF005", "PF012", "PF013"] {
        assert!(finding(&report, rule).is_none(), "{rule}");
    }
}

#[test]
fn the_store_is_linted_too_and_stderr_and_sarif_hold_no_secret() {
    let store = fixture_arg("incident/events.db");
    let (status, stdout, _) = lint(&["--store", &store, "--format", "sarif"]);
    assert_eq!(status, Some(4));
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let secret = results
        .iter()
        .find(|result| result["ruleId"] == "PF009")
        .expect("the store's secrets");
    assert_eq!(secret["level"], "error");
    let name = secret["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap();
    assert!(name.contains("events.db#"), "{name}");
    for value in SECRETS {
        assert!(!stdout.contains(value), "{value} shown");
    }
    // A log's findings point at files and lines.
    let (_, stdout, _) = lint(&[&fixture_arg("incident/flat.jsonl"), "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0];
    let located = location["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .is_some()
        || location["logicalLocations"].is_array();
    assert!(located, "{location}");
}

#[test]
fn a_clean_enough_log_passes_the_gate_it_is_given() {
    // The production capture has no secret, no cross-tenant trace and trace ids everywhere:
    // only the node_start share, a warning, which fails a warning gate and passes the default.
    let log = fixture_arg("production/flat.log.gz");
    let (status, stdout, _) = lint(&[&log, "--format", "json"]);
    assert_eq!(status, Some(0), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let severities: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert!(!severities.contains(&"error"), "{stdout}");
    let (status, _, _) = lint(&[&log, "--fail-on-severity", "warning"]);
    assert_eq!(
        status,
        Some(if severities.contains(&"warning") {
            4
        } else {
            0
        })
    );
}

#[test]
fn unstructured_lines_and_lost_events_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut text = String::new();
    // logging.basicConfig lines: the events, without a single field.
    for _ in 0..3 {
        text.push_str("INFO:penguiflow.core:node_success\n");
    }
    // The runtime's own report that events did not reach the store.
    text.push_str(
        r#"{"level": "ERROR", "logger": "penguiflow.core", "message": "state_store_save_failed", "event": "state_store_save_failed", "trace_id": "t1", "kind": "node_success", "exception": "OperationalError('database is locked')"}"#,
    );
    text.push('\n');
    text.push_str(&std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap());
    std::fs::write(&log, text).unwrap();
    let (status, stdout, _) = lint(&[log.to_str().unwrap(), "--format", "json"]);
    assert_eq!(status, Some(4));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(finding(&report, "PF012").expect("unstructured")["count"], 3);
    assert_eq!(finding(&report, "PF010").expect("lost events")["count"], 1);
}

#[test]
fn the_same_event_logged_twice_and_a_store_that_agrees() {
    // The core logger and the log_flow_events middleware of the same run: every event the
    // middleware logs (node_start, node_success, node_error) is there twice.
    let expected = incident_expected();
    let counts = &expected["event_counts"];
    let twice = ["node_start", "node_success", "node_error"]
        .iter()
        .map(|kind| counts[kind].as_u64().unwrap())
        .sum::<u64>();
    let (_, stdout, _) = lint(&[
        &fixture_arg("incident/flat.jsonl"),
        &fixture_arg("incident/middleware.jsonl"),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        finding(&report, "PF008").expect("duplicates")["count"],
        twice
    );
    // The store and the log of one run hold the same events: no mismatch.
    let (_, stdout, _) = lint(&[
        &fixture_arg("incident/flat.jsonl"),
        "--store",
        &fixture_arg("incident/events.db"),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(finding(&report, "PF011").is_none(), "{stdout}");
    assert!(
        finding(&report, "PF008").is_none(),
        "a store and a log are not a double log"
    );
}
