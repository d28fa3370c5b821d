//! Reading a PenguiFlow SQLite event store (`flow_events`, see the shared reference) strictly
//! read-only: flowtrace never writes to it and leaves no file beside it.
//!
//! The store is opened `mode=ro`, so SQLite's locks keep every read whole while a service
//! writes. A WAL-mode store with no live writer then gets the empty `-wal`/`-shm` files any
//! reader creates: `immutable` would avoid them but tears reads when a writer starts meanwhile.
//! Rows stream from a reader thread in batches, ordered by `ts`, with the trace, kind, node and
//! time filters pushed into SQL, all from one statement and so one snapshot.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use rusqlite::{Connection, OpenFlags, params_from_iter, types::Value};

use super::decode::{Names, decode_store_row};
use super::{ReadStats, Record, SharedReport};
use crate::error::Error;
use crate::event::{InputName, Origin, Timestamp, input_name};

/// PenguiFlow stores events without a trace under this id.
const GLOBAL_TRACE_ID: &str = "__global__";
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// Rows per batch a store's reader thread sends.
pub(crate) const BATCH: usize = 1024;

/// `--store-timeout`'s default: the longest a PostgreSQL statement may run.
pub const DEFAULT_STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Which store to read, and the filters it can answer through its indexes.
#[derive(Debug, Clone, Default)]
pub struct StoreQuery {
    pub path: PathBuf,
    pub table: String,
    pub trace_ids: Vec<String>,
    pub kinds: Vec<String>,
    pub nodes: Vec<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Only traces whose id starts with this (answered through the trace index).
    pub trace_prefix: Option<String>,
    /// With `trace_prefix`: also the first this many rows of every trace, as a sample of the
    /// whole flow (see `SourceOptions::sample_lines`).
    pub sample_rows: u64,
    /// The longest a PostgreSQL statement may run (`--store-timeout`).
    pub timeout: std::time::Duration,
}

/// The columns read, in the order `row_to_record` takes them.
const COLUMNS: &str = "rowid, trace_id, ts, kind, node_name, node_id, payload";

/// An open store, checked to be a SQLite database holding the events table.
pub struct Store {
    name: InputName,
    connection: Connection,
    query: StoreQuery,
    /// Opened as an immutable snapshot (a read-only directory): rows written later are not
    /// seen.
    immutable: bool,
}

impl Store {
    pub fn open(query: StoreQuery) -> Result<Store, Error> {
        let name = input_name(&query.path.display().to_string());
        let path = query.path.as_path();
        let wal_mode = check_sqlite_header(path, name)?;
        let (connection, immutable) = open_read_only(path, wal_mode).map_err(|source| {
            if let Some(journal) = hot_journal(path, &source) {
                Error::StoreHotJournal {
                    path: name.to_string(),
                    journal,
                }
            } else if wal_mode
                && cannot_create_side_files(&source)
                && side_file(path, "-wal").exists()
            {
                Error::StoreWalUnreadable {
                    path: name.to_string(),
                }
            } else {
                Error::Store {
                    path: name.to_string(),
                    source,
                }
            }
        })?;
        let store = Store {
            name,
            connection,
            query,
            immutable,
        };
        store.check_schema()?;
        Ok(store)
    }

    fn store_error(&self, source: rusqlite::Error) -> Error {
        Error::Store {
            path: self.name.to_string(),
            source,
        }
    }

