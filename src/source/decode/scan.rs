//! The fast path of line decoding: a scanner for the plain JSON objects PenguiFlow writes
//! (no escapes in keys or kept strings, nesting only under `extra`, `flow_error`,
//! `error_payload` and `headers`). It reads the fields flowtrace keeps, borrowing them from the
//! line, and validates the rest without building anything. Whenever a line is unusual it
//! gives up (`None`) and serde decodes the line instead: serde is the reference, and a test
//! checks that both agree on every line the scanner accepts.

use std::borrow::Cow;

use super::{Flex, Nested, RawFlowError, RawHeaders, RawRecord};

/// Nesting deeper than this is left to serde (which has its own limit).
const MAX_DEPTH: usize = 64;

/// Scans one line holding one JSON object; `None` when serde must decide. Lines of one
/// producer almost always have the keys of the line before in the same order, with the same
/// separators: `layout` holds the last whole line's, and a line that follows it is read by
/// comparing those bytes instead of scanning each key.
pub(super) fn scan_record<'a>(json: &'a str, layout: &mut Layout) -> Option<RawRecord<'a>> {
    if !layout.entries.is_empty()
        && let Some(record) = scan_in_layout(json, layout)
    {
        layout.hits += 1;
        return Some(record);
    }
    let mut scanner = Scanner {
        text: json,
        bytes: json.as_bytes(),
        at: 0,
    };
    scanner.skip_whitespace();
    let start = scanner.at;
    let mut marks = std::mem::take(&mut layout.marks);
    marks.clear();
    let record = scanner.record_marked(Some(&mut marks));
    let object_end = scanner.at;
    scanner.skip_whitespace();
    let whole = record.filter(|_| scanner.at == scanner.bytes.len());
    if whole.is_some() && !marks.is_empty() {
        layout.learn(&json.as_bytes()[..object_end], start, &marks);
    }
    layout.marks = marks;
    whole
}

/// The key layout of the last line read whole: each top-level entry's bytes from the end of
/// the value before it (or the object's `{`) to its own value, with the key if kept, and the
/// bytes after the last value (`}`).
#[derive(Debug, Default)]
pub(crate) struct Layout {
    bytes: Vec<u8>,
    entries: Vec<(std::ops::Range<usize>, Option<Key>)>,
    tail: std::ops::Range<usize>,
    /// Where each value started and ended, and its key, in the line being scanned.
    marks: Vec<(usize, usize, Option<Key>)>,
    /// Lines read through the layout.
    pub(super) hits: u64,
}

impl Layout {
    fn learn(&mut self, object: &[u8], start: usize, marks: &[(usize, usize, Option<Key>)]) {
        self.bytes.clear();
        self.entries.clear();
        let mut previous_end = start;
        for &(value_start, value_end, key) in marks {
            let from = self.bytes.len();
            self.bytes
                .extend_from_slice(&object[previous_end..value_start]);
            self.entries.push((from..self.bytes.len(), key));
            previous_end = value_end;
        }
        let from = self.bytes.len();
        self.bytes.extend_from_slice(&object[previous_end..]);
        self.tail = from..self.bytes.len();
    }
}

