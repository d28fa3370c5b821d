//! One line of a log in, one `Decoded` out: kubectl prefixes, shape detection, normalization.
//!
//! The shape is detected per line, because real streams mix them:
//! - flat `to_payload()` objects (optionally with `level`/`message`/`logger`/`timestamp`/`tenant`
//!   added by a team formatter), `log_flow_events` lines and `penguiflow-admin history` lines all
//!   carry the payload at the top level;
//! - PenguiFlow's `StructuredFormatter` nests the payload under `extra` and puts the event type in
//!   `message` (its top-level `exception` is the whole traceback, `extra.exception` the short repr).
//!
//! Either may sit behind `kubectl logs --prefix` (`[pod/NAME/CONTAINER] `) and/or `--timestamps`
//! (`2026-11-25T08:42:52.123456789Z `). JSON lines that are not FlowEvents but carry a trace id and
//! a tenant (an ingress log line) come out as `Decoded::TraceTenant`, so the tenant can be
//! propagated to the trace's events.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::event::{
    Event, FlowError, InputName, Kind, Name, Origin, RemoteCall, Timestamp, hex_trace_id, recycled,
};

mod extras;
mod scan;

/// What one line turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Event(Box<Event>),
    /// A JSON line that is not a FlowEvent but ties a trace to a tenant.
    TraceTenant {
        ts: Option<Timestamp>,
        trace_id: String,
        tenant: String,
    },
    Skipped(SkipReason),
}

/// Why a line gave no event; each is counted for the end-of-run summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Blank,
    /// Text that is not JSON at all: tracebacks, access logs, warnings.
    NotJson,
    /// A PenguiFlow event logged as plain text without its fields (`logging.basicConfig`:
    /// `INFO:penguiflow.core:node_success`): nothing to analyse, but worth telling.
    PlainLogging,
    /// Starts like a JSON object but does not parse: a line cut by rotation, corruption.
    Malformed,
    /// Valid JSON that is not a PenguiFlow FlowEvent.
    NotFlowEvent,
    /// The runtime's `state_store_save_failed` line: an event missing from the event store.
    StoreSaveFailed,
    /// The runtime's `middleware_error` line: a middleware raised on an event.
    MiddlewareError,
}

/// Slots of the `Names` cache: far more than the distinct nodes and tenants of a flow, and the
/// traces in flight at one point of a log.
const NAME_SLOTS: usize = 1 << NAME_SLOT_BITS;
const NAME_SLOT_BITS: u32 = 12;

/// The `Names` slot of `text`: its length and first, middle and last eight bytes, mixed by
/// one multiplication (a general hash of a 32-digit id was a third of a name's lookup, four
/// a line). Texts alike in those bytes share a slot and evict each other: a miss, never
/// another name.
#[inline]
fn name_slot(text: &str) -> usize {
    let bytes = text.as_bytes();
    let word = |at: usize| scan::word_at(bytes, at);
    let (head, tail) = match bytes.len() {
        8.. => (
            word(0) ^ word(bytes.len() / 2 - 4).rotate_left(47),
            word(bytes.len() - 8),
        ),
        // A tenant or a node name is often shorter: read in two overlapping halves, or its
        // first, middle and last byte. Copied into a word instead, each took a `memcpy`
        // call (4% of `classify`'s samples).
        4.. => {
            let half = |at: usize| {
                u64::from(u32::from_le_bytes(
                    bytes[at..at + 4].try_into().expect("four bytes"),
                ))
            };
            (half(0) | half(bytes.len() - 4) << 32, 0)
        }
        1.. => (
            u64::from(bytes[0])
                | u64::from(bytes[bytes.len() / 2]) << 8
                | u64::from(bytes[bytes.len() - 1]) << 16,
            0,
        ),
        0 => (0, 0),
    };
    let mixed =
        (head ^ tail.rotate_left(29) ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> (u64::BITS - NAME_SLOT_BITS)) as usize
}

/// Pod prefixes remembered by a decoder.
const POD_SLOTS: usize = 16;

/// A kubectl `pod/NAME/CONTAINER` prefix met, with its pod and container names.
type KnownPod = (Box<[u8]>, Option<Name>, Option<Name>);

/// The `pod/NAME/CONTAINER` prefix of a line: one met before (its index among the decoder's
/// known pods, found once per line), or a new one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PodPrefix<'a> {
    Known(usize),
    New(&'a [u8]),
}

/// What a decoder carries from line to line. Names: a trace id, node name and tenant recur
/// on every event, so each is allocated once and shared, instead of once per event (a fixed
/// table of slots, the last name seen per hash slot, keeps memory constant whatever the
/// input). And the key layouts of the last few shapes of lines, which the next one most
/// likely repeats.
pub struct Names {
    slots: Vec<Option<Name>>,
    layouts: scan::Layouts,
    /// The last few kubectl `pod/NAME/CONTAINER` prefixes met, with their pod and container:
    /// a deployment has a few pods.
    pods: Vec<KnownPod>,
    /// Event boxes the analyses gave back, to fill again.
    fresh: recycled::Fresh,
    /// Events are finished by the stream, on its own thread: their keys made
    /// ([`Event::derive_keys`]) and hex trace ids named ([`Event::set_unnamed_hex_trace`]).
    /// Set for the one decoding thread of a sequential reader, the thread a pass on two cores
    /// waits for (keys: `classify` on 20 MiB 230M instructions decoding against 191M in the
    /// pass); the parallel workers finish their events.
    pub(crate) finished_by_stream: bool,
}

impl Default for Names {
    fn default() -> Names {
        Names {
            slots: vec![None; NAME_SLOTS],
            layouts: scan::Layouts::default(),
            pods: Vec::new(),
            fresh: recycled::Fresh::default(),
            finished_by_stream: false,
        }
    }
}

impl Names {
    /// The shared name for `text`.
    pub fn get(&mut self, text: &str) -> Name {
        self.get_or(text, |text| Name::from(printable_cow(text).as_ref()))
    }

    /// The name for `text` of a field with few values (node, tenant, pod): one made to last
    /// the run ([`Name::lasting`]), copied without a shared count.
    fn get_few(&mut self, text: &str) -> Name {
        self.get_or(text, |text| {
            let text = printable_cow(text);
            Name::lasting(&text).unwrap_or_else(|| Name::from(text.as_ref()))
        })
    }

    /// The name for `text` if it is the one last made in its slot.
    #[inline(always)]
    fn cached(&self, text: &str) -> Option<Name> {
        let slot = name_slot(text);
        self.slots[slot]
            .as_ref()
            .filter(|name| scan::same_bytes(name.as_bytes(), text.as_bytes()))
            .cloned()
    }

