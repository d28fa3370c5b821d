//! The one event model every stage speaks: `Event`, its `Kind`, its `Timestamp`.
//!
//! Sources decode whatever shape they read into `Event`; filters, analyses and renderers
//! only ever see this type. Field names follow PenguiFlow's `FlowEvent.to_payload()`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// A name or id an event carries (trace, tenant, node): shared, not copied, as the same
/// few names recur on every event. The names of fields with few values (nodes, tenants, pods)
/// are made once for the whole run ([`Name::lasting`]) and copied as plain references: a
/// shared count, bumped by a decoding thread for each event and sitting in the same cache line
/// as the text the analysis thread compares, cost more than the compares.
///
/// One word (`Option<Name>` too): the address of the text's header (its length, and for a
/// shared text the count of names holding it), the text right after it; the address's lowest
/// bit marks a lasting name, never counted nor freed. Events carry six names and a trace's
/// visits two each: every word a name takes shows in every event and in what traces hold.
pub struct Name {
    header: std::ptr::NonNull<NameHeader>,
}

/// What precedes a name's text in its allocation.
#[repr(C)]
struct NameHeader {
    /// Names holding a shared text; unused (zero) for a lasting one.
    holders: std::sync::atomic::AtomicUsize,
    len: usize,
}

/// The lowest bit of a `Name`'s header address (headers are 8-aligned): a lasting name.
const LASTING: usize = 1;

/// Holders of one shared text, at most (as `Arc` does, past it a count could wrap: abort).
const MAX_HOLDERS: usize = isize::MAX as usize;

// SAFETY: a Name's text never changes once made, and its count is atomic.
unsafe impl Send for Name {}
// SAFETY: as above.
unsafe impl Sync for Name {}

/// Names made to last, and their bytes (headers included), at most: past either, and for a name longer than
/// `LASTING_NAME_BYTES`, names are shared and counted instead (freed with their last use), so
/// a log of endless distinct "node names" cannot grow memory without bound.
const LASTING_NAMES: usize = 1 << 16;
const LASTING_BYTES: usize = 4 << 20;
const LASTING_NAME_BYTES: usize = 256;

impl Name {
    /// The name for `text` made once for the run (the same `Name` on every thread), for a
    /// field with few values; `None` for a long name, or once too many were made.
    pub fn lasting(text: &str) -> Option<Name> {
        struct Made {
            /// Each text (a lasting name's, never freed) and its name.
            names: FastMap<&'static str, Name>,
            bytes: usize,
        }
        static MADE: std::sync::Mutex<Option<Made>> = std::sync::Mutex::new(None);
        if text.len() > LASTING_NAME_BYTES {
            return None;
        }
        let mut made = MADE.lock().unwrap_or_else(|poison| poison.into_inner());
        let made = made.get_or_insert_with(|| Made {
            names: FastMap::default(),
            bytes: 0,
        });
        if let Some(name) = made.names.get(text) {
            return Some(name.clone());
        }
        if made.names.len() >= LASTING_NAMES || made.bytes + text.len() > LASTING_BYTES {
            return None;
        }
        let name = Name::made(text, 0, LASTING);
        made.names.insert(name.lasting_text()?, name.clone());
        made.bytes += size_of::<NameHeader>() + text.len();
        Some(name)
    }

    /// The same name (same text at the same place), without comparing the text.
    #[inline]
    pub fn ptr_eq(a: &Name, b: &Name) -> bool {
        a.header == b.header
    }

    pub fn as_str(&self) -> &str {
        self
    }

    /// Made by [`Name::lasting`]: for the whole run, never freed.
    #[inline]
    pub fn is_lasting(&self) -> bool {
        self.header.as_ptr().addr() & LASTING != 0
    }

    /// The text of a name made to last ([`Name::lasting`]), which is never freed.
    pub fn lasting_text(&self) -> Option<&'static str> {
        // SAFETY: a lasting name's allocation is never freed (`Name::lasting`).
        self.is_lasting()
            .then(|| unsafe { &*std::ptr::from_ref::<str>(self.as_str()) })
    }

    /// The layout of a name's allocation: its header, then `len` bytes of text.
    fn layout(len: usize) -> std::alloc::Layout {
        std::alloc::Layout::new::<NameHeader>()
            .extend(std::alloc::Layout::array::<u8>(len).expect("a str's length fits"))
            .expect("a str's length fits")
            .0
    }

    /// A new allocation holding `text`, with `holders` and the address's `tag`.
    fn made(text: &str, holders: usize, tag: usize) -> Name {
        let layout = Name::layout(text.len());
        // SAFETY: the layout is never zero-sized (it holds the header); the header and the
        // text are written before the name is used, each inside the allocation.
        unsafe {
            let raw = std::alloc::alloc(layout).cast::<NameHeader>();
            let Some(header) = std::ptr::NonNull::new(raw) else {
                std::alloc::handle_alloc_error(layout)
            };
            header.as_ptr().write(NameHeader {
                holders: std::sync::atomic::AtomicUsize::new(holders),
                len: text.len(),
            });
            let bytes = header.as_ptr().add(1).cast::<u8>();
            std::ptr::copy_nonoverlapping(text.as_ptr(), bytes, text.len());
            Name {
                header: header.map_addr(|address| address | tag),
            }
        }
    }

    #[inline]
    fn header(&self) -> &NameHeader {
        // SAFETY: the header of a live allocation: a lasting one is never freed, and a shared
        // one lives while any name holds it, this one among them.
        unsafe { &*self.header.as_ptr().map_addr(|address| address & !LASTING) }
    }

    /// Holders of a shared name's text (tests: each clone holds one, each drop gives it back).
    #[cfg(test)]
    fn holders(&self) -> usize {
        self.header()
            .holders
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Clone for Name {
    #[inline]
    fn clone(&self) -> Name {
        if !self.is_lasting() {
            let before = self
                .header()
                .holders
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if before > MAX_HOLDERS {
                std::process::abort();
            }
        }
        Name {
            header: self.header,
        }
    }
}

impl Drop for Name {
    #[inline]
    fn drop(&mut self) {
        use std::sync::atomic::{Ordering, fence};
        if self.is_lasting() || self.header().holders.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // The last holder: every other holder's use of the text happened before (as `Arc`).
        fence(Ordering::Acquire);
        let layout = Name::layout(self.header().len);
        // SAFETY: made by `Name::made` with this layout, and no name holds it any more.
        unsafe { std::alloc::dealloc(self.header.as_ptr().cast::<u8>(), layout) };
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        // From the allocation's pointer, not from a reference to the header (which would
        // cover the header's bytes only).
        let header = self.header.as_ptr().map_addr(|address| address & !LASTING);
        // SAFETY: the text right after the header, `len` bytes of a `str`, alive as long as
        // the header is (see `header`).
        unsafe {
            let bytes = header.add(1).cast::<u8>();
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(bytes, (*header).len))
        }
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self
    }
}

