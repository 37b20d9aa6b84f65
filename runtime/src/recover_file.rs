//! Schema-less salvage: [`recover_file`] copies every record of a damaged database that can
//! still be read and decoded into a new database, using the layout the file stores about
//! itself instead of generated code (what `netabase recover` runs).
//!
//! Records are found as by the typed [`recover`](crate::recover), by the same code (see
//! `recover.rs`): a scan in key order that resumes past damaged pages by bisection, then a
//! look-up of every primary key the model's index tables point to that the scan did not reach
//! (the index tables are read by the key and value types their stored layout lines give, see
//! `StoredIndex`). Each record is checked to decode by the stored layout
//! ([`dynamic`](crate::codec::dynamic)) before it is copied, byte for byte. What it cannot do
//! without the generated code is compute index keys, so the rescued file holds the metadata
//! and the records, and a flag in the metadata: the first `Store::open` by a program of the
//! file's version builds every index from the records, in one write transaction, before
//! anything can read them. The change feed is not copied.

use crate::codec::dynamic;
use crate::contain::{ContainDrop, contain};
use crate::error::{Error, Result};
use crate::layout::{Layout, ModelLayout};
use crate::meta::{META, META_TABLE, REBUILD_INDEXES};
use crate::recover::{Indexed, ModelRecovery, RecoveryReport};
use crate::tree::{Bytes, StoredIndex, StoredKey, with_record_key};
use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};
use std::path::Path;

/// Copies every readable record of the database at `damaged` that decodes by the layout the
/// file stores into a new database at `rescued`, and reports what was rescued and lost per
/// model. No schema or generated code is needed. The rescued file holds the same metadata
/// (definition, version, layout) and the records; its indexes are built by the first
/// `Store::open` of a program of that version (see the module docs).
///
/// The damaged file is never written (it is read through a copy, removed at the end);
/// `rescued` must not exist, and is removed again when the call fails. When the stored layout
/// itself cannot be read, the error says so: then recover with the program that wrote the
/// file, which knows the layout, by calling [`recover`](crate::recover) with its definition.
pub fn recover_file(
    damaged: impl AsRef<Path>,
    rescued: impl AsRef<Path>,
) -> Result<RecoveryReport> {
    let (damaged, rescued) = (damaged.as_ref(), rescued.as_ref());
    crate::backup::refuse_existing(rescued, "rescued database")?;
    let work = crate::recover::working_copy(damaged, rescued)?;
    let result = crate::contain::quietly(|| recover_from_copy(&work, damaged, rescued));
    let _ = std::fs::remove_file(&work);
    if result.is_err() {
        let _ = std::fs::remove_file(rescued);
    }
    result
}

fn recover_from_copy(work: &Path, damaged: &Path, rescued: &Path) -> Result<RecoveryReport> {
    let source = contain(damaged, "", || {
        redb::Database::builder()
            .open(work)
            .map_err(|error| crate::store::open_error(damaged, error, "open"))
    })
    .map(ContainDrop::new)?;
    let txn = contain(damaged, "", || Ok(source.begin_read()?))?;
    let meta = contain(damaged, META_TABLE, || read_meta(&txn))
        .map_err(|error| layout_unreadable(damaged, &error.to_string()))?;
    let layout = stored_layout(&meta).map_err(|why| layout_unreadable(damaged, &why))?;
    let version = meta
        .iter()
        .find(|(key, _)| key == crate::meta::VERSION)
        .and_then(|(_, value)| <[u8; 8]>::try_from(value.as_slice()).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| layout_unreadable(damaged, "its version is missing or malformed"))?;

    let target = ContainDrop::new(
        redb::Database::create(rescued)
            .map_err(|e| crate::store::open_error(rescued, e, "create"))?,
    );
    let out = target.begin_write()?;
    {
        let mut table = out.open_table(META)?;
        for (key, value) in &meta {
            table.insert(key.as_str(), value.as_slice())?;
        }
        table.insert(REBUILD_INDEXES, [].as_slice())?;
    }
    let mut models = Vec::new();
    for model in &layout.models {
        let table = format!("{}/{}", layout.definition, model.name);
        let copy = Copy {
            layout: &layout,
            model,
            table: &table,
            source: &txn,
            damaged,
            target: &out,
        };
        let key_type = model
            .record_key_type()
            .map_err(|why| layout_unreadable(damaged, &why))?;
        let salvage = with_record_key!(key_type, K => copy.run::<K>()?);
        models.push(salvage);
    }
    out.commit()?;
    Ok(RecoveryReport {
        definition: layout.definition.clone(),
        version,
        models,
        metadata_readable: true,
    })
}

