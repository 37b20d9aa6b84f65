//! Subscriptions and the durable change feed: reacting to commits.
//!
//! * [`Store::watch`](crate::Store::watch) subscribes to the changes of one model that match a
//!   [`Filter`]: the whole model, one primary key, a primary-key range or prefix, a secondary key
//!   value or range. Each commit's matching changes arrive on the [`Subscription`] as typed
//!   [`Event`]s once the commit has returned, in commit order and, within a commit, in write
//!   order; a subscriber gets all of a commit's matching changes or none.
//! * A definition with `change_feed = true` also writes every commit's changes to a table of the
//!   database, in the same transaction as the data;
//!   [`Store::changes_since`](crate::Store::changes_since) reads them back after a sequence
//!   number, so a consumer that restarts resumes where it stopped.
//!
//! Writes capture nothing unless a subscription exists or the feed is on: see `capture.rs`.
//! The guarantees are listed in `docs/WATCH.md`.

mod capture;
mod event;
mod feed;
mod filter;
mod hub;
mod store_api;
mod subscription;

pub(crate) use capture::{Capture, ChangeLog, RawChange};
pub use event::{Change, Event};
pub use feed::{ChangeFeed, FeedEntry, ModelChanges};
/// The change feed's tables, which belong to no model.
pub(crate) const FEED_TABLES: [&str; 2] = [feed::FEED_TABLE, feed::SEQ_TABLE];
pub use filter::Filter;
pub(crate) use hub::Hub;
#[cfg(feature = "async")]
pub use subscription::EventStream;
pub use subscription::Subscription;

/// How many commits a subscription queues by default before it lags (see
/// [`Store::watch_with_capacity`](crate::Store::watch_with_capacity)).
pub const DEFAULT_CAPACITY: usize = 1024;

pub(crate) use feed::append as append_to_feed;

/// The store's [`Hub`]; dropping it (with the store) ends every subscription.
pub(crate) struct HubHandle(std::sync::Arc<Hub>);

impl HubHandle {
    /// The hub of a store of `D` opened on `db`: the commit sequence continues the feed's.
    pub fn open<D: crate::Definition>(
        db: &redb::Database,
        retention: Option<u64>,
    ) -> crate::Result<Self> {
        let last_seq = if D::CHANGE_FEED {
            feed::last_seq(db)?
        } else {
            0
        };
        Ok(Self(std::sync::Arc::new(Hub::new(
            last_seq,
            D::CHANGE_FEED,
            retention,
        ))))
    }
}

impl std::ops::Deref for HubHandle {
    type Target = std::sync::Arc<Hub>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Drop for HubHandle {
    fn drop(&mut self) {
        self.0.close();
    }
}
