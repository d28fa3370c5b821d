//! `triage`: the incident on one screen, or as a Markdown section for the incident document.

use std::io::{self, Write};

use super::{
    Palette, Tone, millis, one_scale, plural, squeeze, statuses_line, thousands, time_axis,
};
use crate::analysis::triage::{SlowTrace, TriageReport, WorstTrace};

pub(crate) fn span(report: &TriageReport) -> String {
    match (report.first_ts, report.last_ts) {
        (Some(first), Some(last)) => format!(
            "{} → {} UTC ({} ms)",
            first.to_datetime().format("%Y-%m-%d %H:%M:%S%.3f"),
            last.to_datetime().format("%H:%M:%S%.3f"),
            millis(last.millis_since(first))
        ),
        _ => "no events".into(),
    }
}

pub(crate) fn categories(report: &TriageReport) -> String {
    let parts: Vec<String> = report
        .categories
        .iter()
        .map(|(category, count)| format!("{category} {}", thousands(*count)))
        .collect();
    format!("not succeeded, by category: {}", parts.join(", "))
}

/// Failures per minute, one sparkline row per category on one scale; and the scale's top.
fn over_time_rows(report: &TriageReport) -> (Vec<(String, String, u64)>, u64) {
    let groups = &report.over_time.groups;
    let pick = |f: fn(&crate::analysis::classify::Group) -> u64| -> Vec<u64> {
        squeeze(&groups.iter().map(f).collect::<Vec<_>>(), 60)
    };
    one_scale(vec![
        ("timeout", pick(|g| g.timeout)),
        ("error", pick(|g| g.error)),
        ("cancel", pick(|g| g.cancel)),
        ("deadline", pick(|g| g.deadline)),
    ])
}

pub(crate) fn worst_line(trace: &WorstTrace) -> String {
    let status = match trace.category {
        Some(category) => format!("{} ({category})", trace.status),
        None => trace.status.to_string(),
    };
    let tenant = trace
        .tenant
        .as_ref()
        .map_or(String::new(), |t| format!(", {t}"));
    let last = trace.last_success.as_deref().unwrap_or("none");
    let next = match (&trace.next_node, &trace.next_event, trace.next_inferred) {
        (Some(node), _, true) if trace.dropped_at.is_some() => format!(
            "next {node} (inferred), but its runtime stopped at {} (node_cancelled): dropped with its queues, not waiting",
            super::clock(trace.dropped_at.unwrap_or_default())
        ),
        (Some(node), _, true) => format!("next {node} (inferred: waiting in its queue)"),
        (Some(node), Some(event), false) if trace.dropped_at.is_some() => format!(
            "next {node} ({event}), but its runtime stopped at {} (node_cancelled): the attempt was cancelled with its worker, not hanging",
            super::clock(trace.dropped_at.unwrap_or_default())
        ),
        (Some(node), Some(event), false) => format!("next {node} ({event})"),
        _ => "no next node".into(),
    };
    let stall = match (trace.stalled_ms, trace.p95_ms) {
        (Some(ms), p95) => format!(
            "; {} {} ms at the end of the input{}",
            if trace.running {
                "attempt running for"
            } else {
                "no progress for"
            },
            millis(ms),
            p95.map_or(String::new(), |p95| format!(
                " ({:.1}x its p95 {} ms)",
                ms / p95.max(0.001),
                millis(p95)
            ))
        ),
        (None, _) => String::new(),
    };
    format!(
        "{} {status}{tenant}: last success {last}, {next}{stall}",
        trace.trace_id
    )
}

/// A succeeded trace slowed far past its path's own work, with where it lost the time, and
/// the command that shows it.
pub(crate) fn slow_line(trace: &SlowTrace) -> String {
    format!(
        "{} (`flowtrace find {}`)",
        slow_verdict(trace),
        trace.trace_id
    )
}

