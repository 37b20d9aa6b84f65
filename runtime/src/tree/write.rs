//! Writing: every write keeps every index exact, and a failed call leaves the store as it was.

use super::append::Appends;
use super::deferred::{Deferred, Violation, entry_key};
use super::{
    Bytes, Claim, IndexRead, IndexWrite, KeyBounds, StoredKey, TreeRead, decode_record_at,
    encode_key, record_table,
};
use crate::codec::KeyPart;
use crate::contain::Health;
use crate::error::{Error, Result};
use crate::index_keys::{Change, IndexKeys, difference};
use crate::links::PendingLinks;
use crate::model::{IndexDef, Model, ModelRef, describe_primary_key};
use crate::ordered::Ordered;
use crate::watch::ChangeLog;
use redb::{ReadableTable, ReadableTableMetadata, Table, Value as _};
use std::borrow::Borrow;
use std::cell::RefCell;
use std::marker::PhantomData;

/// A model's tables opened in a write transaction, held open until the tree is dropped (no
/// table is opened per call). It borrows the transaction (`'t`).
pub struct WriteTree<'t, M: Model> {
    tables: Tables<'t, M::StoredKey>,
    scratch: Scratch,
    /// The transaction's checked-link keys to verify at commit.
    links: &'t RefCell<PendingLinks>,
    health: &'t Health,
    _model: PhantomData<fn() -> M>,
}

struct Tables<'t, K: StoredKey> {
    records: Table<'t, K, Bytes>,
    indexes: Vec<Box<dyn IndexWrite + 't>>,
    /// Where successful writes are noted for subscribers and the change feed; `None` when
    /// nobody reads them (the common case costs this one check per write).
    capture: Option<&'t ChangeLog>,
}

/// Buffers reused by every write, so a put allocates nothing once warmed up.
#[derive(Default)]
struct Scratch {
    key: Vec<u8>,
    value: Vec<u8>,
    new_keys: IndexKeys,
    old_keys: IndexKeys,
    entry: Vec<u8>,
    /// The unique keys (index, position in `new_keys`) whose entry the current write added
    /// (removed again on a violation).
    claimed: Vec<(usize, usize)>,
}

/// What a rollback needs to undo the writes of a batch: per write, the record's key and its
/// bytes before (`None`: it did not exist). Every write is appended to one buffer as key,
/// previous bytes, then their two lengths (so the log reads backwards, newest first): a new
/// record costs its key and 8 bytes, and logging allocates nothing once the buffer has grown.
#[derive(Default)]
struct UndoLog {
    bytes: Vec<u8>,
    count: usize,
}

/// The previous-length of a write whose record did not exist.
const ABSENT: u32 = u32::MAX;

impl UndoLog {
    fn push(&mut self, key: &[u8], previous: Option<&[u8]>) {
        self.bytes.extend_from_slice(key);
        if let Some(previous) = previous {
            self.bytes.extend_from_slice(previous);
        }
        // redb keeps keys and values under 4 GiB, so lengths fit in u32.
        self.bytes
            .extend_from_slice(&(key.len() as u32).to_le_bytes());
        let previous = previous.map_or(ABSENT, |p| p.len() as u32);
        self.bytes.extend_from_slice(&previous.to_le_bytes());
        self.count += 1;
    }

    fn len(&self) -> usize {
        self.count
    }

    /// Where the next write will start: [`newest_first_from`](Self::newest_first_from) and
    /// [`truncate`](Self::truncate) take such a mark.
    fn mark(&self) -> usize {
        self.bytes.len()
    }

    /// The writes, newest first: `(key, previous bytes)`.
    fn newest_first(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.newest_first_from(0)
    }

    /// The writes logged since `mark`, newest first.
    fn newest_first_from(&self, mark: usize) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        let mut end = self.bytes.len();
        std::iter::from_fn(move || {
            if end <= mark {
                return None;
            }
            let length = |at: usize| {
                let mut word = [0; 4];
                word.copy_from_slice(&self.bytes[at..at + 4]);
                u32::from_le_bytes(word)
            };
            let key_len = length(end - 8) as usize;
            let previous = length(end - 4);
            let previous_len = if previous == ABSENT {
                0
            } else {
                previous as usize
            };
            let start = end - 8 - previous_len - key_len;
            let key = &self.bytes[start..start + key_len];
            let bytes = (previous != ABSENT)
                .then(|| &self.bytes[start + key_len..start + key_len + previous_len]);
            end = start;
            Some((key, bytes))
        })
    }

    /// Forgets the writes logged since `mark`.
    fn truncate(&mut self, mark: usize) {
        self.count -= self.newest_first_from(mark).count();
        self.bytes.truncate(mark);
    }
}

