//! Cutting an opened input into lines and decoding each into a `Record`, counting what was
//! skipped. The line buffer is reused; the prefilter sees raw bytes before any JSON parse.

use std::io::{self, BufRead};
use std::sync::Arc;

use memchr::memmem::Finder;

use super::decode::{Decoded, Names, SkipReason, decode_line};
use super::input::OpenInput;
use super::search::{RegionSearch, count_lines};
use super::{LinePrefilter, ReadStats, Record, SharedReport};
use crate::error::Error;
use crate::event::{InputName, Timestamp, input_name, prefetch};

/// How to read the lines of one input.
pub(crate) struct LineOptions {
    pub prefilter: LinePrefilter,
    /// Bytes every wanted line contains: past the sample, whole blocks are searched for them
    /// and only the lines around a hit are looked at (as `rg -F` does).
    pub required: Option<Finder<'static>>,
    /// Lines up to this number are decoded whatever the prefilter says.
    pub sample_lines: u64,
    pub strict: bool,
    /// Longest line kept; longer ones are skipped (and counted) as they are read.
    pub max_line_bytes: usize,
    /// Sees every line read, decoded or not (`lint`).
    pub inspector: Option<Arc<dyn super::LineInspector>>,
}

/// The records of one log input, in the order they appear in it.
pub(crate) struct LineRecords {
    input: OpenInput,
    buffer: Vec<u8>,
    /// Skip mode: the start of a line whose end is in a chunk not yet read.
    partial: Vec<u8>,
    /// Skip mode: the line in `partial` went past `max_line_bytes` (its bytes are dropped but
    /// the last few, where the needle could straddle the next chunk's edge).
    partial_too_long: bool,
    /// ... and the needle was seen in it.
    partial_hit: bool,
    decoder: LineDecoder,
    line_number: u64,
    options: LineOptions,
    report: SharedReport,
    finished: bool,
    /// The line just read was longer than `max_line_bytes`: skipped, to be counted.
    skipped_long: bool,
    /// This input is already counted in the report (`publish_stats` ran).
    input_counted: bool,
    /// Skip mode's search of whole regions, for the required bytes.
    region_search: Option<RegionSearch>,
}

impl LineRecords {
    pub(crate) fn new(input: OpenInput, options: LineOptions, report: SharedReport) -> LineRecords {
        LineRecords {
            decoder: LineDecoder::finished_by_stream(input_name(&input.name), &options),
            line_number: input.lines_before,
            input_counted: input.continues_input,
            input,
            buffer: Vec::with_capacity(4096),
            partial: Vec::new(),
            partial_too_long: false,
            partial_hit: false,
            report,
            finished: false,
            skipped_long: false,
            region_search: options.required.clone().map(RegionSearch::new),
            options,
        }
    }

    fn finish(&mut self, error: Option<Error>) {
        self.finished = true;
        self.publish_stats();
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        report.errors.extend(error);
    }

    /// Moves the counts so far into the shared report: at the end, and after each line when
    /// following (a follow ended by Ctrl-C never reaches the end).
    pub(crate) fn publish_stats(&mut self) {
        let mut stats = std::mem::take(&mut self.decoder.stats);
        stats.inputs = u64::from(!self.input_counted);
        self.input_counted = true;
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        report.stats.add(&stats);
    }

    fn read_line(&mut self) -> io::Result<usize> {
        self.buffer.clear();
        if self.options.required.is_some() && self.line_number >= self.options.sample_lines {
            return self.next_candidate();
        }
        // read_until, bounded: a line past `max_line_bytes` is dropped as it is read (memory
        // stays bounded on a file without line ends), then counted.
        let max = self.options.max_line_bytes;
        let mut discarding = false;
        loop {
            let chunk = match self.input.reader.fill_buf() {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            };
            if chunk.is_empty() {
                self.skipped_long |= discarding;
                return Ok(self.buffer.len() + usize::from(discarding));
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(end) => (end + 1, true),
                None => (chunk.len(), false),
            };
            if !discarding && past_limit(self.buffer.len() + take, max) {
                discarding = true;
                self.buffer.clear();
            }
            if !discarding {
                self.buffer.extend_from_slice(&chunk[..take]);
            }
            self.input.reader.consume(take);
            if done {
                self.skipped_long |= discarding;
                return Ok(self.buffer.len() + usize::from(discarding));
            }
        }
    }

