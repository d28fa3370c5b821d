//! Generates a realistic, deterministic PenguiFlow log of any size for benchmarks, built from
//! captured fixtures, replayed with fresh trace ids and times. One known needle trace
//! (`NEEDLE`) has its events spread through the file. Two profiles:
//!
//! - `production` (the default): the templates are `fixtures/production/` (two pods behind
//!   `kubectl --prefix`, python-json-logger's or penguiflow's structured lines byte for byte,
//!   tracebacks on failures), replayed as `--pods` pods with about 48 traces in flight and the
//!   captured incident (a degraded dependency) in the middle fifth of the file.
//! - `incident`: the first generator, kept for history: the traces of `fixtures/incident/`,
//!   re-rendered as compact JSON with sorted keys, 8 traces interleaved, no pods.
//!
//! cargo run --release --example genlog -- --size 1G --shape flat --out /tmp/flow-1g.log
//! cargo run --release --example genlog -- --size 100M --shape structured --out /tmp/s.log
//! cargo run --release --example genlog -- --profile incident --size 1G --out /tmp/old.log

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The trace id whose events are spread through the generated file.
pub const NEEDLE: &str = "feedc0de5eed4a11b0a710ad0f5ca1e5";
const TENANTS: [&str; 5] = ["acme", "globex", "initech", "umbrella", "hooli"];
/// Traces in flight at once, interleaved line by line.
const CONCURRENT: usize = 8;

struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn parse_size(text: &str) -> u64 {
    let text = text.trim().to_ascii_uppercase();
    let (number, unit) = text.split_at(
        text.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len()),
    );
    let number: f64 = number.parse().expect("--size like 100M or 1G");
    let unit = match unit {
        "" | "B" => 1.0,
        "K" | "KB" | "KIB" => 1024.0,
        "M" | "MB" | "MIB" => 1024.0 * 1024.0,
        "G" | "GB" | "GIB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unknown size unit {other}"),
    };
    (number * unit) as u64
}

/// The fixture's traces, each a list of payloads (flat shape) in order.
fn templates(root: &Path) -> Vec<Vec<Value>> {
    let text =
        std::fs::read_to_string(root.join("fixtures/incident/flat.jsonl")).expect("fixtures");
    let mut traces: Vec<(String, Vec<Value>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).expect("fixture line");
        let Some(trace) = value["trace_id"].as_str().map(str::to_string) else {
            continue;
        };
        let slot = *index.entry(trace.clone()).or_insert_with(|| {
            traces.push((trace.clone(), Vec::new()));
            traces.len() - 1
        });
        traces[slot].1.push(value);
    }
    traces.into_iter().map(|(_, events)| events).collect()
}

/// One event line in the requested shape, with the trace's new id, tenant and time.
fn render(template: &Value, trace_id: &str, tenant: &str, ts: f64, shape: &str) -> String {
    let mut payload = template.clone();
    let object = payload.as_object_mut().expect("object");
    object.insert("trace_id".into(), Value::from(trace_id));
    object.insert("ts".into(), Value::from(ts));
    for key in ["level", "message", "logger", "timestamp", "tenant"] {
        object.remove(key);
    }
    let event = object["event"].as_str().unwrap_or("node_start").to_string();
    let level = match event.as_str() {
        "node_error" | "node_failed" => "ERROR",
        "node_timeout" => "WARNING",
        "node_start" => "DEBUG",
        _ => "INFO",
    };
    let iso = chrono::DateTime::from_timestamp_micros((ts * 1e6) as i64)
        .unwrap_or_default()
        .to_rfc3339();
    match shape {
        "structured" => serde_json::json!({
            "level": level, "logger": "penguiflow.core", "message": event,
            "timestamp": iso, "extra": payload,
        })
        .to_string(),
        _ => {
            object.insert("level".into(), Value::from(level));
            object.insert("message".into(), Value::from(event));
            object.insert("logger".into(), Value::from("penguiflow.core"));
            object.insert("timestamp".into(), Value::from(iso));
            object.insert("tenant".into(), Value::from(tenant));
            payload.to_string()
        }
    }
}

