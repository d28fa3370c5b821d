//! Where events come from: log files, standard input (plain, gzip or zstd) and the SQLite event
//! store, merged into one time-ordered stream of `Event`s with tenants propagated.
//!
//! Stages: `input` opens and decompresses, `lines` cuts and counts, `decode` turns a line into a
//! record, `store` reads the database; `merge` orders the records of all sources by time and
//! `tenant` fills in the tenant of events from other lines of the same trace.

mod background;
pub mod decode;
pub mod follow;
pub mod input;
mod lines;
mod mapped;
mod merge;
mod parallel;
pub mod postgres;
mod read_ahead;
mod search;
mod segments;
pub mod store;
mod tenant;

use std::sync::{Arc, Mutex};
use std::thread;

use crate::error::Error;
use crate::event::{Event, HexTraceNames, IdentityLater, Timestamp};
use decode::SkipReason;
pub use follow::FollowOptions;
pub use input::InputSpec;
pub use store::StoreQuery;
pub use tenant::{IDLE_TRACE_MICROS, TenantMap};

/// What one source yields: an event, or a line that ties a trace to a tenant.
#[derive(Debug)]
pub(crate) enum Record {
    Event(Box<Event>),
    /// Boxed: every record is moved a few times on its way (batches, the merge window), and
    /// this rare one made each of them four times an event's box.
    TraceTenant(Box<TraceTenant>),
    /// A store row that could not be read (a column of the wrong type); counted, never given.
    Skipped,
    /// A store row of another kind kept in the same table (`session.*`); counted, never given.
    OtherKind,
}

/// A line that ties a trace to a tenant (an ingress line), at `ts`.
#[derive(Debug)]
pub(crate) struct TraceTenant {
    pub ts: Timestamp,
    pub trace_id: String,
    pub tenant: String,
}

impl Record {
    /// The text the record holds beyond its box (see [`Event::text_bytes`]).
    fn text_bytes(&self) -> usize {
        match self {
            Record::Event(event) => event.text_bytes(),
            Record::TraceTenant(line) => line.trace_id.len() + line.tenant.len(),
            Record::Skipped | Record::OtherKind => 0,
        }
    }

    fn ts(&self) -> Timestamp {
        match self {
            Record::Event(event) => event.ts,
            Record::TraceTenant(line) => line.ts,
            Record::Skipped | Record::OtherKind => Timestamp(i64::MIN),
        }
    }
}

/// Sees each line read, with the kind of the event it held (if any): `lint` counts bytes per
/// kind and secrets in every line through it. Called from the decoding threads.
pub trait LineInspector: Send + Sync {
    fn inspect(&self, input: &str, number: u64, line: &[u8], kind: Option<&crate::event::Kind>);
}

/// A test on a line's raw bytes, run before any JSON parse: false means the line cannot hold a
/// wanted event (see `filter::Prefilter`).
pub type LinePrefilter = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// The longest line read by default (`--max-line-bytes`): far beyond any real event line, small
/// enough that a file without line ends cannot take the memory.
pub const MAX_LINE_BYTES: u64 = 64 * 1024 * 1024;

/// Counts of what was read, for the end-of-run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub inputs: u64,
    pub lines: u64,
    pub events: u64,
    pub store_rows: u64,
    /// Lines the byte prefilter passed over without parsing.
    pub prefiltered: u64,
    pub blank: u64,
    pub not_json: u64,
    /// PenguiFlow events logged as plain text without fields (`logging.basicConfig`).
    pub plain_logging: u64,
    pub malformed: u64,
    /// JSON lines that are not FlowEvents and carry nothing flowtrace uses.
    pub not_flow_events: u64,
    /// JSON lines that are not FlowEvents but tie a trace to its tenant (ingress lines).
    pub tenant_lines: u64,
    /// Lines that were not valid UTF-8 and were decoded lossily.
    pub non_utf8: u64,
    /// The runtime's `state_store_save_failed` lines (events missing from its store) and
    /// `middleware_error` lines (a middleware raised on an event).
    pub store_save_failed: u64,
    pub middleware_errors: u64,
    /// Lines longer than `--max-line-bytes`, skipped.
    pub too_long: u64,
    /// Events read twice (from a store and a log of the same run, say) and given once.
    pub duplicates: u64,
    /// Store rows skipped because a column had the wrong type (a text or null `ts`, say).
    pub store_rows_skipped: u64,
    /// Events given after a later one: an input more out of order than the merge window.
    pub out_of_order: u64,
    /// Following: events that came after the reorder window, given marked late.
    pub late: u64,
    /// Store rows of other kinds kept in the same table (`session.*`), not read as events.
    pub store_rows_other: u64,
}

