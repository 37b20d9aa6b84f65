//! The definition type, its `::netabase::Definition` implementation and its read and write
//! transaction types (`txn.cities()`).

use super::{docs, ident, schema_docs};
use crate::ir::Schema;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub fn emit(schema: &Schema) -> TokenStream {
    let def = &schema.definition;
    let name = ident(&def.name.rust);
    let schema_name = &def.name.schema;
    let version = proc_macro2::Literal::u64_unsuffixed(def.version);
    let fingerprint = crate::fingerprint::fingerprint(schema);
    let read = format_ident!("{}ReadTransaction", def.name.rust);
    let write = format_ident!("{}WriteTransaction", def.name.rust);
    let tables = schema.models.iter().flat_map(|m| {
        std::iter::once(schema.record_table(m))
            .chain(m.secondary_keys.iter().map(|k| schema.index_table(m, k)))
    });
    let origin = format!("Schema: `{}`, line {}.", schema.source_name, def.line);
    let doc = schema_docs(def.doc.as_deref(), [format!(
        "The definition `{schema_name}` (version {version}): its models are stored together in one database. \
         Open one with `::netabase::Store::<{}>::open`. {origin}",
        def.name.rust
    )
    .as_str()]);
    let read_doc = docs([format!("A read transaction on [`{}`]: a consistent snapshot, with one method per model. It cannot write.", def.name.rust).as_str()]);
    let write_doc = docs([format!(
        "A write transaction on [`{}`], with one method per model. Nothing it writes is visible before [`commit`](Self::commit); dropping it discards everything.",
        def.name.rust
    )
    .as_str()]);

    let models = schema.models.iter().map(|m| ident(&m.name.rust));

    let read_methods = schema
        .models
        .iter()
        .map(|m| tree_method(m, quote!(ReadTree), &read));
    let write_methods = schema
        .models
        .iter()
        .map(|m| tree_method(m, quote!(WriteTree), &write));

    quote! {
        #doc
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash, ::core::default::Default)]
        pub struct #name;

        impl ::netabase::Definition for #name {
            const NAME: &'static str = #schema_name;
            const VERSION: u64 = #version;
            const FINGERPRINT: &'static str = #fingerprint;
            const TABLES: &'static [&'static str] = &[#(#tables),*];
            type Read<'s> = #read<'s>;
            type Write<'s> = #write<'s>;

            fn visit_models<V: ::netabase::ModelVisitor<Self>>(visitor: &mut V) -> ::netabase::Result<()> {
                #(visitor.visit::<#models>()?;)*
                ::core::result::Result::Ok(())
            }
        }

        #read_doc
        pub struct #read<'s> {
            inner: ::netabase::ReadTransaction<'s, #name>,
        }

        impl<'s> ::core::convert::From<::netabase::ReadTransaction<'s, #name>> for #read<'s> {
            fn from(inner: ::netabase::ReadTransaction<'s, #name>) -> Self {
                Self { inner }
            }
        }

        impl #read<'_> {
            #(#read_methods)*

            /// Opens the tree of any model of this definition.
            pub fn open_tree<M: ::netabase::Model<Definition = #name>>(&self) -> ::netabase::Result<M::Tree<::netabase::ReadTree<'_, M>>> {
                self.inner.open_tree::<M>()
            }
        }

        #write_doc
        pub struct #write<'s> {
            inner: ::netabase::WriteTransaction<'s, #name>,
        }

        impl<'s> ::core::convert::From<::netabase::WriteTransaction<'s, #name>> for #write<'s> {
            fn from(inner: ::netabase::WriteTransaction<'s, #name>) -> Self {
                Self { inner }
            }
        }

        impl #write<'_> {
            #(#write_methods)*

            /// Opens the tree of any model of this definition for writing.
            pub fn open_tree<M: ::netabase::Model<Definition = #name>>(&self) -> ::netabase::Result<M::Tree<::netabase::WriteTree<'_, M>>> {
                self.inner.open_tree::<M>()
            }

            /// Checks the checked links written so far, as `commit` will (see
            /// [`::netabase::WriteTransaction::check_links`]); call it with no tree open.
            pub fn check_links(&self) -> ::netabase::Result<()> {
                self.inner.check_links()
            }

            /// Verifies checked links, then makes everything written in this transaction
            /// durable and visible, atomically. A broken link is
            /// `::netabase::Error::BrokenLink`, and nothing is written.
            pub fn commit(self) -> ::netabase::Result<()> {
                self.inner.commit()
            }

            /// Discards everything written in this transaction.
            pub fn abort(self) -> ::netabase::Result<()> {
                self.inner.abort()
            }
        }
    }
}

fn tree_method(
    model: &crate::ir::Model,
    kind: TokenStream,
    txn: &proc_macro2::Ident,
) -> TokenStream {
    let method = ident(&model.plural);
    let m = ident(&model.name.rust);
    let tree = format_ident!("{}{}", model.name.rust, kind.to_string());
    let doc = docs([format!(
        "The [`{}`] records, with their tables opened once for the life of the tree (it borrows this [`{txn}`]).",
        model.name.rust
    )
    .as_str()]);
    quote! {
        #doc
        pub fn #method(&self) -> ::netabase::Result<#tree<'_>> {
            self.inner.open_tree::<#m>()
        }
    }
}
