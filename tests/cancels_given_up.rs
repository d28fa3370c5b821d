//! Cancellations by one tenant's callers during a slow spell the flow had for everyone (sixth
//! review's `sixth_cancelstorm`: acme's frontend cancels any request not answered in 1 s while
//! search's backend is 5x slower; globex and initech wait as long and are not cancelled). The
//! verdict names the tenant, shows the other tenants waited longer, and triage ranks the slow
//! bottleneck (the cause) above the cancels (its symptom). Truth from the capture's
//! `.expected.json`, computed from the FlowEvents and the cancel calls.

mod common;

use common::*;

const CAPTURE: &str = "review/sixth_cancelstorm.jsonl";

#[test]
fn one_tenant_s_cancels_are_its_callers_giving_up_on_a_slow_flow() {
    let truth = fixture_json("review/sixth_cancelstorm.expected.json");
    let by_tenant = truth["cancel_calls_by_tenant"].as_object().unwrap();
    assert_eq!(by_tenant.len(), 1, "the capture's premise");
    let (tenant, cancels) = by_tenant.iter().next().unwrap();
    let cancels = cancels.as_u64().unwrap();
    let traces: u64 = truth["per_tenant"][tenant]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    // The other tenants waited over 1 s in the spell, and were not cancelled.
    assert!(truth["globex_initech_in_spell_over_1s"].as_u64().unwrap() > 0);
    let path = fixture_arg(CAPTURE);
    let classify = report_json("classify", &[&path])["remediation"].to_string();
    assert!(
        classify.contains(&format!(
            "{cancels} of the {cancels} cancelled traces are tenant {tenant}'s ({cancels} of its {traces})"
        )) && classify.contains(&format!("{tenant}'s callers give up sooner"))
            && classify.contains("flowtrace saturation --since "),
        "{classify}"
    );
    // The other tenants' slowest finished trace, as the runtime logged it, is what the verdict
    // compares with: at least as long as any cancelled trace had been in the flow.
    let slowest = other_tenants_slowest_ms(tenant);
    assert!(
        classify.contains(&format!(
            "the other tenants' traces took up to {slowest} ms"
        )),
        "{slowest}: {classify}"
    );
}

#[test]
fn triage_ranks_the_slow_bottleneck_above_the_cancels_it_caused() {
    let path = fixture_arg(CAPTURE);
    let triage = report_json("triage", &[&path]);
    let steps: Vec<String> = triage["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["step"].as_str().unwrap().to_string())
        .collect();
    let bottleneck = steps
        .iter()
        .position(|s| s.contains("The bottleneck is search"))
        .expect("a bottleneck step");
    let cancels = steps
        .iter()
        .position(|s| s.contains("callers give up sooner"))
        .expect("a cancel step");
    assert!(bottleneck < cancels, "{steps:#?}");
    assert!(steps[cancels].contains("They fell in search's pressure window"));
}

/// The other side, on another topology (seventh_cancelall: ingest -> work -> reply, every
/// tenant's client cancels at 1 s during work's slow spell): cancels spread over the tenants
/// as their traffic is keep the general advice, with no tenant named.
#[test]
fn cancels_of_every_tenant_name_no_tenant() {
    let truth = fixture_json("review/seventh_cancelall.expected.json");
    let by_tenant = truth["cancel_calls_by_tenant"].as_object().unwrap();
    assert!(by_tenant.len() >= 2, "the capture's premise: {by_tenant:?}");
    let cancels: u64 = by_tenant.values().map(|n| n.as_u64().unwrap()).sum();
    let path = fixture_arg("review/seventh_cancelall.jsonl");
    let classify = report_json("classify", &[&path]);
    assert_eq!(classify["categories"]["cancel"]["terminal"], cancels);
    for subcommand in ["classify", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains("were cancelled (flow.cancel)")
                && !steps.contains("callers give up sooner")
                && !by_tenant
                    .keys()
                    .any(|tenant| steps.contains(&format!("tenant {tenant}'s"))),
            "{subcommand}: {steps}"
        );
    }
}

fn other_tenants_slowest_ms(tenant: &str) -> String {
    let mut first = std::collections::HashMap::new();
    let mut last = std::collections::HashMap::new();
    let mut owner = std::collections::HashMap::new();
    let mut cancelled = std::collections::HashSet::new();
    for line in std::fs::read_to_string(fixture(CAPTURE)).unwrap().lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(trace) = event["trace_id"].as_str() else {
            continue;
        };
        let ts = event["ts"].as_f64().unwrap();
        first.entry(trace.to_string()).or_insert(ts);
        last.insert(trace.to_string(), ts);
        owner.insert(
            trace.to_string(),
            event["tenant"].as_str().unwrap().to_string(),
        );
        if event["event"].as_str().unwrap().starts_with("trace_cancel") {
            cancelled.insert(trace.to_string());
        }
    }
    let slowest = first
        .iter()
        .filter(|(trace, _)| owner[*trace] != tenant && !cancelled.contains(*trace))
        .map(|(trace, start)| (last[trace] - start) * 1000.0)
        .fold(0.0_f64, f64::max);
    format!("{}", slowest.round())
}