    fn check_schema(&self) -> Result<(), Error> {
        let mut tables = self
            .connection
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|source| self.store_error(source))?;
        if !tables.iter().any(|table| table == &self.query.table) {
            tables.retain(|table| !table.starts_with("sqlite_"));
            return Err(Error::MissingTable {
                path: self.name.to_string(),
                table: self.query.table.clone(),
                tables,
            });
        }
        let columns: Vec<String> = self
            .connection
            .prepare(&format!("PRAGMA table_info({})", quote(&self.query.table)))
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| row.get::<_, String>(1))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|source| self.store_error(source))?;
        let missing: Vec<String> = ["trace_id", "ts", "kind", "node_name", "node_id", "payload"]
            .iter()
            .filter(|wanted| !columns.iter().any(|column| column == *wanted))
            .map(|wanted| wanted.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingColumns {
                path: self.name.to_string(),
                table: self.query.table.clone(),
                missing,
            });
        }
        Ok(())
    }

    /// The SQL and its parameters for the query (exposed for tests of the query plan).
    pub fn select_sql(&self) -> (String, Vec<Value>) {
        let (conditions, parameters) = self.conditions();
        let table = quote(&self.query.table);
        let where_ = |conditions: &[String]| {
            if conditions.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", conditions.join(" AND "))
            }
        };
        let Some(prefix) = &self.query.trace_prefix else {
            let sql = format!(
                "SELECT {COLUMNS} FROM {table}{} ORDER BY ts, rowid",
                where_(&conditions)
            );
            return (sql, parameters);
        };
        // GLOB (case-sensitive, like the ids) can use the (trace_id, ts) index for a prefix.
        let mut traced = conditions.clone();
        let mut traced_parameters = parameters.clone();
        if prefix.contains(['*', '?', '[']) {
            traced.push("substr(trace_id, 1, ?) = ?".to_string());
            traced_parameters.push(Value::Integer(prefix.chars().count() as i64));
            traced_parameters.push(Value::Text(prefix.clone()));
        } else {
            traced.push("trace_id GLOB ?".to_string());
            traced_parameters.push(Value::Text(format!("{prefix}*")));
        }
        let mut sql = format!("SELECT {COLUMNS} FROM {table}{}", where_(&traced));
        if self.query.sample_rows > 0 {
            sql = format!(
                "{sql} UNION SELECT * FROM (SELECT {COLUMNS} FROM {table}{} ORDER BY rowid LIMIT ?)",
                where_(&conditions)
            );
            traced_parameters.extend(parameters);
            traced_parameters.push(Value::Integer(
                self.query.sample_rows.min(i64::MAX as u64) as i64
            ));
        }
        (format!("{sql} ORDER BY 3, 1"), traced_parameters)
    }

    /// The query's filters as SQL conditions and their parameters.
    fn conditions(&self) -> (Vec<String>, Vec<Value>) {
        let query = &self.query;
        let mut conditions = Vec::new();
        let mut parameters: Vec<Value> = Vec::new();
        // Trace ids may be prefixes: GLOB `prefix*` (case-sensitive, like the ids) uses the
        // (trace_id, ts) index; an id with GLOB's special characters is matched exactly.
        if !query.trace_ids.is_empty() {
            let mut alternatives = Vec::new();
            for id in &query.trace_ids {
                if id.contains(['*', '?', '[']) {
                    alternatives.push("trace_id = ?");
                    parameters.push(Value::Text(id.clone()));
                } else {
                    alternatives.push("trace_id GLOB ?");
                    parameters.push(Value::Text(format!("{id}*")));
                }
            }
            conditions.push(format!("({})", alternatives.join(" OR ")));
        }
        let mut any_of = |column: &str, values: &[String], parameters: &mut Vec<Value>| {
            if values.is_empty() {
                return;
            }
            let marks = vec!["?"; values.len()].join(", ");
            conditions.push(format!("{column} IN ({marks})"));
            parameters.extend(values.iter().map(|value| Value::Text(value.clone())));
        };
        any_of("kind", &query.kinds, &mut parameters);
        any_of("node_name", &query.nodes, &mut parameters);
        // Half a microsecond of slack: the REAL column and the microsecond bound may round
        // apart; the exact comparison is made again on the decoded events.
        if let Some(since) = query.since {
            conditions.push("ts >= ?".to_string());
            parameters.push(Value::Real(since.as_unix_seconds() - 5e-7));
        }
        if let Some(until) = query.until {
            conditions.push("ts <= ?".to_string());
            parameters.push(Value::Real(until.as_unix_seconds() + 5e-7));
        }
        (conditions, parameters)
    }

    /// SQLite's plan for the query (`EXPLAIN QUERY PLAN`), one step per line.
    pub fn query_plan(&self) -> Result<String, Error> {
        let (sql, parameters) = self.select_sql();
        let mut statement = self
            .connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(|source| self.store_error(source))?;
        let steps = statement
            .query_map(params_from_iter(parameters), |row| row.get::<_, String>(3))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|source| self.store_error(source))?;
        Ok(steps.join("\n"))
    }

    /// `--follow`: sends the selected rows as they are written, polling every `poll` for rows
    /// with a higher rowid than any seen (each poll its own read, never a write), from the
    /// current end of the table, or with `from_start` (`--since`) from its start. Ends when
    /// the follow is stopped (Ctrl-C).
    pub(crate) fn poll_rows(
        &self,
        from_start: bool,
        poll: std::time::Duration,
        report: &SharedReport,
        send: &mut impl FnMut(Record) -> bool,
    ) -> Result<(), Error> {
        if self.immutable {
            return Err(Error::Usage(format!(
                "cannot follow the store {}: its directory is read-only to flowtrace, so it is \
                 read as a snapshot (copy it, with its -wal, somewhere writable, or read it \
                 without --follow)",
                self.name
            )));
        }
        let table = quote(&self.query.table);
        let mut last_id: i64 = if from_start {
            i64::MIN
        } else {
            self.connection
                .query_row(
                    &format!("SELECT coalesce(max(rowid), 0) FROM {table}"),
                    [],
                    |row| row.get(0),
                )
                .map_err(|source| self.store_error(source))?
        };
        let (mut conditions, mut parameters) = self.conditions();
        conditions.insert(0, "rowid > ?".to_string());
        parameters.insert(0, Value::Integer(0));
        let sql = format!(
            "SELECT {COLUMNS} FROM {table} WHERE {} ORDER BY rowid",
            conditions.join(" AND ")
        );
        let mut statement = self
            .connection
            .prepare(&sql)
            .map_err(|source| self.store_error(source))?;
        let mut names = Names::default();
        while !super::follow::ending() {
            parameters[0] = Value::Integer(last_id);
            let mut rows = statement
                .query(params_from_iter(parameters.iter()))
                .map_err(|source| self.store_error(source))?;
            let mut counts = ReadStats::default();
            while let Some(row) = rows.next().map_err(|source| self.store_error(source))? {
                last_id = last_id.max(row.get(0).map_err(|source| self.store_error(source))?);
                let record = self
                    .row_to_record(row, &mut names)
                    .unwrap_or(Record::Skipped);
                if counts.count_row(&record) && !send(record) {
                    return Ok(());
                }
            }
            drop(rows);
            report
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .stats
                .add(&counts);
            std::thread::sleep(poll);
        }
        Ok(())
    }

    /// Streams the selected rows, in time order, from a reader thread.
    pub(crate) fn into_records(self, report: SharedReport) -> StoreRecords {
        StoreRecords::spawn(report, move |sender| self.send_rows(sender))
    }

    fn send_rows(&self, sender: &RowSender) -> Result<(), Error> {
        let (sql, parameters) = self.select_sql();
        let mut statement = self
            .connection
            .prepare(&sql)
            .map_err(|source| self.store_error(source))?;
        let mut rows = statement
            .query(params_from_iter(parameters))
            .map_err(|source| self.store_error(source))?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut names = Names::default();
        while let Some(row) = rows.next().map_err(|source| self.store_error(source))? {
            // A row with a column of the wrong type is skipped and counted, not fatal.
            batch.push(
                self.row_to_record(row, &mut names)
                    .unwrap_or(Record::Skipped),
            );
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if sender.send(Ok(full)).is_err() {
                    return Ok(()); // the consumer stopped early
                }
            }
        }
        if !batch.is_empty() {
            let _ = sender.send(Ok(batch));
        }
        Ok(())
    }

    fn row_to_record(&self, row: &rusqlite::Row, names: &mut Names) -> rusqlite::Result<Record> {
        let id: i64 = row.get(0)?;
        let trace_id: Option<String> = row.get(1)?;
        // `ts` is REAL in the schema; stores written by other code may hold it as text (Unix
        // seconds or an ISO 8601 time): read it rather than skip the row.
        let ts = match row.get_ref(2)? {
            rusqlite::types::ValueRef::Real(seconds) => Timestamp::from_unix_seconds(seconds),
            rusqlite::types::ValueRef::Integer(seconds) => {
                Timestamp::from_unix_seconds(seconds as f64)
            }
            rusqlite::types::ValueRef::Text(text) => std::str::from_utf8(text)
                .ok()
                .and_then(crate::source::decode::parse_timestamp_text),
            _ => None,
        };
        let kind: String = row.get(3)?;
        let Some(ts) = ts else {
            return Err(rusqlite::Error::InvalidColumnType(
                2,
                "ts".into(),
                rusqlite::types::Type::Real,
            ));
        };
        let node_name: Option<String> = row.get(4)?;
        let node_id: Option<String> = row.get(5)?;
        let payload = match row.get_ref(6)? {
            rusqlite::types::ValueRef::Text(bytes) | rusqlite::types::ValueRef::Blob(bytes) => {
                Some(bytes)
            }
            _ => None,
        };
        let row = StoredRow {
            id,
            trace_id,
            ts,
            kind: &kind,
            node_name,
            node_id,
            payload,
        };
        Ok(row.into_record(self.name, names))
    }
}

