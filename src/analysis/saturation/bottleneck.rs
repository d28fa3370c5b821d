//! The bottleneck: where backpressure along the learned flow graph points, with its evidence
//! (pressure shares, what backs up behind it, the runner-up and why it lost).

use super::*;

/// Share of the node's queue readings under which a queue does not count as backed up.
pub(super) const MIN_PRESSURE: f64 = 0.2;

/// The share of `counts` (depth -> readings) at or above `level`.
pub(super) fn share_at_least(counts: impl Iterator<Item = (i64, u64)>, level: f64) -> f64 {
    let (mut total, mut above) = (0, 0);
    for (depth, count) in counts {
        total += count;
        if depth as f64 >= level && depth > 0 {
            above += count;
        }
    }
    if total == 0 {
        return 0.0;
    }
    above as f64 / total as f64
}

/// The hot node and the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct Bottleneck {
    pub node_name: String,
    pub inbound_full_share: f64,
    pub outbound_full_share: f64,
    pub q_depth_in_max: i64,
    pub q_depth_out_max: i64,
    pub queue_maxsize: Option<i64>,
    /// The share of capacity at which a queue counts as full (`--threshold`).
    pub threshold: f64,
    /// No node follows it in the flow graph.
    pub sink: bool,
    /// A sink whose outbound queue, the egress, fills: the app does not drain `flow.fetch()`
    /// fast enough; the node waits on it rather than working.
    pub waits_on_egress: bool,
    /// With several instances of the node (pods, processes): the most pressed one, and how
    /// many there are.
    pub instance: Option<String>,
    pub instances: u64,
    /// When its name stands for nodes of different flows: which one it is (by what feeds
    /// it), and the others (absent when the name is one node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_name: Option<SharedName>,
    /// Nodes upstream of it (by the flow graph) whose queues are backed up: they wait on it.
    pub backed_up: Vec<String>,
    pub runner_up: Option<RunnerUp>,
    /// When its inbound queue was full, and whether that is over.
    pub window: Option<PressureWindow>,
    /// Episodes apart from its window in which another node was the bottleneck on its own:
    /// its queue full while its output queue was not, a calm away from the window, or its
    /// backlog only passed on to this node's queue as it drained.
    pub other_episodes: Vec<OtherEpisode>,
    /// Judged over the buckets of a saturation run only (the shares are of those buckets):
    /// over the whole input no node was pressed long enough.
    pub during: Option<SaturationRun>,
    /// When its worker is busy with real work and one tenant's messages are most of it
    /// (`tenant_share::load_of_one_tenant`; absent otherwise): the checklist names that tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_load: Option<TenantLoad>,
}

/// Another node's episode of pressure, apart from the bottleneck's window.
#[derive(Debug, Clone, Serialize)]
pub struct OtherEpisode {
    pub node_name: String,
    /// When its queue was full, and what filled it (its own work's latency, a tenant); `over`
    /// for an episode before the bottleneck's window is that it ended before that began.
    #[serde(flatten)]
    pub window: PressureWindow,
    /// The bottleneck's queue filled as this episode's backlog reached it: that stretch is
    /// this episode's drain, not the bottleneck's own (null when it did not).
    pub passed_on: Option<PassedOn>,
}

/// When the bottleneck's queue was full with another episode's backlog.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PassedOn {
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Other episodes told, at most.
const MAX_OTHER_EPISODES: usize = 3;

