//! The saturation checklist: the hot node's step (real work, lost time, the egress), every
//! node that loses its worker's time to failures, hanging attempts, and the signals' steps.
//! Each step is data (`SaturationStep`); `render::saturation_steps` words it.

use super::*;
use crate::analysis::deadline_cause::HungTail;

/// The share of a node's busy time in successful attempts.
pub(super) fn work_share(work: &WorkerTime) -> f64 {
    work.share(work.success_s)
}

/// Failed messages a tenant needs before a node's lost time is called that tenant's.
pub(super) const MIN_TENANT_MESSAGES: u64 = 3;
/// Messages a node's retries must have saved before its worker-time step says to keep them.
const MIN_SAVED_MESSAGES: u64 = 5;

/// Timeouts and backoff above this share of a node's busy time make it a dependency problem.
pub(super) const DEPENDENCY_SHARE: f64 = 0.5;

/// The tenant that lost most of `node`'s time to `lost` (timeouts or errors, with their
/// backoff), with its share (see `tenant_share`).
pub fn dominant_tenant(
    node: &NodeReport,
    lost: impl Fn(&WorkerTime) -> f64,
) -> Option<(&str, f64)> {
    tenant_share::dominant_tenant(
        node.worker_time_by_tenant
            .iter()
            .map(|(tenant, work)| (tenant.as_str(), lost(work))),
    )
    // One request retried many times is not a tenant's problem: a few messages at least, and
    // a failure rate that stands out from the other tenants' (a big tenant fails most when
    // everyone fails alike).
    .filter(|(tenant, _, _)| {
        let of = |pick: fn(&WorkerTime) -> u64| {
            move |name: &str| node.worker_time_by_tenant.get(name).map_or(0, pick)
        };
        let total = |pick: fn(&WorkerTime) -> u64| -> u64 {
            node.worker_time_by_tenant.values().map(pick).sum()
        };
        node.worker_time_by_tenant
            .get(*tenant)
            .is_some_and(|work| work.failed_messages >= MIN_TENANT_MESSAGES)
            && tenant_share::stands_out(
                tenant,
                of(|w| w.failed_messages),
                of(|w| w.messages),
                total(|w| w.failed_messages),
                total(|w| w.messages),
            )
    })
    .map(|(tenant, weight, total)| (tenant, weight / total))
}

pub(super) fn timeout_lost(work: &WorkerTime) -> f64 {
    work.timeout_s + work.backoff_after_timeout_s
}

pub(super) fn error_lost(work: &WorkerTime) -> f64 {
    work.error_s + work.backoff_s - work.backoff_after_timeout_s
}

/// One step of saturation's checklist. Serialized as its sentence (`render::saturation_steps`).
#[derive(Debug, Clone)]
pub enum SaturationStep {
    /// An attempt running far past its node's p95 at the end of the input, holding its worker.
    Hang(Hang),
    /// The bottleneck's own step: what holds it, and what to do.
    Bottleneck(Box<HotStep>),
    /// A node other than the bottleneck whose worker lost most of its time to failures.
    LostTime(LostStep),
    /// A saturation signal, with no bottleneck to say more.
    Saturated { node: String, detail: SignalDetail },
    /// No attempt succeeds for a while, and they ended in errors: nothing hangs.
    FailingNotHanging { node: String, detail: SignalDetail },
    /// Its steadily rising latency crossed its timeout: it stopped succeeding.
    TrendStalled {
        node: String,
        detail: Option<SignalDetail>,
    },
    /// Its own timeout cuts every attempt while what it calls does not answer.
    TimeoutsCut { node: String, detail: SignalDetail },
    /// It starts work that does not finish.
    NotFinishing { node: String, detail: SignalDetail },
    /// A retry storm whose retries ended no message for good: they keep it working.
    RetriesSaving { node: String, detail: SignalDetail },
    /// A retry storm; the node's backoff slept and retries, for the advice.
    RetryStorm {
        node: String,
        detail: SignalDetail,
        backoff_s: f64,
        retries: u64,
    },
    /// A latency regression with its trend.
    Regressed {
        node: String,
        detail: SignalDetail,
        trend: LatencyTrend,
    },
    /// Slower late in the span, but backed up behind the bottleneck `hot`.
    SlowerBehind {
        node: String,
        detail: SignalDetail,
        hot: String,
    },
    /// Slower late in the span.
    SlowerLate { node: String, detail: SignalDetail },
    /// Traces that accumulate pending messages.
    BlockedDownstream {
        traces: u64,
        example: Option<String>,
    },
}