/// Reads `json` through `layout`: the same bytes between values, and each value read as the
/// scanner reads it; `None` at the first difference.
fn scan_in_layout<'a>(json: &'a str, layout: &Layout) -> Option<RawRecord<'a>> {
    let mut scanner = Scanner {
        text: json,
        bytes: json.as_bytes(),
        at: 0,
    };
    scanner.skip_whitespace();
    let mut record = RawRecord::default();
    let mut seen = 0u32;
    for (between, key) in &layout.entries {
        scanner.expect(&layout.bytes[between.clone()])?;
        scanner.field(&mut record, &mut seen, *key, 1, false)?;
    }
    scanner.expect(&layout.bytes[layout.tail.clone()])?;
    scanner.skip_whitespace();
    (scanner.at == scanner.bytes.len()).then_some(record)
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    #[inline(always)]
    fn eat(&mut self, byte: u8) -> Option<()> {
        // Separators usually come without whitespace before them: test the byte first.
        if self.peek()? != byte {
            self.skip_whitespace();
            if self.peek()? != byte {
                return None;
            }
        }
        self.at += 1;
        Some(())
    }

    /// A string without escapes or raw control characters, borrowed from the line.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let end = start + string_length(&self.bytes[start..])?;
        self.at = end + 1;
        // Both ends are ASCII quotes, so the slice falls on character boundaries.
        self.text.get(start..end)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let rest = self.bytes.get(self.at..self.at + word.len())?;
        (rest == word).then(|| self.at += word.len())
    }

    /// A JSON number, told apart as serde does: integers without fraction or exponent that
    /// fit in an i64 are `Int`, anything else `Float`.
    #[inline(always)]
    fn number(&mut self) -> Option<Flex<'a>> {
        let start = self.at;
        let digits = |scanner: &mut Scanner| {
            let from = scanner.at;
            while let Some(b'0'..=b'9') = scanner.peek() {
                scanner.at += 1;
            }
            scanner.at - from
        };
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let integer_start = self.at;
        let integer_digits = digits(self);
        if integer_digits == 0
            || (integer_digits > 1 && self.bytes[integer_start] == b'0')
            || (negative && integer_digits == 1 && self.bytes[integer_start] == b'0')
        {
            return None; // not JSON, or `-0` (serde makes it a float)
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            integer = false;
            if digits(self) == 0 {
                return None;
            }
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            integer = false;
            exponent = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        if integer {
            // Past 18 digits serde's u64/overflow rules apply: leave those to serde.
            if integer_digits > 18 {
                return None;
            }
            let magnitude = self.bytes[integer_start..self.at]
                .iter()
                .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0'));
            return Some(Flex::Int(if negative { -magnitude } else { magnitude }));
        }
        if !exponent && let Some(value) = exact_decimal(&self.bytes[integer_start..self.at]) {
            return Some(Flex::Float(if negative { -value } else { value }));
        }
        let text = &self.text[start..self.at];
        text.parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .map(Flex::Float)
    }

    /// Any value, kept as a `Flex` (objects and arrays validated and skipped).
    #[inline(always)]
    fn flex(&mut self, depth: usize) -> Option<Flex<'a>> {
        self.skip_whitespace();
        match self.peek()? {
            b'"' => self.string().map(|text| Flex::Str(Cow::Borrowed(text))),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal(b"true").map(|()| Flex::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Flex::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Flex::Null),
            b'{' | b'[' => self.skip_composite(depth).map(|()| Flex::Composite),
            _ => None,
        }
    }

    fn skip_composite(&mut self, depth: usize) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        if self.peek()? == b'[' {
            self.at += 1;
            if self.eat(b']').is_some() {
                return Some(());
            }
            loop {
                self.flex(depth + 1)?;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                self.eat(b',')?;
            }
        }
        self.entries(|scanner, _key| scanner.flex(depth + 1).map(drop))
    }

    /// The entries of an object, `{` to `}`, each key handed to `entry` to read its value.
    fn entries(
        &mut self,
        mut entry: impl FnMut(&mut Scanner<'a>, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.skip_whitespace();
            let key = self.string()?;
            self.eat(b':')?;
            entry(self, key)?;
            if self.eat(b'}').is_some() {
                return Some(());
            }
            self.eat(b',')?;
        }
    }

    /// A value read as serde reads an object-only field: `Some` for an object, `None` (and the
    /// value skipped) otherwise.
    fn object<T>(
        &mut self,
        depth: usize,
        read: impl FnOnce(&mut Scanner<'a>) -> Option<T>,
    ) -> Option<Nested<T>> {
        self.skip_whitespace();
        if self.peek()? == b'{' {
            return read(self).map(|value| Nested(Some(value)));
        }
        self.flex(depth).map(|_| Nested(None))
    }

    fn flow_error(&mut self) -> Option<RawFlowError<'a>> {
        let mut error = RawFlowError::default();
        let mut seen = 0u32;
        self.entries(|scanner, key| {
            let (bit, field) = match key {
                "code" => (0, &mut error.code),
                "message" => (1, &mut error.message),
                "exception_type" => (2, &mut error.exception_type),
                _ => return scanner.flex(2).map(drop),
            };
            first_time(&mut seen, bit)?;
            *field = scanner.flex(2)?;
            Some(())
        })?;
        Some(error)
    }

    fn headers(&mut self) -> Option<RawHeaders<'a>> {
        let mut headers = RawHeaders::default();
        let mut seen = 0u32;
        self.entries(|scanner, key| {
            if key != "tenant" {
                return scanner.flex(2).map(drop);
            }
            first_time(&mut seen, 0)?;
            headers.tenant = scanner.flex(2)?;
            Some(())
        })?;
        Some(headers)
    }

    /// The top-level object, or (`nested`) the object under `extra`.
    fn record(&mut self, nested: bool) -> Option<RawRecord<'a>> {
        let mut record = RawRecord::default();
        let mut seen = 0u32;
        let depth = 1 + usize::from(nested);
        self.entries(|scanner, key| {
            scanner.field(&mut record, &mut seen, Key::of(key), depth, nested)
        })?;
        Some(record)
    }

    /// The top-level object, noting in `marks` where each value starts and ends.
    fn record_marked(
        &mut self,
        mut marks: Option<&mut Vec<(usize, usize, Option<Key>)>>,
    ) -> Option<RawRecord<'a>> {
        let mut record = RawRecord::default();
        let mut seen = 0u32;
        self.entries(|scanner, key| {
            let known = Key::of(key);
            scanner.skip_whitespace();
            let start = scanner.at;
            scanner.field(&mut record, &mut seen, known, 1, false)?;
            if let Some(marks) = marks.as_mut() {
                marks.push((start, scanner.at, known));
            }
            Some(())
        })?;
        Some(record)
    }

    /// Reads the value of `key` (kept or not: `None`) into `record`.
    #[inline(always)]
    fn field(
        &mut self,
        record: &mut RawRecord<'a>,
        seen: &mut u32,
        key: Option<Key>,
        depth: usize,
        nested: bool,
    ) -> Option<()> {
        let Some(known) = key else {
            return self.flex(depth).map(drop);
        };
        let field = match known {
            Key::Event => &mut record.event,
            Key::Message => &mut record.message,
            Key::Msg => &mut record.msg,
            Key::Ts => &mut record.ts,
            Key::Timestamp => &mut record.timestamp,
            Key::Asctime => &mut record.asctime,
            Key::Time => &mut record.time,
            Key::NodeName => &mut record.node_name,
            Key::NodeId => &mut record.node_id,
            Key::TraceId => &mut record.trace_id,
            Key::Tenant => &mut record.tenant,
            Key::LatencyMs => &mut record.latency_ms,
            Key::QDepthIn => &mut record.q_depth_in,
            Key::QDepthOut => &mut record.q_depth_out,
            Key::QDepthTotal => &mut record.q_depth_total,
            Key::QueueMaxsize => &mut record.queue_maxsize,
            Key::Outgoing => &mut record.outgoing,
            Key::Attempt => &mut record.attempt,
            Key::TracePending => &mut record.trace_pending,
            Key::TraceInflight => &mut record.trace_inflight,
            Key::TraceCancelled => &mut record.trace_cancelled,
            Key::Exception => &mut record.exception,
            Key::SleepS => &mut record.sleep_s,
            Key::DeadlineS => &mut record.deadline_s,
            Key::RemoteAgentUrl => &mut record.remote_agent_url,
            Key::RemoteSkill => &mut record.remote_skill,
            Key::RemoteTaskId => &mut record.remote_task_id,
            Key::RemoteError => &mut record.remote_error,
            Key::FlowError => {
                first_time(seen, known as u32)?;
                record.flow_error = self.object(depth, Scanner::flow_error)?;
                return Some(());
            }
            Key::ErrorPayload => {
                first_time(seen, known as u32)?;
                record.error_payload = self.object(depth, Scanner::flow_error)?;
                return Some(());
            }
            Key::Headers => {
                first_time(seen, known as u32)?;
                record.headers = self.object(depth, Scanner::headers)?;
                return Some(());
            }
            Key::Extra if !nested => {
                first_time(seen, known as u32)?;
                record.extra = self.object(depth, |scanner| scanner.record(true).map(Box::new))?;
                return Some(());
            }
            Key::Extra => return None, // `extra` inside `extra`: rare, serde's
        };
        first_time(seen, known as u32)?;
        *field = self.flex(depth)?;
        Some(())
    }

    /// The bytes `expected` next, passed over.
    #[inline(always)]
    fn expect(&mut self, expected: &[u8]) -> Option<()> {
        let end = self.at + expected.len();
        let next = self.bytes.get(self.at..end)?;
        same_bytes(next, expected).then(|| self.at = end)
    }
}

