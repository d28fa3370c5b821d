//! `lint`: the telemetry defects PenguiFlow's guidance names, found in the input: what makes an
//! incident undebuggable (no trace id, no node name, unstable node names, no tenant,
//! unstructured lines, payloads cut short), what makes telemetry costly (node_start volume,
//! noise, the same event logged twice), what leaks (secrets in any line), and what was lost
//! (events the runtime failed to store, middlewares that raised). Each finding carries its
//! rule, severity, count, a few locations (`input:line`, `store#rowid`, never the secret) and
//! the fix in PenguiFlow's terms.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::event::{Event, Kind, Origin};
use crate::pass::{Analysis, Needs, PassEnd};
use crate::redact::secret_kinds;
use crate::source::{LineInspector, ReadStats};

/// Locations kept per finding.
const EXAMPLES: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A lint rule: its id, name, severity and what fixes what it finds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub fix: &'static str,
}

pub const MISSING_TRACE_ID: Rule = Rule {
    id: "PF001",
    name: "missing-trace-id",
    severity: Severity::Error,
    fix: "give every Message a trace_id (Message(..., trace_id=...) or flow.emit with headers): \
          without it no event can be tied to a request",
};
pub const MISSING_TENANT: Rule = Rule {
    id: "PF002",
    name: "missing-tenant",
    severity: Severity::Warning,
    fix: "log the tenant with every request (Headers(tenant=...) and a logging filter or an \
          ingress line with trace_id and tenant), as the other traces do",
};
pub const CROSS_TENANT: Rule = Rule {
    id: "PF003",
    name: "cross-tenant-trace",
    severity: Severity::Error,
    fix: "a trace must stay within one tenant: find where a message of one tenant was given \
          another's trace_id (shared state, a reused Message) and keep the tenant in Headers",
};
pub const UNSTABLE_NODE_NAME: Rule = Rule {
    id: "PF004",
    name: "unstable-node-name",
    severity: Severity::Warning,
    fix: "name nodes with stable, meaningful names (Node(fn, name=\"retrieve\")): ids, hashes \
          or counters in names make every deploy a new node in dashboards and queries",
};
pub const MISSING_NODE_NAME: Rule = Rule {
    id: "PF005",
    name: "missing-node-name",
    severity: Severity::Error,
    fix: "keep node_name in the logged payload (log FlowEvent.to_payload() whole)",
};
pub const NODE_START_VOLUME: Rule = Rule {
    id: "PF006",
    name: "node-start-volume",
    severity: Severity::Info,
    fix: "node_start is the largest share of the log: keep it at DEBUG in production and rely \
          on node_success/node_error latencies, or sample it",
};
pub const NOISE: Rule = Rule {
    id: "PF007",
    name: "non-event-lines",
    severity: Severity::Info,
    fix: "lines that are not FlowEvents cost the same to ship and store: send access logs and \
          other noise to another logger or stream",
};
pub const DUPLICATE_EVENTS: Rule = Rule {
    id: "PF008",
    name: "duplicate-events",
    severity: Severity::Warning,
    fix: "the same event is logged twice (log_flow_events middleware and the penguiflow.core \
          logger both on): keep one of them",
};
pub const SECRET: Rule = Rule {
    id: "PF009",
    name: "secret-in-logs",
    severity: Severity::Error,
    fix: "never log payloads, meta, prompts or credentials: log ids and sizes instead, mask in \
          a logging filter, and rotate the secrets already written",
};
pub const LOST_EVENTS: Rule = Rule {
    id: "PF010",
    name: "lost-events",
    severity: Severity::Error,
    fix: "events are missing from the store (state_store_save_failed) or a middleware raised \
          (middleware_error): fix the StateStore or the middleware (an async callable taking \
          the FlowEvent) so telemetry is whole",
};
pub const STORE_LOG_MISMATCH: Rule = Rule {
    id: "PF011",
    name: "store-log-mismatch",
    severity: Severity::Warning,
    fix: "the store and the logs of the same run disagree: check state_store_save_failed lines \
          and that every pod's logs are given",
};
pub const UNSTRUCTURED: Rule = Rule {
    id: "PF012",
    name: "unstructured-logging",
    severity: Severity::Error,
    fix: "PenguiFlow's events are logged as plain text without fields (logging.basicConfig): \
          call penguiflow's configure_logging(structured=True) or use a JSON formatter",
};
pub const TRUNCATED: Rule = Rule {
    id: "PF013",
    name: "truncated-payload",
    severity: Severity::Warning,
    fix: "payload strings are cut at 100 characters (configure_logging's default text format): \
          log with structured=True to keep exceptions whole",
};

