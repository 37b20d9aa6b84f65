//! The `build.rs` entry points: [`compile`] and [`Builder`].

use crate::{Diagnostics, Options, generate, write::write_if_changed};
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a build step failed. `Debug` shows the rendered diagnostics, so returning it from
/// `build.rs`'s `main` prints them as rustc would.
pub enum Error {
    /// The schema has errors.
    Schema(Diagnostics),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The builder was set up wrongly (for example, no `OUT_DIR` outside cargo).
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Schema(diagnostics) => write!(f, "{diagnostics}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Config(message) => f.write_str(message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{self}")
    }
}

impl std::error::Error for Error {}

/// Compiles one schema into `$OUT_DIR/<file stem>.rs` with default options. For `build.rs`.
pub fn compile(schema: impl AsRef<Path>) -> Result<(), Error> {
    Builder::new().schema(schema).compile()
}

/// Returns exactly the code that [`compile`] writes for the schema at `path`, without writing
/// anything: for snapshot tests of the generated code. Give the path as `build.rs` gives it
/// (relative to the package root, which is also where `cargo test` runs tests), since it is
/// named in the generated header and diagnostics.
///
/// ```no_run
/// // In a test of the crate whose build.rs compiles `schemas/library.toml`:
/// let code = netabase_build::generate_file("schemas/library.toml")?;
/// // insta::assert_snapshot!(code);
/// # Ok::<(), netabase_build::Error>(())
/// ```
///
/// With [`Builder`] options (serde, extra derives), use [`Builder::generate`].
pub fn generate_file(path: impl AsRef<Path>) -> Result<String, Error> {
    Builder::new().schema(path).generate()
}

/// Cargo shows a failing build script's output under a long "failed to run custom build
/// command" block; its `cargo:warning=` lines come first, so each schema error also goes there
/// as one line (the full rustc-style rendering follows in the block).
fn print_cargo_warnings(error: &Error) {
    if let Error::Schema(diagnostics) = error {
        for line in diagnostics.one_line_summaries() {
            println!("cargo:warning=schema error: {line}");
        }
    }
}

/// Options for compiling schemas from `build.rs`.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    schemas: Vec<PathBuf>,
    output_name: Option<String>,
    out_dir: Option<PathBuf>,
    options: Options,
}

impl Builder {
    /// A builder with default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a schema file (relative to the package root, as cargo runs `build.rs` there).
    pub fn schema(mut self, path: impl AsRef<Path>) -> Self {
        self.schemas.push(path.as_ref().to_owned());
        self
    }

    /// The output file's name without `.rs` (default: the schema's file stem). Only with one
    /// schema.
    pub fn output_name(mut self, name: impl Into<String>) -> Self {
        self.output_name = Some(name.into());
        self
    }

    /// Where to write (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Derive `serde::Serialize` and `serde::Deserialize` on models (default off).
    pub fn serde(mut self, on: bool) -> Self {
        self.options.serde = on;
        self
    }

    /// Adds a derive to every model (`"Hash"`, `"::my_crate::MyDerive"`).
    pub fn extra_derive(mut self, path: impl Into<String>) -> Self {
        self.options.extra_derives.push(path.into());
        self
    }

    /// Returns the code [`Builder::compile`] would write for its one schema, with these
    /// options, writing nothing (see [`generate_file`]).
    pub fn generate(self) -> Result<String, Error> {
        match self.schemas.as_slice() {
            [schema] => self.generate_one(schema),
            _ => Err(Error::Config(
                "`generate` needs exactly one schema: call `.schema(\"schemas/x.toml\")` once"
                    .into(),
            )),
        }
    }

    /// Reads one schema and generates its code, named as the build names it: the one path
    /// shared by [`Builder::compile`] and [`Builder::generate`], so the two cannot differ.
    fn generate_one(&self, schema: &Path) -> Result<String, Error> {
        let source = std::fs::read_to_string(schema).map_err(|source| Error::Io {
            path: schema.to_path_buf(),
            source,
        })?;
        let options = Options {
            source_name: schema.to_string_lossy().replace('\\', "/"),
            ..self.options.clone()
        };
        generate(&source, &options).map_err(Error::Schema)
    }

    /// Compiles every schema. Prints `cargo:rerun-if-changed` for each schema file read (and
    /// nothing under `OUT_DIR`); writes each output only when its content changed.
    pub fn compile(self) -> Result<(), Error> {
        if self.schemas.is_empty() {
            return Err(Error::Config(
                "no schema given: call `.schema(\"schemas/x.toml\")`".into(),
            ));
        }
        if self.output_name.is_some() && self.schemas.len() > 1 {
            return Err(Error::Config(
                "`output_name` needs exactly one schema".into(),
            ));
        }
        let out_dir = match (&self.out_dir, std::env::var_os("OUT_DIR")) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => PathBuf::from(dir),
            (None, None) => {
                return Err(Error::Config(
                    "OUT_DIR is not set: run from build.rs, or call `.out_dir(...)`".into(),
                ));
            }
        };
        for schema in &self.schemas {
            // The path goes into a `cargo:` line, which a line break would end.
            if schema.to_string_lossy().contains(['\n', '\r']) {
                return Err(Error::Config(format!(
                    "schema path {:?} contains a line break",
                    schema
                )));
            }
            println!("cargo:rerun-if-changed={}", schema.display());
            let code = self
                .generate_one(schema)
                .inspect_err(print_cargo_warnings)?;
            let stem = match &self.output_name {
                Some(name) => name.clone(),
                None => schema
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "schema".into()),
            };
            let path = out_dir.join(format!("{stem}.rs"));
            write_if_changed(&path, &code).map_err(|source| Error::Io { path, source })?;
        }
        Ok(())
    }
}
