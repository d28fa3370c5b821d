//! The incident report as one self-contained HTML page: the triage report's text (made by the
//! same functions as the terminal's), charts drawn as inline SVG (`svg`), a template filled by
//! minijinja with HTML auto-escaping (every text from the logs is escaped; only the SVG, which
//! escapes its own text, is inserted as is). No script, no external resource.

use std::collections::HashMap;

use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;

use super::svg::{self, StackRow, TimeSeries};
use super::triage as text;
use super::{millis, plural, statuses_line, thousands};
use crate::analysis::find::FindReport;
use crate::analysis::report::IncidentReport;
use crate::analysis::saturation::{NodeReport, SaturationReport, SeriesPoint};
use crate::analysis::triage::TriageReport;
use crate::analysis::waterfall::{BarOutcome, Timeline};
use crate::event::Timestamp;

const TEMPLATE: &str = include_str!("../../templates/report.html");
const STYLE: &str = include_str!("../../templates/report.css");

/// What was read, for the page's footer and its warnings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadNotes {
    /// The inputs, as given (store URLs with their passwords masked).
    pub inputs: Vec<String>,
    /// "read N lines from M inputs: E events", and what was skipped.
    pub summary: String,
    /// Inputs that could not be read: the report is incomplete.
    pub problems: Vec<String>,
    /// What the read said besides (how an input was read, a filter value nothing carries).
    pub warnings: Vec<String>,
    /// `--no-redact`: the page says secrets were not masked.
    pub unmasked: bool,
}

#[derive(Serialize)]
struct Chart {
    id: &'static str,
    heading: &'static str,
    caption: String,
    /// The SVG, or empty with `empty` saying why there is nothing to draw.
    svg: String,
    empty: Option<String>,
}

#[derive(Serialize)]
struct Card {
    label: String,
    value: String,
    tone: &'static str,
}

#[derive(Serialize)]
struct TenantRow {
    tenant: String,
    traces: String,
    statuses: String,
    categories: String,
}

#[derive(Serialize)]
struct Worst {
    trace_id: String,
    verdict: String,
    tone: &'static str,
    svg: String,
    command: String,
}

#[derive(Serialize)]
struct Step {
    evidence: String,
    step: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)
        .expect("the report template parses (a test renders it)");
    env
}

fn render(context: minijinja::Value) -> String {
    environment()
        .get_template("report.html")
        .and_then(|template| template.render(context))
        .expect("the report template renders (a test renders it)")
}

fn span_of(first: Option<Timestamp>, last: Option<Timestamp>) -> String {
    match (first, last) {
        (Some(first), Some(last)) => format!(
            "{} → {} UTC ({})",
            first.to_datetime().format("%Y-%m-%d %H:%M:%S%.3f"),
            last.to_datetime().format("%H:%M:%S%.3f"),
            duration(last.millis_since(first))
        ),
        _ => "no events".into(),
    }
}

fn duration(ms: f64) -> String {
    if ms < 10_000.0 {
        format!("{} ms", millis(ms))
    } else if ms < 120_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 7_200_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else {
        format!("{:.1} h", ms / 3_600_000.0)
    }
}

fn cards(report: &TriageReport) -> Vec<Card> {
    let traces: u64 = report.statuses.values().sum();
    let mut cards = vec![Card {
        label: "traces".into(),
        value: thousands(traces),
        tone: "neutral",
    }];
    for (status, count) in &report.statuses {
        let tone = match status.as_str() {
            "succeeded" => "good",
            "in_flight" => "warn",
            _ if *count > 0 => "bad",
            _ => "neutral",
        };
        cards.push(Card {
            label: status.replace('_', " "),
            value: thousands(*count),
            tone,
        });
    }
    cards
}

fn tenant_rows(report: &TriageReport) -> Vec<TenantRow> {
    report
        .tenants
        .iter()
        .map(|impact| TenantRow {
            tenant: impact.tenant.clone(),
            traces: thousands(impact.traces),
            statuses: {
                let statuses = impact
                    .statuses
                    .iter()
                    .map(|(status, count)| format!("{} {status}", thousands(*count)))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{statuses}{}", super::triage::impact_notes(report, impact))
            },
            categories: {
                let parts: Vec<String> = impact
                    .categories
                    .iter()
                    .filter(|(_, count)| **count > 0)
                    .map(|(category, count)| format!("{category} {}", thousands(*count)))
                    .collect();
                if parts.is_empty() {
                    "none".into()
                } else {
                    parts.join(", ")
                }
            },
        })
        .collect()
}