/// `slow_line` without the command (the HTML report shows it as code of its own).
pub(crate) fn slow_verdict(trace: &SlowTrace) -> String {
    let tenant = trace
        .tenant
        .as_ref()
        .map_or(String::new(), |t| format!(", {t}"));
    let lost = match &trace.longest {
        Some(lost) if lost.queued => format!(
            "; most of it waiting for {}: {} ms",
            lost.node_name,
            millis(lost.ms)
        ),
        Some(lost) => format!(
            "; most of it in {}: {} ms{}",
            lost.node_name,
            millis(lost.ms),
            lost.own_p50_ms.map_or(String::new(), |own| format!(
                " (its own work p50 {} ms)",
                millis(own)
            ))
        ),
        None => String::new(),
    };
    format!(
        "{} succeeded{tenant}: {} ms end to end, {:.0}x its path's own work (~{} ms){lost}",
        trace.trace_id,
        millis(trace.duration_ms),
        trace.duration_ms / trace.own_work_ms.max(0.001),
        millis(trace.own_work_ms),
    )
}

/// How many of how many are shown, and the in-flight traces left out.
pub(crate) fn worst_footer(report: &TriageReport) -> String {
    let mut footer = format!(
        "{} of {} failed, skipped or stalled shown",
        report.worst.len(),
        thousands(report.worst_of)
    );
    if report.waiting_normally > 0 {
        footer.push_str(&format!(
            "; {} in flight for less than their node's p95 (waiting their turn) not counted",
            plural(report.waiting_normally, "trace")
        ));
    }
    footer
}

/// A tenant slowed though its traces got through, with the evidence.
pub(crate) fn slowed_text(slowed: &crate::analysis::triage::Slowed) -> String {
    format!(
        "slowed: {} of its {} succeeded took {} ms or more end to end (from the first node's first event), p50 {} ms, p95 {} ms, for ~{} ms of its path's own work ({}; each node's p50 of successes that did not wait on a full queue): they got through, but waited",
        thousands(slowed.slowed),
        thousands(slowed.traces),
        millis(slowed.slowed_from_ms),
        millis(slowed.p50_ms),
        millis(slowed.p95_ms),
        millis(slowed.own_work_ms),
        slowed.path.join(", ")
    )
}

/// What a tenant's traces tell beyond their statuses, each part after "; ": its messages are
/// the bottleneck's load, or it was slowed (behind the tenant whose messages are, when one is).
pub(crate) fn impact_notes(
    report: &TriageReport,
    impact: &crate::analysis::triage::TenantImpact,
) -> String {
    let mut notes = String::new();
    if let Some(load) = &impact.load {
        let node = &load.node_name;
        notes.push_str(&format!(
            "; its messages are {node}'s load: {:.0}% of {node}'s own work for {:.0}% of the messages it took, {} ms each against {} ms for the other tenants' (the other tenants wait behind them: see what to do)",
            load.work_share * 100.0,
            load.message_share * 100.0,
            millis(load.ms_per_message),
            millis(load.others_ms_per_message),
        ));
    }
    if let Some(slowed) = &impact.slowed {
        notes.push_str("; ");
        notes.push_str(&slowed_text(slowed));
        let heavy = report
            .tenants
            .iter()
            .find_map(|other| Some((other.tenant.as_str(), other.load.as_ref()?)));
        match (&impact.load, heavy) {
            (Some(load), _) => notes.push_str(&format!(
                " (its own work at {} is its messages' mean, {} ms)",
                load.node_name,
                millis(load.ms_per_message)
            )),
            (None, Some((tenant, load))) => notes.push_str(&format!(
                " behind tenant {tenant}'s messages at {}",
                load.node_name
            )),
            (None, None) => {}
        }
    }
    notes
}

