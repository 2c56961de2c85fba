//! The attribute lines inside a `resource "kind" "name" { … }` block: which
//! attributes to show (decided only by comparing one change's before and after),
//! how a value prints, multi-line strings as `<<-EOT` heredocs with a line diff,
//! and alignment on `=`. Shared by the plan and the drift sections of `human`, and
//! by `markdown` for its "changed attributes" column.

use std::collections::BTreeSet;

use serde_json::Value;
use similar::{capture_diff_slices, group_diff_ops, Algorithm, DiffTag};

use super::markup::{Line, Tone};
use crate::spec::Attrs;

pub(super) const SENSITIVE: &str = "(sensitive value)";
const UNKNOWN: &str = "(known after apply)";
/// Unchanged lines kept around each changed region of a multi-line string, as in
/// a unified diff: enough to place the change without flooding a review.
const CONTEXT_LINES: usize = 3;
/// Columns: attribute symbols at 6, names at 8, heredoc text at 12 (Terraform's).
const ATTR_INDENT: &str = "    ";
const NAME_INDENT: &str = "        ";
const BODY_INDENT: &str = "            ";
const BODY_MARK_INDENT: &str = "          ";

/// The two sides of one block and the name lists that change how they print.
pub(super) struct Sides<'a> {
    pub before: Option<&'a Attrs>,
    pub after: Option<&'a Attrs>,
    /// Known only after apply: never compared, always shown.
    pub unknown: &'a [String],
    /// Values never printed, on either side.
    pub sensitive: &'a [String],
    /// Changing these forces replacement; they get a trailing note.
    pub forces: &'a [String],
    /// Changed in place, in effect only after a restart; a trailing note too.
    pub restarts: &'a [String],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    Add,
    Change,
    Remove,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::Add => "+",
            Mark::Change => "~",
            Mark::Remove => "-",
        }
    }
}

/// One line of a heredoc body.
enum BodyLine {
    Same(String),
    Added(String),
    Removed(String),
    /// A run of unchanged lines left out of a line diff.
    Hidden(usize),
    Note(&'static str),
}

/// One attribute as `{mark} {name} = {head}[<<-EOT … EOT]{tail}`.
pub(super) struct Row {
    pub mark: Mark,
    pub name: String,
    pub forces: bool,
    pub restarts: bool,
    shown: Shown,
}

/// A printed value: inline text, or inline text around a heredoc.
struct Shown {
    head: String,
    body: Option<Vec<BodyLine>>,
    tail: String,
}

impl Shown {
    fn inline(text: impl Into<String>) -> Self {
        Shown {
            head: text.into(),
            body: None,
            tail: String::new(),
        }
    }
}

/// The attributes a block shows, and how many equal ones it leaves out.
pub(super) struct Rows {
    pub rows: Vec<Row>,
    pub hidden: usize,
}

/// Compare the two sides attribute by attribute. A missing side (create, delete)
/// makes every attribute an addition or a removal, so one rule serves all actions.
pub(super) fn rows(sides: &Sides) -> Rows {
    let empty = Attrs::new();
    let before = sides.before.unwrap_or(&empty);
    let after = sides.after.unwrap_or(&empty);
    let has = |list: &[String], name: &str| list.iter().any(|n| n == name);
    let names: BTreeSet<&str> = before
        .keys()
        .chain(after.keys())
        .chain(sides.unknown)
        .map(String::as_str)
        .collect();
    let mut out = Rows {
        rows: Vec::new(),
        hidden: 0,
    };
    for name in names {
        let sensitive = has(sides.sensitive, name);
        let old = before.get(name);
        // An unknown value is never equal to anything, whatever `after` holds.
        let unknown = has(sides.unknown, name);
        let new = if unknown { None } else { after.get(name) };
        let (mark, shown) = match (old, new) {
            (Some(b), Some(a)) if a == b => {
                out.hidden += 1;
                continue;
            }
            (Some(b), Some(a)) => (Mark::Change, changed(b, Some(a), sensitive)),
            (Some(b), None) if unknown => (Mark::Change, changed(b, None, sensitive)),
            (Some(b), None) => (Mark::Remove, removed(b, sensitive)),
            (None, Some(a)) => (Mark::Add, added(a, sensitive)),
            (None, None) if unknown => (Mark::Add, Shown::inline(UNKNOWN)),
            (None, None) => continue,
        };
        // Under a create nothing is marked (`forces` is empty); under a replacement
        // an attribute the live object lacks forces it as much as a changed one.
        let forces = has(sides.forces, name);
        out.rows.push(Row {
            mark,
            name: name.to_string(),
            forces,
            restarts: has(sides.restarts, name),
            shown,
        });
    }
    out
}

/// The block's attribute lines, names padded to the longest so `=` lines up.
pub(super) fn lines(rows: &[Row]) -> Vec<Line> {
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for row in rows {
        let first = Line::plain(ATTR_INDENT)
            .push(Tone::Plain, "  ")
            .symbol(row.mark.symbol())
            .push(
                Tone::Plain,
                format!(" {:width$} = {}", row.name, row.shown.head),
            );
        let last = match &row.shown.body {
            None => first.push(Tone::Plain, &row.shown.tail),
            Some(body) => {
                out.push(first.push(Tone::Plain, "<<-EOT"));
                out.extend(body.iter().map(body_line));
                Line::plain(format!("{NAME_INDENT}EOT{}", row.shown.tail))
            }
        };
        out.push(if row.forces {
            last.push(Tone::Remove, " # forces replacement")
        } else if row.restarts {
            last.push(Tone::Change, " # takes effect after a restart")
        } else {
            last
        });
    }
    out
}

/// `# (N unchanged attributes hidden)`, at the attribute-name column.
pub(super) fn hidden_line(count: usize) -> Line {
    let noun = if count == 1 {
        "attribute"
    } else {
        "attributes"
    };
    Line::plain(format!("{NAME_INDENT}# ({count} unchanged {noun} hidden)"))
}

fn body_line(line: &BodyLine) -> Line {
    let marked = |symbol: &str, text: &str| {
        let line = Line::plain(BODY_MARK_INDENT).symbol(symbol);
        // No trailing blank after the symbol when the content line is empty.
        if text.is_empty() {
            line
        } else {
            line.push(Tone::Plain, format!(" {text}"))
        }
    };
    match line {
        BodyLine::Same(text) if text.is_empty() => Line::plain(""),
        BodyLine::Same(text) => Line::plain(format!("{BODY_INDENT}{text}")),
        BodyLine::Added(text) => marked("+", text),
        BodyLine::Removed(text) => marked("-", text),
        BodyLine::Hidden(n) => {
            let noun = if *n == 1 { "line" } else { "lines" };
            Line::plain(format!("{BODY_INDENT}# ({n} unchanged {noun} hidden)"))
        }
        BodyLine::Note(text) => Line::plain(format!("{BODY_INDENT}# {text}")),
    }
}

fn added(value: &Value, sensitive: bool) -> Shown {
    if sensitive {
        Shown::inline(SENSITIVE)
    } else {
        show(value)
    }
}

fn removed(value: &Value, sensitive: bool) -> Shown {
    let mut shown = if sensitive {
        Shown::inline(SENSITIVE)
    } else {
        show(value)
    };
    shown.tail.push_str(" -> null");
    shown
}

/// `old -> new`; `new` is `None` when it is known only after apply.
fn changed(old: &Value, new: Option<&Value>, sensitive: bool) -> Shown {
    if sensitive {
        // Not even "it changed from X": Terraform prints the marker once.
        return Shown::inline(SENSITIVE);
    }
    let Some(new) = new else {
        let mut shown = show(old);
        shown.tail = format!(" -> {UNKNOWN}");
        return shown;
    };
    if let (Value::String(a), Value::String(b)) = (old, new) {
        if a.contains('\n') || b.contains('\n') {
            return Shown {
                head: String::new(),
                body: Some(line_diff(a, b)),
                tail: String::new(),
            };
        }
    }
    let (left, right) = (show(old), show(new));
    match (left.body, right.body) {
        (None, Some(body)) => Shown {
            head: format!("{} -> ", left.head),
            body: Some(body),
            tail: String::new(),
        },
        (Some(body), None) => Shown {
            head: String::new(),
            body: Some(body),
            tail: format!(" -> {}", right.head),
        },
        // Both inline (two multi-line strings were diffed above).
        _ => Shown::inline(format!("{} -> {}", left.head, right.head)),
    }
}

/// A value on its own: multi-line strings as a heredoc, everything else on one
/// line as the spec writes it in TOML (`["a", "b"]`, `{ nesting = true }`).
fn show(value: &Value) -> Shown {
    match value {
        Value::String(s) if s.contains('\n') => Shown {
            head: String::new(),
            body: Some(split_lines(s).into_iter().map(BodyLine::Same).collect()),
            tail: String::new(),
        },
        other => Shown::inline(inline(other)),
    }
}

/// TOML inline syntax; strings quoted and escaped as JSON does, which TOML reads alike.
fn inline(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                .collect();
            format!("{{ {} }}", pairs.join(", "))
        }
        other => serde_json::to_string(other).expect("JSON values serialise"),
    }
}

