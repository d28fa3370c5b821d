//! Bad input gets a clear error naming the input (and line), the right exit status, and never
//! costs the good events read before it.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::*;
use flate2::Compression;
use flate2::write::GzEncoder;

#[test]
fn a_missing_file_fails_before_any_report() {
    // A typo must not give an all-clear for the inputs that were read: nothing reaches stdout.
    for subcommand in ["events", "triage", "classify"] {
        let output = flowtrace()
            .args([subcommand, "app.lg"])
            .arg(fixture("incident/flat.jsonl"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{subcommand}");
        assert_eq!(
            String::from_utf8(output.stderr).unwrap(),
            "flowtrace: app.lg: cannot open: no such file or directory\n"
        );
        assert!(output.stdout.is_empty(), "{subcommand}");
    }
}

#[test]
fn input_without_any_flowevent_is_an_error_that_says_what_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ingress.jsonl");
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!(
            "{{\"message\": \"accepted\", \"trace_id\": \"t{i}\", \"tenant\": \"acme\"}}\n"
        ));
    }
    text.push_str("INFO:     10.0.0.1 - \"POST /v1/run\" 200\n");
    std::fs::write(&path, text).unwrap();
    let output = flowtrace()
        .args(["triage", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no PenguiFlow events in") && stderr.contains("21 lines, 20 lines of JSON that are not FlowEvents (20 with trace_id and tenant), 1 not JSON"),
        "{stderr}"
    );

    // logging.basicConfig: the events are there, without fields; say how to fix it.
    std::fs::write(
        &path,
        "INFO:penguiflow.core:node_success\nWARNING:penguiflow.core:node_timeout\n",
    )
    .unwrap();
    let output = flowtrace()
        .args(["classify", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("2 PenguiFlow events logged as plain text"),
        "{stderr}"
    );
    assert!(stderr.contains("turn on structured logging"), "{stderr}");
}

#[test]
fn filter_values_no_event_carries_are_errors_with_a_suggestion() {
    let log = fixture_arg("incident/flat.jsonl");
    let output = flowtrace()
        .args(["triage", &log, "--tenant", "globx"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--tenant globx: no such tenant in the input (tenants seen: acme, globex, initech); did you mean globex?"), "{stderr}");

    let output = flowtrace()
        .args(["events", &log, "--node", "retreive"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean retrieve?"));

    // A store carries no tenant: say where tenants come from instead of an empty answer.
    let output = flowtrace()
        .args([
            "classify",
            "--store",
            &fixture_arg("incident/events.db"),
            "--tenant",
            "acme",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no event carries a tenant"));

    // One value matches, one does not: the report, and a warning.
    let output = flowtrace()
        .args([
            "classify",
            &log,
            "--tenant",
            "acme,globx",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(!output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("warning: --tenant globx"));
}

#[test]
fn a_directory_is_not_a_log() {
    flowtrace()
        .args(["events", "fixtures/incident"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .code(1)
        .stdout("")
        .stderr("flowtrace: fixtures/incident: is a directory; give the log files inside it (e.g. fixtures/incident/*.log)\n");
}

#[test]
fn an_unreadable_file_is_named() {
    // root reads anything; the check only means something for other users.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.log");
    std::fs::write(&path, "{}\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_ok() {
        return; // running as root
    }
    flowtrace()
        .args(["events", path.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(format!(
            "flowtrace: {}: cannot open: permission denied\n",
            path.display()
        ));
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_as_a_store() {
    flowtrace()
        .args(["events", "--store"])
        .arg(fixture("incident/flat.jsonl"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "flowtrace: {}: not a SQLite database (--store takes a PenguiFlow event store file)\n",
            fixture("incident/flat.jsonl").display()
        ));
}

#[test]
fn a_store_without_the_table_names_the_tables_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other.db");
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection
        .execute_batch("CREATE TABLE users (id INTEGER); CREATE TABLE sessions (id INTEGER);")
        .unwrap();
    drop(connection);
    flowtrace()
        .args(["events", "--store", db.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(format!(
            "flowtrace: {}: no table `flow_events` (tables: sessions, users); name the events table with --table\n",
            db.display()
        ));
}

#[test]
fn a_truncated_gzip_keeps_the_events_before_the_cut() {
    let plain = std::fs::read(fixture("incident/flat.jsonl")).unwrap();
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&plain).unwrap();
    let compressed = encoder.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.log.gz");
    std::fs::write(&path, &compressed[..compressed.len() / 2]).unwrap();

    let output = flowtrace()
        .args(["events", "--format", "jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let events = parse_jsonl(&output.stdout);
    assert!(events.len() > 50, "only {} events kept", events.len());
    let baseline = events_jsonl(&[&fixture_arg("incident/flat.jsonl")]);
    // Exactly the lines before the cut, in order.
    for (kept, original) in events.iter().zip(&baseline) {
        assert_eq!(comparable(kept, true), comparable(original, true));
    }
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "flowtrace: {}: read failed after line {}: unexpected end of stream (truncated file?)\n",
            path.display(),
            events.len()
        )
    );
}

#[test]
fn invalid_utf8_is_decoded_lossily_and_counted() {
    let text = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let mut bytes = Vec::new();
    for (index, line) in text.lines().take(10).enumerate() {
        if index == 0 {
            // A Latin-1 byte inside the node name of one event: `ing\xe9st`.
            let (head, tail) = line.split_once("\"ingest\"").unwrap();
            bytes.extend_from_slice(head.as_bytes());
            bytes.extend_from_slice(b"\"ing\xe9st\"");
            bytes.extend_from_slice(tail.as_bytes());
        } else {
            bytes.extend_from_slice(line.as_bytes());
        }
        bytes.push(b'\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.log");
    std::fs::write(&path, &bytes).unwrap();
    let output = flowtrace()
        .args(["events", "--format", "jsonl"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success());
    let events = parse_jsonl(&output.stdout);
    assert_eq!(events.len(), 10);
    assert_eq!(events[0]["node_name"], "ing\u{fffd}st");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("1 line with invalid UTF-8 decoded lossily"),
        "{stderr}"
    );
}

#[test]
fn strict_stops_at_the_first_line_that_is_not_json_naming_it() {
    let output = flowtrace()
        .args(["events", "--strict", "--format", "jsonl"])
        .arg(fixture("incident/kubectl_prefix.log"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(fixture("incident/kubectl_prefix.log")).unwrap();
    let first_noise = text
        .lines()
        .position(|line| {
            !line
                .split_once("] ")
                .map_or("", |(_, rest)| rest)
                .starts_with('{')
        })
        .unwrap()
        + 1;
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "flowtrace: {}:{first_noise}: not JSON: ",
            fixture("incident/kubectl_prefix.log").display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("(--strict stops at the first line that is not a JSON object)"));
    // The events before it were kept.
    let kept = parse_jsonl(&output.stdout).len();
    let before = text
        .lines()
        .take(first_noise - 1)
        .filter(|line| line.contains("\"penguiflow.core\""))
        .count();
    assert_eq!(kept, before);
}

/// A capture with a line that is not JSON halfway through, written in `dir`: its path, and
/// the bad line's number.
fn noisy_capture(dir: &std::path::Path) -> (std::path::PathBuf, usize) {
    let text = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    let path = dir.join("noisy.log");
    let noisy = [
        &lines[..half],
        &["Traceback (most recent call last):"],
        &lines[half..],
    ]
    .concat();
    std::fs::write(&path, noisy.join("\n") + "\n").unwrap();
    (path, half + 1)
}

#[test]
fn a_read_error_is_said_before_the_report_of_what_was_read() {
    // stdout and stderr into one file, as on a terminal: the order they were written in.
    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("both.txt");
    let (log, bad_line) = noisy_capture(dir.path());
    // find reads the whole input too, then reports (the first trace of the capture).
    let find = ["find", "82479fc1dfd745d58e565a19bf82775a"];
    let commands = [
        &["classify"][..],
        &["saturation"],
        &["triage"],
        &["traces"],
        &["graph"],
        &["lint"],
        &find,
    ];
    for command in commands {
        let file = std::fs::File::create(&both).unwrap();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_flowtrace"))
            .env_remove("NO_COLOR")
            .args(command)
            .arg("--strict")
            .arg(&log)
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "{command:?}");
        let text = std::fs::read_to_string(&both).unwrap();
        let first_line = text.lines().next().unwrap_or_default();
        assert!(
            first_line.starts_with(&format!(
                "flowtrace: {}:{bad_line}: not JSON",
                log.display()
            )),
            "{command:?}: the error is not first:\n{text}"
        );
        // The report of the events before the bad line follows it.
        assert!(text.lines().count() > 3, "{command:?}: no report:\n{text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    flowtrace()
        .args(["events", "--since", "yesterday"])
        .arg(fixture("incident/flat.jsonl"))
        .assert()
        .code(2)
        .stderr("flowtrace: --since \"yesterday\": expected an RFC 3339 time (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d)\n");
    flowtrace()
        .args(["events", "--format", "yaml"])
        .arg(fixture("incident/flat.jsonl"))
        .assert()
        .code(2);
    flowtrace().args(["events", "-", "-"]).assert().code(2);
    flowtrace().arg("frobnicate").assert().code(2);
    for threads in ["0", "65", "two"] {
        flowtrace()
            .args(["classify", "-j", threads])
            .arg(fixture("incident/flat.jsonl"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains("'--threads <N>'"));
    }
}

#[test]
fn an_unknown_kind_warns_with_the_closest_known_one() {
    flowtrace()
        .args(["events", "--kind", "node_fail", "--format", "jsonl"])
        .arg(fixture("incident/flat.jsonl"))
        .assert()
        .success()
        .stdout("")
        .stderr("flowtrace: warning: `node_fail` is not a known PenguiFlow event kind (did you mean node_failed?)\n");
}

/// `flowtrace events --format FORMAT big.log | head -c 64`: the reader goes away early.
fn closed_pipe_status(format: &str) -> (Option<i32>, String) {
    // A log big enough that flowtrace is still writing when the reader goes away.
    let text = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    std::fs::write(&path, text.repeat(200)).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowtrace"))
        .args(["events", "--format", format])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_quietly_in_every_format() {
    // csv used to exit 1: its errors hid the broken pipe.
    for format in ["jsonl", "json", "csv", "table", "markdown"] {
        assert_eq!(
            closed_pipe_status(format),
            (Some(0), String::new()),
            "{format}"
        );
    }
}

#[test]
fn a_store_given_as_a_log_is_read_as_the_store() {
    let store = fixture_arg("incident/events.db");
    let as_log = flowtrace()
        .args(["classify", "--format", "json", &store])
        .output()
        .unwrap();
    assert_eq!(as_log.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&as_log.stderr)
            .contains("is a SQLite database: reading it as the event store")
    );
    let as_store = flowtrace()
        .args(["classify", "--format", "json", "--store", &store])
        .output()
        .unwrap();
    assert_eq!(as_log.stdout, as_store.stdout);

    // Without tenants, triage says it cannot judge, not that there is nothing.
    let triage = flowtrace().args(["triage", &store]).output().unwrap();
    let text = String::from_utf8(triage.stdout).unwrap();
    assert!(text.contains("no tenant information: cannot tell whether a trace crossed tenants"));
    assert!(!text.contains("no trace carries more than one tenant"));
}

#[test]
fn good_lines_in_odd_dress_are_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let flat = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let mut successes = flat.lines().filter(|l| l.contains("\"node_success\""));
    let (line, other) = (successes.next().unwrap(), successes.next().unwrap());
    // A key given twice (the last value wins, as in jq and Python), and NUL padding.
    let repeated = line.replacen('{', "{\"node_name\": \"first\", ", 1);
    let padded = format!("\0\0\0{other}\0\0");
    let path = dir.path().join("odd.log");
    std::fs::write(&path, format!("{repeated}\n{padded}\n")).unwrap();
    let events = events_jsonl(&[path.to_str().unwrap()]);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e["node_name"] != "first"));

    // UTF-16 is named, with how to convert it, instead of "not JSON" on every line.
    let utf16 = dir.path().join("utf16.log");
    let mut bytes = vec![0xff, 0xfe];
    for unit in line.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(&utf16, bytes).unwrap();
    let output = flowtrace()
        .args(["events", utf16.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("UTF-16"));
}

#[test]
fn a_store_with_text_timestamps_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE flow_events (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, ts TEXT NOT NULL, kind TEXT NOT NULL, node_name TEXT, node_id TEXT, event_fp TEXT, payload TEXT, created_at TEXT);
             INSERT INTO flow_events (trace_id, ts, kind, node_name, payload) VALUES
               ('t1', '1795598289.5', 'node_start', 'a', '{\"q_depth_in\": 0}'),
               ('t1', '2026-11-25T09:18:10Z', 'node_success', 'a', '{\"q_depth_in\": 0, \"latency_ms\": 3.0}');",
        )
        .unwrap();
    drop(connection);
    let events = events_jsonl(&["--store", path.to_str().unwrap()]);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["ts"], "2026-11-25T09:18:10.000000Z");
}

/// Two events of a capture with a 3 MiB line without JSON between them.
fn with_a_long_line() -> String {
    let flat = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let mut lines = flat.lines().filter(|l| l.contains("\"node_success\""));
    let (before, after) = (lines.next().unwrap(), lines.next().unwrap());
    format!("{before}\n{}\n{after}\n", "x".repeat(3 * 1024 * 1024))
}

#[test]
fn strict_stops_at_a_line_longer_than_the_limit_it_could_not_read() {
    // --strict skips nothing quietly: a line too long to read is where it stops, however the
    // file is read (mapped by one decoding thread, in blocks by two, or decompressed).
    let dir = tempfile::tempdir().unwrap();
    let text = with_a_long_line();
    let plain = dir.path().join("long.log");
    std::fs::write(&plain, &text).unwrap();
    let gzipped = dir.path().join("long.log.gz");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gzipped, encoder.finish().unwrap()).unwrap();
    for (path, threads) in [(&plain, "1"), (&plain, "2"), (&gzipped, "1")] {
        let output = flowtrace()
            .args(["events", "--strict", "--format", "jsonl"])
            .args(["--max-line-bytes", "1048576", "-j", threads])
            .arg(path)
            .output()
            .unwrap();
        let what = format!("{} -j {threads}", path.display());
        assert_eq!(output.status.code(), Some(1), "{what}");
        // The event before it is kept, the one after it is not read.
        assert_eq!(parse_jsonl(&output.stdout).len(), 1, "{what}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with(&format!(
                "flowtrace: {}:2: longer than --max-line-bytes (1048576 bytes), not read",
                path.display()
            )),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn the_line_limit_is_drawn_at_the_same_byte_however_the_file_is_read() {
    // A line of exactly --max-line-bytes (without its terminator, \n or \r\n) is read; one
    // byte more is too long: with one decoding thread (mapped), two (blocks), and a trace
    // filter's search (skip mode), under --strict or not.
    let dir = tempfile::tempdir().unwrap();
    let flat = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let trace = "82479fc1dfd745d58e565a19bf82775a";
    let mut events = flat.lines().filter(|l| l.contains(trace));
    let (first, middle, last) = (
        events.next().unwrap(),
        events.next().unwrap(),
        events.next().unwrap(),
    );
    let limit = 1024;
    // The middle event padded with spaces before its closing brace to `length` bytes.
    let padded = |length: usize| {
        let body = middle.strip_suffix('}').unwrap();
        format!("{body}{}}}", " ".repeat(length - middle.len()))
    };
    for (length, ending, read) in [
        (limit, "\n", true),
        (limit, "\r\n", true),
        (limit + 1, "\n", false),
        (limit + 1, "\r\n", false),
    ] {
        let path = dir
            .path()
            .join(format!("line-{length}-{}.log", ending.len()));
        let text = format!("{first}{ending}{}{ending}{last}{ending}", padded(length));
        std::fs::write(&path, text).unwrap();
        for strict in [false, true] {
            for extra in [&["-j", "1"][..], &["-j", "2"], &["--trace", trace]] {
                let mut command = flowtrace();
                command
                    .args(["events", "--format", "jsonl", "--max-line-bytes", "1024"])
                    .args(extra);
                if strict {
                    command.arg("--strict");
                }
                let output = command.arg(&path).output().unwrap();
                let what = format!("{length} bytes + {ending:?}, strict {strict}, {extra:?}");
                let stderr = String::from_utf8_lossy(&output.stderr);
                let events = parse_jsonl(&output.stdout).len();
                match (read, strict) {
                    (true, _) => {
                        assert_eq!(output.status.code(), Some(0), "{what}: {stderr}");
                        assert_eq!(events, 3, "{what}");
                    }
                    (false, false) => {
                        assert_eq!(output.status.code(), Some(0), "{what}: {stderr}");
                        assert_eq!(events, 2, "{what}");
                        assert!(stderr.contains("1 longer than --max-line-bytes"), "{what}");
                    }
                    (false, true) => {
                        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
                        assert_eq!(events, 1, "{what}");
                        assert!(
                            stderr.contains(":2: longer than --max-line-bytes (1024 bytes)"),
                            "{what}: {stderr}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn strict_stops_at_a_long_line_even_one_a_trace_filter_would_pass_over() {
    // The length of every line is known without parsing it: under --strict a line too long to
    // read stops the read even when it does not hold the trace asked for.
    let dir = tempfile::tempdir().unwrap();
    let flat = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let path = dir.path().join("long.log");
    let mut lines: Vec<String> = flat.lines().map(str::to_string).collect();
    lines.insert(40, "z".repeat(4096));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let output = flowtrace()
        .args(["events", "--strict", "--format", "jsonl"])
        .args(["--max-line-bytes", "1024"])
        .args(["--trace", "82479fc1dfd745d58e565a19bf82775a"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            ":41: longer than --max-line-bytes (1024 bytes), not read (--strict stops at the \
             first line it cannot read)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_strict_stop_is_counted_alike_whatever_the_threads() {
    // Good, not JSON, good, a line too long, good: the read stops at the line that is not
    // JSON, and the line past it was never reached, with one decoding thread or two.
    let dir = tempfile::tempdir().unwrap();
    let flat = std::fs::read_to_string(fixture("incident/flat.jsonl")).unwrap();
    let event = flat.lines().next().unwrap();
    let path = dir.path().join("both.log");
    let long = "y".repeat(3 * 1024 * 1024);
    let text = format!("{event}\nnot json\n{event}\n{long}\n{event}\n");
    std::fs::write(&path, text).unwrap();
    let summaries: Vec<String> = ["1", "2"]
        .iter()
        .map(|threads| {
            let output = flowtrace()
                .args(["events", "--strict", "--format", "jsonl"])
                .args(["--max-line-bytes", "1048576", "-j", threads])
                .arg(&path)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(1), "-j {threads}");
            assert_eq!(parse_jsonl(&output.stdout).len(), 1, "-j {threads}");
            let stderr = String::from_utf8_lossy(&output.stderr).to_string();
            assert!(stderr.contains(":2: not JSON"), "-j {threads}: {stderr}");
            stderr
        })
        .collect();
    assert_eq!(summaries[0], summaries[1]);
}

#[test]
fn a_read_error_fails_the_run_even_when_stdout_closed_early() {
    // `classify --strict bad.log | head -1`: the error is said, and the exit status says it.
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = noisy_capture(dir.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowtrace"))
        .args(["classify", "--strict"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the report is written.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not JSON"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
}

#[test]
fn a_line_longer_than_the_limit_is_skipped_and_counted() {
    // A file that is mostly one line without an end (a decompression bomb, binary junk): the
    // events around it are read, the line is counted, memory stays bounded by the limit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.log");
    std::fs::write(&path, with_a_long_line()).unwrap();
    for threads in ["1", "2"] {
        let output = flowtrace()
            .args([
                "events",
                "--format",
                "jsonl",
                "--max-line-bytes",
                "1048576",
                "-j",
                threads,
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(output.status.success(), "-j {threads}");
        assert_eq!(parse_jsonl(&output.stdout).len(), 2, "-j {threads}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("1 longer than --max-line-bytes"),
            "-j {threads}: {stderr}"
        );
    }
    // A file that is nothing but the long line is refused, saying why nothing was read.
    let only_long = dir.path().join("only_long.log");
    std::fs::write(&only_long, "y".repeat(2 * 1024 * 1024)).unwrap();
    let output = flowtrace()
        .args(["triage", "--max-line-bytes", "1048576"])
        .arg(&only_long)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 line, 1 longer than --max-line-bytes (skipped)"),
        "{stderr}"
    );
}
