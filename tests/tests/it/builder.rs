//! The `build.rs` entry points: what they tell cargo, what they write and when.

use netabase_build::{Builder, Error};
use std::path::Path;

fn manifest(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn build_script_asks_cargo_to_rerun_on_each_schema_and_nothing_in_out_dir() {
    // Cargo keeps what this package's build.rs printed next to its OUT_DIR.
    let printed =
        std::fs::read_to_string(concat!(env!("OUT_DIR"), "/../output")).expect("build output");
    let reruns: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("cargo:rerun-if-changed="))
        .collect();
    let dirs = ["fixtures", "fixtures/migrations", "../schemas"];
    let mut expected: Vec<String> = [
        "fixtures",
        "fixtures/migrations",
        "fixtures/history",
        "../schemas",
    ]
    .iter()
    .map(|d| d.to_string())
    .collect();
    for dir in dirs {
        let mut names: Vec<String> = std::fs::read_dir(manifest(dir))
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        names.sort();
        expected.extend(names);
    }
    // The schema with history: its history first, then the schema.
    expected.extend(
        ["catalog_v1.toml", "catalog_v2.toml", "catalog.toml"]
            .map(|n| format!("fixtures/history/{n}")),
    );
    assert_eq!(reruns, expected);
    assert!(!printed.contains(env!("OUT_DIR")), "{printed}");
}

#[test]
fn writes_only_when_the_content_changes() {
    let out = tempfile::tempdir().expect("temp dir");
    let build = || {
        Builder::new()
            .schema(manifest("fixtures/library.toml"))
            .out_dir(out.path())
            .compile()
    };
    build().expect("compiles");
    let file = out.path().join("library.rs");
    // Date the file in the past: a rewrite would move its modification time to now.
    let past = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .expect("open")
        .set_modified(past)
        .expect("set mtime");
    build().expect("compiles again");
    assert_eq!(
        std::fs::metadata(&file)
            .expect("still there")
            .modified()
            .expect("mtime"),
        past
    );
    std::fs::write(&file, "stale").expect("overwrite");
    build().expect("compiles a third time");
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .starts_with("// @generated")
    );
}

#[test]
fn output_name_and_options_are_applied() {
    let out = tempfile::tempdir().expect("temp dir");
    Builder::new()
        .schema(manifest("fixtures/library.toml"))
        .out_dir(out.path())
        .output_name("books")
        .serde(true)
        .extra_derive("::core::hash::Hash")
        .compile()
        .expect("compiles");
    let code = std::fs::read_to_string(out.path().join("books.rs")).expect("written");
    assert!(code.contains("::serde::Serialize") && code.contains("::serde::Deserialize"));
    assert!(code.contains("::core::hash::Hash"));
}

#[test]
fn a_bad_schema_fails_with_rendered_diagnostics() {
    let out = tempfile::tempdir().expect("temp dir");
    let path = manifest("fixtures/invalid/unknown_type.toml");
    let error = Builder::new()
        .schema(&path)
        .out_dir(out.path())
        .compile()
        .unwrap_err();
    assert!(matches!(error, Error::Schema(_)));
    let shown = format!("{error:?}");
    assert!(shown.contains("unknown_type.toml:10:9"), "{shown}");
    assert!(shown.contains("did you mean `String`?"), "{shown}");
    assert!(!out.path().join("unknown_type.rs").exists());
}

#[test]
fn setup_mistakes_are_errors() {
    let out = tempfile::tempdir().expect("temp dir");
    let missing = Builder::new()
        .schema("no/such/schema.toml")
        .out_dir(out.path())
        .compile()
        .unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing:?}");
    assert!(missing.to_string().contains("no/such/schema.toml"));
    assert!(matches!(
        Builder::new().out_dir(out.path()).compile(),
        Err(Error::Config(_))
    ));
    let two = Builder::new()
        .schema("a.toml")
        .schema("b.toml")
        .output_name("x")
        .out_dir(out.path())
        .compile();
    assert!(matches!(two, Err(Error::Config(_))));
    let bad_derive = Builder::new()
        .schema(manifest("fixtures/library.toml"))
        .extra_derive("not a path")
        .out_dir(out.path())
        .compile();
    assert!(matches!(bad_derive, Err(Error::Schema(_))));
}
