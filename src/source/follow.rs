//! Following inputs as they grow (`--follow`): files read with `tail -F` semantics, every input
//! read line by line on a thread of its own and handed over at once, and a merge that holds each
//! event only for the reorder window (wall time) before giving it in time order. Nothing waits
//! for a block, a batch or a look-ahead to fill: a line reaches the consumer within the window.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use super::lines::LineRecords;
use super::{Record, SharedReport};
use crate::error::Error;
use crate::event::Timestamp;

/// How inputs are followed.
#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// How long an event is held so that a slightly earlier one from another input (or pod)
    /// can still go first.
    pub reorder: Duration,
    /// Said once on stderr after this long without a line (`None`: never).
    pub idle: Option<Duration>,
    /// Read files from their start (`--since` given) instead of from their end.
    pub from_start: bool,
    /// How often a followed store is asked for new rows.
    pub poll: Duration,
}

/// How often a followed file that gave nothing is looked at again.
const POLL: Duration = Duration::from_millis(50);
/// The longest the merge sleeps before looking at Ctrl-C and the idle clock again.
const TICK: Duration = Duration::from_millis(100);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static STOPPED: AtomicBool = AtomicBool::new(false);

/// True once Ctrl-C was pressed during a follow.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Ends every follow at its next look (the consumer stopped: a closed stdout, say).
pub fn stop() {
    STOPPED.store(true, Ordering::Relaxed);
}

pub(crate) fn ending() -> bool {
    interrupted() || STOPPED.load(Ordering::Relaxed)
}

