//! The named tree `XTree<T>`: a wrapper of the runtime's `netabase_runtime::Tree<X, T>` (which has the
//! methods every model has) with the typed query methods named after the model's keys, a family
//! per key (lookup, range, count, prefix, cursor), and the model's subscription filters.

use super::{Ctx, docs, ident, types};
use crate::ir::{Field, SecondaryKey, Type};
use crate::names::bare;
use crate::naming::KeyNames;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

pub fn emit(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let m = model.name.rust.as_str();
    let model_name = ident(m);
    let names = ctx.names;
    let (tree, read_tree, write_tree) = (&names.tree, &names.read_tree, &names.write_tree);
    let pk = KeyArgs::new(&model.primary_key_fields().collect::<Vec<_>>());
    let doc = docs([
        format!("The [`{m}`] records of a transaction (table `{}`).", names.table).as_str(),
        format!(
            "It dereferences to [`netabase_runtime::Tree`], which has the reading methods every \
             model has (`get`, `contains`, `range`, `iter`, `len`, `after`), taking the primary key \
             ({}) typed. The writing methods (`put`, `put_many`, `insert`, `remove`...) are here, \
             on [`{write_tree}`], with the model's types, and so are the methods named after the \
             model's keys. Its tables are opened once, when the tree \
             is opened, and stay open until it is dropped. [`{read_tree}`] reads; [`{write_tree}`] \
             also writes, and keeps every index exact.",
            pk.described
        )
        .as_str(),
    ]);
    let read_doc =
        docs([format!("[`{tree}`] in a read transaction: it has no writing methods.").as_str()]);
    let write_doc = docs([format!("[`{tree}`] in a write transaction.").as_str()]);
    let (tree, read_tree, write_tree) = (ident(tree), ident(read_tree), ident(write_tree));
    let write_methods = write_methods(ctx);

    let mut methods = Methods {
        m: &model_name,
        methods: Vec::new(),
    };
    methods.prefixes(&pk, &names.prefixes);
    for ((i, key), key_names) in model.secondary_keys.iter().enumerate().zip(&names.keys) {
        methods.secondary_key(&pk, i, key, key_names, &model.key_fields(key));
    }
    let methods = methods.methods;
    let query_methods = (!methods.is_empty()).then(|| {
        quote! {
            impl<T: ::netabase_runtime::TreeRead<#model_name>> #tree<T> {
                #(#methods)*
            }
        }
    });
    quote! {
        #doc
        pub struct #tree<T> {
            inner: ::netabase_runtime::Tree<#model_name, T>,
        }
        #read_doc
        pub type #read_tree<'t> = #tree<::netabase_runtime::ReadTree<'t, #model_name>>;
        #write_doc
        pub type #write_tree<'t> = #tree<::netabase_runtime::WriteTree<'t, #model_name>>;
        impl<T> ::core::convert::From<T> for #tree<T> {
            fn from(inner: T) -> Self {
                Self {
                    inner: ::core::convert::From::from(inner),
                }
            }
        }
        impl<T> ::core::ops::Deref for #tree<T> {
            type Target = ::netabase_runtime::Tree<#model_name, T>;
            fn deref(&self) -> &Self::Target {
                &self.inner
            }
        }
        impl<T> ::core::ops::DerefMut for #tree<T> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.inner
            }
        }
        #write_methods
        #query_methods
    }
}

