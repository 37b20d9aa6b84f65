//! `put_many`'s index entries, held back and written sorted.
//!
//! A batch's records usually arrive in primary-key order, but their index entries do not: the
//! emails of users 1, 2, 3... land all over the email index. `put_many` therefore writes each
//! new record and keeps its entries here, and writes them index by index in entry-key order
//! ([`Deferred::flush`]) when the buffer is full (so memory stays bounded, whatever the batch
//! size) and at the end of the batch. Sorted, the entries that fall in one gap of an index (all
//! of them, into a new index) are a run that redb takes through a cursor, packed into new
//! leaves (`append.rs`); the rest are inserted one by one, along the same descent paths.
//!
//! Unique entries are checked as they are written, exactly as `put` checks them: an entry that
//! belongs to another record is a violation, and of two new records of the batch with the same
//! unique key, the later one in the batch is refused. Held entries are written before any
//! replacement of an existing record in the batch (the only writes that free or move entries),
//! so the batch succeeds or fails exactly as the same puts one by one would.

use super::{Claim, IndexWrite};
use crate::error::Result;
use std::borrow::BorrowMut;

/// Flush when the held entries take this many bytes (keys, primary keys and their offsets):
/// long sorted runs (over 100,000 entries of 50 bytes), small next to the pages a batch of that
/// size dirties. A 2 MiB limit cost the 34,006-city import 13% more instructions (G/R 0.96
/// instead of 0.85) for 6 MiB less memory.
const LIMIT: usize = 8 << 20;

/// Index entries waiting to be written: per entry, its index, its entry key and the primary key
/// it points at, all in one buffer.
#[derive(Default)]
pub(crate) struct Deferred {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    index: u32,
    /// `bytes[start..split]` is the entry key, `bytes[split..end]` the primary key.
    start: u32,
    split: u32,
    end: u32,
}

/// Why a flush stopped: a unique entry of index `index` belongs to the record `owner`;
/// `primary` is the key of the record that wanted it. Every entry of the flush has been taken
/// back.
pub(crate) struct Violation {
    pub index: usize,
    pub owner: Vec<u8>,
    pub primary: Vec<u8>,
}

/// Appends to `out` the key of the entry of secondary key `secondary` for the record
/// `primary`: the secondary key itself in a unique index, followed by the primary key in a
/// non-unique one.
fn push_entry_key(out: &mut Vec<u8>, unique: bool, secondary: &[u8], primary: &[u8]) {
    out.extend_from_slice(secondary);
    if !unique {
        out.extend_from_slice(primary);
    }
}

/// The key of the entry of secondary key `secondary` for the record `primary` (see
/// [`push_entry_key`]); `buf` holds it when it is not `secondary` itself.
pub(crate) fn entry_key<'b>(
    unique: bool,
    secondary: &'b [u8],
    primary: &[u8],
    buf: &'b mut Vec<u8>,
) -> &'b [u8] {
    if unique {
        return secondary;
    }
    buf.clear();
    push_entry_key(buf, unique, secondary, primary);
    buf
}

impl Deferred {
    /// Holds the entry of secondary key `secondary` for the record `primary` in index
    /// `index` (unique or not, as `unique` says).
    pub fn push(&mut self, index: usize, unique: bool, secondary: &[u8], primary: &[u8]) {
        let start = self.bytes.len();
        push_entry_key(&mut self.bytes, unique, secondary, primary);
        let split = self.bytes.len();
        self.bytes.extend_from_slice(primary);
        // Flushed at LIMIT bytes, so offsets fit in u32.
        self.entries.push(Entry {
            index: index as u32,
            start: start as u32,
            split: split as u32,
            end: self.bytes.len() as u32,
        });
    }

    pub fn is_full(&self) -> bool {
        self.bytes.len() + self.entries.len() * std::mem::size_of::<Entry>() >= LIMIT
    }

    /// Forgets every held entry (none of them is in an index).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }

