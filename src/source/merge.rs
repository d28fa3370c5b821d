//! Orders the records of several sources by time in one pass with bounded memory.
//!
//! Each source is mostly in time order already (a process logs its events as they happen, a
//! store is read `ORDER BY ts`), but not exactly: several pods interleaved by `kubectl logs -l`,
//! or coroutines whose log calls cross. Keeping a look-ahead window of `WINDOW` records per
//! source in one heap sorts any record displaced by fewer than `WINDOW` positions, and merges
//! the sources, while holding at most `WINDOW` records per source.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::Record;
use crate::event::Timestamp;

const WINDOW: usize = 1024;

type Source = Box<dyn Iterator<Item = Record> + Send>;

struct Pending {
    ts: Timestamp,
    source: usize,
    sequence: u64,
    record: Record,
}

impl Pending {
    fn key(&self) -> (Timestamp, usize, u64) {
        (self.ts, self.source, self.sequence)
    }
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

pub(crate) struct Merge {
    sources: Vec<Source>,
    heap: BinaryHeap<Reverse<Pending>>,
    sequence: u64,
    primed: bool,
}

impl Merge {
    pub(crate) fn new(sources: Vec<Source>) -> Merge {
        Merge {
            sources,
            heap: BinaryHeap::new(),
            sequence: 0,
            primed: false,
        }
    }

    fn pull(&mut self, source: usize) {
        if let Some(record) = self.sources[source].next() {
            self.sequence += 1;
            self.heap.push(Reverse(Pending {
                ts: record.ts(),
                source,
                sequence: self.sequence,
                record,
            }));
        }
    }
}

impl Iterator for Merge {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if !self.primed {
            self.primed = true;
            for source in 0..self.sources.len() {
                for _ in 0..WINDOW {
                    self.pull(source);
                }
            }
        }
        let Reverse(pending) = self.heap.pop()?;
        self.pull(pending.source);
        Some(pending.record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Kind, Origin};
    use std::sync::Arc;

    fn records(times: &[i64]) -> Source {
        let events: Vec<Record> = times
            .iter()
            .map(|&t| {
                let origin = Origin::Line {
                    input: Arc::from("x"),
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
            records(&[1, 5, 3, 9]),
            records(&[2, 4, 10]),
            records(&[]),
        ])
        .map(|record| record.ts().0)
        .collect();
        assert_eq!(merged, vec![1, 2, 3, 4, 5, 9, 10]);
    }
}