impl<'t, M: Model> WriteTree<'t, M> {
    pub(crate) fn open(
        txn: &'t redb::WriteTransaction,
        links: &'t RefCell<PendingLinks>,
        capture: Option<&'t ChangeLog>,
        health: &'t Health,
    ) -> Result<Self> {
        Ok(Self {
            tables: Tables {
                capture,
                records: txn.open_table(record_table::<M>())?,
                indexes: M::INDEXES
                    .iter()
                    .map(|index| index.layout.open_write(txn, index.table, index.unique))
                    .collect::<Result<_>>()?,
            },
            scratch: Scratch::default(),
            links,
            health,
            _model: PhantomData,
        })
    }

    /// Inserts `model`, or replaces the record with the same primary key, updating every index.
    /// A unique key taken by another record is [`Error::UniqueViolation`], and nothing changes.
    pub fn put(&mut self, model: &M) -> Result<()> {
        let health = self.health;
        health.guard(M::TABLE, || self.put_model(model, None, Mode::Put))
    }

    /// Inserts `model`; a record with the same primary key is [`Error::AlreadyExists`], and
    /// nothing changes.
    pub fn insert(&mut self, model: &M) -> Result<()> {
        let health = self.health;
        health.guard(M::TABLE, || self.put_model(model, None, Mode::Insert))
    }

    /// Puts every model, in order, and returns how many were written. All or nothing: if one
    /// fails, the writes of this call are undone and the error is returned.
    ///
    /// For speed, the index entries of new records are held back and written sorted, index by
    /// index (see `tree/deferred.rs`), and new records above every key of the table are held
    /// and appended; runs of them go in through redb cursors (`tree/append.rs`). Held entries
    /// are written before any replacement of an existing record, so the result (and whether
    /// the call fails) is that of putting the models one by one. When several models would
    /// fail, the one named in the error may differ.
    pub fn put_many(&mut self, models: impl IntoIterator<Item = impl Borrow<M>>) -> Result<u64> {
        let health = self.health;
        let mut batch = health.guard(M::TABLE, || Batch::new(&self.tables.records))?;
        let mark = self.capture_mark();
        let mut count = 0;
        // Guarded per record, so a panic in the caller's iterator is not taken for a damaged page.
        for model in models {
            let model = model.borrow();
            let put = health.guard(M::TABLE, || self.put_deferred(model, &mut batch));
            if let Err(error) = put {
                if !health.is_poisoned() {
                    health.guard(M::TABLE, || self.roll_back_batch(&mut batch, mark))?;
                }
                return Err(error);
            }
            count += 1;
        }
        if let Err(error) = health.guard(M::TABLE, || self.flush(&mut batch)) {
            if !health.is_poisoned() {
                health.guard(M::TABLE, || self.roll_back_batch(&mut batch, mark))?;
            }
            return Err(error);
        }
        Ok(count)
    }

    /// `put_many`'s write of one model: a new record above every key is held to be appended,
    /// another new record is written at once, and either's index entries are held back; a
    /// replacement writes the held records and entries first, then is a plain put.
    fn put_deferred(&mut self, model: &M, batch: &mut Batch) -> Result<()> {
        self.encode_model(model)?;
        let (s, t) = (&mut self.scratch, &mut self.tables);
        let key = s.key.as_slice();
        if batch.appends.takes(key) {
            // New and above every key (so above the floor, and not logged): held, to be
            // appended at the table's end.
            batch.appends.push(key, s.value.as_slice())?;
        } else {
            // The table must hold the batch's earlier records before this key is looked up.
            batch.appends.write(&mut t.records, M::TABLE)?;
            let previous = t
                .records
                .insert(key, s.value.as_slice())?
                .map(|guard| guard.value().to_vec());
            if let Some(previous) = previous {
                return self.replace_deferred(model, batch, &previous);
            }
            // A record above the floor is taken back by removing everything above it (see
            // `Batch`).
            if !batch.floor.is_below(key) {
                batch.undo.push(key, None);
            }
        }
        if let Some(log) = t.capture {
            log.push::<M>(key, None, Some(s.value.as_slice()));
        }
        for (i, def) in M::INDEXES.iter().enumerate() {
            for secondary in s.new_keys.get(i) {
                batch.deferred.push(i, def.unique, secondary, key);
            }
        }
        self.note_links();
        if batch.deferred.is_full() {
            self.flush(batch)?;
        } else if batch.appends.is_full() {
            batch.appends.write(&mut self.tables.records, M::TABLE)?;
        }
        Ok(())
    }