/// Who is affected: per tenant, traces by status and failures by category.
pub(crate) fn tenant_lines(report: &TriageReport) -> Vec<String> {
    if report.tenants.is_empty() {
        return vec![
            "no tenant information: no event or ingress line carried a tenant (see the README: where tenants come from)"
                .into(),
        ];
    }
    let mut lines: Vec<String> = report
        .tenants
        .iter()
        .map(|impact| {
            let statuses: Vec<String> = impact
                .statuses
                .iter()
                .map(|(status, count)| format!("{} {status}", thousands(*count)))
                .collect();
            let categories: Vec<String> = impact
                .categories
                .iter()
                .filter(|(_, count)| **count > 0)
                .map(|(category, count)| format!("{category} {}", thousands(*count)))
                .collect();
            format!(
                "{}: {} ({}){}{}",
                impact.tenant,
                plural(impact.traces, "trace"),
                statuses.join(", "),
                if categories.is_empty() {
                    String::new()
                } else {
                    format!("; not succeeded by category: {}", categories.join(", "))
                },
                impact_notes(report, impact)
            )
        })
        .collect();
    if report.traces_without_tenant > 0 {
        lines.push(format!(
            "{} without a tenant",
            plural(report.traces_without_tenant, "trace")
        ));
    }
    lines
}

pub(crate) fn control_line(report: &TriageReport) -> String {
    let c = &report.control_plane;
    if c.cancel_started
        + c.cancel_dropped
        + c.node_trace_cancelled
        + c.deadline_skips
        + c.workers_stopped
        == 0
    {
        return "no cancellations, deadline skips or worker stops".into();
    }
    let mut parts = Vec::new();
    if c.cancel_started + c.cancel_finished + c.cancel_dropped + c.node_trace_cancelled > 0 {
        parts.push(format!(
            "cancellations {} started, {} finished, {} dropped at a node, {} interrupted",
            c.cancel_started, c.cancel_finished, c.cancel_dropped, c.node_trace_cancelled
        ));
    } else {
        parts.push("no cancellations".into());
    }
    parts.push(if c.deadline_skips > 0 {
        plural(c.deadline_skips, "deadline skip")
    } else {
        "no deadline skips".into()
    });
    if c.workers_stopped > 0 {
        parts.push(format!(
            "{} stopped (flow.stop())",
            plural(c.workers_stopped, "worker")
        ));
    }
    parts.join("; ")
}

pub(crate) fn saturation_lines(report: &TriageReport) -> Vec<String> {
    let saturation = &report.saturation;
    let mut lines = vec![match (&saturation.hot_node, &saturation.hot_node_reason) {
        (Some(node), Some(reason)) => format!("hot node {node}: {reason}"),
        _ => "no bottleneck: no node's inbound queue stayed full while its outbound did not".into(),
    }];
    if saturation.signals.is_empty() {
        lines.push("no saturation signals".into());
    }
    for signal in &saturation.signals {
        let subject = signal.subject();
        lines.push(format!(
            "{} {subject}: {}",
            signal.kind.as_str(),
            signal.detail
        ));
    }
    lines
}

pub(crate) fn cross_tenant_lines(report: &TriageReport) -> Vec<String> {
    if report.cross_tenant.is_empty() {
        // Judged only where tenants were seen: none seen is no information, not "none found".
        return vec![if report.tenants.is_empty() {
            "no tenant information: cannot tell whether a trace crossed tenants".into()
        } else {
            "no trace carries more than one tenant".into()
        }];
    }
    report
        .cross_tenant
        .iter()
        .map(|c| {
            format!(
                "{}: {} (a tenant-boundary defect)",
                c.trace_id,
                c.tenants.join(", ")
            )
        })
        .collect()
}

