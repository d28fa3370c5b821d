//! `flowtrace find TRACE_ID`: where did this trace stop, and why.

use std::io::{self, IsTerminal};
use std::sync::Arc;

use crate::analysis::find::{FindError, TraceFinder};
use crate::cli::{FindArgs, ReportFormat};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::filter::{both, contains_any};
use crate::pass::{Finished, Pass};
use crate::render::{Palette, find, plural};

/// Lines of each input (rows of a store) parsed in full, to learn the flow graph from, unless
/// `--full-scan`.
pub const FIND_SAMPLE_LINES: u64 = 20_000;

pub fn run(args: &FindArgs) -> Result<u8, Error> {
    let query = args.trace_id.trim();
    if query.is_empty() {
        return Err(Error::Usage("the trace id is empty".into()));
    }
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(resolve_color(&args.output));

    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let Finished {
        report: found,
        read: report,
    } = pass.run_with(TraceFinder::new(query), |options| {
        if !args.full_scan {
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
    let found = found.map_err(|error| match error {
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
    });
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
            super::finish_read(&report, input.quiet);
            return Err(error);
        }
    };

    super::write_report(
        args.format.unwrap_or(ReportFormat::Table),
        &found,
        |out| find::write_table(&found, out, palette, args.all),
        |out| find::write_markdown(&found, out, args.all),
    )?;
    // The read summary and errors go to stderr after the report.
    Ok(super::finish_read(&report, input.quiet))
}
