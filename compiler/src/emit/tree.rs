//! The named tree `XTree<T>`: typed query methods over a runtime tree, one per key, and
//! writing methods on the write tree only.

use super::{Ctx, docs, ident, model::model_table, types};
use crate::ir::Type;
use crate::names::bare;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub fn emit(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let m = ident(&model.name.rust);
    let tree = ctx.model_ident("Tree");
    let read_tree = ctx.model_ident("ReadTree");
    let write_tree = ctx.model_ident("WriteTree");
    let table = model_table(ctx);
    let record =
        bare(&crate::names::snake_name(&model.name.schema).unwrap_or_else(|_| "record".into()))
            .to_owned();
    let record = ident(&crate::names::raw_if_keyword(record));

    // The primary key as arguments (`geonameid: u64`) and as one encodable value.
    let pk_fields: Vec<_> = model.primary_key_fields().collect();
    let pk_args: Vec<_> = pk_fields
        .iter()
        .map(|f| {
            let name = ident(&f.name.rust);
            let ty = types::key_argument(&f.ty);
            quote!(#name: #ty)
        })
        .collect();
    let pk_names: Vec<_> = pk_fields.iter().map(|f| ident(&f.name.rust)).collect();
    let pk_value = if pk_names.len() == 1 {
        let only = &pk_names[0];
        quote!(&#only)
    } else {
        quote!(&(#(#pk_names),*))
    };
    let pk_desc = pk_fields
        .iter()
        .map(|f| format!("`{}`", f.name.schema))
        .collect::<Vec<_>>()
        .join(", ");

    let doc = docs([
            format!("The [`{}`] records of a transaction (table `{table}`), with one query method per key.", model.name.rust).as_str(),
            format!(
                "Its tables are opened once, when the tree is opened, and stay open until it is dropped. \
                 [`{read_tree}`] reads; [`{write_tree}`] also writes, and keeps every index exact."
            )
            .as_str(),
    ]);

    let index_methods = model.secondary_keys.iter().enumerate().map(|(i, k)| {
        let i = proc_macro2::Literal::usize_unsuffixed(i);
        let f = &model.fields[k.fields[0]];
        let field = ident(&f.name.rust);
        let arg_ty = types::key_argument(types::indexed(&f.ty));
        let optional = if matches!(f.ty, Type::Option(_)) { " (records where it is `None` are not indexed)" } else { "" };
        if k.unique {
            let method = format_ident!("get_by_{}", bare(&f.name.rust));
            let doc = docs([format!("The record whose unique key `{}` equals `{}`{optional}.", f.name.schema, bare(&f.name.rust)).as_str()]);
            quote! {
                #doc
                pub fn #method(&self, #field: #arg_ty) -> ::netabase::Result<::core::option::Option<#m>> {
                    ::netabase::TreeRead::get_by_unique(&self.inner, #i, &#field)
                }
            }
        } else {
            let method = format_ident!("by_{}", bare(&f.name.rust));
            let doc = docs([format!(
                "The records whose `{}` equals `{}`{optional}, in primary key order: a lazy, double-ended iterator of results.",
                f.name.schema,
                bare(&f.name.rust)
            )
            .as_str()]);
            quote! {
                #doc
                pub fn #method(&self, #field: #arg_ty) -> ::netabase::Result<::netabase::IndexIter<'_, #m, T::Table>> {
                    ::netabase::TreeRead::scan_index(&self.inner, #i, &#field)
                }
            }
        }
    });

    let read_doc =
        docs([format!("[`{tree}`] in a read transaction: it has no writing methods.").as_str()]);
    let write_doc = docs([format!("[`{tree}`] in a write transaction.").as_str()]);
    let get_doc = docs([format!("The record with primary key {pk_desc}.").as_str()]);
    let get_ref_doc = docs([format!(
        "The stored bytes of the record with primary key {pk_desc}, from which `.view()` decodes a zero-copy [`{}Ref`].",
        model.name.rust
    )
    .as_str()]);
    let contains_doc =
        docs([
            format!("Whether a record with primary key {pk_desc} exists (nothing is decoded).")
                .as_str(),
        ]);
    let remove_doc = docs([format!(
        "Removes the record with primary key {pk_desc} and its index entries; returns it."
    )
    .as_str()]);

    quote! {
        #doc
        pub struct #tree<T> {
            inner: T,
        }

        #read_doc
        pub type #read_tree<'t> = #tree<::netabase::ReadTree<'t, #m>>;

        #write_doc
        pub type #write_tree<'t> = #tree<::netabase::WriteTree<'t, #m>>;

        impl<T> ::core::convert::From<T> for #tree<T> {
            fn from(inner: T) -> Self {
                Self { inner }
            }
        }

        impl<T: ::netabase::TreeRead<#m>> #tree<T> {
            #get_doc
            pub fn get(&self, #(#pk_args),*) -> ::netabase::Result<::core::option::Option<#m>> {
                ::netabase::TreeRead::get(&self.inner, #pk_value)
            }

            #get_ref_doc
            pub fn get_ref(&self, #(#pk_args),*) -> ::netabase::Result<::core::option::Option<::netabase::ValueGuard<'_, #m>>> {
                ::netabase::TreeRead::get_ref(&self.inner, #pk_value)
            }

            #contains_doc
            pub fn contains(&self, #(#pk_args),*) -> ::netabase::Result<bool> {
                ::netabase::TreeRead::contains(&self.inner, #pk_value)
            }

            /// The number of records.
            pub fn len(&self) -> ::netabase::Result<u64> {
                ::netabase::TreeRead::len(&self.inner)
            }

            /// Whether there are no records.
            pub fn is_empty(&self) -> ::netabase::Result<bool> {
                ::netabase::TreeRead::is_empty(&self.inner)
            }

            /// Every record in primary key order: a lazy, double-ended iterator of results.
            pub fn iter(&self) -> ::netabase::Result<::netabase::Iter<'_, #m>> {
                ::netabase::TreeRead::iter(&self.inner)
            }

            #(#index_methods)*
        }

        impl #tree<::netabase::WriteTree<'_, #m>> {
            /// Inserts the record, or replaces the one with the same primary key, and updates
            /// every index. A unique key held by another record is `Error::UniqueViolation` and
            /// changes nothing.
            pub fn put(&mut self, #record: &#m) -> ::netabase::Result<()> {
                self.inner.put(#record)
            }

            /// Inserts the record; one with the same primary key is `Error::AlreadyExists` and
            /// changes nothing.
            pub fn insert(&mut self, #record: &#m) -> ::netabase::Result<()> {
                self.inner.insert(#record)
            }

            /// Puts every record, in order; all or nothing. Returns how many were written.
            pub fn put_many(&mut self, records: impl ::core::iter::IntoIterator<Item = impl ::core::borrow::Borrow<#m>>) -> ::netabase::Result<u64> {
                self.inner.put_many(records)
            }

            #remove_doc
            pub fn remove(&mut self, #(#pk_args),*) -> ::netabase::Result<::core::option::Option<#m>> {
                self.inner.remove(#pk_value)
            }
        }
    }
}
