//! `flowtrace traces`: one row per trace.

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::analysis::traces::{TraceQuery, TraceRows, list};
use crate::cli::{ReportFormat, TracesArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::pass::{Finished, Pass};
use crate::render::{Palette, traces};

/// Rows shown on a terminal unless `--limit` says otherwise.
const TERMINAL_LIMIT: usize = 50;

pub fn run(args: &TracesArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(resolve_color(&args.output));
    let terminal = io::stdout().is_terminal();

    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let Finished { report: rows, read } = pass.run(TraceRows::default())?;
    // Errors first: the report covers what was read before them.
    super::say_read_errors(&read);
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
            traces::write_json(&listing, &mut out)?;
            writeln!(out)?;
        }
        ReportFormat::Table => traces::write_table(&listing, &mut out, palette)?,
        ReportFormat::Markdown => traces::write_markdown(&listing, &mut out)?,
    }
    out.flush()?;
    drop(out);
    // The read summary goes to stderr after the report.
    let status = super::finish_read_after_errors(&read, input.quiet);
    Ok(status)
}
