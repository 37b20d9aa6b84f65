//! Safety of generation: no schema text changes the meaning of the generated code.
//!
//! Thousands of inputs, mutated from the project's schemas and fixtures or built at random
//! (names that are keywords, unicode or empty; unknown and malformed types; keys naming anything),
//! go through `generate()`. It must never panic; every schema it rejects gets diagnostics that
//! render, each with a help line; every schema it accepts gives Rust that `syn` parses and that
//! rustc's lexer accepts (no bare CR in a doc comment, no bidirectional-override code point).
//!
//! Separately, schema docs must stay text: whatever a `doc` holds (code fences, indented code,
//! `*/`, quotes, `#![...]`, HTML, links, bare URLs), rustdoc finds no doctest, HTML or markup in
//! the generated docs. That is checked the way rustdoc reads them: the `///` lines of each item,
//! unindented as rustdoc does, parsed by pulldown-cmark (the parser rustdoc uses).
//!
//! A sample of the accepted random schemas ([`COMPILED_SAMPLE`] per run) also goes through
//! `cargo check` under `deny(warnings)`, all in one crate: generated code must compile for every
//! schema the compiler accepts, and parsing is not compiling.
//!
//! Each test prints how many inputs it ran (`cargo test --test it fuzz_generate -- --nocapture`).

use netabase_build::{Options, generate};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use pulldown_cmark::{CodeBlockKind, Event, LinkType, Parser, Tag};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// What every input must satisfy.
// ---------------------------------------------------------------------------------------------

/// How one input went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Rejected,
}

/// Runs `generate()` on `source` and checks everything that must hold whatever the input: no
/// panic; a rejection has errors, each with a help line, that render; accepted output parses and
/// passes rustc's lexer. With `spans`, also that every span lies in the source, on character
/// boundaries (else the rendering loses the `file:line:col` and the caret).
fn check_generate(source: &str) -> Result<(Outcome, Option<String>), String> {
    check_generate_with(source, false)
}

fn check_generate_with(source: &str, spans: bool) -> Result<(Outcome, Option<String>), String> {
    let options = Options {
        source_name: "fuzz.toml".to_owned(),
        ..Options::default()
    };
    let result = catch_unwind(AssertUnwindSafe(|| generate(source, &options)))
        .map_err(|_| format!("generate() panicked on:\n{source}"))?;
    match result {
        Err(diagnostics) => {
            let rendered = catch_unwind(AssertUnwindSafe(|| diagnostics.render()))
                .map_err(|_| format!("render() panicked on:\n{source}"))?;
            if diagnostics.errors().is_empty() {
                return Err(format!("rejected without an error:\n{source}"));
            }
            for error in diagnostics.errors() {
                if error.help.is_none() {
                    return Err(format!(
                        "error without help: {}\n{rendered}\n{source}",
                        error.message
                    ));
                }
                let in_bounds = |span: &std::ops::Range<usize>| {
                    span.start <= span.end
                        && span.end <= source.len()
                        && source.is_char_boundary(span.start)
                        && source.is_char_boundary(span.end)
                };
                if spans
                    && (!in_bounds(&error.span) || !error.related.iter().all(|(s, _)| in_bounds(s)))
                {
                    return Err(format!(
                        "span outside the source or inside a character: {:?} for `{}`\n{source:?}",
                        error.span, error.message
                    ));
                }
            }
            Ok((Outcome::Rejected, None))
        }
        Ok(code) => {
            if let Err(e) = syn::parse_file(&code) {
                return Err(format!(
                    "accepted, but the output does not parse: {e}\n--- schema\n{source}\n--- code\n{code}"
                ));
            }
            check_lexer_rules(&code).map_err(|e| format!("{e}\n--- schema\n{source}"))?;
            Ok((Outcome::Accepted, Some(code)))
        }
    }
}

/// What rustc's lexer rejects but `syn` lets through: a bare CR in a doc comment, and the code
/// points of the `text_direction_codepoint_in_comment` / `_in_literal` lints (deny by default).
fn check_lexer_rules(code: &str) -> Result<(), String> {
    for (line_number, line) in code.lines().enumerate() {
        if let Some(c) = line
            .chars()
            .find(|&c| (c.is_control() && c != '\t') || is_bidi_control(c))
        {
            return Err(format!(
                "line {} of the output holds {:?}, which rustc rejects:\n{line:?}",
                line_number + 1,
                c
            ));
        }
    }
    Ok(())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The documentation of each item, as rustdoc sees it: consecutive `///` lines, unindented by
/// their common indentation (rustdoc's `unindent_doc_fragments` for sugared docs).
fn doc_blocks(code: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in code.lines().chain([""]) {
        match line.trim_start().strip_prefix("///") {
            Some(doc) => current.push(doc),
            None if !current.is_empty() => {
                let indent = current
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.len() - l.trim_start().len())
                    .min()
                    .unwrap_or(0);
                let text: Vec<&str> = current
                    .iter()
                    .map(|l| l.get(indent..).unwrap_or(""))
                    .collect();
                blocks.push(text.join("\n"));
                current.clear();
            }
            None => {}
        }
    }
    blocks
}

