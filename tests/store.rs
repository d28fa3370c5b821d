//! The SQLite event store: read strictly read-only, whatever its journal mode and whether a
//! service is writing to it, and merged with log files by time.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use rusqlite::Connection;
use serde_json::Value;

const SCHEMA: &str = "CREATE TABLE flow_events (
  id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
  node_name TEXT, node_id TEXT, event_fp TEXT NOT NULL, payload TEXT, created_at TEXT,
  UNIQUE (trace_id, event_fp));
CREATE INDEX idx_events_trace_ts ON flow_events(trace_id, ts, id);";

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

/// Inserts the flat fixture's payloads as store rows through `connection`.
fn insert_flat_events(connection: &Connection, limit: usize) -> usize {
    let text = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let mut inserted = 0;
    for (index, line) in text.lines().take(limit).enumerate() {
        let payload: Value = serde_json::from_str(line).unwrap();
        connection
            .execute(
                "INSERT INTO flow_events (trace_id, ts, kind, node_name, node_id, event_fp, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    payload["trace_id"].as_str().unwrap_or("__global__"),
                    payload["ts"].as_f64().unwrap(),
                    payload["event"].as_str().unwrap(),
                    payload["node_name"].as_str(),
                    payload["node_id"].as_str(),
                    format!("fp{index}"),
                    line,
                ],
            )
            .unwrap();
        inserted += 1;
    }
    inserted
}

#[test]
fn reading_the_captured_store_changes_nothing_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    std::fs::copy(fixture("incident/events.db"), &db).unwrap();
    let before = snapshot(dir.path());
    let events = events_jsonl(&["--store", db.to_str().unwrap()]);
    assert_eq!(
        events.len() as u64,
        incident_expected()["store_rows"].as_u64().unwrap()
    );
    // SQLite's read-only open of a WAL store adds an empty `-wal` and its index: the price of
    // reads a starting writer cannot tear. Nothing else changes, the database least of all.
    let mut after = snapshot(dir.path());
    assert_eq!(after.remove("events.db-wal").unwrap_or_default(), b"");
    after.remove("events.db-shm");
    assert_eq!(after, before, "the store's directory changed");
    assert_eq!(events[0]["source"], format!("{}#1", db.display()));
}

#[test]
fn a_rollback_journal_store_is_read_without_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    {
        let connection = Connection::open(&db).unwrap();
        connection.execute_batch(SCHEMA).unwrap();
        insert_flat_events(&connection, 40);
    }
    let before = snapshot(dir.path());
    assert_eq!(events_jsonl(&["--store", db.to_str().unwrap()]).len(), 40);
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_store_held_open_by_a_writer_in_wal_mode_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    let writer = Connection::open(&db).unwrap();
    writer
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get::<_, String>(0))
        .unwrap();
    writer.execute_batch(SCHEMA).unwrap();
    insert_flat_events(&writer, 30);
    // A write in progress: flowtrace must see the committed rows only, and not block.
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    writer
        .execute(
            "INSERT INTO flow_events (trace_id, ts, kind, event_fp) VALUES ('t', 1.0, 'node_start', 'x')",
            [],
        )
        .unwrap();
    assert!(dir.path().join("events.db-wal").exists());
    let db_bytes = std::fs::read(&db).unwrap();

    let events = events_jsonl(&["--store", db.to_str().unwrap()]);
    assert_eq!(events.len(), 30);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        db_bytes,
        "flowtrace changed the database file"
    );
    writer.execute_batch("COMMIT").unwrap();
    assert_eq!(events_jsonl(&["--store", db.to_str().unwrap()]).len(), 31);
}

