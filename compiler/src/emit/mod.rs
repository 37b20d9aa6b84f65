//! Stage 3, emit: [`ir::Schema`] -> the tokens of the whole generated file, one module per
//! generated artifact, each a set of `quote!` templates that read like the code they make.
//! [`crate::format`] parses the file with `syn` and lays it out with `prettyplease`: emit never
//! thinks about layout. Every path is fully qualified (`::netabase_runtime::...`, `::core::...`),
//! every public item has a doc that says where in the schema it came from, every name the
//! generated code defines comes from the naming pass ([`crate::naming`]), and nothing is an inner
//! attribute, so the output can be `include!`d anywhere.

mod definition;
pub mod history;
mod key_parts;
mod keys;
mod links;
mod model;
mod tree;
mod types;
mod values;
mod view;

use crate::ir::{self, Schema};
use crate::naming::{ModelNames, Names};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

/// What the caller chose beyond the schema.
pub struct EmitOptions<'a> {
    /// Derive `serde::Serialize` and `serde::Deserialize` on models.
    pub serde: bool,
    /// Extra derives for models, as paths.
    pub extra_derives: &'a [syn::Path],
    /// Whether the schema keeps a history: the definition's `HISTORY` is then the constant
    /// [`history::emit`] writes.
    pub history: bool,
}

/// Emits the whole file, in order: the runtime contract check, the definition and its
/// transactions, the schema's value types, then each model's items.
pub fn emit(schema: &Schema, options: &EmitOptions<'_>) -> TokenStream {
    let names = Names::new(schema);
    let version = Literal::u32_unsuffixed(crate::CODEGEN_VERSION);
    let mut file = quote! {
        const _: () = ::netabase_runtime::__codegen::check_codegen_version(#version);
    };
    file.extend(definition::emit(schema, &names, options.history));
    file.extend(values::emit(schema, options));
    for (position, model) in schema.models.iter().enumerate() {
        let ctx = Ctx {
            schema,
            model,
            position,
            names: &names.models[position],
            all: &names,
        };
        file.extend(model::emit(&ctx, options));
        file.extend(keys::emit(&ctx));
        file.extend(view::emit(&ctx));
        file.extend(tree::emit(&ctx));
        file.extend(tree::watch_filters(&ctx));
        file.extend(links::methods(&ctx));
    }
    file
}

/// What every per-model emitter needs.
pub(crate) struct Ctx<'a> {
    pub schema: &'a Schema,
    pub model: &'a ir::Model,
    /// The model's position in `schema.models`.
    pub position: usize,
    /// The names of the model's items (the naming pass).
    pub names: &'a ModelNames,
    /// The names of every model's items, for items that name another model's.
    pub all: &'a Names,
}

/// Where an item was declared, by schema table, not line: "Declared in `[models.City]` of
/// `schemas/atlas.toml`." (a line number would change every doc below an edit).
pub(crate) fn declared_in(table: &str, schema: &Schema) -> String {
    format!("Declared in `[{table}]` of `{}`.", schema.source_name)
}

/// An identifier, raw (`r#type`) when the name says so.
pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Docs for an item the schema documents (made inert by [`inert_doc`]), then ours.
pub(crate) fn schema_docs<'a>(
    schema_doc: Option<&str>,
    ours: impl IntoIterator<Item = &'a str>,
) -> TokenStream {
    let inert = schema_doc.and_then(inert_doc);
    let mut paragraphs: Vec<&str> = inert.as_deref().into_iter().collect();
    paragraphs.extend(ours.into_iter().map(|p| -> &str { p }));
    docs(paragraphs)
}

/// `#[doc]` attributes for a block of documentation: one per line, so it renders as `///`
/// lines. The text goes into string literals, so nothing in it can become code; lines are split
/// at every line break rustc knows (a lone `\r` too, which a `///` comment may not hold), and
/// control characters and the bidirectional-override code points that rustc denies in comments
/// are written as `\u{..}` escapes.
///
/// This is for our own sentences, which may use markdown (intra-doc links, code spans). Text
/// from the schema goes through [`inert_doc`] ([`schema_docs`]).
pub(crate) fn docs<'a>(paragraphs: impl IntoIterator<Item = &'a str>) -> TokenStream {
    let lines = doc_lines(paragraphs);
    quote! { #(#[doc = #lines])* }
}

/// The lines of [`docs`], each with its leading space (`" text"`, or `""` between paragraphs).
pub(crate) fn doc_lines<'a>(paragraphs: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(split_lines(paragraph).map(|l| match l.trim_end() {
            "" => String::new(),
            l => format!(" {}", escape_invisible(l)),
        }));
    }
    lines
}

