//! Writing runs of ascending keys: `put_many`'s new records above a table's greatest key, and
//! index entries that fall in one gap of an index (above its greatest key, or between two of
//! its keys).
//!
//! redb's `insert` descends the B-tree for every pair and rebuilds the leaf it lands in. A
//! cursor at a gap (`Table::lower_bound_mut`) instead buffers a run of ascending inserts and
//! splices them in as new, full leaves, one update of the parent path per run. A batch that
//! appends (ids that grow, an import into a new table, the sorted entries of a new index) is
//! written that way: the 100,000-user load of the benchmark costs 0.42 of a loop of inserts'
//! instructions, and the leaves come out packed.
//!
//! [`Appends`] holds `put_many`'s new records above the table's greatest key until a run is
//! long enough ([`LIMIT`]) or something else has to read or write the table; the index entries
//! are held and sorted in `deferred.rs`, whose flush writes each gap's entries with
//! [`insert_run`].

use super::{Bytes, StoredKey};
use crate::error::{Error, Result};
use redb::{Table, Value};
use std::marker::PhantomData;
use std::ops::Bound;

/// Pairs to append, in ascending key order, each borrowed until the next is asked for.
pub(crate) trait Pairs {
    /// The next pair, or `None` when there is none left.
    fn next_pair(&mut self) -> Result<Option<(&[u8], &[u8])>>;
}

/// Pairs borrowed from a buffer (`'e`), each seen by a check first.
pub(super) struct Checked<'e, I, C> {
    pairs: I,
    check: C,
    _buffer: PhantomData<&'e [u8]>,
}

impl<'e, I, C> Checked<'e, I, C> {
    pub fn new(pairs: I, check: C) -> Self {
        Self {
            pairs,
            check,
            _buffer: PhantomData,
        }
    }
}

