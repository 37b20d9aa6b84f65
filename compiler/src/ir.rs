//! The intermediate representation: a validated schema, free of TOML and serde types. Every
//! name is resolved, every key refers to fields by position, and emit only reads it.

/// A validated schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The file name shown in the generated header and docs.
    pub source_name: String,
    /// The `[definition]` table.
    pub definition: Definition,
    /// The models, in source order.
    pub models: Vec<Model>,
    /// The `[enums.X]`, in source order.
    pub enums: Vec<Enum>,
    /// The `[structs.X]`, in source order.
    pub structs: Vec<Struct>,
}

/// An enum: unit variants and variants that carry fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// The enum's names.
    pub name: Name,
    /// Documentation from the schema.
    pub doc: Option<String>,
    /// The 1-based line of the `[enums.X]` table.
    pub line: usize,
    /// The variants, in source order (their position is their stored tag and their order).
    pub variants: Vec<Variant>,
}

/// A variant of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The variant's names (`UpperCamelCase` in Rust).
    pub name: Name,
    /// Its fields (none for a unit variant).
    pub fields: Vec<Field>,
}

/// A struct embedded in records as a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// The struct's names.
    pub name: Name,
    /// Documentation from the schema.
    pub doc: Option<String>,
    /// The 1-based line of the `[structs.X]` table.
    pub line: usize,
    /// The fields, in source order (the encoding order).
    pub fields: Vec<Field>,
}

/// A reference from a type to one of the schema's enums or structs, with the facts about it
/// that decide what the type can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRef {
    /// The schema name.
    pub schema: String,
    /// The Rust type name.
    pub rust: String,
    /// Its position in `Schema::enums` or `Schema::structs`.
    pub index: usize,
    /// Whether it contains a float anywhere (no `Eq`).
    pub has_float: bool,
    /// Whether it can be a key (an enum whose fields can all be keys).
    pub key: bool,
}

/// The definition: the set of models stored together.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// Names of the definition.
    pub name: Name,
    /// The schema's version, stored in the database.
    pub version: u64,
    /// Documentation from the schema.
    pub doc: Option<String>,
    /// Whether commits also write their changes to the durable change feed
    /// (`change_feed = true`).
    pub change_feed: bool,
    /// The 1-based line of the `[definition]` table.
    pub line: usize,
    /// `removed_models`: models of earlier versions whose tables a migration may delete.
    pub removed_models: Vec<String>,
}

/// A schema name and the Rust names made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// As written in the schema; used in table names and the stored layout.
    pub schema: String,
    /// The Rust identifier: `UpperCamelCase` for types, `snake_case` for fields (a raw identifier
    /// when it is a keyword).
    pub rust: String,
}

/// A model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The model's names.
    pub name: Name,
    /// The `snake_case` plural used for transaction methods (`cities`).
    pub plural: String,
    /// Documentation from the schema.
    pub doc: Option<String>,
    /// The 1-based line of the `[models.X]` table.
    pub line: usize,
    /// The byte range of the model's name in the schema, for errors found after validation.
    pub span: std::ops::Range<usize>,
    /// The fields, in source order (the encoding order).
    pub fields: Vec<Field>,
    /// The primary key's fields (positions in `fields`): one field, or several for a composite key.
    pub primary_key: Vec<usize>,
    /// The secondary keys, in source order.
    pub secondary_keys: Vec<SecondaryKey>,
    /// `removed_fields`: fields of earlier versions a migration may drop from the records.
    pub removed_fields: Vec<String>,
}

/// A field of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's names.
    pub name: Name,
    /// The field's type.
    pub ty: Type,
    /// Documentation from the schema.
    pub doc: Option<String>,
    /// The 1-based line where the field is declared.
    pub line: usize,
    /// `default = ...`: the value a migration gives the field in records written before it.
    pub default: Option<DefaultValue>,
    /// `renamed_from = "old"`: the field's name in the version before.
    pub renamed_from: Option<String>,
}

