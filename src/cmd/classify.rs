//! `flowtrace classify`: failures across the whole flow, by category, and what to do.

use std::io::{self, IsTerminal};

use crate::analysis::classify::{Classifier, GroupBy};
use crate::cli::{ClassifyArgs, ReportFormat};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::{EXIT_FAILURES_FOUND, EXIT_OK, Error};
use crate::event::Timestamp;
use crate::pass::{Finished, Pass};
use crate::render::{Palette, classify};

/// `--by`: one dimension, or two that are not both time.
fn grouping(by: &[GroupBy]) -> Result<(GroupBy, Option<GroupBy>), Error> {
    match by {
        [first] => Ok((*first, None)),
        [first, second] if first.is_time() && second.is_time() => Err(Error::Usage(format!(
            "--by {},{}: two time groupings; give one (second, minute or hour) and, if you like, one of node, tenant, kind, pod",
            first.as_str(),
            second.as_str()
        ))),
        [first, second] => Ok((*first, Some(*second))),
        _ => Err(Error::Usage(
            "--by takes one or two dimensions, e.g. --by node or --by tenant,node".into(),
        )),
    }
}

pub fn run(args: &ClassifyArgs) -> Result<u8, Error> {
    let (by, then_by) = grouping(&args.by)?;
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(resolve_color(&args.output));

    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let Finished { report, read } =
        pass.run(Classifier::new(by, args.messages).then_by(then_by))?;
    // Errors first: the report covers what was read before them.
    super::say_read_errors(&read);

    super::write_report(
        args.format.unwrap_or(ReportFormat::Table),
        &report,
        |out| classify::write_table(&report, out, palette),
        |out| classify::write_markdown(&report, out),
    )?;
    // The read summary goes to stderr after the report.
    let read_status = super::finish_read_after_errors(&read, input.quiet);
    let failed_on = args
        .fail_on
        .iter()
        .any(|category| report.categories.occurred(*category));
    Ok(match (read_status, failed_on) {
        (EXIT_OK, true) => EXIT_FAILURES_FOUND,
        (status, _) => status,
    })
}
