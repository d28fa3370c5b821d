//! The flow graph as a text tree, a Mermaid `flowchart LR`, Graphviz DOT, or JSON.

use std::io::{self, Write};

use super::{Palette, Tone, millis, thousands};
use crate::analysis::graph::{EGRESS, INGRESS};
use crate::analysis::topology::{GraphNode, GraphReport, Role};

fn summary(node: &GraphNode) -> String {
    match node.role {
        Role::Ingress => "ingress".to_string(),
        Role::Egress => "egress".to_string(),
        Role::Node => {
            let mut text = format!(
                "{} ok, {} failed",
                thousands(node.successes),
                thousands(node.failures)
            );
            if node.terminal > 0 {
                text.push_str(&format!(" ({} terminal)", thousands(node.terminal)));
            }
            if let Some(p95) = node.p95_ms {
                text.push_str(&format!(", p95 {} ms", millis(p95)));
            }
            if node.saturated {
                text.push_str(", saturated");
            }
            text
        }
    }
}

/// The tree from the ingress, children busiest first; a node reached again is referred to.
pub fn write_tree(report: &GraphReport, out: &mut impl Write, palette: Palette) -> io::Result<()> {
    if report.edges.is_empty() {
        return writeln!(out, "no flow: no trace reached two nodes");
    }
    let mut printed: Vec<String> = Vec::new();
    let roots: Vec<&str> = if report.edges.iter().any(|e| e.from == INGRESS) {
        vec![INGRESS]
    } else {
        report
            .nodes
            .iter()
            .map(|n| n.node_name.as_str())
            .take(1)
            .collect()
    };
    for root in roots {
        write_branch(
            report,
            root,
            None,
            "",
            true,
            true,
            &mut printed,
            out,
            palette,
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_branch(
    report: &GraphReport,
    name: &str,
    traces: Option<u64>,
    prefix: &str,
    last: bool,
    root: bool,
    printed: &mut Vec<String>,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let connector = if root {
        ""
    } else if last {
        "└─ "
    } else {
        "├─ "
    };
    let node = report.nodes.iter().find(|n| n.node_name == name);
    let via = traces.map_or(String::new(), |t| format!("[{} traces] ", thousands(t)));
    let seen = printed.iter().any(|p| p == name) && name != EGRESS;
    let label = match node {
        _ if seen => format!("{name} (see above)"),
        Some(node) => {
            let tone = if node.failing {
                Tone::Failure
            } else if node.saturated {
                Tone::Timeout
            } else {
                Tone::Plain
            };
            format!(
                "{}  {}",
                palette.paint(name, tone.style().bold()),
                summary(node)
            )
        }
        None => name.to_string(),
    };
    writeln!(out, "{prefix}{connector}{via}{label}")?;
    if seen || name == EGRESS {
        return Ok(());
    }
    printed.push(name.to_string());
    let children: Vec<_> = report.edges.iter().filter(|e| e.from == name).collect();
    let child_prefix = if root {
        String::new()
    } else {
        format!("{prefix}{}", if last { "   " } else { "│  " })
    };
    for (index, edge) in children.iter().enumerate() {
        let last_child = index + 1 == children.len();
        write_branch(
            report,
            &edge.to,
            Some(edge.traces),
            &child_prefix,
            last_child,
            false,
            printed,
            out,
            palette,
        )?;
    }
    Ok(())
}

/// Mermaid text must not break out of a quoted label.
fn mermaid_label(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// A `flowchart LR` to paste into Markdown: ids `n0, n1, ...`, labels quoted, failing nodes red,
/// saturated ones orange, endpoints as stadiums.
pub fn write_mermaid(report: &GraphReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "flowchart LR")?;
    let id = |name: &str| {
        report
            .nodes
            .iter()
            .position(|n| n.node_name == name)
            .map_or_else(|| "unknown".to_string(), |index| format!("n{index}"))
    };
    for (index, node) in report.nodes.iter().enumerate() {
        let label = mermaid_label(&node.node_name);
        match node.role {
            Role::Node => writeln!(
                out,
                "    n{index}[\"{label}<br/>{}\"]",
                mermaid_label(&summary(node))
            )?,
            _ => writeln!(out, "    n{index}([\"{label} ({})\"])", summary(node))?,
        }
    }
    for edge in &report.edges {
        writeln!(
            out,
            "    {} -->|{}| {}",
            id(&edge.from),
            edge.traces,
            id(&edge.to)
        )?;
    }
    writeln!(
        out,
        "    classDef failing fill:#f8d7da,stroke:#c0392b,color:#5c1a14"
    )?;
    writeln!(
        out,
        "    classDef saturated fill:#ffe5b4,stroke:#e67e22,color:#5c3a0a"
    )?;
    for (index, node) in report.nodes.iter().enumerate() {
        if node.failing {
            writeln!(out, "    class n{index} failing")?;
        } else if node.saturated {
            writeln!(out, "    class n{index} saturated")?;
        }
    }
    Ok(())
}

fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz DOT (`dot -Tsvg`), left to right, same colors as the Mermaid output.
pub fn write_dot(report: &GraphReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "digraph flow {{")?;
    writeln!(out, "    rankdir=LR;")?;
    writeln!(out, "    node [shape=box, style=rounded];")?;
    for node in &report.nodes {
        let label = format!(
            "{}\\n{}",
            node.node_name.replace('\\', "\\\\").replace('"', "\\\""),
            summary(node)
        );
        let mut attributes = vec![format!("label=\"{label}\"")];
        match node.role {
            Role::Node => {}
            _ => attributes.push("shape=ellipse".into()),
        }
        if node.failing {
            attributes
                .push("style=\"rounded,filled\", fillcolor=\"#f8d7da\", color=\"#c0392b\"".into());
        } else if node.saturated {
            attributes
                .push("style=\"rounded,filled\", fillcolor=\"#ffe5b4\", color=\"#e67e22\"".into());
        }
        writeln!(
            out,
            "    {} [{}];",
            dot_string(&node.node_name),
            attributes.join(", ")
        )?;
    }
    for edge in &report.edges {
        writeln!(
            out,
            "    {} -> {} [label=\"{}\"];",
            dot_string(&edge.from),
            dot_string(&edge.to),
            edge.traces
        )?;
    }
    writeln!(out, "}}")
}