/// Every entry of the metadata table, as stored.
fn read_meta(txn: &redb::ReadTransaction) -> Result<Vec<(String, Vec<u8>)>> {
    let table = txn.open_table(META)?;
    crate::ordered::Ordered::new(table.range::<&str>(..)?, META_TABLE)
        .map(|entry| {
            let (key, value) = entry?;
            Ok((key.value().to_owned(), value.value().to_vec()))
        })
        .collect()
}

fn stored_layout(meta: &[(String, Vec<u8>)]) -> std::result::Result<Layout, String> {
    let text = meta
        .iter()
        .find(|(key, _)| key == crate::meta::LAYOUT)
        .ok_or("it stores no layout (it was written before netabase stored layouts)")?;
    let text = std::str::from_utf8(&text.1).map_err(|_| "its stored layout is not UTF-8")?;
    Layout::parse(text).map_err(|e| format!("its stored layout is malformed: {e}"))
}

fn layout_unreadable(path: &Path, why: &str) -> Error {
    Error::Corrupted {
        path: path.to_path_buf(),
        table: Some(META_TABLE.to_owned()),
        detail: format!(
            "its layout cannot be read without the schema ({why}); recover it from the program \
             that wrote it, which knows the layout: call \
             `netabase_runtime::recover::<YourDefinition>(damaged, rescued)`"
        ),
    }
}

/// The copy of one model's records.
struct Copy<'a> {
    layout: &'a Layout,
    model: &'a ModelLayout,
    table: &'a str,
    source: &'a redb::ReadTransaction,
    damaged: &'a Path,
    target: &'a redb::WriteTransaction,
}

impl Copy<'_> {
    /// The primary keys the model's index tables point to, each table read by the types its
    /// stored entry lines give (an index whose lines this runtime does not know is skipped).
    fn indexed(&self) -> Indexed {
        let mut indexed = Indexed::default();
        for key in &self.model.keys {
            let Some(types) = StoredIndex::parse(&key.entry) else {
                continue;
            };
            let name = format!("{}/{}", self.table, key.name);
            let _ = contain(self.damaged, &name, || {
                types.read(self.source, &name, key.unique, |index| {
                    indexed.read(index?, self.damaged, &name);
                    Ok(())
                })
            });
        }
        indexed
    }

    /// Reads what can be read of the model's record table (keyed by `K`), and writes the
    /// records that decode.
    fn run<K: StoredKey>(&self) -> Result<ModelRecovery> {
        let mut report = ModelRecovery {
            model: self.model.name.clone(),
            ..ModelRecovery::default()
        };
        let definition = TableDefinition::<K, Bytes>::new(self.table);
        let mut to = self.target.open_table(definition)?;
        let from = contain(self.damaged, self.table, || {
            Ok(self.source.open_table(definition)?)
        });
        let from = match from {
            Ok(from) => from,
            Err(_) => {
                report.damaged_reads += 1;
                return Ok(report);
            }
        };
        report.expected = contain(self.damaged, self.table, || Ok(from.len()?)).ok();
        let (found, damaged_reads) =
            crate::recover::find_records(&from, self.damaged, self.indexed());
        report.damaged_reads = damaged_reads;
        for (key, bytes) in &found {
            if dynamic::decode_record(self.layout, self.model, bytes).is_ok() {
                to.insert(key.as_slice(), bytes.as_slice())?;
                report.rescued += 1;
            } else {
                report.undecodable += 1;
            }
        }
        Ok(report)
    }
}
