//! Pressure episodes: when a node's inbound queue was full, in stretches cut where it stayed
//! below full for a while, and when a sink was blocked handing its output to a full egress.
//!
//! One first-to-last window over a whole input blends separate episodes (a slow spell of one
//! node, a calm, a slow spell of another) into one; and a node blocked handing its output over
//! logs nothing while it waits, so its readings show only the instant the wait ended. The
//! stretches are kept per instance (bounded), with exact depth counts so the full level (known
//! only once the graph says how many edges a queue sums) can be applied at the end.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::Timestamp;

use super::DepthSeen;
use crate::event::TraceKey;

/// Readings below full for this long (and no hand-over wait) cut a node's pressure into
/// separate stretches.
pub(super) const STRETCH_GAP_MICROS: i64 = 1_000_000;
/// Stretches (and blocked spells) kept per instance, at most: past this the two closest merge.
const MAX_STRETCHES: usize = 32;

/// One stretch of an instance's inbound readings at or above the lowest full level.
#[derive(Debug, Clone)]
struct Stretch {
    first: Timestamp,
    last: Timestamp,
    /// Readings at or above the lowest full level, by depth (exact, as `QueueReadings::q_in`).
    depths: BTreeMap<i64, DepthSeen>,
    /// Inbound readings from its first to its last full one, and those of them with the
    /// outbound queue at one edge's full level.
    readings: u64,
    out_full: u64,
    /// Its time (µs, each reading's state held until the next one) with the inbound queue
    /// full and the outbound not, and with the outbound full: a node draining a backlog into
    /// a full queue reads often, a slow one seldom, so time says what readings do not.
    own_micros: i64,
    out_full_micros: i64,
}

/// Attempts that started with the node's output queue already full (all its edges): each
/// waited to hand its output over for most of its duration. Merged when they follow each
/// other within `STRETCH_GAP_MICROS`.
#[derive(Debug, Clone)]
pub(super) struct BlockedSpell {
    /// The first blocked attempt's start, the last one's end.
    pub first: Timestamp,
    pub last: Timestamp,
    /// Their durations summed (s), and how many.
    pub blocked_s: f64,
    pub attempts: u64,
    /// The longest of them.
    pub longest: BlockedAttempt,
    /// The latest reading before the first one with the output queue empty: it has not been
    /// drained since.
    pub empty_before: Option<Timestamp>,
}

/// One attempt that waited to hand its output over.
#[derive(Debug, Clone)]
pub(super) struct BlockedAttempt {
    pub trace: TraceKey,
    pub start: Timestamp,
    pub end: Timestamp,
    pub ms: f64,
    /// Its output queue at its node_start.
    pub q_depth_out: i64,
}

/// An instance's pressure over time, as it is read.
#[derive(Debug, Clone, Default)]
pub(super) struct Pressure {
    stretches: Vec<Stretch>,
    /// Readings since the current stretch's last full one, not yet known to be inside it.
    pending_readings: u64,
    pending_out_full: u64,
    pending_own_micros: i64,
    pending_out_full_micros: i64,
    /// The latest reading: its time, whether the inbound and the outbound queue were full.
    last: Option<(Timestamp, bool, bool)>,
    blocked: Vec<BlockedSpell>,
    /// The latest reading with the output queue empty.
    last_out_empty: Option<Timestamp>,
}

impl Pressure {
    /// One queue reading: `full` when the inbound one is at the lowest full level (one edge),
    /// `out_full` when the outbound one is at one edge's.
    pub fn reading(&mut self, ts: Timestamp, q_in: i64, full: bool, out_full: bool) {
        let near = self
            .stretches
            .last()
            .is_some_and(|s| ts.0.saturating_sub(s.last.0) < STRETCH_GAP_MICROS);
        // The time since the previous reading, in that reading's state.
        let (own, out) = match self.last.replace((ts, full, out_full)) {
            Some((previous, was_full, was_out_full)) => {
                let held = ts.0.saturating_sub(previous.0).max(0);
                (
                    if was_full && !was_out_full { held } else { 0 },
                    if was_out_full { held } else { 0 },
                )
            }
            None => (0, 0),
        };
        if !full {
            if near {
                self.pending_readings += 1;
                self.pending_out_full += u64::from(out_full);
                self.pending_own_micros += own;
                self.pending_out_full_micros += out;
            }
            return;
        }
        if near {
            let stretch = self.stretches.last_mut().expect("near a stretch");
            stretch.readings += self.pending_readings + 1;
            stretch.out_full += self.pending_out_full + u64::from(out_full);
            stretch.own_micros += self.pending_own_micros + own;
            stretch.out_full_micros += self.pending_out_full_micros + out;
            stretch.last = stretch.last.max(ts);
            add_depth(&mut stretch.depths, q_in, ts);
        } else {
            let mut depths = BTreeMap::new();
            add_depth(&mut depths, q_in, ts);
            self.stretches.push(Stretch {
                first: ts,
                last: ts,
                depths,
                readings: 1,
                out_full: u64::from(out_full),
                own_micros: 0,
                out_full_micros: 0,
            });
            if self.stretches.len() > MAX_STRETCHES {
                merge_closest(&mut self.stretches, |s| (s.first, s.last), merge_stretch);
            }
        }
        self.pending_readings = 0;
        self.pending_out_full = 0;
        self.pending_own_micros = 0;
        self.pending_out_full_micros = 0;
    }

