//! [`Store`]: a redb database holding one definition's models.

use crate::contain::{ContainDrop, Health, contain};
use crate::error::{Error, Result};
use crate::integrity::{IntegrityReport, Problem, ProblemKind};
use crate::meta;
use crate::model::{Definition, Model};
use crate::transaction::{ReadTransaction, WriteTransaction};
use crate::tree::TreeRead;
use redb::ReadableDatabase;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

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
    db: ContainDrop<redb::Database>,
    /// Poisoned once a panic from redb was contained (see `contain.rs`).
    health: Health,
    durability: Durability,
    /// Subscriptions and the commit sequence (see `watch/`).
    hub: crate::watch::HubHandle,
    migration: Option<crate::migrate::MigrationReport>,
    /// The queue of [`Store::write`] (group commit, `group.rs`).
    pub(crate) group: crate::group::GroupCommit<D>,
    _definition: PhantomData<fn() -> D>,
}

/// Options for opening a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreBuilder<D: Definition> {
    cache_size: Option<usize>,
    durability: Durability,
    create_if_missing: bool,
    verify_on_open: bool,
    feed_retention: Option<u64>,
    migrate: bool,
    progress: Option<ProgressCallback>,
    _definition: PhantomData<fn() -> D>,
}

/// The callback of [`StoreBuilder::on_migration_progress`].
#[derive(Clone)]
struct ProgressCallback(
    std::sync::Arc<dyn Fn(&crate::migrate::MigrationProgress<'_>) + Send + Sync>,
);

impl std::fmt::Debug for ProgressCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressCallback")
    }
}

