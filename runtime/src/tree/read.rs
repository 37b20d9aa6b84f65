//! Reading: [`TreeRead`] holds every read operation once, for read and write trees alike.

use super::{Bytes, IndexIter, Iter, ValueGuard, decode_record, encode_key, table_definition};
use crate::codec::KeyPart;
use crate::error::{Error, Result};
use crate::model::Model;
use redb::{ReadOnlyTable, ReadableTable, ReadableTableMetadata};
use std::marker::PhantomData;

/// A model's tables opened in a read transaction. It borrows the transaction (`'t`) and has no
/// writing methods.
pub struct ReadTree<'t, M: Model> {
    records: ReadOnlyTable<Bytes, Bytes>,
    indexes: Vec<ReadOnlyTable<Bytes, Bytes>>,
    _txn: PhantomData<&'t redb::ReadTransaction>,
    _model: PhantomData<fn() -> M>,
}

impl<'t, M: Model> ReadTree<'t, M> {
    pub(crate) fn open(txn: &'t redb::ReadTransaction) -> Result<Self> {
        Ok(Self {
            records: txn.open_table(table_definition(M::TABLE))?,
            indexes: M::INDEXES
                .iter()
                .map(|index| txn.open_table(table_definition(index.table)))
                .collect::<Result<_, _>>()?,
            _txn: PhantomData,
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
    #[doc(hidden)]
    type Table: ReadableTable<Bytes, Bytes>;
    #[doc(hidden)]
    fn records(&self) -> &Self::Table;
    #[doc(hidden)]
    fn index(&self, index: usize) -> &Self::Table;

    /// The record with primary key `key` (the model's `PrimaryKey`, or its fields as a value or
    /// tuple that encodes the same way).
    fn get<K: KeyPart + ?Sized>(&self, key: &K) -> Result<Option<M>> {
        match self.records().get(encode_key(key).as_slice())? {
            Some(value) => decode_record(value.value()).map(Some),
            None => Ok(None),
        }
    }

    /// A guard over the stored bytes of the record with primary key `key`, from which a
    /// zero-copy view can be decoded. The guard, and views from it, live as long as this tree.
    fn get_ref<K: KeyPart + ?Sized>(&self, key: &K) -> Result<Option<ValueGuard<'_, M>>> {
        Ok(self
            .records()
            .get(encode_key(key).as_slice())?
            .map(ValueGuard::new))
    }

    /// Whether a record with primary key `key` exists (nothing is decoded).
    fn contains<K: KeyPart + ?Sized>(&self, key: &K) -> Result<bool> {
        Ok(self.records().get(encode_key(key).as_slice())?.is_some())
    }

    /// The number of records.
    fn len(&self) -> Result<u64> {
        Ok(self.records().len()?)
    }

    /// Whether there are no records.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.records().is_empty()?)
    }

    /// Every record in primary key order, decoded lazily; double-ended.
    fn iter(&self) -> Result<Iter<'_, M>> {
        Ok(Iter::new(self.records().range::<&[u8]>(..)?))
    }

    /// The record whose unique secondary key number `index` equals `key`.
    fn get_by_unique<K: KeyPart + ?Sized>(&self, index: usize, key: &K) -> Result<Option<M>> {
        let Some(primary) = self.index(index).get(encode_key(key).as_slice())? else {
            return Ok(None);
        };
        match self.records().get(primary.value())? {
            Some(value) => decode_record(value.value()).map(Some),
            None => Err(Error::Inconsistent {
                table: M::INDEXES[index].table,
                detail: format!(
                    "entry for {key:?} points to a missing {}",
                    M::NAME,
                    key = primary.value()
                ),
            }),
        }
    }

    /// The records whose non-unique secondary key number `index` equals `key`, in primary key
    /// order, decoded lazily; double-ended.
    fn scan_index<K: KeyPart + ?Sized>(
        &self,
        index: usize,
        key: &K,
    ) -> Result<IndexIter<'_, M, Self::Table>> {
        let prefix = encode_key(key);
        let end = crate::codec::prefix_end(&prefix);
        let entries = match &end {
            Some(end) => self
                .index(index)
                .range::<&[u8]>(prefix.as_slice()..end.as_slice())?,
            None => self.index(index).range::<&[u8]>(prefix.as_slice()..)?,
        };
        Ok(IndexIter::new(entries, self.records(), prefix.len(), index))
    }
}

impl<M: Model> TreeRead<M> for ReadTree<'_, M> {
    type Table = ReadOnlyTable<Bytes, Bytes>;
    fn records(&self) -> &Self::Table {
        &self.records
    }
    fn index(&self, index: usize) -> &Self::Table {
        &self.indexes[index]
    }
}