    /// Writes the held entries, index by index in entry-key order, and empties the buffer.
    ///
    /// On a unique violation (or an error) the entries this flush wrote are removed again and
    /// the entry that was taken is given back to its owner, so the indexes are as they were
    /// before the flush; the held entries are dropped either way.
    /// `indexes[i]` is the index of the entries pushed as index `i`; `unique(i)` says whether
    /// it is unique; `owner` is a buffer.
    pub fn flush<'x, I: BorrowMut<dyn IndexWrite + 'x>>(
        &mut self,
        indexes: &mut [I],
        unique: &dyn Fn(usize) -> bool,
        owner: &mut Vec<u8>,
    ) -> Result<Option<Violation>> {
        let Self { bytes, entries } = self;
        let held = Held { bytes };
        // Stable: among records of the batch wanting one unique key, the later one is refused.
        entries.sort_by(|a, b| {
            a.index
                .cmp(&b.index)
                .then_with(|| held.key(a).cmp(held.key(b)))
        });
        let mut outcome = Ok(None);
        // `entries[..written]` may be in an index.
        let mut written = 0;
        // Entries that already pointed at their record (only in an index that disagrees with
        // its table): not ours to take back.
        let mut found = Vec::new();
        while written < entries.len() {
            let i = entries[written].index as usize;
            let run = &entries[written..];
            let run = &run[..run.partition_point(|e| e.index as usize == i)];
            let (wrote, step) = held.write_run(indexes[i].borrow_mut(), unique(i), run, owner);
            found.extend(step.found.iter().map(|n| written + n));
            written += wrote;
            match step.outcome {
                Ok(None) => {}
                Ok(Some((owner, primary))) => {
                    outcome = Ok(Some(Violation {
                        index: i,
                        owner,
                        primary,
                    }));
                    break;
                }
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
        }
        if !matches!(outcome, Ok(None)) {
            for (n, e) in entries[..written].iter().enumerate() {
                if !found.contains(&n) {
                    indexes[e.index as usize].borrow_mut().remove(held.key(e))?;
                }
            }
        }
        self.clear();
        outcome
    }
}

/// The held entries' bytes.
struct Held<'b> {
    bytes: &'b [u8],
}

/// How writing entries ended: `Ok(Some((owner, primary)))`, a unique entry belongs to the
/// record `owner` and `primary` is the key of the record that wanted it.
type Outcome = Result<Option<(Vec<u8>, Vec<u8>)>>;

/// How writing one index's entries ended.
struct RunStep {
    outcome: Outcome,
    /// The positions (in the run) of entries that already pointed at their record.
    found: Vec<usize>,
}

