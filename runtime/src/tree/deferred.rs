//! `put_many`'s index entries, held back and written sorted.
//!
//! A batch's records usually arrive in primary-key order, but their index entries do not: the
//! emails of users 1, 2, 3... land all over the email index. redb inserts an entry by descending
//! its B-tree, and entries that arrive in key order descend along the same path and fill the
//! same pages one after another, so writing them sorted costs fewer page visits and copies.
//! `put_many` therefore writes each new record at once, keeps its entries here, and writes them
//! index by index in entry-key order ([`Deferred::flush`]) when the buffer is full (so memory
//! stays bounded, whatever the batch size) and at the end of the batch.
//!
//! Unique entries are checked as they are written, exactly as `put` checks them: an entry that
//! belongs to another record is a violation, and of two new records of the batch with the same
//! unique key, the later one in the batch is refused. Held entries are written before any
//! replacement of an existing record in the batch (the only writes that free or move entries),
//! so the batch succeeds or fails exactly as the same puts one by one would.

use super::{Claim, IndexWrite};
use crate::error::Result;
use crate::model::IndexDef;

/// Flush when the held entries take this many bytes (keys, primary keys and their offsets):
/// long sorted runs (over 100,000 entries of 50 bytes), small next to the pages a batch of that
/// size dirties. A 2 MiB limit cost the 34,006-city import 13% more instructions (G/R 0.96
/// instead of 0.85) for 6 MiB less memory.
const LIMIT: usize = 8 << 20;

/// Index entries waiting to be written: per entry, its index, its entry key and the primary key
/// it points at, all in one buffer.
#[derive(Default)]
pub(super) struct Deferred {
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

/// Why a flush stopped: a unique entry of index `index` belongs to another record; `primary` is
/// the key of the batch's record that wanted it. Every entry of the flush has been taken back.
pub(super) struct Violation {
    pub index: usize,
    pub primary: Vec<u8>,
}

impl Deferred {
    pub fn push(&mut self, index: usize, entry_key: &[u8], primary: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(entry_key);
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
    pub fn flush(
        &mut self,
        indexes: &mut [Box<dyn IndexWrite + '_>],
        defs: &[IndexDef],
        owner: &mut Vec<u8>,
    ) -> Result<Option<Violation>> {
        let Self { bytes, entries } = self;
        let key = |e: &Entry| &bytes[e.start as usize..e.split as usize];
        let primary = |e: &Entry| &bytes[e.split as usize..e.end as usize];
        // Stable: among records of the batch wanting one unique key, the later one is refused.
        entries.sort_by(|a, b| a.index.cmp(&b.index).then_with(|| key(a).cmp(key(b))));
        let mut outcome = Ok(None);
        let mut written = 0;
        // Entries that already pointed at their record (only in an index that disagrees with
        // its table): not ours to take back.
        let mut found = Vec::new();
        for (n, e) in entries.iter().enumerate() {
            let i = e.index as usize;
            let step = if defs[i].unique {
                indexes[i].claim(key(e), primary(e), owner)
            } else {
                indexes[i].insert(key(e), primary(e)).map(|()| Claim::New)
            };
            match step {
                Ok(Claim::New) => {}
                Ok(Claim::Ours) => found.push(n),
                Ok(Claim::Taken) => {
                    outcome = indexes[i].insert(key(e), owner.as_slice()).map(|()| {
                        Some(Violation {
                            index: i,
                            primary: primary(e).to_vec(),
                        })
                    });
                    break;
                }
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
            written = n + 1;
        }
        if !matches!(outcome, Ok(None)) {
            for (n, e) in entries[..written].iter().enumerate() {
                if !found.contains(&n) {
                    indexes[e.index as usize].remove(key(e))?;
                }
            }
        }
        self.clear();
        outcome
    }
}
