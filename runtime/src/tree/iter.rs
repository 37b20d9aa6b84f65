//! Lazy, double-ended iterators over records. They yield `Result`: an error reaches the caller
//! and never ends an iteration silently. Nothing is collected up front: each step reads one
//! entry (and, through an index, one record). `skip(n)` steps over entries without decoding them.

use super::{Bytes, EntryRange, Step, decode_record};
use crate::contain::Health;
use crate::error::{Error, Result};
use crate::model::{Model, ModelRef};
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
    #[doc(hidden)]
    fn make(value: AccessGuard<'a, Bytes>) -> Result<Self::Item>;
}

/// Iterators that decode each record into an owned model.
pub enum Records {}

/// Iterators that yield a [`ValueGuard`] per record, for zero-copy views.
pub enum Views {}

impl<'a, M: Model> Yield<'a, M> for Records {
    type Item = M;
    fn make(value: AccessGuard<'a, Bytes>) -> Result<M> {
        decode_record(value.value())
    }
}

impl<'a, M: Model> Yield<'a, M> for Views {
    type Item = ValueGuard<'a, M>;
    fn make(value: AccessGuard<'a, Bytes>) -> Result<ValueGuard<'a, M>> {
        Ok(ValueGuard::new(value))
    }
}

type Entry<'a, K> =
    std::result::Result<(AccessGuard<'a, K>, AccessGuard<'a, Bytes>), redb::StorageError>;

/// Records in primary key order (or the reverse, with `.rev()`).
pub struct Iter<'a, M: Model, Y = Records> {
    range: redb::Range<'a, M::StoredKey, Bytes>,
    steps: Steps<'a>,
    order: Order,
    _yield: PhantomData<fn() -> (M, Y)>,
}

impl<'a, M: Model, Y: Yield<'a, M>> Iter<'a, M, Y> {
    pub(crate) fn new(range: redb::Range<'a, M::StoredKey, Bytes>, health: &'a Health) -> Self {
        Self {
            range,
            steps: Steps::new(health),
            order: Order::default(),
            _yield: PhantomData,
        }
    }

    fn make(entry: Entry<'a, M::StoredKey>, order: &mut Order, end: End) -> Result<Y::Item> {
        let (key, value) = entry?;
        order.check(M::TABLE, key.value(), end)?;
        Y::make(value)
    }
}

impl<'a, M: Model, Y: Yield<'a, M>> Iterator for Iter<'a, M, Y> {
    type Item = Result<Y::Item>;
    fn next(&mut self) -> Option<Self::Item> {
        let (range, order) = (&mut self.range, &mut self.order);
        self.steps.step(M::TABLE, || {
            order.go_on()?;
            range.next().map(|e| Self::make(e, order, End::Front))
        })
    }
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        let (range, order) = (&mut self.range, &mut self.order);
        self.steps.step(M::TABLE, || {
            order.go_on()?;
            range.nth(n).map(|e| Self::make(e, order, End::Front))
        })
    }
}

impl<'a, M: Model, Y: Yield<'a, M>> DoubleEndedIterator for Iter<'a, M, Y> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let (range, order) = (&mut self.range, &mut self.order);
        self.steps.step(M::TABLE, || {
            order.go_on()?;
            range.next_back().map(|e| Self::make(e, order, End::Back))
        })
    }
    fn nth_back(&mut self, n: usize) -> Option<Self::Item> {
        let (range, order) = (&mut self.range, &mut self.order);
        self.steps.step(M::TABLE, || {
            order.go_on()?;
            range.nth_back(n).map(|e| Self::make(e, order, End::Back))
        })
    }
}

/// Records found through a secondary index, in (secondary key, primary key) order.
pub struct IndexIter<'a, M: Model, T, Y = Records> {
    entries: Box<dyn EntryRange + 'a>,
    records: &'a T,
    index: usize,
    steps: Steps<'a>,
    order: Order,
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
            order: Order::default(),
            _yield: PhantomData,
        }
    }

    /// Steps to an entry and reads the record it points to.
    fn resolve(&mut self, step: Step) -> Option<Result<Y::Item>> {
        let (records, index, entries) = (self.records, self.index, &mut self.entries);
        let order = &mut self.order;
        let table = M::INDEXES[index].table;
        let end = match step {
            Step::Front(_) => End::Front,
            Step::Back(_) => End::Back,
        };
        self.steps.step(table, || {
            order.go_on()?;
            let mut item = None;
            let stepped = entries.next_primary(step, &mut |key, primary| {
                if let Err(error) = order.check(table, key, end) {
                    item = Some(Err(error));
                    return;
                }
                item = Some(match records.get(primary) {
                    Ok(Some(record)) => Y::make(record),
                    Ok(None) => Err(Error::Inconsistent {
                        table: M::INDEXES[index].table,
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

/// The guard of an iterator's steps: each step runs through [`Health::guard_step`], and after
/// a step fails on a damaged page the iterator ends (the error is yielded once, never an
/// endless run of errors to a loop that skips them).
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
        // A damaged page, or an entry the index cannot have written (malformed, out of
        // order): the pages past it cannot be trusted to lead anywhere (a damaged branch can
        // loop back), so the error is yielded once and the iteration ends.
        if matches!(
            item,
            Some(Err(Error::Corrupted { .. } | Error::Inconsistent { .. }))
        ) {
            self.stopped = true;
        }
        item
    }
}

/// Which end of a range a step reads.
#[derive(Clone, Copy)]
enum End {
    Front,
    Back,
}

/// The keys an iterator has yielded at each end. A B-tree yields strictly increasing keys from
/// the front and strictly decreasing ones from the back, the two ends never crossing. A damaged
/// page can link the tree into a cycle, and redb would then iterate forever without a panic to
/// contain: an entry out of order is reported as [`Error::Inconsistent`] and ends the
/// iteration. One comparison and one copy of the key per step.
#[derive(Default)]
struct Order {
    front: Option<Vec<u8>>,
    back: Option<Vec<u8>>,
    broken: bool,
}

impl Order {
    /// `None` once an entry came out of order: the iterator has ended.
    fn go_on(&self) -> Option<()> {
        (!self.broken).then_some(())
    }

    fn check(&mut self, table: &'static str, key: &[u8], end: End) -> Result<()> {
        let in_order = match end {
            End::Front => {
                self.front.as_deref().is_none_or(|last| key > last)
                    && self.back.as_deref().is_none_or(|back| key < back)
            }
            End::Back => {
                self.back.as_deref().is_none_or(|last| key < last)
                    && self.front.as_deref().is_none_or(|front| key > front)
            }
        };
        if !in_order {
            self.broken = true;
            return Err(Error::Inconsistent {
                table,
                detail: "entries come out of key order: the table's pages are damaged (run \
                         check_integrity; `recover` copies what can still be read)"
                    .to_owned(),
            });
        }
        let last = match end {
            End::Front => &mut self.front,
            End::Back => &mut self.back,
        };
        let buffer = last.get_or_insert_with(Vec::new);
        buffer.clear();
        buffer.extend_from_slice(key);
        Ok(())
    }
}
