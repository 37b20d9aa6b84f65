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

// Types known only at run time.
//
// redb checks a table's key and value types by name and width, which generated code fixes at
// compile time (`&[u8]`, `Fixed<W>`, `Tail<N>`). Code that knows a table's types only from a
// stored layout (inspecting, salvaging, re-keying or migrating a file without its generated
// code) opens it through `AnyStored<SLOT>`, whose name and width are those of the type a
// thread-local holds for the slot during one call. One instantiation of redb's B-tree code
// serves every width and kind: an instantiation per width (1 to 64) made this crate's build
// three times as long, and one per kind of index table (six) half as long again.

/// A stored key or value type, as a layout's `record key` and `entry` lines give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoredType {
    /// `&[u8]`: bytes of any length.
    Bytes,
    /// `Fixed<N>`: exactly `N` bytes (`N > 0`).
    Fixed(usize),
    /// `Tail<N>` (an index entry's value): nothing stored, the primary key is the entry key's
    /// last `N` bytes.
    Tail(usize),
}

impl StoredType {
    /// The width redb stores for it (`Tail` stores nothing: 0).
    fn fixed_width(self) -> Option<usize> {
        match self {
            Self::Bytes => None,
            Self::Fixed(n) => Some(n),
            Self::Tail(_) => Some(0),
        }
    }

    /// The name redb checks: the name of the type it stands for.
    fn type_name(self) -> redb::TypeName {
        match self {
            Self::Bytes => <&[u8]>::type_name(),
            Self::Fixed(n) => redb::TypeName::new(&format!("netabase_runtime::Fixed<{n}>")),
            Self::Tail(n) => redb::TypeName::new(&format!("netabase_runtime::Tail<{n}>")),
        }
    }
}

/// The slot of a record table's key.
pub(crate) const RECORD_KEY: usize = 0;
/// The slot of an index table's key.
pub(crate) const INDEX_KEY: usize = 1;
/// The slot of an index table's value.
pub(crate) const INDEX_VALUE: usize = 2;

thread_local! {
    /// The types of [`AnyStored`] on this thread, by slot.
    static TYPES: std::cell::Cell<[StoredType; 3]> =
        const { std::cell::Cell::new([StoredType::Bytes; 3]) };
}

/// Sets the type of one slot of [`AnyStored`] on this thread until dropped (also when a
/// contained panic unwinds through it), then restores the types as they were. Guards are
/// scoped, so they drop in the reverse order of their setting.
pub(crate) struct StoredTypes([StoredType; 3]);

impl StoredTypes {
    pub(crate) fn set(slot: usize, ty: StoredType) -> Self {
        Self(TYPES.with(|types| {
            let before = types.get();
            let mut now = before;
            now[slot] = ty;
            types.set(now);
            before
        }))
    }
}

impl Drop for StoredTypes {
    fn drop(&mut self) {
        TYPES.with(|types| types.set(self.0));
    }
}

/// The type in `slot` of this thread's [`StoredTypes`].
pub(crate) fn stored_type(slot: usize) -> StoredType {
    TYPES.with(|types| types.get()[slot])
}

/// The type in slot `SLOT` of this thread's [`StoredTypes`] (`&[u8]`, `Fixed<W>` or `Tail<N>`):
/// the same name, width and order, so redb reads and writes a table of that type through it.
#[derive(Debug)]
pub(crate) enum AnyStored<const SLOT: usize> {}

raw_bytes_value!([const SLOT: usize] AnyStored<SLOT>, width: stored_type(SLOT).fixed_width(), type_name: stored_type(SLOT).type_name());

impl<const SLOT: usize> Key for AnyStored<SLOT> {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        // `&[u8]` and `Fixed` (big-endian words) both compare in byte order.
        a.cmp(b)
    }
}

impl<const SLOT: usize> StoredKey for AnyStored<SLOT> {}

/// Evaluates `$body` with the type alias `$k` naming the record key type `$ty` (a
/// [`StoredType`]: [`AnyStored`] in the [`RECORD_KEY`] slot). A table opened in `$body` must
/// not outlive it.
macro_rules! with_record_key {
    ($ty:expr, $k:ident => $body:expr) => {{
        let _record_key = $crate::tree::StoredTypes::set($crate::tree::RECORD_KEY, $ty);
        type $k = $crate::tree::AnyStored<{ $crate::tree::RECORD_KEY }>;
        $body
    }};
}
pub(crate) use with_record_key;

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
    fn stored_types_nest_restore_and_stand_for_their_types() {
        use StoredType::*;
        let types = || [RECORD_KEY, INDEX_KEY, INDEX_VALUE].map(stored_type);
        {
            let _record = StoredTypes::set(RECORD_KEY, Fixed(8));
            {
                let _key = StoredTypes::set(INDEX_KEY, Fixed(4));
                let _value = StoredTypes::set(INDEX_VALUE, Tail(8));
                assert_eq!(types(), [Fixed(8), Fixed(4), Tail(8)]);
                assert_eq!(AnyStored::<RECORD_KEY>::fixed_width(), Some(8));
                assert_eq!(
                    AnyStored::<INDEX_KEY>::type_name(),
                    super::Fixed::<4>::type_name()
                );
                assert_eq!(
                    AnyStored::<INDEX_VALUE>::type_name(),
                    crate::Tail::<8>::type_name()
                );
                assert_eq!(
                    AnyStored::<INDEX_VALUE>::fixed_width(),
                    crate::Tail::<8>::fixed_width()
                );
            }
            assert_eq!(types(), [Fixed(8), Bytes, Bytes]);
        }
        assert_eq!(types(), [Bytes, Bytes, Bytes]);
        // Bytes are redb's own `&[u8]`, name and width.
        assert_eq!(AnyStored::<RECORD_KEY>::type_name(), <&[u8]>::type_name());
        assert_eq!(AnyStored::<RECORD_KEY>::fixed_width(), None);
        let _record = StoredTypes::set(RECORD_KEY, Fixed(12));
        assert_eq!(
            AnyStored::<RECORD_KEY>::fixed_width(),
            super::Fixed::<12>::fixed_width()
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