impl ReadStats {
    fn add(&mut self, other: &ReadStats) {
        self.inputs += other.inputs;
        self.lines += other.lines;
        self.events += other.events;
        self.store_rows += other.store_rows;
        self.prefiltered += other.prefiltered;
        self.blank += other.blank;
        self.not_json += other.not_json;
        self.plain_logging += other.plain_logging;
        self.malformed += other.malformed;
        self.not_flow_events += other.not_flow_events;
        self.tenant_lines += other.tenant_lines;
        self.store_save_failed += other.store_save_failed;
        self.middleware_errors += other.middleware_errors;
        self.non_utf8 += other.non_utf8;
        self.too_long += other.too_long;
        self.duplicates += other.duplicates;
        self.store_rows_skipped += other.store_rows_skipped;
        self.late += other.late;
        self.store_rows_other += other.store_rows_other;
    }

    /// Counts one store row read live; true when it is an event to give.
    pub(crate) fn count_row(&mut self, record: &Record) -> bool {
        match record {
            Record::Skipped => self.store_rows_skipped += 1,
            Record::OtherKind => self.store_rows_other += 1,
            _ => {
                self.store_rows += 1;
                return true;
            }
        }
        false
    }

    fn count_skip(&mut self, reason: SkipReason) {
        match reason {
            SkipReason::Blank => self.blank += 1,
            SkipReason::NotJson => self.not_json += 1,
            SkipReason::PlainLogging => self.plain_logging += 1,
            SkipReason::Malformed => self.malformed += 1,
            SkipReason::NotFlowEvent => self.not_flow_events += 1,
            SkipReason::StoreSaveFailed => self.store_save_failed += 1,
            SkipReason::MiddlewareError => self.middleware_errors += 1,
        }
    }

    /// Lines that gave nothing (blank lines and tenant lines are not counted as skipped).
    pub fn skipped(&self) -> u64 {
        self.not_json
            + self.too_long
            + self.plain_logging
            + self.malformed
            + self.not_flow_events
            + self.store_rows_skipped
    }
}

/// What the whole read produced besides events: counts and the errors met on the way. Errors
/// do not stop the other inputs; the run ends with a failure status when there were any.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub stats: ReadStats,
    pub errors: Vec<Error>,
    /// Said on stderr after the report (a filter value no event carries, say).
    pub warnings: Vec<String>,
}

pub(crate) type SharedReport = Arc<Mutex<ReadReport>>;

/// Everything needed to open the sources of one run.
pub struct SourceOptions {
    pub inputs: Vec<InputSpec>,
    pub store: Option<StoreQuery>,
    pub strict: bool,
    pub prefilter: LinePrefilter,
    /// Bytes every wanted line contains, if there are such (see `filter::EventFilter::required`).
    pub required: Option<Vec<u8>>,
    /// Show a progress bar on stderr (when it is a terminal and the files are large).
    pub progress: bool,
    /// The first this many lines of each input are decoded whatever the prefilter says: a
    /// sample of every trace for analyses that need the whole flow (`find` learns the graph).
    pub sample_lines: u64,
    /// Threads decoding each log input; `None`: one per core but one.
    pub decode_threads: Option<usize>,
    /// Longest line read (`--max-line-bytes`); longer ones are skipped and counted.
    pub max_line_bytes: usize,
    /// Follow the inputs as they grow (`--follow`) instead of reading them to their end.
    pub follow: Option<FollowOptions>,
    /// Sees every line read (`lint`).
    pub inspector: Option<Arc<dyn LineInspector>>,
    /// Batches of decoded events (1,024 each) the reading threads may hold ready for the
    /// consumer, split between the inputs read at once ([`BATCHES_AHEAD`] each at least).
    pub batches_ahead: usize,
}

