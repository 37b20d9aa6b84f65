//! `inspect`: what a database file holds, read through `netabase-runtime` (which owns the
//! file format), optionally compared with a schema.

use crate::Failure;
use crate::schema::{read_schema, validated};
use netabase_build::{Options, generate};
use netabase_runtime::META_TABLE;
use netabase_runtime::inspect::{FileInfo, StoredMetadata, TableInfo, inspect_file};
use std::path::Path;

pub(crate) fn inspect(path: &Path, schema: Option<&Path>) -> Result<(), Failure> {
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
    let Some(meta) = &inspection.metadata else {
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
    let broken = meta.broken();
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
    meta: &StoredMetadata,
    tables: &[TableInfo],
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
        if !tables.iter().any(|t| &t.name == table) {
            differences.push(format!("table `{table}` is missing from the database"));
        }
    }
    for TableInfo { name: table, .. } in tables {
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

fn print_tables(tables: &[TableInfo]) {
    let width = tables
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0)
        .max("table".len());
    let rows_width = tables
        .iter()
        .map(|t| t.rows.to_string().len())
        .max()
        .unwrap_or(0)
        .max("rows".len());
    println!("{:<width$}  {:>rows_width$}", "table", "rows");
    for TableInfo {
        name,
        rows,
        multimap,
    } in tables
    {
        let note = if *multimap { "  (multimap)" } else { "" };
        println!("{name:<width$}  {rows:>rows_width$}{note}");
    }
    if tables.is_empty() {
        println!("(no tables)");
    }
}

/// Reads the file through the runtime. redb can panic on a damaged file; the runtime reports
/// that as corruption, and the default panic message (meant for a program's developer, with
/// redb's source paths) is silenced while it reads: this tool is the one that explains.
fn read_database(path: &Path) -> Result<FileInfo, Failure> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = inspect_file(path);
    std::panic::set_hook(previous_hook);
    result.map_err(|e| Failure::Message(e.to_string()))
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
