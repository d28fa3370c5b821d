//! Charts as inline SVG for the HTML report: drawn here in Rust, so the page needs no script, no
//! library and no network, prints as it shows, and every text from the logs goes through one
//! escape. Colours are CSS classes (the page's stylesheet gives light and dark values); each
//! plotted value carries `data-v`, which the browser test counts.

use std::fmt::Write;

use crate::event::Timestamp;

const WIDTH: f64 = 760.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const PLOT_HEIGHT: f64 = 170.0;
/// Average width of one character of the chart font, for laying out legends and labels.
const CHAR_WIDTH: f64 = 6.6;
/// Series colours of the stylesheet (`.c0` ... `.c7`), reused past eight.
const SERIES_CLASSES: usize = 8;

/// Escapes text for XML (SVG) content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The class of the `index`th series colour.
pub fn series_class(index: usize) -> String {
    format!("c{}", index % SERIES_CLASSES)
}

/// A round top for a value axis from 0 to at least `max`, and its tick step.
fn nice_axis(max: f64) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| step * 4.0 >= max)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

/// A number for an axis label: no needless decimals.
fn number(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else if value.abs() >= 10.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A time label: seconds with milliseconds for spans under a minute.
fn clock(ts: Timestamp, span_micros: i64) -> String {
    let format = if span_micros < 60_000_000 {
        "%H:%M:%S%.3f"
    } else {
        "%H:%M:%S"
    };
    ts.to_datetime().format(format).to_string()
}

/// One named series for a legend: its label and colour class.
pub struct Legend<'a> {
    pub label: &'a str,
    pub class: String,
}

/// A legend under the plot, wrapped to the chart's width; returns its height.
fn legend(out: &mut String, entries: &[Legend<'_>], top: f64) -> f64 {
    let mut x = LEFT;
    let mut y = top;
    for entry in entries {
        let width = 18.0 + entry.label.chars().count() as f64 * CHAR_WIDTH + 16.0;
        if x + width > WIDTH - RIGHT && x > LEFT {
            x = LEFT;
            y += 18.0;
        }
        let _ = write!(
            out,
            r#"<rect class="swatch {}" x="{x:.1}" y="{:.1}" width="12" height="12" rx="2"/><text class="legend" x="{:.1}" y="{:.1}">{}</text>"#,
            entry.class,
            y - 10.0,
            x + 17.0,
            y,
            esc(entry.label)
        );
        x += width;
    }
    y - top + 18.0
}

/// The value axis: grid lines and labels from 0 to `top`, and its title.
fn value_axis(out: &mut String, top: f64, step: f64, title: &str) {
    let mut value = 0.0;
    while value <= top + step / 2.0 {
        let y = TOP + PLOT_HEIGHT - value / top * PLOT_HEIGHT;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            number(value)
        );
        value += step;
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + PLOT_HEIGHT / 2.0,
        esc(title)
    );
}

/// The time axis under the plot: five labels from `first` to `last` (UTC).
fn time_axis(out: &mut String, first: Timestamp, last: Timestamp) {
    let span = last.0.saturating_sub(first.0).max(1);
    let y = TOP + PLOT_HEIGHT;
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/>"#,
        WIDTH - RIGHT
    );
    for index in 0..5 {
        let share = index as f64 / 4.0;
        let x = LEFT + share * (WIDTH - LEFT - RIGHT);
        let ts = Timestamp(first.0 + (span as f64 * share) as i64);
        let anchor = match index {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            out,
            r#"<line class="axis" x1="{x:.1}" x2="{x:.1}" y1="{y:.1}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            y + 4.0,
            y + 16.0,
            clock(ts, span)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">time (UTC)</text>"#,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        y + 32.0
    );
}

fn open_svg(out: &mut String, id: &str, title: &str, height: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" id="{}" role="img" aria-labelledby="{}-title" viewBox="0 0 {WIDTH} {height:.0}" xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title>"#,
        esc(id),
        esc(id),
        esc(id),
        esc(title)
    );
}

