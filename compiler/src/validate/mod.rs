//! Stage 2, validate: [`RawSchema`] -> [`ir::Schema`]. Resolves types, keys and names and
//! collects *every* error, each with a span and a help line, before giving up.

mod evolution;
mod named;
mod types;

use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::ir::{self, Type};
use crate::names::{self, NameError};
use crate::parse::{RawDefinition, RawModel, RawSchema, RawSecondaryKey, Spanned};
use std::collections::BTreeMap;
use std::ops::Range;

/// Validates `raw`. Returns the IR only when no error was found.
pub fn validate(
    raw: RawSchema,
    source: &str,
    source_name: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<ir::Schema> {
    let before = errors.len();
    let mut v = Validator {
        source,
        lines: LineIndex::new(source),
        errors,
    };
    let definition = v.definition(raw.definition.as_ref(), &raw.span);
    if raw.models.is_empty() && !raw.models_malformed {
        v.errors.push(
            Diagnostic::new(raw.definition.as_ref().map_or(0..0, |d| d.span.clone()), "the schema declares no model", "a definition needs at least one model")
                .help("add a model: `[models.City]` with `primary_key = \"id\"` and a `[models.City.fields]` table"),
        );
    }
    let model_names: Vec<String> = raw.models.iter().map(|m| m.name.value.clone()).collect();
    let values = v.named_types(&raw.enums, &raw.structs, &model_names);
    let targets = v.link_targets(&raw.models, &values.named);
    let mut models: Vec<ir::Model> = raw
        .models
        .iter()
        .filter_map(|m| v.model(m, &values.named, &targets))
        .collect();
    let mut definition = definition;
    if let Some(definition) = &mut definition {
        v.generated_names(definition, &raw.models, &models, &values);
        evolution::check(&mut v, &raw, definition, &mut models, &values.enums);
    }
    if v.errors.len() > before {
        return None;
    }
    Some(ir::Schema {
        source_name: source_name.to_owned(),
        definition: definition?,
        models,
        enums: values.enums,
        structs: values.structs,
    })
}

pub(crate) struct Validator<'e> {
    /// The schema text, for mapping offsets inside strings.
    source: &'e str,
    lines: LineIndex,
    errors: &'e mut Vec<Diagnostic>,
}