    /// The output queue's reading: the latest time it was empty.
    pub fn out_reading(&mut self, ts: Timestamp, q_out: i64) {
        if q_out == 0 {
            self.last_out_empty = Some(self.last_out_empty.map_or(ts, |t| t.max(ts)));
        }
    }

    /// When the output queue was last read empty (for an attempt starting now).
    pub fn last_out_empty(&self) -> Option<Timestamp> {
        self.last_out_empty
    }

    /// An attempt that started with its output queue full ended (`end`, `ms` long).
    pub fn blocked_attempt(&mut self, attempt: BlockedAttempt, empty_before: Option<Timestamp>) {
        let seconds = attempt.ms.max(0.0) / 1000.0;
        if let Some(spell) = self
            .blocked
            .last_mut()
            .filter(|s| attempt.start.0.saturating_sub(s.last.0) < STRETCH_GAP_MICROS)
        {
            spell.last = spell.last.max(attempt.end);
            spell.blocked_s += seconds;
            spell.attempts += 1;
            if attempt.ms > spell.longest.ms {
                spell.longest = attempt;
            }
            return;
        }
        self.blocked.push(BlockedSpell {
            first: attempt.start,
            last: attempt.end,
            blocked_s: seconds,
            attempts: 1,
            longest: attempt,
            empty_before,
        });
        if self.blocked.len() > MAX_STRETCHES {
            merge_closest(&mut self.blocked, |s| (s.first, s.last), merge_spell);
        }
    }

    /// The instance's episodes at the full level `level`: its stretches with a reading at that
    /// level, with its blocked spells when `blocked` (a sink: its output queue is the egress),
    /// joined where less than `calm` (µs) separates them.
    pub fn episodes(&self, level: f64, blocked: bool, calm: i64) -> Vec<Episode> {
        let mut parts: Vec<Episode> = self
            .stretches
            .iter()
            .filter_map(|stretch| {
                let full = stretch
                    .depths
                    .iter()
                    .filter(|(depth, _)| **depth as f64 >= level && **depth > 0)
                    .map(|(_, seen)| seen);
                let (first, last, count) =
                    full.fold(None, |acc: Option<(Timestamp, Timestamp, u64)>, seen| {
                        Some(
                            acc.map_or((seen.first, seen.last, seen.count), |(f, l, c)| {
                                (f.min(seen.first), l.max(seen.last), c + seen.count)
                            }),
                        )
                    })?;
                Some(Episode {
                    first,
                    last,
                    full: count,
                    readings: stretch.readings,
                    out_full: stretch.out_full,
                    own_micros: stretch.own_micros,
                    out_full_micros: stretch.out_full_micros,
                    blocked: None,
                })
            })
            .collect();
        if blocked {
            parts.extend(self.blocked.iter().map(|spell| Episode {
                first: spell.first,
                last: spell.last,
                full: 0,
                readings: 0,
                out_full: 0,
                own_micros: 0,
                out_full_micros: 0,
                blocked: Some(spell.clone()),
            }));
        }
        parts.sort_by_key(|part| part.first);
        let mut episodes: Vec<Episode> = Vec::new();
        for part in parts {
            match episodes.last_mut() {
                Some(episode) if part.first.0.saturating_sub(episode.last.0) < calm => {
                    episode.absorb(part)
                }
                _ => episodes.push(part),
            }
        }
        episodes
    }
}

fn add_depth(depths: &mut BTreeMap<i64, DepthSeen>, q: i64, ts: Timestamp) {
    let seen = depths.entry(q).or_insert(DepthSeen {
        count: 0,
        first: ts,
        last: ts,
    });
    seen.count += 1;
    seen.first = seen.first.min(ts);
    seen.last = seen.last.max(ts);
}

