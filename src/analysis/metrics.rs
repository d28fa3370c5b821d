//! The metrics PenguiFlow's telemetry guidance recommends, derived from the events at their own
//! times, one sample per series per step: counters of events per node and kind, node latency
//! histograms (seconds), queue depth, capacity and trace-pending gauges per node. Labels are of
//! low cardinality only: node, event kind, pod, and tenant while there are few tenants; never a
//! trace id. `render::metrics` writes them as OpenMetrics for `promtool`'s backfill.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::event::{Event, Kind};
use crate::pass::{Analysis, Needs, PassEnd};

/// Latency bucket bounds in seconds: the guidance's 5 ms ... 5 s.
pub const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Above this many tenants the tenant label is dropped (counts summed over tenants): a label
/// must stay of low cardinality.
pub const MAX_TENANT_LABELS: usize = 20;

/// A series' values: (step, value) at the steps where it changed, in step order.
type Points = Vec<(i64, f64)>;

fn set(points: &mut Points, step: i64, value: f64) {
    match points.last_mut() {
        Some((last, current)) if *last == step => *current = value,
        _ => points.push((step, value)),
    }
}

/// A histogram's state at the end of a step: cumulative bucket counts (the last is +Inf),
/// sum and count.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistogramState {
    pub buckets: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

/// The label values of a series, in the family's label order.
pub type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub labels: Labels,
    /// One value per step, from the series' first step to the report's last.
    pub values: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistogramSeries {
    pub labels: Labels,
    pub values: Vec<(i64, HistogramState)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FamilyType {
    Counter,
    Gauge,
}

#[derive(Debug, Clone, Serialize)]
pub struct Family {
    /// The family name (a counter's samples add `_total`).
    pub name: &'static str,
    pub kind: FamilyType,
    pub help: String,
    pub series: Vec<Series>,
}

/// The metrics of the input: what `flowtrace metrics` writes.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsReport {
    /// The step, in seconds; sample times are step ends, in Unix seconds.
    pub step_seconds: f64,
    pub families: Vec<Family>,
    pub latency: Vec<HistogramSeries>,
    /// Whether the tenant label was kept (few enough tenants).
    pub tenant_label: bool,
    pub tenants: usize,
}

#[derive(Debug)]
pub struct Metrics {
    step: i64,
    /// The last step an event fell in.
    last_step: Option<i64>,
    /// (node, event, tenant) -> count, and its change points.
    events: BTreeMap<(String, String, String), (f64, Points)>,
    /// node -> histogram state, and its change points.
    latency: BTreeMap<String, (HistogramState, Vec<(i64, HistogramState)>)>,
    /// (gauge, node, pod) -> readings.
    gauges: BTreeMap<(&'static str, String, String), Points>,
    tenants: BTreeSet<String>,
    pods: bool,
}

impl Metrics {
    /// Metrics with one sample per `step_micros`.
    pub fn new(step_micros: i64) -> Metrics {
        Metrics {
            step: step_micros.max(1),
            last_step: None,
            events: BTreeMap::new(),
            latency: BTreeMap::new(),
            gauges: BTreeMap::new(),
            tenants: BTreeSet::new(),
            pods: false,
        }
    }
}

const GAUGES: [(&str, &str); 4] = [
    (
        "penguiflow_queue_depth_in",
        "Messages waiting in the node's inbound queues (q_depth_in), the last reading of the step.",
    ),
    (
        "penguiflow_queue_depth_out",
        "Messages in the node's outbound queues (q_depth_out), the last reading of the step.",
    ),
    (
        "penguiflow_queue_maxsize",
        "The capacity of one of the node's edge queues (queue_maxsize).",
    ),
    (
        "penguiflow_trace_pending",
        "Messages pending for the trace of the node's last event in the step (trace_pending).",
    ),
];

impl Analysis for Metrics {
    type Report = MetricsReport;

    fn needs(&self) -> Needs {
        Needs::Events
    }

    fn observe(&mut self, event: &Event, _selected: bool) {
        // A sample at the end of a step counts the events up to that instant, included.
        let step = (event.ts.0 - 1).div_euclid(self.step);
        // Time order is the stream's; a late event counts in the step being written.
        let step = self.last_step.map_or(step, |last| step.max(last));
        self.last_step = Some(step);
        let node = event.node_name.as_deref().unwrap_or_default().to_string();
        let tenant = event.tenant.as_deref().unwrap_or_default().to_string();
        if !tenant.is_empty() && !self.tenants.contains(&tenant) {
            self.tenants.insert(tenant.clone());
        }
        let counter = self
            .events
            .entry((node.clone(), event.kind.as_str().to_string(), tenant))
            .or_default();
        counter.0 += 1.0;
        set(&mut counter.1, step, counter.0);
        if node.is_empty() {
            return;
        }
        if event.kind == Kind::NodeSuccess
            && let Some(latency_ms) = event.latency_ms()
        {
            let (state, points) = self.latency.entry(node.clone()).or_insert_with(|| {
                (
                    HistogramState {
                        buckets: vec![0; LATENCY_BUCKETS.len() + 1],
                        ..HistogramState::default()
                    },
                    Vec::new(),
                )
            });
            let seconds = latency_ms / 1000.0;
            for (bucket, bound) in state.buckets.iter_mut().zip(LATENCY_BUCKETS) {
                *bucket += u64::from(seconds <= bound);
            }
            *state.buckets.last_mut().expect("+Inf bucket") += 1;
            state.sum += seconds;
            state.count += 1;
            match points.last_mut() {
                Some((last, current)) if *last == step => *current = state.clone(),
                _ => points.push((step, state.clone())),
            }
        }
        let pod = event.pod.as_deref().unwrap_or_default().to_string();
        self.pods |= !pod.is_empty();
        let readings = [
            event.q_depth_in(),
            event.q_depth_out(),
            event.queue_maxsize(),
            event.trace_pending(),
        ];
        for ((name, _), reading) in GAUGES.iter().zip(readings) {
            if let Some(value) = reading {
                let points = self
                    .gauges
                    .entry((name, node.clone(), pod.clone()))
                    .or_default();
                set(points, step, value as f64);
            }
        }
    }

