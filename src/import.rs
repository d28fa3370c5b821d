//! `import`: writes events into a SQLite store with PenguiFlow's recommended `flow_events`
//! schema. The only code in flowtrace that writes, and only to the store it is given.
//!
//! Idempotent: each row's `event_fp` is the SHA-256 of the event's identity (its payload less
//! the tenant, the texts and `outgoing`, which depend on the shape and on `--no-redact`), and
//! `UNIQUE (trace_id, event_fp)` with `INSERT OR IGNORE` makes importing the same log twice add
//! nothing.
//!
//! Speed: trace ids and fingerprints are random, so inserting rows as they come scatters writes
//! across the store's indexes and every commit rewrites most of their pages. Events are first
//! appended, `BATCH` at a time, to an unindexed TEMP table (SQLite's temporary file, not the
//! store), then moved into the store `MERGE_ROWS` at a time by one `INSERT OR IGNORE ... SELECT
//! ... ORDER BY trace_id, ts, rowid`: one transaction per merge, walking the indexes in order
//! (the staging rowid is the order of arrival, so events of the same time keep their log order).
//! A crash loses at most the rows not yet merged; the store is never half-written.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::event::{Event, FlowError, Name, RemoteCall};

const BATCH: usize = 10_000;
/// Rows staged before they are merged into the store in one transaction.
const MERGE_ROWS: u64 = 1_000_000;
const COLUMNS: &str = "trace_id, ts, kind, node_name, node_id, event_fp, payload, created_at";
/// PenguiFlow stores events without a trace under this id.
const GLOBAL_TRACE_ID: &str = "__global__";

/// The `flow_events` table of the shared reference (SQLite flavour).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS {table} (
  id         INTEGER PRIMARY KEY,
  trace_id   TEXT NOT NULL,
  ts         REAL NOT NULL,
  kind       TEXT NOT NULL,
  node_name  TEXT,
  node_id    TEXT,
  event_fp   TEXT NOT NULL,
  payload    TEXT,
  created_at TEXT,
  UNIQUE (trace_id, event_fp)
);
CREATE INDEX IF NOT EXISTS idx_{table}_trace_ts ON {table}(trace_id, ts, id);
CREATE INDEX IF NOT EXISTS idx_{table}_kind ON {table}(kind);
";

/// The payload stored for an event: `FlowEvent.to_payload()`'s keys, `ts` in Unix seconds.
#[derive(Serialize)]
struct Payload<'a> {
    ts: f64,
    event: &'a str,
    node_name: &'a Option<Name>,
    node_id: &'a Option<Name>,
    trace_id: &'a Option<Name>,
    latency_ms: Option<f64>,
    q_depth_in: Option<i64>,
    q_depth_out: Option<i64>,
    q_depth_total: Option<i64>,
    queue_maxsize: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outgoing: Option<i64>,
    attempt: Option<i64>,
    trace_inflight: Option<i64>,
    trace_cancelled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_pending: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: &'a Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exception: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_error: Option<&'a FlowError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sleep_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deadline_s: Option<f64>,
    /// A remote call's agent, skill and task (`remote_*` events).
    #[serde(flatten)]
    remote: Option<&'a RemoteCall>,
}

fn payload_fields(event: &Event) -> Payload<'_> {
    Payload {
        ts: event.ts.as_unix_seconds(),
        event: event.kind.as_str(),
        node_name: &event.node_name,
        node_id: &event.node_id,
        trace_id: &event.trace_id,
        latency_ms: event.latency_ms(),
        q_depth_in: event.q_depth_in(),
        q_depth_out: event.q_depth_out(),
        q_depth_total: event.q_depth_total(),
        queue_maxsize: event.queue_maxsize(),
        outgoing: event.outgoing(),
        attempt: event.attempt(),
        trace_inflight: event.trace_inflight(),
        trace_cancelled: event.trace_cancelled,
        trace_pending: event.trace_pending(),
        tenant: &event.tenant,
        exception: event.exception(),
        flow_error: event.flow_error(),
        sleep_s: event.sleep_s(),
        deadline_s: event.deadline_s(),
        remote: event.remote(),
    }
}

