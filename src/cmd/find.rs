//! `flowtrace find TRACE_ID`: where did this trace stop, and why.

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::analysis::find::{FindError, TraceFinder};
use crate::cli::{FindArgs, ReportFormat};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::redact::redact_event;
use crate::render::{Palette, find, thousands};
use crate::source::EventStream;

pub fn run(args: &FindArgs) -> Result<u8, Error> {
    let query = args.trace_id.trim();
    if query.is_empty() {
        return Err(Error::Usage("the trace id is empty".into()));
    }
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette {
        enabled: resolve_color(&args.output),
    };

    let mut stream = EventStream::open(input.source_options(&filter))?;
    let mut finder = TraceFinder::new(query);
    for mut event in filter.apply(&mut stream) {
        if !args.output.no_redact {
            redact_event(&mut event);
        }
        finder.observe(&event);
    }
    let report = stream.take_report();
    let status = super::finish_read(&report, input.quiet);
    let found = finder.finish().map_err(|error| match error {
        FindError::NotFound { close } => {
            let sources = report.stats.inputs + u64::from(input.store.is_some());
            Error::TraceNotFound {
                query: query.to_string(),
                inputs: format!("{} input{}", sources, if sources == 1 { "" } else { "s" }),
                events: thousands(report.stats.events + report.stats.store_rows),
                close,
            }
        }
        FindError::Ambiguous { ids, more } => Error::AmbiguousTrace {
            query: query.to_string(),
            ids,
            more,
        },
    })?;

    let mut out = BufWriter::new(io::stdout().lock());
    match args.format.unwrap_or(ReportFormat::Table) {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &found).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Table => find::write_table(&found, &mut out, palette, args.all)?,
        ReportFormat::Markdown => find::write_markdown(&found, &mut out, args.all)?,
    }
    out.flush()?;
    Ok(status)
}
