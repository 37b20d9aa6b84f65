//! Reading a database without its schema or generated code: what it stores (its definition,
//! version and [`Layout`]), and its records decoded by that layout. For tools such as
//! `netabase inspect` (printing the stored layout and records), and for a file whose schema is
//! lost. Everything here opens the file
//! read-only and writes nothing.

use crate::codec::dynamic::{self, Record};
use crate::error::{Error, Result, SchemaInfo};
use crate::layout::Layout;
use crate::meta::{META, META_TABLE, read_info, read_layout};
use crate::tree::Fixed;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;

/// What a database says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSchema {
    /// Its definition, version and layout fingerprint.
    pub info: SchemaInfo,
    /// The stored layout text; `None` for a file written before netabase stored layouts.
    pub layout_text: Option<String>,
}

impl StoredSchema {
    /// The stored layout, parsed; `None` when the file has none.
    pub fn layout(&self) -> Result<Option<Layout>> {
        self.layout_text
            .as_deref()
            .map(|text| {
                Layout::parse(text).map_err(|e| Error::Decode {
                    table: META_TABLE,
                    record: None,
                    source: crate::codec::DecodeError::new(format!(
                        "the stored layout is malformed: {e}"
                    )),
                })
            })
            .transpose()
    }
}

fn open(path: &Path) -> Result<redb::ReadOnlyDatabase> {
    redb::ReadOnlyDatabase::open(path).map_err(|error| match error {
        redb::DatabaseError::Storage(redb::StorageError::Io(source))
            if source.kind() == std::io::ErrorKind::InvalidData =>
        {
            Error::NotADatabase {
                path: path.to_path_buf(),
                detail: source.to_string(),
            }
        }
        other => Error::Database(other),
    })
}

/// The definition, version and layout stored in the database at `path`; `None` for a redb
/// file without netabase metadata.
pub fn stored_schema(path: impl AsRef<Path>) -> Result<Option<StoredSchema>> {
    let db = open(path.as_ref())?;
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let Some(info) = read_info(&meta)? else {
        return Ok(None);
    };
    Ok(Some(StoredSchema {
        info,
        layout_text: read_layout(&meta)?,
    }))
}

/// Calls `each` with every record of `model` in the database at `path`, in primary key order,
/// decoded by the stored layout, until `each` returns `false`. Returns how many records it was
/// given. A file without a stored layout, or without that model, is an error that says so.
pub fn for_each_record(
    path: impl AsRef<Path>,
    model: &str,
    mut each: impl FnMut(Record) -> bool,
) -> Result<u64> {
    let path = path.as_ref();
    let stored = stored_schema(path)?.ok_or_else(|| no_layout(path, "no netabase metadata"))?;
    let layout = stored
        .layout()?
        .ok_or_else(|| no_layout(path, "it was written before netabase stored layouts"))?;
    let Some(model_layout) = layout.model(model) else {
        let names: Vec<&str> = layout.models.iter().map(|m| m.name.as_str()).collect();
        return Err(Error::Io {
            context: format!(
                "{} has no model `{model}`: its models are {}",
                path.display(),
                names.join(", ")
            ),
            source: std::io::ErrorKind::NotFound.into(),
        });
    };
    let table = format!("{}/{}", layout.definition, model);
    let db = open(path)?;
    let txn = db.begin_read()?;
    let mut count = 0;
    let mut visit = |bytes: &[u8]| -> Result<bool> {
        // The table name is only known at run time; errors name the metadata table.
        let record = dynamic::decode_record(&layout, model_layout, bytes).map_err(|source| {
            Error::Decode {
                table: META_TABLE,
                record: None,
                source: crate::codec::DecodeError::new(format!("a record of {table}: {source}")),
            }
        })?;
        count += 1;
        Ok(each(record))
    };
    let width = model_layout
        .record_key
        .iter()
        .find_map(|line| line.strip_prefix("record key fixed "))
        .map(|w| w.parse::<usize>());
    match width {
        None => scan::<&[u8]>(&txn, &table, &mut visit)?,
        Some(Ok(width)) => scan_fixed(&txn, &table, width, &mut visit)?,
        Some(Err(_)) => return Err(no_layout(path, "its record key line is malformed")),
    }
    Ok(count)
}

fn no_layout(path: &Path, why: &str) -> Error {
    Error::Io {
        context: format!(
            "cannot read the records of {} without its schema: {why}; open it with the program \
             that wrote it",
            path.display()
        ),
        source: std::io::ErrorKind::InvalidData.into(),
    }
}

fn scan<K: crate::tree::StoredKey>(
    txn: &redb::ReadTransaction,
    table: &str,
    visit: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    let table = txn.open_table(TableDefinition::<K, &[u8]>::new(table))?;
    for entry in table.iter()? {
        let (_, value) = entry?;
        if !visit(value.value())? {
            break;
        }
    }
    Ok(())
}

/// A record table keyed by `Fixed<width>`: redb checks the key type by name and width, so
/// the width (known only from the stored layout) picks the type.
fn scan_fixed(
    txn: &redb::ReadTransaction,
    table: &str,
    width: usize,
    visit: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    macro_rules! widths {
        ($($n:literal)*) => {
            match width {
                $($n => scan::<Fixed<$n>>(txn, table, visit),)*
                _ => Err(Error::Inconsistent {
                    table: META_TABLE,
                    detail: format!("inspecting records under {width}-byte keys is not supported"),
                }),
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32
        33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64)
}
