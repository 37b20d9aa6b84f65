//! [`Hub`]: a store's subscriptions, indexed by model and key, and the commit sequence.
//!
//! Matching a change costs hash lookups, not a pass over every subscription: the subscriptions
//! of a model are kept by kind (whole model, exact primary key, exact secondary key value) and
//! only the range filters of the changed model are tested one by one. Sending never blocks the
//! writer: each subscription has a bounded queue of commits, and when it is full the queue is
//! emptied and replaced by one `Lagged` item counting what the subscriber missed.

use super::filter::Target;
use super::{Filter, RawChange};
use crate::codec::DecodeError;
use crate::error::{Error, Result};
use crate::index_keys::IndexKeys;
use crate::model::{Model, ModelRef};
use crate::tree::KeyBounds;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

/// What a subscription's queue holds.
#[derive(Debug)]
pub(crate) enum Item {
    /// The subscription's matching changes of commit `seq`, in write order.
    Commit {
        seq: u64,
        changes: Vec<Arc<RawChange>>,
    },
    /// The subscriber fell behind and this many changes were dropped.
    Lagged(u64),
}

impl Item {
    fn changes(&self) -> u64 {
        match self {
            Item::Commit { changes, .. } => changes.len() as u64,
            Item::Lagged(missed) => *missed,
        }
    }
}

/// The subscriptions and commit sequence of one store, shared with its subscriptions (which
/// unsubscribe themselves when dropped).
pub(crate) struct Hub {
    /// The sequence number of the last commit.
    last_seq: AtomicU64,
    /// How many subscriptions exist: writes capture nothing while it is 0 and the feed is off.
    active: AtomicUsize,
    feed: bool,
    /// Keep the feed's last this many commits (`None`: all, until pruned).
    retention: Option<u64>,
    /// Held from numbering a commit until it is published, so commits are numbered and
    /// delivered in commit order.
    committing: Mutex<()>,
    closed: AtomicBool,
    registry: RwLock<Registry>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    models: HashMap<&'static str, ModelSubscriptions>,
    sinks: HashMap<u64, Sink>,
}

/// The subscriptions of one model, by kind.
struct ModelSubscriptions {
    all: Vec<u64>,
    keys: HashMap<Vec<u8>, Vec<u64>>,
    key_ranges: Vec<(KeyBounds, u64)>,
    /// Per secondary index (position in `Model::INDEXES`): exact values, then ranges.
    index_values: HashMap<usize, HashMap<Vec<u8>, Vec<u64>>>,
    index_ranges: Vec<(usize, KeyBounds, u64)>,
    /// Fills the secondary keys of a stored record of the model.
    index_keys: fn(&[u8], &mut IndexKeys) -> Result<(), DecodeError>,
}

/// A subscription's target, resolved against its model.
#[derive(Debug, Clone)]
enum Resolved {
    All,
    Key(Vec<u8>),
    Keys(KeyBounds),
    Index(usize, Vec<u8>),
    IndexKeys(usize, KeyBounds),
}

struct Sink {
    model: &'static str,
    target: Resolved,
    tx: flume::Sender<Item>,
    /// The writer's handle on the queue, to empty it when the subscriber lags.
    rx: flume::Receiver<Item>,
}

fn index_keys_of<M: Model>(bytes: &[u8], keys: &mut IndexKeys) -> Result<(), DecodeError> {
    let view = M::Ref::decode(bytes)?;
    keys.fill(M::INDEXES.len(), |i, keys| view.index_keys(i, keys));
    Ok(())
}

fn remove_id(ids: &mut Vec<u64>, id: u64) {
    ids.retain(|&other| other != id);
}

impl ModelSubscriptions {
    fn is_empty(&self) -> bool {
        self.all.is_empty()
            && self.keys.is_empty()
            && self.key_ranges.is_empty()
            && self.index_values.is_empty()
            && self.index_ranges.is_empty()
    }

