//! The durable change feed: every commit's changes, written in the same transaction as the
//! data, keyed by (commit sequence number, position in the commit).

use super::{Event, RawChange};
use crate::codec::{ChangeBytes, decode_change, encode_change};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::ordered::Ordered;
use redb::{ReadableDatabase, TableDefinition};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

/// The name of the change feed table.
pub(crate) const FEED_TABLE: &str = "netabase/changes";
/// The name of the table holding the last commit's sequence number (kept when the feed is
/// pruned empty, so numbers are never reused).
pub(crate) const SEQ_TABLE: &str = "netabase/changes_seq";
const FEED: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new(FEED_TABLE);
const SEQ: TableDefinition<&str, u64> = TableDefinition::new(SEQ_TABLE);
const LAST: &str = "last";

/// The sequence number of the last commit written to the feed (0 for none).
pub(crate) fn last_seq(db: &redb::Database) -> Result<u64> {
    let txn = db.begin_read()?;
    match txn.open_table(SEQ) {
        Ok(table) => Ok(table.get(LAST)?.map_or(0, |seq| seq.value())),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
        Err(error) => Err(error.into()),
    }
}

/// Writes commit `seq`'s changes to the feed, in `txn`, and drops the commits that fall out of
/// `retention`.
pub(crate) fn append(
    txn: &redb::WriteTransaction,
    seq: u64,
    changes: &[Arc<RawChange>],
    retention: Option<u64>,
) -> Result<()> {
    let mut feed = txn.open_table(FEED)?;
    let mut bytes = Vec::new();
    for (position, change) in changes.iter().enumerate() {
        bytes.clear();
        encode_change(
            &ChangeBytes {
                model: &change.model,
                key: &change.key,
                old: change.old.as_deref(),
                new: change.new.as_deref(),
            },
            &mut bytes,
        );
        let position = u32::try_from(position).map_err(|_| Error::Inconsistent {
            table: FEED_TABLE,
            detail: "more than 4 billion changes in one commit".into(),
        })?;
        feed.insert((seq, position), bytes.as_slice())?;
    }
    if let Some(keep) = retention
        && seq > keep
    {
        remove_before(&mut feed, seq - keep + 1)?;
    }
    txn.open_table(SEQ)?.insert(LAST, seq)?;
    Ok(())
}

/// Removes the changes of the commits before `seq`; returns how many changes.
fn remove_before(feed: &mut redb::Table<'_, (u64, u32), &[u8]>, seq: u64) -> Result<u64> {
    let mut removed = 0;
    feed.retain_in(..(seq, 0), |_, _| {
        removed += 1;
        false
    })?;
    Ok(removed)
}

/// Removes the feed's changes of the commits before `seq` in a transaction of its own.
pub(crate) fn prune_before(db: &redb::Database, seq: u64) -> Result<u64> {
    let txn = db.begin_write()?;
    let removed = remove_before(&mut txn.open_table(FEED)?, seq)?;
    txn.commit()?;
    Ok(removed)
}

/// The feed's changes after commit `after`, read from one snapshot.
/// `path` names the file in the error of a step that meets a damaged page.
pub(crate) fn read_after(
    db: &redb::Database,
    after: u64,
    path: &std::path::Path,
) -> Result<ChangeFeed> {
    let txn = db.begin_read()?;
    let range = match txn.open_table(FEED) {
        Ok(table) => match after.checked_add(1) {
            Some(first) => Some(Ordered::new(table.range((first, 0)..)?, FEED_TABLE)),
            None => None,
        },
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(error) => return Err(error.into()),
    };
    Ok(ChangeFeed {
        range,
        path: path.to_path_buf(),
    })
}

/// One change read from the feed: see [`Store::all_changes_since`](crate::Store::all_changes_since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    seq: u64,
    change: RawChange,
}

impl FeedEntry {
    /// The sequence number of the commit that made the change.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The schema name of the changed record's model.
    pub fn model(&self) -> &str {
        &self.change.model
    }

    /// The change as an event of model `M`; `Ok(None)` when it is another model's.
    pub fn event<M: Model>(&self) -> Result<Option<Event<M>>> {
        if self.model() != M::NAME {
            return Ok(None);
        }
        Event::decode(self.seq, &self.change).map(Some)
    }
}

/// The feed's changes after a sequence number, oldest first: commit order, and write order
/// within a commit. It reads one snapshot, so commits made while iterating are not in it.
///
/// Like the record iterators it ends whatever the file holds: a step that meets a damaged page
/// returns [`Error::Corrupted`] (a panic inside redb is contained), and after an error the
/// iteration is fused.
pub struct ChangeFeed {
    range: Option<Ordered<'static, (u64, u32), &'static [u8]>>,
    path: std::path::PathBuf,
}

impl Iterator for ChangeFeed {
    type Item = Result<FeedEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        let range = self.range.as_mut()?;
        let item = crate::contain::contain(&self.path, FEED_TABLE, || Ok(range.next()))
            .transpose()
            .map(|entry| entry.and_then(|entry| Ok(entry?)));
        if !matches!(item, Some(Ok(_))) {
            // The end, or an error: fused, since the pages past a damaged one cannot be
            // trusted to lead anywhere.
            self.range = None;
        }
        let entry = item?;
        Some(entry.and_then(|(key, value)| {
            let (seq, _) = key.value();
            let bytes = decode_change(value.value()).map_err(|source| Error::Decode {
                table: FEED_TABLE,
                record: None,
                source,
            })?;
            Ok(FeedEntry {
                seq,
                change: RawChange {
                    model: Cow::Owned(bytes.model.to_owned()),
                    key: bytes.key.to_vec(),
                    old: bytes.old.map(<[u8]>::to_vec),
                    new: bytes.new.map(<[u8]>::to_vec),
                },
            })
        }))
    }
}

/// The feed's changes of model `M` after a sequence number, as typed events: see
/// [`Store::changes_since`](crate::Store::changes_since).
pub struct ModelChanges<M> {
    feed: ChangeFeed,
    _model: PhantomData<fn() -> M>,
}

impl<M> ModelChanges<M> {
    pub(crate) fn new(feed: ChangeFeed) -> Self {
        Self {
            feed,
            _model: PhantomData,
        }
    }
}

impl<M: Model> Iterator for ModelChanges<M> {
    type Item = Result<Event<M>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.feed.next()?.and_then(|entry| entry.event::<M>()) {
                Ok(None) => continue,
                Ok(Some(event)) => return Some(Ok(event)),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}
