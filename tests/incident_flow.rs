//! `traces`, `graph` and `triage` over the real captured mixed-incident run.

mod common;

use common::*;
use serde_json::Value;

fn run_json(args: &[&str]) -> Value {
    let output = flowtrace().args(args).args(["--quiet"]).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn run_text(args: &[&str]) -> String {
    let output = flowtrace()
        .args(args)
        .args(["--quiet", "--color", "never"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn traces_list_every_trace_with_the_status_the_run_had() {
    let expected = incident_expected();
    let rows = run_json(&[
        "traces",
        "--format",
        "json",
        &fixture_arg("incident/structured.jsonl"),
    ]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), expected["traces"].as_array().unwrap().len());
    for trace in expected["traces"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r["trace_id"] == trace["trace_id"])
            .unwrap();
        let what = trace["scenario"].as_str().unwrap();
        assert_eq!(row["status"], trace["status"], "{what}");
        assert_eq!(row["category"], trace["category"], "{what}");
        assert_eq!(row["events"], trace["events"], "{what}");
        assert_eq!(row["retries"], trace["counts"]["retry"], "{what}");
        for key in [
            "trace_id",
            "tenant",
            "status",
            "category",
            "first_ts",
            "last_ts",
            "duration_ms",
            "events",
            "retries",
            "last_node",
            "last_event",
        ] {
            assert!(row.get(key).is_some(), "{what}: {key}");
        }
        assert_eq!(row["cross_tenant"], what == "cross_tenant", "{what}");
    }
    // Most recent first by default.
    let last: Vec<&str> = rows
        .iter()
        .map(|r| r["last_ts"].as_str().unwrap())
        .collect();
    assert!(last.windows(2).all(|pair| pair[0] >= pair[1]));
}

#[test]
fn traces_filter_sort_and_limit() {
    let file = fixture_arg("incident/flat.jsonl");
    let rows = run_json(&[
        "traces",
        "--format",
        "json",
        "--status",
        "failed,in_flight",
        &file,
    ]);
    let statuses: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4);
    assert!(statuses.iter().all(|s| *s == "failed" || *s == "in_flight"));

    let timeouts = run_json(&["traces", "--format", "json", "--category", "timeout", &file]);
    let ids: Vec<&str> = timeouts
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [trace_of("timeout_failed").as_str()]);

    let longest = run_json(&[
        "traces", "--format", "json", "--sort", "duration", "--limit", "3", &file,
    ]);
    let durations: Vec<f64> = longest
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["duration_ms"].as_f64().unwrap())
        .collect();
    assert_eq!(durations.len(), 3);
    assert!(durations.windows(2).all(|pair| pair[0] >= pair[1]));

    let most_retries = run_json(&[
        "traces", "--format", "json", "--sort", "retries", "--limit", "1", &file,
    ]);
    assert_eq!(most_retries[0]["retries"], 2);
}

#[test]
fn cross_tenant_traces_are_marked_and_counted() {
    let text = run_text(&[
        "traces",
        "--format",
        "table",
        &fixture_arg("incident/structured.jsonl"),
    ]);
    let cross = trace_of("cross_tenant");
    let line = text.lines().find(|l| l.starts_with(&cross)).unwrap();
    assert!(line.contains("acme+globex ⚠"), "{line}");
    let footer = text.lines().last().unwrap();
    assert!(
        footer.contains("1 trace with more than one tenant"),
        "{footer}"
    );
    assert!(footer.starts_with(
        "24 traces: 16 succeeded, 2 failed, 3 cancelled, 1 deadline_skipped, 2 in_flight"
    ));
}

