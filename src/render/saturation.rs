//! `saturation` report as a terminal page (node table, queue-depth sparklines, signals,
//! checklist) or a Markdown section.

use std::io::{self, Write};

use super::saturation_evidence::{shared_others, shared_own};
use super::saturation_steps::sentence;
use super::table::{report_table, to_text};
use super::{
    Palette, Tone, clock, markdown_row, millis, plural, sparkline_scaled, squeeze_max, thousands,
    time_axis, write_checklist,
};
use crate::analysis::saturation::{LostBecause, NodeReport, SaturationReport};

const NODE_HEADERS: [&str; 15] = [
    "NODE",
    "EVENTS",
    "SUCC/S",
    "Q_IN MAX",
    "Q_OUT MAX",
    "Q_TOTAL MAX",
    "Q_TOTAL P95",
    "IN USE",
    "P50 MS",
    "P95 MS",
    "P99 MS",
    "MAX MS",
    "TIMEOUTS",
    "ERRORS",
    "RETRIES",
];

/// The node table's columns, least needed first: left out in this order to fit a terminal.
const DROP_ORDER: [usize; 9] = [6, 10, 5, 1, 2, 8, 11, 13, 9];

/// The node table's columns that fit `width` (all of them when not writing to a terminal).
fn columns_that_fit(rows: &[[String; 15]], width: Option<usize>) -> Vec<usize> {
    let mut shown: Vec<usize> = (0..NODE_HEADERS.len()).collect();
    let Some(width) = width else {
        return shown;
    };
    let column_width = |column: usize| {
        rows.iter()
            .map(|cells| cells[column].chars().count())
            .chain([NODE_HEADERS[column].len()])
            .max()
            .unwrap_or(0)
            + 2
    };
    for column in DROP_ORDER {
        if shown.iter().map(|&c| column_width(c)).sum::<usize>() <= width {
            break;
        }
        shown.retain(|&c| c != column);
    }
    shown
}

fn optional_ms(value: Option<f64>) -> String {
    value.map_or("-".into(), millis)
}

fn node_cells(node: &NodeReport) -> [String; 15] {
    let number = |value: Option<f64>| value.map_or("-".into(), |v| format!("{v:.0}"));
    [
        node.node_name.clone(),
        thousands(node.events),
        format!("{:.1}", node.throughput_per_s),
        node.q_depth_in_max.to_string(),
        node.q_depth_out_max.to_string(),
        node.q_depth_total_max.to_string(),
        number(node.q_depth_total_p95),
        node.capacity_use_max
            .map_or("unbounded".into(), |use_| format!("{:.0}%", use_ * 100.0)),
        optional_ms(node.latency_ms.p50),
        optional_ms(node.latency_ms.p95),
        optional_ms(node.latency_ms.p99),
        optional_ms(node.latency_ms.max),
        thousands(node.timeouts),
        thousands(node.errors),
        match node.retry_rate {
            Some(rate) if node.retries > 0 => format!("{} ({rate:.2})", node.retries),
            _ => node.retries.to_string(),
        },
    ]
}

fn span_line(report: &SaturationReport) -> String {
    match (report.span.first_ts, report.span.last_ts) {
        (Some(first), Some(last)) => format!(
            "{} → {} UTC ({} ms), {} events, buckets of {}",
            first.to_datetime().format("%Y-%m-%d %H:%M:%S%.3f"),
            last.to_datetime().format("%H:%M:%S%.3f"),
            millis(last.millis_since(first)),
            thousands(report.span.events),
            bucket_text(report.span.bucket_s)
        ),
        _ => "no events".to_string(),
    }
}

fn bucket_text(seconds: f64) -> String {
    if seconds >= 3600.0 {
        format!("{} h", seconds / 3600.0)
    } else if seconds >= 60.0 {
        format!("{} min", seconds / 60.0)
    } else if seconds >= 1.0 {
        format!("{seconds} s")
    } else {
        format!("{} ms", (seconds * 1000.0).round())
    }
}

