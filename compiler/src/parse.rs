//! Stage 1, parse: TOML text -> [`RawSchema`], a tree in the schema's own shape in which every
//! node keeps its byte span. Structural mistakes (unknown keys, a number where a string belongs)
//! are collected here; meaning (types, keys, names) is checked by `validate`.

use crate::diagnostics::{Diagnostic, did_you_mean};
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// A value and the byte range it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its byte range in the schema text.
    pub span: Range<usize>,
}

/// The schema as written.
#[derive(Debug, Default)]
pub struct RawSchema {
    /// `[definition]`, if present.
    pub definition: Option<RawDefinition>,
    /// `[models.X]`, in source order.
    pub models: Vec<RawModel>,
    /// `[enums.X]`, in source order.
    pub enums: Vec<RawEnum>,
    /// `[structs.X]`, in source order.
    pub structs: Vec<RawStruct>,
    /// The span of the whole document (for errors about something missing).
    pub span: Range<usize>,
    /// Whether `models`, or one of its entries, was malformed (and reported).
    pub models_malformed: bool,
}

/// `[definition]`.
#[derive(Debug)]
pub struct RawDefinition {
    pub name: Option<Spanned<String>>,
    pub version: Option<Spanned<i64>>,
    pub doc: Option<Spanned<String>>,
    /// `change_feed = true`: every commit also writes its changes to the durable change feed.
    pub change_feed: bool,
    /// `removed_models = ["Old"]`: models of earlier versions whose records a migration may drop.
    pub removed_models: Vec<Spanned<String>>,
    /// The span of the `definition` key.
    pub span: Range<usize>,
    /// Keys that were given but malformed (reported already, so not "missing" too).
    pub malformed: Vec<&'static str>,
}

/// `[models.X]`.
#[derive(Debug)]
pub struct RawModel {
    pub name: Spanned<String>,
    pub primary_key: Option<Spanned<Vec<Spanned<String>>>>,
    pub doc: Option<Spanned<String>>,
    pub plural: Option<Spanned<String>>,
    pub fields: Vec<RawField>,
    /// `secondary_keys = [{ name, fields, unique }]`: keys over one or more fields.
    pub secondary_keys: Vec<RawCompositeKey>,
    /// `removed_fields = ["fax"]`: fields of earlier versions a migration may drop.
    pub removed_fields: Vec<Spanned<String>>,
    /// The span of the `fields` key, when the table exists.
    pub fields_span: Option<Range<usize>>,
    /// Keys that were given but malformed (reported already, so not "missing" too).
    pub malformed: Vec<&'static str>,
}

/// A field: `name = "Type"` or `name = { type = "Type", ... }`.
#[derive(Debug)]
pub struct RawField {
    pub name: Spanned<String>,
    pub ty: Option<Spanned<String>>,
    pub doc: Option<Spanned<String>>,
    pub secondary_key: Option<Spanned<RawSecondaryKey>>,
    /// `checked = false` on a link: writes may point at a missing record.
    pub checked: Option<Spanned<bool>>,
    /// `default = ...`: the value a migration gives this field in records written before it.
    pub default: Option<Spanned<RawDefault>>,
    /// `renamed_from = "old"`: the field's name in earlier versions.
    pub renamed_from: Option<Spanned<String>>,
}

/// The value of a field's `default`, as TOML wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum RawDefault {
    /// An integer.
    Integer(i128),
    /// A float.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// A string (a `String` field's value, or a unit variant's name).
    String(String),
}

/// `[enums.X]`: `variants = ["A", "B"]`, or a `variants` table of name -> fields.
#[derive(Debug)]
pub struct RawEnum {
    pub name: Spanned<String>,
    pub doc: Option<Spanned<String>>,
    pub variants: Vec<RawVariant>,
    /// The span of the `variants` key, when present.
    pub variants_span: Option<Range<usize>>,
}

/// A variant: a name and its fields (none for a unit variant).
#[derive(Debug)]
pub struct RawVariant {
    pub name: Spanned<String>,
    pub fields: Vec<RawField>,
}

/// `[structs.X]`: `doc` and a `fields` table like a model's.
#[derive(Debug)]
pub struct RawStruct {
    pub name: Spanned<String>,
    pub doc: Option<Spanned<String>>,
    pub fields: Vec<RawField>,
    pub fields_span: Option<Range<usize>>,
}