/// The writing methods of `netabase_runtime::Tree`, forwarded on the write tree with the model's
/// own types (`record: &City`, `key: &str`): rustdoc lists methods reached through `Deref` only
/// from impls generic over the tree, so without these a user reading the write tree's page
/// would not find `put`, and keys would read `<M as Model>::KeyArg<'_>`.
fn write_methods(ctx: &Ctx<'_>) -> TokenStream {
    let m = ident(&ctx.model.name.rust);
    let tree = ident(&ctx.names.tree);
    let borrows = ctx
        .model
        .primary_key_fields()
        .any(|f| types::key_argument_borrows(&f.ty));
    // One key argument: its lifetime elided. A sequence or range of keys: named `'k`.
    let key = types::primary_key_argument(ctx.model);
    let one_key = {
        let tys: Vec<TokenStream> = ctx
            .model
            .primary_key_fields()
            .map(|f| types::key_argument(&f.ty, false))
            .collect();
        match tys.as_slice() {
            [only] => only.clone(),
            _ => quote!((#(#tys),*)),
        }
    };
    let lt = borrows.then(|| quote!(<'k>));
    let doc = |text: &str| docs([text]);
    let put = doc(
        "Inserts the record, or replaces the one with the same primary key, and updates every index. A unique key held by another record is `Error::UniqueViolation` and changes nothing.",
    );
    let insert = doc(
        "Inserts the record; one with the same primary key is `Error::AlreadyExists` and changes nothing.",
    );
    let put_many =
        doc("Puts every record, in order; all or nothing. Returns how many were written.");
    let remove =
        doc("Removes the record with primary key `key` and its index entries; returns it.");
    let delete = doc(
        "Removes the record with primary key `key` and its index entries; returns whether it existed (the record is not decoded).",
    );
    let remove_many = doc(
        "Removes the records with these primary keys (missing ones are skipped); all or nothing. Returns how many were removed.",
    );
    let remove_range = doc(
        "Removes the records whose primary key falls within `range`; all or nothing. Returns how many were removed.",
    );
    let retain = doc(
        "Keeps only the records for which `keep` returns `true`; all or nothing. Returns how many were removed.",
    );
    let clear = doc("Removes every record and index entry. Returns how many records there were.");
    // The method names are `naming::WRITE_METHODS` (a test checks that they agree).
    quote! {
        impl #tree<::netabase_runtime::WriteTree<'_, #m>> {
            #put
            pub fn put(&mut self, record: &#m) -> ::netabase_runtime::Result<()> {
                self.inner.put(record)
            }
            #insert
            pub fn insert(&mut self, record: &#m) -> ::netabase_runtime::Result<()> {
                self.inner.insert(record)
            }
            #put_many
            pub fn put_many(
                &mut self,
                records: impl ::core::iter::IntoIterator<Item = impl ::core::borrow::Borrow<#m>>,
            ) -> ::netabase_runtime::Result<u64> {
                self.inner.put_many(records)
            }
            #remove
            pub fn remove(
                &mut self,
                key: #one_key,
            ) -> ::netabase_runtime::Result<::core::option::Option<#m>> {
                self.inner.remove(key)
            }
            #delete
            pub fn delete(&mut self, key: #one_key) -> ::netabase_runtime::Result<bool> {
                self.inner.delete(key)
            }
            #remove_many
            pub fn remove_many #lt(
                &mut self,
                keys: impl ::core::iter::IntoIterator<Item = #key>,
            ) -> ::netabase_runtime::Result<u64> {
                self.inner.remove_many(keys)
            }
            #remove_range
            pub fn remove_range #lt(
                &mut self,
                range: impl ::core::ops::RangeBounds<#key>,
            ) -> ::netabase_runtime::Result<u64> {
                self.inner.remove_range(range)
            }
            #retain
            pub fn retain(
                &mut self,
                keep: impl ::core::ops::FnMut(&#m) -> bool,
            ) -> ::netabase_runtime::Result<u64> {
                self.inner.retain(keep)
            }
            #clear
            pub fn clear(&mut self) -> ::netabase_runtime::Result<u64> {
                self.inner.clear()
            }
        }
    }
}

/// A key (primary or secondary) as method arguments and as one encodable value.
struct KeyArgs<'a> {
    fields: Vec<&'a Field>,
    /// `geonameid`, `country`...
    names: Vec<Ident>,
    /// `geonameid: u64`, `country: &str`, `year: i32`
    args: Vec<TokenStream>,
    /// `&geonameid`, `&(country, year)`
    value: TokenStream,
    /// `u64`, `(&'k str, i32)`: the type ranges take.
    ty: TokenStream,
    /// `<'k>` when `ty` borrows.
    lt: Option<TokenStream>,
    /// "`geonameid`", "`country`, `year`"
    described: String,
}

