//! The one error type of netabase.

use crate::codec::DecodeError;
use std::fmt;

/// Everything that can go wrong in netabase. Nothing read from a file panics: bad bytes become
/// [`Error::Decode`] or [`Error::Inconsistent`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database file could not be created or opened.
    #[error("could not open the database: {0}")]
    Database(#[from] redb::DatabaseError),
    /// A transaction could not be started.
    #[error("could not begin a transaction: {0}")]
    Transaction(#[from] redb::TransactionError),
    /// A table could not be opened (for another reason than [`Error::TreeInUse`]).
    #[error("could not open a table: {0}")]
    Table(redb::TableError),
    /// The tree of this model (or a table it needs) is already open in this transaction. A
    /// transaction holds one tree per model at a time: use the tree you have, or drop it first
    /// (let its block end, or `drop(tree)`). `check_links` and `commit` read the tables of
    /// linked models, so they need every tree of the transaction dropped.
    #[error(
        "the table `{table}` is already open in this transaction: use the tree you already have \
         (one tree per model per transaction), or drop it first (end its block or call \
         `drop(tree)`); `commit` and `check_links` need every tree dropped"
    )]
    TreeInUse {
        /// The table, `<Definition>/<Model>` or `<Definition>/<Model>/<key>`.
        table: String,
    },
    /// The storage layer failed to read or write.
    #[error("storage error: {0}")]
    Storage(#[from] redb::StorageError),
    /// A write transaction could not be committed; nothing it wrote is stored.
    #[error("commit failed: {0}")]
    Commit(#[from] redb::CommitError),
    /// The durability of a write transaction could not be set.
    #[error("could not set durability: {0}")]
    Durability(#[from] redb::SetDurabilityError),
    /// A file-system problem outside redb (for example, the database's directory is missing).
    /// The message is the context, which says what is wrong and what to do; the underlying
    /// error is its `source()`.
    #[error("{context}")]
    Io {
        /// What netabase was doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database file is already open, by another process or by another [`Store`](crate::Store)
    /// in this one. Only one may have a file open at a time: close the other first, or share
    /// one `Store` between threads in an `Arc`.
    #[error(
        "the database {} is already open, by another process or by another Store in this process: \
         only one may have it open at a time; close the other first (within one process, share one \
         Store in an Arc)",
        path.display()
    )]
    AlreadyOpen {
        /// The database file.
        path: std::path::PathBuf,
    },
    /// The file is not a database netabase can open: not a redb file at all.
    #[error(
        "{} is not a netabase database ({detail}): check the path; netabase opens the redb files \
         it created",
        path.display()
    )]
    NotADatabase {
        /// The file.
        path: std::path::PathBuf,
        /// What redb found wrong.
        detail: String,
    },
    /// The file is a redb database, but damaged: found when opening it (for example with
    /// [`StoreBuilder::verify_on_open`](crate::StoreBuilder::verify_on_open)), or when a read or
    /// write reached a damaged page. In the second case the `Store` refuses every later call
    /// (drop it and reopen the file); nothing committed before is lost by the refusal.
    #[error(
        "the database {}{} is damaged ({detail}): restore it from a backup, or copy out what is \
         still readable with `netabase_runtime::recover`",
        path.display(),
        table.as_deref().map(|t| format!(" (table `{t}`)")).unwrap_or_default()
    )]
    Corrupted {
        /// The database file.
        path: std::path::PathBuf,
        /// The table being read or written, when known.
        table: Option<String>,
        /// What was found.
        detail: String,
    },
    /// A stored value or key does not decode: the file is corrupted, or was written by an
    /// incompatible layout.
    #[error(
        "corrupted data in table `{table}`{}: {source} (the file was damaged or written by \
         another layout; `Store::check_integrity` lists every damaged record)",
        record.as_ref().map(|key| format!(", record with primary key {key}")).unwrap_or_default()
    )]
    Decode {
        /// The table holding the bad bytes (`<Definition>/<Model>` for records).
        table: &'static str,
        /// The record's primary key, as `Debug` shows it, when it is known (lookups by key,
        /// `first`, `last`, removals); `None` in iterators and for metadata.
        record: Option<String>,
        /// What did not decode.
        source: DecodeError,
    },
    /// A checked link points at a record that does not exist when the transaction commits (or
    /// when [`WriteTransaction::check_links`](crate::WriteTransaction::check_links) runs). A
    /// commit that fails this way writes nothing.
    #[error(
        "{model} {record} links to {target} {key} through `{model}.{field}`, but no such {target} exists"
    )]
    BrokenLink {
        /// The linking model.
        model: &'static str,
        /// Its link field.
        field: &'static str,
        /// The linking record, as its primary key.
        record: String,
        /// The model linked to.
        target: &'static str,
        /// The missing primary key.
        key: String,
    },
    /// An index disagrees with the table it indexes (an entry points to a missing record).
    #[error("index `{table}` is inconsistent: {detail}")]
    Inconsistent {
        /// The index table.
        table: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// `insert` found a record with the same primary key. The store is unchanged.
    #[error("{model} with primary key {key} already exists")]
    AlreadyExists {
        /// The model's schema name.
        model: &'static str,
        /// The primary key, as `Debug` shows it.
        key: String,
    },
    /// A write would give two records the same value of a unique secondary key. The store is as
    /// it was before the call that returned this.
    #[error("unique key violated: {model}.{field} = {value} already belongs to another {model}")]
    UniqueViolation {
        /// The model's schema name.
        model: &'static str,
        /// The field of the unique key.
        field: &'static str,
        /// The conflicting value, as `Debug` shows it.
        value: String,
    },
    /// A subscription fell behind: its queue was full, so `missed` changes were dropped for it.
    /// The events after this one are complete again; re-read the store to catch up on what was
    /// missed (see `Store::watch`).
    #[error(
        "the subscription fell behind and missed {missed} changes: re-read the store to catch up, \
         or receive faster (or give the subscription a larger capacity)"
    )]
    Lagged {
        /// How many changes were dropped for this subscription.
        missed: u64,
    },
    /// A subscription filter names a secondary key the model does not have.
    #[error("{model} has no secondary key `{field}`: watch one of the keys its schema declares")]
    UnknownIndex {
        /// The model's schema name.
        model: &'static str,
        /// The name given.
        field: String,
    },
    /// The definition has no change feed, so there is nothing to read or prune.
    #[error(
        "definition `{definition}` has no change feed: add `change_feed = true` to its \
         `[definition]` table in the schema"
    )]
    NoChangeFeed {
        /// The definition's schema name.
        definition: &'static str,
    },
    /// A grouped write ([`Store::write`](crate::Store::write)) was not stored for a reason
    /// outside the caller's own error: its closure panicked, or the commit shared with other
    /// callers failed. Nothing the closure wrote is stored; it can be retried.
    #[error("the grouped write was not stored ({detail}); nothing it wrote is stored, retry it")]
    GroupWrite {
        /// What happened.
        detail: String,
    },
    /// The database was written for another definition, version or layout than this program's.
    #[error(
        "schema mismatch: the database holds {found}, but this program was built for \
         {expected}: open it with a program built for that definition, or give this program \
         another file (`netabase inspect FILE` shows what a file holds)"
    )]
    SchemaMismatch {
        /// What the generated code describes.
        expected: SchemaInfo,
        /// What the database's metadata says.
        found: SchemaInfo,
    },
    /// The database was written by another version of the definition and cannot be brought to
    /// this program's version automatically (or migrating was turned off). Nothing was written:
    /// the file is as it was. [`kind`](Self::Migration::kind) says why; the message says what
    /// to do.
    #[error("cannot open the database (version {from}) as version {to}: {detail}")]
    Migration {
        /// Why the migration was refused.
        kind: crate::migrate::MigrationErrorKind,
        /// The version stored in the database.
        from: u64,
        /// The version this program was built for.
        to: u64,
        /// What is wrong and what to do, for every change that stops the migration.
        detail: String,
    },
}

