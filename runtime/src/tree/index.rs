//! Index tables, each with the key and value types the generated code chose for it
//! ([`IndexLayout`]), seen by the runtime through two object-safe traits ([`IndexRead`],
//! [`IndexWrite`]) so that trees hold their indexes in one `Vec` whatever their types.
//!
//! An entry's key is a [`StoredKey`]: [`Fixed<W>`](Fixed) when every entry key of the index
//! encodes to `W` bytes (a fixed-width secondary key, and for a non-unique index a fixed-width
//! primary key too), `&[u8]` otherwise. Its value is an [`EntryValue`]: the primary key it
//! points to (`Fixed<N>` or `&[u8]`, as the record table's key), or nothing ([`Tail<N>`]) for a
//! non-unique entry whose primary key has a fixed width `N`: that primary key is then the last
//! `N` bytes of the entry's key.

use super::append::{Checked, insert_run};
use super::stored::{AnyStored, INDEX_KEY, INDEX_VALUE, StoredType, StoredTypes, stored_type};
use super::{Fixed, StoredKey};
use crate::error::{Error, Result};
use crate::ordered::{End, Ordered};
use redb::{AccessGuard, ReadableTable, StorageError, Value};
use std::ops::Bound;

/// The value type of an index table: the primary key an entry points to (`Fixed<N>` or
/// `&[u8]`, as the record table's key), or nothing ([`Tail<N>`]) for a non-unique entry whose
/// primary key is the last `N` bytes of its key.
pub trait EntryValue: for<'a> Value<SelfType<'a> = &'a [u8]> + Send + Sync + 'static {
    /// `Some(N)`: the value is empty and the entry's primary key is the last `N` bytes of its
    /// key.
    const TAIL: Option<usize> = None;

    /// [`TAIL`](Self::TAIL), for a type whose width is known only at run time (an index read
    /// by its stored layout, see `StoredIndex`).
    #[doc(hidden)]
    fn tail() -> Option<usize> {
        Self::TAIL
    }
}

impl EntryValue for &'static [u8] {}

impl<const N: usize> EntryValue for Fixed<N> {}

/// The value of a non-unique entry whose primary key is the last `N` bytes of its key: empty,
/// declared to redb as zero bytes wide.
#[derive(Debug)]
pub enum Tail<const N: usize> {}

impl<const N: usize> EntryValue for Tail<N> {
    const TAIL: Option<usize> = Some(N);
}

raw_bytes_value!([const N: usize] Tail<N>, width: Some(0), name: format!("netabase_runtime::Tail<{N}>"));

/// How one index table is stored: its key and value types, chosen by the generated code
/// ([`IndexLayout::new`]) and recorded in [`IndexDef`](crate::IndexDef).
#[derive(Clone, Copy)]
pub struct IndexLayout {
    open_write: for<'a> fn(&'a redb::WriteTransaction, Opened) -> Result<Box<dyn IndexWrite + 'a>>,
    open_read: fn(&redb::ReadTransaction, Opened) -> ReadOpened,
    key_width: fn() -> Option<usize>,
    value_width: fn() -> Option<usize>,
    tail: Option<usize>,
}

impl IndexLayout {
    /// The layout of an index keyed by `K` (`Fixed<W>` or `&'static [u8]`) with values `V`
    /// (`Fixed<N>`, `&'static [u8]` or `Tail<N>`).
    pub const fn new<K: StoredKey + Send + Sync, V: EntryValue>() -> Self {
        Self {
            open_write: open_write::<K, V>,
            open_read: open_read::<K, V>,
            key_width: K::fixed_width,
            value_width: V::fixed_width,
            tail: V::TAIL,
        }
    }

    pub(crate) fn open_write<'a>(
        &self,
        txn: &'a redb::WriteTransaction,
        table: &'static str,
        unique: bool,
    ) -> Result<Box<dyn IndexWrite + 'a>> {
        (self.open_write)(txn, Opened { table, unique })
    }

    pub(crate) fn open_read(
        &self,
        txn: &redb::ReadTransaction,
        table: &'static str,
        unique: bool,
    ) -> ReadOpened {
        (self.open_read)(txn, Opened { table, unique })
    }
}