impl Held<'_> {
    #[inline]
    fn key(&self, e: &Entry) -> &[u8] {
        &self.bytes[e.start as usize..e.split as usize]
    }

    #[inline]
    fn primary(&self, e: &Entry) -> &[u8] {
        &self.bytes[e.split as usize..e.end as usize]
    }

    /// Writes `run`, one index's entries in key order, and returns how many of them may be in
    /// the index. Entries that fall in one gap of the index (between the same two keys, or
    /// above its greatest key: all of them, for a new index or an appending batch) go in
    /// through cursors ([`write_gap`](Self::write_gap)) when there are at least [`MIN_RUN`] of
    /// them; the others one by one ([`write_each`](Self::write_each)). A violation stops the
    /// run at the entry refused.
    fn write_run(
        &self,
        index: &mut dyn IndexWrite,
        unique: bool,
        run: &[Entry],
        owner: &mut Vec<u8>,
    ) -> (usize, RunStep) {
        let mut step = RunStep {
            outcome: Ok(None),
            found: Vec::new(),
        };
        let mut bound = Vec::new();
        let above = match index.last_key(&mut bound) {
            Ok(true) => run.partition_point(|e| self.key(e) <= bound.as_slice()),
            Ok(false) => 0,
            Err(error) => {
                step.outcome = Err(error);
                return (0, step);
            }
        };
        // After a short gap, `blind` entries are written one by one before the next lookup for
        // a gap, `skip` after the next short one (doubled each time, reset by a long gap): keys
        // spread over the index (emails, names) then cost few lookups.
        let (mut blind, mut skip) = (0, 1);
        let mut n = 0;
        while n < run.len() {
            let (wrote, outcome) = if n >= above {
                self.write_gap(index, unique, &run[n..])
            } else if blind > 0 {
                let to = (n + blind).min(above);
                blind = 0;
                self.write_each(index, unique, &run[n..to], n, owner, &mut step.found)
            } else {
                // The end of the entries from `n` on that share its gap.
                let end = match index.next_key(self.key(&run[n]), &mut bound) {
                    Ok(true) => n + run[n..above].partition_point(|e| self.key(e) < &bound[..]),
                    Ok(false) => above,
                    Err(error) => {
                        step.outcome = Err(error);
                        return (n, step);
                    }
                };
                if end - n >= MIN_RUN {
                    skip = 1;
                    self.write_gap(index, unique, &run[n..end])
                } else {
                    // A short gap, or none: the entry's key is in the index.
                    blind = skip;
                    skip = (skip * 2).min(MAX_BLIND);
                    let to = end.max(n + 1);
                    self.write_each(index, unique, &run[n..to], n, owner, &mut step.found)
                }
            };
            n += wrote;
            if !matches!(outcome, Ok(None)) {
                step.outcome = outcome;
                return (n, step);
            }
        }
        (run.len(), step)
    }

    /// Writes `gap`, entries that all fall in one gap of the index, through cursors, and
    /// returns how many of them may be in the index. Equal neighbours in a unique index are two
    /// records of the batch wanting one key: the later one is refused, and the run stops
    /// there. (Non-unique keys end with their record's key, and a record's keys are
    /// deduplicated: they are never equal.)
    fn write_gap(
        &self,
        index: &mut dyn IndexWrite,
        unique: bool,
        gap: &[Entry],
    ) -> (usize, Outcome) {
        let stop = if unique {
            (1..gap.len())
                .find(|&m| self.key(&gap[m]) == self.key(&gap[m - 1]))
                .unwrap_or(gap.len())
        } else {
            gap.len()
        };
        let mut entries = gap[..stop].iter().map(|e| (self.key(e), self.primary(e)));
        let outcome = match index.insert_run(&mut entries) {
            Ok(()) if stop < gap.len() => Ok(Some((
                self.primary(&gap[stop - 1]).to_vec(),
                self.primary(&gap[stop]).to_vec(),
            ))),
            Ok(()) => Ok(None),
            Err(error) => Err(error),
        };
        (stop, outcome)
    }

    /// Writes `entries` one by one, a unique one claimed as `put` claims it (a taken entry is
    /// given back to its owner and stops the run), and returns how many of them may be in the
    /// index. `from` is the position of the first in the run; the positions of entries that
    /// already pointed at their record go into `found`.
    fn write_each(
        &self,
        index: &mut dyn IndexWrite,
        unique: bool,
        entries: &[Entry],
        from: usize,
        owner: &mut Vec<u8>,
        found: &mut Vec<usize>,
    ) -> (usize, Outcome) {
        for (m, e) in entries.iter().enumerate() {
            let claim = if unique {
                index.claim(self.key(e), self.primary(e), owner)
            } else {
                index
                    .insert(self.key(e), self.primary(e))
                    .map(|()| Claim::New)
            };
            match claim {
                Ok(Claim::New) => {}
                Ok(Claim::Ours) => found.push(from + m),
                Ok(Claim::Taken) => {
                    let outcome = index
                        .insert(self.key(e), owner.as_slice())
                        .map(|()| Some((owner.clone(), self.primary(e).to_vec())));
                    return (m, outcome);
                }
                Err(error) => return (m, Err(error)),
            }
        }
        (entries.len(), Ok(None))
    }
}

/// The fewest entries of one gap that [`Held::write_run`] writes through cursors: a cursor
/// costs a lookup and a splice of the leaf and its parent path, about what a few inserts cost.
const MIN_RUN: usize = 8;

/// The most entries written one by one between two lookups for a gap.
const MAX_BLIND: usize = 256;