/// Cuts the bottleneck's window into the episodes that were its own: a stretch of its queue
/// that filled while a node upstream of it had been the bottleneck on its own for a while, and
/// ended soon after that node drained, is that node's backlog passing through (a slow spell
/// upstream releases its backlog downstream), not this node's pressure. Those, and the other
/// nodes' own episodes a calm away from the window, are told apart (`other_episodes`).
/// `explain` gives a window its cause from its node's buckets; `last_reading` is a node's
/// latest queue reading.
pub(super) fn separate_episodes(
    hot: &mut Bottleneck,
    nodes: &[NodeReport],
    graph: &FlowGraph,
    span_s: f64,
    explain: impl Fn(&str, &mut PressureWindow),
) {
    let Some(window) = hot.window.as_ref() else {
        return;
    };
    let Some(hot_report) = nodes.iter().find(|n| n.node_name == hot.node_name) else {
        return;
    };
    let calm = calm_micros(span_s);
    let gap = super::episodes::STRETCH_GAP_MICROS;
    let last_reading = |window: &PressureWindow| {
        Timestamp(
            window
                .last
                .0
                .saturating_add((window.drained_s * 1e6).round() as i64),
        )
    };
    let hot_last_reading = last_reading(window);
    // Pods have queues of their own: another pod's pressure leads nothing here.
    let same_process = |node: &NodeReport| match (&hot.instance, &node.pressure_instance) {
        (Some(a), Some(b)) if a.starts_with("pod ") && b.starts_with("pod ") => a == b,
        _ => true,
    };
    let upstream = |node: &str| {
        graph.is_downstream(&hot.node_name, node) && !graph.is_downstream(node, &hot.node_name)
    };
    // Other nodes' episodes in which they were the bottleneck on their own, a second at least.
    let own: Vec<(&NodeReport, &Episode)> = nodes
        .iter()
        .filter(|n| n.node_name != hot.node_name && same_process(n))
        .filter(|n| n.queue_maxsize.is_some_and(|c| c > 0))
        .flat_map(|n| n.episodes.iter().map(move |e| (n, e)))
        .filter(|(_, e)| e.own(MIN_PRESSURE) && e.micros() >= gap)
        .collect();
    let led_by = |episode: &Episode| {
        own.iter().position(|(node, other)| {
            upstream(&node.node_name)
                && other.first.0.saturating_add(gap) <= episode.first.0
                && episode.first.0 <= other.last.0.saturating_add(gap)
                && episode.last.0.saturating_sub(other.last.0) <= other.micros()
        })
    };
    let mut kept: Vec<Episode> = Vec::new();
    let mut passed: Vec<(usize, PassedOn)> = Vec::new();
    for episode in &hot_report.episodes {
        match led_by(episode) {
            Some(index) => passed.push((
                index,
                PassedOn {
                    first: episode.first,
                    last: episode.last,
                },
            )),
            None => kept.push(episode.clone()),
        }
    }
    if !passed.is_empty() && !kept.is_empty() {
        let stopped = window.stopped;
        if let Some(mut narrowed) = PressureWindow::of(&kept, hot_last_reading, span_s) {
            if let Some(stopped) = stopped.filter(|stopped| *stopped >= narrowed.last) {
                narrowed.stopped = Some(stopped);
                narrowed.over = true;
            }
            explain(&hot.node_name, &mut narrowed);
            hot.window = Some(narrowed);
        }
    } else {
        passed.clear();
    }
    let Some(window) = hot.window.as_ref() else {
        return;
    };
    let (first, last) = (window.first, window.last);
    let mut others: Vec<OtherEpisode> = own
        .iter()
        .enumerate()
        .filter_map(|(index, (node, episode))| {
            let passed_on = passed
                .iter()
                .filter(|(led, _)| *led == index)
                .map(|(_, on)| *on)
                .reduce(|a, b| PassedOn {
                    first: a.first.min(b.first),
                    last: a.last.max(b.last),
                });
            let before = episode.last.0.saturating_add(calm) <= first.0;
            let after = episode.first.0 >= last.0.saturating_add(calm);
            if passed_on.is_none() && !before && !after {
                return None;
            }
            // Read below full until its next episode, or its latest reading.
            let until = node
                .episodes
                .iter()
                .map(|e| e.first)
                .filter(|t| *t > episode.last)
                .min()
                .or_else(|| node.pressure_window.as_ref().map(last_reading))
                .unwrap_or(episode.last);
            let mut window = PressureWindow::of(std::slice::from_ref(*episode), until, span_s)?;
            explain(&node.node_name, &mut window);
            // It ended before the bottleneck's window began: not the pressure of now.
            if episode.last < first {
                window.over = true;
            }
            Some(OtherEpisode {
                node_name: node.node_name.clone(),
                window,
                passed_on,
            })
        })
        .collect();
    // The longest first, then in time order.
    others.sort_by_key(|o| std::cmp::Reverse(o.window.last.0.saturating_sub(o.window.first.0)));
    others.truncate(MAX_OTHER_EPISODES);
    others.sort_by_key(|o| o.window.first);
    hot.other_episodes = others;
}

