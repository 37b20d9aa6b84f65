//! Reading: [`TreeRead`] holds every read operation once, for read and write trees alike.

use super::{
    Bytes, IndexIter, IndexRead, Iter, KeyBounds, ValueGuard, Yield, decode_record_at,
    record_table, with_encoded_key,
};
use crate::codec::KeyPart;
use crate::contain::Health;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::ordered::Ordered;
use redb::{ReadOnlyTable, ReadableTable, ReadableTableMetadata};
use std::marker::PhantomData;
use std::sync::OnceLock;

/// A model's tables opened in a read transaction. It borrows the transaction (`'t`) and has no
/// writing methods.
pub struct ReadTree<'t, M: Model> {
    records: ReadOnlyTable<M::StoredKey, Bytes>,
    /// Each index table is opened on its first use: opening a table costs a descent of the
    /// transaction's table tree, and most read trees use one index or none (a program that
    /// gets one record after it starts opens one table, as hand-written code does).
    indexes: Vec<OnceLock<Box<dyn IndexRead + Send + Sync>>>,
    txn: &'t redb::ReadTransaction,
    health: &'t Health,
    _model: PhantomData<fn() -> M>,
}

impl<'t, M: Model> ReadTree<'t, M> {
    pub(crate) fn open(txn: &'t redb::ReadTransaction, health: &'t Health) -> Result<Self> {
        Ok(Self {
            records: txn.open_table(record_table::<M>())?,
            indexes: M::INDEXES.iter().map(|_| OnceLock::new()).collect(),
            txn,
            health,
            _model: PhantomData,
        })
    }
}

mod sealed {
    pub trait Sealed {}
    impl<M: crate::Model> Sealed for super::ReadTree<'_, M> {}
    impl<M: crate::Model> Sealed for crate::tree::WriteTree<'_, M> {}
}

/// The read operations of a tree, shared by [`ReadTree`] and
/// [`WriteTree`](crate::WriteTree). Generated trees call these; most users call the generated
/// methods instead.
pub trait TreeRead<M: Model>: sealed::Sealed {
    /// The record table's type.
    #[doc(hidden)]
    type Table: ReadableTable<M::StoredKey, Bytes>;
    #[doc(hidden)]
    fn records(&self) -> &Self::Table;
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn index(&self, index: usize) -> Result<&dyn IndexRead>;
    /// The store's health: every method runs its redb calls through it (see `contain.rs`).
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn health(&self) -> &Health;

    /// The record with primary key `key` (the model's `PrimaryKey`, or its fields as a value or
    /// tuple that encodes the same way).
    fn get<K: KeyPart + ?Sized>(&self, key: &K) -> Result<Option<M>> {
        self.health().guard(M::TABLE, || {
            match with_encoded_key(key, |key| {
                let value = self.records().get(key)?;
                Ok::<_, Error>(match value {
                    Some(value) => Some(decode_record_at::<M>(key, value.value())?),
                    None => None,
                })
            })? {
                Some(model) => Ok(Some(model)),
                None => Ok(None),
            }
        })
    }