/// A table key: bare where TOML allows it, else quoted.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        serde_json::to_string(k).expect("strings serialise")
    }
}

/// Lines of a multi-line string. The final newline ends the last line rather
/// than opening an empty one; control characters are escaped so file content
/// can never smuggle terminal escape codes into the plan.
fn split_lines(s: &str) -> Vec<String> {
    let s = s.strip_suffix('\n').unwrap_or(s);
    if s.is_empty() {
        return Vec::new();
    }
    s.split('\n').map(escape_controls).collect()
}

fn escape_controls(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\t' => out.push(c),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A line-level diff with a few lines of context; long unchanged runs collapse
/// into `# (N unchanged lines hidden)` so a one-line edit to a big file stays short.
fn line_diff(old: &str, new: &str) -> Vec<BodyLine> {
    let (old, new) = (split_lines(old), split_lines(new));
    let ops = capture_diff_slices(Algorithm::Myers, &old, &new);
    let mut out = Vec::new();
    let mut shown_to = 0; // old lines before this index are printed or counted
    for group in group_diff_ops(ops, CONTEXT_LINES) {
        if group.iter().all(|op| op.tag() == DiffTag::Equal) {
            continue;
        }
        let start = group.first().map_or(shown_to, |op| op.old_range().start);
        if start > shown_to {
            out.push(BodyLine::Hidden(start - shown_to));
        }
        for op in &group {
            let (tag, o, n) = op.as_tag_tuple();
            let same = matches!(tag, DiffTag::Equal);
            if same {
                out.extend(old[o.clone()].iter().cloned().map(BodyLine::Same));
            } else {
                out.extend(old[o.clone()].iter().cloned().map(BodyLine::Removed));
                out.extend(new[n].iter().cloned().map(BodyLine::Added));
            }
            shown_to = o.end;
        }
    }
    if old.len() > shown_to {
        out.push(BodyLine::Hidden(old.len() - shown_to));
    }
    if !out
        .iter()
        .any(|l| matches!(l, BodyLine::Added(_) | BodyLine::Removed(_)))
    {
        // The strings differ but every line matches: only the final newline moved.
        out.push(BodyLine::Note("(only the final newline differs)"));
    }
    out
}
