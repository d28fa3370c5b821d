//! The failure classification, in one place: which category an event belongs to, and whether
//! it is terminal. `find`, `classify`, `traces` and `triage` all use it.
//!
//! - timeout: `node_timeout`; `node_failed` with `NODE_TIMEOUT` is a terminal timeout.
//! - error: `node_error`, `remote_call_error`, `remote_cancel_error` (a remote task the trace's
//!   cancellation could not cancel); `node_failed` with `NODE_EXCEPTION` (or any code not listed
//!   elsewhere) is a terminal error.
//! - cancel: `trace_cancel_start/finish/drop`, `node_trace_cancelled`, `node_cancelled`,
//!   `remote_call_cancelled`.
//! - deadline: `deadline_skip`; `node_failed` with `DEADLINE_EXCEEDED` or a budget-exhausted code.
//!
//! Retries (`node_retry`) are counted apart: a retry is a reaction, not a failure category.
//! Counts skip the events that repeat another: `node_failed` (its message's last failure) and
//! `remote_call_error` (RemoteNode re-raises the remote failure, so the runtime logs the node's
//! `node_error`, same exception, in the same attempt right after it).

use std::fmt;

use serde::Serialize;

use crate::event::{Event, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Timeout,
    Error,
    Cancel,
    Deadline,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Timeout,
        Category::Error,
        Category::Cancel,
        Category::Deadline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Timeout => "timeout",
            Category::Error => "error",
            Category::Cancel => "cancel",
            Category::Deadline => "deadline",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The category of a `node_failed` from its `flow_error.code`.
fn terminal_category(code: Option<&str>) -> Category {
    match code {
        Some("NODE_TIMEOUT") => Category::Timeout,
        Some("TRACE_CANCELLED") => Category::Cancel,
        Some("DEADLINE_EXCEEDED" | "HOP_BUDGET_EXHAUSTED" | "TOKEN_BUDGET_EXHAUSTED") => {
            Category::Deadline
        }
        _ => Category::Error,
    }
}

/// The failure category of an event, if it is a failure at all.
pub fn category_of(event: &Event) -> Option<Category> {
    match &event.kind {
        Kind::NodeTimeout => Some(Category::Timeout),
        Kind::NodeError | Kind::RemoteCallError | Kind::RemoteCancelError => Some(Category::Error),
        Kind::NodeFailed => Some(terminal_category(
            event.flow_error().and_then(|f| f.code.as_deref()),
        )),
        Kind::TraceCancelStart
        | Kind::TraceCancelFinish
        | Kind::TraceCancelDrop
        | Kind::NodeTraceCancelled
        | Kind::NodeCancelled
        | Kind::RemoteCallCancelled => Some(Category::Cancel),
        Kind::DeadlineSkip => Some(Category::Deadline),
        _ => None,
    }
}

/// True for the events that end a message for good: `node_failed` (retries exhausted).
pub fn is_terminal(event: &Event) -> bool {
    event.kind == Kind::NodeFailed
}

/// True for a failure event that another event of the same attempt repeats, so that counting
/// both would count one failure twice: a `remote_call_error` is followed by its node's
/// `node_error` (RemoteNode re-raises; same exception). The `node_error` is the one counted.
pub fn is_repeated(event: &Event) -> bool {
    event.kind == Kind::RemoteCallError
}

/// True for the kinds that mark a trace as cancelled (the trace status rule). A remote call's
/// cancellation (`remote_call_cancelled`, `remote_cancel_error`) only ever mirrors
/// `flow.cancel(trace_id)` onto the remote task.
pub fn is_trace_cancellation(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::TraceCancelStart
            | Kind::TraceCancelFinish
            | Kind::TraceCancelDrop
            | Kind::NodeTraceCancelled
            | Kind::RemoteCallCancelled
            | Kind::RemoteCancelError
    )
}

/// Counts of each category plus retries, as reported by `find` and `classify`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CategoryCounts {
    pub timeout: u64,
    pub error: u64,
    pub cancel: u64,
    pub deadline: u64,
    pub retry: u64,
}

