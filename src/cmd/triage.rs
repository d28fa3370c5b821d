//! `flowtrace triage`: every analysis from one read of the input.

use std::io::{self, IsTerminal};

use crate::analysis::triage::Triage;
use crate::cli::{ReportFormat, TriageArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::pass::{Finished, Pass};
use crate::render::{Palette, triage};

pub fn run(args: &TriageArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?
        .with_watch(&args.watch, args.filter.since.is_some())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(resolve_color(&args.output));
    if args.watch.watch {
        return super::watch(
            "triage",
            &input,
            &filter,
            !args.output.no_redact,
            &args.watch,
            args.format,
            Triage::default,
            |report, mut out| triage::write_table(report, &mut out, palette),
        );
    }

    // The one pass: stdin cannot be read twice, and a large file should not be.
    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let Finished { report, read } = pass.run(Triage::default())?;
    // Errors first: the report covers what was read before them.
    super::say_read_errors(&read);

    super::write_report(
        args.format.unwrap_or(ReportFormat::Table),
        &report,
        |out| triage::write_table(&report, out, palette),
        |out| triage::write_markdown(&report, out),
    )?;
    // The read summary goes to stderr after the report.
    let status = super::finish_read_after_errors(&read, input.quiet);
    Ok(status)
}
