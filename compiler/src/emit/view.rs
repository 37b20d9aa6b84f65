//! The zero-copy view `XRef<'a>` and its `::netabase::ModelRef` implementation.

use super::{Ctx, docs, ident, model::index_keys_body, types};
use proc_macro2::TokenStream;
use quote::quote;

pub fn emit(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let name = ctx.model_ident("Ref");
    let model_name = ident(&model.name.rust);
    let doc = docs([format!(
        "A zero-copy view of a stored [`{}`]: strings and bytes borrow from the database page for `'a`, \
         which is as long as the `ValueGuard` it was read from. Turn it into the owned record with \
         [`to_model`](::netabase::ModelRef::to_model).",
        model.name.rust
    )
    .as_str()]);
    let fields = model.fields.iter().map(|f| {
        let field = ident(&f.name.rust);
        let ty = types::view(&f.ty);
        let doc = docs([format!("`{}`, borrowed.", f.name.schema).as_str()]);
        quote!(#doc pub #field: #ty,)
    });
    let field_idents: Vec<_> = model.fields.iter().map(|f| ident(&f.name.rust)).collect();
    // A view with nothing to borrow still carries `'a`, so every model has the same shape.
    let needs_marker = !model.fields.iter().any(|f| types::borrows(&f.ty));
    let (marker_field, marker_init) = if needs_marker {
        (
            quote! {
                /// Ties the view to the page it was read from.
                pub page: ::core::marker::PhantomData<&'a [u8]>,
            },
            quote!(page: ::core::marker::PhantomData,),
        )
    } else {
        (quote!(), quote!())
    };
    let index_keys = index_keys_body(model);
    quote! {
        #doc
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
        pub struct #name<'a> {
            #(#fields)*
            #marker_field
        }

        impl<'a> ::netabase::ModelRef<'a> for #name<'a> {
            type Model = #model_name;

            fn decode(bytes: &'a [u8]) -> ::core::result::Result<Self, ::netabase::codec::DecodeError> {
                let mut r = ::netabase::codec::Reader::new(bytes);
                let view = Self {
                    #(#field_idents: r.read_borrowed()?,)*
                    #marker_init
                };
                r.finish()?;
                ::core::result::Result::Ok(view)
            }

            fn index_keys(&self, index: usize, keys: &mut ::netabase::IndexKeys) {
                #index_keys
            }

            fn to_model(&self) -> #model_name {
                #model_name {
                    #(#field_idents: ::netabase::codec::BorrowValue::to_owned_value(&self.#field_idents),)*
                }
            }
        }
    }
}
