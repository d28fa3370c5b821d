//! The byte prefilter (and the block search behind `--trace` and `find`) never drops a
//! matching event: over logs of every shape, many trace ids and awkward layouts, the events a
//! filtered read gives are exactly those a full parse gives for the same trace.

mod common;

use common::*;
use serde_json::Value;

/// A log over 8 MiB (more than one search block, and past two windows of a mapped file) mixing
/// every shape of the captured run, trace ids rewritten per copy, noise lines, one very long
/// line, and no newline at the very end.
fn mixed_log(seed: u64) -> (String, Vec<String>) {
    let mut random = Random(seed);
    let shapes: Vec<String> = [
        "flat.jsonl",
        "structured.jsonl",
        "kubectl_prefix_timestamps.log",
        "admin_history.jsonl",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(fixture(&format!("incident/{f}"))).unwrap())
    .collect();
    let ids: Vec<String> = incident_expected()["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap().to_string())
        .collect();
    let mut log = String::new();
    let mut copies = 0;
    let mut lines = 0;
    let mut long_line_past_sample = false;
    // Past find's 20,000-line sample, and over two search blocks (4 MiB windows when mapped).
    while lines < 26_000 || log.len() < 8_500_000 {
        let shape = &shapes[(random.next() % shapes.len() as u64) as usize];
        let prefix = format!("{:04x}", copies);
        for line in shape.lines() {
            let mut line = line.to_string();
            for id in &ids {
                line = line.replace(id.as_str(), &format!("{prefix}{}", &id[4..]));
            }
            log.push_str(&line);
            log.push('\n');
            lines += 1;
        }
        // A line longer than a read chunk, inside the sample and past it (skip mode).
        if copies == 3 || (lines > 21_000 && !long_line_past_sample) {
            long_line_past_sample = lines > 21_000;
            log.push_str(&format!("{{\"message\": \"{}\"}}\n", "x".repeat(1_500_000)));
        }
        copies += 1;
    }
    log.pop(); // no newline after the last line
    assert!(
        log.len() > 8 << 20,
        "{} bytes: past two mapped windows",
        log.len()
    );
    let wanted: Vec<String> = (0..6)
        .map(|_| {
            let copy = random.next() % copies;
            let id = &ids[(random.next() % ids.len() as u64) as usize];
            format!("{copy:04x}{}", &id[4..])
        })
        .chain(std::iter::once(format!(
            "{:04x}{}",
            copies - 1,
            &ids[ids.len() - 1][4..]
        )))
        .collect();
    (log, wanted)
}

#[test]
fn filtered_reads_equal_a_full_parse() {
    let (log, wanted) = mixed_log(0x1234_5678_9abc);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, &log).unwrap();
    let path = path.to_str().unwrap();
    let everything = events_jsonl(&[path]);
    assert!(everything.len() > 20_000, "{}", everything.len());
    for id in &wanted {
        let expected: Vec<Value> = everything
            .iter()
            .filter(|e| e["trace_id"] == id.as_str())
            .cloned()
            .collect();
        if expected.is_empty() {
            // A trace no line carries is an error, not an empty answer.
            for subcommand in ["events", "find"] {
                let args: Vec<&str> = match subcommand {
                    "events" => vec!["events", "-q", path, "--trace", id],
                    _ => vec!["find", id, "-q", path],
                };
                flowtrace().args(args).assert().code(1).stdout("");
            }
            continue;
        }
        let filtered = events_jsonl(&[path, "--trace", id]);
        assert_eq!(filtered, expected, "--trace {id}");
        // find: only the trace's own lines past the sample, same timeline.
        let report = report_json("find", &[id, path]);
        let timeline: Vec<Value> = report["timeline"].as_array().unwrap().clone();
        assert_eq!(timeline, expected, "find {id}");
    }
}

#[test]
fn decoding_on_several_threads_gives_the_single_thread_answer() {
    let (log, _) = mixed_log(0x0dd_ba11);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, &log).unwrap();
    let path = path.to_str().unwrap();
    for subcommand in ["classify", "saturation", "triage", "traces"] {
        let single = report_json(subcommand, &[path, "-j", "1"]);
        for threads in ["2", "5"] {
            let parallel = report_json(subcommand, &[path, "-j", threads]);
            assert_eq!(parallel, single, "{subcommand} -j {threads}");
        }
    }
    assert_eq!(
        events_jsonl(&[path, "-j", "3"]),
        events_jsonl(&[path, "-j", "1"])
    );
}

/// A line past `--max-line-bytes` that holds the trace id, past find's sample: counted as too
/// long, never decoded, whether the file is mapped (whole windows) or read from a pipe
/// (chunks): the chunk sizes do not decide what a line is.
#[test]
fn a_hit_line_past_max_line_bytes_is_too_long_however_it_is_read() {
    let (log, wanted) = mixed_log(0x7007_1096);
    let mut lines: Vec<&str> = log.lines().collect();
    let id = wanted
        .iter()
        .find(|id| {
            lines[22_000..]
                .iter()
                .any(|line| line.contains(id.as_str()))
        })
        .expect("a wanted trace past the sample")
        .clone();
    let long = format!("{{\"message\": \"{id} {}\"}}", "x".repeat(1_000_000));
    lines.insert(22_000, &long);
    let log = lines.join("\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.log");
    std::fs::write(&path, &log).unwrap();
    let path = path.to_str().unwrap();
    let args = [
        "find",
        id.as_str(),
        "--max-line-bytes",
        "300000",
        "--format",
        "json",
    ];
    let mapped = flowtrace().args(args).arg(path).output().unwrap();
    let piped = flowtrace()
        .args(args)
        .arg("-")
        .write_stdin(log.clone())
        .output()
        .unwrap();
    let full = flowtrace()
        .args(args)
        .args(["--full-scan", path])
        .output()
        .unwrap();
    // The long lines, as a read of every line counts them (the log has two of its own).
    let too_long = |stderr: &[u8]| {
        let stderr = String::from_utf8_lossy(stderr).into_owned();
        let count = stderr
            .split(", ")
            .find_map(|part| part.strip_suffix(" longer than --max-line-bytes"))
            .and_then(|part| part.rsplit(['(', ' ']).next())
            .map(str::to_string);
        (count, stderr)
    };
    // Past the sample, a long line without the id is passed over unread, not counted as long.
    let long_lines = |from: usize, with_id: bool| {
        log.lines()
            .skip(from)
            .filter(|line| line.len() + 1 > 300_000 && (with_id || !line.contains(id.as_str())))
            .count()
    };
    let (full_count, full_stderr) = too_long(&full.stderr);
    assert_eq!(
        full_count,
        Some(long_lines(0, true).to_string()),
        "{full_stderr}"
    );
    assert_eq!(mapped.status.code(), Some(0));
    let (count, stderr) = too_long(&mapped.stderr);
    let passed_over = long_lines(20_000, false);
    assert!(passed_over > 0);
    assert_eq!(
        count,
        Some((long_lines(0, true) - passed_over).to_string()),
        "{stderr}"
    );
    assert_eq!(piped.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&piped.stderr), stderr);
    let same_source = |stdout: &[u8], name: &str| {
        String::from_utf8_lossy(stdout).replace(&format!("\"{name}:"), "\"INPUT:")
    };
    assert_eq!(
        same_source(&mapped.stdout, path),
        same_source(&piped.stdout, "<stdin>")
    );
}
