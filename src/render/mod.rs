//! Renderers: they take a writer and a report (or events) and never print directly.
//!
//! `events` writes the normalized event stream in every `--format`; shared helpers here give
//! the colors of event kinds and the number formats every renderer uses.

/// Report values that analyses leave unworded (a checklist step, a signal's facts), said as
/// one line: `Serialize` writes that line, so the JSON carries what the pages say. `said_by`
/// also makes `Display` from the function that says the value; the other types have their own.
macro_rules! said_by {
    ($($type:ty => $say:path),+ $(,)?) => {$(
        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$say(self))
            }
        }
        serialized_as_said!($type);
    )+};
}

macro_rules! serialized_as_said {
    ($($type:ty),+ $(,)?) => {$(
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    )+};
}

pub mod classify;
pub mod classify_steps;
pub mod events;
pub mod find;
pub mod graph;
pub mod html;
pub mod lint;
pub mod metrics;
pub mod remediation;
pub mod saturation;
pub mod saturation_evidence;
pub mod saturation_steps;
pub mod svg;
pub mod table;
pub mod traces;
pub mod trend;
pub mod triage;
pub mod triage_steps;

use anstyle::{AnsiColor, Style};

use crate::event::Kind;

/// How an event kind is shown: the one mapping from kinds to emphasis, used by every renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Failure,
    Error,
    Timeout,
    Retry,
    Deadline,
    Cancel,
    Success,
    Quiet,
    Plain,
}

impl Tone {
    pub fn of(kind: &Kind) -> Tone {
        match kind {
            Kind::NodeFailed => Tone::Failure,
            Kind::NodeError | Kind::RemoteCallError | Kind::RemoteCancelError => Tone::Error,
            Kind::NodeTimeout => Tone::Timeout,
            Kind::NodeRetry => Tone::Retry,
            Kind::DeadlineSkip => Tone::Deadline,
            Kind::TraceCancelStart
            | Kind::TraceCancelDrop
            | Kind::NodeTraceCancelled
            | Kind::TraceCancelFinish
            | Kind::NodeCancelled
            | Kind::RemoteCallCancelled => Tone::Cancel,
            Kind::NodeSuccess | Kind::RemoteCallSuccess => Tone::Success,
            Kind::NodeStart | Kind::RemoteCallStart | Kind::RemoteStreamEvent => Tone::Quiet,
            _ => Tone::Plain,
        }
    }

    pub fn style(self) -> Style {
        let color = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match self {
            Tone::Failure => color(AnsiColor::Red).bold(),
            Tone::Error => color(AnsiColor::Red),
            Tone::Timeout => color(AnsiColor::Yellow),
            Tone::Retry => color(AnsiColor::Magenta),
            Tone::Deadline => color(AnsiColor::Blue),
            Tone::Cancel => color(AnsiColor::Cyan),
            Tone::Success => color(AnsiColor::Green),
            Tone::Quiet => Style::new().dimmed(),
            Tone::Plain => Style::new(),
        }
    }
}

/// How terminal output looks: colors (every method returns plain text when disabled) and the
/// terminal's width, when writing to one (tables and prose are fitted to it; piped output is
/// never wrapped).
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub enabled: bool,
    pub width: Option<usize>,
}

impl Palette {
    /// Colors as `enabled` says, at the width of the terminal stdout writes to, if any.
    pub fn for_stdout(enabled: bool) -> Palette {
        use std::io::IsTerminal;
        let stdout = std::io::stdout();
        // The terminal's own size, else what the shell says ($COLUMNS).
        let width = stdout
            .is_terminal()
            .then(|| {
                terminal_size::terminal_size_of(&stdout)
                    .map(|(terminal_size::Width(columns), _)| usize::from(columns))
                    .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
            })
            .flatten()
            .filter(|columns| *columns >= 40);
        Palette { enabled, width }
    }

    /// `text` wrapped at word boundaries to the terminal's width, every line after the first
    /// indented by `indent` columns; unchanged when not writing to a terminal.
    pub fn wrap(&self, text: &str, first_indent: usize, indent: usize) -> String {
        match self.width {
            Some(width) => wrap_words(text, width, first_indent, indent),
            None => text.to_string(),
        }
    }

