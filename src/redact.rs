//! Exception text: evidence, and a leak risk. PenguiFlow logs `repr(exception)` (and the same
//! text in `flow_error.message`), which may carry API keys, tokens or passwords (the shared
//! reference: treat logs as sensitive). Every subcommand passes its events through
//! `redact_event` unless `--no-redact`; `summarize_exception` gives the exception type and a
//! one-line message of bounded length.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex, RegexSet};

use crate::event::Event;

const MASK: &str = "***";
/// Longest message shown in a summary, in characters.
pub const MESSAGE_CHARS: usize = 120;

struct Rule {
    /// What the rule finds, as `lint` names it.
    name: &'static str,
    /// True when a match needs no literal text, only a run of letters and digits (see
    /// `has_token_run`): left out of `ANCHORED_SECRET`.
    by_run: bool,
    pattern: Regex,
    /// Replacement; `$1` keeps the captured context (a key name, a URL's user).
    replacement: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |name: &'static str, pattern: &str, replacement: &'static str| Rule {
        name,
        by_run: false,
        pattern: Regex::new(pattern).expect("redaction patterns are valid"),
        replacement,
    };
    vec![
        // PEM private keys, whole
        rule(
            "private-key",
            r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            "-----BEGIN PRIVATE KEY-----***",
        ),
        // user:password@ in URLs (empty user, slashes or @ in the password too)
        rule(
            "url-password",
            r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)\S*@",
            "${1}***@",
        ),
        // JSON Web Tokens
        rule(
            "jwt",
            r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
            MASK,
        ),
        // Authorization: Bearer / Basic / Token ...
        rule(
            "authorization-header",
            r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{8,}",
            "${1} ***",
        ),
        // API keys with well-known prefixes, in the style of the secret scanners (prefix,
        // charset, length): OpenAI sk-..., Stripe sk_live_/pk_test_/rk_/whsec_, Slack xox?-,
        // GitHub gh?_, GitLab gl??-, Google AIza/GOCSPX-, Hugging Face hf_, Shopify shp??_,
        // Square sq0???-, Docker dckr_pat_, New Relic NRAK-, Databricks dapi (after any
        // non-alphanumeric, `%3D` included). Words like sk-learn or pk_orders_id are not keys.
        rule(
            "api-key",
            r"(^|[^A-Za-z0-9])(sk-(?:proj-|svcacct-|admin-)?|(?:sk|pk|rk)_(?:live|test)_|whsec_|xox[abpr]-|gh[pousr]_|gl(?:pat|rt|dt|ptt|cbt|soat)-|AIza|GOCSPX-|hf_|shp(?:at|ca|pa|ss)_|sq0(?:atp|csp)-|dckr_pat_|NRAK-|dapi)[A-Za-z0-9_\-]{16,}",
            "${1}${2}***",
        ),
        // Twilio API key SIDs, Mailgun keys: a fixed prefix and 32 hex / alphanumerics
        rule(
            "api-key",
            r"\b(SK[0-9a-fA-F]{32}|key-[0-9a-zA-Z]{32})\b",
            MASK,
        ),
        // age secret keys
        rule("private-key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}", MASK),
        // Azure AD client secrets (three characters, a digit, `Q~`, then 31-34)
        rule(
            "client-secret",
            r"\b[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}",
            MASK,
        ),
        // Azure SAS signatures in URLs
        rule("url-signature", r#"([?&]sig=)[^&\s"']+"#, "${1}***"),
        // Discord bot tokens, Telegram bot tokens
        Rule {
            by_run: true,
            ..rule(
                "bot-token",
                r"\b[MNO][A-Za-z0-9]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,}",
                MASK,
            )
        },
        rule("bot-token", r"\b\d{8,10}:AA[A-Za-z0-9_\-]{33}\b", MASK),
        // curl -u user:password / --user user:password
        rule(
            "command-line-password",
            r"((?:^|\s)(?:-u|--user)\s+[^\s:]+:)\S+",
            "${1}***",
        ),
        // API_KEY 0123... (a name, a space, then 32+ hex)
        rule(
            "api-key",
            r"(?i)(\b[A-Z0-9_]*API_?KEY\s+)[0-9a-f]{32,}\b",
            "${1}***",
        ),
        // AWS access key ids
        rule("cloud-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", MASK),
    ]
});