/// The bottleneck's step: the node as judged, its capacity, and the verdict on what holds it.
#[derive(Debug, Clone)]
pub struct HotStep {
    pub hot: Bottleneck,
    /// Its queue_maxsize, when bounded.
    pub capacity: Option<i64>,
    pub verdict: HotVerdict,
    /// Other nodes' episodes follow the step (its pressure is not over).
    pub other_episodes_follow: bool,
}

/// What holds the bottleneck, first match wins.
#[derive(Debug, Clone)]
pub enum HotVerdict {
    /// Its pressure is over: a burst, or a runtime that stopped.
    Over(PressureWindow),
    /// A sink blocked on the full egress in its window.
    DrainEgress(EgressWait),
    /// A sink whose egress was full in most readings.
    WaitsOnEgress,
    /// One tenant's messages are most of its real work.
    TenantLoad { load: TenantLoad, busy: Busy },
    /// Its worker lost most of its time to failures.
    LostTime(LostStep),
    /// Its name also stands for another flow's node, with no replica beside it.
    SharedName {
        instance: String,
        shared: SharedName,
        queue_maxsize: Option<i64>,
    },
    /// One instance took more than its share of the messages at their speed.
    LoadImbalance {
        instance: String,
        apart: InstancePressure,
    },
    /// One instance only is pressed, at a speed of its own.
    OneInstance {
        instance: String,
        apart: InstancePressure,
    },
    /// Several instances pressed alike: real work, replicas each.
    Replicas {
        instance: String,
        apart: InstancePressure,
        work_share: f64,
    },
    /// A few calls that hung hold its worker.
    HungTail(HungTail),
    /// Most of its attempts failed while its queue was full.
    Failing {
        window: PressureWindow,
        work_share: f64,
    },
    /// Its own attempts took far longer while its queue was full.
    SlowedDown(PressureWindow),
    /// Busy with real work.
    Busy { busy_share: f64, work_share: f64 },
}

/// How busy the bottleneck is, for the tenant-load step.
#[derive(Debug, Clone)]
pub enum Busy {
    /// In its most pressed instance, against the others.
    Instance {
        instance: String,
        apart: InstancePressure,
    },
    Node {
        busy_share: f64,
        work_share: f64,
    },
}

/// A node whose worker loses most of its busy time to failures and the retry backoff after
/// them: its dependency, not its capacity.
#[derive(Debug, Clone)]
pub struct LostStep {
    pub node: String,
    pub work: WorkerTime,
    pub cause: LostTo,
}

#[derive(Debug, Clone)]
pub enum LostTo {
    Timeouts {
        timeouts: u64,
        /// What the timeouts say, first match wins.
        reading: TimeoutReading,
    },
    Errors {
        errors: u64,
        /// The tenant that lost most of that time, with its share.
        tenant: Option<(String, f64)>,
        /// Messages its retries saved (whose first attempt failed here and then succeeded),
        /// when more than ended here for good: (saved, failed messages, ended for good).
        saved: Option<(u64, u64, u64)>,
    },
}

#[derive(Debug, Clone)]
pub enum TimeoutReading {
    /// Its outbound queue was full at most of them: blocked handing over, not a dependency.
    Backpressure { outbound_full: u64 },
    /// Its own latency rose steadily until its calls crossed the timeout.
    Trend(LatencyTrend),
    /// Its dependency; the tenant that lost most of that time, with its share.
    Dependency { tenant: Option<(String, f64)> },
}

