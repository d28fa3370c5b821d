//! Analyses: each one a fold over the event stream in one pass, so that one read can feed
//! several of them. The shared rules live here once: `category` (failure classification),
//! `graph` (flow inference), `trace` (a trace's summary and status).

pub mod category;
pub mod classify;
pub mod deadline_cause;
pub mod find;
pub mod graph;
pub mod lint;
pub mod metrics;
pub mod percentile;
pub mod remediation;
pub mod report;
pub mod saturation;
pub mod tenant_share;
pub mod topology;
pub mod trace;
pub mod tracebook;
pub mod traces;
pub mod triage;
pub mod waterfall;
