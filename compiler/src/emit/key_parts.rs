//! The bodies that walk a record's key parts (`Option` parts bound, `Vec` parts looped over),
//! shared by the model, its view and the `secondary_keys` method.

use super::ident;
use crate::ir::{Field, Model, Type};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// The body of `index_keys`, shared by the model and its view: both have the same field names,
/// and `KeyPart` is implemented for the owned and the borrowed forms alike. An `Option` part
/// that is `None` means no key; a `Vec` part (a multi-valued key) means one key per element.
pub fn index_keys_body(model: &Model) -> TokenStream {
    let push = |fields: &[&Field]| {
        let parts = fields.iter().enumerate().map(|(j, f)| match f.ty {
            Type::Option(_) | Type::Vec(_) => {
                let part = part(j);
                quote!(#part)
            }
            _ => {
                let field = ident(&f.name.rust);
                quote!(&self.#field)
            }
        });
        bind_key_parts(
            fields,
            quote! {
                keys.push(|out| {
                    #(::netabase_runtime::__codegen::codec::KeyPart::encode_key(#parts, out);)*
                });
            },
        )
    };
    match model.secondary_keys.as_slice() {
        [] => quote!(let _ = (index, keys);),
        // One key: an early return (clippy objects to a one-armed `match`, and to an `if`
        // around an `if let`).
        [key] => {
            let push = push(&model.key_fields(key));
            quote! {
                if index != 0 {
                    return;
                }
                #push
            }
        }
        keys => {
            let arms = keys.iter().enumerate().map(|(i, k)| {
                let i = Literal::usize_unsuffixed(i);
                let push = push(&model.key_fields(k));
                quote!(#i => { #push })
            });
            quote! {
                match index {
                    #(#arms)*
                    _ => {}
                }
            }
        }
    }
}

/// `body` inside the bindings of a key's optional and multi-valued parts: `part{j}` is bound by
/// `if let Some(..)` for an `Option` field and by `for` for a `Vec` field (one key per element),
/// innermost last.
pub fn bind_key_parts(fields: &[&Field], body: TokenStream) -> TokenStream {
    let mut body = body;
    for (j, f) in fields.iter().enumerate().rev() {
        let field = ident(&f.name.rust);
        let part = part(j);
        body = match f.ty {
            Type::Option(_) => quote! {
                if let ::core::option::Option::Some(#part) = &self.#field {
                    #body
                }
            },
            Type::Vec(_) => quote! {
                for #part in &self.#field {
                    #body
                }
            },
            _ => continue,
        };
    }
    body
}

/// The local bound to the `j`th part of a key: `part0`. (Generated locals never take a user's
/// name: a field bound under its own name could shadow `keys` or `out`.)
pub fn part(j: usize) -> proc_macro2::Ident {
    format_ident!("part{j}")
}
