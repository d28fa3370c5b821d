//! A node's own latency over time, and the rule that calls it a steady rise: a dependency
//! degrading gradually until its calls cross `timeout_s`.
//!
//! Successes that waited to hand their output over measure the node after them, not the node
//! (`waited_to_hand_over`). A timed-out attempt is a censored latency: it took at least the
//! cut, so once most attempts time out the node's latency is only known to be at or above
//! `timeout_s`, and the p95 of its successes (never longer than the cut) says nothing about
//! how slow it has become. The curve keeps both, per time bucket, in bounded memory.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{Event, Kind, Timestamp};

/// Buckets kept per node at most; past this the width doubles and neighbours merge.
const MAX_CURVE_BUCKETS: usize = 256;
/// The first bucket width (µs); it doubles as the span grows.
const FIRST_WIDTH_MICROS: i64 = 1_000;
/// The node's span is cut into this many equal steps to compare.
const TREND_STEPS: usize = 8;
/// Attempts (successes and timeouts) a step needs to count.
const MIN_STEP_ATTEMPTS: u64 = 3;
/// Own-work successes a node needs in all for a trend.
const MIN_TREND_SUCCESSES: u64 = 20;
/// Steps with a measured (uncensored) level needed.
const MIN_MEASURED_STEPS: usize = 3;
/// A step rises when its level is at least this times the previous one's; it dips when it is
/// below `DIP` times it (noise of a mean over a few attempts stays within).
const RISE: f64 = 1.15;
const DIP: f64 = 0.85;
/// Rising steps needed: a rise spread over time, not one jump (a deploy, a failover).
const MIN_RISES: usize = 3;
/// The last level against the first.
const MIN_GROWTH: f64 = 2.0;
/// Traffic is steady when the busiest measured step took at most this times the quietest's
/// messages.
const STEADY_TRAFFIC: f64 = 1.5;

/// The share of one edge's capacity at which an outbound reading counts as a hand-over wait:
/// the reading comes after the put, and a consumer may have taken a message or two meanwhile
/// (a sender blocked on a 64-deep queue logs its success at 62 or 63).
const WAITED_SHARE: f64 = 0.8;

/// An outbound reading at every outgoing edge's capacity (`q_depth_out` sums the edges): all
/// of them full, the strict reading; `waited_to_hand_over` is the one-edge, after-the-put one.
pub fn outbound_full(event: &Event) -> bool {
    matches!(
        (event.q_depth_out(), event.queue_maxsize()),
        (Some(out), Some(capacity))
            if capacity > 0 && out >= capacity.saturating_mul(event.outgoing().unwrap_or(1).max(1))
    )
}

/// A success or timeout that waited to hand the node's output over: its outbound queue was at
/// (nearly) one edge's capacity (PenguiFlow puts to each outgoing edge in turn, so one full
/// edge blocks the node; `q_depth_out` sums the edges). Its latency measures the node after
/// it, not the node.
pub fn waited_to_hand_over(event: &Event) -> bool {
    matches!(
        (event.q_depth_out(), event.queue_maxsize()),
        (Some(out), Some(capacity)) if capacity > 0 && out > 0 && out as f64 >= WAITED_SHARE * capacity as f64
    )
}

#[derive(Debug, Clone, Copy, Default)]
struct CurveBucket {
    /// First attempts taken (messages).
    messages: u64,
    successes: u64,
    success_ms: f64,
    timeouts: u64,
    timeout_ms_max: f64,
}

impl CurveBucket {
    fn merge(&mut self, other: &CurveBucket) {
        self.messages += other.messages;
        self.successes += other.successes;
        self.success_ms += other.success_ms;
        self.timeouts += other.timeouts;
        self.timeout_ms_max = self.timeout_ms_max.max(other.timeout_ms_max);
    }
}

/// One node's own-work latency over time: successes that did not wait to hand over, and
/// timed-out attempts (censored at their cut), per time bucket.
#[derive(Debug, Clone, Default)]
pub struct LatencyCurve {
    width: i64,
    buckets: BTreeMap<i64, CurveBucket>,
    /// The bucket events are falling in now, kept out of the map until the next one starts:
    /// events come in time order, and a map entry per event was most of the curve's cost.
    current: Option<(i64, CurveBucket)>,
    /// The time span of `current` (micros, end exclusive): an event inside it falls in it
    /// without a division (most do).
    current_span: (i64, i64),
    /// The first and last event counted: the span the steps cut.
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    first_timeout: Option<Timestamp>,
    last_success: Option<Timestamp>,
}

