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

/// A succeeded trace that took, end to end (from the first node's first event), at least
/// `SLOWED_RATIO` times its path's own work and `SLOWED_MIN_MS` more was slowed: it got
/// through, but waited (in queues, handing over, or on retries). A tenant with at least
/// `MIN_SLOWED_TRACES` such traces, `SLOWED_SHARE` of its succeeded ones, was slowed.
pub const SLOWED_RATIO: f64 = 5.0;
pub const SLOWED_MIN_MS: f64 = 250.0;
pub const MIN_SLOWED_TRACES: u64 = 5;
pub const SLOWED_SHARE: f64 = 0.25;

/// The duration (ms) from which a trace whose path's own work is `own_work_ms` was slowed.
pub fn slowed_from_ms(own_work_ms: f64) -> f64 {
    (SLOWED_RATIO * own_work_ms).max(own_work_ms + SLOWED_MIN_MS)
}

/// True when `slowed` of a tenant's `traces` succeeded traces were slowed (see
/// `slowed_from_ms`): enough of them, and a large enough share, to be the tenant's experience.
pub fn tenant_slowed(slowed: u64, traces: u64) -> bool {
    slowed >= MIN_SLOWED_TRACES && slowed as f64 >= SLOWED_SHARE * traces as f64
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

/// Failures confined to one pod: at least `MIN_TENANT_EVIDENCE` of them, 80% in that pod, at
/// a rate standing out from the other pods' (there must be others). Each pod is its own
/// runtime (host, sidecars, config): when it serves several tenants and fails for all of them,
/// the pod is the cause, not any one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct PodFailures<'a> {
    pub pod: &'a str,
    pub failures: u64,
    pub total: u64,
    /// The tenants the pod served (first attempts), with how many failed and how many it took.
    pub tenants: Vec<(&'a str, u64, u64)>,
    /// Other pods that served traffic.
    pub other_pods: usize,
}

impl PodFailures<'_> {
    /// Every tenant the pod served failed there (at least half its share of the pod's rate):
    /// the pod, not a tenant, with two tenants or more.
    pub fn fails_for_every_tenant(&self) -> bool {
        let (failed, taken) = self
            .tenants
            .iter()
            .fold((0, 0), |(f, t), (_, failed, taken)| (f + failed, t + taken));
        if self.tenants.len() < 2 || taken == 0 {
            return false;
        }
        let rate = failed as f64 / taken as f64;
        self.tenants
            .iter()
            .all(|(_, failed, taken)| *taken > 0 && *failed as f64 / *taken as f64 >= rate / 2.0)
    }
}

/// The pod these failures are confined to. `failures` and `traffic` are keyed by (pod,
/// tenant): failing first attempts and all first attempts.
pub fn failures_of_one_pod<'a>(
    failures: &std::collections::BTreeMap<(String, String), u64>,
    traffic: &'a std::collections::BTreeMap<(String, String), u64>,
) -> Option<PodFailures<'a>> {
    use std::collections::BTreeMap;
    let mut failed_by_pod: BTreeMap<&str, u64> = BTreeMap::new();
    for ((pod, _), count) in failures {
        *failed_by_pod.entry(pod.as_str()).or_default() += count;
    }
    let mut taken_by_pod: BTreeMap<&'a str, u64> = BTreeMap::new();
    for ((pod, _), count) in traffic {
        *taken_by_pod.entry(pod.as_str()).or_default() += count;
    }
    let total: u64 = failed_by_pod.values().sum();
    if total < MIN_TENANT_EVIDENCE || taken_by_pod.len() < 2 {
        return None;
    }
    let (pod, failed, _) = dominant_tenant(
        failed_by_pod
            .iter()
            .map(|(pod, count)| (*pod, *count as f64)),
    )?;
    let of = |map: &BTreeMap<&str, u64>, key: &str| map.get(key).copied().unwrap_or(0);
    if !stands_out(
        pod,
        |p| of(&failed_by_pod, p),
        |p| of(&taken_by_pod, p),
        total,
        taken_by_pod.values().sum(),
    ) {
        return None;
    }
    let (pod, _) = taken_by_pod.get_key_value(pod)?;
    let tenants = traffic
        .iter()
        .filter(|((p, _), _)| p == pod)
        .map(|((_, tenant), taken)| {
            let failed = failures
                .get(&(pod.to_string(), tenant.clone()))
                .copied()
                .unwrap_or(0);
            (tenant.as_str(), failed, *taken)
        })
        .collect();
    Some(PodFailures {
        pod,
        failures: failed as u64,
        total,
        tenants,
        other_pods: taken_by_pod.len() - 1,
    })
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