    fn add(&mut self, target: &Resolved, id: u64) {
        match target {
            Resolved::All => self.all.push(id),
            Resolved::Key(key) => self.keys.entry(key.clone()).or_default().push(id),
            Resolved::Keys(bounds) => self.key_ranges.push((bounds.clone(), id)),
            Resolved::Index(i, value) => self
                .index_values
                .entry(*i)
                .or_default()
                .entry(value.clone())
                .or_default()
                .push(id),
            Resolved::IndexKeys(i, bounds) => self.index_ranges.push((*i, bounds.clone(), id)),
        }
    }

    fn remove(&mut self, target: &Resolved, id: u64) {
        match target {
            Resolved::All => remove_id(&mut self.all, id),
            Resolved::Key(key) => {
                if let Some(ids) = self.keys.get_mut(key) {
                    remove_id(ids, id);
                    if ids.is_empty() {
                        self.keys.remove(key);
                    }
                }
            }
            Resolved::Keys(_) => self.key_ranges.retain(|(_, other)| *other != id),
            Resolved::Index(i, value) => {
                if let Some(values) = self.index_values.get_mut(i) {
                    if let Some(ids) = values.get_mut(value) {
                        remove_id(ids, id);
                        if ids.is_empty() {
                            values.remove(value);
                        }
                    }
                    if values.is_empty() {
                        self.index_values.remove(i);
                    }
                }
            }
            Resolved::IndexKeys(..) => self.index_ranges.retain(|(_, _, other)| *other != id),
        }
    }

    /// Pushes the ids of the subscriptions `change` matches onto `ids` (maybe twice).
    fn matching(&self, change: &RawChange, ids: &mut Vec<u64>, keys: &mut IndexKeys) {
        ids.extend_from_slice(&self.all);
        if let Some(subscribed) = self.keys.get(&change.key) {
            ids.extend_from_slice(subscribed);
        }
        for (bounds, id) in &self.key_ranges {
            if bounds.contains(&change.key) {
                ids.push(*id);
            }
        }
        if self.index_values.is_empty() && self.index_ranges.is_empty() {
            return;
        }
        for bytes in [&change.old, &change.new].into_iter().flatten() {
            // Both versions decoded when they were written (a write decodes the record it
            // replaces), so this cannot fail for bytes a write captured.
            if (self.index_keys)(bytes, keys).is_err() {
                continue;
            }
            for (i, values) in &self.index_values {
                for key in keys.get(*i) {
                    if let Some(subscribed) = values.get(key) {
                        ids.extend_from_slice(subscribed);
                    }
                }
            }
            for (i, bounds, id) in &self.index_ranges {
                if keys.get(*i).any(|key| bounds.contains(key)) {
                    ids.push(*id);
                }
            }
        }
    }
}

impl Sink {
    /// Queues a commit's changes without blocking; a full queue is replaced by a `Lagged` item.
    fn send(&self, item: Item) {
        match self.tx.try_send(item) {
            Ok(()) | Err(flume::TrySendError::Disconnected(_)) => {}
            Err(flume::TrySendError::Full(item)) => {
                let mut missed = item.changes();
                while let Ok(queued) = self.rx.try_recv() {
                    missed += queued.changes();
                }
                // The queue is empty now (only the subscriber takes from it, too), so this fits.
                let _ = self.tx.try_send(Item::Lagged(missed));
            }
        }
    }
}

