//! The errors flowtrace reports, and the exit status each one means.
//!
//! Every message names the input it concerns; `main` prefixes it with `flowtrace: `.

use std::io;
use std::process::ExitCode;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: a runtime error (an input could not be read, a store is wrong, ...).
pub const EXIT_RUNTIME: u8 = 1;
/// Exit status: the command line is wrong (clap uses 2 as well).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: `classify --fail-on` found a category it was told to fail on.
pub const EXIT_FAILURES_FOUND: u8 = 3;
/// Exit status: `lint` found a defect at or above `--fail-on-severity`.
pub const EXIT_LINT_FINDINGS: u8 = 4;
/// A `--follow` ended by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot open: {}", describe_io(source))]
    Open {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("{path}: is a directory; give the log files inside it (e.g. {path}/*.log)")]
    IsDirectory { path: String },

    #[error("{input}: read failed after line {line}: {}", describe_io(source))]
    Read {
        input: String,
        line: u64,
        #[source]
        source: io::Error,
    },

    #[error("{input}:{line}: {reason}")]
    Strict {
        input: String,
        line: u64,
        reason: String,
    },

    #[error(
        "{path}: UTF-16 text (it starts with a UTF-16 byte order mark); convert it first: iconv -f UTF-16 -t UTF-8 {path} > {path}.utf8"
    )]
    Utf16 { path: String },

    #[error("{path}: not a SQLite database (--store takes a PenguiFlow event store file)")]
    NotSqlite { path: String },

    #[error(
        "{path}: no table `{table}` (tables: {}); name the events table with --table",
        list_or_none(tables)
    )]
    MissingTable {
        path: String,
        table: String,
        tables: Vec<String>,
    },

    #[error("{path}: table `{table}` lacks the column(s) {}; expected PenguiFlow's flow_events schema (trace_id, ts, kind, node_name, node_id, payload)", missing.join(", "))]
    MissingColumns {
        path: String,
        table: String,
        missing: Vec<String>,
    },

    /// A PostgreSQL store failed; `store` is its URL with the password masked.
    #[error("{store}: {message}")]
    Postgres { store: String, message: String },

    #[error("{path}: {source}")]
    Store {
        path: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "{path}: a write to this store was interrupted ({journal} is a hot journal holding the \
         last committed state), and undoing it needs write access, which flowtrace never takes. \
         Any read-write open by SQLite rolls it back: `sqlite3 {path} 'PRAGMA quick_check'` \
         once the writer is stopped; or, to leave these files as they are, roll back a copy: \
         `mkdir /tmp/store && cp {path} {journal} /tmp/store/`, the same `sqlite3` command on \
         the copy, then --store with the copy"
    )]
    StoreHotJournal { path: String, journal: String },

    #[error(
        "{path}: its committed rows are partly in {path}-wal, and SQLite must create \
         {path}-shm beside it to read them, which this directory does not allow; copy the \
         store with its -wal to a directory you can write (`cp {path} {path}-wal /tmp/`) and \
         read the copy"
    )]
    StoreWalUnreadable { path: String },

    #[error("{path}: table `{table}` cannot take an import: {reason}")]
    ImportTable {
        path: String,
        table: String,
        reason: String,
    },

    #[error(
        "no events for trace {query} in {inputs} ({read}){}",
        close_hint(close)
    )]
    TraceNotFound {
        query: String,
        inputs: String,
        read: String,
        close: Vec<String>,
    },

    #[error("trace prefix {query} matches several traces: {}{}; give more of the id", ids.join(", "), if *more { ", ..." } else { "" })]
    AmbiguousTrace {
        query: String,
        ids: Vec<String>,
        more: bool,
    },

    #[error("no PenguiFlow events in {inputs}: {held}{hint}")]
    NoEvents {
        inputs: String,
        held: String,
        hint: String,
    },

    #[error("{0}")]
    NothingSelected(String),

    /// Several inputs could not be opened: one line each.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\nflowtrace: "))]
    Several(Vec<Error>),

    #[error("{0}")]
    Usage(String),

    #[error("writing output: {0}")]
    Output(#[source] io::Error),
}

impl Error {
    /// The process exit status this error means.
    pub fn exit_status(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            _ => EXIT_RUNTIME,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_status())
    }

    /// True when output went to a closed pipe (`flowtrace ... | head`): not worth a message.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(source) if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<io::Error> for Error {
    fn from(source: io::Error) -> Error {
        Error::Output(source)
    }
}

/// `io::Error`'s Display carries "(os error 2)"; users want the words only.
fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::UnexpectedEof => "unexpected end of stream (truncated file?)".to_string(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    }
}

fn close_hint(close: &[String]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!("; ids that look close: {}", close.join(", "))
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