/// The top of the queue-depth chart: the largest q_depth_total of any node shown.
fn chart_max(report: &SaturationReport) -> u64 {
    report
        .nodes
        .iter()
        .map(|n| n.q_depth_total_max.max(0) as u64)
        .max()
        .unwrap_or(0)
}

/// The start and end times under the chart, at its two ends.
/// The start and end times under the queue chart.
fn chart_axis(report: &SaturationReport) -> String {
    let points = report.nodes.first().map_or(0, |n| n.series.len());
    match (report.span.first_ts, report.span.last_ts) {
        (Some(first), Some(last)) => time_axis(first, last, points.min(120)),
        _ => String::new(),
    }
}

fn hot_line(report: &SaturationReport) -> String {
    match (&report.hot_node, &report.hot_node_reason) {
        (Some(node), Some(reason)) => format!("{node}: {reason}"),
        _ => "none: no node's inbound queue stayed full while its outbound did not".to_string(),
    }
}

/// Why the runner-up is not the hot node, or `None` without one.
fn runner_up_line(report: &SaturationReport) -> Option<String> {
    let bottleneck = report.bottleneck.as_ref()?;
    let runner = bottleneck.runner_up.as_ref()?;
    let why = match runner.lost_because {
        LostBecause::Upstream => format!(
            "it is upstream of {}, whose full queue it waits on",
            bottleneck.node_name
        ),
        LostBecause::OutboundFull => {
            "its outbound queue was full about as often: it waits on a node after it".to_string()
        }
        LostBecause::LessPressure => format!(
            "its inbound queue was full less often than {}'s",
            bottleneck.node_name
        ),
    };
    // Waiting on the hot node at some times, the bottleneck on its own at others.
    let apart: String = bottleneck
        .other_episodes
        .iter()
        .filter(|other| other.node_name == runner.node_name)
        .map(|other| {
            format!(
                "; from {} to {} it was the bottleneck on its own, a separate episode",
                clock(other.window.first),
                clock(other.window.last)
            )
        })
        .collect();
    Some(format!(
        "{}: inbound full in {:.0}% of its readings, outbound in {:.0}%; {why}{apart}",
        runner.node_name,
        runner.inbound_full_share * 100.0,
        runner.outbound_full_share * 100.0
    ))
}

/// One line per attempt still running far past its node's p95 at the end of the input.
fn hang_lines(report: &SaturationReport) -> Vec<String> {
    let mut lines: Vec<String> = report
        .hanging
        .iter()
        .map(|hang| {
            format!(
                "{}: trace {} running {} ms at the end of the input{}{}{}",
                hang.node_name,
                hang.trace_id,
                millis(hang.running_ms),
                hang.p95_ms.map_or(String::new(), |p95| format!(
                    " ({:.0}x its p95)",
                    hang.running_ms / p95.max(0.001)
                )),
                hang.instance
                    .as_ref()
                    .map_or(String::new(), |instance| format!(", {instance}")),
                hang.queued_behind.map_or(String::new(), |queued| format!(
                    ", {} behind it",
                    plural(queued.max(0) as u64, "message")
                ))
            )
        })
        .collect();
    let more = report
        .hanging_total
        .saturating_sub(report.hanging.len() as u64);
    if more > 0 {
        lines.push(format!("and {} more", plural(more, "attempt")));
    }
    lines
}

