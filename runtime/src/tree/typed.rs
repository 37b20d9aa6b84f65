//! [`Tree`]: the typed operations every model's tree has, written once. The generated
//! `CityTree<T>` dereferences to `Tree<City, T>` and adds only the methods named after the
//! model's keys (`get_by_name`, `by_country`, `range_by_population`...).

use super::{Iter, KeyBounds, TreeRead, ValueGuard, Views, WriteTree};
use crate::codec::KeyPart;
use crate::error::Result;
use crate::model::Model;
use std::borrow::Borrow;
use std::marker::PhantomData;
use std::ops::RangeBounds;

/// The records of model `M` in a transaction, over a runtime tree `T` ([`ReadTree`] or
/// [`WriteTree`]), with every operation that does not depend on the model's secondary keys.
///
/// Keys are typed: a method that takes a primary key takes the model's
/// [`Model::KeyArg`], its borrowed form (`u64`, `&str`, `(&str, i32)` for a composite key), so
/// a lookup allocates nothing and a key of the wrong type does not compile. Methods that write
/// exist only on `Tree<M, WriteTree<'_, M>>`: a read transaction's tree cannot write.
///
/// Iterators are lazy and double-ended (`.rev()`), yield `Result`, and skip without decoding
/// (`.skip(offset).take(limit)` pages cheaply).
///
/// [`ReadTree`]: crate::ReadTree
pub struct Tree<M, T> {
    inner: T,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model, T> From<T> for Tree<M, T> {
    fn from(inner: T) -> Self {
        Self {
            inner,
            _model: PhantomData,
        }
    }
}

impl<M: Model, T> Tree<M, T> {
    /// The runtime tree, for generated per-key methods.
    #[doc(hidden)]
    pub fn raw(&self) -> &T {
        &self.inner
    }
}

impl<M: Model, T: TreeRead<M>> Tree<M, T> {
    /// The record with primary key `key`.
    pub fn get(&self, key: M::KeyArg<'_>) -> Result<Option<M>> {
        self.inner.get(&key)
    }

    /// The stored bytes of the record with primary key `key`; `.view()` decodes a zero-copy
    /// view ([`Model::Ref`]) from them.
    pub fn get_ref(&self, key: M::KeyArg<'_>) -> Result<Option<ValueGuard<'_, M>>> {
        self.inner.get_ref(&key)
    }

    /// Whether a record with primary key `key` exists (nothing is decoded).
    pub fn contains(&self, key: M::KeyArg<'_>) -> Result<bool> {
        self.inner.contains(&key)
    }

    /// The records with these primary keys, in the order asked (`None` where missing).
    pub fn get_many<'k>(
        &self,
        keys: impl IntoIterator<Item = M::KeyArg<'k>>,
    ) -> Result<Vec<Option<M>>> {
        self.inner.get_many(keys)
    }

    /// The number of records.
    pub fn len(&self) -> Result<u64> {
        self.inner.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> Result<bool> {
        self.inner.is_empty()
    }

    /// The record with the smallest primary key.
    pub fn first(&self) -> Result<Option<M>> {
        self.inner.first()
    }

    /// The record with the largest primary key.
    pub fn last(&self) -> Result<Option<M>> {
        self.inner.last()
    }

    /// Every record in primary key order.
    pub fn iter(&self) -> Result<Iter<'_, M>> {
        self.inner.iter()
    }

    /// Every record in primary key order, as guards for zero-copy views.
    pub fn iter_ref(&self) -> Result<Iter<'_, M, Views>> {
        self.inner.scan(&KeyBounds::all())
    }

    /// The records whose primary key falls within `range`, in key order: `range(a..b)`,
    /// `range(a..=b)`, `range(a..)`, `range(..)`.
    pub fn range<'k>(&self, range: impl RangeBounds<M::KeyArg<'k>>) -> Result<Iter<'_, M>> {
        self.inner.scan(&KeyBounds::range(&range))
    }

    /// As [`range`](Self::range), yielding guards for zero-copy views.
    pub fn range_ref<'k>(
        &self,
        range: impl RangeBounds<M::KeyArg<'k>>,
    ) -> Result<Iter<'_, M, Views>> {
        self.inner.scan(&KeyBounds::range(&range))
    }

    /// How many records have a primary key within `range` (nothing is decoded).
    pub fn count_range<'k>(&self, range: impl RangeBounds<M::KeyArg<'k>>) -> Result<u64> {
        self.inner.count(&KeyBounds::range(&range))
    }

    /// The records after primary key `key`, in key order: a cursor for stable paging
    /// (`after(last_seen)?.take(page)`).
    pub fn after(&self, key: M::KeyArg<'_>) -> Result<Iter<'_, M>> {
        let mut encoded = Vec::new();
        key.encode_key(&mut encoded);
        self.inner
            .scan(&KeyBounds::prefix_after(Vec::new(), &encoded))
    }
}

impl<M: Model> Tree<M, WriteTree<'_, M>> {
    /// Inserts the record, or replaces the one with the same primary key, and updates every
    /// index. A unique key held by another record is
    /// [`Error::UniqueViolation`](crate::Error::UniqueViolation) and changes nothing.
    pub fn put(&mut self, record: &M) -> Result<()> {
        self.inner.put(record)
    }

    /// Inserts the record; one with the same primary key is
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists) and changes nothing.
    pub fn insert(&mut self, record: &M) -> Result<()> {
        self.inner.insert(record)
    }

    /// Puts every record, in order; all or nothing. Returns how many were written.
    pub fn put_many(&mut self, records: impl IntoIterator<Item = impl Borrow<M>>) -> Result<u64> {
        self.inner.put_many(records)
    }

    /// Removes the record with primary key `key` and its index entries; returns it.
    pub fn remove(&mut self, key: M::KeyArg<'_>) -> Result<Option<M>> {
        self.inner.remove(&key)
    }

    /// Removes the record with primary key `key` and its index entries; returns whether it
    /// existed. Cheaper than [`remove`](Self::remove) when the record is not needed: it is not
    /// decoded into an owned model.
    pub fn delete(&mut self, key: M::KeyArg<'_>) -> Result<bool> {
        self.inner.delete(&key)
    }

    /// Removes the records with these primary keys (missing ones are skipped); all or
    /// nothing. Returns how many were removed.
    pub fn remove_many<'k>(
        &mut self,
        keys: impl IntoIterator<Item = M::KeyArg<'k>>,
    ) -> Result<u64> {
        self.inner.remove_many(keys)
    }

    /// Removes the records whose primary key falls within `range`; all or nothing. Returns
    /// how many were removed.
    pub fn remove_range<'k>(&mut self, range: impl RangeBounds<M::KeyArg<'k>>) -> Result<u64> {
        self.inner.remove_in(&KeyBounds::range(&range))
    }

    /// Keeps only the records for which `keep` returns `true`; all or nothing. Returns how
    /// many were removed.
    pub fn retain(&mut self, keep: impl FnMut(&M) -> bool) -> Result<u64> {
        self.inner.retain(keep)
    }

    /// Removes every record and index entry. Returns how many records there were.
    pub fn clear(&mut self) -> Result<u64> {
        self.inner.clear()
    }
}