impl LatencyCurve {
    /// Takes one event of the node.
    pub fn add(&mut self, event: &Event) {
        let counted = match event.kind {
            Kind::NodeStart => event.attempt().unwrap_or(0) == 0,
            Kind::NodeSuccess | Kind::NodeTimeout => {
                event.latency_ms().is_some() && !waited_to_hand_over(event)
            }
            _ => false,
        };
        if !counted {
            return;
        }
        if self.width == 0 {
            self.width = FIRST_WIDTH_MICROS;
        }
        self.first = Some(self.first.map_or(event.ts, |t| t.min(event.ts)));
        self.last = Some(self.last.map_or(event.ts, |t| t.max(event.ts)));
        let ts = event.ts.0;
        let (starts, ends) = self.current_span;
        if self.current.is_none() || ts < starts || ts >= ends {
            let key = ts.div_euclid(self.width);
            let key = match &self.current {
                Some((current, _)) if *current == key => key,
                _ => {
                    self.put_current_away();
                    // Putting it away may have widened the buckets.
                    let key = ts.div_euclid(self.width);
                    self.current = Some((key, CurveBucket::default()));
                    key
                }
            };
            // Past i64 (a time near its end): an empty span, and the division each time.
            self.current_span = key
                .checked_mul(self.width)
                .and_then(|starts| Some((starts, starts.checked_add(self.width)?)))
                .unwrap_or((0, 0));
        }
        let Some((_, bucket)) = self.current.as_mut() else {
            return;
        };
        let latency = event.latency_ms().unwrap_or(0.0).max(0.0);
        match event.kind {
            Kind::NodeStart => bucket.messages += 1,
            Kind::NodeSuccess => {
                bucket.successes += 1;
                bucket.success_ms += latency;
                self.last_success = Some(self.last_success.map_or(event.ts, |t| t.max(event.ts)));
            }
            _ => {
                bucket.timeouts += 1;
                bucket.timeout_ms_max = bucket.timeout_ms_max.max(latency);
                self.first_timeout = Some(self.first_timeout.map_or(event.ts, |t| t.min(event.ts)));
            }
        }
    }

    /// Moves the current bucket into the map, widening the buckets past `MAX_CURVE_BUCKETS`.
    fn put_current_away(&mut self) {
        let Some((key, bucket)) = self.current.take() else {
            return;
        };
        self.buckets.entry(key).or_default().merge(&bucket);
        while self.buckets.len() > MAX_CURVE_BUCKETS {
            self.width = self.width.saturating_mul(2);
            let mut wider: BTreeMap<i64, CurveBucket> = BTreeMap::new();
            for (key, bucket) in std::mem::take(&mut self.buckets) {
                wider.entry(key.div_euclid(2)).or_default().merge(&bucket);
            }
            self.buckets = wider;
        }
    }

