//! A map keyed by trace id for state held per open trace (the trace book, saturation's pending
//! counts): a uuid4-hex id (PenguiFlow's `uuid4().hex`) is kept as its 128 bits, any other id
//! as a name allocated here. Never as the `Name` the decoding threads allocated: held for
//! minutes of log time, those kept the decoders' memory pages from being reused.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

use super::{Name, NameMap, with_hex_trace_text};

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
            TraceKey::Hex(hex) => with_hex_trace_text(*hex, f),
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

/// Per-trace state keyed by trace id: hex ids in a [`HexTable`], others in a map of names.
#[derive(Debug)]
pub struct TraceMap<V> {
    hex: HexTable<V>,
    text: NameMap<V>,
}

impl<V> Default for TraceMap<V> {
    fn default() -> TraceMap<V> {
        TraceMap {
            hex: HexTable::default(),
            text: NameMap::default(),
        }
    }
}

impl<V> TraceMap<V> {
    /// `hex`: the id as [`crate::event::hex_trace_id`] reads it (an event's `keys().hex_trace`, read on the
    /// decoding threads).
    pub fn get(&self, trace_id: &str, hex: Option<[u64; 2]>) -> Option<&V> {
        match hex {
            Some(hex) => self.hex.get(&hex),
            None => self.text.get(trace_id),
        }
    }

    /// `hex` as for [`TraceMap::get`].
    pub fn get_mut(&mut self, trace_id: &str, hex: Option<[u64; 2]>) -> Option<&mut V> {
        match hex {
            Some(hex) => self.hex.get_mut(&hex),
            None => self.text.get_mut(trace_id),
        }
    }

    /// Looked up for every event: the hex path is kept small and inlined where it is called
    /// (left to the compiler, whether it was inlined changed with unrelated edits).
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        trace_id: &str,
        hex: Option<[u64; 2]>,
        make: impl FnOnce() -> V,
    ) -> &mut V {
        match hex {
            Some(hex) => self.hex.get_or_insert_with(hex, make),
            None => self.text_get_or_insert_with(trace_id, make),
        }
    }

    #[inline(never)]
    fn text_get_or_insert_with(&mut self, trace_id: &str, make: impl FnOnce() -> V) -> &mut V {
        if !self.text.contains_key(trace_id) {
            self.text.insert(Name::from(trace_id), make());
        }
        self.text.get_mut(trace_id).expect("inserted")
    }

    pub fn len(&self) -> usize {
        self.hex.len + self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

/// Entries in a chunk of a [`HexTable`] (a power of two).
const CHUNK: usize = 4096;

/// Slots of a [`HexTable`]'s recent positions (a power of two): several times the few dozen
/// traces a flow has in flight, so that two of them seldom share a slot.
const RECENT: usize = 256;
/// An empty recent slot's position.
const NO_POSITION: u32 = u32::MAX;

/// Values keyed by 128-bit trace ids, for the traces of minutes of log time (150,000 at 1
/// GiB): a hash index of 4-byte positions into chunks where the entries sit side by side.
/// A hash map of the entries themselves (48 bytes each for saturation's pending counts) left
/// up to half its slots empty after each doubling, and held both tables while it grew; here
/// only the index doubles, and a chunk, once made, never moves. A removal moves the last
/// entry into the hole, so iteration follows positions, the same from run to run.
struct HexTable<V> {
    /// Positions in `keys`/`values`, hashed by the key at that position.
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    /// Entry `p` is at `[p / CHUNK][p % CHUNK]`; each chunk has `CHUNK` slots' room.
    keys: Vec<Vec<[u64; 2]>>,
    values: Vec<Vec<V>>,
    len: usize,
    /// The positions of keys looked up lately, by a few bits of the key: the traces in flight
    /// are found here, in a few kilobytes that stay in cache, instead of through the index's
    /// probe and the keys' chunk (two cache misses a lookup in tables of a hundred thousand
    /// traces, the costliest lines of the pass). A slot holds a key's current position or
    /// none: removals keep it so.
    recent: Box<[([u64; 2], u32); RECENT]>,
}

impl<V> Default for HexTable<V> {
    fn default() -> HexTable<V> {
        HexTable {
            index: hashbrown::HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            keys: Vec::new(),
            values: Vec::new(),
            len: 0,
            recent: Box::new([([0; 2], NO_POSITION); RECENT]),
        }
    }
}

/// The recent slot of `key`: its two words mixed by one multiplication (a trace id's last
/// digits are often a counter, its first ones random).
fn recent_slot(key: &[u64; 2]) -> usize {
    let mixed = (key[0] ^ key[1].rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> (u64::BITS - RECENT.trailing_zeros())) as usize
}

impl<V> fmt::Debug for HexTable<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HexTable").field("len", &self.len).finish()
    }
}

/// The chunk and the place in it of entry `at`.
fn place(at: usize) -> (usize, usize) {
    (at / CHUNK, at % CHUNK)
}

/// The key at `position` of chunks `keys`.
fn key_at(keys: &[Vec<[u64; 2]>], position: u32) -> &[u64; 2] {
    let (chunk, slot) = place(position as usize);
    &keys[chunk][slot]
}

