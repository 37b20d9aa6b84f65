//! The key types of record tables. A model whose primary key encodes to a fixed number of bytes
//! (integers, floats, `bool`, `char` and tuples of them) stores its records under [`Fixed<N>`]
//! keys; any other model under `&[u8]`. Both hold the same order-preserving bytes; a fixed width
//! lets redb skip its per-entry offsets and compare keys inline, which makes every B-tree
//! descent cheaper.

use redb::{Key, Value};
use std::cmp::Ordering;

/// The key type of a model's record table, chosen by the generated code
/// ([`Model::StoredKey`](crate::Model::StoredKey)): [`Fixed<N>`] or `&'static [u8]`. Either way a
/// key is seen as the bytes of its encoding, and nothing about it can fail to decode inside redb.
pub trait StoredKey: Key + for<'a> Value<SelfType<'a> = &'a [u8]> + 'static {}

impl StoredKey for &'static [u8] {}

/// A key of exactly `N` bytes, compared as bytes (big-endian words, inline). Declared to redb
/// as fixed-width, so it stores no length per entry.
#[derive(Debug)]
pub enum Fixed<const N: usize> {}

impl<const N: usize> StoredKey for Fixed<N> {}

raw_bytes_value!([const N: usize] Fixed<N>, width: Some(N), name: format!("netabase_runtime::Fixed<{N}>"));

impl<const N: usize> Key for Fixed<N> {
    #[inline]
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        match (<&[u8; N]>::try_from(a), <&[u8; N]>::try_from(b)) {
            (Ok(a), Ok(b)) => compare_words(a, b),
            // A bound shorter than a key (a range's `prefix_end`): plain byte order.
            _ => a.cmp(b),
        }
    }
}

/// Byte order, compared eight bytes at a time as big-endian words.
#[inline]
fn compare_words<const N: usize>(a: &[u8; N], b: &[u8; N]) -> Ordering {
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    for (a, b) in a_words.iter().zip(b_words) {
        match u64::from_be_bytes(*a).cmp(&u64::from_be_bytes(*b)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
    }
    a_rest.cmp(b_rest)
}

// Widths known only at run time.
//
// redb checks a table's key and value types by name and width, which generated code fixes at
// compile time (`Fixed<W>`, `Tail<N>`). Code that knows a table's widths only from a stored
// layout (reading, salvaging or re-keying a file without its generated code) reads it through
// `AnyFixed<SLOT>` and `AnyTail`, whose width is a thread-local set for the duration of one
// call. One instantiation of redb's B-tree code serves every width: an instantiation per width
// (1 to 64) made this crate's build three times as long.

/// The slot of the record key's width (a record table read by its stored layout).
pub(crate) const RECORD_KEY: usize = 0;
/// The slot of an index table's key width.
pub(crate) const INDEX_KEY: usize = 1;
/// The slot of an index table's value width (`Fixed` or `Tail`).
pub(crate) const INDEX_VALUE: usize = 2;

thread_local! {
    /// The widths of [`AnyFixed`] (and `AnyTail`) on this thread, by slot (0: unset).
    static WIDTHS: std::cell::Cell<[usize; 3]> = const { std::cell::Cell::new([0; 3]) };
}

/// Sets the width of one slot of [`AnyFixed`] on this thread until dropped (also when a
/// contained panic unwinds through it), then restores the widths as they were. Guards are
/// scoped, so they drop in the reverse order of their setting.
pub(crate) struct StoredWidths([usize; 3]);

impl StoredWidths {
    pub(crate) fn set(slot: usize, width: usize) -> Self {
        Self(WIDTHS.with(|w| {
            let before = w.get();
            let mut now = before;
            now[slot] = width;
            w.set(now);
            before
        }))
    }
}

impl Drop for StoredWidths {
    fn drop(&mut self) {
        WIDTHS.with(|w| w.set(self.0));
    }
}

/// The width in `slot` of this thread's [`StoredWidths`].
pub(crate) fn stored_width(slot: usize) -> usize {
    WIDTHS.with(|w| w.get()[slot])
}

/// [`Fixed<W>`](Fixed) for the width `W` in slot `SLOT` of this thread's [`StoredWidths`]: the
/// same name, width and order, so redb reads and writes a `Fixed<W>` table through it.
#[derive(Debug)]
pub(crate) enum AnyFixed<const SLOT: usize> {}

raw_bytes_value!([const SLOT: usize] AnyFixed<SLOT>, width: Some(stored_width(SLOT)), name: format!("netabase_runtime::Fixed<{}>", stored_width(SLOT)));

impl<const SLOT: usize> Key for AnyFixed<SLOT> {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        // `Fixed` compares big-endian words, which is byte order.
        a.cmp(b)
    }
}