    /// The curve cut into `TREND_STEPS` equal steps of its span, empty ones included.
    fn steps(&self) -> Vec<TrendStep> {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return Vec::new();
        };
        let from = first.0;
        let span = last.0.saturating_sub(from).saturating_add(1);
        let steps = TREND_STEPS as i64;
        let mut merged = vec![CurveBucket::default(); TREND_STEPS];
        for (key, bucket) in self
            .buckets
            .iter()
            .chain(self.current.as_ref().map(|(key, bucket)| (key, bucket)))
        {
            // A bucket starting before the first event belongs to the first step.
            let offset = key.saturating_mul(self.width).saturating_sub(from).max(0);
            let index = (offset as i128 * steps as i128 / span as i128).clamp(0, steps as i128 - 1);
            merged[index as usize].merge(bucket);
        }
        merged
            .iter()
            .enumerate()
            .map(|(index, bucket)| {
                let edge = |i: i64| {
                    Timestamp(
                        from.saturating_add((span as i128 * i as i128 / steps as i128) as i64),
                    )
                };
                let attempts = bucket.successes + bucket.timeouts;
                // Most attempts cut by the timeout: the level is only known to be at least it.
                let censored = bucket.timeouts > 0
                    && bucket.timeouts * 2 >= bucket.successes + bucket.timeouts;
                TrendStep {
                    from: edge(index as i64),
                    to: edge(index as i64 + 1),
                    messages: bucket.messages,
                    successes: bucket.successes,
                    mean_ms: (bucket.successes > 0)
                        .then(|| bucket.success_ms / bucket.successes as f64),
                    timeouts: bucket.timeouts,
                    level_ms: match attempts {
                        n if n < MIN_STEP_ATTEMPTS => None,
                        _ if censored => Some(bucket.timeout_ms_max),
                        _ => Some(bucket.success_ms / bucket.successes as f64),
                    },
                    censored,
                }
            })
            .collect()
    }

    /// The steady rise of the node's own latency, if it had one (see `LatencyTrend`).
    pub fn trend(&self) -> Option<LatencyTrend> {
        let steps = self.steps();
        let successes: u64 = steps.iter().map(|s| s.successes).sum();
        if successes < MIN_TREND_SUCCESSES {
            return None;
        }
        let levels: Vec<(usize, f64)> = steps
            .iter()
            .enumerate()
            .filter_map(|(index, step)| step.level_ms.map(|level| (index, level)))
            .collect();
        let measured: Vec<&TrendStep> = steps
            .iter()
            .filter(|s| s.level_ms.is_some() && !s.censored)
            .collect();
        if measured.len() < MIN_MEASURED_STEPS || levels.len() < MIN_MEASURED_STEPS + 1 {
            return None;
        }
        let pairs = levels.windows(2).map(|pair| (pair[0].1, pair[1].1));
        let (mut rises, mut dips) = (0, 0);
        for (before, after) in pairs {
            if after >= RISE * before {
                rises += 1;
            } else if after < DIP * before {
                dips += 1;
            }
        }
        let (first, last) = (levels[0].1, levels[levels.len() - 1].1);
        if dips > 0 || rises < MIN_RISES || first <= 0.0 || last < MIN_GROWTH * first {
            return None;
        }
        // Doubling time: a least-squares line through ln(mean) of the measured steps.
        let points: Vec<(f64, f64)> = measured
            .iter()
            .filter_map(|step| {
                let mid = (step.from.0 + step.to.0) as f64 / 2e6;
                step.mean_ms.filter(|m| *m > 0.0).map(|m| (mid, m.ln()))
            })
            .collect();
        let n = points.len() as f64;
        let (mx, my) = (
            points.iter().map(|p| p.0).sum::<f64>() / n,
            points.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(sxy, sxx), (x, y)| {
            (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx))
        });
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let messages: Vec<u64> = measured.iter().map(|s| s.messages).collect();
        let (quietest, busiest) = (
            messages.iter().copied().min().unwrap_or(0),
            messages.iter().copied().max().unwrap_or(0),
        );
        let timeouts: u64 = steps.iter().map(|s| s.timeouts).sum();
        Some(LatencyTrend {
            growth: last / first,
            doubling_s: (slope > 0.0).then(|| std::f64::consts::LN_2 / slope),
            steady_traffic: quietest > 0 && busiest as f64 <= STEADY_TRAFFIC * quietest as f64,
            timeouts,
            timeout_ms: steps
                .iter()
                .filter(|s| s.timeouts > 0 && s.censored)
                .filter_map(|s| s.level_ms)
                .reduce(f64::max),
            first_timeout: self.first_timeout,
            last_success: self.last_success,
            steps,
        })
    }
}

/// One step of a node's span: its own-work latency there.
#[derive(Debug, Clone, Serialize)]
pub struct TrendStep {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Messages taken (first attempts), successes that did not wait to hand over, their mean
    /// latency, and attempts that timed out.
    pub messages: u64,
    pub successes: u64,
    pub mean_ms: Option<f64>,
    pub timeouts: u64,
    /// The step's latency: its successes' mean, or the cut when most attempts timed out
    /// (`censored`: at least that); null with too few attempts to say.
    pub level_ms: Option<f64>,
    pub censored: bool,
}

/// A node whose own latency rose steadily over the input: in at least `MIN_RISES` steps, never
/// falling back, to at least twice its first level. A regression of the node or of what it
/// calls (a dependency degrading), not its traffic when `steady_traffic`. Its timeouts, when
/// the rise crossed `timeout_s`, are the consequence.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyTrend {
    pub steps: Vec<TrendStep>,
    /// The last step's level over the first's (a lower bound when the last is censored).
    pub growth: f64,
    /// The time its latency took to double, fitted over the measured steps.
    pub doubling_s: Option<f64>,
    /// The node took about as many messages in each measured step.
    pub steady_traffic: bool,
    /// Attempts that timed out (not waiting to hand over), the cut, the first of them and
    /// the node's last success.
    pub timeouts: u64,
    pub timeout_ms: Option<f64>,
    pub first_timeout: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
}