#[test]
fn filters_reach_the_store() {
    let trace = trace_of("timeout_failed");
    let store = fixture_arg("incident/events.db");
    let events = events_jsonl(&["--store", &store, "--trace", &trace]);
    let expected = incident_expected();
    let recorded = expected["traces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["trace_id"] == trace.as_str())
        .unwrap()["events"]
        .as_u64()
        .unwrap();
    assert_eq!(events.len() as u64, recorded);
    assert!(events.iter().all(|e| e["trace_id"] == trace.as_str()));

    let failed = events_jsonl(&[
        "--store",
        &store,
        "--kind",
        "node_failed",
        "--node",
        "retrieve",
    ]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["trace_id"], trace.as_str());
    assert_eq!(failed[0]["flow_error"]["code"], "NODE_TIMEOUT");
}

#[test]
fn global_events_have_no_trace_id() {
    let events = events_jsonl(&[
        "--store",
        &fixture_arg("incident/events.db"),
        "--kind",
        "node_cancelled",
    ]);
    assert_eq!(
        events.len() as u64,
        incident_expected()["event_counts"]["node_cancelled"]
            .as_u64()
            .unwrap()
    );
    assert!(events.iter().all(|e| e["trace_id"].is_null()));
}

#[test]
fn store_and_logs_are_merged_by_time_and_share_tenants() {
    // The ingress lines of the structured log name each trace's tenant; the store has none.
    let dir = tempfile::tempdir().unwrap();
    let ingress = dir.path().join("ingress.log");
    let text = std::fs::read_to_string(fixture("incident/structured.jsonl")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"app.ingress\""))
        .collect();
    assert_eq!(lines.len(), 25);
    std::fs::write(&ingress, lines.join("\n")).unwrap();

    let events = events_jsonl(&[
        "--store",
        &fixture_arg("incident/events.db"),
        ingress.to_str().unwrap(),
    ]);
    let from_logs = events_jsonl(&[&fixture_arg("incident/structured.jsonl")]);
    let tenants =
        |events: &[Value]| -> Vec<Value> { events.iter().map(|e| e["tenant"].clone()).collect() };
    assert_eq!(tenants(&events), tenants(&from_logs));
    assert!(
        events
            .iter()
            .filter(|e| e["trace_id"].is_string())
            .all(|e| e["tenant"].is_string())
    );
}