    /// `put_many`'s replacement of a stored record by the model encoded in the scratch buffers,
    /// whose bytes are already in the table in place of `previous`. Moving a replaced record's
    /// entries needs indexes that hold every entry written so far, so the held ones are
    /// written first; then it is a put, as `put` would make it after finding `previous` (the
    /// table is not written again). On any failure `previous` is put back before the error
    /// is made, so an error names what the table held.
    fn replace_deferred(&mut self, model: &M, batch: &mut Batch, previous: &[u8]) -> Result<()> {
        let flushed = self.write_held(batch);
        if !matches!(flushed, Ok(None)) {
            put_back(&mut self.tables.records, &self.scratch.key, Some(previous))?;
        }
        if let Some(violation) = flushed? {
            return Err(self.violation_error(violation)?);
        }
        let (s, t) = (&mut self.scratch, &mut self.tables);
        if let Err(refused) = claim_record::<M>(&mut t.indexes, s, Mode::Put, Some(previous)) {
            put_back(&mut t.records, &s.key, Some(previous))?;
            return Err(refused_error(model, refused));
        }
        move_entries::<M>(
            &mut t.indexes,
            t.capture,
            s,
            Some(&mut batch.undo),
            Some(previous),
        )?;
        self.note_links();
        // Its entries are written: it is not one of the held writes.
        batch.held_from = batch.undo.mark();
        Ok(())
    }

    /// Writes the held records and index entries of `batch`. A unique key taken is
    /// [`Error::UniqueViolation`] (the flush's entries are taken back first).
    fn flush(&mut self, batch: &mut Batch) -> Result<()> {
        match self.write_held(batch)? {
            None => Ok(()),
            Some(violation) => Err(self.violation_error(violation)?),
        }
    }

    /// Writes the held records and index entries of `batch`; a unique key taken stops it (the
    /// flush's entries are taken back first) and is returned.
    fn write_held(&mut self, batch: &mut Batch) -> Result<Option<Violation>> {
        batch.appends.write(&mut self.tables.records, M::TABLE)?;
        let violation = batch
            .deferred
            .flush(&mut self.tables.indexes, &mut self.scratch.entry)?;
        if violation.is_none() {
            batch.held_from = batch.undo.mark();
        }
        Ok(violation)
    }

    /// The [`Error::UniqueViolation`] of a flush's `violation`, naming the value of the record
    /// that wanted the key as the table holds it.
    fn violation_error(&self, violation: Violation) -> Result<Error> {
        let value = match self.tables.records.get(violation.primary.as_slice())? {
            Some(guard) => decode_record_at::<M>(&violation.primary, guard.value())?
                .describe_index_value(violation.index),
            None => describe_primary_key::<M>(&violation.primary),
        };
        Ok(Error::UniqueViolation {
            model: M::NAME,
            field: M::INDEXES[violation.index].field,
            value,
        })
    }

    /// Undoes a failed `put_many`: the held records are dropped (none is in the table), then
    /// the logged new records whose entries were held back are removed (none of their entries
    /// is in an index), then the records above the floor, then the other logged writes, newest
    /// first; the changes it captured for subscribers since `mark` are forgotten.
    fn roll_back_batch(&mut self, batch: &mut Batch, mark: usize) -> Result<()> {
        batch.appends.clear();
        batch.deferred.clear();
        for (key, _) in batch.undo.newest_first_from(batch.held_from) {
            self.tables.records.remove(key)?;
        }
        batch.undo.truncate(batch.held_from);
        self.roll_back(&batch.undo, mark, Some(&batch.floor))
    }

    /// Removes every record above `floor`, with the index entries that point at it (a unique
    /// key it wanted but did not get stays with its owner; the entries of records still held
    /// back are in no index).
    fn remove_above(&mut self, floor: &Floor) -> Result<()> {
        let mut key = Vec::new();
        loop {
            match self.tables.records.last()? {
                Some((last, _)) if floor.is_below(last.value()) => {
                    key.clear();
                    key.extend_from_slice(last.value());
                }
                _ => return Ok(()),
            }
            self.remove_view(&key, None, UniqueEntries::Owned)?;
        }
    }