/// key=value / key: value / key%3Dvalue for secret-looking keys, prefixes and suffixes included
/// (DB_PASSWORD, aws_secret_access_key, session_token). Not a count (`max_tokens=4096`) nor a
/// key that names or points at a secret (`secret_name=`, `token_id:`).
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:^|[^A-Za-z0-9])([A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|passphrase|credential|cookie|session)[A-Za-z0-9_.\-]*)["']?\s*(?:=|:|%3[dD])\s*["']?)([^\s"',;&)]+)"#,
    )
    .expect("valid pattern")
});

/// Long hex strings (keys): 48 characters or more. 32-character trace ids, 40-character git
/// SHAs and `sha256:` digests stay readable.
static LONG_HEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(sha(?:1|256|384|512)[:=]|@)?\b([0-9a-f]{48,})\b").expect("valid pattern")
});

/// Long base64-looking runs: at least 40 characters with upper case, lower case and digits.
static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_\-]{40,}={0,2}").expect("valid pattern"));

/// Every pattern that can find a secret, in one set: the rules', then the masking steps'
/// gates (`MASKING_STEPS`), so one scan says which match.
static ANY_SECRET: LazyLock<RegexSet> = LazyLock::new(|| {
    let rules = RULES.iter().map(|rule| rule.pattern.as_str());
    let gates = [&*KEY_VALUE, &*LONG_HEX, &*BASE64_RUN].map(Regex::as_str);
    RegexSet::new(rules.chain(gates)).expect("redaction patterns are valid")
});

/// The patterns whose every match holds some literal text (`://`, `eyJ`, `password`...), in
/// one set: scanned for fast, where the set of every pattern ran at 300 MB/s (the runs of
/// letters and digits of the others kept its automaton busy on every trace id).
static ANCHORED_SECRET: LazyLock<RegexSet> = LazyLock::new(|| {
    let rules = RULES.iter().filter(|rule| !rule.by_run);
    let patterns = rules.map(|rule| rule.pattern.as_str());
    RegexSet::new(patterns.chain([KEY_VALUE.as_str()])).expect("redaction patterns are valid")
});

/// False only when no pattern can match `text`: most texts hold no secret, and `lint` reads
/// every line (on 1 GiB of log, each pattern scanned alone took 17 s; the set of all, 5 s).
fn may_hold_a_secret(text: &str) -> bool {
    has_token_run(text.as_bytes()) || ANCHORED_SECRET.is_match(text)
}

/// True when `bytes` hold what the patterns without a literal need: 40 characters of
/// `[A-Za-z0-9+/_-]` in a row (`BASE64_RUN`; `LONG_HEX`'s 48 hex digits are such a run), or
/// 24 letters and digits right before a `.` (a bot token's first part). A 32-digit trace id
/// is neither.
fn has_token_run(bytes: &[u8]) -> bool {
    let mut token = 0;
    let mut alphanumeric = 0;
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() {
            token += 1;
            alphanumeric += 1;
        } else {
            if byte == b'.' && alphanumeric >= 24 {
                return true;
            }
            alphanumeric = 0;
            token = if matches!(byte, b'+' | b'/' | b'_' | b'-') {
                token + 1
            } else {
                0
            };
        }
        if token >= 40 {
            return true;
        }
    }
    false
}

/// Masks the secrets in every free-text field of an event (its exception repr, its
/// `flow_error` message and a remote call's agent URL). Applied once, as a pipeline stage,
/// before any renderer sees the event.
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
        self.mask_in_place(event.exception_mut());
        if let Some(flow_error) = event.flow_error_mut() {
            self.mask_in_place(flow_error.message.as_mut());
        }
        if let Some(remote) = event.remote_mut() {
            // An agent URL may carry credentials (`user:pass@`, a key in its query).
            self.mask_in_place(remote.remote_agent_url.as_mut());
        }
    }

    fn mask_in_place(&mut self, text: Option<&mut String>) {
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
    if !may_hold_a_secret(text) {
        return Cow::Borrowed(text);
    }
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
    for (_, step) in MASKING_STEPS {
        if let Cow::Owned(changed) = step(&masked) {
            masked = Cow::Owned(changed);
        }
    }
    masked
}

