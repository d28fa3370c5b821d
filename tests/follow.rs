//! `--follow`: real pipes and files written while flowtrace reads them (appends, rotation,
//! truncation, several files), Ctrl-C, and what is said on stderr. The events are the captured
//! run's lines, written one at a time as a live service would.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// How long a test waits for a line it expects before failing (generous: a loaded CI machine).
const PATIENCE: Duration = Duration::from_secs(10);

fn captured_lines() -> Vec<String> {
    std::fs::read_to_string(fixture("incident/flat.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A followed process, killed when dropped: a test that fails must not leave a follow running.
struct Following(Option<Child>);

impl Following {
    fn into_inner(mut self) -> Child {
        self.0.take().expect("still held")
    }
}

impl std::ops::Deref for Following {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("still held")
    }
}

impl std::ops::DerefMut for Following {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("still held")
    }
}

impl From<Child> for Following {
    fn from(child: Child) -> Following {
        Following(Some(child))
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `flowtrace events -f ARGS --format jsonl` with its stdout read line by line on a thread.
fn follow(args: &[&str], stdin: Stdio) -> (Following, Receiver<(Instant, Value)>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowtrace"))
        .args(["events", "-f", "--format", "jsonl"])
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout: ChildStdout = child.stdout.take().unwrap();
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let value: Value = serde_json::from_str(&line).unwrap();
            if sender.send((Instant::now(), value)).is_err() {
                return;
            }
        }
    });
    (Following(Some(child)), receiver)
}

fn next_event(events: &Receiver<(Instant, Value)>, what: &str) -> (Instant, Value) {
    events
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("no event printed for {what}"))
}

/// What tells the captured events apart, the same in a captured line and a printed event.
fn identity(event: &Value) -> String {
    format!(
        "{} {} {} {}",
        event["event"], event["trace_id"], event["node_id"], event["attempt"]
    )
}

fn line_identity(line: &str) -> String {
    identity(&serde_json::from_str(line).unwrap())
}

/// The next event printed is `line`'s.
#[track_caller]
fn assert_next_is(events: &Receiver<(Instant, Value)>, what: &str, line: &str) {
    assert_eq!(identity(&next_event(events, what).1), line_identity(line));
}

fn append(path: &Path, line: &str) {
    append_raw(path, &format!("{line}\n"));
}