/// One row of an events table, its columns read (SQLite or PostgreSQL).
pub(crate) struct StoredRow<'a> {
    pub id: i64,
    pub trace_id: Option<String>,
    pub ts: Timestamp,
    pub kind: &'a str,
    pub node_name: Option<String>,
    pub node_id: Option<String>,
    pub payload: Option<&'a [u8]>,
}

impl StoredRow<'_> {
    /// The row as a record: an event, or `OtherKind` for the rows other code keeps in the same
    /// table (`session.*` kinds, `session:<id>` trace ids), which are counted, not given.
    pub(crate) fn into_record(self, store: InputName, names: &mut Names) -> Record {
        if self.kind.starts_with("session.")
            || self
                .trace_id
                .as_deref()
                .is_some_and(|id| id.starts_with("session:"))
        {
            return Record::OtherKind;
        }
        let origin = Origin::StoreRow { store, id: self.id };
        let mut event = decode_store_row(self.ts, self.kind, self.payload, origin, names);
        let mut name = |column: Option<String>| column.map(|text| names.get(&text));
        event.trace_id = name(self.trace_id.filter(|id| id != GLOBAL_TRACE_ID));
        event.node_name = name(self.node_name).or(event.node_name);
        event.node_id = name(self.node_id).or(event.node_id);
        event.derive_keys();
        Record::Event(Box::new(event))
    }
}

