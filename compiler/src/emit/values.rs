//! The schema's own value types: `[enums.X]` and `[structs.X]` become plain Rust enums and
//! structs with their value encoding, and enums that can be keys get their key encoding.

use super::{EmitOptions, declared_in, docs, ident, schema_docs, types};
use crate::ir::{Enum, Field, Schema, Struct};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

pub fn emit(schema: &Schema, options: &EmitOptions<'_>) -> TokenStream {
    let enums = schema.enums.iter().map(|e| enumeration(schema, e, options));
    let structs = schema.structs.iter().map(|s| structure(schema, s, options));
    quote! { #(#enums)* #(#structs)* }
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

/// A field's docs and declaration (`pub` when `public`); `place` says where the schema declares
/// it (`` `[structs.Place.fields]` ``).
fn field(place: &str, f: &Field, public: bool) -> TokenStream {
    let doc = schema_docs(
        f.doc.as_deref(),
        [format!(
            "`{}`: `{}`. Declared in {place}.",
            f.name.schema,
            f.ty.spelling(),
        )
        .as_str()],
    );
    let name = ident(&f.name.rust);
    let ty = types::owned(&f.ty);
    let vis = public.then(|| quote!(pub));
    quote!(#doc #vis #name: #ty)
}

/// `BorrowValue` for a value type: views hold it owned (only strings and bytes borrow).
fn owned_in_views(name: &Ident) -> TokenStream {
    quote! {
        impl ::netabase_runtime::__codegen::codec::BorrowValue<'_> for #name {
            type Owned = #name;
            fn read_borrowed(
                r: &mut ::netabase_runtime::__codegen::codec::Reader<'_>,
            ) -> ::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError> {
                ::netabase_runtime::__codegen::codec::Value::read(r)
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
            "The value type `{}`, embedded in records. {}",
            s.name.schema,
            declared_in(&format!("structs.{}", s.name.schema), schema)
        )
        .as_str()],
    );
    let derives = derives(has_float, false, options);
    let place = format!("`[structs.{}.fields]`", s.name.schema);
    let fields = s.fields.iter().map(|f| field(&place, f, true));
    let names: Vec<Ident> = s.fields.iter().map(|f| ident(&f.name.rust)).collect();
    let views = owned_in_views(&name);
    quote! {
        #doc
        #derives
        pub struct #name {
            #(#fields,)*
        }
        impl ::netabase_runtime::__codegen::codec::Value for #name {
            fn write(&self, w: &mut ::netabase_runtime::__codegen::codec::Writer<'_>) {
                #(w.write(&self.#names);)*
            }
            fn read(
                r: &mut ::netabase_runtime::__codegen::codec::Reader<'_>,
            ) -> ::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError> {
                ::core::result::Result::Ok(Self {
                    #(#names: r.read()?,)*
                })
            }
        }
        #views
    }
}

