//! Decoding one input on several threads, in input order: the input is cut into blocks at line
//! boundaries, block `n` goes to worker `n % workers`, and the decoded blocks are taken back
//! from the workers in the same round, so the records come out exactly as a single reader
//! would give them (a test compares the two). Memory stays at a few blocks per worker.

use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use super::input::OpenInput;
use super::lines::{
    LineDecoder, LineOptions, LineOutcome, UNKNOWN_TS, past_limit, too_long_reason, trim_line_end,
};
use super::read_ahead::OwnedChunk;
use super::{ReadStats, Record, SharedReport};
use crate::error::Error;
use crate::event::Timestamp;

/// Bytes per block, at least (a block ends at a line end).
const BLOCK: usize = 256 * 1024;
/// The block size: `BLOCK`, or `FLOWTRACE_TEST_BLOCK_BYTES` (at least 64), which lets the
/// `-j` agreement tests cut the small captured runs into many blocks. Results never depend on it.
fn block_size() -> usize {
    std::env::var("FLOWTRACE_TEST_BLOCK_BYTES")
        .ok()
        .and_then(|bytes| bytes.parse::<usize>().ok())
        .map_or(BLOCK, |bytes| bytes.max(64))
}

/// Blocks queued per worker.
const QUEUED: usize = 2;

/// Whole lines to decode: `head`'s, then `body`'s.
struct Block {
    /// Lines of their own (the line a chunk completes, or a piece of a chunk).
    head: Vec<u8>,
    /// Lines in a buffer of the reader's, given back once decoded.
    body: Option<OwnedChunk>,
    /// The number of the block's first line.
    first_line: u64,
}

/// A worker's answer for one block: its records, its counts, and the `--strict` stop, if any.
struct Decoded {
    records: Vec<Record>,
    /// How many records lead the block without a time of their own (tenant lines before its
    /// first timed line), and the time of its last record: so the block is put in order
    /// without the collecting thread reading every event (written on another core).
    leading_untimed: usize,
    last_ts: Option<Timestamp>,
    /// The block's reader buffer, to be filled again.
    spent: Option<Vec<u8>>,
    stats: ReadStats,
    strict: Option<(u64, String)>,
}

pub(crate) struct ParallelLines {
    input: OpenInput,
    jobs: Vec<SyncSender<Block>>,
    results: Vec<Receiver<Decoded>>,
    block_size: usize,
    /// Longest line kept (`--max-line-bytes`).
    max_line_bytes: usize,
    /// `--strict`: a line past `max_line_bytes` stops the read (it cannot be judged).
    strict: bool,
    /// The read stopped, under `--strict`, at a line past `max_line_bytes` found while
    /// cutting blocks (before the blocks ahead of it were decoded).
    stopped_at_too_long: bool,
    /// Blocks sent, blocks taken back.
    sent: usize,
    taken: usize,
    /// The lines cut into blocks so far, and the start of a line cut by the last chunk.
    lines: u64,
    partial: Vec<u8>,
    /// Passing over the rest of a line longer than `max_line_bytes`.
    skipping: bool,
    /// Blocks cut, not yet sent.
    ready: VecDeque<Block>,
    input_done: bool,
    /// An error reading the input, reported once the blocks before it are given.
    read_error: Option<Error>,
    strict_error: Option<Error>,
    current: std::vec::IntoIter<Record>,
    last_ts: Timestamp,
    stats: ReadStats,
    report: SharedReport,
    finished: bool,
}

impl ParallelLines {
    pub(crate) fn new(
        input: OpenInput,
        options: &LineOptions,
        report: SharedReport,
        workers: usize,
    ) -> ParallelLines {
        ParallelLines::with_block_size(input, options, report, workers, block_size())
    }

    fn with_block_size(
        input: OpenInput,
        options: &LineOptions,
        report: SharedReport,
        workers: usize,
        block_size: usize,
    ) -> ParallelLines {
        let mut jobs = Vec::new();
        let mut results = Vec::new();
        for _ in 0..workers.max(1) {
            let (job_sender, job_receiver) = sync_channel::<Block>(QUEUED);
            let (result_sender, result_receiver) = sync_channel(QUEUED);
            let decoder = LineDecoder::new(crate::event::input_name(&input.name), options);
            thread::spawn(move || decode_blocks(decoder, &job_receiver, &result_sender));
            jobs.push(job_sender);
            results.push(result_receiver);
        }
        ParallelLines {
            lines: input.lines_before,
            stats: ReadStats {
                inputs: u64::from(!input.continues_input),
                ..ReadStats::default()
            },
            input,
            jobs,
            results,
            block_size,
            max_line_bytes: options.max_line_bytes,
            strict: options.strict,
            stopped_at_too_long: false,
            sent: 0,
            taken: 0,
            partial: Vec::new(),
            skipping: false,
            ready: VecDeque::new(),
            input_done: false,
            read_error: None,
            strict_error: None,
            current: Vec::new().into_iter(),
            last_ts: UNKNOWN_TS,
            report,
            finished: false,
        }
    }