    /// Removes the record with primary key `key` and its index entries; returns it.
    pub fn remove<K: KeyPart + ?Sized>(&mut self, key: &K) -> Result<Option<M>> {
        let health = self.health;
        health.guard(M::TABLE, || {
            let key = encode_key(key);
            let keys = &mut self.scratch.old_keys;
            let capture = self.tables.capture;
            let removed = remove_record(&mut self.tables.records, &key, |bytes| {
                let model = decode_record_at::<M>(&key, bytes)?;
                keys.fill(M::INDEXES.len(), |i, keys| model.index_keys(i, keys));
                if let Some(log) = capture {
                    log.push::<M>(&key, Some(bytes), None);
                }
                Ok(model)
            })?;
            if removed.is_some() {
                remove_index_entries::<M>(
                    &mut self.tables.indexes,
                    &self.scratch.old_keys,
                    &key,
                    &mut self.scratch.entry,
                    UniqueEntries::All,
                )?;
                self.note_removed(&key);
            }
            Ok(removed)
        })
    }

    /// Removes the record with primary key `key` and its index entries, and says whether it
    /// existed. Unlike [`remove`](Self::remove) it does not decode the record into an owned
    /// model: its index keys are read from a zero-copy view, so nothing is allocated.
    pub fn delete<K: KeyPart + ?Sized>(&mut self, key: &K) -> Result<bool> {
        let health = self.health;
        health.guard(M::TABLE, || {
            let mut encoded = std::mem::take(&mut self.scratch.key);
            encoded.clear();
            key.encode_key(&mut encoded);
            let deleted = self.remove_view(&encoded, None, UniqueEntries::All);
            self.scratch.key = encoded;
            deleted
        })
    }

    /// Removes the records with these primary keys (missing ones are skipped) and returns how
    /// many were removed. All or nothing: on an error, the removals of this call are undone.
    pub fn remove_many<K: KeyPart>(&mut self, keys: impl IntoIterator<Item = K>) -> Result<u64> {
        let health = self.health;
        health.guard(M::TABLE, || {
            self.remove_encoded(keys.into_iter().map(|key| encode_key(&key)))
        })
    }

    /// Removes every record whose primary key falls within `bounds`; returns how many. All or
    /// nothing.
    pub fn remove_in(&mut self, bounds: &KeyBounds) -> Result<u64> {
        let health = self.health;
        health.guard(M::TABLE, || {
            let keys = Ordered::new(
                self.tables.records.range::<&[u8]>(bounds.as_redb())?,
                M::TABLE,
            )
            .map(|entry| Ok(entry?.0.value().to_vec()))
            .collect::<Result<Vec<_>>>()?;
            self.remove_encoded(keys)
        })
    }

    /// Keeps only the records for which `keep` returns `true`; returns how many were removed.
    /// Every record is decoded first, so a record that does not decode fails the call before
    /// anything is removed.
    pub fn retain(&mut self, mut keep: impl FnMut(&M) -> bool) -> Result<u64> {
        let health = self.health;
        let mut doomed = Vec::new();
        // Guarded step by step, so a panic in `keep` is not taken for a damaged page.
        let mut range = health.guard(M::TABLE, || {
            Ok(Ordered::new(
                self.tables.records.range::<&[u8]>(..)?,
                M::TABLE,
            ))
        })?;
        let mut step = || {
            range.next().map(|entry| {
                let (key, value) = entry?;
                let model = decode_record_at::<M>(key.value(), value.value())?;
                Ok((key.value().to_vec(), model))
            })
        };
        while let Some(entry) = health.guard_step(M::TABLE, &mut step) {
            let (key, model) = entry?;
            if !keep(&model) {
                doomed.push(key);
            }
        }
        drop(range);
        health.guard(M::TABLE, || self.remove_encoded(doomed))
    }

    /// Removes every record and every index entry; returns how many records there were.
    pub fn clear(&mut self) -> Result<u64> {
        let health = self.health;
        health.guard(M::TABLE, || {
            if !M::BACKLINKS.is_empty() {
                for entry in Ordered::new(self.tables.records.range::<&[u8]>(..)?, M::TABLE) {
                    self.note_removed(entry?.0.value());
                }
            }
            if let Some(log) = self.tables.capture {
                for entry in Ordered::new(self.tables.records.range::<&[u8]>(..)?, M::TABLE) {
                    let (key, value) = entry?;
                    log.push::<M>(key.value(), Some(value.value()), None);
                }
            }
            let count = self.tables.records.len()?;
            self.tables.records.retain(|_, _| false)?;
            for index in &mut self.tables.indexes {
                index.clear()?;
            }
            Ok(count)
        })
    }