    /// Skip mode: puts the next line holding the required bytes in `buffer` (returning its
    /// length, 0 at the end), counting the lines passed over without looking at them. Chunks
    /// are searched where the reader holds them; only a line cut by a chunk edge is copied.
    fn next_candidate(&mut self) -> io::Result<usize> {
        let finder = self
            .options
            .required
            .as_ref()
            .expect("skip mode has a needle");
        loop {
            let chunk = match self.input.reader.fill_buf() {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            };
            if chunk.is_empty() {
                // The end: a last line without its terminator.
                let last = std::mem::take(&mut self.partial);
                if std::mem::take(&mut self.partial_too_long) {
                    if std::mem::take(&mut self.partial_hit) {
                        self.skipped_long = true;
                        return Ok(1);
                    }
                    skip_lines(&mut self.line_number, &mut self.decoder.stats, 1);
                    return Ok(0);
                }
                if finder.find(&last).is_some() {
                    self.buffer = last;
                    return Ok(self.buffer.len());
                }
                skip_lines(
                    &mut self.line_number,
                    &mut self.decoder.stats,
                    u64::from(!last.is_empty()),
                );
                return Ok(0);
            }
            if !self.partial.is_empty() || self.partial_too_long {
                // Complete the line cut by the last chunk's edge, then judge it whole. A line
                // past `max_line_bytes` is not kept: its bytes are only searched as they come,
                // and it is counted as too long if it holds the needle (passed over if not),
                // whatever the size of the chunks that brought it.
                let (piece, line_ends) = match memchr::memchr(b'\n', chunk) {
                    Some(newline) => (&chunk[..=newline], true),
                    None => (chunk, false),
                };
                let keep = finder.needle().len().saturating_sub(1);
                if !self.partial_too_long
                    && past_limit(
                        self.partial.len() + piece.len(),
                        self.options.max_line_bytes,
                    )
                {
                    self.partial_too_long = true;
                    self.partial_hit = finder.find(&self.partial).is_some();
                    keep_last(&mut self.partial, keep);
                }
                if self.partial_too_long {
                    // The needle may straddle the edge: the kept tail and the piece's start.
                    let tail_length = self.partial.len();
                    self.partial
                        .extend_from_slice(&piece[..piece.len().min(keep)]);
                    self.partial_hit = self.partial_hit
                        || finder.find(&self.partial).is_some()
                        || finder.find(piece).is_some();
                    self.partial.truncate(tail_length);
                    self.partial
                        .extend_from_slice(&piece[piece.len().saturating_sub(keep)..]);
                    keep_last(&mut self.partial, keep);
                    let length = piece.len();
                    self.input.reader.consume(length);
                    if !line_ends {
                        continue;
                    }
                    self.partial.clear();
                    self.partial_too_long = false;
                    if std::mem::take(&mut self.partial_hit) {
                        self.skipped_long = true;
                        return Ok(1);
                    }
                    skip_lines(&mut self.line_number, &mut self.decoder.stats, 1);
                    continue;
                }
                self.partial.extend_from_slice(piece);
                let length = piece.len();
                self.input.reader.consume(length);
                if !line_ends {
                    continue;
                }
                let line = std::mem::take(&mut self.partial);
                if finder.find(&line).is_some() {
                    self.buffer = line;
                    return Ok(self.buffer.len());
                }
                skip_lines(&mut self.line_number, &mut self.decoder.stats, 1);
                continue;
            }
            // Only complete lines are searched; the cut last one waits in `partial`.
            let complete = memchr::memrchr(b'\n', chunk).map_or(0, |at| at + 1);
            let region = &chunk[..complete];
            let (hit, lines_in_region) = self
                .region_search
                .as_mut()
                .expect("skip mode has a needle")
                .search_and_count(region);
            if let Some(hit) = hit {
                let line_start = memchr::memrchr(b'\n', &region[..hit]).map_or(0, |at| at + 1);
                let line_end =
                    memchr::memchr(b'\n', &region[hit..]).map_or(complete, |at| hit + at + 1);
                let skipped = count_lines(&region[..line_start]);
                // A hit line past `max_line_bytes` is counted, not read, as anywhere else.
                let too_long = past_limit(line_end - line_start, self.options.max_line_bytes);
                if !too_long {
                    self.buffer.extend_from_slice(&region[line_start..line_end]);
                }
                self.input.reader.consume(line_end);
                skip_lines(&mut self.line_number, &mut self.decoder.stats, skipped);
                self.skipped_long = too_long;
                return Ok(self.buffer.len().max(usize::from(too_long)));
            }
            let skipped = match lines_in_region {
                Some(count) => count,
                None => count_lines(region),
            };
            self.partial.extend_from_slice(&chunk[complete..]);
            let length = chunk.len();
            self.input.reader.consume(length);
            skip_lines(&mut self.line_number, &mut self.decoder.stats, skipped);
        }
    }
}