impl<V> HexTable<V> {
    /// The key's 128 bits in one multiply-fold (an array's `Hash` adds its length and goes
    /// through the byte path).
    fn hash(hasher: &foldhash::fast::RandomState, key: &[u64; 2]) -> u64 {
        let mut state = hasher.build_hasher();
        state.write_u128(u128::from(key[0]) | u128::from(key[1]) << 64);
        state.finish()
    }

    fn position(&self, key: &[u64; 2]) -> Option<usize> {
        if let Some(at) = self.recent_position(key) {
            return Some(at);
        }
        let hash = Self::hash(&self.hasher, key);
        let keys = &self.keys;
        let found = self.index.find(hash, |&at| key_at(keys, at) == key)?;
        Some(*found as usize)
    }

    /// The position of `key` if it was looked up lately.
    #[inline]
    fn recent_position(&self, key: &[u64; 2]) -> Option<usize> {
        let (known, at) = self.recent[recent_slot(key)];
        (at != NO_POSITION && known == *key).then(|| {
            debug_assert_eq!(key_at(&self.keys, at), key);
            at as usize
        })
    }

    fn value_mut(&mut self, at: usize) -> &mut V {
        let (chunk, slot) = place(at);
        &mut self.values[chunk][slot]
    }

    fn get(&self, key: &[u64; 2]) -> Option<&V> {
        let (chunk, slot) = place(self.position(key)?);
        Some(&self.values[chunk][slot])
    }

    fn get_mut(&mut self, key: &[u64; 2]) -> Option<&mut V> {
        let at = self.position(key)?;
        Some(self.value_mut(at))
    }

    #[inline]
    fn get_or_insert_with(&mut self, key: [u64; 2], make: impl FnOnce() -> V) -> &mut V {
        if let Some(at) = self.recent_position(&key) {
            return self.value_mut(at);
        }
        let hash = Self::hash(&self.hasher, &key);
        let keys = &self.keys;
        // Nearly every call finds its trace (one insert per trace, many events): looked up
        // first, without the insert slot `entry` would track.
        let at = match self.index.find(hash, |&at| *key_at(keys, at) == key) {
            Some(&at) => at as usize,
            None => self.insert_new(hash, key, make),
        };
        self.recent[recent_slot(&key)] = (key, at as u32);
        self.value_mut(at)
    }

    /// A trace not met before: its position.
    #[inline(never)]
    fn insert_new(&mut self, hash: u64, key: [u64; 2], make: impl FnOnce() -> V) -> usize {
        let at = self.len;
        let HexTable {
            index,
            hasher,
            keys,
            ..
        } = self;
        // Made before the index names its position.
        let value = make();
        // 2^32 traces at once would take hundreds of GiB first.
        let position = u32::try_from(at).expect("fewer than 2^32 open traces");
        index.insert_unique(hash, position, |&at| Self::hash(hasher, key_at(keys, at)));
        self.push(key, value);
        at
    }

    fn push(&mut self, key: [u64; 2], value: V) {
        let chunk = self.len / CHUNK;
        if chunk == self.keys.len() {
            self.keys.push(Vec::with_capacity(CHUNK));
            self.values.push(Vec::with_capacity(CHUNK));
        }
        self.keys[chunk].push(key);
        self.values[chunk].push(value);
        self.len += 1;
    }

    fn remove(&mut self, key: &[u64; 2]) -> Option<V> {
        let at = self.position(key)?;
        Some(self.remove_at(at).1)
    }

    /// Removes the entry at `at` (its index slot included), moving the last entry there.
    fn remove_at(&mut self, at: usize) -> ([u64; 2], V) {
        let HexTable {
            index,
            hasher,
            keys,
            values,
            len,
            recent,
        } = self;
        let removed = *key_at(keys, at as u32);
        let slot = &mut recent[recent_slot(&removed)];
        if slot.1 as usize == at {
            *slot = ([0; 2], NO_POSITION);
        }
        let hash = Self::hash(hasher, &removed);
        if let Ok(slot) = index.find_entry(hash, |&slot| slot as usize == at) {
            slot.remove();
        }
        *len -= 1;
        let last = *len;
        let (chunk, _) = place(last);
        let last_key = keys[chunk].pop().expect("the last entry");
        let last_value = values[chunk].pop().expect("the last entry");
        // One chunk past the one holding the end is kept (both may then be empty): a table
        // whose size goes back and forth over a chunk's edge does not make and free a chunk
        // each time.
        if keys.len() > chunk + 2 {
            keys.pop();
            values.pop();
        }
        if at == last {
            return (last_key, last_value);
        }
        let hash = Self::hash(hasher, &last_key);
        if let Some(slot) = index.find_mut(hash, |&slot| slot as usize == last) {
            *slot = at as u32;
        }
        let slot = &mut recent[recent_slot(&last_key)];
        if slot.1 as usize == last {
            slot.1 = at as u32;
        }
        let (chunk, slot) = place(at);
        let key = std::mem::replace(&mut keys[chunk][slot], last_key);
        let value = std::mem::replace(&mut values[chunk][slot], last_value);
        (key, value)
    }

