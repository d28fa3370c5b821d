//! A plain log file read through a memory map, for `find`'s search of whole blocks: the search
//! reads the page cache in place instead of waiting for `read()` to copy each byte out of it
//! (the copy alone took as long as the search on a 1 GiB log).
//!
//! A mapped file cut shorter while it is read (logrotate's `copytruncate`) makes the kernel
//! send SIGBUS at the first byte past its new end, which kills a process by default. Here a
//! handler answers a fault inside one of these maps by putting zeroed pages over the rest of
//! the map and flagging it; the reader then fails with an error naming the truncation instead
//! of handing on anything past it. Faults anywhere else go to the handler installed before
//! (Rust's stack-overflow guard) or end the process as they would have.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::read_ahead::InputRead;

/// Bytes handed out by one `fill_buf`: the truncation flag is looked at between windows, and
/// pages already passed over are given back (so the file's pages do not all count in the
/// process's memory).
const WINDOW: usize = 4 * 1024 * 1024;

/// Maps open at once, at most (one per input read in skip mode); past it, inputs are read.
const SLOTS: usize = 16;

/// One map the SIGBUS handler knows: its address range, and whether the file shrank under it.
struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    shrank: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_SLOT: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    shrank: AtomicBool::new(false),
};
static MAPS: [Slot; SLOTS] = [EMPTY_SLOT; SLOTS];
/// Taking and freeing slots (the handler only reads them).
static SLOT_LOCK: Mutex<()> = Mutex::new(());
/// The SIGBUS action before ours, once ours is installed (`None`: it could not be).
static PREVIOUS_ACTION: OnceLock<Option<libc::sigaction>> = OnceLock::new();

/// A regular file's bytes, mapped read-only.
pub(crate) struct MappedFile {
    address: *mut libc::c_void,
    length: usize,
    slot: usize,
    position: usize,
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
        let _guard = SLOT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let slot = MAPS
            .iter()
            .position(|slot| slot.end.load(Ordering::Acquire) == 0)?;
        // SAFETY: a fresh read-only private map of an open file descriptor; the kernel picks
        // the address. It is only read through `as_slice` while this value lives.
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
        map.end.store(address as usize + length, Ordering::Release);
        map.start.store(address as usize, Ordering::Release);
        Some(MappedFile {
            address,
            length,
            slot,
            position: 0,
            released: 0,
            progress,
        })
    }

    fn mapped_bytes(&self) -> &[u8] {
        // SAFETY: `address` maps `length` readable bytes until `drop`; a page past the file's
        // end is replaced by zeroes by the SIGBUS handler before it is read.
        unsafe { std::slice::from_raw_parts(self.address.cast::<u8>(), self.length) }
    }

    /// The first `length` bytes at most (to sniff a compression's magic number).
    pub(crate) fn head(&self, length: usize) -> &[u8] {
        &self.mapped_bytes()[..length.min(self.length)]
    }

    fn shrank(&self) -> bool {
        MAPS[self.slot].shrank.load(Ordering::Acquire)
    }

    /// Gives back the pages wholly before `position` (the page cache keeps them).
    fn release_passed(&mut self) {
        let page = page_size();
        let end = self.position / page * page;
        if end >= self.released + WINDOW {
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
        let map = &MAPS[self.slot];
        map.start.store(0, Ordering::Release);
        map.end.store(0, Ordering::Release);
        // SAFETY: the map made in `map`, unmapped once; nothing borrows it past `self`.
        unsafe { libc::munmap(self.address, self.length) };
    }
}

impl Read for MappedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl BufRead for MappedFile {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.shrank() {
            return Err(io::Error::other(
                "the file was truncated while it was read (log rotation with copytruncate?); \
                 what followed was not read: read it again, or read the rotated copy",
            ));
        }
        let end = self.length.min(self.position.saturating_add(WINDOW));
        let position = self.position;
        Ok(&self.mapped_bytes()[position..end])
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

impl InputRead for MappedFile {}

fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        size if size > 0 => size as usize,
        _ => 4096,
    })
}

/// Installs the SIGBUS handler once; `None` when it could not be (maps are then not used).
fn install_handler() -> Option<()> {
    page_size();
    let previous = PREVIOUS_ACTION.get_or_init(|| {
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
    previous.map(|_| ())
}

extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let address = unsafe { (*info).si_addr() } as usize;
    for map in &MAPS {
        let start = map.start.load(Ordering::Acquire);
        let end = map.end.load(Ordering::Acquire);
        if start == 0 || address < start || address >= end {
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
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        let mut mapped = MappedFile::map(file.as_file(), None).expect("a regular file maps");
        assert_eq!(read_all(&mut mapped).unwrap(), bytes);
        assert!(MappedFile::map(tempfile::NamedTempFile::new().unwrap().as_file(), None).is_none());
    }

    #[test]
    fn a_file_truncated_while_mapped_is_an_error_not_a_crash() {
        let bytes = lines(100_000);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        let mut mapped = MappedFile::map(file.as_file(), None).unwrap();
        let first = mapped.fill_buf().unwrap().to_vec();
        assert_eq!(first, bytes[..WINDOW]);
        mapped.consume(first.len());
        // As copytruncate does: the file is cut to nothing while it is being read.
        file.as_file().set_len(0).unwrap();
        let second = mapped.fill_buf().unwrap();
        // Reading past the new end faults; the handler answers with zeroes.
        assert!(second.iter().all(|&byte| byte == 0));
        let length = second.len();
        mapped.consume(length);
        let error = mapped.fill_buf().unwrap_err();
        assert!(
            error.to_string().contains("truncated while it was read"),
            "{error}"
        );
    }
}
