//! The tenth review's captures of side paths the graph learner got wrong (real PenguiFlow
//! 3.11.2 runs; script `fixtures/capture/review/tenth_sidepaths.py`, truth in each
//! `.expected.json` from the flow's wiring and the runtime's own FlowEvents).
//!
//! A side path that rejoins the main path's sink: `gate` sends most requests straight to
//! `store` and some through `enrich`, which sends them on to `store`; once as a router's rare
//! branch (`tenth_rejoin`, store's backlog full; `tenth_rejoin_calm`, no queue fills), once as a
//! fan-out whose `enrich` forwards one request in seven (`tenth_writeback`). The graph learned
//! `enrich` as a sink and missed `enrich -> store`; and the same with a branch of two hops,
//! `repair -> fix` (`tenth_rejoin_chain`, a helper's run the learner once got wrong).
//!
//! A node that hands its message over before its own success is logged: `ingest` fans out to
//! `{audit, respond}`, `respond` sends one request in six to `audit` too and the rest to
//! `reply`, as a predicate router (`tenth_handover`) or with `ctx.emit(m, to=...)`
//! (`tenth_handover_emit`). The graph learned `ingest -> reply` and missed `ingest -> audit`
//! and `respond -> reply`. And a node handing every message over with `ctx.emit` while wired
//! to a second receiver it never uses (`tenth_handover_spare`, a helper's run), and one whose
//! message waits behind a sibling branch's sink (`tenth_emit_beside_sink`).

mod common;

use common::*;
use std::collections::HashMap;

const CAPTURES: [&str; 3] = ["tenth_rejoin", "tenth_rejoin_calm", "tenth_writeback"];
const HANDOVERS: [&str; 2] = ["tenth_handover", "tenth_handover_emit"];

