//! Rust spellings of schema types: owned, viewed (borrowed from the page) and as key arguments.

use crate::ir::Type;

/// Whether the key argument of this type borrows (a `&'k str` somewhere), so methods taking it
/// in a generic bound need the `'k` lifetime.
pub fn key_argument_borrows(ty: &Type) -> bool {
    match ty {
        Type::String => true,
        Type::Link(l) => key_argument_borrows(&l.key),
        Type::Tuple(parts) => parts.iter().any(key_argument_borrows),
        _ => false,
    }
}

/// Whether a view of this type borrows from the page (and so needs the `'a` lifetime).
pub fn borrows(ty: &Type) -> bool {
    match ty {
        Type::Scalar(_) => false,
        Type::String | Type::Bytes => true,
        Type::Option(inner) | Type::Vec(inner) | Type::Array(inner, _) => borrows(inner),
        Type::Map(k, v) => borrows(k) || borrows(v),
        Type::Enum(_) | Type::Struct(_) => false,
        Type::Link(l) => borrows(&l.key),
        Type::Tuple(parts) => parts.iter().any(borrows),
    }
}

/// Whether the owned type is `Copy` (so it is copied, not cloned).
pub fn is_copy(ty: &Type) -> bool {
    match ty {
        Type::Scalar(_) => true,
        Type::Option(inner) | Type::Array(inner, _) => is_copy(inner),
        Type::String
        | Type::Bytes
        | Type::Vec(_)
        | Type::Map(..)
        | Type::Enum(_)
        | Type::Struct(_) => false,
        Type::Link(l) => is_copy(&l.key),
        Type::Tuple(parts) => parts.iter().all(is_copy),
    }
}

/// The key type of a secondary key on this field type: `Option<T>` is indexed as `T`, and so
/// is each element of a `Vec<T>` (a multi-valued key).
pub fn indexed(ty: &Type) -> &Type {
    match ty {
        Type::Option(inner) | Type::Vec(inner) => inner,
        other => other,
    }
}

/// The owned type as source text: `::std::string::String`, `::core::option::Option<u64>`...
pub fn owned_text(ty: &Type) -> String {
    match ty {
        Type::Scalar(s) => s.name().to_owned(),
        Type::String => "::std::string::String".to_owned(),
        Type::Bytes => "::std::vec::Vec<u8>".to_owned(),
        Type::Option(inner) => format!("::core::option::Option<{}>", owned_text(inner)),
        Type::Vec(inner) => format!("::std::vec::Vec<{}>", owned_text(inner)),
        Type::Array(inner, len) => format!("[{}; {len}]", owned_text(inner)),
        Type::Map(k, v) => format!(
            "::std::collections::BTreeMap<{}, {}>",
            owned_text(k),
            owned_text(v)
        ),
        Type::Enum(n) | Type::Struct(n) => n.rust.clone(),
        Type::Link(l) => owned_text(&l.key),
        Type::Tuple(parts) => format!(
            "({})",
            parts.iter().map(owned_text).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The type a query method takes for a key of this type, as source text: by value for
/// scalars, `&str` for strings (`&'k str` with `named`, inside a generic bound).
pub fn key_argument_text(ty: &Type, named: bool) -> String {
    match ty {
        Type::String if named => "&'k str".to_owned(),
        Type::String => "&str".to_owned(),
        Type::Link(l) => key_argument_text(&l.key, named),
        Type::Tuple(parts) => format!(
            "({})",
            parts
                .iter()
                .map(|p| key_argument_text(p, named))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => owned_text(other),
    }
}
