//! Iteration over a redb range that always ends, whatever the file holds.
//!
//! A B-tree yields strictly increasing keys from the front and strictly decreasing ones from
//! the back, the two ends never crossing. A damaged page can link the tree into a cycle (a
//! branch pointing back to a page already visited), and redb then iterates forever without
//! a panic to contain: every step succeeds and the same entries come round again. The damage
//! test met exactly that (`tests/tests/it/reliability_damage.rs`). [`Ordered`] wraps a
//! [`redb::Range`] and checks every [`CHECK_EVERY`]th key against the last one it checked at
//! the same end and at the other end (with the table's own comparison,
//! [`redb::Key::compare`]); a key out of order is `StorageError::Corrupted` naming the table,
//! which the containment boundary reports as [`Error::Corrupted`](crate::Error::Corrupted).
//! After any error the iteration is fused: it returns `None`, so a loop that skips errors
//! still ends.
//!
//! Why every iteration ends although not every key is checked: an iteration that never ends
//! over a file of finitely many pages goes round a cycle, so the keys it yields repeat with
//! some period, and so do the keys at every `CHECK_EVERY`th step; a sequence that repeats
//! cannot strictly increase, so a check fails within a few rounds of the cycle. A healthy tree
//! never fails a check (its keys strictly increase at every step, so at every sampled step
//! too). A damaged page that only swaps some keys, without a cycle, may go unseen by the
//! iteration; `check_integrity` reads every page.
//!
//! The cost: a counter per step, and one key comparison and copy every `CHECK_EVERY` steps
//! (checking every step cost a range scan 8% more instructions than raw redb's).

use redb::{AccessGuard, Key, StorageError, Value};
use std::cmp::Ordering;

/// An entry of a range, as redb yields it.
pub(crate) type Entry<'a, K, V> = Result<(AccessGuard<'a, K>, AccessGuard<'a, V>), StorageError>;

/// How many steps apart the keys of an [`Ordered`] range are checked.
pub(crate) const CHECK_EVERY: u32 = 16;

/// A [`redb::Range`] whose keys are checked to come in order (see the module docs).
pub(crate) struct Ordered<'a, K: Key + 'static, V: Value + 'static> {
    range: redb::Range<'a, K, V>,
    order: KeyOrder,
    /// Steps until the next check.
    countdown: u32,
    /// The table's name, for the error.
    table: &'a str,
    fused: bool,
}

impl<'a, K: Key + 'static, V: Value + 'static> Ordered<'a, K, V> {
    /// Wraps `range`, a range of the table named `table`.
    pub(crate) fn new(range: redb::Range<'a, K, V>, table: &'a str) -> Self {
        Self {
            range,
            order: KeyOrder::default(),
            countdown: 1,
            table,
            fused: false,
        }
    }

    /// Checks the entry `item` read at `end`: the error that fuses the range, if it is one.
    ///
    /// Always inlined, with the key comparison (one entry in [`CHECK_EVERY`]) out of line: the
    /// compiler once stopped inlining the whole check into the record iterator's step after an
    /// unrelated change elsewhere in the crate, and the 10,000-row scan went from 13.60 M to
    /// 13.84 M instructions.
    #[inline(always)]
    fn check(&mut self, end: End, item: &Option<Entry<'a, K, V>>) -> Option<StorageError> {
        match item {
            Some(Ok(_)) if self.countdown > 1 => {
                self.countdown -= 1;
                None
            }
            Some(Ok((key, _))) => self.check_order(end, key),
            Some(Err(_)) => {
                self.fused = true;
                None
            }
            None => None,
        }
    }

    /// Checks that `key`, read at `end`, comes after the keys read before it at that end.
    #[inline(never)]
    fn check_order(&mut self, end: End, key: &AccessGuard<'a, K>) -> Option<StorageError> {
        self.countdown = CHECK_EVERY;
        let key = key.value();
        if self
            .order
            .admit(K::as_bytes(&key).as_ref(), end, K::compare)
        {
            return None;
        }
        self.fused = true;
        Some(out_of_order(self.table))
    }

