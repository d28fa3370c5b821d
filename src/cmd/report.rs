//! `flowtrace report -o incident.html`: the incident report as one HTML page, from one read of
//! the input with triage's analyses (or, with one `--trace`, find's).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::analysis::report::Incident;
use crate::cli::ReportArgs;
use crate::config::{InputConfig, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::pass::{Finished, Pass};
use crate::render::html::{self, ReadNotes};
use crate::render::plural;
use crate::source::{InputSpec, ReadReport, postgres};

pub fn run(args: &ReportArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let to_stdout = args.output_file.as_os_str() == "-";
    if !to_stdout {
        refuse_overwriting_an_input(&args.output_file, &input)?;
    }
    let redact = !args.no_redact;

    let (page, read) = match args.filter.traces.as_slice() {
        [query] => {
            let query = query.trim();
            let (found, read) =
                super::find::read_trace(query, &input, &filter, redact, args.full_scan)?;
            let mut found = match found {
                Ok(found) => found,
                Err(error) => {
                    super::finish_read(&read, input.quiet);
                    return Err(super::find::trace_error(error, query, &input, &read));
                }
            };
            found
                .timeline
                .retain(|event| filter.matches_event_scope(event));
            let notes = notes(&input, &read, redact);
            super::say_read_errors(&read);
            (html::trace_page(&found, &notes), read)
        }
        _ => {
            let pass = Pass {
                input: &input,
                filter: &filter,
                redact,
            };
            let Finished { report, read } = pass.run(Incident::default())?;
            let notes = notes(&input, &read, redact);
            super::say_read_errors(&read);
            (html::incident_page(&report, &notes), read)
        }
    };

    if to_stdout {
        let mut out = io::stdout().lock();
        out.write_all(page.as_bytes())?;
        out.flush()?;
    } else {
        write_replacing(&args.output_file, page.as_bytes()).map_err(|error| {
            Error::Usage(format!(
                "cannot write {}: {error}",
                args.output_file.display()
            ))
        })?;
        if !input.quiet {
            super::eprint_line(&format!(
                "flowtrace: wrote {} ({} KiB)",
                args.output_file.display(),
                page.len().div_ceil(1024)
            ));
        }
    }
    Ok(super::finish_read_after_errors(&read, input.quiet))
}

/// What the page says was read: the inputs, the counts, and what could not be read.
fn notes(input: &InputConfig, read: &ReadReport, redact: bool) -> ReadNotes {
    let mut inputs: Vec<String> = input.inputs.iter().map(InputSpec::display_name).collect();
    if let Some((store, table)) = &input.store {
        let store = store.display().to_string();
        inputs.push(format!("{} (table {table})", postgres::masked(&store)));
    }
    let stats = &read.stats;
    let summary = super::read_summary(stats).unwrap_or_else(|| {
        let rows = stats.store_rows;
        match (stats.inputs, rows) {
            (0, rows) => format!("Read {} from the store.", plural(rows, "row")),
            (inputs, 0) => format!(
                "Read {} from {}: {}.",
                plural(stats.lines, "line"),
                plural(inputs, "input"),
                plural(stats.events, "event")
            ),
            (inputs, rows) => format!(
                "Read {} from {} and {} from the store.",
                plural(stats.lines, "line"),
                plural(inputs, "input"),
                plural(rows, "row")
            ),
        }
    });
    ReadNotes {
        inputs,
        summary,
        problems: read.errors.iter().map(|e| e.to_string()).collect(),
        warnings: read.warnings.clone(),
        unmasked: !redact,
    }
}

/// `-o` naming one of the inputs would destroy the evidence: refused.
fn refuse_overwriting_an_input(output: &Path, input: &InputConfig) -> Result<(), Error> {
    let Ok(target) = output.canonicalize() else {
        return Ok(()); // Not there yet: not an input.
    };
    let mut given: Vec<PathBuf> = input
        .inputs
        .iter()
        .filter_map(|spec| match spec {
            InputSpec::File(path) => Some(path.clone()),
            InputSpec::Stdin => None,
        })
        .collect();
    if let Some((store, _)) = &input.store {
        given.push(store.clone());
    }
    for path in given {
        if path.canonicalize().is_ok_and(|path| path == target) {
            return Err(Error::Usage(format!(
                "-o {} is one of the inputs: flowtrace never writes over its input; name another file",
                output.display()
            )));
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file beside it, renamed over it at the end: a
/// failed run leaves the old file (or none), never half a page.
fn write_replacing(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().map_or_else(
        || std::ffi::OsString::from("report.html"),
        |n| n.to_os_string(),
    );
    let mut temporary = directory.join(format!(".{}.tmp", name.to_string_lossy()));
    temporary
        .as_mut_os_string()
        .push(format!("-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
