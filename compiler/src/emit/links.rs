//! Links: the `LINKS` and `BACKLINKS` constants of `::netabase_runtime::Model`, and the methods that
//! follow a link both ways: forward on the linking model (`book.author_in(&authors)`), backward
//! on the target through the link's index (`author.books_by_author(&books)`).

use super::{Ctx, docs, ident, types};
use crate::ir::{LinkField, Model, Type};
use crate::naming::ModelNames;
use proc_macro2::TokenStream;
use quote::quote;

/// The names of the items of `model`, one of the schema's models.
fn names_of<'a>(ctx: &Ctx<'a>, model: &Model) -> &'a ModelNames {
    let position = ctx
        .schema
        .models
        .iter()
        .position(|m| std::ptr::eq(m, model))
        .unwrap_or(ctx.position);
    &ctx.all.models[position]
}

/// `LINKS` and `BACKLINKS` for the model's `::netabase_runtime::Model` impl (nothing when empty: the
/// trait's defaults are empty).
pub fn model_constants(ctx: &Ctx<'_>) -> TokenStream {
    let links = ctx.model.links().into_iter().map(|l| {
        let field = &l.field.name.schema;
        let index = proc_macro2::Literal::usize_unsuffixed(l.index);
        let checked = l.link.checked;
        let target = ident(&l.link.rust);
        quote! {
            ::netabase_runtime::__codegen::LinkDef {
                field: #field,
                index: #index,
                checked: #checked,
                target: <#target as ::netabase_runtime::Model>::LINK_TARGET,
            }
        }
    });
    let backlinks = ctx
        .schema
        .links_to(ctx.position)
        .into_iter()
        .filter(|l| l.link.checked)
        .map(|l| {
            let model = &l.model.name.schema;
            let field = &l.field.name.schema;
            let table = &names_of(ctx, l.model).keys[l.index].table;
            let unique = l.model.secondary_keys[l.index].unique;
            let source = ident(&l.model.name.rust);
            quote! {
                ::netabase_runtime::__codegen::Backlink {
                    field: #field,
                    model: #model,
                    index_table: #table,
                    unique: #unique,
                    describe: ::netabase_runtime::__codegen::describe_primary_key::<#source>,
                }
            }
        });
    let links: Vec<_> = links.collect();
    let backlinks: Vec<_> = backlinks.collect();
    let links = (!links.is_empty()).then(
        || quote!(const LINKS: &'static [::netabase_runtime::__codegen::LinkDef] = &[#(#links),*];),
    );
    let backlinks = (!backlinks.is_empty()).then(
        || quote!(const BACKLINKS: &'static [::netabase_runtime::__codegen::Backlink] = &[#(#backlinks),*];),
    );
    quote!(#links #backlinks)
}

/// The key value a generated query method is passed (`&str` for a `String`, a tuple for a
/// composite key) for a key held in the place `place` (`self.author`), or behind the reference
/// `place` when `by_ref` (`key` bound by `Some(key)`).
fn key_value(key: &Type, place: TokenStream, by_ref: bool) -> TokenStream {
    match key {
        Type::String => quote!(#place.as_str()),
        Type::Tuple(parts) => {
            let parts = parts.iter().enumerate().map(|(i, part)| {
                let i = syn::Index::from(i);
                key_value(part, quote!(#place.#i), false)
            });
            quote!((#(#parts),*))
        }
        _ if types::is_copy(key) => {
            if by_ref {
                quote!(*#place)
            } else {
                place
            }
        }
        _ if by_ref => quote!(::core::clone::Clone::clone(#place)),
        _ => quote!(::core::clone::Clone::clone(&#place)),
    }
}

/// The methods on the model following its links forward, and on it as a target following the
/// links of other models (and its own) backward.
pub fn methods(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let forward = model
        .links()
        .into_iter()
        .zip(&ctx.names.links)
        .map(|(l, method)| forward_method(ctx, &l, method));
    let backward = ctx
        .schema
        .links_to(ctx.position)
        .into_iter()
        .zip(&ctx.names.backlinks)
        .map(|(l, method)| backward_method(ctx, &l, method));
    let methods: Vec<TokenStream> = forward.chain(backward).collect();
    if methods.is_empty() {
        return TokenStream::new();
    }
    let name = ident(&model.name.rust);
    quote! {
        impl #name {
            #(#methods)*
        }
    }
}

/// `book.author_in(&authors)`: the record(s) the link points at.
fn forward_method(ctx: &Ctx<'_>, l: &LinkField<'_>, method: &str) -> TokenStream {
    let field = ident(&l.field.name.rust);
    let method = ident(method);
    let target = ident(&l.link.rust);
    let tree = ident(&ctx.all.models[l.link.model].tree);
    let key = &*l.link.key;
    let schema = &l.field.name.schema;
    let missing = if l.link.checked {
        "a checked link points at an existing record once committed"
    } else {
        "an unchecked link may point at a missing record"
    };
    let generics = quote!(<T: ::netabase_runtime::TreeRead<#target>>);
    let tree_arg = quote!(tree: &#tree<T>);
    match &l.field.ty {
        Type::Option(_) => {
            let arg = key_value(key, quote!(key), true);
            let doc = docs([format!(
                "Follows the optional link `{schema}`: its [`{target}`] in `tree`, or `None` when the link is `None` or the record is missing ({missing})."
            )
            .as_str()]);
            quote! {
                #doc
                pub fn #method #generics(&self, #tree_arg) -> ::netabase_runtime::Result<::core::option::Option<#target>> {
                    match &self.#field {
                        ::core::option::Option::Some(key) => tree.get(#arg),
                        ::core::option::Option::None => ::core::result::Result::Ok(::core::option::Option::None),
                    }
                }
            }
        }
        Type::Vec(_) => {
            let arg = key_value(key, quote!(key), true);
            let doc = docs([format!(
                "Follows the links `{schema}`: their [`{target}`] records in `tree`, in the order of the list, `None` where one is missing ({missing})."
            )
            .as_str()]);
            quote! {
                #doc
                pub fn #method #generics(&self, #tree_arg) -> ::netabase_runtime::Result<::std::vec::Vec<::core::option::Option<#target>>> {
                    self.#field.iter().map(|key| tree.get(#arg)).collect()
                }
            }
        }
        _ => {
            let arg = key_value(key, quote!(self.#field), false);
            let doc = docs([format!(
                "Follows the link `{schema}`: its [`{target}`] in `tree`, or `None` when the record is missing ({missing})."
            )
            .as_str()]);
            quote! {
                #doc
                pub fn #method #generics(&self, #tree_arg) -> ::netabase_runtime::Result<::core::option::Option<#target>> {
                    tree.get(#arg)
                }
            }
        }
    }
}

/// `author.books_by_author(&books)`: the records whose link points at this one, through the
/// link's index.
fn backward_method(ctx: &Ctx<'_>, l: &LinkField<'_>, method: &str) -> TokenStream {
    let target = ctx.model;
    let source = ident(&l.model.name.rust);
    let source_names = names_of(ctx, l.model);
    let tree = ident(&source_names.tree);
    let key = &l.model.secondary_keys[l.index];
    let lookup = ident(&source_names.keys[l.index].lookup);
    let method = ident(method);
    // The target's primary key, as the link index's methods take it.
    let parts: Vec<TokenStream> = target
        .primary_key_fields()
        .map(|f| {
            let field = ident(&f.name.rust);
            key_value(&f.ty, quote!(self.#field), false)
        })
        .collect();
    let arg = match parts.as_slice() {
        [one] => one.clone(),
        parts => quote!((#(#parts),*)),
    };
    let described = format!(
        "the [`{}`] records whose link `{}` points at this [`{}`]",
        l.model.name.rust, l.field.name.schema, target.name.rust
    );
    if key.unique {
        let doc = docs([format!(
            "The [`{}`] whose unique link `{}` points at this [`{}`], found through its index.",
            l.model.name.rust, l.field.name.schema, target.name.rust
        )
        .as_str()]);
        quote! {
            #doc
            pub fn #method<T: ::netabase_runtime::TreeRead<#source>>(&self, tree: &#tree<T>) -> ::netabase_runtime::Result<::core::option::Option<#source>> {
                tree.#lookup(#arg)
            }
        }
    } else {
        let doc = docs([format!(
            "Follows links backwards: {described}, in primary key order, found through the index of `{}`.",
            l.field.name.schema
        )
        .as_str()]);
        quote! {
            #doc
            pub fn #method<'t, T: ::netabase_runtime::TreeRead<#source>>(&self, tree: &'t #tree<T>) -> ::netabase_runtime::Result<::netabase_runtime::IndexIter<'t, #source, T::Table>> {
                tree.#lookup(#arg)
            }
        }
    }
}