    /// The next entry at `end`, handed to `make`; `next` and `next_back` are this with `Ok`.
    ///
    /// Why a closure: an entry is two page guards (160 bytes). Returned through this adapter
    /// and then handed to a decoder, it was copied two to three times a step (calls to
    /// `memcpy`, where raw redb's loop makes one). Checked by reference and handed to `make`
    /// here, it is not copied. Always inlined: left to the compiler, the index entries' step
    /// called it out of line, which cost their lookups more instructions than the copies saved
    /// (the 10 non-unique lookups 56.57 M instead of 56.20 M, `by_age_ref` 53.11 M instead of
    /// 52.29 M).
    #[inline(always)]
    pub(crate) fn next_with<T, E: From<StorageError>>(
        &mut self,
        end: End,
        make: impl FnOnce((AccessGuard<'a, K>, AccessGuard<'a, V>)) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        if self.fused {
            return None;
        }
        let item = match end {
            End::Front => self.range.next(),
            End::Back => self.range.next_back(),
        };
        if let Some(error) = self.check(end, &item) {
            return Some(Err(error.into()));
        }
        Some(item?.map_err(E::from).and_then(make))
    }
}

impl<'a, K: Key + 'static, V: Value + 'static> Iterator for Ordered<'a, K, V> {
    type Item = Entry<'a, K, V>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.next_with(End::Front, Ok)
    }
}

impl<K: Key + 'static, V: Value + 'static> DoubleEndedIterator for Ordered<'_, K, V> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.next_with(End::Back, Ok)
    }
}

/// The error of an entry out of key order.
pub(crate) fn out_of_order(table: &str) -> StorageError {
    StorageError::Corrupted(format!(
        "the entries of table `{table}` come out of key order: its pages are damaged"
    ))
}

/// Which end of a range a step reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// `next`: keys increase.
    Front,
    /// `next_back`: keys decrease.
    Back,
}

/// The last key yielded at each end of a range.
#[derive(Default, Debug)]
pub(crate) struct KeyOrder {
    front: Option<Vec<u8>>,
    back: Option<Vec<u8>>,
}

