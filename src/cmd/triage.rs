//! `flowtrace triage`: every analysis from one read of the input.

use std::io::{self, IsTerminal};

use crate::analysis::triage::Triage;
use crate::cli::{ReportFormat, TriageArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::redact::Redactor;
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
    let mut redactor = Redactor::new(!args.output.no_redact);
    for mut event in scope.apply(&mut stream) {
        redactor.apply(&mut event);
        let selected = filter.matches_event_scope(&event);
        analyses.observe(&event, selected);
    }
    let read = stream.take_report();
    let report = analyses.finish(stream.tenants());

    super::write_report(
        args.format.unwrap_or(ReportFormat::Table),
        &report,
        |out| triage::write_table(&report, out, palette),
        |out| triage::write_markdown(&report, out),
    )?;
    // The read summary and errors go to stderr after the report.
    let status = super::finish_read(&read, input.quiet);
    Ok(status)
}