impl<'e, I, C> Pairs for Checked<'e, I, C>
where
    I: Iterator<Item = (&'e [u8], &'e [u8])>,
    C: FnMut(&[u8], &[u8]) -> Result<()>,
{
    fn next_pair(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        let Some((key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        (self.check)(key, value)?;
        Ok(Some((key, value)))
    }
}

/// Pairs made one at a time: the closure writes each into the key and value buffers it is
/// given (cleared first) and returns `true`, then `false` when there is none left.
pub(crate) struct Made<F> {
    make: F,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl<F: FnMut(&mut Vec<u8>, &mut Vec<u8>) -> Result<bool>> Made<F> {
    pub fn new(make: F) -> Self {
        Self {
            make,
            key: Vec::new(),
            value: Vec::new(),
        }
    }
}

impl<F: FnMut(&mut Vec<u8>, &mut Vec<u8>) -> Result<bool>> Pairs for Made<F> {
    fn next_pair(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        self.key.clear();
        self.value.clear();
        Ok((self.make)(&mut self.key, &mut self.value)?.then_some((&self.key, &self.value)))
    }
}

/// Writes `pairs` into `table`, named `name` in errors. Their keys are strictly ascending and
/// all in one gap of the table: above its greatest key (an append), or between the same two
/// neighbouring keys. On an error, any of the pairs may have been written.
pub(crate) fn insert_run<K: StoredKey, V: for<'a> Value<SelfType<'a> = &'a [u8]>>(
    table: &mut Table<'_, K, V>,
    name: &'static str,
    pairs: &mut impl Pairs,
) -> Result<()> {
    let mut next = pairs.next_pair()?;
    while let Some(first) = next {
        // One cursor per run of RUN_PAIRS pairs or RUN_BYTES bytes: redb's cursor holds a run
        // until it splices it (or until 1 MiB of pairs), at 32 bytes of bookkeeping per pair
        // on top of the pair; unbounded, that took the 100,000-user load's peak memory from
        // 26 to 32 MiB. Shorter runs cost more: 1,024 pairs, 3% more instructions.
        // The gap before the table's first key above `first`: the one every pair goes into.
        let mut cursor = table.lower_bound_mut(Bound::Included(first.0))?;
        let (mut count, mut bytes) = (0, 0);
        let mut pair = Some(first);
        while let Some((key, value)) = pair {
            cursor
                .insert_before(key, value)
                .map_err(|error| match error {
                    redb::CursorError::Storage(error) => Error::from(error),
                    // `UnorderedKey`: a caller's pairs were not all in one gap.
                    other => Error::Inconsistent {
                        table: name,
                        detail: format!("key {key:?} not written: {other}"),
                    },
                })?;
            count += 1;
            bytes += key.len() + value.len();
            pair = pairs.next_pair()?;
            if count == RUN_PAIRS || bytes >= RUN_BYTES {
                break;
            }
        }
        // `close` reports an error in writing the last run, which dropping would not.
        cursor.close()?;
        next = pair;
    }
    Ok(())
}

/// The fewest pairs worth a cursor: a cursor costs a lookup, a splice of a leaf and its
/// parent path and a close, about what a few inserts cost. Shorter runs are inserted one by
/// one (`Appends::write`, and `deferred.rs` for index entries). A batch that mixes
/// replacements with new records writes its held records and entries at every replacement, a
/// few at a time: with a cursor for each few, alternating 50,000 replacements with 50,000 new
/// users took 2.2 times the instructions it took with inserts (4,732 M against 2,133 M).
pub(super) const MIN_RUN: usize = 8;

/// The longest run [`insert_run`] hands one cursor, in pairs and in bytes.
const RUN_PAIRS: usize = 4096;
const RUN_BYTES: usize = 128 << 10;

/// Held records are written when they take this many bytes. Runs of this size already cost
/// redb little per pair (the 100,000-user load took 900 M instructions with 128 KiB and 906 M
/// with 1 MiB), and a larger buffer is only memory.
const LIMIT: usize = 128 << 10;

/// New records of a batch above every key of the record table, held to be appended.
#[derive(Default)]
pub(super) struct Appends {
    /// The greatest key of the table and of the held records (`None`: there is none).
    top: Option<Vec<u8>>,
    /// Each held record's key then bytes.
    bytes: Vec<u8>,
    /// Per held record, where its bytes start and end in `bytes`; its key ends at `.0`.
    records: Vec<(u32, u32)>,
}

impl Appends {
    /// Nothing held; `top` is the table's greatest key.
    pub fn new(top: Option<Vec<u8>>) -> Self {
        Self {
            top,
            ..Self::default()
        }
    }

    /// Whether a record with primary key `key` is new and sorts above every key of the table
    /// and of the held records, so that it can be held.
    pub fn takes(&self, key: &[u8]) -> bool {
        self.top.as_deref().is_none_or(|top| key > top)
    }

    /// Holds a record that [`takes`](Self::takes) accepted. A record too large to hold (over
    /// 4 GiB with the held ones; redb takes at most 3 GiB) is redb's `ValueTooLarge`.
    pub fn push(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let split = self.bytes.len();
        self.bytes.extend_from_slice(value);
        let (Ok(split), Ok(end)) = (u32::try_from(split), u32::try_from(self.bytes.len())) else {
            self.bytes.truncate(start);
            return Err(redb::StorageError::ValueTooLarge(value.len()).into());
        };
        self.records.push((split, end));
        match &mut self.top {
            Some(top) => {
                top.clear();
                top.extend_from_slice(key);
            }
            None => self.top = Some(key.to_vec()),
        }
        Ok(())
    }

    pub fn is_full(&self) -> bool {
        self.bytes.len() >= LIMIT
    }

    /// Forgets the held records (none of them is in the table).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.records.clear();
    }

    /// Writes the held records at the end of `table`, named `name` in errors.
    pub fn write<K: StoredKey>(
        &mut self,
        table: &mut Table<'_, K, Bytes>,
        name: &'static str,
    ) -> Result<()> {
        if self.records.is_empty() {
            return Ok(());
        }
        let bytes = &self.bytes;
        let mut start = 0;
        let mut pairs = self.records.iter().map(|&(split, end)| {
            let pair = (
                &bytes[start..split as usize],
                &bytes[split as usize..end as usize],
            );
            start = end as usize;
            pair
        });
        let written = if self.records.len() < MIN_RUN {
            pairs.try_for_each(|(key, value)| {
                table.insert(key, value).map(drop).map_err(Error::from)
            })
        } else {
            insert_run(
                table,
                name,
                &mut Checked::new(pairs, |_: &[u8], _: &[u8]| Ok(())),
            )
        };
        self.clear();
        written
    }
}
