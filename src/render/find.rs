//! `find` report as a terminal page (header, last success, next node, timeline, remediation) or
//! as a Markdown section for an incident document. JSON is the report serialized as is.

use std::io::{self, Write};

use super::events::event_detail;
use super::remediation::{depth_of, sentence};
use super::table::{
    column_widths, columns_fit, fit_detail, leave_out, left_out_note, report_table, to_text,
    toned_row,
};
use super::{
    Palette, Tone, clock, markdown_cell, markdown_row, millis, plural, wrap_words, write_checklist,
};
use crate::analysis::category::Category;
use crate::analysis::find::{FindReport, LastSuccess, NextNode, QueueReading, TimeSpent};
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

const PLUS_MS: usize = 1;
const EVENT: usize = 3;
const ATTEMPT: usize = 4;
const LATENCY: usize = 5;
const Q_IN: usize = 6;
const Q_OUT: usize = 7;
const Q_TOTAL: usize = 8;
const PENDING: usize = 9;
const DETAIL: usize = 10;

/// The number columns, right-aligned.
const NUMBERS: [usize; 7] = [PLUS_MS, ATTEMPT, LATENCY, Q_IN, Q_OUT, Q_TOTAL, PENDING];

/// Timeline columns left out, in this order, to fit a terminal (`Q_TOTAL` is in + out): the
/// time, node and event never are.
const DROP_ORDER: [usize; 7] = [Q_TOTAL, PENDING, PLUS_MS, ATTEMPT, Q_OUT, LATENCY, Q_IN];

/// The detail stays a column while it gets this many columns (or its longest text); else
/// each detail goes on lines of its own under its row, as wide as the terminal.
const DETAIL_COLUMN_MIN: usize = 40;

/// Details under their rows start under `+MS`, leaving the time column clear.
const DETAIL_INDENT: usize = 14;

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
                next_queues(next),
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
        next_queues(next)
    )
}

/// The next node's queues; a join's q_depth_in sums its inbound edges, so it is read against
/// all of them.
fn next_queues(next: &NextNode) -> String {
    match Some(next.edges_read()).filter(|edges| *edges > 1) {
        Some(edges) => format!(
            "{} ({edges} inbound edges of {} each)",
            queues(
                next.q_depth_in,
                next.q_depth_out,
                next.q_depth_total,
                next.queue_maxsize.map(|c| c * edges as i64)
            ),
            next.queue_maxsize
                .map_or("?".to_string(), |c| c.to_string())
        ),
        None => queues(
            next.q_depth_in,
            next.q_depth_out,
            next.q_depth_total,
            next.queue_maxsize,
        ),
    }
}

