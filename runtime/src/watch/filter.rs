//! [`Filter`]: which changes of a model a subscription receives.

use crate::codec::KeyPart;
use crate::model::Model;
use crate::tree::KeyBounds;
use std::marker::PhantomData;
use std::ops::RangeBounds;

/// Which changes of model `M` a subscription receives. Build one and pass it to
/// [`Store::watch`](crate::Store::watch); the generated `City::watch_by_country("JP")` returns
/// one too.
///
/// A change matches a key filter when the record's primary key matches, and a secondary-key
/// filter when the record matches before or after the change: a city that moves from `JP` to
/// `FR` is an [`Updated`](super::Change::Updated) event for the subscribers of both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter<M> {
    pub(crate) target: Target,
    _model: PhantomData<fn() -> M>,
}

/// A filter's target, on encoded keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    All,
    Key(Vec<u8>),
    Keys(KeyBounds),
    /// A secondary key (by its field's schema name) equal to the encoded value.
    Index(&'static str, Vec<u8>),
    /// A secondary key within the bounds.
    IndexKeys(&'static str, KeyBounds),
}

impl<M: Model> Filter<M> {
    fn new(target: Target) -> Self {
        Self {
            target,
            _model: PhantomData,
        }
    }

    /// Every change of the model.
    pub fn all() -> Self {
        Self::new(Target::All)
    }

    /// The changes of the record with primary key `key`.
    pub fn key(key: M::KeyArg<'_>) -> Self {
        let mut encoded = Vec::new();
        key.encode_key(&mut encoded);
        Self::new(Target::Key(encoded))
    }

    /// The changes of the records whose primary key is within `range` (`a..b`, `a..=b`, `a..`).
    pub fn range<'k>(range: impl RangeBounds<M::KeyArg<'k>>) -> Self {
        Self::key_bounds(KeyBounds::range(&range))
    }

    /// The changes of the records whose encoded primary key is within `bounds`: a prefix of a
    /// composite key is `KeyBounds::exact(&leading_part)`, a prefix of a string key
    /// `KeyBounds::string_prefix("Tok")`.
    pub fn key_bounds(bounds: KeyBounds) -> Self {
        Self::new(Target::Keys(bounds))
    }

    /// The changes of the records whose secondary key `field` (its schema name) equals `value`,
    /// before or after the change. An unknown field is an error from `watch`.
    pub fn index<K: KeyPart + ?Sized>(field: &'static str, value: &K) -> Self {
        let mut encoded = Vec::new();
        value.encode_key(&mut encoded);
        Self::new(Target::Index(field, encoded))
    }

    /// The changes of the records whose secondary key `field` is within `bounds` (a range or a
    /// prefix, as for [`key_bounds`](Self::key_bounds)), before or after the change.
    pub fn index_bounds(field: &'static str, bounds: KeyBounds) -> Self {
        Self::new(Target::IndexKeys(field, bounds))
    }
}
