//! `flowtrace lint`: telemetry defects, with locations and fixes; exit 4 gates a deploy.

use std::io::{self, IsTerminal};
use std::sync::Arc;

use crate::analysis::lint::{Lint, LintLines};
use crate::cli::{LintArgs, LintFormat};
use crate::config::{InputConfig, resolve_filter};
use crate::error::{EXIT_LINT_FINDINGS, Error};
use crate::event::Timestamp;
use crate::pass::Pass;
use crate::render::{Palette, lint};

pub fn run(args: &LintArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(crate::config::resolve_color(&args.output));
    let lines = LintLines::default();
    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: true,
    };
    let inspector: Arc<dyn crate::source::LineInspector> = Arc::new(lines.clone());
    let finished = pass.run_with(Lint::new(lines), |options| {
        options.inspector = Some(inspector);
        // The lines' secrets are looked for on the decoding threads, and the pass's thread
        // has little to do: a decoding thread on every core (unless -j says).
        options.decode_threads.get_or_insert_with(|| {
            std::thread::available_parallelism().map_or(1, |cores| cores.get().min(8))
        });
    })?;
    super::say_read_errors(&finished.read);
    let report = Lint::with_read(finished.report, &finished.read.stats);
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format.unwrap_or(LintFormat::Table) {
        LintFormat::Table => lint::write_table(&report, &mut out, palette)?,
        LintFormat::Markdown => lint::write_markdown(&report, &mut out)?,
        LintFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
            io::Write::write_all(&mut out, b"\n")?;
        }
        LintFormat::Sarif => lint::write_sarif(&report, &mut out)?,
    }
    io::Write::flush(&mut out)?;
    drop(out);
    let status = super::finish_read_after_errors(&finished.read, input.quiet);
    if status != 0 {
        return Ok(status);
    }
    let gate = report
        .findings
        .iter()
        .any(|finding| finding.severity >= args.fail_on_severity);
    Ok(if gate { EXIT_LINT_FINDINGS } else { 0 })
}
