//! Lazy iterators over records. They yield `Result`: an error reaches the caller and never ends
//! an iteration silently.

use super::{Bytes, decode_record};
use crate::error::{Error, Result};
use crate::model::{Model, ModelRef};
use redb::{AccessGuard, ReadableTable};
use std::marker::PhantomData;

/// The stored bytes of one record, from which a zero-copy view is decoded.
pub struct ValueGuard<'a, M: Model> {
    guard: AccessGuard<'a, Bytes>,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: Model> ValueGuard<'a, M> {
    pub(crate) fn new(guard: AccessGuard<'a, Bytes>) -> Self {
        Self {
            guard,
            _model: PhantomData,
        }
    }

    /// A view whose strings and bytes borrow from the database page: no copy, no allocation for
    /// strings and bytes. It lives as long as this guard.
    pub fn view(&self) -> Result<M::Ref<'_>> {
        M::Ref::decode(self.guard.value()).map_err(|source| Error::Decode {
            table: M::TABLE,
            source,
        })
    }

    /// The owned record.
    pub fn to_model(&self) -> Result<M> {
        decode_record(self.guard.value())
    }
}

type Entry<'a> =
    std::result::Result<(AccessGuard<'a, Bytes>, AccessGuard<'a, Bytes>), redb::StorageError>;

/// Records in primary key order.
pub struct Iter<'a, M: Model> {
    range: redb::Range<'a, Bytes, Bytes>,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: Model> Iter<'a, M> {
    pub(crate) fn new(range: redb::Range<'a, Bytes, Bytes>) -> Self {
        Self {
            range,
            _model: PhantomData,
        }
    }

    fn decode(entry: Entry<'a>) -> Result<M> {
        decode_record(entry?.1.value())
    }
}

impl<M: Model> Iterator for Iter<'_, M> {
    type Item = Result<M>;
    fn next(&mut self) -> Option<Self::Item> {
        self.range.next().map(Self::decode)
    }
}

impl<M: Model> DoubleEndedIterator for Iter<'_, M> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.range.next_back().map(Self::decode)
    }
}

/// Records found through a non-unique index, in (secondary key, primary key) order.
pub struct IndexIter<'a, M: Model, T> {
    entries: redb::Range<'a, Bytes, Bytes>,
    records: &'a T,
    key_len: usize,
    index: usize,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: Model, T: ReadableTable<Bytes, Bytes>> IndexIter<'a, M, T> {
    pub(crate) fn new(
        entries: redb::Range<'a, Bytes, Bytes>,
        records: &'a T,
        key_len: usize,
        index: usize,
    ) -> Self {
        Self {
            entries,
            records,
            key_len,
            index,
            _model: PhantomData,
        }
    }

    fn resolve(&self, entry: Entry<'a>) -> Result<M> {
        let (key, _) = entry?;
        let primary = key.value().get(self.key_len..).unwrap_or_default();
        match self.records.get(primary)? {
            Some(value) => decode_record(value.value()),
            None => Err(Error::Inconsistent {
                table: M::INDEXES[self.index].table,
                detail: format!("entry {:?} points to a missing {}", key.value(), M::NAME),
            }),
        }
    }
}

impl<M: Model, T: ReadableTable<Bytes, Bytes>> Iterator for IndexIter<'_, M, T> {
    type Item = Result<M>;
    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        Some(self.resolve(entry))
    }
}

impl<M: Model, T: ReadableTable<Bytes, Bytes>> DoubleEndedIterator for IndexIter<'_, M, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next_back()?;
        Some(self.resolve(entry))
    }
}
