//! `flowtrace graph`: the flow's topology as the telemetry shows it.

use std::io::{self, BufWriter, IsTerminal, Write};

use crate::analysis::topology::TopologyLearner;
use crate::cli::{GraphArgs, GraphFormat};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::pass::{Finished, Pass};
use crate::render::{Palette, graph};

pub fn run(args: &GraphArgs) -> Result<u8, Error> {
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(resolve_color(&args.output));

    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let Finished { report, read } = pass.run(TopologyLearner::default())?;
    // Errors first: the report covers what was read before them.
    super::say_read_errors(&read);

    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        GraphFormat::Text => graph::write_tree(&report, &mut out, palette)?,
        GraphFormat::Mermaid => graph::write_mermaid(&report, &mut out)?,
        GraphFormat::Dot => graph::write_dot(&report, &mut out)?,
        GraphFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    drop(out);
    // The read summary goes to stderr after the report.
    let status = super::finish_read_after_errors(&read, input.quiet);
    Ok(status)
}
