//! `netabase`: check a schema, print the code it compiles to, or look inside a database file.
//!
//! Built with the default `cli` feature of `netabase-build`; `build.rs` users who only need the
//! library turn it off with `default-features = false`.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use netabase_build::{Options, generate};
use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition, TableHandle};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const ABOUT: &str =
    "Check netabase schemas, see the code they compile to, and inspect database files";

const LONG_ABOUT: &str = "\
Check netabase schemas, see the code they compile to, and inspect database files.

A netabase schema is a TOML file that declares a definition (a name and a version) and its models
(fields, a primary key, secondary keys). In a project, `netabase_build::compile(\"schema.toml\")`
in build.rs turns it into Rust on every build; this tool does the same steps by hand:

  check    finds every mistake in a schema and explains it, like the build would
  gen      prints (or writes) the generated Rust, to read it or commit it
  inspect  shows which definition, version and layout a database file was written for, and
           how many rows each of its tables holds

The schema format is described in docs/SCHEMA.md.";

const EXAMPLES: &str = "\
Examples:
  netabase check schemas/library.toml
  netabase gen schemas/library.toml | less
  netabase gen schemas/library.toml -o src/library_generated.rs
  netabase inspect library.redb
  netabase inspect library.redb --schema schemas/library.toml

Exit status: 0 on success, 1 when a schema has errors or a database cannot be read (or does
not match --schema), 2 when the command line itself is wrong.";

#[derive(Parser)]
#[command(
    name = "netabase",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check schemas for mistakes (nothing is written)
    #[command(
        long_about = "\
Check schemas for mistakes, without writing anything.

Every error is reported at once, as `file:line:col` with the offending line, a caret under the
mistake and a `help:` line that says how to fix it: exactly what `cargo build` shows when
build.rs compiles the schema. On success, one line per schema summarizes what it declares.