/// Makes Ctrl-C end the follow (the stream ends, the summary is printed, exit 130) instead of
/// killing the process mid-line.
pub fn catch_interrupt() {
    // Only fails when a handler is already set (a second follow in one process, as in tests).
    let _ = ctrlc::set_handler(|| {
        // A second Ctrl-C ends at once (an output that does not drain, say).
        if INTERRUPTED.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
}

/// Says something about an input on stderr as it happens (rotation, truncation, silence).
fn notice(text: &str) {
    let _ = writeln!(io::stderr().lock(), "flowtrace: {text}");
}

/// A log file read as it grows, `tail -F` style: at the end of its bytes it waits for more;
/// when the path names a new file (rotated: renamed and recreated) the old one is read until
/// it has been quiet a moment, then the new one from its start; when the file shrinks
/// (truncated) it is read again from its start. Both are said on stderr. A line cut by either
/// is ended there, so the next file's first line is read whole. It ends only on Ctrl-C.
pub(crate) struct FollowFile {
    path: PathBuf,
    name: String,
    file: File,
    /// The open file's device and inode: the path names another file once they differ.
    identity: (u64, u64),
    position: u64,
    /// Since when the path names no file (deleted, or renamed and not yet recreated), and
    /// whether that was said.
    missing_since: Option<(Instant, bool)>,
    /// While the path names another file and the open one is still read: when that was
    /// noticed, and when the open one last gave bytes (see `ROTATION_QUIET`).
    replaced: Option<(Instant, Instant)>,
    /// The last byte given was a line end (or none was given yet).
    at_line_start: bool,
    /// A line end to give before the next file's bytes: the last line read was cut short.
    end_cut_line: bool,
    /// The last bytes read, which end at `position`: when they are no longer there, the
    /// file was truncated and written again past where it was read (a copytruncate caught
    /// late: a small log, or a paused output that kept the reader from looking).
    tail: [u8; TAIL],
    tail_length: usize,
    /// The last read found the end: the next bytes may be a rewritten file's.
    waited: bool,
    /// That the path's new file could not be opened was said.
    unopenable_said: bool,
}

/// Bytes kept to recognize the file read so far.
const TAIL: usize = 64;

/// After a rotation, the old file is read until it has given nothing for this long: with
/// logrotate's `create` the service writes to the renamed file until its postrotate signal
/// makes it reopen its log, and those lines are the moments before the new file's.
const ROTATION_QUIET: Duration = Duration::from_secs(1);
/// ... and at most this long, so a file still written to after a rotation (a service that
/// never reopens its log) does not keep the new one unread.
const ROTATION_LONGEST: Duration = Duration::from_secs(30);

fn identity_of(metadata: &std::fs::Metadata) -> (u64, u64) {
    (metadata.dev(), metadata.ino())
}

/// A path missing this long is said on stderr: a rotation recreates it at once.
const MISSING_NOTICE_AFTER: Duration = Duration::from_secs(1);

impl FollowFile {
    /// Opens `path`, at its end unless `from_start`.
    pub(crate) fn open(path: PathBuf, name: String, from_start: bool) -> io::Result<FollowFile> {
        let mut file = File::open(&path)?;
        let identity = identity_of(&file.metadata()?);
        let position = if from_start {
            0
        } else {
            file.seek(SeekFrom::End(0))?
        };
        let mut followed = FollowFile {
            path,
            name,
            file,
            identity,
            position,
            missing_since: None,
            replaced: None,
            at_line_start: true,
            end_cut_line: false,
            tail: [0; TAIL],
            tail_length: 0,
            waited: false,
            unopenable_said: false,
        };
        // From the end: the bytes before it are what the file must still hold.
        let length = position.min(TAIL as u64) as usize;
        if length > 0 {
            use std::os::unix::fs::FileExt;
            let mut tail = [0; TAIL];
            followed
                .file
                .read_exact_at(&mut tail[..length], position - length as u64)?;
            followed.keep_tail(&tail[..length]);
        }
        Ok(followed)
    }

    /// Keeps the last `TAIL` bytes read, `read` being the latest.
    fn keep_tail(&mut self, read: &[u8]) {
        if read.len() >= TAIL {
            self.tail.copy_from_slice(&read[read.len() - TAIL..]);
            self.tail_length = TAIL;
            return;
        }
        let kept = self.tail_length.min(TAIL - read.len());
        self.tail
            .copy_within(self.tail_length - kept..self.tail_length, 0);
        self.tail[kept..kept + read.len()].copy_from_slice(read);
        self.tail_length = kept + read.len();
    }

    /// The bytes last read are no longer where they were: the file was written again.
    fn rewritten(&self) -> bool {
        use std::os::unix::fs::FileExt;
        let length = self.tail_length;
        if length == 0 {
            return false;
        }
        let mut now = [0; TAIL];
        match self
            .file
            .read_exact_at(&mut now[..length], self.position - length as u64)
        {
            Ok(()) => now[..length] != self.tail[..length],
            // Shorter than what was read: the size check says so.
            Err(_) => false,
        }
    }

    /// After the open file gave nothing: true when reading should go on at once (rotated or
    /// truncated: the file was reopened or rewound).
    fn check_replaced(&mut self) -> io::Result<bool> {
        let Ok(metadata) = std::fs::metadata(&self.path) else {
            // Renamed away and not yet recreated, or deleted: keep waiting for it, as tail -F
            // does, and say so once when it is not a rotation's moment.
            let (since, said) = self.missing_since.get_or_insert((Instant::now(), false));
            if !*said && since.elapsed() >= MISSING_NOTICE_AFTER {
                *said = true;
                notice(&format!(
                    "{} is gone (deleted or renamed): waiting for it to be created again",
                    self.name
                ));
            }
            return Ok(false);
        };
        let said_missing = self.missing_since.as_ref().is_some_and(|(_, said)| *said);
        if identity_of(&metadata) != self.identity {
            // The old file was read to its end just now; the service may still be writing
            // to it (see `ROTATION_QUIET`): move to the new one once it has been quiet.
            let now = Instant::now();
            let (noticed, last_bytes) = *self.replaced.get_or_insert((now, now));
            if last_bytes.elapsed() < ROTATION_QUIET && noticed.elapsed() < ROTATION_LONGEST {
                return Ok(false);
            }
            match File::open(&self.path) {
                // The identity of the file opened, not of the path looked at before: it may
                // have been rotated again in between.
                Ok(file) => {
                    self.identity = identity_of(&file.metadata()?);
                    self.file = file;
                    self.position = 0;
                    self.missing_since = None;
                    self.replaced = None;
                    self.end_cut_line = !self.at_line_start;
                    self.tail_length = 0;
                    self.unopenable_said = false;
                    notice(&format!(
                        "{} {}: reading the new file from its start",
                        self.name,
                        if said_missing {
                            "is back"
                        } else {
                            "was rotated"
                        }
                    ));
                    return Ok(true);
                }
                Err(error) => {
                    // A new file it may not read (logrotate's `create 0600` as another user):
                    // said once, then looked at again at each poll.
                    if !self.unopenable_said {
                        self.unopenable_said = true;
                        notice(&format!(
                            "{} was rotated but the new file cannot be opened ({error}): \
                             still trying",
                            self.name
                        ));
                    }
                    return Ok(false);
                }
            }
        }
        self.missing_since = None;
        if metadata.len() < self.position || self.rewritten() {
            self.rewind()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads the file again from its start (it was truncated), ending a line it cut short.
    fn rewind(&mut self) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        self.position = 0;
        self.end_cut_line = !self.at_line_start;
        self.tail_length = 0;
        notice(&format!(
            "{} was truncated: reading it again from its start",
            self.name
        ));
        Ok(())
    }
}

impl Read for FollowFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if buf.is_empty() {
                return Ok(0);
            }
            if std::mem::take(&mut self.end_cut_line) {
                // The cut line ends here, on its own (skipped as not JSON, and counted), so
                // the next file's first line is not glued to it.
                buf[0] = b'\n';
                self.at_line_start = true;
                return Ok(1);
            }
            let count = self.file.read(buf)?;
            if count > 0 {
                // After a wait, the file may have been truncated and grown back past where
                // it was read: then these bytes are from the middle of its new content.
                if std::mem::take(&mut self.waited) && self.rewritten() {
                    self.rewind()?;
                    continue;
                }
                self.position += count as u64;
                self.at_line_start = buf[count - 1] == b'\n';
                self.keep_tail(&buf[..count]);
                if let Some((_, last_bytes)) = &mut self.replaced {
                    // Still written to: the quiet moment starts again.
                    *last_bytes = Instant::now();
                }
                return Ok(count);
            }
            if ending() {
                return Ok(0);
            }
            self.waited = true;
            if !self.check_replaced()? {
                thread::sleep(POLL);
            }
        }
    }
}

