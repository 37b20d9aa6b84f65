//! `netabase`: check a schema, print the code it compiles to, look inside a database file,
//! compact it or salvage a damaged one.
//!
//! A crate of its own (`cargo install netabase-cli`), so that `build.rs` users of
//! `netabase-build` never compile clap. Schema commands call `netabase-build`
//! (`schema.rs`); database commands call `netabase-runtime`, which owns the file format
//! (`inspect.rs`); the migration commands compare layouts through the runtime's migration
//! code, and migrate a file through its schema-less migration (`migrate.rs`).

#![forbid(unsafe_code)]

mod inspect;
mod migrate;
mod schema;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
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
           how many rows each of its tables holds; --records prints a model's records, decoded
           by the layout the file stores (no schema needed)
  diff     lists every change between two versions of a schema and whether opening a
           database migrates it automatically
  migrate  migrates a database to a new version of its schema, as the program would on open
           (automatic changes only); --dry-run says what it would do, writing nothing
  compact  gives a database file's free space back to the file system
  recover  copies what can still be read out of a damaged database into a new one

The schema format: https://github.com/netabase/netabase/blob/main/docs/SCHEMA.md";

const EXAMPLES: &str = "\
Examples:
  netabase check schemas/library.toml
  netabase gen schemas/library.toml | less
  netabase gen schemas/library.toml -o src/library_generated.rs
  netabase inspect library.redb
  netabase inspect library.redb --schema schemas/library.toml
  netabase inspect library.redb --records Book --limit 10
  netabase diff schemas/library.v1.toml schemas/library.toml
  netabase migrate --db library.redb --schema schemas/library.toml --dry-run
  netabase migrate --db library.redb --schema schemas/library.toml
  netabase compact library.redb
  netabase recover damaged.redb -o rescued.redb

Exit status: 0 on success, 1 when a schema has errors, a database cannot be read (or does
not match --schema), or a change would not migrate automatically, 2 when the command line
itself is wrong.";

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

    /// Show what a database file holds: definition, version, fingerprint, tables, rows and
    /// layout; or a model's records
    #[command(
        long_about = "\
Show what a netabase database file holds, without changing it: the definition, version and
layout fingerprint stored in its metadata, every table with its number of rows, and the layout
the file stores (models, fields with their types in encoding order, keys, enums, structs).

With --records MODEL, prints that model's records instead, one per line in primary key order
(`id: 1, name: \"Ada\", email: None`), decoded by the stored layout: this works when the schema
file is lost.

A program refuses to open a database whose definition, version or fingerprint differ from the
ones its generated code was compiled from. With --schema, inspect compares the file with a schema
and reports every difference (and exits with status 1 if there is one).

Tables are named `<Definition>/<Model>` (records) and `<Definition>/<Model>/<key>` (one per
secondary key); `netabase/meta` holds the metadata.",
        after_help = "\
Examples:
  netabase inspect library.redb
  netabase inspect library.redb --schema schemas/library.toml
  netabase inspect library.redb --records Book --limit 10
  netabase diff schemas/library.v1.toml schemas/library.toml
  netabase migrate --db library.redb --schema schemas/library.toml --dry-run

Exit status: 0 on success, 1 when the file is not a netabase database, cannot be read, or does
not match --schema."
    )]
    Inspect {
        /// The database file (redb)
        #[arg(value_name = "DATABASE")]
        database: PathBuf,
        /// Also check that the database matches this schema
        #[arg(long, value_name = "SCHEMA", conflicts_with = "records")]
        schema: Option<PathBuf>,
        /// Print the records of MODEL (one per line), decoded by the stored layout
        #[arg(long, value_name = "MODEL")]
        records: Option<String>,
        /// With --records: print at most N records
        #[arg(long, value_name = "N", requires = "records", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
    },

    /// List the changes between two versions of a schema and how each migrates
    #[command(
        long_about = "\
List every change between two versions of a schema, and its class:

  automatic           opening a database of the old version migrates it (a new model, an
                      index added or changed, a new Option field or one with a default, a
                      rename with renamed_from, a widened type, a new enum variant at the end)
  needs confirmation  a field or model removed: the new schema must confirm it with
                      removed_fields / removed_models
  not automatic       a narrowed or changed type, a new primary key, a new field without a
                      default...: opening is refused

Also checks the version rules: a changed layout needs a higher `version`, and versions only go
up. This compares the layouts the schemas compile to with the code `Store::open` runs, so what
it prints is what opening would do. The rules:
https://github.com/netabase/netabase/blob/main/docs/MIGRATIONS.md",
        after_help = "\
Examples:
  netabase diff schemas/shop.v1.toml schemas/shop.toml
  git show HEAD~1:schemas/shop.toml | netabase diff - schemas/shop.toml

Exit status: 0 when every change is automatic, 1 when a change needs confirmation or is not
automatic, the versions break the rules, or a schema has errors."
    )]
    Diff {
        /// The old version of the schema (`.toml`), or `-` for standard input
        #[arg(value_name = "OLD")]
        old: PathBuf,
        /// The new version of the schema (`.toml`)
        #[arg(value_name = "NEW")]
        new: PathBuf,
    },

    /// Migrate a database to a new version of its schema (--dry-run: only say what it would do)
    #[command(
        long_about = "\
Migrate DATABASE to the version of its definition that SCHEMA describes, as a program built from
SCHEMA would when it opens the file, without the program: the same plan and the same refusals
as `Store::open`. Records are rewritten into their new encoding, removed tables deleted, and the
indexes that are new or changed built from the records, in one write transaction on a copy of the
file beside it, which replaces the file once committed: any failure leaves the file as it was.
A progress bar on stderr follows each model (when stderr is a terminal); then every change is
printed, model by model.