/// The whole chart: its plot `body` and the legend whose first row is at `legend_top` (the
/// chart's height follows from the legend's rows).
fn with_legend(
    id: &str,
    title: &str,
    body: &str,
    legends: &[Legend<'_>],
    legend_top: f64,
) -> String {
    let mut legend_svg = String::new();
    let legend_height = legend(&mut legend_svg, legends, legend_top);
    let mut out = String::new();
    open_svg(&mut out, id, title, legend_top - 10.0 + legend_height);
    out.push_str(body);
    out.push_str(&legend_svg);
    out.push_str("</svg>");
    out
}

/// One line per series over time, on one scale. `points` are (time, value); a series is drawn
/// through its points in order.
pub struct TimeSeries<'a> {
    pub label: &'a str,
    /// Its colour (`series_class`): the same series keeps its colour from chart to chart.
    pub class: String,
    pub points: Vec<(Timestamp, f64)>,
}

pub fn time_lines(
    id: &str,
    title: &str,
    value_title: &str,
    series: &[TimeSeries<'_>],
    first: Timestamp,
    last: Timestamp,
) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let (top, step) = nice_axis(max);
    let span = last.0.saturating_sub(first.0).max(1) as f64;
    let plot_width = WIDTH - LEFT - RIGHT;
    let mut body = String::new();
    value_axis(&mut body, top, step, value_title);
    time_axis(&mut body, first, last);
    for series in series {
        let class = &series.class;
        let coords: Vec<(f64, f64, f64)> = series
            .points
            .iter()
            .map(|(t, v)| {
                let x = LEFT + (t.0.saturating_sub(first.0)) as f64 / span * plot_width;
                let y = TOP + PLOT_HEIGHT - v / top * PLOT_HEIGHT;
                (x, y, *v)
            })
            .collect();
        let path: Vec<String> = coords
            .iter()
            .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            body,
            r#"<polyline class="line {class}" points="{}"/>"#,
            path.join(" ")
        );
        for (x, y, v) in coords {
            let _ = write!(
                body,
                r#"<circle class="dot {class}" cx="{x:.1}" cy="{y:.1}" r="2.2" data-v="{}"><title>{}: {}</title></circle>"#,
                number(v),
                esc(series.label),
                number(v)
            );
        }
    }
    let legends: Vec<Legend<'_>> = series
        .iter()
        .map(|s| Legend {
            label: s.label,
            class: s.class.clone(),
        })
        .collect();
    with_legend(id, title, &body, &legends, TOP + PLOT_HEIGHT + 58.0)
}

/// Stacked bars over time: one bar per bucket (starting at `times[i]`, `width` long), one
/// stack part per series (label, colour class, a value per bucket).
pub fn time_stacked_bars(
    id: &str,
    title: &str,
    value_title: &str,
    series: &[(&str, &str, Vec<u64>)],
    times: &[Timestamp],
    width_micros: i64,
) -> String {
    let (Some(first), Some(last_start)) = (times.first(), times.last()) else {
        return String::new();
    };
    let last = Timestamp(last_start.0.saturating_add(width_micros));
    let totals: Vec<u64> = (0..times.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.2.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0) as f64;
    let (top, step) = nice_axis(max);
    let span = last.0.saturating_sub(first.0).max(1) as f64;
    let plot_width = WIDTH - LEFT - RIGHT;
    let bar_width = (width_micros as f64 / span * plot_width).max(1.0);
    let mut body = String::new();
    value_axis(&mut body, top, step, value_title);
    time_axis(&mut body, *first, last);
    for (index, ts) in times.iter().enumerate() {
        let x = LEFT + (ts.0 - first.0) as f64 / span * plot_width;
        let mut base = 0.0;
        for (label, class, values) in series {
            let value = values.get(index).copied().unwrap_or(0) as f64;
            if value == 0.0 {
                continue;
            }
            let y = TOP + PLOT_HEIGHT - (base + value) / top * PLOT_HEIGHT;
            let height = value / top * PLOT_HEIGHT;
            let _ = write!(
                body,
                r#"<rect class="bar {class}" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" data-v="{}"><title>{} {}: {}</title></rect>"#,
                (bar_width - 1.0).max(0.8),
                number(value),
                clock(*ts, last.0 - first.0),
                esc(label),
                number(value)
            );
            base += value;
        }
    }
    let legends: Vec<Legend<'_>> = series
        .iter()
        .map(|(label, class, _)| Legend {
            label,
            class: class.to_string(),
        })
        .collect();
    with_legend(id, title, &body, &legends, TOP + PLOT_HEIGHT + 58.0)
}

