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

/// A trace's path's own work (the sum of `own_work_of` each node it visited) when it was
/// slowed (took at least `slowed_from_ms` of it); `None` when it was not, or a node's own work
/// is unknown.
pub fn slowed_trace(
    summary: &super::trace::TraceSummary,
    own_work_of: impl Fn(&str) -> Option<f64>,
) -> Option<f64> {
    let own_work_ms: f64 = summary
        .visits
        .iter()
        .map(|visit| own_work_of(&visit.node_name))
        .sum::<Option<f64>>()?;
    (own_work_ms > 0.0 && summary.duration_ms() >= slowed_from_ms(own_work_ms))
        .then_some(own_work_ms)
}

/// True when `slowed` of a tenant's `traces` succeeded traces were slowed (see
/// `slowed_from_ms`): enough of them, and a large enough share, to be the tenant's experience.
pub fn tenant_slowed(slowed: u64, traces: u64) -> bool {
    slowed >= MIN_SLOWED_TRACES && slowed as f64 >= SLOWED_SHARE * traces as f64
}

/// A tenant whose messages take at least `LOAD_SHARE` of a node's own work (successful
/// attempts that did not wait to hand their output over), and at least `LOAD_RATIO` times its
/// share of the node's messages, is the node's load: each of its messages costs the node far
/// more than the others' (large payloads), so the others wait behind its work. Judged on at
/// least `MIN_LOAD_MESSAGES` of its messages and as many of the others'.
pub const LOAD_SHARE: f64 = 0.5;
pub const LOAD_RATIO: f64 = 2.0;
pub const MIN_LOAD_MESSAGES: u64 = 10;

/// One tenant's part of a node's own work and of its messages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoadShare {
    pub tenant: String,
    /// Seconds of own work (successes that did not wait to hand over) its messages took.
    pub own_work_s: f64,
    /// Messages taken (first attempts).
    pub messages: u64,
    pub work_share: f64,
    pub message_share: f64,
}

/// The tenant whose messages are a node's load (see `LOAD_SHARE`), with the evidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TenantLoad {
    #[serde(flatten)]
    pub tenant: LoadShare,
    /// Its own work per message (ms), and the other messages' (all other tenants together).
    pub ms_per_message: f64,
    pub others_ms_per_message: f64,
    /// The node's own work and messages in all.
    pub node_own_work_s: f64,
    pub node_messages: u64,
    /// Every other tenant's part, most work first (messages without a tenant are `UNKNOWN_TENANT`).
    pub others: Vec<LoadShare>,
}

/// The tenant whose messages are the node's load: `(tenant, own work seconds, messages)` per
/// tenant. Messages without a tenant count in the totals but are never the answer; with a
/// tenant's share of the work about its share of the messages (however large both are), no
/// tenant is.
pub fn load_of_one_tenant<'a>(
    per_tenant: impl IntoIterator<Item = (&'a str, f64, u64)>,
) -> Option<TenantLoad> {
    let per_tenant: Vec<(&str, f64, u64)> = per_tenant.into_iter().collect();
    let work: f64 = per_tenant.iter().map(|(_, seconds, _)| seconds).sum();
    let messages: u64 = per_tenant.iter().map(|(_, _, count)| count).sum();
    if work <= 0.0 || messages == 0 {
        return None;
    }
    let share = |(tenant, seconds, count): &(&str, f64, u64)| LoadShare {
        tenant: tenant.to_string(),
        own_work_s: *seconds,
        messages: *count,
        work_share: seconds / work,
        message_share: *count as f64 / messages as f64,
    };
    let heaviest = per_tenant
        .iter()
        .filter(|(tenant, _, _)| *tenant != UNKNOWN_TENANT)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let found = share(heaviest);
    let others_messages = messages - found.messages;
    if found.work_share < LOAD_SHARE
        || found.work_share < LOAD_RATIO * found.message_share
        || found.messages < MIN_LOAD_MESSAGES
        || others_messages < MIN_LOAD_MESSAGES
    {
        return None;
    }
    let mut others: Vec<LoadShare> = per_tenant
        .iter()
        .filter(|(tenant, _, _)| *tenant != heaviest.0)
        .map(share)
        .collect();
    others.sort_by(|a, b| b.own_work_s.total_cmp(&a.own_work_s));
    Some(TenantLoad {
        ms_per_message: found.own_work_s * 1000.0 / found.messages as f64,
        others_ms_per_message: (work - found.own_work_s) * 1000.0 / others_messages as f64,
        node_own_work_s: work,
        node_messages: messages,
        tenant: found,
        others,
    })
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

/// True when `tenant`'s failures stand out against the other tenants' *in the pods it ran
/// in*: each pod is its own runtime with its own queues, so only the tenants sharing its pods
/// sent messages through the same queues. `failures` and `traffic` are keyed by (pod, tenant).
/// False when no other tenant shared its pods: nothing then compares its messages with
/// others' in the same queues.
pub fn stands_out_in_its_pods(
    tenant: &str,
    failures: &std::collections::BTreeMap<(String, String), u64>,
    traffic: &std::collections::BTreeMap<(String, String), u64>,
) -> bool {
    use std::collections::{BTreeMap, BTreeSet};
    let pods: BTreeSet<&str> = traffic
        .keys()
        .filter(|(_, t)| t == tenant)
        .map(|(pod, _)| pod.as_str())
        .collect();
    fn per_tenant<'m>(
        map: &'m BTreeMap<(String, String), u64>,
        pods: &BTreeSet<&str>,
    ) -> BTreeMap<&'m str, u64> {
        let mut sums: BTreeMap<&str, u64> = BTreeMap::new();
        for ((pod, t), count) in map {
            if pods.contains(pod.as_str()) {
                *sums.entry(t.as_str()).or_default() += count;
            }
        }
        sums
    }
    let (failed, taken) = (per_tenant(failures, &pods), per_tenant(traffic, &pods));
    if !taken.keys().any(|t| *t != tenant) {
        return false;
    }
    let of = |map: &BTreeMap<&str, u64>, key: &str| map.get(key).copied().unwrap_or(0);
    stands_out(
        tenant,
        |t| of(&failed, t),
        |t| of(&taken, t),
        failed.values().sum(),
        taken.values().sum(),
    )
}

