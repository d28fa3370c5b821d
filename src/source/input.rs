//! Opening one log input (a file or standard input) as a buffered byte stream, decompressing
//! gzip and zstd recognised by their magic bytes (never by the file name).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::mapped::MappedFile;
use super::read_ahead::{InputRead, ReadAhead};
use crate::error::Error;

const BUFFER_SIZE: usize = 256 * 1024;

/// Why a file read stopped early: it shrank under the reader.
pub(crate) const TRUNCATED: &str = "the file was truncated (or became unreadable) while it was \
    read (log rotation with copytruncate?); what followed was not read: read it again, or read \
    the rotated copy";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// A log input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    File(PathBuf),
    Stdin,
}

impl InputSpec {
    /// The name used in messages and in each event's `source`.
    pub fn display_name(&self) -> String {
        match self {
            InputSpec::File(path) => path.display().to_string(),
            InputSpec::Stdin => "<stdin>".to_string(),
        }
    }
}

/// How an input's bytes were encoded, as told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// An opened input: its name and a buffered reader of its (decompressed) bytes.
pub struct OpenInput {
    pub name: Arc<str>,
    pub compression: Compression,
    pub(crate) reader: Box<dyn InputRead>,
    /// The number of the line before the first read: 0, or where a later run of a file starts.
    pub lines_before: u64,
    /// A later run of a file already counted as an input (see `segments`).
    pub continues_input: bool,
}

/// Opens `spec`, failing with an error that names it when it is missing, unreadable or a
/// directory; its raw bytes (before decompression) advance `progress` when given. With
/// `map_plain`, a plain (uncompressed) regular file is mapped instead of read: for a reader
/// that searches whole blocks and looks at few of their bytes (`find`).
pub fn open_input(
    spec: &InputSpec,
    progress: Option<&indicatif::ProgressBar>,
    map_plain: bool,
) -> Result<OpenInput, Error> {
    let name: Arc<str> = Arc::from(spec.display_name());
    let read_error = |source| Error::Read {
        input: name.to_string(),
        line: 0,
        source,
    };
    let mut raw: Box<dyn Read + Send> = match spec {
        InputSpec::Stdin => Box::new(io::stdin()),
        InputSpec::File(path) => {
            let file = open_file(path, &name)?;
            if map_plain && let Some(mapped) = MappedFile::map(&file, progress.cloned()) {
                let head = mapped.head(ZSTD_MAGIC.len());
                if detect_compression(head) == Compression::None && !is_utf16(head) {
                    return Ok(OpenInput {
                        name,
                        compression: Compression::None,
                        reader: Box::new(mapped),
                        lines_before: 0,
                        continues_input: false,
                    });
                }
            }
            let file = SizeChecked::new(file, 0);
            match progress {
                Some(bar) => Box::new(bar.wrap_read(file)),
                None => Box::new(file),
            }
        }
    };
    let head = read_head(&mut raw).map_err(read_error)?;
    if is_utf16(&head) {
        return Err(Error::Utf16 {
            path: name.to_string(),
        });
    }
    let compression = detect_compression(&head);
    // Put the sniffed bytes back in front of the rest of the stream.
    let whole = io::Cursor::new(head).chain(raw);
    // The bytes (decompressed, when they are) are read on a thread of their own.
    let reader: Box<dyn InputRead> = match compression {
        Compression::None => Box::new(ReadAhead::spawn(whole)),
        Compression::Gzip => Box::new(ReadAhead::spawn(flate2::bufread::MultiGzDecoder::new(
            BufReader::with_capacity(BUFFER_SIZE, whole),
        ))),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(
                BUFFER_SIZE,
                whole,
            ))
            .map_err(read_error)?;
            Box::new(ReadAhead::spawn(decoder))
        }
    };
    Ok(OpenInput {
        name,
        compression,
        reader,
        lines_before: 0,
        continues_input: false,
    })
}

/// One run of a plain file (`segments`): its bytes from `offset`, `len` of them, numbered from
/// the line after `lines_before`.
pub(crate) fn open_run(
    spec: &InputSpec,
    run: &super::segments::Run,
    first: bool,
) -> Result<OpenInput, Error> {
    use std::io::Seek;
    let InputSpec::File(path) = spec else {
        unreachable!("runs are found in files only");
    };
    let name = spec.display_name();
    let mut file = open_file(path, &name)?;
    file.seek(io::SeekFrom::Start(run.offset))
        .map_err(|source| Error::Read {
            input: name.clone(),
            line: run.lines_before,
            source,
        })?;
    let file = SizeChecked::new(file, run.offset);
    Ok(OpenInput {
        name: Arc::from(name),
        compression: Compression::None,
        reader: Box::new(ReadAhead::spawn(file.take(run.len))),
        lines_before: run.lines_before,
        continues_input: !first,
    })
}

