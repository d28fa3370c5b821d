//! The merged checklist of `triage` (`analysis::triage::Step`) in words: each step's evidence,
//! and what to do, with what triage adds to another analysis's step.

use std::fmt;

use super::trend::trend_timeout_advice;
use super::{clock, millis, plural};
use crate::analysis::deadline_cause::PodExpiry;
use crate::analysis::triage::{Advice, Evidence};

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Hang {
                node,
                trace_id,
                running_ms,
            } => write!(
                f,
                "hanging attempt: {node} for trace {trace_id}, {} ms at the end of the input",
                millis(*running_ms)
            ),
            Evidence::Category {
                category,
                events,
                traces,
                terminal,
            } => write!(
                f,
                "{category}: {} in {}, {terminal} terminal",
                plural(*events, "event"),
                plural(*traces, "trace"),
            ),
            Evidence::RetryStorm => f.write_str("retry: retry storm"),
            Evidence::HotNode { node, reason } => {
                write!(f, "saturation: hot node {node}, {reason}")
            }
            Evidence::LostTime { node, share, cause } => write!(
                f,
                "worker time: {node} lost {:.0}% of its busy time to {cause} and their backoff",
                share * 100.0,
            ),
            Evidence::Signal { kind, node, detail } => {
                write!(f, "{}: {node}, {detail}", kind.as_str())
            }
            Evidence::CrossTenant { traces, example } => write!(
                f,
                "cross-tenant: {} (e.g. {example})",
                plural(*traces, "trace"),
            ),
            Evidence::InFlight { traces } => write!(
                f,
                "in flight: {} at the end of the input",
                plural(*traces, "trace")
            ),
        }
    }
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Advice::Saturation(step) => f.write_str(&super::saturation_steps::sentence(step)),
            Advice::Bottleneck { step, pod } => {
                f.write_str(&super::saturation_steps::sentence(step))?;
                match pod {
                    Some(at) => f.write_str(&pod_differs(at)),
                    None => Ok(()),
                }
            }
            Advice::LostTime(lost) => f.write_str(&super::saturation_steps::lost_sentence(lost)),
            Advice::Classify { step, fell_in } => {
                f.write_str(&super::classify_steps::sentence(step))?;
                match fell_in {
                    Some((hot, first, last)) => write!(
                        f,
                        " They fell in {hot}'s pressure window ({} to {}, see its step).",
                        clock(*first),
                        clock(*last)
                    ),
                    None => Ok(()),
                }
            }
            Advice::TrendStalled { node } => f.write_str(
                &super::saturation_steps::trend_stalled_step(node, None),
            ),
            Advice::Regressed { node, trend } => f.write_str(&trend_timeout_advice(node, trend)),
            Advice::FailingNotHanging { node } => write!(
                f,
                "{node}'s attempts there ended in errors, not in silence, so they do not hang and no timeout is missing; fix what they raise (the errors above)."
            ),
            Advice::TimeoutsCut { node, detail } => f.write_str(
                &super::saturation_steps::timeouts_cut_step(node, detail),
            ),
            Advice::BoundDependency { node } => write!(
                f,
                "Fix or bound {node}'s slow dependency and set NodePolicy.timeout_s so it fails fast."
            ),
            Advice::FindWhatChanged { node } => write!(
                f,
                "Find what changed at {node} late in the span (a deploy, its dependency, load)."
            ),
            Advice::CheckDownstream { node, trace_id } => write!(
                f,
                "Check what downstream of {node} stopped draining trace {} (and that the egress is consumed).",
                trace_id.as_deref().unwrap_or("?")
            ),
            Advice::CrossTenant => f.write_str(
                "A trace id was used by more than one tenant: make the ingress mint a fresh trace id per request and keep Message.headers.tenant with it; check for id reuse or leaks across tenants.",
            ),
            Advice::InFlightAtEnd {
                traces,
                node,
                longest,
                open_attempt,
            } => {
                let stall = longest.map_or(String::new(), |(ms, p95)| {
                    format!(
                        ", the longest {} ms ({:.1}x its p95)",
                        millis(ms),
                        ms / p95.max(0.001)
                    )
                });
                let attempt = open_attempt.as_ref().map_or(String::new(), |trace| {
                    format!(
                        "; {node}'s attempt for trace {trace} started and did not finish: a call may be hanging there (`flowtrace find {trace}`)"
                    )
                });
                write!(
                    f,
                    "{} in flight at the end of the input wait at {node}{stall}{attempt}. The log ends with them: if the flow stopped writing (a freeze), their wait does not show here; check whether new events still arrive (kubectl logs -f).",
                    plural(*traces, "trace")
                )
            }
        }
    }
}

