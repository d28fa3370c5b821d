//! `metrics` output: OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`
//! (families one after the other, each series' samples in time order with Unix-second
//! timestamps, `# EOF` last), and the starter alert rules for `promtool check rules`.

use std::io::{self, Write};

use crate::analysis::metrics::{FamilyType, LATENCY_BUCKETS, Labels, MetricsReport};

/// A label value escaped as OpenMetrics wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(labels: &Labels, extra: Option<(&str, &str)>) -> String {
    // An empty value is no label at all in Prometheus: it is left out.
    let mut parts: Vec<String> = labels
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
        .collect();
    if let Some((name, value)) = extra {
        parts.push(format!("{name}=\"{value}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// A number as OpenMetrics prints it (integers without a fraction).
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

pub fn write_openmetrics(report: &MetricsReport, out: &mut impl Write) -> io::Result<()> {
    let step = report.step_seconds;
    // A sample is stamped at the end of its step, in seconds.
    let time = |index: i64| number((index + 1) as f64 * step);
    for family in &report.families {
        if family.series.is_empty() {
            continue;
        }
        let kind = match family.kind {
            FamilyType::Counter => "counter",
            FamilyType::Gauge => "gauge",
        };
        writeln!(out, "# TYPE {} {kind}", family.name)?;
        writeln!(out, "# HELP {} {}", family.name, family.help)?;
        let suffix = match family.kind {
            FamilyType::Counter => "_total",
            FamilyType::Gauge => "",
        };
        for series in &family.series {
            let labels = labels(&series.labels, None);
            for (index, value) in &series.values {
                writeln!(
                    out,
                    "{}{suffix}{labels} {} {}",
                    family.name,
                    number(*value),
                    time(*index)
                )?;
            }
        }
    }
    if !report.latency.is_empty() {
        let name = "penguiflow_node_latency_seconds";
        writeln!(out, "# TYPE {name} histogram")?;
        writeln!(out, "# UNIT {name} seconds")?;
        writeln!(
            out,
            "# HELP {name} The latency of the node's successful attempts (latency_ms)."
        )?;
        for series in &report.latency {
            for (index, state) in &series.values {
                let at = time(*index);
                let bounds = LATENCY_BUCKETS
                    .iter()
                    .map(|bound| number(*bound))
                    .chain(std::iter::once("+Inf".to_string()));
                for (bound, count) in bounds.zip(&state.buckets) {
                    let labels = labels(&series.labels, Some(("le", &bound)));
                    writeln!(out, "{name}_bucket{labels} {count} {at}")?;
                }
                let labels = labels(&series.labels, None);
                writeln!(out, "{name}_count{labels} {} {at}", state.count)?;
                writeln!(out, "{name}_sum{labels} {} {at}", number(state.sum))?;
            }
        }
    }
    writeln!(out, "# EOF")
}

/// The starter alerts of PenguiFlow's telemetry guidance, over the metrics above, as a
/// Prometheus rules file.
pub const ALERT_RULES: &str = r#"# Starter alerts for a PenguiFlow service, over the metrics `flowtrace metrics` derives from
# FlowEvents (names and labels as it writes them). Check: promtool check rules FILE
groups:
  - name: penguiflow
    rules:
      - alert: PenguiFlowQueueSaturated
        expr: max by (node, pod) (penguiflow_queue_depth_in / (penguiflow_queue_maxsize > 0)) >= 0.8
        for: 2m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.node }}: inbound queue at {{ $value | humanizePercentage }} of capacity"
          description: "Messages wait at {{ $labels.node }}: its worker is the bottleneck or blocked downstream (flowtrace saturation). Unbounded queues (queue_maxsize 0) are left out; a node with k inbound edges can hold k x queue_maxsize."
      - alert: PenguiFlowTimeoutRate
        expr: |
          sum by (node) (rate(penguiflow_node_events_total{event="node_timeout"}[5m]))
            / sum by (node) (rate(penguiflow_node_events_total{event="node_start"}[5m])) > 0.05
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.node }}: {{ $value | humanizePercentage }} of attempts time out"
          description: "A slow or hanging dependency at {{ $labels.node }} (flowtrace classify)."
      - alert: PenguiFlowErrorRate
        expr: |
          sum by (node) (rate(penguiflow_node_events_total{event="node_error"}[5m]))
            / sum by (node) (rate(penguiflow_node_events_total{event="node_start"}[5m])) > 0.05
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.node }}: {{ $value | humanizePercentage }} of attempts raise"
          description: "Exceptions at {{ $labels.node }} (flowtrace classify --messages)."
      - alert: PenguiFlowRetryStorm
        expr: |
          sum by (node) (rate(penguiflow_node_events_total{event="node_retry"}[5m]))
            / sum by (node) (rate(penguiflow_node_events_total{event="node_success"}[5m])) > 0.5
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.node }}: {{ $value | humanize }} retries per success"
          description: "Retries hold {{ $labels.node }}'s one worker; they add load to a failing dependency."
      - alert: PenguiFlowDeadlineSkips
        expr: sum by (node) (rate(penguiflow_node_events_total{event="deadline_skip"}[5m])) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.node }}: messages skipped past their deadline"
          description: "The flow is slower than its callers' budget (flowtrace classify: deadlines)."
      - alert: PenguiFlowNodeFailed
        expr: sum by (node) (increase(penguiflow_node_events_total{event="node_failed"}[5m])) > 0
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.node }}: messages failed after their retries"
          description: "Requests are lost at {{ $labels.node }} (flowtrace find on a failed trace)."
"#;
