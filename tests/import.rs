//! `flowtrace import`: logs into a store with PenguiFlow's schema, idempotently, and back out
//! unchanged.

mod common;

use common::*;
use serde_json::Value;

fn rows(db: &std::path::Path) -> i64 {
    let connection = rusqlite::Connection::open(db).unwrap();
    connection
        .query_row("SELECT count(*) FROM flow_events", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn importing_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    let log = fixture("incident/kubectl_prefix_timestamps.log");
    let before = std::fs::read(&log).unwrap();
    flowtrace()
        .args(["import", "--store", db.to_str().unwrap()])
        .arg(&log)
        .assert()
        .success()
        .stderr(predicates::str::contains(format!(
            "imported 247 events into {}: 247 new rows, 0 already there",
            db.display()
        )));
    assert_eq!(rows(&db), 247);
    flowtrace()
        .args(["import", "-q", "--store", db.to_str().unwrap()])
        .arg(&log)
        .assert()
        .success();
    assert_eq!(rows(&db), 247, "the same log twice adds nothing");
    assert_eq!(std::fs::read(&log).unwrap(), before, "the log is only read");

    // Staging happened outside the store, and a store the import created runs in WAL mode.
    let connection = rusqlite::Connection::open(&db).unwrap();
    let tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["flow_events"]);
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn the_archive_gives_back_the_same_events_with_their_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    let log = fixture_arg("incident/structured.jsonl");
    flowtrace()
        .args(["import", "-q", "--store", db.to_str().unwrap(), &log])
        .assert()
        .success();
    let strip =
        |events: Vec<Value>| -> Vec<Value> { events.iter().map(|e| comparable(e, true)).collect() };
    let from_log = strip(events_jsonl(&[&log]));
    let from_store = strip(events_jsonl(&["--store", db.to_str().unwrap()]));
    assert_eq!(from_store, from_log);
    // And the store answers find like the log does.
    let id = trace_of("error_failed");
    let a = report_json("find", &[&id, &log]);
    let b = report_json("find", &[&id, "--store", db.to_str().unwrap()]);
    assert_eq!(a["status"], b["status"]);
    assert_eq!(a["next"], b["next"]);
}

#[test]
fn filters_choose_what_is_imported_and_secrets_stay_masked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("acme.db");
    flowtrace()
        .args([
            "import",
            "-q",
            "--store",
            db.to_str().unwrap(),
            "--tenant",
            "initech",
        ])
        .arg(fixture("incident/structured.jsonl"))
        .assert()
        .success();
    let connection = rusqlite::Connection::open(&db).unwrap();
    let payloads: Vec<String> = connection
        .prepare("SELECT payload FROM flow_events")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!payloads.is_empty());
    assert!(
        payloads
            .iter()
            .all(|p| p.contains("\"tenant\":\"initech\""))
    );
    assert!(payloads.iter().any(|p| p.contains("upstream rejected")));
    assert!(
        !payloads
            .iter()
            .any(|p| p.contains("hunter2") || p.contains("sk-live"))
    );
}

