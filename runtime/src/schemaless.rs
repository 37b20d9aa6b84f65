//! Reading a database file without its schema or generated code, read-only (nothing here
//! writes): its metadata and every table's size ([`inspect_file`]), the definition, version and
//! [`Layout`] it stores ([`stored_schema`]), its records decoded by that layout
//! ([`for_each_record`]), and what opening it with another schema would do ([`opening`]). For
//! tools such as `netabase inspect` and `netabase migrate --dry-run`, and for a file whose
//! schema is lost.

use crate::codec::dynamic::{self, Record};
use crate::error::{Error, Result, SchemaInfo};
use crate::layout::Layout;
use crate::meta::{self, META, META_TABLE};
use crate::migrate::Change;
use crate::ordered::Ordered;
use redb::{
    MultimapTableHandle, ReadableDatabase, ReadableTableMetadata, TableDefinition, TableHandle,
};
use std::path::Path;

/// What a database file holds, as read by [`inspect_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The file's size in bytes.
    pub size: u64,
    /// The netabase metadata, or `None` for a redb file that netabase did not write.
    pub metadata: Option<StoredMetadata>,
    /// Every table, sorted by name, metadata table included.
    pub tables: Vec<TableInfo>,
}

/// The metadata a netabase database stores, each value as found: `Err` says why it is
/// unreadable (missing, not UTF-8, malformed), so a damaged file can still be described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMetadata {
    /// The definition's name.
    pub definition: std::result::Result<String, String>,
    /// The schema version.
    pub version: std::result::Result<u64, String>,
    /// The layout fingerprint.
    pub fingerprint: std::result::Result<String, String>,
}

impl StoredMetadata {
    /// The names of the values that are missing or malformed (`definition`, `version`,
    /// `fingerprint`); empty when the metadata is whole.
    pub fn broken(&self) -> Vec<&'static str> {
        [
            (meta::DEFINITION, self.definition.is_err()),
            (meta::VERSION, self.version.is_err()),
            (meta::FINGERPRINT, self.fingerprint.is_err()),
        ]
        .into_iter()
        .filter_map(|(name, bad)| bad.then_some(name))
        .collect()
    }
}

/// One table of a database file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// Its name: `<Definition>/<Model>` for records, `<Definition>/<Model>/<key>` for an index,
    /// [`META_TABLE`] for the metadata.
    pub name: String,
    /// How many entries it holds.
    pub rows: u64,
    /// Whether it is a redb multimap table (netabase writes none).
    pub multimap: bool,
}

/// Opens `path` read-only and reads its metadata and table sizes, without knowing its schema.
///
/// Errors: [`Error::NotADatabase`] for a file that is not a redb database,
/// [`Error::AlreadyOpen`] when a program has it open for writing, [`Error::Corrupted`] when
/// redb finds the file damaged (including a damage that makes redb itself fail while reading),
/// [`Error::Io`] when the file cannot be read.
pub fn inspect_file(path: impl AsRef<Path>) -> Result<FileInfo> {
    let path = path.as_ref();
    let io = |e: std::io::Error| Error::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if path.is_dir() {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            detail: "it is a directory".to_owned(),
        });
    }
    guarded(path, || read(path, size))
}

/// Runs `read` on the file at `path`, reporting a panic inside redb as corruption: redb trusts
/// the page structure of the files it reads, and a damaged page can make it panic, but these
/// functions read files of unknown origin (see `contain.rs`).
fn guarded<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::contain::contain(path, "", read)
}