    fn finish(self, _end: &PassEnd<'_>) -> MetricsReport {
        let last = self.last_step.unwrap_or_default();
        let tenant_label = self.tenants.len() <= MAX_TENANT_LABELS;
        // Counters: summed over tenants when the label is dropped; one sample every step from
        // the series' first to the last (a flat counter must not go stale).
        let mut counters: BTreeMap<Labels, Points> = BTreeMap::new();
        for ((node, event, tenant), (_, points)) in self.events {
            let mut labels: Labels = vec![("node", node), ("event", event)];
            if tenant_label && !tenant.is_empty() {
                labels.push(("tenant", tenant));
            }
            let merged = counters.entry(labels).or_default();
            *merged = add_counters(merged, &points);
        }
        let event_series = counters
            .into_iter()
            .map(|(labels, points)| Series {
                labels,
                values: every_step(&points, last, 0.0),
            })
            .collect();
        let mut families = vec![Family {
            name: "penguiflow_node_events",
            kind: FamilyType::Counter,
            help: format!(
                "FlowEvents by node and kind{}.",
                if tenant_label {
                    " (and tenant, when the event carries one)"
                } else {
                    "; summed over tenants (too many to label)"
                }
            ),
            series: event_series,
        }];
        for (name, help) in GAUGES {
            let series = self
                .gauges
                .iter()
                .filter(|((gauge, _, _), _)| *gauge == name)
                .map(|((_, node, pod), points)| {
                    let mut labels: Labels = vec![("node", node.clone())];
                    if self.pods {
                        labels.push(("pod", pod.clone()));
                    }
                    Series {
                        labels,
                        values: points.clone(),
                    }
                })
                .collect();
            families.push(Family {
                name,
                kind: FamilyType::Gauge,
                help: help.to_string(),
                series,
            });
        }
        let latency = self
            .latency
            .into_iter()
            .map(|(node, (_, points))| HistogramSeries {
                labels: vec![("node", node)],
                values: every_step(&points, last, zero_state(&points)),
            })
            .collect();
        MetricsReport {
            step_seconds: self.step as f64 / 1e6,
            families,
            latency,
            tenant_label,
            tenants: self.tenants.len(),
        }
    }
}

/// A histogram with no observation, shaped like the ones in `points`.
fn zero_state(points: &[(i64, HistogramState)]) -> HistogramState {
    HistogramState {
        buckets: vec![0; points.first().map_or(0, |(_, state)| state.buckets.len())],
        ..HistogramState::default()
    }
}

/// The sum of two counters' change points (each carried forward).
fn add_counters(a: &Points, b: &Points) -> Points {
    let steps: BTreeSet<i64> = a.iter().chain(b).map(|(step, _)| *step).collect();
    let at = |points: &Points, step: i64| {
        points
            .iter()
            .take_while(|(s, _)| *s <= step)
            .last()
            .map_or(0.0, |(_, v)| *v)
    };
    steps
        .into_iter()
        .map(|step| (step, at(a, step) + at(b, step)))
        .collect()
}

/// A value for every step from the step before the first change point (`zero` there, so
/// rate() and increase() see the first events) to `last`, carried forward.
fn every_step<T: Clone>(points: &[(i64, T)], last: i64, zero: T) -> Vec<(i64, T)> {
    let Some((first, _)) = points.first() else {
        return Vec::new();
    };
    let mut values = vec![(first - 1, zero.clone())];
    let mut next = points.iter().peekable();
    let mut current = zero;
    for step in *first..=last {
        while let Some((_, value)) = next.next_if(|(s, _)| *s <= step) {
            current = value.clone();
        }
        values.push((step, current.clone()));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_carry_forward_to_the_last_step() {
        let points = vec![(3, 1.0), (5, 4.0)];
        assert_eq!(
            every_step(&points, 7, 0.0),
            vec![(2, 0.0), (3, 1.0), (4, 1.0), (5, 4.0), (6, 4.0), (7, 4.0)]
        );
        assert_eq!(
            add_counters(&vec![(1, 1.0), (3, 2.0)], &vec![(2, 5.0)]),
            vec![(1, 1.0), (2, 6.0), (3, 7.0)]
        );
    }
}
