//! The model struct and its `::netabase_runtime::Model` implementation.

use super::{Ctx, EmitOptions, declared_in, ident, key_parts, keys, schema_docs, types};
use crate::ir::{Model, SecondaryKey};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

pub fn emit(ctx: &Ctx<'_>, options: &EmitOptions<'_>) -> TokenStream {
    let model = ctx.model;
    let names = ctx.names;
    let name = ident(&names.model);
    let schema_name = &model.name.schema;
    let table = &names.table;
    let doc = schema_docs(
        model.doc.as_deref(),
        [format!(
            "A record of model `{schema_name}`, stored in table `{table}`. {}",
            declared_in(&format!("models.{schema_name}"), ctx.schema)
        )
        .as_str()],
    );
    let eq = (!model.fields.iter().any(|f| f.ty.has_float())).then(|| quote!(::core::cmp::Eq));
    let serde = options
        .serde
        .then(|| quote!(::serde::Serialize, ::serde::Deserialize));
    let extra = options.extra_derives;
    let derives = [
        Some(quote!(::core::fmt::Debug)),
        Some(quote!(::core::clone::Clone)),
        Some(quote!(::core::cmp::PartialEq)),
        eq,
        serde,
    ]
    .into_iter()
    .flatten()
    .chain(extra.iter().map(|path| quote!(#path)));
    let fields = model.fields.iter().map(|f| {
        let doc = schema_docs(
            f.doc.as_deref(),
            [format!(
                "`{}`: `{}`. Declared in `[models.{schema_name}.fields]`.",
                f.name.schema,
                f.ty.spelling(),
            )
            .as_str()],
        );
        let field = ident(&f.name.rust);
        let ty = types::owned(&f.ty);
        quote!(#doc pub #field: #ty)
    });
    let field_names: Vec<Ident> = model.fields.iter().map(|f| ident(&f.name.rust)).collect();
    let secondary_keys = keys::secondary_keys_method(ctx);

    let definition = ident(&ctx.schema.definition.name.rust);
    let primary_key = ident(&names.primary_key);
    let stored_key = match model.primary_key_width() {
        Some(width) => {
            let width = Literal::usize_unsuffixed(width);
            quote!(::netabase_runtime::__codegen::Fixed<#width>)
        }
        None => quote!(&'static [u8]),
    };
    let key_arg = types::primary_key_argument(model);
    let view = ident(&names.view);
    let tree = ident(&names.tree);
    let indexes = model
        .secondary_keys
        .iter()
        .zip(&names.keys)
        .map(|(k, key_names)| {
            let field = &k.name.schema;
            let table = &key_names.table;
            let unique = k.unique;
            let layout = index_layout(model, k);
            quote! {
                ::netabase_runtime::__codegen::IndexDef {
                    field: #field,
                    table: #table,
                    unique: #unique,
                    layout: #layout,
                }
            }
        });
    let links = super::links::model_constants(ctx);
    let pk_values = model.primary_key_fields().map(|f| {
        let field = ident(&f.name.rust);
        if types::is_copy(&f.ty) {
            quote!(self.#field)
        } else {
            quote!(::core::clone::Clone::clone(&self.#field))
        }
    });
    let pk_fields = model.primary_key_fields().map(|f| ident(&f.name.rust));
    let index_keys = key_parts::index_keys_body(model);
    let describe = describe_body(model);
    quote! {
        #doc
        #[derive(#(#derives),*)]
        pub struct #name {
            #(#fields,)*
        }
        impl #name {
            #secondary_keys
        }
        impl ::netabase_runtime::Model for #name {
            type Definition = #definition;
            type PrimaryKey = #primary_key;
            type StoredKey = #stored_key;
            type KeyArg<'k> = #key_arg;
            type Ref<'a> = #view<'a>;
            type Tree<A> = #tree<A>;
            const NAME: &'static str = #schema_name;
            const TABLE: &'static str = #table;
            const INDEXES: &'static [::netabase_runtime::__codegen::IndexDef] = &[#(#indexes),*];
            #links
            fn primary_key(&self) -> #primary_key {
                #primary_key(#(#pk_values),*)
            }
            fn encode_primary_key(&self, out: &mut ::std::vec::Vec<u8>) {
                #(::netabase_runtime::__codegen::codec::KeyPart::encode_key(&self.#pk_fields, out);)*
            }
            fn encode(&self, out: &mut ::std::vec::Vec<u8>) {
                let mut w = ::netabase_runtime::__codegen::codec::Writer::new(out);
                #(w.write(&self.#field_names);)*
            }
            fn decode(
                bytes: &[u8],
            ) -> ::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError> {
                let mut r = ::netabase_runtime::__codegen::codec::Reader::new(bytes);
                let record = Self {
                    #(#field_names: r.read()?,)*
                };
                r.finish()?;
                ::core::result::Result::Ok(record)
            }
            fn index_keys(
                &self,
                index: usize,
                keys: &mut ::netabase_runtime::__codegen::IndexKeys,
            ) {
                #index_keys
            }
            fn describe_index_value(&self, index: usize) -> ::std::string::String {
                #describe
            }
        }
    }
}

fn describe_body(model: &Model) -> TokenStream {
    if model.secondary_keys.is_empty() {
        return quote! {
            let _ = index;
            ::std::string::String::new()
        };
    }
    let arms = model.secondary_keys.iter().enumerate().map(|(i, k)| {
        let i = Literal::usize_unsuffixed(i);
        let fields: Vec<Ident> = model
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

/// The key and value types of a secondary key's index table (see `Model::index_key_width`):
/// keys `Fixed<W>` or bytes; values the primary key (`Fixed<N>` or bytes), or for a non-unique
/// index over a fixed-width primary key nothing (`Tail<N>`: the key ends with it).
fn index_layout(model: &Model, key: &SecondaryKey) -> TokenStream {
    let bytes = quote!(&'static [u8]);
    let fixed = |width: usize| {
        let width = Literal::usize_unsuffixed(width);
        quote!(::netabase_runtime::__codegen::Fixed<#width>)
    };
    let key_type = model.index_key_width(key).map_or(bytes.clone(), fixed);
    let value_type = match model.primary_key_width() {
        Some(width) if key.unique => fixed(width),
        Some(width) => {
            let width = Literal::usize_unsuffixed(width);
            quote!(::netabase_runtime::__codegen::Tail<#width>)
        }
        None => bytes,
    };
    quote!(::netabase_runtime::__codegen::IndexLayout::new::<#key_type, #value_type>())
}
