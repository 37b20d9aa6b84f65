//! Key encoding without generated code: the order-preserving bytes of a [`Dynamic`] value of a
//! stored type, and the secondary keys of a decoded record, exactly as the generated
//! `KeyPart` impls and `index_keys` bodies write them. What a schema-less migration
//! (`migrate/file.rs`) builds index tables with.
//!
//! The byte format is defined once, in `key.rs`: scalars and strings go through the same
//! [`KeyPart`] impls the generated code calls. The rest mirrors what `netabase-build` emits:
//! an enum is its variant's position as a `u32` key, then that variant's fields in order; a
//! tuple (a link to a composite primary key) is its parts concatenated; a link is the linked
//! model's primary key. A key part that is an `Option` gives no key when `None`; a `Vec` part
//! gives one key per element (a multi-valued key).

use super::KeyPart;
use super::dynamic::{Dynamic, Named, Record, ScalarSink, named, scalar, variant_of};
use crate::layout::{KeyLayout, Layout, ModelLayout, TypeLayout};

/// Appends scalars by their [`KeyPart`] encoding.
struct KeySink<'a>(&'a mut Vec<u8>);

impl ScalarSink for KeySink<'_> {
    fn put<T: super::Value + KeyPart>(&mut self, value: &T) {
        value.encode_key(self.0);
    }
}

/// Checks that every part of `key` (a secondary key of `model`) can be encoded here: a key
/// type, an `Option` of one, or a `Vec` of one. `Err` says which part cannot, in words.
pub(crate) fn check_index(
    layout: &Layout,
    model: &ModelLayout,
    key: &KeyLayout,
) -> Result<(), String> {
    for name in &key.fields {
        let field = model
            .fields
            .iter()
            .find(|f| f.name == *name)
            .ok_or_else(|| {
                format!(
                    "key `{}` of `{}` names no field `{name}`",
                    key.name, model.name
                )
            })?;
        let part = match &field.ty {
            TypeLayout::Option(t) | TypeLayout::Vec(t) => t,
            t => t,
        };
        check_key_type(layout, part, &mut Vec::new()).map_err(|why| {
            format!(
                "key `{}` of `{}`: field `{name}` of type `{}` {why}",
                key.name, model.name, field.ty
            )
        })?;
    }
    Ok(())
}

/// Whether a value of type `ty` can be a key part (`seen`: the named types being looked at,
/// which stops a type that holds itself).
fn check_key_type(layout: &Layout, ty: &TypeLayout, seen: &mut Vec<String>) -> Result<(), String> {
    match ty {
        TypeLayout::Scalar(_) | TypeLayout::String => Ok(()),
        TypeLayout::Tuple(parts) => parts
            .iter()
            .try_for_each(|t| check_key_type(layout, t, seen)),
        TypeLayout::Named(name) => {
            if seen.contains(name) {
                return Err(format!("holds `{name}` inside itself, which no key can"));
            }
            seen.push(name.clone());
            let checked = match named(layout, name)? {
                Named::Struct(_) => Err(format!(
                    "holds the struct `{name}`, which is not a key type"
                )),
                Named::Link(key) => check_key_type(layout, &key, seen),
                Named::Enum(e) => e
                    .variants
                    .iter()
                    .flat_map(|v| &v.fields)
                    .try_for_each(|f| check_key_type(layout, &f.ty, seen)),
            };
            seen.pop();
            checked
        }
        other => Err(format!("holds `{other}`, which is not a key type")),
    }
}

/// Appends the order-preserving key encoding of `value`, a value of type `ty`.
pub(crate) fn encode_key(
    layout: &Layout,
    ty: &TypeLayout,
    value: &Dynamic,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mismatch = || format!("{value} is not a key of type `{ty}`");
    match (ty, value) {
        (TypeLayout::Scalar(s), value) => scalar(*s, value, &mut KeySink(out)).ok_or_else(mismatch),
        (TypeLayout::String, Dynamic::String(s)) => {
            s.as_str().encode_key(out);
            Ok(())
        }
        (TypeLayout::Tuple(parts), Dynamic::List(items)) if parts.len() == items.len() => parts
            .iter()
            .zip(items)
            .try_for_each(|(t, item)| encode_key(layout, t, item, out)),
        (TypeLayout::Named(name), value) => match (named(layout, name)?, value) {
            (Named::Link(key), value) => encode_key(layout, &key, value, out),
            (Named::Enum(e), Dynamic::Enum { variant, fields }) => {
                let (tag, v) = variant_of(e, variant)?;
                tag.encode_key(out);
                for field in &v.fields {
                    let (_, value) =
                        fields
                            .iter()
                            .find(|(n, _)| *n == field.name)
                            .ok_or_else(|| {
                                format!("variant `{variant}` has no field `{}`", field.name)
                            })?;
                    encode_key(layout, &field.ty, value, out)?;
                }
                Ok(())
            }
            _ => Err(mismatch()),
        },
        _ => Err(mismatch()),
    }
}