/// The timeline rows shown: every event, except `node_start` rows followed by the event that
/// ended the same attempt of the same node, and `remote_stream_event` rows whose node's next
/// event is another chunk of the stream (a streamed call logs one per chunk: its last shows
/// how far it got), unless `all`.
pub fn visible_timeline(timeline: &[Event], all: bool) -> Vec<&Event> {
    timeline
        .iter()
        .enumerate()
        .filter(|(index, event)| {
            if all {
                return true;
            }
            if event.kind == Kind::RemoteStreamEvent {
                return timeline[index + 1..]
                    .iter()
                    .find(|later| later.node_name == event.node_name)
                    .is_none_or(|next| next.kind != Kind::RemoteStreamEvent);
            }
            event.kind != Kind::NodeStart
                || !timeline[index + 1..].iter().any(|later| {
                    later.node_name == event.node_name
                        && later.attempt() == event.attempt()
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
        number(event.attempt()),
        event.latency_ms().map(millis).unwrap_or_default(),
        number(event.q_depth_in()),
        number(event.q_depth_out()),
        number(event.q_depth_total()),
        format!(
            "{}/{}",
            number(event.trace_pending()),
            number(event.trace_inflight())
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

/// Where a deadline-skipped trace's time went, in one line: the waits before nodes (longest
/// first), the time in its attempts, and the unlogged wait before the first node.
fn describe_time_spent(spent: &TimeSpent, report: &FindReport) -> String {
    let mut parts: Vec<String> = spent
        .queues
        .iter()
        .filter(|wait| wait.waited_ms >= 1.0)
        .map(|wait| {
            format!(
                "{} ms waiting for {}",
                millis(wait.waited_ms),
                wait.node_name
            )
        })
        .collect();
    let inside: f64 = spent.in_nodes.iter().map(|n| n.ms).sum();
    if inside > 0.0 {
        parts.push(format!("{} ms in its attempts", millis(inside)));
    }
    let first = report
        .nodes
        .first()
        .map_or("the first node", String::as_str);
    let before = match spent.budget_left_at_first_event_ms {
        Some(left) if left >= 0.0 => format!(
            "; before {first}'s first event: not logged (its deadline came {} ms after it)",
            millis(left)
        ),
        Some(left) => format!(
            "; before {first}'s first event: not logged (its deadline had passed {} ms before it)",
            millis(-left)
        ),
        None => format!("; before {first}'s first event: not logged"),
    };
    format!("{}{before}", parts.join(", "))
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
    let tenant = report
        .tenant
        .as_ref()
        .map_or(String::new(), |t| format!("(tenant {t})"));
    // The tenant goes under the id when both do not fit.
    let apart = palette
        .width
        .is_some_and(|width| 13 + report.trace_id.len() + 2 + tenant.chars().count() > width);
    let gap = if apart { "\n             " } else { "  " };
    let gap = if tenant.is_empty() { "" } else { gap };
    writeln!(
        out,
        "{}{}{gap}{}",
        label("trace"),
        report.trace_id,
        palette.wrap(&tenant, 13, 13)
    )?;
    writeln!(
        out,
        "{}{}",
        label("status"),
        palette.paint(&status, status_tone.style())
    )?;
    let span = format!(
        "{} → {} UTC, {} ms, {}",
        full_time(report.first_ts),
        clock(report.last_ts),
        millis(report.duration_ms),
        plural(report.events, "event")
    );
    writeln!(out, "{}{}", label("span"), palette.wrap(&span, 13, 13))?;
    let nodes = format!(
        "{}; {}, {}",
        report.nodes.join(" → "),
        plural(report.attempts, "attempt"),
        plural(report.retries, "retry")
    );
    writeln!(out, "{}{}", label("nodes"), palette.wrap(&nodes, 13, 13))?;
    let counts = &report.counts;
    let failures = format!(
        "timeout {}, error {}, cancel {}, deadline {}; retries {}",
        counts.timeout, counts.error, counts.cancel, counts.deadline, counts.retry
    );
    writeln!(
        out,
        "{}{}",
        label("failures"),
        palette.wrap(&failures, 13, 13)
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
                    palette.paint(&wrap_detail(detail, palette, 13), Tone::Error.style())
                )?;
            }
        }
        None => match &report.egress_wait {
            // Nothing failed, but its sink waited on the app to take results.
            Some(wait) => writeln!(
                out,
                "{}{}",
                label("next"),
                palette.wrap(&describe_egress_wait(wait), 13, 13)
            )?,
            None => writeln!(out, "{}none: nothing went wrong after it", label("next"))?,
        },
    }
    if let Some(spent) = &report.time_spent {
        writeln!(
            out,
            "{}{}",
            label("time spent"),
            palette.wrap(&describe_time_spent(spent, report), 13, 13)
        )?;
    }
    writeln!(out)?;

    let rows = visible_timeline(&report.timeline, all);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|event| timeline_cells(event, report.first_ts).to_vec())
        .collect();
    write_timeline(&rows, &cells, out, palette)?;
    let folded = |kind: Kind| {
        let all = report.timeline.iter().filter(|e| e.kind == kind).count();
        all - rows.iter().filter(|e| e.kind == kind).count()
    };
    let (starts, chunks) = (folded(Kind::NodeStart), folded(Kind::RemoteStreamEvent));
    let mut notes = Vec::new();
    if starts > 0 {
        notes.push(format!(
            "{starts} node_start row{} folded into the attempt they began",
            if starts == 1 { "" } else { "s" }
        ));
    }
    if chunks > 0 {
        notes.push(format!(
            "{chunks} remote_stream_event row{} into the stream's last",
            if chunks == 1 { "" } else { "s" }
        ));
    }
    if !notes.is_empty() {
        let note = format!("({}; --all shows them)", notes.join(", "));
        writeln!(out, "{}", palette.wrap(&note, 0, 1))?;
    }
    write_checklist(out, palette, &report.remediation)
}

/// The timeline table. On a terminal too narrow for every column with the detail beside
/// them, each detail goes on lines of its own under its row, and columns are left out (in
/// `DROP_ORDER`) until the rest fit; piped, every column, unwrapped.
fn write_timeline(
    rows: &[&Event],
    cells: &[Vec<String>],
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let all: Vec<usize> = (0..TIMELINE_HEADERS.len()).collect();
    let widths = column_widths(&TIMELINE_HEADERS, cells);
    let (shown, details_below) = match palette.width {
        Some(width) if !columns_fit(&widths, &all, DETAIL_COLUMN_MIN, width) => {
            let keys: Vec<usize> = all.iter().copied().filter(|&c| c != DETAIL).collect();
            (
                leave_out(&widths, keys, &DROP_ORDER, usize::MAX, width),
                true,
            )
        }
        _ => (all.clone(), false),
    };
    let headers: Vec<&str> = shown.iter().map(|&c| TIMELINE_HEADERS[c]).collect();
    let right: Vec<usize> = shown
        .iter()
        .enumerate()
        .filter(|(_, c)| NUMBERS.contains(c))
        .map(|(index, _)| index)
        .collect();
    let mut table = report_table(&headers, &right, palette);
    for (event, cells) in rows.iter().zip(cells) {
        let tone = Tone::of(&event.kind);
        let shown_cells = shown.iter().map(|&c| cells[c].clone());
        table.add_row(toned_row(shown_cells, palette, |index| {
            (shown[index] == EVENT).then_some(tone)
        }));
    }
    if !details_below {
        fit_detail(&mut table, palette);
        return out.write_all(to_text(&table).as_bytes());
    }
    let width = palette.width.unwrap_or(usize::MAX);
    let text = to_text(&table);
    let mut lines = text.lines();
    // One line per row: no cell of the table wraps, and none holds a line break.
    if let Some(header) = lines.next() {
        writeln!(out, "{header}")?;
    }
    for (line, cells) in lines.zip(cells) {
        writeln!(out, "{line}")?;
        if !cells[DETAIL].is_empty() {
            let detail = wrap_detail(&cells[DETAIL], palette, DETAIL_INDENT);
            writeln!(out, "{}{detail}", " ".repeat(DETAIL_INDENT))?;
        }
    }
    let left_out: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&c| c != DETAIL && !shown.contains(&c))
        .collect();
    if !left_out.is_empty() {
        let note = left_out_note(&TIMELINE_HEADERS, &left_out, width);
        writeln!(out, "{}", palette.wrap(&note, 0, 1))?;
    }
    Ok(())
}

/// An exception's detail wrapped to the terminal's width on lines indented by `indent` (the
/// first already is), long words cut; unchanged when not writing to a terminal.
fn wrap_detail(detail: &str, palette: Palette, indent: usize) -> String {
    match palette.width {
        Some(width) => {
            let room = width.saturating_sub(indent);
            wrap_words(&break_long_words(detail, room), width, indent, indent)
        }
        None => detail.to_string(),
    }
}

/// `text` with every word longer than `width` cut into pieces of `width` characters, so that
/// a word wrap never leaves a line longer than that (a URL in an exception message).
fn break_long_words(text: &str, width: usize) -> String {
    let width = width.max(1);
    text.split(' ')
        .map(|word| {
            let chars: Vec<char> = word.chars().collect();
            chars
                .chunks(width)
                .map(|piece| piece.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" ")
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
            report.next.as_ref().map_or_else(
                || {
                    report
                        .egress_wait
                        .as_ref()
                        .map_or("none".to_string(), describe_egress_wait)
                },
                |n| {
                    let detail = n
                        .detail
                        .as_ref()
                        .map_or(String::new(), |d| format!(": `{d}`"));
                    format!("{}{detail}", describe_next(n, report))
                },
            ),
        ),
    ];
    let spent = report
        .time_spent
        .as_ref()
        .map(|spent| ("time spent", describe_time_spent(spent, report)));
    for (name, value) in rows.into_iter().chain(spent) {
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
            writeln!(out, "{}. {}", index + 1, markdown_cell(&sentence(step)))?;
        }
    }
    Ok(())
}

/// A succeeded trace whose sink waited on a full egress: where its time went.
fn describe_egress_wait(wait: &crate::analysis::find::EgressWait) -> String {
    let usual = wait.p50_ms.map_or(String::new(), |p50| {
        format!(" (its p50 {} ms)", millis(p50))
    });
    format!(
        "none: nothing failed, but {node}'s attempt took {} ms{usual}: it started at {} with its output queue to the egress full ({} of {}), so it waited for the app's flow.fetch() to take results before handing this one over (`flowtrace saturation` says when the egress stopped draining and for how long)",
        millis(wait.latency_ms),
        clock(wait.started),
        wait.q_depth_out,
        wait.queue_maxsize,
        node = wait.node_name,
    )
}