#[test]
fn graph_json_has_the_flow_the_run_built() {
    let expected = incident_expected();
    let graph = run_json(&[
        "graph",
        "--format",
        "json",
        &fixture_arg("incident/kubectl_prefix.log"),
    ]);
    let edges = learned_edges(&graph);
    let wanted = wired_edges(&expected);
    assert_eq!(edges, wanted);
    let node = |name: &str| {
        graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node_name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(node("OpenSea")["role"], "ingress");
    assert_eq!(node("Rookery")["role"], "egress");
    for name in ["ingest", "retrieve", "enrich", "respond", "audit"] {
        let n = node(name);
        for key in ["successes", "failures", "p95_ms"] {
            assert!(!n[key].is_null(), "{name}.{key}");
        }
    }
    // retrieve timed out for good once, enrich raised for good once: both shown failing.
    assert_eq!(node("retrieve")["failing"], true);
    assert_eq!(node("enrich")["failing"], true);
    assert_eq!(node("audit")["failing"], false);
}

/// A structural check of Mermaid `flowchart` syntax: the header, node definitions with
/// sanitized ids and quoted labels, edges between defined ids, class statements.
fn assert_valid_mermaid(text: &str) {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut defined: Vec<String> = Vec::new();
    for line in lines {
        let line = line.trim();
        let id_end = line
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(line.len());
        let id = &line[..id_end];
        let rest = &line[id_end..];
        if let Some(label) = rest
            .strip_prefix("([\"")
            .and_then(|r| r.strip_suffix("\"])"))
        {
            assert!(!label.contains('"'), "unescaped quote: {line}");
            defined.push(id.to_string());
        } else if let Some(label) = rest.strip_prefix("[\"").and_then(|r| r.strip_suffix("\"]")) {
            assert!(!label.contains('"'), "unescaped quote: {line}");
            defined.push(id.to_string());
        } else if let Some(edge) = rest.strip_prefix(" -->|") {
            let (count, target) = edge.split_once("| ").unwrap();
            assert!(count.parse::<u64>().is_ok(), "{line}");
            assert!(
                defined.contains(&id.to_string()) && defined.contains(&target.to_string()),
                "{line}"
            );
        } else if line.starts_with("classDef ") {
        } else if let Some(class) = line.strip_prefix("class ") {
            let (target, name) = class.split_once(' ').unwrap();
            assert!(defined.contains(&target.to_string()), "{line}");
            assert!(name == "failing" || name == "saturated", "{line}");
        } else {
            panic!("not a flowchart statement: {line}");
        }
        if !line.starts_with("class") {
            assert!(
                id.starts_with('n') && id[1..].parse::<u32>().is_ok(),
                "sanitized id: {line}"
            );
        }
    }
    assert!(!defined.is_empty());
}

#[test]
fn mermaid_is_a_valid_flowchart() {
    let text = run_text(&[
        "graph",
        "--format",
        "mermaid",
        &fixture_arg("incident/flat.jsonl"),
    ]);
    assert_valid_mermaid(&text);
    insta::assert_snapshot!("mermaid", text);
}

#[test]
fn mermaid_escapes_awkward_node_names() {
    // A node name with quotes and angle brackets (hand-made: bad input for the renderer).
    let line = r#"{"ts": 1764000000.0, "event": "node_start", "node_name": "say \"hi\" <b>", "trace_id": "t1", "q_depth_in": 0}"#;
    let success = r#"{"ts": 1764000000.1, "event": "node_success", "node_name": "say \"hi\" <b>", "trace_id": "t1", "q_depth_in": 0, "latency_ms": 1.0}"#;
    let output = flowtrace()
        .args(["graph", "--format", "mermaid", "-q"])
        .write_stdin(format!("{line}\n{success}\n"))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_valid_mermaid(&text);
    assert!(text.contains("say #quot;hi#quot; #lt;b#gt;"), "{text}");
}

#[test]
fn dot_output() {
    let text = run_text(&[
        "graph",
        "--format",
        "dot",
        &fixture_arg("saturation/flat.jsonl"),
    ]);
    insta::assert_snapshot!("dot", text);
}

#[test]
fn text_tree() {
    let text = run_text(&["graph", &fixture_arg("incident/flat.jsonl")]);
    insta::assert_snapshot!("tree", text);
}

#[test]
fn triage_reads_stdin_once_and_nests_every_contract() {
    let log = std::fs::read(fixture("incident/kubectl_prefix_timestamps.log")).unwrap();
    let output = flowtrace()
        .args(["triage", "--format", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    assert!(output.status.success());
    // Read once: the summary counts each line of the input exactly once.
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("read 314 lines from 1 input: 247 events"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "traces",
        "classify",
        "saturation",
        "graph",
        "worst",
        "control_plane",
        "cross_tenant",
        "remediation",
    ] {
        assert!(report.get(key).is_some(), "{key}");
    }
    let expected = incident_expected();
    // The rows of the traces that did not succeed, most recent first.
    let rows = report["traces"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r["status"] != "succeeded"));
    assert_eq!(
        report["classify"]["statuses"],
        expected["classify"]["statuses"]
    );
    assert_eq!(report["statuses"], expected["classify"]["statuses"]);
    assert!(report["graph"]["edges"].as_array().unwrap().len() >= 7);
    assert_eq!(
        report["cross_tenant"][0]["trace_id"],
        trace_of("cross_tenant").as_str()
    );
    assert_eq!(report["control_plane"]["deadline_skips"], 1);
    assert_eq!(
        report["control_plane"]["cancel_started"],
        expected["event_counts"]["trace_cancel_start"]
    );
    let worst: Vec<&str> = report["worst"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["trace_id"].as_str().unwrap())
        .collect();
    assert!(worst.contains(&trace_of("timeout_failed").as_str()));
    // Queued 52 ms before the end of the input, under enrich's p95 of 91 ms: waiting its turn,
    // not among the worst, but counted apart.
    assert!(!worst.contains(&trace_of("in_flight_queued").as_str()));
    assert!(report["waiting_normally"].as_u64().unwrap() >= 1);
    assert_eq!(
        report["worst_of"].as_u64().unwrap(),
        report["worst"].as_array().unwrap().len() as u64
    );
    for step in report["remediation"].as_array().unwrap() {
        assert!(!step["evidence"].as_str().unwrap().is_empty());
    }
}

#[test]
fn triage_table() {
    let text = run_text(&[
        "triage",
        &fixture_arg("incident/kubectl_prefix_timestamps.log"),
    ]);
    insta::assert_snapshot!("triage", text);
}

#[test]
fn triage_says_so_when_a_section_is_empty() {
    let text = run_text(&["triage", &fixture_arg("saturation/flat.jsonl")]);
    assert!(
        text.contains("no failed, skipped or stalled traces"),
        "{text}"
    );
    assert!(
        text.contains("no trace carries more than one tenant"),
        "{text}"
    );
    assert!(text.contains("no cancellations"), "{text}");
    assert!(text.contains("no deadline skips"), "{text}");
    let markdown = run_text(&[
        "triage",
        "--format",
        "markdown",
        &fixture_arg("incident/flat.jsonl"),
    ]);
    assert!(markdown.starts_with("## Incident triage:"));
    assert!(markdown.contains("**What to do.**"));
}