/// The keys of secondary key `key` for `record` (a record of `model`, decoded by `layout`),
/// sorted and without duplicates, as the generated `index_keys` gives them: none when an
/// `Option` part is `None`, one per element (per combination) for a `Vec` part.
pub(crate) fn index_keys(
    layout: &Layout,
    model: &ModelLayout,
    key: &KeyLayout,
    record: &Record,
) -> Result<Vec<Vec<u8>>, String> {
    // Every combination of the parts' values so far, each encoded.
    let mut keys: Vec<Vec<u8>> = vec![Vec::new()];
    for name in &key.fields {
        let ty = model
            .fields
            .iter()
            .find(|f| f.name == *name)
            .map(|f| &f.ty)
            .ok_or_else(|| format!("key `{}` names no field `{name}`", key.name))?;
        let value = record
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("the record has no field `{name}`"))?;
        let (part_ty, values): (&TypeLayout, Vec<&Dynamic>) = match (ty, value) {
            (TypeLayout::Option(t), Dynamic::Option(v)) => (t, v.iter().map(|v| &**v).collect()),
            (TypeLayout::Vec(t), Dynamic::List(items)) => (t, items.iter().collect()),
            (TypeLayout::Option(_) | TypeLayout::Vec(_), _) => {
                return Err(format!("{value} is not a value of type `{ty}`"));
            }
            (t, v) => (t, vec![v]),
        };
        let mut next = Vec::with_capacity(keys.len() * values.len());
        for prefix in &keys {
            for value in &values {
                let mut key = prefix.clone();
                encode_key(layout, part_ty, value, &mut key)?;
                next.push(key);
            }
        }
        keys = next;
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::KeyPart;

    const LAYOUT: &str = "definition T\nenum P\n  variant Low ()\n  variant Custom (level: i32, note: String)\nstruct S\n  field x: u8\nmodel Owner\n  field a: String\n  field b: u8\n  primary key (a, b)\nmodel M\n  field id: u64\n  field p: P\n  field owner: Owner\n  field tags: Vec<String>\n  field code: Option<u16>\n  field s: S\n  primary key (id)\n  index key mixed (code, tags)\n  index key p (p)\n  index key owner (owner)\n  index key s (s)\n";

    fn key(layout: &Layout, name: &str) -> KeyLayout {
        let model = layout.model("M").unwrap();
        model.keys.iter().find(|k| k.name == name).unwrap().clone()
    }

    fn typed<K: KeyPart>(k: K) -> Vec<u8> {
        let mut out = Vec::new();
        k.encode_key(&mut out);
        out
    }

    #[test]
    fn keys_match_the_typed_encoding() {
        let layout = Layout::parse(LAYOUT).unwrap();
        let m = layout.model("M").unwrap();
        let s = |t: &str| Dynamic::String(t.to_owned());
        let record: Record = vec![
            ("id".into(), Dynamic::Unsigned(1)),
            (
                "p".into(),
                Dynamic::Enum {
                    variant: "Custom".into(),
                    fields: vec![
                        ("level".into(), Dynamic::Signed(-3)),
                        ("note".into(), s("a\0b")),
                    ],
                },
            ),
            (
                "owner".into(),
                Dynamic::List(vec![s("o"), Dynamic::Unsigned(7)]),
            ),
            ("tags".into(), Dynamic::List(vec![s("b"), s("a"), s("b")])),
            (
                "code".into(),
                Dynamic::Option(Some(Box::new(Dynamic::Unsigned(9)))),
            ),
            (
                "s".into(),
                Dynamic::Struct(vec![("x".into(), Dynamic::Unsigned(1))]),
            ),
        ];
        assert_eq!(
            index_keys(&layout, m, &key(&layout, "p"), &record).unwrap(),
            [typed((1u32, -3i32, "a\0b"))]
        );
        assert_eq!(
            index_keys(&layout, m, &key(&layout, "owner"), &record).unwrap(),
            [typed(("o", 7u8))]
        );
        // One key per distinct element, sorted; a `None` part gives none.
        assert_eq!(
            index_keys(&layout, m, &key(&layout, "mixed"), &record).unwrap(),
            [typed((9u16, "a")), typed((9u16, "b"))]
        );
        let mut none = record.clone();
        none[4].1 = Dynamic::Option(None);
        assert!(
            index_keys(&layout, m, &key(&layout, "mixed"), &none)
                .unwrap()
                .is_empty()
        );
        // A struct is no key type: refused before anything is encoded.
        assert!(check_index(&layout, m, &key(&layout, "p")).is_ok());
        let why = check_index(&layout, m, &key(&layout, "s")).unwrap_err();
        assert!(why.contains("struct `S`"), "{why}");
    }
}
