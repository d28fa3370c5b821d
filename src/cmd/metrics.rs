//! `flowtrace metrics`: the recommended metrics derived from the events, as OpenMetrics for
//! promtool's backfill, or the starter alert rules over them.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};

use crate::analysis::metrics::Metrics;
use crate::cli::{MetricsArgs, MetricsFormat};
use crate::config::{InputConfig, flag_duration, resolve_filter};
use crate::error::Error;
use crate::event::Timestamp;
use crate::pass::Pass;
use crate::render::metrics::{ALERT_RULES, write_openmetrics};

pub fn run(args: &MetricsArgs) -> Result<u8, Error> {
    let step = flag_duration("--step", &args.step)?;
    if step < std::time::Duration::from_secs(1) {
        return Err(Error::Usage(
            "--step must be at least 1s (Prometheus stores seconds)".into(),
        ));
    }
    if args.format == MetricsFormat::PrometheusRules {
        return write_to(args, |out| out.write_all(ALERT_RULES.as_bytes())).map(|()| 0);
    }
    let input = InputConfig::resolve(&args.input, io::stdin().is_terminal())?;
    let filter = resolve_filter(&args.filter, Timestamp::now())?;
    let pass = Pass {
        input: &input,
        filter: &filter,
        redact: true,
    };
    let step_micros = i64::try_from(step.as_micros()).unwrap_or(i64::MAX);
    let finished = pass.run(Metrics::new(step_micros))?;
    super::say_read_errors(&finished.read);
    write_to(args, |mut out| {
        write_openmetrics(&finished.report, &mut out)
    })?;
    Ok(super::finish_read_after_errors(&finished.read, input.quiet))
}

/// Writes to `--out` (a file, or stdout for `-`), flushing before success is reported.
fn write_to(
    args: &MetricsArgs,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    if args.out.as_os_str() == "-" {
        let mut out = BufWriter::new(io::stdout().lock());
        write(&mut out)?;
        out.flush()?;
        return Ok(());
    }
    let name = args.out.display().to_string();
    let file = File::create(&args.out).map_err(|source| Error::Open {
        path: name.clone(),
        source,
    })?;
    let mut out = BufWriter::new(file);
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(|source| Error::Output(io::Error::new(source.kind(), format!("{name}: {source}"))))
}
