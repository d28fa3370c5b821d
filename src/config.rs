//! Raw command-line values resolved once, before any I/O, into validated settings: the sources
//! to open, the compiled filter, whether to color. Errors here are usage errors (exit 2).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{ColorChoice, FilterArgs, FollowArgs, InputArgs, OutputArgs, WatchArgs};
use crate::coverage::edit_distance;
use crate::error::Error;
use crate::event::{Kind, Timestamp};
use crate::filter::{EventFilter, TimeBound, parse_duration};
use crate::source::decode::parse_timestamp_text;
use crate::source::{FollowOptions, InputSpec, SourceOptions};

/// Where to read from, resolved.
#[derive(Debug, Clone)]
pub struct InputConfig {
    pub inputs: Vec<InputSpec>,
    pub store: Option<(PathBuf, String)>,
    pub strict: bool,
    pub quiet: bool,
    pub threads: Option<usize>,
    /// Longest line read; longer ones are skipped and counted.
    pub max_line_bytes: usize,
    /// Follow the inputs as they grow (`--follow`).
    pub follow: Option<FollowOptions>,
    /// The longest a PostgreSQL store query may run.
    pub store_timeout: std::time::Duration,
}

impl InputConfig {
    /// Resolves the inputs: `-` is stdin; no file and no store reads stdin when it is a pipe.
    pub fn resolve(args: &InputArgs, stdin_is_terminal: bool) -> Result<InputConfig, Error> {
        let mut inputs = Vec::new();
        for path in &args.inputs {
            if path.as_os_str() == "-" {
                if inputs.contains(&InputSpec::Stdin) {
                    return Err(Error::Usage(
                        "`-` (standard input) can be given only once".into(),
                    ));
                }
                inputs.push(InputSpec::Stdin);
            } else {
                inputs.push(InputSpec::File(path.clone()));
            }
        }
        if inputs.is_empty() && args.store.is_none() {
            if stdin_is_terminal {
                return Err(Error::Usage(
                    "no input: give log files, `-` for standard input, pipe logs in \
                     (kubectl logs deploy/worker | flowtrace events), or --store events.db"
                        .into(),
                ));
            }
            inputs.push(InputSpec::Stdin);
        }
        let store_timeout = flag_duration("--store-timeout", &args.store_timeout)?;
        if store_timeout.is_zero() {
            return Err(Error::Usage("--store-timeout must be longer than 0".into()));
        }
        // A SQLite event store given as a log (`--store` forgotten) is read as the store.
        let mut store = args.store.clone();
        if let Some(text) = store.as_deref().and_then(|path| path.to_str())
            && text.contains("://")
            && !crate::source::postgres::is_postgres_url(text)
        {
            return Err(Error::Usage(format!(
                "--store {}: a URL must start with postgres:// or postgresql:// (a SQLite store is a file path)",
                crate::source::postgres::masked(text)
            )));
        }
        let mut logs = Vec::new();
        for input in inputs {
            let url = match &input {
                InputSpec::File(path) => path.to_str().filter(|text| text.contains("://")),
                InputSpec::Stdin => None,
            };
            if let Some(url) = url {
                // `--store` forgotten before a URL: never open it as a file (its error would
                // quote the password).
                if crate::source::postgres::is_postgres_url(url) && store.is_none() {
                    if !args.quiet {
                        let _ = writeln!(
                            std::io::stderr(),
                            "flowtrace: {} is a PostgreSQL URL: reading it as the event store (--store)",
                            crate::source::postgres::masked(url)
                        );
                    }
                    store = Some(PathBuf::from(url));
                    continue;
                }
                return Err(Error::Usage(format!(
                    "{} is a URL, not a log file: a PostgreSQL store is read with --store postgres://...",
                    crate::source::postgres::masked(url)
                )));
            }
            match &input {
                InputSpec::File(path) if is_sqlite_file(path) => {
                    if let Some(given) = &store {
                        return Err(Error::Usage(format!(
                            "{} is a SQLite database and --store {} is given too: read one store at a time",
                            path.display(),
                            given.display()
                        )));
                    }
                    if !args.quiet {
                        let _ = writeln!(
                            std::io::stderr(),
                            "flowtrace: {} is a SQLite database: reading it as the event store (--store {})",
                            path.display(),
                            path.display()
                        );
                    }
                    store = Some(path.clone());
                }
                _ => logs.push(input),
            }
        }
        let inputs = logs;
        Ok(InputConfig {
            inputs,
            store: store.map(|path| (path, args.table.clone())),
            strict: args.strict,
            quiet: args.quiet,
            threads: args.threads.map(usize::from),
            max_line_bytes: usize::try_from(args.max_line_bytes).unwrap_or(usize::MAX),
            follow: None,
            store_timeout,
        })
    }

