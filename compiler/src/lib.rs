//! # netabase-build
//!
//! Compiles a netabase TOML schema into typed Rust store code, from `build.rs`:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), netabase_build::Error> {
//!     netabase_build::compile("schemas/atlas.toml")
//! }
//! ```
//!
//! and in the crate, `netabase_runtime::include_schema!("atlas");`.
//!
//! The compiler runs in stages, one module each: [`parse`] (TOML -> a spanned raw tree),
//! [`validate`] (raw tree -> [`ir`], every error collected, including names that would collide
//! once generated: item names and the query methods of the naming pass, checked by
//! `collisions.rs`), [`naming`] (every name the generated code defines, derived once from the
//! IR), [`emit`] (IR + names -> the `quote!` tokens of the whole file, a module per generated
//! artifact), [`format`](mod@format) (`syn` parses the file once, `prettyplease` lays it out, under
//! the `@generated` header) and [`write`](mod@write) (only when the content changed).
//! [`generate`] runs parse -> validate -> naming -> emit -> format and touches no file.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod builder;
mod collisions;
pub mod diagnostics;
pub mod emit;
pub mod fingerprint;
pub mod format;
pub mod history;
pub mod ir;
pub mod names;
pub mod naming;
#[allow(missing_docs)] // the raw tree mirrors the schema keys one to one
pub mod parse;
pub mod validate;
pub mod write;

pub use builder::{Builder, Error, compile, generate_file};
pub use diagnostics::{Diagnostic, Diagnostics};
pub use history::HistorySource;

/// The runtime contract the generated code is written for; it must equal
/// `netabase_runtime::CODEGEN_VERSION`, which the generated code checks at compile time.
pub const CODEGEN_VERSION: u32 = 7;

/// Options of [`generate`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The schema's file name, shown in diagnostics, the header and docs (`schemas/atlas.toml`).
    pub source_name: String,
    /// Derive `serde::Serialize` and `serde::Deserialize` on models (the including crate must
    /// depend on `serde` with its `derive` feature).
    pub serde: bool,
    /// Extra derives for models, as paths (`"Hash"`, `"::serde::Serialize"`).
    pub extra_derives: Vec<String>,
    /// The schema's earlier versions, oldest first: each is generated as a module of the output
    /// (`v1`), and the models whose change is not automatic need a typed step (see
    /// [`history`](mod@history) and docs/MIGRATIONS.md).
    pub history: Vec<HistorySource>,
}

/// Compiles schema text into formatted Rust source. Pure: it reads and writes no file.
pub fn generate(source: &str, options: &Options) -> Result<String, Diagnostics> {
    let tokens = emit_file(source, options)?;
    let name = source_name(options);
    // Parsing what emit produced can only fail through a bug in emit: reported, never a panic.
    format::format(tokens, name).map_err(|e| {
        Diagnostics::new(
            name,
            source,
            vec![
                Diagnostic::new(
                    0..0,
                    format!("internal error: generated code does not parse: {e}"),
                    "netabase-build bug",
                )
                .help("please report this with the schema"),
            ],
        )
    })
}

/// The name diagnostics and the generated header give the schema.
fn source_name(options: &Options) -> &str {
    if options.source_name.is_empty() {
        "schema.toml"
    } else {
        options.source_name.as_str()
    }
}

/// Parses, validates and emits a schema (and its history): the tokens of the whole generated
/// file, before formatting.
fn emit_file(source: &str, options: &Options) -> Result<proc_macro2::TokenStream, Diagnostics> {
    let name = source_name(options);
    let fail = |errors: Vec<Diagnostic>| Diagnostics::new(name, source, errors);
    let mut errors = Vec::new();
    let mut derives = Vec::new();
    for derive in &options.extra_derives {
        match syn::parse_str::<syn::Path>(derive) {
            Ok(path) => derives.push(path),
            Err(_) => errors.push(
                Diagnostic::new(
                    0..0,
                    format!("invalid extra derive `{derive}` in the build options"),
                    "set in build.rs, not in the schema",
                )
                .help("give a path such as `Hash` or `::serde::Serialize`"),
            ),
        }
    }
    let raw = parse::parse(source, &mut errors);
    let version_span = history::version_span(raw.as_ref());
    let schema = raw.and_then(|raw| validate::validate(raw, source, name, &mut errors));
    let schema = match schema {
        Some(schema) if errors.is_empty() => schema,
        _ => return Err(fail(errors)),
    };
    let mut tokens = emit::emit(
        &schema,
        &emit::EmitOptions {
            serde: options.serde,
            extra_derives: &derives,
            history: !options.history.is_empty(),
        },
    );
    if !options.history.is_empty() {
        let current = HistorySource {
            source_name: name.to_owned(),
            source: source.to_owned(),
        };
        tokens.extend(history_items(&schema, &current, version_span, options)?);
    }
    Ok(tokens)
}

/// The history of the schema (`options.history`), checked, as items of the file: every earlier
/// version's module and the `HISTORY` constant.
fn history_items(
    schema: &ir::Schema,
    current: &HistorySource,
    version_span: std::ops::Range<usize>,
    options: &Options,
) -> Result<proc_macro2::TokenStream, Diagnostics> {
    let versions = history::check(schema, current, version_span, &options.history)?;
    let mut old = Vec::with_capacity(versions.len());
    for (i, version) in versions.iter().enumerate() {
        // Emitted as tokens and formatted with the file that holds it: one parse, one layout.
        let code = emit_file(
            &version.source.source,
            &Options {
                source_name: version.source.source_name.clone(),
                history: Vec::new(),
                ..options.clone()
            },
        )?;
        let next = versions.get(i + 1).map_or(schema, |n| &n.schema);
        old.push(emit::history::OldVersion {
            version: version.schema.definition.version,
            source_name: &version.source.source_name,
            definition: &version.schema.definition.name.rust,
            code,
            steps: history::stepped(&version.schema, next),
        });
    }
    Ok(emit::history::emit(&old, &schema.definition.name.rust))
}

/// The stored layout of a schema: the text the generated code stores in every database it
/// writes (`Definition::LAYOUT`), with the schema's migration hints. Parse it with
/// `netabase_runtime::Layout::parse`; `netabase_runtime::migrate::diff` compares two of them
/// (what `netabase diff old.toml new.toml` prints). Pure: it reads and writes no file.
pub fn stored_layout(source: &str, source_name: &str) -> Result<String, Diagnostics> {
    let mut errors = Vec::new();
    let schema = parse::parse(source, &mut errors)
        .and_then(|raw| validate::validate(raw, source, source_name, &mut errors));
    match schema {
        Some(schema) if errors.is_empty() => Ok(fingerprint::stored_layout(&schema)),
        _ => Err(Diagnostics::new(source_name, source, errors)),
    }
}