/// The events of a store, as the reader thread sends them.
pub(crate) struct StoreRecords {
    receiver: Receiver<Result<Vec<Record>, Error>>,
    batch: std::vec::IntoIter<Record>,
    report: SharedReport,
    rows: u64,
    finished: bool,
}

/// Where a store's reader thread sends its batches of rows.
pub(crate) type RowSender = SyncSender<Result<Vec<Record>, Error>>;

impl StoreRecords {
    /// Runs `read` on a thread of its own, which sends the store's rows in batches.
    pub(crate) fn spawn(
        report: SharedReport,
        read: impl FnOnce(&RowSender) -> Result<(), Error> + Send + 'static,
    ) -> StoreRecords {
        let (sender, receiver) = sync_channel(4);
        thread::spawn(move || {
            if let Err(error) = read(&sender) {
                let _ = sender.send(Err(error));
            }
        });
        StoreRecords {
            receiver,
            batch: Vec::new().into_iter(),
            report,
            rows: 0,
            finished: false,
        }
    }
}

impl Iterator for StoreRecords {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(record) = self.batch.next() {
                return Some(record);
            }
            if self.finished {
                return None;
            }
            let received = self.receiver.recv();
            let mut report = self.report.lock().unwrap_or_else(|p| p.into_inner());
            match received {
                Ok(Ok(batch)) => {
                    let total = batch.len() as u64;
                    let mut good = Vec::with_capacity(batch.len());
                    for record in batch {
                        match record {
                            Record::Skipped => report.stats.store_rows_skipped += 1,
                            Record::OtherKind => report.stats.store_rows_other += 1,
                            record => good.push(record),
                        }
                    }
                    self.rows += total;
                    report.stats.store_rows += good.len() as u64;
                    drop(report);
                    self.batch = good.into_iter();
                }
                Ok(Err(error)) => {
                    report.errors.push(error);
                    self.finished = true;
                }
                Err(_) => self.finished = true,
            }
        }
    }
}