/// Sends Ctrl-C's signal and returns the exit code and stderr.
fn interrupt(child: impl Into<Following>) -> (Option<i32>, String) {
    let mut child = child.into();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(started.elapsed() < PATIENCE, "still running after Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (code, stderr)
}

#[test]
fn a_piped_line_is_printed_while_the_pipe_stays_open() {
    let lines = captured_lines();
    let (mut child, events) = follow(&[], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let mut latencies = Vec::new();
    for line in &lines[..5] {
        let written = Instant::now();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let (printed, event) = next_event(&events, "a line written to the open pipe");
        assert_eq!(identity(&event), line_identity(line));
        latencies.push(printed - written);
        std::thread::sleep(Duration::from_millis(50));
    }
    latencies.sort();
    // Held for the 100 ms reorder window, then printed; the median keeps a noisy machine's
    // one slow wake-up from failing the test.
    let median = latencies[latencies.len() / 2];
    assert!(
        median < Duration::from_millis(500),
        "median latency {median:?}"
    );
    drop(stdin); // the pipe closes: the follow ends by itself
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(events.try_recv().is_err(), "nothing more was printed");
}

/// A `worker.log` with one line of history, followed, and a line appended that came through;
/// the captured lines, the directory (kept while the test runs), the log, and the follow.
fn following_a_file() -> (
    Vec<String>,
    tempfile::TempDir,
    PathBuf,
    Following,
    Receiver<(Instant, Value)>,
) {
    let lines = captured_lines();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    // What is already there is history: a follow starts at the end, as tail -f does.
    append(&log, &lines[0]);
    let (child, events) = follow(&[log.to_str().unwrap()], Stdio::null());
    std::thread::sleep(Duration::from_millis(300));
    append(&log, &lines[1]);
    assert_next_is(&events, "an append", &lines[1]);
    (lines, dir, log, child, events)
}

#[test]
fn a_followed_file_is_read_across_appends_rotation_and_truncation() {
    let (lines, dir, log, child, events) = following_a_file();
    // Rotation: the service writes its last line to the renamed file, then a new one.
    let rotated = dir.path().join("worker.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    append(&rotated, &lines[2]);
    std::thread::sleep(Duration::from_millis(200));
    append(&log, &lines[3]);
    assert_next_is(&events, "the rotated file's last line", &lines[2]);
    assert_next_is(&events, "the new file's line", &lines[3]);
    // Truncation (copytruncate): the file starts again from nothing.
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&log, "").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    append(&log, &lines[4]);
    assert_next_is(&events, "a line after truncation", &lines[4]);
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("worker.log was rotated: reading the new file from its start"),
        "{stderr}"
    );
    assert!(
        stderr.contains("worker.log was truncated: reading it again from its start"),
        "{stderr}"
    );
    assert!(
        stderr.contains("read 4 lines: 4 events (stopped by Ctrl-C)"),
        "{stderr}"
    );
    assert!(
        events.try_recv().is_err(),
        "the history line was not printed"
    );
}

/// Bytes written as they are, without a line end (a line cut short by a crash or a rotation).
fn append_raw(path: &Path, bytes: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(bytes.as_bytes()).unwrap();
}

#[test]
fn a_rotation_loses_neither_the_old_files_late_lines_nor_the_new_files_first() {
    let (lines, dir, log, child, events) = following_a_file();
    // logrotate's `create`: the file is renamed and a new one created at once, and the
    // service goes on writing to the old one until its postrotate signal; its last line there
    // is cut short (it was killed mid-write).
    let rotated = dir.path().join("worker.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    std::fs::write(&log, "").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    append(&rotated, &lines[2]);
    std::thread::sleep(Duration::from_millis(400));
    append_raw(&rotated, &lines[3][..lines[3].len() / 2]);
    append(&log, &lines[4]);
    assert_next_is(&events, "the old file's late line", &lines[2]);
    assert_next_is(&events, "the new file's first line", &lines[4]);
    // copytruncate with a line cut short: the file's next first line is read whole too.
    append_raw(&log, &lines[5][..lines[5].len() / 2]);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&log, "").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    append(&log, &lines[6]);
    assert_next_is(&events, "the first line after truncation", &lines[6]);
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("worker.log was rotated"), "{stderr}");
    assert!(stderr.contains("worker.log was truncated"), "{stderr}");
    // The two cut lines are counted as skipped, not glued to the lines after them.
    assert!(stderr.contains("4 events"), "{stderr}");
    assert!(stderr.contains("2 skipped"), "{stderr}");
}

#[test]
fn a_truncation_caught_after_the_file_grew_back_is_still_read_from_the_start() {
    let (lines, _dir, log, child, events) = following_a_file();
    // Truncated and written again past where it was read before the follow looked (one
    // write: a small log's burst, or a paused output that kept the reader waiting).
    std::thread::sleep(Duration::from_millis(200));
    let rewritten = format!("{}\n{}\n{}\n", lines[7], lines[8], lines[9]);
    assert!(rewritten.len() as u64 > std::fs::metadata(&log).unwrap().len());
    std::fs::write(&log, rewritten).unwrap();
    for line in &lines[7..10] {
        assert_next_is(&events, "a line of the rewritten file", line);
    }
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("worker.log was truncated"), "{stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
}

#[test]
fn a_deleted_followed_file_is_said_and_waited_for() {
    let (lines, _dir, log, child, events) = following_a_file();
    // Gone for longer than a rotation takes, then created again.
    std::fs::remove_file(&log).unwrap();
    std::thread::sleep(Duration::from_millis(1800));
    append(&log, &lines[2]);
    assert_next_is(&events, "the recreated file's line", &lines[2]);
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains(
            "worker.log is gone (deleted or renamed): waiting for it to be created again"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("worker.log is back: reading the new file from its start"),
        "{stderr}"
    );
}

#[test]
fn since_starts_a_followed_file_at_its_beginning() {
    let lines = captured_lines();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    append(&log, &lines[0]);
    // The capture's times are in the past: a --since far enough back keeps them.
    let (child, events) = follow(&[log.to_str().unwrap(), "--since", "3650d"], Stdio::null());
    assert_next_is(&events, "the file's first line", &lines[0]);
    append(&log, &lines[1]);
    assert_next_is(&events, "an append", &lines[1]);
    let (code, _) = interrupt(child);
    assert_eq!(code, Some(130));
}

