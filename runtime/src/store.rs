//! [`Store`]: a redb database holding one definition's models.

use crate::error::{Error, Result};
use crate::meta;
use crate::model::{Definition, Model};
use crate::transaction::{ReadTransaction, WriteTransaction};
use crate::tree::TreeRead;
use redb::ReadableDatabase;
use std::marker::PhantomData;
use std::path::Path;

/// When a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A commit is on disk when `commit` returns (the default).
    #[default]
    Immediate,
    /// Commits are not persisted until a later `Immediate` commit: fast, and a crash loses
    /// them (never a torn state).
    None,
}

/// A typed database for the models of definition `D`.
///
/// Open one with [`Store::open`], [`Store::in_memory`] or [`Store::builder`]; work in explicit
/// transactions with [`Store::begin_write`] and [`Store::begin_read`]. The `put`/`get`/...
/// methods on `Store` itself run one transaction per call: convenient, and the slow path (a
/// commit per call costs a disk sync).
///
/// A `Store` is `Send + Sync`: share it between threads in an `Arc`. Read transactions run
/// concurrently with each other and with the one write transaction at a time.
pub struct Store<D: Definition> {
    db: redb::Database,
    durability: Durability,
    _definition: PhantomData<fn() -> D>,
}

/// Options for opening a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreBuilder<D: Definition> {
    cache_size: Option<usize>,
    durability: Durability,
    create_if_missing: bool,
    _definition: PhantomData<fn() -> D>,
}

impl<D: Definition> Default for StoreBuilder<D> {
    fn default() -> Self {
        Self {
            cache_size: None,
            durability: Durability::Immediate,
            create_if_missing: true,
            _definition: PhantomData,
        }
    }
}

impl<D: Definition> StoreBuilder<D> {
    /// The page cache size in bytes (redb's default when not set).
    pub fn cache_size(mut self, bytes: usize) -> Self {
        self.cache_size = Some(bytes);
        self
    }

    /// The durability of every write transaction of this store.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Whether [`open`](Self::open) creates a missing file (default `true`). With `false`, a
    /// missing file is an error.
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    fn redb_builder(&self) -> redb::Builder {
        let mut builder = redb::Database::builder();
        if let Some(bytes) = self.cache_size {
            builder.set_cache_size(bytes);
        }
        builder
    }

    /// Opens (or creates) the database file at `path` and checks it was written for `D`.
    pub fn open(self, path: impl AsRef<Path>) -> Result<Store<D>> {
        let path = path.as_ref();
        let db = if path.exists() {
            self.redb_builder().open(path)?
        } else if !self.create_if_missing {
            return Err(Error::Io {
                context: format!(
                    "no database at {} (create_if_missing is off)",
                    path.display()
                ),
                source: std::io::ErrorKind::NotFound.into(),
            });
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                return Err(Error::Io {
                    context: format!(
                        "cannot create {}: directory {} does not exist",
                        path.display(),
                        dir.display()
                    ),
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            self.redb_builder().create(path)?
        };
        self.finish(db)
    }

    /// Creates an empty database in memory: nothing touches the disk, everything is gone when
    /// the store is dropped. The embedded default for tests and examples.
    pub fn in_memory(self) -> Result<Store<D>> {
        let db = self
            .redb_builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())?;
        self.finish(db)
    }

    fn finish(self, db: redb::Database) -> Result<Store<D>> {
        meta::initialize::<D>(&db)?;
        Ok(Store {
            db,
            durability: self.durability,
            _definition: PhantomData,
        })
    }
}

impl<D: Definition> Store<D> {
    /// Opens the database at `path`, creating it if missing.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::builder().open(path)
    }

    /// An empty in-memory database (see [`StoreBuilder::in_memory`]).
    pub fn in_memory() -> Result<Self> {
        Self::builder().in_memory()
    }

    /// Options for opening a store.
    pub fn builder() -> StoreBuilder<D> {
        StoreBuilder::default()
    }

    /// Begins a write transaction. Only one runs at a time: this waits for the current one.
    /// Nothing it writes is visible to others until [`commit`](WriteTransaction::commit); dropping
    /// it without committing discards everything it wrote.
    pub fn begin_write(&self) -> Result<D::Write<'_>> {
        self.write_transaction().map(Into::into)
    }

    /// Begins a read transaction: a consistent snapshot of the last commit.
    pub fn begin_read(&self) -> Result<D::Read<'_>> {
        self.read_transaction().map(Into::into)
    }

    fn write_transaction(&self) -> Result<WriteTransaction<'_, D>> {
        let mut txn = self.db.begin_write()?;
        if self.durability == Durability::None {
            txn.set_durability(redb::Durability::None)?;
        }
        Ok(WriteTransaction::new(txn))
    }

    fn read_transaction(&self) -> Result<ReadTransaction<'_, D>> {
        Ok(ReadTransaction::new(self.db.begin_read()?))
    }

    /// Runs `f` in a write transaction of its own and commits it if `f` succeeds.
    fn auto_commit<M: Model<Definition = D>, R>(
        &self,
        f: impl FnOnce(&mut crate::tree::WriteTree<'_, M>) -> Result<R>,
    ) -> Result<R> {
        let txn = self.write_transaction()?;
        let result = f(&mut txn.raw_tree::<M>()?)?;
        txn.commit()?;
        Ok(result)
    }

    /// Inserts or replaces `model` in a transaction of its own (slow path: one commit per call).
    pub fn put<M: Model<Definition = D>>(&self, model: &M) -> Result<()> {
        self.auto_commit(|tree| tree.put(model))
    }

    /// Inserts `model`, failing with [`Error::AlreadyExists`] if its key is taken, in a
    /// transaction of its own (slow path).
    pub fn insert<M: Model<Definition = D>>(&self, model: &M) -> Result<()> {
        self.auto_commit(|tree| tree.insert(model))
    }

    /// Inserts or replaces every model in one transaction of its own; all or nothing.
    pub fn put_many<M: Model<Definition = D>>(
        &self,
        models: impl IntoIterator<Item = impl std::borrow::Borrow<M>>,
    ) -> Result<u64> {
        self.auto_commit(|tree| tree.put_many(models))
    }

    /// Removes the record with primary key `key` and returns it, in a transaction of its own
    /// (slow path).
    pub fn remove<M: Model<Definition = D>>(&self, key: &M::PrimaryKey) -> Result<Option<M>> {
        self.auto_commit(|tree| tree.remove(key))
    }

    /// Reads the record with primary key `key` in a read transaction of its own.
    pub fn get<M: Model<Definition = D>>(&self, key: &M::PrimaryKey) -> Result<Option<M>> {
        self.read_transaction()?.raw_tree::<M>()?.get(key)
    }

    /// Counts the records of model `M` in a read transaction of its own.
    pub fn len<M: Model<Definition = D>>(&self) -> Result<u64> {
        self.read_transaction()?.raw_tree::<M>()?.len()
    }

    /// Whether model `M` has no records, in a read transaction of its own.
    pub fn is_empty<M: Model<Definition = D>>(&self) -> Result<bool> {
        self.read_transaction()?.raw_tree::<M>()?.is_empty()
    }
}
