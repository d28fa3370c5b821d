//! Which events to keep: trace, tenant, node, kind and time filters, shared by every subcommand,
//! plus the raw-byte prefilter that lets lines skip the JSON parse altogether.

use std::collections::VecDeque;
use std::sync::Arc;

use memchr::memmem::Finder;

use crate::event::{Event, Kind, Name, Timestamp};
use crate::source::{LinePrefilter, StoreQuery};

/// A time bound of `--since`/`--until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    At(Timestamp),
    /// This many microseconds before the newest event read.
    BeforeNewest(i64),
}

/// The selection every subcommand applies to its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub trace_ids: Vec<String>,
    pub tenants: Vec<String>,
    pub nodes: Vec<String>,
    /// Pods (a trace lives in one pod's runtime, so this selects whole traces, like tenants).
    pub pods: Vec<String>,
    pub kinds: Vec<Kind>,
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
}

impl EventFilter {
    /// The filter without its `--node`/`--kind` conditions: what selects whole traces (trace
    /// id, tenant, time). Trace-level analyses read every event of this scope.
    pub fn trace_scope(&self) -> EventFilter {
        EventFilter {
            nodes: Vec::new(),
            kinds: Vec::new(),
            ..self.clone()
        }
    }

    /// The `--node`/`--kind` conditions alone.
    pub fn matches_event_scope(&self, event: &Event) -> bool {
        (self.nodes.is_empty()
            || event
                .node_name
                .as_ref()
                .is_some_and(|n| self.nodes.iter().any(|node| **node == **n)))
            && (self.kinds.is_empty() || self.kinds.contains(&event.kind))
    }

    /// Every condition except the relative time bounds (those need the newest event).
    pub fn matches(&self, event: &Event) -> bool {
        fn any_or_all(wanted: &[String], value: Option<&Name>) -> bool {
            wanted.is_empty() || value.is_some_and(|value| wanted.iter().any(|w| **w == **value))
        }
        // A trace id may be given by a unique prefix, as `find` takes it (an ambiguous one is
        // refused once the read has shown it: see `coverage`).
        (self.trace_ids.is_empty()
            || event
                .trace_id
                .as_ref()
                .is_some_and(|id| self.trace_ids.iter().any(|w| id.starts_with(w.as_str()))))
            && any_or_all(&self.tenants, event.tenant.as_ref())
            && any_or_all(&self.nodes, event.node_name.as_ref())
            && any_or_all(&self.pods, event.pod.as_ref())
            && (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && match self.since {
                Some(TimeBound::At(since)) => event.ts >= since,
                _ => true,
            }
            && match self.until {
                Some(TimeBound::At(until)) => event.ts <= until,
                _ => true,
            }
    }

    /// A test on raw line bytes that never rejects a line holding a wanted event: a wanted
    /// trace id, node name or kind appears verbatim in any line that carries it, unless JSON
    /// escaping could change it, in which case that filter does not prefilter.
    ///
    /// Node and kind prefilters also keep lines mentioning `tenant`, so that tenant lines of
    /// other kinds still reach tenant propagation.
    pub fn prefilter(&self) -> LinePrefilter {
        let traces = finders(&self.trace_ids);
        let nodes = finders(&self.nodes);
        let kind_names: Vec<String> = self.kinds.iter().map(|k| k.as_str().to_string()).collect();
        let kinds = finders(&kind_names);
        if traces.is_none() && nodes.is_none() && kinds.is_none() {
            return Arc::new(|_| true);
        }
        let tenant = Finder::new(b"tenant").into_owned();
        Arc::new(move |line: &[u8]| {
            let found = |finders: &Option<Vec<Finder<'static>>>| {
                finders
                    .as_ref()
                    .is_none_or(|finders| finders.iter().any(|f| f.find(line).is_some()))
            };
            found(&traces) && ((found(&nodes) && found(&kinds)) || tenant.find(line).is_some())
        })
    }