/// Batches each reading thread holds ready, at least and by default (`events`, `--watch`,
/// `import`: consumers that hand events on as they come).
pub const BATCHES_AHEAD: usize = 2;
/// What an analysis asks for: a pause of either thread (the shared machine's scheduler) then
/// no longer stops the other within a millisecond or two (`classify` on 1 GiB, two cores:
/// context switches 1,100-1,500 -> 530-610, 15 of 18 alternated runs faster, about 5% at the
/// median) for about 1.3 MiB more events in flight (208-byte events).
pub const BATCHES_AHEAD_DEEP: usize = 8;

impl SourceOptions {
    /// How each log input's lines are read; `search` lets a trace's bytes be searched for
    /// in whole blocks (off when following, and under `--strict`, which must see each line's
    /// length: a line too long to read stops it, whatever it holds).
    fn line_options(&self, search: bool) -> lines::LineOptions {
        lines::LineOptions {
            prefilter: Arc::clone(&self.prefilter),
            required: self
                .required
                .as_ref()
                .filter(|_| search && !self.strict)
                .map(|needle| memchr::memmem::Finder::new(needle).into_owned()),
            sample_lines: self.sample_lines,
            strict: self.strict,
            max_line_bytes: self.max_line_bytes,
            inspector: self.inspector.clone(),
        }
    }
}

/// Inputs larger than this in all get a progress bar (on a terminal).
const PROGRESS_BYTES: u64 = 100 << 20;

/// A progress bar over the files' bytes when stderr is a terminal and they are large: bytes
/// read, rate, time left. Never on a pipe, never on stdout.
fn progress_bar(inputs: &[InputSpec]) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .filter_map(|spec| match spec {
            InputSpec::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            InputSpec::Stdin => None,
        })
        .sum();
    if total <= PROGRESS_BYTES {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar.with_finish(indicatif::ProgressFinish::AndClear))
}

/// Threads decoding one input: one per core but one, left to the thread that orders the
/// events and follows the traces (and the analysis beside it). On two cores one decoding
/// thread took 5-11% less CPU than two for classify, triage and traces on 1 GiB (the
/// parallel blocks' hand-over costs more than the second core gives back).
fn decode_workers() -> usize {
    thread::available_parallelism().map_or(1, |cores| (cores.get() - 1).clamp(1, 8))
}

/// The merged, time-ordered events of every source, with tenants propagated and duplicates
/// (the same event read from a store and from a log, or a line shipped twice) dropped.
pub struct EventStream {
    records: Records,
    tenants: TenantMap,
    report: SharedReport,
    /// The events already given at the current timestamp: the first one's identity for later
    /// (most times have one event), the identities worked out once a second one came.
    seen_at: (Timestamp, Option<IdentityLater>, Vec<u64>),
    duplicates: u64,
    /// The latest time given so far, and the events given after it though older.
    latest: Timestamp,
    out_of_order: u64,
    /// Set when the event just given is older than one given before it (late).
    late: Arc<std::sync::atomic::AtomicBool>,
    /// Names for the hex trace ids the decoding thread left unnamed.
    hex_trace_names: HexTraceNames,
}

/// The event store, SQLite or PostgreSQL (told apart by `--store`'s URL scheme), read once
/// or followed.
pub(crate) enum AnyStore {
    Sqlite(Box<store::Store>),
    Postgres(Box<postgres::PgStore>),
}

impl AnyStore {
    fn open(query: StoreQuery) -> Result<AnyStore, Error> {
        if postgres::is_postgres_url(&query.path.to_string_lossy()) {
            let timeout = query.timeout;
            Ok(AnyStore::Postgres(Box::new(postgres::PgStore::open(
                query, timeout,
            )?)))
        } else {
            Ok(AnyStore::Sqlite(Box::new(store::Store::open(query)?)))
        }
    }

    /// Its selected rows, in time order, from a reader thread.
    fn into_records(self, report: SharedReport) -> store::StoreRecords {
        match self {
            AnyStore::Sqlite(store) => store.into_records(report),
            AnyStore::Postgres(store) => store.into_records(report),
        }
    }
}

/// The sources' records in time order: read to their end and merged through a look-ahead
/// window, or followed live.
enum Records {
    Merged(merge::Merge),
    Live(follow::LiveMerge),
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        match self {
            Records::Merged(merge) => merge.next(),
            Records::Live(live) => live.next(),
        }
    }
}

