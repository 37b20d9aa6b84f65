//! The zero-copy view `XRef<'a>` and its `::netabase_runtime::ModelRef` implementation.

use super::{Ctx, docs, ident, key_parts::index_keys_body, types};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

pub fn emit(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let m = model.name.rust.as_str();
    let model_name = ident(m);
    let name = ident(&ctx.names.view);
    let doc = docs([format!(
        "A zero-copy view of a stored [`{m}`]: strings and bytes borrow from the database page for `'a`, \
         which is as long as the `ValueGuard` it was read from. Turn it into the owned record with \
         [`to_model`](::netabase_runtime::ModelRef::to_model)."
    )
    .as_str()]);
    let fields: Vec<Ident> = model.fields.iter().map(|f| ident(&f.name.rust)).collect();
    let declarations = model.fields.iter().zip(&fields).map(|(f, field)| {
        let doc = docs([format!("`{}`, borrowed.", f.name.schema).as_str()]);
        let ty = types::viewed(&f.ty);
        quote!(#doc pub #field: #ty)
    });
    // A view with nothing to borrow still carries `'a`, so every model has the same shape; its
    // marker is named apart from the fields.
    let needs_marker = !model.fields.iter().any(|f| types::borrows(&f.ty));
    let taken: Vec<String> = model.fields.iter().map(|f| f.name.rust.clone()).collect();
    let marker = format_ident!("{}", crate::names::fresh("page".to_owned(), &taken));
    let marker_doc = docs(["Ties the view to the page it was read from."]);
    let (marker_field, marker_init) = if needs_marker {
        (
            quote!(#marker_doc pub #marker: ::core::marker::PhantomData<&'a [u8]>,),
            quote!(#marker: ::core::marker::PhantomData,),
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let index_keys = index_keys_body(model);
    quote! {
        #doc
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
        pub struct #name<'a> {
            #(#declarations,)*
            #marker_field
        }
        impl<'a> ::netabase_runtime::ModelRef<'a> for #name<'a> {
            type Model = #model_name;
            fn decode(
                bytes: &'a [u8],
            ) -> ::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError> {
                let mut r = ::netabase_runtime::__codegen::codec::Reader::new(bytes);
                let view = Self {
                    #(#fields: r.read_borrowed()?,)*
                    #marker_init
                };
                r.finish()?;
                ::core::result::Result::Ok(view)
            }
            fn index_keys(
                &self,
                index: usize,
                keys: &mut ::netabase_runtime::__codegen::IndexKeys,
            ) {
                #index_keys
            }
            fn to_model(&self) -> #model_name {
                #model_name {
                    #(#fields: ::netabase_runtime::__codegen::codec::BorrowValue::to_owned_value(
                        &self.#fields,
                    ),)*
                }
            }
        }
    }
}
