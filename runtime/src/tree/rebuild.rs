//! The two table operations of a migration, both streaming (one record in memory at a time,
//! and for an index build its held entries, at most 8 MiB): rewriting a model's records into
//! their new encoding, and building an index from the records.

use super::append::{Made, insert_run};
use super::deferred::{Deferred, Violation};
use super::{Bytes, IndexWrite, StoredKey, decode_record_at, record_table};
use crate::error::{Error, Result};
use crate::index_keys::IndexKeys;
use crate::model::{Model, ModelRef, describe_primary_key};
use crate::ordered::Ordered;
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle, Value};

/// A migration's conversion of one record: stored key and old bytes in, new bytes appended.
pub(crate) type Converter<'a> = &'a mut dyn FnMut(&[u8], &[u8], &mut Vec<u8>) -> Result<()>;

/// How often (in records) a migration reports its progress.
pub(crate) const PROGRESS_EVERY: u64 = 4096;

/// Rewrites every record of `M`: the table is renamed aside, each record is passed through
/// `convert` (stored key and old bytes in, new bytes out) into a new table under the old name,
/// and the old table is deleted. Every new record must decode as `M` (a check on the
/// converter). With `rekey`, each record goes under the primary key of its new value (a typed
/// step may change it; two records under one key are [`Error::UniqueViolation`] on the field
/// `"primary key"`), and the old table's key type is
/// the one `old_key_width` gives (`None`: bytes), which may differ from `M`'s. `progress` gets
/// (records done, records in the table) now and then. Returns how many records were rewritten.
/// Indexes are left alone: rebuild them afterwards.
pub(crate) fn rewrite_records<M: Model>(
    txn: &redb::WriteTransaction,
    rekey: Option<Option<usize>>,
    progress: &mut dyn FnMut(u64, u64),
    convert: Converter<'_>,
) -> Result<u64> {
    let aside = format!("{}\u{0}migrating", M::TABLE);
    // A table with this name can only be left by a migration that did not commit (and a
    // rolled-back transaction leaves nothing), so it is never real data.
    delete_table(txn, &aside)?;
    let same_type = match rekey {
        None => true,
        Some(width) => width == M::StoredKey::fixed_width(),
    };
    if same_type {
        let old_def: TableDefinition<'_, M::StoredKey, Bytes> = TableDefinition::new(&aside);
        txn.rename_table(record_table::<M>(), old_def)?;
    } else if let Some(Some(width)) = rekey {
        // The key's width changed: the old records move aside under plain byte keys, so the
        // rewrite below reads them with one key type whatever the old width was.
        copy_fixed_to_bytes(txn, M::TABLE, width, &aside)?;
        delete_table(txn, M::TABLE)?;
    } else {
        let old_def: TableDefinition<'_, &[u8], Bytes> = TableDefinition::new(M::TABLE);
        let new_def: TableDefinition<'_, &[u8], Bytes> = TableDefinition::new(&aside);
        txn.rename_table(old_def, new_def)?;
    }
    let count = if same_type {
        rewrite_from::<M::StoredKey, M>(txn, &aside, rekey.is_some(), progress, convert)?
    } else {
        rewrite_from::<&'static [u8], M>(txn, &aside, true, progress, convert)?
    };
    delete_table(txn, &aside)?;
    Ok(count)
}

/// The loop of [`rewrite_records`], reading the aside table with key type `K`.
fn rewrite_from<K: StoredKey, M: Model>(
    txn: &redb::WriteTransaction,
    aside: &str,
    rekey: bool,
    progress: &mut dyn FnMut(u64, u64),
    convert: Converter<'_>,
) -> Result<u64> {
    let old_def: TableDefinition<'_, K, Bytes> = TableDefinition::new(aside);
    let old = txn.open_table(old_def)?;
    let mut new = txn.open_table(record_table::<M>())?;
    let total = old.len()?;
    let mut count = 0;
    progress(0, total);
    let mut records = Ordered::new(old.iter()?, M::TABLE);
    // Converts the next record into `bytes`, its key into `key` (both empty); returns it.
    let mut next = |key: &mut Vec<u8>, bytes: &mut Vec<u8>| -> Result<Option<M>> {
        let Some(entry) = records.next() else {
            return Ok(None);
        };
        let (old_key, value) = entry?;
        convert(old_key.value(), value.value(), bytes)?;
        let record = M::decode(bytes).map_err(|source| Error::Inconsistent {
            table: M::TABLE,
            detail: format!(
                "a migrated record of {} does not decode ({source}); the file is unchanged",
                describe_primary_key::<M>(old_key.value())
            ),
        })?;
        if rekey {
            record.encode_primary_key(key);
        } else {
            key.extend_from_slice(old_key.value());
        }
        count += 1;
        if count % PROGRESS_EVERY == 0 {
            progress(count, total);
        }
        Ok(Some(record))
    };
    if rekey {
        // New keys come in any order, and two records may get one key.
        let (mut key, mut bytes) = (Vec::new(), Vec::new());
        while let Some(record) = next(&mut key, &mut bytes)? {
            if new.insert(key.as_slice(), bytes.as_slice())?.is_some() {
                return Err(Error::UniqueViolation {
                    model: M::NAME,
                    field: "primary key",
                    value: format!("{:?}", record.primary_key()),
                });
            }
            key.clear();
            bytes.clear();
        }
    } else {
        // The old table's keys, in its order, into a new table: an append.
        let mut pairs =
            Made::new(|key: &mut Vec<u8>, bytes: &mut Vec<u8>| Ok(next(key, bytes)?.is_some()));
        insert_run(&mut new, M::TABLE, &mut pairs)?;
    }
    progress(count, total);
    Ok(count)
}