    fn get_or(&mut self, text: &str, make: impl FnOnce(&str) -> Name) -> Name {
        let slot = name_slot(text);
        match &self.slots[slot] {
            Some(name) if scan::same_bytes(name.as_bytes(), text.as_bytes()) => name.clone(),
            _ => {
                // Names reach the terminal (tenants, node names, store columns): no control
                // characters (a dirty one misses the cache every time, which is fine: rare).
                let name = make(text);
                self.slots[slot] = Some(name.clone());
                name
            }
        }
    }
}

impl Names {
    /// The pod and container of a `pod/NAME/CONTAINER` prefix: each pod is its own runtime,
    /// with queues of its own. The prefix is checked as UTF-8 only the first time it is met
    /// (none without it).
    fn pod(&mut self, prefix: PodPrefix<'_>) -> (Option<Name>, Option<Name>) {
        let prefix = match prefix {
            PodPrefix::Known(index) => {
                let (_, name, container) = &self.pods[index];
                return (name.clone(), container.clone());
            }
            PodPrefix::New(prefix) => prefix,
        };
        let Ok(prefix) = std::str::from_utf8(prefix) else {
            return (None, None);
        };
        let mut parts = prefix.splitn(3, '/');
        let (_kind, name, container) = (parts.next(), parts.next(), parts.next());
        let name = name.filter(|n| !n.is_empty()).map(|n| self.get_few(n));
        let container = container.filter(|c| !c.is_empty()).map(|c| self.get_few(c));
        if self.pods.len() == POD_SLOTS {
            self.pods.remove(0);
        }
        self.pods
            .push((prefix.as_bytes().into(), name.clone(), container.clone()));
        (name, container)
    }
}

/// Decodes one line (without its line terminator) read from `input` at line number `line`.
pub fn decode_line(bytes: &[u8], input: InputName, line: u64, names: &mut Names) -> Decoded {
    let (json, kubectl_ts, pod) = strip_kubectl_prefixes(trim_ascii(bytes), &names.pods);
    if json.is_empty() {
        return Decoded::Skipped(SkipReason::Blank);
    }
    if json[0] != b'{' {
        // configure_logging()'s default lines: `node_success [ts=..., event="node_success"]`.
        if json.last() == Some(&b']')
            && let Some(payload) = std::str::from_utf8(json)
                .ok()
                .and_then(extras::extras_to_json)
        {
            return decode_json(payload.as_bytes(), kubectl_ts, pod, input, line, names);
        }
        if is_plain_penguiflow_line(json) {
            return Decoded::Skipped(SkipReason::PlainLogging);
        }
        return Decoded::Skipped(SkipReason::NotJson);
    }
    decode_json(json, kubectl_ts, pod, input, line, names)
}

/// Decodes one JSON object (a line, or what another shape became), with the kubectl prefix's
/// time and pod.
fn decode_json(
    json: &[u8],
    kubectl_ts: Option<Timestamp>,
    pod: Option<PodPrefix<'_>>,
    input: InputName,
    line: u64,
    names: &mut Names,
) -> Decoded {
    let deduplicated: String;
    let mut record = RawRecord::default();
    // simdutf8 checks a line a few times faster than `std::str::from_utf8` (same answer).
    let scanned = simdutf8::basic::from_utf8(json)
        .is_ok_and(|json| scan::scan_record(json, &mut names.layouts, &mut record));
    if !scanned {
        record = match serde_json::from_slice(json) {
            Ok(record) => record,
            Err(_) => {
                // A key given twice: jq and Python keep the last value; so does flowtrace.
                let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
                    return Decoded::Skipped(SkipReason::Malformed);
                };
                deduplicated = value.to_string();
                match serde_json::from_str(&deduplicated) {
                    Ok(record) => record,
                    Err(_) => return Decoded::Skipped(SkipReason::Malformed),
                }
            }
        };
    }
    let origin = Origin::Line { input, line };
    let mut decoded = record.to_decoded(kubectl_ts, origin, names);
    if record.borrowed_only.0 {
        debug_assert!(!record.owns_memory(), "{record:?}");
        // Nothing to free: its drop, a test of each of its forty fields, was a fiftieth of
        // the decoding thread.
        std::mem::forget(record);
    }
    if let (Decoded::Event(event), Some(pod)) = (&mut decoded, pod) {
        let (name, container) = names.pod(pod);
        event.pod = name;
        event.container = container;
    }
    decoded
}

/// A `logging.basicConfig` line of PenguiFlow's runtime logger: `LEVEL:penguiflow.core:kind`.
fn is_plain_penguiflow_line(line: &[u8]) -> bool {
    memchr::memmem::find(line, b":penguiflow.").is_some_and(|at| {
        let kind = &line[at + 1..];
        let kind = kind
            .iter()
            .position(|b| *b == b':')
            .map_or(&kind[..0], |colon| &kind[colon + 1..]);
        Kind::KNOWN
            .iter()
            .any(|known| kind.trim_ascii() == known.as_str().as_bytes())
    })
}

/// Builds the event of an event-store row: the row's columns (`ts`, `kind`) win over the
/// payload, since they are what the store indexed; the payload supplies everything else. A
/// payload that is not JSON still gives an event from the columns: nothing stored is dropped.
pub fn decode_store_row(
    ts: Timestamp,
    kind: &str,
    payload: Option<&[u8]>,
    origin: Origin,
    names: &mut Names,
) -> Event {
    let mut record = RawRecord::default();
    if let Some(payload) = payload {
        let scanned = simdutf8::basic::from_utf8(payload)
            .is_ok_and(|payload| scan::scan_record(payload, &mut names.layouts, &mut record));
        if !scanned {
            record = serde_json::from_slice(payload).unwrap_or_default();
        }
    }
    let extra = record.extra.0.as_deref();
    let payload = extra
        .filter(|extra| extra.has_payload_keys())
        .unwrap_or(&record);
    let tenant = payload.tenant().or_else(|| record.tenant());
    *payload.to_event(
        ts,
        Kind::parse(&printable_cow(kind)),
        tenant,
        &record,
        origin,
        names,
    )
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // NUL padding (a preallocated or crash-cut log file) is not part of the line.
    let bytes = bytes.trim_ascii();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| *b != 0)
        .map_or(start, |at| at + 1);
    bytes[start..end].trim_ascii()
}