/// Every rule, for `--help` and the README.
pub const RULES: [Rule; 13] = [
    MISSING_TRACE_ID,
    MISSING_TENANT,
    CROSS_TENANT,
    UNSTABLE_NODE_NAME,
    MISSING_NODE_NAME,
    NODE_START_VOLUME,
    NOISE,
    DUPLICATE_EVENTS,
    SECRET,
    LOST_EVENTS,
    STORE_LOG_MISMATCH,
    UNSTRUCTURED,
    TRUNCATED,
];

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub count: u64,
    /// What was found, in numbers (`render::lint` says it, masked).
    pub message: LintMessage,
    /// A few locations: `input:line`, `store#rowid` or a trace id (never a secret).
    pub examples: Vec<String>,
    pub fix: &'static str,
}

/// What a finding found, by rule.
#[derive(Debug, Clone)]
pub enum LintMessage {
    MissingTraceId {
        events: u64,
    },
    MissingNodeName {
        events: u64,
    },
    Truncated {
        events: u64,
    },
    /// Traces with no tenant while `with_tenant` others have one.
    MissingTenant {
        traces: u64,
        with_tenant: usize,
    },
    CrossTenant {
        traces: u64,
    },
    /// Node names that look generated or appear once: how many, and the first few.
    UnstableNodeNames {
        count: usize,
        first: Vec<String>,
        more: bool,
    },
    /// node_start's share of the bytes and of the lines (percent).
    NodeStartVolume {
        bytes_share: f64,
        lines_share: f64,
    },
    /// Lines that are not FlowEvents, and their share of the bytes (percent).
    Noise {
        lines: u64,
        bytes_share: f64,
    },
    /// Lines or rows holding secrets, and the count per kind of secret.
    Secrets {
        holding: u64,
        per_kind: Vec<(&'static str, u64)>,
    },
    PlainLogging {
        events: u64,
    },
    StoreSaveFailed {
        lines: u64,
    },
    MiddlewareErrors {
        lines: u64,
    },
    Duplicates {
        events: u64,
    },
    /// A store and the logs of one run: events in both, only in the store, only in the logs.
    StoreLogMismatch {
        both: u64,
        store_only: u64,
        logs_only: u64,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    pub lines: u64,
    pub events: u64,
    /// The logs hold only the kinds `log_flow_events` writes (start, success, error): a store
    /// beside them holds more by design, not by loss.
    #[serde(skip)]
    pub middleware_logs: bool,
}

/// A count and the first few places it was met.
#[derive(Debug, Default, Clone)]
struct Seen {
    count: u64,
    examples: Vec<String>,
}

impl Seen {
    fn add(&mut self, place: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(place());
        }
    }
}

/// A count of lines and the first few of them by input and line number, whatever order the
/// decoding threads see them in (so `-j` never changes the examples).
#[derive(Debug, Default)]
struct FirstLines {
    count: u64,
    first: Vec<(Arc<str>, u64)>,
}

impl FirstLines {
    fn add(&mut self, input: &str, number: u64) {
        self.count += 1;
        let later = |(known, line): &(Arc<str>, u64)| (&**known, *line) > (input, number);
        if self.first.len() < EXAMPLES || self.first.iter().any(later) {
            self.first.push((input.into(), number));
            self.first.sort_unstable();
            self.first.truncate(EXAMPLES);
        }
    }

    /// Another shard's lines, as if this one had seen them too.
    fn absorb(&mut self, other: FirstLines) {
        self.count += other.count;
        self.first.extend(other.first);
        self.first.sort_unstable();
        self.first.truncate(EXAMPLES);
    }

