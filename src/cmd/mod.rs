//! One file per subcommand, each a thin wiring of the stages: config -> source -> filter ->
//! (analysis) -> render. `run` dispatches; the helpers here are shared by every subcommand.

pub mod classify;
pub mod completions;
pub mod events;
pub mod find;
pub mod graph;
pub mod import;
pub mod lint;
pub mod metrics;
pub mod report;
pub mod saturation;
pub mod traces;
pub mod triage;

use std::io::Write;

use crate::cli::{Cli, Command};
use crate::error::{EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNTIME, Error};
use crate::render::{plural, thousands};
use crate::source::{ReadReport, ReadStats};

/// Runs the parsed command line; returns the exit status.
pub fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Events(args) => events::run(&args),
        Command::Find(args) => find::run(&args),
        Command::Classify(args) => classify::run(&args),
        Command::Saturation(args) => saturation::run(&args),
        Command::Traces(args) => traces::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Triage(args) => triage::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Metrics(args) => metrics::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Completions { shell } => completions::run(shell),
    }
}

/// Buffered standard output, as reports are written to it.
pub type Stdout = std::io::BufWriter<std::io::StdoutLock<'static>>;

/// Writes a report to stdout in `format`: JSON serialized as is, the table and Markdown by the
/// report's renderers.
pub fn write_report<R: serde::Serialize>(
    format: crate::cli::ReportFormat,
    report: &R,
    table: impl FnOnce(&mut Stdout) -> std::io::Result<()>,
    markdown: impl FnOnce(&mut Stdout) -> std::io::Result<()>,
) -> Result<(), Error> {
    use crate::cli::ReportFormat;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Table => table(&mut out)?,
        ReportFormat::Markdown => markdown(&mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// `--watch`: runs `make`'s analysis over the last window of a follow every interval; on a
/// terminal each report redraws the screen (`table`), piped each is one JSON line
/// `{"window": ..., "report": ...}`. Returns the exit status (130 after Ctrl-C).
#[allow(clippy::too_many_arguments)]
pub fn watch<A: crate::pass::Analysis>(
    command: &str,
    input: &crate::config::InputConfig,
    filter: &crate::filter::EventFilter,
    redact: bool,
    args: &crate::cli::WatchArgs,
    format: Option<crate::cli::ReportFormat>,
    make: impl Fn() -> A,
    table: impl Fn(&A::Report, &mut dyn Write) -> std::io::Result<()>,
) -> Result<u8, Error>
where
    A::Report: serde::Serialize,
{
    // A live view has no last event to count `--since 30m` back from: now it is.
    let filter = filter.clone().anchored_at(crate::event::Timestamp::now());
    let pass = &crate::pass::Pass {
        input,
        filter: &filter,
        redact,
    };
    use crate::cli::ReportFormat;
    use std::io::IsTerminal;
    let window = crate::config::flag_duration("--window", &args.window)?;
    let interval = crate::config::flag_duration("--interval", &args.interval)?;
    if window.is_zero() {
        return Err(Error::Usage("--window must be longer than 0".into()));
    }
    if interval < std::time::Duration::from_millis(100) {
        return Err(Error::Usage("--interval must be at least 100ms".into()));
    }
    let terminal = std::io::stdout().is_terminal();
    let redraw = match format {
        None => terminal,
        Some(ReportFormat::Table) => true,
        Some(ReportFormat::Json) => false,
        Some(ReportFormat::Markdown) => {
            return Err(Error::Usage(
                "--watch writes a table (redrawn on a terminal) or JSON lines, not Markdown".into(),
            ));
        }
    };
    let read = pass.watch(make, window, interval, |report, frame| {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        if redraw {
            if terminal {
                // Home and clear, then the page: a redraw in place, as top does.
                write!(out, "\x1b[H\x1b[2J")?;
            }
            let span = match (frame.from, frame.to) {
                (Some(from), Some(to)) => format!(
                    "{} → {} UTC",
                    from.to_datetime().format("%H:%M:%S"),
                    to.to_datetime().format("%H:%M:%S")
                ),
                _ => "no events yet".to_string(),
            };
            writeln!(
                out,
                "flowtrace {command} --watch: the last {} of log time ({}, {span}), every {}; {}",
                args.window,
                plural(frame.events, "event"),
                args.interval,
                if frame.ended {
                    "the input ended: the last report"
                } else {
                    "Ctrl-C ends"
                }
            )?;
            writeln!(out)?;
            table(&report, &mut out)?;
            if !terminal {
                writeln!(out)?;
            }
        } else {
            // `window` first: what the report covers, before it.
            out.write_all(b"{\"window\":")?;
            serde_json::to_writer(&mut out, frame).map_err(std::io::Error::from)?;
            out.write_all(b",\"report\":")?;
            serde_json::to_writer(&mut out, &report).map_err(std::io::Error::from)?;
            writeln!(out, "}}")?;
        }
        out.flush()?;
        Ok(())
    })?;
    if crate::source::follow::interrupted() {
        return Ok(finish_interrupted(&read));
    }
    Ok(finish_read(&read, pass.input.quiet))
}

/// Prints to stderr, ignoring a closed stderr (nothing better can be done with that).
pub fn eprint_line(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// Reports what the read met (errors always, the skip summary unless `quiet`) and returns the
/// exit status: an input that could not be read fails the run, after the rest was read.
pub fn finish_read(report: &ReadReport, quiet: bool) -> u8 {
    say_read_errors(report);
    finish_read_after_errors(report, quiet)
}

/// The read's errors (an input cut while read, a line `--strict` refuses), said before a
/// report computed from the rest: the report is then read knowing it covers part of the input.
pub fn say_read_errors(report: &ReadReport) {
    for error in &report.errors {
        eprint_line(&format!("flowtrace: {error}"));
    }
    if !report.errors.is_empty() {
        READ_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A read error was said: the run fails (exit 1) even when the report after it then found
/// stdout closed (`| head`), which alone is not an error.
static READ_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True once [`say_read_errors`] said an error.
pub fn read_failed() -> bool {
    READ_FAILED.load(std::sync::atomic::Ordering::Relaxed)
}

/// As [`finish_read`], the errors already said by [`say_read_errors`] before the report.
pub fn finish_read_after_errors(report: &ReadReport, quiet: bool) -> u8 {
    for warning in &report.warnings {
        eprint_line(&format!("flowtrace: {warning}"));
    }
    if let Some(summary) = read_summary(&report.stats).filter(|_| !quiet) {
        eprint_line(&summary);
    }
    if report.errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_RUNTIME
    }
}

/// A follow ended by Ctrl-C: what was read (always, as the only sign of what the follow saw),
/// the errors met, and the exit status of an interrupted command.
pub fn finish_interrupted(report: &ReadReport) -> u8 {
    say_read_errors(report);
    finish_interrupted_after_errors(report)
}

/// As [`finish_interrupted`], the errors already said by [`say_read_errors`].
pub fn finish_interrupted_after_errors(report: &ReadReport) -> u8 {
    let stats = &report.stats;
    let summary = read_summary(stats).unwrap_or_else(|| {
        let read = match (stats.lines, stats.store_rows) {
            (lines, 0) => plural(lines, "line"),
            (0, rows) => format!("{} from the store", plural(rows, "row")),
            (lines, rows) => format!(
                "{} and {} from the store",
                plural(lines, "line"),
                plural(rows, "row")
            ),
        };
        format!(
            "read {read}: {}",
            plural(stats.events + stats.store_rows, "event")
        )
    });
    eprint_line(&format!("{summary} (stopped by Ctrl-C)"));
    EXIT_INTERRUPTED
}

/// `read 12,410 lines from 3 inputs: 11,982 events, 428 skipped (401 not JSON, 27 not
/// FlowEvents)`, or `None` when nothing was skipped or decoded lossily.
pub fn read_summary(stats: &ReadStats) -> Option<String> {
    if stats.skipped() == 0
        && stats.non_utf8 == 0
        && stats.duplicates == 0
        && stats.out_of_order == 0
        && stats.late == 0
        && stats.store_rows_other == 0
    {
        return None;
    }
    let rows = stats.store_rows + stats.store_rows_skipped + stats.store_rows_other;
    let mut summary = match (stats.inputs, rows) {
        (0, _) => format!("read {} from the store", plural(rows, "row")),
        (inputs, 0) => format!(
            "read {} from {}",
            plural(stats.lines, "line"),
            plural(inputs, "input")
        ),
        (inputs, rows) => format!(
            "read {} from {} and {} from the store",
            plural(stats.lines, "line"),
            plural(inputs, "input"),
            plural(rows, "row")
        ),
    };
    summary.push_str(&format!(
        ": {}",
        plural(stats.events + stats.store_rows, "event")
    ));
    if stats.tenant_lines > 0 {
        summary.push_str(&format!(", {}", plural(stats.tenant_lines, "tenant line")));
    }
    if stats.prefiltered > 0 {
        summary.push_str(&format!(
            ", {} passed over unparsed by the filter",
            plural(stats.prefiltered, "line")
        ));
    }
    let mut reasons = Vec::new();
    for (count, what) in [
        (stats.not_json, "not JSON"),
        (stats.too_long, "longer than --max-line-bytes"),
        (
            stats.plain_logging,
            "PenguiFlow events logged as plain text, without fields",
        ),
        (stats.malformed, "malformed JSON"),
        (stats.not_flow_events, "not FlowEvents"),
        (stats.store_rows_skipped, "unreadable store rows"),
    ] {
        if count > 0 {
            reasons.push(format!("{} {what}", thousands(count)));
        }
    }
    if !reasons.is_empty() {
        summary.push_str(&format!(
            ", {} skipped ({})",
            thousands(stats.skipped()),
            reasons.join(", ")
        ));
    }
    if stats.store_rows_other > 0 {
        summary.push_str(&format!(
            ", {} of other kinds (session.*) in the same table, not FlowEvents",
            plural(stats.store_rows_other, "row")
        ));
    }
    if stats.duplicates > 0 {
        summary.push_str(&format!(
            ", {} read twice and given once",
            plural(stats.duplicates, "event")
        ));
    }
    if stats.out_of_order > 0 {
        summary.push_str(&format!(
            ", {} out of time order (an input more than 1,024 events out of order, such as pod logs concatenated: give each as its own input to merge them)",
            plural(stats.out_of_order, "event")
        ));
    }
    if stats.late > 0 {
        summary.push_str(&format!(
            ", {} later than the reorder window (printed marked late; a longer --reorder-window holds them back)",
            plural(stats.late, "event")
        ));
    }
    if stats.non_utf8 > 0 {
        summary.push_str(&format!(
            ", {} with invalid UTF-8 decoded lossily",
            plural(stats.non_utf8, "line")
        ));
    }
    Some(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_what_was_skipped() {
        let stats = ReadStats {
            inputs: 3,
            lines: 12_410,
            events: 11_982,
            not_json: 401,
            not_flow_events: 27,
            ..ReadStats::default()
        };
        assert_eq!(
            read_summary(&stats).unwrap(),
            "read 12,410 lines from 3 inputs: 11,982 events, 428 skipped (401 not JSON, 27 not FlowEvents)"
        );
        assert_eq!(read_summary(&ReadStats::default()), None);
    }
}
