//! Writes a stream of events as a table, JSON lines, a JSON array, CSV or Markdown, one event
//! at a time (the table sizes its columns from the first rows, then streams).

use std::io::{self, Write};

use super::{Palette, markdown_row, millis};
use crate::cli::EventFormat;
use crate::event::{Event, Kind};
use crate::redact::{one_line, summarize_exception};

/// Rows the table reads before fixing its column widths.
const SIZING_ROWS: usize = 200;
/// Widest a table cell may be before it is cut with an ellipsis; the last column (detail) has
/// nothing after it and keeps its full one-line summary.
const MAX_CELL: usize = 64;
const MAX_DETAIL: usize = 120;

const TABLE_HEADERS: [&str; 13] = [
    "TIME (UTC)",
    "TRACE",
    "TENANT",
    "NODE",
    "EVENT",
    "ATT",
    "LATENCY_MS",
    "Q_IN",
    "Q_OUT",
    "Q_TOTAL",
    "PENDING",
    "INFLIGHT",
    "DETAIL",
];
/// Least column widths of a live table (its widths come from its first row): the longest
/// event kind (`node_trace_cancelled`), a uuid4 trace id, usual node and tenant names.
const LIVE_WIDTHS: [usize; 13] = [23, 32, 10, 14, 20, 3, 10, 4, 5, 7, 7, 8, 0];
/// Columns aligned to the right (numbers).
const RIGHT_ALIGNED: [bool; 13] = [
    false, false, false, false, false, true, true, true, true, true, true, true, false,
];

/// The JSON field names, in the order of `Event`'s serialization; also the CSV header.
pub const EVENT_FIELDS: [&str; 27] = [
    "ts",
    "event",
    "trace_id",
    "tenant",
    "node_name",
    "node_id",
    "attempt",
    "latency_ms",
    "q_depth_in",
    "q_depth_out",
    "q_depth_total",
    "queue_maxsize",
    "outgoing",
    "trace_pending",
    "trace_inflight",
    "trace_cancelled",
    "pod",
    "container",
    "exception",
    "flow_error_code",
    "flow_error_message",
    "sleep_s",
    "deadline_s",
    "remote_agent_url",
    "remote_skill",
    "remote_task_id",
    "source",
];

pub struct EventWriter<W: Write> {
    format: EventFormat,
    out: Option<W>,
    palette: Palette,
    written: u64,
    table: TableState,
    /// In CSV format the csv writer owns the output; `out` is then an empty buffer.
    csv: Option<csv::Writer<W>>,
    /// Flush every event (`--follow`).
    live: bool,
    /// The event being written came late.
    late_mark: bool,
}

#[derive(Default)]
struct TableState {
    pending: Vec<(Kind, [String; 13])>,
    widths: Option<[usize; 13]>,
}

impl<W: Write> EventWriter<W> {
    pub fn new(format: EventFormat, out: W, palette: Palette) -> EventWriter<W> {
        let (out, csv) = match format {
            EventFormat::Csv => (None, Some(csv::Writer::from_writer(out))),
            _ => (Some(out), None),
        };
        EventWriter {
            format,
            out,
            palette,
            written: 0,
            table: TableState::default(),
            csv,
            live: false,
            late_mark: false,
        }
    }