impl<D: Definition> Default for StoreBuilder<D> {
    fn default() -> Self {
        Self {
            cache_size: None,
            durability: Durability::Immediate,
            create_if_missing: true,
            verify_on_open: false,
            feed_retention: None,
            migrate: true,
            progress: None,
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

    /// Whether [`open`](Self::open) verifies the whole file before trusting it (default
    /// `false`). redb then checks the checksum of every page of the last commit (rolling back
    /// to the commit before it if that one is damaged), and a file damaged beyond that is
    /// refused with [`Error::Corrupted`]. Without it, opening reads only what it needs:
    /// netabase's own decoding still never panics, but redb trusts the structure of its pages,
    /// and a file damaged outside redb (bit rot, a bad copy, a hostile file) can make it
    /// panic. Use it for files that may have been damaged or that come from elsewhere. It reads
    /// the whole file, so opening takes time proportional to its size.
    pub fn verify_on_open(mut self, verify: bool) -> Self {
        self.verify_on_open = verify;
        self
    }

    /// Keeps only the change feed's last `commits` commits: each commit drops the changes of the
    /// commit that falls out (default: keep everything until
    /// [`Store::prune_changes_before`]). Only for definitions with `change_feed = true`.
    pub fn change_feed_retention(mut self, commits: u64) -> Self {
        self.feed_retention = Some(commits.max(1));
        self
    }

    /// Whether [`open`](Self::open) migrates a database written by an earlier version of the
    /// definition (default `true`). With `false`, such a file is refused with
    /// [`Error::Migration`] of kind
    /// [`Disabled`](crate::MigrationErrorKind::Disabled), which lists what migrating would do,
    /// and nothing is written: for programs that migrate only from a deliberate command.
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Calls `progress` while [`open`](Self::open) migrates a database (see
    /// [`migrate`](Self::migrate)): for each model that changes, at its start, every few
    /// thousand records and at its end, with the model, the phase (rewriting its records,
    /// building its indexes), the records done and the model's record count. For a progress
    /// bar; it runs inside the migration's write transaction, so it should return quickly.
    pub fn on_migration_progress(
        mut self,
        progress: impl Fn(&crate::migrate::MigrationProgress<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(ProgressCallback(std::sync::Arc::new(progress)));
        self
    }

    fn redb_builder(&self) -> redb::Builder {
        let mut builder = redb::Database::builder();
        builder.set_check_integrity_on_open(self.verify_on_open);
        if let Some(bytes) = self.cache_size {
            builder.set_cache_size(bytes);
        }
        builder
    }

    /// Opens (or creates) the database file at `path` and checks it was written for `D`.
    pub fn open(self, path: impl AsRef<Path>) -> Result<Store<D>> {
        let path = path.as_ref();
        contain(path, "", || self.open_contained(path))
    }

    fn open_contained(self, path: &Path) -> Result<Store<D>> {
        // redb's `create` opens an existing database, and also initializes an existing empty
        // file (from `touch` or a temp-file crate), which `open` refuses.
        let db = if path.exists() && !self.create_if_missing {
            self.redb_builder()
                .open(path)
                .map_err(|e| open_error(path, e, "open"))?
        } else if path.exists() {
            self.redb_builder()
                .create(path)
                .map_err(|e| open_error(path, e, "open"))?
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
                        "cannot create {}: directory {} does not exist (create it first)",
                        path.display(),
                        dir.display()
                    ),
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            self.redb_builder()
                .create(path)
                .map_err(|e| open_error(path, e, "create"))?
        };
        self.finish(db, path.to_path_buf())
    }

    /// Creates an empty database in memory: nothing touches the disk, everything is gone when
    /// the store is dropped. The embedded default for tests and examples.
    pub fn in_memory(self) -> Result<Store<D>> {
        let db = self
            .redb_builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())?;
        self.finish(db, PathBuf::from("(in memory)"))
    }

    fn finish(self, db: redb::Database, path: PathBuf) -> Result<Store<D>> {
        // Owned by a ContainDrop before anything reads it: if the metadata check or a
        // migration meets a damaged page, the database is dropped while that panic unwinds,
        // and redb's drop writes to the file too.
        let db = ContainDrop::new(db);
        let progress = self.progress.as_ref().map(|p| &*p.0 as _);
        let migration = meta::open::<D>(&db, self.migrate, progress)?;
        let hub = crate::watch::HubHandle::open::<D>(&db, self.feed_retention)?;
        Ok(Store {
            db,
            health: Health::new(path),
            durability: self.durability,
            hub,
            migration,
            group: Default::default(),
            _definition: PhantomData,
        })
    }
}

/// Turns redb's error on opening `path` into one that names the file and says what to do.
pub(crate) fn open_error(path: &Path, error: redb::DatabaseError, doing: &str) -> Error {
    let path_buf = path.to_path_buf();
    match error {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::AlreadyOpen { path: path_buf },
        redb::DatabaseError::Storage(redb::StorageError::Io(source)) => match source.kind() {
            // redb's "not a redb database" (bad magic number, empty file) is `InvalidData`.
            std::io::ErrorKind::InvalidData => Error::NotADatabase {
                path: path_buf,
                detail: source.to_string(),
            },
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                let context = if doing == "create" {
                    format!(
                        "cannot create {}: netabase needs write access to its directory (make it \
                         writable, or choose another path)",
                        path.display()
                    )
                } else {
                    format!(
                        "cannot open {} for writing: netabase needs write access to the database \
                         file, even to read it (make it writable, for example with `chmod u+w`, \
                         or copy it somewhere writable)",
                        path.display()
                    )
                };
                Error::Io { context, source }
            }
            _ => Error::Io {
                context: format!("cannot {doing} the database {}", path.display()),
                source,
            },
        },
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => Error::Corrupted {
            path: path_buf,
            table: None,
            detail,
        },
        other => Error::Database(other),
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

    /// What opening this store migrated: `Some` when the file was written by an earlier
    /// version of the definition and was brought to this one (see docs/MIGRATIONS.md).
    pub fn migration(&self) -> Option<&crate::migrate::MigrationReport> {
        self.migration.as_ref()
    }

    /// Checks the whole database: redb's own check of the file first (the checksum of every
    /// page, the allocator state), then netabase's invariants in one read snapshot: every
    /// record decodes and is stored under its own primary key, every index entry points to an
    /// existing record whose field has the entry's value, every record's secondary keys are in
    /// every index, and a unique index holds one record per value.
    ///
    /// redb guards the bytes, netabase their meaning. A damaged page fails redb's check: redb
    /// then repairs the file by rolling it back to its last commit that verifies (reported as
    /// [`ProblemKind::Storage`] with `repaired`, and the invariants are checked on the repaired
    /// file), or, when no commit verifies, the report holds that one problem (the pages cannot
    /// be trusted to read further). Bytes that pass redb's check but break netabase's rules (a
    /// value that does not decode, an index entry without its record, ...) are named record by
    /// record.
    ///
    /// Returns a report listing every problem found; [`IntegrityReport::is_clean`] says whether
    /// there was none. An `Err` means the check itself could not run. It takes `&mut self`
    /// because redb's check needs the database to itself: no transaction may be open (a store
    /// shared in an `Arc` must be taken back first). It reads every record and index entry, so it
    /// takes time proportional to the database's size.
    pub fn check_integrity(&mut self) -> Result<IntegrityReport> {
        let health = &self.health;
        let db = &mut self.db;
        match health.guard("", || check_storage_then_definition::<D>(db)) {
            // redb failed on a damaged page while checking: the file is damaged beyond repair.
            Err(Error::Corrupted { detail, .. }) => {
                let mut report = IntegrityReport::default();
                report.push(storage_problem(detail, false));
                Ok(report)
            }
            result => result,
        }
    }

    /// Writes a consistent copy of the last commit to a new database file at `path`, while
    /// other threads go on reading and writing this store: the copy is one read snapshot, taken
    /// when the call starts (commits made during the backup are not in it). Entries are copied
    /// as stored, index entries included, so the backup equals that snapshot; it is committed
    /// (and synced) once, at the end, and a failed backup removes its partial file.
    ///
    /// `path` must not exist. Returns how many records were copied. It reads the whole
    /// database, so it takes time proportional to its size; writers are never blocked.
    pub fn backup_to(&self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        crate::backup::refuse_existing(path, "backup")?;
        let snapshot = self.read_transaction()?;
        let result = (|| {
            let target = Self::builder().open(path)?;
            let txn = target.db.begin_write()?;
            let copied = self.health.guard("", || {
                crate::backup::copy_snapshot::<D>(snapshot.raw(), &txn)
            })?;
            txn.commit()?;
            Ok(copied)
        })();
        if result.is_err() {
            // Only a file this call created; `refuse_existing` made sure there was none.
            let _ = std::fs::remove_file(path);
        }
        result
    }

    /// Compacts the file: moves pages so that free space at its end is given back to the file
    /// system (after removing many records, the file keeps its size until compacted). Returns
    /// whether anything was moved.
    ///
    /// redb compacts only a database nothing else is using, hence `&mut self`: no transaction
    /// of this store may be open, which the borrow checker enforces. A store shared in an
    /// `Arc` must be taken back first (`Arc::get_mut`, or `Arc::try_unwrap`). A crash during
    /// compaction loses nothing: every step is a commit.
    pub fn compact(&mut self) -> Result<bool> {
        let health = &self.health;
        let db = &mut self.db;
        health.guard("", || compact_database(db))
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

    pub(crate) fn write_transaction(&self) -> Result<WriteTransaction<'_, D>> {
        self.health.guard("", || {
            let mut txn = self.db.begin_write()?;
            if self.durability == Durability::None {
                txn.set_durability(redb::Durability::None)?;
            }
            Ok(WriteTransaction::new(txn, &self.hub, &self.health))
        })
    }

    pub(crate) fn db(&self) -> &redb::Database {
        &self.db
    }

    /// The database file's path (`(in memory)` for an in-memory store).
    pub(crate) fn path(&self) -> &Path {
        self.health.path()
    }

    /// Runs `f`, a call into redb on behalf of `table` (`""` for none), inside the store's
    /// containment boundary (see `contain.rs`).
    pub(crate) fn guard<T>(&self, table: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.health.guard(table, f)
    }

    pub(crate) fn hub(&self) -> &std::sync::Arc<crate::watch::Hub> {
        &self.hub
    }

    fn read_transaction(&self) -> Result<ReadTransaction<'_, D>> {
        self.health.guard("", || {
            Ok(ReadTransaction::new(self.db.begin_read()?, &self.health))
        })
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
    /// (slow path). The key is given as trees take it: `store.remove::<City>(1850147)`,
    /// `store.remove::<Country>("JP")`, a tuple for a composite key.
    pub fn remove<M: Model<Definition = D>>(&self, key: M::KeyArg<'_>) -> Result<Option<M>> {
        self.auto_commit(|tree| tree.remove(&key))
    }

    /// Removes the record with primary key `key` without decoding it; returns whether it
    /// existed. In a transaction of its own (slow path).
    pub fn delete<M: Model<Definition = D>>(&self, key: M::KeyArg<'_>) -> Result<bool> {
        self.auto_commit::<M, _>(|tree| tree.delete(&key))
    }

    /// Reads the record with primary key `key` in a read transaction of its own. The key is
    /// given as trees take it: `store.get::<City>(1850147)`, `store.get::<Country>("JP")`.
    pub fn get<M: Model<Definition = D>>(&self, key: M::KeyArg<'_>) -> Result<Option<M>> {
        self.read_transaction()?.raw_tree::<M>()?.get(&key)
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

/// A problem found by redb's own check of the file.
fn storage_problem(detail: String, repaired: bool) -> Problem {
    Problem {
        table: String::new(),
        key: None,
        record: None,
        kind: ProblemKind::Storage { detail, repaired },
    }
}

/// [`Store::check_integrity`]: redb's check of the pages, then netabase's invariants.
fn check_storage_then_definition<D: Definition>(
    db: &mut redb::Database,
) -> Result<IntegrityReport> {
    let mut report = IntegrityReport::default();
    match db.check_integrity() {
        Ok(true) => {}
        Ok(false) => report.push(storage_problem(
            "a damaged commit or allocator state was found".to_owned(),
            true,
        )),
        // The pages cannot be trusted: reading them for the invariants could fail in redb.
        Err(redb::DatabaseError::Storage(redb::StorageError::Corrupted(detail))) => {
            report.push(storage_problem(detail, false));
            return Ok(report);
        }
        Err(error) => return Err(error.into()),
    }
    crate::integrity::check_definition::<D>(db, &mut report)?;
    Ok(report)
}

/// Compacts `db` once (redb's `Database::compact`): whether anything moved.
pub(crate) fn compact_database(db: &mut redb::Database) -> Result<bool> {
    db.compact().map_err(|error| match error {
        redb::CompactionError::Storage(error) => Error::Storage(error),
        other => Error::Io {
            context: format!(
                "cannot compact the database: {other} (close every transaction and savepoint \
                 first)"
            ),
            source: std::io::Error::other(other.to_string()),
        },
    })
}

/// The size of a database file before and after [`compact_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    /// The file's size in bytes before.
    pub before: u64,
    /// The file's size in bytes after.
    pub after: u64,
}

/// Compacts the database file at `path` without knowing its definition (what `netabase
/// compact` runs): opens it, compacts until nothing moves, and returns the file's size before
/// and after. The file must not be open elsewhere ([`Error::AlreadyOpen`]); a damaged file is
/// [`Error::Corrupted`], never a panic.
pub fn compact_file(path: impl AsRef<Path>) -> Result<Compaction> {
    let path = path.as_ref();
    let size = || {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|source| Error::Io {
                context: format!("cannot read the size of {}", path.display()),
                source,
            })
    };
    let before = size()?;
    contain(path, "", || {
        let mut db =
            ContainDrop::new(redb::Database::open(path).map_err(|e| open_error(path, e, "open"))?);
        while compact_database(&mut db)? {}
        Ok(())
    })?;
    Ok(Compaction {
        before,
        after: size()?,
    })
}
