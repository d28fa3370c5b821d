//! One trace's attempts as bars in time (a waterfall): when each node's attempt started and how
//! it ended, the retry backoff between attempts, and the trace's terminal marks. Built from the
//! trace's events in time order, incrementally (the incident report keeps one per open trace)
//! or from `find`'s timeline.

use serde::Serialize;

use crate::event::{Event, Kind, Name, Timestamp};

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

impl Waterfall {
    /// One event of the trace, in time order.
    pub fn observe(&mut self, event: &Event) {
        self.first = Some(self.first.map_or(event.ts, |t| t.min(event.ts)));
        self.last = self.last.max(event.ts);
        let Some(node) = event.node_name.as_ref() else {
            if !matches!(event.kind, Kind::Other(_)) {
                self.mark(None, event);
            }
            return;
        };
        match event.kind {
            Kind::NodeStart => {
                // A start while one is open (a lost end) closes nothing: the older stays open
                // until an end of the node takes it.
                self.open
                    .push((Name::clone(node), event.ts, event.attempt()));
            }
            Kind::NodeSuccess | Kind::NodeTimeout | Kind::NodeError => {
                let outcome = match event.kind {
                    Kind::NodeSuccess => BarOutcome::Success,
                    Kind::NodeTimeout => BarOutcome::Timeout,
                    _ => BarOutcome::Error,
                };
                let (start, attempt) = match self.open.iter().position(|(n, ..)| n == node) {
                    Some(index) => {
                        let (_, start, attempt) = self.open.remove(index);
                        (start, attempt.or(event.attempt()))
                    }
                    // No start seen (a cut log, a sampled start): the latency says when.
                    None => (
                        Timestamp(
                            event.ts.0
                                - event
                                    .latency_ms()
                                    .map_or(0, |ms| (ms * 1000.0).round() as i64),
                        ),
                        event.attempt(),
                    ),
                };
                self.bar(Name::clone(node), start, event.ts, outcome, attempt);
            }
            Kind::NodeRetry => {
                if let Some(sleep_s) = event.sleep_s().filter(|s| *s > 0.0) {
                    let end = Timestamp(event.ts.0 + (sleep_s * 1e6).round() as i64);
                    self.bar(
                        Name::clone(node),
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
            | Kind::NodeCancelled => self.mark(Some(node), event),
            _ => {}
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

    fn mark(&mut self, node: Option<&Name>, event: &Event) {
        if self.marks.len() < MAX_MARKS {
            self.marks.push(Mark {
                node_name: node.cloned(),
                ts: event.ts,
                kind: event.kind.to_string(),
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
    use crate::event::Origin;

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

    #[test]
    fn an_end_without_its_start_is_drawn_from_its_latency() {
        let mut success = event(300, Kind::NodeSuccess, "llm");
        success.set_latency_ms(Some(250.0));
        let timeline = timeline_of(&[success], Timestamp(300_000));
        assert_eq!(timeline.bars[0].start, Timestamp(50_000));
    }
}
