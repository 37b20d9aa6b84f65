//! A synthetic 100-model schema for timing `netabase_build::generate` (reported in
//! `docs/BENCHMARKS.md`, not targeted).

use std::fmt::Write;

/// Models in [`schema`].
pub const MODELS: usize = 100;

/// A schema of `models` models, each with a `u64` primary key, eight fields of assorted types,
/// a unique and two non-unique secondary keys (one of them optional).
pub fn schema(models: usize) -> String {
    let mut s = String::from(
        "[definition]\nname = \"Big\"\nversion = 1\ndoc = \"A synthetic schema for the build-cost benchmark.\"\n",
    );
    for i in 0..models {
        let _ = write!(
            s,
            r#"
[models.Model{i}]
primary_key = "id"
doc = "Model number {i}."

[models.Model{i}.fields]
id = "u64"
code = {{ type = "String", secondary_key = "unique" }}
name = "String"
group = {{ type = "u32", secondary_key = true }}
tag = {{ type = "Option<String>", secondary_key = true }}
score = "f64"
flags = "Vec<String>"
blob = "Option<Bytes>"
created = "i64"
"#
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_100_model_schema_compiles() {
        let source = super::schema(super::MODELS);
        let code = netabase_build::generate(&source, &netabase_build::Options::default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            code.matches("impl ::netabase_runtime::Model for").count(),
            super::MODELS
        );
    }
}
