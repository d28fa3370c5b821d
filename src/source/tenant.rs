//! Tenant propagation. `FlowEvent` has no tenant: it lives in the message headers, and teams log
//! it on some lines only (a formatter's `tenant`, an ingress line with the trace id). Any line
//! that carries both a trace id and a tenant ties them; the trace's other events get that tenant.
//!
//! The stream is in time order, so an ingress line (logged before the trace's events) is seen
//! before the events it names. Events seen before any line naming their tenant keep none. A
//! trace not seen for `IDLE_TRACE_MICROS` of log time is forgotten (memory stays bounded by the
//! traces in flight), except when it carried more than one tenant: those are kept for reports.

use std::collections::HashMap;

use super::Record;
use crate::event::{Event, Name, NameIds, Timestamp, TraceMap, hex_trace_id};

/// A trace quiet for this long (log time) is taken as finished.
pub const IDLE_TRACE_MICROS: i64 = 10 * 60 * 1_000_000;

/// A trace's first tenant (an index into the map's tenant names) and the time of its latest
/// event. Ten minutes of a busy service are a hundred thousand traces and more: each costs 28
/// bytes here (with its id as 128 bits when it is hex), not its strings.
#[derive(Debug, Clone, Copy)]
struct Seen {
    tenant: u32,
    /// The microseconds of a `Timestamp` in two halves (low, high): 12 bytes with 4-byte
    /// alignment, where an `i64` would pad the entry to 16.
    last_ts: [u32; 2],
}

impl Seen {
    fn new(tenant: u32, ts: Timestamp) -> Seen {
        Seen {
            tenant,
            last_ts: [ts.0 as u32, (ts.0 >> 32) as u32],
        }
    }

    fn last_ts(&self) -> Timestamp {
        Timestamp(i64::from(self.last_ts[0]) | i64::from(self.last_ts[1] as i32) << 32)
    }

    /// Moves the latest event's time up to `ts`.
    fn saw(&mut self, ts: Timestamp) {
        if ts > self.last_ts() {
            *self = Seen::new(self.tenant, ts);
        }
    }
}

/// The tenants seen for each trace, first one first.
#[derive(Debug)]
pub struct TenantMap {
    by_trace: TraceMap<Seen>,
    /// Tenant names, numbered for `Seen::tenant` (most events find theirs by its address).
    tenants: NameIds,
    /// Traces seen with more than one tenant (all of them, first one first), kept after they
    /// are forgotten.
    cross_tenant: HashMap<Name, Vec<Name>>,
    newest: Timestamp,
    last_eviction: Timestamp,
}

/// `newest` and `last_eviction` start before any time: at zero (1970), a log dated earlier
/// never moved them, and nothing idle was ever dropped.
impl Default for TenantMap {
    fn default() -> TenantMap {
        TenantMap {
            by_trace: TraceMap::default(),
            tenants: NameIds::default(),
            cross_tenant: HashMap::default(),
            newest: Timestamp(i64::MIN),
            last_eviction: Timestamp(i64::MIN),
        }
    }
}

impl TenantMap {
    fn seen(&self, trace_id: &str) -> Option<&Seen> {
        self.by_trace.get(trace_id, hex_trace_id(trace_id))
    }

    /// `hex` is the trace id as [`hex_trace_id`] reads it.
    fn learn(&mut self, trace_id: &Name, hex: Option<[u64; 2]>, tenant: &Name, ts: Timestamp) {
        let (id, _) = self.tenants.intern(tenant);
        let first_seen = Seen::new(id, ts);
        let seen = self
            .by_trace
            .get_or_insert_with(trace_id, hex, || first_seen);
        seen.saw(ts);
        if seen.tenant != id {
            let first = Name::clone(self.tenants.name(seen.tenant));
            let all = self
                .cross_tenant
                .entry(Name::clone(trace_id))
                .or_insert_with(|| vec![first]);
            if !all.iter().any(|known| known == tenant) {
                all.push(Name::clone(tenant));
            }
        }
    }

    /// The tenant of a trace: the first one seen.
    pub fn tenant_of(&self, trace_id: &str) -> Option<&str> {
        self.tenants_of(trace_id).first().map(|tenant| &**tenant)
    }

    /// Every tenant a trace was seen with; more than one is a tenant-boundary defect.
    pub fn tenants_of(&self, trace_id: &str) -> &[Name] {
        if let Some(tenants) = self.cross_tenant.get(trace_id) {
            return tenants;
        }
        self.seen(trace_id).map_or(&[], |seen| {
            let at = seen.tenant as usize;
            self.tenants.names().get(at..=at).unwrap_or_default()
        })
    }

    /// Traces seen with more than one tenant, by trace id.
    pub fn cross_tenant(&self) -> Vec<(&str, &[Name])> {
        let mut traces: Vec<(&str, &[Name])> = self
            .cross_tenant
            .iter()
            .map(|(trace, tenants)| (&**trace, tenants.as_slice()))
            .collect();
        traces.sort();
        traces
    }

    fn forget_idle(&mut self) {
        if self.newest.0.saturating_sub(self.last_eviction.0) < IDLE_TRACE_MICROS / 4 {
            return;
        }
        self.last_eviction = self.newest;
        let cutoff = self.newest.0.saturating_sub(IDLE_TRACE_MICROS);
        // Cross-tenant traces stay in `cross_tenant` for the reports.
        self.by_trace.retain(|seen| seen.last_ts().0 >= cutoff);
    }

    /// Learns the tenant an event carries (one read already, its tenant filled in), without
    /// taking it: for analyses over events held in memory (`--watch`).
    pub(crate) fn observe_event(&mut self, event: &Event) {
        if let (Some(trace_id), Some(tenant)) = (&event.trace_id, &event.tenant) {
            self.newest = self.newest.max(event.ts);
            self.learn(trace_id, event.keys().hex_trace, tenant, event.ts);
        }
    }