    pub fn paint(&self, text: &str, style: Style) -> String {
        if self.enabled && style != Style::new() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    pub fn header(&self, text: &str) -> String {
        self.paint(text, Style::new().bold())
    }

    /// The style of an event kind: failures stand out, starts recede.
    pub fn kind_style(kind: &Kind) -> Style {
        Tone::of(kind).style()
    }
}

/// Text for a markdown table cell: a `|` would end the cell.
pub fn markdown_cell(text: &str) -> String {
    // A line break would end the table row.
    text.replace('|', "\\|")
        .replace("\r\n", " ")
        .replace(['\n', '\r'], " ")
}

/// A markdown table row of `cells`, each escaped.
pub fn markdown_row<S: AsRef<str>>(cells: &[S]) -> String {
    let escaped: Vec<String> = cells.iter().map(|c| markdown_cell(c.as_ref())).collect();
    format!("| {} |", escaped.join(" | "))
}

/// `12410` -> `12,410`.
pub fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Squeezes a series into at most `width` columns by summing neighbours.
pub fn squeeze(values: &[u64], width: usize) -> Vec<u64> {
    if values.len() <= width {
        return values.to_vec();
    }
    let per = values.len().div_ceil(width);
    values.chunks(per).map(|chunk| chunk.iter().sum()).collect()
}

/// Squeezes a series into at most `width` columns keeping each group's maximum.
pub fn squeeze_max(values: &[u64], width: usize) -> Vec<u64> {
    if values.len() <= width {
        return values.to_vec();
    }
    let per = values.len().div_ceil(width);
    values
        .chunks(per)
        .map(|chunk| chunk.iter().copied().max().unwrap_or(0))
        .collect()
}

/// A row of Unicode block characters, one per value, scaled to the row's maximum (zero is a
/// space, so a quiet stretch looks quiet).
pub fn sparkline(values: &[u64]) -> String {
    sparkline_scaled(values, values.iter().copied().max().unwrap_or(0))
}

/// A sparkline scaled to `max`, so that the rows of one chart share a scale (a queue that never
/// exceeded 1 must not look as full as one at 12).
pub fn sparkline_scaled(values: &[u64], max: u64) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values
        .iter()
        .map(|&value| {
            if value == 0 || max == 0 {
                ' '
            } else {
                let level = ((value as f64 / max as f64) * 7.0).round() as usize;
                BLOCKS[level.min(7)]
            }
        })
        .collect()
}

/// Sparklines of several series drawn on one scale: (name, line, total) per row, and the scale's
/// top (the largest value of any row).
pub fn one_scale(series: Vec<(&str, Vec<u64>)>) -> (Vec<(String, String, u64)>, u64) {
    let top = series
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .max()
        .unwrap_or(0);
    let rows = series
        .into_iter()
        .map(|(name, values)| {
            (
                name.to_string(),
                sparkline_scaled(&values, top),
                values.iter().sum(),
            )
        })
        .collect();
    (rows, top)
}

/// The first and last times under a chart `columns` wide, at its two ends (with milliseconds
/// when the span is under a minute).
pub fn time_axis(
    first: crate::event::Timestamp,
    last: crate::event::Timestamp,
    columns: usize,
) -> String {
    let format = if last.0 - first.0 >= 60_000_000 {
        "%H:%M:%S"
    } else {
        "%H:%M:%S%.3f"
    };
    let start = first.to_datetime().format(format).to_string();
    let end = last.to_datetime().format(format).to_string();
    let gap = columns
        .saturating_sub(start.chars().count() + end.chars().count())
        .max(1);
    format!("{start}{}{end}", " ".repeat(gap))
}

