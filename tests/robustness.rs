//! flowtrace never panics on any bytes: random lines, mutilated real lines and hostile values
//! go through every subcommand, which must end with status 0 or 1 and no panic.

mod common;

use common::*;

fn hostile_log() -> Vec<u8> {
    let real = std::fs::read_to_string(fixture("incident/kubectl_prefix_timestamps.log")).unwrap();
    let lines: Vec<&str> = real.lines().collect();
    let mut random = Random(0x5eed_f10e_7ace);
    let mut log = Vec::new();
    let hostile_values = [
        "1e308",
        "-1e308",
        "0",
        "-1",
        "\"NaN\"",
        "\"inf\"",
        "18446744073709551616",
        "null",
        "[]",
        "{}",
        "\"2026-13-45T99:99:99Z\"",
        "true",
        "\"\"",
        "-9223372036854775808",
    ];
    for round in 0..1500 {
        match random.below(5) {
            // random bytes, invalid UTF-8 and NULs included
            0 => {
                let length = random.below(200) as usize;
                log.extend(
                    (0..length)
                        .map(|_| (random.next() & 0xff) as u8)
                        .filter(|b| *b != b'\n'),
                );
            }
            // a real line cut anywhere
            1 => {
                let line = lines[random.below(lines.len() as u64) as usize].as_bytes();
                log.extend_from_slice(&line[..random.below(line.len() as u64) as usize]);
            }
            // a real line with one byte flipped
            2 => {
                let mut line = lines[random.below(lines.len() as u64) as usize]
                    .as_bytes()
                    .to_vec();
                if !line.is_empty() {
                    let at = random.below(line.len() as u64) as usize;
                    line[at] ^= 1 << random.below(8);
                }
                log.extend(line.into_iter().filter(|b| *b != b'\n'));
            }
            // a real event with hostile values for its fields
            3 => {
                let value = hostile_values[random.below(hostile_values.len() as u64) as usize];
                let field = [
                    "ts",
                    "latency_ms",
                    "q_depth_in",
                    "q_depth_total",
                    "attempt",
                    "trace_pending",
                    "queue_maxsize",
                    "deadline_s",
                ][random.below(8) as usize];
                log.extend_from_slice(
                    format!(
                        r#"{{"event": "node_success", "node_name": "n{}", "trace_id": "t{}", "{field}": {value}, "q_depth_in": 1}}"#,
                        round % 3,
                        round % 7
                    )
                    .as_bytes(),
                );
            }
            // deep nesting
            _ => {
                let depth = 1 + random.below(300) as usize;
                log.extend_from_slice(
                    r#"{"event": "node_start", "node_name": "x", "extra": "#.as_bytes(),
                );
                log.extend(std::iter::repeat_n(b'[', depth));
                log.extend(std::iter::repeat_n(b']', depth));
                log.push(b'}');
            }
        }
        log.push(b'\n');
    }
    log
}

#[test]
fn no_subcommand_panics_on_hostile_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.log");
    std::fs::write(&path, hostile_log()).unwrap();
    let path = path.to_str().unwrap();
    let commands: [&[&str]; 9] = [
        &["events", "--format", "jsonl"],
        &["events", "--format", "table"],
        &["find", "t1", "--format", "json"],
        &["classify", "--format", "json"],
        &["classify", "--by", "minute"],
        &["saturation", "--format", "json"],
        &["traces", "--format", "table"],
        &["graph", "--format", "mermaid"],
        &["triage", "--format", "json"],
    ];
    for command in commands {
        let output = flowtrace()
            .args(command)
            .arg(path)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{command:?} ended with {:?}: {stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{command:?}: {stderr}");
    }
}

/// An attempt number is whatever the log says: a retried success at attempt 3,000,000 must
/// not make the headroom note list three million attempts (it once wrote 58 MB).
#[test]
fn a_huge_attempt_number_is_said_in_a_few_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("attempts.jsonl");
    let mut log = String::new();
    for trace in 0..10 {
        let line = |attempt: u64, ts: f64, event: &str, extra: &str| {
            format!(
                "{{\"node_name\": \"n\", \"trace_id\": \"h-{trace}\", \"attempt\": {attempt}, \"ts\": {ts}, \"event\": \"{event}\"{extra}}}\n"
            )
        };
        let at = 1_796_159_256.0 + f64::from(trace);
        log += &line(0, at, "node_start", "");
        log += &line(
            0,
            at + 0.01,
            "node_error",
            ", \"exception\": \"ValueError('x')\"",
        );
        log += &line(1, at + 0.011, "node_retry", "");
        log += &line(3_000_000, at + 0.02, "node_start", "");
        log += &line(
            3_000_000,
            at + 0.03,
            "node_success",
            ", \"latency_ms\": 10.0",
        );
    }
    std::fs::write(&path, log).unwrap();
    let report = report_json("classify", &[path.to_str().unwrap()]);
    let steps = classify_steps(&report);
    let headroom = steps
        .iter()
        .find(|step| step.contains("No headroom"))
        .expect("the retries saved every message at their last attempt");
    assert!(
        headroom.contains("(attempt 3000000: 10)"),
        "the attempts that saved any: {headroom}"
    );
    assert!(headroom.len() < 2_000, "{} bytes", headroom.len());
}
