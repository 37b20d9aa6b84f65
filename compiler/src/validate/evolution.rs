//! The schema's migration attributes: a field's `default` and `renamed_from`, a model's
//! `removed_fields`, the definition's `removed_models`. They change nothing in the generated
//! API; they tell the runtime how to bring a database written by the version before up to this
//! one (see docs/MIGRATIONS.md). Checked here against the rest of the validated schema.

use super::Validator;
use crate::diagnostics::Diagnostic;
use crate::ir::{self, DefaultValue, Scalar, Type};
use crate::parse::{RawDefault, RawField, RawSchema, Spanned};

/// Checks the migration attributes of `raw` and records them in the IR.
pub(super) fn check(
    v: &mut Validator<'_>,
    raw: &RawSchema,
    definition: &mut ir::Definition,
    models: &mut [ir::Model],
    enums: &[ir::Enum],
) {
    // Fields of enums and structs are not migrated one by one: the attributes belong on models.
    let value_fields = raw.structs.iter().flat_map(|s| &s.fields).chain(
        raw.enums
            .iter()
            .flat_map(|e| &e.variants)
            .flat_map(|v| &v.fields),
    );
    for field in value_fields {
        let attribute = field
            .default
            .as_ref()
            .map(|d| ("default", d.span.clone()))
            .or_else(|| {
                field
                    .renamed_from
                    .as_ref()
                    .map(|r| ("renamed_from", r.span.clone()))
            });
        if let Some((name, span)) = attribute {
            v.errors.push(
                Diagnostic::new(span, format!("`{name}` is only allowed on model fields"), "not a model field")
                    .help("a struct's or an enum's layout changes with the models that hold it; give the model field a new type instead"),
            );
        }
    }
    for raw_model in &raw.models {
        let Some(model) = models
            .iter_mut()
            .find(|m| m.name.schema == raw_model.name.value)
        else {
            continue;
        };
        for raw_field in &raw_model.fields {
            let Some(index) = model
                .fields
                .iter()
                .position(|f| f.name.schema == raw_field.name.value)
            else {
                continue;
            };
            field(v, raw_field, model, index, enums);
        }
        for removed in &raw_model.removed_fields {
            if model.fields.iter().any(|f| f.name.schema == removed.value) {
                v.errors.push(
                    Diagnostic::new(
                        removed.span.clone(),
                        format!(
                            "`{}` is in `removed_fields` but model `{}` still has it",
                            removed.value, model.name.schema
                        ),
                        "still a field",
                    )
                    .help(
                        "remove the field from `fields`, or take its name out of `removed_fields`",
                    ),
                );
            } else if !model.removed_fields.contains(&removed.value) {
                model.removed_fields.push(removed.value.clone());
            }
        }
    }
    for removed in &raw
        .definition
        .iter()
        .flat_map(|d| &d.removed_models)
        .collect::<Vec<_>>()
    {
        if models.iter().any(|m| m.name.schema == removed.value) {
            v.errors.push(
                Diagnostic::new(
                    removed.span.clone(),
                    format!(
                        "`{}` is in `removed_models` but the schema still declares it",
                        removed.value
                    ),
                    "still a model",
                )
                .help("delete `[models.X]`, or take its name out of `removed_models`"),
            );
        } else if !definition.removed_models.contains(&removed.value) {
            definition.removed_models.push(removed.value.clone());
        }
    }
}

/// Checks one model field's `default` and `renamed_from`.
fn field(
    v: &mut Validator<'_>,
    raw: &RawField,
    model: &mut ir::Model,
    index: usize,
    enums: &[ir::Enum],
) {
    if let Some(old) = &raw.renamed_from {
        let taken = model.fields.iter().any(|f| f.name.schema == old.value);
        if taken || old.value == raw.name.value {
            v.errors.push(
                Diagnostic::new(old.span.clone(), format!("`renamed_from = \"{}\"` names a field of this version", old.value), "a current field")
                    .help("`renamed_from` gives the name the field had in the version before; it must not be the name of a field now"),
            );
        } else if v.snake_name(old, "renamed field").is_some() {
            model.fields[index].renamed_from = Some(old.value.clone());
        }
    }
    if let Some(default) = &raw.default {
        match default_value(&model.fields[index].ty, &default.value, enums) {
            Ok(value) => model.fields[index].default = Some(value),
            Err(expected) => v
                .errors
                .push(mismatch(default, &model.fields[index], &expected)),
        }
    }
}