    /// Sets up `--follow` (off unless asked); `--since` makes followed files start at their
    /// beginning, so the events since then are shown before the new ones.
    pub fn with_follow(self, args: &FollowArgs, since: bool) -> Result<InputConfig, Error> {
        if !args.follow {
            return Ok(self);
        }
        self.following(&args.reorder_window, &args.idle, &args.interval, since)
    }

    /// Sets up `--watch`'s follow, as `with_follow`.
    pub fn with_watch(self, args: &WatchArgs, since: bool) -> Result<InputConfig, Error> {
        if !args.watch {
            return Ok(self);
        }
        if flag_duration("--interval", &args.interval)? < std::time::Duration::from_millis(100) {
            return Err(Error::Usage(
                "--interval must be at least 100ms with --watch".into(),
            ));
        }
        self.following(&args.reorder_window, &args.idle, &args.interval, since)
    }

    fn following(
        mut self,
        reorder_window: &str,
        idle: &str,
        poll: &str,
        since: bool,
    ) -> Result<InputConfig, Error> {
        let reorder = flag_duration("--reorder-window", reorder_window)?;
        let idle = flag_duration("--idle", idle)?;
        let poll = flag_duration("--interval", poll)?;
        if poll < std::time::Duration::from_millis(10) {
            return Err(Error::Usage("--interval must be at least 10ms".into()));
        }
        self.follow = Some(FollowOptions {
            reorder,
            idle: (!idle.is_zero()).then_some(idle),
            from_start: since,
            poll,
        });
        Ok(self)
    }

    /// The inputs as messages name them: `a.log, b.log and the store events.db`.
    pub fn names(&self) -> String {
        let mut names: Vec<String> = self.inputs.iter().map(InputSpec::display_name).collect();
        if let Some((path, _)) = &self.store {
            names.push(format!("the store {}", store_name(path)));
        }
        names.join(", ")
    }

    /// Threads that follow traces for the analyses that need their statuses (the trace book
    /// split by trace, see `pass::shards`); 1: the pass's own thread. `-j N` asks for N; by
    /// default, none beside the pass's thread on up to three cores, where decoding and the
    /// pass already keep every core busy, and a quarter of the cores (2 to 8) beyond.
    /// `FLOWTRACE_TRACE_WORKERS` overrides both (benchmarks, tests).
    pub fn trace_workers(&self) -> usize {
        if let Some(workers) = std::env::var("FLOWTRACE_TRACE_WORKERS")
            .ok()
            .and_then(|value| value.parse::<usize>().ok())
        {
            return workers.clamp(1, crate::pass::MAX_TRACE_WORKERS);
        }
        if let Some(threads) = self.threads {
            return threads;
        }
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        if cores < 4 {
            1
        } else {
            (cores / 4).clamp(2, 8)
        }
    }

    /// Whether an analysis on a thread of its own splits a part off to another
    /// ([`crate::pass::Analysis::split_off`]): beyond two cores, or when `-j` asks for more
    /// than two threads.
    pub fn splits_analyses(&self) -> bool {
        let cores = || std::thread::available_parallelism().map_or(1, |cores| cores.get());
        self.threads.unwrap_or_else(cores) > 2
    }