impl CategoryCounts {
    /// Counts `event` into its category (or retries). A `node_failed` is not counted: it
    /// repeats the last failure of its message as terminal (see `is_terminal`); nor is a
    /// `remote_call_error`, which its node's `node_error` repeats (see `is_repeated`).
    pub fn add(&mut self, event: &Event) {
        if event.kind == Kind::NodeRetry {
            self.retry += 1;
        }
        if is_terminal(event) || is_repeated(event) {
            return;
        }
        match category_of(event) {
            Some(Category::Timeout) => self.timeout += 1,
            Some(Category::Error) => self.error += 1,
            Some(Category::Cancel) => self.cancel += 1,
            Some(Category::Deadline) => self.deadline += 1,
            None => {}
        }
    }

    pub fn get(&self, category: Category) -> u64 {
        match category {
            Category::Timeout => self.timeout,
            Category::Error => self.error,
            Category::Cancel => self.cancel,
            Category::Deadline => self.deadline,
        }
    }
}

/// True when exception text reads like rejected credentials: an authentication or authorization
/// failure (`401 Unauthorized`, `Forbidden`, `PermissionError`, `invalid api key`, `upstream
/// rejected api_key=...`). A bare number is not enough: `4032 tokens` or `limit 403` is not a
/// status, so 401/403 count only as a word beside an HTTP word.
pub fn reads_like_rejected_credentials(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    const WORDS: [&str; 10] = [
        "unauthorized",
        "unauthorised",
        "forbidden",
        "credential",
        "permission denied",
        "permissionerror",
        "authenticat",
        "access denied",
        "token expired",
        "expired token",
    ];
    if WORDS.iter().any(|word| lower.contains(word)) {
        return true;
    }
    // Not a bare "token": in LLM flows it counts text ("context length of 8192 tokens").
    let secret = [
        "api_key",
        "api key",
        "apikey",
        "access token",
        "access_token",
        "auth token",
        "bearer",
        "password",
        "secret",
    ]
    .iter()
    .any(|word| lower.contains(word));
    let refused = ["rejected", "invalid", "revoked", "expired", "denied"]
        .iter()
        .any(|word| lower.contains(word));
    if secret && refused {
        return true;
    }
    has_http_status(&lower, &["401", "403"], &HTTP_WORDS)
}

/// What exception text reads like, when it reads like one of the failures an on-call acts on
/// apart: rejected credentials first, then a quota, then an unavailable dependency (the order
/// a text matching several is counted in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadsLike {
    RejectedCredentials,
    Quota,
    Unavailable,
}

impl ReadsLike {
    pub fn of(text: &str) -> Option<ReadsLike> {
        if reads_like_rejected_credentials(text) {
            Some(ReadsLike::RejectedCredentials)
        } else if reads_like_quota(text) {
            Some(ReadsLike::Quota)
        } else if reads_like_unavailable(text) {
            Some(ReadsLike::Unavailable)
        } else {
            None
        }
    }
}

/// Words that make a number beside them an HTTP status.
const HTTP_WORDS: [&str; 4] = ["http", "status", "code", "response"];

/// True when `lower` (lowercased text) has one of `statuses` as a whole word and one of
/// `context` anywhere: a bare number (`expected 429 items`) is not a status.
fn has_http_status(lower: &str, statuses: &[&str], context: &[&str]) -> bool {
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| statuses.contains(&word))
        && context.iter().any(|word| lower.contains(word))
}

/// True when exception text reads like a quota or rate limit (HTTP 429, `RateLimitError`,
/// `quota exceeded`, `too many requests`, `throttl...`): retrying at once makes it worse, and
/// it is usually one tenant's or one key's. A bare 429 counts only beside an HTTP word.
pub fn reads_like_quota(text: &str) -> bool {
    reads_like(
        text,
        &[
            "ratelimit",
            "rate limit",
            "rate-limit",
            "rate_limit",
            "quota",
            "too many requests",
            "throttl",
        ],
        &["429"],
        &HTTP_WORDS,
    )
}

/// True when `text` (any case) has one of `words`, or one of `statuses` beside a word of
/// `context` (see `has_http_status`).
fn reads_like(text: &str, words: &[&str], statuses: &[&str], context: &[&str]) -> bool {
    let lower = text.to_ascii_lowercase();
    words.iter().any(|word| lower.contains(word)) || has_http_status(&lower, statuses, context)
}