    /// Bytes every wanted line contains: the trace id when exactly one is wanted (and it
    /// cannot appear escaped). Lets the reader search whole blocks instead of every line.
    pub fn required(&self) -> Option<Vec<u8>> {
        match self.trace_ids.as_slice() {
            [only] => finders(std::slice::from_ref(only)).map(|_| only.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// The part of this filter a SQLite store can answer through its columns and indexes.
    pub fn store_query(&self, path: std::path::PathBuf, table: String) -> StoreQuery {
        let at = |bound: Option<TimeBound>| match bound {
            Some(TimeBound::At(ts)) => Some(ts),
            _ => None,
        };
        StoreQuery {
            path,
            table,
            trace_ids: self.trace_ids.clone(),
            kinds: self.kinds.iter().map(|k| k.as_str().to_string()).collect(),
            nodes: self.nodes.clone(),
            since: at(self.since),
            until: at(self.until),
            trace_prefix: None,
            sample_rows: 0,
            timeout: crate::source::store::DEFAULT_STORE_TIMEOUT,
        }
    }

    /// Applies the whole filter to a time-ordered stream, relative time bounds included.
    /// The filter with durations counted back from `now` instead of from the newest event
    /// read (a follow has no last event to count from).
    pub fn anchored_at(mut self, now: Timestamp) -> EventFilter {
        let anchor = |bound: &mut Option<TimeBound>| {
            if let Some(TimeBound::BeforeNewest(micros)) = *bound {
                *bound = Some(TimeBound::At(Timestamp(now.0.saturating_sub(micros))));
            }
        };
        anchor(&mut self.since);
        anchor(&mut self.until);
        self
    }

    pub fn apply<I: Iterator<Item = Box<Event>>>(self, events: I) -> Filtered<I> {
        Filtered {
            events,
            filter: self,
            newest: None,
            held: VecDeque::new(),
            drained: false,
        }
    }
}

/// A prefilter keeping the lines that contain any of `needles` verbatim, or `None` when JSON
/// escaping could hide one of them (then no line may be skipped).
pub fn contains_any(needles: &[String]) -> Option<LinePrefilter> {
    let finders = finders(needles)?;
    Some(Arc::new(move |line: &[u8]| {
        finders.iter().any(|finder| finder.find(line).is_some())
    }))
}

/// Both prefilters must keep a line.
pub fn both(first: LinePrefilter, second: LinePrefilter) -> LinePrefilter {
    Arc::new(move |line: &[u8]| first(line) && second(line))
}

/// Needle finders, or `None` when there is nothing to look for or a needle could appear
/// escaped in JSON (quotes, backslashes, slashes, control or non-ASCII characters).
fn finders(needles: &[String]) -> Option<Vec<Finder<'static>>> {
    let verbatim = |needle: &String| {
        !needle.is_empty()
            && needle
                .bytes()
                .all(|b| (b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'/')) || b == b' ')
    };
    if needles.is_empty() || !needles.iter().all(verbatim) {
        return None;
    }
    Some(
        needles
            .iter()
            .map(|needle| Finder::new(needle.as_bytes()).into_owned())
            .collect(),
    )
}

/// The filtered stream. With a relative `--since`, events are held until the newest event is
/// known (only those within the window are held); with a relative `--until`, an event is let
/// through once an event newer by the duration has been read.
pub struct Filtered<I> {
    events: I,
    filter: EventFilter,
    newest: Option<Timestamp>,
    held: VecDeque<Box<Event>>,
    drained: bool,
}

impl<I: Iterator<Item = Box<Event>>> Filtered<I> {
    fn relative_since(&self) -> Option<i64> {
        match self.filter.since {
            Some(TimeBound::BeforeNewest(micros)) => Some(micros),
            _ => None,
        }
    }

    fn relative_until(&self) -> Option<i64> {
        match self.filter.until {
            Some(TimeBound::BeforeNewest(micros)) => Some(micros),
            _ => None,
        }
    }

    fn within_final_window(&self, event: &Event) -> bool {
        let Some(newest) = self.newest else {
            return true;
        };
        self.relative_since()
            .is_none_or(|d| event.ts.0 >= newest.0.saturating_sub(d))
            && self
                .relative_until()
                .is_none_or(|d| event.ts.0 <= newest.0.saturating_sub(d))
    }
}

impl<I: Iterator<Item = Box<Event>>> Iterator for Filtered<I> {
    type Item = Box<Event>;