/// The charts of the flow: queues, failures, throughput, latency, worker time.
/// Nodes drawn in the flow graph and the per-node charts, at most: a flow that names its nodes
/// per request (`lint`'s PF004) has thousands, and a page drawing them all weighs a hundred
/// megabytes and shows nothing. Past this, the hot node, the failing and saturated ones and
/// the busiest are drawn, and the page says how many were left out.
const MAX_DRAWN_NODES: usize = 40;

/// Which of `count` nodes to draw (all when few): the `MAX_DRAWN_NODES` ranked first by
/// `rank` (greatest first, ties by place), kept in their order.
fn drawn_nodes(count: usize, rank: impl Fn(usize) -> (bool, u64)) -> Vec<bool> {
    if count <= MAX_DRAWN_NODES {
        return vec![true; count];
    }
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&index| (std::cmp::Reverse(rank(index)), index));
    let mut drawn = vec![false; count];
    for &index in order.iter().take(MAX_DRAWN_NODES) {
        drawn[index] = true;
    }
    drawn
}

/// What a caption adds when nodes were left out of a drawing.
fn left_out_note(drawn: &[bool]) -> String {
    let shown = drawn.iter().filter(|d| **d).count();
    if shown == drawn.len() {
        return String::new();
    }
    format!(
        " The {shown} busiest of {} nodes are drawn (the hot, failing and saturated ones first). Node names that change per request make that many; `flowtrace lint` tells whether these do (PF004).",
        thousands(drawn.len() as u64)
    )
}

