//! The seventh review's large-payload capture (fixtures/review/seventh_bigpayload.jsonl.gz,
//! script `seventh_bigpayload.py` in fixtures/capture/review): a real PenguiFlow 3.11.2 run
//! whose `.expected.json` holds what the runtime's FlowEvents and parse's own handler clock say.
//!
//! `ingest -> parse -> index -> reply`, queue_maxsize 8. docuflow sends 16% of the requests,
//! 40-60 page documents that take parse ~105 ms each against ~9 ms for the others' one-page
//! ones: docuflow's messages are 70% of parse's busy time, parse is full 77% of its readings.
//! The verdict once said "add replicas, make its handler faster, or send it less work" and
//! listed all four tenants alike as slowed. What is true: docuflow's payloads are parse's load
//! (rate-limit it, split its documents, give it a flow of its own), and the other tenants are
//! the ones waiting behind them. The other side: where a tenant's share of a node's work is
//! about its share of the node's messages (a tenant sending most of the traffic, one tenant
//! being all of a node's traffic, a burst, replicas, two flows sharing a node name), no tenant
//! is the load.
//!
//! Also from that review (seventh_proxy503): `classify`'s retries header divided by every
//! node's successes while the retry-storm step divides by submit's; the header now says both.

mod common;

use common::*;
use serde_json::Value;

const BIGPAYLOAD: &str = "review/seventh_bigpayload.jsonl.gz";

fn truth() -> Value {
    fixture_json("review/seventh_bigpayload.expected.json")
}

fn close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} against {expected} (± {tolerance})"
    );
}

#[test]
fn the_tenant_whose_documents_are_parse_s_load_is_named_with_its_shares() {
    let truth = truth();
    let report = report_json("saturation", &[&fixture_arg(BIGPAYLOAD)]);
    let bottleneck = &report["bottleneck"];
    assert_eq!(bottleneck["node_name"], "parse");
    let load = &bottleneck["tenant_load"];
    assert_eq!(load["tenant"], "docuflow", "{bottleneck:#}");
    let per_tenant = &truth["per_tenant"];
    // Shares of parse's work from its own events against its handler's own clock, shares of
    // its messages against the messages the app sent.
    close(
        load["work_share"].as_f64().unwrap(),
        per_tenant["docuflow"]["share_of_parse_busy"]
            .as_f64()
            .unwrap(),
        0.02,
        "docuflow's share of parse's work",
    );
    close(
        load["message_share"].as_f64().unwrap(),
        per_tenant["docuflow"]["share_of_parse_messages"]
            .as_f64()
            .unwrap(),
        0.005,
        "docuflow's share of parse's messages",
    );
    close(
        load["ms_per_message"].as_f64().unwrap(),
        per_tenant["docuflow"]["parse_success_latency_ms_p50"]
            .as_f64()
            .unwrap(),
        5.0,
        "docuflow's work per message",
    );
    assert_eq!(
        load["messages"].as_u64(),
        per_tenant["docuflow"]["traces"].as_u64()
    );
    let others = load["others"].as_array().unwrap();
    assert_eq!(others.len(), 3);
    for other in others {
        let tenant = other["tenant"].as_str().unwrap();
        let expected = &per_tenant[tenant];
        close(
            other["work_share"].as_f64().unwrap(),
            expected["share_of_parse_busy"].as_f64().unwrap(),
            0.02,
            &format!("{tenant}'s share of parse's work"),
        );
        close(
            other["message_share"].as_f64().unwrap(),
            expected["share_of_parse_messages"].as_f64().unwrap(),
            0.005,
            &format!("{tenant}'s share of parse's messages"),
        );
        assert_eq!(other["messages"].as_u64(), expected["traces"].as_u64());
    }

    // The step says it, with its evidence, and no longer reads as a capacity question alone.
    let step = report["remediation"][0].as_str().unwrap();
    for needle in [
        "Relieve the bottleneck parse (queue_maxsize 8) of tenant docuflow's work",
        "70% of parse's own work",
        "for 16% of the messages it took (122 of 744)",
        "105 ms each against 8.79 ms for the other tenants'",
        "acme 12% of the work for 35% of the messages",
        "globex 10% for 28%",
        "initech 8% for 21%",
        "the other tenants' messages wait behind docuflow's in its queue",
        "Rate-limit docuflow at the ingress, split its payloads into smaller messages, or give it a flow of its own",
        "`flowtrace saturation --tenant docuflow`",
        "ingest backs up behind it",
    ] {
        assert!(step.contains(needle), "{needle:?} not in: {step}");
    }
    assert!(!step.contains("it is busy with real work"), "{step}");
}

