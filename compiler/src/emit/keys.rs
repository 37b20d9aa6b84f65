//! Key types: `XPrimaryKey`, one `X<Field>SecondaryKey` per secondary key, and
//! `enum XSecondaryKeys`.

use super::{Ctx, docs, ident, types};
use crate::ir::{Model, SecondaryKey, Type};
use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;

/// The name of a secondary key's type: `CityCountryCodeSecondaryKey`.
pub fn secondary_key_type_name(model: &Model, key: &SecondaryKey) -> String {
    let field = crate::names::bare(&model.fields[key.fields[0]].name.rust).to_upper_camel_case();
    format!("{}{field}SecondaryKey", model.name.rust)
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
        let f = &model.fields[k.fields[0]];
        let name = ident(&secondary_key_type_name(model, k));
        let doc = format!(
            "A {} secondary key of [`{}`]: the value of its field `{}`{}.",
            if k.unique { "unique" } else { "non-unique" },
            model.name.rust,
            f.name.schema,
            if matches!(f.ty, Type::Option(_)) {
                " when it is `Some`"
            } else {
                ""
            },
        );
        key_newtype(&name, &doc, [types::indexed(&f.ty)])
    });

    let enum_name = ctx.model_ident("SecondaryKeys");
    let enum_doc = docs([format!("Any secondary key of [`{}`].", model.name.rust).as_str()]);
    let variants = model.secondary_keys.iter().map(|k| {
        let f = &model.fields[k.fields[0]];
        let variant = ident(&crate::names::bare(&f.name.rust).to_upper_camel_case());
        let ty = ident(&secondary_key_type_name(model, k));
        let doc = docs([format!("The secondary key on field `{}`.", f.name.schema).as_str()]);
        quote!(#doc #variant(#ty),)
    });
    quote! {
        #primary
        #(#secondary)*
        #enum_doc
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::cmp::PartialOrd, ::core::cmp::Ord, ::core::hash::Hash)]
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
        "The secondary keys this record is indexed under, in schema order (an `Option` field that is `None` is not indexed).",
    ]);
    let body = if model.secondary_keys.is_empty() {
        quote!(::std::vec::Vec::new())
    } else {
        let keys = model.secondary_keys.iter().map(|k| {
            let f = &model.fields[k.fields[0]];
            let field = ident(&f.name.rust);
            let variant = ident(&crate::names::bare(&f.name.rust).to_upper_camel_case());
            let ty = ident(&secondary_key_type_name(model, k));
            let copy = types::is_copy(types::indexed(&f.ty));
            match &f.ty {
                Type::Option(_) => {
                    let value = if copy {
                        quote!(*value)
                    } else {
                        quote!(::core::clone::Clone::clone(value))
                    };
                    quote!(self.#field.as_ref().map(|value| #enum_name::#variant(#ty(#value))))
                }
                _ => {
                    let value = if copy {
                        quote!(self.#field)
                    } else {
                        quote!(::core::clone::Clone::clone(&self.#field))
                    };
                    quote!(::core::option::Option::Some(#enum_name::#variant(#ty(#value))))
                }
            }
        });
        quote!([#(#keys),*].into_iter().flatten().collect())
    };
    quote! {
        #doc
        pub fn secondary_keys(&self) -> ::std::vec::Vec<#enum_name> {
            #body
        }
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
    let decodes = parts
        .iter()
        .map(|_| quote!(::netabase::codec::DecodeKey::decode_key(input)?));
    quote! {
        #doc
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::cmp::PartialOrd, ::core::cmp::Ord, ::core::hash::Hash)]
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
