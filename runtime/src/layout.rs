//! The stored layout: the canonical text `netabase-build` writes into every generated
//! definition ([`Definition::LAYOUT`](crate::Definition::LAYOUT)) and the runtime stores in every
//! database, parsed into a [`Layout`]. With it a database describes itself: its records can be
//! decoded without the schema ([`codec::dynamic`](crate::codec::dynamic)) and a file written by an
//! earlier version can be migrated ([`crate::migrate`]).
//!
//! The text, one fact per line (two-space indents nest):
//!
//! ```text
//! definition Atlas
//! enum Format
//!   variant Ebook (pages: u32)
//! struct Point
//!   field lat: f64
//! model City
//!   field id: u64
//!   primary key (id)
//!   record key fixed 8
//!   unique key name (name)
//!     entry key fixed 4
//! hint renamed City.name from title
//! hint default City.population int 0
//! hint removed field City.fax
//! hint removed model Old
//! ```

use crate::codec::dynamic::Dynamic;
use std::fmt;

/// A parsed stored layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The definition's schema name.
    pub definition: String,
    /// The enums, in schema order.
    pub enums: Vec<EnumLayout>,
    /// The structs, in schema order.
    pub structs: Vec<StructLayout>,
    /// The models, in schema order.
    pub models: Vec<ModelLayout>,
    /// Models of earlier versions the schema confirms as removed (`removed_models`).
    pub removed_models: Vec<String>,
}

/// An enum: its variants in tag order.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumLayout {
    /// The schema name.
    pub name: String,
    /// The variants; a variant's position is its stored tag.
    pub variants: Vec<VariantLayout>,
}

/// A variant of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantLayout {
    /// The schema name.
    pub name: String,
    /// Its fields, in encoding order (none for a unit variant).
    pub fields: Vec<FieldLayout>,
}

/// A struct stored inside records.
#[derive(Debug, Clone, PartialEq)]
pub struct StructLayout {
    /// The schema name.
    pub name: String,
    /// The fields, in encoding order.
    pub fields: Vec<FieldLayout>,
}

/// A model: its record table and its indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelLayout {
    /// The schema name.
    pub name: String,
    /// The fields, in encoding order.
    pub fields: Vec<FieldLayout>,
    /// The primary key's field names, in key order.
    pub primary_key: Vec<String>,
    /// The secondary keys (link indexes included), in schema order.
    pub keys: Vec<KeyLayout>,
    /// The layout lines that fix the record table's key type (`record key fixed 8`).
    pub record_key: Vec<String>,
    /// Fields of earlier versions the schema confirms as removed (`removed_fields`).
    pub removed_fields: Vec<String>,
}

/// A field of a model, a struct or a variant.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldLayout {
    /// The schema name.
    pub name: String,
    /// The stored type.
    pub ty: TypeLayout,
    /// The schema's `default` (migration hint), as a value of `ty`.
    pub default: Option<Dynamic>,
    /// The schema's `renamed_from` (migration hint).
    pub renamed_from: Option<String>,
}

/// A secondary key (an index table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout {
    /// The key's name (its index table is `<Definition>/<Model>/<name>`).
    pub name: String,
    /// Whether each value belongs to one record at most.
    pub unique: bool,
    /// The indexed fields, in key order.
    pub fields: Vec<String>,
    /// The layout lines that fix the index table's key and value types.
    pub entry: Vec<String>,
}

/// A stored type, as the layout spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeLayout {
    /// A scalar.
    Scalar(Scalar),
    /// `String`.
    String,
    /// `Bytes`.
    Bytes,
    /// `Option<T>`.
    Option(Box<TypeLayout>),
    /// `Vec<T>`.
    Vec(Box<TypeLayout>),
    /// `[T; N]`.
    Array(Box<TypeLayout>, usize),
    /// `BTreeMap<K, V>`.
    Map(Box<TypeLayout>, Box<TypeLayout>),
    /// `(A, B, ...)`.
    Tuple(Vec<TypeLayout>),
    /// An enum, a struct, or a link to a model (stored as its primary key), by schema name.
    Named(String),
}

