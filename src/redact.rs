//! Exception text: evidence, and a leak risk. PenguiFlow logs `repr(exception)` (and the same
//! text in `flow_error.message`), which may carry API keys, tokens or passwords (the shared
//! reference: treat logs as sensitive). Every subcommand passes its events through
//! `redact_event` unless `--no-redact`; `summarize_exception` gives the exception type and a
//! one-line message of bounded length.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::event::Event;

const MASK: &str = "***";
/// Longest message shown in a summary, in characters.
pub const MESSAGE_CHARS: usize = 120;

struct Rule {
    pattern: Regex,
    /// Replacement; `$1` keeps the captured context (a key name, a URL's user).
    replacement: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, replacement: &'static str| Rule {
        pattern: Regex::new(pattern).expect("redaction patterns are valid"),
        replacement,
    };
    vec![
        // PEM private keys, whole
        rule(
            r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            "-----BEGIN PRIVATE KEY-----***",
        ),
        // user:password@ in URLs (empty user, slashes or @ in the password too)
        rule(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)\S*@", "${1}***@"),
        // JSON Web Tokens
        rule(
            r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
            MASK,
        ),
        // Authorization: Bearer / Basic / Token ...
        rule(
            r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{8,}",
            "${1} ***",
        ),
        // API keys with well-known prefixes: sk-..., sk_live_..., pk_..., xoxb-..., ghp_...,
        // glpat-..., AIza... (after any non-alphanumeric, `%3D` included)
        rule(
            r"(^|[^A-Za-z0-9])((?:sk|pk|rk)[-_](?:live[-_]|test[-_]|proj[-_])?|xox[abpr]-|gh[pousr]_|glpat-|AIza)[A-Za-z0-9_\-]{8,}",
            "${1}${2}***",
        ),
        // AWS access key ids
        rule(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", MASK),
        // key=value / key: value / key%3Dvalue for secret-looking keys, prefixes and suffixes
        // included (DB_PASSWORD, aws_secret_access_key, session_token)
        rule(
            r#"(?i)((?:^|[^A-Za-z0-9])[A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|passphrase|credential|cookie|session)[A-Za-z0-9_.\-]*["']?\s*(?:=|:|%3[dD])\s*["']?)[^\s"',;&)]+"#,
            "${1}***",
        ),
        // long hex strings (keys, digests); 32-character trace ids stay readable
        rule(r"\b[0-9a-fA-F]{40,}\b", MASK),
    ]
});

/// Long base64-looking runs: at least 40 characters with upper case, lower case and digits.
static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_\-]{40,}={0,2}").expect("valid pattern"));

/// Masks the secrets in every free-text field of an event (its exception repr and its
/// `flow_error` message). Applied once, as a pipeline stage, before any renderer sees the event.
pub fn redact_event(event: &mut Event) {
    Redactor::new(true).apply(event);
}

/// Distinct texts remembered by a `Redactor`, and their bytes at most.
const MEMO_TEXTS: usize = 4096;
const MEMO_BYTES: usize = 8 << 20;

/// `redact_event` for a stream: the same exception text comes back with every retry and every
/// trace that hits the same fault, so each distinct text is masked once and remembered (in a
/// bounded memo, forgotten whole when full).
pub struct Redactor {
    enabled: bool,
    /// Text as logged -> its masked form, `None` when it had nothing to mask.
    memo: HashMap<String, Option<String>>,
    memo_bytes: usize,
}

impl Redactor {
    /// A redactor that masks, or (for `--no-redact`) one that leaves events as they are.
    pub fn new(enabled: bool) -> Redactor {
        Redactor {
            enabled,
            memo: HashMap::new(),
            memo_bytes: 0,
        }
    }

    pub fn apply(&mut self, event: &mut Event) {
        if !self.enabled {
            return;
        }
        self.mask_in_place(&mut event.exception);
        if let Some(flow_error) = &mut event.flow_error {
            self.mask_in_place(&mut flow_error.message);
        }
    }

