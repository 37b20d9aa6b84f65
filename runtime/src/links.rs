//! Links between models: the definitions generated code declares, and the checks of checked
//! links, deferred to commit.
//!
//! A link field stores the target's primary key and is always indexed, so the records linking to
//! a key are one index lookup away. A *checked* link must not point at a missing record once the
//! transaction commits. The check is deferred to commit because within a transaction the target
//! may be written after the link (a country and its neighbours, inserted in any order), and
//! because redb lets a write transaction open a table only once at a time: while the user holds
//! the target's tree, the source's tree cannot read it.
//!
//! During the transaction every write of a checked link, and every removal of a record that
//! checked links can point at, adds the key to a pending set. At commit each pending key must
//! either exist, or no checked link may point at it (one index lookup per link field). This is
//! exact whatever happened in between: a failed batch that was rolled back, a link changed
//! twice, a target removed and inserted again.

use crate::error::{Error, Result};
use crate::model::{Definition, IndexDef, Model, ModelVisitor};
use crate::tree::{IndexWrite, KeyBounds, Step, record_table};
use redb::ReadableTable;
use std::collections::{BTreeMap, BTreeSet};

/// A model seen as the target of links: where its records are and which checked links point at
/// it. Generated code uses [`Model::LINK_TARGET`](crate::Model::LINK_TARGET).
#[derive(Debug, Clone, Copy)]
pub struct LinkTarget {
    /// The model's schema name.
    pub model: &'static str,
    /// Its record table.
    pub table: &'static str,
    /// The checked links that point at it.
    pub backlinks: &'static [Backlink],
    /// Describes one of its encoded primary keys, for error messages.
    pub describe: fn(&[u8]) -> String,
    /// Opens its record table (keyed by the model's own key type) in a write transaction.
    pub open_write: for<'a> fn(&'a redb::WriteTransaction) -> Result<Box<dyn RecordKeys + 'a>>,
    /// Opens its record table in a read transaction.
    pub open_read: fn(&redb::ReadTransaction) -> Result<Box<dyn RecordKeys>>,
}

/// A record table seen only through its encoded keys, whatever its key type.
pub trait RecordKeys {
    /// Whether a record with the encoded primary key `key` exists.
    fn contains(&self, key: &[u8]) -> std::result::Result<bool, redb::StorageError>;
}

impl<T: ReadableTable<K, &'static [u8]>, K: crate::StoredKey> RecordKeys for Wrap<T, K> {
    fn contains(&self, key: &[u8]) -> std::result::Result<bool, redb::StorageError> {
        Ok(self.0.get(key)?.is_some())
    }
}

/// A table with its key type, so [`RecordKeys`] can be implemented for it.
struct Wrap<T, K>(T, std::marker::PhantomData<fn() -> K>);

/// [`LinkTarget::open_write`] for `M`.
pub fn open_records_write<M: crate::Model>(
    txn: &redb::WriteTransaction,
) -> Result<Box<dyn RecordKeys + '_>> {
    let table = txn.open_table(record_table::<M>())?;
    Ok(Box::new(Wrap(table, std::marker::PhantomData)))
}

/// [`LinkTarget::open_read`] for `M`.
pub fn open_records_read<M: crate::Model>(
    txn: &redb::ReadTransaction,
) -> Result<Box<dyn RecordKeys>> {
    let table = txn.open_table(record_table::<M>())?;
    Ok(Box::new(Wrap(table, std::marker::PhantomData)))
}

/// A checked link field seen from its target: the index listing the records that link to a key.
#[derive(Debug, Clone, Copy)]
pub struct Backlink {
    /// The linking model's schema name.
    pub model: &'static str,
    /// The link field's schema name.
    pub field: &'static str,
    /// The link's index table.
    pub index_table: &'static str,
    /// Whether the index is unique (key -> primary key) or not (key ++ primary key).
    pub unique: bool,
    /// Describes an encoded primary key of the linking model.
    pub describe: fn(&[u8]) -> String,
}

/// A link field of a model.
#[derive(Debug, Clone, Copy)]
pub struct LinkDef {
    /// The field's schema name.
    pub field: &'static str,
    /// The position of the link's index in [`Model::INDEXES`](crate::Model::INDEXES).
    pub index: usize,
    /// Whether a commit fails when the link points at a missing record.
    pub checked: bool,
    /// The model it points at.
    pub target: LinkTarget,
}

/// The keys to check at commit, per target table.
#[derive(Debug, Default)]
pub(crate) struct PendingLinks {
    targets: BTreeMap<&'static str, (LinkTarget, BTreeSet<Vec<u8>>)>,
}

impl PendingLinks {
    /// Notes that at commit `key` must exist in `target`, or nothing may link to it.
    pub(crate) fn add(&mut self, target: &LinkTarget, key: &[u8]) {
        let (_, keys) = self
            .targets
            .entry(target.table)
            .or_insert_with(|| (*target, BTreeSet::new()));
        if !keys.contains(key) {
            keys.insert(key.to_vec());
        }
    }

    /// Checks every pending key; the first broken link is [`Error::BrokenLink`].
    pub(crate) fn check<D: Definition>(&self, txn: &redb::WriteTransaction) -> Result<()> {
        for (target, keys) in self.targets.values() {
            let records = (target.open_write)(txn)?;
            let mut indexes = Vec::with_capacity(target.backlinks.len());
            for key in keys {
                if records.contains(key)? {
                    continue;
                }
                for (i, backlink) in target.backlinks.iter().enumerate() {
                    if indexes.len() <= i {
                        indexes.push(open_backlink::<D>(txn, backlink)?);
                    }
                    let index = &indexes[i];
                    let mut linking = None;
                    if backlink.unique {
                        index.get(key, &mut |source| linking = Some(source.to_vec()))?;
                    } else {
                        let bounds = KeyBounds::prefix(key.clone());
                        let mut entries = index.range(bounds.as_redb())?;
                        if let Some(step) =
                            entries.next_primary(Step::Front(0), &mut |_, source| {
                                linking = Some(source.to_vec());
                            })
                        {
                            step?;
                        }
                    }
                    if let Some(source) = linking {
                        return Err(Error::BrokenLink {
                            model: backlink.model,
                            field: backlink.field,
                            record: (backlink.describe)(&source),
                            target: target.model,
                            key: (target.describe)(key),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Opens a backlink's index table with the key and value types its model declares (found by
/// visiting the definition's models).
fn open_backlink<'a, D: Definition>(
    txn: &'a redb::WriteTransaction,
    backlink: &Backlink,
) -> Result<Box<dyn IndexWrite + 'a>> {
    struct Find {
        table: &'static str,
        found: Option<IndexDef>,
    }
    impl<D: Definition> ModelVisitor<D> for Find {
        fn visit<M: Model<Definition = D>>(&mut self) -> Result<()> {
            if self.found.is_none() {
                self.found = M::INDEXES
                    .iter()
                    .find(|def| def.table == self.table)
                    .copied();
            }
            Ok(())
        }
    }
    let mut find = Find {
        table: backlink.index_table,
        found: None,
    };
    D::visit_models(&mut find)?;
    let def = find.found.ok_or_else(|| Error::Inconsistent {
        table: backlink.index_table,
        detail: "a backlink's index belongs to no model of the definition".into(),
    })?;
    def.layout.open_write(txn, def.table, def.unique)
}