/// A scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Scalar {
    U8,
    U16,
    U32,
    U64,
    U128,
    I8,
    I16,
    I32,
    I64,
    I128,
    F32,
    F64,
    Bool,
    Char,
}

const SCALARS: [(Scalar, &str); 14] = [
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

impl Scalar {
    /// The schema spelling (`u64`).
    pub fn name(self) -> &'static str {
        SCALARS
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("?", |(_, n)| n)
    }

    /// For an integer: whether it is signed and its width in bits.
    pub fn integer(self) -> Option<(bool, u32)> {
        use Scalar::*;
        Some(match self {
            U8 => (false, 8),
            U16 => (false, 16),
            U32 => (false, 32),
            U64 => (false, 64),
            U128 => (false, 128),
            I8 => (true, 8),
            I16 => (true, 16),
            I32 => (true, 32),
            I64 => (true, 64),
            I128 => (true, 128),
            _ => return None,
        })
    }
}

impl fmt::Display for TypeLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeLayout::Scalar(s) => f.write_str(s.name()),
            TypeLayout::String => f.write_str("String"),
            TypeLayout::Bytes => f.write_str("Bytes"),
            TypeLayout::Option(t) => write!(f, "Option<{t}>"),
            TypeLayout::Vec(t) => write!(f, "Vec<{t}>"),
            TypeLayout::Array(t, n) => write!(f, "[{t}; {n}]"),
            TypeLayout::Map(k, v) => write!(f, "BTreeMap<{k}, {v}>"),
            TypeLayout::Tuple(parts) => {
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                f.write_str(")")
            }
            TypeLayout::Named(n) => f.write_str(n),
        }
    }
}

/// A layout text that does not parse: the file's metadata is damaged, or was written by a
/// netabase this runtime does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stored layout, line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LayoutError {}

impl ModelLayout {
    /// The key type of the model's record table from its `record key` line: `Fixed(N)` for
    /// `record key fixed N` (N > 0), `Bytes` without one; `Err` (in words) for a line this
    /// netabase does not know.
    pub(crate) fn record_key_type(&self) -> Result<crate::tree::StoredType, String> {
        let Some(rest) = self
            .record_key
            .iter()
            .find_map(|line| line.strip_prefix("record key fixed "))
        else {
            return Ok(crate::tree::StoredType::Bytes);
        };
        match rest.trim().parse::<usize>() {
            Ok(width) if width > 0 => Ok(crate::tree::StoredType::Fixed(width)),
            _ => Err(format!(
                "the record key line of model `{}` is not one this netabase knows",
                self.name
            )),
        }
    }
}

