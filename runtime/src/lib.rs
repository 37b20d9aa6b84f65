//! # netabase
//!
//! The runtime of netabase: typed, schema-generated stores on [redb](https://docs.rs/redb).
//!
//! You do not write against this crate's traits directly. Declare models in a TOML schema,
//! compile it from `build.rs` with `netabase-build`, and include the generated code:
//!
//! ```ignore
//! netabase_runtime::include_schema!("atlas");
//!
//! let store = netabase_runtime::Store::<Atlas>::in_memory()?;
//! let txn = store.begin_write()?;
//! txn.cities()?.put(&city)?;
//! txn.commit()?;
//! ```
//!
//! The generated code is ordinary Rust that calls this crate: [`Store`] opens databases and
//! starts transactions, the generated transaction and tree types wrap [`ReadTransaction`],
//! [`WriteTransaction`], [`ReadTree`] and [`WriteTree`], and [`codec`] is the one module that
//! knows how values and keys are encoded.
//!
//! ## Rules
//!
//! Atomicity:
//!
//! * Writes are atomic per transaction: nothing is visible before `commit`, readers never see
//!   part of a commit, and an aborted or dropped write transaction leaves nothing.
//! * Every write keeps every index exact, in the same transaction: a commit holds a record and
//!   its index entries, or neither.
//! * A call that returns [`Error::UniqueViolation`], [`Error::AlreadyExists`] or
//!   [`Error::Decode`] leaves the store as it was before that call, and the transaction usable:
//!   go on, commit the writes that succeeded, or abort. The batch calls (`put_many`,
//!   `remove_many`, `remove_range`, `retain`) are all or nothing: an error undoes the part of
//!   the call already done.
//! * After any other error (storage, I/O), abort the transaction; `abort` (or dropping it)
//!   always discards everything it wrote.
//!
//! Durability and crashes:
//!
//! * With [`Durability::Immediate`] (the default) a commit is on disk when `commit` returns; a
//!   crash (even `SIGKILL` in the middle of a commit) loses no returned commit and leaves no
//!   partial one: the next open recovers the last commit (redb's copy-on-write commits).
//! * [`Store::check_integrity`] checks redb's page checksums and netabase's own invariants and
//!   lists every problem it finds.
//!
//! Bad files:
//!
//! * No netabase call panics on a bad file, with the default open: every call returns `Ok` or
//!   an [`Error`]. Bytes that reach netabase's decoding decode or are an [`Error`]; every length
//!   prefix is checked against the bytes that are left before anything is allocated, so a
//!   corrupted length cannot allocate gigabytes.
//! * redb trusts the page structure of the files it opens, and a page damaged outside redb can
//!   make it panic. netabase contains those panics at its boundary (every store, transaction and
//!   tree method, every iterator step): the call returns [`Error::Corrupted`] naming the table,
//!   and the store refuses every later call until it is reopened. This needs unwinding: built
//!   with `panic = "abort"`, a damaged page aborts the process, so open files that may be
//!   damaged with [`StoreBuilder::verify_on_open`], which verifies every page's checksum first
//!   and refuses a damaged file with [`Error::Corrupted`]. The panic hook still runs, so the
//!   default hook prints redb's message on stderr.
//! * [`recover`] copies every record of a damaged file that can still be read into a new
//!   database, rebuilding the indexes, and reports what was lost; [`recover_file`] does the
//!   same without the schema, by the layout the file stores (`netabase recover`).
//! * A file that is not a redb database is [`Error::NotADatabase`]; a database of another
//!   definition, version or layout is [`Error::SchemaMismatch`]; a file another process (or
//!   another `Store`) has open is [`Error::AlreadyOpen`]. netabase writes nothing into them:
//!   their tables and records stay as they were (redb itself rewrites a database's header on
//!   every open).
//!
//! Maintenance: [`Store::backup_to`] writes a consistent copy of one snapshot while writers go
//! on; [`Store::compact`] gives free space back to the file system.
//!
//! Threads: a [`Store`] is `Send + Sync`; share it in an `Arc`. Read transactions are
//! snapshots and run alongside each other and the one write transaction at a time. Threads
//! that each make small durable commits can share transactions and disk syncs through
//! [`Store::write`] (group commit), each caller's writes still atomic and isolated.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backup;
#[doc(hidden)]
pub mod codec;
mod contain;
mod error;
mod group;
mod index_keys;
mod integrity;
pub mod layout;
mod links;
mod meta;
pub mod migrate;
mod model;
mod ordered;
mod recover;
mod recover_file;
pub mod schemaless;
mod store;
mod transaction;
mod tree;
mod watch;

pub use error::{Error, Result, SchemaInfo};
pub use integrity::{IntegrityReport, Problem, ProblemKind};
pub use layout::Layout;
pub use meta::META_TABLE;
pub use migrate::{
    FileMigration, Migrate, MigrationErrorKind, MigrationPhase, MigrationProgress, MigrationReport,
    ModelReport, StepError, migrate_file,
};
pub use model::{Definition, Model, ModelRef};
pub use recover::{ModelRecovery, RecoveryReport, recover};
pub use recover_file::recover_file;
pub use store::{Compaction, Durability, Store, StoreBuilder, compact_file};
pub use transaction::{ReadTransaction, WriteTransaction};
pub use tree::{
    IndexIter, Iter, ReadTree, Records, Tree, TreeRead, ValueGuard, Views, WriteTree, Yield,
};
// Bounds on encoded keys: generated code builds them, and users name them for the range and
// prefix subscriptions of [`Filter::key_bounds`] and [`Filter::index_bounds`].
pub use tree::KeyBounds;
#[cfg(feature = "async")]
pub use watch::EventStream;
pub use watch::{
    Change, ChangeFeed, DEFAULT_CAPACITY, Event, FeedEntry, Filter, ModelChanges, Subscription,
};
// The runtime's own modules name the items of `__codegen` from the crate root.
#[allow(unused_imports)]
pub(crate) use __codegen::*;

/// What generated code calls and nothing else: the layout of tables and indexes, link and index
/// bookkeeping, key bounds and the encoding (`codec`). It is public only because the generated
/// code lives in the user's crate; it is not an API, and it changes with `CODEGEN_VERSION`, not
/// with semver. Program against [`Store`], the transactions and the generated types instead.
#[doc(hidden)]
pub mod __codegen {
    pub use crate::codec;
    pub use crate::index_keys::IndexKeys;
    pub use crate::links::{Backlink, LinkDef, LinkTarget, RecordKeys};
    pub use crate::migrate::{Step, StepFailure, StepFn, Version, typed_step};
    pub use crate::model::{IndexDef, ModelVisitor, describe_primary_key};
    pub use crate::tree::{EntryValue, Fixed, IndexLayout, KeyBounds, StoredKey, Tail};

    /// Fails compilation of generated code made for another runtime contract.
    pub const fn check_codegen_version(generated_for: u32) {
        if generated_for != crate::CODEGEN_VERSION {
            panic!(
                "this code was generated by a netabase-build for another netabase-runtime version: \
                 use matching versions of netabase-runtime and netabase-build"
            );
        }
    }
}

/// Includes the code that `netabase-build` generated for a schema: `include_schema!("atlas")`
/// includes `$OUT_DIR/atlas.rs` (the output name defaults to the schema file's stem).
#[macro_export]
macro_rules! include_schema {
    ($name:literal) => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/", $name, ".rs"));
    };
}

/// The version of the contract between generated code and this runtime. `netabase-build`
/// writes the value it was built for into every generated file, which checks it at compile time.
pub const CODEGEN_VERSION: u32 = 7;
