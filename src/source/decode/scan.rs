//! The fast path of line decoding: a scanner for the plain JSON objects PenguiFlow writes
//! (no escapes in keys, no `\u` escapes in kept strings, nesting only under `extra`,
//! `flow_error`, `error_payload` and `headers`). It reads the fields flowtrace keeps, borrowing
//! them from the line (a string with escapes, a traceback, is decoded), and validates the rest
//! without building anything. Whenever a line is unusual it gives up (`None`) and serde
//! decodes the line instead: serde is the reference, and a test checks that both agree on
//! every line the scanner accepts.

use std::borrow::Cow;

use super::{BorrowedOnly, Flex, Nested, RawFlowError, RawHeaders, RawRecord};

/// Nesting deeper than this is left to serde (which has its own limit).
const MAX_DEPTH: usize = 64;

/// Scans one line holding one JSON object into `record` (which must come empty); `false`
/// when serde must decide (`record` then holds anything). Lines of one producer almost
/// always have the keys of a line before in the same order, with the same separators:
/// `layouts` holds the last few shapes of whole lines, and a line that follows one is read by
/// comparing those bytes instead of scanning each key. The record is filled in place: it is
/// about a kilobyte, and moving it out of each call was a tenth of the scan.
pub(super) fn scan_record<'a>(
    json: &'a str,
    layouts: &mut Layouts,
    record: &mut RawRecord<'a>,
) -> bool {
    if !layouts.shapes.is_empty() {
        if let Some(used) = scan_in_layouts(json, &layouts.shapes, record) {
            layouts.hits += 1;
            if used > 0 {
                // Most recently used first: the next line most likely has this shape again.
                layouts.shapes[..=used].rotate_right(1);
            }
            return true;
        }
        *record = RawRecord::default();
    }
    let mut scanner = Scanner {
        text: json,
        bytes: json.as_bytes(),
        at: 0,
        owned: false,
    };
    scanner.skip_whitespace();
    let start = scanner.at;
    let mut marks = std::mem::take(&mut layouts.marks);
    marks.clear();
    let read = scanner.record_marked(record, &mut marks).is_some();
    let object_end = scanner.at;
    scanner.skip_whitespace();
    let whole = read && scanner.at == scanner.bytes.len();
    if whole && !marks.is_empty() {
        layouts.learn(&json.as_bytes()[..object_end], start, &marks);
    }
    layouts.marks = marks;
    record.borrowed_only = BorrowedOnly(whole && !scanner.owned && record.extra.0.is_none());
    whole
}

/// Shapes kept: a flow's lines come in a few (node_start and node_success share one; retries,
/// errors, deadlines and failures each add keys), and they alternate. With only the last
/// line's shape, each change of shape scanned a line whole and learned its shape again (4%
/// of the lines of a production log, a tenth of the scanning).
const KEPT_SHAPES: usize = 8;
/// The shapes' memory kept at most, beyond the newest one's: a line of thousands of keys is
/// not worth keeping many of.
const KEPT_SHAPE_BYTES: usize = 64 << 10;

/// The key layouts of the last few shapes of lines read whole, most recently used first.
#[derive(Debug, Default)]
pub(crate) struct Layouts {
    shapes: Vec<Shape>,
    /// Where each value started and ended, in the line being scanned.
    marks: Vec<Mark>,
    /// Lines read through a layout.
    pub(super) hits: u64,
}

/// One line's key layout: each entry's bytes from the end of the value before it (or the
/// object's `{`) to its own value, and the bytes after the last value (`}`). The entries are
/// the top-level object's, and those of the object under `extra` (the structured shape's
/// payload) in their place among them.
#[derive(Debug)]
struct Shape {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    tail: std::ops::Range<usize>,
    tail_words: Words,
}

/// Expected bytes, 8 to 24 of them, as their first, middle and last eight (overlapping when
/// fewer than 24): compared with a line's in three loads, not a loop of them (most keys with
/// their quotes, colon and comma are 8 to 21 bytes, about twenty a line).
type Words = Option<[u64; 3]>;

fn words_of(bytes: &[u8]) -> Words {
    let word = |at: usize| word_at(bytes, at);
    let length = bytes.len();
    (8..=24)
        .contains(&length)
        .then(|| [word(0), word(length.min(16) - 8), word(length - 8)])
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    between: std::ops::Range<usize>,
    /// `between` as words, when it has 8 to 24 bytes ([`Words`]).
    words: Words,
    /// The key, if kept.
    key: Option<Key>,
    /// An entry of the object under `extra`.
    nested: bool,
}

/// A value's place in a line being scanned: where it starts and ends, its key if kept, and
/// whether it is under `extra`.
#[derive(Debug, Clone, Copy)]
struct Mark {
    start: usize,
    end: usize,
    key: Option<Key>,
    nested: bool,
}

impl Shape {
    fn between(&self, entry: usize) -> &[u8] {
        &self.bytes[self.entries[entry].between.clone()]
    }

    /// The bytes expected after `entries` entries: the next entry's key, or the object's end.
    fn next_bytes(&self, entries: usize) -> &[u8] {
        match self.entries.get(entries) {
            Some(entry) => &self.bytes[entry.between.clone()],
            None => &self.bytes[self.tail.clone()],
        }
    }

