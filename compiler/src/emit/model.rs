//! The model struct and its `::netabase::Model` implementation.

use super::{Ctx, EmitOptions, ident, keys, schema_docs, types};
use crate::ir::{Field, Model, Type};
use proc_macro2::TokenStream;
use quote::quote;

pub fn emit(ctx: &Ctx<'_>, options: &EmitOptions<'_>) -> TokenStream {
    let model = ctx.model;
    let name = ident(&model.name.rust);
    let schema_name = &model.name.schema;
    let definition = ident(&ctx.schema.definition.name.rust);
    let table = model_table(ctx);
    let doc = schema_docs(
        model.doc.as_deref(),
        [format!(
            "A record of model `{schema_name}`, stored in table `{table}`. {}",
            ctx.origin(model.line)
        )
        .as_str()],
    );
    let fields = model.fields.iter().map(|f| {
        let field = ident(&f.name.rust);
        let ty = types::owned(&f.ty);
        let doc = schema_docs(
            f.doc.as_deref(),
            [format!(
                "`{}`: `{}`. {}",
                f.name.schema,
                f.ty.spelling(),
                ctx.origin(f.line)
            )
            .as_str()],
        );
        quote! { #doc pub #field: #ty, }
    });
    let mut derives = vec![
        quote!(::core::fmt::Debug),
        quote!(::core::clone::Clone),
        quote!(::core::cmp::PartialEq),
    ];
    if !model.fields.iter().any(|f| f.ty.has_float()) {
        derives.push(quote!(::core::cmp::Eq));
    }
    if options.serde {
        derives.push(quote!(::serde::Serialize));
        derives.push(quote!(::serde::Deserialize));
    }
    derives.extend(options.extra_derives.iter().map(|p| quote!(#p)));

    let field_idents: Vec<_> = model.fields.iter().map(|f| ident(&f.name.rust)).collect();
    let primary_key = ctx.model_ident("PrimaryKey");
    let view = ctx.model_ident("Ref");
    let tree = ctx.model_ident("Tree");
    let pk_values = model.primary_key_fields().map(|f| {
        let field = ident(&f.name.rust);
        if types::is_copy(&f.ty) {
            quote!(self.#field)
        } else {
            quote!(::core::clone::Clone::clone(&self.#field))
        }
    });
    let pk_encode = model.primary_key_fields().map(|f| {
        let field = ident(&f.name.rust);
        quote!(::netabase::codec::KeyPart::encode_key(&self.#field, out);)
    });
    let index_defs = model.secondary_keys.iter().map(|k| {
        let name = &k.name.schema;
        let table = ctx.schema.index_table(model, k);
        let unique = k.unique;
        quote!(::netabase::IndexDef { field: #name, table: #table, unique: #unique })
    });
    let stored_key = match model.primary_key_width() {
        Some(width) => {
            let width = proc_macro2::Literal::usize_unsuffixed(width);
            quote!(::netabase::Fixed<#width>)
        }
        None => quote!(&'static [u8]),
    };
    let index_keys = index_keys_body(model);
    let describe = describe_body(model);
    let secondary_keys = keys::secondary_keys_method(ctx);
    let links = super::links::model_constants(ctx);
    let key_arg = primary_key_argument(model);

    quote! {
        #doc
        #[derive(#(#derives),*)]
        pub struct #name {
            #(#fields)*
        }

        impl #name {
            #secondary_keys
        }

        impl ::netabase::Model for #name {
            type Definition = #definition;
            type PrimaryKey = #primary_key;
            type StoredKey = #stored_key;
            type KeyArg<'k> = #key_arg;
            type Ref<'a> = #view<'a>;
            type Tree<A> = #tree<A>;
            const NAME: &'static str = #schema_name;
            const TABLE: &'static str = #table;
            const INDEXES: &'static [::netabase::IndexDef] = &[#(#index_defs),*];
            #links

            fn primary_key(&self) -> #primary_key {
                #primary_key(#(#pk_values),*)
            }

            fn encode_primary_key(&self, out: &mut ::std::vec::Vec<u8>) {
                #(#pk_encode)*
            }

            fn encode(&self, out: &mut ::std::vec::Vec<u8>) {
                let mut w = ::netabase::codec::Writer::new(out);
                #(w.write(&self.#field_idents);)*
            }

            fn decode(bytes: &[u8]) -> ::core::result::Result<Self, ::netabase::codec::DecodeError> {
                let mut r = ::netabase::codec::Reader::new(bytes);
                let record = Self {
                    #(#field_idents: r.read()?,)*
                };
                r.finish()?;
                ::core::result::Result::Ok(record)
            }

            fn index_keys(&self, index: usize, keys: &mut ::netabase::IndexKeys) {
                #index_keys
            }

            fn describe_index_value(&self, index: usize) -> ::std::string::String {
                #describe
            }
        }
    }
}

/// The primary key as query methods take it: `u64`, `&'k str`, `(&'k str, i32)`.
pub(crate) fn primary_key_argument(model: &Model) -> TokenStream {
    let tys: Vec<TokenStream> = model
        .primary_key_fields()
        .map(|f| types::key_argument_named(&f.ty))
        .collect();
    match tys.as_slice() {
        [only] => only.clone(),
        _ => quote!((#(#tys),*)),
    }
}

/// `"<Definition>/<Model>"`.
pub fn model_table(ctx: &Ctx<'_>) -> String {
    format!(
        "{}/{}",
        ctx.schema.definition.name.schema, ctx.model.name.schema
    )
}

/// The body of `index_keys`, shared by the model and its view: both have the same field names,
/// and `KeyPart` is implemented for the owned and the borrowed forms alike. An `Option` part
/// that is `None` means no key; a `Vec` part (a multi-valued key) means one key per element.
pub fn index_keys_body(model: &Model) -> TokenStream {
    if model.secondary_keys.is_empty() {
        return quote! {
            let _ = (index, keys);
        };
    }
    let arms = model.secondary_keys.iter().enumerate().map(|(i, k)| {
        let i = proc_macro2::Literal::usize_unsuffixed(i);
        let fields = model.key_fields(k);
        let parts: Vec<TokenStream> = fields
            .iter()
            .enumerate()
            .map(|(j, f)| match f.ty {
                Type::Option(_) | Type::Vec(_) => {
                    let part = quote::format_ident!("part{j}");
                    quote!(#part)
                }
                _ => {
                    let field = ident(&f.name.rust);
                    quote!(&self.#field)
                }
            })
            .collect();
        let push = quote! {
            keys.push(|out| { #(::netabase::codec::KeyPart::encode_key(#parts, out);)* });
        };
        let (body, _) = bind_key_parts(&fields, push);
        (i, body)
    });
    let arms: Vec<_> = arms.collect();
    if let [(_, body)] = arms.as_slice() {
        // One key: an early return (clippy objects to a one-armed `match`, and to an `if`
        // around an `if let`).
        return quote! {
            if index != 0 {
                return;
            }
            #body
        };
    }
    let arms = arms.iter().map(|(i, body)| quote!(#i => { #body }));
    quote! {
        match index {
            #(#arms)*
            _ => {}
        }
    }
}

/// Wraps `body` in the bindings of a key's optional and multi-valued parts: `part{j}` is bound
/// by `if let Some(..)` for an `Option` field and by `for` for a `Vec` field (one key per
/// element), innermost last. Also says whether any part was bound (`false`: every part is
/// always present, and `body` is returned as it was).
pub fn bind_key_parts(fields: &[&Field], body: TokenStream) -> (TokenStream, bool) {
    let mut body = body;
    let mut bound = false;
    for (j, f) in fields.iter().enumerate().rev() {
        let field = ident(&f.name.rust);
        let part = quote::format_ident!("part{j}");
        body = match f.ty {
            Type::Option(_) => quote! {
                if let ::core::option::Option::Some(#part) = &self.#field { #body }
            },
            Type::Vec(_) => quote!(for #part in &self.#field { #body }),
            _ => continue,
        };
        bound = true;
    }
    (body, bound)
}

fn describe_body(model: &Model) -> TokenStream {
    if model.secondary_keys.is_empty() {
        return quote! {
            let _ = index;
            ::std::string::String::new()
        };
    }
    let arms = model.secondary_keys.iter().enumerate().map(|(i, k)| {
        let i = proc_macro2::Literal::usize_unsuffixed(i);
        let fields: Vec<_> = model
            .key_fields(k)
            .iter()
            .map(|f| ident(&f.name.rust))
            .collect();
        match fields.as_slice() {
            [only] => quote!(#i => ::std::format!("{:?}", self.#only),),
            _ => quote!(#i => ::std::format!("{:?}", (#(&self.#fields),*)),),
        }
    });
    quote! {
        match index {
            #(#arms)*
            _ => ::std::string::String::new(),
        }
    }
}
