//! A plain log file read through a memory map, for `find`'s search of whole blocks: the search
//! reads the page cache in place instead of waiting for `read()` to copy each byte out of it
//! (the copy alone took as long as the search on a 1 GiB log).
//!
//! A mapped file cut shorter while it is read (logrotate's `copytruncate`) makes the kernel
//! send SIGBUS at the first page past its new end, which kills a process by default. Here a
//! handler answers a fault inside one of these maps by putting zeroed pages over the rest of
//! the map and flagging it, and the reader looks at the file's size at each window and at the
//! end (a cut inside the last page zeroes its tail without a fault); either way the read
//! fails with an error naming the truncation instead of handing on anything past it. Faults
//! anywhere else go to the handler installed before (Rust's stack-overflow guard).

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::read_ahead::{InputRead, read_buffered};

/// Bytes handed out by one `fill_buf`: the file's size is looked at between windows.
const WINDOW: usize = 4 * 1024 * 1024;
/// Pages passed over are given back in runs of this many bytes, so the file's pages do not
/// count in the process's memory (the page cache keeps them).
const RELEASE: usize = 1024 * 1024;

/// Maps open at once, at most (one per input read in skip mode); past it, inputs are read.
const SLOTS: usize = 16;

/// One map the SIGBUS handler knows: its address range, and whether the file shrank under it.
/// `version` is odd while the range is being changed (a seqlock: the handler skips a slot it
/// did not read whole, which cannot be the one faulting: a map is read by its reader, or by the
/// reader's search helper while the reader waits for it, and only that reader changes the
/// slot).
struct Slot {
    version: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
    shrank: AtomicBool,
}