    /// Learns from a record; returns the event (tenant filled in) or `None` for a tenant line.
    pub(crate) fn apply(&mut self, record: Record) -> Option<Box<Event>> {
        let result = match record {
            Record::TraceTenant(line) => {
                let super::TraceTenant {
                    ts,
                    trace_id,
                    tenant,
                } = *line;
                self.newest = self.newest.max(ts);
                let hex = hex_trace_id(&trace_id);
                self.learn(&Name::from(trace_id), hex, &Name::from(tenant), ts);
                None
            }
            Record::Event(mut event) => {
                self.newest = self.newest.max(event.ts);
                if let Some(trace_id) = &event.trace_id {
                    // Parsed on the decoding thread.
                    let hex = event.keys().hex_trace;
                    match &event.tenant {
                        Some(tenant) => self.learn(trace_id, hex, tenant, event.ts),
                        None => {
                            if let Some(seen) = self.by_trace.get_mut(trace_id, hex) {
                                seen.saw(event.ts);
                                let first = seen.tenant as usize;
                                event.tenant = self.tenants.names().get(first).cloned();
                            }
                        }
                    }
                }
                Some(event)
            }
            Record::Skipped | Record::OtherKind => None,
        };
        self.forget_idle();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, test_event};

    const MINUTE_MS: i64 = 60_000;

    fn tenant_line(ms: i64, trace: &str, tenant: &str) -> Record {
        Record::TraceTenant(Box::new(super::super::TraceTenant {
            ts: Timestamp(ms * 1000),
            trace_id: trace.to_string(),
            tenant: tenant.to_string(),
        }))
    }

    /// The tenant `map` gives an event of `trace` at `ms` that carries none.
    fn tenant_given(map: &mut TenantMap, ms: i64, trace: &str) -> Option<String> {
        let event = test_event(ms, trace, "score", Kind::NodeStart);
        let event = map.apply(Record::Event(Box::new(event))).expect("an event");
        event.tenant.as_deref().map(str::to_string)
    }

    #[test]
    fn traces_quiet_for_ten_minutes_are_forgotten_and_others_kept() {
        let quiet = "0123456789abcdef0123456789abcdef";
        let busy = "fedcba9876543210fedcba9876543210";
        let text = "trace-7";
        let mut map = TenantMap::default();
        assert!(map.apply(tenant_line(0, quiet, "acme")).is_none());
        assert!(map.apply(tenant_line(0, text, "globex")).is_none());
        assert!(map.apply(tenant_line(0, busy, "initech")).is_none());
        // `busy` goes on every four minutes; a second tenant makes it cross-tenant.
        for minute in [4, 8] {
            assert_eq!(
                tenant_given(&mut map, minute * MINUTE_MS, busy).as_deref(),
                Some("initech")
            );
        }
        map.apply(tenant_line(8 * MINUTE_MS, busy, "umbrella"));
        // Ten minutes and a half after the first lines: a sweep forgets the quiet traces.
        assert_eq!(
            tenant_given(&mut map, 10 * MINUTE_MS + 30_000, busy).as_deref(),
            Some("initech")
        );
        assert_eq!(tenant_given(&mut map, 10 * MINUTE_MS + 31_000, quiet), None);
        assert_eq!(tenant_given(&mut map, 10 * MINUTE_MS + 32_000, text), None);
        assert_eq!(
            map.tenants_of(busy),
            ["initech", "umbrella"].map(Name::from)
        );
        // Twenty minutes without `busy`: forgotten from the map, kept as cross-tenant.
        tenant_given(&mut map, 31 * MINUTE_MS, quiet);
        assert_eq!(tenant_given(&mut map, 31 * MINUTE_MS, busy), None);
        assert_eq!(map.cross_tenant().len(), 1);
        assert_eq!(map.tenant_of(busy), Some("initech"));
    }

    /// A trace quiet since a fifth of a second before the sweep's ten-minute limit is
    /// forgotten (the limit is kept to the microsecond), before 1970 as after.
    #[test]
    fn the_ten_minute_limit_is_exact_at_any_time() {
        for base in [1_700_000_000_500, -1_000_000_000_000] {
            let trace = "0123456789abcdef0123456789abcdef";
            let other = "fedcba9876543210fedcba9876543210";
            let mut map = TenantMap::default();
            map.apply(tenant_line(base, trace, "acme"));
            for seconds in [150, 300, 450] {
                tenant_given(&mut map, base + seconds * 1000, other);
            }
            // Still there just before the limit.
            assert_eq!(
                tenant_given(&mut map, base + 599_000, other),
                None,
                "{base}: `other` never had a tenant"
            );
            // This sweep's limit is 0.2 s past `trace`'s line.
            tenant_given(&mut map, base + 600_200, other);
            assert_eq!(
                tenant_given(&mut map, base + 601_000, trace),
                None,
                "{base}"
            );
        }
    }

    #[test]
    fn a_time_is_kept_to_the_microsecond() {
        for micros in [
            i64::MIN,
            -1,
            0,
            1,
            u32::MAX as i64,
            1 << 32,
            1_700_000_000_500_001,
            i64::MAX,
        ] {
            let mut seen = Seen::new(7, Timestamp(micros));
            assert_eq!(seen.last_ts(), Timestamp(micros));
            seen.saw(Timestamp(micros.saturating_sub(5)));
            assert_eq!(seen.last_ts(), Timestamp(micros), "never moved back");
            seen.saw(Timestamp(micros.saturating_add(1)));
            assert_eq!(seen.last_ts(), Timestamp(micros.saturating_add(1)));
            assert_eq!(seen.tenant, 7);
        }
    }
}