impl std::borrow::Borrow<str> for Name {
    #[inline]
    fn borrow(&self) -> &str {
        self
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        if Name::ptr_eq(self, other) {
            return true;
        }
        // One lasting name per text: another place is another text.
        !(self.is_lasting() && other.is_lasting()) && **self == **other
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::hash::Hash for Name {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name::made(text, 1, 0)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name::from(text.as_str())
    }
}

impl From<Box<str>> for Name {
    fn from(text: Box<str>) -> Name {
        Name::from(&*text)
    }
}

impl From<Arc<str>> for Name {
    fn from(text: Arc<str>) -> Name {
        Name::from(&*text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::from(text.as_str())
    }
}

/// A map hashed with a fast hasher (not DoS-resistant, which a log reader does not need):
/// analyses look one up for every event.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A `FastMap` keyed by names.
pub type NameMap<V> = FastMap<Name, V>;

/// The index of `name` among a few `entries` keyed by names: the shared pointer is compared
/// first (the decoder hands out one `Name` per distinct value it meets), the text only when
/// that fails. For the handful of nodes, tenants or pods an analysis keys per event.
pub fn position_of<V>(entries: &[(Name, V)], name: &str) -> Option<usize> {
    entries
        .iter()
        .position(|(known, _)| std::ptr::eq(known.as_ptr(), name.as_ptr()))
        .or_else(|| entries.iter().position(|(known, _)| &**known == name))
}

mod named;
mod tracemap;
pub use named::{HexTraceNames, NameIds, NameSlots};
pub use tracemap::{TraceKey, TraceMap};

/// A UTC instant with microsecond precision, stored as microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// From Unix seconds as PenguiFlow writes them (`time.time()`), rounded to the microsecond.
    pub fn from_unix_seconds(seconds: f64) -> Option<Timestamp> {
        // Reject NaN/inf and values outside the years chrono can represent.
        if !seconds.is_finite() || seconds.abs() > 1.0e11 {
            return None;
        }
        Some(Timestamp((seconds * 1_000_000.0).round() as i64))
    }

    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp::from_datetime(Utc::now())
    }

    pub fn from_datetime(datetime: DateTime<Utc>) -> Timestamp {
        Timestamp(datetime.timestamp_micros())
    }

    pub fn as_unix_seconds(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }

    /// RFC 3339 in UTC with exactly six fractional digits, e.g. `2026-11-25T08:42:52.123456Z`.
    pub fn to_rfc3339(self) -> String {
        match self.rfc3339_in(&mut [0; RFC3339_BYTES]) {
            Some(text) => text.to_string(),
            None => self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::Micros, true),
        }
    }

    /// Hands `f` the RFC 3339 text (`to_rfc3339`), on the stack for years 0 to 9999.
    pub fn with_rfc3339<R>(self, f: impl FnOnce(&str) -> R) -> R {
        match self.rfc3339_in(&mut [0; RFC3339_BYTES]) {
            Some(text) => f(text),
            None => f(&self.to_rfc3339()),
        }
    }

    /// `to_rfc3339` written into `out`, for years 0 to 9999 (`None` for others: chrono writes
    /// those, with a sign and more digits). Every report writes two or more times per trace
    /// or event, and chrono's formatter took about 1,200 instructions a time.
    fn rfc3339_in(self, out: &mut [u8; RFC3339_BYTES]) -> Option<&str> {
        let seconds = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = seconds.div_euclid(86_400);
        let second_of_day = seconds.rem_euclid(86_400);
        // Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
        // `civil_from_days`): eras of 400 years from 0000-03-01.
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 {
            month_from_march + 3
        } else {
            month_from_march - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        if !(0..=9999).contains(&year) {
            return None;
        }
        // Two digits at a time, from a table (a digit at a time was a division each, 26 a
        // time: `traces` writes two times a row, half a million at 1 GiB).
        let mut pair = |at: usize, value: i64| {
            let digits = &DIGIT_PAIRS[value as usize * 2..][..2];
            out[at..at + 2].copy_from_slice(digits);
        };
        pair(0, year / 100);
        pair(2, year % 100);
        pair(5, month);
        pair(8, day);
        pair(11, second_of_day / 3600);
        pair(14, second_of_day / 60 % 60);
        pair(17, second_of_day % 60);
        pair(20, micros / 10_000);
        pair(22, micros / 100 % 100);
        pair(24, micros % 100);
        for (at, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            out[at] = separator;
        }
        out[19] = b'.';
        out[26] = b'Z';
        std::str::from_utf8(out).ok()
    }

    /// Milliseconds from `earlier` to `self` (negative when `self` is earlier).
    pub fn millis_since(self, earlier: Timestamp) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1000.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
const RFC3339_BYTES: usize = 27;

/// `00` to `99`, two bytes each.
static DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut value = 0;
    while value < 100 {
        pairs[value * 2] = b'0' + (value / 10) as u8;
        pairs[value * 2 + 1] = b'0' + (value % 10) as u8;
        value += 1;
    }
    pairs
};

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_rfc3339(|text| serializer.serialize_str(text))
    }
}

macro_rules! kinds {
    ($($variant:ident => $name:literal,)*) => {
        /// The event type (`FlowEvent.event_type`). Unknown kinds are kept as `Other`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $($variant,)*
            /// Kept as a name: 16 bytes with the tag, where a `String` took 24.
            Other(Name),
        }

        impl Kind {
            /// Every known kind, in the order PenguiFlow documents them.
            pub const KNOWN: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The kind PenguiFlow writes as `name`; `None` for another.
            pub fn known(name: &str) -> Option<Kind> {
                match name {
                    $($name => Some(Kind::$variant),)*
                    _ => None,
                }
            }

            pub fn parse(name: &str) -> Kind {
                Kind::known(name).unwrap_or_else(|| Kind::Other(Name::from(name)))
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $(Kind::$variant => $name,)*
                    Kind::Other(name) => name,
                }
            }
        }
    };
}

kinds! {
    NodeStart => "node_start",
    NodeSuccess => "node_success",
    NodeTimeout => "node_timeout",
    NodeError => "node_error",
    NodeRetry => "node_retry",
    NodeFailed => "node_failed",
    DeadlineSkip => "deadline_skip",
    TraceCancelStart => "trace_cancel_start",
    TraceCancelDrop => "trace_cancel_drop",
    NodeTraceCancelled => "node_trace_cancelled",
    TraceCancelFinish => "trace_cancel_finish",
    NodeCancelled => "node_cancelled",
    RemoteCallStart => "remote_call_start",
    RemoteCallSuccess => "remote_call_success",
    RemoteCallError => "remote_call_error",
    RemoteCallCancelled => "remote_call_cancelled",
    RemoteCancelError => "remote_cancel_error",
    RemoteStreamEvent => "remote_stream_event",
}