/// Strips `kubectl logs --prefix` and `--timestamps` prefixes (in either order), returning the
/// rest of the line, the kubectl timestamp and the `pod/NAME/CONTAINER` prefix if there were
/// any. The pod prefixes of `known` (each one met before) are tried first: a line of a known
/// pod needs no search for its `]`.
fn strip_kubectl_prefixes<'a>(
    mut line: &'a [u8],
    known: &[KnownPod],
) -> (&'a [u8], Option<Timestamp>, Option<PodPrefix<'a>>) {
    let mut kubectl_ts = None;
    let mut pod = None;
    for _ in 0..2 {
        if line.first() == Some(&b'[') {
            let rest = &line[1..];
            let met = known.iter().position(|(prefix, ..)| {
                // The last eight bytes first (a pod's own suffix, or its container): the other
                // pods' prefixes are told apart without comparing them whole; the one that
                // matches is compared by words, not by a `memcmp` call.
                let end = prefix.len();
                rest.get(end..end + 2) == Some(b"] ")
                    && (end < 8 || scan::word_at(rest, end - 8) == scan::word_at(prefix, end - 8))
                    && scan::same_bytes(&rest[..end], prefix)
            });
            if let Some(index) = met {
                pod = Some(PodPrefix::Known(index));
                line = &rest[known[index].0.len() + 2..];
                continue;
            }
            // `[pod/NAME/CONTAINER] ` — names never hold `]` or spaces.
            if let Some(end) = memchr::memchr(b']', line) {
                let name = &line[1..end];
                if line.get(end + 1) == Some(&b' ') && !name.contains(&b' ') && name.contains(&b'/')
                {
                    pod = Some(PodPrefix::New(name));
                    line = &line[end + 2..];
                    continue;
                }
            }
        }
        if line.len() > 20 && line[0].is_ascii_digit() && line[4] == b'-' && line[10] == b'T' {
            let head = &line[..line.len().min(48)];
            if let Some(space) = memchr::memchr(b' ', head) {
                let parsed = std::str::from_utf8(&line[..space])
                    .ok()
                    .and_then(|text| DateTime::parse_from_rfc3339(text).ok());
                if let Some(datetime) = parsed {
                    kubectl_ts = Some(Timestamp::from_datetime(datetime.with_timezone(&Utc)));
                    line = &line[space + 1..];
                    continue;
                }
            }
        }
        break;
    }
    (line, kubectl_ts, pod)
}

/// A Unix time in seconds as PenguiFlow writes it; milliseconds or microseconds since the
/// epoch (as some formatters write) are told apart by their size.
fn epoch_number(value: f64) -> Option<Timestamp> {
    let seconds = match value.abs() {
        v if v < 1e11 => value,
        v if v < 1e14 => value / 1e3,
        v if v < 1e17 => value / 1e6,
        _ => return None,
    };
    Timestamp::from_unix_seconds(seconds)
}

/// Where the first byte a JSON string must escape is (a quote, a backslash or a control
/// character), `None` when there is none: the scanner's search, sixteen bytes at a time, for
/// the writers of JSON text.
pub fn json_special_byte(bytes: &[u8]) -> Option<usize> {
    scan::special_byte(bytes)
}

/// Parses the timestamp texts found in the wild: RFC 3339 / ISO 8601 with or without offset
/// (no offset means UTC), Python's `asctime` (`2026-11-25 08:42:52,123`), or Unix seconds.
pub fn parse_timestamp_text(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(datetime) = DateTime::parse_from_rfc3339(text) {
        return Some(Timestamp::from_datetime(datetime.with_timezone(&Utc)));
    }
    if let Ok(number) = text.parse::<f64>() {
        return epoch_number(number);
    }
    const NAIVE_FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S,%3f",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ];
    for format in NAIVE_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Timestamp::from_datetime(naive.and_utc()));
        }
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date
            .and_hms_opt(0, 0, 0)
            .map(|midnight| Timestamp::from_datetime(midnight.and_utc()));
    }
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%z")
        .ok()
        .map(|datetime| Timestamp::from_datetime(datetime.with_timezone(&Utc)))
}

fn is_unprintable(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || ('\u{80}'..='\u{9f}').contains(&c)
}

/// Control characters are below 0x20 or 0x7f, C1 ones start with 0xc2.
fn has_suspicious_bytes(text: &str) -> bool {
    // Eight bytes at a time (names and ids are tens of bytes, on every event).
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let bytes = text.as_bytes();
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let flagged = (word.wrapping_sub(ONES * 0x20) & !word & HIGHS)
            | zero_byte(word ^ (ONES * 0x7f))
            | zero_byte(word ^ (ONES * 0xc2));
        if flagged != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == 0x7f || b == 0xc2)
}

/// `text` without control characters, borrowed when it has none (the usual case).
fn printable_cow(text: &str) -> Cow<'_, str> {
    if has_suspicious_bytes(text) && text.chars().any(is_unprintable) {
        Cow::Owned(printable(text))
    } else {
        Cow::Borrowed(text)
    }
}

fn printable(text: &str) -> String {
    if has_suspicious_bytes(text) && text.chars().any(is_unprintable) {
        text.chars()
            .map(|c| if is_unprintable(c) { '\u{fffd}' } else { c })
            .collect()
    } else {
        text.to_string()
    }
}

/// A JSON value of a field whose type varies between producers: numbers may come as strings,
/// ids as numbers. Objects and arrays are skipped without allocating.
#[derive(Debug, Clone, Default, PartialEq)]
enum Flex<'a> {
    #[default]
    Absent,
    Null,
    Str(Cow<'a, str>),
    Float(f64),
    Int(i64),
    Bool(bool),
    Composite,
}