    /// The source options for this input selection under `filter` (its store pushdown and
    /// byte prefilter).
    pub fn source_options(&self, filter: &EventFilter) -> SourceOptions {
        SourceOptions {
            inputs: self.inputs.clone(),
            store: self.store.clone().map(|(path, table)| {
                let mut query = filter.store_query(path, table);
                query.timeout = self.store_timeout;
                query
            }),
            strict: self.strict,
            prefilter: filter.prefilter(),
            required: filter.required(),
            sample_lines: 0,
            progress: !self.quiet,
            decode_threads: self.threads,
            max_line_bytes: self.max_line_bytes,
            follow: self.follow,
            inspector: None,
            batches_ahead: crate::source::BATCHES_AHEAD,
        }
    }
}

/// A store as messages name it: its path, or its URL with the password masked.
pub fn store_name(store: &std::path::Path) -> String {
    let text = store.to_string_lossy();
    if crate::source::postgres::is_postgres_url(&text) {
        crate::source::postgres::masked(&text)
    } else {
        store.display().to_string()
    }
}

/// A duration flag's value (`0` allowed), or the usage error naming the flag.
pub fn flag_duration(flag: &str, text: &str) -> Result<std::time::Duration, Error> {
    crate::filter::parse_duration(text)
        .filter(|micros| *micros >= 0)
        .or_else(|| (text.trim() == "0").then_some(0))
        .map(|micros| std::time::Duration::from_micros(micros as u64))
        .ok_or_else(|| {
            Error::Usage(format!(
                "{flag} {text:?}: not a duration (say 100ms, 2s, 1m)"
            ))
        })
}

/// True when the file starts with SQLite's header (`SQLite format 3\0`).
fn is_sqlite_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    // Only a regular file is looked into: reading a pipe (`<(kubectl logs ...)`) would take
    // its first bytes away from the read.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut head))
        .is_ok_and(|()| &head == b"SQLite format 3\0")
}

/// Compiles the filter flags. `now` is the clock used with `--now`.
pub fn resolve_filter(args: &FilterArgs, now: Timestamp) -> Result<EventFilter, Error> {
    let non_empty = |values: &[String], flag: &str| -> Result<Vec<String>, Error> {
        if values.iter().any(|value| value.trim().is_empty()) {
            return Err(Error::Usage(format!("{flag} needs a non-empty value")));
        }
        Ok(values
            .iter()
            .map(|value| value.trim().to_string())
            .collect())
    };
    let kinds = non_empty(&args.kinds, "--kind")?
        .iter()
        .map(|name| Kind::parse(name))
        .collect::<Vec<_>>();
    for kind in &kinds {
        if let Kind::Other(name) = kind {
            warn_unknown_kind(name);
        }
    }
    Ok(EventFilter {
        trace_ids: non_empty(&args.traces, "--trace")?,
        tenants: non_empty(&args.tenants, "--tenant")?,
        nodes: non_empty(&args.nodes, "--node")?,
        pods: non_empty(&args.pods, "--pod")?,
        kinds,
        since: parse_time_bound(args.since.as_deref(), "--since", args.now, now)?,
        until: parse_time_bound(args.until.as_deref(), "--until", args.now, now)?,
    })
}

/// The open set of kinds (session pseudo-events, new remote kinds) must stay filterable, so an
/// unknown kind is a warning, not an error: a typo should not silently match nothing.
fn warn_unknown_kind(name: &str) {
    let known: Vec<&str> = Kind::KNOWN.iter().map(Kind::as_str).collect();
    let closest = known
        .iter()
        .min_by_key(|candidate| edit_distance(candidate, name))
        .filter(|candidate| edit_distance(candidate, name) <= 3);
    let hint = closest.map_or(String::new(), |c| format!(" (did you mean {c}?)"));
    // Not eprintln!: a closed stderr must not panic.
    let _ = writeln!(
        std::io::stderr(),
        "flowtrace: warning: `{name}` is not a known PenguiFlow event kind{hint}"
    );
}