impl Validator<'_> {
    fn definition(
        &mut self,
        raw: Option<&RawDefinition>,
        document: &Range<usize>,
    ) -> Option<ir::Definition> {
        let Some(raw) = raw else {
            self.errors.push(
                Diagnostic::new(
                    document.start..document.start,
                    "the schema has no `[definition]` table",
                    "expected `[definition]`",
                )
                .help(
                    "start the schema with `[definition]`, `name = \"Library\"` and `version = 1`",
                ),
            );
            return None;
        };
        let name = match &raw.name {
            Some(name) => self.type_name(name, "definition"),
            None if raw.malformed.contains(&"name") => None,
            None => {
                self.errors.push(
                    Diagnostic::new(raw.span.clone(), "`[definition]` has no `name`", "name missing")
                        .help("add `name = \"Library\"`: it names the generated definition type and its tables"),
                );
                None
            }
        };
        let version = match &raw.version {
            Some(v) if v.value >= 1 => Some(v.value as u64),
            Some(v) => {
                self.errors.push(
                    Diagnostic::new(
                        v.span.clone(),
                        format!("invalid version {}", v.value),
                        "must be 1 or more",
                    )
                    .help(
                        "versions start at 1 and grow with each incompatible change of the schema",
                    ),
                );
                None
            }
            None => {
                self.errors.push(
                    Diagnostic::new(
                        raw.span.clone(),
                        "`[definition]` has no `version`",
                        "version missing",
                    )
                    .help("add `version = 1`: it is stored in the database and checked on open"),
                );
                None
            }
        };
        Some(ir::Definition {
            name: name?,
            version: version?,
            doc: raw.doc.as_ref().map(|d| d.value.clone()),
            change_feed: raw.change_feed,
            line: self.lines.line(raw.span.start),
            removed_models: Vec::new(),
        })
    }

    /// What a link to each model stores: its primary key's type (a tuple for a composite key).
    /// Nothing is reported here; a broken primary key is reported with its model.
    ///
    /// A key part may itself link to another model, so the targets are worked out in rounds:
    /// each round resolves the key parts against the targets found so far, until a round finds
    /// no new one. A model whose key links back to itself (directly or through other models'
    /// keys) never gets a target: its key would have no first value.
    fn link_targets(&self, models: &[RawModel], named: &types::Named) -> types::Models {
        let mut targets = types::Models::new();
        loop {
            let next = self.link_targets_round(models, named, &targets);
            let found = |t: &types::Models| {
                t.values()
                    .filter(|t| matches!(t, types::LinkTarget::Key { .. }))
                    .count()
            };
            if found(&next) == found(&targets) {
                return next;
            }
            targets = next;
        }
    }

    /// One round of [`Validator::link_targets`]: each model's key, with its key parts resolved
    /// against `known` (a link part stores its target's key).
    fn link_targets_round(
        &self,
        models: &[RawModel],
        named: &types::Named,
        known: &types::Models,
    ) -> types::Models {
        let mut targets = types::Models::new();
        for (index, model) in models.iter().enumerate() {
            let part = |name: &Spanned<String>| {
                model
                    .fields
                    .iter()
                    .find(|f| f.name.value == name.value)
                    .and_then(|f| f.ty.as_ref())
                    .and_then(|ty| types::parse_type(ty, self.source).ok())
                    .and_then(|expr| types::resolve(&expr, named, known).ok())
                    .filter(Type::is_orderable_key)
                    .map(Type::stored)
            };
            let key = match model.primary_key.as_ref().map(|k| k.value.as_slice()) {
                Some([field]) => part(field),
                // A composite key is stored as a tuple of its fields.
                Some(fields @ [_, _, ..]) => fields
                    .iter()
                    .map(part)
                    .collect::<Option<Vec<Type>>>()
                    .map(Type::Tuple),
                _ => None,
            };
            let target = key.zip(names::type_name(&model.name.value).ok()).map_or(
                types::LinkTarget::Invalid,
                |(key, rust)| types::LinkTarget::Key {
                    rust,
                    model: index,
                    key,
                },
            );
            targets.entry(model.name.value.clone()).or_insert(target);
        }
        targets
    }

    fn model(
        &mut self,
        raw: &RawModel,
        named: &types::Named,
        models: &types::Models,
    ) -> Option<ir::Model> {
        let name = self.type_name(&raw.name, "model");
        if raw.fields.is_empty() && raw.malformed.contains(&"fields") {
            return None; // reported in parse
        }
        if raw.fields.is_empty() {
            let span = raw.fields_span.clone().unwrap_or(raw.name.span.clone());
            self.errors.push(
                Diagnostic::new(
                    span,
                    format!("model `{}` has no fields", raw.name.value),
                    "no fields declared",
                )
                .help(format!(
                    "declare fields in `[models.{}.fields]`, for example `id = \"u64\"`",
                    raw.name.value
                )),
            );
            return None;
        }
        let before = self.errors.len();
        let (fields, ok) = self.fields(&raw.fields, true, |expr| {
            types::resolve(expr, named, models)
        });
        let primary_key = self.primary_key(raw, &fields);
        if primary_key.is_none()
            && self.errors.len() == before
            && self.key_links_a_model(raw, models)
        {
            // The one failure nothing reported yet: the key's field links to a model whose own
            // key is unusable (this model itself, directly or through other models' keys), so
            // both the link and the key were left for the other to report.
            let span = raw
                .primary_key
                .as_ref()
                .map_or(raw.name.span.clone(), |k| k.span.clone());
            self.errors.push(
                Diagnostic::new(
                    span,
                    format!("the primary key of model `{}` links to a model without a usable key", raw.name.value),
                    "a link to a model without a usable key",
                )
                .help(format!("a key part may link to another model with a valid key, but not back to `{}` itself (directly or through other models' keys); give `{}` a key of plain values and keep the link as another field", raw.name.value, raw.name.value)),
            );
        }
        let secondary_keys = self.secondary_keys(raw, &fields);
        let plural = match &raw.plural {
            Some(p) => self.snake_name(p, "plural").map(|n| n.rust),
            None => name
                .as_ref()
                .map(|n| names::raw_if_keyword(names::plural(&n.rust))),
        };
        if !ok {
            return None;
        }
        Some(ir::Model {
            name: name?,
            plural: plural?,
            doc: raw.doc.as_ref().map(|d| d.value.clone()),
            line: self.lines.line(raw.name.span.start),
            span: raw.name.span.clone(),
            fields,
            primary_key: primary_key?,
            secondary_keys: secondary_keys?,
            removed_fields: Vec::new(),
        })
    }

    /// Validates a list of fields (of a model, a struct or an enum variant): names, duplicates
    /// after case conversion, types. Returns the valid fields and whether all were valid.
    pub(crate) fn fields(
        &mut self,
        raw: &[crate::parse::RawField],
        keys_allowed: bool,
        mut resolve: impl FnMut(&types::TypeExpr) -> Result<Type, types::Unresolved>,
    ) -> (Vec<ir::Field>, bool) {
        let mut fields: Vec<ir::Field> = Vec::new();
        let mut rust_names: BTreeMap<String, Range<usize>> = BTreeMap::new();
        let mut ok = true;
        for field in raw {
            let Some(ty_text) = &field.ty else { continue };
            if let (false, Some(key)) = (keys_allowed, &field.secondary_key) {
                self.errors.push(
                    Diagnostic::new(
                        key.span.clone(),
                        "only model fields can be secondary keys",
                        "not a model field",
                    )
                    .help("index the model field that holds this value instead"),
                );
                ok = false;
            }
            let ty = match types::parse_type(ty_text, self.source)
                .map_err(types::Unresolved::Error)
                .and_then(|expr| resolve(&expr))
            {
                Ok(ty) => self.link_options(field, ty_text, ty),
                Err(types::Unresolved::Error(e)) => {
                    self.errors.push(e);
                    None
                }
                Err(types::Unresolved::Reported) => None,
            };
            let field_name = self.snake_name(&field.name, "field");
            if let Some(rust) = &field_name {
                if let Some(first) = rust_names.get(&rust.rust) {
                    self.same_rust_name("field", &field.name, &rust.rust, first);
                    ok = false;
                }
                rust_names.insert(rust.rust.clone(), field.name.span.clone());
            }
            match (field_name, ty) {
                (Some(name), Some(ty)) => fields.push(ir::Field {
                    name,
                    ty,
                    doc: field.doc.as_ref().map(|d| d.value.clone()),
                    line: self.lines.line(field.name.span.start),
                    default: None,
                    renamed_from: None,
                }),
                _ => ok = false,
            }
        }
        (fields, ok)
    }

    /// Checks where a link sits in a field's type (`M`, `Option<M>` or `Vec<M>`) and applies
    /// the field's `checked` option to it.
    fn link_options(
        &mut self,
        field: &crate::parse::RawField,
        ty_text: &Spanned<String>,
        mut ty: Type,
    ) -> Option<Type> {
        if ty.contains_link() && ty.link().is_none() {
            self.errors.push(
                Diagnostic::new(
                    ty_text.span.clone(),
                    format!("a link cannot be inside `{}`", ty.spelling()),
                    "a link nested in another type",
                )
                .help("a link field's type is the model (`Author`), an optional link (`Option<Author>`) or a list of links (`Vec<Author>`)"),
            );
            return None;
        }
        if let Some(checked) = &field.checked {
            match ty.link_mut() {
                Some(link) => link.checked = checked.value,
                None => {
                    self.errors.push(
                        Diagnostic::new(
                            checked.span.clone(),
                            format!("`checked` is an option of links, and `{}` is not a link", field.name.value),
                            "not a link",
                        )
                        .help("remove `checked`, or give the field a model's name as its type to make it a link"),
                    );
                    return None;
                }
            }
        }
        Some(ty)
    }

    /// Whether a field of the primary key has a type that names a model.
    fn key_links_a_model(&self, raw: &RawModel, models: &types::Models) -> bool {
        let Some(key) = &raw.primary_key else {
            return false;
        };
        raw.fields
            .iter()
            .filter(|f| key.value.iter().any(|k| k.value == f.name.value))
            .filter_map(|f| f.ty.as_ref())
            .filter_map(|ty| types::parse_type(ty, self.source).ok())
            .any(|expr| {
                let mut names = Vec::new();
                expr.names(&mut names);
                names.iter().any(|(name, _)| models.contains_key(name))
            })
    }

    fn primary_key(&mut self, raw: &RawModel, fields: &[ir::Field]) -> Option<Vec<usize>> {
        let Some(key) = &raw.primary_key else {
            if raw.malformed.contains(&"primary_key") {
                return None;
            }
            let first = fields
                .first()
                .map_or("id".to_owned(), |f| f.name.schema.clone());
            self.errors.push(
                Diagnostic::new(
                    raw.name.span.clone(),
                    format!("model `{}` has no primary key", raw.name.value),
                    "no `primary_key`",
                )
                .help(format!(
                    "add `primary_key = \"{first}\"` (or a list of fields for a composite key)"
                )),
            );
            return None;
        };
        if key.value.is_empty() {
            self.errors.push(
                Diagnostic::new(
                    key.span.clone(),
                    "the primary key lists no field",
                    "empty list",
                )
                .help("name at least one field"),
            );
            return None;
        }
        let mut positions = Vec::new();
        for part in &key.value {
            let position = self.field_ref(part, raw, fields, "primary key")?;
            if positions.contains(&position) {
                self.errors.push(
                    Diagnostic::new(
                        part.span.clone(),
                        format!("field `{}` appears twice in the primary key", part.value),
                        "repeated",
                    )
                    .help("list each field once"),
                );
                return None;
            }
            let ty = &fields[position].ty;
            if let (false, Some(link)) = (ty.is_orderable_key(), ty.link()) {
                self.errors.push(
                    Diagnostic::new(part.span.clone(), format!("field `{}` of type `{}` cannot be a primary key", part.value, ty.spelling()), "not exactly one link")
                        .help(format!("a key part may be a link (`{}`), but not an optional link or a list of links: every record's key needs exactly one value", link.schema)),
                );
                return None;
            }
            if !ty.is_orderable_key() {
                self.errors.push(
                    Diagnostic::new(part.span.clone(), format!("field `{}` of type `{}` cannot be a primary key", part.value, ty.spelling()), "not a key type")
                        .help("primary keys are integers, floats, `bool`, `char`, `String`, enums whose fields can be keys, or links to a model: their values must have a total order and always be present"),
                );
                return None;
            }
            positions.push(position);
        }
        Some(positions)
    }

    fn secondary_keys(
        &mut self,
        raw: &RawModel,
        fields: &[ir::Field],
    ) -> Option<Vec<ir::SecondaryKey>> {
        let mut keys: Vec<(ir::SecondaryKey, Range<usize>)> = Vec::new();
        let mut ok = true;
        for raw_field in &raw.fields {
            let Some(position) = fields
                .iter()
                .position(|f| f.name.schema == raw_field.name.value)
            else {
                continue; // the field itself was invalid and is reported already
            };
            // A link is always indexed, so that it can be followed backwards and checked when
            // its target is removed.
            let link = fields[position].ty.link();
            let unique = match (raw_field.secondary_key.as_ref().map(|k| &k.value), link) {
                (Some(RawSecondaryKey::None), Some(link)) => {
                    let span = raw_field
                        .secondary_key
                        .as_ref()
                        .map_or(0..0, |k| k.span.clone());
                    self.errors.push(
                        Diagnostic::new(span, format!("link `{}` cannot do without its index", raw_field.name.value), "a link is always indexed")
                            .help(format!("remove `secondary_key = false`: the index finds the records that link to each `{}` (and checks them when one is removed)", link.schema)),
                    );
                    ok = false;
                    continue;
                }
                (None | Some(RawSecondaryKey::None), None) => continue,
                (None, Some(_)) | (Some(RawSecondaryKey::NonUnique), _) => false,
                (Some(RawSecondaryKey::Unique), _) => true,
            };
            let kind_span = raw_field
                .secondary_key
                .as_ref()
                .map_or(raw_field.name.span.clone(), |k| k.span.clone());
            if !self.indexable(&fields[position], kind_span) {
                ok = false;
                continue;
            }
            let name = fields[position].name.clone();
            keys.push((
                ir::SecondaryKey {
                    name,
                    fields: vec![position],
                    unique,
                },
                raw_field.name.span.clone(),
            ));
        }
        for raw_key in &raw.secondary_keys {
            let Some(parts) = &raw_key.fields else {
                self.errors.push(
                    Diagnostic::new(raw_key.span.clone(), "secondary key without `fields`", "no fields listed")
                        .help("list the fields in key order: `{ fields = [\"country_code\", \"population\"] }`"),
                );
                ok = false;
                continue;
            };
            if parts.value.is_empty() {
                self.errors.push(
                    Diagnostic::new(
                        parts.span.clone(),
                        "the secondary key lists no field",
                        "empty list",
                    )
                    .help("name at least one field"),
                );
                ok = false;
                continue;
            }
            let mut positions = Vec::new();
            for part in &parts.value {
                match self.field_ref(part, raw, fields, "secondary key") {
                    Some(p) if positions.contains(&p) => {
                        self.errors.push(
                            Diagnostic::new(
                                part.span.clone(),
                                format!(
                                    "field `{}` appears twice in the secondary key",
                                    part.value
                                ),
                                "repeated",
                            )
                            .help("list each field once"),
                        );
                        ok = false;
                    }
                    Some(p) if self.indexable(&fields[p], part.span.clone()) => positions.push(p),
                    _ => ok = false,
                }
            }
            let name = match &raw_key.name {
                Some(name) => self.snake_name(name, "secondary key"),
                None => {
                    let joined: Vec<&str> = parts.value.iter().map(|p| p.value.as_str()).collect();
                    Some(ir::Name {
                        schema: joined.join("_"),
                        rust: names::raw_if_keyword(
                            joined
                                .iter()
                                .map(|p| {
                                    names::bare(&names::snake_name(p).unwrap_or_default())
                                        .to_owned()
                                })
                                .collect::<Vec<_>>()
                                .join("_"),
                        ),
                    })
                }
            };
            let multi: Vec<_> = parts
                .value
                .iter()
                .filter(|part| {
                    fields
                        .iter()
                        .any(|f| f.name.schema == part.value && matches!(f.ty, Type::Vec(_)))
                })
                .collect();
            if let [first, second, ..] = multi.as_slice() {
                self.errors.push(
                    Diagnostic::new(
                        second.span.clone(),
                        "a secondary key can have only one multi-valued (`Vec`) part",
                        "a second `Vec` field",
                    )
                    .related(first.span.clone(), "the first one")
                    .help("index each `Vec` field in a key of its own; two would index every pair of their elements"),
                );
                ok = false;
                continue;
            }
            if let (Some(name), true) = (name, positions.len() == parts.value.len()) {
                let span = raw_key
                    .name
                    .as_ref()
                    .map_or(raw_key.span.clone(), |n| n.span.clone());
                keys.push((
                    ir::SecondaryKey {
                        name,
                        fields: positions,
                        unique: raw_key.unique,
                    },
                    span,
                ));
            }
        }
        // Key names name index tables and methods: they must differ.
        for (i, (key, span)) in keys.iter().enumerate() {
            if let Some((_, first)) = keys[..i].iter().find(|(k, _)| k.name.rust == key.name.rust) {
                self.errors.push(
                    Diagnostic::new(
                        span.clone(),
                        format!(
                            "two secondary keys of `{}` are named `{}`",
                            raw.name.value, key.name.schema
                        ),
                        "second key with this name",
                    )
                    .related(first.clone(), "the first one")
                    .help("give the composite key another `name`"),
                );
                ok = false;
            }
        }
        ok.then(|| keys.into_iter().map(|(k, _)| k).collect())
    }

    /// Whether `field` can be (part of) a secondary key; reports it at `span` if not.
    fn indexable(&mut self, field: &ir::Field, span: Range<usize>) -> bool {
        let indexable = match &field.ty {
            Type::Option(inner) | Type::Vec(inner) => inner.is_orderable_key(),
            other => other.is_orderable_key(),
        };
        if !indexable {
            self.errors.push(
                Diagnostic::new(span, format!("field `{}` of type `{}` cannot be a secondary key", field.name.schema, field.ty.spelling()), "not an indexable type")
                    .help("secondary keys are integers, floats, `bool`, `char`, `String`, enums whose fields can be keys, an `Option` of one (`None` is not indexed) or a `Vec` of one (each element is indexed)"),
            );
        }
        indexable
    }

    fn field_ref(
        &mut self,
        name: &Spanned<String>,
        model: &RawModel,
        fields: &[ir::Field],
        role: &str,
    ) -> Option<usize> {
        if let Some(position) = fields.iter().position(|f| f.name.schema == name.value) {
            return Some(position);
        }
        if model.fields.iter().any(|f| f.name.value == name.value) {
            return None; // declared but invalid: reported already
        }
        let mut error = Diagnostic::new(
            name.span.clone(),
            format!("the {role} names an unknown field `{}`", name.value),
            format!("model `{}` has no such field", model.name.value),
        );
        error = match did_you_mean(
            &name.value,
            model.fields.iter().map(|f| f.name.value.as_str()),
        ) {
            Some(close) => error.help(format!("did you mean `{close}`?")),
            None => {
                let names: Vec<&str> = model.fields.iter().map(|f| f.name.value.as_str()).collect();
                error.help(format!(
                    "the fields of `{}` are {}",
                    model.name.value,
                    crate::parse::list(&names)
                ))
            }
        };
        self.errors.push(error);
        None
    }

    /// Checks that no two generated items share a Rust name (a model `CityRef` next to the
    /// model `City`, two models differing only in case, two models with one plural).
    fn generated_names(
        &mut self,
        definition: &ir::Definition,
        raw: &[RawModel],
        models: &[ir::Model],
        values: &named::Values,
    ) {
        let mut taken: BTreeMap<String, (String, Range<usize>)> = BTreeMap::new();
        let def = &definition.name.rust;
        let (read, write) = crate::naming::transactions(def);
        for item in [def.clone(), read, write] {
            taken.insert(
                item,
                (format!("the definition `{}`", definition.name.schema), 0..0),
            );
        }
        for (rust, owner, span) in &values.items {
            if let Some((other, first)) = taken.get(rust) {
                let mut error = Diagnostic::new(
                    span.clone(),
                    format!("{owner} would generate `{rust}`, which {other} also generates"),
                    "name collision",
                )
                .help("rename one of them");
                if first.end > 0 {
                    error = error.related(first.clone(), "the other one");
                }
                self.errors.push(error);
            }
            taken.insert(rust.clone(), (owner.clone(), span.clone()));
        }
        let mut plurals: BTreeMap<String, Range<usize>> = BTreeMap::new();
        for name in ["open_tree", "commit", "abort", "check_links"] {
            plurals.insert(name.to_owned(), 0..0);
        }
        let names: Vec<crate::naming::ModelNames> = (0..models.len())
            .map(|position| crate::naming::ModelNames::new(definition, models, position))
            .collect();
        self.errors
            .extend(crate::collisions::methods(models, &names));
        for (model, names) in models.iter().zip(&names) {
            let Some(span) = raw
                .iter()
                .find(|r| r.name.value == model.name.schema)
                .map(|r| r.name.span.clone())
            else {
                continue;
            };
            for item in names.items() {
                if let Some((owner, first)) = taken.get(item) {
                    let mut error = Diagnostic::new(
                        span.clone(),
                        format!(
                            "model `{}` would generate `{item}`, which {owner} also generates",
                            model.name.schema
                        ),
                        "name collision",
                    )
                    .help("rename the model");
                    if first.end > 0 {
                        error = error.related(first.clone(), "the other one");
                    }
                    self.errors.push(error);
                    break;
                }
                taken.insert(
                    item.to_owned(),
                    (format!("model `{}`", model.name.schema), span.clone()),
                );
            }
            if let Some(first) = plurals.get(&model.plural) {
                let mut error = Diagnostic::new(
                    span.clone(),
                    format!(
                        "model `{}` would generate the transaction method `{}()`, which is taken",
                        model.name.schema, model.plural
                    ),
                    "name collision",
                )
                .help(format!(
                    "set another method name with `plural = \"...\"` in `[models.{}]`",
                    model.name.schema
                ));
                if first.end > 0 {
                    error = error.related(first.clone(), "the other one");
                }
                self.errors.push(error);
            }
            plurals.insert(model.plural.clone(), span);
        }
    }

    /// Reports that `name` becomes the same Rust name as an earlier `kind` (at `first`).
    pub(crate) fn same_rust_name(
        &mut self,
        kind: &str,
        name: &Spanned<String>,
        rust: &str,
        first: &Range<usize>,
    ) {
        self.errors.push(
            Diagnostic::new(
                name.span.clone(),
                format!(
                    "{kind} `{}` has the same Rust name as an earlier {kind}",
                    name.value
                ),
                format!("becomes `{rust}`"),
            )
            .related(first.clone(), format!("the earlier {kind}"))
            .help(format!("rename one of the two {kind}s")),
        );
    }

    pub(crate) fn type_name(&mut self, name: &Spanned<String>, what: &str) -> Option<ir::Name> {
        self.name(name, what, names::type_name(&name.value))
    }

    pub(crate) fn snake_name(&mut self, name: &Spanned<String>, what: &str) -> Option<ir::Name> {
        self.name(name, what, names::snake_name(&name.value))
    }

    fn name(
        &mut self,
        name: &Spanned<String>,
        what: &str,
        rust: Result<String, NameError>,
    ) -> Option<ir::Name> {
        match rust {
            Ok(rust) => Some(ir::Name {
                schema: name.value.clone(),
                rust,
            }),
            Err(error) => {
                let (label, help) = match error {
                    NameError::NotAnIdentifier => (
                        "not an identifier",
                        format!(
                            "a {what} name starts with an ASCII letter or `_` and goes on with ASCII letters, digits and `_`"
                        ),
                    ),
                    NameError::Reserved(word) => (
                        "reserved in Rust",
                        format!(
                            "`{word}` cannot be used as a name in Rust, even as a raw identifier; choose another name"
                        ),
                    ),
                    NameError::SchemaType(word) => (
                        "a type of the schema language",
                        format!(
                            "`{word}` already names a built-in type in field types (`{word}<..>`); choose another {what} name, such as `{word}Record`"
                        ),
                    ),
                    NameError::GenericParameter(word) => (
                        "a generic parameter of generated code",
                        format!(
                            "generated code uses `{word}` as a type parameter, which would hide this {what}; choose a longer name"
                        ),
                    ),
                };
                self.errors.push(
                    Diagnostic::new(
                        name.span.clone(),
                        format!("invalid {what} name `{}`", name.value),
                        label,
                    )
                    .help(help),
                );
                None
            }
        }
    }
}