impl Layout {
    /// Parses a layout text.
    pub fn parse(text: &str) -> Result<Layout, LayoutError> {
        let mut layout = Layout {
            definition: String::new(),
            enums: Vec::new(),
            structs: Vec::new(),
            models: Vec::new(),
            removed_models: Vec::new(),
        };
        // Which list the indented lines belong to.
        enum Open {
            None,
            Enum,
            Struct,
            Model,
        }
        let mut open = Open::None;
        for (n, line) in text.lines().enumerate() {
            let err = |message: String| LayoutError {
                line: n + 1,
                message,
            };
            if line.trim().is_empty() {
                continue;
            }
            let bad = || err(format!("unexpected line `{line}`"));
            if let Some(rest) = line.strip_prefix("    ") {
                // An index's entry lines.
                let key = match open {
                    Open::Model => layout.models.last_mut().and_then(|m| m.keys.last_mut()),
                    _ => None,
                };
                key.ok_or_else(bad)?.entry.push(rest.to_owned());
            } else if let Some(rest) = line.strip_prefix("  ") {
                match open {
                    Open::Enum => {
                        let rest = rest.strip_prefix("variant ").ok_or_else(bad)?;
                        let (name, fields) = rest.split_once(' ').ok_or_else(bad)?;
                        let fields = fields
                            .strip_prefix('(')
                            .and_then(|f| f.strip_suffix(')'))
                            .ok_or_else(bad)?;
                        let fields = parse_field_list(fields).map_err(err)?;
                        let e = layout.enums.last_mut().ok_or_else(bad)?;
                        e.variants.push(VariantLayout {
                            name: name.to_owned(),
                            fields,
                        });
                    }
                    Open::Struct => {
                        let field = rest.strip_prefix("field ").ok_or_else(bad)?;
                        let field = parse_field(field).map_err(err)?;
                        layout
                            .structs
                            .last_mut()
                            .ok_or_else(bad)?
                            .fields
                            .push(field);
                    }
                    Open::Model => {
                        let model = layout.models.last_mut().ok_or_else(bad)?;
                        model_line(model, rest).ok_or_else(bad)?.map_err(err)?;
                    }
                    Open::None => return Err(bad()),
                }
            } else if let Some(name) = line.strip_prefix("definition ") {
                layout.definition = name.to_owned();
            } else if let Some(name) = line.strip_prefix("enum ") {
                layout.enums.push(EnumLayout {
                    name: name.to_owned(),
                    variants: Vec::new(),
                });
                open = Open::Enum;
            } else if let Some(name) = line.strip_prefix("struct ") {
                layout.structs.push(StructLayout {
                    name: name.to_owned(),
                    fields: Vec::new(),
                });
                open = Open::Struct;
            } else if let Some(name) = line.strip_prefix("model ") {
                layout.models.push(ModelLayout {
                    name: name.to_owned(),
                    fields: Vec::new(),
                    primary_key: Vec::new(),
                    keys: Vec::new(),
                    record_key: Vec::new(),
                    removed_fields: Vec::new(),
                });
                open = Open::Model;
            } else if let Some(hint) = line.strip_prefix("hint ") {
                open = Open::None;
                layout.hint(hint).ok_or_else(bad)?.map_err(err)?;
            } else {
                return Err(bad());
            }
        }
        if layout.definition.is_empty() {
            return Err(LayoutError {
                line: 1,
                message: "no `definition` line".to_owned(),
            });
        }
        Ok(layout)
    }

    /// The model named `name`.
    pub fn model(&self, name: &str) -> Option<&ModelLayout> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The enum named `name`.
    pub fn enumeration(&self, name: &str) -> Option<&EnumLayout> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// The struct named `name`.
    pub fn structure(&self, name: &str) -> Option<&StructLayout> {
        self.structs.iter().find(|s| s.name == name)
    }

    /// Applies one `hint` line; `None` when the line is not a hint.
    fn hint(&mut self, hint: &str) -> Option<Result<(), String>> {
        if let Some(name) = hint.strip_prefix("removed model ") {
            self.removed_models.push(name.to_owned());
            return Some(Ok(()));
        }
        if let Some(path) = hint.strip_prefix("removed field ") {
            let (model, field) = path.split_once('.')?;
            let model = self.models.iter_mut().find(|m| m.name == model)?;
            model.removed_fields.push(field.to_owned());
            return Some(Ok(()));
        }
        if let Some(rest) = hint.strip_prefix("renamed ") {
            let (path, old) = rest.split_once(" from ")?;
            let field = self.field_mut(path)?;
            field.renamed_from = Some(old.to_owned());
            return Some(Ok(()));
        }
        let rest = hint.strip_prefix("default ")?;
        let (path, value) = rest.split_once(' ')?;
        let field = self.field_mut(path)?;
        let value = match default_value(value) {
            Ok(value) => value,
            Err(e) => return Some(Err(e)),
        };
        field.default = Some(value);
        Some(Ok(()))
    }

