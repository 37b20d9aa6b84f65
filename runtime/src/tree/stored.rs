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

/// Runs `$body` with the type alias `$k` naming [`Fixed<W>`](Fixed) for the width `W` that
/// `$width` holds at run time (1 to 64 bytes), or evaluates `$otherwise` for another width:
/// for code that knows a record table's key width only from a stored layout (reading or
/// salvaging a file without its schema), since redb checks a table's key type by name.
macro_rules! with_fixed_width {
    ($width:expr, $k:ident => $body:expr, _ => $otherwise:expr) => {
        $crate::tree::with_fixed_width!(@ $width, $k, $body, $otherwise;
            1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
            32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59
            60 61 62 63 64)
    };
    (@ $width:expr, $k:ident, $body:expr, $otherwise:expr; $($n:literal)*) => {
        match $width {
            $($n => {
                type $k = $crate::tree::Fixed<$n>;
                $body
            })*
            _ => $otherwise,
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
