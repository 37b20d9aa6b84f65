//! Names that only clash once generated: a key `x` and a key `x_after` both give a method
//! `by_x_after`; a `String` key `y` and a composite key led by a field `by_y` both give
//! `prefix_by_y`. Checked on the generated code itself, so the rule cannot drift from the
//! emitters, and reported on the model, like every other schema error.

use crate::diagnostics::Diagnostic;
use crate::format::Part;
use crate::ir::Schema;
use std::collections::BTreeMap;

/// Every method name generated twice for one type.
pub fn methods(schema: &Schema, parts: &[Part]) -> Vec<Diagnostic> {
    let mut methods: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut items = Vec::new();
    for part in parts {
        match part {
            Part::Parsed(file) => items.extend(&file.items),
            Part::Text(code) => {
                for (owner, method) in &code.methods {
                    *methods
                        .entry(owner.clone())
                        .or_default()
                        .entry(method.clone())
                        .or_default() += 1;
                }
            }
        }
    }
    for item in items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if block.trait_.is_some() {
            continue; // trait impls cannot collide with each other by name
        }
        let syn::Type::Path(ty) = &*block.self_ty else {
            continue;
        };
        let Some(owner) = ty.path.segments.last() else {
            continue;
        };
        let names = methods.entry(owner.ident.to_string()).or_default();
        for member in &block.items {
            if let syn::ImplItem::Fn(f) = member {
                *names.entry(f.sig.ident.to_string()).or_default() += 1;
            }
        }
    }
    let mut errors = Vec::new();
    for model in &schema.models {
        let owners = [model.name.rust.clone(), format!("{}Tree", model.name.rust)];
        for owner in owners {
            let Some(names) = methods.get(&owner) else {
                continue;
            };
            for (method, _) in names.iter().filter(|(_, count)| **count > 1) {
                errors.push(
                    Diagnostic::new(model.span.clone(), format!("model `{}` would generate the method `{owner}::{method}` twice", model.name.schema), "name collision")
                        .help("two keys produce the same query method name: rename a field or give a composite key another `name`"),
                );
            }
        }
    }
    errors
}
