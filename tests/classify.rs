//! `flowtrace classify` over the real captured run: every number checked against the capture
//! script's own count of the run's FlowEvents (expected.json "classify").

mod common;

use chrono::DateTime;
use common::*;
use serde_json::Value;

fn classify_json(args: &[&str]) -> Value {
    report_json("classify", args)
}

fn micros(value: &Value) -> i64 {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .timestamp_micros()
}

fn expected() -> Value {
    incident_expected()["classify"].clone()
}

#[test]
fn categories_retries_and_statuses_match_the_run() {
    let want = expected();
    for source in [
        vec![fixture_arg("incident/kubectl_prefix_timestamps.log")],
        vec!["--store".to_string(), fixture_arg("incident/events.db")],
    ] {
        let args: Vec<&str> = source.iter().map(String::as_str).collect();
        let report = classify_json(&args);
        for category in ["timeout", "error", "cancel", "deadline"] {
            let got = &report["categories"][category];
            let want = &want["categories"][category];
            for key in ["events", "traces", "terminal", "recovered"] {
                assert_eq!(got[key], want[key], "{source:?} {category}.{key}");
            }
            assert_eq!(
                micros(&got["first_ts"]),
                (want["first_ts"].as_f64().unwrap() * 1e6).round() as i64
            );
            assert_eq!(
                micros(&got["last_ts"]),
                (want["last_ts"].as_f64().unwrap() * 1e6).round() as i64
            );
        }
        assert_eq!(report["retries"]["events"], want["retries"]["events"]);
        let rate = report["retries"]["rate"].as_f64().unwrap();
        assert!((rate - want["retries"]["rate"].as_f64().unwrap()).abs() < 1e-9);
        assert_eq!(report["statuses"], want["statuses"], "{source:?}");
        assert_eq!(report["traces"], 24);
    }
}

fn groups_by(report: &Value) -> serde_json::Map<String, Value> {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| {
            let mut counts = group.as_object().unwrap().clone();
            let key = counts.remove("key").unwrap().as_str().unwrap().to_string();
            (key, Value::Object(counts))
        })
        .collect()
}

#[test]
fn groups_by_node_tenant_and_kind_match_the_run() {
    let want = expected();
    // Tenants come from the ingress lines: use the structured log, where the cross-tenant
    // trace takes its first tenant as the capture script does.
    let file = fixture_arg("incident/structured.jsonl");
    for by in ["node", "tenant", "kind"] {
        let report = classify_json(&[&file, "--by", by]);
        assert_eq!(report["by"], by);
        let got = groups_by(&report);
        let wanted = want["groups"][by].as_object().unwrap();
        assert_eq!(&got, wanted, "--by {by}");
    }
}

#[test]
fn groups_are_sorted_by_terminal_failures_then_events() {
    let report = classify_json(&[&fixture_arg("incident/flat.jsonl")]);
    let groups = report["groups"].as_array().unwrap();
    let key = |g: &Value| {
        let n = |k: &str| g[k].as_u64().unwrap();
        (
            n("terminal"),
            n("timeout") + n("error") + n("cancel") + n("deadline"),
        )
    };
    for pair in groups.windows(2) {
        assert!(
            key(&pair[0]) >= key(&pair[1]),
            "{} before {}",
            pair[0]["key"],
            pair[1]["key"]
        );
    }
    assert_eq!(groups[0]["key"], "enrich");
}

#[test]
fn a_time_series_adds_up_to_the_totals() {
    let want = expected();
    let report = classify_json(&[&fixture_arg("incident/flat.jsonl"), "--by", "minute"]);
    assert_eq!(report["bucket_s"], 60);
    let groups = report["groups"].as_array().unwrap();
    assert!(!groups.is_empty());
    for category in ["timeout", "error", "cancel", "deadline"] {
        let sum: u64 = groups.iter().map(|g| g[category].as_u64().unwrap()).sum();
        assert_eq!(
            sum,
            want["categories"][category]["events"].as_u64().unwrap(),
            "{category}"
        );
    }
    // Buckets are consecutive minutes.
    for pair in groups.windows(2) {
        assert_eq!(
            micros(&pair[1]["key"]) - micros(&pair[0]["key"]),
            60_000_000
        );
    }
}