/// One row of horizontal stacked bars: a label and its parts (legend index, value).
pub struct StackRow<'a> {
    pub label: &'a str,
    pub parts: Vec<f64>,
    /// Text after the bar (a total, a share).
    pub note: String,
}

/// Horizontal stacked bars, one row per label, parts coloured by `parts` (label, class), on one
/// scale from 0 to `max` (or the largest row).
pub fn stacked_rows(
    id: &str,
    title: &str,
    value_title: &str,
    parts: &[(&str, &str)],
    rows: &[StackRow<'_>],
    max: Option<f64>,
    format: &dyn Fn(f64) -> String,
) -> String {
    let label_width = label_column(rows.iter().map(|r| r.label));
    let note_width = 90.0;
    let plot_left = label_width;
    let plot_width = WIDTH - plot_left - RIGHT - note_width;
    let largest = rows
        .iter()
        .map(|r| r.parts.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let (top, step) = match max {
        Some(max) => (max, max / 4.0),
        None => nice_axis(largest),
    };
    let row_height = 24.0;
    let plot_height = rows.len() as f64 * row_height;
    let mut body = String::new();
    let mut value = 0.0;
    while value <= top + step / 2.0 {
        let x = plot_left + value / top * plot_width;
        let _ = write!(
            body,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + plot_height,
            TOP + plot_height + 14.0,
            format(value)
        );
        value += step;
    }
    let _ = write!(
        body,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        plot_left + plot_width / 2.0,
        TOP + plot_height + 30.0,
        esc(value_title)
    );
    for (index, row) in rows.iter().enumerate() {
        let y = TOP + index as f64 * row_height + 4.0;
        let _ = write!(
            body,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            plot_left - 6.0,
            y + 12.0,
            esc(&shorten(row.label, 28))
        );
        let mut x = plot_left;
        for ((part, class), value) in parts.iter().zip(&row.parts) {
            if *value <= 0.0 {
                continue;
            }
            let width = value / top * plot_width;
            let _ = write!(
                body,
                r#"<rect class="bar {class}" x="{x:.1}" y="{y:.1}" width="{:.1}" height="16" data-v="{}"><title>{}: {} {}</title></rect>"#,
                width.max(0.8),
                number(*value),
                esc(row.label),
                esc(part),
                format(*value)
            );
            x += width;
        }
        let _ = write!(
            body,
            r#"<text class="note" x="{:.1}" y="{:.1}">{}</text>"#,
            x + 6.0,
            y + 12.0,
            esc(&row.note)
        );
    }
    let legends: Vec<Legend<'_>> = parts
        .iter()
        .map(|(label, class)| Legend {
            label,
            class: class.to_string(),
        })
        .collect();
    with_legend(id, title, &body, &legends, TOP + plot_height + 54.0)
}

/// Latency percentiles per node on one logarithmic axis (ms): a bar from p50 to p99, dots at
/// p50, p95, p99 and max.
pub struct PercentileRow<'a> {
    pub label: &'a str,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub count: u64,
}

pub fn percentiles(id: &str, title: &str, rows: &[PercentileRow<'_>]) -> String {
    let label_width = label_column(rows.iter().map(|r| r.label));
    let plot_left = label_width;
    let plot_width = WIDTH - plot_left - RIGHT - 40.0;
    let positive = |v: f64| v.max(0.01);
    let low = rows
        .iter()
        .map(|r| positive(r.p50))
        .fold(f64::INFINITY, f64::min);
    let high = rows.iter().map(|r| positive(r.max)).fold(0.0, f64::max);
    let decade_low = 10f64.powf(low.log10().floor());
    let decade_high = 10f64.powf(high.log10().ceil()).max(decade_low * 10.0);
    let x_of = |v: f64| {
        plot_left
            + (positive(v).log10() - decade_low.log10())
                / (decade_high.log10() - decade_low.log10())
                * plot_width
    };
    let row_height = 26.0;
    let plot_height = rows.len() as f64 * row_height;
    let mut body = String::new();
    let mut decade = decade_low;
    while decade <= decade_high * 1.0001 {
        let x = x_of(decade);
        let _ = write!(
            body,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + plot_height,
            TOP + plot_height + 14.0,
            number(decade)
        );
        decade *= 10.0;
    }
    let _ = write!(
        body,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">success latency, ms (log scale)</text>"#,
        plot_left + plot_width / 2.0,
        TOP + plot_height + 30.0
    );
    for (index, row) in rows.iter().enumerate() {
        let y = TOP + index as f64 * row_height + 13.0;
        let _ = write!(
            body,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><line class="range" x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/>"#,
            plot_left - 6.0,
            y + 4.0,
            esc(&shorten(row.label, 28)),
            x_of(row.p50),
            x_of(row.p99),
        );
        for (name, class, value) in [
            ("p50", "p50", row.p50),
            ("p95", "p95", row.p95),
            ("p99", "p99", row.p99),
            ("max", "pmax", row.max),
        ] {
            let _ = write!(
                body,
                r#"<circle class="dot {class}" cx="{:.1}" cy="{y:.1}" r="4" data-v="{}"><title>{} {name}: {} ms ({} successes)</title></circle>"#,
                x_of(value),
                number(value),
                esc(row.label),
                number(value),
                row.count
            );
        }
    }
    let legends = [
        Legend {
            label: "p50",
            class: "p50".into(),
        },
        Legend {
            label: "p95",
            class: "p95".into(),
        },
        Legend {
            label: "p99",
            class: "p99".into(),
        },
        Legend {
            label: "max",
            class: "pmax".into(),
        },
    ];
    with_legend(id, title, &body, &legends, TOP + plot_height + 54.0)
}

/// The width of a label column fitting `labels` (up to 28 characters each).
fn label_column<'a>(labels: impl Iterator<Item = &'a str>) -> f64 {
    let longest = labels.map(|l| l.chars().count().min(28)).max().unwrap_or(4);
    (longest as f64 * CHAR_WIDTH + 16.0).max(60.0)
}

/// `text` cut to `max` characters, with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// A node of the flow graph to draw.
pub struct GraphNode<'a> {
    pub name: &'a str,
    /// `ingress`, `egress` or `node`.
    pub role: &'a str,
    /// Extra classes: `failing`, `saturated`, `hot`.
    pub classes: Vec<&'static str>,
    /// The tooltip: counts.
    pub detail: String,
}