    fn remove_encoded(&mut self, keys: impl IntoIterator<Item = Vec<u8>>) -> Result<u64> {
        let mut undo = UndoLog::default();
        let mark = self.capture_mark();
        for key in keys {
            if let Err(error) = self.remove_view(&key, Some(&mut undo), UniqueEntries::All) {
                self.roll_back(&undo, mark, None)?;
                return Err(error);
            }
        }
        Ok(undo.len() as u64)
    }

    /// Removes one record and its index entries, reading its keys from a view; logs its key
    /// and bytes in `undo`. Returns whether it existed.
    fn remove_view(
        &mut self,
        key: &[u8],
        undo: Option<&mut UndoLog>,
        unique: UniqueEntries,
    ) -> Result<bool> {
        let keys = &mut self.scratch.old_keys;
        let capture = self.tables.capture;
        let removed = remove_record(&mut self.tables.records, key, |bytes| {
            let view = M::Ref::decode(bytes).map_err(|source| Error::Decode {
                table: M::TABLE,
                record: Some(crate::model::describe_primary_key::<M>(key)),
                source,
            })?;
            keys.fill(M::INDEXES.len(), |i, keys| view.index_keys(i, keys));
            if let Some(log) = capture {
                log.push::<M>(key, Some(bytes), None);
            }
            if let Some(undo) = undo {
                undo.push(key, Some(bytes));
            }
            Ok(())
        })?;
        if removed.is_some() {
            remove_index_entries::<M>(
                &mut self.tables.indexes,
                &self.scratch.old_keys,
                key,
                &mut self.scratch.entry,
                unique,
            )?;
            self.note_removed(key);
        }
        Ok(removed.is_some())
    }

    /// Notes the targets of the written record's checked links, to be checked at commit.
    fn note_links(&self) {
        if !M::LINKS.iter().any(|link| link.checked) {
            return;
        }
        let mut pending = self.links.borrow_mut();
        for link in M::LINKS.iter().filter(|link| link.checked) {
            for key in self.scratch.new_keys.get(link.index) {
                pending.add(&link.target, key);
            }
        }
    }

    /// Notes a removed record that checked links may point at, to be checked at commit.
    fn note_removed(&self, key: &[u8]) {
        if !M::BACKLINKS.is_empty() {
            self.links.borrow_mut().add(&M::LINK_TARGET, key);
        }
    }

    fn put_model(&mut self, model: &M, undo: Option<&mut UndoLog>, mode: Mode) -> Result<()> {
        self.encode_model(model)?;
        self.write_encoded(model, undo, mode)
    }

    /// Encodes `model`'s primary key, bytes and index keys into the scratch buffers.
    fn encode_model(&mut self, model: &M) -> Result<()> {
        let s = &mut self.scratch;
        s.key.clear();
        model.encode_primary_key(&mut s.key);
        if let Some(width) = M::StoredKey::fixed_width()
            && s.key.len() != width
        {
            // Generated code encodes every primary key to the width it declares; this keeps a
            // mismatch from ever reaching redb's fixed-width pages.
            return Err(Error::Inconsistent {
                table: M::TABLE,
                detail: format!(
                    "a primary key of {} bytes for a table of {width}-byte keys",
                    s.key.len()
                ),
            });
        }
        s.value.clear();
        model.encode(&mut s.value);
        s.new_keys
            .fill(M::INDEXES.len(), |i, keys| model.index_keys(i, keys));
        Ok(())
    }

    /// Writes the record encoded by [`encode_model`](Self::encode_model) and its entries.
    fn write_encoded(&mut self, model: &M, undo: Option<&mut UndoLog>, mode: Mode) -> Result<()> {
        write_record::<M>(&mut self.tables, &mut self.scratch, mode, undo)
            .map_err(|refused| refused_error(model, refused))?;
        self.note_links();
        Ok(())
    }

    /// Where the capture log stands, to forget a failed batch's changes (see `roll_back`).
    fn capture_mark(&self) -> usize {
        self.tables.capture.map_or(0, ChangeLog::mark)
    }

