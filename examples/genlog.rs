//! Generates a realistic, deterministic PenguiFlow log of any size for benchmarks, built from
//! the captured fixtures: the real traces of `fixtures/incident/` are the templates (their line
//! shapes, event mix, about 10 events per trace), replayed with fresh trace ids, tenants and
//! times, several traces interleaved as a busy worker logs them. One known needle trace
//! (`NEEDLE`) has its events spread through the file.
//!
//! cargo run --release --example genlog -- --size 1G --shape flat --out /tmp/flow-1g.log
//! cargo run --release --example genlog -- --size 100M --shape structured --out /tmp/s.log

use std::collections::HashMap;
use std::fs::File;
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
    let mut out = PathBuf::from("flow.log");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => size = parse_size(&args.next().expect("--size N")),
            "--shape" => shape = args.next().expect("--shape flat|structured"),
            "--out" => out = PathBuf::from(args.next().expect("--out FILE")),
            other => {
                let help = matches!(other, "-h" | "--help");
                if !help {
                    eprintln!("genlog: unknown argument {other}");
                }
                eprintln!(
                    "usage: genlog [--size 100M] [--shape flat|structured] [--out flow.log]\n\
                     Writes a deterministic PenguiFlow log built from fixtures/incident; the \
                     needle trace is {NEEDLE}."
                );
                std::process::exit(if help { 0 } else { 2 });
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let templates = templates(&root);
    let needle_template = templates
        .iter()
        .max_by_key(|t| t.len())
        .expect("templates")
        .clone();
    let mut random = Random(0x0f10_77ace);
    let mut writer = BufWriter::with_capacity(1 << 20, File::create(&out).expect("output file"));
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
        let mut line = render(&templates[template][next], &id, tenant, clock, &shape);
        if next + 1 >= templates[template].len() {
            active.swap_remove(slot);
        } else {
            active[slot].3 += 1;
        }
        // The needle's events go out at even intervals through the file.
        if needle_next < needle_template.len() && written >= needle_every * needle_next as u64 {
            let needle = render(&needle_template[needle_next], NEEDLE, "acme", clock, &shape);
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
