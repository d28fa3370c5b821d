//! `flowtrace traces`: one row per trace.

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::analysis::tracebook::{TraceBook, TraceOutcome};
use crate::analysis::traces::{TraceQuery, list, mark_cross_tenant, row};
use crate::cli::{ReportFormat, TracesArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::render::{Palette, traces};
use crate::source::EventStream;

/// Rows shown on a terminal unless `--limit` says otherwise.
const TERMINAL_LIMIT: usize = 50;

pub fn run(args: &TracesArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette {
        enabled: resolve_color(&args.output),
    };
    let terminal = io::stdout().is_terminal();

    // Statuses need every event of a trace: read the trace scope; --node/--kind select the
    // traces that have such an event.
    let scope = filter.trace_scope();
    let mut stream = EventStream::open(input.source_options(&scope))?;
    let mut book = TraceBook::default();
    let mut rows = Vec::new();
    let selected_rows = |outcomes: Vec<TraceOutcome>| {
        outcomes
            .into_iter()
            .filter(|o| o.summary.selected)
            .map(|o| row(&o))
            .collect::<Vec<_>>()
    };
    for event in scope.apply(&mut stream) {
        let selected = filter.matches_event_scope(&event);
        rows.extend(selected_rows(book.observe(&event, selected)));
    }
    let read = stream.take_report();
    rows.extend(selected_rows(book.finish().0));
    mark_cross_tenant(&mut rows, stream.tenants());
    let query = TraceQuery {
        statuses: args.statuses.clone(),
        categories: args.categories.clone(),
        sort: args.sort,
        limit: args.limit.or(terminal.then_some(TERMINAL_LIMIT)),
    };
    let listing = list(rows, &query);

    let mut out = BufWriter::new(io::stdout().lock());
    let format = args.format.unwrap_or(if terminal {
        ReportFormat::Table
    } else {
        ReportFormat::Json
    });
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &listing.rows).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Table => traces::write_table(&listing, &mut out, palette)?,
        ReportFormat::Markdown => traces::write_markdown(&listing, &mut out)?,
    }
    out.flush()?;
    drop(out);
    // The read summary and errors go to stderr after the report.
    let status = super::finish_read(&read, input.quiet);
    Ok(status)
}
