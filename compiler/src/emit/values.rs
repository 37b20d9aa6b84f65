//! The schema's own value types: `[enums.X]` and `[structs.X]` become plain Rust enums and
//! structs with their value encoding, and enums that can be keys get their key encoding.

use super::EmitOptions;
use super::text::{Code, Expr, MARGIN, lit_str};
use super::types;
use crate::ir::{Enum, Field, Schema, Struct};

pub fn emit(schema: &Schema, options: &EmitOptions<'_>, code: &mut Code) {
    for e in &schema.enums {
        enumeration(schema, e, options, code);
    }
    for s in &schema.structs {
        structure(schema, s, options, code);
    }
}

fn derives(has_float: bool, ordered: bool, options: &EmitOptions<'_>) -> Vec<String> {
    let mut derives = vec![
        "::core::fmt::Debug",
        "::core::clone::Clone",
        "::core::cmp::PartialEq",
    ];
    if !has_float {
        derives.push("::core::cmp::Eq");
        if ordered {
            derives.extend([
                "::core::cmp::PartialOrd",
                "::core::cmp::Ord",
                "::core::hash::Hash",
            ]);
        }
    }
    if options.serde {
        derives.extend(["::serde::Serialize", "::serde::Deserialize"]);
    }
    derives.into_iter().map(str::to_owned).collect()
}

/// A field's docs and declaration (`prefix` is `pub name` or `name`) at `indent`; `place` says
/// where the schema declares it (`` `[structs.Place.fields]` ``).
fn field(place: &str, f: &Field, indent: usize, prefix: &str, code: &mut Code) {
    code.schema_doc(
        indent,
        f.doc.as_deref(),
        [format!(
            "`{}`: `{}`. Declared in {place}.",
            f.name.schema,
            f.ty.spelling(),
        )
        .as_str()],
    );
    code.field(indent, prefix, &types::owned_text(&f.ty));
}

const RESULT: &str =
    "::core::result::Result<Self, ::netabase_runtime::__codegen::codec::DecodeError>";

/// `BorrowValue` for a value type: views hold it owned (only strings and bytes borrow).
fn owned_in_views(name: &str, code: &mut Code) {
    code.impl_open(
        "impl ::netabase_runtime::__codegen::codec::BorrowValue<'_>",
        name,
    );
    code.line(1, &format!("type Owned = {name};"));
    code.fn_open(
        1,
        "fn read_borrowed",
        &["r: &mut ::netabase_runtime::__codegen::codec::Reader<'_>"],
        RESULT,
    );
    code.line(2, "::netabase_runtime::__codegen::codec::Value::read(r)");
    code.line(1, "}");
    code.fn_open(1, "fn to_owned_value", &["&self"], name);
    code.line(2, "::core::clone::Clone::clone(self)");
    code.line(1, "}");
    code.line(0, "}");
}

fn structure(schema: &Schema, s: &Struct, options: &EmitOptions<'_>, code: &mut Code) {
    let name = s.name.rust.as_str();
    let has_float = s.fields.iter().any(|f| f.ty.has_float());
    code.schema_doc(
        0,
        s.doc.as_deref(),
        [format!(
            "The value type `{}`, embedded in records. {}",
            s.name.schema,
            super::declared_in(&format!("structs.{}", s.name.schema), schema)
        )
        .as_str()],
    );
    code.derive(0, &derives(has_float, false, options));
    code.allow();
    if s.fields.is_empty() {
        code.line(0, &format!("pub struct {name} {{}}"));
    } else {
        code.line(0, &format!("pub struct {name} {{"));
        for f in &s.fields {
            let place = format!("`[structs.{}.fields]`", s.name.schema);
            field(&place, f, 1, &format!("pub {}", f.name.rust), code);
        }
        code.line(0, "}");
    }
    code.impl_open("impl ::netabase_runtime::__codegen::codec::Value", name);
    code.fn_open(
        1,
        "fn write",
        &[
            "&self",
            "w: &mut ::netabase_runtime::__codegen::codec::Writer<'_>",
        ],
        "",
    );
    for f in &s.fields {
        code.line(2, &format!("w.write(&self.{});", f.name.rust));
    }
    code.line(1, "}");
    code.fn_open(
        1,
        "fn read",
        &["r: &mut ::netabase_runtime::__codegen::codec::Reader<'_>"],
        RESULT,
    );
    let inits: Vec<(String, Expr)> = s
        .fields
        .iter()
        .map(|f| (f.name.rust.clone(), Expr::atom("r.read()?")))
        .collect();
    // A struct literal alone in a call is laid out as a block: `Ok(Self {` .. `})`.
    code.struct_lit(2, "::core::result::Result::Ok(", "Self", &inits, ")");
    code.line(1, "}");
    code.line(0, "}");
    owned_in_views(name, code);
}

