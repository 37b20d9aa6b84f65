//! The two table operations of a migration, both streaming (one record in memory at a time):
//! rewriting a model's records into their new encoding, and building an index from the records.

use super::{Bytes, Claim, IndexWrite, record_table};
use crate::error::{Error, Result};
use crate::index_keys::IndexKeys;
use crate::model::{Model, ModelRef, describe_primary_key};
use crate::ordered::Ordered;
use redb::{ReadableTable, TableDefinition, TableHandle};

/// Rewrites every record of `M`: the table is renamed aside, each record is passed through
/// `convert` (old bytes in, new bytes out) into a new table under the old name, and the old
/// table is deleted. Every new record must decode as `M` (a check on the converter). Returns
/// how many records were rewritten. Indexes are left alone: rebuild them afterwards.
pub(crate) fn rewrite_records<M: Model>(
    txn: &redb::WriteTransaction,
    mut convert: impl FnMut(&[u8], &mut Vec<u8>) -> Result<()>,
) -> Result<u64> {
    let aside = format!("{}\u{0}migrating", M::TABLE);
    let old_def: TableDefinition<'_, M::StoredKey, Bytes> = TableDefinition::new(&aside);
    // A table with this name can only be left by a migration that did not commit (and a
    // rolled-back transaction leaves nothing), so it is never real data.
    txn.delete_table(old_def)?;
    txn.rename_table(record_table::<M>(), old_def)?;
    let mut count = 0;
    {
        let old = txn.open_table(old_def)?;
        let mut new = txn.open_table(record_table::<M>())?;
        let mut bytes = Vec::new();
        for entry in Ordered::new(old.range::<&[u8]>(..)?, M::TABLE) {
            let (key, value) = entry?;
            bytes.clear();
            convert(value.value(), &mut bytes)?;
            M::decode(&bytes).map_err(|source| Error::Inconsistent {
                table: M::TABLE,
                detail: format!(
                    "a migrated record of {} does not decode ({source}); the file is unchanged",
                    describe_primary_key::<M>(key.value())
                ),
            })?;
            new.insert(key.value(), bytes.as_slice())?;
            count += 1;
        }
    }
    txn.delete_table(old_def)?;
    Ok(count)
}

/// Creates the index tables `which` (positions in [`Model::INDEXES`], tables that must not
/// exist) and fills them from the records of `M`. A unique index over records that share a
/// value is [`Error::UniqueViolation`] naming the value and both records.
pub(crate) fn build_indexes<M: Model>(txn: &redb::WriteTransaction, which: &[usize]) -> Result<()> {
    if which.is_empty() {
        return Ok(());
    }
    let mut indexes: Vec<(usize, Box<dyn IndexWrite + '_>)> = which
        .iter()
        .map(|&i| {
            let def = &M::INDEXES[i];
            Ok((i, def.layout.open_write(txn, def.table, def.unique)?))
        })
        .collect::<Result<_>>()?;
    let records = txn.open_table(record_table::<M>())?;
    let mut keys = IndexKeys::default();
    let (mut entry, mut owner) = (Vec::new(), Vec::new());
    for record in Ordered::new(records.range::<&[u8]>(..)?, M::TABLE) {
        let (key, value) = record?;
        let primary = key.value();
        let view = M::Ref::decode(value.value()).map_err(|source| Error::Decode {
            table: M::TABLE,
            record: Some(crate::model::describe_primary_key::<M>(primary)),
            source,
        })?;
        keys.fill(M::INDEXES.len(), |i, keys| {
            if which.contains(&i) {
                view.index_keys(i, keys);
            }
        });
        for (i, index) in &mut indexes {
            let def = &M::INDEXES[*i];
            for secondary in keys.get(*i) {
                if !def.unique {
                    entry.clear();
                    entry.extend_from_slice(secondary);
                    entry.extend_from_slice(primary);
                    index.insert(&entry, primary)?;
                } else if let Claim::Taken = index.claim(secondary, primary, &mut owner)? {
                    return Err(Error::UniqueViolation {
                        model: M::NAME,
                        field: def.field,
                        value: format!(
                            "{} (held by both {} and {})",
                            view.to_model().describe_index_value(*i),
                            describe_primary_key::<M>(&owner),
                            describe_primary_key::<M>(primary)
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Deletes the table `name` whatever its key and value types; whether it existed.
pub(crate) fn delete_table(txn: &redb::WriteTransaction, name: &str) -> Result<bool> {
    let handle = txn.list_tables()?.find(|t| t.name() == name);
    match handle {
        Some(handle) => Ok(txn.delete_table(handle)?),
        None => Ok(false),
    }
}
