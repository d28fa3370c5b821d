//! `traces` listing as a table (with a footer of counts) or Markdown.

use std::io::{self, Write};

use super::table::{
    column_widths, columns_fit, fit_detail, leave_out, left_out_note, report_table, to_text,
    toned_row,
};
use super::{Palette, Tone, markdown_row, millis, plural, thousands};
use crate::analysis::category::Category;
use crate::analysis::trace::TraceStatus;
use crate::analysis::traces::{TraceList, TraceRow};
use crate::source::decode::json_special_byte;

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

const TRACE: usize = 0;
const TENANT: usize = 1;
const STATUS: usize = 2;
const CATEGORY: usize = 3;
const START: usize = 4;
const DURATION: usize = 5;
const IDLE: usize = 6;
const EVENTS: usize = 7;
const RETRIES: usize = 8;
const LAST_NODE: usize = 9;
const LAST_EVENT: usize = 10;

/// Columns left out, in this order, to fit a terminal: the trace id and status never are
/// (nor, by folding, the category and the last node: see `Layout::Folded`).
const DROP_ORDER: [usize; 5] = [START, EVENTS, RETRIES, DURATION, TENANT];

/// The last event column wraps at the terminal's width, down to this many columns (or its
/// longest word: it wraps between words only).
const DETAIL_MIN: usize = 16;

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
    if listing.matching != listing.total || listing.shown() as u64 != listing.matching {
        text.push_str(&format!(
            "; showing {} of {} matching",
            thousands(listing.shown() as u64),
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

/// A status with the category it does not already say: `failed (timeout)`, `in_flight
/// (error)`, `cancelled`.
fn status_with_category(status: TraceStatus, category: Option<Category>) -> String {
    match (status, category) {
        (TraceStatus::Cancelled, Some(Category::Cancel))
        | (TraceStatus::DeadlineSkipped, Some(Category::Deadline))
        | (_, None) => status.to_string(),
        (_, Some(category)) => format!("{status} ({category})"),
    }
}

/// How the rows are laid out on a terminal too narrow for every column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One column per field (some maybe left out).
    Columns,
    /// The category folded into the status (`failed (timeout)`) and the last node into the
    /// last event, without the `node_` every node event starts with (`llm start` for
    /// `node_start` at `llm`), which wraps: the 32-character trace id and the status leave
    /// about 28 columns of 80 for everything else.
    Folded,
}

/// The row's cells as `layout` shows them (folded cells keep their places, emptied).
fn laid_out(row: &TraceRow, layout: Layout) -> [String; 11] {
    let mut cells = cells(row);
    if layout == Layout::Folded {
        cells[STATUS] = status_with_category(row.status, row.category);
        // Folded, the tenant column seldom fits: a cross-tenant trace keeps its mark here.
        if row.cross_tenant {
            cells[STATUS].push_str(&format!(" {CROSS_TENANT_MARK}"));
        }
        cells[CATEGORY].clear();
        let node = std::mem::take(&mut cells[LAST_NODE]);
        let event = cells[LAST_EVENT]
            .strip_prefix("node_")
            .unwrap_or(&cells[LAST_EVENT]);
        cells[LAST_EVENT] = format!("{node} {event}").trim().to_string();
    }
    cells
}

/// The layout and columns shown at `width`, and the columns left out that had something to
/// show. Columns empty in every row go first; the trace id, the status and the last event (the
/// detail, last) always stay.
fn fit(rows: &[TraceRow], width: usize) -> (Layout, Vec<usize>, Vec<usize>) {
    let mut chosen = None;
    for layout in [Layout::Columns, Layout::Folded] {
        let cells: Vec<Vec<String>> = rows.iter().map(|r| laid_out(r, layout).to_vec()).collect();
        let widths = column_widths(&HEADERS, &cells);
        let filled = |column: usize| cells.iter().any(|c| !c[column].is_empty());
        let all: Vec<usize> = (0..HEADERS.len()).collect();
        if layout == Layout::Columns && columns_fit(&widths, &all, usize::MAX, width) {
            return (layout, all, Vec::new());
        }
        let longest_word = cells
            .iter()
            .flat_map(|c| c[LAST_EVENT].split(' '))
            .map(|word| word.chars().count())
            .max()
            .unwrap_or(0);
        let detail_min = DETAIL_MIN.max(longest_word);
        let present: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&c| [TRACE, STATUS, LAST_EVENT].contains(&c) || filled(c))
            .collect();
        let shown = leave_out(&widths, present.clone(), &DROP_ORDER, detail_min, width);
        let left_out: Vec<usize> = present
            .iter()
            .copied()
            .filter(|c| !shown.contains(c))
            .collect();
        let fits = columns_fit(&widths, &shown, detail_min, width);
        chosen = Some((layout, shown, left_out));
        if fits {
            break;
        }
    }
    chosen.expect("two layouts tried")
}

pub fn write_table(listing: &TraceList, out: &mut impl Write, palette: Palette) -> io::Result<()> {
    // A table is laid out from the widths of all its rows (a terminal shows 50 by default).
    let rows: Vec<TraceRow> = listing.rows().collect();
    if !rows.is_empty() {
        let all: Vec<usize> = (0..HEADERS.len()).collect();
        let (layout, shown, left_out) = match palette.width {
            Some(width) => fit(&rows, width),
            None => (Layout::Columns, all, Vec::new()),
        };
        let headers: Vec<&str> = shown.iter().map(|&c| HEADERS[c]).collect();
        let right: Vec<usize> = shown
            .iter()
            .enumerate()
            .filter(|(_, c)| [DURATION, IDLE, EVENTS, RETRIES].contains(c))
            .map(|(index, _)| index)
            .collect();
        let mut table = report_table(&headers, &right, palette);
        for row in &rows {
            let cells = laid_out(row, layout);
            let cells = shown.iter().map(|&c| cells[c].clone());
            table.add_row(toned_row(cells, palette, |index| match shown[index] {
                STATUS => Some(status_tone(row.status)),
                TENANT if row.cross_tenant => Some(Tone::Failure),
                _ => None,
            }));
        }
        fit_detail(&mut table, palette);
        out.write_all(to_text(&table).as_bytes())?;
        if let (Some(width), false) = (palette.width, left_out.is_empty()) {
            let note = left_out_note(&HEADERS, &left_out, width);
            writeln!(out, "{}", palette.wrap(&note, 0, 1))?;
        }
    }
    writeln!(out, "{}", palette.wrap(&footer(listing), 0, 2))
}

pub fn write_markdown(listing: &TraceList, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "| {} |", HEADERS.map(|h| h.to_lowercase()).join(" | "))?;
    writeln!(out, "|---|---|---|---|---|---:|---:|---:|---:|---|---|")?;
    for row in listing.rows() {
        writeln!(out, "{}", markdown_row(&cells(&row)))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", footer(listing))
}

/// The rows as a JSON array, as `serde_json::to_writer_pretty` writes them, byte for byte
/// (tests compare), written by hand: serde escaped each of a row's fourteen keys and its
/// texts a byte at a time, about 9,300 instructions a row, after the read (247,000 rows at
/// 1 GiB). That is still a lot of text, made when the other core is idle: runs of
/// `JSON_ROWS_A_RUN` rows are made alternately here and on a second thread, and written in
/// order (memory: a few runs of text). Without a second thread (none to be had), all here.
pub fn write_json(listing: &TraceList, out: &mut impl Write) -> io::Result<()> {
    let rows = listing.shown();
    if rows == 0 {
        return out.write_all(b"[]");
    }
    let runs = rows.div_ceil(JSON_ROWS_A_RUN);
    let run_text = |run: usize, text: &mut Vec<u8>| {
        text.clear();
        let first = run * JSON_ROWS_A_RUN;
        let mut json = JsonRows { started: first > 0 };
        listing
            .each_row(first..rows.min(first + JSON_ROWS_A_RUN), |row| {
                json.write(row, text)
            })
            .expect("writing to memory");
    };
    std::thread::scope(|scope| -> io::Result<()> {
        // The odd runs, made on a second thread; it stops when the receiver is gone (a write
        // failed).
        let (made, odd_runs) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let helper = (runs > 1).then(|| {
            std::thread::Builder::new().spawn_scoped(scope, move || {
                for run in (1..runs).step_by(2) {
                    let mut text = Vec::new();
                    run_text(run, &mut text);
                    if made.send(text).is_err() {
                        break;
                    }
                }
            })
        });
        let helped = matches!(helper, Some(Ok(_)));
        let mut text = Vec::new();
        for run in 0..runs {
            if helped && run % 2 == 1 {
                let text = odd_runs
                    .recv()
                    .expect("the thread making the odd runs of rows panicked");
                out.write_all(&text)?;
            } else {
                run_text(run, &mut text);
                out.write_all(&text)?;
            }
        }
        Ok(())
    })?;
    out.write_all(b"\n]")
}

/// Rows in a run of `write_json` (about 130 KB of text).
const JSON_ROWS_A_RUN: usize = 256;

/// A JSON array of rows written as they come.
#[derive(Default)]
struct JsonRows {
    started: bool,
}

impl JsonRows {
    fn write(&mut self, row: &TraceRow, out: &mut impl Write) -> io::Result<()> {
        out.write_all(if self.started { b",\n" } else { b"[\n" })?;
        self.started = true;
        write_json_row(row, out)
    }
}

/// A row's key after the value before it, on a line of its own, as one write (keys are plain
/// ASCII: nothing to escape; three writes a key were a sixth of the writing).
macro_rules! key {
    ($name:literal) => {
        concat!(",\n    \"", $name, "\": ").as_bytes()
    };
}

fn write_json_row(row: &TraceRow, out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"  {\n    \"trace_id\": ")?;
    json_text(out, &row.trace_id)?;
    out.write_all(key!("tenant"))?;
    json_optional_text(out, row.tenant.as_deref())?;
    out.write_all(key!("status"))?;
    json_text(out, row.status.as_str())?;
    out.write_all(key!("category"))?;
    json_optional_text(out, row.category.map(Category::as_str))?;
    for (key, ts) in [
        (key!("first_ts"), row.first_ts),
        (key!("last_ts"), row.last_ts),
    ] {
        out.write_all(key)?;
        // Digits and separators: nothing to escape.
        ts.with_rfc3339(|text| {
            let mut quoted = [b'"'; 32];
            if text.len() + 2 > quoted.len() {
                return json_text(out, text);
            }
            quoted[1..=text.len()].copy_from_slice(text.as_bytes());
            out.write_all(&quoted[..text.len() + 2])
        })?;
    }
    out.write_all(key!("duration_ms"))?;
    json_value(out, &row.duration_ms)?;
    for (key, count) in [(key!("events"), row.events), (key!("retries"), row.retries)] {
        out.write_all(key)?;
        json_value(out, &count)?;
    }
    for (key, text) in [
        (key!("last_node"), &row.last_node),
        (key!("last_event"), &row.last_event),
    ] {
        out.write_all(key)?;
        json_optional_text(out, text.as_deref())?;
    }
    out.write_all(key!("idle_ms"))?;
    json_value(out, &row.idle_ms)?;
    out.write_all(key!("cross_tenant"))?;
    out.write_all(if row.cross_tenant { b"true" } else { b"false" })?;
    out.write_all(key!("tenants"))?;
    if row.tenants.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        let mut separator: &[u8] = b"\n      ";
        for tenant in &row.tenants {
            out.write_all(separator)?;
            separator = b",\n      ";
            json_text(out, tenant)?;
        }
        out.write_all(b"\n    ]")?;
    }
    out.write_all(b"\n  }")
}