fn payload_of(event: &Event) -> String {
    serde_json::to_string(&payload_fields(event)).unwrap_or_default()
}

/// What identifies an event whatever shape it was read from: its payload less the tenant (known
/// from some shapes only), the texts (masked or not under `--no-redact`), `outgoing` and a
/// remote call's agent, skill and task (not read before flowtrace knew remote calls).
fn fingerprint_of(event: &Event) -> String {
    let identity = Payload {
        tenant: &None,
        exception: None,
        flow_error: None,
        outgoing: None,
        remote: None,
        ..payload_fields(event)
    };
    let canonical = serde_json::to_string(&identity).unwrap_or_default();
    hex(&Sha256::digest(canonical.as_bytes()))
}

enum TableCheck {
    Unfit(String),
    Failed(rusqlite::Error),
}

impl From<rusqlite::Error> for TableCheck {
    fn from(error: rusqlite::Error) -> Self {
        TableCheck::Failed(error)
    }
}

/// An existing events table must deduplicate (`UNIQUE (trace_id, event_fp)`) and keep `ts` a
/// number, or every import would add duplicates or rows that read back out of order.
fn check_existing_table(
    connection: &Connection,
    table: &str,
    quoted: &str,
) -> Result<(), TableCheck> {
    let mut columns = std::collections::HashMap::new();
    {
        let mut statement = connection.prepare(&format!("PRAGMA table_info({quoted})"))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let column: String = row.get(1)?;
            let declared: String = row.get(2)?;
            columns.insert(column.to_ascii_lowercase(), declared.to_ascii_uppercase());
        }
    }
    if columns.is_empty() {
        return Ok(()); // no such table yet: the import creates it
    }
    let missing: Vec<&str> = COLUMNS
        .split(", ")
        .filter(|column| !columns.contains_key(*column))
        .collect();
    if !missing.is_empty() {
        return Err(TableCheck::Unfit(format!(
            "it has no column {} (an events table has {COLUMNS}); import into a new file or \
             name another table with --table",
            missing.join(", ")
        )));
    }
    let ts_type = &columns["ts"];
    if ["CHAR", "CLOB", "TEXT"]
        .iter()
        .any(|text| ts_type.contains(text))
    {
        return Err(TableCheck::Unfit(format!(
            "its ts column is {ts_type}, so SQLite would store each time as text and sort \
             it as text; PenguiFlow's schema has `ts REAL NOT NULL`: import into a new file"
        )));
    }
    let mut deduplicates = false;
    let indexes: Vec<(String, bool)> = connection
        .prepare(&format!("PRAGMA index_list({quoted})"))?
        .query_map([], |row| {
            Ok((row.get::<_, String>(1)?, row.get::<_, bool>(2)?))
        })?
        .collect::<Result<_, _>>()?;
    for (index, unique) in indexes {
        if !unique {
            continue;
        }
        let mut index_columns: Vec<String> = connection
            .prepare(&format!(
                "PRAGMA index_info(\"{}\")",
                index.replace('"', "\"\"")
            ))?
            .query_map([], |row| row.get::<_, Option<String>>(2))?
            .map(|column| column.map(Option::unwrap_or_default))
            .collect::<Result<_, _>>()?;
        index_columns.sort();
        deduplicates |= index_columns == ["event_fp", "trace_id"];
    }
    if !deduplicates {
        return Err(TableCheck::Unfit(format!(
            "it has no UNIQUE (trace_id, event_fp), so every import would add the same events \
             again; add it (CREATE UNIQUE INDEX ON \"{table}\"(trace_id, event_fp)) or \
             import into a new file"
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    text
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportCounts {
    pub events: u64,
    pub inserted: u64,
}

/// Events a PostgreSQL table could not take (a value longer than its column), and where the
/// first was read.
#[derive(Debug, Default, Clone)]
pub struct TooLong {
    pub events: u64,
    pub first: Option<String>,
}

pub struct StoreWriter {
    name: String,
    connection: Connection,
    table: String,
    pending: Vec<Event>,
    /// A store this import created, switched to WAL once filled.
    fresh: bool,
    /// Rows in the TEMP staging table, not yet merged into the store.
    staged: u64,
    counts: ImportCounts,
}

impl StoreWriter {
    /// Opens (creating if needed) the store and its table.
    pub fn open(path: &Path, table: &str) -> Result<StoreWriter, Error> {
        let name = path.display().to_string();
        let store_error = |source| Error::Store {
            path: name.clone(),
            source,
        };
        if path.is_dir() {
            return Err(Error::IsDirectory { path: name });
        }
        let fresh = !path.exists();
        if !fresh && std::fs::metadata(path).map_or(0, |m| m.len()) > 0 {
            // Never write into a file that is not already a SQLite database.
            crate::source::store::check_sqlite_header(path, &name)?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let connection = Connection::open_with_flags(path, flags).map_err(store_error)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(store_error)?;
        // A fresh store is filled with a rollback journal (new pages need no journaling; WAL
        // would write every page twice) and switched to WAL, as PenguiFlow runs it, at the end.
        connection
            .execute_batch("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-8192;")
            .map_err(store_error)?;
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let index_safe: String = table
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        check_existing_table(&connection, table, &quoted).map_err(|reason| match reason {
            TableCheck::Unfit(reason) => Error::ImportTable {
                path: name.clone(),
                table: table.to_string(),
                reason,
            },
            TableCheck::Failed(source) => store_error(source),
        })?;
        let schema = SCHEMA
            .replace("idx_{table}", &format!("idx_{index_safe}"))
            .replace("{table}", &quoted);
        connection
            .execute_batch(&schema)
            .map_err(|source| match &source {
                rusqlite::Error::SqliteFailure(failure, _)
                    if failure.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    Error::NotSqlite { path: name.clone() }
                }
                _ => store_error(source),
            })?;
        connection
            .execute_batch(&format!(
                "CREATE TEMP TABLE flowtrace_staging ({COLUMNS}); PRAGMA temp.cache_size=-8192;"
            ))
            .map_err(store_error)?;
        Ok(StoreWriter {
            name,
            connection,
            table: quoted,
            pending: Vec::with_capacity(BATCH),
            fresh,
            staged: 0,
            counts: ImportCounts::default(),
        })
    }

    pub fn write(&mut self, event: Event) -> Result<(), Error> {
        self.pending.push(event);
        if self.pending.len() >= BATCH {
            self.stage()?;
            if self.staged >= MERGE_ROWS {
                self.merge()?;
            }
        }
        Ok(())
    }

    /// Moves the staged rows into the store, in index order, in one transaction.
    fn merge(&mut self) -> Result<(), Error> {
        if self.staged == 0 {
            return Ok(());
        }
        let name = self.name.clone();
        let store_error = |source| Error::Store { path: name, source };
        let inserted = self
            .connection
            .transaction()
            .and_then(|transaction| {
                let inserted = transaction.execute(
                    &format!(
                        "INSERT OR IGNORE INTO {table} ({COLUMNS}) SELECT {COLUMNS} \
                         FROM temp.flowtrace_staging ORDER BY trace_id, ts, rowid",
                        table = self.table
                    ),
                    [],
                )?;
                transaction.execute("DELETE FROM temp.flowtrace_staging", [])?;
                transaction.commit()?;
                Ok(inserted)
            })
            .map_err(store_error)?;
        self.counts.inserted += inserted as u64;
        self.staged = 0;
        Ok(())
    }

    /// Appends the pending events to the staging table.
    fn stage(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let name = self.name.clone();
        let store_error = |source| Error::Store {
            path: name.clone(),
            source,
        };
        let transaction = self.connection.transaction().map_err(store_error)?;
        {
            let mut insert = transaction
                .prepare_cached(&format!(
                    "INSERT INTO temp.flowtrace_staging ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ))
                .map_err(store_error)?;
            let now = chrono::Utc::now().to_rfc3339();
            for event in self.pending.drain(..) {
                let payload = payload_of(&event);
                let fingerprint = fingerprint_of(&event);
                insert
                    .execute(params![
                        event.trace_id.as_deref().unwrap_or(GLOBAL_TRACE_ID),
                        event.ts.as_unix_seconds(),
                        event.kind.as_str(),
                        event.node_name.as_deref(),
                        event.node_id.as_deref(),
                        fingerprint,
                        payload,
                        now,
                    ])
                    .map_err(store_error)?;
                self.counts.events += 1;
                self.staged += 1;
            }
        }
        transaction.commit().map_err(store_error)?;
        Ok(())
    }

    /// Writes what is pending and returns the counts.
    pub fn finish(mut self) -> Result<ImportCounts, Error> {
        self.stage()?;
        self.merge()?;
        if self.fresh {
            self.connection
                .query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
                .map_err(|source| Error::Store {
                    path: self.name.clone(),
                    source,
                })?;
        }
        Ok(self.counts)
    }
}

/// The `flow_events` table of PenguiFlow's StateStore specification (PostgreSQL flavour).
const POSTGRES_SCHEMA: &str = "
CREATE TABLE {table} (
    id BIGSERIAL PRIMARY KEY,
    trace_id VARCHAR(128) NOT NULL,
    ts DOUBLE PRECISION NOT NULL,
    kind VARCHAR(64) NOT NULL,
    node_name VARCHAR(256),
    node_id VARCHAR(256),
    event_fp VARCHAR(64) NOT NULL,
    payload JSONB,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE (trace_id, event_fp)
);
CREATE INDEX ON {table} (trace_id, ts, id);
CREATE INDEX ON {table} (kind);
";

/// Rows copied into the staging table before they are merged into the store. No ORDER BY
/// in the merge: sorting the wide rows cost more than the index locality it bought, and a
/// private, freshly filled staging table is scanned in the order it was copied (log order,
/// which `id` then keeps for events of the same time).
const POSTGRES_MERGE_ROWS: usize = 20_000;

/// `import` into PostgreSQL: the table (and its indexes) created when missing; events encoded
/// here in COPY's text format, `POSTGRES_MERGE_ROWS` at a time, and written by a thread of
/// their own (so the encoding of one batch overlaps the server's work on the one before):
/// copied straight into the table while no row was already there, else through a temporary
/// table with `INSERT ... ON CONFLICT (trace_id, event_fp) DO NOTHING`, one transaction per
/// batch, so importing twice adds nothing.
pub struct PgWriter {
    name: String,
    /// Rows not yet sent, as COPY's text format.
    pending: String,
    pending_rows: usize,
    events: u64,
    /// The longest trace_id, kind, node_name and node_id the table's columns take.
    limits: [Option<usize>; 4],
    too_long: TooLong,
    batches: Option<std::sync::mpsc::SyncSender<(String, u64)>>,
    database: Option<std::thread::JoinHandle<Result<u64, Error>>>,
}

impl PgWriter {
    pub fn open(url: &str, table: &str) -> Result<PgWriter, Error> {
        let (mut client, name) = crate::source::postgres::connect(url)?;
        let failed = |error: postgres::Error| {
            crate::source::postgres::explain(&name, &error, std::time::Duration::ZERO)
        };
        let quoted = crate::source::postgres::quoted_table(table);
        // An existing table is never altered (no index added, no DDL a least-privileged
        // importer could not run); a missing one is created with the spec's indexes, under an
        // advisory lock so imports started together create it once.
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quoted])
            .map_err(failed)?
            .get(0);
        if !exists {
            let mut transaction = client.transaction().map_err(failed)?;
            transaction
                .execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&quoted])
                .map_err(failed)?;
            let created_meanwhile: bool = transaction
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quoted])
                .map_err(failed)?
                .get(0);
            if !created_meanwhile {
                // Unnamed indexes: PostgreSQL names them uniquely.
                transaction
                    .batch_execute(&POSTGRES_SCHEMA.replace("{table}", &quoted))
                    .map_err(failed)?;
            }
            transaction.commit().map_err(failed)?;
        }
        // ON CONFLICT needs the unique (trace_id, event_fp) the spec gives the table: a table
        // made otherwise (the older variant) is refused untouched.
        let unique: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a1 \
                   ON a1.attrelid = i.indrelid AND a1.attnum = i.indkey[0] \
                 JOIN pg_attribute a2 ON a2.attrelid = i.indrelid AND a2.attnum = i.indkey[1] \
                 WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnatts = 2 \
                   AND a1.attname = 'trace_id' AND a2.attname = 'event_fp')",
                &[&quoted],
            )
            .map_err(failed)?
            .get(0);
        if !unique {
            return Err(Error::ImportTable {
                path: name.clone(),
                table: table.to_string(),
                reason: "it has no UNIQUE (trace_id, event_fp), so an import run twice would \
                         add every event again; add it (ALTER TABLE ... ADD UNIQUE (trace_id, \
                         event_fp), after an event_fp column if it lacks one) or import into a \
                         new table"
                    .to_string(),
            });
        }
        client
            .batch_execute(
                "CREATE TEMP TABLE flowtrace_staging (trace_id text, ts float8, kind text, \
                 node_name text, node_id text, event_fp text, payload jsonb)",
            )
            .map_err(failed)?;
        let mut limits = [None; 4];
        for row in client
            .query(
                "SELECT attname::text, CASE WHEN atttypid = 'varchar'::regtype AND atttypmod > 4 \
                 THEN atttypmod - 4 END FROM pg_attribute \
                 WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                &[&quoted],
            )
            .map_err(failed)?
        {
            let column: String = row.get(0);
            let limit: Option<i32> = row.get(1);
            let slot = ["trace_id", "kind", "node_name", "node_id"]
                .iter()
                .position(|name| *name == column);
            if let (Some(slot), Some(limit)) = (slot, limit) {
                limits[slot] = usize::try_from(limit).ok();
            }
        }
        let (batches, received) = std::sync::mpsc::sync_channel::<(String, u64)>(1);
        let writer = BatchWriter {
            client,
            name: name.clone(),
            table: quoted,
            direct: true,
        };
        let database = std::thread::spawn(move || writer.run(&received));
        Ok(PgWriter {
            name,
            pending: String::new(),
            pending_rows: 0,
            events: 0,
            limits,
            too_long: TooLong::default(),
            batches: Some(batches),
            database: Some(database),
        })
    }

    pub fn write(&mut self, event: Event) -> Result<(), Error> {
        // A value longer than its column would fail the whole batch: the event is left out
        // and counted instead.
        let values = [
            event.trace_id.as_deref().unwrap_or(GLOBAL_TRACE_ID),
            event.kind.as_str(),
            event.node_name.as_deref().unwrap_or_default(),
            event.node_id.as_deref().unwrap_or_default(),
        ];
        let too_long = values
            .iter()
            .zip(self.limits)
            .any(|(value, limit)| limit.is_some_and(|limit| value.chars().count() > limit));
        if too_long {
            self.too_long.events += 1;
            self.too_long
                .first
                .get_or_insert_with(|| event.origin.to_string());
            return Ok(());
        }
        let payload = payload_of(&event);
        let fingerprint = fingerprint_of(&event);
        let ts = event.ts.as_unix_seconds().to_string();
        let fields = [
            Some(event.trace_id.as_deref().unwrap_or(GLOBAL_TRACE_ID)),
            Some(ts.as_str()),
            Some(event.kind.as_str()),
            event.node_name.as_deref(),
            event.node_id.as_deref(),
            Some(fingerprint.as_str()),
            Some(payload.as_str()),
        ];
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                self.pending.push('\t');
            }
            match field {
                Some(text) => copy_escape(&mut self.pending, text),
                None => self.pending.push_str("\\N"),
            }
        }
        self.pending.push('\n');
        self.pending_rows += 1;
        self.events += 1;
        if self.pending_rows >= POSTGRES_MERGE_ROWS {
            self.send()?;
        }
        Ok(())
    }

    /// Hands the pending rows to the database thread (waiting while it still writes the batch
    /// before the last: memory stays at two batches).
    fn send(&mut self) -> Result<(), Error> {
        if self.pending_rows == 0 {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        let count = std::mem::take(&mut self.pending_rows) as u64;
        let sent = self
            .batches
            .as_ref()
            .is_some_and(|batches| batches.send((rows, count)).is_ok());
        if sent {
            Ok(())
        } else {
            // The thread stopped at an error: it is the one to report.
            self.finish_thread().map(|_| ())
        }
    }

    fn finish_thread(&mut self) -> Result<u64, Error> {
        self.batches = None;
        match self.database.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::Postgres {
                store: self.name.clone(),
                message: "the writing thread stopped".into(),
            }),
            None => Ok(0),
        }
    }

    /// Writes what is pending and returns the counts, and the events left out.
    pub fn finish(mut self) -> Result<(ImportCounts, TooLong), Error> {
        self.send()?;
        let inserted = self.finish_thread()?;
        let counts = ImportCounts {
            events: self.events,
            inserted,
        };
        Ok((counts, self.too_long.clone()))
    }

    /// The store as messages name it (password masked).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The database side of a PostgreSQL import: writes each batch in one transaction.