fn main() {
    let mut size = parse_size("100M");
    let mut shape = "flat".to_string();
    let mut profile = "production".to_string();
    let mut pods = 4usize;
    let mut out = PathBuf::from("flow.log");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => size = parse_size(&args.next().expect("--size N")),
            "--shape" => shape = args.next().expect("--shape flat|structured"),
            "--out" => out = PathBuf::from(args.next().expect("--out FILE")),
            "--profile" => profile = args.next().expect("--profile production|incident"),
            "--pods" => pods = args.next().and_then(|n| n.parse().ok()).expect("--pods N"),
            other => {
                let help = matches!(other, "-h" | "--help");
                if !help {
                    eprintln!("genlog: unknown argument {other}");
                }
                eprintln!(
                    "usage: genlog [--size 100M] [--shape flat|structured] \
                     [--profile production|incident] [--pods 4] [--out flow.log]\n\
                     Writes a deterministic PenguiFlow log replayed from real captures (see the \
                     file's header); the needle trace is {NEEDLE}."
                );
                std::process::exit(if help { 0 } else { 2 });
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match profile.as_str() {
        "production" => production(&root, size, &shape, pods.max(1), &out),
        "incident" => incident(&root, size, &shape, &out),
        other => {
            eprintln!("genlog: unknown profile {other} (production, incident)");
            std::process::exit(2);
        }
    }
}

/// The first generator: `fixtures/incident/` traces re-rendered, 8 in flight.
fn incident(root: &Path, size: u64, shape: &str, out: &Path) {
    let templates = templates(root);
    let needle_template = templates
        .iter()
        .max_by_key(|t| t.len())
        .expect("templates")
        .clone();
    let mut random = Random(0x0f10_77ace);
    let mut writer = BufWriter::with_capacity(1 << 20, File::create(out).expect("output file"));
    let mut written: u64 = 0;
    let mut clock = 1_795_600_000.0_f64;
    let mut trace_number: u64 = 0;
    // Active traces: (id, tenant, template index, next event index).
    let mut active: Vec<(String, &str, usize, usize)> = Vec::new();
    let needle_every = (size / (needle_template.len() as u64 + 1)).max(1);
    let mut needle_next = 0usize;
    while written < size {
        while active.len() < CONCURRENT {
            trace_number += 1;
            let id = format!("{:016x}{:016x}", random.next(), trace_number);
            let tenant = TENANTS[(random.next() % TENANTS.len() as u64) as usize];
            active.push((
                id,
                tenant,
                (random.next() % templates.len() as u64) as usize,
                0,
            ));
        }
        let slot = (random.next() % active.len() as u64) as usize;
        let (id, tenant, template, next) = active[slot].clone();
        clock += 0.005 + (random.next() % 1000) as f64 * 1e-5;
        let mut line = render(&templates[template][next], &id, tenant, clock, shape);
        if next + 1 >= templates[template].len() {
            active.swap_remove(slot);
        } else {
            active[slot].3 += 1;
        }
        // The needle's events go out at even intervals through the file.
        if needle_next < needle_template.len() && written >= needle_every * needle_next as u64 {
            let needle = render(&needle_template[needle_next], NEEDLE, "acme", clock, shape);
            line = format!("{needle}\n{line}");
            needle_next += 1;
        }
        written += line.len() as u64 + 1;
        writeln!(writer, "{line}").expect("write");
    }
    writer.flush().expect("flush");
    eprintln!(
        "wrote {} bytes, {} traces, shape {shape}, needle {NEEDLE} ({} events) to {}",
        written,
        trace_number,
        needle_next,
        out.display()
    );
}

/// The part of a captured line that is replayed as is, or a value filled in per replay.
enum Piece {
    Text(String),
    /// The kubectl prefix's pod name.
    Pod,
    TraceId,
    /// A node id, by its index in the capture's node ids: each replayed pod has its own.
    NodeId(usize),
    /// The event's `ts`, as Python prints a float.
    Ts,
    /// The log record's ISO 8601 time (`datetime.isoformat()`), a few µs after `ts`.
    Timestamp,
}

/// One captured line, cut into pieces, and its time from the trace's first event.
struct TemplateLine {
    pieces: Vec<Piece>,
    offset: f64,
}

struct TemplateTrace {
    lines: Vec<TemplateLine>,
    incident: bool,
}

/// The text of a JSON string or number value after `"key": ` in `line`, at or after `from`.
fn value_span(line: &str, key: &str, from: usize) -> Option<(usize, usize)> {
    let needle = format!("\"{key}\": ");
    let start = line[from..].find(&needle)? + from + needle.len();
    let rest = &line[start..];
    if let Some(string) = rest.strip_prefix('"') {
        let end = string.find('"')?;
        Some((start + 1, start + 1 + end))
    } else {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
            .unwrap_or(rest.len());
        Some((start, start + end))
    }
}

/// Cuts a captured `[pod/NAME/worker] {...}` line into pieces.
fn cut_line(line: &str, trace_id: &str, node_ids: &mut Vec<String>) -> Vec<Piece> {
    let mut spans: Vec<(usize, usize, Piece)> = Vec::new();
    let pod_start = "[pod/".len();
    let pod_end = pod_start + line[pod_start..].find('/').expect("kubectl prefix");
    spans.push((pod_start, pod_end, Piece::Pod));
    for (at, _) in line.match_indices(trace_id) {
        spans.push((at, at + trace_id.len(), Piece::TraceId));
    }
    let mut from = 0;
    while let Some((start, end)) = value_span(line, "node_id", from) {
        let id = &line[start..end];
        let index = node_ids
            .iter()
            .position(|known| known == id)
            .unwrap_or_else(|| {
                node_ids.push(id.to_string());
                node_ids.len() - 1
            });
        spans.push((start, end, Piece::NodeId(index)));
        from = end;
    }
    let (start, end) = value_span(line, "ts", 0).expect("ts");
    spans.push((start, end, Piece::Ts));
    let (start, end) = value_span(line, "timestamp", 0).expect("timestamp");
    spans.push((start, end, Piece::Timestamp));
    spans.sort_by_key(|span| span.0);
    let mut pieces = Vec::new();
    let mut at = 0;
    for (start, end, piece) in spans {
        if start < at {
            continue; // a trace id inside a span already taken
        }
        pieces.push(Piece::Text(line[at..start].to_string()));
        pieces.push(piece);
        at = end;
    }
    pieces.push(Piece::Text(line[at..].to_string()));
    pieces
}

/// The production capture's traces in the requested shape, and how many node ids it has.
fn production_templates(root: &Path, shape: &str) -> (Vec<TemplateTrace>, usize) {
    let dir = root.join("fixtures/production");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("fixtures/production"),
    )
    .expect("expected.json");
    let file = File::open(dir.join(format!("{shape}.log.gz"))).expect("shape flat|structured");
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    // Each trace's id and its lines with their `ts`.
    type CapturedTrace = (String, Vec<(f64, Vec<Piece>)>);
    let mut traces: Vec<CapturedTrace> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut node_ids = Vec::new();
    for line in reader.lines() {
        let line = line.expect("capture line");
        let json: Value = serde_json::from_str(&line[line.find('{').expect("json")..])
            .expect("capture line is JSON");
        let payload = json.get("extra").unwrap_or(&json);
        // Lines without a trace are the pods' shutdown (`node_cancelled` at `flow.stop()`).
        let Some(trace) = payload["trace_id"].as_str().map(str::to_string) else {
            continue;
        };
        let ts = payload["ts"].as_f64().expect("ts");
        let pieces = cut_line(&line, &trace, &mut node_ids);
        let slot = *index.entry(trace.clone()).or_insert_with(|| {
            traces.push((trace.clone(), Vec::new()));
            traces.len() - 1
        });
        traces[slot].1.push((ts, pieces));
    }
    let templates = traces
        .into_iter()
        .map(|(trace, lines)| {
            let first = lines[0].0;
            TemplateTrace {
                incident: expected["phase_of"][&trace] == "incident",
                lines: lines
                    .into_iter()
                    .map(|(ts, pieces)| TemplateLine {
                        pieces,
                        offset: ts - first,
                    })
                    .collect(),
            }
        })
        .collect();
    (templates, node_ids.len())
}

