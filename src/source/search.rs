//! Skip mode's search of whole regions (`find`, `--trace`): where the needle first is, or, when
//! it is not there, how many lines were passed over. A long region is split in two near its
//! middle and the second half searched on a helper thread that lives as long as the input's
//! reader: spawning a thread for each 4 MiB window was a fifth of the time of searching it.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use memchr::memmem::Finder;

/// A region at least this long (a mapped file's window) is split at a line end near its
/// middle, and each half searched and counted on a thread of its own: search and count take
/// about as long, and one thread doing both was the one `find` waited for.
const SEARCH_APART: usize = 1 << 20;

/// Bytes searched, then counted while they are still in the core's cache: searching a whole
/// half and then counting it read each byte from memory twice (`find` on 1 GiB, 12
/// alternated rounds: wall 0.29 -> 0.24 s, CPU 0.37 -> 0.30 s; 32 KiB pieces did as well as
/// 128 KiB, 512 KiB worse).
const PIECE: usize = 32 * 1024;

/// What one half's search found: the first match's offset, or the lines in it.
type Found = (Option<usize>, u64);

/// Searches regions for one needle, with a helper thread for their second halves.
pub(crate) struct RegionSearch {
    finder: Finder<'static>,
    /// `None` until the first long region; then the helper, or `None` inside when no thread
    /// could be had (both halves are then searched here).
    helper: Option<Option<Helper>>,
}

/// The helper thread's ends: the half to search, and what it found.
struct Helper {
    halves: SyncSender<BorrowedHalf>,
    found: Receiver<Found>,
}

impl RegionSearch {
    pub(crate) fn new(finder: Finder<'static>) -> RegionSearch {
        RegionSearch {
            finder,
            helper: None,
        }
    }

    /// Where the needle first matches in `region`, and, when it was counted alongside the
    /// search (a long region without a match), the lines in it.
    pub(crate) fn search_and_count(&mut self, region: &[u8]) -> (Option<usize>, Option<u64>) {
        // A needle with a line end could straddle the halves (a trace id has none).
        if region.len() < SEARCH_APART || self.finder.needle().contains(&b'\n') {
            return (self.finder.find(region), None);
        }
        let middle = region.len() / 2;
        let split =
            memchr::memchr(b'\n', &region[middle..]).map_or(region.len(), |at| middle + at + 1);
        let (first, second) = region.split_at(split);
        let finder = &self.finder;
        let helper = self
            .helper
            .get_or_insert_with(|| Helper::start(finder.clone()));
        let (in_first, in_second) = match helper {
            Some(helper) => match helper.search_beside(second, || search_in_cache(finder, first)) {
                (in_first, Some(in_second)) => (in_first, in_second),
                // The helper is gone (it cannot panic, but if it did): this half here too.
                (in_first, None) => (in_first, search_in_cache(finder, second)),
            },
            None => (
                search_in_cache(finder, first),
                search_in_cache(finder, second),
            ),
        };
        match (in_first, in_second) {
            ((Some(hit), _), _) => (Some(hit), None),
            ((None, _), (Some(hit), _)) => (Some(split + hit), None),
            ((None, lines_in_first), (None, lines_in_second)) => {
                (None, Some(lines_in_first + lines_in_second))
            }
        }
    }
}

/// A half's bytes, lent to the helper for one search (see `search_beside`).
struct BorrowedHalf {
    start: *const u8,
    length: usize,
}

// SAFETY: only read, by one thread at a time, while the lender waits (see `search_beside`).
unsafe impl Send for BorrowedHalf {}