    fn iter(&self) -> impl Iterator<Item = (&[u64; 2], &V)> {
        self.keys.iter().flatten().zip(self.values.iter().flatten())
    }

    fn values(&self) -> impl Iterator<Item = &V> {
        self.values.iter().flatten()
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.values.iter_mut().flatten()
    }

    fn retain(&mut self, mut keep: impl FnMut(&[u64; 2], &mut V) -> bool) {
        let mut at = 0;
        while at < self.len {
            let key = *key_at(&self.keys, at as u32);
            if keep(&key, self.value_mut(at)) {
                at += 1;
            } else {
                // The last entry moves here: looked at next.
                self.remove_at(at);
            }
        }
    }

    fn into_values(self) -> impl Iterator<Item = V> {
        self.values.into_iter().flatten()
    }

    fn drain(&mut self) -> impl Iterator<Item = ([u64; 2], V)> + use<V> {
        self.index.clear();
        self.recent.fill(([0; 2], NO_POSITION));
        self.len = 0;
        let keys = std::mem::take(&mut self.keys);
        let values = std::mem::take(&mut self.values);
        keys.into_iter().flatten().zip(values.into_iter().flatten())
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

    #[test]
    fn recent_positions_follow_inserts_removals_and_moves() {
        // Few keys, as the traces in flight: nearly every lookup is answered by the recent
        // positions, while removals move the last entry about (debug builds check each
        // recent answer against the keys).
        for pool in [48_u64, 300] {
            let mut table: HexTable<u64> = HexTable::default();
            let mut expected: std::collections::HashMap<[u64; 2], u64> = Default::default();
            let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ pool;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            for step in 0..50_000_u64 {
                let draw = next();
                let key = [draw % pool, (draw % pool).wrapping_mul(0x1f3d)];
                match draw >> 61 {
                    0..=3 => {
                        *table.get_or_insert_with(key, || step) += 1;
                        *expected.entry(key).or_insert(step) += 1;
                    }
                    4 | 5 => assert_eq!(table.remove(&key), expected.remove(&key)),
                    _ => assert_eq!(table.get(&key), expected.get(&key)),
                }
                if step % 5_000 == 0 {
                    let cut = next() % 3;
                    table.retain(|_, value| *value % 3 != cut);
                    expected.retain(|_, value| *value % 3 != cut);
                }
                assert_eq!(table.len, expected.len());
            }
            let hits = expected
                .keys()
                .filter(|key| table.recent_position(key).is_some())
                .count();
            assert!(
                hits > 0,
                "the recent positions answered nothing ({pool} keys)"
            );
            for (key, value) in &expected {
                assert_eq!(table.get(key), Some(value));
            }
        }
    }

    /// Random inserts, updates, removals and sweeps over a few chunks' worth of keys, each
    /// step checked against a plain map: positions moved by removals stay found.
    #[test]
    fn hex_table_agrees_with_a_hash_map() {
        let mut table: HexTable<u64> = HexTable::default();
        let mut expected: std::collections::HashMap<[u64; 2], u64> = Default::default();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Keys drawn from a pool somewhat larger than three chunks: hits and misses both.
        let pool = 3 * CHUNK as u64 + 500;
        for step in 0..200_000_u64 {
            let draw = next();
            let key = [draw % pool, (draw % pool) ^ 0xabcd];
            match draw >> 60 {
                0..=6 => {
                    *table.get_or_insert_with(key, || step) += 1;
                    *expected.entry(key).or_insert(step) += 1;
                }
                7..=11 => assert_eq!(table.remove(&key), expected.remove(&key)),
                12 | 13 => assert_eq!(table.get(&key), expected.get(&key)),
                14 => {
                    if let (Some(value), Some(want)) = (table.get_mut(&key), expected.get(&key)) {
                        assert_eq!(value, want);
                    }
                }
                _ => {}
            }
            if step % 20_000 == 0 {
                // A sweep, as the maps forget idle traces.
                let cut = next() % 4;
                table.retain(|_, value| *value % 4 != cut);
                expected.retain(|_, value| *value % 4 != cut);
            }
            assert_eq!(table.len, expected.len());
            assert!(
                table.keys.len() <= table.len / CHUNK + 2,
                "spare chunks kept"
            );
        }
        assert!(table.len > CHUNK, "the walk spanned chunks: {}", table.len);
        let mut seen: Vec<([u64; 2], u64)> = table.iter().map(|(k, v)| (*k, *v)).collect();
        let mut want: Vec<([u64; 2], u64)> = expected.into_iter().collect();
        seen.sort_unstable();
        want.sort_unstable();
        assert_eq!(seen, want);
        let drained: Vec<([u64; 2], u64)> = table.drain().collect();
        assert_eq!(drained.len(), want.len());
        assert_eq!(table.len, 0);
        assert_eq!(table.get(&want[0].0), None);
        *table.get_or_insert_with(want[0].0, || 7) += 1;
        assert_eq!(table.get(&want[0].0), Some(&8));
    }
}