impl EventStream {
    /// Opens every source; any that cannot be opened (a log input or the store) is an error at
    /// once, before anything is read or reported.
    pub fn open(mut options: SourceOptions) -> Result<EventStream, Error> {
        if let Some(follow) = options.follow {
            return EventStream::follow(options, follow);
        }
        let mut unopened = Vec::new();
        let report: SharedReport = Arc::default();
        let mut sources: Vec<Box<dyn Iterator<Item = Record> + Send>> = Vec::new();
        // The log inputs, each read on a thread of its own once all are open.
        let mut readers: Vec<Box<dyn Iterator<Item = Record> + Send>> = Vec::new();
        if let Some(query) = options.store.take() {
            let store = AnyStore::open(query)?;
            sources.push(Box::new(store.into_records(Arc::clone(&report))));
        }
        let progress = options
            .progress
            .then(|| progress_bar(&options.inputs))
            .flatten();
        let line_options = || options.line_options(true);
        for spec in &options.inputs {
            // Several pods' logs one after another in one file: each run is an input of its
            // own (read from its offset, on its own thread), so the merge orders them.
            let runs = match spec {
                InputSpec::File(path) => segments::pod_runs(path).ok().flatten(),
                InputSpec::Stdin => None,
            };
            if let Some(runs) = runs {
                let mut opened = Vec::new();
                for (index, run) in runs.iter().enumerate() {
                    match input::open_run(spec, run, index == 0) {
                        Ok(input) => opened.push(input),
                        Err(error) => unopened.push(error),
                    }
                }
                for input in opened {
                    let records =
                        lines::LineRecords::new(input, line_options(), Arc::clone(&report));
                    readers.push(Box::new(records));
                }
                report
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .warnings
                    .push(format!(
                        "{} holds the logs of {} pods one after another (kubectl logs -l): \
                         read as {} runs merged by time",
                        spec.display_name(),
                        runs.len(),
                        runs.len()
                    ));
                continue;
            }
            // Every line decoded: on all cores. Only a trace's lines (find): the block search
            // of one reader is faster than any decoding.
            let workers = options.decode_threads.unwrap_or_else(decode_workers);
            // One reader (a block search, or one decoding thread) reads the file's pages in
            // place: no read() copy, no reading thread.
            let line_options = line_options();
            let map_plain = line_options.required.is_some() || workers == 1;
            match input::open_input(spec, progress.as_ref(), map_plain) {
                Ok(opened) => {
                    let report = Arc::clone(&report);
                    let records: Box<dyn Iterator<Item = Record> + Send> =
                        match (&line_options.required, workers) {
                            (None, workers) if workers > 1 => {
                                Box::new(parallel::ParallelLines::new(
                                    opened,
                                    &line_options,
                                    report,
                                    workers,
                                ))
                            }
                            _ => Box::new(lines::LineRecords::new(opened, line_options, report)),
                        };
                    readers.push(records);
                }
                Err(error) => unopened.push(error),
            }
        }
        match unopened.len() {
            0 => {}
            1 => return Err(unopened.remove(0)),
            _ => return Err(Error::Several(unopened)),
        }
        let ahead = (options.batches_ahead / readers.len().max(1)).max(BATCHES_AHEAD);
        for records in readers {
            sources.push(Box::new(background::Background::spawn(records, ahead)));
        }
        Ok(EventStream::over(
            Records::Merged(merge::Merge::new(sources)),
            report,
        ))
    }

    fn over(records: Records, report: SharedReport) -> EventStream {
        EventStream {
            records,
            tenants: TenantMap::default(),
            report,
            seen_at: (Timestamp(i64::MIN), None, Vec::new()),
            duplicates: 0,
            latest: Timestamp(i64::MIN),
            out_of_order: 0,
            late: Arc::default(),
            hex_trace_names: HexTraceNames::default(),
        }
    }