fn read(path: &Path, size: u64) -> Result<FileInfo> {
    let db = open(path)?;
    let txn = db.begin_read()?;
    let mut tables = Vec::new();
    for handle in txn.list_tables()? {
        let name = handle.name().to_owned();
        let rows = txn.open_untyped_table(handle)?.len()?;
        tables.push(TableInfo {
            name,
            rows,
            multimap: false,
        });
    }
    for handle in txn.list_multimap_tables()? {
        let name = MultimapTableHandle::name(&handle).to_owned();
        let rows = txn.open_untyped_multimap_table(handle)?.len()?;
        tables.push(TableInfo {
            name,
            rows,
            multimap: true,
        });
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let has_meta = tables
        .iter()
        .any(|t| t.name == meta::META_TABLE && !t.multimap);
    let metadata = if has_meta {
        let table = txn.open_table(META).map_err(|e| Error::NotADatabase {
            path: path.to_path_buf(),
            detail: format!(
                "it has a `{}` table that netabase did not write ({e})",
                meta::META_TABLE
            ),
        })?;
        Some(meta::read_lenient(&table))
    } else {
        None
    };
    Ok(FileInfo {
        size,
        metadata,
        tables,
    })
}

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

/// Opens the file read-only (so a program may have it open at the same time).
fn open(path: &Path) -> Result<redb::ReadOnlyDatabase> {
    redb::ReadOnlyDatabase::open(path).map_err(|e| crate::store::open_error(path, e, "open"))
}

/// The definition, version and layout stored in the database at `path`; `None` for a redb
/// file without netabase metadata.
pub fn stored_schema(path: impl AsRef<Path>) -> Result<Option<StoredSchema>> {
    let path = path.as_ref();
    guarded(path, || read_stored_schema(path))
}

fn read_stored_schema(path: &Path) -> Result<Option<StoredSchema>> {
    let db = open(path)?;
    Ok(meta::read_stored(&db)?.map(|(info, layout_text, _)| StoredSchema { info, layout_text }))
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
    guarded(path, || {
        let db = open(path)?;
        let txn = db.begin_read()?;
        let mut count = 0;
        let mut visit = |bytes: &[u8]| -> Result<bool> {
            // The table name is only known at run time; errors name the metadata table.
            let record =
                dynamic::decode_record(&layout, model_layout, bytes).map_err(|source| {
                    Error::Decode {
                        table: META_TABLE,
                        record: None,
                        source: crate::codec::DecodeError::new(format!(
                            "a record of {table}: {source}"
                        )),
                    }
                })?;
            count += 1;
            Ok(each(record))
        };
        let key_type = model_layout
            .record_key_type()
            .map_err(|why| no_layout(path, &why))?;
        crate::tree::with_record_key!(key_type, K => scan::<K>(&txn, &table, &mut visit))?;
        Ok(count)
    })
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
    let records = txn.open_table(TableDefinition::<K, &[u8]>::new(table))?;
    for entry in Ordered::new(records.range::<&[u8]>(..)?, table) {
        let (_, value) = entry?;
        if !visit(value.value())? {
            break;
        }
    }
    Ok(())
}

/// What opening a database with a program built for another schema would do (see
/// [`opening`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// The file has no netabase metadata: opening would create the metadata and every table.
    Create,
    /// The file is at that schema's layout and version: opening writes nothing.
    UpToDate,
    /// Same layout and version, but written before netabase stored layouts: opening stores the
    /// layout and changes nothing else.
    StoreLayout,
    /// Opening migrates the file from version `from` to `to`, applying `changes` (all
    /// automatic; empty when only the version number changes).
    Migrate {
        /// The version the file is at.
        from: u64,
        /// The schema's version.
        to: u64,
        /// Every change, in schema order.
        changes: Vec<Change>,
    },
}

/// What `Store::open` would do to the file at `path` for a program whose generated code has
/// the identity `expected` and the layout text `layout` (`Definition::LAYOUT`, or
/// `netabase_build::stored_layout` for a schema file), without writing anything. A refusal is
/// the error opening would return (`Error::Migration` with its kind, `Error::SchemaMismatch`).
pub fn opening(path: impl AsRef<Path>, expected: &SchemaInfo, layout: &str) -> Result<Opening> {
    opening_with_history(path, expected, layout, &[])
}

/// [`opening`] for a program whose definition keeps `history` (its typed steps count).
fn opening_with_history(
    path: impl AsRef<Path>,
    expected: &SchemaInfo,
    layout: &str,
    history: &[crate::migrate::Version],
) -> Result<Opening> {
    let Some(stored) = stored_schema(path)? else {
        return Ok(Opening::Create);
    };
    let found = &stored.info;
    Ok(
        match meta::decide(
            found,
            stored.layout_text.as_deref(),
            expected,
            layout,
            history,
        )? {
            meta::Decision::UpToDate => Opening::UpToDate,
            meta::Decision::StoreLayout => Opening::StoreLayout,
            meta::Decision::Migrate(plan) => Opening::Migrate {
                from: found.version,
                to: expected.version,
                changes: plan.map(|p| p.changes()).unwrap_or_default(),
            },
        },
    )
}

/// What `Store::<D>::open` would do to the file at `path`, without writing anything (see
/// [`opening`]): for a program that wants to say "migrating..." before it opens, or to ask
/// before it migrates.
pub fn opening_for<D: crate::Definition>(path: impl AsRef<Path>) -> Result<Opening> {
    opening_with_history(path, &crate::SchemaInfo::of::<D>(), D::LAYOUT, D::HISTORY)
}
