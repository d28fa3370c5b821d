//! Runs a source on its own thread, handing its records over in batches: reading and decoding
//! one input then overlaps with the analyses consuming the stream (two cores, one pass, the
//! same order, so the same answer as reading inline).

use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use super::Record;
use crate::event::Prefetching;

/// Records per hand-over: large enough that the channel costs nothing per record.
const BATCH: usize = 1024;
/// Text (tracebacks, error messages) a batch holds at most before it is handed over short of
/// `BATCH` records: the batches held ready are counted in batches, and a log of long
/// tracebacks on every line would otherwise hold hundreds of MiB of them.
const BATCH_TEXT_BYTES: usize = 1 << 20;

pub(crate) struct Background {
    receiver: Receiver<Vec<Record>>,
    batch: Prefetching<Record>,
}

impl Background {
    /// Reads `source` on a thread of its own, holding at most `ahead` batches ready.
    pub(crate) fn spawn(
        source: impl Iterator<Item = Record> + Send + 'static,
        ahead: usize,
    ) -> Background {
        let (sender, receiver) = sync_channel(ahead);
        thread::spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut text = 0;
            for record in source {
                text += record.text_bytes();
                batch.push(record);
                if batch.len() == BATCH || text >= BATCH_TEXT_BYTES {
                    text = 0;
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if sender.send(full).is_err() {
                        return; // the consumer stopped (a closed pipe, say)
                    }
                }
            }
            if !batch.is_empty() {
                let _ = sender.send(batch);
            }
        });
        Background {
            receiver,
            batch: Prefetching::new(Vec::new(), event_of),
        }
    }
}

impl Iterator for Background {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(record) = self.batch.next() {
                return Some(record);
            }
            self.batch = Prefetching::new(self.receiver.recv().ok()?, event_of);
        }
    }
}

fn event_of(record: &Record) -> Option<&crate::event::Event> {
    match record {
        Record::Event(event) => Some(event),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Kind, Origin, Timestamp};

    fn event_with_exception(at: i64, bytes: usize) -> Record {
        let origin = Origin::Line {
            input: crate::event::input_name("long-tracebacks.log"),
            line: at as u64,
        };
        let mut event = Event::new(Timestamp(at), Kind::NodeError, origin);
        event.set_exception(Some("x".repeat(bytes)));
        Record::Event(Box::new(event))
    }

    #[test]
    fn batches_of_long_tracebacks_are_handed_over_by_their_text() {
        // 300 KB a traceback: the fourth passes 1 MiB, so a batch holds four, not 1,024.
        let records: Vec<Record> = (0..10)
            .map(|at| event_with_exception(at, 300_000))
            .collect();
        let background = Background::spawn(records.into_iter(), 2);
        let sizes: Vec<usize> = background
            .receiver
            .iter()
            .map(|batch| batch.len())
            .collect();
        assert_eq!(sizes, [4, 4, 2]);
    }

    #[test]
    fn short_events_go_in_whole_batches_in_order() {
        let records: Vec<Record> = (0..2500).map(|at| event_with_exception(at, 10)).collect();
        let times: Vec<i64> = Background::spawn(records.into_iter(), 2)
            .map(|record| record.ts().0)
            .collect();
        assert_eq!(times, (0..2500).collect::<Vec<i64>>());
    }
}