#[test]
fn table_names_another_events_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("custom.db");
    let connection = Connection::open(&db).unwrap();
    connection
        .execute_batch(&SCHEMA.replace("flow_events", "pf_events"))
        .unwrap();
    let text = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let line = text.lines().next().unwrap();
    connection
        .execute(
            "INSERT INTO pf_events (trace_id, ts, kind, event_fp, payload) VALUES ('abc', 1764000000.25, 'node_start', 'fp', ?1)",
            [line],
        )
        .unwrap();
    drop(connection);
    let events = events_jsonl(&["--store", db.to_str().unwrap(), "--table", "pf_events"]);
    assert_eq!(events.len(), 1);
    // The row's columns win over its payload.
    assert_eq!(events[0]["trace_id"], "abc");
    assert_eq!(events[0]["ts"], "2025-11-24T16:00:00.250000Z");

    flowtrace()
        .args(["events", "--store", db.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(format!(
            "flowtrace: {}: no table `flow_events` (tables: pf_events); name the events table with --table\n",
            db.display()
        ));
}

#[test]
fn the_same_event_from_a_store_and_a_log_is_given_once() {
    let output = flowtrace()
        .args(["events", "--format", "jsonl", "--store"])
        .arg(fixture("incident/events.db"))
        .arg(fixture("incident/structured.jsonl"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let events = parse_jsonl(&output.stdout);
    let from_log = events_jsonl(&[&fixture_arg("incident/structured.jsonl")]);
    assert_eq!(events.len(), from_log.len());
    // Every trace event keeps the tenant the log's ingress lines gave it.
    assert!(
        events
            .iter()
            .filter(|e| e["trace_id"].is_string())
            .all(|e| e["tenant"].is_string())
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("247 events read twice and given once"),
        "{stderr}"
    );
}

#[test]
fn a_writer_that_starts_during_the_read_never_tears_it() {
    // A service that opens a connection per transaction leaves no `-wal` between its
    // transactions, and checkpoints into the database file as each connection closes. Every
    // read taken meanwhile must hold whole transactions: each batch's rows, or none of them.
    const ROWS_PER_BATCH: usize = 50;
    // Old batches are deleted as new ones come, so the store stays small however fast this
    // machine writes.
    const BATCHES_KEPT: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    {
        let connection = Connection::open(&db).unwrap();
        connection
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get::<_, String>(0))
            .unwrap();
        connection.execute_batch(SCHEMA).unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let committed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (db, stop, committed) = (db.clone(), stop.clone(), committed.clone());
        std::thread::spawn(move || {
            let mut batch = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut connection = Connection::open(&db).unwrap();
                connection
                    .busy_timeout(std::time::Duration::from_secs(5))
                    .unwrap();
                let transaction = connection.transaction().unwrap();
                for row in 0..ROWS_PER_BATCH {
                    transaction
                        .execute(
                            "INSERT INTO flow_events (trace_id, ts, kind, node_name, event_fp, payload)
                             VALUES (?1, ?2, 'node_start', 'work', ?3, ?4)",
                            rusqlite::params![
                                format!("batch-{batch}"),
                                1_700_000_000.0 + batch as f64 + row as f64 / 1000.0,
                                format!("fp{row}"),
                                "x".repeat(300),
                            ],
                        )
                        .unwrap();
                }
                if let Some(old) = batch.checked_sub(BATCHES_KEPT) {
                    transaction
                        .execute(
                            "DELETE FROM flow_events WHERE trace_id = ?1",
                            [format!("batch-{old}")],
                        )
                        .unwrap();
                }
                transaction.commit().unwrap();
                drop(connection);
                batch += 1;
                committed.store(batch, std::sync::atomic::Ordering::Release);
            }
            batch
        })
    };
    // An empty store is rightly an error, so the reads start once the first batch is in; on a
    // slow machine the writer's first commit can come after the first read.
    while committed.load(std::sync::atomic::Ordering::Acquire) == 0 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut reads = 0;
    while reads < 40 {
        let output = flowtrace()
            .args(["events", "--format", "jsonl", "--quiet", "--store"])
            .arg(&db)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "read {reads} failed: {stderr}");
        let mut per_trace: BTreeMap<String, usize> = BTreeMap::new();
        for event in parse_jsonl(&output.stdout) {
            *per_trace
                .entry(event["trace_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        for (trace, rows) in &per_trace {
            assert_eq!(*rows, ROWS_PER_BATCH, "read {reads}: {trace} torn");
        }
        reads += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
}

#[test]
fn a_store_left_by_an_interrupted_write_says_how_to_recover() {
    // A rollback-mode writer that dies mid-transaction leaves a hot journal, which only a
    // read-write open can undo. The bytes it leaves are those of a transaction in flight: copy
    // them while one is, and nobody holds the copy's lock.
    let dir = tempfile::tempdir().unwrap();
    let (live, crashed) = (dir.path().join("live"), dir.path().join("crashed"));
    std::fs::create_dir_all(&live).unwrap();
    std::fs::create_dir_all(&crashed).unwrap();
    let mut writer = Connection::open(live.join("events.db")).unwrap();
    writer.execute_batch(SCHEMA).unwrap();
    insert_flat_events(&writer, 40);
    writer.execute_batch("PRAGMA cache_size=10").unwrap();
    let transaction = writer.transaction().unwrap();
    for row in 0..5000 {
        transaction
            .execute(
                "INSERT INTO flow_events (trace_id, ts, kind, event_fp, payload) VALUES ('t', 1.0, 'node_start', ?1, ?2)",
                rusqlite::params![format!("hot{row}"), "x".repeat(200)],
            )
            .unwrap();
    }
    for name in ["events.db", "events.db-journal"] {
        std::fs::copy(live.join(name), crashed.join(name)).unwrap();
    }
    drop(transaction);
    let db = crashed.join("events.db");
    let before = snapshot(&crashed);

    let output = flowtrace()
        .args(["triage", "--store"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a write to this store was interrupted"),
        "{stderr}"
    );
    assert!(
        stderr.contains("events.db-journal is a hot journal"),
        "{stderr}"
    );
    assert_eq!(snapshot(&crashed), before, "flowtrace changed the files");

    // The recovery it names works: a read-write open rolls the write back to the 40 rows.
    let check: String = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(events_jsonl(&["--store", db.to_str().unwrap()]).len(), 40);
}