impl Kind {
    /// The remote-call kinds (`RemoteNode`, PenguiFlow's `remote.py`): steps inside an attempt
    /// of their node, between its `node_start` and the event that ends the attempt, never the
    /// start or the end of one. They carry `attempt` 0 whatever the node's attempt.
    pub fn is_remote(&self) -> bool {
        matches!(
            self,
            Kind::RemoteCallStart
                | Kind::RemoteCallSuccess
                | Kind::RemoteCallError
                | Kind::RemoteCallCancelled
                | Kind::RemoteCancelError
                | Kind::RemoteStreamEvent
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The structured error PenguiFlow attaches to `node_failed` (`flow_error`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FlowError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub exception_type: Option<String>,
}

/// What a `remote_*` event says of its call beyond the payload's usual keys: the remote agent
/// (`remote_agent_url`), the skill called (`remote_skill`) and the remote task
/// (`remote_task_id`, known once the agent reported it): where to look on the agent's side.
/// The call's error (`remote_error`) is read as the event's `exception`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RemoteCall {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_agent_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_skill: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_task_id: Option<String>,
}

/// Where an event was read: a line of an input, or a row of an event store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Line { input: InputName, line: u64 },
    StoreRow { store: InputName, id: i64 },
}

/// The name of an input or event store as its events carry it: made once for the whole run
/// ([`input_name`]), so each event holds a plain reference, not a shared pointer whose count
/// every decoding thread would bump for every event.
pub type InputName = &'static str;

/// The [`InputName`] of `name`: the same one each time (a run reads a few inputs; a follow
/// that reopens a rotated file asks again for the same name).
pub fn input_name(name: &str) -> InputName {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some(known) = names.iter().find(|known| **known == name) {
        return known;
    }
    let made: &'static str = Box::leak(name.into());
    names.push(made);
    made
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line { input, line } => write!(f, "{input}:{line}"),
            Origin::StoreRow { store, id } => write!(f, "{store}#{id}"),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One normalized PenguiFlow runtime event, as a compact record: the analyses read the
/// first cache lines of every event (time, keys, trace, node, tenant, counts, latency), and
/// the texts few events carry (exception, flow error, retry and deadline times, remote call)
/// sit behind one pointer, a name is one word and the latency and trace id's bits need no
/// `Option` word: an event is 208 bytes on its way between threads, not 416.
///
/// Serializes to the JSON event form documented in the README (field names of
/// `FlowEvent.to_payload()`, `ts` as RFC 3339, plus `tenant` and `source`).
/// Laid out as declared (`repr(C)`).
#[derive(Clone)]
#[repr(C)]
pub struct Event {
    pub ts: Timestamp,
    /// The trace id as 128 bits ([`EventKeys`]), once `keys` says it is made and hex: keys are
    /// made where the event is decoded (on the decoding threads) so the one thread that
    /// orders events does not read ids for each.
    hex_trace: [u64; 2],
    pub kind: Kind,
    pub trace_id: Option<Name>,
    pub tenant: Option<Name>,
    pub node_name: Option<Name>,
    pub node_id: Option<Name>,
    /// The payload's counts ([`Count`]), each meaningful when its bit of `counted` is set.
    counts: [i64; Count::ALL.len()],
    /// `latency_ms`, meaningful when `timed`.
    latency: f64,
    /// The pod and container of a `kubectl logs --prefix` line (null otherwise): each pod is
    /// its own runtime, with queues of its own.
    pub pod: Option<Name>,
    pub container: Option<Name>,
    /// What few events carry; `None` when none of it is set.
    rare: Option<Box<RareFields>>,
    pub origin: Origin,
    /// The bits of `counts` that are set.
    counted: u8,
    /// Whether the keys are made, and the trace id hex ([`KeysMade`]).
    keys: KeysMade,
    timed: bool,
    pub trace_cancelled: Option<bool>,
    /// The decoding thread that filled the event's box, which gets it back.
    pub maker: recycled::Maker,
}

/// The counts a FlowEvent payload carries, each an integer or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Attempt,
    QDepthIn,
    QDepthOut,
    QDepthTotal,
    QueueMaxsize,
    /// The node's outgoing edges (its successors, the egress included for a sink).
    Outgoing,
    TracePending,
    TraceInflight,
}

impl Count {
    pub const ALL: [Count; 8] = [
        Count::Attempt,
        Count::QDepthIn,
        Count::QDepthOut,
        Count::QDepthTotal,
        Count::QueueMaxsize,
        Count::Outgoing,
        Count::TracePending,
        Count::TraceInflight,
    ];
}

/// An event's fields that most events lack (boxed: only failures, retries, deadline skips
/// and remote calls have any).
#[derive(Debug, Clone, PartialEq, Default)]
struct RareFields {
    exception: Option<String>,
    flow_error: Option<FlowError>,
    sleep_s: Option<f64>,
    deadline_s: Option<f64>,
    remote: Option<RemoteCall>,
}

const NO_RARE_FIELDS: RareFields = RareFields {
    exception: None,
    flow_error: None,
    sleep_s: None,
    deadline_s: None,
    remote: None,
};

/// An event as it is printed and compared: its fields by their payload names.
#[derive(Debug, PartialEq, Serialize)]
struct EventFields<'a> {
    ts: Timestamp,
    #[serde(rename = "event")]
    kind: &'a Kind,
    trace_id: &'a Option<Name>,
    tenant: &'a Option<Name>,
    node_name: &'a Option<Name>,
    node_id: &'a Option<Name>,
    attempt: Option<i64>,
    latency_ms: Option<f64>,
    q_depth_in: Option<i64>,
    q_depth_out: Option<i64>,
    q_depth_total: Option<i64>,
    queue_maxsize: Option<i64>,
    outgoing: Option<i64>,
    trace_pending: Option<i64>,
    trace_inflight: Option<i64>,
    trace_cancelled: Option<bool>,
    pod: &'a Option<Name>,
    container: &'a Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exception: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_error: &'a Option<FlowError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sleep_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deadline_s: Option<f64>,
    /// Serialized as the payload's flat `remote_*` keys.
    #[serde(flatten)]
    remote: &'a Option<RemoteCall>,
    #[serde(rename = "source")]
    origin: &'a Origin,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields().serialize(serializer)
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.fields() == other.fields()
    }
}

/// Its fields as they are compared (a cleared count or field shows as absent, whatever its
/// storage holds), and the keys made ahead: tests compare the decoders' keys through it.
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex_trace =
            matches!(self.keys, KeysMade::Hex | KeysMade::HexUnnamed).then_some(self.hex_trace);
        f.debug_struct("Event")
            .field("fields", &self.fields())
            .field("keys", &self.keys)
            .field("hex_trace", &hex_trace)
            .finish()
    }
}

/// What identifies an event's trace, derived from its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKeys {
    /// The trace id as 128 bits, when it is 32 lowercase hex digits ([`hex_trace_id`]).
    pub hex_trace: Option<[u64; 2]>,
}

impl EventKeys {
    pub fn of(event: &Event) -> EventKeys {
        EventKeys {
            hex_trace: event.trace_id.as_deref().and_then(hex_trace_id),
        }
    }
}

/// What makes an event the same event, kept apart from it so that its identity
/// ([`Event::identity`]) is worked out only if another event comes at the same microsecond
/// (two events in a few thousand): its node names are made to last (copied, not counted) and
/// a hex trace id is its bits. An event of another kind or trace id has its identity now.
pub enum IdentityLater {
    Made(u64),
    Parts {
        kind: Kind,
        hex_trace: [u64; 2],
        node_name: Option<&'static str>,
        node_id: Option<&'static str>,
        attempt: Option<i64>,
    },
}

impl IdentityLater {
    pub fn identity(self) -> u64 {
        match self {
            IdentityLater::Made(identity) => identity,
            IdentityLater::Parts {
                kind,
                hex_trace,
                node_name,
                node_id,
                attempt,
            } => identity_of(
                &kind,
                TraceIdentity::Hex(hex_trace),
                node_name,
                node_id,
                attempt,
            ),
        }
    }
}

