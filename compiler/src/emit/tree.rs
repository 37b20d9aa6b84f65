//! The named tree `XTree<T>`: a wrapper of the runtime's `netabase_runtime::Tree<X, T>` (which has the
//! methods every model has) with the typed query methods named after the model's keys, a family
//! per key (lookup, range, count, prefix, cursor). Written as formatted text (see
//! [`super::text`]): it is the largest part of the output and entirely regular.

use super::text::{Code, lit_str};
use super::{Ctx, types};
use crate::ir::{Field, SecondaryKey, Type};
use crate::names::bare;

pub fn emit(ctx: &Ctx<'_>, code: &mut Code) {
    let model = ctx.model;
    let m = model.name.rust.as_str();
    let tree = &ctx.names.tree;
    let read_tree = &ctx.names.read_tree;
    let write_tree = &ctx.names.write_tree;
    let table = ctx.schema.record_table(model);
    let pk = KeyArgs::new(&model.primary_key_fields().collect::<Vec<_>>());
    code.item_doc([
        format!("The [`{m}`] records of a transaction (table `{table}`).").as_str(),
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
    code.line(0, &format!("pub struct {tree}<T> {{"));
    code.line(1, &format!("inner: ::netabase_runtime::Tree<{m}, T>,"));
    code.line(0, "}");
    code.item_doc([
        format!("[`{tree}`] in a read transaction: it has no writing methods.").as_str(),
    ]);
    code.type_alias(
        &format!("{read_tree}<'t>"),
        tree,
        &format!("::netabase_runtime::ReadTree<'t, {m}>"),
    );
    code.item_doc([format!("[`{tree}`] in a write transaction.").as_str()]);
    code.type_alias(
        &format!("{write_tree}<'t>"),
        tree,
        &format!("::netabase_runtime::WriteTree<'t, {m}>"),
    );
    code.allow();
    code.line(
        0,
        &format!("impl<T> ::core::convert::From<T> for {tree}<T> {{"),
    );
    code.line(1, "fn from(inner: T) -> Self {");
    code.line(2, "Self {");
    code.line(3, "inner: ::core::convert::From::from(inner),");
    code.line(2, "}");
    code.line(1, "}");
    code.line(0, "}");
    code.allow();
    code.line(0, &format!("impl<T> ::core::ops::Deref for {tree}<T> {{"));
    code.line(
        1,
        &format!("type Target = ::netabase_runtime::Tree<{m}, T>;"),
    );
    code.line(1, "fn deref(&self) -> &Self::Target {");
    code.line(2, "&self.inner");
    code.line(1, "}");
    code.line(0, "}");
    code.allow();
    code.line(
        0,
        &format!("impl<T> ::core::ops::DerefMut for {tree}<T> {{"),
    );
    code.line(1, "fn deref_mut(&mut self) -> &mut Self::Target {");
    code.line(2, "&mut self.inner");
    code.line(1, "}");
    code.line(0, "}");

    write_methods(ctx, code);

    let string_pk = matches!(pk.fields.as_slice(), [only] if only.ty == Type::String);
    if string_pk || pk.fields.len() > 1 || !model.secondary_keys.is_empty() {
        code.allow();
        code.line(
            0,
            &format!("impl<T: ::netabase_runtime::TreeRead<{m}>> {tree}<T> {{"),
        );
        let mut methods = Methods {
            code: &mut *code,
            m,
            owner: tree,
        };
        methods.prefixes(&pk);
        for (i, key) in model.secondary_keys.iter().enumerate() {
            methods.secondary_key(&pk, i, key, &model.key_fields(key));
        }
        code.line(0, "}");
    }
}

/// The writing methods of `netabase_runtime::Tree`, forwarded on the write tree with the model's
/// own types (`record: &City`, `key: &str`): rustdoc lists methods reached through `Deref` only
/// from impls generic over the tree, so without these a user reading the write tree's page
/// would not find `put`, and keys would read `<M as Model>::KeyArg<'_>`.
fn write_methods(ctx: &Ctx<'_>, code: &mut Code) {
    let m = ctx.model.name.rust.as_str();
    let tree = &ctx.names.tree;
    let key = super::model::primary_key_argument(ctx.model);
    let borrows = key.contains("'k");
    // One key argument: its lifetime elided. A sequence or range of keys: named `'k`.
    let one_key = key.replace("'k ", "");
    let lt = if borrows { "<'k>" } else { "" };
    let result = |t: &str| format!("::netabase_runtime::Result<{t}>");
    let methods: [(&str, &str, &str, String, String, &str); 9] = [
        (
            "Inserts the record, or replaces the one with the same primary key, and updates every index. A unique key held by another record is `Error::UniqueViolation` and changes nothing.",
            "put",
            "",
            format!("record: &{m}"),
            result("()"),
            "put(record)",
        ),
        (
            "Inserts the record; one with the same primary key is `Error::AlreadyExists` and changes nothing.",
            "insert",
            "",
            format!("record: &{m}"),
            result("()"),
            "insert(record)",
        ),
        (
            "Puts every record, in order; all or nothing. Returns how many were written.",
            "put_many",
            "",
            format!(
                "records: impl ::core::iter::IntoIterator<Item = impl ::core::borrow::Borrow<{m}>>"
            ),
            result("u64"),
            "put_many(records)",
        ),
        (
            "Removes the record with primary key `key` and its index entries; returns it.",
            "remove",
            "",
            format!("key: {one_key}"),
            result(&format!("::core::option::Option<{m}>")),
            "remove(key)",
        ),
        (
            "Removes the record with primary key `key` and its index entries; returns whether it existed (the record is not decoded).",
            "delete",
            "",
            format!("key: {one_key}"),
            result("bool"),
            "delete(key)",
        ),
        (
            "Removes the records with these primary keys (missing ones are skipped); all or nothing. Returns how many were removed.",
            "remove_many",
            lt,
            format!("keys: impl ::core::iter::IntoIterator<Item = {key}>"),
            result("u64"),
            "remove_many(keys)",
        ),
        (
            "Removes the records whose primary key falls within `range`; all or nothing. Returns how many were removed.",
            "remove_range",
            lt,
            format!("range: impl ::core::ops::RangeBounds<{key}>"),
            result("u64"),
            "remove_range(range)",
        ),
        (
            "Keeps only the records for which `keep` returns `true`; all or nothing. Returns how many were removed.",
            "retain",
            "",
            format!("keep: impl ::core::ops::FnMut(&{m}) -> bool"),
            result("u64"),
            "retain(keep)",
        ),
        (
            "Removes every record and index entry. Returns how many records there were.",
            "clear",
            "",
            String::new(),
            result("u64"),
            "clear()",
        ),
    ];
    code.allow();
    code.line(
        0,
        &format!("impl {tree}<::netabase_runtime::WriteTree<'_, {m}>> {{"),
    );
    for (doc, name, generics, param, ret, call) in &methods {
        code.doc(1, [*doc]);
        let mut params = vec!["&mut self"];
        if !param.is_empty() {
            params.push(param);
        }
        code.fn_open(1, &format!("pub fn {name}{generics}"), &params, ret);
        code.line(2, &format!("self.inner.{call}"));
        code.line(1, "}");
    }
    code.line(0, "}");
}

/// A key (primary or secondary) as method arguments and as one encodable value.
struct KeyArgs<'a> {
    fields: Vec<&'a Field>,
    /// `geonameid`, `country`...
    names: Vec<String>,
    /// `geonameid: u64`, `country: &str`, `year: i32`
    args: Vec<String>,
    /// `&geonameid`, `&(country, year)`
    value: String,
    /// `u64`, `(&'k str, i32)`: the type ranges take.
    ty: String,
    /// `<'k>` when `ty` borrows.
    lt: &'static str,
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
    fn with_prefix(fields: &[&'a Field], prefix: &str, taken: &[String]) -> Self {
        let mut taken = taken.to_vec();
        let mut names: Vec<String> = Vec::with_capacity(fields.len());
        for f in fields {
            let name = if prefix.is_empty() {
                f.name.rust.clone()
            } else {
                crate::names::fresh(format!("{prefix}{}", bare(&f.name.rust)), &taken)
            };
            taken.push(name.clone());
            names.push(name);
        }
        let indexed = |f: &&Field| types::indexed(&f.ty).clone();
        let args = names
            .iter()
            .zip(fields)
            .map(|(n, f)| format!("{n}: {}", types::key_argument_text(&indexed(f), false)))
            .collect();
        let named: Vec<String> = fields
            .iter()
            .map(|f| types::key_argument_text(&indexed(f), true))
            .collect();
        let (value, ty) = match (names.as_slice(), named.as_slice()) {
            ([name], [ty]) => (format!("&{name}"), ty.clone()),
            _ => (
                format!("&({})", names.join(", ")),
                format!("({})", named.join(", ")),
            ),
        };
        let borrows = fields
            .iter()
            .any(|f| types::key_argument_borrows(types::indexed(&f.ty)));
        Self {
            lt: if borrows { "<'k>" } else { "" },
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

/// The methods of the tree's inherent impl, written into `code`.
struct Methods<'c, 'm> {
    code: &'c mut Code,
    m: &'m str,
    owner: &'m str,
}

impl Methods<'_, '_> {
    /// A whole method: docs, signature, body lines (each already one statement or the tail),
    /// written by `body` at indent 2.
    fn method(
        &mut self,
        doc: &str,
        name: &str,
        generics: &str,
        params: &[String],
        ret: &str,
        body: impl FnOnce(&mut Code),
    ) {
        self.code.doc(1, [doc]);
        self.code.method(self.owner, name, generics, params, ret);
        body(self.code);
        self.code.line(1, "}");
    }

    /// `prefix("San")` for a `String` primary key; `prefix_country(..)`,
    /// `prefix_country_year(..)` for the leading components of a composite key.
    fn prefixes(&mut self, pk: &KeyArgs<'_>) {
        let iter = format!(
            "::netabase_runtime::Result<::netabase_runtime::Iter<'_, {}>>",
            self.m
        );
        if let [only] = pk.fields.as_slice() {
            if only.ty != Type::String {
                return;
            }
            let doc = format!(
                "The records whose primary key `{}` starts with `prefix`, in key order.",
                only.name.schema
            );
            self.method(
                &doc,
                "prefix",
                "",
                &["prefix: &str".to_owned()],
                &iter,
                |c| {
                    c.call(
                        2,
                        "::netabase_runtime::TreeRead::scan",
                        &[
                            "self.inner.raw()",
                            "&::netabase_runtime::__codegen::KeyBounds::string_prefix(prefix)",
                        ],
                        "",
                    );
                },
            );
            return;
        }
        self.leading_prefixes(
            pk,
            "prefix",
            |parts| {
                format!("The records whose primary key starts with these values of {parts}, in key order.")
            },
            &iter,
            |c, bounds| {
                c.call(
                    2,
                    "::netabase_runtime::TreeRead::scan",
                    &["self.inner.raw()", bounds],
                    "",
                );
            },
        );
    }

    /// One method per proper leading part of a composite key (`{name}_country`,
    /// `{name}_country_year`), taking those parts, encoding them into a prefix and handing
    /// `finish` the bounds of every entry that starts with it.
    fn leading_prefixes(
        &mut self,
        key: &KeyArgs<'_>,
        name: &str,
        doc: impl Fn(&str) -> String,
        ret: &str,
        finish: impl Fn(&mut Code, &str),
    ) {
        for len in 1..key.fields.len() {
            let leading = &key.fields[..len];
            let method = format!(
                "{name}_{}",
                leading
                    .iter()
                    .map(|f| bare(&f.name.rust))
                    .collect::<Vec<_>>()
                    .join("_")
            );
            self.method(
                &doc(&described(leading)),
                &method,
                "",
                &key.args[..len],
                ret,
                |c| {
                    // A composite key's encoding is its parts' encodings in a row, so the
                    // leading parts as a tuple are the prefix.
                    let value = match &key.names[..len] {
                        [only] => format!("&{only}"),
                        names => format!("&({})", names.join(", ")),
                    };
                    finish(
                        c,
                        &format!("&::netabase_runtime::__codegen::KeyBounds::exact({value})"),
                    );
                },
            );
        }
    }

    fn secondary_key(
        &mut self,
        pk: &KeyArgs<'_>,
        index: usize,
        key: &SecondaryKey,
        fields: &[&Field],
    ) {
        let i = index.to_string();
        let i = i.as_str();
        let base = bare(&key.name.rust);
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
        let iter =
            format!("::netabase_runtime::Result<::netabase_runtime::IndexIter<'_, {m}, T::Table>>");
        let count = "::netabase_runtime::Result<u64>";
        let equals = if fields.len() == 1 {
            format!("`{schema}` equals `{}`", bare(&fields[0].name.rust))
        } else {
            format!("key `{schema}` ({}) equals the arguments", parts.described)
        };
        let scan = |c: &mut Code, bounds: &str| {
            c.call(
                2,
                "::netabase_runtime::TreeRead::scan_index",
                &["self.inner.raw()", i, bounds],
                "",
            );
        };
        let count_index = |c: &mut Code, bounds: &str| {
            c.call(
                2,
                "::netabase_runtime::TreeRead::count_index",
                &["self.inner.raw()", i, bounds],
                "",
            );
        };
        let exact = format!(
            "&::netabase_runtime::__codegen::KeyBounds::exact({})",
            parts.value
        );

        if key.unique {
            self.method(
                &format!("The record whose unique {equals}.{none}"),
                &format!("get_by_{base}"),
                "",
                &parts.args,
                &format!("::netabase_runtime::Result<::core::option::Option<{m}>>"),
                |c| {
                    c.call(
                        2,
                        "::netabase_runtime::TreeRead::get_by_unique",
                        &["self.inner.raw()", i, &parts.value],
                        "",
                    );
                },
            );
        } else {
            self.method(
                &format!("The records whose {equals}, in primary key order.{none}"),
                &format!("by_{base}"),
                "",
                &parts.args,
                &iter,
                |c| scan(c, &exact),
            );
            self.method(
                &format!(
                    "How many records have {equals} (no record is read; the index entries \
                     are counted one by one, so the cost grows with the count).{none}"
                ),
                &format!("count_by_{base}"),
                "",
                &parts.args,
                count,
                |c| count_index(c, &exact),
            );
            let after = KeyArgs::with_prefix(&pk.fields, "after_", &parts.names);
            let mut params = parts.args.clone();
            params.extend(after.args.iter().cloned());
            self.method(
                &format!(
                    "The records whose {equals} and whose primary key comes after `after_*`: a cursor for stable paging through one value.{none}"
                ),
                &format!("by_{base}_after"),
                "",
                &params,
                &iter,
                |c| {
                    let bounds = format!(
                        "&::netabase_runtime::__codegen::KeyBounds::exact_after({}, {})",
                        parts.value, after.value
                    );
                    scan(c, &bounds);
                },
            );
        }
        let range_param = [format!(
            "range: impl ::core::ops::RangeBounds<{}>",
            parts.ty
        )];
        let range = "&::netabase_runtime::__codegen::KeyBounds::range(&range)";
        self.method(
            &format!("The records whose key `{schema}` falls within `range`, in (key, primary key) order.{none}"),
            &format!("range_by_{base}"),
            parts.lt,
            &range_param,
            &iter,
            |c| scan(c, range),
        );
        self.method(
            &format!(
                "How many records have key `{schema}` within `range` (no record is read; the index \
                 entries are counted one by one, so the cost grows with the count).{none}"
            ),
            &format!("count_range_by_{base}"),
            parts.lt,
            &range_param,
            count,
            |c| count_index(c, range),
        );
        if let [only] = fields {
            if *types::indexed(&only.ty) == Type::String {
                self.method(
                    &format!("The records whose `{schema}` starts with `prefix`, in (`{schema}`, primary key) order.{none}"),
                    &format!("prefix_by_{base}"),
                    "",
                    &["prefix: &str".to_owned()],
                    &iter,
                    |c| scan(c, "&::netabase_runtime::__codegen::KeyBounds::string_prefix(prefix)"),
                );
            }
            return;
        }
        self.leading_prefixes(
            &parts,
            &format!("prefix_by_{base}"),
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
pub fn watch_filters(ctx: &Ctx<'_>, code: &mut Code) {
    let model = ctx.model;
    if model.secondary_keys.is_empty() {
        return;
    }
    let m = model.name.rust.as_str();
    code.allow();
    code.line(0, &format!("impl {m} {{"));
    for key in &model.secondary_keys {
        let fields = model.key_fields(key);
        let parts = KeyArgs::new(&fields);
        let schema = &key.name.schema;
        let equals = match fields.as_slice() {
            [only] => format!("`{schema}` equals `{}`", bare(&only.name.rust)),
            _ => format!("key `{schema}` ({}) equals the arguments", parts.described),
        };
        code.doc(
            1,
            [format!(
                "A subscription filter: the changes of the `{m}` records whose {equals}, before \
                 or after the change. Pass it to `::netabase_runtime::Store::watch`."
            )
            .as_str()],
        );
        let params: Vec<&str> = parts.args.iter().map(String::as_str).collect();
        code.fn_open(
            1,
            &format!("pub fn watch_by_{}", bare(&key.name.rust)),
            &params,
            &format!("::netabase_runtime::Filter<{m}>"),
        );
        code.call(
            2,
            "::netabase_runtime::Filter::index",
            &[&lit_str(schema), &parts.value],
            "",
        );
        code.line(1, "}");
    }
    code.line(0, "}");
}