    /// The next block of whole lines (the last one may lack its terminator), or `None` at the
    /// end of the input or at a read error (kept for after the blocks before it).
    fn next_block(&mut self) -> Option<Block> {
        loop {
            if let Some(block) = self.ready.pop_front() {
                return Some(block);
            }
            if self.input_done {
                return None;
            }
            match self.input.reader.take_chunk() {
                Some(Ok(chunk)) => self.cut_chunk(chunk),
                None => {
                    // The last line, without its line end.
                    self.input_done = true;
                    let last = std::mem::take(&mut self.partial);
                    return self.number(last, None);
                }
                Some(Err(source)) => {
                    // The broken line is dropped; the lines before it were given.
                    self.partial.clear();
                    self.read_error = Some(Error::Read {
                        input: self.input.name.to_string(),
                        line: self.lines,
                        source,
                    });
                    self.input_done = true;
                    return None;
                }
            }
        }
    }

    /// Cuts a chunk of the input at its last line end into a block (or, under a test's small
    /// block size, several): the chunk's buffer goes to a worker as it is, without a copy, with
    /// the line begun in the chunk before completed apart; what follows the last line end
    /// begins the next block's first line.
    fn cut_chunk(&mut self, chunk: OwnedChunk) {
        let OwnedChunk {
            buffer,
            mut start,
            end,
        } = chunk;
        if self.skipping {
            match memchr::memchr(b'\n', &buffer[start..end]) {
                Some(at) => {
                    start += at + 1;
                    self.skipping = false;
                }
                None => return self.input.reader.give_back(buffer),
            }
        }
        let Some(last) = memchr::memrchr(b'\n', &buffer[start..end]) else {
            // No line end: all of it goes on with the line begun before. Past
            // `max_line_bytes` that line is passed over as it is read, and counted, so memory
            // stays bounded.
            self.partial.extend_from_slice(&buffer[start..end]);
            self.input.reader.give_back(buffer);
            if past_limit(self.partial.len(), self.max_line_bytes) {
                self.partial.clear();
                self.skipping = true;
                self.lines += 1;
                if self.strict {
                    // The blocks before it are still decoded and given; a violation in one
                    // of them (an earlier line) replaces this one, and then this line was
                    // never reached: it is counted only if its error stands (`finish`).
                    self.strict_error = Some(Error::Strict {
                        input: self.input.name.to_string(),
                        line: self.lines,
                        reason: too_long_reason(self.max_line_bytes),
                    });
                    self.stopped_at_too_long = true;
                    self.input_done = true;
                } else {
                    self.stats.lines += 1;
                    self.stats.too_long += 1;
                }
            }
            return;
        };
        let lines_end = start + last + 1;
        let mut head = std::mem::take(&mut self.partial);
        if !head.is_empty() {
            let first = memchr::memchr(b'\n', &buffer[start..end]).unwrap_or(last);
            head.extend_from_slice(&buffer[start..start + first + 1]);
            start += first + 1;
        }
        self.partial.extend_from_slice(&buffer[lines_end..end]);
        if lines_end - start <= self.block_size {
            let body = OwnedChunk {
                buffer,
                start,
                end: lines_end,
            };
            let block = self.number(head, Some(body));
            self.ready.extend(block);
            return;
        }
        // A block size below the reader's chunks (the `-j` agreement tests): pieces copied.
        let block = self.number(head, None);
        self.ready.extend(block);
        let mut rest = &buffer[start..lines_end];
        while !rest.is_empty() {
            let at = self.block_size.min(rest.len() - 1);
            let piece_end = memchr::memchr(b'\n', &rest[at..]).map_or(rest.len(), |i| at + i + 1);
            let block = self.number(rest[..piece_end].to_vec(), None);
            self.ready.extend(block);
            rest = &rest[piece_end..];
        }
        self.input.reader.give_back(buffer);
    }

