//! Names that only clash once generated: a key `x` and a key `x_after` both give a method
//! `by_x_after`; a `String` key `y` and a composite key led by a field `by_y` both give
//! `prefix_by_y`. Checked on the method names of the naming pass ([`crate::naming`]), which the
//! emitters write, so the rule cannot drift from the emitters; reported on the model, like every
//! other schema error.

use crate::diagnostics::Diagnostic;
use crate::ir::Model;
use crate::naming::ModelNames;
use std::collections::BTreeMap;

/// Every method name generated twice for one type (the model struct or its named tree).
pub fn methods(models: &[Model], names: &[ModelNames]) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for (model, names) in models.iter().zip(names) {
        let owners = [
            (&names.model, names.model_methods()),
            (&names.tree, names.tree_methods()),
        ];
        for (owner, methods) in owners {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for method in methods {
                *counts.entry(method).or_default() += 1;
            }
            for (method, _) in counts.iter().filter(|(_, count)| **count > 1) {
                errors.push(
                    Diagnostic::new(
                        model.span.clone(),
                        format!(
                            "model `{}` would generate the method `{owner}::{method}` twice",
                            model.name.schema
                        ),
                        "name collision",
                    )
                    .help(
                        "two keys produce the same query method name: rename a field or give a \
                         composite key another `name`",
                    ),
                );
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    /// The model's own methods are checked too: a backlink `<plural>_by_<key>` from a model
    /// whose plural is `watch` meets the target's subscription filter `watch_by_<key>`.
    #[test]
    fn a_backlink_that_meets_a_subscription_filter_is_a_schema_error() {
        let source = r#"
[definition]
name = "D"
version = 1

[models.Target]
primary_key = "id"
[models.Target.fields]
id = "u64"
k = { type = "u32", secondary_key = true }

[models.Watcher]
primary_key = "id"
plural = "watch"
[models.Watcher.fields]
id = "u64"
k = "Target"
"#;
        let Err(diagnostics) = crate::generate(source, &crate::Options::default()) else {
            panic!("the schema must be refused");
        };
        let rendered = diagnostics.render();
        assert!(
            rendered
                .contains("model `Target` would generate the method `Target::watch_by_k` twice"),
            "{rendered}"
        );
    }
}