Use `-` to read a schema from standard input.",
        after_help = "\
Examples:
  netabase check schemas/library.toml
  netabase check schemas/*.toml
  cat schema.toml | netabase check -

Exit status: 0 when every schema is valid, 1 when any has an error."
    )]
    Check {
        /// Schema files (`.toml`), or `-` for standard input
        #[arg(value_name = "SCHEMA", required = true)]
        schemas: Vec<PathBuf>,
    },

    /// Print the Rust code a schema compiles to
    #[command(
        long_about = "\
Print the Rust code a schema compiles to: the same text build.rs writes to
$OUT_DIR/<schema name>.rs, for reading in an editor or committing to the repository.

The code uses the `netabase-runtime` crate; include it in a module with
`include!(\"path/to/file.rs\");` (or, from build.rs output, `netabase_runtime::include_schema!(\"name\")`).
With -o, the file is only rewritten when its content changes.",
        after_help = "\
Examples:
  netabase gen schemas/library.toml | less
  netabase gen schemas/library.toml -o src/library_generated.rs
  netabase gen schemas/library.toml --serde --derive Hash

Exit status: 0 on success, 1 when the schema has errors (they are printed, nothing is written)."
    )]
    Gen {
        /// The schema file (`.toml`), or `-` for standard input
        #[arg(value_name = "SCHEMA")]
        schema: PathBuf,
        /// Write the code to FILE instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also derive `serde::Serialize` and `serde::Deserialize` on every model
        #[arg(long)]
        serde: bool,
        /// Add a derive to every model (a path such as `Hash`); may be repeated
        #[arg(long = "derive", value_name = "PATH")]
        derives: Vec<String>,
    },

    /// Show what a database file holds: definition, version, fingerprint, tables and rows
    #[command(
        long_about = "\
Show what a netabase database file holds, without changing it: the definition, version and
layout fingerprint stored in its metadata, and every table with its number of rows.

A program refuses to open a database whose definition, version or fingerprint differ from the
ones its generated code was compiled from. With --schema, inspect compares the file with a schema
and reports every difference (and exits with status 1 if there is one).

Tables are named `<Definition>/<Model>` (records) and `<Definition>/<Model>/<key>` (one per
secondary key); `netabase/meta` holds the metadata.",
        after_help = "\
Examples:
  netabase inspect library.redb
  netabase inspect library.redb --schema schemas/library.toml

Exit status: 0 on success, 1 when the file is not a netabase database, cannot be read, or does
not match --schema."
    )]
    Inspect {
        /// The database file (redb)
        #[arg(value_name = "DATABASE")]
        database: PathBuf,
        /// Also check that the database matches this schema
        #[arg(long, value_name = "SCHEMA")]
        schema: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { schemas } => check(&schemas),
        Command::Gen {
            schema,
            output,
            serde,
            derives,
        } => gen_code(&schema, output.as_deref(), serde, derives),
        Command::Inspect { database, schema } => inspect(&database, schema.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::FAILURE,
        Err(Failure::Message(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Why a command failed.
enum Failure {
    /// The details are printed already (diagnostics, a table of differences).
    Reported,
    /// A one-line reason, printed as `error: ...`.
    Message(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Message(message)
    }
}

/// A schema's text and the name it is shown under (the path as given, with `/`).
fn read_schema(path: &Path) -> Result<(String, String), Failure> {
    if path == Path::new("-") {
        let mut source = String::new();
        std::io::stdin()
            .read_to_string(&mut source)
            .map_err(|e| format!("cannot read the schema from standard input: {e}"))?;
        return Ok((source, "<stdin>".to_owned()));
    }
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read schema `{}`: {e}", path.display()))?;
    Ok((source, path.to_string_lossy().replace('\\', "/")))
}

fn check(paths: &[PathBuf]) -> Result<(), Failure> {
    let mut failed = false;
    for path in paths {
        let (source, name) = match read_schema(path) {
            Ok(read) => read,
            Err(Failure::Message(message)) => {
                eprintln!("error: {message}");
                failed = true;
                continue;
            }
            Err(Failure::Reported) => {
                failed = true;
                continue;
            }
        };
        let options = Options {
            source_name: name.clone(),
            ..Options::default()
        };
        match generate(&source, &options) {
            Ok(_) => println!("{name}: ok, {}", summary(&source, &name)),
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render());
                failed = true;
            }
        }
    }
    if failed {
        Err(Failure::Reported)
    } else {
        Ok(())
    }
}

/// `definition Atlas v1, 2 models, 5 secondary keys, 7 tables` for a valid schema.
fn summary(source: &str, name: &str) -> String {
    let Some(schema) = validated(source, name) else {
        return "valid".to_owned();
    };
    let models = schema.models.len();
    let keys: usize = schema.models.iter().map(|m| m.secondary_keys.len()).sum();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "definition {} v{}, {}, {}, {}",
        schema.definition.name.schema,
        schema.definition.version,
        plural(models, "model", "models"),
        plural(keys, "secondary key", "secondary keys"),
        plural(models + keys, "table", "tables"),
    )
}

/// The validated IR of a schema, or `None` if it has errors.
fn validated(source: &str, name: &str) -> Option<netabase_build::ir::Schema> {
    let mut errors = Vec::new();
    let raw = netabase_build::parse::parse(source, &mut errors)?;
    let schema = netabase_build::validate::validate(raw, source, name, &mut errors)?;
    errors.is_empty().then_some(schema)
}

fn gen_code(
    path: &Path,
    output: Option<&Path>,
    serde: bool,
    extra_derives: Vec<String>,
) -> Result<(), Failure> {
    let (source, name) = read_schema(path)?;
    let options = Options {
        source_name: name,
        serde,
        extra_derives,
    };
    let code = generate(&source, &options).map_err(|diagnostics| {
        eprint!("{}", diagnostics.render());
        Failure::Reported
    })?;
    match output {
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`netabase gen x.toml | head`) is not an error worth a message.
            match stdout
                .write_all(code.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write to standard output: {e}").into())
                }
                _ => Ok(()),
            }
        }
        Some(file) => {
            netabase_build::write::write_if_changed(file, &code)
                .map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
            eprintln!("wrote {} ({} lines)", file.display(), code.lines().count());
            Ok(())
        }
    }
}

/// The netabase metadata table (`netabase_runtime::META_TABLE` in the runtime) and its keys.
const META_TABLE: &str = "netabase/meta";
const META: TableDefinition<&str, &[u8]> = TableDefinition::new(META_TABLE);

/// What `inspect` found in a database file.
struct Inspection {
    size: u64,
    meta: Option<Meta>,
    /// Table name, row count, whether it is a multimap table (netabase writes none).
    tables: Vec<(String, u64, bool)>,
}

/// The stored metadata; each value as found (`Err` says why it is unreadable).
struct Meta {
    definition: Result<String, String>,
    version: Result<u64, String>,
    fingerprint: Result<String, String>,
}

fn inspect(path: &Path, schema: Option<&Path>) -> Result<(), Failure> {
    // Read the schema first: a mistake there is found without touching the database.
    let expected = match schema {
        Some(schema) => {
            let (source, name) = read_schema(schema)?;
            if let Err(diagnostics) = generate(
                &source,
                &Options {
                    source_name: name.clone(),
                    ..Options::default()
                },
            ) {
                eprint!("{}", diagnostics.render());
                return Err(Failure::Reported);
            }
            Some((
                name.clone(),
                validated(&source, &name)
                    .ok_or_else(|| format!("schema `{name}` did not validate"))?,
            ))
        }
        None => None,
    };
    let inspection = read_database(path)?;
    let shown = path.display();
    println!("database     {shown} ({})", human_size(inspection.size));
    let Some(meta) = &inspection.meta else {
        print_tables(&inspection.tables);
        return Err(format!(
            "`{shown}` is a redb database but not a netabase one: it has no `{META_TABLE}` table \
             (a netabase store creates it when it first opens the file)"
        )
        .into());
    };
    let show = |value: &Result<String, String>| match value {
        Ok(v) => v.clone(),
        Err(e) => format!("<{e}>"),
    };
    println!("definition   {}", show(&meta.definition));
    println!(
        "version      {}",
        show(
            &meta
                .version
                .as_ref()
                .map(u64::to_string)
                .map_err(Clone::clone)
        )
    );
    println!("fingerprint  {}", show(&meta.fingerprint));
    println!();
    print_tables(&inspection.tables);
    let broken: Vec<&str> = [
        ("definition", meta.definition.is_err()),
        ("version", meta.version.is_err()),
        ("fingerprint", meta.fingerprint.is_err()),
    ]
    .into_iter()
    .filter_map(|(name, bad)| bad.then_some(name))
    .collect();
    if !broken.is_empty() {
        return Err(format!(
            "the metadata of `{shown}` is incomplete or malformed ({}): no netabase program will open it",
            broken.join(", ")
        )
        .into());
    }
    match expected {
        Some((name, schema)) => compare(&name, &schema, meta, &inspection.tables),
        None => Ok(()),
    }
}

/// Prints how `meta` and `tables` differ from what `schema` describes; fails if they do.
fn compare(
    name: &str,
    schema: &netabase_build::ir::Schema,
    meta: &Meta,
    tables: &[(String, u64, bool)],
) -> Result<(), Failure> {
    let mut differences = Vec::new();
    let definition = &schema.definition.name.schema;
    if meta.definition.as_ref().ok() != Some(definition) {
        differences.push(format!(
            "definition: the database has `{}`, the schema `{definition}`",
            meta.definition.as_deref().unwrap_or("?")
        ));
    }
    if meta.version.as_ref().ok() != Some(&schema.definition.version) {
        differences.push(format!(
            "version: the database has {}, the schema {}",
            meta.version.as_ref().map_or("?".to_owned(), u64::to_string),
            schema.definition.version
        ));
    }
    let fingerprint = netabase_build::fingerprint::fingerprint(schema);
    if meta.fingerprint.as_ref().ok() != Some(&fingerprint) {
        differences.push(format!(
            "fingerprint: the database has {}, the schema {fingerprint} \
             (fields, types, keys or table names differ)",
            meta.fingerprint.as_deref().unwrap_or("?")
        ));
    }
    let expected: Vec<String> = schema
        .models
        .iter()
        .flat_map(|m| {
            std::iter::once(schema.record_table(m))
                .chain(m.secondary_keys.iter().map(|k| schema.index_table(m, k)))
        })
        .collect();
    for table in &expected {
        if !tables.iter().any(|(name, _, _)| name == table) {
            differences.push(format!("table `{table}` is missing from the database"));
        }
    }
    for (table, _, _) in tables {
        if table != META_TABLE && !expected.contains(table) {
            differences.push(format!("table `{table}` is not in the schema"));
        }
    }
    println!();
    if differences.is_empty() {
        println!("schema       {name}: matches");
        return Ok(());
    }
    println!("schema       {name}: does not match");
    for difference in &differences {
        println!("  - {difference}");
    }
    Err(Failure::Message(format!(
        "the database does not match `{name}` ({} difference{}): a program compiled from this schema would refuse to open it",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" }
    )))
}

fn print_tables(tables: &[(String, u64, bool)]) {
    let width = tables
        .iter()
        .map(|(name, _, _)| name.chars().count())
        .max()
        .unwrap_or(0)
        .max("table".len());
    let rows_width = tables
        .iter()
        .map(|(_, rows, _)| rows.to_string().len())
        .max()
        .unwrap_or(0)
        .max("rows".len());
    println!("{:<width$}  {:>rows_width$}", "table", "rows");
    for (name, rows, multimap) in tables {
        let note = if *multimap { "  (multimap)" } else { "" };
        println!("{name:<width$}  {rows:>rows_width$}{note}");
    }
    if tables.is_empty() {
        println!("(no tables)");
    }
}

/// Opens `path` read-only and reads its metadata and table sizes.
///
/// redb checks some invariants of the file with debug assertions, so a corrupted file can panic
/// inside it in a debug build; that is caught and reported as corruption.
fn read_database(path: &Path) -> Result<Inspection, Failure> {
    let shown = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?
        .len();
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(format!("`{shown}` is a directory, not a database file").into());
    }
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| read_database_unguarded(path, &shown));
    std::panic::set_hook(previous_hook);
    match result {
        Ok(Ok((meta, tables))) => Ok(Inspection { size, meta, tables }),
        Ok(Err(message)) => Err(message.into()),
        Err(_) => Err(format!(
            "`{shown}` is corrupted: redb found an inconsistency while reading it"
        )
        .into()),
    }
}

type Tables = Vec<(String, u64, bool)>;

fn read_database_unguarded(path: &Path, shown: &str) -> Result<(Option<Meta>, Tables), String> {
    let db = redb::Builder::new()
        .open_read_only(path)
        .map_err(|e| open_error(shown, e))?;
    let txn = db
        .begin_read()
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let mut tables = Vec::new();
    let handles = txn
        .list_tables()
        .map_err(|e| format!("cannot list the tables of `{shown}`: {e}"))?;
    for handle in handles {
        let name = handle.name().to_owned();
        let rows = txn
            .open_untyped_table(handle)
            .and_then(|t| t.len().map_err(Into::into))
            .map_err(|e| format!("cannot read table `{name}` of `{shown}`: {e}"))?;
        tables.push((name, rows, false));
    }
    let handles = txn
        .list_multimap_tables()
        .map_err(|e| format!("cannot list the tables of `{shown}`: {e}"))?;
    for handle in handles {
        let name = redb::MultimapTableHandle::name(&handle).to_owned();
        let rows = txn
            .open_untyped_multimap_table(handle)
            .and_then(|t| t.len().map_err(Into::into))
            .map_err(|e| format!("cannot read table `{name}` of `{shown}`: {e}"))?;
        tables.push((name, rows, true));
    }
    tables.sort();
    if !tables
        .iter()
        .any(|(name, _, multimap)| name == META_TABLE && !multimap)
    {
        return Ok((None, tables));
    }
    let meta = txn.open_table(META).map_err(|e| {
        format!("`{shown}` has a `{META_TABLE}` table that netabase did not write: {e}")
    })?;
    let field = |key: &str| -> Result<Vec<u8>, String> {
        match meta.get(key) {
            Ok(Some(guard)) => Ok(guard.value().to_vec()),
            Ok(None) => Err("missing".to_owned()),
            Err(e) => Err(format!("unreadable: {e}")),
        }
    };
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned());
    let meta = Meta {
        definition: field("definition").and_then(text),
        version: field("version").and_then(|bytes| {
            let len = bytes.len();
            <[u8; 8]>::try_from(bytes)
                .map(u64::from_be_bytes)
                .map_err(|_| format!("malformed: {len} bytes, expected 8"))
        }),
        fingerprint: field("fingerprint").and_then(text),
    };
    Ok((Some(meta), tables))
}

fn open_error(shown: &str, error: redb::DatabaseError) -> String {
    use redb::{DatabaseError, StorageError};
    match error {
        DatabaseError::Storage(StorageError::Io(e))
            if e.kind() == std::io::ErrorKind::InvalidData =>
        {
            format!("`{shown}` is not a redb database file ({e})")
        }
        DatabaseError::Storage(StorageError::Corrupted(e)) => {
            format!("`{shown}` is not a redb database file, or it is corrupted ({e})")
        }
        DatabaseError::DatabaseAlreadyOpen => format!(
            "`{shown}` is open for writing in another process; inspect it when that program has closed it"
        ),
        DatabaseError::RepairAborted => format!(
            "`{shown}` was not closed cleanly and needs a repair, which inspect does not do (it never \
             writes); opening it once with the program that uses it repairs it"
        ),
        DatabaseError::UpgradeRequired(version) => format!(
            "`{shown}` is in an old redb file format (version {version}) that this redb cannot read"
        ),
        other => format!("cannot open `{shown}`: {other}"),
    }
}

/// `1.4 MiB`, `812 bytes`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}