#[test]
fn import_refuses_a_file_that_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_db = dir.path().join("notes.txt");
    std::fs::write(&not_a_db, "these are my notes, not a database\n".repeat(50)).unwrap();
    let before = std::fs::read(&not_a_db).unwrap();
    flowtrace()
        .args(["import", "--store", not_a_db.to_str().unwrap()])
        .arg(fixture("incident/flat.jsonl"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not a SQLite database"));
    assert_eq!(std::fs::read(&not_a_db).unwrap(), before);
}

#[test]
fn a_missing_log_leaves_no_empty_store_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    flowtrace()
        .args(["import", "missing.log", "--store", db.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr("flowtrace: missing.log: cannot open: no such file or directory\n");
    assert!(!db.exists());
}

#[test]
fn events_of_the_same_time_come_back_in_log_order() {
    // Coarse clocks (milliseconds, asctime) give many events one timestamp; a start must
    // still come before its success when read back from the store.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("same.jsonl");
    let mut lines = String::new();
    for node in 1..=8 {
        for kind in ["node_start", "node_success"] {
            lines.push_str(&format!(
                r#"{{"ts": 1764060172.5, "event": "{kind}", "node_name": "n{node}", "node_id": "id{node}", "trace_id": "t1", "q_depth_in": 0, "q_depth_out": 0}}"#
            ));
            lines.push('\n');
        }
    }
    std::fs::write(&log, lines).unwrap();
    let db = dir.path().join("same.db");
    let log = log.to_str().unwrap();
    flowtrace()
        .args(["import", "-q", "--store", db.to_str().unwrap(), log])
        .assert()
        .success();
    let order = |events: Vec<Value>| -> Vec<String> {
        events
            .iter()
            .map(|e| format!("{} {}", e["node_name"], e["event"]))
            .collect()
    };
    let from_log = order(events_jsonl(&[log]));
    assert_eq!(from_log.len(), 16);
    assert_eq!(
        order(events_jsonl(&["--store", db.to_str().unwrap()])),
        from_log
    );
}

#[test]
fn the_same_event_is_one_row_whether_its_tenant_was_known_or_its_text_masked() {
    // The same run read from a shape that carries tenants, then from one that does not (the
    // ingress lines were not collected), unmasked: no new row.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    let flat = fixture("incident/flat.jsonl");
    let without_tenants = dir.path().join("no_tenants.jsonl");
    let mut stripped = String::new();
    for line in std::fs::read_to_string(&flat).unwrap().lines() {
        let mut payload: Value = serde_json::from_str(line).unwrap();
        payload.as_object_mut().unwrap().remove("tenant");
        stripped.push_str(&payload.to_string());
        stripped.push('\n');
    }
    assert!(
        std::fs::read_to_string(&flat)
            .unwrap()
            .contains("\"tenant\"")
    );
    std::fs::write(&without_tenants, stripped).unwrap();

    flowtrace()
        .args(["import", "-q", "--store", db.to_str().unwrap()])
        .arg(&flat)
        .assert()
        .success();
    let imported = rows(&db);
    flowtrace()
        .args(["import", "--no-redact", "--store", db.to_str().unwrap()])
        .arg(&without_tenants)
        .assert()
        .success()
        .stderr(predicates::str::contains("0 new rows"));
    assert_eq!(rows(&db), imported);
}

#[test]
fn a_table_that_cannot_deduplicate_or_holds_text_times_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture("incident/flat.jsonl");
    for (name, schema, reason) in [
        (
            "no_unique.db",
            "CREATE TABLE flow_events (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, \
             ts REAL NOT NULL, kind TEXT NOT NULL, node_name TEXT, node_id TEXT, \
             event_fp TEXT NOT NULL, payload TEXT, created_at TEXT)",
            "no UNIQUE (trace_id, event_fp)",
        ),
        (
            "text_ts.db",
            "CREATE TABLE flow_events (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, \
             ts TEXT NOT NULL, kind TEXT NOT NULL, node_name TEXT, node_id TEXT, \
             event_fp TEXT NOT NULL, payload TEXT, created_at TEXT, \
             UNIQUE (trace_id, event_fp))",
            "its ts column is TEXT",
        ),
        (
            "no_payload.db",
            "CREATE TABLE flow_events (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, \
             ts REAL NOT NULL, kind TEXT NOT NULL, event_fp TEXT NOT NULL, \
             UNIQUE (trace_id, event_fp))",
            "no column node_name, node_id, payload, created_at",
        ),
    ] {
        let db = dir.path().join(name);
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(schema)
            .unwrap();
        let before = std::fs::read(&db).unwrap();
        flowtrace()
            .args(["import", "--store", db.to_str().unwrap()])
            .arg(&log)
            .assert()
            .code(1)
            .stderr(predicates::str::contains(
                "table `flow_events` cannot take an import",
            ))
            .stderr(predicates::str::contains(reason));
        assert_eq!(rows(&db), 0, "{name}");
        assert_eq!(std::fs::read(&db).unwrap(), before, "{name} was changed");
    }
    // A unique index added afterwards, as the error suggests, is enough.
    let db = dir.path().join("no_unique.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE UNIQUE INDEX fp ON flow_events(trace_id, event_fp)")
        .unwrap();
    for _ in 0..2 {
        flowtrace()
            .args(["import", "-q", "--store", db.to_str().unwrap()])
            .arg(&log)
            .assert()
            .success();
    }
    assert_eq!(rows(&db), 247);
}
