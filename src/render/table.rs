//! Aligned tables for reports (find, classify, saturation), built with comfy-table: no borders,
//! two spaces between columns, numbers right-aligned, colors only when the palette allows.

use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width,
    presets,
};

use super::{Palette, Tone};

/// A borderless table with `headers`; the columns at `right` are right-aligned.
pub fn report_table(headers: &[&str], right: &[usize], palette: Palette) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if palette.enabled {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let header: Vec<Cell> = headers
        .iter()
        .map(|h| {
            let cell = Cell::new(h);
            if palette.enabled {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        })
        .collect();
    table.set_header(header);
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if right.contains(&index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// Fits `table` to the terminal's width (when writing to one) by wrapping its last column, the
/// detail; the key and number columns keep their full width.
pub fn fit_detail(table: &mut Table, palette: Palette) {
    let Some(width) = palette.width else {
        return;
    };
    let columns = table.column_count();
    table
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX));
    for (index, column) in table.column_iter_mut().enumerate() {
        if index + 1 < columns {
            column.set_constraint(ColumnConstraint::ContentWidth);
        } else {
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(16)));
        }
    }
}

/// The widest cell of each column (headers included), in characters.
pub fn column_widths<S: AsRef<str>>(headers: &[&str], rows: &[Vec<S>]) -> Vec<usize> {
    headers
        .iter()
        .enumerate()
        .map(|(column, header)| {
            rows.iter()
                .map(|cells| cells[column].as_ref().chars().count())
                .chain([header.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// Whether `columns` of a table fit `width` (two spaces after each, as `report_table` pads
/// them), the last of them counted at no more than `last_at_most` when it wraps.
pub fn columns_fit(widths: &[usize], columns: &[usize], last_at_most: usize, width: usize) -> bool {
    let Some((&last, keys)) = columns.split_last() else {
        return true;
    };
    let used: usize = keys.iter().map(|&c| widths[c] + 2).sum();
    used + widths[last].min(last_at_most) + 2 <= width
}

/// The columns kept to fit `width`: those in `order` are left out one by one, first to last,
/// until `columns_fit` (all of them when nothing needs leaving out).
pub fn leave_out(
    widths: &[usize],
    mut columns: Vec<usize>,
    order: &[usize],
    last_at_most: usize,
    width: usize,
) -> Vec<usize> {
    for column in order {
        if columns_fit(widths, &columns, last_at_most, width) {
            break;
        }
        columns.retain(|c| c != column);
    }
    columns
}

/// `(START (UTC), EVENTS left out to fit 80 columns; --format json has them all)`.
pub fn left_out_note(headers: &[&str], left_out: &[usize], width: usize) -> String {
    let names: Vec<&str> = left_out.iter().map(|&c| headers[c]).collect();
    format!(
        "({} left out to fit {width} columns; --format json has them all)",
        names.join(", ")
    )
}

/// A cell shown in the tone of an event kind.
pub fn toned(text: impl ToString, tone: Tone, palette: Palette) -> Cell {
    let cell = Cell::new(text);
    if !palette.enabled {
        return cell;
    }
    match tone {
        Tone::Failure => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Tone::Error => cell.fg(Color::Red),
        Tone::Timeout => cell.fg(Color::Yellow),
        Tone::Retry => cell.fg(Color::Magenta),
        Tone::Deadline => cell.fg(Color::Blue),
        Tone::Cancel => cell.fg(Color::Cyan),
        Tone::Success => cell.fg(Color::Green),
        Tone::Quiet => cell.add_attribute(Attribute::Dim),
        Tone::Plain => cell,
    }
}

/// A table row whose cells take the tone `tone_of(column)` gives (plain when it gives none).
pub fn toned_row(
    cells: impl IntoIterator<Item = String>,
    palette: Palette,
    tone_of: impl Fn(usize) -> Option<Tone>,
) -> Vec<Cell> {
    cells
        .into_iter()
        .enumerate()
        .map(|(index, text)| match tone_of(index) {
            Some(tone) => toned(text, tone, palette),
            None => Cell::new(text),
        })
        .collect()
}

/// The table as text, each line without trailing spaces.
pub fn to_text(table: &Table) -> String {
    let mut text = String::new();
    for line in table.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
