//! A scratch crate for tests that must run the Rust toolchain on generated code (`cargo check`
//! on fuzzed schemas, `cargo doc` on a fixture): each generated file becomes a module of one
//! library crate under `deny(warnings, missing_docs)` that depends on the runtime by path. The
//! crates live in Cargo's per-package temporary directory and share one target directory that
//! is kept between runs, so the runtime's dependencies are compiled once, not on every run.

use std::path::{Path, PathBuf};

/// Writes the crate `name` with `files` (module name, source) and runs `cargo <args>` on it.
/// `Ok` holds the crate's directory; `Err` holds cargo's error output.
pub fn cargo(name: &str, files: &[(String, String)], args: &[&str]) -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(name);
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    let manifest = format!(
        "[package]\nname = \"netabase-scratch-{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\nnetabase-runtime = {{ path = {:?} }}\n\n\
         # Not a member of the project's workspace.\n[workspace]\n",
        root.join("runtime").display().to_string()
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    // The project's lock file: the same dependency versions, and no registry lookup.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| e.to_string())?;
    write(&dir.join("Cargo.lock"), &lock)?;
    let mut lib = "//! Generated code.\n\n#![deny(warnings, missing_docs)]\n".to_owned();
    for (module, code) in files {
        write(&src.join(format!("{module}.rs")), code)?;
        lib += &format!(
            "\n/// `{module}`.\npub mod {module} {{\n    include!(\"{module}.rs\");\n}}\n"
        );
    }
    write(&src.join("lib.rs"), &lib)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .args(args)
        .args(["--offline", "--quiet", "--message-format", "short"])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        Ok(dir)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The target directory every scratch crate shares.
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("scratch-target")
}

/// Writes `text` unless the file holds it already: unchanged files keep their time stamps, so
/// cargo has nothing to redo.
fn write(path: &Path, text: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