    /// The first `entries` entries are `other`'s, byte for byte.
    fn starts_as(&self, other: &Shape, entries: usize) -> bool {
        entries <= self.entries.len()
            && entries <= other.entries.len()
            && (0..entries).all(|entry| {
                self.entries[entry].key == other.entries[entry].key
                    && self.entries[entry].nested == other.entries[entry].nested
                    && same_bytes(self.between(entry), other.between(entry))
            })
    }
}

impl Layouts {
    fn learn(&mut self, object: &[u8], start: usize, marks: &[Mark]) {
        let mut shape = Shape {
            bytes: Vec::new(),
            entries: Vec::with_capacity(marks.len()),
            tail: 0..0,
            tail_words: None,
        };
        let mut previous_end = start;
        for mark in marks {
            let from = shape.bytes.len();
            shape
                .bytes
                .extend_from_slice(&object[previous_end..mark.start]);
            shape.entries.push(Entry {
                words: words_of(&shape.bytes[from..]),
                between: from..shape.bytes.len(),
                key: mark.key,
                nested: mark.nested,
            });
            previous_end = mark.end;
        }
        let from = shape.bytes.len();
        shape.bytes.extend_from_slice(&object[previous_end..]);
        shape.tail = from..shape.bytes.len();
        shape.tail_words = words_of(&shape.bytes[from..]);
        self.shapes.insert(0, shape);
        self.shapes.truncate(KEPT_SHAPES);
        let mut bytes = 0;
        let kept = self.shapes[1..]
            .iter()
            .take_while(|shape| {
                bytes += shape.bytes.capacity() + shape.entries.capacity() * size_of::<Entry>();
                bytes <= KEPT_SHAPE_BYTES
            })
            .count();
        self.shapes.truncate(1 + kept);
    }
}

/// Reads `json` through the layouts `shapes` into `record`; the shape the line has, or
/// `None` at a difference no shape kept explains. Reading starts with the first shape; where
/// the line's next bytes are not that shape's, it goes on with another shape whose entries
/// so far are the same (the values read so far are then that shape's too). The bytes between
/// values hold the whitespace around the colon, so each value starts right after them (or
/// the line is not read here), and a shape's kept keys are distinct (the line it came from
/// was read whole), so no key needs the repeated-key check.
fn scan_in_layouts<'a>(
    json: &'a str,
    shapes: &[Shape],
    record: &mut RawRecord<'a>,
) -> Option<usize> {
    let mut scanner = Scanner {
        text: json,
        bytes: json.as_bytes(),
        at: 0,
        owned: false,
    };
    scanner.skip_whitespace();
    let mut used = 0;
    let mut shape = &shapes[0];
    let mut entry = 0;
    'shapes: loop {
        for next in &shape.entries[entry..] {
            if scanner
                .expect_words(&shape.bytes[next.between.clone()], next.words)
                .is_none()
            {
                used = other_shape(shapes, used, entry, &scanner)?;
                shape = &shapes[used];
                continue 'shapes;
            }
            // The record a value goes to: the line's, or the one under its `extra`.
            let (target, depth) = if next.nested {
                (&mut **record.extra.0.get_or_insert_with(Box::default), 2)
            } else {
                (&mut *record, 1)
            };
            match next.key {
                None => scanner.skip_value(depth)?,
                Some(key) => match target.slot(key) {
                    Some(field) => {
                        let value = scanner.value(depth)?;
                        // Empty (a shape's kept keys are distinct): nothing to drop.
                        debug_assert!(matches!(field, Flex::Absent));
                        std::mem::forget(std::mem::replace(field, value));
                    }
                    None => scanner.field(target, &mut 0, Some(key), depth, next.nested)?,
                },
            }
            entry += 1;
        }
        if scanner
            .expect_words(&shape.bytes[shape.tail.clone()], shape.tail_words)
            .is_none()
        {
            used = other_shape(shapes, used, entry, &scanner)?;
            shape = &shapes[used];
            continue;
        }
        break;
    }
    scanner.skip_whitespace();
    record.borrowed_only = BorrowedOnly(!scanner.owned && record.extra.0.is_none());
    (scanner.at == scanner.bytes.len()).then_some(used)
}

/// A shape other than `shapes[used]` with the same first `entries` entries, whose next bytes
/// are the line's next ones.
#[cold]
fn other_shape(shapes: &[Shape], used: usize, entries: usize, scanner: &Scanner) -> Option<usize> {
    let here = &scanner.bytes[scanner.at..];
    (0..shapes.len()).find(|&other| {
        other != used
            && shapes[other].starts_as(&shapes[used], entries)
            && here.starts_with(shapes[other].next_bytes(entries))
    })
}

