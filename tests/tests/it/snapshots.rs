//! Snapshots pin every byte of the generated code and of the rendered diagnostics.

use netabase_build::{Options, generate};
use std::path::Path;

/// The name the schema is known by in `build.rs` (relative to this package), so snapshots and
/// the compiled fixtures agree.
fn source_name(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let relative = pathdiff(path, root);
    relative.replace('\\', "/")
}

fn pathdiff(path: &Path, root: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(inside) => inside.display().to_string(),
        Err(_) => Path::new("..")
            .join(
                path.strip_prefix(root.parent().expect("workspace"))
                    .expect("in workspace"),
            )
            .display()
            .to_string(),
    }
}

fn generate_file(path: &Path) -> Result<String, netabase_build::Diagnostics> {
    let source = std::fs::read_to_string(path).expect("read schema");
    generate(
        &source,
        &Options {
            source_name: source_name(path),
            ..Options::default()
        },
    )
}

#[test]
fn generated_code_of_fixtures() {
    insta::glob!("../../fixtures", "*.toml", |path| {
        let code = generate_file(path).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(code);
    });
}

#[test]
fn generated_code_of_project_schemas() {
    insta::glob!("../../../schemas", "*.toml", |path| {
        let code = generate_file(path).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(code);
    });
}

#[test]
fn diagnostics_of_invalid_fixtures() {
    insta::glob!("../../fixtures/invalid", "*.toml", |path| {
        let Err(diagnostics) = generate_file(path) else {
            panic!("{} compiled but must fail", path.display());
        };
        insta::assert_snapshot!(diagnostics.render());
    });
}

#[test]
fn every_error_has_a_location_and_a_help_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invalid");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let diagnostics = generate_file(&path).expect_err("invalid fixture compiled");
        let rendered = diagnostics.render();
        let name = source_name(&path);
        for error in diagnostics.errors() {
            count += 1;
            assert!(
                error.help.is_some(),
                "{name}: no help for `{}`",
                error.message
            );
        }
        assert!(
            rendered.contains(&format!("{name}:")),
            "{name}: no file:line:col in\n{rendered}"
        );
    }
    assert!(
        count >= 40,
        "only {count} errors across the invalid fixtures"
    );
}

#[test]
fn all_errors_of_a_file_come_out_in_one_run() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invalid/many_errors.toml");
    let diagnostics = generate_file(&path).expect_err("must fail");
    let messages: Vec<&str> = diagnostics
        .errors()
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "invalid version -2",
            "the primary key names an unknown field `gid`",
            "unknown type `u46`",
            "invalid `secondary_key`",
            "field `population` has no type",
            "unknown key `tyep` in field `population`",
            "field `tags` of type `Vec<Bytes>` cannot be a secondary key",
        ]
    );
}

#[test]
fn generation_is_deterministic() {
    for path in [
        "fixtures/library.toml",
        "fixtures/scalars.toml",
        "../schemas/atlas.toml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let first = generate_file(&path).expect("valid");
        let second = generate_file(&path).expect("valid");
        assert_eq!(first, second, "{}", path.display());
    }
}

/// `generate_file`, the call the README's snapshot recipe uses, given the path as build.rs
/// gives it (tests run in the package root, as build scripts do), returns exactly the bytes
/// build.rs wrote to `OUT_DIR`.
#[test]
fn generate_file_returns_exactly_what_the_build_wrote() {
    let cases = [
        ("fixtures/library.toml", "library.rs"),
        ("fixtures/links.toml", "links.rs"),
        ("fixtures/scalars.toml", "scalars.rs"),
        ("fixtures/keys.toml", "keys.rs"),
        ("fixtures/types.toml", "types.rs"),
        ("../schemas/atlas.toml", "atlas.rs"),
    ];
    for (schema, output) in cases {
        let built = std::fs::read_to_string(Path::new(env!("OUT_DIR")).join(output))
            .expect("the build script wrote it");
        let generated = netabase_build::generate_file(schema).expect("valid");
        assert!(
            generated == built,
            "{schema}: generate_file differs from the build's output"
        );
    }
}

#[test]
fn build_script_output_is_what_generate_returns() {
    let cases = [
        (
            "fixtures/library.toml",
            include_str!(concat!(env!("OUT_DIR"), "/library.rs")),
        ),
        (
            "fixtures/scalars.toml",
            include_str!(concat!(env!("OUT_DIR"), "/scalars.rs")),
        ),
        (
            "../schemas/atlas.toml",
            include_str!(concat!(env!("OUT_DIR"), "/atlas.rs")),
        ),
    ];
    for (path, built) in cases {
        let generated =
            generate_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("valid");
        assert_eq!(generated, built, "{path}");
        assert!(built.starts_with(&format!(
            "// @generated by netabase-build {} from `{path}`. DO NOT EDIT.",
            env!("CARGO_PKG_VERSION")
        )));
    }
}

#[test]
fn docs_and_version_do_not_change_the_fingerprint_but_layout_does() {
    let base = "[definition]\nname = \"D\"\nversion = 1\n[models.M]\nprimary_key = \"id\"\n[models.M.fields]\nid = \"u64\"\n";
    let fingerprint = |source: &str| {
        let code = generate(source, &Options::default()).expect("valid");
        code.lines()
            .find(|l| l.contains("FINGERPRINT"))
            .expect("fingerprint")
            .to_owned()
    };
    let original = fingerprint(base);
    assert_eq!(
        fingerprint(&base.replace("version = 1", "version = 2\ndoc = \"x\"")),
        original
    );
    assert_ne!(fingerprint(&format!("{base}name = \"String\"\n")), original);
    assert_ne!(fingerprint(&base.replace("\"u64\"", "\"i64\"")), original);
    // A key's name names its index table: renaming it changes the layout.
    let keyed = |name: &str| {
        base.replace("primary_key = \"id\"", &format!("primary_key = \"id\"\nsecondary_keys = [{{ name = \"{name}\", fields = [\"id\"] }}]"))
    };
    assert_ne!(fingerprint(&keyed("a")), fingerprint(&keyed("b")));
}

/// What a failing build prints first (as `cargo:warning=` lines, above cargo's "failed to run
/// custom build command" block): one line per error with its place and help.
#[test]
fn each_error_has_a_one_line_summary_for_cargo_warnings() {
    let source = "[definition]\nname = \"D\"\nversion = 1\n[models.M]\nprimary_key = \"id\"\n[models.M.fields]\nid = \"u64\"\nage = \"i46\"\n";
    let errors = generate(
        source,
        &Options {
            source_name: "schemas/d.toml".to_owned(),
            ..Options::default()
        },
    )
    .expect_err("i46 is not a type");
    assert_eq!(
        errors.one_line_summaries(),
        ["schemas/d.toml:8:8: unknown type `i46` (help: did you mean `i64`?)"]
    );
}