    /// Numbers the lines of a block: `head`'s, then `body`'s.
    fn number(&mut self, head: Vec<u8>, body: Option<OwnedChunk>) -> Option<Block> {
        let body_bytes = body.as_ref().map_or(&[][..], |b| &b.buffer[b.start..b.end]);
        if head.is_empty() && body_bytes.is_empty() {
            if let Some(body) = body {
                self.input.reader.give_back(body.buffer);
            }
            return None;
        }
        let first_line = self.lines + 1;
        self.lines += memchr::memchr_iter(b'\n', &head).count() as u64;
        self.lines += memchr::memchr_iter(b'\n', body_bytes).count() as u64;
        if body_bytes.is_empty() && !head.ends_with(b"\n") {
            self.lines += 1;
        }
        Some(Block {
            head,
            body,
            first_line,
        })
    }

    /// Keeps every worker's queue full while there is input.
    fn dispatch(&mut self) {
        while !self.input_done
            && self.strict_error.is_none()
            && self.sent - self.taken < self.jobs.len() * QUEUED
        {
            let Some(block) = self.next_block() else {
                continue;
            };
            let worker = self.sent % self.jobs.len();
            if self.jobs[worker].send(block).is_err() {
                self.input_done = true; // a worker stopped: its result is missing, see `next`
                return;
            }
            self.sent += 1;
        }
    }

    /// Gives a block's leading tenant lines without a time the time of the record before them
    /// (the last of the blocks before), as one reader would have, and keeps its last time.
    /// Past the leading ones the worker did so itself.
    fn carry_time(
        &mut self,
        records: &mut [Record],
        leading_untimed: usize,
        last_ts: Option<Timestamp>,
    ) {
        let mut carried = self.last_ts;
        for record in &mut records[..leading_untimed] {
            if let Record::TraceTenant(line) = record
                && line.ts == UNKNOWN_TS
            {
                line.ts = carried;
            }
            carried = record.ts();
        }
        self.last_ts = match last_ts {
            Some(_) if leading_untimed == records.len() => carried,
            Some(last) => last,
            None => self.last_ts,
        };
    }

    fn finish(&mut self) {
        self.finished = true;
        self.jobs.clear(); // ends the workers
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if std::mem::take(&mut self.stopped_at_too_long) {
            self.stats.lines += 1;
            self.stats.too_long += 1;
        }
        report.stats.add(&self.stats);
        report
            .errors
            .extend(self.strict_error.take().or(self.read_error.take()));
    }
}

fn decode_blocks(mut decoder: LineDecoder, jobs: &Receiver<Block>, results: &SyncSender<Decoded>) {
    while let Ok(block) = jobs.recv() {
        // Within a block times carry over as in one reader; before the block's first time
        // they are unknown here, and filled in when the blocks are put back in order.
        decoder.last_ts = UNKNOWN_TS;
        let mut records = Vec::new();
        let mut strict = None;
        let body = block
            .body
            .as_ref()
            .map_or(&[][..], |b| &b.buffer[b.start..b.end]);
        let lines = split_lines(&block.head).chain(split_lines(body));
        for (number, line) in (block.first_line..).zip(lines) {
            match decoder.decode(trim_line_end(line), number) {
                LineOutcome::Record(record) => records.push(record),
                LineOutcome::Nothing => {}
                LineOutcome::Strict(reason) => {
                    strict = Some((number, reason));
                    break;
                }
            }
        }
        let stats = std::mem::take(&mut decoder.stats);
        let leading_untimed = records
            .iter()
            .position(|record| record.ts() != UNKNOWN_TS)
            .unwrap_or(records.len());
        let last_ts = records.last().map(Record::ts);
        if results
            .send(Decoded {
                leading_untimed,
                last_ts,
                records,
                spent: block.body.map(|body| body.buffer),
                stats,
                strict,
            })
            .is_err()
        {
            return;
        }
    }
}

/// The lines of `bytes`, each with its `\n` (the last may lack one), found with `memchr`.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', bytes);
    std::iter::from_fn(move || {
        let end = ends.next().map_or(bytes.len(), |end| end + 1);
        if start >= end {
            return None;
        }
        let line = &bytes[start..end];
        start = end;
        Some(line)
    })
}