/// One entry of `secondary_keys`.
#[derive(Debug)]
pub struct RawCompositeKey {
    pub name: Option<Spanned<String>>,
    pub fields: Option<Spanned<Vec<Spanned<String>>>>,
    pub unique: bool,
    /// The span of the whole entry.
    pub span: Range<usize>,
}

/// The value of `secondary_key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawSecondaryKey {
    /// `"unique"`
    Unique,
    /// `true`
    NonUnique,
    /// `false`
    None,
}

/// Parses `source`. Every problem is collected and parsing goes on, except after a TOML syntax
/// error other than a duplicate key: the tree after one is a guess, so checking it would report
/// mistakes that are not there. A duplicate key leaves a sound tree (the parser keeps one of the
/// two), so the rest of the file is still checked.
pub fn parse(source: &str, errors: &mut Vec<Diagnostic>) -> Option<RawSchema> {
    let (document, syntax) = DeTable::parse_recoverable(source);
    let mut only_duplicates = true;
    for e in &syntax {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_owned();
        let duplicate = message.contains("duplicate key");
        only_duplicates &= duplicate;
        let help = if duplicate {
            "a key may appear once in a table: remove one of the two, or rename it"
        } else {
            "the schema must be valid TOML 1.0 (see netabase's schema reference, SCHEMA.md, for \
             its shape); other mistakes in this file are reported once it parses"
        };
        errors.push(
            Diagnostic::new(
                span,
                format!("invalid TOML: {message}"),
                "TOML syntax error here",
            )
            .help(help),
        );
    }
    if !only_duplicates {
        return None;
    }
    let mut walker = Walker { errors };
    Some(walker.document(document.get_ref(), 0..source.len()))
}

type Entry<'i> = (
    &'i toml::Spanned<toml::de::DeString<'i>>,
    &'i toml::Spanned<DeValue<'i>>,
);

struct Walker<'e> {
    errors: &'e mut Vec<Diagnostic>,
}