/// `digits.digits` (no sign, no exponent) as the nearest f64, when one division gives it
/// exactly (Clinger's fast path): all its digits as an integer below 2^53 and at most 22 of
/// them after the point, so both operands are exact and IEEE division rounds once, as a full
/// parse would. Times (`1796000000.000013`) and latencies always are; `None` otherwise.
#[inline(always)]
fn exact_decimal(digits: &[u8]) -> Option<f64> {
    const POWERS_OF_TEN: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if digits.len() > 19 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut fraction_digits = None;
    for (at, &byte) in digits.iter().enumerate() {
        if byte == b'.' {
            fraction_digits = Some(digits.len() - at - 1);
        } else {
            mantissa = mantissa * 10 + u64::from(byte - b'0');
        }
    }
    let scale = POWERS_OF_TEN.get(fraction_digits.unwrap_or(0))?;
    (mantissa <= 1 << 53).then(|| mantissa as f64 / scale)
}

/// The top-level keys the scanner keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Event,
    Message,
    Msg,
    Ts,
    Timestamp,
    Asctime,
    Time,
    NodeName,
    NodeId,
    TraceId,
    Tenant,
    LatencyMs,
    QDepthIn,
    QDepthOut,
    QDepthTotal,
    QueueMaxsize,
    Outgoing,
    Attempt,
    TracePending,
    TraceInflight,
    TraceCancelled,
    Exception,
    SleepS,
    DeadlineS,
    FlowError,
    ErrorPayload,
    Headers,
    Extra,
    RemoteAgentUrl,
    RemoteSkill,
    RemoteTaskId,
    RemoteError,
}