fn parse_time_bound(
    text: Option<&str>,
    flag: &str,
    from_now: bool,
    now: Timestamp,
) -> Result<Option<TimeBound>, Error> {
    let Some(text) = text else {
        return Ok(None);
    };
    if let Some(micros) = parse_duration(text) {
        return Ok(Some(if from_now {
            TimeBound::At(Timestamp(now.0.saturating_sub(micros)))
        } else {
            TimeBound::BeforeNewest(micros)
        }));
    }
    if text
        .trim()
        .parse::<f64>()
        .is_ok_and(|number| number.abs() < 1e9)
    {
        // `--since 30` is a duration missing its unit far more often than the year 1970.
        return Err(Error::Usage(format!(
            "{flag} {text:?}: a duration needs a unit (30s, 30m, 2h, 1d); Unix seconds are accepted from 1000000000 on"
        )));
    }
    match parse_timestamp_text(text) {
        Some(ts) => Ok(Some(TimeBound::At(ts))),
        None => Err(Error::Usage(format!(
            "{flag} {text:?}: expected an RFC 3339 time (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d)"
        ))),
    }
}

/// Whether to write ANSI colors: `--color`, then `NO_COLOR`, then whether stdout is a terminal.
pub fn resolve_color(args: &OutputArgs) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
                && std::io::stdout().is_terminal()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        let now = Timestamp(10_000_000_000);
        assert_eq!(
            parse_time_bound(Some("15m"), "--since", false, now).unwrap(),
            Some(TimeBound::BeforeNewest(900_000_000))
        );
        assert_eq!(
            parse_time_bound(Some("15m"), "--since", true, now).unwrap(),
            Some(TimeBound::At(Timestamp(10_000_000_000 - 900_000_000)))
        );
        assert!(matches!(
            parse_time_bound(Some("2026-11-25T08:00:00Z"), "--since", false, now).unwrap(),
            Some(TimeBound::At(_))
        ));
        assert!(parse_time_bound(Some("30"), "--since", false, now).is_err());
        assert!(matches!(
            parse_time_bound(Some("1764060172"), "--since", false, now).unwrap(),
            Some(TimeBound::At(_))
        ));
        assert!(matches!(
            parse_time_bound(Some("2026-11-25"), "--since", false, now).unwrap(),
            Some(TimeBound::At(_))
        ));
        let error = parse_time_bound(Some("yesterday"), "--since", false, now).unwrap_err();
        assert!(error.to_string().starts_with("--since \"yesterday\""));
    }

    fn input_args(inputs: &[&str], store: Option<&str>) -> InputArgs {
        InputArgs {
            inputs: inputs.iter().map(PathBuf::from).collect(),
            store: store.map(PathBuf::from),
            table: "flow_events".into(),
            strict: false,
            quiet: false,
            threads: None,
            max_line_bytes: crate::source::MAX_LINE_BYTES,
            store_timeout: "30s".into(),
        }
    }

    #[test]
    fn stdin_is_read_only_when_piped_or_named() {
        let on_terminal = InputConfig::resolve(&input_args(&[], None), true).unwrap_err();
        assert_eq!(on_terminal.exit_status(), crate::error::EXIT_USAGE);
        assert!(
            on_terminal
                .to_string()
                .starts_with("no input: give log files, `-` for standard input")
        );
        let piped = InputConfig::resolve(&input_args(&[], None), false).unwrap();
        assert_eq!(piped.inputs, vec![InputSpec::Stdin]);
        let store_only = InputConfig::resolve(&input_args(&[], Some("e.db")), false).unwrap();
        assert!(
            store_only.inputs.is_empty(),
            "a store alone never waits on stdin"
        );
        let dash = InputConfig::resolve(&input_args(&["a.log", "-"], None), true).unwrap();
        assert_eq!(
            dash.inputs,
            vec![InputSpec::File("a.log".into()), InputSpec::Stdin]
        );
    }

    #[test]
    fn edit_distance_suggests_kinds() {
        assert_eq!(edit_distance("node_fail", "node_failed"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
