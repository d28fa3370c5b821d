//! `flowtrace events`: the selected events, normalized, in time order.

use std::io::{self, BufWriter, IsTerminal};

use crate::cli::{EventFormat, EventsArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::pass::Pass;
use crate::render::Palette;
use crate::render::events::EventWriter;

pub fn run(args: &EventsArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(resolve_color(&args.output));
    let format = args.format.unwrap_or(if io::stdout().is_terminal() {
        EventFormat::Table
    } else {
        EventFormat::Jsonl
    });

    let out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut writer = EventWriter::new(format, out, palette);
    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let read = pass.for_each(|event| Ok(writer.write(event)?))?;
    writer.finish()?;
    Ok(super::finish_read(&read, input.quiet))
}
