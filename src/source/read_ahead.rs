//! Reading an input's bytes on a thread of their own, a few chunks ahead of the consumer: the
//! `read()` copies (and any decompression) then overlap with the search or decoding of the
//! chunk before, instead of adding to it. The consumer sees the chunks through `BufRead`
//! without another copy, or takes them whole ([`InputRead::take_chunk`]); spent chunks go back
//! to the reader, so memory stays at a few chunks.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread;

/// Bytes per chunk: small enough to stay in the L2 cache between the copy and the search.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the consumer.
const AHEAD: usize = 4;

pub(crate) struct ReadAhead {
    filled: Receiver<io::Result<Chunk>>,
    spent: Sender<Vec<u8>>,
    chunk: Chunk,
    position: usize,
    done: bool,
}

/// A buffer and how many of its bytes were read into it (buffers keep their size, so a short
/// read costs nothing when the buffer is used again).
#[derive(Default)]
struct Chunk {
    buffer: Vec<u8>,
    length: usize,
}

impl ReadAhead {
    pub(crate) fn spawn(source: impl Read + Send + 'static) -> ReadAhead {
        let (filled_tx, filled) = sync_channel(AHEAD);
        let (spent, spent_rx) = channel();
        thread::spawn(move || fill(source, &filled_tx, &spent_rx));
        ReadAhead {
            filled,
            spent,
            chunk: Chunk::default(),
            position: 0,
            done: false,
        }
    }
}

/// The reader thread: hands over what each `read()` gives (a whole chunk from a file, what has
/// arrived from a pipe, so a live stream is not held back), until the end of the input, an
/// error, or the consumer going away.
fn fill(mut source: impl Read, filled: &SyncSender<io::Result<Chunk>>, spent: &Receiver<Vec<u8>>) {
    loop {
        let buffer = spent.try_recv().unwrap_or_else(|_| vec![0; CHUNK]);
        let mut chunk = Chunk { buffer, length: 0 };
        let result = loop {
            match source.read(&mut chunk.buffer) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match result {
            Ok(0) => return,
            Ok(count) => {
                chunk.length = count;
                if filled.send(Ok(chunk)).is_err() {
                    return; // the consumer stopped
                }
            }
            Err(error) => {
                let _ = filled.send(Err(error));
                return;
            }
        }
    }
}

/// Bytes handed over whole: `buffer[start..end]`.
pub(crate) struct OwnedChunk {
    pub buffer: Vec<u8>,
    pub start: usize,
    pub end: usize,
}

/// An input's reader: buffered, and able to hand its bytes over whole, so a consumer that keeps
/// them (the parallel decoder, which sends them to its workers) takes them without a copy and
/// gives the buffer back once done with it.
pub(crate) trait InputRead: BufRead + Send {
    /// The next bytes, owned; `None` at the end of the input. By default a copy of `fill_buf`.
    fn take_chunk(&mut self) -> Option<io::Result<OwnedChunk>> {
        loop {
            return match self.fill_buf() {
                Ok([]) => None,
                Ok(bytes) => {
                    let buffer = bytes.to_vec();
                    let end = buffer.len();
                    self.consume(end);
                    Some(Ok(OwnedChunk {
                        buffer,
                        start: 0,
                        end,
                    }))
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => Some(Err(error)),
            };
        }
    }

    /// A buffer `take_chunk` gave, to be filled again.
    fn give_back(&mut self, _buffer: Vec<u8>) {}

    /// True when bytes `fill_buf` handed out may have changed since (a mapped file cut short
    /// while it was read: its pages past the new end read as zeros): what was read of them
    /// in place is not the file's.
    fn changed_under_reader(&self) -> bool {
        false
    }
}

impl<R: Read + Send> InputRead for io::BufReader<R> {}

impl InputRead for ReadAhead {
    fn take_chunk(&mut self) -> Option<io::Result<OwnedChunk>> {
        if let Err(error) = self.fill_buf() {
            return Some(Err(error));
        }
        if self.position == self.chunk.length {
            return None; // `fill_buf` found the end
        }
        let Chunk { buffer, length } = std::mem::take(&mut self.chunk);
        let start = std::mem::replace(&mut self.position, 0);
        Some(Ok(OwnedChunk {
            buffer,
            start,
            end: length,
        }))
    }

    fn give_back(&mut self, buffer: Vec<u8>) {
        let _ = self.spent.send(buffer);
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, buf)
    }
}

/// `Read::read` for a reader whose bytes are all behind `BufRead` (no buffer of its own to skip).
pub(crate) fn read_buffered(reader: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let count = available.len().min(buf.len());
    buf[..count].copy_from_slice(&available[..count]);
    reader.consume(count);
    Ok(count)
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.position == self.chunk.length && !self.done {
            let spent = std::mem::take(&mut self.chunk);
            if spent.buffer.capacity() > 0 {
                let _ = self.spent.send(spent.buffer);
            }
            self.position = 0;
            match self.filled.recv() {
                Ok(Ok(chunk)) => self.chunk = chunk,
                Ok(Err(error)) => {
                    self.done = true;
                    return Err(error);
                }
                Err(_) => self.done = true, // the reader finished
            }
        }
        Ok(&self.chunk.buffer[self.position..self.chunk.length])
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.chunk.length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out a few bytes at a time, then fails.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return match self.fail_at_end {
                    true => Err(io::Error::other("disk gone")),
                    false => Ok(0),
                };
            }
            let count = buf.len().min(4093).min(self.data.len() - self.at);
            buf[..count].copy_from_slice(&self.data[self.at..self.at + count]);
            self.at += count;
            Ok(count)
        }
    }

    fn data(size: usize) -> Vec<u8> {
        (0..size).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn every_byte_arrives_in_order() {
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let source = Trickle {
                data: data(size),
                at: 0,
                fail_at_end: false,
            };
            let mut read = Vec::new();
            ReadAhead::spawn(source).read_to_end(&mut read).unwrap();
            assert_eq!(read, data(size), "size {size}");
        }
    }

    /// A pipe: hands out what was written to it, waiting for more when empty.
    struct Pipe(std::sync::mpsc::Receiver<Vec<u8>>);

    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Ok(bytes) = self.0.recv() else {
                return Ok(0);
            };
            buf[..bytes.len()].copy_from_slice(&bytes);
            Ok(bytes.len())
        }
    }

    #[test]
    fn what_a_live_pipe_gives_is_handed_over_at_once() {
        let (writer, pipe) = std::sync::mpsc::channel();
        let mut reader = ReadAhead::spawn(Pipe(pipe));
        writer.send(b"first line\n".to_vec()).unwrap();
        // Nothing more is written yet: the line must still come through.
        assert_eq!(reader.fill_buf().unwrap(), b"first line\n");
        reader.consume(11);
        writer.send(b"second\n".to_vec()).unwrap();
        drop(writer);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"second\n");
    }

    #[test]
    fn bytes_before_an_error_are_kept_and_the_error_is_reported() {
        let source = Trickle {
            data: data(CHUNK + 5),
            at: 0,
            fail_at_end: true,
        };
        let mut reader = ReadAhead::spawn(source);
        let mut read = Vec::new();
        let error = reader.read_to_end(&mut read).unwrap_err();
        assert_eq!(error.to_string(), "disk gone");
        assert_eq!(read, data(CHUNK + 5));
    }
}