Only automatic changes migrate here (those `netabase diff` calls automatic). A change that needs
a typed step (`Migrate`) is refused: open the file from the program that has the step. The file
must not be open in another program, and its directory needs room for a copy.

With --dry-run, say what opening DATABASE with a program built from SCHEMA would do, writing
nothing: write nothing (the file is at that version), migrate it (every change listed, with its
class), or refuse (a newer version, a change that is not automatic or not confirmed, another
definition), with the error the program would return.",
        after_help = "\
Examples:
  netabase migrate --db shop.redb --schema schemas/shop.toml --dry-run
  netabase migrate --db shop.redb --schema schemas/shop.toml

Exit status: 0 when the file was migrated or is already at SCHEMA's version (with --dry-run:
when opening would succeed), 1 when the migration is refused or a file cannot be read."
    )]
    Migrate {
        /// The database file (redb)
        #[arg(long = "db", value_name = "DATABASE")]
        database: PathBuf,
        /// The schema to migrate to (the one the program that opens the file is built from)
        #[arg(long, value_name = "SCHEMA")]
        schema: PathBuf,
        /// Only say what opening with SCHEMA would do; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Give a database file's free space back to the file system
    #[command(
        long_about = "\
Compact a database file: move its pages so that the free space left by removed records is given
back to the file system, and print the file's size before and after. Nothing stored changes. The
file must not be open in another program.",
        after_help = "\
Examples:
  netabase compact library.redb

Exit status: 0 when compacted, 1 when the file cannot be opened or compacted."
    )]
    Compact {
        /// The database file (redb)
        #[arg(value_name = "DATABASE")]
        database: PathBuf,
    },
    /// Copy what can still be read out of a damaged database into a new one
    #[command(
        long_about = "\
Salvage a damaged database file: copy every record that can still be read, and that decodes by
the layout the file stores about itself, into a new database file, and print per model how many
records were rescued and lost. No schema is needed. The damaged file is only read (through a
temporary copy next to OUTPUT).

The rescued file has the same definition, version and layout. Its indexes are built from the
records the first time a program of that version opens it (`Store::open`, one write
transaction). When the file's stored layout itself is unreadable, the command says so: then
recover it from the program that wrote it, with `netabase_runtime::recover::<Definition>`.",
        after_help = "\
Examples:
  netabase recover damaged.redb -o rescued.redb

Exit status: 0 when the rescued file was written (whatever was lost: read the counts), 1 when
it could not be (OUTPUT exists, the file cannot be opened at all, its layout is unreadable)."
    )]
    Recover {
        /// The damaged database file (redb); it is not modified
        #[arg(value_name = "DATABASE")]
        database: PathBuf,
        /// Where to write the rescued database (must not exist)
        #[arg(short, long, value_name = "OUTPUT")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { schemas } => schema::check(&schemas),
        Command::Gen {
            schema,
            output,
            serde,
            derives,
        } => schema::gen_code(&schema, output.as_deref(), serde, derives),
        Command::Inspect {
            database,
            records: Some(model),
            limit,
            ..
        } => inspect::records(&database, &model, limit),
        Command::Inspect {
            database, schema, ..
        } => inspect::inspect(&database, schema.as_deref()),
        Command::Diff { old, new } => migrate::diff(&old, &new),
        Command::Migrate {
            database,
            schema,
            dry_run: true,
        } => migrate::dry_run(&database, &schema),
        Command::Migrate {
            database, schema, ..
        } => migrate::migrate(&database, &schema),
        Command::Compact { database } => compact(&database),
        Command::Recover { database, output } => recover(&database, &output),
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
pub(crate) enum Failure {
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

/// `netabase compact`: compacts the file and prints its size before and after.
fn compact(path: &std::path::Path) -> Result<(), Failure> {
    let sizes = netabase_runtime::compact_file(path).map_err(|error| error.to_string())?;
    println!(
        "compacted {}: {} bytes -> {} bytes",
        path.display(),
        sizes.before,
        sizes.after
    );
    Ok(())
}

/// `netabase recover`: the schema-less salvage, and what it rescued and lost per model.
fn recover(damaged: &std::path::Path, rescued: &std::path::Path) -> Result<(), Failure> {
    let report =
        netabase_runtime::recover_file(damaged, rescued).map_err(|error| error.to_string())?;
    println!(
        "rescued {} records of {} version {} from {} into {}",
        report.rescued(),
        report.definition,
        report.version,
        damaged.display(),
        rescued.display()
    );
    for model in &report.models {
        let lost = model.lost().map_or_else(
            || "unknown (its count is unreadable)".to_owned(),
            |n| n.to_string(),
        );
        println!(
            "  {}: {} rescued, {lost} lost ({} undecodable, {} damaged reads)",
            model.model, model.rescued, model.undecodable, model.damaged_reads
        );
    }
    println!(
        "indexes are built when a program of version {} first opens {}",
        report.version,
        rescued.display()
    );
    Ok(())
}