    /// The plain output (every format but CSV).
    fn out(&mut self) -> &mut W {
        self.out
            .as_mut()
            .expect("only CSV hands its output to the csv writer")
    }

    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        let first = self.written == 0;
        self.written += 1;
        match self.format {
            EventFormat::Jsonl => {
                self.write_json(event)?;
                self.out().write_all(b"\n")
            }
            EventFormat::Json => {
                self.out().write_all(if first { b"[\n" } else { b",\n" })?;
                self.write_json(event)
            }
            EventFormat::Csv => self.write_csv(event, first),
            EventFormat::Markdown => {
                if first {
                    writeln!(self.out(), "| {} |", TABLE_HEADERS.join(" | "))?;
                    let rule: Vec<&str> = RIGHT_ALIGNED
                        .iter()
                        .map(|&right| if right { "---:" } else { "---" })
                        .collect();
                    writeln!(self.out(), "| {} |", rule.join(" | "))?;
                }
                let row = markdown_row(&self.table_cells(event));
                writeln!(self.out(), "{row}")
            }
            EventFormat::Table => {
                let cells = self.table_cells(event);
                match self.table.widths {
                    Some(widths) => self.write_table_row(&event.kind, &cells, &widths),
                    None => {
                        self.table.pending.push((event.kind.clone(), cells));
                        if self.table.pending.len() >= SIZING_ROWS {
                            self.flush_pending_rows()?;
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// Live output (`--follow`): the table fixes its column widths from its first row instead
    /// of holding 200 rows back, and each event is flushed as it is written.
    pub fn go_live(&mut self) {
        self.live = true;
    }

    /// Writes `event`, marked `late` when it came after a later one (a follow's reorder window
    /// had passed): the table says so in its detail column, JSON adds `"late": true`.
    pub fn write_marked(&mut self, event: &Event, late: bool) -> io::Result<()> {
        if late {
            self.late_mark = true;
        }
        let written = self.write(event);
        self.late_mark = false;
        written?;
        if self.live {
            if self.format == EventFormat::Table {
                self.flush_pending_rows()?;
            }
            match self.csv.as_mut() {
                Some(csv) => csv.flush()?,
                None => self.out().flush()?,
            }
        }
        Ok(())
    }

    /// Ends the output (closes the JSON array, flushes the table) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        match self.format {
            EventFormat::Json => {
                let closing: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
                self.out().write_all(closing)?;
            }
            EventFormat::Table => self.flush_pending_rows()?,
            EventFormat::Csv if self.written == 0 => self.write_csv_header()?,
            _ => {}
        }
        let mut out = match self.csv.take() {
            Some(writer) => writer.into_inner().map_err(|error| error.into_error())?,
            None => self.out.take().expect("plain output present"),
        };
        out.flush()?;
        Ok(out)
    }

    /// One event as a JSON object, with `"late": true` when it came late.
    fn write_json(&mut self, event: &Event) -> io::Result<()> {
        let out = self.out.as_mut().expect("plain output");
        if !self.late_mark {
            return Ok(serde_json::to_writer(out, event)?);
        }
        let mut value = serde_json::to_value(event)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("late".into(), serde_json::Value::Bool(true));
        }
        Ok(serde_json::to_writer(out, &value)?)
    }

    fn csv(&mut self) -> &mut csv::Writer<W> {
        self.csv.as_mut().expect("CSV format owns a csv writer")
    }

    fn write_csv_header(&mut self) -> io::Result<()> {
        self.csv().write_record(EVENT_FIELDS).map_err(csv_to_io)
    }

    fn write_csv(&mut self, event: &Event, first: bool) -> io::Result<()> {
        if first {
            self.write_csv_header()?;
        }
        let text = |value: Option<&str>| value.unwrap_or_default().to_string();
        let number = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
        let float = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
        let flow_error = event.flow_error();
        let remote = event.remote();
        let record = [
            event.ts.to_rfc3339(),
            event.kind.to_string(),
            text(event.trace_id.as_deref()),
            text(event.tenant.as_deref()),
            text(event.node_name.as_deref()),
            text(event.node_id.as_deref()),
            number(event.attempt()),
            float(event.latency_ms()),
            number(event.q_depth_in()),
            number(event.q_depth_out()),
            number(event.q_depth_total()),
            number(event.queue_maxsize()),
            number(event.outgoing()),
            number(event.trace_pending()),
            number(event.trace_inflight()),
            event
                .trace_cancelled
                .map(|v| v.to_string())
                .unwrap_or_default(),
            text(event.pod.as_deref()),
            text(event.container.as_deref()),
            text(event.exception()),
            flow_error.and_then(|f| f.code.clone()).unwrap_or_default(),
            flow_error
                .and_then(|f| f.message.clone())
                .unwrap_or_default(),
            float(event.sleep_s()),
            float(event.deadline_s()),
            text(remote.and_then(|r| r.remote_agent_url.as_deref())),
            text(remote.and_then(|r| r.remote_skill.as_deref())),
            text(remote.and_then(|r| r.remote_task_id.as_deref())),
            event.origin.to_string(),
        ];
        self.csv().write_record(&record).map_err(csv_to_io)
    }

    fn table_cells(&self, event: &Event) -> [String; 13] {
        let number = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
        [
            event
                .ts
                .to_datetime()
                .format("%Y-%m-%d %H:%M:%S%.3f")
                .to_string(),
            event.trace_id.as_deref().unwrap_or_default().to_string(),
            event.tenant.as_deref().unwrap_or_default().to_string(),
            event.node_name.as_deref().unwrap_or_default().to_string(),
            event.kind.to_string(),
            number(event.attempt()),
            event.latency_ms().map(millis).unwrap_or_default(),
            number(event.q_depth_in()),
            number(event.q_depth_out()),
            number(event.q_depth_total()),
            number(event.trace_pending()),
            number(event.trace_inflight()),
            if self.late_mark {
                format!("late {}", event_detail(event))
                    .trim_end()
                    .to_string()
            } else {
                event_detail(event)
            },
        ]
    }

    fn flush_pending_rows(&mut self) -> io::Result<()> {
        if self.table.widths.is_some() {
            return Ok(());
        }
        let mut widths = TABLE_HEADERS.map(str::len);
        if self.live {
            // Sized from one row: leave room for the longest kinds and usual names.
            for (width, live) in widths.iter_mut().zip(LIVE_WIDTHS) {
                *width = (*width).max(live);
            }
        }
        for (_, cells) in &self.table.pending {
            for (index, (width, cell)) in widths.iter_mut().zip(cells).enumerate() {
                let limit = if index == cells.len() - 1 {
                    MAX_DETAIL
                } else {
                    MAX_CELL
                };
                *width = (*width).max(cell.chars().count().min(limit));
            }
        }
        if let Some(width) = self.palette.width {
            // The detail column gives way so a row fits the terminal; the others never do.
            let last = widths.len() - 1;
            let others: usize = widths[..last].iter().map(|w| w + 2).sum();
            widths[last] = widths[last].min(width.saturating_sub(others).max(16));
        }
        self.table.widths = Some(widths);
        if self.written > 0 {
            let headers = TABLE_HEADERS.map(str::to_string);
            let line = pad_row(&headers, &widths);
            let header = self.palette.header(line.trim_end());
            writeln!(self.out(), "{header}")?;
        }
        for (kind, cells) in std::mem::take(&mut self.table.pending) {
            self.write_table_row(&kind, &cells, &widths)?;
        }
        Ok(())
    }

    fn write_table_row(
        &mut self,
        kind: &Kind,
        cells: &[String; 13],
        widths: &[usize; 13],
    ) -> io::Result<()> {
        let mut line = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            let fitted = fit(cell, *width, RIGHT_ALIGNED[index]);
            if index > 0 {
                line.push_str("  ");
            }
            if index == 4 {
                line.push_str(&self.palette.paint(&fitted, Palette::kind_style(kind)));
            } else {
                line.push_str(&fitted);
            }
        }
        let line = line.trim_end().to_string();
        writeln!(self.out(), "{line}")
    }
}

fn pad_row(cells: &[String; 13], widths: &[usize; 13]) -> String {
    cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(index, (cell, width))| fit(cell, *width, RIGHT_ALIGNED[index]))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The I/O error inside a csv error, kind kept (a closed pipe must stay `BrokenPipe`).
fn csv_to_io(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Pads or cuts (with an ellipsis) `cell` to exactly `width` characters.
fn fit(cell: &str, width: usize, right: bool) -> String {
    let length = cell.chars().count();
    if length > width {
        let mut cut: String = cell.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        return cut;
    }
    if right {
        format!("{cell:>width$}")
    } else {
        format!("{cell:<width$}")
    }
}

/// The short, human detail of an event: its failure code, backoff, deadline, exception, then
/// a remote call's skill, agent and task (last: the exception matters more when the line is
/// cut).
pub fn event_detail(event: &Event) -> String {
    let mut parts = Vec::new();
    if let Some(code) = event.flow_error().and_then(|f| f.code.as_ref()) {
        parts.push(code.clone());
    }
    if let Some(sleep) = event.sleep_s() {
        parts.push(format!("retry in {sleep}s"));
    }
    if let Some(deadline) = event.deadline_s() {
        let late_ms = (event.ts.as_unix_seconds() - deadline) * 1000.0;
        parts.push(format!("deadline passed {} ms before", millis(late_ms)));
    }
    if let Some(exception) = event.exception() {
        let summary = summarize_exception(exception);
        match summary.type_name {
            Some(name) if summary.message.is_empty() => parts.push(name),
            Some(name) => parts.push(format!("{name}: {}", summary.message)),
            None => parts.push(summary.message),
        }
    }
    if let Some(remote) = event.remote() {
        let skill = remote.remote_skill.as_deref();
        match (skill, remote.remote_agent_url.as_deref()) {
            (Some(skill), Some(agent)) => parts.push(format!("{skill} at {agent}")),
            (skill, agent) => parts.extend(skill.or(agent).map(str::to_string)),
        }
        if let Some(task) = &remote.remote_task_id {
            parts.push(format!("task {task}"));
        }
    }
    one_line(&parts.join("; "), 120)
}
