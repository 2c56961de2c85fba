//! Diagnostics: errors with a source location (file:line:column) and a help line.
//!
//! Diagnostics accumulate so that one `infra validate` run reports every problem.
//! Rendering uses miette's graphical handler; colour follows the terminal.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// Every source file a spec was read from, so diagnostics can point into it.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the project root, as shown to the user.
    pub path: PathBuf,
    pub text: String,
}

/// A place in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: usize,
    pub span: Range<usize>,
}

impl SourceMap {
    pub fn add(&mut self, path: PathBuf, text: String) -> usize {
        self.files.push(SourceFile { path, text });
        self.files.len() - 1
    }

    pub fn file(&self, id: usize) -> &SourceFile {
        &self.files[id]
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, loc: &Loc) -> (usize, usize) {
        let text = &self.files[loc.file].text;
        let offset = loc.span.start.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// `file:line:column` for a location.
    pub fn describe(&self, loc: &Loc) -> String {
        let (line, col) = self.line_col(loc);
        format!("{}:{line}:{col}", self.files[loc.file].path.display())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub help: Option<String>,
    pub loc: Option<Loc>,
    /// Short label shown under the highlighted source.
    pub label: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            help: None,
            loc: None,
            label: None,
        }
    }

    pub fn at(mut self, loc: Loc) -> Self {
        self.loc = Some(loc);
        self
    }

    pub fn at_opt(mut self, loc: Option<Loc>) -> Self {
        self.loc = loc;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// A list of diagnostics plus the sources they point into.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Sort by file and position so output reads top to bottom.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            let ka = a.loc.as_ref().map(|l| (l.file, l.span.start));
            let kb = b.loc.as_ref().map(|l| (l.file, l.span.start));
            ka.cmp(&kb)
        });
        self.items.dedup();
    }

    /// Render every diagnostic, miette-style, into one string.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let handler = if color {
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode())
        } else {
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        }
        .with_context_lines(1);
        let mut out = String::new();
        for d in &self.items {
            let report = Rendered { d, sources };
            if handler.render_report(&mut out, &report).is_err() {
                out.push_str(&format!("error: {}\n", d.message));
            }
            out.push('\n');
        }
        out
    }
}

/// One diagnostic viewed through miette's traits.
struct Rendered<'a> {
    d: &'a Diagnostic,
    sources: &'a SourceMap,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.d.loc {
            // The plain `file:line:col` prefix keeps errors greppable without the fancy frame.
            Some(loc) => write!(f, "{}: {}", self.sources.describe(loc), self.d.message),
            None => f.write_str(&self.d.message),
        }
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        let loc = self.d.loc.as_ref()?;
        Some(&self.sources.files[loc.file])
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let loc = self.d.loc.as_ref()?;
        let len = loc.span.end.saturating_sub(loc.span.start).max(1);
        let label = miette::LabeledSpan::new(self.d.label.clone(), loc.span.start, len);
        Some(Box::new(std::iter::once(label)))
    }
}

impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.path.display().to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}