impl<'a> KeyArgs<'a> {
    /// The arguments of a key over `fields` (an `Option` field is keyed by its inner type).
    fn new(fields: &[&'a Field]) -> Self {
        Self::with_prefix(fields, "", &[])
    }

    /// The same with prefixed names (`after_id`), for methods that also take another key whose
    /// fields may have the same names: a name in `taken` gets underscores until it is free
    /// (`after_id_` beside a key field `after_id`).
    fn with_prefix(fields: &[&'a Field], prefix: &str, taken: &[Ident]) -> Self {
        let mut taken: Vec<String> = taken.iter().map(|i| i.to_string()).collect();
        let mut names: Vec<Ident> = Vec::with_capacity(fields.len());
        for f in fields {
            let name = if prefix.is_empty() {
                f.name.rust.clone()
            } else {
                crate::names::fresh(format!("{prefix}{}", bare(&f.name.rust)), &taken)
            };
            names.push(ident(&name));
            taken.push(name);
        }
        let args = names
            .iter()
            .zip(fields)
            .map(|(n, f)| {
                let ty = types::key_argument(f.ty.indexed(), false);
                quote!(#n: #ty)
            })
            .collect();
        let named: Vec<TokenStream> = fields
            .iter()
            .map(|f| types::key_argument(f.ty.indexed(), true))
            .collect();
        let (value, ty) = match (names.as_slice(), named.as_slice()) {
            ([name], [ty]) => (quote!(&#name), ty.clone()),
            _ => (quote!(&(#(#names),*)), quote!((#(#named),*))),
        };
        let borrows = fields
            .iter()
            .any(|f| types::key_argument_borrows(f.ty.indexed()));
        Self {
            lt: borrows.then(|| quote!(<'k>)),
            names,
            args,
            value,
            ty,
            described: described(fields),
            fields: fields.to_vec(),
        }
    }
}

/// "`country`, `year`"
fn described(fields: &[&Field]) -> String {
    fields
        .iter()
        .map(|f| format!("`{}`", f.name.schema))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The methods of the tree's inherent impl, in order.
struct Methods<'m> {
    m: &'m Ident,
    methods: Vec<TokenStream>,
}

impl Methods<'_> {
    /// A whole method: docs, signature (after `&self`) and body.
    fn method(
        &mut self,
        doc: &str,
        name: &str,
        generics: Option<&TokenStream>,
        params: &[TokenStream],
        ret: &TokenStream,
        body: TokenStream,
    ) {
        let doc = docs([doc]);
        let name = ident(name);
        self.methods.push(quote! {
            #doc
            pub fn #name #generics(&self, #(#params),*) -> #ret {
                #body
            }
        });
    }

    /// `prefix("San")` for a `String` primary key; `prefix_country(..)`,
    /// `prefix_country_year(..)` for the leading components of a composite key.
    fn prefixes(&mut self, pk: &KeyArgs<'_>, names: &[String]) {
        let m = self.m;
        let iter = quote!(::netabase_runtime::Result<::netabase_runtime::Iter<'_, #m>>);
        if let [only] = pk.fields.as_slice() {
            if let [name] = names {
                let doc = format!(
                    "The records whose primary key `{}` starts with `prefix`, in key order.",
                    only.name.schema
                );
                self.method(
                    &doc,
                    name,
                    None,
                    &[quote!(prefix: &str)],
                    &iter,
                    quote! {
                        ::netabase_runtime::TreeRead::scan(
                            self.inner.raw(),
                            &::netabase_runtime::__codegen::KeyBounds::string_prefix(prefix),
                        )
                    },
                );
            }
            return;
        }
        self.leading_prefixes(
            pk,
            names,
            |parts| {
                format!("The records whose primary key starts with these values of {parts}, in key order.")
            },
            &iter,
            |bounds| quote!(::netabase_runtime::TreeRead::scan(self.inner.raw(), #bounds)),
        );
    }

    /// One method per proper leading part of a composite key (`names`: `{name}_country`,
    /// `{name}_country_year`), taking those parts, encoding them into a prefix and handing
    /// `finish` the bounds of every entry that starts with it.
    fn leading_prefixes(
        &mut self,
        key: &KeyArgs<'_>,
        names: &[String],
        doc: impl Fn(&str) -> String,
        ret: &TokenStream,
        finish: impl Fn(TokenStream) -> TokenStream,
    ) {
        for (len, method) in (1..key.fields.len()).zip(names) {
            // A composite key's encoding is its parts' encodings in a row, so the leading
            // parts as a tuple are the prefix.
            let value = match &key.names[..len] {
                [only] => quote!(&#only),
                names => quote!(&(#(#names),*)),
            };
            let body = finish(quote!(&::netabase_runtime::__codegen::KeyBounds::exact(#value)));
            self.method(
                &doc(&described(&key.fields[..len])),
                method,
                None,
                &key.args[..len],
                ret,
                body,
            );
        }
    }

    fn secondary_key(
        &mut self,
        pk: &KeyArgs<'_>,
        index: usize,
        key: &SecondaryKey,
        names: &KeyNames,
        fields: &[&Field],
    ) {
        let i = Literal::usize_unsuffixed(index);
        let schema = &key.name.schema;
        let parts = KeyArgs::new(fields);
        let optional = fields.iter().any(|f| matches!(f.ty, Type::Option(_)));
        let multi = fields.iter().find(|f| matches!(f.ty, Type::Vec(_)));
        let mut none = String::new();
        if optional {
            none.push_str(" Records where a part of the key is `None` are not indexed.");
        }
        if let Some(f) = multi {
            none.push_str(&format!(
                " Multi-valued: a record is found through each element of `{}`, once.",
                f.name.schema
            ));
        }
        let m = self.m;
        let iter = quote!(
            ::netabase_runtime::Result<::netabase_runtime::IndexIter<'_, #m, T::Table>>
        );
        let count = quote!(::netabase_runtime::Result<u64>);
        let equals = if fields.len() == 1 {
            format!("`{schema}` equals `{}`", bare(&fields[0].name.rust))
        } else {
            format!("key `{schema}` ({}) equals the arguments", parts.described)
        };
        let scan = |bounds: TokenStream| quote!(::netabase_runtime::TreeRead::scan_index(self.inner.raw(), #i, #bounds));
        let views = quote!(
            ::netabase_runtime::Result<
                ::netabase_runtime::IndexIter<'_, #m, T::Table, ::netabase_runtime::Views>,
            >
        );
        let scan_views = |bounds: TokenStream| quote!(::netabase_runtime::TreeRead::scan_index::<::netabase_runtime::Views>(self.inner.raw(), #i, #bounds));
        let count_index = |bounds: TokenStream| quote!(::netabase_runtime::TreeRead::count_index(self.inner.raw(), #i, #bounds));
        let value = &parts.value;
        let exact = quote!(&::netabase_runtime::__codegen::KeyBounds::exact(#value));

        if key.unique {
            self.method(
                &format!("The record whose unique {equals}.{none}"),
                &names.lookup,
                None,
                &parts.args,
                &quote!(::netabase_runtime::Result<::core::option::Option<#m>>),
                quote!(::netabase_runtime::TreeRead::get_by_unique(self.inner.raw(), #i, #value)),
            );
        }
        if let (Some(count_name), Some(after_name), Some(lookup_ref)) =
            (&names.count, &names.after, &names.lookup_ref)
        {
            self.method(
                &format!("The records whose {equals}, in primary key order.{none}"),
                &names.lookup,
                None,
                &parts.args,
                &iter,
                scan(exact.clone()),
            );
            self.method(
                &format!(
                    "As [`{lookup}`](Self::{lookup}), yielding guards for zero-copy views (`guard.view()`): nothing is decoded into owned values.",
                    lookup = names.lookup
                ),
                lookup_ref,
                None,
                &parts.args,
                &views,
                scan_views(exact.clone()),
            );
            self.method(
                &format!(
                    "How many records have {equals} (no record is read; the index entries \
                     are counted one by one, so the cost grows with the count).{none}"
                ),
                count_name,
                None,
                &parts.args,
                &count,
                count_index(exact),
            );
            let after = KeyArgs::with_prefix(&pk.fields, "after_", &parts.names);
            let mut params = parts.args.clone();
            params.extend(after.args.iter().cloned());
            let after_value = &after.value;
            self.method(
                &format!(
                    "The records whose {equals} and whose primary key comes after `after_*`: a cursor for stable paging through one value.{none}"
                ),
                after_name,
                None,
                &params,
                &iter,
                scan(quote!(
                    &::netabase_runtime::__codegen::KeyBounds::exact_after(#value, #after_value)
                )),
            );
        }
        let ty = &parts.ty;
        let range_param = [quote!(range: impl ::core::ops::RangeBounds<#ty>)];
        let range = quote!(&::netabase_runtime::__codegen::KeyBounds::range(&range));
        self.method(
            &format!("The records whose key `{schema}` falls within `range`, in (key, primary key) order.{none}"),
            &names.range,
            parts.lt.as_ref(),
            &range_param,
            &iter,
            scan(range.clone()),
        );
        self.method(
            &format!(
                "As [`{range_name}`](Self::{range_name}), yielding guards for zero-copy views (`guard.view()`): nothing is decoded into owned values.",
                range_name = names.range
            ),
            &names.range_ref,
            parts.lt.as_ref(),
            &range_param,
            &views,
            scan_views(range.clone()),
        );
        self.method(
            &format!(
                "How many records have key `{schema}` within `range` (no record is read; the index \
                 entries are counted one by one, so the cost grows with the count).{none}"
            ),
            &names.count_range,
            parts.lt.as_ref(),
            &range_param,
            &count,
            count_index(range),
        );
        if let [_] = fields {
            if let [name] = names.prefixes.as_slice() {
                self.method(
                    &format!("The records whose `{schema}` starts with `prefix`, in (`{schema}`, primary key) order.{none}"),
                    name,
                    None,
                    &[quote!(prefix: &str)],
                    &iter,
                    scan(quote!(&::netabase_runtime::__codegen::KeyBounds::string_prefix(prefix))),
                );
            }
            return;
        }
        self.leading_prefixes(
            &parts,
            &names.prefixes,
            |leading| format!(
                "The records whose key `{schema}` starts with these values of {leading}, in (key, primary key) order: `.rev()` gives the largest rest-of-key first.{none}"
            ),
            &iter,
            scan,
        );
    }
}

/// `impl City { pub fn watch_by_country_code(country_code: &str) -> Filter<City> }`: one
/// subscription filter per secondary key, each a one-line call of the runtime's
/// `Filter::index` (the other filters are generic: `Filter::all()`, `Filter::key(..)`...).
pub fn watch_filters(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    if model.secondary_keys.is_empty() {
        return TokenStream::new();
    }
    let m = model.name.rust.as_str();
    let model_name = ident(m);
    let filters = model
        .secondary_keys
        .iter()
        .zip(&ctx.names.keys)
        .map(|(key, names)| {
            let fields = model.key_fields(key);
            let parts = KeyArgs::new(&fields);
            let schema = &key.name.schema;
            let equals = match fields.as_slice() {
                [only] => format!("`{schema}` equals `{}`", bare(&only.name.rust)),
                _ => format!("key `{schema}` ({}) equals the arguments", parts.described),
            };
            let doc = docs([format!(
                "A subscription filter: the changes of the `{m}` records whose {equals}, before \
                 or after the change. Pass it to `::netabase_runtime::Store::watch`."
            )
            .as_str()]);
            let name = ident(&names.watch);
            let args = &parts.args;
            let value = &parts.value;
            quote! {
                #doc
                pub fn #name(#(#args),*) -> ::netabase_runtime::Filter<#model_name> {
                    ::netabase_runtime::Filter::index(#schema, #value)
                }
            }
        });
    quote! {
        impl #model_name {
            #(#filters)*
        }
    }
}

#[cfg(test)]
mod tests {
    /// The write tree's methods are written out in the template; the collision check reads
    /// them from `naming::WRITE_METHODS`: the two lists must agree.
    #[test]
    fn write_methods_are_the_ones_the_naming_pass_lists() {
        let source = "[definition]\nname = \"D\"\nversion = 1\n\n[models.M]\nprimary_key = \"id\"\n[models.M.fields]\nid = \"String\"\n";
        let mut errors = Vec::new();
        let raw = crate::parse::parse(source, &mut errors).expect("parses");
        let schema = crate::validate::validate(raw, source, "d.toml", &mut errors).expect("valid");
        let names = crate::naming::Names::new(&schema);
        let ctx = super::Ctx {
            schema: &schema,
            model: &schema.models[0],
            position: 0,
            names: &names.models[0],
            all: &names,
        };
        let block: syn::ItemImpl = syn::parse2(super::write_methods(&ctx)).expect("an impl");
        let methods: Vec<String> = block
            .items
            .iter()
            .filter_map(|item| match item {
                syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(methods, crate::naming::WRITE_METHODS);
    }
}