/// The markdown extensions rustdoc turns on, and more: a stricter parse finds more to object to.
fn rustdoc_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options as O;
    O::ENABLE_TABLES
        | O::ENABLE_FOOTNOTES
        | O::ENABLE_STRIKETHROUGH
        | O::ENABLE_TASKLISTS
        | O::ENABLE_SMART_PUNCTUATION
        | O::ENABLE_DEFINITION_LIST
}

/// Checks that the generated docs hold no doctest (a code block other than ```` ```text ````),
/// no HTML, no markup but code spans and links, and no bare URL (a rustdoc warning).
fn check_docs_are_inert(code: &str) -> Result<(), String> {
    if code.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("#[doc") || l.starts_with("/**")
    }) {
        return Err("a doc is not written as `///` lines".to_owned());
    }
    for block in doc_blocks(code) {
        let fail = |what: String| Err(format!("{what} in the generated doc:\n{block}\n"));
        let mut in_code_block = false;
        let mut in_link = false;
        for event in Parser::new_ext(&block, rustdoc_options()) {
            match event {
                Event::Start(Tag::CodeBlock(kind)) => {
                    in_code_block = true;
                    match kind {
                        CodeBlockKind::Fenced(info) if &*info == "text" => {}
                        CodeBlockKind::Fenced(info) => {
                            return fail(format!("a doctest (a code block ```{info})"));
                        }
                        CodeBlockKind::Indented => {
                            return fail("a doctest (an indented code block)".to_owned());
                        }
                    }
                }
                Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_code_block = false,
                Event::Html(html) | Event::InlineHtml(html) => {
                    return fail(format!("HTML `{html}`"));
                }
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    ..
                }) => {
                    // Our own sentences link items (`[commit](Self::commit)`); schema URLs are
                    // autolinks. A link anywhere else would be schema text turned into markup.
                    in_link = true;
                    let ours = link_type == LinkType::Inline
                        && syn::parse_str::<syn::Path>(&dest_url).is_ok();
                    if !ours && link_type != LinkType::Autolink {
                        return fail(format!("a {link_type:?} link to `{dest_url}`"));
                    }
                }
                Event::End(pulldown_cmark::TagEnd::Link) => in_link = false,
                Event::Text(text)
                    if !in_code_block
                        && !in_link
                        && (text.contains("http://") || text.contains("https://")) =>
                {
                    return fail(format!("a bare URL (rustdoc::bare_urls) in `{text}`"));
                }
                Event::Start(
                    tag @ (Tag::Heading { .. }
                    | Tag::BlockQuote(_)
                    | Tag::List(_)
                    | Tag::Item
                    | Tag::Table(_)
                    | Tag::FootnoteDefinition(_)
                    | Tag::DefinitionList
                    | Tag::Image { .. }
                    | Tag::Emphasis
                    | Tag::Strong
                    | Tag::Strikethrough
                    | Tag::HtmlBlock),
                ) => return fail(format!("markup {tag:?}")),
                Event::Rule | Event::TaskListMarker(_) | Event::FootnoteReference(_) => {
                    return fail(format!("markup {event:?}"));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Inputs.
// ---------------------------------------------------------------------------------------------

/// The project's schemas: the valid ones (fixtures and example schemas) and the invalid fixtures.
fn seeds() -> (Vec<String>, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |dirs: &[&str]| -> Vec<String> {
        let mut texts = Vec::new();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            let mut paths: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            paths.sort();
            texts.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
        }
        texts
    };
    let valid = read(&["fixtures", "../schemas"]);
    let invalid = read(&["fixtures/invalid"]);
    assert!(
        valid.len() >= 4 && invalid.len() >= 10,
        "seed schemas missing"
    );
    (valid, invalid)
}

/// A seed: a valid schema four times in five.
fn pick(seeds: &(Vec<String>, Vec<String>), which: Index, valid: bool) -> &str {
    let list = if valid || seeds.1.is_empty() {
        &seeds.0
    } else {
        &seeds.1
    };
    &list[which.index(list.len())]
}

fn seed_choice() -> impl Strategy<Value = (Index, bool)> {
    (any::<Index>(), proptest::bool::weighted(0.8))
}

/// Text worth splicing into a schema: TOML syntax, schema keys, types, Rust and markdown syntax.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "[",
    "]",
    "{",
    "}",
    "=",
    ",",
    "#",
    "\\",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    ".",
    "<",
    ">",
    "`",
    "```",
    "*/",
    "/*",
    "#![deny(warnings)]",
    "    ",
    "\u{202E}",
    "\u{0}",
    "é",
    "ß",
    "𝔘",
    "日本",
    "u64",
    "i128",
    "String",
    "Bytes",
    "bool",
    "f64",
    "char",
    "Option<",
    "Vec<",
    "[u8; 4]",
    "Strng",
    "unique",
    "true",
    "false",
    "0",
    "-1",
    "99999999999999999999",
    "primary_key",
    "secondary_key",
    "secondary_keys",
    "fields",
    "type",
    "doc",
    "plural",
    "name",
    "version",
    "models",
    "definition",
    "self",
    "Self",
    "crate",
    "super",
    "_",
    "r#type",
    "fn",
    "async",
    "gen",
    "\n[models.X]\nprimary_key = \"id\"\n",
    "\n[models.X.fields]\nid = \"u64\"\n",
    "doc = \"```\\npanic!()\\n```\"",
    "secondary_key = true",
    "secondary_keys = [{ fields = [\"id\"] }]",
    "= { type = \"u64\" }",
];

