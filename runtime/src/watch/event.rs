//! The typed events a subscription and the change feed yield.

use super::RawChange;
use crate::error::{Error, Result};
use crate::model::Model;

/// One change of a committed transaction, as a subscription or the change feed yields it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<M> {
    /// The commit's sequence number: it increases with every commit, in commit order, and all
    /// the changes of one commit share it. With a change feed it is stored in the database and
    /// continues after a reopen; without one it counts the commits since the store was opened.
    pub seq: u64,
    /// What happened to the record.
    pub change: Change<M>,
}

/// What a commit did to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<M> {
    /// The record was written where none had its primary key.
    Inserted(M),
    /// The record with this primary key was replaced (`put` of an existing key).
    Updated {
        /// The record before the commit.
        old: M,
        /// The record after the commit.
        new: M,
    },
    /// The record was removed.
    Removed(M),
}

impl<M> Change<M> {
    /// The record after the change (`None` for a removal).
    pub fn after(&self) -> Option<&M> {
        match self {
            Change::Inserted(new) | Change::Updated { new, .. } => Some(new),
            Change::Removed(_) => None,
        }
    }

    /// The record before the change (`None` for an insertion).
    pub fn before(&self) -> Option<&M> {
        match self {
            Change::Updated { old, .. } | Change::Removed(old) => Some(old),
            Change::Inserted(_) => None,
        }
    }
}

impl<M: Model> Event<M> {
    /// Decodes the event of `change`, committed as commit `seq`.
    pub(crate) fn decode(seq: u64, change: &RawChange) -> Result<Self> {
        let decode = |bytes: &[u8]| crate::tree::decode_record_at::<M>(&change.key, bytes);
        let change = match (&change.old, &change.new) {
            (None, Some(new)) => Change::Inserted(decode(new)?),
            (Some(old), Some(new)) => Change::Updated {
                old: decode(old)?,
                new: decode(new)?,
            },
            (Some(old), None) => Change::Removed(decode(old)?),
            (None, None) => {
                return Err(Error::Inconsistent {
                    table: M::TABLE,
                    detail: "a change with neither an old nor a new record".into(),
                });
            }
        };
        Ok(Event { seq, change })
    }
}
