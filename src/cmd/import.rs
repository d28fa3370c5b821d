//! `flowtrace import LOGS --store FILE`: archive the events of logs into a SQLite store.

use std::io::{self, IsTerminal};

use crate::cli::{ImportArgs, InputArgs};
use crate::config::{InputConfig, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::import::{PgWriter, StoreWriter};
use crate::redact::Redactor;
use crate::render::{plural, thousands};
use crate::source::EventStream;

pub fn run(args: &ImportArgs) -> Result<u8, Error> {
    // The inputs are logs only: the store given is the destination, never a source.
    let input_args = InputArgs {
        inputs: args.inputs.clone(),
        store: None,
        table: args.table.clone(),
        strict: args.strict,
        quiet: args.quiet,
        threads: args.threads,
        max_line_bytes: args.max_line_bytes,
        store_timeout: "30s".into(),
    };
    let store_text = args.store.to_string_lossy().into_owned();
    if crate::source::postgres::is_postgres_url(&store_text) {
        return import_postgres(args, &input_args, &store_text);
    }
    let input = InputConfig::resolve(&input_args, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    // An existing store is checked before reading anything; a new one is created only once
    // there is an event to write (a missing log must not leave an empty store behind).
    let mut writer = if args.store.exists() {
        Some(StoreWriter::open(&args.store, &args.table)?)
    } else {
        None
    };
    let mut stream = EventStream::open(input.source_options(&filter))?;
    let mut redactor = Redactor::new(!args.no_redact);
    for mut event in filter.apply(&mut stream) {
        redactor.apply(&mut event);
        let writer = match &mut writer {
            Some(writer) => writer,
            None => writer.insert(StoreWriter::open(&args.store, &args.table)?),
        };
        writer.write(*event)?;
    }
    let counts = match writer {
        Some(writer) => writer.finish()?,
        None => Default::default(),
    };
    let status = super::finish_read(&stream.take_report(), input.quiet);
    if !input.quiet && !args.store.exists() {
        super::eprint_line(&format!(
            "nothing imported: no events read, so {} was not created",
            args.store.display()
        ));
    } else if !input.quiet {
        super::eprint_line(&format!(
            "imported {} into {}: {}, {} already there",
            plural(counts.events, "event"),
            args.store.display(),
            plural(counts.inserted, "new row"),
            thousands(counts.events - counts.inserted)
        ));
    }
    Ok(status)
}

/// `import --store postgres://...`: the table is created when missing (it is a database, not a
/// file: an empty table left by a run that read nothing costs nothing), then filled.
fn import_postgres(args: &ImportArgs, input_args: &InputArgs, url: &str) -> Result<u8, Error> {
    let input = InputConfig::resolve(input_args, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let mut writer = PgWriter::open(url, &args.table)?;
    let mut stream = EventStream::open(input.source_options(&filter))?;
    let mut redactor = Redactor::new(!args.no_redact);
    for mut event in filter.apply(&mut stream) {
        redactor.apply(&mut event);
        writer.write(*event)?;
    }
    let name = writer.name().to_string();
    let (counts, too_long) = writer.finish()?;
    let mut status = super::finish_read(&stream.take_report(), input.quiet);
    if too_long.events > 0 {
        super::eprint_line(&format!(
            "flowtrace: {} left out: a trace_id, kind, node_name or node_id longer than the \
             table's column (the first at {})",
            plural(too_long.events, "event"),
            too_long.first.as_deref().unwrap_or("?")
        ));
        status = crate::error::EXIT_RUNTIME;
    }
    if !input.quiet {
        super::eprint_line(&format!(
            "imported {} into {name} ({}): {}, {} already there",
            plural(counts.events, "event"),
            args.table,
            plural(counts.inserted, "new row"),
            thousands(counts.events - counts.inserted)
        ));
    }
    Ok(status)
}