#[derive(Debug, Clone)]
enum Mutation {
    InsertChar(Index, char),
    InsertToken(Index, &'static str),
    Delete(Index, usize),
    Duplicate(Index, usize, Index),
    SwapLines(Index, Index),
    DuplicateLine(Index),
    DeleteLine(Index),
    /// Replaces the text of one `"..."` string, so the TOML stays valid and validation is reached.
    ReplaceString(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting_char = prop_oneof![
        any::<char>(),
        select(
            &[
                '"', '\'', '[', ']', '{', '}', '=', ',', '#', '\\', '\n', '`', '<', '>', ' ',
            ][..]
        ),
    ];
    prop_oneof![
        3 => (any::<Index>(), interesting_char).prop_map(|(i, c)| Mutation::InsertChar(i, c)),
        3 => (any::<Index>(), select(TOKENS)).prop_map(|(i, t)| Mutation::InsertToken(i, t)),
        3 => (any::<Index>(), 1..12usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), 1..40usize, any::<Index>())
            .prop_map(|(i, n, j)| Mutation::Duplicate(i, n, j)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        12 => (any::<Index>(), prop_oneof![name(), type_text(), doc_text()])
            .prop_map(|(i, s)| Mutation::ReplaceString(i, s)),
    ]
}

fn apply(source: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for m in mutations {
        let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
        match m {
            Mutation::InsertChar(i, c) => {
                let p = at(i, chars.len());
                chars.insert(p, *c);
            }
            Mutation::InsertToken(i, t) => {
                let p = at(i, chars.len());
                chars.splice(p..p, t.chars());
            }
            Mutation::Delete(i, n) => {
                let p = at(i, chars.len());
                let end = (p + n).min(chars.len());
                chars.drain(p..end);
            }
            Mutation::Duplicate(i, n, j) => {
                let p = at(i, chars.len());
                let piece: Vec<char> = chars[p..(p + n).min(chars.len())].to_vec();
                let q = at(j, chars.len());
                chars.splice(q..q, piece);
            }
            Mutation::ReplaceString(i, text) => {
                let mut strings = Vec::new();
                let mut open = None;
                for (p, c) in chars.iter().enumerate() {
                    match (c, open) {
                        ('"', None) => open = Some(p),
                        ('"', Some(start)) => {
                            strings.push(start + 1..p);
                            open = None;
                        }
                        ('\n', _) => open = None,
                        _ => {}
                    }
                }
                if !strings.is_empty() {
                    let range = strings[i.index(strings.len())].clone();
                    let escaped = toml_string(text);
                    chars.splice(range, escaped[1..escaped.len() - 1].chars());
                }
            }
            Mutation::SwapLines(..) | Mutation::DuplicateLine(_) | Mutation::DeleteLine(_) => {
                let text: String = chars.iter().collect();
                let mut lines: Vec<&str> = text.split('\n').collect();
                match m {
                    Mutation::SwapLines(a, b) => {
                        let (x, y) = (a.index(lines.len()), b.index(lines.len()));
                        lines.swap(x, y);
                    }
                    Mutation::DuplicateLine(a) => {
                        let x = a.index(lines.len());
                        lines.insert(x, lines[x]);
                    }
                    Mutation::DeleteLine(a) => {
                        lines.remove(a.index(lines.len()));
                    }
                    _ => unreachable!(),
                }
                chars = lines.join("\n").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

/// Names: valid ones, keywords (raw-able or not), names of generated items and methods,
/// unicode, empty, and random text.
const NAMES: &[&str] = &[
    "id",
    "name",
    "City",
    "city",
    "country_code",
    "countryCode",
    "CountryCode",
    "type",
    "self",
    "Self",
    "crate",
    "super",
    "_",
    "__",
    "fn",
    "r#type",
    "async",
    "gen",
    "try",
    "9lives",
    "Ünïcode",
    "日本",
    "a b",
    "",
    "x-y",
    "Option",
    "String",
    "Vec",
    "Result",
    "Box",
    "Default",
    "Some",
    "None",
    "Ok",
    "netabase",
    "core",
    "std",
    "open_tree",
    "commit",
    "abort",
    "check_links",
    "inner",
    // Names generated code uses for its own locals, parameters and fields.
    "value",
    "page",
    "out",
    "w",
    "r",
    "txn",
    "tree",
    "index",
    "keys",
    "record",
    "view",
    "input",
    "bytes",
    "tag",
    "other",
    "visitor",
    "T",
    "M",
    "V",
    "key",
    "many",
    "after",
    "prefix",
    "by",
    "count",
    "len",
    "iter",
    "get",
    "first",
    "last",
    "range",
    "put",
    "insert",
    "remove",
    "clear",
    "retain",
    "x",
    "x_after",
    "by_x",
    "a_b",
    "CityRef",
    "CityTree",
    "CityPrimaryKey",
    "Cities",
    "people",
    "Person",
    "ref",
    "Ref",
    "Tree",
    "PrimaryKey",
];

const TYPES: &[&str] = &[
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "f32",
    "f64",
    "bool",
    "char",
    "String",
    "Bytes",
    "Strng",
    "u46",
    "",
    " ",
    "Option",
    "Vec",
    "Option<",
    "Vec<u8",
    "u64 u32",
    "[u8; 4]",
    "[u8; 0]",
    "[String; 3]",
    "BTreeMap<String, u64>",
    "Map<u8, u8>",
    "City",
    "Self",
    "()",
    "&str",
    "Box<u8>",
    "Option<Option<u8>>",
];

/// Doc text meant to break out: of the string, of the comment, into a doctest, into markup.
const HOSTILE_DOCS: &[&str] = &[
    "```\npanic!(\"a doctest ran\");\n```",
    "```rust\ncompile_error!(\"a doctest compiled\");\n```",
    "~~~\npanic!()\n~~~",
    "Intro.\n\n    panic!(\"an indented doctest ran\");\n",
    "\tpanic!(\"a tab-indented doctest\");",
    "*/ fn injected() {} /*",
    "\" ] fn injected() {} #[doc = \"",
    "#![deny(warnings)]\n#[cfg(any())]",
    "# Heading\n> quote\n- item\n1. item",
    "<script>alert(1)</script> <b>bold</b>",
    "[link](https://example.com) [intra](crate::Store) ![img](x.png) [^note]\n\n[^note]: x",
    "See https://example.com/a_(b), or http://x.y.",
    "back\\slash \\` \\\\ `code` ``double`` ```triple```",
    "line one\rline two\r\nline three\u{202E}reversed\u{2066}",
    "a | b\n--|--\n1 | 2",
    "* * *\n___\n- - -",
    "`unclosed code span\n\n```",
    "````\n```\nnested\n```\n````",
    "Set-ext\n===",
    "term\n: definition",
    "&amp; &#x26; &copy",
    "\u{0}\u{7}\u{1b}[31m red \u{7f}",
];

fn doc_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(HOSTILE_DOCS).prop_map(str::to_owned),
        2 => "[ a-zA-Z0-9`*_#<>\\[\\]|~\\\\\n\t\r!&:/.()=+-]{0,60}",
        1 => "\\PC{0,40}",
        1 => proptest::collection::vec(select(TOKENS), 0..8).prop_map(|t| t.concat()),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z][a-z0-9_]{0,8}",
        3 => "[A-Z][a-zA-Z0-9]{0,8}",
        3 => select(NAMES).prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ]
}

/// Types that can be keys, and the other types that exist.
const KEY_TYPES: &[&str] = &[
    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool", "String",
];
const OTHER_TYPES: &[&str] = &["f32", "f64", "Bytes"];

fn type_text() -> impl Strategy<Value = String> {
    let known = prop_oneof![
        3 => select(KEY_TYPES).prop_map(str::to_owned),
        1 => select(OTHER_TYPES).prop_map(str::to_owned),
    ];
    let any_leaf = prop_oneof![
        6 => known.clone(),
        1 => select(TYPES).prop_map(str::to_owned),
    ];
    let nested = any_leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| format!("Option<{t}>")),
            inner.clone().prop_map(|t| format!("Vec<{t}>")),
            (inner.clone(), 0..5usize).prop_map(|(t, n)| format!("[{t}; {n}]")),
            (inner.clone(), inner).prop_map(|(k, v)| format!("BTreeMap<{k}, {v}>")),
        ]
    });
    prop_oneof![
        10 => known.clone(),
        2 => known.clone().prop_map(|t| format!("Option<{t}>")),
        1 => known.prop_map(|t| format!("Vec<{t}>")),
        2 => nested,
    ]
}

