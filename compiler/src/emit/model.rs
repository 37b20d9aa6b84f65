//! The model struct and its `::netabase_runtime::Model` implementation.

use super::text::{Code, Expr, lit_str};
use super::{Ctx, EmitOptions, key_parts, keys, types};
use crate::ir::Model;

pub fn emit(ctx: &Ctx<'_>, options: &EmitOptions<'_>, code: &mut Code) {
    let model = ctx.model;
    let name = model.name.rust.as_str();
    let schema_name = &model.name.schema;
    let table = ctx.schema.record_table(model);
    code.schema_doc(
        0,
        model.doc.as_deref(),
        [format!(
            "A record of model `{schema_name}`, stored in table `{table}`. {}",
            super::declared_in(&format!("models.{schema_name}"), ctx.schema)
        )
        .as_str()],
    );
    let mut derives: Vec<String> = [
        "::core::fmt::Debug",
        "::core::clone::Clone",
        "::core::cmp::PartialEq",
    ]
    .map(str::to_owned)
    .to_vec();
    if !model.fields.iter().any(|f| f.ty.has_float()) {
        derives.push("::core::cmp::Eq".to_owned());
    }
    if options.serde {
        derives.push("::serde::Serialize".to_owned());
        derives.push("::serde::Deserialize".to_owned());
    }
    derives.extend(options.extra_derives.iter().map(path_text));
    code.derive(0, &derives);
    code.allow();
    code.line(0, &format!("pub struct {name} {{"));
    for f in &model.fields {
        code.schema_doc(
            1,
            f.doc.as_deref(),
            [format!(
                "`{}`: `{}`. Declared in `[models.{schema_name}.fields]`.",
                f.name.schema,
                f.ty.spelling(),
            )
            .as_str()],
        );
        code.field(
            1,
            &format!("pub {}", f.name.rust),
            &types::owned_text(&f.ty),
        );
    }
    code.line(0, "}");
    code.allow();
    code.line(0, &format!("impl {name} {{"));
    keys::secondary_keys_method(ctx, code);
    code.line(0, "}");

    let names = &ctx.names;
    let primary_key = names.primary_key.as_str();
    code.impl_open("impl ::netabase_runtime::Model", name);
    code.line(
        1,
        &format!("type Definition = {};", ctx.schema.definition.name.rust),
    );
    code.line(1, &format!("type PrimaryKey = {primary_key};"));
    let stored_key = match model.primary_key_width() {
        Some(width) => format!("::netabase_runtime::__codegen::Fixed<{width}>"),
        None => "&'static [u8]".to_owned(),
    };
    code.line(1, &format!("type StoredKey = {stored_key};"));
    code.line(
        1,
        &format!("type KeyArg<'k> = {};", primary_key_argument(model)),
    );
    code.line(1, &format!("type Ref<'a> = {}<'a>;", names.view));
    code.line(1, &format!("type Tree<A> = {}<A>;", names.tree));
    code.line(
        1,
        &format!("const NAME: &'static str = {};", lit_str(schema_name)),
    );
    code.line(
        1,
        &format!("const TABLE: &'static str = {};", lit_str(&table)),
    );
    if model.secondary_keys.is_empty() {
        code.line(
            1,
            "const INDEXES: &'static [::netabase_runtime::__codegen::IndexDef] = &[];",
        );
    } else {
        code.line(
            1,
            "const INDEXES: &'static [::netabase_runtime::__codegen::IndexDef] = &[",
        );
        for k in &model.secondary_keys {
            let fields = [
                ("field".to_owned(), Expr::atom(lit_str(&k.name.schema))),
                (
                    "table".to_owned(),
                    Expr::atom(lit_str(&ctx.schema.index_table(model, k))),
                ),
                ("unique".to_owned(), Expr::atom(k.unique.to_string())),
                ("layout".to_owned(), Expr::atom(index_layout(model, k))),
            ];
            code.struct_lit(
                2,
                "",
                "::netabase_runtime::__codegen::IndexDef",
                &fields,
                ",",
            );
        }
        code.line(1, "];");
    }
    code.impl_items_from_tokens(super::links::model_constants(ctx));

    code.fn_open(1, "fn primary_key", &["&self"], primary_key);
    let pk_values = model
        .primary_key_fields()
        .map(|f| {
            let field = &f.name.rust;
            Expr::atom(if types::is_copy(&f.ty) {
                format!("self.{field}")
            } else {
                format!("::core::clone::Clone::clone(&self.{field})")
            })
        })
        .collect();
    code.expr(2, "", &Expr::call(primary_key, pk_values), "");
    code.line(1, "}");

    code.fn_open(
        1,
        "fn encode_primary_key",
        &["&self", "out: &mut ::std::vec::Vec<u8>"],
        "",
    );
    for f in model.primary_key_fields() {
        code.line(
            2,
            &format!(
                "::netabase_runtime::__codegen::codec::KeyPart::encode_key(&self.{}, out);",
                f.name.rust
            ),
        );
    }
    code.line(1, "}");

    code.fn_open(
        1,
        "fn encode",
        &["&self", "out: &mut ::std::vec::Vec<u8>"],
        "",
    );
    code.line(
        2,
        "let mut w = ::netabase_runtime::__codegen::codec::Writer::new(out);",
    );
    for f in &model.fields {
        code.line(2, &format!("w.write(&self.{});", f.name.rust));
    }
    code.line(1, "}");

    code.fn_open(
        1,
        "fn decode",
        &["bytes: &[u8]"],
        "::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError>",
    );
    code.line(
        2,
        "let mut r = ::netabase_runtime::__codegen::codec::Reader::new(bytes);",
    );
    let inits: Vec<(String, Expr)> = model
        .fields
        .iter()
        .map(|f| (f.name.rust.clone(), Expr::atom("r.read()?")))
        .collect();
    code.struct_lit(2, "let record = ", "Self", &inits, ";");
    code.line(2, "r.finish()?;");
    code.line(2, "::core::result::Result::Ok(record)");
    code.line(1, "}");

    code.fn_open(
        1,
        "fn index_keys",
        &[
            "&self",
            "index: usize",
            "keys: &mut ::netabase_runtime::__codegen::IndexKeys",
        ],
        "",
    );
    key_parts::index_keys_body(model, code);
    code.line(1, "}");

    code.fn_open(
        1,
        "fn describe_index_value",
        &["&self", "index: usize"],
        "::std::string::String",
    );
    describe_body(model, code);
    code.line(1, "}");
    code.line(0, "}");
}