impl Iterator for ParallelLines {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(record) = self.current.next() {
                return Some(record);
            }
            if self.finished {
                return None;
            }
            self.dispatch();
            if self.taken == self.sent {
                self.finish();
                return None;
            }
            let worker = self.taken % self.results.len();
            let Ok(decoded) = self.results[worker].recv() else {
                // Only a bug can stop a worker: say so rather than end the input quietly.
                self.read_error = Some(Error::Read {
                    input: self.input.name.to_string(),
                    line: self.lines,
                    source: io::Error::other("a decoding thread stopped"),
                });
                self.finish();
                return None;
            };
            self.taken += 1;
            if let Some(buffer) = decoded.spent {
                self.input.reader.give_back(buffer);
            }
            self.stats.add(&decoded.stats);
            let mut records = decoded.records;
            self.carry_time(&mut records, decoded.leading_untimed, decoded.last_ts);
            self.current = records.into_iter();
            if let Some((line, reason)) = decoded.strict {
                self.stopped_at_too_long = false;
                // Give this block's records up to the line, then stop.
                self.strict_error = Some(Error::Strict {
                    input: self.input.name.to_string(),
                    line,
                    reason,
                });
                self.input_done = true;
                self.sent = self.taken; // later blocks are dropped with the workers
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::input::{InputSpec, open_input};
    use crate::source::lines::LineRecords;

    #[test]
    fn lines_split_as_split_inclusive_does() {
        for text in ["", "\n", "a", "a\n", "a\nb", "\n\nab\r\n\ncd", "x\ny\n"] {
            let expected: Vec<&[u8]> = text.as_bytes().split_inclusive(|&b| b == b'\n').collect();
            assert_eq!(
                split_lines(text.as_bytes()).collect::<Vec<_>>(),
                expected,
                "{text:?}"
            );
        }
    }

    fn records_of(records: impl Iterator<Item = Record>, report: &SharedReport) -> Vec<String> {
        let mut hex_trace_names = crate::event::HexTraceNames::default();
        let mut given: Vec<String> = records
            .map(|record| match record {
                Record::Event(mut event) => {
                    // The one reader leaves the keys and hex trace ids' names to the stream;
                    // the workers make them.
                    crate::source::finish_event(&mut event, &mut hex_trace_names);
                    format!("{} {:?}", event.origin, event)
                }
                Record::TraceTenant(line) => {
                    format!("tenant {:?} {} {}", line.ts, line.trace_id, line.tenant)
                }
                Record::Skipped | Record::OtherKind => "skipped".to_string(),
            })
            .collect();
        let report = report.lock().unwrap();
        given.push(format!("{:?}", report.stats));
        given.extend(report.errors.iter().map(|e| e.to_string()));
        given
    }

    fn read_both(log: &[u8], strict: bool, sample_lines: u64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.log");
        std::fs::write(&path, log).unwrap();
        let spec = InputSpec::File(path);
        let options = || LineOptions {
            // Keep lines holding a digit 7: most, not all.
            prefilter: std::sync::Arc::new(|line: &[u8]| line.contains(&b'7')),
            required: None,
            sample_lines,
            strict,
            max_line_bytes: 4096,
            inspector: None,
        };
        let report = SharedReport::default();
        let single = LineRecords::new(
            open_input(&spec, None, false).unwrap(),
            options(),
            report.clone(),
        );
        let expected = records_of(single, &report);
        for (workers, block) in [(2, 4096), (3, 1000), (2, 1 << 20)] {
            let report = SharedReport::default();
            let input = open_input(&spec, None, false).unwrap();
            let parallel =
                ParallelLines::with_block_size(input, &options(), report.clone(), workers, block);
            let given = records_of(parallel, &report);
            assert_eq!(
                given.len(),
                expected.len(),
                "{workers} workers, {block} B blocks"
            );
            assert_eq!(given, expected, "{workers} workers, {block} B blocks");
        }
    }

    fn shapes() -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/incident");
        let mut log = Vec::new();
        for shape in [
            "flat.jsonl",
            "structured.jsonl",
            "kubectl_prefix_timestamps.log",
        ] {
            log.extend(std::fs::read(format!("{dir}/{shape}")).unwrap());
        }
        log
    }

    #[test]
    fn parallel_decoding_gives_what_one_reader_gives() {
        // An ingress line without a time first, noise, the shapes, a line longer than a
        // block, and no final newline.
        let mut log = br#"{"message": "accepted", "trace_id": "t1", "tenant": "acme"}"#.to_vec();
        log.extend_from_slice(b"\nnot json 7\n\n");
        log.extend(shapes());
        log.extend(format!("{{\"message\": \"{}7\"}}\n", "x".repeat(9000)).bytes());
        log.extend_from_slice(br#"{"ingress": 7, "trace_id": "t2", "tenant": "b"}"#);
        read_both(&log, false, 0);
        read_both(&log, false, 300);
    }

    #[test]
    fn strict_stops_at_the_same_line() {
        let mut log = shapes();
        let at = log.len() * 2 / 3;
        let newline = at + memchr::memchr(b'\n', &log[at..]).unwrap() + 1;
        let traceback = b"Traceback (most recent call last): 7\n";
        log.splice(newline..newline, traceback.iter().copied());
        read_both(&log, true, 0);
    }
}
