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

use super::append::MIN_RUN;
use super::{Claim, IndexWrite};
use crate::error::Result;
use std::borrow::BorrowMut;

/// Flush when the held entries take this many bytes (with their [`Entry`]s): long sorted runs
/// (the entries of 140,000 users of the disk benchmark), small next to the pages a batch of that
/// size dirties. A 2 MiB limit cost the 34,006-city import 13% more instructions (G/R 0.96
/// instead of 0.85) for 6 MiB less memory.
const LIMIT: usize = 8 << 20;

/// Index entries waiting to be written, packed in one buffer: per entry, its key, its primary
/// key's length (LEB128: one byte under 128), and, in a unique index, the primary key it points
/// at. A non-unique entry's key already ends with the primary key, which is not held twice.
/// Each index keeps where its entries are, so a flush sorts 8-byte [`Entry`]s one index at a
/// time. (Each user of the disk benchmark holds about 60 bytes, where an index number and
/// three offsets beside each entry's key and primary key made 84: its 100,000-user load peaks
/// at 1.15 of raw redb's memory instead of 1.25, and executes 22% fewer instructions.)
#[derive(Default)]
pub(crate) struct Deferred {
    bytes: Vec<u8>,
    /// By the position given to [`push`](Deferred::push): whether that index is unique, and
    /// its held entries, in the order they were held.
    indexes: Vec<(bool, Vec<Entry>)>,
    /// How many entries are held, in all indexes.
    count: usize,
}

/// A held entry: its key is `bytes[start..start + key_len]`.
#[derive(Clone, Copy)]
struct Entry {
    start: u32,
    key_len: u32,
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

/// Appends `len` as LEB128: 7 bits a byte, low bits first, the high bit set on every byte
/// but the last. Held lengths are mostly under 128: one byte.
fn push_len(out: &mut Vec<u8>, mut len: usize) {
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
}

/// Reads a length written by [`push_len`] at `bytes[*at..]` and moves `at` past it.
#[inline]
fn read_len(bytes: &[u8], at: &mut usize) -> usize {
    let (mut len, mut shift) = (0, 0);
    loop {
        let byte = bytes[*at];
        *at += 1;
        len |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return len;
        }
        shift += 7;
    }
}

impl Deferred {
    /// Holds the entry of secondary key `secondary` for the record `primary` in index
    /// `index` (unique or not, as `unique` says).
    pub fn push(&mut self, index: usize, unique: bool, secondary: &[u8], primary: &[u8]) {
        if self.indexes.len() <= index {
            self.indexes.resize_with(index + 1, Default::default);
        }
        let (is_unique, entries) = &mut self.indexes[index];
        *is_unique = unique;
        let start = self.bytes.len();
        push_entry_key(&mut self.bytes, unique, secondary, primary);
        // Flushed at LIMIT bytes, so offsets fit in u32 (and a key takes at most 3 GiB).
        entries.push(Entry {
            start: start as u32,
            key_len: (self.bytes.len() - start) as u32,
        });
        push_len(&mut self.bytes, primary.len());
        if unique {
            self.bytes.extend_from_slice(primary);
        }
        self.count += 1;
    }

    pub fn is_full(&self) -> bool {
        self.bytes.len() + self.count * std::mem::size_of::<Entry>() >= LIMIT
    }

    /// Forgets every held entry (none of them is in an index).
    pub fn clear(&mut self) {
        self.bytes.clear();
        for (_, entries) in &mut self.indexes {
            entries.clear();
        }
        self.count = 0;
    }

    /// Writes the held entries, index by index in entry-key order, and empties the buffer.
    ///
    /// On a unique violation (or an error) the entries this flush wrote are removed again and
    /// the entry that was taken is given back to its owner, so the indexes are as they were
    /// before the flush; the held entries are dropped either way.
    /// `indexes[i]` is the index of the entries pushed as index `i`; `owner` is a buffer.
    pub fn flush<'x, I: BorrowMut<dyn IndexWrite + 'x>>(
        &mut self,
        indexes: &mut [I],
        owner: &mut Vec<u8>,
    ) -> Result<Option<Violation>> {
        let mut outcome = Ok(None);
        // Per index flushed: how many of its sorted entries may be in it, and the positions of
        // those that already pointed at their record (only in an index that disagrees with its
        // table): not ours to take back.
        let mut written: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, (unique, entries)) in self.indexes.iter_mut().enumerate() {
            if entries.is_empty() {
                written.push((0, Vec::new()));
                continue;
            }
            let held = Held {
                bytes: &self.bytes,
                unique: *unique,
            };
            // Stable: among records of the batch wanting one unique key, the later one is
            // refused.
            entries.sort_by(|a, b| held.key(a).cmp(held.key(b)));
            let (wrote, step) = held.write_run(indexes[i].borrow_mut(), entries, owner);
            written.push((wrote, step.found));
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
            for (i, (wrote, found)) in written.iter().enumerate() {
                let (unique, entries) = &self.indexes[i];
                let held = Held {
                    bytes: &self.bytes,
                    unique: *unique,
                };
                for (n, e) in entries[..*wrote].iter().enumerate() {
                    if !found.contains(&n) {
                        indexes[i].borrow_mut().remove(held.key(e))?;
                    }
                }
            }
        }
        self.clear();
        outcome
    }
}