fn is_key_type(ty: &str) -> bool {
    KEY_TYPES.contains(&ty)
}

#[derive(Debug, Clone)]
struct RandomField {
    name: String,
    ty: String,
    doc: Option<String>,
    /// `true`, `false`, `"unique"` or something wrong.
    secondary_key: Option<&'static str>,
    /// Sometimes a link instead of `ty`: to which model, the form (`M`, `Option<M>`,
    /// `Vec<M>`, or nested where links are not allowed), and whether it says `checked = false`.
    link: Option<(Index, u8, bool)>,
}

/// A reference to a field: mostly one that can be a key, sometimes any field, rarely a name.
#[derive(Debug, Clone)]
enum FieldRef {
    Key(Index),
    Any(Index),
    Name(String),
}

#[derive(Debug, Clone)]
struct RandomModel {
    name: String,
    fields: Vec<RandomField>,
    primary_key: Option<Vec<FieldRef>>,
    plural: Option<String>,
    doc: Option<String>,
    secondary_keys: Vec<(Option<String>, Vec<FieldRef>, bool)>,
}

#[derive(Debug, Clone)]
struct RandomSchema {
    name: Option<String>,
    version: Option<i64>,
    doc: Option<String>,
    models: Vec<RandomModel>,
}

fn field_ref() -> impl Strategy<Value = FieldRef> {
    prop_oneof![
        12 => any::<Index>().prop_map(FieldRef::Key),
        2 => any::<Index>().prop_map(FieldRef::Any),
        1 => name().prop_map(FieldRef::Name),
    ]
}

