//! [`Subscription`]: the receiving end of [`Store::watch`](crate::Store::watch).

use super::hub::{Hub, Item};
use super::{Event, RawChange};
use crate::error::{Error, Result};
use crate::model::Model;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

/// The changes of model `M` that match a [`Filter`](super::Filter), commit after commit.
///
/// Receive them with [`recv`](Self::recv), [`recv_timeout`](Self::recv_timeout),
/// [`try_recv`](Self::try_recv), as a blocking iterator, or (feature `async`) as a `Stream`
/// with `into_stream`. The queue holds a bounded number of commits: a
/// subscriber that falls behind receives [`Error::Lagged`] once, in place of the changes it
/// missed, then the changes of later commits; re-read the store to catch up. Dropping the
/// subscription unsubscribes.
pub struct Subscription<M: Model> {
    hub: Arc<Hub>,
    id: u64,
    rx: flume::Receiver<Item>,
    start_seq: u64,
    /// The rest of the commit being received, and its sequence number.
    pending: VecDeque<Arc<RawChange>>,
    pending_seq: u64,
    _model: PhantomData<fn() -> M>,
}

/// How long a receive waits.
enum Wait {
    Forever,
    For(Duration),
    No,
}

impl<M: Model> Subscription<M> {
    pub(crate) fn new(hub: Arc<Hub>, id: u64, rx: flume::Receiver<Item>, start_seq: u64) -> Self {
        Self {
            hub,
            id,
            rx,
            start_seq,
            pending: VecDeque::new(),
            pending_seq: 0,
            _model: PhantomData,
        }
    }

    /// The sequence number of the last commit before the subscription began: it receives the
    /// changes of the commits after it.
    pub fn start_seq(&self) -> u64 {
        self.start_seq
    }

    /// How many commits wait in the queue (at most its capacity).
    pub fn queued_commits(&self) -> usize {
        self.rx.len()
    }

    /// Waits for the next change. `Ok(None)` once the store has been dropped (no change will
    /// come); [`Error::Lagged`] when the subscriber fell behind.
    pub fn recv(&mut self) -> Result<Option<Event<M>>> {
        self.receive(Wait::Forever)
    }

    /// Waits at most `timeout` for the next change: `Ok(None)` when none came in time (or the
    /// store has been dropped).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Event<M>>> {
        self.receive(Wait::For(timeout))
    }

    /// The next change if one is waiting, without blocking.
    pub fn try_recv(&mut self) -> Result<Option<Event<M>>> {
        self.receive(Wait::No)
    }

    fn receive(&mut self, wait: Wait) -> Result<Option<Event<M>>> {
        loop {
            if let Some(change) = self.pending.pop_front() {
                return Event::decode(self.pending_seq, &change).map(Some);
            }
            let item = match wait {
                Wait::Forever => self.rx.recv().ok(),
                Wait::For(timeout) => self.rx.recv_timeout(timeout).ok(),
                Wait::No => self.rx.try_recv().ok(),
            };
            match item {
                None => return Ok(None),
                Some(item) => self.accept(item)?,
            }
        }
    }

    /// Takes a queued item: a commit becomes the pending changes, a lag is reported.
    fn accept(&mut self, item: Item) -> Result<()> {
        match item {
            Item::Commit { seq, changes } => {
                self.pending_seq = seq;
                self.pending = changes.into();
                Ok(())
            }
            Item::Lagged(missed) => Err(Error::Lagged { missed }),
        }
    }

    /// The changes as an async `Stream` (feature `async`). It yields what
    /// [`recv`](Self::recv) would and ends when the store is dropped.
    #[cfg(feature = "async")]
    pub fn into_stream(self) -> EventStream<M> {
        EventStream {
            stream: self.rx.clone().into_stream(),
            subscription: self,
        }
    }
}

/// Blocks for each change; ends when the store is dropped.
impl<M: Model> Iterator for Subscription<M> {
    type Item = Result<Event<M>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.recv().transpose()
    }
}

impl<M: Model> Drop for Subscription<M> {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.id);
    }
}

impl<M: Model> std::fmt::Debug for Subscription<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("model", &M::NAME)
            .field("start_seq", &self.start_seq)
            .field("queued_commits", &self.rx.len())
            .finish()
    }
}

/// A [`Subscription`] as an async `Stream` of `Result<Event<M>>` (feature `async`).
#[cfg(feature = "async")]
pub struct EventStream<M: Model> {
    subscription: Subscription<M>,
    stream: flume::r#async::RecvStream<'static, Item>,
}

#[cfg(feature = "async")]
impl<M: Model> futures_core::Stream for EventStream<M> {
    type Item = Result<Event<M>>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = self.get_mut();
        loop {
            let sub = &mut this.subscription;
            if let Some(change) = sub.pending.pop_front() {
                return Poll::Ready(Some(Event::decode(sub.pending_seq, &change)));
            }
            match std::pin::Pin::new(&mut this.stream).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(item)) => {
                    if let Err(error) = sub.accept(item) {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
            }
        }
    }
}