fn enumeration(schema: &Schema, e: &Enum, options: &EmitOptions<'_>) -> TokenStream {
    let name = ident(&e.name.rust);
    let all_fields = || e.variants.iter().flat_map(|v| &v.fields);
    let has_float = all_fields().any(|f| f.ty.has_float());
    let key = all_fields().all(|f| f.ty.is_orderable_key());
    let doc = schema_docs(
        e.doc.as_deref(),
        [format!(
            "The enum `{}`. Stored as the variant's position (so reordering variants changes the layout) and its fields.{} {}",
            e.name.schema,
            if key { " It can be a key: keys sort in variant order, then by fields." } else { "" },
            declared_in(&format!("enums.{}", e.name.schema), schema)
        )
        .as_str()],
    );
    let derives = derives(has_float, true, options);
    let variants = e.variants.iter().map(|v| {
        let doc = docs([format!("The variant `{}`.", v.name.schema).as_str()]);
        let variant = ident(&v.name.rust);
        if v.fields.is_empty() {
            return quote!(#doc #variant);
        }
        let place = format!(
            "variant `{}` of `[enums.{}.variants]`",
            v.name.schema, e.name.schema
        );
        let fields = v.fields.iter().map(|f| field(&place, f, false));
        quote!(#doc #variant { #(#fields,)* })
    });
    let unknown = format!("unknown variant {{}} of enum `{}`", e.name.schema);

    let value_write = write_match(e, |tag, parts| {
        quote! {
            w.write(&#tag);
            #(w.write(#parts);)*
        }
    });
    let value_read = read_match(e, &quote!(r.read()?), &unknown);
    let key_impls = key.then(|| {
        let encode = write_match(e, |tag, parts| {
            quote! {
                ::netabase_runtime::__codegen::codec::KeyPart::encode_key(&#tag, out);
                #(::netabase_runtime::__codegen::codec::KeyPart::encode_key(#parts, out);)*
            }
        });
        let decode = read_match(
            e,
            &quote!(::netabase_runtime::__codegen::codec::DecodeKey::decode_key(input)?),
            &unknown,
        );
        quote! {
            impl ::netabase_runtime::__codegen::codec::KeyPart for #name {
                fn encode_key(&self, out: &mut ::std::vec::Vec<u8>) {
                    #encode
                }
            }
            impl ::netabase_runtime::__codegen::codec::DecodeKey for #name {
                fn decode_key(
                    input: &mut &[u8],
                ) -> ::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError> {
                    let tag: u32 = ::netabase_runtime::__codegen::codec::DecodeKey::decode_key(input)?;
                    #decode
                }
            }
        }
    });
    let views = owned_in_views(&name);
    quote! {
        #doc
        #derives
        pub enum #name {
            #(#variants,)*
        }
        impl ::netabase_runtime::__codegen::codec::Value for #name {
            fn write(&self, w: &mut ::netabase_runtime::__codegen::codec::Writer<'_>) {
                #value_write
            }
            fn read(
                r: &mut ::netabase_runtime::__codegen::codec::Reader<'_>,
            ) -> ::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError> {
                let tag: u32 = r.read()?;
                #value_read
            }
        }
        #key_impls
        #views
    }
}

/// `match self { Self::V { a: f0, b: f1 } => { tag; f0; f1; } .. }`: the variant's position,
/// then its fields, each arm written by `arm(tag, parts)`.
fn write_match(e: &Enum, arm: impl Fn(Literal, &[Ident]) -> TokenStream) -> TokenStream {
    let arms = e.variants.iter().enumerate().map(|(i, v)| {
        let variant = ident(&v.name.rust);
        // Fields are bound by position (`f0`, `f1`): a user's field name bound as a local could
        // shadow the writer or buffer the arm writes to.
        let fields: Vec<Ident> = v.fields.iter().map(|f| ident(&f.name.rust)).collect();
        let parts: Vec<Ident> = (0..v.fields.len()).map(|j| format_ident!("f{j}")).collect();
        let pattern = if fields.is_empty() {
            quote!(Self::#variant)
        } else {
            quote!(Self::#variant { #(#fields: #parts),* })
        };
        let body = arm(tag(i), &parts);
        quote!(#pattern => { #body })
    });
    quote! {
        match self {
            #(#arms)*
        }
    }
}

/// `Ok(match tag { 0u32 => Self::V { a: read, .. }, .., other => return Err(..) })`.
fn read_match(e: &Enum, read: &TokenStream, unknown: &str) -> TokenStream {
    let arms = e.variants.iter().enumerate().map(|(i, v)| {
        let variant = ident(&v.name.rust);
        let fields = v.fields.iter().map(|f| ident(&f.name.rust));
        let tag = tag(i);
        if v.fields.is_empty() {
            quote!(#tag => Self::#variant {},)
        } else {
            quote!(#tag => Self::#variant { #(#fields: #read),* },)
        }
    });
    quote! {
        ::core::result::Result::Ok(
            match tag {
                #(#arms)*
                other => {
                    return ::core::result::Result::Err(
                        ::netabase_runtime::__codegen::codec::DecodeError::new(
                            ::std::format!(#unknown, other),
                        ),
                    );
                }
            },
        )
    }
}

/// A variant's stored tag, its position: `0u32`.
fn tag(position: usize) -> Literal {
    Literal::u32_suffixed(u32::try_from(position).unwrap_or(u32::MAX))
}
