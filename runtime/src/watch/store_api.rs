//! The watch and change feed methods of [`Store`].

use super::{ChangeFeed, DEFAULT_CAPACITY, Filter, ModelChanges, Subscription, feed};
use crate::error::{Error, Result};
use crate::model::{Definition, Model};
use crate::store::Store;
use std::sync::Arc;

impl<D: Definition> Store<D> {
    /// Subscribes to the changes of model `M` that match `filter`, with a queue of
    /// [`DEFAULT_CAPACITY`](super::DEFAULT_CAPACITY) commits (see
    /// [`watch_with_capacity`](Self::watch_with_capacity)).
    ///
    /// ```ignore
    /// let mut japan = store.watch(City::watch_by_country_code("JP"))?;
    /// while let Some(event) = japan.recv()? { /* event.seq, event.change */ }
    /// ```
    pub fn watch<M: Model<Definition = D>>(&self, filter: Filter<M>) -> Result<Subscription<M>> {
        self.watch_with_capacity(filter, DEFAULT_CAPACITY)
    }

    /// Subscribes to the changes of model `M` that match `filter`; the subscription queues at
    /// most `capacity` commits (at least one) before it lags.
    ///
    /// The subscription receives exactly the commits that complete after this returns: it
    /// waits for the write transaction in progress (so do not call it on a thread that holds
    /// an open write transaction of this store: that would wait forever). Read the store after
    /// subscribing to start from a state the events then keep up to date. A secondary-key
    /// filter naming a key the model does not have is [`Error::UnknownIndex`].
    pub fn watch_with_capacity<M: Model<Definition = D>>(
        &self,
        filter: Filter<M>,
        capacity: usize,
    ) -> Result<Subscription<M>> {
        let hub = self.hub();
        // Between two commits: no write transaction (it would not capture for the new
        // subscription) and no commit being delivered.
        self.guard("", || {
            let writer = self.db().begin_write()?;
            let delivering = hub.begin_commit();
            let start = hub.last_seq();
            let (id, rx) = hub.subscribe(&filter, capacity)?;
            let subscription = Subscription::new(Arc::clone(hub), id, rx, start);
            drop(delivering);
            writer.abort()?;
            Ok(subscription)
        })
    }

    /// How many subscriptions of this store exist (dropping one unsubscribes it).
    pub fn subscriptions(&self) -> usize {
        self.hub().subscriptions()
    }

    /// The sequence number of the last commit (see [`Event::seq`](super::Event::seq)).
    pub fn last_seq(&self) -> u64 {
        self.hub().last_seq()
    }

    /// The change feed's changes of model `M` made by the commits after `after`, oldest first,
    /// as typed events, from one snapshot. Store the `seq` of the last event handled and pass
    /// it back after a restart to resume exactly there (`0`: from the oldest kept change).
    /// Without `change_feed = true` in the schema it is [`Error::NoChangeFeed`].
    pub fn changes_since<M: Model<Definition = D>>(&self, after: u64) -> Result<ModelChanges<M>> {
        self.all_changes_since(after).map(ModelChanges::new)
    }

    /// The change feed's changes of every model after commit `after`, oldest first; each
    /// [`FeedEntry`](super::FeedEntry) names its model and decodes with `event::<M>()`.
    pub fn all_changes_since(&self, after: u64) -> Result<ChangeFeed> {
        self.feed_enabled()?;
        self.guard(feed::FEED_TABLE, || {
            feed::read_after(self.db(), after, self.path())
        })
    }

    /// Removes the change feed's changes of the commits before `seq` (a consumer has handled
    /// them) and returns how many changes were removed. Sequence numbers are never reused.
    pub fn prune_changes_before(&self, seq: u64) -> Result<u64> {
        self.feed_enabled()?;
        self.guard(feed::FEED_TABLE, || feed::prune_before(self.db(), seq))
    }

    fn feed_enabled(&self) -> Result<()> {
        if D::CHANGE_FEED {
            Ok(())
        } else {
            Err(Error::NoChangeFeed {
                definition: D::NAME,
            })
        }
    }
}
