//! The schema's own value types: `[enums.X]` and `[structs.X]`. They are resolved in
//! dependency order, so that a type's facts (does it contain a float? can it be a key?) are known
//! before anything uses it, and a type that contains itself is reported instead of looping.

use super::Validator;
use super::types::{self, Named, TypeExpr};
use crate::diagnostics::Diagnostic;
use crate::ir;
use crate::parse::{RawEnum, RawField, RawStruct, Spanned};
use std::collections::BTreeMap;
use std::ops::Range;

/// The resolved value types.
pub(crate) struct Values {
    /// Schema name -> its type, for resolving field types.
    pub named: Named,
    pub enums: Vec<ir::Enum>,
    pub structs: Vec<ir::Struct>,
    /// Rust name, owner description and span of every generated value type, for collision checks.
    pub items: Vec<(String, String, Range<usize>)>,
}

/// A declaration being resolved.
struct Decl<'r> {
    is_enum: bool,
    index: usize,
    name: &'r Spanned<String>,
    /// Every field of the declaration (of every variant, for an enum) with its parsed type.
    fields: Vec<(&'r RawField, Option<TypeExpr>)>,
}

impl Validator<'_> {
    pub(crate) fn named_types(
        &mut self,
        enums: &[RawEnum],
        structs: &[RawStruct],
        models: &[String],
    ) -> Values {
        // Enums and structs are values: a model name in one of their fields is an error.
        let models: types::Models = models
            .iter()
            .map(|m| (m.clone(), types::LinkTarget::NotHere))
            .collect();
        let models = &models;
        let mut decls: BTreeMap<String, Decl<'_>> = BTreeMap::new();
        for (index, e) in enums.iter().enumerate() {
            let fields = self.parse_field_types(e.variants.iter().flat_map(|v| v.fields.iter()));
            self.declare(
                &mut decls,
                Decl {
                    is_enum: true,
                    index,
                    name: &e.name,
                    fields,
                },
            );
        }
        for (index, st) in structs.iter().enumerate() {
            let fields = self.parse_field_types(st.fields.iter());
            self.declare(
                &mut decls,
                Decl {
                    is_enum: false,
                    index,
                    name: &st.name,
                    fields,
                },
            );
        }

        // Depth-first over references between declarations: post-order is resolution order.
        let mut order: Vec<String> = Vec::new();
        let mut state: BTreeMap<String, bool> = BTreeMap::new(); // false: on the path, true: done
        let names: Vec<String> = decls.keys().cloned().collect();
        for name in &names {
            self.visit(name, &decls, &mut state, &mut order, &mut Vec::new());
        }

        let mut values = Values {
            named: Named::default(),
            enums: Vec::new(),
            structs: Vec::new(),
            items: Vec::new(),
        };
        // Every declared name counts as invalid until it resolves, so uses of a broken or cyclic
        // declaration are not reported again as unknown types.
        values.named.invalid = decls.keys().cloned().collect();
        let mut resolved_enums: BTreeMap<usize, ir::Enum> = BTreeMap::new();
        let mut resolved_structs: BTreeMap<usize, ir::Struct> = BTreeMap::new();
        for name in order {
            let decl = &decls[&name];
            let Some(rust) =
                self.type_name(decl.name, if decl.is_enum { "enum" } else { "struct" })
            else {
                continue;
            };
            let kind = if decl.is_enum { "enum" } else { "struct" };
            values.items.push((
                rust.rust.clone(),
                format!("{kind} `{}`", name),
                decl.name.span.clone(),
            ));
            let resolve = |expr: &TypeExpr, named: &Named| types::resolve(expr, named, models);
            if decl.is_enum {
                let raw = &enums[decl.index];
                if let Some(e) = self.enumeration(raw, rust, |expr| resolve(expr, &values.named)) {
                    let fields = e.variants.iter().flat_map(|v| &v.fields);
                    let has_float = fields.clone().any(|f| f.ty.has_float());
                    let key = fields.clone().all(|f| f.ty.is_orderable_key());
                    values.named.invalid.remove(&name);
                    values.named.types.insert(
                        name.clone(),
                        types::named(true, &name, &e.name.rust, decl.index, has_float, key),
                    );
                    resolved_enums.insert(decl.index, e);
                }
            } else {
                let raw = &structs[decl.index];
                if raw.fields.is_empty() {
                    self.errors.push(
                        Diagnostic::new(
                            raw.fields_span.clone().unwrap_or(raw.name.span.clone()),
                            format!("struct `{name}` has no fields"),
                            "no fields declared",
                        )
                        .help(format!("declare fields in `[structs.{name}.fields]`")),
                    );
                    continue;
                }
                let (fields, ok) =
                    self.fields(&raw.fields, false, |expr| resolve(expr, &values.named));
                if ok {
                    let has_float = fields.iter().any(|f| f.ty.has_float());
                    values.named.invalid.remove(&name);
                    values.named.types.insert(
                        name.clone(),
                        types::named(false, &name, &rust.rust, decl.index, has_float, false),
                    );
                    resolved_structs.insert(
                        decl.index,
                        ir::Struct {
                            name: rust,
                            doc: raw.doc.as_ref().map(|d| d.value.clone()),
                            line: self.lines.line(raw.name.span.start),
                            fields,
                        },
                    );
                }
            }
        }
        // Emit in source order; indices in `NamedRef` are source positions.
        values.enums = resolved_enums.into_values().collect();
        values.structs = resolved_structs.into_values().collect();
        values
    }

    fn parse_field_types<'r>(
        &mut self,
        fields: impl Iterator<Item = &'r RawField>,
    ) -> Vec<(&'r RawField, Option<TypeExpr>)> {
        fields
            .map(|f| {
                (
                    f,
                    f.ty.as_ref().and_then(|t| {
                        types::parse_type(t, self.source)
                            .map_err(|e| self.errors.push(e))
                            .ok()
                    }),
                )
            })
            .collect()
    }

    /// Adds a declaration; an enum and a struct with one name is an error.
    fn declare<'r>(&mut self, decls: &mut BTreeMap<String, Decl<'r>>, decl: Decl<'r>) {
        if let Some(first) = decls.get(&decl.name.value) {
            self.errors.push(
                Diagnostic::new(
                    decl.name.span.clone(),
                    format!("`{}` is declared twice", decl.name.value),
                    "second declaration",
                )
                .related(first.name.span.clone(), "first declared here")
                .help("an enum and a struct cannot share a name"),
            );
            return;
        }
        decls.insert(decl.name.value.clone(), decl);
    }

    /// Reports a type that contains itself; pushes `name` to `order` after its dependencies.
    fn visit(
        &mut self,
        name: &str,
        decls: &BTreeMap<String, Decl<'_>>,
        state: &mut BTreeMap<String, bool>,
        order: &mut Vec<String>,
        path: &mut Vec<String>,
    ) {
        match state.get(name) {
            Some(true) => return,
            Some(false) => {
                let decl = &decls[name];
                let start = path.iter().position(|p| p == name).unwrap_or(0);
                let cycle = path[start..]
                    .iter()
                    .chain([&name.to_owned()])
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" -> ");
                self.errors.push(
                    Diagnostic::new(decl.name.span.clone(), format!("`{name}` contains itself: {cycle}"), "a value type in a cycle")
                        .help("a stored value cannot contain itself; break the cycle, for example by storing a key instead"),
                );
                return;
            }
            None => {}
        }
        state.insert(name.to_owned(), false);
        path.push(name.to_owned());
        let mut refs = Vec::new();
        for (_, expr) in &decls[name].fields {
            if let Some(expr) = expr {
                expr.names(&mut refs);
            }
        }
        for (referenced, _) in refs {
            if decls.contains_key(&referenced) {
                self.visit(&referenced, decls, state, order, path);
            }
        }
        path.pop();
        state.insert(name.to_owned(), true);
        order.push(name.to_owned());
    }

    fn enumeration(
        &mut self,
        raw: &RawEnum,
        name: ir::Name,
        mut resolve: impl FnMut(&TypeExpr) -> Result<ir::Type, types::Unresolved>,
    ) -> Option<ir::Enum> {
        if raw.variants.is_empty() {
            self.errors.push(
                Diagnostic::new(raw.variants_span.clone().unwrap_or(raw.name.span.clone()), format!("enum `{}` has no variants", raw.name.value), "no variants declared")
                    .help("write `variants = [\"A\", \"B\"]`, or a `variants` table whose entries carry fields"),
            );
            return None;
        }
        let mut variants: Vec<ir::Variant> = Vec::new();
        let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
        let mut ok = true;
        for variant in &raw.variants {
            let Some(vname) = self.type_name(&variant.name, "variant") else {
                ok = false;
                continue;
            };
            if let Some(first) = seen.get(&vname.rust) {
                self.same_rust_name("variant", &variant.name, &vname.rust, first);
                ok = false;
            }
            seen.insert(vname.rust.clone(), variant.name.span.clone());
            let (fields, fields_ok) = self.fields(&variant.fields, false, &mut resolve);
            ok &= fields_ok;
            variants.push(ir::Variant {
                name: vname,
                fields,
            });
        }
        ok.then(|| ir::Enum {
            name,
            doc: raw.doc.as_ref().map(|d| d.value.clone()),
            line: self.lines.line(raw.name.span.start),
            variants,
        })
    }
}
