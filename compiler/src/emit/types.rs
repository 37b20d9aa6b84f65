//! Rust spellings of schema types, as tokens: owned, viewed (borrowed from the page) and as key
//! arguments.

use super::ident;
use crate::ir::Type;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

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

/// The owned type: `::std::string::String`, `::core::option::Option<u64>`...
pub fn owned(ty: &Type) -> TokenStream {
    spell(ty, &owned_leaf)
}

/// The type in a zero-copy view, borrowing for `'a`: `&'a str`, `&'a [u8]`. Enums and structs
/// are decoded owned inside a view: only strings and bytes borrow.
pub fn viewed(ty: &Type) -> TokenStream {
    spell(ty, &|leaf| match leaf {
        Type::String => quote!(&'a str),
        Type::Bytes => quote!(&'a [u8]),
        other => owned_leaf(other),
    })
}

/// A type that holds no other: a scalar, `String`, `Bytes`, an enum or a struct, owned.
fn owned_leaf(ty: &Type) -> TokenStream {
    match ty {
        Type::Scalar(s) => {
            let s = format_ident!("{}", s.name());
            quote!(#s)
        }
        Type::String => quote!(::std::string::String),
        Type::Bytes => quote!(::std::vec::Vec<u8>),
        Type::Enum(n) | Type::Struct(n) => {
            let n = ident(&n.rust);
            quote!(#n)
        }
        container => owned(container),
    }
}

/// The Rust type: its containers (`Option`, `Vec`, arrays, maps, tuples, a link's key) spelled
/// out, each type they hold down to the leaves spelled by `leaf`.
fn spell(ty: &Type, leaf: &dyn Fn(&Type) -> TokenStream) -> TokenStream {
    match ty {
        Type::Option(inner) => {
            let inner = spell(inner, leaf);
            quote!(::core::option::Option<#inner>)
        }
        Type::Vec(inner) => {
            let inner = spell(inner, leaf);
            quote!(::std::vec::Vec<#inner>)
        }
        Type::Array(inner, len) => {
            let inner = spell(inner, leaf);
            let len = Literal::usize_unsuffixed(*len);
            quote!([#inner; #len])
        }
        Type::Map(k, v) => {
            let (k, v) = (spell(k, leaf), spell(v, leaf));
            quote!(::std::collections::BTreeMap<#k, #v>)
        }
        Type::Link(l) => spell(&l.key, leaf),
        Type::Tuple(parts) => {
            let parts = parts.iter().map(|p| spell(p, leaf));
            quote!((#(#parts),*))
        }
        Type::Scalar(_) | Type::String | Type::Bytes | Type::Enum(_) | Type::Struct(_) => leaf(ty),
    }
}

/// The type a query method takes for a key of this type: by value for scalars, `&str` for
/// strings (`&'k str` with `named`, inside a generic bound).
pub fn key_argument(ty: &Type, named: bool) -> TokenStream {
    match ty {
        Type::String if named => quote!(&'k str),
        Type::String => quote!(&str),
        Type::Link(l) => key_argument(&l.key, named),
        Type::Tuple(parts) => {
            let parts = parts.iter().map(|p| key_argument(p, named));
            quote!((#(#parts),*))
        }
        other => owned(other),
    }
}

/// The primary key of `model` as query methods take it: `u64`, `&'k str`, `(&'k str, i32)`.
pub fn primary_key_argument(model: &crate::ir::Model) -> TokenStream {
    let tys: Vec<TokenStream> = model
        .primary_key_fields()
        .map(|f| key_argument(&f.ty, true))
        .collect();
    match tys.as_slice() {
        [only] => only.clone(),
        _ => quote!((#(#tys),*)),
    }
}