    /// Undoes the writes of a failed batch, newest first, and forgets their captured changes
    /// (those logged since `mark`, the undoing included). With a `floor` (`put_many`), every
    /// record above it is the batch's (new, or a new one replaced) and is removed first: that
    /// frees the unique keys they hold, which the logged writes below the floor may take back;
    /// a logged write above the floor is one of them and is skipped.
    fn roll_back(&mut self, undo: &UndoLog, mark: usize, floor: Option<&Floor>) -> Result<()> {
        let undone = match floor {
            Some(floor) => self
                .remove_above(floor)
                .and_then(|()| self.undo(undo, |key| floor.is_below(key))),
            None => self.undo(undo, |_| false),
        };
        if let Some(log) = self.tables.capture {
            log.truncate(mark);
        }
        undone
    }

    /// Undoes the logged writes, newest first, except those to keys that `skip` accepts.
    fn undo(&mut self, undo: &UndoLog, skip: impl Fn(&[u8]) -> bool) -> Result<()> {
        for (key, previous) in undo.newest_first().filter(|(key, _)| !skip(key)) {
            let s = &mut self.scratch;
            match previous {
                Some(bytes) => {
                    s.key.clear();
                    s.key.extend_from_slice(key);
                    M::Ref::decode(bytes)
                        .map(|view| {
                            s.new_keys
                                .fill(M::INDEXES.len(), |i, keys| view.index_keys(i, keys))
                        })
                        .map_err(|source| Error::Decode {
                            table: M::TABLE,
                            record: None,
                            source,
                        })?;
                    s.value.clear();
                    s.value.extend_from_slice(bytes);
                    match write_record::<M>(&mut self.tables, s, Mode::Put, None) {
                        Ok(()) => {}
                        Err(Refused::Error(error)) => return Err(error),
                        // Undoing newest first gives every unique key back to its owner.
                        Err(Refused::Exists | Refused::Unique(_)) => {
                            return Err(Error::Inconsistent {
                                table: M::TABLE,
                                detail: "a rolled-back record's unique key is taken".into(),
                            });
                        }
                    }
                }
                None => {
                    self.remove_view(key, None, UniqueEntries::All)?;
                }
            }
        }
        Ok(())
    }
}

/// The state of one `put_many` call.
struct Batch {
    undo: UndoLog,
    /// The held-back index entries of new records.
    deferred: Deferred,
    /// The held-back new records above every key of the table.
    appends: Appends,
    /// The writes logged in `undo` since this mark are new records whose entries are held back.
    held_from: usize,
    /// The greatest primary key before the batch. A new record above it is not logged: to
    /// take the batch back, every record above the floor is removed. Batches usually append
    /// (ids that grow, an import into a new table), and a 1M-record load then logs nothing
    /// instead of 16 MB of keys.
    floor: Floor,
}

impl Batch {
    fn new<K: StoredKey>(records: &Table<'_, K, Bytes>) -> Result<Self> {
        let top = records.last()?.map(|(key, _)| key.value().to_vec());
        let floor = match &top {
            Some(key) => Floor::Key(key.clone()),
            None => Floor::Empty,
        };
        Ok(Self {
            undo: UndoLog::default(),
            deferred: Deferred::default(),
            appends: Appends::new(top),
            held_from: 0,
            floor,
        })
    }
}

/// The greatest primary key of a table when a batch began.
enum Floor {
    /// The table was empty: every key is above.
    Empty,
    Key(Vec<u8>),
}

impl Floor {
    /// Whether `key` sorts above the floor (keys are order-preserving bytes, compared as redb
    /// compares them).
    fn is_below(&self, key: &[u8]) -> bool {
        match self {
            Floor::Empty => true,
            Floor::Key(floor) => key > floor.as_slice(),
        }
    }
}

/// How [`write_record`] treats an existing record with the same key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Replace it.
    Put,
    /// Refuse: [`Refused::Exists`].
    Insert,
}

/// Why [`write_record`] wrote nothing (the store is as it was).
enum Refused {
    /// [`Mode::Insert`] and the key exists.
    Exists,
    /// Unique index number `.0` holds the new key for another record.
    Unique(usize),
    /// Anything else.
    Error(Error),
}

impl<E: Into<Error>> From<E> for Refused {
    fn from(error: E) -> Self {
        Refused::Error(error.into())
    }
}