#[test]
fn several_files_are_merged_by_time_and_a_late_event_is_marked() {
    let lines = captured_lines();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    std::fs::write(&a, "").unwrap();
    std::fs::write(&b, "").unwrap();
    let (child, events) = follow(
        &[
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--reorder-window",
            "600ms",
        ],
        Stdio::null(),
    );
    std::thread::sleep(Duration::from_millis(300));
    // Within the window: b's earlier event goes first though a's was written first.
    append(&a, &lines[3]);
    append(&b, &lines[2]);
    assert_next_is(&events, "b's event", &lines[2]);
    assert_next_is(&events, "a's event", &lines[3]);
    // Past the window: an event older than one printed is printed, marked late.
    append(&b, &lines[1]);
    let (_, late) = next_event(&events, "the late event");
    assert_eq!(identity(&late), line_identity(&lines[1]));
    assert_eq!(late["late"], true);
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130));
    assert!(
        stderr.contains("1 event later than the reorder window (printed marked late"),
        "{stderr}"
    );
}

#[test]
fn silence_is_said_once() {
    let (mut child, _events) = follow(&["--idle", "300ms"], Stdio::piped());
    let stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    drop(stdin);
    let output = child.into_inner().wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("no events for 300 ms (still following; Ctrl-C ends)")
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn what_cannot_be_followed_is_refused_before_reading() {
    let output = flowtrace()
        .args(["events", "-f"])
        .arg(fixture("incident/flat.log.gz"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("flat.log.gz is compressed"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = flowtrace()
        .args(["events", "--reorder-window", "1s"])
        .arg(fixture("incident/flat.jsonl"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "--reorder-window needs --follow"
    );
}

/// The production capture's lines (two pods behind kubectl prefixes), as a pod stream gives
/// them.
fn production_lines() -> Vec<u8> {
    let mut lines = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture("production/flat.log.gz")).unwrap())
        .read_to_end(&mut lines)
        .unwrap();
    lines
}

fn production_status(trace_id: &str) -> String {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("production/expected.json")).unwrap(),
    )
    .unwrap();
    expected["status_of"][trace_id]
        .as_str()
        .unwrap()
        .to_string()
}

/// `find TRACE -f` fed the whole capture through a pipe that stays open: it must end by itself
/// once the trace is settled. Returns its stdout.
fn find_follow_ends_by_itself(trace_id: &str, input: &[u8]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowtrace"))
        .args(["find", &trace_id[..10], "-f", "--color", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Following::from)
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    stdin.flush().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "find -f did not end by itself though the pipe is open"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}");
    stdout
}

#[test]
fn find_follow_ends_once_the_trace_is_settled() {
    // The first trace to succeed in the run, and the first skipped for its deadline: each is
    // followed to its end, with the status the runtime's own events give.
    for (trace_id, said) in [
        (
            "21bade026a6a4768b2ed66ffdcc99396",
            "status in_flight → succeeded",
        ),
        (
            "038c28e856f7472f85d31c67725f6ff6",
            "status in_flight → deadline_skipped (deadline)",
        ),
    ] {
        let expected = production_status(trace_id);
        let stdout = find_follow_ends_by_itself(trace_id, &production_lines());
        assert!(stdout.contains(said), "{trace_id}: {stdout}");
        let report = stdout.split("\n\n").nth(1).unwrap_or_default();
        assert!(
            report.contains(&format!("status       {expected}")),
            "{trace_id} ({expected}): {stdout}"
        );
        // Its events came as rows before the report.
        assert!(stdout.contains("node_success"), "{stdout}");
    }
}

#[test]
fn find_follow_ends_on_another_topology_too() {
    // The two-pod chain behind kubectl prefixes: a trace failed by timeouts and one that
    // succeeded, each with the status its FlowEvents give (the capture's trace_expected).
    let log = std::fs::read(fixture("topologies/chain_incident/kubectl_prefix.log")).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("topologies/chain_incident/expected.json")).unwrap(),
    )
    .unwrap();
    for (trace_id, said) in [
        ("17dbf0fa850a4120b6cf88253a8163c8", "→ failed (timeout)"),
        ("87a1b09d3aae4044885e3586036f047e", "→ succeeded"),
    ] {
        let status = expected["trace_expected"][trace_id]["status"]
            .as_str()
            .unwrap();
        let stdout = find_follow_ends_by_itself(trace_id, &log);
        assert!(stdout.contains(said), "{trace_id}: {stdout}");
        assert!(
            stdout.contains(&format!("status       {status}")),
            "{trace_id} ({status}): {stdout}"
        );
    }
}

