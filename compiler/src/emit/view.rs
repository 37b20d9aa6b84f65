//! The zero-copy view `XRef<'a>` and its `::netabase_runtime::ModelRef` implementation.

use super::text::{Code, Expr};
use super::{Ctx, key_parts::index_keys_body, types};
use crate::ir::Type;

pub fn emit(ctx: &Ctx<'_>, code: &mut Code) {
    let model = ctx.model;
    let m = model.name.rust.as_str();
    let name = ctx.names.view.as_str();
    code.doc(
        0,
        [format!(
            "A zero-copy view of a stored [`{m}`]: strings and bytes borrow from the database page for `'a`, \
             which is as long as the `ValueGuard` it was read from. Turn it into the owned record with \
             [`to_model`](::netabase_runtime::ModelRef::to_model)."
        )
        .as_str()],
    );
    code.derive(
        0,
        &[
            "::core::fmt::Debug".to_owned(),
            "::core::clone::Clone".to_owned(),
            "::core::cmp::PartialEq".to_owned(),
        ],
    );
    code.allow();
    code.line(0, &format!("pub struct {name}<'a> {{"));
    for f in &model.fields {
        code.doc(1, [format!("`{}`, borrowed.", f.name.schema).as_str()]);
        code.field(1, &format!("pub {}", f.name.rust), &view_text(&f.ty));
    }
    // A view with nothing to borrow still carries `'a`, so every model has the same shape.
    let needs_marker = !model.fields.iter().any(|f| types::borrows(&f.ty));
    let fields: Vec<String> = model.fields.iter().map(|f| f.name.rust.clone()).collect();
    let marker = crate::names::fresh("page".to_owned(), &fields);
    if needs_marker {
        code.doc(1, ["Ties the view to the page it was read from."]);
        code.line(
            1,
            &format!("pub {marker}: ::core::marker::PhantomData<&'a [u8]>,"),
        );
    }
    code.line(0, "}");

    code.impl_open(
        "impl<'a> ::netabase_runtime::ModelRef<'a>",
        &format!("{name}<'a>"),
    );
    code.line(1, &format!("type Model = {m};"));
    code.fn_open(
        1,
        "fn decode",
        &["bytes: &'a [u8]"],
        "::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError>",
    );
    code.line(
        2,
        "let mut r = ::netabase_runtime::__codegen::codec::Reader::new(bytes);",
    );
    let mut inits: Vec<(String, Expr)> = model
        .fields
        .iter()
        .map(|f| (f.name.rust.clone(), Expr::atom("r.read_borrowed()?")))
        .collect();
    if needs_marker {
        inits.push((marker, Expr::atom("::core::marker::PhantomData")));
    }
    code.struct_lit(2, "let view = ", "Self", &inits, ";");
    code.line(2, "r.finish()?;");
    code.line(2, "::core::result::Result::Ok(view)");
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
    index_keys_body(model, code);
    code.line(1, "}");

    code.fn_open(1, "fn to_model", &["&self"], m);
    let fields: Vec<(String, Expr)> = model
        .fields
        .iter()
        .map(|f| {
            let field = &f.name.rust;
            let value = Expr::call(
                "::netabase_runtime::__codegen::codec::BorrowValue::to_owned_value",
                vec![Expr::atom(format!("&self.{field}"))],
            );
            (field.clone(), value)
        })
        .collect();
    code.struct_lit(2, "", m, &fields, "");
    code.line(1, "}");
    code.line(0, "}");
}

/// The type in a zero-copy view, borrowing for `'a`, as source text: `&'a str`, `&'a [u8]`.
fn view_text(ty: &Type) -> String {
    match ty {
        Type::String => "&'a str".to_owned(),
        Type::Bytes => "&'a [u8]".to_owned(),
        Type::Option(inner) => format!("::core::option::Option<{}>", view_text(inner)),
        Type::Vec(inner) => format!("::std::vec::Vec<{}>", view_text(inner)),
        Type::Array(inner, len) => format!("[{}; {len}]", view_text(inner)),
        Type::Map(k, v) => format!(
            "::std::collections::BTreeMap<{}, {}>",
            view_text(k),
            view_text(v)
        ),
        // Enums and structs are decoded owned inside a view: only strings and bytes borrow.
        Type::Scalar(_) | Type::Enum(_) | Type::Struct(_) => types::owned_text(ty),
        Type::Link(l) => view_text(&l.key),
        Type::Tuple(parts) => format!(
            "({})",
            parts.iter().map(view_text).collect::<Vec<_>>().join(", ")
        ),
    }
}