fn enumeration(schema: &Schema, e: &Enum, options: &EmitOptions<'_>, code: &mut Code) {
    let name = e.name.rust.as_str();
    let all_fields = || e.variants.iter().flat_map(|v| &v.fields);
    let has_float = all_fields().any(|f| f.ty.has_float());
    let key = all_fields().all(|f| f.ty.is_orderable_key());
    code.schema_doc(
        0,
        e.doc.as_deref(),
        [format!(
            "The enum `{}`. Stored as the variant's position (so reordering variants changes the layout) and its fields.{} {}",
            e.name.schema,
            if key { " It can be a key: keys sort in variant order, then by fields." } else { "" },
            super::declared_in(&format!("enums.{}", e.name.schema), schema)
        )
        .as_str()],
    );
    code.derive(0, &derives(has_float, true, options));
    code.allow();
    if e.variants.is_empty() {
        code.line(0, &format!("pub enum {name} {{}}"));
    } else {
        code.line(0, &format!("pub enum {name} {{"));
        for v in &e.variants {
            code.doc(1, [format!("The variant `{}`.", v.name.schema).as_str()]);
            if v.fields.is_empty() {
                code.line(1, &format!("{},", v.name.rust));
            } else {
                code.line(1, &format!("{} {{", v.name.rust));
                for f in &v.fields {
                    let place = format!(
                        "variant `{}` of `[enums.{}.variants]`",
                        v.name.schema, e.name.schema
                    );
                    field(&place, f, 2, &f.name.rust, code);
                }
                code.line(1, "},");
            }
        }
        code.line(0, "}");
    }
    let unknown = lit_str(&format!("unknown variant {{}} of enum `{}`", e.name.schema));

    code.impl_open("impl ::netabase_runtime::__codegen::codec::Value", name);
    code.fn_open(
        1,
        "fn write",
        &[
            "&self",
            "w: &mut ::netabase_runtime::__codegen::codec::Writer<'_>",
        ],
        "",
    );
    write_match(
        e,
        code,
        |tag| format!("w.write(&{tag}u32);"),
        |f| format!("w.write({f});"),
    );
    code.line(1, "}");
    code.fn_open(
        1,
        "fn read",
        &["r: &mut ::netabase_runtime::__codegen::codec::Reader<'_>"],
        RESULT,
    );
    code.line(2, "let tag: u32 = r.read()?;");
    read_match(e, code, "r.read()?", &unknown);
    code.line(1, "}");
    code.line(0, "}");

    if key {
        code.impl_open("impl ::netabase_runtime::__codegen::codec::KeyPart", name);
        code.fn_open(
            1,
            "fn encode_key",
            &["&self", "out: &mut ::std::vec::Vec<u8>"],
            "",
        );
        write_match(
            e,
            code,
            |tag| {
                format!(
                    "::netabase_runtime::__codegen::codec::KeyPart::encode_key(&{tag}u32, out);"
                )
            },
            |f| format!("::netabase_runtime::__codegen::codec::KeyPart::encode_key({f}, out);"),
        );
        code.line(1, "}");
        code.line(0, "}");
        code.impl_open("impl ::netabase_runtime::__codegen::codec::DecodeKey", name);
        code.fn_open(1, "fn decode_key", &["input: &mut &[u8]"], RESULT);
        code.line(
            2,
            "let tag: u32 = ::netabase_runtime::__codegen::codec::DecodeKey::decode_key(input)?;",
        );
        read_match(
            e,
            code,
            "::netabase_runtime::__codegen::codec::DecodeKey::decode_key(input)?",
            &unknown,
        );
        code.line(1, "}");
        code.line(0, "}");
    }
    owned_in_views(name, code);
}

/// `match self { Self::V { a, b } => { tag; a; b; } .. }` at indent 2: the variant's position,
/// then its fields.
fn write_match(
    e: &Enum,
    code: &mut Code,
    tag: impl Fn(usize) -> String,
    part: impl Fn(&str) -> String,
) {
    if e.variants.is_empty() {
        code.line(2, "match self {}");
        return;
    }
    code.line(2, "match self {");
    for (i, v) in e.variants.iter().enumerate() {
        // Fields are bound by position (`f0`, `f1`): a user's field name bound as a local could
        // shadow the writer or buffer the arm writes to.
        let bindings: Vec<String> = v
            .fields
            .iter()
            .enumerate()
            .map(|(j, f)| format!("{}: f{j}", f.name.rust))
            .collect();
        let names: Vec<String> = (0..v.fields.len()).map(|j| format!("f{j}")).collect();
        let pattern = if names.is_empty() {
            format!("Self::{}", v.name.rust)
        } else {
            format!("Self::{} {{ {} }}", v.name.rust, bindings.join(", "))
        };
        let head = format!("{pattern} => {{");
        if 12 + head.len() <= MARGIN || names.is_empty() {
            code.line(3, &head);
        } else {
            code.line(3, &format!("Self::{} {{", v.name.rust));
            for b in &bindings {
                code.line(4, &format!("{b},"));
            }
            code.line(3, "} => {");
        }
        code.line(4, &tag(i));
        for n in &names {
            code.line(4, &part(n));
        }
        code.line(3, "}");
    }
    code.line(2, "}");
}

/// `Ok(match tag { 0u32 => Self::V { a: read, .. }, .., other => return Err(..) })` at indent 2.
fn read_match(e: &Enum, code: &mut Code, read: &str, unknown: &str) {
    code.line(2, "::core::result::Result::Ok(");
    code.line(3, "match tag {");
    for (i, v) in e.variants.iter().enumerate() {
        let path = format!("Self::{}", v.name.rust);
        let inits: Vec<(String, Expr)> = v
            .fields
            .iter()
            .map(|f| (f.name.rust.clone(), Expr::atom(read)))
            .collect();
        let arm = format!("{i}u32 => ");
        // An arm's struct literal on one line when prettyplease would put it there, else in
        // a block of its own.
        let mut one = Code::default();
        one.struct_lit(4, &arm, &path, &inits, ",");
        if one.text.lines().count() == 1 {
            code.text.push_str(&one.text);
        } else {
            code.line(4, &format!("{arm}{{"));
            code.struct_lit(5, "", &path, &inits, "");
            code.line(4, "}");
        }
    }
    code.line(4, "other => {");
    code.expr(
        5,
        "return ",
        &Expr::call(
            "::core::result::Result::Err",
            vec![Expr::call(
                "::netabase_runtime::__codegen::codec::DecodeError::new",
                vec![Expr::Macro(
                    "::std::format!".to_owned(),
                    format!("{unknown}, other"),
                )],
            )],
        ),
        ";",
    );
    code.line(4, "}");
    code.line(3, "},");
    code.line(2, ")");
}