/// A replayed trace: its template, id, pod, start and next line.
struct Replay {
    template: usize,
    id: String,
    pod: usize,
    start: f64,
    next: usize,
}

/// `ts` as Python's `repr(float)` prints it (the shortest text that reads back the same).
fn python_float(value: f64) -> String {
    let text = format!("{value}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

fn write_line(
    line: &mut String,
    pieces: &[Piece],
    replay: &Replay,
    pods: &[String],
    node_ids: &[Vec<String>],
    ts: f64,
) {
    use std::fmt::Write as _;
    for piece in pieces {
        match piece {
            Piece::Text(text) => line.push_str(text),
            Piece::Pod => line.push_str(&pods[replay.pod]),
            Piece::TraceId => line.push_str(&replay.id),
            Piece::NodeId(index) => line.push_str(&node_ids[replay.pod][*index]),
            Piece::Ts => line.push_str(&python_float(ts)),
            Piece::Timestamp => {
                let micros = (ts * 1e6) as i64 + 23;
                let time = chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default();
                let _ = write!(line, "{}", time.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"));
            }
        }
    }
    line.push('\n');
}

/// The production profile: captured traces replayed by `pods` pods, about 48 in flight in
/// all, the captured incident's traces in the middle fifth of the file.
fn production(root: &Path, size: u64, shape: &str, pods: usize, out: &Path) {
    const IN_FLIGHT: usize = 48;
    let (templates, node_count) = production_templates(root, shape);
    let normal: Vec<usize> = (0..templates.len())
        .filter(|&t| !templates[t].incident)
        .collect();
    let incident: Vec<usize> = (0..templates.len())
        .filter(|&t| templates[t].incident)
        .collect();
    let mut random = Random(0x0f10_77ace);
    let pod_names: Vec<String> = (0..pods)
        .map(|_| format!("worker-7d9c5b6f4-{:05x}", random.next() % 0xfffff))
        .collect();
    let node_ids: Vec<Vec<String>> = (0..pods)
        .map(|_| {
            (0..node_count)
                .map(|_| format!("{:016x}{:016x}", random.next(), random.next()))
                .collect()
        })
        .collect();
    // The needle: a long normal trace whose lines go out at even intervals through the file.
    let needle_template = *normal
        .iter()
        .max_by_key(|&&t| templates[t].lines.len())
        .expect("templates");
    let needle_lines = templates[needle_template].lines.len();
    let needle_every = (size / (needle_lines as u64 + 1)).max(1);
    let needle = Replay {
        template: needle_template,
        id: NEEDLE.to_string(),
        pod: 0,
        start: 0.0,
        next: 0,
    };
    let mut writer = BufWriter::with_capacity(1 << 20, File::create(out).expect("output file"));
    let mut line = String::new();
    let mut written: u64 = 0;
    let mut clock = 1_796_000_000.0_f64;
    let mut traces: u64 = 0;
    let mut needle_next = 0;
    let mut replays: Vec<Replay> = Vec::new();
    // Next line time of each replay, earliest first (times in µs, to order floats).
    let mut due: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut free: Vec<usize> = Vec::new();
    while written < size {
        while replays.len() - free.len() < IN_FLIGHT {
            traces += 1;
            let in_incident = (written * 5 / size) == 2;
            let pool = if in_incident { &incident } else { &normal };
            let replay = Replay {
                template: pool[(random.next() % pool.len() as u64) as usize],
                id: format!("{:016x}{:016x}", random.next(), traces),
                pod: (random.next() % pods as u64) as usize,
                start: clock + (random.next() % 4000) as f64 * 1e-6,
                next: 0,
            };
            let slot = match free.pop() {
                Some(slot) => {
                    replays[slot] = replay;
                    slot
                }
                None => {
                    replays.push(replay);
                    replays.len() - 1
                }
            };
            due.push(Reverse(((replays[slot].start * 1e6) as u64, slot)));
        }
        let Reverse((_, slot)) = due.pop().expect("replays in flight");
        let replay = &mut replays[slot];
        let template = &templates[replay.template];
        let ts = replay.start + template.lines[replay.next].offset;
        clock = clock.max(ts);
        line.clear();
        write_line(
            &mut line,
            &template.lines[replay.next].pieces,
            replay,
            &pod_names,
            &node_ids,
            ts,
        );
        replay.next += 1;
        if replay.next < template.lines.len() {
            let next = replay.start + template.lines[replay.next].offset;
            due.push(Reverse(((next * 1e6) as u64, slot)));
        } else {
            free.push(slot);
        }
        if needle_next < needle_lines && written >= needle_every * needle_next as u64 {
            let pieces = &templates[needle_template].lines[needle_next].pieces;
            write_line(&mut line, pieces, &needle, &pod_names, &node_ids, clock);
            needle_next += 1;
        }
        written += line.len() as u64;
        writer.write_all(line.as_bytes()).expect("write");
    }
    writer.flush().expect("flush");
    eprintln!(
        "wrote {written} bytes, {traces} traces, {pods} pods, shape {shape}, needle {NEEDLE} \
         ({needle_next} events) to {}",
        out.display()
    );
}