impl<'a> Flex<'a> {
    fn is_present(&self) -> bool {
        !matches!(self, Flex::Absent)
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Flex::Str(text) if !text.is_empty() => Some(text),
            _ => None,
        }
    }

    /// The value as text. Control characters other than newlines and tabs become U+FFFD: log
    /// content is untrusted and must not drive the terminal (colors, titles) when printed.
    #[inline]
    fn to_text(&self) -> Option<String> {
        // Three fields a line ask, and nearly always find nothing: answered here, not in a call.
        if let Flex::Absent = self {
            return None;
        }
        self.to_text_present()
    }

    fn to_text_present(&self) -> Option<String> {
        match self {
            Flex::Str(text) if !text.is_empty() => Some(printable(text)),
            Flex::Int(number) => Some(number.to_string()),
            Flex::Float(number) => Some(number.to_string()),
            _ => None,
        }
    }

    /// The value as a shared name (see `to_text`).
    fn to_name(&self, names: &mut Names) -> Option<Name> {
        self.to_name_with(names, Names::get)
    }

    /// The value as the name of a field with few values (see `Names::get_few`).
    fn to_few_name(&self, names: &mut Names) -> Option<Name> {
        self.to_name_with(names, Names::get_few)
    }

    fn to_name_with(
        &self,
        names: &mut Names,
        get: impl FnOnce(&mut Names, &str) -> Name,
    ) -> Option<Name> {
        match self {
            Flex::Str(text) if !text.is_empty() => {
                // A name met before needs no check: it was made from this very text.
                if let Some(name) = names.cached(text) {
                    return Some(name);
                }
                if !has_suspicious_bytes(text) {
                    return Some(get(names, text));
                }
                self.to_text().map(Name::from)
            }
            other => other.to_text().map(Name::from),
        }
    }

    /// Floats as most producers write them inline (`latency_ms`, and two absent fields a
    /// line); the rest apart.
    #[inline]
    fn to_f64(&self) -> Option<f64> {
        match self {
            Flex::Float(number) => number.is_finite().then_some(*number),
            Flex::Absent => None,
            other => other.to_f64_otherwise(),
        }
    }

    fn to_f64_otherwise(&self) -> Option<f64> {
        let value = match self {
            Flex::Float(number) => *number,
            Flex::Int(number) => *number as f64,
            Flex::Str(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        value.is_finite().then_some(value)
    }

    /// Whole numbers as most producers write them inline (eight fields a line); the rest
    /// apart.
    #[inline]
    fn to_i64(&self) -> Option<i64> {
        match self {
            Flex::Int(number) => Some(*number),
            Flex::Absent => None,
            other => other.to_i64_otherwise(),
        }
    }

    fn to_i64_otherwise(&self) -> Option<i64> {
        match self {
            Flex::Int(number) => Some(*number),
            Flex::Float(number) if number.fract() == 0.0 && number.abs() < 9.0e15 => {
                Some(*number as i64)
            }
            Flex::Str(text) => {
                let text = text.trim();
                text.parse()
                    .ok()
                    .or_else(|| Flex::Float(text.parse().ok()?).to_i64())
            }
            _ => None,
        }
    }

    #[inline]
    fn to_bool(&self) -> Option<bool> {
        match self {
            Flex::Bool(value) => Some(*value),
            Flex::Absent => None,
            other => other.to_bool_otherwise(),
        }
    }

    fn to_bool_otherwise(&self) -> Option<bool> {
        match self {
            Flex::Bool(value) => Some(*value),
            Flex::Int(number) => Some(*number != 0),
            Flex::Str(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    fn to_timestamp(&self) -> Option<Timestamp> {
        match self {
            Flex::Str(text) => parse_timestamp_text(text),
            other => epoch_number(other.to_f64()?),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Flex<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlexVisitor;
        impl<'de> Visitor<'de> for FlexVisitor {
            type Value = Flex<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Flex::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Flex::Null)
            }
            fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
                Ok(Flex::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
                Ok(Flex::Int(value))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(value).map_or(Flex::Float(value as f64), Flex::Int))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
                Ok(Flex::Float(value))
            }
            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Flex::Str(Cow::Borrowed(value)))
            }
            fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Flex::Str(Cow::Owned(value.to_string())))
            }
            fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
                Ok(Flex::Str(Cow::Owned(value)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Flex::Composite)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Flex::Composite)
            }
        }
        deserializer.deserialize_any(FlexVisitor)
    }
}

/// An object field that is used only when it really is an object (anything else is ignored).
#[derive(Debug, Default)]
struct Nested<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nested<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NestedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for NestedVisitor<T> {
            type Value = Nested<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|v| Nested(Some(v)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Nested(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Nested(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Nested(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Nested(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Nested(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Nested(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Nested(None))
            }
        }
        deserializer.deserialize_any(NestedVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawHeaders<'a> {
    #[serde(borrow)]
    tenant: Flex<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawFlowError<'a> {
    #[serde(borrow)]
    code: Flex<'a>,
    #[serde(borrow)]
    message: Flex<'a>,
    #[serde(borrow)]
    exception_type: Flex<'a>,
}

impl RawFlowError<'_> {
    fn to_flow_error(&self) -> FlowError {
        FlowError {
            code: self.code.to_text(),
            message: self.message.to_text(),
            exception_type: self.exception_type.to_text(),
        }
    }
}

/// The fields flowtrace reads from any shape; the payload's keys, plus the envelope keys that
/// formatters add. Unknown keys are skipped by serde without being materialized.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRecord<'a> {
    #[serde(borrow)]
    event: Flex<'a>,
    #[serde(borrow)]
    message: Flex<'a>,
    #[serde(borrow)]
    msg: Flex<'a>,
    #[serde(borrow)]
    ts: Flex<'a>,
    #[serde(borrow)]
    timestamp: Flex<'a>,
    #[serde(borrow)]
    asctime: Flex<'a>,
    #[serde(borrow)]
    time: Flex<'a>,
    #[serde(borrow)]
    node_name: Flex<'a>,
    #[serde(borrow)]
    node_id: Flex<'a>,
    #[serde(borrow)]
    trace_id: Flex<'a>,
    #[serde(borrow)]
    tenant: Flex<'a>,
    #[serde(borrow)]
    latency_ms: Flex<'a>,
    #[serde(borrow)]
    q_depth_in: Flex<'a>,
    #[serde(borrow)]
    q_depth_out: Flex<'a>,
    #[serde(borrow)]
    q_depth_total: Flex<'a>,
    #[serde(borrow)]
    queue_maxsize: Flex<'a>,
    #[serde(borrow)]
    outgoing: Flex<'a>,
    #[serde(borrow)]
    attempt: Flex<'a>,
    #[serde(borrow)]
    trace_pending: Flex<'a>,
    #[serde(borrow)]
    trace_inflight: Flex<'a>,
    #[serde(borrow)]
    trace_cancelled: Flex<'a>,
    #[serde(borrow)]
    exception: Flex<'a>,
    #[serde(borrow)]
    sleep_s: Flex<'a>,
    #[serde(borrow)]
    deadline_s: Flex<'a>,
    #[serde(borrow)]
    remote_agent_url: Flex<'a>,
    #[serde(borrow)]
    remote_skill: Flex<'a>,
    #[serde(borrow)]
    remote_task_id: Flex<'a>,
    #[serde(borrow)]
    remote_error: Flex<'a>,
    #[serde(borrow)]
    flow_error: Nested<RawFlowError<'a>>,
    #[serde(borrow)]
    error_payload: Nested<RawFlowError<'a>>,
    #[serde(borrow)]
    headers: Nested<RawHeaders<'a>>,
    #[serde(borrow)]
    extra: Nested<Box<RawRecord<'a>>>,
    /// Set by the scanner when every text is borrowed from the line and there is no nested
    /// record: nothing to free.
    #[serde(skip)]
    borrowed_only: BorrowedOnly,
}

/// Whether a record owns no memory ([`RawRecord::borrowed_only`]): how it was read, not what
/// it holds, so left out of its `Debug` (the scanner's and serde's records compare equal).
#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct BorrowedOnly(pub(super) bool);

impl fmt::Debug for BorrowedOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("_")
    }
}

impl<'a> RawRecord<'a> {
    /// True when a field holds text of its own (decoded from escapes) or a nested record: what
    /// `borrowed_only` says there is not.
    fn owns_memory(&self) -> bool {
        let mut fields = vec![
            &self.event,
            &self.message,
            &self.msg,
            &self.ts,
            &self.timestamp,
            &self.asctime,
            &self.time,
            &self.node_name,
            &self.node_id,
            &self.trace_id,
            &self.tenant,
            &self.latency_ms,
            &self.q_depth_in,
            &self.q_depth_out,
            &self.q_depth_total,
            &self.queue_maxsize,
            &self.outgoing,
            &self.attempt,
            &self.trace_pending,
            &self.trace_inflight,
            &self.trace_cancelled,
            &self.exception,
            &self.sleep_s,
            &self.deadline_s,
            &self.remote_agent_url,
            &self.remote_skill,
            &self.remote_task_id,
            &self.remote_error,
        ];
        for raw in [&self.flow_error, &self.error_payload] {
            if let Some(raw) = &raw.0 {
                fields.extend([&raw.code, &raw.message, &raw.exception_type]);
            }
        }
        fields.extend(self.headers.0.as_ref().map(|headers| &headers.tenant));
        self.extra.0.is_some()
            || fields
                .iter()
                .any(|field| matches!(field, Flex::Str(Cow::Owned(_))))
    }