fn random_field() -> impl Strategy<Value = RandomField> {
    (
        name(),
        type_text(),
        proptest::option::weighted(0.3, doc_text()),
        proptest::option::weighted(
            0.3,
            prop_oneof![
                8 => select(&["true", "false", "\"unique\""][..]),
                1 => select(&["\"yes\"", "1", "[]"][..]),
            ],
        ),
        proptest::option::weighted(0.2, (any::<Index>(), 0..4u8, any::<bool>())),
    )
        .prop_map(|(name, ty, doc, secondary_key, link)| RandomField {
            name,
            ty,
            doc,
            secondary_key,
            link,
        })
}

fn random_model() -> impl Strategy<Value = RandomModel> {
    (
        name(),
        proptest::collection::vec(random_field(), 1..6),
        proptest::option::weighted(0.97, proptest::collection::vec(field_ref(), 1..3)),
        proptest::option::weighted(0.1, name()),
        proptest::option::weighted(0.3, doc_text()),
        proptest::collection::vec(
            (
                proptest::option::weighted(0.8, name()),
                proptest::collection::vec(field_ref(), 1..3),
                any::<bool>(),
            ),
            0..2,
        ),
    )
        .prop_map(
            |(name, fields, primary_key, plural, doc, secondary_keys)| RandomModel {
                name,
                fields,
                primary_key,
                plural,
                doc,
                secondary_keys,
            },
        )
}

fn random_schema() -> impl Strategy<Value = RandomSchema> {
    (
        proptest::option::weighted(0.98, name()),
        proptest::option::weighted(0.98, prop_oneof![10 => 1..4i64, 1 => any::<i64>()]),
        proptest::option::weighted(0.3, doc_text()),
        proptest::collection::vec(random_model(), 1..4),
    )
        .prop_map(|(name, version, doc, models)| RandomSchema {
            name,
            version,
            doc,
            models,
        })
}