/// A derive path as source text: `::serde::Serialize`.
fn path_text(path: &syn::Path) -> String {
    let mut out = String::new();
    if path.leading_colon.is_some() {
        out.push_str("::");
    }
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            out.push_str("::");
        }
        out.push_str(&segment.ident.to_string());
        if !segment.arguments.is_none() {
            let args = &segment.arguments;
            out.push_str(&quote::quote!(#args).to_string());
        }
    }
    out
}

/// The primary key as query methods take it: `u64`, `&'k str`, `(&'k str, i32)`.
pub(crate) fn primary_key_argument(model: &Model) -> String {
    let tys: Vec<String> = model
        .primary_key_fields()
        .map(|f| types::key_argument_text(&f.ty, true))
        .collect();
    match tys.as_slice() {
        [only] => only.clone(),
        _ => format!("({})", tys.join(", ")),
    }
}

fn describe_body(model: &Model, code: &mut Code) {
    if model.secondary_keys.is_empty() {
        code.line(2, "let _ = index;");
        code.line(2, "::std::string::String::new()");
        return;
    }
    code.line(2, "match index {");
    for (i, k) in model.secondary_keys.iter().enumerate() {
        let fields: Vec<String> = model
            .key_fields(k)
            .iter()
            .map(|f| f.name.rust.clone())
            .collect();
        match fields.as_slice() {
            [only] => code.line(
                3,
                &format!("{i} => ::std::format!(\"{{:?}}\", self.{only}),"),
            ),
            _ => {
                let refs: Vec<String> = fields.iter().map(|f| format!("&self.{f}")).collect();
                code.line(
                    3,
                    &format!("{i} => ::std::format!(\"{{:?}}\", ({})),", refs.join(", ")),
                );
            }
        }
    }
    code.line(3, "_ => ::std::string::String::new(),");
    code.line(2, "}");
}

/// The key and value types of a secondary key's index table (see `Model::index_key_width`):
/// keys `Fixed<W>` or bytes; values the primary key (`Fixed<N>` or bytes), or for a non-unique
/// index over a fixed-width primary key nothing (`Tail<N>`: the key ends with it).
fn index_layout(model: &Model, key: &crate::ir::SecondaryKey) -> String {
    let bytes = "&'static [u8]".to_owned();
    let key_type = model.index_key_width(key).map_or(bytes.clone(), |width| {
        format!("::netabase_runtime::__codegen::Fixed<{width}>")
    });
    let value_type = match model.primary_key_width() {
        Some(width) if key.unique => format!("::netabase_runtime::__codegen::Fixed<{width}>"),
        Some(width) => format!("::netabase_runtime::__codegen::Tail<{width}>"),
        None => bytes,
    };
    format!("::netabase_runtime::__codegen::IndexLayout::new::<{key_type}, {value_type}>()")
}