/// The buckets of the longest saturation run, over which a transient bottleneck is judged.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SaturationRun {
    pub from: Timestamp,
    pub to: Timestamp,
    pub bucket_s: f64,
}

/// The node that came closest to being the hot node, and why it is not.
#[derive(Debug, Clone, Serialize)]
pub struct RunnerUp {
    pub node_name: String,
    pub inbound_full_share: f64,
    pub outbound_full_share: f64,
    pub lost_because: LostBecause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LostBecause {
    /// It is upstream of the hot node: its pressure is the hot node's, passed back.
    Upstream,
    /// Its outbound queue was about as full as its inbound: it waits on a node after it.
    OutboundFull,
    /// Its inbound queue was full less often.
    LessPressure,
}

/// The bottleneck by backpressure along the flow: a full queue blocks the node that feeds it,
/// so pressure propagates upstream and every node before the bottleneck shows a full inbound
/// queue and looks slow (its `node_success` latency includes the wait to hand its output
/// over). The bottleneck is the most downstream node whose inbound queue is full while its
/// outbound queue is not (or that is a sink). Shares are over queue readings, not time
/// buckets, so the verdict does not depend on the bucket width.
pub(super) fn bottleneck(
    nodes: &[NodeReport],
    runs: &[Option<(Timestamp, Timestamp)>],
    graph: &FlowGraph,
    threshold: f64,
) -> Option<Bottleneck> {
    let pressured = |node: &NodeReport| node.inbound_full_share >= MIN_PRESSURE;
    let is_sink = |node: &NodeReport| graph.is_sink(&node.node_name);
    // A sink whose outbound queue (the egress, drained by the app's flow.fetch()) fills waits
    // on the app: it is the bottleneck's place even with room before it.
    let waits_on_egress =
        |node: &NodeReport| is_sink(node) && node.outbound_full_share >= MIN_PRESSURE;
    let candidate = |node: &NodeReport| {
        waits_on_egress(node)
            || (pressured(node)
                && (is_sink(node) || node.outbound_full_share < node.inbound_full_share / 2.0))
    };
    let score = |node: &NodeReport| node.inbound_full_share - node.outbound_full_share;
    let candidates: Vec<&NodeReport> = nodes.iter().filter(|n| candidate(n)).collect();
    // The most downstream candidates: none of the others lies after them (strictly: a cycle
    // through both leaves the choice to pressure).
    let downstream_of = |a: &NodeReport, b: &NodeReport| {
        graph.is_downstream(&a.node_name, &b.node_name)
            && !graph.is_downstream(&b.node_name, &a.node_name)
    };
    let hot = candidates
        .iter()
        .filter(|c| !candidates.iter().any(|other| downstream_of(other, c)))
        .max_by(|a, b| score(a).total_cmp(&score(b)))?;
    let runner_up = nodes
        .iter()
        .filter(|n| n.node_name != hot.node_name && pressured(n))
        .max_by(|a, b| {
            a.inbound_full_share
                .total_cmp(&b.inbound_full_share)
                .then(score(a).total_cmp(&score(b)))
        })
        .map(|node| RunnerUp {
            node_name: node.node_name.clone(),
            inbound_full_share: node.inbound_full_share,
            outbound_full_share: node.outbound_full_share,
            lost_because: if downstream_of(hot, node) {
                LostBecause::Upstream
            } else if !candidate(node) {
                LostBecause::OutboundFull
            } else {
                LostBecause::LessPressure
            },
        });
    let flow_order = graph.nodes();
    let run_of = |node: &NodeReport| {
        nodes
            .iter()
            .position(|n| n.node_name == node.node_name)
            .and_then(|index| runs.get(index).copied().flatten())
    };
    // When the bottleneck was pressed: its full window, else its own saturation run.
    let pressed = hot
        .pressure_window
        .as_ref()
        .map(|window| (window.first, window.last))
        .or_else(|| run_of(hot));
    // Saturated (the saturation signal's rule) while the bottleneck was pressed: backed up
    // behind it, however short that was against the whole input.
    let saturated_meanwhile = |node: &NodeReport| match (run_of(node), pressed) {
        (Some((from, to)), Some((first, last))) => from <= last && first <= to,
        _ => false,
    };
    let mut backed_up: Vec<&NodeReport> = nodes
        .iter()
        .filter(|n| downstream_of(hot, n))
        // Only a bounded queue blocks its sender: with unbounded ones nothing backs up.
        .filter(|n| n.queue_maxsize.is_some_and(|c| c > 0))
        .filter(|n| pressured(n) || n.outbound_full_share >= MIN_PRESSURE || saturated_meanwhile(n))
        .collect();
    backed_up.sort_by_key(|n| flow_order.iter().position(|name| *name == n.node_name));
    Some(Bottleneck {
        node_name: hot.node_name.clone(),
        inbound_full_share: hot.inbound_full_share,
        outbound_full_share: hot.outbound_full_share,
        q_depth_in_max: hot.q_depth_in_max,
        q_depth_out_max: hot.q_depth_out_max,
        queue_maxsize: hot.queue_maxsize,
        threshold,
        sink: is_sink(hot),
        waits_on_egress: waits_on_egress(hot),
        instance: hot.pressure_instance.clone(),
        instances: hot.instances,
        shared_name: hot.shared_name.clone(),
        backed_up: backed_up.iter().map(|n| n.node_name.clone()).collect(),
        runner_up,
        window: hot.pressure_window.clone(),
        other_episodes: Vec::new(),
        during: None,
        tenant_load: None,
    })
}

/// With no bottleneck over the whole input, one over the longest saturation run of any node:
/// a burst or a slow spell in a long input presses a queue in too few of its readings to
/// count, yet it was the bottleneck while it lasted. The same rule, on the share of the run's
/// buckets in which each queue was full (a bucket counts if one reading was).
pub(super) fn transient_bottleneck(
    nodes: &[NodeReport],
    runs: &[Option<(Timestamp, Timestamp)>],
    node_buckets: &[(String, Vec<&Bucket>)],
    indices: &[i64],
    width: i64,
    graph: &FlowGraph,
    options: SaturationOptions,
) -> Option<Bottleneck> {
    let (start, run) = nodes
        .iter()
        .zip(node_buckets)
        .filter_map(|(report, (_, buckets))| saturation_run(report, buckets, options.threshold))
        .filter(|(_, run)| *run >= options.sustain)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    let in_run: Vec<NodeReport> = nodes
        .iter()
        .zip(node_buckets)
        .map(|(report, (name, buckets))| {
            // Buckets pool a name's instances: where it stands for nodes of different flows, the
            // level of the one with the fewest inbound edges; the full queues' where senders
            // report their queues into the node full (`full_inbound_edges`).
            let in_edges = judged_inbound_edges(report.full_inbound_edges, {
                graph.least_inbound_edges(name) - report.shallow_inbound_edges
            });
            let in_level = full_level(report.queue_maxsize, in_edges, options.threshold)
                + report.shallow_inbound_depth as f64;
            let out_level = full_level(report.queue_maxsize, 1, options.threshold);
            let window = &buckets[start..start + run];
            let share = |full: &dyn Fn(&Bucket) -> bool| {
                window.iter().filter(|b| full(b)).count() as f64 / run as f64
            };
            let mut report = report.clone();
            report.inbound_full_share = share(&|b| b.q_in_max > 0 && b.q_in_max as f64 >= in_level);
            report.outbound_full_share =
                share(&|b| b.q_out_max > 0 && b.q_out_max as f64 >= out_level);
            report
        })
        .collect();
    let mut found = bottleneck(&in_run, runs, graph, options.threshold)?;
    found.during = Some(SaturationRun {
        from: Timestamp(indices[start].saturating_mul(width)),
        to: Timestamp(
            indices[start + run - 1]
                .saturating_add(1)
                .saturating_mul(width),
        ),
        bucket_s: width as f64 / 1e6,
    });
    Some(found)
}
