//! Orders the records of several sources by time in one pass with bounded memory.
//!
//! Each source is mostly in time order already (a process logs its events as they happen, a
//! store is read `ORDER BY ts`), but not exactly: several pods interleaved by `kubectl logs -l`,
//! or coroutines whose log calls cross. Keeping a look-ahead window of `WINDOW` records per
//! source in one heap sorts any record displaced by fewer than `WINDOW` positions, and merges
//! the sources, while holding at most `WINDOW` records per source.

use std::collections::VecDeque;

use super::Record;
use crate::event::Timestamp;

const WINDOW: usize = 1024;

type Source = Box<dyn Iterator<Item = Record> + Send>;

/// One source and its look-ahead window, kept sorted by time (ties in arrival order). Records
/// almost always arrive in order, so a window insert is almost always a push at the back.
struct Window {
    source: Source,
    pending: VecDeque<(Timestamp, Record)>,
}

impl Window {
    fn pull(&mut self) {
        if let Some(record) = self.source.next() {
            let ts = record.ts();
            match self.pending.back() {
                Some((last, _)) if *last > ts => {
                    let at = self.pending.partition_point(|(other, _)| *other <= ts);
                    self.pending.insert(at, (ts, record));
                }
                _ => self.pending.push_back((ts, record)),
            }
        }
    }

    fn first_ts(&self) -> Option<Timestamp> {
        self.pending.front().map(|(ts, _)| *ts)
    }
}

pub(crate) struct Merge {
    windows: Vec<Window>,
    primed: bool,
}

impl Merge {
    pub(crate) fn new(sources: Vec<Source>) -> Merge {
        let windows = sources
            .into_iter()
            .map(|source| Window {
                source,
                pending: VecDeque::with_capacity(WINDOW + 1),
            })
            .collect();
        Merge {
            windows,
            primed: false,
        }
    }
}

impl Iterator for Merge {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if !self.primed {
            self.primed = true;
            for window in &mut self.windows {
                for _ in 0..WINDOW {
                    window.pull();
                }
            }
        }
        if let [window] = self.windows.as_mut_slice() {
            // One source: only its own disorder to repair.
            let (_, record) = window.pending.pop_front()?;
            window.pull();
            return Some(record);
        }
        // The earliest first record; on a tie, the earlier source (a stable merge).
        let mut earliest: Option<(Timestamp, usize)> = None;
        for (index, window) in self.windows.iter().enumerate() {
            if let Some(ts) = window.first_ts()
                && earliest.is_none_or(|(best, _)| ts < best)
            {
                earliest = Some((ts, index));
            }
        }
        let (_, index) = earliest?;
        let window = &mut self.windows[index];
        let (_, record) = window.pending.pop_front()?;
        window.pull();
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Kind, Origin};

    fn records(name: &str, times: &[i64]) -> Source {
        let events: Vec<Record> = times
            .iter()
            .map(|&t| {
                let origin = Origin::Line {
                    input: crate::event::input_name(name),
                    line: t as u64,
                };
                Record::Event(Box::new(Event::new(Timestamp(t), Kind::NodeStart, origin)))
            })
            .collect();
        Box::new(events.into_iter())
    }

    #[test]
    fn merges_sources_and_repairs_local_disorder() {
        let merged: Vec<i64> = Merge::new(vec![
            records("a", &[1, 5, 3, 9]),
            records("b", &[2, 4, 10]),
            records("c", &[]),
        ])
        .map(|record| record.ts().0)
        .collect();
        assert_eq!(merged, vec![1, 2, 3, 4, 5, 9, 10]);
    }

    #[test]
    fn ties_keep_source_then_arrival_order() {
        let origins: Vec<String> =
            Merge::new(vec![records("a", &[7, 3, 7]), records("b", &[7, 3])])
                .map(|record| match record {
                    Record::Event(event) => event.origin.to_string(),
                    _ => unreachable!(),
                })
                .collect();
        assert_eq!(origins, ["a:3", "b:3", "a:7", "a:7", "b:7"]);
    }
}
