//! Reading a database file without its schema: the stored metadata and every table's size.
//! This is what `netabase inspect` shows; it opens the file read-only and never writes.

use crate::error::{Error, Result};
use crate::meta::{self, META};
use redb::{MultimapTableHandle, ReadableDatabase, ReadableTableMetadata, TableHandle};
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
    /// [`META_TABLE`](crate::META_TABLE) for the metadata.
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
    // redb trusts the page structure of the files it reads; a damaged page can make it panic.
    // This function reads files of unknown origin, so such a panic is reported as corruption
    // (see `contain.rs`).
    crate::contain::contain(path, "", || read(path, size))
}

fn read(path: &Path, size: u64) -> Result<FileInfo> {
    let db = redb::Builder::new()
        .open_read_only(path)
        .map_err(|e| crate::store::open_error(path, e, "open"))?;
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