#[test]
fn find_follow_reports_when_the_input_ends_or_ctrl_c_stops_it() {
    // Failed late in the capture: the pipe closes before the trace is settled, and the report
    // is given then.
    let trace_id = "98a84de25b3f40f48f119987cefedcaf";
    let output = flowtrace()
        .args(["find", trace_id, "-f", "--color", "never"])
        .write_stdin(production_lines())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("status in_flight → failed"), "{stdout}");
    assert!(
        stdout.contains(&format!("status       {}", production_status(trace_id))),
        "{stdout}"
    );
    // A file followed: Ctrl-C ends the follow with the report so far and 130.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    std::fs::write(&log, production_lines()).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_flowtrace"))
        .args([
            "find", trace_id, "-f", "--since", "3650d", "--color", "never",
        ])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("(stopped by Ctrl-C)"), "{stderr}");
}

/// Hours of log time in a few thousand lines: one success a second at `node`, with the first
/// captured line as the template.
fn hours_of_log(hours: u64) -> Vec<u8> {
    let template: Value = serde_json::from_str(&captured_lines()[1]).unwrap();
    let mut log = Vec::new();
    for second in 0..hours * 3600 {
        let mut event = template.clone();
        event["ts"] = Value::from(1_795_600_000.0 + second as f64);
        event["trace_id"] = Value::from(format!("{second:032x}"));
        serde_json::to_writer(&mut log, &event).unwrap();
        log.push(b'\n');
    }
    log
}

#[test]
fn watch_writes_one_json_report_per_interval_over_a_bounded_window() {
    // Three hours of log time through a pipe that stays open a while: every report covers
    // at most the last 5 minutes, however much came before.
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowtrace"))
        .args(["triage", "--watch", "--interval", "300ms"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Following::from)
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&hours_of_log(3)).unwrap();
    stdin.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, frames) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let _ = sender.send(serde_json::from_str::<Value>(&line).unwrap());
        }
    });
    // Reports come while the pipe is open...
    let first = frames
        .recv_timeout(PATIENCE)
        .expect("a report while the pipe is open");
    let second = frames.recv_timeout(PATIENCE).expect("a second report");
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let mut reports: Vec<Value> = vec![first, second];
    reports.extend(frames.iter());
    let last = reports.last().unwrap();
    assert_eq!(
        last["window"]["ended"], true,
        "the input's end gives a last report"
    );
    for report in &reports[..reports.len() - 1] {
        assert_eq!(report["window"]["ended"], false);
    }
    // One event a second: a 5-minute window holds 301 at most.
    assert_eq!(last["window"]["events"], 301);
    // The last event is at 1,795,600,000 + 10,799 s; the window starts 300 s before it.
    assert_eq!(last["window"]["to"], "2026-11-25T12:46:39.000000Z");
    assert_eq!(last["window"]["from"], "2026-11-25T12:41:39.000000Z");
    for report in &reports {
        assert!(
            report["window"]["events"].as_u64().unwrap() <= 301,
            "{report}"
        );
        assert!(report["report"]["categories"].is_object(), "{report}");
    }
}

#[test]
fn watch_redraws_in_place_on_a_terminal() {
    // A real pseudo-terminal (script(1)) on stdout; the input is a file on stdin, read to
    // its end, so the view ends by itself after its last redraw.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pods.log");
    std::fs::write(&log, production_lines()).unwrap();
    let command = format!(
        "{} saturation --watch --interval 200ms --window 1m --color never < {}",
        env!("CARGO_BIN_EXE_flowtrace"),
        log.display()
    );
    let output = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env("COLUMNS", "160")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{screen}");
    assert!(
        screen.contains("\x1b[H\x1b[2J"),
        "cleared and redrawn: {screen}"
    );
    assert!(
        screen.contains("flowtrace saturation --watch: the last 1m of log time"),
        "{screen}"
    );
    assert!(
        screen.contains("the input ended: the last report"),
        "{screen}"
    );
    // The page is saturation's own, with the capture's degraded node in it.
    assert!(screen.contains("retrieve"), "{screen}");
}

