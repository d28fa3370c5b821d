//! `classify` report as a terminal page or a Markdown section.

use std::io::{self, Write};

use super::classify_steps::sentence;
use super::table::{fit_detail, report_table, to_text, toned_row};
use super::{
    Palette, Tone, markdown_row, one_scale, plural, squeeze, statuses_line, thousands, time_axis,
};
use crate::analysis::category::Category;
use crate::analysis::classify::{ClassifyReport, Group};
use crate::event::Timestamp;

/// A time of day, with the date in front when the report spans more than one day.
fn clock(ts: Option<Timestamp>, dated: bool) -> String {
    let format = if dated {
        "%Y-%m-%d %H:%M:%S%.3f"
    } else {
        "%H:%M:%S%.3f"
    };
    ts.map_or("-".into(), |ts| ts.to_datetime().format(format).to_string())
}

/// True when the failures seen span more than a day (times of day alone would be ambiguous).
fn spans_days(report: &ClassifyReport) -> bool {
    let times = Category::ALL
        .iter()
        .flat_map(|c| {
            let c = report.categories.get(*c);
            [c.first_ts, c.last_ts]
        })
        .flatten()
        .chain(
            report
                .exceptions
                .iter()
                .flat_map(|e| [e.first_ts, e.last_ts]),
        );
    let (low, high) = times.fold((i64::MAX, i64::MIN), |(low, high), ts| {
        (low.min(ts.0), high.max(ts.0))
    });
    high.saturating_sub(low) > 86_400_000_000
}

fn category_tone(category: Category) -> Tone {
    match category {
        Category::Timeout => Tone::Timeout,
        Category::Error => Tone::Error,
        Category::Cancel => Tone::Cancel,
        Category::Deadline => Tone::Deadline,
    }
}

/// Retries and what their rate divides by: every node's successes, then the rate of each node
/// that retried (the one the retry-storm rule judges), so the two never read as one number.
fn retries_line(report: &ClassifyReport) -> String {
    let retries = &report.retries;
    let Some(rate) = retries.rate else {
        return thousands(retries.events);
    };
    if retries.events == 0 || retries.at.is_empty() {
        return format!("{} ({rate:.2} per success)", thousands(retries.events));
    }
    const SHOWN: usize = 3;
    let mut nodes: Vec<String> = retries
        .at
        .iter()
        .take(SHOWN)
        .enumerate()
        .map(|(index, (node, retried, successes))| {
            // The first names its unit; the others follow it.
            let of = if index == 0 {
                plural(*successes, "success")
            } else {
                thousands(*successes)
            };
            match *successes {
                0 => format!("{node}: {} for no success", thousands(*retried)),
                successes => format!(
                    "{node}: {:.2}, {} for {of}",
                    *retried as f64 / successes as f64,
                    thousands(*retried),
                ),
            }
        })
        .collect();
    if retries.at.len() > SHOWN {
        nodes.push(plural((retries.at.len() - SHOWN) as u64, "more node"));
    }
    format!(
        "{} ({rate:.2} per success over all nodes' {}; {})",
        thousands(retries.events),
        plural(retries.successes, "success"),
        nodes.join("; ")
    )
}

fn category_rows(report: &ClassifyReport) -> Vec<(Category, [String; 7])> {
    let dated = spans_days(report);
    Category::ALL
        .iter()
        .map(|&category| {
            let c = report.categories.get(category);
            (
                category,
                [
                    category.to_string(),
                    thousands(c.events),
                    thousands(c.traces),
                    thousands(c.terminal),
                    c.recovered.map_or("-".into(), thousands),
                    clock(c.first_ts, dated),
                    clock(c.last_ts, dated),
                ],
            )
        })
        .collect()
}

const CATEGORY_HEADERS: [&str; 7] = [
    "CATEGORY",
    "EVENTS",
    "TRACES",
    "TERMINAL",
    "RECOVERED",
    "FIRST (UTC)",
    "LAST (UTC)",
];

/// The key columns (one per grouping dimension) and the counts of a group.
fn group_cells(group: &Group, report: &ClassifyReport) -> Vec<String> {
    let mut cells = vec![group.key.clone()];
    if report.then_by.is_some() {
        cells.push(group.key2.clone().unwrap_or_default());
    }
    cells.extend([
        thousands(group.timeout),
        thousands(group.error),
        thousands(group.cancel),
        thousands(group.deadline),
        thousands(group.retry),
        thousands(group.terminal),
    ]);
    cells
}

/// The grouping dimensions' names, for the key columns.
fn group_key_names(report: &ClassifyReport) -> Vec<String> {
    let mut names = vec![report.by.as_str().to_string()];
    if let Some(second) = report.then_by {
        names.push(second.as_str().to_string());
    }
    names
}

