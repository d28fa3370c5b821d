//! `flowtrace events`: the selected events, normalized, in time order.

use std::io::{self, BufWriter, IsTerminal};

use crate::cli::{EventFormat, EventsArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::redact::Redactor;
use crate::render::Palette;
use crate::render::events::EventWriter;
use crate::source::EventStream;

pub fn run(args: &EventsArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette {
        enabled: resolve_color(&args.output),
    };
    let format = args.format.unwrap_or(if io::stdout().is_terminal() {
        EventFormat::Table
    } else {
        EventFormat::Jsonl
    });

    let mut stream = EventStream::open(input.source_options(&filter))?;
    let out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut writer = EventWriter::new(format, out, palette);
    let mut redactor = Redactor::new(!args.output.no_redact);
    for mut event in filter.apply(&mut stream) {
        redactor.apply(&mut event);
        writer.write(&event)?;
    }
    writer.finish()?;
    Ok(super::finish_read(&stream.take_report(), input.quiet))
}
