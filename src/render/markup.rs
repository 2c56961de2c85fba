//! Styled lines for the human renderer: text is built as spans tagged with a tone,
//! and colour is applied (or not) only in [`finish`], the very last step, so the
//! layout code never has to think about escape codes and uncoloured output cannot
//! contain any. [`finish_diff`] renders the same lines for a Markdown ```diff
//! fence instead of a terminal.

/// What a span means; `finish` maps meanings to colours (Terraform's choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tone {
    Plain,
    Bold,
    /// `+`: something is created or added.
    Add,
    /// `~`: something changes in place.
    Change,
    /// `-`: something is destroyed or removed.
    Remove,
}

/// One output line as a sequence of toned spans.
#[derive(Debug, Clone, Default)]
pub(super) struct Line(Vec<(Tone, String)>);

impl Line {
    pub fn new() -> Self {
        Line(Vec::new())
    }

    pub fn plain(text: impl Into<String>) -> Self {
        Line::new().push(Tone::Plain, text)
    }

    pub fn bold(text: impl Into<String>) -> Self {
        Line::new().push(Tone::Bold, text)
    }

    pub fn push(mut self, tone: Tone, text: impl Into<String>) -> Self {
        self.0.push((tone, text.into()));
        self
    }

    /// Append an action symbol (`+`, `~`, `-`, `-/+`), coloured part by part.
    pub fn symbol(self, symbol: &str) -> Self {
        match symbol {
            "+" => self.push(Tone::Add, "+"),
            "~" => self.push(Tone::Change, "~"),
            "-" => self.push(Tone::Remove, "-"),
            // A replacement is a destroy then a create: red minus, green plus.
            "-/+" => self
                .push(Tone::Remove, "-")
                .push(Tone::Plain, "/")
                .push(Tone::Add, "+"),
            other => self.push(Tone::Plain, other),
        }
    }
}

/// Join lines into text, each ending in a newline; ANSI colour only when `color`.
pub(super) fn finish(lines: &[Line], color: bool) -> String {
    let mut out = String::new();
    for line in lines {
        for (tone, text) in &line.0 {
            if !color || text.is_empty() {
                out.push_str(text);
                continue;
            }
            // Forced on: the caller already decided (TTY, NO_COLOR); console's own
            // detection would otherwise second-guess it, e.g. in tests.
            let styled = console::style(text).force_styling(true);
            let styled = match tone {
                Tone::Plain => {
                    out.push_str(text);
                    continue;
                }
                Tone::Bold => styled.bold(),
                Tone::Add => styled.green(),
                Tone::Change => styled.yellow(),
                Tone::Remove => styled.red(),
            };
            out.push_str(&styled.to_string());
        }
        out.push('\n');
    }
    out
}

/// Plain text for a Markdown ```diff fence: a line's leading action symbol moves
/// to column 0, where diff highlighting looks for it, and `~` becomes `!`
/// ("changed"), as Atlantis does. The symbol is found by its tone, not by
/// guessing from the text, so file content that starts with `+ ` stays put.
pub(super) fn finish_diff(lines: &[Line]) -> String {
    let mut out = String::new();
    for line in lines {
        let text: String = line.0.iter().map(|(_, s)| s.as_str()).collect();
        let lead = line
            .0
            .iter()
            .take_while(|(tone, s)| *tone == Tone::Plain && s.bytes().all(|b| b == b' '))
            .count();
        let indent: usize = line.0[..lead].iter().map(|(_, s)| s.len()).sum();
        let marker = match line.0.get(lead).map(|(tone, s)| (*tone, s.as_str())) {
            Some((Tone::Add, "+")) => Some('+'),
            Some((Tone::Remove, "-")) => Some('-'),
            Some((Tone::Change, "~")) => Some('!'),
            _ => None,
        };
        match marker {
            Some(marker) if indent > 0 => {
                out.push(marker);
                out.push_str(&" ".repeat(indent));
                out.push_str(&text[indent + 1..]);
            }
            _ => out.push_str(&text),
        }
        out.push('\n');
    }
    out
}