fn merge_stretch(into: &mut Stretch, other: Stretch) {
    into.first = into.first.min(other.first);
    into.last = into.last.max(other.last);
    into.readings += other.readings;
    into.out_full += other.out_full;
    into.own_micros += other.own_micros;
    into.out_full_micros += other.out_full_micros;
    for (depth, seen) in other.depths {
        match into.depths.get_mut(&depth) {
            Some(entry) => {
                entry.count += seen.count;
                entry.first = entry.first.min(seen.first);
                entry.last = entry.last.max(seen.last);
            }
            None => {
                into.depths.insert(depth, seen);
            }
        }
    }
}

pub(super) fn merge_spell(into: &mut BlockedSpell, other: BlockedSpell) {
    into.first = into.first.min(other.first);
    into.last = into.last.max(other.last);
    into.blocked_s += other.blocked_s;
    into.attempts += other.attempts;
    if other.longest.ms > into.longest.ms {
        into.longest = other.longest;
    }
    into.empty_before = match (into.empty_before, other.empty_before) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// Merges the two neighbours (in time) with the least time between them.
fn merge_closest<T>(
    list: &mut Vec<T>,
    bounds: impl Fn(&T) -> (Timestamp, Timestamp),
    merge: impl Fn(&mut T, T),
) {
    list.sort_by_key(|item| bounds(item).0);
    let Some(index) = (1..list.len()).min_by_key(|&i| {
        let (first, _) = bounds(&list[i]);
        let (_, last) = bounds(&list[i - 1]);
        first.0.saturating_sub(last.0)
    }) else {
        return;
    };
    let later = list.remove(index);
    merge(&mut list[index - 1], later);
}

/// One episode of a node's pressure: full readings (and, for a sink, hand-over waits) with no
/// calm between them.
#[derive(Debug, Clone)]
pub struct Episode {
    pub first: Timestamp,
    pub last: Timestamp,
    /// Readings at the full level, all inbound readings from the first to the last, and those
    /// with the outbound queue full.
    pub full: u64,
    pub readings: u64,
    pub out_full: u64,
    /// Its time with the inbound queue full and the outbound not, and with the outbound full
    /// (µs; see `Stretch`).
    pub own_micros: i64,
    pub out_full_micros: i64,
    pub(super) blocked: Option<BlockedSpell>,
}

impl Episode {
    fn absorb(&mut self, other: Episode) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.full += other.full;
        self.readings += other.readings;
        self.out_full += other.out_full;
        self.own_micros += other.own_micros;
        self.out_full_micros += other.out_full_micros;
        self.blocked = match (self.blocked.take(), other.blocked) {
            (Some(mut a), Some(b)) => {
                merge_spell(&mut a, b);
                Some(a)
            }
            (a, b) => a.or(b),
        };
    }

    pub fn micros(&self) -> i64 {
        self.last.0.saturating_sub(self.first.0)
    }

    /// The node was the bottleneck on its own in it: its inbound queue full in a good share of
    /// the readings, and for longer with its outbound queue not full than with it full (the hot
    /// node's rule over the episode, by time: a node draining a backlog into a full queue
    /// after a slow spell reads often, while slow it read seldom), a second at least.
    pub fn own(&self, min_share: f64) -> bool {
        self.readings > 0
            && self.full as f64 >= min_share * self.readings as f64
            && self.own_micros >= STRETCH_GAP_MICROS
            && self.own_micros > self.out_full_micros
    }
}

/// A sink blocked handing its output to the egress (the queue the app's `flow.fetch()`
/// drains) in the bottleneck's window: the app stopped taking results.
#[derive(Debug, Clone, Serialize)]
pub struct EgressWait {
    /// The longest blocked attempt: its trace, start, end, duration and its output queue at
    /// its node_start.
    pub trace_id: String,
    pub blocked_at: Timestamp,
    pub until: Timestamp,
    pub waited_ms: f64,
    pub q_depth_out: i64,
    /// Attempts that started with the egress full in the window, and their time summed.
    pub attempts: u64,
    pub blocked_s: f64,
    /// The last reading with the egress empty before it filled: results have waited there
    /// since (the app's last fetch, about).
    pub empty_before: Option<Timestamp>,
}

impl EgressWait {
    pub(super) fn of(spell: &BlockedSpell) -> EgressWait {
        EgressWait {
            trace_id: spell.longest.trace.to_string(),
            blocked_at: spell.longest.start,
            until: spell.longest.end,
            waited_ms: spell.longest.ms,
            q_depth_out: spell.longest.q_depth_out,
            attempts: spell.attempts,
            blocked_s: spell.blocked_s,
            empty_before: spell.empty_before,
        }
    }
}
