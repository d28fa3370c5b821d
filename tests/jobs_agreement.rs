//! `-j` never changes an answer: every subcommand on every captured run gives, byte for byte,
//! with 2 or 5 threads what it gives with 1: as many decoding threads, and as many workers
//! following the traces (the trace book split by trace). The captured runs are smaller than
//! one decoding block, so the blocks are made small (`FLOWTRACE_TEST_BLOCK_BYTES`) to cut each
//! run into many blocks, split between the threads and put back in order. A captured run
//! lasts seconds, where the book looks for finished traces every ten seconds of log time and
//! settles a trace quiet for a minute: a run replayed over minutes has the workers settle
//! traces as they go, against the graph of every worker's traces.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, flowtrace};

/// Every log the capture scripts wrote (the hostile inputs are the robustness tests' own).
fn captured_logs() -> Vec<PathBuf> {
    let mut logs = Vec::new();
    let mut dirs = vec![fixture("")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "hostile" && name != "capture" {
                    dirs.push(path);
                }
            } else if [".jsonl", ".log", ".gz"]
                .iter()
                .any(|end| name.ends_with(end))
            {
                logs.push(path);
            }
        }
    }
    logs.sort();
    logs
}

/// A trace id of the log (its first `trace_id` value), for `find`.
fn some_trace_id(log: &Path) -> Option<String> {
    let output = flowtrace()
        .args(["events", "--format", "jsonl", "-q", "-j", "1"])
        .arg(log)
        .output()
        .unwrap();
    common::parse_jsonl(&output.stdout)
        .iter()
        .find_map(|event| event["trace_id"].as_str().map(str::to_string))
}

/// What a run printed and how it ended.
fn answer(args: &[String], threads: &str) -> (Option<i32>, Vec<u8>) {
    let output = flowtrace()
        .args(args)
        .args(["-j", threads])
        .env("FLOWTRACE_TEST_BLOCK_BYTES", "700")
        .output()
        .unwrap();
    (output.status.code(), output.stdout)
}

/// Every subcommand's run of `log` (`find` on one of its traces).
fn runs_of(log: &Path) -> Vec<Vec<String>> {
    let path = log.display().to_string();
    let with = |words: &[&str]| -> Vec<String> { words.iter().map(|w| w.to_string()).collect() };
    let mut runs: Vec<Vec<String>> = [
        "classify",
        "saturation",
        "triage",
        "traces",
        "graph",
        "lint",
    ]
    .iter()
    .map(|subcommand| with(&[subcommand, &path, "-q", "--format", "json"]))
    .collect();
    runs.push(with(&["metrics", &path, "-q", "--format", "openmetrics"]));
    runs.push(with(&["events", &path, "-q", "--format", "jsonl"]));
    runs.push(with(&["report", &path, "-q", "-o", "-"]));
    if let Some(id) = some_trace_id(log) {
        runs.push(with(&["find", &id, &path, "-q", "--format", "json"]));
    }
    runs
}

/// Compares `-j 2` and `-j 5` with `-j 1` on every run of `log`; the number of comparisons.
fn compare_threads(log: &Path) -> usize {
    let mut compared = 0;
    for args in runs_of(log) {
        let single = answer(&args, "1");
        assert!(
            !single.1.is_empty(),
            "flowtrace {args:?} -j 1 printed nothing"
        );
        for threads in ["2", "5"] {
            let parallel = answer(&args, threads);
            assert!(
                parallel == single,
                "flowtrace {args:?}: -j {threads} answers otherwise than -j 1 (exit {:?} vs {:?})",
                parallel.0,
                single.0
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn every_subcommand_on_every_captured_run_answers_the_same_whatever_the_threads() {
    let logs = captured_logs();
    assert!(logs.len() >= 40, "only {} captured logs found", logs.len());
    // Two at a time: the runs are independent processes.
    let (even, odd): (Vec<_>, Vec<_>) = logs.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let compared: usize = std::thread::scope(|scope| {
        [even, odd]
            .map(|half| {
                scope.spawn(move || {
                    half.iter()
                        .map(|(_, log)| compare_threads(log))
                        .sum::<usize>()
                })
            })
            .into_iter()
            .map(|worker| worker.join().unwrap())
            .sum()
    });
    // 10 subcommands (9 where a log has no trace id), each -j 2 and -j 5.
    assert!(compared >= logs.len() * 18, "{compared} comparisons");
    eprintln!("{compared} answers compared over {} logs", logs.len());
}

/// `fixtures/review/ninth_twoproblems.jsonl` (a real capture of 15 s, with traces cut in flight)
/// replayed `times` times, each 75 s after the one before, its trace ids made new (still uuid4
/// hex) in every replay but one in three, where they are text ids.
fn replayed_over_minutes(times: u32) -> String {
    let capture = std::fs::read_to_string(fixture("review/ninth_twoproblems.jsonl")).unwrap();
    let mut log = String::new();
    for replay in 0..times {
        for line in capture.lines() {
            let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
            let ts = event["ts"].as_f64().unwrap();
            event["ts"] = serde_json::json!(ts + 75.0 * f64::from(replay));
            if let Some(trace) = event["trace_id"].as_str() {
                let trace = if replay % 3 == 2 {
                    format!("order-{replay}-{trace}")
                } else {
                    format!("{replay:02x}{}", &trace[2..])
                };
                event["trace_id"] = serde_json::json!(trace);
            }
            log.push_str(&event.to_string());
            log.push('\n');
        }
    }
    log
}

#[test]
fn traces_settled_along_a_run_of_minutes_answer_the_same_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("replayed.jsonl");
    std::fs::write(&log, replayed_over_minutes(8)).unwrap();
    let path = log.display().to_string();
    for subcommand in ["classify", "triage", "traces", "graph"] {
        let args: Vec<String> = [subcommand, &path, "-q", "--format", "json"]
            .iter()
            .map(|word| word.to_string())
            .collect();
        let single = answer(&args, "1");
        assert_eq!(single.0, Some(0), "flowtrace {args:?} -j 1");
        for threads in ["2", "5"] {
            let parallel = answer(&args, threads);
            assert!(
                parallel == single,
                "flowtrace {args:?}: -j {threads} answers otherwise than -j 1:\n{}\n--- -j 1:\n{}",
                String::from_utf8_lossy(&parallel.1),
                String::from_utf8_lossy(&single.1)
            );
        }
    }
    // Each replay's traces settled as the capture's own: the graph at each look already
    // the capture's.
    let classify = |log: String, threads: &str| -> serde_json::Value {
        let args: Vec<String> = ["classify", &log, "-q", "--format", "json"]
            .iter()
            .map(|word| word.to_string())
            .collect();
        serde_json::from_slice(&answer(&args, threads).1).unwrap()
    };
    let replayed = classify(path, "2");
    let once = classify(
        fixture("review/ninth_twoproblems.jsonl")
            .display()
            .to_string(),
        "1",
    );
    assert_eq!(replayed["traces"], 8 * once["traces"].as_u64().unwrap());
    for (status, count) in once["statuses"].as_object().unwrap() {
        assert_eq!(
            replayed["statuses"][status],
            8 * count.as_u64().unwrap(),
            "{status}"
        );
    }
}
