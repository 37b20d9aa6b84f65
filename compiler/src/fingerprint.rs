//! The layout fingerprint: a hash of everything that decides how records and keys are stored
//! (table names, field order and types, keys). Stored in the database and checked on open, so
//! a program never misreads a file written by an incompatible schema. Docs and the version do
//! not change it.

use crate::ir::{DefaultValue, Schema};
use std::fmt::Write;

/// The canonical description of the stored layout, one line per fact.
pub fn layout(schema: &Schema) -> String {
    let mut out = format!("definition {}\n", schema.definition.name.schema);
    for e in &schema.enums {
        let _ = writeln!(out, "enum {}", e.name.schema);
        for v in &e.variants {
            let fields: Vec<String> = v
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name.schema, f.ty.spelling()))
                .collect();
            let _ = writeln!(out, "  variant {} ({})", v.name.schema, fields.join(", "));
        }
    }
    for st in &schema.structs {
        let _ = writeln!(out, "struct {}", st.name.schema);
        for f in &st.fields {
            let _ = writeln!(out, "  field {}: {}", f.name.schema, f.ty.spelling());
        }
    }
    for model in &schema.models {
        let _ = writeln!(out, "model {}", model.name.schema);
        for field in &model.fields {
            let _ = writeln!(
                out,
                "  field {}: {}",
                field.name.schema,
                field.ty.spelling()
            );
        }
        let pk: Vec<&str> = model
            .primary_key_fields()
            .map(|f| f.name.schema.as_str())
            .collect();
        let _ = writeln!(out, "  primary key ({})", pk.join(", "));
        // Records under fixed-width keys are a different redb table type. Models keyed by
        // `&[u8]` add no line, so their fingerprint is what it was before fixed-width keys.
        if let Some(width) = model.primary_key_width() {
            let _ = writeln!(out, "  record key fixed {width}");
        }
        for key in &model.secondary_keys {
            let fields: Vec<&str> = key
                .fields
                .iter()
                .map(|&i| model.fields[i].name.schema.as_str())
                .collect();
            let _ = writeln!(
                out,
                "  {} key {} ({})",
                if key.unique { "unique" } else { "index" },
                key.name.schema,
                fields.join(", ")
            );
            // Index tables typed by width (keys `Fixed<W>`, values `Fixed<N>` or `Tail<N>`);
            // an all-bytes index adds no line.
            if let Some(width) = model.index_key_width(key) {
                let _ = writeln!(out, "    entry key fixed {width}");
            }
            if let Some(width) = model.primary_key_width() {
                let value = if key.unique { "fixed" } else { "tail" };
                let _ = writeln!(out, "    entry value {value} {width}");
            }
        }
    }
    out
}

/// The layout the generated code stores in every database it writes (`Definition::LAYOUT`):
/// [`layout`] followed by the schema's migration attributes, one `hint` line each. The runtime
/// parses it to read records without the schema and to migrate a database written by an
/// earlier version. The hints do not change the [`fingerprint`]: they say how to reach this
/// layout, not what it is.
pub fn stored_layout(schema: &Schema) -> String {
    let mut out = layout(schema);
    for removed in &schema.definition.removed_models {
        let _ = writeln!(out, "hint removed model {removed}");
    }
    for model in &schema.models {
        let name = &model.name.schema;
        for field in &model.fields {
            let field_name = &field.name.schema;
            if let Some(old) = &field.renamed_from {
                let _ = writeln!(out, "hint renamed {name}.{field_name} from {old}");
            }
            if let Some(default) = &field.default {
                let value = match default {
                    DefaultValue::Integer(i) => format!("int {i}"),
                    DefaultValue::Float(f) => format!("float {f:?}"),
                    DefaultValue::Bool(b) => format!("bool {b}"),
                    // Hex, so any text (spaces, newlines) stays on one line.
                    DefaultValue::String(s) => {
                        s.bytes().fold("string ".to_owned(), |mut hex, b| {
                            let _ = write!(hex, "{b:02x}");
                            hex
                        })
                    }
                    DefaultValue::Variant(i, v) => format!("variant {i} {v}"),
                };
                let _ = writeln!(out, "hint default {name}.{field_name} {value}");
            }
        }
        for removed in &model.removed_fields {
            let _ = writeln!(out, "hint removed field {name}.{removed}");
        }
    }
    out
}

/// The first 16 hex digits of the SHA-256 of [`layout`] (stored in every database, so the
/// algorithm never changes; `hmac-sha256` computes it without the `digest` trait stack that
/// `sha2` would add to every user's build script).
pub fn fingerprint(schema: &Schema) -> String {
    let digest = hmac_sha256::Hash::hash(layout(schema).as_bytes());
    digest.iter().take(8).fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}