/// A TOML basic string holding exactly `text`.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn render(schema: &RandomSchema) -> String {
    let mut out = String::from("[definition]\n");
    if let Some(name) = &schema.name {
        out += &format!("name = {}\n", toml_string(name));
    }
    if let Some(version) = schema.version {
        out += &format!("version = {version}\n");
    }
    if let Some(doc) = &schema.doc {
        out += &format!("doc = {}\n", toml_string(doc));
    }
    let mut model_names = std::collections::HashSet::new();
    let all_models: Vec<&String> = schema.models.iter().map(|m| &m.name).collect();
    for model in &schema.models {
        // Two tables of one name are a TOML error: keep the schemas interesting instead.
        if !model_names.insert(model.name.clone()) {
            continue;
        }
        let mut field_names = std::collections::HashSet::new();
        let fields: Vec<&RandomField> = model
            .fields
            .iter()
            .filter(|f| field_names.insert(f.name.clone()))
            .collect();
        // A link field is rendered as the linked model's name, never a key type of its own.
        let keys: Vec<&&RandomField> = fields
            .iter()
            .filter(|f| f.link.is_none() && is_key_type(&f.ty))
            .collect();
        let resolve = |r: &FieldRef| -> String {
            let name = match r {
                FieldRef::Key(i) if !keys.is_empty() => keys[i.index(keys.len())].name.clone(),
                FieldRef::Key(i) | FieldRef::Any(i) => fields[i.index(fields.len())].name.clone(),
                FieldRef::Name(name) => name.clone(),
            };
            toml_string(&name)
        };
        let key = toml_string(&model.name);
        out += &format!("\n[models.{key}]\n");
        if let Some(parts) = &model.primary_key {
            let mut names: Vec<String> = parts.iter().map(resolve).collect();
            names.dedup();
            match names.as_slice() {
                [one] => out += &format!("primary_key = {one}\n"),
                many => out += &format!("primary_key = [{}]\n", many.join(", ")),
            }
        }
        if let Some(plural) = &model.plural {
            out += &format!("plural = {}\n", toml_string(plural));
        }
        if let Some(doc) = &model.doc {
            out += &format!("doc = {}\n", toml_string(doc));
        }
        if !model.secondary_keys.is_empty() {
            let keys: Vec<String> = model
                .secondary_keys
                .iter()
                .map(|(name, parts, unique)| {
                    let mut parts: Vec<String> = parts.iter().map(resolve).collect();
                    parts.dedup();
                    let name = name
                        .as_ref()
                        .map(|n| format!("name = {}, ", toml_string(n)))
                        .unwrap_or_default();
                    format!(
                        "{{ {name}fields = [{}], unique = {unique} }}",
                        parts.join(", ")
                    )
                })
                .collect();
            out += &format!("secondary_keys = [{}]\n", keys.join(", "));
        }
        out += &format!("\n[models.{key}.fields]\n");
        for field in fields {
            let ty = match field.link {
                Some((target, form, _)) => {
                    let target = all_models[target.index(all_models.len())];
                    match form {
                        0 => target.clone(),
                        1 => format!("Option<{target}>"),
                        2 => format!("Vec<{target}>"),
                        _ => format!("Option<Vec<{target}>>"),
                    }
                }
                None => field.ty.clone(),
            };
            let mut parts = vec![format!("type = {}", toml_string(&ty))];
            if let Some((_, _, false)) = field.link {
                parts.push("checked = false".to_owned());
            }
            if let Some(doc) = &field.doc {
                parts.push(format!("doc = {}", toml_string(doc)));
            }
            // Only a key type can be a secondary key; sometimes ask for one on another type.
            if let Some(key) = field
                .secondary_key
                .filter(|_| is_key_type(&field.ty) || field.doc.is_some())
            {
                parts.push(format!("secondary_key = {key}"));
            }
            out += &format!(
                "{} = {{ {} }}\n",
                toml_string(&field.name),
                parts.join(", ")
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

/// The seed of every run: fixed, so CI is reproducible; `NETABASE_FUZZ_SEED=<u64>` explores
/// other inputs, and `NETABASE_FUZZ_CASES=<n>` runs `n` inputs per test instead.
fn seed_and_cases(cases: u32) -> (RngSeed, u32) {
    let seed = std::env::var("NETABASE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6e65_7461_6261_7365); // "netabase"
    let cases = std::env::var("NETABASE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    (RngSeed::Fixed(seed), cases)
}

/// Runs `cases` inputs from `strategy` through `check`, and prints the counts.
fn run<S: Strategy>(
    label: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<Outcome, String>,
) -> (usize, usize) {
    let start = Instant::now();
    let accepted = std::cell::Cell::new(0usize);
    let ran = std::cell::Cell::new(0usize);
    let (rng_seed, cases) = seed_and_cases(cases);
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |value| {
        ran.set(ran.get() + 1);
        match check(value) {
            Ok(Outcome::Accepted) => accepted.set(accepted.get() + 1),
            Ok(Outcome::Rejected) => {}
            Err(e) => return Err(TestCaseError::fail(e)),
        }
        Ok(())
    });
    println!(
        "{label}: {} inputs ({} accepted, {} rejected) in {:.1?}",
        ran.get(),
        accepted.get(),
        ran.get() - accepted.get(),
        start.elapsed()
    );
    if let Err(e) = result {
        panic!("{label}: {e}");
    }
    (ran.get(), accepted.get())
}

#[test]
fn mutated_schemas_never_panic_and_accepted_ones_parse() {
    let seeds = seeds();
    let strategy = (seed_choice(), proptest::collection::vec(mutation(), 1..4));
    let (ran, accepted) = run(
        "mutated schemas",
        2000,
        strategy,
        |((which, valid), mutations)| {
            let source = apply(pick(&seeds, which, valid), &mutations);
            check_generate(&source).map(|(outcome, _)| outcome)
        },
    );
    assert!(
        accepted * 10 > ran,
        "too few of {ran} inputs reached code generation: {accepted}"
    );
}

#[test]
fn arbitrary_text_never_panics() {
    let strategy = prop_oneof![
        "\\PC{0,200}",
        proptest::collection::vec(select(TOKENS), 0..40).prop_map(|t| t.concat()),
    ];
    run("arbitrary text", 1500, strategy, |source| {
        check_generate(&source).map(|(outcome, _)| outcome)
    });
}

#[test]
fn random_schemas_never_panic_and_accepted_ones_compile() {
    let linked = std::cell::Cell::new(0);
    let generated = std::cell::RefCell::new(Vec::new());
    let (ran, accepted) = run("random schemas", 1500, random_schema(), |schema| {
        let source = render(&schema);
        let result = check_generate(&source);
        // Links generate methods on both models: count the valid schemas that have one.
        if let Ok((_, Some(code))) = &result {
            if code.contains("::netabase_runtime::__codegen::LinkDef {") {
                linked.set(linked.get() + 1);
            }
            generated.borrow_mut().push((source, code.clone()));
        }
        result.map(|(outcome, _)| outcome)
    });
    println!("random schemas: {} accepted with links", linked.get());
    // Most random schemas have a mistake somewhere (names from `NAMES` are often invalid); one in
    // twelve valid is enough to reach every emitter.
    assert!(
        accepted * 12 > ran,
        "too few of {ran} random schemas were valid: {accepted}"
    );
    assert!(
        linked.get() * 20 > accepted,
        "too few valid random schemas had links: {} of {accepted}",
        linked.get()
    );
    let generated = generated.into_inner();
    let sample = compiled_sample(&generated);
    let start = Instant::now();
    cargo_check(&sample).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "random schemas: {} of {} accepted compiled by cargo check in {:.1?}",
        sample.len(),
        generated.len(),
        start.elapsed()
    );
}

/// How many accepted random schemas `cargo check` compiles per run;
/// `NETABASE_FUZZ_COMPILE=<n>` compiles `n` instead (0: none).
const COMPILED_SAMPLE: usize = 30;

/// An even spread of [`COMPILED_SAMPLE`] of the accepted schemas: same seed, same sample.
fn compiled_sample(accepted: &[(String, String)]) -> Vec<&(String, String)> {
    let wanted = std::env::var("NETABASE_FUZZ_COMPILE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(COMPILED_SAMPLE)
        .min(accepted.len());
    (0..wanted)
        .map(|i| &accepted[i * accepted.len() / wanted])
        .collect()
}

/// Compiles each generated file as a module of one crate with `cargo check` (see
/// [`crate::scratch_crate`]).
fn cargo_check(sample: &[&(String, String)]) -> Result<(), String> {
    let files: Vec<(String, String)> = sample
        .iter()
        .enumerate()
        .map(|(i, (_, code))| (format!("schema_{i}"), code.clone()))
        .collect();
    let Err(errors) = crate::scratch_crate::cargo("fuzz-compile", &files, &["check"]) else {
        return Ok(());
    };
    // Name the schemas whose code failed, so the failure can be reproduced from the message.
    let failed: Vec<String> = (0..sample.len())
        .filter(|i| errors.contains(&format!("schema_{i}.rs")))
        .map(|i| format!("--- schema_{i}.rs from\n{}", sample[i].0))
        .collect();
    Err(format!(
        "generated code of accepted schemas does not compile:\n{errors}\n{}",
        failed.join("\n")
    ))
}

/// Every diagnostic points into the schema text, on character boundaries, so it renders with its
/// `file:line:col`, the line and a caret.
/// (A type string with escapes is reported on the whole string: offsets in its unescaped value
/// do not map to the source.)
#[test]
fn diagnostic_spans_point_into_the_schema() {
    let seeds = seeds();
    let strategy = (seed_choice(), proptest::collection::vec(mutation(), 1..4));
    run(
        "diagnostic spans",
        1000,
        strategy,
        |((which, valid), mutations)| {
            let source = apply(pick(&seeds, which, valid), &mutations);
            check_generate_with(&source, true).map(|(outcome, _)| outcome)
        },
    );
}

/// A schema whose every doc tries to break out.
fn hostile_schema(doc: &str) -> String {
    let doc = toml_string(doc);
    format!(
        "[definition]\nname = \"Hostile\"\nversion = 1\ndoc = {doc}\n\n\
         [models.Thing]\nprimary_key = \"id\"\ndoc = {doc}\n\n\
         [models.Thing.fields]\nid = {{ type = \"u64\", doc = {doc} }}\n\
         label = {{ type = \"String\", secondary_key = true, doc = {doc} }}\n"
    )
}

#[test]
fn hostile_docs_stay_text() {
    for doc in HOSTILE_DOCS
        .iter()
        .copied()
        .chain([HOSTILE_DOCS.join("\n\n").as_str()])
    {
        let source = hostile_schema(doc);
        let (outcome, code) = check_generate(&source).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome, Outcome::Accepted, "{source}");
        let code = code.expect("accepted");
        check_docs_are_inert(&code).unwrap_or_else(|e| panic!("doc {doc:?}: {e}"));
        // The schema-provided doc is really there: no item lost its documentation.
        let first_word = doc
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| w.len() > 3)
            .unwrap_or("");
        assert!(
            code.contains(first_word),
            "doc {doc:?} is missing from\n{code}"
        );
    }
}

#[test]
fn random_docs_stay_text() {
    let strategy = (doc_text(), doc_text());
    run("random docs", 400, strategy, |(model_doc, field_doc)| {
        let source = format!(
            "[definition]\nname = \"D\"\nversion = 1\ndoc = {}\n[models.M]\nprimary_key = \"id\"\n\
             doc = {}\n[models.M.fields]\nid = {{ type = \"u64\", doc = {} }}\n",
            toml_string(&format!("{model_doc}\n{field_doc}")),
            toml_string(&model_doc),
            toml_string(&field_doc),
        );
        let (outcome, code) = check_generate(&source)?;
        let code = code.ok_or_else(|| format!("rejected:\n{source}"))?;
        check_docs_are_inert(&code).map_err(|e| format!("{e}\n--- schema\n{source}"))?;
        Ok(outcome)
    });
}

/// `inert_doc` directly: its markdown renders exactly the text it was given (as a paragraph of
/// text, code spans and autolinks, or as one ```` ```text ```` block), whatever the text.
#[test]
fn inert_doc_renders_the_text_as_written() {
    run("inert_doc", 3000, doc_text(), |text| {
        let Some(markdown) = netabase_build::emit::inert_doc(&text) else {
            return if text.trim().is_empty() {
                Ok(Outcome::Rejected)
            } else {
                Err(format!("{text:?} gave no doc"))
            };
        };
        let expected: Vec<String> = text
            .split('\n')
            .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
            .map(|l| expand_tabs(l).trim_end().to_owned())
            .collect();
        let first = expected.iter().position(|l| !l.is_empty()).unwrap_or(0);
        let last = expected.iter().rposition(|l| !l.is_empty()).unwrap_or(0);
        let expected = &expected[first..=last];
        // Without smart punctuation, so the text comes back byte for byte.
        let options = rustdoc_options() - pulldown_cmark::Options::ENABLE_SMART_PUNCTUATION;
        let events: Vec<Event> = Parser::new_ext(&markdown, options).collect();
        let fail = |why: &str| Err(format!("{why}: {text:?} became\n{markdown}\n{events:?}"));
        if let Some(Event::Start(Tag::CodeBlock(kind))) = events.first() {
            if !matches!(kind, CodeBlockKind::Fenced(info) if &**info == "text") {
                return fail("a code block that is not ```text");
            }
            let mut content = String::new();
            for event in &events[1..events.len() - 1] {
                match event {
                    Event::Text(t) => content.push_str(t),
                    _ => return fail("markup inside the code block"),
                }
            }
            let nul = |s: String| s.replace('\0', "\u{FFFD}");
            if nul(content) != nul(expected.join("\n") + "\n") {
                return fail("the code block does not hold the text");
            }
            return Ok(Outcome::Accepted);
        }
        // Prose: paragraphs of text, code spans, soft breaks and autolinks, nothing else; the
        // same characters as the text (spaces aside: code spans and line ends trim them).
        let mut rendered = String::new();
        let mut in_link = false;
        for event in &events {
            match event {
                Event::Start(Tag::Paragraph) | Event::End(pulldown_cmark::TagEnd::Paragraph) => {}
                Event::Text(t) if !in_link => rendered.push_str(t),
                Event::Text(_) => {}
                Event::Code(c) => rendered.push_str(&format!("`{c}`")),
                Event::SoftBreak => rendered.push('\n'),
                Event::Start(Tag::Link {
                    link_type: LinkType::Autolink,
                    dest_url,
                    ..
                }) => {
                    rendered.push_str(dest_url);
                    in_link = true;
                }
                Event::End(pulldown_cmark::TagEnd::Link) => in_link = false,
                _ => return fail("markup in prose"),
            }
        }
        let squeeze = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| if c == '\0' { '\u{FFFD}' } else { c })
                .collect()
        };
        if squeeze(&rendered) != squeeze(&expected.join("\n")) {
            return fail("the prose does not render as the text");
        }
        Ok(Outcome::Accepted)
    });
}

