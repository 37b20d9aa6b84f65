//! The schema's own value types: `[enums.X]` and `[structs.X]` become plain Rust enums and
//! structs with their value encoding, and enums that can be keys get their key encoding.

use super::{EmitOptions, docs, ident, schema_docs, types};
use crate::ir::{Enum, Field, Schema, Struct};
use proc_macro2::TokenStream;
use quote::quote;

pub fn emit(schema: &Schema, options: &EmitOptions<'_>) -> TokenStream {
    let enums = schema.enums.iter().map(|e| enumeration(schema, e, options));
    let structs = schema.structs.iter().map(|s| structure(schema, s, options));
    quote!(#(#enums)* #(#structs)*)
}

fn derives(has_float: bool, ordered: bool, options: &EmitOptions<'_>) -> TokenStream {
    let mut derives = vec![
        quote!(::core::fmt::Debug),
        quote!(::core::clone::Clone),
        quote!(::core::cmp::PartialEq),
    ];
    if !has_float {
        derives.push(quote!(::core::cmp::Eq));
        if ordered {
            derives.extend([
                quote!(::core::cmp::PartialOrd),
                quote!(::core::cmp::Ord),
                quote!(::core::hash::Hash),
            ]);
        }
    }
    if options.serde {
        derives.extend([quote!(::serde::Serialize), quote!(::serde::Deserialize)]);
    }
    quote!(#[derive(#(#derives),*)])
}

fn field_docs(schema: &Schema, f: &Field) -> TokenStream {
    schema_docs(
        f.doc.as_deref(),
        [format!(
            "`{}`: `{}`. Schema: `{}`, line {}.",
            f.name.schema,
            f.ty.spelling(),
            schema.source_name,
            f.line
        )
        .as_str()],
    )
}

/// `BorrowValue` for a value type: views hold it owned (only strings and bytes borrow).
fn owned_in_views(name: &proc_macro2::Ident) -> TokenStream {
    quote! {
        impl ::netabase::codec::BorrowValue<'_> for #name {
            type Owned = #name;
            fn read_borrowed(r: &mut ::netabase::codec::Reader<'_>) -> ::core::result::Result<Self, ::netabase::codec::DecodeError> {
                ::netabase::codec::Value::read(r)
            }
            fn to_owned_value(&self) -> #name {
                ::core::clone::Clone::clone(self)
            }
        }
    }
}

