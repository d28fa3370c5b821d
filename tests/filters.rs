//! The filters every subcommand shares, and tenant propagation, over the real captured run.

mod common;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::*;
use serde_json::Value;

fn baseline() -> Vec<Value> {
    events_jsonl(&[&fixture_arg("incident/flat.jsonl")])
}

fn ts(event: &Value) -> DateTime<Utc> {
    event["ts"].as_str().unwrap().parse().unwrap()
}

#[test]
fn trace_filter_keeps_one_trace_from_every_shape() {
    let trace = trace_of("error_failed");
    let wanted: Vec<Value> = baseline()
        .into_iter()
        .filter(|e| e["trace_id"] == trace.as_str())
        .map(|e| comparable(&e, true))
        .collect();
    assert_eq!(wanted.len(), 15);
    for shape in [
        "incident/flat.jsonl",
        "incident/kubectl_prefix_timestamps.log",
        "incident/structured.jsonl",
    ] {
        let events = events_jsonl(&[&fixture_arg(shape), "--trace", &trace]);
        let events: Vec<Value> = events.iter().map(|e| comparable(e, true)).collect();
        assert_eq!(events, wanted, "{shape}");
    }
}

#[test]
fn the_kubectl_prefix_gives_each_event_its_pod_and_container() {
    let events = events_jsonl(&[&fixture_arg("incident/kubectl_prefix.log")]);
    assert!(!events.is_empty());
    for event in &events {
        assert_eq!(event["pod"], "worker-6d5f8b7c9-x2x7q", "{event}");
        assert_eq!(event["container"], "worker", "{event}");
    }
    for event in baseline() {
        assert!(event["pod"].is_null() && event["container"].is_null());
    }
}

#[test]
fn several_traces_comma_separated() {
    let (a, b) = (trace_of("deadline"), trace_of("cancelled"));
    let events = events_jsonl(&[
        &fixture_arg("incident/flat.jsonl"),
        "--trace",
        &format!("{a},{b}"),
    ]);
    assert_eq!(events.len(), 1 + 10);
    assert!(
        events
            .iter()
            .all(|e| e["trace_id"] == a.as_str() || e["trace_id"] == b.as_str())
    );
}

#[test]
fn tenant_is_propagated_from_ingress_lines_to_every_event_of_the_trace() {
    let expected = incident_expected();
    for shape in [
        "incident/structured.jsonl",
        "incident/kubectl_prefix.log",
        "incident/flat.jsonl",
    ] {
        let events = events_jsonl(&[&fixture_arg(shape)]);
        for trace in expected["traces"].as_array().unwrap() {
            if trace["scenario"] == "cross_tenant" {
                continue;
            }
            let id = trace["trace_id"].as_str().unwrap();
            let tenants: Vec<&Value> = events
                .iter()
                .filter(|e| e["trace_id"] == id)
                .map(|e| &e["tenant"])
                .collect();
            assert!(!tenants.is_empty());
            assert!(
                tenants.iter().all(|t| **t == trace["tenant"]),
                "{shape} {id}: {tenants:?}"
            );
        }
    }
}