impl std::fmt::Debug for IndexLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexLayout")
            .field("key_width", &(self.key_width)())
            .field("value_width", &(self.value_width)())
            .field("tail", &self.tail)
            .finish()
    }
}

impl PartialEq for IndexLayout {
    fn eq(&self, other: &Self) -> bool {
        (self.key_width)() == (other.key_width)()
            && (self.value_width)() == (other.value_width)()
            && self.tail == other.tail
    }
}

impl Eq for IndexLayout {}

/// An index table opened for reading, or why it could not be.
pub(crate) type ReadOpened =
    std::result::Result<Box<dyn IndexRead + Send + Sync>, redb::TableError>;

/// What an opened index table knows about itself.
#[derive(Clone, Copy)]
pub(crate) struct Opened {
    table: &'static str,
    unique: bool,
}

/// An entry split into its secondary key and the primary key it points to, or why it cannot be.
pub(crate) type Split<'x> = std::result::Result<(&'x [u8], &'x [u8]), &'static str>;

/// One step of an [`EntryRange`]: which end, and how many entries to skip first.
#[derive(Clone, Copy)]
pub(crate) enum Step {
    Front(usize),
    Back(usize),
}

/// An index table opened for reading, whatever its types.
pub(crate) trait IndexRead {
    /// Calls `found` with the value (the primary key) of unique entry `key`; `false` if there
    /// is none.
    fn get(
        &self,
        key: &[u8],
        found: &mut dyn FnMut(&[u8]),
    ) -> std::result::Result<bool, StorageError>;
    /// The entries within `bounds`, in key order.
    fn range<'a>(
        &'a self,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> std::result::Result<Box<dyn EntryRange + 'a>, StorageError>;
}

/// Entries of an index, front to back or back to front.
pub(crate) trait EntryRange {
    /// Skips as `step` says, then calls `entry` with the next entry's key and its split (see
    /// [`Split`]); `None` at the end.
    fn step(
        &mut self,
        step: Step,
        entry: &mut dyn FnMut(&[u8], Split<'_>),
    ) -> Option<std::result::Result<(), StorageError>>;
    /// As [`step`](Self::step), but an entry that does not split is an
    /// [`Error::Inconsistent`].
    fn next_primary(
        &mut self,
        step: Step,
        entry: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Option<Result<()>>;
}

/// What [`IndexWrite::claim`] found.
pub(crate) enum Claim {
    /// No entry: it was written.
    New,
    /// The entry already pointed at the record.
    Ours,
    /// The entry belonged to another record (now in `owner`).
    Taken,
}

/// An index table opened for writing.
pub(crate) trait IndexWrite: IndexRead {
    /// Writes the entry `key` pointing at `primary` (a non-unique entry, or a unique entry put
    /// back).
    fn insert(&mut self, key: &[u8], primary: &[u8]) -> Result<()>;
    /// Writes the unique entry `key` for `primary`. If it belonged to another record, copies
    /// that record's key into `owner` (the entry now points at `primary`).
    fn claim(&mut self, key: &[u8], primary: &[u8], owner: &mut Vec<u8>) -> Result<Claim>;
    /// Removes the entry `key`.
    fn remove(&mut self, key: &[u8]) -> Result<()>;
    /// Removes the unique entry `key` if it points at `primary` (another record's entry with
    /// the same key stays).
    fn remove_if_ours(&mut self, key: &[u8], primary: &[u8]) -> Result<()>;
    /// Removes every entry.
    fn clear(&mut self) -> Result<()>;
    /// Copies the greatest key of the table into `out`; `false` if the table is empty.
    fn last_key(&self, out: &mut Vec<u8>) -> Result<bool>;
    /// Copies the first key of the table at or above `from` into `out`; `false` if none is.
    fn next_key(&self, from: &[u8], out: &mut Vec<u8>) -> Result<bool>;
    /// Writes `entries` (`(key, primary)`, keys strictly ascending and all in one gap of the
    /// table: no key of the table is between or equal to any two of them) through redb
    /// cursors, which splice them in as packed leaves a run at a time instead of descending
    /// the tree for each entry (`tree/append.rs`). On an error, any of them may have been
    /// written.
    fn insert_run<'e>(
        &mut self,
        entries: &mut dyn Iterator<Item = (&'e [u8], &'e [u8])>,
    ) -> Result<()>;
}

struct Index<T, K, V> {
    table: T,
    opened: Opened,
    _types: std::marker::PhantomData<fn() -> (K, V)>,
}

fn open_write<'a, K: StoredKey, V: EntryValue>(
    txn: &'a redb::WriteTransaction,
    opened: Opened,
) -> Result<Box<dyn IndexWrite + 'a>> {
    open_write_named::<K, V>(txn, opened.table, opened)
}