/// The command the step suggests shows what it claims: docuflow's traces alone keep parse's
/// worker busy most of the span, at ~105 ms a message against acme's ~9 ms.
#[test]
fn the_suggested_command_shows_docuflow_s_work_alone() {
    let truth = truth();
    let path = fixture_arg(BIGPAYLOAD);
    let whole = report_json("saturation", &[&path]);
    let load = &whole["bottleneck"]["tenant_load"];
    let alone = report_json("saturation", &["--tenant", "docuflow", &path]);
    let parse = node_row(&alone, "parse");
    close(
        parse["worker_time"]["success_s"].as_f64().unwrap(),
        load["own_work_s"].as_f64().unwrap(),
        0.02 * load["own_work_s"].as_f64().unwrap(),
        "parse's work for docuflow alone",
    );
    let span_s = truth["span_s"].as_f64().unwrap();
    assert!(
        parse["busy_share"].as_f64().unwrap() >= 0.6,
        "docuflow alone keeps parse busy {} of {span_s} s",
        parse["busy_share"]
    );
    let per_tenant = &truth["per_tenant"];
    for tenant in ["docuflow", "acme"] {
        let report = report_json("saturation", &["--tenant", tenant, &path]);
        close(
            node_row(&report, "parse")["latency_ms"]["p50"]
                .as_f64()
                .unwrap(),
            per_tenant[tenant]["parse_success_latency_ms_p50"]
                .as_f64()
                .unwrap(),
            0.05 * per_tenant[tenant]["parse_success_latency_ms_p50"]
                .as_f64()
                .unwrap(),
            &format!("parse's p50 for {tenant}"),
        );
    }
}

/// Who is affected: the other tenants, who waited behind docuflow's documents; docuflow's own
/// traces took about their own work (its documents' time at parse) plus the same wait.
#[test]
fn triage_names_the_other_tenants_as_the_ones_waiting() {
    let truth = truth();
    let path = fixture_arg(BIGPAYLOAD);
    let report = report_json("triage", &[&path]);
    let tenants = report["tenants"].as_array().unwrap();
    let of = |name: &str| {
        tenants
            .iter()
            .find(|t| t["tenant"] == name)
            .unwrap_or_else(|| panic!("no tenant {name}"))
    };
    let docuflow = of("docuflow");
    assert_eq!(docuflow["load"]["node_name"], "parse", "{docuflow:#}");
    assert!(docuflow["slowed"].is_null(), "{docuflow:#}");
    for tenant in ["acme", "globex", "initech"] {
        let impact = of(tenant);
        assert!(impact.get("load").is_none(), "{impact:#}");
        let slowed = &impact["slowed"];
        assert!(slowed.is_object(), "{tenant} not slowed: {impact:#}");
        // Durations from the trace's first event, as the capture measured them.
        let logged_p50 = truth["per_tenant"][tenant]["logged_ms_p50_p95"][0]
            .as_f64()
            .unwrap();
        close(
            slowed["p50_ms"].as_f64().unwrap(),
            logged_p50,
            0.05 * logged_p50,
            &format!("{tenant}'s p50 end to end"),
        );
    }
    // The bottleneck's step leads the checklist, as saturation gives it.
    let saturation = report_json("saturation", &[&path]);
    assert_eq!(
        report["remediation"][0]["step"],
        saturation["remediation"][0]
    );

    let text = flowtrace().args(["triage", &path]).output().unwrap().stdout;
    let text = String::from_utf8(text).unwrap();
    let line = |tenant: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{tenant}: ")))
            .unwrap_or_else(|| panic!("no line for {tenant} in {text}"))
            .to_string()
    };
    for tenant in ["acme", "globex", "initech"] {
        assert!(
            line(tenant).ends_with(
                "they got through, but waited behind tenant docuflow's messages at parse"
            ),
            "{}",
            line(tenant)
        );
    }
    let docuflow = line("docuflow");
    assert!(
        docuflow.contains("its messages are parse's load: 70% of parse's own work for 16% of the messages it took, 105 ms each against 8.79 ms for the other tenants'"),
        "{docuflow}"
    );
    assert!(!docuflow.contains("slowed"), "{docuflow}");
}