/// Copies the table `from`, keyed by `Fixed<width>`, into a new table `to` keyed by bytes.
fn copy_fixed_to_bytes(
    txn: &redb::WriteTransaction,
    from: &str,
    width: usize,
    to: &str,
) -> Result<()> {
    fn copy<K: StoredKey>(txn: &redb::WriteTransaction, from: &str, to: &str) -> Result<()> {
        let old = txn.open_table(TableDefinition::<K, Bytes>::new(from))?;
        let mut new = txn.open_table(TableDefinition::<&[u8], Bytes>::new(to))?;
        for entry in Ordered::new(old.iter()?, from) {
            let (key, value) = entry?;
            new.insert(key.value(), value.value())?;
        }
        Ok(())
    }
    if width == 0 {
        return Err(Error::Inconsistent {
            table: crate::meta::META_TABLE,
            detail: "a stored layout with 0-byte record keys".to_owned(),
        });
    }
    crate::tree::with_record_key!(crate::tree::StoredType::Fixed(width), K => copy::<K>(txn, from, to))
}

/// Drops the index tables `which` (positions in [`Model::INDEXES`]) and builds them afresh
/// from the records of `M` with [`build_indexes`]: an index whose entries may be stale or
/// missing (a typed migration step changed its records; a salvaged file has none) is rebuilt
/// whole.
pub(crate) fn rebuild_indexes<M: Model>(
    txn: &redb::WriteTransaction,
    which: &[usize],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    for &i in which {
        delete_table(txn, M::INDEXES[i].table)?;
    }
    build_indexes::<M>(txn, which, progress)
}

/// Creates the index tables `which` (positions in [`Model::INDEXES`], tables that must not
/// exist) and fills them from the records of `M`. A unique index over records that share a
/// value is [`Error::UniqueViolation`] naming the value and both records.
/// `progress` gets (records read, records in the table) now and then.
///
/// The entries are held and written sorted, as `put_many` writes them (`deferred.rs`): into a
/// new index, that is an append.
pub(crate) fn build_indexes<M: Model>(
    txn: &redb::WriteTransaction,
    which: &[usize],
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    if which.is_empty() {
        return Ok(());
    }
    let mut indexes: Vec<Box<dyn IndexWrite + '_>> = which
        .iter()
        .map(|&i| {
            let def = &M::INDEXES[i];
            def.layout.open_write(txn, def.table, def.unique)
        })
        .collect::<Result<_>>()?;
    // Entries are held under their position in `which`.
    let records = txn.open_table(record_table::<M>())?;
    let total = records.len()?;
    progress(0, total);
    let mut done = 0;
    let mut keys = IndexKeys::default();
    let mut held = Deferred::default();
    let mut owner = Vec::new();
    // Names the two records of a unique key that a flush of the held entries refused.
    let refused = |violation: Option<Violation>| -> Result<()> {
        let Some(Violation {
            index,
            owner,
            primary,
        }) = violation
        else {
            return Ok(());
        };
        let def = &M::INDEXES[which[index]];
        let value = match records.get(primary.as_slice())? {
            Some(guard) => {
                decode_record_at::<M>(&primary, guard.value())?.describe_index_value(which[index])
            }
            None => format!("a value of {}", def.field),
        };
        Err(Error::UniqueViolation {
            model: M::NAME,
            field: def.field,
            value: format!(
                "{value} (held by both {} and {})",
                describe_primary_key::<M>(&owner),
                describe_primary_key::<M>(&primary)
            ),
        })
    };
    for record in Ordered::new(records.range::<&[u8]>(..)?, M::TABLE) {
        let (key, value) = record?;
        done += 1;
        if done % PROGRESS_EVERY == 0 {
            progress(done, total);
        }
        let primary = key.value();
        let view = M::Ref::decode(value.value()).map_err(|source| Error::Decode {
            table: M::TABLE,
            record: Some(describe_primary_key::<M>(primary)),
            source,
        })?;
        keys.fill(M::INDEXES.len(), |i, keys| {
            if which.contains(&i) {
                view.index_keys(i, keys);
            }
        });
        for (n, &i) in which.iter().enumerate() {
            for secondary in keys.get(i) {
                held.push(n, M::INDEXES[i].unique, secondary, primary);
            }
        }
        if held.is_full() {
            refused(held.flush(&mut indexes, &mut owner)?)?;
        }
    }
    refused(held.flush(&mut indexes, &mut owner)?)?;
    progress(total, total);
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
