//! The command line, as clap types only. `config` turns these raw values into a validated
//! `Config`; nothing here does I/O.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::category::Category;
use crate::analysis::classify::GroupBy;
use crate::analysis::trace::TraceStatus;
use crate::analysis::traces::TraceSort;

const ABOUT: &str = "Incident debugging for PenguiFlow runtime telemetry: read JSON logs \
(files, gzip/zstd, kubectl logs on stdin, live with -f) or the event store (SQLite or \
PostgreSQL), and answer where a trace stopped, what is failing and whether the flow is \
saturated.";

const EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --prefix --timestamps | flowtrace triage
  kubectl logs deploy/worker --prefix --timestamps | flowtrace find 3f2a9c
  flowtrace classify app.log.gz --since 30m
  flowtrace saturation --store events.db
  kubectl logs -f deploy/worker --prefix | flowtrace triage --watch
  flowtrace lint app.log --format sarif > flowtrace.sarif
  flowtrace completions bash > /etc/bash_completion.d/flowtrace

Exit status: 0 success, 1 an input could not be read (the rest was still read) or find found no
such trace, 2 usage error, 3 classify --fail-on found a category it names, 4 lint found a
defect at or above --fail-on-severity, 130 a --follow or --watch ended by Ctrl-C.";

const EVENTS_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --prefix --timestamps | flowtrace events --trace 3f2a9c01...
  flowtrace events app.log.gz --kind node_failed --kind node_timeout --since 30m
  flowtrace events --store events.db --kind node_failed --format csv > failed.csv
  kubectl logs -f deploy/worker --prefix | flowtrace events -f --kind node_failed,node_timeout
  flowtrace events -f /var/log/worker/*.log --tenant acme

Exit status: 0 success, 1 an input could not be read (the rest was still read), 2 usage error,
130 a --follow ended by Ctrl-C.";

#[derive(Debug, Parser)]
#[command(name = "flowtrace", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the selected events, normalized, in time order.
    ///
    /// Reads every input shape PenguiFlow writes (flat payloads, its structured formatter,
    /// log_flow_events lines, penguiflow-admin history, each behind kubectl prefixes) and prints
    /// one normalized event per row. Non-event lines are skipped and counted on stderr.
    #[command(after_help = EVENTS_EXAMPLES)]
    Events(Box<EventsArgs>),

    /// Where did this trace stop, and why: timeline, last success, next node, what to do.
    ///
    /// Takes a trace id or a unique prefix of it. Status rules: cancelled (any cancellation
    /// event), failed (node_failed), deadline_skipped, succeeded (every branch reached a sink of
    /// the flow graph learned from all traces in the input), else in_flight.
    #[command(after_help = FIND_EXAMPLES)]
    Find(Box<FindArgs>),

    /// What is failing across the flow: failures by category, node, tenant or time, top
    /// exceptions, and what to do about each.
    ///
    /// Categories: timeout, error, cancel, deadline (retries counted apart). Use --fail-on in
    /// scripts and alert hooks: exit status 3 when one of the named categories occurred.
    #[command(after_help = CLASSIFY_EXAMPLES)]
    Classify(Box<ClassifyArgs>),

    /// Is the flow stuck: queue depth over time, latency percentiles, retries, the bottleneck.
    ///
    /// The hot node is the node whose inbound queue stays full while its outbound queue does
    /// not; latency alone would blame every node upstream of it (they wait to hand over).
    #[command(after_help = SATURATION_EXAMPLES)]
    Saturation(Box<SaturationArgs>),

    /// One row per trace: status, category, duration, last node; find the traces worth opening.
    ///
    /// Traces whose lines carry more than one tenant are marked: a tenant-boundary defect.
    #[command(after_help = TRACES_EXAMPLES)]
    Traces(Box<TracesArgs>),

    /// The flow's topology as the telemetry shows it: nodes, edges with trace counts, failures.
    ///
    /// Edges are learned from the order of node events within traces (the inference find
    /// uses). Mermaid output pastes into a Markdown document: failing nodes red, saturated ones
    /// orange.
    #[command(after_help = GRAPH_EXAMPLES)]
    Graph(Box<GraphArgs>),

    /// The whole incident on one screen: size, worst traces, saturation, control plane,
    /// cross-tenant traces and one checklist; the command to run first.
    ///
    /// Reads its input once: every analysis is fed the same single pass (stdin works).
    #[command(after_help = TRIAGE_EXAMPLES)]
    Triage(Box<TriageArgs>),

    /// The incident report as one self-contained HTML page: triage's verdicts and checklist,
    /// charts, the flow graph and the worst traces' timelines; for the incident ticket.
    ///
    /// One file that opens anywhere offline (no script, no network), light and dark themes,
    /// printable to PDF. Reads the input once, with triage's analyses. With one --trace, the
    /// page is that trace's: find's verdict and its timeline.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(Box<ReportArgs>),

    /// Write the events of logs into an event store, SQLite or PostgreSQL (PenguiFlow's
    /// flow_events schema), to archive an incident once and query it in milliseconds afterwards.
    ///
    /// Idempotent: importing the same log twice adds nothing. The only command that writes,
    /// and only to the store it is given (created if missing).
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(Box<ImportArgs>),

    /// Telemetry defects: what makes incidents undebuggable, costly, leaky or lossy, with
    /// locations and the fix.
    ///
    /// Rules (PenguiFlow's telemetry guidance): PF001 missing-trace-id, PF002 missing-tenant,
    /// PF003 cross-tenant-trace, PF004 unstable-node-name, PF005 missing-node-name, PF006
    /// node-start-volume, PF007 non-event-lines, PF008 duplicate-events, PF009 secret-in-logs
    /// (every line, never the value), PF010 lost-events, PF011 store-log-mismatch, PF012
    /// unstructured-logging, PF013 truncated-payload.
    #[command(after_help = LINT_EXAMPLES)]
    Lint(Box<LintArgs>),

    /// Dashboards after the fact: the metrics PenguiFlow's guidance recommends, derived from
    /// the events, as OpenMetrics that `promtool tsdb create-blocks-from openmetrics` loads.
    ///
    /// Counters of events per node and kind (penguiflow_node_events_total), node latency
    /// histograms in seconds (penguiflow_node_latency_seconds), queue depth, capacity and
    /// trace-pending gauges per node (and pod); one sample per series per --step, at the events'
    /// own times. Labels stay of low cardinality: never trace_id (a label per trace would make
    /// every request a new series); tenant only while there are at most 20 tenants.
    #[command(after_help = METRICS_EXAMPLES)]
    Metrics(Box<MetricsArgs>),

    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const FIND_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --prefix --timestamps | flowtrace find 3f2a9c
  flowtrace find 3f2a9c01 --store events.db --format markdown >> incident.md
  flowtrace find 3f2a9c01 app.log.gz --all --format json | jq .next
  kubectl logs -f deploy/worker --prefix | flowtrace find 3f2a9c01 -f

Exit status: 0 the trace was found, 1 no such trace (or an input could not be read), 2 usage error,
130 a --follow ended by Ctrl-C.";

#[derive(Debug, Args)]
pub struct FindArgs {
    /// The trace id, or a unique prefix of it
    #[arg(value_name = "TRACE_ID")]
    pub trace_id: String,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub follow: FollowArgs,
    /// With --follow: keep following after the trace reaches a terminal status
    #[arg(long, requires = "follow", help_heading = "Follow")]
    pub keep: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format [default: table]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ReportFormat>,
    /// Show node_start rows in the timeline too (by default folded into the attempt they began)
    #[arg(long, help_heading = "Output")]
    pub all: bool,
    /// Parse every line: learn the flow graph (and the next node's queue depth) from the whole
    /// input instead of from each input's first 20,000 lines and the trace's own lines (slower)
    #[arg(long, help_heading = "Input")]
    pub full_scan: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

const CLASSIFY_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --since=1h | flowtrace classify
  flowtrace classify app.log --since 30m --by minute
  flowtrace classify --store events.db --tenant acme --messages --format markdown
  flowtrace classify app.log --fail-on timeout,error -q && echo healthy

Exit status: 0 success (whatever was found, unless --fail-on), 1 an input could not be read,
2 usage error, 3 a --fail-on category occurred.";

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Group failures by node, tenant, kind, pod, or over time (second, minute, hour); two
    /// comma-separated give one row per pair, e.g. `--by tenant,node`
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "node",
        value_name = "DIMENSION",
        help_heading = "Output"
    )]
    pub by: Vec<GroupBy>,
    /// Show one example message (masked) per exception type
    #[arg(long, help_heading = "Output")]
    pub messages: bool,
    /// Exit with status 3 when any of these categories occurred (comma-separated)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "CATEGORY",
        help_heading = "Output"
    )]
    pub fail_on: Vec<Category>,
    /// Output format [default: table]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ReportFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
}

const SATURATION_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --since=30m | flowtrace saturation
  flowtrace saturation app.log --bucket 1m --node slowdb
  flowtrace saturation --store events.db --since 2h --format json | jq .hot_node
  kubectl logs -f deploy/worker --prefix | flowtrace saturation --watch --window 2m

Exit status: 0 success, 1 an input could not be read, 2 usage error, 130 a --watch ended by Ctrl-C.";

#[derive(Debug, Args)]
pub struct SaturationArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub watch: WatchArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Bucket width of the time series, e.g. 10s, 1m, 5m [default: about 40 buckets]
    #[arg(long, value_name = "DURATION", help_heading = "Analysis")]
    pub bucket: Option<String>,
    /// Share of a bounded queue's capacity above which a node is saturated (unbounded queues:
    /// twice their own p95)
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 0.8,
        help_heading = "Analysis"
    )]
    pub threshold: f64,
    /// Consecutive buckets a condition must last to be reported
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Analysis")]
    pub sustain: usize,
    /// Retry rate (node_retry / node_success) above which a node has a retry storm
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.5,
        help_heading = "Analysis"
    )]
    pub retry_rate: f64,
    /// Output format [default: table]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ReportFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
}

const TRACES_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker | flowtrace traces --status failed,in_flight
  flowtrace traces app.log --category timeout --sort duration --limit 10
  flowtrace traces --store events.db --tenant acme --format json | jq -r '.[].trace_id'";

#[derive(Debug, Args)]
pub struct TracesArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only traces with this status (comma-separated): succeeded, failed, cancelled,
    /// deadline_skipped, in_flight
    #[arg(
        long = "status",
        value_enum,
        value_delimiter = ',',
        value_name = "STATUS",
        help_heading = "Filters"
    )]
    pub statuses: Vec<TraceStatus>,
    /// Only traces whose failure category is one of these (comma-separated)
    #[arg(
        long = "category",
        value_enum,
        value_delimiter = ',',
        value_name = "CATEGORY",
        help_heading = "Filters"
    )]
    pub categories: Vec<Category>,
    /// Order of the rows
    #[arg(long, value_enum, default_value_t = TraceSort::Recent, help_heading = "Output")]
    pub sort: TraceSort,
    /// Show at most N rows [default: 50 on a terminal, all when piped]
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub limit: Option<usize>,
    /// Output format [default: table on a terminal, json when piped]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ReportFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
}

const LINT_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --since=1h | flowtrace lint
  flowtrace lint app.log --format sarif > flowtrace.sarif      # CI code scanning
  flowtrace lint --store events.db app.log --fail-on-severity warning

Exit status: 0 no finding at or above --fail-on-severity, 4 one or more, 1 an input could not be
read, 2 usage error.";

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format [default: table]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<LintFormat>,
    /// Exit with status 4 when a finding of this severity or above occurred
    #[arg(long, value_enum, default_value = "error", help_heading = "Output")]
    pub fail_on_severity: crate::analysis::lint::Severity,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Table,
    Json,
    Markdown,
    /// SARIF 2.1.0, for code-scanning views in CI
    Sarif,
}

const METRICS_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --since=6h | flowtrace metrics --out incident.om
  promtool tsdb create-blocks-from openmetrics incident.om ./data   # then point Prometheus at it
  flowtrace metrics --store events.db --step 1m --out history.om
  flowtrace metrics --format prometheus-rules > penguiflow-alerts.yml && promtool check rules penguiflow-alerts.yml";

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// One sample per series per step
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "15s",
        help_heading = "Output"
    )]
    pub step: String,
    /// Where to write (`-`: standard output)
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = "-",
        help_heading = "Output"
    )]
    pub out: PathBuf,
    /// openmetrics: the metrics; prometheus-rules: starter alert rules over them (no input read)
    #[arg(long, value_enum, default_value_t = MetricsFormat::Openmetrics, help_heading = "Output")]
    pub format: MetricsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricsFormat {
    /// OpenMetrics text with timestamps, for promtool's backfill
    Openmetrics,
    /// A Prometheus alerting rules file (promtool check rules)
    PrometheusRules,
}

const GRAPH_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker | flowtrace graph
  flowtrace graph app.log --format mermaid >> incident.md
  flowtrace graph --store events.db --format dot | dot -Tsvg > flow.svg";

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Text, help_heading = "Output")]
    pub format: GraphFormat,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A tree from the ingress, for the terminal
    Text,
    /// A Mermaid flowchart, for Markdown documents and tickets
    Mermaid,
    /// Graphviz DOT
    Dot,
    /// `{nodes, edges}` as JSON
    Json,
}

const TRIAGE_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --since=1h --prefix --timestamps | flowtrace triage
  flowtrace triage app.log --since 30m --format markdown >> incident.md
  flowtrace triage --store events.db --format json | jq .saturation.hot_node
  kubectl logs -f deploy/worker --prefix | flowtrace triage --watch
  kubectl logs -f deploy/worker --prefix | flowtrace triage --watch --window 1m | jq .report.summary

Exit status: 0 success, 1 an input could not be read, 2 usage error, 130 a --watch ended by Ctrl-C.";

#[derive(Debug, Args)]
pub struct TriageArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub watch: WatchArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format [default: table]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ReportFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
}

const REPORT_EXAMPLES: &str = "\
Examples:
  flowtrace report app.log -o incident.html
  kubectl logs deploy/worker --since=1h --prefix | flowtrace report -o incident-4711.html
  flowtrace report --store events.db --since 30m -o incident.html
  flowtrace report app.log --trace 3f2a9c -o trace.html
  flowtrace report app.log -o - | gzip > incident.html.gz

Exit status: 0 success, 1 an input could not be read (the page is written and says so),
2 usage error.";

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The HTML file to write (replaced if it exists); `-` writes to standard output
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        required = true,
        help_heading = "Output"
    )]
    pub output_file: PathBuf,
    /// With one --trace: parse every line, as find --full-scan does
    #[arg(long, help_heading = "Input")]
    pub full_scan: bool,
    /// Show exception text whole; by default secrets in it (API keys, tokens, passwords in
    /// URLs, long hex/base64 strings) are masked
    #[arg(long, help_heading = "Output")]
    pub no_redact: bool,
}

const IMPORT_EXAMPLES: &str = "\
Examples:
  kubectl logs deploy/worker --since=24h | flowtrace import --store incident-4711.db
  flowtrace import worker-*.log.gz --store archive.db --since 2026-11-25T08:00:00Z
  flowtrace find 3f2a9c --store archive.db";

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Log files (plain, gzip or zstd); `-` or a pipe reads standard input
    #[arg(value_name = "LOGS", help_heading = "Input")]
    pub inputs: Vec<PathBuf>,
    /// The store to write (created with the flow_events schema if missing): a SQLite file, or
    /// a PostgreSQL URL postgres://user@host:5432/db (the table and its indexes created there)
    #[arg(long, value_name = "PATH|URL", required = true, help_heading = "Input")]
    pub store: PathBuf,
    /// The events table of the store
    #[arg(
        long,
        value_name = "NAME",
        default_value = "flow_events",
        help_heading = "Input"
    )]
    pub table: String,
    /// Stop with an error at the first line that is not a JSON object (or too long to read)
    #[arg(long, help_heading = "Input")]
    pub strict: bool,
    /// Do not print the summary on stderr
    #[arg(long, short = 'q', help_heading = "Input")]
    pub quiet: bool,
    /// Threads decoding each log input, 1 to 64 [default: one per core but one]
    #[arg(long, short = 'j', value_name = "N", help_heading = "Input",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
    /// Longest line read, in bytes: longer ones are skipped and counted
    #[arg(long, value_name = "BYTES", help_heading = "Input",
          default_value_t = crate::source::MAX_LINE_BYTES,
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_line_bytes: u64,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Store exception text whole; by default secrets in it are masked before writing
    #[arg(long, help_heading = "Output")]
    pub no_redact: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub follow: FollowArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format [default: table on a terminal, jsonl when piped]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<EventFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where events are read from; shared by every subcommand.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Log files (plain, gzip or zstd, told apart by their bytes); `-` reads standard input,
    /// which is also read when no file and no --store is given and stdin is a pipe
    #[arg(value_name = "INPUTS")]
    pub inputs: Vec<PathBuf>,

    /// The event store (PenguiFlow's flow_events table), read-only, never modified: a SQLite
    /// file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give
    /// what it leaves out; sslmode=require encrypts)
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<PathBuf>,

    /// The events table of --store (PostgreSQL: schema.table allowed)
    #[arg(long, value_name = "NAME", default_value = "flow_events")]
    pub table: String,

    /// With a PostgreSQL --store: the longest one query may run before it is cancelled
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub store_timeout: String,

    /// Stop with an error at the first line that is not a JSON object (after kubectl prefixes)
    /// or is longer than --max-line-bytes
    #[arg(long)]
    pub strict: bool,

    /// Do not print the summary of skipped lines on stderr
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Threads for each stage that runs in parallel, 1 to 64: decoding each log input
    /// [default: one per core but one], and following traces for classify, traces, triage,
    /// graph and report [default: none beside the ordering thread on up to three cores, a
    /// quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,

    /// Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded
    /// on a file without line ends or a decompression bomb)
    #[arg(long, value_name = "BYTES", default_value_t = crate::source::MAX_LINE_BYTES, value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_line_bytes: u64,
}

/// Following inputs as they grow (`events`, `find`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Follow")]
pub struct FollowArgs {
    /// Keep reading as the input grows, printing events as they come: standard input (say
    /// `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from
    /// --since; reopened when rotated, truncated or deleted and recreated, said on stderr)
    /// until Ctrl-C
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// With --follow: how long an event is held so that an earlier one from another input or
    /// pod can go first; one that comes later still is printed marked `late`
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "100ms",
        requires = "follow"
    )]
    pub reorder_window: String,
    /// With --follow: say so once on stderr after this long without an event (`0`: never)
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        requires = "follow"
    )]
    pub idle: String,
    /// With --follow --store: how often the store is asked for new rows (read-only queries)
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1s",
        requires = "follow"
    )]
    pub interval: String,
}

/// A live view (`triage`, `saturation`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Watch")]
pub struct WatchArgs {
    /// A live view: follow the input (stdin, or files as `tail -F` does) and redraw the report
    /// over the last --window of events every --interval, like top; piped, write one JSON
    /// report per interval instead (JSON lines). Ctrl-C ends
    #[arg(long)]
    pub watch: bool,
    /// With --watch: the span of log time each report covers
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5m",
        requires = "watch"
    )]
    pub window: String,
    /// With --watch: how often the report is recomputed
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2s",
        requires = "watch"
    )]
    pub interval: String,
    /// With --watch: how long an event is held so that an earlier one from another input or
    /// pod can go first
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "100ms",
        requires = "watch"
    )]
    pub reorder_window: String,
    /// With --watch: say so once on stderr after this long without an event (`0`: never)
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        requires = "watch"
    )]
    pub idle: String,
}

/// Which events to keep; shared by every subcommand.
#[derive(Debug, Args)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    /// Only this trace id (repeat or comma-separate for several)
    #[arg(long = "trace", value_name = "ID", value_delimiter = ',')]
    pub traces: Vec<String>,

    /// Only events of this tenant (taken from the line, or propagated within its trace)
    #[arg(long = "tenant", value_name = "TENANT", value_delimiter = ',')]
    pub tenants: Vec<String>,

    /// Only events of this node name
    #[arg(long = "node", value_name = "NAME", value_delimiter = ',')]
    pub nodes: Vec<String>,

    /// Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)
    #[arg(long = "pod", value_name = "NAME", value_delimiter = ',')]
    pub pods: Vec<String>,

    /// Only events of this kind, e.g. node_failed (repeat or comma-separate for several)
    #[arg(long = "kind", value_name = "KIND", value_delimiter = ',')]
    pub kinds: Vec<String>,

    /// Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration
    /// (30s, 15m, 2h, 1d) before the newest event read, or before now with --now
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events at or before this time: RFC 3339 or a duration, as for --since
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Count --since/--until durations back from the current clock, not from the newest event
    #[arg(long)]
    pub now: bool,
}

/// Presentation options shared by every subcommand.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// When to color the output; `auto` colors a terminal unless NO_COLOR is set
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Show exception text whole; by default secrets in it (API keys, tokens, passwords in
    /// URLs, long hex/base64 strings) are masked
    #[arg(long)]
    pub no_redact: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A page for reading on a terminal
    Table,
    /// The report as one JSON object (a stable contract, see the README)
    Json,
    /// A Markdown section, for incident documents
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventFormat {
    /// Aligned columns for reading
    Table,
    /// One JSON object per line
    Jsonl,
    /// One JSON array
    Json,
    /// Comma-separated values with a header row
    Csv,
    /// A Markdown table, for incident documents
    Markdown,
}