#[test]
fn exceptions_by_type_with_their_nodes() {
    let want = expected();
    let report = classify_json(&[&fixture_arg("incident/flat.jsonl")]);
    let exceptions = report["exceptions"].as_array().unwrap();
    assert_eq!(
        exceptions.len(),
        want["exceptions"].as_object().unwrap().len()
    );
    for exception in exceptions {
        let name = exception["type"].as_str().unwrap();
        assert_eq!(
            exception["count"], want["exceptions"][name]["count"],
            "{name}"
        );
        assert_eq!(
            exception["nodes"], want["exceptions"][name]["nodes"],
            "{name}"
        );
        assert!(
            exception.get("message").is_none(),
            "no message unless --messages"
        );
        assert!(micros(&exception["first_ts"]) <= micros(&exception["last_ts"]));
    }
    let counts: Vec<u64> = exceptions
        .iter()
        .map(|e| e["count"].as_u64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|pair| pair[0] >= pair[1]),
        "most frequent first"
    );

    let with_messages = classify_json(&[&fixture_arg("incident/flat.jsonl"), "--messages"]);
    let value_error = with_messages["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ValueError")
        .unwrap();
    let message = value_error["message"].as_str().unwrap();
    assert!(message.starts_with("upstream rejected"), "{message}");
    assert!(
        !message.contains("hunter2") && !message.contains("sk-live"),
        "masked: {message}"
    );
}

#[test]
fn remediation_speaks_only_of_what_happened_naming_nodes() {
    let report = classify_json(&[&fixture_arg("incident/flat.jsonl")]);
    let sections = report["remediation"].as_array().unwrap();
    let categories: Vec<&str> = sections
        .iter()
        .map(|s| s["category"].as_str().unwrap())
        .collect();
    for category in ["timeout", "error", "cancel", "deadline"] {
        assert!(
            categories.contains(&category),
            "{category} missing: {categories:?}"
        );
    }
    let text = |category: &str| {
        sections.iter().find(|s| s["category"] == category).unwrap()["steps"].to_string()
    };
    assert!(text("timeout").contains("retrieve"));
    assert!(text("error").contains("ValueError at enrich"));
    assert!(text("deadline").contains("ingest"));
    assert!(text("deadline").contains("p95 end-to-end"));

    // The saturation run had no error, cancel or deadline: no text for them.
    let quiet = classify_json(&[&fixture_arg("saturation/flat.jsonl")]);
    let categories: Vec<&str> = quiet["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["category"].as_str().unwrap())
        .collect();
    assert!(
        !categories.contains(&"error") && !categories.contains(&"deadline"),
        "{categories:?}"
    );
}

#[test]
fn a_tenant_filter_keeps_other_tenants_out_of_every_format() {
    let want = expected();
    let file = fixture_arg("incident/structured.jsonl");
    let report = classify_json(&[&file, "--tenant", "acme", "--messages"]);
    let acme = &want["groups"]["tenant"]["acme"];
    for category in ["timeout", "error", "cancel", "deadline"] {
        assert_eq!(
            report["categories"][category]["events"], acme[category],
            "{category}"
        );
    }
    let acme_traces = incident_expected()["traces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["tenant"] == "acme" || t["scenario"] == "cross_tenant")
        .count();
    assert_eq!(report["traces"], acme_traces);
    // The ValueError (initech) and the timeouts (globex, initech) are other tenants' failures.
    for format in ["json", "table", "markdown"] {
        let output = flowtrace()
            .args([
                "classify",
                "--quiet",
                "--tenant",
                "acme",
                "--messages",
                "--format",
                format,
                &file,
            ])
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        for foreign in [
            "ValueError",
            "TimeoutError",
            "upstream rejected",
            "globex",
            "initech",
        ] {
            assert!(!text.contains(foreign), "{format} shows {foreign}");
        }
        assert!(
            text.contains("ConnectionResetError"),
            "{format}: acme's own failures are there"
        );
    }
}

#[test]
fn fail_on_sets_exit_status_3_only_for_categories_that_occurred() {
    let incident = fixture_arg("incident/flat.jsonl");
    flowtrace()
        .args(["classify", "-q", "--fail-on", "timeout", &incident])
        .assert()
        .code(3);
    flowtrace()
        .args(["classify", "-q", "--fail-on", "deadline,error", &incident])
        .assert()
        .code(3);
    let saturation = fixture_arg("saturation/flat.jsonl");
    flowtrace()
        .args(["classify", "-q", "--fail-on", "error,deadline", &saturation])
        .assert()
        .code(0);
    flowtrace()
        .args(["classify", "-q", &incident])
        .assert()
        .code(0);
    flowtrace()
        .args(["classify", "-q", "--fail-on", "oops", &incident])
        .assert()
        .code(2);
}

fn table(args: &[&str]) -> String {
    let output = flowtrace()
        .args(["classify", "--quiet", "--color", "never"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn table_by_node() {
    insta::assert_snapshot!(table(&[&fixture_arg(
        "incident/kubectl_prefix_timestamps.log"
    )]));
}

#[test]
fn table_by_minute_with_messages() {
    insta::assert_snapshot!(table(&[
        &fixture_arg("incident/flat.jsonl"),
        "--by",
        "minute",
        "--messages"
    ]));
}

#[test]
fn markdown_is_an_incident_document_section() {
    let text = table(&[&fixture_arg("incident/flat.jsonl"), "--format", "markdown"]);
    assert!(text.starts_with("### Failures by category"));
    assert!(text.contains("| timeout | 4 |"));
    assert!(text.contains("#### What to do"));
}
