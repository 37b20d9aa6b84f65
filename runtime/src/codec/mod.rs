//! The one place that knows how values and keys become bytes.
//!
//! Two encodings live here, and nowhere else in netabase or in generated code:
//!
//! * [`Value`]: how a model and its fields are stored (bincode 2 for scalars, with our own length
//!   checks for strings, bytes and vectors so a corrupted length prefix can never make us allocate
//!   more than the stored value holds).
//! * [`KeyPart`]: an order-preserving encoding for keys. The bytes of two keys compare (as redb
//!   compares `&[u8]`, with `memcmp`) exactly as the keys themselves compare, so range scans come
//!   back in natural order, negative numbers included.
//!
//! * [`dynamic`]: the same value encoding driven by a stored [`Layout`](crate::Layout) instead
//!   of generated code, for reading a database without its schema and for migrations.
//!
//! Swapping bincode for another format is a change to `value.rs` alone.

mod change;
pub mod dynamic;
pub(crate) mod dynamic_key;
mod key;
mod value;

pub use change::{ChangeBytes, decode_change, encode_change};
pub use key::{DecodeKey, KeyPart, prefix_end};
pub use value::{BorrowValue, Reader, Value, Writer};

use std::fmt;

/// A stored value or key that could not be decoded: the bytes are corrupted or were written by an
/// incompatible layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    message: String,
}

impl DecodeError {
    /// A decode error with the given explanation.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}