/// What a live input's thread sends: a record, or its end.
pub(crate) enum Arrival {
    Record(Record),
    End,
}

/// Opens an input on a thread of its own (standard input's first bytes may be a long time
/// coming, and must not hold up the other inputs or the idle clock), then sends each of its
/// records the moment it is decoded. An input that cannot be opened is reported and ends.
pub(crate) fn spawn_live(
    open: impl FnOnce() -> Result<LineRecords, (Error, SharedReport)> + Send + 'static,
    sender: SyncSender<Arrival>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut records = match open() {
            Ok(records) => records,
            Err((error, report)) => {
                report
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .errors
                    .push(error);
                let _ = sender.send(Arrival::End);
                return;
            }
        };
        records.publish_stats(); // the input counts from its opening, lines or not
        while let Some(record) = records.next() {
            records.publish_stats();
            if sender.send(Arrival::Record(record)).is_err() {
                return;
            }
        }
        let _ = sender.send(Arrival::End);
    })
}

/// Follows a store on a thread of its own, sending each new row as it is read.
pub(crate) fn spawn_store(
    store: super::AnyStore,
    options: FollowOptions,
    report: SharedReport,
    sender: SyncSender<Arrival>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut send = |record| sender.send(Arrival::Record(record)).is_ok();
        let (from_start, poll) = (options.from_start, options.poll);
        let followed = match store {
            super::AnyStore::Sqlite(store) => store.poll_rows(from_start, poll, &report, &mut send),
            super::AnyStore::Postgres(mut store) => {
                store.poll_rows(from_start, poll, &report, &mut send)
            }
        };
        if let Err(error) = followed {
            report
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .errors
                .push(error);
        }
        let _ = sender.send(Arrival::End);
    })
}