fn charts(saturation: &SaturationReport) -> Vec<Chart> {
    let span = &saturation.span;
    let (first, last) = match (span.first_ts, span.last_ts) {
        (Some(first), Some(last)) => (first, last),
        _ => (Timestamp(0), Timestamp(0)),
    };
    let bucket_micros = (span.bucket_s * 1e6).round().max(1.0) as i64;
    let bucket = duration(span.bucket_s * 1000.0);
    let nodes = &saturation.nodes;
    let hot = saturation.hot_node.as_deref();
    let drawn = drawn_nodes(nodes.len(), |index| {
        let node = &nodes[index];
        (
            hot == Some(node.node_name.as_str()),
            node.successes + node.timeouts + node.errors,
        )
    });
    let left_out = left_out_note(&drawn);
    let mut charts = Vec::new();

    // One time axis for the queue, failure and throughput charts: from the start of the first
    // bucket to the end of the last (the failure bars' own axis), each line's value drawn at
    // the middle of its bucket, above the bar of the same bucket. (The span's first event is
    // inside the first bucket, not at its start: an axis from there drew the first points left
    // of the plot, over the value axis.)
    let axis_first = saturation.failures.first().map_or(first, |p| p.t);
    let axis_last = Timestamp(
        saturation
            .failures
            .last()
            .map_or(last, |p| p.t)
            .0
            .saturating_add(bucket_micros),
    );
    let middle = |t: Timestamp| Timestamp(t.0.saturating_add(bucket_micros / 2));
    // A node's line has the same colour in every chart: its colour is its place among all
    // nodes, not among those a chart draws (audit, with no queue, is not in the queue chart).
    let drawn_node = |index: usize| drawn[index];
    let node_series = |drawn: &dyn Fn(&NodeReport) -> bool, value: &dyn Fn(&SeriesPoint) -> f64| {
        nodes
            .iter()
            .enumerate()
            .filter(|(index, node)| drawn_node(*index) && drawn(node))
            .map(|(index, node)| TimeSeries {
                label: &node.node_name,
                class: svg::series_class(index),
                points: node
                    .series
                    .iter()
                    .map(|p| (middle(p.t), value(p)))
                    .collect(),
            })
            .collect::<Vec<TimeSeries<'_>>>()
    };
    let with_queues = node_series(&|node| node.q_depth_total_max > 0, &|p| {
        p.q_depth_total_max as f64
    });
    charts.push(Chart {
        id: "queues",
        heading: "Queue depth over time",
        caption: format!(
            "Deepest q_depth_total (inbound + outbound) per node in each {bucket}, all nodes on one scale. {}{left_out}",
            match &saturation.hot_node {
                Some(node) => format!("Hot node: {node}."),
                None => "No bottleneck.".into(),
            }
        ),
        empty: with_queues
            .is_empty()
            .then(|| "No node reported a queue above 0.".into()),
        svg: if with_queues.is_empty() {
            String::new()
        } else {
            svg::time_lines(
                "queues",
                "Queue depth over time per node",
                "messages queued",
                &with_queues,
                axis_first,
                axis_last,
            )
        },
    });

    let failures = &saturation.failures;
    let any_failure = failures
        .iter()
        .any(|p| p.timeout + p.error + p.cancel + p.deadline > 0);
    let times: Vec<Timestamp> = failures.iter().map(|p| p.t).collect();
    charts.push(Chart {
        id: "failures",
        heading: "Failures over time",
        caption: format!(
            "Failure events per {bucket}, by category (timeouts and errors are attempts, retried or not; cancel and deadline are per message)."
        ),
        empty: (!any_failure).then(|| "No failure event in the span.".into()),
        svg: if any_failure {
            svg::time_stacked_bars(
                "failures",
                "Failure events over time by category",
                &format!("events per {bucket}"),
                &[
                    ("timeout", "timeout", failures.iter().map(|p| p.timeout).collect()),
                    ("error", "error", failures.iter().map(|p| p.error).collect()),
                    ("cancel", "cancel", failures.iter().map(|p| p.cancel).collect()),
                    ("deadline", "deadline", failures.iter().map(|p| p.deadline).collect()),
                ],
                &times,
                bucket_micros,
            )
        } else {
            String::new()
        },
    });

    let throughput = node_series(&|node| node.successes > 0, &|p| {
        p.successes as f64 / span.bucket_s.max(1e-6)
    });
    charts.push(Chart {
        id: "throughput",
        heading: "Throughput per node",
        caption: format!("Successes per second per node, averaged over each {bucket}.{left_out}"),
        empty: throughput
            .is_empty()
            .then(|| "No node succeeded in the span.".into()),
        svg: if throughput.is_empty() {
            String::new()
        } else {
            svg::time_lines(
                "throughput",
                "Successes per second per node",
                "successes / s",
                &throughput,
                axis_first,
                axis_last,
            )
        },
    });

    let latency: Vec<svg::PercentileRow<'_>> = nodes
        .iter()
        .enumerate()
        .filter(|(index, _)| drawn[*index])
        .filter_map(|(_, node)| {
            let l = &node.latency_ms;
            Some(svg::PercentileRow {
                label: &node.node_name,
                p50: l.p50?,
                p95: l.p95?,
                p99: l.p99?,
                max: l.max?,
                count: l.count,
            })
        })
        .collect();
    charts.push(Chart {
        id: "latency",
        heading: "Latency per node",
        caption: format!(
            "Success latency percentiles per node (the handler's own time, from node_success latency_ms).{left_out}"
        ),
        empty: latency
            .is_empty()
            .then(|| "No success carried a latency.".into()),
        svg: if latency.is_empty() {
            String::new()
        } else {
            svg::percentiles("latency", "Success latency percentiles per node", &latency)
        },
    });

    let span_s = (last.0 - first.0).max(1) as f64 / 1e6;
    let workers: Vec<StackRow<'_>> = nodes
        .iter()
        .enumerate()
        .filter(|(index, node)| {
            drawn[*index] && (node.worker_time.messages > 0 || node.busy_share > 0.0)
        })
        .map(|(_, node)| {
            let w = &node.worker_time;
            let instances = node.instances.max(1) as f64;
            let share = |seconds: f64| seconds / span_s / instances;
            StackRow {
                label: &node.node_name,
                parts: vec![
                    share(w.success_s),
                    share(w.timeout_s),
                    share(w.error_s),
                    share(w.backoff_s),
                ],
                note: format!("{:.0}% busy", node.busy_share * 100.0),
            }
        })
        .collect();
    charts.push(Chart {
        id: "workers",
        heading: "Where each node's workers spent their time",
        caption: format!(
            "Share of the span each node's worker (one per node and pod) spent in successful attempts, timed-out attempts, failed attempts and retry backoff. A bar of timeouts and backoff is a dependency problem, not a lack of capacity.{left_out}"
        ),
        empty: workers
            .is_empty()
            .then(|| "No attempt with a latency in the span.".into()),
        svg: if workers.is_empty() {
            String::new()
        } else {
            svg::stacked_rows(
                "workers",
                "Worker time per node",
                "share of the span",
                &[
                    ("successful attempts", "success"),
                    ("timed-out attempts", "timeout"),
                    ("failed attempts", "error"),
                    ("retry backoff", "backoff"),
                ],
                &workers,
                Some(1.0),
                &|v| format!("{:.0}%", v * 100.0),
            )
        },
    });
    charts
}