/// Opens the index table `name` for writing (which `opened.table` names in errors).
fn open_write_named<'a, K: StoredKey, V: EntryValue>(
    txn: &'a redb::WriteTransaction,
    name: &str,
    opened: Opened,
) -> Result<Box<dyn IndexWrite + 'a>> {
    let table = txn.open_table(redb::TableDefinition::<K, V>::new(name))?;
    Ok(Box::new(Index::<_, K, V> {
        table,
        opened,
        _types: std::marker::PhantomData,
    }))
}

fn open_read<K: StoredKey + Send + Sync, V: EntryValue>(
    txn: &redb::ReadTransaction,
    opened: Opened,
) -> ReadOpened {
    open_read_named::<K, V>(txn, opened.table, opened)
}

/// Opens the index table `name` (which `opened.table` names in errors).
fn open_read_named<K: StoredKey + Send + Sync, V: EntryValue>(
    txn: &redb::ReadTransaction,
    name: &str,
    opened: Opened,
) -> ReadOpened {
    let table = txn.open_table(redb::TableDefinition::<K, V>::new(name))?;
    Ok(Box::new(Index::<_, K, V> {
        table,
        opened,
        _types: std::marker::PhantomData,
    }))
}

/// Splits a stored entry (see [`Split`]).
fn split<'x, V: EntryValue>(unique: bool, key: &'x [u8], value: &'x [u8]) -> Split<'x> {
    if unique {
        return Ok((key, value));
    }
    match V::tail() {
        Some(width) if key.len() > width => Ok(key.split_at(key.len() - width)),
        Some(_) => Err("the key is not longer than a primary key"),
        None if key.len() > value.len() && key.ends_with(value) => {
            Ok((&key[..key.len() - value.len()], value))
        }
        None => Err("the key does not end with the primary key that is its value"),
    }
}

