//! Schema errors, rendered like rustc's: `file:line:col`, the source line, a caret, a help.

use codespan_reporting::diagnostic::{Diagnostic as Rendered, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};
use std::fmt;
use std::ops::Range;

/// One mistake in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong.
    pub message: String,
    /// The byte range of the offending text.
    pub span: Range<usize>,
    /// A short label under the caret.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places that explain the mistake ("first defined here").
    pub related: Vec<(Range<usize>, String)>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span,
            label: label.into(),
            help: None,
            related: Vec::new(),
        }
    }

    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label at another place.
    pub fn related(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }
}

/// Every error found in one schema, in source order, with the text needed to render them.
#[derive(Clone, PartialEq, Eq)]
pub struct Diagnostics {
    file_name: String,
    source: String,
    errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn new(file_name: &str, source: &str, mut errors: Vec<Diagnostic>) -> Self {
        errors.sort_by_key(|e| (e.span.start, e.span.end));
        Self {
            file_name: file_name.to_owned(),
            source: source.to_owned(),
            errors,
        }
    }

    /// The errors, in source order.
    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }

    /// One line per error, `file:line:col: message (help: ...)`: what a build shows before
    /// cargo's "failed to run custom build command" block, so the schema error is the first
    /// thing a user reads.
    pub fn one_line_summaries(&self) -> Vec<String> {
        use codespan_reporting::files::Files;
        let file = SimpleFile::new(self.file_name.as_str(), self.source.as_str());
        self.errors
            .iter()
            .map(|error| {
                let place = match file.location((), error.span.start) {
                    Ok(at) => format!("{}:{}:{}", self.file_name, at.line_number, at.column_number),
                    Err(_) => self.file_name.clone(),
                };
                let help = error
                    .help
                    .as_ref()
                    .map(|help| format!(" (help: {help})"))
                    .unwrap_or_default();
                // A `cargo:` line ends at a line break.
                format!("{place}: {}{help}", error.message).replace(['\n', '\r'], " ")
            })
            .collect()
    }

    /// The errors rendered as text, like rustc prints them (no colour).
    pub fn render(&self) -> String {
        let file = SimpleFile::new(self.file_name.as_str(), self.source.as_str());
        let config = Config::default();
        let mut out = String::new();
        for error in &self.errors {
            let mut labels =
                vec![Label::primary((), error.span.clone()).with_message(&error.label)];
            labels.extend(
                error
                    .related
                    .iter()
                    .map(|(span, label)| Label::secondary((), span.clone()).with_message(label)),
            );
            let mut rendered = Rendered::error()
                .with_message(&error.message)
                .with_labels(labels);
            if let Some(help) = &error.help {
                rendered = rendered.with_note(format!("help: {help}"));
            }
            // Rendering into a String only fails for spans outside the file, which every stage
            // clamps to the source; fall back to the bare message rather than panic.
            if term::emit_to_string(&mut out, &config, &file, &rendered).is_err() {
                out.push_str(&format!("error: {}\n", error.message));
            }
        }
        let count = self.errors.len();
        out.push_str(&format!(
            "error: could not compile schema `{}` due to {count} previous error{}\n",
            self.file_name,
            if count == 1 { "" } else { "s" }
        ));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Shows the rendered diagnostics, so `fn main() -> Result<..>` in `build.rs` and `.unwrap()`
/// both print them readably.
impl fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{}", self.render())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to `name`, if one is close enough to be a likely typo: similar by
/// Jaro-Winkler (shared prefix, a letter dropped or added: `Strng`, `Custome`), or one edit
/// away counting a swap of neighbours as one (`i46` for `i64`, `u23` for `u32`), which
/// Jaro-Winkler scores low on names this short.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let similarity = strsim::jaro_winkler(&name, &lower);
            let edits = strsim::osa_distance(&name, &lower);
            // Among equally distant names, one with the same letters (a swap) is the likelier
            // typo: `i46` is `i64` rather than `i16`.
            let same_letters = sorted_chars(&name) == sorted_chars(&lower);
            (similarity > 0.8 || edits <= 1).then_some((edits, !same_letters, similarity, c))
        })
        // The fewest edits first, then a swap, then the most similar.
        .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(b.2.total_cmp(&a.2)))
        .map(|(_, _, _, c)| c)
}

fn sorted_chars(text: &str) -> Vec<char> {
    let mut chars: Vec<char> = text.chars().collect();
    chars.sort_unstable();
    chars
}
