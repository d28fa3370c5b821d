//! One trace's attempts as bars in time (a waterfall): when each node's attempt started and how
//! it ended, the retry backoff between attempts, and the trace's terminal marks. Built from the
//! trace's events in time order, incrementally (the incident report keeps one per open trace)
//! or from `find`'s timeline.

use serde::Serialize;

use crate::event::{Event, Kind, Name, NameIds, Timestamp};

/// Bars kept per trace, at most (a retry loop can run long); the rest are counted.
const MAX_BARS: usize = 100;
/// Marks kept per trace, at most.
const MAX_MARKS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BarOutcome {
    Success,
    Timeout,
    Error,
    /// Started and not ended by the end of the input.
    Running,
    /// The retry backoff the worker slept through (`sleep_s` of node_retry).
    Backoff,
}

/// One attempt (or backoff) of one node.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub node_name: Name,
    pub start: Timestamp,
    pub end: Timestamp,
    pub outcome: BarOutcome,
    pub attempt: Option<i64>,
}

/// A point event of the trace: node_failed, deadline_skip, a cancellation.
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    pub node_name: Option<Name>,
    pub ts: Timestamp,
    pub kind: String,
}

/// A trace's waterfall being built.
#[derive(Debug, Clone, Default)]
pub struct Waterfall {
    bars: Vec<Bar>,
    marks: Vec<Mark>,
    /// Attempts started and not yet ended: node, start, attempt number.
    open: Vec<(Name, Timestamp, Option<i64>)>,
    first: Option<Timestamp>,
    last: Timestamp,
    left_out: u64,
}

/// A trace's waterfall, finished.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub first_ts: Option<Timestamp>,
    pub last_ts: Timestamp,
    /// Bars in order of start.
    pub bars: Vec<Bar>,
    pub marks: Vec<Mark>,
    /// Bars and marks past the bounds, not drawn.
    pub left_out: u64,
}

/// What a waterfall reads of one event.
#[derive(Clone, Copy)]
struct Moment<'a> {
    ts: Timestamp,
    kind: &'a Kind,
    node: Option<&'a Name>,
    attempt: Option<i64>,
    /// An attempt's end: its latency in µs, rounded (where it began when its start was not
    /// seen). A retry: the backoff slept in µs, when it slept at all.
    micros: Option<i64>,
}

impl<'a> Moment<'a> {
    /// What `event` says to a waterfall; `None` when it adds no bar or mark (only times).
    fn of(event: &'a Event) -> Option<Moment<'a>> {
        let node = event.node_name.as_ref();
        let micros = match event.kind {
            Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError => {
                event.latency_ms().map(|ms| (ms * 1000.0).round() as i64)
            }
            Kind::NodeRetry => event
                .sleep_s()
                .filter(|s| *s > 0.0)
                .map(|s| (s * 1e6).round() as i64),
            _ => None,
        };
        let acts = match (node, &event.kind) {
            // Marked, a retry without its node too, whatever it slept.
            (None, kind) => !matches!(kind, Kind::Other(_)),
            // A backoff bar, when it slept.
            (Some(_), Kind::NodeRetry) => micros.is_some(),
            (Some(_), kind) => matches!(
                kind,
                Kind::NodeStart
                    | Kind::NodeSuccess
                    | Kind::NodeTimeout
                    | Kind::NodeError
                    | Kind::NodeFailed
                    | Kind::DeadlineSkip
                    | Kind::NodeTraceCancelled
                    | Kind::TraceCancelStart
                    | Kind::TraceCancelFinish
                    | Kind::TraceCancelDrop
                    | Kind::NodeCancelled
            ),
        };
        acts.then_some(Moment {
            ts: event.ts,
            kind: &event.kind,
            node,
            attempt: event.attempt(),
            micros,
        })
    }
}

impl Waterfall {
    /// One event of the trace, in time order.
    pub fn observe(&mut self, event: &Event) {
        self.first = Some(self.first.map_or(event.ts, |t| t.min(event.ts)));
        self.last = self.last.max(event.ts);
        if let Some(moment) = Moment::of(event) {
            self.take(moment);
        }
    }