fn structure(schema: &Schema, s: &Struct, options: &EmitOptions<'_>) -> TokenStream {
    let name = ident(&s.name.rust);
    let has_float = s.fields.iter().any(|f| f.ty.has_float());
    let doc = schema_docs(
        s.doc.as_deref(),
        [format!(
            "The value type `{}`, embedded in records. Schema: `{}`, line {}.",
            s.name.schema, schema.source_name, s.line
        )
        .as_str()],
    );
    let derive = derives(has_float, false, options);
    let fields = s.fields.iter().map(|f| {
        let field = ident(&f.name.rust);
        let ty = types::owned(&f.ty);
        let doc = field_docs(schema, f);
        quote!(#doc pub #field: #ty,)
    });
    let names: Vec<_> = s.fields.iter().map(|f| ident(&f.name.rust)).collect();
    let borrow = owned_in_views(&name);
    quote! {
        #doc
        #derive
        pub struct #name {
            #(#fields)*
        }

        impl ::netabase::codec::Value for #name {
            fn write(&self, w: &mut ::netabase::codec::Writer<'_>) {
                #(w.write(&self.#names);)*
            }
            fn read(r: &mut ::netabase::codec::Reader<'_>) -> ::core::result::Result<Self, ::netabase::codec::DecodeError> {
                ::core::result::Result::Ok(Self { #(#names: r.read()?,)* })
            }
        }

        #borrow
    }
}

fn enumeration(schema: &Schema, e: &Enum, options: &EmitOptions<'_>) -> TokenStream {
    let name = ident(&e.name.rust);
    let all_fields = || e.variants.iter().flat_map(|v| &v.fields);
    let has_float = all_fields().any(|f| f.ty.has_float());
    let key = all_fields().all(|f| f.ty.is_orderable_key());
    let doc = schema_docs(e.doc.as_deref(), [format!(
        "The enum `{}`. Stored as the variant's position (so reordering variants changes the layout) and its fields.{} Schema: `{}`, line {}.",
        e.name.schema,
        if key { " It can be a key: keys sort in variant order, then by fields." } else { "" },
        schema.source_name,
        e.line
    )
    .as_str()]);
    let derive = derives(has_float, true, options);
    let variants = e.variants.iter().map(|v| {
        let variant = ident(&v.name.rust);
        let doc = docs([format!("The variant `{}`.", v.name.schema).as_str()]);
        if v.fields.is_empty() {
            quote!(#doc #variant,)
        } else {
            let fields = v.fields.iter().map(|f| {
                let field = ident(&f.name.rust);
                let ty = types::owned(&f.ty);
                let doc = field_docs(schema, f);
                quote!(#doc #field: #ty,)
            });
            quote!(#doc #variant { #(#fields)* },)
        }
    });
    // One arm per variant for each of: value write, value read, key write, key read.
    let arms = e.variants.iter().enumerate().map(|(tag, v)| {
        let tag = u32::try_from(tag).unwrap_or(u32::MAX);
        let variant = ident(&v.name.rust);
        let names: Vec<_> = v.fields.iter().map(|f| ident(&f.name.rust)).collect();
        let pattern = if names.is_empty() { quote!(Self::#variant) } else { quote!(Self::#variant { #(#names),* }) };
        let value_write = quote!(#pattern => { w.write(&#tag); #(w.write(#names);)* });
        let value_read = quote!(#tag => Self::#variant { #(#names: r.read()?,)* },);
        let key_write = quote!(#pattern => { ::netabase::codec::KeyPart::encode_key(&#tag, out); #(::netabase::codec::KeyPart::encode_key(#names, out);)* });
        let key_read = quote!(#tag => Self::#variant { #(#names: ::netabase::codec::DecodeKey::decode_key(input)?,)* },);
        (value_write, value_read, key_write, key_read)
    });
    let (value_write, value_read, key_write, key_read): (Vec<_>, Vec<_>, Vec<_>, Vec<_>) = arms
        .fold(Default::default(), |mut acc, (a, b, c, d)| {
            acc.0.push(a);
            acc.1.push(b);
            acc.2.push(c);
            acc.3.push(d);
            acc
        });
    let unknown = format!("unknown variant {{}} of enum `{}`", e.name.schema);
    let key_impls = key.then(|| {
        quote! {
            impl ::netabase::codec::KeyPart for #name {
                fn encode_key(&self, out: &mut ::std::vec::Vec<u8>) {
                    match self { #(#key_write)* }
                }
            }

            impl ::netabase::codec::DecodeKey for #name {
                fn decode_key(input: &mut &[u8]) -> ::core::result::Result<Self, ::netabase::codec::DecodeError> {
                    let tag: u32 = ::netabase::codec::DecodeKey::decode_key(input)?;
                    ::core::result::Result::Ok(match tag {
                        #(#key_read)*
                        other => return ::core::result::Result::Err(::netabase::codec::DecodeError::new(::std::format!(#unknown, other))),
                    })
                }
            }
        }
    });
    let borrow = owned_in_views(&name);
    quote! {
        #doc
        #derive
        pub enum #name {
            #(#variants)*
        }

        impl ::netabase::codec::Value for #name {
            fn write(&self, w: &mut ::netabase::codec::Writer<'_>) {
                match self { #(#value_write)* }
            }
            fn read(r: &mut ::netabase::codec::Reader<'_>) -> ::core::result::Result<Self, ::netabase::codec::DecodeError> {
                let tag: u32 = r.read()?;
                ::core::result::Result::Ok(match tag {
                    #(#value_read)*
                    other => return ::core::result::Result::Err(::netabase::codec::DecodeError::new(::std::format!(#unknown, other))),
                })
            }
        }

        #key_impls
        #borrow
    }
}
