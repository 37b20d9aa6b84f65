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

/// The span of the `version` value of a parsed schema (where version errors point).
pub(crate) fn version_span(raw: Option<&crate::parse::RawSchema>) -> Range<usize> {
    raw.and_then(|r| r.definition.as_ref())
        .and_then(|d| d.version.as_ref())
        .map(|v| v.span.clone())
        .unwrap_or(0..0)
}

/// A schema, parsed and validated, with the span of its `version` value.
fn validate(source: &HistorySource) -> Result<(Schema, Range<usize>), Diagnostics> {
    let mut errors = Vec::new();
    let raw = crate::parse::parse(&source.source, &mut errors);
    let span = version_span(raw.as_ref());
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
        let changed = crate::fingerprint::layout(&old.schema) != crate::fingerprint::layout(new);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Options, generate};

    const V1: &str = "[definition]\nname = \"Shop\"\nversion = 1\n\n[models.User]\nprimary_key = \"id\"\n\n[models.User.fields]\nid = \"u64\"\nage = \"u64\"\nname = \"String\"\n";

    fn source(name: &str, text: &str) -> HistorySource {
        HistorySource {
            source_name: name.to_owned(),
            source: text.to_owned(),
        }
    }

    /// The errors of generating `current` (named `shop.toml`) with `history`, one line each.
    fn errors(current: &str, history: &[(&str, &str)]) -> Vec<String> {
        let options = Options {
            source_name: "shop.toml".to_owned(),
            history: history.iter().map(|(n, t)| source(n, t)).collect(),
            ..Options::default()
        };
        match generate(current, &options) {
            Ok(_) => Vec::new(),
            Err(d) => d.one_line_summaries(),
        }
    }

    fn schema(text: &str) -> Schema {
        validate(&source("s.toml", text)).expect("valid").0
    }

    #[test]
    fn a_changed_layout_without_a_new_version_is_a_build_error_at_version() {
        let same_version = V1.replace("age = \"u64\"", "age = \"u64\"\nemail = \"Option<String>\"");
        assert_eq!(
            errors(&same_version, &[("shop.v1.toml", V1)]),
            [
                "shop.toml:3:11: the layout changed since `shop.v1.toml` but `version` is still 1 (help: raise `version` to 2: a database of version 1 could not be told apart from this one)"
            ]
        );
    }

    #[test]
    fn versions_of_the_history_must_increase() {
        let v2 = V1.replace("version = 1", "version = 2");
        let v3 = v2.replace("version = 2", "version = 3");
        // v2 listed before v1.
        assert_eq!(
            errors(&v3, &[("shop.v2.toml", &v2), ("shop.v1.toml", V1)]),
            [
                "shop.v1.toml:3:11: version 1 comes after version 2 (`shop.v2.toml`) in the history: versions must increase (help: list the history oldest first, each file with a higher `version` than the one before, and the schema last)"
            ]
        );
        // The schema itself older than its history.
        assert_eq!(
            errors(V1, &[("shop.v2.toml", &v2)]),
            [
                "shop.toml:3:11: version 1 comes after version 2 (`shop.v2.toml`) in the history: versions must increase (help: list the history oldest first, each file with a higher `version` than the one before, and the schema last)"
            ]
        );
        // Another definition.
        let other = V1
            .replace("\"Shop\"", "\"Other\"")
            .replace("version = 1", "version = 2");
        assert!(
            errors(&other, &[("shop.v1.toml", V1)])[0]
                .contains("defines `Other`, but the version before it")
        );
        // An error in a history file is reported in that file.
        let broken = V1.replace("u64", "u65");
        assert!(errors(&v2, &[("shop.v1.toml", &broken)])[0].starts_with("shop.v1.toml:"));
        // A well-formed history compiles.
        assert_eq!(
            errors(&v3, &[("shop.v1.toml", V1), ("shop.v2.toml", &v2)]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn only_changes_that_are_not_automatic_need_a_step() {
        let old = schema(V1);
        let stepped = |new: &str| -> Vec<String> {
            stepped(&old, &schema(&new.replace("version = 1", "version = 2")))
                .into_iter()
                .map(|s| format!("{}: {}", s.schema, s.reason))
                .collect()
        };
        let none: Vec<String> = Vec::new();
        // Automatic: widening, a new Option, a new field with a default, a rename, a new index.
        assert_eq!(
            stepped(&V1.replace("age = \"u64\"", "age = \"u128\"")),
            none
        );
        assert_eq!(
            stepped(&V1.replace("name = \"String\"", "name = \"Option<String>\"")),
            none
        );
        assert_eq!(stepped(&format!("{V1}email = \"Option<String>\"\n")), none);
        assert_eq!(
            stepped(&format!("{V1}n = {{ type = \"u8\", default = 3 }}\n")),
            none
        );
        assert_eq!(
            stepped(&V1.replace(
                "name = \"String\"",
                "title = { type = \"String\", renamed_from = \"name\", secondary_key = true }"
            )),
            none
        );
        // Not automatic.
        assert_eq!(
            stepped(&V1.replace("age = \"u64\"", "age = \"u32\"")),
            ["User: field `age` changed from `u64` to `u32`"]
        );
        assert_eq!(
            stepped(&V1.replace("name = \"String\"", "name = \"u64\"")),
            ["User: field `name` changed from `String` to `u64`"]
        );
        assert_eq!(
            stepped(&format!("{V1}count = \"u8\"\n")),
            [
                "User: new field `count` has no value for old records (not an `Option`, no `default`)"
            ]
        );
        assert_eq!(
            stepped(&V1.replace("primary_key = \"id\"", "primary_key = \"name\"")),
            ["User: a new primary key"]
        );
    }

    #[test]
    fn a_changed_struct_or_enum_needs_a_step_but_new_variants_at_the_end_do_not() {
        let with = |ty: &str| format!("{V1}kind = \"Kind\"\n\n{ty}");
        let old = schema(&with("[enums.Kind]\nvariants = [\"A\", \"B\"]\n"));
        let stepped = |ty: &str| {
            stepped(
                &old,
                &schema(&with(ty).replace("version = 1", "version = 2")),
            )
            .len()
        };
        assert_eq!(
            stepped("[enums.Kind]\nvariants = [\"A\", \"B\", \"C\"]\n"),
            0
        );
        assert_eq!(stepped("[enums.Kind]\nvariants = [\"B\", \"A\"]\n"), 1);
    }
}