/// The flow graph, and what its caption adds when nodes were left out.
fn graph_svg(report: &TriageReport) -> (String, String) {
    let graph = &report.graph;
    let hot = report.saturation.hot_node.as_deref();
    let drawn = drawn_nodes(graph.nodes.len(), |index| {
        let node = &graph.nodes[index];
        (
            hot == Some(node.node_name.as_str())
                || node.failing
                || node.saturated
                || node.role != crate::analysis::topology::Role::Node,
            node.successes + node.failures,
        )
    });
    let kept: Vec<&crate::analysis::topology::GraphNode> = graph
        .nodes
        .iter()
        .zip(&drawn)
        .filter(|(_, drawn)| **drawn)
        .map(|(node, _)| node)
        .collect();
    let nodes: Vec<svg::GraphNode<'_>> = kept
        .iter()
        .map(|node| {
            let mut classes = Vec::new();
            if node.failing {
                classes.push("failing");
            }
            if node.saturated {
                classes.push("saturated");
            }
            if hot == Some(node.node_name.as_str()) {
                classes.push("hot");
            }
            let role = match node.role {
                crate::analysis::topology::Role::Ingress => "ingress",
                crate::analysis::topology::Role::Egress => "egress",
                crate::analysis::topology::Role::Node => "node",
            };
            svg::GraphNode {
                name: &node.node_name,
                role,
                classes,
                detail: format!(
                    "{}: {} successes, {} failures, {} failed for good{}{}",
                    node.node_name,
                    thousands(node.successes),
                    thousands(node.failures),
                    thousands(node.terminal),
                    if node.saturated { "; saturated" } else { "" },
                    if hot == Some(node.node_name.as_str()) {
                        "; the hot node"
                    } else {
                        ""
                    }
                ),
            }
        })
        .collect();
    let index: HashMap<&str, usize> = kept
        .iter()
        .enumerate()
        .map(|(index, node)| (node.node_name.as_str(), index))
        .collect();
    let edges: Vec<(usize, usize, u64)> = graph
        .edges
        .iter()
        .filter_map(|e| {
            Some((
                *index.get(e.from.as_str())?,
                *index.get(e.to.as_str())?,
                e.traces,
            ))
        })
        .collect();
    let svg = svg::flow_graph(
        "graph",
        "The flow graph learned from the traces",
        &nodes,
        &edges,
    );
    (svg, left_out_note(&drawn))
}

fn outcome_class(outcome: BarOutcome) -> &'static str {
    match outcome {
        BarOutcome::Success => "success",
        BarOutcome::Timeout => "timeout",
        BarOutcome::Error => "error",
        BarOutcome::Running => "running",
        BarOutcome::Backoff => "backoff",
    }
}

fn waterfall_svg(id: &str, trace_id: &str, timeline: &Timeline) -> String {
    let Some(first) = timeline.first_ts else {
        return String::new();
    };
    let bars: Vec<svg::WaterfallBar<'_>> = timeline
        .bars
        .iter()
        .map(|bar| svg::WaterfallBar {
            row: &bar.node_name,
            start: bar.start,
            end: bar.end,
            class: outcome_class(bar.outcome),
            title: format!(
                "{}{}: {} {} ms, from +{} ms",
                bar.node_name,
                bar.attempt
                    .map_or(String::new(), |a| format!(" attempt {a}")),
                match bar.outcome {
                    BarOutcome::Success => "succeeded after",
                    BarOutcome::Timeout => "timed out after",
                    BarOutcome::Error => "raised after",
                    BarOutcome::Running => "still running at the end of the input, for",
                    BarOutcome::Backoff => "retry backoff of",
                },
                millis(bar.end.millis_since(bar.start)),
                millis(bar.start.millis_since(first))
            ),
        })
        .collect();
    let marks: Vec<svg::WaterfallMark<'_>> = timeline
        .marks
        .iter()
        .map(|mark| svg::WaterfallMark {
            row: mark.node_name.as_deref(),
            ts: mark.ts,
            title: format!(
                "{}{} at +{} ms",
                mark.kind,
                mark.node_name
                    .as_deref()
                    .map_or(String::new(), |n| format!(" at {n}")),
                millis(mark.ts.millis_since(first))
            ),
        })
        .collect();
    svg::waterfall(
        id,
        &format!("Attempts of trace {trace_id} over time"),
        &bars,
        &marks,
        first,
        timeline.last_ts,
    )
}

/// The command that shows one trace, ready to paste into a shell: the trace id is text from
/// the logs, and may hold quotes, `;`, `$(...)` or `<`.
fn find_command(trace_id: &str) -> String {
    let plain = !trace_id.is_empty()
        && trace_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@%+=,".contains(c));
    let word = if plain {
        trace_id.to_string()
    } else {
        format!("'{}'", trace_id.replace('\'', r"'\''"))
    };
    let options_end = if trace_id.starts_with('-') { "-- " } else { "" };
    format!("flowtrace find {options_end}{word}")
}