impl Key {
    /// The kept key `key` is, if any. Length, first and last byte single out one candidate
    /// (a jump, not a string compare per key), which is then compared whole: every line has
    /// about twenty keys, and comparing each against the list was a tenth of decoding.
    #[inline(always)]
    fn of(key: &str) -> Option<Key> {
        let bytes = key.as_bytes();
        let (&first, &last) = (bytes.first()?, bytes.last()?);
        let (name, known) = match (bytes.len(), first, last) {
            (2, b't', b's') => ("ts", Key::Ts),
            (3, b'm', b'g') => ("msg", Key::Msg),
            (4, b't', b'e') => ("time", Key::Time),
            (5, b'e', b't') => ("event", Key::Event),
            (5, b'e', b'a') => ("extra", Key::Extra),
            (6, b't', b't') => ("tenant", Key::Tenant),
            (7, b'm', b'e') => ("message", Key::Message),
            (7, b'a', b't') => ("attempt", Key::Attempt),
            (7, b'a', b'e') => ("asctime", Key::Asctime),
            (7, b'h', b's') => ("headers", Key::Headers),
            (7, b'n', b'd') => ("node_id", Key::NodeId),
            (7, b's', b's') => ("sleep_s", Key::SleepS),
            (8, b't', b'd') => ("trace_id", Key::TraceId),
            (8, b'o', b'g') => ("outgoing", Key::Outgoing),
            (9, b'n', b'e') => ("node_name", Key::NodeName),
            (9, b't', b'p') => ("timestamp", Key::Timestamp),
            (9, b'e', b'n') => ("exception", Key::Exception),
            (10, b'l', b's') => ("latency_ms", Key::LatencyMs),
            (10, b'q', b'n') => ("q_depth_in", Key::QDepthIn),
            (10, b'd', b's') => ("deadline_s", Key::DeadlineS),
            (10, b'f', b'r') => ("flow_error", Key::FlowError),
            (11, b'q', b't') => ("q_depth_out", Key::QDepthOut),
            (12, b'r', b'l') => ("remote_skill", Key::RemoteSkill),
            (12, b'r', b'r') => ("remote_error", Key::RemoteError),
            (13, b'q', b'l') => ("q_depth_total", Key::QDepthTotal),
            (13, b'q', b'e') => ("queue_maxsize", Key::QueueMaxsize),
            (13, b'e', b'd') => ("error_payload", Key::ErrorPayload),
            (13, b't', b'g') => ("trace_pending", Key::TracePending),
            (14, b't', b't') => ("trace_inflight", Key::TraceInflight),
            (14, b'r', b'd') => ("remote_task_id", Key::RemoteTaskId),
            (15, b't', b'd') => ("trace_cancelled", Key::TraceCancelled),
            (16, b'r', b'l') => ("remote_agent_url", Key::RemoteAgentUrl),
            _ => return None,
        };
        same_bytes(bytes, name.as_bytes()).then_some(known)
    }
}

/// `a == b`, eight bytes at a time without a call to `memcmp` (keys and the bytes between
/// values are short, and there are about twenty of each per line).
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let word = |bytes: &[u8], at: usize| {
        u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
    };
    if a.len() != b.len() {
        return false;
    }
    if a.len() < 8 {
        return a == b;
    }
    let mut at = 0;
    while at + 8 < a.len() {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    // The last word, overlapping the one before if the length is not a multiple of eight.
    let last = a.len() - 8;
    word(a, last) == word(b, last)
}