    /// Keys every `to_payload()` carries (even when null); one of them marks a FlowEvent apart
    /// from an application log line that merely has an `event` field (structlog, say).
    fn has_payload_keys(&self) -> bool {
        self.q_depth_total.is_present()
            || self.q_depth_in.is_present()
            || self.trace_inflight.is_present()
            || self.node_name.is_present()
            || self.node_id.is_present()
    }

    fn tenant(&self) -> Option<&str> {
        self.tenant
            .as_str()
            .or_else(|| self.headers.0.as_ref().and_then(|h| h.tenant.as_str()))
    }

    fn envelope_timestamp(&self) -> Option<Timestamp> {
        self.timestamp
            .to_timestamp()
            .or_else(|| self.asctime.to_timestamp())
            .or_else(|| self.time.to_timestamp())
    }

    /// The event this payload describes; `envelope` is the whole line (for a structured line,
    /// the object around `extra`).
    fn to_event(
        &self,
        ts: Timestamp,
        kind: Kind,
        tenant: Option<&str>,
        envelope: &RawRecord,
        origin: Origin,
        names: &mut Names,
    ) -> Box<Event> {
        let payload = self;
        let mut event = names.fresh.event(ts, kind, origin);
        event.tenant = tenant.map(|tenant| names.get_few(tenant));
        let hex_trace = match &payload.trace_id {
            Flex::Str(text) if names.finished_by_stream => hex_trace_id(text),
            _ => None,
        };
        match hex_trace {
            Some(bits) => event.set_unnamed_hex_trace(bits),
            None => event.trace_id = payload.trace_id.to_name(names),
        }
        event.node_name = payload.node_name.to_few_name(names);
        event.node_id = payload.node_id.to_few_name(names);
        event.set_latency_ms(payload.latency_ms.to_f64());
        let (q_depth_in, q_depth_out) = (payload.q_depth_in.to_i64(), payload.q_depth_out.to_i64());
        // In `Count::ALL`'s order.
        event.set_counts([
            payload.attempt.to_i64(),
            q_depth_in,
            q_depth_out,
            payload
                .q_depth_total
                .to_i64()
                .or_else(|| q_depth_in?.checked_add(q_depth_out?)),
            payload.queue_maxsize.to_i64(),
            payload.outgoing.to_i64(),
            payload.trace_pending.to_i64(),
            payload.trace_inflight.to_i64(),
        ]);
        event.trace_cancelled = payload.trace_cancelled.to_bool();
        // The payload's `exception` is the short repr; a structured line's top-level one is
        // the whole traceback, used only when the payload has none. A remote call's error
        // (`remote_error`, a repr too) is its exception.
        event.set_exception(
            payload
                .exception
                .to_text()
                .or_else(|| payload.remote_error.to_text())
                .or_else(|| envelope.exception.to_text()),
        );
        event.set_flow_error(
            payload
                .flow_error
                .0
                .as_ref()
                .or(payload.error_payload.0.as_ref())
                .map(RawFlowError::to_flow_error),
        );
        event.set_sleep_s(payload.sleep_s.to_f64());
        event.set_deadline_s(payload.deadline_s.to_f64());
        if event.kind.is_remote() {
            let remote = RemoteCall {
                remote_agent_url: payload.remote_agent_url.to_text(),
                remote_skill: payload.remote_skill.to_text(),
                remote_task_id: payload.remote_task_id.to_text(),
            };
            event.set_remote((remote != RemoteCall::default()).then_some(remote));
        }
        event
    }

