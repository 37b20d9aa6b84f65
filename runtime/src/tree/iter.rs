//! Lazy, double-ended iterators over records. They yield `Result`: an error reaches the caller
//! and never ends an iteration silently; after it, the iterator is fused (returns `None`), and
//! keys are checked to come in order (`ordered.rs`), so an iteration over a damaged file ends. Nothing is collected up front: each step reads one
//! entry (and, through an index, one record). `skip(n)` steps over entries without decoding them.

use super::{Bytes, EntryRange, Step, decode_record};
use crate::contain::Health;
use crate::error::{Error, Result};
use crate::model::{Model, ModelRef};
use crate::ordered::{End, Entry, Ordered};
use redb::{AccessGuard, ReadableTable};
use std::marker::PhantomData;

/// The stored bytes of one record, from which a zero-copy view is decoded.
///
/// A guard (and any view from it) borrows the tree it came from: it lives as long as that tree
/// and its transaction, and no longer. Within that time the bytes cannot change under it.
pub struct ValueGuard<'a, M: Model> {
    guard: AccessGuard<'a, Bytes>,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: Model> ValueGuard<'a, M> {
    /// Called inside a guarded call: slicing the value out of its page is where a damaged page
    /// shows, so it is done once here, and later calls to `value()` repeat the same slicing.
    pub(crate) fn new(guard: AccessGuard<'a, Bytes>) -> Self {
        let _ = guard.value();
        Self::sliced(guard)
    }

    /// For a guard whose value was already sliced inside the guarded call that read it (see
    /// [`Iter`]'s `make_entry`).
    fn sliced(guard: AccessGuard<'a, Bytes>) -> Self {
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
            record: None,
            source,
        })
    }

    /// The owned record.
    pub fn to_model(&self) -> Result<M> {
        decode_record(self.guard.value())
    }

    /// The stored bytes.
    pub fn bytes(&self) -> &[u8] {
        self.guard.value()
    }
}

/// What an iterator makes of each stored record: [`Records`] decodes owned models, [`Views`]
/// hands out [`ValueGuard`]s for zero-copy views.
pub trait Yield<'a, M: Model> {
    /// The item, before `Result`.
    type Item;
    /// Makes the item of a record whose value the caller has sliced out of its page inside
    /// the guarded step (as [`ValueGuard::new`] does), so a damaged page panics there.
    #[doc(hidden)]
    fn make(value: AccessGuard<'a, Bytes>) -> Result<Self::Item>;
}

/// Iterators that decode each record into an owned model.
pub enum Records {}

/// Iterators that yield a [`ValueGuard`] per record, for zero-copy views.
pub enum Views {}

impl<'a, M: Model> Yield<'a, M> for Records {
    type Item = M;
    // Inlined into the steps of every record iterator and index scan (0.1 M instructions of
    // the 10,000-row scan).
    #[inline]
    fn make(value: AccessGuard<'a, Bytes>) -> Result<M> {
        decode_record(value.value())
    }
}

impl<'a, M: Model> Yield<'a, M> for Views {
    type Item = ValueGuard<'a, M>;
    fn make(value: AccessGuard<'a, Bytes>) -> Result<ValueGuard<'a, M>> {
        Ok(ValueGuard::sliced(value))
    }
}

/// Records in primary key order (or the reverse, with `.rev()`). After it yields an `Err` it
/// returns `None`: an error is the last item.
pub struct Iter<'a, M: Model, Y = Records> {
    range: Ordered<'a, M::StoredKey, Bytes>,
    steps: Steps<'a>,
    _yield: PhantomData<fn() -> (M, Y)>,
}

impl<'a, M: Model, Y: Yield<'a, M>> Iter<'a, M, Y> {
    pub(crate) fn new(range: redb::Range<'a, M::StoredKey, Bytes>, health: &'a Health) -> Self {
        Self {
            range: Ordered::new(range, M::TABLE),
            steps: Steps::new(health),
            _yield: PhantomData,
        }
    }

    /// The item of an entry: its value is sliced out of the page first (where a damaged page
    /// panics, inside the guarded step), then handed to [`Yield::make`].
    ///
    /// `next` and `next_back` write this closure out where they call `next_with`: there the
    /// value is sliced where redb's step put the entry. Sliced after the entry is taken apart
    /// (as [`ValueGuard::new`] does) or through a function taking the entry, the guard was
    /// copied once more on its way into the item, 9 to 16 instructions a row of a zero-copy scan.
    fn make_entry(entry: Entry<'a, M::StoredKey, Bytes>) -> Result<Y::Item> {
        let entry = entry?;
        let _ = entry.1.value();
        Y::make(entry.1)
    }
}

