//! Tenant propagation. `FlowEvent` has no tenant: it lives in the message headers, and teams log
//! it on some lines only (a formatter's `tenant`, an ingress line with the trace id). Any line
//! that carries both a trace id and a tenant ties them; the trace's other events get that tenant.
//!
//! The stream is in time order, so an ingress line (logged before the trace's events) is seen
//! before the events it names. Events seen before any line naming their tenant keep none.

use std::collections::HashMap;

use super::Record;
use crate::event::Event;

/// The tenants seen for each trace, first one first.
#[derive(Debug, Default)]
pub struct TenantMap {
    by_trace: HashMap<String, Vec<String>>,
}

impl TenantMap {
    fn learn(&mut self, trace_id: &str, tenant: &str) {
        match self.by_trace.get_mut(trace_id) {
            Some(tenants) => {
                if !tenants.iter().any(|known| known == tenant) {
                    tenants.push(tenant.to_string());
                }
            }
            None => {
                self.by_trace
                    .insert(trace_id.to_string(), vec![tenant.to_string()]);
            }
        }
    }

    /// The tenant of a trace: the first one seen.
    pub fn tenant_of(&self, trace_id: &str) -> Option<&str> {
        self.by_trace.get(trace_id)?.first().map(String::as_str)
    }

    /// Every tenant a trace was seen with; more than one is a tenant-boundary defect.
    pub fn tenants_of(&self, trace_id: &str) -> &[String] {
        self.by_trace.get(trace_id).map_or(&[], Vec::as_slice)
    }

    /// Learns from a record; returns the event (tenant filled in) or `None` for a tenant line.
    pub(crate) fn apply(&mut self, record: Record) -> Option<Event> {
        match record {
            Record::TraceTenant {
                trace_id, tenant, ..
            } => {
                self.learn(&trace_id, &tenant);
                None
            }
            Record::Event(mut event) => {
                if let Some(trace_id) = &event.trace_id {
                    match &event.tenant {
                        Some(tenant) => self.learn(trace_id, tenant),
                        None => event.tenant = self.tenant_of(trace_id).map(str::to_string),
                    }
                }
                Some(*event)
            }
        }
    }
}