impl Walker<'_> {
    fn document(&mut self, root: &DeTable<'_>, span: Range<usize>) -> RawSchema {
        let mut schema = RawSchema {
            span,
            ..RawSchema::default()
        };
        for (key, value) in root {
            match key.get_ref().as_ref() {
                "definition" => {
                    if let Some(table) = self.table(value, "`definition`") {
                        schema.definition = Some(self.definition(table, key.span()));
                    }
                }
                "models" => match self.table(value, "`models`") {
                    // Malformed models are reported here, so not as "no model" as well.
                    None => schema.models_malformed = true,
                    Some(table) => {
                        for (name, model) in table {
                            match self.table(model, "a model") {
                                Some(model) => schema.models.push(self.model((name, model))),
                                None => schema.models_malformed = true,
                            }
                        }
                    }
                },
                "enums" => {
                    if let Some(table) = self.table(value, "`enums`") {
                        for (name, decl) in table {
                            if let Some(decl) = self.table(decl, "an enum") {
                                schema.enums.push(self.enumeration(name, decl));
                            }
                        }
                    }
                }
                "structs" => {
                    if let Some(table) = self.table(value, "`structs`") {
                        for (name, decl) in table {
                            if let Some(decl) = self.table(decl, "a struct") {
                                schema.structs.push(self.structure(name, decl));
                            }
                        }
                    }
                }
                _ => self.unknown_key(
                    key,
                    &["definition", "models", "enums", "structs"],
                    "at the top level",
                ),
            }
        }
        schema
    }

    fn enumeration(
        &mut self,
        name: &toml::Spanned<toml::de::DeString<'_>>,
        table: &DeTable<'_>,
    ) -> RawEnum {
        let mut decl = RawEnum {
            name: spanned_key(name),
            doc: None,
            variants: Vec::new(),
            variants_span: None,
        };
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "doc" => decl.doc = self.string(value, "`doc`"),
                "variants" => {
                    decl.variants_span = Some(key.span());
                    match value.get_ref() {
                        DeValue::Array(items) => {
                            for item in items.iter() {
                                if let Some(variant) = self.string(item, "a variant name") {
                                    decl.variants.push(RawVariant {
                                        name: variant,
                                        fields: Vec::new(),
                                    });
                                }
                            }
                        }
                        DeValue::Table(variants) => {
                            for (variant, fields) in variants {
                                let fields = match self.table(fields, "a variant's fields") {
                                    Some(fields) => fields
                                        .iter()
                                        .filter_map(|entry| self.field(entry))
                                        .collect(),
                                    None => Vec::new(),
                                };
                                decl.variants.push(RawVariant {
                                    name: spanned_key(variant),
                                    fields,
                                });
                            }
                        }
                        _ => self.expected(
                            value,
                            "`variants`",
                            "a list of names or a table of variants",
                        ),
                    }
                }
                _ => self.unknown_key(
                    key,
                    &["doc", "variants"],
                    &format!("in enum `{}`", name.get_ref()),
                ),
            }
        }
        decl
    }

    fn structure(
        &mut self,
        name: &toml::Spanned<toml::de::DeString<'_>>,
        table: &DeTable<'_>,
    ) -> RawStruct {
        let mut decl = RawStruct {
            name: spanned_key(name),
            doc: None,
            fields: Vec::new(),
            fields_span: None,
        };
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "doc" => decl.doc = self.string(value, "`doc`"),
                "fields" => {
                    decl.fields_span = Some(key.span());
                    if let Some(fields) = self.table(value, "`fields`") {
                        decl.fields = fields
                            .iter()
                            .filter_map(|entry| self.field(entry))
                            .collect();
                    }
                }
                _ => self.unknown_key(
                    key,
                    &["doc", "fields"],
                    &format!("in struct `{}`", name.get_ref()),
                ),
            }
        }
        decl
    }

    fn definition(&mut self, table: &DeTable<'_>, span: Range<usize>) -> RawDefinition {
        let mut definition = RawDefinition {
            name: None,
            version: None,
            doc: None,
            change_feed: false,
            removed_models: Vec::new(),
            span,
            malformed: Vec::new(),
        };
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "name" => {
                    definition.name = self.string(value, "`name`");
                    if definition.name.is_none() {
                        definition.malformed.push("name");
                    }
                }
                "version" => {
                    definition.version = self.integer(value, "`version`");
                    if definition.version.is_none() {
                        definition.malformed.push("version");
                    }
                }
                "doc" => definition.doc = self.string(value, "`doc`"),
                "change_feed" => match value.get_ref() {
                    DeValue::Boolean(b) => definition.change_feed = *b,
                    _ => self.expected(value, "`change_feed`", "`true` or `false`"),
                },
                "removed_models" => {
                    definition.removed_models = self.string_list(value, "`removed_models`");
                }
                _ => self.unknown_key(
                    key,
                    &["name", "version", "doc", "change_feed", "removed_models"],
                    "in `[definition]`",
                ),
            }
        }
        definition
    }

    fn model(
        &mut self,
        (name, table): (&toml::Spanned<toml::de::DeString<'_>>, &DeTable<'_>),
    ) -> RawModel {
        let mut model = RawModel {
            name: spanned_key(name),
            primary_key: None,
            doc: None,
            plural: None,
            fields: Vec::new(),
            secondary_keys: Vec::new(),
            removed_fields: Vec::new(),
            fields_span: None,
            malformed: Vec::new(),
        };
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "primary_key" => {
                    model.primary_key = self.string_or_list(value, "`primary_key`");
                    if model.primary_key.is_none() {
                        model.malformed.push("primary_key");
                    }
                }
                "doc" => model.doc = self.string(value, "`doc`"),
                "plural" => model.plural = self.string(value, "`plural`"),
                "secondary_keys" => model.secondary_keys = self.composite_keys(value),
                "removed_fields" => {
                    model.removed_fields = self.string_list(value, "`removed_fields`");
                }
                "fields" => {
                    model.fields_span = Some(key.span());
                    match self.table(value, "`fields`") {
                        None => model.malformed.push("fields"),
                        Some(fields) => {
                            model.fields = fields
                                .iter()
                                .filter_map(|entry| self.field(entry))
                                .collect();
                        }
                    }
                }
                _ => self.unknown_key(
                    key,
                    &[
                        "primary_key",
                        "doc",
                        "plural",
                        "fields",
                        "secondary_keys",
                        "removed_fields",
                    ],
                    &format!("in model `{}`", name.get_ref()),
                ),
            }
        }
        model
    }

    fn field(&mut self, (name, value): Entry<'_>) -> Option<RawField> {
        let mut field = RawField {
            name: spanned_key(name),
            ty: None,
            doc: None,
            secondary_key: None,
            checked: None,
            default: None,
            renamed_from: None,
        };
        match value.get_ref() {
            DeValue::String(ty) => {
                field.ty = Some(Spanned {
                    value: ty.to_string(),
                    span: value.span(),
                });
            }
            DeValue::Table(table) => {
                for (key, value) in table {
                    match key.get_ref().as_ref() {
                        "type" => field.ty = self.string(value, "`type`"),
                        "doc" => field.doc = self.string(value, "`doc`"),
                        "secondary_key" => field.secondary_key = self.secondary_key(value),
                        "default" => field.default = self.default_value(value),
                        "renamed_from" => {
                            field.renamed_from = self.string(value, "`renamed_from`");
                        }
                        "checked" => match value.get_ref() {
                            DeValue::Boolean(b) => {
                                field.checked = Some(Spanned {
                                    value: *b,
                                    span: value.span(),
                                });
                            }
                            _ => self.expected(value, "`checked`", "`true` or `false`"),
                        },
                        _ => self.unknown_key(
                            key,
                            &[
                                "type",
                                "doc",
                                "secondary_key",
                                "checked",
                                "default",
                                "renamed_from",
                            ],
                            &format!("in field `{}`", name.get_ref()),
                        ),
                    }
                }
                if field.ty.is_none() {
                    self.errors.push(
                        Diagnostic::new(
                            name.span(),
                            format!("field `{}` has no type", name.get_ref()),
                            "no `type` given",
                        )
                        .help(format!(
                            "write `{} = {{ type = \"String\", ... }}`",
                            name.get_ref()
                        )),
                    );
                    return None;
                }
            }
            _ => {
                self.errors.push(
                    Diagnostic::new(
                        value.span(),
                        format!("field `{}` must be a type or a table", name.get_ref()),
                        "expected a string or an inline table",
                    )
                    .help(format!(
                        "write `{0} = \"u64\"` or `{0} = {{ type = \"u64\", doc = \"...\" }}`",
                        name.get_ref()
                    )),
                );
                return None;
            }
        }
        Some(field)
    }

    fn composite_keys(&mut self, value: &toml::Spanned<DeValue<'_>>) -> Vec<RawCompositeKey> {
        let DeValue::Array(items) = value.get_ref() else {
            self.expected(
                value,
                "`secondary_keys`",
                "a list of tables such as `{ fields = [\"a\", \"b\"] }`",
            );
            return Vec::new();
        };
        let mut keys = Vec::new();
        for item in items.iter() {
            let Some(table) = self.table(item, "an entry of `secondary_keys`") else {
                continue;
            };
            let mut key = RawCompositeKey {
                name: None,
                fields: None,
                unique: false,
                span: item.span(),
            };
            for (k, v) in table {
                match k.get_ref().as_ref() {
                    "name" => key.name = self.string(v, "`name`"),
                    "fields" => key.fields = self.string_or_list(v, "`fields`"),
                    "unique" => match v.get_ref() {
                        DeValue::Boolean(b) => key.unique = *b,
                        _ => self.expected(v, "`unique`", "`true` or `false`"),
                    },
                    _ => self.unknown_key(k, &["name", "fields", "unique"], "in a secondary key"),
                }
            }
            keys.push(key);
        }
        keys
    }

    fn secondary_key(
        &mut self,
        value: &toml::Spanned<DeValue<'_>>,
    ) -> Option<Spanned<RawSecondaryKey>> {
        let kind = match value.get_ref() {
            DeValue::Boolean(true) => RawSecondaryKey::NonUnique,
            DeValue::Boolean(false) => RawSecondaryKey::None,
            DeValue::String(s) if s == "unique" => RawSecondaryKey::Unique,
            _ => {
                self.errors.push(
                    Diagnostic::new(value.span(), "invalid `secondary_key`", "expected `true`, `false` or `\"unique\"`")
                        .help("`secondary_key = true` indexes the field; `secondary_key = \"unique\"` also forbids two records with the same value"),
                );
                return None;
            }
        };
        Some(Spanned {
            value: kind,
            span: value.span(),
        })
    }

    /// `default = 0`, `1.5`, `true` or `"text"`.
    fn default_value(&mut self, value: &toml::Spanned<DeValue<'_>>) -> Option<Spanned<RawDefault>> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i128::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .ok()
                .map(RawDefault::Integer),
            DeValue::Float(f) => f
                .as_str()
                .replace('_', "")
                .parse()
                .ok()
                .map(RawDefault::Float),
            DeValue::Boolean(b) => Some(RawDefault::Bool(*b)),
            DeValue::String(s) => Some(RawDefault::String(s.to_string())),
            _ => None,
        };
        match parsed {
            Some(parsed) => Some(Spanned {
                value: parsed,
                span: value.span(),
            }),
            None => {
                self.expected(
                    value,
                    "`default`",
                    "an integer, a float, a boolean or a string",
                );
                None
            }
        }
    }

    /// A list of names, such as `removed_fields = ["fax"]`.
    fn string_list(
        &mut self,
        value: &toml::Spanned<DeValue<'_>>,
        what: &str,
    ) -> Vec<Spanned<String>> {
        match value.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| self.string(item, what))
                .collect(),
            _ => {
                self.expected(value, what, "a list of names");
                Vec::new()
            }
        }
    }

    fn table<'v, 'i>(
        &mut self,
        value: &'v toml::Spanned<DeValue<'i>>,
        what: &str,
    ) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.expected(value, what, "a table");
                None
            }
        }
    }

    fn string(
        &mut self,
        value: &toml::Spanned<DeValue<'_>>,
        what: &str,
    ) -> Option<Spanned<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned {
                value: s.to_string(),
                span: value.span(),
            }),
            _ => {
                self.expected(value, what, "a string");
                None
            }
        }
    }

    fn integer(&mut self, value: &toml::Spanned<DeValue<'_>>, what: &str) -> Option<Spanned<i64>> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => {
                i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
            }
            _ => None,
        };
        match parsed {
            Some(v) => Some(Spanned {
                value: v,
                span: value.span(),
            }),
            None => {
                self.expected(value, what, "an integer");
                None
            }
        }
    }

    fn string_or_list(
        &mut self,
        value: &toml::Spanned<DeValue<'_>>,
        what: &str,
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        let items = match value.get_ref() {
            DeValue::String(_) => vec![self.string(value, what)?],
            DeValue::Array(items) => {
                let items: Vec<_> = items.iter().map(|item| self.string(item, what)).collect();
                items.into_iter().collect::<Option<Vec<_>>>()?
            }
            _ => {
                self.expected(value, what, "a field name or a list of field names");
                return None;
            }
        };
        Some(Spanned {
            value: items,
            span: value.span(),
        })
    }

    fn expected(&mut self, value: &toml::Spanned<DeValue<'_>>, what: &str, expected: &str) {
        self.errors.push(
            Diagnostic::new(
                value.span(),
                format!("{what} must be {expected}"),
                format!("found {}", kind(value.get_ref())),
            )
            .help(format!("write {what} as {expected}")),
        );
    }

    fn unknown_key(
        &mut self,
        key: &toml::Spanned<toml::de::DeString<'_>>,
        allowed: &[&str],
        place: &str,
    ) {
        let name = key.get_ref().as_ref();
        let mut error = Diagnostic::new(
            key.span(),
            format!("unknown key `{name}` {place}"),
            "not a schema key",
        );
        error = match did_you_mean(name, allowed.iter().copied()) {
            Some(close) => error.help(format!("did you mean `{close}`?")),
            None => error.help(format!("the keys allowed {place} are {}", list(allowed))),
        };
        self.errors.push(error);
    }
}

fn spanned_key(key: &toml::Spanned<toml::de::DeString<'_>>) -> Spanned<String> {
    Spanned {
        value: key.get_ref().to_string(),
        span: key.span(),
    }
}

fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// `a`, `b` and `c`.
pub(crate) fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
