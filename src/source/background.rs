//! Runs a source on its own thread, handing its records over in batches: reading and decoding
//! one input then overlaps with the analyses consuming the stream (two cores, one pass, the
//! same order, so the same answer as reading inline).

use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use super::Record;
use crate::event::Prefetching;

/// Records per hand-over: large enough that the channel costs nothing per record.
const BATCH: usize = 1024;

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
            for record in source {
                batch.push(record);
                if batch.len() == BATCH {
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