/// A pod taking at least this many times its fair share of the traffic (the traffic over the
/// pods) is overloaded by the way traffic is spread.
pub const IMBALANCE_RATIO: f64 = 1.5;
/// A node whose own work in one pod takes at least this many times its time in the others is
/// slower there (the pod's host, a noisy neighbour, a dependency it reaches).
pub const SLOW_POD_RATIO: f64 = 1.5;

/// Why one pod's node could not keep up while the same node in the other pods did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PodLoad {
    /// The pod got far more than its share of the traffic, and its node works as fast as the
    /// other pods': the traffic is spread unevenly.
    Imbalance,
    /// Its node's own work is slower there than in the other pods.
    SlowPod,
    /// Neither: its share and its speed are like the others'.
    Capacity,
}

/// How a pod that took `pod_traces` of `all_traces` (over `pods` pods) compares with the
/// others: its node's p50 own work there and in the other pods.
pub fn pod_load(
    pod_traces: u64,
    all_traces: u64,
    pods: usize,
    own_ms_here: Option<f64>,
    own_ms_elsewhere: Option<f64>,
) -> PodLoad {
    if let (Some(here), Some(there)) = (own_ms_here, own_ms_elsewhere)
        && there > 0.0
        && here >= SLOW_POD_RATIO * there
    {
        return PodLoad::SlowPod;
    }
    let fair = all_traces as f64 / pods.max(1) as f64;
    if pods >= 2 && pod_traces as f64 >= IMBALANCE_RATIO * fair {
        PodLoad::Imbalance
    } else {
        PodLoad::Capacity
    }
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
    fn a_tenant_is_the_load_when_its_work_share_far_exceeds_its_message_share() {
        // 70% of the work for 16% of the messages (seventh_bigpayload's docuflow at parse).
        let load = load_of_one_tenant([
            ("docuflow", 12.75, 122),
            ("acme", 2.2, 259),
            ("globex", 1.9, 207),
            ("initech", 1.4, 156),
        ])
        .unwrap();
        assert_eq!(load.tenant.tenant, "docuflow");
        assert!((load.tenant.work_share - 0.70).abs() < 0.01);
        assert!((load.tenant.message_share - 0.164).abs() < 0.001);
        assert!((load.ms_per_message - 104.5).abs() < 0.1);
        assert!((load.others_ms_per_message - 8.84).abs() < 0.1);
        assert_eq!(load.others[0].tenant, "acme");
        // A tenant sending 90% of the messages has 90% of the work: not a load of its own.
        assert_eq!(
            load_of_one_tenant([("acme", 9.0, 90), ("globex", 1.0, 10)]),
            None
        );
        // Twice as heavy per message but only 40% of the work: not most of the load.
        assert_eq!(
            load_of_one_tenant([("acme", 4.0, 25), ("globex", 6.0, 75)]),
            None
        );
        // Too few messages to tell; and one tenant alone is everyone.
        assert_eq!(
            load_of_one_tenant([("acme", 6.0, 7), ("globex", 4.0, 13)]),
            None
        );
        assert_eq!(load_of_one_tenant([("acme", 6.0, 70)]), None);
        // Untagged messages count in the totals, never as the load.
        assert_eq!(
            load_of_one_tenant([(UNKNOWN_TENANT, 9.0, 20), ("acme", 1.0, 80)]),
            None
        );
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

    fn by_pod(pairs: &[(&str, &str, u64)]) -> std::collections::BTreeMap<(String, String), u64> {
        pairs
            .iter()
            .map(|(pod, tenant, n)| ((pod.to_string(), tenant.to_string()), *n))
            .collect()
    }

    #[test]
    fn a_tenant_stands_out_only_against_the_tenants_of_its_pods() {
        // seventh_podimbalance: acme's 57 skips of 345 against stark's 14 of 57 in the same
        // pod; globex and initech (0 skips) ran in other pods.
        let failed = by_pod(&[("a", "acme", 57), ("a", "stark", 14)]);
        let sent = by_pod(&[
            ("a", "acme", 345),
            ("a", "stark", 57),
            ("b", "globex", 103),
            ("c", "initech", 86),
        ]);
        assert!(!stands_out_in_its_pods("acme", &failed, &sent));
        // Alone in its pod: nothing went through the same queues.
        let sent = by_pod(&[("a", "acme", 345), ("b", "globex", 103)]);
        let failed = by_pod(&[("a", "acme", 57)]);
        assert!(!stands_out_in_its_pods("acme", &failed, &sent));
        // Beside a tenant of the same pod that got through.
        let sent = by_pod(&[("a", "acme", 100), ("a", "globex", 100)]);
        let failed = by_pod(&[("a", "acme", 40)]);
        assert!(stands_out_in_its_pods("acme", &failed, &sent));
    }

    #[test]
    fn a_pod_is_overloaded_by_its_share_or_slow_by_its_work() {
        assert_eq!(
            pod_load(402, 591, 3, Some(51.0), Some(50.5)),
            PodLoad::Imbalance
        );
        assert_eq!(
            pod_load(200, 600, 3, Some(120.0), Some(50.0)),
            PodLoad::SlowPod
        );
        assert_eq!(
            pod_load(200, 600, 3, Some(51.0), Some(50.0)),
            PodLoad::Capacity
        );
    }
}