/// Schema documentation as markdown that rustdoc shows as the author wrote it and that can do
/// nothing else: no doctest, link, HTML, heading, list or emphasis, whatever the text holds.
///
/// Plain prose (the usual case: sentences, `code spans`, URLs) stays prose, so `cargo doc` shows
/// it as a normal paragraph and as the item's summary; URLs become `<autolinks>` (a bare URL is
/// a rustdoc warning). Anything else (a code fence, an indented line, `*`, `[`, `<`, `|`, `\`, a
/// line that starts like a list, a heading or a quote, a tab or a control character) makes the
/// whole text a ```` ```text ```` block, shown verbatim: a `text` block is never compiled or run
/// as a doctest, and its fence is longer than any run of backticks inside, so nothing in the
/// text can close it. `None` for text that is empty or blank.
pub fn inert_doc(text: &str) -> Option<String> {
    let lines: Vec<String> = split_lines(text)
        .map(|l| expand_tabs(l).trim_end().to_owned())
        .collect();
    let first = lines.iter().position(|l| !l.is_empty())?;
    let last = lines.iter().rposition(|l| !l.is_empty())?;
    let lines = &lines[first..=last];
    let prose: Option<Vec<String>> = if text.contains('\t') {
        None
    } else {
        lines.iter().map(|l| plain_line(l)).collect()
    };
    if let Some(prose) = prose {
        return Some(prose.join("\n"));
    }
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest_run + 1).max(3));
    Some(format!("{fence}text\n{}\n{fence}", lines.join("\n")))
}

/// The lines of `text`, split at `\n`, `\r\n` and a lone `\r`.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
}

/// Tabs to spaces (stops every 4 columns): a tab in a doc comment is a clippy warning.
fn expand_tabs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c == '\t' {
            let width = 4 - out.chars().count() % 4;
            out.extend(std::iter::repeat_n(' ', width));
        } else {
            out.push(c);
        }
    }
    out
}

/// Control characters and the code points rustc's `text_direction_codepoint_in_comment` lint
/// denies, as visible `\u{..}` escapes.
fn escape_invisible(line: &str) -> String {
    line.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn is_word(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of a prose doc as markdown with no effect but text, code spans and autolinks; `None`
/// if the line needs markdown to be read as written (and so the doc is shown verbatim).
fn plain_line(line: &str) -> Option<String> {
    if line.is_empty() {
        return Some(String::new());
    }
    let chars: Vec<char> = line.chars().collect();
    // Block syntax is decided by how a line starts: indentation (code), `#` (heading), `>`
    // (quote), `-`, `+`, `1.`, `1)` (lists), `=`/`-` (heading underlines), `:` (definitions).
    if matches!(chars[0], ' ' | '#' | '>' | '-' | '+' | '=' | ':') {
        return None;
    }
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && matches!(chars.get(digits), Some('.' | ')')) {
        return None;
    }
    let mut out = String::with_capacity(line.len() + 4);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().take(8).collect();
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let end = chars[i..]
                .iter()
                .position(|c| c.is_whitespace())
                .map_or(chars.len(), |n| i + n);
            let mut url_end = end;
            // Sentence punctuation after a URL is not part of it; a `)` is when the URL opened one.
            while url_end > i {
                let last = chars[url_end - 1];
                let url = &chars[i..url_end];
                let unbalanced_paren = last == ')'
                    && url.iter().filter(|&&c| c == ')').count()
                        > url.iter().filter(|&&c| c == '(').count();
                if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"')
                    || unbalanced_paren
                {
                    url_end -= 1;
                } else {
                    break;
                }
            }
            let url: String = chars[i..url_end].iter().collect();
            if url
                .chars()
                .any(|c| matches!(c, '<' | '>' | '`') || c.is_control())
            {
                return None;
            }
            out.push('<');
            out.push_str(&url);
            out.push('>');
            i = url_end;
            continue;
        }
        match c {
            '`' => {
                // A code span: single backticks around text without a backtick, on this line.
                let close = chars[i + 1..].iter().position(|&c| c == '`')? + i + 1;
                if close == i + 1 || chars.get(close + 1) == Some(&'`') {
                    return None;
                }
                out.extend(&chars[i..=close]);
                i = close + 1;
                continue;
            }
            // `snake_case` words: an underscore between letters or digits is never emphasis.
            '_' if !(i > 0 && is_word(chars.get(i - 1)) && is_word(chars.get(i + 1))) => {
                return None;
            }
            // `&amp;` and `&#38;` would be character references.
            '&' if chars
                .get(i + 1)
                .is_some_and(|c| c.is_alphanumeric() || *c == '#') =>
            {
                return None;
            }
            '*' | '\\' | '[' | ']' | '<' | '|' | '~' | '^' => return None,
            c if c.is_control() || is_bidi_control(c) => return None,
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Some(out)
}