/// The kinds of secret in `text` (`api-key`, `url-password`, ...), by the same rules that mask
/// them, each named once: what `lint` counts, never the secret itself.
pub fn secret_kinds(text: &str) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    let mut note = |kind: &'static str| {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    };
    // Which patterns match is a slower scan (to the end, for all of them): only for a text
    // that may hold one.
    if !may_hold_a_secret(text) {
        return kinds;
    }
    let found = ANY_SECRET.matches(text);
    for (index, rule) in RULES.iter().enumerate() {
        if found.matched(index) {
            note(rule.name);
        }
    }
    // Each step begins with its gate's match: a gate that did not match masks nothing.
    for (gate, (kind, step)) in MASKING_STEPS.iter().enumerate() {
        if found.matched(RULES.len() + gate) && matches!(step(text), Cow::Owned(_)) {
            note(kind);
        }
    }
    kinds
}

/// The masking steps after the fixed-pattern rules, each with the kind of secret it finds, in
/// the order of their gates in `ANY_SECRET`: `KEY_VALUE`, `LONG_HEX`, `BASE64_RUN`.
type MaskingStep = fn(&str) -> Cow<'_, str>;
const MASKING_STEPS: [(&str, MaskingStep); 3] = [
    ("secret-key-value", mask_key_values),
    ("long-hex-key", mask_long_hex),
    ("random-token", mask_random_runs),
];

/// `password=...` and its kin: a value under a secret-looking key (not a count, nor a key that
/// names or points at a secret).
fn mask_key_values(text: &str) -> Cow<'_, str> {
    if !KEY_VALUE.is_match(text) {
        return Cow::Borrowed(text);
    }
    let mut changed = false;
    let replaced = KEY_VALUE.replace_all(text, |captures: &Captures| {
        let key = captures[2].to_ascii_lowercase();
        let value = &captures[3];
        let counts = value.bytes().all(|b| b.is_ascii_digit());
        let names_it = [
            "name", "_id", "-id", ".id", "path", "arn", "ref", "type", "count",
        ]
        .iter()
        .any(|suffix| key.ends_with(suffix));
        // Placeholders are no secret: None, null, <redacted>, [REDACTED], ***.
        let placeholder = matches!(
            value.to_ascii_lowercase().as_str(),
            "none" | "null" | "nil" | "true" | "false" | "redacted" | "xxx" | "changeme"
        ) || (value.starts_with('<') && value.ends_with('>'))
            || (value.starts_with('[') && value.ends_with(']'));
        if counts || names_it || placeholder || value == MASK || value.ends_with(MASK) {
            captures[0].to_string()
        } else {
            changed = true;
            format!("{}{MASK}", &captures[1])
        }
    });
    if changed {
        Cow::Owned(replaced.into_owned())
    } else {
        Cow::Borrowed(text)
    }
}

/// Hex strings of 48 characters or more (digests named as such stay).
fn mask_long_hex(text: &str) -> Cow<'_, str> {
    if !LONG_HEX.is_match(text) {
        return Cow::Borrowed(text);
    }
    let mut changed = false;
    let replaced = LONG_HEX.replace_all(text, |captures: &Captures| {
        if captures.get(1).is_some() {
            captures[0].to_string()
        } else {
            changed = true;
            MASK.to_string()
        }
    });
    if changed {
        Cow::Owned(replaced.into_owned())
    } else {
        Cow::Borrowed(text)
    }
}

/// Base64-looking runs that switch case and class like random tokens.
fn mask_random_runs(text: &str) -> Cow<'_, str> {
    if !BASE64_RUN.is_match(text) {
        return Cow::Borrowed(text);
    }
    let mut changed = false;
    let replaced = BASE64_RUN.replace_all(text, |captures: &Captures| {
        let run = &captures[0];
        if looks_random(run) {
            changed = true;
            MASK.to_string()
        } else {
            run.to_string()
        }
    });
    if changed {
        Cow::Owned(replaced.into_owned())
    } else {
        Cow::Borrowed(text)
    }
}