impl<'a, M: Model, Y: Yield<'a, M>> Iterator for Iter<'a, M, Y> {
    type Item = Result<Y::Item>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let range = &mut self.range;
        self.steps.step(M::TABLE, || {
            range.next_with(End::Front, |entry| {
                let _ = entry.1.value();
                Y::make(entry.1)
            })
        })
    }
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        let range = &mut self.range;
        self.steps
            .step(M::TABLE, || range.nth(n).map(Self::make_entry))
    }
}

impl<'a, M: Model, Y: Yield<'a, M>> DoubleEndedIterator for Iter<'a, M, Y> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        let range = &mut self.range;
        self.steps.step(M::TABLE, || {
            range.next_with(End::Back, |entry| {
                let _ = entry.1.value();
                Y::make(entry.1)
            })
        })
    }
    fn nth_back(&mut self, n: usize) -> Option<Self::Item> {
        let range = &mut self.range;
        self.steps
            .step(M::TABLE, || range.nth_back(n).map(Self::make_entry))
    }
}

/// Records found through a secondary index, in (secondary key, primary key) order. After it
/// yields an `Err` it returns `None`: an error is the last item.
pub struct IndexIter<'a, M: Model, T, Y = Records> {
    entries: Box<dyn EntryRange + 'a>,
    records: &'a T,
    index: usize,
    steps: Steps<'a>,
    _yield: PhantomData<fn() -> (M, Y)>,
}

impl<'a, M: Model, T: ReadableTable<M::StoredKey, Bytes>, Y: Yield<'a, M>> IndexIter<'a, M, T, Y> {
    pub(crate) fn new(
        entries: Box<dyn EntryRange + 'a>,
        records: &'a T,
        index: usize,
        health: &'a Health,
    ) -> Self {
        Self {
            entries,
            records,
            index,
            steps: Steps::new(health),
            _yield: PhantomData,
        }
    }

    /// Steps to an entry and reads the record it points to.
    fn resolve(&mut self, step: Step) -> Option<Result<Y::Item>> {
        let (records, index, entries) = (self.records, self.index, &mut self.entries);
        let table = M::INDEXES[index].table;
        self.steps.step(table, || {
            let mut item = None;
            let stepped = entries.next_primary(step, &mut |key, primary| {
                item = Some(match records.get(primary) {
                    Ok(Some(record)) => {
                        let _ = record.value();
                        Y::make(record)
                    }
                    Ok(None) => Err(Error::Inconsistent {
                        table,
                        detail: format!("entry {key:?} points to a missing {}", M::NAME),
                    }),
                    Err(error) => Err(error.into()),
                });
            })?;
            Some(stepped.and_then(|()| item.unwrap_or_else(unreachable_entry)))
        })
    }
}

/// An entry step that succeeded without calling back (never happens).
fn unreachable_entry<T>() -> Result<T> {
    Err(Error::Inconsistent {
        table: "",
        detail: "an index step yielded no entry".into(),
    })
}

impl<'a, M: Model, T: ReadableTable<M::StoredKey, Bytes>, Y: Yield<'a, M>> Iterator
    for IndexIter<'a, M, T, Y>
{
    type Item = Result<Y::Item>;
    fn next(&mut self) -> Option<Self::Item> {
        self.resolve(Step::Front(0))
    }
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.resolve(Step::Front(n))
    }
}

impl<'a, M: Model, T: ReadableTable<M::StoredKey, Bytes>, Y: Yield<'a, M>> DoubleEndedIterator
    for IndexIter<'a, M, T, Y>
{
    fn next_back(&mut self) -> Option<Self::Item> {
        self.resolve(Step::Back(0))
    }
    fn nth_back(&mut self, n: usize) -> Option<Self::Item> {
        self.resolve(Step::Back(n))
    }
}

/// The guard of an iterator's steps: each step runs through [`Health::guard_step`], and the
/// iterator is fused after an error: once a step returned an `Err`, every later step returns
/// `None`. After a damaged page (a contained panic, an entry out of order, a malformed entry,
/// a storage error) the pages past it cannot be trusted to lead anywhere (a damaged branch can
/// loop back), and a caller that skips errors (`filter_map(Result::ok)`) must still see the
/// iteration end, so the error is yielded once and the iteration stops.
struct Steps<'a> {
    health: &'a Health,
    stopped: bool,
}

impl<'a> Steps<'a> {
    fn new(health: &'a Health) -> Self {
        Self {
            health,
            stopped: false,
        }
    }

    #[inline]
    fn step<T>(&mut self, table: &str, f: impl FnOnce() -> Option<Result<T>>) -> Option<Result<T>> {
        if self.stopped {
            return None;
        }
        let item = self.health.guard_step(table, f);
        self.stopped = matches!(item, Some(Err(_)));
        item
    }
}