/// The held entries' bytes, read as entries of a unique index or not.
struct Held<'b> {
    bytes: &'b [u8],
    unique: bool,
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
        let start = e.start as usize;
        &self.bytes[start..start + e.key_len as usize]
    }

    /// The primary key `e` points at: held after its key (and length) in a unique index, its
    /// key's last bytes in a non-unique one.
    #[inline]
    fn primary(&self, e: &Entry) -> &[u8] {
        let end = (e.start + e.key_len) as usize;
        let mut at = end;
        let primary_len = read_len(self.bytes, &mut at);
        if self.unique {
            &self.bytes[at..at + primary_len]
        } else {
            &self.bytes[end - primary_len..end]
        }
    }

    /// Writes `run`, one index's entries in key order, and returns how many of them may be in
    /// the index. Entries that fall in one gap of the index (between the same two keys, or
    /// above its greatest key: all of them, for a new index or an appending batch) go in
    /// through cursors ([`write_gap`](Self::write_gap)) when there are at least [`MIN_RUN`] of
    /// them; the others one by one ([`write_each`](Self::write_each)), and a run shorter than
    /// that without looking for gaps. A violation stops the run at the entry refused.
    fn write_run(
        &self,
        index: &mut dyn IndexWrite,
        run: &[Entry],
        owner: &mut Vec<u8>,
    ) -> (usize, RunStep) {
        let mut step = RunStep {
            outcome: Ok(None),
            found: Vec::new(),
        };
        if run.len() < MIN_RUN {
            // Too few for a cursor anywhere (a batch's replacement flushes a few at a time):
            // no lookup for gaps.
            let (wrote, outcome) = self.write_each(index, run, 0, owner, &mut step.found);
            step.outcome = outcome;
            return (wrote, step);
        }
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
            let (wrote, outcome) = if n >= above && run.len() - n >= MIN_RUN {
                self.write_gap(index, &run[n..])
            } else if n >= above {
                self.write_each(index, &run[n..], n, owner, &mut step.found)
            } else if blind > 0 {
                let to = (n + blind).min(above);
                blind = 0;
                self.write_each(index, &run[n..to], n, owner, &mut step.found)
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
                    self.write_gap(index, &run[n..end])
                } else {
                    // A short gap, or none: the entry's key is in the index.
                    blind = skip;
                    skip = (skip * 2).min(MAX_BLIND);
                    let to = end.max(n + 1);
                    self.write_each(index, &run[n..to], n, owner, &mut step.found)
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
    fn write_gap(&self, index: &mut dyn IndexWrite, gap: &[Entry]) -> (usize, Outcome) {
        let stop = if self.unique {
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
        entries: &[Entry],
        from: usize,
        owner: &mut Vec<u8>,
        found: &mut Vec<usize>,
    ) -> (usize, Outcome) {
        for (m, e) in entries.iter().enumerate() {
            let claim = if self.unique {
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

/// The most entries written one by one between two lookups for a gap.
const MAX_BLIND: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    /// The key and primary key of every entry held in index `index`, in the order held.
    fn held(deferred: &Deferred, index: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let (unique, entries) = &deferred.indexes[index];
        let held = Held {
            bytes: &deferred.bytes,
            unique: *unique,
        };
        entries
            .iter()
            .map(|e| (held.key(e).to_vec(), held.primary(e).to_vec()))
            .collect()
    }

    #[test]
    fn held_entries_give_back_their_keys_and_primary_keys_at_every_length() {
        // Keys up to 70,000 bytes; primary keys on both sides of a one-byte length (128).
        let lengths = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000];
        let mut deferred = Deferred::default();
        let (mut non_unique, mut unique) = (Vec::new(), Vec::new());
        for (n, &len) in lengths.iter().enumerate() {
            let secondary = vec![n as u8; len];
            let primary = vec![0xA0 | n as u8; lengths[lengths.len() - 1 - n].min(300)];
            // Index 1 is unique, index 0 is not (pushed second, to hold out of order).
            deferred.push(1, true, &secondary, &primary);
            deferred.push(0, false, &secondary, &primary);
            unique.push((secondary.clone(), primary.clone()));
            non_unique.push(([secondary, primary.clone()].concat(), primary));
        }
        assert_eq!(held(&deferred, 0), non_unique);
        assert_eq!(held(&deferred, 1), unique);
        assert_eq!(deferred.count, 2 * lengths.len());
        // A non-unique entry holds its primary key once, inside its key.
        let key_bytes: usize = non_unique.iter().map(|(key, _)| key.len()).sum::<usize>()
            + unique
                .iter()
                .map(|(key, primary)| key.len() + primary.len())
                .sum::<usize>();
        // Beside the keys, one length an entry: 1 byte for a primary key under 128 bytes, 2
        // up to 16,383 (here: five of 128 or 300 bytes, three of 127 bytes or less).
        assert_eq!(deferred.bytes.len() - key_bytes, 2 * (5 * 2 + 3));

        deferred.clear();
        assert!(held(&deferred, 0).is_empty() && held(&deferred, 1).is_empty());
        assert_eq!((deferred.count, deferred.bytes.len()), (0, 0));
    }

    #[test]
    fn lengths_read_back_as_written() {
        let values = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 1 << 21, u32::MAX as usize];
        let mut bytes = Vec::new();
        for &value in &values {
            push_len(&mut bytes, value);
        }
        assert_eq!(bytes.len(), 1 + 1 + 1 + 2 + 2 + 3 + 4 + 5);
        let mut at = 0;
        for &value in &values {
            assert_eq!(read_len(&bytes, &mut at), value);
        }
        assert_eq!(at, bytes.len());
    }
}
