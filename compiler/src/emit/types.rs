//! Rust spellings of schema types: owned, viewed (borrowed from the page) and as key arguments.

use crate::ir::{Scalar, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The owned type: `::std::string::String`, `::core::option::Option<u64>`...
pub fn owned(ty: &Type) -> TokenStream {
    match ty {
        Type::Scalar(s) => scalar(*s),
        Type::String => quote!(::std::string::String),
        Type::Bytes => quote!(::std::vec::Vec<u8>),
        Type::Option(inner) => {
            let inner = owned(inner);
            quote!(::core::option::Option<#inner>)
        }
        Type::Vec(inner) => {
            let inner = owned(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        Type::Array(inner, len) => {
            let inner = owned(inner);
            let len = proc_macro2::Literal::usize_unsuffixed(*len);
            quote!([#inner; #len])
        }
        Type::Map(k, v) => {
            let (k, v) = (owned(k), owned(v));
            quote!(::std::collections::BTreeMap<#k, #v>)
        }
        Type::Enum(n) | Type::Struct(n) => {
            let name = super::ident(&n.rust);
            quote!(#name)
        }
        Type::Link(l) => owned(&l.key),
    }
}

/// The type in a zero-copy view, borrowing for `'a`: `&'a str`, `&'a [u8]`.
pub fn view(ty: &Type) -> TokenStream {
    match ty {
        Type::Scalar(s) => scalar(*s),
        Type::String => quote!(&'a str),
        Type::Bytes => quote!(&'a [u8]),
        Type::Option(inner) => {
            let inner = view(inner);
            quote!(::core::option::Option<#inner>)
        }
        Type::Vec(inner) => {
            let inner = view(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        Type::Array(inner, len) => {
            let inner = view(inner);
            let len = proc_macro2::Literal::usize_unsuffixed(*len);
            quote!([#inner; #len])
        }
        Type::Map(k, v) => {
            let (k, v) = (view(k), view(v));
            quote!(::std::collections::BTreeMap<#k, #v>)
        }
        // Enums and structs are decoded owned inside a view: only strings and bytes borrow.
        Type::Enum(_) | Type::Struct(_) => owned(ty),
        Type::Link(l) => view(&l.key),
    }
}

/// The type a query method takes for a key of this type: by value for scalars, `&str` for
/// strings (no allocation to look something up).
pub fn key_argument(ty: &Type) -> TokenStream {
    match ty {
        Type::String => quote!(&str),
        Type::Link(l) => key_argument(&l.key),
        other => owned(other),
    }
}

/// As [`key_argument`], inside a generic bound (`impl RangeBounds<&'k str>`), where the
/// lifetime must be named.
pub fn key_argument_named(ty: &Type) -> TokenStream {
    match ty {
        Type::String => quote!(&'k str),
        Type::Link(l) => key_argument_named(&l.key),
        other => owned(other),
    }
}

/// `<'k>` when any of these key types borrows, for methods that use [`key_argument_named`].
pub fn key_lifetime<'a>(tys: impl IntoIterator<Item = &'a Type>) -> TokenStream {
    if tys
        .into_iter()
        .any(|t| matches!(t.link().map_or(t, |l| &*l.key), Type::String))
    {
        quote!(<'k>)
    } else {
        quote!()
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

fn scalar(s: Scalar) -> TokenStream {
    let name = format_ident!("{}", s.name());
    quote!(#name)
}
