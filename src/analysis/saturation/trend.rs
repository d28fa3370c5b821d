//! A node's own work: its latency less the time it waited to hand its output over.
//!
//! Successes that waited to hand their output over measure the node after them, not the node
//! (`waited_to_hand_over`).

use crate::event::Event;

/// The share of one edge's capacity at which an outbound reading counts as a hand-over wait:
/// the reading comes after the put, and a consumer may have taken a message or two meanwhile
/// (a sender blocked on a 64-deep queue logs its success at 62 or 63).
const WAITED_SHARE: f64 = 0.8;

/// A success or timeout that waited to hand the node's output over: its outbound queue was at
/// (nearly) one edge's capacity (PenguiFlow puts to each outgoing edge in turn, so one full
/// edge blocks the node; `q_depth_out` sums the edges). Its latency measures the node after
/// it, not the node.
pub fn waited_to_hand_over(event: &Event) -> bool {
    matches!(
        (event.q_depth_out, event.queue_maxsize),
        (Some(out), Some(capacity)) if capacity > 0 && out > 0 && out as f64 >= WAITED_SHARE * capacity as f64
    )
}
