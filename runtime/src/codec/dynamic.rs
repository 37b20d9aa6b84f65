//! The dynamic codec: decodes any stored record by a [`Layout`] into a [`Dynamic`] value, and
//! encodes one back, byte for byte as the generated code does. It is what reads a database
//! without its schema (inspection) and what rewrites records during a migration without the
//! old generated code. It uses the same [`Value`](super::Value) impls as generated code, so the
//! two encodings cannot drift apart.

use super::{DecodeError, Reader, Writer};
use crate::layout::{FieldLayout, Layout, ModelLayout, Scalar, TypeLayout};
use std::fmt;

/// A value of any stored type.
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic {
    /// `bool`.
    Bool(bool),
    /// An unsigned integer (any width).
    Unsigned(u128),
    /// A signed integer (any width).
    Signed(i128),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
    /// `char`.
    Char(char),
    /// `String`.
    String(String),
    /// `Bytes`.
    Bytes(Vec<u8>),
    /// `Option<T>`.
    Option(Option<Box<Dynamic>>),
    /// `Vec<T>`, `[T; N]` or a tuple (the key of a link to a composite primary key).
    List(Vec<Dynamic>),
    /// `BTreeMap<K, V>`, in key order.
    Map(Vec<(Dynamic, Dynamic)>),
    /// A variant of an enum, with its fields.
    Enum {
        /// The variant's schema name.
        variant: String,
        /// Its fields, in encoding order.
        fields: Vec<(String, Dynamic)>,
    },
    /// A struct (or a whole record): its fields in encoding order.
    Struct(Vec<(String, Dynamic)>),
}

/// A record: its fields by name, in encoding order.
pub type Record = Vec<(String, Dynamic)>;

/// Decodes a record of `model`, stored under `layout`. Trailing bytes are an error.
pub fn decode_record(
    layout: &Layout,
    model: &ModelLayout,
    bytes: &[u8],
) -> Result<Record, DecodeError> {
    let mut r = Reader::new(bytes);
    let record = decode_fields(layout, &model.fields, &mut r)?;
    r.finish()?;
    Ok(record)
}

/// Encodes `record` as a record of `model` under `layout`: every field of the model, in its
/// order, taken from `record` by name. A missing field or a value that does not fit its type
/// (an integer out of range, a variant the enum lacks) is an error naming it.
pub fn encode_record(
    layout: &Layout,
    model: &ModelLayout,
    record: &[(String, Dynamic)],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut w = Writer::new(out);
    encode_fields(layout, &model.fields, record, &mut w).map_err(|e| format!("{}: {e}", model.name))
}

fn decode_fields(
    layout: &Layout,
    fields: &[FieldLayout],
    r: &mut Reader<'_>,
) -> Result<Record, DecodeError> {
    fields
        .iter()
        .map(|f| Ok((f.name.clone(), decode(layout, &f.ty, r)?)))
        .collect()
}

fn encode_fields(
    layout: &Layout,
    fields: &[FieldLayout],
    values: &[(String, Dynamic)],
    w: &mut Writer<'_>,
) -> Result<(), String> {
    for field in fields {
        let (_, value) = values
            .iter()
            .find(|(name, _)| *name == field.name)
            .ok_or_else(|| format!("field `{}` has no value", field.name))?;
        encode(layout, &field.ty, value, w).map_err(|e| format!("field `{}`: {e}", field.name))?;
    }
    Ok(())
}