/// Paths and identifiers are long too; random tokens mix cases and digits and rarely slashes.
fn looks_random(run: &str) -> bool {
    let upper = run.bytes().any(|b| b.is_ascii_uppercase());
    let lower = run.bytes().any(|b| b.is_ascii_lowercase());
    let digits = run.bytes().filter(u8::is_ascii_digit).count();
    let slashes = run.bytes().filter(|&b| b == b'/').count();
    // Identifiers (CamelCase, words) run in long same-class stretches; random tokens switch
    // case and class every character or two.
    let class = |b: u8| {
        if b.is_ascii_uppercase() {
            0
        } else if b.is_ascii_lowercase() {
            1
        } else if b.is_ascii_digit() {
            2
        } else {
            3
        }
    };
    let switches = run
        .as_bytes()
        .windows(2)
        .filter(|pair| class(pair[0]) != class(pair[1]))
        .count();
    let mean_run = run.len() as f64 / (switches + 1) as f64;
    upper && lower && digits >= 4 && slashes * 10 <= run.len() && mean_run < 2.5
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
                input: "x",
                line: 1,
            };
            let mut event = Event::new(
                crate::event::Timestamp(1),
                crate::event::Kind::NodeError,
                origin,
            );
            event.set_exception(Some(exception.into()));
            event
        };
        let mut redactor = Redactor::new(true);
        for _ in 0..3 {
            let mut event = error_event("ConnectionError('password=hunter2 refused')");
            redactor.apply(&mut event);
            assert_eq!(
                event.exception(),
                Some("ConnectionError('password=*** refused')")
            );
        }
        let mut event = error_event("password=hunter2");
        Redactor::new(false).apply(&mut event);
        assert_eq!(event.exception(), Some("password=hunter2"));
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

    /// The quick look never passes over a text that some pattern matches: every secret of
    /// these tests, and random texts of the characters the patterns are made of, runs of
    /// every length among them. A production line holds none and is passed over.
    #[test]
    fn the_quick_look_misses_no_text_a_pattern_matches() {
        let secrets = [
            "api_key=sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl",
            "https://svc:hunter2@db.internal/x",
            "AKIAIOSFODNN7EXAMPLE",
            "-----BEGIN RSA PRIVATE KEY-----",
            "secret abc8Q~abcdefghijklmnopqrstuvwxyz0123456 rejected",
            "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs",
            "123456789:AAabcdefghijklmnopqrstuvwxyz0123456",
            "curl -u admin:hunter2secret https://x",
            "DD_API_KEY 0123456789abcdef0123456789abcdef",
            "blob dGhpcyBpcyBhIHNlY3JldCBrZXkgdGhhdCBpcyBsb25nIGVub3VnaA9x end",
            "?sv=2022&sig=AbCdEf1234%2Bxyz%3D&se=2026",
        ];
        let alphabet = b"aZq09MNO+/_-.:@=~ Q\"'&?\n\xc3\xa9";
        let mut random = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |below: usize| {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            (random % below as u64) as usize
        };
        let mut matched = 0;
        for round in 0..20_000 {
            let mut text = Vec::new();
            for _ in 0..next(6) {
                match next(4) {
                    0 => text.extend_from_slice(secrets[next(secrets.len())].as_bytes()),
                    1 => {
                        let byte = alphabet[next(alphabet.len())];
                        text.extend(std::iter::repeat_n(byte, next(60)));
                    }
                    _ => text.extend((0..next(70)).map(|_| alphabet[next(alphabet.len())])),
                }
            }
            let text = String::from_utf8_lossy(&text);
            if ANY_SECRET.is_match(&text) {
                matched += 1;
                assert!(may_hold_a_secret(&text), "round {round}: {text:?}");
            }
        }
        assert!(matched > 5_000, "{matched} texts matched");
        for secret in secrets {
            assert!(may_hold_a_secret(secret), "{secret}");
        }
        let line = r#"[pod/worker-7d9c5b6f4-dc572/worker] {"level": "DEBUG", "message": "node_start", "logger": "penguiflow.core", "ts": 1796000000.000013, "event": "node_start", "node_name": "triage", "node_id": "cfa858fe7ff7f8593563fbd4c22f21e9", "trace_id": "ac77500b73f2c6440000000000000021", "latency_ms": 0.0, "q_depth_in": 9, "outgoing": 1, "tenant": "globex", "timestamp": "2026-11-30T00:53:20.000036+00:00"}"#;
        assert!(!may_hold_a_secret(line));
        assert!(has_token_run(&[b'x'; 40]) && !has_token_run(&[b'x'; 39]));
        assert!(has_token_run(format!("{}.", "a1".repeat(12)).as_bytes()));
        assert!(!has_token_run(format!("{}.", "a1".repeat(11)).as_bytes()));
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
            input: "t",
            line: 1,
        };
        let mut event = Event::new(Timestamp(0), Kind::NodeFailed, origin);
        event.set_exception(Some("KeyError('password=hunter2')".into()));
        event.set_flow_error(Some(FlowError {
            code: Some("NODE_EXCEPTION".into()),
            message: Some("raised KeyError: password=hunter2".into()),
            exception_type: Some("KeyError".into()),
        }));
        redact_event(&mut event);
        assert_eq!(event.exception(), Some("KeyError('password=***')"));
        let flow_error = event.flow_error().unwrap();
        assert_eq!(
            flow_error.message.as_deref(),
            Some("raised KeyError: password=***")
        );
        assert_eq!(flow_error.code.as_deref(), Some("NODE_EXCEPTION"));
    }

    #[test]
    fn scanner_shaped_secrets_are_masked_and_evidence_stays() {
        let age = format!("AGE-SECRET-KEY-1{}", "Q".repeat(58));
        let secrets = [
            ("GCP", "client secret GOCSPX-abcdefghijklmnopqrstuvwx12".to_string()),
            ("Azure SAS", "GET https://acct.blob.core.windows.net/c/b?sv=2022&sig=AbCdEf1234%2Bxyz%3D&se=2026".into()),
            ("Azure AD", "secret abc8Q~abcdefghijklmnopqrstuvwxyz0123456 rejected".into()),
            ("Stripe webhook", "whsec_abcdefghijklmnopqrstuvwx1234".into()),
            ("GitLab runner", "glrt-abcdefghijklmnopqrstu".into()),
            ("Hugging Face", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH".into()),
            ("Twilio", "SK0123456789abcdef0123456789abcdef".into()),
            ("Mailgun", "key-0123456789abcdef0123456789abcdef".into()),
            ("Shopify", "shpat_0123456789abcdef0123456789abcdef".into()),
            ("Square", "sq0atp-abcdefghijklmnopqrstuv".into()),
            ("Discord", "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs".into()),
            ("Telegram", "123456789:AAabcdefghijklmnopqrstuvwxyz0123456".into()),
            ("Docker", "dckr_pat_abcdefghijklmnopqrstuvwx".into()),
            ("age", age),
            ("Databricks", "dapi0123456789abcdef0123456789abcdef".into()),
            ("New Relic", "NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ0".into()),
            ("curl -u", "curl -u admin:hunter2secret https://x".into()),
            ("API key name", "DD_API_KEY 0123456789abcdef0123456789abcdef".into()),
        ];
        for (what, text) in &secrets {
            let masked = mask_secrets(text);
            assert!(masked.contains(MASK), "{what}: {masked}");
        }
        let sha = "a".repeat(64);
        let git = "0123456789abcdef0123456789abcdef01234567";
        let evidence = [
            "max_tokens=4096".to_string(),
            "total_tokens: 9184".into(),
            "violates constraint pk_orders_customer_id".into(),
            "No module named sk-learn-pipeline".into(),
            format!("image sha256:{sha}"),
            format!("built from commit {git}"),
            "secret_name=prod-db-password".into(),
            "AbstractSingletonProxyFactoryBeanHandler2024Version3Impl".into(),
        ];
        for text in &evidence {
            assert_eq!(mask_secrets(text), text.as_str(), "evidence masked");
        }
    }
}