impl<T, K, V> IndexRead for Index<T, K, V>
where
    T: ReadableTable<K, V>,
    K: StoredKey,
    V: EntryValue,
{
    fn get(
        &self,
        key: &[u8],
        found: &mut dyn FnMut(&[u8]),
    ) -> std::result::Result<bool, StorageError> {
        match self.table.get(key)? {
            Some(value) => {
                found(value.value());
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn range<'a>(
        &'a self,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> std::result::Result<Box<dyn EntryRange + 'a>, StorageError> {
        Ok(Box::new(Entries::<K, V> {
            range: Ordered::new(self.table.range::<&[u8]>(bounds)?, self.opened.table),
            opened: self.opened,
        }))
    }
}

/// An index's entries, checked to come in key order (`ordered.rs`).
struct Entries<'a, K: StoredKey, V: EntryValue> {
    range: Ordered<'a, K, V>,
    opened: Opened,
}

impl<K: StoredKey, V: EntryValue> EntryRange for Entries<'_, K, V> {
    fn step(
        &mut self,
        step: Step,
        entry: &mut dyn FnMut(&[u8], Split<'_>),
    ) -> Option<std::result::Result<(), StorageError>> {
        let unique = self.opened.unique;
        let mut hand = |(key, value): (AccessGuard<'_, K>, AccessGuard<'_, V>)| {
            let key = key.value();
            entry(key, split::<V>(unique, key, value.value()));
            Ok(())
        };
        // A single step hands the entry over in place (`Ordered::next_with`): the steps of
        // every lookup and index scan. A skip steps over `n` entries first.
        match step {
            Step::Front(0) => self.range.next_with(End::Front, hand),
            Step::Back(0) => self.range.next_with(End::Back, hand),
            Step::Front(n) => self.range.nth(n).map(|item| item.and_then(&mut hand)),
            Step::Back(n) => self.range.nth_back(n).map(|item| item.and_then(&mut hand)),
        }
    }

    fn next_primary(
        &mut self,
        step: Step,
        entry: &mut dyn FnMut(&[u8], &[u8]),
    ) -> Option<Result<()>> {
        let mut malformed = None;
        let stepped = self.step(step, &mut |key, split| match split {
            Ok((_, primary)) => entry(key, primary),
            Err(why) => malformed = Some(format!("entry {key:?}: {why}")),
        })?;
        Some(match (stepped, malformed) {
            (Err(error), _) => Err(error.into()),
            (Ok(()), Some(detail)) => Err(Error::Inconsistent {
                table: self.opened.table,
                detail,
            }),
            (Ok(()), None) => Ok(()),
        })
    }
}

impl<K: StoredKey, V: EntryValue> Index<redb::Table<'_, K, V>, K, V> {
    /// Refuses a key or value of the wrong width before it reaches redb's fixed-width pages
    /// (generated code never makes one).
    fn check_widths(&self, key: &[u8], value: &[u8]) -> Result<()> {
        Self::check_widths_of(self.opened, key, value)
    }

    fn check_widths_of(opened: Opened, key: &[u8], value: &[u8]) -> Result<()> {
        let wrong = |what: &str, len: usize, width: usize| Error::Inconsistent {
            table: opened.table,
            detail: format!("an entry {what} of {len} bytes for a table of {width}-byte {what}s"),
        };
        if let Some(width) = K::fixed_width()
            && key.len() != width
        {
            return Err(wrong("key", key.len(), width));
        }
        if let Some(width) = V::fixed_width()
            && value.len() != width
        {
            return Err(wrong("value", value.len(), width));
        }
        Ok(())
    }

    fn value(primary: &[u8]) -> &[u8] {
        if V::tail().is_some() { &[] } else { primary }
    }
}

impl<K: StoredKey, V: EntryValue> IndexWrite for Index<redb::Table<'_, K, V>, K, V> {
    fn insert(&mut self, key: &[u8], primary: &[u8]) -> Result<()> {
        let value = Self::value(primary);
        self.check_widths(key, value)?;
        self.table.insert(key, value)?;
        Ok(())
    }

    fn claim(&mut self, key: &[u8], primary: &[u8], owner: &mut Vec<u8>) -> Result<Claim> {
        self.check_widths(key, primary)?;
        Ok(match self.table.insert(key, primary)? {
            None => Claim::New,
            Some(previous) if previous.value() == primary => Claim::Ours,
            Some(previous) => {
                owner.clear();
                owner.extend_from_slice(previous.value());
                Claim::Taken
            }
        })
    }

    fn remove(&mut self, key: &[u8]) -> Result<()> {
        self.table.remove(key)?;
        Ok(())
    }

    fn remove_if_ours(&mut self, key: &[u8], primary: &[u8]) -> Result<()> {
        let ours = self
            .table
            .get(key)?
            .is_some_and(|owner| owner.value() == primary);
        if ours {
            self.table.remove(key)?;
        }
        Ok(())
    }

    fn clear(&mut self) -> Result<()> {
        self.table.retain(|_, _| false)?;
        Ok(())
    }

    fn last_key(&self, out: &mut Vec<u8>) -> Result<bool> {
        let Some((key, _)) = self.table.last()? else {
            return Ok(false);
        };
        out.clear();
        out.extend_from_slice(key.value());
        Ok(true)
    }

    fn next_key(&self, from: &[u8], out: &mut Vec<u8>) -> Result<bool> {
        let Some(entry) = self.table.range::<&[u8]>(from..)?.next() else {
            return Ok(false);
        };
        out.clear();
        out.extend_from_slice(entry?.0.value());
        Ok(true)
    }

    fn insert_run<'e>(
        &mut self,
        entries: &mut dyn Iterator<Item = (&'e [u8], &'e [u8])>,
    ) -> Result<()> {
        let opened = self.opened;
        let pairs = entries.map(|(key, primary)| (key, Self::value(primary)));
        let mut pairs = Checked::new(pairs, |key: &[u8], value: &[u8]| {
            Self::check_widths_of(opened, key, value)
        });
        insert_run(&mut self.table, opened.table, &mut pairs)
    }
}

