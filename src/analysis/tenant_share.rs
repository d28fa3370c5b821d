//! One rule for "this is one tenant's problem", shared by classify (failure counts) and
//! saturation (worker time lost): a tenant with at least `TENANT_SHARE` of the weight.

/// The key of events without a tenant.
pub const UNKNOWN_TENANT: &str = "(unknown)";
/// One tenant with at least this share of a failure (or of lost time) makes it that tenant's.
pub const TENANT_SHARE: f64 = 0.8;

/// The tenant carrying at least `TENANT_SHARE` of `weights` (tenant, weight), with its weight
/// and the total; events without a tenant count in the total but are never the answer.
pub fn dominant_tenant<'a>(
    weights: impl IntoIterator<Item = (&'a str, f64)>,
) -> Option<(&'a str, f64, f64)> {
    let weights: Vec<(&str, f64)> = weights.into_iter().collect();
    let total: f64 = weights.iter().map(|(_, weight)| weight).sum();
    if total <= 0.0 {
        return None;
    }
    weights
        .into_iter()
        .filter(|(tenant, _)| *tenant != UNKNOWN_TENANT)
        .find(|(_, weight)| *weight >= TENANT_SHARE * total)
        .map(|(tenant, weight)| (tenant, weight, total))
}

/// True when `tenant`'s failure rate stands out against the other tenants' at the same place:
/// `failures` and `traffic` are messages per tenant (failing, and all). A tenant sending most of
/// the traffic also has most of the failures when everyone fails alike: its rate must be at
/// least twice the others', and their traffic large enough to have shown failures at its rate.
pub fn stands_out(
    tenant: &str,
    failures: impl Fn(&str) -> u64,
    traffic: impl Fn(&str) -> u64,
    failures_total: u64,
    traffic_total: u64,
) -> bool {
    let (failed, sent) = (failures(tenant), traffic(tenant));
    if sent == 0 || failed == 0 {
        return false;
    }
    let rate = failed as f64 / sent as f64;
    let others_sent = traffic_total.saturating_sub(sent);
    let others_failed = failures_total.saturating_sub(failed);
    if (others_sent as f64) * rate < 3.0 {
        return false; // too little other traffic to tell
    }
    let others_rate = others_failed as f64 / others_sent as f64;
    others_rate * 2.0 <= rate
}

/// Failures (per tenant) of messages at least this many before they are called one tenant's.
pub const MIN_TENANT_EVIDENCE: u64 = 5;

/// The tenant whose failures these are (`failures` per tenant, out of `traffic` per tenant,
/// among `tenants_seen` tenants): at least `MIN_TENANT_EVIDENCE` failures, 80% of them its, at
/// a rate standing out from the other tenants'. With its failures and the total. The rule
/// classify's checklist and find's apply.
pub fn failures_of_one_tenant<'a>(
    failures: &'a std::collections::BTreeMap<String, u64>,
    tenants_seen: usize,
    traffic: &std::collections::BTreeMap<String, u64>,
) -> Option<(&'a str, u64, u64)> {
    let total: u64 = failures.values().sum();
    if total < MIN_TENANT_EVIDENCE || tenants_seen < 2 {
        return None;
    }
    fn of(map: &std::collections::BTreeMap<String, u64>) -> impl Fn(&str) -> u64 + '_ {
        move |tenant| map.get(tenant).copied().unwrap_or(0)
    }
    dominant_tenant(failures.iter().map(|(t, n)| (t.as_str(), *n as f64)))
        .filter(|(tenant, _, _)| {
            stands_out(
                tenant,
                of(failures),
                of(traffic),
                total,
                traffic.values().sum(),
            )
        })
        .map(|(tenant, count, total)| (tenant, count as u64, total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_needs_four_fifths_and_a_name() {
        assert_eq!(
            dominant_tenant([("globex", 8.0), ("acme", 2.0)]),
            Some(("globex", 8.0, 10.0))
        );
        assert_eq!(dominant_tenant([("globex", 7.0), ("acme", 3.0)]), None);
        assert_eq!(
            dominant_tenant([(UNKNOWN_TENANT, 9.0), ("acme", 1.0)]),
            None
        );
        assert_eq!(dominant_tenant([]), None);
    }

    #[test]
    fn a_big_tenant_failing_like_everyone_does_not_stand_out() {
        let counts = |pairs: &'static [(&'static str, u64)]| {
            move |tenant: &str| {
                pairs
                    .iter()
                    .find(|(t, _)| *t == tenant)
                    .map_or(0, |(_, n)| *n)
            }
        };
        // acme sends 90% and fails at the same 30% rate as globex.
        let failed = counts(&[("acme", 19), ("globex", 2)]);
        let sent = counts(&[("acme", 54), ("globex", 6)]);
        assert!(!stands_out("acme", failed, sent, 21, 60));
        // globex fails half its requests, the others none of 36.
        let failed = counts(&[("globex", 8)]);
        let sent = counts(&[("globex", 16), ("acme", 25), ("initech", 11)]);
        assert!(stands_out("globex", failed, sent, 8, 52));
    }
}