/// What a node's worker lost most of its time to, when that is most of it.
fn lost_step(node: &NodeReport) -> Option<(&'static str, f64, LostStep)> {
    let work = &node.worker_time;
    let tenant = |lost: fn(&WorkerTime) -> f64| {
        dominant_tenant(node, lost).map(|(tenant, share)| (tenant.to_string(), share))
    };
    let (cause, share, lost_to) = if node.timeouts > 0 && work.timeout_share() >= DEPENDENCY_SHARE {
        let reading = if node.timeouts_outbound_full * 2 > node.timeouts {
            TimeoutReading::Backpressure {
                outbound_full: node.timeouts_outbound_full,
            }
        } else if let Some(trend) = node.latency_trend.as_ref().filter(|t| t.crossed_timeout()) {
            TimeoutReading::Trend(trend.clone())
        } else {
            TimeoutReading::Dependency {
                tenant: tenant(timeout_lost),
            }
        };
        let lost_to = LostTo::Timeouts {
            timeouts: node.timeouts,
            reading,
        };
        ("timeouts", work.timeout_share(), lost_to)
    } else if node.errors > 0 && work.error_share() >= DEPENDENCY_SHARE {
        // Messages whose first attempt failed and that then succeeded here: when the retries
        // save more than end here for good, they are worth their backoff.
        let saved = work.failed_messages.saturating_sub(node.terminal);
        let lost_to = LostTo::Errors {
            errors: node.errors,
            tenant: tenant(error_lost),
            saved: (saved > node.terminal && saved >= MIN_SAVED_MESSAGES).then_some((
                saved,
                work.failed_messages,
                node.terminal,
            )),
        };
        ("errors", work.error_share(), lost_to)
    } else {
        return None;
    };
    Some((
        cause,
        share,
        LostStep {
            node: node.node_name.clone(),
            work: *work,
            cause: lost_to,
        },
    ))
}

/// A node whose worker lost most of its busy time to failures and their backoff.
#[derive(Debug, Clone, Serialize)]
pub struct LostTime {
    pub node_name: String,
    /// `timeouts` or `errors`.
    pub cause: &'static str,
    pub share: f64,
    pub step: LostStep,
}

/// What a node's worker lost most of its time to, when that is most of it.
pub(super) fn lost_time(node: &NodeReport) -> Option<LostTime> {
    let (cause, share, step) = lost_step(node)?;
    Some(LostTime {
        node_name: node.node_name.clone(),
        cause,
        share,
        step,
    })
}

/// The latency trend of `node`, if it had one.
pub(super) fn trend_of<'a>(nodes: &'a [NodeReport], node: &str) -> Option<&'a LatencyTrend> {
    nodes
        .iter()
        .find(|n| n.node_name == node)
        .and_then(|n| n.latency_trend.as_ref())
}

/// Lost-time findings of every node but the hot node (whose own step says it).
pub(super) fn lost_elsewhere(nodes: &[NodeReport], hot: Option<&Bottleneck>) -> Vec<LostTime> {
    nodes
        .iter()
        .filter(|node| hot.is_none_or(|h| h.node_name != node.node_name))
        .filter_map(lost_time)
        .collect()
}