    fn examples(&self) -> Vec<String> {
        self.first
            .iter()
            .map(|(input, line)| format!("{input}:{line}"))
            .collect()
    }
}

/// What the line inspector gathers: bytes and lines per event kind, and the secrets met.
#[derive(Debug, Default)]
struct LineFacts {
    /// kind ("" for lines that are not events) -> (lines, bytes)
    volume: BTreeMap<String, (u64, u64)>,
    /// Lines holding any secret, and the lines per kind of secret.
    secret_lines: FirstLines,
    secrets: BTreeMap<&'static str, u64>,
}

impl LineFacts {
    fn absorb(&mut self, other: LineFacts) {
        for (kind, (lines, bytes)) in other.volume {
            let volume = self.volume.entry(kind).or_default();
            volume.0 += lines;
            volume.1 += bytes;
        }
        self.secret_lines.absorb(other.secret_lines);
        for (kind, lines) in other.secrets {
            *self.secrets.entry(kind).or_default() += lines;
        }
    }
}

/// Shards of the facts: each decoding thread adds to its own (one lock taken by every
/// thread for every line kept them waiting on each other).
const SHARDS: usize = 8;

/// Sees every line of the logs (from the decoding threads).
#[derive(Debug, Default, Clone)]
pub struct LintLines(Arc<[Mutex<LineFacts>; SHARDS]>);

impl LintLines {
    fn shard(&self) -> std::sync::MutexGuard<'_, LineFacts> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static THREADS: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static SHARD: usize = THREADS.fetch_add(1, Ordering::Relaxed) % SHARDS;
        }
        let shard = &self.0[SHARD.with(|shard| *shard)];
        shard.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every shard's facts, added up.
    fn gathered(&self) -> LineFacts {
        let mut facts = LineFacts::default();
        for shard in self.0.iter() {
            let shard = std::mem::take(&mut *shard.lock().unwrap_or_else(|p| p.into_inner()));
            facts.absorb(shard);
        }
        facts
    }
}

impl LineInspector for LintLines {
    fn inspect(&self, input: &str, number: u64, line: &[u8], kind: Option<&Kind>) {
        let text = String::from_utf8_lossy(line);
        let kinds = secret_kinds(&text);
        let kind = kind.map_or("", Kind::as_str);
        let mut facts = self.shard();
        let volume = match facts.volume.get_mut(kind) {
            Some(volume) => volume,
            None => facts.volume.entry(kind.to_string()).or_default(),
        };
        volume.0 += 1;
        volume.1 += line.len() as u64 + 1;
        if !kinds.is_empty() {
            facts.secret_lines.add(input, number);
        }
        for kind in kinds {
            *facts.secrets.entry(kind).or_default() += 1;
        }
    }
}

pub struct Lint {
    lines: LintLines,
    missing_trace: Seen,
    missing_node: Seen,
    truncated: Seen,
    /// Store rows holding any secret, and the rows per kind.
    store_secret_rows: Seen,
    store_secrets: BTreeMap<&'static str, u64>,
    /// node name -> (events, first place)
    nodes: BTreeMap<String, (u64, String)>,
    traces: HashSet<String>,
    events: u64,
    /// Log events of kinds other than node_start, node_success, node_error.
    log_events_beyond_middleware: u64,
}

impl Lint {
    pub fn new(lines: LintLines) -> Lint {
        Lint {
            lines,
            missing_trace: Seen::default(),
            missing_node: Seen::default(),
            truncated: Seen::default(),
            store_secret_rows: Seen::default(),
            store_secrets: BTreeMap::new(),
            nodes: BTreeMap::new(),
            traces: HashSet::new(),
            events: 0,
            log_events_beyond_middleware: 0,
        }
    }

    /// Read counts the analysis cannot see (lines skipped, duplicates), from the pass's end.
    pub fn with_read(report: LintReport, stats: &ReadStats) -> LintReport {
        let mut report = report;
        let mut add = |rule: Rule, count: u64, message: LintMessage| {
            if count > 0 {
                report
                    .findings
                    .push(finding(rule, count, message, Vec::new()));
            }
        };
        add(
            UNSTRUCTURED,
            stats.plain_logging,
            LintMessage::PlainLogging {
                events: stats.plain_logging,
            },
        );
        add(
            LOST_EVENTS,
            stats.store_save_failed,
            LintMessage::StoreSaveFailed {
                lines: stats.store_save_failed,
            },
        );
        add(
            LOST_EVENTS,
            stats.middleware_errors,
            LintMessage::MiddlewareErrors {
                lines: stats.middleware_errors,
            },
        );
        add(
            DUPLICATE_EVENTS,
            if stats.store_rows == 0 {
                stats.duplicates
            } else {
                0
            },
            LintMessage::Duplicates {
                events: stats.duplicates,
            },
        );
        // A store and the logs of one run: an event in both is read twice and given once;
        // any other is in one of them only.
        if stats.store_rows > 0 && stats.events > 0 && !report.middleware_logs {
            let store_only = stats.store_rows.saturating_sub(stats.duplicates);
            let logs_only = stats.events.saturating_sub(stats.duplicates);
            add(
                STORE_LOG_MISMATCH,
                store_only + logs_only,
                LintMessage::StoreLogMismatch {
                    both: stats.duplicates,
                    store_only,
                    logs_only,
                },
            );
        }
        report.lines = stats.lines;
        sort(&mut report.findings);
        report
    }
}

