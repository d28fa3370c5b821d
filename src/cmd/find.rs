//! `flowtrace find TRACE_ID`: where did this trace stop, and why.

use std::io::{self, IsTerminal};
use std::sync::Arc;

use std::io::Write;
use std::ops::ControlFlow;

use crate::analysis::category::Category;
use crate::analysis::find::{FindError, FindReport, TraceFinder};
use crate::analysis::trace::TraceStatus;
use crate::cli::{FindArgs, ReportFormat};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Kind;
use crate::event::Timestamp;
use crate::filter::EventFilter;
use crate::filter::{both, contains_any};
use crate::pass::{Finished, Pass};
use crate::render::{Palette, find, plural};
use crate::source::{ReadReport, follow};

/// Lines of each input (rows of a store) parsed in full, to learn the flow graph from, unless
/// `--full-scan`.
pub const FIND_SAMPLE_LINES: u64 = 20_000;

/// `find -f` ends once its trace is in a terminal status and nothing of it came for this long
/// of log time (events of other traces show the time passing).
const SETTLE_MICROS: i64 = 2_000_000;

pub fn run(args: &FindArgs) -> Result<u8, Error> {
    let query = args.trace_id.trim();
    if query.is_empty() {
        return Err(Error::Usage("the trace id is empty".into()));
    }
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?
        .with_follow(&args.follow, args.filter.since.is_some())?;
    let now = Timestamp::now();
    let filter = resolve_filter(&args.filter, now)?;
    let palette = Palette::for_stdout(resolve_color(&args.output));
    if input.follow.is_some() {
        return follow(args, query, &input, &filter.anchored_at(now), palette);
    }

    let (found, report) = read_trace(
        query,
        &input,
        &filter,
        !args.output.no_redact,
        args.full_scan,
    )?;
    finish_find(args, query, &input, &filter, palette, found, &report)
}

/// Reads the inputs once for the trace `query` names (a whole id or a unique prefix): its
/// report, or why no single trace matched; and what was read. Without `full_scan` only the
/// trace's lines and a sample of the flow (for the graph) are parsed.
pub fn read_trace(
    query: &str,
    input: &InputConfig,
    filter: &EventFilter,
    redact: bool,
    full_scan: bool,
) -> Result<(Result<FindReport, FindError>, ReadReport), Error> {
    let pass = Pass {
        input,
        filter,
        redact,
    };
    let Finished { report, read } = pass.run_with(TraceFinder::new(query), |options| {
        if !full_scan {
            // Only the trace's own lines, and a sample of the flow for the graph, are parsed.
            if let Some(query_lines) = contains_any(&[query.to_string()]) {
                options.prefilter = both(Arc::clone(&options.prefilter), query_lines);
                options.required = Some(query.as_bytes().to_vec());
            }
            options.sample_lines = FIND_SAMPLE_LINES;
            if let Some(store) = &mut options.store {
                store.trace_prefix = Some(query.to_string());
                store.sample_rows = FIND_SAMPLE_LINES;
            }
        }
    })?;
    Ok((report, read))
}

/// The error of a trace that was not found, or matched several, naming what was read.
pub fn trace_error(
    error: FindError,
    query: &str,
    input: &InputConfig,
    report: &ReadReport,
) -> Error {
    match error {
        FindError::NotFound { close } => {
            // `(48,210 events read)`; when the prefilter passed lines over unparsed, the
            // lines scanned are said too, since the events among them were not counted.
            let stats = &report.stats;
            let sources = stats.inputs + u64::from(input.store.is_some());
            let inputs = plural(sources, "input");
            let events = plural(stats.events + stats.store_rows, "event");
            let read = if stats.prefiltered == 0 {
                format!("{events} read")
            } else {
                format!("{} scanned, {events} read", plural(stats.lines, "line"))
            };
            Error::TraceNotFound {
                query: query.to_string(),
                inputs,
                read,
                close,
            }
        }
        FindError::Ambiguous { ids, more } => Error::AmbiguousTrace {
            query: query.to_string(),
            ids,
            more,
        },
    }
}

