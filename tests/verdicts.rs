//! Verdicts over real captures of the situations they judge (fixtures/topologies, from
//! `fixtures/capture/topologies.py`): the answers expected are computed there from the
//! runtime's own FlowEvents, never from flowtrace's output.

mod common;

use common::*;
use serde_json::Value;

const TOPOLOGIES: [&str; 5] = ["chain_incident", "router", "join", "emit_fanout", "cycle"];

fn expected(topology: &str) -> Value {
    let path = fixture(&format!("topologies/{topology}/expected.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn log(topology: &str) -> String {
    fixture_arg(&format!("topologies/{topology}/flat.jsonl"))
}

fn count(map: &Value, key: &str) -> u64 {
    map[key].as_u64().unwrap_or(0)
}

#[test]
fn statuses_and_categories_match_the_runtime_on_every_topology() {
    for topology in TOPOLOGIES {
        let want = expected(topology);
        let rows = report_json("traces", &[&log(topology)]);
        let rows = rows.as_array().unwrap();
        assert_eq!(
            rows.len() as u64,
            want["traces"].as_u64().unwrap(),
            "{topology}"
        );
        for row in rows {
            let id = row["trace_id"].as_str().unwrap();
            let trace = &want["trace_expected"][id];
            assert_eq!(row["status"], trace["status"], "{topology} {id}");
            if trace["status"] != "succeeded" {
                assert_eq!(row["category"], trace["category"], "{topology} {id}");
            }
        }
    }
}

#[test]
fn the_hot_node_matches_the_runtime_and_ignores_the_bucket_width() {
    for topology in TOPOLOGIES {
        let want = expected(topology);
        for width in ["50ms", "100ms", "500ms", "1s", "2s", "10s"] {
            let report = report_json("saturation", &[&log(topology), "--bucket", width]);
            assert_eq!(
                report["hot_node"], want["hot_node"],
                "{topology} --bucket {width}"
            );
        }
    }
}

#[test]
fn the_chain_incident_reads_as_it_happened() {
    let want = expected("chain_incident");
    let report = report_json(
        "triage",
        &[&fixture_arg("topologies/chain_incident/kubectl_prefix.log")],
    );

    // The bottleneck is llm; what backs up behind it lies upstream of it only.
    assert_eq!(report["saturation"]["hot_node"], "llm");
    let backed_up = report["saturation"]["bottleneck"]["backed_up"]
        .as_array()
        .unwrap();
    assert!(!backed_up.is_empty());
    for node in backed_up {
        assert!(
            node == "triage" || node == "retrieve",
            "{node} is not upstream of llm"
        );
    }

    // retrieve's worker lost most of its time to timeouts and backoff: a dependency, with the
    // tenant that caused it.
    let retrieve_share = want["worker_time"]["retrieve"]["timeout_backoff_share"]
        .as_f64()
        .unwrap();
    let lost = report["saturation"]["lost_time"].as_array().unwrap();
    let retrieve = lost
        .iter()
        .find(|l| l["node_name"] == "retrieve")
        .expect("retrieve's lost time is a finding");
    assert_eq!(retrieve["cause"], "timeouts");
    assert!(
        (retrieve["share"].as_f64().unwrap() - retrieve_share).abs() < 0.02,
        "{retrieve} vs {retrieve_share}"
    );
    assert!(retrieve["step"].as_str().unwrap().contains("globex"));

    // Who is affected: each tenant's statuses as the runtime had them.
    for impact in report["tenants"].as_array().unwrap() {
        let tenant = impact["tenant"].as_str().unwrap();
        let statuses = &want["per_tenant"][tenant]["statuses"];
        for (status, n) in impact["statuses"].as_object().unwrap() {
            assert_eq!(
                n.as_u64().unwrap(),
                count(statuses, status),
                "{tenant} {status}"
            );
        }
    }

    // Causes, each naming its evidence: timeouts from one tenant with room in the queues are
    // a dependency; credential errors of one tenant are that tenant's credentials.
    let steps: Vec<&str> = report["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    let timeout_step = steps
        .iter()
        .find(|s| s.starts_with("retrieve:") && s.contains("timeouts"))
        .expect("a timeout step for retrieve");
    // A node's own queues never cause its timeouts (the timeout covers the handler only).
    assert!(!timeout_step.contains("saturation first"), "{timeout_step}");
    assert!(timeout_step.contains("tenant globex"), "{timeout_step}");
    let auth = steps
        .iter()
        .find(|s| s.contains("PermissionError"))
        .expect("a step for the credential errors");
    assert!(
        auth.contains("authentication failure for tenant initech"),
        "{auth}"
    );
    let deadlines = &report["classify"]["deadlines"];
    assert_eq!(
        deadlines["stale_at_first_node"],
        want["deadline_skips"]["stale_at_first_node"]
    );
    assert_eq!(
        deadlines["expired_in_flow"],
        want["deadline_skips"]["expired_in_queue"]
    );

    // The worst trace is the one attempt hanging at the end; messages queued moments ago are
    // not among the worst; it says how many are shown.
    let hanging: Vec<&str> = want["trace_expected"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| !t["hanging_attempt_ms"].is_null())
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(hanging.len(), 1);
    assert_eq!(report["worst"][0]["trace_id"], hanging[0]);
    assert_eq!(report["worst"][0]["running"], true);
    let ms = report["worst"][0]["stalled_ms"].as_f64().unwrap();
    let want_ms = want["trace_expected"][hanging[0]]["hanging_attempt_ms"]
        .as_f64()
        .unwrap();
    assert!((ms - want_ms).abs() < 5.0, "{ms} vs {want_ms}");
    assert!(
        report["worst_of"].as_u64().unwrap() >= report["worst"].as_array().unwrap().len() as u64
    );
}

#[test]
fn the_learned_graph_is_the_wired_one_on_every_topology() {
    // A router, a join after a fan-out (its first success before a slow branch starts), a
    // ctx.emit fan-out (the consumer starts before its sender's success), a cycle.
    for topology in TOPOLOGIES {
        let want = expected(topology);
        let graph = report_json("graph", &[&log(topology)]);
        let edges = learned_edges(&graph);
        assert_eq!(edges, wired_edges(&want), "{topology}");
    }
}

#[test]
fn find_says_where_each_trace_stopped() {
    for topology in TOPOLOGIES {
        let want = expected(topology);
        for (id, trace) in want["trace_expected"].as_object().unwrap() {
            if trace["status"] == "succeeded" {
                continue;
            }
            let report = report_json("find", &[id, &log(topology), "--full-scan"]);
            assert_eq!(
                report["last_success"]["node_name"], trace["last_success"]["node_name"],
                "{topology} {id}"
            );
            assert_eq!(
                report["next"]["node_name"], trace["next_node"],
                "{topology} {id}"
            );
            assert_eq!(
                report["next"]["inferred"], trace["next_inferred"],
                "{topology} {id}"
            );
            // Two pods' llm queues are mixed in this log: nothing may be concluded from the
            // other pod's llm working on.
            assert_eq!(report["next"]["lost"], false, "{topology} {id}");
        }
    }
}

#[test]
fn a_waiting_message_is_read_from_its_own_send() {
    let want = expected("chain_incident");
    let events = events_jsonl(&[&log("chain_incident"), "--kind", "node_success"]);
    for (id, trace) in want["trace_expected"].as_object().unwrap() {
        if trace["queued_at"].is_null() {
            continue;
        }
        // The sender's success that queued it, as the runtime logged it.
        let send = events
            .iter()
            .find(|e| e["trace_id"] == id.as_str() && e["node_name"] == "retrieve")
            .unwrap();
        let report = report_json("find", &[id, &log("chain_incident"), "--full-scan"]);
        let next = &report["next"];
        assert_eq!(next["reading"], "sender", "{id}: two pods' llm are mixed");
        assert_eq!(next["q_depth_in"], send["q_depth_out"], "{id}");
        assert_eq!(
            next["messages_ahead"].as_i64().unwrap(),
            send["q_depth_out"].as_i64().unwrap() - 1,
            "{id}"
        );
        assert!(next["idle_ms"].as_f64().unwrap() > 0.0, "{id}");
    }
}

#[test]
fn queues_of_different_pods_are_judged_apart() {
    let want = expected("chain_incident");
    // The messages left waiting sit in one pod's llm queue: that pod speaks for llm.
    let pods: Vec<&str> = want["trace_expected"]
        .as_object()
        .unwrap()
        .values()
        .filter(|t| t["scenario"] == "in_flight_queued")
        .map(|t| t["pod"].as_str().unwrap())
        .collect();
    assert!(pods.iter().all(|pod| *pod == pods[0]));
    let llm_id = want["pod_node_ids"][pods[0]]["llm"].as_str().unwrap();

    let prefixed = fixture_arg("topologies/chain_incident/kubectl_prefix.log");
    let report = report_json("saturation", &[&prefixed]);
    let bottleneck = &report["bottleneck"];
    assert_eq!(bottleneck["instance"], format!("pod {}", pods[0]));
    assert_eq!(bottleneck["instances"], 2);
    // Without pod names, the runtime's node_id tells the processes apart.
    let report = report_json("saturation", &[&log("chain_incident")]);
    assert_eq!(
        report["bottleneck"]["instance"],
        format!("node_id {llm_id}")
    );

    // --pod keeps one pod's traces, whole.
    let events = events_jsonl(&[&prefixed, "--pod", pods[0]]);
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["pod"] == pods[0]));
    let waiting: Vec<&String> = want["trace_expected"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| t["pod"] == pods[0])
        .map(|(id, _)| id)
        .collect();
    for id in waiting {
        assert!(events.iter().any(|e| e["trace_id"] == id.as_str()), "{id}");
    }
}

#[test]
fn classify_groups_by_two_dimensions_and_by_the_second() {
    let want = expected("chain_incident");
    let report = report_json("classify", &[&log("chain_incident"), "--by", "tenant,node"]);
    assert_eq!(report["by"], "tenant");
    assert_eq!(report["then_by"], "node");
    for (tenant, facts) in want["per_tenant"].as_object().unwrap() {
        for (category, events) in facts["failure_events"].as_object().unwrap() {
            let counted: u64 = report["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| g["key"] == tenant.as_str())
                .map(|g| g[category.as_str()].as_u64().unwrap_or(0))
                .sum();
            assert_eq!(counted, events.as_u64().unwrap(), "{tenant} {category}");
        }
    }
    // The exceptions table says whose they are.
    let exceptions = report["exceptions"].as_array().unwrap();
    let permission = exceptions
        .iter()
        .find(|e| e["type"] == "PermissionError")
        .unwrap();
    assert_eq!(permission["tenants"]["initech"], permission["messages"]);
    assert_eq!(permission["messages"], permission["terminal"]);

    // An incident of a few seconds, per second: every second of the span is a bucket.
    let report = report_json("classify", &[&log("chain_incident"), "--by", "second"]);
    let groups = report["groups"].as_array().unwrap();
    assert!(groups.len() >= 4, "{} buckets", groups.len());
    let timeouts: u64 = groups.iter().map(|g| g["timeout"].as_u64().unwrap()).sum();
    assert_eq!(
        timeouts,
        report["categories"]["timeout"]["events"].as_u64().unwrap()
    );

    let output = flowtrace()
        .args(["classify", "--by", "minute,second", &log("chain_incident")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("two time groupings"));
}

#[test]
fn on_an_80_column_terminal_prose_and_details_fit() {
    let log = fixture_arg("topologies/chain_incident/kubectl_prefix.log");
    let Some(text) = on_terminal(80, &["triage", &log, "--color", "never"]) else {
        eprintln!("skipped: no `script` to make a terminal");
        return;
    };
    assert!(text.contains("what to do"), "{text}");
    let saturation = on_terminal(80, &["saturation", &log, "--color", "never"]).unwrap();
    assert!(saturation.contains("columns left out to fit 80 columns"));
    let classify = on_terminal(80, &["classify", &log, "--color", "never"]).unwrap();
    for text in [&text, &saturation, &classify] {
        for line in text.lines() {
            let columns = line.chars().count();
            assert!(columns <= 80, "{columns} columns: {line}");
        }
    }
    // Piped, nothing is wrapped: a checklist step stays one line.
    let output = flowtrace().args(["triage", &log]).output().unwrap();
    let piped = String::from_utf8(output.stdout).unwrap();
    assert!(piped.lines().any(|line| line.chars().count() > 80));
}
