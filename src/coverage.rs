//! What a read covered, and the checks that refuse to report on nothing: input that held no
//! PenguiFlow event at all, and filter values (`--tenant`, `--node`, `--pod`, `--trace`) that
//! no event of the input carries (a typo must not read as an all-clear).

use std::collections::BTreeSet;

use crate::error::Error;
use crate::event::{Event, Name, NameIds};
use crate::filter::EventFilter;
use crate::render::{plural, thousands};
use crate::source::ReadStats;

/// Trace ids listed for an ambiguous prefix, at most (as `find` lists them).
const MAX_LISTED_IDS: usize = 10;

/// Distinct values remembered per dimension, at most (for "values seen" and "did you mean").
const MAX_SEEN: usize = 256;

/// The tenants, nodes, pods and traces the read met, before any filter (bounded).
#[derive(Debug, Default)]
pub struct Seen {
    tenants: NameIds,
    nodes: NameIds,
    pods: NameIds,
    /// For each wanted trace id (or prefix), the ids it matched (a few at most).
    traces: Vec<(String, BTreeSet<String>)>,
    /// Events that passed the whole filter.
    pub selected: u64,
    /// The newest event time read, filtered or not: where the input ends.
    pub newest: Option<crate::event::Timestamp>,
}

impl Seen {
    /// Notes the values of one event read, before the filter.
    pub fn observe(&mut self, event: &Event, filter: &EventFilter) {
        self.newest = Some(self.newest.map_or(event.ts, |t| t.max(event.ts)));
        // Per event: a name met before is found by its address (see `NameIds`).
        let note = |seen: &mut NameIds, value: Option<&Name>| {
            if let Some(value) = value
                && seen.names().len() < MAX_SEEN
            {
                seen.intern(value);
            }
        };
        note(&mut self.tenants, event.tenant.as_ref());
        note(&mut self.nodes, event.node_name.as_ref());
        note(&mut self.pods, event.pod.as_ref());
        if !filter.trace_ids.is_empty()
            && let Some(trace) = event.trace_id.as_deref()
        {
            if self.traces.is_empty() {
                self.traces = filter
                    .trace_ids
                    .iter()
                    .map(|wanted| (wanted.clone(), BTreeSet::new()))
                    .collect();
            }
            for (wanted, matched) in &mut self.traces {
                if trace.starts_with(wanted.as_str())
                    && matched.len() <= MAX_LISTED_IDS
                    && !matched.contains(trace)
                {
                    matched.insert(trace.to_string());
                }
            }
        }
    }

    fn names(seen: &NameIds) -> BTreeSet<String> {
        seen.names().iter().map(|name| name.to_string()).collect()
    }
}

/// Refuses a read that found no PenguiFlow event at all, saying what it held instead.
pub fn require_events(stats: &ReadStats, inputs: &str) -> Result<(), Error> {
    if stats.events + stats.store_rows > 0 || stats.prefiltered > 0 {
        return Ok(());
    }
    let mut held = vec![plural(stats.lines, "line")];
    let json_other = stats.not_flow_events + stats.tenant_lines;
    if json_other > 0 {
        let mut text = format!(
            "{} of JSON that {} not FlowEvents",
            plural(json_other, "line"),
            if json_other == 1 { "is" } else { "are" }
        );
        if stats.tenant_lines > 0 {
            text.push_str(&format!(
                " ({} with trace_id and tenant)",
                thousands(stats.tenant_lines)
            ));
        }
        held.push(text);
    }
    for (count, what) in [
        (
            stats.plain_logging,
            "PenguiFlow events logged as plain text",
        ),
        (stats.not_json, "not JSON"),
        (stats.malformed, "malformed JSON"),
        (stats.blank, "blank"),
        (stats.too_long, "longer than --max-line-bytes (skipped)"),
        (stats.store_rows_skipped, "unreadable store rows"),
    ] {
        if count > 0 {
            held.push(format!("{} {what}", thousands(count)));
        }
    }
    let hint = if stats.plain_logging > 0 {
        "; PenguiFlow's events are there without their fields (plain `logging.basicConfig` \
         lines such as `INFO:penguiflow.core:node_success`): turn on structured logging \
         (penguiflow's configure_logging(structured=True), or a JSON formatter on the \
         `penguiflow.core` logger)"
    } else if stats.lines == 0 {
        "; the input is empty"
    } else {
        "; flowtrace reads the JSON lines PenguiFlow's `penguiflow.core` logger writes (see the \
         README's line shapes), or --store for an event store"
    };
    Err(Error::NoEvents {
        inputs: inputs.to_string(),
        held: held.join(", "),
        hint: hint.to_string(),
    })
}

/// Warnings for the runtime's own reports of lost telemetry: every count built from what it
/// failed to save or to hand to a middleware is short.
pub fn lost_telemetry(stats: &ReadStats) -> Vec<String> {
    let mut warnings = Vec::new();
    if stats.store_save_failed > 0 {
        warnings.push(format!(
            "warning: {} (the runtime could not save {} to its event store): a store read for this span is missing them, and counts from it are short",
            plural(stats.store_save_failed, "state_store_save_failed line"),
            if stats.store_save_failed == 1 { "an event" } else { "events" }
        ));
    }
    if stats.middleware_errors > 0 {
        warnings.push(format!(
            "warning: {} (a middleware raised on an event): what the middlewares write (logs such as log_flow_events, metrics) misses those events",
            plural(stats.middleware_errors, "middleware_error line")
        ));
    }
    warnings
}

