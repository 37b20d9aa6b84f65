//! Key ranges as bounds on encoded bytes. One transformation serves primary keys, unique
//! indexes and non-unique indexes alike, because every key encoding is self-delimiting: the
//! entries of one key value `v` are exactly the byte strings that start with `enc(v)`, and
//! `enc(u) < enc(v)` implies `enc(u) ++ x < enc(v) ++ y` for any suffixes.

use crate::codec::{KeyPart, prefix_end};
use std::ops::{Bound, RangeBounds};

/// A range of encoded keys: what every scan, count and cursor takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBounds {
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
}

impl KeyBounds {
    /// Every key.
    pub fn all() -> Self {
        Self {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
        }
    }

    /// The keys within `range`, compared as the key type compares.
    pub fn range<K: KeyPart + ?Sized, R: RangeBounds<K>>(range: &R) -> Self {
        let encode = |key: &K| {
            let mut out = Vec::new();
            key.encode_key(&mut out);
            out
        };
        let start = match range.start_bound() {
            Bound::Unbounded => Bound::Unbounded,
            Bound::Included(key) => Bound::Included(encode(key)),
            // Past every entry that starts with the key.
            Bound::Excluded(key) => match prefix_end(&encode(key)) {
                Some(end) => Bound::Included(end),
                None => return Self::empty(),
            },
        };
        let end = match range.end_bound() {
            Bound::Unbounded => Bound::Unbounded,
            Bound::Excluded(key) => Bound::Excluded(encode(key)),
            // Up to and including every entry that starts with the key.
            Bound::Included(key) => match prefix_end(&encode(key)) {
                Some(end) => Bound::Excluded(end),
                None => Bound::Unbounded,
            },
        };
        Self { start, end }.checked()
    }

    /// Every entry of exactly this key value (of an index: all its records).
    pub fn exact<K: KeyPart + ?Sized>(key: &K) -> Self {
        let mut encoded = Vec::new();
        key.encode_key(&mut encoded);
        Self::prefix(encoded)
    }

    /// The keys whose encoding starts with `prefix`: the leading components of a composite key,
    /// or all entries of one index value.
    pub fn prefix(prefix: Vec<u8>) -> Self {
        let end = match prefix_end(&prefix) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        Self {
            start: Bound::Included(prefix),
            end,
        }
    }

    /// The string keys that start with `prefix` (the unterminated encoding of `prefix`).
    pub fn string_prefix(prefix: &str) -> Self {
        let mut encoded = Vec::new();
        prefix.encode_key(&mut encoded);
        encoded.truncate(encoded.len() - 2); // drop the terminator
        Self::prefix(encoded)
    }

    /// The keys after `key` within the entries of `prefix` (a cursor inside one index value).
    pub fn prefix_after(prefix: Vec<u8>, key: &[u8]) -> Self {
        let Self { end, .. } = Self::prefix(prefix.clone());
        let mut after = prefix;
        after.extend_from_slice(key);
        let start = match prefix_end(&after) {
            Some(start) => Bound::Included(start),
            None => return Self::empty(),
        };
        Self { start, end }.checked()
    }

    /// The entries of the key value `key` that come after the primary key `after`: a cursor
    /// inside one value of a non-unique index (generated `by_<key>_after` methods).
    pub fn exact_after<K: KeyPart + ?Sized, A: KeyPart + ?Sized>(key: &K, after: &A) -> Self {
        let mut encoded = Vec::new();
        key.encode_key(&mut encoded);
        let mut after_encoded = Vec::new();
        after.encode_key(&mut after_encoded);
        Self::prefix_after(encoded, &after_encoded)
    }

    fn empty() -> Self {
        Self {
            start: Bound::Included(Vec::new()),
            end: Bound::Excluded(Vec::new()),
        }
    }

    /// An inverted range (start after end) is empty, never a panic.
    fn checked(self) -> Self {
        let inverted = match (&self.start, &self.end) {
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s), Bound::Excluded(e)) => s > e,
            (Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) => s >= e,
            _ => false,
        };
        if inverted { Self::empty() } else { self }
    }

    /// Whether the encoded key `key` is within the bounds.
    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        RangeBounds::<&[u8]>::contains(&self.as_redb(), &key)
    }

    pub(crate) fn as_redb(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_ref(&self.start), as_ref(&self.end))
    }
}

fn as_ref(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(b) => Bound::Included(b.as_slice()),
        Bound::Excluded(b) => Bound::Excluded(b.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(bounds: &KeyBounds, key: &[u8]) -> bool {
        let (start, end) = bounds.as_redb();
        (start, end).contains(&key)
    }

    fn enc<K: KeyPart + ?Sized>(k: &K) -> Vec<u8> {
        let mut out = Vec::new();
        k.encode_key(&mut out);
        out
    }

    #[test]
    fn index_entries_fall_in_value_ranges() {
        // Non-unique entries are value ++ primary key.
        let entry = |v: i32, pk: u64| [enc(&v), enc(&pk)].concat();
        let incl = KeyBounds::range(&(-1i32..=3));
        assert!(contains(&incl, &entry(-1, 0)) && contains(&incl, &entry(3, u64::MAX)));
        assert!(!contains(&incl, &entry(4, 0)) && !contains(&incl, &entry(-2, u64::MAX)));
        let excl = KeyBounds::range(&(Bound::Excluded(-1i32), Bound::Excluded(3)));
        assert!(!contains(&excl, &entry(-1, u64::MAX)) && contains(&excl, &entry(0, 0)));
        assert!(!contains(&excl, &entry(3, 0)));
    }

    #[test]
    fn string_prefixes_match_starts_with() {
        let bounds = KeyBounds::string_prefix("San");
        for (s, inside) in [
            ("San", true),
            ("Santa Fe", true),
            ("Sam", false),
            ("Sao", false),
            ("Sa", false),
        ] {
            assert_eq!(contains(&bounds, &enc(s)), inside, "{s}");
        }
        let nul = KeyBounds::string_prefix("a\0");
        assert!(
            contains(&nul, &enc("a\0b"))
                && !contains(&nul, &enc("a"))
                && !contains(&nul, &enc("a\x01"))
        );
    }

    #[test]
    fn inverted_ranges_are_empty() {
        // Inverted on purpose: a user's computed bounds can cross.
        let bounds = KeyBounds::range(&(Bound::Included(5u64), Bound::Excluded(2u64)));
        assert!(!contains(&bounds, &enc(&3u64)) && !contains(&bounds, &enc(&5u64)));
        let same = KeyBounds::range(&(Bound::Included(5u64), Bound::Excluded(5u64)));
        assert!(!contains(&same, &enc(&5u64)));
    }

    #[test]
    fn cursor_starts_after_the_key_within_the_prefix() {
        let prefix = enc("Asia/Tokyo");
        let bounds = KeyBounds::prefix_after(prefix.clone(), &enc(&10u64));
        let entry = |pk: u64| [prefix.clone(), enc(&pk)].concat();
        assert!(!contains(&bounds, &entry(10)) && contains(&bounds, &entry(11)));
        assert!(!contains(
            &bounds,
            &[enc("Asia/Tokyp"), enc(&0u64)].concat()
        ));
    }
}