/// A trace id as it goes into an identity: a hex id as its bits (the same text gives the
/// same bits, and they are cheaper to hash), another as its text.
enum TraceIdentity<'a> {
    Hex([u64; 2]),
    Text(&'a Option<Name>),
}

/// A 64-bit hash of what makes two events the same event: PenguiFlow stamps each with its own
/// `ts` (to the microsecond), kind, trace, node instance and attempt. Two different events of
/// the same microsecond colliding is a chance of one in 2^64.
fn identity_of(
    kind: &Kind,
    trace: TraceIdentity<'_>,
    node_name: Option<&str>,
    node_id: Option<&str>,
    attempt: Option<i64>,
) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = foldhash::quality::FixedState::with_seed(0).build_hasher();
    kind.hash(&mut hasher);
    match trace {
        TraceIdentity::Hex(bits) => bits.hash(&mut hasher),
        TraceIdentity::Text(text) => text.hash(&mut hasher),
    }
    node_name.hash(&mut hasher);
    node_id.hash(&mut hasher);
    attempt.hash(&mut hasher);
    hasher.finish()
}

/// Whether an event's [`EventKeys`] were made ahead ([`Event::derive_keys`]), and with a
/// hex trace id. Never makes two events differ: they are derived from fields that are
/// compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum KeysMade {
    Not,
    Text,
    Hex,
    /// Hex, read by a decoder that left the trace id's text for the stream to name
    /// ([`Event::name_hex_trace`]): `trace_id` is empty until then.
    HexUnnamed,
}

/// How many events past the one being worked on a thread that takes events from another
/// thread asks the memory of ([`Event::prefetch`]).
const PREFETCH_AHEAD: usize = 4;

/// A batch handed over from another thread, taken item by item with the memory of the event
/// `PREFETCH_AHEAD` items on asked for ([`Event::prefetch`]); `event_of` finds an item's event.
pub struct Prefetching<T> {
    items: std::vec::IntoIter<T>,
    event_of: fn(&T) -> Option<&Event>,
}

impl<T> Prefetching<T> {
    pub fn new(items: Vec<T>, event_of: fn(&T) -> Option<&Event>) -> Prefetching<T> {
        for event in items.iter().take(PREFETCH_AHEAD).filter_map(event_of) {
            event.prefetch();
        }
        Prefetching {
            items: items.into_iter(),
            event_of,
        }
    }
}

impl<T> Iterator for Prefetching<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let item = self.items.next()?;
        if let Some(ahead) = self
            .items
            .as_slice()
            .get(PREFETCH_AHEAD)
            .and_then(self.event_of)
        {
            ahead.prefetch();
        }
        Some(item)
    }
}

impl Event {
    /// Bytes of text the event owns beyond its box (exception, error, remote call, an unknown
    /// kind's name; names are shared, not counted): what events in flight weigh past their
    /// number.
    pub fn text_bytes(&self) -> usize {
        let len = |text: &Option<String>| text.as_ref().map_or(0, String::len);
        let kind = match &self.kind {
            Kind::Other(text) => text.len(),
            _ => 0,
        };
        let Some(rare) = self.rare.as_deref() else {
            return kind;
        };
        let error = rare.flow_error.as_ref().map_or(0, |error| {
            len(&error.code) + len(&error.message) + len(&error.exception_type)
        });
        let remote = rare.remote.as_ref().map_or(0, |call| {
            len(&call.remote_agent_url) + len(&call.remote_skill) + len(&call.remote_task_id)
        });
        len(&rare.exception) + kind + error + remote
    }

    /// Asks for the event's memory to be brought into this core's cache, ahead of its use. An
    /// event is filled on a decoding thread's core and read on another, its cache lines one
    /// by one, each first in a different place (the tenant map, the trace book, the
    /// analyses): each such read waited for its line to come over. Asked for a few events
    /// ahead, the lines come while the events before are worked on.
    #[inline(always)]
    pub fn prefetch(&self) {
        prefetch(std::ptr::from_ref(self).cast(), size_of::<Event>());
    }

    /// An event of `kind` at `ts` with every optional field empty (tests and the store use it).
    pub fn new(ts: Timestamp, kind: Kind, origin: Origin) -> Event {
        Event {
            ts,
            kind,
            trace_id: None,
            tenant: None,
            node_name: None,
            node_id: None,
            counts: [0; Count::ALL.len()],
            latency: 0.0,
            timed: false,
            pod: None,
            container: None,
            rare: None,
            origin,
            counted: 0,
            trace_cancelled: None,
            hex_trace: [0; 2],
            keys: KeysMade::Not,
            maker: recycled::Maker::default(),
        }
    }