/// A finding; its locations masked like every text flowtrace shows (a tenant or node name may
/// itself hold a secret), as its message is when said.
fn finding(rule: Rule, count: u64, message: LintMessage, examples: Vec<String>) -> Finding {
    let mask = |text: &str| crate::redact::mask_secrets(text).into_owned();
    Finding {
        rule: rule.id,
        name: rule.name,
        severity: rule.severity,
        count,
        message,
        examples: examples.iter().map(|example| mask(example)).collect(),
        fix: rule.fix,
    }
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(b.rule)));
}

/// Kinds every node-level event has a trace and a node for.
fn is_node_event(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::NodeStart
            | Kind::NodeSuccess
            | Kind::NodeTimeout
            | Kind::NodeError
            | Kind::NodeRetry
            | Kind::NodeFailed
            | Kind::DeadlineSkip
    )
}

/// A node name that changes between deploys or runs: a UUID, a long hex or base-36 hash, or a
/// name that ends in a long number.
fn looks_unstable(name: &str) -> bool {
    let hex_run = name
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    let has_digit = name.bytes().any(|b| b.is_ascii_digit());
    let trailing_digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
    (hex_run >= 12 && has_digit) || trailing_digits >= 5
}

impl Analysis for Lint {
    type Report = LintReport;

    fn needs(&self) -> Needs {
        Needs::Events
    }

    fn reports_on_no_events(&self) -> bool {
        true
    }

    fn observe(&mut self, event: &Event, _selected: bool) {
        self.events += 1;
        let place = || event.origin.to_string();
        if matches!(event.origin, Origin::Line { .. })
            && !matches!(
                event.kind,
                Kind::NodeStart | Kind::NodeSuccess | Kind::NodeError
            )
        {
            self.log_events_beyond_middleware += 1;
        }
        if let Origin::StoreRow { .. } = &event.origin {
            // Store rows are not lines: their texts are scanned here.
            {
                let texts = [
                    event.exception(),
                    event.flow_error().and_then(|f| f.message.as_deref()),
                ];
                let kinds: BTreeSet<&'static str> =
                    texts.into_iter().flatten().flat_map(secret_kinds).collect();
                if !kinds.is_empty() {
                    self.store_secret_rows.add(place);
                }
                for kind in kinds {
                    *self.store_secrets.entry(kind).or_default() += 1;
                }
            }
        }
        if is_node_event(&event.kind) {
            if event.trace_id.is_none() {
                self.missing_trace.add(place);
            }
            if event.node_name.is_none() {
                self.missing_node.add(place);
            }
        }
        if let Some(trace) = event.trace_id.as_deref()
            && !self.traces.contains(trace)
        {
            self.traces.insert(trace.to_string());
        }
        if let Some(node) = event.node_name.as_deref() {
            match self.nodes.get_mut(node) {
                Some((count, _)) => *count += 1,
                None => {
                    self.nodes.insert(node.to_string(), (1, place()));
                }
            }
        }
        let cut = |text: Option<&str>| {
            text.is_some_and(|text| text.ends_with("...") && text.chars().count() == 103)
        };
        if cut(event.exception()) || cut(event.flow_error().and_then(|f| f.message.as_deref())) {
            self.truncated.add(place);
        }
    }