    fn mask_in_place(&mut self, text: &mut Option<String>) {
        let Some(value) = text else { return };
        if let Some(known) = self.memo.get(value.as_str()) {
            if let Some(masked) = known {
                value.clone_from(masked);
            }
            return;
        }
        let masked = match mask_secrets(value) {
            Cow::Owned(masked) => Some(masked),
            Cow::Borrowed(_) => None,
        };
        if self.memo.len() >= MEMO_TEXTS || self.memo_bytes >= MEMO_BYTES {
            self.memo.clear();
            self.memo_bytes = 0;
        }
        self.memo_bytes += value.len() + masked.as_ref().map_or(0, String::len);
        self.memo.insert(value.clone(), masked.clone());
        if let Some(masked) = masked {
            *value = masked;
        }
    }
}

/// Masks the secrets in `text`; borrows it unchanged when there is nothing to mask.
pub fn mask_secrets(text: &str) -> Cow<'_, str> {
    let mut masked = Cow::Borrowed(text);
    for rule in RULES.iter() {
        if rule.pattern.is_match(&masked) {
            masked = Cow::Owned(
                rule.pattern
                    .replace_all(&masked, rule.replacement)
                    .into_owned(),
            );
        }
    }
    if BASE64_RUN.is_match(&masked) {
        let replaced = BASE64_RUN.replace_all(&masked, |captures: &Captures| {
            let run = &captures[0];
            if looks_random(run) {
                MASK.to_string()
            } else {
                run.to_string()
            }
        });
        masked = Cow::Owned(replaced.into_owned());
    }
    masked
}

/// Paths and identifiers are long too; random tokens mix cases and digits and rarely slashes.
fn looks_random(run: &str) -> bool {
    let upper = run.bytes().any(|b| b.is_ascii_uppercase());
    let lower = run.bytes().any(|b| b.is_ascii_lowercase());
    let digits = run.bytes().filter(u8::is_ascii_digit).count();
    let slashes = run.bytes().filter(|&b| b == b'/').count();
    upper && lower && digits >= 4 && slashes * 10 <= run.len()
}

/// The type and a one-line message of an exception repr (`ValueError('bad input')`) or of a
/// traceback's last line (`ValueError: bad input`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionSummary {
    pub type_name: Option<String>,
    pub message: String,
}

/// Summarizes exception text: its type, and its message on one line of at most
/// `MESSAGE_CHARS` characters. (Masking happened earlier, in `redact_event`.)
pub fn summarize_exception(text: &str) -> ExceptionSummary {
    // A traceback's meaning is in its last non-empty line.
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    let (type_name, message) = split_exception(line);
    ExceptionSummary {
        type_name,
        message: one_line(message, MESSAGE_CHARS),
    }
}

fn split_exception(line: &str) -> (Option<String>, &str) {
    let name_end = line
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    // `ValueError`, `asyncio.TimeoutError`: the last dotted part names a class.
    let class = name.rsplit('.').next().unwrap_or(name);
    let looks_like_type = class.chars().next().is_some_and(char::is_uppercase);
    if !looks_like_type {
        return (None, line);
    }
    let rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        let inner = inner.trim().trim_end_matches(',');
        let unquoted = inner
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            .unwrap_or(inner);
        return (Some(name.to_string()), unquoted);
    }
    if let Some(message) = rest.strip_prefix(':') {
        return (Some(name.to_string()), message.trim());
    }
    if rest.is_empty() {
        return (Some(name.to_string()), "");
    }
    (None, line)
}