    fn fields(&self) -> EventFields<'_> {
        let rare = self.rare();
        EventFields {
            ts: self.ts,
            kind: &self.kind,
            trace_id: &self.trace_id,
            tenant: &self.tenant,
            node_name: &self.node_name,
            node_id: &self.node_id,
            attempt: self.attempt(),
            latency_ms: self.latency_ms(),
            q_depth_in: self.q_depth_in(),
            q_depth_out: self.q_depth_out(),
            q_depth_total: self.q_depth_total(),
            queue_maxsize: self.queue_maxsize(),
            outgoing: self.outgoing(),
            trace_pending: self.trace_pending(),
            trace_inflight: self.trace_inflight(),
            trace_cancelled: self.trace_cancelled,
            pod: &self.pod,
            container: &self.container,
            exception: &rare.exception,
            flow_error: &rare.flow_error,
            sleep_s: rare.sleep_s,
            deadline_s: rare.deadline_s,
            remote: &rare.remote,
            origin: &self.origin,
        }
    }

    /// The node's latency (`latency_ms`), on the events that end an attempt.
    #[inline]
    pub fn latency_ms(&self) -> Option<f64> {
        self.timed.then_some(self.latency)
    }

    #[inline]
    pub fn set_latency_ms(&mut self, latency_ms: Option<f64>) {
        self.timed = latency_ms.is_some();
        self.latency = latency_ms.unwrap_or(0.0);
    }

    /// One of the payload's counts.
    #[inline]
    pub fn count(&self, count: Count) -> Option<i64> {
        let at = count as usize;
        (self.counted & 1 << at != 0).then_some(self.counts[at])
    }

    /// Sets every count at once, in [`Count::ALL`]'s order (a decoder's, on a new event).
    #[inline]
    pub fn set_counts(&mut self, values: [Option<i64>; Count::ALL.len()]) {
        let mut counted = 0;
        for (at, value) in values.into_iter().enumerate() {
            counted |= u8::from(value.is_some()) << at;
            self.counts[at] = value.unwrap_or(0);
        }
        self.counted = counted;
    }

    /// Sets (or clears) one of the payload's counts.
    #[inline]
    pub fn set_count(&mut self, count: Count, value: Option<i64>) {
        let at = count as usize;
        match value {
            Some(value) => {
                self.counts[at] = value;
                self.counted |= 1 << at;
            }
            None => self.counted &= !(1 << at),
        }
    }

    #[inline]
    pub fn attempt(&self) -> Option<i64> {
        self.count(Count::Attempt)
    }

    #[inline]
    pub fn q_depth_in(&self) -> Option<i64> {
        self.count(Count::QDepthIn)
    }

    #[inline]
    pub fn q_depth_out(&self) -> Option<i64> {
        self.count(Count::QDepthOut)
    }

    #[inline]
    pub fn q_depth_total(&self) -> Option<i64> {
        self.count(Count::QDepthTotal)
    }

    #[inline]
    pub fn queue_maxsize(&self) -> Option<i64> {
        self.count(Count::QueueMaxsize)
    }

    /// The node's outgoing edges (its successors, the egress included for a sink).
    #[inline]
    pub fn outgoing(&self) -> Option<i64> {
        self.count(Count::Outgoing)
    }

    #[inline]
    pub fn trace_pending(&self) -> Option<i64> {
        self.count(Count::TracePending)
    }

    #[inline]
    pub fn trace_inflight(&self) -> Option<i64> {
        self.count(Count::TraceInflight)
    }

    fn rare(&self) -> &RareFields {
        self.rare.as_deref().unwrap_or(&NO_RARE_FIELDS)
    }

    /// The rare fields to write a value into, made if `value_set` and there are none yet;
    /// `None` when the write would only clear a field that is not there.
    #[inline]
    fn rare_to_set(&mut self, value_set: bool) -> Option<&mut RareFields> {
        if !value_set && self.rare.is_none() {
            return None;
        }
        Some(self.rare.get_or_insert_with(Box::default))
    }

    /// The exception (its repr, or the traceback of a structured line).
    pub fn exception(&self) -> Option<&str> {
        self.rare().exception.as_deref()
    }

    pub fn exception_mut(&mut self) -> Option<&mut String> {
        self.rare.as_deref_mut()?.exception.as_mut()
    }

    #[inline]
    pub fn set_exception(&mut self, exception: Option<String>) {
        if let Some(rare) = self.rare_to_set(exception.is_some()) {
            rare.exception = exception;
        }
    }

    /// The structured error of a `node_failed`.
    pub fn flow_error(&self) -> Option<&FlowError> {
        self.rare().flow_error.as_ref()
    }

    pub fn flow_error_mut(&mut self) -> Option<&mut FlowError> {
        self.rare.as_deref_mut()?.flow_error.as_mut()
    }

    #[inline]
    pub fn set_flow_error(&mut self, flow_error: Option<FlowError>) {
        if let Some(rare) = self.rare_to_set(flow_error.is_some()) {
            rare.flow_error = flow_error;
        }
    }

    pub fn sleep_s(&self) -> Option<f64> {
        self.rare().sleep_s
    }

    #[inline]
    pub fn set_sleep_s(&mut self, sleep_s: Option<f64>) {
        if let Some(rare) = self.rare_to_set(sleep_s.is_some()) {
            rare.sleep_s = sleep_s;
        }
    }

    pub fn deadline_s(&self) -> Option<f64> {
        self.rare().deadline_s
    }

    #[inline]
    pub fn set_deadline_s(&mut self, deadline_s: Option<f64>) {
        if let Some(rare) = self.rare_to_set(deadline_s.is_some()) {
            rare.deadline_s = deadline_s;
        }
    }

    /// The remote call's agent, skill and task, on `remote_*` events.
    pub fn remote(&self) -> Option<&RemoteCall> {
        self.rare().remote.as_ref()
    }

    pub fn remote_mut(&mut self) -> Option<&mut RemoteCall> {
        self.rare.as_deref_mut()?.remote.as_mut()
    }

    #[inline]
    pub fn set_remote(&mut self, remote: Option<RemoteCall>) {
        if let Some(rare) = self.rare_to_set(remote.is_some()) {
            rare.remote = remote;
        }
    }

    /// Makes the event's keys now (a decoder, once every field is set).
    pub fn derive_keys(&mut self) {
        (self.hex_trace, self.keys) = match EventKeys::of(self).hex_trace {
            Some(bits) => (bits, KeysMade::Hex),
            None => ([0; 2], KeysMade::Text),
        };
    }

    /// Gives the event a hex trace id as its bits alone, its text to be named by the
    /// stream ([`Event::name_hex_trace`]) on the thread that takes the event: the decoding
    /// thread then neither looks the id up nor counts a name's holders, whose counts live in
    /// the other thread's cache.
    pub fn set_unnamed_hex_trace(&mut self, bits: [u64; 2]) {
        self.trace_id = None;
        self.hex_trace = bits;
        self.keys = KeysMade::HexUnnamed;
    }

    /// The bits of a hex trace id whose text is still to be named.
    #[inline]
    pub fn unnamed_hex_trace(&self) -> Option<[u64; 2]> {
        (self.keys == KeysMade::HexUnnamed).then_some(self.hex_trace)
    }

    /// Names the hex trace id left unnamed: `name` is its text ([`with_hex_trace_text`]).
    #[inline]
    pub fn name_hex_trace(&mut self, name: Name) {
        debug_assert_eq!(
            hex_trace_id(&name),
            self.unnamed_hex_trace(),
            "the name of these bits"
        );
        self.trace_id = Some(name);
        self.keys = KeysMade::Hex;
    }

    /// Makes the event's keys unless a decoder made them.
    pub fn ensure_keys(&mut self) {
        if self.keys == KeysMade::Not {
            self.derive_keys();
        }
    }

    /// The event's keys: as made ahead, or made now.
    #[inline]
    pub fn keys(&self) -> EventKeys {
        match self.keys {
            KeysMade::Hex | KeysMade::HexUnnamed => EventKeys {
                hex_trace: Some(self.hex_trace),
            },
            KeysMade::Text => EventKeys { hex_trace: None },
            KeysMade::Not => EventKeys::of(self),
        }
    }

    /// What makes it the same event as another at the same time ([`identity_of`]).
    pub fn identity(&self) -> u64 {
        let trace = match self.keys().hex_trace {
            Some(bits) => TraceIdentity::Hex(bits),
            None => TraceIdentity::Text(&self.trace_id),
        };
        identity_of(
            &self.kind,
            trace,
            self.node_name.as_deref(),
            self.node_id.as_deref(),
            self.attempt(),
        )
    }

    /// Its identity, or what makes it, for later ([`IdentityLater`]): the parts when its kind
    /// is one PenguiFlow writes, its trace id is hex and its node names were made to last.
    pub fn identity_later(&self) -> IdentityLater {
        // A name made to last is never freed: its text is kept, not the name.
        let lasting = |name: &Option<Name>| match name {
            None => Some(None),
            Some(name) => name.lasting_text().map(Some),
        };
        let parts = || {
            if let Kind::Other(_) = self.kind {
                return None;
            }
            Some(IdentityLater::Parts {
                kind: self.kind.clone(),
                hex_trace: self.keys().hex_trace?,
                node_name: lasting(&self.node_name)?,
                node_id: lasting(&self.node_id)?,
                attempt: self.attempt(),
            })
        };
        parts().unwrap_or_else(|| IdentityLater::Made(self.identity()))
    }
}

/// Event boxes the analyses are done with, handed back to the decoding threads to be filled
/// again. A box made on a decoding thread and freed on the analysis thread is a cross-thread
/// free, and the pages such frees empty went back to the OS only to be faulted in again (a
/// tenth of the CPU of a pass); reused, a few thousand boxes carry a whole input.
#[allow(
    clippy::vec_box,
    reason = "the boxes themselves are what is handed back and filled again"
)]
pub mod recycled {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{Event, Kind, Origin, Timestamp};

