//! `flowtrace triage`: every analysis from one read of the input.

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::analysis::triage::Triage;
use crate::cli::{ReportFormat, TriageArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::redact::redact_event;
use crate::render::{Palette, triage};
use crate::source::EventStream;

pub fn run(args: &TriageArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette {
        enabled: resolve_color(&args.output),
    };

    let scope = filter.trace_scope();
    let mut stream = EventStream::open(input.source_options(&scope))?;
    let mut analyses = Triage::default();
    // The one pass: stdin cannot be read twice, and a large file should not be.
    for mut event in scope.apply(&mut stream) {
        if !args.output.no_redact {
            redact_event(&mut event);
        }
        let selected = filter.matches_event_scope(&event);
        analyses.observe(&event, selected);
    }
    let read = stream.take_report();
    let report = analyses.finish(stream.tenants());

    let mut out = BufWriter::new(io::stdout().lock());
    match args.format.unwrap_or(ReportFormat::Table) {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Table => triage::write_table(&report, &mut out, palette)?,
        ReportFormat::Markdown => triage::write_markdown(&report, &mut out)?,
    }
    out.flush()?;
    drop(out);
    // The read summary and errors go to stderr after the report.
    let status = super::finish_read(&read, input.quiet);
    Ok(status)
}