/// A field's `default`, checked against the field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// An integer, in the range of the field's integer type.
    Integer(i128),
    /// A float (the field is `f32` or `f64`).
    Float(f64),
    /// A `bool`.
    Bool(bool),
    /// A `String` (or a `char`: one character).
    String(String),
    /// A unit variant of the field's enum: its position and name.
    Variant(usize, String),
}

/// A secondary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondaryKey {
    /// The key's name: the field's name for a single-field key, the given (or joined) name for
    /// a composite key. Names the index table and the query methods (`by_<name>`).
    pub name: Name,
    /// The indexed fields (positions in the model's `fields`), in key order.
    pub fields: Vec<usize>,
    /// Whether each value belongs to one record at most.
    pub unique: bool,
}

/// The type of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// A scalar.
    Scalar(Scalar),
    /// `String`: viewed as `&str`.
    String,
    /// `Bytes`: a `Vec<u8>` viewed as `&[u8]`.
    Bytes,
    /// `Option<T>`.
    Option(Box<Type>),
    /// `Vec<T>`.
    Vec(Box<Type>),
    /// `[T; N]`.
    Array(Box<Type>, usize),
    /// `BTreeMap<K, V>`.
    Map(Box<Type>, Box<Type>),
    /// One of the schema's enums.
    Enum(NamedRef),
    /// One of the schema's structs.
    Struct(NamedRef),
    /// A link to a model: stored as that model's primary key.
    Link(Link),
    /// A tuple: the key of a link to a model whose primary key has several fields.
    Tuple(Vec<Type>),
}

/// A link from a model field to another model (or the same one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target model's schema name.
    pub schema: String,
    /// The target model's Rust name.
    pub rust: String,
    /// The target's position in `Schema::models`.
    pub model: usize,
    /// The target's primary key type: what the field stores.
    pub key: Box<Type>,
    /// Whether a committed transaction may leave the link pointing at a missing record
    /// (`false`) or not (`true`, the default: checked when the transaction commits).
    pub checked: bool,
}

/// A scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `u128`
    U128,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `i128`
    I128,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `bool`
    Bool,
    /// `char`
    Char,
}

impl Scalar {
    /// Every scalar with its schema spelling (the Rust spelling too).
    pub const ALL: [(Scalar, &'static str); 14] = [
        (Scalar::U8, "u8"),
        (Scalar::U16, "u16"),
        (Scalar::U32, "u32"),
        (Scalar::U64, "u64"),
        (Scalar::U128, "u128"),
        (Scalar::I8, "i8"),
        (Scalar::I16, "i16"),
        (Scalar::I32, "i32"),
        (Scalar::I64, "i64"),
        (Scalar::I128, "i128"),
        (Scalar::F32, "f32"),
        (Scalar::F64, "f64"),
        (Scalar::Bool, "bool"),
        (Scalar::Char, "char"),
    ];

    /// The schema and Rust spelling.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("?", |(_, n)| n)
    }
}

impl Type {
    /// Whether values of this type have a total order that keys can sort by: integers, floats
    /// (by IEEE total order), `bool`, `char`, `String`, and enums whose fields can be keys.
    pub fn is_orderable_key(&self) -> bool {
        match self {
            Type::Scalar(_) | Type::String => true,
            Type::Enum(e) => e.key,
            Type::Link(l) => l.key.is_orderable_key(),
            Type::Tuple(parts) => parts.iter().all(Type::is_orderable_key),
            Type::Bytes
            | Type::Option(_)
            | Type::Vec(_)
            | Type::Array(..)
            | Type::Map(..)
            | Type::Struct(_) => false,
        }
    }

    /// Whether it can be a `BTreeMap` key: orderable in Rust too (`Ord`), so no floats.
    pub fn is_map_key(&self) -> bool {
        self.is_orderable_key() && !self.has_float()
    }