impl Helper {
    /// The helper thread, or `None` when no thread can be had. It ends when its
    /// [`RegionSearch`] is dropped.
    fn start(finder: Finder<'static>) -> Option<Helper> {
        let (halves, halves_to_search) = sync_channel::<BorrowedHalf>(1);
        let (give, found) = sync_channel(1);
        std::thread::Builder::new()
            .name("flowtrace-search".into())
            .spawn(move || {
                for BorrowedHalf { start, length } in halves_to_search {
                    // SAFETY: `search_beside` lent these bytes and does not return (or
                    // unwind) before it has received what was found in them, so they are
                    // borrowed for all of this search.
                    let half = unsafe { std::slice::from_raw_parts(start, length) };
                    if give.send(search_in_cache(&finder, half)).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Helper { halves, found })
    }

    /// Searches `half` on the helper thread while `here` runs on this one; `None` for the
    /// half when the helper is gone.
    fn search_beside<R>(&self, half: &[u8], here: impl FnOnce() -> R) -> (R, Option<Found>) {
        if self
            .halves
            .send(BorrowedHalf {
                start: half.as_ptr(),
                length: half.len(),
            })
            .is_err()
        {
            return (here(), None);
        }
        let awaited = Awaited(&self.found);
        let mine = here();
        (mine, awaited.take())
    }
}

/// A search sent to the helper: it is waited for before `half`'s borrow ends, even when
/// unwinding.
struct Awaited<'a>(&'a Receiver<Found>);

impl Awaited<'_> {
    fn take(self) -> Option<Found> {
        let found = self.0.recv().ok();
        std::mem::forget(self);
        found
    }
}

impl Drop for Awaited<'_> {
    fn drop(&mut self) {
        let _ = self.0.recv();
    }
}

/// Where `finder` first matches in `bytes`, or the lines in it: searched and counted a piece at
/// a time. A piece is searched with the needle's length less one byte of the next, so a match
/// across pieces is found in the piece it starts in, and the first match is the first found.
fn search_in_cache(finder: &Finder<'_>, bytes: &[u8]) -> Found {
    let overlap = finder.needle().len().saturating_sub(1);
    let mut lines = 0;
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes.len().min(start + PIECE);
        let searched = &bytes[start..bytes.len().min(end + overlap)];
        if let Some(hit) = finder.find(searched) {
            return (Some(start + hit), 0);
        }
        lines += count_lines(&bytes[start..end]);
        start = end;
    }
    (None, lines)
}

/// Lines in `bytes`, counted by their terminators.
pub(crate) fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer of a plain search and count.
    fn plainly(needle: &[u8], region: &[u8]) -> (Option<usize>, Option<u64>) {
        match memchr::memmem::find(region, needle) {
            Some(hit) => (Some(hit), None),
            None => (None, Some(count_lines(region))),
        }
    }

    #[test]
    fn a_match_is_found_wherever_it_falls_against_pieces_and_halves() {
        let needle = b"feedc0de5eed4a11b0a710ad0f5ca1e5";
        let line =
            b"{\"event\": \"node_start\", \"trace_id\": \"0123456789abcdef0123456789abcdef\"}\n";
        let mut region = Vec::new();
        while region.len() < 3 * SEARCH_APART {
            region.extend_from_slice(line);
        }
        let mut search = RegionSearch::new(Finder::new(needle).into_owned());
        let lines = count_lines(&region);
        assert_eq!(search.search_and_count(&region), (None, Some(lines)));
        // Across every piece edge of both halves' first pieces, and the halves' split.
        let middle_line_end =
            region.len() / 2 + memchr::memchr(b'\n', &region[region.len() / 2..]).unwrap() + 1;
        let edges = [
            0,
            PIECE,
            2 * PIECE,
            middle_line_end,
            middle_line_end + PIECE,
            region.len() - needle.len(),
        ];
        for edge in edges {
            for at in
                edge.saturating_sub(needle.len())..(edge + 2).min(region.len() - needle.len() + 1)
            {
                let mut with = region.clone();
                with[at..at + needle.len()].copy_from_slice(needle);
                assert_eq!(
                    search.search_and_count(&with),
                    plainly(needle, &with),
                    "needle at {at}"
                );
            }
        }
        // Two matches: the first is the one found, whichever half finds one first.
        let mut twice = region.clone();
        let late = middle_line_end + 10;
        twice[late..late + needle.len()].copy_from_slice(needle);
        twice[100..100 + needle.len()].copy_from_slice(needle);
        assert_eq!(search.search_and_count(&twice).0, Some(100));
    }

    #[test]
    fn a_short_region_is_searched_here_without_a_count() {
        let mut search = RegionSearch::new(Finder::new(b"needle").into_owned());
        assert_eq!(search.search_and_count(b"a\nb\n"), (None, None));
        assert!(search.helper.is_none());
    }
}