/// Counts lines passed over by skip mode as read and prefiltered.
fn skip_lines(line_number: &mut u64, stats: &mut ReadStats, count: u64) {
    *line_number += count;
    stats.lines += count;
    stats.prefiltered += count;
}

/// How far past a line's end its like is asked for. The line-end search was where each line
/// was first read, and waited for memory: 18% of the decoding thread's samples in `classify`
/// on 1 GiB, 3% with the bytes asked for 2 KiB ahead (ten alternated rounds: wall 0.948,
/// 8 of 10 faster, CPU 0.971; 1 KiB 0.964, 3 KiB 0.950; one cache line a line at 4 KiB
/// 0.983).
const PREFETCH_AHEAD: usize = 2048;

/// Drops all but the last `count` bytes.
fn keep_last(bytes: &mut Vec<u8>, count: usize) {
    let cut = bytes.len().saturating_sub(count);
    bytes.drain(..cut);
}

/// What one line gave.
pub(crate) enum LineOutcome {
    Record(Record),
    /// Nothing to give (blank, prefiltered, not an event): counted in the stats.
    Nothing,
    /// `--strict` and the line is not JSON: why.
    Strict(String),
}

/// The line -> record step, shared by the sequential reader and the parallel workers: the
/// prefilter, the decoding (lossily when a line is not UTF-8), and the counts.
pub(crate) struct LineDecoder {
    pub input: InputName,
    pub names: Names,
    pub prefilter: LinePrefilter,
    pub sample_lines: u64,
    pub strict: bool,
    pub stats: ReadStats,
    /// The time of the last record, given to lines that carry none (some ingress lines).
    pub last_ts: Timestamp,
    /// Longest line decoded; longer ones are counted and skipped.
    pub max_line_bytes: usize,
    pub inspector: Option<Arc<dyn super::LineInspector>>,
}

impl LineDecoder {
    pub(crate) fn new(input: InputName, options: &LineOptions) -> LineDecoder {
        LineDecoder {
            input,
            names: Names::default(),
            prefilter: Arc::clone(&options.prefilter),
            sample_lines: options.sample_lines,
            strict: options.strict,
            max_line_bytes: options.max_line_bytes,
            stats: ReadStats::default(),
            last_ts: UNKNOWN_TS,
            inspector: options.inspector.clone(),
        }
    }

    /// The one decoding thread of a sequential reader, whose events the stream finishes on
    /// its own thread (`Names::finished_by_stream`); the parallel workers finish theirs.
    fn finished_by_stream(input: InputName, options: &LineOptions) -> LineDecoder {
        let mut decoder = LineDecoder::new(input, options);
        decoder.names.finished_by_stream = true;
        decoder
    }