    fn field_mut(&mut self, path: &str) -> Option<&mut FieldLayout> {
        let (model, field) = path.split_once('.')?;
        let model = self.models.iter_mut().find(|m| m.name == model)?;
        model.fields.iter_mut().find(|f| f.name == field)
    }
}

/// One indented line of a model; `None` when it is not a model line.
fn model_line(model: &mut ModelLayout, line: &str) -> Option<Result<(), String>> {
    if let Some(field) = line.strip_prefix("field ") {
        return Some(parse_field(field).map(|f| model.fields.push(f)));
    }
    if let Some(fields) = line.strip_prefix("primary key ") {
        model.primary_key = names_in_parens(fields)?;
        return Some(Ok(()));
    }
    if line.starts_with("record key ") {
        model.record_key.push(line.to_owned());
        return Some(Ok(()));
    }
    let (unique, rest) = if let Some(rest) = line.strip_prefix("unique key ") {
        (true, rest)
    } else {
        (false, line.strip_prefix("index key ")?)
    };
    let (name, fields) = rest.split_once(' ')?;
    model.keys.push(KeyLayout {
        name: name.to_owned(),
        unique,
        fields: names_in_parens(fields)?,
        entry: Vec::new(),
    });
    Some(Ok(()))
}

/// `(a, b)` -> `["a", "b"]`.
fn names_in_parens(text: &str) -> Option<Vec<String>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(", ").map(str::to_owned).collect())
}