impl<'a> RawRecord<'a> {
    /// The field of a kept key holding any value (`None` for the object-only ones).
    #[inline(always)]
    fn slot(&mut self, key: Key) -> Option<&mut Flex<'a>> {
        Some(match key {
            Key::Event => &mut self.event,
            Key::Message => &mut self.message,
            Key::Msg => &mut self.msg,
            Key::Ts => &mut self.ts,
            Key::Timestamp => &mut self.timestamp,
            Key::Asctime => &mut self.asctime,
            Key::Time => &mut self.time,
            Key::NodeName => &mut self.node_name,
            Key::NodeId => &mut self.node_id,
            Key::TraceId => &mut self.trace_id,
            Key::Tenant => &mut self.tenant,
            Key::LatencyMs => &mut self.latency_ms,
            Key::QDepthIn => &mut self.q_depth_in,
            Key::QDepthOut => &mut self.q_depth_out,
            Key::QDepthTotal => &mut self.q_depth_total,
            Key::QueueMaxsize => &mut self.queue_maxsize,
            Key::Outgoing => &mut self.outgoing,
            Key::Attempt => &mut self.attempt,
            Key::TracePending => &mut self.trace_pending,
            Key::TraceInflight => &mut self.trace_inflight,
            Key::TraceCancelled => &mut self.trace_cancelled,
            Key::Exception => &mut self.exception,
            Key::SleepS => &mut self.sleep_s,
            Key::DeadlineS => &mut self.deadline_s,
            Key::RemoteAgentUrl => &mut self.remote_agent_url,
            Key::RemoteSkill => &mut self.remote_skill,
            Key::RemoteTaskId => &mut self.remote_task_id,
            Key::RemoteError => &mut self.remote_error,
            Key::FlowError | Key::ErrorPayload | Key::Headers | Key::Extra => return None,
        })
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// A string was decoded into text of its own (one with escapes), not borrowed.
    owned: bool,
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
    /// fit in an i64 are `Int`, anything else `Float`. One pass reads the digits and their
    /// value; the text is parsed again only for an exponent or more than 19 digits.
    #[inline(always)]
    fn number(&mut self) -> Option<Flex<'a>> {
        let bytes = self.bytes;
        let start = self.at;
        // One or two digits and then a byte that cannot go on a number: most numbers of a
        // line (queue depths, counts, attempts), read here without the general loop and its
        // checks (the same answer: a lone digit or two without a leading zero is an `Int`).
        let continues = |byte: u8| byte.is_ascii_digit() || matches!(byte, b'.' | b'e' | b'E');
        if let [first, second, third, ..] = bytes.get(start..).unwrap_or_default() {
            let (first, second) = (first.wrapping_sub(b'0'), second.wrapping_sub(b'0'));
            if first <= 9 {
                if second > 9 && !continues(second.wrapping_add(b'0')) {
                    self.at = start + 1;
                    return Some(Flex::Int(i64::from(first)));
                }
                if (1..=9).contains(&first) && second <= 9 && !continues(*third) {
                    self.at = start + 2;
                    return Some(Flex::Int(i64::from(first * 10 + second)));
                }
            }
        }
        let mut at = start;
        // The digits from `at` on, added to `mantissa` (wrapping: past 19 digits the value is
        // not used). One at a time: eight at a time (SWAR) cost more than it saved, most
        // numbers having one or two digits.
        let digits = |at: &mut usize, mantissa: &mut u64| {
            let from = *at;
            while let Some(&byte) = bytes.get(*at) {
                let digit = byte.wrapping_sub(b'0');
                if digit > 9 {
                    break;
                }
                *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(digit));
                *at += 1;
            }
            *at - from
        };
        let negative = bytes.get(at) == Some(&b'-');
        if negative {
            at += 1;
        }
        let integer_start = at;
        let mut mantissa = 0u64;
        let integer_digits = digits(&mut at, &mut mantissa);
        if integer_digits == 0
            || (integer_digits > 1 && bytes[integer_start] == b'0')
            || (negative && integer_digits == 1 && bytes[integer_start] == b'0')
        {
            return None; // not JSON, or `-0` (serde makes it a float)
        }
        let mut fraction_digits = None;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let count = digits(&mut at, &mut mantissa);
            if count == 0 {
                return None;
            }
            fraction_digits = Some(count);
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            exponent = true;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            if digits(&mut at, &mut 0) == 0 {
                return None;
            }
        }
        self.at = at;
        let Some(fraction_digits) = fraction_digits.filter(|_| !exponent) else {
            if !exponent {
                // Past 18 digits serde's u64/overflow rules apply: leave those to serde.
                if integer_digits > 18 {
                    return None;
                }
                let magnitude = mantissa as i64;
                return Some(Flex::Int(if negative { -magnitude } else { magnitude }));
            }
            return parse_float(&self.text[start..at]);
        };
        if integer_digits + fraction_digits <= 19 {
            let value = exact_decimal(mantissa, fraction_digits as u32);
            return Some(Flex::Float(if negative { -value } else { value }));
        }
        parse_float(&self.text[start..at])
    }

    /// A value starting right here (no whitespace first), kept as a `Flex`; `depth` as in
    /// `flex`.
    #[inline(always)]
    fn value(&mut self, depth: usize) -> Option<Flex<'a>> {
        match *self.bytes.get(self.at)? {
            b'"' => self.string_value(),
            b'-' | b'0'..=b'9' => self.number(),
            _ => self.flex(depth),
        }
    }

    /// A value starting right here, validated as serde validates a value it ignores, and
    /// passed over. A string without escapes is passed over in one search; one with escapes
    /// (a traceback) is `skip`'s.
    #[inline(always)]
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if self.peek()? == b'"' {
            let start = self.at + 1;
            if let Some(length) = string_length(self.bytes.get(start..)?) {
                self.at = start + length + 1;
                return Some(());
            }
        }
        self.skip(depth)
    }

    /// A string value starting right here (its quote): borrowed from the line, or with its
    /// escapes decoded when it has some (a traceback kept as `exception`).
    #[inline(always)]
    fn string_value(&mut self) -> Option<Flex<'a>> {
        let start = self.at + 1;
        let Some(length) = string_length(self.bytes.get(start..)?) else {
            self.owned = true;
            return self.unescaped().map(|text| Flex::Str(Cow::Owned(text)));
        };
        self.at = start + length + 1;
        self.text
            .get(start..start + length)
            .map(|text| Flex::Str(Cow::Borrowed(text)))
    }

    /// A string starting right here (its quote) with its escapes decoded as serde decodes
    /// them; `None` for a `\u` escape (serde's, with its rules for surrogates), a raw control
    /// character or a line ending inside the string.
    #[cold]
    fn unescaped(&mut self) -> Option<String> {
        let mut at = self.at + 1;
        let mut text = String::new();
        loop {
            let run = special_byte(self.bytes.get(at..)?)?;
            // Both ends are ASCII (after a quote or an escape, before a special byte).
            text.push_str(self.text.get(at..at + run)?);
            at += run;
            match self.bytes[at] {
                b'"' => break,
                b'\\' => {
                    text.push(match *self.bytes.get(at + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        _ => return None,
                    });
                    at += 2;
                }
                _ => return None,
            }
        }
        self.at = at + 1;
        Some(text)
    }

    /// A value of a key not kept, validated as serde validates a value it ignores, and
    /// passed over: as `flex`, except that strings may hold escapes (a traceback's `\n`
    /// and `\"`), which serde checks without decoding them.
    #[inline(always)]
    fn skip(&mut self, depth: usize) -> Option<()> {
        self.skip_whitespace();
        if self.peek()? != b'"' {
            return self.flex(depth).map(drop);
        }
        let mut at = self.at + 1;
        loop {
            at += special_byte(self.bytes.get(at..)?)?;
            match self.bytes[at] {
                b'"' => break,
                b'\\' => self.escape(&mut at)?,
                _ => return None, // a raw control character
            }
        }
        self.at = at + 1;
        Some(())
    }

    /// Passes over the escape at `at` (its backslash) as serde's `ignore_escape` does: one of
    /// `"\/bfnrt`, or `u` and four hex digits (any code point, paired or not).
    #[cold]
    fn escape(&self, at: &mut usize) -> Option<()> {
        match *self.bytes.get(*at + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => *at += 2,
            b'u' => {
                let hex = self.bytes.get(*at + 2..*at + 6)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                *at += 6;
            }
            _ => return None,
        }
        Some(())
    }

    /// Any value, kept as a `Flex` (objects and arrays validated and skipped).
    #[inline(always)]
    fn flex(&mut self, depth: usize) -> Option<Flex<'a>> {
        self.skip_whitespace();
        match self.peek()? {
            b'"' => self.string_value(),
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
                _ => return scanner.skip(2),
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
                return scanner.skip(2);
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

    /// The top-level object into `record`, noting in `marks` where each value starts and
    /// ends, and each value of the object under `extra` (there, the object itself when empty).
    fn record_marked(&mut self, record: &mut RawRecord<'a>, marks: &mut Vec<Mark>) -> Option<()> {
        let mut seen = 0u32;
        self.entries(|scanner, key| {
            let known = Key::of(key);
            scanner.skip_whitespace();
            let start = scanner.at;
            let marked = marks.len();
            if known == Some(Key::Extra) && scanner.peek() == Some(b'{') {
                // As `field` reads it (`object` then `record(true)`), each value marked.
                first_time(&mut seen, Key::Extra as u32)?;
                let mut nested = RawRecord::default();
                let mut nested_seen = 0u32;
                scanner.entries(|scanner, key| {
                    let known = Key::of(key);
                    scanner.skip_whitespace();
                    let start = scanner.at;
                    scanner.field(&mut nested, &mut nested_seen, known, 2, true)?;
                    marks.push(Mark {
                        start,
                        end: scanner.at,
                        key: known,
                        nested: true,
                    });
                    Some(())
                })?;
                record.extra = Nested(Some(Box::new(nested)));
            } else {
                scanner.field(record, &mut seen, known, 1, false)?;
            }
            if marks.len() == marked {
                marks.push(Mark {
                    start,
                    end: scanner.at,
                    key: known,
                    nested: false,
                });
            }
            Some(())
        })
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
            return self.skip(depth);
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

    /// The bytes `expected` next, passed over; `words` are theirs ([`words_of`]).
    #[inline(always)]
    fn expect_words(&mut self, expected: &[u8], words: Words) -> Option<()> {
        let Some([first, middle, last]) = words else {
            return self.expect(expected);
        };
        let length = expected.len();
        let next = self.bytes.get(self.at..self.at + length)?;
        let word = |at: usize| word_at(next, at);
        let differ =
            (word(0) ^ first) | (word(length.min(16) - 8) ^ middle) | (word(length - 8) ^ last);
        (differ == 0).then(|| self.at += length)
    }

    /// The bytes `expected` next, passed over.
    #[inline(always)]
    fn expect(&mut self, expected: &[u8]) -> Option<()> {
        let end = self.at + expected.len();
        let next = self.bytes.get(self.at..end)?;
        same_bytes(next, expected).then(|| self.at = end)
    }
}

/// A number's text as serde reads it (a float; `None` when not finite).
#[cold]
fn parse_float(text: &str) -> Option<Flex<'_>> {
    text.parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .map(Flex::Float)
}