    /// A line longer than `max_line_bytes`, not read: counted, and where `--strict` stops.
    pub(crate) fn too_long(&mut self) -> LineOutcome {
        self.stats.lines += 1;
        self.stats.too_long += 1;
        if self.strict {
            return LineOutcome::Strict(too_long_reason(self.max_line_bytes));
        }
        LineOutcome::Nothing
    }

    /// Decodes line number `number` (without its terminator).
    pub(crate) fn decode(&mut self, line: &[u8], number: u64) -> LineOutcome {
        if line.len() > self.max_line_bytes {
            return self.too_long();
        }
        self.stats.lines += 1;
        if number > self.sample_lines && !(self.prefilter)(line) {
            self.stats.prefiltered += 1;
            return LineOutcome::Nothing;
        }
        // serde_json validates UTF-8 as it parses: check the line apart only when it fails.
        let mut decoded = decode_line(line, self.input, number, &mut self.names);
        if matches!(
            decoded,
            Decoded::Skipped(
                SkipReason::Malformed | SkipReason::NotJson | SkipReason::PlainLogging
            )
        ) && std::str::from_utf8(line).is_err()
        {
            self.stats.non_utf8 += 1;
            let lossy = String::from_utf8_lossy(line);
            decoded = decode_line(lossy.as_bytes(), self.input, number, &mut self.names);
        }
        if let Some(inspector) = &self.inspector {
            let kind = match &decoded {
                Decoded::Event(event) => Some(&event.kind),
                _ => None,
            };
            inspector.inspect(self.input, number, line, kind);
        }
        match decoded {
            Decoded::Event(mut event) => {
                if !self.names.finished_by_stream {
                    event.derive_keys();
                }
                self.stats.events += 1;
                self.last_ts = event.ts;
                LineOutcome::Record(Record::Event(event))
            }
            Decoded::TraceTenant {
                ts,
                trace_id,
                tenant,
            } => {
                self.stats.tenant_lines += 1;
                let ts = ts.unwrap_or(self.last_ts);
                self.last_ts = ts;
                LineOutcome::Record(Record::TraceTenant(Box::new(super::TraceTenant {
                    ts,
                    trace_id,
                    tenant,
                })))
            }
            Decoded::Skipped(reason) => {
                self.stats.count_skip(reason);
                if self.strict
                    && matches!(
                        reason,
                        SkipReason::NotJson | SkipReason::PlainLogging | SkipReason::Malformed
                    )
                {
                    return LineOutcome::Strict(strict_reason(reason, line));
                }
                LineOutcome::Nothing
            }
        }
    }
}

/// The time of records read before any line gave one.
pub(crate) const UNKNOWN_TS: Timestamp = Timestamp(i64::MIN);

/// A line decoded where the reader holds it, or why not.
enum InPlace {
    Decoded(LineOutcome),
    /// The line is not whole in the reader's chunk (or is too long, or this is skip mode):
    /// `read_line` reads it.
    Copy,
    Failed(io::Error),
}