impl<const SLOT: usize> StoredKey for AnyFixed<SLOT> {}

/// Runs `$body` with the type alias `$k` naming `Fixed<W>` for the width `W` that `$width`
/// holds at run time ([`AnyFixed`] in the [`RECORD_KEY`] slot), or evaluates `$otherwise` for
/// a width of 0. A table opened in `$body` must not outlive it.
macro_rules! with_fixed_width {
    ($width:expr, $k:ident => $body:expr, _ => $otherwise:expr) => {
        match $width {
            0 => $otherwise,
            width => {
                let _width = $crate::tree::StoredWidths::set($crate::tree::RECORD_KEY, width);
                type $k = $crate::tree::AnyFixed<{ $crate::tree::RECORD_KEY }>;
                $body
            }
        }
    };
}
pub(crate) use with_fixed_width;

#[cfg(test)]
mod tests {
    use super::*;

    fn check<const N: usize>(keys: &[[u8; N]]) {
        for a in keys {
            for b in keys {
                assert_eq!(Fixed::<N>::compare(a, b), a.cmp(b), "{a:?} {b:?}");
                // Against a shorter bound, byte order too.
                assert_eq!(Fixed::<N>::compare(a, &b[..N / 2]), a[..].cmp(&b[..N / 2]));
            }
        }
    }

    /// A record table read by its stored layout stays readable while an index table is read
    /// inside it (the salvage's index-guided lookups): each guard restores what it replaced.
    #[test]
    fn stored_widths_nest_and_restore() {
        let widths = || [RECORD_KEY, INDEX_KEY, INDEX_VALUE].map(stored_width);
        {
            let _record = StoredWidths::set(RECORD_KEY, 8);
            {
                let _key = StoredWidths::set(INDEX_KEY, 4);
                let _value = StoredWidths::set(INDEX_VALUE, 12);
                assert_eq!(widths(), [8, 4, 12]);
                assert_eq!(AnyFixed::<RECORD_KEY>::fixed_width(), Some(8));
                assert_eq!(
                    AnyFixed::<INDEX_KEY>::type_name(),
                    redb::TypeName::new("netabase_runtime::Fixed<4>")
                );
            }
            assert_eq!(widths(), [8, 0, 0]);
        }
        assert_eq!(widths(), [0, 0, 0]);
        // The name and width redb checks are those of `Fixed<W>`.
        let _record = StoredWidths::set(RECORD_KEY, 12);
        assert_eq!(
            AnyFixed::<RECORD_KEY>::type_name(),
            Fixed::<12>::type_name()
        );
        assert_eq!(
            AnyFixed::<RECORD_KEY>::fixed_width(),
            Fixed::<12>::fixed_width()
        );
    }

    #[test]
    fn fixed_keys_compare_as_bytes() {
        let words = [0u64, 1, 255, 256, u64::MAX >> 1, 1 << 63, u64::MAX];
        check(&words.map(u64::to_be_bytes));
        check(&words.map(|w| (w as u32).to_be_bytes()));
        let twelve: Vec<[u8; 12]> = words
            .iter()
            .flat_map(|&w| {
                [0u32, 7, u32::MAX].map(|t| {
                    let mut out = [0; 12];
                    out[..8].copy_from_slice(&w.to_be_bytes());
                    out[8..].copy_from_slice(&t.to_be_bytes());
                    out
                })
            })
            .collect();
        check(&twelve);
        check(&[[0u8; 1], [1], [255]]);
    }
}
