//! A schema's history: its earlier versions, kept as files and named in `build.rs`
//! ([`Builder::history`](crate::Builder::history)). Each is compiled like the schema itself into
//! a module of the output (`v1`, `v2`...: see [`emit::history`](crate::emit::history)); this
//! module checks the version rules over the whole history, and finds, for each version and the
//! next, the models whose change is not automatic: those need a typed step
//! (`netabase_runtime::Migrate`), which the generated code requires at compile time.
//!
//! The classes follow the runtime's (`netabase_runtime::migrate`, docs/MIGRATIONS.md): a new
//! field that is an `Option` or has a `default`, a rename with `renamed_from`, widening, new
//! enum variants at the end and index changes are automatic; a changed or narrowed type, a new
//! field without a value for old records, a new primary key, or a changed struct or enum held by
//! the model need a step.

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::{self, Scalar, Schema, Type};
use std::ops::Range;

/// An earlier version of a schema: its file name (as diagnostics show it) and text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySource {
    /// The file name, as `build.rs` gives it (`schemas/shop.v1.toml`).
    pub source_name: String,
    /// The schema text.
    pub source: String,
}

/// A version of the history, validated.
pub(crate) struct Version {
    /// Its file.
    pub source: HistorySource,
    /// The validated schema.
    pub schema: Schema,
}

/// A model that needs a typed step from one version to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stepped {
    /// The model's schema name.
    pub schema: String,
    /// The model's Rust name in the newer version.
    pub rust: String,
    /// Its Rust name in the older version.
    pub old_rust: String,
    /// Why its change is not automatic.
    pub reason: String,
}

/// A schema, parsed and validated, with the span of its `version` value.
fn validate(source: &HistorySource) -> Result<(Schema, Range<usize>), Diagnostics> {
    let mut errors = Vec::new();
    let raw = crate::parse::parse(&source.source, &mut errors);
    let span = raw
        .as_ref()
        .and_then(|r| r.definition.as_ref())
        .and_then(|d| d.version.as_ref())
        .map(|v| v.span.clone())
        .unwrap_or(0..0);
    let schema = raw.and_then(|raw| {
        crate::validate::validate(raw, &source.source, &source.source_name, &mut errors)
    });
    match schema {
        Some(schema) if errors.is_empty() => Ok((schema, span)),
        _ => Err(Diagnostics::new(
            &source.source_name,
            &source.source,
            errors,
        )),
    }
}

/// Validates every version of `history` (oldest first) and checks the version rules against
/// each other and the schema itself (`current`, whose `version` value is at `current_span` of
/// `current_source`): one definition; versions increasing; a new version whenever the layout
/// changed. An error is reported in the file of the newer version, at its `version`.
pub(crate) fn check(
    current: &Schema,
    current_source: &HistorySource,
    current_span: Range<usize>,
    history: &[HistorySource],
) -> Result<Vec<Version>, Diagnostics> {
    let mut versions: Vec<(Version, Range<usize>)> = Vec::new();
    for source in history {
        let (schema, span) = validate(source)?;
        versions.push((
            Version {
                source: source.clone(),
                schema,
            },
            span,
        ));
    }
    let fail = |source: &HistorySource, error: Diagnostic| {
        Diagnostics::new(&source.source_name, &source.source, vec![error])
    };
    for i in 0..versions.len() {
        let (old, _) = &versions[i];
        let (new, new_source, span) = match versions.get(i + 1) {
            Some((n, span)) => (&n.schema, &n.source, span.clone()),
            None => (current, current_source, current_span.clone()),
        };
        let (old_def, new_def) = (&old.schema.definition, &new.definition);
        if old_def.name.schema != new_def.name.schema {
            return Err(fail(
                new_source,
                Diagnostic::new(
                    span,
                    format!(
                        "`{}` defines `{}`, but the version before it in the history (`{}`) defines `{}`",
                        new_source.source_name,
                        new_def.name.schema,
                        old.source.source_name,
                        old_def.name.schema
                    ),
                    "another definition",
                )
                .help("a history holds earlier versions of this one definition: remove the other file from `history`"),
            ));
        }
        if new_def.version < old_def.version {
            return Err(fail(
                new_source,
                Diagnostic::new(
                    span,
                    format!(
                        "version {} comes after version {} (`{}`) in the history: versions must increase",
                        new_def.version, old_def.version, old.source.source_name
                    ),
                    "lower than the version before",
                )
                .help("list the history oldest first, each file with a higher `version` than the one before, and the schema last"),
            ));
        }
        let changed =
            crate::fingerprint::layout(&old.schema) != crate::fingerprint::layout(new);
        if new_def.version == old_def.version {
            let (message, help) = if changed {
                (
                    format!(
                        "the layout changed since `{}` but `version` is still {}",
                        old.source.source_name, new_def.version
                    ),
                    format!(
                        "raise `version` to {}: a database of version {} could not be told apart from this one",
                        new_def.version + 1,
                        new_def.version
                    ),
                )
            } else {
                (
                    format!(
                        "version {} is already in the history (`{}`)",
                        new_def.version, old.source.source_name
                    ),
                    "keep each version once in the history".to_owned(),
                )
            };
            return Err(fail(
                new_source,
                Diagnostic::new(span, message, "same version as before").help(help),
            ));
        }
    }
    Ok(versions.into_iter().map(|(v, _)| v).collect())
}