    fn to_decoded(
        &self,
        kubectl_ts: Option<Timestamp>,
        origin: Origin,
        names: &mut Names,
    ) -> Decoded {
        let extra = self.extra.0.as_deref();
        // Telemetry about lost telemetry: counted, never taken for a FlowEvent.
        let said = extra
            .and_then(|extra| extra.event.as_str())
            .or_else(|| self.event.as_str())
            .or_else(|| self.message.as_str());
        match said {
            Some("state_store_save_failed") => {
                return Decoded::Skipped(SkipReason::StoreSaveFailed);
            }
            Some("middleware_error") => return Decoded::Skipped(SkipReason::MiddlewareError),
            _ => {}
        }
        // Structured shape: the payload is `extra`, the event type is `extra.event` or `message`.
        let structured = extra.filter(|extra| extra.has_payload_keys());
        let (payload, kind_text) = match structured {
            Some(extra) => (
                extra,
                extra
                    .event
                    .as_str()
                    .or_else(|| self.message.as_str())
                    .or_else(|| self.msg.as_str()),
            ),
            None => (self, self.event.as_str()),
        };
        let tenant = payload
            .tenant()
            .or_else(|| self.tenant())
            .or_else(|| extra.and_then(RawRecord::tenant));
        let ts = payload
            .ts
            .to_timestamp()
            .or_else(|| self.ts.to_timestamp())
            .or_else(|| self.envelope_timestamp())
            .or(kubectl_ts);

        let Some(kind_text) = kind_text.filter(|_| payload.has_payload_keys()) else {
            // Not a FlowEvent; still useful when it ties a trace to a tenant (ingress lines).
            let trace_id = self
                .trace_id
                .to_text()
                .or_else(|| extra.and_then(|e| e.trace_id.to_text()));
            return match (trace_id, tenant) {
                (Some(trace_id), Some(tenant)) => Decoded::TraceTenant {
                    ts,
                    trace_id,
                    tenant: printable(tenant),
                },
                _ => Decoded::Skipped(SkipReason::NotFlowEvent),
            };
        };
        let Some(ts) = ts else {
            return Decoded::Skipped(SkipReason::NotFlowEvent);
        };

        let event = payload.to_event(
            ts,
            // A kind PenguiFlow writes is printable already; another is made so, as a name
            // made once (a service's own kinds recur on the lines it writes, and a name the
            // trace book keeps must not hold a decoding thread's memory).
            Kind::known(kind_text).unwrap_or_else(|| Kind::Other(names.get_few(kind_text))),
            tenant,
            self,
            origin,
            names,
        );
        Decoded::Event(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so failures reproduce; shared with the
    /// scanner's tests.
    pub(super) struct Random(pub(super) u64);

    impl Random {
        pub(super) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        pub(super) fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn decode(line: &str) -> Decoded {
        decode_line(line.as_bytes(), "test.log", 7, &mut Names::default())
    }

    fn event(line: &str) -> Event {
        match decode(line) {
            Decoded::Event(event) => *event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    const FLAT: &str = r#"{"ts": 1764060172.5, "event": "node_success", "node_name": "retrieve", "node_id": "ab12", "trace_id": "t1", "latency_ms": 12.5, "q_depth_in": 3, "q_depth_out": 1, "q_depth_total": 4, "outgoing": 1, "queue_maxsize": 64, "attempt": 0, "trace_inflight": 1, "trace_cancelled": false, "trace_pending": 2, "tenant": "acme", "level": "INFO"}"#;

    #[test]
    fn a_record_is_borrowed_only_when_it_owns_nothing() {
        let structured = r#"{"message": "node_success", "ts": 1764060172.5, "extra": {"event": "node_success", "node_name": "a", "q_depth_in": 1}}"#;
        let escaped = FLAT.replace(
            r#""level": "INFO""#,
            r#""exception": "Traceback\nValueError: x""#,
        );
        let cases = [(FLAT, true), (escaped.as_str(), false), (structured, false)];
        let mut layouts = scan::Layouts::default();
        // Twice: the second time each line is read through the layout its first time learned.
        for _ in 0..2 {
            for (line, borrowed_only) in cases {
                let mut record = RawRecord::default();
                assert!(scan::scan_record(line, &mut layouts, &mut record), "{line}");
                assert_eq!(record.borrowed_only.0, borrowed_only, "{line}");
                assert_eq!(record.owns_memory(), !borrowed_only, "{line}");
            }
        }
    }

    /// Every fixture line, and mutations of them (cut, a byte changed, a key repeated).
    /// Returns the lines and how many of them (the first ones) are fixture lines as captured.
    fn lines_and_mutations() -> (Vec<String>, usize) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut lines = Vec::new();
        for shape in ["incident", "saturation", "remote"] {
            for entry in std::fs::read_dir(format!("{dir}/{shape}")).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "jsonl" || e == "log") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    lines.extend(text.lines().map(str::to_string));
                }
            }
        }
        let captured = lines.len();
        let mut generator = Random(0x2545_f491_4f6c_dd1d);
        let mut random = |below: usize| generator.below(below);
        let swaps = b"{}[]:,\"\\ -0123456789.eEtfnul\x01a\xc3";
        let mut mutated = Vec::new();
        for line in lines.iter().step_by(3) {
            let bytes = line.as_bytes();
            mutated.push(String::from_utf8_lossy(&bytes[..random(bytes.len())]).into_owned());
            for _ in 0..4 {
                let mut changed = bytes.to_vec();
                let at = random(changed.len());
                changed[at] = swaps[random(swaps.len())];
                mutated.push(String::from_utf8_lossy(&changed).into_owned());
            }
            if let Some(comma) = line.find(", \"") {
                let key_end = line[comma + 3..].find('"').map_or(0, |e| comma + 3 + e + 1);
                mutated
                    .push(format!("{}{}", &line[..line.len() - 1], &line[comma..key_end]) + ": 1}");
            }
        }
        lines.extend(mutated);
        // Objects made of random JSON-ish tokens: nesting, numbers and literals in odd places.
        let tokens = [
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "\"ts\"",
            "\"extra\"",
            "\"flow_error\"",
            "\"headers\"",
            "\"node_name\"",
            "\"event\"",
            "\"a\\\"b\"",
            "1",
            "-0",
            "1.5e3",
            "-",
            "01",
            "true",
            "nul",
            "null",
            " ",
            "\"\u{e9}\"",
            "9999999999999999999",
        ];
        for _ in 0..3000 {
            let mut text = String::from("{");
            for _ in 0..random(24) {
                text.push_str(tokens[random(tokens.len())]);
            }
            lines.push(text);
        }
        lines.extend(
            [
                r#"{"ts": -0, "event": "node_start", "node_name": "a"}"#,
                r#"{"ts": 1e400, "event": "node_start", "node_name": "a"}"#,
                r#"{"ts": 12345678901234567890, "event": "x", "node_id": "a"}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "extra": {"extra": {}}}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "ts": 2}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a"} x"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "z": [1, {"b": [true, null]}]}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "z": [1,]}"#,
                r#"{"ts": 01, "event": "node_start", "node_name": "a"}"#,
                r#"{"flow_error": {"code": "X", "code": "Y"}, "node_name": "a"}"#,
                r#"{"headers": [1], "flow_error": "text", "node_name": "a", "event": "e", "ts": 1}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "exc_info": "T\n  \"x\" \u00e9\ud800 \/\\ \b\f\r\t"}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "exc_info": "\x"}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "exc_info": "\u12g4"}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "exc_info": "\u12"}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "exc_info": "a\"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a\n", "exc_info": "a\n"}"#,
                r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "flow_error": {"code": "X", "trace": "a\nb"}, "headers": {"h": "\"q\"", "tenant": "t"}}"#,
            ]
            .map(str::to_string),
        );
        (lines, captured)
    }

