//! Key types: `XPrimaryKey`, one `X<Field>SecondaryKey` per secondary key, and
//! `enum XSecondaryKeys`.

use super::text::{Code, Expr, MARGIN};
use super::{Ctx, types};
use crate::ir::Type;

/// "`a`, `b`".
fn listed(fields: &[&crate::ir::Field]) -> String {
    fields
        .iter()
        .map(|f| format!("`{}`", f.name.schema))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn emit(ctx: &Ctx<'_>, code: &mut Code) {
    let model = ctx.model;
    let m = model.name.rust.as_str();
    let pk_fields: Vec<_> = model.primary_key_fields().collect();
    let pk_names: Vec<String> = pk_fields
        .iter()
        .map(|f| format!("`{}`", f.name.schema))
        .collect();
    let pk_doc = format!(
        "The primary key of [`{m}`]: {} {}.",
        if pk_fields.len() == 1 {
            "its field"
        } else {
            "its fields, in this order:"
        },
        pk_names.join(", ")
    );
    key_newtype(
        code,
        &ctx.names.primary_key,
        &pk_doc,
        pk_fields.iter().map(|f| &f.ty),
    );

    for (k, names) in model.secondary_keys.iter().zip(&ctx.names.keys) {
        let fields = model.key_fields(k);
        let name = &names.type_name;
        let optional = fields.iter().any(|f| matches!(f.ty, Type::Option(_)));
        let multi = fields.iter().find(|f| matches!(f.ty, Type::Vec(_)));
        let doc = format!(
            "A {} secondary key of [`{m}`] named `{}`: the value{} of its field{} {}{}{}.",
            if k.unique { "unique" } else { "non-unique" },
            k.name.schema,
            if fields.len() == 1 { "" } else { "s" },
            if fields.len() == 1 {
                ""
            } else {
                "s, in key order,"
            },
            listed(&fields),
            if optional {
                " (a record is indexed only when its `Option` parts are `Some`)"
            } else {
                ""
            },
            multi.map_or(String::new(), |f| format!(
                "; multi-valued: a record is indexed under each element of `{}`",
                f.name.schema
            )),
        );
        key_newtype(
            code,
            name,
            &doc,
            fields.iter().map(|f| types::indexed(&f.ty)),
        );
    }

    code.doc(0, [format!("Any secondary key of [`{m}`].").as_str()]);
    let float_key = model
        .secondary_keys
        .iter()
        .flat_map(|k| model.key_fields(k))
        .any(|f| f.ty.has_float());
    code.derive(0, &key_derives(float_key));
    code.allow();
    if model.secondary_keys.is_empty() {
        code.line(0, &format!("pub enum {} {{}}", ctx.names.secondary_keys));
        return;
    }
    code.line(0, &format!("pub enum {} {{", ctx.names.secondary_keys));
    for (k, names) in model.secondary_keys.iter().zip(&ctx.names.keys) {
        code.doc(
            1,
            [format!(
                "The secondary key `{}` (field{} {}).",
                k.name.schema,
                if k.fields.len() == 1 { "" } else { "s" },
                listed(&model.key_fields(k))
            )
            .as_str()],
        );
        code.line(1, &format!("{}({}),", names.variant, names.type_name));
    }
    code.line(0, "}");
}

/// `pub fn secondary_keys(&self) -> Vec<XSecondaryKeys>` on the model, at indent 1.
pub fn secondary_keys_method(ctx: &Ctx<'_>, code: &mut Code) {
    let model = ctx.model;
    let enum_name = &ctx.names.secondary_keys;
    code.doc(
        1,
        [
            "The secondary keys this record is indexed under, in schema order (an `Option` field that is `None` is not indexed; a multi-valued key over a `Vec` field gives one key per element).",
        ],
    );
    code.method(
        &model.name.rust,
        "secondary_keys",
        "",
        &[],
        &format!("::std::vec::Vec<{enum_name}>"),
    );
    if model.secondary_keys.is_empty() {
        code.line(2, "::std::vec::Vec::new()");
        code.line(1, "}");
        return;
    }
    let keys: Vec<(bool, Expr, Vec<&crate::ir::Field>)> = model
        .secondary_keys
        .iter()
        .zip(&ctx.names.keys)
        .map(|(k, names)| {
            let fields = model.key_fields(k);
            // Plain parts are read from `self`; `Option` parts are bound first (a `None` means
            // the record is not under this key) and `Vec` parts are looped over (one key per
            // element).
            let values = fields
                .iter()
                .enumerate()
                .map(|(j, f)| {
                    let field = &f.name.rust;
                    let copy = types::is_copy(types::indexed(&f.ty));
                    Expr::atom(match (&f.ty, copy) {
                        (Type::Option(_) | Type::Vec(_), true) => format!("*part{j}"),
                        (Type::Option(_) | Type::Vec(_), false) => {
                            format!("::core::clone::Clone::clone(part{j})")
                        }
                        (_, true) => format!("self.{field}"),
                        (_, false) => format!("::core::clone::Clone::clone(&self.{field})"),
                    })
                })
                .collect();
            let key = Expr::call(
                format!("{enum_name}::{}", names.variant),
                vec![Expr::call(names.type_name.as_str(), values)],
            );
            let bound = fields
                .iter()
                .any(|f| matches!(f.ty, Type::Option(_) | Type::Vec(_)));
            (!bound, key, fields)
        })
        .collect();
    // The leading keys that every record has start the vector (clippy prefers `vec![..]`
    // to pushes right after creation); the rest are pushed when present.
    let leading = keys.iter().take_while(|(plain, ..)| *plain).count();
    let first: Vec<&Expr> = keys[..leading].iter().map(|(_, key, _)| key).collect();
    if leading == keys.len() {
        vec_macro(code, 2, "", &first, "");
    } else {
        vec_macro(code, 2, "let mut keys = ", &first, ";");
        for (_, key, fields) in &keys[leading..] {
            super::key_parts::bind_key_parts(code, 2, fields, &mut |code, indent| {
                code.expr(indent, "", &Expr::call("keys.push", vec![key.clone()]), ";");
            });
        }
        code.line(2, "keys");
    }
    code.line(1, "}");
}

/// `::std::vec![a, b]`, one element a line (with a trailing comma, as rustfmt writes it) when
/// it does not fit.
fn vec_macro(code: &mut Code, indent: usize, prefix: &str, items: &[&Expr], end: &str) {
    let flat: Vec<String> = items.iter().map(|e| e.flat()).collect();
    let line = format!("{prefix}::std::vec![{}]{end}", flat.join(", "));
    if 4 * indent + line.len() <= MARGIN {
        code.line(indent, &line);
    } else {
        code.line(indent, &format!("{prefix}::std::vec!["));
        for item in items {
            code.list_item(indent + 1, item);
        }
        code.line(indent, &format!("]{end}"));
    }
}

/// The derives of key types: floats have no `Eq`, `Ord` or `Hash` in Rust (their keys still
/// sort by IEEE total order in the store).
fn key_derives(has_float: bool) -> Vec<String> {
    let mut derives = vec![
        "::core::fmt::Debug",
        "::core::clone::Clone",
        "::core::cmp::PartialEq",
    ];
    if has_float {
        derives.push("::core::cmp::PartialOrd");
    } else {
        derives.extend([
            "::core::cmp::Eq",
            "::core::cmp::PartialOrd",
            "::core::cmp::Ord",
            "::core::hash::Hash",
        ]);
    }
    derives.into_iter().map(str::to_owned).collect()
}

/// A key newtype over one or more fields, with its order-preserving encoding.
fn key_newtype<'a>(
    code: &mut Code,
    name: &str,
    doc: &str,
    parts: impl IntoIterator<Item = &'a Type>,
) {
    let parts: Vec<&Type> = parts.into_iter().collect();
    let tys: Vec<String> = parts.iter().map(|t| types::owned_text(t)).collect();
    code.doc(0, [doc]);
    code.derive(0, &key_derives(parts.iter().any(|t| t.has_float())));
    code.allow();
    code.expr(
        0,
        "",
        &Expr::call(
            format!("pub struct {name}"),
            tys.iter().map(|t| Expr::atom(format!("pub {t}"))).collect(),
        ),
        ";",
    );
    let from = |code: &mut Code, ty: &str, body: Expr| {
        code.impl_open(&format!("impl ::core::convert::From<{ty}>"), name);
        let param = format!("value: {ty}");
        code.fn_open(1, "fn from", &[&param], "Self");
        code.expr(2, "", &body, "");
        code.line(1, "}");
        code.line(0, "}");
    };
    if let [ty] = tys.as_slice() {
        from(code, ty, Expr::call("Self", vec![Expr::atom("value")]));
        if matches!(parts[0], Type::String) {
            from(
                code,
                "&str",
                Expr::call(
                    "Self",
                    vec![Expr::call(
                        "::std::string::ToString::to_string",
                        vec![Expr::atom("value")],
                    )],
                ),
            );
        }
    } else {
        from(
            code,
            &format!("({})", tys.join(", ")),
            Expr::call(
                "Self",
                (0..parts.len())
                    .map(|i| Expr::atom(format!("value.{i}")))
                    .collect(),
            ),
        );
    }
    code.impl_open("impl ::netabase_runtime::__codegen::codec::KeyPart", name);
    code.fn_open(
        1,
        "fn encode_key",
        &["&self", "out: &mut ::std::vec::Vec<u8>"],
        "",
    );
    for i in 0..parts.len() {
        code.line(
            2,
            &format!("::netabase_runtime::__codegen::codec::KeyPart::encode_key(&self.{i}, out);"),
        );
    }
    code.line(1, "}");
    code.line(0, "}");
    code.impl_open("impl ::netabase_runtime::__codegen::codec::DecodeKey", name);
    code.fn_open(
        1,
        "fn decode_key",
        &["input: &mut &[u8]"],
        "::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError>",
    );
    let decodes = parts
        .iter()
        .map(|_| Expr::atom("::netabase_runtime::__codegen::codec::DecodeKey::decode_key(input)?"))
        .collect();
    code.expr(
        2,
        "",
        &Expr::call(
            "::core::result::Result::Ok",
            vec![Expr::call("Self", decodes)],
        ),
        "",
    );
    code.line(1, "}");
    code.line(0, "}");
}
