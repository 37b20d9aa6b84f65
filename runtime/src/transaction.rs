//! Read and write transactions. Generated code wraps these in the definition's own
//! transaction types, which add one method per model (`txn.cities()`).

use crate::error::Result;
use crate::model::{Definition, Model};
use crate::tree::{ReadTree, WriteTree};
use std::marker::PhantomData;

/// A read-only snapshot of a store. Trees opened from it borrow it, so they cannot outlive it,
/// and they have no writing methods: a read transaction cannot write.
pub struct ReadTransaction<'s, D: Definition> {
    txn: redb::ReadTransaction,
    _store: PhantomData<&'s crate::Store<D>>,
}

/// A write transaction. Everything written through it becomes visible atomically on
/// [`commit`](Self::commit), and is discarded by [`abort`](Self::abort) or by dropping it.
///
/// After an operation returns an error the transaction stays usable: netabase's own errors
/// (`UniqueViolation`, `AlreadyExists`, `Decode`) leave it as it was before that call. After a
/// storage error, abort it.
pub struct WriteTransaction<'s, D: Definition> {
    txn: redb::WriteTransaction,
    _store: PhantomData<&'s crate::Store<D>>,
}

impl<D: Definition> ReadTransaction<'_, D> {
    pub(crate) fn new(txn: redb::ReadTransaction) -> Self {
        Self {
            txn,
            _store: PhantomData,
        }
    }

    pub(crate) fn raw_tree<M: Model<Definition = D>>(&self) -> Result<ReadTree<'_, M>> {
        ReadTree::open(&self.txn)
    }

    /// Opens the tree of model `M` (the generic form of the generated `txn.cities()`).
    pub fn open_tree<M: Model<Definition = D>>(&self) -> Result<M::Tree<ReadTree<'_, M>>> {
        self.raw_tree().map(Into::into)
    }
}

impl<D: Definition> WriteTransaction<'_, D> {
    pub(crate) fn new(txn: redb::WriteTransaction) -> Self {
        Self {
            txn,
            _store: PhantomData,
        }
    }

    pub(crate) fn raw_tree<M: Model<Definition = D>>(&self) -> Result<WriteTree<'_, M>> {
        WriteTree::open(&self.txn)
    }

    /// Opens the tree of model `M` for writing (the generic form of the generated
    /// `txn.cities()`). Its tables stay open until the tree is dropped; opening the same model's
    /// tree twice at once is an [`Error::Table`](crate::Error::Table).
    pub fn open_tree<M: Model<Definition = D>>(&self) -> Result<M::Tree<WriteTree<'_, M>>> {
        self.raw_tree().map(Into::into)
    }

    /// Makes everything written in this transaction durable and visible, atomically.
    pub fn commit(self) -> Result<()> {
        Ok(self.txn.commit()?)
    }

    /// Discards everything written in this transaction.
    pub fn abort(self) -> Result<()> {
        Ok(self.txn.abort()?)
    }
}
