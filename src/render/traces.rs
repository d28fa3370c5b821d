//! `traces` listing as a table (with a footer of counts) or Markdown.

use std::io::{self, Write};

use super::table::{report_table, to_text, toned_row};
use super::{Palette, Tone, markdown_row, millis, plural, thousands};
use crate::analysis::trace::TraceStatus;
use crate::analysis::traces::{TraceList, TraceRow};

const HEADERS: [&str; 11] = [
    "TRACE",
    "TENANT",
    "STATUS",
    "CATEGORY",
    "START (UTC)",
    "DURATION_MS",
    "IDLE_MS",
    "EVENTS",
    "RETRIES",
    "LAST NODE",
    "LAST EVENT",
];

/// Marks a trace seen with more than one tenant.
pub const CROSS_TENANT_MARK: &str = "⚠";

fn status_tone(status: TraceStatus) -> Tone {
    match status {
        TraceStatus::Succeeded => Tone::Success,
        TraceStatus::InFlight => Tone::Timeout,
        TraceStatus::Cancelled => Tone::Cancel,
        TraceStatus::DeadlineSkipped => Tone::Deadline,
        TraceStatus::Failed => Tone::Failure,
    }
}

fn cells(row: &TraceRow) -> [String; 11] {
    let tenant = if row.cross_tenant {
        format!("{} {CROSS_TENANT_MARK}", row.tenants.join("+"))
    } else {
        row.tenant.clone().unwrap_or_default()
    };
    [
        row.trace_id.clone(),
        tenant,
        row.status.to_string(),
        row.category.map(|c| c.to_string()).unwrap_or_default(),
        row.first_ts
            .to_datetime()
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string(),
        millis(row.duration_ms),
        row.idle_ms.map(millis).unwrap_or_default(),
        thousands(row.events),
        thousands(row.retries),
        row.last_node.clone().unwrap_or_default(),
        row.last_event.clone().unwrap_or_default(),
    ]
}

/// `24 traces: 16 succeeded, ...; showing 10 of 12 matching; 1 cross-tenant trace (⚠)`.
pub fn footer(listing: &TraceList) -> String {
    let statuses: Vec<String> = listing
        .by_status
        .iter()
        .map(|(status, count)| format!("{} {status}", thousands(*count)))
        .collect();
    let mut text = format!(
        "{}: {}",
        plural(listing.total, "trace"),
        statuses.join(", ")
    );
    if listing.matching != listing.total || listing.rows.len() as u64 != listing.matching {
        text.push_str(&format!(
            "; showing {} of {} matching",
            thousands(listing.rows.len() as u64),
            thousands(listing.matching)
        ));
    }
    if listing.cross_tenant > 0 {
        text.push_str(&format!(
            "; {} with more than one tenant ({CROSS_TENANT_MARK}): a tenant-boundary defect",
            plural(listing.cross_tenant, "trace")
        ));
    }
    text
}

pub fn write_table(listing: &TraceList, out: &mut impl Write, palette: Palette) -> io::Result<()> {
    if !listing.rows.is_empty() {
        let mut table = report_table(&HEADERS, &[5, 6, 7, 8], palette);
        for row in &listing.rows {
            table.add_row(toned_row(cells(row), palette, |column| match column {
                2 => Some(status_tone(row.status)),
                1 if row.cross_tenant => Some(Tone::Failure),
                _ => None,
            }));
        }
        out.write_all(to_text(&table).as_bytes())?;
    }
    writeln!(out, "{}", footer(listing))
}

pub fn write_markdown(listing: &TraceList, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "| {} |", HEADERS.map(|h| h.to_lowercase()).join(" | "))?;
    writeln!(out, "|---|---|---|---|---|---:|---:|---:|---:|---|---|")?;
    for row in &listing.rows {
        writeln!(out, "{}", markdown_row(&cells(row)))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", footer(listing))
}