impl From<redb::TableError> for Error {
    /// redb's "already opened at <source location>" names netabase's own code, which tells a
    /// user nothing: it becomes [`Error::TreeInUse`], which says what to do.
    fn from(error: redb::TableError) -> Self {
        match error {
            redb::TableError::TableAlreadyOpen(table, _) => Error::TreeInUse { table },
            other => Error::Table(other),
        }
    }
}

/// A definition's identity as stored in a database's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaInfo {
    /// The definition's name.
    pub definition: String,
    /// The schema's declared version.
    pub version: u64,
    /// A hash of the stored layout (models, fields, types, keys).
    pub fingerprint: String,
}

impl SchemaInfo {
    /// The identity the generated code of `D` stores (what [`migrate_file`](crate::migrate_file)
    /// migrates to, to migrate as a program built for `D` would).
    pub fn of<D: crate::Definition>() -> Self {
        Self {
            definition: D::NAME.to_owned(),
            version: D::VERSION,
            fingerprint: D::FINGERPRINT.to_owned(),
        }
    }
}

impl fmt::Display for SchemaInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "definition `{}` version {} (layout {})",
            self.definition, self.version, self.fingerprint
        )
    }
}

/// The result type of netabase.
pub type Result<T, E = Error> = std::result::Result<T, E>;