/// Writes `s.value` under `s.key` and moves index entries from the previous record's keys to
/// `s.new_keys`. Logs the key and the previous bytes in `undo`, if given.
///
/// The checks cost no lookup of their own: the record is written first, and redb's `insert`
/// returns what it replaced (the previous record; a unique key's previous owner). When that
/// refuses the write (an existing key in [`Mode::Insert`], a unique key taken, a previous record
/// that does not decode), what was replaced is put back and nothing changes.
fn write_record<M: Model>(
    t: &mut Tables<'_, M::StoredKey>,
    s: &mut Scratch,
    mode: Mode,
    undo: Option<&mut UndoLog>,
) -> Result<(), Refused> {
    let replaced = t.records.insert(s.key.as_slice(), s.value.as_slice())?;
    let previous = replaced.as_ref().map(|guard| guard.value());
    if let Err(refused) = claim_record::<M>(&mut t.indexes, s, mode, previous) {
        let bytes = previous.map(<[u8]>::to_vec);
        drop(replaced);
        put_back(&mut t.records, &s.key, bytes.as_deref())?;
        return Err(refused);
    }
    move_entries::<M>(&mut t.indexes, t.capture, s, undo, previous)?;
    Ok(())
}

/// The error a write of `model` refused for `refused` returns.
fn refused_error<M: Model>(model: &M, refused: Refused) -> Error {
    match refused {
        Refused::Exists => Error::AlreadyExists {
            model: M::NAME,
            key: format!("{:?}", model.primary_key()),
        },
        Refused::Unique(i) => Error::UniqueViolation {
            model: M::NAME,
            field: M::INDEXES[i].field,
            value: model.describe_index_value(i),
        },
        Refused::Error(error) => error,
    }
}

/// Puts `previous` back under `key` (`None`: removes the record there).
fn put_back<K: StoredKey>(
    records: &mut Table<'_, K, Bytes>,
    key: &[u8],
    previous: Option<&[u8]>,
) -> Result<()> {
    match previous {
        Some(bytes) => drop(records.insert(key, bytes)?),
        None => drop(records.remove(key)?),
    }
    Ok(())
}