/// Where work follows traffic, no tenant is the load: a tenant sending 90% of the traffic, a
/// node all of whose traffic is one tenant's (sixth_routerocr's ocr: its verdict stays the
/// capacity's), a burst named by its attempts (fifth_burst), pods pinned to tenants, replicas,
/// two flows sharing a node name (fifth_twoflows: initech is all of summarize's llm), a sink
/// waiting on the egress, and the production and incident captures.
#[test]
fn no_tenant_is_the_load_where_work_follows_traffic() {
    for relative in [
        "review/baserate.jsonl",
        "review/sixth_routerocr.jsonl.gz",
        "review/fifth_burst.jsonl.gz",
        "review/fifth_twoflows.jsonl",
        "review/seventh_podimbalance.log.gz",
        "review/seventh_egressstall.jsonl.gz",
        "review/seventh_proxy503.jsonl.gz",
        "review/seventh_twospells.jsonl.gz",
        "review/fourth_slow_sink.jsonl.gz",
        "review/fourth_join_sink.jsonl",
        "review/sixth_emittimeout.jsonl",
        "production/flat.log.gz",
        "production/structured.log.gz",
        "incident/flat.jsonl",
        "incident/kubectl_prefix.log",
        "saturation/flat.jsonl",
    ] {
        let path = fixture_arg(relative);
        let saturation = report_json("saturation", &[&path]);
        assert!(
            saturation["bottleneck"].get("tenant_load").is_none(),
            "{relative}: {:#}",
            saturation["bottleneck"]
        );
        for step in saturation["remediation"].as_array().unwrap() {
            assert!(
                !step.as_str().unwrap().contains("'s messages are most of"),
                "{relative}: {step}"
            );
        }
        let triage = report_json("triage", &[&path]);
        for tenant in triage["tenants"].as_array().unwrap() {
            assert!(tenant.get("load").is_none(), "{relative}: {tenant:#}");
        }
    }

    // The verdicts these captures were written for stand.
    let routerocr = report_json(
        "classify",
        &[&fixture_arg("review/sixth_routerocr.jsonl.gz")],
    );
    let at_capacity = &routerocr["deadlines"]["at_capacity"];
    assert_eq!(at_capacity["node_name"], "ocr");
    assert_eq!(at_capacity["tenant"]["tenant"], "docuflow");
    let burst = report_json("saturation", &[&fixture_arg("review/fifth_burst.jsonl.gz")]);
    let window = &burst["bottleneck"]["window"];
    assert_eq!(window["over"], true);
    assert_eq!(window["tenant"], "initech");
    assert!(
        burst["remediation"][0]
            .as_str()
            .unwrap()
            .contains("a burst of that tenant's work"),
        "{}",
        burst["remediation"][0]
    );
}

/// `classify`'s retries line says what its rate divides by: every node's successes, then the
/// rate of the node that retried, the one its retry-storm step gives.
#[test]
fn the_retries_header_says_what_it_divides_by() {
    let path = fixture_arg("review/seventh_proxy503.jsonl.gz");
    let expected = fixture_json("review/seventh_proxy503.expected.json");
    let successes = expected["kinds"]["node_success"].as_u64().unwrap();
    let retries = expected["kinds"]["node_retry"].as_u64().unwrap();
    let text = flowtrace()
        .args(["classify", &path])
        .output()
        .unwrap()
        .stdout;
    let text = String::from_utf8(text).unwrap();
    let header = text
        .lines()
        .find(|l| l.starts_with("retries"))
        .unwrap_or_else(|| panic!("no retries line in {text}"));
    let all = format!(
        "{retries} ({:.2} per success over all nodes' {successes} successes;",
        retries as f64 / successes as f64
    );
    assert!(header.contains(&all), "{all:?} not in {header:?}");
    // submit's own rate, the storm's: every retry is submit's; each trace that reached submit
    // succeeded there once or failed.
    let submit_successes = expected["statuses"]["succeeded"].as_u64().unwrap();
    let rate = format!("{:.2}", retries as f64 / submit_successes as f64);
    assert!(
        header.contains(&format!(
            "submit: {rate}, {retries} for {submit_successes} successes"
        )),
        "{header}"
    );
    let storm = text
        .lines()
        .find(|l| l.contains("Retry storm at submit"))
        .unwrap_or_else(|| panic!("no retry storm in {text}"));
    assert!(storm.contains(&format!("(rate {rate})")), "{storm}");
    // The JSON contract is unchanged: its rate is over every node's successes.
    let report = report_json("classify", &[&path]);
    close(
        report["retries"]["rate"].as_f64().unwrap(),
        retries as f64 / successes as f64,
        1e-9,
        "classify.retries.rate",
    );
}