/// `mantissa / 10^fraction_digits` (at most 19 digits in all) as the nearest f64, ties to
/// even, as a full parse rounds it. Below 2^53 one division gives it exactly (Clinger's fast
/// path: both operands are exact and IEEE division rounds once); above, as PenguiFlow's
/// `ts` often is (`1796000004.7517867`, 17 digits), integer division to 53 bits and the
/// remainder for the rounding, instead of the general parser.
#[inline(always)]
fn exact_decimal(mantissa: u64, fraction_digits: u32) -> f64 {
    const POWERS_OF_TEN: [f64; 20] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19,
    ];
    let fraction_digits = fraction_digits.min(19);
    if mantissa <= 1 << 53 {
        return mantissa as f64 / POWERS_OF_TEN[fraction_digits as usize];
    }
    rounded_quotient(mantissa, 10u64.pow(fraction_digits))
}

/// `numerator / divisor` (numerator above 2^53, divisor at least 1) rounded to the nearest
/// f64, ties to even: the quotient is taken to 54 significant bits in one integer division,
/// the last bit and the remainder decide the rounding, and a power of two (exact) scales it.
#[inline(never)]
fn rounded_quotient(numerator: u64, divisor: u64) -> f64 {
    let bits = |value: u64| (u64::BITS - value.leading_zeros()) as i32;
    // numerator * 2^shift / divisor lies in [2^53, 2^55).
    let mut shift = 54 + bits(divisor) - bits(numerator);
    let (scaled, divided) = if shift >= 0 {
        (u128::from(numerator) << shift, u128::from(divisor))
    } else {
        (u128::from(numerator), u128::from(divisor) << -shift)
    };
    let quotient = scaled / divided;
    let mut inexact = scaled - quotient * divided != 0;
    let mut quotient = quotient as u64;
    if quotient >= 1 << 54 {
        inexact |= quotient & 1 == 1;
        quotient >>= 1;
        shift -= 1;
    }
    // 54 bits: the 53 of the result and the one below, which rounds up past half, and at
    // half exactly to even.
    let half = quotient & 1 == 1;
    let mut significand = quotient >> 1;
    if half && (inexact || significand & 1 == 1) {
        significand += 1;
    }
    // 2^-(shift - 1): shift is within a few dozen of zero, far from the exponent's limits.
    let scale = f64::from_bits(((1024 - i64::from(shift)) as u64) << 52);
    significand as f64 * scale
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

/// The eight bytes of `bytes` from `at` as a little-endian word (there must be eight).
#[inline(always)]
pub(super) fn word_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

/// `a == b`, eight bytes at a time without a call to `memcmp` (keys and the bytes between
/// values are short, and there are about twenty of each per line).
#[inline(always)]
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let word = word_at;
    if a.len() != b.len() {
        return false;
    }
    if a.len() < 8 {
        // Two overlapping four-byte words, or a few bytes: no call to `memcmp` for a short
        // name (a tenant, a node) either.
        if a.len() >= 4 {
            let half = |bytes: &[u8], at: usize| {
                u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
            };
            let last = a.len() - 4;
            return half(a, 0) == half(b, 0) && half(a, last) == half(b, last);
        }
        return a.iter().zip(b).all(|(x, y)| x == y);
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
/// control character or the end of the line.
#[inline(always)]
fn string_length(bytes: &[u8]) -> Option<usize> {
    special_byte(bytes).filter(|&at| bytes[at] == b'"')
}

/// Where the first quote, backslash or raw control character is; `None` at the end of the
/// line. Sixteen bytes are tested at a time (SSE2, which every x86-64 has; elsewhere two
/// eight-byte words), then eight, then one.
#[inline(always)]
pub(super) fn special_byte(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at + 16 <= bytes.len() {
        let flagged = special_in_sixteen(bytes[at..at + 16].try_into().expect("sixteen bytes"));
        if flagged != 0 {
            return Some(at + flagged.trailing_zeros() as usize);
        }
        at += 16;
    }
    if at + 8 <= bytes.len() {
        let flagged = special_in_word(u64::from_le_bytes(
            bytes[at..at + 8].try_into().expect("eight bytes"),
        ));
        if flagged != 0 {
            return Some(at + flagged.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    (at..bytes.len()).find(|&at| matches!(bytes[at], b'"' | b'\\' | 0..0x20))
}

/// A bit for each of the sixteen bytes that is a quote, a backslash or below 0x20 (bit `i`
/// for byte `i`); only the lowest is used, and only it need be exact.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn special_in_sixteen(bytes: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8,
    };
    let half = |at: usize| i64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    // SAFETY: these intrinsics only need SSE2, which this build enables (the `cfg` above; it
    // is in every x86-64 target's baseline); none of them reads memory.
    unsafe {
        // Two halves make one unaligned load once compiled.
        let chunk = _mm_set_epi64x(half(8), half(0));
        let quote = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'\\' as i8));
        // Unsigned byte <= 0x1f: its minimum with 0x1f is itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, _mm_set1_epi8(0x1f)), chunk);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn special_in_sixteen(bytes: &[u8; 16]) -> u32 {
    special_in_sixteen_portable(bytes)
}

#[cfg(any(not(all(target_arch = "x86_64", target_feature = "sse2")), test))]
#[inline(always)]
fn special_in_sixteen_portable(bytes: &[u8; 16]) -> u32 {
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    let bits = |flagged: u64| {
        (0..8).fold(0u32, |bits, byte| {
            bits | (((flagged >> (byte * 8 + 7)) & 1) as u32) << byte
        })
    };
    bits(special_in_word(word(0))) | bits(special_in_word(word(8))) << 8
}

/// The high bit of each byte of `word` that is a quote, a backslash or below 0x20 (the
/// lowest flagged byte is exact: borrows only run upwards).
#[inline(always)]
fn special_in_word(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word;
    (zero_byte(word ^ (ONES * u64::from(b'"')))
        | zero_byte(word ^ (ONES * u64::from(b'\\')))
        | (word.wrapping_sub(ONES * 0x20) & !word))
        & HIGHS
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
    use super::super::RawRecord;
    use super::super::tests::Random;
    use super::{
        Key, Layouts, exact_decimal, same_bytes, scan_record, special_byte, special_in_sixteen,
        special_in_sixteen_portable, string_length,
    };

    /// `line` read through `layouts` (which must take it), checked against a whole scan.
    fn read_through<'a>(line: &'a str, layouts: &mut Layouts) -> RawRecord<'a> {
        let mut through = RawRecord::default();
        assert!(scan_record(line, layouts, &mut through), "{line}");
        let mut alone = RawRecord::default();
        assert!(scan_record(line, &mut Layouts::default(), &mut alone));
        assert_eq!(format!("{through:?}"), format!("{alone:?}"), "{line}");
        through
    }

    #[test]
    fn the_structured_payload_is_read_through_the_layout() {
        // penguiflow's structured formatter: the payload under `extra`, a failure's
        // `flow_error` object inside it, an `extra` left empty.
        let first = r#"{"level": "INFO", "message": "node_start", "extra": {"ts": 1.5, "event": "node_start", "node_name": "a", "trace_id": "t1", "attempt": 0}, "exc_info": null}"#;
        let second = r#"{"level": "INFO", "message": "node_start", "extra": {"ts": 2.5, "event": "node_start", "node_name": "b", "trace_id": "t2", "attempt": 1}, "exc_info": null}"#;
        let failed = r#"{"level": "ERROR", "message": "node_failed", "extra": {"ts": 3.5, "event": "node_failed", "node_name": "b", "trace_id": "t2", "flow_error": {"code": "NODE_TIMEOUT", "message": "m"}}, "exc_info": "Traceback\n"}"#;
        let empty = r#"{"level": "INFO", "message": "hello", "extra": {}, "exc_info": null}"#;
        let odd = r#"{"level": "INFO", "message": "node_start", "extra": {"ts": 4.5, "event": "node_start", "node_name": "b", "trace_id": "t2", "attempt": 1, "extra": {}}, "exc_info": null}"#;
        let lines = [first, second, failed, second, failed, empty, empty, first];
        let mut layouts = Layouts::default();
        for line in lines {
            let through = read_through(line, &mut layouts);
            let payload = through.extra.0.as_ref().expect("an object under extra");
            let reference: RawRecord = serde_json::from_str(line).expect("JSON");
            assert_eq!(format!("{through:?}"), format!("{reference:?}"), "{line}");
            assert_eq!(payload.node_name.as_str().is_some(), line != empty);
        }
        // Three shapes, each scanned whole once (a traceback's escapes do not make a line
        // scanned whole again).
        assert_eq!(layouts.hits, (lines.len() - 3) as u64);
        // `extra` inside `extra` is serde's, through a layout or not.
        let mut record = RawRecord::default();
        assert!(!scan_record(odd, &mut layouts, &mut record));
        // So is a kept value under `extra` nested past the depth limit: the whole scan
        // counts `extra` as one level, and so must the layout (found by a fuzzer).
        for levels in [62, 63, 64] {
            let deep = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
            let line = format!(
                r#"{{"level": "INFO", "message": "node_start", "extra": {{"ts": {deep}, "event": "node_start", "node_name": "a", "trace_id": "t1", "attempt": 0}}, "exc_info": null}}"#
            );
            let mut through = RawRecord::default();
            let read = scan_record(&line, &mut layouts, &mut through);
            let mut alone = RawRecord::default();
            assert_eq!(
                read,
                scan_record(&line, &mut Layouts::default(), &mut alone)
            );
            assert_eq!(read, levels < 63, "{levels} levels");
        }
    }

    #[test]
    fn kept_strings_with_escapes_are_decoded_as_serde_decodes_them() {
        // The structured formatter's traceback, kept as `exception`; a repr with quotes.
        let traceback = r#"{"level": "ERROR", "message": "node_failed", "extra": {"ts": 3.5, "event": "node_failed", "node_name": "b", "exception": "KeyError(\"k\")"}, "exception": "Traceback (most recent call last):\n  File \"/app/x.py\", line 3\n\t\\ \/ \b\f\r"}"#;
        let mut layouts = Layouts::default();
        for _ in 0..2 {
            let mut record = RawRecord::default();
            assert!(scan_record(traceback, &mut layouts, &mut record));
            let reference: RawRecord = serde_json::from_str(traceback).expect("JSON");
            assert_eq!(format!("{record:?}"), format!("{reference:?}"));
            assert_eq!(
                record.exception.as_str(),
                Some(
                    "Traceback (most recent call last):\n  File \"/app/x.py\", line 3\n\t\\ / \u{8}\u{c}\r"
                )
            );
        }
        assert_eq!(layouts.hits, 1);
        // `\u` escapes, raw control characters and unknown escapes are serde's.
        for value in [r#""caf\u00e9""#, "\"a\tb\"", r#""a\x""#, r#""a\"#] {
            let line = format!(r#"{{"event": "node_error", "exception": {value}}}"#);
            let mut record = RawRecord::default();
            assert!(
                !scan_record(&line, &mut Layouts::default(), &mut record),
                "{line}"
            );
        }
    }

    #[test]
    fn alternating_shapes_are_read_through_their_layouts() {
        // A flow's lines: starts and successes share a shape; a retry adds a key in the
        // middle, an error one at the end; then a line of none of them (a key renamed).
        let start = r#"{"level": "INFO", "ts": 1.5, "event": "node_start", "node_name": "a", "trace_id": "t1", "attempt": 0}"#;
        let retry = r#"{"level": "INFO", "ts": 1.75, "event": "node_retry", "node_name": "a", "sleep_s": 0.5, "trace_id": "t2", "attempt": 1}"#;
        let error = r#"{"level": "INFO", "ts": 2.5, "event": "node_error", "node_name": "b", "trace_id": "t1", "attempt": 0, "exception": "E('x')"}"#;
        let renamed = r#"{"level": "INFO", "ts": 3.5, "event": "node_start", "node": "a", "trace_id": "t1", "attempt": 0}"#;
        let lines = [
            start, retry, start, error, start, retry, error, start, renamed, error, start,
        ];
        let mut layouts = Layouts::default();
        for line in lines {
            read_through(line, &mut layouts);
        }
        // Each shape is scanned whole once, the first time it is met.
        let shapes = 4;
        assert_eq!(layouts.hits, (lines.len() - shapes) as u64);
        assert_eq!(layouts.shapes.len(), shapes);
        // A line that differs from every shape in a value's bytes is not read through them.
        let mut record = RawRecord::default();
        let broken = start.replace("\"attempt\": 0", "\"attempt\": 0x");
        assert!(!scan_record(&broken, &mut layouts, &mut record));
        assert_eq!(layouts.hits, (lines.len() - shapes) as u64);
    }

    /// `text` (digits with one point) read by `exact_decimal`.
    fn exact(text: &str) -> f64 {
        let point = text.find('.').unwrap();
        let mantissa = text.replace('.', "").parse::<u64>().unwrap();
        exact_decimal(mantissa, (text.len() - point - 1) as u32)
    }

    #[test]
    fn decimals_read_exactly_as_a_full_parse_reads_them() {
        let mut random = Random(0x1234_5678_9abc_def1);
        for _ in 0..400_000 {
            let length = 2 + random.below(18);
            let point = 1 + random.below(length - 1);
            let mut text: String = (0..length)
                .map(|_| char::from(b'0' + random.below(10) as u8))
                .collect();
            // Long runs of nines and zeros sit next to the rounding boundaries.
            if random.below(4) == 0 {
                let fill = if random.below(2) == 0 { '9' } else { '0' };
                let from = random.below(length);
                text.replace_range(from.., &fill.to_string().repeat(length - from));
            }
            text.insert(point, '.');
            if text.starts_with('0') && point > 1 {
                text.remove(0);
            }
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(exact(&text).to_bits(), parsed.to_bits(), "{text}");
        }
        // Halfway between two doubles (ties to even, both ways), just off halfway, the largest
        // mantissas, and PenguiFlow's times.
        let mut cases = vec![
            "9007199254740993.0".to_string(),
            "9007199254740995.0".to_string(),
            "900719925474099.30".to_string(),
            "18014398509481986.0".to_string(),
            "18014398509481990.0".to_string(),
            "9007199254740993.00".to_string(),
            "1844674407370955.1615".to_string(),
            "999999999999999999.9".to_string(),
            "1.000000000000000111".to_string(),
            "1796000000.000013".to_string(),
            "1796000004.7517867".to_string(),
            "0.1".to_string(),
            "0.0".to_string(),
            "9007199254740.992".to_string(),
            "12.5".to_string(),
            "1.7976931348623157".to_string(),
        ];
        for exponent in 53..63 {
            for offset in [1u64, 3, 5] {
                // (2^e + offset) and the value just below/above, as decimals with a point.
                let value = (1u64 << exponent) + (offset << (exponent - 53));
                for near in [value - 1, value, value + 1] {
                    let text = near.to_string();
                    let cut = text.len() - 1 - random.below(text.len().min(18) - 1);
                    cases.push(format!("{}.{}", &text[..cut], &text[cut..]));
                }
            }
        }
        for text in cases {
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(exact(&text).to_bits(), parsed.to_bits(), "{text}");
        }
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
        for _ in 0..50_000 {
            let length = random.below(56);
            // Special bytes from none to many, anywhere in the 16- and 8-byte steps.
            let sparse = 1 + random.below(64);
            let bytes: Vec<u8> = (0..length)
                .map(|_| match random.below(sparse) {
                    0 => alphabet[random.below(alphabet.len())],
                    _ => b'x',
                })
                .collect();
            let first = bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            assert_eq!(special_byte(&bytes), first, "{bytes:?}");
            let expected = first.filter(|&at| bytes[at] == b'"');
            assert_eq!(string_length(&bytes), expected, "{bytes:?}");
            if let Some(sixteen) = bytes.first_chunk::<16>() {
                let expected = (0..16).fold(0, |bits, at| {
                    let byte = sixteen[at];
                    bits | u32::from(byte == b'"' || byte == b'\\' || byte < 0x20) << at
                });
                // The lowest bit is exact (the portable one may flag bytes above it too).
                let lowest = |bits: u32| bits.trailing_zeros();
                assert_eq!(lowest(special_in_sixteen(sixteen)), lowest(expected));
                assert_eq!(
                    lowest(special_in_sixteen_portable(sixteen)),
                    lowest(expected)
                );
            }
        }
    }

    #[test]
    fn same_bytes_is_slice_equality_at_every_length() {
        let mut random = Random(0x5a3e_b7e5_0000_0001);
        for length in 0..=40 {
            let a: Vec<u8> = (0..length).map(|_| random.below(256) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "{length}");
            for at in 0..length {
                let mut b = a.clone();
                b[at] ^= 1 << random.below(8);
                assert!(!same_bytes(&a, &b), "{length} {at}");
            }
            let longer = [a.as_slice(), b"x"].concat();
            assert!(!same_bytes(&a, &longer), "{length}");
        }
    }

    #[test]
    fn short_numbers_read_as_serde_reads_them() {
        // The one- and two-digit path, and each byte that must send a number to the general
        // path (a third digit, a fraction, an exponent, a leading zero).
        let mut scanned_lines = 0;
        for number in [
            "0", "7", "10", "99", "00", "05", "1.", "1.5", "12.5", "1e3", "12E3", "123",
        ] {
            for after in [
                "}",
                ", \"event\": \"x\"}",
                " }",
                "x}",
                "-}",
                "+}",
                "\u{e9}}",
            ] {
                let line = format!(r#"{{"q_depth_in": {number}{after}"#);
                let mut scanned = RawRecord::default();
                if !scan_record(&line, &mut Layouts::default(), &mut scanned) {
                    assert!(
                        serde_json::from_str::<RawRecord>(&line).is_err(),
                        "the scanner refused what serde reads: {line}"
                    );
                    continue;
                }
                scanned_lines += 1;
                let reference: RawRecord = serde_json::from_str(&line)
                    .unwrap_or_else(|error| panic!("serde rejects ({error}): {line}"));
                assert_eq!(format!("{scanned:?}"), format!("{reference:?}"), "{line}");
            }
        }
        // Nine numbers are JSON, before three of the endings.
        assert_eq!(scanned_lines, 27);
    }

    #[test]
    fn numbers_of_every_length_read_as_serde_reads_them() {
        // Digit runs from one to past twenty, with signs, fractions, exponents and leading
        // zeros, at the end of the object and before more keys: the eight-at-a-time path, the
        // one-at-a-time tail, and the break between them.
        let mut random = Random(0x5eed_0fd1_6175_0000);
        let digits = |random: &mut Random, count: usize| -> String {
            (0..count)
                .map(|_| char::from(b'0' + random.below(10) as u8))
                .collect()
        };
        let mut scanned_lines = 0;
        for _ in 0..20_000 {
            let mut number = String::new();
            if random.below(5) == 0 {
                number.push('-');
            }
            let count = 1 + random.below(24);
            number += &digits(&mut random, count);
            if random.below(2) == 0 {
                number.push('.');
                let count = random.below(20);
                number += &digits(&mut random, count);
            }
            if random.below(8) == 0 {
                number.push(['e', 'E'][random.below(2)]);
                number += ["", "+", "-"][random.below(3)];
                let count = random.below(4);
                number += &digits(&mut random, count);
            }
            let after = [r#"}"#, r#", "event": "x"}"#, " }", "x}", "\u{e9}}"][random.below(5)];
            let line = format!(r#"{{"ts": {number}{after}"#);
            let mut scanned = RawRecord::default();
            if !scan_record(&line, &mut Layouts::default(), &mut scanned) {
                continue;
            }
            scanned_lines += 1;
            let reference: RawRecord = serde_json::from_str(&line).unwrap_or_else(|error| {
                panic!("serde rejects ({error}) what the scanner took: {line}")
            });
            assert_eq!(format!("{scanned:?}"), format!("{reference:?}"), "{line}");
        }
        assert!(scanned_lines > 5_000, "{scanned_lines}");
        for (line, ts) in [
            (r#"{"ts": 1796000000.000013}"#, "Float(1796000000.000013)"),
            (r#"{"ts": 1796000004.7517867}"#, "Float(1796000004.7517867)"),
            (r#"{"ts": 12345678}"#, "Int(12345678)"),
            (r#"{"ts": 9, "event": "x"}"#, "Int(9)"),
        ] {
            let mut scanned = RawRecord::default();
            assert!(scan_record(line, &mut Layouts::default(), &mut scanned));
            assert_eq!(format!("{:?}", scanned.ts), ts, "{line}");
        }
    }
}