/// The tenant whose messages are the bottleneck's load (`tenant_share::load_of_one_tenant`,
/// on each tenant's own work there), when its step is about its worker's real work: not a
/// pressure that is over, an egress the app does not drain, a worker losing its time to
/// failures, one pod of several, a node that slowed down, nor a transient bottleneck (the
/// shares are over the whole input) or a name that also stands for another flow's node (they
/// pool both nodes' work).
pub(super) fn tenant_load(nodes: &[NodeReport], hot: &Bottleneck) -> Option<TenantLoad> {
    let report = nodes.iter().find(|n| n.node_name == hot.node_name)?;
    let window = hot.window.as_ref();
    let one_pod_only = report
        .pressure_apart
        .as_ref()
        .is_some_and(|apart| apart.others_pressed == 0);
    // Replicas pressed alike are judged before a slow-down (the checklist's order).
    let replicas = report.pressure_instance.is_some() && report.pressure_apart.is_some();
    let slowed_down = !replicas && window.is_some_and(PressureWindow::slowed_down);
    if window.is_some_and(|w| w.over)
        || hot.waits_on_egress
        || hot.during.is_some()
        || hot.shared_name.is_some()
        || report.shared_name.is_some()
        || one_pod_only
        || slowed_down
        || lost_time(report).is_some()
    {
        return None;
    }
    let mut per_tenant: Vec<(&str, f64, u64)> = report
        .worker_time_by_tenant
        .iter()
        .map(|(tenant, work)| (tenant.as_str(), work.own_work_s, work.messages))
        .collect();
    // Tenants past the ones followed (`MAX_INSTANCES`) still count in the node's totals, as
    // messages without a tenant do: a share is of all the node's work.
    let (work, messages) = per_tenant
        .iter()
        .fold((0.0, 0), |(w, m), (_, work, count)| (w + work, m + count));
    let rest_work = (report.worker_time.own_work_s - work).max(0.0);
    let rest_messages = report.worker_time.messages.saturating_sub(messages);
    if !per_tenant.is_empty() && (rest_messages > 0 || rest_work > 1e-6) {
        match per_tenant.iter_mut().find(|(t, _, _)| *t == UNKNOWN_TENANT) {
            Some(unknown) => {
                unknown.1 += rest_work;
                unknown.2 += rest_messages;
            }
            None => per_tenant.push((UNKNOWN_TENANT, rest_work, rest_messages)),
        }
    }
    tenant_share::load_of_one_tenant(per_tenant)
}

/// The checklist, and whether its bottleneck step (the first) says the bottleneck is one
/// instance's load imbalance rather than a slower host.
pub(super) fn remediate(
    nodes: &[NodeReport],
    signals: &[Signal],
    hot: Option<&Bottleneck>,
) -> (Vec<SaturationStep>, bool) {
    let mut steps = Vec::new();
    let mut load_imbalance = false;
    let hot_report = hot.and_then(|h| nodes.iter().find(|n| n.node_name == h.node_name));
    if let (Some(hot), Some(report)) = (hot, hot_report) {
        let verdict = hot_verdict(hot, report);
        load_imbalance = matches!(verdict, HotVerdict::LoadImbalance { .. });
        steps.push(SaturationStep::Bottleneck(Box::new(HotStep {
            hot: hot.clone(),
            capacity: report.queue_maxsize.filter(|c| *c > 0),
            // The over step tells the other episodes itself.
            other_episodes_follow: hot.window.as_ref().is_some_and(|window| !window.over),
            verdict,
        })));
    }
    for lost in lost_elsewhere(nodes, hot) {
        steps.push(SaturationStep::LostTime(lost.step));
    }
    for signal in signals {
        let node = signal.node_name.clone().unwrap_or_default();
        let detail = signal.detail.clone();
        match signal.kind {
            SignalKind::Saturation if hot.is_none() => {
                steps.push(SaturationStep::Saturated { node, detail })
            }
            SignalKind::SlowDependency if signal.ended_in_errors => {
                steps.push(SaturationStep::FailingNotHanging { node, detail })
            }
            SignalKind::SlowDependency => match trend_of(nodes, &node) {
                Some(trend) if trend.crossed_timeout() => {
                    steps.push(SaturationStep::TrendStalled {
                        node,
                        detail: Some(detail),
                    })
                }
                _ if signal.ended_in_timeouts => {
                    steps.push(SaturationStep::TimeoutsCut { node, detail })
                }
                _ => steps.push(SaturationStep::NotFinishing { node, detail }),
            },
            // Retries with no message ending there for good saved every message they retried.
            SignalKind::RetryStorm
                if nodes.iter().any(|n| {
                    n.node_name == node && n.terminal == 0 && n.timeouts == 0 && n.errors > 0
                }) =>
            {
                steps.push(SaturationStep::RetriesSaving { node, detail })
            }
            SignalKind::RetryStorm => {
                let (backoff_s, retries) = nodes
                    .iter()
                    .find(|n| n.node_name == node)
                    .map_or((0.0, 0), |n| (n.worker_time.backoff_s, n.retries));
                steps.push(SaturationStep::RetryStorm {
                    node,
                    detail,
                    backoff_s,
                    retries,
                })
            }
            SignalKind::LatencyRegression => {
                if let Some(trend) = trend_of(nodes, &node) {
                    steps.push(SaturationStep::Regressed {
                        node,
                        detail,
                        trend: trend.clone(),
                    });
                    continue;
                }
                steps.push(match hot {
                    Some(hot) if hot.backed_up.contains(&node) => SaturationStep::SlowerBehind {
                        node,
                        detail,
                        hot: hot.node_name.clone(),
                    },
                    _ => SaturationStep::SlowerLate { node, detail },
                });
            }
            _ => {}
        }
    }
    let blocked: Vec<&Signal> = signals
        .iter()
        .filter(|s| s.kind == SignalKind::BlockedDownstream)
        .collect();
    if let Some(example) = blocked.first() {
        steps.push(SaturationStep::BlockedDownstream {
            traces: blocked.len() as u64,
            example: example.trace_id.clone(),
        });
    }
    (steps, load_imbalance)
}