    fn next(&mut self) -> Option<Box<Event>> {
        let relative_since = self.relative_since();
        let relative_until = self.relative_until();
        if relative_since.is_none() && relative_until.is_none() {
            let filter = &self.filter;
            return self.events.by_ref().find(|event| filter.matches(event));
        }
        while !self.drained {
            let Some(event) = self.events.next() else {
                self.drained = true;
                break;
            };
            let newest = self.newest.map_or(event.ts, |newest| newest.max(event.ts));
            self.newest = Some(newest);
            if !self.filter.matches(&event) {
                continue;
            }
            self.held.push_back(event);
            if let Some(window) = relative_since {
                // Anything older than the window before the newest so far can never qualify.
                while self
                    .held
                    .front()
                    .is_some_and(|e| e.ts.0 < newest.0.saturating_sub(window))
                {
                    self.held.pop_front();
                }
            } else if let Some(gap) = relative_until {
                // Without a relative --since, events old enough are final: release them.
                if self
                    .held
                    .front()
                    .is_some_and(|e| e.ts.0 <= newest.0.saturating_sub(gap))
                {
                    return self.held.pop_front();
                }
            }
        }
        while let Some(event) = self.held.pop_front() {
            if self.within_final_window(&event) {
                return Some(event);
            }
        }
        None
    }
}

/// Parses a duration such as `90s`, `15m`, `2h`, `1d`, `1w`, `500ms` or `1h30m` into microseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let micros_per_unit: f64 = match &rest[..unit_end] {
            "ms" => 1e3,
            "s" | "sec" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3600e6,
            "d" => 86_400e6,
            "w" => 604_800e6,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total = total.checked_add((number * micros_per_unit).round() as i64)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;

    fn event(seconds: i64, trace: &str, node: &str, kind: Kind) -> Event {
        let origin = Origin::Line {
            input: "t",
            line: 1,
        };
        let mut event = Event::new(Timestamp(seconds * 1_000_000), kind, origin);
        event.trace_id = Some(trace.into());
        event.node_name = Some(node.into());
        event
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Some(900_000_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000));
        assert_eq!(parse_duration("500ms"), Some(500_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000));
        assert_eq!(parse_duration("15"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("15x"), None);
    }

    #[test]
    fn the_prefilter_keeps_candidate_lines_only() {
        let filter = EventFilter {
            trace_ids: vec!["abc123".into()],
            ..EventFilter::default()
        };
        let keep = filter.prefilter();
        assert!(keep(br#"{"trace_id": "abc123", "event": "node_start"}"#));
        assert!(!keep(br#"{"trace_id": "zzz", "event": "node_start"}"#));

        let filter = EventFilter {
            nodes: vec!["retrieve".into()],
            ..EventFilter::default()
        };
        let keep = filter.prefilter();
        assert!(keep(br#"{"node_name": "retrieve"}"#));
        assert!(
            keep(br#"{"trace_id": "t", "tenant": "acme"}"#),
            "tenant lines pass"
        );
        assert!(!keep(br#"{"node_name": "enrich"}"#));
    }

    #[test]
    fn needles_json_could_escape_disable_the_prefilter() {
        let filter = EventFilter {
            nodes: vec!["café".into()],
            ..EventFilter::default()
        };
        assert!(filter.prefilter()(br#"{"node_name": "caf\u00e9"}"#));
    }

    #[test]
    fn relative_since_counts_back_from_the_newest_event() {
        let filter = EventFilter {
            since: Some(TimeBound::BeforeNewest(10_000_000)),
            nodes: vec!["a".into()],
            ..EventFilter::default()
        };
        let events = vec![
            event(100, "t", "a", Kind::NodeStart),
            event(105, "t", "a", Kind::NodeSuccess),
            event(112, "t", "a", Kind::NodeStart),
            event(120, "t", "b", Kind::NodeStart), // newest, filtered out by node
        ];
        let kept: Vec<i64> = filter
            .apply(events.into_iter().map(Box::new))
            .map(|e| e.ts.0 / 1_000_000)
            .collect();
        assert_eq!(kept, vec![112]);
    }

    #[test]
    fn relative_until_releases_old_enough_events() {
        let filter = EventFilter {
            until: Some(TimeBound::BeforeNewest(10_000_000)),
            ..EventFilter::default()
        };
        let events = (0..30)
            .map(|s| event(s, "t", "a", Kind::NodeStart))
            .collect::<Vec<_>>();
        let kept: Vec<i64> = filter
            .apply(events.into_iter().map(Box::new))
            .map(|e| e.ts.0 / 1_000_000)
            .collect();
        assert_eq!(kept, (0..=19).collect::<Vec<_>>());
    }
}