/// A held event, ordered by time then arrival (the heap gives the earliest first).
struct Held {
    ts: Timestamp,
    arrival: u64,
    record: Record,
}

impl PartialEq for Held {
    fn eq(&self, other: &Held) -> bool {
        (self.ts, self.arrival) == (other.ts, other.arrival)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Held) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Held) -> std::cmp::Ordering {
        (other.ts, other.arrival).cmp(&(self.ts, self.arrival))
    }
}

/// The live inputs merged by time through the reorder window.
pub(crate) struct LiveMerge {
    receiver: Receiver<Arrival>,
    open_inputs: usize,
    held: BinaryHeap<Held>,
    /// Arrival numbers and window ends of the events taken in, in arrival order.
    dues: std::collections::VecDeque<(u64, Instant)>,
    /// The arrival numbers of the events held.
    holding: std::collections::HashSet<u64>,
    arrivals: u64,
    options: FollowOptions,
    last_input: Instant,
    idle_said: bool,
}

impl LiveMerge {
    pub(crate) fn new(
        receiver: Receiver<Arrival>,
        inputs: usize,
        options: FollowOptions,
    ) -> LiveMerge {
        LiveMerge {
            receiver,
            open_inputs: inputs,
            held: BinaryHeap::new(),
            dues: std::collections::VecDeque::new(),
            holding: std::collections::HashSet::new(),
            arrivals: 0,
            options,
            last_input: Instant::now(),
            idle_said: false,
        }
    }

    /// When the longest-held event's window ends (events arrive in due order).
    fn oldest_due(&mut self) -> Option<Instant> {
        // Drop the dues of events already given (released early, in time order).
        while let Some(&(arrival, due)) = self.dues.front() {
            if self.released_before(arrival) {
                self.dues.pop_front();
            } else {
                return Some(due);
            }
        }
        None
    }

    /// True when the event of `arrival` is no longer held.
    fn released_before(&self, arrival: u64) -> bool {
        !self.holding.contains(&arrival)
    }

    fn hold(&mut self, record: Record) {
        self.arrivals += 1;
        self.dues
            .push_back((self.arrivals, Instant::now() + self.options.reorder));
        self.holding.insert(self.arrivals);
        self.held.push(Held {
            ts: record.ts(),
            arrival: self.arrivals,
            record,
        });
    }
}

impl Iterator for LiveMerge {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            let now = Instant::now();
            // Events go in time order, the earliest first, as soon as any held event has waited
            // its window (an input whose clock runs ahead is held no longer than the window),
            // and all of them when the inputs ended or the follow is stopped.
            let overdue = self.oldest_due().is_some_and(|due| due <= now);
            if !self.held.is_empty() && (overdue || self.open_inputs == 0 || ending()) {
                let held = self.held.pop()?;
                self.holding.remove(&held.arrival);
                return Some(held.record);
            }
            if self.open_inputs == 0 || ending() {
                return None;
            }
            let wait = self
                .oldest_due()
                .map_or(TICK, |due| due.saturating_duration_since(now))
                .min(TICK);
            match self.receiver.recv_timeout(wait) {
                Ok(Arrival::Record(record)) => {
                    self.last_input = Instant::now();
                    self.idle_said = false;
                    self.hold(record);
                }
                Ok(Arrival::End) => self.open_inputs -= 1,
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(idle) = self.options.idle
                        && !self.idle_said
                        && self.last_input.elapsed() >= idle
                    {
                        self.idle_said = true;
                        let idle = if !idle.as_millis().is_multiple_of(1000) {
                            format!("{} ms", idle.as_millis())
                        } else {
                            format!("{} s", idle.as_secs())
                        };
                        notice(&format!(
                            "no events for {idle} (still following; Ctrl-C ends)"
                        ));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => self.open_inputs = 0,
            }
        }
    }
}

/// A channel for live inputs to send on.
pub(crate) fn channel() -> (SyncSender<Arrival>, Receiver<Arrival>) {
    // Bounded: when the output is slower than the input (a paused pager, a slow terminal),
    // the readers wait instead of holding the input in memory.
    std::sync::mpsc::sync_channel(4096)
}