/// `24 traces: 16 succeeded, 2 failed, ...` from trace counts by status name.
pub fn statuses_line(statuses: &std::collections::BTreeMap<String, u64>) -> String {
    let total: u64 = statuses.values().sum();
    let parts: Vec<String> = crate::analysis::trace::TraceStatus::ALL
        .iter()
        .map(|status| {
            let count = statuses.get(status.as_str()).copied().unwrap_or(0);
            format!("{} {status}", thousands(count))
        })
        .collect();
    format!("{}: {}", plural(total, "trace"), parts.join(", "))
}

/// The numbered "what to do" list of a terminal report (nothing when there are no steps).
pub fn write_checklist(
    out: &mut impl std::io::Write,
    palette: Palette,
    steps: &[impl std::fmt::Display],
) -> std::io::Result<()> {
    if steps.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", palette.header("what to do"))?;
    for (index, step) in steps.iter().enumerate() {
        let number = format!("  {}. ", index + 1);
        let step = palette.wrap(&step.to_string(), number.len(), number.len());
        writeln!(out, "{number}{step}")?;
    }
    Ok(())
}

/// Greedy word wrap: lines of at most `width` columns (a word longer than that stands alone),
/// the first starting at column `first_indent` (already printed by the caller), the others
/// indented by `indent` spaces.
pub fn wrap_words(text: &str, width: usize, first_indent: usize, indent: usize) -> String {
    let mut wrapped = String::new();
    let mut column = first_indent;
    let mut line_start = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let length = word.chars().count();
        if !line_start && column + 1 + length > width {
            wrapped.push('\n');
            wrapped.push_str(&" ".repeat(indent));
            column = indent;
            line_start = true;
        }
        if !line_start {
            wrapped.push(' ');
            column += 1;
        }
        wrapped.push_str(word);
        column += length;
        line_start = false;
    }
    wrapped
}

/// A time of day to the millisecond, UTC: `08:42:52.768`.
pub fn clock(ts: crate::event::Timestamp) -> String {
    ts.to_datetime().format("%H:%M:%S%.3f").to_string()
}

/// A length of time in microseconds, in the unit that suits it: `350 ms`, `2.5 s`, `1.5 min`.
pub fn duration(micros: i64) -> String {
    if micros >= 60_000_000 {
        format!("{:.1} min", micros as f64 / 60e6)
    } else if micros >= 1_000_000 {
        format!("{:.1} s", micros as f64 / 1e6)
    } else {
        format!("{} ms", millis(micros as f64 / 1000.0))
    }
}

/// `1 event`, `12,410 events`, `2 retries`, `3 successes`.
pub fn plural(count: u64, word: &str) -> String {
    let number = thousands(count);
    if count == 1 {
        return format!("{number} {word}");
    }
    if let Some(stem) = word.strip_suffix('y') {
        format!("{number} {stem}ies")
    } else if word.ends_with('s') {
        format!("{number} {word}es")
    } else {
        format!("{number} {word}s")
    }
}

/// A latency or duration in milliseconds, with precision suited to its size.
pub fn millis(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_410), "12,410");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(millis(1234.5), "1234");
        assert_eq!(millis(12.34), "12.3");
        assert_eq!(millis(1.234), "1.23");
        assert_eq!(sparkline(&[0, 1, 4, 8]), " ▂▅█");
        assert_eq!(sparkline(&[0, 0]), "  ");
        assert_eq!(sparkline_scaled(&[1, 1], 8), "▂▂");
        assert_eq!(plural(1, "retry"), "1 retry");
        assert_eq!(plural(2, "retry"), "2 retries");
        assert_eq!(plural(22, "success"), "22 successes");
        assert_eq!(plural(12_410, "line"), "12,410 lines");
    }

    #[test]
    fn prose_wraps_at_words_with_a_hanging_indent() {
        // The first line starts at column 5 (after "  1. "); every line stays within 24.
        let text = "Relieve the bottleneck llm: it is busy with real work";
        assert_eq!(
            wrap_words(text, 24, 5, 5),
            "Relieve the\n     bottleneck llm: it\n     is busy with real\n     work"
        );
        assert_eq!(
            wrap_words("a-very-long-word x", 5, 0, 2),
            "a-very-long-word\n  x"
        );
    }
}