    /// Opens every input to be followed: files from their end (or start), stdin as it comes,
    /// each read on its own thread. All are opened before anything is read.
    fn follow(mut options: SourceOptions, follow: FollowOptions) -> Result<EventStream, Error> {
        let report: SharedReport = Arc::default();
        let store = options.store.take().map(AnyStore::open).transpose()?;
        // Files are opened now (an error before anything is read); standard input on its
        // thread, where waiting for its first bytes holds nothing else up.
        let mut opened = Vec::new();
        let mut unopened = Vec::new();
        for spec in &options.inputs {
            // Streams (stdin, a pipe) are opened on their thread: their first bytes may be a
            // long time coming.
            let stream = match spec {
                InputSpec::Stdin => true,
                InputSpec::File(path) => {
                    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
                }
            };
            if stream {
                opened.push(Err(spec.clone()));
                continue;
            }
            match input::open_followed(spec, follow.from_start) {
                Ok(input) => opened.push(Ok(input)),
                Err(error) => unopened.push(error),
            }
        }
        match unopened.len() {
            0 => {}
            1 => return Err(unopened.remove(0)),
            _ => return Err(Error::Several(unopened)),
        }
        follow::catch_interrupt();
        let (sender, receiver) = follow::channel();
        let inputs = opened.len() + usize::from(store.is_some());
        if let Some(store) = store {
            follow::spawn_store(store, follow, Arc::clone(&report), sender.clone());
        }
        for input in opened {
            // A live line is decoded as it comes: no block search for a trace's bytes.
            let line_options = options.line_options(false);
            let report = Arc::clone(&report);
            let open = move || {
                let input = match input {
                    Ok(input) => input,
                    Err(spec) => input::open_input(&spec, None, false)
                        .map_err(|error| (error, Arc::clone(&report)))?,
                };
                Ok(lines::LineRecords::new(input, line_options, report))
            };
            follow::spawn_live(open, sender.clone());
        }
        Ok(EventStream::over(
            Records::Live(follow::LiveMerge::new(receiver, inputs, follow)),
            report,
        ))
    }

    /// In a follow, a flag set while the event just given is older than one given before it
    /// (it came after the reorder window: late); readable while the filters borrow the stream.
    pub fn late_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        Arc::clone(&self.late)
    }

    /// The counts so far and the errors met (complete once the stream is exhausted).
    pub fn take_report(&self) -> ReadReport {
        let mut report =
            std::mem::take(&mut *self.report.lock().unwrap_or_else(|p| p.into_inner()));
        report.stats.duplicates = self.duplicates;
        if matches!(self.records, Records::Live(_)) {
            report.stats.late = self.out_of_order;
        } else {
            report.stats.out_of_order = self.out_of_order;
        }
        report
    }

    /// True when an event with the same identity was already given (the stream is in time
    /// order, so only events of the same timestamp need remembering).
    fn is_duplicate(&mut self, event: &Event) -> bool {
        let (at, first, seen) = &mut self.seen_at;
        if *at != event.ts {
            *at = event.ts;
            seen.clear();
            *first = Some(event.identity_later());
            return false;
        }
        if let Some(first) = first.take() {
            seen.push(first.identity());
        }
        let identity = event.identity();
        if seen.contains(&identity) {
            self.duplicates += 1;
            return true;
        }
        seen.push(identity);
        false
    }

    /// Which tenants each trace was seen with (complete once the stream is exhausted).
    pub fn tenants(&self) -> &TenantMap {
        &self.tenants
    }
}

/// Finishes an event as a sequential reader's one decoding thread leaves it to the stream,
/// on the stream's thread: its keys made, its hex trace id named.
pub(crate) fn finish_event(event: &mut Event, hex_trace_names: &mut HexTraceNames) {
    event.ensure_keys();
    if let Some(bits) = event.unnamed_hex_trace() {
        event.name_hex_trace(hex_trace_names.name(bits));
    }
}

impl Iterator for EventStream {
    type Item = Box<Event>;

    fn next(&mut self) -> Option<Box<Event>> {
        while let Some(mut record) = self.records.next() {
            if let Record::Event(event) = &mut record {
                finish_event(event, &mut self.hex_trace_names);
            }
            if let Record::Event(event) = &record
                && self.is_duplicate(event)
            {
                // Still learn its tenant: the copy may carry one the first did not.
                self.tenants.apply(record);
                continue;
            }
            if let Some(event) = self.tenants.apply(record) {
                let late = event.ts < self.latest;
                if matches!(self.records, Records::Live(_)) {
                    self.late.store(late, std::sync::atomic::Ordering::Relaxed);
                }
                if late {
                    self.out_of_order += 1;
                } else {
                    self.latest = event.ts;
                }
                return Some(event);
            }
        }
        None
    }
}
