//! Helpers shared by the CLI tests: a scrubbed `flowtrace` command, fixture paths, the capture
//! run's recorded expectations, JSON-lines parsing of output, and a seeded random generator.
#![allow(dead_code)]

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

/// `flowtrace` with an environment that cannot change its behaviour (colors, terminal).
pub fn flowtrace() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowtrace"));
    command
        .env_remove("NO_COLOR")
        .env_remove("TERM")
        .env("COLUMNS", "200");
    command
}

pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

pub fn fixture_arg(relative: &str) -> String {
    fixture(relative).display().to_string()
}

/// The runtime's own FlowEvents of a flat capture under `fixtures/` (gzipped or not), as the
/// capture's middleware wrote them: the truth a verdict is checked against.
pub fn capture_events(relative: &str) -> Vec<Value> {
    let path = fixture(relative);
    let text = if relative.ends_with(".gz") {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()),
            &mut text,
        )
        .unwrap();
        text
    } else {
        std::fs::read_to_string(&path).unwrap()
    };
    text.lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// A JSON file of the fixtures (a capture's expected.json).
pub fn fixture_json(relative: &str) -> Value {
    let text = std::fs::read_to_string(fixture(relative)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What the capture script recorded of the mixed-incident run.
pub fn incident_expected() -> Value {
    fixture_json("incident/expected.json")
}

/// The trace id of the incident scenario `name`.
pub fn trace_of(scenario: &str) -> String {
    incident_expected()["traces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|trace| trace["scenario"] == scenario)
        .unwrap_or_else(|| panic!("no scenario {scenario}"))["trace_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs flowtrace with `args` (events as JSON lines) and returns the parsed events.
pub fn events_jsonl(args: &[&str]) -> Vec<Value> {
    let output = flowtrace()
        .arg("events")
        .args(["--format", "jsonl", "--quiet"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "flowtrace {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_jsonl(&output.stdout)
}

/// Runs flowtrace on a pseudo-terminal `columns` wide (util-linux `script`), returning what it
/// printed (stdout and stderr, as a terminal shows them); `None` where `script` is missing.
pub fn on_terminal(columns: u16, args: &[&str]) -> Option<String> {
    // Each word quoted for the shell `script` runs the command with.
    let quoted: Vec<String> = args
        .iter()
        .map(|arg| format!("'{}'", arg.replace('\'', "'\\''")))
        .collect();
    let command = format!(
        "stty rows 50 cols {columns}; '{}' {}",
        env!("CARGO_BIN_EXE_flowtrace"),
        quoted.join(" ")
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("COLUMNS")
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).replace('\r', ""))
}

/// Runs `flowtrace SUBCOMMAND --format json --quiet ARGS...`, which must succeed, and parses
/// its report.
pub fn report_json(subcommand: &str, args: &[&str]) -> Value {
    let output = flowtrace()
        .args([subcommand, "--format", "json", "--quiet"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "flowtrace {subcommand} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

pub fn parse_jsonl(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// An event without the fields that legitimately differ between shapes of the same run
/// (`source` always; `tenant` where a shape carries none).
pub fn comparable(event: &Value, keep_tenant: bool) -> Value {
    let mut event = event.clone();
    let object = event.as_object_mut().unwrap();
    // Where it was read: the input line, and the pod kubectl's prefix names.
    object.remove("source");
    object.remove("pod");
    object.remove("container");
    if !keep_tenant {
        object.remove("tenant");
    }
    event
}

/// A small deterministic generator (xorshift), so failures reproduce.
pub struct Random(pub u64);

impl Random {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The edges a capture run wired (`flow.edges` of its expected.json), sorted.
pub fn wired_edges(expected: &Value) -> Vec<(String, String)> {
    sorted_pairs(&expected["flow"]["edges"])
}

/// `[[from, to], ...]` as sorted pairs.
pub fn sorted_pairs(edges: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = edges
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into()))
        .collect();
    pairs.sort();
    pairs
}

/// The edges of a `graph --format json` report, sorted.
pub fn learned_edges(graph: &Value) -> Vec<(String, String)> {
    let mut edges: Vec<(String, String)> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edges.sort();
    edges
}

/// `find TRACE PATH -q`'s text: the trace's report, as a user reads it.
pub fn find_text(trace: &str, path: &str) -> String {
    let output = flowtrace()
        .args(["find", trace, path, "-q"])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

/// A report's checklist as text: triage's steps (`{step, ...}` objects) or saturation's
/// (strings).
pub fn remediation_steps(report: &Value) -> Vec<String> {
    report["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().or(s["step"].as_str()).unwrap().to_string())
        .collect()
}

/// classify's checklist as text: every step of every category's section.
pub fn classify_steps(classify: &Value) -> Vec<String> {
    classify["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|section| section["steps"].as_array().unwrap().iter())
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A saturation report's row of `name`.
pub fn node_row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node_name"] == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

/// A step that tells the callers to raise their budget (not one that says not to).
pub fn says_raise_budget(step: &str) -> bool {
    step.contains("raise it for")
        || step.contains("raise Message.deadline_s")
        || step.contains("raise deadline_s")
}