/// The tenants an exception came from, most first: `initech 14, acme 1`.
fn tenant_counts(tenants: &std::collections::BTreeMap<String, u64>) -> String {
    let mut counts: Vec<(&String, &u64)> = tenants.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = counts
        .iter()
        .take(3)
        .map(|(tenant, count)| format!("{tenant} {}", thousands(**count)))
        .collect();
    let more = counts.len().saturating_sub(3);
    if more > 0 {
        format!("{}, +{more}", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn exception_cells(report: &ClassifyReport) -> Vec<Vec<String>> {
    let dated = spans_days(report);
    report
        .exceptions
        .iter()
        .map(|e| {
            let mut cells = vec![
                e.type_name.clone(),
                thousands(e.count),
                e.nodes.join(", "),
                tenant_counts(&e.tenants),
                clock(Some(e.first_ts), dated),
                clock(Some(e.last_ts), dated),
            ];
            if let Some(message) = &e.message {
                cells.push(message.clone());
            }
            cells
        })
        .collect()
}

fn exception_headers(report: &ClassifyReport) -> Vec<&'static str> {
    let mut headers = vec![
        "EXCEPTION",
        "COUNT",
        "NODES",
        "TENANTS",
        "FIRST (UTC)",
        "LAST (UTC)",
    ];
    if report.exceptions.iter().any(|e| e.message.is_some()) {
        headers.push("EXAMPLE MESSAGE");
    }
    headers
}

/// The time series: one sparkline row per category (and retries) over the buckets, all on one
/// scale; and the scale's top.
fn time_rows(report: &ClassifyReport) -> (Vec<(String, String, u64)>, u64) {
    let series = |pick: fn(&Group) -> u64| -> Vec<u64> {
        squeeze(&report.groups.iter().map(pick).collect::<Vec<_>>(), 120)
    };
    one_scale(vec![
        ("timeout", series(|g| g.timeout)),
        ("error", series(|g| g.error)),
        ("cancel", series(|g| g.cancel)),
        ("deadline", series(|g| g.deadline)),
        ("retry", series(|g| g.retry)),
        ("terminal", series(|g| g.terminal)),
    ])
}

/// The bucket starts under the time chart.
fn time_chart_axis(report: &ClassifyReport) -> String {
    let times: Vec<Timestamp> = [report.groups.first(), report.groups.last()]
        .into_iter()
        .flatten()
        .filter_map(|g| crate::source::decode::parse_timestamp_text(&g.key))
        .collect();
    match times.as_slice() {
        [first, last] => time_axis(*first, *last, report.groups.len().min(120)),
        _ => String::new(),
    }
}

fn time_span(report: &ClassifyReport) -> String {
    let first = report
        .groups
        .first()
        .map(|g| g.key.clone())
        .unwrap_or_default();
    let last = report
        .groups
        .last()
        .map(|g| g.key.clone())
        .unwrap_or_default();
    format!(
        "per {} from {first} to {last}, {}",
        report.by.as_str(),
        plural(report.groups.len() as u64, "bucket")
    )
}

pub fn write_table(
    report: &ClassifyReport,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let label = |text: &str| palette.header(&format!("{text:<12}"));
    writeln!(
        out,
        "{}{}",
        label("size"),
        palette.wrap(&statuses_line(&report.statuses), 12, 12)
    )?;
    writeln!(
        out,
        "{}{}",
        label("retries"),
        palette.wrap(&retries_line(report), 12, 12)
    )?;
    writeln!(out)?;

    let mut table = report_table(&CATEGORY_HEADERS, &[1, 2, 3, 4], palette);
    for (category, cells) in category_rows(report) {
        let tone = if report.categories.occurred(category) {
            category_tone(category)
        } else {
            Tone::Quiet
        };
        table.add_row(toned_row(cells, palette, |column| {
            (column == 0).then_some(tone)
        }));
    }
    out.write_all(to_text(&table).as_bytes())?;
    writeln!(out)?;

    if report.by.is_time() && report.then_by.is_none() {
        let (rows, top) = time_rows(report);
        writeln!(
            out,
            "{}",
            palette.header(&format!("{}, one scale (█ = {top})", time_span(report)))
        )?;
        for (name, line, total) in rows {
            writeln!(out, "{name:<9} {line}  {}", thousands(total))?;
        }
        writeln!(out, "{:<9} {}", "", time_chart_axis(report))?;
    } else if report.groups.is_empty() {
        writeln!(out, "no failures or retries by {}", report.by.as_str())?;
    } else {
        let keys: Vec<String> = group_key_names(report)
            .iter()
            .enumerate()
            .map(|(index, name)| {
                if index == 0 {
                    format!("BY {}", name.to_uppercase())
                } else {
                    name.to_uppercase()
                }
            })
            .collect();
        let mut headers: Vec<&str> = keys.iter().map(String::as_str).collect();
        headers.extend([
            "TIMEOUT", "ERROR", "CANCEL", "DEADLINE", "RETRY", "TERMINAL",
        ]);
        let numbers: Vec<usize> = (keys.len()..headers.len()).collect();
        let mut table = report_table(&headers, &numbers, palette);
        for group in &report.groups {
            table.add_row(group_cells(group, report));
        }
        out.write_all(to_text(&table).as_bytes())?;
    }
    writeln!(out)?;

    if report.exceptions.is_empty() {
        writeln!(out, "no exceptions")?;
    } else {
        let headers = exception_headers(report);
        let mut table = report_table(&headers, &[1], palette);
        for cells in exception_cells(report) {
            table.add_row(cells);
        }
        fit_detail(&mut table, palette);
        out.write_all(to_text(&table).as_bytes())?;
    }

    if report.remediation.is_empty() {
        writeln!(out)?;
        let failed: u64 = report
            .statuses
            .iter()
            .filter(|(status, _)| !matches!(status.as_str(), "succeeded" | "in_flight"))
            .map(|(_, count)| count)
            .sum();
        if failed == 0 && report.retries.events == 0 {
            // classify reads failures: an all-clear for them, not for slowness.
            writeln!(
                out,
                "nothing to do about failures: none in the selection (slow traces and full queues: `flowtrace saturation`; all of it: `flowtrace triage`)"
            )?;
        } else {
            writeln!(out, "no step to suggest for these failures")?;
        }
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", palette.header("what to do"))?;
    for section in &report.remediation {
        writeln!(out, "  {}", section.category)?;
        for (index, step) in section.steps.iter().enumerate() {
            let number = format!("    {}. ", index + 1);
            writeln!(
                out,
                "{number}{}",
                palette.wrap(&sentence(step), number.len(), number.len())
            )?;
        }
    }
    Ok(())
}

pub fn write_markdown(report: &ClassifyReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "### Failures by category")?;
    writeln!(out)?;
    writeln!(out, "- **Size**: {}", statuses_line(&report.statuses))?;
    writeln!(out, "- **Retries**: {}", retries_line(report))?;
    writeln!(out)?;
    writeln!(out, "{}", markdown_row(&CATEGORY_HEADERS.map(String::from)))?;
    writeln!(out, "|---|---:|---:|---:|---:|---|---|")?;
    for (_, cells) in category_rows(report) {
        writeln!(out, "{}", markdown_row(&cells))?;
    }
    writeln!(out)?;
    if report.by.is_time() && report.then_by.is_none() {
        writeln!(out, "#### Over time ({})", time_span(report))?;
        writeln!(out)?;
        writeln!(out, "| series | over time | total |")?;
        writeln!(out, "|---|---|---:|")?;
        for (name, line, total) in time_rows(report).0 {
            writeln!(out, "| {name} | `{line}` | {total} |")?;
        }
    } else {
        let mut headers = group_key_names(report);
        writeln!(out, "#### By {}", headers.join(" and "))?;
        writeln!(out)?;
        let keys = headers.len();
        headers.extend(
            [
                "timeout", "error", "cancel", "deadline", "retry", "terminal",
            ]
            .map(String::from),
        );
        writeln!(out, "{}", markdown_row(&headers))?;
        writeln!(out, "|{}{}", "---|".repeat(keys), "---:|".repeat(6))?;
        for group in &report.groups {
            writeln!(out, "{}", markdown_row(&group_cells(group, report)))?;
        }
    }
    if !report.exceptions.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Exceptions")?;
        writeln!(out)?;
        let headers: Vec<String> = exception_headers(report)
            .iter()
            .map(|h| h.to_lowercase())
            .collect();
        writeln!(out, "{}", markdown_row(&headers))?;
        writeln!(out, "|{}", "---|".repeat(headers.len()))?;
        for cells in exception_cells(report) {
            writeln!(out, "{}", markdown_row(&cells))?;
        }
    }
    if !report.remediation.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### What to do")?;
        for section in &report.remediation {
            writeln!(out)?;
            writeln!(out, "**{}**", section.category)?;
            writeln!(out)?;
            for (index, step) in section.steps.iter().enumerate() {
                writeln!(out, "{}. {}", index + 1, sentence(step).replace('|', "\\|"))?;
            }
        }
    }
    Ok(())
}