/// The waterfall legend, shared by every trace.
fn outcome_legend() -> Vec<(&'static str, &'static str)> {
    vec![
        ("success", "succeeded"),
        ("timeout", "timed out"),
        ("error", "raised"),
        ("backoff", "retry backoff"),
        ("running", "running at the end"),
        ("mark", "failed / skipped / cancelled"),
    ]
}

/// The incident report of `report` as one HTML page.
pub fn incident_page(report: &IncidentReport, notes: &ReadNotes) -> String {
    let triage = &report.triage;
    let worst: Vec<Worst> = triage
        .worst
        .iter()
        .zip(&report.timelines)
        .enumerate()
        .map(|(index, (trace, timeline))| Worst {
            trace_id: trace.trace_id.clone(),
            verdict: text::worst_line(trace),
            tone: if trace.status == crate::analysis::trace::TraceStatus::InFlight {
                "warn"
            } else {
                "bad"
            },
            svg: timeline.as_ref().map_or(String::new(), |timeline| {
                waterfall_svg(&format!("trace-{index}"), &trace.trace_id, timeline)
            }),
            command: find_command(&trace.trace_id),
        })
        .collect();
    let checklist: Vec<Step> = triage
        .remediation
        .iter()
        .map(|step| Step {
            evidence: step.evidence.to_string(),
            step: step.step.to_string(),
        })
        .collect();
    let (graph, graph_note) = graph_svg(triage);
    render(context! {
        style => STYLE,
        version => env!("CARGO_PKG_VERSION"),
        title => format!("Incident report: {}", span_of(triage.first_ts, triage.last_ts)),
        one_trace => false,
        span => span_of(triage.first_ts, triage.last_ts),
        cards => cards(triage),
        statuses => statuses_line(&triage.statuses),
        categories => text::categories(triage),
        tenants => tenant_rows(triage),
        tenant_note => if triage.tenants.is_empty() || triage.traces_without_tenant > 0 {
            text::tenant_lines(triage).pop()
        } else {
            None
        },
        saturation => text::saturation_lines(triage),
        control => text::control_line(triage),
        cross_tenant => text::cross_tenant_lines(triage),
        checklist => checklist,
        charts => charts(&triage.saturation),
        graph => graph,
        graph_note => graph_note,
        worst => worst,
        slowest => triage
            .slowest
            .iter()
            .map(|trace| (text::slow_verdict(trace), format!("flowtrace find {}", trace.trace_id)))
            .collect::<Vec<_>>(),
        worst_footer => if triage.worst.is_empty() { String::new() } else { text::worst_footer(triage) },
        legend => outcome_legend(),
        notes => notes,
    })
}

/// The one-trace report (`report --trace ID`): `find`'s verdict, with the trace's waterfall.
pub fn trace_page(report: &FindReport, notes: &ReadNotes) -> String {
    let timeline = crate::analysis::waterfall::timeline_of(&report.timeline, report.last_ts);
    let mut verdict = vec![format!(
        "status {}{}",
        report.status,
        report
            .category
            .map_or(String::new(), |category| format!(" ({category})"))
    )];
    verdict.push(format!(
        "{} over {}, {} at {} node{}, {}",
        plural(report.events, "event"),
        duration(report.duration_ms),
        plural(report.attempts, "attempt"),
        report.nodes.len(),
        if report.nodes.len() == 1 { "" } else { "s" },
        plural(report.retries, "retry")
    ));
    if let Some(last) = &report.last_success {
        verdict.push(format!("last success: {}", last.node_name));
    }
    if let Some(next) = &report.next {
        verdict.push(match &next.detail {
            Some(detail) => format!("next node: {}: {detail}", next.node_name),
            None => format!("next node: {}", next.node_name),
        });
    }
    let checklist: Vec<Step> = report
        .remediation
        .iter()
        .map(|step| Step {
            evidence: String::new(),
            step: super::remediation::sentence(step),
        })
        .collect();
    render(context! {
        style => STYLE,
        version => env!("CARGO_PKG_VERSION"),
        title => format!("Trace {}", report.trace_id),
        one_trace => true,
        trace_id => report.trace_id.clone(),
        tenant => report.tenant.clone(),
        span => span_of(Some(report.first_ts), Some(report.last_ts)),
        verdict => verdict,
        checklist => checklist,
        waterfall => waterfall_svg("trace-0", &report.trace_id, &timeline),
        legend => outcome_legend(),
        notes => notes,
    })
}