struct BatchWriter {
    client: postgres::Client,
    name: String,
    table: String,
    /// No row met so far was already in the table: batches are copied straight in.
    direct: bool,
}

impl BatchWriter {
    /// Writes batches until the channel closes; returns the rows inserted.
    fn run(mut self, batches: &std::sync::mpsc::Receiver<(String, u64)>) -> Result<u64, Error> {
        let mut inserted = 0;
        for (rows, count) in batches {
            inserted += self.write(&rows, count).map_err(|error| {
                crate::source::postgres::explain(&self.name, &error, std::time::Duration::ZERO)
            })?;
        }
        Ok(inserted)
    }

    /// One batch: copied straight in while no row was already there; once a batch meets
    /// one, it and the rest go through the staging table with ON CONFLICT DO NOTHING.
    fn write(&mut self, rows: &str, count: u64) -> Result<u64, postgres::Error> {
        use postgres::error::SqlState;
        let columns = "trace_id, ts, kind, node_name, node_id, event_fp, payload";
        if self.direct {
            match self.copy_in(&format!("{} ({columns})", self.table), rows, |_| Ok(count)) {
                // Rows already there, or another import writing the same ones: merge from here on.
                Err(error)
                    if error.code() == Some(&SqlState::UNIQUE_VIOLATION)
                        || error.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED) =>
                {
                    self.direct = false;
                }
                done => return done,
            }
        }
        let table = self.table.clone();
        // Rows inserted in key order, so two imports of the same events cannot deadlock; one
        // that still meets a deadlock (another writer's order) is tried again.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let merged = self.copy_in(
                &format!("flowtrace_staging ({columns})"),
                rows,
                |transaction| {
                    let inserted = transaction.execute(
                        &format!(
                            "INSERT INTO {table} ({columns}) SELECT {columns} \
                             FROM flowtrace_staging ORDER BY trace_id, event_fp \
                             ON CONFLICT (trace_id, event_fp) DO NOTHING"
                        ),
                        &[],
                    )?;
                    transaction.execute("TRUNCATE flowtrace_staging", &[])?;
                    Ok(inserted)
                },
            );
            match merged {
                Err(error)
                    if attempts < 5 && error.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED) =>
                {
                    continue;
                }
                done => return done,
            }
        }
    }

    /// In one transaction: `rows` copied into `target`, then `then`; returns what `then` does.
    fn copy_in(
        &mut self,
        target: &str,
        rows: &str,
        then: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<u64, postgres::Error>,
    ) -> Result<u64, postgres::Error> {
        let mut transaction = self.client.transaction()?;
        let mut copy = transaction.copy_in(&format!("COPY {target} FROM STDIN"))?;
        // A write fails only when the server stopped the copy; `finish` then says why.
        let written = std::io::Write::write_all(&mut copy, rows.as_bytes());
        copy.finish()?;
        if written.is_err() {
            transaction.rollback()?;
            return Ok(0);
        }
        let result = then(&mut transaction)?;
        transaction.commit()?;
        Ok(result)
    }
}

/// Appends `text` in COPY's text format: backslash, tab, newline and carriage return escaped.
fn copy_escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
