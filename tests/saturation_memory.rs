//! Saturation memory does not grow with the number of events: the peak heap use while
//! analyzing a synthetic million-event stream stays within twice that of a stream ten times
//! shorter (percentiles, buckets and open traces are all bounded). Measured by counting
//! allocations, not by timing.

use std::sync::atomic::Ordering;

use flowtrace::analysis::saturation::{SaturationAnalyzer, SaturationOptions};
use flowtrace::event::{Count, Event, Kind, Origin, Timestamp};

#[path = "common/counting.rs"]
mod counting;

use counting::{CURRENT, Counting, PEAK};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const NODES: [&str; 4] = ["source", "parse", "slowdb", "publish"];

/// Peak heap growth while analyzing `count` events of a steady flow: 100 events per second of
/// log time, 8 per trace (start and success at 4 nodes), latencies and depths varying.
fn peak_for(count: u64) -> usize {
    let input = "synthetic";
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let mut analyzer = SaturationAnalyzer::new(SaturationOptions::default());
    for index in 0..count {
        let trace = index / 8;
        let step = index % 8;
        let origin = Origin::Line { input, line: index };
        let kind = if step % 2 == 0 {
            Kind::NodeStart
        } else {
            Kind::NodeSuccess
        };
        let mut event = Event::new(
            Timestamp(1_700_000_000_000_000 + index as i64 * 10_000),
            kind,
            origin,
        );
        event.trace_id = Some(format!("{trace:032x}").into());
        event.node_name = Some(NODES[(step / 2) as usize].into());
        event.set_latency_ms(Some(((index * 7919) % 1000) as f64 / 10.0));
        event.set_count(Count::QDepthIn, Some((index % 5) as i64));
        event.set_count(Count::QDepthOut, Some((index % 3) as i64));
        event.set_count(Count::QDepthTotal, Some((index % 5 + index % 3) as i64));
        event.set_count(Count::QueueMaxsize, Some(4));
        event.set_count(Count::TracePending, Some(1 + (step % 3) as i64));
        analyzer.observe(&event);
    }
    let report = analyzer.finish();
    assert_eq!(report.span.events, count);
    PEAK.load(Ordering::Relaxed) - baseline
}

#[test]
fn peak_memory_does_not_grow_with_the_event_count() {
    let small = peak_for(100_000);
    let large = peak_for(1_000_000);
    // Ten times the events, less than twice the memory (the bucket count varies between
    // width levels), and far below what holding the events would take (~300 bytes each).
    assert!(
        (large as f64) < small as f64 * 2.0,
        "peak heap grew from {small} bytes (100k events) to {large} bytes (1M events)"
    );
    // Measured: 5.8 MB (7.1 MB before pending counts were kept in 40 bytes by 128-bit id).
    assert!(large < 13 << 19, "peak heap {large} bytes for 1M events");
}
