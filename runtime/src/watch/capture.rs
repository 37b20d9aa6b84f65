//! Capturing a write transaction's changes, for subscribers and the change feed.
//!
//! A write transaction captures only when someone will read the changes: when the store's
//! definition has a change feed, or when a subscription exists as the transaction begins (then
//! only for the models that have one). Otherwise the write path pays one `None` check per write.
//! What a failed batch call (`put_many`...) undid is dropped from the log again, so an event is
//! never sent for a write that did not happen.

use super::Hub;
use crate::model::Model;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

/// One write as captured: the record's primary key and its bytes before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawChange {
    /// The model's schema name.
    pub model: Cow<'static, str>,
    pub key: Vec<u8>,
    /// `None`: the record was inserted.
    pub old: Option<Vec<u8>>,
    /// `None`: the record was removed.
    pub new: Option<Vec<u8>>,
}

/// The changes a write transaction made so far, in write order. Shared (`Arc`) so that every
/// subscriber of a change holds the same bytes.
#[derive(Default)]
pub(crate) struct ChangeLog {
    changes: RefCell<Vec<Arc<RawChange>>>,
}

impl ChangeLog {
    /// Notes a write of model `M` (nothing when the record neither existed nor exists).
    pub fn push<M: Model>(&self, key: &[u8], old: Option<&[u8]>, new: Option<&[u8]>) {
        if old.is_none() && new.is_none() {
            return;
        }
        self.changes.borrow_mut().push(Arc::new(RawChange {
            model: Cow::Borrowed(M::NAME),
            key: key.to_vec(),
            old: old.map(<[u8]>::to_vec),
            new: new.map(<[u8]>::to_vec),
        }));
    }

    /// How many changes are logged: a mark to [`truncate`](Self::truncate) back to.
    pub fn mark(&self) -> usize {
        self.changes.borrow().len()
    }

    /// Forgets the changes logged after `mark` (a batch call that failed and undid them).
    pub fn truncate(&self, mark: usize) {
        self.changes.borrow_mut().truncate(mark);
    }

    fn take(&self) -> Vec<Arc<RawChange>> {
        std::mem::take(&mut self.changes.borrow_mut())
    }
}

/// A write transaction's capture: its log, and the hub that decides which models need one.
pub(crate) struct Capture<'s> {
    hub: &'s Hub,
    /// Whether anyone was listening when the transaction began (a subscription or the feed).
    log: Option<ChangeLog>,
}

impl<'s> Capture<'s> {
    pub fn new(hub: &'s Hub) -> Self {
        Self {
            hub,
            log: hub.listening().then(ChangeLog::default),
        }
    }

    pub fn hub(&self) -> &'s Hub {
        self.hub
    }

    /// The log to note model `M`'s writes in, or `None` when nobody reads them.
    pub fn log_for<M: Model>(&self) -> Option<&ChangeLog> {
        self.log
            .as_ref()
            .filter(|_| self.hub.feed_on() || self.hub.watches(M::NAME))
    }

    /// The changes of the transaction, in write order (empty when nothing was captured).
    pub fn take(&self) -> Vec<Arc<RawChange>> {
        self.log.as_ref().map(ChangeLog::take).unwrap_or_default()
    }
}