    fn take(&mut self, moment: Moment<'_>) {
        let Some(node) = moment.node else {
            self.mark(None, moment);
            return;
        };
        match moment.kind {
            Kind::NodeStart => {
                // A start while one is open (a lost end) closes nothing: the older stays open
                // until an end of the node takes it.
                self.open
                    .push((Name::clone(node), moment.ts, moment.attempt));
            }
            Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError => {
                let outcome = match moment.kind {
                    Kind::NodeSuccess => BarOutcome::Success,
                    Kind::NodeTimeout => BarOutcome::Timeout,
                    _ => BarOutcome::Error,
                };
                let (start, attempt) = match self.open.iter().position(|(n, ..)| n == node) {
                    Some(index) => {
                        let (_, start, attempt) = self.open.remove(index);
                        (start, attempt.or(moment.attempt))
                    }
                    // No start seen (a cut log, a sampled start): the latency says when.
                    None => (
                        Timestamp(moment.ts.0.wrapping_sub(moment.micros.unwrap_or(0))),
                        moment.attempt,
                    ),
                };
                self.bar(Name::clone(node), start, moment.ts, outcome, attempt);
            }
            Kind::NodeRetry => {
                if let Some(slept) = moment.micros {
                    let end = Timestamp(moment.ts.0.wrapping_add(slept));
                    self.bar(
                        Name::clone(node),
                        moment.ts,
                        end,
                        BarOutcome::Backoff,
                        moment.attempt,
                    );
                }
            }
            _ => self.mark(Some(node), moment),
        }
    }

    fn bar(
        &mut self,
        node_name: Name,
        start: Timestamp,
        end: Timestamp,
        outcome: BarOutcome,
        attempt: Option<i64>,
    ) {
        if self.bars.len() < MAX_BARS {
            self.bars.push(Bar {
                node_name,
                start,
                end: end.max(start),
                outcome,
                attempt,
            });
        } else {
            self.left_out += 1;
        }
    }

    fn mark(&mut self, node: Option<&Name>, moment: Moment<'_>) {
        if self.marks.len() < MAX_MARKS {
            self.marks.push(Mark {
                node_name: node.cloned(),
                ts: moment.ts,
                kind: moment.kind.to_string(),
            });
        } else {
            self.left_out += 1;
        }
    }

    /// The waterfall at the end of the input (`end`): attempts still open run until then.
    pub fn finish(mut self, end: Timestamp) -> Timeline {
        for (node, start, attempt) in std::mem::take(&mut self.open) {
            self.bar(node, start, end.max(start), BarOutcome::Running, attempt);
        }
        self.bars
            .sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
        Timeline {
            first_ts: self.first,
            last_ts: self.last.max(end),
            bars: self.bars,
            marks: self.marks,
            left_out: self.left_out,
        }
    }
}

/// An open trace's events as its waterfall reads them, a few bytes each, for the incident
/// report, which holds one for every trace the trace book holds open (tens of thousands at
/// once in an incident): a [`Waterfall`] built as they came, its bars and open attempts of
/// 48 and 32 bytes, took four times the memory. Each event that adds a bar or a mark is a tag
/// (its kind, and which of the rest follow) and varints: its time from the first event's,
/// its node's id in the report's `nodes`, its attempt, its µs of latency or backoff.
#[derive(Debug, Clone)]
pub struct PackedEvents {
    origin: Timestamp,
    first: Timestamp,
    last: Timestamp,
    bytes: Vec<u8>,
}

const HAS_NODE: u8 = 0x20;
const HAS_ATTEMPT: u8 = 0x40;
const HAS_MICROS: u8 = 0x80;
const KIND_BITS: u8 = 0x1f;
const _: () = assert!(Kind::KNOWN.len() <= KIND_BITS as usize + 1);

impl PackedEvents {
    /// A trace whose first event is at `ts`.
    pub fn starting_at(ts: Timestamp) -> PackedEvents {
        PackedEvents {
            origin: ts,
            first: ts,
            last: ts,
            bytes: Vec::new(),
        }
    }