/// What a named type is.
pub(super) enum Named<'l> {
    Enum(&'l crate::layout::EnumLayout),
    Struct(&'l crate::layout::StructLayout),
    /// A link: stored as the target's primary key (a tuple for a composite key).
    Link(TypeLayout),
}

pub(super) fn named<'l>(layout: &'l Layout, name: &str) -> Result<Named<'l>, String> {
    if let Some(e) = layout.enumeration(name) {
        return Ok(Named::Enum(e));
    }
    if let Some(s) = layout.structure(name) {
        return Ok(Named::Struct(s));
    }
    let model = layout
        .model(name)
        .ok_or_else(|| format!("the layout has no type `{name}`"))?;
    let mut parts = model
        .primary_key
        .iter()
        .map(|k| {
            model
                .fields
                .iter()
                .find(|f| f.name == *k)
                .map(|f| f.ty.clone())
                .ok_or_else(|| format!("model `{name}` has no primary key field `{k}`"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Named::Link(match parts.len() {
        1 => parts.remove(0),
        _ => TypeLayout::Tuple(parts),
    }))
}

/// Decodes one value of type `ty`.
pub fn decode(
    layout: &Layout,
    ty: &TypeLayout,
    r: &mut Reader<'_>,
) -> Result<Dynamic, DecodeError> {
    Ok(match ty {
        TypeLayout::Scalar(s) => match s {
            Scalar::U8 => Dynamic::Unsigned(r.read::<u8>()?.into()),
            Scalar::U16 => Dynamic::Unsigned(r.read::<u16>()?.into()),
            Scalar::U32 => Dynamic::Unsigned(r.read::<u32>()?.into()),
            Scalar::U64 => Dynamic::Unsigned(r.read::<u64>()?.into()),
            Scalar::U128 => Dynamic::Unsigned(r.read::<u128>()?),
            Scalar::I8 => Dynamic::Signed(r.read::<i8>()?.into()),
            Scalar::I16 => Dynamic::Signed(r.read::<i16>()?.into()),
            Scalar::I32 => Dynamic::Signed(r.read::<i32>()?.into()),
            Scalar::I64 => Dynamic::Signed(r.read::<i64>()?.into()),
            Scalar::I128 => Dynamic::Signed(r.read::<i128>()?),
            Scalar::F32 => Dynamic::F32(r.read()?),
            Scalar::F64 => Dynamic::F64(r.read()?),
            Scalar::Bool => Dynamic::Bool(r.read()?),
            Scalar::Char => Dynamic::Char(r.read()?),
        },
        TypeLayout::String => Dynamic::String(r.read()?),
        TypeLayout::Bytes => Dynamic::Bytes(r.read_borrowed::<&[u8]>()?.to_vec()),
        TypeLayout::Option(t) => match r.read::<u8>()? {
            0 => Dynamic::Option(None),
            1 => Dynamic::Option(Some(Box::new(decode(layout, t, r)?))),
            tag => return Err(DecodeError::new(format!("invalid Option tag {tag}"))),
        },
        TypeLayout::Vec(t) => {
            let len = r.len()?;
            Dynamic::List(
                (0..len)
                    .map(|_| decode(layout, t, r))
                    .collect::<Result<_, _>>()?,
            )
        }
        TypeLayout::Array(t, n) => Dynamic::List(
            (0..*n)
                .map(|_| decode(layout, t, r))
                .collect::<Result<_, _>>()?,
        ),
        TypeLayout::Tuple(parts) => Dynamic::List(
            parts
                .iter()
                .map(|t| decode(layout, t, r))
                .collect::<Result<_, _>>()?,
        ),
        TypeLayout::Map(k, v) => {
            let len = r.len()?;
            let mut pairs = Vec::with_capacity(len);
            for _ in 0..len {
                pairs.push((decode(layout, k, r)?, decode(layout, v, r)?));
            }
            Dynamic::Map(pairs)
        }
        TypeLayout::Named(name) => match named(layout, name).map_err(DecodeError::new)? {
            Named::Struct(s) => Dynamic::Struct(decode_fields(layout, &s.fields, r)?),
            Named::Link(key) => decode(layout, &key, r)?,
            Named::Enum(e) => {
                let tag: u32 = r.read()?;
                let variant = e.variants.get(tag as usize).ok_or_else(|| {
                    DecodeError::new(format!("unknown variant {tag} of enum `{}`", e.name))
                })?;
                Dynamic::Enum {
                    variant: variant.name.clone(),
                    fields: decode_fields(layout, &variant.fields, r)?,
                }
            }
        },
    })
}

/// Encodes `value` as type `ty`. Integers are checked against the type's range, so a value
/// may be written into a wider type than it was read from (a migration's widening).
pub fn encode(
    layout: &Layout,
    ty: &TypeLayout,
    value: &Dynamic,
    w: &mut Writer<'_>,
) -> Result<(), String> {
    let mismatch = || format!("{} does not fit type `{ty}`", value);
    match (ty, value) {
        (TypeLayout::Scalar(s), value) => scalar(*s, value, w).ok_or_else(mismatch)?,
        (TypeLayout::String, Dynamic::String(s)) => w.write(s),
        (TypeLayout::Bytes, Dynamic::Bytes(b)) => w.write(b),
        (TypeLayout::Option(_), Dynamic::Option(None)) => w.write(&0u8),
        (TypeLayout::Option(t), Dynamic::Option(Some(v))) => {
            w.write(&1u8);
            encode(layout, t, v, w)?;
        }
        (TypeLayout::Vec(t), Dynamic::List(items)) => {
            w.write(&(items.len() as u64));
            for item in items {
                encode(layout, t, item, w)?;
            }
        }
        (TypeLayout::Array(t, n), Dynamic::List(items)) if items.len() == *n => {
            for item in items {
                encode(layout, t, item, w)?;
            }
        }
        (TypeLayout::Tuple(parts), Dynamic::List(items)) if items.len() == parts.len() => {
            for (t, item) in parts.iter().zip(items) {
                encode(layout, t, item, w)?;
            }
        }
        (TypeLayout::Map(k, v), Dynamic::Map(pairs)) => {
            w.write(&(pairs.len() as u64));
            for (key, value) in pairs {
                encode(layout, k, key, w)?;
                encode(layout, v, value, w)?;
            }
        }
        (TypeLayout::Named(name), value) => match (named(layout, name)?, value) {
            (Named::Struct(s), Dynamic::Struct(fields)) => {
                encode_fields(layout, &s.fields, fields, w)?;
            }
            (Named::Link(key), value) => encode(layout, &key, value, w)?,
            (Named::Enum(e), Dynamic::Enum { variant, fields }) => {
                let (tag, v) = variant_of(e, variant)?;
                w.write(&tag);
                encode_fields(layout, &v.fields, fields, w)?;
            }
            _ => return Err(mismatch()),
        },
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// The stored tag (position) and layout of the variant `name` of `e`.
pub(super) fn variant_of<'l>(
    e: &'l crate::layout::EnumLayout,
    name: &str,
) -> Result<(u32, &'l crate::layout::VariantLayout), String> {
    let (tag, v) = e
        .variants
        .iter()
        .enumerate()
        .find(|(_, v)| v.name == name)
        .ok_or_else(|| format!("enum `{}` has no variant `{name}`", e.name))?;
    let tag = u32::try_from(tag).map_err(|_| format!("enum `{}` has too many variants", e.name))?;
    Ok((tag, v))
}

/// Where [`scalar`] puts a number: a record's value encoding ([`Writer`]) or a key's
/// order-preserving one (`dynamic_key`). Both encode through the typed impls, so a scalar is
/// converted to its stored type in one place.
pub(super) trait ScalarSink {
    /// Appends `value`'s encoding.
    fn put<T: super::Value + super::KeyPart>(&mut self, value: &T);
}

impl ScalarSink for Writer<'_> {
    fn put<T: super::Value + super::KeyPart>(&mut self, value: &T) {
        self.write(value);
    }
}

/// Writes a scalar as type `s` into `w`; `None` when the value does not fit.
pub(super) fn scalar(s: Scalar, value: &Dynamic, w: &mut impl ScalarSink) -> Option<()> {
    let int = |v: &Dynamic| -> Option<i128> {
        match v {
            Dynamic::Unsigned(u) => i128::try_from(*u).ok(),
            Dynamic::Signed(i) => Some(*i),
            _ => None,
        }
    };
    match (s, value) {
        (Scalar::U128, Dynamic::Unsigned(u)) => w.put(u),
        (Scalar::U8, v) => w.put(&u8::try_from(int(v)?).ok()?),
        (Scalar::U16, v) => w.put(&u16::try_from(int(v)?).ok()?),
        (Scalar::U32, v) => w.put(&u32::try_from(int(v)?).ok()?),
        (Scalar::U64, v) => w.put(&u64::try_from(int(v)?).ok()?),
        (Scalar::U128, v) => w.put(&u128::try_from(int(v)?).ok()?),
        (Scalar::I8, v) => w.put(&i8::try_from(int(v)?).ok()?),
        (Scalar::I16, v) => w.put(&i16::try_from(int(v)?).ok()?),
        (Scalar::I32, v) => w.put(&i32::try_from(int(v)?).ok()?),
        (Scalar::I64, v) => w.put(&i64::try_from(int(v)?).ok()?),
        (Scalar::I128, v) => w.put(&int(v)?),
        (Scalar::F32, Dynamic::F32(f)) => w.put(f),
        // f32 -> f64 is exact; an f64 default for an f32 field is narrowed as the schema wrote it.
        (Scalar::F32, Dynamic::F64(f)) => w.put(&(*f as f32)),
        (Scalar::F64, Dynamic::F32(f)) => w.put(&f64::from(*f)),
        (Scalar::F64, Dynamic::F64(f)) => w.put(f),
        (Scalar::Bool, Dynamic::Bool(b)) => w.put(b),
        (Scalar::Char, Dynamic::Char(c)) => w.put(c),
        (Scalar::Char, Dynamic::String(s)) if s.chars().count() == 1 => w.put(&s.chars().next()?),
        _ => return None,
    }
    Some(())
}

impl fmt::Display for Dynamic {
    /// A Rust-like form: `"text"`, `42`, `Some(1.5)`, `[1, 2]`, `Ebook { pages: 300 }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn fields(f: &mut fmt::Formatter<'_>, fields: &[(String, Dynamic)]) -> fmt::Result {
            f.write_str("{ ")?;
            for (i, (name, value)) in fields.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{name}: {value}")?;
            }
            f.write_str(" }")
        }
        match self {
            Dynamic::Bool(b) => write!(f, "{b}"),
            Dynamic::Unsigned(u) => write!(f, "{u}"),
            Dynamic::Signed(i) => write!(f, "{i}"),
            Dynamic::F32(x) => write!(f, "{x:?}"),
            Dynamic::F64(x) => write!(f, "{x:?}"),
            Dynamic::Char(c) => write!(f, "{c:?}"),
            Dynamic::String(s) => write!(f, "{s:?}"),
            Dynamic::Bytes(b) => write!(f, "{b:?}"),
            Dynamic::Option(None) => f.write_str("None"),
            Dynamic::Option(Some(v)) => write!(f, "Some({v})"),
            Dynamic::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Dynamic::Map(pairs) => {
                f.write_str("{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Dynamic::Enum { variant, fields: v } if v.is_empty() => f.write_str(variant),
            Dynamic::Enum { variant, fields: v } => {
                write!(f, "{variant} ")?;
                fields(f, v)
            }
            Dynamic::Struct(v) => fields(f, v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: &str = "definition T\nenum K\n  variant A ()\n  variant B (n: i16)\nstruct P\n  field x: f32\nmodel Owner\n  field a: String\n  field b: u8\n  primary key (a, b)\nmodel M\n  field id: u64\n  field s: String\n  field o: Option<i64>\n  field v: Vec<u16>\n  field arr: [bool; 2]\n  field m: BTreeMap<String, K>\n  field p: P\n  field owner: Owner\n  field raw: Bytes\n  field c: char\n  field big: u128\n  primary key (id)\n";

    /// Writes what the generated code would write for the record in `decodes_and_reencodes`.
    fn typed_bytes() -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.write(&300u64);
        w.write(&String::from("zürich"));
        w.write(&Some(-5i64));
        w.write(&vec![1u16, 700]);
        w.write(&[true, false]);
        w.write(&2u64);
        w.write(&String::from("a"));
        w.write(&0u32);
        w.write(&String::from("b"));
        w.write(&1u32);
        w.write(&-3i16);
        w.write(&1.5f32);
        w.write(&(String::from("o"), 7u8));
        w.write(&vec![0u8, 255]);
        w.write(&'東');
        w.write(&u128::MAX);
        out
    }

    #[test]
    fn decodes_and_reencodes_byte_for_byte() {
        let layout = Layout::parse(LAYOUT).unwrap();
        let model = layout.model("M").unwrap();
        let bytes = typed_bytes();
        let record = decode_record(&layout, model, &bytes).unwrap();
        assert_eq!(record[0], ("id".into(), Dynamic::Unsigned(300)));
        assert_eq!(record[5].1.to_string(), "{\"a\": A, \"b\": B { n: -3 }}");
        assert_eq!(record[7].1.to_string(), "[\"o\", 7]");
        let mut out = Vec::new();
        encode_record(&layout, model, &record, &mut out).unwrap();
        assert_eq!(out, bytes);
        // Truncated and trailing input are errors, never panics.
        for end in 0..bytes.len() {
            assert!(decode_record(&layout, model, &bytes[..end]).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_record(&layout, model, &longer).is_err());
    }

    #[test]
    fn integers_widen_and_out_of_range_is_an_error() {
        let layout = Layout::parse(LAYOUT).unwrap();
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        let i64_ty = TypeLayout::Scalar(Scalar::I64);
        assert!(encode(&layout, &i64_ty, &Dynamic::Unsigned(7), &mut w).is_ok());
        let u8_ty = TypeLayout::Scalar(Scalar::U8);
        let e = encode(&layout, &u8_ty, &Dynamic::Unsigned(300), &mut w).unwrap_err();
        assert!(e.contains("does not fit type `u8`"), "{e}");
        assert!(encode(&layout, &u8_ty, &Dynamic::Signed(-1), &mut w).is_err());
    }
}