/// Where each busy node's worker spent its time, busiest first.
fn worker_time_lines(report: &SaturationReport) -> Vec<String> {
    let mut nodes: Vec<&NodeReport> = report
        .nodes
        .iter()
        .filter(|n| n.worker_time.busy_s() > 0.0)
        .collect();
    nodes.sort_by(|a, b| b.busy_share.total_cmp(&a.busy_share));
    let width = nodes
        .iter()
        .map(|n| n.node_name.chars().count())
        .max()
        .unwrap_or(0);
    let backed_up: &[String] = report
        .bottleneck
        .as_ref()
        .map_or(&[], |b| b.backed_up.as_slice());
    nodes
        .iter()
        .map(|node| {
            let work = &node.worker_time;
            let share = |seconds: f64| format!("{:.0}%", 100.0 * seconds / work.busy_s());
            let waiting = if backed_up.contains(&node.node_name) {
                "; its successes include waiting to hand output to a full queue"
            } else {
                ""
            };
            // A name standing for nodes of different flows: each one's worker apart.
            let apart = node.shared_name.as_ref().map_or(String::new(), |shared| {
                format!(
                    "; {} {:.0}% busy, {}",
                    shared_own(shared, &node.node_name),
                    shared.busy_share * 100.0,
                    shared_others(shared, &node.node_name)
                )
            });
            format!(
                "{:<width$}  busy {:>4.0}% of the span: {} succeeding, {} timing out, {} raising, {} in retry backoff ({:.1} s in all){waiting}{apart}",
                node.node_name,
                node.busy_share * 100.0,
                share(work.success_s),
                share(work.timeout_s),
                share(work.error_s),
                share(work.backoff_s),
                work.busy_s()
            )
        })
        .collect()
}

fn failure_latency_lines(report: &SaturationReport) -> Vec<String> {
    let mut lines = Vec::new();
    for node in &report.nodes {
        for (what, stats) in [
            ("timed out", &node.timeout_latency_ms),
            ("failed", &node.error_latency_ms),
        ] {
            if stats.count > 0 {
                lines.push(format!(
                    "{}: {} {what}, p50 {} ms, p95 {} ms, max {} ms",
                    node.node_name,
                    plural(stats.count, "attempt"),
                    optional_ms(stats.p50),
                    optional_ms(stats.p95),
                    optional_ms(stats.max)
                ));
            }
        }
    }
    lines
}

pub fn write_table(
    report: &SaturationReport,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let label = |text: &str| palette.header(&format!("{text:<10}"));
    writeln!(
        out,
        "{}{}",
        label("span"),
        palette.wrap(&span_line(report), 10, 10)
    )?;
    let hot = hot_line(report);
    let hot = if report.hot_node.is_some() {
        palette.paint(&hot, Tone::Failure.style())
    } else {
        hot
    };
    writeln!(out, "{}{}", label("hot node"), palette.wrap(&hot, 10, 10))?;
    if let Some(runner) = runner_up_line(report) {
        writeln!(
            out,
            "{}{}",
            label("runner-up"),
            palette.wrap(&runner, 10, 10)
        )?;
    }
    for hang in hang_lines(report) {
        let hang = palette.paint(&palette.wrap(&hang, 10, 10), Tone::Failure.style());
        writeln!(out, "{}{hang}", label("hanging"))?;
    }
    writeln!(out)?;
    if report.nodes.is_empty() {
        writeln!(out, "no node events")?;
        return Ok(());
    }

    let rows: Vec<[String; 15]> = report.nodes.iter().map(node_cells).collect();
    let shown = columns_that_fit(&rows, palette.width);
    let headers: Vec<&str> = shown.iter().map(|&c| NODE_HEADERS[c]).collect();
    let mut table = report_table(&headers, &(1..shown.len()).collect::<Vec<_>>(), palette);
    for cells in &rows {
        table.add_row(shown.iter().map(|&c| cells[c].clone()).collect::<Vec<_>>());
    }
    out.write_all(to_text(&table).as_bytes())?;
    if shown.len() < NODE_HEADERS.len() {
        writeln!(
            out,
            "({} columns left out to fit {} columns; --format json has them all)",
            NODE_HEADERS.len() - shown.len(),
            palette.width.unwrap_or_default()
        )?;
    }
    writeln!(out)?;

    writeln!(
        out,
        "{}",
        palette.header(&format!(
            "queue depth: max q_depth_total per {} bucket, one scale (█ = {})",
            bucket_text(report.span.bucket_s),
            chart_max(report)
        ))
    )?;
    let width = report
        .nodes
        .iter()
        .map(|n| n.node_name.chars().count())
        .max()
        .unwrap_or(0);
    for node in &report.nodes {
        let values: Vec<u64> = node
            .series
            .iter()
            .map(|point| point.q_depth_total_max.max(0) as u64)
            .collect();
        writeln!(
            out,
            "{:<width$}  {}  max {}",
            node.node_name,
            sparkline_scaled(&squeeze_max(&values, 120), chart_max(report)),
            node.q_depth_total_max
        )?;
    }
    writeln!(out, "{:<width$}  {}", "", chart_axis(report))?;
    let work = worker_time_lines(report);
    if !work.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            palette.header("worker time (one worker per node and process)")
        )?;
        for line in work {
            writeln!(out, "  {}", palette.wrap(&line, 2, 4))?;
        }
    }
    let failures = failure_latency_lines(report);
    if !failures.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            palette.header("latency of timed-out and failed attempts")
        )?;
        for line in failures {
            writeln!(out, "  {}", palette.wrap(&line, 2, 4))?;
        }
    }
    writeln!(out)?;
    if report.signals.is_empty() {
        writeln!(
            out,
            "no signals: no saturation, blocked traces, slow dependency, retry storm or latency regression"
        )?;
    } else {
        writeln!(out, "{}", palette.header("signals"))?;
        for signal in &report.signals {
            let subject = signal.subject();
            let line = format!("{:<19} {subject}: {}", signal.kind.as_str(), signal.detail);
            writeln!(out, "  {}", palette.wrap(&line, 2, 22))?;
        }
    }
    write_checklist(out, palette, &report.remediation)
}