/// The types of an index table as a database's stored layout gives them (its key's `entry`
/// lines: `entry key fixed W`, `entry value fixed N`, `entry value tail N`; none for bytes), to
/// read the table without the generated code (the schema-less salvage).
///
/// redb checks a table's key and value types by name and width, which generated code fixes at
/// compile time (`Fixed<W>`, `Tail<N>`); here they are known only at run time. Every index
/// table is opened through the one pair of stand-ins `AnyStored<INDEX_KEY>` and
/// `AnyStored<INDEX_VALUE>` (see `tree/stored.rs`), whose types are set in a thread-local for
/// the duration of one [`StoredIndex::read`] or [`StoredIndex::write`] on this thread, and the
/// opened table is usable only inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredIndex {
    /// `Bytes` or `Fixed`.
    key: StoredType,
    /// `Bytes`, `Fixed` or `Tail`.
    value: StoredType,
}

/// The name the errors of an index opened by [`StoredIndex`] give its table (its name is known
/// only at run time; the salvage reports none of their errors by name, and a schema-less
/// migration writes only entries of the widths the table was opened with).
const STORED_INDEX: &str = "an index table read by its stored layout";

/// The key and value types of every index table opened by its stored layout.
type StoredKeyType = AnyStored<INDEX_KEY>;
type StoredValueType = AnyStored<INDEX_VALUE>;

impl StoredIndex {
    /// The types an index's entry lines give; `None` for a line it does not know.
    pub(crate) fn parse(lines: &[String]) -> Option<Self> {
        let width = |rest: &str| rest.parse::<usize>().ok().filter(|&w| w > 0);
        let mut out = Self {
            key: StoredType::Bytes,
            value: StoredType::Bytes,
        };
        for line in lines {
            if let Some(rest) = line.strip_prefix("entry key fixed ") {
                out.key = StoredType::Fixed(width(rest)?);
            } else if let Some(rest) = line.strip_prefix("entry value fixed ") {
                out.value = StoredType::Fixed(width(rest)?);
            } else if let Some(rest) = line.strip_prefix("entry value tail ") {
                out.value = StoredType::Tail(width(rest)?);
            } else {
                return None;
            }
        }
        Some(out)
    }

    /// Calls `read` with the index table `name` of `txn` opened with these types, or with why
    /// it could not be opened.
    pub(crate) fn read<T>(
        &self,
        txn: &redb::ReadTransaction,
        name: &str,
        unique: bool,
        read: impl FnOnce(std::result::Result<&dyn IndexRead, redb::TableError>) -> T,
    ) -> T {
        let opened = Opened {
            table: STORED_INDEX,
            unique,
        };
        let _types = self.set_types();
        // Dropped (at the end of the `match` below) before `_types`: the table is never used
        // without its types.
        let table = open_read_named::<StoredKeyType, StoredValueType>(txn, name, opened);
        match table {
            Ok(index) => read(Ok(&*index)),
            Err(error) => read(Err(error)),
        }
    }

    /// Calls `write` with the index table `name` of `txn` opened for writing with these types
    /// (created if it does not exist): a schema-less migration builds an index through it.
    /// The table is usable only inside `write`, where its types are set.
    pub(crate) fn write<T>(
        &self,
        txn: &redb::WriteTransaction,
        name: &str,
        unique: bool,
        write: impl FnOnce(&mut dyn IndexWrite) -> Result<T>,
    ) -> Result<T> {
        let opened = Opened {
            table: STORED_INDEX,
            unique,
        };
        let _types = self.set_types();
        let mut table = open_write_named::<StoredKeyType, StoredValueType>(txn, name, opened)?;
        write(&mut *table)
    }

    /// Sets this thread's [`StoredTypes`] of the index key and value slots to these types,
    /// until the returned guards drop (the value's first: a tuple drops in order, and each
    /// guard restores the types it found).
    fn set_types(&self) -> (StoredTypes, StoredTypes) {
        let key = StoredTypes::set(INDEX_KEY, self.key);
        (StoredTypes::set(INDEX_VALUE, self.value), key)
    }
}

