//! Micro-benchmarks (divan) of the hot paths: the line decoder on each shape, and the
//! analyses over the captured fixtures' events. `cargo bench --bench analyses`.
//! The end-to-end comparison with rg/jq/cat is `benches/compare.sh`.

use std::sync::Arc;

use divan::{Bencher, black_box};
use flowtrace::analysis::classify::{Classifier, GroupBy};
use flowtrace::analysis::saturation::{SaturationAnalyzer, SaturationOptions};
use flowtrace::analysis::tracebook::TraceBook;
use flowtrace::event::Event;
use flowtrace::source::decode::{Decoded, Names, decode_line};
use flowtrace::source::{EventStream, InputSpec, SourceOptions};

fn main() {
    divan::main();
}

fn fixture(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

fn first_event_line(relative: &str) -> String {
    std::fs::read_to_string(fixture(relative))
        .unwrap()
        .lines()
        .find(|line| line.contains("node_success"))
        .unwrap()
        .to_string()
}

#[divan::bench(args = ["incident/flat.jsonl", "incident/structured.jsonl", "incident/kubectl_prefix_timestamps.log"])]
fn decode(bencher: Bencher, shape: &str) {
    let line = first_event_line(shape);
    let mut names = Names::default();
    bencher
        .counter(divan::counter::BytesCount::new(line.len()))
        .bench_local(
            || match decode_line(black_box(line.as_bytes()), "bench", 1, &mut names) {
                Decoded::Event(event) => event,
                other => panic!("not an event: {other:?}"),
            },
        );
}

fn events(relative: &str) -> Vec<Event> {
    EventStream::open(SourceOptions {
        inputs: vec![InputSpec::File(fixture(relative))],
        store: None,
        strict: false,
        prefilter: Arc::new(|_| true),
        required: None,
        progress: false,
        sample_lines: 0,
        decode_threads: None,
        max_line_bytes: flowtrace::source::MAX_LINE_BYTES as usize,
        follow: None,
        inspector: None,
        batches_ahead: flowtrace::source::BATCHES_AHEAD,
    })
    .unwrap()
    .map(|event| *event)
    .collect()
}

#[divan::bench]
fn classify(bencher: Bencher) {
    let events = events("incident/flat.jsonl");
    bencher
        .counter(divan::counter::ItemsCount::new(events.len()))
        .bench(|| {
            let mut book = TraceBook::default();
            let mut classifier = Classifier::new(GroupBy::Node, false);
            for event in &events {
                for finished in book.observe(event, true) {
                    classifier.add_outcome(&finished);
                }
                classifier.observe(event);
            }
            for finished in book.finish() {
                classifier.add_outcome(&finished);
            }
            classifier.finish()
        });
}

#[divan::bench]
fn saturation(bencher: Bencher) {
    let events = events("saturation/flat.jsonl");
    bencher
        .counter(divan::counter::ItemsCount::new(events.len()))
        .bench(|| {
            let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
            for event in &events {
                analyzer.observe(event);
            }
            analyzer.finish()
        });
}
