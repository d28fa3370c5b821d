//! `find` report as a terminal page (header, last success, next node, timeline, remediation) or
//! as a Markdown section for an incident document. JSON is the report serialized as is.

use std::io::{self, Write};

use super::events::event_detail;
use super::table::{fit_detail, report_table, to_text, toned_row};
use super::{Palette, Tone, markdown_cell, markdown_row, millis, plural, write_checklist};
use crate::analysis::category::Category;
use crate::analysis::find::{FindReport, LastSuccess, NextNode, QueueReading};
use crate::analysis::remediation::depth_of;
use crate::analysis::trace::TraceStatus;
use crate::event::{Event, Kind, Timestamp};

const TIMELINE_HEADERS: [&str; 11] = [
    "TIME (UTC)",
    "+MS",
    "NODE",
    "EVENT",
    "ATT",
    "LATENCY_MS",
    "Q_IN",
    "Q_OUT",
    "Q_TOTAL",
    "PEND/INFL",
    "DETAIL",
];

fn clock(ts: Timestamp) -> String {
    ts.to_datetime().format("%H:%M:%S%.3f").to_string()
}

fn full_time(ts: Timestamp) -> String {
    ts.to_datetime().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn queues(in_: Option<i64>, out: Option<i64>, total: Option<i64>, capacity: Option<i64>) -> String {
    let number = |v: Option<i64>| v.map_or("?".to_string(), |v| v.to_string());
    format!(
        "queue in {}, out {}, total {}",
        depth_of(in_, capacity),
        number(out),
        number(total)
    )
}

fn describe_last_success(success: &LastSuccess, first: Timestamp) -> String {
    format!(
        "{} at {} (+{} ms), latency {} ms, {}",
        success.node_name,
        clock(success.ts),
        millis(success.ts.millis_since(first)),
        success.latency_ms.map_or("?".to_string(), millis),
        queues(
            success.q_depth_in,
            success.q_depth_out,
            success.q_depth_total,
            success.queue_maxsize
        )
    )
}

fn describe_next(next: &NextNode, report: &FindReport) -> String {
    format!("{}{}", next_place(next, report), stall(next))
}

/// `; no progress for 3,210 ms at the end of the input (node p95 180 ms)`, for a trace in
/// flight.
fn stall(next: &NextNode) -> String {
    let p95 = next.p95_ms.map_or(String::new(), |p95| {
        format!(" (its p95 {} ms)", millis(p95))
    });
    let (at_least, end) = if next.measured_to_end {
        ("", "at the end of the input")
    } else {
        (
            "≥ ",
            "by the last event read (--full-scan reads to the end)",
        )
    };
    match (next.running_ms, next.idle_ms) {
        (Some(running), _) => format!(
            "; attempt running for {at_least}{} ms {end}{p95}",
            millis(running)
        ),
        (None, Some(idle)) => format!("; no progress for {at_least}{} ms {end}{p95}", millis(idle)),
        _ => String::new(),
    }
}

fn next_place(next: &NextNode, report: &FindReport) -> String {
    if next.inferred {
        let share = match (next.share, next.of_traces, &report.last_success) {
            (Some(share), Some(of), Some(last)) => format!(
                ", follows {} in {:.0}% of {of} traces",
                last.node_name,
                share * 100.0
            ),
            _ => String::new(),
        };
        let reading = match next.reading {
            Some(QueueReading::Sender) => "sender's outbound ",
            _ => "",
        };
        let ahead = next.messages_ahead.map_or(String::new(), |ahead| {
            format!(
                ", {} ahead when queued",
                plural(ahead.max(0) as u64, "message")
            )
        });
        let queue = match next.ts {
            Some(ts) => format!(
                "; its {reading}{} at {}{ahead}",
                queues(
                    next.q_depth_in,
                    next.q_depth_out,
                    next.q_depth_total,
                    next.queue_maxsize
                ),
                clock(ts)
            ),
            None => "; no event of it to read its queue from".to_string(),
        };
        return format!(
            "{} (inferred: no event of this trace there yet{share}){queue}",
            next.node_name
        );
    }
    format!(
        "{}: {} after {}{}; {}",
        next.node_name,
        next.event.as_deref().unwrap_or("?"),
        plural(next.attempts, "attempt"),
        next.ts.map_or(String::new(), |ts| format!(
            " at {} (+{} ms)",
            clock(ts),
            millis(ts.millis_since(report.first_ts))
        )),
        queues(
            next.q_depth_in,
            next.q_depth_out,
            next.q_depth_total,
            next.queue_maxsize
        )
    )
}

/// The timeline rows shown: every event, except `node_start` rows followed by the event that
/// ended the same attempt of the same node (unless `all`).
pub fn visible_timeline(timeline: &[Event], all: bool) -> Vec<&Event> {
    timeline
        .iter()
        .enumerate()
        .filter(|(index, event)| {
            all || event.kind != Kind::NodeStart
                || !timeline[index + 1..].iter().any(|later| {
                    later.node_name == event.node_name
                        && later.attempt == event.attempt
                        && matches!(
                            later.kind,
                            Kind::NodeSuccess
                                | Kind::NodeError
                                | Kind::NodeTimeout
                                | Kind::NodeTraceCancelled
                        )
                })
        })
        .map(|(_, event)| event)
        .collect()
}

fn timeline_cells(event: &Event, first: Timestamp) -> [String; 11] {
    let number = |v: Option<i64>| v.map_or(String::new(), |v| v.to_string());
    [
        clock(event.ts),
        millis(event.ts.millis_since(first)),
        event.node_name.as_deref().unwrap_or_default().to_string(),
        event.kind.to_string(),
        number(event.attempt),
        event.latency_ms.map(millis).unwrap_or_default(),
        number(event.q_depth_in),
        number(event.q_depth_out),
        number(event.q_depth_total),
        format!(
            "{}/{}",
            number(event.trace_pending),
            number(event.trace_inflight)
        ),
        event_detail(event),
    ]
}

/// One timeline row as `find -f` prints it the moment its event comes (columns of fixed
/// width, since the rows to come are not known).
pub fn live_row(event: &Event, first: Timestamp, palette: Palette) -> String {
    let cells = timeline_cells(event, first);
    let widths = [12, 9, 14, 20, 3, 10, 4, 5, 7, 9, 0];
    let right = [
        false, true, false, false, true, true, true, true, true, true, false,
    ];
    let mut row = String::new();
    for (index, ((cell, width), right)) in cells.iter().zip(widths).zip(right).enumerate() {
        let padded = if right {
            format!("{cell:>width$}")
        } else {
            format!("{cell:<width$}")
        };
        let padded = if index == 3 {
            palette.paint(&padded, Tone::of(&event.kind).style())
        } else {
            padded
        };
        row.push_str(&padded);
        row.push_str("  ");
    }
    row.trim_end().to_string()
}

/// `status in_flight → failed (timeout)` as `find -f` says it when the status changes.
pub fn live_status(
    from: Option<(TraceStatus, Option<Category>)>,
    status: TraceStatus,
    category: Option<Category>,
    palette: Palette,
) -> String {
    let name = |status: TraceStatus, category: Option<Category>| match category {
        Some(category) => format!("{status} ({category})"),
        None => status.to_string(),
    };
    let tone = match status {
        TraceStatus::Succeeded => Tone::Success,
        TraceStatus::InFlight => Tone::Timeout,
        _ => Tone::Failure,
    };
    let now = palette.paint(&name(status, category), tone.style());
    match from {
        Some((was, was_category)) => format!(
            "{} {} → {now}",
            palette.header("status"),
            name(was, was_category)
        ),
        None => format!("{} {now}", palette.header("status")),
    }
}

pub fn write_table(
    report: &FindReport,
    out: &mut impl Write,
    palette: Palette,
    all: bool,
) -> io::Result<()> {
    let status = match report.category {
        Some(category) => format!("{} ({category})", report.status),
        None => report.status.to_string(),
    };
    let status_tone = match report.status.as_str() {
        "succeeded" => Tone::Success,
        "in_flight" => Tone::Timeout,
        _ => Tone::Failure,
    };
    let label = |text: &str| palette.header(&format!("{text:<13}"));
    writeln!(
        out,
        "{}{}{}",
        label("trace"),
        report.trace_id,
        report
            .tenant
            .as_ref()
            .map_or(String::new(), |t| format!("  (tenant {t})"))
    )?;
    writeln!(
        out,
        "{}{}",
        label("status"),
        palette.paint(&status, status_tone.style())
    )?;
    writeln!(
        out,
        "{}{} → {} UTC, {} ms, {}",
        label("span"),
        full_time(report.first_ts),
        clock(report.last_ts),
        millis(report.duration_ms),
        plural(report.events, "event")
    )?;
    writeln!(
        out,
        "{}{}; {}, {}",
        label("nodes"),
        report.nodes.join(" → "),
        plural(report.attempts, "attempt"),
        plural(report.retries, "retry")
    )?;
    let counts = &report.counts;
    writeln!(
        out,
        "{}timeout {}, error {}, cancel {}, deadline {}; retries {}",
        label("failures"),
        counts.timeout,
        counts.error,
        counts.cancel,
        counts.deadline,
        counts.retry
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{}{}",
        label("last success"),
        palette.wrap(
            &report
                .last_success
                .as_ref()
                .map_or("none: no node of this trace succeeded".to_string(), |s| {
                    describe_last_success(s, report.first_ts)
                }),
            13,
            13
        )
    )?;
    match &report.next {
        Some(next) => {
            writeln!(
                out,
                "{}{}",
                label("next"),
                palette.wrap(&describe_next(next, report), 13, 13)
            )?;
            if let Some(detail) = &next.detail {
                writeln!(
                    out,
                    "{}{}",
                    label(""),
                    palette.paint(detail, Tone::Error.style())
                )?;
            }
        }
        None => writeln!(out, "{}none: nothing went wrong after it", label("next"))?,
    }
    writeln!(out)?;

    let rows = visible_timeline(&report.timeline, all);
    let mut table = report_table(&TIMELINE_HEADERS, &[1, 4, 5, 6, 7, 8, 9], palette);
    for event in &rows {
        let cells = timeline_cells(event, report.first_ts);
        let tone = Tone::of(&event.kind);
        table.add_row(toned_row(cells, palette, |column| {
            (column == 3).then_some(tone)
        }));
    }
    fit_detail(&mut table, palette);
    out.write_all(to_text(&table).as_bytes())?;
    let folded = report.timeline.len() - rows.len();
    if folded > 0 {
        writeln!(
            out,
            "({folded} node_start row{} folded into the attempt they began; --all shows them)",
            if folded == 1 { "" } else { "s" }
        )?;
    }
    write_checklist(out, palette, &report.remediation)
}

pub fn write_markdown(report: &FindReport, out: &mut impl Write, all: bool) -> io::Result<()> {
    let status = match report.category {
        Some(category) => format!("{} ({category})", report.status),
        None => report.status.to_string(),
    };
    writeln!(out, "### Trace `{}`: {status}", report.trace_id)?;
    writeln!(out)?;
    writeln!(out, "| | |")?;
    writeln!(out, "|---|---|")?;
    let rows = [
        (
            "tenant",
            report.tenant.clone().unwrap_or_else(|| "unknown".into()),
        ),
        (
            "span",
            format!(
                "{} → {} UTC ({} ms, {})",
                full_time(report.first_ts),
                clock(report.last_ts),
                millis(report.duration_ms),
                plural(report.events, "event")
            ),
        ),
        ("nodes", report.nodes.join(" → ")),
        (
            "attempts / retries",
            format!("{} / {}", report.attempts, report.retries),
        ),
        (
            "failures",
            format!(
                "timeout {}, error {}, cancel {}, deadline {}",
                report.counts.timeout,
                report.counts.error,
                report.counts.cancel,
                report.counts.deadline
            ),
        ),
        (
            "last success",
            report
                .last_success
                .as_ref()
                .map_or("none".to_string(), |s| {
                    describe_last_success(s, report.first_ts)
                }),
        ),
        (
            "next",
            report.next.as_ref().map_or("none".to_string(), |n| {
                let detail = n
                    .detail
                    .as_ref()
                    .map_or(String::new(), |d| format!(": `{d}`"));
                format!("{}{detail}", describe_next(n, report))
            }),
        ),
    ];
    for (name, value) in rows {
        writeln!(out, "| {name} | {} |", markdown_cell(&value))?;
    }
    writeln!(out)?;
    writeln!(out, "#### Timeline")?;
    writeln!(out)?;
    writeln!(out, "| {} |", TIMELINE_HEADERS.join(" | "))?;
    writeln!(out, "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|")?;
    for event in visible_timeline(&report.timeline, all) {
        writeln!(
            out,
            "{}",
            markdown_row(&timeline_cells(event, report.first_ts))
        )?;
    }
    if !report.remediation.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### What to do")?;
        writeln!(out)?;
        for (index, step) in report.remediation.iter().enumerate() {
            writeln!(out, "{}. {}", index + 1, markdown_cell(step))?;
        }
    }
    Ok(())
}