/// True when an exception's text reads like a dependency saying it is overloaded or down
/// for now (HTTP 502, 503, 504, 529; "overloaded", "unavailable", "retry later"): transient
/// by its own account, not a defect of the code that called it. A status number counts only
/// beside a word of HTTP (`expected 503 items` is not one).
pub fn reads_like_unavailable(text: &str) -> bool {
    reads_like(
        text,
        &[
            "overloaded",
            "unavailable",
            "retry later",
            "try again later",
            "bad gateway",
            "gateway timeout",
            "server is busy",
            "temporarily",
        ],
        &["502", "503", "504", "529"],
        &["http", "status", "code", "response", "request", "server"],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overloaded_or_unavailable_dependency_is_told_from_numbers() {
        for text in [
            "RuntimeError('A2A request failed (503): search index overloaded, retry later')",
            "APIStatusError: Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error'}}",
            "HTTPStatusError: Server error '502 Bad Gateway' for url 'http://llm/v1'",
            "grpc StatusCode.UNAVAILABLE: failed to connect to all addresses",
            "ServiceUnavailableError: The server is temporarily unable to service your request",
            "httpx.HTTPStatusError: status 504 from upstream",
        ] {
            assert!(reads_like_unavailable(text), "{text}");
        }
        for text in [
            "ValueError: expected 503 items, got 12",
            "KeyError: 'user_503'",
            "ValidationError: field 'status' is required",
            "RuntimeError: max_tokens=5030 exceeds the model's limit",
            "RateLimitError: Error code: 429 - You exceeded your current quota",
        ] {
            assert!(!reads_like_unavailable(text), "{text}");
        }
    }

    #[test]
    fn quotas_are_told_from_numbers() {
        assert!(reads_like_quota(
            "RateLimitError: Error code: 429 - You exceeded your current quota"
        ));
        assert!(reads_like_quota("HTTP 429 Too Many Requests"));
        assert!(reads_like_quota("Throttled by upstream"));
        assert!(!reads_like_quota("ValueError: expected 429 rows, got 430"));
        assert!(!reads_like_quota("KeyError: 'answer'"));
    }

    #[test]
    fn rejected_credentials_are_told_from_numbers() {
        for text in [
            "PermissionError('upstream rejected credentials for tenant initech: 401 Unauthorized')",
            "ValueError('upstream rejected api_key=*** token=***')",
            "HTTPStatusError('Client error 403 for url https://api')",
            "RuntimeError('invalid api key')",
        ] {
            assert!(reads_like_rejected_credentials(text), "{text}");
        }
        for text in [
            "ValueError('document too long: 4032 tokens > 4000 limit')",
            "KeyError('template:answer_v2')",
            "ValueError('limit 403 exceeded')",
            "BadRequestError(\"Error code: 400 - {'error': {'message': 'maximum context length is 8192 tokens', 'type': 'invalid_request_error', 'code': 'context_length_exceeded'}}\")",
            "ConnectionResetError('enrichment backend reset the connection')",
        ] {
            assert!(!reads_like_rejected_credentials(text), "{text}");
        }
    }
    use crate::event::{FlowError, Origin, Timestamp};

    fn event(kind: Kind, code: Option<&str>) -> Event {
        let origin = Origin::Line {
            input: "t",
            line: 1,
        };
        let mut event = Event::new(Timestamp(0), kind, origin);
        event.set_flow_error(code.map(|code| FlowError {
            code: Some(code.into()),
            ..FlowError::default()
        }));
        event
    }

    #[test]
    fn node_failed_takes_the_category_of_its_code() {
        assert_eq!(
            category_of(&event(Kind::NodeFailed, Some("NODE_TIMEOUT"))),
            Some(Category::Timeout)
        );
        assert_eq!(
            category_of(&event(Kind::NodeFailed, Some("NODE_EXCEPTION"))),
            Some(Category::Error)
        );
        assert_eq!(
            category_of(&event(Kind::NodeFailed, None)),
            Some(Category::Error)
        );
        assert_eq!(
            category_of(&event(Kind::NodeFailed, Some("TOKEN_BUDGET_EXHAUSTED"))),
            Some(Category::Deadline)
        );
        assert_eq!(category_of(&event(Kind::NodeRetry, None)), None);
        assert_eq!(
            category_of(&event(Kind::NodeCancelled, None)),
            Some(Category::Cancel)
        );
    }
}