/// Byte offset -> 1-based line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(source: &str) -> Result<ir::Schema, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let raw = crate::parse::parse(source, &mut errors);
        let schema = raw.and_then(|raw| validate(raw, source, "s.toml", &mut errors));
        schema.filter(|_| errors.is_empty()).ok_or(errors)
    }

    /// Key parts that link through a chain of models, declared before their targets: each link
    /// stores its target's key, with the links inside that key replaced by their own keys.
    #[test]
    fn key_parts_link_through_a_chain_of_models() {
        let schema = schema(
            r#"
            [definition]
            name = "Chain"
            version = 1
            [models.Note]
            primary_key = "page"
            [models.Note.fields]
            page = "Page"
            [models.Page]
            primary_key = ["book", "n"]
            [models.Page.fields]
            book = "Book"
            n = "u16"
            [models.Book]
            primary_key = "id"
            [models.Book.fields]
            id = "u64"
            "#,
        )
        .expect("a valid schema");
        let key = |model: &str| {
            let m = schema.models.iter().find(|m| m.name.rust == model).unwrap();
            let part = m.primary_key[0];
            match &m.fields[part].ty {
                Type::Link(link) => (link.schema.clone(), link.key.spelling()),
                other => panic!("a link, not {other:?}"),
            }
        };
        assert_eq!(key("Note"), ("Page".to_owned(), "(u64, u16)".to_owned()));
        assert_eq!(key("Page"), ("Book".to_owned(), "u64".to_owned()));
    }
}