#[test]
fn watch_refuses_markdown() {
    let output = flowtrace()
        .args(["triage", "--watch", "--format", "markdown"])
        .write_stdin(captured_lines().join("\n"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not Markdown"));
}

#[test]
fn a_followed_store_gives_rows_as_the_service_writes_them() {
    // The service's store, in WAL mode, written row by row by another connection while
    // flowtrace follows it; the rows there before are history.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get::<_, String>(0))
        .unwrap();
    writer
        .execute_batch(
            "CREATE TABLE flow_events (
               id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, ts REAL NOT NULL,
               kind TEXT NOT NULL, node_name TEXT, node_id TEXT, event_fp TEXT NOT NULL,
               payload TEXT, created_at TEXT, UNIQUE (trace_id, event_fp));",
        )
        .unwrap();
    let lines = captured_lines();
    let insert = |line: &str| {
        let event: Value = serde_json::from_str(line).unwrap();
        writer
            .execute(
                "INSERT INTO flow_events (trace_id, ts, kind, node_name, node_id, event_fp, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    event["trace_id"].as_str().unwrap(),
                    event["ts"].as_f64().unwrap(),
                    event["event"].as_str().unwrap(),
                    event["node_name"].as_str(),
                    event["node_id"].as_str(),
                    line_identity(line),
                    line,
                ],
            )
            .unwrap();
    };
    insert(&lines[0]);
    let (child, events) = follow(
        &["--store", db.to_str().unwrap(), "--interval", "100ms"],
        Stdio::null(),
    );
    std::thread::sleep(Duration::from_millis(500));
    for line in &lines[1..4] {
        insert(line);
    }
    for line in &lines[1..4] {
        let (_, event) = next_event(&events, "a row written to the store");
        assert_eq!(identity(&event), line_identity(line));
        assert!(event["source"].as_str().unwrap().contains("events.db#"));
    }
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        events.try_recv().is_err(),
        "the row written before was history"
    );
    let rows: i64 = writer
        .query_row("SELECT count(*) FROM flow_events", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        rows, 4,
        "the store holds what the service wrote, nothing else"
    );
}

#[test]
fn a_named_pipe_is_read_as_a_stream_whole() {
    // `flowtrace events -f <(kubectl logs -f pod-a)`: a pipe, never sought, no byte taken by
    // the file checks (the first 16 bytes were, once).
    let lines = captured_lines();
    for follow in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pod-a");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let writer = {
            let (fifo, text) = (fifo.clone(), lines.join("\n") + "\n");
            std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
        };
        let mut command = flowtrace();
        command.args(["events", "--format", "jsonl", "-q"]);
        if follow {
            command.arg("-f");
        }
        let output = command.arg(&fifo).timeout(PATIENCE).output().unwrap();
        writer.join().unwrap();
        assert_eq!(output.status.code(), Some(0), "follow {follow}");
        assert_eq!(
            parse_jsonl(&output.stdout).len(),
            lines.len(),
            "follow {follow}"
        );
    }
}

#[test]
fn a_line_stamped_in_the_future_does_not_freeze_the_watch_window() {
    // One mis-stamped line (a day ahead) among hours of log: every report still covers the
    // last 5 minutes of the others.
    let mut log = hours_of_log(1);
    let mut future: Value = serde_json::from_str(&captured_lines()[1]).unwrap();
    future["ts"] = Value::from(4_102_444_800.0); // 2100-01-01
    let mut first = serde_json::to_vec(&future).unwrap();
    first.push(b'\n');
    first.append(&mut log);
    let output = flowtrace()
        .args(["triage", "--watch", "--interval", "100ms"])
        .write_stdin(first)
        .timeout(PATIENCE)
        .output()
        .unwrap();
    let reports = parse_jsonl(&output.stdout);
    let last = reports.last().expect("a report");
    assert_eq!(last["window"]["events"], 301, "{last}");
    // The last of an hour from 1,795,600,000 s: 3,599 s later.
    assert_eq!(last["window"]["to"], "2026-11-25T10:46:39.000000Z");
}