impl Slot {
    /// Sets the range, under the version count.
    fn set(&self, start: usize, end: usize) {
        self.version.fetch_add(1, Ordering::AcqRel);
        self.start.store(start, Ordering::Release);
        self.end.store(end, Ordering::Release);
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// The range, when read whole (not while it changes).
    fn range(&self) -> Option<(usize, usize)> {
        let before = self.version.load(Ordering::Acquire);
        let start = self.start.load(Ordering::Acquire);
        let end = self.end.load(Ordering::Acquire);
        let after = self.version.load(Ordering::Acquire);
        (before.is_multiple_of(2) && before == after && start != 0).then_some((start, end))
    }
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_SLOT: Slot = Slot {
    version: AtomicUsize::new(0),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    shrank: AtomicBool::new(false),
};
static MAPS: [Slot; SLOTS] = [EMPTY_SLOT; SLOTS];
/// Taking and freeing slots (the handler only reads them).
static SLOT_LOCK: Mutex<()> = Mutex::new(());
/// The SIGBUS action before ours, once ours is installed (`None`: it could not be).
static PREVIOUS_ACTION: OnceLock<Option<libc::sigaction>> = OnceLock::new();
/// The page size, set before the handler is installed (the handler reads only atomics).
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(4096);

/// A regular file's bytes, mapped read-only.
pub(crate) struct MappedFile {
    /// Asked for its size as the read goes (a cut inside the last page does not fault).
    file: File,
    address: *mut libc::c_void,
    length: usize,
    slot: usize,
    position: usize,
    /// The size was last checked when the position was here (`None`: never).
    size_checked_at: Option<usize>,
    /// Pages before this offset were given back.
    released: usize,
    progress: Option<indicatif::ProgressBar>,
}

// SAFETY: the map is read-only and owned by this value alone; the raw pointer is what keeps
// the type from being `Send` automatically.
unsafe impl Send for MappedFile {}

impl MappedFile {
    /// Maps `file` when it can be (a regular, non-empty file, a free slot, the handler in
    /// place); `None` means "read it instead".
    pub(crate) fn map(file: &File, progress: Option<indicatif::ProgressBar>) -> Option<MappedFile> {
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() || metadata.len() == 0 {
            return None;
        }
        let length = usize::try_from(metadata.len()).ok()?;
        install_handler()?;
        let file = file.try_clone().ok()?;
        let _guard = SLOT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let slot = MAPS.iter().position(|slot| slot.range().is_none())?;
        // SAFETY: a fresh read-only private map of an open file descriptor; the kernel picks
        // the address. It is only read through `window` while this value lives.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: advice on the range just mapped; failure only loses the read-ahead hint.
        unsafe { libc::madvise(address, length, libc::MADV_SEQUENTIAL) };
        let map = &MAPS[slot];
        map.shrank.store(false, Ordering::Release);
        map.set(address as usize, address as usize + length);
        Some(MappedFile {
            file,
            address,
            length,
            slot,
            position: 0,
            size_checked_at: None,
            released: 0,
            progress,
        })
    }

    /// The mapped bytes from `from` to `to` (within the map, not yet given back).
    fn window(&self, from: usize, to: usize) -> &[u8] {
        debug_assert!(from >= self.released && from <= to && to <= self.length);
        // SAFETY: `address` maps `length` readable bytes until `drop`, and pages from
        // `released` on were not given back; a page past the file's end is replaced by
        // zeroes by the SIGBUS handler before the read goes on. The bytes can still change
        // under the borrow if another process writes the file (as with any shared mapping):
        // readers only look at them, within bounds-checked lengths.
        unsafe { std::slice::from_raw_parts(self.address.cast::<u8>().add(from), to - from) }
    }

    /// The first `length` bytes at most (to sniff a compression's magic number).
    pub(crate) fn head(&self, length: usize) -> &[u8] {
        self.window(0, length.min(self.length))
    }

    /// The file is shorter than its map: a page past its end faulted, or its size says so
    /// (looked at once per window and at the end).
    fn shrank(&mut self) -> bool {
        if MAPS[self.slot].shrank.load(Ordering::Acquire) {
            return true;
        }
        let due = match self.size_checked_at {
            None => true,
            Some(at) => self.position >= at.saturating_add(WINDOW) || self.position == self.length,
        };
        if due && self.size_checked_at != Some(self.position) {
            self.size_checked_at = Some(self.position);
            if super::input::cut_short(&self.file, self.length as u64) {
                MAPS[self.slot].shrank.store(true, Ordering::Release);
                return true;
            }
        }
        false
    }

    /// Gives back the pages wholly before `position` (the page cache keeps them).
    fn release_passed(&mut self) {
        let page = page_size();
        let end = self.position / page * page;
        if end >= self.released + RELEASE {
            // SAFETY: a page-aligned range inside the map, never read again (the position
            // only moves forward); on a private read-only map the pages are dropped from this
            // process only.
            unsafe {
                libc::madvise(
                    self.address.cast::<u8>().add(self.released).cast(),
                    end - self.released,
                    libc::MADV_DONTNEED,
                )
            };
            self.released = end;
        }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        let _guard = SLOT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        MAPS[self.slot].set(0, 0);
        // SAFETY: the map made in `map`, unmapped once; nothing borrows it past `self`.
        unsafe { libc::munmap(self.address, self.length) };
    }
}

impl Read for MappedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, buf)
    }
}

impl BufRead for MappedFile {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.shrank() {
            return Err(io::Error::other(super::input::TRUNCATED));
        }
        let end = self.length.min(self.position.saturating_add(WINDOW));
        Ok(self.window(self.position, end))
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.length - self.position);
        self.position += amount;
        if let Some(progress) = &self.progress {
            progress.inc(amount as u64);
        }
        self.release_passed();
    }
}

impl InputRead for MappedFile {
    fn changed_under_reader(&self) -> bool {
        MAPS[self.slot].shrank.load(Ordering::Acquire)
    }
}

fn page_size() -> usize {
    PAGE_SIZE.load(Ordering::Relaxed)
}

/// Installs the SIGBUS handler once; `None` when it could not be, or when something replaced
/// it since (maps are then not used).
fn install_handler() -> Option<()> {
    let previous = PREVIOUS_ACTION.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        if let size @ 1.. = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            PAGE_SIZE.store(size as usize, Ordering::Relaxed);
        }
        // SAFETY: sigaction with a zeroed struct filled as the man page says; the handler
        // only uses async-signal-safe calls (mmap, sigaction) and atomics.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            (libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0).then_some(previous)
        }
    });
    previous.as_ref()?;
    // SAFETY: reads the current action only.
    let current = unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut current);
        current
    };
    (current.sa_sigaction == on_sigbus as *const () as libc::sighandler_t).then_some(())
}

extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; the fault address
    // means something only when the kernel raised the signal (`si_code` above 0, not `kill`).
    let (code, address) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // SAFETY: errno is thread-local; kept as the interrupted code left it.
    let errno = unsafe { *libc::__errno_location() };
    for map in MAPS.iter().filter(|_| code > 0 && code != libc::SI_KERNEL) {
        let Some((start, end)) = map.range() else {
            continue;
        };
        if address < start || address >= end {
            continue;
        }
        let page = address & !(page_size() - 1);
        // SAFETY: replaces the pages of our own map from the faulting one to its end with
        // zeroed anonymous ones (MAP_FIXED over a range we mapped), so the faulting read
        // succeeds when the handler returns.
        let zeroed = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                end - page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeroed != libc::MAP_FAILED {
            map.shrank.store(true, Ordering::Release);
            // SAFETY: as above.
            unsafe { *libc::__errno_location() = errno };
            return;
        }
    }
    // Not one of ours: what would have happened without this handler.
    let previous = PREVIOUS_ACTION.get().copied().flatten();
    match previous {
        Some(previous) if previous.sa_sigaction > libc::SIG_IGN => {
            if previous.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: the previous handler was installed as an SA_SIGINFO handler.
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(previous.sa_sigaction) };
                handler(signal, info, context);
            } else {
                // SAFETY: the previous handler was installed as a plain handler.
                let handler: extern "C" fn(libc::c_int) =
                    unsafe { std::mem::transmute(previous.sa_sigaction) };
                handler(signal);
            }
        }
        _ => {
            // The default action: restored, it ends the process when the read faults again.
            // SAFETY: resetting a signal's action is async-signal-safe.
            unsafe {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(count: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for number in 0..count {
            writeln!(
                bytes,
                "{{\"line\": {number}, \"pad\": \"{}\"}}",
                "x".repeat(100)
            )
            .unwrap();
        }
        bytes
    }

    /// A temporary file holding `bytes`.
    fn written(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn read_all(reader: &mut MappedFile) -> io::Result<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(all);
            }
            all.extend_from_slice(chunk);
            let length = chunk.len();
            reader.consume(length);
        }
    }

    #[test]
    fn a_mapped_file_reads_as_its_bytes() {
        let bytes = lines(100_000); // past two windows
        let file = written(&bytes);
        let mut mapped = MappedFile::map(file.as_file(), None).expect("a regular file maps");
        assert_eq!(read_all(&mut mapped).unwrap(), bytes);
        assert!(MappedFile::map(tempfile::NamedTempFile::new().unwrap().as_file(), None).is_none());
    }

    #[test]
    fn a_file_truncated_while_mapped_is_an_error_not_a_crash() {
        let bytes = lines(100_000);
        let file = written(&bytes);
        let mut mapped = MappedFile::map(file.as_file(), None).unwrap();
        assert!(!mapped.changed_under_reader());
        let window = mapped.fill_buf().unwrap();
        assert_eq!(window, &bytes[..WINDOW]);
        // As copytruncate does: the file is cut to nothing while its window is searched.
        file.as_file().set_len(0).unwrap();
        // Reading past the new end faults; the handler answers with zeroes.
        assert!(window[page_size()..].iter().all(|&byte| byte == 0));
        let length = window.len();
        // A line read in place just then was not the file's: the reader says so.
        assert!(mapped.changed_under_reader());
        mapped.consume(length);
        let error = mapped.fill_buf().unwrap_err();
        assert!(error.to_string().contains("truncated"), "{error}");
    }

    #[test]
    fn a_cut_inside_the_last_page_is_an_error_too() {
        // No fault here: the kernel zeroes the tail of the page the new end falls in.
        let page = page_size();
        let file = written(&vec![b'x'; 3 * page + 1000]);
        let mut mapped = MappedFile::map(file.as_file(), None).unwrap();
        file.as_file().set_len(3 * page as u64 + 200).unwrap();
        let error = read_all(&mut mapped).unwrap_err();
        assert!(error.to_string().contains("truncated"), "{error}");
    }

    #[test]
    fn a_file_cut_between_windows_is_caught_before_its_next_window() {
        let bytes = lines(100_000);
        let file = written(&bytes);
        let mut mapped = MappedFile::map(file.as_file(), None).unwrap();
        let length = mapped.fill_buf().unwrap().len();
        mapped.consume(length);
        file.as_file().set_len(WINDOW as u64 + 10).unwrap();
        assert!(mapped.fill_buf().is_err());
    }
}