/// Opens `spec` to be followed as it grows (`--follow`): a file from its end (its start with
/// `from_start`), re-opened when rotated; standard input as it comes. A compressed file cannot
/// grow line by line, so it is refused.
pub fn open_followed(spec: &InputSpec, from_start: bool) -> Result<OpenInput, Error> {
    let path = match spec {
        InputSpec::Stdin => return open_input(spec, None, false),
        InputSpec::File(path) => path,
    };
    // A pipe (`-f <(kubectl logs -f pod-a)`) or a device is a stream, like stdin: read as it
    // comes, never sought.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file() || m.is_dir()) {
        return open_input(spec, None, false);
    }
    let name = spec.display_name();
    let mut file = open_file(path, &name)?;
    let head = read_head(&mut file).map_err(|source| Error::Read {
        input: name.clone(),
        line: 0,
        source,
    })?;
    if detect_compression(&head) != Compression::None {
        return Err(Error::Usage(format!(
            "{name} is compressed: --follow reads plain log files as they grow (decompress it, \
             or read it without --follow)"
        )));
    }
    let followed = super::follow::FollowFile::open(path.clone(), name.clone(), from_start)
        .map_err(|source| Error::Open {
            path: name.clone(),
            source,
        })?;
    Ok(OpenInput {
        name: Arc::from(name),
        compression: Compression::None,
        reader: Box::new(BufReader::with_capacity(BUFFER_SIZE, followed)),
        lines_before: 0,
        continues_input: false,
    })
}

/// A file read to its end that says so when it ends short: at the end of the bytes, a file
/// now smaller than what was read of it was cut under the reader (`copytruncate`), and what
/// it held past the cut was never read. An error, not a quiet end of input.
struct SizeChecked {
    file: File,
    /// Where the next read starts.
    offset: u64,
    /// The file's size when it was opened, if it is a regular file (a pipe or a device has
    /// no size to go by): one that ends smaller shrank while it was read (even where the
    /// reader had not got to yet).
    opened_size: Option<u64>,
}

impl SizeChecked {
    fn new(file: File, offset: u64) -> SizeChecked {
        let opened_size = file
            .metadata()
            .ok()
            .filter(|metadata| metadata.is_file())
            .map(|metadata| metadata.len());
        SizeChecked {
            file,
            offset,
            opened_size,
        }
    }
}

impl Read for SizeChecked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.file.read(buf)?;
        if count == 0
            && !buf.is_empty()
            && let Some(opened_size) = self.opened_size
            && cut_short(&self.file, self.offset.max(opened_size))
        {
            return Err(io::Error::other(TRUNCATED));
        }
        self.offset += count as u64;
        Ok(count)
    }
}

/// The file is now smaller than `expected` bytes (read or mapped of it): it was cut under the
/// reader. A file whose size cannot be had counts as cut.
pub(crate) fn cut_short(file: &File, expected: u64) -> bool {
    file.metadata()
        .map_or(true, |metadata| metadata.len() < expected)
}

fn open_file(path: &Path, name: &str) -> Result<File, Error> {
    if path.is_dir() {
        return Err(Error::IsDirectory {
            path: name.to_string(),
        });
    }
    File::open(path).map_err(|source| Error::Open {
        path: name.to_string(),
        source,
    })
}

/// Reads up to the 4 bytes the longest magic number needs (pipes may deliver them piecemeal).
fn read_head(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = [0u8; ZSTD_MAGIC.len()];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(head[..filled].to_vec())
}

/// A UTF-16 byte-order mark (a log saved by a Windows editor): refused, it is not UTF-8.
fn is_utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff])
}

fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cut_under_the_reader_ends_in_an_error() {
        use std::io::Write;
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&[b'x'; 10_000]).unwrap();
        let opened = || SizeChecked::new(File::open(file.path()).unwrap(), 0);
        let mut reader = opened();
        let mut buffer = [0u8; 4_000];
        assert_eq!(reader.read(&mut buffer).unwrap(), 4_000);
        file.as_file().set_len(1_000).unwrap();
        let error = reader.read(&mut buffer).unwrap_err();
        assert!(error.to_string().contains("truncated"), "{error}");
        // Cut ahead of the reader: its end comes early, and says so.
        let mut ahead = opened();
        assert_eq!(ahead.read(&mut buffer[..500]).unwrap(), 500);
        file.as_file().set_len(800).unwrap();
        let mut rest = Vec::new();
        let error = ahead.read_to_end(&mut rest).unwrap_err();
        assert!(error.to_string().contains("truncated"), "{error}");
        // A file read whole ends as usual, and so does one that grew.
        let mut all = Vec::new();
        opened().read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 800);
        let mut growing = opened();
        file.as_file().write_all(&[b'y'; 100]).unwrap();
        all.clear();
        growing.read_to_end(&mut all).unwrap();
        assert!(all.len() >= 800, "{}", all.len());
    }

    #[test]
    fn magic_bytes_decide_the_decoder() {
        assert_eq!(detect_compression(b"{\"a\":1}"), Compression::None);
        assert_eq!(detect_compression(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            detect_compression(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(detect_compression(&[0x28, 0xb5]), Compression::None);
        assert_eq!(detect_compression(b""), Compression::None);
    }

    #[test]
    fn a_head_read_in_pieces_is_put_back() {
        let pieces = io::Cursor::new(vec![0x1f]).chain(io::Cursor::new(vec![0x8b, 1, 2, 3]));
        let mut reader = pieces;
        assert_eq!(read_head(&mut reader).unwrap(), vec![0x1f, 0x8b, 1, 2]);
    }
}