    #[test]
    fn the_scanner_agrees_with_serde_wherever_it_answers() {
        let (lines, captured) = lines_and_mutations();
        let mut scanned_captured = 0;
        let mut layout_answers = 0;
        let mut primed = scan::Layouts::default();
        for (index, line) in lines.iter().enumerate() {
            let (json, _, _) = strip_kubectl_prefixes(trim_ascii(line.as_bytes()), &[]);
            let Some(json) = std::str::from_utf8(json).ok() else {
                continue;
            };
            // Read alone (no layout), and after a captured line (its layout): mutations of a
            // line are read through its original's layout whenever the bytes allow.
            let primer = &lines[index % captured.max(1) / 3 * 3];
            let (primer, _, _) = strip_kubectl_prefixes(trim_ascii(primer.as_bytes()), &[]);
            let scan = |json, layout: &mut scan::Layouts| {
                let mut record = RawRecord::default();
                scan::scan_record(json, layout, &mut record).then_some(record)
            };
            std::str::from_utf8(primer)
                .ok()
                .map(|primer| scan(primer, &mut primed));
            let hits = primed.hits;
            let through_layout = scan(json, &mut primed);
            layout_answers += usize::from(primed.hits > hits);
            let alone = scan(json, &mut scan::Layouts::default());
            assert_eq!(
                format!("{through_layout:?}"),
                format!("{alone:?}"),
                "layout and scan differ: {json}"
            );
            let Some(fast) = alone else {
                continue;
            };
            scanned_captured += usize::from(index < captured);
            let reference: RawRecord = serde_json::from_str(json).unwrap_or_else(|error| {
                panic!("serde rejects ({error}) what the scanner took: {json}")
            });
            assert_eq!(format!("{fast:?}"), format!("{reference:?}"), "{json}");
        }
        // The scanner must answer for most real lines, or it is not the fast path; and the
        // layout for most of those.
        assert!(
            scanned_captured * 10 > captured * 8,
            "{scanned_captured} of {captured}"
        );
        assert!(
            layout_answers * 10 > scanned_captured * 5,
            "{layout_answers} through the layout of {scanned_captured}"
        );
    }

    #[test]
    fn escapes_in_values_not_kept_stay_on_the_fast_path() {
        // A traceback under a key flowtrace does not read: serde only checks its escapes.
        let line = r#"{"ts": 1.5, "event": "node_start", "node_name": "a", "exc_info": "T\n  \"x\" \u00e9"}"#;
        let mut record = RawRecord::default();
        assert!(scan::scan_record(
            line,
            &mut scan::Layouts::default(),
            &mut record
        ));
        assert_eq!(record.node_name, Flex::Str(Cow::Borrowed("a")));
        // A kept value with an escape is decoded as serde decodes it; with a `\u` escape it is
        // serde's to decode.
        let kept = r#"{"ts": 1.5, "event": "node_start", "node_name": "a\n"}"#;
        let mut record = RawRecord::default();
        assert!(scan::scan_record(
            kept,
            &mut scan::Layouts::default(),
            &mut record
        ));
        let reference: RawRecord = serde_json::from_str(kept).unwrap();
        assert_eq!(format!("{record:?}"), format!("{reference:?}"));
        assert_eq!(record.node_name, Flex::Str(Cow::Borrowed("a\n")));
        let kept = r#"{"ts": 1.5, "event": "node_start", "node_name": "\u00e9"}"#;
        let mut record = RawRecord::default();
        assert!(!scan::scan_record(
            kept,
            &mut scan::Layouts::default(),
            &mut record
        ));
    }

    #[test]
    fn names_are_shared_and_never_mixed_up() {
        let mut names = Names::default();
        let first = names.get("retrieve");
        assert!(Name::ptr_eq(&first, &names.get("retrieve")));
        // More names than slots: collisions evict, never return another name.
        for i in 0..3 * NAME_SLOTS {
            let text = format!("node-{i}");
            assert_eq!(&*names.get(&text), text);
        }
        assert_eq!(&*names.get("retrieve"), "retrieve");
        // Every length, the short ones read by halves or by bytes: found again, and a text
        // differing in any one byte is never taken for it.
        let alphabet = "abcdefghijklmnopqrstuvwxyz";
        for length in 1..=alphabet.len() {
            let text = &alphabet[..length];
            let name = names.get_few(text);
            assert!(Name::ptr_eq(&name, &names.get_few(text)), "{text}");
            for at in 0..length {
                let mut other = text.as_bytes().to_vec();
                other[at] = b'_';
                let other = String::from_utf8(other).unwrap();
                assert_eq!(&*names.get_few(&other), other);
                assert_eq!(&*names.get_few(text), text);
            }
        }
    }

    #[test]
    fn names_of_few_values_are_one_name_for_every_decoder() {
        let (mut one, mut other) = (Names::default(), Names::default());
        let node = one.get_few("retrieve");
        assert!(Name::ptr_eq(&node, &other.get_few("retrieve")));
        assert_eq!(node, Name::from("retrieve"));
        // Control characters never reach the terminal, whichever way the name was made.
        assert_eq!(&*one.get_few("a\u{1b}[31m"), "a\u{fffd}[31m");
    }

    #[test]
    fn flat_payload() {
        let event = event(FLAT);
        assert_eq!(event.kind, Kind::NodeSuccess);
        assert_eq!(event.ts.to_rfc3339(), "2025-11-25T08:42:52.500000Z");
        assert_eq!(event.trace_id.as_deref(), Some("t1"));
        assert_eq!(event.tenant.as_deref(), Some("acme"));
        assert_eq!(event.latency_ms(), Some(12.5));
        assert_eq!(event.q_depth_total(), Some(4));
        assert_eq!(event.trace_pending(), Some(2));
        assert_eq!(event.origin.to_string(), "test.log:7");
    }

    #[test]
    fn structured_formatter_nests_the_payload_under_extra() {
        let line = r#"{"level": "ERROR", "logger": "penguiflow.core", "message": "node_error", "timestamp": "2025-11-25T08:42:52.500010+00:00", "extra": {"ts": 1764060172.5, "event": "node_error", "node_name": "enrich", "node_id": "x", "trace_id": "t2", "latency_ms": "3.25", "q_depth_in": 0, "q_depth_out": 0, "q_depth_total": 0, "attempt": "1", "trace_inflight": 1, "trace_cancelled": false, "exception": "ValueError('boom')"}, "exception": "Traceback (most recent call last):\n  ...\nValueError: boom"}"#;
        let event = event(line);
        assert_eq!(event.kind, Kind::NodeError);
        assert_eq!(event.ts.to_rfc3339(), "2025-11-25T08:42:52.500000Z");
        assert_eq!(event.latency_ms(), Some(3.25));
        assert_eq!(event.attempt(), Some(1));
        assert_eq!(event.exception(), Some("ValueError('boom')"));
    }