impl KeyOrder {
    /// Whether `key`, read at `end`, comes strictly after the last key read there and before
    /// the last key read at the other end; if so, remembers it.
    #[inline]
    pub(crate) fn admit(
        &mut self,
        key: &[u8],
        end: End,
        compare: impl Fn(&[u8], &[u8]) -> Ordering,
    ) -> bool {
        let (same, other, wanted) = match end {
            End::Front => (&mut self.front, &self.back, Ordering::Greater),
            End::Back => (&mut self.back, &self.front, Ordering::Less),
        };
        let beyond = |bound: &Option<Vec<u8>>, ordering| {
            bound
                .as_deref()
                .is_none_or(|bound| compare(key, bound) == ordering)
        };
        if !beyond(same, wanted) || !beyond(other, wanted.reverse()) {
            return false;
        }
        let buffer = same.get_or_insert_with(Vec::new);
        buffer.clear();
        buffer.extend_from_slice(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableTable;

    fn bytes(a: &[u8], b: &[u8]) -> Ordering {
        a.cmp(b)
    }

    #[test]
    fn keys_must_strictly_increase_from_the_front_and_decrease_from_the_back() {
        let mut order = KeyOrder::default();
        assert!(order.admit(b"b", End::Front, bytes));
        assert!(order.admit(b"c", End::Front, bytes));
        // A repeat or a step back is refused (a cycle in the page graph).
        assert!(!order.admit(b"c", End::Front, bytes));
        assert!(!order.admit(b"a", End::Front, bytes));
        assert!(order.admit(b"x", End::Back, bytes));
        assert!(!order.admit(b"y", End::Back, bytes));
        // The two ends must not cross.
        assert!(!order.admit(b"x", End::Front, bytes));
        assert!(!order.admit(b"c", End::Back, bytes));
        assert!(order.admit(b"d", End::Back, bytes));
    }

    /// An empty database in memory.
    fn in_memory() -> redb::Database {
        redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap()
    }

    #[test]
    fn a_range_read_from_both_ends_yields_every_key_once() {
        let db = in_memory();
        let table: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("t");
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(table).unwrap();
            for k in 0..10u64 {
                t.insert(k, k * 2).unwrap();
            }
            // Whole ranges in both directions, mixed: every key once.
            let mut both = Ordered::new(t.range(2..8).unwrap(), "t");
            let mut seen = Vec::new();
            while let Some(front) = both.next() {
                seen.push(front.unwrap().0.value());
                if let Some(back) = both.next_back() {
                    seen.push(back.unwrap().0.value());
                }
            }
            assert_eq!(seen, [2, 7, 3, 6, 4, 5]);
        }
        txn.commit().unwrap();
        // u64 keys compare as numbers, not bytes (little-endian): 256 > 1.
        let mut order = KeyOrder::default();
        let mut admit = |k: u64| order.admit(&k.to_le_bytes(), End::Front, <u64 as Key>::compare);
        assert!(admit(1) && admit(256) && !admit(2));
        assert_eq!(
            out_of_order("Lib/Book").to_string(),
            "DB corrupted: the entries of table `Lib/Book` come out of key order: its pages \
             are damaged"
        );
    }

    thread_local! {
        /// Whether [`Flippable`] keys compare in reverse: flipped after the inserts, the
        /// stored order is wrong for the comparison, as after damage to the pages.
        static FLIPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// A `u64` key whose comparison can be turned around.
    #[derive(Debug)]
    struct Flippable;

    impl Value for Flippable {
        type SelfType<'a> = u64;
        type AsBytes<'a> = [u8; 8];
        fn fixed_width() -> Option<usize> {
            Some(8)
        }
        fn from_bytes<'a>(data: &'a [u8]) -> u64
        where
            Self: 'a,
        {
            u64::from_be_bytes(data.try_into().unwrap())
        }
        fn as_bytes<'a, 'b: 'a>(value: &'a u64) -> [u8; 8]
        where
            Self: 'b,
        {
            value.to_be_bytes()
        }
        fn type_name() -> redb::TypeName {
            redb::TypeName::new("flippable")
        }
    }

    impl Key for Flippable {
        fn compare(a: &[u8], b: &[u8]) -> Ordering {
            let ordering = a.cmp(b);
            if FLIPPED.get() {
                ordering.reverse()
            } else {
                ordering
            }
        }
    }

    #[test]
    fn a_range_whose_keys_come_out_of_order_ends_with_an_error_from_either_end() {
        let db = in_memory();
        let table: redb::TableDefinition<Flippable, u64> = redb::TableDefinition::new("t");
        let txn = db.begin_write().unwrap();
        let mut t = txn.open_table(table).unwrap();
        for k in 0..100u64 {
            t.insert(k, k).unwrap();
        }
        FLIPPED.set(true);
        for end in [End::Front, End::Back] {
            let mut range = Ordered::new(t.range::<u64>(..).unwrap(), "t");
            let mut keys = Vec::new();
            let error = loop {
                match range.next_with(end, |(key, _)| Ok::<_, StorageError>(key.value())) {
                    Some(Ok(key)) => keys.push(key),
                    Some(Err(error)) => break error,
                    None => panic!("the range ended without finding the keys out of order"),
                }
            };
            // The first key is checked (nothing to compare it with) and admitted; the next
            // check, CHECK_EVERY steps later, finds the order broken.
            let first = if end == End::Front { 0 } else { 99 };
            let expected: Vec<u64> = match end {
                End::Front => (first..first + u64::from(CHECK_EVERY)).collect(),
                End::Back => (first + 1 - u64::from(CHECK_EVERY)..=first).rev().collect(),
            };
            assert_eq!(keys, expected);
            assert_eq!(error.to_string(), out_of_order("t").to_string());
            // Fused: nothing after the error, from either end.
            assert!(range.next().is_none());
            assert!(range.next_back().is_none());
        }
        FLIPPED.set(false);
    }
}
