//! Key types: `XPrimaryKey`, one `X<Field>SecondaryKey` per secondary key, and
//! `enum XSecondaryKeys`.

use super::{Ctx, docs, ident, types};
use crate::ir::{Model, SecondaryKey, Type};
use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;

/// The name of a secondary key's type: `CityCountryCodeSecondaryKey`.
pub fn secondary_key_type_name(model: &Model, key: &SecondaryKey) -> String {
    format!("{}{}SecondaryKey", model.name.rust, variant_name(key))
}

/// The `XSecondaryKeys` variant of a key: `CountryCode`.
fn variant_name(key: &SecondaryKey) -> String {
    crate::names::bare(&key.name.rust).to_upper_camel_case()
}

/// "`a`, `b`".
fn listed(fields: &[&crate::ir::Field]) -> String {
    fields
        .iter()
        .map(|f| format!("`{}`", f.name.schema))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn emit(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let pk_fields: Vec<_> = model.primary_key_fields().collect();
    let pk_names: Vec<String> = pk_fields
        .iter()
        .map(|f| format!("`{}`", f.name.schema))
        .collect();
    let pk_doc = format!(
        "The primary key of [`{}`]: {} {}.",
        model.name.rust,
        if pk_fields.len() == 1 {
            "its field"
        } else {
            "its fields, in this order:"
        },
        pk_names.join(", ")
    );
    let primary = key_newtype(
        &ctx.model_ident("PrimaryKey"),
        &pk_doc,
        pk_fields.iter().map(|f| &f.ty),
    );

    let secondary = model.secondary_keys.iter().map(|k| {
        let fields = model.key_fields(k);
        let name = ident(&secondary_key_type_name(model, k));
        let optional = fields.iter().any(|f| matches!(f.ty, Type::Option(_)));
        let multi = fields.iter().find(|f| matches!(f.ty, Type::Vec(_)));
        let doc = format!(
            "A {} secondary key of [`{}`] named `{}`: the value{} of its field{} {}{}{}.",
            if k.unique { "unique" } else { "non-unique" },
            model.name.rust,
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
        key_newtype(&name, &doc, fields.iter().map(|f| types::indexed(&f.ty)))
    });

    let enum_name = ctx.model_ident("SecondaryKeys");
    let enum_doc = docs([format!("Any secondary key of [`{}`].", model.name.rust).as_str()]);
    let variants = model.secondary_keys.iter().map(|k| {
        let variant = ident(&variant_name(k));
        let ty = ident(&secondary_key_type_name(model, k));
        let doc = docs([format!(
            "The secondary key `{}` (field{} {}).",
            k.name.schema,
            if k.fields.len() == 1 { "" } else { "s" },
            listed(&model.key_fields(k))
        )
        .as_str()]);
        quote!(#doc #variant(#ty),)
    });
    let float_key = model
        .secondary_keys
        .iter()
        .flat_map(|k| model.key_fields(k))
        .any(|f| f.ty.has_float());
    let enum_derive = key_derives(float_key);
    quote! {
        #primary
        #(#secondary)*
        #enum_doc
        #enum_derive
        pub enum #enum_name {
            #(#variants)*
        }
    }
}

/// `pub fn secondary_keys(&self) -> Vec<XSecondaryKeys>` on the model.
pub fn secondary_keys_method(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let enum_name = ctx.model_ident("SecondaryKeys");
    let doc = docs([
        "The secondary keys this record is indexed under, in schema order (an `Option` field that is `None` is not indexed; a multi-valued key over a `Vec` field gives one key per element).",
    ]);
    let body = if model.secondary_keys.is_empty() {
        quote!(::std::vec::Vec::new())
    } else {
        let keys = model.secondary_keys.iter().map(|k| {
            let variant = ident(&variant_name(k));
            let ty = ident(&secondary_key_type_name(model, k));
            let fields = model.key_fields(k);
            // Plain parts are read from `self`; `Option` parts are bound first (a `None` means
            // the record is not under this key) and `Vec` parts are looped over (one key per
            // element).
            let values = fields.iter().enumerate().map(|(j, f)| {
                let field = ident(&f.name.rust);
                let copy = types::is_copy(types::indexed(&f.ty));
                let part = quote::format_ident!("part{j}");
                match (&f.ty, copy) {
                    (Type::Option(_) | Type::Vec(_), true) => quote!(*#part),
                    (Type::Option(_) | Type::Vec(_), false) => {
                        quote!(::core::clone::Clone::clone(#part))
                    }
                    (_, true) => quote!(self.#field),
                    (_, false) => quote!(::core::clone::Clone::clone(&self.#field)),
                }
            });
            let key = quote!(#enum_name::#variant(#ty(#(#values),*)));
            let (body, bound) = super::model::bind_key_parts(&fields, quote!(keys.push(#key);));
            (!bound, key, body)
        });
        let keys: Vec<_> = keys.collect();
        // The leading keys that every record has start the vector (clippy prefers `vec![..]`
        // to pushes right after creation); the rest are pushed when present.
        let leading = keys.iter().take_while(|(plain, ..)| *plain).count();
        let first = keys[..leading].iter().map(|(_, key, _)| key);
        let rest = keys[leading..].iter().map(|(_, _, push)| push);
        if leading == keys.len() {
            quote!(::std::vec![#(#first),*])
        } else {
            quote! {
                let mut keys = ::std::vec![#(#first),*];
                #(#rest)*
                keys
            }
        }
    };
    quote! {
        #doc
        pub fn secondary_keys(&self) -> ::std::vec::Vec<#enum_name> {
            #body
        }
    }
}

/// The derives of key types: floats have no `Eq`, `Ord` or `Hash` in Rust (their keys still
/// sort by IEEE total order in the store).
fn key_derives(has_float: bool) -> TokenStream {
    if has_float {
        quote!(#[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, ::core::cmp::PartialOrd)])
    } else {
        quote!(#[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::cmp::PartialOrd, ::core::cmp::Ord, ::core::hash::Hash)])
    }
}

/// A key newtype over one or more fields, with its order-preserving encoding.
fn key_newtype<'a>(
    name: &proc_macro2::Ident,
    doc: &str,
    parts: impl IntoIterator<Item = &'a Type>,
) -> TokenStream {
    let parts: Vec<&Type> = parts.into_iter().collect();
    let doc = docs([doc]);
    let tys: Vec<_> = parts.iter().map(|t| types::owned(t)).collect();
    let positions: Vec<_> = (0..parts.len()).map(syn::Index::from).collect();
    let from = if parts.len() == 1 {
        let ty = &tys[0];
        let from_str = matches!(parts[0], Type::String).then(|| {
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
    } else {
        quote! {
            impl ::core::convert::From<(#(#tys),*)> for #name {
                fn from(value: (#(#tys),*)) -> Self {
                    Self(#(value.#positions),*)
                }
            }
        }
    };
    let derive = key_derives(parts.iter().any(|t| t.has_float()));
    let decodes = parts
        .iter()
        .map(|_| quote!(::netabase::codec::DecodeKey::decode_key(input)?));
    quote! {
        #doc
        #derive
        pub struct #name(#(pub #tys),*);

        #from

        impl ::netabase::codec::KeyPart for #name {
            fn encode_key(&self, out: &mut ::std::vec::Vec<u8>) {
                #(::netabase::codec::KeyPart::encode_key(&self.#positions, out);)*
            }
        }

        impl ::netabase::codec::DecodeKey for #name {
            fn decode_key(input: &mut &[u8]) -> ::core::result::Result<Self, ::netabase::codec::DecodeError> {
                ::core::result::Result::Ok(Self(#(#decodes),*))
            }
        }
    }
}