/// A JSON string: as it is when nothing in it needs escaping (the usual id, name or time),
/// else as serde_json escapes it.
fn json_text(out: &mut impl Write, text: &str) -> io::Result<()> {
    // The scanner's search for a byte to escape, sixteen at a time (a byte at a time was a
    // sixth of the writing: ids, names and times, seven a row).
    if json_special_byte(text.as_bytes()).is_none() {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        return out.write_all(b"\"");
    }
    json_value(out, text)
}

fn json_optional_text(out: &mut impl Write, text: Option<&str>) -> io::Result<()> {
    match text {
        Some(text) => json_text(out, text),
        None => out.write_all(b"null"),
    }
}

/// A number (or `null`), as serde_json writes it.
fn json_value(out: &mut impl Write, value: &(impl serde::Serialize + ?Sized)) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;

    /// Sixteen at a time, as one at a time: every byte value at every place of texts of every
    /// length to 24 (the rest of the text plain, or high bytes of UTF-8).
    #[test]
    fn escapes_are_found_wherever_they_are() {
        let one_at_a_time =
            |bytes: &[u8]| bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for length in 0..=24 {
            for filler in [b'a', 0xc3, 0x7f, b' '] {
                for place in 0..length {
                    for byte in 0..=255u8 {
                        let mut bytes = vec![filler; length];
                        bytes[place] = byte;
                        assert_eq!(
                            json_special_byte(&bytes).is_some(),
                            one_at_a_time(&bytes),
                            "{bytes:?}"
                        );
                    }
                }
            }
        }
    }

    fn row(trace_id: &str) -> TraceRow {
        TraceRow {
            trace_id: trace_id.to_string(),
            tenant: Some("acme".to_string()),
            status: TraceStatus::InFlight,
            category: Some(Category::Timeout),
            first_ts: Timestamp(1_796_000_000_000_013),
            last_ts: Timestamp(1_796_000_000_055_707),
            duration_ms: 55.694,
            events: 8,
            retries: 2,
            last_node: Some("pack".to_string()),
            last_event: Some("node_timeout".to_string()),
            idle_ms: Some(0.867),
            cross_tenant: false,
            tenants: vec!["acme".to_string()],
        }
    }

    fn by_serde(rows: &[TraceRow]) -> String {
        serde_json::to_string_pretty(rows).expect("serializes")
    }

    fn by_hand(rows: &[TraceRow]) -> String {
        let mut out = Vec::new();
        let mut json = JsonRows::default();
        for row in rows {
            json.write(row, &mut out).expect("writes");
        }
        out.extend_from_slice(if json.started { b"\n]" } else { b"[]" });
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn rows_are_written_as_serde_json_writes_them() {
        let mut rows = vec![row("a995b9de9b29419e00000000000012d2")];
        let mut empty = row("");
        empty.tenant = None;
        empty.category = None;
        empty.last_node = None;
        empty.last_event = None;
        empty.idle_ms = None;
        empty.tenants = Vec::new();
        empty.duration_ms = 0.0;
        empty.status = TraceStatus::Succeeded;
        rows.push(empty);
        let mut odd = row("quote \" back \\ tab \t nul \u{0} bell \u{7} del \u{7f} é 😀 </script>");
        odd.tenant = Some("line\nbreak".to_string());
        odd.tenants = vec!["a".to_string(), "b\"c".to_string(), "d".to_string()];
        odd.cross_tenant = true;
        odd.duration_ms = 1e-7;
        odd.idle_ms = Some(f64::NAN);
        odd.events = u64::MAX;
        odd.first_ts = Timestamp(i64::MIN);
        odd.last_ts = Timestamp(253_402_300_800_000_000); // year 10000: chrono's text
        odd.category = Some(Category::Deadline);
        rows.push(odd);
        for status in TraceStatus::ALL {
            let mut row = row("s");
            row.status = status;
            row.duration_ms = 123_456_789.125;
            rows.push(row);
        }
        for category in Category::ALL {
            let mut row = row("c");
            row.category = Some(category);
            row.idle_ms = Some(f64::INFINITY);
            rows.push(row);
        }
        assert_eq!(by_hand(&rows), by_serde(&rows));
        assert_eq!(by_hand(&rows[..1]), by_serde(&rows[..1]));
        assert_eq!(by_hand(&[]), by_serde(&[]));
    }
}