serialized_as_said!(Evidence, Advice);

/// What differs in the pod the deadline skips are confined to, said after the bottleneck's step
/// (which names the pod): its share of the traffic, or its node's speed.
fn pod_differs(at: &PodExpiry) -> String {
    use crate::analysis::tenant_share::PodLoad;
    let share = at.pod_traces as f64 * 100.0 / at.all_traces.max(1) as f64;
    let pods = at.other_pods.len() + 1;
    let work = |ms: Option<f64>| ms.map_or("?".to_string(), millis);
    match at.load {
        PodLoad::Imbalance => format!(
            " What differs in pod {} is its traffic, not its host: it took {share:.0}% of the traces as one of {pods} pods, with {}'s own work as fast as elsewhere (p50 {} ms there, {} ms in the other pods); every deadline skip was there (see the deadline steps).",
            at.pod,
            at.node_name,
            work(at.own_p50_ms),
            work(at.others_own_p50_ms),
        ),
        PodLoad::SlowPod => format!(
            " What differs in pod {} is {}'s own work: p50 {} ms there, {} ms in the other pods, for {share:.0}% of the traces as one of {pods} pods; every deadline skip was there (see the deadline steps).",
            at.pod,
            at.node_name,
            work(at.own_p50_ms),
            work(at.others_own_p50_ms),
        ),
        PodLoad::Capacity => format!(
            " Every deadline skip was in pod {} (see the deadline steps).",
            at.pod
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::classify::ClassifyStep;
    use crate::analysis::tenant_share::PodLoad;
    use crate::event::Timestamp;

    fn pod_expiry(load: PodLoad) -> PodExpiry {
        PodExpiry {
            pod: "web-2".into(),
            traces: 40,
            expired_in_flow: 40,
            tenants: Vec::new(),
            other_pods: Vec::new(),
            pod_traces: 60,
            all_traces: 120,
            node_name: "rank".into(),
            own_p50_ms: Some(12.0),
            others_own_p50_ms: Some(11.5),
            rate_per_s: 10.0,
            capacity_per_s: None,
            others_rate_per_s: 5.0,
            budget_left_p50_ms: None,
            path: Vec::new(),
            path_work_ms: 0.0,
            load,
        }
    }

    #[test]
    fn what_triage_adds_is_said_after_the_step() {
        assert_eq!(
            pod_differs(&pod_expiry(PodLoad::Imbalance)),
            " What differs in pod web-2 is its traffic, not its host: it took 50% of the traces as one of 1 pods, with rank's own work as fast as elsewhere (p50 12.0 ms there, 11.5 ms in the other pods); every deadline skip was there (see the deadline steps)."
        );
        assert_eq!(
            pod_differs(&pod_expiry(PodLoad::Capacity)),
            " Every deadline skip was in pod web-2 (see the deadline steps)."
        );
        let cancel = Advice::Classify {
            step: ClassifyStep::WorkersStopped {
                workers: 2,
                in_flight: 0,
            },
            fell_in: Some(("rank".into(), Timestamp(0), Timestamp(2_500_000))),
        };
        let said = cancel.to_string();
        assert!(
            said.ends_with(
                ". They fell in rank's pressure window (00:00:00.000 to 00:00:02.500, see its step)."
            ),
            "{said}"
        );
    }

    #[test]
    fn signal_advice_names_its_node() {
        let downstream = Advice::CheckDownstream {
            node: "merge".into(),
            trace_id: None,
        };
        assert_eq!(
            downstream.to_string(),
            "Check what downstream of merge stopped draining trace ? (and that the egress is consumed)."
        );
        assert_eq!(
            serde_json::to_string(&Advice::BoundDependency {
                node: "fetch".into()
            })
            .unwrap(),
            "\"Fix or bound fetch's slow dependency and set NodePolicy.timeout_s so it fails fast.\""
        );
    }
}