    /// Whether the type contains a float anywhere (which rules out `Eq`, `Ord` and `Hash`).
    pub fn has_float(&self) -> bool {
        match self {
            Type::Scalar(s) => matches!(s, Scalar::F32 | Scalar::F64),
            Type::String | Type::Bytes => false,
            Type::Option(t) | Type::Vec(t) | Type::Array(t, _) => t.has_float(),
            Type::Map(k, v) => k.has_float() || v.has_float(),
            Type::Enum(n) | Type::Struct(n) => n.has_float,
            Type::Link(l) => l.key.has_float(),
            Type::Tuple(parts) => parts.iter().any(Type::has_float),
        }
    }

    /// The number of bytes every key of this type encodes to, when that is fixed (integers,
    /// floats, `bool`, `char`); `None` for strings and enums.
    pub fn key_width(&self) -> Option<usize> {
        match self {
            Type::Scalar(s) => Some(match s {
                Scalar::U8 | Scalar::I8 | Scalar::Bool => 1,
                Scalar::U16 | Scalar::I16 => 2,
                Scalar::U32 | Scalar::I32 | Scalar::F32 | Scalar::Char => 4,
                Scalar::U64 | Scalar::I64 | Scalar::F64 => 8,
                Scalar::U128 | Scalar::I128 => 16,
            }),
            _ => None,
        }
    }