    /// A guard over the stored bytes of the record with primary key `key`, from which a
    /// zero-copy view can be decoded. The guard, and views from it, live as long as this tree.
    fn get_ref<K: KeyPart + ?Sized>(&self, key: &K) -> Result<Option<ValueGuard<'_, M>>> {
        self.health().guard(M::TABLE, || {
            Ok(with_encoded_key(key, |key| self.records().get(key))?.map(ValueGuard::new))
        })
    }

    /// Whether a record with primary key `key` exists (nothing is decoded).
    fn contains<K: KeyPart + ?Sized>(&self, key: &K) -> Result<bool> {
        self.health().guard(M::TABLE, || {
            Ok(with_encoded_key(key, |key| self.records().get(key))?.is_some())
        })
    }

    /// The records with these primary keys, in the order asked (`None` where missing).
    fn get_many<K: KeyPart>(&self, keys: impl IntoIterator<Item = K>) -> Result<Vec<Option<M>>> {
        keys.into_iter().map(|key| self.get(&key)).collect()
    }

    /// The number of records.
    fn len(&self) -> Result<u64> {
        self.health().guard(M::TABLE, || Ok(self.records().len()?))
    }

    /// Whether there are no records.
    fn is_empty(&self) -> Result<bool> {
        self.health()
            .guard(M::TABLE, || Ok(self.records().is_empty()?))
    }

    /// The record with the smallest primary key.
    fn first(&self) -> Result<Option<M>> {
        self.health()
            .guard(M::TABLE, || match self.records().first()? {
                Some((key, value)) => decode_record_at::<M>(key.value(), value.value()).map(Some),
                None => Ok(None),
            })
    }

    /// The record with the largest primary key.
    fn last(&self) -> Result<Option<M>> {
        self.health()
            .guard(M::TABLE, || match self.records().last()? {
                Some((key, value)) => decode_record_at::<M>(key.value(), value.value()).map(Some),
                None => Ok(None),
            })
    }

    /// Every record in primary key order, decoded lazily; double-ended.
    fn iter(&self) -> Result<Iter<'_, M>> {
        self.scan(&KeyBounds::all())
    }

    /// The records whose primary keys fall within `bounds`, in key order; double-ended. `Y` is
    /// [`Records`](crate::Records) for owned models or [`Views`](crate::Views) for zero-copy
    /// guards.
    fn scan<'a, Y: Yield<'a, M>>(&'a self, bounds: &KeyBounds) -> Result<Iter<'a, M, Y>> {
        self.health().guard(M::TABLE, || {
            Ok(Iter::new(
                self.records().range::<&[u8]>(bounds.as_redb())?,
                self.health(),
            ))
        })
    }

    /// How many primary keys fall within `bounds` (no record is decoded).
    fn count(&self, bounds: &KeyBounds) -> Result<u64> {
        self.health().guard(M::TABLE, || {
            count_entries(Ordered::new(
                self.records().range::<&[u8]>(bounds.as_redb())?,
                M::TABLE,
            ))
        })
    }

    /// The record whose unique secondary key number `index` equals `key`.
    fn get_by_unique<K: KeyPart + ?Sized>(&self, index: usize, key: &K) -> Result<Option<M>> {
        self.health().guard(M::TABLE, || {
            let index_table = self.index(index)?;
            let mut found = None;
            let present = with_encoded_key(key, |key| {
                index_table.get(key, &mut |primary| {
                    found = Some(match self.records().get(primary) {
                        Ok(Some(value)) => decode_record_at::<M>(primary, value.value()).map(Some),
                        Ok(None) => Err(Error::Inconsistent {
                            table: M::INDEXES[index].table,
                            detail: format!(
                                "entry for {primary:?} points to a missing {}",
                                M::NAME
                            ),
                        }),
                        Err(error) => Err(error.into()),
                    });
                })
            })?;
            match found {
                Some(result) if present => result,
                _ => Ok(None),
            }
        })
    }

    /// The records whose secondary key number `index` falls within `bounds`, in (secondary
    /// key, primary key) order, decoded lazily; double-ended.
    fn scan_index<'a, Y: Yield<'a, M>>(
        &'a self,
        index: usize,
        bounds: &KeyBounds,
    ) -> Result<IndexIter<'a, M, Self::Table, Y>> {
        self.health().guard(M::INDEXES[index].table, || {
            Ok(IndexIter::new(
                self.index(index)?.range(bounds.as_redb())?,
                self.records(),
                index,
                self.health(),
            ))
        })
    }

    /// How many index entries of secondary key number `index` fall within `bounds` (no record
    /// is read).
    fn count_index(&self, index: usize, bounds: &KeyBounds) -> Result<u64> {
        self.health().guard(M::INDEXES[index].table, || {
            let mut entries = self.index(index)?.range(bounds.as_redb())?;
            let mut count = 0;
            while let Some(step) = entries.step(crate::tree::Step::Front(0), &mut |_, _| {}) {
                step?;
                count += 1;
            }
            Ok(count)
        })
    }
}

fn count_entries<K: redb::Key + 'static>(range: Ordered<'_, K, Bytes>) -> Result<u64> {
    let mut count = 0;
    for entry in range {
        entry?;
        count += 1;
    }
    Ok(count)
}

impl<M: Model> TreeRead<M> for ReadTree<'_, M> {
    type Table = ReadOnlyTable<M::StoredKey, Bytes>;
    fn records(&self) -> &Self::Table {
        &self.records
    }
    #[allow(private_interfaces)]
    fn index(&self, index: usize) -> Result<&dyn IndexRead> {
        let slot = &self.indexes[index];
        if let Some(opened) = slot.get() {
            return Ok(&**opened);
        }
        let def = &M::INDEXES[index];
        let opened = def.layout.open_read(self.txn, def.table, def.unique)?;
        Ok(&**slot.get_or_init(|| opened))
    }
    #[allow(private_interfaces)]
    fn health(&self) -> &Health {
        self.health
    }
}