fn expand_tabs(line: &str) -> String {
    let mut out = String::new();
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

/// The docs of the project's own schemas read as plain prose: the common case is not fenced.
#[test]
fn ordinary_docs_stay_prose() {
    for doc in [
        "Books and authors of a lending library.",
        "ISO 3166-1 alpha-2 code, such as `JP`.",
        "The capital; `None` where GeoNames lists none.",
        "Countries and cities of the world, from the GeoNames gazetteer (https://www.geonames.org, CC BY 4.0).",
        "A field named with a Rust keyword.",
        "The author's id.\nSecond line of the same paragraph.\n\nA second paragraph about country_code.",
    ] {
        let markdown = netabase_build::emit::inert_doc(doc).expect("a doc");
        assert!(!markdown.contains("```"), "{doc:?} was fenced:\n{markdown}");
    }
    assert_eq!(
        netabase_build::emit::inert_doc("See https://www.geonames.org, CC BY 4.0.").as_deref(),
        Some("See <https://www.geonames.org>, CC BY 4.0.")
    );
    assert_eq!(netabase_build::emit::inert_doc("  \n\t\n"), None);
    assert_eq!(
        netabase_build::emit::inert_doc("a ```` b\n    code").as_deref(),
        Some("`````text\na ```` b\n    code\n`````")
    );
}