impl LatencyTrend {
    /// The rise ended in timeouts: its attempts reached `timeout_s`.
    pub fn crossed_timeout(&self) -> bool {
        self.timeout_ms.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Count;

    #[test]
    fn outbound_full_means_every_outgoing_edge_full_and_survives_hostile_numbers() {
        let reading = |out: i64, capacity: i64, outgoing: Option<i64>| {
            let mut event = crate::event::test_event(0, "t", "n", Kind::NodeStart);
            event.set_count(Count::QDepthOut, Some(out));
            event.set_count(Count::QueueMaxsize, Some(capacity));
            event.set_count(Count::Outgoing, outgoing);
            outbound_full(&event)
        };
        assert!(reading(16, 16, None) && reading(16, 16, Some(1)));
        // Two edges of 16: one full edge (16) is not both full.
        assert!(!reading(16, 16, Some(2)) && reading(32, 16, Some(2)));
        assert!(!reading(5, 0, Some(1)), "no capacity, no reading");
        // A hostile line cannot overflow the product (it saturates).
        assert!(!reading(i64::MAX - 1, i64::MAX, Some(i64::MAX)));
        assert!(reading(i64::MAX, i64::MAX, Some(i64::MAX)));
    }

    /// A curve of one attempt every 100 ms for `seconds`, each taking `latency(s)` ms, cut
    /// at `cut` ms when given.
    fn curve(seconds: i64, cut: Option<f64>, latency: impl Fn(f64) -> f64) -> LatencyCurve {
        let mut curve = LatencyCurve::default();
        for i in 0..seconds * 10 {
            let ms = i * 100;
            let mut start = crate::event::test_event(ms, &format!("t{i}"), "n", Kind::NodeStart);
            start.set_count(Count::Attempt, Some(0));
            curve.add(&start);
            let took = latency(ms as f64 / 1000.0);
            let timed_out = cut.is_some_and(|cut| took >= cut);
            let kind = if timed_out {
                Kind::NodeTimeout
            } else {
                Kind::NodeSuccess
            };
            let mut end = crate::event::test_event(ms + 50, &format!("t{i}"), "n", kind);
            end.set_latency_ms(Some(if timed_out { cut.unwrap() } else { took }));
            end.set_count(Count::QDepthOut, Some(0));
            end.set_count(Count::QueueMaxsize, Some(10));
            curve.add(&end);
        }
        curve
    }

    #[test]
    fn a_latency_doubling_every_10_s_until_the_timeout_is_a_steady_rise() {
        let trend = curve(40, Some(250.0), |s| 40.0 * 2f64.powf(s / 10.0))
            .trend()
            .expect("a steady rise");
        assert!(trend.crossed_timeout());
        assert!(trend.steady_traffic);
        let doubling = trend.doubling_s.unwrap();
        assert!((doubling - 10.0).abs() < 1.5, "{doubling}");
        assert!(trend.steps.last().unwrap().censored);
    }

    #[test]
    fn one_jump_a_spell_that_recovers_and_noise_are_not() {
        // A deploy: 40 ms, then 200 ms from the middle on.
        assert!(
            curve(40, None, |s| if s < 20.0 { 40.0 } else { 200.0 })
                .trend()
                .is_none()
        );
        // A slow spell in the middle, over.
        assert!(
            curve(40, None, |s| if (15.0..25.0).contains(&s) {
                200.0
            } else {
                40.0
            })
            .trend()
            .is_none()
        );
        // A dependency that hangs on most calls from the start: every step cut.
        assert!(curve(40, Some(50.0), |_| 1000.0).trend().is_none());
        // Flat.
        assert!(
            curve(40, None, |s| 40.0 + (s * 7.0).sin())
                .trend()
                .is_none()
        );
    }

    #[test]
    fn waits_to_hand_over_are_not_the_node_s_work() {
        let mut curve = LatencyCurve::default();
        for i in 0..40 {
            let mut success =
                crate::event::test_event(i * 1000, &format!("t{i}"), "n", Kind::NodeSuccess);
            // Waits growing behind a full queue (9 of 10): the node after it, not this one.
            success.set_latency_ms(Some(5.0 + (i * i) as f64));
            success.set_count(Count::QDepthOut, Some(9));
            success.set_count(Count::QueueMaxsize, Some(10));
            curve.add(&success);
        }
        assert!(curve.trend().is_none());
    }
}
