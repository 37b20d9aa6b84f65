//! The definition type, its `::netabase_runtime::Definition` implementation and its read and write
//! transaction types (`txn.cities()`).

use super::text::{Code, MARGIN, lit_str};
use crate::ir::Schema;

pub fn emit(schema: &Schema, history: bool, code: &mut Code) {
    let def = &schema.definition;
    let name = def.name.rust.as_str();
    let version = def.version;
    let (read, write) = crate::naming::transactions(name);
    let origin = super::declared_in("definition", schema);
    code.schema_doc(
        0,
        def.doc.as_deref(),
        [format!(
            "The definition `{}` (version {version}): its models are stored together in one database. \
             Open one with `::netabase_runtime::Store::<{name}>::open`. {origin}",
            def.name.schema
        )
        .as_str()],
    );
    code.derive(
        0,
        &[
            "::core::fmt::Debug",
            "::core::clone::Clone",
            "::core::marker::Copy",
            "::core::cmp::PartialEq",
            "::core::cmp::Eq",
            "::core::hash::Hash",
            "::core::default::Default",
        ]
        .map(str::to_owned),
    );
    code.allow();
    code.line(0, &format!("pub struct {name};"));

    code.impl_open("impl ::netabase_runtime::Definition", name);
    code.line(
        1,
        &format!("const NAME: &'static str = {};", lit_str(&def.name.schema)),
    );
    code.line(1, &format!("const VERSION: u64 = {version};"));
    code.line(
        1,
        &format!(
            "const FINGERPRINT: &'static str = {};",
            lit_str(&crate::fingerprint::fingerprint(schema))
        ),
    );
    code.line(
        1,
        &format!(
            "const LAYOUT: &'static str = {};",
            lit_str(&crate::fingerprint::stored_layout(schema))
        ),
    );
    if def.change_feed {
        code.line(1, "const CHANGE_FEED: bool = true;");
    }
    if history {
        code.line(
            1,
            &format!(
                "const HISTORY: &'static [::netabase_runtime::__codegen::Version] = {};",
                super::history::HISTORY_CONST
            ),
        );
    }
    let tables: Vec<String> = schema
        .models
        .iter()
        .flat_map(|m| {
            std::iter::once(schema.record_table(m))
                .chain(m.secondary_keys.iter().map(|k| schema.index_table(m, k)))
        })
        .map(|t| lit_str(&t))
        .collect();
    let head = "const TABLES: &'static [&'static str] = &[";
    let flat = format!("{head}{}];", tables.join(", "));
    if 4 + flat.len() <= MARGIN {
        code.line(1, &flat);
    } else {
        code.line(1, head);
        for t in &tables {
            code.line(2, &format!("{t},"));
        }
        code.line(1, "];");
    }
    code.line(1, &format!("type Read<'s> = {read}<'s>;"));
    code.line(1, &format!("type Write<'s> = {write}<'s>;"));
    // The visitor's type parameter must not hide a model the body names.
    let models: Vec<String> = schema.models.iter().map(|m| m.name.rust.clone()).collect();
    let visitor = crate::names::fresh("V".to_owned(), &models);
    code.fn_open(
        1,
        &format!("fn visit_models<{visitor}: ::netabase_runtime::__codegen::ModelVisitor<Self>>"),
        &[&format!("visitor: &mut {visitor}")],
        "::netabase_runtime::Result<()>",
    );
    if schema.models.is_empty() {
        code.line(2, "let _ = visitor;");
    }
    for m in &schema.models {
        code.line(2, &format!("visitor.visit::<{}>()?;", m.name.rust));
    }
    code.line(2, "::core::result::Result::Ok(())");
    code.line(1, "}");
    code.line(0, "}");

    transaction(
        schema,
        code,
        &read,
        "Read",
        &format!(
            "A read transaction on [`{name}`]: a consistent snapshot, with one method per model. It cannot write."
        ),
        "Opens the tree of any model of this definition.",
    );
    transaction(
        schema,
        code,
        &write,
        "Write",
        &format!(
            "A write transaction on [`{name}`], with one method per model. Nothing it writes is visible before [`commit`](Self::commit); dropping it discards everything."
        ),
        "Opens the tree of any model of this definition for writing.",
    );
    code.doc(
        1,
        [
            "Checks the checked links written so far, as `commit` will (see\n\
          [`::netabase_runtime::WriteTransaction::check_links`]); call it with no tree open.",
        ],
    );
    code.fn_open(
        1,
        "pub fn check_links",
        &["&self"],
        "::netabase_runtime::Result<()>",
    );
    code.line(2, "self.inner.check_links()");
    code.line(1, "}");
    code.doc(
        1,
        [
            "Verifies checked links, then makes everything written in this transaction\n\
          durable and visible, atomically. A broken link is\n\
          `::netabase_runtime::Error::BrokenLink`, and nothing is written.",
        ],
    );
    code.fn_open(
        1,
        "pub fn commit",
        &["self"],
        "::netabase_runtime::Result<()>",
    );
    code.line(2, "self.inner.commit()");
    code.line(1, "}");
    code.doc(1, ["Discards everything written in this transaction."]);
    code.fn_open(
        1,
        "pub fn abort",
        &["self"],
        "::netabase_runtime::Result<()>",
    );
    code.line(2, "self.inner.abort()");
    code.line(1, "}");
    code.line(0, "}");
}

/// `XReadTransaction` or `XWriteTransaction` (`kind` is `Read` or `Write`): the struct, its
/// `From`, and its impl up to `open_tree`, left open for the write transaction's methods.
fn transaction(schema: &Schema, code: &mut Code, txn: &str, kind: &str, doc: &str, open_doc: &str) {
    let name = schema.definition.name.rust.as_str();
    let inner = format!("::netabase_runtime::{kind}Transaction<'s, {name}>");
    code.item_doc([doc]);
    code.line(0, &format!("pub struct {txn}<'s> {{"));
    code.line(1, &format!("inner: {inner},"));
    code.line(0, "}");
    code.impl_open(
        &format!("impl<'s> ::core::convert::From<{inner}>"),
        &format!("{txn}<'s>"),
    );
    code.fn_open(1, "fn from", &[&format!("inner: {inner}")], "Self");
    code.line(2, "Self { inner }");
    code.line(1, "}");
    code.line(0, "}");
    code.allow();
    code.line(0, &format!("impl {txn}<'_> {{"));
    for m in &schema.models {
        let model = &m.name.rust;
        code.doc(
            1,
            [format!(
                "The [`{model}`] records, with their tables opened once for the life of the tree (it borrows this [`{txn}`])."
            )
            .as_str()],
        );
        code.method(
            txn,
            &m.plural,
            "",
            &[],
            &format!("::netabase_runtime::Result<{model}{kind}Tree<'_>>"),
        );
        code.line(2, &format!("self.inner.open_tree::<{model}>()"));
        code.line(1, "}");
    }
    code.doc(1, [open_doc]);
    // The model's type parameter must not hide the definition it is bound by.
    let m = crate::names::fresh("M".to_owned(), &[name.to_owned()]);
    code.fn_open(
        1,
        &format!("pub fn open_tree<{m}: ::netabase_runtime::Model<Definition = {name}>>"),
        &["&self"],
        &format!("::netabase_runtime::Result<{m}::Tree<::netabase_runtime::{kind}Tree<'_, {m}>>>"),
    );
    code.line(2, &format!("self.inner.open_tree::<{m}>()"));
    code.line(1, "}");
    if kind == "Read" {
        code.line(0, "}");
    }
}
