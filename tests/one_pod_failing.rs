//! Failures confined to one pod that fails for every tenant it serves are the pod's, not a
//! tenant's (the sixth review's `sixth_stickypod`: an ingress pins each tenant to a pod, and one
//! pod's sidecar refuses every call); and a tenant's own failures spread over pods stay the
//! tenant's (`third_fanout_pods`). Truth from the captures' `.expected.json`.

mod common;

use common::*;

/// A failed trace of `tenant` in the capture (its lines carry kubectl's pod prefix).
fn failed_trace_of(path: &str, tenant: &str) -> String {
    let traces = report_json("traces", &[path, "--status", "failed"]);
    traces
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["tenant"] == tenant)
        .and_then(|row| row["trace_id"].as_str())
        .unwrap()
        .to_string()
}

#[test]
fn a_pod_failing_for_every_tenant_it_serves_is_the_cause_not_a_tenant() {
    let truth = fixture_json("review/sixth_stickypod.expected.json");
    // The situation: every failure in one pod, both its tenants failing all their traces, the
    // other pods failing none.
    let per_pod = truth["per_pod"].as_object().unwrap();
    let failing: Vec<&String> = per_pod
        .iter()
        .filter(|(_, statuses)| statuses.get("failed").is_some())
        .map(|(pod, _)| pod)
        .collect();
    assert_eq!(failing.len(), 1);
    let pod = failing[0].as_str();
    let tenants: Vec<&str> = truth["tenant_to_pod"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, p)| *p == pod)
        .map(|(tenant, _)| tenant.as_str())
        .collect();
    assert!(tenants.len() >= 2);
    for tenant in &tenants {
        assert!(truth["per_tenant"][tenant].get("succeeded").is_none());
    }

    let path = fixture_arg("review/sixth_stickypod.jsonl.gz");
    for subcommand in ["classify", "triage"] {
        let steps = report_json(subcommand, &[&path])["remediation"].to_string();
        assert!(
            steps.contains(&format!(
                "in pod {pod}, which fails for every tenant it serves"
            )) && steps.contains(&format!("drain or restart {pod}")),
            "{subcommand}: {steps}"
        );
        assert!(
            !steps.contains("something about that tenant"),
            "{subcommand}: {steps}"
        );
    }
    for tenant in &tenants {
        let text = find_text(&failed_trace_of(&path, tenant), &path);
        assert!(
            text.contains(&format!(
                "are pod {pod}'s, which fails there for every tenant"
            )),
            "{tenant}: {text}"
        );
        assert!(!text.contains("something about that tenant"), "{text}");
    }
}

#[test]
fn a_tenants_failures_spread_over_pods_stay_the_tenants() {
    let truth = fixture_json("review/third_fanout_pods.expected.json");
    let errors = truth["kind_by_tenant"]["node_error"].as_object().unwrap();
    assert_eq!(errors.len(), 1);
    let (tenant, _) = errors.iter().next().unwrap();
    let path = fixture_arg("review/third_fanout_pods.log.gz");
    let steps = report_json("classify", &[&path])["remediation"].to_string();
    assert!(steps.contains(&format!("from tenant {tenant}")), "{steps}");
    assert!(!steps.contains("which fails for every tenant"), "{steps}");
}