impl Hub {
    pub fn new(last_seq: u64, feed: bool, retention: Option<u64>) -> Self {
        Self {
            last_seq: AtomicU64::new(last_seq),
            active: AtomicUsize::new(0),
            feed,
            retention,
            committing: Mutex::new(()),
            closed: AtomicBool::new(false),
            registry: RwLock::default(),
        }
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Acquire)
    }

    pub fn feed_on(&self) -> bool {
        self.feed
    }

    pub fn retention(&self) -> Option<u64> {
        self.retention
    }

    pub fn subscriptions(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Whether a beginning write transaction must capture its changes.
    pub fn listening(&self) -> bool {
        self.feed || self.active.load(Ordering::Acquire) > 0
    }

    /// Whether a subscription to model `model` exists.
    pub fn watches(&self, model: &str) -> bool {
        self.active.load(Ordering::Acquire) > 0 && self.registry().models.contains_key(model)
    }

    fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        // The registry is valid after any panic: every update is one insert or removal.
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks commit numbering and delivery (see [`Hub::committed`]).
    pub fn begin_commit(&self) -> MutexGuard<'_, ()> {
        self.committing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that commit `seq` is durable and sends its changes to their subscribers. Called
    /// with the guard of [`begin_commit`](Self::begin_commit) held.
    pub fn committed(&self, seq: u64, changes: &[Arc<RawChange>]) {
        self.last_seq.store(seq, Ordering::Release);
        if changes.is_empty() || self.active.load(Ordering::Acquire) == 0 {
            return;
        }
        let registry = self.registry();
        let mut batches: BTreeMap<u64, Vec<Arc<RawChange>>> = BTreeMap::new();
        let (mut ids, mut keys) = (Vec::new(), IndexKeys::default());
        for change in changes {
            let Some(subscriptions) = registry.models.get(change.model.as_ref()) else {
                continue;
            };
            ids.clear();
            subscriptions.matching(change, &mut ids, &mut keys);
            ids.sort_unstable();
            ids.dedup();
            for id in &ids {
                batches.entry(*id).or_default().push(Arc::clone(change));
            }
        }
        for (id, changes) in batches {
            if let Some(sink) = registry.sinks.get(&id) {
                sink.send(Item::Commit { seq, changes });
            }
        }
    }

    /// Adds a subscription of `filter` with a queue of `capacity` commits. The caller holds the
    /// store's write lock and the commit guard, so no commit is half published.
    pub fn subscribe<M: Model>(
        &self,
        filter: &Filter<M>,
        capacity: usize,
    ) -> Result<(u64, flume::Receiver<Item>)> {
        let index = |field: &str| {
            M::INDEXES
                .iter()
                .position(|index| index.field == field)
                .ok_or_else(|| Error::UnknownIndex {
                    model: M::NAME,
                    field: field.to_owned(),
                })
        };
        let target = match &filter.target {
            Target::All => Resolved::All,
            Target::Key(key) => Resolved::Key(key.clone()),
            Target::Keys(bounds) => Resolved::Keys(bounds.clone()),
            Target::Index(field, value) => Resolved::Index(index(field)?, value.clone()),
            Target::IndexKeys(field, bounds) => Resolved::IndexKeys(index(field)?, bounds.clone()),
        };
        let (tx, rx) = flume::bounded(capacity.max(1));
        let mut registry = self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let id = registry.next_id;
        registry.next_id += 1;
        if self.closed.load(Ordering::Acquire) {
            // The store is being dropped: a subscription that will never receive anything.
            return Ok((id, rx));
        }
        registry
            .models
            .entry(M::NAME)
            .or_insert_with(|| ModelSubscriptions {
                all: Vec::new(),
                keys: HashMap::new(),
                key_ranges: Vec::new(),
                index_values: HashMap::new(),
                index_ranges: Vec::new(),
                index_keys: index_keys_of::<M>,
            })
            .add(&target, id);
        registry.sinks.insert(
            id,
            Sink {
                model: M::NAME,
                target,
                tx,
                rx: rx.clone(),
            },
        );
        self.active.fetch_add(1, Ordering::AcqRel);
        Ok((id, rx))
    }

    /// Removes subscription `id` (when it is dropped).
    pub fn unsubscribe(&self, id: u64) {
        let mut registry = self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(sink) = registry.sinks.remove(&id) else {
            return;
        };
        self.active.fetch_sub(1, Ordering::AcqRel);
        if let Some(model) = registry.models.get_mut(sink.model) {
            model.remove(&sink.target, id);
            if model.is_empty() {
                registry.models.remove(sink.model);
            }
        }
    }

    /// Ends every subscription (the store is dropped): their receivers see the end.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let mut registry = self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.active.store(0, Ordering::Release);
        registry.sinks.clear();
        registry.models.clear();
    }
}
