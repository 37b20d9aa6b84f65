//! Key types: `XPrimaryKey`, one `X<Field>SecondaryKey` per secondary key, and
//! `enum XSecondaryKeys`.

use super::key_parts::{bind_key_parts, part};
use super::{Ctx, docs, ident, types};
use crate::ir::{Field, Type};
use proc_macro2::TokenStream;
use quote::quote;

/// "`a`, `b`".
fn listed(fields: &[&Field]) -> String {
    fields
        .iter()
        .map(|f| format!("`{}`", f.name.schema))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn emit(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let m = model.name.rust.as_str();
    let pk_fields: Vec<_> = model.primary_key_fields().collect();
    let pk_doc = format!(
        "The primary key of [`{m}`]: {} {}.",
        if pk_fields.len() == 1 {
            "its field"
        } else {
            "its fields, in this order:"
        },
        listed(&pk_fields)
    );
    let primary_key = key_newtype(
        &ctx.names.primary_key,
        &pk_doc,
        pk_fields.iter().map(|f| &f.ty),
    );

    let secondary_keys = model
        .secondary_keys
        .iter()
        .zip(&ctx.names.keys)
        .map(|(k, names)| {
            let fields = model.key_fields(k);
            let optional = fields.iter().any(|f| matches!(f.ty, Type::Option(_)));
            let multi = fields.iter().find(|f| matches!(f.ty, Type::Vec(_)));
            let doc = format!(
                "A {} secondary key of [`{m}`] named `{}`: the value{} of its field{} {}{}{}.",
                if k.unique { "unique" } else { "non-unique" },
                k.name.schema,
                if fields.len() == 1 { "" } else { "s" },
                if fields.len() == 1 {
                    ""
                } else {
                    "s, in key order,"
                },
                listed(&fields),
                if optional {
                    " (a record is indexed only when its `Option` parts are `Some`)"
                } else {
                    ""
                },
                multi.map_or(String::new(), |f| format!(
                    "; multi-valued: a record is indexed under each element of `{}`",
                    f.name.schema
                )),
            );
            key_newtype(
                &names.type_name,
                &doc,
                fields.iter().map(|f| f.ty.indexed()),
            )
        });

    let enum_doc = docs([format!("Any secondary key of [`{m}`].").as_str()]);
    let float_key = model
        .secondary_keys
        .iter()
        .flat_map(|k| model.key_fields(k))
        .any(|f| f.ty.has_float());
    let derives = key_derives(float_key);
    let enum_name = ident(&ctx.names.secondary_keys);
    let variants = model
        .secondary_keys
        .iter()
        .zip(&ctx.names.keys)
        .map(|(k, names)| {
            let doc = docs([format!(
                "The secondary key `{}` (field{} {}).",
                k.name.schema,
                if k.fields.len() == 1 { "" } else { "s" },
                listed(&model.key_fields(k))
            )
            .as_str()]);
            let variant = ident(&names.variant);
            let ty = ident(&names.type_name);
            quote!(#doc #variant(#ty))
        });
    quote! {
        #primary_key
        #(#secondary_keys)*
        #enum_doc
        #derives
        pub enum #enum_name {
            #(#variants,)*
        }
    }
}

/// `pub fn secondary_keys(&self) -> Vec<XSecondaryKeys>`, a method of the model.
pub fn secondary_keys_method(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let enum_name = ident(&ctx.names.secondary_keys);
    let method = ident(crate::naming::SECONDARY_KEYS_METHOD);
    let doc = docs([
        "The secondary keys this record is indexed under, in schema order (an `Option` field that is `None` is not indexed; a multi-valued key over a `Vec` field gives one key per element).",
    ]);
    let keys: Vec<(bool, TokenStream, Vec<&Field>)> = model
        .secondary_keys
        .iter()
        .zip(&ctx.names.keys)
        .map(|(k, names)| {
            let fields = model.key_fields(k);
            // Plain parts are read from `self`; `Option` parts are bound first (a `None` means
            // the record is not under this key) and `Vec` parts are looped over (one key per
            // element).
            let values = fields.iter().enumerate().map(|(j, f)| {
                let field = ident(&f.name.rust);
                let part = part(j);
                let copy = types::is_copy(f.ty.indexed());
                match (&f.ty, copy) {
                    (Type::Option(_) | Type::Vec(_), true) => quote!(*#part),
                    (Type::Option(_) | Type::Vec(_), false) => {
                        quote!(::core::clone::Clone::clone(#part))
                    }
                    (_, true) => quote!(self.#field),
                    (_, false) => quote!(::core::clone::Clone::clone(&self.#field)),
                }
            });
            let variant = ident(&names.variant);
            let ty = ident(&names.type_name);
            let key = quote!(#enum_name::#variant(#ty(#(#values),*)));
            let bound = fields
                .iter()
                .any(|f| matches!(f.ty, Type::Option(_) | Type::Vec(_)));
            (!bound, key, fields)
        })
        .collect();
    // The leading keys that every record has start the vector (clippy prefers that to pushes
    // right after creation); the rest are pushed when present. `Vec::from([..])`, not
    // `vec![..]`: prettyplease lays out an array, but prints a macro's tokens as they come.
    let leading = keys.iter().take_while(|(plain, ..)| *plain).count();
    let first = keys[..leading].iter().map(|(_, key, _)| key);
    let start = if leading == 0 {
        quote!(::std::vec::Vec::new())
    } else {
        quote!(::std::vec::Vec::from([#(#first),*]))
    };
    let body = if leading == keys.len() {
        start
    } else {
        let pushes = keys[leading..]
            .iter()
            .map(|(_, key, fields)| bind_key_parts(fields, quote!(keys.push(#key);)));
        quote! {
            let mut keys = #start;
            #(#pushes)*
            keys
        }
    };
    quote! {
        #doc
        pub fn #method(&self) -> ::std::vec::Vec<#enum_name> {
            #body
        }
    }
}

/// The derives of key types: floats have no `Eq`, `Ord` or `Hash` in Rust (their keys still
/// sort by IEEE total order in the store).
fn key_derives(has_float: bool) -> TokenStream {
    if has_float {
        quote! {
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::cmp::PartialEq,
                ::core::cmp::PartialOrd
            )]
        }
    } else {
        quote! {
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::cmp::PartialEq,
                ::core::cmp::Eq,
                ::core::cmp::PartialOrd,
                ::core::cmp::Ord,
                ::core::hash::Hash
            )]
        }
    }
}

/// A key newtype over one or more fields, with its order-preserving encoding.
fn key_newtype<'a>(
    name: &str,
    doc: &str,
    parts: impl IntoIterator<Item = &'a Type>,
) -> TokenStream {
    let parts: Vec<&Type> = parts.into_iter().collect();
    let name = ident(name);
    let doc = docs([doc]);
    let derives = key_derives(parts.iter().any(|t| t.has_float()));
    let tys: Vec<TokenStream> = parts.iter().map(|t| types::owned(t)).collect();
    let from = match (tys.as_slice(), parts.as_slice()) {
        ([ty], [part]) => {
            let from_str = (**part == Type::String).then(|| {
                quote! {
                    impl ::core::convert::From<&str> for #name {
                        fn from(value: &str) -> Self {
                            Self(::std::string::ToString::to_string(value))
                        }
                    }
                }
            });
            quote! {
                impl ::core::convert::From<#ty> for #name {
                    fn from(value: #ty) -> Self {
                        Self(value)
                    }
                }
                #from_str
            }
        }
        _ => {
            let indices = (0..parts.len()).map(syn::Index::from);
            quote! {
                impl ::core::convert::From<(#(#tys),*)> for #name {
                    fn from(value: (#(#tys),*)) -> Self {
                        Self(#(value.#indices),*)
                    }
                }
            }
        }
    };
    let indices: Vec<syn::Index> = (0..parts.len()).map(syn::Index::from).collect();
    let decodes = parts.iter().map(|_| {
        quote!(::netabase_runtime::__codegen::codec::DecodeKey::decode_key(
            input
        )?)
    });
    quote! {
        #doc
        #derives
        pub struct #name(#(pub #tys),*);
        #from
        impl ::netabase_runtime::__codegen::codec::KeyPart for #name {
            fn encode_key(&self, out: &mut ::std::vec::Vec<u8>) {
                #(::netabase_runtime::__codegen::codec::KeyPart::encode_key(&self.#indices, out);)*
            }
        }
        impl ::netabase_runtime::__codegen::codec::DecodeKey for #name {
            fn decode_key(
                input: &mut &[u8],
            ) -> ::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError> {
                ::core::result::Result::Ok(Self(#(#decodes),*))
            }
        }
    }
}