    /// Boxes per hand-over: the lock is taken once per batch.
    const BATCH: usize = 256;
    /// Batches kept waiting per decoding thread; more are freed (decoding went ahead less
    /// than analysis did). About the events in flight between a decoder and the analysis
    /// (hand-overs of 1,024, two queued, the merge window): with 2, two boxes in three were
    /// freed on the analysis thread and made again on the decoding one (`triage` on 20 MiB:
    /// 531.9M -> 523.5M instructions with 16; on 1 GiB, four alternated runs, peak 60.3 ->
    /// 60.9 MiB, under the 64 MiB goal).
    const KEPT: usize = 16;
    /// Decoding threads told apart; more share slots.
    const MAKERS: usize = 8;

    /// Per decoding thread, the boxes it filled, back from the analysis: refilled where they
    /// were filled, the names they held are let go where they were taken, and their shared
    /// counts stay in that core's cache.
    static SPENT: [Mutex<Vec<Vec<Box<Event>>>>; MAKERS] =
        [const { Mutex::new(Vec::new()) }; MAKERS];

    /// Which decoding thread filled an event's box. Never makes two events differ.
    #[derive(Clone, Copy, Default)]
    pub struct Maker(u8);

    impl PartialEq for Maker {
        fn eq(&self, _: &Maker) -> bool {
            true
        }
    }

    impl std::fmt::Debug for Maker {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Maker")
        }
    }

    /// The analysis side: events it is done with, gathered into batches by maker.
    #[derive(Default)]
    pub struct Spent([Vec<Box<Event>>; MAKERS]);

    impl Spent {
        pub fn give(&mut self, mut event: Box<Event>) {
            // The trace id is let go on this side, which named it (a hex one, see
            // `Event::set_unnamed_hex_trace`) and holds its count in cache, not by the
            // decoding thread when it fills the box again.
            event.trace_id = None;
            let maker = usize::from(event.maker.0);
            let batch = &mut self.0[maker];
            if batch.capacity() == 0 {
                batch.reserve_exact(BATCH);
            }
            batch.push(event);
            if batch.len() == BATCH {
                let batch = std::mem::take(batch);
                let mut spent = SPENT[maker]
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner());
                if spent.len() < KEPT {
                    spent.push(batch);
                }
            }
        }
    }

    /// The decoding side: boxes to fill, taken a batch at a time.
    #[derive(Debug)]
    pub struct Fresh {
        boxes: Vec<Box<Event>>,
        maker: u8,
    }

    impl Default for Fresh {
        fn default() -> Fresh {
            static MADE: AtomicUsize = AtomicUsize::new(0);
            Fresh {
                boxes: Vec::new(),
                maker: (MADE.fetch_add(1, Ordering::Relaxed) % MAKERS) as u8,
            }
        }
    }

    impl Fresh {
        /// An event of `kind` at `ts` with every optional field empty, in a spent box when
        /// there is one.
        pub fn event(&mut self, ts: Timestamp, kind: Kind, origin: Origin) -> Box<Event> {
            if self.boxes.is_empty()
                && let Some(batch) = SPENT[usize::from(self.maker)]
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .pop()
            {
                self.boxes = batch;
            }
            let mut event = match self.boxes.pop() {
                Some(mut event) => {
                    // The next box was last written on the analysis's core: its lines come
                    // while this line is decoded, not when its old event is dropped.
                    if let Some(next) = self.boxes.last() {
                        next.prefetch();
                    }
                    *event = Event::new(ts, kind, origin);
                    event
                }
                // Made in its box: an event is a few hundred bytes, moved otherwise.
                None => Box::new(Event::new(ts, kind, origin)),
            };
            event.maker = Maker(self.maker);
            event
        }
    }
}