fn mismatch(default: &Spanned<RawDefault>, field: &ir::Field, expected: &str) -> Diagnostic {
    Diagnostic::new(
        default.span.clone(),
        format!(
            "invalid `default` for field `{}` of type `{}`",
            field.name.schema,
            field.ty.spelling()
        ),
        "does not fit the field's type",
    )
    .help(expected.to_owned())
}

/// The default as a value of `ty`, or the help line saying what to write instead.
fn default_value(ty: &Type, raw: &RawDefault, enums: &[ir::Enum]) -> Result<DefaultValue, String> {
    match (ty, raw) {
        (Type::Scalar(s), RawDefault::Integer(i)) if integer_range(*s).is_some_and(|r| r.contains(i)) => {
            Ok(DefaultValue::Integer(*i))
        }
        (Type::Scalar(Scalar::F32 | Scalar::F64), RawDefault::Float(f)) => Ok(DefaultValue::Float(*f)),
        (Type::Scalar(Scalar::F32 | Scalar::F64), RawDefault::Integer(i)) => Ok(DefaultValue::Float(*i as f64)),
        (Type::Scalar(Scalar::Bool), RawDefault::Bool(b)) => Ok(DefaultValue::Bool(*b)),
        (Type::Scalar(Scalar::Char), RawDefault::String(s)) if s.chars().count() == 1 => {
            Ok(DefaultValue::String(s.clone()))
        }
        (Type::String, RawDefault::String(s)) => Ok(DefaultValue::String(s.clone())),
        (Type::Enum(e), RawDefault::String(s)) => {
            let variants = &enums[e.index].variants;
            variants
                .iter()
                .position(|v| v.name.schema == *s && v.fields.is_empty())
                .map(|i| DefaultValue::Variant(i, s.clone()))
                .ok_or_else(|| {
                    let units: Vec<&str> = variants
                        .iter()
                        .filter(|v| v.fields.is_empty())
                        .map(|v| v.name.schema.as_str())
                        .collect();
                    format!("write the name of a unit variant of `{}`: {}", e.schema, crate::parse::list(&units))
                })
        }
        (Type::Scalar(s), _) => Err(match s {
            Scalar::Bool => "write `true` or `false`".to_owned(),
            Scalar::Char => "write a string of one character".to_owned(),
            Scalar::F32 | Scalar::F64 => "write a number".to_owned(),
            s => {
                let range = integer_range(*s).unwrap_or(0..=0);
                format!("write an integer from {} to {}", range.start(), range.end())
            }
        }),
        (Type::String, _) => Err("write a string".to_owned()),
        _ => Err("remove `default`: defaults are for integers, floats, `bool`, `char`, `String` and enums with unit variants (an `Option` field needs none: it starts as `None`)".to_owned()),
    }
}

/// The values an integer scalar holds; `None` for the others.
fn integer_range(s: Scalar) -> Option<std::ops::RangeInclusive<i128>> {
    Some(match s {
        Scalar::U8 => 0..=u8::MAX.into(),
        Scalar::U16 => 0..=u16::MAX.into(),
        Scalar::U32 => 0..=u32::MAX.into(),
        Scalar::U64 => 0..=u64::MAX.into(),
        Scalar::U128 => 0..=i128::MAX,
        Scalar::I8 => i8::MIN.into()..=i8::MAX.into(),
        Scalar::I16 => i16::MIN.into()..=i16::MAX.into(),
        Scalar::I32 => i32::MIN.into()..=i32::MAX.into(),
        Scalar::I64 => i64::MIN.into()..=i64::MAX.into(),
        Scalar::I128 => i128::MIN..=i128::MAX,
        _ => return None,
    })
}