pub fn write_table(
    report: &TriageReport,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let heading = |text: &str| palette.header(text);
    writeln!(out, "{} {}", heading("incident"), span(report))?;
    writeln!(out)?;
    writeln!(out, "{}", heading("size"))?;
    writeln!(
        out,
        "  {}",
        palette.wrap(&statuses_line(&report.statuses), 2, 4)
    )?;
    writeln!(out, "  {}", palette.wrap(&categories(report), 2, 4))?;
    if report.over_time.groups.len() > 1 {
        let (rows, top) = over_time_rows(report);
        writeln!(out, "  failures per minute, one scale (█ = {top}):")?;
        for (name, line, total) in rows {
            writeln!(out, "    {name:<9} {line}  {total}")?;
        }
        if let (Some(first), Some(last)) = (report.first_ts, report.last_ts) {
            let columns = report.over_time.groups.len().min(60);
            writeln!(out, "    {:<9} {}", "", time_axis(first, last, columns))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", heading("who is affected"))?;
    for line in tenant_lines(report) {
        writeln!(out, "  {}", palette.wrap(&line, 2, 4))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", heading("worst traces"))?;
    if report.worst.is_empty() {
        writeln!(out, "  no failed, skipped or stalled traces")?;
    } else {
        for trace in &report.worst {
            let line = palette.wrap(&worst_line(trace), 2, 4);
            writeln!(out, "  {}", palette.paint(&line, Tone::Error.style()))?;
        }
        writeln!(
            out,
            "  {}",
            palette.wrap(&format!("({})", worst_footer(report)), 2, 3)
        )?;
    }
    if !report.slowest.is_empty() {
        writeln!(
            out,
            "  slowest succeeded, far past their path's own work (they waited):"
        )?;
        for trace in &report.slowest {
            writeln!(out, "    {}", palette.wrap(&slow_line(trace), 4, 6))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", heading("saturation"))?;
    for line in saturation_lines(report) {
        writeln!(out, "  {}", palette.wrap(&line, 2, 4))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", heading("control plane"))?;
    writeln!(out, "  {}", palette.wrap(&control_line(report), 2, 4))?;
    writeln!(out)?;
    writeln!(out, "{}", heading("cross-tenant traces"))?;
    for line in cross_tenant_lines(report) {
        writeln!(out, "  {}", palette.wrap(&line, 2, 4))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", heading("what to do"))?;
    if report.remediation.is_empty() {
        writeln!(
            out,
            "  nothing: no failure, saturation or tenant defect found"
        )?;
    }
    for (index, step) in report.remediation.iter().enumerate() {
        let number = format!("  {}. ", index + 1);
        let text = palette.wrap(
            &format!("[{}] {}", step.evidence, step.step),
            number.len(),
            number.len(),
        );
        writeln!(out, "{number}{text}")?;
    }
    Ok(())
}

pub fn write_markdown(report: &TriageReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "## Incident triage: {}", span(report))?;
    writeln!(out)?;
    writeln!(
        out,
        "**Size.** {}; {}.",
        statuses_line(&report.statuses),
        categories(report)
    )?;
    writeln!(out)?;
    if report.over_time.groups.len() > 1 {
        writeln!(out, "| failures per minute | over time | total |")?;
        writeln!(out, "|---|---|---:|")?;
        for (name, line, total) in over_time_rows(report).0 {
            writeln!(out, "| {name} | `{line}` | {total} |")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "**Who is affected.**")?;
    writeln!(out)?;
    for line in tenant_lines(report) {
        writeln!(out, "- {line}")?;
    }
    writeln!(out)?;
    writeln!(out, "**Worst traces.**")?;
    writeln!(out)?;
    if report.worst.is_empty() {
        writeln!(out, "- no failed, skipped or stalled traces")?;
    } else {
        for trace in &report.worst {
            writeln!(out, "- `{}`", worst_line(trace))?;
        }
    }
    for trace in &report.slowest {
        writeln!(out, "- slowest succeeded: {}", slow_line(trace))?;
    }
    if !report.worst.is_empty() {
        writeln!(out)?;
        writeln!(out, "_{}._", worst_footer(report))?;
    }
    writeln!(out)?;
    writeln!(out, "**Saturation.**")?;
    writeln!(out)?;
    for line in saturation_lines(report) {
        writeln!(out, "- {line}")?;
    }
    writeln!(out)?;
    writeln!(out, "**Control plane.** {}.", control_line(report))?;
    writeln!(out)?;
    writeln!(out, "**Cross-tenant traces.**")?;
    writeln!(out)?;
    for line in cross_tenant_lines(report) {
        writeln!(out, "- {line}")?;
    }
    writeln!(out)?;
    writeln!(out, "**What to do.**")?;
    writeln!(out)?;
    if report.remediation.is_empty() {
        writeln!(
            out,
            "Nothing: no failure, saturation or tenant defect found."
        )?;
    }
    for (index, step) in report.remediation.iter().enumerate() {
        writeln!(out, "{}. {} _({})_", index + 1, step.step, step.evidence)?;
    }
    Ok(())
}
