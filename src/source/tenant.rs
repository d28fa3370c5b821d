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
use crate::event::{Event, Name, NameMap, Timestamp};

/// A trace quiet for this long (log time) is taken as finished.
pub const IDLE_TRACE_MICROS: i64 = 10 * 60 * 1_000_000;

#[derive(Debug)]
struct Seen {
    tenants: Vec<Name>,
    last_ts: Timestamp,
}

/// The tenants seen for each trace, first one first.
#[derive(Debug, Default)]
pub struct TenantMap {
    by_trace: NameMap<Seen>,
    /// Traces seen with more than one tenant, kept after they are forgotten.
    cross_tenant: HashMap<Name, Vec<Name>>,
    newest: Timestamp,
    last_eviction: Timestamp,
}

impl TenantMap {
    fn learn(&mut self, trace_id: &Name, tenant: &Name, ts: Timestamp) {
        match self.by_trace.get_mut(trace_id) {
            Some(seen) => {
                seen.last_ts = seen.last_ts.max(ts);
                if !seen.tenants.iter().any(|known| known == tenant) {
                    seen.tenants.push(Name::clone(tenant));
                }
            }
            None => {
                self.by_trace.insert(
                    Name::clone(trace_id),
                    Seen {
                        tenants: vec![Name::clone(tenant)],
                        last_ts: ts,
                    },
                );
            }
        }
    }

    /// The tenant of a trace: the first one seen.
    pub fn tenant_of(&self, trace_id: &str) -> Option<&str> {
        self.by_trace
            .get(trace_id)
            .and_then(|seen| seen.tenants.first())
            .or_else(|| self.cross_tenant.get(trace_id).and_then(|t| t.first()))
            .map(|tenant| &**tenant)
    }

    /// Every tenant a trace was seen with; more than one is a tenant-boundary defect.
    pub fn tenants_of(&self, trace_id: &str) -> &[Name] {
        if let Some(tenants) = self.cross_tenant.get(trace_id) {
            return tenants;
        }
        self.by_trace
            .get(trace_id)
            .map_or(&[], |seen| seen.tenants.as_slice())
    }

    /// Traces seen with more than one tenant, by trace id.
    pub fn cross_tenant(&self) -> Vec<(&str, &[Name])> {
        let mut traces: Vec<(&str, &[Name])> = self
            .cross_tenant
            .iter()
            .map(|(trace, tenants)| (&**trace, tenants.as_slice()))
            .chain(
                self.by_trace
                    .iter()
                    .filter(|(_, seen)| seen.tenants.len() > 1)
                    .map(|(trace, seen)| (&**trace, seen.tenants.as_slice())),
            )
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
        let cross = &mut self.cross_tenant;
        self.by_trace.retain(|trace, seen| {
            let keep = seen.last_ts.0 >= cutoff;
            if !keep && seen.tenants.len() > 1 {
                cross.insert(trace.clone(), std::mem::take(&mut seen.tenants));
            }
            keep
        });
    }

    /// Learns the tenant an event carries (one read already, its tenant filled in), without
    /// taking it: for analyses over events held in memory (`--watch`).
    pub(crate) fn observe_event(&mut self, event: &Event) {
        if let (Some(trace_id), Some(tenant)) = (&event.trace_id, &event.tenant) {
            self.newest = self.newest.max(event.ts);
            self.learn(trace_id, tenant, event.ts);
        }
    }

    /// Learns from a record; returns the event (tenant filled in) or `None` for a tenant line.
    pub(crate) fn apply(&mut self, record: Record) -> Option<Box<Event>> {
        let result = match record {
            Record::TraceTenant {
                ts,
                trace_id,
                tenant,
            } => {
                self.newest = self.newest.max(ts);
                self.learn(&Name::from(trace_id), &Name::from(tenant), ts);
                None
            }
            Record::Event(mut event) => {
                self.newest = self.newest.max(event.ts);
                if let Some(trace_id) = &event.trace_id {
                    match &event.tenant {
                        Some(tenant) => self.learn(trace_id, tenant, event.ts),
                        None => {
                            if let Some(seen) = self.by_trace.get_mut(trace_id) {
                                seen.last_ts = seen.last_ts.max(event.ts);
                                event.tenant = seen.tenants.first().cloned();
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