/// Checks the file is a SQLite database; returns whether it is in WAL mode.
pub(crate) fn check_sqlite_header(path: &Path, name: &str) -> Result<bool, Error> {
    if path.is_dir() {
        return Err(Error::IsDirectory {
            path: name.to_string(),
        });
    }
    let mut header = [0u8; 100];
    let mut file = File::open(path).map_err(|source| Error::Open {
        path: name.to_string(),
        source,
    })?;
    let read = read_up_to(&mut file, &mut header).map_err(|source| Error::Open {
        path: name.to_string(),
        source,
    })?;
    if read < header.len() || !header.starts_with(SQLITE_MAGIC) {
        return Err(Error::NotSqlite {
            path: name.to_string(),
        });
    }
    // Bytes 18 and 19 are the read/write format versions: 2 means WAL.
    Ok(header[18] == 2 || header[19] == 2)
}

pub(crate) fn read_up_to(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            count => filled += count,
        }
    }
    Ok(filled)
}

/// The store opened read-only, and whether only as an immutable snapshot.
fn open_read_only(path: &Path, wal_mode: bool) -> rusqlite::Result<(Connection, bool)> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let uri = format!("file:{}?mode=ro", encode_uri_path(&absolute));
    // Committed rows may sit in a `-wal`: `immutable` would not see them.
    let rows_only_in_file = wal_mode && !side_file(&absolute, "-wal").exists();
    match open_uri(&uri) {
        // SQLite's locks keep every read whole, even when a writer starts or checkpoints
        // during it; `immutable` would read the file as it changes.
        Ok(connection) => Ok((connection, false)),
        // A WAL store in a directory flowtrace may not write to (a read-only mount, another
        // user's files) cannot get its `-shm`: no writer can start there unseen, so reading it
        // as immutable is safe.
        Err(error) if rows_only_in_file && cannot_create_side_files(&error) => {
            open_uri(&format!("{uri}&immutable=1")).map(|connection| (connection, true))
        }
        Err(error) => Err(error),
    }
}

fn open_uri(uri: &str) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(uri, flags)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // The WAL and its index are opened on the first read: fail here, not mid-stream.
    connection.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    Ok(connection)
}

/// A file SQLite keeps beside the database: `-wal`, `-shm`, `-journal`.
fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The `-journal` a crashed rollback-mode writer left, when that is why a read-only open failed.
fn hot_journal(path: &Path, error: &rusqlite::Error) -> Option<String> {
    if error.sqlite_error_code() != Some(rusqlite::ErrorCode::ReadOnly) {
        return None;
    }
    let journal = side_file(path, "-journal");
    let size = std::fs::metadata(&journal).ok()?.len();
    (size > 0).then(|| journal.display().to_string())
}

fn cannot_create_side_files(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
    )
}

/// Percent-encodes the characters that mean something in a SQLite URI.
fn encode_uri_path(path: &Path) -> String {
    let mut encoded = String::new();
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b'?' | b'#' | b'%' | b'&' | b'=' => encoded.push_str(&format!("%{byte:02X}")),
            b' '..=b'~' => encoded.push(*byte as char),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_escape_what_sqlite_would_parse() {
        assert_eq!(
            encode_uri_path(Path::new("/tmp/a b?c#d%e.db")),
            "/tmp/a b%3Fc%23d%25e.db"
        );
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("flow_events"), "\"flow_events\"");
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }
}