/// The flow graph, left to right: each node in the column of its longest path from a node
/// without predecessors (back edges of cycles ignored for that), edges labelled with their
/// trace counts.
pub fn flow_graph(
    id: &str,
    title: &str,
    nodes: &[GraphNode<'_>],
    edges: &[(usize, usize, u64)],
) -> String {
    let count = nodes.len();
    if count == 0 {
        return String::new();
    }
    // Back edges: those closing a cycle in a depth-first walk from the sources.
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(from, to, _) in edges {
        successors[from].push(to);
    }
    let mut back = vec![false; edges.len()];
    let mut state = vec![0u8; count];
    let mut roots: Vec<usize> = (0..count)
        .filter(|&n| !edges.iter().any(|&(_, to, _)| to == n))
        .collect();
    roots.extend(0..count);
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        // Iterative DFS: (node, next successor index).
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&succ) = successors[node].get(*next) {
                *next += 1;
                match state[succ] {
                    0 => {
                        state[succ] = 1;
                        stack.push((succ, 0));
                    }
                    1 => {
                        for (index, &(from, to, _)) in edges.iter().enumerate() {
                            if from == node && to == succ {
                                back[index] = true;
                            }
                        }
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    // Longest path layering over the forward edges (at most `count` rounds).
    let mut layer = vec![0usize; count];
    for _ in 0..count {
        let mut changed = false;
        for (index, &(from, to, _)) in edges.iter().enumerate() {
            if !back[index] && layer[to] < layer[from] + 1 {
                layer[to] = layer[from] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let layers = layer.iter().copied().max().unwrap_or(0) + 1;
    let mut rows_in: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for node in 0..count {
        rows_in[layer[node]].push(node);
    }
    let node_width = 112.0;
    let node_height = 34.0;
    // Room between columns for the edges' curves and their labels.
    let gap_x = ((WIDTH - 32.0 - node_width * layers as f64) / (layers.max(2) - 1) as f64)
        .clamp(52.0, 140.0);
    let total_width = (32.0 + layers as f64 * node_width + (layers - 1) as f64 * gap_x).max(WIDTH);
    let tallest = rows_in.iter().map(Vec::len).max().unwrap_or(1);
    let row_gap = 30.0;
    let height = 40.0 + tallest as f64 * (node_height + row_gap) + 30.0;
    let mut position = vec![(0.0, 0.0); count];
    for (column, members) in rows_in.iter().enumerate() {
        let column_height = members.len() as f64 * (node_height + row_gap) - row_gap;
        let top = (height - 30.0 - column_height) / 2.0;
        for (row, &node) in members.iter().enumerate() {
            position[node] = (
                16.0 + column as f64 * (node_width + gap_x),
                top + row as f64 * (node_height + row_gap),
            );
        }
    }
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart graph" id="{}" role="img" aria-labelledby="{}-title" viewBox="0 0 {total_width:.0} {height:.0}" xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><defs><marker id="{}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path class="arrow" d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>"#,
        esc(id),
        esc(id),
        esc(id),
        esc(title),
        esc(id)
    );
    for (index, &(from, to, traces)) in edges.iter().enumerate() {
        let (fx, fy) = position[from];
        let (tx, ty) = position[to];
        let (x1, y1, x2, y2) = (
            fx + node_width,
            fy + node_height / 2.0,
            tx,
            ty + node_height / 2.0,
        );
        let (path, label_x, label_y) = if back[index] || x2 <= x1 {
            // Back edge: a loop under the nodes, from the bottom of one to the bottom of the other.
            let (sx, sy) = (fx + node_width / 2.0, fy + node_height);
            let (ex, ey) = (tx + node_width / 2.0, ty + node_height);
            let dip = sy.max(ey) + 26.0;
            (
                format!("M {sx:.1} {sy:.1} C {sx:.1} {dip:.1}, {ex:.1} {dip:.1}, {ex:.1} {ey:.1}"),
                (sx + ex) / 2.0,
                dip - 2.0,
            )
        } else {
            let mid = (x1 + x2) / 2.0;
            (
                format!("M {x1:.1} {y1:.1} C {mid:.1} {y1:.1}, {mid:.1} {y2:.1}, {x2:.1} {y2:.1}"),
                mid,
                (y1 + y2) / 2.0 - 5.0,
            )
        };
        let _ = write!(
            out,
            r#"<path class="edge" d="{path}" marker-end="url(#{}-arrow)" data-v="{traces}"><title>{} → {}: {traces} traces</title></path><text class="edge-label" x="{label_x:.1}" y="{label_y:.1}" text-anchor="middle">{traces}</text>"#,
            esc(id),
            esc(nodes[from].name),
            esc(nodes[to].name)
        );
    }
    for (node, &(x, y)) in nodes.iter().zip(&position) {
        let mut classes = vec!["node", node.role];
        classes.extend(node.classes.iter().copied());
        let _ = write!(
            out,
            r#"<g class="{}"><title>{}</title><rect x="{x:.1}" y="{y:.1}" width="{node_width}" height="{node_height}" rx="{}"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text></g>"#,
            classes.join(" "),
            esc(&node.detail),
            if node.role == "node" { 6.0 } else { 17.0 },
            x + node_width / 2.0,
            y + node_height / 2.0 + 4.0,
            esc(&shorten(node.name, 16))
        );
    }
    out.push_str("</svg>");
    out
}

/// One bar of a waterfall: its row (node), when, and its outcome class.
pub struct WaterfallBar<'a> {
    pub row: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
    pub class: &'static str,
    pub title: String,
}

/// A mark of a waterfall (node_failed, deadline_skip, a cancellation).
pub struct WaterfallMark<'a> {
    pub row: Option<&'a str>,
    pub ts: Timestamp,
    pub title: String,
}

/// A trace's attempts per node over its time (ms from its first event), rows in order of
/// first appearance.
pub fn waterfall(
    id: &str,
    title: &str,
    bars: &[WaterfallBar<'_>],
    marks: &[WaterfallMark<'_>],
    first: Timestamp,
    last: Timestamp,
) -> String {
    let mut rows: Vec<&str> = Vec::new();
    for row in bars
        .iter()
        .map(|b| b.row)
        .chain(marks.iter().filter_map(|m| m.row))
    {
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    if rows.is_empty() {
        rows.push("trace");
    }
    let label_width = label_column(rows.iter().copied());
    let plot_left = label_width;
    let plot_width = WIDTH - plot_left - RIGHT - 8.0;
    // At least 1 ms: a trace of one event (a deadline skip) has no span, and an axis of
    // microseconds labelled 0.00 four times says nothing.
    let span_ms = (last.0.saturating_sub(first.0)).max(1000) as f64 / 1000.0;
    let (top, step) = nice_axis(span_ms);
    let x_of = |ts: Timestamp| plot_left + (ts.0 - first.0) as f64 / 1000.0 / top * plot_width;
    let row_height = 22.0;
    let plot_height = rows.len() as f64 * row_height;
    let mut out = String::new();
    open_svg(&mut out, id, title, TOP + plot_height + 40.0);
    let mut value = 0.0;
    while value <= top + step / 2.0 {
        let x = plot_left + value / top * plot_width;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + plot_height,
            TOP + plot_height + 14.0,
            number(value)
        );
        value += step;
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">ms since the trace's first event</text>"#,
        plot_left + plot_width / 2.0,
        TOP + plot_height + 30.0
    );
    for (index, row) in rows.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            // Clear of a mark at 0 ms (7 wide either side of its time).
            plot_left - 10.0,
            TOP + index as f64 * row_height + 15.0,
            esc(&shorten(row, 28))
        );
    }
    let row_of = |row: &str| rows.iter().position(|r| *r == row).unwrap_or(0);
    for bar in bars {
        let y = TOP + row_of(bar.row) as f64 * row_height + 3.0;
        let x = x_of(bar.start);
        let width = (x_of(bar.end) - x).max(2.0);
        let _ = write!(
            out,
            r#"<rect class="bar {}" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="15" rx="2" data-v="{}"><title>{}</title></rect>"#,
            bar.class,
            number((bar.end.0 - bar.start.0) as f64 / 1000.0),
            esc(&bar.title)
        );
    }
    for mark in marks {
        let y = TOP + mark.row.map_or(0, row_of) as f64 * row_height + 10.5;
        let x = x_of(mark.ts);
        let _ = write!(
            out,
            r#"<path class="mark" d="M {x:.1} {:.1} L {:.1} {y:.1} L {x:.1} {:.1} L {:.1} {y:.1} z" data-v="1"><title>{}</title></path>"#,
            y - 7.0,
            x + 7.0,
            y + 7.0,
            x - 7.0,
            esc(&mark.title)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_logs_is_escaped() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn axes_are_round() {
        assert_eq!(nice_axis(12.0), (15.0, 5.0));
        assert_eq!(nice_axis(6.0), (6.0, 2.0));
        assert_eq!(nice_axis(7.0), (8.0, 2.0));
        assert_eq!(nice_axis(0.0), (1.0, 0.25));
        assert_eq!(nice_axis(1000.0), (1000.0, 250.0));
    }

    #[test]
    fn a_cycle_is_laid_out_left_to_right_with_its_back_edge_below() {
        let nodes: Vec<GraphNode<'_>> = ["a", "b", "c"]
            .iter()
            .map(|name| GraphNode {
                name,
                role: "node",
                classes: Vec::new(),
                detail: String::new(),
            })
            .collect();
        let svg = flow_graph("g", "flow", &nodes, &[(0, 1, 5), (1, 2, 5), (2, 1, 2)]);
        assert_eq!(svg.matches("class=\"edge\"").count(), 3);
        // The back edge c -> b is a loop under the nodes (a C curve from a bottom).
        assert!(svg.contains("<title>c → b: 2 traces</title>"));
    }
}