/// An event at `ms` milliseconds of `trace` at `node`, for unit tests.
#[cfg(test)]
pub(crate) fn test_event(ms: i64, trace: &str, node: &str, kind: Kind) -> Event {
    let origin = Origin::Line {
        input: "t",
        line: 1,
    };
    let mut event = Event::new(Timestamp(ms * 1000), kind, origin);
    event.trace_id = Some(trace.into());
    event.node_name = Some(node.into());
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An identity kept for later is the one worked out now, and each field that makes an
    /// event the same event changes it; hex and other trace ids, known and other kinds.
    #[test]
    fn an_identity_for_later_is_the_identity_now() {
        let hex = "0123456789abcdef0123456789abcdef";
        let mut events = Vec::new();
        for trace in [hex, "fedcba9876543210fedcba9876543210", "order-17"] {
            for kind in [
                Kind::NodeStart,
                Kind::NodeSuccess,
                Kind::parse("custom_kind"),
            ] {
                let mut event = test_event(5, trace, "score", kind);
                event.node_id = Some("inst-1".into());
                events.push(event.clone());
                event.set_count(Count::Attempt, Some(1));
                events.push(event.clone());
                event.node_id = Some("inst-2".into());
                events.push(event.clone());
                event.node_name = Some("rank".into());
                events.push(event);
            }
        }
        let mut no_trace = test_event(5, hex, "score", Kind::NodeStart);
        no_trace.trace_id = None;
        events.push(no_trace);
        let identities: Vec<u64> = events.iter().map(Event::identity).collect();
        for (event, identity) in events.iter().zip(&identities) {
            assert_eq!(event.identity_later().identity(), *identity, "{event:?}");
        }
        let distinct: std::collections::HashSet<u64> = identities.iter().copied().collect();
        assert_eq!(distinct.len(), events.len());
        // The time is not part of it (events are compared within one time).
        assert_eq!(
            test_event(9, hex, "score", Kind::NodeStart).identity(),
            test_event(5, hex, "score", Kind::NodeStart).identity()
        );
    }

    /// The fields few events carry sit behind one pointer, made only when one is set: an
    /// event is 208 bytes on its way between threads (416 with every field in place), and
    /// one whose rare field was set and cleared is the same event as one never given it.
    #[test]
    fn rare_fields_are_kept_apart_and_compare_as_fields() {
        assert!(size_of::<Event>() <= 208, "{} bytes", size_of::<Event>());
        let plain = test_event(5, "t1", "score", Kind::NodeError);
        let mut event = plain.clone();
        event.set_exception(None);
        event.set_remote(None);
        assert!(
            event.rare.is_none(),
            "clearing an absent field makes nothing"
        );
        event.set_exception(Some("ValueError('x')".into()));
        event.set_sleep_s(Some(0.5));
        assert_eq!(event.exception(), Some("ValueError('x')"));
        assert_eq!(event.sleep_s(), Some(0.5));
        assert_eq!(event.deadline_s(), None);
        assert_ne!(event, plain);
        event.set_exception(None);
        event.set_sleep_s(None);
        assert_eq!(event, plain);
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            serde_json::to_string(&plain).unwrap()
        );
        // Counts: each set, read and cleared alone.
        for count in Count::ALL {
            event.set_count(count, Some(-7));
            assert!(
                Count::ALL
                    .iter()
                    .all(|other| { event.count(*other) == (*other == count).then_some(-7) })
            );
            event.set_count(count, None);
        }
        assert_eq!(event, plain);
    }

    #[test]
    fn rfc3339_is_written_as_chrono_writes_it() {
        let chrono = |ts: Timestamp| {
            ts.to_datetime()
                .to_rfc3339_opts(SecondsFormat::Micros, true)
        };
        let mut instants: Vec<i64> = vec![
            0,
            -1,
            1,
            951_782_400_000_000,     // 2000-02-29
            951_868_799_999_999,     // 2000-02-29 23:59:59.999999
            -62_167_219_200_000_000, // 0000-01-01
            -62_167_219_200_000_001, // one microsecond before year 0
            253_402_300_799_999_999, // 9999-12-31 23:59:59.999999
            253_402_300_800_000_000, // 10000-01-01
            4_107_542_400_000_000,   // 2100-03-01
            -11_670_998_400_000_000, // 1600-02-29
            -8_515_238_400_000_000,  // 1700-03-01
            13_574_563_200_000_000,  // 2400-02-29
            i64::MAX,
            i64::MIN,
        ];
        // Every day from 1896 to 2104 (1900 and 2100 are not leap years, 2000 is), at odd
        // times of day, and steps across the whole range.
        let mut day = -2_335_219_200_000_000_i64;
        while day <= 4_260_124_800_000_000 {
            instants.extend([day, day + 86_399_999_999, day + 45_296_789_012]);
            day += 86_400_000_000;
        }
        let mut step = i64::MIN / 2;
        while step < i64::MAX / 2 {
            instants.push(step);
            step += 7_777_777_777_777_777;
        }
        for micros in instants {
            let ts = Timestamp(micros);
            assert_eq!(ts.to_rfc3339(), chrono(ts), "{micros}");
            assert_eq!(
                serde_json::to_string(&ts).expect("serializes"),
                format!("\"{}\"", chrono(ts)),
                "{micros}"
            );
        }
    }

    #[test]
    fn a_lasting_name_is_the_same_name_as_a_shared_one() {
        let lasting = Name::lasting("score").unwrap();
        let shared = Name::from("score");
        assert!(Name::ptr_eq(&lasting, &Name::lasting("score").unwrap()));
        assert!(!Name::ptr_eq(&lasting, &shared));
        assert_eq!(lasting, shared);
        let mut counts: NameMap<u32> = NameMap::default();
        counts.insert(shared, 1);
        assert_eq!(counts.get(&lasting), Some(&1));
        assert_eq!(counts.get("score"), Some(&1));
        assert_eq!(lasting.to_string(), "score");
        assert_eq!(serde_json::to_string(&lasting).unwrap(), "\"score\"");
        // A long name is not kept for the run.
        assert!(Name::lasting(&"x".repeat(LASTING_NAME_BYTES + 1)).is_none());
    }

    #[test]
    fn a_shared_name_holds_one_count_of_its_text_and_gives_it_back() {
        let name = Name::from("trace-7");
        assert!(!name.is_lasting());
        assert_eq!(
            std::mem::size_of::<Option<Name>>(),
            std::mem::size_of::<usize>()
        );
        assert_eq!(name.holders(), 1);
        let copies: Vec<Name> = (0..3).map(|_| name.clone()).collect();
        assert_eq!(name.holders(), 4);
        assert!(
            copies
                .iter()
                .all(|copy| Name::ptr_eq(copy, &name) && *copy == "trace-7")
        );
        // Dropped on another thread, as the analysis thread drops the decoders' names.
        std::thread::spawn(move || drop(copies)).join().unwrap();
        assert_eq!(name.holders(), 1);
        drop(name);
        // Empty, non-ASCII and long texts read back whole, shared or lasting.
        let long = "x".repeat(LASTING_NAME_BYTES);
        for text in ["", "nœud-é", "x", long.as_str()] {
            assert_eq!(&*Name::from(text), text);
            assert_eq!(&*Name::from(String::from(text)), text);
            assert_eq!(&*Name::from(Arc::<str>::from(text)), text);
            assert_eq!(&*Name::lasting(text).unwrap(), text);
            assert!(Name::ptr_eq(
                &Name::lasting(text).unwrap(),
                &Name::lasting(text).unwrap()
            ));
        }
    }

    #[test]
    fn timestamps_round_to_the_microsecond_and_print_in_utc() {
        let ts = Timestamp::from_unix_seconds(1_764_060_172.123_456_7).unwrap();
        assert_eq!(ts.to_rfc3339(), "2025-11-25T08:42:52.123457Z");
        assert!(Timestamp::from_unix_seconds(f64::NAN).is_none());
        assert!(Timestamp::from_unix_seconds(1e300).is_none());
    }

    #[test]
    fn unknown_kinds_are_kept() {
        assert_eq!(Kind::parse("node_failed"), Kind::NodeFailed);
        let other = Kind::parse("session.task");
        assert_eq!(other, Kind::Other("session.task".into()));
        assert_eq!(other.as_str(), "session.task");
    }
}

/// A trace id of 32 lowercase hex digits (PenguiFlow's `uuid4().hex`) as 128 bits, for
/// per-trace maps that hold many traces: 16 bytes instead of the string. `None` for any other
/// id (kept as text), so the number always gives back the same text.
pub fn hex_trace_id(trace_id: &str) -> Option<[u64; 2]> {
    let bytes: &[u8; 32] = trace_id.as_bytes().try_into().ok()?;
    let (high, low) = bytes.split_at(16);
    let sixteen = |half: &[u8]| hex_sixteen(half.try_into().expect("sixteen bytes"));
    Some([sixteen(high)?, sixteen(low)?])
}

/// Sixteen lowercase hex digits (the first the most significant) as a number, tested and
/// converted sixteen at a time (SSE2, in every x86-64): this runs once an event, for its
/// keys (157 instructions an event eight digits at a time, about half of it now).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn hex_sixteen(bytes: &[u8; 16]) -> Option<u64> {
    use std::arch::x86_64::{
        _mm_add_epi8, _mm_and_si128, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_cvtsi128_si64,
        _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_packus_epi16, _mm_set1_epi8,
        _mm_set1_epi16, _mm_slli_epi16, _mm_srli_epi16,
    };
    // SAFETY: these intrinsics only need SSE2, which this build enables (the `cfg` above);
    // the one load reads the sixteen bytes of `bytes`, unaligned.
    unsafe {
        let chunk = _mm_loadu_si128(bytes.as_ptr().cast());
        // Signed compares: a byte at or above 0x80 is negative, in neither range.
        let within = |low: u8, high: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(chunk, _mm_set1_epi8((low - 1) as i8)),
                _mm_cmplt_epi8(chunk, _mm_set1_epi8((high + 1) as i8)),
            )
        };
        let digits = _mm_or_si128(within(b'0', b'9'), within(b'a', b'f'));
        if _mm_movemask_epi8(digits) != 0xffff {
            return None;
        }
        // A digit's low nibble is its value; a letter's is its value - 9, and it has bit 6.
        let letters = _mm_and_si128(_mm_srli_epi16(chunk, 6), _mm_set1_epi8(1));
        let nibbles = _mm_add_epi8(
            _mm_and_si128(chunk, _mm_set1_epi8(0x0f)),
            _mm_add_epi8(_mm_slli_epi16(letters, 3), letters),
        );
        // Each pair (the first digit in the lower byte of a 16-bit lane) as one byte, then the
        // eight bytes side by side, the first pair the most significant.
        let pairs = _mm_or_si128(
            _mm_slli_epi16(_mm_and_si128(nibbles, _mm_set1_epi16(0x00ff)), 4),
            _mm_srli_epi16(nibbles, 8),
        );
        let packed = _mm_cvtsi128_si64(_mm_packus_epi16(pairs, pairs)) as u64;
        Some(packed.swap_bytes())
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn hex_sixteen(bytes: &[u8; 16]) -> Option<u64> {
    hex_sixteen_portable(bytes)
}