/// The length of a string's content up to its closing quote; `None` at a backslash, a raw
/// control character or the end of the line. Eight bytes are tested at a time.
fn string_length(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let special = zero_byte(word ^ (ONES * u64::from(b'"')))
            | zero_byte(word ^ (ONES * u64::from(b'\\')))
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS);
        if special != 0 {
            // The lowest flagged byte is exact (borrows only run upwards).
            at += special.trailing_zeros() as usize / 8;
            return (bytes[at] == b'"').then_some(at);
        }
        at += 8;
    }
    loop {
        match *bytes.get(at)? {
            b'"' => return Some(at),
            b'\\' => return None,
            byte if byte < 0x20 => return None,
            _ => at += 1,
        }
    }
}

/// Serde rejects a known field given twice; so does the scanner, by leaving it to serde.
fn first_time(seen: &mut u32, bit: u32) -> Option<()> {
    let mask = 1 << bit;
    if *seen & mask != 0 {
        return None;
    }
    *seen |= mask;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::Random;
    use super::{Key, exact_decimal, string_length};

    #[test]
    fn decimals_read_exactly_as_a_full_parse_reads_them() {
        let mut random = Random(0x1234_5678_9abc_def1);
        let mut fast = 0;
        for _ in 0..200_000 {
            let length = 2 + random.below(19);
            let point = 1 + random.below(length - 1);
            let mut text: String = (0..length)
                .map(|_| char::from(b'0' + random.below(10) as u8))
                .collect();
            text.insert(point, '.');
            if text.starts_with('0') && point > 1 {
                text.remove(0);
            }
            let Some(value) = exact_decimal(text.as_bytes()) else {
                continue;
            };
            fast += 1;
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(value.to_bits(), parsed.to_bits(), "{text}");
        }
        for text in [
            "1796000000.000013",
            "0.1",
            "0.0",
            "9007199254740.992",
            "12.5",
        ] {
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(
                exact_decimal(text.as_bytes()).map(f64::to_bits),
                Some(parsed.to_bits())
            );
        }
        // Past 2^53 the full parse decides.
        assert_eq!(exact_decimal(b"1.7976931348623157"), None);
        assert!(fast > 100_000, "{fast}");
    }

    #[test]
    fn keys_are_known_by_their_whole_name() {
        let kept = [
            "ts",
            "msg",
            "time",
            "event",
            "extra",
            "tenant",
            "message",
            "attempt",
            "asctime",
            "headers",
            "node_id",
            "sleep_s",
            "trace_id",
            "outgoing",
            "node_name",
            "timestamp",
            "exception",
            "latency_ms",
            "q_depth_in",
            "deadline_s",
            "flow_error",
            "q_depth_out",
            "q_depth_total",
            "queue_maxsize",
            "error_payload",
            "trace_pending",
            "trace_inflight",
            "trace_cancelled",
            "remote_skill",
            "remote_error",
            "remote_task_id",
            "remote_agent_url",
        ];
        let mut found = Vec::new();
        for key in kept {
            let known = Key::of(key).unwrap_or_else(|| panic!("{key} not known"));
            assert!(!found.contains(&known), "{key} shares {known:?}");
            found.push(known);
        }
        // Same length, first and last byte as a kept key, or none of it.
        for other in [
            "",
            "t",
            "tss",
            "tXs",
            "mag",
            "tame",
            "evert",
            "exxra",
            "tenent",
            "level",
            "logger",
            "trace_xd",
            "node_xame",
            "Event",
            "q_depth_ins",
            "trace_cancellod",
        ] {
            assert_eq!(Key::of(other), None, "{other}");
        }
    }

    #[test]
    fn string_length_stops_where_a_byte_loop_would() {
        let alphabet = b"ab\"\\\x01\x1f \x7f\xc3\xa9";
        let mut random = Random(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let seed = random.next();
            let length = (seed % 24) as usize;
            let bytes: Vec<u8> = (0..length)
                .map(|i| alphabet[((seed >> (i % 16 * 4)) as usize + i) % alphabet.len()])
                .collect();
            let expected = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .filter(|&at| bytes[at] == b'"');
            assert_eq!(string_length(&bytes), expected, "{bytes:?}");
        }
    }
}