/// The report of a trace once the read ended (or a follow stopped), or the error that no
/// single trace matched.
fn finish_find(
    args: &FindArgs,
    query: &str,
    input: &InputConfig,
    filter: &EventFilter,
    palette: Palette,
    found: Result<FindReport, FindError>,
    report: &ReadReport,
) -> Result<u8, Error> {
    let found = found.map_err(|error| trace_error(error, query, input, report));
    let found = match found {
        Ok(mut found) => {
            if let Some(next) = &mut found.next {
                next.measured_to_end = report.stats.prefiltered == 0;
            }
            found
                .timeline
                .retain(|event| filter.matches_event_scope(event));
            found
        }
        Err(error) => {
            // A follow stopped by Ctrl-C before its trace came: what was read, and 130.
            if input.follow.is_some() && follow::interrupted() {
                super::eprint_line(&format!("flowtrace: {error}"));
                return Ok(super::finish_interrupted(report));
            }
            super::finish_read(report, input.quiet);
            return Err(error);
        }
    };

    // Errors first: the report covers what was read before them.
    super::say_read_errors(report);
    super::write_report(
        args.format.unwrap_or(ReportFormat::Table),
        &found,
        |out| find::write_table(&found, out, palette, args.all),
        |out| find::write_markdown(&found, out, args.all),
    )?;
    // The read summary goes to stderr after the report.
    if input.follow.is_some() && follow::interrupted() {
        return Ok(super::finish_interrupted_after_errors(report));
    }
    Ok(super::finish_read_after_errors(report, input.quiet))
}

/// `find -f`: the trace's timeline printed as its events come, a line each time its status
/// changes, and the whole report once it reaches a terminal status (or, with `--keep`, once
/// the input ends or Ctrl-C stops the follow).
fn follow(
    args: &FindArgs,
    query: &str,
    input: &InputConfig,
    filter: &EventFilter,
    palette: Palette,
) -> Result<u8, Error> {
    let live = args.format.unwrap_or(ReportFormat::Table) == ReportFormat::Table;
    let mut out = io::stdout().lock();
    let pass = Pass {
        input,
        filter: &filter.trace_scope(),
        redact: !args.output.no_redact,
    };
    let mut finder = TraceFinder::new(query);
    let mut shown: Option<(String, TraceStatus, Option<Category>)> = None;
    let mut first_ts = None;
    if live {
        writeln!(
            out,
            "following trace {query}: its events as they come; {}",
            if args.keep {
                "Ctrl-C ends"
            } else {
                "ends once it succeeded, failed, was cancelled or skipped and then nothing of it \
                 came for 2 s (Ctrl-C ends sooner)"
            }
        )?;
        out.flush()?;
    }
    // The newest time read, and the trace's own newest event.
    let mut newest = Timestamp(i64::MIN);
    let mut trace_newest = Timestamp(i64::MIN);
    let read = pass.for_each(|event, _late| {
        finder.observe(event);
        newest = newest.max(event.ts);
        // A second trace matching the prefix: stop now and say which (the report's error).
        if finder.is_ambiguous() {
            return Ok(ControlFlow::Break(()));
        }
        let Some((trace_id, status, category)) = finder.so_far() else {
            return Ok(ControlFlow::Continue(()));
        };
        if event.trace_id.as_deref() == Some(trace_id) {
            trace_newest = trace_newest.max(event.ts);
            let first = *first_ts.get_or_insert(event.ts);
            if live
                && filter.matches_event_scope(event)
                && (args.all || event.kind != Kind::NodeStart)
            {
                writeln!(out, "{}", find::live_row(event, first, palette))?;
            }
        }
        // A success is judged against the flow graph learned so far, which may not yet know
        // a branch the trace still has to take: it is said (and ends the follow) only once
        // nothing of the trace came for SETTLE of log time. The other statuses are facts of
        // the trace's own events.
        let settled = newest.0.saturating_sub(trace_newest.0) >= SETTLE_MICROS;
        let said = if status == TraceStatus::Succeeded && !settled {
            TraceStatus::InFlight
        } else {
            status
        };
        let said_category = if said == status { category } else { None };
        let changed = shown
            .as_ref()
            .is_none_or(|(id, was, _)| id != trace_id || *was != said);
        if changed {
            if live {
                let from = shown
                    .as_ref()
                    .map(|(_, was, was_category)| (*was, *was_category));
                writeln!(
                    out,
                    "{}",
                    find::live_status(from, said, said_category, palette)
                )?;
            }
            shown = Some((trace_id.to_string(), said, said_category));
        }
        if live {
            out.flush()?;
        }
        let done = said != TraceStatus::InFlight && settled && !args.keep;
        Ok(if done {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })?;
    if live {
        writeln!(out)?;
    }
    drop(out);
    finish_find(args, query, input, filter, palette, finder.finish(), &read)
}