impl LineRecords {
    /// Decodes the next line in the reader's chunk when it is whole there (nearly every line
    /// of a mapped file or a read buffer), without copying it into `buffer` first.
    fn decode_in_place(&mut self) -> InPlace {
        if self.options.required.is_some() && self.line_number >= self.options.sample_lines {
            return InPlace::Copy;
        }
        let chunk = match self.input.reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return InPlace::Copy,
            Err(error) => return InPlace::Failed(error),
        };
        let Some(end) = memchr::memchr(b'\n', chunk) else {
            return InPlace::Copy;
        };
        let take = end + 1;
        if past_limit(take, self.options.max_line_bytes) {
            return InPlace::Copy;
        }
        // The line after the next few, asked for now: its bytes come from memory while
        // this one is decoded, not when the line-end search first reads them.
        let ahead = take + PREFETCH_AHEAD;
        if let Some(next) = chunk.get(ahead..chunk.len().min(ahead + take)) {
            prefetch(next.as_ptr(), next.len());
        }
        self.line_number += 1;
        let outcome = self
            .decoder
            .decode(trim_line_end(&chunk[..take]), self.line_number);
        if self.input.reader.changed_under_reader() {
            // Cut short while the line was read where it lies: it may hold zeros, not the
            // file's bytes. Not a line of the input; the read ends as at a cut window.
            self.line_number -= 1;
            return InPlace::Failed(io::Error::other(super::input::TRUNCATED));
        }
        self.input.reader.consume(take);
        InPlace::Decoded(outcome)
    }

    /// Ends the read at a read error after the lines read so far.
    fn fail(&mut self, source: io::Error) {
        // Whatever was read of the broken line is dropped; the lines before it stay.
        let error = Error::Read {
            input: self.input.name.to_string(),
            line: self.line_number,
            source,
        };
        self.finish(Some(error));
    }

    /// A decoded line's record, if it has one; `--strict`'s refusal ends the read.
    fn take_outcome(&mut self, outcome: LineOutcome) -> Option<Record> {
        match outcome {
            LineOutcome::Record(record) => Some(record),
            LineOutcome::Nothing => None,
            LineOutcome::Strict(reason) => {
                let error = Error::Strict {
                    input: self.input.name.to_string(),
                    line: self.line_number,
                    reason,
                };
                self.finish(Some(error));
                None
            }
        }
    }
}

impl Iterator for LineRecords {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        while !self.finished {
            match self.decode_in_place() {
                InPlace::Decoded(outcome) => {
                    if let Some(record) = self.take_outcome(outcome) {
                        return Some(record);
                    }
                    continue;
                }
                InPlace::Failed(source) => {
                    self.fail(source);
                    continue;
                }
                InPlace::Copy => {}
            }
            match self.read_line() {
                Ok(0) => self.finish(None),
                Ok(_) => {}
                Err(source) => {
                    self.fail(source);
                    continue;
                }
            }
            if self.finished {
                break;
            }
            self.line_number += 1;
            let outcome = if std::mem::take(&mut self.skipped_long) {
                self.decoder.too_long()
            } else {
                self.decoder
                    .decode(trim_line_end(&self.buffer), self.line_number)
            };
            if let Some(record) = self.take_outcome(outcome) {
                return Some(record);
            }
        }
        None
    }
}

pub(crate) fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// True when `raw` bytes of a line being read (its terminator with them, if read) cannot be
/// a line within `max_line_bytes`, even with a `\r\n` to come off: they are dropped as read.
/// Lines kept are judged on their length without the terminator where they are decoded
/// (`LineDecoder::decode`), so every reader draws the line at the same byte.
pub(crate) fn past_limit(raw: usize, max_line_bytes: usize) -> bool {
    raw > max_line_bytes.saturating_add(2)
}

/// Why `--strict` stops at a line longer than `--max-line-bytes`: it was not read.
pub(crate) fn too_long_reason(max_line_bytes: usize) -> String {
    format!(
        "longer than --max-line-bytes ({max_line_bytes} bytes), not read (--strict stops at the \
         first line it cannot read)"
    )
}

fn strict_reason(reason: SkipReason, line: &[u8]) -> String {
    // The line is quoted on stderr: its secrets are masked like every other output's.
    let raw = String::from_utf8_lossy(line);
    let text = crate::redact::mask_secrets(&raw);
    let excerpt: String = text.chars().take(60).collect();
    let ellipsis = if text.chars().count() > 60 { "…" } else { "" };
    let what = match reason {
        SkipReason::Malformed => "malformed JSON",
        _ => "not JSON",
    };
    format!(
        "{what}: {excerpt:?}{ellipsis} (--strict stops at the first line that is not a JSON \
         object)"
    )
}