/// Collapses whitespace (newlines included) and cuts to `limit` characters with an ellipsis.
pub fn one_line(text: &str, limit: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= limit {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redactor_masks_a_remembered_text_like_a_new_one() {
        let error_event = |exception: &str| {
            let origin = crate::event::Origin::Line {
                input: std::sync::Arc::from("x"),
                line: 1,
            };
            let mut event = Event::new(
                crate::event::Timestamp(1),
                crate::event::Kind::NodeError,
                origin,
            );
            event.exception = Some(exception.into());
            event
        };
        let mut redactor = Redactor::new(true);
        for _ in 0..3 {
            let mut event = error_event("ConnectionError('password=hunter2 refused')");
            redactor.apply(&mut event);
            assert_eq!(
                event.exception.as_deref(),
                Some("ConnectionError('password=*** refused')")
            );
        }
        let mut event = error_event("password=hunter2");
        Redactor::new(false).apply(&mut event);
        assert_eq!(event.exception.as_deref(), Some("password=hunter2"));
    }

    #[test]
    fn masks_the_secrets_found_in_exception_text() {
        let text = "upstream rejected api_key=sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c \
                    token=Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl \
                    url=https://svc:hunter2@db.internal/x aws=AKIAIOSFODNN7EXAMPLE \
                    Authorization: Bearer abcdefghijklmnop password: s3cr3t!";
        let masked = mask_secrets(text);
        for (leaky, secret) in [
            ("DB_PASSWORD=hunter2x", "hunter2x"),
            (
                "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrXUtnFEMI",
            ),
            ("redis://:supersecretpw@cache:6379", "supersecretpw"),
            ("postgresql://admin:pa/ss123@db/app", "pa/ss123"),
            ("postgres://user:p@ss@db", "p@ss"),
            (
                "url=https://x/?api_key%3Dsk_live_abcdefgh12345678",
                "abcdefgh12345678",
            ),
            ("cookie: session=abcdef123456", "abcdef123456"),
            (
                "key AIzaSyA1234567890abcdefghijklmnopqrstu",
                "SyA1234567890",
            ),
            ("glpat-abcdefghij1234567890", "abcdefghij1234567890"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
                "MIIEowIBAAKCAQEA",
            ),
        ] {
            let masked = mask_secrets(leaky);
            assert!(!masked.contains(secret), "{secret} leaked in {masked}");
        }
        let trace = "trace 46a464fcc4f34985a9c94a6ee4b9fb5f failed";
        assert_eq!(
            mask_secrets(trace),
            trace,
            "trace ids are evidence, not secrets"
        );
        for secret in [
            "4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
            "eyJhbGciOiJIUzI1NiJ9",
            "hunter2",
            "AKIAIOSFODNN7EXAMPLE",
            "abcdefghijklmnop",
            "s3cr3t",
        ] {
            assert!(!masked.contains(secret), "{secret} leaked in {masked}");
        }
        assert!(masked.contains("https://svc:***@db.internal/x"), "{masked}");
        assert!(masked.contains("upstream rejected api_key="), "{masked}");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        let text =
            "Timed out after 0.05s at /usr/local/lib/python3.11/site-packages/penguiflow/core.py";
        assert!(matches!(mask_secrets(text), Cow::Borrowed(_)));
        let random = "blob dGhpcyBpcyBhIHNlY3JldCBrZXkgdGhhdCBpcyBsb25nIGVub3VnaA9x end";
        assert_eq!(mask_secrets(random), "blob *** end");
    }

    #[test]
    fn summaries_give_type_and_one_short_line() {
        let summary = summarize_exception("ValueError('bad input for key x')");
        assert_eq!(summary.type_name.as_deref(), Some("ValueError"));
        assert_eq!(summary.message, "bad input for key x");

        let traceback =
            "Traceback (most recent call last):\n  File \"x.py\", line 1\nasyncio.TimeoutError: \n";
        let summary = summarize_exception(traceback);
        assert_eq!(summary.type_name.as_deref(), Some("asyncio.TimeoutError"));

        let long = format!("RuntimeError('{}')", "x ".repeat(200));
        let summary = summarize_exception(&long);
        assert_eq!(summary.message.chars().count(), MESSAGE_CHARS);
        assert!(summary.message.ends_with('…'));
    }

    #[test]
    fn events_are_masked_in_exception_and_flow_error_message() {
        use crate::event::{FlowError, Kind, Origin, Timestamp};
        let origin = Origin::Line {
            input: "t".into(),
            line: 1,
        };
        let mut event = Event::new(Timestamp(0), Kind::NodeFailed, origin);
        event.exception = Some("KeyError('password=hunter2')".into());
        event.flow_error = Some(FlowError {
            code: Some("NODE_EXCEPTION".into()),
            message: Some("raised KeyError: password=hunter2".into()),
            exception_type: Some("KeyError".into()),
        });
        redact_event(&mut event);
        assert_eq!(event.exception.as_deref(), Some("KeyError('password=***')"));
        let flow_error = event.flow_error.unwrap();
        assert_eq!(
            flow_error.message.as_deref(),
            Some("raised KeyError: password=***")
        );
        assert_eq!(flow_error.code.as_deref(), Some("NODE_EXCEPTION"));
    }
}
