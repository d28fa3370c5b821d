//! `flowtrace classify`: failures across the whole flow, by category, and what to do.

use std::io::{self, IsTerminal};

use crate::analysis::classify::Classifier;
use crate::cli::{ClassifyArgs, ReportFormat};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::{EXIT_FAILURES_FOUND, EXIT_OK, Error};
use crate::event::Timestamp;
use crate::pass::{Finished, Pass};
use crate::render::{Palette, classify};

pub fn run(args: &ClassifyArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette {
        enabled: resolve_color(&args.output),
    };

    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let Finished { report, read } = pass.run(Classifier::new(args.by, args.messages))?;

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
