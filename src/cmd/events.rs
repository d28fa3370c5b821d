//! `flowtrace events`: the selected events, normalized, in time order.

use std::io::{self, BufWriter, IsTerminal};
use std::ops::ControlFlow;

use crate::cli::{EventFormat, EventsArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::pass::Pass;
use crate::render::Palette;
use crate::render::events::EventWriter;
use crate::source::follow;

pub fn run(args: &EventsArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?
        .with_follow(&args.follow, args.filter.since.is_some())?;
    let now = Timestamp::now();
    let mut filter = resolve_filter(&args.filter, now)?;
    if input.follow.is_some() {
        filter = filter.anchored_at(now);
    }
    let palette = Palette::for_stdout(resolve_color(&args.output));
    let format = args.format.unwrap_or(if io::stdout().is_terminal() {
        EventFormat::Table
    } else {
        EventFormat::Jsonl
    });

    let out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut writer = EventWriter::new(format, out, palette);
    let follow = input.follow.is_some();
    if follow {
        writer.go_live();
    }
    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let read = pass.for_each(|event, late| {
        writer.write_marked(event, late)?;
        Ok(ControlFlow::Continue(()))
    })?;
    writer.finish()?;
    if follow && follow::interrupted() {
        return Ok(super::finish_interrupted(&read));
    }
    Ok(super::finish_read(&read, input.quiet))
}
