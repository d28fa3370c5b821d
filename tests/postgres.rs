//! The PostgreSQL event store, against a real server: `.ci/postgres.sh start` runs one and
//! exports `FLOWTRACE_TEST_POSTGRES`. Without it these tests say so and pass, except where
//! `FLOWTRACE_REQUIRE_POSTGRES` is set (CI), where a missing server fails them.
//!
//! The captured run's SQLite store is copied into PenguiFlow-shaped `flow_events` tables, and
//! every subcommand must give the same answer from PostgreSQL as from SQLite.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use postgres::{Client, NoTls};

/// The server's URL, or `None` (said on stderr) when there is none outside CI.
fn server() -> Option<String> {
    match std::env::var("FLOWTRACE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("FLOWTRACE_REQUIRE_POSTGRES").is_none(),
                "FLOWTRACE_REQUIRE_POSTGRES is set but no server is: run .ci/postgres.sh start"
            );
            eprintln!("skipped: no PostgreSQL server (eval \"$(.ci/postgres.sh start)\")");
            None
        }
    }
}

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap()
}

/// The schema PenguiFlow's StateStore spec gives (with `event_fp`/`created_at`), or the older
/// variant without them.
fn create_table(client: &mut Client, table: &str, newer: bool) {
    let extra = if newer {
        "event_fp VARCHAR(64) NOT NULL, payload JSONB, created_at TIMESTAMPTZ DEFAULT NOW(),
         UNIQUE (trace_id, event_fp)"
    } else {
        // Hand-written stores keep the payload as text as often as JSONB.
        "payload TEXT NOT NULL, UNIQUE (trace_id, ts, node_id)"
    };
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {table};
             CREATE TABLE {table} (
               id BIGSERIAL PRIMARY KEY, trace_id VARCHAR(128) NOT NULL,
               ts DOUBLE PRECISION NOT NULL, kind VARCHAR(64) NOT NULL,
               node_name VARCHAR(128), node_id VARCHAR(128), {extra});
             CREATE INDEX {table}_trace_ts ON {table}(trace_id, ts, id);
             CREATE INDEX {table}_kind ON {table}(kind);"
        ))
        .unwrap();
}

/// One row of the captured run's SQLite store.
struct FixtureRow {
    id: i64,
    trace_id: String,
    ts: f64,
    kind: String,
    node_name: Option<String>,
    node_id: Option<String>,
    event_fp: String,
    payload: String,
}