/// What holds the bottleneck: the first of the verdicts below that its evidence bears out.
fn hot_verdict(hot: &Bottleneck, report: &NodeReport) -> HotVerdict {
    let egress_bound = hot.window.as_ref().and_then(|window| {
        window
            .egress
            .as_ref()
            .filter(|_| hot.sink && window.egress_bound())
    });
    let work_share = work_share(&report.worker_time);
    if let Some(window) = hot.window.as_ref().filter(|window| window.over) {
        return HotVerdict::Over(window.clone());
    }
    if let Some(egress) = egress_bound.filter(|_| !hot.waits_on_egress) {
        return HotVerdict::DrainEgress(egress.clone());
    }
    if hot.waits_on_egress {
        return HotVerdict::WaitsOnEgress;
    }
    if let Some(load) = hot.tenant_load.as_ref() {
        let busy = match (&report.pressure_instance, report.pressure_apart) {
            (Some(instance), Some(apart)) => Busy::Instance {
                instance: instance.clone(),
                apart,
            },
            _ => Busy::Node {
                busy_share: report.busy_share,
                work_share,
            },
        };
        return HotVerdict::TenantLoad {
            load: load.clone(),
            busy,
        };
    }
    if let Some((_, _, lost)) = lost_step(report) {
        return HotVerdict::LostTime(lost);
    }
    match (
        &report.pressure_instance,
        report.pressure_apart,
        &report.shared_name,
    ) {
        // Its name also stands for another flow's node, and it has no replica beside it: its
        // own worker's time, not an average with a worker it does not share.
        (Some(instance), None, Some(shared)) => HotVerdict::SharedName {
            instance: instance.clone(),
            shared: shared.clone(),
            queue_maxsize: report.queue_maxsize,
        },
        (Some(instance), Some(apart), _) if apart.others_pressed == 0 && apart.load_imbalance() => {
            HotVerdict::LoadImbalance {
                instance: instance.clone(),
                apart,
            }
        }
        (Some(instance), Some(apart), _) if apart.others_pressed == 0 => HotVerdict::OneInstance {
            instance: instance.clone(),
            apart,
        },
        (Some(instance), Some(apart), _) => HotVerdict::Replicas {
            instance: instance.clone(),
            apart,
            work_share,
        },
        // A few calls that hung (no timeout cuts them) hold its worker: its tail, not its
        // speed (an average over the window would read as a slowdown).
        _ if report.hung_calls.is_some() => {
            HotVerdict::HungTail(report.hung_calls.clone().expect("checked above"))
        }
        // Most of its attempts failed while its queue was full: timeouts, errors and their
        // backoff held its worker; replicas would call the failing dependency more, not get
        // more done.
        _ if hot.window.as_ref().is_some_and(PressureWindow::failing) => HotVerdict::Failing {
            window: hot.window.clone().expect("checked above"),
            work_share,
        },
        // Its own attempts took far longer while its queue was full: a slow spell of what it
        // calls, which replicas would share rather than fix.
        _ if hot.window.as_ref().is_some_and(PressureWindow::slowed_down) => {
            HotVerdict::SlowedDown(hot.window.clone().expect("checked above"))
        }
        _ => HotVerdict::Busy {
            busy_share: report.busy_share,
            work_share,
        },
    }
}
