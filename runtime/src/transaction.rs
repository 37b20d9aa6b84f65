//! Read and write transactions. Generated code wraps these in the definition's own
//! transaction types, which add one method per model (`txn.cities()`).

use crate::contain::{ContainDrop, Health};
use crate::error::Result;
use crate::links::PendingLinks;
use crate::model::{Definition, Model};
use crate::tree::{ReadTree, WriteTree};
use crate::watch::{Capture, Hub};
use std::cell::RefCell;
use std::marker::PhantomData;

/// A read-only snapshot of a store. Trees opened from it borrow it, so they cannot outlive it,
/// and they have no writing methods: a read transaction cannot write.
pub struct ReadTransaction<'s, D: Definition> {
    txn: redb::ReadTransaction,
    health: &'s Health,
    _store: PhantomData<&'s crate::Store<D>>,
}

/// A write transaction. Everything written through it becomes visible atomically on
/// [`commit`](Self::commit), and is discarded by [`abort`](Self::abort) or by dropping it.
///
/// After an operation returns an error the transaction stays usable: netabase's own errors
/// (`UniqueViolation`, `AlreadyExists`, `Decode`) leave it as it was before that call. After a
/// storage error, abort it.
///
/// # Trees borrow the transaction
///
/// * Drop every tree before [`commit`](Self::commit): `commit` consumes the transaction, so a
///   live tree is a borrow error at compile time (E0505; its "consider cloning" hint does not
///   apply). Open trees in a block, or `drop(tree)`:
///
///   ```ignore
///   let txn = store.begin_write()?;
///   {
///       let mut cities = txn.cities()?;
///       cities.put(&city)?;
///   } // the tree ends here
///   txn.commit()?;
///   ```
/// * One tree per model at a time: opening a model's tree again while the first is alive is
///   [`Error::TreeInUse`](crate::Error::TreeInUse).
/// * [`check_links`](Self::check_links) reads the tables of linked models: call it with the
///   trees dropped.
pub struct WriteTransaction<'s, D: Definition> {
    txn: ContainDrop<redb::WriteTransaction>,
    health: &'s Health,
    /// Checked-link keys to verify at commit (see `links.rs`). Trees borrow the transaction
    /// shared, so they note keys through the cell.
    links: RefCell<PendingLinks>,
    /// The changes to publish and write to the change feed at commit (see `watch/`).
    capture: Capture<'s>,
    _store: PhantomData<&'s crate::Store<D>>,
}

impl<'s, D: Definition> ReadTransaction<'s, D> {
    pub(crate) fn new(txn: redb::ReadTransaction, health: &'s Health) -> Self {
        Self {
            txn,
            health,
            _store: PhantomData,
        }
    }

    /// redb's transaction, for whole-store work (backups).
    pub(crate) fn raw(&self) -> &redb::ReadTransaction {
        &self.txn
    }

    pub(crate) fn raw_tree<M: Model<Definition = D>>(&self) -> Result<ReadTree<'_, M>> {
        self.health
            .guard(M::TABLE, || ReadTree::open(&self.txn, self.health))
    }

    /// Opens the tree of model `M` (the generic form of the generated `txn.cities()`).
    pub fn open_tree<M: Model<Definition = D>>(&self) -> Result<M::Tree<ReadTree<'_, M>>> {
        self.raw_tree().map(Into::into)
    }
}

impl<'s, D: Definition> WriteTransaction<'s, D> {
    pub(crate) fn new(txn: redb::WriteTransaction, hub: &'s Hub, health: &'s Health) -> Self {
        Self {
            txn: ContainDrop::new(txn),
            health,
            links: RefCell::default(),
            capture: Capture::new(hub),
            _store: PhantomData,
        }
    }

    pub(crate) fn raw_tree<M: Model<Definition = D>>(&self) -> Result<WriteTree<'_, M>> {
        self.health.guard(M::TABLE, || {
            WriteTree::open(
                &self.txn,
                &self.links,
                self.capture.log_for::<M>(),
                self.health,
            )
        })
    }

    /// Opens the tree of model `M` for writing (the generic form of the generated
    /// `txn.cities()`). Its tables stay open until the tree is dropped; opening the same model's
    /// tree twice at once is an [`Error::TreeInUse`](crate::Error::TreeInUse).
    pub fn open_tree<M: Model<Definition = D>>(&self) -> Result<M::Tree<WriteTree<'_, M>>> {
        self.raw_tree().map(Into::into)
    }

    /// Checks the checked links written so far, as [`commit`](Self::commit) will: every link
    /// written, and every link to a record removed, in this transaction must point at an
    /// existing record. The first one that does not is [`Error::BrokenLink`](crate::Error::BrokenLink),
    /// and the transaction stays usable, so it can be repaired before committing. It reads the
    /// tables of the models involved, so call it with no tree open (an open one is an
    /// [`Error::TreeInUse`](crate::Error::TreeInUse)).
    pub fn check_links(&self) -> Result<()> {
        self.health
            .guard("", || self.links.borrow().check::<D>(&self.txn))
    }

    /// Makes everything written in this transaction durable and visible, atomically. Checked
    /// links are verified first ([`check_links`](Self::check_links)): a broken one is
    /// [`Error::BrokenLink`](crate::Error::BrokenLink) and nothing is written.
    ///
    /// Then the commit's changes go to the subscriptions they match ([`Store::watch`]), and,
    /// with a change feed, they are written to it in this same transaction.
    ///
    /// [`Store::watch`]: crate::Store::watch
    pub fn commit(self) -> Result<()> {
        self.check_links()?;
        self.commit_unchecked()
    }

    /// Commits without checking links: for salvage, where a link's target may be lost (or
    /// rescued later, in another transaction).
    pub(crate) fn commit_unchecked(self) -> Result<()> {
        let health = self.health;
        let hub = self.capture.hub();
        let changes = self.capture.take();
        // Numbering, committing and delivering in one critical section keeps events in commit
        // order. With a feed, a commit that changed nothing gets no number (it writes nothing).
        let in_order = hub.begin_commit();
        let numbered = !hub.feed_on() || !changes.is_empty();
        let seq = hub.last_seq() + u64::from(numbered);
        let txn = self.txn.into_inner();
        health.guard("", || {
            if hub.feed_on() && !changes.is_empty() {
                crate::watch::append_to_feed(&txn, seq, &changes, hub.retention())?;
            }
            Ok(txn.commit()?)
        })?;
        hub.committed(seq, &changes);
        drop(in_order);
        Ok(())
    }

    /// Discards everything written in this transaction.
    pub fn abort(self) -> Result<()> {
        let (txn, health) = (self.txn.into_inner(), self.health);
        health.guard("", || Ok(txn.abort()?))
    }
}