/// Copies the captured run's SQLite store into `table` (same ids, same payloads).
fn load_fixture(client: &mut Client, table: &str, newer: bool) {
    create_table(client, table, newer);
    let sqlite = rusqlite::Connection::open_with_flags(
        fixture("incident/events.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut select = sqlite
        .prepare(
            "SELECT id, trace_id, ts, kind, node_name, node_id, event_fp, payload FROM flow_events",
        )
        .unwrap();
    let rows: Vec<FixtureRow> = select
        .query_map([], |row| {
            Ok(FixtureRow {
                id: row.get(0)?,
                trace_id: row.get(1)?,
                ts: row.get(2)?,
                kind: row.get(3)?,
                node_name: row.get(4)?,
                node_id: row.get(5)?,
                event_fp: row.get(6)?,
                payload: row.get(7)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut transaction = client.transaction().unwrap();
    let insert = if newer {
        format!(
            "INSERT INTO {table} (id, trace_id, ts, kind, node_name, node_id, event_fp, payload)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb)"
        )
    } else {
        format!(
            "INSERT INTO {table} (id, trace_id, ts, kind, node_name, node_id, payload)
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
    };
    let statement = transaction.prepare(&insert).unwrap();
    for row in &rows {
        let columns: [&(dyn postgres::types::ToSql + Sync); 6] = [
            &row.id,
            &row.trace_id,
            &row.ts,
            &row.kind,
            &row.node_name,
            &row.node_id,
        ];
        let parameters = if newer {
            [&columns[..], &[&row.event_fp as _, &row.payload as _][..]].concat()
        } else {
            [&columns[..], &[&row.payload as _][..]].concat()
        };
        transaction.execute(&statement, &parameters).unwrap();
    }
    // The ids were given: move the id sequence past them, as the service's inserts would.
    transaction
        .batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
        ))
        .unwrap();
    transaction.commit().unwrap();
}

/// A table name of this process and test, so tests can run side by side.
fn table_for(test: &str) -> String {
    format!("ft_{test}_{}", std::process::id())
}

/// `flowtrace ARGS` as it would print: (status, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = flowtrace().args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The store URL as flowtrace shows it: the password masked.
fn masked(url: &str) -> String {
    let (head, rest) = url.split_once("://").unwrap();
    let (user_info, host) = rest.split_once('@').unwrap();
    let user = user_info
        .split_once(':')
        .map_or(user_info, |(user, _)| user);
    format!("{head}://{user}:***@{host}")
}

fn password(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let user_info = rest.split_once('@').unwrap().0;
    user_info.split_once(':').unwrap().1.to_string()
}

#[test]
fn every_subcommand_answers_from_postgres_as_from_sqlite() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("same");
    load_fixture(&mut client, &table, true);
    let sqlite = fixture_arg("incident/events.db");
    let expected = incident_expected();
    let mut commands: Vec<Vec<String>> = [
        "classify --format json",
        "classify --by tenant,node --format json",
        "traces --format json",
        "saturation --format json",
        "triage --format json",
        "graph --format json",
        "events --format jsonl",
        "events --kind node_failed,node_timeout --node retrieve --format jsonl",
        "events --since 2026-11-25T09:18:10Z --format jsonl",
    ]
    .iter()
    .map(|command| command.split(' ').map(str::to_string).collect())
    .collect();
    for trace in expected["traces"].as_array().unwrap() {
        let id = trace["trace_id"].as_str().unwrap();
        commands.push(vec![
            "find".into(),
            id[..8].into(),
            "--format".into(),
            "json".into(),
        ]);
    }
    let shown = masked(&url);
    for command in commands {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let from_sqlite = run(&[&args[..], &["--store", &sqlite]].concat());
        let from_postgres = run(&[&args[..], &["--store", &url, "--table", &table]].concat());
        assert_eq!(from_sqlite.0, Some(0), "{command:?}: {}", from_sqlite.2);
        assert_eq!(
            from_postgres.1.replace(&shown, "STORE"),
            from_sqlite.1.replace(&sqlite, "STORE"),
            "{command:?}"
        );
        assert_eq!(
            from_postgres.0, from_sqlite.0,
            "{command:?}: {}",
            from_postgres.2
        );
        assert!(!from_postgres.1.contains(&password(&url)));
        assert!(!from_postgres.2.contains(&password(&url)));
    }
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn the_older_schema_and_other_kinds_in_the_table_are_read() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("older");
    load_fixture(&mut client, &table, false);
    // A session store sharing the table: its rows are not FlowEvents.
    client
        .batch_execute(&format!(
            "INSERT INTO {table} (trace_id, ts, kind, payload) VALUES
             ('session:42', 1795598290.0, 'session.task', '{{\"task\": \"x\"}}'),
             ('session:42', 1795598290.5, 'session.update', '{{\"n\": 1}}')"
        ))
        .unwrap();
    let sqlite = fixture_arg("incident/events.db");
    let (_, from_sqlite, _) = run(&["classify", "--format", "json", "--store", &sqlite]);
    let (status, from_postgres, stderr) = run(&[
        "classify", "--format", "json", "--store", &url, "--table", &table,
    ]);
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(from_postgres, from_sqlite);
    assert!(
        stderr.contains("2 rows of other kinds (session.*) in the same table, not FlowEvents"),
        "{stderr}"
    );
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn find_reads_one_trace_through_the_trace_index() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("plan");
    load_fixture(&mut client, &table, true);
    // Enough other rows that a sequential scan would cost more than the index.
    client
        .batch_execute(&format!(
            "INSERT INTO {table} (trace_id, ts, kind, node_name, node_id, event_fp, payload)
             SELECT md5(i::text), 1795598300 + i, 'node_start', 'ingest', 'n', md5(i::text),
                    '{{}}'::jsonb
             FROM generate_series(1, 50000) AS i;
             ANALYZE {table};"
        ))
        .unwrap();
    let query = flowtrace::source::StoreQuery {
        path: url.clone().into(),
        table: table.clone(),
        trace_prefix: Some("46a464fc".into()),
        ..Default::default()
    };
    let mut store =
        flowtrace::source::postgres::PgStore::open(query, Duration::from_secs(30)).unwrap();
    let plan = store.query_plan().unwrap();
    assert!(plan.contains(&format!("{table}_trace_ts")), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert!(!plan.to_lowercase().contains("like"), "{plan}");
    // And the answer is the trace's, among 50,000 other rows.
    let (status, stdout, stderr) = run(&[
        "find", "46a464fc", "--store", &url, "--table", &table, "--format", "json",
    ]);
    assert_eq!(status, Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "failed");
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn errors_say_what_to_do_and_never_show_the_password() {
    let Some(url) = server() else { return };
    let secret = password(&url);
    let wrong = url.replace(&secret, "not-the-password-4711");
    let (status, stdout, stderr) = run(&["classify", "--store", &wrong]);
    assert_eq!(status, Some(1));
    assert!(stdout.is_empty(), "no report before the error");
    assert!(stderr.contains("authentication failed"), "{stderr}");
    assert!(stderr.contains(":***@"), "{stderr}");
    assert!(!stderr.contains("not-the-password-4711"), "{stderr}");

    let refused = url.replace(
        &url.split_once('@')
            .unwrap()
            .1
            .split_once('/')
            .unwrap()
            .0
            .to_string(),
        "127.0.0.1:1",
    );
    let (status, _, stderr) = run(&["classify", "--store", &refused]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(!stderr.contains(&secret), "{stderr}");

    let mut client = connect(&url);
    let table = table_for("errors");
    load_fixture(&mut client, &table, true);
    let (status, _, stderr) = run(&["classify", "--store", &url, "--table", "no_such_table"]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("no table `no_such_table`"), "{stderr}");
    assert!(
        stderr.contains(&table),
        "the tables there are listed: {stderr}"
    );

    // A user who may log in but not read the table.
    client
        .batch_execute(
            "DROP ROLE IF EXISTS ft_reader_without_grant;
             CREATE ROLE ft_reader_without_grant LOGIN PASSWORD 'Another-Pa55'",
        )
        .unwrap();
    let location = url.split_once('@').unwrap().1;
    let stranger = format!("postgres://ft_reader_without_grant:Another-Pa55@{location}");
    let (status, _, stderr) = run(&["classify", "--store", &stranger, "--table", &table]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(!stderr.contains("Another-Pa55"), "{stderr}");
    client
        .batch_execute("DROP ROLE ft_reader_without_grant")
        .unwrap();

    let database = url.rsplit_once('/').unwrap().0.to_string() + "/no_such_database";
    let (status, _, stderr) = run(&["classify", "--store", &database]);
    assert_eq!(status, Some(1));
    assert!(
        stderr.contains("\"no_such_database\" does not exist"),
        "{stderr}"
    );

    // A scan past the timeout is cancelled by the server, not waited on.
    client
        .batch_execute(&format!(
            "INSERT INTO {table} (trace_id, ts, kind, node_name, node_id, event_fp, payload)
             SELECT md5(i::text), 1795598300 + i, 'node_start', 'ingest', 'n', md5(i::text),
                    '{{}}'::jsonb
             FROM generate_series(1, 300000) AS i"
        ))
        .unwrap();
    let (status, _, stderr) = run(&[
        "classify",
        "--store",
        &url,
        "--table",
        &table,
        "--store-timeout",
        "5ms",
    ]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("ran past --store-timeout 5 ms"), "{stderr}");
    assert!(!stderr.contains(&secret), "{stderr}");
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();

    let (_, help, _) = run(&["classify", "--help"]);
    assert!(!help.contains(&secret));
}

#[test]
fn a_writer_inserting_during_the_read_neither_changes_nor_blocks_it() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("snapshot");
    load_fixture(&mut client, &table, true);
    let writer = {
        let (url, table) = (url.clone(), table.clone());
        std::thread::spawn(move || {
            let mut client = connect(&url);
            let started = Instant::now();
            let mut batches = 0;
            while started.elapsed() < Duration::from_secs(3) {
                // Whole transactions of 20 rows of one new trace each.
                client
                    .batch_execute(&format!(
                        "INSERT INTO {table} (trace_id, ts, kind, node_name, node_id, event_fp, payload)
                         SELECT 'w{batches}', 1795598400 + i, 'node_start', 'ingest', 'n',
                                'fp' || i, '{{}}'::jsonb FROM generate_series(1, 20) AS i"
                    ))
                    .unwrap();
                batches += 1;
            }
            batches
        })
    };
    let mut reads = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        let (status, stdout, stderr) = run(&[
            "events", "--store", &url, "--table", &table, "--format", "jsonl", "-q",
        ]);
        assert_eq!(status, Some(0), "{stderr}");
        let mut per_trace = std::collections::BTreeMap::<String, usize>::new();
        for event in parse_jsonl(stdout.as_bytes()) {
            *per_trace
                .entry(event["trace_id"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
        for (trace, rows) in per_trace.iter().filter(|(t, _)| t.starts_with('w')) {
            assert_eq!(*rows, 20, "read {reads}: {trace} torn");
        }
        reads += 1;
    }
    assert!(
        writer.join().unwrap() > 0,
        "the writer was never blocked out"
    );
    assert!(reads > 0);
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn tls_is_used_as_sslmode_asks() {
    let Some(url) = server() else { return };
    let Ok(ca) = std::env::var("FLOWTRACE_TEST_POSTGRES_CA") else {
        eprintln!("skipped: the server has no TLS certificate");
        return;
    };
    let mut client = connect(&url);
    let table = table_for("tls");
    load_fixture(&mut client, &table, true);
    let localhost = url.replace("127.0.0.1", "localhost");
    let with = |parameters: &str| {
        run(&[
            "classify",
            "--store",
            &format!("{localhost}?{parameters}"),
            "--table",
            &table,
            "-q",
        ])
    };
    let (status, _, stderr) = with("sslmode=require");
    assert_eq!(status, Some(0), "{stderr}");
    let (status, _, stderr) = with(&format!("sslmode=verify-full&sslrootcert={ca}"));
    assert_eq!(status, Some(0), "{stderr}");
    // verify-ca checks the chain, not the name; verify-full checks both.
    let elsewhere = url.replace("127.0.0.1", "wrongname.example");
    let (status, _, stderr) = run(&[
        "classify",
        "--store",
        &format!("{elsewhere}?hostaddr=127.0.0.1&sslmode=verify-ca&sslrootcert={ca}"),
        "--table",
        &table,
        "-q",
    ]);
    assert_eq!(status, Some(0), "{stderr}");
    let (status, _, stderr) = run(&[
        "classify",
        "--store",
        &format!("{elsewhere}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}"),
        "--table",
        &table,
        "-q",
    ]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("not valid for name"), "{stderr}");
    // The test CA is in no system store: verifying against those fails.
    let (status, _, stderr) = with("sslmode=verify-full");
    assert_eq!(status, Some(1));
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn a_followed_postgres_store_gives_rows_as_they_are_written() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("follow");
    load_fixture(&mut client, &table, true);
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowtrace"))
        .args([
            "events",
            "-f",
            "--format",
            "jsonl",
            "--interval",
            "100ms",
            "--store",
        ])
        .arg(&url)
        .args(["--table", &table])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    client
        .batch_execute(&format!(
            "INSERT INTO {table} (trace_id, ts, kind, node_name, node_id, event_fp, payload)
             VALUES ('live-1', 1795598500.25, 'node_start', 'ingest', 'n', 'fp-live',
                     '{{\"attempt\": 0}}')"
        ))
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no row printed"
        );
        if stdout.read(&mut byte).unwrap() == 0 {
            break;
        }
        line.push(byte[0]);
    }
    let event: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(
        event["trace_id"], "live-1",
        "only the new row: the old ones are history"
    );
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn import_writes_the_spec_table_once_whatever_is_imported_again() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("import");
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
        .unwrap();
    let flat = fixture_arg("incident/flat.jsonl");
    let structured = fixture_arg("incident/structured.jsonl");
    let (status, _, stderr) = run(&["import", &flat, "--store", &url, "--table", &table]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("247 new rows, 0 already there"), "{stderr}");
    assert!(!stderr.contains(&password(&url)), "{stderr}");
    // The same run in another shape, and the same file again: nothing new.
    let (status, _, stderr) = run(&[
        "import",
        &flat,
        &structured,
        "--store",
        &url,
        "--table",
        &table,
    ]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("0 new rows, 247 already there"), "{stderr}");
    let rows: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 247);
    // The table is the spec's: its indexes are there, and every answer matches the logs'.
    let indexes: Vec<String> = client
        .query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = $1",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        indexes
            .iter()
            .any(|index| index.contains("(trace_id, ts, id)")),
        "{indexes:?}"
    );
    for command in ["classify", "traces", "saturation"] {
        let (_, from_logs, _) = run(&[command, "--format", "json", &flat]);
        let (_, from_postgres, stderr) = run(&[
            command, "--format", "json", "--store", &url, "--table", &table,
        ]);
        assert_eq!(from_postgres, from_logs, "{command}: {stderr}");
    }
    // A table without UNIQUE (trace_id, event_fp) is refused untouched.
    let older = table_for("import_older");
    create_table(&mut client, &older, false);
    let (status, _, stderr) = run(&["import", &flat, "--store", &url, "--table", &older]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("UNIQUE (trace_id, event_fp)"), "{stderr}");
    let rows: i64 = client
        .query_one(&format!("SELECT count(*) FROM {older}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
    client
        .batch_execute(&format!("DROP TABLE {table}; DROP TABLE {older}"))
        .unwrap();
}

#[test]
fn what_the_url_leaves_out_comes_from_libpq_variables_and_pgpass() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("libpq");
    load_fixture(&mut client, &table, true);
    let rest = url.split_once("://").unwrap().1;
    let (user_info, location) = rest.split_once('@').unwrap();
    let user = user_info.split_once(':').unwrap().0;
    let (host_port, database) = location.split_once('/').unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# other servers first\nelsewhere:5432:*:*:nope\n{host}:{port}:*:{user}:{}\n",
            password(&url)
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let output = flowtrace()
        .args([
            "classify", "--format", "json", "-q", "--table", &table, "--store",
        ])
        .arg("postgres://")
        .env("PGHOST", host)
        .env("PGPORT", port)
        .env("PGUSER", user)
        .env("PGDATABASE", database)
        .env("PGPASSFILE", &pgpass)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let (_, from_sqlite, _) = run(&[
        "classify",
        "--format",
        "json",
        "-q",
        "--store",
        &fixture_arg("incident/events.db"),
    ]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), from_sqlite);
    client
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
}

#[test]
fn prefixes_are_found_under_any_collation_and_passwords_never_leak() {
    let Some(url) = server() else { return };
    let mut client = connect(&url);
    let table = table_for("icu");
    load_fixture(&mut client, &table, true);
    // A database default like en_US ignores punctuation when it compares: a range ending in
    // ':' (after '9') would miss every id.
    let collated = client.batch_execute(&format!(
        "ALTER TABLE {table} ALTER trace_id TYPE varchar(128) COLLATE \"en-US-x-icu\""
    ));
    if collated.is_err() {
        eprintln!("skipped the collation part: the server has no ICU collations");
    } else {
        let sqlite = fixture_arg("incident/events.db");
        for prefix in ["5e99", "565a469", "46a464fc"] {
            let (_, from_sqlite, _) = run(&["events", "--trace", prefix, "-q", "--store", &sqlite]);
            let (status, from_postgres, stderr) = run(&[
                "events", "--trace", prefix, "-q", "--store", &url, "--table", &table,
            ]);
            assert_eq!(status, Some(0), "{prefix}: {stderr}");
            assert_eq!(
                from_postgres.lines().count(),
                from_sqlite.lines().count(),
                "{prefix}"
            );
        }
    }
    // A password with `/` (base64 ones have it) is masked in every event's source, and a URL
    // given without --store is read as the store, never opened as a file.
    client
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS ft_slash; CREATE ROLE ft_slash LOGIN PASSWORD 'Ab3/Sl4sh+Q=';
             GRANT SELECT ON {table} TO ft_slash"
        ))
        .unwrap();
    let location = url.split_once('@').unwrap().1;
    let slash = format!("postgres://ft_slash:Ab3/Sl4sh+Q=@{location}");
    let (status, stdout, stderr) = run(&["events", &slash, "--table", &table, "-q"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stdout.contains("postgres://ft_slash:***@"), "{stdout}");
    assert!(!stdout.contains("Sl4sh") && !stderr.contains("Sl4sh"));
    client
        .batch_execute(&format!(
            "REVOKE SELECT ON {table} FROM ft_slash; DROP ROLE ft_slash; DROP TABLE {table}"
        ))
        .unwrap();
}
