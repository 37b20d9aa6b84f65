//! The named tree `XTree<T>`: typed query methods over a runtime tree, a family per key
//! (lookup, range, count, prefix, cursor), and writing methods on the write tree only.

use super::{Ctx, docs, ident, model::model_table, types};
use crate::ir::{Field, SecondaryKey, Type};
use crate::names::bare;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

pub fn emit(ctx: &Ctx<'_>) -> TokenStream {
    let model = ctx.model;
    let m = ident(&model.name.rust);
    let tree = ctx.model_ident("Tree");
    let read_tree = ctx.model_ident("ReadTree");
    let write_tree = ctx.model_ident("WriteTree");
    let table = model_table(ctx);
    let pk = KeyArgs::new(&model.primary_key_fields().collect::<Vec<_>>());
    let doc = docs([
        format!("The [`{}`] records of a transaction (table `{table}`).", model.name.rust).as_str(),
        format!(
            "It dereferences to [`netabase::Tree`](::netabase::Tree), which has the methods every \
             model has (`get`, `contains`, `range`, `iter`, `len`, `after`; on [`{write_tree}`] also \
             `put`, `insert`, `remove`...), taking the primary key ({}) typed. The methods here \
             are the ones named after the model's keys. Its tables are opened once, when the tree \
             is opened, and stay open until it is dropped. [`{read_tree}`] reads; [`{write_tree}`] \
             also writes, and keeps every index exact.",
            pk.described
        )
        .as_str(),
    ]);
    let read_doc =
        docs([format!("[`{tree}`] in a read transaction: it has no writing methods.").as_str()]);
    let write_doc = docs([format!("[`{tree}`] in a write transaction.").as_str()]);
    let prefixes = prefix_methods(&m, &pk);
    let index_methods: Vec<TokenStream> = model
        .secondary_keys
        .iter()
        .enumerate()
        .map(|(i, key)| secondary_key_methods(&m, &pk, i, key, &model.key_fields(key)))
        .collect();
    let methods = (!prefixes.is_empty() || !index_methods.is_empty()).then(|| {
        quote! {
            impl<T: ::netabase::TreeRead<#m>> #tree<T> {
                #prefixes
                #(#index_methods)*
            }
        }
    });
    quote! {
        #doc
        pub struct #tree<T> {
            inner: ::netabase::Tree<#m, T>,
        }

        #read_doc
        pub type #read_tree<'t> = #tree<::netabase::ReadTree<'t, #m>>;

        #write_doc
        pub type #write_tree<'t> = #tree<::netabase::WriteTree<'t, #m>>;

        impl<T> ::core::convert::From<T> for #tree<T> {
            fn from(inner: T) -> Self {
                Self { inner: ::core::convert::From::from(inner) }
            }
        }

        impl<T> ::core::ops::Deref for #tree<T> {
            type Target = ::netabase::Tree<#m, T>;
            fn deref(&self) -> &Self::Target {
                &self.inner
            }
        }

        impl<T> ::core::ops::DerefMut for #tree<T> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.inner
            }
        }

        #methods
    }
}

/// A key (primary or secondary) as method arguments and as one encodable value.
struct KeyArgs<'a> {
    fields: Vec<&'a Field>,
    /// `geonameid: u64`, `country: &str, year: i32`
    args: Vec<TokenStream>,
    /// `&geonameid`, `&(country, year)`
    value: TokenStream,
    /// `u64`, `(&'k str, i32)`: the type ranges and batches take.
    ty: TokenStream,
    /// `<'k>` when `ty` borrows.
    lt: TokenStream,
    /// "`geonameid`", "`country`, `year`"
    described: String,
}