/// The models of `new` that need a typed step from `old`, in `new`'s order.
pub fn stepped(old: &Schema, new: &Schema) -> Vec<Stepped> {
    new.models
        .iter()
        .filter_map(|n| {
            let o = old.models.iter().find(|o| o.name.schema == n.name.schema)?;
            let reason = step_reason(old, o, new, n)?;
            Some(Stepped {
                schema: n.name.schema.clone(),
                rust: n.name.rust.clone(),
                old_rust: o.name.rust.clone(),
                reason,
            })
        })
        .collect()
}

/// Why the change of model `o` (of `old`) into `n` (of `new`) is not automatic; `None` when it
/// is.
fn step_reason(old: &Schema, o: &ir::Model, new: &Schema, n: &ir::Model) -> Option<String> {
    let find_old = |f: &ir::Field| {
        f.renamed_from
            .as_ref()
            .and_then(|r| o.fields.iter().find(|of| of.name.schema == *r))
            .or_else(|| o.fields.iter().find(|of| of.name.schema == f.name.schema))
    };
    for f in &n.fields {
        match find_old(f) {
            Some(of) if !widens(&of.ty, &f.ty) => {
                return Some(format!(
                    "field `{}` changed from `{}` to `{}`",
                    f.name.schema,
                    of.ty.spelling(),
                    f.ty.spelling()
                ));
            }
            Some(_) => {}
            None if matches!(f.ty, Type::Option(_)) || f.default.is_some() => {}
            None => {
                return Some(format!(
                    "new field `{}` has no value for old records (not an `Option`, no `default`)",
                    f.name.schema
                ));
            }
        }
    }
    let old_key: Vec<(String, String)> = o
        .primary_key_fields()
        .map(|f| (f.name.schema.clone(), f.ty.spelling()))
        .collect();
    let new_key: Vec<(String, String)> = n
        .primary_key_fields()
        .map(|f| {
            let name = find_old(f).map_or_else(String::new, |of| of.name.schema.clone());
            (name, f.ty.spelling())
        })
        .collect();
    if old_key != new_key {
        return Some("a new primary key".to_owned());
    }
    let mut named = Vec::new();
    for f in &n.fields {
        named_types(new, &f.ty, &mut named);
    }
    named.into_iter().find_map(|name| {
        let (was, is) = (value_type(old, &name)?, value_type(new, &name)?);
        let appended = was.len() <= is.len() && is[..was.len()] == was[..];
        (was != is && !(appended && name.starts_with("enum "))).then(|| format!("{name} changed"))
    })
}

/// Whether a value of type `old` is kept exactly as `new` (the same type, or widened).
fn widens(old: &Type, new: &Type) -> bool {
    if old.spelling() == new.spelling() {
        return true;
    }
    match (old, new) {
        (Type::Scalar(a), Type::Scalar(b)) => match (integer(*a), integer(*b)) {
            (Some((a_signed, a_bits)), Some((b_signed, b_bits))) => {
                b_bits > a_bits && (b_signed || !a_signed)
            }
            _ => *a == Scalar::F32 && *b == Scalar::F64,
        },
        (Type::Option(a), Type::Option(b)) | (Type::Vec(a), Type::Vec(b)) => widens(a, b),
        (a, Type::Option(b)) => widens(a, b),
        _ => false,
    }
}

/// An integer scalar's signedness and width.
fn integer(s: Scalar) -> Option<(bool, u32)> {
    Some(match s {
        Scalar::U8 => (false, 8),
        Scalar::U16 => (false, 16),
        Scalar::U32 => (false, 32),
        Scalar::U64 => (false, 64),
        Scalar::U128 => (false, 128),
        Scalar::I8 => (true, 8),
        Scalar::I16 => (true, 16),
        Scalar::I32 => (true, 32),
        Scalar::I64 => (true, 64),
        Scalar::I128 => (true, 128),
        _ => return None,
    })
}

/// The structs and enums a value of `ty` holds, deeply, as `struct X` / `enum X`.
fn named_types(schema: &Schema, ty: &Type, out: &mut Vec<String>) {
    let fields: Vec<&ir::Field> = match ty {
        Type::Option(t) | Type::Vec(t) | Type::Array(t, _) => return named_types(schema, t, out),
        Type::Map(k, v) => {
            named_types(schema, k, out);
            return named_types(schema, v, out);
        }
        Type::Tuple(ts) => {
            for t in ts {
                named_types(schema, t, out);
            }
            return;
        }
        Type::Struct(r) => {
            let name = format!("struct {}", r.schema);
            if out.contains(&name) {
                return;
            }
            out.push(name);
            schema.structs[r.index].fields.iter().collect()
        }
        Type::Enum(r) => {
            let name = format!("enum {}", r.schema);
            if out.contains(&name) {
                return;
            }
            out.push(name);
            schema.enums[r.index]
                .variants
                .iter()
                .flat_map(|v| &v.fields)
                .collect()
        }
        _ => return,
    };
    for f in fields {
        named_types(schema, &f.ty, out);
    }
}

/// A struct's fields or an enum's variants as layout lines; `None` when `schema` has no such
/// type.
fn value_type(schema: &Schema, name: &str) -> Option<Vec<String>> {
    let line = |f: &ir::Field| format!("{}: {}", f.name.schema, f.ty.spelling());
    if let Some(s) = name.strip_prefix("struct ") {
        let st = schema.structs.iter().find(|x| x.name.schema == s)?;
        return Some(st.fields.iter().map(line).collect());
    }
    let e = name.strip_prefix("enum ")?;
    let en = schema.enums.iter().find(|x| x.name.schema == e)?;
    Some(
        en.variants
            .iter()
            .map(|v| {
                let fields: Vec<String> = v.fields.iter().map(line).collect();
                format!("{} ({})", v.name.schema, fields.join(", "))
            })
            .collect(),
    )
}
