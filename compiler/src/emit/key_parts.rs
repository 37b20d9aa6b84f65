//! The bodies that walk a record's key parts (`Option` parts bound, `Vec` parts looped over),
//! shared by the model, its view and the `secondary_keys` method.

use super::text::{Code, Expr};
use crate::ir::{Field, Model, Type};

/// The body of `index_keys` at indent 2, shared by the model and its view: both have the same
/// field names, and `KeyPart` is implemented for the owned and the borrowed forms alike. An
/// `Option` part that is `None` means no key; a `Vec` part (a multi-valued key) means one key
/// per element.
pub fn index_keys_body(model: &Model, code: &mut Code) {
    if model.secondary_keys.is_empty() {
        code.line(2, "let _ = (index, keys);");
        return;
    }
    let push = |code: &mut Code, indent: usize, fields: &[&Field]| {
        bind_key_parts(code, indent, fields, &mut |code, indent| {
            code.line(indent, "keys.push(|out| {");
            for (j, f) in fields.iter().enumerate() {
                let part = match f.ty {
                    Type::Option(_) | Type::Vec(_) => format!("part{j}"),
                    _ => format!("&self.{}", f.name.rust),
                };
                code.expr(
                    indent + 1,
                    "",
                    &Expr::call(
                        "::netabase_runtime::__codegen::codec::KeyPart::encode_key",
                        vec![Expr::atom(part), Expr::atom("out")],
                    ),
                    ";",
                );
            }
            code.line(indent, "});");
        });
    };
    if let [key] = model.secondary_keys.as_slice() {
        // One key: an early return (clippy objects to a one-armed `match`, and to an `if`
        // around an `if let`).
        code.line(2, "if index != 0 {");
        code.line(3, "return;");
        code.line(2, "}");
        push(code, 2, &model.key_fields(key));
        return;
    }
    code.line(2, "match index {");
    for (i, k) in model.secondary_keys.iter().enumerate() {
        code.line(3, &format!("{i} => {{"));
        push(code, 4, &model.key_fields(k));
        code.line(3, "}");
    }
    code.line(3, "_ => {}");
    code.line(2, "}");
}

/// Writes `body` inside the bindings of a key's optional and multi-valued parts: `part{j}` is
/// bound by `if let Some(..)` for an `Option` field and by `for` for a `Vec` field (one key per
/// element), innermost last. `body` gets the indent it is written at.
pub fn bind_key_parts(
    code: &mut Code,
    indent: usize,
    fields: &[&Field],
    body: &mut dyn FnMut(&mut Code, usize),
) {
    let mut depth = 0;
    for (j, f) in fields.iter().enumerate() {
        let field = &f.name.rust;
        match f.ty {
            Type::Option(_) => code.line(
                indent + depth,
                &format!("if let ::core::option::Option::Some(part{j}) = &self.{field} {{"),
            ),
            Type::Vec(_) => code.line(indent + depth, &format!("for part{j} in &self.{field} {{")),
            _ => continue,
        }
        depth += 1;
    }
    body(code, indent + depth);
    for d in (0..depth).rev() {
        code.line(indent + d, "}");
    }
}
