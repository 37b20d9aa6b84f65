//! Trees: one model's record table and index tables, opened once and held for the tree's life.
//!
//! Every table maps bytes to bytes. Keys are the order-preserving encodings of
//! [`codec::KeyPart`](crate::codec::KeyPart), so redb's byte order is natural order; values are
//! decoded by netabase, never inside redb's infallible `Value::from_bytes`, so a corrupted value
//! is an [`Error::Decode`](crate::Error::Decode) and not a panic.
//!
//! * record table `"<Definition>/<Model>"`: primary key -> record, keyed by
//!   [`Fixed<N>`](Fixed) when the primary key's encoding has a fixed width `N`;
//! * unique index `"<Definition>/<Model>/<field>"`: secondary key -> primary key;
//! * non-unique index, same name: secondary key ++ primary key -> primary key, or -> nothing
//!   when the primary key has a fixed width (it is then the key's last bytes), so one key's
//!   records are one contiguous range in primary key order.
//!
//! Index keys are `Fixed<W>` when every entry key has the width `W` (see [`IndexLayout`]).

/// `redb::Value` for a type that redb stores as the bytes it is given (the tables' key and
/// entry types, [`Fixed`], [`Tail`] and their stand-ins for schema-less reads): seen as a byte
/// slice, declared with `width` (`Option<usize>`) and named `name` (a `String`) in the file, or
/// `type_name` (a `redb::TypeName`, for a stand-in that takes the name of redb's own `&[u8]`).
macro_rules! raw_bytes_value {
    ([$($param:tt)*] $ty:ty, width: $width:expr, name: $name:expr) => {
        raw_bytes_value!([$($param)*] $ty, width: $width, type_name: ::redb::TypeName::new(&$name));
    };
    ([$($param:tt)*] $ty:ty, width: $width:expr, type_name: $type_name:expr) => {
        impl<$($param)*> ::redb::Value for $ty {
            type SelfType<'a> = &'a [u8];
            type AsBytes<'a> = &'a [u8];

            fn fixed_width() -> Option<usize> {
                $width
            }

            fn from_bytes<'a>(data: &'a [u8]) -> &'a [u8]
            where
                Self: 'a,
            {
                data
            }

            fn as_bytes<'a, 'b: 'a>(value: &'a &'b [u8]) -> &'a [u8]
            where
                Self: 'b,
            {
                value
            }

            fn type_name() -> ::redb::TypeName {
                $type_name
            }
        }
    };
}

mod append;
mod bounds;
mod deferred;
mod index;
mod iter;
mod read;
pub(crate) mod rebuild;
mod stored;
mod typed;
mod write;

pub(crate) use append::{Made, insert_run};
pub use bounds::KeyBounds;
pub(crate) use deferred::{Deferred, Violation, entry_key};
pub(crate) use index::{Claim, EntryRange, IndexRead, IndexWrite, Step, StoredIndex};
pub use index::{EntryValue, IndexLayout, Tail};
pub use iter::{IndexIter, Iter, Records, ValueGuard, Views, Yield};
pub use read::{ReadTree, TreeRead};
pub(crate) use stored::{AnyStored, RECORD_KEY, StoredType, StoredTypes, with_record_key};
pub use stored::{Fixed, StoredKey};
pub use typed::Tree;
pub use write::WriteTree;

use crate::codec::KeyPart;
use crate::error::{Error, Result};
use crate::model::Model;
use redb::TableDefinition;
use std::cell::Cell;

/// The key and value type of every netabase table.
pub(crate) type Bytes = &'static [u8];

pub(crate) fn table_definition(name: &str) -> TableDefinition<'_, Bytes, Bytes> {
    TableDefinition::new(name)
}

/// The definition of `M`'s record table, keyed by its [`StoredKey`] type.
pub(crate) fn record_table<M: Model>() -> TableDefinition<'static, M::StoredKey, Bytes> {
    TableDefinition::new(M::TABLE)
}

pub(crate) fn encode_key<K: KeyPart + ?Sized>(key: &K) -> Vec<u8> {
    let mut out = Vec::new();
    key.encode_key(&mut out);
    out
}

thread_local! {
    /// The buffer lookups encode their key into, so a `get` allocates nothing once warmed up.
    /// Thread-local rather than in the tree: read trees take `&self` and stay `Sync`.
    static KEY_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Calls `f` with the encoding of `key`, encoded into a reused buffer.
#[inline]
pub(crate) fn with_encoded_key<K: KeyPart + ?Sized, T>(key: &K, f: impl FnOnce(&[u8]) -> T) -> T {
    // `take` leaves an empty Vec behind, so a nested call (none today) would still work.
    let mut buf = KEY_BUFFER.with(Cell::take);
    buf.clear();
    key.encode_key(&mut buf);
    let out = f(&buf);
    KEY_BUFFER.with(|cell| cell.set(buf));
    out
}

pub(crate) fn decode_record<M: Model>(bytes: &[u8]) -> Result<M> {
    M::decode(bytes).map_err(|source| Error::Decode {
        table: M::TABLE,
        record: None,
        source,
    })
}

/// [`decode_record`] for a record whose encoded primary key is known: the error names it.
pub(crate) fn decode_record_at<M: Model>(key: &[u8], bytes: &[u8]) -> Result<M> {
    M::decode(bytes).map_err(|source| Error::Decode {
        table: M::TABLE,
        record: Some(crate::model::describe_primary_key::<M>(key)),
        source,
    })
}
