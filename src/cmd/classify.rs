//! `flowtrace classify`: failures across the whole flow, by category, and what to do.

use std::io::{self, IsTerminal};

use crate::analysis::classify::Classifier;
use crate::analysis::tracebook::TraceBook;
use crate::cli::{ClassifyArgs, ReportFormat};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::{EXIT_FAILURES_FOUND, EXIT_OK, Error};
use crate::event::Timestamp;
use crate::redact::Redactor;
use crate::render::{Palette, classify};
use crate::source::EventStream;

pub fn run(args: &ClassifyArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette {
        enabled: resolve_color(&args.output),
    };

    // Statuses need every event of a trace: read the trace scope, count what --node/--kind
    // select.
    let scope = filter.trace_scope();
    let mut stream = EventStream::open(input.source_options(&scope))?;
    let mut book = TraceBook::default();
    let mut classifier = Classifier::new(args.by, args.messages);
    let mut redactor = Redactor::new(!args.output.no_redact);
    for mut event in scope.apply(&mut stream) {
        redactor.apply(&mut event);
        let selected = filter.matches_event_scope(&event);
        for finished in book.observe(&event, selected) {
            classifier.add_outcome(&finished);
        }
        if selected {
            classifier.observe(&event);
        }
    }
    let read = stream.take_report();
    for finished in book.finish().0 {
        classifier.add_outcome(&finished);
    }
    let report = classifier.finish();

    super::write_report(
        args.format.unwrap_or(ReportFormat::Table),
        &report,
        |out| classify::write_table(&report, out, palette),
        |out| classify::write_markdown(&report, out),
    )?;
    // The read summary and errors go to stderr after the report.
    let read_status = super::finish_read(&read, input.quiet);
    let failed_on = args
        .fail_on
        .iter()
        .any(|category| report.categories.occurred(*category));
    Ok(match (read_status, failed_on) {
        (EXIT_OK, true) => EXIT_FAILURES_FOUND,
        (status, _) => status,
    })
}
