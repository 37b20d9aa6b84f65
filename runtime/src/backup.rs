//! Online backup: [`Store::backup_to`](crate::Store::backup_to) copies one read snapshot, table
//! by table, into a new database file while writers go on.
//!
//! Copying the file itself during writes is unsafe (redb writes pages in place between
//! commits); a read transaction is a consistent snapshot that writers never change, so the copy
//! is exactly one commit. Entries are copied as stored bytes, index entries included, so the
//! backup equals the snapshot: nothing is decoded or rebuilt.

use crate::error::{Error, Result};
use crate::model::{Definition, Model, ModelVisitor};
use crate::ordered::Ordered;
use crate::tree::{Step, record_table, table_definition};
use std::ops::Bound;
use std::path::Path;

/// Copies every table of `D` from `source` into `target` (a new database holding `D`'s empty
/// tables); returns how many records it copied.
pub(crate) fn copy_snapshot<D: Definition>(
    source: &redb::ReadTransaction,
    target: &redb::WriteTransaction,
) -> Result<u64> {
    let mut copy = CopyTables {
        source,
        target,
        names: Vec::new(),
        records: 0,
    };
    D::visit_models(&mut copy)?;
    // Tables of the definition that belong to no model's records or indexes: copied as bytes.
    for name in D::TABLES.iter().filter(|name| !copy.names.contains(name)) {
        let from = source.open_table(table_definition(name))?;
        let mut to = target.open_table(table_definition(name))?;
        for entry in Ordered::new(from.range::<&[u8]>(..)?, name) {
            let (key, value) = entry?;
            to.insert(key.value(), value.value())?;
        }
    }
    Ok(copy.records)
}

struct CopyTables<'a> {
    source: &'a redb::ReadTransaction,
    target: &'a redb::WriteTransaction,
    names: Vec<&'static str>,
    records: u64,
}

impl<D: Definition> ModelVisitor<D> for CopyTables<'_> {
    fn visit<M: Model<Definition = D>>(&mut self) -> Result<()> {
        let from = self.source.open_table(record_table::<M>())?;
        let mut to = self.target.open_table(record_table::<M>())?;
        for entry in Ordered::new(from.range::<&[u8]>(..)?, M::TABLE) {
            let (key, value) = entry?;
            to.insert(key.value(), value.value())?;
            self.records += 1;
        }
        self.names.push(M::TABLE);
        for def in M::INDEXES {
            let from = def
                .layout
                .open_read(self.source, def.table, def.unique)
                .map_err(Error::from)?;
            let mut to = def.layout.open_write(self.target, def.table, def.unique)?;
            let mut entries = from.range((Bound::Unbounded, Bound::Unbounded))?;
            let mut written = Ok(());
            while let Some(step) = entries.next_primary(Step::Front(0), &mut |key, primary| {
                written = to.insert(key, primary);
            }) {
                step?;
                std::mem::replace(&mut written, Ok(()))?;
            }
            self.names.push(def.table);
        }
        Ok(())
    }
}

/// Refuses to write a backup or a rescued copy over an existing file.
pub(crate) fn refuse_existing(path: &Path, what: &str) -> Result<()> {
    if path.exists() {
        return Err(Error::Io {
            context: format!(
                "cannot write the {what} to {}: the file exists (choose a new path, or remove \
                 the file first)",
                path.display()
            ),
            source: std::io::ErrorKind::AlreadyExists.into(),
        });
    }
    Ok(())
}