    #[test]
    fn kubectl_prefixes_in_every_combination() {
        let prefix = "[pod/worker-6d5f8b7c9-x2x7q/worker] ";
        let stamp = "2025-11-25T08:42:53.000000001Z ";
        for line in [
            format!("{prefix}{FLAT}"),
            format!("{stamp}{FLAT}"),
            format!("{prefix}{stamp}{FLAT}"),
            format!("{stamp}{prefix}{FLAT}"),
        ] {
            assert_eq!(
                event(&line).node_name.as_deref(),
                Some("retrieve"),
                "{line}"
            );
        }
        assert_eq!(
            decode(&format!(
                "{prefix}{stamp}Traceback (most recent call last):"
            )),
            Decoded::Skipped(SkipReason::NotJson)
        );
    }

    #[test]
    fn the_kubectl_timestamp_is_the_last_resort_for_time() {
        let line = r#"2025-11-25T08:42:53.000000001Z {"event": "node_start", "node_name": "a", "trace_id": "t"}"#;
        assert_eq!(event(line).ts.to_rfc3339(), "2025-11-25T08:42:53.000000Z");
    }

    #[test]
    fn timestamps_in_every_text_form() {
        for text in [
            "2025-11-25T08:42:52.5+00:00",
            "2025-11-25T08:42:52.5Z",
            "2025-11-25T08:42:52.5",
            "2025-11-25 08:42:52,500",
            "2025-11-25 09:42:52.5+01:00",
            "1764060172.5",
        ] {
            let ts = parse_timestamp_text(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(ts.to_rfc3339(), "2025-11-25T08:42:52.500000Z", "{text}");
        }
    }

    #[test]
    fn epoch_numbers_in_seconds_milliseconds_or_microseconds() {
        for ts in ["1764060172.5", "1764060172500", "1764060172500000"] {
            let line = format!(r#"{{"ts": {ts}, "event": "node_start", "node_name": "a"}}"#);
            assert_eq!(
                event(&line).ts.to_rfc3339(),
                "2025-11-25T08:42:52.500000Z",
                "{ts}"
            );
        }
    }

    #[test]
    fn non_events_are_told_apart() {
        assert_eq!(decode("   "), Decoded::Skipped(SkipReason::Blank));
        assert_eq!(
            decode(r#"INFO:     10.0.0.7:51234 - "POST /v1/run HTTP/1.1" 200 OK"#),
            Decoded::Skipped(SkipReason::NotJson)
        );
        assert_eq!(
            decode(r#"{"ts": 1764060172.5, "event": "node_su"#),
            Decoded::Skipped(SkipReason::Malformed)
        );
        // structlog-style application line: an `event` but none of the payload keys.
        assert_eq!(
            decode(
                r#"{"event": "user logged in", "level": "info", "timestamp": "2025-11-25T08:42:52Z"}"#
            ),
            Decoded::Skipped(SkipReason::NotFlowEvent)
        );
        assert_eq!(decode("[1, 2]"), Decoded::Skipped(SkipReason::NotJson));
    }

    #[test]
    fn ingress_lines_tie_a_trace_to_its_tenant() {
        for line in [
            r#"{"message": "request accepted", "trace_id": "t9", "tenant": "acme"}"#,
            r#"{"message": "request accepted", "extra": {"trace_id": "t9", "tenant": "acme"}}"#,
            r#"{"message": "request accepted", "trace_id": "t9", "headers": {"tenant": "acme"}}"#,
        ] {
            match decode(line) {
                Decoded::TraceTenant {
                    trace_id, tenant, ..
                } => assert_eq!((trace_id.as_str(), tenant.as_str()), ("t9", "acme")),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn suspicious_bytes_are_found_as_a_byte_loop_finds_them() {
        let alphabet = [
            b'a', b'Z', b' ', 0x1f, 0x00, 0x7f, 0x7e, 0xc2, 0xc3, 0x80, 0xff, 0x20,
        ];
        let mut random = Random(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let length = random.below(40);
            let bytes: Vec<u8> = (0..length)
                .map(|_| alphabet[random.below(alphabet.len())])
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let expected = text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2);
            assert_eq!(has_suspicious_bytes(&text), expected, "{bytes:?}");
        }
    }

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        let line = r#"{"ts": 1, "event": "node_error", "node_name": "a\u001b[31mred", "trace_id": "t", "exception": "E('\u001b]0;pwned\u0007')"}"#;
        let event = event(line);
        assert_eq!(event.node_name.as_deref(), Some("a\u{fffd}[31mred"));
        assert!(!event.exception().unwrap().contains('\u{1b}'));
        // The tenant (all three places it comes from) and an unknown kind too.
        for line in [
            r#"{"ts": 1, "event": "node\u001b[2Jx", "node_name": "a", "tenant": "ac\u001bme"}"#,
            r#"{"ts": 1, "event": "node\u001b[2Jx", "node_name": "a", "extra": {"node_name": "a", "event": "node\u001b[2Jx", "tenant": "ac\u001bme"}}"#,
            r#"{"ts": 1, "event": "node\u001b[2Jx", "node_name": "a", "headers": {"tenant": "ac\u001bme"}}"#,
        ] {
            let decoded = super::tests::event(line);
            assert_eq!(decoded.tenant.as_deref(), Some("ac\u{fffd}me"), "{line}");
            assert!(!decoded.kind.as_str().contains('\u{1b}'), "{line}");
        }
    }

    #[test]
    fn odd_types_never_fail_the_line() {
        let line = r#"{"ts": "1764060172.5", "event": "node_failed", "node_name": 5, "trace_id": 42, "q_depth_in": [1], "extra": "text", "headers": null, "flow_error": {"code": "NODE_TIMEOUT", "message": "x", "metadata": {"attempt": 2}}, "trace_cancelled": "true"}"#;
        let event = event(line);
        assert_eq!(event.node_name.as_deref(), Some("5"));
        assert_eq!(event.trace_id.as_deref(), Some("42"));
        assert_eq!(event.q_depth_in(), None);
        assert_eq!(event.trace_cancelled, Some(true));
        assert_eq!(
            event.flow_error().unwrap().code.as_deref(),
            Some("NODE_TIMEOUT")
        );
    }

    /// A queue total worked out from depths too large to add is left unknown, not wrapped
    /// to a negative count (nor a panic in a debug build).
    #[test]
    fn a_total_of_depths_too_large_to_add_is_unknown() {
        let line = r#"{"ts": 1764060172.5, "event": "node_start", "node_name": "a", "trace_id": "t1", "q_depth_in": 9223372036854775807, "q_depth_out": 5}"#;
        let too_deep = event(line);
        assert_eq!(too_deep.q_depth_in(), Some(i64::MAX));
        assert_eq!(too_deep.q_depth_total(), None);
        let line = r#"{"ts": 1764060172.5, "event": "node_start", "node_name": "a", "trace_id": "t1", "q_depth_in": 3, "q_depth_out": 5}"#;
        assert_eq!(event(line).q_depth_total(), Some(8));
    }
}