impl<'a> KeyArgs<'a> {
    /// The arguments of a key over `fields` (an `Option` field is keyed by its inner type).
    fn new(fields: &[&'a Field]) -> Self {
        let names: Vec<Ident> = fields.iter().map(|f| ident(&f.name.rust)).collect();
        let tys: Vec<TokenStream> = fields
            .iter()
            .map(|f| types::key_argument(types::indexed(&f.ty)))
            .collect();
        let named: Vec<TokenStream> = fields
            .iter()
            .map(|f| types::key_argument_named(types::indexed(&f.ty)))
            .collect();
        let (value, ty) = if fields.len() == 1 {
            let (name, ty) = (&names[0], &named[0]);
            (quote!(&#name), quote!(#ty))
        } else {
            (quote!(&(#(#names),*)), quote!((#(#named),*)))
        };
        Self {
            lt: types::key_lifetime(fields.iter().map(|f| types::indexed(&f.ty))),
            args: names
                .iter()
                .zip(&tys)
                .map(|(n, t)| quote!(#n: #t))
                .collect(),
            value,
            ty,
            described: fields
                .iter()
                .map(|f| format!("`{}`", f.name.schema))
                .collect::<Vec<_>>()
                .join(", "),
            fields: fields.to_vec(),
        }
    }

    /// The arguments and value again with prefixed names (`after_id`), for methods that also
    /// take another key whose fields may have the same names.
    fn prefixed(&self, prefix: &str) -> (Vec<TokenStream>, TokenStream) {
        let names: Vec<Ident> = self
            .fields
            .iter()
            .map(|f| format_ident!("{prefix}{}", bare(&f.name.rust)))
            .collect();
        let args = names
            .iter()
            .zip(&self.fields)
            .map(|(n, f)| {
                let ty = types::key_argument(types::indexed(&f.ty));
                quote!(#n: #ty)
            })
            .collect();
        let value = match names.as_slice() {
            [only] => quote!(&#only),
            _ => quote!(&(#(#names),*)),
        };
        (args, value)
    }
}

/// `prefix("San")` for a `String` key; `prefix_country(..)`, `prefix_country_year(..)` for the
/// leading components of a composite key.
fn prefix_methods(m: &Ident, pk: &KeyArgs<'_>) -> TokenStream {
    if let [only] = pk.fields.as_slice() {
        if only.ty != Type::String {
            return quote!();
        }
        let doc = docs([format!(
            "The records whose primary key `{}` starts with `prefix`, in key order.",
            only.name.schema
        )
        .as_str()]);
        return quote! {
            #doc
            pub fn prefix(&self, prefix: &str) -> ::netabase::Result<::netabase::Iter<'_, #m>> {
                ::netabase::TreeRead::scan(self.inner.raw(), &::netabase::KeyBounds::string_prefix(prefix))
            }
        };
    }
    let methods = (1..pk.fields.len()).map(|len| {
        let leading = &pk.fields[..len];
        let names: Vec<Ident> = leading.iter().map(|f| ident(&f.name.rust)).collect();
        let args = &pk.args[..len];
        let method = format_ident!(
            "prefix_{}",
            leading
                .iter()
                .map(|f| bare(&f.name.rust))
                .collect::<Vec<_>>()
                .join("_")
        );
        let described = leading
            .iter()
            .map(|f| format!("`{}`", f.name.schema))
            .collect::<Vec<_>>()
            .join(", ");
        let doc = docs([format!(
            "The records whose primary key starts with these values of {described}, in key order."
        )
        .as_str()]);
        quote! {
            #doc
            pub fn #method(&self, #(#args),*) -> ::netabase::Result<::netabase::Iter<'_, #m>> {
                let mut prefix = ::std::vec::Vec::new();
                #(::netabase::codec::KeyPart::encode_key(&#names, &mut prefix);)*
                ::netabase::TreeRead::scan(self.inner.raw(), &::netabase::KeyBounds::prefix(prefix))
            }
        }
    });
    quote!(#(#methods)*)
}

fn secondary_key_methods(
    m: &Ident,
    pk: &KeyArgs<'_>,
    index: usize,
    key: &SecondaryKey,
    fields: &[&Field],
) -> TokenStream {
    let i = proc_macro2::Literal::usize_unsuffixed(index);
    let base = bare(&key.name.rust);
    let schema = &key.name.schema;
    let parts = KeyArgs::new(fields);
    let KeyArgs {
        args,
        value,
        ty,
        lt,
        ..
    } = &parts;
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
    let iter = quote!(::netabase::Result<::netabase::IndexIter<'_, #m, T::Table>>);
    let doc = |text: String| docs([format!("{text}{none}").as_str()]);
    let equals = if fields.len() == 1 {
        format!("`{schema}` equals `{}`", bare(&fields[0].name.rust))
    } else {
        format!("key `{schema}` ({}) equals the arguments", parts.described)
    };

    let lookup = if key.unique {
        let method = format_ident!("get_by_{base}");
        let d = doc(format!("The record whose unique {equals}."));
        quote! {
            #d
            pub fn #method(&self, #(#args),*) -> ::netabase::Result<::core::option::Option<#m>> {
                ::netabase::TreeRead::get_by_unique(self.inner.raw(), #i, #value)
            }
        }
    } else {
        let by = format_ident!("by_{base}");
        let count = format_ident!("count_by_{base}");
        let after = format_ident!("by_{base}_after");
        let d_by = doc(format!("The records whose {equals}, in primary key order."));
        let d_count = doc(format!(
            "How many records have {equals} (no record is read)."
        ));
        let d_after = doc(format!(
            "The records whose {equals} and whose primary key comes after `after_*`: a cursor for stable paging through one value."
        ));
        let (after_args, after_value) = pk.prefixed("after_");
        quote! {
            #d_by
            pub fn #by(&self, #(#args),*) -> #iter {
                ::netabase::TreeRead::scan_index(self.inner.raw(), #i, &::netabase::KeyBounds::exact(#value))
            }

            #d_count
            pub fn #count(&self, #(#args),*) -> ::netabase::Result<u64> {
                ::netabase::TreeRead::count_index(self.inner.raw(), #i, &::netabase::KeyBounds::exact(#value))
            }

            #d_after
            pub fn #after(&self, #(#args,)* #(#after_args),*) -> #iter {
                let mut key = ::std::vec::Vec::new();
                ::netabase::codec::KeyPart::encode_key(#value, &mut key);
                let mut after = ::std::vec::Vec::new();
                ::netabase::codec::KeyPart::encode_key(#after_value, &mut after);
                ::netabase::TreeRead::scan_index(self.inner.raw(), #i, &::netabase::KeyBounds::prefix_after(key, &after))
            }
        }
    };
    let range = format_ident!("range_by_{base}");
    let count_range = format_ident!("count_range_by_{base}");
    let d_range = doc(format!(
        "The records whose key `{schema}` falls within `range`, in (key, primary key) order."
    ));
    let d_count_range = doc(format!(
        "How many records have key `{schema}` within `range` (no record is read)."
    ));
    let prefixes = if let [only] = fields {
        (types::indexed(&only.ty) == &Type::String).then(|| {
            let method = format_ident!("prefix_by_{base}");
            let d = doc(format!("The records whose `{schema}` starts with `prefix`, in (`{schema}`, primary key) order."));
            quote! {
                #d
                pub fn #method(&self, prefix: &str) -> #iter {
                    ::netabase::TreeRead::scan_index(self.inner.raw(), #i, &::netabase::KeyBounds::string_prefix(prefix))
                }
            }
        })
    } else {
        let methods = (1..fields.len()).map(|len| {
            let leading = &fields[..len];
            let names: Vec<Ident> = leading.iter().map(|f| ident(&f.name.rust)).collect();
            let leading_args = &args[..len];
            let method = format_ident!("prefix_by_{base}_{}", leading.iter().map(|f| bare(&f.name.rust)).collect::<Vec<_>>().join("_"));
            let d = doc(format!(
                "The records whose key `{schema}` starts with these values of {}, in (key, primary key) order: `.rev()` gives the largest rest-of-key first.",
                leading.iter().map(|f| format!("`{}`", f.name.schema)).collect::<Vec<_>>().join(", ")
            ));
            quote! {
                #d
                pub fn #method(&self, #(#leading_args),*) -> #iter {
                    let mut prefix = ::std::vec::Vec::new();
                    #(::netabase::codec::KeyPart::encode_key(&#names, &mut prefix);)*
                    ::netabase::TreeRead::scan_index(self.inner.raw(), #i, &::netabase::KeyBounds::prefix(prefix))
                }
            }
        });
        Some(quote!(#(#methods)*))
    };
    quote! {
        #lookup

        #d_range
        pub fn #range #lt(&self, range: impl ::core::ops::RangeBounds<#ty>) -> #iter {
            ::netabase::TreeRead::scan_index(self.inner.raw(), #i, &::netabase::KeyBounds::range(&range))
        }

        #d_count_range
        pub fn #count_range #lt(&self, range: impl ::core::ops::RangeBounds<#ty>) -> ::netabase::Result<u64> {
            ::netabase::TreeRead::count_index(self.inner.raw(), #i, &::netabase::KeyBounds::range(&range))
        }

        #prefixes
    }
}
