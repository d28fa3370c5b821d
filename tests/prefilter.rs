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
