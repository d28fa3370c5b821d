//! A map keyed by trace id for state held per open trace (the trace book, saturation's pending
//! counts): a uuid4-hex id (PenguiFlow's `uuid4().hex`) is kept as its 128 bits, any other id
//! as a name allocated here. Never as the `Name` the decoding threads allocated: held for
//! minutes of log time, those kept the decoders' memory pages from being reused.

use std::cmp::Ordering;
use std::fmt;

use crate::event::{FastMap, Name, NameMap, hex_trace_digits};

/// The id of a trace as a `TraceMap` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TraceKey {
    Hex([u64; 2]),
    Text(Name),
}

impl TraceKey {
    /// The key of an event's trace id; `hex` as [`crate::event::hex_trace_id`] read it (an
    /// event's `keys().hex_trace`). A hex id is copied, not shared: no reference count that
    /// another thread's core holds is touched.
    pub fn of(trace_id: &Name, hex: Option<[u64; 2]>) -> TraceKey {
        match hex {
            Some(hex) => TraceKey::Hex(hex),
            None => TraceKey::Text(Name::clone(trace_id)),
        }
    }

    /// True when this is the key of the trace id `trace_id` (`hex` as for [`TraceKey::of`]).
    pub fn is(&self, trace_id: &str, hex: Option<[u64; 2]>) -> bool {
        match (self, hex) {
            (TraceKey::Hex(key), Some(hex)) => *key == hex,
            (TraceKey::Text(text), None) => **text == *trace_id,
            _ => false,
        }
    }

    /// The id's text, on the stack for a hex id.
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            TraceKey::Hex(hex) => {
                let text = hex_trace_digits(*hex);
                f(std::str::from_utf8(&text).expect("hex digits"))
            }
            TraceKey::Text(text) => f(text),
        }
    }
}

impl fmt::Display for TraceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_text(|text| f.write_str(text))
    }
}

/// Ordered as the ids' text.
impl Ord for TraceKey {
    fn cmp(&self, other: &TraceKey) -> Ordering {
        match (self, other) {
            // Fixed-length lowercase hex: the numbers order as the text.
            (TraceKey::Hex(a), TraceKey::Hex(b)) => a.cmp(b),
            (TraceKey::Text(a), TraceKey::Text(b)) => a.cmp(b),
            _ => self.with_text(|a| other.with_text(|b| a.cmp(b))),
        }
    }
}

impl PartialOrd for TraceKey {
    fn partial_cmp(&self, other: &TraceKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug)]
pub struct TraceMap<V> {
    hex: FastMap<[u64; 2], V>,
    text: NameMap<V>,
}

impl<V> Default for TraceMap<V> {
    fn default() -> TraceMap<V> {
        TraceMap {
            hex: FastMap::default(),
            text: NameMap::default(),
        }
    }
}

impl<V> TraceMap<V> {
    /// `hex`: the id as [`crate::event::hex_trace_id`] reads it (an event's `keys().hex_trace`, read on the
    /// decoding threads).
    pub fn get_mut(&mut self, trace_id: &str, hex: Option<[u64; 2]>) -> Option<&mut V> {
        match hex {
            Some(hex) => self.hex.get_mut(&hex),
            None => self.text.get_mut(trace_id),
        }
    }

    pub fn get_or_insert_with(
        &mut self,
        trace_id: &str,
        hex: Option<[u64; 2]>,
        make: impl FnOnce() -> V,
    ) -> &mut V {
        if let Some(hex) = hex {
            return self.hex.entry(hex).or_insert_with(make);
        }
        if !self.text.contains_key(trace_id) {
            self.text.insert(Name::from(trace_id), make());
        }
        self.text.get_mut(trace_id).expect("inserted")
    }

    pub fn iter(&self) -> impl Iterator<Item = (TraceKey, &V)> {
        let hex = self.hex.iter().map(|(key, v)| (TraceKey::Hex(*key), v));
        let text = self
            .text
            .iter()
            .map(|(key, v)| (TraceKey::Text(Name::clone(key)), v));
        hex.chain(text)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.hex.values().chain(self.text.values())
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.hex.values_mut().chain(self.text.values_mut())
    }

    pub fn remove(&mut self, key: &TraceKey) -> Option<V> {
        match key {
            TraceKey::Hex(hex) => self.hex.remove(hex),
            TraceKey::Text(text) => self.text.remove(text),
        }
    }

    /// Removes the trace with this id (read here: for a caller without its event).
    pub fn remove_id(&mut self, trace_id: &str) -> Option<V> {
        match crate::event::hex_trace_id(trace_id) {
            Some(hex) => self.hex.remove(&hex),
            None => self.text.remove(trace_id),
        }
    }

    /// Keeps the traces `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut V) -> bool) {
        self.hex.retain(|_, v| keep(v));
        self.text.retain(|_, v| keep(v));
    }

    /// Keeps the traces `keep` accepts by id.
    pub fn retain_ids(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.hex
            .retain(|hex, _| TraceKey::Hex(*hex).with_text(&mut keep));
        self.text.retain(|text, _| keep(text));
    }

    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.hex.into_values().chain(self.text.into_values())
    }

    pub fn drain(&mut self) -> impl Iterator<Item = (TraceKey, V)> + '_ {
        let hex = self.hex.drain().map(|(key, v)| (TraceKey::Hex(key), v));
        let text = self.text.drain().map(|(key, v)| (TraceKey::Text(key), v));
        hex.chain(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::hex_trace_id;

    #[test]
    fn keys_read_and_order_as_their_text() {
        let ids = [
            "0123456789abcdef0fedcba987654321",
            "ffffffffffffffffffffffffffffffff",
            "00000000000000000000000000000000",
            "trace-7",
            "0123456789ABCDEF0FEDCBA987654321",
            "1",
        ];
        let mut map = TraceMap::default();
        for (index, id) in ids.iter().enumerate() {
            *map.get_or_insert_with(id, hex_trace_id(id), || index) += 10;
        }
        let mut keys: Vec<TraceKey> = map.iter().map(|(key, _)| key).collect();
        keys.sort();
        let texts: Vec<String> = keys.iter().map(TraceKey::to_string).collect();
        let mut expected: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        expected.sort();
        assert_eq!(texts, expected);
        assert_eq!(map.get_mut("trace-7", None), Some(&mut 13));
        map.retain_ids(|id| id != ids[0] && id != "1");
        assert_eq!(map.remove_id("trace-7"), Some(13));
        map.retain(|v| *v != 14);
        let left: Vec<String> = map.iter().map(|(key, _)| key.to_string()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
        let ones = "ffffffffffffffffffffffffffffffff";
        assert_eq!(map.get_mut(ones, hex_trace_id(ones)), Some(&mut 11));
    }
}
