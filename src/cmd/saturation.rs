//! `flowtrace saturation`: queue depth over time, latency, retries, the bottleneck.

use std::io::{self, IsTerminal};

use crate::analysis::saturation::{SaturationAnalyzer, SaturationOptions};
use crate::cli::{ReportFormat, SaturationArgs};
use crate::config::{InputConfig, resolve_color, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::filter::parse_duration;
use crate::pass::{Finished, Pass};
use crate::render::{Palette, saturation};

/// Validates the analysis flags into options.
pub fn options(args: &SaturationArgs) -> Result<SaturationOptions, Error> {
    let bucket_micros = match &args.bucket {
        None => None,
        Some(text) => match parse_duration(text) {
            Some(micros) if micros >= 1_000 => Some(micros),
            _ => {
                return Err(Error::Usage(format!(
                    "--bucket {text:?}: expected a duration of at least 1ms (10s, 1m, 5m)"
                )));
            }
        },
    };
    if !(args.threshold > 0.0 && args.threshold <= 1.0) {
        return Err(Error::Usage(format!(
            "--threshold {}: expected a share of capacity in (0, 1], e.g. 0.8",
            args.threshold
        )));
    }
    if args.sustain == 0 {
        return Err(Error::Usage("--sustain must be at least 1".into()));
    }
    if args.retry_rate.is_nan() || args.retry_rate < 0.0 {
        return Err(Error::Usage("--retry-rate must be 0 or more".into()));
    }
    Ok(SaturationOptions {
        bucket_micros,
        threshold: args.threshold,
        sustain: args.sustain,
        retry_storm_rate: args.retry_rate,
    })
}

pub fn run(args: &SaturationArgs) -> Result<u8, Error> {
    let options = options(args)?;
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?
        .with_watch(&args.watch, args.filter.since.is_some())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let palette = Palette::for_stdout(resolve_color(&args.output));
    if args.watch.watch {
        return super::watch(
            "saturation",
            &input,
            &filter,
            !args.output.no_redact,
            &args.watch,
            args.format,
            || SaturationAnalyzer::new(options),
            |report, mut out| saturation::write_table(report, &mut out, palette),
        );
    }

    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: !args.output.no_redact,
    };
    let Finished { report, read } = pass.run(SaturationAnalyzer::new(options))?;
    // Errors first: the report covers what was read before them.
    super::say_read_errors(&read);

    super::write_report(
        args.format.unwrap_or(ReportFormat::Table),
        &report,
        |out| saturation::write_table(&report, out, palette),
        |out| saturation::write_markdown(&report, out),
    )?;
    // The read summary goes to stderr after the report.
    let status = super::finish_read_after_errors(&read, input.quiet);
    Ok(status)
}