/// The messages (first attempts) `node` took in each trace, from the events.
fn messages_by_trace(capture: &str, node: &str) -> HashMap<String, u64> {
    let mut messages: HashMap<String, u64> = HashMap::new();
    for e in capture_events(&format!("review/{capture}.jsonl")) {
        if e["node_name"] == node && e["event"] == "node_start" && e["attempt"] == 0 {
            *messages
                .entry(e["trace_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    messages
}

/// The traces that reached `node`, and the second messages it took in them (first attempts
/// beyond one per trace).
fn traces_and_second_messages(capture: &str, node: &str) -> (u64, u64) {
    let messages = messages_by_trace(capture, node);
    let traces = messages.len() as u64;
    (traces, messages.values().sum::<u64>() - traces)
}

/// The messages `enrich` sent `store`: where `gate` routes, store's messages in the traces
/// `enrich` reached; where `gate` fans out to both, store's second messages.
fn sent_by_enrich(capture: &str) -> u64 {
    if capture == "tenth_writeback" {
        return traces_and_second_messages(capture, "store").1;
    }
    let enriched = messages_by_trace(capture, "enrich");
    messages_by_trace(capture, "store")
        .iter()
        .filter(|(trace, _)| enriched.contains_key(*trace))
        .map(|(_, messages)| messages)
        .sum()
}

/// Every wired edge is learned (`enrich -> store`, and no `enrich -> Rookery`), with the
/// messages it carried; the hot node stays the truth's (`store` where its backlog is full,
/// judged at its full queue from `gate`, not at the summed capacity of its two queues).
#[test]
fn a_side_path_that_rejoins_the_sink_is_learned_and_the_sink_stays_hot() {
    for capture in CAPTURES {
        let graph = graph_as_wired(capture);
        assert_eq!(
            carried(&graph, "enrich", "store"),
            Some(sent_by_enrich(capture)),
            "{capture}"
        );
    }
}

/// A node wired to two receivers that hands every message over to one with `ctx.emit` before
/// its own success (`slow -> x`; its edge to `y` never used) while a sibling's branch has
/// just ended (`fast -> out`): `x`'s every arrival is the trace's event right before `slow`'s
/// success. The learner once credited `x` to `out`, which had succeeded last, and left `slow`
/// a sink: moving `x` left as many reported out-edges unused, so nothing said which was right.
#[test]
fn a_hand_over_right_before_the_senders_success_is_the_senders_edge() {
    let capture = "tenth_handover_spare";
    let graph = graph_as_wired(capture);
    let (reached, _) = traces_and_second_messages(capture, "x");
    assert!(reached >= 100, "premise: {reached}");
    assert_eq!(carried(&graph, "slow", "x"), Some(reached));
}

/// A fan-out's slow branch that hands its message over with `ctx.emit` before its own work
/// (`classify -> answer`, while wired to `escalate` too) beside a fast branch ending in a sink
/// (`fetch -> cache`): `classify`'s message often waits behind `cache`'s, so the sink's success
/// is the last one before `classify` starts and before `answer` arrives. The learner once
/// credited `answer` to `cache`. The trace's `trace_pending` did not rise while `cache` ran:
/// it sent nothing, and `answer` carries every message `classify` sent.
#[test]
fn a_sink_that_sent_nothing_while_it_ran_sends_no_later_arrival() {
    let capture = "tenth_emit_beside_sink";
    let graph = graph_as_wired(capture);
    let (reached, _) = traces_and_second_messages(capture, "answer");
    assert!(reached >= 100, "premise: {reached}");
    assert_eq!(carried(&graph, "classify", "answer"), Some(reached));
}

/// A rare branch two hops long (`gate -> repair -> fix -> store`, one request in seven; the
/// rest `gate -> store`) rejoins the sink through its last node: `fix -> store` carries every
/// message of the traces that took `repair`, `gate -> store` the others. The learner once
/// left `fix` a sink and credited `store`'s every message to `gate`.
#[test]
fn a_rare_branch_of_two_hops_rejoins_the_sink_through_its_last_node() {
    let capture = "tenth_rejoin_chain";
    let graph = graph_as_wired(capture);
    let repaired = messages_by_trace(capture, "repair");
    let stored = messages_by_trace(capture, "store");
    assert!(repaired.len() >= 20, "premise: {} repaired", repaired.len());
    let through_fix: u64 = repaired.keys().map(|trace| stored[trace]).sum();
    let total: u64 = stored.values().sum();
    assert_eq!(carried(&graph, "fix", "store"), Some(through_fix));
    assert_eq!(carried(&graph, "gate", "store"), Some(total - through_fix));
}

/// The capture's learned graph, checked against its truth: every wired edge learned and no
/// other, and the hot node (none where no queue filled).
fn graph_as_wired(capture: &str) -> serde_json::Value {
    let truth = fixture_json(&format!("review/{capture}.expected.json"));
    let path = fixture_arg(&format!("review/{capture}.jsonl"));
    let graph = report_json("graph", &[&path]);
    assert_eq!(
        learned_edges(&graph),
        sorted_pairs(&truth["edges"]),
        "{capture}"
    );
    assert_eq!(
        report_json("saturation", &[&path])["hot_node"],
        truth["hot_node"],
        "{capture}"
    );
    graph
}

/// The edge `from -> to` of a `graph --format json` report, with the traces it carried.
fn carried(graph: &serde_json::Value, from: &str, to: &str) -> Option<u64> {
    graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == from && e["to"] == to)
        .map(|e| e["traces"].as_u64().unwrap())
}

/// Every wired edge is learned, whether `respond` hands over as a router or with `ctx.emit`:
/// `ingest` sends every trace's first message to `audit`, `respond` the flagged ones' second,
/// and every `reply`. The slow sink `audit` stays the hot node.
#[test]
fn a_handover_before_success_is_the_handing_nodes_and_frees_the_fan_out_for_its_sink() {
    for capture in HANDOVERS {
        let graph = graph_as_wired(capture);
        let (audited, flagged) = traces_and_second_messages(capture, "audit");
        let (replied, _) = traces_and_second_messages(capture, "reply");
        assert!(flagged > 0 && replied > 0, "{capture}: premise");
        assert_eq!(
            carried(&graph, "ingest", "audit"),
            Some(audited),
            "{capture}"
        );
        assert_eq!(
            carried(&graph, "respond", "audit"),
            Some(flagged),
            "{capture}"
        );
        assert_eq!(
            carried(&graph, "respond", "reply"),
            Some(replied),
            "{capture}"
        );
    }
}

/// The guards of the two rules above, from a helper's adversarial runs on which their first
/// cut learned a wrong edge. `tenth_twotargets`: a router sending 1 request in 7 to two
/// targets (`["store", "audit"]`), audit a sink whose success always comes last before the
/// backed-up store starts; its success logs one more pending message in those traces
/// (`trace_pending`), so audit is no input of store. `tenth_chunks`: `chunk` emits two chunks
/// to embed and one to bigdoc for 1 document in 6; embed's second messages are chunk's, and
/// bigdoc (a sink that never held a message on an outbound queue) is no second input.
#[test]
fn a_rare_second_target_or_a_sibling_sink_is_not_taken_for_the_receivers_input() {
    for capture in ["tenth_twotargets", "tenth_chunks"] {
        graph_as_wired(capture);
    }
    // The premises, from the events: route's successes log trace_pending 3 where it sent audit
    // a message and 2 elsewhere; bigdoc's successes never log an outbound message.
    let events = capture_events("review/tenth_twotargets.jsonl");
    let audited: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e["node_name"] == "audit")
        .map(|e| e["trace_id"].as_str().unwrap())
        .collect();
    for e in events
        .iter()
        .filter(|e| e["node_name"] == "route" && e["event"] == "node_success")
    {
        let expected = if audited.contains(e["trace_id"].as_str().unwrap()) {
            3
        } else {
            2
        };
        assert_eq!(e["trace_pending"], expected, "{e}");
    }
    assert!(
        capture_events("review/tenth_chunks.jsonl")
            .iter()
            .filter(|e| e["node_name"] == "bigdoc" && e["event"] == "node_success")
            .all(|e| e["q_depth_out"] == 0)
    );
}

/// `tenth_retried_emit`: b ctx.emits to c, then now and then reports to the `errors` sink and
/// raises; its retries send c (and errors) the message again. In traces whose every attempt
/// failed, b never succeeded, so a re-sent message arriving after d's or errors' success was
/// credited to them (`d -> errors`, `errors -> c`) and kept as each one's only out-edge: two
/// traces of d's 280-odd. A node's traffic counts the traces it ended, so those are rare.
#[test]
fn messages_a_retried_node_sends_again_do_not_make_a_cycle() {
    let capture = "tenth_retried_emit";
    // The premise: b's attempts failed, were retried, and some messages failed for good.
    let events = capture_events(&format!("review/{capture}.jsonl"));
    let count = |kind: &str| {
        events
            .iter()
            .filter(|e| e["node_name"] == "b" && e["event"] == kind)
            .count()
    };
    assert!(count("node_retry") > 0 && count("node_failed") > 0);
    graph_as_wired(capture);
}

/// The guards of the stray-credit rule above, from a second adversarial run: a real rare
/// edge that the crediting gives only a handful of its messages is no stray when the sender's
/// successes logged those messages on its outbound queue. `tenth_join3`: the fast a and c of
/// a 3-way join succeed within a millisecond or two, and a's messages were credited to c
/// (a logs `q_depth_out` 1 at every success). `tenth_escalation`: triage ends most traces
/// and escalates 1 request in 33 to review, which main feeds too.
#[test]
fn a_rare_input_whose_sender_logged_its_messages_is_kept() {
    for (capture, sender) in [("tenth_join3", "a"), ("tenth_escalation", "triage")] {
        let emitted = capture_events(&format!("review/{capture}.jsonl"))
            .iter()
            .filter(|e| e["node_name"] == sender && e["event"] == "node_success")
            .filter(|e| e["q_depth_out"].as_i64().unwrap() > 0)
            .count();
        assert!(emitted > 0, "{capture}: premise");
        graph_as_wired(capture);
    }
}

/// find's inferred next node read at its sender: the sender's outbound queue is one edge's
/// queue, of `queue_maxsize`, even where the receiver has two inbound edges (store, fed by
/// gate and enrich). It read "1 of 8" for enrich's one queue of 4.
#[test]
fn a_queue_read_at_the_sender_is_one_edges_queue() {
    let path = fixture_arg("review/tenth_rejoin.jsonl");
    let traces = report_json("traces", &[&path]);
    let waiting = traces
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "in_flight" && t["last_node"] == "enrich")
        .expect("premise: a trace cut after enrich's success")["trace_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The truth: enrich's success in that trace, its outbound queue and the queues' capacity.
    let events = capture_events("review/tenth_rejoin.jsonl");
    let sent = events
        .iter()
        .find(|e| {
            e["trace_id"] == waiting.as_str()
                && e["node_name"] == "enrich"
                && e["event"] == "node_success"
        })
        .unwrap();
    let (depth, capacity) = (&sent["q_depth_out"], &sent["queue_maxsize"]);
    let text = find_text(&waiting, &path);
    assert!(
        text.contains(&format!(
            "its sender's outbound queue in {depth} of {capacity},"
        )) && text.contains(&format!(
            "({depth} of {capacity} in the sender's outbound queue at the send)"
        )) && !text.contains("inbound edges of"),
        "{text}"
    );
}

/// `tenth_twoinputs`: two entry nodes, `api -> {p, s}` and `batch -> s`, s a slow sink. Its
/// `q_depth_in` sums the queue from api, full, and the queue from batch, which never held
/// more than the message batch had just sent: judged at the summed capacity of both, s's
/// queue was never "full" and no hot node was named.
#[test]
fn a_sink_fed_by_a_full_queue_and_a_shallow_one_is_the_hot_node() {
    let capture = "tenth_twoinputs";
    let truth = fixture_json(&format!("review/{capture}.expected.json"));
    // The premise: batch's outbound queue never held more than 1, s's inbound more than 4.
    assert!(truth["deepest_out"]["batch"].as_i64().unwrap() <= 1);
    assert!(truth["deepest_in"]["s"].as_i64().unwrap() > 4);
    graph_as_wired(capture);
}

/// `tenth_writeback3`: a fan-out to three siblings, one of which (a) forwards to another (b)
/// for 1 request in 10 and returns None otherwise, no queue backed up. a's success comes
/// before b's first arrival about as often as after it, so nothing in the order singles it
/// out; its outbound messages (`q_depth_out` at its successes) match b's second messages.
#[test]
fn a_sibling_forwarding_now_and_then_without_a_backlog_is_found_by_its_messages() {
    let capture = "tenth_writeback3";
    let graph = graph_as_wired(capture);
    let (_, forwarded) = traces_and_second_messages(capture, "b");
    assert!(forwarded >= 10, "premise: {forwarded}");
    assert_eq!(carried(&graph, "a", "b"), Some(forwarded));
}