impl<const SLOT: usize> EntryValue for AnyStored<SLOT> {
    fn tail() -> Option<usize> {
        match stored_type(SLOT) {
            StoredType::Tail(n) => Some(n),
            StoredType::Bytes | StoredType::Fixed(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_or_say_why() {
        let entry = [1, 2, 3, 9, 9, 9, 9, 9, 9, 9, 9];
        // Unique: the key is the secondary key, the value the primary key.
        assert_eq!(
            split::<&[u8]>(true, b"ab", b"pk"),
            Ok((&b"ab"[..], &b"pk"[..]))
        );
        // A primary key in the key's tail.
        assert_eq!(
            split::<Tail<8>>(false, &entry, &[]),
            Ok((&entry[..3], &entry[3..]))
        );
        assert!(split::<Tail<8>>(false, &entry[..8], &[]).is_err());
        assert!(split::<Tail<8>>(false, &[], &[]).is_err());
        // A primary key as the value, which the key ends with.
        assert_eq!(
            split::<&[u8]>(false, b"abpk", b"pk"),
            Ok((&b"ab"[..], &b"pk"[..]))
        );
        assert!(split::<&[u8]>(false, b"abpk", b"xx").is_err());
        assert!(split::<&[u8]>(false, b"pk", b"pk").is_err());
    }

    /// Every kind of index table the generated code writes is read back through the types
    /// its stored entry lines give, and a line that does not match the table is an error.
    #[test]
    fn stored_indexes_read_every_kind_of_index_table() {
        type B = &'static [u8];
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let pk = |n: u8| [n; 8];
        // (table, entry lines, unique, layout)
        type Kind = (&'static str, &'static [&'static str], bool, IndexLayout);
        let kinds: [Kind; 6] = [
            ("bb", &[], false, IndexLayout::new::<B, B>()),
            (
                "bf",
                &["entry value fixed 8"],
                true,
                IndexLayout::new::<B, Fixed<8>>(),
            ),
            (
                "bt",
                &["entry value tail 8"],
                false,
                IndexLayout::new::<B, Tail<8>>(),
            ),
            (
                "fb",
                &["entry key fixed 4"],
                true,
                IndexLayout::new::<Fixed<4>, B>(),
            ),
            (
                "ff",
                &["entry key fixed 4", "entry value fixed 8"],
                true,
                IndexLayout::new::<Fixed<4>, Fixed<8>>(),
            ),
            (
                "ft",
                &["entry key fixed 12", "entry value tail 8"],
                false,
                IndexLayout::new::<Fixed<12>, Tail<8>>(),
            ),
        ];
        // A unique entry's key is the secondary key; a non-unique one's ends with the primary key.
        let entry_key = |table: &str, n: u8| -> Vec<u8> {
            match table {
                "bb" | "bt" => [&[b'k', n][..], &pk(n)].concat(),
                "bf" => vec![b'k', n],
                "ft" => [&[n, 0, 0, 0][..], &pk(n)].concat(),
                _ => vec![n, 1, 2, 3],
            }
        };
        let txn = db.begin_write().unwrap();
        for (table, _, unique, layout) in &kinds {
            let mut index = layout.open_write(&txn, table, *unique).unwrap();
            for n in 1..=3 {
                index.insert(&entry_key(table, n), &pk(n)).unwrap();
            }
        }
        txn.commit().unwrap();
        let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
        for (table, lines, unique, _) in &kinds {
            let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let stored = StoredIndex::parse(&lines).unwrap();
            let primaries = stored.read(&txn, table, *unique, |index| {
                let index = index.unwrap();
                let mut entries = index.range((Bound::Unbounded, Bound::Unbounded)).unwrap();
                let mut primaries = Vec::new();
                while let Some(step) = entries.next_primary(Step::Front(0), &mut |_, primary| {
                    primaries.push(primary.to_vec())
                }) {
                    step.unwrap();
                }
                primaries
            });
            assert_eq!(primaries, [pk(1), pk(2), pk(3)], "{table}");
        }
        // Widths that do not match the table: redb refuses to open it.
        let wrong = StoredIndex::parse(&["entry key fixed 5".to_owned()]).unwrap();
        assert!(wrong.read(&txn, "fb", true, |index| index.is_err()));
        assert!(StoredIndex::parse(&["entry key fixed 0".to_owned()]).is_none());
        assert!(StoredIndex::parse(&["entry key of some other kind".to_owned()]).is_none());
        // The widths are unset again after a read.
        assert_eq!(
            [INDEX_KEY, INDEX_VALUE].map(stored_type),
            [StoredType::Bytes; 2]
        );
    }
}
