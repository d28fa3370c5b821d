//! Per-name state looked up for every event (a node's counts, a tenant's id): names numbered
//! in order of first sight, found through a small cache keyed by the name's allocation. The
//! decoders hand out one `Name` per distinct text, so most events find theirs without hashing
//! and comparing its text. The cache holds the names it keys, so an address never names
//! another text.

use super::{Name, NameMap, with_hex_trace_text};

/// Names numbered in order of first sight (see the module).
#[derive(Debug)]
pub struct NameIds {
    names: Vec<Name>,
    ids: NameMap<u32>,
    /// Recently looked-up names by allocation address; holding the `Name` keeps the address
    /// from being reused by another text.
    cache: Vec<Option<(Name, u32)>>,
}

const CACHE_SLOTS: usize = 256;

impl Default for NameIds {
    fn default() -> NameIds {
        NameIds {
            names: Vec::new(),
            ids: NameMap::default(),
            cache: vec![None; CACHE_SLOTS],
        }
    }
}

impl NameIds {
    #[inline(always)]
    fn cache_slot(name: &Name) -> usize {
        let address = name.as_ptr() as usize as u64;
        (address.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize % CACHE_SLOTS
    }

    /// The id of `name`, and whether it is new.
    #[inline]
    pub fn intern(&mut self, name: &Name) -> (u32, bool) {
        match self.cached(name) {
            Some(id) => (id, false),
            None => self.intern_uncached(name),
        }
    }

    #[inline(never)]
    fn intern_uncached(&mut self, name: &Name) -> (u32, bool) {
        if let Some(id) = self.find_uncached(name) {
            return (id, false);
        }
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.ids.insert(name.clone(), id);
        self.cache[Self::cache_slot(name)] = Some((name.clone(), id));
        (id, true)
    }

    /// The id of `name`, if it has one.
    #[inline]
    pub fn find(&mut self, name: &Name) -> Option<u32> {
        self.cached(name).or_else(|| self.find_uncached(name))
    }

    #[inline(always)]
    fn cached(&self, name: &Name) -> Option<u32> {
        match &self.cache[Self::cache_slot(name)] {
            Some((cached, id)) if Name::ptr_eq(cached, name) => Some(*id),
            _ => None,
        }
    }

    #[inline(never)]
    fn find_uncached(&mut self, name: &Name) -> Option<u32> {
        let id = *self.ids.get(name)?;
        self.cache[Self::cache_slot(name)] = Some((name.clone(), id));
        Some(id)
    }

    /// The id of the name with this text, if it has one (no cache: for reports).
    pub fn find_text(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    pub fn name(&self, id: u32) -> &Name {
        &self.names[id as usize]
    }

    pub fn names(&self) -> &[Name] {
        &self.names
    }
}

/// A value per name, in order of first sight, found as `NameIds` finds ids.
#[derive(Debug)]
pub struct NameSlots<V> {
    ids: NameIds,
    values: Vec<V>,
}

impl<V> Default for NameSlots<V> {
    fn default() -> NameSlots<V> {
        NameSlots {
            ids: NameIds::default(),
            values: Vec::new(),
        }
    }
}

impl<V> NameSlots<V> {
    /// The value of `name`, made by `make` if it has none yet.
    pub fn get_or_insert_with(&mut self, name: &Name, make: impl FnOnce() -> V) -> &mut V {
        let (id, new) = self.ids.intern(name);
        if new {
            self.values.push(make());
        }
        &mut self.values[id as usize]
    }

    pub fn get_mut(&mut self, name: &Name) -> Option<&mut V> {
        let id = self.ids.find(name)?;
        self.values.get_mut(id as usize)
    }

    /// The value of the name with this text.
    pub fn get(&self, text: &str) -> Option<&V> {
        let id = self.ids.find_text(text)?;
        self.values.get(id as usize)
    }

    /// Names with a value.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Names and values, in order of first sight.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &V)> {
        self.ids.names().iter().zip(&self.values)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.values.iter_mut()
    }
}

/// The names of the hex trace ids a decoder left unnamed ([`super::Event::set_unnamed_hex_trace`]),
/// made by the thread that takes the events: one `Name` per id while its trace is recent,
/// found by its bits. Ids that share a slot evict each other: a second name of the same text
/// then, never another text.
pub struct HexTraceNames {
    slots: Vec<Option<([u64; 2], Name)>>,
}

const TRACE_SLOT_BITS: u32 = 12;

impl Default for HexTraceNames {
    fn default() -> HexTraceNames {
        HexTraceNames {
            slots: vec![None; 1 << TRACE_SLOT_BITS],
        }
    }
}

impl HexTraceNames {
    /// The name of the hex trace id `bits`.
    #[inline]
    pub fn name(&mut self, bits: [u64; 2]) -> Name {
        let mixed = (bits[0] ^ bits[1].rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = &mut self.slots[(mixed >> (64 - TRACE_SLOT_BITS)) as usize];
        match slot {
            Some((held, name)) if *held == bits => name.clone(),
            _ => {
                let name = with_hex_trace_text(bits, |text| Name::from(text));
                *slot = Some((bits, name.clone()));
                name
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::hex_trace_id;

    /// Each id's name is its text, whichever ids shared its slot before it.
    #[test]
    fn a_hex_trace_id_is_named_by_its_text_and_slot_mates_evict_each_other() {
        let mut names = HexTraceNames::default();
        let ids: Vec<String> = (0..3 * (1u64 << TRACE_SLOT_BITS))
            .map(|i| format!("{:016x}{:016x}", i.wrapping_mul(0x2545_f491_4f6c_dd1d), i))
            .collect();
        for round in 0..2 {
            for id in &ids {
                let bits = hex_trace_id(id).expect("hex");
                assert_eq!(&*names.name(bits), id.as_str(), "round {round}");
            }
        }
        // Met again while still in its slot: the same name, not another copy.
        let bits = hex_trace_id(&ids[0]).expect("hex");
        let first = names.name(bits);
        assert_eq!(first.as_ptr(), names.name(bits).as_ptr());
    }

    #[test]
    fn a_name_finds_its_value_by_any_copy_of_its_text() {
        let mut slots: NameSlots<u32> = NameSlots::default();
        let a = Name::from("retrieve");
        let a_again = Name::from("retrieve"); // another allocation, same text
        let b = Name::lasting("llm").expect("short");
        *slots.get_or_insert_with(&a, || 0) += 1;
        *slots.get_or_insert_with(&a_again, || 0) += 1;
        *slots.get_or_insert_with(&b, || 0) += 5;
        *slots.get_mut(&a).expect("known") += 1;
        assert_eq!(slots.get("retrieve"), Some(&3));
        assert_eq!(slots.get("llm"), Some(&5));
        assert_eq!(slots.get("pack"), None);
        assert!(slots.get_mut(&Name::from("pack")).is_none());
        let order: Vec<(&str, u32)> = slots.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        assert_eq!(order, [("retrieve", 3), ("llm", 5)]);
    }
}
