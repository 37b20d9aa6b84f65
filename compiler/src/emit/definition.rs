//! The definition type, its `::netabase_runtime::Definition` implementation and its read and write
//! transaction types (`txn.cities()`).

use super::{declared_in, docs, ident, schema_docs};
use crate::ir::Schema;
use crate::naming::Names;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

pub fn emit(schema: &Schema, names: &Names, history: bool) -> TokenStream {
    let def = &schema.definition;
    let name = ident(&def.name.rust);
    let version = Literal::u64_unsuffixed(def.version);
    let doc = schema_docs(
        def.doc.as_deref(),
        [format!(
            "The definition `{}` (version {}): its models are stored together in one database. \
             Open one with `::netabase_runtime::Store::<{name}>::open`. {}",
            def.name.schema,
            def.version,
            declared_in("definition", schema)
        )
        .as_str()],
    );
    let schema_name = &def.name.schema;
    let fingerprint = crate::fingerprint::fingerprint(schema);
    let layout = crate::fingerprint::stored_layout(schema);
    let change_feed = def.change_feed.then(|| {
        quote!(
            const CHANGE_FEED: bool = true;
        )
    });
    let history = history.then(|| {
        let constant = format_ident!("{}", super::history::HISTORY_CONST);
        quote!(
            const HISTORY: &'static [::netabase_runtime::__codegen::Version] = #constant;
        )
    });
    let tables = names
        .models
        .iter()
        .flat_map(|m| std::iter::once(&m.table).chain(m.keys.iter().map(|k| &k.table)));
    let read = ident(&names.read_transaction);
    let write = ident(&names.write_transaction);
    // The visitor's type parameter must not hide a model the body names.
    let models: Vec<String> = schema.models.iter().map(|m| m.name.rust.clone()).collect();
    let visitor = format_ident!("{}", crate::names::fresh("V".to_owned(), &models));
    let visits = schema.models.iter().map(|m| ident(&m.name.rust));
    let unused = schema.models.is_empty().then(|| quote!(let _ = visitor;));

    let read_txn = transaction(
        schema,
        names,
        &names.read_transaction,
        "Read",
        &format!(
            "A read transaction on [`{name}`]: a consistent snapshot, with one method per model. It cannot write."
        ),
        "Opens the tree of any model of this definition.",
        TokenStream::new(),
    );
    let write_txn = transaction(
        schema,
        names,
        &names.write_transaction,
        "Write",
        &format!(
            "A write transaction on [`{name}`], with one method per model. Nothing it writes is visible before [`commit`](Self::commit); dropping it discards everything."
        ),
        "Opens the tree of any model of this definition for writing.",
        write_methods(),
    );
    quote! {
        #doc
        #[derive(
            ::core::fmt::Debug,
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
            ::core::default::Default
        )]
        pub struct #name;
        impl ::netabase_runtime::Definition for #name {
            const NAME: &'static str = #schema_name;
            const VERSION: u64 = #version;
            const FINGERPRINT: &'static str = #fingerprint;
            const LAYOUT: &'static str = #layout;
            #change_feed
            #history
            const TABLES: &'static [&'static str] = &[#(#tables),*];
            type Read<'s> = #read<'s>;
            type Write<'s> = #write<'s>;
            fn visit_models<#visitor: ::netabase_runtime::__codegen::ModelVisitor<Self>>(
                visitor: &mut #visitor,
            ) -> ::netabase_runtime::Result<()> {
                #unused
                #(visitor.visit::<#visits>()?;)*
                ::core::result::Result::Ok(())
            }
        }
        #read_txn
        #write_txn
    }
}

/// The methods only the write transaction has.
fn write_methods() -> TokenStream {
    let check_links = docs([
        "Checks the checked links written so far, as `commit` will (see\n\
         [`::netabase_runtime::WriteTransaction::check_links`]); call it with no tree open.",
    ]);
    let commit = docs([
        "Verifies checked links, then makes everything written in this transaction\n\
         durable and visible, atomically. A broken link is\n\
         `::netabase_runtime::Error::BrokenLink`, and nothing is written.",
    ]);
    let abort = docs(["Discards everything written in this transaction."]);
    quote! {
        #check_links
        pub fn check_links(&self) -> ::netabase_runtime::Result<()> {
            self.inner.check_links()
        }
        #commit
        pub fn commit(self) -> ::netabase_runtime::Result<()> {
            self.inner.commit()
        }
        #abort
        pub fn abort(self) -> ::netabase_runtime::Result<()> {
            self.inner.abort()
        }
    }
}

/// `XReadTransaction` or `XWriteTransaction` (`kind` is `Read` or `Write`): the struct, its
/// `From`, and its impl: a method per model, `open_tree`, then `extra`.
fn transaction(
    schema: &Schema,
    names: &Names,
    txn: &str,
    kind: &str,
    doc: &str,
    open_doc: &str,
    extra: TokenStream,
) -> TokenStream {
    let name = ident(&schema.definition.name.rust);
    let kind_txn = format_ident!("{kind}Transaction");
    let kind_tree = format_ident!("{kind}Tree");
    let inner = quote!(::netabase_runtime::#kind_txn<'s, #name>);
    let txn_doc = docs([doc]);
    let open_doc = docs([open_doc]);
    let txn_name = txn;
    let txn = ident(txn);
    let trees = schema.models.iter().zip(&names.models).map(|(m, names)| {
        let model = ident(&m.name.rust);
        let tree = ident(if kind == "Read" {
            &names.read_tree
        } else {
            &names.write_tree
        });
        let method = ident(&m.plural);
        let doc = docs([format!(
            "The [`{model}`] records, with their tables opened once for the life of the tree (it borrows this [`{txn_name}`])."
        )
        .as_str()]);
        quote! {
            #doc
            pub fn #method(&self) -> ::netabase_runtime::Result<#tree<'_>> {
                self.inner.open_tree::<#model>()
            }
        }
    });
    // The model's type parameter must not hide the definition it is bound by.
    let m = format_ident!(
        "{}",
        crate::names::fresh(
            "M".to_owned(),
            std::slice::from_ref(&schema.definition.name.rust)
        )
    );
    quote! {
        #txn_doc
        pub struct #txn<'s> {
            inner: #inner,
        }
        impl<'s> ::core::convert::From<#inner> for #txn<'s> {
            fn from(inner: #inner) -> Self {
                Self { inner }
            }
        }
        impl<'s> ::core::convert::From<#txn<'s>> for #inner {
            fn from(txn: #txn<'s>) -> Self {
                txn.inner
            }
        }
        impl<'s> ::core::convert::AsRef<#inner> for #txn<'s> {
            fn as_ref(&self) -> &#inner {
                &self.inner
            }
        }
        impl #txn<'_> {
            #(#trees)*
            #open_doc
            pub fn open_tree<#m: ::netabase_runtime::Model<Definition = #name>>(
                &self,
            ) -> ::netabase_runtime::Result<#m::Tree<::netabase_runtime::#kind_tree<'_, #m>>> {
                self.inner.open_tree::<#m>()
            }
            #extra
        }
    }
}