    /// One event of the trace, in time order; its node numbered in `nodes`.
    pub fn observe(&mut self, event: &Event, nodes: &mut NameIds) {
        self.first = self.first.min(event.ts);
        self.last = self.last.max(event.ts);
        let Some(moment) = Moment::of(event) else {
            return;
        };
        let Some(kind) = Kind::KNOWN.iter().position(|known| known == moment.kind) else {
            return;
        };
        let mut tag = kind as u8;
        tag |= if moment.node.is_some() { HAS_NODE } else { 0 };
        tag |= if moment.attempt.is_some() {
            HAS_ATTEMPT
        } else {
            0
        };
        tag |= if moment.micros.is_some() {
            HAS_MICROS
        } else {
            0
        };
        self.bytes.push(tag);
        put_signed(&mut self.bytes, moment.ts.0.wrapping_sub(self.origin.0));
        if let Some(node) = moment.node {
            put(&mut self.bytes, u64::from(nodes.intern(node).0));
        }
        if let Some(attempt) = moment.attempt {
            put_signed(&mut self.bytes, attempt);
        }
        if let Some(micros) = moment.micros {
            put_signed(&mut self.bytes, micros);
        }
    }

    /// The waterfall at the end of the input (`end`), as [`Waterfall::finish`] makes it.
    pub fn finish(&self, nodes: &NameIds, end: Timestamp) -> Timeline {
        let mut waterfall = Waterfall::default();
        let mut bytes = self.bytes.as_slice();
        while let Some((&tag, rest)) = bytes.split_first() {
            bytes = rest;
            let ts = Timestamp(self.origin.0.wrapping_add(take_signed(&mut bytes)));
            let node = (tag & HAS_NODE != 0).then(|| nodes.name(take(&mut bytes) as u32));
            let attempt = (tag & HAS_ATTEMPT != 0).then(|| take_signed(&mut bytes));
            let micros = (tag & HAS_MICROS != 0).then(|| take_signed(&mut bytes));
            waterfall.take(Moment {
                ts,
                kind: &Kind::KNOWN[usize::from(tag & KIND_BITS)],
                node,
                attempt,
                micros,
            });
        }
        waterfall.first = Some(self.first);
        waterfall.last = Waterfall::default().last.max(self.last);
        waterfall.finish(end)
    }
}

/// `value` as a LEB128 varint.
fn put(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push(value as u8 | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

/// `value` zigzagged (small magnitudes, either sign, in few bytes), as a varint.
fn put_signed(bytes: &mut Vec<u8>, value: i64) {
    put(bytes, ((value << 1) ^ (value >> 63)) as u64);
}

/// The varint at the start of `bytes`, which are moved past it (only what `put` wrote).
fn take(bytes: &mut &[u8]) -> u64 {
    let mut value = 0;
    let mut shift = 0;
    while let Some((&byte, rest)) = bytes.split_first() {
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
        shift += 7;
    }
    value
}

fn take_signed(bytes: &mut &[u8]) -> i64 {
    let value = take(bytes);
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// The waterfall of a trace's events (in time order), at the end of the input `end`.
pub fn timeline_of<'a>(events: impl IntoIterator<Item = &'a Event>, end: Timestamp) -> Timeline {
    let mut waterfall = Waterfall::default();
    for event in events {
        waterfall.observe(event);
    }
    waterfall.finish(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Count, Origin};

    fn event(ms: i64, kind: Kind, node: &str) -> Event {
        let origin = Origin::Line {
            input: "test",
            line: 1,
        };
        let mut event = Event::new(Timestamp(ms * 1000), kind, origin);
        event.node_name = Some(Name::from(node));
        event
    }

    #[test]
    fn attempts_backoff_and_a_running_attempt_become_bars() {
        let mut timeout = event(110, Kind::NodeTimeout, "retrieve");
        timeout.set_latency_ms(Some(100.0));
        let mut retry = event(111, Kind::NodeRetry, "retrieve");
        retry.set_sleep_s(Some(0.05));
        let events = [
            event(0, Kind::NodeStart, "triage"),
            event(5, Kind::NodeSuccess, "triage"),
            event(10, Kind::NodeStart, "retrieve"),
            timeout,
            retry,
            event(161, Kind::NodeStart, "retrieve"),
        ];
        let timeline = timeline_of(&events, Timestamp(500_000));
        let shape: Vec<(&str, i64, i64, BarOutcome)> = timeline
            .bars
            .iter()
            .map(|b| (&*b.node_name, b.start.0 / 1000, b.end.0 / 1000, b.outcome))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("triage", 0, 5, BarOutcome::Success),
                ("retrieve", 10, 110, BarOutcome::Timeout),
                ("retrieve", 111, 161, BarOutcome::Backoff),
                ("retrieve", 161, 500, BarOutcome::Running),
            ]
        );
    }

    /// The waterfall as it was drawn before events were packed, kept apart from the code it
    /// checks: the original `Waterfall::observe`, its bar and mark bounds included.
    fn reference_timeline(events: &[Event], end: Timestamp) -> Timeline {
        let mut w = Waterfall::default();
        let bar = |w: &mut Waterfall, node: &Name, start, end: Timestamp, outcome, attempt| {
            if w.bars.len() < MAX_BARS {
                let end = end.max(start);
                let node_name = Name::clone(node);
                w.bars.push(Bar {
                    node_name,
                    start,
                    end,
                    outcome,
                    attempt,
                });
            } else {
                w.left_out += 1;
            }
        };
        let mark = |w: &mut Waterfall, node: Option<&Name>, event: &Event| {
            if w.marks.len() < MAX_MARKS {
                let kind = event.kind.to_string();
                let node_name = node.cloned();
                w.marks.push(Mark {
                    node_name,
                    ts: event.ts,
                    kind,
                });
            } else {
                w.left_out += 1;
            }
        };
        for event in events {
            w.first = Some(w.first.map_or(event.ts, |t| t.min(event.ts)));
            w.last = w.last.max(event.ts);
            let Some(node) = event.node_name.as_ref() else {
                if !matches!(event.kind, Kind::Other(_)) {
                    mark(&mut w, None, event);
                }
                continue;
            };
            match event.kind {
                Kind::NodeStart => w.open.push((Name::clone(node), event.ts, event.attempt())),
                Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError => {
                    let outcome = match event.kind {
                        Kind::NodeSuccess => BarOutcome::Success,
                        Kind::NodeTimeout => BarOutcome::Timeout,
                        _ => BarOutcome::Error,
                    };
                    let (start, attempt) = match w.open.iter().position(|(n, ..)| n == node) {
                        Some(index) => {
                            let (_, start, attempt) = w.open.remove(index);
                            (start, attempt.or(event.attempt()))
                        }
                        None => {
                            let micros = event
                                .latency_ms()
                                .map_or(0, |ms| (ms * 1000.0).round() as i64);
                            (Timestamp(event.ts.0.wrapping_sub(micros)), event.attempt())
                        }
                    };
                    bar(&mut w, node, start, event.ts, outcome, attempt);
                }
                Kind::NodeRetry => {
                    if let Some(sleep_s) = event.sleep_s().filter(|s| *s > 0.0) {
                        let end =
                            Timestamp(event.ts.0.wrapping_add((sleep_s * 1e6).round() as i64));
                        bar(
                            &mut w,
                            node,
                            event.ts,
                            end,
                            BarOutcome::Backoff,
                            event.attempt(),
                        );
                    }
                }
                Kind::NodeFailed
                | Kind::DeadlineSkip
                | Kind::NodeTraceCancelled
                | Kind::TraceCancelStart
                | Kind::TraceCancelFinish
                | Kind::TraceCancelDrop
                | Kind::NodeCancelled => mark(&mut w, Some(node), event),
                _ => {}
            }
        }
        w.finish(end)
    }

    /// Packed and read back, a trace's events draw the waterfall they draw as they come:
    /// events out of time order and before 1970, ends without starts, retries that slept or
    /// not, latencies and attempts of every size (NaN and infinities too), unnamed marks,
    /// unknown kinds, more bars and marks than are kept.
    #[test]
    fn packed_events_draw_the_waterfall_the_events_draw() {
        let kinds = [
            Kind::NodeStart,
            Kind::NodeSuccess,
            Kind::NodeTimeout,
            Kind::NodeError,
            Kind::NodeRetry,
            Kind::NodeFailed,
            Kind::DeadlineSkip,
            Kind::TraceCancelStart,
            Kind::RemoteCallStart,
            Kind::Other(Name::from("custom_step")),
        ];
        let floats = [
            None,
            Some(0.0),
            Some(-3.5),
            Some(0.25),
            Some(812.125),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(-f64::INFINITY),
            Some(1e300),
        ];
        let attempts = [
            None,
            Some(0),
            Some(3),
            Some(-1),
            Some(i64::MAX),
            Some(i64::MIN),
        ];
        for seed in 1..=40_u64 {
            let mut random = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let mut next = move |below: usize| {
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                (random % below as u64) as usize
            };
            let start_ms = [0_i64, -86_400_000, 1_760_000_000_000][next(3)];
            let events: Vec<Event> = (0..next(700))
                .map(|index| {
                    let ms = start_ms + index as i64 * 7 - next(50) as i64;
                    let origin = Origin::Line {
                        input: "test",
                        line: 1,
                    };
                    let kind = kinds[next(kinds.len())].clone();
                    let mut event = Event::new(Timestamp(ms * 1000), kind, origin);
                    event.node_name = ["ingest", "llm", "store", ""]
                        .get(next(5))
                        .map(|node| Name::from(*node));
                    event.set_latency_ms(floats[next(floats.len())]);
                    event.set_sleep_s(floats[next(floats.len())]);
                    event.set_count(Count::Attempt, attempts[next(attempts.len())]);
                    event
                })
                .collect();
            let mut nodes = NameIds::default();
            let mut packed = events
                .first()
                .map(|event| PackedEvents::starting_at(event.ts));
            for event in &events {
                if let Some(packed) = &mut packed {
                    packed.observe(event, &mut nodes);
                }
            }
            for end in [Timestamp(start_ms * 1000 + 1_000), Timestamp(i64::MIN)] {
                let expected = reference_timeline(&events, end);
                assert_eq!(
                    format!("{:?}", timeline_of(&events, end)),
                    format!("{expected:?}"),
                    "seed {seed}"
                );
                let Some(packed) = &packed else {
                    assert!(expected.bars.is_empty() && expected.marks.is_empty());
                    continue;
                };
                assert_eq!(
                    format!("{:?}", packed.finish(&nodes, end)),
                    format!("{expected:?}"),
                    "seed {seed}"
                );
            }
        }
    }

    /// A node's attempt, start and end, takes a few bytes a trace holds, not a bar of 48.
    #[test]
    fn a_packed_attempt_takes_a_few_bytes() {
        let mut nodes = NameIds::default();
        let mut packed = PackedEvents::starting_at(Timestamp(1_760_000_000_000_000));
        for (index, node) in ["ingest", "retrieve", "llm", "format", "store", "reply"]
            .iter()
            .enumerate()
        {
            let mut start = event(
                1_760_000_000_000 + index as i64 * 400,
                Kind::NodeStart,
                node,
            );
            start.set_count(Count::Attempt, Some(0));
            let mut success = event(
                1_760_000_000_350 + index as i64 * 400,
                Kind::NodeSuccess,
                node,
            );
            success.set_count(Count::Attempt, Some(0));
            success.set_latency_ms(Some(349.872));
            packed.observe(&start, &mut nodes);
            packed.observe(&success, &mut nodes);
        }
        assert_eq!(packed.finish(&nodes, Timestamp(0)).bars.len(), 6);
        assert!(packed.bytes.len() <= 6 * 16, "{} bytes", packed.bytes.len());
    }

    /// An event without its node is a mark whatever its kind says, a retry that slept not at
    /// all too (a review found the first cut of the packed events dropped it).
    #[test]
    fn a_retry_without_its_node_is_a_mark() {
        let mut retry = event(100, Kind::NodeRetry, "x");
        retry.node_name = None;
        let mut slept = retry.clone();
        slept.set_sleep_s(Some(0.5));
        for retry in [retry, slept] {
            let timeline = timeline_of(std::slice::from_ref(&retry), Timestamp(200_000));
            assert_eq!(timeline.marks.len(), 1, "{retry:?}");
            assert_eq!(timeline.marks[0].kind, "node_retry");
            assert!(timeline.bars.is_empty());
            let mut nodes = NameIds::default();
            let mut packed = PackedEvents::starting_at(retry.ts);
            packed.observe(&retry, &mut nodes);
            assert_eq!(
                format!("{:?}", packed.finish(&nodes, Timestamp(200_000))),
                format!("{timeline:?}")
            );
        }
    }

    #[test]
    fn an_end_without_its_start_is_drawn_from_its_latency() {
        let mut success = event(300, Kind::NodeSuccess, "llm");
        success.set_latency_ms(Some(250.0));
        let timeline = timeline_of(&[success], Timestamp(300_000));
        assert_eq!(timeline.bars[0].start, Timestamp(50_000));
    }
}