/// A hint's default value: `int -3`, `float 1.5`, `bool true`, `string <hex>`, `variant 2 Name`.
fn default_value(text: &str) -> Result<Dynamic, String> {
    let bad = || format!("malformed default `{text}`");
    let (kind, value) = text.split_once(' ').ok_or_else(bad)?;
    Ok(match kind {
        "int" => {
            let i: i128 = value.parse().map_err(|_| bad())?;
            match u128::try_from(i) {
                Ok(u) => Dynamic::Unsigned(u),
                Err(_) => Dynamic::Signed(i),
            }
        }
        "float" => Dynamic::F64(value.parse().map_err(|_| bad())?),
        "bool" => Dynamic::Bool(value.parse().map_err(|_| bad())?),
        "string" => {
            let bytes = (0..value.len())
                .step_by(2)
                .map(|i| {
                    value
                        .get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(bad)?;
            Dynamic::String(String::from_utf8(bytes).map_err(|_| bad())?)
        }
        "variant" => {
            let (_, name) = value.split_once(' ').ok_or_else(bad)?;
            Dynamic::Enum {
                variant: name.to_owned(),
                fields: Vec::new(),
            }
        }
        _ => return Err(bad()),
    })
}

/// `name: Type` (a model or struct field).
fn parse_field(text: &str) -> Result<FieldLayout, String> {
    let mut fields = parse_field_list(text)?;
    match (fields.pop(), fields.is_empty()) {
        (Some(field), true) => Ok(field),
        _ => Err(format!("expected one field in `{text}`")),
    }
}

/// `a: T, b: BTreeMap<K, V>` (a variant's fields; empty for a unit variant).
fn parse_field_list(text: &str) -> Result<Vec<FieldLayout>, String> {
    let mut p = TypeParser { rest: text };
    let mut fields = Vec::new();
    while !p.rest.is_empty() {
        let (name, rest) = p
            .rest
            .split_once(": ")
            .ok_or_else(|| format!("expected `name: Type` in `{text}`"))?;
        p.rest = rest;
        let ty = p.ty()?;
        fields.push(FieldLayout {
            name: name.to_owned(),
            ty,
            default: None,
            renamed_from: None,
        });
        if let Some(rest) = p.rest.strip_prefix(", ") {
            p.rest = rest;
        } else if !p.rest.is_empty() {
            return Err(format!("unexpected `{}` in `{text}`", p.rest));
        }
    }
    Ok(fields)
}

/// Reads types from the front of a text.
struct TypeParser<'a> {
    rest: &'a str,
}

impl TypeParser<'_> {
    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected `{token}` before `{}`", self.rest))
        }
    }

    fn ty(&mut self) -> Result<TypeLayout, String> {
        if self.eat("[") {
            let item = self.ty()?;
            self.expect("; ")?;
            let end = self.rest.find(']').ok_or("unclosed `[`")?;
            let n = self.rest[..end]
                .parse()
                .map_err(|_| format!("bad array length in `{}`", self.rest))?;
            self.rest = &self.rest[end + 1..];
            return Ok(TypeLayout::Array(Box::new(item), n));
        }
        if self.eat("(") {
            let mut parts = vec![self.ty()?];
            while self.eat(", ") {
                parts.push(self.ty()?);
            }
            self.expect(")")?;
            return Ok(TypeLayout::Tuple(parts));
        }
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(self.rest.len());
        let (name, rest) = self.rest.split_at(end);
        if name.is_empty() {
            return Err(format!("expected a type before `{}`", self.rest));
        }
        self.rest = rest;
        let generic = |this: &mut Self| -> Result<TypeLayout, String> {
            this.expect("<")?;
            let t = this.ty()?;
            this.expect(">")?;
            Ok(t)
        };
        Ok(match name {
            "String" => TypeLayout::String,
            "Bytes" => TypeLayout::Bytes,
            "Option" => TypeLayout::Option(Box::new(generic(self)?)),
            "Vec" => TypeLayout::Vec(Box::new(generic(self)?)),
            "BTreeMap" => {
                self.expect("<")?;
                let k = self.ty()?;
                self.expect(", ")?;
                let v = self.ty()?;
                self.expect(">")?;
                TypeLayout::Map(Box::new(k), Box::new(v))
            }
            name => match SCALARS.iter().find(|(_, n)| *n == name) {
                Some((s, _)) => TypeLayout::Scalar(*s),
                None => TypeLayout::Named(name.to_owned()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "definition Shop\nenum Kind\n  variant A ()\n  variant B (x: BTreeMap<String, (u8, i32)>, y: [f32; 3])\nstruct P\n  field a: Option<Vec<Bytes>>\nmodel User\n  field id: u64\n  field name: String\n  field kind: Kind\n  primary key (id)\n  record key fixed 8\n  unique key name (name)\n    entry value fixed 8\nhint renamed User.name from title\nhint default User.kind variant 0 A\nhint default User.name string 6869\nhint removed field User.fax\nhint removed model Old\n";

    #[test]
    fn parses_every_kind_of_line() {
        let l = Layout::parse(TEXT).unwrap();
        assert_eq!(l.definition, "Shop");
        let b = &l.enums[0].variants[1];
        assert_eq!(b.fields[0].ty.to_string(), "BTreeMap<String, (u8, i32)>");
        assert_eq!(b.fields[1].ty.to_string(), "[f32; 3]");
        assert_eq!(l.structs[0].fields[0].ty.to_string(), "Option<Vec<Bytes>>");
        let user = l.model("User").unwrap();
        assert_eq!(user.primary_key, ["id"]);
        assert_eq!(user.record_key, ["record key fixed 8"]);
        assert_eq!(user.keys[0].entry, ["entry value fixed 8"]);
        assert!(user.keys[0].unique);
        assert_eq!(user.fields[1].renamed_from.as_deref(), Some("title"));
        assert_eq!(user.fields[1].default, Some(Dynamic::String("hi".into())));
        assert_eq!(user.removed_fields, ["fax"]);
        assert_eq!(l.removed_models, ["Old"]);
    }

    #[test]
    fn malformed_text_is_an_error_with_its_line() {
        let e = Layout::parse("definition X\nmodel M\n  field id u64\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(Layout::parse("model M\n").is_err());
        assert!(Layout::parse("definition X\n  field a: u8\n").is_err());
    }
}