#[test]
fn tenant_filter_selects_whole_traces() {
    let expected = incident_expected();
    let acme_traces: Vec<&str> = expected["traces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["tenant"] == "acme")
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    let events = events_jsonl(&[
        &fixture_arg("incident/structured.jsonl"),
        "--tenant",
        "acme",
    ]);
    assert!(events.iter().all(|e| e["tenant"] == "acme"));
    let mut seen: Vec<&str> = events
        .iter()
        .map(|e| e["trace_id"].as_str().unwrap())
        .collect();
    seen.sort();
    seen.dedup();
    // Every acme trace, plus the cross-tenant trace whose first ingress line says acme.
    let mut wanted = acme_traces.clone();
    wanted.push(
        expected["traces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["scenario"] == "cross_tenant")
            .unwrap()["trace_id"]
            .as_str()
            .unwrap(),
    );
    wanted.sort();
    wanted.dedup();
    assert_eq!(seen, wanted);
}

#[test]
fn node_and_kind_filters() {
    let all = baseline();
    let events = events_jsonl(&[
        &fixture_arg("incident/structured.jsonl"),
        "--node",
        "retrieve",
        "--kind",
        "node_timeout,node_retry",
    ]);
    let wanted = all
        .iter()
        .filter(|e| {
            e["node_name"] == "retrieve"
                && (e["event"] == "node_timeout" || e["event"] == "node_retry")
        })
        .count();
    assert!(wanted > 0);
    assert_eq!(events.len(), wanted);
    // The prefilter passes tenant lines through, so filtered events keep their tenant.
    assert!(events.iter().all(|e| e["tenant"].is_string()));

    let two_nodes = events_jsonl(&[
        &fixture_arg("incident/flat.jsonl"),
        "--node",
        "audit",
        "--node",
        "respond",
    ]);
    let wanted = all
        .iter()
        .filter(|e| e["node_name"] == "audit" || e["node_name"] == "respond")
        .count();
    assert_eq!(two_nodes.len(), wanted);
}

#[test]
fn absolute_time_bounds() {
    let all = baseline();
    let middle = ts(&all[all.len() / 2]);
    let end = ts(&all[all.len() * 3 / 4]);
    let since = middle.to_rfc3339_opts(SecondsFormat::Micros, true);
    let until = end.to_rfc3339_opts(SecondsFormat::Micros, true);
    let events = events_jsonl(&[
        &fixture_arg("incident/flat.jsonl"),
        "--since",
        &since,
        "--until",
        &until,
    ]);
    let wanted = all
        .iter()
        .filter(|e| ts(e) >= middle && ts(e) <= end)
        .count();
    assert_eq!(events.len(), wanted);
    assert!(events.iter().all(|e| ts(e) >= middle && ts(e) <= end));
}

#[test]
fn relative_bounds_count_back_from_the_newest_event() {
    let all = baseline();
    let newest = all.iter().map(ts).max().unwrap();
    let cut = newest - Duration::milliseconds(500);
    let since = events_jsonl(&[&fixture_arg("incident/flat.jsonl"), "--since", "500ms"]);
    assert_eq!(since.len(), all.iter().filter(|e| ts(e) >= cut).count());
    assert!(!since.is_empty() && since.len() < all.len());
    let until = events_jsonl(&[&fixture_arg("incident/flat.jsonl"), "--until", "500ms"]);
    assert_eq!(until.len(), all.iter().filter(|e| ts(e) <= cut).count());
    assert_eq!(
        since.len() + until.len(),
        all.len() + all.iter().filter(|e| ts(e) == cut).count()
    );
}

#[test]
fn now_counts_back_from_the_clock() {
    let all = baseline();
    let file = fixture_arg("incident/flat.jsonl");
    assert_eq!(
        events_jsonl(&[&file, "--since", "1000w", "--now"]).len(),
        all.len()
    );
    assert_eq!(events_jsonl(&[&file, "--until", "1000w", "--now"]).len(), 0);
}

#[test]
fn a_trace_id_prefix_works_wherever_find_takes_one() {
    let id = trace_of("error_failed");
    let log = fixture_arg("incident/flat.jsonl");
    let store = fixture_arg("incident/events.db");
    let whole = events_jsonl(&[&log, "--trace", &id]);
    assert_eq!(events_jsonl(&[&log, "--trace", &id[..8]]), whole);
    let from_store = events_jsonl(&["--store", &store, "--trace", &id[..8]]);
    assert_eq!(from_store.len(), whole.len());

    // A prefix of several traces is refused as find refuses it, before any report.
    let output = flowtrace()
        .args(["classify", &log, "--trace", &id[..1]])
        .output()
        .unwrap();
    let ids: Vec<String> = baseline()
        .iter()
        .filter_map(|e| e["trace_id"].as_str())
        .filter(|t| t.starts_with(&id[..1]))
        .map(str::to_string)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.len() > 1 {
        assert_eq!(output.status.code(), Some(1));
        assert!(output.stdout.is_empty());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("matches several traces"), "{stderr}");
        assert!(stderr.contains(&ids[0]), "{stderr}");
    }
}

#[test]
fn under_tenant_no_other_tenants_name_is_printed() {
    // The capture has a trace seen with two tenants: under --tenant, outputs say a trace
    // crossed tenants, never whose.
    let log = fixture_arg("incident/kubectl_prefix_timestamps.log");
    for subcommand in ["triage", "traces", "classify", "saturation", "events"] {
        for format in ["json", "table", "markdown"] {
            if subcommand == "events" && format == "markdown" {
                continue;
            }
            let output = flowtrace()
                .args([
                    subcommand, &log, "--tenant", "acme", "--format", format, "-q",
                ])
                .output()
                .unwrap();
            assert!(output.status.success(), "{subcommand} {format}");
            let text = String::from_utf8_lossy(&output.stdout);
            for other in ["globex", "initech"] {
                assert!(!text.contains(other), "{subcommand} {format} shows {other}");
            }
        }
    }
}