    fn finish(self, end: &PassEnd<'_>) -> LintReport {
        let mut findings = Vec::new();
        let mut push = |rule: Rule, seen: &Seen, message: LintMessage| {
            if seen.count > 0 {
                findings.push(finding(rule, seen.count, message, seen.examples.clone()));
            }
        };
        push(
            MISSING_TRACE_ID,
            &self.missing_trace,
            LintMessage::MissingTraceId {
                events: self.missing_trace.count,
            },
        );
        push(
            MISSING_NODE_NAME,
            &self.missing_node,
            LintMessage::MissingNodeName {
                events: self.missing_node.count,
            },
        );
        push(
            TRUNCATED,
            &self.truncated,
            LintMessage::Truncated {
                events: self.truncated.count,
            },
        );
        // Tenants: traces without any while others have one; traces with several.
        let with_tenant = self
            .traces
            .iter()
            .filter(|trace| end.tenants.tenant_of(trace).is_some())
            .count();
        if with_tenant > 0 {
            let mut without: Vec<&String> = self
                .traces
                .iter()
                .filter(|trace| end.tenants.tenant_of(trace).is_none())
                .collect();
            without.sort();
            if !without.is_empty() {
                push(
                    MISSING_TENANT,
                    &Seen {
                        count: without.len() as u64,
                        examples: without
                            .iter()
                            .take(EXAMPLES)
                            .map(|t| t.to_string())
                            .collect(),
                    },
                    LintMessage::MissingTenant {
                        traces: without.len() as u64,
                        with_tenant,
                    },
                );
            }
        }
        let cross = end.tenants.cross_tenant();
        if !cross.is_empty() {
            push(
                CROSS_TENANT,
                &Seen {
                    count: cross.len() as u64,
                    examples: cross
                        .iter()
                        .take(EXAMPLES)
                        .map(|(trace, tenants)| {
                            let names: Vec<&str> = tenants.iter().map(|t| &**t).collect();
                            format!("{trace} ({})", names.join(", "))
                        })
                        .collect(),
                },
                LintMessage::CrossTenant {
                    traces: cross.len() as u64,
                },
            );
        }
        // Node names: ids, hashes or counters; or one met only once among many events.
        let unstable: Vec<(&String, &(u64, String))> = self
            .nodes
            .iter()
            .filter(|(name, (count, _))| {
                !crate::analysis::graph::is_endpoint(name)
                    && (looks_unstable(name) || (*count == 1 && self.events >= 100))
            })
            .collect();
        if !unstable.is_empty() {
            let names: BTreeSet<&str> = unstable.iter().map(|(name, _)| name.as_str()).collect();
            push(
                UNSTABLE_NODE_NAME,
                &Seen {
                    count: unstable.len() as u64,
                    examples: unstable
                        .iter()
                        .take(EXAMPLES)
                        .map(|(name, (_, place))| format!("{place} ({name})"))
                        .collect(),
                },
                LintMessage::UnstableNodeNames {
                    count: unstable.len(),
                    first: names.iter().take(5).map(|name| name.to_string()).collect(),
                    more: names.len() > 5,
                },
            );
        }
        // Volume, from every line read.
        let facts = self.lines.gathered();
        let (lines, bytes) = facts
            .volume
            .values()
            .fold((0, 0), |(l, b), (lines, bytes)| (l + lines, b + bytes));
        let share = |part: u64, whole: u64| part as f64 / whole.max(1) as f64 * 100.0;
        if let Some(&(start_lines, start_bytes)) = facts.volume.get("node_start")
            && bytes > 0
        {
            let bytes_share = share(start_bytes, bytes);
            let mut rule = NODE_START_VOLUME;
            if bytes_share >= 40.0 {
                rule.severity = Severity::Warning;
            }
            findings.push(finding(
                rule,
                start_lines,
                LintMessage::NodeStartVolume {
                    bytes_share,
                    lines_share: share(start_lines, lines),
                },
                Vec::new(),
            ));
        }
        if let Some(&(noise_lines, noise_bytes)) = facts.volume.get("")
            && noise_lines > 0
        {
            findings.push(finding(
                NOISE,
                noise_lines,
                LintMessage::Noise {
                    lines: noise_lines,
                    bytes_share: share(noise_bytes, bytes),
                },
                Vec::new(),
            ));
        }
        // Secrets: the lines and store rows holding any, counted per kind.
        let mut kinds = facts.secrets.clone();
        for (kind, rows) in &self.store_secrets {
            *kinds.entry(kind).or_default() += rows;
        }
        let holding = facts.secret_lines.count + self.store_secret_rows.count;
        if holding > 0 {
            let mut examples = facts.secret_lines.examples();
            examples.extend(self.store_secret_rows.examples.iter().cloned());
            examples.truncate(EXAMPLES);
            findings.push(finding(
                SECRET,
                holding,
                LintMessage::Secrets {
                    holding,
                    per_kind: kinds.into_iter().collect(),
                },
                examples,
            ));
        }
        drop(facts);
        sort(&mut findings);
        LintReport {
            findings,
            lines,
            events: self.events,
            middleware_logs: self.log_events_beyond_middleware == 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_told_from_stable_ones() {
        for name in [
            "retrieve",
            "llm_v2",
            "fetch-orders",
            "OpenSea",
            "enrich3",
            "summarize_2024",
        ] {
            assert!(!looks_unstable(name), "{name}");
        }
        for name in [
            "node_7f3a9c01d2e4b5a6",
            "b2f9ed50-9a33-424b-a7e2-aa65c07107ff",
            "worker_182736",
        ] {
            assert!(looks_unstable(name), "{name}");
        }
    }
}