/// The checks of a write of `s.value` under `s.key` that replaced `previous`: refused in
/// [`Mode::Insert`] if there was one, refused if it does not decode (its index keys go into
/// `s.old_keys`), and the unique keys the record gains are claimed (refused if one is taken;
/// nothing is claimed then). The caller puts `previous` back on a refusal.
fn claim_record<M: Model>(
    indexes: &mut [Box<dyn IndexWrite + '_>],
    s: &mut Scratch,
    mode: Mode,
    previous: Option<&[u8]>,
) -> Result<(), Refused> {
    if let Some(bytes) = previous {
        if mode == Mode::Insert {
            return Err(Refused::Exists);
        }
        let view = M::Ref::decode(bytes).map_err(|source| {
            Refused::Error(Error::Decode {
                table: M::TABLE,
                record: None,
                source,
            })
        })?;
        s.old_keys
            .fill(M::INDEXES.len(), |i, keys| view.index_keys(i, keys));
    }
    claim_unique_keys::<M>(
        indexes,
        &s.key,
        previous.is_some().then_some(&s.old_keys),
        &s.new_keys,
        &mut s.entry,
        &mut s.claimed,
    )
}

/// After [`claim_record`] accepted a write that replaced `previous`: logs it (in `undo`, if
/// given, and for subscribers) and moves the non-unique entries, and the unique ones the
/// record gave up, from `s.old_keys` to `s.new_keys`.
fn move_entries<M: Model>(
    indexes: &mut [Box<dyn IndexWrite + '_>],
    capture: Option<&ChangeLog>,
    s: &mut Scratch,
    undo: Option<&mut UndoLog>,
    previous: Option<&[u8]>,
) -> Result<()> {
    let key = s.key.as_slice();
    if let Some(undo) = undo {
        undo.push(key, previous);
    }
    if let Some(log) = capture {
        log.push::<M>(key, previous, Some(&s.value));
    }
    for (i, def) in M::INDEXES.iter().enumerate() {
        let index = &mut indexes[i];
        let entry = &mut s.entry;
        // A unique key's new entries were written by `claim_record`, when they were claimed.
        if previous.is_none() {
            if !def.unique {
                for new in s.new_keys.get(i) {
                    insert_entry(index, def, new, key, entry)?;
                }
            }
        } else if !s.old_keys.same(&s.new_keys, i) {
            // Moves only the entries whose key changed (for a multi-valued key, the elements
            // that left or joined the list).
            difference(
                s.old_keys.get(i),
                s.new_keys.get(i),
                |change, secondary| match change {
                    Change::Removed => remove_entry(index, def, secondary, key, entry),
                    Change::Added if def.unique => Ok(()),
                    Change::Added => insert_entry(index, def, secondary, key, entry),
                },
            )?;
        }
    }
    Ok(())
}

/// Points the entries of every unique key the record gains (in `new`, not in `old`) at `key`.
/// redb's `insert` returns an entry's previous owner, so the check costs no lookup. An entry that
/// belonged to another record is given back, the entries claimed before it are removed, and
/// [`Refused::Unique`] is returned; the caller restores the record.
fn claim_unique_keys<M: Model>(
    indexes: &mut [Box<dyn IndexWrite + '_>],
    key: &[u8],
    old: Option<&IndexKeys>,
    new: &IndexKeys,
    owner: &mut Vec<u8>,
    claimed: &mut Vec<(usize, usize)>,
) -> Result<(), Refused> {
    claimed.clear();
    for (i, def) in M::INDEXES.iter().enumerate() {
        if !def.unique || old.is_some_and(|old| old.same(new, i)) {
            continue;
        }
        // Both lists are sorted: walk `old` alongside to skip the keys the record keeps.
        let mut kept = old.into_iter().flat_map(|old| old.get(i)).peekable();
        for (n, secondary) in new.get(i).enumerate() {
            while kept.next_if(|k| *k < secondary).is_some() {}
            if kept.next_if(|k| *k == secondary).is_some() {
                continue;
            }
            match indexes[i].claim(secondary, key, owner)? {
                Claim::New => claimed.push((i, n)),
                Claim::Ours => {}
                Claim::Taken => {
                    indexes[i].insert(secondary, owner.as_slice())?;
                    for &(j, n) in claimed.iter() {
                        if let Some(secondary) = new.get(j).nth(n) {
                            indexes[j].remove(secondary)?;
                        }
                    }
                    return Err(Refused::Unique(i));
                }
            }
        }
    }
    Ok(())
}

/// Removes a record, decoding it first with `decode`; a record that does not decode is put
/// back and reported, so the store is unchanged.
fn remove_record<K: StoredKey, T>(
    records: &mut Table<'_, K, Bytes>,
    key: &[u8],
    decode: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<Option<T>> {
    let Some(guard) = records.remove(key)? else {
        return Ok(None);
    };
    let decoded = decode(guard.value());
    let bytes = decoded.is_err().then(|| guard.value().to_vec());
    drop(guard);
    match (decoded, bytes) {
        (Ok(decoded), _) => Ok(Some(decoded)),
        (Err(error), bytes) => {
            records.insert(key, bytes.unwrap_or_default().as_slice())?;
            Err(error)
        }
    }
}

/// Which unique entries a record's removal takes with it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UniqueEntries {
    /// Every entry of its unique keys: a consistent index points them all at the record.
    All,
    /// Only those that point at it: a record of a failed `put_many` may not have got them.
    Owned,
}

fn remove_index_entries<M: Model>(
    indexes: &mut [Box<dyn IndexWrite + '_>],
    keys: &IndexKeys,
    primary: &[u8],
    buf: &mut Vec<u8>,
    unique: UniqueEntries,
) -> Result<()> {
    for (i, def) in M::INDEXES.iter().enumerate() {
        for secondary in keys.get(i) {
            if def.unique && unique == UniqueEntries::Owned {
                indexes[i].remove_if_ours(secondary, primary)?;
            } else {
                remove_entry(&mut indexes[i], def, secondary, primary, buf)?;
            }
        }
    }
    Ok(())
}

fn insert_entry(
    index: &mut Box<dyn IndexWrite + '_>,
    def: &IndexDef,
    secondary: &[u8],
    primary: &[u8],
    buf: &mut Vec<u8>,
) -> Result<()> {
    index.insert(entry_key(def.unique, secondary, primary, buf), primary)
}

fn remove_entry(
    index: &mut Box<dyn IndexWrite + '_>,
    def: &IndexDef,
    secondary: &[u8],
    primary: &[u8],
    buf: &mut Vec<u8>,
) -> Result<()> {
    index.remove(entry_key(def.unique, secondary, primary, buf))
}

impl<'t, M: Model> TreeRead<M> for WriteTree<'t, M> {
    type Table = Table<'t, M::StoredKey, Bytes>;
    fn records(&self) -> &Self::Table {
        &self.tables.records
    }
    #[allow(private_interfaces)]
    fn index(&self, index: usize) -> Result<&dyn IndexRead> {
        Ok(&*self.tables.indexes[index])
    }
    #[allow(private_interfaces)]
    fn health(&self) -> &Health {
        self.health
    }
}