pub fn write_markdown(report: &SaturationReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "### Saturation")?;
    writeln!(out)?;
    writeln!(out, "- **Span**: {}", span_line(report))?;
    writeln!(out, "- **Hot node**: {}", hot_line(report))?;
    if let Some(runner) = runner_up_line(report) {
        writeln!(out, "- **Runner-up**: {runner}")?;
    }
    for hang in hang_lines(report) {
        writeln!(out, "- **Hanging**: {hang}")?;
    }
    for line in worker_time_lines(report) {
        writeln!(out, "- **Worker time** {}", line.trim_end())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        markdown_row(&NODE_HEADERS.map(|h| h.to_lowercase()))
    )?;
    writeln!(out, "|---|{}", "---:|".repeat(NODE_HEADERS.len() - 1))?;
    for node in &report.nodes {
        writeln!(out, "{}", markdown_row(&node_cells(node)))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "#### Queue depth (max q_depth_total per {} bucket)",
        bucket_text(report.span.bucket_s)
    )?;
    writeln!(out)?;
    writeln!(out, "| node | over time | max |")?;
    writeln!(out, "|---|---|---:|")?;
    for node in &report.nodes {
        let values: Vec<u64> = node
            .series
            .iter()
            .map(|p| p.q_depth_total_max.max(0) as u64)
            .collect();
        writeln!(
            out,
            "| {} | `{}` | {} |",
            node.node_name,
            sparkline_scaled(&squeeze_max(&values, 120), chart_max(report)),
            node.q_depth_total_max
        )?;
    }
    writeln!(out)?;
    writeln!(out, "#### Signals")?;
    writeln!(out)?;
    if report.signals.is_empty() {
        writeln!(out, "None.")?;
    }
    for signal in &report.signals {
        let subject = signal.subject();
        writeln!(
            out,
            "- **{}** `{subject}`: {}",
            signal.kind.as_str(),
            signal.detail
        )?;
    }
    if !report.remediation.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### What to do")?;
        writeln!(out)?;
        for (index, step) in report.remediation.iter().enumerate() {
            writeln!(out, "{}. {}", index + 1, sentence(step))?;
        }
    }
    Ok(())
}
