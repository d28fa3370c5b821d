//! `lint` output: a terminal page, a Markdown section, and SARIF 2.1.0 for CI code scanning
//! (each finding a result with its rule, level and locations; the fix as the rule's help).

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Palette, Tone, markdown_cell, thousands};
use crate::analysis::lint::{LintMessage, LintReport, RULES, Severity};

/// A finding's message, masked like every text flowtrace shows (a tenant or node name may
/// itself hold a secret).
impl std::fmt::Display for LintMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::redact::mask_secrets(&message(self)))
    }
}

serialized_as_said!(LintMessage);

/// `1 trace carries` / `2 traces carry`.
fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn message(message: &LintMessage) -> String {
    match message {
        LintMessage::MissingTraceId { events } => format!(
            "{} without a trace_id",
            counted(*events, "node event", "node events")
        ),
        LintMessage::MissingNodeName { events } => format!(
            "{} without a node_name",
            counted(*events, "node event", "node events")
        ),
        LintMessage::Truncated { events } => {
            format!("{events} events whose exception text is cut at 100 characters")
        }
        LintMessage::MissingTenant {
            traces,
            with_tenant,
        } => format!(
            "{} no tenant anywhere while {with_tenant} do",
            counted(*traces, "trace carries", "traces carry")
        ),
        LintMessage::CrossTenant { traces } => format!(
            "{} more than one tenant",
            counted(*traces, "trace carries", "traces carry")
        ),
        LintMessage::UnstableNodeNames { count, first, more } => format!(
            "{count} node names look generated or appear once: {}{}",
            first.join(", "),
            if *more { ", ..." } else { "" }
        ),
        LintMessage::NodeStartVolume {
            bytes_share,
            lines_share,
        } => format!(
            "node_start is {bytes_share:.0}% of the bytes and {lines_share:.0}% of the lines"
        ),
        LintMessage::Noise { lines, bytes_share } => {
            format!("{lines} lines ({bytes_share:.0}% of the bytes) are not FlowEvents")
        }
        LintMessage::Secrets { holding, per_kind } => format!(
            "{} hold secrets ({}); none is shown here",
            counted(*holding, "line or row", "lines or rows"),
            per_kind
                .iter()
                .map(|(kind, count)| format!("{kind} {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        LintMessage::PlainLogging { events } => {
            format!("{events} PenguiFlow events logged as plain text without fields")
        }
        LintMessage::StoreSaveFailed { lines } => {
            format!("{lines} state_store_save_failed lines: events missing from the store")
        }
        LintMessage::MiddlewareErrors { lines } => format!("{lines} middleware_error lines"),
        LintMessage::Duplicates { events } => format!("{events} events logged twice"),
        LintMessage::StoreLogMismatch {
            both,
            store_only,
            logs_only,
        } => format!(
            "{both} events in both; {store_only} only in the store, {logs_only} only in the logs"
        ),
    }
}

fn tone(severity: Severity) -> Tone {
    match severity {
        Severity::Error => Tone::Failure,
        Severity::Warning => Tone::Timeout,
        Severity::Info => Tone::Success,
    }
}

pub fn write_table(report: &LintReport, out: &mut impl Write, palette: Palette) -> io::Result<()> {
    if report.findings.is_empty() {
        return writeln!(
            out,
            "no telemetry defect found in {} lines ({} events)",
            thousands(report.lines),
            thousands(report.events)
        );
    }
    for finding in &report.findings {
        let label = format!("{} {}", finding.severity.as_str(), finding.rule);
        writeln!(
            out,
            "{}  {}: {}",
            palette.paint(&format!("{label:<13}"), tone(finding.severity).style()),
            palette.header(finding.name),
            finding.message
        )?;
        if !finding.examples.is_empty() {
            writeln!(out, "{:15}at {}", "", finding.examples.join(", "))?;
        }
        writeln!(
            out,
            "{:15}{}",
            "",
            palette.wrap(&format!("fix: {}", finding.fix), 15, 15)
        )?;
    }
    let count = |severity| {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    writeln!(
        out,
        "\n{} errors, {} warnings, {} notes in {} lines ({} events)",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        thousands(report.lines),
        thousands(report.events)
    )
}

pub fn write_markdown(report: &LintReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "## Telemetry lint\n")?;
    if report.findings.is_empty() {
        return writeln!(
            out,
            "No telemetry defect found in {} lines.",
            thousands(report.lines)
        );
    }
    writeln!(out, "| severity | rule | finding | where | fix |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for finding in &report.findings {
        writeln!(
            out,
            "| {} | {} {} | {} | {} | {} |",
            finding.severity.as_str(),
            finding.rule,
            finding.name,
            markdown_cell(&finding.message.to_string()),
            markdown_cell(&finding.examples.join(", ")),
            markdown_cell(finding.fix)
        )?;
    }
    Ok(())
}

/// A location as SARIF has it: an artifact and a line, or a logical location (a store row, a
/// trace).
fn location(example: &str) -> Value {
    if let Some((file, line)) = example.rsplit_once(':')
        && let Ok(line) = line.parse::<u64>()
        && !file.contains("://")
        && file != "<stdin>"
    {
        return json!({
            "physicalLocation": {
                "artifactLocation": { "uri": uri_of(file) },
                "region": { "startLine": line.max(1) }
            }
        });
    }
    json!({ "logicalLocations": [{ "fullyQualifiedName": example }] })
}

/// A file path as a URI reference: every byte but the unreserved ones and `/` percent-encoded.
fn uri_of(path: &str) -> String {
    let mut uri = String::new();
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

pub fn write_sarif(report: &LintReport, out: &mut impl Write) -> io::Result<()> {
    let level = |severity: Severity| match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.name,
                "shortDescription": { "text": rule.name },
                "help": { "text": rule.fix },
                "defaultConfiguration": { "level": level(rule.severity) }
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            json!({
                "ruleId": finding.rule,
                "ruleIndex": RULES.iter().position(|r| r.id == finding.rule),
                "level": level(finding.severity),
                "message": { "text": format!("{} (fix: {})", finding.message, finding.fix) },
                "locations": finding.examples.iter().map(|e| location(e)).collect::<Vec<_>>(),
                "properties": { "count": finding.count }
            })
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "flowtrace",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://pypi.org/project/penguiflow/",
                    "rules": rules
                }
            },
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &sarif).map_err(io::Error::from)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_said_from_its_numbers_and_masked() {
        let names = LintMessage::UnstableNodeNames {
            count: 7,
            first: vec![
                "node_7f3a".into(),
                "sk-abcdefghijklmnopqrstuvwxyz123456".into(),
            ],
            more: true,
        };
        let said = names.to_string();
        assert!(
            said.starts_with("7 node names look generated or appear once: node_7f3a, "),
            "{said}"
        );
        assert!(
            !said.contains("sk-abcdefghijklmnopqrstuvwxyz123456"),
            "{said}"
        );
        assert!(said.ends_with(", ..."), "{said}");
        let one = LintMessage::MissingTenant {
            traces: 1,
            with_tenant: 4,
        };
        assert_eq!(
            one.to_string(),
            "1 trace carries no tenant anywhere while 4 do"
        );
        assert_eq!(
            serde_json::to_string(&LintMessage::Duplicates { events: 3 }).unwrap(),
            "\"3 events logged twice\""
        );
    }
}
