//! `flowtrace metrics`: counters that match what the runtime did (the capture's own FlowEvent
//! counts), a file the real `promtool` loads and reads back, and alert rules it accepts.
//! `promtool` comes from Debian's `prometheus` package (`.ci/run` installs it); without it the
//! promtool checks say so and pass, except where `FLOWTRACE_REQUIRE_PROMTOOL` is set (CI).

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("FLOWTRACE_REQUIRE_PROMTOOL").is_none(),
            "FLOWTRACE_REQUIRE_PROMTOOL is set but promtool is missing (apt-get install prometheus)"
        );
        eprintln!("skipped: no promtool (apt-get install prometheus)");
    }
    found.then_some("promtool")
}

fn metrics(args: &[&str]) -> String {
    let output = flowtrace().arg("metrics").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A sample line: (name, labels, value, timestamp).
fn parse(line: &str) -> (String, BTreeMap<String, String>, f64, f64) {
    let (series, rest) = line.rsplit_once('}').unwrap_or_else(|| {
        let (name, rest) = line.split_once(' ').unwrap();
        (name, rest)
    });
    let (name, labels) = series.split_once('{').unwrap_or((series, ""));
    let labels = labels
        .split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap();
            (key.to_string(), value.trim_matches('"').to_string())
        })
        .collect();
    let mut numbers = rest.split_whitespace();
    let value = numbers.next().unwrap().parse().unwrap();
    let time = numbers.next().unwrap().parse().unwrap();
    (name.to_string(), labels, value, time)
}

/// The last value of each series of `name`, summed by the values of `by` labels.
fn last_values(text: &str, name: &str, by: &[&str]) -> BTreeMap<Vec<String>, f64> {
    let mut last: BTreeMap<String, (Vec<String>, f64)> = BTreeMap::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let (sample, labels, value, _) = parse(line);
        if sample != name {
            continue;
        }
        let key: Vec<String> = by
            .iter()
            .map(|label| labels.get(*label).cloned().unwrap_or_default())
            .collect();
        let series = format!("{labels:?}");
        last.insert(series, (key, value));
    }
    let mut sums = BTreeMap::new();
    for (key, value) in last.into_values() {
        *sums.entry(key).or_insert(0.0) += value;
    }
    sums
}

#[test]
fn counters_are_what_the_runtime_emitted() {
    let expected = incident_expected();
    let text = metrics(&[&fixture_arg("incident/flat.jsonl"), "--step", "1s"]);
    let by_kind = last_values(&text, "penguiflow_node_events_total", &["event"]);
    for (kind, count) in expected["event_counts"].as_object().unwrap() {
        assert_eq!(
            by_kind
                .get(&vec![kind.clone()])
                .copied()
                .unwrap_or_default(),
            count.as_f64().unwrap(),
            "{kind}"
        );
    }
    // Per node, as classify (and the capture's record of it) counts them.
    let by_node = last_values(&text, "penguiflow_node_events_total", &["node", "event"]);
    for (node, counts) in expected["classify"]["groups"]["node"].as_object().unwrap() {
        for (category, kind) in [
            ("timeout", "node_timeout"),
            ("error", "node_error"),
            ("retry", "node_retry"),
        ] {
            assert_eq!(
                by_node
                    .get(&vec![node.clone(), kind.to_string()])
                    .copied()
                    .unwrap_or_default(),
                counts[category].as_f64().unwrap(),
                "{node} {kind}"
            );
        }
    }
    // Latency counts are the successes with a latency.
    let successes = last_values(&text, "penguiflow_node_latency_seconds_count", &[]);
    assert_eq!(
        successes[&Vec::<String>::new()],
        expected["event_counts"]["node_success"].as_f64().unwrap()
    );
    assert!(!text.contains("trace_id"), "no trace label, ever");
}

#[test]
fn the_file_is_valid_openmetrics_for_backfill() {
    // Two pods behind kubectl prefixes: their queues are series of their own.
    let text = metrics(&[&fixture_arg("production/flat.log.gz"), "--step", "1s"]);
    assert!(text.ends_with("# EOF\n"));
    let mut families_seen = Vec::new();
    let mut last_time: BTreeMap<String, f64> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let family = rest.split(' ').next().unwrap().to_string();
            assert!(!families_seen.contains(&family), "{family} interleaved");
            families_seen.push(family);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, labels, _, time) = parse(line);
        let series = format!("{name}{labels:?}");
        if let Some(previous) = last_time.insert(series.clone(), time) {
            assert!(time > previous, "{series}: {time} after {previous}");
        }
    }
    let pods = last_values(&text, "penguiflow_queue_depth_in", &["pod"]);
    assert_eq!(pods.len(), 2, "{pods:?}");

    let Some(promtool) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("incident.om");
    std::fs::write(&file, &text).unwrap();
    let data = dir.path().join("data");
    let output = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn promtool_reads_back_the_counts_and_accepts_the_rules() {
    let Some(promtool) = promtool() else { return };
    let expected = incident_expected();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("incident.om");
    metrics(&[
        &fixture_arg("incident/flat.jsonl"),
        "--out",
        file.to_str().unwrap(),
    ]);
    let data = dir.path().join("data");
    let loaded = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(&data)
        .output()
        .unwrap();
    assert!(loaded.status.success());
    std::fs::create_dir_all(data.join("wal")).unwrap();
    let dump = Command::new(promtool)
        .args([
            "tsdb",
            "dump",
            "--match",
            "penguiflow_node_events_total{node=\"retrieve\",event=\"node_timeout\"}",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&dump.stdout);
    // Summed over tenants, the last samples are the capture's timeouts at retrieve.
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    for line in dump.lines() {
        let (labels, rest) = line.rsplit_once('}').unwrap();
        let value: f64 = rest.split_whitespace().next().unwrap().parse().unwrap();
        last.insert(labels.to_string(), value);
    }
    assert_eq!(
        last.values().sum::<f64>(),
        expected["classify"]["groups"]["node"]["retrieve"]["timeout"]
            .as_f64()
            .unwrap(),
        "{dump}"
    );

    let rules = dir.path().join("rules.yml");
    metrics(&[
        "--format",
        "prometheus-rules",
        "--out",
        rules.to_str().unwrap(),
    ]);
    let checked = Command::new(promtool)
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    assert!(String::from_utf8_lossy(&checked.stdout).contains("SUCCESS: 6 rules found"));
}