/// [`hex_sixteen`] eight digits at a time, without SSE2.
#[cfg(any(not(all(target_arch = "x86_64", target_feature = "sse2")), test))]
fn hex_sixteen_portable(bytes: &[u8; 16]) -> Option<u64> {
    let eight = |at: usize| hex_eight(u64::from_le_bytes(bytes[at..at + 8].try_into().ok()?));
    Some(eight(0)? << 32 | eight(8)?)
}

/// Asks for the `length` bytes at `start` to be brought into this core's cache, without
/// waiting for them (events handed between threads, the lines ahead of the decoder).
#[inline(always)]
pub fn prefetch(start: *const u8, length: usize) {
    #[cfg(target_arch = "x86_64")]
    for offset in (0..length).step_by(64) {
        // SAFETY: a prefetch reads nothing and never faults, whatever the address; SSE is
        // part of every x86_64. `wrapping_add` keeps the address computation itself defined.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                start.wrapping_add(offset).cast(),
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, length);
}

/// Hands `f` the text [`hex_trace_id`] read `bits` from (32 lowercase hex digits), made on
/// the stack: `traces` writes one a row.
pub fn with_hex_trace_text<R>(bits: [u64; 2], f: impl FnOnce(&str) -> R) -> R {
    let digits = hex_trace_digits(bits);
    f(std::str::from_utf8(&digits).expect("hex digits are ASCII"))
}

/// The digits, two a byte.
fn hex_trace_digits(bits: [u64; 2]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 32];
    let bytes = bits.map(u64::to_be_bytes);
    for (pair, byte) in text.chunks_exact_mut(2).zip(bytes.as_flattened()) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    text
}

/// Eight lowercase hex digits (the first in the lowest byte) as a 32-bit number, tested and
/// converted eight at a time.
#[cfg(any(not(all(target_arch = "x86_64", target_feature = "sse2")), test))]
fn hex_eight(word: u64) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES * 0x80;
    if word & HIGHS != 0 {
        return None;
    }
    // Per byte b < 0x80: (b | 0x80) - lo keeps the high bit when b >= lo; (hi | 0x80) - b
    // keeps it when b <= hi. Neither borrows across bytes.
    let at_least = |lo: u64| ((word | HIGHS) - ONES * lo) & HIGHS;
    let at_most = |hi: u64| ((ONES * (hi | 0x80)) - word) & HIGHS;
    let digits = at_least(b'0'.into()) & at_most(b'9'.into());
    let letters = at_least(b'a'.into()) & at_most(b'f'.into());
    if digits | letters != HIGHS {
        return None;
    }
    // A digit's low nibble is its value; a letter's is its value - 9, and it has bit 6 set.
    let nibbles = (word & (ONES * 0x0f)) + ((word >> 6) & ONES) * 9;
    // The first digit is the most significant: pack the nibbles from the highest byte down.
    let packed = nibbles.swap_bytes();
    let packed = (packed | packed >> 4) & 0x00ff_00ff_00ff_00ff;
    let packed = (packed | packed >> 8) & 0x0000_ffff_0000_ffff;
    Some((packed | packed >> 16) & 0xffff_ffff)
}

#[cfg(test)]
mod hex_trace_id_tests {
    use super::{hex_trace_id, with_hex_trace_text};

    #[test]
    fn the_bits_give_back_the_text() {
        for id in [
            "0123456789abcdef0123456789abcdef",
            "ffffffffffffffff0000000000000000",
            "a995b9de9b29419e00000000000012d2",
        ] {
            let bits = hex_trace_id(id).expect("hex");
            assert_eq!(with_hex_trace_text(bits, str::to_string), id);
            assert_eq!(
                with_hex_trace_text(bits, str::to_string),
                format!("{:016x}{:016x}", bits[0], bits[1])
            );
        }
    }

    /// The id read without SSE2 (as other targets read it).
    fn portable(trace_id: &str) -> Option<[u64; 2]> {
        let bytes: &[u8; 32] = trace_id.as_bytes().try_into().ok()?;
        let half = |at: usize| super::hex_sixteen_portable(bytes[at..at + 16].try_into().ok()?);
        Some([half(0)?, half(16)?])
    }

    /// The digit-at-a-time reading the eight-at-a-time one must agree with.
    fn by_digit(trace_id: &str) -> Option<[u64; 2]> {
        let bytes = trace_id.as_bytes();
        if bytes.len() != 32 {
            return None;
        }
        let mut words = [0u64; 2];
        for (word, half) in words.iter_mut().zip(bytes.chunks_exact(16)) {
            for &byte in half {
                let digit = match byte {
                    b'0'..=b'9' => byte - b'0',
                    b'a'..=b'f' => byte - b'a' + 10,
                    _ => return None,
                };
                *word = *word << 4 | u64::from(digit);
            }
        }
        Some(words)
    }

    #[test]
    fn eight_digits_at_a_time_read_as_one_digit_at_a_time() {
        // Every byte value in every position, among valid digits, and random mixes.
        let valid = b"0123456789abcdef";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for position in 0..32 {
            for byte in 0..=255u8 {
                let mut id: Vec<u8> = (0..32).map(|_| valid[(next() % 16) as usize]).collect();
                id[position] = byte;
                if let Ok(text) = std::str::from_utf8(&id) {
                    assert_eq!(hex_trace_id(text), by_digit(text), "{text}");
                    assert_eq!(portable(text), by_digit(text), "{text}");
                }
            }
        }
        let alphabet = b"0123456789abcdefABCDEFgz/:@`G\x7f";
        for _ in 0..20_000 {
            let id: Vec<u8> = (0..32)
                .map(|_| match next() % 4 {
                    0 => alphabet[(next() % alphabet.len() as u64) as usize],
                    _ => valid[(next() % 16) as usize],
                })
                .collect();
            let text = std::str::from_utf8(&id).unwrap();
            assert_eq!(hex_trace_id(text), by_digit(text), "{text}");
            assert_eq!(portable(text), by_digit(text), "{text}");
        }
    }

    #[test]
    fn only_lowercase_hex_of_32_digits_becomes_a_number_and_gives_back_its_text() {
        let id = "0123456789abcdeffedcba9876543210";
        let [high, low] = hex_trace_id(id).expect("hex");
        assert_eq!(format!("{high:016x}{low:016x}"), id);
        for other in [
            "0123456789ABCDEFfedcba9876543210",
            "trace-1",
            "",
            "0123456789abcdeffedcba987654321g",
            "0123456789abcdeffedcba98765432100",
            "0123456789abcdeffedcba9876543\u{e9}1",
            "\u{e9}0123456789abcdeffedcba98765432",
        ] {
            assert_eq!(hex_trace_id(other), None, "{other}");
        }
    }
}