    /// The canonical spelling, used in the stored layout and in docs.
    pub fn spelling(&self) -> String {
        match self {
            Type::Scalar(s) => s.name().to_owned(),
            Type::String => "String".to_owned(),
            Type::Bytes => "Bytes".to_owned(),
            Type::Option(t) => format!("Option<{}>", t.spelling()),
            Type::Vec(t) => format!("Vec<{}>", t.spelling()),
            Type::Array(t, n) => format!("[{}; {n}]", t.spelling()),
            Type::Map(k, v) => format!("BTreeMap<{}, {}>", k.spelling(), v.spelling()),
            Type::Enum(n) | Type::Struct(n) => n.schema.clone(),
            Type::Link(l) => l.schema.clone(),
            Type::Tuple(parts) => format!(
                "({})",
                parts
                    .iter()
                    .map(Type::spelling)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Whether a link appears anywhere in the type.
    pub fn contains_link(&self) -> bool {
        match self {
            Type::Link(_) => true,
            Type::Option(t) | Type::Vec(t) | Type::Array(t, _) => t.contains_link(),
            Type::Map(k, v) => k.contains_link() || v.contains_link(),
            _ => false,
        }
    }

    /// As [`Type::link`], mutably.
    pub fn link_mut(&mut self) -> Option<&mut Link> {
        match self {
            Type::Link(l) => Some(l),
            Type::Option(t) | Type::Vec(t) => match &mut **t {
                Type::Link(l) => Some(l),
                _ => None,
            },
            _ => None,
        }
    }

    /// What a value of this type is stored as: a link stores its target's primary key, so a
    /// link (also inside a tuple) is replaced by that key's type.
    pub fn stored(self) -> Type {
        match self {
            Type::Link(l) => *l.key,
            Type::Tuple(parts) => Type::Tuple(parts.into_iter().map(Type::stored).collect()),
            other => other,
        }
    }

    /// The key type of a secondary key on a field of this type: `Option<T>` is indexed as `T`,
    /// and so is each element of a `Vec<T>` (a multi-valued key).
    pub fn indexed(&self) -> &Type {
        match self {
            Type::Option(inner) | Type::Vec(inner) => inner,
            other => other,
        }
    }

    /// The link this type holds: the type itself, or the item of an `Option` or `Vec` (the
    /// only places a link may be).
    pub fn link(&self) -> Option<&Link> {
        match self {
            Type::Link(l) => Some(l),
            Type::Option(t) | Type::Vec(t) => match &**t {
                Type::Link(l) => Some(l),
                _ => None,
            },
            _ => None,
        }
    }
}

impl Model {
    /// The fields of the primary key.
    pub fn primary_key_fields(&self) -> impl Iterator<Item = &Field> {
        self.primary_key.iter().map(|&i| &self.fields[i])
    }

    /// The width of every encoded primary key, when all its fields have a fixed
    /// [`Type::key_width`]: the record table is then keyed by `netabase_runtime::__codegen::Fixed<N>`.
    pub fn primary_key_width(&self) -> Option<usize> {
        self.primary_key_fields().map(|f| f.ty.key_width()).sum()
    }

    /// The width of every entry key of `key`'s index, when it is fixed: the key's parts (an
    /// `Option` or `Vec` part by its element, a link by its target's key) all have a fixed
    /// [`Type::key_width`], and for a
    /// non-unique index the primary key too (its entries are secondary ++ primary key). The
    /// index table is then keyed by `netabase_runtime::__codegen::Fixed<W>`.
    pub fn index_key_width(&self, key: &SecondaryKey) -> Option<usize> {
        let secondary: Option<usize> = self.key_fields(key).iter().map(|f| part_width(&f.ty)).sum();
        if key.unique {
            secondary
        } else {
            Some(secondary? + self.primary_key_width()?)
        }
    }

    /// The fields of a secondary key, in key order.
    pub fn key_fields<'a>(&'a self, key: &'a SecondaryKey) -> Vec<&'a Field> {
        key.fields.iter().map(|&i| &self.fields[i]).collect()
    }

    /// The model's link fields, in field order, each with the position of its index.
    pub fn links(&self) -> Vec<LinkField<'_>> {
        self.fields
            .iter()
            .enumerate()
            .filter_map(|(position, field)| {
                let link = field.ty.link()?;
                // Validation gives every link a single-field key named after the field.
                let index = self
                    .secondary_keys
                    .iter()
                    .position(|k| k.fields == [position] && k.name.schema == field.name.schema)?;
                Some(LinkField {
                    model: self,
                    field,
                    link,
                    index,
                })
            })
            .collect()
    }
}

/// A link field of a model, with what following it needs.
#[derive(Debug, Clone, Copy)]
pub struct LinkField<'a> {
    /// The model that has the field.
    pub model: &'a Model,
    /// The link field.
    pub field: &'a Field,
    /// The link.
    pub link: &'a Link,
    /// The position of the link's index among the model's secondary keys.
    pub index: usize,
}

/// The encoded width of one part of a secondary key, when fixed: an `Option` or `Vec` part is
/// encoded as its element, a link as the target's key (a tuple: its parts in order).
fn part_width(ty: &Type) -> Option<usize> {
    match ty {
        Type::Option(t) | Type::Vec(t) => part_width(t),
        Type::Link(link) => part_width(&link.key),
        Type::Tuple(parts) => parts.iter().map(part_width).sum(),
        ty => ty.key_width(),
    }
}

impl Schema {
    /// The record table of a model: `"<Definition>/<Model>"` (see [`Definition::record_table`]).
    pub fn record_table(&self, model: &Model) -> String {
        self.definition.record_table(model)
    }

    /// The index table of a secondary key: `"<Definition>/<Model>/<key name>"`.
    pub fn index_table(&self, model: &Model, key: &SecondaryKey) -> String {
        self.definition.index_table(model, key)
    }

    /// The links of every model that point at the model at position `target` of
    /// [`Self::models`] (see [`links_to`]).
    pub fn links_to(&self, target: usize) -> Vec<LinkField<'_>> {
        links_to(&self.models, target)
    }
}

/// The links of every model of `models` (in model, then field order) that point at the model
/// at position `target`.
pub fn links_to(models: &[Model], target: usize) -> Vec<LinkField<'_>> {
    models
        .iter()
        .flat_map(Model::links)
        .filter(|l| l.link.model == target)
        .collect()
}

impl Definition {
    /// The record table of a model: `"<Definition>/<Model>"`, the one place that spells it.
    pub fn record_table(&self, model: &Model) -> String {
        format!("{}/{}", self.name.schema, model.name.schema)
    }

    /// The index table of a secondary key: `"<Definition>/<Model>/<key name>"`.
    pub fn index_table(&self, model: &Model, key: &SecondaryKey) -> String {
        format!("{}/{}", self.record_table(model), key.name.schema)
    }
}