/// Checks the filter's values against what the read met. A value no event carries is an error
/// when the filter selected nothing (the report would be about nothing), else a warning.
pub fn check_filter(filter: &EventFilter, seen: &Seen) -> Result<Vec<String>, Error> {
    let mut problems = Vec::new();
    for (flag, wanted, known, what) in [
        ("--tenant", &filter.tenants, &seen.tenants, "tenants"),
        ("--node", &filter.nodes, &seen.nodes, "nodes"),
        ("--pod", &filter.pods, &seen.pods, "pods"),
    ] {
        let known = Seen::names(known);
        for value in wanted.iter().filter(|value| !known.contains(*value)) {
            problems.push(unseen(flag, value, &known, what));
        }
    }
    for value in &filter.trace_ids {
        let matched = seen
            .traces
            .iter()
            .find(|(wanted, _)| wanted == value)
            .map(|(_, matched)| matched);
        match matched {
            None => problems.push(format!(
                "--trace {value}: no event of this trace in the input"
            )),
            Some(matched) if matched.is_empty() => problems.push(format!(
                "--trace {value}: no event of this trace in the input"
            )),
            Some(matched) if matched.len() > 1 && !matched.contains(value) => {
                let mut ids: Vec<String> = matched.iter().cloned().collect();
                let more = ids.len() > MAX_LISTED_IDS;
                ids.truncate(MAX_LISTED_IDS);
                return Err(Error::AmbiguousTrace {
                    query: value.clone(),
                    ids,
                    more,
                });
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        return Ok(Vec::new());
    }
    if seen.selected == 0 {
        return Err(Error::NothingSelected(problems.join("; ")));
    }
    Ok(problems
        .into_iter()
        .map(|problem| format!("warning: {problem}"))
        .collect())
}

fn unseen(flag: &str, value: &str, known: &BTreeSet<String>, what: &str) -> String {
    if known.is_empty() {
        return match flag {
            "--tenant" => format!(
                "{flag} {value}: no event carries a tenant in these inputs; tenants come from a \
                 `tenant` field, `extra.tenant` or `headers.tenant` on the lines, or an ingress \
                 line with trace_id and tenant (an event store has none: give the logs with the \
                 ingress lines alongside)"
            ),
            "--pod" => format!(
                "{flag} {value}: no event carries a pod; pods come from `kubectl logs --prefix` \
                 lines (`[pod/NAME/CONTAINER] ...`)"
            ),
            _ => format!(
                "{flag} {value}: no event carries a {}",
                what.trim_end_matches('s')
            ),
        };
    }
    let closest = known
        .iter()
        .min_by_key(|candidate| edit_distance(candidate, value))
        .filter(|candidate| {
            edit_distance(candidate, value) <= value.chars().count().max(3) / 3 + 1
        });
    let listed: Vec<&str> = known.iter().take(12).map(String::as_str).collect();
    let more = if known.len() > listed.len() {
        ", ..."
    } else {
        ""
    };
    format!(
        "{flag} {value}: no such {} in the input ({what} seen: {}{more}){}",
        what.trim_end_matches('s'),
        listed.join(", "),
        closest.map_or(String::new(), |c| format!("; did you mean {c}?"))
    )
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(nodes: &[&str]) -> Seen {
        let mut seen = Seen::default();
        for node in nodes {
            seen.nodes.intern(&Name::from(*node));
        }
        seen
    }

    #[test]
    fn a_typo_that_selects_nothing_is_an_error_with_a_suggestion() {
        let filter = EventFilter {
            nodes: vec!["retreive".into()],
            ..EventFilter::default()
        };
        let error = check_filter(&filter, &seen(&["ingest", "retrieve", "llm"])).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("--node retreive: no such node"), "{text}");
        assert!(text.contains("did you mean retrieve?"), "{text}");
        assert!(text.contains("nodes seen: ingest, llm, retrieve"), "{text}");
    }

    #[test]
    fn an_unseen_value_beside_a_matching_one_is_a_warning() {
        let filter = EventFilter {
            nodes: vec!["llm".into(), "retreive".into()],
            ..EventFilter::default()
        };
        let mut seen = seen(&["llm", "retrieve"]);
        seen.selected = 3;
        let warnings = check_filter(&filter, &seen).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("warning: --node retreive"));
    }

    #[test]
    fn nothing_read_says_what_was_there() {
        let stats = ReadStats {
            lines: 314,
            tenant_lines: 200,
            not_json: 114,
            ..ReadStats::default()
        };
        let text = require_events(&stats, "ingress.jsonl")
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with("no PenguiFlow events in ingress.jsonl: 314 lines, 200 lines of JSON that are not FlowEvents (200 with trace_id and tenant), 114 not JSON"),
            "{text}"
        );
    }
}
